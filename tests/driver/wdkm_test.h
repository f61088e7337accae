/*
 * wdkm_test.h - the in-driver test framework: what a test file includes.
 *
 * A test is a function run at PASSIVE_LEVEL in a system context (the
 * driver's IRP_MJ_DEVICE_CONTROL dispatch routine), one test at a time:
 *
 *     #include "wdkm_test.h"
 *
 *     VOID WdkmTestKmutexRecursion(_Inout_ PWDKM_TEST Test)
 *     {
 *         KMUTEX mutex;
 *         KeInitializeMutex(&mutex, 0);
 *         WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, KeWaitForSingleObject(
 *                               &mutex, Executive, KernelMode, FALSE, NULL));
 *         WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, KeWaitForSingleObject(
 *                               &mutex, Executive, KernelMode, FALSE, NULL));
 *         WDKM_EXPECT_EQ(Test, KeReleaseMutex(&mutex, FALSE), -1);
 *         WDKM_EXPECT_EQ(Test, KeReleaseMutex(&mutex, FALSE), 0);
 *     }
 *
 * and is registered with one line in wdkm_test_list.h:
 *
 *     WDKM_TEST_ENTRY(kmutex_recursion, WdkmTestKmutexRecursion)
 *
 * Outcome: PASSED unless a check failed (FAILED, with the first failure's
 * file:line and values as the message) or the test called WDKM_SKIP
 * (SKIPPED, with its reason). Skip only for a real reason, e.g. a kernel
 * function this kernel does not export; never to hide a failure (a test
 * that failed a check before skipping is reported FAILED).
 *
 * Checks. Every macro takes the test first and evaluates each argument
 * exactly once.
 *   WDKM_EXPECT_*  records a failure and continues; it is an expression
 *                  whose value is TRUE when the check passed, so cleanup
 *                  can follow:   if (!WDKM_EXPECT_SUCCESS(Test, s)) goto Out;
 *   WDKM_CHECK_*   records a failure and returns from the (VOID) function.
 *
 *   _(T, Condition)            any condition
 *   _EQ/_NE/_LT/_LE/_GT/_GE(T, Left, Right)
 *                              integers, compared and printed as LONG64
 *   _EQ_HEX/_NE_HEX(T, Left, Right)
 *                              unsigned 64-bit values, printed in hex
 *   _PTR_EQ/_PTR_NE(T, Left, Right), _NULL/_NOT_NULL(T, Pointer)
 *   _STATUS(T, Expected, Actual)   an exact NTSTATUS
 *   _SUCCESS(T, Status)            NT_SUCCESS(Status)
 *
 *   WDKM_FAIL(T, Format, ...)  records a failure with a formatted message
 *   WDKM_SKIP(T, Format, ...)  marks the test skipped and returns
 *   WdkmTestLog(T, Format, ...) a DbgPrintEx line (in wine-debug.log)
 *
 * Formats are those of wdkm_test_format.h (C99 printf, checked by the
 * compiler): %ld/%lu/%lX for LONG/ULONG/NTSTATUS, %lld/%llu for 64-bit.
 *
 * System threads: WdkmTestRunThreads(Count, Routine, Context, TimeoutMs)
 * runs Count system threads on Routine, releases them together and joins
 * them all (see below).
 *
 * Not for use from library code (src/): these names are test-only.
 */
#ifndef WDKM_TEST_H
#define WDKM_TEST_H

#include <ntddk.h>

#include "wdkm_test_format.h"
#include "wdkm_test_ioctl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Annotations that some header sets (mingw-w64's) leave undefined. */
#ifndef _Dispatch_type_
#define _Dispatch_type_(Major)
#endif
#ifndef _IRQL_requires_
#define _IRQL_requires_(Irql)
#endif
#ifndef _IRQL_requires_max_
#define _IRQL_requires_max_(Irql)
#endif

/* Pool tag of everything the framework and the tests allocate: "WdTs". */
#define WDKM_TEST_POOL_TAG ((ULONG)'sTdW')

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

