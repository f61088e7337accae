/*
 * wdkm_fastmutex.h - WDKM_FAST_MUTEX: a FAST_MUTEX that owns a value.
 *
 * The lock and its value live in one block of non-paged pool, tagged with
 * WDKM_POOL_TAG; the value is reachable only while the lock is held.
 *
 * Semantics (those of FAST_MUTEX, made checkable):
 *   - Acquire at IRQL <= APC_LEVEL. Holding the lock raises the IRQL to
 *     APC_LEVEL, as the kernel does; the release restores the IRQL the
 *     acquire was called at.
 *   - Not recursive: a second acquire by the owner would deadlock in the
 *     kernel; here it returns STATUS_POSSIBLE_DEADLOCK and changes nothing.
 *   - Only the owner releases, at APC_LEVEL (where the acquire left it):
 *     otherwise STATUS_WDKM_NOT_OWNER, STATUS_WDKM_NOT_HELD,
 *     STATUS_WDKM_IRQL_MISMATCH or STATUS_WDKM_IRQL_TOO_HIGH, lock unchanged.
 *   - The try form needs ExTryToAcquireFastMutex, which some kernels
 *     (Wine 8) do not export; it is resolved at run time and the try
 *     returns STATUS_NOT_SUPPORTED where it is missing. Driver load never
 *     depends on it.
 *   - A held lock cannot be destroyed (STATUS_WDKM_LOCK_HELD).
 *
 * Not detected: use after destroy, and destroying while another thread is
 * still blocked acquiring the lock.
 *
 * On any status but STATUS_SUCCESS the data pointer is set to NULL.
 */
#ifndef WDKM_FASTMUTEX_H
#define WDKM_FASTMUTEX_H

#include "wdkm_base.h"
#include "wdkm_scope.h"

WDKM_EXTERN_C_BEGIN

/* A capability for clang's analysis (wdkm_annotations.h). */
typedef struct WDKMP_CAPABILITY("fast mutex") _WDKM_FAST_MUTEX WDKM_FAST_MUTEX, *PWDKM_FAST_MUTEX;

/*
 * WdkmFastMutexCreate - allocate a lock holding a copy of *InitialValue.
 *
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS and the lock in
 * *FastMutex; STATUS_INVALID_PARAMETER (NULL, zero or oversized DataSize);
 * STATUS_INSUFFICIENT_RESOURCES; STATUS_WDKM_IRQL_TOO_HIGH. *FastMutex is
 * NULL on failure. The caller must destroy (or take) it exactly once.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmFastMutexCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_FAST_MUTEX *FastMutex
    );

/*
 * WdkmFastMutexAcquire - wait until the lock is held, at APC_LEVEL.
 *
 * IRQL: <= APC_LEVEL on entry; APC_LEVEL on success, unchanged on failure.
 * Returns STATUS_SUCCESS; STATUS_POSSIBLE_DEADLOCK if the caller already
 * holds it; STATUS_WDKM_IRQL_TOO_HIGH; STATUS_WDKM_TYPE_MISMATCH;
 * STATUS_INVALID_PARAMETER. The caller must release it, must not lower the
 * IRQL while holding it, and must not keep *Data past the release.
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _IRQL_raises_(APC_LEVEL) _IRQL_saves_global_(OldIrql, FastMutex))
_When_(return == 0, _Acquires_lock_(*FastMutex))
NTSTATUS
WdkmFastMutexAcquire(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(FastMutex);

/*
 * WdkmFastMutexAcquireOrBugCheck - the callback form
 * of WdkmFastMutexAcquire (waits, raises to APC_LEVEL):
 * for a DPC, cancel routine, completion routine or cleanup, where no
 * status can be returned. Returns the data pointer (also in *Data when
 * Data is not NULL); the lock is held. IRQL: <= APC_LEVEL; APC_LEVEL on return.
 * It never fails: where the plain acquire would return an error, it stops
 * the system with bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 the status, P2
 * the lock, P3 the caller, P4 kind << 8 | IRQL; wdkm_status.h), after the
 * checked build reported the whole story.
 */
