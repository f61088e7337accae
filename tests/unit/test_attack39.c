/*
 * test_attack39.c - the cancel-safe queue when the issuing thread exits,
 * attacked from docs/host-testing.md ("The requesting thread exits"),
 * docs/csq.md and wdkm_csq.h alone: a queued IRP completes through
 * CompleteCanceledIrp on the exiting thread, a worker's current IRP gets
 * OnCancel there and the exit waits for the worker's end, a worker that
 * never ends shows up as a timeout, and the queue's destroy racing an exit
 * loses nothing.
 */
#include <string.h>

#include "wdkm_test.h"

typedef struct _A39_QUEUE {
    PWDKM_CSQ Csq;
    WDKM_CSQ_CURRENT Current;
    PETHREAD volatile Issuer;
    LONG volatile Callbacks;
    LONG volatile CallbacksOnIssuer;
    LONG volatile CallbacksAtApc;
    LONG volatile OnCancels;
    LONG volatile OnCancelsOnIssuer;
    LONG volatile Hooks;
    LONG volatile HoldCallback;     /* the callback spins while this is 1 */
    LONG volatile InCallback;
    BOOLEAN FreeInHook;
    KEVENT WorkerEvent;
} A39_QUEUE;

static LONG A39Load(LONG volatile *Value)
{
    return InterlockedCompareExchange(Value, 0, 0);
}

static BOOLEAN A39WaitFor(LONG volatile *Value, LONG Expected)
{
    LONGLONG End = WdkmTestDeadlineMs(10000);

    while (A39Load(Value) != Expected) {
        if (WdkmTestNowMs() > End) {
            return FALSE;
        }
        WdkmTestSleepMs(1);
    }
    return TRUE;
}

