/*
 * test_fastmutex.c - WDKM_FAST_MUTEX: every public function, every error,
 * and exact counts under threads.
 */
#include "wdkm_test.h"

#include "wdkm_port.h"     /* WdkmpForgetRoutines, to re-run the lookup */

typedef struct _COUNTER {
    LONG Value;
    LONG Spare;
} COUNTER;

static PWDKM_FAST_MUTEX
NewCounter(LONG Value)
{
    COUNTER Initial = { Value, 0 };
    PWDKM_FAST_MUTEX FastMutex = NULL;

    if (WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex) != STATUS_SUCCESS) {
        return NULL;
    }
    return FastMutex;
}

static VOID
CreateRejectsBadArguments(VOID)
{
    COUNTER Initial = { 1, 0 };
    PWDKM_FAST_MUTEX FastMutex = (PWDKM_FAST_MUTEX)&Initial;
    NTSTATUS Status;
    KIRQL OldIrql;

    CHECK_STATUS(WdkmFastMutexCreate(NULL, sizeof(COUNTER), &FastMutex), STATUS_INVALID_PARAMETER);
    CHECK(FastMutex == NULL);
    CHECK_STATUS(WdkmFastMutexCreate(&Initial, 0, &FastMutex), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmFastMutexCreate(&Initial, WDKM_MAX_DATA_SIZE + 1, &FastMutex),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmFastMutexCreate(&Initial, sizeof(Initial), NULL), STATUS_INVALID_PARAMETER);

    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Status = WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);

    WdkmHostPoolFailAt(0);
    Status = WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex);
    WdkmHostPoolFailAt(-1);
    CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
    CHECK(FastMutex == NULL);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
}

/* Holding raises to APC_LEVEL; the release restores the caller's IRQL. */
static VOID
AcquireRaisesToApcAndReleaseRestores(VOID)
{
    PWDKM_FAST_MUTEX FastMutex = NewCounter(5);
    COUNTER *Data;
    KIRQL OldIrql;
    KIRQL Seen;

    CHECK(FastMutex != NULL);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Data), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK(WdkmFastMutexIsOwned(FastMutex));
    CHECK_EQ(Data->Value, 5);
    Data->Value = 6;
    CHECK_STATUS(WdkmFastMutexRelease(FastMutex), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(!WdkmFastMutexIsOwned(FastMutex));

    /* From APC_LEVEL it stays at APC_LEVEL after the release. */
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    if (WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Data) == STATUS_SUCCESS) {
        Seen = (KIRQL)Data->Value;
        (VOID)WdkmFastMutexRelease(FastMutex);
    } else {
        Seen = 0;
    }
    Seen = KeGetCurrentIrql() == APC_LEVEL ? Seen : 0;
    KeLowerIrql(OldIrql);
    CHECK_EQ(Seen, 6);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
}

static VOID
AcquireChecksArgumentsAndIrql(VOID)
{
    PWDKM_FAST_MUTEX FastMutex = NewCounter(0);
    SHORT *Wrong = (SHORT *)&FastMutex;
    COUNTER *Data = (COUNTER *)&FastMutex;
    NTSTATUS Results[2];
    KIRQL OldIrql;

    CHECK(FastMutex != NULL);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE((PWDKM_FAST_MUTEX)NULL, &Data), STATUS_INVALID_PARAMETER);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmFastMutexAcquire(FastMutex, sizeof(COUNTER), NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Wrong), STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Wrong == NULL);
    CHECK_STATUS(WDKM_FAST_MUTEX_TRY_ACQUIRE(FastMutex, &Wrong), STATUS_WDKM_TYPE_MISMATCH);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[0] = WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Data);
    Results[1] = WDKM_FAST_MUTEX_TRY_ACQUIRE(FastMutex, &Data);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[0], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[1], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(!WdkmFastMutexIsOwned(FastMutex));
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmFastMutexRelease(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmFastMutexDestroy(NULL), STATUS_INVALID_PARAMETER);
    CHECK(!WdkmFastMutexIsOwned(NULL));
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
}

/* The kernel would deadlock; the library says so instead. */
static VOID
SecondAcquireByOwnerIsReported(VOID)
{
    PWDKM_FAST_MUTEX FastMutex = NewCounter(0);
    COUNTER *Data;
    COUNTER *Again = (COUNTER *)&FastMutex;

    CHECK(FastMutex != NULL);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Again), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Again == NULL);
    CHECK_STATUS(WDKM_FAST_MUTEX_TRY_ACQUIRE(FastMutex, &Again), STATUS_POSSIBLE_DEADLOCK);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK_STATUS(WdkmFastMutexRelease(FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(FastMutex), STATUS_WDKM_NOT_HELD);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
}