/* The running test. Tests only pass it on to the macros and helpers. */
typedef struct _WDKM_TEST {
    PCSTR Name;                /* the registered name */
    PWDKM_TEST_RESULT Result;  /* what the runner receives */
    BOOLEAN Skipped;
    BOOLEAN ExpectFailures;    /* the framework's self-tests: failures are
                                  logged at info level, not as errors */
} WDKM_TEST, *PWDKM_TEST;

/* The prototype of every test. Runs at PASSIVE_LEVEL. */
typedef VOID WDKM_TEST_ROUTINE(_Inout_ PWDKM_TEST Test);
typedef WDKM_TEST_ROUTINE *PWDKM_TEST_ROUTINE;

/* ------------------------------------------------------------------------
 * Checks (use the macros; the functions are their implementation)
 * ------------------------------------------------------------------------ */

typedef enum _WDKM_TEST_COMPARISON {
    WdkmTestEqual,
    WdkmTestNotEqual,
    WdkmTestLess,
    WdkmTestLessOrEqual,
    WdkmTestGreater,
    WdkmTestGreaterOrEqual
} WDKM_TEST_COMPARISON;

BOOLEAN WdkmTestCheck(_Inout_ PWDKM_TEST Test, _In_ BOOLEAN Passed, _In_z_ PCSTR Text,
                      _In_z_ PCSTR File, _In_ ULONG Line);
BOOLEAN WdkmTestCheckSigned(_Inout_ PWDKM_TEST Test, _In_ WDKM_TEST_COMPARISON Comparison,
                            _In_ LONG64 Left, _In_ LONG64 Right, _In_z_ PCSTR LeftText,
                            _In_z_ PCSTR RightText, _In_z_ PCSTR File, _In_ ULONG Line);
BOOLEAN WdkmTestCheckHex(_Inout_ PWDKM_TEST Test, _In_ WDKM_TEST_COMPARISON Comparison,
                         _In_ ULONG64 Left, _In_ ULONG64 Right, _In_z_ PCSTR LeftText,
                         _In_z_ PCSTR RightText, _In_z_ PCSTR File, _In_ ULONG Line);
BOOLEAN WdkmTestCheckPointer(_Inout_ PWDKM_TEST Test, _In_ WDKM_TEST_COMPARISON Comparison,
                             _In_opt_ const volatile void *Left,
                             _In_opt_ const volatile void *Right, _In_z_ PCSTR LeftText,
                             _In_z_ PCSTR RightText, _In_z_ PCSTR File, _In_ ULONG Line);
BOOLEAN WdkmTestCheckStatus(_Inout_ PWDKM_TEST Test, _In_ NTSTATUS Expected,
                            _In_ NTSTATUS Actual, _In_z_ PCSTR ActualText, _In_z_ PCSTR File,
                            _In_ ULONG Line);
BOOLEAN WdkmTestCheckSuccess(_Inout_ PWDKM_TEST Test, _In_ NTSTATUS Actual,
                             _In_z_ PCSTR ActualText, _In_z_ PCSTR File, _In_ ULONG Line);
VOID WdkmTestFail(_Inout_ PWDKM_TEST Test, _In_ NTSTATUS Status, _In_z_ PCSTR File,
                  _In_ ULONG Line, _In_z_ _Printf_format_string_ PCSTR Format, ...)
    WDKM_TEST_PRINTF(5, 6);
VOID WdkmTestSkip(_Inout_ PWDKM_TEST Test, _In_z_ _Printf_format_string_ PCSTR Format, ...)
    WDKM_TEST_PRINTF(2, 3);
VOID WdkmTestLog(_In_ PWDKM_TEST Test, _In_z_ _Printf_format_string_ PCSTR Format, ...)
    WDKM_TEST_PRINTF(2, 3);

