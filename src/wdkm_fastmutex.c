/*
 * wdkm_fastmutex.c - WDKM_FAST_MUTEX: a FAST_MUTEX that owns a value, with
 * the kernel's rules checked before the kernel is called.
 */
#include "wdkm_internal.h"

/* The block: struct _WDKM_... in wdkm_layout.h. */

NTSTATUS
WdkmFastMutexCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_FAST_MUTEX *FastMutex
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (FastMutex == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreate(&WdkmpFastMutexKind, InitialValue, DataSize, &Lock);
    *FastMutex = (PWDKM_FAST_MUTEX)Lock;
    return Status;
}

/*
 * Ownership once held (WdkmpLockTakeOwnership), and whether the hold is
 * nested in another at APC_LEVEL (Irql, the caller's IRQL before the
 * acquisition, is APC_LEVEL already): see WdkmpNestEnter.
 */
WDKMP_INLINE
VOID
WdkmpFastMutexTakeOwnership(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ KIRQL Irql
    )
{
    WdkmpLockTakeOwnership(&FastMutex->Header);
    /* How is 0 (not nested) as on every free lock: WdkmpNestLeave. */
    if (Irql == APC_LEVEL) {
        WdkmpNestEnter(&FastMutex->Header, WDKMP_NEST_APC);
    }
}

