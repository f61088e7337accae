/*
 * demo_driver.c - a small driver that uses wdkmutex the way a real one
 * would, and reports what happened.
 *
 * Two locks own the driver's shared state, registered by name in the
 * registry at DriverEntry and looked up where they are needed:
 *   - "traffic", a WDKM_FAST_MUTEX: per-packet counters, touched on the hot
 *     path by every worker (a FAST_MUTEX is the cheap choice there);
 *   - "totals", a WDKM_KMUTEX: the flushed summary, updated every
 *     DEMO_FLUSH_EVERY packets by a routine that calls a helper taking the
 *     same lock again (a KMUTEX is recursive; a FAST_MUTEX is not).
 *   - "routes", a WDKM_RESOURCE (ERESOURCE): a small routing table every
 *     flush reads shared (a const pointer), and worker 0 rewrites
 *     exclusively now and then: the reader/writer case;
 *   - "ticks", a WDKM_SPIN_LOCK: bumped by a periodic timer DPC, read by
 *     the IOCTL path: data shared with code at DISPATCH_LEVEL.
 * DEMO_WORKERS system threads simulate traffic; IOCTL_DEMO_QUERY reads the
 * counts by name, which must be exact, and the outcome of a few deliberate
 * misuses the library turned into status codes instead of bugchecks. At
 * unload one call destroys the registry and everything in it.
 */
#include <ntddk.h>

#include <wdkmutex/wdkmutex.h>

#include "demo_ioctl.h"

#define DEMO_COMPONENT DPFLTR_IHVDRIVER_ID

typedef struct _TRAFFIC {
    ULONG64 Packets;
    ULONG64 Bytes;
    ULONG64 ByWorker[DEMO_WORKERS];
} TRAFFIC;

typedef struct _TOTALS {
    ULONG64 Flushes;
    ULONG64 FlushedPackets;
    ULONG64 NestedAcquisitions;
} TOTALS;

#define TRAFFIC_NAME "traffic"
#define TOTALS_NAME  "totals"
#define ROUTES_NAME  "routes"
#define TICKS_NAME   "ticks"

typedef struct _ROUTES {
    ULONG64 Version;
    ULONG NextHop[8];
} ROUTES;

typedef struct _TICKS {
    ULONG64 Count;
} TICKS;

static PKTHREAD Workers[DEMO_WORKERS];
static LONG volatile WorkersDone;
static LONG volatile TryBusySeen;
static LONG64 volatile RouteReads;
static LONG64 volatile RouteUpdates;
static LONG64 volatile TicksOutside;
static PWDKM_SPIN_LOCK Ticks;          /* referenced once for the DPC's lifetime */
static KTIMER TickTimer;
static KDPC TickDpc;
static KDEFERRED_ROUTINE DemoTick;
static DEMO_CHECK Checks[DEMO_CHECKS];
static PDEVICE_OBJECT DemoDevice;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD DemoUnload;
static DRIVER_DISPATCH DemoCreateClose;
static DRIVER_DISPATCH DemoDeviceControl;
static KSTART_ROUTINE DemoWorker;

static VOID
DemoCopyString(PCHAR Destination, SIZE_T Size, PCSTR Source)
{
    SIZE_T Index;

    for (Index = 0; Index + 1 < Size && Source[Index] != '\0'; Index += 1) {
        Destination[Index] = Source[Index];
    }
    Destination[Index] = '\0';
}

static VOID
DemoRecordCheck(ULONG Index, PCSTR What, NTSTATUS Status)
{
    DemoCopyString(Checks[Index].What, sizeof(Checks[Index].What), What);
    Checks[Index].Status = Status;
    DemoCopyString(Checks[Index].StatusName, sizeof(Checks[Index].StatusName),
                   WdkmStatusName(Status));
}

/* ------------------------------------------------------------------------
 * The workload.
 */

/* Called with Totals held: the owner takes it again. */
static NTSTATUS
DemoCountNested(_In_ PWDKM_KMUTEX Totals)
{
    TOTALS *Sum;
    NTSTATUS Status;

    Status = WDKM_KMUTEX_ACQUIRE(Totals, &Sum);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    Sum->NestedAcquisitions += 1;
    return WdkmKMutexRelease(Totals);
}

