/*
 * wdkm_spinlock.h - spin locks that own a value: WDKM_SPIN_LOCK (KSPIN_LOCK)
 * and WDKM_QUEUED_SPIN_LOCK (in-stack queued, KLOCK_QUEUE_HANDLE).
 *
 * For data touched in DPCs and other code at DISPATCH_LEVEL. The value lives
 * in non-paged pool with the lock.
 *
 * Semantics:
 *   - Acquire at IRQL <= DISPATCH_LEVEL raises to DISPATCH_LEVEL and hands
 *     back the caller's IRQL (*OldIrql, or inside the queue handle); the
 *     release must be made at DISPATCH_LEVEL and restores it. Above
 *     DISPATCH_LEVEL: STATUS_WDKM_IRQL_TOO_HIGH.
 *   - The AtDpcLevel forms are for callers already at DISPATCH_LEVEL (a DPC,
 *     or under another spin lock): they neither raise nor lower. Below
 *     DISPATCH_LEVEL they return STATUS_WDKM_IRQL_MISMATCH, except on a
 *     kernel whose IRQL cannot be raised (Wine, where a DPC reports
 *     PASSIVE_LEVEL): found at the first create at PASSIVE_LEVEL and said
 *     once in the debugger output, the lower bound is then not checked.
 *     Release with the form matching the acquire (STATUS_WDKM_IRQL_MISMATCH
 *     otherwise).
 *   - Not recursive: the owner acquiring again gets STATUS_POSSIBLE_DEADLOCK
 *     (the kernel would spin forever). Only the owner releases.
 *   - While a spin lock is held the caller is at DISPATCH_LEVEL: every
 *     waiting lock (KMUTEX, FAST_MUTEX, ERESOURCE, ...) then answers
 *     STATUS_WDKM_IRQL_TOO_HIGH instead of bugchecking.
 *   - The try form needs KeTryToAcquireSpinLockAtDpcLevel, looked up at run
 *     time (Wine 8 lacks it): STATUS_NOT_SUPPORTED where missing.
 *   - A queued spin lock is a separate kind because the kernel forbids
 *     mixing queued and ordinary acquisitions of one KSPIN_LOCK.
 */
#ifndef WDKM_SPINLOCK_H
#define WDKM_SPINLOCK_H

#include "wdkm_base.h"
#include "wdkm_scope.h"

WDKM_EXTERN_C_BEGIN

/*
 * WDKM_SPIN_LOCK is a capability for clang's analysis (wdkm_annotations.h).
 * For the queued kind the capability is the hold, WDKM_LOCK_QUEUE_HANDLE,
 * since the release names only the handle (as the WDK's own SAL for
 * KeAcquireInStackQueuedSpinLock does).
 */
typedef struct WDKMP_CAPABILITY("spin lock") _WDKM_SPIN_LOCK WDKM_SPIN_LOCK, *PWDKM_SPIN_LOCK;
typedef struct _WDKM_QUEUED_SPIN_LOCK WDKM_QUEUED_SPIN_LOCK, *PWDKM_QUEUED_SPIN_LOCK;

