/*
 * test_csq_thread_exit.c - the cancel-safe queue when the thread that
 * issued a request exits with it pending (process teardown), as NT's I/O
 * manager cancels the IRPs queued on an exiting thread. The host
 * emulation does the same for IRPs a test queues on a thread
 * (WdkmHostIrpQueueToThread): the exit calls IoCancelIrp on each and
 * waits for their completion.
 *
 * A queued IRP goes to CompleteCanceledIrp, on the exiting thread; a
 * worker's current IRP gets its record's OnCancel there, and the exit
 * waits for the worker to end it (it completes through the callback).
 */
#include "wdkm_test.h"
#include "wdkm_test_irp.h"

typedef struct _EXIT_CSQ {
    PWDKM_CSQ Csq;
    PIRP Irp;
    PKTHREAD Issuer;
    NTSTATUS InsertStatus;
    WDKM_TEST_IRP_OUTCOME Outcome;     /* how the IRP was completed */
    LONG CallbackCalls;
    LONG OnCancelCalls;
    PKTHREAD CallbackThread;
    PKTHREAD OnCancelThread;
    /* The worker's side (current IRP). */
    WDKM_CSQ_CURRENT Current;
    KEVENT Inserted;            /* the issuer queued it */
    KEVENT Started;             /* the worker holds it */
    KEVENT CancelAsked;         /* OnCancel: wake the worker */
    NTSTATUS StartStatus;
    NTSTATUS CheckStatus;
    NTSTATUS EndStatus;
} EXIT_CSQ;

