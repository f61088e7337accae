/*
 * wdkm_bench_kinds.c - the lock kinds the benchmarks measure, each next to
 * the raw kernel calls it wraps.
 *
 * Adding a kind: a block below with Create, Destroy, LibraryPairs and the
 * raw Loop with its WDKM_BENCH_RAW_SIDES (copy the FAST_MUTEX one), and one
 * line in WdkmBenchKinds. Every loop does the same work per pair: acquire,
 * WdkmBenchTouch the protected value, release. The library loop checks the
 * acquire's status (a caller must, to get the data pointer) and ignores the
 * release's, as the raw loop ignores what the kernel returns.
 *
 * Kinds beyond KMUTEX and FAST_MUTEX are compiled only when wdkmutex.h
 * includes their header, so the benchmarks build at every stage of the
 * library.
 */
#include "wdkm_bench.h"

static const WDKM_BENCH_VALUE WdkmBenchZero = { 0 };

/* ------------------------------------------------------------------------
 * The floor. Each kind's raw loop is written once, inline, with a constant
 * Floor argument: FALSE is the raw baseline (every floor check folds
 * away), TRUE the floor, the same loop with the checks the library makes
 * on every pair written inline around the kernel calls: before the
 * acquire the kind, the IRQL, the data size and that the caller is not
 * the owner; once held (for a KMUTEX, once the wait shows that the kernel
 * did not grant it recursively) the owner, the IRQL and the kind's own
 * record of the hold (a FAST_MUTEX's or spin lock's nesting and form, a
 * KMUTEX's depth; a queued spin lock's handle) recorded; before the
 * release the kind, the owner, the IRQL and those records checked (read
 * from memory: WDKM_BENCH_FLOOR) and, for the kinds that raise the IRQL,
 * that no nested hold is outstanding (one load of a global count; the
 * library's is per thread, WdkmpNestBlocksLowering, a look into the
 * caller's shard); the owner cleared. No call, no argument checks, no
 * status: the least any wrapper that keeps those promises can cost,
 * which is what the wrapper target is read against (bench/README.md).
 * KMUTEX and ERESOURCE need more than this (recursion, shared holders),
 * so for them it is lower than their real floor.
 */

/* The floor's count of nested holds: always 0 here, but read as the
   library reads its own. */
static LONG volatile WdkmBenchFloorNested;

/* The caller's identity as the port takes it (wdkm_port_wdk.h). */
WDKM_BENCH_INLINE
PVOID
WdkmBenchFloorThread(
    VOID
    )
{
#if defined(__MINGW32__)
    return (PVOID)PsGetCurrentThreadId();
#else
    return (PVOID)KeGetCurrentThread();
#endif
}

WDKM_BENCH_INLINE
BOOLEAN
WdkmBenchFloorBeforeAcquire(
    _In_ BOOLEAN Floor,
    _In_ const WDKM_BENCH_RAW *Raw,
    _In_ KIRQL MaxIrql
    )
{
    return !Floor || (Raw->Floor.Signature == WDKM_BENCH_FLOOR_SIGNATURE &&
                      KeGetCurrentIrql() <= MaxIrql && Raw->Floor.DataSize == sizeof(Raw->Value) &&
                      Raw->Floor.Owner != WdkmBenchFloorThread());
}

WDKM_BENCH_INLINE
VOID
WdkmBenchFloorAcquired(
    _In_ BOOLEAN Floor,
    _Inout_ PWDKM_BENCH_RAW Raw
    )
{
    if (Floor) {
        Raw->Floor.Owner = WdkmBenchFloorThread();
        Raw->Floor.HeldIrql = KeGetCurrentIrql();
        Raw->Floor.Record = 0;
    }
}

