/*
 * bad_missing_release.c - MUST NOT compile under -Wthread-safety -Werror.
 *
 * The classic leak: an early return on one path forgets the release, and
 * the next acquire deadlocks (KMUTEX: another thread waits forever; the
 * owner's thread exit bugchecks). Each "expect:" comment is a regular
 * expression one of the thread-safety errors must match; there must be no
 * other error (scripts/check-thread-safety.sh).
 */
#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

typedef struct _BAD_STATE {
    ULONG Count;
    ULONG Limit;
} BAD_STATE;

/* The status-in-a-variable form: one path returns with the lock held. */
NTSTATUS
BadAddOne(_Inout_ PWDKM_KMUTEX Lock)
{
    BAD_STATE *State;
    NTSTATUS Status;

    Status = WDKM_KMUTEX_ACQUIRE(Lock, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    if (State->Count == State->Limit) {
        /* expect: mutex 'Lock' is (still held at the end|not held on every path) */
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    State->Count += 1;
    return WdkmKMutexRelease(Lock);
}

/* The call-in-the-condition form, with a spin lock: released on one branch only. */
VOID
BadTick(_Inout_ PWDKM_SPIN_LOCK Lock, _In_ BOOLEAN Reset)
{
    BAD_STATE *State;
    KIRQL OldIrql;

    if (WDKM_ACQUIRED(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &State))) {
        if (Reset) {
            State->Count = 0;
            (VOID)WdkmSpinLockRelease(Lock, OldIrql);
        }
        /* expect: mutex 'Lock' is (still held at the end|not held on every path) */
    }
}

/* A reader that never lets go on the error path of its loop. */
ULONG
BadSumShared(_Inout_ PWDKM_RESOURCE Resource, _In_ ULONG Rounds)
{
    const BAD_STATE *Read;
    ULONG Round;
    ULONG Sum = 0;

    for (Round = 0; Round < Rounds; Round += 1) {
        if (!WDKM_ACQUIRED(WDKM_RESOURCE_ACQUIRE_SHARED(Resource, &Read))) {
            continue;
        }
        if (Read->Count == 0) {
            /* expect: mutex 'Resource' is (still held at the end|not held on every path) */
            break;
        }
        Sum += Read->Count;
        (VOID)WdkmResourceRelease(Resource);
    }
    return Sum;
}

/* A critical region entered, and not left on the error path. */
NTSTATUS
BadRegion(_In_ BOOLEAN Fail)
{
    WDKM_REGION Region;
    NTSTATUS Status;

    Status = WdkmRegionEnterCritical(&Region);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    if (Fail) {
        /* expect: mutex 'Region' is (still held at the end|not held on every path) */
        return STATUS_UNSUCCESSFUL;
    }
    return WdkmRegionLeave(&Region);
}
