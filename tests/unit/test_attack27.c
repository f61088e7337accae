/*
 * test_attack27.c - the cancel-safe IRP queue (WDKM_CSQ), attacked from
 * docs/csq.md, docs/reference.md, include/wdkmutex/wdkm_csq.h and the host
 * emulation's headers alone (not src/, not the other suites).
 *
 * The promises under test (quoted from csq.md / wdkm_csq.h):
 *  P1 "An IRP leaves the queue exactly once, through exactly one of these.
 *     When a remove and a cancellation race for the same IRP, its cancel
 *     routine decides: the side that clears it owns the IRP."
 *  P2 "an IRP cancelled before or during the insert is noticed" (it goes
 *     to the callback; the insert still answers STATUS_PENDING).
 *  P3 "Any other status changed nothing: the IRP is still the caller's,
 *     not marked pending".
 *  P4 "The callback runs at <= DISPATCH_LEVEL without the queue's lock".
 *  P5 WdkmCsqRemoveNextIrp takes "the oldest queued IRP (for which Match,
 *     if given, returns TRUE)"; "IRPs being cancelled are skipped".
 *  P6 WdkmCsqDestroy "hands every IRP still queued to the callback and
 *     waits for cancel routines still running, so the queue is never freed
 *     under one".
 *  P7 "an IRP of the queue cancelled from [a match callback] ... is marked
 *     and the next remove or the destroy takes it".
 *
 * The oracle for P1: IoCancelIrp returns TRUE only when it took the IRP's
 * cancel routine (wdkm_host_io.h), so TRUE means the cancel side cleared it
 * and the IRP must reach the callback (STATUS_CANCELLED); a remove that
 * answered STATUS_SUCCESS must be the only owner (STATUS_SUCCESS here), and
 * every IRP is completed exactly once (WdkmHostIrpCompletions).
 */
#define _DEFAULT_SOURCE 1
#include "wdkm_test.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define A27_STATUS_REMOVED ((NTSTATUS)0x00000000L)   /* STATUS_SUCCESS, by a remover */

typedef struct _A27_QUEUE {
    PWDKM_CSQ Csq;
    LONG volatile Callbacks;
    LONG volatile BadCallbacks;      /* wrong IRQL, wrong queue, cancel routine still set */
    LONG volatile QueryInCallback;   /* non-zero: query the count from the callback */
    LONG volatile QueryFailures;
} A27_QUEUE;

static VOID
A27Complete(PIRP Irp, NTSTATUS Status)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static BOOLEAN A27HasCancelRoutine(PIRP Irp);

static VOID
A27Callback(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    A27_QUEUE *Queue = (A27_QUEUE *)Context;

    if (KeGetCurrentIrql() > DISPATCH_LEVEL || Csq != Queue->Csq ||
        A27HasCancelRoutine(Irp)) {
        InterlockedIncrement(&Queue->BadCallbacks);
    }
    if (InterlockedCompareExchange(&Queue->QueryInCallback, 0, 0) != 0) {
        ULONG Count;

        /* P4: the callback holds no lock of the queue, so a query works. */
        if (WdkmCsqQueryCount(Csq, &Count) != STATUS_SUCCESS) {
            InterlockedIncrement(&Queue->QueryFailures);
        }
    }
    InterlockedIncrement(&Queue->Callbacks);
    A27Complete(Irp, STATUS_CANCELLED);
}

/* The IRP's cancel routine, read as IoSetCancelRoutine writes it (another
   thread's IoCancelIrp may exchange it at the same time). */
static BOOLEAN
A27HasCancelRoutine(PIRP Irp)
{
    return __atomic_load_n(&Irp->CancelRoutine, __ATOMIC_ACQUIRE) != NULL;
}

static BOOLEAN
A27Create(A27_QUEUE *Queue)
{
    memset(Queue, 0, sizeof(*Queue));
    return WdkmCsqCreate(A27Callback, Queue, &Queue->Csq) == STATUS_SUCCESS &&
           Queue->Csq != NULL;
}

static PIRP
A27Irp(PFILE_OBJECT File, ULONG Index)
{
    PIRP Irp = WdkmHostIrpAllocate(IRP_MJ_DEVICE_CONTROL, 0x222000, File);

    if (Irp != NULL) {
        Irp->Tail.Overlay.DriverContext[0] = (PVOID)(ULONG_PTR)Index;
    }
    return Irp;
}

static ULONG
A27Index(PIRP Irp)
{
    return (ULONG)(ULONG_PTR)Irp->Tail.Overlay.DriverContext[0];
}

static BOOLEAN
A27MarkedPending(PIRP Irp)
{
    return (IoGetCurrentIrpStackLocation(Irp)->Control & SL_PENDING_RETURNED) != 0;
}

static ULONG
A27Count(PWDKM_CSQ Csq)
{
    ULONG Count = 0xFFFFFFFF;

    if (WdkmCsqQueryCount(Csq, &Count) != STATUS_SUCCESS) {
        return 0xFFFFFFFE;
    }
    return Count;
}

static ULONG A27Seed = 0x2727;

static ULONG
A27Random(ULONG *State)
{
    ULONG X = *State;

    X ^= X << 13;
    X ^= X >> 17;
    X ^= X << 5;
    *State = X == 0 ? 1 : X;
    return *State;
}

/* ---------------------------------------------------------------------- */
/* Deterministic: a DPC on the inserting thread, cancel before the insert  */
/* ---------------------------------------------------------------------- */

static VOID
DpcOnInserterCancelsAndRemoves(VOID)
{
    LONG PoolBefore = WdkmTestPoolOutstanding();
    WDKM_CSQ_IRP_CONTEXT Context;
    A27_QUEUE Queue;
    PIRP Irps[3];
    PIRP Got = (PIRP)1;
    KIRQL Old;
    ULONG Index;

    CHECK(A27Create(&Queue));
    InterlockedExchange(&Queue.QueryInCallback, 1);
    for (Index = 0; Index < 3; Index += 1) {
        Irps[Index] = A27Irp(NULL, Index);
        CHECK(Irps[Index] != NULL);
    }

    /* The DPC (same thread, DISPATCH_LEVEL) inserts and cancels at once:
       the cancel routine runs on this thread at DISPATCH_LEVEL. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[0], &Context), STATUS_PENDING);
    CHECK(IoCancelIrp(Irps[0]));
    CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 1);
    CHECK_EQ(Irps[0]->IoStatus.Status, STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqRemoveIrp(Queue.Csq, &Context, &Got), STATUS_NOT_FOUND);
    CHECK(Got == NULL);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(Old);

    /* P2: cancelled before the insert (no routine yet, Cancel set). */
    CHECK(!IoCancelIrp(Irps[1]));
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[1], NULL), STATUS_PENDING);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[1]), 1);
    CHECK_EQ(Irps[1]->IoStatus.Status, STATUS_CANCELLED);
    CHECK(Irps[1]->PendingReturned);
    CHECK_EQ(A27Count(Queue.Csq), 0);

    /* A passive insert, removed by a "DPC" on the same thread. */
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[2], &Context), STATUS_PENDING);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, NULL, NULL, &Got), STATUS_SUCCESS);
    KeLowerIrql(Old);
    CHECK(Got == Irps[2]);
    CHECK(!A27HasCancelRoutine(Got));
    CHECK(!IoCancelIrp(Got));               /* ours now: the cancel finds no routine */
    CHECK_EQ(WdkmHostIrpCompletions(Got), 0);
    A27Complete(Got, A27_STATUS_REMOVED);
    CHECK_STATUS(WdkmCsqRemoveIrp(Queue.Csq, &Context, &Got), STATUS_NOT_FOUND);

    CHECK_EQ(Queue.Callbacks, 2);
    CHECK_EQ(Queue.BadCallbacks, 0);
    CHECK_EQ(Queue.QueryFailures, 0);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(Queue.Callbacks, 2);
    for (Index = 0; Index < 3; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(Irps[Index]), 1);
        WdkmHostIrpFree(Irps[Index]);
    }
    CHECK_EQ(WdkmTestPoolOutstanding(), PoolBefore);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
}

