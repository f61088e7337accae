/*
 * wdkm_csq.c - the cancel-safe IRP queue (wdkm_csq.h): the IoCsq contract
 * over a WDKM_SPIN_LOCK that owns the list of pending IRPs.
 *
 * Who owns a queued IRP is decided by its cancel routine, as in every
 * cancel-safe queue: the insert sets it under the queue's lock; a remover
 * (under the lock) clears it and owns the IRP only if it got the routine
 * back; IoCancelIrp takes it with the same interlocked exchange and then
 * calls it, and the routine unlinks the IRP under the queue's lock. An IRP
 * whose routine is gone but which is still linked is therefore being
 * cancelled: removers skip it, and the queue stays alive until the cancel
 * routine is done with it (CancelsRunning, for the destroy).
 */
#include "wdkm_internal.h"

#define WDKMP_SIGNATURE_CSQ         0x71734357UL   /* 'WCsq' */
#define WDKMP_SIGNATURE_CSQ_CONTEXT 0x78734357UL   /* 'WCsx' */

/* The value the queue's spin lock owns. */
typedef struct _WDKMP_CSQ_STATE {
    LIST_ENTRY Pending;     /* IRPs, by Tail.Overlay.ListEntry, oldest first */
    ULONG Count;
    BOOLEAN Closed;         /* a destroy has begun: inserts are refused */
} WDKMP_CSQ_STATE, *PWDKMP_CSQ_STATE;

struct _WDKM_CSQ {
    ULONG Signature;
    PWDKM_SPIN_LOCK Lock;   /* owns a WDKMP_CSQ_STATE */
    PWDKM_CSQ_COMPLETE_CANCELED_IRP CompleteCanceledIrp;
    PVOID Context;
    /*
     * Cancel routines that found an IRP of this queue and are not done with
     * the queue yet. Incremented while the IRP is still linked (so the
     * queue cannot be freed under it), decremented as the routine's last
     * touch of the queue. Interlocked: full barriers on every target.
     */
    LONG volatile CancelsRunning;
    /*
     * Orphans still linked (see WDKMP_CSQ_ORPHAN). Changed under the
     * queue's lock only (a cancel routine marks one while its own thread
     * holds it, further up the stack), so that removers, which read it
     * under the lock, collect them when it is not 0.
     */
    LONG Orphans;
};

static
VOID
NTAPI
WdkmpCsqCancelRoutine(
    _Inout_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    );

/*
 * A handle that is not a live queue (a lock's, through a cast): the queue
 * answers with a status instead of reading the handle's block as its own.
 */
#define WdkmpCsqIsQueue(Csq) ((Csq)->Signature == WDKMP_SIGNATURE_CSQ)

/*
 * The queue's slot in a queued IRP points to the WDKM_CSQ_IRP_CONTEXT the
 * insert filled, or to the queue itself; the signature tells which. Bit 0
 * marks an orphan: an IRP whose cancel routine ran but could not take the
 * queue's lock (see WdkmpCsqCancelRoutine); it belongs to whoever finds it
 * next under the lock.
 */
#define WDKMP_CSQ_ORPHAN ((ULONG_PTR)1)

static
VOID
WdkmpCsqFromIrp(
    _In_ PIRP Irp,
    _Out_ PWDKM_CSQ *Csq,
    _Out_ PWDKM_CSQ_IRP_CONTEXT *IrpContext
    )
{
    PVOID Slot = (PVOID)((ULONG_PTR)*WdkmpIrpQueueSlot(Irp) & ~WDKMP_CSQ_ORPHAN);

    if (*(const ULONG *)Slot == WDKMP_SIGNATURE_CSQ_CONTEXT) {
        *IrpContext = (PWDKM_CSQ_IRP_CONTEXT)Slot;
        *Csq = (*IrpContext)->Csq;
    } else {
        *IrpContext = NULL;
        *Csq = (PWDKM_CSQ)Slot;
    }
}

