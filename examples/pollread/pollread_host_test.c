/*
 * pollread_host_test.c - the polled-read core on the host emulation
 * (docs/host-testing.md): the emulation's IRPs, its timer DPC thread, a
 * system thread standing in for the work item, and DPCs and kernel APCs
 * injected into the threads that hold the core's locks.
 *
 * Run: build/host/examples/pollread/pollread_host_test (make host).
 */
#include <stdio.h>
#include <stdlib.h>

#include <wdkm_host.h>

#include "pollread_core.h"

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
static PVOID WorkerThread;
static volatile LONG WorkQueued;
/* Set by a test: the next QueueWork, from inside the stop's endings, runs
   StopProbe once (a read arriving while the unload is under way). */
static volatile LONG StopProbeArmed;
static VOID StopProbe(VOID);

/* <= DISPATCH_LEVEL, maybe inside an injected DPC: only sets an event. */
static VOID
TestQueueWork(VOID)
{
    if (InterlockedExchange(&StopProbeArmed, 0) != 0) {
        StopProbe();
    }
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
        PrCoreWork();
    }
}

static VOID
Start(VOID)
{
    HANDLE Handle;

    KeInitializeEvent(&WorkWanted, SynchronizationEvent, FALSE);
    WorkerQuit = 0;
    EXPECT(PrCoreStart(TestQueueWork) == STATUS_SUCCESS);
    EXPECT(PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, WorkerRoutine,
                                NULL) == STATUS_SUCCESS);
    EXPECT(ObReferenceObjectByHandle(Handle, SYNCHRONIZE, NULL, KernelMode, &WorkerThread,
                                     NULL) == STATUS_SUCCESS);
    (VOID)ZwClose(Handle);
}

/* The core's stop (it waits for the work item), then the worker's end. */
static VOID
Stop(PR_FINAL *Final)
{
    EXPECT(PrCoreStop(Final) == STATUS_SUCCESS);
    InterlockedExchange(&WorkerQuit, 1);
    (VOID)KeSetEvent(&WorkWanted, IO_NO_INCREMENT, FALSE);
    (VOID)KeWaitForSingleObject(WorkerThread, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(WorkerThread);
    EXPECT(WdkmHostPoolOutstanding(POLLREAD_TAG, NULL) == 0);
    EXPECT(WdkmHostPoolOutstanding(WDKM_POOL_TAG, NULL) == 0);
}

/* --- requests ----------------------------------------------------------- */

typedef struct _READ {
    PIRP Irp;
    POLLREAD_SAMPLE Sample;
} READ;

static NTSTATUS
Send(READ *Read, PFILE_OBJECT FileObject)
{
    NTSTATUS Status;

    Read->Irp = WdkmHostIrpAllocate(IRP_MJ_DEVICE_CONTROL, IOCTL_POLLREAD_READ, FileObject);
    Read->Irp->AssociatedIrp.SystemBuffer = &Read->Sample;
    IoGetCurrentIrpStackLocation(Read->Irp)->Parameters.DeviceIoControl.OutputBufferLength =
        sizeof(Read->Sample);
    Status = PrCoreRead(Read->Irp);
    EXPECT(Status == STATUS_PENDING);
    return Status;
}

static VOID
Sleep(ULONG Milliseconds)
{
    LARGE_INTEGER Interval;

    Interval.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Milliseconds);
    (VOID)KeDelayExecutionThread(KernelMode, FALSE, &Interval);
}

/* Waits up to 5 s for Read to be completed; TRUE if it was, once. */
static BOOLEAN
WaitEnded(const READ *Read)
{
    ULONG Tries;

    for (Tries = 0; Tries < 5000 && WdkmHostIrpCompletions(Read->Irp) == 0; Tries += 1) {
        Sleep(1);
    }
    return WdkmHostIrpCompletions(Read->Irp) == 1;
}

/* Waits up to 5 s for the work item to have booked Count endings. */
static VOID
WaitBooked(PFILE_OBJECT FileObject, ULONG64 Count, POLLREAD_REPORT *Report)
{
    ULONG Tries;

    for (Tries = 0; Tries < 5000; Tries += 1) {
        EXPECT(PrCoreQuery(FileObject, Report) == STATUS_SUCCESS);
        if (Report->Credited >= Count) {
            return;
        }
        Sleep(1);
    }
}

