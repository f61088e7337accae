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
 * routine is done with it (Finishing, for the destroy). So does a call
 * that lets the lock go and then hands an IRP to CompleteCanceledIrp,
 * calls an OnCancel or takes the lock again: it is "already running" for
 * the destroy, which must not free the queue under it.
 *
 * A current IRP (WdkmCsqStartNextIrp) is out of the list but its routine
 * is armed again: its slot holds the queue with WDKMP_CSQ_CURRENT, and the
 * worker's WDKM_CSQ_CURRENT is linked on Held. The cancel routine only
 * marks the record, so the IRP is never completed while the worker uses
 * it; the end decides, under the lock, who completes it: the worker if it
 * got the routine back, CompleteCanceledIrp otherwise (the end calls it if
 * the routine has been and marked the record, else it parks the IRP on
 * HandedOff and the routine, when it comes, finds no record and completes
 * it). The slot of an IRP is rewritten only while no routine of it is
 * armed or running (Start takes the routine before it re-points it), so
 * the routine's read of the slot before it has the lock is no race.
 */
#include "wdkm_internal.h"

#define WDKMP_SIGNATURE_CSQ         0x71734357UL   /* 'WCsq' */
#define WDKMP_SIGNATURE_CSQ_CONTEXT 0x78734357UL   /* 'WCsx' */
#define WDKMP_SIGNATURE_CSQ_CURRENT 0x63734357UL   /* 'WCsc' */

/* WDKM_CSQ_CURRENT.Flags. */
#define WDKMP_CSQ_CANCEL_ASKED  0x1L    /* read without the lock by the check */
#define WDKMP_CSQ_ROUTINE_DONE  0x2L    /* its cancel routine ran: the end completes */

/* The value the queue's spin lock owns. */
typedef struct _WDKMP_CSQ_STATE {
    LIST_ENTRY Pending;     /* IRPs, by Tail.Overlay.ListEntry, oldest first */
    ULONG Count;
    LIST_ENTRY Held;        /* WDKM_CSQ_CURRENT records holding an IRP, by Link */
    ULONG HeldCount;
    LIST_ENTRY HandedOff;   /* ended current IRPs their taken routine completes */
    ULONG HandedOffCount;
    BOOLEAN Closed;         /* a destroy has begun: inserts are refused */
} WDKMP_CSQ_STATE, *PWDKMP_CSQ_STATE;

