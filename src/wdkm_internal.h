/*
 * wdkm_internal.h - what the lock kinds share: the checks every entry
 * point makes, the kind descriptors, the block helpers. Private to src/.
 * The block layout itself is in wdkm_layout.h, which the inline fast
 * paths share.
 */
#ifndef WDKM_INTERNAL_H
#define WDKM_INTERNAL_H

/* The library defines the public functions: no inline twins here. */
#ifndef WDKMP_LIBRARY_BUILD
#define WDKMP_LIBRARY_BUILD 1
#endif

#include "wdkmutex/wdkmutex.h"
#include "wdkmutex/wdkm_grt.h"
#include "wdkm_port.h"
#include "wdkm_diag_hooks.h"

#include "wdkmutex/wdkm_layout.h"   /* signatures, the header, the kinds' blocks */

/*
 * Debugger output through the component and levels the driver chose
 * (wdkm_debug.c): WdkmpDebugLevels is how many levels print, 0 for none.
 */
extern LONG WdkmpDebugComponent;
extern LONG WdkmpDebugLevels;

#define WdkmpDebugPrint(Level, ...)                                                   \
    do {                                                                              \
        if ((LONG)(Level) < WdkmpLoadLong(&WdkmpDebugLevels)) {                       \
            WdkmpDbgPrintEx((ULONG)WdkmpLoadLong(&WdkmpDebugComponent), (Level),      \
                            __VA_ARGS__);                                             \
        }                                                                             \
    } while (0)

/* IRQL classes for the KMUTEX release rule. */
#define WDKMP_IRQL_CLASS(Irql) ((Irql) >= DISPATCH_LEVEL)

/*
 * WdkmpLockDestroy - free a lock block of Kind that is not held, after
 * copying its value into *Value when Value is not NULL (a take, checked
 * against DataSize). A lock the registry owns is refused
 * (STATUS_WDKM_OWNED_BY_REGISTRY). IRQL <= Kind->MaxDestroyIrql.
 */
NTSTATUS
WdkmpLockDestroy(
    _In_opt_ PVOID Lock,
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_opt_(DataSize) PVOID Value
    );

/*
 * WdkmpLockDestroyOwned - the registry's destroy of a lock it owns: as
 * WdkmpLockDestroy, handing the value to Drain (if not NULL) in place
 * once the lock no longer exists, and leaving the block for the registry
 * to free (WdkmpLockFreeOwned), since its entry lives there.
 */
NTSTATUS
WdkmpLockDestroyOwned(
    _In_ PVOID Lock,
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_opt_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    );

/*
 * WdkmpLockDestroyWith - as WdkmpLockDestroy, handing the value to Drain
 * (not NULL, else STATUS_INVALID_PARAMETER; DataSize checked) in place
 * once the lock no longer exists, before the block is freed.
 */
NTSTATUS
WdkmpLockDestroyWith(
    _In_opt_ PVOID Lock,
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_ SIZE_T DataSize,
    _In_opt_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    );

/*
 * WdkmpLockOwnerStatus - the status of a release by a thread that is not
 * the owner: STATUS_WDKM_NOT_HELD if nobody owns it, else NOT_OWNER.
 */
WDKMP_INLINE
NTSTATUS
WdkmpLockOwnerStatus(
    _In_opt_ WDKMP_THREAD Owner
    )
{
    return Owner == NULL ? STATUS_WDKM_NOT_HELD : STATUS_WDKM_NOT_OWNER;
}

/* TRUE if Lock is a live lock of the kind whose signature is Signature. */
WDKMP_INLINE
BOOLEAN
WdkmpLockIsKind(
    _In_ const VOID *Lock,
    _In_ ULONG Signature
    )
{
    return ((const WDKMP_LOCK_HEADER *)Lock)->Signature == Signature;
}

/* TRUE if the calling thread is the lock's exclusive owner; FALSE for NULL. */
WDKMP_INLINE
BOOLEAN
WdkmpLockOwnedByCaller(
    _In_opt_ const VOID *Lock
    )
{
    return Lock != NULL &&
           WdkmpLoadThread(&((const WDKMP_LOCK_HEADER *)Lock)->Owner) == WdkmpCurrentThread();
}

/*
 * The same for a handle from the caller, which must be of the kind
 * Signature names: FALSE for a lock of another kind (the IsOwned queries).
 */
