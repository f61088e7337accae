/*
 * wdkm_rel_driver.c - the reliability driver: a real driver built with the
 * library, loaded and unloaded many times under Wine and hammered through
 * IOCTLs from several user-mode threads at once.
 *
 * What it holds: five locks created directly (KMUTEX, FAST_MUTEX, spin lock,
 * queued spin lock, ERESOURCE) and five of the same kinds registered by name
 * in the registry. Each owns a counter with a check word (Check == ~Count,
 * rewritten with it), so an update made by two threads at once shows.
 *
 * How it is hammered: IOCTL_WDKM_REL_HAMMER is pended and handed to the
 * worker system thread of the client's slot, which takes every lock once
 * (the registry ones through a lookup by name each time) and completes the
 * request. Wine 8 calls dispatch routines on one thread only, so pending is
 * what lets the clients' requests run at the same time, as they would on
 * Windows. IOCTL_WDKM_REL_QUERY reads every counter under its lock.
 *
 * Two of Wine 8's blocking paths cannot be used between long-lived threads
 * (see WdkmpRelAcquireKMutex and WdkmpRelAcquireResourceShared): KMUTEX
 * acquisitions and shared ERESOURCE holds are made by trying and yielding.
 * Every other acquisition is the library's ordinary waiting one.
 *
 * At unload everything is destroyed and one DbgPrintEx line reports the
 * library's outstanding pool (WdkmQueryPoolStatistics), which must be zero;
 * scripts/run-wine-reliability.sh asserts on it.
 */
#include <ntddk.h>

#include <wdkmutex/wdkmutex.h>

#include "wdkm_rel_ioctl.h"

/* driverspecs.h has it; mingw-w64's DDK headers do not. */
#ifndef _Dispatch_type_
#define _Dispatch_type_(Major)
#endif

#define WDKM_REL_COMPONENT DPFLTR_IHVDRIVER_ID

/* Pauses inside each critical section: widens the window a broken lock
   would need to let two threads interleave an update. */
#define WDKM_REL_HOLD_SPINS 64

/* How long unload waits for registry references (there should be none). */
#define WDKM_REL_DESTROY_TIMEOUT_MS 5000

#define WDKM_REL_GRT_KMUTEX      "rel.kmutex"
#define WDKM_REL_GRT_FAST_MUTEX  "rel.fast-mutex"
#define WDKM_REL_GRT_SPIN        "rel.spin"
#define WDKM_REL_GRT_QUEUED_SPIN "rel.queued-spin"
#define WDKM_REL_GRT_RESOURCE    "rel.resource"

/* The value every lock owns. */
typedef struct _WDKM_REL_COUNTER {
    ULONG64 Count;
    ULONG64 Check;                     /* ~Count whenever the lock is free */
} WDKM_REL_COUNTER;

/* The direct KMUTEX's value: also who did what (a distinct size, too). */
typedef struct _WDKM_REL_OPS {
    WDKM_REL_COUNTER Counter;
    ULONG64 ByThread[WDKM_REL_MAX_THREADS];
} WDKM_REL_OPS;

/* One worker system thread per client slot. */
typedef struct _WDKM_REL_WORKER {
    PKTHREAD Thread;
    KEVENT Wake;                       /* a request was queued, or unload began */
    PVOID volatile Pending;            /* the slot's one outstanding IRP, or NULL */
    ULONG Index;
} WDKM_REL_WORKER;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD WdkmpRelUnload;
_Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE)
static DRIVER_DISPATCH WdkmpRelCreateClose;
_Dispatch_type_(IRP_MJ_DEVICE_CONTROL)
static DRIVER_DISPATCH WdkmpRelDeviceControl;
static KSTART_ROUTINE WdkmpRelWorkerMain;

static PDEVICE_OBJECT WdkmpRelDevice;
static BOOLEAN WdkmpRelLinkCreated;
static BOOLEAN WdkmpRelGrtInitialized;
static ULONG WdkmpRelTag;
static LONG64 WdkmpRelAllocationsAtEntry;

static PWDKM_KMUTEX WdkmpRelKMutex;
static PWDKM_FAST_MUTEX WdkmpRelFastMutex;
static PWDKM_SPIN_LOCK WdkmpRelSpinLock;
static PWDKM_QUEUED_SPIN_LOCK WdkmpRelQueuedSpinLock;
static PWDKM_RESOURCE WdkmpRelResource;

static WDKM_REL_WORKER WdkmpRelWorkers[WDKM_REL_MAX_THREADS];
static ULONG WdkmpRelWorkerCount;
static LONG volatile WdkmpRelStopping;

