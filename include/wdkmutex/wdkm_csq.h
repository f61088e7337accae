/*
 * wdkm_csq.h - a cancel-safe IRP queue whose lock is a library spin lock.
 *
 * The IoCsq contract (IoCsqInitialize, IoCsqInsertIrpEx,
 * IoCsqRemoveNextIrp, IoCsqRemoveIrp), implemented by the library itself:
 * the queue's list of pending IRPs is the value a WDKM_SPIN_LOCK owns, so
 * it is reached only under that lock, and the lock is taken and released
 * inside each call. No lock hold crosses into the driver's code: there are
 * no acquire/release callbacks to split a hold in two, the driver needs no
 * WDKM_NO_THREAD_SAFETY_ANALYSIS, and clang's analysis follows the rest of
 * its code as before. It runs wherever the library runs: the kernel's
 * IoCsqInsertIrp, IoCsqRemoveIrp and IoCsqRemoveNextIrp are not used (Wine
 * 8 exports them as stubs that abort the driver host).
 *
 * Semantics:
 *   - WdkmCsqInsertIrp marks the IRP pending, queues it and sets the
 *     queue's cancel routine. The dispatch routine then returns
 *     STATUS_PENDING and does not touch the IRP again.
 *   - An IRP leaves the queue exactly once, through exactly one of:
 *     WdkmCsqRemoveNextIrp or WdkmCsqRemoveIrp (the caller then owns it and
 *     completes it), its cancellation (the queue hands it to the driver's
 *     CompleteCanceledIrp callback, which completes it, normally with
 *     STATUS_CANCELLED), or WdkmCsqDestroy (likewise through the callback).
 *     An IRP cancelled before or while it is inserted goes to the callback
 *     too. Removal and cancellation racing on one IRP are decided by the
 *     IRP's cancel routine: the side that clears it owns the IRP.
 *   - While an IRP is queued the queue uses its Tail.Overlay.ListEntry and
 *     Tail.Overlay.DriverContext[3]; the driver must not touch them
 *     then (DriverContext[0..2] stay the driver's).
 *   - The CompleteCanceledIrp callback runs at <= DISPATCH_LEVEL without
 *     the queue's lock, on the thread that cancelled the IRP (IoCancelIrp,
 *     the I/O manager for CancelIoEx or a thread's exit), or on the one
 *     inserting it, or on the one destroying the queue (or, for an IRP
 *     cancelled from a match callback, the one removing).
 *   - The optional match callback of WdkmCsqRemoveNextIrp runs under the
 *     queue's lock at DISPATCH_LEVEL: it only looks at the IRP (e.g. its
 *     file object) and must not call the queue, complete or cancel an IRP,
 *     or wait. (A queue call from it answers STATUS_POSSIBLE_DEADLOCK; an
 *     IRP of the queue cancelled from it is not lost: that remove hands
 *     it to CompleteCanceledIrp, on its own thread, before it returns.)
 *   - The queue's cancel routine has no status to return, so it takes the
 *     queue's lock with the callback form (WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK):
 *     apart from the match-callback case above, a refusal there (a checked
 *     build with WDKM_DIAG_REFUSE refusing a lock-order inversion the
 *     driver made, e.g. cancelling while holding a lock it also takes in
 *     the callback) stops with WDKM_BUGCHECK_LOCK_MISUSE instead of
 *     leaving the IRP pending forever.
 *   - Its cost is one spin-lock acquisition per call (and a walk of the
 *     queue for a remove with a match).
 *
 *   - The current IRP (a worker's: StartIo-style or a dedicated thread).
 *     WdkmCsqStartNextIrp takes the oldest queued IRP out of the queue but
 *     leaves it cancellable: the queue's cancel routine stays armed while
 *     the worker works on it, held in the worker's WDKM_CSQ_CURRENT. A
 *     cancellation then only marks it (and calls the record's optional
 *     OnCancel, to wake the worker); the worker polls
 *     WdkmCsqCheckCurrentIrp and stops early. WdkmCsqEndCurrentIrp ends the
 *     hold and decides, once: STATUS_SUCCESS, the worker completes the IRP
 *     (no cancel routine will run); STATUS_CANCELLED, a cancellation was
 *     asked for and the IRP goes to CompleteCanceledIrp (inside the end, or
 *     from the cancel routine IoCancelIrp is about to call): the worker
 *     must not touch it again. A current IRP is never completed while it
 *     is held, so the worker may use its buffers until the end.
 *     WdkmCsqCancelCurrentIrps asks for the cancellation of current IRPs
 *     (IRP_MJ_CLEANUP of a file object, the unload); WdkmCsqDestroy refuses
 *     (STATUS_DEVICE_BUSY) while an IRP is held.
 *
 * Wine 8 note: its ntoskrnl calls a cancel routine for CancelIoEx and for
 * the exit of the thread that issued the request, but sends no
 * IRP_MJ_CLEANUP when a handle is closed; a driver that drains a file
 * object's requests at cleanup should also drain the queue at unload
 * (WdkmCsqDestroy does).
 */
