/*
 * pool.c - tagged pool: IRQL rules, tag checks, accounting, fault injection.
 *
 * Each block is malloc'd with a header in front (magic, tag, size, type).
 * Live blocks are also kept in a hash set, so a free of anything else
 * (double free, stray pointer) is diagnosed without reading its memory;
 * the set doubles its buckets as blocks outnumber them, so that a free
 * costs the same at ten blocks and at millions;
 * freed blocks are poisoned and given back to malloc, so AddressSanitizer
 * still reports later uses.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include "hostp.h"

#define HOSTP_POOL_MAGIC_LIVE  0x6C6F6F50U   /* "Pool" */
#define HOSTP_POOL_MAGIC_FREE  0x65657246U   /* "Free" */
#define HOSTP_POOL_FILL_FRESH  0xCD          /* uninitialised pool */
#define HOSTP_POOL_FILL_FREED  0xDD

#define HOSTP_POOL_MIN_BUCKETS 4096         /* live-block hash set: its first size */
#define HOSTP_POOL_TAGS    1024             /* accounting: distinct tags */
#define HOSTP_POOL_RECENT  4096             /* remembered frees */

/* BAD_POOL_CALLER sub-codes (P1), as documented. */
#define HOSTP_BAD_POOL_ZERO_BYTES     0x00
#define HOSTP_BAD_POOL_ALREADY_FREED  0x07
#define HOSTP_BAD_POOL_ALLOCATE_IRQL  0x08
#define HOSTP_BAD_POOL_FREE_IRQL      0x09
#define HOSTP_BAD_POOL_WRONG_TAG      0x0A
#define HOSTP_BAD_POOL_NOT_POOL       0x42

typedef struct _HOSTP_POOL_HEADER {
    struct _HOSTP_POOL_HEADER *HashNext;
    SIZE_T Size;
    ULONG Magic;
    ULONG Tag;
    ULONG PoolType;
    ULONG Reserved;
} HOSTP_POOL_HEADER, *PHOSTP_POOL_HEADER;

/* Blocks keep the 16-byte alignment malloc gives on 64-bit hosts. */
_Static_assert(sizeof(HOSTP_POOL_HEADER) % (2 * sizeof(PVOID)) == 0, "header size");

typedef struct _HOSTP_POOL_TAG {
    ULONG Tag;
    ULONG Outstanding;
    SIZE_T Bytes;
    ULONG64 Allocations;
} HOSTP_POOL_TAG;

static pthread_mutex_t HostpPoolLock = PTHREAD_MUTEX_INITIALIZER;
static PHOSTP_POOL_HEADER *HostpLiveBlocks;         /* HostpBucketCount heads */
static SIZE_T HostpBucketCount;                      /* a power of two, or 0 */
static SIZE_T HostpLiveCount;
static HOSTP_POOL_TAG HostpTags[HOSTP_POOL_TAGS];  /* Tag 0 never used as a key */
static HOSTP_POOL_TAG HostpOtherTags;               /* when the table is full */
static HOSTP_POOL_TAG HostpZeroTag;                 /* ExAllocatePoolWithTag(.., 0) */
static PVOID HostpRecentFrees[HOSTP_POOL_RECENT];
static ULONG HostpRecentNext;
static PHOSTP_POOL_HEADER HostpDeferredFrees;      /* freed by injected events, linked by HashNext */
static ULONG64 HostpAttempts;
static LONG HostpFailCountdown = -1;
static ULONG HostpInjectedFailures;

/* Pool lock held. Fibonacci hashing of the block's 16-byte granule. */
static SIZE_T HostpBucket(const VOID *Block)
{
    ULONG64 Value = (ULONG64)((ULONG_PTR)Block >> 4) * 0x9E3779B97F4A7C15ULL;
    return (SIZE_T)(Value >> 32) & (HostpBucketCount - 1);
}

/* Pool lock held. Room for one more live block: at most one per bucket on
   average, the buckets doubled (every block rehashed) when there would be
   more; amortised, a constant per allocation. Out of memory, the set keeps
   its size and only gets slower. */
static VOID HostpReserveLive(VOID)
{
    PHOSTP_POOL_HEADER *Old = HostpLiveBlocks;
    SIZE_T OldCount = HostpBucketCount;
    SIZE_T NewCount;
    PHOSTP_POOL_HEADER *New;

    if (HostpLiveCount < OldCount) {
        return;
    }
    NewCount = OldCount == 0 ? HOSTP_POOL_MIN_BUCKETS : OldCount * 2;
    New = (PHOSTP_POOL_HEADER *)calloc(NewCount, sizeof(*New));
    if (New == NULL) {
        if (OldCount != 0) {
            return;
        }
        fputs("wdkm host: out of memory for the pool's block set\n", stderr);
        abort();
    }
    HostpLiveBlocks = New;
    HostpBucketCount = NewCount;
    for (SIZE_T Index = 0; Index < OldCount; Index++) {
        PHOSTP_POOL_HEADER Header = Old[Index];
        while (Header != NULL) {
            PHOSTP_POOL_HEADER Next = Header->HashNext;
            SIZE_T Bucket = HostpBucket(Header + 1);
            Header->HashNext = New[Bucket];
            New[Bucket] = Header;
            Header = Next;
        }
    }
    free(Old);
}