WDKM_BENCH_INLINE
BOOLEAN
WdkmBenchFloorBeforeRelease(
    _In_ BOOLEAN Floor,
    _Inout_ PWDKM_BENCH_RAW Raw,
    _In_ BOOLEAN Raises
    )
{
    if (!Floor) {
        return TRUE;
    }
    if (Raw->Floor.Signature != WDKM_BENCH_FLOOR_SIGNATURE ||
        Raw->Floor.Owner != WdkmBenchFloorThread() || KeGetCurrentIrql() != Raw->Floor.HeldIrql ||
        Raw->Floor.Record != 0 ||
        (Raises && WdkmBenchFloorNested != 0)) {
        return FALSE;
    }
    Raw->Floor.Owner = NULL;
    return TRUE;
}

/* The two sides of a kind's raw Loop: RawPairs and FloorPairs. */
#define WDKM_BENCH_RAW_SIDES(Prefix)                                                  \
    static VOID                                                                       \
    Prefix##RawPairs(                                                                 \
        _Inout_ PWDKM_BENCH_LOCKS Locks,                                              \
        _In_ ULONG Thread,                                                            \
        _In_ ULONG64 Count                                                            \
        )                                                                             \
    {                                                                                 \
        (VOID)Prefix##Loop(Locks, Thread, Count, FALSE);                              \
    }                                                                                 \
                                                                                      \
    static NTSTATUS                                                                   \
    Prefix##FloorPairs(                                                               \
        _Inout_ PWDKM_BENCH_LOCKS Locks,                                              \
        _In_ ULONG Thread,                                                            \
        _In_ ULONG64 Count                                                            \
        )                                                                             \
    {                                                                                 \
        return Prefix##Loop(Locks, Thread, Count, TRUE);                              \
    }

/* ------------------------------------------------------------------------
 * KMUTEX: KeWaitForSingleObject + KeReleaseMutex.
 */

static NTSTATUS
WdkmBenchKMutexCreate(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    KeInitializeMutex(&Locks->Raw->Lock.KMutex, 0);
    return WDKM_KMUTEX_CREATE(&WdkmBenchZero, (PWDKM_KMUTEX *)&Locks->Library);
}

static VOID
WdkmBenchKMutexDestroy(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    (VOID)WdkmKMutexDestroy((PWDKM_KMUTEX)Locks->Library);
}

static NTSTATUS
WdkmBenchKMutexLibraryPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _Out_ WDKM_BENCH_VALUE **Seen
    )
{
    PWDKM_KMUTEX Lock = (PWDKM_KMUTEX)Locks->Library;
    WDKM_BENCH_VALUE *Value = NULL;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (WDKM_KMUTEX_ACQUIRE(Lock, &Value) != STATUS_SUCCESS) {
            return STATUS_UNSUCCESSFUL;
        }
        WdkmBenchTouch(Value, Thread);
        (VOID)WdkmKMutexRelease(Lock);
    }
    *Seen = Value;
    return STATUS_SUCCESS;
}

/* The raw loop, and with Floor TRUE the floor (see WdkmBenchFloorBeforeAcquire). */
WDKM_BENCH_INLINE
NTSTATUS
WdkmBenchKMutexLoop(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _In_ BOOLEAN Floor
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (!WdkmBenchFloorBeforeAcquire(Floor, Raw, APC_LEVEL)) {
            return STATUS_UNSUCCESSFUL;
        }
        (VOID)KeWaitForSingleObject(&Raw->Lock.KMutex, Executive, KernelMode, FALSE, NULL);
        if (Floor && *(LONG volatile *)&Raw->Lock.KMutex.Header.SignalState < 0) {
            /* The library's check that the kernel did not grant it
               recursively (a DPC at the edge of its own thread's hold). */
            (VOID)KeReleaseMutex(&Raw->Lock.KMutex, FALSE);
            return STATUS_UNSUCCESSFUL;
        }
        WdkmBenchFloorAcquired(Floor, Raw);
        WdkmBenchTouch(&Raw->Value, Thread);
        if (!WdkmBenchFloorBeforeRelease(Floor, Raw, FALSE)) {
            return STATUS_UNSUCCESSFUL;     /* still held: the run fails */
        }
        (VOID)KeReleaseMutex(&Raw->Lock.KMutex, FALSE);
    }
    return STATUS_SUCCESS;
}