static VOID A39CompleteCancelled(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    A39_QUEUE *Queue = (A39_QUEUE *)Context;

    UNREFERENCED_PARAMETER(Csq);
    if (PsGetCurrentThread() == Queue->Issuer) {
        InterlockedIncrement(&Queue->CallbacksOnIssuer);
    }
    if (KeGetCurrentIrql() == APC_LEVEL) {
        InterlockedIncrement(&Queue->CallbacksAtApc);
    }
    InterlockedIncrement(&Queue->InCallback);
    while (A39Load(&Queue->HoldCallback) != 0) {
        /* the test holds the cancel routine here (no wait: <= DISPATCH_LEVEL) */
    }
    InterlockedIncrement(&Queue->Callbacks);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static VOID A39OnCancel(PWDKM_CSQ Csq, PVOID Context)
{
    A39_QUEUE *Queue = (A39_QUEUE *)Context;

    UNREFERENCED_PARAMETER(Csq);
    if (PsGetCurrentThread() == Queue->Issuer) {
        InterlockedIncrement(&Queue->OnCancelsOnIssuer);
    }
    InterlockedIncrement(&Queue->OnCancels);
    (VOID)KeSetEvent(&Queue->WorkerEvent, IO_NO_INCREMENT, FALSE);
}

static VOID A39Hook(PIRP Irp, PVOID Context)
{
    A39_QUEUE *Queue = (A39_QUEUE *)Context;

    if (Queue->FreeInHook) {
        WdkmHostIrpFree(Irp);
    }
    InterlockedIncrement(&Queue->Hooks);
}

static BOOLEAN A39QueueCreate(A39_QUEUE *Queue)
{
    memset(Queue, 0, sizeof(*Queue));
    KeInitializeEvent(&Queue->WorkerEvent, SynchronizationEvent, FALSE);
    if (WdkmCsqCreate(A39CompleteCancelled, Queue, &Queue->Csq) != STATUS_SUCCESS) {
        return FALSE;
    }
    return WdkmCsqInitializeCurrent(&Queue->Current, A39OnCancel, Queue) == STATUS_SUCCESS;
}

static PIRP A39Irp(A39_QUEUE *Queue)
{
    PIRP Irp = WdkmHostIrpAllocate(IRP_MJ_DEVICE_CONTROL, 0x222008, NULL);

    if (Irp != NULL) {
        WdkmHostIrpSetCompletionHook(Irp, A39Hook, Queue);
    }
    return Irp;
}

/* The issuer: queues its IRPs on itself, sends them to the driver (the
   dispatch inserts them), then exits when the test says so. */
#define A39_IRPS 3

typedef struct _A39_ISSUER {
    A39_QUEUE *Queue;
    PIRP Irps[A39_IRPS];
    ULONG Count;
    LONG volatile Issued;
    LONG volatile Go;
    BOOLEAN Terminate;
    NTSTATUS InsertStatus[A39_IRPS];
} A39_ISSUER;

static VOID A39IssuerRoutine(PVOID Context, ULONG Index)
{
    A39_ISSUER *Issuer = (A39_ISSUER *)Context;

    UNREFERENCED_PARAMETER(Index);
    Issuer->Queue->Issuer = PsGetCurrentThread();
    for (ULONG Each = 0; Each < Issuer->Count; Each++) {
        WdkmHostIrpQueueToThread(Issuer->Irps[Each]);
        Issuer->InsertStatus[Each] = WdkmCsqInsertIrp(Issuer->Queue->Csq, Issuer->Irps[Each], NULL);
    }
    InterlockedExchange(&Issuer->Issued, 1);
    (VOID)A39WaitFor(&Issuer->Go, 1);
    if (Issuer->Terminate) {
        (VOID)PsTerminateSystemThread(STATUS_SUCCESS);
    }
}

static BOOLEAN A39ThreadEnded(WDKM_TEST_THREAD *Thread)
{
    LARGE_INTEGER Zero;

    Zero.QuadPart = 0;
    return KeWaitForSingleObject(WdkmTestThreadObject(Thread), Executive, KernelMode, FALSE,
                                 &Zero) == STATUS_SUCCESS;
}

static VOID A39QueuedIrpsCase(ULONG Count, BOOLEAN Terminate)
{
    A39_QUEUE Queue;
    A39_ISSUER Issuer;
    WDKM_TEST_THREAD *Thread;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    CHECK(A39QueueCreate(&Queue));
    memset(&Issuer, 0, sizeof(Issuer));
    Issuer.Queue = &Queue;
    Issuer.Count = Count;
    Issuer.Terminate = Terminate;
    for (ULONG Each = 0; Each < Count; Each++) {
        Issuer.Irps[Each] = A39Irp(&Queue);
        CHECK(Issuer.Irps[Each] != NULL);
    }
    Thread = WdkmTestStartThread(A39IssuerRoutine, &Issuer);
    CHECK(Thread != NULL);
    CHECK(A39WaitFor(&Issuer.Issued, 1));
    for (ULONG Each = 0; Each < Count; Each++) {
        CHECK_STATUS(Issuer.InsertStatus[Each], STATUS_PENDING);
    }
    {
        ULONG Queued = 0;
        CHECK_STATUS(WdkmCsqQueryCount(Queue.Csq, &Queued), STATUS_SUCCESS);
        CHECK_EQ(Queued, Count);
    }
    InterlockedExchange(&Issuer.Go, 1);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(A39Load(&Queue.Callbacks), Count);
    CHECK_EQ(A39Load(&Queue.CallbacksOnIssuer), Count);
    /* The I/O manager cancels at APC_LEVEL; the queue's routine lets the
       cancel spin lock go back to CancelIrql before it calls back. */
    CHECK_EQ(A39Load(&Queue.CallbacksAtApc), Count);
    CHECK_EQ(A39Load(&Queue.Hooks), Count);
    for (ULONG Each = 0; Each < Count; Each++) {
        CHECK_EQ(WdkmHostIrpCompletions(Issuer.Irps[Each]), 1);
        CHECK_STATUS(Issuer.Irps[Each]->IoStatus.Status, STATUS_CANCELLED);
        CHECK(Issuer.Irps[Each]->PendingReturned);
        WdkmHostIrpFree(Issuer.Irps[Each]);
    }
    {
        ULONG Queued = 1;
        CHECK_STATUS(WdkmCsqQueryCount(Queue.Csq, &Queued), STATUS_SUCCESS);
        CHECK_EQ(Queued, 0);
    }
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(A39Load(&Queue.Callbacks), Count);     /* nothing left for the destroy */
}

static VOID A39QueuedIrpCancelledOnExit(VOID)
{
    A39QueuedIrpsCase(1, FALSE);
}

static VOID A39SeveralIrpsOneThread(VOID)
{
    A39QueuedIrpsCase(A39_IRPS, FALSE);
}

static VOID A39TerminateSystemThread(VOID)
{
    A39QueuedIrpsCase(2, TRUE);
}

/* Two issuers, one exits: the other's IRP stays queued and removable. */
static VOID A39TwoThreadsOneExits(VOID)
{
    A39_QUEUE Queue;
    A39_ISSUER Staying, Leaving;
    WDKM_TEST_THREAD *StayingThread, *LeavingThread;
    PIRP Removed = NULL;
    ULONG Queued = 0;

    CHECK(A39QueueCreate(&Queue));
    memset(&Staying, 0, sizeof(Staying));
    memset(&Leaving, 0, sizeof(Leaving));
    Staying.Queue = &Queue;
    Leaving.Queue = &Queue;
    Staying.Count = 1;
    Leaving.Count = 1;
    Staying.Irps[0] = A39Irp(&Queue);
    Leaving.Irps[0] = A39Irp(&Queue);
    CHECK(Staying.Irps[0] != NULL && Leaving.Irps[0] != NULL);
    StayingThread = WdkmTestStartThread(A39IssuerRoutine, &Staying);
    CHECK(A39WaitFor(&Staying.Issued, 1));
    LeavingThread = WdkmTestStartThread(A39IssuerRoutine, &Leaving);   /* Queue.Issuer: it */
    CHECK(A39WaitFor(&Leaving.Issued, 1));
    InterlockedExchange(&Leaving.Go, 1);
    WdkmTestJoinThread(LeavingThread);
    CHECK_EQ(A39Load(&Queue.Callbacks), 1);
    CHECK_EQ(A39Load(&Queue.CallbacksOnIssuer), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Leaving.Irps[0]), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Staying.Irps[0]), 0);
    CHECK_STATUS(WdkmCsqQueryCount(Queue.Csq, &Queued), STATUS_SUCCESS);
    CHECK_EQ(Queued, 1);
    /* The driver serves the staying thread's request; its exit then does nothing. */
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, NULL, NULL, &Removed), STATUS_SUCCESS);
    CHECK(Removed == Staying.Irps[0]);
    Removed->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(Removed, IO_NO_INCREMENT);
    InterlockedExchange(&Staying.Go, 1);
    WdkmTestJoinThread(StayingThread);
    CHECK_EQ(A39Load(&Queue.Callbacks), 1);
    CHECK_STATUS(Staying.Irps[0]->IoStatus.Status, STATUS_SUCCESS);
    CHECK(!Staying.Irps[0]->Cancel);
    WdkmHostIrpFree(Staying.Irps[0]);
    WdkmHostIrpFree(Leaving.Irps[0]);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
}