WDKMP_INLINE
BOOLEAN
WdkmpLockOwnedByCallerAs(
    _In_opt_ const VOID *Lock,
    _In_ ULONG Signature
    )
{
    return Lock != NULL && WdkmpLockIsKind(Lock, Signature) && WdkmpLockOwnedByCaller(Lock);
}

/*
 * WdkmpLockTakeOwnership - record the caller as the exclusive owner, and
 * the IRQL it holds the lock at, once the kernel object is held. The
 * thread and IRQL are read again rather than kept from the checks: then
 * only the lock itself stays live across the kernel call, which spares the
 * fast path the registers it would save and restore around it (on Windows
 * each read is one instruction). For the same reason an acquisition that
 * cannot fail hands out its data pointer before the kernel call: its
 * caller sees it only once the lock is held.
 */
WDKMP_INLINE
VOID
WdkmpLockTakeOwnership(
    _Inout_ PWDKMP_LOCK_HEADER Header
    )
{
    WdkmpStoreThread(&Header->Owner, WdkmpCurrentThread());
    Header->HeldIrql = WdkmpGetIrql();
}

/* One of the library's lock signatures: the block is a lock header. */
WDKMP_INLINE
BOOLEAN
WdkmpLockSignatureKnown(
    _In_ ULONG Signature
    )
{
    switch (Signature) {
    case WDKMP_SIGNATURE_KMUTEX:
    case WDKMP_SIGNATURE_FAST_MUTEX:
    case WDKMP_SIGNATURE_SPIN_LOCK:
    case WDKMP_SIGNATURE_QUEUED:
    case WDKMP_SIGNATURE_GUARDED:
    case WDKMP_SIGNATURE_RESOURCE:
    case WDKMP_SIGNATURE_PUSH_LOCK:
        return TRUE;
    default:
        return FALSE;
    }
}

/* A lock is held if it has an exclusive owner or shared holders. */
WDKMP_INLINE
BOOLEAN
WdkmpLockIsHeld(
    _In_ const WDKMP_LOCK_HEADER *Header
    )
{
    return WdkmpLoadThread(&Header->Owner) != NULL || WdkmpLoadLong(&Header->SharedHolders) != 0;
}

/* An acquisition that fails: *Data is NULL on any error (Data may be NULL). */
WDKMP_INLINE
NTSTATUS
WdkmpFailAcquire(
    _Out_opt_ PVOID *Data,
    _In_ NTSTATUS Status
    )
{
    if (Data != NULL) {
        *Data = NULL;
    }
    return Status;
}

/* Nested holds of the raising kinds: WDKMP_NEST_* and the shards in wdkm_layout.h. */

/* Count the caller's new nested hold of Header at Level; sets Header.How.Hold.Nest. */
VOID
WdkmpNestEnter(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _In_ ULONG Level
    );

/* Uncount a counted nested hold (Header.How.Hold.Nest TRACKED). */
VOID
WdkmpNestLeaveTracked(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _In_ ULONG Level
    );

/*
 * At the release of any hold of a raising kind: uncount it if nested, and
 * leave How 0 (not nested, the raising form), as a free lock's always is:
 * acquisitions rely on it and write How only where it differs. Its form
 * must be read before.
 */
WDKMP_INLINE
VOID
WdkmpNestLeave(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _In_ ULONG Level
    )
{
    if (Header->How.Hold.Nest == WDKMP_NEST_TRACKED) {
        WdkmpNestLeaveTracked(Header, Level);
    }
    Header->How.HoldWord = 0;
}

/*
 * A raising spin-lock hold of Self (the caller) released without lowering
 * (NT's explicit out-of-order release): if Self holds nested spin-lock
 * holds, one of them may now be released lowering (wdkm_layout.h).
 */
VOID
WdkmpNestOuterReleasedHigh(
    _In_ WDKMP_THREAD Self
    );

/*
 * For a lowering release of Header, a counted nested spin-lock hold of its
 * owner (the caller): TRUE, and one allowance used, if an explicit
 * out-of-order release earned it; FALSE (nothing changed) if not, when the
 * outer lock is still held.
 */
BOOLEAN
WdkmpNestTakeLowerable(
    _In_ const WDKMP_LOCK_HEADER *Header
    );

/* The look into the caller's slot behind WdkmpNestBlocksLowering. */
BOOLEAN
WdkmpNestBlocksLoweringSlow(
    _In_ const WDKMP_LOCK_HEADER *Header,
    _In_ ULONG Level,
    _In_ WDKMP_NEST_SHARD *Shard
    );

