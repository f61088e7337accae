/*
 * test_diag.c - the checked build's diagnostics (wdkm_diag.h): lock-order
 * validation, context checks, statistics, the leak check. Built only into
 * the checked test program (WDKM_CHECKED=1).
 */
#include <stdio.h>
#include <string.h>

#include "wdkm_test.h"
#include "wdkm_test_interrupts.h"

#if !WDKM_CHECKED
#error test_diag.c belongs to the checked test program
#endif

typedef struct _VALUE {
    LONG Count;
    LONG Spare;
} VALUE;

static const VALUE Zero = { 0, 0 };

/* ---------------------------------------------------------------------- */
/* The debugger output, captured                                          */

static CHAR Captured[64 * 1024];
static SIZE_T CapturedLength;

static VOID
CaptureSink(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    SIZE_T Length = strlen(Message);

    (VOID)ComponentId;
    (VOID)Level;
    (VOID)Context;
    if (CapturedLength + Length < sizeof(Captured)) {
        memcpy(Captured + CapturedLength, Message, Length + 1);
        CapturedLength += Length;
    }
}

/* Every test starts with nothing recorded and the output captured. */
static VOID
Begin(VOID)
{
    CapturedLength = 0;
    Captured[0] = '\0';
    WdkmHostSetDebugPrintLevel(DPFLTR_INFO_LEVEL);
    WdkmHostSetDebugPrintSink(CaptureSink, NULL);
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    (VOID)WdkmDiagReset();
}

static VOID
Cleanup(VOID)
{
    WdkmHostSetDebugPrintSink(NULL, NULL);
    WdkmHostSetDebugPrintLevel(DPFLTR_WARNING_LEVEL);
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    (VOID)WdkmDiagReset();
}

static BOOLEAN
Printed(PCSTR Text)
{
    return strstr(Captured, Text) != NULL;
}

/* The statistics row of the class Name; FALSE if the query lists none. */
static BOOLEAN
ClassStatistics(PCSTR Name, PWDKM_DIAG_STATISTICS Row)
{
    WDKM_DIAG_STATISTICS Classes[16];
    ULONG Count;
    ULONG Index;

    if (WdkmDiagQueryStatistics(Classes, 16, &Count, FALSE) != STATUS_SUCCESS) {
        return FALSE;
    }
    for (Index = 0; Index < Count; Index += 1) {
        if (strcmp(Classes[Index].Name, Name) == 0) {
            *Row = Classes[Index];
            return TRUE;
        }
    }
    return FALSE;
}

static ULONG
OrderViolations(VOID)
{
    WDKM_DIAG_SUMMARY Summary;

    (VOID)WdkmDiagQuerySummary(&Summary);
    return Summary.OrderViolations;
}

/* ---------------------------------------------------------------------- */
/* Lock order                                                             */

typedef struct _PAIR {
    PWDKM_FAST_MUTEX First;
    PWDKM_FAST_MUTEX Second;
    NTSTATUS Inner;                /* the status of the second acquisition */
    ULONG Line;                    /* where it was made */
} PAIR;

/* Takes First then Second (as a thread of the driver would), then releases. */
static VOID
TakeInOrder(PVOID Context, ULONG Index)
{
    PAIR *Pair = (PAIR *)Context;
    VALUE *Outer;
    VALUE *Inner;

    (VOID)Index;
    if (WDKM_FAST_MUTEX_ACQUIRE(Pair->First, &Outer) != STATUS_SUCCESS) {
        return;
    }
    Pair->Line = __LINE__ + 1;
    Pair->Inner = WDKM_FAST_MUTEX_ACQUIRE(Pair->Second, &Inner);
    if (Pair->Inner == STATUS_SUCCESS) {
        Inner->Count += 1;
        (VOID)WdkmFastMutexRelease(Pair->Second);
    }
    Outer->Count += 1;
    (VOID)WdkmFastMutexRelease(Pair->First);
}

