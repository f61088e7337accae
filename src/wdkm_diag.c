/*
 * wdkm_diag.c - the checked build's validator: lock classes, the recorded
 * lock order and its cycles, per-thread held locks, context checks,
 * contention statistics, and the leak check (wdkm_diag.h).
 *
 * Design, after Linux's lockdep:
 *   - Order is kept between classes as a bit matrix: bit (A, B) says "B was
 *     acquired while A was held". Acquiring B while holding A first tests
 *     the bit without a lock (bits are only ever set); only a new pair takes
 *     the validator's spin lock, searches the matrix for a path B ->* A (a
 *     cycle, reported with the sites remembered for each pair), and sets it.
 *   - Each thread's held locks live in a record of a fixed table, claimed
 *     by the thread on its first acquisition and parked when it holds
 *     nothing: kept for its next acquisition, but free for another thread
 *     to take when the table has no free slot. Only the owning thread
 *     writes its record.
 *   - Everything is static and bounded (wdkm_config.h): nothing here
 *     allocates, so no allocation failure can reach a lock; a full table
 *     means "untracked", reported once.
 *
 * A DPC runs on the stack of the thread it interrupted and is attributed to
 * that thread's record. It can only interrupt below DISPATCH_LEVEL, where
 * the thread holds waiting locks only, so the orders it adds (a waiting
 * lock before a spin lock) can never close a cycle; and it leaves the
 * record as it found it (it never gives a record back at DISPATCH_LEVEL).
 */
#include "wdkm_internal.h"

#if WDKM_CHECKED

#define WDKMP_DIAG_WORDS         ((WDKM_DIAG_MAX_CLASSES + 31) / 32)
#define WDKMP_DIAG_PROBES        8     /* slots a thread may use in the record table */
#define WDKMP_DIAG_SITES         64    /* pending-site slots */
#define WDKMP_DIAG_KEPT          16    /* violations kept for WdkmDiagQueryViolations */

#if defined(_MSC_VER)
#define WDKMP_U64 "I64u"
#else
#define WDKMP_U64 "llu"
#endif

typedef struct _WDKMP_DIAG_CLASS {
    CHAR Name[WDKM_DIAG_NAME_LENGTH];
    BOOLEAN InUse;
    BOOLEAN Anonymous;               /* a class of one lock, freed with it */
    WDKM_LOCK_KIND Kind;
    LONG Locks;                      /* live locks in it */
    /* The figures of locks that left it (destroyed, renamed). Its live
       locks' figures are added when the class is queried, so that an
       acquisition updates its own lock's figures only. */
    WDKMP_DIAG_FIGURES Retired;
} WDKMP_DIAG_CLASS;

/* Where a pair was first seen: From held (acquired at From*), To acquired. */
typedef struct _WDKMP_DIAG_EDGE {
    BOOLEAN InUse;
    LONG From;
    LONG To;
    PCSTR FromFile;
    ULONG FromLine;
    PCSTR ToFile;
    ULONG ToLine;
} WDKMP_DIAG_EDGE;

typedef struct _WDKMP_DIAG_HELD {
    PWDKMP_LOCK_HEADER Lock;
    LONG Class;
    ULONG Flags;                     /* WDKMP_DIAG_*, WDKMP_DIAG_TIMED */
    PCSTR File;
    ULONG Line;
    ULONG64 AcquiredAt;              /* with WDKMP_DIAG_TIMED */
} WDKMP_DIAG_HELD;

/* A hold whose length is measured (policy WDKM_DIAG_TIME_HOLDS). */
#define WDKMP_DIAG_TIMED 0x100

typedef struct _WDKMP_DIAG_THREAD {
    PVOID volatile Thread;           /* the owner; NULL: free */
    ULONG Depth;                     /* valid entries in Held */
    ULONG Lost;                      /* holds that did not fit in Held */
    LONG Regions;                    /* regions entered and not left */
    WDKMP_DIAG_HELD Held[WDKM_DIAG_MAX_HELD];
} WDKMP_DIAG_THREAD, *PWDKMP_DIAG_THREAD;

/*
 * The site the next acquisition of Lock by Thread is made from. Line is
 * kept pointer-sized so that the pointer acquire/release helpers order it
 * with the other fields (WdkmDiagNoteSite, WdkmpDiagTakeSite).
 */
typedef struct _WDKMP_DIAG_SITE {
    PVOID volatile Thread;
    PVOID volatile Lock;
    PVOID volatile File;
    PVOID volatile Line;
} WDKMP_DIAG_SITE;

typedef struct _WDKMP_DIAG_STATE {
    WDKMP_SPIN_LOCK Lock;            /* classes, matrix, edges, live list, kept violations */
    LONG volatile Policy;
    LONG volatile OrderViolations;
    LONG volatile ContextViolations;
    LONG volatile AssertFailures;
    LONG volatile Untracked;
    LONG volatile Violations;        /* all reported; the first WDKMP_DIAG_KEPT are kept */
    LONG volatile Warned;            /* WDKMP_DIAG_WARNED_* bits: each said once */
    ULONG LiveLocks;
    PWDKMP_LOCK_HEADER Live;         /* every lock not destroyed */
    WDKMP_DIAG_CLASS Classes[WDKM_DIAG_MAX_CLASSES];
    LONG volatile Order[WDKM_DIAG_MAX_CLASSES][WDKMP_DIAG_WORDS];
    LONG Reported[WDKM_DIAG_MAX_CLASSES][WDKMP_DIAG_WORDS];
    WDKMP_DIAG_EDGE Edges[WDKM_DIAG_MAX_EDGES];
    WDKM_DIAG_VIOLATION Kept[WDKMP_DIAG_KEPT];
    /* The statistics query's scratch, under Lock: each class's figures. */
    WDKMP_DIAG_FIGURES Totals[WDKM_DIAG_MAX_CLASSES];
    /* The cycle search's scratch, under Lock. */
    LONG Visited[WDKMP_DIAG_WORDS];
    LONG Parent[WDKM_DIAG_MAX_CLASSES];
    LONG Queue[WDKM_DIAG_MAX_CLASSES];
} WDKMP_DIAG_STATE;

#define WDKMP_DIAG_WARNED_CLASSES 0x1
#define WDKMP_DIAG_WARNED_THREADS 0x2
#define WDKMP_DIAG_WARNED_EDGES   0x4
#define WDKMP_DIAG_WARNED_HELD    0x8

static WDKMP_DIAG_STATE WdkmpDiag;
static WDKMP_DIAG_THREAD WdkmpDiagThreads[WDKM_DIAG_MAX_THREADS];
static WDKMP_DIAG_SITE WdkmpDiagSites[WDKMP_DIAG_SITES];

static const PCSTR WdkmpDiagKindNames[] = {
    "?", "KMUTEX", "FAST_MUTEX", "SPIN_LOCK", "QUEUED_SPIN_LOCK", "GUARDED_MUTEX",
    "ERESOURCE", "PUSH_LOCK"
};

/* ------------------------------------------------------------------------
 * Small helpers: no C library in a kernel driver we may rely on.
 */

static
PCSTR
WdkmpDiagKindName(
    _In_ WDKM_LOCK_KIND Kind
    )
{
    ULONG Index = (ULONG)Kind;

    return Index < sizeof(WdkmpDiagKindNames) / sizeof(WdkmpDiagKindNames[0])
               ? WdkmpDiagKindNames[Index] : "?";
}

static
BOOLEAN
WdkmpDiagNameEqual(
    _In_z_ PCSTR Left,
    _In_z_ PCSTR Right
    )
{
    ULONG Index;

    for (Index = 0; Index < WDKM_DIAG_NAME_LENGTH - 1; Index += 1) {
        if (Left[Index] != Right[Index]) {
            return FALSE;
        }
        if (Left[Index] == '\0') {
            return TRUE;
        }
    }
    return TRUE;    /* equal as far as a class name is kept */
}

/* Appends Text to Buffer[*Length ..], truncating at the name length. */
static
VOID
WdkmpDiagAppend(
    _Inout_ PCHAR Buffer,
    _Inout_ PULONG Length,
    _In_z_ PCSTR Text
    )
{
    while (*Text != '\0' && *Length < WDKM_DIAG_NAME_LENGTH - 1) {
        Buffer[*Length] = *Text;
        *Length += 1;
        Text += 1;
    }
    Buffer[*Length] = '\0';
}

