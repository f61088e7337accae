/*
 * wdkm_test_kinds.c - every kind's functions behind one WDKM_LOCK_KIND
 * (see wdkm_test_kinds.h).
 */
#include "wdkm_test_kinds.h"

NTSTATUS
WdkmTestKindCreate(
    _In_ WDKM_LOCK_KIND Kind,
    _In_reads_bytes_(DataSize) const VOID *Initial,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Lock
    )
{
    switch (Kind) {
    case WdkmLockKindKMutex:
        return WdkmKMutexCreate(Initial, DataSize, (PWDKM_KMUTEX *)Lock);
    case WdkmLockKindFastMutex:
        return WdkmFastMutexCreate(Initial, DataSize, (PWDKM_FAST_MUTEX *)Lock);
    case WdkmLockKindSpinLock:
        return WdkmSpinLockCreate(Initial, DataSize, (PWDKM_SPIN_LOCK *)Lock);
    case WdkmLockKindQueuedSpinLock:
        return WdkmQueuedSpinLockCreate(Initial, DataSize, (PWDKM_QUEUED_SPIN_LOCK *)Lock);
    case WdkmLockKindGuardedMutex:
        return WdkmGuardedMutexCreate(Initial, DataSize, (PWDKM_GUARDED_MUTEX *)Lock);
    case WdkmLockKindResource:
        return WdkmResourceCreate(Initial, DataSize, (PWDKM_RESOURCE *)Lock);
    case WdkmLockKindPushLock:
        return WdkmPushLockCreate(Initial, DataSize, (PWDKM_PUSH_LOCK *)Lock);
    }
    return STATUS_INVALID_PARAMETER;
}

NTSTATUS
WdkmTestKindDestroy(
    _In_ WDKM_LOCK_KIND Kind,
    _In_opt_ PVOID Lock
    )
{
    switch (Kind) {
    case WdkmLockKindKMutex:
        return WdkmKMutexDestroy((PWDKM_KMUTEX)Lock);
    case WdkmLockKindFastMutex:
        return WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)Lock);
    case WdkmLockKindSpinLock:
        return WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Lock);
    case WdkmLockKindQueuedSpinLock:
        return WdkmQueuedSpinLockDestroy((PWDKM_QUEUED_SPIN_LOCK)Lock);
    case WdkmLockKindGuardedMutex:
        return WdkmGuardedMutexDestroy((PWDKM_GUARDED_MUTEX)Lock);
    case WdkmLockKindResource:
        return WdkmResourceDestroy((PWDKM_RESOURCE)Lock);
    case WdkmLockKindPushLock:
        return WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Lock);
    }
    return STATUS_INVALID_PARAMETER;
}

NTSTATUS
WdkmTestKindTake(
    _In_ WDKM_LOCK_KIND Kind,
    _In_opt_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    )
{
    switch (Kind) {
    case WdkmLockKindKMutex:
        return WdkmKMutexTake((PWDKM_KMUTEX)Lock, DataSize, Value);
    case WdkmLockKindFastMutex:
        return WdkmFastMutexTake((PWDKM_FAST_MUTEX)Lock, DataSize, Value);
    case WdkmLockKindSpinLock:
        return WdkmSpinLockTake((PWDKM_SPIN_LOCK)Lock, DataSize, Value);
    case WdkmLockKindQueuedSpinLock:
        return WdkmQueuedSpinLockTake((PWDKM_QUEUED_SPIN_LOCK)Lock, DataSize, Value);
    case WdkmLockKindGuardedMutex:
        return WdkmGuardedMutexTake((PWDKM_GUARDED_MUTEX)Lock, DataSize, Value);
    case WdkmLockKindResource:
        return WdkmResourceTake((PWDKM_RESOURCE)Lock, DataSize, Value);
    case WdkmLockKindPushLock:
        return WdkmPushLockTake((PWDKM_PUSH_LOCK)Lock, DataSize, Value);
    }
    return STATUS_INVALID_PARAMETER;
}