_IRQL_requires_max_(APC_LEVEL)
_IRQL_raises_(APC_LEVEL)
_IRQL_saves_global_(OldIrql, FastMutex)
_Acquires_lock_(*FastMutex)
PVOID
WdkmFastMutexAcquireOrBugCheck(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK(FastMutex);

/*
 * WdkmFastMutexTryAcquire - acquire only if that needs no wait.
 *
 * IRQL: <= APC_LEVEL; APC_LEVEL on success. Returns STATUS_SUCCESS;
 * STATUS_TIMEOUT if another thread holds it; STATUS_NOT_SUPPORTED if the
 * kernel lacks ExTryToAcquireFastMutex (or the library could not yet look
 * it up: that happens at the first library call made at PASSIVE_LEVEL);
 * and the errors of WdkmFastMutexAcquire.
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _IRQL_raises_(APC_LEVEL) _IRQL_saves_global_(OldIrql, FastMutex))
_When_(return == 0, _Acquires_lock_(*FastMutex))
NTSTATUS
WdkmFastMutexTryAcquire(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(FastMutex);

/*
 * WdkmFastMutexRelease - release the lock and restore the IRQL the acquire
 * was called at.
 *
 * IRQL: APC_LEVEL (as the acquire left it). Returns STATUS_SUCCESS;
 * STATUS_WDKM_NOT_OWNER; STATUS_WDKM_NOT_HELD (ownership is checked before
 * the IRQL: at any IRQL for a caller that does not hold it);
 * STATUS_WDKM_IRQL_MISMATCH below APC_LEVEL; STATUS_WDKM_IRQL_TOO_HIGH
 * above it; STATUS_WDKM_LOCK_HELD if this one was acquired at
 * PASSIVE_LEVEL and a fast mutex (or a guarded mutex taken at APC_LEVEL)
 * acquired after it is still held: the
 * release would lower the IRQL under it, so release that one first (one
 * acquired at APC_LEVEL lowers nothing and may be released out of order);
 * STATUS_WDKM_TYPE_MISMATCH for a lock of another kind;
 * STATUS_INVALID_PARAMETER. On error nothing changes.
 */
_IRQL_requires_(APC_LEVEL)
_IRQL_restores_global_(OldIrql, FastMutex)
_Releases_lock_(*FastMutex)
NTSTATUS
WdkmFastMutexRelease(
    _Inout_ PWDKM_FAST_MUTEX FastMutex
    ) WDKM_RELEASES_LOCK(FastMutex);

/*
 * WdkmFastMutexDestroy - free the lock and its value.
 *
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_LOCK_HELD
 * (nothing freed); STATUS_INVALID_PARAMETER. The caller must ensure no
 * thread is waiting for it, and must not use it afterwards.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*FastMutex)
NTSTATUS
WdkmFastMutexDestroy(
    _In_ PWDKM_FAST_MUTEX FastMutex
    ) WDKM_REQUIRES_LOCK_NOT_HELD(FastMutex);

/*
 * WdkmFastMutexTake - copy the value out into *Value and free the lock.
 *
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_LOCK_HELD;
 * STATUS_WDKM_TYPE_MISMATCH (nothing freed); STATUS_INVALID_PARAMETER.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*FastMutex)
NTSTATUS
WdkmFastMutexTake(
    _In_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    ) WDKM_REQUIRES_LOCK_NOT_HELD(FastMutex);

/*
 * WdkmFastMutexCreateInPlace - allocate a lock whose value (DataSize bytes, zeroed)
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
WdkmFastMutexCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_FAST_MUTEX *FastMutex
    );

/*
 * WdkmFastMutexDestroyWith - destroy the lock and hand its value to
 * Drain(Value, Context) in place (to unlink and free a list's records),
 * then free the block. IRQL: <= DISPATCH_LEVEL. Returns as WdkmFastMutexDestroy, and
 * STATUS_WDKM_TYPE_MISMATCH (DataSize is not the value's size) and
 * STATUS_INVALID_PARAMETER (NULL Drain); on any error nothing changes and
 * Drain is not called. Drain runs once the lock no longer exists: the
 * caller must ensure no other thread uses it, as for the destroy.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*FastMutex)
NTSTATUS
WdkmFastMutexDestroyWith(
    _In_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    ) WDKM_REQUIRES_LOCK_NOT_HELD(FastMutex);

/*
 * WdkmFastMutexIsOwned - TRUE if the calling thread holds the lock.
 * IRQL: any. For assertions; FALSE for NULL.
 */
_IRQL_requires_max_(HIGH_LEVEL)
BOOLEAN
WdkmFastMutexIsOwned(
    _In_opt_ const WDKM_FAST_MUTEX *FastMutex
    );

/*
 * WdkmFastMutexScopeEnter - acquire for WDKM_FAST_MUTEX_SCOPED; not meant
 * to be called directly. IRQL: <= APC_LEVEL.
 */
_IRQL_requires_max_(APC_LEVEL)
WDKM_SCOPE
WdkmFastMutexScopeEnter(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    );

/* Typed forms, as for WDKM_KMUTEX (see wdkm_kmutex.h). */
#define WDKM_FAST_MUTEX_CREATE(InitialValuePointer, FastMutexPointer) \
    WDKMP_DIAG_CREATED(WdkmFastMutexCreate((InitialValuePointer), sizeof(*(InitialValuePointer)), (FastMutexPointer)), (FastMutexPointer))
#define WDKM_FAST_MUTEX_ACQUIRE(FastMutex, DataPointerPointer) \
    WdkmFastMutexAcquire(WDKMP_DIAG_SITE((FastMutex), (FastMutex)), sizeof(**(DataPointerPointer)), (PVOID *)(DataPointerPointer))
#define WDKM_FAST_MUTEX_TRY_ACQUIRE(FastMutex, DataPointerPointer) \
    WdkmFastMutexTryAcquire(WDKMP_DIAG_SITE((FastMutex), (FastMutex)), sizeof(**(DataPointerPointer)), \
                            (PVOID *)(DataPointerPointer))
#define WDKM_FAST_MUTEX_ACQUIRE_OR_BUGCHECK(Lock, DataPointerPointer) \
    WdkmFastMutexAcquireOrBugCheck(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), \
        (PVOID *)(DataPointerPointer))
