/*
 * wdkm_bench_peers.c - what a driver author would write instead of the
 * registry, measured beside it (bench/README.md, "Registry peers").
 *
 * Two name -> lock tables built only from the kernel's own primitives, with
 * the lookup a driver would make: find the entry by name and take a
 * reference on it so that it cannot go away while used, then drop the
 * reference (the registry's WdkmGrtReference + WdkmGrtDereference).
 *
 *   hash_spinlock:    a chained hash table (one bucket per name, FNV-1a)
 *                     under one KSPIN_LOCK; entries allocated one by one.
 *   sorted_eresource: a sorted array of entries searched by bisection under
 *                     one ERESOURCE taken shared: the thread-safe stand-in
 *                     for the Rust crate's BTreeMap.
 *
 * Each entry holds a FAST_MUTEX and the value it protects, as a registry
 * entry does, so both sides read entries of the same size. Written for
 * this benchmark; kernel C (no C runtime).
 */
#include "wdkm_bench.h"

typedef struct _WDKM_BENCH_PEER_ENTRY {
    struct _WDKM_BENCH_PEER_ENTRY *Next;    /* hash chain */
    ULONG Hash;
    LONG volatile References;
    CHAR Name[WDKM_BENCH_NAME_SLOT];
    FAST_MUTEX Lock;                        /* what the name stands for */
    WDKM_BENCH_VALUE Value;
} WDKM_BENCH_PEER_ENTRY, *PWDKM_BENCH_PEER_ENTRY;

struct _WDKM_BENCH_PEERS {
    /* hash_spinlock */
    KSPIN_LOCK HashLock;
    PWDKM_BENCH_PEER_ENTRY *Buckets;
    ULONG BucketMask;
    /* sorted_eresource */
    ERESOURCE *Resource;                    /* non-paged, initialised when set */
    PWDKM_BENCH_PEER_ENTRY Sorted;          /* Count entries, ascending names */
    ULONG Count;
};

const PCSTR WdkmBenchPeerNames[WDKM_BENCH_PEERS_COUNT] = { "hash_spinlock", "sorted_eresource" };

static
PVOID
WdkmBenchPeerAllocate(
    _In_ SIZE_T Bytes
    )
{
    PVOID Block = ExAllocatePoolWithTag(NonPagedPool, Bytes, WDKM_BENCH_POOL_TAG);

    if (Block != NULL) {
        RtlZeroMemory(Block, Bytes);
    }
    return Block;
}

/* FNV-1a over the NUL-terminated name. */
WDKM_BENCH_INLINE
ULONG
WdkmBenchPeerHash(
    _In_z_ PCSTR Name
    )
{
    ULONG Hash = 2166136261U;

    while (*Name != '\0') {
        Hash = (Hash ^ (UCHAR)*Name) * 16777619U;
        Name += 1;
    }
    return Hash;
}

/* <0, 0, >0 as strcmp. */
WDKM_BENCH_INLINE
LONG
WdkmBenchPeerCompare(
    _In_z_ PCSTR Left,
    _In_z_ PCSTR Right
    )
{
    while (*Left != '\0' && *Left == *Right) {
        Left += 1;
        Right += 1;
    }
    return (LONG)(UCHAR)*Left - (LONG)(UCHAR)*Right;
}

WDKM_BENCH_INLINE
VOID
WdkmBenchPeerCopyName(
    _Out_writes_bytes_(WDKM_BENCH_NAME_SLOT) PCHAR Target,
    _In_reads_bytes_(WDKM_BENCH_NAME_SLOT) PCSTR Source
    )
{
    RtlCopyMemory(Target, Source, WDKM_BENCH_NAME_SLOT);
    Target[WDKM_BENCH_NAME_SLOT - 1] = '\0';
}

VOID
WdkmBenchPeersDestroy(
    _In_ PWDKM_BENCH_PEERS Peers
    )
{
    ULONG Bucket;

    if (Peers->Buckets != NULL) {
        for (Bucket = 0; Bucket <= Peers->BucketMask; Bucket += 1) {
            PWDKM_BENCH_PEER_ENTRY Entry = Peers->Buckets[Bucket];

            while (Entry != NULL) {
                PWDKM_BENCH_PEER_ENTRY Next = Entry->Next;

                ExFreePoolWithTag(Entry, WDKM_BENCH_POOL_TAG);
                Entry = Next;
            }
        }
        ExFreePoolWithTag(Peers->Buckets, WDKM_BENCH_POOL_TAG);
    }
    if (Peers->Resource != NULL) {
        (VOID)ExDeleteResourceLite(Peers->Resource);
        ExFreePoolWithTag(Peers->Resource, WDKM_BENCH_POOL_TAG);
    }
    if (Peers->Sorted != NULL) {
        ExFreePoolWithTag(Peers->Sorted, WDKM_BENCH_POOL_TAG);
    }
    ExFreePoolWithTag(Peers, WDKM_BENCH_POOL_TAG);
}

