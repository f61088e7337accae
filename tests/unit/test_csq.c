/*
 * test_csq.c - the cancel-safe queue (wdkm_csq.h): the IoCsq contract,
 * each way an IRP can leave the queue, the races between them, misuse,
 * and no pool left after destroy.
 *
 * IRPs are the host emulation's (wdkm_host_io.h): IoCancelIrp calls the
 * queue's cancel routine as NT does, and IoCompleteRequest bug checks a
 * second completion or one with a cancel routine still set, so "every IRP
 * completed exactly once" is checked by the emulation as well as counted.
 */
#include "wdkm_test_irp.h"

/* Insert marks pending and queues; RemoveNext hands them back oldest first. */
static VOID
InsertThenRemoveNextInOrder(VOID)
{
    WDKM_TEST_IRP_OUTCOME Outcome = { 0 };
    PWDKM_CSQ Csq;
    PIRP Irps[3];
    PIRP Removed;
    ULONG Index;

    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Outcome, &Csq), STATUS_SUCCESS);
    for (Index = 0; Index < 3; Index += 1) {
        Irps[Index] = WdkmTestIrpAllocate(&Outcome, NULL);
        CHECK(Irps[Index] != NULL);
        CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irps[Index], NULL), STATUS_PENDING);
        CHECK(IoGetCurrentIrpStackLocation(Irps[Index])->Control & SL_PENDING_RETURNED);
        CHECK(Irps[Index]->CancelRoutine != NULL);
    }
    CHECK_EQ(WdkmTestCsqCount(Csq), 3);
    for (Index = 0; Index < 3; Index += 1) {
        CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Removed), STATUS_SUCCESS);
        CHECK(Removed == Irps[Index]);
        CHECK(Removed->CancelRoutine == NULL);
        WdkmTestIrpComplete(Removed, STATUS_SUCCESS, 0);
    }
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Removed), STATUS_NO_MORE_ENTRIES);
    CHECK(Removed == NULL);
    CHECK_EQ(WdkmTestCsqCount(Csq), 0);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(Outcome.Succeeded, 3);
    CHECK_EQ(Outcome.NotPending, 0);
    CHECK_EQ(Outcome.CallbackCalls, 0);
    for (Index = 0; Index < 3; Index += 1) {
        WdkmHostIrpFree(Irps[Index]);
    }
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* A queued IRP cancelled: unlinked and handed to the callback, once. */
static VOID
CancelCompletesThroughCallback(VOID)
{
    WDKM_TEST_IRP_OUTCOME Outcome = { 0 };
    PWDKM_CSQ Csq;
    PIRP Irp;
    PIRP Removed;

    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Outcome, &Csq), STATUS_SUCCESS);
    Irp = WdkmTestIrpAllocate(&Outcome, NULL);
    CHECK(Irp != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_PENDING);
    CHECK(IoCancelIrp(Irp));
    CHECK_EQ(Outcome.CallbackCalls, 1);
    CHECK_EQ(Outcome.Cancelled, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(WdkmTestCsqCount(Csq), 0);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Removed), STATUS_NO_MORE_ENTRIES);
    CHECK(!IoCancelIrp(Irp));           /* no routine left: nothing runs twice */
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(Outcome.CallbackCalls, 1);
    WdkmHostIrpFree(Irp);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/*
 * Cancelled before the insert (IoCancelIrp found no routine and only set
 * Cancel): the insert must notice, or the IRP would wait in the queue
 * although its requester gave up on it.
 */
static VOID
CancelledBeforeInsertGoesToCallback(VOID)
{
    WDKM_TEST_IRP_OUTCOME Outcome = { 0 };
    PWDKM_CSQ Csq;
    PIRP Irp;

    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Outcome, &Csq), STATUS_SUCCESS);
    Irp = WdkmTestIrpAllocate(&Outcome, NULL);
    CHECK(Irp != NULL);
    CHECK(!IoCancelIrp(Irp));
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_PENDING);
    CHECK_EQ(Outcome.CallbackCalls, 1);
    CHECK_EQ(Outcome.Cancelled, 1);
    CHECK_EQ(Outcome.NotPending, 0);    /* marked pending: the dispatch returns STATUS_PENDING */
    CHECK(Irp->CancelRoutine == NULL);
    CHECK_EQ(WdkmTestCsqCount(Csq), 0);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Irp);
}