#ifndef WDKM_CSQ_H
#define WDKM_CSQ_H

#include "wdkm_base.h"

WDKM_EXTERN_C_BEGIN

typedef struct _WDKM_CSQ WDKM_CSQ, *PWDKM_CSQ;

/*
 * WDKM_CSQ_IRP_CONTEXT - kept by the driver to remove one particular IRP
 * later (WdkmCsqRemoveIrp), as IO_CSQ_IRP_CONTEXT. Filled by the insert;
 * it must stay in place until that IRP has left the queue (then it may be
 * reused). Its fields are the library's.
 */
typedef struct _WDKM_CSQ_IRP_CONTEXT {
    ULONG Signature;
    PIRP Irp;               /* the queued IRP; NULL once it left the queue */
    PWDKM_CSQ Csq;
} WDKM_CSQ_IRP_CONTEXT, *PWDKM_CSQ_IRP_CONTEXT;

/*
 * WDKM_CSQ_CURRENT - a worker's hold on its current IRP: initialised once
 * (WdkmCsqInitializeCurrent), filled by WdkmCsqStartNextIrp, emptied by
 * WdkmCsqEndCurrentIrp, then reusable for the next IRP. It must stay in
 * place while it holds an IRP; one record holds one IRP at a time. Its
 * fields are the library's.
 */
typedef struct _WDKM_CSQ_CURRENT WDKM_CSQ_CURRENT, *PWDKM_CSQ_CURRENT;

/*
 * A cancellation of the record's current IRP was asked for (IoCancelIrp,
 * WdkmCsqCancelCurrentIrps): wake the worker (e.g. KeSetEvent), nothing
 * more. IRQL: <= DISPATCH_LEVEL, on the cancelling thread, without the
 * queue's lock. Called once per current IRP, at the first request; it may
 * run after that IRP has ended (even while the record holds the next
 * one), so it gets no IRP: the worker learns which one from
 * WdkmCsqCheckCurrentIrp. It must not call the queue.
 * Context (given to WdkmCsqInitializeCurrent) must stay valid until the
 * queue's destroy returned.
 */
typedef
_IRQL_requires_max_(DISPATCH_LEVEL)
VOID
WDKM_CSQ_CURRENT_CANCELLED(
    _In_ PWDKM_CSQ Csq,
    _In_opt_ PVOID Context
    );
typedef WDKM_CSQ_CURRENT_CANCELLED *PWDKM_CSQ_CURRENT_CANCELLED;

struct _WDKM_CSQ_CURRENT {
    ULONG Signature;
    LONG volatile Flags;    /* cancellation asked for, its routine done with it */
    PIRP Irp;               /* the held IRP; NULL when none */
    PWDKM_CSQ Csq;
    LIST_ENTRY Link;        /* in the queue's list of held records */
    PWDKM_CSQ_CURRENT_CANCELLED OnCancel;
    PVOID OnCancelContext;
};

/*
 * The driver's completion of a cancelled IRP: set its IoStatus (normally
 * STATUS_CANCELLED, Information 0) and IoCompleteRequest it. IRQL: <=
 * DISPATCH_LEVEL; no lock of the queue is held. Context is the one given
 * to WdkmCsqCreate.
 */
typedef
_IRQL_requires_max_(DISPATCH_LEVEL)
VOID
WDKM_CSQ_COMPLETE_CANCELED_IRP(
    _In_ PWDKM_CSQ Csq,
    _In_ PIRP Irp,
    _In_opt_ PVOID Context
    );
typedef WDKM_CSQ_COMPLETE_CANCELED_IRP *PWDKM_CSQ_COMPLETE_CANCELED_IRP;

/*
 * A removal's filter: TRUE if Irp is one to remove. Runs under the queue's
 * lock at DISPATCH_LEVEL (see the semantics above for what it must not do).
 */
typedef
_IRQL_requires_(DISPATCH_LEVEL)
BOOLEAN
WDKM_CSQ_MATCH(
    _In_ PIRP Irp,
    _In_opt_ PVOID MatchContext
    );
typedef WDKM_CSQ_MATCH *PWDKM_CSQ_MATCH;