WDKM_BENCH_RAW_SIDES(WdkmBenchKMutex)

/* ------------------------------------------------------------------------
 * FAST_MUTEX: ExAcquireFastMutex + ExReleaseFastMutex.
 */

static NTSTATUS
WdkmBenchFastMutexCreate(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    ExInitializeFastMutex(&Locks->Raw->Lock.FastMutex);
    return WDKM_FAST_MUTEX_CREATE(&WdkmBenchZero, (PWDKM_FAST_MUTEX *)&Locks->Library);
}

static VOID
WdkmBenchFastMutexDestroy(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    (VOID)WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)Locks->Library);
}

static NTSTATUS
WdkmBenchFastMutexLibraryPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _Out_ WDKM_BENCH_VALUE **Seen
    )
{
    PWDKM_FAST_MUTEX Lock = (PWDKM_FAST_MUTEX)Locks->Library;
    WDKM_BENCH_VALUE *Value = NULL;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (WDKM_FAST_MUTEX_ACQUIRE(Lock, &Value) != STATUS_SUCCESS) {
            return STATUS_UNSUCCESSFUL;
        }
        WdkmBenchTouch(Value, Thread);
        (VOID)WdkmFastMutexRelease(Lock);
    }
    *Seen = Value;
    return STATUS_SUCCESS;
}

/* The raw loop, and with Floor TRUE the floor (see WdkmBenchFloorBeforeAcquire). */
WDKM_BENCH_INLINE
NTSTATUS
WdkmBenchFastMutexLoop(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _In_ BOOLEAN Floor
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (!WdkmBenchFloorBeforeAcquire(Floor, Raw, APC_LEVEL)) {
            return STATUS_UNSUCCESSFUL;
        }
        ExAcquireFastMutex(&Raw->Lock.FastMutex);
        WdkmBenchFloorAcquired(Floor, Raw);
        WdkmBenchTouch(&Raw->Value, Thread);
        if (!WdkmBenchFloorBeforeRelease(Floor, Raw, TRUE)) {
            return STATUS_UNSUCCESSFUL;     /* still held: the run fails */
        }
        ExReleaseFastMutex(&Raw->Lock.FastMutex);
    }
    return STATUS_SUCCESS;
}

WDKM_BENCH_RAW_SIDES(WdkmBenchFastMutex)

#ifdef WDKM_SPINLOCK_H
/* ------------------------------------------------------------------------
 * Spin lock: KeAcquireSpinLock + KeReleaseSpinLock.
 */

static NTSTATUS
WdkmBenchSpinLockCreate(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    KeInitializeSpinLock(&Locks->Raw->Lock.SpinLock);
    return WDKM_SPIN_LOCK_CREATE(&WdkmBenchZero, (PWDKM_SPIN_LOCK *)&Locks->Library);
}

static VOID
WdkmBenchSpinLockDestroy(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    (VOID)WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Locks->Library);
}

static NTSTATUS
WdkmBenchSpinLockLibraryPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _Out_ WDKM_BENCH_VALUE **Seen
    )
{
    PWDKM_SPIN_LOCK Lock = (PWDKM_SPIN_LOCK)Locks->Library;
    WDKM_BENCH_VALUE *Value = NULL;
    KIRQL OldIrql;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Value) != STATUS_SUCCESS) {
            return STATUS_UNSUCCESSFUL;
        }
        WdkmBenchTouch(Value, Thread);
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    }
    *Seen = Value;
    return STATUS_SUCCESS;
}

/* The raw loop, and with Floor TRUE the floor (see WdkmBenchFloorBeforeAcquire). */
WDKM_BENCH_INLINE
NTSTATUS
WdkmBenchSpinLockLoop(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _In_ BOOLEAN Floor
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    KIRQL OldIrql;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (!WdkmBenchFloorBeforeAcquire(Floor, Raw, DISPATCH_LEVEL)) {
            return STATUS_UNSUCCESSFUL;
        }
        KeAcquireSpinLock(&Raw->Lock.SpinLock, &OldIrql);
        WdkmBenchFloorAcquired(Floor, Raw);
        WdkmBenchTouch(&Raw->Value, Thread);
        if (!WdkmBenchFloorBeforeRelease(Floor, Raw, TRUE)) {
            return STATUS_UNSUCCESSFUL;     /* still held: the run fails */
        }
        KeReleaseSpinLock(&Raw->Lock.SpinLock, OldIrql);
    }
    return STATUS_SUCCESS;
}

