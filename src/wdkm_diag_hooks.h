/*
 * wdkm_diag_hooks.h - the checked build's hooks, as the lock kinds call them.
 * Private to src/; included by wdkm_internal.h.
 *
 * Every acquisition path runs:
 *
 *     WDKMP_DIAG_ACQUIRE Diag;
 *     Status = WdkmpDiagBeforeAcquire(Header, Flags, &Diag);   order, context
 *     if (Status != STATUS_SUCCESS) return Status;
 *     WDKMP_DIAG_TRY_FIRST(&Diag, <try status>, <wait>);        contention
 *     WdkmpDiagAfterAcquire(Header, &Diag, Acquired);          held, statistics
 *
 * and every release WdkmpDiagBeforeRelease while still holding the lock,
 * WdkmpDiagAfterRelease once the kernel let it go. In release builds
 * (WDKM_CHECKED 0) the functions are empty inlines returning constants and
 * WDKMP_DIAG_TRY_FIRST is the plain wait, so the compiler emits exactly the
 * unchecked path.
 */
#ifndef WDKM_DIAG_INTERNAL_H
#define WDKM_DIAG_INTERNAL_H

struct _WDKMP_LOCK_HEADER;

/* Acquisition flags. */
#define WDKMP_DIAG_TRY    0x01   /* cannot wait: never closes an order cycle */
#define WDKMP_DIAG_SHARED 0x02   /* a shared hold of a reader/writer kind */
#define WDKMP_DIAG_WAITS  0x04   /* may sleep: must not happen under a spin lock */
#define WDKMP_DIAG_SPIN   0x08   /* a spin lock: no waiting acquisition under it */

#if WDKM_CHECKED

/* Contention figures, kept alike for each lock and each class. Times are
   in WdkmpTimestamp ticks, turned into nanoseconds when reported. */
typedef struct _WDKMP_DIAG_FIGURES {
    LONG64 volatile Acquisitions;
    LONG64 volatile Contended;
    LONG64 volatile TotalWait;
    LONG64 volatile MaxWait;
    LONG64 volatile MaxHold;
} WDKMP_DIAG_FIGURES;

/* Per lock, in its header: the live-lock list, its class, its figures. */
typedef struct _WDKMP_DIAG_LOCK {
    struct _WDKMP_LOCK_HEADER *Next;
    struct _WDKMP_LOCK_HEADER *Prev;
    LONG Class;                        /* index in the class table; -1: none */
    WDKMP_DIAG_FIGURES Figures;
} WDKMP_DIAG_LOCK;

/* One acquisition in progress, on the acquirer's stack. */
typedef struct _WDKMP_DIAG_ACQUIRE {
    ULONG Frame;                       /* the held-record frame of its starting IRQL */
    KIRQL Irql;                        /* its starting IRQL */
    PCSTR File;                        /* where in the caller's source, if known */
    ULONG Line;
    ULONG Flags;
    BOOLEAN Contended;
    ULONG64 WaitStart;
} WDKMP_DIAG_ACQUIRE, *PWDKMP_DIAG_ACQUIRE;

VOID WdkmpDiagLockCreated(_Inout_ struct _WDKMP_LOCK_HEADER *Header);
VOID WdkmpDiagLockDestroyed(_Inout_ struct _WDKMP_LOCK_HEADER *Header);

/* STATUS_SUCCESS to go ahead; under WDKM_DIAG_REFUSE, the refusal. */
NTSTATUS WdkmpDiagBeforeAcquire(_In_ struct _WDKMP_LOCK_HEADER *Header, _In_ ULONG Flags,
                                _Out_ PWDKMP_DIAG_ACQUIRE Diag);
/* The try before the wait failed: the acquisition waits (Known FALSE: the
   kernel had no try, so whether it waits is unknown). */
VOID WdkmpDiagWaitBegins(_Inout_ PWDKMP_DIAG_ACQUIRE Diag, _In_ BOOLEAN Known);
VOID WdkmpDiagAfterAcquire(_Inout_ struct _WDKMP_LOCK_HEADER *Header,
                           _Inout_ PWDKMP_DIAG_ACQUIRE Diag, _In_ BOOLEAN Acquired);
/* Returns what WdkmpDiagAfterRelease needs: the thread's record, marked
   busy from the record of the release to its park (NULL: nothing to do). */
PVOID WdkmpDiagBeforeRelease(_Inout_ struct _WDKMP_LOCK_HEADER *Header);
VOID WdkmpDiagAfterRelease(_In_opt_ PVOID Thread);