/* A worker's current IRP: OnCancel on the exiting thread; the exit waits
   for the worker's end, which answers STATUS_CANCELLED. */
typedef struct _A39_WORKER {
    A39_QUEUE *Queue;
    LONG volatile Started;
    LONG volatile SawCancel;
    LONG volatile MayEnd;
    LONG volatile Ended;
    NTSTATUS EndStatus;
    PIRP Irp;
} A39_WORKER;

static VOID A39WorkerRoutine(PVOID Context, ULONG Index)
{
    A39_WORKER *Worker = (A39_WORKER *)Context;
    A39_QUEUE *Queue = Worker->Queue;
    LONGLONG End = WdkmTestDeadlineMs(10000);
    LARGE_INTEGER Timeout;

    UNREFERENCED_PARAMETER(Index);
    while (WdkmCsqStartNextIrp(Queue->Csq, NULL, NULL, &Queue->Current, &Worker->Irp) !=
           STATUS_SUCCESS) {
        if (WdkmTestNowMs() > End) {
            return;
        }
        WdkmTestSleepMs(1);
    }
    InterlockedExchange(&Worker->Started, 1);
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5);
    while (WdkmCsqCheckCurrentIrp(Queue->Csq, &Queue->Current) == STATUS_SUCCESS &&
           WdkmTestNowMs() < End) {
        (VOID)KeWaitForSingleObject(&Queue->WorkerEvent, Executive, KernelMode, FALSE, &Timeout);
    }
    if (WdkmCsqCheckCurrentIrp(Queue->Csq, &Queue->Current) == STATUS_CANCELLED) {
        InterlockedExchange(&Worker->SawCancel, 1);
    }
    (VOID)A39WaitFor(&Worker->MayEnd, 1);
    InterlockedExchange(&Worker->Ended, 1);
    Worker->EndStatus = WdkmCsqEndCurrentIrp(Queue->Csq, &Queue->Current);
    if (Worker->EndStatus == STATUS_SUCCESS) {
        Worker->Irp->IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(Worker->Irp, IO_NO_INCREMENT);
    }
}