static VOID
AbbaReportedOnFirstInversion(VOID)
{
    PWDKM_FAST_MUTEX A;
    PWDKM_FAST_MUTEX B;
    WDKM_DIAG_VIOLATION Violation;
    PAIR Forward;
    PAIR Backward;
    ULONG Count;
    CHAR Site[64];

    Begin();
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &A), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(A, "device.A"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(B, "queue.B"), STATUS_SUCCESS);

    /* One thread takes A then B; later another takes B then A. They never
       overlap, so nothing deadlocks: the report comes from the order alone. */
    Forward.First = A;
    Forward.Second = B;
    Backward.First = B;
    Backward.Second = A;
    CHECK(WdkmTestRunThreads(1, TakeInOrder, &Forward));
    CHECK_STATUS(Forward.Inner, STATUS_SUCCESS);
    CHECK_EQ(OrderViolations(), 0);
    CHECK(WdkmTestRunThreads(1, TakeInOrder, &Backward));
    CHECK_STATUS(Backward.Inner, STATUS_SUCCESS);     /* report mode: it goes on */
    CHECK_EQ(OrderViolations(), 1);

    CHECK_STATUS(WdkmDiagQueryViolations(&Violation, 1, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 1);
    CHECK_EQ(Violation.Type, WdkmDiagLockOrder);
    CHECK_EQ(Violation.CycleLength, 2);
    CHECK(strcmp(Violation.Held, "queue.B") == 0);
    CHECK(strcmp(Violation.Acquiring, "device.A") == 0);
    CHECK(Violation.AcquireFile != NULL && strstr(Violation.AcquireFile, "test_diag.c") != NULL);
    CHECK_EQ(Violation.AcquireLine, Backward.Line);
    CHECK(Violation.HeldFile != NULL && Violation.HeldLine != 0);

    CHECK(Printed("LOCK ORDER VIOLATION"));
    CHECK(Printed("acquires \"device.A\""));
    CHECK(Printed("while holding \"queue.B\""));
    snprintf(Site, sizeof(Site), "test_diag.c:%u", (unsigned)Forward.Line);
    CHECK(Printed(Site));                   /* the earlier order's site too */

    /* Reported once: the same inversion again adds no report. */
    CHECK(WdkmTestRunThreads(1, TakeInOrder, &Backward));
    CHECK_EQ(OrderViolations(), 1);
    CHECK_STATUS(WdkmFastMutexDestroy(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(B), STATUS_SUCCESS);
}

/* Refuse mode, with both orders racing: one is refused, nothing deadlocks. */
static VOID
AbbaRefusedWhileRacing(VOID)
{
    PWDKM_FAST_MUTEX A;
    PWDKM_FAST_MUTEX B;
    PAIR Pairs[2];
    WDKM_TEST_THREAD *Threads[2];
    ULONG Round;
    ULONG Refused = 0;
    VALUE *Value;

    Begin();
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &A), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);
    for (Round = 0; Round < 200; Round += 1) {
        Pairs[0].First = A;
        Pairs[0].Second = B;
        Pairs[1].First = B;
        Pairs[1].Second = A;
        Threads[0] = WdkmTestStartThread(TakeInOrder, &Pairs[0]);
        Threads[1] = WdkmTestStartThread(TakeInOrder, &Pairs[1]);
        CHECK(Threads[0] != NULL && Threads[1] != NULL);
        WdkmTestJoinThread(Threads[0]);
        WdkmTestJoinThread(Threads[1]);
        /* Whichever order was recorded first stands; the other is refused. */
        CHECK(Pairs[0].Inner == STATUS_SUCCESS || Pairs[1].Inner == STATUS_SUCCESS);
        Refused += (Pairs[0].Inner == STATUS_POSSIBLE_DEADLOCK) +
                   (Pairs[1].Inner == STATUS_POSSIBLE_DEADLOCK);
    }
    CHECK_EQ(Refused, 200);
    CHECK_EQ(OrderViolations(), 200);
    CHECK(Printed("acquisition refused: STATUS_POSSIBLE_DEADLOCK"));
    /* Refused means not held. */
    CHECK(!WdkmFastMutexIsOwned(A) && !WdkmFastMutexIsOwned(B));
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(A, &Value), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(B), STATUS_SUCCESS);
}