static
VOID
WdkmpDiagAppendNumber(
    _Inout_ PCHAR Buffer,
    _Inout_ PULONG Length,
    _In_ ULONG64 Value,
    _In_ ULONG Base
    )
{
    CHAR Digits[24];
    ULONG Count = 0;

    do {
        Digits[sizeof(Digits) - 2 - Count] = "0123456789abcdef"[Value % Base];
        Value /= Base;
        Count += 1;
    } while (Value != 0 && Count < sizeof(Digits) - 1);
    Digits[sizeof(Digits) - 1] = '\0';
    WdkmpDiagAppend(Buffer, Length, &Digits[sizeof(Digits) - 1 - Count]);
}

/* The last path component: reports name "file.c:12", not a build path. */
static
PCSTR
WdkmpDiagBaseName(
    _In_opt_z_ PCSTR File
    )
{
    PCSTR Base = File;

    if (File == NULL) {
        return "?";
    }
    for (; *File != '\0'; File += 1) {
        if (*File == '/' || *File == '\\') {
            Base = File + 1;
        }
    }
    return Base;
}

/*
 * Figures are updated by the lock's holder: an exclusive holder is alone
 * and adds with a plain load and store; shared holders (Shared) may update
 * at the same time and use interlocked operations. Readers load whole
 * words (WdkmpLoadLong64). This keeps locked instructions off the
 * uncontended exclusive path.
 */
static
VOID
WdkmpDiagAdd64(
    _Inout_ LONG64 volatile *Figure,
    _In_ LONG64 Value,
    _In_ BOOLEAN Shared
    )
{
    if (Shared) {
        (VOID)InterlockedExchangeAdd64(Figure, Value);
    } else {
        WdkmpStoreLong64(Figure, WdkmpLoadLong64(Figure) + Value);
    }
}

static
VOID
WdkmpDiagMax64(
    _Inout_ LONG64 volatile *Maximum,
    _In_ LONG64 Value,
    _In_ BOOLEAN Shared
    )
{
    LONG64 Seen = WdkmpLoadLong64(Maximum);

    if (!Shared) {
        if (Value > Seen) {
            WdkmpStoreLong64(Maximum, Value);
        }
        return;
    }
    while (Value > Seen) {
        LONG64 Before = InterlockedCompareExchange64(Maximum, Value, Seen);
        if (Before == Seen) {
            break;
        }
        Seen = Before;
    }
}

/* One acquisition into Figures: contended ones with their wait (ticks). */
static
VOID
WdkmpDiagCountAcquisition(
    _Inout_ WDKMP_DIAG_FIGURES *Figures,
    _In_ BOOLEAN Contended,
    _In_ LONG64 Wait,
    _In_ BOOLEAN Shared
    )
{
    WdkmpDiagAdd64(&Figures->Acquisitions, 1, Shared);
    if (Contended) {
        WdkmpDiagAdd64(&Figures->Contended, 1, Shared);
        WdkmpDiagAdd64(&Figures->TotalWait, Wait, Shared);
        WdkmpDiagMax64(&Figures->MaxWait, Wait, Shared);
    }
}

/* Adds the figures From into Into (maxima as maxima). Under the lock. */
static
VOID
WdkmpDiagAddFigures(
    _Inout_ WDKMP_DIAG_FIGURES *Into,
    _In_ const WDKMP_DIAG_FIGURES *From
    )
{
    WdkmpDiagAdd64(&Into->Acquisitions, WdkmpLoadLong64(&From->Acquisitions), FALSE);
    WdkmpDiagAdd64(&Into->Contended, WdkmpLoadLong64(&From->Contended), FALSE);
    WdkmpDiagAdd64(&Into->TotalWait, WdkmpLoadLong64(&From->TotalWait), FALSE);
    WdkmpDiagMax64(&Into->MaxWait, WdkmpLoadLong64(&From->MaxWait), FALSE);
    WdkmpDiagMax64(&Into->MaxHold, WdkmpLoadLong64(&From->MaxHold), FALSE);
}

static
VOID
WdkmpDiagClearFigures(
    _Out_ WDKMP_DIAG_FIGURES *Figures
    )
{
    WdkmpStoreLong64(&Figures->Acquisitions, 0);
    WdkmpStoreLong64(&Figures->Contended, 0);
    WdkmpStoreLong64(&Figures->TotalWait, 0);
    WdkmpStoreLong64(&Figures->MaxWait, 0);
    WdkmpStoreLong64(&Figures->MaxHold, 0);
}

static
BOOLEAN
WdkmpDiagWarnOnce(
    _In_ LONG Bit
    )
{
    return (InterlockedOr(&WdkmpDiag.Warned, Bit) & Bit) == 0;
}

/* ------------------------------------------------------------------------
 * Thread records and pending sites.
 */

static
ULONG
WdkmpDiagHash(
    _In_ PVOID Thread
    )
{
    ULONG64 Value = (ULONG64)(ULONG_PTR)Thread;

    Value ^= Value >> 17;
    Value *= 0x9E3779B97F4A7C15ULL;
    return (ULONG)(Value >> 32);
}

/*
 * A record's Thread word is NULL (free), its owner (active), or its owner
 * with WDKMP_DIAG_PARKED set: the owner holds nothing and keeps the record
 * for its next acquisition, which then finds it at its first probe and
 * unparks it with one exchange; a thread that finds no free slot may take
 * a parked one by exchanging the parked word for itself. Either the owner
 * or the taker wins that exchange, never both; an active record is never
 * taken. (Threads are at least pointer aligned: bit 0 is free.)
 */
#define WDKMP_DIAG_PARKED ((ULONG_PTR)1)

/*
 * The calling thread's record, or NULL. Without Claim a parked record
 * counts as none (the thread holds nothing). With Claim, a thread without
 * one takes a free slot among its probes, else a parked one of another
 * thread (NULL if there is neither: untracked).
 */
static
PWDKMP_DIAG_THREAD
WdkmpDiagFindThread(
    _In_ BOOLEAN Claim
    )
{
    PVOID Self = WdkmpCurrentThread();
    PVOID Parked = (PVOID)((ULONG_PTR)Self | WDKMP_DIAG_PARKED);
    ULONG Start = WdkmpDiagHash(Self) % WDKM_DIAG_MAX_THREADS;
    PWDKMP_DIAG_THREAD Record;
    PVOID Word;
    ULONG Probe;
    ULONG Other;
    ULONG Pass;

    for (Probe = 0; Probe < WDKMP_DIAG_PROBES; Probe += 1) {
        Record = &WdkmpDiagThreads[(Start + Probe) % WDKM_DIAG_MAX_THREADS];
        Word = WdkmpLoadPointerAcquire((PVOID const volatile *)&Record->Thread);
        if (Word == Self) {
            return Record;
        }
        if (Word == Parked) {
            if (!Claim) {
                return NULL;
            }
            Word = InterlockedCompareExchangePointer((PVOID volatile *)&Record->Thread, Self,
                                                     Parked);
            if (Word == Parked || Word == Self) {
                return Record;      /* unparked, by this thread or a DPC on it */
            }
        }
    }
    if (!Claim) {
        return NULL;
    }
    /* A free slot first; else a parked one, whose owner holds nothing. */
    for (Pass = 0; Pass < 2; Pass += 1) {
        for (Probe = 0; Probe < WDKMP_DIAG_PROBES; Probe += 1) {
            Record = &WdkmpDiagThreads[(Start + Probe) % WDKM_DIAG_MAX_THREADS];
            Word = WdkmpLoadPointerAcquire((PVOID const volatile *)&Record->Thread);
            if (Pass == 0 ? Word != NULL : ((ULONG_PTR)Word & WDKMP_DIAG_PARKED) == 0) {
                continue;
            }
            if (InterlockedCompareExchangePointer((PVOID volatile *)&Record->Thread, Self, Word) !=
                Word) {
                continue;
            }
            /* A DPC that ran between the search and the claim may have
               claimed another slot for this thread: keep that one. (Rare:
               a thread claims only when its record was taken.) */
            for (Other = 0; Other < WDKMP_DIAG_PROBES; Other += 1) {
                PWDKMP_DIAG_THREAD Earlier =
                    &WdkmpDiagThreads[(Start + Other) % WDKM_DIAG_MAX_THREADS];
                if (Earlier != Record &&
                    WdkmpLoadPointerAcquire((PVOID const volatile *)&Earlier->Thread) == Self) {
                    WdkmpStorePointerRelease((PVOID volatile *)&Record->Thread, NULL);
                    return Earlier;
                }
            }
            Record->Depth = 0;
            Record->Lost = 0;
            Record->Regions = 0;
            return Record;
        }
    }
    if (WdkmpDiagWarnOnce(WDKMP_DIAG_WARNED_THREADS)) {
        WdkmpDebugPrint(WDKMP_DEBUG_WARNING,
                        "wdkmutex: diagnostics: thread table full (WDKM_DIAG_MAX_THREADS %u); "
                        "some acquisitions are not validated\n",
                        (unsigned)WDKM_DIAG_MAX_THREADS);
    }
    return NULL;
}