static VOID A39CurrentIrpCase(BOOLEAN FreeInHook)
{
    A39_QUEUE Queue;
    A39_ISSUER Issuer;
    A39_WORKER Worker;
    WDKM_TEST_THREAD *IssuerThread, *WorkerThread;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    CHECK(A39QueueCreate(&Queue));
    Queue.FreeInHook = FreeInHook;
    memset(&Issuer, 0, sizeof(Issuer));
    memset(&Worker, 0, sizeof(Worker));
    Issuer.Queue = &Queue;
    Issuer.Count = 1;
    Issuer.Irps[0] = A39Irp(&Queue);
    CHECK(Issuer.Irps[0] != NULL);
    Worker.Queue = &Queue;
    IssuerThread = WdkmTestStartThread(A39IssuerRoutine, &Issuer);
    CHECK(A39WaitFor(&Issuer.Issued, 1));
    WorkerThread = WdkmTestStartThread(A39WorkerRoutine, &Worker);
    CHECK(A39WaitFor(&Worker.Started, 1));
    CHECK(Worker.Irp == Issuer.Irps[0]);
    InterlockedExchange(&Issuer.Go, 1);
    CHECK(A39WaitFor(&Worker.SawCancel, 1));
    CHECK_EQ(A39Load(&Queue.OnCancels), 1);
    CHECK_EQ(A39Load(&Queue.OnCancelsOnIssuer), 1);
    /* The worker still holds it: no completion, and the issuer cannot have
       finished exiting. */
    CHECK_EQ(A39Load(&Queue.Callbacks), 0);
    CHECK(!A39ThreadEnded(IssuerThread));
    CHECK_EQ(WdkmCsqDestroy(Queue.Csq), STATUS_DEVICE_BUSY);
    InterlockedExchange(&Worker.MayEnd, 1);
    WdkmTestJoinThread(IssuerThread);
    CHECK_EQ(A39Load(&Queue.Hooks), 1);             /* the exit saw the completion */
    CHECK_EQ(A39Load(&Worker.Ended), 1);
    WdkmTestJoinThread(WorkerThread);
    CHECK_STATUS(Worker.EndStatus, STATUS_CANCELLED);
    CHECK_EQ(A39Load(&Queue.Callbacks), 1);
    CHECK_EQ(A39Load(&Queue.CallbacksOnIssuer), 0);  /* the end's, on the worker */
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    if (!FreeInHook) {
        CHECK_EQ(WdkmHostIrpCompletions(Issuer.Irps[0]), 1);
        CHECK_STATUS(Issuer.Irps[0]->IoStatus.Status, STATUS_CANCELLED);
        WdkmHostIrpFree(Issuer.Irps[0]);
    }
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
}

static VOID A39CurrentIrpExitWaitsForWorker(VOID)
{
    A39CurrentIrpCase(FALSE);
}

static VOID A39CurrentIrpFreedInHook(VOID)
{
    A39CurrentIrpCase(TRUE);
}

/* The worker ends only after the bound ran out: one timeout, the IRP off
   its thread and still the worker's; its end then answers STATUS_CANCELLED
   and the callback completes it. No leak. */