/*
 * TRUE if the caller, Header's owner, holds besides Header a counted
 * nested hold at Level: then a release of Header that lowers the IRQL
 * must be refused. The owner field names the caller (the release checks
 * made sure), so no thread lookup; one relaxed load when no thread of the
 * caller's shard has nested holds (a thread always sees its own counts).
 */
WDKMP_INLINE
BOOLEAN
WdkmpNestBlocksLowering(
    _In_ const WDKMP_LOCK_HEADER *Header,
    _In_ ULONG Level
    )
{
    WDKMP_NEST_SHARD *Shard = WdkmpNestShard(WdkmpLoadThread(&Header->Owner));

    if (WdkmpLoadLong(&Shard->Holds) == 0) {
        return FALSE;
    }
    return WdkmpNestBlocksLoweringSlow(Header, Level, Shard);
}

/*
 * WdkmpLockCheckAcquire - the checks every acquisition makes before the
 * kernel is called: arguments, the kind (Signature, else
 * STATUS_WDKM_TYPE_MISMATCH), IRQL within [MinIrql, MaxIrql] (MinIrql
 * not checked on a kernel whose IRQL cannot be raised), data size,
 * and, for non-recursive kinds (Recursive FALSE), that the caller is not
 * already the owner. Clears *Data; *Self and *Irql receive the calling
 * thread and its IRQL, read once for the caller's own bookkeeping (an IRQL
 * read is an emulated CR8 access under Wine). Returns STATUS_SUCCESS to go
 * ahead. Inline: it is the acquisition fast path of every kind.
 */