/* ---------------------------------------------------------------------- */
/* P3: every refused call changes nothing                                  */
/* ---------------------------------------------------------------------- */

static VOID
A27DummyCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
}

typedef struct _A27_MATCH_CALL {
    A27_QUEUE *Queue;
    PIRP Fresh;
    NTSTATUS Insert, RemoveNext, Count;
    LONG Calls;
} A27_MATCH_CALL;

static BOOLEAN
A27MatchCallsQueue(PIRP Irp, PVOID MatchContext)
{
    A27_MATCH_CALL *Call = (A27_MATCH_CALL *)MatchContext;
    PIRP Other = NULL;
    ULONG Count;

    UNREFERENCED_PARAMETER(Irp);
    Call->Calls += 1;
    Call->Insert = WdkmCsqInsertIrp(Call->Queue->Csq, Call->Fresh, NULL);
    Call->RemoveNext = WdkmCsqRemoveNextIrp(Call->Queue->Csq, NULL, NULL, &Other);
    Call->Count = WdkmCsqQueryCount(Call->Queue->Csq, &Count);
    return FALSE;
}

static VOID
RefusedCallsChangeNothing(VOID)
{
    LONG PoolBefore = WdkmTestPoolOutstanding();
    WDKM_CSQ_IRP_CONTEXT Context, OtherContext;
    A27_QUEUE Queue, Other;
    A27_MATCH_CALL Call;
    PIRP Queued, Fresh, Got;
    KIRQL Old;

    CHECK(A27Create(&Queue));
    CHECK(A27Create(&Other));
    Queued = A27Irp(NULL, 0);
    Fresh = A27Irp(NULL, 1);
    CHECK(Queued != NULL && Fresh != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Queued, &Context), STATUS_PENDING);
    CHECK(A27MarkedPending(Queued));
    CHECK(A27HasCancelRoutine(Queued));

    /* Above DISPATCH_LEVEL. */
    KeRaiseIrql(HIGH_LEVEL, &Old);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Fresh, NULL), STATUS_WDKM_IRQL_TOO_HIGH);
    Got = (PIRP)1;
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, NULL, NULL, &Got), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmCsqRemoveIrp(Queue.Csq, &Context, &Got), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(Old);
    CHECK(!A27MarkedPending(Fresh));
    CHECK(!A27HasCancelRoutine(Fresh));
    CHECK_EQ(A27Count(Queue.Csq), 1);

    /* Destroy above PASSIVE_LEVEL: nothing changed, the IRP still queued. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(Old);
    CHECK_EQ(A27Count(Queue.Csq), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Queued), 0);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Fresh, NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, NULL, NULL, &Got), STATUS_SUCCESS);
    CHECK(Got == Queued);                   /* FIFO: the older one */
    A27Complete(Got, A27_STATUS_REMOVED);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, NULL, NULL, &Got), STATUS_SUCCESS);
    CHECK(Got == Fresh);
    A27Complete(Got, A27_STATUS_REMOVED);
    WdkmHostIrpFree(Queued);
    WdkmHostIrpFree(Fresh);

    /* The same IRP inserted twice (it has the queue's routine then), and
       an IRP with a routine of the driver's own. */
    Queued = A27Irp(NULL, 0);
    Fresh = A27Irp(NULL, 1);
    CHECK(Queued != NULL && Fresh != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Queued, &Context), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Queued, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqInsertIrp(Other.Csq, Queued, &OtherContext), STATUS_INVALID_PARAMETER);
    CHECK_EQ(A27Count(Queue.Csq), 1);
    CHECK_EQ(A27Count(Other.Csq), 0);
    (VOID)IoSetCancelRoutine(Fresh, A27DummyCancel);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Fresh, NULL), STATUS_INVALID_PARAMETER);
    CHECK(Fresh->CancelRoutine == A27DummyCancel);
    CHECK(!A27MarkedPending(Fresh));
    CHECK(IoSetCancelRoutine(Fresh, NULL) == A27DummyCancel);

    /* A context of another queue: refused, the IRP stays queued. */
    CHECK_STATUS(WdkmCsqRemoveIrp(Other.Csq, &Context, &Got), STATUS_INVALID_PARAMETER);
    CHECK_EQ(A27Count(Queue.Csq), 1);
    CHECK(A27HasCancelRoutine(Queued));

    /* Queue calls from a match callback: STATUS_POSSIBLE_DEADLOCK each, and
       the fresh IRP untouched. */
    memset(&Call, 0, sizeof(Call));
    Call.Queue = &Queue;
    Call.Fresh = Fresh;
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, A27MatchCallsQueue, &Call, &Got),
                 STATUS_NO_MORE_ENTRIES);
    CHECK(Got == NULL);
    CHECK_EQ(Call.Calls, 1);
    CHECK_STATUS(Call.Insert, STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Call.RemoveNext, STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Call.Count, STATUS_POSSIBLE_DEADLOCK);
    CHECK(!A27MarkedPending(Fresh));
    CHECK(!A27HasCancelRoutine(Fresh));
    CHECK_EQ(A27Count(Queue.Csq), 1);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);

    /* Destroy hands the queued one to the callback. */
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqDestroy(Other.Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(Queued), 1);
    CHECK_EQ(Queued->IoStatus.Status, STATUS_CANCELLED);
    CHECK_EQ(WdkmHostIrpCompletions(Fresh), 0);
    CHECK_EQ(Queue.Callbacks, 1);
    CHECK_EQ(Other.Callbacks, 0);
    CHECK_EQ(Queue.BadCallbacks + Other.BadCallbacks, 0);
    WdkmHostIrpFree(Queued);
    WdkmHostIrpFree(Fresh);
    CHECK_EQ(WdkmTestPoolOutstanding(), PoolBefore);
}

/* ---------------------------------------------------------------------- */
/* P7: an IRP cancelled from a match callback                              */
/* ---------------------------------------------------------------------- */

typedef struct _A27_MATCH_CANCEL {
    PIRP Victim;
    PIRP Wanted;
    LONG Cancelled;
    BOOLEAN CancelResult;
} A27_MATCH_CANCEL;

static BOOLEAN
A27MatchCancels(PIRP Irp, PVOID MatchContext)
{
    A27_MATCH_CANCEL *Cancel = (A27_MATCH_CANCEL *)MatchContext;

    if (Cancel->Cancelled == 0) {
        Cancel->Cancelled = 1;
        Cancel->CancelResult = IoCancelIrp(Cancel->Victim);
    }
    return Irp == Cancel->Wanted;
}

/* Minimised. csq.md: "an IRP of the queue cancelled from it cannot be
   unlinked by its cancel routine ..., so it is marked and the next remove
   or the destroy takes it"; wdkm_csq.h: "IRP whose cancellation is under
   way are skipped (the cancel path owns them)"; P1: "the side that clears
   it owns the IRP" - IoCancelIrp returned TRUE, so the cancel side cleared
   the routine and the IRP must reach the callback, never a remover. */
