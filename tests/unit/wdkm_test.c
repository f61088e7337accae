/*
 * wdkm_test.c - runner and helpers of the host unit tests (see wdkm_test.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "wdkm_test.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t WdkmTestFailureLock = PTHREAD_MUTEX_INITIALIZER;
static int WdkmTestFailures;        /* failures recorded by the running test */

ULONG (*WdkmTestAfterEachTest)(VOID);
LONG WdkmTestPoolBaseline;

BOOLEAN
WdkmTestFail(PCSTR File, int Line, PCSTR Format, ...)
{
    va_list Arguments;

    pthread_mutex_lock(&WdkmTestFailureLock);
    if (WdkmTestFailures < 5) {      /* a failing thread loop must not flood */
        fprintf(stdout, "    %s:%d: ", File, Line);
        va_start(Arguments, Format);
        vfprintf(stdout, Format, Arguments);
        va_end(Arguments);
        fputc('\n', stdout);
    }
    WdkmTestFailures += 1;
    pthread_mutex_unlock(&WdkmTestFailureLock);
    return FALSE;
}

/* ---------------------------------------------------------------------- */

struct _WDKM_TEST_THREAD {
    WDKM_TEST_THREAD_ROUTINE *Routine;
    PVOID Context;
    ULONG Index;
    PKTHREAD Object;
};

static VOID
WdkmTestThreadStart(PVOID Parameter)
{
    WDKM_TEST_THREAD *Thread = (WDKM_TEST_THREAD *)Parameter;

    Thread->Routine(Thread->Context, Thread->Index);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static WDKM_TEST_THREAD *
WdkmTestCreateThread(WDKM_TEST_THREAD_ROUTINE *Routine, PVOID Context, ULONG Index)
{
    WDKM_TEST_THREAD *Thread = (WDKM_TEST_THREAD *)calloc(1, sizeof(*Thread));
    HANDLE Handle;
    NTSTATUS Status;

    if (Thread == NULL) {
        return NULL;
    }
    Thread->Routine = Routine;
    Thread->Context = Context;
    Thread->Index = Index;
    Status = PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                  WdkmTestThreadStart, Thread);
    if (!NT_SUCCESS(Status)) {
        free(Thread);
        return NULL;
    }
    Status = ObReferenceObjectByHandle(Handle, THREAD_ALL_ACCESS, *PsThreadType, KernelMode,
                                       (PVOID *)&Thread->Object, NULL);
    ZwClose(Handle);
    if (!NT_SUCCESS(Status)) {
        fprintf(stderr, "ObReferenceObjectByHandle failed: 0x%08X\n", (unsigned)Status);
        abort();
    }
    return Thread;
}

WDKM_TEST_THREAD *
WdkmTestStartThread(WDKM_TEST_THREAD_ROUTINE *Routine, PVOID Context)
{
    return WdkmTestCreateThread(Routine, Context, 0);
}

PKTHREAD
WdkmTestThreadObject(WDKM_TEST_THREAD *Thread)
{
    return Thread->Object;
}

VOID
WdkmTestJoinThread(WDKM_TEST_THREAD *Thread)
{
    if (Thread == NULL) {
        return;
    }
    (VOID)KeWaitForSingleObject(Thread->Object, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(Thread->Object);
    free(Thread);
}

BOOLEAN
WdkmTestRunThreads(ULONG Count, WDKM_TEST_THREAD_ROUTINE *Routine, PVOID Context)
{
    WDKM_TEST_THREAD *Threads[64];
    BOOLEAN Created = TRUE;
    ULONG Index;

    if (Count > sizeof(Threads) / sizeof(Threads[0])) {
        return FALSE;
    }
    for (Index = 0; Index < Count; Index += 1) {
        Threads[Index] = WdkmTestCreateThread(Routine, Context, Index);
        Created = Created && Threads[Index] != NULL;
    }
    for (Index = 0; Index < Count; Index += 1) {
        WdkmTestJoinThread(Threads[Index]);
    }
    return Created;
}

VOID
WdkmTestSleepMs(ULONG Milliseconds)
{
    LARGE_INTEGER Interval;

    Interval.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Milliseconds);
    (VOID)KeDelayExecutionThread(KernelMode, FALSE, &Interval);
}

