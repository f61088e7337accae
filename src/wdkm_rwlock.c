/*
 * wdkm_rwlock.c - WDKM_RESOURCE (ERESOURCE) and WDKM_PUSH_LOCK: reader/
 * writer locks that own a value. Both kernel objects must be held inside a
 * critical region; the wrappers enter it before acquiring and leave it after
 * releasing.
 */
#include "wdkm_internal.h"

struct _WDKM_RESOURCE {
    WDKMP_LOCK_HEADER Header;
    ULONG ExclusiveDepth;        /* the exclusive owner's acquisitions; owner-only */
    WDKMP_RESOURCE Resource;
};

/*
 * A push lock records no owners, so the wrapper records its shared
 * holders: each takes a reader slot (WDKMP_PUSH_LOCK_READERS of them, one
 * cache line on x64) by a compare-exchange from NULL to its thread, and
 * empties it at its release; a reader that finds them all taken is
 * counted in UntrackedReaders instead. That tells a stray shared release
 * (a thread that holds nothing) from a legitimate one, and a shared holder
 * that asks again (the kernel would deadlock), as long as no reader is
 * untracked: see WdkmPushLockRelease.
 */
#define WDKMP_PUSH_LOCK_READERS 8

struct _WDKM_PUSH_LOCK {
    WDKMP_LOCK_HEADER Header;
    WDKMP_THREAD volatile Readers[WDKMP_PUSH_LOCK_READERS];   /* NULL: free */
    LONG volatile UntrackedReaders;
    WDKMP_PUSH_LOCK PushLock;
};

/* The shared release checks: Holds says whether the caller holds it shared. */
static
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

/* ------------------------------------------------------------------------
 * WDKM_RESOURCE
 */

NTSTATUS
WdkmResourceCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_RESOURCE *Resource
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (Resource == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreate(&WdkmpResourceKind, InitialValue, DataSize, &Lock);
    *Resource = (PWDKM_RESOURCE)Lock;
    return Status;
}

/* Inline: each form gets its own copy, its constants folded. */
WDKMP_INLINE
NTSTATUS
WdkmpResourceAcquireCommon(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _In_ BOOLEAN Exclusive,
    _In_ BOOLEAN Wait,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    WDKMP_DIAG_ACQUIRE Diag;
    WDKMP_THREAD Self;
    KIRQL Irql;
    BOOLEAN Owner;
    BOOLEAN Acquired;
    NTSTATUS Status;

    Status = WdkmpLockCheckAcquire(Resource, WDKMP_SIGNATURE_RESOURCE, DataSize, Data, PASSIVE_LEVEL, APC_LEVEL, TRUE, &Self, &Irql);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Owner = WdkmpLoadThread(&Resource->Header.Owner) == Self;
    /* A shared owner waiting for exclusive waits for itself. The kernel's
       count is asked only when someone holds it shared: a thread that does
       sees its own increment of SharedHolders, so 0 means not this one. */
    if (Exclusive && !Owner && WdkmpLoadLong(&Resource->Header.SharedHolders) != 0 &&
        WdkmpResourceHeldCount(&Resource->Resource) != 0) {
        return STATUS_POSSIBLE_DEADLOCK;
    }
    Status = WdkmpDiagBeforeAcquire(&Resource->Header,
                                    (Wait ? WDKMP_DIAG_WAITS : WDKMP_DIAG_TRY) |
                                        (Exclusive ? 0 : WDKMP_DIAG_SHARED),
                                    &Diag);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }

    WdkmpEnterRegion(FALSE);
    if (Wait) {
        Acquired = TRUE;
        WDKMP_DIAG_TRY_FIRST(&Diag,
                             WdkmpResourceAcquire(&Resource->Resource, Exclusive, FALSE)
                                 ? STATUS_SUCCESS : STATUS_TIMEOUT,
                             Acquired = WdkmpResourceAcquire(&Resource->Resource, Exclusive, TRUE));
    } else {
        Acquired = WdkmpResourceAcquire(&Resource->Resource, Exclusive, FALSE);
    }
    if (!Acquired) {
        WdkmpLeaveRegion(FALSE);
        WdkmpDiagAfterAcquire(&Resource->Header, &Diag, FALSE);
        return STATUS_TIMEOUT;
    }
    if (Owner) {
        Resource->ExclusiveDepth += 1;      /* the owner's holds all count as exclusive */
    } else if (Exclusive) {
        WdkmpStoreThread(&Resource->Header.Owner, Self);
        Resource->ExclusiveDepth = 1;
    } else {
        InterlockedIncrement(&Resource->Header.SharedHolders);
    }
    *Data = Resource->Header.Data;
    WdkmpDiagAfterAcquire(&Resource->Header, &Diag, TRUE);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmResourceAcquireExclusive(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmpResourceAcquireCommon(Resource, DataSize, TRUE, TRUE, Data);
}

