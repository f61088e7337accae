/*
 * test_grt_cache.c - the registry's per-processor reference caches (see
 * "References are cached in the reader slot" in src/wdkm_grt.c), attacked
 * from outside: references taken and dropped on different processors,
 * more of them than a cache holds, entries whose cache words collide,
 * names removed while their references sit in the caches of many
 * processors, DPC-level lookups nested in a thread's, threads sharing a
 * processor's cache, and keys reused over many cycles. Every check is on
 * what a driver sees: an entry is freed exactly when its last reference
 * goes (its pool block, counted), and Destroy's report.
 */
#include "wdkm_test.h"

#include <stdio.h>
#include <string.h>

typedef struct _COUNTER {
    LONG Value;
    LONG Spare;
} COUNTER;

static const COUNTER Zero = { 0, 0 };

static BOOLEAN
DestroyClean(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(1000);
    return WdkmGrtDestroy(&Timeout, &Report) == STATUS_SUCCESS && Report.StillReferenced == 0 &&
           Report.UnregisteredReferenced == 0;
}

static NTSTATUS
Get(PCSTR Name, PVOID *Lock)
{
    return WdkmGrtReference(Name, WdkmLockKindFastMutex, sizeof(COUNTER), Lock);
}

static VOID
NameOf(char *Name, size_t Size, PCSTR Prefix, ULONG Index)
{
    snprintf(Name, Size, "%s%lu", Prefix, (unsigned long)Index);
}

/* ---------------------------------------------------------------------- */

/*
 * 40 names (three counter chunks, so equal columns in different chunks),
 * four references each, taken on processors 0, 3, 100 and 200 (cache
 * slots 0, 3, 36 and 8: past the 16 counter shards, 100 and 200 share a
 * shard with others) and dropped on others. 40 names on 7 words per
 * processor: most words are wanted by several names with references out
 * at once. Every name is unregistered (some replaced first) while all its
 * references are out; each entry must then be freed by its last
 * dereference and not before.
 */
#define SPREAD_NAMES 40
#define SPREAD_REFS  4

static const LONG TakeOn[SPREAD_REFS] = { 0, 3, 100, 200 };
static const LONG DropOn[SPREAD_REFS] = { 3, 71, 0, 9 };

static VOID
ReferencesSpreadOverProcessors(BOOLEAN Replace)
{
    PVOID Locks[SPREAD_NAMES][SPREAD_REFS];
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;
    char Name[32];
    LONG Blocks;
    LONG Now;
    ULONG Index;
    ULONG Ref;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < SPREAD_NAMES; Index += 1) {
        NameOf(Name, sizeof(Name), "spread-", Index);
        CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX(Name, &Zero), STATUS_SUCCESS);
    }
    for (Ref = 0; Ref < SPREAD_REFS; Ref += 1) {
        for (Index = 0; Index < SPREAD_NAMES; Index += 1) {
            NameOf(Name, sizeof(Name), "spread-", Index);
            WdkmHostSetCurrentProcessor(TakeOn[(Ref + Index) % SPREAD_REFS]);
            CHECK_STATUS(Get(Name, &Locks[Index][Ref]), STATUS_SUCCESS);
        }
    }
    WdkmHostSetCurrentProcessor(-1);

    /* Replaced: the old entries go (with their references out), new ones
       come; then every name is unregistered. */
    if (Replace) {
        for (Index = 0; Index < SPREAD_NAMES; Index += 2) {
            NameOf(Name, sizeof(Name), "spread-", Index);
            CHECK_STATUS(WDKM_GRT_REPLACE_FAST_MUTEX(Name, &Zero), STATUS_SUCCESS);
        }
    }
    Blocks = WdkmTestPoolOutstanding();
    for (Index = 0; Index < SPREAD_NAMES; Index += 1) {
        NameOf(Name, sizeof(Name), "spread-", Index);
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
    }
    if (!Replace) {
        /* Nothing freed, not even a chunk: all have entries referenced. */
        CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);
    }
    /* Every old entry is alive, and Destroy says so. */
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(10);
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(Report.UnregisteredReferenced, SPREAD_NAMES);

    for (Index = 0; Index < SPREAD_NAMES; Index += 1) {
        for (Ref = 0; Ref < SPREAD_REFS; Ref += 1) {
            Blocks = WdkmTestPoolOutstanding();
            WdkmHostSetCurrentProcessor(DropOn[(Ref + Index) % SPREAD_REFS]);
            CHECK_STATUS(WdkmGrtDereference(Locks[Index][Ref]), STATUS_SUCCESS);
            WdkmHostSetCurrentProcessor(-1);
            Now = WdkmTestPoolOutstanding();
            if (Ref + 1 < SPREAD_REFS) {
                CHECK_EQ(Now, Blocks);              /* references left: still there */
            } else {
                CHECK(Now == Blocks - 1 || Now == Blocks - 2);  /* freed, maybe its chunk too */
            }
        }
    }
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_SUCCESS);
}

