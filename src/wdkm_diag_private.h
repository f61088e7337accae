/*
 * wdkm_diag_private.h - what the validator's files share (checked builds).
 * Private to the wdkm_diag*.c files:
 *
 *   wdkm_diag.c         the hooks the lock kinds call, the policy, reset
 *   wdkm_diag_class.c   lock classes and the list of live locks
 *   wdkm_diag_order.c   the recorded lock order and its cycles
 *   wdkm_diag_thread.c  each thread's held locks, regions and pending sites
 *   wdkm_diag_stats.c   contention statistics
 *   wdkm_diag_leak.c    the summary and the leak check at unload
 *   wdkm_diag_report.c  kept violations and the text of reports
 *
 * Everything is static and bounded (wdkm_config.h): nothing here
 * allocates, so no allocation failure can reach a lock; a full table
 * means "untracked", reported once.
 */
#ifndef WDKM_DIAG_PRIVATE_H
#define WDKM_DIAG_PRIVATE_H

#include "wdkm_internal.h"

#if WDKM_CHECKED

#define WDKMP_DIAG_WORDS  ((WDKM_DIAG_MAX_CLASSES + 31) / 32)
#define WDKMP_DIAG_KEEP   16    /* violations kept for WdkmDiagQueryViolations */

/* A hold whose length is measured (policy WDKM_DIAG_TIME_HOLDS). */
#define WDKMP_DIAG_TIMED 0x100

/* Things said once (WdkmpDiagWarnOnce). */
#define WDKMP_DIAG_WARNED_CLASSES 0x1
#define WDKMP_DIAG_WARNED_THREADS 0x2
#define WDKMP_DIAG_WARNED_EDGES   0x4
#define WDKMP_DIAG_WARNED_HELD    0x8

