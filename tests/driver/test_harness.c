/*
 * test_harness.c - tests of the harness itself, on raw kernel APIs only.
 *
 * They prove, before any library test runs, that under this kernel the
 * formatter and the check macros report what they should, that the clock
 * and delays work, and that system threads really run concurrently, can be
 * joined, serialise on KMUTEX and FAST_MUTEX, and honour a join timeout.
 */
#include "wdkm_test.h"

/* ------------------------------------------------------------------------ */

static BOOLEAN WdkmpStringEqual(_In_z_ PCSTR Left, _In_z_ PCSTR Right)
{
    while (*Left != '\0' && *Left == *Right) {
        Left++;
        Right++;
    }
    return (BOOLEAN)(*Left == *Right);
}

static BOOLEAN WdkmpStringContains(_In_z_ PCSTR Text, _In_z_ PCSTR Part)
{
    PCSTR start;
    ULONG i;

    for (start = Text; *start != '\0'; start++) {
        for (i = 0; Part[i] != '\0' && start[i] == Part[i]; i++) {
        }
        if (Part[i] == '\0') {
            return TRUE;
        }
    }
    return (BOOLEAN)(Part[0] == '\0');
}

/* Formats and compares with Expected; on a mismatch, reports both. */
static VOID WdkmpExpectFormat(_Inout_ PWDKM_TEST Test, _In_ ULONG Line, _In_z_ PCSTR Expected,
                              _In_z_ PCSTR Actual)
{
    if (!WdkmpStringEqual(Expected, Actual)) {
        WdkmTestFail(Test, STATUS_UNSUCCESSFUL, __FILE__, Line, "formatted \"%s\", expected \"%s\"",
                     Actual, Expected);
    }
}

VOID WdkmTestHarnessFormat(PWDKM_TEST Test)
{
    CHAR buffer[96];
    CHAR small[16];
    PCSTR nothing = NULL;
    volatile PCSTR nullString = nothing;
    NTSTATUS status;
    ULONG i;

    WdkmTestFormat(buffer, sizeof(buffer), "%d|%i|%u|%x|%X|%c|%%", -42, 7, 42u, 0xbeefu, 0xbeefu,
                   'z');
    WdkmpExpectFormat(Test, __LINE__, "-42|7|42|beef|BEEF|z|%", buffer);

    WdkmTestFormat(buffer, sizeof(buffer), "%ld|%lu|%lX", (LONG)-2147483647 - 1, (ULONG)4294967295u,
                   (ULONG)STATUS_TIMEOUT);
    WdkmpExpectFormat(Test, __LINE__, "-2147483648|4294967295|102", buffer);

    WdkmTestFormat(buffer, sizeof(buffer), "%lld|%llu|%zu", (LONG64)(-9223372036854775807ll - 1),
                   18446744073709551615ull, (SIZE_T)12345);
    WdkmpExpectFormat(Test, __LINE__, "-9223372036854775808|18446744073709551615|12345", buffer);

    WdkmTestFormat(buffer, sizeof(buffer), "[%5d|%-5d|%05d|%08lX|%.3u|%*d]", 42, 42, -42,
                   (ULONG)0xC0000001u, 7u, 4, 9);
    WdkmpExpectFormat(Test, __LINE__, "[   42|42   |-0042|C0000001|007|   9]", buffer);

    WdkmTestFormat(buffer, sizeof(buffer), "%.3s|%-4s|%4s|%s|%ls", "abcdef", "ab", "ab",
                   nullString, L"wide");
    WdkmpExpectFormat(Test, __LINE__, "abc|ab  |  ab|(null)|wide", buffer);

    WdkmTestFormat(buffer, sizeof(buffer), "%p", (PVOID)(ULONG_PTR)0x1234);
    WdkmpExpectFormat(Test, __LINE__, "0000000000001234", buffer);

    /* Bounded: 7 characters and the NUL in 8 bytes, the rest untouched. */
    for (i = 0; i < sizeof(small); i++) {
        small[i] = '#';
    }
    status = WdkmTestFormat(small, 8, "%s", "0123456789");
    WDKM_EXPECT_STATUS(Test, STATUS_BUFFER_OVERFLOW, status);
    WdkmpExpectFormat(Test, __LINE__, "0123456", small);
    for (i = 8; i < sizeof(small); i++) {
        WDKM_EXPECT_EQ(Test, small[i], '#');
    }
    status = WdkmTestFormat(small, 1, "%d", 5);
    WDKM_EXPECT_STATUS(Test, STATUS_BUFFER_OVERFLOW, status);
    WDKM_EXPECT_EQ(Test, small[0], '\0');
    status = WdkmTestFormat(small, sizeof(small), "fits");
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, status);
}