/* Park the record once the thread holds nothing (never from a DPC). */
static
VOID
WdkmpDiagPutThread(
    _In_opt_ PWDKMP_DIAG_THREAD Record
    )
{
    if (Record != NULL && Record->Depth == 0 && Record->Lost == 0 && Record->Regions == 0 &&
        WdkmpGetIrql() < DISPATCH_LEVEL) {
        WdkmpStorePointerRelease((PVOID volatile *)&Record->Thread,
                                 (PVOID)((ULONG_PTR)WdkmpCurrentThread() | WDKMP_DIAG_PARKED));
    }
}

VOID
WdkmDiagNoteSite(
    _In_opt_ const VOID *Lock,
    _In_z_ PCSTR File,
    _In_ ULONG Line
    )
{
    PVOID Self = WdkmpCurrentThread();
    WDKMP_DIAG_SITE *Site = &WdkmpDiagSites[WdkmpDiagHash(Self) % WDKMP_DIAG_SITES];

    /* Another thread hashing here may overwrite the slot. Its first store
       clears Thread, and every later one is a release store, so a reader
       that saw any of its fields sees Thread changed when it checks again
       (WdkmpDiagTakeSite): no locked instruction on either side. */
    WdkmpStorePointerRelease(&Site->Thread, NULL);
    WdkmpStorePointerRelease(&Site->Lock, (PVOID)Lock);
    WdkmpStorePointerRelease(&Site->File, (PVOID)File);
    WdkmpStorePointerRelease(&Site->Line, (PVOID)(ULONG_PTR)Line);
    WdkmpStorePointerRelease(&Site->Thread, Self);
}

static
VOID
WdkmpDiagTakeSite(
    _In_ const VOID *Lock,
    _Out_ PCSTR *File,
    _Out_ PULONG Line
    )
{
    PVOID Self = WdkmpCurrentThread();
    WDKMP_DIAG_SITE *Site = &WdkmpDiagSites[WdkmpDiagHash(Self) % WDKMP_DIAG_SITES];
    PVOID Noted;
    PCSTR Seen;
    ULONG SeenLine;

    *File = NULL;
    *Line = 0;
    if (WdkmpLoadPointerAcquire(&Site->Thread) != Self) {
        return;
    }
    Noted = WdkmpLoadPointerAcquire(&Site->Lock);
    Seen = (PCSTR)WdkmpLoadPointerAcquire(&Site->File);
    SeenLine = (ULONG)(ULONG_PTR)WdkmpLoadPointerAcquire(&Site->Line);
    if (WdkmpLoadPointerAcquire(&Site->Thread) != Self) {
        return;                 /* rewritten by another thread meanwhile: lost, not mixed */
    }
    /* Taken: a later acquisition made without a note must not find it. A
       note another thread makes right now may be lost with it. */
    WdkmpStorePointerRelease(&Site->Thread, NULL);
    if (Noted != NULL && Noted != Lock) {
        return;                 /* meant for another lock: an acquisition that failed early */
    }
    *File = Seen;
    *Line = SeenLine;
}

VOID
WdkmpDiagPeekSite(
    _In_opt_ const VOID *Lock,
    _Out_ PCSTR *File,
    _Out_ PULONG Line
    )
{
    PVOID Self = WdkmpCurrentThread();
    WDKMP_DIAG_SITE *Site = &WdkmpDiagSites[WdkmpDiagHash(Self) % WDKMP_DIAG_SITES];
    PVOID Noted;
    PCSTR Seen;
    ULONG SeenLine;

    *File = NULL;
    *Line = 0;
    if (WdkmpLoadPointerAcquire(&Site->Thread) != Self) {
        return;
    }
    Noted = WdkmpLoadPointerAcquire(&Site->Lock);
    Seen = (PCSTR)WdkmpLoadPointerAcquire(&Site->File);
    SeenLine = (ULONG)(ULONG_PTR)WdkmpLoadPointerAcquire(&Site->Line);
    if (WdkmpLoadPointerAcquire(&Site->Thread) != Self || (Noted != NULL && Noted != Lock)) {
        return;
    }
    *File = Seen;
    *Line = SeenLine;
}

/* ------------------------------------------------------------------------
 * Classes. Under WdkmpDiag.Lock.
 */

static
LONG
WdkmpDiagClassFind(
    _In_z_ PCSTR Name
    )
{
    LONG Index;

    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        WDKMP_DIAG_CLASS *Class = &WdkmpDiag.Classes[Index];
        if (Class->InUse && !Class->Anonymous && WdkmpDiagNameEqual(Class->Name, Name)) {
            return Index;
        }
    }
    return -1;
}

static
LONG
WdkmpDiagClassNew(
    _In_z_ PCSTR Name,
    _In_ BOOLEAN Anonymous,
    _In_ WDKM_LOCK_KIND Kind
    )
{
    LONG Index;
    ULONG Length = 0;

    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        WDKMP_DIAG_CLASS *Class = &WdkmpDiag.Classes[Index];
        if (Class->InUse) {
            continue;
        }
        RtlZeroMemory(Class, sizeof(*Class));
        WdkmpDiagAppend(Class->Name, &Length, Name);
        Class->InUse = TRUE;
        Class->Anonymous = Anonymous;
        Class->Kind = Kind;
        return Index;
    }
    if (WdkmpDiagWarnOnce(WDKMP_DIAG_WARNED_CLASSES)) {
        WdkmpDebugPrint(WDKMP_DEBUG_WARNING,
                        "wdkmutex: diagnostics: class table full (WDKM_DIAG_MAX_CLASSES %u); "
                        "locks in new classes are not validated\n",
                        (unsigned)WDKM_DIAG_MAX_CLASSES);
    }
    return -1;
}

/* Forget every order involving Index: its slot is about to be reused. */
static
VOID
WdkmpDiagForgetOrders(
    _In_ LONG Index
    )
{
    LONG Row;
    ULONG Edge;
    LONG Mask = ~(LONG)(1UL << (Index % 32));

    for (Row = 0; Row < WDKM_DIAG_MAX_CLASSES; Row += 1) {
        InterlockedAnd(&WdkmpDiag.Order[Row][Index / 32], Mask);
        WdkmpDiag.Reported[Row][Index / 32] &= Mask;
    }
    for (Row = 0; Row < WDKMP_DIAG_WORDS; Row += 1) {
        InterlockedExchange(&WdkmpDiag.Order[Index][Row], 0);
        WdkmpDiag.Reported[Index][Row] = 0;
    }
    for (Edge = 0; Edge < WDKM_DIAG_MAX_EDGES; Edge += 1) {
        if (WdkmpDiag.Edges[Edge].From == Index || WdkmpDiag.Edges[Edge].To == Index) {
            WdkmpDiag.Edges[Edge].InUse = FALSE;
        }
    }
}

static
VOID
WdkmpDiagClassDrop(
    _In_ LONG Index
    )
{
    WDKMP_DIAG_CLASS *Class;

    if (Index < 0) {
        return;
    }
    Class = &WdkmpDiag.Classes[Index];
    Class->Locks -= 1;
    if (Class->Anonymous && Class->Locks == 0) {
        WdkmpDiagForgetOrders(Index);
        Class->InUse = FALSE;
    }
}

/*
 * Moves Header into class Index (or none, -1). Its figures so far stay
 * with the class it leaves, and it starts again from zero. Under the lock.
 */
static
VOID
WdkmpDiagClassAssign(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _In_ LONG Index
    )
{
    LONG Old = WdkmpLoadLong(&Header->Diag.Class);

    if (Old >= 0) {
        WdkmpDiagAddFigures(&WdkmpDiag.Classes[Old].Retired, &Header->Diag.Figures);
    }
    WdkmpDiagClearFigures(&Header->Diag.Figures);
    if (Index >= 0) {
        WdkmpDiag.Classes[Index].Locks += 1;
    }
    InterlockedExchange(&Header->Diag.Class, Index);
    WdkmpDiagClassDrop(Old);
}

