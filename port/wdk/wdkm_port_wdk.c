/*
 * wdkm_port_wdk.c - kernel routines that not every kernel exports, looked
 * up at run time, and what is built on them (pool, tries, guarded mutexes,
 * push locks).
 *
 * A driver that imports a routine its kernel lacks does not load at all
 * (Wine 8 lacks ExAllocatePool2, ExTryToAcquireFastMutex, the guarded-mutex
 * acquire and release and KeTryToAcquireSpinLockAtDpcLevel; Windows before
 * 10 2004 lacks ExAllocatePool2; push locks are exported but undocumented).
 * So these are found with MmGetSystemRoutineAddress, which is only callable
 * at PASSIVE_LEVEL: the lookup runs at the first library call that needs
 * one made there (every create does), and its result is kept.
 */
#include "../wdkm_port.h"

typedef PVOID (NTAPI WDKMP_EX_ALLOCATE_POOL2)(ULONG64 Flags, SIZE_T NumberOfBytes, ULONG Tag);
typedef BOOLEAN (FASTCALL WDKMP_EX_TRY_TO_ACQUIRE_FAST_MUTEX)(PFAST_MUTEX FastMutex);
typedef BOOLEAN (FASTCALL WDKMP_KE_TRY_TO_ACQUIRE_SPIN_LOCK)(PKSPIN_LOCK SpinLock);
typedef VOID (FASTCALL WDKMP_GUARDED_MUTEX_ROUTINE)(PKGUARDED_MUTEX Mutex);
typedef BOOLEAN (FASTCALL WDKMP_GUARDED_MUTEX_TRY)(PKGUARDED_MUTEX Mutex);
typedef VOID (FASTCALL WDKMP_PUSH_LOCK_ROUTINE)(PULONG_PTR PushLock);

#define WDKMP_POOL_FLAG_NON_PAGED 0x0000000000000040ULL

/* The routines, by WDKMP_ROUTINE_* index. */
static const PCWSTR WdkmpRoutineNames[WDKMP_ROUTINE_COUNT] = {
    L"ExAllocatePool2",
    L"ExTryToAcquireFastMutex",
    L"KeTryToAcquireSpinLockAtDpcLevel",
    L"KeInitializeGuardedMutex",
    L"KeAcquireGuardedMutex",
    L"KeReleaseGuardedMutex",
    L"KeTryToAcquireGuardedMutex",
    L"ExfAcquirePushLockExclusive",
    L"ExfAcquirePushLockShared",
    L"ExfReleasePushLockExclusive",
    L"ExfReleasePushLockShared",
};

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
    PVOID Address[WDKMP_ROUTINE_COUNT];
    BOOLEAN IrqlFixed;          /* written with the addresses, read after RESOLVED */
    LONG volatile IrqlNews;     /* 1: IrqlFixed found and not yet said */
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

/*
 * At PASSIVE_LEVEL: TRUE if raising to DISPATCH_LEVEL leaves the reported
 * IRQL unchanged (Wine). On a real kernel the raise lasts two reads.
 */
static
BOOLEAN
WdkmpProbeIrqlFixed(
    VOID
    )
{
    KIRQL OldIrql;
    KIRQL Raised;

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Raised = KeGetCurrentIrql();
    KeLowerIrql(OldIrql);
    return Raised != DISPATCH_LEVEL;
}

static
LONG
WdkmpRoutinesState(
    VOID
    )
{
    return WdkmpLoadLongAcquire(&WdkmpRoutines.State);
}

/* TRUE once the routines are known; resolves them if the IRQL allows. */
static
BOOLEAN
WdkmpRoutinesKnown(
    VOID
    )
{
    ULONG Index;

    if (WdkmpRoutinesState() == WDKMP_ROUTINES_RESOLVED) {
        return TRUE;
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        return FALSE;
    }
    if (InterlockedCompareExchange(&WdkmpRoutines.State, WDKMP_ROUTINES_RESOLVING,
                                   WDKMP_ROUTINES_UNRESOLVED) == WDKMP_ROUTINES_UNRESOLVED) {
        for (Index = 0; Index < WDKMP_ROUTINE_COUNT; Index += 1) {
            WdkmpRoutines.Address[Index] = WdkmpLookUpRoutine(WdkmpRoutineNames[Index]);
        }
        WdkmpRoutines.IrqlFixed = WdkmpProbeIrqlFixed();
        InterlockedExchange(&WdkmpRoutines.IrqlNews, WdkmpRoutines.IrqlFixed ? 1 : 0);
        InterlockedExchange(&WdkmpRoutines.State, WDKMP_ROUTINES_RESOLVED);
        return TRUE;
    }
    /* Another thread is looking them up; at PASSIVE_LEVEL it is fine to wait. */
    while (WdkmpRoutinesState() != WDKMP_ROUTINES_RESOLVED) {
        YieldProcessor();
    }
    return TRUE;
}

