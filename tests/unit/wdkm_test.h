/*
 * wdkm_test.h - the small framework of the host unit tests.
 *
 * A test is a function registered in its file's table; a failed CHECK
 * records the file, line and expression and ends the test. The runner
 * prints one line per test and closes with "N passed, N failed". Tests
 * use the kernel API of the host emulation exactly as a driver would
 * (PsCreateSystemThread, KeRaiseIrql, ...), plus the emulation's
 * WdkmHost* controls.
 */
#ifndef WDKM_TEST_H
#define WDKM_TEST_H

#include <wdkmutex/wdkmutex.h>
#include <wdkm_host.h>

typedef VOID WDKM_TEST_ROUTINE(VOID);

typedef struct _WDKM_TEST_CASE {
    PCSTR Name;
    WDKM_TEST_ROUTINE *Routine;
} WDKM_TEST_CASE;

typedef struct _WDKM_TEST_SUITE {
    PCSTR Name;
    const WDKM_TEST_CASE *Cases;
    ULONG Count;
    WDKM_TEST_ROUTINE *Cleanup;   /* after each test, so a failure stays local */
} WDKM_TEST_SUITE;

#define WDKM_TEST_SUITE_OF(SuiteName, CaseArray) \
    { SuiteName, CaseArray, (ULONG)(sizeof(CaseArray) / sizeof((CaseArray)[0])), NULL }
#define WDKM_TEST_SUITE_WITH_CLEANUP(SuiteName, CaseArray, CleanupRoutine) \
    { SuiteName, CaseArray, (ULONG)(sizeof(CaseArray) / sizeof((CaseArray)[0])), CleanupRoutine }

/* Records a failure of the running test; returns FALSE for the macros. */
BOOLEAN WdkmTestFail(PCSTR File, int Line, PCSTR Format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define CHECK(Condition)                                                   \
    do {                                                                   \
        if (!(Condition)) {                                                \
            WdkmTestFail(__FILE__, __LINE__, "CHECK(%s)", #Condition);     \
            return;                                                        \
        }                                                                  \
    } while (0)

#define CHECK_STATUS(Expression, Expected)                                 \
    do {                                                                   \
        NTSTATUS WdkmTestActual_ = (Expression);                           \
        NTSTATUS WdkmTestExpected_ = (Expected);                           \
        if (WdkmTestActual_ != WdkmTestExpected_) {                        \
            WdkmTestFail(__FILE__, __LINE__, "%s returned %s (0x%08X), expected %s", \
                         #Expression, WdkmStatusName(WdkmTestActual_),     \
                         (unsigned)WdkmTestActual_,                        \
                         WdkmStatusName(WdkmTestExpected_));               \
            return;                                                        \
        }                                                                  \
    } while (0)

#define CHECK_EQ(Actual, Expected)                                         \
    do {                                                                   \
        long long WdkmTestA_ = (long long)(Actual);                        \
        long long WdkmTestE_ = (long long)(Expected);                      \
        if (WdkmTestA_ != WdkmTestE_) {                                    \
            WdkmTestFail(__FILE__, __LINE__, "%s == %lld, expected %lld",  \
                         #Actual, WdkmTestA_, WdkmTestE_);                 \
            return;                                                        \
        }                                                                  \
    } while (0)

/*
 * Runs Routine(Context, Index) on Count system threads (PsCreateSystemThread)
 * and waits for all of them. Returns FALSE if a thread could not be made.
 */
typedef VOID WDKM_TEST_THREAD_ROUTINE(PVOID Context, ULONG Index);

BOOLEAN
WdkmTestRunThreads(
    ULONG Count,
    WDKM_TEST_THREAD_ROUTINE *Routine,
    PVOID Context
    );

/* A thread started now and joined later (for tests that interleave). */
typedef struct _WDKM_TEST_THREAD WDKM_TEST_THREAD;

WDKM_TEST_THREAD *
WdkmTestStartThread(
    WDKM_TEST_THREAD_ROUTINE *Routine,
    PVOID Context
    );

/* The thread's KTHREAD, to alert it or queue it an APC. */
PKTHREAD
WdkmTestThreadObject(
    WDKM_TEST_THREAD *Thread
    );

VOID
WdkmTestJoinThread(
    WDKM_TEST_THREAD *Thread
    );

/* Sleep the calling thread (KeDelayExecutionThread). */
VOID
WdkmTestSleepMs(
    ULONG Milliseconds
    );

/* Milliseconds from an arbitrary origin (KeQueryPerformanceCounter). */
LONGLONG
WdkmTestNowMs(
    VOID
    );

/*
 * A give-up deadline Milliseconds from now, stretched by the runner's
 * WDKM_TEST_TIME_SCALE (1 unless set; run-memcheck.sh sets it, valgrind
 * running the program some 20-50 times slower). For bounds that only end a
 * wait for something that should come much sooner, never for windows a
 * test counts events in or for timing claims.
 */
LONGLONG
WdkmTestDeadlineMs(
    ULONG Milliseconds
    );

/* Milliseconds times WDKM_TEST_TIME_SCALE: the same, as a length. */
LONGLONG
WdkmTestScaledMs(
    ULONG Milliseconds
    );

/* Called after each test when set (the interrupt action set): returns
   failures to charge to the test that just ran. */
extern ULONG (*WdkmTestAfterEachTest)(VOID);

/* Library blocks the test framework itself keeps (the interrupt action
   set's locks): WdkmTestPoolOutstanding leaves them out. */
extern LONG WdkmTestPoolBaseline;

/* Blocks outstanding under the library's pool tag, the framework's own
   (WdkmTestPoolBaseline) left out. */
LONG
WdkmTestPoolOutstanding(
    VOID
    );

#endif /* WDKM_TEST_H */
