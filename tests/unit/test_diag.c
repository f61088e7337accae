/*
 * test_diag.c - the checked build's diagnostics (wdkm_diag.h): lock-order
 * validation, context checks, statistics, the leak check. Built only into
 * the checked test program (WDKM_CHECKED=1).
 */
#include <stdio.h>
#include <string.h>

#include "wdkm_test.h"
#include "wdkm_test_interrupts.h"
#include "wdkm_port.h"     /* WdkmpForgetRoutines: the library looks at the kernel again */
#include "../../src/wdkm_diag_hooks.h"  /* WdkmpDiagClaimHook: an event at a claim's points */
#include "../../src/wdkm_diag_private.h"  /* WdkmpDiagThreads: whether a record parked */

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

/*
 * reference.md, WdkmDiagSetClassName: a held lock is not renamed
 * (STATUS_WDKM_LOCK_HELD): its held records keep the class it was taken
 * under. Once released, the rename goes ahead.
 */
static VOID
ClassNameRefusedWhileHeld(VOID)
{
    PWDKM_FAST_MUTEX Lock;
    VALUE *Data;

    Begin();
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(Lock, "before"), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Lock, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(Lock, "while.held"), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmFastMutexRelease(Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(Lock, "after"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Lock), STATUS_SUCCESS);
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

/*
 * diagnostics.md, Limits: a full class table warns and locks go on, but a
 * driver that gives each handle's registry lock a name of its own (one per
 * open) must not lose validation once 256 handles came and went: a class
 * no live lock is in is recycled, the least recently used first. Names
 * used since the others keep their orders.
 */
static ULONG
ChurnNames(PCSTR Prefix, ULONG First, ULONG Count)
{
    CHAR Name[32];
    ULONG Index;
    ULONG Done = 0;

    for (Index = First; Index < First + Count; Index += 1) {
        (VOID)snprintf(Name, sizeof(Name), "%s%lu", Prefix, (unsigned long)Index);
        if (WDKM_GRT_REGISTER_FAST_MUTEX(Name, &Zero) == STATUS_SUCCESS &&
            WdkmGrtUnregister(Name) == STATUS_SUCCESS) {
            Done += 1;
        }
    }
    return Done;
}

/* Takes First then Second, registry names, and releases both. */
static NTSTATUS
TakeNamesInOrder(PCSTR First, PCSTR Second)
{
    PWDKM_FAST_MUTEX A = NULL;
    PWDKM_FAST_MUTEX B = NULL;
    VALUE *Outer;
    VALUE *Inner;
    NTSTATUS Status = WDKM_GRT_GET_FAST_MUTEX(First, VALUE, &A);

    if (Status == STATUS_SUCCESS) {
        Status = WDKM_GRT_GET_FAST_MUTEX(Second, VALUE, &B);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_FAST_MUTEX_ACQUIRE(A, &Outer);
        if (Status == STATUS_SUCCESS) {
            Status = WDKM_FAST_MUTEX_ACQUIRE(B, &Inner);
            if (Status == STATUS_SUCCESS) {
                (VOID)WdkmFastMutexRelease(B);
            }
            (VOID)WdkmFastMutexRelease(A);
        }
    }
    if (B != NULL) {
        (VOID)WdkmGrtDereference(B);
    }
    if (A != NULL) {
        (VOID)WdkmGrtDereference(A);
    }
    return Status;
}

static VOID
PerHandleNamesNeverFillTheClassTable(VOID)
{
    WDKM_DIAG_SUMMARY Summary;

    Begin();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_EQ(ChurnNames("handle.", 0, WDKM_DIAG_MAX_CLASSES - 6), WDKM_DIAG_MAX_CLASSES - 6);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("Keep.A", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("Keep.B", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(TakeNamesInOrder("Keep.A", "Keep.B"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("Keep.A"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("Keep.B"), STATUS_SUCCESS);
    /* Twice more the table's size: the oldest handles' classes go first. */
    CHECK_EQ(ChurnNames("handle.", WDKM_DIAG_MAX_CLASSES, 100), 100);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("Keep.A", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("Keep.B", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(TakeNamesInOrder("Keep.B", "Keep.A"), STATUS_SUCCESS);
    CHECK_EQ(OrderViolations(), 1);              /* remembered across the churn */
    CHECK_EQ(ChurnNames("late.", 0, 2 * WDKM_DIAG_MAX_CLASSES), 2 * WDKM_DIAG_MAX_CLASSES);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("New.A", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("New.B", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(TakeNamesInOrder("New.A", "New.B"), STATUS_SUCCESS);
    CHECK_STATUS(TakeNamesInOrder("New.B", "New.A"), STATUS_SUCCESS);
    CHECK_EQ(OrderViolations(), 2);              /* still validated */
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.Untracked, 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/*
 * wdkm_grt.h, WdkmGrtInstanceName: the locks of one role's instances
 * ("file#<address>") share the class of the role, so an order learnt on
 * one handle is validated on the next: device then file on one handle,
 * file then device on another, is the inversion it is. The table holds
 * one class for any number of handles.
 */
static VOID
InstanceNamesShareTheirRolesClass(VOID)
{
    CHAR First[WDKM_GRT_INSTANCE_NAME_SIZE];
    CHAR Second[WDKM_GRT_INSTANCE_NAME_SIZE];
    WDKM_DIAG_VIOLATION Violation;
    ULONG Count;
    int Objects[2];

    Begin();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtInstanceName(First, sizeof(First), "file", &Objects[0]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtInstanceName(Second, sizeof(Second), "file", &Objects[1]),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("device", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX(First, &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX(Second, &Zero), STATUS_SUCCESS);
    CHECK_STATUS(TakeNamesInOrder("device", First), STATUS_SUCCESS);
    CHECK_EQ(OrderViolations(), 0);
    CHECK_STATUS(TakeNamesInOrder(Second, "device"), STATUS_SUCCESS);
    CHECK_EQ(OrderViolations(), 1);
    CHECK_STATUS(WdkmDiagQueryViolations(&Violation, 1, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 1);
    CHECK(strcmp(Violation.Held, "file") == 0 && strcmp(Violation.Acquiring, "device") == 0);
    /* Two instances nested are not ordered against each other. */
    CHECK_STATUS(TakeNamesInOrder(First, Second), STATUS_SUCCESS);
    CHECK_STATUS(TakeNamesInOrder(Second, First), STATUS_SUCCESS);
    CHECK_EQ(OrderViolations(), 1);
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

/*
 * Where the kernel never raises the IRQL (Wine), a spin lock's holder stays
 * at PASSIVE_LEVEL and the IRQL check lets a waiting acquisition through:
 * there the validator is what refuses it under WDKM_DIAG_REFUSE
 * (reference.md: "STATUS_WDKM_IRQL_TOO_HIGH for a wait under a spin
 * lock"), and nothing changes. The emulation plays such a kernel.
 */
static VOID
WaitUnderSpinLockRefusedWhereIrqlStays(VOID)
{
    PWDKM_SPIN_LOCK Spin;
    PWDKM_KMUTEX Mutex;
    VALUE *Outer;
    VALUE *Inner = (VALUE *)&Mutex;             /* must be cleared */
    KIRQL OldIrql;
    NTSTATUS Result;
    BOOLEAN Owned;

    Begin();
    /* Injected events on this thread would not model that kernel: where
       the IRQL is never raised (Wine), DPCs run on threads of their own. */
    WdkmTestInterruptsPause();
    WdkmHostSetIrqlRaisable(FALSE);
    WdkmpForgetRoutines();
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spin, &OldIrql, &Outer), STATUS_SUCCESS);
    Result = WDKM_KMUTEX_ACQUIRE(Mutex, &Inner);
    Owned = WdkmKMutexIsOwned(Mutex);
    if (Result == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(Mutex);
    }
    CHECK_STATUS(WdkmSpinLockRelease(Spin, OldIrql), STATUS_SUCCESS);
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    WdkmHostSetIrqlRaisable(TRUE);
    WdkmpForgetRoutines();                      /* looked up again at the next create */
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(Result, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Inner == NULL);
    CHECK(!Owned);
    CHECK(Printed("while holding spin lock"));
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
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

/*
 * Leaving the last region delivers the kernel APCs it held off, inside the
 * leave (KeLeaveCriticalRegion / KeLeaveGuardedRegion, as NT does). Such an
 * APC is the thread with the region left: its checkpoint must not find the
 * region still recorded (the record used to be updated after the leave).
 */
typedef struct _REGION_APC {
    LONG Ran;
    KIRQL Irql;
    NTSTATUS Status;
} REGION_APC;

static VOID
RegionApcCheckpoint(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    REGION_APC *Apc = (REGION_APC *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Apc->Irql = KeGetCurrentIrql();
    Apc->Status = WdkmDiagCheckNoneHeld("apc after region leave");
    Apc->Ran += 1;
}

static VOID
RegionLeaveApcFindsRegionLeft(VOID)
{
    static const WDKM_HOST_INTERRUPT Kinds[] = { WdkmHostInterruptNormalApc,
                                                 WdkmHostInterruptSpecialApc };
    WDKM_REGION Region;
    REGION_APC Apc;
    ULONG Guarded;
    ULONG Kind;

    Begin();
    for (Guarded = 0; Guarded < 2; Guarded += 1) {
        /* A critical region holds off normal kernel APCs only. */
        for (Kind = 0; Kind < (Guarded ? 2u : 1u); Kind += 1) {
            memset(&Apc, 0, sizeof(Apc));
            CHECK_STATUS(Guarded ? WdkmRegionEnterGuarded(&Region) : WdkmRegionEnterCritical(&Region),
                         STATUS_SUCCESS);
            WdkmHostQueueInterrupt(KeGetCurrentThread(), Kinds[Kind], RegionApcCheckpoint, &Apc);
            CHECK_EQ(Apc.Ran, 0);               /* held off by the region */
            CHECK_STATUS(WdkmRegionLeave(&Region), STATUS_SUCCESS);
            CHECK_EQ(Apc.Ran, 1);               /* delivered inside the leave */
            CHECK_EQ(Apc.Irql, Kinds[Kind] == WdkmHostInterruptNormalApc ? PASSIVE_LEVEL : APC_LEVEL);
            CHECK_STATUS(Apc.Status, STATUS_SUCCESS);
            CHECK_STATUS(WdkmDiagCheckNoneHeld("after region leave"), STATUS_SUCCESS);
        }
    }
    CHECK(!Printed("region(s) not left"));
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

/* WDKM_DIAG_MAX_THREADS threads, all holding a lock at once: every one is
   tracked (no thread is left without a record while one is free). */
typedef struct _LIVE {
    LONG volatile Ready;
    LONG volatile Failures;
    KEVENT Finish;
} LIVE;

static VOID
HoldOwnLockUntilTold(PVOID Context, ULONG Index)
{
    LIVE *Live = (LIVE *)Context;
    PWDKM_KMUTEX Mutex;
    VALUE *Value;

    UNREFERENCED_PARAMETER(Index);
    if (WDKM_KMUTEX_CREATE(&Zero, &Mutex) != STATUS_SUCCESS) {
        InterlockedIncrement(&Live->Failures);
        InterlockedIncrement(&Live->Ready);
        return;
    }
    if (WDKM_KMUTEX_ACQUIRE(Mutex, &Value) != STATUS_SUCCESS) {
        InterlockedIncrement(&Live->Failures);
    } else {
        InterlockedIncrement(&Live->Ready);
        (VOID)KeWaitForSingleObject(&Live->Finish, Executive, KernelMode, FALSE, NULL);
        /* Tracked: the checkpoint sees the hold. */
        if (WdkmDiagCheckNoneHeld("live") != STATUS_WDKM_LOCK_HELD) {
            InterlockedIncrement(&Live->Failures);
        }
        (VOID)WdkmKMutexRelease(Mutex);
    }
    (VOID)WdkmKMutexDestroy(Mutex);
}

static VOID
TableTracksAllItsLiveThreads(VOID)
{
    WDKM_TEST_THREAD *Threads[WDKM_DIAG_MAX_THREADS - 1];
    WDKM_DIAG_SUMMARY Summary;
    PWDKM_KMUTEX Mutex;
    NTSTATUS Held;
    VALUE *Value;
    LIVE Live;
    ULONG Index;

    /* The table's free count is the point here, exactly, under random
       injection too (make check-interrupts): an injected event's record is
       its thread's, and one it took is parked again before it returns.
       thread_table_exact_under_interrupts attacks it under dense
       injection, with a full table and after threads end. */
    Begin();
    Live.Ready = 0;
    Live.Failures = 0;
    KeInitializeEvent(&Live.Finish, NotificationEvent, FALSE);
    /* This thread and WDKM_DIAG_MAX_THREADS - 1 others: every thread an
       injected DPC can land on holds a lock (and has its record). */
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Value), STATUS_SUCCESS);
    for (Index = 0; Index < WDKM_DIAG_MAX_THREADS - 1; Index += 1) {
        Threads[Index] = WdkmTestStartThread(HoldOwnLockUntilTold, &Live);
        if (Threads[Index] == NULL) {
            InterlockedIncrement(&Live.Failures);
            InterlockedIncrement(&Live.Ready);
        }
    }
    while (InterlockedCompareExchange(&Live.Ready, 0, 0) < WDKM_DIAG_MAX_THREADS - 1) {
        WdkmTestSleepMs(1);
    }
    Summary.Untracked = 0;
    (VOID)WdkmDiagQuerySummary(&Summary);
    Held = WdkmDiagCheckNoneHeld("main");
    (VOID)KeSetEvent(&Live.Finish, 0, FALSE);
    for (Index = 0; Index < WDKM_DIAG_MAX_THREADS - 1; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_EQ(Summary.Untracked, 0);
    CHECK_EQ(Live.Failures, 0);
    CHECK_STATUS(Held, STATUS_WDKM_LOCK_HELD);
    CHECK(!Printed("thread table full"));
}

/* ---------------------------------------------------------------------- */
/* Interrupts: a DPC runs on the thread it interrupts                      */

/*
 * A DPC on the owner's thread (modelled by raising the IRQL to
 * DISPATCH_LEVEL on that thread): its holds are its own frame. Inside it,
 * CheckNoneHeld sees only what the DPC holds; after it, the thread's
 * record is exactly what it was, and a legitimate acquisition under
 * WDKM_DIAG_REFUSE goes ahead.
 */
static VOID
DpcHoldsAreItsOwnFrame(VOID)
{
    PWDKM_KMUTEX Mutex;
    PWDKM_SPIN_LOCK Spin;
    PWDKM_SPIN_LOCK Other;
    VALUE *Value;
    VALUE *Inner;
    KIRQL OldIrql;
    KIRQL SpinIrql;

    Begin();
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Other), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Value), STATUS_SUCCESS);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);              /* a DPC lands */
    CHECK_STATUS(WdkmDiagCheckNoneHeld("dpc entry"), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Spin, &Inner), STATUS_SUCCESS);
    CHECK(WdkmDiagIsHeld(Spin));
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Other, &SpinIrql, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagCheckNoneHeld("dpc middle"), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockRelease(Other, SpinIrql), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Spin), STATUS_SUCCESS);
    CHECK(!WdkmDiagIsHeld(Spin));
    CHECK_STATUS(WdkmDiagCheckNoneHeld("dpc return"), STATUS_SUCCESS);
    KeLowerIrql(OldIrql);

    /* The thread's record: the mutex, and only it. */
    CHECK(WdkmDiagIsHeld(Mutex));
    CHECK(!WdkmDiagIsHeld(Spin) && !WdkmDiagIsHeld(Other));
    CHECK(!Printed("\"dpc entry\"") && !Printed("at dpc entry") && !Printed("at dpc return"));
    CHECK_STATUS(WdkmDiagCheckNoneHeld("thread"), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagCheckNoneHeld("thread done"), STATUS_SUCCESS);
    CHECK(!WdkmDiagIsHeld(Mutex));

    /* A thread at DISPATCH_LEVEL because it holds a spin lock is no DPC:
       its own checkpoint there sees what it acquired below. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spin, &SpinIrql, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagCheckNoneHeld("own spin"), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockRelease(Spin, SpinIrql), STATUS_SUCCESS);

    /* Nothing left behind: a legitimate acquisition is not refused. */
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Value), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagCheckNoneHeld("end"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Other), STATUS_SUCCESS);
}

/*
 * Injected interrupts, at any instruction: threads doing acquire/release
 * pairs while DPCs take spin locks on them, special APCs take a spin lock
 * and normal APCs a FAST_MUTEX. The records stay exact: after every pair
 * the thread holds nothing, inside every DPC the DPC holds only its own,
 * and under WDKM_DIAG_REFUSE no legitimate acquisition is refused.
 */
#define INJECTED_THREADS 4
#define INJECTED_PAIRS 300000

typedef struct _INJECTED {
    PWDKM_KMUTEX Mutex;              /* the threads' */
    PWDKM_FAST_MUTEX Fast;           /* the threads' */
    PWDKM_SPIN_LOCK ThreadSpin;      /* the threads', from PASSIVE_LEVEL */
    PWDKM_SPIN_LOCK InterruptSpin;   /* the DPCs' and special APCs' */
    PWDKM_SPIN_LOCK DpcInner;        /* the DPCs', under InterruptSpin */
    PWDKM_FAST_MUTEX ApcFast;        /* the normal APCs' */
    LONG volatile Failures;
    LONG volatile FirstFailure;      /* its line */
    LONG volatile Ran[WDKM_HOST_INTERRUPT_KINDS];
    LONG volatile Closed;            /* the test is over: a late event does nothing */
    LONG volatile Running;           /* events inside InjectedWork */
} INJECTED;

/* A failure noted where CHECK cannot run (an injected event, a worker):
   State has Failures and FirstFailure (its line). */
#define NOTE_FAILURE(State)                                                    \
    do {                                                                       \
        InterlockedCompareExchange(&(State)->FirstFailure, __LINE__, 0);       \
        InterlockedIncrement(&(State)->Failures);                              \
    } while (0)

/* No allocation, no printing: it may have interrupted either. */
static VOID
InjectedWork(INJECTED *State, WDKM_HOST_INTERRUPT Kind, ULONG64 Random)
{
    VALUE *Value;
    VALUE *Inner;
    KIRQL OldIrql;

    InterlockedIncrement(&State->Ran[Kind]);
    if (Kind == WdkmHostInterruptDpc) {
        /* The interrupted thread's holds are not the DPC's. */
        if (WdkmDiagCheckNoneHeld("injected dpc") != STATUS_SUCCESS) {
            NOTE_FAILURE(State);
        }
        if (WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(State->InterruptSpin, &Value) != STATUS_SUCCESS) {
            NOTE_FAILURE(State);
            return;
        }
        if (!WdkmDiagIsHeld(State->InterruptSpin)) {
            NOTE_FAILURE(State);
        }
        if ((Random & 1) != 0) {
            if (WDKM_SPIN_LOCK_ACQUIRE(State->DpcInner, &OldIrql, &Inner) != STATUS_SUCCESS) {
                NOTE_FAILURE(State);
            } else {
                Inner->Count += 1;
                if (!WdkmDiagIsHeld(State->DpcInner) ||
                    WdkmSpinLockRelease(State->DpcInner, OldIrql) != STATUS_SUCCESS) {
                    NOTE_FAILURE(State);
                }
            }
        }
        Value->Count += 1;
        if (WdkmSpinLockReleaseFromDpcLevel(State->InterruptSpin) != STATUS_SUCCESS ||
            WdkmDiagIsHeld(State->InterruptSpin)) {
            NOTE_FAILURE(State);
        }
        if (WdkmDiagCheckNoneHeld("injected dpc return") != STATUS_SUCCESS) {
            NOTE_FAILURE(State);
        }
    } else if (Kind == WdkmHostInterruptSpecialApc) {
        /* At APC_LEVEL, maybe in the middle of the thread's own push or pop. */
        if (WDKM_SPIN_LOCK_ACQUIRE(State->InterruptSpin, &OldIrql, &Value) != STATUS_SUCCESS) {
            NOTE_FAILURE(State);
            return;
        }
        Value->Count += 1;
        if (!WdkmDiagIsHeld(State->InterruptSpin) ||
            WdkmSpinLockRelease(State->InterruptSpin, OldIrql) != STATUS_SUCCESS) {
            NOTE_FAILURE(State);
        }
    } else {
        /* At PASSIVE_LEVEL, where the thread holds no lock at all. */
        if (WdkmDiagCheckNoneHeld("injected normal apc") != STATUS_SUCCESS) {
            NOTE_FAILURE(State);
        }
        if (WDKM_FAST_MUTEX_ACQUIRE(State->ApcFast, &Value) != STATUS_SUCCESS) {
            NOTE_FAILURE(State);
            return;
        }
        Value->Count += 1;
        if (WdkmFastMutexRelease(State->ApcFast) != STATUS_SUCCESS) {
            NOTE_FAILURE(State);
        }
    }
}

static VOID
InjectedRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    INJECTED *State = (INJECTED *)Context;

    InterlockedIncrement(&State->Running);
    if (InterlockedCompareExchange(&State->Closed, 0, 0) == 0) {
        InjectedWork(State, Kind, Random);
    }
    InterlockedDecrement(&State->Running);
}

#define OWN_SEED_PAIRS 15             /* the tests' own injections' seeds */
#define OWN_SEED_TABLE 16

/* Starts injection of InjectedRoutine's events on State, densely: the
   weights are the tests' (special APCs twice the normal ones); Seed,
   the mean interval and the DPCs' weight are each test's own. */
static VOID
StartOwnInjection(INJECTED *State, ULONG64 Seed, ULONG MeanIntervalMicroseconds,
                  ULONG DpcWeight)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;

    RtlZeroMemory(&Settings, sizeof(Settings));
    Settings.Seed = Seed;
    Settings.MeanIntervalMicroseconds = MeanIntervalMicroseconds;
    Settings.DpcWeight = DpcWeight;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 2;
    Settings.SuspendMaxMicroseconds = 20;
    Settings.Routine = InjectedRoutine;
    Settings.Context = State;
    WdkmHostInterruptsStart(&Settings);
}

static VOID
PairsUnderInterrupts(PVOID Context, ULONG Index)
{
    INJECTED *State = (INJECTED *)Context;
    ULONG Random = 0x9E3779B9u * (Index + 1);
    ULONG Pair;
    VALUE *Value;
    VALUE *Inner;
    KIRQL OldIrql;

    for (Pair = 0; Pair < INJECTED_PAIRS && InterlockedCompareExchange(&State->Failures, 0, 0) == 0;
         Pair += 1) {
        Random = Random * 1103515245u + 12345u;
        switch ((Random >> 16) % 3) {
        case 0:
            if (WDKM_KMUTEX_ACQUIRE(State->Mutex, &Value) != STATUS_SUCCESS) {
                NOTE_FAILURE(State);
                return;
            }
            if ((Random >> 20) & 1) {
                if (WDKM_SPIN_LOCK_ACQUIRE(State->ThreadSpin, &OldIrql, &Inner) != STATUS_SUCCESS) {
                    NOTE_FAILURE(State);
                } else {
                    Inner->Count += 1;
                    (VOID)WdkmSpinLockRelease(State->ThreadSpin, OldIrql);
                }
            }
            if (!WdkmDiagIsHeld(State->Mutex)) {
                NOTE_FAILURE(State);
            }
            Value->Count += 1;
            (VOID)WdkmKMutexRelease(State->Mutex);
            break;
        case 1:
            if (WDKM_FAST_MUTEX_ACQUIRE(State->Fast, &Value) != STATUS_SUCCESS) {
                NOTE_FAILURE(State);
                return;
            }
            Value->Count += 1;
            (VOID)WdkmFastMutexRelease(State->Fast);
            break;
        default:
            if (WDKM_SPIN_LOCK_ACQUIRE(State->ThreadSpin, &OldIrql, &Value) != STATUS_SUCCESS) {
                NOTE_FAILURE(State);
                return;
            }
            Value->Count += 1;
            (VOID)WdkmSpinLockRelease(State->ThreadSpin, OldIrql);
            break;
        }
        /* Exact: nothing held after the pair (no report is printed unless
           this fails). */
        if (WdkmDiagCheckNoneHeld("pair") != STATUS_SUCCESS || WdkmDiagIsHeld(State->Mutex) ||
            WdkmDiagIsHeld(State->ThreadSpin)) {
            NOTE_FAILURE(State);
        }
    }
}

static VOID
RecordsStayExactUnderInjectedInterrupts(VOID)
{
    static INJECTED State;
    WDKM_HOST_INTERRUPT_SETTINGS Saved;
    WDKM_DIAG_SUMMARY Summary;
    BOOLEAN WasActive;
    BOOLEAN Ran;

    Begin();
    RtlZeroMemory(&State, sizeof(State));
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &State.Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &State.Fast), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &State.ThreadSpin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &State.InterruptSpin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &State.DpcInner), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &State.ApcFast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);

    /* Our own routine, densely. Under an injection the run already has
       (WDKM_HOST_INTERRUPTS, make check-interrupts) only the routine is
       ours for the while, and put back afterwards. */
    WasActive = WdkmHostInterruptsActive(&Saved);
    if (WasActive) {
        WdkmHostSetDefaultInterruptRoutine(InjectedRoutine, &State);
    } else {
        StartOwnInjection(&State, OWN_SEED_PAIRS, 5, 4);
    }
    Ran = WdkmTestRunThreads(INJECTED_THREADS, PairsUnderInterrupts, &State);
    if (WasActive) {
        /* The run's injection goes on: an event of ours still queued or
           running finds the test closed, before the locks go. */
        InterlockedExchange(&State.Closed, 1);
        WdkmHostSetDefaultInterruptRoutine(Saved.Routine, Saved.Context);
        while (InterlockedCompareExchange(&State.Running, 0, 0) != 0) {
            WdkmTestSleepMs(1);
        }
    } else {
        WdkmHostInterruptsStop();
    }
    printf("    injected: %ld DPCs, %ld normal APCs, %ld special APCs (seed %llu)\n",
           (long)State.Ran[WdkmHostInterruptDpc], (long)State.Ran[WdkmHostInterruptNormalApc],
           (long)State.Ran[WdkmHostInterruptSpecialApc],
           (unsigned long long)(WasActive ? Saved.Seed : OWN_SEED_PAIRS));
    CHECK(Ran);
    if (State.FirstFailure != 0) {
        printf("%s", Captured);         /* the reports of the failing checks */
    }
    CHECK_EQ(State.FirstFailure, 0);
    CHECK_EQ(State.Failures, 0);
    /* Our own dense injection must have run both kinds; a borrowed one
       (check-interrupts: one event per 200 us per thread, starved further
       under TSan) may have landed none in this short run, and the test
       then proves less, not something false. */
    CHECK(WasActive ||
          (State.Ran[WdkmHostInterruptDpc] > 0 && State.Ran[WdkmHostInterruptSpecialApc] > 0));
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.OrderViolations, 0);
    CHECK_EQ(Summary.ContextViolations, 0);
    CHECK_EQ(Summary.Untracked, 0);
    CHECK_STATUS(WdkmDiagCheckNoneHeld("end"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(State.Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(State.Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(State.ThreadSpin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(State.InterruptSpin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(State.DpcInner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(State.ApcFast), STATUS_SUCCESS);
}

/*
 * The thread table under injected interrupts (diagnostics.md, Limits): "The
 * thread table holds WDKM_DIAG_MAX_THREADS threads that hold a lock or a
 * region at the same time ... a thread that holds nothing leaves its record
 * parked for another thread to take. A record a DPC took is parked by that
 * DPC; a thread that ends while it still holds a lock or a region keeps its
 * record"; "When one is full it says so once (warning level), counts
 * Untracked in the summary, and locking goes on unchanged".
 *
 * A DPC or APC runs on the thread it interrupts and is that thread: the
 * events injected into these threads hold what the threads hold, never a
 * thread of their own. So with nothing held anywhere at the start (the
 * summary's HeldLocks and UnbalancedRegions: no ended thread kept a
 * record), rounds of threads that each hold their own KMUTEX must find:
 *   - fits: this thread and WDKM_DIAG_MAX_THREADS - 1 others holding: every
 *     one tracked (its checkpoint reports its hold), no Untracked, no
 *     "thread table full";
 *   - overflow: this thread and WDKM_DIAG_MAX_THREADS others: exactly one
 *     holder untracked (at most 129 threads hold at once, and 128 records
 *     are taken by holders only), the warning printed, Untracked counted,
 *     and every acquisition still given its lock alone;
 *   - fits again, after every thread of the rounds before has ended: all
 *     tracked again - no record stays with a thread that ended holding
 *     nothing, whatever interrupted it last.
 * Each holder works on at PASSIVE_LEVEL after its last release, holding
 * nothing, as a thread does before it ends: that is where an injected
 * event is the last to touch its record. The rounds run as they are (under
 * the run's injection, if any) and, where the run injects nothing, again
 * under this test's own dense injection.
 */
#define TABLE_TAIL_US 300

typedef struct _TABLE_ROUND {
    LONG volatile Ready;              /* holders holding */
    LONG volatile Tracked;            /* checkpoint: STATUS_WDKM_LOCK_HELD */
    LONG volatile Missed;             /* checkpoint: STATUS_SUCCESS (untracked) */
    LONG volatile Failures;           /* a wrong status, value or IsHeld */
    LONG volatile FirstFailure;       /* its line */
    KEVENT Finish;
} TABLE_ROUND;

/* Busy at PASSIVE_LEVEL, holding nothing: interrupts land here. */
static VOID
WorkHoldingNothing(ULONG Microseconds)
{
    LARGE_INTEGER Frequency;
    LARGE_INTEGER Start = KeQueryPerformanceCounter(&Frequency);
    LARGE_INTEGER Now;

    do {
        YieldProcessor();
        Now = KeQueryPerformanceCounter(NULL);
    } while ((ULONG64)(Now.QuadPart - Start.QuadPart) * 1000000ULL / (ULONG64)Frequency.QuadPart <
             Microseconds);
}

/* One holder: its own KMUTEX, held until told; then the checkpoint's
   answer, a release, and work holding nothing. */
static VOID
HoldAndCheckpoint(PVOID Context, ULONG Index)
{
    TABLE_ROUND *Round = (TABLE_ROUND *)Context;
    PWDKM_KMUTEX Mutex;
    VALUE *Value;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    WorkHoldingNothing(TABLE_TAIL_US / 3);
    if (WDKM_KMUTEX_CREATE(&Zero, &Mutex) != STATUS_SUCCESS) {
        NOTE_FAILURE(Round);
        InterlockedIncrement(&Round->Ready);
        return;
    }
    if (WDKM_KMUTEX_ACQUIRE(Mutex, &Value) != STATUS_SUCCESS) {
        NOTE_FAILURE(Round);
        InterlockedIncrement(&Round->Ready);
    } else {
        /* Locking unchanged, tracked or not: the lock and its data are ours. */
        if (Value->Count != 0) {
            NOTE_FAILURE(Round);
        }
        Value->Count = 1;
        InterlockedIncrement(&Round->Ready);
        (VOID)KeWaitForSingleObject(&Round->Finish, Executive, KernelMode, FALSE, NULL);
        Status = WdkmDiagCheckNoneHeld("table holder");
        if (Status == STATUS_WDKM_LOCK_HELD) {
            InterlockedIncrement(&Round->Tracked);
        } else if (Status == STATUS_SUCCESS) {
            InterlockedIncrement(&Round->Missed);
        } else {
            NOTE_FAILURE(Round);
        }
        /* The KMUTEX's owner is the thread: held, tracked or not. */
        if (!WdkmDiagIsHeld(Mutex)) {
            NOTE_FAILURE(Round);
        }
        Value->Count = 0;
        if (WdkmKMutexRelease(Mutex) != STATUS_SUCCESS) {
            NOTE_FAILURE(Round);
        }
    }
    if (WdkmKMutexDestroy(Mutex) != STATUS_SUCCESS) {
        NOTE_FAILURE(Round);
    }
    if (WdkmDiagCheckNoneHeld("table holder done") != STATUS_SUCCESS) {
        NOTE_FAILURE(Round);
    }
    WorkHoldingNothing(TABLE_TAIL_US);
}

typedef struct _TABLE_RESULT {
    WDKM_DIAG_SUMMARY Summary;        /* while every holder held */
    NTSTATUS Main;                    /* this thread's checkpoint then */
    BOOLEAN Warned;                   /* "thread table full" printed */
    TABLE_ROUND Round;
} TABLE_RESULT;

/* This thread holds a KMUTEX while Others threads hold theirs; all end. */
static VOID
RunTableRound(ULONG Others, TABLE_RESULT *Result)
{
    static WDKM_TEST_THREAD *Threads[WDKM_DIAG_MAX_THREADS];
    TABLE_ROUND *Round = &Result->Round;
    PWDKM_KMUTEX Mutex = NULL;
    VALUE *Value;
    ULONG Index;

    RtlZeroMemory(Result, sizeof(*Result));
    KeInitializeEvent(&Round->Finish, NotificationEvent, FALSE);
    CapturedLength = 0;
    Captured[0] = '\0';
    (VOID)WdkmDiagReset();            /* Untracked and the warning, per round */
    if (WDKM_KMUTEX_CREATE(&Zero, &Mutex) != STATUS_SUCCESS ||
        WDKM_KMUTEX_ACQUIRE(Mutex, &Value) != STATUS_SUCCESS) {
        NOTE_FAILURE(Round);
        Result->Main = STATUS_UNSUCCESSFUL;
        if (Mutex != NULL) {
            (VOID)WdkmKMutexDestroy(Mutex);
        }
        return;
    }
    for (Index = 0; Index < Others; Index += 1) {
        Threads[Index] = WdkmTestStartThread(HoldAndCheckpoint, Round);
        if (Threads[Index] == NULL) {
            NOTE_FAILURE(Round);
            InterlockedIncrement(&Round->Ready);
        }
    }
    while (InterlockedCompareExchange(&Round->Ready, 0, 0) < (LONG)Others) {
        WdkmTestSleepMs(1);
    }
    (VOID)WdkmDiagQuerySummary(&Result->Summary);
    Result->Main = WdkmDiagCheckNoneHeld("table main");
    (VOID)KeSetEvent(&Round->Finish, 0, FALSE);
    for (Index = 0; Index < Others; Index += 1) {
        WdkmTestJoinThread(Threads[Index]);
    }
    if (WdkmKMutexRelease(Mutex) != STATUS_SUCCESS || WdkmKMutexDestroy(Mutex) != STATUS_SUCCESS) {
        NOTE_FAILURE(Round);
    }
    Result->Warned = Printed("thread table full");
}

/* The three rounds; *Passed FALSE (a failure reported) at the first wrong
   answer. */
static VOID
TableRounds(PCSTR Under, BOOLEAN *Passed)
{
    const ULONG Records = WDKM_DIAG_MAX_THREADS;
    static TABLE_RESULT Result;
    WDKM_DIAG_SUMMARY Summary;
    ULONG Pass;

    *Passed = FALSE;
    /* Nothing held anywhere: no ended thread keeps a record. */
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.HeldLocks, 0);
    CHECK_EQ(Summary.UnbalancedRegions, 0);
    for (Pass = 0; Pass < 2; Pass += 1) {
        /* Fits: this thread and Records - 1 others. The second time, after
           the overflow round's threads all ended. */
        RunTableRound(Records - 1, &Result);
        printf("    %s, %s: %ld tracked, %ld missed, Untracked %lu\n", Under,
               Pass == 0 ? "fits" : "fits again", (long)Result.Round.Tracked,
               (long)Result.Round.Missed, (unsigned long)Result.Summary.Untracked);
        CHECK_EQ(Result.Round.FirstFailure, 0);
        CHECK_EQ(Result.Round.Failures, 0);
        /* Every holder is tracked, always, and so is every acquisition of
           an event on it: one landing while its holder takes its record
           adopts the claim (interrupted_claims_track_every_acquisition
           lands one at each point of it). */
        CHECK_EQ(Result.Summary.Untracked, 0);
        CHECK(!Result.Warned);
        CHECK_EQ(Result.Round.Missed, 0);
        CHECK_EQ(Result.Round.Tracked, Records - 1);
        CHECK_STATUS(Result.Main, STATUS_WDKM_LOCK_HELD);
        if (Pass == 1) {
            break;
        }
        /* Overflow: one holder more than records. This thread took its
           record first; of the others, exactly one finds none. */
        RunTableRound(Records, &Result);
        printf("    %s, overflow: %ld tracked, %ld missed, Untracked %lu\n", Under,
               (long)Result.Round.Tracked, (long)Result.Round.Missed,
               (unsigned long)Result.Summary.Untracked);
        CHECK_EQ(Result.Round.FirstFailure, 0);
        CHECK_EQ(Result.Round.Failures, 0);
        CHECK_STATUS(Result.Main, STATUS_WDKM_LOCK_HELD);
        CHECK_EQ(Result.Round.Missed, 1);
        CHECK_EQ(Result.Round.Tracked, Records - 1);
        CHECK(Result.Summary.Untracked >= 1);
        CHECK(Result.Warned);
    }
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.HeldLocks, 0);
    CHECK_EQ(Summary.UnbalancedRegions, 0);
    *Passed = TRUE;
}

static VOID
ThreadTableExactUnderInterrupts(VOID)
{
    static INJECTED State;
    BOOLEAN Rounds;

    Begin();
    TableRounds(WdkmHostInterruptsActive(NULL) ? "run's injection" : "no injection", &Rounds);
    if (!Rounds) {
        return;
    }
    if (WdkmHostInterruptsActive(NULL)) {
        return;                       /* the run's injection was the attack */
    }
    /* Again under our own: DPCs take spin locks, special APCs a spin lock
       (at APC_LEVEL), normal APCs a FAST_MUTEX, on every holder. */
    RtlZeroMemory(&State, sizeof(State));
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &State.InterruptSpin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &State.DpcInner), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &State.ApcFast), STATUS_SUCCESS);
    StartOwnInjection(&State, OWN_SEED_TABLE, 20, 2);
    TableRounds("own injection", &Rounds);
    WdkmHostInterruptsStop();
    printf("    own injection: %ld DPCs, %ld normal APCs, %ld special APCs (seed %llu)\n",
           (long)State.Ran[WdkmHostInterruptDpc], (long)State.Ran[WdkmHostInterruptNormalApc],
           (long)State.Ran[WdkmHostInterruptSpecialApc], (unsigned long long)OWN_SEED_TABLE);
    CHECK_STATUS(WdkmSpinLockDestroy(State.InterruptSpin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(State.DpcInner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(State.ApcFast), STATUS_SUCCESS);
    CHECK(Rounds);
    CHECK_EQ(State.FirstFailure, 0);
    CHECK_EQ(State.Failures, 0);
    CHECK(State.Ran[WdkmHostInterruptSpecialApc] > 0 && State.Ran[WdkmHostInterruptDpc] > 0);
}

/*
 * A DPC or special kernel APC landing on a thread at each point of taking
 * its record (WdkmpDiagClaimHook), with the table exactly full: 127
 * holders and the claimer. The event is the thread (to NT): its own
 * acquisitions are tracked in the thread's record, it leaves that record
 * empty, and before it returns a thief (a thread with no record) tries to
 * take one. The claim then completes: the claimer's hold is tracked, the
 * thief's is the one acquisition untracked (the table holds 128 threads),
 * and once the claimer lets go the thief finds its record. Each point,
 * with a fresh thread (a free or parked record of another's) and with one
 * taking back its own parked record.
 */
/*
 * The thief of the claim and park rounds: the 129th thread, with the
 * table exactly full. Told to go, it takes a KMUTEX and asks whether it
 * is tracked (First: STATUS_SUCCESS when it found no record); once the
 * claimer is done it takes it again, now on the claimer's parked record
 * (Second: STATUS_WDKM_LOCK_HELD, tracked).
 */
typedef struct _THIEF {
    LONG volatile Tried;
    BOOLEAN Waited;                  /* the event saw the thief's try before returning */
    NTSTATUS First;                  /* the thief's checkpoint: table full, untracked */
    NTSTATUS Second;                 /* once the claimer let go: tracked */
    KEVENT Go;
    KEVENT ClaimerDone;
} THIEF;

/* Lets the thief try to take a record, and waits until it has. */
static VOID
ThiefLetTry(THIEF *Thief)
{
    LONGLONG Deadline = WdkmTestDeadlineMs(10000);

    (VOID)KeSetEvent(&Thief->Go, 0, FALSE);
    while (InterlockedCompareExchange(&Thief->Tried, 0, 0) == 0 && WdkmTestNowMs() < Deadline) {
        YieldProcessor();
    }
    Thief->Waited = InterlockedCompareExchange(&Thief->Tried, 0, 0) != 0;
}

static VOID
ThiefThread(PVOID Context, ULONG Index)
{
    THIEF *Thief = (THIEF *)Context;
    PWDKM_KMUTEX Mutex;
    VALUE *Value;

    UNREFERENCED_PARAMETER(Index);
    Thief->First = STATUS_UNSUCCESSFUL;
    Thief->Second = STATUS_UNSUCCESSFUL;
    if (WDKM_KMUTEX_CREATE(&Zero, &Mutex) != STATUS_SUCCESS) {
        InterlockedExchange(&Thief->Tried, 1);
        return;
    }
    (VOID)KeWaitForSingleObject(&Thief->Go, Executive, KernelMode, FALSE, NULL);
    if (WDKM_KMUTEX_ACQUIRE(Mutex, &Value) == STATUS_SUCCESS) {
        Thief->First = WdkmDiagCheckNoneHeld("thief");
        InterlockedExchange(&Thief->Tried, 1);
        (VOID)KeWaitForSingleObject(&Thief->ClaimerDone, Executive, KernelMode, FALSE, NULL);
        (VOID)WdkmKMutexRelease(Mutex);
        /* The claimer holds nothing: its record was parked, and is ours. */
        if (WDKM_KMUTEX_ACQUIRE(Mutex, &Value) == STATUS_SUCCESS) {
            Thief->Second = WdkmDiagCheckNoneHeld("thief again");
            (VOID)WdkmKMutexRelease(Mutex);
        }
    }
    InterlockedExchange(&Thief->Tried, 1);
    (VOID)WdkmKMutexDestroy(Mutex);
}

typedef struct _CLAIM_ROUND {
    ULONG Point;
    WDKM_HOST_INTERRUPT Kind;
    BOOLEAN Again;                   /* the claimer had a record, parked */
    PKTHREAD volatile Claimer;
    LONG volatile Armed;
    LONG volatile Fired;
    NTSTATUS EventHeld;              /* the event's checkpoint, holding its locks */
    NTSTATUS EventAfter;             /* and after it let go */
    NTSTATUS EventStatus;            /* its acquisitions and releases */
    THIEF Thief;
    NTSTATUS ClaimerHeld;
    NTSTATUS ClaimerAfter;
    NTSTATUS ClaimerStatus;
    PWDKM_SPIN_LOCK Spin;
    PWDKM_SPIN_LOCK SpinInner;
    PWDKM_KMUTEX EventMutex;
} CLAIM_ROUND;

static CLAIM_ROUND *volatile ClaimRound;

static VOID
ClaimEvent(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    CLAIM_ROUND *Round = (CLAIM_ROUND *)Context;
    NTSTATUS Status = STATUS_SUCCESS;
    VALUE *Value;
    VALUE *Inner;
    KIRQL OldIrql;

    (VOID)Random;
    if (Kind == WdkmHostInterruptDpc) {
        /* Two spin locks, at DISPATCH_LEVEL: the high frame. */
        Status = WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Round->Spin, &Value);
        if (Status == STATUS_SUCCESS) {
            Status = WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Round->SpinInner, &Inner);
            if (Status == STATUS_SUCCESS) {
                Round->EventHeld = WdkmDiagCheckNoneHeld("claim event");
                Status = WdkmSpinLockReleaseFromDpcLevel(Round->SpinInner);
            }
            if (WdkmSpinLockReleaseFromDpcLevel(Round->Spin) != STATUS_SUCCESS) {
                Status = STATUS_UNSUCCESSFUL;
            }
        }
    } else {
        /* A KMUTEX and a spin lock over it, from APC_LEVEL: both frames. */
        Status = WDKM_KMUTEX_ACQUIRE(Round->EventMutex, &Value);
        if (Status == STATUS_SUCCESS) {
            Status = WDKM_SPIN_LOCK_ACQUIRE(Round->Spin, &OldIrql, &Inner);
            if (Status == STATUS_SUCCESS) {
                Round->EventHeld = WdkmDiagCheckNoneHeld("claim event");
                Status = WdkmSpinLockRelease(Round->Spin, OldIrql);
            }
            if (WdkmKMutexRelease(Round->EventMutex) != STATUS_SUCCESS) {
                Status = STATUS_UNSUCCESSFUL;
            }
        }
    }
    Round->EventStatus = Status;
    Round->EventAfter = WdkmDiagCheckNoneHeld("claim event done");
    if (Round->Point == WDKMP_DIAG_CLAIM_SEEN) {
        /*
         * Before the claim's compare-exchange, nothing is the claimer's
         * yet: this event took the table's last record and left it
         * parked, and a thief let go now could take it, fairly (one of
         * the 129 threads goes untracked). What must not happen is the
         * claimer going without when nobody else took it: the thief goes
         * once the claimer's hold is in (ClaimerThread).
         */
        return;
    }
    /* The record is empty now: a thread without one tries to take it
       before this event returns (it cannot: the claim is not over). */
    ThiefLetTry(&Round->Thief);
}

