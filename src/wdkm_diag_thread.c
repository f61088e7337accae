/*
 * wdkm_diag_thread.c - each thread's held locks, regions and pending
 * acquisition sites (checked builds).
 *
 * Records. Each thread's holds live in a record of a fixed table, found
 * by hashing the thread and probing on (linear, over the whole table: 128
 * live threads fit in 128 records). A record's Thread word is NULL
 * (free), its owner (active), its owner | WDKMP_DIAG_PARKED (the owner
 * holds nothing and keeps it for its next acquisition; a thread that
 * finds no free record may take it), or its taker | WDKMP_DIAG_CLAIMING
 * while a taker clears it. A word leaves NULL, PARKED and active states by
 * interlocked compare-exchange only, so an owner and a taker never both
 * win (a taker leaves CLAIMING with a release store: the record is its
 * thread's contexts' until then, and a DPC or APC on the taker that finds
 * the word CLAIMING ends the claim itself and uses the record: it is that
 * thread; WdkmpDiagFinishClaim); a record is never freed
 * again, so a chain of probes has no gap and a search stops at the
 * first free record. Only the owning thread, and the DPCs and APCs that
 * interrupt it, write an active record.
 *
 * Interrupts. A DPC or APC runs on the thread it interrupts and may land
 * between any two instructions. A DPC can only interrupt below
 * DISPATCH_LEVEL and writes the high frame only (wdkm_diag_private.h);
 * an APC may land inside a push or pop of the low frame. Both leave the
 * record as they found it: a push reserves its slot (Depth first) before
 * filling it and publishes the lock last, a pop unpublishes an entry
 * before rewriting it, Depth changes by one interlocked exchange, and a
 * nested user pushes above and pops its own holds before it returns.
 *
 * Parking. Whoever empties a record parks it, at any IRQL: the thread
 * itself (at PASSIVE_LEVEL, or at an IRQL it raised by hand), or the DPC
 * or APC that interrupted it; else a thread that ends holding nothing
 * would keep its record for ever. The one record that must not be parked
 * is one a context of the thread has found and not yet written (a hold
 * or a region): an interrupt in that window would park it, another
 * thread take it, and the write land in a record not the thread's. So
 * the finder marks the record busy (WDKMP_DIAG_BUSY in Generation) for
 * the window, and nothing parks a busy record. A release or a region's
 * leave marks it too, from its write to its park (WdkmpDiagViewMark,
 * WdkmpDiagPutMarked), and only the holder of that mark parks: so a
 * record emptied by a release is not parked by an interrupt of an
 * acquisition that lands in the release and found it empty and active. The mark is set by
 * compare-exchange against the Generation read before the record was
 * seen to be the caller's: a record another thread took since has moved
 * on, so a stale finder never writes a mark into another thread's record.
 * A record a thread takes (a new one, or its own parked one back) is
 * marked as part of taking it, before it is published, so no window opens
 * between the two.
 * Contexts of one thread nest, so a context that finds the mark set was
 * interrupted inside the window of an outer one, which clears it after
 * this one has returned.
 *
 * A thread that holds nothing may still see its record parked (by an APC
 * on it) and taken while it reads it: readers confirm afterwards that
 * what they read was theirs (WdkmpDiagViewConfirm, the generation).
 */
#include "wdkm_diag_private.h"

#if WDKM_CHECKED

#define WDKMP_DIAG_SITES 64    /* pending-site slots */

/*
 * The site the next acquisition of Lock by Thread is made from. Line is
 * kept pointer-sized so that the pointer acquire/release helpers order it
 * with the other fields (WdkmDiagNoteSite, WdkmpDiagReadSite).
 */
typedef struct _WDKMP_DIAG_SITE {
    PVOID volatile Thread;
    PVOID volatile Lock;
    PVOID volatile File;
    PVOID volatile Line;
} WDKMP_DIAG_SITE;

WDKMP_DIAG_THREAD WdkmpDiagThreads[WDKM_DIAG_MAX_THREADS];
static WDKMP_DIAG_SITE WdkmpDiagSites[WDKMP_DIAG_SITES];
WDKMP_DIAG_CLAIM_HOOK *volatile WdkmpDiagClaimHook;

static
VOID
WdkmpDiagClaimPoint(
    _In_ ULONG Point
    )
{
    WDKMP_DIAG_CLAIM_HOOK *Hook = WdkmpDiagClaimHook;

    if (Hook != NULL) {
        Hook(Point);
    }
}

#define WDKMP_DIAG_PARKED   ((ULONG_PTR)1)     /* threads (and thread ids) are multiples of 4 */
#define WDKMP_DIAG_CLAIMING ((ULONG_PTR)2)

/* Generation: bit 0 the busy mark, the rest counts the times the record
   was taken (from free or parked). */
#define WDKMP_DIAG_BUSY     1L
#define WDKMP_DIAG_TAKEN    2L

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

static
PVOID
WdkmpDiagWord(
    _In_ PWDKMP_DIAG_THREAD Record
    )
{
    return WdkmpLoadPointerAcquire((PVOID const volatile *)&Record->Thread);
}

static
PWDKMP_DIAG_THREAD
WdkmpDiagSlot(
    _In_ ULONG Start,
    _In_ ULONG Probe
    )
{
    return &WdkmpDiagThreads[(Start + Probe) % WDKM_DIAG_MAX_THREADS];
}

/*
 * Self's active record in its chain, or NULL; *Claiming: the one a context
 * of Self is claiming (only Self's contexts write a claiming word, so the
 * caller interrupted that claim); *Parked: its first parked one.
 */
