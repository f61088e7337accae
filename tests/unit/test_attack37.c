/*
 * test_attack37.c - scoped forms, regions, values in place, the inline fast
 * paths, pool statistics and debugger output, attacked from
 * docs/reference.md alone: every refusal must change nothing (object and
 * value byte-compared), leave the IRQL and regions as they were, and the
 * inline twins must answer exactly as the exported functions.
 */
#include <string.h>

#include "wdkm_test.h"
#if !WDKM_CHECKED
#include <wdkmutex/wdkm_layout.h>
#define A37_HEADER_BYTES sizeof(WDKMP_LOCK_HEADER)
#else
/* The checked header ends with diagnostics this program cannot name; the
   value, and the header's first words (signature, hold form, IRQL). */
#define A37_HEADER_BYTES 8
#endif

typedef struct _A37_VALUE {
    ULONG A;
    ULONG B;
} A37_VALUE;

/* The lock block's header and value, to byte-compare around a refusal. */
typedef struct _A37_SNAPSHOT {
    UCHAR Header[A37_HEADER_BYTES];
    UCHAR Value[sizeof(A37_VALUE)];
} A37_SNAPSHOT;

/* The value's address: the header's Data (the release layout), found in
   the checked build by an acquire made once at creation (A37Remember). */
static PVOID A37KnownLock[16];
static PVOID A37KnownData[16];

static VOID
A37Remember(PVOID Lock, PVOID Data)
{
    ULONG Index;

    for (Index = 0; Index < 16; Index += 1) {
        if (A37KnownLock[Index] == NULL || A37KnownLock[Index] == Lock) {
            A37KnownLock[Index] = Lock;
            A37KnownData[Index] = Data;
            return;
        }
    }
}

static PVOID
A37ValueOf(PVOID Lock)
{
#if !WDKM_CHECKED
    return ((const WDKMP_LOCK_HEADER *)Lock)->Data;
#else
    ULONG Index;

    for (Index = 0; Index < 16; Index += 1) {
        if (A37KnownLock[Index] == Lock) {
            return A37KnownData[Index];
        }
    }
    return Lock;
#endif
}

static VOID
A37Snap(PVOID Lock, A37_SNAPSHOT *Snapshot)
{
    memcpy(Snapshot->Header, Lock, sizeof(Snapshot->Header));
    memcpy(Snapshot->Value, A37ValueOf(Lock), sizeof(Snapshot->Value));
}

static BOOLEAN
A37Same(PVOID Lock, const A37_SNAPSHOT *Before)
{
    A37_SNAPSHOT After;

    A37Snap(Lock, &After);
    return memcmp(&After, Before, sizeof(After)) == 0;
}

/* ---------------------------------------------------------------------- */
/* Queued spin lock: a handle that already holds one lock, reused for      */
/* another. Found granted (the first lock then unreleasable); the handle   */
/* is _Out_ (maybe uninitialised stack), so reference.md now lists it      */
/* under "not detected" with this consequence, which the test pins: both   */
/* forms (inline twin, exported function) alike.                           */
/* ---------------------------------------------------------------------- */

static VOID
A37QueuedHandleReused(BOOLEAN Inline)
{
    A37_VALUE Initial = { 1, 2 };
    PWDKM_QUEUED_SPIN_LOCK First = NULL, Second = NULL;
    WDKM_LOCK_QUEUE_HANDLE Handle, Saved;
    A37_VALUE *Data = NULL, *Other = NULL;
    NTSTATUS Status;

    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Initial, &First), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Initial, &Second), STATUS_SUCCESS);
    if (Inline) {
        Status = WdkmQueuedSpinLockAcquire(First, sizeof(A37_VALUE), &Handle, (PVOID *)&Data);
    } else {
        Status = (WdkmQueuedSpinLockAcquire)(First, sizeof(A37_VALUE), &Handle, (PVOID *)&Data);
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    memcpy(&Saved, &Handle, sizeof(Saved));

    if (Inline) {
        Status = WdkmQueuedSpinLockAcquire(Second, sizeof(A37_VALUE), &Handle, (PVOID *)&Other);
    } else {
        Status = (WdkmQueuedSpinLockAcquire)(Second, sizeof(A37_VALUE), &Handle, (PVOID *)&Other);
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK(Other != NULL);
    CHECK(WdkmQueuedSpinLockIsOwned(First));
    CHECK(WdkmQueuedSpinLockIsOwned(Second));
    /* The copy of the first hold's handle is refused: a copy holds nothing. */
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Saved), STATUS_WDKM_NOT_HELD);
    /* The handle releases the second hold only, and stays at DISPATCH_LEVEL. */
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK(WdkmQueuedSpinLockIsOwned(First));
    CHECK(!WdkmQueuedSpinLockIsOwned(Second));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(First), STATUS_WDKM_LOCK_HELD);
    /* Only putting the first hold's handle back, in place, frees it. */
    memcpy(&Handle, &Saved, sizeof(Handle));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(First), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Second), STATUS_SUCCESS);
}