/* Outcome figures, kept with interlocked operations (not under the locks). */
static LONG volatile WdkmpRelInFlight;
static LONG volatile WdkmpRelPeakConcurrent;
static LONG64 volatile WdkmpRelOperations;
static LONG64 volatile WdkmpRelFailedOperations;
static LONG volatile WdkmpRelFirstFailure;
static LONG volatile WdkmpRelFirstFailureLock;
static LONG64 volatile WdkmpRelTornUpdates;
static LONG64 volatile WdkmpRelKMutexTryBusy;
static LONG64 volatile WdkmpRelResourceTryBusy;

/* ------------------------------------------------------------------------
 * One operation: every lock once.
 */

/* Called with the counter's lock held. */
static VOID
WdkmpRelBump(
    _Inout_ volatile WDKM_REL_COUNTER *Counter
    )
{
    ULONG64 Value = Counter->Count;
    ULONG Spin;

    if (Counter->Check != ~Value) {
        InterlockedIncrement64(&WdkmpRelTornUpdates);
    }
    /* Broken on purpose while held: anyone else inside now would see it. */
    Counter->Check = 0;
    for (Spin = 0; Spin < WDKM_REL_HOLD_SPINS; Spin += 1) {
        YieldProcessor();
    }
    Counter->Count = Value + 1;
    Counter->Check = ~(Value + 1);
}

/* Called with the counter's lock held, shared or exclusive. */
static VOID
WdkmpRelVerify(
    _In_ const volatile WDKM_REL_COUNTER *Counter
    )
{
    if (Counter->Check != ~Counter->Count) {
        InterlockedIncrement64(&WdkmpRelTornUpdates);
    }
}

/*
 * Wine 8 hands a contended KMUTEX to a waiter only when the thread that
 * last owned it exits: its KeReleaseMutex leaves the server mutex the
 * waiter sleeps on owned by the releasing thread. Between long-lived
 * workers a blocking acquire would therefore wait until unload. Trying and
 * yielding works on Wine and on Windows alike; each busy try is counted,
 * as direct evidence of contention.
 */
static NTSTATUS
WdkmpRelAcquireKMutex(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    LARGE_INTEGER Yield;
    NTSTATUS Status;

    Yield.QuadPart = 0;                /* a zero delay gives up the processor */
    for (;;) {
        Status = WdkmKMutexTryAcquire(Mutex, DataSize, Data);
        if (Status != STATUS_TIMEOUT) {
            return Status;
        }
        InterlockedIncrement64(&WdkmpRelKMutexTryBusy);
        (VOID)KeDelayExecutionThread(KernelMode, FALSE, &Yield);
    }
}

/*
 * Shared holds are taken the same way: Wine 8's ERESOURCE can wake a
 * shared waiter for a count left over from an earlier release, while a
 * thread holds the resource exclusively (the release that follows is then
 * refused and the resource stays locked for good). A shared try never
 * waits, so it never meets that bug. Exclusive waits are not affected.
 */
static NTSTATUS
WdkmpRelAcquireResourceShared(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ const VOID **Data
    )
{
    LARGE_INTEGER Yield;
    NTSTATUS Status;

    Yield.QuadPart = 0;
    for (;;) {
        Status = WdkmResourceTryAcquireShared(Resource, DataSize, Data);
        if (Status != STATUS_TIMEOUT) {
            return Status;
        }
        InterlockedIncrement64(&WdkmpRelResourceTryBusy);
        (VOID)KeDelayExecutionThread(KernelMode, FALSE, &Yield);
    }
}

static NTSTATUS
WdkmpRelStepKMutex(
    _In_ ULONG Thread
    )
{
    WDKM_REL_OPS *Ops;
    NTSTATUS Status;

    Status = WdkmpRelAcquireKMutex(WdkmpRelKMutex, sizeof(*Ops), (PVOID *)&Ops);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    WdkmpRelBump(&Ops->Counter);
    Ops->ByThread[Thread] += 1;
    return WdkmKMutexRelease(WdkmpRelKMutex);
}

static NTSTATUS
WdkmpRelStepFastMutex(
    VOID
    )
{
    WDKM_REL_COUNTER *Counter;
    NTSTATUS Status;

    WDKM_FAST_MUTEX_SCOPED(WdkmpRelFastMutex, Counter, &Status) {
        WdkmpRelBump(Counter);
    }
    return Status;
}

static NTSTATUS
WdkmpRelStepSpinLock(
    VOID
    )
{
    WDKM_REL_COUNTER *Counter;
    KIRQL OldIrql;
    NTSTATUS Status;

    Status = WDKM_SPIN_LOCK_ACQUIRE(WdkmpRelSpinLock, &OldIrql, &Counter);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    WdkmpRelBump(Counter);
    return WdkmSpinLockRelease(WdkmpRelSpinLock, OldIrql);
}