static VOID
ReferencesSpreadThenUnregistered(VOID)
{
    ReferencesSpreadOverProcessors(FALSE);
}

static VOID
ReferencesSpreadThenReplaced(VOID)
{
    ReferencesSpreadOverProcessors(TRUE);
}

/*
 * More references to one name on one processor than a cache has words,
 * and to names on one processor than it has words, all dropped on another
 * processor after Destroy has started: Destroy's report names what is
 * still referenced, and the entries go with their last references.
 */
#define MANY_NAMES 24
#define MANY_REFS  50

static VOID
DestroyWithReferencesInCaches(VOID)
{
    PVOID Many[MANY_REFS];
    PVOID Each[MANY_NAMES];
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;
    char Name[32];
    ULONG Index;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < MANY_NAMES; Index += 1) {
        NameOf(Name, sizeof(Name), "many-", Index);
        CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX(Name, &Zero), STATUS_SUCCESS);
    }
    WdkmHostSetCurrentProcessor(5);
    for (Index = 0; Index < MANY_REFS; Index += 1) {
        CHECK_STATUS(Get("many-7", &Many[Index]), STATUS_SUCCESS);
    }
    for (Index = 0; Index < MANY_NAMES; Index += 1) {
        NameOf(Name, sizeof(Name), "many-", Index);
        CHECK_STATUS(Get(Name, &Each[Index]), STATUS_SUCCESS);
    }
    WdkmHostSetCurrentProcessor(-1);
    CHECK_STATUS(WdkmGrtUnregister("many-3"), STATUS_SUCCESS);

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(20);
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.StillReferenced, MANY_NAMES - 1);
    CHECK_EQ(Report.UnregisteredReferenced, 1);

    /* All but the last: still every entry alive. */
    WdkmHostSetCurrentProcessor(6);
    for (Index = 1; Index < MANY_REFS; Index += 1) {
        CHECK_STATUS(WdkmGrtDereference(Many[Index]), STATUS_SUCCESS);
    }
    for (Index = 1; Index < MANY_NAMES; Index += 1) {
        CHECK_STATUS(WdkmGrtDereference(Each[Index]), STATUS_SUCCESS);
    }
    WdkmHostSetCurrentProcessor(-1);
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.StillReferenced, 2);        /* many-0 and many-7 */
    CHECK_EQ(Report.UnregisteredReferenced, 0);

    WdkmHostSetCurrentProcessor(5);
    CHECK_STATUS(WdkmGrtDereference(Many[0]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Each[0]), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(-1);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_SUCCESS);
}

/*
 * A DPC interrupts a thread that has references out on the same
 * processor (modelled by raising the thread itself to DISPATCH_LEVEL): it
 * looks up the same name and others, keeps one reference and drops the
 * rest; the thread drops what the DPC kept, and the other way round.
 */