static VOID
A37QueuedHandleReusedInline(VOID)
{
    A37QueuedHandleReused(TRUE);
}

static VOID
A37QueuedHandleReusedExported(VOID)
{
    A37QueuedHandleReused(FALSE);
}

/* ---------------------------------------------------------------------- */
/* Regions: every refused leave changes neither the region nor the APC    */
/* state, also from a DPC modelled on the same thread.                     */
/* ---------------------------------------------------------------------- */

static VOID
A37RegionRefusals(VOID)
{
    WDKM_REGION Region, Never, Before;
    KIRQL OldIrql;

    memset(&Never, 0, sizeof(Never));
    CHECK_STATUS(WdkmRegionLeave(&Never), STATUS_WDKM_NOT_HELD);
    CHECK(!KeAreApcsDisabled());
    CHECK_STATUS(WdkmRegionEnterGuarded(&Region), STATUS_SUCCESS);
    CHECK(KeAreAllApcsDisabled());
    memcpy(&Before, &Region, sizeof(Before));
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);             /* a DPC on this thread */
    CHECK_STATUS(WdkmRegionLeave(&Region), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmRegionEnterCritical(&Never), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(OldIrql);
    CHECK(memcmp(&Before, &Region, sizeof(Before)) == 0);
    CHECK(KeAreAllApcsDisabled());
    CHECK_STATUS(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    CHECK(!KeAreApcsDisabled());
    memcpy(&Before, &Region, sizeof(Before));
    CHECK_STATUS(WdkmRegionLeave(&Region), STATUS_WDKM_NOT_HELD);
    CHECK(memcmp(&Before, &Region, sizeof(Before)) == 0);
    CHECK(!KeAreApcsDisabled());
    CHECK_STATUS(WdkmRegionLeave(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmRegionEnterCritical(NULL), STATUS_INVALID_PARAMETER);
}

/* A region scope left by break, return and goto, nested: balanced. */
static NTSTATUS
A37RegionScopeReturn(VOID)
{
    NTSTATUS Status;

    WDKM_GUARDED_REGION_SCOPED(&Status) {
        if (KeAreAllApcsDisabled()) {
            return STATUS_NO_MORE_ENTRIES;
        }
    } WDKM_SCOPED_END
    return Status;
}

static VOID
A37RegionScopeExits(VOID)
{
    NTSTATUS Outer = STATUS_UNSUCCESSFUL, Inner = STATUS_UNSUCCESSFUL;
    ULONG Runs = 0;
    KIRQL OldIrql;

    WDKM_CRITICAL_REGION_SCOPED(&Outer) {
        Runs += 1;
        WDKM_GUARDED_REGION_SCOPED(&Inner) {
            Runs += 1;
            break;
        } WDKM_SCOPED_END
        CHECK(KeAreApcsDisabled());
        CHECK(!KeAreAllApcsDisabled());
        goto Out;
    } WDKM_SCOPED_END
Out:
    CHECK_EQ(Runs, 2);
    CHECK_STATUS(Outer, STATUS_SUCCESS);
    CHECK_STATUS(Inner, STATUS_SUCCESS);
    CHECK(!KeAreApcsDisabled());
    CHECK_STATUS(A37RegionScopeReturn(), STATUS_NO_MORE_ENTRIES);
    CHECK(!KeAreApcsDisabled());
    /* Refused entry (a DPC): the block does not run, nothing is entered. */
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    WDKM_CRITICAL_REGION_SCOPED(&Outer) {
        Runs += 1;
    } WDKM_SCOPED_END
    KeLowerIrql(OldIrql);
    CHECK_EQ(Runs, 2);
    CHECK_STATUS(Outer, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(!KeAreApcsDisabled());
}

/* ---------------------------------------------------------------------- */
/* Scoped lock forms: a refused acquisition runs no block and changes     */
/* nothing; nested recursive KMUTEX scopes left by break release once.     */
/* ---------------------------------------------------------------------- */

static VOID
A37ScopeRefusedAndNested(VOID)
{
    A37_VALUE Initial = { 5, 6 };
    PWDKM_KMUTEX Mutex = NULL;
    PWDKM_SPIN_LOCK Spin = NULL;
    A37_VALUE *Data = (A37_VALUE *)(ULONG_PTR)1;
    ULONG *Wrong = (ULONG *)(ULONG_PTR)1;
    A37_SNAPSHOT Before;
    NTSTATUS Outer = STATUS_UNSUCCESSFUL, Inner = STATUS_UNSUCCESSFUL;
    KIRQL OldIrql;
    ULONG Runs = 0;

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Initial, &Spin), STATUS_SUCCESS);
    A37Snap(Mutex, &Before);
    WDKM_KMUTEX_SCOPED(Mutex, Wrong, &Outer) {     /* another size */
        Runs += 1;
    } WDKM_SCOPED_END
    CHECK_STATUS(Outer, STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Wrong == NULL);
    CHECK(A37Same(Mutex, &Before));
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    WDKM_KMUTEX_SCOPED(Mutex, Data, &Outer) {      /* a wait at DISPATCH_LEVEL */
        Runs += 1;
    } WDKM_SCOPED_END
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Outer, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);
    CHECK(A37Same(Mutex, &Before));
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    WDKM_SPIN_LOCK_SCOPED(Spin, Data, &Outer) {
        Runs += 1;
    } WDKM_SCOPED_END
    CHECK_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Outer, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_EQ(Runs, 0);

    WDKM_KMUTEX_SCOPED(Mutex, Data, &Outer) {
        Runs += 1;
        WDKM_KMUTEX_SCOPED(Mutex, Data, &Inner) {  /* a recursive hold */
            Runs += 1;
            Data->A += 1;
            break;
        } WDKM_SCOPED_END
        CHECK(WdkmKMutexIsOwned(Mutex));
        WDKM_SPIN_LOCK_SCOPED(Spin, Data, &Inner) {
            CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
            continue;
        } WDKM_SCOPED_END
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK(!WdkmSpinLockIsOwned(Spin));
    } WDKM_SCOPED_END
    CHECK_EQ(Runs, 2);
    CHECK_STATUS(Outer, STATUS_SUCCESS);
    CHECK_STATUS(Inner, STATUS_SUCCESS);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);   /* released once, not twice */
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* Values in place                                                         */
/* ---------------------------------------------------------------------- */