static VOID
ThreeLockCycle(VOID)
{
    PWDKM_KMUTEX A;
    PWDKM_KMUTEX B;
    PWDKM_KMUTEX C;
    WDKM_DIAG_VIOLATION Violation;
    VALUE *Outer;
    VALUE *Inner;
    ULONG Count;

    Begin();
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &A), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &B), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &C), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(A, "A"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(B, "B"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(C, "C"), STATUS_SUCCESS);

    /* A before B, B before C: fine. C before A closes A -> B -> C -> A. */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(A, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(B, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(A), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(B, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(C, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(C), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(B), STATUS_SUCCESS);
    CHECK_EQ(OrderViolations(), 0);

    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(C, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(A, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(C), STATUS_SUCCESS);
    CHECK_EQ(OrderViolations(), 1);
    CHECK_STATUS(WdkmDiagQueryViolations(&Violation, 1, &Count), STATUS_SUCCESS);
    CHECK_EQ(Violation.CycleLength, 3);
    CHECK(strcmp(Violation.Held, "C") == 0 && strcmp(Violation.Acquiring, "A") == 0);
    CHECK(Printed("a cycle of 3 classes"));
    CHECK(Printed("\"B\" was acquired at"));
    CHECK(Printed("\"C\" was acquired at"));

    CHECK_STATUS(WdkmKMutexDestroy(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(C), STATUS_SUCCESS);
}

/* 8 threads x 100,000 operations, always in one order: nothing reported. */
#define ORDER_THREADS 8
#define ORDER_OPERATIONS 100000

typedef struct _ORDERED {
    PWDKM_FAST_MUTEX Outer;
    PWDKM_KMUTEX Middle;
    PWDKM_SPIN_LOCK Inner;
    LONG Failures;
} ORDERED;

static VOID
TakeAlwaysInOrder(PVOID Context, ULONG Index)
{
    ORDERED *Ordered = (ORDERED *)Context;
    ULONG State = 0x9E3779B9u * (Index + 1);
    ULONG Operation;

    for (Operation = 0; Operation < ORDER_OPERATIONS; Operation += 1) {
        VALUE *Outer = NULL;
        VALUE *Middle = NULL;
        VALUE *Inner;
        KIRQL OldIrql;
        BOOLEAN TakeOuter;
        BOOLEAN TakeMiddle;

        State = State * 1103515245u + 12345u;
        TakeOuter = (State >> 16) & 1;
        TakeMiddle = (State >> 17) & 1;
        /* Any subset, always outer -> middle -> inner. */
        if (TakeOuter && WDKM_FAST_MUTEX_ACQUIRE(Ordered->Outer, &Outer) != STATUS_SUCCESS) {
            InterlockedIncrement(&Ordered->Failures);
            return;
        }
        if (TakeMiddle && WDKM_KMUTEX_ACQUIRE(Ordered->Middle, &Middle) != STATUS_SUCCESS) {
            InterlockedIncrement(&Ordered->Failures);
            return;
        }
        if (WDKM_SPIN_LOCK_ACQUIRE(Ordered->Inner, &OldIrql, &Inner) != STATUS_SUCCESS) {
            InterlockedIncrement(&Ordered->Failures);
            return;
        }
        Inner->Count += 1;
        (VOID)WdkmSpinLockRelease(Ordered->Inner, OldIrql);
        if (Middle != NULL) {
            Middle->Count += 1;
            (VOID)WdkmKMutexRelease(Ordered->Middle);
        }
        if (Outer != NULL) {
            Outer->Count += 1;
            (VOID)WdkmFastMutexRelease(Ordered->Outer);
        }
    }
}

static VOID
NoFalsePositiveInOneOrder(VOID)
{
    ORDERED Ordered;
    VALUE Final;
    WDKM_DIAG_SUMMARY Summary;

    Begin();
    Ordered.Failures = 0;
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &Ordered.Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Ordered.Middle), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Ordered.Inner), STATUS_SUCCESS);
    CHECK(WdkmTestRunThreads(ORDER_THREADS, TakeAlwaysInOrder, &Ordered));
    CHECK_EQ(Ordered.Failures, 0);
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.OrderViolations, 0);
    CHECK_EQ(Summary.ContextViolations, 0);
    CHECK_EQ(Summary.Untracked, 0);
    CHECK(!Printed("VIOLATION"));
    CHECK_STATUS(WDKM_SPIN_LOCK_TAKE(Ordered.Inner, &Final), STATUS_SUCCESS);
    CHECK_EQ(Final.Count, ORDER_THREADS * ORDER_OPERATIONS);
    CHECK_STATUS(WdkmKMutexDestroy(Ordered.Middle), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Ordered.Outer), STATUS_SUCCESS);
}