/* A kept context removes its own IRP, once; a cancelled one is gone. */
static VOID
RemoveByContext(VOID)
{
    WDKM_TEST_IRP_OUTCOME Outcome = { 0 };
    WDKM_CSQ_IRP_CONTEXT ContextA;
    WDKM_CSQ_IRP_CONTEXT ContextB;
    PWDKM_CSQ Csq;
    PWDKM_CSQ Other;
    PIRP A;
    PIRP B;
    PIRP Removed;

    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Outcome, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Outcome, &Other), STATUS_SUCCESS);
    A = WdkmTestIrpAllocate(&Outcome, NULL);
    B = WdkmTestIrpAllocate(&Outcome, NULL);
    CHECK(A != NULL && B != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, A, &ContextA), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, B, &ContextB), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqRemoveIrp(Other, &ContextB, &Removed), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, &ContextB, &Removed), STATUS_SUCCESS);
    CHECK(Removed == B);
    WdkmTestIrpComplete(B, STATUS_SUCCESS, 0);
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, &ContextB, &Removed), STATUS_NOT_FOUND);
    CHECK(Removed == NULL);
    CHECK(IoCancelIrp(A));
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, &ContextA, &Removed), STATUS_NOT_FOUND);
    CHECK_EQ(Outcome.Succeeded, 1);
    CHECK_EQ(Outcome.Cancelled, 1);
    CHECK_STATUS(WdkmCsqDestroy(Other), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(A);
    WdkmHostIrpFree(B);
}

/* RemoveNext with a context taken out by RemoveNext: the context forgets it. */
static VOID
RemoveNextClearsContext(VOID)
{
    WDKM_TEST_IRP_OUTCOME Outcome = { 0 };
    WDKM_CSQ_IRP_CONTEXT Context;
    PWDKM_CSQ Csq;
    PIRP Irp;
    PIRP Removed;

    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Outcome, &Csq), STATUS_SUCCESS);
    Irp = WdkmTestIrpAllocate(&Outcome, NULL);
    CHECK(Irp != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, &Context), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Removed), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, &Context, &Removed), STATUS_NOT_FOUND);
    WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 0);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Irp);
}

/* The cleanup pattern: the oldest IRP of one file object, the rest stay. */
static VOID
RemoveNextWithMatch(VOID)
{
    WDKM_TEST_IRP_OUTCOME Outcome = { 0 };
    FILE_OBJECT File1 = { IO_TYPE_FILE, (SHORT)sizeof(FILE_OBJECT), NULL, NULL, NULL };
    FILE_OBJECT File2 = File1;
    PWDKM_CSQ Csq;
    PIRP Irps[3];
    PIRP Removed;
    KIRQL OldIrql;
    ULONG Index;

    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Outcome, &Csq), STATUS_SUCCESS);
    Irps[0] = WdkmTestIrpAllocate(&Outcome, &File1);
    Irps[1] = WdkmTestIrpAllocate(&Outcome, &File2);
    Irps[2] = WdkmTestIrpAllocate(&Outcome, &File1);
    for (Index = 0; Index < 3; Index += 1) {
        CHECK(Irps[Index] != NULL);
        CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irps[Index], NULL), STATUS_PENDING);
    }
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, WdkmTestIrpOfFile, &File2, &Removed), STATUS_SUCCESS);
    CHECK(Removed == Irps[1]);
    WdkmTestIrpComplete(Removed, STATUS_SUCCESS, 0);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, WdkmTestIrpOfFile, &File2, &Removed),
                 STATUS_NO_MORE_ENTRIES);
    /* As a DPC would: at DISPATCH_LEVEL already. */
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, WdkmTestIrpOfFile, &File1, &Removed), STATUS_SUCCESS);
    KeLowerIrql(OldIrql);
    CHECK(Removed == Irps[0]);
    WdkmTestIrpComplete(Removed, STATUS_SUCCESS, 0);
    CHECK_EQ(WdkmTestCsqCount(Csq), 1);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);     /* drains Irps[2] */
    CHECK_EQ(Outcome.Succeeded, 2);
    CHECK_EQ(Outcome.Cancelled, 1);
    for (Index = 0; Index < 3; Index += 1) {
        WdkmHostIrpFree(Irps[Index]);
    }
}

