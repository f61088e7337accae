/*
 * wdkm_guardedmutex.c - WDKM_GUARDED_MUTEX: a KGUARDED_MUTEX that owns a
 * value. Every kernel routine goes through the port's run-time lookup.
 */
#include "wdkm_internal.h"

/* The block: struct _WDKM_... in wdkm_layout.h. */

NTSTATUS
WdkmGuardedMutexCreate(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKM_GUARDED_MUTEX *Mutex
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (Mutex == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreate(&WdkmpGuardedMutexKind, InitialValue, DataSize, &Lock);
    *Mutex = (PWDKM_GUARDED_MUTEX)Lock;
    return Status;
}

/* Inline: each form gets its own copy, its constants folded. */
WDKMP_INLINE
NTSTATUS
WdkmpGuardedMutexAcquireCommon(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _In_ BOOLEAN Wait,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    WDKMP_DIAG_ACQUIRE Diag;
    WDKMP_THREAD Self;
    KIRQL Irql;
    NTSTATUS Status;

    Status = WdkmpLockCheckAcquire(Mutex, WDKMP_SIGNATURE_GUARDED, DataSize, Data, PASSIVE_LEVEL, APC_LEVEL, FALSE, &Self, &Irql);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmpDiagBeforeAcquire(&Mutex->Header, Wait ? WDKMP_DIAG_WAITS : WDKMP_DIAG_TRY,
                                    &Diag);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    if (Wait) {
        *Data = Mutex->Header.Data;     /* the wait cannot fail (WdkmpLockTakeOwnership) */
        WDKMP_DIAG_TRY_FIRST(&Diag, WdkmpGuardedMutexTryAcquire(&Mutex->Mutex),
                             WdkmpGuardedMutexAcquire(&Mutex->Mutex));
    } else {
        Status = WdkmpGuardedMutexTryAcquire(&Mutex->Mutex);
        if (Status != STATUS_SUCCESS) {
            WdkmpDiagAfterAcquire(&Mutex->Header, &Diag, FALSE);
            return Status;
        }
        *Data = Mutex->Header.Data;
    }
    /* A guarded mutex leaves the IRQL alone: HeldIrql is the caller's. */
    WdkmpLockTakeOwnership(&Mutex->Header);
    /*
     * Its release must happen at that IRQL. Taken at APC_LEVEL (inside a
     * fast mutex) it counts as a hold nested at that level, so the
     * release of a fast mutex taken at PASSIVE_LEVEL cannot lower the IRQL
     * under it (STATUS_WDKM_LOCK_HELD), which would leave it unreleasable
     * there: the rule of nested fast mutexes (wdkm_layout.h).
     */
    if (Irql == APC_LEVEL) {
        WdkmpNestEnter(&Mutex->Header, WDKMP_NEST_APC);
    }
    WdkmpDiagAfterAcquire(&Mutex->Header, &Diag, TRUE);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmGuardedMutexAcquire(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmpGuardedMutexAcquireCommon(Mutex, DataSize, TRUE, Data);
}

NTSTATUS
WdkmGuardedMutexTryAcquire(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmpGuardedMutexAcquireCommon(Mutex, DataSize, FALSE, Data);
}

NTSTATUS
WdkmGuardedMutexRelease(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex
    )
{
    NTSTATUS Status = WdkmpLockCheckRelease(Mutex, WDKMP_SIGNATURE_GUARDED);
    PVOID Diag;

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Diag = WdkmpDiagBeforeRelease(&Mutex->Header);
    WdkmpNestLeave(&Mutex->Header, WDKMP_NEST_APC);
    WdkmpStoreThread(&Mutex->Header.Owner, NULL);
    WdkmpGuardedMutexRelease(&Mutex->Mutex);
    WdkmpDiagAfterRelease(Diag);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmGuardedMutexDestroy(
    _In_ PWDKM_GUARDED_MUTEX Mutex
    )
{
    return WdkmpLockDestroy(Mutex, &WdkmpGuardedMutexKind, 0, NULL);
}

NTSTATUS
WdkmGuardedMutexTake(
    _In_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    )
{
    if (Value == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmpLockDestroy(Mutex, &WdkmpGuardedMutexKind, DataSize, Value);
}

NTSTATUS
WdkmGuardedMutexCreateInPlace(
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _Outptr_result_maybenull_ PWDKM_GUARDED_MUTEX *Mutex
    )
{
    PVOID Lock;
    NTSTATUS Status;

    if (Mutex == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpLockCreateInPlace(&WdkmpGuardedMutexKind, DataSize, Initialize, Context, &Lock);
    *Mutex = (PWDKM_GUARDED_MUTEX)Lock;
    return Status;
}

NTSTATUS
WdkmGuardedMutexDestroyWith(
    _In_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    )
{
    return WdkmpLockDestroyWith(Mutex, &WdkmpGuardedMutexKind, DataSize, Drain, Context);
}

BOOLEAN
WdkmGuardedMutexIsOwned(
    _In_opt_ const WDKM_GUARDED_MUTEX *Mutex
    )
{
    return WdkmpLockOwnedByCallerAs(Mutex, WDKMP_SIGNATURE_GUARDED);
}

WDKM_SCOPE
WdkmGuardedMutexScopeEnter(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    )
{
    return WdkmpLockScopeEnter(&WdkmpGuardedMutexKind, Mutex, DataSize, Data, Status);
}

/* The kind as the registry and the scoped forms see it. */

static
NTSTATUS
WdkmpGuardedMutexInitializeAny(
    _Inout_ PVOID Lock
    )
{
    if (!WdkmpGuardedMutexSupported()) {
        return STATUS_NOT_SUPPORTED;
    }
    WdkmpGuardedMutexInitialize(&((PWDKM_GUARDED_MUTEX)Lock)->Mutex);
    return STATUS_SUCCESS;
}

static
NTSTATUS
WdkmpGuardedMutexAcquireAny(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ KIRQL *SavedIrql
    )
{
    *SavedIrql = PASSIVE_LEVEL;
    return WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)Lock, DataSize, Data);
}

static
NTSTATUS
WdkmpGuardedMutexReleaseAny(
    _Inout_ PVOID Lock,
    _In_ KIRQL SavedIrql
    )
{
    UNREFERENCED_PARAMETER(SavedIrql);
    return WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Lock);
}

static
NTSTATUS
WdkmpGuardedMutexAcquireForCallback(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID Argument,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    UNREFERENCED_PARAMETER(Argument);
    return WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)Lock, DataSize, Data);
}