/* Pool lock held. The accounting slot of Tag (created if needed). */
static HOSTP_POOL_TAG *HostpTagEntry(ULONG Tag)
{
    ULONG Index = (Tag * 2654435761U) % HOSTP_POOL_TAGS;

    if (Tag == 0) {
        return &HostpZeroTag;
    }
    for (ULONG Probe = 0; Probe < HOSTP_POOL_TAGS; Probe++) {
        HOSTP_POOL_TAG *Entry = &HostpTags[(Index + Probe) % HOSTP_POOL_TAGS];
        if (Entry->Tag == Tag) {
            return Entry;
        }
        if (Entry->Tag == 0) {
            Entry->Tag = Tag;
            return Entry;
        }
    }
    return &HostpOtherTags;
}

/* Pool lock held. The header of live block P, or NULL. */
static PHOSTP_POOL_HEADER *HostpFindLive(const VOID *P)
{
    PHOSTP_POOL_HEADER *Link;

    if (HostpBucketCount == 0) {
        return NULL;
    }
    Link = &HostpLiveBlocks[HostpBucket(P)];

    while (*Link != NULL && (const VOID *)(*Link + 1) != P) {
        Link = &(*Link)->HashNext;
    }
    return *Link != NULL ? Link : NULL;
}

static BOOLEAN HostpRecentlyFreed(const VOID *P)
{
    for (ULONG Index = 0; Index < HOSTP_POOL_RECENT; Index++) {
        if (HostpRecentFrees[Index] == P) {
            return TRUE;
        }
    }
    return FALSE;
}

/* Pool lock held. Counts an attempt; TRUE if it is the one to fail. */
static BOOLEAN HostpInjectFailure(VOID)
{
    BOOLEAN Fail = (BOOLEAN)(HostpFailCountdown == 0);

    HostpAttempts++;
    if (HostpFailCountdown >= 0) {
        HostpFailCountdown--;
    }
    if (Fail) {
        HostpInjectedFailures++;
    }
    return Fail;
}

/* An injected event may have interrupted malloc itself: its frees are
   accounted at once and handed to free() by the thread's next pool call
   outside an event (or any other thread's). */
static VOID HostpReleaseDeferredFrees(VOID)
{
    PHOSTP_POOL_HEADER Header;

    if (WdkmHostpInEvent() || __atomic_load_n(&HostpDeferredFrees, __ATOMIC_RELAXED) == NULL) {
        return;
    }
    WdkmHostpLock(&HostpPoolLock);
    Header = __atomic_exchange_n(&HostpDeferredFrees, NULL, __ATOMIC_RELAXED);
    WdkmHostpUnlock(&HostpPoolLock);
    while (Header != NULL) {
        PHOSTP_POOL_HEADER Next = Header->HashNext;
        free(Header);
        Header = Next;
    }
}

static PVOID HostpAllocate(ULONG PoolType, SIZE_T NumberOfBytes, ULONG Tag, BOOLEAN Zero,
                           BOOLEAN RaiseOnFailure)
{
    KIRQL Irql = WdkmHostpCurrent.Irql;
    BOOLEAN Paged = (BOOLEAN)((PoolType & PagedPool) != 0);
    PHOSTP_POOL_HEADER Header = NULL;
    HOSTP_POOL_TAG *Entry;
    BOOLEAN Fail;

    if (Irql > DISPATCH_LEVEL || (Paged && Irql > APC_LEVEL)) {
        KeBugCheckEx(BAD_POOL_CALLER, HOSTP_BAD_POOL_ALLOCATE_IRQL, Irql, PoolType, NumberOfBytes);
    }
    if (NumberOfBytes == 0) {
        KeBugCheckEx(BAD_POOL_CALLER, HOSTP_BAD_POOL_ZERO_BYTES, 0, PoolType, Tag);
    }
    HostpReleaseDeferredFrees();

    WdkmHostpLock(&HostpPoolLock);
    Fail = HostpInjectFailure();
    WdkmHostpUnlock(&HostpPoolLock);
    if (!Fail && NumberOfBytes <= (SIZE_T)-1 - sizeof(HOSTP_POOL_HEADER)) {
        Header = (PHOSTP_POOL_HEADER)malloc(sizeof(HOSTP_POOL_HEADER) + NumberOfBytes);
    }
    if (Header == NULL) {
        if (RaiseOnFailure) {
            /* NT raises STATUS_INSUFFICIENT_RESOURCES; nothing here catches it. */
            KeBugCheckEx(KMODE_EXCEPTION_NOT_HANDLED,
                         (ULONG_PTR)STATUS_INSUFFICIENT_RESOURCES, 0, PoolType, NumberOfBytes);
        }
        return NULL;
    }
    Header->Size = NumberOfBytes;
    Header->Magic = HOSTP_POOL_MAGIC_LIVE;
    Header->Tag = Tag;
    Header->PoolType = PoolType;
    Header->Reserved = 0;
    memset(Header + 1, Zero ? 0 : HOSTP_POOL_FILL_FRESH, NumberOfBytes);

    WdkmHostpLock(&HostpPoolLock);
    HostpReserveLive();
    Header->HashNext = HostpLiveBlocks[HostpBucket(Header + 1)];
    HostpLiveBlocks[HostpBucket(Header + 1)] = Header;
    HostpLiveCount++;
    Entry = HostpTagEntry(Tag);
    Entry->Outstanding++;
    Entry->Bytes += NumberOfBytes;
    Entry->Allocations++;
    WdkmHostpUnlock(&HostpPoolLock);
    return Header + 1;
}

