/*
 * test_attack18.c - probes written from docs/reference.md alone, against
 * the registry's one-block entries (entry and lock in one pool block) and
 * the inline fast paths of the spin lock, the in-stack queued spin lock and
 * the FAST_MUTEX (How kept 0 while a lock is free; the queued handle's
 * form read from the lock). Each expectation is a sentence of the
 * reference: statuses, the IRQL after each step, *Data, "nothing changes
 * on error", and the pool statistics back where they were.
 */
#include <stdlib.h>
#include <string.h>

#include "wdkm_test.h"
#include "wdkm_port.h"     /* WdkmpForgetRoutines: the fixed-IRQL kernel's lookup */

#define A18_TRUE_IF_FAST (WDKM_INLINE_FAST_PATHS && !WDKM_CHECKED)

/* ------------------------------------------------------------------------
 * Helpers
 */

static LONG
A18Outstanding(VOID)
{
    WDKM_POOL_STATISTICS Statistics;

    WdkmQueryPoolStatistics(&Statistics);
    return Statistics.OutstandingBlocks;
}

/* Destroys whatever a failed test left of the registry, and the kernel back
   to one that raises the IRQL. */
static VOID
A18Cleanup(VOID)
{
    LARGE_INTEGER Zero;

    Zero.QuadPart = 0;
    WdkmHostPoolFailAt(-1);
    (VOID)WdkmGrtDestroy(&Zero, NULL);
    WdkmHostSetIrqlRaisable(TRUE);
    WdkmpForgetRoutines();
    {
        PWDKM_SPIN_LOCK Lock;
        LONG Value = 0;

        if (NT_SUCCESS(WDKM_SPIN_LOCK_CREATE(&Value, &Lock))) {
            (VOID)WdkmSpinLockDestroy(Lock);
        }
    }
}

/*
 * The proof a spin lock is free and whole: a plain acquisition from
 * PASSIVE_LEVEL (the inline twin in a release build) raises to
 * DISPATCH_LEVEL, hands out the value, and its release restores
 * PASSIVE_LEVEL; a release once more is NOT_HELD. A lock left with a
 * stale record of an earlier hold (its form, a nested count) fails here.
 */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static BOOLEAN
A18SpinPairWorks(PWDKM_SPIN_LOCK Lock, LONG Expected)
{
    LONG *Data = NULL;
    KIRQL OldIrql = HIGH_LEVEL;

    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        return FALSE;
    }
#if A18_TRUE_IF_FAST
    if (Lock->Header.How.HoldWord != 0) {
        return FALSE;
    }
#endif
    if (WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data) != STATUS_SUCCESS || Data == NULL ||
        *Data != Expected || OldIrql != PASSIVE_LEVEL || KeGetCurrentIrql() != DISPATCH_LEVEL ||
        !WdkmSpinLockIsOwned(Lock)) {
        return FALSE;
    }
    if (WdkmSpinLockRelease(Lock, OldIrql) != STATUS_SUCCESS ||
        KeGetCurrentIrql() != PASSIVE_LEVEL || WdkmSpinLockIsOwned(Lock)) {
        return FALSE;
    }
    return WdkmSpinLockRelease(Lock, PASSIVE_LEVEL) == STATUS_WDKM_NOT_HELD &&
           WdkmSpinLockReleaseFromDpcLevel(Lock) == STATUS_WDKM_NOT_HELD;
}

WDKM_NO_THREAD_SAFETY_ANALYSIS
static BOOLEAN
A18QueuedPairWorks(PWDKM_QUEUED_SPIN_LOCK Lock, LONG Expected)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    LONG *Data = NULL;

    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        return FALSE;
    }
#if A18_TRUE_IF_FAST
    if (Lock->Header.How.HoldWord != 0) {
        return FALSE;
    }
#endif
    if (WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data) != STATUS_SUCCESS || Data == NULL ||
        *Data != Expected || KeGetCurrentIrql() != DISPATCH_LEVEL ||
        !WdkmQueuedSpinLockIsOwned(Lock)) {
        return FALSE;
    }
    if (WdkmQueuedSpinLockRelease(&Handle) != STATUS_SUCCESS ||
        KeGetCurrentIrql() != PASSIVE_LEVEL || WdkmQueuedSpinLockIsOwned(Lock)) {
        return FALSE;
    }
    return WdkmQueuedSpinLockRelease(&Handle) == STATUS_WDKM_NOT_HELD;
}

WDKM_NO_THREAD_SAFETY_ANALYSIS
static BOOLEAN
A18FastMutexPairWorks(PWDKM_FAST_MUTEX Lock, LONG Expected)
{
    LONG *Data = NULL;

    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        return FALSE;
    }
#if A18_TRUE_IF_FAST
    if (Lock->Header.How.HoldWord != 0) {
        return FALSE;
    }
#endif
    if (WDKM_FAST_MUTEX_ACQUIRE(Lock, &Data) != STATUS_SUCCESS || Data == NULL ||
        *Data != Expected || KeGetCurrentIrql() != APC_LEVEL) {
        return FALSE;
    }
    if (WdkmFastMutexRelease(Lock) != STATUS_SUCCESS || KeGetCurrentIrql() != PASSIVE_LEVEL) {
        return FALSE;
    }
    return WdkmFastMutexRelease(Lock) == STATUS_WDKM_NOT_HELD;
}

/* ------------------------------------------------------------------------
 * Fast paths: the spin lock
 */

WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
SpinFormsMixedOnOneLock(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    LONG Value = 7;
    LONG *Data;
    KIRQL OldIrql;
    KIRQL Dpc;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Value, &Lock), STATUS_SUCCESS);
    CHECK(A18SpinPairWorks(Lock, 7));

    /* AtDpcLevel, then the raising release: IRQL_MISMATCH, still held. */
    KeRaiseIrql(DISPATCH_LEVEL, &Dpc);
    Data = NULL;
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data), STATUS_SUCCESS);
    CHECK(Data != NULL && *Data == 7);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, PASSIVE_LEVEL), STATUS_WDKM_IRQL_MISMATCH);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK(WdkmSpinLockIsOwned(Lock));
    CHECK_STATUS(WdkmSpinLockRelease(Lock, DISPATCH_LEVEL), STATUS_WDKM_IRQL_MISMATCH);
    CHECK(WdkmSpinLockIsOwned(Lock));
    /* Again, the plain forms: recursion. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Data == NULL);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Lock), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Lock), STATUS_WDKM_NOT_HELD);
    KeLowerIrql(Dpc);
    CHECK(A18SpinPairWorks(Lock, 7));

    /* The raising acquire, then the FromDpcLevel release: IRQL_MISMATCH. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Lock), STATUS_WDKM_IRQL_MISMATCH);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK(WdkmSpinLockIsOwned(Lock));
    CHECK_STATUS(WdkmSpinLockRelease(Lock, HIGH_LEVEL), STATUS_INVALID_PARAMETER);
    CHECK(WdkmSpinLockIsOwned(Lock));
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(A18SpinPairWorks(Lock, 7));

    /* A plain acquire at DISPATCH_LEVEL (a DPC's), released with OldIrql
       DISPATCH_LEVEL: stays there; then the lock is plain again. */
    KeRaiseIrql(DISPATCH_LEVEL, &Dpc);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_EQ(OldIrql, DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    /* Try at DISPATCH_LEVEL, AtDpcLevel callback form. */
    OldIrql = PASSIVE_LEVEL;
    {
        NTSTATUS Try = WDKM_SPIN_LOCK_TRY_ACQUIRE(Lock, &OldIrql, &Data);

        CHECK(Try == STATUS_SUCCESS || Try == STATUS_NOT_SUPPORTED);
        if (Try == STATUS_SUCCESS) {
            CHECK_EQ(OldIrql, DISPATCH_LEVEL);
            CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Lock), STATUS_WDKM_IRQL_MISMATCH);
            CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
        }
    }
    Data = WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(Lock, &Data);
    CHECK(Data != NULL && *Data == 7);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Lock), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(Dpc);
    CHECK(A18SpinPairWorks(Lock, 7));

    /* The callback form that raises, the scoped form, the try from PASSIVE. */
    Data = WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Data);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(A18SpinPairWorks(Lock, 7));
    {
        NTSTATUS Status = STATUS_UNSUCCESSFUL;
        LONG *Scoped;

        WDKM_SPIN_LOCK_SCOPED(Lock, Scoped, &Status) {
            *Scoped += 1;
        } WDKM_SCOPED_END
        CHECK_STATUS(Status, STATUS_SUCCESS);
    }
    CHECK(A18SpinPairWorks(Lock, 8));
    CHECK_STATUS(WdkmSpinLockDestroy(Lock), STATUS_SUCCESS);
}

