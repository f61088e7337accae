/*
 * test_csq_current.c - the cancel-safe queue's current IRP (wdkm_csq.h:
 * WdkmCsqStartNextIrp, WdkmCsqCheckCurrentIrp, WdkmCsqEndCurrentIrp,
 * WdkmCsqCancelCurrentIrps): a worker's IRP stays cancellable while it
 * works on it, is never completed under it, and ends exactly once - by
 * the worker when the end says so, else through CompleteCanceledIrp.
 *
 * Cancellation before, while and after the IRP becomes current; the
 * routine taken by IoCancelIrp but not yet called when the worker ends
 * (IoCancelIrp stopped half-way, as an interrupt between its exchange and
 * its call would); cleanup of a file object; the destroy with an IRP
 * held; a DPC on the worker's own thread; misuse; and a seeded race of
 * workers, inserters and cancellers under injected DPCs and APCs. The
 * emulation bug checks a second completion, or one with a cancel routine
 * still set, so "exactly once" is checked twice.
 */
#include "wdkm_test_irp.h"

#include <stdio.h>
#include <stdlib.h>

/* Start keeps the routine armed; an end with no cancel hands it back. */
static VOID
CurStartThenEndHandsBack(VOID)
{
    WDKM_TEST_CSQ_SETUP Setup;
    PIRP Irp;
    PIRP Removed;

    CHECK(WdkmTestCsqSetUp(&Setup, 2, NULL));
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    CHECK(Irp == Setup.Irps[0]);
    CHECK(Irp->CancelRoutine != NULL);                  /* still cancellable */
    CHECK_EQ(WdkmTestCsqCount(Setup.Csq), 1);                  /* out of the queue */
    /* Its context is free again: the IRP left the queue. */
    CHECK_STATUS(WdkmCsqRemoveIrp(Setup.Csq, &Setup.Contexts[0], &Removed), STATUS_NOT_FOUND);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Setup.Csq, &Setup.Current), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_SUCCESS);
    CHECK(Irp->CancelRoutine == NULL);
    CHECK(!IoCancelIrp(Irp));                           /* nothing runs now */
    WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 0);
    /* The record again, for the next one. */
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    CHECK(Irp == Setup.Irps[1]);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_SUCCESS);
    WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 0);
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp),
                 STATUS_NO_MORE_ENTRIES);
    CHECK(Irp == NULL);
    CHECK_EQ(Setup.Outcome.Succeeded, 2);
    CHECK_EQ(Setup.Outcome.CallbackCalls, 0);
    WdkmTestCsqTearDown(&Setup);
}

/*
 * Cancelled while current: marked, never completed under the worker; the
 * record's OnCancel wakes it once; the end sends it to the callback.
 */
static VOID
CurCancelWhileCurrent(VOID)
{
    WDKM_TEST_CSQ_SETUP Setup;
    PIRP Irp;

    CHECK(WdkmTestCsqSetUp(&Setup, 1, NULL));
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    CHECK(IoCancelIrp(Irp));
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 0);           /* the worker still uses it */
    CHECK_EQ(Setup.Outcome.OnCancelCalls, 1);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Setup.Csq, &Setup.Current), STATUS_CANCELLED);
    CHECK(!IoCancelIrp(Irp));                           /* its routine ran once */
    CHECK_EQ(Setup.Outcome.OnCancelCalls, 1);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_CANCELLED);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);           /* inside the end */
    CHECK_EQ(Setup.Outcome.CallbackCalls, 1);
    CHECK_EQ(Setup.Outcome.Cancelled, 1);
    /* Ended: the record holds nothing, a second end is refused. */
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Setup.Csq, &Setup.Current), STATUS_INVALID_PARAMETER);
    WdkmTestCsqTearDown(&Setup);
}

/* Cancelled before it could become current: the callback, never a worker. */
static VOID
CurCancelBeforeCurrent(VOID)
{
    WDKM_TEST_CSQ_SETUP Setup;
    PIRP Irp;

    CHECK(WdkmTestCsqSetUp(&Setup, 2, NULL));
    CHECK(IoCancelIrp(Setup.Irps[0]));
    CHECK_EQ(Setup.Outcome.CallbackCalls, 1);
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    CHECK(Irp == Setup.Irps[1]);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_SUCCESS);
    WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 0);
    CHECK_EQ(Setup.Outcome.OnCancelCalls, 0);
    WdkmTestCsqTearDown(&Setup);
}