static
PWDKMP_DIAG_THREAD
WdkmpDiagLookup(
    _In_ PVOID Self,
    _In_ ULONG Start,
    _Out_ PWDKMP_DIAG_THREAD *Claiming,
    _Out_ PWDKMP_DIAG_THREAD *Parked
    )
{
    PVOID ParkedWord = (PVOID)((ULONG_PTR)Self | WDKMP_DIAG_PARKED);
    PVOID ClaimingWord = (PVOID)((ULONG_PTR)Self | WDKMP_DIAG_CLAIMING);
    PWDKMP_DIAG_THREAD Record;
    PVOID Word;
    ULONG Probe;

    *Claiming = NULL;
    *Parked = NULL;
    for (Probe = 0; Probe < WDKM_DIAG_MAX_THREADS; Probe += 1) {
        Record = WdkmpDiagSlot(Start, Probe);
        Word = WdkmpDiagWord(Record);
        if (Word == Self) {
            return Record;
        }
        if (Word == ClaimingWord && *Claiming == NULL) {
            *Claiming = Record;
        }
        if (Word == ParkedWord && *Parked == NULL) {
            *Parked = Record;
        }
        if (Word == NULL) {
            break;                  /* the end of every chain through here */
        }
    }
    return NULL;
}

/*
 * Zeroes a count of a record being claimed, if it was Seen not zero.
 * Whoever parks a record has emptied it, so a claim (most often a thread
 * taking its own parked record back, at every first acquisition) usually
 * finds zeros and writes nothing: five full barriers fewer per claim,
 * which the checked build's every acquisition from holding nothing paid.
 * By compare-exchange from what was seen, not an exchange: a context of
 * the claimer that lands after the read may end the claim and write a
 * hold it keeps when it returns (WdkmpDiagFinishClaim), which this must
 * not erase.
 */
static
VOID
WdkmpDiagClearLong(
    _Inout_ LONG volatile *Value,
    _In_ LONG Seen
    )
{
    if (Seen != 0) {
        (VOID)InterlockedCompareExchange(Value, 0, Seen);
    }
}

/*
 * Ends the claim of Record (its word Self | CLAIMING): cleared, a new
 * generation, marked busy for the claimer's window, published as Self's.
 * The claimer runs it, and so does a context of Self that interrupted the
 * claim and found the word claiming (it adopts the claim, and writes its
 * own holds under the claimer's mark). Either may be interrupted by the
 * other anywhere in it, so every step leaves the same result done twice:
 *
 * - the clearing reads the counts, then, if the word is still claiming,
 *   zeroes those it saw not zero (what the previous owner left, which a
 *   parked record usually is not). Once an adopter has published the
 *   word the claim is over: a context it interrupted reads the word
 *   changed and clears nothing, and one that read the counts before
 *   fails its compare-exchange (a DPC may return holding a spin lock it
 *   took in the adopted record: that hold stays). An adopter does not
 *   park what it empties, as the mark, set before the word is published,
 *   stays until the claimer's WdkmpDiagTaken (only the holder of a mark
 *   parks a record: WdkmpDiagPutMarked);
 * - the generation only grows, busy each time;
 * - the word goes from claiming to Self, and stays Self while marked:
 *   only Self's contexts change an active word, by parking it.
 *
 * Ordering. The claimer and an adopter run on one processor, one inside
 * the other: each sees the other's stores in program order, so nothing
 * between them needs a fence, only the atomic (volatile) accesses that
 * keep the compiler from moving or merging them. The rest is for the
 * other processors: the generation's compare-exchange is a full barrier,
 * after the exchange that made the word claiming and before any write
 * the claim or its holds make (the clearing writes only where a count is
 * not zero, and a parked record is empty: WdkmpDiagClearLong), so a stale
 * reader (the record's previous owner, confirming a view:
 * WdkmpDiagViewConfirm) that saw any of them sees the word or the
 * generation changed; the word is published
 * last, with release, so a reader that acquires it as Self's (the leak
 * check's Regions) sees the record cleared.
 */
static
VOID
WdkmpDiagFinishClaim(
    _Inout_ PWDKMP_DIAG_THREAD Record,
    _In_ PVOID Self
    )
{
    LONG Counts[2 * WDKMP_DIAG_FRAMES + 1];
    ULONG Frame;
    LONG Seen;

    for (Frame = 0; Frame < WDKMP_DIAG_FRAMES; Frame += 1) {
        Counts[2 * Frame] = WdkmpLoadLong(&Record->Frames[Frame].Depth);
        Counts[2 * Frame + 1] = WdkmpLoadLong(&Record->Frames[Frame].Lost);
    }
    Counts[2 * WDKMP_DIAG_FRAMES] = WdkmpLoadLong(&Record->Regions);
    if (WdkmpDiagWord(Record) != (PVOID)((ULONG_PTR)Self | WDKMP_DIAG_CLAIMING)) {
        return;                     /* ended by a context that interrupted this one */
    }
    for (Frame = 0; Frame < WDKMP_DIAG_FRAMES; Frame += 1) {
        WdkmpDiagClearLong(&Record->Frames[Frame].Depth, Counts[2 * Frame]);
        WdkmpDiagClearLong(&Record->Frames[Frame].Lost, Counts[2 * Frame + 1]);
    }
    WdkmpDiagClearLong(&Record->Regions, Counts[2 * WDKMP_DIAG_FRAMES]);
    WdkmpDiagClaimPoint(WDKMP_DIAG_CLAIM_CLEARED);
    /* A new generation, busy: a finder of the old one fails to mark it
       (WdkmpDiagMarkBusy), a view of it fails to confirm. */
    do {
        Seen = WdkmpLoadLong(&Record->Generation);
    } while (InterlockedCompareExchange(&Record->Generation,
                                        (LONG)((((ULONG)Seen & ~(ULONG)WDKMP_DIAG_BUSY) +
                                                (ULONG)WDKMP_DIAG_TAKEN) |
                                               (ULONG)WDKMP_DIAG_BUSY),
                                        Seen) != Seen);
    WdkmpDiagClaimPoint(WDKMP_DIAG_CLAIM_MARKED);
    WdkmpStorePointerRelease((PVOID volatile *)&Record->Thread, Self);
}

