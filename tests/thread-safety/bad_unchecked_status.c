/*
 * bad_unchecked_status.c - MUST NOT compile under -Wthread-safety -Werror.
 *
 * An acquire holds the lock only when it returns STATUS_SUCCESS. Code that
 * does not look, or looks with NT_SUCCESS (TRUE for STATUS_TIMEOUT,
 * STATUS_ALERTED and STATUS_USER_APC as well), releases a lock it may not
 * hold and touches data it may not own: the analysis treats the lock as not
 * acquired. Each "expect:" comment is a regular expression one of the
 * errors must match; there must be no other error
 * (scripts/check-thread-safety.sh).
 */
#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

typedef struct _BAD_STATE {
    ULONG Count;
} BAD_STATE;

/* The status is never tested. */
VOID
BadIgnored(_Inout_ PWDKM_KMUTEX Lock)
{
    BAD_STATE *State;
    NTSTATUS Status;

    Status = WDKM_KMUTEX_TRY_ACQUIRE(Lock, &State);
    UNREFERENCED_PARAMETER(Status);
    State->Count += 1;
    /* expect: releasing mutex 'Lock' that was not held */
    (VOID)WdkmKMutexRelease(Lock);
}

/* NT_SUCCESS is not "acquired": a timed-out wait passes it. */
VOID
BadNtSuccess(_Inout_ PWDKM_KMUTEX Lock)
{
    LARGE_INTEGER Timeout;
    BAD_STATE *State;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(10);
    if (NT_SUCCESS(WDKM_KMUTEX_ACQUIRE_TIMEOUT(Lock, &Timeout, &State))) {
        State->Count += 1;
        /* expect: releasing mutex 'Lock' that was not held */
        (VOID)WdkmKMutexRelease(Lock);
    }
}