static VOID
CancelFromMatchCallbackThenRemoveNext(VOID)
{
    LONG PoolBefore = WdkmTestPoolOutstanding();
    WDKM_HOST_BUGCHECK_TRAP Trap;
    A27_MATCH_CANCEL Cancel;
    A27_QUEUE Queue;
    PIRP First, Victim, Got = NULL;
    NTSTATUS volatile Next;
    PIRP volatile NextIrp;
    LONG volatile AfterNext;
    NTSTATUS volatile DestroyStatus = STATUS_UNSUCCESSFUL;
    ULONG volatile DestroyBugcheck = 0;

    CHECK(A27Create(&Queue));
    First = A27Irp(NULL, 0);
    Victim = A27Irp(NULL, 1);
    CHECK(First != NULL && Victim != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, First, NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Victim, NULL), STATUS_PENDING);
    memset(&Cancel, 0, sizeof(Cancel));
    Cancel.Victim = Victim;
    Cancel.Wanted = First;
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, A27MatchCancels, &Cancel, &Got), STATUS_SUCCESS);
    CHECK(Got == First);
    CHECK(Cancel.CancelResult);            /* the cancel side cleared the routine */
    A27Complete(Got, A27_STATUS_REMOVED);

    /* The next remove: the only queued IRP is the cancelled one. */
    Got = NULL;
    Next = WdkmCsqRemoveNextIrp(Queue.Csq, NULL, NULL, &Got);
    NextIrp = Got;
    if (Next == STATUS_SUCCESS && Got != NULL) {
        A27Complete(Got, A27_STATUS_REMOVED);   /* what a driver does with it */
    }
    AfterNext = Queue.Callbacks;
    if (WDKM_HOST_TRY(&Trap)) {
        DestroyStatus = WdkmCsqDestroy(Queue.Csq);
        WdkmHostDisarm(&Trap);
    } else {
        DestroyBugcheck = Trap.Bugcheck.Code;
    }
    CHECK_EQ(DestroyBugcheck, 0);
    CHECK_STATUS(DestroyStatus, STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(First), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Victim), 1);
    WdkmHostIrpFree(First);
    WdkmHostIrpFree(Victim);
    CHECK_EQ(WdkmTestPoolOutstanding(), PoolBefore);
    if (Next == STATUS_SUCCESS) {
        WdkmTestFail(__FILE__, __LINE__, "the next remove handed out the IRP cancelled from "
                     "the match callback (%s) instead of giving it to the callback",
                     NextIrp == Victim ? "the victim" : "another IRP");
        return;
    }
    CHECK_STATUS(Next, STATUS_NO_MORE_ENTRIES);
    CHECK_EQ(AfterNext, 1);                /* the next remove took it to the callback */
    CHECK_EQ(Queue.Callbacks, 1);
}

/* The same by context. wdkm_csq.h: RemoveIrp answers STATUS_NOT_FOUND
   when "its cancellation has it". */
static VOID
CancelFromMatchCallbackThenRemoveByContext(VOID)
{
    LONG PoolBefore = WdkmTestPoolOutstanding();
    WDKM_CSQ_IRP_CONTEXT Context;
    A27_MATCH_CANCEL Cancel;
    A27_QUEUE Queue;
    PIRP Victim, Got = (PIRP)1;
    NTSTATUS Status;

    CHECK(A27Create(&Queue));
    Victim = A27Irp(NULL, 1);
    CHECK(Victim != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Victim, &Context), STATUS_PENDING);
    memset(&Cancel, 0, sizeof(Cancel));
    Cancel.Victim = Victim;
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, A27MatchCancels, &Cancel, &Got),
                 STATUS_NO_MORE_ENTRIES);
    CHECK(Cancel.CancelResult);
    Got = NULL;
    Status = WdkmCsqRemoveIrp(Queue.Csq, &Context, &Got);
    if (Status == STATUS_SUCCESS && Got != NULL) {
        A27Complete(Got, A27_STATUS_REMOVED);
    }
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(Victim), 1);
    WdkmHostIrpFree(Victim);
    CHECK_EQ(WdkmTestPoolOutstanding(), PoolBefore);
    CHECK_STATUS(Status, STATUS_NOT_FOUND);
    CHECK_EQ(Queue.Callbacks, 1);
}

/* The same with the destroy right after: the remove that ran the match
   has completed the IRP as cancelled already (csq.md), so the destroy
   finds nothing of it. */
static VOID
CancelFromMatchCallbackThenDestroy(VOID)
{
    LONG PoolBefore = WdkmTestPoolOutstanding();
    A27_MATCH_CANCEL Cancel;
    A27_QUEUE Queue;
    PIRP Victim, Got = (PIRP)1;

    CHECK(A27Create(&Queue));
    Victim = A27Irp(NULL, 1);
    CHECK(Victim != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Victim, NULL), STATUS_PENDING);
    memset(&Cancel, 0, sizeof(Cancel));
    Cancel.Victim = Victim;
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, A27MatchCancels, &Cancel, &Got),
                 STATUS_NO_MORE_ENTRIES);
    CHECK(Got == NULL);
    CHECK(Cancel.CancelResult);
    CHECK_EQ(A27Count(Queue.Csq), 0);
    CHECK_EQ(WdkmHostIrpCompletions(Victim), 1);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(Victim), 1);
    CHECK_EQ(Victim->IoStatus.Status, STATUS_CANCELLED);
    CHECK_EQ(Queue.Callbacks, 1);
    CHECK_EQ(Queue.BadCallbacks, 0);
    WdkmHostIrpFree(Victim);
    CHECK_EQ(WdkmTestPoolOutstanding(), PoolBefore);
}

/* ---------------------------------------------------------------------- */
/* Another thread's IoCancelIrp against insert, remove and destroy         */
/* ---------------------------------------------------------------------- */

#define A27_RACE_IRPS 8

typedef struct _A27_RACE {
    A27_QUEUE *Queue;
    PIRP Irps[A27_RACE_IRPS];
    BOOLEAN volatile CancelResult[A27_RACE_IRPS];
    LONG volatile Go;              /* round number the canceller should run */
    LONG volatile Done;            /* round number the canceller finished */
    LONG volatile Stop;
    ULONG Order[A27_RACE_IRPS];
    ULONG CancelCount;             /* how many of Order to cancel */
} A27_RACE;

static VOID
A27Canceller(PVOID Context, ULONG Index)
{
    A27_RACE *Race = (A27_RACE *)Context;
    LONG Round = 0;

    UNREFERENCED_PARAMETER(Index);
    for (;;) {
        LONG Go;
        ULONG Step;

        while ((Go = InterlockedCompareExchange(&Race->Go, 0, 0)) == Round) {
            if (InterlockedCompareExchange(&Race->Stop, 0, 0) != 0) {
                return;
            }
            sched_yield();
        }
        Round = Go;
        for (Step = 0; Step < Race->CancelCount; Step += 1) {
            ULONG Which = Race->Order[Step];

            Race->CancelResult[Which] = IoCancelIrp(Race->Irps[Which]);
        }
        InterlockedExchange(&Race->Done, Round);
    }
}

static VOID
A27WaitDone(A27_RACE *Race, LONG Round)
{
    while (InterlockedCompareExchange(&Race->Done, 0, 0) != Round) {
        sched_yield();
    }
}

/* Exactly once, and the owner matches the side that cleared the routine. */
static BOOLEAN
A27CheckRound(A27_RACE *Race, const BOOLEAN *Removed, ULONG Count)
{
    ULONG Index;

    for (Index = 0; Index < Count; Index += 1) {
        PIRP Irp = Race->Irps[Index];

        if (WdkmHostIrpCompletions(Irp) != 1 || !Irp->PendingReturned ||
            A27HasCancelRoutine(Irp)) {
            return WdkmTestFail(__FILE__, __LINE__, "IRP %lu: %ld completions",
                                (unsigned long)Index, (long)WdkmHostIrpCompletions(Irp));
        }
        if (Removed[Index] != (Irp->IoStatus.Status == A27_STATUS_REMOVED) ||
            (Race->CancelResult[Index] && Irp->IoStatus.Status != STATUS_CANCELLED)) {
            return WdkmTestFail(__FILE__, __LINE__,
                                "IRP %lu: removed %d, cancel took the routine %d, status 0x%08X",
                                (unsigned long)Index, Removed[Index],
                                Race->CancelResult[Index], (unsigned)Irp->IoStatus.Status);
        }
    }
    return TRUE;
}