/* A region entered (+1) or left (-1) by the calling thread. */
VOID WdkmpDiagRegion(_In_ LONG Delta);

/* An acquisition refused for its IRQL: says so if a spin lock is why. */
VOID WdkmpDiagIrqlTooHigh(_In_ struct _WDKMP_LOCK_HEADER *Header);

/* Put a lock in the class Name. */
NTSTATUS WdkmpDiagSetClass(_Inout_ struct _WDKMP_LOCK_HEADER *Header, _In_z_ PCSTR Name);

/* Put a registry lock in the class of its name: the name up to its first
   '#' (the role of WdkmGrtInstanceName's names). */
VOID WdkmpDiagSetRegistryClass(_Inout_ struct _WDKMP_LOCK_HEADER *Header, _In_z_ PCSTR Name);

/* The site noted for the calling thread's next acquisition of Lock; Take
   clears the note (the acquisition's own read), else the acquisition still
   finds it. */
VOID WdkmpDiagReadSite(_In_opt_ const VOID *Lock, _In_ BOOLEAN Take, _Out_ PCSTR *File,
                       _Out_ PULONG Line);

/* The site a typed lookup noted for Name (WdkmDiagNoteLookupSite), taken;
   NULL and 0 when the note is not Name's (none, or an acquisition's). */
VOID WdkmpDiagTakeLookupSite(_In_opt_z_ PCSTR Name, _Out_ PCSTR *File, _Out_ PULONG Line);

/* A callback form's acquisition of Lock, or registry lookup of Name
   (Lookup TRUE, Lock NULL; Name may be NULL), refused with Status: the
   whole story to the debugger and the kept violations, just before the
   bug check. */
VOID WdkmpDiagCallbackMisuse(_In_opt_ const VOID *Lock, _In_ BOOLEAN Lookup,
                             _In_opt_z_ PCSTR Name, _In_ ULONG Kind,
                             _In_ NTSTATUS Status, _In_opt_ PVOID Caller,
                             _In_opt_z_ PCSTR File, _In_ ULONG Line);

/*
 * For tests only: when set, called on a thread taking a thread record
 * (wdkm_diag_thread.c) at each point below, so that a test lands a DPC or
 * APC there (WdkmHostQueueInterrupt on the calling thread runs it at once).
 * Checked builds only; NULL outside a test that sets it.
 */
#define WDKMP_DIAG_CLAIM_TAKEN     0   /* the record is the claimer's, not published */
#define WDKMP_DIAG_CLAIM_CLEARED   1   /* its holds cleared, not published */
#define WDKMP_DIAG_CLAIM_MARKED    2   /* a new generation, busy, not published */
#define WDKMP_DIAG_CLAIM_PUBLISHED 3   /* published as the thread's, not yet returned */
#define WDKMP_DIAG_CLAIM_SEEN      4   /* a free or parked word read, not yet taken */
#define WDKMP_DIAG_CLAIM_POINTS    5
/* And two points around a claim, not part of it. */
#define WDKMP_DIAG_POINT_FOUND     5   /* the thread's active record found, not yet marked */
#define WDKMP_DIAG_POINT_EMPTIED   6   /* a release or leave recorded, its record not yet parked */
typedef VOID WDKMP_DIAG_CLAIM_HOOK(_In_ ULONG Point);
extern WDKMP_DIAG_CLAIM_HOOK *volatile WdkmpDiagClaimHook;

/* Try first, to learn whether the acquisition has to wait; then wait. */
#define WDKMP_DIAG_TRY_FIRST(Diag, TryStatus, Wait)                             \
    do {                                                                        \
        NTSTATUS WdkmpTried = (TryStatus);                                      \
        if (WdkmpTried != STATUS_SUCCESS) {                                     \
            WdkmpDiagWaitBegins((Diag), WdkmpTried != STATUS_NOT_SUPPORTED);    \
            Wait;                                                               \
        }                                                                       \
    } while (0)

/* A lock with no try: note whether it is busy before waiting for it. */
#define WDKMP_DIAG_PEEK(Diag, Busy)                                             \
    do {                                                                        \
        if (Busy) {                                                             \
            WdkmpDiagWaitBegins((Diag), TRUE);                                  \
        }                                                                       \
    } while (0)

#else /* !WDKM_CHECKED */

typedef struct _WDKMP_DIAG_ACQUIRE {
    UCHAR Unused;
} WDKMP_DIAG_ACQUIRE, *PWDKMP_DIAG_ACQUIRE;

WDKMP_INLINE VOID WdkmpDiagLockCreated(_Inout_ struct _WDKMP_LOCK_HEADER *Header)
{
    UNREFERENCED_PARAMETER(Header);
}