static FILE_OBJECT Files[4];

/* --- 1. exact counts, per handle, with cancellations --------------------- */

#define BASIC_READS 30

static VOID
TestCountsPerHandle(VOID)
{
    static READ Reads[BASIC_READS];
    ULONG64 Sampled[2] = { 0, 0 };
    ULONG64 Cancelled[2] = { 0, 0 };
    ULONG64 LastSequence = 0;
    POLLREAD_REPORT Report;
    PR_FINAL Final;
    ULONG Index;

    Start();
    EXPECT(PrCoreOpen(&Files[0]) == STATUS_SUCCESS);
    EXPECT(PrCoreOpen(&Files[1]) == STATUS_SUCCESS);
    for (Index = 0; Index < BASIC_READS; Index += 1) {
        (VOID)Send(&Reads[Index], &Files[Index % 2]);
        if (Index % 5 == 4) {
            (VOID)IoCancelIrp(Reads[Index].Irp);    /* queued, current or done: all fine */
        }
    }
    for (Index = 0; Index < BASIC_READS; Index += 1) {
        PIRP Irp = Reads[Index].Irp;

        EXPECT(WaitEnded(&Reads[Index]));
        if (Irp->IoStatus.Status == STATUS_SUCCESS) {
            Sampled[Index % 2] += 1;
            /* One device: samples are handed out in request order. */
            EXPECT(Reads[Index].Sample.Sequence > LastSequence);
            LastSequence = Reads[Index].Sample.Sequence;
        } else {
            EXPECT(Irp->IoStatus.Status == STATUS_CANCELLED);
            Cancelled[Index % 2] += 1;
        }
    }
    EXPECT(Cancelled[0] + Cancelled[1] >= 1);   /* the first cancel found it queued */
    WaitBooked(&Files[0], BASIC_READS, &Report);
    EXPECT(Report.Reads == BASIC_READS);
    EXPECT(Report.Sampled == Sampled[0] + Sampled[1]);
    EXPECT(Report.Cancelled == Cancelled[0] + Cancelled[1]);
    EXPECT(Report.Credited == BASIC_READS);
    EXPECT(Report.OpenSampled == Sampled[0] && Report.OpenCancelled == Cancelled[0]);
    EXPECT(PrCoreQuery(&Files[1], &Report) == STATUS_SUCCESS);
    EXPECT(Report.OpenSampled == Sampled[1] && Report.OpenCancelled == Cancelled[1]);
    EXPECT(Report.Opens == 2);
    EXPECT(PrCoreClose(&Files[0]) == STATUS_SUCCESS);
    Stop(&Final);
    EXPECT(Final.Reads == BASIC_READS && Final.Credited == BASIC_READS);
    EXPECT(Final.OpensLeft == 1);               /* Files[1] never closed */
    for (Index = 0; Index < BASIC_READS; Index += 1) {
        WdkmHostIrpFree(Reads[Index].Irp);
    }
}

/* --- 2. a DPC on the thread that holds the opens' ERESOURCE -------------- */

static volatile LONG DpcRan;
static LONG DpcCompletions;

typedef struct _DPC_CONTEXT {
    READ *Reads;
    ULONG Count;
} DPC_CONTEXT;

static VOID
CleanupFromDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    DPC_CONTEXT *Dpc = (DPC_CONTEXT *)Context;
    ULONG Index;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    /* DISPATCH_LEVEL, as the interrupted thread: the cleanup path takes
       the device spin lock, the queue's and the credits' queued spin
       lock, never the ERESOURCE the thread holds. */
    PrCoreCleanup(&Files[2]);
    DpcCompletions = 0;
    for (Index = 0; Index < Dpc->Count; Index += 1) {
        DpcCompletions += WdkmHostIrpCompletions(Dpc->Reads[Index].Irp);
    }
    InterlockedExchange(&DpcRan, 1);
}

