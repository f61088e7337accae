/*
 * wdkm_rwlock.h - reader/writer locks that own a value: WDKM_RESOURCE
 * (ERESOURCE) and WDKM_PUSH_LOCK (EX_PUSH_LOCK).
 *
 * For lookup-heavy state: many readers at once, one writer at a time.
 * Shared acquisitions hand out a const pointer; exclusive ones a writable
 * one.
 *
 * Semantics:
 *   - Acquire at IRQL <= APC_LEVEL. The kernel requires normal kernel APCs
 *     to be disabled while either is held: the wrappers enter a critical
 *     region before acquiring and leave it after releasing, so callers need
 *     not (and must not leave it themselves).
 *   - WDKM_RESOURCE is recursive like ERESOURCE: the exclusive owner may
 *     acquire again in either mode, a shared owner again in shared mode. A
 *     shared owner asking for exclusive would deadlock in the kernel: it
 *     gets STATUS_POSSIBLE_DEADLOCK. Every acquisition needs its release.
 *     Destroy and take need IRQL <= APC_LEVEL (ExDeleteResourceLite).
 *   - WDKM_PUSH_LOCK is not recursive: the exclusive owner acquiring again
 *     gets STATUS_POSSIBLE_DEADLOCK. Its routines (ExfAcquirePushLockExclusive,
 *     ...Shared, ExfReleasePushLockExclusive, ...Shared) are exported but
 *     undocumented, so they are resolved at run time; unless all four are
 *     there, create returns STATUS_NOT_SUPPORTED (Wine 8 exports the
 *     acquires only as stubs that abort, and lacks the releases). The
 *     kernel records no owners; the wrapper records up to eight shared
 *     holders, so a shared release by a thread that holds nothing is
 *     refused, and a shared holder asking again gets
 *     STATUS_POSSIBLE_DEADLOCK. Beyond eight simultaneous readers the
 *     others are only counted: while one of them holds it, a stray shared
 *     release is taken for theirs (reference.md names the consequence).
 *     It has no try form (the kernel exports none).
 *   - Release is the same call for both modes.
 */
#ifndef WDKM_RWLOCK_H
#define WDKM_RWLOCK_H

#include "wdkm_base.h"
#include "wdkm_scope.h"

WDKM_EXTERN_C_BEGIN

/* Capabilities for clang's analysis (wdkm_annotations.h); ERESOURCE is recursive. */
typedef struct WDKMP_REENTRANT_CAPABILITY("resource") _WDKM_RESOURCE WDKM_RESOURCE, *PWDKM_RESOURCE;
typedef struct WDKMP_CAPABILITY("push lock") _WDKM_PUSH_LOCK WDKM_PUSH_LOCK, *PWDKM_PUSH_LOCK;

/* ------------------------------------------------------------------------
 * WDKM_RESOURCE
 */

/*
 * WdkmResourceCreate - allocate and initialise an ERESOURCE holding a copy
 * of the value. IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS;
 * STATUS_INVALID_PARAMETER; STATUS_INSUFFICIENT_RESOURCES;
 * STATUS_WDKM_IRQL_TOO_HIGH.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmResourceCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_RESOURCE *Resource
    );

/*
 * WdkmResourceAcquireExclusive / WdkmResourceTryAcquireExclusive - one
 * writer. IRQL: <= APC_LEVEL. Returns STATUS_SUCCESS; STATUS_TIMEOUT (try:
 * busy); STATUS_POSSIBLE_DEADLOCK (the caller holds it shared);
 * STATUS_WDKM_IRQL_TOO_HIGH; STATUS_WDKM_TYPE_MISMATCH;
 * STATUS_INVALID_PARAMETER. The caller must release on this thread.
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_exclusive_lock_(*Resource))
NTSTATUS
WdkmResourceAcquireExclusive(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Resource);

_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_exclusive_lock_(*Resource))
NTSTATUS
WdkmResourceTryAcquireExclusive(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Resource);

/*
 * WdkmResourceAcquireExclusiveOrBugCheck - the callback form
 * of WdkmResourceAcquireExclusive (waits):
 * for a DPC, cancel routine, completion routine or cleanup, where no
 * status can be returned. Returns the data pointer (also in *Data when
 * Data is not NULL); the lock is held. IRQL: <= APC_LEVEL.
 * It never fails: where the plain acquire would return an error, it stops
 * the system with bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 the status, P2
 * the lock, P3 the caller, P4 kind << 8 | IRQL; wdkm_status.h), after the
 * checked build reported the whole story.
 */
