/*
 * wdkm_port_wdk.h - the kernel port: thin inline wrappers over documented
 * NT kernel routines. Each wrapper states the kernel's own rule it relies
 * on; the library checks those rules before calling, so that no wrapper is
 * ever reached in a state where the kernel would bugcheck.
 */
#ifndef WDKM_PORT_WDK_H
#define WDKM_PORT_WDK_H

#include <ntddk.h>

#include "wdkmutex/wdkm_sal.h"

typedef KMUTEX WDKMP_KMUTEX;
typedef FAST_MUTEX WDKMP_FAST_MUTEX;

/* Identifies a thread while it lives; NULL is never a thread. */
typedef PVOID WDKMP_THREAD;

/* ------------------------------------------------------------------------
 * IRQL and threads
 */

FORCEINLINE
KIRQL
WdkmpGetIrql(
    VOID
    )
{
    return KeGetCurrentIrql();
}

FORCEINLINE
WDKMP_THREAD
WdkmpCurrentThread(
    VOID
    )
{
#if defined(__MINGW32__)
    /*
     * mingw-w64's KeGetCurrentThread reads gs:[0x188], which is the KPRCB
     * on Windows but not on Wine; the exported thread id works on both.
     */
    return (WDKMP_THREAD)PsGetCurrentThreadId();
#else
    return (WDKMP_THREAD)KeGetCurrentThread();
#endif
}

/* ------------------------------------------------------------------------
 * Atomics on owner fields: read by any thread, written by the owner.
 * Aligned pointer-sized accesses are atomic on every Windows target; the
 * builtins tell the compiler (and ThreadSanitizer) so.
 */

FORCEINLINE
WDKMP_THREAD
WdkmpLoadThread(
    _In_ WDKMP_THREAD const volatile *Location
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(Location, __ATOMIC_RELAXED);
#else
    return *Location;
#endif
}

FORCEINLINE
VOID
WdkmpStoreThread(
    _Out_ WDKMP_THREAD volatile *Location,
    _In_opt_ WDKMP_THREAD Thread
    )
{
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(Location, Thread, __ATOMIC_RELAXED);
#else
    *Location = Thread;
#endif
}

/*
 * Publication of pointers to lock-free readers: a writer fills an object
 * then stores its address with release semantics; a reader loads it with
 * acquire semantics and sees the filled object.
 */
FORCEINLINE
PVOID
WdkmpLoadPointerAcquire(
    _In_ PVOID const volatile *Location
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(Location, __ATOMIC_ACQUIRE);
#else
    return ReadPointerAcquire((PVOID volatile *)Location);
#endif
}

FORCEINLINE
VOID
WdkmpStorePointerRelease(
    _Out_ PVOID volatile *Location,
    _In_opt_ PVOID Value
    )
{
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(Location, Value, __ATOMIC_RELEASE);
#else
    WritePointerRelease(Location, Value);
#endif
}

FORCEINLINE
LONG
WdkmpLoadLong(
    _In_ LONG const volatile *Location
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(Location, __ATOMIC_RELAXED);
#else
    return *Location;
#endif
}

/* ------------------------------------------------------------------------
 * Spin lock (KSPIN_LOCK): raises to DISPATCH_LEVEL; callers are at
 * <= DISPATCH_LEVEL and hold it briefly. A zeroed KSPIN_LOCK is free.
 */

typedef KSPIN_LOCK WDKMP_SPIN_LOCK;

FORCEINLINE
KIRQL
WdkmpSpinLockAcquire(
    _Inout_ WDKMP_SPIN_LOCK *SpinLock
    )
{
    KIRQL OldIrql;

    KeAcquireSpinLock(SpinLock, &OldIrql);
    return OldIrql;
}

FORCEINLINE
VOID
WdkmpSpinLockRelease(
    _Inout_ WDKMP_SPIN_LOCK *SpinLock,
    _In_ KIRQL OldIrql
    )
{
    KeReleaseSpinLock(SpinLock, OldIrql);
}

/* ------------------------------------------------------------------------
 * Waiting without an object, at <= APC_LEVEL.
 */

FORCEINLINE
VOID
WdkmpSleepMs(
    _In_ ULONG Milliseconds
    )
{
    LARGE_INTEGER Interval;

    Interval.QuadPart = -(LONGLONG)Milliseconds * 10000;
    (VOID)KeDelayExecutionThread(KernelMode, FALSE, &Interval);
}

