/*
 * threadq_host_test.c - the worker-thread core (threadq_core.c) on the
 * host emulation: jobs and their answers, a cancel routine that finds the
 * job queued, one that finds it current, one that loses the race to the
 * thread's completion (the IoCancelIrp half-way model below), cleanup
 * racing a handle's jobs, a close with no cleanup (Wine 8), the unload
 * with jobs in flight and a cancel routine still owed, and four threads
 * under random DPCs and kernel APCs whose DPCs cancel jobs.
 */
#define _POSIX_C_SOURCE 200809L   /* nanosleep: the test polls, at DISPATCH_LEVEL too */
#include <stdio.h>
#include <time.h>

#include <wdkm_host.h>

#include "threadq_core.h"

static int Failures;

/* Not a kernel wait: also usable holding the cancel spin lock. */
static VOID
SleepMs(ULONG Ms)
{
    struct timespec Time = { 0, (long)Ms * 1000000L };

    nanosleep(&Time, NULL);
}

#define EXPECT(Condition)                                                   \
    do {                                                                    \
        if (!(Condition)) {                                                 \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #Condition);     \
            Failures += 1;                                                  \
        }                                                                   \
    } while (0)

#define LONG_WORK_MS 20000      /* a job that only a cancel ends in time */

typedef struct _JOB {
    PIRP Irp;
    THREADQ_JOB Buffer;
} JOB;

static VOID
JobInit(JOB *Job, PFILE_OBJECT File, ULONG Value, ULONG WorkMs)
{
    PIO_STACK_LOCATION Stack;

    Job->Irp = WdkmHostIrpAllocate(IRP_MJ_DEVICE_CONTROL, IOCTL_THREADQ_JOB, File);
    Job->Buffer.Value = Value;
    Job->Buffer.WorkMs = WorkMs;
    Job->Buffer.Answer = 0;
    Job->Buffer.Sequence = 0;
    Job->Irp->AssociatedIrp.SystemBuffer = &Job->Buffer;
    Stack = IoGetCurrentIrpStackLocation(Job->Irp);
    Stack->Parameters.DeviceIoControl.InputBufferLength = sizeof(THREADQ_JOB);
    Stack->Parameters.DeviceIoControl.OutputBufferLength = sizeof(THREADQ_JOB);
}

static VOID
JobSubmit(JOB *Job, PFILE_OBJECT File, ULONG Value, ULONG WorkMs)
{
    JobInit(Job, File, Value, WorkMs);
    EXPECT(TqCoreSubmit(Job->Irp) == STATUS_PENDING);
}

/* Polls (the test thread is no kernel waiter here) up to Ms. */
static BOOLEAN
JobWait(const JOB *Job, ULONG Ms)
{
    ULONG Waited;

    for (Waited = 0; Waited < Ms && WdkmHostIrpCompletions(Job->Irp) == 0; Waited += 1) {
        SleepMs(1);
    }
    return WdkmHostIrpCompletions(Job->Irp) == 1;
}

static BOOLEAN
JobDone(const JOB *Job)
{
    return WdkmHostIrpCompletions(Job->Irp) == 1 && Job->Irp->IoStatus.Status == STATUS_SUCCESS &&
           Job->Irp->IoStatus.Information == sizeof(THREADQ_JOB) &&
           Job->Buffer.Answer == THREADQ_ANSWER(Job->Buffer.Value) && Job->Buffer.Sequence != 0;
}

static BOOLEAN
JobCancelled(const JOB *Job)
{
    return WdkmHostIrpCompletions(Job->Irp) == 1 &&
           Job->Irp->IoStatus.Status == STATUS_CANCELLED && Job->Irp->PendingReturned &&
           Job->Buffer.Answer == 0;
}

static VOID
JobFree(JOB *Job)
{
    WdkmHostIrpFree(Job->Irp);
    Job->Irp = NULL;
}

static THREADQ_REPORT
Query(PFILE_OBJECT File)
{
    THREADQ_REPORT Report;

    EXPECT(TqCoreQuery(File, &Report) == STATUS_SUCCESS);
    return Report;
}

/* Until the thread works on a job (its queue empty behind it). */
static VOID
WaitBusy(VOID)
{
    ULONG Waited;

    for (Waited = 0; Waited < 5000 && Query(NULL).Busy == 0; Waited += 1) {
        SleepMs(1);
    }
    EXPECT(Query(NULL).Busy == 1);
}

