/*
 * ticker_host_test.c - the ticker core on the host emulation
 * (docs/host-testing.md): the emulation's IRPs (each checked completed
 * exactly once), its timer DPC thread, a system thread standing in for
 * the work item, and DPCs and kernel APCs injected into the threads that
 * hold the core's locks.
 *
 * Run: build/host/examples/ticker/ticker_host_test (make host).
 */
#include <stdio.h>
#include <stdlib.h>

#include <wdkm_host.h>

#include "ticker_core.h"

static int Failures;

#define EXPECT(Condition)                                                   \
    do {                                                                    \
        if (!(Condition)) {                                                 \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #Condition);     \
            Failures += 1;                                                  \
        }                                                                   \
    } while (0)

/* --- the work item: a system thread woken by the core's QueueWork -------- */

static KEVENT WorkWanted;       /* synchronization event */
static volatile LONG WorkerQuit;
static volatile LONG WorkerDelayMs;     /* a slow work item: sleeps first */
static volatile LONG WorkQueued;
static PVOID WorkerThread;

/* A LONG another thread changes with Interlocked*: read it the same way. */
static LONG
ReadShared(volatile LONG *Value)
{
    return InterlockedCompareExchange(Value, 0, 0);
}

static VOID
Sleep(ULONG Milliseconds)
{
    LARGE_INTEGER Interval;

    Interval.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Milliseconds);
    (VOID)KeDelayExecutionThread(KernelMode, FALSE, &Interval);
}

/* <= DISPATCH_LEVEL, inside the timer DPC or an injected one. */
static VOID
TestQueueWork(VOID)
{
    InterlockedIncrement(&WorkQueued);
    (VOID)KeSetEvent(&WorkWanted, IO_NO_INCREMENT, FALSE);
}

static VOID
WorkerRoutine(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    for (;;) {
        (VOID)KeWaitForSingleObject(&WorkWanted, Executive, KernelMode, FALSE, NULL);
        if (InterlockedCompareExchange(&WorkerQuit, 0, 0) != 0) {
            break;
        }
        if (ReadShared(&WorkerDelayMs) != 0) {
            Sleep((ULONG)ReadShared(&WorkerDelayMs));
        }
        TkCoreWork();
    }
}

static VOID
Start(VOID)
{
    HANDLE Handle;

    KeInitializeEvent(&WorkWanted, SynchronizationEvent, FALSE);
    InterlockedExchange(&WorkerQuit, 0);
    InterlockedExchange(&WorkQueued, 0);
    EXPECT(TkCoreStart(TestQueueWork) == STATUS_SUCCESS);
    EXPECT(PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, WorkerRoutine,
                                NULL) == STATUS_SUCCESS);
    EXPECT(ObReferenceObjectByHandle(Handle, SYNCHRONIZE, NULL, KernelMode, &WorkerThread,
                                     NULL) == STATUS_SUCCESS);
    (VOID)ZwClose(Handle);
}

