/*
 * test_diag.c - the checked build's lock-order validation inside a real
 * driver: an ABBA between two system threads, reported before any thread
 * waits. The driver asserts on the structured record; the runner asserts
 * that the report reached the debugger output (each "expect-log:" line
 * below names text scripts/run-driver-tests.sh must find in the log).
 */
#include "wdkm_test.h"

#include <wdkmutex/wdkmutex.h>

typedef struct _VALUE {
    LONG Count;
    LONG Spare[3];
} VALUE;

#if WDKM_CHECKED

static BOOLEAN
SameName(_In_z_ PCSTR Left, _In_z_ PCSTR Right)
{
    while (*Left != '\0' && *Left == *Right) {
        Left += 1;
        Right += 1;
    }
    return *Left == *Right;
}

typedef struct _ABBA {
    PWDKM_FAST_MUTEX First;
    PWDKM_KMUTEX Second;
    BOOLEAN Reversed;              /* take Second, then First */
    NTSTATUS Inner;
} ABBA;

static VOID
TakeBoth(_In_ PWDKM_TEST_THREAD Thread)
{
    ABBA *Abba = (ABBA *)Thread->Context;
    VALUE *Outer;
    VALUE *Inner;
    NTSTATUS Status;

    if (!Abba->Reversed) {
        if (!WDKM_ACQUIRED(WDKM_FAST_MUTEX_ACQUIRE(Abba->First, &Outer))) {
            return;
        }
        /* Tested through a local: clang's analysis does not follow a field. */
        Status = WDKM_KMUTEX_ACQUIRE(Abba->Second, &Inner);
        Abba->Inner = Status;
        if (WDKM_ACQUIRED(Status)) {
            Inner->Count += 1;
            (VOID)WdkmKMutexRelease(Abba->Second);
        }
        Outer->Count += 1;
        (VOID)WdkmFastMutexRelease(Abba->First);
    } else {
        if (!WDKM_ACQUIRED(WDKM_KMUTEX_ACQUIRE(Abba->Second, &Outer))) {
            return;
        }
        Status = WDKM_FAST_MUTEX_ACQUIRE(Abba->First, &Inner);
        Abba->Inner = Status;
        if (WDKM_ACQUIRED(Status)) {
            Inner->Count += 1;
            (VOID)WdkmFastMutexRelease(Abba->First);
        }
        Outer->Count += 1;
        (VOID)WdkmKMutexRelease(Abba->Second);
    }
}

VOID
WdkmTestDiagAbbaReported(_Inout_ PWDKM_TEST Test)
{
    static const VALUE Zero = { 0, { 0, 0, 0 } };
    WDKM_DIAG_VIOLATION Violation;
    WDKM_DIAG_SUMMARY Summary;
    ULONG Before;
    ULONG Count;
    ABBA Abba;

    RtlZeroMemory(&Abba, sizeof(Abba));
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WdkmDiagQueryViolations(NULL, 0, &Before));
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_FAST_MUTEX_CREATE(&Zero, &Abba.First));
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_CREATE(&Zero, &Abba.Second));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmDiagSetClassName(Abba.First, "wine.abba.first"));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmDiagSetClassName(Abba.Second, "wine.abba.second"));

    /* One system thread takes first -> second; a later one second -> first. */
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmTestRunThreads(1, TakeBoth, &Abba, 10000));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Abba.Inner);
    Abba.Reversed = TRUE;
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmTestRunThreads(1, TakeBoth, &Abba, 10000));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Abba.Inner);

    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmDiagQueryViolations(NULL, 0, &Count));
    WDKM_EXPECT_EQ(Test, Count, Before + 1);
    if (Before == 0 && Count == 1) {
        WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmDiagQueryViolations(&Violation, 1, &Count));
        WDKM_EXPECT_EQ(Test, Violation.Type, WdkmDiagLockOrder);
        WDKM_EXPECT_EQ(Test, Violation.CycleLength, 2);
        WDKM_EXPECT(Test, SameName(Violation.Held, "wine.abba.second"));
        WDKM_EXPECT(Test, SameName(Violation.Acquiring, "wine.abba.first"));
    }
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmDiagQuerySummary(&Summary));
    WDKM_EXPECT(Test, Summary.OrderViolations >= 1);

    /* What the runner must find in the captured DbgPrintEx output. */
    WdkmTestLog(Test, "expect-log: wdkmutex: LOCK ORDER VIOLATION: possible deadlock, a cycle of 2 classes");
    WdkmTestLog(Test, "expect-log: wdkmutex:   this thread acquires \"wine.abba.first\" at test_diag.c:");
    WdkmTestLog(Test, "expect-log: wdkmutex:   while holding \"wine.abba.second\", acquired at test_diag.c:");
    WdkmTestLog(Test, "expect-log: wdkmutex:   earlier, \"wine.abba.second\" was acquired at test_diag.c:");

    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmFastMutexDestroy(Abba.First));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexDestroy(Abba.Second));
    /* The table prints whatever the buffer's size (none here). */
    (VOID)WdkmDiagQueryStatistics(NULL, 0, &Count, TRUE);
    WdkmTestLog(Test, "expect-log: wdkmutex: lock statistics, per class");
}

#else

VOID
WdkmTestDiagAbbaReported(_Inout_ PWDKM_TEST Test)
{
    WDKM_EXPECT_STATUS(Test, STATUS_NOT_SUPPORTED, WdkmDiagSetPolicy(WDKM_DIAG_REPORT));
    WDKM_SKIP(Test, "release build: diagnostics are compiled out (the checked test driver runs this)");
}

#endif
