/*
 * wdkm_grt.c - the global registry of named locks (see wdkm_grt.h).
 *
 * Structure
 *   An entry holds a name, a lock and its references: one while the name
 *   is registered (the table's), one per successful lookup. The entry and
 *   its lock are one pool block (WdkmpLockCreateOwned), freed when the last
 *   reference is dropped, by whoever drops it (the lock's header points
 *   back to its entry):
 *
 *     [ entry: the line a lookup reads ][ lock header ... ][ value ][ trailer ]
 *       ^ 128-byte aligned               ^ the handle        writers, teardown,
 *                                                            the whole name
 *
 *   The entry's line holds everything a lookup reads (the counters' place,
 *   kind and data size, and the first 32 characters of the name) and the
 *   lock's header is the other half of its 128-byte pair, so the owner
 *   check of Dereference reads a line that came with the lookup's (the
 *   adjacent-line prefetch, and the lookup's own prefetch). The lock is
 *   found from the entry and the entry from the lock by arithmetic.
 *
 *   The table is open-addressed (linear probing) and keeps each name's hash
 *   next to the entry pointer, so a lookup reads one bucket line and then
 *   only the entry whose hash matches; the bucket also hints where the
 *   entry's counters are, so that the lookup starts fetching the entry, its
 *   header and its counter at once. A lookup writes only its processor's
 *   reader slot (and its shard's counter when the slot's reference cache
 *   cannot take it), and reads no line that other threads' lookups write.
 *
 * References are counted per shard
 *   While an entry is registered, a lookup adds one to the entry's counter
 *   in the shard of its thread and a dereference subtracts one in its own;
 *   the table's reference keeps the entry alive whatever the counters say,
 *   so nobody needs their sum. The counters of a shard live together in
 *   counter chunks (16 entries per chunk, a row of two lines per shard), so
 *   that two threads of different shards looking up the same names, or any
 *   names, write no common cache line. (16 entries make a 2 KB chunk: past a
 *   page, the kernel's pool would take two pages for it.)
 *   The shard, like the reader slot below, is the current processor's, so
 *   that lookups running at the same moment on different processors (up
 *   to 16 of them) touch different lines; a thread that moves between its
 *   lookup and its dereference only counts in two shards.
 *
 *   When the name is removed (unregister, replace, destroy) and no lookup
 *   can still reach the entry (a grace period, below), the writer closes
 *   the counters: it swaps each shard's count for WDKMP_GRT_CLOSED and adds
 *   their sum to the entry's central count, which held the table's
 *   reference plus a bias while the counters were open. From then on a
 *   dereference finds its shard closed (the old value it swapped out says
 *   so) and counts on the central count instead; whoever takes it to zero
 *   frees the entry. The bias keeps those early central decrements from
 *   reaching zero before the writer has added the sum.
 *
 * References are cached in the reader slot
 *   A counter chunk's line is one more line per lookup, and the reader slot
 *   a lookup writes anyway has room: WDKMP_GRT_CACHED words of it are a
 *   reference cache. A word holds a cache key, naming one entry, and that
 *   entry's references counted there (0 in both: empty), and changes only
 *   by compare-exchange (a full barrier, as every Interlocked operation).
 *   A lookup of entry E on processor P tries word Key(E) mod
 *   WDKMP_GRT_CACHED of P's slot: if it holds E's key, or a count of 0
 *   under any key, the lookup counts its reference there; else (another
 *   entry's references, or a full count) on its shard's counter as above.
 *   A dereference on processor Q takes its reference back from Q's word
 *   if it holds E's key with a count above 0, else from its shard's
 *   counter. Only the sum matters, as between shards.
 *   When the writer closes E's counters it also sweeps E's word in every
 *   slot, swapping (E, c) for empty and adding c to the sum. Why every
 *   reference is then counted exactly once:
 *   - Only a lookup adds to a word, inside its reader section, having
 *     found E; the writer sweeps after a grace period, so every such
 *     addition is done and seen (the reader left its slot after it). After
 *     the sweep no word holds E's key: a dereference only takes from a word
 *     with E's key and a count above 0, and a lookup never adds E again.
 *   - A dereference racing the sweep: one compare-exchange of the two
 *     fails; the sweep retries and counts what is left, the
 *     dereference's finds E gone and counts on its shard's counter, open
 *     (summed by the close) or closed (the central count).
 *   - A thread that moved between asking its processor and its
 *     compare-exchange, or a DPC that interrupted it between its read and
 *     its compare-exchange on the same word: the compare-exchange fails or
 *     succeeds whole; any thread may change any processor's words (it only
 *     shares a line). A failed one retries once, then counts on the shard.
 *     Comparing values, not pointers, is safe from reuse (ABA): a word's
 *     value is all of its state.
 *   - A key names one entry among those whose words may hold references:
 *     it is its counter column's (the chunk's id, from a fixed table of
 *     ids, times WDKMP_GRT_CHUNK_ENTRIES, plus the column, plus one). A
 *     column and a chunk id are given back only when their entry (their
 *     last entry) is freed, after its sweep, so a key is reused only once
 *     no word holds it. A chunk that finds no free id gets none: its
 *     entries count on the shard counters alone.
 *   A word is busy while its entry has references out that were counted
 *   there: a reference held for long keeps other entries of that word on
 *   the shard counters, on that processor only (slower, never wrong).
 *
 * Readers take no lock
 *   A lookup increments its processor's reader slot (a full barrier),
 *   checks the state, then probes the current table with acquire loads, and
 *   takes its reference before leaving its slot. Writers publish with
 *   release stores. Before a writer frees or reuses anything a reader may
 *   still see (an old table, a removed entry's bucket, a removed entry's
 *   counters), it waits for a grace period: every slot observed at zero once
 *   after the removal was published. The interlocked increment on the reader
 *   side and the interlocked operation before the writer's scan make a
 *   store-buffering pair, so a reader either saw the removal or is counted
 *   in a slot the writer waits for.
 *
 *   Writers wait for readers, so a reader section must end soon whatever
 *   happens to its thread: below APC_LEVEL it runs in a guarded region, so
 *   that no APC can run in it (a normal kernel APC would park the thread
 *   there for as long as its suspension lasts; a special kernel APC may
 *   wait, or register). Only a DPC can interrupt it, and a DPC may look a
 *   name up itself: slots count, so sections nest.
 *
 * Writers serialise
 *   Register, unregister and destroy hold the writer lock: a synchronization
 *   event taken inside a guarded region (see WdkmpGrtLockWriters). Every
 *   entry alive, registered or not, is on a list under a spin lock, so that
 *   Destroy can wait for the last ones and name those still in use.
 */
#include "wdkm_internal.h"

#define WDKMP_GRT_UNINITIALIZED 0
#define WDKMP_GRT_INITIALIZING  1
#define WDKMP_GRT_READY         2
#define WDKMP_GRT_CLOSING       3

#define WDKMP_GRT_SLOT_BITS       6
#define WDKMP_GRT_SLOTS           (1UL << WDKMP_GRT_SLOT_BITS)   /* reader slots */
#define WDKMP_GRT_SHARD_BITS      4
#define WDKMP_GRT_SHARDS          (1UL << WDKMP_GRT_SHARD_BITS)  /* reference counter shards */
#define WDKMP_GRT_CHUNK_ENTRIES   16     /* entries per counter chunk (at most 32) */
#define WDKMP_GRT_CHUNK_FULL      ((1UL << WDKMP_GRT_CHUNK_ENTRIES) - 1)
#define WDKMP_GRT_INITIAL_BUCKETS 128    /* a power of two */
#define WDKMP_GRT_MAX_BUCKETS     (1UL << 23)
#define WDKMP_GRT_POLL_MS         2
#define WDKMP_GRT_LINE_PAIR       128    /* two lines, as adjacent-line prefetch fetches them */

/*
 * Chunk ids, for cache keys: a chunk without one (all taken) counts on its
 * shard counters only. 32768 chunks are 524288 entries. A test build sets
 * fewer (a multiple of 64), to reach the chunks without one.
 */
#ifndef WDKMP_GRT_CHUNK_IDS
#define WDKMP_GRT_CHUNK_IDS       32768
#endif
#define WDKMP_GRT_NO_ID           0xFFFFFFFFUL
#define WDKMP_GRT_ID_WORD_BITS    64

/* Whole bitmap words, and every key (id * 16 + column + 1) below 2^32. */
typedef char WdkmpGrtChunkIdsFit[(WDKMP_GRT_CHUNK_IDS % WDKMP_GRT_ID_WORD_BITS == 0 &&
                                  WDKMP_GRT_CHUNK_IDS <= 0x0FFFFFFF) ? 1 : -1];

/* A cache word: a key in the high half, a count in the low half. */
#define WDKMP_GRT_CACHED_KEY(Word)   ((ULONG)((ULONG64)(Word) >> 32))
#define WDKMP_GRT_CACHED_COUNT(Word) ((ULONG)((ULONG64)(Word) & 0xFFFFFFFFULL))
#define WDKMP_GRT_CACHED_FULL        0xFFFFFFFFUL    /* a count no lookup adds to */

/* A removed name's bucket; readers step over it, a registration reuses it. */
#define WDKMP_GRT_TOMBSTONE ((PWDKMP_GRT_ENTRY)(ULONG_PTR)1)

/*
 * A closed shard counter holds WDKMP_GRT_CLOSED plus whatever dereferences
 * subtracted afterwards; an open one holds a small count of either sign (a
 * reference may be taken on one thread and dropped on another). The bias
 * exceeds any number of references that can be outstanding.
 */
#define WDKMP_GRT_CLOSED        (-0x4000000000000000LL)
#define WDKMP_GRT_CLOSED_BELOW  (-0x2000000000000000LL)
#define WDKMP_GRT_BIAS          0x0000010000000000LL

/* A name as the table compares it: zero-padded to 64 bytes, read as words. */
#define WDKMP_GRT_NAME_WORDS ((WDKM_GRT_MAX_NAME_LENGTH + 1) / sizeof(ULONG64))