/* The core's stop, then the worker's end and the leak checks. */
static VOID
Stop(TK_FINAL *Final)
{
    EXPECT(TkCoreStop(Final) == STATUS_SUCCESS);
    InterlockedExchange(&WorkerQuit, 1);
    (VOID)KeSetEvent(&WorkWanted, IO_NO_INCREMENT, FALSE);
    (VOID)KeWaitForSingleObject(WorkerThread, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(WorkerThread);
    EXPECT(WdkmHostPoolOutstanding(TICKER_TAG, NULL) == 0);
    EXPECT(WdkmHostPoolOutstanding(WDKM_POOL_TAG, NULL) == 0);
    /* Whatever the DPC generated, the work item distributed and booked
       before the stop read the counts. */
    EXPECT(Final->Pending == 0);
    EXPECT(Final->Generated == Final->Distributed);
    EXPECT(Final->Booked == Final->Distributed);
    EXPECT(Final->Heard == Final->Delivered);
    EXPECT(Final->Opened == Final->CleanedUp + Final->ClosedWithoutCleanup + Final->HandlesLeft);
}

/* --- requests: one IRP each, checked completed exactly once -------------- */

static volatile LONG IrpsNotCompletedOnce;

/* Sends one IRP through the dispatch routine; returns its status. Buffer
   is METHOD_BUFFERED's one system buffer (in and out). */
static NTSTATUS
Send(UCHAR Major, ULONG Code, PFILE_OBJECT File, PVOID Buffer, ULONG InLength,
     ULONG OutLength, ULONG_PTR *Information)
{
    PIRP Irp = WdkmHostIrpAllocate(Major, Code, File);
    PIO_STACK_LOCATION Stack;
    NTSTATUS Returned;
    NTSTATUS Status;

    if (Irp == NULL) {
        printf("FAIL: out of memory for an IRP\n");
        exit(1);
    }
    Stack = IoGetCurrentIrpStackLocation(Irp);
    Irp->AssociatedIrp.SystemBuffer = Buffer;
    Stack->Parameters.DeviceIoControl.InputBufferLength = InLength;
    Stack->Parameters.DeviceIoControl.OutputBufferLength = OutLength;
    Returned = TkCoreDispatch(Irp);
    /* Synchronous driver: completed once, before the dispatch returned,
       with the status it returned. */
    if (WdkmHostIrpCompletions(Irp) != 1 || Irp->IoStatus.Status != Returned) {
        InterlockedIncrement(&IrpsNotCompletedOnce);
    }
    Status = Irp->IoStatus.Status;
    if (Information != NULL) {
        *Information = Irp->IoStatus.Information;
    }
    WdkmHostIrpFree(Irp);
    return Status;
}

static NTSTATUS
Create(PFILE_OBJECT File)
{
    return Send(IRP_MJ_CREATE, 0, File, NULL, 0, 0, NULL);
}

static NTSTATUS
Cleanup(PFILE_OBJECT File)
{
    return Send(IRP_MJ_CLEANUP, 0, File, NULL, 0, 0, NULL);
}

static NTSTATUS
Close(PFILE_OBJECT File)
{
    return Send(IRP_MJ_CLOSE, 0, File, NULL, 0, 0, NULL);
}

static NTSTATUS
SetStep(PFILE_OBJECT File, ULONG Step, ULONG *Previous)
{
    ULONG Buffer = Step;
    ULONG_PTR Information = 0;
    NTSTATUS Status;

    Status = Send(IRP_MJ_DEVICE_CONTROL, IOCTL_TICKER_SET_STEP, File, &Buffer, sizeof(Buffer),
                  sizeof(Buffer), &Information);
    if (Previous != NULL) {
        *Previous = Status == STATUS_SUCCESS && Information == sizeof(ULONG) ? Buffer : 0xFFFFFFFF;
    }
    return Status;
}

static NTSTATUS
Listen(PFILE_OBJECT File, ULONG On)
{
    ULONG Buffer = On;

    return Send(IRP_MJ_DEVICE_CONTROL, IOCTL_TICKER_LISTEN, File, &Buffer, sizeof(Buffer), 0,
                NULL);
}

static volatile LONG BrokenInvariants;

/* A query; every report must keep the invariants of ticker_ioctl.h. */
static NTSTATUS
Query(PFILE_OBJECT File, TICKER_REPORT *Report)
{
    ULONG_PTR Information = 0;
    NTSTATUS Status;

    Status = Send(IRP_MJ_DEVICE_CONTROL, IOCTL_TICKER_QUERY, File, Report, 0, sizeof(*Report),
                  &Information);
    if (Status == STATUS_SUCCESS &&
        (Information != sizeof(*Report) ||
         Report->Generated != Report->Pending + Report->Distributed ||
         Report->Delivered != Report->HeardByOpen + Report->HeardByClosed)) {
        InterlockedIncrement(&BrokenInvariants);
    }
    return Status;
}

/* With the step at 0: waits (up to 5 s) for every unit to be booked. */
static BOOLEAN
WaitDrained(PFILE_OBJECT File, TICKER_REPORT *Report)
{
    ULONG Tries;

    for (Tries = 0; Tries < 5000; Tries += 1) {
        EXPECT(Query(File, Report) == STATUS_SUCCESS);
        if (Report->Pending == 0 && Report->Booked == Report->Distributed) {
            return TRUE;
        }
        Sleep(1);
    }
    return FALSE;
}

/* Waits (up to 5 s) for the timer to have ticked Count more times. */
static VOID
WaitTicks(PFILE_OBJECT File, ULONG64 Count, TICKER_REPORT *Report)
{
    ULONG64 From;
    ULONG Tries;

    EXPECT(Query(File, Report) == STATUS_SUCCESS);
    From = Report->Ticks;
    for (Tries = 0; Tries < 5000 && Report->Ticks < From + Count; Tries += 1) {
        Sleep(1);
        EXPECT(Query(File, Report) == STATUS_SUCCESS);
    }
    EXPECT(Report->Ticks >= From + Count);
}

static FILE_OBJECT Files[8];

/* --- 1. the setting, the listeners, cleanup and close: exact counts ----- */

static VOID
TestCountsAndSteps(VOID)
{
    TICKER_REPORT Before;
    TICKER_REPORT After;
    TICKER_REPORT Report;
    TICKER_REPORT Mine[3];
    TK_FINAL Final;
    ULONG64 UnheardBefore;
    ULONG64 Requests = 0;
    ULONG Previous;
    ULONG Index;

    Start();
    for (Index = 0; Index < 3; Index += 1) {
        EXPECT(Create(&Files[Index]) == STATUS_SUCCESS);
    }
    /* Nobody listens yet: pause and drain, so what follows is exact. */
    EXPECT(SetStep(&Files[0], 0, &Previous) == STATUS_SUCCESS);
    EXPECT(Previous == TICKER_INITIAL_STEP);
    EXPECT(WaitDrained(&Files[0], &Report));
    UnheardBefore = Report.Unheard;
    EXPECT(Report.Delivered == 0 && Report.Booked == UnheardBefore);
    EXPECT(Report.Handles == 3);

    EXPECT(Listen(&Files[0], 1) == STATUS_SUCCESS);
    EXPECT(Listen(&Files[1], 1) == STATUS_SUCCESS);
    EXPECT(Listen(&Files[2], 0) == STATUS_SUCCESS);

    /* The DPC reads the new step: exactly 3 units per tick from here. */
    EXPECT(SetStep(&Files[2], 3, &Previous) == STATUS_SUCCESS);
    EXPECT(Previous == 0);
    EXPECT(Query(&Files[2], &Before) == STATUS_SUCCESS);
    WaitTicks(&Files[2], 10, &After);
    EXPECT(After.Ticks > Before.Ticks);
    EXPECT(After.Generated - Before.Generated == 3 * (After.Ticks - Before.Ticks));
    EXPECT(After.Step == 3 && After.StepChanges == 2);

    /* Paused again: nothing more is generated, and everything is booked,
       to both listeners alike, none to the handle that does not listen. */
    EXPECT(SetStep(&Files[2], 0, NULL) == STATUS_SUCCESS);
    EXPECT(WaitDrained(&Files[2], &Report));
    WaitTicks(&Files[2], 3, &After);
    EXPECT(After.Generated == Report.Generated);
    for (Index = 0; Index < 3; Index += 1) {
        EXPECT(Query(&Files[Index], &Mine[Index]) == STATUS_SUCCESS);
    }
    EXPECT(Mine[0].Listening == 1 && Mine[2].Listening == 0);
    EXPECT(Mine[0].HandleHeard == Report.Generated - UnheardBefore);
    EXPECT(Mine[0].HandleHeard > 0);
    EXPECT(Mine[1].HandleHeard == Mine[0].HandleHeard);
    EXPECT(Mine[2].HandleHeard == 0);
    EXPECT(Mine[2].Delivered == 2 * Mine[0].HandleHeard);
    EXPECT(Mine[2].Unheard == UnheardBefore);

    /* Handle 0: cleanup, then close. Handle 1: close only (Wine 8's way).
       Handle 2: left open, for the unload. */
    EXPECT(Cleanup(&Files[0]) == STATUS_SUCCESS);
    EXPECT(Query(&Files[0], &Report) == STATUS_SUCCESS);   /* a late IRP on it */
    EXPECT(Report.HandleHeard == 0 && Report.Handles == 2);
    EXPECT(Report.HeardByClosed == Mine[0].HandleHeard);
    EXPECT(Close(&Files[0]) == STATUS_SUCCESS);
    EXPECT(Close(&Files[1]) == STATUS_SUCCESS);
    EXPECT(Query(&Files[2], &Report) == STATUS_SUCCESS);
    EXPECT(Report.Handles == 1 && Report.HeardByClosed == 2 * Mine[0].HandleHeard);
    /* Bad requests are still completed, once, and counted. */
    EXPECT(Send(IRP_MJ_DEVICE_CONTROL, IOCTL_TICKER_QUERY, &Files[2], &Report, 0, 4, NULL) ==
           STATUS_BUFFER_TOO_SMALL);
    EXPECT(Send(IRP_MJ_DEVICE_CONTROL, 0x12345, &Files[2], NULL, 0, 0, NULL) ==
           STATUS_INVALID_DEVICE_REQUEST);
    EXPECT(Query(&Files[2], &Report) == STATUS_SUCCESS);
    Requests = Report.Requests;
    EXPECT(Report.PoolBlocksOutstanding > 0);

    Stop(&Final);
    EXPECT(Final.Requests == Requests);
    EXPECT(Final.Opened == 3 && Final.CleanedUp == 1 && Final.ClosedWithoutCleanup == 1);
    EXPECT(Final.HandlesLeft == 1);
    EXPECT(Final.Delivered == 2 * Mine[0].HandleHeard);
    EXPECT(Final.Ticks >= After.Ticks);
    EXPECT(ReadShared(&WorkQueued) >= 1);
    /* After the stop, every IRP is refused but cleanup and close. */
    EXPECT(Create(&Files[3]) == STATUS_DEVICE_NOT_READY);
    EXPECT(Query(&Files[2], &Report) == STATUS_DEVICE_NOT_READY);
    EXPECT(Close(&Files[2]) == STATUS_SUCCESS);
}

/* --- 2. a DPC on the thread that holds a lock of the core ---------------- */

static volatile LONG DpcTicks;

static VOID
TickFromDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    TkCoreTick();           /* DISPATCH_LEVEL, as the interrupted thread */
    InterlockedIncrement(&DpcTicks);
}