static VOID
ExitCompleteCancelled(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    EXIT_CSQ *Exit = (EXIT_CSQ *)Context;

    UNREFERENCED_PARAMETER(Csq);
    Exit->CallbackThread = KeGetCurrentThread();
    __atomic_fetch_add(&Exit->CallbackCalls, 1, __ATOMIC_SEQ_CST);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static VOID
ExitOnCancel(PWDKM_CSQ Csq, PVOID Context)
{
    EXIT_CSQ *Exit = (EXIT_CSQ *)Context;

    UNREFERENCED_PARAMETER(Csq);
    Exit->OnCancelThread = KeGetCurrentThread();
    __atomic_fetch_add(&Exit->OnCancelCalls, 1, __ATOMIC_SEQ_CST);
    (VOID)KeSetEvent(&Exit->CancelAsked, IO_NO_INCREMENT, FALSE);
}

/* A bounded wait: TRUE if Event was set in time. */
static BOOLEAN
ExitWait(PKEVENT Event, ULONG Milliseconds)
{
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(WdkmTestScaledMs(Milliseconds));
    return KeWaitForSingleObject(Event, Executive, KernelMode, FALSE, &Timeout) == STATUS_SUCCESS;
}

static BOOLEAN
ExitSetUp(EXIT_CSQ *Exit)
{
    RtlZeroMemory(Exit, sizeof(*Exit));
    KeInitializeEvent(&Exit->Inserted, NotificationEvent, FALSE);
    KeInitializeEvent(&Exit->Started, NotificationEvent, FALSE);
    KeInitializeEvent(&Exit->CancelAsked, NotificationEvent, FALSE);
    if (WdkmCsqCreate(ExitCompleteCancelled, Exit, &Exit->Csq) != STATUS_SUCCESS) {
        return FALSE;
    }
    if (WdkmCsqInitializeCurrent(&Exit->Current, ExitOnCancel, Exit) != STATUS_SUCCESS) {
        return FALSE;
    }
    Exit->Irp = WdkmTestIrpAllocate(&Exit->Outcome, NULL);
    return Exit->Irp != NULL;
}

/* The issuer: its request reaches the driver's dispatch, which queues it;
   with a worker, it waits until the worker holds it; then it exits. */
static VOID
ExitIssuerThread(PVOID Context, ULONG Index)
{
    EXIT_CSQ *Exit = (EXIT_CSQ *)Context;

    UNREFERENCED_PARAMETER(Index);
    Exit->Issuer = KeGetCurrentThread();
    WdkmHostIrpQueueToThread(Exit->Irp);
    Exit->InsertStatus = WdkmCsqInsertIrp(Exit->Csq, Exit->Irp, NULL);
    (VOID)KeSetEvent(&Exit->Inserted, IO_NO_INCREMENT, FALSE);
}

static VOID
ExitIssuerWaitingThread(PVOID Context, ULONG Index)
{
    EXIT_CSQ *Exit = (EXIT_CSQ *)Context;

    ExitIssuerThread(Context, Index);
    (VOID)ExitWait(&Exit->Started, 10000);
}

/* The worker: takes the IRP as its current one, works until a cancel is
   asked for (or a give-up deadline), ends it. */
static VOID
ExitWorkerThread(PVOID Context, ULONG Index)
{
    EXIT_CSQ *Exit = (EXIT_CSQ *)Context;
    PIRP Irp = NULL;

    UNREFERENCED_PARAMETER(Index);
    if (!ExitWait(&Exit->Inserted, 10000)) {
        Exit->StartStatus = STATUS_TIMEOUT;
        return;
    }
    Exit->StartStatus = WdkmCsqStartNextIrp(Exit->Csq, NULL, NULL, &Exit->Current, &Irp);
    (VOID)KeSetEvent(&Exit->Started, IO_NO_INCREMENT, FALSE);
    if (Exit->StartStatus != STATUS_SUCCESS) {
        return;
    }
    (VOID)ExitWait(&Exit->CancelAsked, 10000);
    Exit->CheckStatus = WdkmCsqCheckCurrentIrp(Exit->Csq, &Exit->Current);
    Exit->EndStatus = WdkmCsqEndCurrentIrp(Exit->Csq, &Exit->Current);
    if (Exit->EndStatus == STATUS_SUCCESS) {
        Irp->IoStatus.Status = STATUS_SUCCESS;      /* never cancelled: the worker's */
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
    }
}

/*
 * A request queued by a thread that then exits: the exit cancels it, the
 * queue hands it to CompleteCanceledIrp on the exiting thread, and it is
 * complete (STATUS_CANCELLED) once the thread has ended.
 */
static VOID
ExitQueuedIrpCompletedAsCancelled(VOID)
{
    ULONG Bound = WdkmHostSetIrpCancelTimeout((ULONG)WdkmTestScaledMs(30000));
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    EXIT_CSQ Exit;
    ULONG Queued = 99;
    LONG CompletedAtExit;

    CHECK(ExitSetUp(&Exit));
    CHECK(WdkmTestRunThreads(1, ExitIssuerThread, &Exit));
    CompletedAtExit = WdkmHostIrpCompletions(Exit.Irp);
    CHECK_STATUS(WdkmCsqQueryCount(Exit.Csq, &Queued), STATUS_SUCCESS);
    /* The destroy drains what the exit left (nothing, if it cancelled). */
    CHECK_STATUS(WdkmCsqDestroy(Exit.Csq), STATUS_SUCCESS);
    WdkmHostSetIrpCancelTimeout(Bound);
    CHECK_STATUS(Exit.InsertStatus, STATUS_PENDING);
    CHECK_EQ(CompletedAtExit, 1);
    CHECK_EQ(Queued, 0);
    CHECK_EQ(Exit.CallbackCalls, 1);
    CHECK(Exit.CallbackThread == Exit.Issuer);          /* on the exiting thread */
    CHECK_EQ(__atomic_load_n(&Exit.Outcome.Cancelled, __ATOMIC_SEQ_CST), 1);
    CHECK_EQ(Exit.OnCancelCalls, 0);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    WdkmHostIrpFree(Exit.Irp);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/*
 * The request is a worker's current IRP when its issuer exits: the exit's
 * cancel calls the record's OnCancel (on the exiting thread), the worker
 * sees the cancel, ends it (STATUS_CANCELLED: to CompleteCanceledIrp), and
 * the exit waits for that completion before the thread has ended.
 */
static VOID
ExitCurrentIrpGetsOnCancel(VOID)
{
    ULONG Bound = WdkmHostSetIrpCancelTimeout((ULONG)WdkmTestScaledMs(30000));
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    WDKM_TEST_THREAD *Worker;
    WDKM_TEST_THREAD *Issuer;
    EXIT_CSQ Exit;
    LONG CompletedAtExit;
    LONG CancelledAtExit;

    CHECK(ExitSetUp(&Exit));
    Worker = WdkmTestStartThread(ExitWorkerThread, &Exit);
    Issuer = WdkmTestStartThread(ExitIssuerWaitingThread, &Exit);
    CHECK(Worker != NULL && Issuer != NULL);
    WdkmTestJoinThread(Issuer);
    CompletedAtExit = WdkmHostIrpCompletions(Exit.Irp);
    CancelledAtExit = __atomic_load_n(&Exit.Outcome.Cancelled, __ATOMIC_SEQ_CST);
    WdkmTestJoinThread(Worker);
    CHECK_STATUS(WdkmCsqDestroy(Exit.Csq), STATUS_SUCCESS);
    WdkmHostSetIrpCancelTimeout(Bound);
    CHECK_STATUS(Exit.InsertStatus, STATUS_PENDING);
    CHECK_STATUS(Exit.StartStatus, STATUS_SUCCESS);
    CHECK_EQ(Exit.OnCancelCalls, 1);
    CHECK(Exit.OnCancelThread == Exit.Issuer);          /* on the exiting thread */
    CHECK_STATUS(Exit.CheckStatus, STATUS_CANCELLED);
    CHECK_STATUS(Exit.EndStatus, STATUS_CANCELLED);
    CHECK_EQ(CompletedAtExit, 1);                       /* the exit waited for it */
    CHECK_EQ(CancelledAtExit, 1);
    CHECK_EQ(Exit.CallbackCalls, 1);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    WdkmHostIrpFree(Exit.Irp);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

static const WDKM_TEST_CASE CsqThreadExitCases[] = {
    { "a queued irp of an exiting thread completes as cancelled", ExitQueuedIrpCompletedAsCancelled },
    { "a current irp of an exiting thread gets its oncancel", ExitCurrentIrpGetsOnCancel },
};

const WDKM_TEST_SUITE WdkmCsqThreadExitSuite =
    WDKM_TEST_SUITE_OF("csq-thread-exit", CsqThreadExitCases);