NTSTATUS
WdkmpDiagSetClass(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _In_z_ PCSTR Name
    )
{
    KIRQL OldIrql;
    LONG Index;

    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    Index = WdkmpDiagClassFind(Name);
    if (Index < 0) {
        Index = WdkmpDiagClassNew(Name, FALSE, Header->Kind->Kind);
    }
    if (Index >= 0) {
        WdkmpDiagClassAssign(Header, Index);
    }
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
    return Index >= 0 ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

static
PCSTR
WdkmpDiagClassName(
    _In_ LONG Index
    )
{
    return Index >= 0 ? WdkmpDiag.Classes[Index].Name : "(untracked)";
}

/* ------------------------------------------------------------------------
 * Live locks.
 */

VOID
WdkmpDiagLockCreated(
    _Inout_ PWDKMP_LOCK_HEADER Header
    )
{
    CHAR Name[WDKM_DIAG_NAME_LENGTH];
    ULONG Length = 0;
    KIRQL OldIrql;

    WdkmpDiagAppend(Name, &Length, WdkmpDiagKindName(Header->Kind->Kind));
    WdkmpDiagAppend(Name, &Length, "@");
    WdkmpDiagAppendNumber(Name, &Length, (ULONG64)(ULONG_PTR)Header, 16);

    Header->Diag.Class = -1;
    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    WdkmpDiagClassAssign(Header, WdkmpDiagClassNew(Name, TRUE, Header->Kind->Kind));
    Header->Diag.Prev = NULL;
    Header->Diag.Next = WdkmpDiag.Live;
    if (WdkmpDiag.Live != NULL) {
        WdkmpDiag.Live->Diag.Prev = Header;
    }
    WdkmpDiag.Live = Header;
    WdkmpDiag.LiveLocks += 1;
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
}

VOID
WdkmpDiagLockDestroyed(
    _Inout_ PWDKMP_LOCK_HEADER Header
    )
{
    KIRQL OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);

    if (Header->Diag.Prev != NULL) {
        Header->Diag.Prev->Diag.Next = Header->Diag.Next;
    } else {
        WdkmpDiag.Live = Header->Diag.Next;
    }
    if (Header->Diag.Next != NULL) {
        Header->Diag.Next->Diag.Prev = Header->Diag.Prev;
    }
    WdkmpDiag.LiveLocks -= 1;
    WdkmpDiagClassAssign(Header, -1);
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
}

/* ------------------------------------------------------------------------
 * Violations.
 */

static
VOID
WdkmpDiagKeep(
    _In_ WDKM_DIAG_VIOLATION_TYPE Type,
    _In_ ULONG CycleLength,
    _In_z_ PCSTR Held,
    _In_opt_z_ PCSTR HeldFile,
    _In_ ULONG HeldLine,
    _In_z_ PCSTR Acquiring,
    _In_opt_z_ PCSTR AcquireFile,
    _In_ ULONG AcquireLine
    )
{
    LONG Number = InterlockedIncrement(&WdkmpDiag.Violations) - 1;
    WDKM_DIAG_VIOLATION *Kept;
    ULONG Length;

    if (Number >= WDKMP_DIAG_KEPT) {
        return;
    }
    Kept = &WdkmpDiag.Kept[Number];
    Kept->Type = Type;
    Kept->CycleLength = CycleLength;
    Length = 0;
    WdkmpDiagAppend(Kept->Held, &Length, Held);
    Length = 0;
    WdkmpDiagAppend(Kept->Acquiring, &Length, Acquiring);
    Kept->HeldFile = HeldFile;
    Kept->HeldLine = HeldLine;
    Kept->AcquireFile = AcquireFile;
    Kept->AcquireLine = AcquireLine;
}

static
WDKMP_DIAG_EDGE *
WdkmpDiagEdge(
    _In_ LONG From,
    _In_ LONG To,
    _In_ BOOLEAN Create
    )
{
    ULONG Start = ((ULONG)From * WDKM_DIAG_MAX_CLASSES + (ULONG)To) % WDKM_DIAG_MAX_EDGES;
    ULONG Probe;

    for (Probe = 0; Probe < WDKM_DIAG_MAX_EDGES; Probe += 1) {
        WDKMP_DIAG_EDGE *Edge = &WdkmpDiag.Edges[(Start + Probe) % WDKM_DIAG_MAX_EDGES];
        if (Edge->InUse && Edge->From == From && Edge->To == To) {
            return Edge;
        }
        if (!Edge->InUse) {
            if (!Create) {
                continue;
            }
            Edge->InUse = TRUE;
            Edge->From = From;
            Edge->To = To;
            return Edge;
        }
    }
    if (Create && WdkmpDiagWarnOnce(WDKMP_DIAG_WARNED_EDGES)) {
        WdkmpDebugPrint(WDKMP_DEBUG_WARNING,
                        "wdkmutex: diagnostics: edge table full (WDKM_DIAG_MAX_EDGES %u); "
                        "new orders are checked but reported without sites\n",
                        (unsigned)WDKM_DIAG_MAX_EDGES);
    }
    return NULL;
}

static
BOOLEAN
WdkmpDiagOrdered(
    _In_ LONG From,
    _In_ LONG To
    )
{
    return (WdkmpLoadLong(&WdkmpDiag.Order[From][To / 32]) & (LONG)(1UL << (To % 32))) != 0;
}

/*
 * A path From ->* To in the recorded order: the number of classes on it
 * (From and To included), 0 if none. Breadth first, so the shortest cycle
 * is the one reported. Parent[] then leads back from To to From.
 */
static
ULONG
WdkmpDiagFindPath(
    _In_ LONG From,
    _In_ LONG To
    )
{
    LONG Head = 0;
    LONG Tail = 0;
    LONG Next;
    ULONG Length;

    RtlZeroMemory(WdkmpDiag.Visited, sizeof(WdkmpDiag.Visited));
    WdkmpDiag.Visited[From / 32] |= (LONG)(1UL << (From % 32));
    WdkmpDiag.Parent[From] = -1;
    WdkmpDiag.Queue[Tail++] = From;
    while (Head < Tail) {
        LONG Current = WdkmpDiag.Queue[Head++];
        for (Next = 0; Next < WDKM_DIAG_MAX_CLASSES; Next += 1) {
            if ((WdkmpDiag.Visited[Next / 32] & (LONG)(1UL << (Next % 32))) != 0 ||
                !WdkmpDiagOrdered(Current, Next)) {
                continue;
            }
            WdkmpDiag.Visited[Next / 32] |= (LONG)(1UL << (Next % 32));
            WdkmpDiag.Parent[Next] = Current;
            if (Next == To) {
                Length = 1;
                for (Next = To; Next != From; Next = WdkmpDiag.Parent[Next]) {
                    Length += 1;
                }
                return Length;
            }
            WdkmpDiag.Queue[Tail++] = Next;
        }
    }
    return 0;
}

/* Prints the order cycle found by WdkmpDiagFindPath(Acquiring, Held). */
static
VOID
WdkmpDiagReportCycle(
    _In_ const WDKMP_DIAG_HELD *Held,
    _In_ LONG Acquiring,
    _In_ const WDKMP_DIAG_ACQUIRE *Diag,
    _In_ ULONG Length,
    _In_ BOOLEAN Refused
    )
{
    LONG Current;

    WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                    "wdkmutex: LOCK ORDER VIOLATION: possible deadlock, a cycle of %u classes\n",
                    (unsigned)Length);
    WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                    "wdkmutex:   this thread acquires \"%s\" at %s:%u\n",
                    WdkmpDiagClassName(Acquiring), WdkmpDiagBaseName(Diag->File), (unsigned)Diag->Line);
    WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                    "wdkmutex:   while holding \"%s\", acquired at %s:%u\n",
                    WdkmpDiagClassName(Held->Class), WdkmpDiagBaseName(Held->File), (unsigned)Held->Line);
    /* Parent[] leads from the held class back to the one being acquired:
       walk it and print each earlier order, acquiring class first. */
    for (Current = Held->Class; Current != Acquiring && Current >= 0;
         Current = WdkmpDiag.Parent[Current]) {
        LONG Before = WdkmpDiag.Parent[Current];
        const WDKMP_DIAG_EDGE *Edge = WdkmpDiagEdge(Before, Current, FALSE);
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex:   earlier, \"%s\" was acquired at %s:%u while \"%s\" was held, "
                        "acquired at %s:%u\n",
                        WdkmpDiagClassName(Current),
                        WdkmpDiagBaseName(Edge != NULL ? Edge->ToFile : NULL),
                        Edge != NULL ? (unsigned)Edge->ToLine : 0u,
                        WdkmpDiagClassName(Before),
                        WdkmpDiagBaseName(Edge != NULL ? Edge->FromFile : NULL),
                        Edge != NULL ? (unsigned)Edge->FromLine : 0u);
    }
    WdkmpDebugPrint(WDKMP_DEBUG_ERROR, "wdkmutex:   %s\n",
                    Refused ? "acquisition refused: STATUS_POSSIBLE_DEADLOCK"
                            : "reported once; the acquisition goes on (WDKM_DIAG_REPORT)");
}