/* A try cannot deadlock: taking A by try while holding B is no inversion. */
static VOID
TryIsExempt(VOID)
{
    PWDKM_FAST_MUTEX A;
    PWDKM_KMUTEX B;
    VALUE *Outer;
    VALUE *Inner;

    Begin();
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &A), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &B), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(A, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(B, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(A), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(B, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_TRY_ACQUIRE(A, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(B), STATUS_SUCCESS);
    /* The KMUTEX try form too. */
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(A, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_TRY_ACQUIRE(B, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(A), STATUS_SUCCESS);
    CHECK_EQ(OrderViolations(), 0);
    CHECK(!Printed("VIOLATION"));

    /* The same reversal as a waiting acquisition is reported. */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(B, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(A, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(B), STATUS_SUCCESS);
    CHECK_EQ(OrderViolations(), 1);
    CHECK_STATUS(WdkmFastMutexDestroy(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(B), STATUS_SUCCESS);
}

/* Recursion on recursive kinds is not an inversion. */
static VOID
RecursionIsNotInversion(VOID)
{
    PWDKM_KMUTEX Mutex;
    PWDKM_RESOURCE Resource;
    PWDKM_FAST_MUTEX Other;
    VALUE *Value;
    VALUE *Again;
    VALUE *Middle;

    Begin();
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_CREATE(&Zero, &Resource), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &Other), STATUS_SUCCESS);
    /* Mutex, Other, Mutex again: Other is under Mutex both times. */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Value), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Other, &Middle), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Again), STATUS_SUCCESS);
    CHECK(WdkmDiagIsHeld(Mutex));
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK(WdkmDiagIsHeld(Mutex));
    CHECK_STATUS(WdkmFastMutexRelease(Other), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK(!WdkmDiagIsHeld(Mutex));
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Value), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Again), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK_EQ(OrderViolations(), 0);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceDestroy(Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Other), STATUS_SUCCESS);
}