/*
 * A remover meets an IRP whose cancellation is under way (IoCancelIrp took
 * its routine; the routine waits for the queue's lock): it must skip it,
 * and the cancel path completes it, once. Made deterministic by starting
 * the cancel from inside the remover's match callback.
 */
typedef struct _SKIP {
    PIRP Victim;
    LONG Go;
} SKIP;

static VOID
CancelVictim(PVOID Context, ULONG Index)
{
    SKIP *Skip = (SKIP *)Context;

    UNREFERENCED_PARAMETER(Index);
    while (!__atomic_load_n(&Skip->Go, __ATOMIC_ACQUIRE)) {
        YieldProcessor();
    }
    (VOID)IoCancelIrp(Skip->Victim);
}

/* At DISPATCH_LEVEL under the queue's lock: let the canceller go and wait
   until IoCancelIrp has taken the routine (it then waits for this lock). */
static BOOLEAN
StartCancelThenMatch(PIRP Irp, PVOID MatchContext)
{
    SKIP *Skip = (SKIP *)MatchContext;

    __atomic_store_n(&Skip->Go, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&Skip->Victim->CancelRoutine, __ATOMIC_ACQUIRE) != NULL) {
        YieldProcessor();
    }
    return Irp == Skip->Victim;
}

static VOID
RemoveSkipsIrpBeingCancelled(VOID)
{
    WDKM_TEST_IRP_OUTCOME Outcome = { 0 };
    SKIP Skip = { NULL, 0 };
    WDKM_TEST_THREAD *Canceller;
    PWDKM_CSQ Csq;
    PIRP Irp;
    PIRP Removed;

    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Outcome, &Csq), STATUS_SUCCESS);
    Irp = WdkmTestIrpAllocate(&Outcome, NULL);
    CHECK(Irp != NULL);
    Skip.Victim = Irp;
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_PENDING);
    Canceller = WdkmTestStartThread(CancelVictim, &Skip);
    CHECK(Canceller != NULL);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, StartCancelThenMatch, &Skip, &Removed),
                 STATUS_NO_MORE_ENTRIES);
    WdkmTestJoinThread(Canceller);
    CHECK_EQ(Outcome.CallbackCalls, 1);
    CHECK_EQ(Outcome.Cancelled, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    CHECK_EQ(WdkmTestCsqCount(Csq), 0);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Irp);
}

/* Misuse: a status, nothing changed, no bugcheck. */
static PWDKM_CSQ ReentrantCsq;
static NTSTATUS ReentrantStatus;
static PIRP ReentrantIrp;

static BOOLEAN
InsertFromMatch(PIRP Irp, PVOID MatchContext)
{
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(MatchContext);
    ReentrantStatus = WdkmCsqInsertIrp(ReentrantCsq, ReentrantIrp, NULL);
    return FALSE;
}

