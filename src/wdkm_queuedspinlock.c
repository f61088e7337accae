/*
 * wdkm_queuedspinlock.c - WDKM_QUEUED_SPIN_LOCK: an in-stack queued spin
 * lock that owns a value, with the kernel's rules checked before the
 * kernel is called; the caller's WDKM_LOCK_QUEUE_HANDLE carries the hold.
 */
#include "wdkm_internal.h"

/* The block: struct _WDKM_... in wdkm_layout.h. */

NTSTATUS
WdkmQueuedSpinLockCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_QUEUED_SPIN_LOCK *SpinLock
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (SpinLock == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreate(&WdkmpQueuedSpinLockKind, InitialValue, DataSize, &Lock);
    *SpinLock = (PWDKM_QUEUED_SPIN_LOCK)Lock;
    return Status;
}

/* Inline: each form gets its own copy, its constants folded. */
WDKMP_INLINE
NTSTATUS
WdkmpQueuedSpinLockAcquireCommon(
    _Inout_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PWDKM_LOCK_QUEUE_HANDLE Handle,
    _In_ BOOLEAN AtDpcLevel,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    WDKMP_DIAG_ACQUIRE Diag;
    WDKMP_THREAD Self;
    KIRQL Irql;
    NTSTATUS Status;

    if (Handle == NULL) {
        return WdkmpFailAcquire(Data, STATUS_INVALID_PARAMETER);
    }
    Status = WdkmpLockCheckAcquire(SpinLock, WDKMP_SIGNATURE_QUEUED, DataSize, Data,
                                   AtDpcLevel ? DISPATCH_LEVEL : PASSIVE_LEVEL, DISPATCH_LEVEL,
                                   FALSE, &Self, &Irql);
    if (Status == STATUS_SUCCESS) {
        Status = WdkmpDiagBeforeAcquire(&SpinLock->Header, WDKMP_DIAG_SPIN, &Diag);
    }
    if (Status != STATUS_SUCCESS) {
        /*
         * The handle then describes no hold of the caller's, unless it is
         * the very handle through which the caller holds this lock (an
         * acquire again through it, refused for any reason: recursion, the
         * IRQL, the type): that one must keep its hold, or nothing could
         * release it. HeldBy is read only once the caller is known to own
         * the lock, so only the caller can have written it.
         */
        if (!(SpinLock != NULL && SpinLock->Header.Signature == WDKMP_SIGNATURE_QUEUED &&
              WdkmpLockOwnedByCaller(SpinLock) && SpinLock->HeldBy == (ULONG_PTR)Handle)) {
            Handle->Lock = NULL;
        }
        return Status;
    }
    WDKMP_DIAG_PEEK(&Diag, WdkmpSpinLockBusy(&SpinLock->SpinLock));
    *Data = SpinLock->Header.Data;      /* the wait cannot fail */
    WdkmpQueuedSpinLockAcquire(&SpinLock->SpinLock, &Handle->Kernel, AtDpcLevel);
    WdkmpSpinLockTakeOwnership(&SpinLock->Header, Irql);
    if (AtDpcLevel) {
        SpinLock->Header.How.Hold.Form = WDKMP_FORM_AT_DPC;   /* RAISED, 0, otherwise */
    }
    SpinLock->HeldBy = (ULONG_PTR)Handle;
    Handle->Lock = SpinLock;
    WdkmpDiagAfterAcquire(&SpinLock->Header, &Diag, TRUE);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmQueuedSpinLockAcquire(
    _Inout_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PWDKM_LOCK_QUEUE_HANDLE Handle,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmpQueuedSpinLockAcquireCommon(SpinLock, DataSize, Handle, FALSE, Data);
}

NTSTATUS
WdkmQueuedSpinLockAcquireAtDpcLevel(
    _Inout_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PWDKM_LOCK_QUEUE_HANDLE Handle,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmpQueuedSpinLockAcquireCommon(SpinLock, DataSize, Handle, TRUE, Data);
}

NTSTATUS
WdkmQueuedSpinLockRelease(
    _Inout_ PWDKM_LOCK_QUEUE_HANDLE Handle
    )
{
    PWDKM_QUEUED_SPIN_LOCK SpinLock;
    NTSTATUS Status;
    BOOLEAN AtDpcLevel;
    PVOID Diag;

    if (Handle == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    SpinLock = Handle->Lock;
    if (SpinLock == NULL) {
        return STATUS_WDKM_NOT_HELD;
    }
    Status = WdkmpLockCheckRelease(SpinLock, WDKMP_SIGNATURE_QUEUED);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    if (SpinLock->HeldBy != (ULONG_PTR)Handle) {
        /* A copy of the handle: the kernel's queue links the original. */
        return STATUS_WDKM_NOT_HELD;
    }
    /* A hold that is not nested lowers the IRQL to what it was. */
    Status = WdkmpSpinLockCheckLowering(&SpinLock->Header,
                                        SpinLock->Header.How.Hold.Nest == WDKMP_NEST_NONE);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Diag = WdkmpDiagBeforeRelease(&SpinLock->Header);
    AtDpcLevel = SpinLock->Header.How.Hold.Form == WDKMP_FORM_AT_DPC;  /* before NestLeave */
    WdkmpNestLeave(&SpinLock->Header, WDKMP_NEST_DISPATCH);
    WdkmpStoreThread(&SpinLock->Header.Owner, NULL);
    Handle->Lock = NULL;
    WdkmpQueuedSpinLockRelease(&Handle->Kernel, AtDpcLevel);
    WdkmpDiagAfterRelease(Diag);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmQueuedSpinLockDestroy(
    _In_ PWDKM_QUEUED_SPIN_LOCK SpinLock
    )
{
    return WdkmpLockDestroy(SpinLock, &WdkmpQueuedSpinLockKind, 0, NULL);
}

NTSTATUS
WdkmQueuedSpinLockTake(
    _In_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    )
{
    if (Value == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpLockDestroy(SpinLock, &WdkmpQueuedSpinLockKind, DataSize, Value);
}

NTSTATUS
WdkmQueuedSpinLockCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_QUEUED_SPIN_LOCK *SpinLock
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (SpinLock == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreateInPlace(&WdkmpQueuedSpinLockKind, DataSize, Initialize, Context, &Lock);
    *SpinLock = (PWDKM_QUEUED_SPIN_LOCK)Lock;
    return Status;
}

NTSTATUS
WdkmQueuedSpinLockDestroyWith(
    _In_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    )
{
    return WdkmpLockDestroyWith(SpinLock, &WdkmpQueuedSpinLockKind, DataSize, Drain, Context);
}

BOOLEAN
WdkmQueuedSpinLockIsOwned(
    _In_opt_ const WDKM_QUEUED_SPIN_LOCK *SpinLock
    )
{
    return WdkmpLockOwnedByCallerAs(SpinLock, WDKMP_SIGNATURE_QUEUED);
}

/* No plain acquire: a queued hold needs the caller's handle. */
static
NTSTATUS
WdkmpQueuedSpinLockAcquireForCallback(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Lock, DataSize, (PWDKM_LOCK_QUEUE_HANDLE)Argument, Data);
}

WDKMP_NOINLINE
PVOID
WdkmQueuedSpinLockAcquireOrBugCheck(
    _Inout_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Inout_ PWDKM_LOCK_QUEUE_HANDLE Handle,
    _Out_opt_ PVOID *Data
    )
{
    return WdkmpLockAcquireOrBugCheck(WdkmpQueuedSpinLockAcquireForCallback, WdkmLockKindQueuedSpinLock, SpinLock, DataSize, Handle, Data,
                                      WDKMP_RETURN_ADDRESS());
}

static
NTSTATUS
WdkmpQueuedSpinLockAcquireAtDpcLevelForCallback(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmQueuedSpinLockAcquireAtDpcLevel((PWDKM_QUEUED_SPIN_LOCK)Lock, DataSize, (PWDKM_LOCK_QUEUE_HANDLE)Argument, Data);
}

WDKMP_NOINLINE
PVOID
WdkmQueuedSpinLockAcquireAtDpcLevelOrBugCheck(
    _Inout_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Inout_ PWDKM_LOCK_QUEUE_HANDLE Handle,
    _Out_opt_ PVOID *Data
    )
{
    return WdkmpLockAcquireOrBugCheck(WdkmpQueuedSpinLockAcquireAtDpcLevelForCallback, WdkmLockKindQueuedSpinLock, SpinLock, DataSize, Handle, Data,
                                      WDKMP_RETURN_ADDRESS());
}

const WDKMP_LOCK_KIND WdkmpQueuedSpinLockKind = {
    WdkmLockKindQueuedSpinLock,
    WDKMP_SIGNATURE_QUEUED,
    sizeof(WDKM_QUEUED_SPIN_LOCK),
    DISPATCH_LEVEL,
    FALSE,                       /* ApcLevelHoldIsPassive */
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,                        /* HeldSharedByCaller */
    NULL                         /* KernelHeld: no DPC or APC interrupts a spin lock's hold */
};
