/*
 * test_locks.c - WDKM_KMUTEX and WDKM_FAST_MUTEX inside a real driver:
 * system threads, recursion, take-out, the pool path this kernel gets, and
 * the misuse statuses. IRQL rules need a kernel whose IRQL is real (Wine's
 * is not); those tests skip with the reason, and the host tests cover them.
 */
#include "wdkm_test.h"

#include <wdkmutex/wdkmutex.h>

typedef struct _COUNTER {
    LONG Value;
    LONG Spare[3];
} COUNTER;

static LONG
LibraryBlocks(VOID)
{
    WDKM_POOL_STATISTICS Statistics;

    WdkmQueryPoolStatistics(&Statistics);
    return Statistics.OutstandingBlocks;
}

static BOOLEAN
KernelExports(_In_ PCWSTR Name)
{
    UNICODE_STRING String;

    RtlInitUnicodeString(&String, Name);
    return MmGetSystemRoutineAddress(&String) != NULL;
}

/* ------------------------------------------------------------------------
 * The crate's scenario: 3 system threads x 500 increments = 1500.
 */

typedef struct _SHARED {
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX FastMutex;
    ULONG Iterations;
    LONG volatile Made;
    LONG volatile Errors;
} SHARED;

static VOID
IncrementKMutex(_In_ PWDKM_TEST_THREAD Thread)
{
    SHARED *Shared = (SHARED *)Thread->Context;
    COUNTER *Data;
    ULONG Iteration;

    for (Iteration = 0; Iteration < Shared->Iterations && !WdkmTestThreadShouldStop(Thread);
         Iteration += 1) {
        if (!WDKM_ACQUIRED(WDKM_KMUTEX_ACQUIRE(Shared->Mutex, &Data))) {
            InterlockedIncrement(&Shared->Errors);
            continue;
        }
        Data->Value += 1;
        if (WdkmKMutexRelease(Shared->Mutex) != STATUS_SUCCESS) {
            InterlockedIncrement(&Shared->Errors);
        }
    }
}

static VOID
IncrementFastMutex(_In_ PWDKM_TEST_THREAD Thread)
{
    SHARED *Shared = (SHARED *)Thread->Context;
    COUNTER *Data;
    ULONG Iteration;

    for (Iteration = 0; Iteration < Shared->Iterations && !WdkmTestThreadShouldStop(Thread);
         Iteration += 1) {
        if (!WDKM_ACQUIRED(WDKM_FAST_MUTEX_ACQUIRE(Shared->FastMutex, &Data))) {
            InterlockedIncrement(&Shared->Errors);
            continue;
        }
        Data->Value += 1;
        if (WdkmFastMutexRelease(Shared->FastMutex) != STATUS_SUCCESS) {
            InterlockedIncrement(&Shared->Errors);
        }
    }
}

VOID
WdkmTestKMutexThreeThreads(_Inout_ PWDKM_TEST Test)
{
    SHARED Shared;
    COUNTER Initial;
    COUNTER Final;
    LONG Before = LibraryBlocks();

    RtlZeroMemory(&Shared, sizeof(Shared));
    RtlZeroMemory(&Initial, sizeof(Initial));
    Shared.Iterations = 500;
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_CREATE(&Initial, &Shared.Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS,
                       WdkmTestRunThreads(3, IncrementKMutex, &Shared, 60000));
    WDKM_EXPECT_EQ(Test, Shared.Errors, 0);
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_TAKE(Shared.Mutex, &Final));
    WDKM_EXPECT_EQ(Test, Final.Value, 1500);
    WDKM_EXPECT_EQ(Test, LibraryBlocks(), Before);
}

VOID
WdkmTestFastMutexThreeThreads(_Inout_ PWDKM_TEST Test)
{
    SHARED Shared;
    COUNTER Initial;
    COUNTER Final;
    LONG Before = LibraryBlocks();

    RtlZeroMemory(&Shared, sizeof(Shared));
    RtlZeroMemory(&Initial, sizeof(Initial));
    Shared.Iterations = 500;
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_FAST_MUTEX_CREATE(&Initial, &Shared.FastMutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS,
                       WdkmTestRunThreads(3, IncrementFastMutex, &Shared, 60000));
    WDKM_EXPECT_EQ(Test, Shared.Errors, 0);
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_FAST_MUTEX_TAKE(Shared.FastMutex, &Final));
    WDKM_EXPECT_EQ(Test, Final.Value, 1500);
    WDKM_EXPECT_EQ(Test, LibraryBlocks(), Before);
}