/*
 * Order check of a waiting acquisition of Header by a thread holding
 * Record->Held: record each new pair, report the ones closing a cycle.
 */
static
NTSTATUS
WdkmpDiagCheckOrder(
    _In_ PWDKMP_DIAG_THREAD Record,
    _In_ PWDKMP_LOCK_HEADER Header,
    _In_ const WDKMP_DIAG_ACQUIRE *Diag
    )
{
    LONG To = WdkmpLoadLong(&Header->Diag.Class);
    BOOLEAN Refuse = (WdkmpLoadLong(&WdkmpDiag.Policy) & WDKM_DIAG_REFUSE) != 0;
    NTSTATUS Status = STATUS_SUCCESS;
    BOOLEAN Missing = FALSE;
    KIRQL OldIrql;
    ULONG Index;

    if (To < 0) {
        InterlockedIncrement(&WdkmpDiag.Untracked);
        return STATUS_SUCCESS;
    }
    for (Index = 0; Index < Record->Depth; Index += 1) {
        if (Record->Held[Index].Lock == Header) {
            return STATUS_SUCCESS;     /* recursion: the owner does not wait, no order */
        }
    }
    for (Index = 0; Index < Record->Depth; Index += 1) {
        const WDKMP_DIAG_HELD *Held = &Record->Held[Index];
        if (Held->Lock != Header && Held->Class >= 0 && Held->Class != To &&
            !WdkmpDiagOrdered(Held->Class, To)) {
            Missing = TRUE;
        }
    }
    if (!Missing) {
        return STATUS_SUCCESS;     /* the common case: every pair known, no lock taken */
    }

    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    for (Index = 0; Index < Record->Depth && Status == STATUS_SUCCESS; Index += 1) {
        const WDKMP_DIAG_HELD *Held = &Record->Held[Index];
        WDKMP_DIAG_EDGE *Edge;
        ULONG Length;
        LONG Bit;

        if (Held->Lock == Header || Held->Class < 0 || Held->Class == To ||
            WdkmpDiagOrdered(Held->Class, To)) {
            continue;
        }
        Length = WdkmpDiagFindPath(To, Held->Class);
        if (Length != 0) {
            Bit = (LONG)(1UL << (To % 32));
            InterlockedIncrement(&WdkmpDiag.OrderViolations);
            if ((WdkmpDiag.Reported[Held->Class][To / 32] & Bit) == 0) {
                WdkmpDiag.Reported[Held->Class][To / 32] |= Bit;
                WdkmpDiagReportCycle(Held, To, Diag, Length, Refuse);
                WdkmpDiagKeep(WdkmDiagLockOrder, Length, WdkmpDiagClassName(Held->Class),
                              Held->File, Held->Line, WdkmpDiagClassName(To), Diag->File,
                              Diag->Line);
            }
            if (Refuse) {
                Status = STATUS_POSSIBLE_DEADLOCK;
                break;
            }
        }
        /* Recorded even when it closes a cycle (report mode): reported once. */
        Edge = WdkmpDiagEdge(Held->Class, To, TRUE);
        if (Edge != NULL) {
            Edge->FromFile = Held->File;
            Edge->FromLine = Held->Line;
            Edge->ToFile = Diag->File;
            Edge->ToLine = Diag->Line;
        }
        InterlockedOr(&WdkmpDiag.Order[Held->Class][To / 32], (LONG)(1UL << (To % 32)));
    }
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
    return Status;
}

/* ------------------------------------------------------------------------
 * The hooks.
 */

/*
 * Reports a waiting acquisition of Header while the thread holds a spin
 * lock; TRUE if it does. On Windows the IRQL rule refuses it anyway (the
 * report says which spin lock raised it); where the IRQL is not tracked
 * (Wine) this is the only check.
 */
static
BOOLEAN
WdkmpDiagWaitUnderSpinLock(
    _In_ PWDKMP_DIAG_THREAD Record,
    _In_ PWDKMP_LOCK_HEADER Header,
    _In_opt_z_ PCSTR File,
    _In_ ULONG Line,
    _In_ BOOLEAN Refused
    )
{
    ULONG Index;

    for (Index = 0; Index < Record->Depth; Index += 1) {
        const WDKMP_DIAG_HELD *Held = &Record->Held[Index];
        if ((Held->Flags & WDKMP_DIAG_SPIN) == 0) {
            continue;
        }
        InterlockedIncrement(&WdkmpDiag.ContextViolations);
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: CONTEXT VIOLATION: waiting for \"%s\" at %s:%u while holding "
                        "spin lock \"%s\" (acquired at %s:%u)%s\n",
                        WdkmpDiagClassName(WdkmpLoadLong(&Header->Diag.Class)),
                        WdkmpDiagBaseName(File), (unsigned)Line,
                        WdkmpDiagClassName(Held->Class), WdkmpDiagBaseName(Held->File),
                        (unsigned)Held->Line, Refused ? "; refused" : "");
        WdkmpDiagKeep(WdkmDiagWaitUnderSpinLock, 0, WdkmpDiagClassName(Held->Class), Held->File,
                      Held->Line, WdkmpDiagClassName(WdkmpLoadLong(&Header->Diag.Class)), File,
                      Line);
        return TRUE;
    }
    return FALSE;
}

VOID
WdkmpDiagIrqlTooHigh(
    _In_ PWDKMP_LOCK_HEADER Header
    )
{
    PWDKMP_DIAG_THREAD Record = WdkmpDiagFindThread(FALSE);
    PCSTR File;
    ULONG Line;

    WdkmpDiagTakeSite(Header, &File, &Line);
    if (Record != NULL) {
        (VOID)WdkmpDiagWaitUnderSpinLock(Record, Header, File, Line, TRUE);
    }
}

