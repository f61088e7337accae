/*
 * api_usage.c - every public macro of wdkmutex expanded at least once, in
 * code a driver could contain. Compiled (never linked or run) by
 * scripts/check-portability.sh as C11 with gcc and clang against both DDK
 * header sets, and as C++17 with g++ and clang++: a macro that only works
 * in one language or with one header set fails here. Valid C and C++ both.
 */
#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

typedef struct _USAGE_STATE {
    ULONG Count;
    ULONG64 Bytes;
} USAGE_STATE;

/* The version macros are usable in #if. */
#if WDKM_VERSION_MAJOR < 0 || WDKM_VERSION_MINOR < 0 || WDKM_VERSION_PATCH < 0
#error "bad version macros"
#endif

/* The build settings are integer constants. */
typedef char UsageConfigIsConstant[(WDKM_POOL_TAG != 0 && WDKM_MAX_DATA_SIZE != 0 &&
                                    WDKM_KMUTEX_MAX_RECURSION != 0) ? 1 : -1];
typedef char UsageScopeExitIsConstant[(WDKM_SCOPE_EXIT_RELEASES == 0 ||
                                       WDKM_SCOPE_EXIT_RELEASES == 1) ? 1 : -1];

NTSTATUS UsageKMutex(ULONG Length);
NTSTATUS UsageFastMutex(ULONG Length);
NTSTATUS UsageRegistry(ULONG Length);
PCSTR UsageStatus(NTSTATUS Status);

NTSTATUS
UsageKMutex(
    ULONG Length
    )
{
    USAGE_STATE Initial = { 0, 0 };
    USAGE_STATE Final;
    USAGE_STATE *State;
    PWDKM_KMUTEX Lock;
    LARGE_INTEGER Timeout;
    NTSTATUS Status;

    Status = WDKM_KMUTEX_CREATE(&Initial, &Lock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_KMUTEX_ACQUIRE(Lock, &State);
    if (Status == STATUS_SUCCESS) {
        State->Count += 1;
        (VOID)WdkmKMutexRelease(Lock);
    }
    Status = WDKM_KMUTEX_TRY_ACQUIRE(Lock, &State);
    if (Status == STATUS_SUCCESS) {
        State->Bytes += Length;
        (VOID)WdkmKMutexRelease(Lock);
    }
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(50);
    Status = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Lock, &Timeout, &State);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(Lock);
    }
    Status = WDKM_KMUTEX_ACQUIRE_ALERTABLE(Lock, KernelMode, &Timeout, &State);
    if (Status == STATUS_SUCCESS) {
        if (!WdkmKMutexIsOwned(Lock)) {
            Status = STATUS_UNSUCCESSFUL;
        }
        (VOID)WdkmKMutexRelease(Lock);
    }
    WDKM_KMUTEX_SCOPED(Lock, State, &Status) {
        if (State->Count == 0) {
            continue;           /* the portable early exit */
        }
        State->Count += 1;
    }
    if (Status != STATUS_SUCCESS) {
        (VOID)WdkmKMutexDestroy(Lock);
        return Status;
    }
    return WDKM_KMUTEX_TAKE(Lock, &Final);
}

NTSTATUS
UsageFastMutex(
    ULONG Length
    )
{
    USAGE_STATE Initial = { 0, 0 };
    USAGE_STATE Final;
    USAGE_STATE *State;
    PWDKM_FAST_MUTEX Lock;
    NTSTATUS Status;

    Status = WDKM_FAST_MUTEX_CREATE(&Initial, &Lock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_FAST_MUTEX_ACQUIRE(Lock, &State);
    if (Status == STATUS_SUCCESS) {
        State->Count += 1;
        (VOID)WdkmFastMutexRelease(Lock);
    }
    Status = WDKM_FAST_MUTEX_TRY_ACQUIRE(Lock, &State);
    if (Status == STATUS_SUCCESS) {
        if (WdkmFastMutexIsOwned(Lock)) {
            State->Bytes += Length;
        }
        (VOID)WdkmFastMutexRelease(Lock);
    }
    WDKM_FAST_MUTEX_SCOPED(Lock, State, &Status) {
        State->Count += 1;
    }
    if (Status != STATUS_SUCCESS) {
        (VOID)WdkmFastMutexDestroy(Lock);
        return Status;
    }
    return WDKM_FAST_MUTEX_TAKE(Lock, &Final);
}

NTSTATUS
UsageRegistry(
    ULONG Length
    )
{
    USAGE_STATE Initial = { 0, 0 };
    USAGE_STATE *State;
    PWDKM_KMUTEX KMutex;
    PWDKM_FAST_MUTEX FastMutex;
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;
    NTSTATUS Status;

    Status = WdkmGrtInitialize();
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_GRT_REGISTER_KMUTEX("usage.kmutex", &Initial);
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_GRT_REGISTER_FAST_MUTEX("usage.fast", &Initial);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_GRT_REPLACE_KMUTEX("usage.kmutex", &Initial);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_GRT_REPLACE_FAST_MUTEX("usage.fast", &Initial);
    }
    if (WDKM_GRT_GET_KMUTEX("usage.kmutex", USAGE_STATE, &KMutex) == STATUS_SUCCESS) {
        if (WDKM_KMUTEX_ACQUIRE(KMutex, &State) == STATUS_SUCCESS) {
            State->Bytes += Length;
            (VOID)WdkmKMutexRelease(KMutex);
        }
        (VOID)WdkmGrtDereference(KMutex);
    }
    if (WDKM_GRT_GET_FAST_MUTEX("usage.fast", USAGE_STATE, &FastMutex) == STATUS_SUCCESS) {
        (VOID)WdkmGrtDereference(FastMutex);
    }
    WDKM_GRT_KMUTEX_SCOPED("usage.kmutex", State, &Status) {
        State->Count += 1;
    }
    WDKM_GRT_FAST_MUTEX_SCOPED("usage.fast", State, &Status) {
        State->Count += 1;
    }
    (VOID)WdkmGrtUnregister("usage.fast");
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5000);
    if (WdkmGrtDestroy(&Timeout, &Report) == STATUS_TIMEOUT && Report.NamesReported > 0) {
        Status = STATUS_TIMEOUT;
    }
    return Status;
}

PCSTR
UsageStatus(
    NTSTATUS Status
    )
{
    static const NTSTATUS Codes[] = {
        STATUS_WDKM_IRQL_TOO_HIGH, STATUS_WDKM_IRQL_MISMATCH, STATUS_WDKM_NOT_OWNER,
        STATUS_WDKM_NOT_HELD, STATUS_WDKM_LOCK_HELD, STATUS_WDKM_TYPE_MISMATCH,
        STATUS_WDKM_NOT_INITIALIZED, STATUS_WDKM_ALREADY_INITIALIZED,
        STATUS_WDKM_OWNED_BY_REGISTRY,
    };
    WDKM_POOL_STATISTICS Statistics;
    ULONG Index;

    WdkmQueryPoolStatistics(&Statistics);
    if (Statistics.Allocator == WdkmPoolAllocatorNotResolved && Statistics.OutstandingBlocks != 0) {
        return WdkmStatusName(STATUS_UNSUCCESSFUL);
    }
    for (Index = 0; Index < sizeof(Codes) / sizeof(Codes[0]); Index += 1) {
        if (Codes[Index] == Status) {
            return WdkmStatusName(Status);
        }
    }
    return WDKM_VERSION_STRING;
}
