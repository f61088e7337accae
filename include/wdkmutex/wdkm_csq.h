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
 * cancelled included). IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS;
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
 * WdkmCsqDestroy - refuse further inserts, hand every IRP still queued to
 * the CompleteCanceledIrp callback, wait for cancel routines of this queue
 * that are running, and free it. IRQL: PASSIVE_LEVEL (it may wait a few
 * milliseconds). Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER;
 * STATUS_WDKM_IRQL_TOO_HIGH (nothing changed). The caller must start no
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