static VOID
TestDpcWhileHoldingOpens(VOID)
{
    static READ Reads[3];
    DPC_CONTEXT Dpc = { Reads, 3 };
    PWDKM_RESOURCE Opens;
    POLLREAD_REPORT Report;
    PR_FINAL Final;
    PR_OPENS *Value;
    ULONG Index;

    Start();
    EXPECT(PrCoreOpen(&Files[2]) == STATUS_SUCCESS);
    EXPECT(PrCoreHold() == STATUS_SUCCESS);     /* nothing is sampled from now on */
    for (Index = 0; Index < 3; Index += 1) {
        (VOID)Send(&Reads[Index], &Files[2]);   /* one current, two queued */
    }
    /* Hold the opens as the work item does, and let a DPC arrive. */
    EXPECT(WDKM_GRT_GET_RESOURCE(PR_OPENS_NAME, PR_OPENS, &Opens) == STATUS_SUCCESS);
    EXPECT(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Opens, &Value) == STATUS_SUCCESS);
    DpcRan = 0;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, CleanupFromDpc, &Dpc);
    EXPECT(DpcRan == 1);                        /* not masked by an ERESOURCE */
    EXPECT(DpcCompletions == 3);                /* every read of the handle ended in it */
    EXPECT(WdkmResourceIsOwnedExclusive(Opens));
    (VOID)WdkmResourceRelease(Opens);
    (VOID)WdkmGrtDereference(Opens);
    for (Index = 0; Index < 3; Index += 1) {
        EXPECT(Reads[Index].Irp->IoStatus.Status == STATUS_CANCELLED);
    }
    WaitBooked(&Files[2], 3, &Report);
    EXPECT(Report.OpenCancelled == 3 && Report.Cancelled == 3);
    Stop(&Final);
    for (Index = 0; Index < 3; Index += 1) {
        WdkmHostIrpFree(Reads[Index].Irp);
    }
}

/* --- 3. a DPC is masked while the thread holds the device spin lock ------ */

static VOID
TestDpcMaskedByDeviceLock(VOID)
{
    static READ Reads[2];
    DPC_CONTEXT Dpc = { Reads, 2 };
    PWDKM_SPIN_LOCK Device;
    PR_FINAL Final;
    PR_DEVICE *Value;
    KIRQL OldIrql;

    Start();
    EXPECT(PrCoreOpen(&Files[2]) == STATUS_SUCCESS);
    EXPECT(PrCoreHold() == STATUS_SUCCESS);
    (VOID)Send(&Reads[0], &Files[2]);
    (VOID)Send(&Reads[1], &Files[2]);
    EXPECT(WDKM_GRT_GET_SPIN_LOCK(PR_DEVICE_NAME, PR_DEVICE, &Device) == STATUS_SUCCESS);
    EXPECT(WDKM_SPIN_LOCK_ACQUIRE(Device, &OldIrql, &Value) == STATUS_SUCCESS);
    DpcRan = 0;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, CleanupFromDpc, &Dpc);
    /* At DISPATCH_LEVEL: the DPC waits, as NT's would on this processor. */
    EXPECT(DpcRan == 0);
    (VOID)WdkmSpinLockRelease(Device, OldIrql);
    EXPECT(DpcRan == 1);                        /* ran at the release, took the lock */
    EXPECT(DpcCompletions == 2);
    (VOID)WdkmGrtDereference(Device);
    EXPECT(WaitEnded(&Reads[0]) && WaitEnded(&Reads[1]));
    Stop(&Final);
    EXPECT(Final.Cancelled == 2 && Final.Sampled == 0);
    WdkmHostIrpFree(Reads[0].Irp);
    WdkmHostIrpFree(Reads[1].Irp);
}

/* --- 4. unload with requests in flight ----------------------------------- */