/*
 * WdkmCsqCreate - a new, empty queue (in non-paged pool, with its spin lock).
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER
 * (no callback, NULL Csq); STATUS_INSUFFICIENT_RESOURCES;
 * STATUS_WDKM_IRQL_TOO_HIGH. *Csq is NULL on failure.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmCsqCreate(
    _In_ PWDKM_CSQ_COMPLETE_CANCELED_IRP CompleteCanceledIrp,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_CSQ *Csq
    );

/*
 * WdkmCsqInsertIrp - mark Irp pending and queue it at the tail, with the
 * queue's cancel routine. IRQL: <= DISPATCH_LEVEL.
 * Returns STATUS_PENDING: the IRP is the queue's (or, if it was cancelled
 * meanwhile, already with the CompleteCanceledIrp callback); the dispatch
 * routine returns STATUS_PENDING and must not touch the IRP again.
 * On any other status nothing changed (the IRP is not marked pending and
 * is still the caller's, to complete with an error): STATUS_DELETE_PENDING
 * (the queue is being destroyed); STATUS_INVALID_PARAMETER (NULL, an IRP
 * with a cancel routine set already); STATUS_WDKM_TYPE_MISMATCH (Csq is not
 * a queue: another handle, through a cast); STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_POSSIBLE_DEADLOCK (called from a match callback).
 * IrpContext (optional) is filled for WdkmCsqRemoveIrp and must outlive
 * the IRP's time in the queue.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmCsqInsertIrp(
    _Inout_ PWDKM_CSQ Csq,
    _Inout_ PIRP Irp,
    _Out_opt_ PWDKM_CSQ_IRP_CONTEXT IrpContext
    );

/*
 * WdkmCsqRemoveNextIrp - take the oldest queued IRP (for which Match, if
 * given, returns TRUE) out of the queue, its cancel routine cleared.
 * IRP whose cancellation is under way are skipped (the cancel path owns
 * them). IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS (*Irp is now the
 * caller's to complete); STATUS_NO_MORE_ENTRIES (*Irp NULL: none);
 * STATUS_INVALID_PARAMETER; STATUS_WDKM_TYPE_MISMATCH (not a queue);
 * STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_POSSIBLE_DEADLOCK (called from a match callback).
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmCsqRemoveNextIrp(
    _Inout_ PWDKM_CSQ Csq,
    _In_opt_ PWDKM_CSQ_MATCH Match,
    _In_opt_ PVOID MatchContext,
    _Outptr_result_maybenull_ PIRP *Irp
    );

/*
 * WdkmCsqRemoveIrp - take the IRP that IrpContext's insert queued out of
 * the queue, if it is still there and not being cancelled.
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS (*Irp is the caller's to
 * complete); STATUS_NOT_FOUND (*Irp NULL: it left the queue already, or its
 * cancellation has it); STATUS_INVALID_PARAMETER (NULL, a context of
 * another queue or never filled); STATUS_WDKM_TYPE_MISMATCH (not a queue);
 * STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_POSSIBLE_DEADLOCK.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmCsqRemoveIrp(
    _Inout_ PWDKM_CSQ Csq,
    _Inout_ PWDKM_CSQ_IRP_CONTEXT IrpContext,
    _Outptr_result_maybenull_ PIRP *Irp
    );

/*
 * WdkmCsqQueryCount - how many IRPs are in the queue now (those being
 * cancelled included; current IRPs are not). IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS;
 * STATUS_INVALID_PARAMETER; STATUS_WDKM_TYPE_MISMATCH (not a queue);
 * STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_POSSIBLE_DEADLOCK.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmCsqQueryCount(
    _In_ PWDKM_CSQ Csq,
    _Out_ PULONG Count
    );

/*
 * WdkmCsqInitializeCurrent - prepare a worker's record (once, before its
 * first WdkmCsqStartNextIrp). OnCancel (optional) and OnCancelContext:
 * see WDKM_CSQ_CURRENT_CANCELLED. IRQL: any. Returns STATUS_SUCCESS;
 * STATUS_INVALID_PARAMETER (NULL). Must not be called on a record that
 * holds an IRP.
 */
_Must_inspect_result_
_IRQL_requires_max_(HIGH_LEVEL)
NTSTATUS
WdkmCsqInitializeCurrent(
    _Out_ PWDKM_CSQ_CURRENT Current,
    _In_opt_ PWDKM_CSQ_CURRENT_CANCELLED OnCancel,
    _In_opt_ PVOID OnCancelContext
    );