_IRQL_requires_max_(APC_LEVEL)
_Acquires_exclusive_lock_(*Resource)
PVOID
WdkmResourceAcquireExclusiveOrBugCheck(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK(Resource);

/*
 * WdkmResourceAcquireShared / WdkmResourceTryAcquireShared - one of many
 * readers; *Data is read-only. IRQL: <= APC_LEVEL. Returns STATUS_SUCCESS;
 * STATUS_TIMEOUT (try: a writer holds it); STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_WDKM_TYPE_MISMATCH; STATUS_INVALID_PARAMETER.
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_shared_lock_(*Resource))
NTSTATUS
WdkmResourceAcquireShared(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ const VOID **Data
    ) WDKM_ACQUIRES_SHARED_LOCK_ON_SUCCESS(Resource);

_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_shared_lock_(*Resource))
NTSTATUS
WdkmResourceTryAcquireShared(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ const VOID **Data
    ) WDKM_ACQUIRES_SHARED_LOCK_ON_SUCCESS(Resource);

/*
 * WdkmResourceAcquireSharedOrBugCheck - the callback form
 * of WdkmResourceAcquireShared (waits; the data is read-only):
 * for a DPC, cancel routine, completion routine or cleanup, where no
 * status can be returned. Returns the data pointer (also in *Data when
 * Data is not NULL); the lock is held. IRQL: <= APC_LEVEL.
 * It never fails: where the plain acquire would return an error, it stops
 * the system with bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 the status, P2
 * the lock, P3 the caller, P4 kind << 8 | IRQL; wdkm_status.h), after the
 * checked build reported the whole story.
 */
_IRQL_requires_max_(APC_LEVEL)
_Acquires_shared_lock_(*Resource)
const VOID *
WdkmResourceAcquireSharedOrBugCheck(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Out_opt_ const VOID **Data
    ) WDKM_ACQUIRES_SHARED_LOCK(Resource);

/*
 * WdkmResourceRelease - release one acquisition, either mode.
 * IRQL: <= APC_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_NOT_OWNER (held,
 * not by the caller); STATUS_WDKM_NOT_HELD; STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_INVALID_PARAMETER.
 */
_IRQL_requires_max_(APC_LEVEL)
_Releases_lock_(*Resource)
NTSTATUS
WdkmResourceRelease(
    _Inout_ PWDKM_RESOURCE Resource
    ) WDKM_RELEASES_LOCK(Resource);

/*
 * WdkmResourceDestroy / WdkmResourceTake - delete the ERESOURCE and free
 * (after copying the value out). IRQL: <= APC_LEVEL. Returns
 * STATUS_SUCCESS; STATUS_WDKM_LOCK_HELD; STATUS_WDKM_TYPE_MISMATCH (take);
 * STATUS_WDKM_OWNED_BY_REGISTRY; STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_INVALID_PARAMETER.
 */
_IRQL_requires_max_(APC_LEVEL)
_Requires_lock_not_held_(*Resource)
NTSTATUS
WdkmResourceDestroy(
    _In_ PWDKM_RESOURCE Resource
    ) WDKM_REQUIRES_LOCK_NOT_HELD(Resource);

_IRQL_requires_max_(APC_LEVEL)
_Requires_lock_not_held_(*Resource)
NTSTATUS
WdkmResourceTake(
    _In_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    ) WDKM_REQUIRES_LOCK_NOT_HELD(Resource);

/*
 * WdkmResourceCreateInPlace - allocate a lock whose value (DataSize bytes, zeroed)
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
WdkmResourceCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_RESOURCE *Resource
    );

/*
 * WdkmResourceDestroyWith - destroy the lock and hand its value to
 * Drain(Value, Context) in place (to unlink and free a list's records),
 * then free the block. IRQL: <= APC_LEVEL. Returns as WdkmResourceDestroy, and
 * STATUS_WDKM_TYPE_MISMATCH (DataSize is not the value's size) and
 * STATUS_INVALID_PARAMETER (NULL Drain); on any error nothing changes and
 * Drain is not called. Drain runs once the lock no longer exists: the
 * caller must ensure no other thread uses it, as for the destroy.
 */
_IRQL_requires_max_(APC_LEVEL)
_Requires_lock_not_held_(*Resource)
NTSTATUS
WdkmResourceDestroyWith(
    _In_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    ) WDKM_REQUIRES_LOCK_NOT_HELD(Resource);

/* TRUE if the calling thread holds it exclusively. IRQL: any. */
_IRQL_requires_max_(HIGH_LEVEL)
BOOLEAN
WdkmResourceIsOwnedExclusive(
    _In_opt_ const WDKM_RESOURCE *Resource
    );

/* For the scoped forms; not meant to be called directly. IRQL: <= APC_LEVEL. */
_IRQL_requires_max_(APC_LEVEL)
WDKM_SCOPE
WdkmResourceScopeEnter(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _In_ BOOLEAN Exclusive,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    );

#define WDKM_RESOURCE_CREATE(InitialValuePointer, ResourcePointer) \
    WDKMP_DIAG_CREATED(WdkmResourceCreate((InitialValuePointer), sizeof(*(InitialValuePointer)), (ResourcePointer)), (ResourcePointer))
#define WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, DataPointerPointer) \
    WdkmResourceAcquireExclusive(WDKMP_DIAG_SITE((Resource), (Resource)), sizeof(**(DataPointerPointer)), \
                                 (PVOID *)(DataPointerPointer))
#define WDKM_RESOURCE_TRY_ACQUIRE_EXCLUSIVE(Resource, DataPointerPointer) \
    WdkmResourceTryAcquireExclusive(WDKMP_DIAG_SITE((Resource), (Resource)), sizeof(**(DataPointerPointer)), \
                                    (PVOID *)(DataPointerPointer))
#define WDKM_RESOURCE_ACQUIRE_EXCLUSIVE_OR_BUGCHECK(Lock, DataPointerPointer) \
    WdkmResourceAcquireExclusiveOrBugCheck(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), \
        (PVOID *)(DataPointerPointer))