/* Every flush consults the routing table: many readers at once. */
static NTSTATUS
DemoReadRoutes(_In_ PWDKM_RESOURCE Routes, _In_ ULONG Worker)
{
    const ROUTES *Table;
    NTSTATUS Status;

    Status = WDKM_RESOURCE_ACQUIRE_SHARED(Routes, &Table);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    (VOID)Table->NextHop[Worker % 8];        /* read-only: a const pointer */
    InterlockedIncrement64(&RouteReads);
    return WdkmResourceRelease(Routes);
}

/* Now and then a writer replaces it. */
static NTSTATUS
DemoUpdateRoutes(_In_ PWDKM_RESOURCE Routes)
{
    ROUTES *Table;
    NTSTATUS Status;
    ULONG Hop;

    WDKM_RESOURCE_EXCLUSIVE_SCOPED(Routes, Table, &Status) {
        Table->Version += 1;
        for (Hop = 0; Hop < 8; Hop += 1) {
            Table->NextHop[Hop] = (ULONG)(Table->Version + Hop) % 8;
        }
        InterlockedIncrement64(&RouteUpdates);
    }
    return Status;
}

static NTSTATUS
DemoFlush(_In_ PWDKM_KMUTEX Totals, _In_ ULONG64 Packets)
{
    TOTALS *Sum;
    NTSTATUS Status;

    /*
     * Try first, the way a driver avoids blocking when it has other work.
     * Each acquire's status is tested right after it: clang's analysis
     * cannot tell which of two acquires a shared test refers to.
     */
    Status = WDKM_KMUTEX_TRY_ACQUIRE(Totals, &Sum);
    if (!WDKM_ACQUIRED(Status)) {
        if (Status != STATUS_TIMEOUT) {
            return Status;
        }
        InterlockedIncrement(&TryBusySeen);
        Status = WDKM_KMUTEX_ACQUIRE(Totals, &Sum);
        if (!WDKM_ACQUIRED(Status)) {
            return Status;
        }
    }
    Sum->Flushes += 1;
    Sum->FlushedPackets += Packets;
    Status = DemoCountNested(Totals);
    (VOID)WdkmKMutexRelease(Totals);
    return Status;
}

