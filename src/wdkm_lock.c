/*
 * wdkm_lock.c - what every lock block shares: checked creation, the checks
 * of acquisition and release, checked destruction and take-out, and the
 * plain scoped forms. It names no lock kind: each kind's file passes its
 * own descriptor, so a driver links the code of the kinds it uses and no
 * other (the table from WDKM_LOCK_KIND to descriptors is wdkm_lock_kinds.c).
 */
#include "wdkm_internal.h"

#define WDKMP_ALIGN_UP(Value, Alignment) \
    (((Value) + ((Alignment) - 1)) & ~(SIZE_T)((Alignment) - 1))

/*
 * In the release build the kernel's lock word is on the header's cache line
 * (wdkm_layout.h): a contended hand-off then moves that line and the
 * value's, as the raw lock does. A layout change that breaks it fails here.
 */
#if !WDKM_CHECKED
#define WDKMP_ON_HEADER_LINE(Name, Type, Field, Bytes) \
    typedef char WdkmpOnHeaderLine##Name[(FIELD_OFFSET(Type, Field) + (Bytes) <= WDKMP_CACHE_LINE) ? 1 : -1]
WDKMP_ON_HEADER_LINE(SpinLock, struct _WDKM_SPIN_LOCK, SpinLock, sizeof(WDKMP_SPIN_LOCK));
WDKMP_ON_HEADER_LINE(Queued, struct _WDKM_QUEUED_SPIN_LOCK, SpinLock, sizeof(WDKMP_SPIN_LOCK));
WDKMP_ON_HEADER_LINE(FastMutex, struct _WDKM_FAST_MUTEX, FastMutex, sizeof(LONG));
WDKMP_ON_HEADER_LINE(Guarded, struct _WDKM_GUARDED_MUTEX, Mutex, sizeof(LONG));
WDKMP_ON_HEADER_LINE(PushLock, struct _WDKM_PUSH_LOCK, PushLock, sizeof(WDKMP_PUSH_LOCK));
WDKMP_ON_HEADER_LINE(KMutex, struct _WDKM_KMUTEX, Mutex, 2 * sizeof(LONG));
#undef WDKMP_ON_HEADER_LINE
#endif

/* The layout's symbol (wdkm_layout.h): its name says which build this is. */
const volatile UCHAR WdkmpLayout = WDKM_CHECKED;

/* The value's size fits the header's ULONG; the slack covers the pool's alignment. */
typedef char WdkmpDataSizeFitsUlong[(WDKM_MAX_DATA_SIZE <= 0xFFFFFFFFULL) ? 1 : -1];

/*
 * A block the registry owns (Trailer not 0) also holds its entry: the
 * companion line just before the header, the two on one 128-byte aligned
 * pair (adjacent-line prefetch fetches both), and Trailer bytes after the
 * value. Its header is then up to WDKMP_OWNED_SLACK bytes into the block,
 * which the header's Slack byte still records.
 */
#define WDKMP_LOCK_PAIR   (WDKMP_LOCK_COMPANION + WDKMP_CACHE_LINE)
#define WDKMP_OWNED_SLACK (WDKMP_LOCK_SLACK + WDKMP_LOCK_PAIR)
typedef char WdkmpOwnedSlackFitsUchar[(WDKMP_OWNED_SLACK <= 0xFF) ? 1 : -1];

/* The whole pool block of a lock of Kind holding DataSize bytes (and a
   registry's Trailer, not 0 for an owned block). */
static
SIZE_T
WdkmpLockBlockSize(
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_ SIZE_T DataSize,
    _In_ SIZE_T Trailer
    )
{
    if (Trailer != 0) {
        return WDKMP_OWNED_SLACK + WDKMP_ALIGN_UP(Kind->LockSize, WDKMP_DATA_ALIGNMENT) +
               WDKMP_ALIGN_UP(DataSize, WDKMP_DATA_ALIGNMENT) + Trailer;
    }
    return WDKMP_LOCK_SLACK + WDKMP_ALIGN_UP(Kind->LockSize, WDKMP_DATA_ALIGNMENT) + DataSize;
}