static VOID
A27Shuffle(ULONG *Order, ULONG Count, ULONG *State)
{
    ULONG Index;

    for (Index = 0; Index < Count; Index += 1) {
        Order[Index] = Index;
    }
    for (Index = Count - 1; Index > 0; Index -= 1) {
        ULONG Other = A27Random(State) % (Index + 1);
        ULONG Swap = Order[Index];

        Order[Index] = Order[Other];
        Order[Other] = Swap;
    }
}

static VOID
A27FreeRound(A27_RACE *Race)
{
    ULONG Index;

    for (Index = 0; Index < A27_RACE_IRPS; Index += 1) {
        if (Race->Irps[Index] != NULL) {
            WdkmHostIrpFree(Race->Irps[Index]);
            Race->Irps[Index] = NULL;
        }
    }
}

static BOOLEAN
A27NewRound(A27_RACE *Race)
{
    ULONG Index;

    for (Index = 0; Index < A27_RACE_IRPS; Index += 1) {
        Race->Irps[Index] = A27Irp(NULL, Index);
        Race->CancelResult[Index] = FALSE;
        if (Race->Irps[Index] == NULL) {
            return FALSE;
        }
    }
    return TRUE;
}

/* P2 with a real race: the cancel lands anywhere in the insert. */
static VOID
CancelRacingInsert(VOID)
{
    LONG PoolBefore = WdkmTestPoolOutstanding();
    WDKM_CSQ_IRP_CONTEXT Contexts[A27_RACE_IRPS];
    BOOLEAN Removed[A27_RACE_IRPS];
    A27_QUEUE Queue;
    A27_RACE Race;
    WDKM_TEST_THREAD *Thread;
    ULONG State = A27Seed;
    LONG Round;

    CHECK(A27Create(&Queue));
    memset(&Race, 0, sizeof(Race));
    memset(Removed, 0, sizeof(Removed));
    Race.Queue = &Queue;
    WdkmHostSetDelayFuzzing(A27Seed, 20);
    Thread = WdkmTestStartThread(A27Canceller, &Race);
    CHECK(Thread != NULL);
    for (Round = 1; Round <= 150; Round += 1) {
        ULONG Index;

        if (!A27NewRound(&Race)) {
            break;
        }
        A27Shuffle(Race.Order, A27_RACE_IRPS, &State);
        Race.CancelCount = A27_RACE_IRPS;
        InterlockedExchange(&Race.Go, Round);
        for (Index = 0; Index < A27_RACE_IRPS; Index += 1) {
            NTSTATUS Status = WdkmCsqInsertIrp(Queue.Csq, Race.Irps[Index], &Contexts[Index]);

            if (Status != STATUS_PENDING) {
                WdkmTestFail(__FILE__, __LINE__, "insert answered 0x%08X", (unsigned)Status);
                break;
            }
        }
        A27WaitDone(&Race, Round);
        /* Every IRP was cancelled, before, during or after its insert. */
        for (Index = 0; Index < A27_RACE_IRPS; Index += 1) {
            PIRP Got = (PIRP)1;

            if (WdkmCsqRemoveIrp(Queue.Csq, &Contexts[Index], &Got) != STATUS_NOT_FOUND ||
                Got != NULL) {
                WdkmTestFail(__FILE__, __LINE__, "round %ld: IRP %lu still removable",
                             (long)Round, (unsigned long)Index);
                if (Got != NULL && Got != (PIRP)1) {
                    A27Complete(Got, STATUS_INTERNAL_ERROR);
                }
            }
        }
        if (!A27CheckRound(&Race, Removed, A27_RACE_IRPS)) {
            break;
        }
        for (Index = 0; Index < A27_RACE_IRPS; Index += 1) {
            if (Race.Irps[Index]->IoStatus.Status != STATUS_CANCELLED) {
                WdkmTestFail(__FILE__, __LINE__, "IRP cancelled around its insert not cancelled");
                Round = 100000;
                break;
            }
        }
        A27FreeRound(&Race);
    }
    WdkmHostSetDelayFuzzing(0, 0);
    InterlockedExchange(&Race.Stop, 1);
    WdkmTestJoinThread(Thread);
    A27FreeRound(&Race);
    CHECK(Round == 151);
    CHECK_EQ(A27Count(Queue.Csq), 0);
    CHECK_EQ(Queue.Callbacks, 150 * A27_RACE_IRPS);
    CHECK_EQ(Queue.BadCallbacks, 0);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), PoolBefore);
}

/* P1: removes (by context, next, next with a match, at PASSIVE and at
   DISPATCH) race another thread's cancels of half the IRPs. */
static BOOLEAN
A27MatchOdd(PIRP Irp, PVOID MatchContext)
{
    UNREFERENCED_PARAMETER(MatchContext);
    return (A27Index(Irp) & 1) != 0;
}

static VOID
CancelRacingRemoves(VOID)
{
    LONG PoolBefore = WdkmTestPoolOutstanding();
    WDKM_CSQ_IRP_CONTEXT Contexts[A27_RACE_IRPS];
    BOOLEAN Removed[A27_RACE_IRPS];
    A27_QUEUE Queue;
    A27_RACE Race;
    WDKM_TEST_THREAD *Thread;
    ULONG State = A27Seed * 3;
    LONG Round;
    LONG Failed = 0;

    CHECK(A27Create(&Queue));
    memset(&Race, 0, sizeof(Race));
    Race.Queue = &Queue;
    WdkmHostSetDelayFuzzing(A27Seed + 1, 20);
    Thread = WdkmTestStartThread(A27Canceller, &Race);
    CHECK(Thread != NULL);
    for (Round = 1; Round <= 150 && Failed == 0; Round += 1) {
        ULONG Index, Mode = A27Random(&State) % 4;
        KIRQL Old = PASSIVE_LEVEL;

        if (!A27NewRound(&Race)) {
            Failed = 1;
            break;
        }
        memset(Removed, 0, sizeof(Removed));
        for (Index = 0; Index < A27_RACE_IRPS; Index += 1) {
            if (WdkmCsqInsertIrp(Queue.Csq, Race.Irps[Index], &Contexts[Index]) != STATUS_PENDING) {
                Failed = WdkmTestFail(__FILE__, __LINE__, "insert refused") ? 0 : 1;
            }
        }
        A27Shuffle(Race.Order, A27_RACE_IRPS, &State);
        Race.CancelCount = A27_RACE_IRPS / 2 + A27Random(&State) % (A27_RACE_IRPS / 2 + 1);
        InterlockedExchange(&Race.Go, Round);
        if ((Mode & 2) != 0) {
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
        }
        for (Index = 0; Index < A27_RACE_IRPS * 2; Index += 1) {
            PIRP Got = NULL;
            NTSTATUS Status;

            if ((Mode & 1) != 0) {
                ULONG Which = Index % A27_RACE_IRPS;

                Status = WdkmCsqRemoveIrp(Queue.Csq, &Contexts[Which], &Got);
                if (Status == STATUS_SUCCESS && Got != Race.Irps[Which]) {
                    Failed = 1;
                }
            } else {
                Status = WdkmCsqRemoveNextIrp(Queue.Csq, Index % 3 == 0 ? A27MatchOdd : NULL,
                                              NULL, &Got);
                if (Status == STATUS_SUCCESS && Index % 3 == 0 && (A27Index(Got) & 1) == 0) {
                    Failed = 1;
                }
            }
            if (Status == STATUS_SUCCESS) {
                ULONG Which = A27Index(Got);

                if (Removed[Which] || A27HasCancelRoutine(Got)) {
                    Failed = 1;
                }
                Removed[Which] = TRUE;
                A27Complete(Got, A27_STATUS_REMOVED);
            } else if (Got != NULL ||
                       (Status != STATUS_NOT_FOUND && Status != STATUS_NO_MORE_ENTRIES)) {
                Failed = 1;
            }
        }
        if ((Mode & 2) != 0) {
            KeLowerIrql(Old);
        }
        A27WaitDone(&Race, Round);
        /* What neither side took is still queued: drain it. */
        for (;;) {
            PIRP Got = NULL;

            if (WdkmCsqRemoveNextIrp(Queue.Csq, NULL, NULL, &Got) != STATUS_SUCCESS) {
                break;
            }
            Removed[A27Index(Got)] = TRUE;
            A27Complete(Got, A27_STATUS_REMOVED);
        }
        if (Failed != 0) {
            WdkmTestFail(__FILE__, __LINE__, "round %ld mode %lu: a remove answered wrongly",
                         (long)Round, (unsigned long)Mode);
            break;
        }
        if (!A27CheckRound(&Race, Removed, A27_RACE_IRPS)) {
            Failed = 1;
            break;
        }
        A27FreeRound(&Race);
    }
    WdkmHostSetDelayFuzzing(0, 0);
    InterlockedExchange(&Race.Stop, 1);
    WdkmTestJoinThread(Thread);
    if (Failed != 0) {
        /* Leave nothing behind: whatever is still queued goes to the destroy. */
        (VOID)WdkmCsqDestroy(Queue.Csq);
        A27FreeRound(&Race);
        return;
    }
    A27FreeRound(&Race);
    CHECK_EQ(A27Count(Queue.Csq), 0);
    CHECK_EQ(Queue.BadCallbacks, 0);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), PoolBefore);
}