WDKMP_NOINLINE
PVOID
WdkmGuardedMutexAcquireOrBugCheck(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Out_opt_ PVOID *Data
    )
{
    return WdkmpLockAcquireOrBugCheck(WdkmpGuardedMutexAcquireForCallback, WdkmLockKindGuardedMutex, Mutex, DataSize, NULL, Data,
                                      WDKMP_RETURN_ADDRESS());
}

/* Destroy's view of the kernel object (WDKMP_LOCK_KIND.KernelHeld). */
static
BOOLEAN
WdkmpGuardedMutexKernelHeld(
    _In_ PVOID Lock
    )
{
    return WdkmpGuardedMutexBusy(&((PWDKM_GUARDED_MUTEX)Lock)->Mutex);
}

const WDKMP_LOCK_KIND WdkmpGuardedMutexKind = {
    WdkmLockKindGuardedMutex,
    WDKMP_SIGNATURE_GUARDED,
    sizeof(WDKM_GUARDED_MUTEX),
    DISPATCH_LEVEL,
    FALSE,                       /* ApcLevelHoldIsPassive */
    WdkmpGuardedMutexInitializeAny,
    WdkmpGuardedMutexAcquireAny,
    WdkmpGuardedMutexReleaseAny,
    NULL,
    NULL,                        /* HeldSharedByCaller */
    WdkmpGuardedMutexKernelHeld
};