NTSTATUS
WdkmBenchPeersCreate(
    _In_reads_bytes_((SIZE_T)Count * WDKM_BENCH_NAME_SLOT) PCSTR Names,
    _In_ ULONG Count,
    _Outptr_ PWDKM_BENCH_PEERS *Result
    )
{
    PWDKM_BENCH_PEERS Peers;
    ULONG Buckets = 1;
    ULONG Index;
    NTSTATUS Status;

    *Result = NULL;
    if (Count == 0) {
        return STATUS_INVALID_PARAMETER;
    }
    Peers = (PWDKM_BENCH_PEERS)WdkmBenchPeerAllocate(sizeof(*Peers));
    if (Peers == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Peers->Count = Count;

    /* The hash table: a bucket per name at least. */
    while (Buckets < Count) {
        Buckets *= 2;
    }
    KeInitializeSpinLock(&Peers->HashLock);
    Peers->BucketMask = Buckets - 1;
    Peers->Buckets = (PWDKM_BENCH_PEER_ENTRY *)WdkmBenchPeerAllocate(
        (SIZE_T)Buckets * sizeof(PWDKM_BENCH_PEER_ENTRY));
    Status = Peers->Buckets != NULL ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
    for (Index = 0; Index < Count && NT_SUCCESS(Status); Index += 1) {
        PWDKM_BENCH_PEER_ENTRY Entry =
            (PWDKM_BENCH_PEER_ENTRY)WdkmBenchPeerAllocate(sizeof(WDKM_BENCH_PEER_ENTRY));
        ULONG Bucket;

        if (Entry == NULL) {
            Status = STATUS_INSUFFICIENT_RESOURCES;
            break;
        }
        WdkmBenchPeerCopyName(Entry->Name, Names + (SIZE_T)Index * WDKM_BENCH_NAME_SLOT);
        ExInitializeFastMutex(&Entry->Lock);
        Entry->Hash = WdkmBenchPeerHash(Entry->Name);
        Bucket = Entry->Hash & Peers->BucketMask;
        Entry->Next = Peers->Buckets[Bucket];
        Peers->Buckets[Bucket] = Entry;
    }

    /* The sorted array: the names come in ascending order (checked). */
    if (NT_SUCCESS(Status)) {
        Peers->Sorted = (PWDKM_BENCH_PEER_ENTRY)WdkmBenchPeerAllocate(
            (SIZE_T)Count * sizeof(WDKM_BENCH_PEER_ENTRY));
        Status = Peers->Sorted != NULL ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
    }
    for (Index = 0; Index < Count && NT_SUCCESS(Status); Index += 1) {
        WdkmBenchPeerCopyName(Peers->Sorted[Index].Name,
                              Names + (SIZE_T)Index * WDKM_BENCH_NAME_SLOT);
        ExInitializeFastMutex(&Peers->Sorted[Index].Lock);
        if (Index > 0 &&
            WdkmBenchPeerCompare(Peers->Sorted[Index - 1].Name, Peers->Sorted[Index].Name) >= 0) {
            Status = STATUS_INVALID_PARAMETER;
        }
    }
    if (NT_SUCCESS(Status)) {
        ERESOURCE *Resource = (ERESOURCE *)WdkmBenchPeerAllocate(sizeof(ERESOURCE));

        Status = Resource != NULL ? ExInitializeResourceLite(Resource)
                                  : STATUS_INSUFFICIENT_RESOURCES;
        if (NT_SUCCESS(Status)) {
            Peers->Resource = Resource;
        } else if (Resource != NULL) {
            ExFreePoolWithTag(Resource, WDKM_BENCH_POOL_TAG);
        }
    }
    if (!NT_SUCCESS(Status)) {
        WdkmBenchPeersDestroy(Peers);
        return Status;
    }
    *Result = Peers;
    return STATUS_SUCCESS;
}

/* hash_spinlock: find under the spin lock, reference, release; dereference. */
WDKM_BENCH_INLINE
NTSTATUS
WdkmBenchPeerHashLookup(
    _In_ PWDKM_BENCH_PEERS Peers,
    _In_z_ PCSTR Name
    )
{
    ULONG Hash = WdkmBenchPeerHash(Name);
    PWDKM_BENCH_PEER_ENTRY Entry;
    KIRQL OldIrql;

    KeAcquireSpinLock(&Peers->HashLock, &OldIrql);
    Entry = Peers->Buckets[Hash & Peers->BucketMask];
    while (Entry != NULL && (Entry->Hash != Hash || WdkmBenchPeerCompare(Entry->Name, Name) != 0)) {
        Entry = Entry->Next;
    }
    if (Entry != NULL) {
        InterlockedIncrement(&Entry->References);
    }
    KeReleaseSpinLock(&Peers->HashLock, OldIrql);
    if (Entry == NULL) {
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    /* ... the caller uses Entry->Lock ... */
    InterlockedDecrement(&Entry->References);
    return STATUS_SUCCESS;
}

/* sorted_eresource: bisect under the resource, shared; the same reference. */
WDKM_BENCH_INLINE
NTSTATUS
WdkmBenchPeerSortedLookup(
    _In_ PWDKM_BENCH_PEERS Peers,
    _In_z_ PCSTR Name
    )
{
    PWDKM_BENCH_PEER_ENTRY Entry = NULL;
    ULONG Low = 0;
    ULONG High = Peers->Count;

    KeEnterCriticalRegion();
    (VOID)ExAcquireResourceSharedLite(Peers->Resource, TRUE);
    while (Low < High) {
        ULONG Middle = Low + (High - Low) / 2;
        LONG Order = WdkmBenchPeerCompare(Peers->Sorted[Middle].Name, Name);

        if (Order == 0) {
            Entry = &Peers->Sorted[Middle];
            InterlockedIncrement(&Entry->References);
            break;
        }
        if (Order < 0) {
            Low = Middle + 1;
        } else {
            High = Middle;
        }
    }
    ExReleaseResourceLite(Peers->Resource);
    KeLeaveCriticalRegion();
    if (Entry == NULL) {
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    InterlockedDecrement(&Entry->References);
    return STATUS_SUCCESS;
}

/* Count lookups of the names of Names in turn from *Next, one peer's way. */
WDKM_BENCH_INLINE
NTSTATUS
WdkmBenchPeerLoop(
    _In_ PWDKM_BENCH_PEERS Peers,
    _In_ ULONG Peer,
    _In_reads_bytes_((SIZE_T)Length * WDKM_BENCH_NAME_SLOT) PCSTR Names,
    _In_ ULONG Length,
    _Inout_ ULONG *Next,
    _In_ ULONG64 Count
    )
{
    ULONG At = *Next % Length;
    ULONG64 Index;
    NTSTATUS Status;

    for (Index = 0; Index < Count; Index += 1) {
        PCSTR Name = Names + (SIZE_T)At * WDKM_BENCH_NAME_SLOT;

        Status = Peer == WDKM_BENCH_PEER_HASH_SPINLOCK ? WdkmBenchPeerHashLookup(Peers, Name)
                                                       : WdkmBenchPeerSortedLookup(Peers, Name);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
        At += 1;
        if (At == Length) {
            At = 0;
        }
    }
    *Next = At;
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmBenchPeerLookups(
    _In_ PWDKM_BENCH_PEERS Peers,
    _In_ ULONG Peer,
    _In_reads_bytes_((SIZE_T)Length * WDKM_BENCH_NAME_SLOT) PCSTR Names,
    _In_ ULONG Length,
    _Inout_ ULONG *Next,
    _In_ ULONG64 Count
    )
{
    /* One loop per peer (Peer a constant in each), as the registry's loop
       has no choice to make per lookup either. */
    if (Peer == WDKM_BENCH_PEER_HASH_SPINLOCK) {
        return WdkmBenchPeerLoop(Peers, WDKM_BENCH_PEER_HASH_SPINLOCK, Names, Length, Next, Count);
    }
    if (Peer == WDKM_BENCH_PEER_SORTED_ERESOURCE) {
        return WdkmBenchPeerLoop(Peers, WDKM_BENCH_PEER_SORTED_ERESOURCE, Names, Length, Next,
                                 Count);
    }
    return STATUS_INVALID_PARAMETER;
}