/*
 * IoCancelIrp set Cancel but found no routine (it came while the queue had
 * it cleared): the end, which gets the routine back, still reads Cancel and
 * sends the IRP to the callback rather than to the worker.
 */
static VOID
CurCancelFlagWithoutRoutine(VOID)
{
    WDKM_TEST_CSQ_SETUP Setup;
    PIRP Irp;

    CHECK(WdkmTestCsqSetUp(&Setup, 1, NULL));
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    __atomic_store_n(&Irp->Cancel, TRUE, __ATOMIC_SEQ_CST);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Setup.Csq, &Setup.Current), STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_CANCELLED);
    CHECK_EQ(Setup.Outcome.CallbackCalls, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    WdkmTestCsqTearDown(&Setup);
}

/*
 * IoCancelIrp half-way: it took the routine (the cancel spin lock held)
 * but has not called it when the worker ends. The end must neither
 * complete the IRP (the routine will touch it) nor give it to the worker:
 * it answers STATUS_CANCELLED and the routine completes it when it comes.
 * The destroy meanwhile waits for it.
 */
typedef struct _CUR_DESTROYER {
    PWDKM_CSQ Csq;
    LONG Done;
} CUR_DESTROYER;

static VOID
CurDestroyThread(PVOID Context, ULONG Index)
{
    CUR_DESTROYER *Destroyer = (CUR_DESTROYER *)Context;

    UNREFERENCED_PARAMETER(Index);
    if (WdkmCsqDestroy(Destroyer->Csq) == STATUS_SUCCESS) {
        __atomic_store_n(&Destroyer->Done, 1, __ATOMIC_RELEASE);
    }
}

static VOID
CurEndBeforeTakenRoutineRuns(VOID)
{
    WDKM_TEST_CSQ_SETUP Setup;
    CUR_DESTROYER Destroyer = { NULL, 0 };
    WDKM_TEST_THREAD *Thread;
    PDRIVER_CANCEL Routine;
    LONG DestroyedEarly;
    PIRP Irp;

    CHECK(WdkmTestCsqSetUp(&Setup, 1, NULL));
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    Routine = WdkmTestIrpTakeCancelRoutine(Irp);
    CHECK(Routine != NULL);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_CANCELLED);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 0);           /* left to the routine */
    /* The record is free at once: the next IRP may be started with it. */
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Setup.Csq, &Setup.Current), STATUS_INVALID_PARAMETER);
    Destroyer.Csq = Setup.Csq;
    Thread = WdkmTestStartThread(CurDestroyThread, &Destroyer);
    CHECK(Thread != NULL);
    WdkmTestSleepMs(30);
    DestroyedEarly = __atomic_load_n(&Destroyer.Done, __ATOMIC_ACQUIRE);
    if (Routine != NULL) {
        WdkmTestIrpCallCancelRoutine(Irp, Routine);
    }
    WdkmTestJoinThread(Thread);
    CHECK_EQ(DestroyedEarly, 0);
    CHECK_EQ(Destroyer.Done, 1);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    CHECK_EQ(Setup.Outcome.CallbackCalls, 1);
    CHECK_EQ(Setup.Outcome.OnCancelCalls, 0);           /* no holder when it came */
    WdkmHostIrpFree(Irp);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/*
 * IRP_MJ_CLEANUP: two workers, one IRP of each file object; cancelling
 * the current IRPs of one file object marks and wakes that worker only.
 */