static VOID
TestStopWithReadsInFlight(VOID)
{
    static READ Reads[5];
    PR_FINAL Final;
    ULONG Index;

    Start();
    EXPECT(PrCoreOpen(&Files[3]) == STATUS_SUCCESS);
    EXPECT(PrCoreHold() == STATUS_SUCCESS);
    for (Index = 0; Index < 5; Index += 1) {
        (VOID)Send(&Reads[Index], &Files[3]);
    }
    Stop(&Final);                               /* current + 4 queued end here */
    for (Index = 0; Index < 5; Index += 1) {
        EXPECT(WdkmHostIrpCompletions(Reads[Index].Irp) == 1);
        EXPECT(Reads[Index].Irp->IoStatus.Status == STATUS_CANCELLED);
        WdkmHostIrpFree(Reads[Index].Irp);
    }
    EXPECT(Final.Reads == 5 && Final.Cancelled == 5 && Final.Credited == 5);
    EXPECT(Final.OpensLeft == 1);
}

/* --- 4b. a read once the unload has begun ------------------------------- */

static PIRP ProbeIrp;
static NTSTATUS ProbeStatus;
static NTSTATUS ProbeQuery;
static POLLREAD_SAMPLE ProbeSample;
static POLLREAD_REPORT ProbeReport;

/* From the stop's first ending (PASSIVE_LEVEL, no lock of the core held):
   the reads' rundown has been waited for, so a new read is refused and
   stays the caller's. */
static VOID
StopProbe(VOID)
{
    ProbeIrp = WdkmHostIrpAllocate(IRP_MJ_DEVICE_CONTROL, IOCTL_POLLREAD_READ, &Files[3]);
    ProbeIrp->AssociatedIrp.SystemBuffer = &ProbeSample;
    IoGetCurrentIrpStackLocation(ProbeIrp)->Parameters.DeviceIoControl.OutputBufferLength =
        sizeof(ProbeSample);
    ProbeStatus = PrCoreRead(ProbeIrp);
    ProbeQuery = PrCoreQuery(NULL, &ProbeReport);
}

static VOID
TestReadDuringStop(VOID)
{
    READ Read;
    PR_FINAL Final;

    Start();
    EXPECT(PrCoreHold() == STATUS_SUCCESS);
    (VOID)Send(&Read, &Files[3]);               /* the device's current */
    InterlockedExchange(&StopProbeArmed, 1);
    Stop(&Final);
    EXPECT(ProbeIrp != NULL);
    EXPECT(ProbeStatus == STATUS_DEVICE_NOT_READY);
    EXPECT(WdkmHostIrpCompletions(ProbeIrp) == 0);     /* still the caller's */
    EXPECT(ProbeQuery == STATUS_SUCCESS && ProbeReport.Refused == 1 && ProbeReport.Reads == 1);
    EXPECT(WdkmHostIrpCompletions(Read.Irp) == 1);
    EXPECT(Read.Irp->IoStatus.Status == STATUS_CANCELLED);
    EXPECT(Final.Reads == 1 && Final.Cancelled == 1 && Final.Credited == 1);
    WdkmHostIrpFree(Read.Irp);
    if (ProbeIrp != NULL) {
        WdkmHostIrpFree(ProbeIrp);
    }
}

/* --- 5. four threads, random DPCs and APCs ------------------------------- */

#define STRESS_THREADS 4
#define STRESS_READS   25

static volatile LONG InterruptQueries;
static volatile LONG InterruptQueryFailures;

/* Every injected event uses the core: a DPC polls the device (as the timer
   DPC does), a special kernel APC reads the counts (ERESOURCE shared, even
   over the thread's own exclusive hold, and the device spin lock). */
static VOID
InjectedRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    POLLREAD_REPORT Report;

    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    if (Kind == WdkmHostInterruptDpc) {
        PrCorePoll();
    } else if (Kind == WdkmHostInterruptSpecialApc) {
        InterlockedIncrement(&InterruptQueries);
        if (PrCoreQuery(NULL, &Report) != STATUS_SUCCESS) {
            InterlockedIncrement(&InterruptQueryFailures);
        }
    }
}

static volatile LONG StressSampled;
static volatile LONG StressCancelled;
static volatile LONG StressOther;