static VOID
DpcLookupsNestInTheCache(VOID)
{
    PVOID Outer[3];
    PVOID Inner[12];
    char Name[32];
    LONG Blocks;
    ULONG Index;
    KIRQL OldIrql;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < 12; Index += 1) {
        NameOf(Name, sizeof(Name), "dpc-", Index);
        CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX(Name, &Zero), STATUS_SUCCESS);
    }
    WdkmHostSetCurrentProcessor(2);
    CHECK_STATUS(Get("dpc-0", &Outer[0]), STATUS_SUCCESS);
    CHECK_STATUS(Get("dpc-7", &Outer[1]), STATUS_SUCCESS);
    CHECK_STATUS(Get("dpc-0", &Outer[2]), STATUS_SUCCESS);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    for (Index = 0; Index < 12; Index += 1) {
        NameOf(Name, sizeof(Name), "dpc-", Index);
        CHECK_STATUS(Get(Name, &Inner[Index]), STATUS_SUCCESS);
    }
    for (Index = 1; Index < 12; Index += 1) {
        CHECK_STATUS(WdkmGrtDereference(Inner[Index]), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtDereference(Outer[1]), STATUS_SUCCESS);    /* the thread's */
    KeLowerIrql(OldIrql);
    WdkmHostSetCurrentProcessor(-1);

    Blocks = WdkmTestPoolOutstanding();
    CHECK_STATUS(WdkmGrtUnregister("dpc-0"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("dpc-7"), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks - 1);                /* dpc-7: none left */

    WdkmHostSetCurrentProcessor(2);
    CHECK_STATUS(WdkmGrtDereference(Outer[0]), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmGrtDereference(Inner[0]), STATUS_SUCCESS);    /* the DPC's */
    KeLowerIrql(OldIrql);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks - 1);                /* one left */
    WdkmHostSetCurrentProcessor(4);
    CHECK_STATUS(WdkmGrtDereference(Outer[2]), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(-1);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks - 2);
    CHECK(DestroyClean());
}

/*
 * Keys are reused: one name registered, referenced on many processors
 * (more references than words), unregistered with references out and
 * registered again, many times over, while other names come and go
 * (columns and chunks freed and taken again). Every entry is freed by its
 * last dereference, never before.
 */
#define CYCLE_ROUNDS 300
#define CYCLE_REFS   12

static VOID
KeysReusedOverManyCycles(VOID)
{
    PVOID Old[CYCLE_REFS];
    PVOID New[CYCLE_REFS];
    char Name[32];
    LONG Empty;
    LONG Blocks;
    LONG Now;
    ULONG Round;
    ULONG Index;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Empty = WdkmTestPoolOutstanding();
    for (Round = 0; Round < CYCLE_ROUNDS; Round += 1) {
        /* Fillers take and give back columns, and whole chunks. */
        for (Index = 0; Index < Round % 20; Index += 1) {
            NameOf(Name, sizeof(Name), "filler-", Index);
            CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX(Name, &Zero), STATUS_SUCCESS);
        }
        CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("cycle", &Zero), STATUS_SUCCESS);
        for (Index = 0; Index < CYCLE_REFS; Index += 1) {
            WdkmHostSetCurrentProcessor((LONG)((Round + Index) % 3));
            CHECK_STATUS(Get("cycle", &Old[Index]), STATUS_SUCCESS);
        }
        WdkmHostSetCurrentProcessor(-1);
        for (Index = 0; Index < Round % 20; Index += 1) {
            NameOf(Name, sizeof(Name), "filler-", Index);
            CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
        }
        /* The name again, while the old entry's references are out. */
        CHECK_STATUS(WDKM_GRT_REPLACE_FAST_MUTEX("cycle", &Zero), STATUS_SUCCESS);
        for (Index = 0; Index < CYCLE_REFS; Index += 1) {
            WdkmHostSetCurrentProcessor((LONG)((Round + Index + 1) % 3));
            CHECK_STATUS(Get("cycle", &New[Index]), STATUS_SUCCESS);
        }
        /* The old ones dropped on other processors: freed with the last. */
        for (Index = 0; Index < CYCLE_REFS; Index += 1) {
            Blocks = WdkmTestPoolOutstanding();
            WdkmHostSetCurrentProcessor((LONG)((Round + 2 * Index) % 4));
            CHECK_STATUS(WdkmGrtDereference(Old[Index]), STATUS_SUCCESS);
            Now = WdkmTestPoolOutstanding();
            if (Index + 1 < CYCLE_REFS) {
                CHECK_EQ(Now, Blocks);
            } else {
                CHECK_EQ(Now, Blocks - 1);
            }
        }
        CHECK_STATUS(WdkmGrtUnregister("cycle"), STATUS_SUCCESS);
        for (Index = 0; Index < CYCLE_REFS; Index += 1) {
            Blocks = WdkmTestPoolOutstanding();
            WdkmHostSetCurrentProcessor((LONG)((Round + Index) % 5));
            CHECK_STATUS(WdkmGrtDereference(New[Index]), STATUS_SUCCESS);
            Now = WdkmTestPoolOutstanding();
            if (Index + 1 < CYCLE_REFS) {
                CHECK_EQ(Now, Blocks);
            } else {
                CHECK(Now == Blocks - 1 || Now == Blocks - 2);
            }
        }
        WdkmHostSetCurrentProcessor(-1);
        CHECK_EQ(WdkmTestPoolOutstanding(), Empty);
        if (WdkmTestPoolOutstanding() != Empty) {
            break;
        }
    }
    CHECK(DestroyClean());
}