/*
 * Takes Record for Self if its word is still Word (free, or parked: its
 * owner holds nothing): the claim, ended as WdkmpDiagFinishClaim says.
 * FALSE if another thread took it first.
 */
static
BOOLEAN
WdkmpDiagClaimRecord(
    _Inout_ PWDKMP_DIAG_THREAD Record,
    _In_ PVOID Self,
    _In_opt_ PVOID Word
    )
{
    WdkmpDiagClaimPoint(WDKMP_DIAG_CLAIM_SEEN);
    /* Full barrier: after the previous owner's last writes (its park),
       before this claim's. From here the record is Self's contexts' alone. */
    if (InterlockedCompareExchangePointer((PVOID volatile *)&Record->Thread,
                                          (PVOID)((ULONG_PTR)Self | WDKMP_DIAG_CLAIMING),
                                          Word) != Word) {
        return FALSE;
    }
    WdkmpDiagClaimPoint(WDKMP_DIAG_CLAIM_TAKEN);
    WdkmpDiagFinishClaim(Record, Self);
    return TRUE;
}

/*
 * A new record for Self, active and marked busy: the first free one of its
 * chain, else any parked one (its owner holds nothing). NULL when the
 * table has neither. An interrupt that lands during the search and takes
 * a record of its own leaves it parked when it returns (it empties it), a
 * spare the next claim may take; one that lands once the claim has begun
 * adopts it: so the thread never ends with two active records. An
 * interrupt of the search may also return with a lock still held (a DPC
 * may leave a spin lock for a later DPC to release), its record active:
 * WdkmpDiagTakeThread looks for that one after the claim, and gives the
 * claimed record back (WdkmpDiagOtherActive).
 */