WDKM_BENCH_RAW_SIDES(WdkmBenchSpinLock)

/* ------------------------------------------------------------------------
 * In-stack queued spin lock: KeAcquireInStackQueuedSpinLock + release.
 */

static NTSTATUS
WdkmBenchQueuedSpinLockCreate(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    KeInitializeSpinLock(&Locks->Raw->Lock.SpinLock);
    return WDKM_QUEUED_SPIN_LOCK_CREATE(&WdkmBenchZero, (PWDKM_QUEUED_SPIN_LOCK *)&Locks->Library);
}

static VOID
WdkmBenchQueuedSpinLockDestroy(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    (VOID)WdkmQueuedSpinLockDestroy((PWDKM_QUEUED_SPIN_LOCK)Locks->Library);
}

static NTSTATUS
WdkmBenchQueuedSpinLockLibraryPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _Out_ WDKM_BENCH_VALUE **Seen
    )
{
    PWDKM_QUEUED_SPIN_LOCK Lock = (PWDKM_QUEUED_SPIN_LOCK)Locks->Library;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_BENCH_VALUE *Value = NULL;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Value) != STATUS_SUCCESS) {
            return STATUS_UNSUCCESSFUL;
        }
        WdkmBenchTouch(Value, Thread);
        (VOID)WdkmQueuedSpinLockRelease(&Handle);
    }
    *Seen = Value;
    return STATUS_SUCCESS;
}

/* The raw loop, and with Floor TRUE the floor (see WdkmBenchFloorBeforeAcquire). */
WDKM_BENCH_INLINE
NTSTATUS
WdkmBenchQueuedSpinLockLoop(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _In_ BOOLEAN Floor
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    KLOCK_QUEUE_HANDLE Handle;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (!WdkmBenchFloorBeforeAcquire(Floor, Raw, DISPATCH_LEVEL)) {
            return STATUS_UNSUCCESSFUL;
        }
        KeAcquireInStackQueuedSpinLock(&Raw->Lock.SpinLock, &Handle);
        WdkmBenchFloorAcquired(Floor, Raw);
        if (Floor) {
            Raw->Floor.HeldBy = &Handle;
        }
        WdkmBenchTouch(&Raw->Value, Thread);
        /* A copy of the handle is refused: the hold's own handle checked. */
        if (Floor && Raw->Floor.HeldBy != &Handle) {
            return STATUS_UNSUCCESSFUL;
        }
        if (!WdkmBenchFloorBeforeRelease(Floor, Raw, TRUE)) {
            return STATUS_UNSUCCESSFUL;     /* still held: the run fails */
        }
        KeReleaseInStackQueuedSpinLock(&Handle);
    }
    return STATUS_SUCCESS;
}

WDKM_BENCH_RAW_SIDES(WdkmBenchQueuedSpinLock)
#endif /* WDKM_SPINLOCK_H */

#if defined(WDKM_GUARDEDMUTEX_H) || defined(WDKM_RWLOCK_H)
/*
 * Guarded mutexes and push locks are not exported by every kernel (Wine 8),
 * so the raw side calls them through addresses looked up once, as a driver
 * that must load everywhere does (and as an import is called on x64: an
 * indirect call). ISO C has no cast from an object to a function pointer:
 * the address is copied bit for bit.
 */
typedef VOID (FASTCALL WDKM_BENCH_LOCK_ROUTINE)(PVOID Lock);

static WDKM_BENCH_LOCK_ROUTINE *
WdkmBenchRoutine(
    _In_ PCWSTR Name
    )
{
    WDKM_BENCH_LOCK_ROUTINE *Routine;
    UNICODE_STRING String;
    PVOID Address;

    RtlInitUnicodeString(&String, Name);
    Address = MmGetSystemRoutineAddress(&String);
    RtlCopyMemory(&Routine, &Address, sizeof(Routine));
    return Routine;
}
#endif