/* Pool lock held (dropped before a bug check). The kernel objects that
   must be torn down before their memory goes: a live ERESOURCE (Driver
   Verifier checks it), a set timer or a queued DPC (NT checks them). */
static VOID HostpCheckNoLiveObjects(PVOID P, SIZE_T Size)
{
    PVOID Resource;
    PVOID Object = NULL;
    ULONG Kind = 0;

    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Resource = WdkmHostpFindResourceInRange(P, Size);
    if (Resource == NULL) {
        Object = WdkmHostpFindTimerOrDpcInRange(P, Size, &Kind);
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    if (Resource != NULL) {
        WdkmHostpUnlock(&HostpPoolLock);
        KeBugCheckEx(DRIVER_VERIFIER_DETECTED_VIOLATION,
                     WDKM_HOST_VIOLATION_RESOURCE_IN_FREED_POOL, (ULONG_PTR)Resource,
                     (ULONG_PTR)P, Size);
    }
    if (Object != NULL) {
        WdkmHostpUnlock(&HostpPoolLock);
        KeBugCheckEx(TIMER_OR_DPC_INVALID, Kind, (ULONG_PTR)Object, (ULONG_PTR)P,
                     (ULONG_PTR)P + Size);
    }
}

static VOID HostpFree(PVOID P, ULONG Tag, BOOLEAN CheckTag)
{
    KIRQL Irql = WdkmHostpCurrent.Irql;
    PHOSTP_POOL_HEADER *Link;
    PHOSTP_POOL_HEADER Header;
    HOSTP_POOL_TAG *Entry;
    BOOLEAN Freed;

    /* Every check is made under the lock but raised after dropping it. */
    WdkmHostpLock(&HostpPoolLock);
    Link = HostpFindLive(P);
    if (Link == NULL) {
        Freed = HostpRecentlyFreed(P);
        WdkmHostpUnlock(&HostpPoolLock);
        if (Freed) {
            KeBugCheckEx(BAD_POOL_CALLER, HOSTP_BAD_POOL_ALREADY_FREED, 0, HOSTP_POOL_MAGIC_FREE,
                         (ULONG_PTR)P);
        }
        KeBugCheckEx(BAD_POOL_CALLER, HOSTP_BAD_POOL_NOT_POOL, (ULONG_PTR)P, 0, 0);
    }
    Header = *Link;
    if (Irql > DISPATCH_LEVEL || ((Header->PoolType & PagedPool) != 0 && Irql > APC_LEVEL)) {
        ULONG PoolType = Header->PoolType;
        WdkmHostpUnlock(&HostpPoolLock);
        KeBugCheckEx(BAD_POOL_CALLER, HOSTP_BAD_POOL_FREE_IRQL, Irql, PoolType, (ULONG_PTR)P);
    }
    if (CheckTag && Header->Tag != Tag) {
        ULONG Allocator = Header->Tag;
        WdkmHostpUnlock(&HostpPoolLock);
        KeBugCheckEx(BAD_POOL_CALLER, HOSTP_BAD_POOL_WRONG_TAG, (ULONG_PTR)P, Allocator, Tag);
    }
    HostpCheckNoLiveObjects(P, Header->Size);
    *Link = Header->HashNext;
    HostpLiveCount--;
    Entry = HostpTagEntry(Header->Tag);
    Entry->Outstanding--;
    Entry->Bytes -= Header->Size;
    HostpRecentFrees[HostpRecentNext] = P;
    HostpRecentNext = (HostpRecentNext + 1) % HOSTP_POOL_RECENT;
    WdkmHostpUnlock(&HostpPoolLock);

    Header->Magic = HOSTP_POOL_MAGIC_FREE;
    memset(Header + 1, HOSTP_POOL_FILL_FREED, Header->Size);
    if (WdkmHostpInEvent()) {
        WdkmHostpLock(&HostpPoolLock);
        Header->HashNext = HostpDeferredFrees;
        __atomic_store_n(&HostpDeferredFrees, Header, __ATOMIC_RELAXED);
        WdkmHostpUnlock(&HostpPoolLock);
        return;
    }
    free(Header);
    HostpReleaseDeferredFrees();
}

PVOID NTAPI ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return HostpAllocate((ULONG)PoolType, NumberOfBytes, Tag, FALSE, FALSE);
}