static VOID
ReleaseChecksIrql(VOID)
{
    PWDKM_FAST_MUTEX FastMutex = NewCounter(0);
    COUNTER *Data;
    NTSTATUS Results[3];
    KIRQL OldIrql;

    CHECK(FastMutex != NULL);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Data), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[0] = WdkmFastMutexRelease(FastMutex);
    KeLowerIrql(PASSIVE_LEVEL);                   /* below where the acquire left us */
    Results[1] = WdkmFastMutexRelease(FastMutex);
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    Results[2] = WdkmFastMutexRelease(FastMutex);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(Results[0], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[1], STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(Results[2], STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
}

/*
 * Issue 15, 3.6: releasing the outer of two nested fast mutexes first
 * would lower the IRQL to PASSIVE_LEVEL under the inner one. Refused,
 * nothing changed; in order, both releases work.
 */
static VOID
OutOfOrderReleaseIsRefused(VOID)
{
    PWDKM_FAST_MUTEX Outer = NewCounter(0);
    PWDKM_FAST_MUTEX Inner = NewCounter(0);
    COUNTER *Data;
    NTSTATUS Results[3];
    KIRQL Seen[3];

    CHECK(Outer != NULL && Inner != NULL);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Outer, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Inner, &Data), STATUS_SUCCESS);
    Results[0] = WdkmFastMutexRelease(Outer);
    Seen[0] = KeGetCurrentIrql();
    Results[1] = WdkmFastMutexRelease(Inner);
    Seen[1] = KeGetCurrentIrql();
    Results[2] = WdkmFastMutexRelease(Outer);
    Seen[2] = KeGetCurrentIrql();
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    CHECK_STATUS(Results[0], STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(Seen[0], APC_LEVEL);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_EQ(Seen[1], APC_LEVEL);
    CHECK_STATUS(Results[2], STATUS_SUCCESS);
    CHECK_EQ(Seen[2], PASSIVE_LEVEL);
    CHECK(!WdkmFastMutexIsOwned(Outer));
    CHECK(!WdkmFastMutexIsOwned(Inner));
    CHECK_STATUS(WdkmFastMutexDestroy(Outer), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Inner), STATUS_SUCCESS);
}

/*
 * The same on fresh threads: the library counts nested holds per thread in
 * a table of 32 shards, and a release first reads its shard's count
 * without a lock. Each new thread hashes to a shard of its own choosing,
 * so on a thread whose shard no earlier test touched, the refusal rests on
 * that first read alone (a count skipped there let the release through in
 * a fresh process, while the suite's main thread, its shard used before,
 * still saw it refused).
 */
typedef struct _OUT_OF_ORDER {
    LONG Refused;
    LONG Wrong;
} OUT_OF_ORDER;

static VOID
ReleaseOutOfOrderOnce(PVOID Context, ULONG Index)
{
    OUT_OF_ORDER *Run = (OUT_OF_ORDER *)Context;
    PWDKM_FAST_MUTEX Outer = NewCounter(0);
    PWDKM_FAST_MUTEX Inner = NewCounter(0);
    COUNTER *Data;
    NTSTATUS First = STATUS_UNSUCCESSFUL;
    BOOLEAN Right;

    UNREFERENCED_PARAMETER(Index);
    if (Outer != NULL && Inner != NULL && WDKM_FAST_MUTEX_ACQUIRE(Outer, &Data) == STATUS_SUCCESS) {
        if (WDKM_FAST_MUTEX_ACQUIRE(Inner, &Data) == STATUS_SUCCESS) {
            First = WdkmFastMutexRelease(Outer);
            (VOID)WdkmFastMutexRelease(Inner);
        }
        (VOID)WdkmFastMutexRelease(Outer);
    }
    Right = (BOOLEAN)(First == STATUS_WDKM_LOCK_HELD && KeGetCurrentIrql() == PASSIVE_LEVEL &&
                      !WdkmFastMutexIsOwned(Outer) && !WdkmFastMutexIsOwned(Inner));
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    if (Outer != NULL) {
        (VOID)WdkmFastMutexDestroy(Outer);
    }
    if (Inner != NULL) {
        (VOID)WdkmFastMutexDestroy(Inner);
    }
    InterlockedIncrement(Right ? &Run->Refused : &Run->Wrong);
}