static VOID
DemoWorker(_In_ PVOID Context)
{
    ULONG Worker = (ULONG)(ULONG_PTR)Context;
    PWDKM_FAST_MUTEX Traffic = NULL;
    PWDKM_KMUTEX Totals = NULL;
    PWDKM_RESOURCE Routes = NULL;
    ULONG Packet;
    TRAFFIC *Counters;
    NTSTATUS Status;

    /* Look the locks up once; the references keep them alive until we let go. */
    Status = WDKM_GRT_GET_FAST_MUTEX(TRAFFIC_NAME, TRAFFIC, &Traffic);
    if (NT_SUCCESS(Status)) {
        Status = WDKM_GRT_GET_KMUTEX(TOTALS_NAME, TOTALS, &Totals);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_GRT_GET_RESOURCE(ROUTES_NAME, ROUTES, &Routes);
    }
    for (Packet = 1; Packet <= DEMO_PACKETS_PER_WORKER && NT_SUCCESS(Status); Packet += 1) {
        WDKM_GRT_FAST_MUTEX_SCOPED(TRAFFIC_NAME, Counters, &Status) {
            Counters->Packets += 1;
            Counters->Bytes += 64 + (Packet * 7 + Worker) % 1400;
            Counters->ByWorker[Worker] += 1;
        }
        if (NT_SUCCESS(Status) && Packet % DEMO_FLUSH_EVERY == 0) {
            Status = DemoFlush(Totals, DEMO_FLUSH_EVERY);
            if (NT_SUCCESS(Status)) {
                Status = DemoReadRoutes(Routes, Worker);
            }
            if (NT_SUCCESS(Status) && Worker == 0 &&
                (Packet / DEMO_FLUSH_EVERY) % DEMO_ROUTE_UPDATE_EVERY == 0) {
                Status = DemoUpdateRoutes(Routes);
            }
        }
    }
    if (!NT_SUCCESS(Status)) {
        DbgPrintEx(DEMO_COMPONENT, DPFLTR_ERROR_LEVEL, "WdkmDemo: worker %lu stopped: %s\n",
                   Worker, WdkmStatusName(Status));
    }
    if (Routes != NULL) {
        (VOID)WdkmGrtDereference(Routes);
    }
    if (Totals != NULL) {
        (VOID)WdkmGrtDereference(Totals);
    }
    if (Traffic != NULL) {
        (VOID)WdkmGrtDereference(Traffic);
    }
    InterlockedIncrement(&WorkersDone);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

/* The periodic timer DPC: at DISPATCH_LEVEL, only a spin lock will do. */
static VOID
DemoTick(_In_ PKDPC Dpc, _In_opt_ PVOID Context, _In_opt_ PVOID Argument1,
         _In_opt_ PVOID Argument2)
{
    TICKS *Count;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    if (WDKM_ACQUIRED(WDKM_SPIN_LOCK_ACQUIRE(Ticks, &OldIrql, &Count))) {
        Count->Count += 1;
        InterlockedIncrement64(&TicksOutside);
        (VOID)WdkmSpinLockRelease(Ticks, OldIrql);
    }
}

static NTSTATUS
DemoStartTicks(VOID)
{
    LARGE_INTEGER DueTime;
    NTSTATUS Status;

    Status = WDKM_GRT_GET_SPIN_LOCK(TICKS_NAME, TICKS, &Ticks);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    KeInitializeDpc(&TickDpc, DemoTick, NULL);
    KeInitializeTimer(&TickTimer);
    DueTime.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(10);
    (VOID)KeSetTimerEx(&TickTimer, DueTime, 10, &TickDpc);
    return STATUS_SUCCESS;
}

static VOID
DemoStopTicks(VOID)
{
    if (Ticks != NULL) {
        (VOID)KeCancelTimer(&TickTimer);
        KeFlushQueuedDpcs();           /* no DPC may still be using Ticks */
        (VOID)WdkmGrtDereference(Ticks);
        Ticks = NULL;
    }
}

/*
 * Deliberate misuses, made before the workers start: with raw kernel calls
 * each would be a bugcheck, a deadlock or silent corruption. Clang's
 * thread-safety analysis rejects them at compile time (a release of a lock
 * not held, an owner acquiring again), which is the point of showing them
 * here: the analysis is off for this function only.
 */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
DemoShowChecks(_In_ PWDKM_FAST_MUTEX Traffic, _In_ PWDKM_KMUTEX Totals)
{
    TRAFFIC *Counters;
    TRAFFIC *Again;
    TOTALS *Sum;
    NTSTATUS Status;

    DemoRecordCheck(0, "release a KMUTEX nobody holds", WdkmKMutexRelease(Totals));

    Status = WDKM_FAST_MUTEX_ACQUIRE(Traffic, &Counters);
    if (Status == STATUS_SUCCESS) {
        DemoRecordCheck(1, "acquire a FAST_MUTEX its owner holds",
                        WDKM_FAST_MUTEX_ACQUIRE(Traffic, &Again));
        (VOID)WdkmFastMutexRelease(Traffic);
    } else {
        DemoRecordCheck(1, "acquire a FAST_MUTEX its owner holds", Status);
    }

    /* A TRAFFIC pointer for the TOTALS lock: caught by the size check. */
    DemoRecordCheck(2, "acquire the TOTALS lock as TRAFFIC",
                    WDKM_KMUTEX_ACQUIRE(Totals, &Counters));

    Status = WDKM_KMUTEX_ACQUIRE(Totals, &Sum);
    if (Status == STATUS_SUCCESS) {
        DemoRecordCheck(3, "drop the registry reference while holding the lock",
                        WdkmGrtDereference(Totals));
        (VOID)WdkmKMutexRelease(Totals);
    } else {
        DemoRecordCheck(3, "drop the registry reference while holding the lock", Status);
    }

    Status = WDKM_FAST_MUTEX_TRY_ACQUIRE(Traffic, &Counters);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmFastMutexRelease(Traffic);
    }
    DemoRecordCheck(4, "try-acquire a FAST_MUTEX (needs ExTryToAcquireFastMutex)", Status);
}