/* Under the queue's lock: Irp's cancel routine ran but left it linked. */
static
BOOLEAN
WdkmpCsqIsOrphan(
    _In_ PIRP Irp
    )
{
    return ((ULONG_PTR)*WdkmpIrpQueueSlot(Irp) & WDKMP_CSQ_ORPHAN) != 0;
}

/*
 * Under the queue's lock: TRUE if the caller now owns queued Irp, because
 * it cleared the cancel routine itself. FALSE: a cancel routine has it
 * (running, or about to run), or had it and left it an orphan, which goes
 * to CompleteCanceledIrp, never to a remover (WdkmpCsqCollectOrphans).
 */
static
BOOLEAN
WdkmpCsqTake(
    _Inout_ PIRP Irp
    )
{
    return WdkmpIrpSetCancelRoutine(Irp, NULL) != NULL;
}

/*
 * Unlinks Irp (queued, its cancel routine already cleared or taken) and
 * tells its context it left. Under the queue's lock.
 */
static
VOID
WdkmpCsqUnlink(
    _Inout_ PWDKMP_CSQ_STATE State,
    _Inout_ PIRP Irp
    )
{
    PWDKM_CSQ Csq;
    PWDKM_CSQ_IRP_CONTEXT IrpContext;

    WdkmpCsqFromIrp(Irp, &Csq, &IrpContext);
    RemoveEntryList(WdkmpIrpLink(Irp));
    State->Count -= 1;
    if (IrpContext != NULL) {
        IrpContext->Irp = NULL;
    }
    *WdkmpIrpQueueSlot(Irp) = NULL;
}

/*
 * Under the queue's lock: unlinks every orphan onto Orphans (a local
 * list), if there is any. An orphan was cancelled: it goes to the
 * driver's CompleteCanceledIrp (WdkmpCsqCompleteOrphans, after the lock),
 * never to a remover.
 */
static
VOID
WdkmpCsqCollectOrphans(
    _Inout_ PWDKM_CSQ Csq,
    _Inout_ PWDKMP_CSQ_STATE State,
    _Inout_ PLIST_ENTRY Orphans
    )
{
    PLIST_ENTRY Link = State->Pending.Flink;

    while (Csq->Orphans != 0 && Link != &State->Pending) {
        PIRP Irp = WdkmpIrpFromLink(Link);

        Link = Link->Flink;
        if (WdkmpCsqIsOrphan(Irp)) {
            WdkmpCsqUnlink(State, Irp);
            InsertTailList(Orphans, WdkmpIrpLink(Irp));
            Csq->Orphans -= 1;
        }
    }
}

/* After the queue's lock: the collected orphans to the driver's callback. */
static
VOID
WdkmpCsqCompleteOrphans(
    _In_ PWDKM_CSQ Csq,
    _Inout_ PLIST_ENTRY Orphans
    )
{
    while (!IsListEmpty(Orphans)) {
        PIRP Irp = WdkmpIrpFromLink(RemoveHeadList(Orphans));

        Csq->CompleteCanceledIrp(Csq, Irp, Csq->Context);
    }
}

/*
 * The list head points to itself, so it is set up where the lock keeps it,
 * in the lock's block (a head built on the stack and copied in would point
 * at a dead frame).
 */
