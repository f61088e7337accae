/*
 * wdkm_guardedmutex.h - WDKM_GUARDED_MUTEX: a KGUARDED_MUTEX that owns a
 * value.
 *
 * Semantics (those of KGUARDED_MUTEX, made checkable):
 *   - Acquire at IRQL <= APC_LEVEL; holding it puts the owner in a guarded
 *     region (all APCs disabled) without raising the IRQL.
 *   - Not recursive: the owner acquiring again gets STATUS_POSSIBLE_DEADLOCK.
 *     Only the owner releases, at the IRQL it acquired at.
 *   - Its routines are resolved at run time: where the kernel lacks them
 *     (Wine 8 exports none of acquire, release and try) every function
 *     returns STATUS_NOT_SUPPORTED and the driver still loads. Create looks
 *     them up, so create the first one at PASSIVE_LEVEL.
 */
#ifndef WDKM_GUARDEDMUTEX_H
#define WDKM_GUARDEDMUTEX_H

#include "wdkm_base.h"
#include "wdkm_scope.h"

WDKM_EXTERN_C_BEGIN

/* A capability for clang's analysis (wdkm_annotations.h). */
typedef struct WDKMP_CAPABILITY("guarded mutex") _WDKM_GUARDED_MUTEX WDKM_GUARDED_MUTEX,
    *PWDKM_GUARDED_MUTEX;

/*
 * WdkmGuardedMutexCreate - allocate a guarded mutex holding a copy of the
 * value. IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS;
 * STATUS_NOT_SUPPORTED (kernel without guarded mutexes);
 * STATUS_INVALID_PARAMETER; STATUS_INSUFFICIENT_RESOURCES;
 * STATUS_WDKM_IRQL_TOO_HIGH.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmGuardedMutexCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_GUARDED_MUTEX *Mutex
    );

/*
 * WdkmGuardedMutexAcquire - wait until held (enters a guarded region).
 * IRQL: <= APC_LEVEL. Returns STATUS_SUCCESS; STATUS_POSSIBLE_DEADLOCK;
 * STATUS_WDKM_IRQL_TOO_HIGH; STATUS_WDKM_TYPE_MISMATCH;
 * STATUS_INVALID_PARAMETER. The caller must release it on this thread.
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_lock_(*Mutex))
NTSTATUS
WdkmGuardedMutexAcquire(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Mutex);

/*
 * WdkmGuardedMutexAcquireOrBugCheck - the callback form
 * of WdkmGuardedMutexAcquire (waits):
 * for a DPC, cancel routine, completion routine or cleanup, where no
 * status can be returned. Returns the data pointer (also in *Data when
 * Data is not NULL); the lock is held. IRQL: <= APC_LEVEL.
 * It never fails: where the plain acquire would return an error, it stops
 * the system with bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 the status, P2
 * the lock, P3 the caller, P4 kind << 8 | IRQL; wdkm_status.h), after the
 * checked build reported the whole story.
 */