/*
 * Threads that all say they run on processor 7 (a thread moved between
 * asking its processor and counting, or a DPC on it) race on its cache
 * words: looking up, holding a few references, dropping them on 7 or on
 * 8, while the main thread replaces and unregisters the names. Every
 * reference must be counted once: at the end every entry is freed and
 * nothing is reported. With injected interrupts (WDKM_HOST_INTERRUPTS,
 * scripts/run-interrupts.sh) DPCs also look up the spin locks registered
 * under the action set's names, on the interrupted worker's processor 7,
 * between a worker's read of a word and its compare-exchange.
 */
static const PCSTR ActionSetNames[] = { "k", "x", "a", "j", "f", "p" };
static const LONG LongZero = 0;
#define SHARE_THREADS 4
#define SHARE_NAMES   20
#define SHARE_HELD    10

typedef struct _SHARE_RACE {
    LONG volatile Stop;
    LONG volatile Failures;
} SHARE_RACE;

static VOID
ShareWorker(PVOID Context, ULONG Thread)
{
    SHARE_RACE *Race = (SHARE_RACE *)Context;
    PVOID Held[SHARE_HELD];
    ULONG Count = 0;
    ULONG Seed = 12345 + Thread * 7919;
    char Name[32];
    NTSTATUS Status;

    while (__atomic_load_n(&Race->Stop, __ATOMIC_ACQUIRE) == 0) {
        Seed = Seed * 1103515245 + 12345;
        WdkmHostSetCurrentProcessor(7);
        if (Count < SHARE_HELD && ((Seed >> 16) & 3) != 0) {
            NameOf(Name, sizeof(Name), "share-", (Seed >> 8) % SHARE_NAMES);
            Status = Get(Name, &Held[Count]);
            if (Status == STATUS_SUCCESS) {
                Count += 1;
            } else if (Status != STATUS_OBJECT_NAME_NOT_FOUND) {
                InterlockedIncrement(&Race->Failures);
            }
        } else if (Count > 0) {
            WdkmHostSetCurrentProcessor(7 + (LONG)((Seed >> 20) & 1));
            Count -= 1;
            if (WdkmGrtDereference(Held[Count]) != STATUS_SUCCESS) {
                InterlockedIncrement(&Race->Failures);
            }
        }
    }
    while (Count > 0) {
        Count -= 1;
        if (WdkmGrtDereference(Held[Count]) != STATUS_SUCCESS) {
            InterlockedIncrement(&Race->Failures);
        }
    }
    WdkmHostSetCurrentProcessor(-1);
}