/* ------------------------------------------------------------------------
 * Device.
 */

static NTSTATUS
DemoQuery(_Out_ DEMO_REPORT *Report)
{
    WDKM_POOL_STATISTICS Pool;
    TRAFFIC *Counters;
    TOTALS *Sum;
    ROUTES *Routes;
    TICKS *Count;
    NTSTATUS Status;
    ULONG Worker;

    RtlZeroMemory(Report, sizeof(*Report));
    Report->Workers = DEMO_WORKERS;
    Report->PacketsPerWorker = DEMO_PACKETS_PER_WORKER;
    Report->FlushEvery = DEMO_FLUSH_EVERY;
    Report->WorkersDone = (ULONG)InterlockedCompareExchange(&WorkersDone, 0, 0);
    Report->TryBusySeen = (ULONG)InterlockedCompareExchange(&TryBusySeen, 0, 0);

    WDKM_GRT_FAST_MUTEX_SCOPED(TRAFFIC_NAME, Counters, &Status) {
        Report->Packets = Counters->Packets;
        Report->Bytes = Counters->Bytes;
        for (Worker = 0; Worker < DEMO_WORKERS; Worker += 1) {
            Report->PacketsByWorker[Worker] = Counters->ByWorker[Worker];
        }
    }
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    WDKM_GRT_KMUTEX_SCOPED(TOTALS_NAME, Sum, &Status) {
        Report->Flushes = Sum->Flushes;
        Report->FlushedPackets = Sum->FlushedPackets;
        Report->NestedAcquisitions = Sum->NestedAcquisitions;
    }
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    WDKM_GRT_SCOPED(ROUTES_NAME, WdkmLockKindResource, Routes, &Status) {
        Report->RouteVersion = Routes->Version;
    }
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    /* Counts from the DPC: read both under the spin lock, so they agree. */
    WDKM_GRT_SCOPED(TICKS_NAME, WdkmLockKindSpinLock, Count, &Status) {
        Report->DpcTicks = Count->Count;
        Report->DpcTicksCountedOutside = (ULONG64)InterlockedCompareExchange64(&TicksOutside, 0, 0);
    }
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    Report->RouteReads = (ULONG64)InterlockedCompareExchange64(&RouteReads, 0, 0);
    Report->RouteUpdates = (ULONG64)InterlockedCompareExchange64(&RouteUpdates, 0, 0);
    WdkmQueryPoolStatistics(&Pool);
    Report->PoolBlocksOutstanding = Pool.OutstandingBlocks;
    Report->PoolAllocator = (ULONG)Pool.Allocator;
    RtlCopyMemory(Report->Checks, Checks, sizeof(Checks));
    return STATUS_SUCCESS;
}