/* Free the block of Header (the handle is invalid once its signature is). */
static
VOID
WdkmpLockFree(
    _In_ PWDKMP_LOCK_HEADER Header,
    _In_ SIZE_T Trailer
    )
{
    WdkmpFreeBlock((PUCHAR)Header - Header->Slack,
                   WdkmpLockBlockSize(Header->Kind, Header->DataSize, Trailer));
}

/*
 * The block of a new lock of Kind with a zeroed value of DataSize bytes
 * (and, Trailer not 0, the registry's room: see WDKMP_OWNED_SLACK): the
 * header filled in and the kernel object set up. Nothing can reach it
 * yet. NULL pointer and status on failure.
 */
static
NTSTATUS
WdkmpLockAllocate(
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_ SIZE_T DataSize,
    _In_ SIZE_T Trailer,
    _Outptr_result_maybenull_ PWDKMP_LOCK_HEADER *Block
    )
{
    PWDKMP_LOCK_HEADER Header;
    SIZE_T DataOffset;
    PUCHAR Pool;
    NTSTATUS Status;

    *Block = NULL;
    if (DataSize == 0 || DataSize > WDKM_MAX_DATA_SIZE) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }

    /* No overflow: both terms are small (WDKM_MAX_DATA_SIZE bounds one). */
    DataOffset = WDKMP_ALIGN_UP(Kind->LockSize, WDKMP_DATA_ALIGNMENT);
    Pool = (PUCHAR)WdkmpAllocateBlock(WdkmpLockBlockSize(Kind, DataSize, Trailer));
    if (Pool == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    /* The header on a cache line of its own start (see wdkm_layout.h); an
       owned block's on the second line of a pair, after the companion. */
    if (Trailer != 0) {
        Header = (PWDKMP_LOCK_HEADER)(WDKMP_ALIGN_UP((ULONG_PTR)Pool, WDKMP_LOCK_PAIR) +
                                      WDKMP_LOCK_COMPANION);
    } else {
        Header = (PWDKMP_LOCK_HEADER)WDKMP_ALIGN_UP((ULONG_PTR)Pool, WDKMP_CACHE_LINE);
    }
    Header->Slack = (UCHAR)((PUCHAR)Header - Pool);
    if (Header->Slack > (Trailer != 0 ? WDKMP_OWNED_SLACK : WDKMP_LOCK_SLACK)) {
        /* A pool less aligned than MEMORY_ALLOCATION_ALIGNMENT: the block
           would be too short. Never on Windows; refused, not overrun. */
        WdkmpFreeBlock(Pool, WdkmpLockBlockSize(Kind, DataSize, Trailer));
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    if (WdkmpIrqlFixedNews()) {
        /* Found by the allocation's first lookup of the kernel's routines. */
        WdkmpDebugPrint(WDKMP_DEBUG_WARNING,
                        "wdkmutex: this kernel does not raise the IRQL (KeRaiseIrql to "
                        "DISPATCH_LEVEL left it at PASSIVE_LEVEL, as Wine does): the "
                        "AtDpcLevel forms do not check that the caller is at DISPATCH_LEVEL\n");
    }
    Header->Signature = Kind->Signature;
    Header->Kind = Kind;
    Header->DataSize = (ULONG)DataSize;     /* at most WDKM_MAX_DATA_SIZE */
    Header->Data = (PUCHAR)Header + DataOffset;
    if (Kind->Initialize != NULL) {
        Status = Kind->Initialize(Header);
        if (!NT_SUCCESS(Status)) {
            WdkmpLockFree(Header, Trailer);
            return Status;
        }
    }
    *Block = Header;
    return STATUS_SUCCESS;
}

/* Create and CreateInPlace (Initialize not NULL), plain or owned (Trailer). */
static
NTSTATUS
WdkmpLockCreateCommon(
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_opt_ const VOID *InitialValue,
    _In_opt_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_ SIZE_T DataSize,
    _In_ SIZE_T Trailer,
    _Outptr_result_maybenull_ PVOID *Lock
    )
{
    PWDKMP_LOCK_HEADER Header;
    NTSTATUS Status;

    if (Lock == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    *Lock = NULL;
    if (InitialValue == NULL && Initialize == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockAllocate(Kind, DataSize, Trailer, &Header);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    if (Initialize == NULL) {
        RtlCopyMemory(Header->Data, InitialValue, DataSize);
    } else {
        /* On the pool copy, zeroed, before anything can reach the lock. */
        Status = Initialize(Header->Data, Context);
        if (!NT_SUCCESS(Status)) {
            if (Kind->Finalize != NULL) {
                Kind->Finalize(Header);
            }
            Header->Signature = WDKMP_SIGNATURE_FREED;
            WdkmpLockFree(Header, Trailer);
            return Status;
        }
    }
    WdkmpDiagLockCreated(Header);
    *Lock = Header;
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmpLockCreate(
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Lock
    )
{
    return WdkmpLockCreateCommon(Kind, InitialValue, NULL, NULL, DataSize, 0, Lock);
}

NTSTATUS
WdkmpLockCreateInPlace(
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_ SIZE_T DataSize,
    _In_opt_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PVOID *Lock
    )
{
    if (Lock != NULL && Initialize == NULL) {
        *Lock = NULL;
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpLockCreateCommon(Kind, NULL, Initialize, Context, DataSize, 0, Lock);
}

NTSTATUS
WdkmpLockCreateOwned(
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_opt_ const VOID *InitialValue,
    _In_opt_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_ SIZE_T DataSize,
    _In_ SIZE_T Trailer,
    _Outptr_result_maybenull_ PVOID *Lock
    )
{
    if (Trailer == 0) {
        if (Lock != NULL) {
            *Lock = NULL;
        }
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpLockCreateCommon(Kind, InitialValue, Initialize, Context, DataSize, Trailer,
                                 Lock);
}

PVOID
WdkmpLockTrailer(
    _In_ const WDKMP_LOCK_HEADER *Header
    )
{
    return (PUCHAR)Header->Data + WDKMP_ALIGN_UP((SIZE_T)Header->DataSize, WDKMP_DATA_ALIGNMENT);
}

VOID
WdkmpLockFreeOwned(
    _In_ PVOID Lock,
    _In_ SIZE_T Trailer
    )
{
    WdkmpLockFree((PWDKMP_LOCK_HEADER)Lock, Trailer);
}

/*
 * Destroy, take (Value) or destroy with a drain (Drain): the checks, then
 * the value copied out, the kernel object torn down, the handle made
 * invalid, the value drained where it lies, and the block freed (not a
 * registry lock's: the registry frees it, WdkmpLockFreeOwned).
 */
static
NTSTATUS
WdkmpLockDestroyCommon(
    _In_opt_ PVOID Lock,
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_opt_(DataSize) PVOID Value,
    _In_opt_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context,
    _In_ BOOLEAN ByRegistry
    )
{
    PWDKMP_LOCK_HEADER Header = (PWDKMP_LOCK_HEADER)Lock;

    if (Header == NULL || Header->Signature != Kind->Signature) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > Kind->MaxDestroyIrql) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (Header->RegistryEntry != NULL && !ByRegistry) {
        return STATUS_WDKM_OWNED_BY_REGISTRY;
    }
    if ((Value != NULL || Drain != NULL) && DataSize != Header->DataSize) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    /* The kernel's view too: a DPC or APC on the holder's thread may ask
       between the kernel's grant and the owner's record, or between the
       record's release and the kernel's. */
    if (WdkmpLockIsHeld(Header) || (Kind->KernelHeld != NULL && Kind->KernelHeld(Lock))) {
        return STATUS_WDKM_LOCK_HELD;
    }

    if (Value != NULL) {
        RtlCopyMemory(Value, Header->Data, DataSize);
    }
    WdkmpDiagLockDestroyed(Header);
    if (Kind->Finalize != NULL) {
        Kind->Finalize(Lock);
    }
    /* A later destroy of the same handle then fails instead of freeing twice
       (as long as the pool has not reused the block); so does any use of
       the handle from the drain. */
    Header->Signature = WDKMP_SIGNATURE_FREED;
    if (Drain != NULL) {
        Drain(Header->Data, Context);
    }
    if (!ByRegistry) {
        WdkmpLockFree(Header, 0);       /* the registry frees its own (WdkmpLockFreeOwned) */
    }
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmpLockDestroy(
    _In_opt_ PVOID Lock,
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_opt_(DataSize) PVOID Value
    )
{
    return WdkmpLockDestroyCommon(Lock, Kind, DataSize, Value, NULL, NULL, FALSE);
}

NTSTATUS
WdkmpLockDestroyOwned(
    _In_ PVOID Lock,
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_opt_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    )
{
    return WdkmpLockDestroyCommon(Lock, Kind, ((PWDKMP_LOCK_HEADER)Lock)->DataSize, NULL, Drain,
                                  Context, TRUE);
}

NTSTATUS
WdkmpLockDestroyWith(
    _In_opt_ PVOID Lock,
    _In_ const WDKMP_LOCK_KIND *Kind,
    _In_ SIZE_T DataSize,
    _In_opt_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    )
{
    if (Drain == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpLockDestroyCommon(Lock, Kind, DataSize, NULL, Drain, Context, FALSE);
}

/* ------------------------------------------------------------------------
 * The callback forms: an acquisition that cannot fail to its caller.
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
    )
{
    KIRQL Irql = WdkmpGetIrql();

#if WDKM_CHECKED
    WdkmpDiagCallbackMisuse(Lock, Lookup, Name, (ULONG)Kind, Status, Caller, File, Line);
#else
    UNREFERENCED_PARAMETER(File);
    UNREFERENCED_PARAMETER(Line);
    if (Lookup) {
        /* A NULL name too is a lookup's: P2 is the name, not a lock. */
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: callback form refused: %s looking up \"%.64s\" (kind %u) at "
                        "IRQL %u, called from %p: bug check 0x%08X\n",
                        WdkmStatusName(Status), Name != NULL ? Name : "(NULL name)",
                        (unsigned)Kind, (unsigned)Irql, Caller,
                        (unsigned)WDKM_BUGCHECK_LOCK_MISUSE);
    } else {
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: callback form refused: %s acquiring lock %p (kind %u) at IRQL "
                        "%u, called from %p: bug check 0x%08X\n",
                        WdkmStatusName(Status), Lock, (unsigned)Kind, (unsigned)Irql, Caller,
                        (unsigned)WDKM_BUGCHECK_LOCK_MISUSE);
    }
#endif
    /* P2: the lock, or for a lookup the name (da it in the debugger). */
    WdkmpBugCheck(WDKM_BUGCHECK_LOCK_MISUSE, (ULONG_PTR)(ULONG)Status,
                  Lookup ? (ULONG_PTR)Name : (ULONG_PTR)Lock, (ULONG_PTR)Caller,
                  ((ULONG_PTR)Kind << 8) | Irql);
}

PVOID
WdkmpLockAcquireOrBugCheck(
    _In_ WDKMP_ACQUIRE_FOR_CALLBACK *Acquire,
    _In_ WDKM_LOCK_KIND Kind,
    _In_opt_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Out_opt_ PVOID *Data,
    _In_opt_ PVOID Caller
    )
{
    PVOID Value = NULL;
    NTSTATUS Status;
    PCSTR File;
    ULONG Line;

    /* Before the acquisition takes the site the typed macro noted. */
    WdkmpDiagPeekSite(Lock, &File, &Line);
    Status = Acquire(Lock, DataSize, Argument, &Value);
    if (Status != STATUS_SUCCESS) {
        WdkmpCallbackMisuse(Kind, Lock, FALSE, NULL, Status, Caller, File, Line);
    }
    if (Data != NULL) {
        *Data = Value;
    }
    return Value;
}

WDKM_SCOPE
WdkmpScopeNone(
    _Out_opt_ PVOID *Data
    )
{
    WDKM_SCOPE Scope;

    if (Data != NULL) {
        *Data = NULL;
    }
    Scope.Lock = NULL;
    Scope.Release = NULL;
    Scope.Status = NULL;
    Scope.SavedIrql = PASSIVE_LEVEL;
    return Scope;
}

WDKM_SCOPE
WdkmpScopeResult(
    _In_ PVOID Lock,
    _In_ PWDKM_SCOPE_RELEASE Release,
    _In_ NTSTATUS Status,
    _Out_ NTSTATUS *StatusOut
    )
{
    WDKM_SCOPE Scope;

    Scope.Lock = Status == STATUS_SUCCESS ? Lock : NULL;
    Scope.Release = Release;
    Scope.Status = StatusOut;
    Scope.SavedIrql = PASSIVE_LEVEL;
    *StatusOut = Status;
    return Scope;
}


NTSTATUS
WdkmpLockScopeRelease(
    _Inout_ PWDKM_SCOPE Scope
    )
{
    const WDKMP_LOCK_KIND *Kind = ((PWDKMP_LOCK_HEADER)Scope->Lock)->Kind;

    return Kind->Release(Scope->Lock, Scope->SavedIrql);
}

WDKM_SCOPE
WdkmpLockScopeEnter(
    _In_ const WDKMP_LOCK_KIND *Kind,
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    )
{
    KIRQL SavedIrql = PASSIVE_LEVEL;
    WDKM_SCOPE Scope;

    if (Status == NULL) {
        return WdkmpScopeNone(Data);
    }
    Scope = WdkmpScopeResult(Lock, WdkmpLockScopeRelease,
                             Kind->Acquire(Lock, DataSize, Data, &SavedIrql), Status);
    Scope.SavedIrql = SavedIrql;
    return Scope;
}

/* ------------------------------------------------------------------------
 * Nested holds of the kinds that raise the IRQL (see WdkmpNestEnter in
 * wdkm_internal.h). A thread's slot lives in the shard its identity hashes
 * to; every access to a shard's slots holds the shard's spin lock, so it
 * works at APC_LEVEL and DISPATCH_LEVEL alike, and a DPC on the thread's
 * identity (which cannot run while the spin lock is held) sees the slot
 * whole. Holds counts the shard's nested holds for the lock-free check of
 * a lowering release: a thread's own updates are always visible to it, so
 * a relaxed load that reads 0 proves that the caller has none.
 */

WDKMP_NEST_SHARD_LINES WdkmpNestShards[WDKMP_NEST_SHARDS];

/* A shard fits its two lines, and the lines make the array's stride. */
typedef char WdkmpNestShardSize[(sizeof(WDKMP_NEST_SHARD) <= WDKMP_NEST_SHARD_BYTES &&
                                 sizeof(WDKMP_NEST_SHARD_LINES) == WDKMP_NEST_SHARD_BYTES)
                                    ? 1 : -1];

/* The caller's slot in Shard, or NULL; Shard->Lock held. */
static
WDKMP_NEST_SLOT *
WdkmpNestFind(
    _In_ WDKMP_NEST_SHARD *Shard,
    _In_ WDKMP_THREAD Self
    )
{
    ULONG Index;

    for (Index = 0; Index < WDKMP_NEST_SLOTS; Index += 1) {
        if (Shard->Slots[Index].Thread == Self) {
            return &Shard->Slots[Index];
        }
    }
    return NULL;
}

VOID
WdkmpNestEnter(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _In_ ULONG Level
    )
{
    WDKMP_THREAD Self = WdkmpLoadThread(&Header->Owner);    /* the caller: just recorded */
    WDKMP_NEST_SHARD *Shard = WdkmpNestShard(Self);
    WDKMP_NEST_SLOT *Slot;
    ULONG Index;
    KIRQL Irql;

    Irql = WdkmpSpinLockAcquire(&Shard->Lock);
    Slot = WdkmpNestFind(Shard, Self);
    for (Index = 0; Slot == NULL && Index < WDKMP_NEST_SLOTS; Index += 1) {
        if (Shard->Slots[Index].Thread == NULL) {
            Slot = &Shard->Slots[Index];
            Slot->Thread = Self;
            Slot->Lowerable = 0;
        }
    }
    if (Slot != NULL) {
        Slot->Depth[Level] += 1;
        WdkmpStoreLong(&Shard->Holds, Shard->Holds + 1);
        Header->How.Hold.Nest = WDKMP_NEST_TRACKED;
    } else {
        Header->How.Hold.Nest = WDKMP_NEST_UNTRACKED;
    }
    WdkmpSpinLockRelease(&Shard->Lock, Irql);
}

VOID
WdkmpNestLeaveTracked(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _In_ ULONG Level
    )
{
    WDKMP_THREAD Self = WdkmpLoadThread(&Header->Owner);    /* the caller, still */
    WDKMP_NEST_SHARD *Shard = WdkmpNestShard(Self);
    WDKMP_NEST_SLOT *Slot;
    KIRQL Irql;

    Irql = WdkmpSpinLockAcquire(&Shard->Lock);
    Slot = WdkmpNestFind(Shard, Self);
    if (Slot != NULL) {                 /* always: a tracked hold has its slot */
        Slot->Depth[Level] -= 1;
        if (Slot->Depth[WDKMP_NEST_APC] == 0 && Slot->Depth[WDKMP_NEST_DISPATCH] == 0) {
            Slot->Thread = NULL;
        }
        WdkmpStoreLong(&Shard->Holds, Shard->Holds - 1);
    }
    WdkmpSpinLockRelease(&Shard->Lock, Irql);
}

VOID
WdkmpNestOuterReleasedHigh(
    _In_ WDKMP_THREAD Self
    )
{
    WDKMP_NEST_SHARD *Shard = WdkmpNestShard(Self);
    WDKMP_NEST_SLOT *Slot;
    KIRQL Irql;

    if (WdkmpLoadLong(&Shard->Holds) == 0) {
        return;                         /* no nested hold anywhere in the shard */
    }
    Irql = WdkmpSpinLockAcquire(&Shard->Lock);
    Slot = WdkmpNestFind(Shard, Self);
    if (Slot != NULL && Slot->Depth[WDKMP_NEST_DISPATCH] > 0) {
        Slot->Lowerable += 1;
    }
    WdkmpSpinLockRelease(&Shard->Lock, Irql);
}

BOOLEAN
WdkmpNestTakeLowerable(
    _In_ const WDKMP_LOCK_HEADER *Header
    )
{
    WDKMP_THREAD Self = WdkmpLoadThread(&Header->Owner);
    WDKMP_NEST_SHARD *Shard = WdkmpNestShard(Self);
    WDKMP_NEST_SLOT *Slot;
    BOOLEAN Allowed = FALSE;
    KIRQL Irql;

    Irql = WdkmpSpinLockAcquire(&Shard->Lock);
    Slot = WdkmpNestFind(Shard, Self);
    if (Slot != NULL && Slot->Lowerable > 0) {
        Slot->Lowerable -= 1;
        Allowed = TRUE;
    }
    WdkmpSpinLockRelease(&Shard->Lock, Irql);
    return Allowed;
}

BOOLEAN
WdkmpNestBlocksLoweringSlow(
    _In_ const WDKMP_LOCK_HEADER *Header,
    _In_ ULONG Level,
    _In_ WDKMP_NEST_SHARD *Shard
    )
{
    WDKMP_NEST_SLOT *Slot;
    BOOLEAN Blocks = FALSE;
    KIRQL Irql;

    Irql = WdkmpSpinLockAcquire(&Shard->Lock);
    Slot = WdkmpNestFind(Shard, WdkmpLoadThread(&Header->Owner));
    if (Slot != NULL) {
        Blocks = Slot->Depth[Level] > (Header->How.Hold.Nest == WDKMP_NEST_TRACKED ? 1 : 0);
    }
    WdkmpSpinLockRelease(&Shard->Lock, Irql);
    return Blocks;
}