static VOID
ThreadsSharingAProcessorRaceItsCache(VOID)
{
    WDKM_TEST_THREAD *Threads[SHARE_THREADS];
    SHARE_RACE Race;
    char Name[32];
    LONG Empty;
    ULONG Round;
    ULONG Index;

    memset(&Race, 0, sizeof(Race));
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Empty = WdkmTestPoolOutstanding();
    for (Index = 0; Index < SHARE_NAMES; Index += 1) {
        NameOf(Name, sizeof(Name), "share-", Index);
        CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX(Name, &Zero), STATUS_SUCCESS);
    }
    for (Index = 0; Index < sizeof(ActionSetNames) / sizeof(ActionSetNames[0]); Index += 1) {
        CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK(ActionSetNames[Index], &LongZero),
                     STATUS_SUCCESS);
    }
    for (Index = 0; Index < SHARE_THREADS; Index += 1) {
        Threads[Index] = WdkmTestStartThread(ShareWorker, &Race);
        CHECK(Threads[Index] != NULL);
    }
    for (Round = 0; Round < 200; Round += 1) {
        NameOf(Name, sizeof(Name), "share-", (Round * 7) % SHARE_NAMES);
        if (Round % 3 == 0) {
            CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
            CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX(Name, &Zero), STATUS_SUCCESS);
        } else {
            CHECK_STATUS(WDKM_GRT_REPLACE_FAST_MUTEX(Name, &Zero), STATUS_SUCCESS);
        }
        if (Round % 16 == 0) {
            WdkmTestSleepMs(1);
        }
    }
    __atomic_store_n(&Race.Stop, 1, __ATOMIC_RELEASE);
    for (Index = 0; Index < SHARE_THREADS; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    CHECK_EQ(Race.Failures, 0);
    for (Index = 0; Index < SHARE_NAMES; Index += 1) {
        NameOf(Name, sizeof(Name), "share-", Index);
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
    }
    for (Index = 0; Index < sizeof(ActionSetNames) / sizeof(ActionSetNames[0]); Index += 1) {
        CHECK_STATUS(WdkmGrtUnregister(ActionSetNames[Index]), STATUS_SUCCESS);
    }
    CHECK_EQ(WdkmTestPoolOutstanding(), Empty);
    CHECK(DestroyClean());
}

/*
 * Lookups racing retirement through the reader slots and their reference
 * caches (src/wdkm_grt.c, "Readers take no lock" and "References are
 * cached in the reader slot"). Attacked: two workers that both say they
 * run on processors 3 and 4 (so they share slots and cache words, as a
 * thread that moved does) look up 8 spin locks (most of a slot's words),
 * hold up to four references, read each lock's value under it and drop
 * them on either processor, while the main thread unregisters, registers
 * and replaces the names as fast as it can (grace periods and sweeps) and
 * injected DPCs on the workers look names up themselves and stall inside
 * the worker's reader section (the interrupted lookup's window stays open
 * for microseconds). Every value read must be alive, every dereference
 * accepted; at the end every entry is freed and Destroy finds nothing.
 * Written for a protocol in which one compare-exchange both counted the
 * reference and left the section (tried on issue 17, not kept,
 * bench/README.md); there it failed for a lookup that left before it
 * counted, a grace period that watched one word per slot and a sweep that
 * dropped a word's readers; it holds the protocol as built to the same.
 */
#define WORDS_NAMES   8
#define WORDS_WORKERS 2
#define WORDS_HELD    4
#define WORDS_LIVE    0x4C495645

typedef struct _WORDS_RACE {
    LONG volatile Stop;
    LONG volatile Failures;
    LONG volatile LastFailure;
    LONG volatile Lookups;
    LONG volatile DpcLookups;
} WORDS_RACE;

static WORDS_RACE WordsRace;
static const LONG WordsLive = WORDS_LIVE;