LONGLONG
WdkmTestNowMs(VOID)
{
    LARGE_INTEGER Frequency;
    LARGE_INTEGER Counter = KeQueryPerformanceCounter(&Frequency);

    return Counter.QuadPart / (Frequency.QuadPart / 1000);
}

LONGLONG
WdkmTestScaledMs(ULONG Milliseconds)
{
    static volatile LONG Scale;              /* 0: not read yet */
    LONG Factor = __atomic_load_n(&Scale, __ATOMIC_RELAXED);

    if (Factor == 0) {
        PCSTR Text = getenv("WDKM_TEST_TIME_SCALE");
        long Value = Text != NULL ? strtol(Text, NULL, 10) : 1;

        Factor = Value >= 1 && Value <= 1000 ? (LONG)Value : 1;
        __atomic_store_n(&Scale, Factor, __ATOMIC_RELAXED);   /* every thread reads the same */
    }
    return (LONGLONG)Milliseconds * Factor;
}

LONGLONG
WdkmTestDeadlineMs(ULONG Milliseconds)
{
    return WdkmTestNowMs() + WdkmTestScaledMs(Milliseconds);
}

LONG
WdkmTestPoolOutstanding(VOID)
{
    return (LONG)WdkmHostPoolOutstanding(WDKM_POOL_TAG, NULL) - WdkmTestPoolBaseline;
}

/* ---------------------------------------------------------------------- */

/*
 * The group of Skip whose comma-separated parts FullName contains one of
 * (groups are separated by ';'), or -1.
 */
static int
WdkmTestSkipped(PCSTR FullName, PCSTR Skip)
{
    char Part[128];
    PCSTR Next;
    size_t Length;
    int Group = 0;

    while (Skip != NULL && *Skip != '\0') {
        Next = strpbrk(Skip, ",;");
        Length = Next != NULL ? (size_t)(Next - Skip) : strlen(Skip);
        if (Length > 0 && Length < sizeof(Part)) {
            memcpy(Part, Skip, Length);
            Part[Length] = '\0';
            if (strstr(FullName, Part) != NULL) {
                return Group;
            }
        }
        if (Next != NULL && *Next == ';') {
            Group += 1;
        }
        Skip = Next != NULL ? Next + 1 : NULL;
    }
    return -1;
}

/* The Group'th ';'-separated reason of Reasons, into Buffer. */
static PCSTR
WdkmTestSkipReason(PCSTR Reasons, int Group, char *Buffer, size_t Size)
{
    PCSTR End;
    size_t Length;

    if (Reasons == NULL) {
        return "WDKM_TEST_SKIP";
    }
    while (Group > 0 && strchr(Reasons, ';') != NULL) {
        Reasons = strchr(Reasons, ';') + 1;
        Group -= 1;
    }
    End = strchr(Reasons, ';');
    Length = End != NULL ? (size_t)(End - Reasons) : strlen(Reasons);
    Length = Length < Size - 1 ? Length : Size - 1;
    memcpy(Buffer, Reasons, Length);
    Buffer[Length] = '\0';
    return Buffer;
}

/*
 * Runs every test whose "suite.name" contains Filter (all if NULL). After
 * each test, checks what every test must leave behind: no library block
 * outstanding, the IRQL back at PASSIVE_LEVEL. WDKM_TEST_SKIP (parts of
 * names, comma-separated; groups of them separated by ';') with
 * WDKM_TEST_SKIP_REASON (a reason per group, ';'-separated) leaves tests
 * out, each reported "SKIP name (its group's reason)" and counted apart: for a runner under which
 * they cannot work (valgrind runs one thread at a time, so tests that time
 * the delivery of an injected event cannot). WDKM_TEST_SHARD=K/N runs only
 * every Nth of the tests the filter selects, from the Kth (counting from
 * 0): N processes with K = 0..N-1 run each test once between them, so a
 * runner can use every processor (the tests of one program run one after
 * another). A shard with no test to run fails, as an empty filter does.
 */