/* Registry locks are ordered by their registry names. */
static VOID
RegistryNamesAreClasses(VOID)
{
    PWDKM_FAST_MUTEX A;
    PWDKM_FAST_MUTEX B;
    WDKM_DIAG_VIOLATION Violation;
    VALUE *Outer;
    VALUE *Inner;
    ULONG Count;

    Begin();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("Grt.A", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("Grt.B", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("Grt.A", VALUE, &A), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("Grt.B", VALUE, &B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(A, "renamed"), STATUS_WDKM_OWNED_BY_REGISTRY);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(A, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(B, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(A), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(B, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(A, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQueryViolations(&Violation, 1, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 1);
    CHECK(strcmp(Violation.Held, "Grt.B") == 0 && strcmp(Violation.Acquiring, "Grt.A") == 0);
    CHECK_STATUS(WdkmGrtDereference(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* Context                                                                */

static VOID
WaitUnderSpinLockNamesTheSpinLock(VOID)
{
    PWDKM_SPIN_LOCK Spin;
    PWDKM_FAST_MUTEX Mutex;
    WDKM_DIAG_VIOLATION Violation;
    VALUE *Outer;
    VALUE *Inner;
    KIRQL OldIrql;
    NTSTATUS Result;
    ULONG Count;

    Begin();
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(Spin, "isr.spin"), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spin, &OldIrql, &Outer), STATUS_SUCCESS);
    Result = WDKM_FAST_MUTEX_ACQUIRE(Mutex, &Inner);
    CHECK_STATUS(WdkmSpinLockRelease(Spin, OldIrql), STATUS_SUCCESS);
    CHECK_STATUS(Result, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmDiagQueryViolations(&Violation, 1, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 1);
    CHECK_EQ(Violation.Type, WdkmDiagWaitUnderSpinLock);
    CHECK(strcmp(Violation.Held, "isr.spin") == 0);
    CHECK(Printed("CONTEXT VIOLATION: waiting for"));
    CHECK(Printed("while holding spin lock \"isr.spin\""));
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Mutex), STATUS_SUCCESS);
}

static VOID
CheckpointFindsHeldLocksAndRegions(VOID)
{
    PWDKM_KMUTEX Mutex;
    WDKM_REGION Region;
    VALUE *Value;

    Begin();
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagCheckNoneHeld("idle"), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Value), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
    WDKM_ASSERT_HELD(Mutex);
    CHECK_STATUS(WdkmDiagCheckNoneHeld("dispatch return"), STATUS_WDKM_LOCK_HELD);
    CHECK(Printed("CONTEXT VIOLATION at dispatch return"));
    CHECK(Printed("region(s) not left"));
    CHECK_STATUS(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagCheckNoneHeld("after"), STATUS_SUCCESS);

    /* The assertion macros, in both directions. */
    WDKM_ASSERT_NOT_HELD(Mutex);
    CHECK(!Printed("ASSERTION FAILED"));
    WDKM_ASSERT_HELD(Mutex);
    CHECK(Printed("ASSERTION FAILED"));
    CHECK(Printed("held: Mutex"));
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* Statistics                                                             */

typedef struct _HOLDER {
    PWDKM_FAST_MUTEX Lock;
    KEVENT Held;
} HOLDER;

static VOID
HoldFor50Ms(PVOID Context, ULONG Index)
{
    HOLDER *Holder = (HOLDER *)Context;
    VALUE *Value;

    (VOID)Index;
    if (WDKM_FAST_MUTEX_ACQUIRE(Holder->Lock, &Value) != STATUS_SUCCESS) {
        return;
    }
    KeSetEvent(&Holder->Held, 0, FALSE);
    WdkmTestSleepMs(50);
    (VOID)WdkmFastMutexRelease(Holder->Lock);
}

static VOID
StatisticsAreExact(VOID)
{
    HOLDER Holder;
    PWDKM_FAST_MUTEX Twin;
    WDKM_DIAG_STATISTICS Lock;
    WDKM_DIAG_STATISTICS Classes[8];
    WDKM_TEST_THREAD *Thread;
    ULONG Count;
    ULONG Index;
    VALUE *Value;

    Begin();
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &Holder.Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &Twin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(Holder.Lock, "stats.class"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(Twin, "stats.class"), STATUS_SUCCESS);

    /* Ten uncontended acquisitions of the one, five of its twin. */
    for (Index = 0; Index < 10; Index += 1) {
        CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Holder.Lock, &Value), STATUS_SUCCESS);
        CHECK_STATUS(WdkmFastMutexRelease(Holder.Lock), STATUS_SUCCESS);
    }
    for (Index = 0; Index < 5; Index += 1) {
        CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Twin, &Value), STATUS_SUCCESS);
        CHECK_STATUS(WdkmFastMutexRelease(Twin), STATUS_SUCCESS);
    }
    /* Holds are not timed unless the policy asks. */
    CHECK_STATUS(WdkmDiagQueryLockStatistics(Holder.Lock, &Lock), STATUS_SUCCESS);
    CHECK_EQ(Lock.Acquisitions, 10);
    CHECK_EQ(Lock.MaxHoldNs, 0);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REPORT | WDKM_DIAG_TIME_HOLDS), STATUS_SUCCESS);

    /* One contended: another thread holds it for 50 ms. */
    KeInitializeEvent(&Holder.Held, NotificationEvent, FALSE);
    Thread = WdkmTestStartThread(HoldFor50Ms, &Holder);
    CHECK(Thread != NULL);
    (VOID)KeWaitForSingleObject(&Holder.Held, Executive, KernelMode, FALSE, NULL);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Holder.Lock, &Value), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(Holder.Lock), STATUS_SUCCESS);
    WdkmTestJoinThread(Thread);

    CHECK_STATUS(WdkmDiagQueryLockStatistics(Holder.Lock, &Lock), STATUS_SUCCESS);
    CHECK_EQ(Lock.Acquisitions, 12);      /* 10 + the holder's + the contended one */
    CHECK_EQ(Lock.Contended, 1);
    CHECK(Lock.MaxWaitNs >= 20000000ull && Lock.MaxWaitNs < 5000000000ull);
    CHECK_EQ(Lock.TotalWaitNs, Lock.MaxWaitNs);
    CHECK(Lock.MaxHoldNs >= 40000000ull);
    CHECK(strcmp(Lock.Name, "stats.class") == 0);

    CHECK_STATUS(WdkmDiagQueryStatistics(Classes, 8, &Count, TRUE), STATUS_SUCCESS);
    CHECK(ClassStatistics("stats.class", &Classes[0]));
    CHECK_EQ(Classes[0].Acquisitions, 17);
    CHECK_EQ(Classes[0].Contended, 1);
    CHECK_EQ(Classes[0].Locks, 2);
    CHECK_EQ(Classes[0].Kind, WdkmLockKindFastMutex);
    CHECK(Printed("lock statistics, per class"));
    CHECK(Printed("stats.class"));
    CHECK(Printed("FAST_MUTEX"));

    /* Too small a buffer says so, and counts them all. */
    CHECK_STATUS(WdkmDiagQueryStatistics(NULL, 0, &Count, FALSE), STATUS_BUFFER_OVERFLOW);
    CHECK(Count >= 1);

    /* A class keeps the figures of the locks that leave it. */
    CHECK_STATUS(WdkmFastMutexDestroy(Twin), STATUS_SUCCESS);
    CHECK(ClassStatistics("stats.class", &Classes[0]));
    CHECK_EQ(Classes[0].Acquisitions, 17);
    CHECK_EQ(Classes[0].Locks, 1);
    CHECK_STATUS(WdkmFastMutexDestroy(Holder.Lock), STATUS_SUCCESS);
    CHECK(ClassStatistics("stats.class", &Classes[0]));
    CHECK_EQ(Classes[0].Acquisitions, 17);
    CHECK_EQ(Classes[0].Contended, 1);
    CHECK(Classes[0].MaxHoldNs >= 40000000ull);
    CHECK_EQ(Classes[0].Locks, 0);
}