static VOID
WordsFailed(NTSTATUS Status)
{
    InterlockedIncrement(&WordsRace.Failures);
    InterlockedExchange(&WordsRace.LastFailure, Status);
}

/* Looks Name up; reads the value under the lock; FALSE if not found. */
static BOOLEAN
WordsLookUp(PCSTR Name, PVOID *Lock)
{
    NTSTATUS Status = WDKM_GRT_GET_SPIN_LOCK(Name, LONG, Lock);
    LONG *Value = NULL;
    KIRQL OldIrql;

    if (Status != STATUS_SUCCESS) {
        if (Status != STATUS_OBJECT_NAME_NOT_FOUND) {
            WordsFailed(Status);
        }
        return FALSE;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE((PWDKM_SPIN_LOCK)*Lock, &OldIrql, &Value);
    if (Status != STATUS_SUCCESS) {
        WordsFailed(Status);
    } else {
        if (*Value != WORDS_LIVE) {
            WordsFailed(STATUS_INTERNAL_ERROR);     /* a freed lock's poisoned value */
        }
        (VOID)WdkmSpinLockRelease((PWDKM_SPIN_LOCK)*Lock, OldIrql);
    }
    return TRUE;
}

static VOID
WordsDrop(PVOID Lock)
{
    NTSTATUS Status = WdkmGrtDereference(Lock);

    if (Status != STATUS_SUCCESS) {
        WordsFailed(Status);
    }
}

/* The DPC: a lookup of its own, nested in the worker's section if it
   landed in one, then a stall there. */
static VOID
WordsDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    char Name[32];
    PVOID Lock;

    UNREFERENCED_PARAMETER(Context);
    if (Kind != WdkmHostInterruptDpc) {
        return;
    }
    NameOf(Name, sizeof(Name), "words-", (ULONG)(Random % WORDS_NAMES));
    if (WordsLookUp(Name, &Lock)) {
        WordsDrop(Lock);
    }
    InterlockedIncrement(&WordsRace.DpcLookups);
    KeStallExecutionProcessor(1 + (ULONG)((Random >> 8) % 20));
}

static VOID
WordsWorker(PVOID Context, ULONG Thread)
{
    PVOID Held[WORDS_HELD];
    ULONG Count = 0;
    ULONG Seed = 777 + Thread * 104729;
    char Name[32];

    UNREFERENCED_PARAMETER(Context);
    while (__atomic_load_n(&WordsRace.Stop, __ATOMIC_ACQUIRE) == 0) {
        Seed = Seed * 1103515245 + 12345;
        WdkmHostSetCurrentProcessor(3 + (LONG)((Seed >> 24) & 1));
        if (Count < WORDS_HELD && ((Seed >> 16) & 1) != 0) {
            NameOf(Name, sizeof(Name), "words-", (Seed >> 8) % WORDS_NAMES);
            if (WordsLookUp(Name, &Held[Count])) {
                Count += 1;
            }
            InterlockedIncrement(&WordsRace.Lookups);
        } else if (Count > 0) {
            WdkmHostSetCurrentProcessor(3 + (LONG)((Seed >> 20) & 1));
            Count -= 1;
            WordsDrop(Held[Count]);
        }
    }
    while (Count > 0) {
        Count -= 1;
        WordsDrop(Held[Count]);
    }
    WdkmHostSetCurrentProcessor(-1);
}