/* ------------------------------------------------------------------------ */

VOID WdkmTestHarnessCheckReportsFailure(PWDKM_TEST Test)
{
    WDKM_TEST_RESULT scratchResult;
    WDKM_TEST scratch;
    CHAR lineText[16];
    ULONG failingLine;
    LONG value = 1499;
    BOOLEAN passed;

    RtlZeroMemory(&scratchResult, sizeof(scratchResult));
    scratch.Name = "harness_check_reports_failure (deliberate failures)";
    scratch.Result = &scratchResult;
    scratch.Skipped = FALSE;
    scratch.ExpectFailures = TRUE;

    /* Passing checks record nothing and answer TRUE. */
    WDKM_EXPECT(Test, WDKM_EXPECT_EQ(&scratch, value, 1499));
    WDKM_EXPECT(Test, WDKM_EXPECT_SUCCESS(&scratch, STATUS_SUCCESS));
    WDKM_EXPECT(Test, WDKM_EXPECT_NOT_NULL(&scratch, &value));
    WDKM_CHECK_EQ(Test, scratchResult.FailedChecks, 0);

    /* The first failure gives the message: file, line, expression, values. */
    failingLine = __LINE__ + 1;
    passed = WDKM_EXPECT_EQ(&scratch, value, 1500);
    WDKM_EXPECT(Test, !passed);
    WDKM_EXPECT_EQ(Test, scratchResult.FailedChecks, 1);
    WdkmTestFormat(lineText, sizeof(lineText), ":%lu:", failingLine);
    WDKM_EXPECT(Test, WdkmpStringContains(scratchResult.Message, "test_harness.c"));
    WDKM_EXPECT(Test, WdkmpStringContains(scratchResult.Message, lineText));
    WDKM_EXPECT(Test, WdkmpStringContains(scratchResult.Message, "value == 1500"));
    WDKM_EXPECT(Test, WdkmpStringContains(scratchResult.Message, "(1499 vs 1500)"));
    WDKM_EXPECT(Test, !WdkmpStringContains(scratchResult.Message, "/"));

    /* Later failures are counted; the message and status stay the first's. */
    WDKM_EXPECT(Test, !WDKM_EXPECT_STATUS(&scratch, STATUS_SUCCESS, STATUS_TIMEOUT));
    WDKM_EXPECT_EQ(Test, scratchResult.FailedChecks, 2);
    WDKM_EXPECT(Test, WdkmpStringContains(scratchResult.Message, "(1499 vs 1500)"));
    WDKM_EXPECT_EQ_HEX(Test, (ULONG)scratchResult.Status, (ULONG)STATUS_UNSUCCESSFUL);

    /* A status failure carries the status and shows it in hex. */
    RtlZeroMemory(&scratchResult, sizeof(scratchResult));
    WDKM_EXPECT(Test, !WDKM_EXPECT_SUCCESS(&scratch, STATUS_ACCESS_DENIED));
    WDKM_EXPECT_EQ_HEX(Test, (ULONG)scratchResult.Status, (ULONG)STATUS_ACCESS_DENIED);
    WDKM_EXPECT(Test, WdkmpStringContains(scratchResult.Message, "0xC0000022"));

    /* Skipping after a failure does not hide it. */
    WdkmTestSkip(&scratch, "reason %d", 1);
    WDKM_EXPECT(Test, scratch.Skipped);
    WDKM_EXPECT(Test, WdkmpStringContains(scratchResult.Message, "0xC0000022"));
}

/* ------------------------------------------------------------------------ */

VOID WdkmTestHarnessClockAndDelay(PWDKM_TEST Test)
{
    ULONG64 start = WdkmTestMicroseconds();
    ULONG64 elapsed;

    WdkmTestSleep(20);
    elapsed = WdkmTestMicroseconds() - start;
    /* A relative delay never ends early (allow the clock's granularity). */
    WDKM_EXPECT_GE(Test, elapsed, 15000);
    WDKM_EXPECT_LT(Test, elapsed, 5000000);
}

/* ------------------------------------------------------------------------ */