static VOID
ClaimHook(ULONG Point)
{
    CLAIM_ROUND *Round = ClaimRound;

    if (Round == NULL || Point != Round->Point || KeGetCurrentThread() != Round->Claimer ||
        InterlockedExchange(&Round->Armed, 0) == 0) {
        return;
    }
    InterlockedIncrement(&Round->Fired);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), Round->Kind, ClaimEvent, Round);
}

static VOID
ClaimerThread(PVOID Context, ULONG Index)
{
    CLAIM_ROUND *Round = (CLAIM_ROUND *)Context;
    PWDKM_KMUTEX Mutex;
    VALUE *Value;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    Status = WDKM_KMUTEX_CREATE(&Zero, &Mutex);
    if (Status == STATUS_SUCCESS && Round->Again) {
        /* Takes the one record left, and parks it: its own now. */
        Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Value);
        if (Status == STATUS_SUCCESS) {
            Status = WdkmKMutexRelease(Mutex);
        }
    }
    if (Status == STATUS_SUCCESS) {
        Round->Claimer = KeGetCurrentThread();
        InterlockedExchange(&Round->Armed, 1);
        Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Value);
        InterlockedExchange(&Round->Armed, 0);
        if (Status == STATUS_SUCCESS) {
            Round->ClaimerHeld = WdkmDiagCheckNoneHeld("claimer");
            if (Round->Point == WDKMP_DIAG_CLAIM_SEEN) {
                ThiefLetTry(&Round->Thief);        /* ClaimEvent: not before */
            }
            Status = WdkmKMutexRelease(Mutex);
        }
        Round->ClaimerAfter = WdkmDiagCheckNoneHeld("claimer done");
        if (WdkmKMutexDestroy(Mutex) != STATUS_SUCCESS) {
            Status = STATUS_UNSUCCESSFUL;
        }
    }
    Round->ClaimerStatus = Status;
    (VOID)KeSetEvent(&Round->Thief.Go, 0, FALSE);        /* never left waiting */
    (VOID)KeSetEvent(&Round->Thief.ClaimerDone, 0, FALSE);
}