/* ---------------------------------------------------------------------- */
/* Thread records                                                         */

#define IDLE_THREADS (2 * WDKM_DIAG_MAX_THREADS)

typedef struct _IDLE {
    PWDKM_FAST_MUTEX Lock;
    LONG volatile Done;
    KEVENT Finish;
} IDLE;

/* One acquisition, then idle (alive, holding nothing) until told to end. */
static VOID
AcquireOnceThenIdle(PVOID Context, ULONG Index)
{
    IDLE *Idle = (IDLE *)Context;
    VALUE *Value;

    UNREFERENCED_PARAMETER(Index);
    if (WDKM_FAST_MUTEX_ACQUIRE(Idle->Lock, &Value) == STATUS_SUCCESS) {
        Value->Count += 1;
        (VOID)WdkmFastMutexRelease(Idle->Lock);
    }
    InterlockedIncrement(&Idle->Done);
    (VOID)KeWaitForSingleObject(&Idle->Finish, Executive, KernelMode, FALSE, NULL);
}

/* A thread that holds nothing keeps its record parked, but leaves it to a
   thread that finds no free one: twice as many live threads as the table
   has records are all tracked. */
static VOID
IdleThreadsLeaveTheirRecords(VOID)
{
    WDKM_TEST_THREAD *Threads[IDLE_THREADS];
    WDKM_DIAG_SUMMARY Summary;
    IDLE Idle;
    VALUE Final;
    ULONG Index;

    Begin();
    Idle.Done = 0;
    KeInitializeEvent(&Idle.Finish, NotificationEvent, FALSE);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &Idle.Lock), STATUS_SUCCESS);
    for (Index = 0; Index < IDLE_THREADS; Index += 1) {
        Threads[Index] = WdkmTestStartThread(AcquireOnceThenIdle, &Idle);
        CHECK(Threads[Index] != NULL);
    }
    while (InterlockedCompareExchange(&Idle.Done, 0, 0) < IDLE_THREADS) {
        WdkmTestSleepMs(1);
    }
    (VOID)KeSetEvent(&Idle.Finish, 0, FALSE);
    for (Index = 0; Index < IDLE_THREADS; Index += 1) {
        WdkmTestJoinThread(Threads[Index]);
    }
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.Untracked, 0);
    CHECK(!Printed("thread table full"));
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(Idle.Lock, &Final), STATUS_SUCCESS);
    CHECK_EQ(Final.Count, IDLE_THREADS);
}

