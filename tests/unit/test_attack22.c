/*
 * test_attack22.c - the checked build's per-thread diagnostics records,
 * attacked from docs/diagnostics.md alone ("Limits", "DPCs and APCs"):
 * threads that end holding nothing after a region, a fast mutex or a spin
 * lock used across APC_LEVEL (raised by hand or an APC modelled on the
 * thread), DPCs nested in APC-level contexts, and then whether 128
 * holders still fit (WDKM_DIAG_MAX_THREADS) without an Untracked.
 *
 * A DPC on a thread is modelled by raising to DISPATCH_LEVEL on it, a
 * special kernel APC by raising to APC_LEVEL on it. An ended thread's
 * object is referenced until the capacity check so no new thread reuses
 * its address (and with it a record it left behind).
 */
#include "wdkm_test.h"
#include <wdkmutex/wdkm_diag.h>
#include <wdkmutex/wdkm_region.h>

#if WDKM_CHECKED

#define HOLDERS WDKM_DIAG_MAX_THREADS

static PWDKM_KMUTEX Mutexes[HOLDERS + 1];
static volatile LONG Holding;
static volatile LONG Release;

static ULONG
Untracked(VOID)
{
    WDKM_DIAG_SUMMARY Summary;

    if (WdkmDiagQuerySummary(&Summary) != STATUS_SUCCESS) {
        return 0xFFFFFFFFu;
    }
    return Summary.Untracked;
}

static VOID
HoldRoutine(PVOID Context, ULONG Index)
{
    PVOID Data = NULL;
    LONGLONG Until = WdkmTestDeadlineMs(20000);

    (VOID)Context;
    if (WdkmKMutexAcquire(Mutexes[Index], sizeof(ULONG), &Data) != STATUS_SUCCESS) {
        InterlockedIncrement(&Holding);
        (VOID)WdkmTestFail(__FILE__, __LINE__, "holder %u could not acquire", (unsigned)Index);
        return;
    }
    InterlockedIncrement(&Holding);
    while (InterlockedCompareExchange(&Release, 0, 0) == 0 && WdkmTestNowMs() < Until) {
        WdkmTestSleepMs(1);
    }
    if (WdkmKMutexRelease(Mutexes[Index]) != STATUS_SUCCESS) {
        (VOID)WdkmTestFail(__FILE__, __LINE__, "holder %u could not release", (unsigned)Index);
    }
}

static VOID
HolderWaiter(PVOID Context, ULONG Index)
{
    LONGLONG Until = WdkmTestDeadlineMs(20000);
    ULONG *Seen = (ULONG *)Context;

    (VOID)Index;
    while (InterlockedCompareExchange(&Holding, 0, 0) < (LONG)*Seen && WdkmTestNowMs() < Until) {
        WdkmTestSleepMs(1);
    }
    *Seen = Untracked();
    InterlockedExchange(&Release, 1);
}