static VOID
CurCleanupCancelsFileCurrent(VOID)
{
    FILE_OBJECT File1 = { IO_TYPE_FILE, (SHORT)sizeof(FILE_OBJECT), NULL, NULL, NULL };
    FILE_OBJECT File2 = File1;
    WDKM_TEST_IRP_OUTCOME Outcome = { 0 };
    WDKM_TEST_IRP_OUTCOME Wakes1 = { 0 };
    WDKM_TEST_IRP_OUTCOME Wakes2 = { 0 };
    WDKM_CSQ_CURRENT Worker1;
    WDKM_CSQ_CURRENT Worker2;
    PWDKM_CSQ Csq;
    PIRP Irps[3];
    PIRP Irp1;
    PIRP Irp2;
    PIRP Removed;
    ULONG Count = 99;
    ULONG Index;

    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Outcome, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInitializeCurrent(&Worker1, WdkmTestIrpOnCancel, &Wakes1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInitializeCurrent(&Worker2, WdkmTestIrpOnCancel, &Wakes2), STATUS_SUCCESS);
    Irps[0] = WdkmTestIrpAllocate(&Outcome, &File1);
    Irps[1] = WdkmTestIrpAllocate(&Outcome, &File2);
    Irps[2] = WdkmTestIrpAllocate(&Outcome, &File1);
    for (Index = 0; Index < 3; Index += 1) {
        CHECK(Irps[Index] != NULL);
        CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irps[Index], NULL), STATUS_PENDING);
    }
    CHECK_STATUS(WdkmCsqStartNextIrp(Csq, NULL, NULL, &Worker1, &Irp1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqStartNextIrp(Csq, WdkmTestIrpOfFile, &File2, &Worker2, &Irp2),
                 STATUS_SUCCESS);
    CHECK(Irp1 == Irps[0] && Irp2 == Irps[1]);

    /* The cleanup of File1: its queued IRP, then its current one. */
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, WdkmTestIrpOfFile, &File1, &Removed), STATUS_SUCCESS);
    CHECK(Removed == Irps[2]);
    WdkmTestIrpCompleteCancelled(Csq, Removed, &Outcome);
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(Csq, WdkmTestIrpOfFile, &File1, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 1);
    CHECK_EQ(Wakes1.OnCancelCalls, 1);
    CHECK_EQ(Wakes2.OnCancelCalls, 0);
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(Csq, WdkmTestIrpOfFile, &File1, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 0);                                 /* asked once */
    CHECK_EQ(Wakes1.OnCancelCalls, 1);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Csq, &Worker1), STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Csq, &Worker2), STATUS_SUCCESS);
    CHECK(Irp1->CancelRoutine != NULL);                 /* not IoCancelIrp: still armed */
    CHECK_EQ(WdkmHostIrpCompletions(Irp1), 0);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Csq, &Worker1), STATUS_CANCELLED);
    CHECK_EQ(WdkmHostIrpCompletions(Irp1), 1);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Csq, &Worker2), STATUS_SUCCESS);
    WdkmTestIrpComplete(Irp2, STATUS_SUCCESS, 0);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(Outcome.Cancelled, 2);
    CHECK_EQ(Outcome.Succeeded, 1);
    for (Index = 0; Index < 3; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(Irps[Index]), 1);
        WdkmHostIrpFree(Irps[Index]);
    }
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* The destroy with an IRP held is refused and changes nothing. */
static VOID
CurDestroyRefusedWhileHeld(VOID)
{
    WDKM_TEST_CSQ_SETUP Setup;
    PIRP Irp;
    PIRP Extra;

    CHECK(WdkmTestCsqSetUp(&Setup, 2, NULL));
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqDestroy(Setup.Csq), STATUS_DEVICE_BUSY);
    CHECK_EQ(WdkmTestCsqCount(Setup.Csq), 1);                  /* not drained */
    CHECK_EQ(Setup.Outcome.CallbackCalls, 0);
    Extra = WdkmTestIrpAllocate(&Setup.Outcome, NULL);
    CHECK(Extra != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Setup.Csq, Extra, NULL), STATUS_PENDING);   /* not closed */
    /* The unload's order: ask, let the worker end, destroy. */
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(Setup.Csq, NULL, NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(Setup.Outcome.OnCancelCalls, 1);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqDestroy(Setup.Csq), STATUS_SUCCESS);
    CHECK_EQ(Setup.Outcome.Cancelled, 3);
    CHECK_EQ(WdkmHostIrpCompletions(Extra), 1);
    WdkmHostIrpFree(Extra);
    WdkmHostIrpFree(Setup.Irps[0]);
    WdkmHostIrpFree(Setup.Irps[1]);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/*
 * A DPC on the worker's own thread (to NT that thread) cancels the IRP in
 * the middle of its work: the routine runs there, at DISPATCH_LEVEL, and
 * marks it; the worker then ends it at DISPATCH_LEVEL, as a DPC-driven
 * StartIo does, and a special APC in between polls.
 */
typedef struct _CUR_EVENT {
    PIRP Irp;
    PWDKM_CSQ Csq;
    PWDKM_CSQ_CURRENT Current;
    BOOLEAN Delivered;
    KIRQL Irql;
    NTSTATUS Status;
} CUR_EVENT;