PVOID
WdkmpRoutine(
    _In_ ULONG Index
    )
{
    return Index < WDKMP_ROUTINE_COUNT && WdkmpRoutinesKnown() ? WdkmpRoutines.Address[Index]
                                                               : NULL;
}

/*
 * ISO C has no conversion between object and function pointers; the
 * address is copied bit for bit into a function pointer of the right type.
 */
#define WDKMP_ROUTINE_AS(Type, Index, Target)                      \
    do {                                                          \
        PVOID WdkmpAddress_ = WdkmpRoutine(Index);                 \
        RtlCopyMemory(&(Target), &WdkmpAddress_, sizeof(Target));  \
    } while (0)

/*
 * The same for a routine already resolved, on the acquire and release
 * paths of the kinds that need one: a lock of such a kind exists only
 * once its create resolved the routines and found them, and whoever uses
 * the lock received its handle after that. No state check on the fast
 * path.
 */
#define WDKMP_RESOLVED_AS(Type, Index, Target)                               \
    do {                                                                    \
        PVOID WdkmpAddress_ = WdkmpRoutines.Address[Index];                  \
        RtlCopyMemory(&(Target), &WdkmpAddress_, sizeof(Target));            \
    } while (0)

VOID
WdkmpForgetRoutines(
    VOID
    )
{
    InterlockedExchange(&WdkmpRoutines.State, WDKMP_ROUTINES_UNRESOLVED);
    RtlZeroMemory(WdkmpRoutines.Address, sizeof(WdkmpRoutines.Address));
    WdkmpRoutines.IrqlFixed = FALSE;
    InterlockedExchange(&WdkmpRoutines.IrqlNews, 0);
}

BOOLEAN
WdkmpIrqlFixed(
    VOID
    )
{
    /* IrqlFixed is written before RESOLVED is published (acquire here). */
    return WdkmpRoutinesState() == WDKMP_ROUTINES_RESOLVED && WdkmpRoutines.IrqlFixed;
}

BOOLEAN
WdkmpIrqlFixedNews(
    VOID
    )
{
    /* A relaxed look first: every create asks, and the answer is nearly always no. */
    return WdkmpLoadLong(&WdkmpRoutines.IrqlNews) != 0 &&
           InterlockedExchange(&WdkmpRoutines.IrqlNews, 0) != 0;
}

NTSTATUS
WdkmpFastMutexTryAcquire(
    _Inout_ WDKMP_FAST_MUTEX *FastMutex
    )
{
    WDKMP_EX_TRY_TO_ACQUIRE_FAST_MUTEX *TryToAcquire;

    WDKMP_ROUTINE_AS(WDKMP_EX_TRY_TO_ACQUIRE_FAST_MUTEX, WDKMP_ROUTINE_EX_TRY_TO_ACQUIRE_FAST_MUTEX,
                     TryToAcquire);
    if (TryToAcquire == NULL) {
        return STATUS_NOT_SUPPORTED;
    }
    return TryToAcquire(FastMutex) ? STATUS_SUCCESS : STATUS_TIMEOUT;
}

NTSTATUS
WdkmpSpinLockTryAcquireAtDpcLevel(
    _Inout_ WDKMP_SPIN_LOCK *SpinLock
    )
{
    WDKMP_KE_TRY_TO_ACQUIRE_SPIN_LOCK *TryToAcquire;

    WDKMP_ROUTINE_AS(WDKMP_KE_TRY_TO_ACQUIRE_SPIN_LOCK, WDKMP_ROUTINE_KE_TRY_TO_ACQUIRE_SPIN_LOCK,
                     TryToAcquire);
    if (TryToAcquire == NULL) {
        return STATUS_NOT_SUPPORTED;
    }
    return TryToAcquire(SpinLock) ? STATUS_SUCCESS : STATUS_TIMEOUT;
}

BOOLEAN
WdkmpGuardedMutexSupported(
    VOID
    )
{
    return WdkmpRoutine(WDKMP_ROUTINE_KE_INITIALIZE_GUARDED_MUTEX) != NULL &&
           WdkmpRoutine(WDKMP_ROUTINE_KE_ACQUIRE_GUARDED_MUTEX) != NULL &&
           WdkmpRoutine(WDKMP_ROUTINE_KE_RELEASE_GUARDED_MUTEX) != NULL &&
           WdkmpRoutine(WDKMP_ROUTINE_KE_TRY_TO_ACQUIRE_GUARDED_MUTEX) != NULL;
}

VOID
WdkmpGuardedMutexInitialize(
    _Out_ WDKMP_GUARDED_MUTEX *Mutex
    )
{
    WDKMP_GUARDED_MUTEX_ROUTINE *Initialize;

    WDKMP_ROUTINE_AS(WDKMP_GUARDED_MUTEX_ROUTINE, WDKMP_ROUTINE_KE_INITIALIZE_GUARDED_MUTEX,
                     Initialize);
    Initialize(Mutex);
}

