/*
 * wdkm_kmutex.h - WDKM_KMUTEX: a kernel mutex (KMUTEX) that owns a value.
 *
 * The lock and its value live in one block of non-paged pool, tagged with
 * WDKM_POOL_TAG. The value is reachable only through a successful acquire,
 * which hands out a pointer to it; the pointer is valid until the matching
 * release.
 *
 * Semantics (those of the KMUTEX underneath, made checkable):
 *   - Waiting acquires are allowed at IRQL <= APC_LEVEL; a try (zero
 *     timeout) up to DISPATCH_LEVEL.
 *   - The owner may acquire again (recursion); every acquire needs its own
 *     release. WDKM_KMUTEX_MAX_RECURSION bounds the depth: the acquire past
 *     it returns STATUS_MUTANT_LIMIT_EXCEEDED instead of the kernel's
 *     exception. A hold has the IRQL class of its outermost acquisition
 *     (PASSIVE/APC versus DISPATCH), and so does every acquisition in it:
 *     a try at DISPATCH_LEVEL over the caller's PASSIVE-class hold (a DPC
 *     that interrupted the owner, which NT would let in mid-update) is
 *     busy, STATUS_TIMEOUT; an acquire below DISPATCH_LEVEL over a
 *     DISPATCH-class hold is STATUS_WDKM_IRQL_MISMATCH. Nothing changes.
 *   - Only the owner releases, at IRQL <= DISPATCH_LEVEL and in the same
 *     IRQL class it acquired in (PASSIVE/APC versus DISPATCH): otherwise the
 *     release returns STATUS_WDKM_NOT_OWNER, STATUS_WDKM_NOT_HELD or
 *     STATUS_WDKM_IRQL_MISMATCH and the lock is unchanged (the kernel would
 *     bugcheck THREAD_NOT_MUTEX_OWNER).
 *   - While held, normal kernel APCs are disabled for the owner (a kernel
 *     rule of KMUTEX); the owner must release before returning to user mode
 *     and before its thread exits.
 *   - A held lock cannot be destroyed (STATUS_WDKM_LOCK_HELD).
 *
 * What is not detected: using a lock after destroying it, and destroying
 * it while another thread is still blocked acquiring it. The caller owns
 * the lock's lifetime (the registry, wdkm_grt.h, manages it for you). A
 * special kernel APC (APC_LEVEL, the PASSIVE class) that acquires the
 * mutex its thread holds is granted a recursion, as NT grants it. One that
 * acquires it while the code it interrupted is inside an acquire or a
 * release of the same mutex (the kernel's ownership and the library's
 * record then differ) gets STATUS_POSSIBLE_DEADLOCK (a try: STATUS_TIMEOUT)
 * and nothing changes.
 *
 * "Acquired" means the status is exactly STATUS_SUCCESS: a timed-out try or
 * wait returns STATUS_TIMEOUT and an ended alertable wait STATUS_ALERTED,
 * which the NT_SUCCESS macro counts as success. On any
 * status but STATUS_SUCCESS the data pointer is set to NULL.
 */
#ifndef WDKM_KMUTEX_H
#define WDKM_KMUTEX_H

#include "wdkm_base.h"
#include "wdkm_scope.h"

WDKM_EXTERN_C_BEGIN

/* A capability for clang's analysis (wdkm_annotations.h); recursive. */
typedef struct WDKMP_REENTRANT_CAPABILITY("mutex") _WDKM_KMUTEX WDKM_KMUTEX, *PWDKM_KMUTEX;

/*
 * WdkmKMutexCreate - allocate a lock holding a copy of *InitialValue.
 *
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS and the new lock in
 * *Mutex; STATUS_INVALID_PARAMETER for a NULL pointer, a zero DataSize or
 * one above WDKM_MAX_DATA_SIZE; STATUS_INSUFFICIENT_RESOURCES;
 * STATUS_WDKM_IRQL_TOO_HIGH. *Mutex is NULL on failure.
 * The caller must destroy (or take) the lock exactly once.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmKMutexCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_KMUTEX *Mutex
    );

/*
 * WdkmKMutexAcquire - wait, without alerts and without limit, until the
 * lock is held; *Data then points to the value.
 *
 * IRQL: <= APC_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_WDKM_TYPE_MISMATCH if DataSize is not the size the lock was
 * created with, or Mutex is a lock of another kind;
 * STATUS_MUTANT_LIMIT_EXCEEDED at the recursion limit;
 * STATUS_WDKM_IRQL_MISMATCH if the caller holds it from DISPATCH_LEVEL;
 * STATUS_POSSIBLE_DEADLOCK for a special kernel APC whose thread is inside
 * an acquire or release of this mutex (see above; nothing changed);
 * STATUS_INVALID_PARAMETER. The caller must release once per success and
 * must not keep *Data past the release.
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_lock_(*Mutex))
NTSTATUS
WdkmKMutexAcquire(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Mutex);

/*
 * WdkmKMutexAcquireOrBugCheck - the callback form
 * of WdkmKMutexAcquire (waits):
 * for a DPC, cancel routine, completion routine or cleanup, where no
 * status can be returned. Returns the data pointer (also in *Data when
 * Data is not NULL); the lock is held. IRQL: <= APC_LEVEL (a cleanup or work item; not a DPC or completion routine at DISPATCH_LEVEL).
 * It never fails: where the plain acquire would return an error, it stops
 * the system with bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 the status, P2
 * the lock, P3 the caller, P4 kind << 8 | IRQL; wdkm_status.h), after the
 * checked build reported the whole story.
 */