struct _WDKM_CSQ {
    ULONG Signature;
    PWDKM_SPIN_LOCK Lock;   /* owns a WDKMP_CSQ_STATE */
    PWDKM_CSQ_COMPLETE_CANCELED_IRP CompleteCanceledIrp;
    PVOID Context;
    /*
     * Cancel routines that found an IRP of this queue, and calls that let
     * its lock go but still use the queue (CompleteCanceledIrp, OnCancel,
     * another hold: WdkmpCsqStay), not done with it yet. Incremented while
     * the IRP is still linked (a routine) or under the lock (a call), so
     * that the destroy, which reads it after a hold of the lock, sees it;
     * decremented as the last touch of the queue. Interlocked: full
     * barriers on every target.
     */
    LONG volatile Finishing;
    /*
     * Orphans still linked (see WDKMP_CSQ_ORPHAN). Changed under the
     * queue's lock only (a cancel routine marks one while its own thread
     * holds it, further up the stack), so that removers, which read it
     * under the lock, collect them when it is not 0.
     */
    LONG Orphans;
    /*
     * The lock's value, in the lock's block: read through this pointer only
     * by a cancel routine whose own thread holds the lock further up its
     * stack (a match callback's cancel); every other access acquires.
     */
    PWDKMP_CSQ_STATE State;
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
/* Bit 1: a current IRP (held or handed off); the rest of the slot is the queue. */
#define WDKMP_CSQ_CURRENT ((ULONG_PTR)2)
#define WDKMP_CSQ_SLOT_BITS (WDKMP_CSQ_ORPHAN | WDKMP_CSQ_CURRENT)

static
VOID
WdkmpCsqFromIrp(
    _In_ PIRP Irp,
    _Out_ PWDKM_CSQ *Csq,
    _Out_ PWDKM_CSQ_IRP_CONTEXT *IrpContext
    )
{
    ULONG_PTR Bits = (ULONG_PTR)*WdkmpIrpQueueSlot(Irp);
    PVOID Slot = (PVOID)(Bits & ~WDKMP_CSQ_SLOT_BITS);

    if ((Bits & WDKMP_CSQ_CURRENT) == 0 &&
        *(const ULONG *)Slot == WDKMP_SIGNATURE_CSQ_CONTEXT) {
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

/* Under the queue's lock: Irp is a current IRP (held or handed off). */
static
BOOLEAN
WdkmpCsqIsCurrent(
    _In_ PIRP Irp
    )
{
    return ((ULONG_PTR)*WdkmpIrpQueueSlot(Irp) & WDKMP_CSQ_CURRENT) != 0;
}

/* Under the queue's lock: the record holding current Irp; NULL: handed off. */
static
PWDKM_CSQ_CURRENT
WdkmpCsqFindHolder(
    _In_ PWDKMP_CSQ_STATE State,
    _In_ PIRP Irp
    )
{
    PLIST_ENTRY Link;

    for (Link = State->Held.Flink; Link != &State->Held; Link = Link->Flink) {
        PWDKM_CSQ_CURRENT Current = CONTAINING_RECORD(Link, WDKM_CSQ_CURRENT, Link);

        if (Current->Irp == Irp) {
            return Current;
        }
    }
    return NULL;
}

/*
 * Under the queue's lock: the caller goes on using the queue after it lets
 * the lock go (a callback, another hold), so the destroy, which might
 * otherwise find nothing left and free it, waits for WdkmpCsqLeave.
 */
static
VOID
WdkmpCsqStay(
    _Inout_ PWDKM_CSQ Csq
    )
{
    (VOID)InterlockedIncrement(&Csq->Finishing);
}

/* The caller's last touch of the queue after WdkmpCsqStay. */
static
VOID
WdkmpCsqLeave(
    _Inout_ PWDKM_CSQ Csq
    )
{
    (VOID)InterlockedDecrement(&Csq->Finishing);
}

/*
 * Lets go of the queue's lock (taken at OldIrql), then hands Irp, when not
 * NULL, to CompleteCanceledIrp. The queue is kept alive for the call
 * (WdkmpCsqStay before the lock goes): nothing else holds the destroy off
 * once it is free.
 */
static
VOID
WdkmpCsqReleaseAndComplete(
    _Inout_ PWDKM_CSQ Csq,
    _In_ KIRQL OldIrql,
    _In_opt_ PIRP Irp
    )
{
    if (Irp != NULL) {
        WdkmpCsqStay(Csq);
    }
    (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
    if (Irp != NULL) {
        Csq->CompleteCanceledIrp(Csq, Irp, Csq->Context);
        WdkmpCsqLeave(Csq);
    }
}

/*
 * Under the queue's lock: Current is one of the records on Held. A copy of
 * a holding record (or a stale one) has the holder's fields but is not
 * linked: unlinking it would corrupt the list (a fast-fail bug check).
 */
static
BOOLEAN
WdkmpCsqIsHolder(
    _In_ PWDKMP_CSQ_STATE State,
    _In_ PWDKM_CSQ_CURRENT Current
    )
{
    PLIST_ENTRY Link;

    for (Link = State->Held.Flink; Link != &State->Held; Link = Link->Flink) {
        if (Link == &Current->Link) {
            return TRUE;
        }
    }
    return FALSE;
}

/*
 * Under the queue's lock: a cancellation of Current's IRP is asked for.
 * Returns TRUE the first time (the caller then calls OnCancel, after the
 * lock). The flag is stored with release order for the lock-free check.
 */
static
BOOLEAN
WdkmpCsqAskCancel(
    _Inout_ PWDKM_CSQ_CURRENT Current,
    _In_ LONG More
    )
{
    LONG Flags = WdkmpLoadLong(&Current->Flags);

    WdkmpStoreLongRelease(&Current->Flags, Flags | WDKMP_CSQ_CANCEL_ASKED | More);
    return (Flags & WDKMP_CSQ_CANCEL_ASKED) == 0;
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

/* Unlinks a handed-off IRP, whose cancel routine has come. Under the lock. */
static
VOID
WdkmpCsqUnlinkHandedOff(
    _Inout_ PWDKMP_CSQ_STATE State,
    _Inout_ PIRP Irp
    )
{
    RemoveEntryList(WdkmpIrpLink(Irp));
    State->HandedOffCount -= 1;
    *WdkmpIrpQueueSlot(Irp) = NULL;
}

/*
 * Under the queue's lock: unlinks every orphan onto Orphans (a local
 * list), if there is any. An orphan was cancelled: it goes to the
 * driver's CompleteCanceledIrp (WdkmpCsqCompleteOrphans, after the lock),
 * never to a remover. Queued IRPs and handed-off current ones can be.
 */
static
VOID
WdkmpCsqCollectOrphans(
    _Inout_ PWDKM_CSQ Csq,
    _Inout_ PWDKMP_CSQ_STATE State,
    _Inout_ PLIST_ENTRY Orphans
    )
{
    PLIST_ENTRY Heads[2];
    ULONG Index;

    Heads[0] = &State->Pending;
    Heads[1] = &State->HandedOff;
    for (Index = 0; Index < 2; Index += 1) {
        PLIST_ENTRY Link = Heads[Index]->Flink;

        while (Csq->Orphans != 0 && Link != Heads[Index]) {
            PIRP Irp = WdkmpIrpFromLink(Link);

            Link = Link->Flink;
            if (!WdkmpCsqIsOrphan(Irp)) {
                continue;
            }
            if (Index == 0) {
                WdkmpCsqUnlink(State, Irp);
            } else {
                WdkmpCsqUnlinkHandedOff(State, Irp);
            }
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
 * Holding the queue's lock: lets it go, then hands the collected orphans
 * (if any) to the driver's callback, the queue kept from the destroy
 * meanwhile.
 */
static
VOID
WdkmpCsqReleaseAndCompleteOrphans(
    _Inout_ PWDKM_CSQ Csq,
    _In_ KIRQL OldIrql,
    _Inout_ PLIST_ENTRY Orphans
    )
{
    BOOLEAN Any = !IsListEmpty(Orphans);

    if (Any) {
        WdkmpCsqStay(Csq);
    }
    (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
    if (Any) {
        WdkmpCsqCompleteOrphans(Csq, Orphans);
        WdkmpCsqLeave(Csq);
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

    ((PWDKM_CSQ)Context)->State = State;    /* where the lock keeps it */
    InitializeListHead(&State->Pending);
    InitializeListHead(&State->Held);
    InitializeListHead(&State->HandedOff);
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
    Status = WDKM_SPIN_LOCK_CREATE_IN_PLACE(WDKMP_CSQ_STATE, WdkmpCsqInitializeState, Queue,
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
    WdkmpCsqReleaseAndComplete(Csq, OldIrql, CompleteNow ? Irp : NULL);
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
    WdkmpCsqReleaseAndCompleteOrphans(Csq, OldIrql, &Orphans);
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

NTSTATUS
WdkmCsqInitializeCurrent(
    _Out_ PWDKM_CSQ_CURRENT Current,
    _In_opt_ PWDKM_CSQ_CURRENT_CANCELLED OnCancel,
    _In_opt_ PVOID OnCancelContext
    )
{
    if (Current == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Current->Signature = WDKMP_SIGNATURE_CSQ_CURRENT;
    Current->Flags = 0;
    Current->Irp = NULL;
    Current->Csq = NULL;
    InitializeListHead(&Current->Link);
    Current->OnCancel = OnCancel;
    Current->OnCancelContext = OnCancelContext;
    return STATUS_SUCCESS;
}

/*
 * Under the queue's lock: Irp (queued, its routine taken back by the
 * caller) becomes Current's. The slot is re-pointed while no routine is
 * armed, then the routine is armed again. FALSE if a cancellation came
 * meanwhile and the routine was still ours to clear: the IRP is then the
 * caller's to hand to CompleteCanceledIrp, as the insert does; if the
 * routine was taken, it comes, finds the IRP held and marks it.
 */
static
BOOLEAN
WdkmpCsqHold(
    _Inout_ PWDKM_CSQ Csq,
    _Inout_ PWDKMP_CSQ_STATE State,
    _Inout_ PWDKM_CSQ_CURRENT Current,
    _Inout_ PIRP Irp
    )
{
    WdkmpCsqUnlink(State, Irp);
    *WdkmpIrpQueueSlot(Irp) = (PVOID)((ULONG_PTR)Csq | WDKMP_CSQ_CURRENT);
    WdkmpStoreLong(&Current->Flags, 0);
    Current->Irp = Irp;
    Current->Csq = Csq;
    InsertTailList(&State->Held, &Current->Link);
    State->HeldCount += 1;
    (VOID)WdkmpIrpSetCancelRoutine(Irp, WdkmpCsqCancelRoutine);
    if (WdkmpIrpCancelled(Irp) && WdkmpIrpSetCancelRoutine(Irp, NULL) != NULL) {
        RemoveEntryList(&Current->Link);
        State->HeldCount -= 1;
        Current->Irp = NULL;
        *WdkmpIrpQueueSlot(Irp) = NULL;
        return FALSE;
    }
    return TRUE;
}

/*
 * The checks every call on a current IRP makes first, in the conventions'
 * order (arguments, handle kind, IRQL); the record itself is checked
 * under the lock by the callers that take it.
 */
static
NTSTATUS
WdkmpCsqCheckCall(
    _In_opt_ PWDKM_CSQ Csq,
    _In_opt_ PWDKM_CSQ_CURRENT Current
    )
{
    if (Csq == NULL || Current == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (!WdkmpCsqIsQueue(Csq)) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmCsqStartNextIrp(
    _Inout_ PWDKM_CSQ Csq,
    _In_opt_ PWDKM_CSQ_MATCH Match,
    _In_opt_ PVOID MatchContext,
    _Inout_ PWDKM_CSQ_CURRENT Current,
    _Outptr_result_maybenull_ PIRP *Irp
    )
{
    PWDKMP_CSQ_STATE State;
    LIST_ENTRY Cancelled;
    PLIST_ENTRY Link;
    PIRP Found = NULL;
    NTSTATUS Status;
    KIRQL OldIrql;

    if (Irp == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    *Irp = NULL;
    Status = WdkmpCsqCheckCall(Csq, Current);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    InitializeListHead(&Cancelled);
    Status = WDKM_SPIN_LOCK_ACQUIRE(Csq->Lock, &OldIrql, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    /* Read under the lock: the queue's calls are the only writers. */
    if (Current->Signature != WDKMP_SIGNATURE_CSQ_CURRENT || Current->Irp != NULL) {
        (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
        return STATUS_INVALID_PARAMETER;
    }
    Link = State->Pending.Flink;
    while (Link != &State->Pending) {
        PIRP Candidate = WdkmpIrpFromLink(Link);

        Link = Link->Flink;
        if (WdkmpCsqIsOrphan(Candidate) || (Match != NULL && !Match(Candidate, MatchContext)) ||
            !WdkmpCsqTake(Candidate)) {
            continue;   /* cancelled, not wanted, or being cancelled */
        }
        if (WdkmpCsqHold(Csq, State, Current, Candidate)) {
            Found = Candidate;
            break;
        }
        InsertTailList(&Cancelled, WdkmpIrpLink(Candidate));
    }
    WdkmpCsqCollectOrphans(Csq, State, &Cancelled);
    WdkmpCsqReleaseAndCompleteOrphans(Csq, OldIrql, &Cancelled);
    *Irp = Found;
    return Found != NULL ? STATUS_SUCCESS : STATUS_NO_MORE_ENTRIES;
}

NTSTATUS
WdkmCsqCheckCurrentIrp(
    _In_ PWDKM_CSQ Csq,
    _In_ PWDKM_CSQ_CURRENT Current
    )
{
    NTSTATUS Status = WdkmpCsqCheckCall(Csq, Current);

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    /* Irp and Csq are written by the holder's own start and end. */
    if (Current->Signature != WDKMP_SIGNATURE_CSQ_CURRENT || Current->Csq != Csq ||
        Current->Irp == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    /* Acquire pairs with the marking's release (nothing else is read
       after it; the order only makes the answer prompt and monotonic). */
    if ((WdkmpLoadLongAcquire(&Current->Flags) & WDKMP_CSQ_CANCEL_ASKED) != 0 ||
        WdkmpIrpCancelled(Current->Irp)) {
        return STATUS_CANCELLED;
    }
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmCsqEndCurrentIrp(
    _Inout_ PWDKM_CSQ Csq,
    _Inout_ PWDKM_CSQ_CURRENT Current
    )
{
    PWDKMP_CSQ_STATE State;
    BOOLEAN ToCallback = FALSE;
    PIRP Irp;
    LONG Flags;
    NTSTATUS Status = WdkmpCsqCheckCall(Csq, Current);
    KIRQL OldIrql;

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(Csq->Lock, &OldIrql, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    if (Current->Signature != WDKMP_SIGNATURE_CSQ_CURRENT || Current->Csq != Csq ||
        Current->Irp == NULL || !WdkmpCsqIsHolder(State, Current)) {
        (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
        return STATUS_INVALID_PARAMETER;
    }
    Irp = Current->Irp;
    Flags = WdkmpLoadLong(&Current->Flags);
    RemoveEntryList(&Current->Link);
    State->HeldCount -= 1;
    Current->Irp = NULL;
    if (WdkmpCsqTake(Irp)) {
        /* No routine will run: the caller's, unless a cancel was asked
           for (also one that found no routine: Cancel is read after the
           exchange, as the insert reads it). */
        *WdkmpIrpQueueSlot(Irp) = NULL;
        ToCallback = (Flags & WDKMP_CSQ_CANCEL_ASKED) != 0 || WdkmpIrpCancelled(Irp);
        Status = ToCallback ? STATUS_CANCELLED : STATUS_SUCCESS;
    } else if ((Flags & WDKMP_CSQ_ROUTINE_DONE) != 0) {
        /* Its routine has been, marked the record and left the IRP. */
        *WdkmpIrpQueueSlot(Irp) = NULL;
        ToCallback = TRUE;
        Status = STATUS_CANCELLED;
    } else {
        /* IoCancelIrp took the routine and is about to call it: it finds
           no holder and completes the IRP. The destroy waits for it. */
        InsertTailList(&State->HandedOff, WdkmpIrpLink(Irp));
        State->HandedOffCount += 1;
        Status = STATUS_CANCELLED;
    }
    /* Nothing of the queue is held any more: it is kept alive for the call. */
    WdkmpCsqReleaseAndComplete(Csq, OldIrql, ToCallback ? Irp : NULL);
    return Status;
}

NTSTATUS
WdkmCsqCancelCurrentIrps(
    _Inout_ PWDKM_CSQ Csq,
    _In_opt_ PWDKM_CSQ_MATCH Match,
    _In_opt_ PVOID MatchContext,
    _Out_opt_ PULONG Count
    )
{
    PWDKMP_CSQ_STATE State;
    LIST_ENTRY Orphans;
    NTSTATUS Status;
    ULONG Marked = 0;
    BOOLEAN Stayed = FALSE;

    if (Count != NULL) {
        *Count = 0;
    }
    if (Csq == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (!WdkmpCsqIsQueue(Csq)) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    InitializeListHead(&Orphans);
    /*
     * One record per hold: each OnCancel is called without the lock, and
     * a record may be ended and reused meanwhile, so the walk starts
     * again after each (the records are the workers: a handful). The
     * queue is kept from the destroy from the first hold on: a record
     * ended meanwhile may leave nothing held, and the walk takes the lock
     * again.
     */
    for (;;) {
        PWDKM_CSQ_CURRENT_CANCELLED OnCancel = NULL;
        PVOID OnCancelContext = NULL;
        BOOLEAN Found = FALSE;
        PLIST_ENTRY Link;
        KIRQL OldIrql;

        Status = WDKM_SPIN_LOCK_ACQUIRE(Csq->Lock, &OldIrql, &State);
        if (!WDKM_ACQUIRED(Status)) {
            break;
        }
        if (!Stayed) {
            Stayed = TRUE;
            WdkmpCsqStay(Csq);
        }
        for (Link = State->Held.Flink; Link != &State->Held; Link = Link->Flink) {
            PWDKM_CSQ_CURRENT Current = CONTAINING_RECORD(Link, WDKM_CSQ_CURRENT, Link);

            if ((WdkmpLoadLong(&Current->Flags) & WDKMP_CSQ_CANCEL_ASKED) != 0 ||
                (Match != NULL && !Match(Current->Irp, MatchContext))) {
                continue;
            }
            (VOID)WdkmpCsqAskCancel(Current, 0);
            OnCancel = Current->OnCancel;
            OnCancelContext = Current->OnCancelContext;
            Found = TRUE;
            Marked += 1;
            break;
        }
        WdkmpCsqCollectOrphans(Csq, State, &Orphans);
        (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
        WdkmpCsqCompleteOrphans(Csq, &Orphans);
        if (!Found) {
            break;
        }
        if (OnCancel != NULL) {
            OnCancel(Csq, OnCancelContext);
        }
    }
    if (Count != NULL) {
        *Count = Marked;
    }
    if (Stayed) {
        WdkmpCsqLeave(Csq);     /* the last touch of the queue */
    }
    /* A refusal after some were marked: they stay marked (a request,
       nothing to undo); the status says the rest were not looked at. */
    return Status;
}

/*
 * Called by IoCancelIrp holding the cancel spin lock, for an IRP of a
 * queue: the IRP is still linked (nobody else got its routine), so the
 * queue is alive until Finishing drops again. A cancel routine has no
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
    PWDKM_CSQ_CURRENT Current = NULL;
    PWDKM_CSQ_CURRENT_CANCELLED OnCancel = NULL;
    PVOID OnCancelContext = NULL;
    PWDKM_CSQ Csq;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(DeviceObject);
    WdkmpCsqFromIrp(Irp, &Csq, &IrpContext);
    (VOID)InterlockedIncrement(&Csq->Finishing);
    WdkmpIrpReleaseCancelSpinLock(Irp);

    if (WdkmSpinLockIsOwned(Csq->Lock)) {
        /* The lock is this thread's (see below): the state may be read. */
        State = Csq->State;
        if (WdkmpCsqIsCurrent(Irp)) {
            Current = WdkmpCsqFindHolder(State, Irp);
        }
    }
    if (Current != NULL) {
        /*
         * A held current IRP cancelled from a match callback: marked for
         * its worker, who ends it (to CompleteCanceledIrp). OnCancel is
         * not called under the lock: the worker learns it when it polls.
         */
        (VOID)WdkmpCsqAskCancel(Current, WDKMP_CSQ_ROUTINE_DONE);
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: cancel-safe queue %p: current IRP %p cancelled from a match "
                        "callback: marked, its worker is not woken\n",
                        (PVOID)Csq, (PVOID)Irp);
        (VOID)InterlockedDecrement(&Csq->Finishing);
        return;
    }
    if (WdkmSpinLockIsOwned(Csq->Lock)) {
        /*
         * Only a driver cancelling this queue's IRP from a match callback
         * gets here: this thread holds the lock, further up its stack, in
         * the middle of a walk (WdkmCsqRemoveNextIrp, WdkmCsqStartNextIrp,
         * WdkmCsqCancelCurrentIrps). The IRP (queued, or current and
         * handed off) stays linked, marked an orphan (a write under the
         * lock, which is this thread's), and that call hands it to CompleteCanceledIrp
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
        (VOID)InterlockedDecrement(&Csq->Finishing);
        return;
    }
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Csq->Lock, &OldIrql, &State);
    if (!WdkmpCsqIsCurrent(Irp)) {
        WdkmpCsqUnlink(State, Irp);
    } else if ((Current = WdkmpCsqFindHolder(State, Irp)) != NULL) {
        /* Its worker uses it: marked, and ended by the worker. */
        if (WdkmpCsqAskCancel(Current, WDKMP_CSQ_ROUTINE_DONE)) {
            OnCancel = Current->OnCancel;
            OnCancelContext = Current->OnCancelContext;
        }
    } else {
        WdkmpCsqUnlinkHandedOff(State, Irp);    /* its worker ended it first */
    }
    (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
    if (Current == NULL) {
        Csq->CompleteCanceledIrp(Csq, Irp, Csq->Context);
    } else if (OnCancel != NULL) {
        OnCancel(Csq, OnCancelContext);
    }
    /* The last touch of the queue: a destroy may free it from here on. */
    (VOID)InterlockedDecrement(&Csq->Finishing);
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
    if (State->HeldCount != 0) {
        /* A worker uses an IRP: freeing the queue under its end would be
           a use after free, and only the worker can end it. */
        (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
        return STATUS_DEVICE_BUSY;
    }
    State->Closed = TRUE;
    WdkmpCsqCollectOrphans(Csq, State, &Drained);
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
     * it and then finish; wait for both, and for calls still running past
     * their lock (WdkmpCsqStay). The list is read under the lock, after
     * which a routine's increment (made before it unlinked) and a call's
     * (made under the lock) are seen.
     */
    for (;;) {
        Status = WDKM_SPIN_LOCK_ACQUIRE(Csq->Lock, &OldIrql, &State);
        if (!WDKM_ACQUIRED(Status)) {
            return Status;
        }
        Busy = State->Count != 0 || State->HandedOffCount != 0;
        (VOID)WdkmSpinLockRelease(Csq->Lock, OldIrql);
        if (!Busy && InterlockedCompareExchange(&Csq->Finishing, 0, 0) == 0) {
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