/*
 * WdkmSpinLockCreate - allocate a spin lock holding a copy of *InitialValue.
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER;
 * STATUS_INSUFFICIENT_RESOURCES; STATUS_WDKM_IRQL_TOO_HIGH.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmSpinLockCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_SPIN_LOCK *SpinLock
    );

/*
 * WdkmSpinLockAcquire - raise to DISPATCH_LEVEL and spin until held.
 * IRQL: <= DISPATCH_LEVEL; DISPATCH_LEVEL on success. Returns
 * STATUS_SUCCESS; STATUS_POSSIBLE_DEADLOCK (caller holds it);
 * STATUS_WDKM_IRQL_TOO_HIGH; STATUS_WDKM_TYPE_MISMATCH;
 * STATUS_INVALID_PARAMETER (also for a NULL OldIrql; *Data is NULL on any
 * error). The caller must pass *OldIrql to the release,
 * must not wait or touch pageable memory while holding it, and must hold
 * it briefly.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
_When_(return == 0, _IRQL_raises_(DISPATCH_LEVEL) _Acquires_lock_(*SpinLock))
NTSTATUS
WdkmSpinLockAcquire(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PKIRQL OldIrql,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(SpinLock);

/*
 * WdkmSpinLockAcquireOrBugCheck - the callback form
 * of WdkmSpinLockAcquire: raise to DISPATCH_LEVEL and spin until held; *OldIrql for the release:
 * for a DPC, cancel routine, completion routine or cleanup, where no
 * status can be returned. Returns the data pointer (also in *Data when
 * Data is not NULL); the lock is held. IRQL: <= DISPATCH_LEVEL; DISPATCH_LEVEL on return.
 * It never fails: where the plain acquire would return an error, it stops
 * the system with bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 the status, P2
 * the lock, P3 the caller, P4 kind << 8 | IRQL; wdkm_status.h), after the
 * checked build reported the whole story.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_IRQL_raises_(DISPATCH_LEVEL)
_Acquires_lock_(*SpinLock)
PVOID
WdkmSpinLockAcquireOrBugCheck(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PKIRQL OldIrql,
    _Out_opt_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK(SpinLock);

/*
 * WdkmSpinLockTryAcquire - as WdkmSpinLockAcquire without spinning.
 * IRQL: <= DISPATCH_LEVEL; unchanged unless it succeeds. Returns also
 * STATUS_TIMEOUT (busy) and STATUS_NOT_SUPPORTED (no
 * KeTryToAcquireSpinLockAtDpcLevel, or not looked up yet: the lookup is
 * made by the first create at PASSIVE_LEVEL).
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
_When_(return == 0, _IRQL_raises_(DISPATCH_LEVEL) _Acquires_lock_(*SpinLock))
NTSTATUS
WdkmSpinLockTryAcquire(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PKIRQL OldIrql,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(SpinLock);

/*
 * WdkmSpinLockRelease - release and lower the IRQL to OldIrql.
 * IRQL: DISPATCH_LEVEL (as the acquire left it). Returns STATUS_SUCCESS;
 * STATUS_WDKM_NOT_OWNER; STATUS_WDKM_NOT_HELD (ownership is checked before
 * the IRQL: at any IRQL for a caller that does not hold it);
 * STATUS_WDKM_IRQL_MISMATCH (not where the acquire left the caller, or
 * acquired AtDpcLevel); STATUS_WDKM_IRQL_TOO_HIGH; STATUS_INVALID_PARAMETER
 * (NULL, or OldIrql above DISPATCH_LEVEL); STATUS_WDKM_LOCK_HELD if OldIrql
 * is below DISPATCH_LEVEL while any other spin lock of the caller is still
 * held: release a later one first, or release this one with OldIrql
 * DISPATCH_LEVEL and give its OldIrql to the last release (NT's explicit
 * out-of-order release). On error nothing changes.
 */
_IRQL_requires_(DISPATCH_LEVEL)
_Releases_lock_(*SpinLock)
NTSTATUS
WdkmSpinLockRelease(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ KIRQL OldIrql
    ) WDKM_RELEASES_LOCK(SpinLock);

/*
 * WdkmSpinLockAcquireAtDpcLevel / WdkmSpinLockReleaseFromDpcLevel - the
 * same for callers already at DISPATCH_LEVEL; the IRQL does not change.
 * IRQL: DISPATCH_LEVEL. Returns as above; STATUS_WDKM_IRQL_MISMATCH below
 * DISPATCH_LEVEL.
 */