typedef struct _A37_DRAIN {
    PWDKM_FAST_MUTEX Lock;
    ULONG Calls;
    NTSTATUS Destroy, DestroyWith, Take, Acquire;
} A37_DRAIN;

static VOID
A37DrainReenters(PVOID Value, PVOID Context)
{
    A37_DRAIN *Drain = (A37_DRAIN *)Context;
    A37_VALUE Out;
    A37_VALUE *Data;

    UNREFERENCED_PARAMETER(Value);
    Drain->Calls += 1;
    if (Drain->Calls > 1) {
        return;
    }
    Drain->Destroy = WdkmFastMutexDestroy(Drain->Lock);
    Drain->DestroyWith = WdkmFastMutexDestroyWith(Drain->Lock, sizeof(A37_VALUE), A37DrainReenters, Drain);
    Drain->Take = WDKM_FAST_MUTEX_TAKE(Drain->Lock, &Out);
    Drain->Acquire = WDKM_FAST_MUTEX_ACQUIRE(Drain->Lock, &Data);
    if (Drain->Acquire == STATUS_SUCCESS) {
        (VOID)WdkmFastMutexRelease(Drain->Lock);
    }
}

static VOID
A37DrainNoop(PVOID Value, PVOID Context)
{
    UNREFERENCED_PARAMETER(Value);
    *(ULONG *)Context += 1;
}