/* Debugger output, component DPFLTR_IHVDRIVER_ID. */
#define WDKMP_DEBUG_ERROR   DPFLTR_ERROR_LEVEL
#define WDKMP_DEBUG_WARNING DPFLTR_WARNING_LEVEL
#define WdkmpDebugPrint(Level, ...) DbgPrintEx(DPFLTR_IHVDRIVER_ID, (Level), __VA_ARGS__)

/* ------------------------------------------------------------------------
 * KMUTEX. Kernel rules: wait at <= APC_LEVEL, or at DISPATCH_LEVEL with a
 * zero timeout; release by the owner only, at <= DISPATCH_LEVEL.
 */

FORCEINLINE
VOID
WdkmpKMutexInitialize(
    _Out_ WDKMP_KMUTEX *Mutex
    )
{
    KeInitializeMutex(Mutex, 0);
}

/*
 * Returns STATUS_SUCCESS when the mutex is now held, or STATUS_TIMEOUT,
 * STATUS_ALERTED, STATUS_USER_APC when it is not.
 */
FORCEINLINE
NTSTATUS
WdkmpKMutexWait(
    _Inout_ WDKMP_KMUTEX *Mutex,
    _In_ KPROCESSOR_MODE WaitMode,
    _In_ BOOLEAN Alertable,
    _In_opt_ const LARGE_INTEGER *Timeout
    )
{
    LARGE_INTEGER Copy;
    NTSTATUS Status;

    if (Timeout != NULL) {
        Copy = *Timeout;    /* the kernel's prototype is not const */
    }
    Status = KeWaitForSingleObject(Mutex, Executive, WaitMode, Alertable,
                                   Timeout != NULL ? &Copy : NULL);
    /*
     * STATUS_ABANDONED cannot happen in kernel mode (a thread that exits
     * holding a KMUTEX bugchecks), but it would still mean "now held".
     */
    return Status == STATUS_ABANDONED ? STATUS_SUCCESS : Status;
}

FORCEINLINE
VOID
WdkmpKMutexRelease(
    _Inout_ WDKMP_KMUTEX *Mutex
    )
{
    (VOID)KeReleaseMutex(Mutex, FALSE);
}

/* ------------------------------------------------------------------------
 * FAST_MUTEX. Kernel rules: acquire at <= APC_LEVEL (raises to APC_LEVEL,
 * saves the old IRQL in the mutex); never by its owner; release by the
 * owner at APC_LEVEL.
 */

FORCEINLINE
VOID
WdkmpFastMutexInitialize(
    _Out_ WDKMP_FAST_MUTEX *FastMutex
    )
{
    ExInitializeFastMutex(FastMutex);
}

FORCEINLINE
VOID
WdkmpFastMutexAcquire(
    _Inout_ WDKMP_FAST_MUTEX *FastMutex
    )
{
    ExAcquireFastMutex(FastMutex);
}

FORCEINLINE
VOID
WdkmpFastMutexRelease(
    _Inout_ WDKMP_FAST_MUTEX *FastMutex
    )
{
    ExReleaseFastMutex(FastMutex);
}

/*
 * Returns STATUS_SUCCESS (held), STATUS_TIMEOUT (busy), or
 * STATUS_NOT_SUPPORTED where the kernel does not export
 * ExTryToAcquireFastMutex. Out of line: it goes through a resolved pointer.
 */
_IRQL_requires_max_(APC_LEVEL)
NTSTATUS
WdkmpFastMutexTryAcquire(
    _Inout_ WDKMP_FAST_MUTEX *FastMutex
    );

/* ------------------------------------------------------------------------
 * Pool (wdkm_port_wdk.c). Blocks are non-paged and zeroed.
 */

#define WDKMP_POOL_UNRESOLVED 0
#define WDKMP_POOL_POOL2      1
#define WDKMP_POOL_WITH_TAG   2

_IRQL_requires_max_(DISPATCH_LEVEL)
PVOID
WdkmpPoolAllocate(
    _In_ SIZE_T Bytes,
    _In_ ULONG Tag
    );

_IRQL_requires_max_(DISPATCH_LEVEL)
VOID
WdkmpPoolFree(
    _In_ PVOID Block,
    _In_ ULONG Tag
    );

/* Which allocator WdkmpPoolAllocate uses: a WDKMP_POOL_* value. */
LONG
WdkmpPoolAllocator(
    VOID
    );

/*
 * Forget the routines looked up so far, so that the next PASSIVE_LEVEL call
 * looks them up again. For host tests that change which routines the
 * emulated kernel exports; a driver never needs it.
 */
_IRQL_requires_(PASSIVE_LEVEL)
VOID
WdkmpForgetRoutines(
    VOID
    );

#endif /* WDKM_PORT_WDK_H */