static VOID
CurInterruptRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    CUR_EVENT *Event = (CUR_EVENT *)Context;

    UNREFERENCED_PARAMETER(Random);
    Event->Irql = KeGetCurrentIrql();
    if (Kind == WdkmHostInterruptDpc) {
        Event->Delivered = IoCancelIrp(Event->Irp);
    } else {
        Event->Status = WdkmCsqCheckCurrentIrp(Event->Csq, Event->Current);
    }
}

static VOID
CurDpcOnWorkerThread(VOID)
{
    WDKM_TEST_CSQ_SETUP Setup;
    CUR_EVENT Event;
    KIRQL OldIrql;
    PIRP Irp;

    CHECK(WdkmTestCsqSetUp(&Setup, 2, NULL));
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    RtlZeroMemory(&Event, sizeof(Event));
    Event.Irp = Irp;
    Event.Csq = Setup.Csq;
    Event.Current = &Setup.Current;
    Event.Status = STATUS_UNSUCCESSFUL;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, CurInterruptRoutine,
                           &Event);
    CHECK_STATUS(Event.Status, STATUS_SUCCESS);
    CHECK_EQ(Event.Irql, APC_LEVEL);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, CurInterruptRoutine, &Event);
    CHECK(Event.Delivered);
    CHECK_EQ(Event.Irql, DISPATCH_LEVEL);
    CHECK_EQ(Setup.Outcome.OnCancelCalls, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 0);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, CurInterruptRoutine,
                           &Event);
    CHECK_STATUS(Event.Status, STATUS_CANCELLED);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Setup.Csq, &Setup.Current), STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_CANCELLED);
    /* The next one, started and ended in the same DPC. */
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_SUCCESS);
    WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 0);
    KeLowerIrql(OldIrql);
    CHECK_EQ(Setup.Outcome.Cancelled, 1);
    CHECK_EQ(Setup.Outcome.Succeeded, 1);
    WdkmTestCsqTearDown(&Setup);
}

/* Misuse: a status, nothing changed, no bug check. */
static PWDKM_CSQ CurReentrantCsq;
static PWDKM_CSQ_CURRENT CurReentrantCurrent;
static NTSTATUS CurReentrantStatus;

static BOOLEAN
CurEndFromMatch(PIRP Irp, PVOID MatchContext)
{
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(MatchContext);
    CurReentrantStatus = WdkmCsqEndCurrentIrp(CurReentrantCsq, CurReentrantCurrent);
    return FALSE;
}

static VOID
CurMisuseReturnsStatus(VOID)
{
    WDKM_TEST_CSQ_SETUP Setup;
    WDKM_CSQ_CURRENT Fresh;
    WDKM_CSQ_CURRENT Other;
    PWDKM_CSQ OtherCsq;
    PWDKM_SPIN_LOCK Lock;
    ULONG Value = 0;
    ULONG Bugchecks = WdkmHostBugcheckCount();
    ULONG Count = 7;
    KIRQL OldIrql;
    PIRP Irp;
    PIRP Second;

    CHECK(WdkmTestCsqSetUp(&Setup, 2, NULL));
    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Setup.Outcome, &OtherCsq),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInitializeCurrent(NULL, NULL, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqInitializeCurrent(&Other, NULL, NULL), STATUS_SUCCESS);

    /* A record never initialised. */
    RtlZeroMemory(&Fresh, sizeof(Fresh));
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Fresh, &Irp),
                 STATUS_INVALID_PARAMETER);
    CHECK(Irp == NULL);
    CHECK_EQ(WdkmTestCsqCount(Setup.Csq), 2);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Fresh), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Setup.Csq, &Fresh), STATUS_INVALID_PARAMETER);

    /* NULLs, a handle that is not a queue, the IRQL: before anything. */
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, NULL),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqStartNextIrp(NULL, NULL, NULL, &Setup.Current, &Irp),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, NULL, &Irp), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(NULL, &Setup.Current), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(NULL, NULL, NULL, &Count), STATUS_INVALID_PARAMETER);
    CHECK_EQ(Count, 0);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Value, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqStartNextIrp((PWDKM_CSQ)(PVOID)Lock, NULL, NULL, &Setup.Current, &Irp),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmCsqEndCurrentIrp((PWDKM_CSQ)(PVOID)Lock, &Setup.Current),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp((PWDKM_CSQ)(PVOID)Lock, &Setup.Current),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmCsqCancelCurrentIrps((PWDKM_CSQ)(PVOID)Lock, NULL, NULL, NULL),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmSpinLockDestroy(Lock), STATUS_SUCCESS);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp),
                 STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(OldIrql);
    CHECK_EQ(WdkmTestCsqCount(Setup.Csq), 2);
    CHECK(Setup.Irps[0]->CancelRoutine != NULL);

    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    /* One record, one IRP: a second start with it is refused. */
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Second),
                 STATUS_INVALID_PARAMETER);
    CHECK(Second == NULL);
    CHECK_EQ(WdkmTestCsqCount(Setup.Csq), 1);
    /* Another queue's calls do not know the record. */
    CHECK_STATUS(WdkmCsqEndCurrentIrp(OtherCsq, &Setup.Current), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(OtherCsq, &Setup.Current), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Other), STATUS_INVALID_PARAMETER);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Setup.Csq, &Setup.Current), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(Setup.Csq, NULL, NULL, NULL), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(OldIrql);
    /* An end from a match callback: the queue's lock is the caller's. */
    CurReentrantCsq = Setup.Csq;
    CurReentrantCurrent = &Setup.Current;
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Setup.Csq, CurEndFromMatch, NULL, &Second),
                 STATUS_NO_MORE_ENTRIES);
    CHECK_STATUS(CurReentrantStatus, STATUS_POSSIBLE_DEADLOCK);
    /* Nothing of that changed the hold. */
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Setup.Csq, &Setup.Current), STATUS_SUCCESS);
    CHECK(Irp->CancelRoutine != NULL);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 0);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_SUCCESS);
    WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 0);
    CHECK_STATUS(WdkmCsqDestroy(OtherCsq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostBugcheckCount(), Bugchecks);
    WdkmTestCsqTearDown(&Setup);
}