VOID
WdkmpGuardedMutexAcquire(
    _Inout_ WDKMP_GUARDED_MUTEX *Mutex
    )
{
    WDKMP_GUARDED_MUTEX_ROUTINE *Acquire;

    WDKMP_RESOLVED_AS(WDKMP_GUARDED_MUTEX_ROUTINE, WDKMP_ROUTINE_KE_ACQUIRE_GUARDED_MUTEX, Acquire);
    Acquire(Mutex);
}

VOID
WdkmpGuardedMutexRelease(
    _Inout_ WDKMP_GUARDED_MUTEX *Mutex
    )
{
    WDKMP_GUARDED_MUTEX_ROUTINE *Release;

    WDKMP_RESOLVED_AS(WDKMP_GUARDED_MUTEX_ROUTINE, WDKMP_ROUTINE_KE_RELEASE_GUARDED_MUTEX, Release);
    Release(Mutex);
}

NTSTATUS
WdkmpGuardedMutexTryAcquire(
    _Inout_ WDKMP_GUARDED_MUTEX *Mutex
    )
{
    WDKMP_GUARDED_MUTEX_TRY *TryToAcquire;

    WDKMP_RESOLVED_AS(WDKMP_GUARDED_MUTEX_TRY, WDKMP_ROUTINE_KE_TRY_TO_ACQUIRE_GUARDED_MUTEX,
                      TryToAcquire);
    return TryToAcquire(Mutex) ? STATUS_SUCCESS : STATUS_TIMEOUT;
}

BOOLEAN
WdkmpPushLockSupported(
    VOID
    )
{
    /*
     * All four, as Windows exports them. Wine 8 exports the acquires only
     * as stubs that abort the driver host, and lacks the specific releases:
     * their absence is how such a kernel is told apart.
     */
    return WdkmpRoutine(WDKMP_ROUTINE_EXF_ACQUIRE_PUSH_LOCK_EXCLUSIVE) != NULL &&
           WdkmpRoutine(WDKMP_ROUTINE_EXF_ACQUIRE_PUSH_LOCK_SHARED) != NULL &&
           WdkmpRoutine(WDKMP_ROUTINE_EXF_RELEASE_PUSH_LOCK_EXCLUSIVE) != NULL &&
           WdkmpRoutine(WDKMP_ROUTINE_EXF_RELEASE_PUSH_LOCK_SHARED) != NULL;
}

VOID
WdkmpPushLockAcquire(
    _Inout_ WDKMP_PUSH_LOCK *PushLock,
    _In_ BOOLEAN Exclusive
    )
{
    WDKMP_PUSH_LOCK_ROUTINE *Acquire;

    WDKMP_RESOLVED_AS(WDKMP_PUSH_LOCK_ROUTINE,
                      Exclusive ? WDKMP_ROUTINE_EXF_ACQUIRE_PUSH_LOCK_EXCLUSIVE
                                : WDKMP_ROUTINE_EXF_ACQUIRE_PUSH_LOCK_SHARED,
                      Acquire);
    Acquire(PushLock);
}

VOID
WdkmpPushLockRelease(
    _Inout_ WDKMP_PUSH_LOCK *PushLock,
    _In_ BOOLEAN Exclusive
    )
{
    WDKMP_PUSH_LOCK_ROUTINE *Release;

    WDKMP_RESOLVED_AS(WDKMP_PUSH_LOCK_ROUTINE,
                      Exclusive ? WDKMP_ROUTINE_EXF_RELEASE_PUSH_LOCK_EXCLUSIVE
                                : WDKMP_ROUTINE_EXF_RELEASE_PUSH_LOCK_SHARED,
                      Release);
    Release(PushLock);
}

PVOID
WdkmpPoolAllocate(
    _In_ SIZE_T Bytes,
    _In_ ULONG Tag
    )
{
    WDKMP_EX_ALLOCATE_POOL2 *AllocatePool2;
    PVOID Block;

    WDKMP_ROUTINE_AS(WDKMP_EX_ALLOCATE_POOL2, WDKMP_ROUTINE_EX_ALLOCATE_POOL2, AllocatePool2);
    if (AllocatePool2 != NULL) {
        return AllocatePool2(WDKMP_POOL_FLAG_NON_PAGED, Bytes, Tag);
    }

    /*
     * ExAllocatePoolWithTag is deprecated from Windows 10 2004 on, but it
     * is the only allocator older kernels (and Wine) have. It does not
     * zero; ExAllocatePool2 does, and callers rely on that.
     */
#if defined(__clang__)
    /* clang (clang-cl included) ignores MSVC's warning pragmas. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
#elif defined(_MSC_VER)
#pragma warning(push)
#pragma warning(disable: 4996)
#endif
    Block = ExAllocatePoolWithTag(NonPagedPoolNx, Bytes, Tag);
#if defined(__clang__)
#pragma clang diagnostic pop
#elif defined(_MSC_VER)
#pragma warning(pop)
#endif
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
    return WdkmpRoutines.Address[WDKMP_ROUTINE_EX_ALLOCATE_POOL2] != NULL ? WDKMP_POOL_POOL2
                                                                          : WDKMP_POOL_WITH_TAG;
}