PVOID NTAPI ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    const POOL_FLAGS Known = POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED | POOL_FLAG_SESSION |
                             POOL_FLAG_CACHE_ALIGNED | POOL_FLAG_RAISE_ON_FAILURE |
                             POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED;
    POOL_FLAGS Kind = Flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED);
    BOOLEAN Raise = (BOOLEAN)((Flags & POOL_FLAG_RAISE_ON_FAILURE) != 0);
    ULONG PoolType;

    /* Documented: Tag 0 or invalid flags fail (or raise). Exactly one kind. */
    if (Tag == 0 || (Flags & ~Known) != 0 || (Kind & (Kind - 1)) != 0 || Kind == 0) {
        if (Raise) {
            KeBugCheckEx(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)STATUS_INVALID_PARAMETER, 0,
                         (ULONG_PTR)Flags, Tag);
        }
        return NULL;
    }
    PoolType = Kind == POOL_FLAG_PAGED               ? (ULONG)PagedPool
               : Kind == POOL_FLAG_NON_PAGED_EXECUTE ? (ULONG)NonPagedPoolExecute
                                                     : (ULONG)NonPagedPoolNx;
    return HostpAllocate(PoolType, NumberOfBytes, Tag,
                         (BOOLEAN)((Flags & POOL_FLAG_UNINITIALIZED) == 0), Raise);
}

VOID NTAPI ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    HostpFree(P, Tag, TRUE);
}

VOID NTAPI ExFreePool(PVOID P)
{
    HostpFree(P, 0, FALSE);
}

ULONG WdkmHostPoolOutstanding(ULONG Tag, SIZE_T *Bytes)
{
    ULONG Count = 0;
    SIZE_T Total = 0;

    WdkmHostpLock(&HostpPoolLock);
    for (ULONG Index = 0; Index < HOSTP_POOL_TAGS; Index++) {
        if (HostpTags[Index].Tag != 0 && (Tag == 0 || HostpTags[Index].Tag == Tag)) {
            Count += HostpTags[Index].Outstanding;
            Total += HostpTags[Index].Bytes;
        }
    }
    if (Tag == 0) {
        Count += HostpOtherTags.Outstanding + HostpZeroTag.Outstanding;
        Total += HostpOtherTags.Bytes + HostpZeroTag.Bytes;
    }
    WdkmHostpUnlock(&HostpPoolLock);
    if (Bytes != NULL) {
        *Bytes = Total;
    }
    return Count;
}

ULONG64 WdkmHostPoolAllocations(VOID)
{
    ULONG64 Attempts;

    WdkmHostpLock(&HostpPoolLock);
    Attempts = HostpAttempts;
    WdkmHostpUnlock(&HostpPoolLock);
    return Attempts;
}

ULONG64 WdkmHostPoolTagAllocations(ULONG Tag)
{
    ULONG64 Allocations = 0;

    WdkmHostpLock(&HostpPoolLock);
    for (ULONG Index = 0; Index < HOSTP_POOL_TAGS; Index++) {
        if (HostpTags[Index].Tag != 0 && (Tag == 0 || HostpTags[Index].Tag == Tag)) {
            Allocations += HostpTags[Index].Allocations;
        }
    }
    if (Tag == 0) {
        Allocations += HostpOtherTags.Allocations + HostpZeroTag.Allocations;
    }
    WdkmHostpUnlock(&HostpPoolLock);
    return Allocations;
}

VOID WdkmHostPoolFailAt(LONG N)
{
    WdkmHostpLock(&HostpPoolLock);
    HostpFailCountdown = N < 0 ? -1 : N;
    WdkmHostpUnlock(&HostpPoolLock);
}

ULONG WdkmHostPoolInjectedFailures(VOID)
{
    ULONG Failures;

    WdkmHostpLock(&HostpPoolLock);
    Failures = HostpInjectedFailures;
    WdkmHostpUnlock(&HostpPoolLock);
    return Failures;
}