_Must_inspect_result_
_IRQL_requires_(DISPATCH_LEVEL)
_When_(return == 0, _Acquires_lock_(*SpinLock))
NTSTATUS
WdkmSpinLockAcquireAtDpcLevel(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(SpinLock);

/*
 * WdkmSpinLockAcquireAtDpcLevelOrBugCheck - the callback form
 * of WdkmSpinLockAcquireAtDpcLevel; release with WdkmSpinLockReleaseFromDpcLevel:
 * for a DPC, cancel routine, completion routine or cleanup, where no
 * status can be returned. Returns the data pointer (also in *Data when
 * Data is not NULL); the lock is held. IRQL: DISPATCH_LEVEL (a DPC; see WdkmSpinLockAcquireAtDpcLevel for kernels without a real IRQL).
 * It never fails: where the plain acquire would return an error, it stops
 * the system with bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 the status, P2
 * the lock, P3 the caller, P4 kind << 8 | IRQL; wdkm_status.h), after the
 * checked build reported the whole story.
 */
_IRQL_requires_(DISPATCH_LEVEL)
_Acquires_lock_(*SpinLock)
PVOID
WdkmSpinLockAcquireAtDpcLevelOrBugCheck(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK(SpinLock);

_IRQL_requires_(DISPATCH_LEVEL)
_Releases_lock_(*SpinLock)
NTSTATUS
WdkmSpinLockReleaseFromDpcLevel(
    _Inout_ PWDKM_SPIN_LOCK SpinLock
    ) WDKM_RELEASES_LOCK(SpinLock);

/*
 * WdkmSpinLockDestroy / WdkmSpinLockTake - free (after copying the value
 * out). IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS;
 * STATUS_WDKM_LOCK_HELD; STATUS_WDKM_TYPE_MISMATCH (take);
 * STATUS_WDKM_OWNED_BY_REGISTRY; STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_INVALID_PARAMETER.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*SpinLock)
NTSTATUS
WdkmSpinLockDestroy(
    _In_ PWDKM_SPIN_LOCK SpinLock
    ) WDKM_REQUIRES_LOCK_NOT_HELD(SpinLock);

_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*SpinLock)
NTSTATUS
WdkmSpinLockTake(
    _In_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    ) WDKM_REQUIRES_LOCK_NOT_HELD(SpinLock);

/*
 * WdkmSpinLockCreateInPlace - allocate a lock whose value (DataSize bytes, zeroed)
 * Initialize(Value, Context) sets up where it lives, in the lock's pool
 * block, before the lock is returned: for values that point into
 * themselves (a LIST_ENTRY head). IRQL: <= DISPATCH_LEVEL (Initialize runs
 * at the caller's IRQL). Returns STATUS_SUCCESS; Initialize's failure
 * status (the block is freed); STATUS_INVALID_PARAMETER (NULL Initialize,
 * zero or oversized DataSize); STATUS_INSUFFICIENT_RESOURCES;
 * STATUS_WDKM_IRQL_TOO_HIGH.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmSpinLockCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_SPIN_LOCK *SpinLock
    );

/*
 * WdkmSpinLockDestroyWith - destroy the lock and hand its value to
 * Drain(Value, Context) in place (to unlink and free a list's records),
 * then free the block. IRQL: <= DISPATCH_LEVEL. Returns as WdkmSpinLockDestroy, and
 * STATUS_WDKM_TYPE_MISMATCH (DataSize is not the value's size) and
 * STATUS_INVALID_PARAMETER (NULL Drain); on any error nothing changes and
 * Drain is not called. Drain runs once the lock no longer exists: the
 * caller must ensure no other thread uses it, as for the destroy.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*SpinLock)
NTSTATUS
WdkmSpinLockDestroyWith(
    _In_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    ) WDKM_REQUIRES_LOCK_NOT_HELD(SpinLock);

/* WdkmSpinLockIsOwned - TRUE if the calling thread holds it. IRQL: any. */
_IRQL_requires_max_(HIGH_LEVEL)
BOOLEAN
WdkmSpinLockIsOwned(
    _In_opt_ const WDKM_SPIN_LOCK *SpinLock
    );

/* For WDKM_SPIN_LOCK_SCOPED; not meant to be called directly. IRQL: <= DISPATCH_LEVEL. */
_IRQL_requires_max_(DISPATCH_LEVEL)
WDKM_SCOPE
WdkmSpinLockScopeEnter(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    );

#define WDKM_SPIN_LOCK_CREATE(InitialValuePointer, LockPointer) \
    WDKMP_DIAG_CREATED(WdkmSpinLockCreate((InitialValuePointer), sizeof(*(InitialValuePointer)), (LockPointer)), (LockPointer))
#define WDKM_SPIN_LOCK_ACQUIRE(Lock, OldIrqlPointer, DataPointerPointer) \
    WdkmSpinLockAcquire(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), (OldIrqlPointer), \
                        (PVOID *)(DataPointerPointer))
#define WDKM_SPIN_LOCK_TRY_ACQUIRE(Lock, OldIrqlPointer, DataPointerPointer) \
    WdkmSpinLockTryAcquire(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), (OldIrqlPointer), \
                           (PVOID *)(DataPointerPointer))