/* One round's answers; *Exact FALSE (a failure reported) at the first wrong one. */
static VOID
CheckClaimRound(const CLAIM_ROUND *Round, ULONG Untracked, BOOLEAN *Exact)
{
    *Exact = FALSE;
    CHECK_EQ(Round->Fired, 1);
    CHECK_STATUS(Round->ClaimerStatus, STATUS_SUCCESS);
    CHECK_STATUS(Round->EventStatus, STATUS_SUCCESS);
    CHECK(Round->Thief.Waited);
    /* The event's acquisitions are its thread's, tracked; it left the
       record empty. */
    CHECK_STATUS(Round->EventHeld, STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(Round->EventAfter, STATUS_SUCCESS);
    /* The claim completed after it: the claimer's hold is tracked. */
    CHECK_STATUS(Round->ClaimerHeld, STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(Round->ClaimerAfter, STATUS_SUCCESS);
    /* The thief found no record while the claim was on (the table holds
       128 threads; it was the 129th), and the record the claimer parked
       once it let go. */
    CHECK_STATUS(Round->Thief.First, STATUS_SUCCESS);
    CHECK_STATUS(Round->Thief.Second, STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(Untracked, 1);
    *Exact = TRUE;
}

/*
 * A spin lock taken from PASSIVE_LEVEL while the thread's low frame is
 * full (WDKM_DIAG_MAX_HELD holds): its release comes at DISPATCH_LEVEL,
 * where only the high frame is searched unless the low frame holds a spin
 * lock. It did not fit (counted Untracked, in the low frame's count of
 * lost holds); once everything is released the thread holds nothing and
 * its record parks. (The release looked for the lost count in the high
 * frame only: the low frame's stayed 1, the record stayed active for ever
 * and was taken to hold something. Found by a review.)
 */
static VOID
SpinLockPastAFullRecordIsReleased(VOID)
{
    PWDKM_KMUTEX Mutexes[WDKM_DIAG_MAX_HELD];
    PWDKM_SPIN_LOCK Spin = NULL;
    WDKM_DIAG_SUMMARY Before;
    WDKM_DIAG_SUMMARY Summary;
    VALUE *Value;
    KIRQL OldIrql;
    NTSTATUS Status;
    NTSTATUS Released;
    ULONG Lost;
    ULONG Index;
    ULONG Held = 0;

    Begin();
    WdkmTestInterruptsPause();      /* the counts are the point: no other event */
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin), STATUS_SUCCESS);
    for (Index = 0; Index < WDKM_DIAG_MAX_HELD; Index += 1) {
        Mutexes[Index] = NULL;
        CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Mutexes[Index]), STATUS_SUCCESS);
        if (Mutexes[Index] != NULL && WDKM_KMUTEX_ACQUIRE(Mutexes[Index], &Value) == STATUS_SUCCESS) {
            Held += 1;
        }
    }
    CHECK_EQ(Held, WDKM_DIAG_MAX_HELD);
    CHECK_STATUS(WdkmDiagQuerySummary(&Before), STATUS_SUCCESS);
    if (Spin != NULL) {
        CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spin, &OldIrql, &Value), STATUS_SUCCESS);
        Status = WdkmDiagQuerySummary(&Summary);
        Lost = Summary.Untracked - Before.Untracked;
        Released = WdkmSpinLockRelease(Spin, OldIrql);
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_EQ(Lost, 1);                  /* it did not fit: counted, not validated */
        CHECK_STATUS(Released, STATUS_SUCCESS);
    }
    for (Index = WDKM_DIAG_MAX_HELD; Index > 0; Index -= 1) {
        if (Mutexes[Index - 1] != NULL) {
            CHECK_STATUS(WdkmKMutexRelease(Mutexes[Index - 1]), STATUS_SUCCESS);
        }
    }
    CHECK_STATUS(WdkmDiagCheckNoneHeld("after the full record"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.HeldLocks, 0);
    /* Holding nothing, the thread's record is parked, not active. */
    for (Index = 0; Index < WDKM_DIAG_MAX_THREADS; Index += 1) {
        CHECK(WdkmpDiagThreads[Index].Thread != (PVOID)KeGetCurrentThread());
    }
    for (Index = 0; Index < WDKM_DIAG_MAX_HELD; Index += 1) {
        if (Mutexes[Index] != NULL) {
            CHECK_STATUS(WdkmKMutexDestroy(Mutexes[Index]), STATUS_SUCCESS);
        }
    }
    if (Spin != NULL) {
        CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    }
    Cleanup();
}