static NTSTATUS
WdkmpRelStepQueuedSpinLock(
    _In_ PWDKM_QUEUED_SPIN_LOCK Lock
    )
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_REL_COUNTER *Counter;
    NTSTATUS Status;

    Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Counter);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    WdkmpRelBump(Counter);
    return WdkmQueuedSpinLockRelease(&Handle);
}

/* An exclusive update, then a shared read that checks it. */
static NTSTATUS
WdkmpRelStepResource(
    VOID
    )
{
    WDKM_REL_COUNTER *Counter;
    const WDKM_REL_COUNTER *Read;
    NTSTATUS Status;

    Status = WDKM_RESOURCE_TRY_ACQUIRE_EXCLUSIVE(WdkmpRelResource, &Counter);
    if (Status == STATUS_TIMEOUT) {
        InterlockedIncrement64(&WdkmpRelResourceTryBusy);
        Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(WdkmpRelResource, &Counter);
    }
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    WdkmpRelBump(Counter);
    Status = WdkmResourceRelease(WdkmpRelResource);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmpRelAcquireResourceShared(WdkmpRelResource, sizeof(*Read),
                                           (const VOID **)&Read);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    WdkmpRelVerify(Read);
    return WdkmResourceRelease(WdkmpRelResource);
}

static NTSTATUS
WdkmpRelStepGrt(
    _In_ ULONG Lock
    )
{
    WDKM_REL_COUNTER *Counter;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_KMUTEX Mutex;
    NTSTATUS Status;
    NTSTATUS DerefStatus;

    switch (Lock) {
    case WDKM_REL_LOCK_GRT_KMUTEX:
        /* Not the scoped form, which waits: see WdkmpRelAcquireKMutex. */
        Status = WDKM_GRT_GET_KMUTEX(WDKM_REL_GRT_KMUTEX, WDKM_REL_COUNTER, &Mutex);
        if (Status != STATUS_SUCCESS) {
            return Status;
        }
        Status = WdkmpRelAcquireKMutex(Mutex, sizeof(*Counter), (PVOID *)&Counter);
        if (Status == STATUS_SUCCESS) {
            WdkmpRelBump(Counter);
            Status = WdkmKMutexRelease(Mutex);
        }
        DerefStatus = WdkmGrtDereference(Mutex);
        return NT_SUCCESS(Status) ? DerefStatus : Status;
    case WDKM_REL_LOCK_GRT_FAST_MUTEX:
        WDKM_GRT_FAST_MUTEX_SCOPED(WDKM_REL_GRT_FAST_MUTEX, Counter, &Status) {
            WdkmpRelBump(Counter);
        }
        return Status;
    case WDKM_REL_LOCK_GRT_SPIN:
        WDKM_GRT_SCOPED(WDKM_REL_GRT_SPIN, WdkmLockKindSpinLock, Counter, &Status) {
            WdkmpRelBump(Counter);
        }
        return Status;
    case WDKM_REL_LOCK_GRT_QUEUED_SPIN:
        /* No registry scoped form for this kind: the handle lives here. */
        Status = WDKM_GRT_GET_QUEUED_SPIN_LOCK(WDKM_REL_GRT_QUEUED_SPIN, WDKM_REL_COUNTER,
                                               &Queued);
        if (Status != STATUS_SUCCESS) {
            return Status;
        }
        Status = WdkmpRelStepQueuedSpinLock(Queued);
        DerefStatus = WdkmGrtDereference(Queued);
        return NT_SUCCESS(Status) ? DerefStatus : Status;
    case WDKM_REL_LOCK_GRT_RESOURCE:
        WDKM_GRT_SCOPED(WDKM_REL_GRT_RESOURCE, WdkmLockKindResource, Counter, &Status) {
            WdkmpRelBump(Counter);
        }
        return Status;
    default:
        return STATUS_INVALID_PARAMETER;
    }
}

/* Every lock once, in WDKM_REL_LOCK_* order; stops at the first failure. */
static NTSTATUS
WdkmpRelOperation(
    _In_ ULONG Thread,
    _Out_ PULONG FailedLock
    )
{
    NTSTATUS Status = STATUS_SUCCESS;
    ULONG Lock;

    for (Lock = 0; Lock < WDKM_REL_LOCKS && NT_SUCCESS(Status); Lock += 1) {
        *FailedLock = Lock;
        switch (Lock) {
        case WDKM_REL_LOCK_KMUTEX:
            Status = WdkmpRelStepKMutex(Thread);
            break;
        case WDKM_REL_LOCK_FAST_MUTEX:
            Status = WdkmpRelStepFastMutex();
            break;
        case WDKM_REL_LOCK_SPIN:
            Status = WdkmpRelStepSpinLock();
            break;
        case WDKM_REL_LOCK_QUEUED_SPIN:
            Status = WdkmpRelStepQueuedSpinLock(WdkmpRelQueuedSpinLock);
            break;
        case WDKM_REL_LOCK_RESOURCE:
            Status = WdkmpRelStepResource();
            break;
        default:
            Status = WdkmpRelStepGrt(Lock);
            break;
        }
    }
    /* Any success-class code other than STATUS_SUCCESS is a failure here. */
    return Status == STATUS_SUCCESS ? STATUS_SUCCESS : (NT_SUCCESS(Status) ? STATUS_UNSUCCESSFUL
                                                                          : Status);
}