static VOID
Start(FILE_OBJECT *Files, ULONG Count)
{
    ULONG Index;

    EXPECT(TqCoreStart() == STATUS_SUCCESS);
    for (Index = 0; Index < Count; Index += 1) {
        Files[Index].Type = IO_TYPE_FILE;
        Files[Index].Size = (SHORT)sizeof(FILE_OBJECT);
        EXPECT(TqCoreOpen(&Files[Index]) == STATUS_SUCCESS);
    }
}

static VOID
Stop(TQ_FINAL *Final)
{
    WDKM_POOL_STATISTICS Pool;

    TqCoreStop(Final);
    EXPECT(Final->ThreadExit == STATUS_SUCCESS);
    EXPECT(Final->Destroy == STATUS_SUCCESS);
    EXPECT(Final->Drained == STATUS_SUCCESS);
    EXPECT(Final->QueueDestroy == STATUS_SUCCESS);
    EXPECT(Final->ReleaseRefused == 0);
    EXPECT(Final->Submitted == Final->Done + Final->Cancelled);
    WdkmQueryPoolStatistics(&Pool);
    EXPECT(Pool.OutstandingBlocks == 0);
}

/* Six jobs on two handles: each answered, in the order submitted. */
static VOID
TestJobsAnswered(VOID)
{
    FILE_OBJECT Files[2];
    JOB Jobs[6];
    THREADQ_REPORT Report;
    TQ_FINAL Final;
    ULONG Index;

    Start(Files, 2);
    for (Index = 0; Index < 6; Index += 1) {
        JobSubmit(&Jobs[Index], &Files[Index % 2], 100 + Index, 1);
    }
    for (Index = 0; Index < 6; Index += 1) {
        EXPECT(JobWait(&Jobs[Index], 5000));
        EXPECT(JobDone(&Jobs[Index]));
        EXPECT(Jobs[Index].Buffer.Sequence == Index + 1);     /* one thread, FIFO */
    }
    Report = Query(&Files[0]);
    EXPECT(Report.Submitted == 6 && Report.Done == 6 && Report.Cancelled == 0);
    EXPECT(Report.FileSubmitted == 3 && Report.FileDone == 3 && Report.FileCancelled == 0);
    EXPECT(Report.Opens == 2 && Report.Queued == 0);
    (VOID)TqCoreClose(&Files[0]);
    (VOID)TqCoreClose(&Files[1]);
    EXPECT(Query(NULL).Opens == 0);
    Stop(&Final);
    EXPECT(Final.Done == 6);
    for (Index = 0; Index < 6; Index += 1) {
        JobFree(&Jobs[Index]);
    }
}

/* A cancel routine that finds its job queued ends it at once; one that
   finds it the thread's marks it, and the thread ends it early. */
static VOID
TestCancelQueuedAndCurrent(VOID)
{
    FILE_OBJECT File;
    JOB Jobs[3];
    THREADQ_REPORT Report;
    TQ_FINAL Final;
    ULONG Index;

    Start(&File, 1);
    EXPECT(TqCorePause(TRUE) == STATUS_SUCCESS);
    JobSubmit(&Jobs[0], &File, 1, LONG_WORK_MS);
    JobSubmit(&Jobs[1], &File, 2, LONG_WORK_MS);
    JobSubmit(&Jobs[2], &File, 3, 1);
    EXPECT(IoCancelIrp(Jobs[1].Irp));
    EXPECT(JobCancelled(&Jobs[1]));                 /* by the routine, there and then */
    EXPECT(TqCorePause(FALSE) == STATUS_SUCCESS);
    WaitBusy();
    EXPECT(IoCancelIrp(Jobs[0].Irp));
    EXPECT(JobWait(&Jobs[0], 5000));                /* not LONG_WORK_MS */
    EXPECT(JobCancelled(&Jobs[0]));
    EXPECT(JobWait(&Jobs[2], 5000));
    EXPECT(JobDone(&Jobs[2]));
    Report = Query(&File);
    EXPECT(Report.CancelledQueued == 1 && Report.CancelledCurrent == 1);
    EXPECT(Report.HandedToCancel == 0);
    EXPECT(Report.FileCancelled == 2 && Report.FileDone == 1);
    (VOID)TqCoreClose(&File);
    Stop(&Final);
    for (Index = 0; Index < 3; Index += 1) {
        JobFree(&Jobs[Index]);
    }
}