static NTSTATUS
A37InitReturns(PVOID Value, PVOID Context)
{
    ((A37_VALUE *)Value)->A = 77;
    return *(NTSTATUS *)Context;
}

static VOID
A37InPlace(VOID)
{
    A37_DRAIN Drain;
    ULONG Drains = 0;
    PWDKM_FAST_MUTEX Lock = NULL;
    A37_VALUE *Data;
    A37_SNAPSHOT Before;
    LONG Outstanding = WdkmTestPoolOutstanding();
    NTSTATUS Result;
    KIRQL OldIrql;

    /* Any success status counts as STATUS_SUCCESS. */
    Result = STATUS_PENDING;
    CHECK_STATUS(WdkmFastMutexCreateInPlace(sizeof(A37_VALUE), A37InitReturns, &Result, &Lock),
                 STATUS_SUCCESS);
    CHECK(Lock != NULL);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Lock, &Data), STATUS_SUCCESS);
    A37Remember(Lock, Data);
    CHECK_EQ(Data->A, 77);
    /* Held: DestroyWith refused, drain not called, nothing changed. */
    A37Snap(Lock, &Before);
    CHECK_STATUS(WdkmFastMutexDestroyWith(Lock, sizeof(A37_VALUE), A37DrainNoop, &Drains),
                 STATUS_WDKM_LOCK_HELD);
    CHECK(A37Same(Lock, &Before));
    CHECK_STATUS(WdkmFastMutexRelease(Lock), STATUS_SUCCESS);
    A37Snap(Lock, &Before);
    CHECK_STATUS(WdkmFastMutexDestroyWith(Lock, sizeof(ULONG), A37DrainNoop, &Drains),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmFastMutexDestroyWith(Lock, sizeof(A37_VALUE), NULL, &Drains),
                 STATUS_INVALID_PARAMETER);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmFastMutexDestroyWith(Lock, sizeof(A37_VALUE), A37DrainNoop, &Drains),
                 STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(OldIrql);
    CHECK(A37Same(Lock, &Before));
    CHECK_EQ(Drains, 0);

    /* The drain uses the lock: every use is refused, the drain runs once,
       the block is freed once. */
    memset(&Drain, 0, sizeof(Drain));
    Drain.Lock = Lock;
    CHECK_STATUS(WdkmFastMutexDestroyWith(Lock, sizeof(A37_VALUE), A37DrainReenters, &Drain),
                 STATUS_SUCCESS);
    CHECK_EQ(Drain.Calls, 1);
    CHECK(Drain.Destroy != STATUS_SUCCESS);
    CHECK(Drain.DestroyWith != STATUS_SUCCESS);
    CHECK(Drain.Take != STATUS_SUCCESS);
    CHECK(Drain.Acquire != STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Outstanding);

    /* A warning status (NT_SUCCESS FALSE) fails the create with it. */
    Result = STATUS_BUFFER_OVERFLOW;
    Lock = (PWDKM_FAST_MUTEX)(ULONG_PTR)1;
    CHECK_STATUS(WdkmFastMutexCreateInPlace(sizeof(A37_VALUE), A37InitReturns, &Result, &Lock),
                 STATUS_BUFFER_OVERFLOW);
    CHECK(Lock == NULL);
    CHECK_EQ(WdkmTestPoolOutstanding(), Outstanding);
}

/* ---------------------------------------------------------------------- */
/* Pool statistics: refused creates count nothing; failed allocations     */
/* count once; concurrent creates and destroys balance.                    */
/* ---------------------------------------------------------------------- */