/* P6: the destroy races another thread's cancels; ASan sees a queue freed
   under a running cancel routine. */
static VOID
CancelRacingDestroy(VOID)
{
    LONG PoolBefore = WdkmTestPoolOutstanding();
    BOOLEAN Removed[A27_RACE_IRPS];
    A27_QUEUE Queue;
    A27_RACE Race;
    WDKM_TEST_THREAD *Thread;
    ULONG State = A27Seed * 5;
    LONG Round;

    memset(&Race, 0, sizeof(Race));
    memset(Removed, 0, sizeof(Removed));
    Race.Queue = &Queue;
    WdkmHostSetDelayFuzzing(A27Seed + 2, 20);
    Thread = WdkmTestStartThread(A27Canceller, &Race);
    CHECK(Thread != NULL);
    for (Round = 1; Round <= 150; Round += 1) {
        ULONG Index;
        LONG Callbacks;

        if (!A27Create(&Queue) || !A27NewRound(&Race)) {
            WdkmTestFail(__FILE__, __LINE__, "setup");
            break;
        }
        for (Index = 0; Index < A27_RACE_IRPS; Index += 1) {
            (VOID)WdkmCsqInsertIrp(Queue.Csq, Race.Irps[Index], NULL);
        }
        A27Shuffle(Race.Order, A27_RACE_IRPS, &State);
        Race.CancelCount = A27_RACE_IRPS;
        InterlockedExchange(&Race.Go, Round);
        if (Round % 2 == 0) {
            sched_yield();
        }
        if (WdkmCsqDestroy(Queue.Csq) != STATUS_SUCCESS) {
            WdkmTestFail(__FILE__, __LINE__, "destroy refused");
            break;
        }
        /* After the destroy returned, every IRP is completed: by the
           destroy or by a cancel routine it waited for. */
        Callbacks = InterlockedCompareExchange(&Queue.Callbacks, 0, 0);
        for (Index = 0; Index < A27_RACE_IRPS; Index += 1) {
            if (WdkmHostIrpCompletions(Race.Irps[Index]) != 1) {
                WdkmTestFail(__FILE__, __LINE__, "round %ld: IRP %lu has %ld completions "
                             "when the destroy returned", (long)Round, (unsigned long)Index,
                             (long)WdkmHostIrpCompletions(Race.Irps[Index]));
                Round = 100000;
                break;
            }
        }
        A27WaitDone(&Race, Round > 1000 ? InterlockedCompareExchange(&Race.Go, 0, 0) : Round);
        if (Round > 1000) {
            break;
        }
        if (Callbacks != A27_RACE_IRPS || Queue.BadCallbacks != 0 ||
            !A27CheckRound(&Race, Removed, A27_RACE_IRPS)) {
            WdkmTestFail(__FILE__, __LINE__, "round %ld: %ld callbacks", (long)Round,
                         (long)Callbacks);
            break;
        }
        A27FreeRound(&Race);
    }
    WdkmHostSetDelayFuzzing(0, 0);
    InterlockedExchange(&Race.Stop, 1);
    WdkmTestJoinThread(Thread);
    A27FreeRound(&Race);
    CHECK(Round == 151);
    CHECK_EQ(WdkmTestPoolOutstanding(), PoolBefore);
}

/* ---------------------------------------------------------------------- */
/* Injected DPCs and APCs on inserting threads, plus a canceller           */
/* ---------------------------------------------------------------------- */

#define A27_INJ_THREADS 2
#define A27_INJ_IRPS 400

typedef struct _A27_INJ {
    A27_QUEUE Queue;
    PIRP Irps[A27_INJ_THREADS][A27_INJ_IRPS];
    LONG volatile Removed[A27_INJ_THREADS][A27_INJ_IRPS];
    LONG volatile CancelTook[A27_INJ_THREADS][A27_INJ_IRPS];
    LONG volatile InsertErrors;
    LONG volatile Inserted;
    LONG volatile ProducersDone;
    LONG volatile CancellerStarted;
    LONG volatile DpcRemoves, ApcCancels, BadEventIrql;
} A27_INJ;

static A27_INJ *volatile A27CurrentInj;
static _Thread_local PIRP volatile A27Inserting;

static VOID
A27MarkRemoved(A27_INJ *Inj, PIRP Irp)
{
    ULONG Index = A27Index(Irp);

    InterlockedIncrement(&Inj->Removed[Index >> 16][Index & 0xFFFF]);
    A27Complete(Irp, A27_STATUS_REMOVED);
}

static VOID
A27MarkCancel(A27_INJ *Inj, PIRP Irp)
{
    ULONG Index = A27Index(Irp);

    if (IoCancelIrp(Irp)) {
        InterlockedIncrement(&Inj->CancelTook[Index >> 16][Index & 0xFFFF]);
    }
}

static VOID
A27InjRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A27_INJ *Inj = (A27_INJ *)InterlockedCompareExchangePointer(
        (PVOID volatile *)&A27CurrentInj, NULL, NULL);
    PIRP Irp;

    UNREFERENCED_PARAMETER(Context);
    if (Inj == NULL) {
        return;
    }
    switch (Kind) {
    case WdkmHostInterruptDpc:
        if (KeGetCurrentIrql() != DISPATCH_LEVEL) {
            InterlockedIncrement(&Inj->BadEventIrql);
        }
        if ((Random & 1) != 0) {
            /* A DPC completing the oldest waiter. */
            if (WdkmCsqRemoveNextIrp(Inj->Queue.Csq, NULL, NULL, &Irp) == STATUS_SUCCESS) {
                InterlockedIncrement(&Inj->DpcRemoves);
                A27MarkRemoved(Inj, Irp);
            }
        } else if ((Irp = A27Inserting) != NULL) {
            /* A DPC cancelling the IRP this thread is inserting. */
            A27MarkCancel(Inj, Irp);
        }
        break;
    case WdkmHostInterruptSpecialApc:
        if (KeGetCurrentIrql() != APC_LEVEL) {
            InterlockedIncrement(&Inj->BadEventIrql);
        }
        if ((Irp = A27Inserting) != NULL) {
            InterlockedIncrement(&Inj->ApcCancels);
            A27MarkCancel(Inj, Irp);
        }
        break;
    default:
        /* A normal APC: the thread is suspended a moment. */
        KeStallExecutionProcessor((ULONG)(Random % 50));
        break;
    }
}