static
NTSTATUS
WdkmpCsqInitializeState(
    _Out_ PVOID Value,
    _In_opt_ PVOID Context
    )
{
    PWDKMP_CSQ_STATE State = (PWDKMP_CSQ_STATE)Value;

    UNREFERENCED_PARAMETER(Context);
    InitializeListHead(&State->Pending);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmCsqCreate(
    _In_ PWDKM_CSQ_COMPLETE_CANCELED_IRP CompleteCanceledIrp,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_CSQ *Csq
    )
{
    PWDKM_CSQ Queue;
    NTSTATUS Status;

    if (Csq == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    *Csq = NULL;
    if (CompleteCanceledIrp == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    Queue = (PWDKM_CSQ)WdkmpAllocateBlock(sizeof(*Queue));
    if (Queue == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Status = WDKM_SPIN_LOCK_CREATE_IN_PLACE(WDKMP_CSQ_STATE, WdkmpCsqInitializeState, NULL,
                                            &Queue->Lock);
    if (Status != STATUS_SUCCESS) {
        WdkmpFreeBlock(Queue, sizeof(*Queue));
        return Status;
    }
    Queue->Signature = WDKMP_SIGNATURE_CSQ;
    Queue->CompleteCanceledIrp = CompleteCanceledIrp;
    Queue->Context = Context;
    *Csq = Queue;
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmCsqInsertIrp(
    _Inout_ PWDKM_CSQ Csq,
    _Inout_ PIRP Irp,
    _Out_opt_ PWDKM_CSQ_IRP_CONTEXT IrpContext
    )
{
    PWDKMP_CSQ_STATE State;
    BOOLEAN CompleteNow = FALSE;
    NTSTATUS Status;
    KIRQL OldIrql;

    if (Csq == NULL || Irp == NULL || WdkmpIrpHasCancelRoutine(Irp)) {
        /* A cancel routine set: the IRP is in some queue already. */
        return STATUS_INVALID_PARAMETER;
    }
    if (!WdkmpCsqIsQueue(Csq)) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(Csq->Lock, &OldIrql, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    if (State->Closed) {
        (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
        return STATUS_DELETE_PENDING;
    }
    /* Pending before anyone else can see it: the DPC may complete it as
       soon as the lock is released, before the dispatch routine returns. */
    WdkmpIrpMarkPending(Irp);
    if (IrpContext != NULL) {
        IrpContext->Signature = WDKMP_SIGNATURE_CSQ_CONTEXT;
        IrpContext->Irp = Irp;
        IrpContext->Csq = Csq;
        *WdkmpIrpQueueSlot(Irp) = IrpContext;
    } else {
        *WdkmpIrpQueueSlot(Irp) = Csq;
    }
    InsertTailList(&State->Pending, WdkmpIrpLink(Irp));
    State->Count += 1;
    /*
     * Linked first, routine second: once the routine is set, IoCancelIrp
     * may call it, and it must find the IRP linked. A cancellation that
     * came before the routine was set found none and did nothing but set
     * Cancel, which is read after the exchange: undo the insert if the
     * routine is still ours to clear; if it is gone, the cancel routine
     * runs as soon as the lock is free and unlinks the IRP itself.
     */
    (VOID)WdkmpIrpSetCancelRoutine(Irp, WdkmpCsqCancelRoutine);
    if (WdkmpIrpCancelled(Irp) && WdkmpIrpSetCancelRoutine(Irp, NULL) != NULL) {
        WdkmpCsqUnlink(State, Irp);
        CompleteNow = TRUE;
    }
    (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
    if (CompleteNow) {
        Csq->CompleteCanceledIrp(Csq, Irp, Csq->Context);
    }
    return STATUS_PENDING;
}

NTSTATUS
WdkmCsqRemoveNextIrp(
    _Inout_ PWDKM_CSQ Csq,
    _In_opt_ PWDKM_CSQ_MATCH Match,
    _In_opt_ PVOID MatchContext,
    _Outptr_result_maybenull_ PIRP *Irp
    )
{
    PWDKMP_CSQ_STATE State;
    LIST_ENTRY Orphans;
    PLIST_ENTRY Link;
    PIRP Found = NULL;
    NTSTATUS Status;
    KIRQL OldIrql;

    if (Irp == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    *Irp = NULL;
    if (Csq == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (!WdkmpCsqIsQueue(Csq)) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    InitializeListHead(&Orphans);
    Status = WDKM_SPIN_LOCK_ACQUIRE(Csq->Lock, &OldIrql, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    for (Link = State->Pending.Flink; Link != &State->Pending; Link = Link->Flink) {
        PIRP Candidate = WdkmpIrpFromLink(Link);

        if (WdkmpCsqIsOrphan(Candidate)) {
            continue;   /* cancelled: collected below, for the callback */
        }
        if (Match != NULL && !Match(Candidate, MatchContext)) {
            continue;
        }
        if (!WdkmpCsqTake(Candidate)) {
            continue;   /* being cancelled: its cancel routine unlinks it */
        }
        WdkmpCsqUnlink(State, Candidate);
        Found = Candidate;
        break;
    }
    /* Those the match callback cancelled (the only way to an orphan): to
       the driver's callback before this call returns, not to a remover. */
    WdkmpCsqCollectOrphans(Csq, State, &Orphans);
    (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
    WdkmpCsqCompleteOrphans(Csq, &Orphans);
    *Irp = Found;
    return Found != NULL ? STATUS_SUCCESS : STATUS_NO_MORE_ENTRIES;
}

NTSTATUS
WdkmCsqRemoveIrp(
    _Inout_ PWDKM_CSQ Csq,
    _Inout_ PWDKM_CSQ_IRP_CONTEXT IrpContext,
    _Outptr_result_maybenull_ PIRP *Irp
    )
{
    PWDKMP_CSQ_STATE State;
    PIRP Queued;
    NTSTATUS Status;
    KIRQL OldIrql;

    if (Irp == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    *Irp = NULL;
    if (Csq == NULL || IrpContext == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (!WdkmpCsqIsQueue(Csq)) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(Csq->Lock, &OldIrql, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    /* A context of this queue is written only under this lock, so it is
       read under it too (an insert of it may be running). */
    if (IrpContext->Signature != WDKMP_SIGNATURE_CSQ_CONTEXT || IrpContext->Csq != Csq) {
        (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
        return STATUS_INVALID_PARAMETER;
    }
    Queued = IrpContext->Irp;
    if (Queued != NULL && WdkmpCsqTake(Queued)) {
        WdkmpCsqUnlink(State, Queued);
    } else {
        Queued = NULL;
    }
    (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
    *Irp = Queued;
    return Queued != NULL ? STATUS_SUCCESS : STATUS_NOT_FOUND;
}

NTSTATUS
WdkmCsqQueryCount(
    _In_ PWDKM_CSQ Csq,
    _Out_ PULONG Count
    )
{
    PWDKMP_CSQ_STATE State;
    NTSTATUS Status;
    KIRQL OldIrql;

    if (Count == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    *Count = 0;
    if (Csq == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (!WdkmpCsqIsQueue(Csq)) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(Csq->Lock, &OldIrql, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    *Count = State->Count;
    (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
    return STATUS_SUCCESS;
}

/*
 * Called by IoCancelIrp holding the cancel spin lock, for an IRP of a
 * queue: the IRP is still linked (nobody else got its routine), so the
 * queue is alive until CancelsRunning drops again. A cancel routine has no
 * status to return, so it takes the queue's lock with the callback form: a
 * refusal there would leave the IRP pending forever, and the bug check
 * names the misuse instead. The one refusal with a way out is met first.
 */
static
VOID
NTAPI
WdkmpCsqCancelRoutine(
    _Inout_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    PWDKMP_CSQ_STATE State;
    PWDKM_CSQ_IRP_CONTEXT IrpContext;
    PWDKM_CSQ Csq;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(DeviceObject);
    WdkmpCsqFromIrp(Irp, &Csq, &IrpContext);
    (VOID)InterlockedIncrement(&Csq->CancelsRunning);
    WdkmpIrpReleaseCancelSpinLock(Irp);

    if (WdkmSpinLockIsOwned(Csq->Lock)) {
        /*
         * Only a driver cancelling this queue's IRP from a match callback
         * gets here: this thread holds the lock, further up its stack, in
         * the middle of WdkmCsqRemoveNextIrp's walk of the list. The IRP
         * stays linked, marked an orphan (a write under the lock, which is
         * this thread's), and that remove hands it to CompleteCanceledIrp
         * after it lets the lock go: neither lost, nor given to a remover,
         * nor a reason for the destroy to wait forever.
         */
        *WdkmpIrpQueueSlot(Irp) =
            (PVOID)((ULONG_PTR)*WdkmpIrpQueueSlot(Irp) | WDKMP_CSQ_ORPHAN);
        Csq->Orphans += 1;
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: cancel-safe queue %p: IRP %p cancelled from a match callback "
                        "(the queue's lock is the caller's): completed as cancelled when that "
                        "remove returns\n",
                        (PVOID)Csq, (PVOID)Irp);
        (VOID)InterlockedDecrement(&Csq->CancelsRunning);
        return;
    }
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Csq->Lock, &OldIrql, &State);
    WdkmpCsqUnlink(State, Irp);
    (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
    Csq->CompleteCanceledIrp(Csq, Irp, Csq->Context);
    /* The last touch of the queue: a destroy may free it from here on. */
    (VOID)InterlockedDecrement(&Csq->CancelsRunning);
}

NTSTATUS
WdkmCsqDestroy(
    _In_ PWDKM_CSQ Csq
    )
{
    PWDKMP_CSQ_STATE State;
    LIST_ENTRY Drained;
    PLIST_ENTRY Link;
    NTSTATUS Status;
    KIRQL OldIrql;
    BOOLEAN Busy;

    if (Csq == NULL || Csq->Signature != WDKMP_SIGNATURE_CSQ) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() != PASSIVE_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    InitializeListHead(&Drained);
    Status = WDKM_SPIN_LOCK_ACQUIRE(Csq->Lock, &OldIrql, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    State->Closed = TRUE;
    Link = State->Pending.Flink;
    while (Link != &State->Pending) {
        PIRP Irp = WdkmpIrpFromLink(Link);

        Link = Link->Flink;
        if (WdkmpCsqIsOrphan(Irp)) {
            Csq->Orphans -= 1;      /* cancelled already: to the callback too */
        } else if (!WdkmpCsqTake(Irp)) {
            continue;               /* its cancel routine unlinks it */
        }
        WdkmpCsqUnlink(State, Irp);
        InsertTailList(&Drained, WdkmpIrpLink(Irp));
    }
    (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);

    while (!IsListEmpty(&Drained)) {
        PIRP Irp = WdkmpIrpFromLink(RemoveHeadList(&Drained));

        Csq->CompleteCanceledIrp(Csq, Irp, Csq->Context);
    }

    /*
     * Cancel routines that had an IRP when the lock was taken above unlink
     * it and then finish; wait for both. The list is read under the lock,
     * after which a routine's increment (made before it unlinked) is seen.
     */
    for (;;) {
        Status = WDKM_SPIN_LOCK_ACQUIRE(Csq->Lock, &OldIrql, &State);
        if (!WDKM_ACQUIRED(Status)) {
            return Status;
        }
        Busy = State->Count != 0;
        (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
        if (!Busy && InterlockedCompareExchange(&Csq->CancelsRunning, 0, 0) == 0) {
            break;
        }
        WdkmpSleepMs(1);
    }
    /*
     * The list is empty now, so a plain destroy: the drain above cannot be
     * moved into a WdkmSpinLockDestroyWith drain, because cancel routines
     * still running need the lock to unlink their IRPs, and an IRP's cancel
     * routine must be cleared (under the lock) before that wait can end.
     */
    (VOID)WdkmSpinLockDestroy(Csq->Lock);
    Csq->Signature = WDKMP_SIGNATURE_FREED;
    WdkmpFreeBlock(Csq, sizeof(*Csq));
    return STATUS_SUCCESS;
}