typedef struct _WDKM_BARRIER_CONTEXT {
    volatile LONG Arrived;
    volatile LONG SawEveryone;
} WDKM_BARRIER_CONTEXT;

/* Each thread waits until all have arrived: only true concurrency passes. */
static WDKM_TEST_THREAD_ROUTINE WdkmpBarrierThread;
static VOID WdkmpBarrierThread(PWDKM_TEST_THREAD Thread)
{
    WDKM_BARRIER_CONTEXT *context = (WDKM_BARRIER_CONTEXT *)Thread->Context;

    InterlockedIncrement(&context->Arrived);
    while (InterlockedCompareExchange(&context->Arrived, 0, 0) < (LONG)Thread->Count) {
        if (WdkmTestThreadShouldStop(Thread)) {
            return;
        }
        WdkmTestSleep(1);
    }
    InterlockedIncrement(&context->SawEveryone);
}

VOID WdkmTestHarnessThreadsRunConcurrently(PWDKM_TEST Test)
{
    WDKM_BARRIER_CONTEXT context;

    RtlZeroMemory(&context, sizeof(context));
    WDKM_CHECK_SUCCESS(Test, WdkmTestRunThreads(8, WdkmpBarrierThread, &context, 30000));
    WDKM_EXPECT_EQ(Test, context.Arrived, 8);
    WDKM_EXPECT_EQ(Test, context.SawEveryone, 8);
}

/* ------------------------------------------------------------------------ */

#define WDKM_HARNESS_KMUTEX_THREADS 3
#define WDKM_HARNESS_KMUTEX_ROUNDS 500

typedef struct _WDKM_COUNTER_CONTEXT {
    KMUTEX Mutex;
    FAST_MUTEX FastMutex;
    ULONG Rounds;
    volatile LONG Counter;    /* plain read-modify-write under the lock */
    volatile LONG Inside;     /* threads inside the critical section */
    volatile LONG MaxInside;
    volatile LONG WaitFailures;
    volatile LONG LastWaitStatus;  /* of the last failed wait */
    volatile LONG AbandonedWaits;  /* waits that returned STATUS_ABANDONED */
} WDKM_COUNTER_CONTEXT;

/* Called with the lock held: a deliberately non-atomic increment. */
static VOID WdkmpCounterCriticalSection(_Inout_ WDKM_COUNTER_CONTEXT *Context)
{
    LONG inside = InterlockedIncrement(&Context->Inside);
    LONG value;

    if (inside > Context->MaxInside) {
        InterlockedExchange(&Context->MaxInside, inside);
    }
    value = Context->Counter;
    if ((value & 63) == 0) {
        WdkmTestSleep(0); /* invite a preemption inside the lock */
    }
    Context->Counter = value + 1;
    InterlockedDecrement(&Context->Inside);
}

static WDKM_TEST_THREAD_ROUTINE WdkmpKmutexThread;
static VOID WdkmpKmutexThread(PWDKM_TEST_THREAD Thread)
{
    WDKM_COUNTER_CONTEXT *context = (WDKM_COUNTER_CONTEXT *)Thread->Context;
    NTSTATUS status;
    ULONG i;

    for (i = 0; i < context->Rounds && !WdkmTestThreadShouldStop(Thread); i++) {
        status = KeWaitForSingleObject(&context->Mutex, Executive, KernelMode, FALSE, NULL);
        if (status == STATUS_ABANDONED) {
            /*
             * The wait succeeded and the mutex is ours, but its previous
             * owner "exited holding it". Never on Windows (a thread that
             * exits holding a KMUTEX bugchecks), but Wine 8 says so to the
             * next waiter whenever a thread that used the contended mutex
             * exits, although it released it (see WdkmTestHarnessSystemThreads).
             */
            InterlockedIncrement(&context->AbandonedWaits);
        } else if (status != STATUS_SUCCESS) {
            InterlockedIncrement(&context->WaitFailures);
            InterlockedExchange(&context->LastWaitStatus, status);
            continue;
        }
        WdkmpCounterCriticalSection(context);
        KeReleaseMutex(&context->Mutex, FALSE);
    }
}

/*
 * 3 threads x 500 increments under a raw KMUTEX, joined: exactly 1500.
 *
 * Wine 8 quirk: once a KMUTEX is contended, Wine backs it with a Win32
 * mutex that KeReleaseMutex never releases while others wait on it, so the
 * thread that got it first keeps getting it until it exits; the next
 * waiter then sees STATUS_ABANDONED. Mutual exclusion still holds (checked
 * below), the threads just take turns for their whole lifetimes. The number
 * of abandoned waits is logged, not failed.
 */