/* ---------------------------------------------------------------------- */
/* Leak check                                                             */

static VOID
LeakCheckFindsTheLeakAndOnlyIt(VOID)
{
    WDKM_DIAG_SUMMARY Summary;
    PWDKM_SPIN_LOCK Leaked;
    PWDKM_KMUTEX Fine;

    WdkmTestInterruptsPause();      /* it counts every live lock and block */
    Begin();
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Fine), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Fine), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagLeakCheck(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.LiveLocks, 0);
    CHECK_EQ(Summary.PoolBlocks, 0);
    CHECK(!Printed("LEAK"));

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Leaked), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(Leaked, "forgotten.lock"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagLeakCheck(&Summary), STATUS_WDKM_LEAK_DETECTED);
    CHECK_EQ(Summary.LiveLocks, 1);
    CHECK_EQ(Summary.HeldLocks, 0);
    CHECK_EQ(Summary.PoolBlocks, 1);
    CHECK(Printed("LEAK: SPIN_LOCK \"forgotten.lock\" never destroyed"));
    CHECK(Printed("LEAKS FOUND"));

    CHECK_STATUS(WdkmSpinLockDestroy(Leaked), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagLeakCheck(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.LiveLocks, 0);
}

/*
 * Library pool that belongs to no lock is a leak too (reference.md: "no
 * library pool is outstanding"): the registry's table, when the driver
 * initialised the registry and never destroyed it, with no name
 * registered. No lock is live, so only the pool term can see it.
 */
static VOID
LeakCheckFindsPoolWithoutALock(VOID)
{
    WDKM_DIAG_SUMMARY Summary;
    NTSTATUS Status;

    Begin();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Status = WdkmDiagLeakCheck(&Summary);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_STATUS(Status, STATUS_WDKM_LEAK_DETECTED);
    CHECK_EQ(Summary.LiveLocks, 0);
    CHECK_EQ(Summary.UnbalancedRegions, 0);
    CHECK(Summary.PoolBlocks > 0);
    CHECK(Printed("LEAKS FOUND"));

    CHECK_STATUS(WdkmDiagLeakCheck(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.PoolBlocks, 0);
}

/* A lock created through the typed macro is named after its creation site. */
static VOID
CreationSiteIsTheDefaultClass(VOID)
{
    PWDKM_KMUTEX Mutex;
    PWDKM_KMUTEX Plain;
    WDKM_DIAG_STATISTICS Statistics;
    CHAR Expected[64];
    ULONG Line;

    Begin();
    Line = __LINE__ + 1;
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexCreate(&Zero, sizeof(Zero), &Plain), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQueryLockStatistics(Mutex, &Statistics), STATUS_SUCCESS);
    snprintf(Expected, sizeof(Expected), "test_diag.c:%u", (unsigned)Line);
    CHECK(strcmp(Statistics.Name, Expected) == 0);
    CHECK_STATUS(WdkmDiagQueryLockStatistics(Plain, &Statistics), STATUS_SUCCESS);
    CHECK(strncmp(Statistics.Name, "KMUTEX@", 7) == 0);     /* a class of one */
    CHECK_STATUS(WdkmDiagSetClassName(NULL, "x"), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmDiagSetClassName(Mutex, ""), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmDiagSetPolicy(0x80), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Plain), STATUS_SUCCESS);
}