_IRQL_requires_max_(APC_LEVEL)
_Acquires_lock_(*Mutex)
PVOID
WdkmKMutexAcquireOrBugCheck(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK(Mutex);

/*
 * WdkmKMutexTryAcquire - acquire only if that needs no wait.
 *
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS, or STATUS_TIMEOUT if
 * another thread holds the lock (or, from a DPC, the code it interrupted
 * does), and the errors of WdkmKMutexAcquire.
 * A lock acquired at DISPATCH_LEVEL must be released at DISPATCH_LEVEL.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
_When_(return == 0, _Acquires_lock_(*Mutex))
NTSTATUS
WdkmKMutexTryAcquire(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Mutex);

/*
 * WdkmKMutexAcquireTimeout - wait at most *Timeout (NT convention:
 * negative = relative in 100 ns units, positive = absolute system time,
 * zero = try; WDKM_RELATIVE_TIMEOUT_MS builds a relative one).
 *
 * IRQL: <= APC_LEVEL; <= DISPATCH_LEVEL when *Timeout is zero. Returns
 * STATUS_SUCCESS, STATUS_TIMEOUT, and the errors of WdkmKMutexAcquire.
 */
_Must_inspect_result_
_When_(Timeout->QuadPart != 0, _IRQL_requires_max_(APC_LEVEL))
_When_(Timeout->QuadPart == 0, _IRQL_requires_max_(DISPATCH_LEVEL))
_When_(return == 0, _Acquires_lock_(*Mutex))
NTSTATUS
WdkmKMutexAcquireTimeout(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _In_ const LARGE_INTEGER *Timeout,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Mutex);

/*
 * WdkmKMutexAcquireAlertable - wait alertably: an alert of the thread ends
 * the wait with STATUS_ALERTED and the lock not held. Timeout as for
 * WdkmKMutexAcquireTimeout; NULL waits without limit. WaitMode must be
 * KernelMode, as the WDK requires for a wait on a mutex.
 *
 * IRQL: <= APC_LEVEL, whatever the timeout. Returns STATUS_SUCCESS,
 * STATUS_ALERTED, STATUS_TIMEOUT, the errors of WdkmKMutexAcquire, and
 * STATUS_INVALID_PARAMETER (nothing changed, *Data NULL) for any WaitMode
 * but KernelMode.
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_lock_(*Mutex))
NTSTATUS
WdkmKMutexAcquireAlertable(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _In_ KPROCESSOR_MODE WaitMode,
    _In_opt_ const LARGE_INTEGER *Timeout,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Mutex);

/*
 * WdkmKMutexRelease - release one acquisition.
 *
 * IRQL: <= DISPATCH_LEVEL, in the IRQL class of the hold. Returns
 * STATUS_SUCCESS; STATUS_WDKM_NOT_OWNER if another thread holds it;
 * STATUS_WDKM_NOT_HELD if nobody does (a second release);
 * STATUS_WDKM_IRQL_TOO_HIGH; STATUS_WDKM_IRQL_MISMATCH;
 * STATUS_INVALID_PARAMETER. On error nothing changes. The caller must not
 * touch the data after the release that ends its ownership.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Releases_lock_(*Mutex)
NTSTATUS
WdkmKMutexRelease(
    _Inout_ PWDKM_KMUTEX Mutex
    ) WDKM_RELEASES_LOCK(Mutex);

/*
 * WdkmKMutexDestroy - free the lock and its value.
 *
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_LOCK_HELD
 * (nothing freed); STATUS_INVALID_PARAMETER for NULL or an object that is
 * not a live WDKM_KMUTEX. The caller must ensure no thread is waiting for
 * the lock, and must not use it afterwards.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*Mutex)
NTSTATUS
WdkmKMutexDestroy(
    _In_ PWDKM_KMUTEX Mutex
    ) WDKM_REQUIRES_LOCK_NOT_HELD(Mutex);

/*
 * WdkmKMutexTake - copy the value out into *Value and free the lock (the
 * crate's to_owned).
 *
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_LOCK_HELD;
 * STATUS_WDKM_TYPE_MISMATCH (nothing freed, *Value untouched);
 * STATUS_INVALID_PARAMETER. Same lifetime rules as WdkmKMutexDestroy.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*Mutex)
NTSTATUS
WdkmKMutexTake(
    _In_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    ) WDKM_REQUIRES_LOCK_NOT_HELD(Mutex);

/*
 * WdkmKMutexCreateInPlace - allocate a lock whose value (DataSize bytes, zeroed)
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
WdkmKMutexCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_KMUTEX *Mutex
    );

/*
 * WdkmKMutexDestroyWith - destroy the lock and hand its value to
 * Drain(Value, Context) in place (to unlink and free a list's records),
 * then free the block. IRQL: <= DISPATCH_LEVEL. Returns as WdkmKMutexDestroy, and
 * STATUS_WDKM_TYPE_MISMATCH (DataSize is not the value's size) and
 * STATUS_INVALID_PARAMETER (NULL Drain); on any error nothing changes and
 * Drain is not called. Drain runs once the lock no longer exists: the
 * caller must ensure no other thread uses it, as for the destroy.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*Mutex)
NTSTATUS
WdkmKMutexDestroyWith(
    _In_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    ) WDKM_REQUIRES_LOCK_NOT_HELD(Mutex);

/*
 * WdkmKMutexIsOwned - TRUE if the calling thread holds the lock.
 * IRQL: any. For assertions; FALSE for NULL.
 */
_IRQL_requires_max_(HIGH_LEVEL)
BOOLEAN
WdkmKMutexIsOwned(
    _In_opt_ const WDKM_KMUTEX *Mutex
    );

/*
 * WdkmKMutexScopeEnter - acquire for a scoped form (WDKM_KMUTEX_SCOPED);
 * not meant to be called directly. IRQL: <= APC_LEVEL.
 */
_IRQL_requires_max_(APC_LEVEL)
WDKM_SCOPE
WdkmKMutexScopeEnter(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    );

/*
 * Typed forms: the data size comes from the pointer's type, so a lock used
 * with the wrong type gives STATUS_WDKM_TYPE_MISMATCH.
 *
 *     MY_STATE Initial = {0};
 *     PWDKM_KMUTEX Lock;
 *     MY_STATE *State;
 *
 *     Status = WDKM_KMUTEX_CREATE(&Initial, &Lock);
 *     Status = WDKM_KMUTEX_ACQUIRE(Lock, &State);
 *     if (Status == STATUS_SUCCESS) {
 *         State->Count += 1;
 *         (VOID)WdkmKMutexRelease(Lock);
 *     }
 */
#define WDKM_KMUTEX_CREATE(InitialValuePointer, MutexPointer) \
    WDKMP_DIAG_CREATED(WdkmKMutexCreate((InitialValuePointer), sizeof(*(InitialValuePointer)), (MutexPointer)), (MutexPointer))
#define WDKM_KMUTEX_ACQUIRE(Mutex, DataPointerPointer) \
    WdkmKMutexAcquire(WDKMP_DIAG_SITE((Mutex), (Mutex)), sizeof(**(DataPointerPointer)), (PVOID *)(DataPointerPointer))
#define WDKM_KMUTEX_TRY_ACQUIRE(Mutex, DataPointerPointer) \
    WdkmKMutexTryAcquire(WDKMP_DIAG_SITE((Mutex), (Mutex)), sizeof(**(DataPointerPointer)), (PVOID *)(DataPointerPointer))
#define WDKM_KMUTEX_ACQUIRE_OR_BUGCHECK(Lock, DataPointerPointer) \
    WdkmKMutexAcquireOrBugCheck(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), \
        (PVOID *)(DataPointerPointer))