/*
 * 8 threads mixing blocking acquires, tries and timed waits on a KMUTEX.
 * Fewer operations than on the host: every KMUTEX operation is a round trip
 * to the wine server (about 130 us).
 */

/* One of the three forms. A wrapper of its own, so that clang's analysis
   sees one acquire whose status the caller tests. */
static NTSTATUS
MixedAcquire(_Inout_ PWDKM_KMUTEX Mutex, _In_ ULONG Form, _In_ const LARGE_INTEGER *Timeout,
             _Outptr_result_maybenull_ COUNTER **Data) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Mutex);

static NTSTATUS
MixedAcquire(_Inout_ PWDKM_KMUTEX Mutex, _In_ ULONG Form, _In_ const LARGE_INTEGER *Timeout,
             _Outptr_result_maybenull_ COUNTER **Data)
{
    switch (Form) {
    case 0:
        return WDKM_KMUTEX_ACQUIRE(Mutex, Data);
    case 1:
        return WDKM_KMUTEX_TRY_ACQUIRE(Mutex, Data);
    default:
        return WDKM_KMUTEX_ACQUIRE_TIMEOUT(Mutex, Timeout, Data);
    }
}

static VOID
MixedKMutex(_In_ PWDKM_TEST_THREAD Thread)
{
    SHARED *Shared = (SHARED *)Thread->Context;
    LARGE_INTEGER Timeout;
    COUNTER *Data;
    ULONG Iteration;
    LONG Made = 0;
    NTSTATUS Status;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(1);
    for (Iteration = 0; Iteration < Shared->Iterations && !WdkmTestThreadShouldStop(Thread);
         Iteration += 1) {
        Status = MixedAcquire(Shared->Mutex, (Iteration + Thread->Index) % 3, &Timeout, &Data);
        if (!WDKM_ACQUIRED(Status)) {
            if (Status != STATUS_TIMEOUT) {
                InterlockedIncrement(&Shared->Errors);
            }
            continue;
        }
        Data->Value += 1;
        Made += 1;
        if (WdkmKMutexRelease(Shared->Mutex) != STATUS_SUCCESS) {
            InterlockedIncrement(&Shared->Errors);
        }
    }
    InterlockedExchangeAdd(&Shared->Made, Made);
}

VOID
WdkmTestKMutexEightThreadsMixed(_Inout_ PWDKM_TEST Test)
{
    SHARED Shared;
    COUNTER Initial;
    COUNTER Final;

    RtlZeroMemory(&Shared, sizeof(Shared));
    RtlZeroMemory(&Initial, sizeof(Initial));
    Shared.Iterations = 600;
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_CREATE(&Initial, &Shared.Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmTestRunThreads(8, MixedKMutex, &Shared, 120000));
    WDKM_EXPECT_EQ(Test, Shared.Errors, 0);
    WDKM_EXPECT_GE(Test, Shared.Made, 8 * 600 / 3);
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_TAKE(Shared.Mutex, &Final));
    WDKM_EXPECT_EQ(Test, Final.Value, Shared.Made);
}

/* ------------------------------------------------------------------------
 * Recursion, ownership and misuse.
 */

typedef struct _HOLDER {
    PWDKM_KMUTEX Mutex;
    KEVENT Held;
    KEVENT Release;
    NTSTATUS Status;
} HOLDER;

static VOID
HoldUntilTold(_Inout_ HOLDER *Holder)
{
    LARGE_INTEGER Limit;
    COUNTER *Data;
    NTSTATUS Status;

    Status = WDKM_KMUTEX_ACQUIRE(Holder->Mutex, &Data);
    Holder->Status = Status;
    (VOID)KeSetEvent(&Holder->Held, 0, FALSE);
    if (WDKM_ACQUIRED(Status)) {
        Limit.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(20000);
        (VOID)KeWaitForSingleObject(&Holder->Release, Executive, KernelMode, FALSE, &Limit);
        Holder->Status = WdkmKMutexRelease(Holder->Mutex);
    }
}

/* Thread 0 holds the lock; thread 1 tries everything a non-owner might. */
typedef struct _HELD_SCENARIO {
    HOLDER Holder;
    PWDKM_TEST Test;
    LONG64 TimedOutAfterUs;
    NTSTATUS TryStatus;
    NTSTATUS TimeoutStatus;
    NTSTATUS ReleaseStatus;
    NTSTATUS DestroyStatus;
} HELD_SCENARIO;