static VOID
TestDpcWhileHoldingLocks(VOID)
{
    PWDKM_RESOURCE HandlesLock;
    PWDKM_SPIN_LOCK CountersLock;
    TK_HANDLES *Handles;
    TK_COUNTERS *Counters;
    TICKER_REPORT Report;
    TK_FINAL Final;
    ULONG64 Ticks;
    KIRQL OldIrql;

    Start();
    EXPECT(Create(&Files[4]) == STATUS_SUCCESS);
    EXPECT(Listen(&Files[4], 1) == STATUS_SUCCESS);

    /* The work item's ERESOURCE does not mask DPCs: the tick runs at once,
       on this thread, and takes nothing this thread holds. */
    EXPECT(WDKM_GRT_GET_RESOURCE(TK_HANDLES_NAME, TK_HANDLES, &HandlesLock) == STATUS_SUCCESS);
    EXPECT(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(HandlesLock, &Handles) == STATUS_SUCCESS);
    DpcTicks = 0;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, TickFromDpc, NULL);
    EXPECT(DpcTicks == 1);
    (VOID)WdkmResourceRelease(HandlesLock);
    (VOID)WdkmGrtDereference(HandlesLock);

    /* The counters' spin lock does mask it: the tick waits for the
       release, and then counts. */
    EXPECT(WDKM_GRT_GET_SPIN_LOCK(TK_COUNTERS_NAME, TK_COUNTERS, &CountersLock) ==
           STATUS_SUCCESS);
    EXPECT(WDKM_SPIN_LOCK_ACQUIRE(CountersLock, &OldIrql, &Counters) == STATUS_SUCCESS);
    Ticks = Counters->Ticks;
    DpcTicks = 0;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, TickFromDpc, NULL);
    EXPECT(DpcTicks == 0);
    EXPECT(Counters->Ticks == Ticks);
    (VOID)WdkmSpinLockRelease(CountersLock, OldIrql);
    EXPECT(DpcTicks == 1);
    (VOID)WdkmGrtDereference(CountersLock);

    EXPECT(SetStep(&Files[4], 0, NULL) == STATUS_SUCCESS);
    EXPECT(WaitDrained(&Files[4], &Report));
    EXPECT(Query(&Files[4], &Report) == STATUS_SUCCESS);
    /* The only listener heard every unit but those of ticks before it
       listened. */
    EXPECT(Report.HandleHeard == Report.Delivered);
    EXPECT(Report.Delivered + Report.Unheard == Report.Generated);
    Stop(&Final);
    EXPECT(Final.HandlesLeft == 1 && Final.Heard == Report.Delivered);
}