static VOID A39CurrentIrpTimeout(VOID)
{
    A39_QUEUE Queue;
    A39_ISSUER Issuer;
    A39_WORKER Worker;
    WDKM_TEST_THREAD *IssuerThread, *WorkerThread;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous;

    CHECK(A39QueueCreate(&Queue));
    memset(&Issuer, 0, sizeof(Issuer));
    memset(&Worker, 0, sizeof(Worker));
    Issuer.Queue = &Queue;
    Issuer.Count = 1;
    Issuer.Irps[0] = A39Irp(&Queue);
    CHECK(Issuer.Irps[0] != NULL);
    Worker.Queue = &Queue;
    IssuerThread = WdkmTestStartThread(A39IssuerRoutine, &Issuer);
    CHECK(A39WaitFor(&Issuer.Issued, 1));
    WorkerThread = WdkmTestStartThread(A39WorkerRoutine, &Worker);
    CHECK(A39WaitFor(&Worker.Started, 1));
    Previous = WdkmHostSetIrpCancelTimeout(100);
    InterlockedExchange(&Issuer.Go, 1);
    WdkmTestJoinThread(IssuerThread);
    (VOID)WdkmHostSetIrpCancelTimeout(Previous);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts + 1);
    CHECK(Issuer.Irps[0]->Tail.Overlay.Thread == NULL);
    CHECK_EQ(WdkmHostIrpCompletions(Issuer.Irps[0]), 0);
    CHECK_EQ(A39Load(&Queue.OnCancels), 1);
    InterlockedExchange(&Worker.MayEnd, 1);
    WdkmTestJoinThread(WorkerThread);
    CHECK_STATUS(Worker.EndStatus, STATUS_CANCELLED);
    CHECK_EQ(WdkmHostIrpCompletions(Issuer.Irps[0]), 1);
    CHECK_STATUS(Issuer.Irps[0]->IoStatus.Status, STATUS_CANCELLED);
    CHECK_EQ(A39Load(&Queue.Callbacks), 1);
    WdkmHostIrpFree(Issuer.Irps[0]);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* The callback frees the IRP (through the completion hook) inside the
   exit's cancel. */
static VOID A39QueuedIrpFreedInHook(VOID)
{
    A39_QUEUE Queue;
    A39_ISSUER Issuer;
    WDKM_TEST_THREAD *Thread;

    CHECK(A39QueueCreate(&Queue));
    Queue.FreeInHook = TRUE;
    memset(&Issuer, 0, sizeof(Issuer));
    Issuer.Queue = &Queue;
    Issuer.Count = A39_IRPS;
    for (ULONG Each = 0; Each < A39_IRPS; Each++) {
        Issuer.Irps[Each] = A39Irp(&Queue);
        CHECK(Issuer.Irps[Each] != NULL);
    }
    Issuer.Go = 1;
    Thread = WdkmTestStartThread(A39IssuerRoutine, &Issuer);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(A39Load(&Queue.Hooks), A39_IRPS);
    CHECK_EQ(A39Load(&Queue.CallbacksOnIssuer), A39_IRPS);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
}

/* Removed and completed by the driver before the issuer exits. */
static VOID A39CompletedBeforeExit(VOID)
{
    A39_QUEUE Queue;
    A39_ISSUER Issuer;
    WDKM_TEST_THREAD *Thread;
    PIRP Removed = NULL;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    CHECK(A39QueueCreate(&Queue));
    memset(&Issuer, 0, sizeof(Issuer));
    Issuer.Queue = &Queue;
    Issuer.Count = 1;
    Issuer.Irps[0] = A39Irp(&Queue);
    CHECK(Issuer.Irps[0] != NULL);
    Thread = WdkmTestStartThread(A39IssuerRoutine, &Issuer);
    CHECK(A39WaitFor(&Issuer.Issued, 1));
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, NULL, NULL, &Removed), STATUS_SUCCESS);
    Removed->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(Removed, IO_NO_INCREMENT);
    InterlockedExchange(&Issuer.Go, 1);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(A39Load(&Queue.Callbacks), 0);
    CHECK(!Issuer.Irps[0]->Cancel);
    CHECK_EQ(WdkmHostIrpCompletions(Issuer.Irps[0]), 1);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    WdkmHostIrpFree(Issuer.Irps[0]);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
}