#define WDKM_EXPECT(T, Condition) \
    WdkmTestCheck((T), (Condition) ? TRUE : FALSE, #Condition, __FILE__, __LINE__)

#define WDKM_TEST_EXPECT_SIGNED_(T, Comparison, L, R) \
    WdkmTestCheckSigned((T), (Comparison), (LONG64)(L), (LONG64)(R), #L, #R, __FILE__, __LINE__)
#define WDKM_EXPECT_EQ(T, L, R) WDKM_TEST_EXPECT_SIGNED_(T, WdkmTestEqual, L, R)
#define WDKM_EXPECT_NE(T, L, R) WDKM_TEST_EXPECT_SIGNED_(T, WdkmTestNotEqual, L, R)
#define WDKM_EXPECT_LT(T, L, R) WDKM_TEST_EXPECT_SIGNED_(T, WdkmTestLess, L, R)
#define WDKM_EXPECT_LE(T, L, R) WDKM_TEST_EXPECT_SIGNED_(T, WdkmTestLessOrEqual, L, R)
#define WDKM_EXPECT_GT(T, L, R) WDKM_TEST_EXPECT_SIGNED_(T, WdkmTestGreater, L, R)
#define WDKM_EXPECT_GE(T, L, R) WDKM_TEST_EXPECT_SIGNED_(T, WdkmTestGreaterOrEqual, L, R)

#define WDKM_EXPECT_EQ_HEX(T, L, R) \
    WdkmTestCheckHex((T), WdkmTestEqual, (ULONG64)(L), (ULONG64)(R), #L, #R, __FILE__, __LINE__)
#define WDKM_EXPECT_NE_HEX(T, L, R) \
    WdkmTestCheckHex((T), WdkmTestNotEqual, (ULONG64)(L), (ULONG64)(R), #L, #R, __FILE__, __LINE__)

#define WDKM_EXPECT_PTR_EQ(T, L, R) \
    WdkmTestCheckPointer((T), WdkmTestEqual, (L), (R), #L, #R, __FILE__, __LINE__)
#define WDKM_EXPECT_PTR_NE(T, L, R) \
    WdkmTestCheckPointer((T), WdkmTestNotEqual, (L), (R), #L, #R, __FILE__, __LINE__)
#define WDKM_EXPECT_NULL(T, P) \
    WdkmTestCheckPointer((T), WdkmTestEqual, (P), NULL, #P, "NULL", __FILE__, __LINE__)
#define WDKM_EXPECT_NOT_NULL(T, P) \
    WdkmTestCheckPointer((T), WdkmTestNotEqual, (P), NULL, #P, "NULL", __FILE__, __LINE__)

#define WDKM_EXPECT_STATUS(T, Expected, Actual) \
    WdkmTestCheckStatus((T), (Expected), (Actual), #Actual, __FILE__, __LINE__)
#define WDKM_EXPECT_SUCCESS(T, Status) \
    WdkmTestCheckSuccess((T), (Status), #Status, __FILE__, __LINE__)

/* The same checks, returning from the test (a VOID function) on failure. */
#define WDKM_TEST_RETURN_UNLESS_(Passed) \
    do {                                 \
        if (!(Passed)) {                 \
            return;                      \
        }                                \
    } while (0)
#define WDKM_CHECK(T, Condition)       WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT(T, Condition))
#define WDKM_CHECK_EQ(T, L, R)         WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_EQ(T, L, R))
#define WDKM_CHECK_NE(T, L, R)         WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_NE(T, L, R))
#define WDKM_CHECK_LT(T, L, R)         WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_LT(T, L, R))
#define WDKM_CHECK_LE(T, L, R)         WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_LE(T, L, R))
#define WDKM_CHECK_GT(T, L, R)         WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_GT(T, L, R))
#define WDKM_CHECK_GE(T, L, R)         WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_GE(T, L, R))
#define WDKM_CHECK_EQ_HEX(T, L, R)     WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_EQ_HEX(T, L, R))
#define WDKM_CHECK_NE_HEX(T, L, R)     WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_NE_HEX(T, L, R))
#define WDKM_CHECK_PTR_EQ(T, L, R)     WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_PTR_EQ(T, L, R))
#define WDKM_CHECK_PTR_NE(T, L, R)     WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_PTR_NE(T, L, R))
#define WDKM_CHECK_NULL(T, P)          WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_NULL(T, P))
#define WDKM_CHECK_NOT_NULL(T, P)      WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_NOT_NULL(T, P))
#define WDKM_CHECK_STATUS(T, E, A)     WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_STATUS(T, E, A))
#define WDKM_CHECK_SUCCESS(T, S)       WDKM_TEST_RETURN_UNLESS_(WDKM_EXPECT_SUCCESS(T, S))

#define WDKM_FAIL(T, ...) WdkmTestFail((T), STATUS_UNSUCCESSFUL, __FILE__, __LINE__, __VA_ARGS__)
#define WDKM_SKIP(T, ...)              \
    do {                               \
        WdkmTestSkip((T), __VA_ARGS__); \
        return;                        \
    } while (0)

/* ------------------------------------------------------------------------
 * System threads
 * ------------------------------------------------------------------------ */

#define WDKM_TEST_MAX_THREADS 64

/* What each thread's routine receives. */
typedef struct _WDKM_TEST_THREAD {
    ULONG Index;                   /* 0 .. Count - 1 */
    ULONG Count;                   /* threads in this run */
    PVOID Context;                 /* as given to WdkmTestRunThreads */
    volatile LONG *StopRequested;  /* read it with WdkmTestThreadShouldStop */
} WDKM_TEST_THREAD, *PWDKM_TEST_THREAD;

typedef VOID WDKM_TEST_THREAD_ROUTINE(_In_ PWDKM_TEST_THREAD Thread);

/*
 * Runs Count (1..WDKM_TEST_MAX_THREADS) system threads on Routine. All are
 * created first and then released together (to maximise contention), and
 * all are joined: each thread object is referenced and waited for.
 *
 * Returns STATUS_SUCCESS once every thread has finished within TimeoutMs
 * (counted from the release). On timeout it sets the stop request (see
 * WdkmTestThreadShouldStop), waits up to 5 more seconds, and returns
 * STATUS_TIMEOUT; if threads are still running then, they are abandoned,
 * still using Context, and the harness is marked tainted: no further test
 * runs until the driver is reloaded. Creation failures are returned as is
 * (threads already created are stopped and joined first).
 */
_IRQL_requires_(PASSIVE_LEVEL)
NTSTATUS WdkmTestRunThreads(_In_ ULONG Count, _In_ WDKM_TEST_THREAD_ROUTINE *Routine,
                            _In_opt_ PVOID Context, _In_ ULONG TimeoutMs);

/* TRUE once WdkmTestRunThreads has timed out: long loops should stop. */
BOOLEAN WdkmTestThreadShouldStop(_In_ PWDKM_TEST_THREAD Thread);

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

/* A monotonic clock in microseconds (KeQueryPerformanceCounter). */
ULONG64 WdkmTestMicroseconds(VOID);

/* Zeroed non-paged memory tagged WDKM_TEST_POOL_TAG, or NULL. */
_IRQL_requires_max_(DISPATCH_LEVEL)
PVOID WdkmTestAllocate(_In_ SIZE_T Size);
_IRQL_requires_max_(DISPATCH_LEVEL)
VOID WdkmTestFree(_In_opt_ PVOID Memory);

/*
 * The test driver's device object (\Device\WdkmTest), for kernel calls
 * that need one, e.g. IoAllocateWorkItem. Valid while tests run.
 */
PDEVICE_OBJECT WdkmTestDeviceObject(VOID);

/* Sleeps at PASSIVE_LEVEL. */
_IRQL_requires_(PASSIVE_LEVEL)
VOID WdkmTestSleep(_In_ ULONG Milliseconds);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_TEST_H */