/* DataPointerPointer: the address of a `const T *`. */
#define WDKM_RESOURCE_ACQUIRE_SHARED(Resource, DataPointerPointer) \
    WdkmResourceAcquireShared(WDKMP_DIAG_SITE((Resource), (Resource)), sizeof(**(DataPointerPointer)), \
                              (const VOID **)(DataPointerPointer))
#define WDKM_RESOURCE_TRY_ACQUIRE_SHARED(Resource, DataPointerPointer) \
    WdkmResourceTryAcquireShared(WDKMP_DIAG_SITE((Resource), (Resource)), sizeof(**(DataPointerPointer)), \
                                 (const VOID **)(DataPointerPointer))
#define WDKM_RESOURCE_ACQUIRE_SHARED_OR_BUGCHECK(Lock, DataPointerPointer) \
    WdkmResourceAcquireSharedOrBugCheck(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), \
        (const VOID **)(DataPointerPointer))
#define WDKM_RESOURCE_TAKE(Resource, ValuePointer) \
    WdkmResourceTake((Resource), sizeof(*(ValuePointer)), (ValuePointer))
#define WDKM_RESOURCE_CREATE_IN_PLACE(Type, Initialize, Context, LockPointer) \
    WDKMP_DIAG_CREATED(WdkmResourceCreateInPlace(sizeof(Type), (Initialize), (Context), (LockPointer)), (LockPointer))
#define WDKM_RESOURCE_DESTROY_WITH(Lock, Type, Drain, Context) \
    WdkmResourceDestroyWith((Lock), sizeof(Type), (Drain), (Context))
#define WDKM_RESOURCE_EXCLUSIVE_SCOPED(Resource, DataPointer, StatusPointer)          \
    WDKMP_SCOPED(WdkmResourceScopeEnter(WDKMP_DIAG_SITE((Resource), (Resource)), sizeof(*(DataPointer)), TRUE,   \
                                        (PVOID *)&(DataPointer), (StatusPointer)))
/* DataPointer: a `const T *` variable. */
#define WDKM_RESOURCE_SHARED_SCOPED(Resource, DataPointer, StatusPointer)             \
    WDKMP_SCOPED(WdkmResourceScopeEnter(WDKMP_DIAG_SITE((Resource), (Resource)), sizeof(*(DataPointer)), FALSE,  \
                                        (PVOID *)&(DataPointer), (StatusPointer)))

/* ------------------------------------------------------------------------
 * WDKM_PUSH_LOCK
 */

