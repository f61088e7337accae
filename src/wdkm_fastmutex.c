/*
 * wdkm_fastmutex.c - WDKM_FAST_MUTEX: a FAST_MUTEX that owns a value, with
 * the kernel's rules checked before the kernel is called.
 */
#include "wdkm_internal.h"

struct _WDKM_FAST_MUTEX {
    WDKMP_LOCK_HEADER Header;
    /*
     * The IRQL the acquisition left the owner at: APC_LEVEL on Windows.
     * Recorded rather than assumed because Wine never raises the IRQL, and
     * the release rule is "release where the acquire left you".
     */
    KIRQL HeldIrql;
    WDKMP_FAST_MUTEX FastMutex;
};

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
    Status = WdkmpLockCreate(WDKMP_SIGNATURE_FAST_MUTEX, sizeof(WDKM_FAST_MUTEX),
                             InitialValue, DataSize, &Lock);
    *FastMutex = (PWDKM_FAST_MUTEX)Lock;
    if (NT_SUCCESS(Status)) {
        WdkmpFastMutexInitialize(&((PWDKM_FAST_MUTEX)Lock)->FastMutex);
    }
    return Status;
}

/*
 * The checks both acquisition forms make before touching the kernel
 * object. Returns STATUS_SUCCESS when the acquisition may go ahead.
 */
static
NTSTATUS
WdkmpFastMutexCheckAcquire(
    _In_opt_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _In_opt_ PVOID *Data
    )
{
    if (Data == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    *Data = NULL;
    if (FastMutex == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > APC_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (DataSize != FastMutex->Header.DataSize) {
        return STATUS_WDKM_TYPE_MISMATCH;
    }
    if (WdkmpLoadThread(&FastMutex->Header.Owner) == WdkmpCurrentThread()) {
        /* The kernel would wait for ourselves forever. */
        return STATUS_POSSIBLE_DEADLOCK;
    }
    return STATUS_SUCCESS;
}

/* Record ownership once the kernel object is held. */
static
VOID
WdkmpFastMutexTakeOwnership(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _Out_ PVOID *Data
    )
{
    WdkmpStoreThread(&FastMutex->Header.Owner, WdkmpCurrentThread());
    FastMutex->HeldIrql = WdkmpGetIrql();
    *Data = FastMutex->Header.Data;
}

NTSTATUS
WdkmFastMutexAcquire(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    NTSTATUS Status = WdkmpFastMutexCheckAcquire(FastMutex, DataSize, Data);

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    WdkmpFastMutexAcquire(&FastMutex->FastMutex);
    WdkmpFastMutexTakeOwnership(FastMutex, Data);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmFastMutexTryAcquire(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    NTSTATUS Status = WdkmpFastMutexCheckAcquire(FastMutex, DataSize, Data);

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmpFastMutexTryAcquire(&FastMutex->FastMutex);
    if (Status == STATUS_SUCCESS) {
        WdkmpFastMutexTakeOwnership(FastMutex, Data);
    }
    return Status;
}

NTSTATUS
WdkmFastMutexRelease(
    _Inout_ PWDKM_FAST_MUTEX FastMutex
    )
{
    WDKMP_THREAD Owner;
    KIRQL Irql;

    if (FastMutex == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Owner = WdkmpLoadThread(&FastMutex->Header.Owner);
    if (Owner != WdkmpCurrentThread()) {
        return WdkmpLockOwnerStatus(Owner);
    }
    Irql = WdkmpGetIrql();
    if (Irql != FastMutex->HeldIrql) {
        return Irql > FastMutex->HeldIrql ? STATUS_WDKM_IRQL_TOO_HIGH : STATUS_WDKM_IRQL_MISMATCH;
    }

    WdkmpStoreThread(&FastMutex->Header.Owner, NULL);
    WdkmpFastMutexRelease(&FastMutex->FastMutex);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmFastMutexDestroy(
    _In_ PWDKM_FAST_MUTEX FastMutex
    )
{
    return WdkmpLockDestroy(FastMutex, WDKMP_SIGNATURE_FAST_MUTEX, 0, NULL, FALSE);
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
    return WdkmpLockDestroy(FastMutex, WDKMP_SIGNATURE_FAST_MUTEX, DataSize, Value, FALSE);
}

BOOLEAN
WdkmFastMutexIsOwned(
    _In_opt_ const WDKM_FAST_MUTEX *FastMutex
    )
{
    return FastMutex != NULL &&
           WdkmpLoadThread(&FastMutex->Header.Owner) == WdkmpCurrentThread();
}

WDKM_SCOPE
WdkmFastMutexScopeEnter(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    )
{
    return WdkmpScopeResult(FastMutex, WdkmpLockScopeRelease,
                            WdkmFastMutexAcquire(FastMutex, DataSize, Data), Status);
}

/* The kind as the registry sees it. */

static
NTSTATUS
WdkmpFastMutexCreateAny(
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Lock
    )
{
    PWDKM_FAST_MUTEX FastMutex;
    NTSTATUS Status = WdkmFastMutexCreate(InitialValue, DataSize, &FastMutex);

    *Lock = FastMutex;
    return Status;
}

static
NTSTATUS
WdkmpFastMutexAcquireAny(
    _Inout_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    return WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock, DataSize, Data);
}

static
NTSTATUS
WdkmpFastMutexReleaseAny(
    _Inout_ PVOID Lock
    )
{
    return WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock);
}

const WDKMP_LOCK_KIND WdkmpFastMutexKind = {
    WdkmLockKindFastMutex,
    WDKMP_SIGNATURE_FAST_MUTEX,
    WdkmpFastMutexCreateAny,
    WdkmpFastMutexAcquireAny,
    WdkmpFastMutexReleaseAny
};