/* Another thread's release of a spin lock the caller holds. */
static PWDKM_SPIN_LOCK A18ForeignSpin;
static PWDKM_LOCK_QUEUE_HANDLE A18ForeignHandle;
static PWDKM_FAST_MUTEX A18ForeignFast;
static NTSTATUS A18ForeignStatus[4];
static LONG volatile A18ForeignGo;
static LONG volatile A18ForeignDone;

/* Started at PASSIVE_LEVEL, it waits (spinning) for the owner's go. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
A18ForeignRelease(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    while (InterlockedCompareExchange(&A18ForeignGo, 0, 0) == 0) {
        YieldProcessor();
    }
    A18ForeignStatus[0] = WdkmSpinLockRelease(A18ForeignSpin, PASSIVE_LEVEL);
    A18ForeignStatus[1] = WdkmSpinLockReleaseFromDpcLevel(A18ForeignSpin);
    A18ForeignStatus[2] = WdkmQueuedSpinLockRelease(A18ForeignHandle);
    A18ForeignStatus[3] = WdkmFastMutexRelease(A18ForeignFast);
    InterlockedExchange(&A18ForeignDone, 1);
}

WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
RefusedReleasesChangeNothing(VOID)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_SPIN_LOCK Lock;
    PWDKM_FAST_MUTEX Fast;
    WDKM_TEST_THREAD *Foreign;
    LONG Value = 3;
    LONG *Data;
    KIRQL OldIrql;
    KIRQL High;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Value, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Value, &Queued), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Value, &Fast), STATUS_SUCCESS);

    /* Above DISPATCH_LEVEL: IRQL_TOO_HIGH, held, IRQL unchanged. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    KeRaiseIrql(HIGH_LEVEL, &High);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    CHECK(WdkmSpinLockIsOwned(Lock));
    KeLowerIrql(High);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK(A18SpinPairWorks(Lock, 3));

    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Queued, &Handle, &Data), STATUS_SUCCESS);
    KeRaiseIrql(HIGH_LEVEL, &High);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    KeLowerIrql(High);
    CHECK(WdkmQueuedSpinLockIsOwned(Queued));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK(A18QueuedPairWorks(Queued, 3));

    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &High);
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(High);
    CHECK(WdkmFastMutexIsOwned(Fast));
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    CHECK(A18FastMutexPairWorks(Fast, 3));

    /* Another thread releases what this one holds: NOT_OWNER, at any IRQL. */
    A18ForeignSpin = Lock;
    A18ForeignHandle = &Handle;
    A18ForeignFast = Fast;
    A18ForeignGo = 0;
    A18ForeignDone = 0;
    Foreign = WdkmTestStartThread(A18ForeignRelease, NULL);
    CHECK(Foreign != NULL);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Queued, &Handle, &Data), STATUS_SUCCESS);
    InterlockedExchange(&A18ForeignGo, 1);
    while (InterlockedCompareExchange(&A18ForeignDone, 0, 0) == 0) {
        YieldProcessor();
    }
    CHECK_STATUS(A18ForeignStatus[0], STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(A18ForeignStatus[1], STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(A18ForeignStatus[2], STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(A18ForeignStatus[3], STATUS_WDKM_NOT_HELD);
    CHECK(WdkmSpinLockIsOwned(Lock));
    CHECK(WdkmQueuedSpinLockIsOwned(Queued));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    WdkmTestJoinThread(Foreign);
    CHECK(A18SpinPairWorks(Lock, 3));
    CHECK(A18QueuedPairWorks(Queued, 3));

    CHECK_STATUS(WdkmSpinLockDestroy(Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Queued), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Fast), STATUS_SUCCESS);
}

/* ------------------------------------------------------------------------
 * Fast paths: the queued spin lock
 */

WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
QueuedHandleCopiesAndTwiceReleased(VOID)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_LOCK_QUEUE_HANDLE Copy;
    WDKM_LOCK_QUEUE_HANDLE Third;
    PWDKM_QUEUED_SPIN_LOCK Lock;
    LONG Value = 11;
    LONG *Data;
    KIRQL Dpc;

    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Value, &Lock), STATUS_SUCCESS);
    CHECK(A18QueuedPairWorks(Lock, 11));

    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data), STATUS_SUCCESS);
    memcpy(&Copy, &Handle, sizeof(Copy));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Copy), STATUS_WDKM_NOT_HELD);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK(WdkmQueuedSpinLockIsOwned(Lock));
    /* The same handle once more: the hold it describes is kept. */
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Data == NULL);
    /* Another handle of the same thread: refused, and holds nothing. */
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Third, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Third), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Copy), STATUS_WDKM_NOT_HELD);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(A18QueuedPairWorks(Lock, 11));

    /* The copy of an old hold while a new hold through another handle is
       the thread's: NOT_HELD, the new hold kept. */
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Third, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Copy), STATUS_WDKM_NOT_HELD);
    CHECK(WdkmQueuedSpinLockIsOwned(Lock));
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Third), STATUS_SUCCESS);
    CHECK(A18QueuedPairWorks(Lock, 11));

    /* AtDpcLevel, released by the (inline) release: does not lower. */
    KeRaiseIrql(DISPATCH_LEVEL, &Dpc);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Handle, &Data), STATUS_SUCCESS);
    CHECK(Data != NULL && *Data == 11);
    memcpy(&Copy, &Handle, sizeof(Copy));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Copy), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_WDKM_NOT_HELD);
    /* A plain acquire at DISPATCH_LEVEL: its handle saves DISPATCH_LEVEL. */
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    /* The callback forms. */
    Data = WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(Lock, &Handle, &Data);
    CHECK(Data != NULL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(Dpc);
    CHECK(A18QueuedPairWorks(Lock, 11));
    Data = WDKM_QUEUED_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &Handle, &Data);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(A18QueuedPairWorks(Lock, 11));

    /* The exported function through a pointer, and the twin, alternating. */
    {
        NTSTATUS (*Release)(PWDKM_LOCK_QUEUE_HANDLE) = WdkmQueuedSpinLockRelease;

        CHECK_STATUS((WdkmQueuedSpinLockAcquire)(Lock, sizeof(LONG), &Handle, (PVOID *)&Data),
                     STATUS_SUCCESS);
        CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data), STATUS_SUCCESS);
        CHECK_STATUS(Release(&Handle), STATUS_SUCCESS);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    }
    CHECK(A18QueuedPairWorks(Lock, 11));
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Lock), STATUS_SUCCESS);
}

WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
NestedKindsOutOfOrder(VOID)
{
    WDKM_LOCK_QUEUE_HANDLE Outer;
    WDKM_LOCK_QUEUE_HANDLE Inner;
    PWDKM_QUEUED_SPIN_LOCK Q1;
    PWDKM_QUEUED_SPIN_LOCK Q2;
    PWDKM_SPIN_LOCK S1;
    PWDKM_SPIN_LOCK S2;
    LONG Value = 5;
    LONG *Data;
    KIRQL Irql1;
    KIRQL Irql2;

    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Value, &Q1), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Value, &Q2), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Value, &S1), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Value, &S2), STATUS_SUCCESS);

    /* Queued in queued, the outer released first: LOCK_HELD, nothing changed. */
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Q1, &Outer, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Q2, &Inner, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Outer), STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK(WdkmQueuedSpinLockIsOwned(Q1));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Inner), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Outer), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(A18QueuedPairWorks(Q1, 5));
    CHECK(A18QueuedPairWorks(Q2, 5));

    /* Plain spin, queued AtDpcLevel inside, the plain one released first
       the NT way (OldIrql DISPATCH_LEVEL), then the queued one: it does
       not lower; the caller lowers itself. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(S1, &Irql1, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Q1, &Inner, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(S1, Irql1), STATUS_WDKM_LOCK_HELD);
    CHECK(WdkmSpinLockIsOwned(S1));
    CHECK_STATUS(WdkmSpinLockRelease(S1, DISPATCH_LEVEL), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Inner), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(Irql1);
    CHECK(A18SpinPairWorks(S1, 5));
    CHECK(A18QueuedPairWorks(Q1, 5));

    /* Plain in plain, NT's explicit out-of-order release. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(S1, &Irql1, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(S2, &Irql2, &Data), STATUS_SUCCESS);
    CHECK_EQ(Irql2, DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(S1, Irql1), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockRelease(S1, DISPATCH_LEVEL), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(S2, Irql1), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(A18SpinPairWorks(S1, 5));
    CHECK(A18SpinPairWorks(S2, 5));

    /* Spin lock outside, queued plain inside, spin AtDpcLevel innermost;
       released inner-first, mixing the twins and the functions. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(S1, &Irql1, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Q1, &Outer, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(S2, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Outer), STATUS_SUCCESS);   /* nested: no lowering */
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(S1, Irql1), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(S2), STATUS_SUCCESS);
    CHECK_STATUS((WdkmSpinLockRelease)(S1, Irql1), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(A18SpinPairWorks(S1, 5));
    CHECK(A18SpinPairWorks(S2, 5));
    CHECK(A18QueuedPairWorks(Q1, 5));

    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Q1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Q2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(S1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(S2), STATUS_SUCCESS);
}

/* ------------------------------------------------------------------------
 * Fast paths: FAST_MUTEX, and a DPC on the owner's thread
 */

WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
FastMutexNestedAndDpcOnOwner(VOID)
{
    PWDKM_FAST_MUTEX F1;
    PWDKM_FAST_MUTEX F2;
    PWDKM_SPIN_LOCK S;
    LONG Value = 9;
    LONG *Data;
    KIRQL OldIrql;
    KIRQL Dpc;
    KIRQL Apc;

    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Value, &F1), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Value, &F2), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Value, &S), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(F1, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(F2, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(F1), STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK(WdkmFastMutexIsOwned(F1));

    /* A DPC on this thread: the fast mutexes are refused above their
       level, a spin lock nests, and everything is as before after it. */
    KeRaiseIrql(DISPATCH_LEVEL, &Dpc);
    CHECK_STATUS(WdkmFastMutexRelease(F2), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(F1, &Data), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(S, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_EQ(OldIrql, DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(S, OldIrql), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(S, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(S), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(Dpc);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);

    CHECK_STATUS(WdkmFastMutexRelease(F2), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK_STATUS(WdkmFastMutexRelease(F1), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(A18FastMutexPairWorks(F1, 9));
    CHECK(A18FastMutexPairWorks(F2, 9));
    CHECK(A18SpinPairWorks(S, 9));

    /* Taken at APC_LEVEL alone (nested in nothing the library holds). */
    KeRaiseIrql(APC_LEVEL, &Apc);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(F1, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(F1), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    {
        NTSTATUS Try = WDKM_FAST_MUTEX_TRY_ACQUIRE(F2, &Data);

        CHECK(Try == STATUS_SUCCESS || Try == STATUS_NOT_SUPPORTED);
        if (Try == STATUS_SUCCESS) {
            CHECK_STATUS(WdkmFastMutexRelease(F2), STATUS_SUCCESS);
        }
    }
    Data = WDKM_FAST_MUTEX_ACQUIRE_OR_BUGCHECK(F2, &Data);
    CHECK_STATUS(WdkmFastMutexRelease(F2), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(Apc);
    CHECK(A18FastMutexPairWorks(F1, 9));
    CHECK(A18FastMutexPairWorks(F2, 9));

    /* The spin lock's holder is interrupted by nothing; its "DPC" (the
       same thread at DISPATCH_LEVEL) asking for it is refused. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(S, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(S, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(S), STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(WdkmSpinLockRelease(S, OldIrql), STATUS_SUCCESS);
    CHECK(A18SpinPairWorks(S, 9));

    CHECK_STATUS(WdkmFastMutexDestroy(F1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(F2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(S), STATUS_SUCCESS);
}

/* ------------------------------------------------------------------------
 * A fixed-IRQL kernel (Wine)
 */

WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
FixedIrqlFormsMixed(VOID)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_LOCK_QUEUE_HANDLE Copy;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_SPIN_LOCK Lock;
    LONG Value = 4;
    LONG *Data;
    KIRQL OldIrql;

    WdkmHostSetIrqlRaisable(FALSE);
    WdkmpForgetRoutines();
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Value, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Value, &Queued), STATUS_SUCCESS);

    /* AtDpcLevel at the reported PASSIVE_LEVEL, the matching release form
       checked still. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data), STATUS_SUCCESS);
    CHECK(Data != NULL && *Data == 4);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, PASSIVE_LEVEL), STATUS_WDKM_IRQL_MISMATCH);
    CHECK(WdkmSpinLockIsOwned(Lock));
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Lock), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(!WdkmSpinLockIsOwned(Lock));

    /* Plain, then the DPC form of release: refused. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Lock), STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK(!WdkmSpinLockIsOwned(Lock));
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_WDKM_NOT_HELD);
#if A18_TRUE_IF_FAST
    CHECK_EQ(Lock->Header.How.HoldWord, 0);
#endif

    /* Queued: AtDpcLevel, a copy, the release, twice. */
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Queued, &Handle, &Data), STATUS_SUCCESS);
    memcpy(&Copy, &Handle, sizeof(Copy));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Copy), STATUS_WDKM_NOT_HELD);
    CHECK(WdkmQueuedSpinLockIsOwned(Queued));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_WDKM_NOT_HELD);
    CHECK(!WdkmQueuedSpinLockIsOwned(Queued));
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Queued, &Handle, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK(!WdkmQueuedSpinLockIsOwned(Queued));
#if A18_TRUE_IF_FAST
    CHECK_EQ(Queued->Header.How.HoldWord, 0);
#endif

    /* A plain spin lock and the queued AtDpcLevel form inside it. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Queued, &Handle, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK(!WdkmSpinLockIsOwned(Lock));
    CHECK(!WdkmQueuedSpinLockIsOwned(Queued));

    /* (No FAST_MUTEX here: the emulation's ExReleaseFastMutex insists on
       APC_LEVEL, which a kernel that cannot raise never reaches.) */
    CHECK_STATUS(WdkmSpinLockDestroy(Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Queued), STATUS_SUCCESS);
}

/* ------------------------------------------------------------------------
 * The registry
 */

static VOID
A18Name(CHAR *Out, ULONG Length, CHAR Fill, CHAR Last)
{
    memset(Out, Fill, Length);
    if (Length != 0) {
        Out[Length - 1] = Last;
    }
    Out[Length] = '\0';
}

/* Reference Name as a LONG spin lock and read its value; -1 on failure. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static LONG
A18ReadSpin(PCSTR Name)
{
    PWDKM_SPIN_LOCK Lock = NULL;
    LONG *Data;
    LONG Value;
    KIRQL OldIrql;

    if (WDKM_GRT_GET_SPIN_LOCK(Name, LONG, &Lock) != STATUS_SUCCESS) {
        return -1;
    }
    if (WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data) != STATUS_SUCCESS) {
        (VOID)WdkmGrtDereference(Lock);
        return -2;
    }
    Value = *Data;
    if (WdkmSpinLockRelease(Lock, OldIrql) != STATUS_SUCCESS) {
        return -3;
    }
    if (WdkmGrtDereference(Lock) != STATUS_SUCCESS) {
        return -4;
    }
    return Value;
}

WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
GrtNamesAtTheEdges(VOID)
{
    static const ULONG Lengths[] = { 1, 7, 8, 9, 31, 32, 33, 39, 40, 41, 56, 62, 63 };
    CHAR Names[2 * (sizeof(Lengths) / sizeof(Lengths[0]))][WDKM_GRT_MAX_NAME_LENGTH + 2];
    CHAR TooLong[WDKM_GRT_MAX_NAME_LENGTH + 2];
    PVOID Lock = (PVOID)1;
    LONG Baseline = A18Outstanding();
    ULONG Count = (ULONG)(sizeof(Lengths) / sizeof(Lengths[0]));
    ULONG Index;
    LONG Value;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    /* Pairs of names of each length that differ in their last character
       only: past the 32 the entry's own line holds, for the longer ones. */
    for (Index = 0; Index < Count; Index += 1) {
        A18Name(Names[2 * Index], Lengths[Index], 'n', 'a');
        A18Name(Names[2 * Index + 1], Lengths[Index], 'n', 'b');
        Value = (LONG)(2 * Index + 100);
        CHECK_STATUS(WdkmGrtRegister(Names[2 * Index], WdkmLockKindSpinLock, &Value, sizeof(Value), 0),
                     STATUS_SUCCESS);
        Value += 1;
        CHECK_STATUS(WdkmGrtRegister(Names[2 * Index + 1], WdkmLockKindSpinLock, &Value,
                                     sizeof(Value), 0),
                     STATUS_SUCCESS);
    }
    for (Index = 0; Index < 2 * Count; Index += 1) {
        CHECK_EQ(A18ReadSpin(Names[Index]), (LONG)Index + 100);
    }
    /* A 32-character prefix of a 33-character name is another name. */
    {
        CHAR Prefix[WDKM_GRT_MAX_NAME_LENGTH + 2];
        CHAR Longer[WDKM_GRT_MAX_NAME_LENGTH + 2];

        A18Name(Prefix, 32, 'p', 'p');
        A18Name(Longer, 33, 'p', 'p');
        Value = 1;
        CHECK_STATUS(WdkmGrtRegister(Prefix, WdkmLockKindSpinLock, &Value, sizeof(Value), 0),
                     STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_GET_SPIN_LOCK(Longer, LONG, &Lock), STATUS_OBJECT_NAME_NOT_FOUND);
        CHECK(Lock == NULL);
        Value = 2;
        CHECK_STATUS(WdkmGrtRegister(Longer, WdkmLockKindSpinLock, &Value, sizeof(Value), 0),
                     STATUS_SUCCESS);
        CHECK_EQ(A18ReadSpin(Prefix), 1);
        CHECK_EQ(A18ReadSpin(Longer), 2);
        CHECK_STATUS(WdkmGrtUnregister(Prefix), STATUS_SUCCESS);
        CHECK_EQ(A18ReadSpin(Longer), 2);
        CHECK_STATUS(WdkmGrtUnregister(Longer), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister(Longer), STATUS_OBJECT_NAME_NOT_FOUND);
    }
    /* Collisions, then one of each pair removed: the other still found. */
    for (Index = 0; Index < Count; Index += 1) {
        Value = 0;
        CHECK_STATUS(WdkmGrtRegister(Names[2 * Index], WdkmLockKindSpinLock, &Value, sizeof(Value), 0),
                     STATUS_OBJECT_NAME_COLLISION);
        CHECK_STATUS(WdkmGrtUnregister(Names[2 * Index]), STATUS_SUCCESS);
        CHECK_EQ(A18ReadSpin(Names[2 * Index]), -1);
        CHECK_EQ(A18ReadSpin(Names[2 * Index + 1]), (LONG)(2 * Index + 101));
    }
    /* 64 characters, and the empty name, for every entry point. */
    A18Name(TooLong, WDKM_GRT_MAX_NAME_LENGTH + 1, 'n', 'b');
    Value = 0;
    CHECK_STATUS(WdkmGrtRegister(TooLong, WdkmLockKindSpinLock, &Value, sizeof(Value), 0),
                 STATUS_NAME_TOO_LONG);
    Lock = (PVOID)1;
    CHECK_STATUS(WDKM_GRT_GET_SPIN_LOCK(TooLong, LONG, &Lock), STATUS_NAME_TOO_LONG);
    CHECK(Lock == NULL);
    CHECK_STATUS(WdkmGrtUnregister(TooLong), STATUS_NAME_TOO_LONG);
    CHECK_STATUS(WdkmGrtRegister("", WdkmLockKindSpinLock, &Value, sizeof(Value), 0),
                 STATUS_OBJECT_NAME_INVALID);
    Lock = (PVOID)1;
    CHECK_STATUS(WDKM_GRT_GET_SPIN_LOCK("", LONG, &Lock), STATUS_OBJECT_NAME_INVALID);
    CHECK(Lock == NULL);
    CHECK_STATUS(WdkmGrtUnregister(""), STATUS_OBJECT_NAME_INVALID);

    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(A18Outstanding(), Baseline);
}

/* The value written whole under the lock leaves the name alone (the
   entry's trailer follows the value in the same block). */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