/*
 * WdkmPushLockCreate - allocate a push lock holding a copy of the value.
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_NOT_SUPPORTED
 * (the kernel does not export push locks, or they were not looked up yet:
 * create the first one at PASSIVE_LEVEL); STATUS_INVALID_PARAMETER;
 * STATUS_INSUFFICIENT_RESOURCES; STATUS_WDKM_IRQL_TOO_HIGH.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmPushLockCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_PUSH_LOCK *PushLock
    );

/*
 * WdkmPushLockAcquireExclusive / WdkmPushLockAcquireShared.
 * IRQL: <= APC_LEVEL. Returns STATUS_SUCCESS; STATUS_POSSIBLE_DEADLOCK
 * (the caller holds it exclusively, or shared); STATUS_WDKM_IRQL_TOO_HIGH;
 * STATUS_WDKM_TYPE_MISMATCH; STATUS_INVALID_PARAMETER. A shared holder
 * must not acquire again (detected with at most eight readers at once).
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_exclusive_lock_(*PushLock))
NTSTATUS
WdkmPushLockAcquireExclusive(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(PushLock);

_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_shared_lock_(*PushLock))
NTSTATUS
WdkmPushLockAcquireShared(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ const VOID **Data
    ) WDKM_ACQUIRES_SHARED_LOCK_ON_SUCCESS(PushLock);

/*
 * WdkmPushLockAcquireExclusiveOrBugCheck - the callback form
 * of WdkmPushLockAcquireExclusive (waits):
 * for a DPC, cancel routine, completion routine or cleanup, where no
 * status can be returned. Returns the data pointer (also in *Data when
 * Data is not NULL); the lock is held. IRQL: <= APC_LEVEL.
 * It never fails: where the plain acquire would return an error, it stops
 * the system with bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 the status, P2
 * the lock, P3 the caller, P4 kind << 8 | IRQL; wdkm_status.h), after the
 * checked build reported the whole story.
 */
_IRQL_requires_max_(APC_LEVEL)
_Acquires_exclusive_lock_(*PushLock)
PVOID
WdkmPushLockAcquireExclusiveOrBugCheck(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK(PushLock);

/*
 * WdkmPushLockAcquireSharedOrBugCheck - the callback form
 * of WdkmPushLockAcquireShared (waits; the data is read-only):
 * for a DPC, cancel routine, completion routine or cleanup, where no
 * status can be returned. Returns the data pointer (also in *Data when
 * Data is not NULL); the lock is held. IRQL: <= APC_LEVEL.
 * It never fails: where the plain acquire would return an error, it stops
 * the system with bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 the status, P2
 * the lock, P3 the caller, P4 kind << 8 | IRQL; wdkm_status.h), after the
 * checked build reported the whole story.
 */
_IRQL_requires_max_(APC_LEVEL)
_Acquires_shared_lock_(*PushLock)
const VOID *
WdkmPushLockAcquireSharedOrBugCheck(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Out_opt_ const VOID **Data
    ) WDKM_ACQUIRES_SHARED_LOCK(PushLock);

/*
 * WdkmPushLockRelease - release the caller's hold, either mode.
 * IRQL: <= APC_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_NOT_OWNER (held
 * by other threads, not the caller); STATUS_WDKM_NOT_HELD;
 * STATUS_WDKM_IRQL_TOO_HIGH; STATUS_WDKM_TYPE_MISMATCH;
 * STATUS_INVALID_PARAMETER. Nothing changes on error.
 */
_IRQL_requires_max_(APC_LEVEL)
_Releases_lock_(*PushLock)
NTSTATUS
WdkmPushLockRelease(
    _Inout_ PWDKM_PUSH_LOCK PushLock
    ) WDKM_RELEASES_LOCK(PushLock);

/*
 * WdkmPushLockDestroy / WdkmPushLockTake - free (after copying the value
 * out). IRQL: <= DISPATCH_LEVEL. As WdkmKMutexDestroy / WdkmKMutexTake.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*PushLock)
NTSTATUS
WdkmPushLockDestroy(
    _In_ PWDKM_PUSH_LOCK PushLock
    ) WDKM_REQUIRES_LOCK_NOT_HELD(PushLock);

_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*PushLock)
NTSTATUS
WdkmPushLockTake(
    _In_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    ) WDKM_REQUIRES_LOCK_NOT_HELD(PushLock);

/*
 * WdkmPushLockCreateInPlace - allocate a lock whose value (DataSize bytes, zeroed)
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
WdkmPushLockCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_PUSH_LOCK *PushLock
    );

/*
 * WdkmPushLockDestroyWith - destroy the lock and hand its value to
 * Drain(Value, Context) in place (to unlink and free a list's records),
 * then free the block. IRQL: <= DISPATCH_LEVEL. Returns as WdkmPushLockDestroy, and
 * STATUS_WDKM_TYPE_MISMATCH (DataSize is not the value's size) and
 * STATUS_INVALID_PARAMETER (NULL Drain); on any error nothing changes and
 * Drain is not called. Drain runs once the lock no longer exists: the
 * caller must ensure no other thread uses it, as for the destroy.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Requires_lock_not_held_(*PushLock)
NTSTATUS
WdkmPushLockDestroyWith(
    _In_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    ) WDKM_REQUIRES_LOCK_NOT_HELD(PushLock);

/* TRUE if the calling thread holds it exclusively. IRQL: any. */
_IRQL_requires_max_(HIGH_LEVEL)
BOOLEAN
WdkmPushLockIsOwnedExclusive(
    _In_opt_ const WDKM_PUSH_LOCK *PushLock
    );

/* For the push-lock scoped forms; not meant to be called directly. IRQL: <= APC_LEVEL. */
_IRQL_requires_max_(APC_LEVEL)
WDKM_SCOPE
WdkmPushLockScopeEnter(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _In_ BOOLEAN Exclusive,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    );

#define WDKM_PUSH_LOCK_CREATE(InitialValuePointer, PushLockPointer) \
    WDKMP_DIAG_CREATED(WdkmPushLockCreate((InitialValuePointer), sizeof(*(InitialValuePointer)), (PushLockPointer)), (PushLockPointer))
#define WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(PushLock, DataPointerPointer) \
    WdkmPushLockAcquireExclusive(WDKMP_DIAG_SITE((PushLock), (PushLock)), sizeof(**(DataPointerPointer)), \
                                 (PVOID *)(DataPointerPointer))
#define WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE_OR_BUGCHECK(Lock, DataPointerPointer) \
    WdkmPushLockAcquireExclusiveOrBugCheck(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), \
        (PVOID *)(DataPointerPointer))