WDKMP_INLINE VOID WdkmpDiagLockDestroyed(_Inout_ struct _WDKMP_LOCK_HEADER *Header)
{
    UNREFERENCED_PARAMETER(Header);
}

WDKMP_INLINE NTSTATUS WdkmpDiagBeforeAcquire(_In_ struct _WDKMP_LOCK_HEADER *Header,
                                             _In_ ULONG Flags, _Out_ PWDKMP_DIAG_ACQUIRE Diag)
{
    UNREFERENCED_PARAMETER(Header);
    UNREFERENCED_PARAMETER(Flags);
    UNREFERENCED_PARAMETER(Diag);
    return STATUS_SUCCESS;
}

WDKMP_INLINE VOID WdkmpDiagAfterAcquire(_Inout_ struct _WDKMP_LOCK_HEADER *Header,
                                        _Inout_ PWDKMP_DIAG_ACQUIRE Diag, _In_ BOOLEAN Acquired)
{
    UNREFERENCED_PARAMETER(Header);
    UNREFERENCED_PARAMETER(Diag);
    UNREFERENCED_PARAMETER(Acquired);
}

WDKMP_INLINE PVOID WdkmpDiagBeforeRelease(_Inout_ struct _WDKMP_LOCK_HEADER *Header)
{
    UNREFERENCED_PARAMETER(Header);
    return NULL;
}

WDKMP_INLINE VOID WdkmpDiagAfterRelease(_In_opt_ PVOID Thread)
{
    UNREFERENCED_PARAMETER(Thread);
}

WDKMP_INLINE VOID WdkmpDiagRegion(_In_ LONG Delta)
{
    UNREFERENCED_PARAMETER(Delta);
}

WDKMP_INLINE VOID WdkmpDiagIrqlTooHigh(_In_ struct _WDKMP_LOCK_HEADER *Header)
{
    UNREFERENCED_PARAMETER(Header);
}

WDKMP_INLINE VOID WdkmpDiagSetRegistryClass(_Inout_ struct _WDKMP_LOCK_HEADER *Header,
                                            _In_z_ PCSTR Name)
{
    UNREFERENCED_PARAMETER(Header);
    UNREFERENCED_PARAMETER(Name);
}

WDKMP_INLINE NTSTATUS WdkmpDiagSetClass(_Inout_ struct _WDKMP_LOCK_HEADER *Header,
                                        _In_z_ PCSTR Name)
{
    UNREFERENCED_PARAMETER(Header);
    UNREFERENCED_PARAMETER(Name);
    return STATUS_SUCCESS;
}

WDKMP_INLINE VOID WdkmpDiagTakeLookupSite(_In_opt_z_ PCSTR Name, _Out_ PCSTR *File,
                                          _Out_ PULONG Line)
{
    UNREFERENCED_PARAMETER(Name);
    *File = NULL;
    *Line = 0;
}

WDKMP_INLINE VOID WdkmpDiagReadSite(_In_opt_ const VOID *Lock, _In_ BOOLEAN Take,
                                    _Out_ PCSTR *File, _Out_ PULONG Line)
{
    UNREFERENCED_PARAMETER(Lock);
    UNREFERENCED_PARAMETER(Take);
    *File = NULL;
    *Line = 0;
}

WDKMP_INLINE VOID WdkmpDiagCallbackMisuse(_In_opt_ const VOID *Lock, _In_ BOOLEAN Lookup,
                                          _In_opt_z_ PCSTR Name, _In_ ULONG Kind,
                                          _In_ NTSTATUS Status, _In_opt_ PVOID Caller,
                                          _In_opt_z_ PCSTR File, _In_ ULONG Line)
{
    UNREFERENCED_PARAMETER(Lock);
    UNREFERENCED_PARAMETER(Lookup);
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Status);
    UNREFERENCED_PARAMETER(Caller);
    UNREFERENCED_PARAMETER(File);
    UNREFERENCED_PARAMETER(Line);
}

#define WDKMP_DIAG_TRY_FIRST(Diag, TryStatus, Wait) \
    do {                                            \
        Wait;                                       \
    } while (0)
#define WDKMP_DIAG_PEEK(Diag, Busy) ((VOID)0)

#endif /* WDKM_CHECKED */

/* The site without taking it: what the callback forms report before the
   acquisition, which takes it. */
#define WdkmpDiagPeekSite(Lock, File, Line) WdkmpDiagReadSite((Lock), FALSE, (File), (Line))

#endif /* WDKM_DIAG_INTERNAL_H */