#ifdef WDKM_GUARDEDMUTEX_H
/* ------------------------------------------------------------------------
 * KGUARDED_MUTEX: KeAcquireGuardedMutex + KeReleaseGuardedMutex.
 */

static WDKM_BENCH_LOCK_ROUTINE *WdkmBenchAcquireGuardedMutex;
static WDKM_BENCH_LOCK_ROUTINE *WdkmBenchReleaseGuardedMutex;

static NTSTATUS
WdkmBenchGuardedMutexCreate(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    WDKM_BENCH_LOCK_ROUTINE *Initialize;
    NTSTATUS Status;

    /* The library says first whether this kernel has them. */
    Status = WDKM_GUARDED_MUTEX_CREATE(&WdkmBenchZero, (PWDKM_GUARDED_MUTEX *)&Locks->Library);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Initialize = WdkmBenchRoutine(L"KeInitializeGuardedMutex");
    WdkmBenchAcquireGuardedMutex = WdkmBenchRoutine(L"KeAcquireGuardedMutex");
    WdkmBenchReleaseGuardedMutex = WdkmBenchRoutine(L"KeReleaseGuardedMutex");
    if (Initialize == NULL || WdkmBenchAcquireGuardedMutex == NULL ||
        WdkmBenchReleaseGuardedMutex == NULL) {
        (VOID)WdkmGuardedMutexDestroy((PWDKM_GUARDED_MUTEX)Locks->Library);
        return STATUS_NOT_SUPPORTED;
    }
    Initialize(&Locks->Raw->Lock.GuardedMutex);
    return STATUS_SUCCESS;
}

static VOID
WdkmBenchGuardedMutexDestroy(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    (VOID)WdkmGuardedMutexDestroy((PWDKM_GUARDED_MUTEX)Locks->Library);
}

static NTSTATUS
WdkmBenchGuardedMutexLibraryPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _Out_ WDKM_BENCH_VALUE **Seen
    )
{
    PWDKM_GUARDED_MUTEX Lock = (PWDKM_GUARDED_MUTEX)Locks->Library;
    WDKM_BENCH_VALUE *Value = NULL;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (WDKM_GUARDED_MUTEX_ACQUIRE(Lock, &Value) != STATUS_SUCCESS) {
            return STATUS_UNSUCCESSFUL;
        }
        WdkmBenchTouch(Value, Thread);
        (VOID)WdkmGuardedMutexRelease(Lock);
    }
    *Seen = Value;
    return STATUS_SUCCESS;
}

/* The raw loop, and with Floor TRUE the floor (see WdkmBenchFloorBeforeAcquire). */
WDKM_BENCH_INLINE
NTSTATUS
WdkmBenchGuardedMutexLoop(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _In_ BOOLEAN Floor
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (!WdkmBenchFloorBeforeAcquire(Floor, Raw, APC_LEVEL)) {
            return STATUS_UNSUCCESSFUL;
        }
        WdkmBenchAcquireGuardedMutex(&Raw->Lock.GuardedMutex);
        WdkmBenchFloorAcquired(Floor, Raw);
        WdkmBenchTouch(&Raw->Value, Thread);
        if (!WdkmBenchFloorBeforeRelease(Floor, Raw, FALSE)) {
            return STATUS_UNSUCCESSFUL;     /* still held: the run fails */
        }
        WdkmBenchReleaseGuardedMutex(&Raw->Lock.GuardedMutex);
    }
    return STATUS_SUCCESS;
}

WDKM_BENCH_RAW_SIDES(WdkmBenchGuardedMutex)
#endif /* WDKM_GUARDEDMUTEX_H */

#ifdef WDKM_RWLOCK_H
/* ------------------------------------------------------------------------
 * ERESOURCE, exclusive: KeEnterCriticalRegion + ExAcquireResourceExclusiveLite,
 * ExReleaseResourceLite + KeLeaveCriticalRegion.
 */