GrtEveryValueSize(VOID)
{
    static const SIZE_T Sizes[] = { 1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128,
                                    129, 4095, 4096, 4097, 65537 };
    CHAR Name[WDKM_GRT_MAX_NAME_LENGTH + 1];
    LONG Baseline = A18Outstanding();
    UCHAR *Initial;
    ULONG Index;
    SIZE_T Byte;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Initial = (UCHAR *)malloc(WDKM_MAX_DATA_SIZE + 1);
    CHECK(Initial != NULL);
    memset(Initial, 0x5A, WDKM_MAX_DATA_SIZE + 1);

    CHECK_STATUS(WdkmGrtRegister("zero", WdkmLockKindSpinLock, Initial, 0, 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegister("toolarge", WdkmLockKindSpinLock, Initial,
                                 (SIZE_T)WDKM_MAX_DATA_SIZE + 1, 0),
                 STATUS_INVALID_PARAMETER);

    for (Index = 0; Index < sizeof(Sizes) / sizeof(Sizes[0]) + 1; Index += 1) {
        SIZE_T Size = Index < sizeof(Sizes) / sizeof(Sizes[0]) ? Sizes[Index] : WDKM_MAX_DATA_SIZE;
        PWDKM_SPIN_LOCK Lock = NULL;
        PVOID Other = (PVOID)1;
        UCHAR *Data;
        KIRQL OldIrql;

        /* A long name: compared past its first 32 characters, on the trailer. */
        A18Name(Name, WDKM_GRT_MAX_NAME_LENGTH, 'v', (CHAR)('A' + Index));
        CHECK_STATUS(WdkmGrtRegister(Name, WdkmLockKindSpinLock, Initial, Size, 0), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtReference(Name, WdkmLockKindSpinLock, Size + 1, &Other),
                     STATUS_WDKM_TYPE_MISMATCH);
        CHECK(Other == NULL);
        Other = (PVOID)1;
        CHECK_STATUS(WdkmGrtReference(Name, WdkmLockKindSpinLock, Size - 1, &Other),
                     STATUS_WDKM_TYPE_MISMATCH);
        CHECK(Other == NULL);
        Other = (PVOID)1;
        CHECK_STATUS(WdkmGrtReference(Name, WdkmLockKindQueuedSpinLock, Size, &Other),
                     STATUS_WDKM_TYPE_MISMATCH);
        CHECK(Other == NULL);
        CHECK_STATUS(WdkmGrtReference(Name, WdkmLockKindSpinLock, Size, (PVOID *)&Lock),
                     STATUS_SUCCESS);
        CHECK_STATUS(WdkmSpinLockAcquire(Lock, Size, &OldIrql, (PVOID *)&Data), STATUS_SUCCESS);
        for (Byte = 0; Byte < Size; Byte += 1) {
            if (Data[Byte] != 0x5A) {
                break;
            }
        }
        CHECK_EQ(Byte, Size);
        memset(Data, 0xFF, Size);
        CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
        /* The name still finds it, and is whole in Destroy's sense. */
        Other = NULL;
        CHECK_STATUS(WdkmGrtReference(Name, WdkmLockKindSpinLock, Size, &Other), STATUS_SUCCESS);
        CHECK(Other == (PVOID)Lock);
        CHECK_STATUS(WdkmGrtDereference(Other), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
    }
    free(Initial);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(A18Outstanding(), Baseline);
}

static LONG A18Drained;

static VOID
A18Drain(PVOID Value, PVOID Context)
{
    UNREFERENCED_PARAMETER(Value);
    UNREFERENCED_PARAMETER(Context);
    InterlockedIncrement(&A18Drained);
}

/* Every kind's own Destroy, Take and DestroyWith refuse a registry lock,
   and the lock goes on working. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
GrtLockRefusedByKindDestroy(VOID)
{
    static const WDKM_LOCK_KIND Kinds[] = {
        WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock,
        WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource,
        WdkmLockKindPushLock };
    LONG Baseline = A18Outstanding();
    LONG Empty;
    ULONG Index;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Empty = A18Outstanding();
    A18Drained = 0;
    for (Index = 0; Index < sizeof(Kinds) / sizeof(Kinds[0]); Index += 1) {
        LONG Value = (LONG)(Index + 40);
        LONG Taken = -1;
        PVOID Lock = NULL;
        LONG *Data = NULL;
        KIRQL OldIrql;
        NTSTATUS Status;
        NTSTATUS A;
        NTSTATUS B;
        NTSTATUS C;

        CHECK_STATUS(WdkmGrtRegister("own", Kinds[Index], &Value, sizeof(Value), 0), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtReference("own", Kinds[Index], sizeof(LONG), &Lock), STATUS_SUCCESS);
        switch (Kinds[Index]) {
        case WdkmLockKindKMutex:
            A = WdkmKMutexDestroy((PWDKM_KMUTEX)Lock);
            B = WDKM_KMUTEX_TAKE((PWDKM_KMUTEX)Lock, &Taken);
            C = WDKM_KMUTEX_DESTROY_WITH((PWDKM_KMUTEX)Lock, LONG, A18Drain, NULL);
            Status = WDKM_KMUTEX_ACQUIRE((PWDKM_KMUTEX)Lock, &Data);
            if (Status == STATUS_SUCCESS) {
                CHECK_EQ(*Data, Value);
                CHECK_STATUS(WdkmKMutexRelease((PWDKM_KMUTEX)Lock), STATUS_SUCCESS);
            }
            break;
        case WdkmLockKindFastMutex:
            A = WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)Lock);
            B = WDKM_FAST_MUTEX_TAKE((PWDKM_FAST_MUTEX)Lock, &Taken);
            C = WDKM_FAST_MUTEX_DESTROY_WITH((PWDKM_FAST_MUTEX)Lock, LONG, A18Drain, NULL);
            Status = WDKM_FAST_MUTEX_ACQUIRE((PWDKM_FAST_MUTEX)Lock, &Data);
            if (Status == STATUS_SUCCESS) {
                CHECK_EQ(*Data, Value);
                CHECK_STATUS(WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock), STATUS_SUCCESS);
                CHECK(A18FastMutexPairWorks((PWDKM_FAST_MUTEX)Lock, Value));
            }
            break;
        case WdkmLockKindSpinLock:
            A = WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Lock);
            B = WDKM_SPIN_LOCK_TAKE((PWDKM_SPIN_LOCK)Lock, &Taken);
            C = WDKM_SPIN_LOCK_DESTROY_WITH((PWDKM_SPIN_LOCK)Lock, LONG, A18Drain, NULL);
            Status = WDKM_SPIN_LOCK_ACQUIRE((PWDKM_SPIN_LOCK)Lock, &OldIrql, &Data);
            if (Status == STATUS_SUCCESS) {
                CHECK_EQ(*Data, Value);
                CHECK_STATUS(WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, OldIrql), STATUS_SUCCESS);
                CHECK(A18SpinPairWorks((PWDKM_SPIN_LOCK)Lock, Value));
            }
            break;
        case WdkmLockKindQueuedSpinLock: {
            WDKM_LOCK_QUEUE_HANDLE Handle;

            A = WdkmQueuedSpinLockDestroy((PWDKM_QUEUED_SPIN_LOCK)Lock);
            B = WDKM_QUEUED_SPIN_LOCK_TAKE((PWDKM_QUEUED_SPIN_LOCK)Lock, &Taken);
            C = WDKM_QUEUED_SPIN_LOCK_DESTROY_WITH((PWDKM_QUEUED_SPIN_LOCK)Lock, LONG, A18Drain, NULL);
            Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE((PWDKM_QUEUED_SPIN_LOCK)Lock, &Handle, &Data);
            if (Status == STATUS_SUCCESS) {
                CHECK_EQ(*Data, Value);
                CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
                CHECK(A18QueuedPairWorks((PWDKM_QUEUED_SPIN_LOCK)Lock, Value));
            }
            break;
        }
        case WdkmLockKindGuardedMutex:
            A = WdkmGuardedMutexDestroy((PWDKM_GUARDED_MUTEX)Lock);
            B = WDKM_GUARDED_MUTEX_TAKE((PWDKM_GUARDED_MUTEX)Lock, &Taken);
            C = WDKM_GUARDED_MUTEX_DESTROY_WITH((PWDKM_GUARDED_MUTEX)Lock, LONG, A18Drain, NULL);
            Status = WDKM_GUARDED_MUTEX_ACQUIRE((PWDKM_GUARDED_MUTEX)Lock, &Data);
            if (Status == STATUS_SUCCESS) {
                CHECK_EQ(*Data, Value);
                CHECK_STATUS(WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Lock), STATUS_SUCCESS);
            }
            break;
        case WdkmLockKindResource:
            A = WdkmResourceDestroy((PWDKM_RESOURCE)Lock);
            B = WDKM_RESOURCE_TAKE((PWDKM_RESOURCE)Lock, &Taken);
            C = WDKM_RESOURCE_DESTROY_WITH((PWDKM_RESOURCE)Lock, LONG, A18Drain, NULL);
            Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE((PWDKM_RESOURCE)Lock, &Data);
            if (Status == STATUS_SUCCESS) {
                CHECK_EQ(*Data, Value);
                CHECK_STATUS(WdkmResourceRelease((PWDKM_RESOURCE)Lock), STATUS_SUCCESS);
            }
            break;
        default:
            A = WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Lock);
            B = WDKM_PUSH_LOCK_TAKE((PWDKM_PUSH_LOCK)Lock, &Taken);
            C = WDKM_PUSH_LOCK_DESTROY_WITH((PWDKM_PUSH_LOCK)Lock, LONG, A18Drain, NULL);
            Status = WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE((PWDKM_PUSH_LOCK)Lock, &Data);
            if (Status == STATUS_SUCCESS) {
                CHECK_EQ(*Data, Value);
                CHECK_STATUS(WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock), STATUS_SUCCESS);
            }
            break;
        }
        CHECK_STATUS(A, STATUS_WDKM_OWNED_BY_REGISTRY);
        CHECK_STATUS(B, STATUS_WDKM_OWNED_BY_REGISTRY);
        CHECK_STATUS(C, STATUS_WDKM_OWNED_BY_REGISTRY);
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_EQ(Taken, -1);
        CHECK_EQ(A18Drained, 0);
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister("own"), STATUS_SUCCESS);
        CHECK_EQ(A18Outstanding(), Empty);     /* as just after Initialize */
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(A18Outstanding(), Baseline);
}

static NTSTATUS
A18InitializeLong(PVOID Value, PVOID Context)
{
    *(LONG *)Value = (LONG)(LONG_PTR)Context;
    return STATUS_SUCCESS;
}

/* Every allocation of every registry path failed once: a documented
   status, and the pool back where it was. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
GrtAllocationFailuresLeakNothing(VOID)
{
    static const WDKM_LOCK_KIND Kinds[] = {
        WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock,
        WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource,
        WdkmLockKindPushLock };
    LONG Baseline = A18Outstanding();
    LONG FailAt;
    ULONG Injected = 0;

    for (FailAt = 0; FailAt < 60; FailAt += 1) {
        ULONG Before = WdkmHostPoolInjectedFailures();
        NTSTATUS Status;
        ULONG Index;
        CHAR Name[16];
        LONG Value = 1;

        WdkmHostPoolFailAt(FailAt);
        Status = WdkmGrtInitialize();
        if (Status == STATUS_INSUFFICIENT_RESOURCES) {
            CHECK_EQ(A18Outstanding(), Baseline);
            CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        } else {
            CHECK_STATUS(Status, STATUS_SUCCESS);
        }
        /* 70 names: past the first table's growth. */
        for (Index = 0; Index < 70; Index += 1) {
            Name[0] = 'f';
            Name[1] = (CHAR)('A' + Index / 26);
            Name[2] = (CHAR)('a' + Index % 26);
            Name[3] = '\0';
            if (Index % 3 == 0) {
                Status = WdkmGrtRegisterInPlace(Name, Kinds[Index % 7], sizeof(LONG),
                                                A18InitializeLong, (PVOID)(LONG_PTR)Index, 0);
            } else {
                Value = (LONG)Index;
                Status = WdkmGrtRegister(Name, Kinds[Index % 7], &Value, sizeof(Value), 0);
            }
            CHECK(Status == STATUS_SUCCESS || Status == STATUS_INSUFFICIENT_RESOURCES);
            if (Status == STATUS_SUCCESS && Index % 5 == 0) {
                Value = -1;
                Status = WdkmGrtRegister(Name, Kinds[(Index + 1) % 7], &Value, sizeof(Value),
                                         WDKM_GRT_REPLACE);
                CHECK(Status == STATUS_SUCCESS || Status == STATUS_INSUFFICIENT_RESOURCES);
            }
            if (Index % 7 == 3) {
                Status = WdkmGrtUnregister(Name);
                CHECK(Status == STATUS_SUCCESS || Status == STATUS_OBJECT_NAME_NOT_FOUND);
            }
        }
        WdkmHostPoolFailAt(-1);
        Injected += WdkmHostPoolInjectedFailures() - Before;
        CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
        CHECK_EQ(A18Outstanding(), Baseline);
    }
    CHECK(Injected >= 50);
}

