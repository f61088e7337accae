/*
 * wdkm_bench_kinds.c - the lock kinds the benchmarks measure, each next to
 * the raw kernel calls it wraps.
 *
 * Adding a kind: a block below with Create, Destroy, LibraryPairs and
 * RawPairs (copy the FAST_MUTEX one), and one line in WdkmBenchKinds.
 * Both loops do the same work per pair: acquire, WdkmBenchTouch the
 * protected value, release. The library loop checks the acquire's status (a caller
 * must, to get the data pointer) and ignores the release's, as the raw loop
 * ignores what the kernel returns.
 *
 * Kinds beyond KMUTEX and FAST_MUTEX are compiled only when wdkmutex.h
 * includes their header, so the benchmarks build at every stage of the
 * library.
 */
#include "wdkm_bench.h"

static const WDKM_BENCH_VALUE WdkmBenchZero = { 0 };

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

static VOID
WdkmBenchKMutexRawPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        (VOID)KeWaitForSingleObject(&Raw->Lock.KMutex, Executive, KernelMode, FALSE, NULL);
        WdkmBenchTouch(&Raw->Value, Thread);
        (VOID)KeReleaseMutex(&Raw->Lock.KMutex, FALSE);
    }
}

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

static VOID
WdkmBenchFastMutexRawPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        ExAcquireFastMutex(&Raw->Lock.FastMutex);
        WdkmBenchTouch(&Raw->Value, Thread);
        ExReleaseFastMutex(&Raw->Lock.FastMutex);
    }
}

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

static VOID
WdkmBenchSpinLockRawPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    KIRQL OldIrql;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        KeAcquireSpinLock(&Raw->Lock.SpinLock, &OldIrql);
        WdkmBenchTouch(&Raw->Value, Thread);
        KeReleaseSpinLock(&Raw->Lock.SpinLock, OldIrql);
    }
}

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

static VOID
WdkmBenchQueuedSpinLockRawPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    KLOCK_QUEUE_HANDLE Handle;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        KeAcquireInStackQueuedSpinLock(&Raw->Lock.SpinLock, &Handle);
        WdkmBenchTouch(&Raw->Value, Thread);
        KeReleaseInStackQueuedSpinLock(&Handle);
    }
}
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

static VOID
WdkmBenchGuardedMutexRawPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        WdkmBenchAcquireGuardedMutex(&Raw->Lock.GuardedMutex);
        WdkmBenchTouch(&Raw->Value, Thread);
        WdkmBenchReleaseGuardedMutex(&Raw->Lock.GuardedMutex);
    }
}
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

static VOID
WdkmBenchResourceRawPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        KeEnterCriticalRegion();
        (VOID)ExAcquireResourceExclusiveLite(&Raw->Lock.Resource, TRUE);
        WdkmBenchTouch(&Raw->Value, Thread);
        ExReleaseResourceLite(&Raw->Lock.Resource);
        KeLeaveCriticalRegion();
    }
}

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

static VOID
WdkmBenchPushLockRawPairs(
    _Inout_ PWDKM_BENCH_LOCKS Locks,
    _In_ ULONG Thread,
    _In_ ULONG64 Count
    )
{
    PWDKM_BENCH_RAW Raw = Locks->Raw;
    ULONG64 Index;

    for (Index = 0; Index < Count; Index += 1) {
        KeEnterCriticalRegion();
        WdkmBenchAcquirePushLock(&Raw->Lock.PushLock);
        WdkmBenchTouch(&Raw->Value, Thread);
        WdkmBenchReleasePushLock(&Raw->Lock.PushLock);
        KeLeaveCriticalRegion();
    }
}
#endif /* WDKM_RWLOCK_H */

/* ------------------------------------------------------------------------
 * The table. Name, the baseline's calls, then the kind's functions.
 */

#define WDKM_BENCH_KIND_ENTRY(Name, RawCalls, Prefix) \
    { Name, RawCalls, Prefix##Create, Prefix##Destroy, Prefix##LibraryPairs, Prefix##RawPairs }

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
