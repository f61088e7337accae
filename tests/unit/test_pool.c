/*
 * test_pool.c - which allocator the library uses, its fallback, and its
 * own accounting.
 */
#include "wdkm_test.h"

#include "wdkm_port.h"     /* WdkmpForgetRoutines, to re-run the lookup */

typedef struct _PAYLOAD {
    UCHAR Bytes[40];
} PAYLOAD;

/* Exercises a lock made by the current allocator: a non-zeroed block
   would show as a wrong recursion depth or a phantom owner. */
static BOOLEAN
LockWorks(VOID)
{
    PAYLOAD Initial;
    PWDKM_KMUTEX Mutex;
    PAYLOAD *Data;
    BOOLEAN Works;

    RtlFillMemory(&Initial, sizeof(Initial), 0x5A);
    if (WDKM_KMUTEX_CREATE(&Initial, &Mutex) != STATUS_SUCCESS) {
        return FALSE;
    }
    Works = !WdkmKMutexIsOwned(Mutex) &&
            WDKM_KMUTEX_ACQUIRE(Mutex, &Data) == STATUS_SUCCESS &&
            Data->Bytes[39] == 0x5A &&
            WdkmKMutexRelease(Mutex) == STATUS_SUCCESS &&
            WdkmKMutexRelease(Mutex) == STATUS_WDKM_NOT_HELD &&
            !WdkmKMutexIsOwned(Mutex);
    return WdkmKMutexDestroy(Mutex) == STATUS_SUCCESS && Works;
}

static VOID
PrefersExAllocatePool2(VOID)
{
    WDKM_POOL_STATISTICS Statistics;

    WdkmHostResetRoutines();
    WdkmpForgetRoutines();
    CHECK(LockWorks());
    WdkmQueryPoolStatistics(&Statistics);
    CHECK_EQ(Statistics.Allocator, WdkmPoolAllocatorPool2);
}

/* Wine 8 and Windows before 10 2004: ExAllocatePoolWithTag + zeroing. */
static VOID
FallsBackToAllocatePoolWithTag(VOID)
{
    WDKM_POOL_STATISTICS Statistics;
    BOOLEAN Works;

    WdkmHostSetRoutineAvailable("ExAllocatePool2", FALSE);
    WdkmpForgetRoutines();
    Works = LockWorks();
    WdkmQueryPoolStatistics(&Statistics);
    WdkmHostResetRoutines();
    WdkmpForgetRoutines();
    CHECK(Works);
    CHECK_EQ(Statistics.Allocator, WdkmPoolAllocatorWithTag);
}

/* Before any PASSIVE_LEVEL call the lookup cannot run: the fallback is used. */
static VOID
AllocatesAtDispatchBeforeLookup(VOID)
{
    WDKM_POOL_STATISTICS Statistics;
    PAYLOAD Initial;
    PWDKM_FAST_MUTEX FastMutex = NULL;
    NTSTATUS Status;
    KIRQL OldIrql;

    RtlZeroMemory(&Initial, sizeof(Initial));
    WdkmpForgetRoutines();
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex);
    WdkmQueryPoolStatistics(&Statistics);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Statistics.Allocator, WdkmPoolAllocatorNotResolved);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
    CHECK(LockWorks());
    WdkmQueryPoolStatistics(&Statistics);
    CHECK_EQ(Statistics.Allocator, WdkmPoolAllocatorPool2);
}

static VOID
AccountingFollowsLocks(VOID)
{
    WDKM_POOL_STATISTICS Before;
    WDKM_POOL_STATISTICS During;
    WDKM_POOL_STATISTICS After;
    PAYLOAD Initial;
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX FastMutex;
    PWDKM_FAST_MUTEX NotCreated;

    RtlZeroMemory(&Initial, sizeof(Initial));
    WdkmQueryPoolStatistics(&Before);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex), STATUS_SUCCESS);
    WdkmHostPoolFailAt(0);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &NotCreated), STATUS_INSUFFICIENT_RESOURCES);
    CHECK(NotCreated == NULL);
    WdkmHostPoolFailAt(-1);
    WdkmQueryPoolStatistics(&During);
    CHECK_EQ(During.OutstandingBlocks, Before.OutstandingBlocks + 2);
    CHECK(During.OutstandingBytes >= Before.OutstandingBytes + 2 * (LONG64)sizeof(PAYLOAD));
    CHECK_EQ(During.TotalAllocations, Before.TotalAllocations + 2);
    CHECK_EQ(During.FailedAllocations, Before.FailedAllocations + 1);
    CHECK_EQ(WdkmTestPoolOutstanding(), During.OutstandingBlocks);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
    WdkmQueryPoolStatistics(&After);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks);
    CHECK_EQ(After.OutstandingBytes, Before.OutstandingBytes);
}

