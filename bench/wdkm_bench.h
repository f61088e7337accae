/*
 * wdkm_bench.h - the measuring core of the benchmarks, shared by the host
 * program (against port/host) and the benchmark driver (against the DDK).
 *
 * The core only measures: it times loops with KeQueryPerformanceCounter
 * and hands back raw samples (operations per repetition and the ticks of
 * every repetition). Medians, ratios and verdicts are computed by
 * bench/report.py from those, the same way for the host and for Wine.
 *
 * Kernel rules: no C runtime, no floating point, non-paged pool only.
 */
#ifndef WDKM_BENCH_H
#define WDKM_BENCH_H

#include <ntddk.h>

#include <wdkmutex/wdkmutex.h>

#include "wdkm_bench_sample.h"

/* The variant this file is compiled into, as the results name it. */
#if defined(WDKM_CHECKED) && WDKM_CHECKED
#define WDKM_BENCH_VARIANT "checked"
#else
#define WDKM_BENCH_VARIANT "release"
#endif

#define WDKM_BENCH_POOL_TAG 0x68636E42UL   /* 'Bnch' */

/*
 * Inline into every caller, file-local. Not FORCEINLINE: in both DDK
 * header sets for gcc that is extern gnu_inline, which may not call the
 * static functions and inline routines the loops call.
 */
#if defined(_MSC_VER)
#define WDKM_BENCH_INLINE static __forceinline
#else
#define WDKM_BENCH_INLINE static inline __attribute__((__always_inline__, __unused__))
#endif

/* A contended run whose protected counter is not exact: the lock did not
   exclude (a customer code: no standard one fits). */
#define WDKM_BENCH_STATUS_LOST_UPDATES ((NTSTATUS)0xE0D4B001L)

/*
 * The value every benchmark lock protects: the pairs made under it, and how
 * often it passed from one thread to the other. Under contention the
 * throughput is the hand-off rate times the pairs a thread makes between
 * hand-offs; the report shows both, because the second is the lock's
 * fairness at work, not the cost of a pair.
 */
typedef struct _WDKM_BENCH_VALUE {
    ULONG64 Count;
    ULONG64 Handoffs;
    ULONG Holder;                           /* the thread of the last pair */
    ULONG Reserved;
} WDKM_BENCH_VALUE;

/* One pair's work on the value, made by thread Thread while holding it. */
FORCEINLINE
VOID
WdkmBenchTouch(
    _Inout_ WDKM_BENCH_VALUE *Value,
    _In_ ULONG Thread
    )
{
    Value->Count += 1;
    if (Value->Holder != Thread) {
        Value->Holder = Thread;
        Value->Handoffs += 1;
    }
}

/*
 * What the floor loops keep (see WdkmBenchFloor* in wdkm_bench_kinds.c):
 * the state the checks the library promises need, beside the raw
 * primitive.
 *
 * The records a release checks are volatile. The benchmark's loop shows
 * the compiler the whole hold, a few stores to the value it can tell
 * apart from the records, so it would prove every record check true and
 * drop it: a check compiled out is no check. In a driver the hold runs
 * code the compiler cannot see through, and the library's records (read
 * beside a value reached through a pointer) are loaded and compared; the
 * floor's are too.
 */
#define WDKM_BENCH_FLOOR_SIGNATURE 0x726F6C46UL     /* 'Flor' */

typedef struct _WDKM_BENCH_FLOOR {
    ULONG Signature;                        /* the kind, checked by every acquire and release */
    UCHAR volatile Record;                  /* the kind's own record of the hold (nesting,
                                               depth or form), 0 for a plain hold */
    PVOID volatile Owner;                   /* the holder's thread, NULL when free;
                                               read by the waiter, as the library's is */
    SIZE_T DataSize;                        /* the protected value's size */
    KIRQL volatile HeldIrql;                /* the IRQL the acquisition left */
    PVOID volatile HeldBy;                  /* queued spin lock: the hold's handle */
} WDKM_BENCH_FLOOR;

/*
 * The raw kernel primitive a kind wraps, with its own counter, in
 * non-paged pool as a driver would keep it. Large enough for every kind.
 */