/* Thread 1 releases and destroys a lock thread 0 holds, on purpose:
   clang's analysis would reject that, so it is off here. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
HeldScenarioThread(_In_ PWDKM_TEST_THREAD Thread)
{
    HELD_SCENARIO *Scenario = (HELD_SCENARIO *)Thread->Context;
    LARGE_INTEGER Timeout;
    LARGE_INTEGER Limit;
    COUNTER *Data;
    ULONG64 Start;

    if (Thread->Index == 0) {
        HoldUntilTold(&Scenario->Holder);
        return;
    }
    Limit.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(20000);
    (VOID)KeWaitForSingleObject(&Scenario->Holder.Held, Executive, KernelMode, FALSE, &Limit);
    Scenario->TryStatus = WDKM_KMUTEX_TRY_ACQUIRE(Scenario->Holder.Mutex, &Data);
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(50);
    Start = WdkmTestMicroseconds();
    Scenario->TimeoutStatus = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Scenario->Holder.Mutex, &Timeout, &Data);
    Scenario->TimedOutAfterUs = (LONG64)(WdkmTestMicroseconds() - Start);
    Scenario->ReleaseStatus = WdkmKMutexRelease(Scenario->Holder.Mutex);
    Scenario->DestroyStatus = WdkmKMutexDestroy(Scenario->Holder.Mutex);
    (VOID)KeSetEvent(&Scenario->Holder.Release, 0, FALSE);
}

VOID
WdkmTestKMutexBusyAndNotOwner(_Inout_ PWDKM_TEST Test)
{
    HELD_SCENARIO Scenario;
    COUNTER Initial;

    RtlZeroMemory(&Scenario, sizeof(Scenario));
    RtlZeroMemory(&Initial, sizeof(Initial));
    KeInitializeEvent(&Scenario.Holder.Held, NotificationEvent, FALSE);
    KeInitializeEvent(&Scenario.Holder.Release, NotificationEvent, FALSE);
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_CREATE(&Initial, &Scenario.Holder.Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS,
                       WdkmTestRunThreads(2, HeldScenarioThread, &Scenario, 30000));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Scenario.Holder.Status);
    WDKM_EXPECT_STATUS(Test, STATUS_TIMEOUT, Scenario.TryStatus);
    WDKM_EXPECT_STATUS(Test, STATUS_TIMEOUT, Scenario.TimeoutStatus);
    WDKM_EXPECT_GE(Test, Scenario.TimedOutAfterUs, 45000);
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_NOT_OWNER, Scenario.ReleaseStatus);
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_LOCK_HELD, Scenario.DestroyStatus);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexDestroy(Scenario.Holder.Mutex));
}

/*
 * Recursion, then one release too many on purpose. Clang's analysis before
 * clang 21 has no recursive locks (and rejects the extra release), so it is
 * off here.
 */
WDKM_NO_THREAD_SAFETY_ANALYSIS
VOID
WdkmTestKMutexRecursion(_Inout_ PWDKM_TEST Test)
{
    PWDKM_KMUTEX Mutex;
    COUNTER Initial;
    COUNTER *Data[3];
    LARGE_INTEGER Timeout;

    RtlZeroMemory(&Initial, sizeof(Initial));
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(10);
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_CREATE(&Initial, &Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_ACQUIRE(Mutex, &Data[0]));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Data[1]));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_ACQUIRE_TIMEOUT(Mutex, &Timeout, &Data[2]));
    WDKM_EXPECT_PTR_EQ(Test, Data[0], Data[1]);
    WDKM_EXPECT_PTR_EQ(Test, Data[1], Data[2]);
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_LOCK_HELD, WdkmKMutexDestroy(Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexRelease(Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexRelease(Mutex));
    WDKM_EXPECT(Test, WdkmKMutexIsOwned(Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexRelease(Mutex));
    WDKM_EXPECT(Test, !WdkmKMutexIsOwned(Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_NOT_HELD, WdkmKMutexRelease(Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexDestroy(Mutex));
}

VOID
WdkmTestKMutexAlertableWait(_Inout_ PWDKM_TEST Test)
{
    PWDKM_KMUTEX Mutex;
    COUNTER Initial;
    COUNTER *Data;
    LARGE_INTEGER Timeout;
    NTSTATUS Status;

    RtlZeroMemory(&Initial, sizeof(Initial));
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(100);
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_CREATE(&Initial, &Mutex));
    Status = WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, KernelMode, &Timeout, &Data);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status);
    if (WDKM_ACQUIRED(Status)) {
        WDKM_EXPECT_NOT_NULL(Test, Data);
        WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexRelease(Mutex));
    }
    WDKM_EXPECT_STATUS(Test, STATUS_INVALID_PARAMETER,
                       WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, (KPROCESSOR_MODE)5, NULL, &Data));
    WDKM_EXPECT_NULL(Test, Data);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexDestroy(Mutex));
}