/* Count threads hold a lock each at once: the Untracked they added. */
static ULONG
HoldAtOnce(ULONG Count)
{
    WDKM_TEST_THREAD *Threads[HOLDERS + 1];
    WDKM_TEST_THREAD *Waiter;
    ULONG Before = Untracked();
    ULONG Seen = Count;
    ULONG Index;
    ULONG Initial = 0;

    for (Index = 0; Index < Count; Index += 1) {
        if (Mutexes[Index] == NULL &&
            WdkmKMutexCreate(&Initial, sizeof(Initial), &Mutexes[Index]) != STATUS_SUCCESS) {
            return 0xFFFFFFFFu;
        }
    }
    Holding = 0;
    Release = 0;
    Waiter = WdkmTestStartThread(HolderWaiter, &Seen);
    for (Index = 0; Index < Count; Index += 1) {
        Threads[Index] = NULL;
    }
    /* WdkmTestRunThreads joins; start them one by one instead. */
    for (Index = 0; Index < Count; Index += 1) {
        extern WDKM_TEST_THREAD *Attack22StartIndexed(ULONG Index);
        Threads[Index] = Attack22StartIndexed(Index);
    }
    for (Index = 0; Index < Count; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    WdkmTestJoinThread(Waiter);
    return Seen - Before;
}

static VOID
IndexedHold(PVOID Context, ULONG Index)
{
    (VOID)Index;
    HoldRoutine(NULL, (ULONG)(ULONG_PTR)Context);
}

WDKM_TEST_THREAD *
Attack22StartIndexed(ULONG Index)
{
    return WdkmTestStartThread(IndexedHold, (PVOID)(ULONG_PTR)Index);
}

/* Runs Routine on a thread that then ends; keeps its object alive. */
static PKTHREAD
EndAfter(WDKM_TEST_THREAD_ROUTINE *Routine)
{
    WDKM_TEST_THREAD *Thread = WdkmTestStartThread(Routine, NULL);
    PKTHREAD Object = WdkmTestThreadObject(Thread);

    ObReferenceObject(Object);
    WdkmTestJoinThread(Thread);
    return Object;
}

static VOID
DestroyAll(VOID)
{
    ULONG Index;

    for (Index = 0; Index <= HOLDERS; Index += 1) {
        if (Mutexes[Index] != NULL) {
            (VOID)WdkmKMutexDestroy(Mutexes[Index]);
            Mutexes[Index] = NULL;
        }
    }
}

/*
 * Runs Routine on Times threads, each ending, then checks that 128
 * holders fit as well as they did before. The ended threads' objects stay
 * referenced until then: a record one left behind is not taken over by a
 * new thread at the same address, so each case measures only its own
 * leaks (Untracked added by 128 holders, before and after).
 */
#define CHECK_MAX_TIMES 8

static VOID
Check(WDKM_TEST_THREAD_ROUTINE *Routine, ULONG Times)
{
    PKTHREAD Ended[CHECK_MAX_TIMES];
    ULONG Index;
    ULONG Before;
    ULONG After;

    CHECK(Times <= CHECK_MAX_TIMES);
    Before = HoldAtOnce(HOLDERS);
    for (Index = 0; Index < Times; Index += 1) {
        Ended[Index] = EndAfter(Routine);
    }
    After = HoldAtOnce(HOLDERS);
    for (Index = 0; Index < Times; Index += 1) {
        ObDereferenceObject(Ended[Index]);
    }
    DestroyAll();
    CHECK_EQ(After - Before, 0u);
}

#define EXPECT(Expression, Expected)                                               \
    do {                                                                           \
        NTSTATUS S_ = (Expression);                                                \
        if (S_ != (Expected)) {                                                    \
            (VOID)WdkmTestFail(__FILE__, __LINE__, "%s: 0x%08x, expected 0x%08x",  \
                               #Expression, (unsigned)S_, (unsigned)(Expected));   \
        }                                                                          \
    } while (0)

/* ---------------------------------------------------------------------- */

static VOID
RegionPassiveLeftAtApc(PVOID Context, ULONG Index)
{
    WDKM_REGION Region;
    KIRQL Old;

    (VOID)Context; (VOID)Index;
    EXPECT(WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("in region"), STATUS_WDKM_LOCK_HELD);
    KeRaiseIrql(APC_LEVEL, &Old);
    EXPECT(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("left at apc"), STATUS_SUCCESS);
    KeLowerIrql(Old);
    EXPECT(WdkmDiagCheckNoneHeld("after"), STATUS_SUCCESS);
}

static VOID
RegionApcLeftAtPassive(PVOID Context, ULONG Index)
{
    WDKM_REGION Region;
    KIRQL Old;

    (VOID)Context; (VOID)Index;
    KeRaiseIrql(APC_LEVEL, &Old);
    EXPECT(WdkmRegionEnterGuarded(&Region), STATUS_SUCCESS);
    KeLowerIrql(Old);
    EXPECT(WdkmDiagCheckNoneHeld("in region"), STATUS_WDKM_LOCK_HELD);
    EXPECT(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("after"), STATUS_SUCCESS);
}

static PWDKM_FAST_MUTEX Fast;
static PWDKM_SPIN_LOCK Spin;
static PWDKM_KMUTEX Mutex;

static VOID
FastMutexAtRaisedApc(PVOID Context, ULONG Index)
{
    PVOID Data;
    KIRQL Old;

    (VOID)Context; (VOID)Index;
    KeRaiseIrql(APC_LEVEL, &Old);
    EXPECT(WdkmFastMutexAcquire(Fast, sizeof(ULONG), &Data), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("holding"), STATUS_WDKM_LOCK_HELD);
    EXPECT(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("released"), STATUS_SUCCESS);
    KeLowerIrql(Old);
}

static VOID
FastMutexAtPassive(PVOID Context, ULONG Index)
{
    PVOID Data;

    (VOID)Context; (VOID)Index;
    EXPECT(WdkmFastMutexAcquire(Fast, sizeof(ULONG), &Data), STATUS_SUCCESS);
    EXPECT(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("released"), STATUS_SUCCESS);
}

/* An APC on a thread holding nothing takes a spin lock. */
static VOID
ApcSpinLock(PVOID Context, ULONG Index)
{
    PVOID Data;
    KIRQL Old, SpinOld;

    (VOID)Context; (VOID)Index;
    KeRaiseIrql(APC_LEVEL, &Old);
    EXPECT(WdkmSpinLockAcquire(Spin, sizeof(ULONG), &SpinOld, &Data), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("holding"), STATUS_WDKM_LOCK_HELD);
    EXPECT(WdkmSpinLockRelease(Spin, SpinOld), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("apc released"), STATUS_SUCCESS);
    KeLowerIrql(Old);
    EXPECT(WdkmDiagCheckNoneHeld("after"), STATUS_SUCCESS);
}

/* An APC enters a region (takes the record), a DPC lands in it. */
static VOID
DpcInsideApcRegion(PVOID Context, ULONG Index)
{
    WDKM_REGION Region;
    PVOID Data;
    KIRQL Old, Dpc;

    (VOID)Context; (VOID)Index;
    KeRaiseIrql(APC_LEVEL, &Old);
    EXPECT(WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &Dpc);
    EXPECT(WdkmDiagCheckNoneHeld("dpc before"), STATUS_SUCCESS);
    EXPECT(WdkmSpinLockAcquireAtDpcLevel(Spin, sizeof(ULONG), &Data), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("dpc holding"), STATUS_WDKM_LOCK_HELD);
    EXPECT(WdkmSpinLockReleaseFromDpcLevel(Spin), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("dpc after"), STATUS_SUCCESS);
    KeLowerIrql(Dpc);
    EXPECT(WdkmDiagCheckNoneHeld("apc in region"), STATUS_WDKM_LOCK_HELD);
    EXPECT(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("apc left"), STATUS_SUCCESS);
    KeLowerIrql(Old);
    EXPECT(WdkmDiagCheckNoneHeld("thread"), STATUS_SUCCESS);
}

/* A DPC takes the record of a thread holding nothing. */
static VOID
DpcOnIdleThread(PVOID Context, ULONG Index)
{
    PVOID Data;
    KIRQL Old;

    (VOID)Context; (VOID)Index;
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    EXPECT(WdkmSpinLockAcquireAtDpcLevel(Spin, sizeof(ULONG), &Data), STATUS_SUCCESS);
    EXPECT(WdkmSpinLockReleaseFromDpcLevel(Spin), STATUS_SUCCESS);
    KeLowerIrql(Old);
    EXPECT(WdkmDiagCheckNoneHeld("thread"), STATUS_SUCCESS);
}

/* An APC takes the record, returns still in a region (its misuse); the
   thread then leaves that region itself. */
static VOID
ApcReturnsHolding(PVOID Context, ULONG Index)
{
    WDKM_REGION Region;
    KIRQL Old;

    (VOID)Context; (VOID)Index;
    KeRaiseIrql(APC_LEVEL, &Old);
    EXPECT(WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
    KeLowerIrql(Old);
    EXPECT(WdkmDiagCheckNoneHeld("thread under"), STATUS_WDKM_LOCK_HELD);
    EXPECT(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("thread left"), STATUS_SUCCESS);
}

/* A KMutex taken at PASSIVE, released at APC_LEVEL raised by hand. */
static VOID
KMutexReleasedAtApc(PVOID Context, ULONG Index)
{
    PVOID Data;
    KIRQL Old;

    (VOID)Context; (VOID)Index;
    EXPECT(WdkmKMutexAcquire(Mutex, sizeof(ULONG), &Data), STATUS_SUCCESS);
    KeRaiseIrql(APC_LEVEL, &Old);
    EXPECT(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("released at apc"), STATUS_SUCCESS);
    KeLowerIrql(Old);
    EXPECT(WdkmDiagCheckNoneHeld("after"), STATUS_SUCCESS);
}

/* Region entered at APC_LEVEL, a KMutex used at PASSIVE inside it, the
   region left at APC_LEVEL again. */
static VOID
RegionApcMutexPassiveLeaveApc(PVOID Context, ULONG Index)
{
    WDKM_REGION Region;
    PVOID Data;
    KIRQL Old;

    (VOID)Context; (VOID)Index;
    KeRaiseIrql(APC_LEVEL, &Old);
    EXPECT(WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
    KeLowerIrql(Old);
    EXPECT(WdkmKMutexAcquire(Mutex, sizeof(ULONG), &Data), STATUS_SUCCESS);
    EXPECT(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    KeRaiseIrql(APC_LEVEL, &Old);
    EXPECT(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    KeLowerIrql(Old);
    EXPECT(WdkmDiagCheckNoneHeld("after"), STATUS_SUCCESS);
}

/* The thread holds a KMutex; an APC takes and drops a spin lock on it. */
static VOID
ApcOnHoldingThread(PVOID Context, ULONG Index)
{
    PVOID Data;
    KIRQL Old, SpinOld;

    (VOID)Context; (VOID)Index;
    EXPECT(WdkmKMutexAcquire(Mutex, sizeof(ULONG), &Data), STATUS_SUCCESS);
    KeRaiseIrql(APC_LEVEL, &Old);
    EXPECT(WdkmSpinLockAcquire(Spin, sizeof(ULONG), &SpinOld, &Data), STATUS_SUCCESS);
    EXPECT(WdkmSpinLockRelease(Spin, SpinOld), STATUS_SUCCESS);
    KeLowerIrql(Old);
    EXPECT(WdkmDiagCheckNoneHeld("holding"), STATUS_WDKM_LOCK_HELD);
    EXPECT(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("after"), STATUS_SUCCESS);
}

/* A KMutex released while a FAST_MUTEX keeps the thread at APC_LEVEL. */
static VOID
KMutexReleasedUnderFastMutex(PVOID Context, ULONG Index)
{
    PVOID Data;

    (VOID)Context; (VOID)Index;
    EXPECT(WdkmKMutexAcquire(Mutex, sizeof(ULONG), &Data), STATUS_SUCCESS);
    EXPECT(WdkmFastMutexAcquire(Fast, sizeof(ULONG), &Data), STATUS_SUCCESS);
    EXPECT(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    EXPECT(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("after"), STATUS_SUCCESS);
}

/* A region left while a FAST_MUTEX keeps the thread at APC_LEVEL, the
   FAST_MUTEX released last. */
static VOID
RegionLeftUnderFastMutex(PVOID Context, ULONG Index)
{
    WDKM_REGION Region;
    PVOID Data;

    (VOID)Context; (VOID)Index;
    EXPECT(WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
    EXPECT(WdkmFastMutexAcquire(Fast, sizeof(ULONG), &Data), STATUS_SUCCESS);
    EXPECT(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    EXPECT(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("after"), STATUS_SUCCESS);
}

/* The FAST_MUTEX released first, the region (entered under it, at
   APC_LEVEL) left last at PASSIVE_LEVEL. */
static VOID
RegionEnteredUnderFastMutex(PVOID Context, ULONG Index)
{
    WDKM_REGION Region;
    PVOID Data;

    (VOID)Context; (VOID)Index;
    EXPECT(WdkmFastMutexAcquire(Fast, sizeof(ULONG), &Data), STATUS_SUCCESS);
    EXPECT(WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
    EXPECT(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("in region"), STATUS_WDKM_LOCK_HELD);
    EXPECT(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    EXPECT(WdkmDiagCheckNoneHeld("after"), STATUS_SUCCESS);
}

static VOID
Setup(VOID)
{
    ULONG Initial = 0;

    if (Fast == NULL) {
        (VOID)WdkmFastMutexCreate(&Initial, sizeof(Initial), &Fast);
        (VOID)WdkmSpinLockCreate(&Initial, sizeof(Initial), &Spin);
        (VOID)WdkmKMutexCreate(&Initial, sizeof(Initial), &Mutex);
    }
}

static VOID
Teardown(VOID)
{
    (VOID)WdkmFastMutexDestroy(Fast);
    (VOID)WdkmSpinLockDestroy(Spin);
    (VOID)WdkmKMutexDestroy(Mutex);
    Fast = NULL;
    Spin = NULL;
    Mutex = NULL;
}

#define CASE(Name, Routine)                                                   \
    static VOID Name(VOID) { Setup(); Check(Routine, 4); Teardown(); }

CASE(Baseline128Fit, FastMutexAtPassive)
CASE(RegionEnteredPassiveLeftAtApc, RegionPassiveLeftAtApc)
CASE(RegionEnteredApcLeftAtPassive, RegionApcLeftAtPassive)
CASE(FastMutexAtHandRaisedApc, FastMutexAtRaisedApc)
CASE(ApcSpinLockOnIdleThread, ApcSpinLock)
CASE(DpcNestedInApcRegion, DpcInsideApcRegion)
CASE(DpcOnIdleThreadEnds, DpcOnIdleThread)
CASE(ApcReturnsHoldingThreadLeaves, ApcReturnsHolding)
CASE(KMutexReleasedAtHandRaisedApc, KMutexReleasedAtApc)
CASE(RegionApcMutexPassiveLeftAtApc, RegionApcMutexPassiveLeaveApc)
CASE(ApcOnThreadHoldingKMutex, ApcOnHoldingThread)
CASE(KMutexReleasedUnderFastMutexEnds, KMutexReleasedUnderFastMutex)
CASE(RegionLeftUnderFastMutexEnds, RegionLeftUnderFastMutex)
CASE(RegionEnteredUnderFastMutexEnds, RegionEnteredUnderFastMutex)

/* A full table: the 129th holder is Untracked, and locks it normally. */
static VOID
FullTableCountsUntracked(VOID)
{
    ULONG Base = HoldAtOnce(HOLDERS);     /* leaks earlier cases left: none */
    ULONG Lost;

    CHECK_EQ(Base, 0u);
    Lost = HoldAtOnce(HOLDERS + 1);
    CHECK_EQ(Lost - Base, 1u);
    /* and afterwards 128 fit as before */
    CHECK_EQ(HoldAtOnce(HOLDERS) - Base, 0u);
    DestroyAll();
    /* The Untracked made here on purpose: later suites (the model) expect
       none since the last reset. */
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}

/* A region a thread is in (entered at APC_LEVEL raised by hand, so the
   record was taken at APC_LEVEL) counts in the summary of every thread:
   what the leak check would report if the thread ended now. */
static volatile LONG InRegion;
static volatile LONG MayLeave;

static VOID
StayInRegion(PVOID Context, ULONG Index)
{
    WDKM_REGION Region;
    LONGLONG Until = WdkmTestDeadlineMs(20000);
    KIRQL Old;

    (VOID)Context; (VOID)Index;
    KeRaiseIrql(APC_LEVEL, &Old);
    EXPECT(WdkmRegionEnterGuarded(&Region), STATUS_SUCCESS);
    KeLowerIrql(Old);
    InterlockedExchange(&InRegion, 1);
    while (InterlockedCompareExchange(&MayLeave, 0, 0) == 0 && WdkmTestNowMs() < Until) {
        WdkmTestSleepMs(1);
    }
    EXPECT(WdkmRegionLeave(&Region), STATUS_SUCCESS);
}

static VOID
RegionSeenBySummary(VOID)
{
    WDKM_DIAG_SUMMARY Before, During, After;
    WDKM_TEST_THREAD *Thread;
    LONGLONG Until = WdkmTestDeadlineMs(20000);

    InRegion = 0;
    MayLeave = 0;
    CHECK_STATUS(WdkmDiagQuerySummary(&Before), STATUS_SUCCESS);
    Thread = WdkmTestStartThread(StayInRegion, NULL);
    while (InterlockedCompareExchange(&InRegion, 0, 0) == 0 && WdkmTestNowMs() < Until) {
        WdkmTestSleepMs(1);
    }
    CHECK_STATUS(WdkmDiagQuerySummary(&During), STATUS_SUCCESS);
    InterlockedExchange(&MayLeave, 1);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(WdkmDiagQuerySummary(&After), STATUS_SUCCESS);
    CHECK_EQ(During.UnbalancedRegions, Before.UnbalancedRegions + 1);
    CHECK_EQ(After.UnbalancedRegions, Before.UnbalancedRegions);
}

static VOID
Cleanup(VOID)
{
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
}

static const WDKM_TEST_CASE Attack22Cases[] = {
    { "baseline_128_fit", Baseline128Fit },
    { "region_entered_passive_left_at_apc", RegionEnteredPassiveLeftAtApc },
    { "region_entered_apc_left_at_passive", RegionEnteredApcLeftAtPassive },
    { "fast_mutex_at_hand_raised_apc", FastMutexAtHandRaisedApc },
    { "apc_spin_lock_on_idle_thread", ApcSpinLockOnIdleThread },
    { "dpc_nested_in_apc_region", DpcNestedInApcRegion },
    { "dpc_on_idle_thread_ends", DpcOnIdleThreadEnds },
    { "apc_returns_holding_thread_leaves", ApcReturnsHoldingThreadLeaves },
    { "kmutex_released_at_hand_raised_apc", KMutexReleasedAtHandRaisedApc },
    { "region_apc_mutex_passive_left_at_apc", RegionApcMutexPassiveLeftAtApc },
    { "apc_on_thread_holding_kmutex", ApcOnThreadHoldingKMutex },
    { "kmutex_released_under_fast_mutex", KMutexReleasedUnderFastMutexEnds },
    { "region_left_under_fast_mutex", RegionLeftUnderFastMutexEnds },
    { "region_entered_under_fast_mutex", RegionEnteredUnderFastMutexEnds },
    { "region_seen_by_summary", RegionSeenBySummary },
    { "full_table_counts_untracked", FullTableCountsUntracked },
};

const WDKM_TEST_SUITE WdkmAttack22Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack22", Attack22Cases, Cleanup);

#endif /* WDKM_CHECKED */