/* The driver's remove (a DPC serving the queue) races the exit, under the
   host's interrupt injection: each IRP completes exactly once. */
typedef struct _A39_RACE {
    A39_QUEUE Queue;
    A39_ISSUER Issuer;
    LONG volatile Removed;
} A39_RACE;

static VOID A39RaceDriver(PVOID Context, ULONG Index)
{
    A39_RACE *Race = (A39_RACE *)Context;
    PIRP Irp;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Index);
    (VOID)A39WaitFor(&Race->Issuer.Issued, 1);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    while (WdkmCsqRemoveNextIrp(Race->Queue.Csq, NULL, NULL, &Irp) == STATUS_SUCCESS) {
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        InterlockedIncrement(&Race->Removed);
    }
    KeLowerIrql(OldIrql);
}

static VOID A39RemoveRacesExit(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    BOOLEAN Injecting = !WdkmHostInterruptsActive(NULL);
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Round;

    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 3939;
    Settings.MeanIntervalMicroseconds = 100;
    Settings.DpcWeight = 1;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 100;
    if (Injecting) {
        WdkmHostInterruptsStart(&Settings);
    }
    for (Round = 0; Round < 100; Round++) {
        A39_RACE Race;
        WDKM_TEST_THREAD *IssuerThread, *DriverThread;
        LONG Cancelled = 0;

        memset(&Race, 0, sizeof(Race));
        if (!A39QueueCreate(&Race.Queue)) {
            break;
        }
        Race.Issuer.Queue = &Race.Queue;
        Race.Issuer.Count = A39_IRPS;
        Race.Issuer.Go = 1;
        for (ULONG Each = 0; Each < A39_IRPS; Each++) {
            Race.Issuer.Irps[Each] = A39Irp(&Race.Queue);
        }
        DriverThread = WdkmTestStartThread(A39RaceDriver, &Race);
        IssuerThread = WdkmTestStartThread(A39IssuerRoutine, &Race.Issuer);
        WdkmTestJoinThread(IssuerThread);
        for (ULONG Each = 0; Each < A39_IRPS; Each++) {
            if (WdkmHostIrpCompletions(Race.Issuer.Irps[Each]) != 1) {
                WdkmTestFail(__FILE__, __LINE__, "round %u IRP %u: %d completions after the exit",
                             (unsigned)Round, (unsigned)Each,
                             (int)WdkmHostIrpCompletions(Race.Issuer.Irps[Each]));
            }
        }
        WdkmTestJoinThread(DriverThread);
        for (ULONG Each = 0; Each < A39_IRPS; Each++) {
            if (Race.Issuer.Irps[Each]->IoStatus.Status == STATUS_CANCELLED) {
                Cancelled++;
            }
            WdkmHostIrpFree(Race.Issuer.Irps[Each]);
        }
        if (Cancelled != A39Load(&Race.Queue.Callbacks) ||
            Cancelled + A39Load(&Race.Removed) != A39_IRPS) {
            WdkmTestFail(__FILE__, __LINE__, "round %u: %d cancelled, %d callbacks, %d removed",
                         (unsigned)Round, (int)Cancelled, (int)A39Load(&Race.Queue.Callbacks),
                         (int)A39Load(&Race.Removed));
        }
        (VOID)WdkmCsqDestroy(Race.Queue.Csq);
    }
    if (Injecting) {
        WdkmHostInterruptsStop();
    }
    CHECK_EQ(Round, 100);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
}

/* The queue's destroy while the exit's cancel routine is inside the
   callback: the destroy waits for it; another thread's IRP goes to the
   destroy's callback; that thread's exit then finds nothing. */
typedef struct _A39_DESTROY {
    A39_QUEUE *Queue;
    LONG volatile Done;
    NTSTATUS Status;
} A39_DESTROY;