/*
 * A match callback cancels a held current IRP (the queue's lock is its
 * thread's): marked, not lost, no bug check; and a late cancel routine of
 * a handed-off IRP run from a match callback: completed before that
 * remove returns.
 */
static PIRP CurMatchVictim;
static PDRIVER_CANCEL CurMatchRoutine;

static BOOLEAN
CurCancelFromMatch(PIRP Irp, PVOID MatchContext)
{
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(MatchContext);
    if (CurMatchVictim != NULL) {
        if (CurMatchRoutine != NULL) {
            WdkmTestIrpCallCancelRoutine(CurMatchVictim, CurMatchRoutine);
        } else {
            (VOID)IoCancelIrp(CurMatchVictim);
        }
        CurMatchVictim = NULL;
    }
    return FALSE;
}

static VOID
CurCancelFromMatchIsNotLost(VOID)
{
    WDKM_TEST_CSQ_SETUP Setup;
    ULONG Bugchecks = WdkmHostBugcheckCount();
    PIRP Irp;
    PIRP Removed;

    CHECK(WdkmTestCsqSetUp(&Setup, 3, NULL));
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    CurMatchVictim = Irp;
    CurMatchRoutine = NULL;
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Setup.Csq, CurCancelFromMatch, NULL, &Removed),
                 STATUS_NO_MORE_ENTRIES);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 0);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Setup.Csq, &Setup.Current), STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_CANCELLED);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);

    /* Handed off, then its routine from a match callback. */
    CHECK_STATUS(WdkmCsqStartNextIrp(Setup.Csq, NULL, NULL, &Setup.Current, &Irp), STATUS_SUCCESS);
    CurMatchRoutine = WdkmTestIrpTakeCancelRoutine(Irp);
    CHECK(CurMatchRoutine != NULL);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Setup.Csq, &Setup.Current), STATUS_CANCELLED);
    CurMatchVictim = Irp;
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Setup.Csq, CurCancelFromMatch, NULL, &Removed),
                 STATUS_NO_MORE_ENTRIES);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    CHECK_EQ(Setup.Outcome.CallbackCalls, 2);
    CHECK_EQ(WdkmHostBugcheckCount(), Bugchecks);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    WdkmTestCsqTearDown(&Setup);
}

/*
 * The race, seeded: workers start IRPs (at PASSIVE or DISPATCH_LEVEL),
 * poll, and end them (either level); inserters insert and cancel recent
 * IRPs; the cleanup thread asks for the cancellation of current IRPs;
 * injected DPCs cancel random IRPs on whatever thread they interrupt (a
 * worker's own included), special APCs poll or ask, normal APCs suspend.
 * Every IRP ends exactly once: as success only when its end said so, as
 * cancelled only through the callback.
 */