/* The library's debugger output follows the component and level chosen. */
static ULONG SeenComponent;

static VOID
ComponentSink(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    (VOID)Level;
    (VOID)Context;
    SeenComponent = ComponentId;
    CaptureSink(ComponentId, Level, Message, Context);
}

static VOID
DebugOutputComponentAndLevel(VOID)
{
    PWDKM_KMUTEX Mutex;
    ULONG Component;
    ULONG Level;

    Begin();
    WdkmHostSetDebugPrintSink(ComponentSink, NULL);
    WdkmDebugQueryOutput(&Component, &Level);
    CHECK_EQ(Component, WDKM_DEBUG_DEFAULT_COMPONENT);
    CHECK_EQ(Level, WDKM_DEBUG_DEFAULT_LEVEL);
    CHECK_STATUS(WdkmDebugSetOutput(77, WDKM_DEBUG_ERROR), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    WDKM_ASSERT_HELD(Mutex);                        /* an ERROR-level report */
    CHECK_EQ(SeenComponent, 77);
    CHECK(Printed("ASSERTION FAILED"));

    CapturedLength = 0;
    Captured[0] = '\0';
    CHECK_STATUS(WdkmDebugSetOutput(77, WDKM_DEBUG_OFF), STATUS_SUCCESS);
    WDKM_ASSERT_HELD(Mutex);
    CHECK_EQ(CapturedLength, 0);
    CHECK_STATUS(WdkmDebugSetOutput(77, 32), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmDebugSetOutput(WDKM_DEBUG_DEFAULT_COMPONENT, WDKM_DEBUG_DEFAULT_LEVEL),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

static const WDKM_TEST_CASE DiagCases[] = {
    { "abba_reported_on_first_inversion", AbbaReportedOnFirstInversion },
    { "abba_refused_while_racing", AbbaRefusedWhileRacing },
    { "three_lock_cycle", ThreeLockCycle },
    { "no_false_positive_8x100000_in_one_order", NoFalsePositiveInOneOrder },
    { "idle_threads_leave_their_records", IdleThreadsLeaveTheirRecords },
    { "try_is_exempt", TryIsExempt },
    { "recursion_is_not_inversion", RecursionIsNotInversion },
    { "registry_names_are_classes", RegistryNamesAreClasses },
    { "wait_under_spin_lock_names_the_spin_lock", WaitUnderSpinLockNamesTheSpinLock },
    { "checkpoint_finds_held_locks_and_regions", CheckpointFindsHeldLocksAndRegions },
    { "statistics_are_exact", StatisticsAreExact },
    { "leak_check_finds_the_leak_and_only_it", LeakCheckFindsTheLeakAndOnlyIt },
    { "leak_check_finds_pool_without_a_lock", LeakCheckFindsPoolWithoutALock },
    { "creation_site_is_the_default_class", CreationSiteIsTheDefaultClass },
    { "debug_output_component_and_level", DebugOutputComponentAndLevel },
};

const WDKM_TEST_SUITE WdkmDiagSuite = WDKM_TEST_SUITE_WITH_CLEANUP("diag", DiagCases, Cleanup);