static VOID
OutOfOrderReleaseIsRefusedOnFreshThreads(VOID)
{
    OUT_OF_ORDER Run = { 0, 0 };
    ULONG Thread;

    for (Thread = 0; Thread < 64; Thread += 1) {
        CHECK(WdkmTestRunThreads(1, ReleaseOutOfOrderOnce, &Run));
    }
    CHECK_EQ(Run.Wrong, 0);
    CHECK_EQ(Run.Refused, 64);
}

typedef struct _HOLDER {
    PWDKM_FAST_MUTEX FastMutex;
    KEVENT Held;
    KEVENT Release;
    NTSTATUS Status;
} HOLDER;

static VOID
HoldUntilTold(PVOID Context, ULONG Index)
{
    HOLDER *Holder = (HOLDER *)Context;
    COUNTER *Data;

    UNREFERENCED_PARAMETER(Index);
    Holder->Status = WDKM_FAST_MUTEX_ACQUIRE(Holder->FastMutex, &Data);
    (VOID)KeSetEvent(&Holder->Held, 0, FALSE);
    if (Holder->Status == STATUS_SUCCESS) {
        (VOID)KeWaitForSingleObject(&Holder->Release, Executive, KernelMode, FALSE, NULL);
        Holder->Status = WdkmFastMutexRelease(Holder->FastMutex);
    }
}

static VOID
NonOwnerIsRefused(VOID)
{
    PWDKM_FAST_MUTEX FastMutex = NewCounter(0);
    WDKM_TEST_THREAD *Thread;
    COUNTER *Data = (COUNTER *)&FastMutex;
    COUNTER Out;
    HOLDER Holder;

    CHECK(FastMutex != NULL);
    Holder.FastMutex = FastMutex;
    KeInitializeEvent(&Holder.Held, NotificationEvent, FALSE);
    KeInitializeEvent(&Holder.Release, NotificationEvent, FALSE);
    Thread = WdkmTestStartThread(HoldUntilTold, &Holder);
    CHECK(Thread != NULL);
    (VOID)KeWaitForSingleObject(&Holder.Held, Executive, KernelMode, FALSE, NULL);

    CHECK_STATUS(WDKM_FAST_MUTEX_TRY_ACQUIRE(FastMutex, &Data), STATUS_TIMEOUT);
    CHECK(Data == NULL);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmFastMutexRelease(FastMutex), STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(FastMutex, &Out), STATUS_WDKM_LOCK_HELD);

    (VOID)KeSetEvent(&Holder.Release, 0, FALSE);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Holder.Status, STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_TRY_ACQUIRE(FastMutex, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
}

/* Where the kernel lacks ExTryToAcquireFastMutex (Wine 8), try says so. */
static VOID
TryWithoutKernelSupportIsNotSupported(VOID)
{
    PWDKM_FAST_MUTEX FastMutex = NewCounter(0);
    COUNTER *Data = (COUNTER *)&FastMutex;
    NTSTATUS Status;

    CHECK(FastMutex != NULL);
    WdkmHostSetRoutineAvailable("ExTryToAcquireFastMutex", FALSE);
    WdkmpForgetRoutines();
    Status = WDKM_FAST_MUTEX_TRY_ACQUIRE(FastMutex, &Data);
    WdkmHostResetRoutines();
    WdkmpForgetRoutines();
    CHECK_STATUS(Status, STATUS_NOT_SUPPORTED);
    CHECK(Data == NULL);
    CHECK(!WdkmFastMutexIsOwned(FastMutex));
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* Looked up again at PASSIVE_LEVEL: the try works once more. */
    CHECK_STATUS(WDKM_FAST_MUTEX_TRY_ACQUIRE(FastMutex, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
}

static VOID
TakeCopiesOutAndFrees(VOID)
{
    PWDKM_FAST_MUTEX FastMutex = NewCounter(31);
    COUNTER Out = { 0, 0 };
    SHORT WrongType = 0;
    NTSTATUS Status;
    KIRQL OldIrql;
    LONG Before;

    CHECK(FastMutex != NULL);
    Before = WdkmTestPoolOutstanding();
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(FastMutex, &WrongType), STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmFastMutexTake(FastMutex, sizeof(COUNTER), NULL), STATUS_INVALID_PARAMETER);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Status = WDKM_FAST_MUTEX_TAKE(FastMutex, &Out);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_EQ(WdkmTestPoolOutstanding(), Before);
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(FastMutex, &Out), STATUS_SUCCESS);
    CHECK_EQ(Out.Value, 31);
    CHECK_EQ(WdkmTestPoolOutstanding(), Before - 1);
}