static NTSTATUS
WdkmBenchResourceCreate(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    NTSTATUS Status = WDKM_RESOURCE_CREATE(&WdkmBenchZero, (PWDKM_RESOURCE *)&Locks->Library);

    if (Status == STATUS_SUCCESS) {
        Status = ExInitializeResourceLite(&Locks->Raw->Lock.Resource);
        if (!NT_SUCCESS(Status)) {
            (VOID)WdkmResourceDestroy((PWDKM_RESOURCE)Locks->Library);
        }
    }
    return Status;
}

static VOID
WdkmBenchResourceDestroy(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    (VOID)ExDeleteResourceLite(&Locks->Raw->Lock.Resource);
    (VOID)WdkmResourceDestroy((PWDKM_RESOURCE)Locks->Library);
}

static NTSTATUS
WdkmBenchResourceLibraryPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _Out_ WDKM_BENCH_VALUE **Seen
    )
{
    PWDKM_RESOURCE Lock = (PWDKM_RESOURCE)Locks->Library;
    WDKM_BENCH_VALUE *Value = NULL;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Lock, &Value) != STATUS_SUCCESS) {
            return STATUS_UNSUCCESSFUL;
        }
        WdkmBenchTouch(Value, Thread);
        (VOID)WdkmResourceRelease(Lock);
    }
    *Seen = Value;
    return STATUS_SUCCESS;
}

/* The raw loop, and with Floor TRUE the floor (see WdkmBenchFloorBeforeAcquire). */
WDKM_BENCH_INLINE
NTSTATUS
WdkmBenchResourceLoop(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _In_ BOOLEAN Floor
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (!WdkmBenchFloorBeforeAcquire(Floor, Raw, APC_LEVEL)) {
            return STATUS_UNSUCCESSFUL;
        }
        KeEnterCriticalRegion();
        (VOID)ExAcquireResourceExclusiveLite(&Raw->Lock.Resource, TRUE);
        WdkmBenchFloorAcquired(Floor, Raw);
        WdkmBenchTouch(&Raw->Value, Thread);
        if (!WdkmBenchFloorBeforeRelease(Floor, Raw, FALSE)) {
            return STATUS_UNSUCCESSFUL;     /* still held: the run fails */
        }
        ExReleaseResourceLite(&Raw->Lock.Resource);
        KeLeaveCriticalRegion();
    }
    return STATUS_SUCCESS;
}

WDKM_BENCH_RAW_SIDES(WdkmBenchResource)

/* ------------------------------------------------------------------------
 * Push lock, exclusive: KeEnterCriticalRegion + ExfAcquirePushLockExclusive,
 * ExfReleasePushLockExclusive + KeLeaveCriticalRegion.
 */

static WDKM_BENCH_LOCK_ROUTINE *WdkmBenchAcquirePushLock;
static WDKM_BENCH_LOCK_ROUTINE *WdkmBenchReleasePushLock;

static NTSTATUS
WdkmBenchPushLockCreate(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    /* The library first: Wine 8's push-lock exports are aborting stubs,
       which it refuses (STATUS_NOT_SUPPORTED) without calling them. */
    NTSTATUS Status = WDKM_PUSH_LOCK_CREATE(&WdkmBenchZero, (PWDKM_PUSH_LOCK *)&Locks->Library);

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    WdkmBenchAcquirePushLock = WdkmBenchRoutine(L"ExfAcquirePushLockExclusive");
    WdkmBenchReleasePushLock = WdkmBenchRoutine(L"ExfReleasePushLockExclusive");
    if (WdkmBenchAcquirePushLock == NULL || WdkmBenchReleasePushLock == NULL) {
        (VOID)WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Locks->Library);
        return STATUS_NOT_SUPPORTED;
    }
    Locks->Raw->Lock.PushLock = 0;          /* ExInitializePushLock */
    return STATUS_SUCCESS;
}

static VOID
WdkmBenchPushLockDestroy(
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    (VOID)WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Locks->Library);
}