/*
 * IoCancelIrp half-way: it holds the cancel spin lock, marks the IRP and
 * takes its routine (an interlocked exchange), and only then calls it.
 * Stopping between the two is what a processor taking an interrupt there
 * does; meanwhile the thread finishes the job, finds the routine gone and
 * must leave the IRP to it.
 */
static VOID
TestCancelRoutineLosesTheRace(VOID)
{
    FILE_OBJECT File;
    JOB Job;
    PDRIVER_CANCEL Routine;
    THREADQ_REPORT Report;
    TQ_FINAL Final;
    KIRQL Irql;
    ULONG Waited;

    Start(&File, 1);
    JobSubmit(&Job, &File, 7, 30);
    WaitBusy();
    IoAcquireCancelSpinLock(&Irql);
    Job.Irp->Cancel = TRUE;
    Routine = IoSetCancelRoutine(Job.Irp, NULL);
    EXPECT(Routine != NULL);
    for (Waited = 0; Waited < 5000 && Query(NULL).HandedToCancel == 0; Waited += 1) {
        SleepMs(1);                               /* the thread finishes meanwhile */
    }
    Report = Query(NULL);
    EXPECT(Report.HandedToCancel == 1 && Report.Busy == 0);
    EXPECT(WdkmHostIrpCompletions(Job.Irp) == 0);   /* left to the routine */
    Job.Irp->CancelIrql = Irql;
    if (Routine != NULL) {
        Routine(NULL, Job.Irp);                     /* releases the cancel spin lock */
    }
    EXPECT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    EXPECT(JobCancelled(&Job));
    Report = Query(&File);
    EXPECT(Report.CancelledCurrent == 1 && Report.FileCancelled == 1 && Report.Done == 0);
    (VOID)TqCoreClose(&File);
    Stop(&Final);
    JobFree(&Job);
}

/* IRP_MJ_CLEANUP of one handle while it has a job running and two queued,
   behind and before another handle's: its jobs end, the other's does not,
   and a job sent on it afterwards is refused. */
static VOID
TestCleanupRacesJobs(VOID)
{
    FILE_OBJECT Files[2];
    JOB Jobs[4];
    JOB Late;
    THREADQ_REPORT Report;
    TQ_FINAL Final;
    ULONG Index;

    Start(Files, 2);
    EXPECT(TqCorePause(TRUE) == STATUS_SUCCESS);
    JobSubmit(&Jobs[0], &Files[0], 1, LONG_WORK_MS);
    JobSubmit(&Jobs[1], &Files[0], 2, 1);
    JobSubmit(&Jobs[2], &Files[1], 3, 1);
    JobSubmit(&Jobs[3], &Files[0], 4, 1);
    EXPECT(TqCorePause(FALSE) == STATUS_SUCCESS);
    WaitBusy();
    EXPECT(TqCoreCleanup(&Files[0]) == 3);
    EXPECT(JobCancelled(&Jobs[1]) && JobCancelled(&Jobs[3]));   /* queued: at once */
    EXPECT(JobWait(&Jobs[0], 5000) && JobCancelled(&Jobs[0]));  /* running: aborted */
    EXPECT(JobWait(&Jobs[2], 5000) && JobDone(&Jobs[2]));
    JobInit(&Late, &Files[0], 5, 1);
    EXPECT(TqCoreSubmit(Late.Irp) == STATUS_FILE_CLOSED);
    EXPECT(WdkmHostIrpCompletions(Late.Irp) == 0 && !Late.Irp->PendingReturned);
    Report = Query(&Files[0]);
    EXPECT(Report.FileSubmitted == 3 && Report.FileCancelled == 3 && Report.Refused == 1);
    (VOID)TqCoreClose(&Files[0]);
    (VOID)TqCoreClose(&Files[1]);
    Stop(&Final);
    EXPECT(Final.Submitted == 4 && Final.Done == 1 && Final.Cancelled == 3);
    for (Index = 0; Index < 4; Index += 1) {
        JobFree(&Jobs[Index]);
    }
    JobFree(&Late);
}

