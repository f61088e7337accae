/*
 * bad_lifetime.c - MUST NOT compile under -Wthread-safety -Werror.
 *
 * Acquiring a non-recursive lock its owner holds deadlocks in the kernel
 * (the library answers STATUS_POSSIBLE_DEADLOCK), and destroying or taking
 * a held lock frees memory in use (STATUS_WDKM_LOCK_HELD). Each "expect:"
 * comment is a regular expression one of the errors must match; there must
 * be no other error (scripts/check-thread-safety.sh).
 */
#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

typedef struct _BAD_STATE {
    ULONG Count;
} BAD_STATE;

/* The owner acquires its FAST_MUTEX again: the kernel would hang here. */
VOID
BadAcquireTwice(_Inout_ PWDKM_FAST_MUTEX Lock)
{
    BAD_STATE *State;
    BAD_STATE *Again;

    if (!WDKM_ACQUIRED(WDKM_FAST_MUTEX_ACQUIRE(Lock, &State))) {
        return;
    }
    /* expect: acquiring mutex 'Lock' that is already held */
    if (WDKM_ACQUIRED(WDKM_FAST_MUTEX_ACQUIRE(Lock, &Again))) {
        Again->Count += 1;
    }
    (VOID)WdkmFastMutexRelease(Lock);
}

/* Take (copy out and free) while holding the lock. */
NTSTATUS
BadTakeHeld(_Inout_ PWDKM_SPIN_LOCK Lock, _Out_ BAD_STATE *Final)
{
    BAD_STATE *State;
    NTSTATUS Status;
    KIRQL OldIrql;

    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    State->Count += 1;
    /* expect: cannot call function 'WdkmSpinLockTake' while mutex 'Lock' is held */
    Status = WDKM_SPIN_LOCK_TAKE(Lock, Final);
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    return Status;
}

/* Destroy while holding the lock. */
VOID
BadDestroyHeld(_Inout_ PWDKM_PUSH_LOCK Lock)
{
    BAD_STATE *State;

    if (WDKM_ACQUIRED(WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(Lock, &State))) {
        /* expect: cannot call function 'WdkmPushLockDestroy' while mutex 'Lock' is held */
        (VOID)WdkmPushLockDestroy(Lock);
        (VOID)WdkmPushLockRelease(Lock);
    }
}