VOID WdkmTestHarnessSystemThreads(PWDKM_TEST Test)
{
    WDKM_COUNTER_CONTEXT context;

    RtlZeroMemory(&context, sizeof(context));
    KeInitializeMutex(&context.Mutex, 0);
    context.Rounds = WDKM_HARNESS_KMUTEX_ROUNDS;

    WDKM_CHECK_SUCCESS(Test, WdkmTestRunThreads(WDKM_HARNESS_KMUTEX_THREADS, WdkmpKmutexThread,
                                                &context, 60000));
    WDKM_EXPECT_EQ(Test, context.WaitFailures, 0);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, context.LastWaitStatus);
    WDKM_EXPECT_EQ(Test, context.Counter, WDKM_HARNESS_KMUTEX_THREADS * WDKM_HARNESS_KMUTEX_ROUNDS);
    WDKM_EXPECT_EQ(Test, context.MaxInside, 1);
    if (context.AbandonedWaits != 0) {
        WdkmTestLog(Test, "%ld KMUTEX waits returned STATUS_ABANDONED (a Wine quirk)",
                    context.AbandonedWaits);
    }
}

/* ------------------------------------------------------------------------ */

static WDKM_TEST_THREAD_ROUTINE WdkmpFastMutexThread;
static VOID WdkmpFastMutexThread(PWDKM_TEST_THREAD Thread)
{
    WDKM_COUNTER_CONTEXT *context = (WDKM_COUNTER_CONTEXT *)Thread->Context;
    ULONG i;

    for (i = 0; i < context->Rounds && !WdkmTestThreadShouldStop(Thread); i++) {
        ExAcquireFastMutex(&context->FastMutex);
        WdkmpCounterCriticalSection(context);
        ExReleaseFastMutex(&context->FastMutex);
    }
}

VOID WdkmTestHarnessFastMutexThreads(PWDKM_TEST Test)
{
    WDKM_COUNTER_CONTEXT context;

    RtlZeroMemory(&context, sizeof(context));
    ExInitializeFastMutex(&context.FastMutex);
    context.Rounds = 1000;

    WDKM_CHECK_SUCCESS(Test, WdkmTestRunThreads(4, WdkmpFastMutexThread, &context, 60000));
    WDKM_EXPECT_EQ(Test, context.Counter, 4 * 1000);
    WDKM_EXPECT_EQ(Test, context.MaxInside, 1);
}

/* ------------------------------------------------------------------------ */

typedef struct _WDKM_TIMEOUT_CONTEXT {
    volatile LONG Started;
    volatile LONG Stopped;
} WDKM_TIMEOUT_CONTEXT;

/* Runs until asked to stop: the join can only end by timing out. */
static WDKM_TEST_THREAD_ROUTINE WdkmpUntilStoppedThread;
static VOID WdkmpUntilStoppedThread(PWDKM_TEST_THREAD Thread)
{
    WDKM_TIMEOUT_CONTEXT *context = (WDKM_TIMEOUT_CONTEXT *)Thread->Context;

    InterlockedIncrement(&context->Started);
    while (!WdkmTestThreadShouldStop(Thread)) {
        WdkmTestSleep(1);
    }
    InterlockedIncrement(&context->Stopped);
}

VOID WdkmTestHarnessThreadTimeout(PWDKM_TEST Test)
{
    WDKM_TIMEOUT_CONTEXT context;
    ULONG64 start;
    ULONG64 elapsed;
    NTSTATUS status;

    RtlZeroMemory(&context, sizeof(context));
    start = WdkmTestMicroseconds();
    status = WdkmTestRunThreads(2, WdkmpUntilStoppedThread, &context, 200);
    elapsed = WdkmTestMicroseconds() - start;

    WDKM_EXPECT_STATUS(Test, STATUS_TIMEOUT, status);
    WDKM_EXPECT_EQ(Test, context.Started, 2);
    WDKM_EXPECT_EQ(Test, context.Stopped, 2); /* joined after the stop request */
    WDKM_EXPECT_GE(Test, elapsed, 150000);
    WDKM_EXPECT_LT(Test, elapsed, 5000000);
}