static VOID
InterruptedClaimsTrackEveryAcquisition(VOID)
{
    static CLAIM_ROUND Round;
    WDKM_TEST_THREAD *Threads[WDKM_DIAG_MAX_THREADS - 1];
    WDKM_TEST_THREAD *Claimer;
    WDKM_TEST_THREAD *Thief;
    WDKM_DIAG_SUMMARY Before;
    WDKM_DIAG_SUMMARY After;
    PWDKM_SPIN_LOCK Spin;
    PWDKM_SPIN_LOCK SpinInner;
    PWDKM_KMUTEX EventMutex;
    LIVE Live;
    ULONG Index;
    ULONG Point;
    ULONG Variant;
    ULONG Rounds = 0;
    ULONG Passed = 0;
    BOOLEAN Exact;

    Begin();
    WdkmTestInterruptsPause();      /* the table's count is the point: no other event */
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &SpinInner), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &EventMutex), STATUS_SUCCESS);
    /* All records but one held, for the whole test; this thread holds none. */
    Live.Ready = 0;
    Live.Failures = 0;
    KeInitializeEvent(&Live.Finish, NotificationEvent, FALSE);
    for (Index = 0; Index < WDKM_DIAG_MAX_THREADS - 1; Index += 1) {
        Threads[Index] = WdkmTestStartThread(HoldOwnLockUntilTold, &Live);
        if (Threads[Index] == NULL) {
            InterlockedIncrement(&Live.Failures);
            InterlockedIncrement(&Live.Ready);
        }
    }
    while (InterlockedCompareExchange(&Live.Ready, 0, 0) < WDKM_DIAG_MAX_THREADS - 1) {
        WdkmTestSleepMs(1);
    }
    WdkmpDiagClaimHook = ClaimHook;
    for (Point = 0; Point < WDKMP_DIAG_CLAIM_POINTS; Point += 1) {
        for (Variant = 0; Variant < 4; Variant += 1) {
            RtlZeroMemory(&Round, sizeof(Round));
            Round.Point = Point;
            Round.Kind = (Variant & 1) != 0 ? WdkmHostInterruptSpecialApc : WdkmHostInterruptDpc;
            Round.Again = (Variant & 2) != 0;
            Round.Spin = Spin;
            Round.SpinInner = SpinInner;
            Round.EventMutex = EventMutex;
            KeInitializeEvent(&Round.Thief.Go, NotificationEvent, FALSE);
            KeInitializeEvent(&Round.Thief.ClaimerDone, NotificationEvent, FALSE);
            ClaimRound = &Round;
            (VOID)WdkmDiagQuerySummary(&Before);
            Thief = WdkmTestStartThread(ThiefThread, &Round.Thief);
            Claimer = WdkmTestStartThread(ClaimerThread, &Round);
            CHECK(Thief != NULL && Claimer != NULL);
            if (Claimer != NULL) {
                WdkmTestJoinThread(Claimer);
            } else {
                (VOID)KeSetEvent(&Round.Thief.Go, 0, FALSE);
                (VOID)KeSetEvent(&Round.Thief.ClaimerDone, 0, FALSE);
            }
            if (Thief != NULL) {
                WdkmTestJoinThread(Thief);
            }
            ClaimRound = NULL;
            (VOID)WdkmDiagQuerySummary(&After);
            printf("    point %lu, %s, %s record: fired %ld, event %s, claimer %s, thief %s/%s, "
                   "untracked +%lu\n",
                   (unsigned long)Point, Round.Kind == WdkmHostInterruptDpc ? "DPC" : "special APC",
                   Round.Again ? "its own parked" : "a new", (long)Round.Fired,
                   Round.EventHeld == STATUS_WDKM_LOCK_HELD ? "tracked" : "UNTRACKED",
                   Round.ClaimerHeld == STATUS_WDKM_LOCK_HELD ? "tracked" : "UNTRACKED",
                   Round.Thief.First == STATUS_SUCCESS ? "untracked" : "tracked",
                   Round.Thief.Second == STATUS_WDKM_LOCK_HELD ? "tracked" : "untracked",
                   (unsigned long)(After.Untracked - Before.Untracked));
            Rounds += 1;
            CheckClaimRound(&Round, After.Untracked - Before.Untracked, &Exact);
            Passed += Exact ? 1 : 0;
        }
    }
    WdkmpDiagClaimHook = NULL;
    (VOID)KeSetEvent(&Live.Finish, 0, FALSE);
    for (Index = 0; Index < WDKM_DIAG_MAX_THREADS - 1; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    printf("    %lu of %lu rounds exact\n", (unsigned long)Passed, (unsigned long)Rounds);
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(SpinInner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(EventMutex), STATUS_SUCCESS);
    CHECK_EQ(Live.Failures, 0);
    CHECK_EQ(Passed, Rounds);
}