NTSTATUS
WdkmpDiagBeforeAcquire(
    _In_ PWDKMP_LOCK_HEADER Header,
    _In_ ULONG Flags,
    _Out_ PWDKMP_DIAG_ACQUIRE Diag
    )
{
    LONG Policy = WdkmpLoadLong(&WdkmpDiag.Policy);
    BOOLEAN Refuse = (Policy & WDKM_DIAG_REFUSE) != 0;
    PWDKMP_DIAG_THREAD Record;
    NTSTATUS Status = STATUS_SUCCESS;

    Diag->Flags = Flags | ((Policy & WDKM_DIAG_TIME_HOLDS) != 0 ? WDKMP_DIAG_TIMED : 0);
    Diag->Contended = FALSE;
    Diag->WaitStart = 0;
    WdkmpDiagTakeSite(Header, &Diag->File, &Diag->Line);
    Record = WdkmpDiagFindThread(TRUE);
    Diag->Thread = Record;
    if (Record == NULL) {
        InterlockedIncrement(&WdkmpDiag.Untracked);
        return STATUS_SUCCESS;
    }

    if ((Flags & WDKMP_DIAG_WAITS) != 0 &&
        WdkmpDiagWaitUnderSpinLock(Record, Header, Diag->File, Diag->Line, Refuse) && Refuse) {
        Status = STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (Status == STATUS_SUCCESS && (Flags & WDKMP_DIAG_TRY) == 0) {
        Status = WdkmpDiagCheckOrder(Record, Header, Diag);
    }
    if (Status != STATUS_SUCCESS) {
        WdkmpDiagPutThread(Record);
    }
    return Status;
}

VOID
WdkmpDiagWaitBegins(
    _Inout_ PWDKMP_DIAG_ACQUIRE Diag,
    _In_ BOOLEAN Known
    )
{
    if (Known) {
        Diag->Contended = TRUE;
        Diag->WaitStart = WdkmpTimestamp();
    }
}

VOID
WdkmpDiagAfterAcquire(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _Inout_ PWDKMP_DIAG_ACQUIRE Diag,
    _In_ BOOLEAN Acquired
    )
{
    PWDKMP_DIAG_THREAD Record = (PWDKMP_DIAG_THREAD)Diag->Thread;
    LONG Class = WdkmpLoadLong(&Header->Diag.Class);
    ULONG64 Now = 0;
    LONG64 Wait = 0;

    if (!Acquired) {
        WdkmpDiagPutThread(Record);
        return;
    }
    /* The clock is read only for a wait or a timed hold: an uncontended
       acquisition without WDKM_DIAG_TIME_HOLDS reads it not at all. */
    if (Diag->Contended || (Diag->Flags & WDKMP_DIAG_TIMED) != 0) {
        Now = WdkmpTimestamp();
        Wait = Diag->Contended ? (LONG64)(Now - Diag->WaitStart) : 0;
    }
    WdkmpDiagCountAcquisition(&Header->Diag.Figures, Diag->Contended, Wait,
                              (Diag->Flags & WDKMP_DIAG_SHARED) != 0);
    if (Record == NULL) {
        return;
    }
    if ((Diag->Flags & WDKMP_DIAG_SHARED) == 0) {
        WdkmpStorePointerRelease(&Header->Diag.Holder, Record);
    }
    if (Record->Depth < WDKM_DIAG_MAX_HELD) {
        WDKMP_DIAG_HELD *Held = &Record->Held[Record->Depth];
        Held->Lock = Header;
        Held->Class = Class;
        Held->Flags = Diag->Flags;
        Held->File = Diag->File;
        Held->Line = Diag->Line;
        Held->AcquiredAt = Now;
        Record->Depth += 1;
    } else {
        Record->Lost += 1;
        InterlockedIncrement(&WdkmpDiag.Untracked);
        if (WdkmpDiagWarnOnce(WDKMP_DIAG_WARNED_HELD)) {
            WdkmpDebugPrint(WDKMP_DEBUG_WARNING,
                            "wdkmutex: diagnostics: a thread holds more than WDKM_DIAG_MAX_HELD (%u) "
                            "locks; the rest are not validated\n",
                            (unsigned)WDKM_DIAG_MAX_HELD);
        }
    }
}

PVOID
WdkmpDiagBeforeRelease(
    _Inout_ PWDKMP_LOCK_HEADER Header
    )
{
    PWDKMP_DIAG_THREAD Record =
        (PWDKMP_DIAG_THREAD)WdkmpLoadPointerAcquire((PVOID const volatile *)&Header->Diag.Holder);
    ULONG Index;

    /* The record the acquisition noted is the caller's if it still names
       the caller (a shared hold, or one another thread took since, does
       not): then no search. */
    if (Record == NULL ||
        WdkmpLoadPointerAcquire((PVOID const volatile *)&Record->Thread) != WdkmpCurrentThread()) {
        Record = WdkmpDiagFindThread(FALSE);
    }
    if (Record == NULL) {
        return NULL;
    }
    for (Index = Record->Depth; Index > 0; Index -= 1) {
        WDKMP_DIAG_HELD *Held = &Record->Held[Index - 1];
        if (Held->Lock != Header) {
            continue;
        }
        if ((Held->Flags & WDKMP_DIAG_TIMED) != 0) {
            WdkmpDiagMax64(&Header->Diag.Figures.MaxHold,
                           (LONG64)(WdkmpTimestamp() - Held->AcquiredAt),
                           (Held->Flags & WDKMP_DIAG_SHARED) != 0);
        }
        for (; Index < Record->Depth; Index += 1) {
            Record->Held[Index - 1] = Record->Held[Index];
        }
        Record->Depth -= 1;
        return Record;
    }
    if (Record->Lost != 0) {
        Record->Lost -= 1;         /* one of the holds that did not fit */
    }
    return Record;
}

VOID
WdkmpDiagAfterRelease(
    _In_opt_ PVOID Thread
    )
{
    WdkmpDiagPutThread((PWDKMP_DIAG_THREAD)Thread);
}

VOID
WdkmpDiagRegion(
    _In_ LONG Delta
    )
{
    PWDKMP_DIAG_THREAD Record = WdkmpDiagFindThread(Delta > 0);

    if (Record == NULL) {
        if (Delta > 0) {
            InterlockedIncrement(&WdkmpDiag.Untracked);
        }
        return;
    }
    if (Delta > 0) {
        Record->Regions += 1;
    } else if (Record->Regions > 0) {
        Record->Regions -= 1;
        WdkmpDiagPutThread(Record);
    }
}

/* ------------------------------------------------------------------------
 * The callback forms' last words.
 */

static PWDKMP_LOCK_HEADER WdkmpDiagHeaderOf(_In_opt_ const VOID *Lock);

/* What a refusal means, for a reader of the report. */
static
PCSTR
WdkmpDiagMisuseMeaning(
    _In_ NTSTATUS Status
    )
{
    switch (Status) {
    case STATUS_WDKM_IRQL_TOO_HIGH:
        return "the caller's IRQL is above what this lock kind allows (the kernel would "
               "bugcheck IRQL_NOT_LESS_OR_EQUAL, or wait at DISPATCH_LEVEL)";
    case STATUS_WDKM_IRQL_MISMATCH:
        return "the caller is below DISPATCH_LEVEL in an AtDpcLevel form (the kernel would "
               "take the lock without raising, and a DPC could then deadlock on it)";
    case STATUS_POSSIBLE_DEADLOCK:
        return "the calling thread already holds this lock, or the lock-order validator "
               "refused the acquisition (the kernel would spin or wait forever)";
    case STATUS_WDKM_TYPE_MISMATCH:
        return "the handle is a lock of another kind, or the data type's size is not the "
               "value's (the kernel would work on the wrong object)";
    case STATUS_INVALID_PARAMETER:
        return "a NULL lock or output pointer";
    default:
        return "the acquisition was refused";
    }
}

VOID
WdkmpDiagCallbackMisuse(
    _In_opt_ const VOID *Lock,
    _In_ ULONG Kind,
    _In_ NTSTATUS Status,
    _In_opt_ PVOID Caller,
    _In_opt_z_ PCSTR File,
    _In_ ULONG Line
    )
{
    PWDKMP_LOCK_HEADER Header = WdkmpDiagHeaderOf(Lock);
    PWDKMP_DIAG_THREAD Record = WdkmpDiagFindThread(FALSE);
    PCSTR Class = Header != NULL ? WdkmpDiagClassName(WdkmpLoadLong(&Header->Diag.Class))
                                 : "(not a live lock)";
    WDKMP_THREAD Owner = Header != NULL ? WdkmpLoadThread(&Header->Owner) : NULL;
    ULONG Index;

    InterlockedIncrement(&WdkmpDiag.ContextViolations);
    WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                    "wdkmutex: CALLBACK FORM REFUSED: %s acquiring \"%s\" (%s form, lock %p) at "
                    "%s:%u, IRQL %u, called from %p\n",
                    WdkmStatusName(Status), Class, WdkmpDiagKindName((WDKM_LOCK_KIND)Kind),
                    Lock, WdkmpDiagBaseName(File), (unsigned)Line, (unsigned)WdkmpGetIrql(),
                    Caller);
    WdkmpDebugPrint(WDKMP_DEBUG_ERROR, "wdkmutex:   %s\n", WdkmpDiagMisuseMeaning(Status));
    if (Header != NULL && Header->Kind->Kind != (WDKM_LOCK_KIND)Kind) {
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR, "wdkmutex:   the handle is a %s\n",
                        WdkmpDiagKindName(Header->Kind->Kind));
    }
    if (Owner != NULL) {
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR, "wdkmutex:   the lock is held by thread %p%s\n",
                        Owner, Owner == WdkmpCurrentThread() ? " (this thread)" : "");
    }
    for (Index = 0; Record != NULL && Index < Record->Depth; Index += 1) {
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex:   this thread holds \"%s\", acquired at %s:%u\n",
                        WdkmpDiagClassName(Record->Held[Index].Class),
                        WdkmpDiagBaseName(Record->Held[Index].File),
                        (unsigned)Record->Held[Index].Line);
    }
    WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                    "wdkmutex:   no status can be returned here: stopping the system with bug "
                    "check 0x%08X (status, lock, caller, kind << 8 | IRQL)\n",
                    (unsigned)WDKM_BUGCHECK_LOCK_MISUSE);
    WdkmpDiagKeep(WdkmDiagCallbackMisuse, 0, WdkmStatusName(Status), NULL, 0, Class, File, Line);
}