static VOID
MisuseReturnsStatus(VOID)
{
    WDKM_TEST_IRP_OUTCOME Outcome = { 0 };
    PWDKM_CSQ Csq = (PWDKM_CSQ)(ULONG_PTR)1;
    PIRP Irp;
    PIRP Other;
    PIRP Removed;
    ULONG Bugchecks = WdkmHostBugcheckCount();
    KIRQL OldIrql;

    CHECK_STATUS(WdkmCsqCreate(NULL, NULL, &Csq), STATUS_INVALID_PARAMETER);
    CHECK(Csq == NULL);
    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Outcome, &Csq), STATUS_SUCCESS);
    Irp = WdkmTestIrpAllocate(&Outcome, NULL);
    Other = WdkmTestIrpAllocate(&Outcome, NULL);
    CHECK(Irp != NULL && Other != NULL);

    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Removed), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(OldIrql);
    CHECK(!(IoGetCurrentIrpStackLocation(Irp)->Control & SL_PENDING_RETURNED));
    CHECK(Irp->CancelRoutine == NULL);

    CHECK_STATUS(WdkmCsqInsertIrp(NULL, Irp, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_PENDING);
    /* Inserted twice would corrupt the list. */
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_INVALID_PARAMETER);
    CHECK_EQ(WdkmTestCsqCount(Csq), 1);

    /* The queue's own lock is held in a match callback. */
    ReentrantCsq = Csq;
    ReentrantIrp = Other;
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, InsertFromMatch, NULL, &Removed), STATUS_NO_MORE_ENTRIES);
    CHECK_STATUS(ReentrantStatus, STATUS_POSSIBLE_DEADLOCK);
    CHECK(Other->CancelRoutine == NULL);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(OldIrql);
    CHECK_EQ(WdkmTestCsqCount(Csq), 1);
    CHECK_STATUS(WdkmCsqDestroy(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(Outcome.Cancelled, 1);
    CHECK_EQ(WdkmHostBugcheckCount(), Bugchecks);
    WdkmHostIrpFree(Irp);
    WdkmHostIrpFree(Other);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/*
 * Misuse with an IRP at stake: a match callback cancels an IRP of the same
 * queue. The cancel routine cannot take the lock (the caller holds it up
 * the stack); the IRP must not be lost, nor make the destroy wait forever:
 * the next remove gets it, or the destroy cancels it.
 */
static PIRP CancelFromMatchVictim;
static BOOLEAN CancelFromMatchDelivered;

static BOOLEAN
CancelFromMatch(PIRP Irp, PVOID MatchContext)
{
    UNREFERENCED_PARAMETER(MatchContext);
    if (Irp == CancelFromMatchVictim) {
        CancelFromMatchDelivered = IoCancelIrp(Irp);
    }
    return FALSE;
}

static VOID
CancelFromMatchIsNotLost(VOID)
{
    WDKM_TEST_IRP_OUTCOME Outcome = { 0 };
    PWDKM_CSQ Csq;
    PIRP First;
    PIRP Second;
    PIRP Removed;
    ULONG Bugchecks = WdkmHostBugcheckCount();

    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Outcome, &Csq), STATUS_SUCCESS);
    First = WdkmTestIrpAllocate(&Outcome, NULL);
    Second = WdkmTestIrpAllocate(&Outcome, NULL);
    CHECK(First != NULL && Second != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, First, NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Second, NULL), STATUS_PENDING);

    /* Cancelled from the match: the remove that ran it completes it as
       cancelled, through the callback, before it returns; it is never
       handed to a remover (csq.md). */
    CancelFromMatchVictim = First;
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, CancelFromMatch, NULL, &Removed),
                 STATUS_NO_MORE_ENTRIES);
    CHECK(CancelFromMatchDelivered);
    CHECK_EQ(WdkmHostIrpCompletions(First), 1);
    CHECK_EQ(Outcome.Cancelled, 1);
    CHECK_EQ(WdkmTestCsqCount(Csq), 1);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Removed), STATUS_SUCCESS);
    CHECK(Removed == Second);
    WdkmTestIrpComplete(Second, STATUS_SUCCESS, 0);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(First), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Second), 1);
    CHECK_EQ(Outcome.Succeeded, 1);
    CHECK_EQ(Outcome.Cancelled, 1);
    CHECK_EQ(WdkmHostBugcheckCount(), Bugchecks);
    WdkmHostIrpFree(First);
    WdkmHostIrpFree(Second);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* An insert from the destroy's own drain is refused: the queue is closing. */