NTSTATUS
WdkmTestKindDestroyWith(
    _In_ WDKM_LOCK_KIND Kind,
    _In_opt_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    )
{
    switch (Kind) {
    case WdkmLockKindKMutex:
        return WdkmKMutexDestroyWith((PWDKM_KMUTEX)Lock, DataSize, Drain, Context);
    case WdkmLockKindFastMutex:
        return WdkmFastMutexDestroyWith((PWDKM_FAST_MUTEX)Lock, DataSize, Drain, Context);
    case WdkmLockKindSpinLock:
        return WdkmSpinLockDestroyWith((PWDKM_SPIN_LOCK)Lock, DataSize, Drain, Context);
    case WdkmLockKindQueuedSpinLock:
        return WdkmQueuedSpinLockDestroyWith((PWDKM_QUEUED_SPIN_LOCK)Lock, DataSize, Drain,
                                             Context);
    case WdkmLockKindGuardedMutex:
        return WdkmGuardedMutexDestroyWith((PWDKM_GUARDED_MUTEX)Lock, DataSize, Drain, Context);
    case WdkmLockKindResource:
        return WdkmResourceDestroyWith((PWDKM_RESOURCE)Lock, DataSize, Drain, Context);
    case WdkmLockKindPushLock:
        return WdkmPushLockDestroyWith((PWDKM_PUSH_LOCK)Lock, DataSize, Drain, Context);
    }
    return STATUS_INVALID_PARAMETER;
}

/* Which lock it takes or gives back is known only at run time (Hold->Kind,
   Hold->Lock): the static analysis cannot follow it, the callers' tests do. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
NTSTATUS
WdkmTestKindAcquire(
    _Inout_ WDKM_TEST_KIND_HOLD *Hold,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    switch (Hold->Kind) {
    case WdkmLockKindKMutex:
        return WdkmKMutexAcquire((PWDKM_KMUTEX)Hold->Lock, DataSize, Data);
    case WdkmLockKindFastMutex:
        return WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Hold->Lock, DataSize, Data);
    case WdkmLockKindSpinLock:
        return WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Hold->Lock, DataSize, &Hold->OldIrql, Data);
    case WdkmLockKindQueuedSpinLock:
        return WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Hold->Lock, DataSize,
                                         &Hold->Queue, Data);
    case WdkmLockKindGuardedMutex:
        return WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)Hold->Lock, DataSize, Data);
    case WdkmLockKindResource:
        if (Hold->Shared) {
            return WdkmResourceAcquireShared((PWDKM_RESOURCE)Hold->Lock, DataSize,
                                             (const VOID **)Data);
        }
        return WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Hold->Lock, DataSize, Data);
    case WdkmLockKindPushLock:
        if (Hold->Shared) {
            return WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)Hold->Lock, DataSize,
                                             (const VOID **)Data);
        }
        return WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)Hold->Lock, DataSize, Data);
    }
    if (Data != NULL) {
        *Data = NULL;
    }
    return STATUS_INVALID_PARAMETER;
}

/* As WdkmTestKindAcquire: the hold is known only at run time. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
NTSTATUS
WdkmTestKindRelease(
    _Inout_ WDKM_TEST_KIND_HOLD *Hold
    )
{
    switch (Hold->Kind) {
    case WdkmLockKindKMutex:
        return WdkmKMutexRelease((PWDKM_KMUTEX)Hold->Lock);
    case WdkmLockKindFastMutex:
        return WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Hold->Lock);
    case WdkmLockKindSpinLock:
        return WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Hold->Lock, Hold->OldIrql);
    case WdkmLockKindQueuedSpinLock:
        return WdkmQueuedSpinLockRelease(&Hold->Queue);
    case WdkmLockKindGuardedMutex:
        return WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Hold->Lock);
    case WdkmLockKindResource:
        return WdkmResourceRelease((PWDKM_RESOURCE)Hold->Lock);
    case WdkmLockKindPushLock:
        return WdkmPushLockRelease((PWDKM_PUSH_LOCK)Hold->Lock);
    }
    return STATUS_INVALID_PARAMETER;
}