typedef struct _WDKM_BENCH_RAW {
    union {
        KMUTEX KMutex;
        FAST_MUTEX FastMutex;
        KSPIN_LOCK SpinLock;
        KGUARDED_MUTEX GuardedMutex;
        ERESOURCE Resource;
        ULONG_PTR PushLock;                 /* EX_PUSH_LOCK: one word */
    } Lock;
    WDKM_BENCH_VALUE Value;
    WDKM_BENCH_FLOOR Floor;
} WDKM_BENCH_RAW, *PWDKM_BENCH_RAW;

/* A library lock of one kind and the raw primitive to compare it with. */
typedef struct _WDKM_BENCH_LOCKS {
    PVOID Library;                          /* PWDKM_KMUTEX, PWDKM_FAST_MUTEX, ... */
    WDKM_BENCH_VALUE *LibraryValue;         /* its value, to check counts when idle */
    PWDKM_BENCH_RAW Raw;
} WDKM_BENCH_LOCKS, *PWDKM_BENCH_LOCKS;

/*
 * One lock kind (wdkm_bench_kinds.c). Pairs are uncontended or contended
 * acquire + release; each pair increments the protected counter once. The
 * loops live in the kind's functions so that neither side pays an
 * indirect call per pair.
 */
typedef struct _WDKM_BENCH_KIND {
    PCSTR Name;                             /* "kmutex": used in sample names */
    PCSTR RawCalls;                         /* the baseline, for the report */
    /* Sets up Locks->Raw (zeroed) and creates Locks->Library holding a zero
       WDKM_BENCH_VALUE. STATUS_NOT_SUPPORTED where the kernel lacks the kind. */
    NTSTATUS (*Create)(_Inout_ PWDKM_BENCH_LOCKS Locks);
    VOID (*Destroy)(_Inout_ PWDKM_BENCH_LOCKS Locks);
    /* Count pairs through the library by thread Thread (0 or 1); fails on
       the first acquire that does. *Seen receives the data pointer the
       acquires handed out. */
    NTSTATUS (*LibraryPairs)(_Inout_ PWDKM_BENCH_LOCKS Locks, _In_ ULONG Thread,
                             _In_ ULONG64 Count, _Out_ WDKM_BENCH_VALUE **Seen);
    /* Count pairs on the raw primitive with the kernel's own calls. */
    VOID (*RawPairs)(_Inout_ PWDKM_BENCH_LOCKS Locks, _In_ ULONG Thread, _In_ ULONG64 Count);
    /* The floor: the same raw loop with the checks every library pair
       makes written inline around the kernel calls, and nothing else (no
       call, no argument checks). What any checked wrapper must cost at
       least. Fails if a check does (it never should, uncontended). */
    NTSTATUS (*FloorPairs)(_Inout_ PWDKM_BENCH_LOCKS Locks, _In_ ULONG Thread, _In_ ULONG64 Count);
} WDKM_BENCH_KIND;

extern const WDKM_BENCH_KIND WdkmBenchKinds[];
extern const ULONG WdkmBenchKindCount;

/* Allocates the raw block and calls Kind->Create; frees it on failure. */
NTSTATUS
WdkmBenchLocksCreate(
    _In_ const WDKM_BENCH_KIND *Kind,
    _Out_ PWDKM_BENCH_LOCKS Locks
    );

VOID
WdkmBenchLocksDestroy(
    _In_ const WDKM_BENCH_KIND *Kind,
    _Inout_ PWDKM_BENCH_LOCKS Locks
    );

/*
 * The registry workload: a registry holding Names names, each a
 * WDKM_FAST_MUTEX with a WDKM_BENCH_VALUE, and per-thread lookup streams
 * (names copied in lookup order, so reading the next name is a sequential
 * read that costs the same whatever the table's size).
 */
typedef struct _WDKM_BENCH_REGISTRY WDKM_BENCH_REGISTRY, *PWDKM_BENCH_REGISTRY;

#define WDKM_BENCH_STREAM_UNIFORM 0         /* every name, shuffled, per thread */
#define WDKM_BENCH_STREAM_HOT     1         /* the same 10 names spread over the table */
#define WDKM_BENCH_STREAM_CONTROL 2         /* no lookups: private arithmetic only */
#define WDKM_BENCH_STREAM_CHASE   3         /* no lookups: one cache miss per operation */
#define WDKM_BENCH_STREAM_PEER_HASH   4     /* the uniform names, in hash_spinlock */
#define WDKM_BENCH_STREAM_PEER_SORTED 5     /* the uniform names, in sorted_eresource */
#define WDKM_BENCH_STREAMS        6