typedef struct _REINSERT {
    WDKM_TEST_IRP_OUTCOME Outcome;
    PIRP Spare;
    NTSTATUS Status;
} REINSERT;

static VOID
ReinsertWhileDestroyed(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    REINSERT *Reinsert = (REINSERT *)Context;

    Reinsert->Status = WdkmCsqInsertIrp(Csq, Reinsert->Spare, NULL);
    WdkmTestIrpCompleteCancelled(Csq, Irp, &Reinsert->Outcome);
}

static VOID
DestroyDrainsAndRefusesInserts(VOID)
{
    REINSERT Reinsert = { { 0 }, NULL, STATUS_SUCCESS };
    PWDKM_CSQ Csq;
    PIRP Irps[3];
    ULONG Index;

    CHECK_STATUS(WdkmCsqCreate(ReinsertWhileDestroyed, &Reinsert, &Csq), STATUS_SUCCESS);
    Reinsert.Spare = WdkmTestIrpAllocate(&Reinsert.Outcome, NULL);
    CHECK(Reinsert.Spare != NULL);
    for (Index = 0; Index < 3; Index += 1) {
        Irps[Index] = WdkmTestIrpAllocate(&Reinsert.Outcome, NULL);
        CHECK(Irps[Index] != NULL);
        CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irps[Index], NULL), STATUS_PENDING);
    }
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(Reinsert.Outcome.CallbackCalls, 3);
    CHECK_EQ(Reinsert.Outcome.Cancelled, 3);
    CHECK_STATUS(Reinsert.Status, STATUS_DELETE_PENDING);
    CHECK(!(IoGetCurrentIrpStackLocation(Reinsert.Spare)->Control & SL_PENDING_RETURNED));
    for (Index = 0; Index < 3; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(Irps[Index]), 1);
        WdkmHostIrpFree(Irps[Index]);
    }
    WdkmHostIrpFree(Reinsert.Spare);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/*
 * The destroy waits for a cancel routine that is still running: freeing
 * the queue under it would be a use after free at unload.
 */
typedef struct _SLOW_CANCEL {
    WDKM_TEST_IRP_OUTCOME Outcome;
    PWDKM_CSQ Csq;
    PIRP Irp;
    LONG InCallback;
    LONG MayFinish;
    LONG Destroyed;
} SLOW_CANCEL;

static VOID
SlowCompleteCancelled(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    SLOW_CANCEL *Slow = (SLOW_CANCEL *)Context;

    __atomic_store_n(&Slow->InCallback, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&Slow->MayFinish, __ATOMIC_ACQUIRE)) {
        WdkmTestSleepMs(1);
    }
    WdkmTestIrpCompleteCancelled(Csq, Irp, &Slow->Outcome);
}

static VOID
SlowCancelThread(PVOID Context, ULONG Index)
{
    SLOW_CANCEL *Slow = (SLOW_CANCEL *)Context;

    UNREFERENCED_PARAMETER(Index);
    (VOID)IoCancelIrp(Slow->Irp);
}

static VOID
DestroyThread(PVOID Context, ULONG Index)
{
    SLOW_CANCEL *Slow = (SLOW_CANCEL *)Context;

    UNREFERENCED_PARAMETER(Index);
    if (WdkmCsqDestroy(Slow->Csq) == STATUS_SUCCESS) {
        __atomic_store_n(&Slow->Destroyed, 1, __ATOMIC_RELEASE);
    }
}

