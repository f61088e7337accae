/*
 * wdkm_pool.c - the library's pool blocks, counted so that a driver can
 * prove at unload that it leaked none.
 */
#include "wdkm_internal.h"

static struct {
    LONG volatile OutstandingBlocks;
    LONG64 volatile OutstandingBytes;
    LONG64 volatile TotalAllocations;
    LONG64 volatile FailedAllocations;
} WdkmpPoolCounters;

PVOID
WdkmpAllocateBlock(
    _In_ SIZE_T Bytes
    )
{
    PVOID Block = WdkmpPoolAllocate(Bytes, WDKM_POOL_TAG);

    if (Block == NULL) {
        InterlockedIncrement64(&WdkmpPoolCounters.FailedAllocations);
        return NULL;
    }
    InterlockedIncrement(&WdkmpPoolCounters.OutstandingBlocks);
    InterlockedExchangeAdd64(&WdkmpPoolCounters.OutstandingBytes, (LONG64)Bytes);
    InterlockedIncrement64(&WdkmpPoolCounters.TotalAllocations);
    return Block;
}

VOID
WdkmpFreeBlock(
    _In_ PVOID Block,
    _In_ SIZE_T Bytes
    )
{
    WdkmpPoolFree(Block, WDKM_POOL_TAG);
    InterlockedDecrement(&WdkmpPoolCounters.OutstandingBlocks);
    InterlockedExchangeAdd64(&WdkmpPoolCounters.OutstandingBytes, -(LONG64)Bytes);
}

VOID
WdkmQueryPoolStatistics(
    _Out_ PWDKM_POOL_STATISTICS Statistics
    )
{
    static const WDKM_POOL_ALLOCATOR Allocators[] = {
        WdkmPoolAllocatorNotResolved,       /* WDKMP_POOL_UNRESOLVED */
        WdkmPoolAllocatorPool2,             /* WDKMP_POOL_POOL2 */
        WdkmPoolAllocatorWithTag            /* WDKMP_POOL_WITH_TAG */
    };

    if (Statistics == NULL) {
        return;
    }
    Statistics->Allocator = Allocators[WdkmpPoolAllocator()];
    /* Adding zero is an atomic read of each counter. */
    Statistics->OutstandingBlocks = InterlockedExchangeAdd(&WdkmpPoolCounters.OutstandingBlocks, 0);
    Statistics->OutstandingBytes = InterlockedExchangeAdd64(&WdkmpPoolCounters.OutstandingBytes, 0);
    Statistics->TotalAllocations = InterlockedExchangeAdd64(&WdkmpPoolCounters.TotalAllocations, 0);
    Statistics->FailedAllocations = InterlockedExchangeAdd64(&WdkmpPoolCounters.FailedAllocations, 0);
}