#define WDKM_BENCH_NAME_SLOT      16        /* bytes per name in a lookup stream */

/*
 * The registry's peers (wdkm_bench_peers.c): what a driver author would
 * write instead, from the kernel's primitives alone, holding the same
 * names. A lookup finds the entry and takes a reference, then drops it.
 */
typedef struct _WDKM_BENCH_PEERS WDKM_BENCH_PEERS, *PWDKM_BENCH_PEERS;

#define WDKM_BENCH_PEER_HASH_SPINLOCK    0  /* chained hash table under a KSPIN_LOCK */
#define WDKM_BENCH_PEER_SORTED_ERESOURCE 1  /* sorted array under an ERESOURCE, shared */
#define WDKM_BENCH_PEERS_COUNT           2

extern const PCSTR WdkmBenchPeerNames[WDKM_BENCH_PEERS_COUNT];

/* Names: Count slots of WDKM_BENCH_NAME_SLOT bytes, in ascending order. */
NTSTATUS
WdkmBenchPeersCreate(
    _In_reads_bytes_((SIZE_T)Count * WDKM_BENCH_NAME_SLOT) PCSTR Names,
    _In_ ULONG Count,
    _Outptr_ PWDKM_BENCH_PEERS *Result
    );

VOID
WdkmBenchPeersDestroy(
    _In_ PWDKM_BENCH_PEERS Peers
    );

/* Count lookups of Names' Length names in turn, from *Next (updated). */
NTSTATUS
WdkmBenchPeerLookups(
    _In_ PWDKM_BENCH_PEERS Peers,
    _In_ ULONG Peer,
    _In_reads_bytes_((SIZE_T)Length * WDKM_BENCH_NAME_SLOT) PCSTR Names,
    _In_ ULONG Length,
    _Inout_ ULONG *Next,
    _In_ ULONG64 Count
    );

/*
 * Pins the calling thread to one processor: the Index-th one the run may
 * use (wrapping around). Supplied by each front end (the host program with
 * sched_setaffinity, the driver with KeSetSystemAffinityThreadEx), so the
 * measuring core names no host call. Returns the processor, or -1 if the
 * thread could not be pinned.
 */
LONG
WdkmBenchPinCurrentThread(
    _In_ ULONG Index
    );

NTSTATUS
WdkmBenchRegistryCreate(
    _In_ ULONG Names,
    _Outptr_ PWDKM_BENCH_REGISTRY *Registry
    );

/*
 * Count lookups (WdkmGrtReference + WdkmGrtDereference) by thread Thread.
 * The control "stream" shares nothing between threads: how well two
 * threads scale on this machine at all, to read the registry's figure
 * against. The chase "stream" makes no lookup either: each operation is one
 * read of a random cache line that depends on the previous read, in an
 * array of one line per name: what a single cache miss costs at the
 * registry's size, the floor under any lookup's growth with the size.
 */
NTSTATUS
WdkmBenchRegistryLookups(
    _In_ PWDKM_BENCH_REGISTRY Registry,
    _In_ ULONG Stream,
    _In_ ULONG Thread,
    _In_ ULONG64 Count
    );

VOID
WdkmBenchRegistryDestroy(
    _In_ PWDKM_BENCH_REGISTRY Registry
    );

/*
 * Receives each sample as soon as it is complete (the host prints it, the
 * driver copies it out). Returns FALSE to stop the run (no room).
 */
typedef BOOLEAN WDKM_BENCH_EMIT(_In_opt_ PVOID Context, _In_ const WDKM_BENCH_SAMPLE *Sample);

/*
 * Runs the groups Config asks for. Returns STATUS_SUCCESS when every
 * sample could be emitted; a benchmark that cannot run on this kernel (a
 * kind it lacks) is emitted with its status instead of ticks.
 */
NTSTATUS
WdkmBenchRun(
    _In_ const WDKM_BENCH_CONFIG *Config,
    _In_ WDKM_BENCH_EMIT *Emit,
    _In_opt_ PVOID EmitContext
    );

#endif /* WDKM_BENCH_H */
