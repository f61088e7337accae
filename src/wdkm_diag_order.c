/*
 * wdkm_diag_order.c - the recorded lock order and its cycles (checked
 * builds), after Linux's lockdep.
 *
 * Order is kept between classes as a bit matrix: bit (A, B) says "B was
 * acquired while A was held". Acquiring B while holding A first tests the
 * bit without a lock (bits are only ever set, until a class slot is
 * reused or WdkmDiagReset); only a new pair takes the validator's spin
 * lock, searches the matrix for a path B ->* A (a cycle, reported with the
 * sites remembered for each pair in the edge table), and sets it. Bits
 * are read relaxed: a pair seen late is only checked again under the lock.
 */
#include "wdkm_diag_private.h"

#if WDKM_CHECKED

/* Forget every order involving Index: its slot is about to be reused. */
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

/* Records "Held before To" with the sites of this acquisition. */
static
VOID
WdkmpDiagRecordOrder(
    _In_ const WDKMP_DIAG_HELD *Held,
    _In_ LONG To,
    _In_ const WDKMP_DIAG_ACQUIRE *Diag
    )
{
    WDKMP_DIAG_EDGE *Edge = WdkmpDiagEdge(Held->Class, To, TRUE);

    if (Edge != NULL) {
        Edge->FromFile = Held->File;
        Edge->FromLine = Held->Line;
        Edge->ToFile = Diag->File;
        Edge->ToLine = Diag->Line;
    }
    InterlockedOr(&WdkmpDiag.Order[Held->Class][To / 32], (LONG)(1UL << (To % 32)));
}

/* A held lock whose order before To is not recorded yet. */
static
BOOLEAN
WdkmpDiagIsNewPair(
    _In_ const WDKMP_DIAG_HELD *Held,
    _In_ PWDKMP_LOCK_HEADER Header,
    _In_ LONG To
    )
{
    return Held->Lock != Header && Held->Class >= 0 && Held->Class != To &&
           !WdkmpDiagOrdered(Held->Class, To);
}

/*
 * Order check of a waiting acquisition of Header by the context whose
 * holds View shows: report every new pair that closes a cycle (each pair
 * once), then record the new pairs - unless the policy refuses the
 * acquisition, which then records none of them (it never happened) and
 * counts once however many orders it would have closed.
 */
NTSTATUS
WdkmpDiagCheckOrder(
    _In_ const WDKMP_DIAG_VIEW *View,
    _In_ PWDKMP_LOCK_HEADER Header,
    _In_ const WDKMP_DIAG_ACQUIRE *Diag
    )
{
    LONG To = WdkmpDiagLockClass(Header);
    BOOLEAN Refuse = (WdkmpLoadLong(&WdkmpDiag.Policy) & WDKM_DIAG_REFUSE) != 0;
    BOOLEAN Missing = FALSE;
    BOOLEAN Closes = FALSE;
    const WDKMP_DIAG_HELD *Held;
    KIRQL OldIrql;
    ULONG Cursor;

    if (To < 0) {
        InterlockedIncrement(&WdkmpDiag.Untracked);
        return STATUS_SUCCESS;
    }
    Cursor = 0;
    while ((Held = WdkmpDiagNextHeld(View, &Cursor)) != NULL) {
        if (Held->Lock == Header) {
            return STATUS_SUCCESS;     /* recursion: the owner does not wait, no order */
        }
        Missing = Missing || WdkmpDiagIsNewPair(Held, Header, To);
    }
    if (!Missing) {
        return STATUS_SUCCESS;     /* the common case: every pair known, no lock taken */
    }

    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    Cursor = 0;
    while ((Held = WdkmpDiagNextHeld(View, &Cursor)) != NULL) {
        ULONG Length;
        LONG Bit;

        if (!WdkmpDiagIsNewPair(Held, Header, To)) {
            continue;
        }
        Length = WdkmpDiagFindPath(To, Held->Class);
        if (Length != 0) {
            Bit = (LONG)(1UL << (To % 32));
            Closes = TRUE;
            if (!Refuse) {
                /* Recorded right below, so counted once (a second hold of
                   the class finds the pair known). */
                InterlockedIncrement(&WdkmpDiag.OrderViolations);
            }
            if ((WdkmpDiag.Reported[Held->Class][To / 32] & Bit) == 0) {
                WdkmpDiag.Reported[Held->Class][To / 32] |= Bit;
                WdkmpDiagReportCycle(Held, To, Diag, Length, Refuse);
                WdkmpDiagKeep(WdkmDiagLockOrder, Length, WdkmpDiagClassName(Held->Class),
                              Held->File, Held->Line, WdkmpDiagClassName(To), Diag->File,
                              Diag->Line);
            }
        }
        if (!Refuse) {
            WdkmpDiagRecordOrder(Held, To, Diag);  /* also a closing one: reported once */
        }
    }
    if (Refuse && Closes) {
        InterlockedIncrement(&WdkmpDiag.OrderViolations);
    } else if (Refuse) {
        Cursor = 0;
        while ((Held = WdkmpDiagNextHeld(View, &Cursor)) != NULL) {
            if (WdkmpDiagIsNewPair(Held, Header, To)) {
                WdkmpDiagRecordOrder(Held, To, Diag);
            }
        }
    }
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
    return Closes && Refuse ? STATUS_POSSIBLE_DEADLOCK : STATUS_SUCCESS;
}

VOID
WdkmpDiagOrderReset(
    VOID
    )
{
    LONG Index;
    LONG Word;

    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        for (Word = 0; Word < WDKMP_DIAG_WORDS; Word += 1) {
            InterlockedExchange(&WdkmpDiag.Order[Index][Word], 0);
            WdkmpDiag.Reported[Index][Word] = 0;
        }
    }
    for (Index = 0; Index < WDKM_DIAG_MAX_EDGES; Index += 1) {
        WdkmpDiag.Edges[Index].InUse = FALSE;
    }
}

#else

/* Release builds: nothing here (ISO C wants a declaration in every file). */
typedef int WDKMP_DIAG_ORDER_COMPILED_OUT;

#endif /* WDKM_CHECKED */