#define WDKM_KMUTEX_ACQUIRE_TIMEOUT(Mutex, Timeout, DataPointerPointer) \
    WdkmKMutexAcquireTimeout(WDKMP_DIAG_SITE((Mutex), (Mutex)), sizeof(**(DataPointerPointer)), (Timeout), \
                             (PVOID *)(DataPointerPointer))
#define WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, WaitMode, Timeout, DataPointerPointer) \
    WdkmKMutexAcquireAlertable(WDKMP_DIAG_SITE((Mutex), (Mutex)), sizeof(**(DataPointerPointer)), (WaitMode), \
                               (Timeout), (PVOID *)(DataPointerPointer))
#define WDKM_KMUTEX_TAKE(Mutex, ValuePointer) \
    WdkmKMutexTake((Mutex), sizeof(*(ValuePointer)), (ValuePointer))
#define WDKM_KMUTEX_CREATE_IN_PLACE(Type, Initialize, Context, LockPointer) \
    WDKMP_DIAG_CREATED(WdkmKMutexCreateInPlace(sizeof(Type), (Initialize), (Context), (LockPointer)), (LockPointer))
#define WDKM_KMUTEX_DESTROY_WITH(Lock, Type, Drain, Context) \
    WdkmKMutexDestroyWith((Lock), sizeof(Type), (Drain), (Context))

/*
 * WDKM_KMUTEX_SCOPED(Mutex, DataPointer, StatusPointer) { ... }
 * Acquire (non-alertable, no timeout), run the block with DataPointer set,
 * release. See wdkm_scope.h for how the block may be left.
 */
#define WDKM_KMUTEX_SCOPED(Mutex, DataPointer, StatusPointer)                  \
    WDKMP_SCOPED(WdkmKMutexScopeEnter(WDKMP_DIAG_SITE((Mutex), (Mutex)), sizeof(*(DataPointer)),        \
                                      (PVOID *)&(DataPointer), (StatusPointer)))

WDKM_EXTERN_C_END

#endif /* WDKM_KMUTEX_H */