/*
 * A DPC that returns still holding a spin lock (taken at DISPATCH_LEVEL,
 * released by a later DPC on the same thread: NT lets a DPC leave a spin
 * lock held, and to NT both DPCs are the thread) landing at each point of
 * its thread's claim of a record. To NT the thread holds the spin lock
 * from then until the later DPC lets it go, and the validator must say so
 * (WdkmDiagCheckNoneHeld at PASSIVE_LEVEL reports every frame), and say
 * nothing once both locks are released. (Before the claim's fix: at
 * CLAIM_SEEN the DPC took a record of its own, the claim a second one, the
 * mutex's hold went into the second and its release looked in the first,
 * so the thread "held" the mutex for ever; at CLAIM_TAKEN the claim's
 * clearing erased the hold the DPC had written after adopting it.)
 */
typedef struct _HOLDING_ROUND {
    ULONG Point;
    BOOLEAN Again;                  /* the claimer had a record, parked */
    PKTHREAD volatile Claimer;
    LONG volatile Armed;
    LONG volatile Fired;
    PWDKM_SPIN_LOCK Spin;
    NTSTATUS Taken;                 /* the first DPC's acquisition, kept held */
    NTSTATUS Released;              /* the later DPC's release */
    NTSTATUS Status;                /* the claimer's own acquisitions and releases */
    NTSTATUS BothHeld;              /* the claimer's checkpoints: both held */
    BOOLEAN BothNamed;              /* ...and it named both */
    NTSTATUS SpinHeld;              /* the mutex released, the spin lock not */
    BOOLEAN SpinNamedAlone;
    NTSTATUS NoneHeld;              /* both released */
    BOOLEAN MutexHeldAfter;         /* WdkmDiagIsHeld(mutex) once released */
    ULONG MostRecords;              /* the claimer's active records, at most */
} HOLDING_ROUND;