static VOID
StressThread(PVOID Context)
{
    PFILE_OBJECT File = (PFILE_OBJECT)Context;
    static READ Reads[STRESS_THREADS][STRESS_READS];
    READ *Mine = Reads[File - Files];
    ULONG Index;

    if (PrCoreOpen(File) != STATUS_SUCCESS) {
        InterlockedIncrement(&StressOther);
        return;
    }
    for (Index = 0; Index < STRESS_READS; Index += 1) {
        READ *Read = &Mine[Index];

        if (Send(Read, File) != STATUS_PENDING) {
            InterlockedIncrement(&StressOther);
            continue;
        }
        if (Index % 6 == 5) {
            (VOID)IoCancelIrp(Read->Irp);
        }
        if (!WaitEnded(Read)) {
            InterlockedIncrement(&StressOther);
            continue;
        }
        if (Read->Irp->IoStatus.Status == STATUS_SUCCESS) {
            InterlockedIncrement(&StressSampled);
        } else if (Read->Irp->IoStatus.Status == STATUS_CANCELLED) {
            InterlockedIncrement(&StressCancelled);
        } else {
            InterlockedIncrement(&StressOther);
        }
        WdkmHostIrpFree(Read->Irp);
    }
    if (PrCoreClose(File) != STATUS_SUCCESS) {
        InterlockedIncrement(&StressOther);
    }
}

static VOID
TestThreadsUnderInjection(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    PVOID Threads[STRESS_THREADS];
    POLLREAD_REPORT Report;
    PR_FINAL Final;
    ULONG Index;

    Start();
    RtlZeroMemory(&Settings, sizeof(Settings));
    Settings.Seed = 11;
    Settings.MeanIntervalMicroseconds = 200;
    Settings.DpcWeight = 2;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 2;
    Settings.SuspendMaxMicroseconds = 100;
    Settings.Routine = InjectedRoutine;
    WdkmHostInterruptsStart(&Settings);
    for (Index = 0; Index < STRESS_THREADS; Index += 1) {
        HANDLE Handle;

        Threads[Index] = NULL;
        if (PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, StressThread,
                                 &Files[Index]) == STATUS_SUCCESS) {
            (VOID)ObReferenceObjectByHandle(Handle, SYNCHRONIZE, NULL, KernelMode,
                                            &Threads[Index], NULL);
            (VOID)ZwClose(Handle);
        }
    }
    for (Index = 0; Index < STRESS_THREADS; Index += 1) {
        EXPECT(Threads[Index] != NULL);
        if (Threads[Index] != NULL) {
            (VOID)KeWaitForSingleObject(Threads[Index], Executive, KernelMode, FALSE, NULL);
            ObDereferenceObject(Threads[Index]);
        }
    }
    WdkmHostInterruptsStop();
    EXPECT(StressOther == 0);
    EXPECT(StressSampled + StressCancelled == STRESS_THREADS * STRESS_READS);
    EXPECT(InterruptQueryFailures == 0);
    WaitBooked(NULL, STRESS_THREADS * STRESS_READS, &Report);
    EXPECT(Report.Reads == STRESS_THREADS * STRESS_READS);
    EXPECT(Report.Sampled == (ULONG64)StressSampled);
    EXPECT(Report.Cancelled == (ULONG64)StressCancelled);
    EXPECT(Report.Opens == 0);
    Stop(&Final);
    EXPECT(Final.Credited == STRESS_THREADS * STRESS_READS);
    printf("pollread: %ld sampled, %ld cancelled under injection; %ld queries from APCs\n",
           (long)StressSampled, (long)StressCancelled, (long)InterruptQueries);
}

int
main(void)
{
    WDKM_POOL_STATISTICS Pool;

    TestCountsPerHandle();
    TestDpcWhileHoldingOpens();
    TestDpcMaskedByDeviceLock();
    TestStopWithReadsInFlight();
    TestReadDuringStop();
    TestThreadsUnderInjection();

    WdkmQueryPoolStatistics(&Pool);
    EXPECT(Pool.OutstandingBlocks == 0);
    EXPECT(WdkmHostBugcheckCount() == 0);
    EXPECT(WdkmHostThreadHeldLockCount() == 0);
    EXPECT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    printf("%s: %d failure(s)\n", Failures == 0 ? "PASS" : "FAIL", Failures);
    return Failures == 0 ? 0 : 1;
}
