/*
 * test_scope.c - the scoped forms: the block runs once with the data, and
 * every way of leaving it that the compiler supports releases the lock.
 */
#include "wdkm_test.h"

typedef struct _COUNTER {
    LONG Value;
} COUNTER;

static VOID
BlockRunsOnceAndReleases(VOID)
{
    COUNTER Initial = { 0 };
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX FastMutex;
    COUNTER *Data = NULL;
    NTSTATUS Status = STATUS_UNSUCCESSFUL;
    int Runs = 0;

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    WDKM_KMUTEX_SCOPED(Mutex, Data, &Status) {
        Runs += 1;
        Data->Value += 1;
        CHECK(WdkmKMutexIsOwned(Mutex));
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Runs, 1);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Mutex, &Initial), STATUS_SUCCESS);
    CHECK_EQ(Initial.Value, 1);

    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex), STATUS_SUCCESS);
    WDKM_FAST_MUTEX_SCOPED(FastMutex, Data, &Status) {
        Runs += 1;
        Data->Value += 1;
        CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Runs, 2);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(FastMutex, &Initial), STATUS_SUCCESS);
    CHECK_EQ(Initial.Value, 2);
}

/* `continue` is the early exit that releases on every compiler. */
static VOID
ContinueReleases(VOID)
{
    COUNTER Initial = { 0 };
    PWDKM_KMUTEX Mutex;
    COUNTER *Data;
    NTSTATUS Status;
    int After = 0;

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    WDKM_KMUTEX_SCOPED(Mutex, Data, &Status) {
        if (Data->Value == 0) {
            continue;
        }
        After += 1;
    }
    CHECK_EQ(After, 0);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

#if WDKM_SCOPE_EXIT_RELEASES
static NTSTATUS
ReturnFromInside(PWDKM_FAST_MUTEX FastMutex)
{
    COUNTER *Data;
    NTSTATUS Status;

    WDKM_FAST_MUTEX_SCOPED(FastMutex, Data, &Status) {
        Data->Value += 10;
        return STATUS_SUCCESS;
    }
    return STATUS_UNSUCCESSFUL;
}

/* GCC and Clang release on break, return and goto too. */
static VOID
BreakReturnAndGotoRelease(VOID)
{
    COUNTER Initial = { 0 };
    PWDKM_FAST_MUTEX FastMutex;
    COUNTER *Data;
    NTSTATUS Status;
    int Loop;

    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex), STATUS_SUCCESS);
    for (Loop = 0; Loop < 3; Loop += 1) {
        WDKM_FAST_MUTEX_SCOPED(FastMutex, Data, &Status) {
            Data->Value += 1;
            break;
        }
    }
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(!WdkmFastMutexIsOwned(FastMutex));

    CHECK_STATUS(ReturnFromInside(FastMutex), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(!WdkmFastMutexIsOwned(FastMutex));

    WDKM_FAST_MUTEX_SCOPED(FastMutex, Data, &Status) {
        Data->Value += 100;
        goto Out;
    }
Out:
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(!WdkmFastMutexIsOwned(FastMutex));
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(FastMutex, &Initial), STATUS_SUCCESS);
    CHECK_EQ(Initial.Value, 3 + 10 + 100);
}
#endif

/* A failed acquisition skips the block and reports why. */
static VOID
FailedAcquireSkipsBlock(VOID)
{
    COUNTER Initial = { 0 };
    PWDKM_KMUTEX Mutex;
    LONGLONG *Wrong;
    COUNTER *Data;
    NTSTATUS Status;
    KIRQL OldIrql;
    int Runs = 0;

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    WDKM_KMUTEX_SCOPED(Mutex, Data, &Status) {
        Runs += 1;
    }
    KeLowerIrql(OldIrql);
    CHECK_EQ(Runs, 0);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    WDKM_KMUTEX_SCOPED(Mutex, Wrong, &Status) {
        Runs += 1;
    }
    CHECK_EQ(Runs, 0);
    CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* A release that fails (the block changed the IRQL) reaches *Status. */
static VOID
FailedReleaseIsReported(VOID)
{
    COUNTER Initial = { 0 };
    PWDKM_FAST_MUTEX FastMutex;
    COUNTER *Data;
    NTSTATUS Status;
    NTSTATUS Release;

    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex), STATUS_SUCCESS);
    WDKM_FAST_MUTEX_SCOPED(FastMutex, Data, &Status) {
        KeLowerIrql(PASSIVE_LEVEL);     /* a bug in the block */
    }
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_MISMATCH);
    CHECK(WdkmFastMutexIsOwned(FastMutex));
    {
        KIRQL OldIrql;
        KeRaiseIrql(APC_LEVEL, &OldIrql);
        Release = WdkmFastMutexRelease(FastMutex);
    }
    CHECK_STATUS(Release, STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
}

/* Code written for the SEH form (WDKM_SCOPED_END after the block) builds
   and behaves the same in the cleanup form. */
static VOID
ScopedEndBuildsInTheCleanupForm(VOID)
{
    COUNTER Initial = { 0 };
    PWDKM_SPIN_LOCK Lock;
    COUNTER *Data;
    NTSTATUS Status;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Initial, &Lock), STATUS_SUCCESS);
    WDKM_SPIN_LOCK_SCOPED(Lock, Data, &Status) {
        Data->Value += 1;
    } WDKM_SCOPED_END
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK(!WdkmSpinLockIsOwned(Lock));
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WDKM_SPIN_LOCK_TAKE(Lock, &Initial), STATUS_SUCCESS);
    CHECK_EQ(Initial.Value, 1);
}

/* A scoped form given no status variable acquires nothing and runs no
   block (reference.md: a NULL output pointer is refused everywhere; the
   status has nowhere to go): the region and registry forms as the kinds'. */
static VOID
NullStatusEntersNothing(VOID)
{
    COUNTER Initial = { 0 };
    COUNTER *Data = (COUNTER *)(ULONG_PTR)1;
    ULONG Ran = 0;

    WDKM_CRITICAL_REGION_SCOPED(NULL) {
        Ran += 1;
    } WDKM_SCOPED_END
    WDKM_GUARDED_REGION_SCOPED(NULL) {
        Ran += 1;
    } WDKM_SCOPED_END
    CHECK_EQ(Ran, 0);
    CHECK(!KeAreAllApcsDisabled());             /* no region left entered */

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("scope.null_status", &Initial), STATUS_SUCCESS);
    WDKM_GRT_FAST_MUTEX_SCOPED("scope.null_status", Data, NULL) {
        Ran += 1;
    } WDKM_SCOPED_END
    CHECK_EQ(Ran, 0);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

static const WDKM_TEST_CASE ScopeCases[] = {
    { "null_status_enters_nothing", NullStatusEntersNothing },
    { "scoped_end_builds_in_the_cleanup_form", ScopedEndBuildsInTheCleanupForm },
    { "block_runs_once_and_releases", BlockRunsOnceAndReleases },
    { "continue_releases", ContinueReleases },
#if WDKM_SCOPE_EXIT_RELEASES
    { "break_return_and_goto_release", BreakReturnAndGotoRelease },
#endif
    { "failed_acquire_skips_block", FailedAcquireSkipsBlock },
    { "failed_release_is_reported", FailedReleaseIsReported },
};

const WDKM_TEST_SUITE WdkmScopeSuite = WDKM_TEST_SUITE_OF("scope", ScopeCases);