#define WDKM_PUSH_LOCK_ACQUIRE_SHARED(PushLock, DataPointerPointer) \
    WdkmPushLockAcquireShared(WDKMP_DIAG_SITE((PushLock), (PushLock)), sizeof(**(DataPointerPointer)), \
                              (const VOID **)(DataPointerPointer))
#define WDKM_PUSH_LOCK_ACQUIRE_SHARED_OR_BUGCHECK(Lock, DataPointerPointer) \
    WdkmPushLockAcquireSharedOrBugCheck(WDKMP_DIAG_SITE((Lock), (Lock)), sizeof(**(DataPointerPointer)), \
        (const VOID **)(DataPointerPointer))
#define WDKM_PUSH_LOCK_TAKE(PushLock, ValuePointer) \
    WdkmPushLockTake((PushLock), sizeof(*(ValuePointer)), (ValuePointer))
#define WDKM_PUSH_LOCK_CREATE_IN_PLACE(Type, Initialize, Context, LockPointer) \
    WDKMP_DIAG_CREATED(WdkmPushLockCreateInPlace(sizeof(Type), (Initialize), (Context), (LockPointer)), (LockPointer))
#define WDKM_PUSH_LOCK_DESTROY_WITH(Lock, Type, Drain, Context) \
    WdkmPushLockDestroyWith((Lock), sizeof(Type), (Drain), (Context))
#define WDKM_PUSH_LOCK_EXCLUSIVE_SCOPED(PushLock, DataPointer, StatusPointer)         \
    WDKMP_SCOPED(WdkmPushLockScopeEnter(WDKMP_DIAG_SITE((PushLock), (PushLock)), sizeof(*(DataPointer)), TRUE,   \
                                        (PVOID *)&(DataPointer), (StatusPointer)))
#define WDKM_PUSH_LOCK_SHARED_SCOPED(PushLock, DataPointer, StatusPointer)            \
    WDKMP_SCOPED(WdkmPushLockScopeEnter(WDKMP_DIAG_SITE((PushLock), (PushLock)), sizeof(*(DataPointer)), FALSE,  \
                                        (PVOID *)&(DataPointer), (StatusPointer)))

WDKM_EXTERN_C_END

#endif /* WDKM_RWLOCK_H */
