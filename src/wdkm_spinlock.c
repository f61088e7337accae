/*
 * wdkm_spinlock.c - WDKM_SPIN_LOCK and WDKM_QUEUED_SPIN_LOCK: spin locks
 * that own a value, with the kernel's rules checked before the kernel is
 * called.
 */
#include "wdkm_internal.h"

struct _WDKM_SPIN_LOCK {
    WDKMP_LOCK_HEADER Header;   /* HeldIrql: where the acquisition left the owner */
    BOOLEAN AtDpcLevel;         /* acquired without raising */
    WDKMP_SPIN_LOCK SpinLock;
};

struct _WDKM_QUEUED_SPIN_LOCK {
    WDKMP_LOCK_HEADER Header;
    PWDKM_LOCK_QUEUE_HANDLE HeldBy;     /* the handle of the hold; owner-only */
    WDKMP_SPIN_LOCK SpinLock;
};

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
    Header->Nest = WDKMP_NEST_NONE;
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
    return STATUS_SUCCESS;
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
    SpinLock->AtDpcLevel = FALSE;
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
    SpinLock->AtDpcLevel = FALSE;
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
    SpinLock->AtDpcLevel = TRUE;
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
    if (SpinLock->AtDpcLevel != AtDpcLevel) {
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
    return WdkmpLockDestroy(SpinLock, &WdkmpSpinLockKind, 0, NULL, FALSE);
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
    return WdkmpLockDestroy(SpinLock, &WdkmpSpinLockKind, DataSize, Value, FALSE);
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
const WDKMP_LOCK_KIND WdkmpSpinLockKind = {
    WdkmLockKindSpinLock,
    WDKMP_SIGNATURE_SPIN_LOCK,
    sizeof(WDKM_SPIN_LOCK),
    DISPATCH_LEVEL,
    NULL,
    WdkmpSpinLockAcquireAny,
    WdkmpSpinLockReleaseAny,
    NULL,
    NULL                         /* HeldSharedByCaller */
};

/* ------------------------------------------------------------------------
 * WDKM_QUEUED_SPIN_LOCK
 */

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
              WdkmpLockOwnedByCaller(SpinLock) && SpinLock->HeldBy == Handle)) {
            Handle->Lock = NULL;
        }
        return Status;
    }
    WDKMP_DIAG_PEEK(&Diag, WdkmpSpinLockBusy(&SpinLock->SpinLock));
    *Data = SpinLock->Header.Data;      /* the wait cannot fail */
    WdkmpQueuedSpinLockAcquire(&SpinLock->SpinLock, &Handle->Kernel, AtDpcLevel);
    WdkmpSpinLockTakeOwnership(&SpinLock->Header, Irql);
    SpinLock->HeldBy = Handle;
    Handle->Lock = SpinLock;
    Handle->AtDpcLevel = AtDpcLevel;
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
    if (SpinLock->HeldBy != Handle) {
        /* A copy of the handle: the kernel's queue links the original. */
        return STATUS_WDKM_NOT_HELD;
    }
    /* A hold that is not nested lowers the IRQL to what it was. */
    Status = WdkmpSpinLockCheckLowering(&SpinLock->Header,
                                        SpinLock->Header.Nest == WDKMP_NEST_NONE);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Diag = WdkmpDiagBeforeRelease(&SpinLock->Header);
    WdkmpNestLeave(&SpinLock->Header, WDKMP_NEST_DISPATCH);
    SpinLock->HeldBy = NULL;
    WdkmpStoreThread(&SpinLock->Header.Owner, NULL);
    Handle->Lock = NULL;
    WdkmpQueuedSpinLockRelease(&Handle->Kernel, Handle->AtDpcLevel);
    WdkmpDiagAfterRelease(Diag);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmQueuedSpinLockDestroy(
    _In_ PWDKM_QUEUED_SPIN_LOCK SpinLock
    )
{
    return WdkmpLockDestroy(SpinLock, &WdkmpQueuedSpinLockKind, 0, NULL, FALSE);
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
    return WdkmpLockDestroy(SpinLock, &WdkmpQueuedSpinLockKind, DataSize, Value, FALSE);
}

BOOLEAN
WdkmQueuedSpinLockIsOwned(
    _In_opt_ const WDKM_QUEUED_SPIN_LOCK *SpinLock
    )
{
    return WdkmpLockOwnedByCallerAs(SpinLock, WDKMP_SIGNATURE_QUEUED);
}

/* No plain acquire: a queued hold needs the caller's handle. */
const WDKMP_LOCK_KIND WdkmpQueuedSpinLockKind = {
    WdkmLockKindQueuedSpinLock,
    WDKMP_SIGNATURE_QUEUED,
    sizeof(WDKM_QUEUED_SPIN_LOCK),
    DISPATCH_LEVEL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL                         /* HeldSharedByCaller */
};