static NTSTATUS
DemoCreateClose(_In_ PDEVICE_OBJECT DeviceObject, _Inout_ PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static NTSTATUS
DemoDeviceControl(_In_ PDEVICE_OBJECT DeviceObject, _Inout_ PIRP Irp)
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS Status = STATUS_INVALID_DEVICE_REQUEST;
    ULONG_PTR Information = 0;

    UNREFERENCED_PARAMETER(DeviceObject);
    if (Stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_DEMO_QUERY) {
        if (Stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(DEMO_REPORT)) {
            Status = STATUS_BUFFER_TOO_SMALL;
        } else {
            Status = DemoQuery((DEMO_REPORT *)Irp->AssociatedIrp.SystemBuffer);
            Information = NT_SUCCESS(Status) ? sizeof(DEMO_REPORT) : 0;
        }
    }
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

/* ------------------------------------------------------------------------
 * Load and unload.
 */

static VOID
DemoStopWorkers(VOID)
{
    ULONG Worker;

    for (Worker = 0; Worker < DEMO_WORKERS; Worker += 1) {
        if (Workers[Worker] != NULL) {
            (VOID)KeWaitForSingleObject(Workers[Worker], Executive, KernelMode, FALSE, NULL);
            ObDereferenceObject(Workers[Worker]);
            Workers[Worker] = NULL;
        }
    }
}

#if WDKM_CHECKED
/*
 * The checked build's demonstration (docs/diagnostics.md): a maintenance
 * pass that nests the route table inside the device state, and a report
 * pass that nests them the other way round. Run one after the other, as
 * here, they cannot deadlock; two threads running them at once could. The
 * validator reports it the first time the second order is taken, before
 * anything waits; then the statistics table shows how the run used each
 * lock class (the registry's locks are classed by their names).
 */
static VOID
DemoShowDiagnostics(VOID)
{
    static const TOTALS Zero = { 0 };
    PWDKM_FAST_MUTEX Device = NULL;
    PWDKM_FAST_MUTEX Table = NULL;
    TOTALS *Outer;
    TOTALS *Inner;
    ULONG Classes;

    if (NT_SUCCESS(WDKM_FAST_MUTEX_CREATE(&Zero, &Device)) &&
        NT_SUCCESS(WDKM_FAST_MUTEX_CREATE(&Zero, &Table)) &&
        NT_SUCCESS(WdkmDiagSetClassName(Device, "demo.device")) &&
        NT_SUCCESS(WdkmDiagSetClassName(Table, "demo.route-table"))) {
        /* Maintenance: device, then table. */
        if (WDKM_ACQUIRED(WDKM_FAST_MUTEX_ACQUIRE(Device, &Outer))) {
            if (WDKM_ACQUIRED(WDKM_FAST_MUTEX_ACQUIRE(Table, &Inner))) {
                (VOID)WdkmFastMutexRelease(Table);
            }
            (VOID)WdkmFastMutexRelease(Device);
        }
        /* Report: table, then device - the reverse order. */
        if (WDKM_ACQUIRED(WDKM_FAST_MUTEX_ACQUIRE(Table, &Outer))) {
            if (WDKM_ACQUIRED(WDKM_FAST_MUTEX_ACQUIRE(Device, &Inner))) {
                (VOID)WdkmFastMutexRelease(Device);
            }
            (VOID)WdkmFastMutexRelease(Table);
        }
    }
    (VOID)WdkmDiagQueryStatistics(NULL, 0, &Classes, TRUE);
    if (Table != NULL) {
        (VOID)WdkmFastMutexDestroy(Table);
    }
    if (Device != NULL) {
        (VOID)WdkmFastMutexDestroy(Device);
    }
}
#endif

/* One call frees every registered lock; the outcome goes to the debug log. */
static VOID
DemoDestroyLocks(VOID)
{
    WDKM_POOL_STATISTICS Pool;
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;
    NTSTATUS Status;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5000);
    Status = WdkmGrtDestroy(&Timeout, &Report);
    WdkmQueryPoolStatistics(&Pool);
    DbgPrintEx(DEMO_COMPONENT, DPFLTR_ERROR_LEVEL,
               "WdkmDemo: registry destroyed: %s, %lu locks freed, %lu still referenced; "
               "%ld library pool blocks outstanding\n",
               WdkmStatusName(Status), Report.Freed, Report.StillReferenced,
               Pool.OutstandingBlocks);
}

static VOID
DemoUnload(_In_ PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING DosName;

    UNREFERENCED_PARAMETER(DriverObject);
    DemoStopWorkers();
    DemoStopTicks();
#if WDKM_CHECKED
    DemoShowDiagnostics();
#endif
    DemoDestroyLocks();
    /* Checked builds: every lock destroyed, no region left, no pool left. */
    (VOID)WdkmDiagLeakCheck(NULL);
    RtlInitUnicodeString(&DosName, DEMO_DOS_NAME);
    (VOID)IoDeleteSymbolicLink(&DosName);
    if (DemoDevice != NULL) {
        IoDeleteDevice(DemoDevice);
    }
}