/* Lookups and dereferences at DISPATCH_LEVEL (a DPC) and APC_LEVEL. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
GrtDpcAndApcLevelLookups(VOID)
{
    PWDKM_SPIN_LOCK Spin = NULL;
    PWDKM_KMUTEX Mutex = NULL;
    PWDKM_RESOURCE Resource = NULL;
    PWDKM_SPIN_LOCK DpcSpin = NULL;
    PWDKM_KMUTEX DpcMutex = NULL;
    LONG Baseline = A18Outstanding();
    LONG Value = 21;
    LONG *Data;
    KIRQL OldIrql;
    KIRQL Dpc;
    KIRQL Apc;
    LONG Live;
    LONG Empty;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Empty = A18Outstanding();
    CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK("dpc.spin", &Value), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("dpc.mutex", &Value), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_RESOURCE("dpc.resource", &Value), STATUS_SUCCESS);

    /* At DISPATCH_LEVEL: look up, AtDpcLevel acquire, release, drop. */
    KeRaiseIrql(DISPATCH_LEVEL, &Dpc);
    CHECK_STATUS(WDKM_GRT_GET_SPIN_LOCK("dpc.spin", LONG, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Spin, &Data), STATUS_SUCCESS);
    CHECK_EQ(*Data, 21);
    CHECK_STATUS(WdkmGrtDereference(Spin), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Spin), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmGrtDereference(Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtRegister("dpc.x", WdkmLockKindSpinLock, &Value, sizeof(Value), 0),
                 STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmGrtUnregister("dpc.spin"), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(Dpc);
    CHECK(A18SpinPairWorks(Spin, 21));

    /* The thread holds the KMUTEX; its DPC takes and gives back a reference
       of its own: not refused. */
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("dpc.mutex", LONG, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &Dpc);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("dpc.mutex", LONG, &DpcMutex), STATUS_SUCCESS);
    CHECK(DpcMutex == Mutex);
    CHECK_STATUS(WdkmGrtDereference(DpcMutex), STATUS_SUCCESS);
    KeLowerIrql(Dpc);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);

    /* Unregistered while a DPC's reference is out: the DPC's last
       dereference frees it there and then. */
    KeRaiseIrql(DISPATCH_LEVEL, &Dpc);
    CHECK_STATUS(WDKM_GRT_GET_SPIN_LOCK("dpc.spin", LONG, &DpcSpin), STATUS_SUCCESS);
    KeLowerIrql(Dpc);
    CHECK_STATUS(WdkmGrtUnregister("dpc.spin"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("dpc.mutex"), STATUS_SUCCESS);
    Live = A18Outstanding();
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);   /* the last: freed */
    CHECK_EQ(A18Outstanding(), Live - 1);
    KeRaiseIrql(DISPATCH_LEVEL, &Dpc);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(DpcSpin, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(DpcSpin, OldIrql), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(DpcSpin), STATUS_SUCCESS);
    KeLowerIrql(Dpc);
    CHECK_EQ(A18Outstanding(), Live - 2);

    /* An ERESOURCE dropped last at DISPATCH_LEVEL waits for a writer call
       with valid arguments, whatever it answers. */
    CHECK_STATUS(WDKM_GRT_GET_RESOURCE("dpc.resource", LONG, &Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("dpc.resource"), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &Dpc);
    CHECK_STATUS(WdkmGrtDereference(Resource), STATUS_SUCCESS);
    KeLowerIrql(Dpc);
    CHECK_EQ(A18Outstanding(), Live - 2);
    CHECK_STATUS(WdkmGrtUnregister("dpc.nothing"), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_EQ(A18Outstanding(), Empty);

    /* APC_LEVEL: every registry call but Initialize and Destroy. */
    KeRaiseIrql(APC_LEVEL, &Apc);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("apc.fast", &Value), STATUS_SUCCESS);
    {
        PWDKM_FAST_MUTEX Fast = NULL;

        CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("apc.fast", LONG, &Fast), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data), STATUS_SUCCESS);
        CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
        CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
        CHECK_STATUS(WdkmGrtDereference(Fast), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtUnregister("apc.fast"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(Apc);

    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(A18Outstanding(), Baseline);
}

/* A special kernel APC (APC_LEVEL) on this thread looks up and unregisters. */
static NTSTATUS A18ApcStatus[4];

static VOID
A18SpecialApc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    PVOID Lock = NULL;
    LONG Value = 77;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    A18ApcStatus[0] = WdkmGrtReference("apc.name", WdkmLockKindSpinLock, sizeof(LONG), &Lock);
    A18ApcStatus[1] = Lock != NULL ? WdkmGrtDereference(Lock) : STATUS_UNSUCCESSFUL;
    /* No registration: an injected event must not allocate pool (the
       emulation's rule: it may have interrupted the allocator). */
    UNREFERENCED_PARAMETER(Value);
    A18ApcStatus[2] = WdkmGrtUnregister("apc.other");
    A18ApcStatus[3] = WdkmGrtUnregister("apc.other");
}