/*
 * Every lock block starts a cache line (the header, its checks' fields and
 * the kernel's lock word share one line), whatever the pool's own
 * alignment, for every kind and value size; and the accounting counts the
 * slack it took, so destroying them all leaves nothing outstanding.
 */
static VOID
LockBlocksStartACacheLine(VOID)
{
    WDKM_POOL_STATISTICS Before;
    WDKM_POOL_STATISTICS After;
    UCHAR Value[40] = { 0 };
    PVOID Locks[7 * 4];
    ULONG Count = 0;
    ULONG Size;
    ULONG Index;

    WdkmQueryPoolStatistics(&Before);
    for (Size = 1; Size <= sizeof(Value); Size += 13) {
        PWDKM_KMUTEX KMutex = NULL;
        PWDKM_FAST_MUTEX FastMutex = NULL;
        PWDKM_SPIN_LOCK SpinLock = NULL;
        PWDKM_QUEUED_SPIN_LOCK Queued = NULL;
        PWDKM_GUARDED_MUTEX Guarded = NULL;
        PWDKM_RESOURCE Resource = NULL;
        PWDKM_PUSH_LOCK PushLock = NULL;

        CHECK_STATUS(WdkmKMutexCreate(Value, Size, &KMutex), STATUS_SUCCESS);
        CHECK_STATUS(WdkmFastMutexCreate(Value, Size, &FastMutex), STATUS_SUCCESS);
        CHECK_STATUS(WdkmSpinLockCreate(Value, Size, &SpinLock), STATUS_SUCCESS);
        CHECK_STATUS(WdkmQueuedSpinLockCreate(Value, Size, &Queued), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGuardedMutexCreate(Value, Size, &Guarded), STATUS_SUCCESS);
        CHECK_STATUS(WdkmResourceCreate(Value, Size, &Resource), STATUS_SUCCESS);
        CHECK_STATUS(WdkmPushLockCreate(Value, Size, &PushLock), STATUS_SUCCESS);
        Locks[Count++] = KMutex;
        Locks[Count++] = FastMutex;
        Locks[Count++] = SpinLock;
        Locks[Count++] = Queued;
        Locks[Count++] = Guarded;
        Locks[Count++] = Resource;
        Locks[Count++] = PushLock;
    }
    for (Index = 0; Index < Count; Index += 1) {
        CHECK(Locks[Index] != NULL && ((ULONG_PTR)Locks[Index] & 63) == 0);
    }
    for (Index = 0; Index < Count; Index += 7) {
        CHECK_STATUS(WdkmKMutexDestroy((PWDKM_KMUTEX)Locks[Index]), STATUS_SUCCESS);
        CHECK_STATUS(WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)Locks[Index + 1]), STATUS_SUCCESS);
        CHECK_STATUS(WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Locks[Index + 2]), STATUS_SUCCESS);
        CHECK_STATUS(WdkmQueuedSpinLockDestroy((PWDKM_QUEUED_SPIN_LOCK)Locks[Index + 3]),
                     STATUS_SUCCESS);
        CHECK_STATUS(WdkmGuardedMutexDestroy((PWDKM_GUARDED_MUTEX)Locks[Index + 4]), STATUS_SUCCESS);
        CHECK_STATUS(WdkmResourceDestroy((PWDKM_RESOURCE)Locks[Index + 5]), STATUS_SUCCESS);
        CHECK_STATUS(WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Locks[Index + 6]), STATUS_SUCCESS);
    }
    WdkmQueryPoolStatistics(&After);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks);
    CHECK_EQ(After.OutstandingBytes, Before.OutstandingBytes);
}

static const WDKM_TEST_CASE PoolCases[] = {
    { "prefers_ex_allocate_pool2", PrefersExAllocatePool2 },
    { "falls_back_to_allocate_pool_with_tag", FallsBackToAllocatePoolWithTag },
    { "allocates_at_dispatch_before_lookup", AllocatesAtDispatchBeforeLookup },
    { "accounting_follows_locks", AccountingFollowsLocks },
    { "lock_blocks_start_a_cache_line", LockBlocksStartACacheLine },
};

const WDKM_TEST_SUITE WdkmPoolSuite = WDKM_TEST_SUITE_OF("pool", PoolCases);