static NTSTATUS
DemoStartWorkers(VOID)
{
    ULONG Worker;
    HANDLE Handle;
    NTSTATUS Status;

    for (Worker = 0; Worker < DEMO_WORKERS; Worker += 1) {
        Status = PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                      DemoWorker, (PVOID)(ULONG_PTR)Worker);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
        /*
         * ObjectType NULL: allowed, and our own handle's type is known.
         * (mingw-w64 declares PsThreadType with one indirection more than
         * the WDK, so *PsThreadType would be wrong there.)
         */
        Status = ObReferenceObjectByHandle(Handle, THREAD_ALL_ACCESS, NULL,
                                           KernelMode, (PVOID *)&Workers[Worker], NULL);
        ZwClose(Handle);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
    }
    return STATUS_SUCCESS;
}

NTSTATUS
DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    TRAFFIC InitialTraffic;
    TOTALS InitialTotals;
    ROUTES InitialRoutes;
    TICKS InitialTicks;
    PWDKM_FAST_MUTEX Traffic;
    PWDKM_KMUTEX Totals;
    UNICODE_STRING DeviceName;
    UNICODE_STRING DosName;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = DemoUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = DemoCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = DemoCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = DemoDeviceControl;

    RtlZeroMemory(&InitialTraffic, sizeof(InitialTraffic));
    RtlZeroMemory(&InitialTotals, sizeof(InitialTotals));
    RtlZeroMemory(&InitialRoutes, sizeof(InitialRoutes));
    RtlZeroMemory(&InitialTicks, sizeof(InitialTicks));
#if WDKM_CHECKED
    /* Hold times in the statistics table: two clock reads per acquisition,
       worth it in a demonstration (docs/diagnostics.md). Valid flags:
       nothing to fail. */
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT | WDKM_DIAG_TIME_HOLDS);
#endif
    Status = WdkmGrtInitialize();
    if (NT_SUCCESS(Status)) {
        Status = WDKM_GRT_REGISTER_FAST_MUTEX(TRAFFIC_NAME, &InitialTraffic);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_GRT_REGISTER_KMUTEX(TOTALS_NAME, &InitialTotals);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_GRT_REGISTER(ROUTES_NAME, WdkmLockKindResource, &InitialRoutes);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_GRT_REGISTER(TICKS_NAME, WdkmLockKindSpinLock, &InitialTicks);
    }
    if (NT_SUCCESS(Status)) {
        RtlInitUnicodeString(&DeviceName, DEMO_DEVICE_NAME);
        Status = IoCreateDevice(DriverObject, 0, &DeviceName, FILE_DEVICE_UNKNOWN, 0, FALSE,
                                &DemoDevice);
    }
    if (NT_SUCCESS(Status)) {
        RtlInitUnicodeString(&DosName, DEMO_DOS_NAME);
        Status = IoCreateSymbolicLink(&DosName, &DeviceName);
    }
    if (NT_SUCCESS(Status) &&
        WDKM_GRT_GET_FAST_MUTEX(TRAFFIC_NAME, TRAFFIC, &Traffic) == STATUS_SUCCESS) {
        if (WDKM_GRT_GET_KMUTEX(TOTALS_NAME, TOTALS, &Totals) == STATUS_SUCCESS) {
            DemoShowChecks(Traffic, Totals);
            (VOID)WdkmGrtDereference(Totals);
        }
        (VOID)WdkmGrtDereference(Traffic);
    }
    if (NT_SUCCESS(Status)) {
        Status = DemoStartTicks();
    }
    if (NT_SUCCESS(Status)) {
        Status = DemoStartWorkers();
    }
    if (!NT_SUCCESS(Status)) {
        DbgPrintEx(DEMO_COMPONENT, DPFLTR_ERROR_LEVEL, "WdkmDemo: load failed: %s (0x%08lX)\n",
                   WdkmStatusName(Status), (ULONG)Status);
        DemoUnload(DriverObject);
    }
    return Status;
}
