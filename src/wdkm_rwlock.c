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

struct _WDKM_PUSH_LOCK {
    WDKMP_LOCK_HEADER Header;
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

    Status = WdkmpLockCheckAcquire(Resource, DataSize, Data, PASSIVE_LEVEL, APC_LEVEL, TRUE, &Self, &Irql);
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

BOOLEAN
WdkmResourceIsOwnedExclusive(
    _In_opt_ const WDKM_RESOURCE *Resource
    )
{
    return WdkmpLockOwnedByCaller(Resource);
}

BOOLEAN
WdkmpResourceHeldByCaller(
    _In_ PVOID Lock
    )
{
    PWDKM_RESOURCE Resource = (PWDKM_RESOURCE)Lock;

    /* The kernel is asked only when someone holds it shared (see the
       acquire's own check). */
    return WdkmpLockOwnedByCaller(Resource) ||
           (WdkmpLoadLong(&Resource->Header.SharedHolders) != 0 &&
            WdkmpResourceHeldCount(&Resource->Resource) != 0);
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

const WDKMP_LOCK_KIND WdkmpResourceKind = {
    WdkmLockKindResource,
    WDKMP_SIGNATURE_RESOURCE,
    sizeof(WDKM_RESOURCE),
    APC_LEVEL,                   /* ExDeleteResourceLite */
    WdkmpResourceInitializeAny,
    WdkmpResourceAcquireAny,
    WdkmpResourceReleaseAny,
    WdkmpResourceFinalizeAny
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

    Status = WdkmpLockCheckAcquire(PushLock, DataSize, Data, PASSIVE_LEVEL, APC_LEVEL, FALSE, &Self, &Irql);
    if (Status != STATUS_SUCCESS) {
        return Status;
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
    if (WdkmpGetIrql() > APC_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    Exclusive = WdkmpLockOwnedByCaller(PushLock);
    if (Exclusive) {
        Diag = WdkmpDiagBeforeRelease(&PushLock->Header);
        WdkmpStoreThread(&PushLock->Header.Owner, NULL);
    } else {
        /* Shared holds are counted, not tracked per thread (see the header). */
        Status = WdkmpSharedReleaseStatus(
            &PushLock->Header, WdkmpLoadThread(&PushLock->Header.Owner) == NULL &&
                                   WdkmpLoadLong(&PushLock->Header.SharedHolders) != 0);
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

BOOLEAN
WdkmPushLockIsOwnedExclusive(
    _In_opt_ const WDKM_PUSH_LOCK *PushLock
    )
{
    return WdkmpLockOwnedByCaller(PushLock);
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

const WDKMP_LOCK_KIND WdkmpPushLockKind = {
    WdkmLockKindPushLock,
    WDKMP_SIGNATURE_PUSH_LOCK,
    sizeof(WDKM_PUSH_LOCK),
    DISPATCH_LEVEL,
    WdkmpPushLockInitializeAny,
    WdkmpPushLockAcquireAny,
    WdkmpPushLockReleaseAny,
    NULL
};