static VOID
A27Spin(ULONG Iterations)
{
    ULONG volatile Counter;

    for (Counter = 0; Counter < Iterations; Counter += 1) {
    }
}

static VOID
A27InjProducer(PVOID Context, ULONG ThreadIndex)
{
    A27_INJ *Inj = (A27_INJ *)Context;
    ULONG Index;

    if (ThreadIndex >= A27_INJ_THREADS) {
        /* The canceller: cancels IRPs of both producers, at random. */
        ULONG State = A27Seed ^ 0x5A5A;

        InterlockedExchange(&Inj->CancellerStarted, 1);
        while (InterlockedCompareExchange(&Inj->ProducersDone, 0, 0) < A27_INJ_THREADS) {
            LONG Inserted = InterlockedCompareExchange(&Inj->Inserted, 0, 0);
            ULONG Thread = A27Random(&State) % A27_INJ_THREADS;
            ULONG Which = A27Random(&State) % A27_INJ_IRPS;

            UNREFERENCED_PARAMETER(Inserted);
            /* Irps is filled before the threads start and never changes. */
            if (A27Random(&State) % 4 == 0) {
                A27MarkCancel(Inj, Inj->Irps[Thread][Which]);
            }
            if ((A27Random(&State) & 7) == 0) {
                sched_yield();
            }
        }
        return;
    }
    while (InterlockedCompareExchange(&Inj->CancellerStarted, 0, 0) == 0) {
        sched_yield();
    }
    for (Index = 0; Index < A27_INJ_IRPS; Index += 1) {
        PIRP Irp = Inj->Irps[ThreadIndex][Index];
        NTSTATUS Status;

        A27Spin(80000);   /* time for events to land, outside the emulation */

        A27Inserting = Irp;
        Status = WdkmCsqInsertIrp(Inj->Queue.Csq, Irp, NULL);
        A27Inserting = NULL;
        if (Status != STATUS_PENDING) {
            InterlockedIncrement(&Inj->InsertErrors);
        }
        InterlockedIncrement(&Inj->Inserted);
        if (Index % 3 == 2) {
            PIRP Got;

            if (WdkmCsqRemoveNextIrp(Inj->Queue.Csq, NULL, NULL, &Got) == STATUS_SUCCESS) {
                A27MarkRemoved(Inj, Got);
            }
        }
    }
    InterlockedIncrement(&Inj->ProducersDone);
}

/* One round: both producers' IRPs inserted and cancelled under injected
   events, every IRP judged; adds the events delivered to *Dpcs and
   *SpecialApcs and sets *Judged (left FALSE when a check failed). */