static
PWDKMP_DIAG_THREAD
WdkmpDiagClaim(
    _In_ PVOID Self,
    _In_ ULONG Start
    )
{
    PWDKMP_DIAG_THREAD Record;
    PVOID Word;
    ULONG Probe;
    ULONG Pass;

    for (Pass = 0; Pass < 2; Pass += 1) {
        for (Probe = 0; Probe < WDKM_DIAG_MAX_THREADS; Probe += 1) {
            Record = WdkmpDiagSlot(Start, Probe);
            Word = WdkmpDiagWord(Record);
            if (Pass == 0 ? Word != NULL
                          : Word == NULL || ((ULONG_PTR)Word & WDKMP_DIAG_PARKED) == 0) {
                continue;
            }
            if (WdkmpDiagClaimRecord(Record, Self, Word)) {
                return Record;
            }
            /*
             * Taken between the read and the claim. By a DPC or APC on
             * this thread, it is parked again when the claim resumes (an
             * event leaves what it took empty), and maybe the table's last
             * record: try it once more rather than go without. By another
             * thread, it is active, and skipped.
             */
            Word = WdkmpDiagWord(Record);
            if (((ULONG_PTR)Word & WDKMP_DIAG_PARKED) != 0 &&
                WdkmpDiagClaimRecord(Record, Self, Word)) {
                return Record;
            }
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

/*
 * An active record of Self's in its chain other than Record: one that a
 * DPC or APC took while Self searched for a record (before its claim's
 * compare-exchange, so it did not adopt the claim) and still holds
 * something in, as it returned holding a lock. It comes before Record in
 * the chain (the interrupt took the first record it could, and the search
 * goes on past what it cannot take), so it is what lookups find: the hold
 * of Self's acquisition goes there, and Record is a spare.
 */
static
PWDKMP_DIAG_THREAD
WdkmpDiagOtherActive(
    _In_ PVOID Self,
    _In_ ULONG Start,
    _In_opt_ PWDKMP_DIAG_THREAD Record
    )
{
    PWDKMP_DIAG_THREAD Other;
    PVOID Word;
    ULONG Probe;

    for (Probe = 0; Probe < WDKM_DIAG_MAX_THREADS; Probe += 1) {
        Other = WdkmpDiagSlot(Start, Probe);
        Word = WdkmpDiagWord(Other);
        if (Word == NULL) {
            break;
        }
        if (Word == Self && Other != Record) {
            return Other;
        }
    }
    return NULL;
}

/* Whether Record holds nothing: no hold, none lost, no region. */
static
BOOLEAN
WdkmpDiagEmpty(
    _In_ PWDKMP_DIAG_THREAD Record
    )
{
    ULONG Frame;

    if (WdkmpLoadLong(&Record->Regions) != 0) {
        return FALSE;
    }
    for (Frame = 0; Frame < WDKMP_DIAG_FRAMES; Frame += 1) {
        if (WdkmpLoadLong(&Record->Frames[Frame].Depth) != 0 ||
            WdkmpLoadLong(&Record->Frames[Frame].Lost) != 0) {
            return FALSE;
        }
    }
    return TRUE;
}

/*
 * Record, just claimed by Self (active, marked busy by the claim), is not
 * needed: parked if empty, then unmarked. FALSE if not empty: it holds
 * what an interrupt left in it (a thread with two such records is not
 * handled), and the claimer keeps it, marked.
 */
static
BOOLEAN
WdkmpDiagGiveBack(
    _Inout_ PWDKMP_DIAG_THREAD Record,
    _In_ PVOID Self
    )
{
    LONG Generation = WdkmpLoadLong(&Record->Generation);

    if (WdkmpDiagEmpty(Record) &&
        InterlockedCompareExchangePointer((PVOID volatile *)&Record->Thread,
                                          (PVOID)((ULONG_PTR)Self | WDKMP_DIAG_PARKED),
                                          Self) == Self) {
        /* Unmarked unless taken again meanwhile (a new generation). */
        (VOID)InterlockedCompareExchange(&Record->Generation,
                                         Generation & ~WDKMP_DIAG_BUSY, Generation);
        return TRUE;
    }
    return FALSE;
}

/* Read with a full barrier: ordered against the reads around it. */
static
LONG
WdkmpDiagGeneration(
    _In_ PWDKMP_DIAG_THREAD Record
    )
{
    return InterlockedCompareExchange(&Record->Generation, 0, 0);
}

/*
 * Marks Record, found active and Self's, busy for the caller's window
 * (*Marked: TRUE if this call set the mark, FALSE if an outer context of
 * the thread holds it). FALSE if the record is not Self's any more (an
 * interrupt parked it, perhaps another thread took it): look again.
 */
static
BOOLEAN
WdkmpDiagMarkBusy(
    _Inout_ PWDKMP_DIAG_THREAD Record,
    _In_ PVOID Self,
    _Out_ PBOOLEAN Marked
    )
{
    /* Seen before the owner is checked (an acquire orders the two): if
       the record is Self's now, any taking after this read changes
       Generation and fails the mark. */
    LONG Seen = WdkmpLoadLongAcquire(&Record->Generation);

    *Marked = FALSE;
    if (WdkmpDiagWord(Record) != Self) {
        return FALSE;
    }
    if ((Seen & WDKMP_DIAG_BUSY) != 0) {
        /* Inside an outer context's window, if it is the record's mark
           now: a record parked by a release keeps its releaser's mark
           until it is taken again (WdkmpDiagPutMarked), and an interrupt
           may have parked and taken it back since Seen was read. */
        return WdkmpLoadLongAcquire(&Record->Generation) == Seen;
    }
    if (InterlockedCompareExchange(&Record->Generation, Seen | WDKMP_DIAG_BUSY, Seen) != Seen) {
        return FALSE;
    }
    /* An interrupt may have parked it between the check and the mark. */
    if (WdkmpDiagWord(Record) != Self) {
        (VOID)InterlockedCompareExchange(&Record->Generation, Seen, Seen | WDKMP_DIAG_BUSY);
        return FALSE;
    }
    *Marked = TRUE;
    return TRUE;
}

/*
 * The calling thread's active record, or NULL (untracked, or it holds
 * nothing: a parked record counts as none).
 */
PWDKMP_DIAG_THREAD
WdkmpDiagFindThread(
    VOID
    )
{
    PVOID Self = WdkmpCurrentThread();
    PWDKMP_DIAG_THREAD Claiming;
    PWDKMP_DIAG_THREAD Parked;

    return WdkmpDiagLookup(Self, WdkmpDiagHash(Self) % WDKM_DIAG_MAX_THREADS, &Claiming,
                           &Parked);
}

PWDKMP_DIAG_THREAD
WdkmpDiagTakeThread(
    _Out_ PBOOLEAN Marked
    )
{
    PVOID Self = WdkmpCurrentThread();
    PVOID ParkedWord = (PVOID)((ULONG_PTR)Self | WDKMP_DIAG_PARKED);
    ULONG Start = WdkmpDiagHash(Self) % WDKM_DIAG_MAX_THREADS;
    PWDKMP_DIAG_THREAD Record;
    PWDKMP_DIAG_THREAD Claiming;
    PWDKMP_DIAG_THREAD Parked;
    ULONG Lost = 0;

    *Marked = FALSE;
    /* Each pass ends with Self's record active (then marked), or with
       nothing of Self's left active: giving up after interference that
       keeps parking it leaves no record behind. A record this call claims
       comes back active and marked, so no interrupt parks it before the
       caller's write is in. */
    while (Lost < 8) {
        Record = WdkmpDiagLookup(Self, Start, &Claiming, &Parked);
        if (Record != NULL) {
            WdkmpDiagClaimPoint(WDKMP_DIAG_POINT_FOUND);
            if (WdkmpDiagMarkBusy(Record, Self, Marked)) {
                return Record;
            }
            Lost += 1;
        } else if (Claiming != NULL) {
            /* This context interrupted a claim of its thread's: it ends
               it, and writes under the claimer's mark (*Marked FALSE). */
            WdkmpDiagFinishClaim(Claiming, Self);
            return Claiming;
        } else if (Parked != NULL) {
            /* Its own, parked: taken back as any parked record is. */
            if (WdkmpDiagClaimRecord(Parked, Self, ParkedWord)) {
                *Marked = TRUE;
                WdkmpDiagClaimPoint(WDKMP_DIAG_CLAIM_PUBLISHED);
                return Parked;
            }
            Lost += 1;              /* taken by another thread meanwhile */
        } else {
            Record = WdkmpDiagClaim(Self, Start);
            /* Rare path (a record new to the thread): look for one an
               interrupt of the search took and kept. */
            if (WdkmpDiagOtherActive(Self, Start, Record) != NULL &&
                (Record == NULL || WdkmpDiagGiveBack(Record, Self))) {
                Lost += 1;
                continue;
            }
            if (Record == NULL) {
                return NULL;
            }
            *Marked = TRUE;
            WdkmpDiagClaimPoint(WDKMP_DIAG_CLAIM_PUBLISHED);
            return Record;
        }
    }
    return NULL;
}

VOID
WdkmpDiagTaken(
    _Inout_ PWDKMP_DIAG_THREAD Record,
    _In_ BOOLEAN Marked
    )
{
    /* Active and Self's while marked: only its own contexts write it,
       and they run on this processor, in program order. The release
       orders the hold's writes before it for the others (the leak check). */
    if (Marked) {
        WdkmpStoreLongRelease(&Record->Generation,
                              WdkmpLoadLong(&Record->Generation) & ~WDKMP_DIAG_BUSY);
    }
}

/*
 * The end of a release's or a leave's mark (WdkmpDiagViewMark): the
 * record parked if the thread holds nothing, with the mark still set (a
 * parked record's mark means nothing, and its next claim gives it a new
 * generation: no interlocked operation to clear it); else unmarked.
 * Marked, the record stays Self's: only Self's contexts park an active
 * record, and none parks a marked one.
 */
VOID
WdkmpDiagPutMarked(
    _Inout_ PWDKMP_DIAG_THREAD Record
    )
{
    PVOID Self;
    PVOID Parked;

    if (WdkmpDiagEmpty(Record)) {
        Self = WdkmpCurrentThread();
        Parked = (PVOID)((ULONG_PTR)Self | WDKMP_DIAG_PARKED);
        WdkmpDiagClaimPoint(WDKMP_DIAG_POINT_EMPTIED);
        (VOID)InterlockedCompareExchangePointer((PVOID volatile *)&Record->Thread, Parked, Self);
        /*
         * A DPC that landed after the check may have returned holding a
         * spin lock it took in the record (under this mark; in the high
         * frame, the one a DPC writes: an APC returns holding nothing):
         * then take the record back. Another thread may have taken it
         * first; its claim clears that hold, which goes untracked.
         */
        if (WdkmpLoadLong(&Record->Frames[WDKMP_DIAG_FRAME_HIGH].Depth) == 0 &&
            WdkmpLoadLong(&Record->Frames[WDKMP_DIAG_FRAME_HIGH].Lost) == 0) {
            return;
        }
        if (InterlockedCompareExchangePointer((PVOID volatile *)&Record->Thread, Self,
                                              Parked) != Parked) {
            InterlockedIncrement(&WdkmpDiag.Untracked);
            return;
        }
    }
    WdkmpDiagTaken(Record, TRUE);
}

/* ------------------------------------------------------------------------
 * Frames.
 */

static
BOOLEAN
WdkmpDiagFrameHoldsSpinLock(
    _In_ const WDKMP_DIAG_FRAME *Frame
    )
{
    LONG Depth = WdkmpLoadLong(&Frame->Depth);
    LONG Index;

    for (Index = 0; Index < Depth && Index < WDKM_DIAG_MAX_HELD; Index += 1) {
        const WDKMP_DIAG_HELD *Held = &Frame->Held[Index];
        if (WdkmpLoadPointerAcquire(&Held->Lock) != NULL && (Held->Flags & WDKMP_DIAG_SPIN) != 0) {
            return TRUE;
        }
    }
    return FALSE;
}

VOID
WdkmpDiagView(
    _In_ KIRQL Irql,
    _In_ BOOLEAN AllFrames,
    _Out_ WDKMP_DIAG_VIEW *View
    )
{
    PWDKMP_DIAG_THREAD Record = WdkmpDiagFindThread();

    View->Self = WdkmpCurrentThread();
    View->Record = NULL;
    View->First = WDKMP_DIAG_FRAME_LOW;
    View->Generation = 0;
    if (Record == NULL) {
        return;
    }
    View->Generation = WdkmpDiagGeneration(Record) & ~WDKMP_DIAG_BUSY;
    if (WdkmpDiagWord(Record) != View->Self) {
        return;                     /* parked meanwhile: the thread holds nothing */
    }
    View->Record = Record;
    /* At DISPATCH_LEVEL with no spin lock held from below, this may be a
       DPC: what the interrupted thread holds is not its own. */
    if (!AllFrames && Irql >= DISPATCH_LEVEL &&
        !WdkmpDiagFrameHoldsSpinLock(&Record->Frames[WDKMP_DIAG_FRAME_LOW])) {
        View->First = WDKMP_DIAG_FRAME_HIGH;
    }
}

/* Whether View's frames show a hold or a region (read as they are). */
static
BOOLEAN
WdkmpDiagViewHolds(
    _In_ const WDKMP_DIAG_VIEW *View
    )
{
    PWDKMP_DIAG_THREAD Record = View->Record;
    BOOLEAN Holds = FALSE;
    ULONG Frame;
    LONG Index;

    if (View->First == WDKMP_DIAG_FRAME_LOW && WdkmpLoadLong(&Record->Regions) > 0) {
        Holds = TRUE;
    }
    for (Frame = View->First; Frame < WDKMP_DIAG_FRAMES && !Holds; Frame += 1) {
        const WDKMP_DIAG_FRAME *Of = &Record->Frames[Frame];
        LONG Depth = WdkmpLoadLong(&Of->Depth);
        Holds = WdkmpLoadLong(&Of->Lost) > 0;
        for (Index = 0; Index < Depth && Index < WDKM_DIAG_MAX_HELD && !Holds; Index += 1) {
            Holds = WdkmpLoadPointerAcquire(&Of->Held[Index].Lock) != NULL;
        }
    }
    return Holds;
}

BOOLEAN
WdkmpDiagViewConfirm(
    _Inout_ WDKMP_DIAG_VIEW *View
    )
{
    PWDKMP_DIAG_THREAD Record = View->Record;

    if (Record == NULL) {
        return FALSE;
    }
    /* Still this thread's, never taken since it was found: then what was
       read is the thread's own, and, not empty, nothing parks it now. */
    if (WdkmpDiagViewHolds(View) &&
        (WdkmpDiagGeneration(Record) & ~WDKMP_DIAG_BUSY) == View->Generation &&
        WdkmpDiagWord(Record) == View->Self) {
        return TRUE;
    }
    View->Record = NULL;
    return FALSE;
}

/*
 * WdkmpDiagViewConfirm for a release or a region's leave, which may empty
 * the record: confirmed, it is also marked busy (*Marked TRUE), unless a
 * context of the thread it interrupted holds the mark (*Marked FALSE), so
 * that from the caller's write to its park (WdkmpDiagPutMarked) nothing
 * else parks it. Else an APC landing in that window, one of whose own
 * acquisitions found the record empty and active, could have it parked
 * under it by a DPC landing in that acquisition, and taken by another
 * thread. The mark's compare-exchange is the confirmation's full-barrier
 * read of Generation: no interlocked operation more than a confirmation.
 */
BOOLEAN
WdkmpDiagViewMark(
    _Inout_ WDKMP_DIAG_VIEW *View,
    _Out_ PBOOLEAN Marked
    )
{
    PWDKMP_DIAG_THREAD Record = View->Record;
    LONG Seen;

    *Marked = FALSE;
    if (Record == NULL) {
        return FALSE;
    }
    if (WdkmpDiagViewHolds(View)) {
        Seen = InterlockedCompareExchange(&Record->Generation,
                                          View->Generation | WDKMP_DIAG_BUSY, View->Generation);
        if ((Seen & ~WDKMP_DIAG_BUSY) == View->Generation) {
            if (WdkmpDiagWord(Record) == View->Self) {
                *Marked = Seen == View->Generation;
                return TRUE;
            }
            if (Seen == View->Generation) {
                (VOID)InterlockedCompareExchange(&Record->Generation, View->Generation,
                                                 View->Generation | WDKMP_DIAG_BUSY);
            }
        }
    }
    View->Record = NULL;
    return FALSE;
}

const WDKMP_DIAG_HELD *
WdkmpDiagNextHeld(
    _In_ const WDKMP_DIAG_VIEW *View,
    _Inout_ PULONG Cursor
    )
{
    const WDKMP_DIAG_FRAME *Frame;
    const WDKMP_DIAG_HELD *Held;
    ULONG Number;
    ULONG Index;
    LONG Depth;

    if (View->Record == NULL) {
        return NULL;
    }
    for (;;) {
        Number = View->First + *Cursor / WDKM_DIAG_MAX_HELD;
        Index = *Cursor % WDKM_DIAG_MAX_HELD;
        if (Number >= WDKMP_DIAG_FRAMES) {
            return NULL;
        }
        Frame = &View->Record->Frames[Number];
        Depth = WdkmpLoadLong(&Frame->Depth);
        if ((LONG)Index >= Depth) {
            *Cursor = (Number - View->First + 1) * WDKM_DIAG_MAX_HELD;
            continue;
        }
        *Cursor += 1;
        Held = &Frame->Held[Index];
        if (WdkmpLoadPointerAcquire(&Held->Lock) != NULL) {
            return Held;            /* published; NULL: being written */
        }
    }
}

VOID
WdkmpDiagPush(
    _Inout_ PWDKMP_DIAG_THREAD Record,
    _In_ ULONG Frame,
    _In_ PWDKMP_LOCK_HEADER Header,
    _In_ LONG Class,
    _In_ const WDKMP_DIAG_ACQUIRE *Diag,
    _In_ ULONG64 Now
    )
{
    WDKMP_DIAG_FRAME *Into = &Record->Frames[Frame];
    LONG Depth = WdkmpLoadLong(&Into->Depth);
    WDKMP_DIAG_HELD *Held;

    if (Depth >= WDKM_DIAG_MAX_HELD) {
        InterlockedIncrement(&Into->Lost);
        InterlockedIncrement(&WdkmpDiag.Untracked);
        if (WdkmpDiagWarnOnce(WDKMP_DIAG_WARNED_HELD)) {
            WdkmpDebugPrint(WDKMP_DEBUG_WARNING,
                            "wdkmutex: diagnostics: a thread holds more than WDKM_DIAG_MAX_HELD (%u) "
                            "locks; the rest are not validated\n",
                            (unsigned)WDKM_DIAG_MAX_HELD);
        }
        return;
    }
    Held = &Into->Held[Depth];
    /* Reserve, fill, publish: an interrupt from here on pushes above. */
    WdkmpStorePointerRelease(&Held->Lock, NULL);
    InterlockedExchange(&Into->Depth, Depth + 1);
    Held->Class = Class;
    Held->Flags = Diag->Flags;
    Held->File = Diag->File;
    Held->Line = Diag->Line;
    Held->AcquiredAt = Now;
    WdkmpStorePointerRelease(&Held->Lock, Header);
}

/* Removes the newest hold of Header from Frame, shifting the newer ones down. */
static
BOOLEAN
WdkmpDiagRemove(
    _Inout_ WDKMP_DIAG_FRAME *Frame,
    _In_ PWDKMP_LOCK_HEADER Header,
    _Out_ WDKMP_DIAG_HELD *Copy
    )
{
    LONG Depth = WdkmpLoadLong(&Frame->Depth);
    LONG Index;

    if (Depth > WDKM_DIAG_MAX_HELD) {
        Depth = WDKM_DIAG_MAX_HELD;
    }
    for (Index = Depth; Index > 0; Index -= 1) {
        WDKMP_DIAG_HELD *Held = &Frame->Held[Index - 1];
        if (WdkmpLoadPointerAcquire(&Held->Lock) != (PVOID)Header) {
            continue;
        }
        Copy->Lock = Header;
        Copy->Class = Held->Class;
        Copy->Flags = Held->Flags;
        Copy->File = Held->File;
        Copy->Line = Held->Line;
        Copy->AcquiredAt = Held->AcquiredAt;
        for (; Index < Depth; Index += 1) {
            WDKMP_DIAG_HELD *Into = &Frame->Held[Index - 1];
            const WDKMP_DIAG_HELD *From = &Frame->Held[Index];
            WdkmpStorePointerRelease(&Into->Lock, NULL);
            Into->Class = From->Class;
            Into->Flags = From->Flags;
            Into->File = From->File;
            Into->Line = From->Line;
            Into->AcquiredAt = From->AcquiredAt;
            WdkmpStorePointerRelease(&Into->Lock, WdkmpLoadPointerAcquire(&From->Lock));
        }
        WdkmpStorePointerRelease(&Frame->Held[Depth - 1].Lock, NULL);
        InterlockedExchange(&Frame->Depth, Depth - 1);
        return TRUE;
    }
    return FALSE;
}

/*
 * A release at Irql: its hold is in the frame of that IRQL, or in the
 * other one: below DISPATCH_LEVEL, a leftover of the high frame; at
 * DISPATCH_LEVEL, a spin lock acquired from below, and only then (the low
 * frame holding a spin lock is what says this is the thread, not a DPC
 * that interrupted it in the middle of changing that frame; the kinds
 * release no waiting lock above APC_LEVEL).
 */
BOOLEAN
WdkmpDiagPop(
    _Inout_ PWDKMP_DIAG_THREAD Record,
    _In_ KIRQL Irql,
    _In_ PWDKMP_LOCK_HEADER Header,
    _Out_ WDKMP_DIAG_HELD *Held
    )
{
    ULONG Order[WDKMP_DIAG_FRAMES];
    ULONG Frames = WDKMP_DIAG_FRAMES;
    ULONG Index;

    if (Irql >= DISPATCH_LEVEL) {
        Order[0] = WDKMP_DIAG_FRAME_HIGH;
        Order[1] = WDKMP_DIAG_FRAME_LOW;
        if (!WdkmpDiagFrameHoldsSpinLock(&Record->Frames[WDKMP_DIAG_FRAME_LOW])) {
            Frames = 1;
        }
    } else {
        Order[0] = WDKMP_DIAG_FRAME_LOW;
        Order[1] = WDKMP_DIAG_FRAME_HIGH;
    }
    for (Index = 0; Index < Frames; Index += 1) {
        if (WdkmpDiagRemove(&Record->Frames[Order[Index]], Header, Held)) {
            return TRUE;
        }
    }
    /*
     * One of the holds that did not fit: counted in the frame of the IRQL
     * it was taken from, so at DISPATCH_LEVEL also the low frame's (a spin
     * lock taken from below when that frame was full, which then holds no
     * spin lock to say so): else that count stays, and the record, taken
     * to hold something, never parks.
     */
    for (Index = 0; Index < RTL_NUMBER_OF(Order); Index += 1) {
        if (WdkmpLoadLong(&Record->Frames[Order[Index]].Lost) > 0) {
            InterlockedDecrement(&Record->Frames[Order[Index]].Lost);
            break;
        }
    }
    return FALSE;
}

/* ------------------------------------------------------------------------
 * Pending sites.
 */

/*
 * The calling context's site slot: the thread's, and another for what
 * runs at DISPATCH_LEVEL on it, so that a DPC landing between the
 * thread's note and its acquisition neither takes nor overwrites it.
 */
static
WDKMP_DIAG_SITE *
WdkmpDiagSiteOf(
    _In_ PVOID Self
    )
{
    ULONG Slot = WdkmpDiagHash(Self) + (WdkmpGetIrql() >= DISPATCH_LEVEL ? 1u : 0u);

    return &WdkmpDiagSites[Slot % WDKMP_DIAG_SITES];
}

VOID
WdkmDiagNoteSite(
    _In_opt_ const VOID *Lock,
    _In_z_ PCSTR File,
    _In_ ULONG Line
    )
{
    PVOID Self = WdkmpCurrentThread();
    WDKMP_DIAG_SITE *Site = WdkmpDiagSiteOf(Self);

    /* Another thread hashing here may overwrite the slot. Its first store
       clears Thread, and every later one is a release store, so a reader
       that saw any of its fields sees Thread changed when it checks again
       (WdkmpDiagReadSite): no locked instruction on either side. */
    WdkmpStorePointerRelease(&Site->Thread, NULL);
    WdkmpStorePointerRelease(&Site->Lock, (PVOID)Lock);
    WdkmpStorePointerRelease(&Site->File, (PVOID)File);
    WdkmpStorePointerRelease(&Site->Line, (PVOID)(ULONG_PTR)Line);
    WdkmpStorePointerRelease(&Site->Thread, Self);
}

/* A lookup's note is keyed by its name pointer; a NULL name's by this
   address, which no lock and no name has (a NULL key is any lock's). */
static const char WdkmpDiagNullNameKey = 0;

static
PVOID
WdkmpDiagLookupKey(
    _In_opt_z_ PCSTR Name
    )
{
    return Name != NULL ? (PVOID)Name : (PVOID)&WdkmpDiagNullNameKey;
}

/*
 * The typed lookup's note (WDKM_GRT_GET_<KIND>_OR_BUGCHECK), keyed by the
 * name: a DPC or APC landing between it and the lookup (the macro is a
 * note, then a call) may acquire or look up without a typed macro; keyed,
 * the note is neither taken for that nor removed by it (WdkmpDiagReadSite
 * leaves a note keyed for something else).
 */
PCSTR
WdkmDiagNoteLookupSite(
    _In_opt_z_ PCSTR Name,
    _In_z_ PCSTR File,
    _In_ ULONG Line
    )
{
    WdkmDiagNoteSite(WdkmpDiagLookupKey(Name), File, Line);
    return Name;
}

/*
 * The site noted for the calling thread's next acquisition of Lock (NULL
 * and 0: none, or noted for another lock or a lookup). Take clears a note
 * that is Lock's or any lock's, so that a later acquisition made without
 * one does not find it (the acquisition's own read); a peek leaves it for
 * the acquisition (the callback forms' report, made before it). A note
 * keyed for something else stays, for what it was made for. Exact: only a
 * note keyed by Lock (a lookup's, whose key is its name), not any lock's.
 */
static
VOID
WdkmpDiagReadSiteOf(
    _In_opt_ const VOID *Lock,
    _In_ BOOLEAN Exact,
    _In_ BOOLEAN Take,
    _Out_ PCSTR *File,
    _Out_ PULONG Line
    )
{
    PVOID Self = WdkmpCurrentThread();
    WDKMP_DIAG_SITE *Site = WdkmpDiagSiteOf(Self);
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
    if (Noted != Lock && (Exact || Noted != NULL)) {
        return;                 /* meant for another lock, or a lookup: left for it */
    }
    if (Take) {
        /* A note another thread makes right now may be lost with it. */
        WdkmpStorePointerRelease(&Site->Thread, NULL);
    }
    *File = Seen;
    *Line = SeenLine;
}

/* The site WdkmDiagNoteLookupSite noted for Name, taken: only a note keyed
   by Name (not an acquisition's, which is any lock's), so that a lookup
   without a typed macro, in a DPC or APC, say, takes none. */
VOID
WdkmpDiagTakeLookupSite(
    _In_opt_z_ PCSTR Name,
    _Out_ PCSTR *File,
    _Out_ PULONG Line
    )
{
    WdkmpDiagReadSiteOf(WdkmpDiagLookupKey(Name), TRUE, TRUE, File, Line);
}

VOID
WdkmpDiagReadSite(
    _In_opt_ const VOID *Lock,
    _In_ BOOLEAN Take,
    _Out_ PCSTR *File,
    _Out_ PULONG Line
    )
{
    WdkmpDiagReadSiteOf(Lock, FALSE, Take, File, Line);
}

/* ------------------------------------------------------------------------
 * Regions and the public functions on the caller's holds.
 */

VOID
WdkmpDiagRegion(
    _In_ LONG Delta
    )
{
    PWDKMP_DIAG_THREAD Record;
    WDKMP_DIAG_VIEW View;
    BOOLEAN Marked;

    if (Delta > 0) {
        Record = WdkmpDiagTakeThread(&Marked);
        if (Record == NULL) {
            InterlockedIncrement(&WdkmpDiag.Untracked);
        } else {
            InterlockedIncrement(&Record->Regions);
            WdkmpDiagTaken(Record, Marked);
        }
        return;
    }
    WdkmpDiagView(WdkmpGetIrql(), TRUE, &View);
    if (!WdkmpDiagViewMark(&View, &Marked)) {
        return;
    }
    if (WdkmpLoadLong(&View.Record->Regions) > 0) {
        InterlockedDecrement(&View.Record->Regions);
    }
    if (Marked) {
        WdkmpDiagPutMarked(View.Record);
    }
}

BOOLEAN
WdkmDiagIsHeld(
    _In_opt_ const VOID *Lock
    )
{
    WDKMP_DIAG_VIEW View;
    const WDKMP_DIAG_HELD *Held;
    ULONG Cursor = 0;

    if (Lock == NULL) {
        return FALSE;
    }
    if (WdkmpLockOwnedByCaller(Lock)) {
        return TRUE;
    }
    WdkmpDiagView(WdkmpGetIrql(), FALSE, &View);
    if (!WdkmpDiagViewConfirm(&View)) {
        return FALSE;
    }
    while ((Held = WdkmpDiagNextHeld(&View, &Cursor)) != NULL) {
        if (Held->Lock == (PVOID)Lock) {
            return TRUE;
        }
    }
    return FALSE;
}

NTSTATUS
WdkmDiagCheckNoneHeld(
    _In_z_ PCSTR Where
    )
{
    KIRQL Irql = WdkmpGetIrql();
    WDKMP_DIAG_VIEW View;
    const WDKMP_DIAG_HELD *Held;
    BOOLEAN Found = FALSE;
    ULONG Cursor = 0;
    LONG Regions;

    if (Irql > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    WdkmpDiagView(Irql, FALSE, &View);
    if (!WdkmpDiagViewConfirm(&View)) {
        return STATUS_SUCCESS;
    }
    if (Where == NULL) {
        Where = "?";
    }
    while ((Held = WdkmpDiagNextHeld(&View, &Cursor)) != NULL) {
        InterlockedIncrement(&WdkmpDiag.ContextViolations);
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: CONTEXT VIOLATION at %s: \"%s\" still held, acquired at %s:%u\n",
                        Where, WdkmpDiagClassName(Held->Class), WdkmpDiagBaseName(Held->File),
                        (unsigned)Held->Line);
        WdkmpDiagKeep(WdkmDiagHeldAtCheckpoint, 0, WdkmpDiagClassName(Held->Class), Held->File,
                      Held->Line, Where, NULL, 0);
        Found = TRUE;
    }
    /* Regions are the thread's, entered below DISPATCH_LEVEL. */
    Regions = View.Record != NULL && View.First == WDKMP_DIAG_FRAME_LOW
                  ? WdkmpLoadLong(&View.Record->Regions) : 0;
    if (Regions > 0) {
        InterlockedIncrement(&WdkmpDiag.ContextViolations);
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: CONTEXT VIOLATION at %s: %d critical/guarded region(s) not left\n",
                        Where, (int)Regions);
        WdkmpDiagKeep(WdkmDiagRegionUnbalanced, 0, "region", NULL, 0, Where, NULL, 0);
        Found = TRUE;
    }
    return Found ? STATUS_WDKM_LOCK_HELD : STATUS_SUCCESS;
}

#else

/* Release builds: nothing here (ISO C wants a declaration in every file). */
typedef int WDKMP_DIAG_THREAD_COMPILED_OUT;

#endif /* WDKM_CHECKED */