#define WDKM_FAST_MUTEX_TAKE(FastMutex, ValuePointer) \
    WdkmFastMutexTake((FastMutex), sizeof(*(ValuePointer)), (ValuePointer))
#define WDKM_FAST_MUTEX_CREATE_IN_PLACE(Type, Initialize, Context, LockPointer) \
    WDKMP_DIAG_CREATED(WdkmFastMutexCreateInPlace(sizeof(Type), (Initialize), (Context), (LockPointer)), (LockPointer))
#define WDKM_FAST_MUTEX_DESTROY_WITH(Lock, Type, Drain, Context) \
    WdkmFastMutexDestroyWith((Lock), sizeof(Type), (Drain), (Context))

/*
 * WDKM_FAST_MUTEX_SCOPED(FastMutex, DataPointer, StatusPointer) { ... }
 * The block runs at APC_LEVEL. See wdkm_scope.h for how it may be left.
 */
#define WDKM_FAST_MUTEX_SCOPED(FastMutex, DataPointer, StatusPointer)              \
    WDKMP_SCOPED(WdkmFastMutexScopeEnter(WDKMP_DIAG_SITE((FastMutex), (FastMutex)), sizeof(*(DataPointer)),     \
                                         (PVOID *)&(DataPointer), (StatusPointer)))

WDKM_EXTERN_C_END

#endif /* WDKM_FASTMUTEX_H */