int
WdkmTestMain(int argc, char **argv, const WDKM_TEST_SUITE *Suites, ULONG SuiteCount)
{
    PCSTR Filter = argc > 1 ? argv[1] : NULL;
    PCSTR Skip = getenv("WDKM_TEST_SKIP");
    PCSTR Reason = getenv("WDKM_TEST_SKIP_REASON");
    PCSTR ShardText = getenv("WDKM_TEST_SHARD");
    unsigned int Shard = 0;
    unsigned int Shards = 1;
    ULONG Matched = 0;
    ULONG Passed = 0;
    ULONG Failed = 0;
    ULONG Skipped = 0;
    ULONG Suite;
    ULONG Case;
    char FullName[256];
    char ReasonText[256];
    int SkipGroup;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (ShardText != NULL &&
        (sscanf(ShardText, "%u/%u", &Shard, &Shards) != 2 || Shards == 0 || Shard >= Shards)) {
        printf("WDKM_TEST_SHARD=\"%s\": expected K/N with K < N\n", ShardText);
        return 1;
    }
    /* A test that starts this program again names the test it wants. */
    (void)unsetenv("WDKM_TEST_SHARD");
    for (Suite = 0; Suite < SuiteCount; Suite += 1) {
        for (Case = 0; Case < Suites[Suite].Count; Case += 1) {
            const WDKM_TEST_CASE *Test = &Suites[Suite].Cases[Case];
            LONG PoolBefore;
            LONG PoolAfter;

            snprintf(FullName, sizeof(FullName), "%s.%s", Suites[Suite].Name, Test->Name);
            if (Filter != NULL && strstr(FullName, Filter) == NULL) {
                continue;
            }
            Matched += 1;
            if ((Matched - 1) % Shards != Shard) {
                continue;                       /* another shard's */
            }
            SkipGroup = WdkmTestSkipped(FullName, Skip);
            if (SkipGroup >= 0) {
                Skipped += 1;
                printf("SKIP %s (%s)\n", FullName,
                       WdkmTestSkipReason(Reason, SkipGroup, ReasonText, sizeof(ReasonText)));
                continue;
            }
            WdkmTestFailures = 0;
            PoolBefore = WdkmTestPoolOutstanding();
            Test->Routine();
            if (Suites[Suite].Cleanup != NULL) {
                Suites[Suite].Cleanup();
            }
            if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
                WdkmTestFail(__FILE__, __LINE__, "test left the IRQL at %u",
                             (unsigned)KeGetCurrentIrql());
                KeLowerIrql(PASSIVE_LEVEL);
            }
            if (WdkmTestAfterEachTest != NULL) {
                ULONG Charged = WdkmTestAfterEachTest();
                if (Charged != 0) {
                    WdkmTestFail(__FILE__, __LINE__, "%lu interrupt action violations",
                                 (unsigned long)Charged);
                }
            }
            PoolAfter = WdkmTestPoolOutstanding();
            if (PoolAfter != PoolBefore) {
                WdkmTestFail(__FILE__, __LINE__, "pool blocks outstanding: %ld before, %ld after",
                             (long)PoolBefore, (long)PoolAfter);
            }
            if (WdkmTestFailures == 0) {
                Passed += 1;
                printf("PASS %s\n", FullName);
            } else {
                Failed += 1;
                printf("FAIL %s\n", FullName);
            }
        }
    }
    if (Skipped != 0) {
        printf("%lu passed, %lu failed, %lu skipped\n", (unsigned long)Passed,
               (unsigned long)Failed, (unsigned long)Skipped);
    } else {
        printf("%lu passed, %lu failed\n", (unsigned long)Passed, (unsigned long)Failed);
    }
    return Failed == 0 && Passed > 0 ? 0 : 1;
}