static VOID
GrtSpecialApcLookups(VOID)
{
    LONG Baseline = A18Outstanding();
    LONG Value = 5;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK("apc.name", &Value), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK("apc.other", &Value), STATUS_SUCCESS);
    A18ApcStatus[0] = A18ApcStatus[1] = A18ApcStatus[2] = A18ApcStatus[3] = STATUS_PENDING;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A18SpecialApc, NULL);
    CHECK_STATUS(A18ApcStatus[0], STATUS_SUCCESS);
    CHECK_STATUS(A18ApcStatus[1], STATUS_SUCCESS);
    CHECK_STATUS(A18ApcStatus[2], STATUS_SUCCESS);
    CHECK_STATUS(A18ApcStatus[3], STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_EQ(A18ReadSpin("apc.name"), 5);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(A18Outstanding(), Baseline);
}

/* Destroy while a reference is out; the last dereference frees. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
GrtDestroyWithReferenceOut(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Zero;
    PWDKM_QUEUED_SPIN_LOCK Lock = NULL;
    PVOID Other = (PVOID)1;
    LONG Baseline = A18Outstanding();
    LONG Value = 12;
    CHAR Long[WDKM_GRT_MAX_NAME_LENGTH + 1];

    Zero.QuadPart = 0;
    A18Name(Long, WDKM_GRT_MAX_NAME_LENGTH, 'd', 'z');
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_QUEUED_SPIN_LOCK(Long, &Value), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_QUEUED_SPIN_LOCK(Long, LONG, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.StillReferenced, 1);
    CHECK_EQ(Report.UnregisteredReferenced, 0);
    CHECK_EQ(Report.NamesReported, 1);
    CHECK(strcmp(Report.Names[0], Long) == 0);
    CHECK_STATUS(WDKM_GRT_GET_QUEUED_SPIN_LOCK(Long, LONG, &Other), STATUS_DELETE_PENDING);
    CHECK(Other == NULL);
    CHECK_STATUS(WDKM_GRT_REGISTER_QUEUED_SPIN_LOCK("d.other", &Value), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmGrtUnregister(Long), STATUS_DELETE_PENDING);
    CHECK(A18QueuedPairWorks(Lock, 12));
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_SUCCESS);
    CHECK_EQ(A18Outstanding(), Baseline);
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_WDKM_NOT_INITIALIZED);
}

/* The last dereference racing unregister, replace and destroy. */
static LONG volatile A18RaceStop;
static LONG volatile A18RaceErrors;

WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
A18RaceUser(PVOID Context, ULONG Index)
{
    static PCSTR const Names[] = { "race.a", "race.b-with-a-name-longer-than-32-chars!" };
    ULONG Round;

    UNREFERENCED_PARAMETER(Context);
    for (Round = 0; InterlockedCompareExchange(&A18RaceStop, 0, 0) == 0 && Round < 200000;
         Round += 1) {
        PWDKM_SPIN_LOCK Lock = NULL;
        LONG *Data;
        KIRQL OldIrql;
        KIRQL Dpc = PASSIVE_LEVEL;
        NTSTATUS Status;
        BOOLEAN AtDpc = (BOOLEAN)((Round + Index) % 4 == 0);

        if (AtDpc) {
            KeRaiseIrql(DISPATCH_LEVEL, &Dpc);
        }
        Status = WDKM_GRT_GET_SPIN_LOCK(Names[Round % 2], LONG, &Lock);
        if (Status == STATUS_SUCCESS) {
            if (WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data) != STATUS_SUCCESS) {
                InterlockedIncrement(&A18RaceErrors);
            } else {
                *Data += 1;
                if (WdkmSpinLockRelease(Lock, OldIrql) != STATUS_SUCCESS) {
                    InterlockedIncrement(&A18RaceErrors);
                }
            }
            if (WdkmGrtDereference(Lock) != STATUS_SUCCESS) {
                InterlockedIncrement(&A18RaceErrors);
            }
        } else if (Status != STATUS_OBJECT_NAME_NOT_FOUND && Status != STATUS_DELETE_PENDING &&
                   Status != STATUS_WDKM_NOT_INITIALIZED) {
            InterlockedIncrement(&A18RaceErrors);
        }
        if (AtDpc) {
            KeLowerIrql(Dpc);
        }
    }
}

static VOID
A18RaceWriter(PVOID Context, ULONG Index)
{
    static PCSTR const Names[] = { "race.a", "race.b-with-a-name-longer-than-32-chars!" };
    ULONG Round;

    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    for (Round = 0; Round < 1500; Round += 1) {
        LONG Value = 0;
        NTSTATUS Status;

        switch (Round % 5) {
        case 0:
        case 1:
            Status = WDKM_GRT_REPLACE_SPIN_LOCK(Names[Round % 2], &Value);
            if (Status != STATUS_SUCCESS) {
                InterlockedIncrement(&A18RaceErrors);
            }
            break;
        case 2:
            Status = WdkmGrtUnregister(Names[Round % 2]);
            if (Status != STATUS_SUCCESS && Status != STATUS_OBJECT_NAME_NOT_FOUND) {
                InterlockedIncrement(&A18RaceErrors);
            }
            break;
        case 3:
            Status = WDKM_GRT_REGISTER_SPIN_LOCK(Names[Round % 2], &Value);
            if (Status != STATUS_SUCCESS && Status != STATUS_OBJECT_NAME_COLLISION) {
                InterlockedIncrement(&A18RaceErrors);
            }
            break;
        default:
            if (Round % 50 == 4) {
                /* Destroy under the users' feet, and up again. */
                if (WdkmGrtDestroy(NULL, NULL) != STATUS_SUCCESS ||
                    WdkmGrtInitialize() != STATUS_SUCCESS) {
                    InterlockedIncrement(&A18RaceErrors);
                }
            }
            break;
        }
    }
    InterlockedExchange(&A18RaceStop, 1);
}