/* --- 3. the unload with requests, the DPC and a slow work item in flight - */

#define STRESS_THREADS 4
#define STRESS_MIN     60       /* requests each thread sends before the stop may begin */
#define STRESS_MAX     1000000  /* a bound, in case the stop never comes */

typedef struct _STRESS {
    PFILE_OBJECT File;
    ULONG Index;
    LONG Accepted;              /* IRPs that got past the stop's rundown */
    LONG Refused;               /* STATUS_DEVICE_NOT_READY: the stop had begun */
    LONG Other;                 /* any other failure */
    volatile LONG Sent;
} STRESS;

static STRESS Stress[STRESS_THREADS];

static VOID
Injected(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    if (Kind == WdkmHostInterruptDpc) {
        TkCoreTick();       /* a tick wherever the thread is (masked under spin locks) */
    }
}

static VOID
Count(STRESS *Mine, NTSTATUS Status, BOOLEAN Ioctl)
{
    if (Status == STATUS_DEVICE_NOT_READY) {
        Mine->Refused += 1;
    } else if (Status == STATUS_SUCCESS) {
        if (Ioctl) {
            Mine->Accepted += 1;
        }
    } else {
        Mine->Other += 1;
    }
}

static VOID
StressThread(PVOID Context)
{
    STRESS *Mine = (STRESS *)Context;
    TICKER_REPORT Report;
    ULONG Index;

    Count(Mine, Create(Mine->File), FALSE);
    for (Index = 0; Index < STRESS_MAX && Mine->Refused == 0; Index += 1) {
        switch ((Index + Mine->Index) % 4) {
        case 0:
            Count(Mine, SetStep(Mine->File, (Index + Mine->Index) % 5, NULL), TRUE);
            break;
        case 1:
            Count(Mine, Listen(Mine->File, Index % 3 != 0), TRUE);
            break;
        default:
            Count(Mine, Query(Mine->File, &Report), TRUE);
            break;
        }
        InterlockedIncrement(&Mine->Sent);
        if (Index % 50 == 49) {
            Sleep(1);       /* leave the timer's DPC thread a processor */
        }
    }
    /* Refused from the stop on; cleanup and close still succeed. */
    EXPECT(Cleanup(Mine->File) == STATUS_SUCCESS);
    EXPECT(Close(Mine->File) == STATUS_SUCCESS);
}

