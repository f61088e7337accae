/*
 * wdkm_resource.c - WDKM_RESOURCE: an ERESOURCE that owns a value, held
 * inside a critical region (the wrapper enters it before acquiring and
 * leaves it after releasing). The push lock has a file of its own
 * (wdkm_pushlock.c), so that a driver using one imports nothing of the
 * other.
 */
#include "wdkm_internal.h"

/* The block: struct _WDKM_... in wdkm_layout.h. */

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
    /* A shared hold is counted before the kernel grants it (and uncounted
       after the kernel's release): a special kernel APC on this thread
       that asks for exclusive access in between must find the count, and
       ask the kernel, instead of waiting for its own thread. */
    if (!Owner && !Exclusive) {
        InterlockedIncrement(&Resource->Header.SharedHolders);
    }
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
        if (!Owner && !Exclusive) {
            InterlockedDecrement(&Resource->Header.SharedHolders);
        }
        WdkmpLeaveRegion(FALSE);
        WdkmpDiagAfterAcquire(&Resource->Header, &Diag, FALSE);
        return STATUS_TIMEOUT;
    }
    if (Owner) {
        Resource->ExclusiveDepth += 1;      /* the owner's holds all count as exclusive */
    } else if (Exclusive) {
        /* The depth before the owner is published, for a special kernel
           APC that interrupts here and sees itself as the owner. Added
           to, not set: an APC that interrupted this thread between the
           kernel's grant and here was granted it recursively, and its own
           hold, done before it returned, added and took away one. */
        Resource->ExclusiveDepth += 1;
        WdkmpStorePointerRelease((PVOID volatile *)&Resource->Header.Owner, Self);
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
    BOOLEAN Shared = FALSE;
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
        Shared = TRUE;
    }
    WdkmpResourceRelease(&Resource->Resource);
    if (Shared) {
        InterlockedDecrement(&Resource->Header.SharedHolders);     /* after: see the acquire */
    }
    WdkmpLeaveRegion(FALSE);
    WdkmpDiagAfterRelease(Diag);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmResourceDestroy(
    _In_ PWDKM_RESOURCE Resource
    )
{
    return WdkmpLockDestroy(Resource, &WdkmpResourceKind, 0, NULL);
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
    return WdkmpLockDestroy(Resource, &WdkmpResourceKind, DataSize, Value);
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
    if (Status == NULL) {
        return WdkmpScopeNone(Data);
    }
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

/*
 * Destroy's view of the kernel object (WDKMP_LOCK_KIND.KernelHeld): held
 * by the calling thread, shared or exclusive, as the kernel counts it. A
 * special kernel APC on the holder's thread is that thread; another
 * thread's hold is in the header's records.
 */
static
BOOLEAN
WdkmpResourceKernelHeld(
    _In_ PVOID Lock
    )
{
    return WdkmpResourceHeldCount(&((PWDKM_RESOURCE)Lock)->Resource) != 0;
}

const WDKMP_LOCK_KIND WdkmpResourceKind = {
    WdkmLockKindResource,
    WDKMP_SIGNATURE_RESOURCE,
    sizeof(WDKM_RESOURCE),
    APC_LEVEL,                   /* ExDeleteResourceLite */
    FALSE,                       /* ApcLevelHoldIsPassive */
    WdkmpResourceInitializeAny,
    WdkmpResourceAcquireAny,
    WdkmpResourceReleaseAny,
    WdkmpResourceFinalizeAny,
    WdkmpResourceHeldSharedByCaller,
    WdkmpResourceKernelHeld
};
