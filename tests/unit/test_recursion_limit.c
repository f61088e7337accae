/*
 * test_recursion_limit.c - the KMUTEX recursion limit gives its status
 * instead of the kernel's exception. Built against a copy of the library
 * compiled with a small WDKM_KMUTEX_MAX_RECURSION, since reaching the real
 * limit takes two billion acquisitions.
 */
#include "wdkm_test.h"

int WdkmTestMain(int argc, char **argv, const WDKM_TEST_SUITE *Suites, ULONG SuiteCount);

static VOID
LimitReturnsStatusAndStaysBalanced(VOID)
{
    LONG Initial = 0;
    PWDKM_KMUTEX Mutex;
    LONG *Data;
    ULONG Depth;

    CHECK(WDKM_KMUTEX_MAX_RECURSION < 100);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    for (Depth = 0; Depth < WDKM_KMUTEX_MAX_RECURSION; Depth += 1) {
        CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    }
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_MUTANT_LIMIT_EXCEEDED);
    CHECK(Data == NULL);
    CHECK_STATUS(WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Data), STATUS_MUTANT_LIMIT_EXCEEDED);
    for (Depth = 0; Depth < WDKM_KMUTEX_MAX_RECURSION; Depth += 1) {
        CHECK(WdkmKMutexIsOwned(Mutex));
        CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    }
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

static const WDKM_TEST_CASE Cases[] = {
    { "limit_returns_status_and_stays_balanced", LimitReturnsStatusAndStaysBalanced },
};

int
main(int argc, char **argv)
{
    const WDKM_TEST_SUITE Suites[] = { WDKM_TEST_SUITE_OF("kmutex_recursion_limit", Cases) };

    return WdkmTestMain(argc, argv, Suites, 1);
}