/* Wine 8 sends IRP_MJ_CLOSE and no cleanup: the handle's context is
   unregistered while its job still holds a reference, and lives on until
   the job's completion drops it. */
static VOID
TestCloseWhileJobRuns(VOID)
{
    FILE_OBJECT File;
    JOB Job;
    THREADQ_REPORT Report;
    TQ_FINAL Final;

    Start(&File, 1);
    JobSubmit(&Job, &File, 9, LONG_WORK_MS);
    WaitBusy();
    EXPECT(TqCoreClose(&File) == 1);
    EXPECT(TqCoreQuery(&File, &Report) == STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT(Report.Opens == 0);
    EXPECT(JobWait(&Job, 5000) && JobCancelled(&Job));
    Stop(&Final);
    EXPECT(Final.Cancelled == 1);
    JobFree(&Job);
}

static volatile LONG StopReturned;
static TQ_FINAL StopFinal;
static KEVENT StopGo;

static VOID
StopThread(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    (VOID)KeWaitForSingleObject(&StopGo, Executive, KernelMode, FALSE, NULL);
    TqCoreStop(&StopFinal);
    InterlockedExchange(&StopReturned, 1);
}

/* The unload with three queued jobs, one of whose cancel routines was
   taken by IoCancelIrp but not yet run: the queue's destroy ends the two
   others, and waits for the routine before the unload frees anything. */
static VOID
TestStopWaitsForOwedCancel(VOID)
{
    FILE_OBJECT File;
    JOB Jobs[3];
    PDRIVER_CANCEL Routine;
    WDKM_POOL_STATISTICS Pool;
    HANDLE Handle;
    PVOID Thread = NULL;
    KIRQL Irql;
    ULONG Index;

    Start(&File, 1);
    EXPECT(TqCorePause(TRUE) == STATUS_SUCCESS);
    for (Index = 0; Index < 3; Index += 1) {
        JobSubmit(&Jobs[Index], &File, Index, LONG_WORK_MS);
    }
    StopReturned = 0;
    KeInitializeEvent(&StopGo, NotificationEvent, FALSE);
    EXPECT(PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, StopThread,
                                NULL) == STATUS_SUCCESS);
    EXPECT(ObReferenceObjectByHandle(Handle, SYNCHRONIZE, NULL, KernelMode, &Thread, NULL) ==
           STATUS_SUCCESS);
    (VOID)ZwClose(Handle);

    IoAcquireCancelSpinLock(&Irql);
    Jobs[1].Irp->Cancel = TRUE;
    Routine = IoSetCancelRoutine(Jobs[1].Irp, NULL);
    EXPECT(Routine != NULL);
    (VOID)KeSetEvent(&StopGo, IO_NO_INCREMENT, FALSE);     /* the unload begins */
    for (Index = 0; Index < 5000 && WdkmHostIrpCompletions(Jobs[2].Irp) == 0; Index += 1) {
        SleepMs(1);
    }
    SleepMs(50);
    EXPECT(JobCancelled(&Jobs[0]) && JobCancelled(&Jobs[2]));   /* the queue's destroy */
    EXPECT(WdkmHostIrpCompletions(Jobs[1].Irp) == 0);
    EXPECT(StopReturned == 0);                       /* waits for the routine */
    Jobs[1].Irp->CancelIrql = Irql;
    if (Routine != NULL) {
        Routine(NULL, Jobs[1].Irp);
    }
    (VOID)KeWaitForSingleObject(Thread, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(Thread);
    EXPECT(StopReturned == 1 && JobCancelled(&Jobs[1]));
    EXPECT(StopFinal.Submitted == 3 && StopFinal.Cancelled == 3);
    EXPECT(StopFinal.ThreadExit == STATUS_SUCCESS && StopFinal.Destroy == STATUS_SUCCESS);
    EXPECT(StopFinal.QueueDestroy == STATUS_SUCCESS);
    WdkmQueryPoolStatistics(&Pool);
    EXPECT(Pool.OutstandingBlocks == 0);             /* the handle's context too */
    for (Index = 0; Index < 3; Index += 1) {
        JobFree(&Jobs[Index]);
    }
}

/* Every allocation of the start and of an open failed in turn. */
static VOID
TestStartUnderMemoryPressure(VOID)
{
    FILE_OBJECT File = { IO_TYPE_FILE, (SHORT)sizeof(FILE_OBJECT), NULL, NULL, NULL };
    TQ_FINAL Final;
    NTSTATUS Status = STATUS_UNSUCCESSFUL;
    LONG FailAt;

    for (FailAt = 0; FailAt < 100; FailAt += 1) {
        WdkmHostPoolFailAt(FailAt);
        Status = TqCoreStart();
        WdkmHostPoolFailAt(-1);
        if (Status == STATUS_SUCCESS) {
            break;
        }
        EXPECT(Status == STATUS_INSUFFICIENT_RESOURCES);
        EXPECT(WdkmHostPoolOutstanding(WDKM_POOL_TAG, NULL) == 0);
    }
    EXPECT(Status == STATUS_SUCCESS && FailAt > 0);
    WdkmHostPoolFailAt(0);
    EXPECT(TqCoreOpen(&File) == STATUS_INSUFFICIENT_RESOURCES);
    WdkmHostPoolFailAt(-1);
    EXPECT(Query(NULL).Opens == 0);
    EXPECT(TqCoreClose(&File) == 0);                /* a close of a failed open */
    Stop(&Final);
}

/* ---- four threads under random DPCs and APCs whose DPCs cancel jobs ---- */

#define STRESS_THREADS 4
#define STRESS_JOBS 150
#define STRESS_TOTAL (STRESS_THREADS * STRESS_JOBS)

static FILE_OBJECT StressFiles[STRESS_THREADS];
static JOB StressJobs[STRESS_TOTAL];
static PIRP volatile StressIrps[STRESS_TOTAL];   /* what an injected DPC may cancel */
static volatile LONG InterruptCancels;
static volatile LONG InterruptQueries;

static VOID
InjectedRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    if (Kind == WdkmHostInterruptDpc) {
        /* Cancel from a DPC, on whatever thread it interrupted (the
           worker's own included): the routine runs there, at
           DISPATCH_LEVEL. IRPs are freed only after injection stops. */
        PIRP Irp = __atomic_load_n(&StressIrps[Random % STRESS_TOTAL], __ATOMIC_ACQUIRE);

        if (Irp != NULL && IoCancelIrp(Irp)) {
            InterlockedIncrement(&InterruptCancels);
        }
    } else if (Kind == WdkmHostInterruptSpecialApc) {
        THREADQ_REPORT Report;

        if (TqCoreQuery(NULL, &Report) == STATUS_SUCCESS) {
            InterlockedIncrement(&InterruptQueries);
        }
    }
}