NTSTATUS
WdkmResourceTryAcquireExclusive(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmpResourceAcquireCommon(Resource, DataSize, TRUE, FALSE, Data);
}

NTSTATUS
WdkmResourceAcquireShared(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ const VOID **Data
    )
{
    return WdkmpResourceAcquireCommon(Resource, DataSize, FALSE, TRUE, (PVOID *)Data);
}

NTSTATUS
WdkmResourceTryAcquireShared(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ const VOID **Data
    )
{
    return WdkmpResourceAcquireCommon(Resource, DataSize, FALSE, FALSE, (PVOID *)Data);
}

NTSTATUS
WdkmResourceRelease(
    _Inout_ PWDKM_RESOURCE Resource
    )
{
    NTSTATUS Status;
    PVOID Diag;

    if (Resource == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (!WdkmpLockIsKind(Resource, WDKMP_SIGNATURE_RESOURCE)) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    if (WdkmpGetIrql() > APC_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (WdkmpLockOwnedByCaller(Resource)) {
        Diag = WdkmpDiagBeforeRelease(&Resource->Header);
        Resource->ExclusiveDepth -= 1;
        if (Resource->ExclusiveDepth == 0) {
            WdkmpStoreThread(&Resource->Header.Owner, NULL);
        }
    } else {
        Status = WdkmpSharedReleaseStatus(&Resource->Header,
                                          WdkmpResourceHeldCount(&Resource->Resource) != 0);
        if (Status != STATUS_SUCCESS) {
            return Status;
        }
        Diag = WdkmpDiagBeforeRelease(&Resource->Header);
        InterlockedDecrement(&Resource->Header.SharedHolders);
    }
    WdkmpResourceRelease(&Resource->Resource);
    WdkmpLeaveRegion(FALSE);
    WdkmpDiagAfterRelease(Diag);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmResourceDestroy(
    _In_ PWDKM_RESOURCE Resource
    )
{
    return WdkmpLockDestroy(Resource, &WdkmpResourceKind, 0, NULL, FALSE);
}

NTSTATUS
WdkmResourceTake(
    _In_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    )
{
    if (Value == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpLockDestroy(Resource, &WdkmpResourceKind, DataSize, Value, FALSE);
}

NTSTATUS
WdkmResourceCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_RESOURCE *Resource
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (Resource == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreateInPlace(&WdkmpResourceKind, DataSize, Initialize, Context, &Lock);
    *Resource = (PWDKM_RESOURCE)Lock;
    return Status;
}

NTSTATUS
WdkmResourceDestroyWith(
    _In_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    )
{
    return WdkmpLockDestroyWith(Resource, &WdkmpResourceKind, DataSize, Drain, Context);
}

BOOLEAN
WdkmResourceIsOwnedExclusive(
    _In_opt_ const WDKM_RESOURCE *Resource
    )
{
    return WdkmpLockOwnedByCallerAs(Resource, WDKMP_SIGNATURE_RESOURCE);
}

/* The kernel counts each thread's holds: exact. Asked only when someone
   holds it shared (see the acquire's own check). */
static
BOOLEAN
WdkmpResourceHeldSharedByCaller(
    _In_ PVOID Lock
    )
{
    PWDKM_RESOURCE Resource = (PWDKM_RESOURCE)Lock;

    return WdkmpLoadLong(&Resource->Header.SharedHolders) != 0 &&
           WdkmpResourceHeldCount(&Resource->Resource) != 0;
}

WDKM_SCOPE
WdkmResourceScopeEnter(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _In_ BOOLEAN Exclusive,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    )
{
    return WdkmpScopeResult(Resource, WdkmpLockScopeRelease,
                            WdkmpResourceAcquireCommon(Resource, DataSize, Exclusive, TRUE, Data),
                            Status);
}

static
NTSTATUS
WdkmpResourceInitializeAny(
    _Inout_ PVOID Lock
    )
{
    return WdkmpResourceInitialize(&((PWDKM_RESOURCE)Lock)->Resource);
}

static
VOID
WdkmpResourceFinalizeAny(
    _Inout_ PVOID Lock
    )
{
    WdkmpResourceDelete(&((PWDKM_RESOURCE)Lock)->Resource);
}

static
NTSTATUS
WdkmpResourceAcquireAny(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ KIRQL *SavedIrql
    )
{
    *SavedIrql = PASSIVE_LEVEL;
    return WdkmpResourceAcquireCommon((PWDKM_RESOURCE)Lock, DataSize, TRUE, TRUE, Data);
}

static
NTSTATUS
WdkmpResourceReleaseAny(
    _Inout_ PVOID Lock,
    _In_ KIRQL SavedIrql
    )
{
    UNREFERENCED_PARAMETER(SavedIrql);
    return WdkmResourceRelease((PWDKM_RESOURCE)Lock);
}

static
NTSTATUS
WdkmpResourceAcquireExclusiveForCallback(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    UNREFERENCED_PARAMETER(Argument);
    return WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Lock, DataSize, Data);
}

WDKMP_NOINLINE
PVOID
WdkmResourceAcquireExclusiveOrBugCheck(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    )
{
    return WdkmpLockAcquireOrBugCheck(WdkmpResourceAcquireExclusiveForCallback, WdkmLockKindResource, Resource, DataSize, NULL, Data,
                                      WDKMP_RETURN_ADDRESS());
}

static
NTSTATUS
WdkmpResourceAcquireSharedForCallback(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    UNREFERENCED_PARAMETER(Argument);
    return WdkmResourceAcquireShared((PWDKM_RESOURCE)Lock, DataSize, (const VOID **)Data);
}

WDKMP_NOINLINE
const VOID *
WdkmResourceAcquireSharedOrBugCheck(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Out_opt_ const VOID **Data
    )
{
    const VOID *Value = WdkmpLockAcquireOrBugCheck(WdkmpResourceAcquireSharedForCallback, WdkmLockKindResource, Resource, DataSize,
                                                   NULL, NULL, WDKMP_RETURN_ADDRESS());

    if (Data != NULL) {
        *Data = Value;
    }
    return Value;
}

const WDKMP_LOCK_KIND WdkmpResourceKind = {
    WdkmLockKindResource,
    WDKMP_SIGNATURE_RESOURCE,
    sizeof(WDKM_RESOURCE),
    APC_LEVEL,                   /* ExDeleteResourceLite */
    WdkmpResourceInitializeAny,
    WdkmpResourceAcquireAny,
    WdkmpResourceReleaseAny,
    WdkmpResourceFinalizeAny,
    WdkmpResourceHeldSharedByCaller
};

/* ------------------------------------------------------------------------
 * WDKM_PUSH_LOCK
 */

NTSTATUS
WdkmPushLockCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_PUSH_LOCK *PushLock
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (PushLock == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreate(&WdkmpPushLockKind, InitialValue, DataSize, &Lock);
    *PushLock = (PWDKM_PUSH_LOCK)Lock;
    return Status;
}

/* The reader slot that records Thread's shared hold, or NULL. */
static
WDKMP_THREAD volatile *
WdkmpPushLockReaderSlot(
    _In_ PWDKM_PUSH_LOCK PushLock,
    _In_ WDKMP_THREAD Thread
    )
{
    ULONG Index;

    for (Index = 0; Index < WDKMP_PUSH_LOCK_READERS; Index += 1) {
        if (WdkmpLoadThread(&PushLock->Readers[Index]) == Thread) {
            return &PushLock->Readers[Index];
        }
    }
    return NULL;
}

/* Record the caller's new shared hold: a free slot, else the untracked count. */
static
VOID
WdkmpPushLockAddReader(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ WDKMP_THREAD Self
    )
{
    ULONG Index;

    for (Index = 0; Index < WDKMP_PUSH_LOCK_READERS; Index += 1) {
        if (WdkmpLoadThread(&PushLock->Readers[Index]) == NULL &&
            InterlockedCompareExchangePointer((PVOID volatile *)&PushLock->Readers[Index], Self,
                                              NULL) == NULL) {
            return;
        }
    }
    InterlockedIncrement(&PushLock->UntrackedReaders);
}

/*
 * Forget the caller's shared hold: TRUE if it had one, or if an untracked
 * reader's hold is outstanding and may be the caller's (then one is
 * forgotten: it cannot be told apart).
 */
static
BOOLEAN
WdkmpPushLockRemoveReader(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ WDKMP_THREAD Self
    )
{
    WDKMP_THREAD volatile *Slot = WdkmpPushLockReaderSlot(PushLock, Self);
    LONG Untracked;

    if (Slot != NULL) {
        WdkmpStoreThread(Slot, NULL);      /* only its reader empties a slot */
        return TRUE;
    }
    Untracked = WdkmpLoadLong(&PushLock->UntrackedReaders);
    while (Untracked > 0) {
        LONG Seen = InterlockedCompareExchange(&PushLock->UntrackedReaders, Untracked - 1,
                                               Untracked);
        if (Seen == Untracked) {
            return TRUE;
        }
        Untracked = Seen;
    }
    return FALSE;
}

/* Inline: each form gets its own copy, its constants folded. */
WDKMP_INLINE
NTSTATUS
WdkmpPushLockAcquireCommon(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _In_ BOOLEAN Exclusive,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    WDKMP_DIAG_ACQUIRE Diag;
    WDKMP_THREAD Self;
    KIRQL Irql;
    NTSTATUS Status;

    Status = WdkmpLockCheckAcquire(PushLock, WDKMP_SIGNATURE_PUSH_LOCK, DataSize, Data,
                                   PASSIVE_LEVEL, APC_LEVEL, FALSE, &Self, &Irql);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    /* A shared holder asking again: the kernel would wait for itself. Its
       own increment of SharedHolders is visible to it: 0 means not one. */
    if (WdkmpLoadLong(&PushLock->Header.SharedHolders) != 0 &&
        WdkmpPushLockReaderSlot(PushLock, Self) != NULL) {
        return STATUS_POSSIBLE_DEADLOCK;
    }
    /* No try exists for push locks: their contention is not counted. */
    Status = WdkmpDiagBeforeAcquire(&PushLock->Header,
                                    WDKMP_DIAG_WAITS | (Exclusive ? 0 : WDKMP_DIAG_SHARED), &Diag);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    WdkmpEnterRegion(FALSE);
    WdkmpPushLockAcquire(&PushLock->PushLock, Exclusive);
    if (Exclusive) {
        WdkmpStoreThread(&PushLock->Header.Owner, Self);
    } else {
        WdkmpPushLockAddReader(PushLock, Self);
        InterlockedIncrement(&PushLock->Header.SharedHolders);
    }
    *Data = PushLock->Header.Data;
    WdkmpDiagAfterAcquire(&PushLock->Header, &Diag, TRUE);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmPushLockAcquireExclusive(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmpPushLockAcquireCommon(PushLock, DataSize, TRUE, Data);
}

NTSTATUS
WdkmPushLockAcquireShared(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ const VOID **Data
    )
{
    return WdkmpPushLockAcquireCommon(PushLock, DataSize, FALSE, (PVOID *)Data);
}

NTSTATUS
WdkmPushLockRelease(
    _Inout_ PWDKM_PUSH_LOCK PushLock
    )
{
    BOOLEAN Exclusive;
    NTSTATUS Status;
    PVOID Diag;

    if (PushLock == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (!WdkmpLockIsKind(PushLock, WDKMP_SIGNATURE_PUSH_LOCK)) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    if (WdkmpGetIrql() > APC_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    Exclusive = WdkmpLockOwnedByCaller(PushLock);
    if (Exclusive) {
        Diag = WdkmpDiagBeforeRelease(&PushLock->Header);
        WdkmpStoreThread(&PushLock->Header.Owner, NULL);
    } else {
        /* The caller's reader slot, or an untracked reader's hold (see
           WDKMP_PUSH_LOCK_READERS); else it holds nothing to release. */
        Status = WdkmpSharedReleaseStatus(
            &PushLock->Header, WdkmpPushLockRemoveReader(PushLock, WdkmpCurrentThread()));
        if (Status != STATUS_SUCCESS) {
            return Status;
        }
        Diag = WdkmpDiagBeforeRelease(&PushLock->Header);
        InterlockedDecrement(&PushLock->Header.SharedHolders);
    }
    WdkmpPushLockRelease(&PushLock->PushLock, Exclusive);
    WdkmpLeaveRegion(FALSE);
    WdkmpDiagAfterRelease(Diag);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmPushLockDestroy(
    _In_ PWDKM_PUSH_LOCK PushLock
    )
{
    return WdkmpLockDestroy(PushLock, &WdkmpPushLockKind, 0, NULL, FALSE);
}

NTSTATUS
WdkmPushLockTake(
    _In_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    )
{
    if (Value == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpLockDestroy(PushLock, &WdkmpPushLockKind, DataSize, Value, FALSE);
}

NTSTATUS
WdkmPushLockCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_PUSH_LOCK *PushLock
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (PushLock == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreateInPlace(&WdkmpPushLockKind, DataSize, Initialize, Context, &Lock);
    *PushLock = (PWDKM_PUSH_LOCK)Lock;
    return Status;
}

NTSTATUS
WdkmPushLockDestroyWith(
    _In_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    )
{
    return WdkmpLockDestroyWith(PushLock, &WdkmpPushLockKind, DataSize, Drain, Context);
}

BOOLEAN
WdkmPushLockIsOwnedExclusive(
    _In_opt_ const WDKM_PUSH_LOCK *PushLock
    )
{
    return WdkmpLockOwnedByCallerAs(PushLock, WDKMP_SIGNATURE_PUSH_LOCK);
}

WDKM_SCOPE
WdkmPushLockScopeEnter(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _In_ BOOLEAN Exclusive,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    )
{
    return WdkmpScopeResult(PushLock, WdkmpLockScopeRelease,
                            WdkmpPushLockAcquireCommon(PushLock, DataSize, Exclusive, Data), Status);
}

static
NTSTATUS
WdkmpPushLockInitializeAny(
    _Inout_ PVOID Lock
    )
{
    UNREFERENCED_PARAMETER(Lock);   /* a zeroed push lock is a free one */
    return WdkmpPushLockSupported() ? STATUS_SUCCESS : STATUS_NOT_SUPPORTED;
}

static
NTSTATUS
WdkmpPushLockAcquireAny(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ KIRQL *SavedIrql
    )
{
    *SavedIrql = PASSIVE_LEVEL;
    return WdkmpPushLockAcquireCommon((PWDKM_PUSH_LOCK)Lock, DataSize, TRUE, Data);
}

static
NTSTATUS
WdkmpPushLockReleaseAny(
    _Inout_ PVOID Lock,
    _In_ KIRQL SavedIrql
    )
{
    UNREFERENCED_PARAMETER(SavedIrql);
    return WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock);
}

static
NTSTATUS
WdkmpPushLockAcquireExclusiveForCallback(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    UNREFERENCED_PARAMETER(Argument);
    return WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)Lock, DataSize, Data);
}

WDKMP_NOINLINE
PVOID
WdkmPushLockAcquireExclusiveOrBugCheck(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    )
{
    return WdkmpLockAcquireOrBugCheck(WdkmpPushLockAcquireExclusiveForCallback, WdkmLockKindPushLock, PushLock, DataSize, NULL, Data,
                                      WDKMP_RETURN_ADDRESS());
}

static
NTSTATUS
WdkmpPushLockAcquireSharedForCallback(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    UNREFERENCED_PARAMETER(Argument);
    return WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)Lock, DataSize, (const VOID **)Data);
}

WDKMP_NOINLINE
const VOID *
WdkmPushLockAcquireSharedOrBugCheck(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Out_opt_ const VOID **Data
    )
{
    const VOID *Value = WdkmpLockAcquireOrBugCheck(WdkmpPushLockAcquireSharedForCallback, WdkmLockKindPushLock, PushLock, DataSize,
                                                   NULL, NULL, WDKMP_RETURN_ADDRESS());

    if (Data != NULL) {
        *Data = Value;
    }
    return Value;
}

/* Known only for the readers that found a slot: beyond them, no. */
static
BOOLEAN
WdkmpPushLockHeldSharedByCaller(
    _In_ PVOID Lock
    )
{
    return WdkmpPushLockReaderSlot((PWDKM_PUSH_LOCK)Lock, WdkmpCurrentThread()) != NULL;
}

const WDKMP_LOCK_KIND WdkmpPushLockKind = {
    WdkmLockKindPushLock,
    WDKMP_SIGNATURE_PUSH_LOCK,
    sizeof(WDKM_PUSH_LOCK),
    DISPATCH_LEVEL,
    WdkmpPushLockInitializeAny,
    WdkmpPushLockAcquireAny,
    WdkmpPushLockReleaseAny,
    NULL,
    WdkmpPushLockHeldSharedByCaller
};