#define WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, OldIrqlPointer, DataPointerPointer) \
    WdkmSpinLockAcquireOrBugCheck(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), (OldIrqlPointer), \
        (PVOID *)(DataPointerPointer))
#define WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, DataPointerPointer) \
    WdkmSpinLockAcquireAtDpcLevel(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), \
                                  (PVOID *)(DataPointerPointer))
#define WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(Lock, DataPointerPointer) \
    WdkmSpinLockAcquireAtDpcLevelOrBugCheck(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), \
        (PVOID *)(DataPointerPointer))
#define WDKM_SPIN_LOCK_TAKE(Lock, ValuePointer) \
    WdkmSpinLockTake((Lock), sizeof(*(ValuePointer)), (ValuePointer))
#define WDKM_SPIN_LOCK_CREATE_IN_PLACE(Type, Initialize, Context, LockPointer) \
    WDKMP_DIAG_CREATED(WdkmSpinLockCreateInPlace(sizeof(Type), (Initialize), (Context), (LockPointer)), (LockPointer))
#define WDKM_SPIN_LOCK_DESTROY_WITH(Lock, Type, Drain, Context) \
    WdkmSpinLockDestroyWith((Lock), sizeof(Type), (Drain), (Context))

/*
 * WDKM_SPIN_LOCK_SCOPED(Lock, DataPointer, StatusPointer) { ... }
 * The block runs at DISPATCH_LEVEL; the scope keeps the saved IRQL.
 */
#define WDKM_SPIN_LOCK_SCOPED(Lock, DataPointer, StatusPointer)                 \
    WDKMP_SCOPED(WdkmSpinLockScopeEnter(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(*(DataPointer)),        \
                                        (PVOID *)&(DataPointer), (StatusPointer)))

/* ------------------------------------------------------------------------
 * In-stack queued spin lock. The handle lives on the caller's stack for
 * the duration of the hold and carries the saved IRQL.
 */

typedef struct WDKMP_CAPABILITY("queued spin lock") _WDKM_LOCK_QUEUE_HANDLE {
    KLOCK_QUEUE_HANDLE Kernel;
    PWDKM_QUEUED_SPIN_LOCK Lock;       /* NULL when not held through this handle */
} WDKM_LOCK_QUEUE_HANDLE, *PWDKM_LOCK_QUEUE_HANDLE;

/* WdkmQueuedSpinLockCreate - as WdkmSpinLockCreate. IRQL: <= DISPATCH_LEVEL. */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmQueuedSpinLockCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_QUEUED_SPIN_LOCK *SpinLock
    );