NTSTATUS
WdkmFastMutexAcquire(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    WDKMP_DIAG_ACQUIRE Diag;
    WDKMP_THREAD Self;
    KIRQL Irql;
    NTSTATUS Status = WdkmpLockCheckAcquire(FastMutex, WDKMP_SIGNATURE_FAST_MUTEX, DataSize, Data,
                                            PASSIVE_LEVEL, APC_LEVEL, FALSE, &Self, &Irql);

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmpDiagBeforeAcquire(&FastMutex->Header, WDKMP_DIAG_WAITS, &Diag);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    *Data = FastMutex->Header.Data;     /* the wait cannot fail */
    WDKMP_DIAG_TRY_FIRST(&Diag, WdkmpFastMutexTryAcquire(&FastMutex->FastMutex),
                         WdkmpFastMutexAcquire(&FastMutex->FastMutex));
    WdkmpFastMutexTakeOwnership(FastMutex, Irql);
    WdkmpDiagAfterAcquire(&FastMutex->Header, &Diag, TRUE);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmFastMutexTryAcquire(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    WDKMP_DIAG_ACQUIRE Diag;
    WDKMP_THREAD Self;
    KIRQL Irql;
    NTSTATUS Status = WdkmpLockCheckAcquire(FastMutex, WDKMP_SIGNATURE_FAST_MUTEX, DataSize, Data,
                                            PASSIVE_LEVEL, APC_LEVEL, FALSE, &Self, &Irql);

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmpDiagBeforeAcquire(&FastMutex->Header, WDKMP_DIAG_TRY, &Diag);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmpFastMutexTryAcquire(&FastMutex->FastMutex);
    if (Status == STATUS_SUCCESS) {
        WdkmpFastMutexTakeOwnership(FastMutex, Irql);
        *Data = FastMutex->Header.Data;
    }
    WdkmpDiagAfterAcquire(&FastMutex->Header, &Diag, Status == STATUS_SUCCESS);
    return Status;
}

NTSTATUS
WdkmFastMutexRelease(
    _Inout_ PWDKM_FAST_MUTEX FastMutex
    )
{
    NTSTATUS Status = WdkmpLockCheckRelease(FastMutex, WDKMP_SIGNATURE_FAST_MUTEX);
    PVOID Diag;

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    /* The release of a hold that is not nested lowers the IRQL to where
       the acquisition found it: not while a nested one is still held. */
    if (FastMutex->Header.How.Hold.Nest == WDKMP_NEST_NONE &&
        WdkmpNestBlocksLowering(&FastMutex->Header, WDKMP_NEST_APC)) {
        return STATUS_WDKM_LOCK_HELD;
    }
    Diag = WdkmpDiagBeforeRelease(&FastMutex->Header);
    WdkmpNestLeave(&FastMutex->Header, WDKMP_NEST_APC);
    WdkmpStoreThread(&FastMutex->Header.Owner, NULL);
    WdkmpFastMutexRelease(&FastMutex->FastMutex);
    WdkmpDiagAfterRelease(Diag);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmFastMutexDestroy(
    _In_ PWDKM_FAST_MUTEX FastMutex
    )
{
    return WdkmpLockDestroy(FastMutex, &WdkmpFastMutexKind, 0, NULL);
}

NTSTATUS
WdkmFastMutexTake(
    _In_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    )
{
    if (Value == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpLockDestroy(FastMutex, &WdkmpFastMutexKind, DataSize, Value);
}

NTSTATUS
WdkmFastMutexCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_FAST_MUTEX *FastMutex
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (FastMutex == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreateInPlace(&WdkmpFastMutexKind, DataSize, Initialize, Context, &Lock);
    *FastMutex = (PWDKM_FAST_MUTEX)Lock;
    return Status;
}

NTSTATUS
WdkmFastMutexDestroyWith(
    _In_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    )
{
    return WdkmpLockDestroyWith(FastMutex, &WdkmpFastMutexKind, DataSize, Drain, Context);
}

BOOLEAN
WdkmFastMutexIsOwned(
    _In_opt_ const WDKM_FAST_MUTEX *FastMutex
    )
{
    return WdkmpLockOwnedByCallerAs(FastMutex, WDKMP_SIGNATURE_FAST_MUTEX);
}

WDKM_SCOPE
WdkmFastMutexScopeEnter(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    )
{
    return WdkmpLockScopeEnter(&WdkmpFastMutexKind, FastMutex, DataSize, Data, Status);
}

/* The kind as the registry sees it. */

static
NTSTATUS
WdkmpFastMutexInitializeAny(
    _Inout_ PVOID Lock
    )
{
    WdkmpFastMutexInitialize(&((PWDKM_FAST_MUTEX)Lock)->FastMutex);
    return STATUS_SUCCESS;
}

static
NTSTATUS
WdkmpFastMutexAcquireAny(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ KIRQL *SavedIrql
    )
{
    *SavedIrql = PASSIVE_LEVEL;
    return WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock, DataSize, Data);
}

static
NTSTATUS
WdkmpFastMutexReleaseAny(
    _Inout_ PVOID Lock,
    _In_ KIRQL SavedIrql
    )
{
    UNREFERENCED_PARAMETER(SavedIrql);
    return WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock);
}

static
NTSTATUS
WdkmpFastMutexAcquireForCallback(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    UNREFERENCED_PARAMETER(Argument);
    return WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock, DataSize, Data);
}

WDKMP_NOINLINE
PVOID
WdkmFastMutexAcquireOrBugCheck(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    )
{
    return WdkmpLockAcquireOrBugCheck(WdkmpFastMutexAcquireForCallback, WdkmLockKindFastMutex, FastMutex, DataSize, NULL, Data,
                                      WDKMP_RETURN_ADDRESS());
}

/* Destroy's view of the kernel object (WDKMP_LOCK_KIND.KernelHeld). */
static
BOOLEAN
WdkmpFastMutexKernelHeld(
    _In_ PVOID Lock
    )
{
    return WdkmpFastMutexBusy(&((PWDKM_FAST_MUTEX)Lock)->FastMutex);
}

const WDKMP_LOCK_KIND WdkmpFastMutexKind = {
    WdkmLockKindFastMutex,
    WDKMP_SIGNATURE_FAST_MUTEX,
    sizeof(WDKM_FAST_MUTEX),
    DISPATCH_LEVEL,
    FALSE,                       /* ApcLevelHoldIsPassive */
    WdkmpFastMutexInitializeAny,
    WdkmpFastMutexAcquireAny,
    WdkmpFastMutexReleaseAny,
    NULL,
    NULL,                        /* HeldSharedByCaller */
    WdkmpFastMutexKernelHeld
};