typedef union _WDKMP_GRT_NAME {
    CHAR Text[WDKM_GRT_MAX_NAME_LENGTH + 1];
    ULONG64 Words[WDKMP_GRT_NAME_WORDS];
} WDKMP_GRT_NAME;

/* A name looked for: its copy, length (1..63) and hash. */
typedef struct _WDKMP_GRT_KEY {
    WDKMP_GRT_NAME Name;
    ULONG Length;
    ULONG Hash;
} WDKMP_GRT_KEY;

typedef struct _WDKMP_GRT_CHUNK WDKMP_GRT_CHUNK, *PWDKMP_GRT_CHUNK;
typedef struct _WDKMP_GRT_COLD WDKMP_GRT_COLD, *PWDKMP_GRT_COLD;

/* The characters of a name an entry's own line holds. */
#define WDKMP_GRT_HEAD_WORDS 4

/*
 * An entry: the line a lookup reads, in the registry's own lock block
 * (WdkmpLockCreateOwned), just before the lock's header. The two lines
 * are one 128-byte aligned pair, so the header Dereference reads comes
 * with the entry (adjacent-line prefetch, or the lookup's own prefetch).
 * Written before the entry is published, read-only after.
 */
typedef struct _WDKMP_GRT_ENTRY {
    PWDKMP_GRT_CHUNK Chunk;             /* this entry's counters */
    PWDKMP_GRT_COLD Cold;               /* the rest, after the lock's value */
    ULONG Hash;
    ULONG DataSize;                     /* the lock's, for the type check */
    UCHAR NameLength;
    UCHAR Kind;                         /* a WDKM_LOCK_KIND */
    UCHAR Index;                        /* column in Chunk */
    UCHAR CacheWord;                    /* its word in a cache: CacheKey % WDKMP_GRT_CACHED */
    ULONG CacheKey;                     /* in reference caches; 0: not cached */
    ULONG64 Head[WDKMP_GRT_HEAD_WORDS]; /* the name's first 32 characters, zero-padded */
} WDKMP_GRT_ENTRY, *PWDKMP_GRT_ENTRY;

/* The entry is the companion line of its lock block. */
typedef char WdkmpGrtEntryFitsItsLine[(sizeof(WDKMP_GRT_ENTRY) <= WDKMP_LOCK_COMPANION) ? 1 : -1];

/*
 * What only writers and teardown use, and the whole name (names past 32
 * characters are compared on here): the block's trailer, after the value.
 */
struct _WDKMP_GRT_COLD {
    LIST_ENTRY Link;                    /* on WdkmpGrt.Entries */
    PWDKMP_GRT_ENTRY Entry;             /* whose this is */
    PWDKMP_GRT_ENTRY NextDeferred;      /* on WdkmpGrt.Deferred, awaiting its free */
    LONG64 volatile Central;            /* see "References are counted per shard" */
    LONG volatile Unregistered;         /* 1 once unregistered or replaced (Destroy's report) */
    ULONG Reserved;
    PWDKM_DRAIN_VALUE Drain;            /* run on the value when the lock is freed, or NULL */
    PVOID DrainContext;
    WDKMP_GRT_NAME Name;                /* zero-padded */
};

/*
 * Reference counters of WDKMP_GRT_CHUNK_ENTRIES entries: row s is shard s,
 * 128 bytes (a pair of lines) no other shard writes. Chunks with a free
 * column are on WdkmpGrt.Chunks; a chunk is freed when its last entry is.
 */
struct _WDKMP_GRT_CHUNK {
    LONG64 volatile Counts[WDKMP_GRT_SHARDS][WDKMP_GRT_CHUNK_ENTRIES];  /* first: aligned */
    LIST_ENTRY Link;                    /* on WdkmpGrt.Chunks while not full */
    ULONG Used;                         /* a bit per column in use */
    ULONG Offset;                       /* from the pool block to the chunk */
    ULONG Id;                           /* its cache keys' (WDKMP_GRT_NO_ID: none) */
};

typedef struct _WDKMP_GRT_BUCKET {
    ULONG Hash;                         /* the entry's; set before Entry is published */
    LONG volatile Counter;              /* a hint (WdkmpGrtCounterHint): relaxed, a
                                           replacement rewrites it under lookups */
    PWDKMP_GRT_ENTRY volatile Entry;    /* NULL (never used), an entry, or a tombstone */
} WDKMP_GRT_BUCKET;

typedef struct _WDKMP_GRT_TABLE {
    ULONG Mask;                         /* buckets - 1 */
    ULONG Shift;                        /* 32 - log2(buckets) */
    ULONG Count;                        /* names in the table (writers only) */
    ULONG Used;                         /* names + tombstones (writers only) */
    WDKMP_GRT_BUCKET Buckets[1];        /* Mask + 1 of them */
} WDKMP_GRT_TABLE, *PWDKMP_GRT_TABLE;

/*
 * One per 128 bytes (two lines: adjacent-line prefetch pairs them), so that
 * readers on different threads share none. The reference cache is on the
 * line of Readers, which every lookup writes anyway (see "References are
 * cached in the reader slot"): each word a key (high half) and a count.
 */
#define WDKMP_GRT_CACHED 7
typedef struct WDKMP_ALIGNED(128) _WDKMP_GRT_SLOT {
    LONG volatile Readers;
    LONG Reserved;
    LONG64 volatile Cached[WDKMP_GRT_CACHED];
    LONG64 Padding[8];
} WDKMP_GRT_SLOT;

typedef char WdkmpGrtSlotIsALinePair[(sizeof(WDKMP_GRT_SLOT) == WDKMP_GRT_LINE_PAIR) ? 1 : -1];

/*
 * Static, not pool: they outlive every Initialize/Destroy cycle. The slots
 * are an array of their own: whole line pairs, aligned, so that no other
 * data shares their lines (and no structure is padded for their alignment).
 */
static WDKMP_GRT_SLOT WdkmpGrtSlots[WDKMP_GRT_SLOTS];

static struct {
    LONG Leading[16];                    /* State's line holds nothing else */
    /* Read by every lookup, written by Initialize, Destroy and growth only. */
    LONG volatile State;
    PWDKMP_GRT_TABLE volatile Table;
    LONG Padding[28];
    /* Writers and teardown. */
    LONG volatile WriterLockReady;       /* 0 never, 1 initialising, 2 ready */
    WDKMP_EVENT WriterLock;              /* signalled: free */
    WDKMP_SPIN_LOCK EntriesLock;         /* zero is a free spin lock */
    LIST_ENTRY Entries;                  /* EntriesLock */
    LIST_ENTRY Chunks;                   /* EntriesLock: chunks with a free column */
    PWDKMP_GRT_ENTRY Deferred;           /* EntriesLock: unreferenced, freed at a lower IRQL */
    LONG volatile LiveEntries;
    /* EntriesLock: a bit per chunk id taken. */
    ULONG64 ChunkIds[WDKMP_GRT_CHUNK_IDS / WDKMP_GRT_ID_WORD_BITS];
    ULONG ChunkIdHint;                   /* EntriesLock: no free id in the words below it */
} WdkmpGrt;

static VOID WdkmpGrtFreeDeferred(VOID);

/* ------------------------------------------------------------------------
 * Small helpers
 */

/*
 * Validates a name and makes its key: a copy in words, the last one
 * zero-padded, so that names compare a word at a time, and a hash of
 * those words. The copy reads the
 * name up to its terminator and never past it. Each word is put together
 * in a register and stored whole (byte stores read back as a word would
 * stall the load until they retire), and costs one multiply of the hash,
 * where a hash of each byte would chain a multiply per character. Words
 * hold the characters in memory order on little-endian processors, which
 * every Windows target is.
 */