/* ------------------------------------------------------------------------
 * Public functions.
 */

/* Header of a live library lock, or NULL. */
static
PWDKMP_LOCK_HEADER
WdkmpDiagHeaderOf(
    _In_opt_ const VOID *Lock
    )
{
    PWDKMP_LOCK_HEADER Header = (PWDKMP_LOCK_HEADER)Lock;
    const WDKMP_LOCK_KIND *Kind;

    if (Header == NULL || Header->Kind == NULL) {
        return NULL;
    }
    Kind = WdkmpLockKindOf(Header->Kind->Kind);
    return Kind == Header->Kind && Header->Signature == Kind->Signature ? Header : NULL;
}

NTSTATUS
WdkmDiagSetPolicy(
    _In_ ULONG Flags
    )
{
    if ((Flags & ~(WDKM_DIAG_REFUSE | WDKM_DIAG_TIME_HOLDS)) != 0) {
        return STATUS_INVALID_PARAMETER;
    }
    InterlockedExchange(&WdkmpDiag.Policy, (LONG)Flags);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmDiagSetClassName(
    _In_ PVOID Lock,
    _In_z_ PCSTR Name
    )
{
    PWDKMP_LOCK_HEADER Header = WdkmpDiagHeaderOf(Lock);

    if (Header == NULL || Name == NULL || Name[0] == '\0') {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (Header->RegistryEntry != NULL) {
        return STATUS_WDKM_OWNED_BY_REGISTRY;
    }
    if (WdkmpLockIsHeld(Header)) {
        return STATUS_WDKM_LOCK_HELD;
    }
    return WdkmpDiagSetClass(Header, Name);
}

NTSTATUS
WdkmDiagNoteCreated(
    _In_ NTSTATUS Status,
    _In_opt_ const VOID *LockPointer,
    _In_z_ PCSTR File,
    _In_ ULONG Line
    )
{
    PWDKMP_LOCK_HEADER Header;
    CHAR Name[WDKM_DIAG_NAME_LENGTH];
    ULONG Length = 0;

    if (Status != STATUS_SUCCESS || LockPointer == NULL) {
        return Status;
    }
    Header = WdkmpDiagHeaderOf(*(PVOID const *)LockPointer);
    if (Header != NULL && Header->RegistryEntry == NULL) {
        WdkmpDiagAppend(Name, &Length, WdkmpDiagBaseName(File));
        WdkmpDiagAppend(Name, &Length, ":");
        WdkmpDiagAppendNumber(Name, &Length, Line, 10);
        (VOID)WdkmpDiagSetClass(Header, Name);   /* a full table keeps the class of one */
    }
    return Status;
}

BOOLEAN
WdkmDiagIsHeld(
    _In_opt_ const VOID *Lock
    )
{
    PWDKMP_DIAG_THREAD Record;
    ULONG Index;

    if (Lock == NULL) {
        return FALSE;
    }
    if (WdkmpLockOwnedByCaller(Lock)) {
        return TRUE;
    }
    Record = WdkmpDiagFindThread(FALSE);
    if (Record != NULL) {
        for (Index = 0; Index < Record->Depth; Index += 1) {
            if (Record->Held[Index].Lock == (PWDKMP_LOCK_HEADER)Lock) {
                return TRUE;
            }
        }
    }
    return FALSE;
}

BOOLEAN
WdkmDiagAssertFailed(
    _In_z_ PCSTR Expression,
    _In_z_ PCSTR File,
    _In_ ULONG Line
    )
{
    InterlockedIncrement(&WdkmpDiag.AssertFailures);
    WdkmpDebugPrint(WDKMP_DEBUG_ERROR, "wdkmutex: ASSERTION FAILED at %s:%u: %s\n",
                    WdkmpDiagBaseName(File), (unsigned)Line, Expression);
    WdkmpDiagKeep(WdkmDiagAssertHeld, 0, Expression, File, Line, "", NULL, 0);
    return FALSE;
}

NTSTATUS
WdkmDiagCheckNoneHeld(
    _In_z_ PCSTR Where
    )
{
    PWDKMP_DIAG_THREAD Record;
    BOOLEAN Held = FALSE;
    ULONG Index;

    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    Record = WdkmpDiagFindThread(FALSE);
    if (Record == NULL) {
        return STATUS_SUCCESS;
    }
    if (Where == NULL) {
        Where = "?";
    }
    for (Index = 0; Index < Record->Depth; Index += 1) {
        const WDKMP_DIAG_HELD *Entry = &Record->Held[Index];
        InterlockedIncrement(&WdkmpDiag.ContextViolations);
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: CONTEXT VIOLATION at %s: \"%s\" still held, acquired at %s:%u\n",
                        Where, WdkmpDiagClassName(Entry->Class), WdkmpDiagBaseName(Entry->File),
                        (unsigned)Entry->Line);
        WdkmpDiagKeep(WdkmDiagHeldAtCheckpoint, 0, WdkmpDiagClassName(Entry->Class), Entry->File,
                      Entry->Line, Where, NULL, 0);
        Held = TRUE;
    }
    if (Record->Regions > 0) {
        InterlockedIncrement(&WdkmpDiag.ContextViolations);
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: CONTEXT VIOLATION at %s: %d critical/guarded region(s) not left\n",
                        Where, (int)Record->Regions);
        WdkmpDiagKeep(WdkmDiagRegionUnbalanced, 0, "region", NULL, 0, Where, NULL, 0);
        Held = TRUE;
    }
    return Held ? STATUS_WDKM_LOCK_HELD : STATUS_SUCCESS;
}

static
VOID
WdkmpDiagFillStatistics(
    _Out_ PWDKM_DIAG_STATISTICS Statistics,
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ ULONG Locks,
    _In_ const WDKMP_DIAG_FIGURES *Figures
    )
{
    ULONG Length = 0;

    WdkmpDiagAppend(Statistics->Name, &Length, Name);
    Statistics->Kind = Kind;
    Statistics->Locks = Locks;
    Statistics->Acquisitions = (ULONG64)WdkmpLoadLong64(&Figures->Acquisitions);
    Statistics->Contended = (ULONG64)WdkmpLoadLong64(&Figures->Contended);
    Statistics->TotalWaitNs = WdkmpTimestampToNs((ULONG64)WdkmpLoadLong64(&Figures->TotalWait));
    Statistics->MaxWaitNs = WdkmpTimestampToNs((ULONG64)WdkmpLoadLong64(&Figures->MaxWait));
    Statistics->MaxHoldNs = WdkmpTimestampToNs((ULONG64)WdkmpLoadLong64(&Figures->MaxHold));
}

NTSTATUS
WdkmDiagQueryLockStatistics(
    _In_ const VOID *Lock,
    _Out_ PWDKM_DIAG_STATISTICS Statistics
    )
{
    PWDKMP_LOCK_HEADER Header = WdkmpDiagHeaderOf(Lock);
    KIRQL OldIrql;

    if (Header == NULL || Statistics == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    RtlZeroMemory(Statistics, sizeof(*Statistics));
    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    WdkmpDiagFillStatistics(Statistics, WdkmpDiagClassName(Header->Diag.Class),
                            Header->Kind->Kind, 1, &Header->Diag.Figures);
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmDiagQueryStatistics(
    _Out_writes_opt_(Capacity) PWDKM_DIAG_STATISTICS Classes,
    _In_ ULONG Capacity,
    _Out_ PULONG Count,
    _In_ BOOLEAN Print
    )
{
    WDKM_DIAG_STATISTICS Row;
    PWDKMP_LOCK_HEADER Header;
    ULONG Found = 0;
    KIRQL OldIrql;
    LONG Index;

    if (Count == NULL || (Classes == NULL && Capacity > 0)) {
        return STATUS_INVALID_PARAMETER;
    }
    if (Print) {
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: lock statistics, per class (times in microseconds)\n");
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: %-28s %-16s %5s %10s %9s %10s %9s %9s\n", "class", "kind", "locks",
                        "acquired", "contended", "wait", "max wait", "max hold");
    }
    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        WdkmpDiag.Totals[Index] = WdkmpDiag.Classes[Index].Retired;
    }
    for (Header = WdkmpDiag.Live; Header != NULL; Header = Header->Diag.Next) {
        if (Header->Diag.Class >= 0) {
            WdkmpDiagAddFigures(&WdkmpDiag.Totals[Header->Diag.Class], &Header->Diag.Figures);
        }
    }
    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        WDKMP_DIAG_CLASS *Class = &WdkmpDiag.Classes[Index];
        if (!Class->InUse || WdkmpDiag.Totals[Index].Acquisitions == 0) {
            continue;
        }
        RtlZeroMemory(&Row, sizeof(Row));
        WdkmpDiagFillStatistics(&Row, Class->Name, Class->Kind, (ULONG)Class->Locks,
                                &WdkmpDiag.Totals[Index]);
        if (Found < Capacity) {
            Classes[Found] = Row;
        }
        Found += 1;
        if (Print) {
            WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                            "wdkmutex: %-28s %-16s %5u %10" WDKMP_U64 " %9" WDKMP_U64
                            " %10" WDKMP_U64 " %9" WDKMP_U64 " %9" WDKMP_U64 "\n",
                            Row.Name, WdkmpDiagKindName(Row.Kind), (unsigned)Row.Locks,
                            (unsigned long long)Row.Acquisitions,
                            (unsigned long long)Row.Contended,
                            (unsigned long long)(Row.TotalWaitNs / 1000),
                            (unsigned long long)(Row.MaxWaitNs / 1000),
                            (unsigned long long)(Row.MaxHoldNs / 1000));
        }
    }
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
    *Count = Found;
    return Found > Capacity ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

