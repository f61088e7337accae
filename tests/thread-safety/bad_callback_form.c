/*
 * bad_callback_form.c - MUST NOT compile under -Wthread-safety -Werror.
 *
 * A callback form (..._OR_BUGCHECK) holds the lock on return, always: a
 * DPC that takes it and forgets the release on one path is caught as for
 * the plain forms, and so is a second callback-form acquire of a lock the
 * routine already holds (which would stop the system at run time).
 */
#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

typedef struct _BAD_QUEUE {
    ULONG Pending;
} BAD_QUEUE;

VOID
BadDpcForgetsRelease(_Inout_ PWDKM_SPIN_LOCK Lock)
{
    BAD_QUEUE *Queue;

    WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(Lock, &Queue);
    if (Queue->Pending == 0) {
        /* expect: (mutex|spin lock) 'Lock' is (still held at the end|not held on every path) */
        return;
    }
    Queue->Pending -= 1;
    (VOID)WdkmSpinLockReleaseFromDpcLevel(Lock);
}

VOID
BadDpcAcquiresTwice(_Inout_ PWDKM_SPIN_LOCK Lock)
{
    BAD_QUEUE *Queue;
    BAD_QUEUE *Again;

    WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(Lock, &Queue);
    /* expect: acquiring (mutex|spin lock) 'Lock' that is already held */
    WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(Lock, &Again);
    Again->Pending += Queue->Pending;
    (VOID)WdkmSpinLockReleaseFromDpcLevel(Lock);
}