static VOID
A27InjectedRound(ULONG64 *Dpcs, ULONG64 *SpecialApcs, BOOLEAN *Judged)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];
    A27_INJ *Inj;
    ULONG Thread, Index;
    PIRP Got;
    LONG Callbacks;

    Inj = (A27_INJ *)calloc(1, sizeof(*Inj));
    CHECK(Inj != NULL);
    if (!A27Create(&Inj->Queue)) {
        free(Inj);
        CHECK(FALSE);
    }
    for (Thread = 0; Thread < A27_INJ_THREADS; Thread += 1) {
        for (Index = 0; Index < A27_INJ_IRPS; Index += 1) {
            Inj->Irps[Thread][Index] = A27Irp(NULL, (Thread << 16) | Index);
            CHECK(Inj->Irps[Thread][Index] != NULL);
        }
    }
    (VOID)InterlockedExchangePointer((PVOID volatile *)&A27CurrentInj, Inj);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = A27Seed;
    Settings.MeanIntervalMicroseconds = 20;
    Settings.DpcWeight = 3;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 3;
    Settings.SuspendMaxMicroseconds = 50;
    Settings.Routine = A27InjRoutine;
    WdkmHostInterruptsStart(&Settings);
    CHECK(WdkmTestRunThreads(A27_INJ_THREADS + 1, A27InjProducer, Inj));
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    WdkmHostInterruptsStop();
    (VOID)InterlockedExchangePointer((PVOID volatile *)&A27CurrentInj, NULL);

    while (WdkmCsqRemoveNextIrp(Inj->Queue.Csq, NULL, NULL, &Got) == STATUS_SUCCESS) {
        A27MarkRemoved(Inj, Got);
    }
    CHECK_EQ(A27Count(Inj->Queue.Csq), 0);
    Callbacks = Inj->Queue.Callbacks;
    CHECK_STATUS(WdkmCsqDestroy(Inj->Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(Inj->Queue.Callbacks, Callbacks);   /* nothing left for the destroy */
    CHECK_EQ(Inj->InsertErrors, 0);
    CHECK_EQ(Inj->BadEventIrql, 0);
    CHECK_EQ(Inj->Queue.BadCallbacks, 0);
    for (Thread = 0; Thread < A27_INJ_THREADS; Thread += 1) {
        for (Index = 0; Index < A27_INJ_IRPS; Index += 1) {
            PIRP Irp = Inj->Irps[Thread][Index];
            BOOLEAN Removed = Inj->Removed[Thread][Index] != 0;

            if (WdkmHostIrpCompletions(Irp) != 1 || Inj->Removed[Thread][Index] > 1 ||
                Removed != (Irp->IoStatus.Status == A27_STATUS_REMOVED) ||
                (Inj->CancelTook[Thread][Index] != 0 && Removed) ||
                (Irp->IoStatus.Status == STATUS_CANCELLED && !Irp->Cancel) ||
                !Irp->PendingReturned) {
                WdkmTestFail(__FILE__, __LINE__,
                             "IRP %lu/%lu: %ld completions, removed %ld, cancel took %ld, "
                             "status 0x%08X", (unsigned long)Thread, (unsigned long)Index,
                             (long)WdkmHostIrpCompletions(Irp), (long)Inj->Removed[Thread][Index],
                             (long)Inj->CancelTook[Thread][Index], (unsigned)Irp->IoStatus.Status);
                Thread = A27_INJ_THREADS;
                break;
            }
        }
    }
    for (Thread = 0; Thread < A27_INJ_THREADS; Thread += 1) {
        for (Index = 0; Index < A27_INJ_IRPS; Index += 1) {
            WdkmHostIrpFree(Inj->Irps[Thread][Index]);
        }
    }
    Callbacks = Inj->Queue.Callbacks;
    free(Inj);
    CHECK(Callbacks > 0);                      /* the cancels did land */
    *Dpcs += Delivered[WdkmHostInterruptDpc];
    *SpecialApcs += Delivered[WdkmHostInterruptSpecialApc];
    *Judged = TRUE;
}

/*
 * Rounds until the events this judges have landed: on a loaded machine a
 * round's threads may run through their IRPs before many events come.
 */
static VOID
InjectedEventsOnInsertersAndCanceller(VOID)
{
    LONG PoolBefore = WdkmTestPoolOutstanding();
    LONGLONG Deadline = WdkmTestDeadlineMs(20000);
    ULONG64 Dpcs = 0;
    ULONG64 SpecialApcs = 0;
    BOOLEAN Judged;

    do {
        Judged = FALSE;
        A27InjectedRound(&Dpcs, &SpecialApcs, &Judged);
        if (!Judged) {
            return;
        }
    } while ((Dpcs <= 5 || SpecialApcs <= 5) && WdkmTestNowMs() < Deadline);
    CHECK(Dpcs > 5 && SpecialApcs > 5);
    CHECK_EQ(WdkmTestPoolOutstanding(), PoolBefore);
}

/* ---------------------------------------------------------------------- */
/* The model: one thread, every answer predicted exactly                   */
/* ---------------------------------------------------------------------- */

#define A27_MODEL_IRPS 24

typedef enum { A27Idle, A27Queued, A27Done } A27_MODEL_STATE;

static BOOLEAN
A27MatchFile(PIRP Irp, PVOID MatchContext)
{
    return IoGetCurrentIrpStackLocation(Irp)->FileObject == (PFILE_OBJECT)MatchContext;
}

static VOID
ModelSingleThreadExact(VOID)
{
    LONG PoolBefore = WdkmTestPoolOutstanding();
    FILE_OBJECT Files[2];
    WDKM_CSQ_IRP_CONTEXT Contexts[A27_MODEL_IRPS];
    A27_MODEL_STATE States[A27_MODEL_IRPS];
    NTSTATUS Expected[A27_MODEL_IRPS];
    PIRP Irps[A27_MODEL_IRPS];
    ULONG Order[A27_MODEL_IRPS];     /* model queue, oldest first */
    ULONG Queued = 0, Index, Step, State = A27Seed * 7;
    LONG Callbacks = 0;
    A27_QUEUE Queue;

    memset(Files, 0, sizeof(Files));
    Files[0].Type = Files[1].Type = IO_TYPE_FILE;
    CHECK(A27Create(&Queue));
    for (Index = 0; Index < A27_MODEL_IRPS; Index += 1) {
        Irps[Index] = A27Irp(&Files[Index % 2], Index);
        CHECK(Irps[Index] != NULL);
        States[Index] = A27Idle;
        Expected[Index] = 0;
    }
    for (Step = 0; Step < 4000; Step += 1) {
        ULONG Op = A27Random(&State) % 6;
        ULONG Which = A27Random(&State) % A27_MODEL_IRPS;
        BOOLEAN Raise = (A27Random(&State) & 1) != 0;
        KIRQL Old = PASSIVE_LEVEL;
        PIRP Got = (PIRP)1;
        NTSTATUS Status;
        ULONG Position;

        if (States[Which] == A27Done) {
            /* Recycle: a fresh IRP in the same slot. */
            WdkmHostIrpFree(Irps[Which]);
            Irps[Which] = A27Irp(&Files[Which % 2], Which);
            CHECK(Irps[Which] != NULL);
            States[Which] = A27Idle;
        }
        if (Raise) {
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
        }
        switch (Op) {
        case 0:
        case 1:   /* insert */
            Status = WdkmCsqInsertIrp(Queue.Csq, Irps[Which], &Contexts[Which]);
            if (States[Which] == A27Idle) {
                CHECK_STATUS(Status, STATUS_PENDING);
                States[Which] = A27Queued;
                Order[Queued++] = Which;
            } else {
                CHECK_STATUS(Status, STATUS_INVALID_PARAMETER);
            }
            break;
        case 2: { /* remove next, with or without a match */
            ULONG FileIndex = A27Random(&State) % 3;
            PFILE_OBJECT File = FileIndex < 2 ? &Files[FileIndex] : NULL;

            Status = WdkmCsqRemoveNextIrp(Queue.Csq, File != NULL ? A27MatchFile : NULL, File,
                                          &Got);
            for (Position = 0; Position < Queued; Position += 1) {
                if (File == NULL || Order[Position] % 2 == FileIndex) {
                    break;
                }
            }
            if (Position == Queued) {
                CHECK_STATUS(Status, STATUS_NO_MORE_ENTRIES);
                CHECK(Got == NULL);
            } else {
                CHECK_STATUS(Status, STATUS_SUCCESS);
                CHECK(Got == Irps[Order[Position]]);
                CHECK(!A27HasCancelRoutine(Got));
                A27Complete(Got, A27_STATUS_REMOVED);
                States[Order[Position]] = A27Done;
                Expected[Order[Position]] = A27_STATUS_REMOVED;
                memmove(&Order[Position], &Order[Position + 1],
                        (Queued - Position - 1) * sizeof(Order[0]));
                Queued -= 1;
            }
            break;
        }
        case 3:   /* remove by context */
            if (States[Which] == A27Idle) {
                break;    /* never filled: not the test's subject */
            }
            Status = WdkmCsqRemoveIrp(Queue.Csq, &Contexts[Which], &Got);
            if (States[Which] == A27Queued) {
                CHECK_STATUS(Status, STATUS_SUCCESS);
                CHECK(Got == Irps[Which]);
                A27Complete(Got, A27_STATUS_REMOVED);
                States[Which] = A27Done;
                Expected[Which] = A27_STATUS_REMOVED;
                for (Position = 0; Order[Position] != Which; Position += 1) {
                }
                memmove(&Order[Position], &Order[Position + 1],
                        (Queued - Position - 1) * sizeof(Order[0]));
                Queued -= 1;
            }
            break;
        case 4: { /* cancel */
            BOOLEAN Took = IoCancelIrp(Irps[Which]);

            CHECK_EQ(Took, States[Which] == A27Queued);
            if (States[Which] == A27Queued) {
                CHECK_EQ(WdkmHostIrpCompletions(Irps[Which]), 1);
                CHECK_EQ(Irps[Which]->IoStatus.Status, STATUS_CANCELLED);
                Callbacks += 1;
                States[Which] = A27Done;
                Expected[Which] = STATUS_CANCELLED;
                for (Position = 0; Order[Position] != Which; Position += 1) {
                }
                memmove(&Order[Position], &Order[Position + 1],
                        (Queued - Position - 1) * sizeof(Order[0]));
                Queued -= 1;
            } else {
                /* Idle: cancelled before its insert; the insert notices. */
                Status = WdkmCsqInsertIrp(Queue.Csq, Irps[Which], &Contexts[Which]);
                CHECK_STATUS(Status, STATUS_PENDING);
                CHECK_EQ(WdkmHostIrpCompletions(Irps[Which]), 1);
                CHECK_EQ(Irps[Which]->IoStatus.Status, STATUS_CANCELLED);
                Callbacks += 1;
                States[Which] = A27Done;
                Expected[Which] = STATUS_CANCELLED;
            }
            break;
        }
        default: { /* count */
            CHECK_EQ(A27Count(Queue.Csq), Queued);
            break;
        }
        }
        if (Raise) {
            KeLowerIrql(Old);
        }
        CHECK_EQ(Queue.Callbacks, Callbacks);
    }
    CHECK_EQ(A27Count(Queue.Csq), Queued);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(Queue.Callbacks, Callbacks + (LONG)Queued);
    CHECK_EQ(Queue.BadCallbacks, 0);
    for (Index = 0; Index < A27_MODEL_IRPS; Index += 1) {
        if (States[Index] == A27Queued) {
            Expected[Index] = STATUS_CANCELLED;
            States[Index] = A27Done;
        }
        CHECK_EQ(WdkmHostIrpCompletions(Irps[Index]), States[Index] == A27Done ? 1 : 0);
        if (States[Index] == A27Done) {
            CHECK_EQ(Irps[Index]->IoStatus.Status, Expected[Index]);
            CHECK(Irps[Index]->PendingReturned);
        }
        WdkmHostIrpFree(Irps[Index]);
    }
    CHECK_EQ(WdkmTestPoolOutstanding(), PoolBefore);
}

/* ---------------------------------------------------------------------- */
/* The model, concurrent: two producers, one consumer, one canceller       */
/* ---------------------------------------------------------------------- */

#define A27_CM_IRPS 300

typedef struct _A27_CM {
    A27_QUEUE Queue;
    FILE_OBJECT Files[2];
    PIRP Irps[2][A27_CM_IRPS];
    LONG volatile Removed[2][A27_CM_IRPS];
    LONG volatile CancelTook[2][A27_CM_IRPS];
    LONG volatile Published[2];         /* IRPs inserted so far per producer */
    LONG volatile ProducersDone;
    LONG volatile FifoViolations, InsertErrors;
} A27_CM;

static VOID
A27CmThread(PVOID Context, ULONG ThreadIndex)
{
    A27_CM *Cm = (A27_CM *)Context;
    ULONG State = A27Seed * 11 + ThreadIndex;
    ULONG Index;

    if (ThreadIndex < 2) {
        for (Index = 0; Index < A27_CM_IRPS; Index += 1) {
            KIRQL Old = PASSIVE_LEVEL;
            BOOLEAN Raise = A27Random(&State) % 4 == 0;

            if (Raise) {
                KeRaiseIrql(DISPATCH_LEVEL, &Old);
            }
            if (WdkmCsqInsertIrp(Cm->Queue.Csq, Cm->Irps[ThreadIndex][Index], NULL) !=
                STATUS_PENDING) {
                InterlockedIncrement(&Cm->InsertErrors);
            }
            if (Raise) {
                KeLowerIrql(Old);
            }
            InterlockedExchange(&Cm->Published[ThreadIndex], (LONG)Index + 1);
        }
        InterlockedIncrement(&Cm->ProducersDone);
    } else if (ThreadIndex == 2) {
        /* The consumer: per producer, what it gets must come in order. */
        LONG Last[2] = { -1, -1 };

        for (;;) {
            BOOLEAN Done = InterlockedCompareExchange(&Cm->ProducersDone, 0, 0) == 2;
            ULONG FileIndex = A27Random(&State) % 3;
            PFILE_OBJECT File = FileIndex < 2 ? &Cm->Files[FileIndex] : NULL;
            PIRP Got = NULL;
            NTSTATUS Status;

            Status = WdkmCsqRemoveNextIrp(Cm->Queue.Csq, File != NULL ? A27MatchFile : NULL,
                                          File, &Got);
            if (Status == STATUS_SUCCESS) {
                ULONG Which = A27Index(Got);
                ULONG Producer = Which >> 16;
                LONG Position = (LONG)(Which & 0xFFFF);

                if (Position <= Last[Producer] ||
                    (File != NULL && IoGetCurrentIrpStackLocation(Got)->FileObject != File)) {
                    InterlockedIncrement(&Cm->FifoViolations);
                }
                Last[Producer] = Position;
                InterlockedIncrement(&Cm->Removed[Producer][Position]);
                A27Complete(Got, A27_STATUS_REMOVED);
            } else if (Done && File == NULL) {
                break;
            } else {
                sched_yield();
            }
        }
    } else {
        /* The canceller: random published IRPs of either producer. */
        while (InterlockedCompareExchange(&Cm->ProducersDone, 0, 0) < 2) {
            ULONG Producer = A27Random(&State) % 2;
            LONG Published = InterlockedCompareExchange(&Cm->Published[Producer], 0, 0);

            if (Published > 0) {
                ULONG Which = A27Random(&State) % (ULONG)Published;

                if (IoCancelIrp(Cm->Irps[Producer][Which])) {
                    InterlockedIncrement(&Cm->CancelTook[Producer][Which]);
                }
            }
            if ((A27Random(&State) & 3) == 0) {
                sched_yield();
            }
        }
    }
}

static VOID
ModelConcurrentFifoAndExactlyOnce(VOID)
{
    LONG PoolBefore = WdkmTestPoolOutstanding();
    A27_CM *Cm;
    ULONG Producer, Index;
    LONG Removed = 0, Cancelled = 0;

    Cm = (A27_CM *)calloc(1, sizeof(*Cm));
    CHECK(Cm != NULL);
    Cm->Files[0].Type = Cm->Files[1].Type = IO_TYPE_FILE;
    if (!A27Create(&Cm->Queue)) {
        free(Cm);
        CHECK(FALSE);
    }
    for (Producer = 0; Producer < 2; Producer += 1) {
        for (Index = 0; Index < A27_CM_IRPS; Index += 1) {
            Cm->Irps[Producer][Index] = A27Irp(&Cm->Files[Producer], (Producer << 16) | Index);
            CHECK(Cm->Irps[Producer][Index] != NULL);
        }
    }
    WdkmHostSetDelayFuzzing(A27Seed + 3, 10);
    CHECK(WdkmTestRunThreads(4, A27CmThread, Cm));
    WdkmHostSetDelayFuzzing(0, 0);
    CHECK_EQ(A27Count(Cm->Queue.Csq), 0);
    CHECK_STATUS(WdkmCsqDestroy(Cm->Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(Cm->InsertErrors, 0);
    CHECK_EQ(Cm->FifoViolations, 0);
    CHECK_EQ(Cm->Queue.BadCallbacks, 0);
    for (Producer = 0; Producer < 2; Producer += 1) {
        for (Index = 0; Index < A27_CM_IRPS; Index += 1) {
            PIRP Irp = Cm->Irps[Producer][Index];
            BOOLEAN WasRemoved = Cm->Removed[Producer][Index] != 0;

            CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
            CHECK(Cm->Removed[Producer][Index] <= 1);
            CHECK_EQ(WasRemoved, Irp->IoStatus.Status == A27_STATUS_REMOVED);
            CHECK(!(WasRemoved && Cm->CancelTook[Producer][Index] != 0));
            CHECK(WasRemoved || Irp->IoStatus.Status == STATUS_CANCELLED);
            Removed += WasRemoved ? 1 : 0;
            Cancelled += WasRemoved ? 0 : 1;
        }
    }
    CHECK_EQ(Cm->Queue.Callbacks, Cancelled);
    CHECK_EQ(Removed + Cancelled, 2 * A27_CM_IRPS);
    for (Producer = 0; Producer < 2; Producer += 1) {
        for (Index = 0; Index < A27_CM_IRPS; Index += 1) {
            WdkmHostIrpFree(Cm->Irps[Producer][Index]);
        }
    }
    free(Cm);
    CHECK_EQ(WdkmTestPoolOutstanding(), PoolBefore);
}

/* ---------------------------------------------------------------------- */

static VOID
Attack27Cleanup(VOID)
{
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    if (WdkmHostInterruptsActive(NULL)) {
        WdkmHostInterruptsStop();
    }
    WdkmHostSetDelayFuzzing(0, 0);
    (VOID)InterlockedExchangePointer((PVOID volatile *)&A27CurrentInj, NULL);
}

static const WDKM_TEST_CASE Attack27Cases[] = {
    { "dpc_on_inserter_cancels_and_removes", DpcOnInserterCancelsAndRemoves },
    { "refused_calls_change_nothing", RefusedCallsChangeNothing },
    { "cancel_from_match_callback_then_remove_next", CancelFromMatchCallbackThenRemoveNext },
    { "cancel_from_match_callback_then_remove_by_context", CancelFromMatchCallbackThenRemoveByContext },
    { "cancel_from_match_callback_then_destroy", CancelFromMatchCallbackThenDestroy },
    { "model_single_thread_exact", ModelSingleThreadExact },
    { "cancel_racing_insert", CancelRacingInsert },
    { "cancel_racing_removes", CancelRacingRemoves },
    { "cancel_racing_destroy", CancelRacingDestroy },
    { "injected_events_on_inserters_and_canceller", InjectedEventsOnInsertersAndCanceller },
    { "model_concurrent_fifo_and_exactly_once", ModelConcurrentFifoAndExactlyOnce },
};

const WDKM_TEST_SUITE WdkmAttack27Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack27", Attack27Cases, Attack27Cleanup);