static VOID A39DestroyRoutine(PVOID Context, ULONG Index)
{
    A39_DESTROY *Destroy = (A39_DESTROY *)Context;

    UNREFERENCED_PARAMETER(Index);
    Destroy->Status = WdkmCsqDestroy(Destroy->Queue->Csq);
    InterlockedExchange(&Destroy->Done, 1);
}

static VOID A39DestroyDuringExit(VOID)
{
    A39_QUEUE Queue;
    A39_ISSUER Leaving, Staying;
    A39_DESTROY Destroy;
    WDKM_TEST_THREAD *LeavingThread, *StayingThread, *DestroyThread;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    CHECK(A39QueueCreate(&Queue));
    memset(&Leaving, 0, sizeof(Leaving));
    memset(&Staying, 0, sizeof(Staying));
    memset(&Destroy, 0, sizeof(Destroy));
    Destroy.Queue = &Queue;
    Staying.Queue = &Queue;
    Staying.Count = 1;
    Staying.Irps[0] = A39Irp(&Queue);
    Leaving.Queue = &Queue;
    Leaving.Count = 1;
    Leaving.Irps[0] = A39Irp(&Queue);
    CHECK(Staying.Irps[0] != NULL && Leaving.Irps[0] != NULL);
    StayingThread = WdkmTestStartThread(A39IssuerRoutine, &Staying);
    CHECK(A39WaitFor(&Staying.Issued, 1));
    LeavingThread = WdkmTestStartThread(A39IssuerRoutine, &Leaving);
    CHECK(A39WaitFor(&Leaving.Issued, 1));
    InterlockedExchange(&Queue.HoldCallback, 1);
    InterlockedExchange(&Leaving.Go, 1);
    CHECK(A39WaitFor(&Queue.InCallback, 1));        /* the exit's cancel, held */
    DestroyThread = WdkmTestStartThread(A39DestroyRoutine, &Destroy);
    /* The destroy hands the other IRP to the callback, then must wait for
       the running cancel routine. */
    WdkmTestSleepMs(50);
    CHECK_EQ(A39Load(&Destroy.Done), 0);
    InterlockedExchange(&Queue.HoldCallback, 0);
    WdkmTestJoinThread(DestroyThread);
    WdkmTestJoinThread(LeavingThread);
    CHECK_STATUS(Destroy.Status, STATUS_SUCCESS);
    CHECK_EQ(A39Load(&Queue.Callbacks), 2);
    CHECK_EQ(WdkmHostIrpCompletions(Leaving.Irps[0]), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Staying.Irps[0]), 1);
    InterlockedExchange(&Staying.Go, 1);
    WdkmTestJoinThread(StayingThread);
    CHECK_EQ(A39Load(&Queue.Callbacks), 2);
    CHECK_EQ(A39Load(&Queue.CallbacksOnIssuer), 1);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    WdkmHostIrpFree(Staying.Irps[0]);
    WdkmHostIrpFree(Leaving.Irps[0]);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

static const WDKM_TEST_CASE A39Cases[] = {
    { "queued_irp_cancelled_on_exit", A39QueuedIrpCancelledOnExit },
    { "several_irps_one_thread", A39SeveralIrpsOneThread },
    { "terminate_system_thread", A39TerminateSystemThread },
    { "two_threads_one_exits", A39TwoThreadsOneExits },
    { "current_irp_exit_waits_for_worker", A39CurrentIrpExitWaitsForWorker },
    { "current_irp_freed_in_hook", A39CurrentIrpFreedInHook },
    { "current_irp_timeout", A39CurrentIrpTimeout },
    { "queued_irp_freed_in_hook", A39QueuedIrpFreedInHook },
    { "completed_before_exit", A39CompletedBeforeExit },
    { "remove_races_exit", A39RemoveRacesExit },
    { "destroy_during_exit", A39DestroyDuringExit },
};

static VOID A39Cleanup(VOID)
{
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
}

const WDKM_TEST_SUITE WdkmAttack39Suite = WDKM_TEST_SUITE_WITH_CLEANUP("attack39", A39Cases, A39Cleanup);