_IRQL_requires_max_(APC_LEVEL)
_Acquires_lock_(*Mutex)
PVOID
WdkmGuardedMutexAcquireOrBugCheck(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK(Mutex);

/*
 * WdkmGuardedMutexTryAcquire - acquire only without waiting.
 * IRQL: <= APC_LEVEL. Returns also STATUS_TIMEOUT when busy.
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_lock_(*Mutex))
NTSTATUS
WdkmGuardedMutexTryAcquire(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Mutex);

/*
 * WdkmGuardedMutexRelease - release (leaves the guarded region).
 * IRQL: <= APC_LEVEL, the IRQL of the acquire. Returns STATUS_SUCCESS;
 * STATUS_WDKM_NOT_OWNER; STATUS_WDKM_NOT_HELD (ownership is checked before
 * the IRQL: at any IRQL for a caller that does not hold it);
 * STATUS_WDKM_IRQL_TOO_HIGH above the IRQL of the acquire;
 * STATUS_WDKM_IRQL_MISMATCH below it; STATUS_INVALID_PARAMETER.
 */
_IRQL_requires_max_(APC_LEVEL)
_Releases_lock_(*Mutex)
NTSTATUS
WdkmGuardedMutexRelease(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex
    ) WDKM_RELEASES_LOCK(Mutex);

/*
 * WdkmGuardedMutexDestroy / WdkmGuardedMutexTake - free (after copying the
 * value out). IRQL: <= DISPATCH_LEVEL. As WdkmKMutexDestroy / WdkmKMutexTake.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*Mutex)
NTSTATUS
WdkmGuardedMutexDestroy(
    _In_ PWDKM_GUARDED_MUTEX Mutex
    ) WDKM_REQUIRES_LOCK_NOT_HELD(Mutex);

_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*Mutex)
NTSTATUS
WdkmGuardedMutexTake(
    _In_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    ) WDKM_REQUIRES_LOCK_NOT_HELD(Mutex);

/*
 * WdkmGuardedMutexCreateInPlace - allocate a lock whose value (DataSize bytes, zeroed)
 * Initialize(Value, Context) sets up where it lives, in the lock's pool
 * block, before the lock is returned: for values that point into
 * themselves (a LIST_ENTRY head). IRQL: <= DISPATCH_LEVEL (Initialize runs
 * at the caller's IRQL). Returns STATUS_SUCCESS; Initialize's failure
 * status (the block is freed); STATUS_INVALID_PARAMETER (NULL Initialize,
 * zero or oversized DataSize); STATUS_INSUFFICIENT_RESOURCES;
 * STATUS_WDKM_IRQL_TOO_HIGH; STATUS_NOT_SUPPORTED as the create.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmGuardedMutexCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_GUARDED_MUTEX *Mutex
    );

/*
 * WdkmGuardedMutexDestroyWith - destroy the lock and hand its value to
 * Drain(Value, Context) in place (to unlink and free a list's records),
 * then free the block. IRQL: <= DISPATCH_LEVEL. Returns as WdkmGuardedMutexDestroy, and
 * STATUS_WDKM_TYPE_MISMATCH (DataSize is not the value's size) and
 * STATUS_INVALID_PARAMETER (NULL Drain); on any error nothing changes and
 * Drain is not called. Drain runs once the lock no longer exists: the
 * caller must ensure no other thread uses it, as for the destroy.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*Mutex)
NTSTATUS
WdkmGuardedMutexDestroyWith(
    _In_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    ) WDKM_REQUIRES_LOCK_NOT_HELD(Mutex);

/* TRUE if the calling thread holds it. IRQL: any. */
_IRQL_requires_max_(HIGH_LEVEL)
BOOLEAN
WdkmGuardedMutexIsOwned(
    _In_opt_ const WDKM_GUARDED_MUTEX *Mutex
    );

/* For WDKM_GUARDED_MUTEX_SCOPED; not meant to be called directly. IRQL: <= APC_LEVEL. */
_IRQL_requires_max_(APC_LEVEL)
WDKM_SCOPE
WdkmGuardedMutexScopeEnter(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    );

#define WDKM_GUARDED_MUTEX_CREATE(InitialValuePointer, MutexPointer) \
    WDKMP_DIAG_CREATED(WdkmGuardedMutexCreate((InitialValuePointer), sizeof(*(InitialValuePointer)), (MutexPointer)), (MutexPointer))
#define WDKM_GUARDED_MUTEX_ACQUIRE(Mutex, DataPointerPointer) \
    WdkmGuardedMutexAcquire(WDKMP_DIAG_SITE((Mutex), (Mutex)), sizeof(**(DataPointerPointer)), (PVOID *)(DataPointerPointer))
#define WDKM_GUARDED_MUTEX_TRY_ACQUIRE(Mutex, DataPointerPointer) \
    WdkmGuardedMutexTryAcquire(WDKMP_DIAG_SITE((Mutex), (Mutex)), sizeof(**(DataPointerPointer)), \
                               (PVOID *)(DataPointerPointer))
#define WDKM_GUARDED_MUTEX_ACQUIRE_OR_BUGCHECK(Lock, DataPointerPointer) \
    WdkmGuardedMutexAcquireOrBugCheck(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), \
        (PVOID *)(DataPointerPointer))
#define WDKM_GUARDED_MUTEX_TAKE(Mutex, ValuePointer) \
    WdkmGuardedMutexTake((Mutex), sizeof(*(ValuePointer)), (ValuePointer))
#define WDKM_GUARDED_MUTEX_CREATE_IN_PLACE(Type, Initialize, Context, LockPointer) \
    WDKMP_DIAG_CREATED(WdkmGuardedMutexCreateInPlace(sizeof(Type), (Initialize), (Context), (LockPointer)), (LockPointer))
#define WDKM_GUARDED_MUTEX_DESTROY_WITH(Lock, Type, Drain, Context) \
    WdkmGuardedMutexDestroyWith((Lock), sizeof(Type), (Drain), (Context))
#define WDKM_GUARDED_MUTEX_SCOPED(Mutex, DataPointer, StatusPointer)                \
    WDKMP_SCOPED(WdkmGuardedMutexScopeEnter(WDKMP_DIAG_SITE((Mutex), (Mutex)), sizeof(*(DataPointer)),       \
                                            (PVOID *)&(DataPointer), (StatusPointer)))

WDKM_EXTERN_C_END

#endif /* WDKM_GUARDEDMUTEX_H */
