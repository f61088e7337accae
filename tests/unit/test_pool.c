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

static const WDKM_TEST_CASE PoolCases[] = {
    { "prefers_ex_allocate_pool2", PrefersExAllocatePool2 },
    { "falls_back_to_allocate_pool_with_tag", FallsBackToAllocatePoolWithTag },
    { "allocates_at_dispatch_before_lookup", AllocatesAtDispatchBeforeLookup },
    { "accounting_follows_locks", AccountingFollowsLocks },
};

const WDKM_TEST_SUITE WdkmPoolSuite = WDKM_TEST_SUITE_OF("pool", PoolCases);