WDKMP_INLINE
NTSTATUS
WdkmpLockCheckAcquire(
    _In_opt_ PVOID Lock,
    _In_ ULONG Signature,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID *Data,
    _In_ KIRQL MinIrql,
    _In_ KIRQL MaxIrql,
    _In_ BOOLEAN Recursive,
    _Out_ WDKMP_THREAD *Self,
    _Out_ KIRQL *Irql
    )
{
    PWDKMP_LOCK_HEADER Header = (PWDKMP_LOCK_HEADER)Lock;

    *Self = NULL;
    *Irql = PASSIVE_LEVEL;
    if (Data == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    *Data = NULL;
    if (Header == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (!WdkmpLockIsKind(Header, Signature)) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    *Irql = WdkmpGetIrql();
    if (*Irql > MaxIrql) {
        WdkmpDiagIrqlTooHigh(Header);
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (*Irql < MinIrql && !WdkmpIrqlFixed()) {
        /* Where the IRQL cannot be raised (Wine) the lower bound is
           unknowable, not failed: WdkmpIrqlFixed. */
        return STATUS_WDKM_IRQL_MISMATCH;
    }
    if (DataSize != Header->DataSize) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    *Self = WdkmpCurrentThread();
    if (!Recursive && WdkmpLoadThread(&Header->Owner) == *Self) {
        /* The kernel would wait for the caller itself, forever. */
        return STATUS_POSSIBLE_DEADLOCK;
    }
    return STATUS_SUCCESS;
}

/*
 * WdkmpLockCheckRelease - the checks of a release: Lock is of the kind
 * Signature names (else TYPE_MISMATCH), the caller is the
 * exclusive owner (else NOT_OWNER / NOT_HELD), and is at Header.HeldIrql,
 * the IRQL the acquisition left it at (else IRQL_TOO_HIGH /
 * IRQL_MISMATCH). The thread is read before the lock's fields, so that
 * nothing read from the lock has to survive the read (a call on the
 * host emulation's first use of a thread).
 */
WDKMP_INLINE
NTSTATUS
WdkmpLockCheckRelease(
    _In_opt_ PVOID Lock,
    _In_ ULONG Signature
    )
{
    PWDKMP_LOCK_HEADER Header = (PWDKMP_LOCK_HEADER)Lock;
    WDKMP_THREAD Self;
    WDKMP_THREAD Owner;
    KIRQL Irql;

    if (Header == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (!WdkmpLockIsKind(Header, Signature)) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    Self = WdkmpCurrentThread();
    Owner = WdkmpLoadThread(&Header->Owner);
    if (Owner != Self) {
        return WdkmpLockOwnerStatus(Owner);
    }
    Irql = WdkmpGetIrql();
    if (Irql != Header->HeldIrql) {
        return Irql > Header->HeldIrql ? STATUS_WDKM_IRQL_TOO_HIGH : STATUS_WDKM_IRQL_MISMATCH;
    }
    return STATUS_SUCCESS;
}

/*
 * WdkmpScopeResult - finish a ScopeEnter: the scope holds Lock only if the
 * acquisition succeeded.
 */
WDKM_SCOPE
WdkmpScopeResult(
    _In_ PVOID Lock,
    _In_ PWDKM_SCOPE_RELEASE Release,
    _In_ NTSTATUS Status,
    _Out_ NTSTATUS *StatusOut
    );

/*
 * WdkmpScopeNone - the scope a ScopeEnter given no status variable
 * returns: nothing acquired (the caller could not learn why), so the
 * block does not run; *Data (if Data is not NULL) is NULL.
 */
WDKM_SCOPE
WdkmpScopeNone(
    _Out_opt_ PVOID *Data
    );

/* Acquire Lock of Kind for a plain scoped form (WdkmpScopeNone without Status). */
WDKM_SCOPE
WdkmpLockScopeEnter(
    _In_ const WDKMP_LOCK_KIND *Kind,
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    );

/*
 * What the registry and the scoped forms need to know of a lock kind: one
 * descriptor per kind, defined in the kind's file and listed in
 * WdkmpLockKinds (wdkm_lock.c). A new kind adds a WDKM_LOCK_KIND value, its
 * descriptor, and a line there.
 */
struct _WDKMP_LOCK_KIND {
    WDKM_LOCK_KIND Kind;
    ULONG Signature;
    SIZE_T LockSize;               /* the kind's structure, header included */
    KIRQL MaxDestroyIrql;
    /* TRUE if a hold taken at APC_LEVEL counts as taken at PASSIVE_LEVEL
       (WdkmpLockHeldHere): the kind does not raise to APC_LEVEL itself,
       so that level was its caller's, who may lower it while holding (a
       FAST_MUTEX released first), and a special kernel APC then runs over
       the hold at APC_LEVEL. KMUTEX only: a FAST_MUTEX's or a guarded
       mutex's APC_LEVEL is its own and masks special APCs; the others
       never record APC_LEVEL. */
    BOOLEAN ApcLevelHoldIsPassive;
    /* Sets up the kernel object in a new, zeroed block; may be NULL. A
       failure (STATUS_NOT_SUPPORTED where the kernel lacks the kind) frees
       the block again. */
    NTSTATUS (*Initialize)(_Inout_ PVOID Lock);
    /* Exclusive acquire; SavedIrql receives what Release needs back. NULL
       for kinds that cannot be acquired through a plain scope. */
    NTSTATUS (*Acquire)(_Inout_ PVOID Lock, _In_ SIZE_T DataSize,
                        _Outptr_result_maybenull_ PVOID *Data, _Out_ KIRQL *SavedIrql);
    NTSTATUS (*Release)(_Inout_ PVOID Lock, _In_ KIRQL SavedIrql);
    /* Tears down the kernel object before the block is freed; may be NULL. */
    VOID (*Finalize)(_Inout_ PVOID Lock);
    /* Reader/writer kinds: TRUE if the calling thread is known to hold the
       lock shared (for the registry's Dereference); NULL for the others. */
    BOOLEAN (*HeldSharedByCaller)(_In_ PVOID Lock);
    /* TRUE while the kernel object is held, whatever the header records:
       a DPC or APC on the holder's thread may run between the kernel's
       grant and the record of the owner, or between the release of the
       record and the kernel's (Destroy, Take). NULL for the spin kinds,
       whose holds no DPC or APC interrupts. */
    BOOLEAN (*KernelHeld)(_In_ PVOID Lock);
};

extern const WDKMP_LOCK_KIND WdkmpKMutexKind;
extern const WDKMP_LOCK_KIND WdkmpFastMutexKind;
extern const WDKMP_LOCK_KIND WdkmpSpinLockKind;
extern const WDKMP_LOCK_KIND WdkmpQueuedSpinLockKind;
extern const WDKMP_LOCK_KIND WdkmpGuardedMutexKind;
extern const WDKMP_LOCK_KIND WdkmpResourceKind;
extern const WDKMP_LOCK_KIND WdkmpPushLockKind;

/*
 * TRUE if the running code holds Lock exclusively: the owner is the caller,
 * unless the caller is a DPC or a special kernel APC that interrupted the
 * owner. Those run above the IRQL the hold was taken at (DISPATCH_LEVEL,
 * APC_LEVEL), and a hold taken below the caller's IRQL, at APC_LEVEL or
 * above, belongs to the code they interrupted, which to NT is the same
 * thread. (Code that raised the IRQL itself over its own hold is taken
 * for such an interrupt: reference.md's "Not detected"; so is a KMUTEX
 * holder at APC_LEVEL, whose hold counts as taken at PASSIVE_LEVEL: its
 * kind's ApcLevelHoldIsPassive.)
 */
WDKMP_INLINE
BOOLEAN
WdkmpLockHeldHere(
    _In_ const WDKMP_LOCK_HEADER *Header
    )
{
    KIRQL Irql;
    KIRQL Held;

    if (!WdkmpLockOwnedByCaller(Header)) {
        return FALSE;
    }
    Irql = WdkmpGetIrql();
    Held = Header->HeldIrql;
    if (Held == APC_LEVEL && Header->Kind->ApcLevelHoldIsPassive) {
        /* A hold (a KMUTEX's) that outlives the APC_LEVEL it was taken at:
           counted as taken at PASSIVE_LEVEL, as an ERESOURCE's hold. Here,
           not at the acquisition, which the fast path pays. */
        Held = PASSIVE_LEVEL;
    }
    return !(Irql >= APC_LEVEL && Held < Irql);
}

/*
 * WdkmpLockCreate - validate the arguments every create takes, allocate a
 * zeroed block of the kind's size + the value, copy the value in, set up
 * the kernel object. IRQL <= DISPATCH_LEVEL. *Lock is NULL on failure.
 */
_Must_inspect_result_
NTSTATUS
WdkmpLockCreate(
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Lock
    );

/*
 * WdkmpLockCreateInPlace - as WdkmpLockCreate, with the value zeroed and
 * then set up in place by Initialize (not NULL, else
 * STATUS_INVALID_PARAMETER). A failure status of Initialize is returned
 * and the block freed (the kernel object torn down first).
 */
_Must_inspect_result_
NTSTATUS
WdkmpLockCreateInPlace(
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_ SIZE_T DataSize,
    _In_opt_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PVOID *Lock
    );

/* The bytes of an owned block just before its header: the registry's entry. */
#define WDKMP_LOCK_COMPANION WDKMP_CACHE_LINE

/*
 * WdkmpLockCreateOwned - the registry's lock block: as WdkmpLockCreate
 * (InitialValue) or WdkmpLockCreateInPlace (Initialize not NULL), with
 * room for the registry's entry in the same block: WDKMP_CACHE_LINE bytes
 * just before the header (the two lines one 128-byte aligned pair) and
 * Trailer bytes (not 0) at WdkmpLockTrailer, 16-byte aligned. The block is
 * freed by WdkmpLockFreeOwned with the same Trailer, after
 * WdkmpLockDestroyOwned succeeded.
 */
_Must_inspect_result_
NTSTATUS
WdkmpLockCreateOwned(
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_opt_ const VOID *InitialValue,
    _In_opt_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_ SIZE_T DataSize,
    _In_ SIZE_T Trailer,
    _Outptr_result_maybenull_ PVOID *Lock
    );

/* WdkmpLockTrailer - where an owned block's Trailer bytes start. */
PVOID
WdkmpLockTrailer(
    _In_ const WDKMP_LOCK_HEADER *Header
    );

/* WdkmpLockFreeOwned - free an owned block whose lock has been destroyed. */
VOID
WdkmpLockFreeOwned(
    _In_ PVOID Lock,
    _In_ SIZE_T Trailer
    );

/*
 * The callback forms (WdkmXxxAcquireOrBugCheck). Each kind adapts its
 * plain acquire to WDKMP_ACQUIRE_FOR_CALLBACK (Argument: the OldIrql or
 * queue handle pointer, or NULL). WdkmpLockAcquireOrBugCheck runs it and,
 * on any status but STATUS_SUCCESS, stops the system with
 * WDKM_BUGCHECK_LOCK_MISUSE (the checked build reports first); Caller is
 * the public function's return address. Returns the data pointer, also
 * stored in *Data when Data is not NULL.
 */
typedef NTSTATUS WDKMP_ACQUIRE_FOR_CALLBACK(_Inout_ PVOID Lock, _In_ SIZE_T DataSize,
                                            _In_opt_ PVOID Argument,
                                            _Outptr_result_maybenull_ PVOID *Data);

PVOID
WdkmpLockAcquireOrBugCheck(
    _In_ WDKMP_ACQUIRE_FOR_CALLBACK *Acquire,
    _In_ WDKM_LOCK_KIND Kind,
    _In_opt_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Out_opt_ PVOID *Data,
    _In_opt_ PVOID Caller
    );

/*
 * A callback form refused with Status: the checked build's report, then
 * bug check WDKM_BUGCHECK_LOCK_MISUSE (P1 Status, P2 Lock or, for a
 * registry lookup (Lookup TRUE, Lock NULL), Name, NULL included; P3
 * Caller; P4 Kind << 8 | IRQL). File and Line: the site the typed macro
 * noted (NULL and 0: none).
 */
DECLSPEC_NORETURN
VOID
WdkmpCallbackMisuse(
    _In_ WDKM_LOCK_KIND Kind,
    _In_opt_ PVOID Lock,
    _In_ BOOLEAN Lookup,
    _In_opt_z_ PCSTR Name,
    _In_ NTSTATUS Status,
    _In_opt_ PVOID Caller,
    _In_opt_z_ PCSTR File,
    _In_ ULONG Line
    );

/*
 * The descriptor of a public kind, or NULL if the library has none
 * (wdkm_lock_kinds.c: linking it links every kind).
 */
const WDKMP_LOCK_KIND *
WdkmpLockKindOf(
    _In_ WDKM_LOCK_KIND Kind
    );

/* The release of every plain scoped form: the kind comes from the header. */
NTSTATUS
WdkmpLockScopeRelease(
    _Inout_ PWDKM_SCOPE Scope
    );

/* Pool blocks, counted for WdkmQueryPoolStatistics (wdkm_pool.c). */
_IRQL_requires_max_(DISPATCH_LEVEL)
PVOID
WdkmpAllocateBlock(
    _In_ SIZE_T Bytes
    );

_IRQL_requires_max_(DISPATCH_LEVEL)
VOID
WdkmpFreeBlock(
    _In_ PVOID Block,
    _In_ SIZE_T Bytes
    );

/* The spin-lock kinds (wdkm_spinlock.c, wdkm_queuedspinlock.c). */

/*
 * Ownership once held (WdkmpLockTakeOwnership), which form took it, and
 * whether the hold is nested in another (Irql, the caller's IRQL before
 * the acquisition, is DISPATCH_LEVEL already): see WdkmpNestEnter.
 */
WDKMP_INLINE
VOID
WdkmpSpinLockTakeOwnership(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _In_ KIRQL Irql
    )
{
    WdkmpLockTakeOwnership(Header);
    /* How is 0 (not nested, raised) as on every free lock: WdkmpNestLeave. */
    if (Irql == DISPATCH_LEVEL) {
        WdkmpNestEnter(Header, WDKMP_NEST_DISPATCH);
    }
}

/*
 * The release's last check for a hold that Lowers the IRQL: refused while
 * the caller holds a spin lock nested in this one (WdkmpNestBlocksLowering).
 */
WDKMP_INLINE
NTSTATUS
WdkmpSpinLockCheckLowering(
    _In_ const WDKMP_LOCK_HEADER *Header,
    _In_ BOOLEAN Lowers
    )
{
    if (Lowers && WdkmpNestBlocksLowering(Header, WDKMP_NEST_DISPATCH)) {
        return STATUS_WDKM_LOCK_HELD;
    }
    /* A nested hold lowers only after its outer lock's explicit
       out-of-order release; last, as it uses up that allowance. */
    if (Lowers && Header->How.Hold.Nest == WDKMP_NEST_TRACKED && !WdkmpNestTakeLowerable(Header)) {
        return STATUS_WDKM_LOCK_HELD;
    }
    return STATUS_SUCCESS;
}

/* The reader/writer kinds (wdkm_resource.c, wdkm_pushlock.c). */

/* The shared release checks: Holds says whether the caller holds it shared. */
WDKMP_INLINE
NTSTATUS
WdkmpSharedReleaseStatus(
    _In_ const WDKMP_LOCK_HEADER *Header,
    _In_ BOOLEAN Holds
    )
{
    if (Holds) {
        return STATUS_SUCCESS;
    }
    return WdkmpLockIsHeld(Header) ? STATUS_WDKM_NOT_OWNER : STATUS_WDKM_NOT_HELD;
}

#endif /* WDKM_INTERNAL_H */