#define CUR_RACE_WORKERS 2
#define CUR_RACE_INSERTERS 2
#define CUR_RACE_THREADS (CUR_RACE_WORKERS + CUR_RACE_INSERTERS + 1)
#define CUR_RACE_IRPS 3000
#define CUR_RACE_WINDOW 16

typedef struct _CUR_RACE {
    WDKM_TEST_IRP_OUTCOME Outcome;
    PWDKM_CSQ Csq;
    PIRP Irps[CUR_RACE_IRPS];
    WDKM_CSQ_CURRENT Workers[CUR_RACE_WORKERS];
    PIRP LastStarted[CUR_RACE_WORKERS];     /* for the DPCs to aim at; atomic */
    LONG Inserted;
    LONG InsertersDone;
    LONG WorkersDone;
    LONG Started;
    LONG EndedSuccess;
    LONG EndedCancelled;
    LONG PolledCancelled;
    LONG Errors;
    LONG InterruptCancels;
    LONGLONG Deadline;      /* the pacing gives up then (a loaded machine) */
} CUR_RACE;

static CUR_RACE CurRace;

static ULONG
CurNext(ULONG *Seed)
{
    *Seed = *Seed * 1103515245U + 12345U;
    return *Seed >> 8;
}

static VOID
CurRaceInterrupt(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    LONG Inserted = __atomic_load_n(&CurRace.Inserted, __ATOMIC_ACQUIRE);

    UNREFERENCED_PARAMETER(Context);
    if (Kind == WdkmHostInterruptDpc) {
        if ((Random & 2) != 0) {
            /* A worker's IRP, current or just ended (IRPs outlive the run). */
            PIRP Irp = __atomic_load_n(&CurRace.LastStarted[(Random >> 2) % CUR_RACE_WORKERS],
                                       __ATOMIC_ACQUIRE);

            if (Irp != NULL && IoCancelIrp(Irp)) {
                __atomic_fetch_add(&CurRace.InterruptCancels, 1, __ATOMIC_RELAXED);
            }
        } else if (Inserted > 0) {
            LONG Bound = Inserted < CUR_RACE_IRPS ? Inserted : CUR_RACE_IRPS;
            LONG Pick = (LONG)(Random % (ULONG64)Bound);

            if (IoCancelIrp(CurRace.Irps[Pick])) {
                __atomic_fetch_add(&CurRace.InterruptCancels, 1, __ATOMIC_RELAXED);
            }
        }
    } else if (Kind == WdkmHostInterruptSpecialApc) {
        if ((Random & 1) != 0 &&
            WdkmCsqCancelCurrentIrps(CurRace.Csq, NULL, NULL, NULL) != STATUS_SUCCESS) {
            __atomic_fetch_add(&CurRace.Errors, 1, __ATOMIC_RELAXED);
        }
    } else {
        WdkmTestSleepMs(0);
    }
}