static HOLDING_ROUND *volatile HoldingRound;

static VOID
HoldingTake(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    HOLDING_ROUND *Round = (HOLDING_ROUND *)Context;
    VALUE *Value;

    (VOID)Kind;
    (VOID)Random;
    Round->Taken = WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Round->Spin, &Value);
    /* Returns holding it. */
}

static VOID
HoldingRelease(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    HOLDING_ROUND *Round = (HOLDING_ROUND *)Context;

    (VOID)Kind;
    (VOID)Random;
    Round->Released = WdkmSpinLockReleaseFromDpcLevel(Round->Spin);
}

static VOID
HoldingHook(ULONG Point)
{
    HOLDING_ROUND *Round = HoldingRound;

    if (Round == NULL || Point != Round->Point || KeGetCurrentThread() != Round->Claimer ||
        InterlockedExchange(&Round->Armed, 0) == 0) {
        return;
    }
    InterlockedIncrement(&Round->Fired);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, HoldingTake, Round);
}

/* The calling thread's active records (its word in the table, as is). */
static ULONG
ActiveRecordsOfThisThread(VOID)
{
    ULONG Count = 0;
    ULONG Index;

    for (Index = 0; Index < WDKM_DIAG_MAX_THREADS; Index += 1) {
        if (WdkmpDiagThreads[Index].Thread == (PVOID)KeGetCurrentThread()) {
            Count += 1;
        }
    }
    return Count;
}

static VOID
HoldingNoteRecords(HOLDING_ROUND *Round)
{
    ULONG Records = ActiveRecordsOfThisThread();

    if (Records > Round->MostRecords) {
        Round->MostRecords = Records;
    }
}

/*
 * Thread addresses are reused: a record parked by an ended thread at this
 * thread's address is this thread's own, and it would take it back
 * instead of a new one. Each is handed, still parked, to a thread that
 * does not exist (any thread may still take it); the chains keep it.
 */
static LONG_PTR HoldingNobody;

static VOID
HoldingForgetParkedRecords(VOID)
{
    PVOID Parked = (PVOID)((ULONG_PTR)KeGetCurrentThread() | 1);   /* WDKMP_DIAG_PARKED */
    PVOID Nobody = (PVOID)((ULONG_PTR)&HoldingNobody | 1);
    ULONG Index;

    for (Index = 0; Index < WDKM_DIAG_MAX_THREADS; Index += 1) {
        (VOID)InterlockedCompareExchangePointer((PVOID volatile *)&WdkmpDiagThreads[Index].Thread,
                                                Nobody, Parked);
    }
}

static VOID
HoldingClaimer(PVOID Context, ULONG Index)
{
    HOLDING_ROUND *Round = (HOLDING_ROUND *)Context;
    PWDKM_KMUTEX Mutex;
    VALUE *Value;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    Status = WDKM_KMUTEX_CREATE(&Zero, &Mutex);
    if (Status == STATUS_SUCCESS) {
        Status = WdkmDiagSetClassName(Mutex, "holding.mutex");
    }
    if (Status == STATUS_SUCCESS && Round->Again) {
        /* Takes a record, and parks it: its own now. */
        Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Value);
        if (Status == STATUS_SUCCESS) {
            Status = WdkmKMutexRelease(Mutex);
        }
    } else {
        HoldingForgetParkedRecords();
    }
    if (Status == STATUS_SUCCESS) {
        Round->Claimer = KeGetCurrentThread();
        InterlockedExchange(&Round->Armed, 1);
        Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Value);
        InterlockedExchange(&Round->Armed, 0);
        if (Status == STATUS_SUCCESS) {
            HoldingNoteRecords(Round);
            CapturedLength = 0;
            Captured[0] = '\0';
            Round->BothHeld = WdkmDiagCheckNoneHeld("holding both");
            Round->BothNamed = Printed("\"holding.mutex\" still held") &&
                               Printed("\"holding.spin\" still held");
            Status = WdkmKMutexRelease(Mutex);
        }
        HoldingNoteRecords(Round);
        CapturedLength = 0;
        Captured[0] = '\0';
        Round->SpinHeld = WdkmDiagCheckNoneHeld("holding the spin lock");
        Round->SpinNamedAlone = Printed("\"holding.spin\" still held") &&
                                !Printed("\"holding.mutex\"");
        /* A later DPC on this thread lets the first one's spin lock go. */
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, HoldingRelease, Round);
        HoldingNoteRecords(Round);
        Round->NoneHeld = WdkmDiagCheckNoneHeld("holding nothing");
        Round->MutexHeldAfter = WdkmDiagIsHeld(Mutex);
    }
    if (Mutex != NULL && WdkmKMutexDestroy(Mutex) != STATUS_SUCCESS) {
        Status = STATUS_UNSUCCESSFUL;
    }
    Round->Status = Status;
}

/* One round's answers; *Exact FALSE (a failure reported) at the first wrong one. */
static VOID
CheckHoldingRound(const HOLDING_ROUND *Round, BOOLEAN *Exact)
{
    *Exact = FALSE;
    CHECK_EQ(Round->Fired, 1);
    CHECK_STATUS(Round->Status, STATUS_SUCCESS);
    CHECK_STATUS(Round->Taken, STATUS_SUCCESS);
    CHECK_STATUS(Round->Released, STATUS_SUCCESS);
    /* Both held, both tracked, in one record. */
    CHECK_STATUS(Round->BothHeld, STATUS_WDKM_LOCK_HELD);
    CHECK(Round->BothNamed);
    /* The mutex's release found its hold: the spin lock alone is left. */
    CHECK_STATUS(Round->SpinHeld, STATUS_WDKM_LOCK_HELD);
    CHECK(Round->SpinNamedAlone);
    /* Nothing left, nothing reported. */
    CHECK_STATUS(Round->NoneHeld, STATUS_SUCCESS);
    CHECK(!Round->MutexHeldAfter);
    CHECK_EQ(Round->MostRecords, 1);
    *Exact = TRUE;
}

static VOID
DpcReturningHoldingDuringAClaim(VOID)
{
    static HOLDING_ROUND Round;
    WDKM_TEST_THREAD *Claimer;
    PWDKM_SPIN_LOCK Spin;
    ULONG Point;
    ULONG Variant;
    ULONG Rounds = 0;
    ULONG Passed = 0;
    BOOLEAN Exact;

    Begin();
    WdkmTestInterruptsPause();      /* one DPC at one point: no other event */
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(Spin, "holding.spin"), STATUS_SUCCESS);
    WdkmpDiagClaimHook = HoldingHook;
    for (Point = 0; Point < WDKMP_DIAG_CLAIM_POINTS; Point += 1) {
        for (Variant = 0; Variant < 2; Variant += 1) {
            RtlZeroMemory(&Round, sizeof(Round));
            Round.Point = Point;
            Round.Again = Variant != 0;
            Round.Spin = Spin;
            Round.Taken = STATUS_UNSUCCESSFUL;
            Round.Released = STATUS_UNSUCCESSFUL;
            HoldingRound = &Round;
            Claimer = WdkmTestStartThread(HoldingClaimer, &Round);
            CHECK(Claimer != NULL);
            if (Claimer != NULL) {
                WdkmTestJoinThread(Claimer);
            }
            HoldingRound = NULL;
            printf("    point %lu, %s record: fired %ld, both %s%s, spin alone %s%s, "
                   "after %s, records %lu\n",
                   (unsigned long)Point, Round.Again ? "its own parked" : "a new",
                   (long)Round.Fired,
                   Round.BothHeld == STATUS_WDKM_LOCK_HELD ? "held" : "NOT HELD",
                   Round.BothNamed ? "" : " (NOT BOTH NAMED)",
                   Round.SpinHeld == STATUS_WDKM_LOCK_HELD ? "held" : "NOT HELD",
                   Round.SpinNamedAlone ? "" : " (NOT NAMED ALONE)",
                   Round.NoneHeld == STATUS_SUCCESS && !Round.MutexHeldAfter ? "clean" : "STILL HELD",
                   (unsigned long)Round.MostRecords);
            Rounds += 1;
            CheckHoldingRound(&Round, &Exact);
            Passed += Exact ? 1 : 0;
        }
    }
    WdkmpDiagClaimHook = NULL;
    printf("    %lu of %lu rounds exact\n", (unsigned long)Passed, (unsigned long)Rounds);
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    CHECK_EQ(Passed, Rounds);
}

/*
 * The same DPC landing in its thread's release of its last lock, after
 * the record was seen empty and before it is parked: it takes the spin
 * lock in the record (under the release's mark) and returns holding it.
 * The record must stay the thread's, with the spin lock in it, until the
 * later DPC lets it go. (Without the check after the park: parked with
 * the hold in it, the thread said it held nothing.)
 */
static VOID
HoldingParker(PVOID Context, ULONG Index)
{
    HOLDING_ROUND *Round = (HOLDING_ROUND *)Context;
    PWDKM_KMUTEX Mutex;
    VALUE *Value;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    Status = WDKM_KMUTEX_CREATE(&Zero, &Mutex);
    if (Status == STATUS_SUCCESS) {
        Status = WdkmDiagSetClassName(Mutex, "holding.mutex");
    }
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Value);
    }
    if (Status == STATUS_SUCCESS) {
        Round->Claimer = KeGetCurrentThread();
        InterlockedExchange(&Round->Armed, 1);
        Status = WdkmKMutexRelease(Mutex);
        InterlockedExchange(&Round->Armed, 0);
        HoldingNoteRecords(Round);
        CapturedLength = 0;
        Captured[0] = '\0';
        Round->SpinHeld = WdkmDiagCheckNoneHeld("holding the spin lock");
        Round->SpinNamedAlone = Printed("\"holding.spin\" still held") &&
                                !Printed("\"holding.mutex\"");
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, HoldingRelease, Round);
        Round->NoneHeld = WdkmDiagCheckNoneHeld("holding nothing");
        Round->MutexHeldAfter = WdkmDiagIsHeld(Mutex);
        if (ActiveRecordsOfThisThread() != 0) {
            Round->MostRecords += 10;        /* kept after it held nothing */
        }
    }
    if (Mutex != NULL && WdkmKMutexDestroy(Mutex) != STATUS_SUCCESS) {
        Status = STATUS_UNSUCCESSFUL;
    }
    Round->Status = Status;
}