static VOID
TestStopWithEverythingInFlight(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    PVOID Threads[STRESS_THREADS];
    TK_FINAL Final;
    LONG Accepted = 0;
    ULONG Index;
    ULONG Tries;

    InterlockedExchange(&WorkerDelayMs, 20);   /* a work item is queued or running at the stop */
    Start();
    RtlZeroMemory(&Settings, sizeof(Settings));
    Settings.Seed = 23;
    Settings.MeanIntervalMicroseconds = 200;
    Settings.DpcWeight = 3;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 100;
    Settings.Routine = Injected;
    WdkmHostInterruptsStart(&Settings);
    for (Index = 0; Index < STRESS_THREADS; Index += 1) {
        HANDLE Handle;

        RtlZeroMemory(&Stress[Index], sizeof(Stress[Index]));
        Stress[Index].File = &Files[Index];
        Stress[Index].Index = Index;
        Threads[Index] = NULL;
        if (PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, StressThread,
                                 &Stress[Index]) == STATUS_SUCCESS) {
            (VOID)ObReferenceObjectByHandle(Handle, SYNCHRONIZE, NULL, KernelMode,
                                            &Threads[Index], NULL);
            (VOID)ZwClose(Handle);
        }
    }
    /* Every thread well under way, then the unload, requests in flight. */
    for (Index = 0; Index < STRESS_THREADS; Index += 1) {
        for (Tries = 0; Tries < 10000 && ReadShared(&Stress[Index].Sent) < STRESS_MIN; Tries += 1) {
            Sleep(1);
        }
        EXPECT(ReadShared(&Stress[Index].Sent) >= STRESS_MIN);
    }
    /* ... and the timer with a few work items behind it. */
    for (Tries = 0; Tries < 10000 && ReadShared(&WorkQueued) < 3; Tries += 1) {
        Sleep(1);
    }
    EXPECT(ReadShared(&WorkQueued) >= 3);
    EXPECT(TkCoreStop(&Final) == STATUS_SUCCESS);
    for (Index = 0; Index < STRESS_THREADS; Index += 1) {
        EXPECT(Threads[Index] != NULL);
        if (Threads[Index] != NULL) {
            (VOID)KeWaitForSingleObject(Threads[Index], Executive, KernelMode, FALSE, NULL);
            ObDereferenceObject(Threads[Index]);
        }
    }
    WdkmHostInterruptsStop();
    InterlockedExchange(&WorkerDelayMs, 0);
    for (Index = 0; Index < STRESS_THREADS; Index += 1) {
        EXPECT(Stress[Index].Other == 0);
        EXPECT(Stress[Index].Refused >= 1);     /* each ran into the stop */
        Accepted += Stress[Index].Accepted;
    }
    /* Every IOCTL the driver accepted, it counted; the rest it refused. */
    EXPECT(Final.Requests == (ULONG64)Accepted);
    EXPECT(Final.Opened == STRESS_THREADS);
    EXPECT(Final.CleanedUp == 0 && Final.HandlesLeft == STRESS_THREADS);
    EXPECT(Final.Generated > 0 && Final.Pending == 0);
    EXPECT(Final.Distributed == Final.Generated && Final.Booked == Final.Generated);
    EXPECT(Final.Heard == Final.Delivered);
    /* The worker thread's end and the checks Stop() makes (the core's stop
       ran already: a second one finds nothing). */
    printf("ticker: %ld IOCTLs accepted, %llu ticks, %llu units generated and booked, "
           "%ld work items queued, under injection\n",
           (long)Accepted, (unsigned long long)Final.Ticks, (unsigned long long)Final.Generated,
           (long)ReadShared(&WorkQueued));
    EXPECT(TkCoreStop(&Final) == STATUS_WDKM_NOT_INITIALIZED);
    InterlockedExchange(&WorkerQuit, 1);
    (VOID)KeSetEvent(&WorkWanted, IO_NO_INCREMENT, FALSE);
    (VOID)KeWaitForSingleObject(WorkerThread, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(WorkerThread);
    EXPECT(WdkmHostPoolOutstanding(TICKER_TAG, NULL) == 0);
    EXPECT(WdkmHostPoolOutstanding(WDKM_POOL_TAG, NULL) == 0);
}