/* ------------------------------------------------------------------------
 * Workers.
 */

static VOID
WdkmpRelNotePeak(
    _In_ LONG InFlight
    )
{
    LONG Peak = WdkmpRelPeakConcurrent;

    while (InFlight > Peak) {
        LONG Seen = InterlockedCompareExchange(&WdkmpRelPeakConcurrent, InFlight, Peak);
        if (Seen == Peak) {
            break;
        }
        Peak = Seen;
    }
}

/* Runs one pended HAMMER request on the worker's thread and completes it. */
static VOID
WdkmpRelServe(
    _Inout_ PIRP Irp
    )
{
    WDKM_REL_REQUEST Request = *(const WDKM_REL_REQUEST *)Irp->AssociatedIrp.SystemBuffer;
    WDKM_REL_REPLY *Reply = (WDKM_REL_REPLY *)Irp->AssociatedIrp.SystemBuffer;
    ULONG FailedLock = 0;
    NTSTATUS Status;

    WdkmpRelNotePeak(InterlockedIncrement(&WdkmpRelInFlight));
    Status = WdkmpRelOperation(Request.Thread, &FailedLock);
    InterlockedDecrement(&WdkmpRelInFlight);

    if (Status == STATUS_SUCCESS) {
        InterlockedIncrement64(&WdkmpRelOperations);
    } else {
        InterlockedIncrement64(&WdkmpRelFailedOperations);
        if (InterlockedCompareExchange(&WdkmpRelFirstFailure, Status, STATUS_SUCCESS) ==
            STATUS_SUCCESS) {
            InterlockedExchange(&WdkmpRelFirstFailureLock, (LONG)FailedLock);
        }
    }
    /* The reply overwrites the request: both live in the system buffer. */
    RtlZeroMemory(Reply, sizeof(*Reply));
    Reply->Sequence = Request.Sequence;
    Reply->Status = Status;
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = sizeof(*Reply);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static VOID
WdkmpRelWorkerMain(
    _In_ PVOID Context
    )
{
    WDKM_REL_WORKER *Worker = (WDKM_REL_WORKER *)Context;
    PIRP Irp;

    for (;;) {
        (VOID)KeWaitForSingleObject(&Worker->Wake, Executive, KernelMode, FALSE, NULL);
        Irp = (PIRP)InterlockedExchangePointer(&Worker->Pending, NULL);
        if (Irp != NULL) {
            WdkmpRelServe(Irp);
        }
        if (WdkmpRelStopping != 0) {
            break;
        }
    }
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static NTSTATUS
WdkmpRelStartWorkers(
    VOID
    )
{
    WDKM_REL_WORKER *Worker;
    HANDLE Handle;
    NTSTATUS Status;
    ULONG Index;

    for (Index = 0; Index < WDKM_REL_MAX_THREADS; Index += 1) {
        Worker = &WdkmpRelWorkers[Index];
        Worker->Index = Index;
        Worker->Pending = NULL;
        KeInitializeEvent(&Worker->Wake, SynchronizationEvent, FALSE);
        Status = PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                      WdkmpRelWorkerMain, Worker);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
        /* Counted as soon as it runs: unload must wake it even if the
           reference below fails. */
        WdkmpRelWorkerCount = Index + 1;
        /*
         * ObjectType NULL: our own handle's type is known, and mingw-w64
         * declares PsThreadType with one indirection more than the WDK.
         */
        Status = ObReferenceObjectByHandle(Handle, THREAD_ALL_ACCESS, NULL, KernelMode,
                                           (PVOID *)&Worker->Thread, NULL);
        (VOID)ZwClose(Handle);
        if (!NT_SUCCESS(Status)) {
            /* Running but unreferenced: stopping it still works, joining does not. */
            Worker->Thread = NULL;
            return Status;
        }
    }
    return STATUS_SUCCESS;
}

/* No handle is open at unload (the driver could not be stopped otherwise),
   so no request can arrive while the workers stop. */
static VOID
WdkmpRelStopWorkers(
    VOID
    )
{
    ULONG Index;

    InterlockedExchange(&WdkmpRelStopping, 1);
    for (Index = 0; Index < WdkmpRelWorkerCount; Index += 1) {
        (VOID)KeSetEvent(&WdkmpRelWorkers[Index].Wake, IO_NO_INCREMENT, FALSE);
    }
    for (Index = 0; Index < WdkmpRelWorkerCount; Index += 1) {
        if (WdkmpRelWorkers[Index].Thread != NULL) {
            (VOID)KeWaitForSingleObject(WdkmpRelWorkers[Index].Thread, Executive, KernelMode,
                                        FALSE, NULL);
            ObDereferenceObject(WdkmpRelWorkers[Index].Thread);
            WdkmpRelWorkers[Index].Thread = NULL;
        }
    }
    WdkmpRelWorkerCount = 0;
}

/* ------------------------------------------------------------------------
 * Queries.
 */

/* Reads one counter under its own lock into Totals->Counts[Lock]. */
static NTSTATUS
WdkmpRelReadCounter(
    _In_ ULONG Lock,
    _Inout_ WDKM_REL_TOTALS *Totals
    )
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_KMUTEX Mutex;
    WDKM_REL_OPS *Ops;
    WDKM_REL_COUNTER *Counter = NULL;
    const WDKM_REL_COUNTER *Read;
    WDKM_REL_COUNTER Copy;
    KIRQL OldIrql;
    NTSTATUS Status;
    NTSTATUS DerefStatus;
    ULONG Thread;

    RtlZeroMemory(&Copy, sizeof(Copy));
    Copy.Check = ~(ULONG64)0;
    switch (Lock) {
    case WDKM_REL_LOCK_KMUTEX:
        Status = WdkmpRelAcquireKMutex(WdkmpRelKMutex, sizeof(*Ops), (PVOID *)&Ops);
        if (Status == STATUS_SUCCESS) {
            Copy = Ops->Counter;
            for (Thread = 0; Thread < WDKM_REL_MAX_THREADS; Thread += 1) {
                Totals->ByThread[Thread] = Ops->ByThread[Thread];
            }
            Status = WdkmKMutexRelease(WdkmpRelKMutex);
        }
        break;
    case WDKM_REL_LOCK_FAST_MUTEX:
        WDKM_FAST_MUTEX_SCOPED(WdkmpRelFastMutex, Counter, &Status) {
            Copy = *Counter;
        }
        break;
    case WDKM_REL_LOCK_SPIN:
        Status = WDKM_SPIN_LOCK_ACQUIRE(WdkmpRelSpinLock, &OldIrql, &Counter);
        if (Status == STATUS_SUCCESS) {
            Copy = *Counter;
            Status = WdkmSpinLockRelease(WdkmpRelSpinLock, OldIrql);
        }
        break;
    case WDKM_REL_LOCK_QUEUED_SPIN:
    case WDKM_REL_LOCK_GRT_QUEUED_SPIN:
        Queued = WdkmpRelQueuedSpinLock;
        if (Lock == WDKM_REL_LOCK_GRT_QUEUED_SPIN) {
            Status = WDKM_GRT_GET_QUEUED_SPIN_LOCK(WDKM_REL_GRT_QUEUED_SPIN, WDKM_REL_COUNTER,
                                                   &Queued);
            if (Status != STATUS_SUCCESS) {
                break;
            }
        }
        Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Queued, &Handle, &Counter);
        if (Status == STATUS_SUCCESS) {
            Copy = *Counter;
            Status = WdkmQueuedSpinLockRelease(&Handle);
        }
        if (Lock == WDKM_REL_LOCK_GRT_QUEUED_SPIN) {
            DerefStatus = WdkmGrtDereference(Queued);
            Status = NT_SUCCESS(Status) ? DerefStatus : Status;
        }
        break;
    case WDKM_REL_LOCK_RESOURCE:
        Status = WdkmpRelAcquireResourceShared(WdkmpRelResource, sizeof(*Read),
                                               (const VOID **)&Read);
        if (Status == STATUS_SUCCESS) {
            Copy = *Read;
            Status = WdkmResourceRelease(WdkmpRelResource);
        }
        break;
    case WDKM_REL_LOCK_GRT_KMUTEX:
        Status = WDKM_GRT_GET_KMUTEX(WDKM_REL_GRT_KMUTEX, WDKM_REL_COUNTER, &Mutex);
        if (Status != STATUS_SUCCESS) {
            break;
        }
        Status = WdkmpRelAcquireKMutex(Mutex, sizeof(*Counter), (PVOID *)&Counter);
        if (Status == STATUS_SUCCESS) {
            Copy = *Counter;
            Status = WdkmKMutexRelease(Mutex);
        }
        DerefStatus = WdkmGrtDereference(Mutex);
        Status = NT_SUCCESS(Status) ? DerefStatus : Status;
        break;
    case WDKM_REL_LOCK_GRT_FAST_MUTEX:
        WDKM_GRT_FAST_MUTEX_SCOPED(WDKM_REL_GRT_FAST_MUTEX, Counter, &Status) {
            Copy = *Counter;
        }
        break;
    case WDKM_REL_LOCK_GRT_SPIN:
        WDKM_GRT_SCOPED(WDKM_REL_GRT_SPIN, WdkmLockKindSpinLock, Counter, &Status) {
            Copy = *Counter;
        }
        break;
    case WDKM_REL_LOCK_GRT_RESOURCE:
        WDKM_GRT_SCOPED(WDKM_REL_GRT_RESOURCE, WdkmLockKindResource, Counter, &Status) {
            Copy = *Counter;
        }
        break;
    default:
        Status = STATUS_INVALID_PARAMETER;
        break;
    }
    if (Status != STATUS_SUCCESS) {
        return NT_SUCCESS(Status) ? STATUS_UNSUCCESSFUL : Status;
    }
    WdkmpRelVerify(&Copy);
    Totals->Counts[Lock] = Copy.Count;
    return STATUS_SUCCESS;
}