static VOID
DpcReturningHoldingAtAPark(VOID)
{
    static HOLDING_ROUND Round;
    WDKM_TEST_THREAD *Parker;
    PWDKM_SPIN_LOCK Spin;

    Begin();
    WdkmTestInterruptsPause();      /* one DPC at one point: no other event */
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(Spin, "holding.spin"), STATUS_SUCCESS);
    RtlZeroMemory(&Round, sizeof(Round));
    Round.Point = WDKMP_DIAG_POINT_EMPTIED;
    Round.Spin = Spin;
    Round.Taken = STATUS_UNSUCCESSFUL;
    Round.Released = STATUS_UNSUCCESSFUL;
    HoldingRound = &Round;
    WdkmpDiagClaimHook = HoldingHook;
    Parker = WdkmTestStartThread(HoldingParker, &Round);
    if (Parker != NULL) {
        WdkmTestJoinThread(Parker);
    }
    WdkmpDiagClaimHook = NULL;
    HoldingRound = NULL;
    printf("    fired %ld, spin alone %s%s, after %s, records %lu\n", (long)Round.Fired,
           Round.SpinHeld == STATUS_WDKM_LOCK_HELD ? "held" : "NOT HELD",
           Round.SpinNamedAlone ? "" : " (NOT NAMED ALONE)",
           Round.NoneHeld == STATUS_SUCCESS && !Round.MutexHeldAfter ? "clean" : "STILL HELD",
           (unsigned long)Round.MostRecords);
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    CHECK(Parker != NULL);
    CHECK_EQ(Round.Fired, 1);
    CHECK_STATUS(Round.Status, STATUS_SUCCESS);
    CHECK_STATUS(Round.Taken, STATUS_SUCCESS);
    CHECK_STATUS(Round.Released, STATUS_SUCCESS);
    CHECK_STATUS(Round.SpinHeld, STATUS_WDKM_LOCK_HELD);
    CHECK(Round.SpinNamedAlone);
    CHECK_STATUS(Round.NoneHeld, STATUS_SUCCESS);
    CHECK(!Round.MutexHeldAfter);
    CHECK_EQ(Round.MostRecords, 1);
}

/*
 * The window diagnostics.md named in its Limits: a special kernel APC
 * landing inside a release (after the library recorded it, before it
 * parked the emptied record), and a DPC landing inside that APC's
 * acquisition (after it found the record, before it marked it). The DPC
 * takes and releases a spin lock, and before it returns a thread with no
 * record (the 129th: the table is exactly full) tries to take one. The
 * APC's acquisition is its thread's and must be tracked; the thief is the
 * one left out. (Before the fix the DPC's release parked the record, empty
 * and unmarked, the thief took it, and the APC found none: its mutex was
 * untracked, WdkmDiagCheckNoneHeld in it said nothing was held.)
 */
typedef struct _PARK_ROUND {
    PKTHREAD volatile Claimer;
    LONG volatile Stage;             /* 1: armed; 2: the APC queued; 3: the DPC */
    PWDKM_SPIN_LOCK Spin;
    PWDKM_KMUTEX ApcMutex;
    NTSTATUS ApcStatus;
    NTSTATUS ApcHeld;                /* the APC's checkpoint, holding its mutex */
    NTSTATUS ApcAfter;
    NTSTATUS DpcStatus;
    NTSTATUS ClaimerStatus;
    NTSTATUS ClaimerAfter;
    THIEF Thief;
} PARK_ROUND;

static PARK_ROUND *volatile ParkRound;

static VOID
ParkDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    PARK_ROUND *Round = (PARK_ROUND *)Context;
    VALUE *Value;
    NTSTATUS Status;

    (VOID)Kind;
    (VOID)Random;
    Status = WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Round->Spin, &Value);
    if (Status == STATUS_SUCCESS) {
        Status = WdkmSpinLockReleaseFromDpcLevel(Round->Spin);
    }
    Round->DpcStatus = Status;
    /* The record is empty again: a thread without one tries to take it
       before this DPC returns. */
    ThiefLetTry(&Round->Thief);
}

static VOID
ParkApc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    PARK_ROUND *Round = (PARK_ROUND *)Context;
    VALUE *Value;
    NTSTATUS Status;

    (VOID)Kind;
    (VOID)Random;
    Status = WDKM_KMUTEX_ACQUIRE(Round->ApcMutex, &Value);
    if (Status == STATUS_SUCCESS) {
        Round->ApcHeld = WdkmDiagCheckNoneHeld("park apc");
        Status = WdkmKMutexRelease(Round->ApcMutex);
    }
    Round->ApcStatus = Status;
    Round->ApcAfter = WdkmDiagCheckNoneHeld("park apc done");
}

static VOID
ParkHook(ULONG Point)
{
    PARK_ROUND *Round = ParkRound;

    if (Round == NULL || KeGetCurrentThread() != Round->Claimer) {
        return;
    }
    if (Point == WDKMP_DIAG_POINT_EMPTIED &&
        InterlockedCompareExchange(&Round->Stage, 2, 1) == 1) {
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, ParkApc, Round);
    } else if (Point == WDKMP_DIAG_POINT_FOUND &&
               InterlockedCompareExchange(&Round->Stage, 3, 2) == 2) {
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, ParkDpc, Round);
    }
}

static VOID
ParkClaimer(PVOID Context, ULONG Index)
{
    PARK_ROUND *Round = (PARK_ROUND *)Context;
    PWDKM_KMUTEX Mutex;
    VALUE *Value;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    Status = WDKM_KMUTEX_CREATE(&Zero, &Mutex);
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Value);
        if (Status == STATUS_SUCCESS) {
            Round->Claimer = KeGetCurrentThread();
            InterlockedExchange(&Round->Stage, 1);
            /* Its last hold: the APC lands once it is recorded released. */
            Status = WdkmKMutexRelease(Mutex);
            Round->Claimer = NULL;
        }
        Round->ClaimerAfter = WdkmDiagCheckNoneHeld("park claimer done");
        if (WdkmKMutexDestroy(Mutex) != STATUS_SUCCESS) {
            Status = STATUS_UNSUCCESSFUL;
        }
    }
    Round->ClaimerStatus = Status;
    (VOID)KeSetEvent(&Round->Thief.Go, 0, FALSE);        /* never left waiting */
    (VOID)KeSetEvent(&Round->Thief.ClaimerDone, 0, FALSE);
}

/* The round's answers; *Exact FALSE (a failure reported) at the first wrong one. */
static VOID
CheckParkRound(const PARK_ROUND *Round, ULONG Untracked, BOOLEAN *Exact)
{
    *Exact = FALSE;
    CHECK_EQ(Round->Stage, 3);
    CHECK_STATUS(Round->ClaimerStatus, STATUS_SUCCESS);
    CHECK_STATUS(Round->ApcStatus, STATUS_SUCCESS);
    CHECK_STATUS(Round->DpcStatus, STATUS_SUCCESS);
    CHECK(Round->Thief.Waited);
    /* The APC's mutex is its thread's: tracked, and let go. */
    CHECK_STATUS(Round->ApcHeld, STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(Round->ApcAfter, STATUS_SUCCESS);
    CHECK_STATUS(Round->ClaimerAfter, STATUS_SUCCESS);
    /* The thief, the 129th thread, found no record until the claimer's
       release was over. */
    CHECK_STATUS(Round->Thief.First, STATUS_SUCCESS);
    CHECK_STATUS(Round->Thief.Second, STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(Untracked, 1);
    *Exact = TRUE;
}

static VOID
ReleaseWindowKeepsTheRecord(VOID)
{
    static PARK_ROUND Round;
    WDKM_TEST_THREAD *Threads[WDKM_DIAG_MAX_THREADS - 1];
    WDKM_TEST_THREAD *Claimer;
    WDKM_TEST_THREAD *Thief;
    WDKM_DIAG_SUMMARY Before;
    WDKM_DIAG_SUMMARY After;
    LIVE Live;
    ULONG Index;
    BOOLEAN Exact = FALSE;

    Begin();
    WdkmTestInterruptsPause();      /* the table's count is the point: no other event */
    RtlZeroMemory(&Round, sizeof(Round));
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Round.Spin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Round.ApcMutex), STATUS_SUCCESS);
    KeInitializeEvent(&Round.Thief.Go, NotificationEvent, FALSE);
    KeInitializeEvent(&Round.Thief.ClaimerDone, NotificationEvent, FALSE);
    /* All records but one held, for the whole test; this thread holds none. */
    Live.Ready = 0;
    Live.Failures = 0;
    KeInitializeEvent(&Live.Finish, NotificationEvent, FALSE);
    for (Index = 0; Index < WDKM_DIAG_MAX_THREADS - 1; Index += 1) {
        Threads[Index] = WdkmTestStartThread(HoldOwnLockUntilTold, &Live);
        if (Threads[Index] == NULL) {
            InterlockedIncrement(&Live.Failures);
            InterlockedIncrement(&Live.Ready);
        }
    }
    while (InterlockedCompareExchange(&Live.Ready, 0, 0) < WDKM_DIAG_MAX_THREADS - 1) {
        WdkmTestSleepMs(1);
    }
    (VOID)WdkmDiagQuerySummary(&Before);
    ParkRound = &Round;
    WdkmpDiagClaimHook = ParkHook;
    Thief = WdkmTestStartThread(ThiefThread, &Round.Thief);
    Claimer = WdkmTestStartThread(ParkClaimer, &Round);
    if (Claimer != NULL) {
        WdkmTestJoinThread(Claimer);
    } else {
        (VOID)KeSetEvent(&Round.Thief.Go, 0, FALSE);
        (VOID)KeSetEvent(&Round.Thief.ClaimerDone, 0, FALSE);
    }
    if (Thief != NULL) {
        WdkmTestJoinThread(Thief);
    }
    WdkmpDiagClaimHook = NULL;
    ParkRound = NULL;
    (VOID)WdkmDiagQuerySummary(&After);
    (VOID)KeSetEvent(&Live.Finish, 0, FALSE);
    for (Index = 0; Index < WDKM_DIAG_MAX_THREADS - 1; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    printf("    stage %ld, apc %s, thief %s/%s, untracked +%lu\n", (long)Round.Stage,
           Round.ApcHeld == STATUS_WDKM_LOCK_HELD ? "tracked" : "UNTRACKED",
           Round.Thief.First == STATUS_SUCCESS ? "untracked" : "tracked",
           Round.Thief.Second == STATUS_WDKM_LOCK_HELD ? "tracked" : "untracked",
           (unsigned long)(After.Untracked - Before.Untracked));
    CHECK(Thief != NULL && Claimer != NULL);
    CHECK_EQ(Live.Failures, 0);
    CheckParkRound(&Round, After.Untracked - Before.Untracked, &Exact);
    CHECK_STATUS(WdkmSpinLockDestroy(Round.Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Round.ApcMutex), STATUS_SUCCESS);
    CHECK(Exact);
}

/* ---------------------------------------------------------------------- */
/* Queries: IRQL, memory that is not a lock, violations being written      */

static VOID
QueriesAboveDispatchAreRefused(VOID)
{
    PWDKM_SPIN_LOCK Spin;
    WDKM_DIAG_STATISTICS Statistics;
    WDKM_DIAG_STATISTICS Classes[4];
    WDKM_DIAG_VIOLATION Violations[2];
    WDKM_HOST_BUGCHECK_TRAP Trap;
    NTSTATUS volatile Results[4] = { 0, 0, 0, 0 };
    ULONG Count = 77;
    ULONG Bugchecks = WdkmHostBugcheckCount();
    KIRQL OldIrql;

    Begin();
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin), STATUS_SUCCESS);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    if (WDKM_HOST_TRY(&Trap)) {
        Results[0] = WdkmDiagQueryLockStatistics(Spin, &Statistics);
        Results[1] = WdkmDiagQueryStatistics(Classes, 4, &Count, FALSE);
        Results[2] = WdkmDiagQueryViolations(Violations, 2, &Count);
        Results[3] = WdkmDiagSetClassName(Spin, "high");
        WdkmHostDisarm(&Trap);
    }
    KeLowerIrql(OldIrql);
    CHECK_EQ(WdkmHostBugcheckCount(), Bugchecks);
    CHECK_STATUS(Results[0], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[1], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[2], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[3], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
}