/*
 * WdkmQueuedSpinLockAcquire - queue up (FIFO), raise to DISPATCH_LEVEL.
 * IRQL: <= DISPATCH_LEVEL. Returns as WdkmSpinLockAcquire. The caller must
 * keep *Handle in place until WdkmQueuedSpinLockRelease(Handle). On
 * failure *Handle holds nothing, except when it is the handle through
 * which the caller already holds this lock (STATUS_POSSIBLE_DEADLOCK):
 * that hold is kept. Not detected: a handle that still holds another
 * queued spin lock (it is _Out_, maybe uninitialised): the acquire is
 * granted and the first lock can no longer be released. One handle per hold.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
_When_(return == 0, _IRQL_raises_(DISPATCH_LEVEL) _Acquires_lock_(*Handle)
                     _Post_same_lock_(*SpinLock, *Handle))
NTSTATUS
WdkmQueuedSpinLockAcquire(
    _Inout_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PWDKM_LOCK_QUEUE_HANDLE Handle,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Handle);

/*
 * WdkmQueuedSpinLockAcquireOrBugCheck - the callback form
 * of WdkmQueuedSpinLockAcquire; release with WdkmQueuedSpinLockRelease(Handle):
 * for a DPC, cancel routine, completion routine or cleanup, where no
 * status can be returned. Returns the data pointer (also in *Data when
 * Data is not NULL); the lock is held. IRQL: <= DISPATCH_LEVEL; DISPATCH_LEVEL on return.
 * It never fails: where the plain acquire would return an error, it stops
 * the system with bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 the status, P2
 * the lock, P3 the caller, P4 kind << 8 | IRQL; wdkm_status.h), after the
 * checked build reported the whole story.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_IRQL_raises_(DISPATCH_LEVEL)
_Acquires_lock_(*Handle)
_Post_same_lock_(*SpinLock, *Handle)
PVOID
WdkmQueuedSpinLockAcquireOrBugCheck(
    _Inout_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PWDKM_LOCK_QUEUE_HANDLE Handle,
    _Out_opt_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK(Handle);

/* The same at DISPATCH_LEVEL already. IRQL: DISPATCH_LEVEL. */
_Must_inspect_result_
_IRQL_requires_(DISPATCH_LEVEL)
_When_(return == 0, _Acquires_lock_(*Handle) _Post_same_lock_(*SpinLock, *Handle))
NTSTATUS
WdkmQueuedSpinLockAcquireAtDpcLevel(
    _Inout_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PWDKM_LOCK_QUEUE_HANDLE Handle,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Handle);

/*
 * WdkmQueuedSpinLockAcquireAtDpcLevelOrBugCheck - the callback form
 * of WdkmQueuedSpinLockAcquireAtDpcLevel; release with WdkmQueuedSpinLockRelease(Handle):
 * for a DPC, cancel routine, completion routine or cleanup, where no
 * status can be returned. Returns the data pointer (also in *Data when
 * Data is not NULL); the lock is held. IRQL: DISPATCH_LEVEL.
 * It never fails: where the plain acquire would return an error, it stops
 * the system with bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 the status, P2
 * the lock, P3 the caller, P4 kind << 8 | IRQL; wdkm_status.h), after the
 * checked build reported the whole story.
 */