NTSTATUS
WdkmDiagQueryViolations(
    _Out_writes_opt_(Capacity) PWDKM_DIAG_VIOLATION Violations,
    _In_ ULONG Capacity,
    _Out_ PULONG Count
    )
{
    ULONG Total;
    ULONG Index;

    if (Count == NULL || (Violations == NULL && Capacity > 0)) {
        return STATUS_INVALID_PARAMETER;
    }
    Total = (ULONG)WdkmpLoadLong(&WdkmpDiag.Violations);
    for (Index = 0; Index < Capacity && Index < Total && Index < WDKMP_DIAG_KEPT; Index += 1) {
        Violations[Index] = WdkmpDiag.Kept[Index];
    }
    *Count = Total;
    return STATUS_SUCCESS;
}

/* Summary figures; with Print, each leaked lock and unbalanced thread too. */
static
VOID
WdkmpDiagSummarize(
    _Out_ PWDKM_DIAG_SUMMARY Summary,
    _In_ BOOLEAN Print
    )
{
    WDKM_POOL_STATISTICS Pool;
    PWDKMP_LOCK_HEADER Header;
    KIRQL OldIrql;
    ULONG Index;

    RtlZeroMemory(Summary, sizeof(*Summary));
    Summary->OrderViolations = (ULONG)WdkmpLoadLong(&WdkmpDiag.OrderViolations);
    Summary->ContextViolations = (ULONG)WdkmpLoadLong(&WdkmpDiag.ContextViolations);
    Summary->AssertFailures = (ULONG)WdkmpLoadLong(&WdkmpDiag.AssertFailures);
    Summary->Untracked = (ULONG)WdkmpLoadLong(&WdkmpDiag.Untracked);

    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    for (Header = WdkmpDiag.Live; Header != NULL; Header = Header->Diag.Next) {
        BOOLEAN Held = WdkmpLockIsHeld(Header);
        Summary->LiveLocks += 1;
        Summary->HeldLocks += Held ? 1 : 0;
        if (Print) {
            WdkmpDebugPrint(WDKMP_DEBUG_ERROR, "wdkmutex: LEAK: %s \"%s\" never destroyed%s%s\n",
                            WdkmpDiagKindName(Header->Kind->Kind),
                            WdkmpDiagClassName(Header->Diag.Class),
                            Held ? ", still held" : "",
                            Header->RegistryEntry != NULL ? " (registry not destroyed)" : "");
            WdkmpDiagKeep(WdkmDiagLeakedLock, 0, WdkmpDiagClassName(Header->Diag.Class), NULL,
                          0, WdkmpDiagKindName(Header->Kind->Kind), NULL, 0);
        }
    }
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);

    for (Index = 0; Index < WDKM_DIAG_MAX_THREADS; Index += 1) {
        const WDKMP_DIAG_THREAD *Record = &WdkmpDiagThreads[Index];
        PVOID Thread = WdkmpLoadPointerAcquire((PVOID const volatile *)&Record->Thread);
        if (Thread == NULL || Record->Regions <= 0) {
            continue;
        }
        Summary->UnbalancedRegions += (ULONG)Record->Regions;
        if (Print) {
            WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                            "wdkmutex: LEAK: thread %p left %d critical/guarded region(s) entered\n",
                            Thread, (int)Record->Regions);
        }
    }

    WdkmQueryPoolStatistics(&Pool);
    Summary->PoolBlocks = (SIZE_T)Pool.OutstandingBlocks;
    Summary->PoolBytes = (SIZE_T)Pool.OutstandingBytes;
}

NTSTATUS
WdkmDiagQuerySummary(
    _Out_ PWDKM_DIAG_SUMMARY Summary
    )
{
    if (Summary == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    WdkmpDiagSummarize(Summary, FALSE);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmDiagLeakCheck(
    _Out_opt_ PWDKM_DIAG_SUMMARY Summary
    )
{
    WDKM_DIAG_SUMMARY Local;
    BOOLEAN Leaked;

    if (WdkmpGetIrql() != PASSIVE_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    WdkmpDiagSummarize(&Local, TRUE);
    Leaked = Local.LiveLocks != 0 || Local.UnbalancedRegions != 0 || Local.PoolBlocks != 0;
    WdkmpDebugPrint(Leaked ? WDKMP_DEBUG_ERROR : WDKMP_DEBUG_TRACE,
                    "wdkmutex: leak check: %s: %u lock(s) not destroyed (%u held), %u region(s) "
                    "not left, %u pool block(s) / %u bytes outstanding; %u order and %u "
                    "context violation(s), %u failed assertion(s) during the run\n",
                    Leaked ? "LEAKS FOUND" : "clean", (unsigned)Local.LiveLocks, (unsigned)Local.HeldLocks,
                    (unsigned)Local.UnbalancedRegions, (unsigned)Local.PoolBlocks, (unsigned)Local.PoolBytes,
                    (unsigned)Local.OrderViolations, (unsigned)Local.ContextViolations, (unsigned)Local.AssertFailures);
    if (Summary != NULL) {
        *Summary = Local;
    }
    return Leaked ? STATUS_WDKM_LEAK_DETECTED : STATUS_SUCCESS;
}

NTSTATUS
WdkmDiagReset(
    VOID
    )
{
    PWDKMP_LOCK_HEADER Header;
    KIRQL OldIrql;
    LONG Index;

    if (WdkmpGetIrql() != PASSIVE_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        WDKMP_DIAG_CLASS *Class = &WdkmpDiag.Classes[Index];
        LONG Word;
        for (Word = 0; Word < WDKMP_DIAG_WORDS; Word += 1) {
            InterlockedExchange(&WdkmpDiag.Order[Index][Word], 0);
            WdkmpDiag.Reported[Index][Word] = 0;
        }
        if (Class->InUse && Class->Locks == 0) {
            Class->InUse = FALSE;            /* a named class nobody uses any more */
        }
        WdkmpDiagClearFigures(&Class->Retired);
    }
    for (Index = 0; Index < WDKM_DIAG_MAX_EDGES; Index += 1) {
        WdkmpDiag.Edges[Index].InUse = FALSE;
    }
    for (Header = WdkmpDiag.Live; Header != NULL; Header = Header->Diag.Next) {
        WdkmpDiagClearFigures(&Header->Diag.Figures);
    }
    InterlockedExchange(&WdkmpDiag.OrderViolations, 0);
    InterlockedExchange(&WdkmpDiag.ContextViolations, 0);
    InterlockedExchange(&WdkmpDiag.AssertFailures, 0);
    InterlockedExchange(&WdkmpDiag.Untracked, 0);
    InterlockedExchange(&WdkmpDiag.Violations, 0);
    InterlockedExchange(&WdkmpDiag.Warned, 0);
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
    return STATUS_SUCCESS;
}

#else

/* Release builds: nothing here (ISO C wants a declaration in every file). */
typedef int WDKMP_DIAG_COMPILED_OUT;

#endif /* WDKM_CHECKED */