typedef struct _SHARED_COUNT {
    PWDKM_FAST_MUTEX FastMutex;
    ULONG Iterations;
    BOOLEAN MixTries;
    LONG volatile Successes;
    LONG volatile Errors;
} SHARED_COUNT;

static VOID
IncrementUnderLock(PVOID Context, ULONG Index)
{
    SHARED_COUNT *Shared = (SHARED_COUNT *)Context;
    ULONG Iteration;
    LONG Made = 0;
    COUNTER *Data;
    NTSTATUS Status;

    for (Iteration = 0; Iteration < Shared->Iterations; Iteration += 1) {
        if (Shared->MixTries && (Iteration + Index) % 2 == 1) {
            Status = WDKM_FAST_MUTEX_TRY_ACQUIRE(Shared->FastMutex, &Data);
        } else {
            Status = WDKM_FAST_MUTEX_ACQUIRE(Shared->FastMutex, &Data);
        }
        if (Status == STATUS_TIMEOUT) {
            continue;
        }
        if (Status != STATUS_SUCCESS || KeGetCurrentIrql() != APC_LEVEL) {
            InterlockedIncrement(&Shared->Errors);
            continue;
        }
        Data->Value += 1;
        Made += 1;
        if (WdkmFastMutexRelease(Shared->FastMutex) != STATUS_SUCCESS) {
            InterlockedIncrement(&Shared->Errors);
        }
    }
    InterlockedExchangeAdd(&Shared->Successes, Made);
}

static VOID
ThreeThreadsCountExactly(VOID)
{
    SHARED_COUNT Shared = { NULL, 500, FALSE, 0, 0 };
    COUNTER Final;

    Shared.FastMutex = NewCounter(0);
    CHECK(Shared.FastMutex != NULL);
    CHECK(WdkmTestRunThreads(3, IncrementUnderLock, &Shared));
    CHECK_EQ(Shared.Errors, 0);
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(Shared.FastMutex, &Final), STATUS_SUCCESS);
    CHECK_EQ(Final.Value, 1500);
}

static VOID
EightThreadsMixedOperationsCountExactly(VOID)
{
    SHARED_COUNT Shared = { NULL, 100000, TRUE, 0, 0 };
    COUNTER Final;

    Shared.FastMutex = NewCounter(0);
    CHECK(Shared.FastMutex != NULL);
    CHECK(WdkmTestRunThreads(8, IncrementUnderLock, &Shared));
    CHECK_EQ(Shared.Errors, 0);
    CHECK(Shared.Successes >= 8 * 100000 / 2);
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(Shared.FastMutex, &Final), STATUS_SUCCESS);
    CHECK_EQ(Final.Value, Shared.Successes);
}

static const WDKM_TEST_CASE FastMutexCases[] = {
    { "create_rejects_bad_arguments", CreateRejectsBadArguments },
    { "acquire_raises_to_apc_release_restores", AcquireRaisesToApcAndReleaseRestores },
    { "acquire_checks_arguments_and_irql", AcquireChecksArgumentsAndIrql },
    { "second_acquire_by_owner_is_reported", SecondAcquireByOwnerIsReported },
    { "release_checks_irql", ReleaseChecksIrql },
    { "non_owner_is_refused", NonOwnerIsRefused },
    { "out_of_order_release_is_refused", OutOfOrderReleaseIsRefused },
    { "out_of_order_release_is_refused_on_fresh_threads", OutOfOrderReleaseIsRefusedOnFreshThreads },
    { "try_without_kernel_support_is_not_supported", TryWithoutKernelSupportIsNotSupported },
    { "take_copies_out_and_frees", TakeCopiesOutAndFrees },
    { "three_threads_count_exactly", ThreeThreadsCountExactly },
    { "eight_threads_mixed_operations_count_exactly", EightThreadsMixedOperationsCountExactly },
};

const WDKM_TEST_SUITE WdkmFastMutexSuite = WDKM_TEST_SUITE_OF("fast_mutex", FastMutexCases);
