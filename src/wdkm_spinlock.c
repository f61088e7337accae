/*
 * wdkm_spinlock.c - WDKM_SPIN_LOCK: a spin lock that owns a value, with the
 * kernel's rules checked before the kernel is called. The in-stack queued
 * kind has a file of its own (wdkm_queuedspinlock.c), so that a driver
 * using one imports nothing of the other.
 */
#include "wdkm_internal.h"

/* The block: struct _WDKM_... in wdkm_layout.h. */

/* ------------------------------------------------------------------------
 * WDKM_SPIN_LOCK
 */

NTSTATUS
WdkmSpinLockCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_SPIN_LOCK *SpinLock
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (SpinLock == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreate(&WdkmpSpinLockKind, InitialValue, DataSize, &Lock);
    *SpinLock = (PWDKM_SPIN_LOCK)Lock;
    return Status;
}

NTSTATUS
WdkmSpinLockAcquire(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PKIRQL OldIrql,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    WDKMP_DIAG_ACQUIRE Diag;
    WDKMP_THREAD Self;
    KIRQL Irql;
    NTSTATUS Status;

    if (OldIrql == NULL) {
        return WdkmpFailAcquire(Data, STATUS_INVALID_PARAMETER);
    }
    Status = WdkmpLockCheckAcquire(SpinLock, WDKMP_SIGNATURE_SPIN_LOCK, DataSize, Data,
                                   PASSIVE_LEVEL, DISPATCH_LEVEL, FALSE, &Self, &Irql);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmpDiagBeforeAcquire(&SpinLock->Header, WDKMP_DIAG_SPIN, &Diag);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    WDKMP_DIAG_PEEK(&Diag, WdkmpSpinLockBusy(&SpinLock->SpinLock));
    *Data = SpinLock->Header.Data;      /* the wait cannot fail */
    *OldIrql = WdkmpSpinLockAcquire(&SpinLock->SpinLock);
    WdkmpSpinLockTakeOwnership(&SpinLock->Header, Irql);
    WdkmpDiagAfterAcquire(&SpinLock->Header, &Diag, TRUE);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmSpinLockTryAcquire(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PKIRQL OldIrql,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    WDKMP_DIAG_ACQUIRE Diag;
    WDKMP_THREAD Self;
    KIRQL Irql;
    NTSTATUS Status;
    KIRQL Raised;

    if (OldIrql == NULL) {
        return WdkmpFailAcquire(Data, STATUS_INVALID_PARAMETER);
    }
    Status = WdkmpLockCheckAcquire(SpinLock, WDKMP_SIGNATURE_SPIN_LOCK, DataSize, Data,
                                   PASSIVE_LEVEL, DISPATCH_LEVEL, FALSE, &Self, &Irql);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmpDiagBeforeAcquire(&SpinLock->Header, WDKMP_DIAG_SPIN | WDKMP_DIAG_TRY, &Diag);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    /* The kernel only tries at DISPATCH_LEVEL: raise, and undo on failure. */
    Raised = WdkmpRaiseIrql(DISPATCH_LEVEL);
    Status = WdkmpSpinLockTryAcquireAtDpcLevel(&SpinLock->SpinLock);
    if (Status != STATUS_SUCCESS) {
        WdkmpLowerIrql(Raised);
        WdkmpDiagAfterAcquire(&SpinLock->Header, &Diag, FALSE);
        return Status;
    }
    *OldIrql = Raised;
    WdkmpSpinLockTakeOwnership(&SpinLock->Header, Raised);
    *Data = SpinLock->Header.Data;
    WdkmpDiagAfterAcquire(&SpinLock->Header, &Diag, TRUE);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmSpinLockAcquireAtDpcLevel(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    WDKMP_DIAG_ACQUIRE Diag;
    WDKMP_THREAD Self;
    KIRQL Irql;
    NTSTATUS Status;

    Status = WdkmpLockCheckAcquire(SpinLock, WDKMP_SIGNATURE_SPIN_LOCK, DataSize, Data,
                                   DISPATCH_LEVEL, DISPATCH_LEVEL, FALSE, &Self, &Irql);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmpDiagBeforeAcquire(&SpinLock->Header, WDKMP_DIAG_SPIN, &Diag);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    WDKMP_DIAG_PEEK(&Diag, WdkmpSpinLockBusy(&SpinLock->SpinLock));
    *Data = SpinLock->Header.Data;      /* the wait cannot fail */
    WdkmpSpinLockAcquireAtDpcLevel(&SpinLock->SpinLock);
    SpinLock->Header.How.Hold.Form = WDKMP_FORM_AT_DPC;
    WdkmpSpinLockTakeOwnership(&SpinLock->Header, Irql);
    WdkmpDiagAfterAcquire(&SpinLock->Header, &Diag, TRUE);
    return STATUS_SUCCESS;
}

/* The release checks shared by both forms; AtDpcLevel says which form,
   Lowers whether the release lowers the IRQL. Inline: it is most of the
   release's fast path. */
WDKMP_INLINE
NTSTATUS
WdkmpSpinLockCheckRelease(
    _In_opt_ PWDKM_SPIN_LOCK SpinLock,
    _In_ BOOLEAN AtDpcLevel,
    _In_ BOOLEAN Lowers
    )
{
    NTSTATUS Status = WdkmpLockCheckRelease(SpinLock, WDKMP_SIGNATURE_SPIN_LOCK);

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    if (SpinLock->Header.How.Hold.Form != (AtDpcLevel ? WDKMP_FORM_AT_DPC : WDKMP_FORM_RAISED)) {
        /* The other form would lower the IRQL, or fail to. */
        return STATUS_WDKM_IRQL_MISMATCH;
    }
    return WdkmpSpinLockCheckLowering(&SpinLock->Header, Lowers);
}

NTSTATUS
WdkmSpinLockRelease(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ KIRQL OldIrql
    )
{
    NTSTATUS Status;
    PVOID Diag;

    if (OldIrql > DISPATCH_LEVEL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpSpinLockCheckRelease(SpinLock, FALSE, OldIrql < DISPATCH_LEVEL);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    if (OldIrql == DISPATCH_LEVEL && SpinLock->Header.How.Hold.Nest == WDKMP_NEST_NONE) {
        /* NT's explicit out-of-order release of an outer lock. */
        WdkmpNestOuterReleasedHigh(WdkmpLoadThread(&SpinLock->Header.Owner));
    }
    Diag = WdkmpDiagBeforeRelease(&SpinLock->Header);
    WdkmpNestLeave(&SpinLock->Header, WDKMP_NEST_DISPATCH);
    WdkmpStoreThread(&SpinLock->Header.Owner, NULL);
    WdkmpSpinLockRelease(&SpinLock->SpinLock, OldIrql);
    WdkmpDiagAfterRelease(Diag);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmSpinLockReleaseFromDpcLevel(
    _Inout_ PWDKM_SPIN_LOCK SpinLock
    )
{
    NTSTATUS Status = WdkmpSpinLockCheckRelease(SpinLock, TRUE, FALSE);
    PVOID Diag;

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Diag = WdkmpDiagBeforeRelease(&SpinLock->Header);
    WdkmpNestLeave(&SpinLock->Header, WDKMP_NEST_DISPATCH);
    WdkmpStoreThread(&SpinLock->Header.Owner, NULL);
    WdkmpSpinLockReleaseFromDpcLevel(&SpinLock->SpinLock);
    WdkmpDiagAfterRelease(Diag);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmSpinLockDestroy(
    _In_ PWDKM_SPIN_LOCK SpinLock
    )
{
    return WdkmpLockDestroy(SpinLock, &WdkmpSpinLockKind, 0, NULL);
}

NTSTATUS
WdkmSpinLockTake(
    _In_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    )
{
    if (Value == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpLockDestroy(SpinLock, &WdkmpSpinLockKind, DataSize, Value);
}

NTSTATUS
WdkmSpinLockCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_SPIN_LOCK *SpinLock
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (SpinLock == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreateInPlace(&WdkmpSpinLockKind, DataSize, Initialize, Context, &Lock);
    *SpinLock = (PWDKM_SPIN_LOCK)Lock;
    return Status;
}

NTSTATUS
WdkmSpinLockDestroyWith(
    _In_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    )
{
    return WdkmpLockDestroyWith(SpinLock, &WdkmpSpinLockKind, DataSize, Drain, Context);
}

BOOLEAN
WdkmSpinLockIsOwned(
    _In_opt_ const WDKM_SPIN_LOCK *SpinLock
    )
{
    return WdkmpLockOwnedByCallerAs(SpinLock, WDKMP_SIGNATURE_SPIN_LOCK);
}

WDKM_SCOPE
WdkmSpinLockScopeEnter(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    )
{
    return WdkmpLockScopeEnter(&WdkmpSpinLockKind, SpinLock, DataSize, Data, Status);
}

static
NTSTATUS
WdkmpSpinLockAcquireAny(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ KIRQL *SavedIrql
    )
{
    return WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock, DataSize, SavedIrql, Data);
}

static
NTSTATUS
WdkmpSpinLockReleaseAny(
    _Inout_ PVOID Lock,
    _In_ KIRQL SavedIrql
    )
{
    return WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, SavedIrql);
}

/* No initializer: a zeroed KSPIN_LOCK is a free one, and blocks come zeroed. */
static
NTSTATUS
WdkmpSpinLockAcquireForCallback(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock, DataSize, (PKIRQL)Argument, Data);
}

WDKMP_NOINLINE
PVOID
WdkmSpinLockAcquireOrBugCheck(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Inout_ PKIRQL OldIrql,
    _Out_opt_ PVOID *Data
    )
{
    return WdkmpLockAcquireOrBugCheck(WdkmpSpinLockAcquireForCallback, WdkmLockKindSpinLock, SpinLock, DataSize, OldIrql, Data,
                                      WDKMP_RETURN_ADDRESS());
}

static
NTSTATUS
WdkmpSpinLockAcquireAtDpcLevelForCallback(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    UNREFERENCED_PARAMETER(Argument);
    return WdkmSpinLockAcquireAtDpcLevel((PWDKM_SPIN_LOCK)Lock, DataSize, Data);
}

WDKMP_NOINLINE
PVOID
WdkmSpinLockAcquireAtDpcLevelOrBugCheck(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    )
{
    return WdkmpLockAcquireOrBugCheck(WdkmpSpinLockAcquireAtDpcLevelForCallback, WdkmLockKindSpinLock, SpinLock, DataSize, NULL, Data,
                                      WDKMP_RETURN_ADDRESS());
}

const WDKMP_LOCK_KIND WdkmpSpinLockKind = {
    WdkmLockKindSpinLock,
    WDKMP_SIGNATURE_SPIN_LOCK,
    sizeof(WDKM_SPIN_LOCK),
    DISPATCH_LEVEL,
    FALSE,                       /* ApcLevelHoldIsPassive */
    NULL,
    WdkmpSpinLockAcquireAny,
    WdkmpSpinLockReleaseAny,
    NULL,
    NULL,                        /* HeldSharedByCaller */
    NULL                         /* KernelHeld: no DPC or APC interrupts a spin lock's hold */
};
