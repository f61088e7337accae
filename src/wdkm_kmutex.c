/*
 * wdkm_kmutex.c - WDKM_KMUTEX: a KMUTEX that owns a value, with the
 * kernel's rules checked before the kernel is called.
 */
#include "wdkm_internal.h"

/* The block: struct _WDKM_... in wdkm_layout.h. */

NTSTATUS
WdkmKMutexCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_KMUTEX *Mutex
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (Mutex == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreate(&WdkmpKMutexKind, InitialValue, DataSize, &Lock);
    *Mutex = (PWDKM_KMUTEX)Lock;
    return Status;
}

/*
 * The one acquisition path behind every form. MaxIrql is the highest IRQL
 * at which this form may wait. Inline: each form gets its own copy, its
 * constants folded.
 */
WDKMP_INLINE
NTSTATUS
WdkmpKMutexAcquire(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _In_ KPROCESSOR_MODE WaitMode,
    _In_ BOOLEAN Alertable,
    _In_opt_ const LARGE_INTEGER *Timeout,
    _In_ KIRQL MaxIrql,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    WDKMP_DIAG_ACQUIRE Diag;
    WDKMP_THREAD Self;
    NTSTATUS Status;
    BOOLEAN Recursion;
    BOOLEAN Try;
    KIRQL Irql;

    Status = WdkmpLockCheckAcquire(Mutex, WDKMP_SIGNATURE_KMUTEX, DataSize, Data, PASSIVE_LEVEL, MaxIrql, TRUE, &Self, &Irql);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Recursion = WdkmpLoadThread(&Mutex->Header.Owner) == Self;
    if (Recursion) {
        /*
         * A recursive acquisition. A DPC that interrupted the owner is, to
         * NT, the owner (KeGetCurrentThread is the interrupted thread), and
         * the kernel would grant its try while the owner is mid-update. So
         * every acquisition of one hold is in the IRQL class of the
         * outermost one: a try at DISPATCH_LEVEL over a PASSIVE/APC hold
         * is busy (the code it interrupted holds it), and an acquisition
         * below DISPATCH_LEVEL over a DISPATCH hold (the DPC kept it) is
         * refused. Then the release's class check (Header.HeldIrql, the
         * IRQL of the outermost acquisition) judges
         * every acquisition of the hold by its own class.
         */
        if (WDKMP_IRQL_CLASS(Irql) != WDKMP_IRQL_CLASS(Mutex->Header.HeldIrql)) {
            return WDKMP_IRQL_CLASS(Irql) ? STATUS_TIMEOUT : STATUS_WDKM_IRQL_MISMATCH;
        }
        if (Mutex->Depth >= WDKM_KMUTEX_MAX_RECURSION) {
            return STATUS_MUTANT_LIMIT_EXCEEDED;
        }
    }

    Try = Timeout != NULL && Timeout->QuadPart == 0;
    Status = WdkmpDiagBeforeAcquire(&Mutex->Header, Try ? WDKMP_DIAG_TRY : WDKMP_DIAG_WAITS, &Diag);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    /* Checked builds try first to see whether it must wait (for a try
       that costs a second zero wait when busy; release builds wait once). */
    WDKMP_DIAG_TRY_FIRST(&Diag, Status = WdkmpKMutexTryWait(&Mutex->Mutex),
                         Status = WdkmpKMutexWait(&Mutex->Mutex, WaitMode, Alertable, Timeout));
    if (Status == STATUS_SUCCESS && !Recursion && WdkmpKMutexHeldBefore(&Mutex->Mutex)) {
        /*
         * The kernel granted it recursively although the record says the
         * caller is not the owner: a DPC (or special kernel APC) that
         * interrupted its own thread between the kernel's grant and the
         * record (or between the record's end and the kernel's release).
         * The interrupted code holds it: give the extra grant back.
         */
        WdkmpKMutexRelease(&Mutex->Mutex);
        Status = Try ? STATUS_TIMEOUT : STATUS_POSSIBLE_DEADLOCK;
    }
    WdkmpDiagAfterAcquire(&Mutex->Header, &Diag, Status == STATUS_SUCCESS);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    /* Held now: Depth and HeldIrql are ours to write, and are written
       before the owner is published, for a DPC that reads them. */
    if (Recursion) {
        Mutex->Depth += 1;
    } else {
        Mutex->Header.HeldIrql = Irql;
        Mutex->Depth = 1;
        WdkmpStorePointerRelease((PVOID volatile *)&Mutex->Header.Owner, Self);
    }
    *Data = Mutex->Header.Data;
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmKMutexAcquire(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmpKMutexAcquire(Mutex, DataSize, KernelMode, FALSE, NULL, APC_LEVEL, Data);
}

NTSTATUS
WdkmKMutexTryAcquire(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    LARGE_INTEGER Zero;

    Zero.QuadPart = 0;
    return WdkmpKMutexAcquire(Mutex, DataSize, KernelMode, FALSE, &Zero, DISPATCH_LEVEL, Data);
}

NTSTATUS
WdkmKMutexAcquireTimeout(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _In_ const LARGE_INTEGER *Timeout,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    if (Timeout == NULL) {
        return WdkmpFailAcquire(Data, STATUS_INVALID_PARAMETER);
    }
    return WdkmpKMutexAcquire(Mutex, DataSize, KernelMode, FALSE, Timeout,
                              Timeout->QuadPart == 0 ? DISPATCH_LEVEL : APC_LEVEL, Data);
}

NTSTATUS
WdkmKMutexAcquireAlertable(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _In_ KPROCESSOR_MODE WaitMode,
    _In_opt_ const LARGE_INTEGER *Timeout,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    /* The WDK requires KernelMode for a wait on a mutex object. */
    if (WaitMode != KernelMode) {
        return WdkmpFailAcquire(Data, STATUS_INVALID_PARAMETER);
    }
    return WdkmpKMutexAcquire(Mutex, DataSize, WaitMode, TRUE, Timeout, APC_LEVEL, Data);
}

NTSTATUS
WdkmKMutexRelease(
    _Inout_ PWDKM_KMUTEX Mutex
    )
{
    WDKMP_THREAD Owner;
    PVOID Diag;
    KIRQL Irql;

    if (Mutex == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (!WdkmpLockIsKind(Mutex, WDKMP_SIGNATURE_KMUTEX)) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    Irql = WdkmpGetIrql();
    if (Irql > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    Owner = WdkmpLoadThread(&Mutex->Header.Owner);
    if (Owner != WdkmpCurrentThread()) {
        return WdkmpLockOwnerStatus(Owner);
    }
    if (WDKMP_IRQL_CLASS(Irql) != WDKMP_IRQL_CLASS(Mutex->Header.HeldIrql)) {
        return STATUS_WDKM_IRQL_MISMATCH;
    }

    /* Give up ownership before the kernel lets the next owner in. */
    Diag = WdkmpDiagBeforeRelease(&Mutex->Header);
    Mutex->Depth -= 1;
    if (Mutex->Depth == 0) {
        WdkmpStoreThread(&Mutex->Header.Owner, NULL);
    }
    WdkmpKMutexRelease(&Mutex->Mutex);
    WdkmpDiagAfterRelease(Diag);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmKMutexDestroy(
    _In_ PWDKM_KMUTEX Mutex
    )
{
    return WdkmpLockDestroy(Mutex, &WdkmpKMutexKind, 0, NULL);
}

NTSTATUS
WdkmKMutexTake(
    _In_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    )
{
    if (Value == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpLockDestroy(Mutex, &WdkmpKMutexKind, DataSize, Value);
}

NTSTATUS
WdkmKMutexCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_KMUTEX *Mutex
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (Mutex == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreateInPlace(&WdkmpKMutexKind, DataSize, Initialize, Context, &Lock);
    *Mutex = (PWDKM_KMUTEX)Lock;
    return Status;
}

NTSTATUS
WdkmKMutexDestroyWith(
    _In_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    )
{
    return WdkmpLockDestroyWith(Mutex, &WdkmpKMutexKind, DataSize, Drain, Context);
}

BOOLEAN
WdkmKMutexIsOwned(
    _In_opt_ const WDKM_KMUTEX *Mutex
    )
{
    return WdkmpLockOwnedByCallerAs(Mutex, WDKMP_SIGNATURE_KMUTEX);
}

WDKM_SCOPE
WdkmKMutexScopeEnter(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    )
{
    return WdkmpLockScopeEnter(&WdkmpKMutexKind, Mutex, DataSize, Data, Status);
}

/* The kind as the registry sees it. */

static
NTSTATUS
WdkmpKMutexInitializeAny(
    _Inout_ PVOID Lock
    )
{
    WdkmpKMutexInitialize(&((PWDKM_KMUTEX)Lock)->Mutex);
    return STATUS_SUCCESS;
}

static
NTSTATUS
WdkmpKMutexAcquireAny(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ KIRQL *SavedIrql
    )
{
    *SavedIrql = PASSIVE_LEVEL;
    return WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, DataSize, Data);
}

static
NTSTATUS
WdkmpKMutexReleaseAny(
    _Inout_ PVOID Lock,
    _In_ KIRQL SavedIrql
    )
{
    UNREFERENCED_PARAMETER(SavedIrql);
    return WdkmKMutexRelease((PWDKM_KMUTEX)Lock);
}

static
NTSTATUS
WdkmpKMutexAcquireForCallback(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    UNREFERENCED_PARAMETER(Argument);
    return WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, DataSize, Data);
}

WDKMP_NOINLINE
PVOID
WdkmKMutexAcquireOrBugCheck(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    )
{
    return WdkmpLockAcquireOrBugCheck(WdkmpKMutexAcquireForCallback, WdkmLockKindKMutex, Mutex, DataSize, NULL, Data,
                                      WDKMP_RETURN_ADDRESS());
}

/* Destroy's view of the kernel object (WDKMP_LOCK_KIND.KernelHeld). */
static
BOOLEAN
WdkmpKMutexKernelHeld(
    _In_ PVOID Lock
    )
{
    return WdkmpKMutexBusy(&((PWDKM_KMUTEX)Lock)->Mutex);
}

const WDKMP_LOCK_KIND WdkmpKMutexKind = {
    WdkmLockKindKMutex,
    WDKMP_SIGNATURE_KMUTEX,
    sizeof(WDKM_KMUTEX),
    DISPATCH_LEVEL,
    TRUE,                        /* ApcLevelHoldIsPassive: its APC_LEVEL is the caller's */
    WdkmpKMutexInitializeAny,
    WdkmpKMutexAcquireAny,
    WdkmpKMutexReleaseAny,
    NULL,
    NULL,                        /* HeldSharedByCaller */
    WdkmpKMutexKernelHeld
};