/* --- 4. no pool for a handle's context ----------------------------------- */

static VOID
TestCreateWithoutPool(VOID)
{
    TICKER_REPORT Report;
    TK_FINAL Final;

    Start();
    WdkmHostPoolFailAt(0);         /* the next allocation: the context */
    EXPECT(Create(&Files[5]) == STATUS_INSUFFICIENT_RESOURCES);
    WdkmHostPoolFailAt(-1);
    /* The I/O manager would not have opened it; a stray IRP still ends. */
    EXPECT(Listen(&Files[5], 1) == STATUS_INVALID_HANDLE);
    EXPECT(Query(&Files[5], &Report) == STATUS_SUCCESS);
    EXPECT(Report.Handles == 0);
    Stop(&Final);
    EXPECT(Final.Opened == 0 && Final.HandlesLeft == 0);
}

int
main(void)
{
    WDKM_POOL_STATISTICS Pool;

    TestCountsAndSteps();
    TestDpcWhileHoldingLocks();
    TestStopWithEverythingInFlight();
    TestCreateWithoutPool();

    EXPECT(ReadShared(&IrpsNotCompletedOnce) == 0);
    EXPECT(ReadShared(&BrokenInvariants) == 0);
    WdkmQueryPoolStatistics(&Pool);
    EXPECT(Pool.OutstandingBlocks == 0);
    EXPECT(WdkmHostBugcheckCount() == 0);
    EXPECT(WdkmHostThreadHeldLockCount() == 0);
    EXPECT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    printf("%s: %d failure(s)\n", Failures == 0 ? "PASS" : "FAIL", Failures);
    return Failures == 0 ? 0 : 1;
}