static VOID
CurRaceWorker(ULONG Index)
{
    PWDKM_CSQ_CURRENT Current = &CurRace.Workers[Index];
    ULONG Seed = 0x51ED + Index * 7919U;

    for (;;) {
        BOOLEAN AtDispatch = (CurNext(&Seed) & 1) != 0;
        BOOLEAN EndAtDispatch = (CurNext(&Seed) & 1) != 0;
        ULONG Spins = CurNext(&Seed) % 1024;
        KIRQL OldIrql = PASSIVE_LEVEL;
        NTSTATUS Status;
        PIRP Irp;
        ULONG Spin;

        if (AtDispatch) {
            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        }
        Status = WdkmCsqStartNextIrp(CurRace.Csq, NULL, NULL, Current, &Irp);
        if (AtDispatch) {
            KeLowerIrql(OldIrql);
        }
        if (Status == STATUS_NO_MORE_ENTRIES) {
            if (__atomic_load_n(&CurRace.InsertersDone, __ATOMIC_ACQUIRE) == CUR_RACE_INSERTERS) {
                __atomic_fetch_add(&CurRace.WorkersDone, 1, __ATOMIC_ACQ_REL);
                break;
            }
            YieldProcessor();
            continue;
        }
        if (Status != STATUS_SUCCESS) {
            __atomic_fetch_add(&CurRace.Errors, 1, __ATOMIC_RELAXED);
            continue;
        }
        __atomic_fetch_add(&CurRace.Started, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&CurRace.LastStarted[Index], Irp, __ATOMIC_RELEASE);
        /* The work: the IRP is the worker's to touch until its end. */
        for (Spin = 0; Spin < Spins; Spin += 1) {
            Irp->IoStatus.Information = Spin;
            Status = WdkmCsqCheckCurrentIrp(CurRace.Csq, Current);
            if (Status == STATUS_CANCELLED) {
                __atomic_fetch_add(&CurRace.PolledCancelled, 1, __ATOMIC_RELAXED);
                break;
            }
            if (Status != STATUS_SUCCESS) {
                __atomic_fetch_add(&CurRace.Errors, 1, __ATOMIC_RELAXED);
            }
            YieldProcessor();
        }
        if (EndAtDispatch) {
            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        }
        Status = WdkmCsqEndCurrentIrp(CurRace.Csq, Current);
        if (Status == STATUS_SUCCESS) {
            __atomic_fetch_add(&CurRace.EndedSuccess, 1, __ATOMIC_RELAXED);
            WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 0);
        } else if (Status == STATUS_CANCELLED) {
            __atomic_fetch_add(&CurRace.EndedCancelled, 1, __ATOMIC_RELAXED);
        } else {
            __atomic_fetch_add(&CurRace.Errors, 1, __ATOMIC_RELAXED);
        }
        if (EndAtDispatch) {
            KeLowerIrql(OldIrql);
        }
    }
}

static VOID
CurRaceInserter(ULONG Index)
{
    ULONG Seed = 0xC0FFEE + Index * 104729U;

    for (;;) {
        LONG Next = __atomic_fetch_add(&CurRace.Inserted, 1, __ATOMIC_ACQ_REL);
        LONG Pick;

        if (Next >= CUR_RACE_IRPS) {
            break;
        }
        /* Paced by the injection: one DPC delivered per 8 IRPs, so that
           DPCs meet the queue's calls whatever the machine's speed. The
           thread spins (it is interrupted; a sleeping one is not). */
        for (;;) {
            ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];

            WdkmHostQueryInterruptCounts(Delivered, NULL);
            if (Delivered[WdkmHostInterruptDpc] >= (ULONG64)Next / 8 ||
                WdkmTestNowMs() > CurRace.Deadline) {
                break;
            }
            YieldProcessor();
        }
        if (WdkmCsqInsertIrp(CurRace.Csq, CurRace.Irps[Next], NULL) != STATUS_PENDING) {
            __atomic_fetch_add(&CurRace.Errors, 1, __ATOMIC_RELAXED);
        }
        if (CurNext(&Seed) % 3 == 0) {
            Pick = Next - (LONG)(CurNext(&Seed) % CUR_RACE_WINDOW);
            (VOID)IoCancelIrp(CurRace.Irps[Pick < 0 ? 0 : Pick]);
        }
    }
    __atomic_fetch_add(&CurRace.InsertersDone, 1, __ATOMIC_ACQ_REL);
}

static VOID
CurRaceCleanup(VOID)
{
    ULONG Seed = 0xBEEF;

    while (__atomic_load_n(&CurRace.WorkersDone, __ATOMIC_ACQUIRE) < CUR_RACE_WORKERS) {
        if (CurNext(&Seed) % 16 == 0 &&
            WdkmCsqCancelCurrentIrps(CurRace.Csq, NULL, NULL, NULL) != STATUS_SUCCESS) {
            __atomic_fetch_add(&CurRace.Errors, 1, __ATOMIC_RELAXED);
        }
        YieldProcessor();
    }
}

static VOID
CurRaceThread(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Context);
    if (Index < CUR_RACE_WORKERS) {
        CurRaceWorker(Index);
    } else if (Index < CUR_RACE_WORKERS + CUR_RACE_INSERTERS) {
        CurRaceInserter(Index - CUR_RACE_WORKERS);
    } else {
        CurRaceCleanup();
    }
}