/* Memory that is not a lock: its "kind pointer" is never followed. */
static VOID
NotALockIsRefusedWithoutFollowingIt(VOID)
{
    ULONG_PTR Fake[32];
    WDKM_DIAG_STATISTICS Statistics;
    ULONG Index;

    Begin();
    for (Index = 0; Index < sizeof(Fake) / sizeof(Fake[0]); Index += 1) {
        Fake[Index] = (ULONG_PTR)0x4141414141414141ull;    /* no valid pointer */
    }
    CHECK_STATUS(WdkmDiagSetClassName(Fake, "fake"), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmDiagQueryLockStatistics(Fake, &Statistics), STATUS_INVALID_PARAMETER);
    /* A lock's signature in front of a wrong kind pointer: refused too. */
    Fake[0] = 0x784D4B57UL;                               /* 'WKMx' */
    CHECK_STATUS(WdkmDiagSetClassName(Fake, "fake"), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmDiagQueryLockStatistics(Fake, &Statistics), STATUS_INVALID_PARAMETER);
    CHECK(!WdkmDiagIsHeld(Fake));
}

/* Violations reported while another thread reads them: every record read
   is whole (its text and its line agree), never one still being written. */
#define VIOLATION_ROUNDS 400

typedef struct _WRITER {
    LONG volatile Round;
    LONG volatile Stop;
} WRITER;

static VOID
ReportViolations(PVOID Context, ULONG Index)
{
    WRITER *Writer = (WRITER *)Context;
    CHAR Text[32];
    LONG Seen = 0;
    ULONG Number;

    (VOID)Index;
    while (InterlockedCompareExchange(&Writer->Stop, 0, 0) == 0) {
        LONG Round = InterlockedCompareExchange(&Writer->Round, 0, 0);
        if (Round == Seen) {
            continue;
        }
        Seen = Round;
        for (Number = 0; Number < 20; Number += 1) {
            ULONG Line = (ULONG)Round * 100 + Number;
            snprintf(Text, sizeof(Text), "line %u", (unsigned)Line);
            (VOID)WdkmDiagAssertFailed(Text, "writer.c", Line);
        }
    }
}

static VOID
ViolationsAreReadWhole(VOID)
{
    WDKM_DIAG_VIOLATION Violations[16];
    WDKM_TEST_THREAD *Thread;
    WRITER Writer;
    CHAR Expected[32];
    ULONG Count;
    ULONG Index;
    LONG Round;
    ULONG Torn = 0;
    ULONG Reads = 0;

    Begin();
    WdkmHostSetDebugPrintLevel(DPFLTR_ERROR_LEVEL - 1);   /* quiet: thousands of reports */
    Writer.Round = 0;
    Writer.Stop = 0;
    Thread = WdkmTestStartThread(ReportViolations, &Writer);
    CHECK(Thread != NULL);
    for (Round = 1; Round <= VIOLATION_ROUNDS && Thread != NULL; Round += 1) {
        CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
        InterlockedExchange(&Writer.Round, Round);
        do {
            CHECK(WdkmDiagQueryViolations(Violations, 16, &Count) == STATUS_SUCCESS);
            Reads += 1;
            for (Index = 0; Index < Count && Index < 16; Index += 1) {
                snprintf(Expected, sizeof(Expected), "line %u", (unsigned)Violations[Index].HeldLine);
                if (Violations[Index].Type != WdkmDiagAssertHeld ||
                    strcmp(Violations[Index].Held, Expected) != 0 ||
                    Violations[Index].HeldLine / 100 != (ULONG)Round) {
                    Torn += 1;
                }
            }
        } while (Count < 20);
    }
    InterlockedExchange(&Writer.Stop, 1);
    if (Thread != NULL) {
        WdkmTestJoinThread(Thread);
    }
    CHECK_EQ(Torn, 0);
    CHECK(Reads >= VIOLATION_ROUNDS);
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
    WdkmTestInterruptsPause();      /* it counts every live lock and block */
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

/* The typed macros evaluate their lock argument once, as in release builds. */
static ULONG Evaluations;

static PWDKM_FAST_MUTEX
Counted(PWDKM_FAST_MUTEX Lock)
{
    Evaluations += 1;
    return Lock;
}

static VOID
SiteMacroEvaluatesItsLockOnce(VOID)
{
    PWDKM_FAST_MUTEX Mutex;
    PWDKM_SPIN_LOCK Spin;
    PWDKM_SPIN_LOCK Spins[2];
    VALUE *Value;
    KIRQL OldIrql;
    ULONG Index = 0;

    Begin();
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin), STATUS_SUCCESS);
    Evaluations = 0;
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Counted(Mutex), &Value), STATUS_SUCCESS);
    CHECK_EQ(Evaluations, 1);
    CHECK_STATUS(WdkmFastMutexRelease(Mutex), STATUS_SUCCESS);
    Spins[0] = Spin;
    Spins[1] = Spin;
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spins[Index++], &OldIrql, &Value), STATUS_SUCCESS);
    CHECK_EQ(Index, 1);
    CHECK_STATUS(WdkmSpinLockRelease(Spin, OldIrql), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
}

/* A DPC landing between the thread's site note and its acquisition
   neither takes the note nor leaves its own to the thread. */
static VOID
SiteNoteSurvivesADpc(VOID)
{
    PWDKM_KMUTEX A;
    PWDKM_KMUTEX B;
    PWDKM_SPIN_LOCK Spin;
    WDKM_DIAG_VIOLATION Violation;
    VALUE *Outer;
    VALUE *Inner;
    KIRQL OldIrql;
    ULONG Count;

    Begin();
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &A), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &B), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(A, "site.A"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(B, "site.B"), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(A, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(B, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(A), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(B, &Outer), STATUS_SUCCESS);
    WdkmDiagNoteSite(NULL, "thread.c", 11);           /* what a typed macro does */
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);            /* a DPC lands */
    CHECK_STATUS(WdkmSpinLockAcquireAtDpcLevel(Spin, sizeof(VALUE), (PVOID *)&Inner),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Spin), STATUS_SUCCESS);
    WdkmDiagNoteSite(NULL, "dpc.c", 22);              /* noted, then not used */
    KeLowerIrql(OldIrql);
    CHECK_STATUS(WdkmKMutexAcquire(A, sizeof(VALUE), (PVOID *)&Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQueryViolations(&Violation, 1, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 1);
    CHECK(Violation.AcquireFile != NULL && strcmp(Violation.AcquireFile, "thread.c") == 0);
    CHECK_EQ(Violation.AcquireLine, 11);
    CHECK_STATUS(WdkmKMutexDestroy(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
}

/* Every line the library prints starts with the prefix wdkm_debug.h names. */
static VOID
EveryLineHasTheDocumentedPrefix(VOID)
{
    PWDKM_FAST_MUTEX Mutex;
    WDKM_DIAG_STATISTICS Classes[4];
    WDKM_DIAG_SUMMARY Summary;
    PCSTR Line;
    ULONG Count;
    ULONG Lines = 0;

    Begin();
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    WDKM_ASSERT_HELD(Mutex);
    (VOID)WdkmDiagQueryStatistics(Classes, 4, &Count, TRUE);
    CHECK_STATUS(WdkmDiagLeakCheck(&Summary), STATUS_WDKM_LEAK_DETECTED);
    CHECK_STATUS(WdkmFastMutexDestroy(Mutex), STATUS_SUCCESS);
    for (Line = Captured; *Line != '\0'; Line = strchr(Line, '\n') + 1) {
        CHECK(strncmp(Line, WDKM_DEBUG_PREFIX, strlen(WDKM_DEBUG_PREFIX)) == 0);
        Lines += 1;
        if (strchr(Line, '\n') == NULL) {
            break;
        }
    }
    CHECK(Lines >= 4);
    CHECK(strcmp(WDKM_DEBUG_PREFIX, "wdkmutex: ") == 0);
}

static const WDKM_TEST_CASE DiagCases[] = {
    { "class_name_refused_while_held", ClassNameRefusedWhileHeld },
    { "abba_reported_on_first_inversion", AbbaReportedOnFirstInversion },
    { "abba_refused_while_racing", AbbaRefusedWhileRacing },
    { "three_lock_cycle", ThreeLockCycle },
    { "no_false_positive_8x100000_in_one_order", NoFalsePositiveInOneOrder },
    { "idle_threads_leave_their_records", IdleThreadsLeaveTheirRecords },
    { "try_is_exempt", TryIsExempt },
    { "recursion_is_not_inversion", RecursionIsNotInversion },
    { "registry_names_are_classes", RegistryNamesAreClasses },
    { "per_handle_names_never_fill_the_class_table", PerHandleNamesNeverFillTheClassTable },
    { "instance_names_share_their_roles_class", InstanceNamesShareTheirRolesClass },
    { "wait_under_spin_lock_names_the_spin_lock", WaitUnderSpinLockNamesTheSpinLock },
    { "wait_under_spin_lock_refused_where_irql_stays", WaitUnderSpinLockRefusedWhereIrqlStays },
    { "checkpoint_finds_held_locks_and_regions", CheckpointFindsHeldLocksAndRegions },
    { "region_leave_apc_finds_region_left", RegionLeaveApcFindsRegionLeft },
    { "statistics_are_exact", StatisticsAreExact },
    { "leak_check_finds_the_leak_and_only_it", LeakCheckFindsTheLeakAndOnlyIt },
    { "leak_check_finds_pool_without_a_lock", LeakCheckFindsPoolWithoutALock },
    { "creation_site_is_the_default_class", CreationSiteIsTheDefaultClass },
    { "debug_output_component_and_level", DebugOutputComponentAndLevel },
    { "dpc_holds_are_its_own_frame", DpcHoldsAreItsOwnFrame },
    { "records_stay_exact_under_injected_interrupts", RecordsStayExactUnderInjectedInterrupts },
    { "table_tracks_all_its_live_threads", TableTracksAllItsLiveThreads },
    { "thread_table_exact_under_interrupts", ThreadTableExactUnderInterrupts },
    { "interrupted_claims_track_every_acquisition", InterruptedClaimsTrackEveryAcquisition },
    { "spin_lock_past_a_full_record_is_released", SpinLockPastAFullRecordIsReleased },
    { "dpc_returning_holding_during_a_claim", DpcReturningHoldingDuringAClaim },
    { "dpc_returning_holding_at_a_park", DpcReturningHoldingAtAPark },
    { "release_window_keeps_the_record", ReleaseWindowKeepsTheRecord },
    { "queries_above_dispatch_are_refused", QueriesAboveDispatchAreRefused },
    { "not_a_lock_is_refused_without_following_it", NotALockIsRefusedWithoutFollowingIt },
    { "violations_are_read_whole", ViolationsAreReadWhole },
    { "site_macro_evaluates_its_lock_once", SiteMacroEvaluatesItsLockOnce },
    { "site_note_survives_a_dpc", SiteNoteSurvivesADpc },
    { "every_line_has_the_documented_prefix", EveryLineHasTheDocumentedPrefix },
};

const WDKM_TEST_SUITE WdkmDiagSuite = WDKM_TEST_SUITE_WITH_CLEANUP("diag", DiagCases, Cleanup);