static VOID
A37PoolWorker(PVOID Context, ULONG Index)
{
    A37_VALUE Initial = { Index, 0 };
    ULONG Round;

    UNREFERENCED_PARAMETER(Context);
    for (Round = 0; Round < 200; Round += 1) {
        PWDKM_SPIN_LOCK Lock = NULL;

        if (WDKM_SPIN_LOCK_CREATE(&Initial, &Lock) == STATUS_SUCCESS) {
            (VOID)WdkmSpinLockDestroy(Lock);
        }
    }
}

static VOID
A37PoolStatistics(VOID)
{
    WDKM_POOL_STATISTICS Before, After;
    A37_VALUE Initial = { 0, 0 };
    PWDKM_SPIN_LOCK Lock = NULL;
    KIRQL OldIrql;

    WdkmQueryPoolStatistics(&Before);
    CHECK_STATUS(WdkmSpinLockCreate(&Initial, 0, &Lock), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmSpinLockCreate(&Initial, WDKM_MAX_DATA_SIZE + 1, &Lock),
                 STATUS_INVALID_PARAMETER);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Initial, &Lock), STATUS_WDKM_IRQL_TOO_HIGH);
    WdkmQueryPoolStatistics(&After);                   /* any IRQL */
    KeLowerIrql(OldIrql);
    CHECK_EQ(After.TotalAllocations, Before.TotalAllocations);
    CHECK_EQ(After.FailedAllocations, Before.FailedAllocations);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks);

    WdkmHostPoolFailAt(0);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Initial, &Lock), STATUS_INSUFFICIENT_RESOURCES);
    WdkmHostPoolFailAt(-1);
    CHECK(Lock == NULL);
    WdkmQueryPoolStatistics(&After);
    CHECK_EQ(After.TotalAllocations, Before.TotalAllocations);
    CHECK_EQ(After.FailedAllocations, Before.FailedAllocations + 1);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks);
    CHECK_EQ(After.OutstandingBytes, Before.OutstandingBytes);

    CHECK(WdkmTestRunThreads(4, A37PoolWorker, NULL));
    WdkmQueryPoolStatistics(&After);
    CHECK_EQ(After.TotalAllocations - Before.TotalAllocations, 4 * 200);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks);
    CHECK_EQ(After.OutstandingBytes, Before.OutstandingBytes);
}

/* ---------------------------------------------------------------------- */
/* Debugger output: a refused setting changes nothing.                     */
/* ---------------------------------------------------------------------- */

static VOID
A37DebugOutput(VOID)
{
    ULONG Component = 0, Level = 0, Component2 = 0, Level2 = 0;
    KIRQL OldIrql;

    WdkmDebugQueryOutput(&Component, &Level);
    CHECK_STATUS(WdkmDebugSetOutput(Component + 1, 32), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmDebugSetOutput(Component + 1, WDKM_DEBUG_OFF - 1), STATUS_INVALID_PARAMETER);
    WdkmDebugQueryOutput(&Component2, &Level2);
    CHECK_EQ(Component2, Component);
    CHECK_EQ(Level2, Level);
    WdkmDebugQueryOutput(NULL, NULL);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmDebugSetOutput(Component, 31), STATUS_SUCCESS);
    KeLowerIrql(OldIrql);
    WdkmDebugQueryOutput(NULL, &Level2);
    CHECK_EQ(Level2, 31);
    CHECK_STATUS(WdkmDebugSetOutput(Component, Level), STATUS_SUCCESS);
}

static const WDKM_TEST_CASE A37Cases[] = {
    { "queued_handle_reused_inline", A37QueuedHandleReusedInline },
    { "queued_handle_reused_exported", A37QueuedHandleReusedExported },
    { "region_refusals", A37RegionRefusals },
    { "region_scope_exits", A37RegionScopeExits },
    { "scope_refused_and_nested", A37ScopeRefusedAndNested },
    { "in_place", A37InPlace },
    { "pool_statistics", A37PoolStatistics },
    { "debug_output", A37DebugOutput },
};

static VOID
A37Cleanup(VOID)
{
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
}

const WDKM_TEST_SUITE WdkmAttack37Suite = WDKM_TEST_SUITE_WITH_CLEANUP("attack37", A37Cases, A37Cleanup);