static VOID
DestroyWaitsForRunningCancel(VOID)
{
    SLOW_CANCEL Slow;
    WDKM_TEST_THREAD *Canceller;
    WDKM_TEST_THREAD *Destroyer;
    LONG DestroyedEarly;

    RtlZeroMemory(&Slow, sizeof(Slow));
    CHECK_STATUS(WdkmCsqCreate(SlowCompleteCancelled, &Slow, &Slow.Csq), STATUS_SUCCESS);
    Slow.Irp = WdkmTestIrpAllocate(&Slow.Outcome, NULL);
    CHECK(Slow.Irp != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Slow.Csq, Slow.Irp, NULL), STATUS_PENDING);
    Canceller = WdkmTestStartThread(SlowCancelThread, &Slow);
    CHECK(Canceller != NULL);
    while (!__atomic_load_n(&Slow.InCallback, __ATOMIC_ACQUIRE)) {
        WdkmTestSleepMs(1);
    }
    Destroyer = WdkmTestStartThread(DestroyThread, &Slow);
    CHECK(Destroyer != NULL);
    WdkmTestSleepMs(50);
    DestroyedEarly = __atomic_load_n(&Slow.Destroyed, __ATOMIC_ACQUIRE);
    __atomic_store_n(&Slow.MayFinish, 1, __ATOMIC_RELEASE);
    WdkmTestJoinThread(Canceller);
    WdkmTestJoinThread(Destroyer);
    CHECK_EQ(DestroyedEarly, 0);
    CHECK_EQ(Slow.Destroyed, 1);
    CHECK_EQ(Slow.Outcome.Cancelled, 1);
    WdkmHostIrpFree(Slow.Irp);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/*
 * The race under load: every thread inserts IRPs and, between inserts,
 * takes one out of the queue by one of the three ways (remove next at
 * DISPATCH_LEVEL as the driver's DPC would, cancel, remove by context)
 * aimed at recent IRPs of all threads, so that the ways meet on the same
 * IRPs. Every IRP must be completed exactly once (the emulation bug checks
 * a second completion), as success or STATUS_CANCELLED, the callback must
 * have completed exactly the cancelled ones, and the destroy the rest.
 */
#define RACE_THREADS 4
#define RACE_IRPS 4000
#define RACE_WINDOW 32

typedef struct _RACE {
    WDKM_TEST_IRP_OUTCOME Outcome;
    PWDKM_CSQ Csq;
    PIRP Irps[RACE_IRPS];
    WDKM_CSQ_IRP_CONTEXT Contexts[RACE_IRPS];
    LONG Started;           /* threads at the start line */
    LONG Inserted;          /* index of the next IRP to insert */
    LONG RemovedByNext;
    LONG RemovedByContext;
    LONG CancelsDelivered;  /* IoCancelIrp calls that found a routine */
    LONG Errors;
} RACE;

static VOID
RaceThread(PVOID Context, ULONG Index)
{
    RACE *Race = (RACE *)Context;
    ULONG Seed = 0x9E3779B9U * (Index + 1);
    PIRP Irp;

    /* All at once, or the first thread is done before the others start. */
    __atomic_fetch_add(&Race->Started, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&Race->Started, __ATOMIC_ACQUIRE) < RACE_THREADS) {
        YieldProcessor();
    }
    for (;;) {
        LONG Next = __atomic_fetch_add(&Race->Inserted, 1, __ATOMIC_ACQ_REL);
        LONG Pick;
        KIRQL OldIrql;

        if (Next >= RACE_IRPS) {
            break;
        }
        if (WdkmCsqInsertIrp(Race->Csq, Race->Irps[Next], &Race->Contexts[Next]) !=
            STATUS_PENDING) {
            __atomic_fetch_add(&Race->Errors, 1, __ATOMIC_RELAXED);
        }
        Seed = Seed * 1103515245U + 12345U;
        /* A recent IRP, perhaps still being inserted by another thread:
           the context is read under the queue's lock, and an IRP not in
           the queue yet is simply not found (or cancelled early). */
        Pick = Next - (LONG)((Seed >> 8) % RACE_WINDOW);
        if (Pick < 0) {
            Pick = 0;
        }
        switch ((Seed >> 20) % 3) {
        case 0:
            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
            if (WdkmCsqRemoveNextIrp(Race->Csq, NULL, NULL, &Irp) == STATUS_SUCCESS) {
                __atomic_fetch_add(&Race->RemovedByNext, 1, __ATOMIC_RELAXED);
                WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 0);
            }
            KeLowerIrql(OldIrql);
            break;
        case 1:
            if (IoCancelIrp(Race->Irps[Pick])) {
                __atomic_fetch_add(&Race->CancelsDelivered, 1, __ATOMIC_RELAXED);
            }
            break;
        default:
            if (WdkmCsqRemoveIrp(Race->Csq, &Race->Contexts[Pick], &Irp) == STATUS_SUCCESS) {
                __atomic_fetch_add(&Race->RemovedByContext, 1, __ATOMIC_RELAXED);
                WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 0);
            }
            break;
        }
    }
}