_IRQL_requires_(DISPATCH_LEVEL)
_Acquires_lock_(*Handle)
_Post_same_lock_(*SpinLock, *Handle)
PVOID
WdkmQueuedSpinLockAcquireAtDpcLevelOrBugCheck(
    _Inout_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PWDKM_LOCK_QUEUE_HANDLE Handle,
    _Out_opt_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK(Handle);

/*
 * WdkmQueuedSpinLockRelease - release the hold Handle describes, restoring
 * its saved IRQL (or not lowering, for an AtDpcLevel hold).
 * IRQL: DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_NOT_HELD (the
 * handle holds nothing: released twice, or a copy of the acquiring
 * handle); STATUS_WDKM_NOT_OWNER (both checked before the IRQL);
 * STATUS_WDKM_IRQL_MISMATCH; STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_WDKM_LOCK_HELD (it would lower the IRQL while any other spin lock
 * of the caller is held);
 * STATUS_WDKM_TYPE_MISMATCH; STATUS_INVALID_PARAMETER.
 */
_IRQL_requires_(DISPATCH_LEVEL)
_Releases_lock_(*Handle)
NTSTATUS
WdkmQueuedSpinLockRelease(
    _Inout_ PWDKM_LOCK_QUEUE_HANDLE Handle
    ) WDKM_RELEASES_LOCK(Handle);

/*
 * WdkmQueuedSpinLockDestroy / WdkmQueuedSpinLockTake - as WdkmSpinLockDestroy /
 * WdkmSpinLockTake. IRQL: <= DISPATCH_LEVEL.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmQueuedSpinLockDestroy(
    _In_ PWDKM_QUEUED_SPIN_LOCK SpinLock
    );

_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmQueuedSpinLockTake(
    _In_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    );

/*
 * WdkmQueuedSpinLockCreateInPlace - allocate a lock whose value (DataSize bytes, zeroed)
 * Initialize(Value, Context) sets up where it lives, in the lock's pool
 * block, before the lock is returned: for values that point into
 * themselves (a LIST_ENTRY head). IRQL: <= DISPATCH_LEVEL (Initialize runs
 * at the caller's IRQL). Returns STATUS_SUCCESS; Initialize's failure
 * status (the block is freed); STATUS_INVALID_PARAMETER (NULL Initialize,
 * zero or oversized DataSize); STATUS_INSUFFICIENT_RESOURCES;
 * STATUS_WDKM_IRQL_TOO_HIGH.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmQueuedSpinLockCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_QUEUED_SPIN_LOCK *SpinLock
    );

/*
 * WdkmQueuedSpinLockDestroyWith - destroy the lock and hand its value to
 * Drain(Value, Context) in place (to unlink and free a list's records),
 * then free the block. IRQL: <= DISPATCH_LEVEL. Returns as WdkmQueuedSpinLockDestroy, and
 * STATUS_WDKM_TYPE_MISMATCH (DataSize is not the value's size) and
 * STATUS_INVALID_PARAMETER (NULL Drain); on any error nothing changes and
 * Drain is not called. Drain runs once the lock no longer exists: the
 * caller must ensure no other thread uses it, as for the destroy.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmQueuedSpinLockDestroyWith(
    _In_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    );

/* WdkmQueuedSpinLockIsOwned - TRUE if the calling thread holds it. IRQL: any. */
_IRQL_requires_max_(HIGH_LEVEL)
BOOLEAN
WdkmQueuedSpinLockIsOwned(
    _In_opt_ const WDKM_QUEUED_SPIN_LOCK *SpinLock
    );

#define WDKM_QUEUED_SPIN_LOCK_CREATE(InitialValuePointer, LockPointer) \
    WDKMP_DIAG_CREATED(WdkmQueuedSpinLockCreate((InitialValuePointer), sizeof(*(InitialValuePointer)), (LockPointer)), (LockPointer))
#define WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, HandlePointer, DataPointerPointer) \
    WdkmQueuedSpinLockAcquire(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), (HandlePointer), \
                              (PVOID *)(DataPointerPointer))
#define WDKM_QUEUED_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, HandlePointer, DataPointerPointer) \
    WdkmQueuedSpinLockAcquireOrBugCheck(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), (HandlePointer), \
        (PVOID *)(DataPointerPointer))
#define WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, HandlePointer, DataPointerPointer) \
    WdkmQueuedSpinLockAcquireAtDpcLevel(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), \
                                        (HandlePointer), (PVOID *)(DataPointerPointer))
#define WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(Lock, HandlePointer, DataPointerPointer) \
    WdkmQueuedSpinLockAcquireAtDpcLevelOrBugCheck(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), (HandlePointer), \
        (PVOID *)(DataPointerPointer))
#define WDKM_QUEUED_SPIN_LOCK_TAKE(Lock, ValuePointer) \
    WdkmQueuedSpinLockTake((Lock), sizeof(*(ValuePointer)), (ValuePointer))
#define WDKM_QUEUED_SPIN_LOCK_CREATE_IN_PLACE(Type, Initialize, Context, LockPointer) \
    WDKMP_DIAG_CREATED(WdkmQueuedSpinLockCreateInPlace(sizeof(Type), (Initialize), (Context), (LockPointer)), (LockPointer))
#define WDKM_QUEUED_SPIN_LOCK_DESTROY_WITH(Lock, Type, Drain, Context) \
    WdkmQueuedSpinLockDestroyWith((Lock), sizeof(Type), (Drain), (Context))

WDKM_EXTERN_C_END

#endif /* WDKM_SPINLOCK_H */