/* Misuse on purpose (release not held, owner acquiring again): clang's
   analysis would reject it, so it is off here. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
VOID
WdkmTestFastMutexMisuse(_Inout_ PWDKM_TEST Test)
{
    PWDKM_FAST_MUTEX FastMutex;
    COUNTER Initial;
    COUNTER *Data;
    COUNTER *Again;
    SHORT *WrongType;

    RtlZeroMemory(&Initial, sizeof(Initial));
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex));
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_TYPE_MISMATCH, WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &WrongType));
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_NOT_HELD, WdkmFastMutexRelease(FastMutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Data));
    WDKM_EXPECT_STATUS(Test, STATUS_POSSIBLE_DEADLOCK, WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Again));
    WDKM_EXPECT_NULL(Test, Again);
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_LOCK_HELD, WdkmFastMutexDestroy(FastMutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmFastMutexRelease(FastMutex));
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_NOT_HELD, WdkmFastMutexRelease(FastMutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmFastMutexDestroy(FastMutex));
}

/* The try needs ExTryToAcquireFastMutex, which Wine 8 does not export. */
VOID
WdkmTestFastMutexTry(_Inout_ PWDKM_TEST Test)
{
    PWDKM_FAST_MUTEX FastMutex;
    COUNTER Initial;
    COUNTER *Data;
    NTSTATUS Status;

    RtlZeroMemory(&Initial, sizeof(Initial));
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex));
    Status = WDKM_FAST_MUTEX_TRY_ACQUIRE(FastMutex, &Data);
    if (!KernelExports(L"ExTryToAcquireFastMutex")) {
        WDKM_EXPECT_STATUS(Test, STATUS_NOT_SUPPORTED, Status);
        WDKM_EXPECT_NULL(Test, Data);
        WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmFastMutexDestroy(FastMutex));
        WDKM_SKIP(Test, "this kernel does not export ExTryToAcquireFastMutex (Wine 8): the try "
                        "correctly answered STATUS_NOT_SUPPORTED; try semantics are covered by "
                        "the host tests");
    }
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status);
    if (WDKM_ACQUIRED(Status)) {
        WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmFastMutexRelease(FastMutex));
    }
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmFastMutexDestroy(FastMutex));
}

/* IRQL rules: only where raising the IRQL is real. */
VOID
WdkmTestIrqlRules(_Inout_ PWDKM_TEST Test)
{
    PWDKM_KMUTEX Mutex;
    COUNTER Initial;
    COUNTER *Data;
    NTSTATUS Status;
    KIRQL OldIrql;
    KIRQL Raised;

    RtlZeroMemory(&Initial, sizeof(Initial));
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_CREATE(&Initial, &Mutex));
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Raised = KeGetCurrentIrql();
    Status = Raised == DISPATCH_LEVEL ? WDKM_KMUTEX_ACQUIRE(Mutex, &Data) : STATUS_SUCCESS;
    KeLowerIrql(OldIrql);
    if (Raised != DISPATCH_LEVEL) {
        WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexDestroy(Mutex));
        WDKM_SKIP(Test, "KeRaiseIrql has no effect on this kernel (Wine: KeGetCurrentIrql "
                        "answers %u after raising to DISPATCH_LEVEL); IRQL rules are covered "
                        "by the host tests", (unsigned)Raised);
    }
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_IRQL_TOO_HIGH, Status);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexDestroy(Mutex));
}

/* ------------------------------------------------------------------------
 * Take-out, scoped forms and pool.
 */

