/*
 * wdkm_port_wdk.c - kernel routines that not every kernel exports, looked
 * up at run time, and the pool allocator built on them.
 *
 * A driver that imports a routine its kernel lacks does not load at all
 * (Wine 8 lacks ExAllocatePool2 and ExTryToAcquireFastMutex; Windows
 * before 10 2004 lacks ExAllocatePool2). So these are found with
 * MmGetSystemRoutineAddress, which is only callable at PASSIVE_LEVEL: the
 * lookup runs at the first allocation or fast-mutex try made there, and
 * its result is kept.
 */
#include "../wdkm_port.h"

typedef PVOID (NTAPI WDKMP_EX_ALLOCATE_POOL2)(ULONG64 Flags, SIZE_T NumberOfBytes, ULONG Tag);
typedef BOOLEAN (FASTCALL WDKMP_EX_TRY_TO_ACQUIRE_FAST_MUTEX)(PFAST_MUTEX FastMutex);

#define WDKMP_POOL_FLAG_NON_PAGED 0x0000000000000040ULL

/* Lookup states. */
#define WDKMP_ROUTINES_UNRESOLVED 0
#define WDKMP_ROUTINES_RESOLVING  1
#define WDKMP_ROUTINES_RESOLVED   2

/*
 * One thread resolves (it wins UNRESOLVED -> RESOLVING), writes the
 * addresses, then publishes RESOLVED; readers read the addresses only after
 * seeing RESOLVED with acquire semantics.
 */
static struct {
    LONG volatile State;
    PVOID volatile ExAllocatePool2;
    PVOID volatile ExTryToAcquireFastMutex;
} WdkmpRoutines;

static
PVOID
WdkmpLookUpRoutine(
    _In_ PCWSTR Name
    )
{
    UNICODE_STRING String;

    RtlInitUnicodeString(&String, Name);
    return MmGetSystemRoutineAddress(&String);
}

static
LONG
WdkmpRoutinesState(
    VOID
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(&WdkmpRoutines.State, __ATOMIC_ACQUIRE);
#else
    return WdkmpRoutines.State;     /* volatile reads acquire on MSVC x64 */
#endif
}

/* TRUE once the routines are known; resolves them if the IRQL allows. */
static
BOOLEAN
WdkmpRoutinesKnown(
    VOID
    )
{
    if (WdkmpRoutinesState() == WDKMP_ROUTINES_RESOLVED) {
        return TRUE;
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        return FALSE;
    }
    if (InterlockedCompareExchange(&WdkmpRoutines.State, WDKMP_ROUTINES_RESOLVING,
                                   WDKMP_ROUTINES_UNRESOLVED) == WDKMP_ROUTINES_UNRESOLVED) {
        WdkmpRoutines.ExAllocatePool2 = WdkmpLookUpRoutine(L"ExAllocatePool2");
        WdkmpRoutines.ExTryToAcquireFastMutex = WdkmpLookUpRoutine(L"ExTryToAcquireFastMutex");
        InterlockedExchange(&WdkmpRoutines.State, WDKMP_ROUTINES_RESOLVED);
        return TRUE;
    }
    /* Another thread is looking them up; at PASSIVE_LEVEL it is fine to wait. */
    while (WdkmpRoutinesState() != WDKMP_ROUTINES_RESOLVED) {
        YieldProcessor();
    }
    return TRUE;
}

VOID
WdkmpForgetRoutines(
    VOID
    )
{
    InterlockedExchange(&WdkmpRoutines.State, WDKMP_ROUTINES_UNRESOLVED);
    WdkmpRoutines.ExAllocatePool2 = NULL;
    WdkmpRoutines.ExTryToAcquireFastMutex = NULL;
}

NTSTATUS
WdkmpFastMutexTryAcquire(
    _Inout_ WDKMP_FAST_MUTEX *FastMutex
    )
{
    WDKMP_EX_TRY_TO_ACQUIRE_FAST_MUTEX *TryToAcquire;
    PVOID Address;

    if (!WdkmpRoutinesKnown()) {
        return STATUS_NOT_SUPPORTED;
    }
    Address = WdkmpRoutines.ExTryToAcquireFastMutex;
    if (Address == NULL) {
        return STATUS_NOT_SUPPORTED;
    }
    /* ISO C has no cast from object to function pointer; copy the bits. */
    RtlCopyMemory(&TryToAcquire, &Address, sizeof(TryToAcquire));
    return TryToAcquire(FastMutex) ? STATUS_SUCCESS : STATUS_TIMEOUT;
}

PVOID
WdkmpPoolAllocate(
    _In_ SIZE_T Bytes,
    _In_ ULONG Tag
    )
{
    WDKMP_EX_ALLOCATE_POOL2 *AllocatePool2;
    PVOID Address;
    PVOID Block;

    Address = WdkmpRoutinesKnown() ? WdkmpRoutines.ExAllocatePool2 : NULL;
    if (Address != NULL) {
        RtlCopyMemory(&AllocatePool2, &Address, sizeof(AllocatePool2));
        return AllocatePool2(WDKMP_POOL_FLAG_NON_PAGED, Bytes, Tag);
    }

    /*
     * ExAllocatePoolWithTag is deprecated from Windows 10 2004 on, but it
     * is the only allocator older kernels (and Wine) have. It does not
     * zero; ExAllocatePool2 does, and callers rely on that.
     */
#if defined(_MSC_VER)
#pragma warning(suppress: 4996)
#endif
    Block = ExAllocatePoolWithTag(NonPagedPoolNx, Bytes, Tag);
    if (Block != NULL) {
        RtlZeroMemory(Block, Bytes);
    }
    return Block;
}

VOID
WdkmpPoolFree(
    _In_ PVOID Block,
    _In_ ULONG Tag
    )
{
    ExFreePoolWithTag(Block, Tag);
}

LONG
WdkmpPoolAllocator(
    VOID
    )
{
    if (WdkmpRoutinesState() != WDKMP_ROUTINES_RESOLVED) {
        return WDKMP_POOL_UNRESOLVED;
    }
    return WdkmpRoutines.ExAllocatePool2 != NULL ? WDKMP_POOL_POOL2 : WDKMP_POOL_WITH_TAG;
}