static
NTSTATUS
WdkmpGrtMakeKey(
    _In_opt_z_ PCSTR Name,
    _Out_ WDKMP_GRT_KEY *Key
    )
{
    ULONG64 Hash = 0x9E3779B97F4A7C15ULL;
    ULONG64 Value;
    ULONG Index;
    ULONG Word;
    UCHAR Character;

    /* The words the name fills, and the first WDKMP_GRT_HEAD_WORDS
       whatever it fills (zero past it, compared whole): nothing past them
       is read. A registration pads its copies itself. */
    Key->Length = 0;
    Key->Hash = 0;
    for (Word = 0; Word < WDKMP_GRT_HEAD_WORDS; Word += 1) {
        Key->Name.Words[Word] = 0;
    }
    if (Name == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
#define WDKMP_GRT_TAKE(Byte)                                                          \
    Character = (UCHAR)Name[Index + (Byte)];                                          \
    if (Character == '\0') {                                                          \
        Index += (Byte);                                                              \
        goto Last;                                                                    \
    }                                                                                 \
    Value |= (ULONG64)Character << (8 * (Byte));
    for (Word = 0, Index = 0; Word < WDKMP_GRT_NAME_WORDS; Word += 1, Index += 8) {
        Value = 0;
        WDKMP_GRT_TAKE(0) WDKMP_GRT_TAKE(1) WDKMP_GRT_TAKE(2) WDKMP_GRT_TAKE(3)
        WDKMP_GRT_TAKE(4) WDKMP_GRT_TAKE(5) WDKMP_GRT_TAKE(6) WDKMP_GRT_TAKE(7)
        Key->Name.Words[Word] = Value;
        Hash = (Hash ^ Value) * 0xFF51AFD7ED558CCDULL;
        Hash ^= Hash >> 32;
    }
#undef WDKMP_GRT_TAKE
    return STATUS_NAME_TOO_LONG;        /* 64 characters and more */

Last:
    if (Index == 0) {
        return STATUS_OBJECT_NAME_INVALID;
    }
    if (Value != 0) {                   /* a last word, partly filled */
        Key->Name.Words[Word] = Value;
        Hash = (Hash ^ Value) * 0xFF51AFD7ED558CCDULL;
        Hash ^= Hash >> 32;
    }
    Key->Length = Index;
    Key->Hash = (ULONG)Hash;
    return STATUS_SUCCESS;
}

/* The words a name of Length characters fills. */
#define WDKMP_GRT_WORDS_OF(Length) (((Length) + sizeof(ULONG64) - 1) / sizeof(ULONG64))

/*
 * TRUE if Entry's name is Key's: of the same length, both zero-padded, so
 * words decide. The entry's own line holds the first 32 characters
 * (compared whole, without a branch per word), its trailer the whole name
 * (read for longer names only).
 */
WDKMP_INLINE
BOOLEAN
WdkmpGrtNameIs(
    _In_ const WDKMP_GRT_ENTRY *Entry,
    _In_ const WDKMP_GRT_KEY *Key
    )
{
    ULONG Words;
    ULONG Word;

    if (Entry->NameLength != Key->Length ||
        ((Entry->Head[0] ^ Key->Name.Words[0]) | (Entry->Head[1] ^ Key->Name.Words[1]) |
         (Entry->Head[2] ^ Key->Name.Words[2]) | (Entry->Head[3] ^ Key->Name.Words[3])) != 0) {
        return FALSE;
    }
    Words = (ULONG)WDKMP_GRT_WORDS_OF(Key->Length);
    for (Word = WDKMP_GRT_HEAD_WORDS; Word < Words; Word += 1) {
        if (Entry->Cold->Name.Words[Word] != Key->Name.Words[Word]) {
            return FALSE;
        }
    }
    return TRUE;
}

/* An entry's lock: the header right after it (WdkmpLockCreateOwned). */
static
PVOID
WdkmpGrtLockOf(
    _In_ const WDKMP_GRT_ENTRY *Entry
    )
{
    return (PUCHAR)Entry + WDKMP_LOCK_COMPANION;
}

static
PWDKMP_LOCK_HEADER
WdkmpGrtHeader(
    _In_ const WDKMP_GRT_ENTRY *Entry
    )
{
    return (PWDKMP_LOCK_HEADER)WdkmpGrtLockOf(Entry);
}

/* The entry of a registry lock: the companion bytes before its header. */
static
PWDKMP_GRT_ENTRY
WdkmpGrtEntryOf(
    _In_ const WDKMP_LOCK_HEADER *Header
    )
{
    return (PWDKMP_GRT_ENTRY)((PUCHAR)Header - WDKMP_LOCK_COMPANION);
}

/*
 * The reference shard of a processor. Any shard is correct (the counts are
 * summed), so a thread that has moved since it asked for its processor
 * only shares a line for a moment.
 */
static
ULONG
WdkmpGrtShardOf(
    _In_ ULONG Processor
    )
{
    return Processor & (WDKMP_GRT_SHARDS - 1);
}

/*
 * InterlockedExchange64, which Wine's DDK headers do not declare, as a
 * compare-exchange loop. Writers only (closing or clearing counters).
 */
static
LONG64
WdkmpGrtExchange64(
    _Inout_ LONG64 volatile *Target,
    _In_ LONG64 Value
    )
{
    LONG64 Old = 0;
    LONG64 Seen;

    while ((Seen = InterlockedCompareExchange64(Target, Value, Old)) != Old) {
        Old = Seen;
    }
    return Old;
}

static
LONG64 volatile *
WdkmpGrtCounter(
    _In_ const WDKMP_GRT_ENTRY *Entry,
    _In_ ULONG Shard
    )
{
    return &Entry->Chunk->Counts[Shard][Entry->Index];
}

/*
 * The bucket's hint at where Entry's counters are: how far its shard-0
 * counter is from the entry, in counters, or 0 when that does not fit a
 * LONG. A lookup prefetches its shard's counter from the bucket, before it
 * has the entry (else the counter's line would be a miss that starts only
 * once the entry's has ended). Only a hint, never used to count: a stale
 * one (a lookup racing a replacement in the same bucket) costs a wasted
 * prefetch, nothing else.
 */
static
LONG
WdkmpGrtCounterHint(
    _In_ const WDKMP_GRT_ENTRY *Entry
    )
{
    LONG_PTR Distance = (LONG_PTR)((ULONG_PTR)WdkmpGrtCounter(Entry, 0) - (ULONG_PTR)Entry) /
                        (LONG_PTR)sizeof(LONG64);

    return Distance >= -MAXLONG && Distance <= MAXLONG ? (LONG)Distance : 0;
}

/*
 * Starts the misses a lookup of Entry will take, all at once: its lock's
 * header (Dereference reads it), and the counter of Shard (by the bucket's
 * hint), while the entry's own line is still on its way.
 */
static
VOID
WdkmpGrtPrefetch(
    _In_ const WDKMP_GRT_ENTRY *Entry,
    _In_ LONG Counter,
    _In_ ULONG Shard
    )
{
    WdkmpPrefetch(WdkmpGrtLockOf(Entry));
    if (Counter != 0) {
        WdkmpPrefetch((PVOID)((ULONG_PTR)Entry + (ULONG_PTR)((LONG_PTR)Counter * sizeof(LONG64)) +
                              Shard * sizeof(LONG64) * WDKMP_GRT_CHUNK_ENTRIES));
    }
}

/*
 * Pool blocks are 16-byte aligned; counter chunks want a pair of lines
 * per row. Allocates Bytes at an Alignment
 * boundary inside a larger block and records where the block starts.
 */
static
PVOID
WdkmpGrtAllocateAligned(
    _In_ SIZE_T Bytes,
    _In_ ULONG Alignment,
    _Out_ ULONG *Offset
    )
{
    PUCHAR Block = (PUCHAR)WdkmpAllocateBlock(Bytes + Alignment - 1);
    ULONG_PTR Misalignment;

    *Offset = 0;
    if (Block == NULL) {
        return NULL;
    }
    Misalignment = (ULONG_PTR)Block & (Alignment - 1);
    *Offset = Misalignment == 0 ? 0 : (ULONG)(Alignment - Misalignment);
    return Block + *Offset;
}

static
VOID
WdkmpGrtFreeAligned(
    _In_ PVOID Aligned,
    _In_ SIZE_T Bytes,
    _In_ ULONG Alignment,
    _In_ ULONG Offset
    )
{
    WdkmpFreeBlock((PUCHAR)Aligned - Offset, Bytes + Alignment - 1);
}

/* ------------------------------------------------------------------------
 * Readers and grace periods
 */

/*
 * Counts the caller in the slot of Processor, its own, and returns the
 * slot, which it leaves even if it has moved to another processor since.
 */
static
WDKMP_GRT_SLOT *
WdkmpGrtEnterReader(
    _In_ ULONG Processor
    )
{
    WDKMP_GRT_SLOT *Slot = &WdkmpGrtSlots[Processor & (WDKMP_GRT_SLOTS - 1)];

    InterlockedIncrement(&Slot->Readers);
    return Slot;
}

static
VOID
WdkmpGrtLeaveReader(
    _Inout_ WDKMP_GRT_SLOT *Slot
    )
{
    InterlockedDecrement(&Slot->Readers);
}

/* ------------------------------------------------------------------------
 * Reference caches (see "References are cached in the reader slot")
 */

/* Entry's word in Slot. */
static
LONG64 volatile *
WdkmpGrtCachedWord(
    _In_ WDKMP_GRT_SLOT *Slot,
    _In_ const WDKMP_GRT_ENTRY *Entry
    )
{
    return &Slot->Cached[Entry->CacheWord];
}

/*
 * Counts a reference to Entry in Slot (Taking: a lookup's, in the
 * caller's reader slot, which it is in, so Entry cannot be swept
 * meanwhile) or takes one back (a dereference's, from the slot of the
 * caller's processor). FALSE if the word cannot (a lookup: another
 * entry's references, or a full count; a dereference: none of Entry's),
 * or changed under the caller twice: count it on a shard instead.
 * Inline: each caller passes a constant Taking, and the lookup's and the
 * dereference's paths keep only their own side.
 */
WDKMP_INLINE
BOOLEAN
WdkmpGrtCacheCount(
    _In_ WDKMP_GRT_SLOT *Slot,
    _In_ const WDKMP_GRT_ENTRY *Entry,
    _In_ BOOLEAN Taking
    )
{
    ULONG Key = Entry->CacheKey;
    LONG64 volatile *Word;
    LONG64 Seen;
    LONG64 Next;
    LONG64 Found;
    ULONG Count;
    ULONG Try;

    if (Key == 0) {
        return FALSE;
    }
    Word = WdkmpGrtCachedWord(Slot, Entry);
    /* Relaxed: only what the compare-exchange compares. */
    Seen = WdkmpLoadLong64(Word);
    for (Try = 0; Try < 2; Try += 1) {
        Count = WDKMP_GRT_CACHED_COUNT(Seen);
        if (Taking && Count == 0) {
            Next = (LONG64)(((ULONG64)Key << 32) | 1);     /* any key's, empty */
        } else if (WDKMP_GRT_CACHED_KEY(Seen) != Key ||
                   Count == (Taking ? WDKMP_GRT_CACHED_FULL : 0)) {
            return FALSE;
        } else {
            Next = (LONG64)((ULONG64)Seen + (Taking ? 1 : (ULONG64)-1));
        }
        Found = InterlockedCompareExchange64(Word, Next, Seen);
        if (Found == Seen) {
            return TRUE;
        }
        Seen = Found;
    }
    return FALSE;
}

/*
 * Empties Entry's word in every slot and returns the references they held.
 * Entry is retired: no lookup can add to its words any more, so after this
 * none holds its key. Each retry follows a dereference's decrement or
 * another entry's taking the word over, so the loops end.
 */
static
LONG64
WdkmpGrtCacheSweep(
    _In_ const WDKMP_GRT_ENTRY *Entry
    )
{
    ULONG Key = Entry->CacheKey;
    LONG64 volatile *Word;
    LONG64 Sum = 0;
    LONG64 Seen;
    LONG64 Found;
    ULONG Index;

    if (Key == 0) {
        return 0;
    }
    for (Index = 0; Index < WDKMP_GRT_SLOTS; Index += 1) {
        Word = WdkmpGrtCachedWord(&WdkmpGrtSlots[Index], Entry);
        /* Acquire: a word found holding another entry's key (or none) may
           be one a dereference of this entry emptied, after which another
           lookup took it; the free that may follow must come after that
           dereference's reads of the lock. Its compare-exchange heads a
           release sequence every later change of the word continues. */
        Seen = WdkmpLoadLong64Acquire(Word);
        while (WDKMP_GRT_CACHED_KEY(Seen) == Key) {
            Found = InterlockedCompareExchange64(Word, 0, Seen);
            if (Found == Seen) {
                Sum += WDKMP_GRT_CACHED_COUNT(Seen);
                break;
            }
            Seen = Found;
        }
    }
    return Sum;
}

/* ------------------------------------------------------------------------
 * Deadlines (Destroy's timeout)
 */

/* When a wait must end: never (Forever), or at End, in nanoseconds of the
   performance counter, which never goes back. */
typedef struct _WDKMP_GRT_DEADLINE {
    BOOLEAN Forever;
    ULONG64 End;
} WDKMP_GRT_DEADLINE;

static
ULONG64
WdkmpGrtNowNs(
    VOID
    )
{
    return WdkmpTimestampToNs(WdkmpTimestamp());
}

/*
 * The deadline of an NT timeout: NULL waits as long as it takes; negative
 * is an interval, positive a system time (100 ns units both), zero now.
 * The interval is negated as an unsigned value, so that the longest one
 * (INT64_MIN) does not overflow; centuries count as for ever.
 */
static
VOID
WdkmpGrtStartDeadline(
    _In_opt_ const LARGE_INTEGER *Timeout,
    _Out_ WDKMP_GRT_DEADLINE *Deadline
    )
{
    ULONG64 Interval = 0;
    LONGLONG Now;

    Deadline->Forever = (BOOLEAN)(Timeout == NULL);
    Deadline->End = 0;
    if (Timeout == NULL) {
        return;
    }
    if (Timeout->QuadPart < 0) {
        Interval = 0 - (ULONG64)Timeout->QuadPart;
    } else if (Timeout->QuadPart > 0) {
        Now = WdkmpSystemTime();
        Interval = Timeout->QuadPart > Now ? (ULONG64)(Timeout->QuadPart - Now) : 0;
    }
    if (Interval > (1ULL << 56) / 100) {          /* over 22 years */
        Deadline->Forever = TRUE;
        return;
    }
    Deadline->End = WdkmpGrtNowNs() + Interval * 100;
}

/* What is left of Deadline, as a relative NT timeout (0 when it passed). */
static
LARGE_INTEGER
WdkmpGrtRemaining(
    _In_ const WDKMP_GRT_DEADLINE *Deadline
    )
{
    LARGE_INTEGER Remaining;
    ULONG64 Now = WdkmpGrtNowNs();

    Remaining.QuadPart = Now < Deadline->End ? -(LONGLONG)((Deadline->End - Now) / 100) : 0;
    return Remaining;
}

static
BOOLEAN
WdkmpGrtPassed(
    _In_opt_ const WDKMP_GRT_DEADLINE *Deadline
    )
{
    return Deadline != NULL && !Deadline->Forever && WdkmpGrtNowNs() >= Deadline->End;
}

/*
 * Waits until no reader can still see what the caller unpublished before
 * the call, or until Deadline (NULL: for ever) passes; FALSE then.
 * PASSIVE_LEVEL or APC_LEVEL; the caller must not be a reader.
 */
static
BOOLEAN
WdkmpGrtWaitForReaders(
    _In_opt_ const WDKMP_GRT_DEADLINE *Deadline
    )
{
    ULONG Index;
    ULONG Spins;
    LONG Fence = 0;

    /* Pairs with the readers' interlocked increment (store buffering). */
    InterlockedExchange(&Fence, 1);
    for (Index = 0; Index < WDKMP_GRT_SLOTS; Index += 1) {
        /* A full-barrier read: what a reader did before leaving its slot
           happens before what the writer does next. */
        for (Spins = 0;
             InterlockedCompareExchange(&WdkmpGrtSlots[Index].Readers, 0, 0) != 0;
             Spins += 1) {
            if (Spins < 1000) {
                YieldProcessor();
            } else if (WdkmpGrtPassed(Deadline)) {
                return FALSE;
            } else {
                WdkmpSleepMs(1);
            }
        }
    }
    return TRUE;
}

/*
 * Acquire: READY was stored after the table and the writer lock were set
 * up, and a thread that sees it sees them (Register racing Initialize).
 */
static
LONG
WdkmpGrtState(
    VOID
    )
{
    return WdkmpLoadLongAcquire(&WdkmpGrt.State);
}

static
NTSTATUS
WdkmpGrtStateStatus(
    _In_ LONG State
    )
{
    return State == WDKMP_GRT_CLOSING ? STATUS_DELETE_PENDING : STATUS_WDKM_NOT_INITIALIZED;
}

/*
 * The checks a writer (register, unregister) makes before its work: the
 * IRQL allows a wait, and the registry is up. Checked again under the
 * writer lock, since Destroy may start meanwhile.
 */
static
NTSTATUS
WdkmpGrtCheckWriter(
    VOID
    )
{
    LONG State;

    if (WdkmpGetIrql() > APC_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    WdkmpGrtFreeDeferred();
    State = WdkmpGrtState();
    return State == WDKMP_GRT_READY ? STATUS_SUCCESS : WdkmpGrtStateStatus(State);
}

/* ------------------------------------------------------------------------
 * Counter chunks (EntriesLock)
 */

/* A free chunk id, now taken, or WDKMP_GRT_NO_ID. EntriesLock. */
static
ULONG
WdkmpGrtTakeChunkId(
    VOID
    )
{
    ULONG Index;
    ULONG Bit;
    ULONG64 Free;

    for (Index = WdkmpGrt.ChunkIdHint; Index < WDKMP_GRT_CHUNK_IDS / WDKMP_GRT_ID_WORD_BITS;
         Index += 1) {
        Free = ~WdkmpGrt.ChunkIds[Index];
        if (Free != 0) {
            for (Bit = 0; (Free & 1) == 0; Bit += 1) {
                Free >>= 1;
            }
            WdkmpGrt.ChunkIds[Index] |= 1ULL << Bit;
            WdkmpGrt.ChunkIdHint = Index;
            return Index * WDKMP_GRT_ID_WORD_BITS + Bit;
        }
    }
    WdkmpGrt.ChunkIdHint = Index;
    return WDKMP_GRT_NO_ID;
}

/* Gives a freed chunk's id back: after its last entry's sweep. EntriesLock. */
static
VOID
WdkmpGrtReleaseChunkId(
    _In_ ULONG Id
    )
{
    ULONG Index = Id / WDKMP_GRT_ID_WORD_BITS;

    if (Id == WDKMP_GRT_NO_ID) {
        return;
    }
    WdkmpGrt.ChunkIds[Index] &= ~(1ULL << (Id % WDKMP_GRT_ID_WORD_BITS));
    if (Index < WdkmpGrt.ChunkIdHint) {
        WdkmpGrt.ChunkIdHint = Index;
    }
}

/*
 * Takes a zeroed column of counters for a new entry, in a chunk with a
 * free one or in a new chunk. <= APC_LEVEL.
 */
static
NTSTATUS
WdkmpGrtAssignCounters(
    _Outptr_result_maybenull_ PWDKMP_GRT_CHUNK *ChunkOut,
    _Out_ UCHAR *IndexOut
    )
{
    PWDKMP_GRT_CHUNK Chunk;
    PWDKMP_GRT_CHUNK Spare = NULL;
    ULONG Offset;
    ULONG Index;
    ULONG Shard;
    KIRQL OldIrql;

    for (;;) {
        OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
        if (IsListEmpty(&WdkmpGrt.Chunks) && Spare != NULL) {
            Spare->Id = WdkmpGrtTakeChunkId();
            InsertHeadList(&WdkmpGrt.Chunks, &Spare->Link);
            Spare = NULL;
        }
        if (!IsListEmpty(&WdkmpGrt.Chunks)) {
            break;
        }
        WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
        /* Allocated outside the spin lock; zeroed: every count 0. */
        Spare = (PWDKMP_GRT_CHUNK)WdkmpGrtAllocateAligned(sizeof(*Spare), WDKMP_GRT_LINE_PAIR,
                                                          &Offset);
        if (Spare == NULL) {
            *ChunkOut = NULL;
            *IndexOut = 0;
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        Spare->Offset = Offset;
    }
    Chunk = CONTAINING_RECORD(WdkmpGrt.Chunks.Flink, WDKMP_GRT_CHUNK, Link);
    for (Index = 0; (Chunk->Used & (1UL << Index)) != 0; Index += 1) {
    }
    Chunk->Used |= 1UL << Index;
    if (Chunk->Used == WDKMP_GRT_CHUNK_FULL) {
        RemoveEntryList(&Chunk->Link);
    }
    /* A column freed before holds the closed counts of its last entry. */
    for (Shard = 0; Shard < WDKMP_GRT_SHARDS; Shard += 1) {
        (VOID)WdkmpGrtExchange64(&Chunk->Counts[Shard][Index], 0);
    }
    WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);

    *ChunkOut = Chunk;
    *IndexOut = (UCHAR)Index;
    if (Spare != NULL) {                /* another registration made one first */
        WdkmpGrtFreeAligned(Spare, sizeof(*Spare), WDKMP_GRT_LINE_PAIR, Spare->Offset);
    }
    return STATUS_SUCCESS;
}

/* Returns a column; frees the chunk with its last one. <= DISPATCH_LEVEL. */
static
VOID
WdkmpGrtReleaseCounters(
    _In_ PWDKMP_GRT_CHUNK Chunk,
    _In_ UCHAR Index
    )
{
    BOOLEAN WasFull;
    BOOLEAN Empty;
    KIRQL OldIrql;

    OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
    WasFull = (BOOLEAN)(Chunk->Used == WDKMP_GRT_CHUNK_FULL);
    Chunk->Used &= ~(1UL << Index);
    Empty = (BOOLEAN)(Chunk->Used == 0);
    if (Empty) {
        if (!WasFull) {
            RemoveEntryList(&Chunk->Link);
        }
        WdkmpGrtReleaseChunkId(Chunk->Id);
    } else if (WasFull) {
        InsertHeadList(&WdkmpGrt.Chunks, &Chunk->Link);
    }
    WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
    if (Empty) {
        WdkmpGrtFreeAligned(Chunk, sizeof(*Chunk), WDKMP_GRT_LINE_PAIR, Chunk->Offset);
    }
}

/* ------------------------------------------------------------------------
 * Entries
 */

/*
 * Frees Entry, its lock and its counters: the entry and the lock are one
 * block (WdkmpLockCreateOwned), freed once the lock is destroyed and its
 * value drained (a drained registration's Drain).
 */
static
VOID
WdkmpGrtFreeEntry(
    _In_ PWDKMP_GRT_ENTRY Entry
    )
{
    PVOID Lock = WdkmpGrtLockOf(Entry);
    NTSTATUS Status;
    KIRQL OldIrql;

    /* Off the list before the lock goes: Destroy's report reads the lock
       of every entry on it. */
    OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
    RemoveEntryList(&Entry->Cold->Link);
    WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
    Status = WdkmpLockDestroyOwned(Lock, WdkmpGrtHeader(Entry)->Kind, Entry->Cold->Drain,
                                   Entry->Cold->DrainContext);
    WdkmpGrtReleaseCounters(Entry->Chunk, Entry->Index);
    if (NT_SUCCESS(Status)) {
        WdkmpLockFreeOwned(Lock, sizeof(WDKMP_GRT_COLD));
    } else {
        /* Held by a thread that dropped its reference too early: freeing it
           would pull the lock from under that thread. Leak it (and the
           entry with it), loudly. */
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: registry lock \"%s\" freed while held (%s); leaked\n",
                        Entry->Cold->Name.Text, WdkmStatusName(Status));
    }
    InterlockedDecrement(&WdkmpGrt.LiveEntries);
}

/* Frees Entry, whose last reference is gone, or parks it for later. */
static
VOID
WdkmpGrtFreeOrDefer(
    _In_ PWDKMP_GRT_ENTRY Entry
    )
{
    KIRQL OldIrql;

    if (WdkmpGetIrql() > WdkmpGrtHeader(Entry)->Kind->MaxDestroyIrql) {
        /*
         * Too high an IRQL to tear the kernel object down here (an
         * ERESOURCE dereferenced at DISPATCH_LEVEL): the next registry call
         * made at a low enough IRQL frees it, and Destroy waits for that.
         */
        OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
        Entry->Cold->NextDeferred = WdkmpGrt.Deferred;
        WdkmpGrt.Deferred = Entry;
        WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
        return;
    }
    WdkmpGrtFreeEntry(Entry);
}

/*
 * Drops a lookup's reference: from the reference cache of the caller's
 * processor, or on its shard while the counters are open (the table's
 * reference keeps the entry alive), else on the central count, where the
 * last one frees the entry.
 */
static
VOID
WdkmpGrtDropReference(
    _In_ PWDKMP_GRT_ENTRY Entry,
    _In_ ULONG Processor
    )
{
    if (WdkmpGrtCacheCount(&WdkmpGrtSlots[Processor & (WDKMP_GRT_SLOTS - 1)], Entry, FALSE)) {
        return;
    }
    if (InterlockedExchangeAdd64(WdkmpGrtCounter(Entry, WdkmpGrtShardOf(Processor)), -1) >=
        WDKMP_GRT_CLOSED_BELOW) {
        return;
    }
    if (InterlockedDecrement64(&Entry->Cold->Central) == 0) {
        WdkmpGrtFreeOrDefer(Entry);
    }
}

/*
 * Drops the table's reference to an entry no lookup can reach any more: it
 * was never published, or it was unpublished and a grace period has passed
 * since (so no lookup is between finding it and counting its reference).
 * Closes the counters, sweeps the reference caches, and moves what they
 * hold to the central count.
 */
static
VOID
WdkmpGrtRetire(
    _In_ PWDKMP_GRT_ENTRY Entry
    )
{
    LONG64 Sum = 0;
    LONG64 Delta;
    ULONG Shard;

    for (Shard = 0; Shard < WDKMP_GRT_SHARDS; Shard += 1) {
        Sum += WdkmpGrtExchange64(WdkmpGrtCounter(Entry, Shard), WDKMP_GRT_CLOSED);
    }
    Sum += WdkmpGrtCacheSweep(Entry);
    /* Central held BIAS + 1 (the table's reference): drop both. */
    Delta = Sum - WDKMP_GRT_BIAS - 1;
    if (InterlockedExchangeAdd64(&Entry->Cold->Central, Delta) + Delta == 0) {
        WdkmpGrtFreeOrDefer(Entry);
    }
}

/* Frees the entries parked by WdkmpGrtFreeOrDefer. <= APC_LEVEL. */
static
VOID
WdkmpGrtFreeDeferred(
    VOID
    )
{
    PWDKMP_GRT_ENTRY Entry;
    PWDKMP_GRT_ENTRY Next;
    KIRQL OldIrql;

    OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
    Entry = WdkmpGrt.Deferred;
    WdkmpGrt.Deferred = NULL;
    WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
    for (; Entry != NULL; Entry = Next) {
        Next = Entry->Cold->NextDeferred;
        WdkmpGrtFreeEntry(Entry);
    }
}

/*
 * Creates the entry of Key with its lock (the value copied from
 * InitialValue, or set up by Initialize) and its counters, not yet
 * published: one block holds the entry's line, the lock and the entry's
 * trailer (WdkmpLockCreateOwned). From here on it is freed through its
 * references.
 */
static
NTSTATUS
WdkmpGrtCreateEntry(
    _In_ const WDKMP_GRT_KEY *Key,
    _In_ const WDKMP_LOCK_KIND *Descriptor,
    _In_opt_ const VOID *InitialValue,
    _In_opt_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_opt_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID DrainContext,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKMP_GRT_ENTRY *EntryOut
    )
{
    PWDKMP_GRT_CHUNK Chunk;
    PWDKMP_GRT_ENTRY Entry;
    PWDKMP_GRT_COLD Cold;
    PWDKMP_LOCK_HEADER Header;
    ULONG Words = (ULONG)WDKMP_GRT_WORDS_OF(Key->Length);
    ULONG Word;
    NTSTATUS Status;
    PVOID Lock;
    UCHAR Index;
    KIRQL OldIrql;

    *EntryOut = NULL;
    /* The counters first: their failure then never discards a value an
       Initialize callback has set up. */
    Status = WdkmpGrtAssignCounters(&Chunk, &Index);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    Status = WdkmpLockCreateOwned(Descriptor, InitialValue, Initialize, Context, DataSize,
                                  sizeof(WDKMP_GRT_COLD), &Lock);
    if (!NT_SUCCESS(Status)) {
        WdkmpGrtReleaseCounters(Chunk, Index);
        return Status;
    }
    Header = (PWDKMP_LOCK_HEADER)Lock;
    Entry = WdkmpGrtEntryOf(Header);
    Cold = (PWDKMP_GRT_COLD)WdkmpLockTrailer(Header);
    RtlZeroMemory(Entry, sizeof(*Entry));
    RtlZeroMemory(Cold, sizeof(*Cold));
    Entry->Chunk = Chunk;
    Entry->Cold = Cold;
    Entry->Hash = Key->Hash;
    Entry->DataSize = (ULONG)DataSize;          /* at most WDKM_MAX_DATA_SIZE */
    Entry->NameLength = (UCHAR)Key->Length;
    Entry->Kind = (UCHAR)Descriptor->Kind;
    Entry->Index = Index;
    Entry->CacheKey = Chunk->Id == WDKMP_GRT_NO_ID
                          ? 0 : Chunk->Id * WDKMP_GRT_CHUNK_ENTRIES + Index + 1;
    Entry->CacheWord = (UCHAR)(Entry->CacheKey % WDKMP_GRT_CACHED);
    for (Word = 0; Word < Words; Word += 1) {   /* the rest stays zero */
        Cold->Name.Words[Word] = Key->Name.Words[Word];
        if (Word < WDKMP_GRT_HEAD_WORDS) {
            Entry->Head[Word] = Key->Name.Words[Word];
        }
    }
    Cold->Entry = Entry;
    Cold->Central = WDKMP_GRT_BIAS + 1;
    Cold->Drain = Drain;
    Cold->DrainContext = DrainContext;
    Header->RegistryEntry = Entry;

    InterlockedIncrement(&WdkmpGrt.LiveEntries);
    OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
    InsertTailList(&WdkmpGrt.Entries, &Cold->Link);
    WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
    *EntryOut = Entry;
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * The table (writers hold the writer lock)
 */

static
SIZE_T
WdkmpGrtTableBytes(
    _In_ ULONG Buckets
    )
{
    return FIELD_OFFSET(WDKMP_GRT_TABLE, Buckets) + (SIZE_T)Buckets * sizeof(WDKMP_GRT_BUCKET);
}

static
PWDKMP_GRT_TABLE
WdkmpGrtAllocateTable(
    _In_ ULONG Buckets
    )
{
    PWDKMP_GRT_TABLE Table = (PWDKMP_GRT_TABLE)WdkmpAllocateBlock(WdkmpGrtTableBytes(Buckets));
    ULONG Bits = 0;

    if (Table != NULL) {
        while ((1UL << Bits) < Buckets) {
            Bits += 1;
        }
        Table->Mask = Buckets - 1;    /* zeroed: every bucket empty */
        Table->Shift = 32 - Bits;
    }
    return Table;
}

static
VOID
WdkmpGrtFreeTable(
    _In_ PWDKMP_GRT_TABLE Table
    )
{
    WdkmpFreeBlock(Table, WdkmpGrtTableBytes(Table->Mask + 1));
}

static
PWDKMP_GRT_TABLE
WdkmpGrtCurrentTable(
    VOID
    )
{
    return (PWDKMP_GRT_TABLE)WdkmpLoadPointerAcquire((PVOID const volatile *)&WdkmpGrt.Table);
}

/* The bucket a probe for Hash starts at (Fibonacci hashing: the top bits). */
static
ULONG
WdkmpGrtHome(
    _In_ const WDKMP_GRT_TABLE *Table,
    _In_ ULONG Hash
    )
{
    return (ULONG)((Hash * 2654435769UL) & 0xFFFFFFFFUL) >> Table->Shift;
}

/* No prefetch: WdkmpGrtFind for a writer. */
#define WDKMP_GRT_WRITER WDKMP_GRT_SHARDS

/*
 * The entry registered as Name, or NULL. Lookups and writers alike: the
 * buckets are read with acquire loads, and a bucket's hash is read only
 * once its entry pointer says it is set. A lookup (Shard, its counters'
 * shard, not WDKMP_GRT_WRITER) prefetches the candidate's other lines.
 * Inline: each caller's copy drops what it does not ask for.
 */
WDKMP_INLINE
PWDKMP_GRT_ENTRY
WdkmpGrtFind(
    _In_ const WDKMP_GRT_TABLE *Table,
    _In_ const WDKMP_GRT_KEY *Key,
    _Out_opt_ ULONG *BucketOut,
    _In_ ULONG Shard
    )
{
    ULONG Bucket = WdkmpGrtHome(Table, Key->Hash);
    PWDKMP_GRT_ENTRY Entry;

    for (;; Bucket = (Bucket + 1) & Table->Mask) {
        Entry = (PWDKMP_GRT_ENTRY)WdkmpLoadPointerAcquire(
            (PVOID const volatile *)&Table->Buckets[Bucket].Entry);
        if (Entry == NULL) {
            return NULL;
        }
        if (Entry == WDKMP_GRT_TOMBSTONE || Table->Buckets[Bucket].Hash != Key->Hash) {
            continue;
        }
        if (Shard != WDKMP_GRT_WRITER) {
            WdkmpGrtPrefetch(Entry, WdkmpLoadLong(&Table->Buckets[Bucket].Counter), Shard);
        }
        if (WdkmpGrtNameIs(Entry, Key)) {
            if (BucketOut != NULL) {
                *BucketOut = Bucket;
            }
            return Entry;
        }
    }
}

/*
 * Puts Entry (a name not in Table) in the first free bucket of its probe:
 * a tombstone (a removal the writer has waited out, so no reader still
 * looks at that bucket's old contents) or a never-used one.
 */
static
VOID
WdkmpGrtInsert(
    _Inout_ PWDKMP_GRT_TABLE Table,
    _In_ PWDKMP_GRT_ENTRY Entry
    )
{
    ULONG Bucket = WdkmpGrtHome(Table, Entry->Hash);
    PWDKMP_GRT_ENTRY Found;

    for (;; Bucket = (Bucket + 1) & Table->Mask) {
        Found = Table->Buckets[Bucket].Entry;
        if (Found == NULL || Found == WDKMP_GRT_TOMBSTONE) {
            break;
        }
    }
    if (Found == NULL) {
        Table->Used += 1;
    }
    Table->Count += 1;
    Table->Buckets[Bucket].Hash = Entry->Hash;
    WdkmpStoreLong(&Table->Buckets[Bucket].Counter, WdkmpGrtCounterHint(Entry));
    WdkmpStorePointerRelease((PVOID volatile *)&Table->Buckets[Bucket].Entry, Entry);
}

/*
 * Makes room for one more name: once names and tombstones would fill half
 * the buckets, a new table (the smallest power of two above twice the
 * names, at least the initial size) replaces it, without the tombstones:
 * between a quarter and a half of the buckets hold a name. Readers of the old table are
 * undisturbed; it is freed after a grace period. If the new table cannot
 * be allocated the old one serves on, up to three quarters full (lookups
 * get slower, never wrong); past that the registration fails.
 */
static
NTSTATUS
WdkmpGrtReserveBucket(
    VOID
    )
{
    PWDKMP_GRT_TABLE Old = WdkmpGrt.Table;
    PWDKMP_GRT_TABLE New = NULL;
    PWDKMP_GRT_ENTRY Entry;
    ULONG Buckets = WDKMP_GRT_INITIAL_BUCKETS;
    ULONG Bucket;

    if ((Old->Used + 1) * 2 < Old->Mask + 1) {
        return STATUS_SUCCESS;
    }
    while (Buckets <= (Old->Count + 1) * 2 && Buckets < WDKMP_GRT_MAX_BUCKETS) {
        Buckets *= 2;
    }
    if ((Old->Count + 1) * 2 < Buckets) {
        New = WdkmpGrtAllocateTable(Buckets);
    }
    if (New == NULL) {
        return (Old->Used + 1) * 4 <= (Old->Mask + 1) * 3 ? STATUS_SUCCESS
                                                         : STATUS_INSUFFICIENT_RESOURCES;
    }
    for (Bucket = 0; Bucket <= Old->Mask; Bucket += 1) {
        Entry = Old->Buckets[Bucket].Entry;
        if (Entry != NULL && Entry != WDKMP_GRT_TOMBSTONE) {
            WdkmpGrtInsert(New, Entry);
        }
    }
    WdkmpStorePointerRelease((PVOID volatile *)&WdkmpGrt.Table, New);
    (VOID)WdkmpGrtWaitForReaders(NULL);
    WdkmpGrtFreeTable(Old);
    return STATUS_SUCCESS;
}

/*
 * Empties Bucket (its name is removed, by Unregister or a replacement) and
 * waits until no lookup can still reach the entry. The caller then owns
 * the table's reference.
 */
static
VOID
WdkmpGrtRemove(
    _Inout_ PWDKMP_GRT_TABLE Table,
    _In_ ULONG Bucket,
    _In_opt_ PWDKMP_GRT_ENTRY Replacement
    )
{
    PWDKMP_GRT_ENTRY Entry = Table->Buckets[Bucket].Entry;

    /* The same name in the same bucket: a lookup finds one of the two,
       then only the new one once the grace period is over (a lookup that
       reads the old entry with the new hint only prefetches in vain). */
    if (Replacement != NULL) {
        WdkmpStoreLong(&Table->Buckets[Bucket].Counter, WdkmpGrtCounterHint(Replacement));
    }
    WdkmpStorePointerRelease((PVOID volatile *)&Table->Buckets[Bucket].Entry,
                             Replacement != NULL ? Replacement : WDKMP_GRT_TOMBSTONE);
    if (Replacement == NULL) {
        Table->Count -= 1;
    }
    InterlockedExchange(&Entry->Cold->Unregistered, 1);
    (VOID)WdkmpGrtWaitForReaders(NULL);
}

/*
 * The writer lock: a synchronization event used as a binary semaphore
 * (signalled = free). Not a KMUTEX: Wine 8 does not hand a contended
 * KMUTEX to its waiter while the releasing thread lives, so writers
 * queued behind one another would wait for ever there. Held inside a
 * guarded region, as a FAST_MUTEX is at APC_LEVEL: no kernel APC runs on
 * a writer the others wait for - a normal one could suspend it, and a
 * special one (APC_LEVEL, where registering is allowed) that registers
 * would wait for the writer lock its own thread holds. Unlike a
 * FAST_MUTEX, its wait can time out (Destroy). Deadline NULL waits as long
 * as it takes; FALSE if Deadline passed first. <= APC_LEVEL.
 */
static
BOOLEAN
WdkmpGrtLockWriters(
    _In_opt_ const WDKMP_GRT_DEADLINE *Deadline
    )
{
    LARGE_INTEGER Remaining;
    NTSTATUS Status;

    WdkmpEnterRegion(TRUE);
    if (Deadline == NULL || Deadline->Forever) {
        Status = WdkmpEventWait(&WdkmpGrt.WriterLock, NULL);
    } else {
        Remaining = WdkmpGrtRemaining(Deadline);
        Status = WdkmpEventWait(&WdkmpGrt.WriterLock, &Remaining);
    }
    if (Status != STATUS_SUCCESS) {
        WdkmpLeaveRegion(TRUE);
        return FALSE;
    }
    return TRUE;
}

static
VOID
WdkmpGrtUnlockWriters(
    VOID
    )
{
    WdkmpEventSet(&WdkmpGrt.WriterLock);
    WdkmpLeaveRegion(TRUE);
}

/* The writer lock is made once and kept for the driver's lifetime. */
static
VOID
WdkmpGrtPrepareWriterLock(
    VOID
    )
{
    if (InterlockedCompareExchange(&WdkmpGrt.WriterLockReady, 1, 0) == 0) {
        WdkmpEventInitialize(&WdkmpGrt.WriterLock, TRUE);
        InitializeListHead(&WdkmpGrt.Entries);
        InitializeListHead(&WdkmpGrt.Chunks);
        InterlockedExchange(&WdkmpGrt.WriterLockReady, 2);
    }
    while (WdkmpLoadLongAcquire(&WdkmpGrt.WriterLockReady) != 2) {
        YieldProcessor();
    }
}

/* ------------------------------------------------------------------------
 * Public functions
 */

NTSTATUS
WdkmGrtInitialize(
    VOID
    )
{
    PWDKMP_GRT_TABLE Table;

    if (WdkmpGetIrql() != PASSIVE_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (InterlockedCompareExchange(&WdkmpGrt.State, WDKMP_GRT_INITIALIZING,
                                   WDKMP_GRT_UNINITIALIZED) != WDKMP_GRT_UNINITIALIZED) {
        return STATUS_WDKM_ALREADY_INITIALIZED;
    }
    WdkmpGrtPrepareWriterLock();
    Table = WdkmpGrtAllocateTable(WDKMP_GRT_INITIAL_BUCKETS);
    if (Table == NULL) {
        InterlockedExchange(&WdkmpGrt.State, WDKMP_GRT_UNINITIALIZED);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    WdkmpStorePointerRelease((PVOID volatile *)&WdkmpGrt.Table, Table);
    InterlockedExchange(&WdkmpGrt.State, WDKMP_GRT_READY);
    return STATUS_SUCCESS;
}

/*
 * Register with the value copied from InitialValue, or (Initialize not
 * NULL) set up in place by Initialize before the lock is published; Drain
 * (not NULL) takes it apart when the lock is freed, also when this
 * registration fails after Initialize succeeded.
 */
static
NTSTATUS
WdkmpGrtRegister(
    _In_z_ PCSTR Name,
    _In_opt_ const WDKMP_LOCK_KIND *Descriptor,
    _In_opt_ const VOID *InitialValue,
    _In_opt_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_opt_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID DrainContext,
    _In_ SIZE_T DataSize,
    _In_ ULONG Flags
    )
{
    PWDKMP_GRT_ENTRY Entry;
    PWDKMP_GRT_ENTRY Old;
    PWDKMP_GRT_ENTRY Replaced = NULL;
    BOOLEAN Published = FALSE;
    WDKMP_GRT_KEY Key;
    NTSTATUS Status;
    ULONG Bucket;
    LONG State;

    Status = WdkmpGrtMakeKey(Name, &Key);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    if (Descriptor == NULL || (Flags & ~WDKM_GRT_REPLACE) != 0 ||
        (InitialValue == NULL && Initialize == NULL) ||
        DataSize == 0 || DataSize > WDKM_MAX_DATA_SIZE) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpGrtCheckWriter();
    if (!NT_SUCCESS(Status)) {
        return Status;
    }

    /* Allocate before taking the writer lock, to hold it briefly. */
    Status = WdkmpGrtCreateEntry(&Key, Descriptor, InitialValue, Initialize, Context, Drain,
                                 DrainContext, DataSize, &Entry);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    /* The new lock and its name (Name, and its copy in the entry) are
       both at hand here, before anything is published. Checked builds: the
       lock's class is its name up to a '#' (a table full of live classes
       leaves it a class of one, which takes a place at its first
       acquisition if one is free then). */
    WdkmpDiagSetRegistryClass(WdkmpGrtHeader(Entry), Entry->Cold->Name.Text);

    (VOID)WdkmpGrtLockWriters(NULL);
    State = WdkmpGrtState();
    if (State != WDKMP_GRT_READY) {
        Status = WdkmpGrtStateStatus(State);
    } else {
        Old = WdkmpGrtFind(WdkmpGrt.Table, &Key, &Bucket, WDKMP_GRT_WRITER);
        if (Old != NULL && (Flags & WDKM_GRT_REPLACE) == 0) {
            Status = STATUS_OBJECT_NAME_COLLISION;
        } else if (Old != NULL) {
            WdkmpGrtRemove(WdkmpGrt.Table, Bucket, Entry);
            Replaced = Old;
            Published = TRUE;
        } else {
            Status = WdkmpGrtReserveBucket();
            if (NT_SUCCESS(Status)) {
                WdkmpGrtInsert(WdkmpGrt.Table, Entry);
                Published = TRUE;
            }
        }
    }
    WdkmpGrtUnlockWriters();

    if (!Published) {                   /* no lookup ever saw it */
        WdkmpGrtRetire(Entry);
    }
    if (Replaced != NULL) {
        WdkmpGrtRetire(Replaced);
    }
    return Status;
}

NTSTATUS
WdkmGrtRegisterKind(
    _In_z_ PCSTR Name,
    _In_ const WDKM_KIND_DESCRIPTOR *Descriptor,
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _In_ ULONG Flags
    )
{
    if (InitialValue == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpGrtRegister(Name, Descriptor, InitialValue, NULL, NULL, NULL, NULL, DataSize, Flags);
}

NTSTATUS
WdkmGrtRegisterInPlaceKind(
    _In_z_ PCSTR Name,
    _In_ const WDKM_KIND_DESCRIPTOR *Descriptor,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_ ULONG Flags
    )
{
    if (Initialize == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpGrtRegister(Name, Descriptor, NULL, Initialize, Context, NULL, NULL, DataSize,
                            Flags);
}

NTSTATUS
WdkmGrtRegisterInPlaceDrainedKind(
    _In_z_ PCSTR Name,
    _In_ const WDKM_KIND_DESCRIPTOR *Descriptor,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID DrainContext,
    _In_ ULONG Flags
    )
{
    if (Initialize == NULL || Drain == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpGrtRegister(Name, Descriptor, NULL, Initialize, Context, Drain, DrainContext,
                            DataSize, Flags);
}

NTSTATUS
WdkmGrtReference(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Lock
    )
{
    WDKMP_GRT_SLOT *Slot;
    PWDKMP_GRT_ENTRY Entry;
    WDKMP_GRT_KEY Key;
    NTSTATUS Status;
    ULONG Processor;
    ULONG Shard;
    LONG State;
    BOOLEAN Guarded;
    KIRQL Irql;

    if (Lock == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    *Lock = NULL;
    Status = WdkmpGrtMakeKey(Name, &Key);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    /* A kind or size no lock can have: an argument, judged before the
       IRQL and the registry's state; the answer a lookup gives any kind or
       size other than the lock's. */
    if ((ULONG)Kind < (ULONG)WdkmLockKindKMutex || (ULONG)Kind > (ULONG)WdkmLockKindPushLock ||
        DataSize == 0 || DataSize > WDKM_MAX_DATA_SIZE) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    Irql = WdkmpGetIrql();
    if (Irql > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }

    /* No APC in the reader section (see "Readers take no lock"); at
       APC_LEVEL and above none can be delivered anyway. */
    Guarded = (BOOLEAN)(Irql < APC_LEVEL);
    if (Guarded) {
        WdkmpEnterRegion(TRUE);
    }
    /* Asked once: the slot and the shard of the same processor. */
    Processor = WdkmpCurrentProcessor();
    Shard = WdkmpGrtShardOf(Processor);
    Slot = WdkmpGrtEnterReader(Processor);
    State = WdkmpGrtState();
    if (State != WDKMP_GRT_READY) {
        Status = WdkmpGrtStateStatus(State);
    } else {
        Entry = WdkmpGrtFind(WdkmpGrtCurrentTable(), &Key, NULL, Shard);
        if (Entry == NULL) {
            Status = STATUS_OBJECT_NAME_NOT_FOUND;
        } else if ((ULONG)Entry->Kind != (ULONG)Kind || (SIZE_T)Entry->DataSize != DataSize) {
            Status = STATUS_WDKM_TYPE_MISMATCH;
        } else {
            /* Still registered: the table's reference keeps it alive, and
               its counters and cached references stay open until a grace
               period after its removal. */
            if (!WdkmpGrtCacheCount(Slot, Entry, TRUE)) {
                (VOID)InterlockedIncrement64(WdkmpGrtCounter(Entry, Shard));
            }
            *Lock = WdkmpGrtLockOf(Entry);
        }
    }
    WdkmpGrtLeaveReader(Slot);
    if (Guarded) {
        WdkmpLeaveRegion(TRUE);
    }
    return Status;
}

WDKMP_NOINLINE
PVOID
WdkmGrtReferenceOrBugCheck(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize
    )
{
    PVOID Lock = NULL;
    NTSTATUS Status;
    PCSTR File;
    ULONG Line;

    /* The site the typed macro noted for this name: taken, as an
       acquisition takes its own, so that a later acquisition made without
       one does not find it; a note for an acquisition is not a lookup's. */
    WdkmpDiagTakeLookupSite(Name, &File, &Line);
    Status = WdkmGrtReference(Name, Kind, DataSize, &Lock);
    if (Status != STATUS_SUCCESS) {
        WdkmpCallbackMisuse(Kind, NULL, TRUE, Name, Status, WDKMP_RETURN_ADDRESS(), File, Line);
    }
    return Lock;
}

/*
 * TRUE if the calling thread holds the lock, as far as can be told: its
 * exclusive owner always (but not a DPC or special kernel APC for the hold
 * of the code it interrupted, WdkmpLockHeldHere); below APC_LEVEL, a
 * shared holder of an ERESOURCE always (the kernel counts per thread) and
 * of a push lock while the lock records it by name (its first eight
 * readers at once), and beyond that in the checked build only, whose held
 * records are per thread. At APC_LEVEL and above a shared hold is the
 * interrupted code's: a special kernel APC (APC_LEVEL) or a DPC runs over
 * it, and no shared hold records the IRQL it was taken at. Asked through
 * the lock's own descriptor, so the registry names no lock kind.
 */
static
BOOLEAN
WdkmpGrtHeldByCaller(
    _In_ const WDKMP_LOCK_HEADER *Header
    )
{
    if (WdkmpLockHeldHere(Header)) {
        return TRUE;
    }
    if (WdkmpLoadLong(&Header->SharedHolders) == 0 || WdkmpGetIrql() >= APC_LEVEL) {
        return FALSE;   /* nobody holds it shared, or the code a DPC or APC interrupted */
    }
    if (Header->Kind->HeldSharedByCaller != NULL &&
        Header->Kind->HeldSharedByCaller((PVOID)Header)) {
        return TRUE;
    }
#if WDKM_CHECKED
    /* A push lock's readers beyond the ones it records by name. */
    return WdkmDiagIsHeld(Header);
#else
    return FALSE;
#endif
}

/*
 * Drop a reference. A caller's own (CallerMayHold FALSE) is refused while
 * the calling thread holds the lock. A scoped form's (TRUE) is not: the
 * scope never held the lock, or has just released its own acquisition, and
 * whoever still holds it as the same thread to NT - an outer recursive
 * acquisition, or the thread a DPC interrupted - holds a reference of its
 * own, so this one is never the last of a held lock.
 */
static
NTSTATUS
WdkmpGrtDereference(
    _In_ PVOID Lock,
    _In_ BOOLEAN CallerMayHold
    )
{
    PWDKMP_LOCK_HEADER Header = (PWDKMP_LOCK_HEADER)Lock;
    PWDKMP_GRT_ENTRY Entry;

    /* The signature first: a handle of something else (a cancel-safe
       queue, say) may be smaller than a lock header. */
    if (Header == NULL || !WdkmpLockSignatureKnown(Header->Signature) ||
        Header->RegistryEntry == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    /* The entry is the line before the header (WdkmpLockCreateOwned): a
       header whose entry pointer says otherwise is no registry lock. */
    Entry = WdkmpGrtEntryOf(Header);
    if (Header->RegistryEntry != Entry) {
        return STATUS_INVALID_PARAMETER;
    }
    if (!CallerMayHold && WdkmpGrtHeldByCaller(Header)) {
        return STATUS_WDKM_LOCK_HELD;
    }
    WdkmpGrtDropReference(Entry, WdkmpCurrentProcessor());
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmGrtDereference(
    _In_ PVOID Lock
    )
{
    return WdkmpGrtDereference(Lock, FALSE);
}

NTSTATUS
WdkmGrtUnregister(
    _In_z_ PCSTR Name
    )
{
    PWDKMP_GRT_ENTRY Entry = NULL;
    WDKMP_GRT_KEY Key;
    NTSTATUS Status;
    ULONG Bucket;
    LONG State;

    Status = WdkmpGrtMakeKey(Name, &Key);
    if (NT_SUCCESS(Status)) {
        Status = WdkmpGrtCheckWriter();
    }
    if (!NT_SUCCESS(Status)) {
        return Status;
    }

    (VOID)WdkmpGrtLockWriters(NULL);
    State = WdkmpGrtState();
    if (State != WDKMP_GRT_READY) {
        Status = WdkmpGrtStateStatus(State);
    } else {
        Entry = WdkmpGrtFind(WdkmpGrt.Table, &Key, &Bucket, WDKMP_GRT_WRITER);
        if (Entry == NULL) {
            Status = STATUS_OBJECT_NAME_NOT_FOUND;
        } else {
            WdkmpGrtRemove(WdkmpGrt.Table, Bucket, NULL);
        }
    }
    WdkmpGrtUnlockWriters();

    if (Entry != NULL) {
        WdkmpGrtRetire(Entry);
    }
    return Status;
}

/*
 * Fills *Report with the entries still alive and prints them: registered
 * ones (counted in StillReferenced, StillHeld) and unregistered ones not
 * yet dereferenced (UnregisteredReferenced); Names lists both. An entry is
 * on the list until its lock is freed, and its lock is freed only after it
 * left the list, so every lock read here is alive.
 */
static
VOID
WdkmpGrtReportSurvivors(
    _Inout_ PWDKM_GRT_REPORT Report
    )
{
    PLIST_ENTRY Link;
    PWDKMP_GRT_COLD Cold;
    BOOLEAN Held;
    BOOLEAN Unregistered;
    KIRQL OldIrql;

    OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
    for (Link = WdkmpGrt.Entries.Flink; Link != &WdkmpGrt.Entries; Link = Link->Flink) {
        Cold = CONTAINING_RECORD(Link, WDKMP_GRT_COLD, Link);
        Held = WdkmpLockIsHeld(WdkmpGrtHeader(Cold->Entry));
        Unregistered = (BOOLEAN)(WdkmpLoadLong(&Cold->Unregistered) != 0);
        if (Unregistered) {
            Report->UnregisteredReferenced += 1;
        } else {
            Report->StillReferenced += 1;
            Report->StillHeld += Held ? 1 : 0;
        }
        if (Report->NamesReported < WDKM_GRT_REPORT_NAMES) {
            RtlCopyMemory(Report->Names[Report->NamesReported], Cold->Name.Text,
                          sizeof(Cold->Name.Text));
            Report->Held[Report->NamesReported] = Held;
            Report->NamesReported += 1;
        }
        /* The central count is exact once the entry is retired; before
           (Destroy timed out before it emptied the table) it holds a bias. */
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: registry destroy: \"%s\"%s still referenced (%d)%s\n",
                        Cold->Name.Text, Unregistered ? " (unregistered)" : "",
                        (int)InterlockedExchangeAdd64(&Cold->Central, 0),
                        Held ? ", lock held" : "");
    }
    WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
}

/* Destroy's answer when its deadline passes with entries still alive. */
static
NTSTATUS
WdkmpGrtDestroyTimedOut(
    _Inout_ PWDKM_GRT_REPORT Report,
    _In_ LONG LiveBefore
    )
{
    LONG Live = WdkmpLoadLong(&WdkmpGrt.LiveEntries);

    /* A registration that was under way when Destroy began may have added
       and removed one meanwhile. */
    Report->Freed = LiveBefore > Live ? (ULONG)(LiveBefore - Live) : 0;
    WdkmpGrtReportSurvivors(Report);
    return STATUS_TIMEOUT;
}

NTSTATUS
WdkmGrtDestroy(
    _In_opt_ const LARGE_INTEGER *Timeout,
    _Out_opt_ PWDKM_GRT_REPORT Report
    )
{
    WDKM_GRT_REPORT Local;
    PWDKM_GRT_REPORT Out = Report != NULL ? Report : &Local;
    WDKMP_GRT_DEADLINE Deadline;
    PWDKMP_GRT_TABLE Table;
    PWDKMP_GRT_ENTRY Entry;
    LONG LiveBefore;
    ULONG Bucket;
    LONG State;

    RtlZeroMemory(Out, sizeof(*Out));
    if (WdkmpGetIrql() != PASSIVE_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    WdkmpGrtStartDeadline(Timeout, &Deadline);
    State = InterlockedCompareExchange(&WdkmpGrt.State, WDKMP_GRT_CLOSING, WDKMP_GRT_READY);
    if (State != WDKMP_GRT_READY && State != WDKMP_GRT_CLOSING) {
        return STATUS_WDKM_NOT_INITIALIZED;
    }
    LiveBefore = WdkmpLoadLong(&WdkmpGrt.LiveEntries);

    /* No new lookups; wait out those that saw READY, and a writer still at
       work, then empty the table. No lookup can reach its entries any
       more: retire them all. Every wait ends at the deadline (a call after
       a timeout starts here again). */
    if (!WdkmpGrtWaitForReaders(&Deadline) || !WdkmpGrtLockWriters(&Deadline)) {
        return WdkmpGrtDestroyTimedOut(Out, LiveBefore);
    }
    Table = WdkmpGrt.Table;
    WdkmpStorePointerRelease((PVOID volatile *)&WdkmpGrt.Table, NULL);
    WdkmpGrtUnlockWriters();
    if (Table != NULL) {
        for (Bucket = 0; Bucket <= Table->Mask; Bucket += 1) {
            Entry = Table->Buckets[Bucket].Entry;
            if (Entry != NULL && Entry != WDKMP_GRT_TOMBSTONE) {
                WdkmpGrtRetire(Entry);
            }
        }
        WdkmpGrtFreeTable(Table);
    }

    /* Locks still referenced are freed by their last dereference. */
    WdkmpGrtFreeDeferred();
    while (WdkmpLoadLongAcquire(&WdkmpGrt.LiveEntries) != 0 && !WdkmpGrtPassed(&Deadline)) {
        WdkmpSleepMs(WDKMP_GRT_POLL_MS);
        WdkmpGrtFreeDeferred();
    }
    if (WdkmpLoadLongAcquire(&WdkmpGrt.LiveEntries) != 0) {
        return WdkmpGrtDestroyTimedOut(Out, LiveBefore);
    }
    Out->Freed = (ULONG)LiveBefore;
    InterlockedExchange(&WdkmpGrt.State, WDKMP_GRT_UNINITIALIZED);
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * Scoped form
 */

static
NTSTATUS
WdkmpGrtScopeRelease(
    _Inout_ PWDKM_SCOPE Scope
    )
{
    NTSTATUS Status = WdkmpLockScopeRelease(Scope);

    if (!NT_SUCCESS(Status)) {
        return Status;          /* still held: keep the reference too */
    }
    return WdkmpGrtDereference(Scope->Lock, TRUE);
}

WDKM_SCOPE
WdkmGrtScopeEnter(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    )
{
    const WDKMP_LOCK_KIND *Descriptor;
    KIRQL SavedIrql = PASSIVE_LEVEL;
    PVOID Lock = NULL;
    NTSTATUS Result;
    WDKM_SCOPE Scope;

    if (Status == NULL || Data == NULL) {
        return WdkmpScopeNone(Data);   /* as NULL output pointers are everywhere */
    }
    *Data = NULL;
    /* The kind's code comes from the lock found, never from a table of all
       kinds, so a scoped form links only the kinds the driver registered. */
    if (Kind == WdkmLockKindQueuedSpinLock) {
        Result = STATUS_INVALID_PARAMETER;      /* no scoped form: it needs a handle */
    } else {
        /* A kind that is none of WDKM_LOCK_KIND's is the lookup's to
           answer (STATUS_WDKM_TYPE_MISMATCH), as for WdkmGrtReference. */
        Result = WdkmGrtReference(Name, Kind, DataSize, &Lock);
    }
    if (Result == STATUS_SUCCESS) {
        Descriptor = ((PWDKMP_LOCK_HEADER)Lock)->Kind;
        Result = Descriptor->Acquire(Lock, DataSize, Data, &SavedIrql);
        if (Result != STATUS_SUCCESS) {
            (VOID)WdkmpGrtDereference(Lock, TRUE);
        }
    }
    Scope = WdkmpScopeResult(Lock, WdkmpGrtScopeRelease, Result, Status);
    Scope.SavedIrql = SavedIrql;
    return Scope;
}
