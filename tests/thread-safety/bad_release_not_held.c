/*
 * bad_release_not_held.c - MUST NOT compile under -Wthread-safety -Werror.
 *
 * Releases of a lock the code does not hold: at run time the library
 * answers STATUS_WDKM_NOT_HELD or STATUS_WDKM_NOT_OWNER (the kernel would
 * bugcheck); the analysis refuses them at compile time. Each "expect:"
 * comment is a regular expression one of the errors must match; there must
 * be no other error (scripts/check-thread-safety.sh).
 */
#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

typedef struct _BAD_STATE {
    ULONG Count;
} BAD_STATE;

/* Released without ever being acquired. */
VOID
BadReleaseOnly(_Inout_ PWDKM_FAST_MUTEX Lock)
{
    /* expect: releasing mutex 'Lock' that was not held */
    (VOID)WdkmFastMutexRelease(Lock);
}

/* Released on the path where the acquire failed. */
NTSTATUS
BadReleaseOnFailure(_Inout_ PWDKM_KMUTEX Lock)
{
    BAD_STATE *State;
    NTSTATUS Status;

    Status = WDKM_KMUTEX_ACQUIRE(Lock, &State);
    if (WDKM_ACQUIRED(Status)) {
        State->Count += 1;
    }
    /* expect: mutex 'Lock' is not held on every path */
    /* expect: releasing mutex 'Lock' that was not held */
    return WdkmKMutexRelease(Lock);
}

/* Released twice. */
VOID
BadReleaseTwice(_Inout_ PWDKM_GUARDED_MUTEX Lock)
{
    BAD_STATE *State;

    if (WDKM_ACQUIRED(WDKM_GUARDED_MUTEX_ACQUIRE(Lock, &State))) {
        State->Count += 1;
        (VOID)WdkmGuardedMutexRelease(Lock);
        /* expect: releasing mutex 'Lock' that was not held */
        (VOID)WdkmGuardedMutexRelease(Lock);
    }
}

/* Another lock's release: the queued spin lock's hold is its handle. */
VOID
BadReleaseOtherHandle(_Inout_ PWDKM_QUEUED_SPIN_LOCK Lock)
{
    WDKM_LOCK_QUEUE_HANDLE Held;
    WDKM_LOCK_QUEUE_HANDLE Other;
    BAD_STATE *State;

    RtlZeroMemory(&Other, sizeof(Other));
    if (WDKM_ACQUIRED(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Held, &State))) {
        State->Count += 1;
        /* expect: releasing mutex 'Other' that was not held */
        (VOID)WdkmQueuedSpinLockRelease(&Other);
        /* expect: mutex 'Held' is (still held at the end|not held on every path) */
    }
}

/* A region left without having been entered. */
VOID
BadLeaveRegion(VOID)
{
    WDKM_REGION Region;

    RtlZeroMemory(&Region, sizeof(Region));
    /* expect: releasing mutex 'Region' that was not held */
    (VOID)WdkmRegionLeave(&Region);
}