typedef struct _WDKMP_DIAG_CLASS {
    CHAR Name[WDKM_DIAG_NAME_LENGTH];
    BOOLEAN InUse;
    BOOLEAN Anonymous;               /* a class of one lock, freed with it */
    WDKM_LOCK_KIND Kind;
    LONG Locks;                      /* live locks in it */
    ULONG LastUsed;                  /* WdkmpDiag.ClassClock when a lock last joined or left */
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

/*
 * One hold. Lock is published last (release) and cleared first: an
 * interrupt that lands while the entry is written sees NULL and skips it.
 */
typedef struct _WDKMP_DIAG_HELD {
    PVOID volatile Lock;             /* PWDKMP_LOCK_HEADER; NULL: being written */
    LONG Class;
    ULONG Flags;                     /* WDKMP_DIAG_*, WDKMP_DIAG_TIMED */
    PCSTR File;
    ULONG Line;
    ULONG64 AcquiredAt;              /* with WDKMP_DIAG_TIMED */
} WDKMP_DIAG_HELD;

/*
 * The holds a thread made at one IRQL class. A DPC runs on the thread it
 * interrupts and is, to NT, that thread; it can land only below
 * DISPATCH_LEVEL, so what is acquired at DISPATCH_LEVEL (a DPC, or the
 * thread itself once a spin lock raised it) lives in its own frame, and
 * the thread's frame below is never written by a DPC. An APC may still
 * land in the middle of a push or pop of the frame below: every nested
 * user leaves the frame as it found it (acquisitions and releases pair up
 * inside an APC), and a push reserves its slot before it fills it, so
 * the nested one pushes above it (wdkm_diag_thread.c).
 */
#define WDKMP_DIAG_FRAME_LOW    0    /* acquired below DISPATCH_LEVEL */
#define WDKMP_DIAG_FRAME_HIGH   1    /* acquired at DISPATCH_LEVEL or above */
#define WDKMP_DIAG_FRAMES       2

typedef struct _WDKMP_DIAG_FRAME {
    LONG volatile Depth;             /* entries in Held, reserved ones included */
    LONG volatile Lost;              /* holds that did not fit in Held */
    WDKMP_DIAG_HELD Held[WDKM_DIAG_MAX_HELD];
} WDKMP_DIAG_FRAME;

typedef struct _WDKMP_DIAG_THREAD {
    PVOID volatile Thread;           /* the owner; NULL: free (see the thread file) */
    LONG volatile Regions;           /* regions entered and not left */
    LONG volatile Generation;        /* bit 0: busy (a context of the owner found it
                                        and has not written it yet); the rest
                                        counts the times it was taken */
    WDKMP_DIAG_FRAME Frames[WDKMP_DIAG_FRAMES];
} WDKMP_DIAG_THREAD, *PWDKMP_DIAG_THREAD;

/*
 * The frames that belong to the running context (WdkmpDiagView). Below
 * DISPATCH_LEVEL: all of them. At DISPATCH_LEVEL: the high frame, and the
 * low one too when it holds a spin lock (then no DPC can have
 * interrupted: the thread itself raised the IRQL).
 *
 * A thread that holds nothing may see its record parked under it by an
 * APC on it, and taken by another thread, while it reads: what it read is
 * its own only if WdkmpDiagViewConfirm says so afterwards.
 */
typedef struct _WDKMP_DIAG_VIEW {
    PWDKMP_DIAG_THREAD Record;       /* NULL: the caller holds nothing here */
    ULONG First;                     /* frames First .. WDKMP_DIAG_FRAMES - 1 */
    PVOID Self;
    LONG Generation;                 /* Record->Generation when it was found */
} WDKMP_DIAG_VIEW;

/* A violation kept for WdkmDiagQueryViolations: readable once Published
   (release after the fields are written; readers load it with acquire). */
typedef struct _WDKMP_DIAG_KEPT {
    WDKM_DIAG_VIOLATION Violation;
    PVOID volatile Published;
} WDKMP_DIAG_KEPT;

typedef struct _WDKMP_DIAG_STATE {
    WDKMP_SPIN_LOCK Lock;            /* classes, matrix, edges, live list */
    LONG volatile Policy;
    LONG volatile OrderViolations;
    LONG volatile ContextViolations;
    LONG volatile AssertFailures;
    LONG volatile Untracked;
    LONG volatile Violations;        /* all reported; the first WDKMP_DIAG_KEEP are kept */
    LONG volatile Warned;            /* WDKMP_DIAG_WARNED_* bits: each said once */
    ULONG LiveLocks;
    PWDKMP_LOCK_HEADER Live;         /* every lock not destroyed */
    WDKMP_DIAG_CLASS Classes[WDKM_DIAG_MAX_CLASSES];
    ULONG ClassClock;                /* ticks at each join and leave, under Lock */
    LONG volatile Order[WDKM_DIAG_MAX_CLASSES][WDKMP_DIAG_WORDS];
    LONG Reported[WDKM_DIAG_MAX_CLASSES][WDKMP_DIAG_WORDS];
    WDKMP_DIAG_EDGE Edges[WDKM_DIAG_MAX_EDGES];
    WDKMP_DIAG_KEPT Kept[WDKMP_DIAG_KEEP];
    /* The statistics query's scratch, under Lock: each class's figures. */
    WDKMP_DIAG_FIGURES Totals[WDKM_DIAG_MAX_CLASSES];
    /* The cycle search's scratch, under Lock. */
    LONG Visited[WDKMP_DIAG_WORDS];
    LONG Parent[WDKM_DIAG_MAX_CLASSES];
    LONG Queue[WDKM_DIAG_MAX_CLASSES];
} WDKMP_DIAG_STATE;

extern WDKMP_DIAG_STATE WdkmpDiag;
extern WDKMP_DIAG_THREAD WdkmpDiagThreads[WDKM_DIAG_MAX_THREADS];

/* wdkm_diag_report.c: text, warnings, kept violations. */
PCSTR WdkmpDiagKindName(_In_ WDKM_LOCK_KIND Kind);
BOOLEAN WdkmpDiagNameEqual(_In_z_ PCSTR Left, _In_z_ PCSTR Right);
VOID WdkmpDiagAppend(_Inout_ PCHAR Buffer, _Inout_ PULONG Length, _In_z_ PCSTR Text);
VOID WdkmpDiagAppendNumber(_Inout_ PCHAR Buffer, _Inout_ PULONG Length, _In_ ULONG64 Value,
                           _In_ ULONG Base);
PCSTR WdkmpDiagBaseName(_In_opt_z_ PCSTR File);
BOOLEAN WdkmpDiagWarnOnce(_In_ LONG Bit);
VOID WdkmpDiagKeep(_In_ WDKM_DIAG_VIOLATION_TYPE Type, _In_ ULONG CycleLength,
                   _In_z_ PCSTR Held, _In_opt_z_ PCSTR HeldFile, _In_ ULONG HeldLine,
                   _In_z_ PCSTR Acquiring, _In_opt_z_ PCSTR AcquireFile, _In_ ULONG AcquireLine);
/* Forget the kept violations. No reporter may run at the same time. */
VOID WdkmpDiagViolationsReset(VOID);

/* wdkm_diag_class.c: classes and live locks. */
PWDKMP_LOCK_HEADER WdkmpDiagHeaderOf(_In_opt_ const VOID *Lock);
PCSTR WdkmpDiagClassName(_In_ LONG Index);
/*
 * Header->Diag.Class of a lock that is its own class ("KMUTEX@<address>")
 * and has no place in the class table yet. A lock takes its place when it
 * is first acquired, not when it is made: one named right after it is made
 * (a creation site, a registry name, WdkmDiagSetClassName) never takes
 * one, which in a full table would recycle a class before the name came -
 * possibly the very class the name is (diagnostics.md, "Limits").
 */
#define WDKMP_DIAG_CLASS_PENDING (-2)
/* Header's class, given its own place first if it is pending (may take
   WdkmpDiag.Lock); -1: untracked. At <= DISPATCH_LEVEL, not under the lock. */
LONG WdkmpDiagLockClass(_Inout_ PWDKMP_LOCK_HEADER Header);
/* The name of Header's class, written into Buffer for a pending one. */
PCSTR WdkmpDiagLockClassName(_In_ const WDKMP_LOCK_HEADER *Header,
                             _Out_writes_(WDKM_DIAG_NAME_LENGTH) PCHAR Buffer);
/* Under WdkmpDiag.Lock: frees named classes nobody uses, clears figures kept. */
VOID WdkmpDiagClassesReset(VOID);

/* wdkm_diag_order.c: the recorded order. */
/* Under WdkmpDiag.Lock: forget every order involving class Index. */
VOID WdkmpDiagForgetOrders(_In_ LONG Index);
/* Under WdkmpDiag.Lock: forget every order. */
VOID WdkmpDiagOrderReset(VOID);
/* Record the pairs (held, Header) of a waiting acquisition; report cycles. */
NTSTATUS WdkmpDiagCheckOrder(_In_ const WDKMP_DIAG_VIEW *View, _In_ PWDKMP_LOCK_HEADER Header,
                             _In_ const WDKMP_DIAG_ACQUIRE *Diag);

/* wdkm_diag_thread.c: held records. */
/* The calling thread's active record, or NULL (untracked, or holding nothing). */
PWDKMP_DIAG_THREAD WdkmpDiagFindThread(VOID);
/* The calling thread's record taken into use (NULL: the table is full,
   untracked), marked busy: nothing parks it until WdkmpDiagTaken, which
   the caller calls once it has written its hold or region into it. */
PWDKMP_DIAG_THREAD WdkmpDiagTakeThread(_Out_ PBOOLEAN Marked);
VOID WdkmpDiagTaken(_Inout_ PWDKMP_DIAG_THREAD Record, _In_ BOOLEAN Marked);
/* The caller's frames at Irql (AllFrames: every frame; see WDKMP_DIAG_VIEW). */
VOID WdkmpDiagView(_In_ KIRQL Irql, _In_ BOOLEAN AllFrames, _Out_ WDKMP_DIAG_VIEW *View);
/* TRUE if View shows a hold (or a region) and its record is still the
   caller's after that was read: from then on nothing parks it. Else
   clears View (the caller holds nothing there) and returns FALSE. */
BOOLEAN WdkmpDiagViewConfirm(_Inout_ WDKMP_DIAG_VIEW *View);
/* The same for a release or a region's leave, which may empty the record:
   also marks it busy (*Marked TRUE; FALSE: an outer context of the thread
   holds the mark), to be ended by WdkmpDiagPutMarked. */
BOOLEAN WdkmpDiagViewMark(_Inout_ WDKMP_DIAG_VIEW *View, _Out_ PBOOLEAN Marked);
/* The next published hold of View after *Cursor (start with 0), or NULL. */
const WDKMP_DIAG_HELD *WdkmpDiagNextHeld(_In_ const WDKMP_DIAG_VIEW *View,
                                         _Inout_ PULONG Cursor);
VOID WdkmpDiagPush(_Inout_ PWDKMP_DIAG_THREAD Record, _In_ ULONG Frame,
                   _In_ PWDKMP_LOCK_HEADER Header, _In_ LONG Class,
                   _In_ const WDKMP_DIAG_ACQUIRE *Diag, _In_ ULONG64 Now);
/* Removes the newest hold of Header; *Held receives a copy (FALSE: none). */
BOOLEAN WdkmpDiagPop(_Inout_ PWDKMP_DIAG_THREAD Record, _In_ KIRQL Irql,
                     _In_ PWDKMP_LOCK_HEADER Header, _Out_ WDKMP_DIAG_HELD *Held);
/* Ends WdkmpDiagViewMark's mark: parks the record if it is empty. */
VOID WdkmpDiagPutMarked(_Inout_ PWDKMP_DIAG_THREAD Record);

/* wdkm_diag_stats.c: figures. */
VOID WdkmpDiagMax64(_Inout_ LONG64 volatile *Maximum, _In_ LONG64 Value, _In_ BOOLEAN Shared);
VOID WdkmpDiagCountAcquisition(_Inout_ WDKMP_DIAG_FIGURES *Figures, _In_ BOOLEAN Contended,
                               _In_ LONG64 Wait, _In_ BOOLEAN Shared);
VOID WdkmpDiagAddFigures(_Inout_ WDKMP_DIAG_FIGURES *Into, _In_ const WDKMP_DIAG_FIGURES *From);
VOID WdkmpDiagClearFigures(_Out_ WDKMP_DIAG_FIGURES *Figures);
/* Under WdkmpDiag.Lock: every live lock's figures to zero. */
VOID WdkmpDiagStatisticsReset(VOID);

#endif /* WDKM_CHECKED */

#endif /* WDKM_DIAG_PRIVATE_H */
