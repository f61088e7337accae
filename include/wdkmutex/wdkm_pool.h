/*
 * wdkm_pool.h - what the library knows about its own pool use.
 *
 * Every block the library allocates is non-paged and tagged WDKM_POOL_TAG.
 * It prefers ExAllocatePool2 (Windows 10 2004 and later), looked up at run
 * time so that the driver still loads on kernels without it, and otherwise
 * falls back to ExAllocatePoolWithTag(NonPagedPoolNx) followed by zeroing.
 * The lookup happens at the first library call made at PASSIVE_LEVEL;
 * allocations made before that, at DISPATCH_LEVEL, use the fallback.
 */
#ifndef WDKM_POOL_H
#define WDKM_POOL_H

#include "wdkm_base.h"

WDKM_EXTERN_C_BEGIN

typedef enum _WDKM_POOL_ALLOCATOR {
    WdkmPoolAllocatorNotResolved = 0,  /* no PASSIVE_LEVEL call yet */
    WdkmPoolAllocatorPool2,            /* ExAllocatePool2 */
    WdkmPoolAllocatorWithTag           /* ExAllocatePoolWithTag + zeroing */
} WDKM_POOL_ALLOCATOR;

typedef struct _WDKM_POOL_STATISTICS {
    WDKM_POOL_ALLOCATOR Allocator;
    LONG OutstandingBlocks;       /* allocated and not yet freed */
    LONG64 OutstandingBytes;
    LONG64 TotalAllocations;      /* successful allocations since load */
    LONG64 FailedAllocations;
} WDKM_POOL_STATISTICS, *PWDKM_POOL_STATISTICS;

/*
 * WdkmQueryPoolStatistics - the library's own pool accounting.
 *
 * IRQL: any (<= HIGH_LEVEL). Fills *Statistics; the figures are read
 * without a lock, each one exact, not all at one instant. Outstanding
 * blocks at unload are leaks of the driver (locks never destroyed).
 */
_IRQL_requires_max_(HIGH_LEVEL)
VOID
WdkmQueryPoolStatistics(
    _Out_ PWDKM_POOL_STATISTICS Statistics
    );

WDKM_EXTERN_C_END

#endif /* WDKM_POOL_H */