static VOID
StressSubmitter(PVOID Context)
{
    ULONG Thread = (ULONG)(ULONG_PTR)Context;
    ULONG Index;

    for (Index = 0; Index < STRESS_JOBS; Index += 1) {
        ULONG Slot = Thread * STRESS_JOBS + Index;
        JOB *Job = &StressJobs[Slot];

        JobInit(Job, &StressFiles[Thread], Slot, Index % 3);
        __atomic_store_n(&StressIrps[Slot], Job->Irp, __ATOMIC_RELEASE);
        EXPECT(TqCoreSubmit(Job->Irp) == STATUS_PENDING);
        if (Index % 5 == 0) {
            (VOID)IoCancelIrp(Job->Irp);
        }
    }
    /* Running, not asleep, until its jobs ended: a thread asleep in a
       wait is not interrupted, one that queries the device is. */
    for (Index = 0; Index < STRESS_JOBS; Index += 1) {
        while (WdkmHostIrpCompletions(StressJobs[Thread * STRESS_JOBS + Index].Irp) == 0) {
            THREADQ_REPORT Report;

            EXPECT(TqCoreQuery(&StressFiles[Thread], &Report) == STATUS_SUCCESS);
        }
    }
}

static VOID
TestUnderInterrupts(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];
    ULONG64 Deferred[WDKM_HOST_INTERRUPT_KINDS];
    PVOID Threads[STRESS_THREADS];
    ULONG64 FileDone[STRESS_THREADS] = { 0 };
    ULONG64 FileCancelled[STRESS_THREADS] = { 0 };
    ULONG64 Done = 0;
    ULONG64 Cancelled = 0;
    THREADQ_REPORT Report;
    TQ_FINAL Final;
    ULONG Index;

    Start(StressFiles, STRESS_THREADS);
    RtlZeroMemory(&Settings, sizeof(Settings));
    Settings.Seed = 17;
    Settings.MeanIntervalMicroseconds = 200;
    Settings.DpcWeight = 3;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 2;
    Settings.SuspendMaxMicroseconds = 100;
    Settings.Routine = InjectedRoutine;
    WdkmHostInterruptsStart(&Settings);
    for (Index = 0; Index < STRESS_THREADS; Index += 1) {
        HANDLE Handle;

        Threads[Index] = NULL;
        EXPECT(PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                    StressSubmitter, (PVOID)(ULONG_PTR)Index) == STATUS_SUCCESS);
        EXPECT(ObReferenceObjectByHandle(Handle, SYNCHRONIZE, NULL, KernelMode,
                                         &Threads[Index], NULL) == STATUS_SUCCESS);
        (VOID)ZwClose(Handle);
    }
    for (Index = 0; Index < STRESS_THREADS; Index += 1) {
        (VOID)KeWaitForSingleObject(Threads[Index], Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(Threads[Index]);
    }
    for (Index = 0; Index < STRESS_TOTAL; Index += 1) {
        EXPECT(JobWait(&StressJobs[Index], 20000));
    }
    WdkmHostInterruptsStop();
    WdkmHostQueryInterruptCounts(Delivered, Deferred);

    for (Index = 0; Index < STRESS_TOTAL; Index += 1) {
        JOB *Job = &StressJobs[Index];
        ULONG File = Index / STRESS_JOBS;

        EXPECT(JobDone(Job) || JobCancelled(Job));
        if (Job->Irp->IoStatus.Status == STATUS_SUCCESS) {
            Done += 1;
            FileDone[File] += 1;
        } else {
            Cancelled += 1;
            FileCancelled[File] += 1;
        }
    }
    for (Index = 0; Index < STRESS_THREADS; Index += 1) {
        Report = Query(&StressFiles[Index]);
        EXPECT(Report.FileSubmitted == STRESS_JOBS);
        EXPECT(Report.FileDone == FileDone[Index] && Report.FileCancelled == FileCancelled[Index]);
    }
    EXPECT(Report.Submitted == STRESS_TOTAL && Report.Done == Done &&
           Report.Cancelled == Cancelled);
    EXPECT(Report.CancelledQueued + Report.CancelledCurrent == Cancelled);
    EXPECT(Cancelled >= STRESS_TOTAL / 5);           /* every 5th at least */
    printf("under interrupts: %llu done, %llu cancelled (%llu queued, %llu current, %llu "
           "handed to the routine); %d cancels and %d queries from events; events %llu DPC, "
           "%llu normal APC, %llu special APC\n",
           (unsigned long long)Done, (unsigned long long)Cancelled,
           (unsigned long long)Report.CancelledQueued,
           (unsigned long long)Report.CancelledCurrent,
           (unsigned long long)Report.HandedToCancel, (int)InterruptCancels,
           (int)InterruptQueries, (unsigned long long)Delivered[WdkmHostInterruptDpc],
           (unsigned long long)Delivered[WdkmHostInterruptNormalApc],
           (unsigned long long)Delivered[WdkmHostInterruptSpecialApc]);
    for (Index = 0; Index < STRESS_THREADS; Index += 1) {
        (VOID)TqCoreClose(&StressFiles[Index]);
    }
    Stop(&Final);
    for (Index = 0; Index < STRESS_TOTAL; Index += 1) {
        StressIrps[Index] = NULL;
        JobFree(&StressJobs[Index]);
    }
}

int
main(void)
{
    TestJobsAnswered();
    TestCancelQueuedAndCurrent();
    TestCancelRoutineLosesTheRace();
    TestCleanupRacesJobs();
    TestCloseWhileJobRuns();
    TestStopWaitsForOwedCancel();
    TestStartUnderMemoryPressure();
    TestUnderInterrupts();

    EXPECT(WdkmHostPoolOutstanding(WDKM_POOL_TAG, NULL) == 0);
    EXPECT(WdkmHostThreadHeldLockCount() == 0);
    EXPECT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    EXPECT(WdkmHostBugcheckCount() == 0);
    printf("%s: %d failure(s)\n", Failures == 0 ? "threadq host test: PASS" : "threadq host test: FAIL",
           Failures);
    return Failures == 0 ? 0 : 1;
}