/* Takes a held lock on purpose (refused): clang's analysis would reject
   that call, so it is off here. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
VOID
WdkmTestTakeOut(_Inout_ PWDKM_TEST Test)
{
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX FastMutex;
    COUNTER Initial;
    COUNTER Out;
    COUNTER *Data;
    LONG Before = LibraryBlocks();

    RtlZeroMemory(&Initial, sizeof(Initial));
    Initial.Value = 41;
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_CREATE(&Initial, &Mutex));
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex));
    WDKM_EXPECT_EQ(Test, LibraryBlocks(), Before + 2);
    if (WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_ACQUIRE(Mutex, &Data))) {
        Data->Value += 1;
        WDKM_EXPECT_STATUS(Test, STATUS_WDKM_LOCK_HELD, WDKM_KMUTEX_TAKE(Mutex, &Out));
        WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexRelease(Mutex));
    }
    RtlZeroMemory(&Out, sizeof(Out));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_TAKE(Mutex, &Out));
    WDKM_EXPECT_EQ(Test, Out.Value, 42);
    RtlZeroMemory(&Out, sizeof(Out));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_FAST_MUTEX_TAKE(FastMutex, &Out));
    WDKM_EXPECT_EQ(Test, Out.Value, 41);
    WDKM_EXPECT_EQ(Test, LibraryBlocks(), Before);
}

static NTSTATUS
ReturnFromScope(_In_ PWDKM_FAST_MUTEX FastMutex)
{
    COUNTER *Data;
    NTSTATUS Status;

    WDKM_FAST_MUTEX_SCOPED(FastMutex, Data, &Status) {
        Data->Value += 10;
        return STATUS_SUCCESS;      /* released by the cleanup attribute (gcc) */
    }
    return Status;
}

VOID
WdkmTestScopedForms(_Inout_ PWDKM_TEST Test)
{
    PWDKM_FAST_MUTEX FastMutex;
    PWDKM_KMUTEX Mutex;
    COUNTER Initial;
    COUNTER *Data;
    NTSTATUS Status = STATUS_UNSUCCESSFUL;
    ULONG Loop;

    RtlZeroMemory(&Initial, sizeof(Initial));
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_CREATE(&Initial, &Mutex));
    WDKM_KMUTEX_SCOPED(Mutex, Data, &Status) {
        Data->Value += 1;
    }
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status);
    WDKM_EXPECT(Test, !WdkmKMutexIsOwned(Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_TAKE(Mutex, &Initial));
    WDKM_EXPECT_EQ(Test, Initial.Value, 1);

    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex));
    for (Loop = 0; Loop < 3; Loop += 1) {
        WDKM_FAST_MUTEX_SCOPED(FastMutex, Data, &Status) {
            Data->Value += 1;
            break;
        }
    }
    WDKM_EXPECT(Test, !WdkmFastMutexIsOwned(FastMutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, ReturnFromScope(FastMutex));
    WDKM_EXPECT(Test, !WdkmFastMutexIsOwned(FastMutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_FAST_MUTEX_TAKE(FastMutex, &Initial));
    WDKM_EXPECT_EQ(Test, Initial.Value, 1 + 3 + 10);
}

/*
 * Wine 8 has no ExAllocatePool2: the library must have chosen the fallback.
 * Ends with a release too many on purpose: clang's analysis would reject
 * it, so it is off here.
 */
WDKM_NO_THREAD_SAFETY_ANALYSIS
VOID
WdkmTestPoolAllocator(_Inout_ PWDKM_TEST Test)
{
    WDKM_POOL_STATISTICS Statistics;
    PWDKM_KMUTEX Mutex;
    COUNTER Initial;
    COUNTER *Data;

    RtlFillMemory(&Initial, sizeof(Initial), 0x5A);
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_CREATE(&Initial, &Mutex));
    WdkmQueryPoolStatistics(&Statistics);
    if (KernelExports(L"ExAllocatePool2")) {
        WDKM_EXPECT_EQ(Test, Statistics.Allocator, WdkmPoolAllocatorPool2);
    } else {
        WDKM_EXPECT_EQ(Test, Statistics.Allocator, WdkmPoolAllocatorWithTag);
    }
    /* A block that was not zeroed would show a phantom owner or depth. */
    WDKM_EXPECT(Test, !WdkmKMutexIsOwned(Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_KMUTEX_ACQUIRE(Mutex, &Data));
    WDKM_EXPECT_EQ(Test, Data->Spare[2], 0x5A5A5A5A);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexRelease(Mutex));
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_NOT_HELD, WdkmKMutexRelease(Mutex));
    WDKM_EXPECT_GE(Test, Statistics.OutstandingBlocks, 1);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmKMutexDestroy(Mutex));
    WdkmTestLog(Test, "allocator %d, %lld allocations so far", (int)Statistics.Allocator,
                Statistics.TotalAllocations);
}