/*
 * WdkmCsqStartNextIrp - take the oldest queued IRP (for which Match, if
 * given, returns TRUE) out of the queue as Current's current IRP, its
 * cancel routine still armed. IRPs being cancelled are skipped; one found
 * cancelled while it is taken goes to CompleteCanceledIrp instead (on this
 * thread, before the call returns). IRQL: <= DISPATCH_LEVEL.
 * Returns STATUS_SUCCESS (*Irp is held: the caller works on it, polls
 * WdkmCsqCheckCurrentIrp, and must end it with WdkmCsqEndCurrentIrp, never
 * complete it before); STATUS_NO_MORE_ENTRIES (*Irp NULL);
 * STATUS_INVALID_PARAMETER (NULL, a record never initialised or holding an
 * IRP already: nothing changed); STATUS_WDKM_TYPE_MISMATCH;
 * STATUS_WDKM_IRQL_TOO_HIGH; STATUS_POSSIBLE_DEADLOCK (from a match
 * callback). The IRP's WDKM_CSQ_IRP_CONTEXT, if any, is free again.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmCsqStartNextIrp(
    _Inout_ PWDKM_CSQ Csq,
    _In_opt_ PWDKM_CSQ_MATCH Match,
    _In_opt_ PVOID MatchContext,
    _Inout_ PWDKM_CSQ_CURRENT Current,
    _Outptr_result_maybenull_ PIRP *Irp
    );

/*
 * WdkmCsqCheckCurrentIrp - has a cancellation of Current's IRP been asked
 * for? No lock: two loads, for polling in the worker's loop. IRQL: <=
 * DISPATCH_LEVEL. Returns STATUS_SUCCESS (no: go on); STATUS_CANCELLED
 * (yes: stop and end it); STATUS_INVALID_PARAMETER (Current holds no IRP
 * of Csq); STATUS_WDKM_TYPE_MISMATCH; STATUS_WDKM_IRQL_TOO_HIGH. Anything
 * but STATUS_SUCCESS means stop. Only the record's holder calls it.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmCsqCheckCurrentIrp(
    _In_ PWDKM_CSQ Csq,
    _In_ PWDKM_CSQ_CURRENT Current
    );

/*
 * WdkmCsqEndCurrentIrp - Current's IRP stops being current; says, once,
 * who completes it. IRQL: <= DISPATCH_LEVEL (a DPC may end it).
 * Returns STATUS_SUCCESS: the caller's to complete (its cancel routine is
 * cleared and will not run). STATUS_CANCELLED: a cancellation was asked
 * for; the IRP has gone to CompleteCanceledIrp (inside this call), or goes
 * there from the cancel routine IoCancelIrp took and is about to call:
 * the caller must not touch it again. Either way Current is free for the
 * next IRP. On any other status nothing changed (Current still holds it):
 * STATUS_INVALID_PARAMETER (Current holds no IRP of Csq: never started,
 * ended already, or a copy of the record that holds it);
 * STATUS_WDKM_TYPE_MISMATCH; STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_POSSIBLE_DEADLOCK (from a match callback).
 * Must not be called holding a lock CompleteCanceledIrp takes.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmCsqEndCurrentIrp(
    _Inout_ PWDKM_CSQ Csq,
    _Inout_ PWDKM_CSQ_CURRENT Current
    );

/*
 * WdkmCsqCancelCurrentIrps - ask for the cancellation of every current IRP
 * Match accepts (all of them for Match NULL), as IoCancelIrp would: each is
 * marked (WdkmCsqCheckCurrentIrp answers STATUS_CANCELLED, the end goes to
 * CompleteCanceledIrp) and its record's OnCancel called, on this thread.
 * For IRP_MJ_CLEANUP (the file object's IRPs) and the unload. It does not
 * wait for the workers. Its walk starts again after each OnCancel, so an
 * IRP a woken worker starts meanwhile may be marked (and counted) too. IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS
 * (*Count, optional: how many it marked; those marked before are not
 * counted); STATUS_INVALID_PARAMETER; STATUS_WDKM_TYPE_MISMATCH;
 * STATUS_WDKM_IRQL_TOO_HIGH; STATUS_POSSIBLE_DEADLOCK.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmCsqCancelCurrentIrps(
    _Inout_ PWDKM_CSQ Csq,
    _In_opt_ PWDKM_CSQ_MATCH Match,
    _In_opt_ PVOID MatchContext,
    _Out_opt_ PULONG Count
    );

/*
 * WdkmCsqDestroy - refuse further inserts, hand every IRP still queued to
 * the CompleteCanceledIrp callback, wait for cancel routines of this queue
 * that are running, and free it. IRQL: PASSIVE_LEVEL (it may wait a few
 * milliseconds). Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER;
 * STATUS_WDKM_IRQL_TOO_HIGH; STATUS_DEVICE_BUSY (a WDKM_CSQ_CURRENT still
 * holds an IRP: end it first, e.g. after WdkmCsqCancelCurrentIrps); on
 * these nothing changed. The caller must start no
 * other call on the queue once the destroy has begun (calls already
 * running are safe: an insert is refused or drained) and must not call it
 * from the callback.
 */
_IRQL_requires_(PASSIVE_LEVEL)
NTSTATUS
WdkmCsqDestroy(
    _In_ PWDKM_CSQ Csq
    );

WDKM_EXTERN_C_END

#endif /* WDKM_CSQ_H */