static NTSTATUS
WdkmpRelQuery(
    _Out_ WDKM_REL_TOTALS *Totals
    )
{
    WDKM_POOL_STATISTICS Pool;
    NTSTATUS Status;
    ULONG Lock;

    RtlZeroMemory(Totals, sizeof(*Totals));
    for (Lock = 0; Lock < WDKM_REL_LOCKS; Lock += 1) {
        Status = WdkmpRelReadCounter(Lock, Totals);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
    }
    Totals->Workers = WdkmpRelWorkerCount;
    Totals->PeakConcurrent = (ULONG)WdkmpRelPeakConcurrent;
    Totals->Operations = (ULONG64)InterlockedCompareExchange64(&WdkmpRelOperations, 0, 0);
    Totals->FailedOperations =
        (ULONG64)InterlockedCompareExchange64(&WdkmpRelFailedOperations, 0, 0);
    Totals->FirstFailure = WdkmpRelFirstFailure;
    Totals->FirstFailureLock = (ULONG)WdkmpRelFirstFailureLock;
    Totals->TornUpdates = (ULONG64)InterlockedCompareExchange64(&WdkmpRelTornUpdates, 0, 0);
    Totals->KMutexTryBusy = (ULONG64)InterlockedCompareExchange64(&WdkmpRelKMutexTryBusy, 0, 0);
    Totals->ResourceTryBusy =
        (ULONG64)InterlockedCompareExchange64(&WdkmpRelResourceTryBusy, 0, 0);
    WdkmQueryPoolStatistics(&Pool);
    Totals->PoolAllocator = (ULONG)Pool.Allocator;
    Totals->PoolBlocks = Pool.OutstandingBlocks;
    Totals->PoolBytes = Pool.OutstandingBytes;
    Totals->PoolAllocations = Pool.TotalAllocations;
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * Dispatch.
 */

static NTSTATUS
WdkmpRelComplete(
    _Inout_ PIRP Irp,
    _In_ NTSTATUS Status,
    _In_ ULONG_PTR Information
    )
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = NT_SUCCESS(Status) ? Information : 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

static NTSTATUS
WdkmpRelCreateClose(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return WdkmpRelComplete(Irp, STATUS_SUCCESS, 0);
}

/* Queues a HAMMER request to its slot's worker; completes it if it cannot. */
static NTSTATUS
WdkmpRelQueueHammer(
    _Inout_ PIRP Irp,
    _In_ PIO_STACK_LOCATION Stack
    )
{
    const WDKM_REL_REQUEST *Request =
        (const WDKM_REL_REQUEST *)Irp->AssociatedIrp.SystemBuffer;
    WDKM_REL_WORKER *Worker;

    if (Stack->Parameters.DeviceIoControl.InputBufferLength < sizeof(WDKM_REL_REQUEST)) {
        return WdkmpRelComplete(Irp, STATUS_INVALID_PARAMETER, 0);
    }
    if (Stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(WDKM_REL_REPLY)) {
        return WdkmpRelComplete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    }
    if (Request->Thread >= WdkmpRelWorkerCount) {
        return WdkmpRelComplete(Irp, STATUS_INVALID_PARAMETER, 0);
    }
    if (WdkmpRelStopping != 0) {
        return WdkmpRelComplete(Irp, STATUS_DELETE_PENDING, 0);
    }
    Worker = &WdkmpRelWorkers[Request->Thread];
    /* Marked before it is handed over: the worker may complete it at once. */
    IoMarkIrpPending(Irp);
    if (InterlockedCompareExchangePointer(&Worker->Pending, Irp, NULL) != NULL) {
        (VOID)WdkmpRelComplete(Irp, STATUS_DEVICE_BUSY, 0);
        return STATUS_PENDING;
    }
    (VOID)KeSetEvent(&Worker->Wake, IO_NO_INCREMENT, FALSE);
    return STATUS_PENDING;
}

static NTSTATUS
WdkmpRelDeviceControl(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    PVOID Buffer = Irp->AssociatedIrp.SystemBuffer;
    ULONG InputLength = Stack->Parameters.DeviceIoControl.InputBufferLength;
    ULONG OutputLength = Stack->Parameters.DeviceIoControl.OutputBufferLength;
    WDKM_REL_INFO *Info;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(DeviceObject);
    switch (Stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_WDKM_REL_HAMMER:
        return WdkmpRelQueueHammer(Irp, Stack);

    case IOCTL_WDKM_REL_GET_INFO:
        if (OutputLength < sizeof(WDKM_REL_INFO)) {
            return WdkmpRelComplete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        }
        Info = (WDKM_REL_INFO *)Buffer;
        RtlZeroMemory(Info, sizeof(*Info));
        Info->InterfaceVersion = WDKM_REL_INTERFACE_VERSION;
        Info->Workers = WdkmpRelWorkerCount;
        Info->PoolAllocationsAtEntry = WdkmpRelAllocationsAtEntry;
        return WdkmpRelComplete(Irp, STATUS_SUCCESS, sizeof(*Info));

    case IOCTL_WDKM_REL_SET_TAG:
        if (InputLength < sizeof(WDKM_REL_TAG)) {
            return WdkmpRelComplete(Irp, STATUS_INVALID_PARAMETER, 0);
        }
        WdkmpRelTag = ((const WDKM_REL_TAG *)Buffer)->Tag;
        return WdkmpRelComplete(Irp, STATUS_SUCCESS, 0);

    case IOCTL_WDKM_REL_QUERY:
        if (OutputLength < sizeof(WDKM_REL_TOTALS)) {
            return WdkmpRelComplete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        }
        Status = WdkmpRelQuery((WDKM_REL_TOTALS *)Buffer);
        return WdkmpRelComplete(Irp, Status, sizeof(WDKM_REL_TOTALS));

    default:
        return WdkmpRelComplete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

/* ------------------------------------------------------------------------
 * Load and unload.
 */

/* Destroys a direct lock if it exists; counts a refusal. */
#define WDKM_REL_DESTROY(Lock, Destroy, Errors)             \
    do {                                                    \
        if ((Lock) != NULL) {                               \
            if (!NT_SUCCESS(Destroy(Lock))) {               \
                (Errors) += 1;                              \
            }                                               \
            (Lock) = NULL;                                  \
        }                                                   \
    } while (0)

/*
 * Frees everything the driver made, then reports the library's pool
 * accounting: after this, nothing of the library may be left.
 */
static VOID
WdkmpRelUnload(
    _In_ PDRIVER_OBJECT DriverObject
    )
{
    UNICODE_STRING DosName = RTL_CONSTANT_STRING(WDKM_REL_DOS_NAME);
    WDKM_POOL_STATISTICS Pool;
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;
    NTSTATUS GrtStatus = STATUS_SUCCESS;
    ULONG DestroyErrors = 0;

    UNREFERENCED_PARAMETER(DriverObject);
    WdkmpRelStopWorkers();
    if (WdkmpRelLinkCreated) {
        (VOID)IoDeleteSymbolicLink(&DosName);
        WdkmpRelLinkCreated = FALSE;
    }
    if (WdkmpRelDevice != NULL) {
        IoDeleteDevice(WdkmpRelDevice);
        WdkmpRelDevice = NULL;
    }

    WDKM_REL_DESTROY(WdkmpRelKMutex, WdkmKMutexDestroy, DestroyErrors);
    WDKM_REL_DESTROY(WdkmpRelFastMutex, WdkmFastMutexDestroy, DestroyErrors);
    WDKM_REL_DESTROY(WdkmpRelSpinLock, WdkmSpinLockDestroy, DestroyErrors);
    WDKM_REL_DESTROY(WdkmpRelQueuedSpinLock, WdkmQueuedSpinLockDestroy, DestroyErrors);
    WDKM_REL_DESTROY(WdkmpRelResource, WdkmResourceDestroy, DestroyErrors);

    RtlZeroMemory(&Report, sizeof(Report));
    if (WdkmpRelGrtInitialized) {
        Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(WDKM_REL_DESTROY_TIMEOUT_MS);
        GrtStatus = WdkmGrtDestroy(&Timeout, &Report);
        WdkmpRelGrtInitialized = (GrtStatus != STATUS_SUCCESS);
    }

    /* The line scripts/run-wine-reliability.sh looks for; keep its shape. */
    WdkmQueryPoolStatistics(&Pool);
    DbgPrintEx(WDKM_REL_COMPONENT,
               (Pool.OutstandingBlocks == 0 && Pool.OutstandingBytes == 0 && DestroyErrors == 0 &&
                GrtStatus == STATUS_SUCCESS) ? DPFLTR_INFO_LEVEL : DPFLTR_ERROR_LEVEL,
               "WdkmRel: unload tag %lu: pool %ld blocks %I64d bytes outstanding "
               "(%I64d allocations, %I64d failed); registry %s, %lu freed, %lu still referenced; "
               "%lu destroy errors; %I64d operations\n",
               WdkmpRelTag, Pool.OutstandingBlocks, Pool.OutstandingBytes, Pool.TotalAllocations,
               Pool.FailedAllocations, WdkmStatusName(GrtStatus), Report.Freed,
               Report.StillReferenced, DestroyErrors, WdkmpRelOperations);
}

/* The locks and their registry twins, each owning a zeroed counter. */
static NTSTATUS
WdkmpRelCreateLocks(
    VOID
    )
{
    WDKM_REL_COUNTER Counter;
    WDKM_REL_OPS Ops;
    NTSTATUS Status;

    RtlZeroMemory(&Counter, sizeof(Counter));
    Counter.Check = ~(ULONG64)0;
    RtlZeroMemory(&Ops, sizeof(Ops));
    Ops.Counter = Counter;

    Status = WDKM_KMUTEX_CREATE(&Ops, &WdkmpRelKMutex);
    if (NT_SUCCESS(Status)) {
        Status = WDKM_FAST_MUTEX_CREATE(&Counter, &WdkmpRelFastMutex);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_SPIN_LOCK_CREATE(&Counter, &WdkmpRelSpinLock);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_QUEUED_SPIN_LOCK_CREATE(&Counter, &WdkmpRelQueuedSpinLock);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_RESOURCE_CREATE(&Counter, &WdkmpRelResource);
    }
    if (NT_SUCCESS(Status)) {
        Status = WdkmGrtInitialize();
        WdkmpRelGrtInitialized = NT_SUCCESS(Status);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_GRT_REGISTER_KMUTEX(WDKM_REL_GRT_KMUTEX, &Counter);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_GRT_REGISTER_FAST_MUTEX(WDKM_REL_GRT_FAST_MUTEX, &Counter);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_GRT_REGISTER(WDKM_REL_GRT_SPIN, WdkmLockKindSpinLock, &Counter);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_GRT_REGISTER(WDKM_REL_GRT_QUEUED_SPIN, WdkmLockKindQueuedSpinLock,
                                   &Counter);
    }
    if (NT_SUCCESS(Status)) {
        Status = WDKM_GRT_REGISTER(WDKM_REL_GRT_RESOURCE, WdkmLockKindResource, &Counter);
    }
    return Status;
}

NTSTATUS
DriverEntry(
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath
    )
{
    UNICODE_STRING DeviceName = RTL_CONSTANT_STRING(WDKM_REL_DEVICE_NAME);
    UNICODE_STRING DosName = RTL_CONSTANT_STRING(WDKM_REL_DOS_NAME);
    WDKM_POOL_STATISTICS Pool;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(RegistryPath);
    /* Non-zero only if the image's data survived an earlier unload. */
    WdkmQueryPoolStatistics(&Pool);
    WdkmpRelAllocationsAtEntry = Pool.TotalAllocations;

    DriverObject->DriverUnload = WdkmpRelUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = WdkmpRelCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = WdkmpRelCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = WdkmpRelDeviceControl;

    Status = WdkmpRelCreateLocks();
    if (NT_SUCCESS(Status)) {
        Status = WdkmpRelStartWorkers();
    }
    if (NT_SUCCESS(Status)) {
        Status = IoCreateDevice(DriverObject, 0, &DeviceName, FILE_DEVICE_UNKNOWN,
                                FILE_DEVICE_SECURE_OPEN, FALSE, &WdkmpRelDevice);
    }
    if (NT_SUCCESS(Status)) {
        Status = IoCreateSymbolicLink(&DosName, &DeviceName);
        WdkmpRelLinkCreated = NT_SUCCESS(Status);
    }
    if (!NT_SUCCESS(Status)) {
        DbgPrintEx(WDKM_REL_COMPONENT, DPFLTR_ERROR_LEVEL, "WdkmRel: load failed: %s (0x%08lX)\n",
                   WdkmStatusName(Status), (ULONG)Status);
        WdkmpRelUnload(DriverObject);
        return Status;
    }
    WdkmpRelDevice->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}