static VOID
LookupsInEveryWordRaceRetirement(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_HOST_INTERRUPT_SETTINGS Previous;
    WDKM_TEST_THREAD *Threads[WORDS_WORKERS];
    BOOLEAN WasActive;
    LONGLONG End;
    char Name[32];
    LONG Empty;
    ULONG Round;
    ULONG Index;
    NTSTATUS Status;

    memset((void *)&WordsRace, 0, sizeof(WordsRace));
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Empty = WdkmTestPoolOutstanding();
    for (Index = 0; Index < WORDS_NAMES; Index += 1) {
        NameOf(Name, sizeof(Name), "words-", Index);
        CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK(Name, &WordsLive), STATUS_SUCCESS);
    }
    WasActive = WdkmHostInterruptsActive(&Previous);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 1717;
    Settings.MeanIntervalMicroseconds = 20;
    Settings.DpcWeight = 1;
    Settings.Routine = WordsDpc;
    for (Index = 0; Index < WORDS_WORKERS; Index += 1) {
        Threads[Index] = WdkmTestStartThread(WordsWorker, NULL);
        CHECK(Threads[Index] != NULL);
    }
    WdkmHostInterruptsStart(&Settings);
    /* The workers going first (a loaded machine may start them late), then
       two seconds of retirements, or until something fails. */
    End = WdkmTestDeadlineMs(5000);
    while (__atomic_load_n(&WordsRace.Lookups, __ATOMIC_RELAXED) < 1000 &&
           WdkmTestNowMs() < End) {
        WdkmTestSleepMs(1);
    }
    End = WdkmTestNowMs() + 2000;
    for (Round = 0;
         WdkmTestNowMs() < End && __atomic_load_n(&WordsRace.Failures, __ATOMIC_RELAXED) == 0;
         Round += 1) {
        NameOf(Name, sizeof(Name), "words-", (Round * 5) % WORDS_NAMES);
        if (Round % 2 == 0) {
            Status = WdkmGrtUnregister(Name);
            if (Status == STATUS_SUCCESS) {
                Status = WDKM_GRT_REGISTER_SPIN_LOCK(Name, &WordsLive);
            }
        } else {
            Status = WDKM_GRT_REPLACE_SPIN_LOCK(Name, &WordsLive);
        }
        if (Status != STATUS_SUCCESS) {
            WordsFailed(Status);
        }
    }
    WdkmHostInterruptsStop();
    if (WasActive) {
        WdkmHostInterruptsStart(&Previous);
    }
    __atomic_store_n(&WordsRace.Stop, 1, __ATOMIC_RELEASE);
    for (Index = 0; Index < WORDS_WORKERS; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    printf("  %lu retirements, %ld lookups, %ld in DPCs, %ld failures (last %s)\n",
           (unsigned long)Round, (long)WordsRace.Lookups, (long)WordsRace.DpcLookups,
           (long)WordsRace.Failures, WdkmStatusName(WordsRace.LastFailure));
    CHECK_EQ(WordsRace.Failures, 0);
    CHECK(WordsRace.Lookups > 0);
    CHECK(WordsRace.DpcLookups > 0);
    for (Index = 0; Index < WORDS_NAMES; Index += 1) {
        NameOf(Name, sizeof(Name), "words-", Index);
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
    }
    CHECK_EQ(WdkmTestPoolOutstanding(), Empty);
    CHECK(DestroyClean());
}

static const WDKM_TEST_CASE GrtCacheCases[] = {
    { "references_spread_then_unregistered", ReferencesSpreadThenUnregistered },
    { "references_spread_then_replaced", ReferencesSpreadThenReplaced },
    { "destroy_with_references_in_caches", DestroyWithReferencesInCaches },
    { "dpc_lookups_nest_in_the_cache", DpcLookupsNestInTheCache },
    { "keys_reused_over_many_cycles", KeysReusedOverManyCycles },
    { "threads_sharing_a_processor_race_its_cache", ThreadsSharingAProcessorRaceItsCache },
    { "lookups_in_every_word_race_retirement", LookupsInEveryWordRaceRetirement },
};

/* A test that failed half-way leaves the registry up: take it down. */
static VOID
DestroyLeftovers(VOID)
{
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(100);
    KeLowerIrql(PASSIVE_LEVEL);
    WdkmHostSetCurrentProcessor(-1);
    (VOID)WdkmGrtDestroy(&Timeout, NULL);
}

const WDKM_TEST_SUITE WdkmGrtCacheSuite =
    WDKM_TEST_SUITE_WITH_CLEANUP("grt_cache", GrtCacheCases, DestroyLeftovers);