static VOID
A18RaceRun(PVOID Context, ULONG Index)
{
    if (Index == 0) {
        A18RaceWriter(Context, Index);
    } else {
        A18RaceUser(Context, Index);
    }
}

static VOID
GrtLastDereferenceRacesWriters(VOID)
{
    LONG Baseline = A18Outstanding();

    A18RaceStop = 0;
    A18RaceErrors = 0;
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK(WdkmTestRunThreads(3, A18RaceRun, NULL));
    CHECK_EQ(A18RaceErrors, 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(A18Outstanding(), Baseline);
}


/*
 * A special kernel APC runs at APC_LEVEL, where every registry writer is
 * allowed, on whatever its thread was doing - also on a thread inside a
 * registration, holding the registry's writer lock. A registration from
 * that APC must not wait for its own thread (a hang): the writer lock
 * has to mask special kernel APCs as a FAST_MUTEX's APC_LEVEL does.
 * (The APC unregisters a name that is not there: a writer call that
 * allocates nothing, which an injected event must not.)
 */
static LONG volatile A18WriterDone;
static LONG volatile A18WriterStop;
static LONG volatile A18WriterRounds;
static LONG volatile A18ApcRuns;
static LONG volatile A18ApcErrors;

static VOID
A18RegisteringApc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    /* A writer call that allocates nothing (an injected event must not:
       the emulation's rule), and takes the writer lock as any does. */
    Status = WdkmGrtUnregister("apcw.none");
    if (Status != STATUS_OBJECT_NAME_NOT_FOUND) {
        InterlockedIncrement(&A18ApcErrors);
    }
    InterlockedIncrement(&A18ApcRuns);
}

static VOID
A18ReplacingWriter(PVOID Context, ULONG Index)
{
    ULONG Round;
    LONG Value = 1;

    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    for (Round = 0; Round < 20000 && InterlockedCompareExchange(&A18WriterStop, 0, 0) == 0;
         Round += 1) {
        if (WdkmGrtRegister("apcw.writer", WdkmLockKindSpinLock, &Value, sizeof(Value),
                            WDKM_GRT_REPLACE) != STATUS_SUCCESS) {
            InterlockedIncrement(&A18ApcErrors);
        }
        InterlockedIncrement(&A18WriterRounds);
    }
    InterlockedExchange(&A18WriterDone, 1);
}

static VOID
A18BusyReader(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    while (InterlockedCompareExchange(&A18WriterDone, 0, 0) == 0) {
        PVOID Lock = NULL;

        if (WdkmGrtReference("apcw.writer", WdkmLockKindSpinLock, sizeof(LONG), &Lock) ==
            STATUS_SUCCESS) {
            (VOID)WdkmGrtDereference(Lock);
        }
    }
}

static VOID
GrtSpecialApcRegistersOnAWriter(VOID)
{
    WDKM_TEST_THREAD *Writer;
    WDKM_TEST_THREAD *Reader;
    LONG Baseline = A18Outstanding();
    LONGLONG Started;
    LONGLONG Progressed;
    LONG Rounds = -1;
    ULONG Queued = 0;

    A18WriterDone = 0;
    A18WriterStop = 0;
    A18WriterRounds = 0;
    A18ApcRuns = 0;
    A18ApcErrors = 0;
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Writer = WdkmTestStartThread(A18ReplacingWriter, NULL);
    CHECK(Writer != NULL);
    Reader = WdkmTestStartThread(A18BusyReader, NULL);
    CHECK(Reader != NULL);
    /*
     * A hang is a writer that stops making rounds, judged by progress and
     * not by a deadline: under valgrind, which runs one thread at a time,
     * the rounds are fifty times slower but keep coming. Ten seconds of
     * rounds is enough for the APCs to land inside registrations.
     */
    Started = WdkmTestNowMs();
    Progressed = Started;
    while (InterlockedCompareExchange(&A18WriterDone, 0, 0) == 0) {
        LONGLONG Now = WdkmTestNowMs();

        if (InterlockedCompareExchange(&A18WriterRounds, 0, 0) != Rounds) {
            Rounds = InterlockedCompareExchange(&A18WriterRounds, 0, 0);
            Progressed = Now;
        } else if (Now - Progressed > 10000) {
            break;
        }
        if (Now - Started > 10000) {
            InterlockedExchange(&A18WriterStop, 1);
        }
        if (Queued < 4000) {
            WdkmHostQueueInterrupt(WdkmTestThreadObject(Writer), WdkmHostInterruptSpecialApc,
                                   A18RegisteringApc, NULL);
            Queued += 1;
        }
        WdkmTestSleepMs(1);
    }
    if (InterlockedCompareExchange(&A18WriterDone, 0, 0) == 0) {
        /* The writer's own APC waits for the writer lock its thread holds:
           both threads stay stuck. */
        WdkmTestFail(__FILE__, __LINE__,
                     "a special kernel APC calling a writer on a registering thread hung it "
                     "(%ld APCs ran)", (long)A18ApcRuns);
        return;
    }
    WdkmTestJoinThread(Writer);
    WdkmTestJoinThread(Reader);
    CHECK(A18ApcRuns > 0);
    CHECK_EQ(A18ApcErrors, 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(A18Outstanding(), Baseline);
}

static const WDKM_TEST_CASE Cases[] = {
    { "spin lock: every form mixed on one lock leaves it plain", SpinFormsMixedOnOneLock },
    { "refused releases change nothing (IRQL, another thread)", RefusedReleasesChangeNothing },
    { "queued: copies of the handle, released twice, AtDpcLevel", QueuedHandleCopiesAndTwiceReleased },
    { "nested spin and queued holds released out of order", NestedKindsOutOfOrder },
    { "FAST_MUTEX nested, and a DPC on the owner's thread", FastMutexNestedAndDpcOnOwner },
    { "fixed-IRQL kernel: forms mixed", FixedIrqlFormsMixed },
    { "grt: names of 1..63 characters, equal for 32", GrtNamesAtTheEdges },
    { "grt: every value size, the name intact", GrtEveryValueSize },
    { "grt: a registry lock refused by its kind's destroy", GrtLockRefusedByKindDestroy },
    { "grt: allocation failures leak nothing", GrtAllocationFailuresLeakNothing },
    { "grt: DPC- and APC-level lookups", GrtDpcAndApcLevelLookups },
    { "grt: a special kernel APC looks up and unregisters", GrtSpecialApcLookups },
    { "grt: destroy with a reference out", GrtDestroyWithReferenceOut },
    { "grt: last dereference races unregister, replace, destroy", GrtLastDereferenceRacesWriters },
    { "grt: a special kernel APC unregisters on a registering thread", GrtSpecialApcRegistersOnAWriter },
};

const WDKM_TEST_SUITE WdkmAttack18Suite = WDKM_TEST_SUITE_WITH_CLEANUP("attack18", Cases, A18Cleanup);
