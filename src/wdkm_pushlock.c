/*
 * wdkm_pushlock.c - WDKM_PUSH_LOCK: a push lock that owns a value, held
 * inside a critical region (the wrapper enters it before acquiring and
 * leaves it after releasing). The kernel's push-lock routines are
 * undocumented exports, looked up at run time (port/wdk).
 */
#include "wdkm_internal.h"

/* The block and its reader slots: struct _WDKM_PUSH_LOCK in wdkm_layout.h. */


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
    return WdkmpLockDestroy(PushLock, &WdkmpPushLockKind, 0, NULL);
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
    return WdkmpLockDestroy(PushLock, &WdkmpPushLockKind, DataSize, Value);
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
    if (Status == NULL) {
        return WdkmpScopeNone(Data);
    }
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

/* Destroy's view of the kernel object (WDKMP_LOCK_KIND.KernelHeld). */
static
BOOLEAN
WdkmpPushLockKernelHeld(
    _In_ PVOID Lock
    )
{
    return WdkmpPushLockBusy(&((PWDKM_PUSH_LOCK)Lock)->PushLock);
}

const WDKMP_LOCK_KIND WdkmpPushLockKind = {
    WdkmLockKindPushLock,
    WDKMP_SIGNATURE_PUSH_LOCK,
    sizeof(WDKM_PUSH_LOCK),
    DISPATCH_LEVEL,
    FALSE,                       /* ApcLevelHoldIsPassive */
    WdkmpPushLockInitializeAny,
    WdkmpPushLockAcquireAny,
    WdkmpPushLockReleaseAny,
    NULL,
    WdkmpPushLockHeldSharedByCaller,
    WdkmpPushLockKernelHeld
};