static VOID
CurSeededRace(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_HOST_INTERRUPT_SETTINGS Previous;
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];
    PCSTR SeedText = getenv("WDKM_CSQ_CURRENT_SEED");
    ULONG Bugchecks = WdkmHostBugcheckCount();
    BOOLEAN WasActive;
    ULONG Index;

    RtlZeroMemory(&CurRace, sizeof(CurRace));
    CHECK_STATUS(WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &CurRace.Outcome, &CurRace.Csq),
                 STATUS_SUCCESS);
    for (Index = 0; Index < CUR_RACE_WORKERS; Index += 1) {
        CHECK_STATUS(WdkmCsqInitializeCurrent(&CurRace.Workers[Index], WdkmTestIrpOnCancel,
                                              &CurRace.Outcome), STATUS_SUCCESS);
    }
    for (Index = 0; Index < CUR_RACE_IRPS; Index += 1) {
        CurRace.Irps[Index] = WdkmTestIrpAllocate(&CurRace.Outcome, NULL);
        CHECK(CurRace.Irps[Index] != NULL);
    }
    CurRace.Deadline = WdkmTestNowMs() + 10000;
    WasActive = WdkmHostInterruptsActive(&Previous);
    RtlZeroMemory(&Settings, sizeof(Settings));
    Settings.Seed = SeedText != NULL ? strtoull(SeedText, NULL, 0) : 20261207;
    Settings.MeanIntervalMicroseconds = 100;
    Settings.DpcWeight = 3;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 2;
    Settings.SuspendMaxMicroseconds = 30;
    Settings.Routine = CurRaceInterrupt;
    WdkmHostInterruptsStart(&Settings);
    CHECK(WdkmTestRunThreads(CUR_RACE_THREADS, CurRaceThread, NULL));
    WdkmHostInterruptsStop();
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    if (WasActive) {
        WdkmHostInterruptsStart(&Previous);
    }
    CHECK_STATUS(WdkmCsqDestroy(CurRace.Csq), STATUS_SUCCESS);
    CHECK_EQ(CurRace.Errors, 0);
    CHECK_EQ(WdkmHostBugcheckCount(), Bugchecks);
    CHECK_EQ(CurRace.Outcome.Completed, CUR_RACE_IRPS);
    CHECK_EQ(CurRace.Outcome.Succeeded, CurRace.EndedSuccess);
    CHECK_EQ(CurRace.Outcome.Cancelled, CurRace.Outcome.CallbackCalls);
    CHECK_EQ(CurRace.Outcome.Succeeded + CurRace.Outcome.Cancelled, CUR_RACE_IRPS);
    CHECK_EQ(CurRace.Started, CurRace.EndedSuccess + CurRace.EndedCancelled);
    /* It really raced: current IRPs were cancelled, by polls too. */
    printf("csq-current race: %llu DPCs; %d started, %d ended (%d cancelled, %d seen by a "
           "poll), %d OnCancel, %d cancels from DPCs\n",
           (unsigned long long)Delivered[WdkmHostInterruptDpc], (int)CurRace.Started,
           (int)(CurRace.EndedSuccess + CurRace.EndedCancelled), (int)CurRace.EndedCancelled,
           (int)CurRace.PolledCancelled, (int)CurRace.Outcome.OnCancelCalls,
           (int)CurRace.InterruptCancels);
    CHECK(CurRace.EndedCancelled > 0);
    CHECK(CurRace.PolledCancelled > 0);
    CHECK(CurRace.Outcome.OnCancelCalls > 0);
    CHECK(Delivered[WdkmHostInterruptDpc] >= CUR_RACE_IRPS / 8 - 1);
    for (Index = 0; Index < CUR_RACE_IRPS; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(CurRace.Irps[Index]), 1);
        WdkmHostIrpFree(CurRace.Irps[Index]);
    }
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

static const WDKM_TEST_CASE CsqCurrentCases[] = {
    { "start then end hands back", CurStartThenEndHandsBack },
    { "cancel while current", CurCancelWhileCurrent },
    { "cancel before current", CurCancelBeforeCurrent },
    { "cancel flag without routine", CurCancelFlagWithoutRoutine },
    { "end before the taken routine runs", CurEndBeforeTakenRoutineRuns },
    { "cleanup cancels a file's current", CurCleanupCancelsFileCurrent },
    { "destroy refused while held", CurDestroyRefusedWhileHeld },
    { "dpc on the worker's thread", CurDpcOnWorkerThread },
    { "misuse returns a status", CurMisuseReturnsStatus },
    { "a cancel from a match callback is not lost", CurCancelFromMatchIsNotLost },
    { "seeded race under interrupts", CurSeededRace },
};

const WDKM_TEST_SUITE WdkmCsqCurrentSuite = WDKM_TEST_SUITE_OF("csq-current", CsqCurrentCases);