static VOID
CancellationRacesRemoval(VOID)
{
    static RACE Race;
    ULONG Bugchecks = WdkmHostBugcheckCount();
    ULONG Index;
    LONG Remaining;

    RtlZeroMemory(&Race, sizeof(Race));
    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Race.Outcome, &Race.Csq),
                 STATUS_SUCCESS);
    for (Index = 0; Index < RACE_IRPS; Index += 1) {
        Race.Irps[Index] = WdkmTestIrpAllocate(&Race.Outcome, NULL);
        CHECK(Race.Irps[Index] != NULL);
        /* Contexts are filled by the insert; until then they must not
           look like one of this queue's. */
        Race.Contexts[Index].Csq = NULL;
    }
    CHECK(WdkmTestRunThreads(RACE_THREADS, RaceThread, &Race));
    CHECK_EQ(Race.Errors, 0);
    Remaining = (LONG)WdkmTestCsqCount(Race.Csq);
    CHECK_STATUS(WdkmCsqDestroy(Race.Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostBugcheckCount(), Bugchecks);
    CHECK_EQ(Race.Outcome.Completed, RACE_IRPS);
    CHECK_EQ(Race.Outcome.Succeeded + Race.Outcome.Cancelled, RACE_IRPS);
    CHECK_EQ(Race.Outcome.Succeeded, Race.RemovedByNext + Race.RemovedByContext);
    CHECK_EQ(Race.Outcome.CallbackCalls, Race.Outcome.Cancelled);
    CHECK_EQ(Race.Outcome.NotPending, 0);
    CHECK(Remaining >= 0 && Remaining <= RACE_IRPS);
    /* Each cancel that found a routine, and each IRP the destroy drained,
       went to the callback (so did IRPs cancelled before their insert). */
    CHECK(Race.Outcome.Cancelled >= Race.CancelsDelivered + Remaining);
    for (Index = 0; Index < RACE_IRPS; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(Race.Irps[Index]), 1);
        WdkmHostIrpFree(Race.Irps[Index]);
    }
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

static const WDKM_TEST_CASE CsqCases[] = {
    { "insert then remove next, in order", InsertThenRemoveNextInOrder },
    { "cancel completes through the callback", CancelCompletesThroughCallback },
    { "cancelled before insert goes to the callback", CancelledBeforeInsertGoesToCallback },
    { "remove by context", RemoveByContext },
    { "remove next clears the context", RemoveNextClearsContext },
    { "remove next with a match", RemoveNextWithMatch },
    { "remove skips an IRP being cancelled", RemoveSkipsIrpBeingCancelled },
    { "misuse returns a status", MisuseReturnsStatus },
    { "a cancel from a match callback is not lost", CancelFromMatchIsNotLost },
    { "destroy drains and refuses inserts", DestroyDrainsAndRefusesInserts },
    { "destroy waits for a running cancel", DestroyWaitsForRunningCancel },
    { "cancellation races removal", CancellationRacesRemoval },
};

const WDKM_TEST_SUITE WdkmCsqSuite = WDKM_TEST_SUITE_OF("csq", CsqCases);