static NTSTATUS
WdkmBenchPushLockLibraryPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _Out_ WDKM_BENCH_VALUE **Seen
    )
{
    PWDKM_PUSH_LOCK Lock = (PWDKM_PUSH_LOCK)Locks->Library;
    WDKM_BENCH_VALUE *Value = NULL;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(Lock, &Value) != STATUS_SUCCESS) {
            return STATUS_UNSUCCESSFUL;
        }
        WdkmBenchTouch(Value, Thread);
        (VOID)WdkmPushLockRelease(Lock);
    }
    *Seen = Value;
    return STATUS_SUCCESS;
}

/* The raw loop, and with Floor TRUE the floor (see WdkmBenchFloorBeforeAcquire). */
WDKM_BENCH_INLINE
NTSTATUS
WdkmBenchPushLockLoop(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count,
    _In_ BOOLEAN Floor
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        if (!WdkmBenchFloorBeforeAcquire(Floor, Raw, APC_LEVEL)) {
            return STATUS_UNSUCCESSFUL;
        }
        KeEnterCriticalRegion();
        WdkmBenchAcquirePushLock(&Raw->Lock.PushLock);
        WdkmBenchFloorAcquired(Floor, Raw);
        WdkmBenchTouch(&Raw->Value, Thread);
        if (!WdkmBenchFloorBeforeRelease(Floor, Raw, FALSE)) {
            return STATUS_UNSUCCESSFUL;     /* still held: the run fails */
        }
        WdkmBenchReleasePushLock(&Raw->Lock.PushLock);
        KeLeaveCriticalRegion();
    }
    return STATUS_SUCCESS;
}

WDKM_BENCH_RAW_SIDES(WdkmBenchPushLock)
#endif /* WDKM_RWLOCK_H */

/* ------------------------------------------------------------------------
 * The table. Name, the baseline's calls, then the kind's functions.
 */

#define WDKM_BENCH_KIND_ENTRY(Name, RawCalls, Prefix) \
    { Name, RawCalls, Prefix##Create, Prefix##Destroy, Prefix##LibraryPairs, Prefix##RawPairs, \
      Prefix##FloorPairs }

const WDKM_BENCH_KIND WdkmBenchKinds[] = {
    WDKM_BENCH_KIND_ENTRY("kmutex", "KeWaitForSingleObject + KeReleaseMutex",
                          WdkmBenchKMutex),
    WDKM_BENCH_KIND_ENTRY("fast_mutex", "ExAcquireFastMutex + ExReleaseFastMutex",
                          WdkmBenchFastMutex),
#ifdef WDKM_SPINLOCK_H
    WDKM_BENCH_KIND_ENTRY("spin_lock", "KeAcquireSpinLock + KeReleaseSpinLock",
                          WdkmBenchSpinLock),
    WDKM_BENCH_KIND_ENTRY("queued_spin_lock",
                          "KeAcquireInStackQueuedSpinLock + KeReleaseInStackQueuedSpinLock",
                          WdkmBenchQueuedSpinLock),
#endif
#ifdef WDKM_GUARDEDMUTEX_H
    WDKM_BENCH_KIND_ENTRY("guarded_mutex", "KeAcquireGuardedMutex + KeReleaseGuardedMutex",
                          WdkmBenchGuardedMutex),
#endif
#ifdef WDKM_RWLOCK_H
    WDKM_BENCH_KIND_ENTRY("resource",
                          "KeEnterCriticalRegion + ExAcquireResourceExclusiveLite + "
                          "ExReleaseResourceLite + KeLeaveCriticalRegion",
                          WdkmBenchResource),
    WDKM_BENCH_KIND_ENTRY("push_lock",
                          "KeEnterCriticalRegion + ExfAcquirePushLockExclusive + "
                          "ExfReleasePushLockExclusive + KeLeaveCriticalRegion",
                          WdkmBenchPushLock),
#endif
};

const ULONG WdkmBenchKindCount = sizeof(WdkmBenchKinds) / sizeof(WdkmBenchKinds[0]);
