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

/*
 * The port's and the library's inline helpers: static on every compiler.
 * FORCEINLINE means something else in each DDK header set (MSVC
 * __forceinline; mingw-w64 extern gnu_inline; Wine a C99 inline definition
 * with external linkage, which may not call a static function such as
 * Wine's own static inline ExInitializeFastMutex). Marked unused so that a
 * helper a file does not call is no warning where the header is part of
 * the file itself (the single-file distribution).
 */
#if defined(__GNUC__) || defined(__clang__)
/* clang-cl too: its __forceinline does not silence -Wunused-function. */
#define WDKMP_INLINE static inline __attribute__((__always_inline__, __unused__))
#elif defined(_MSC_VER)
#define WDKMP_INLINE static __forceinline
#else
#define WDKMP_INLINE static inline
#endif

/*
 * WDKMP_RARELY(Condition) - Condition, which the caller expects to be
 * false almost always: the compiler lays the code it guards out of the
 * straight line (an error or slow path), so the common case runs without
 * a taken branch.
 */
#if defined(__GNUC__) || defined(__clang__)
#define WDKMP_RARELY(Condition) __builtin_expect(!!(Condition), 0)
#else
#define WDKMP_RARELY(Condition) (Condition)
#endif

/*
 * WDKMP_ALIGNED(N) - between struct or union and its tag: every object of
 * the type, and every array element, starts on an N-byte boundary. For
 * data written by one processor and read by others, kept off the lines
 * their neighbours write; a compiler without it only places them worse.
 */
#if defined(_MSC_VER)
#define WDKMP_ALIGNED(N) __declspec(align(N))
#elif defined(__GNUC__) || defined(__clang__)
#define WDKMP_ALIGNED(N) __attribute__((__aligned__(N)))
#else
#define WDKMP_ALIGNED(N)
#endif

/*
 * WDKMP_RETURN_ADDRESS() - in a function, the address its caller returns
 * to: names the driver code that called a public function in a bug
 * check's parameters. WDKMP_NOINLINE keeps such a function a function of
 * its own (the single-file distribution compiles the library into the
 * driver's own translation unit).
 */
#if defined(__GNUC__) || defined(__clang__)
#define WDKMP_RETURN_ADDRESS() __builtin_return_address(0)
#define WDKMP_NOINLINE __attribute__((__noinline__))
#elif defined(_MSC_VER)
#include <intrin.h>
#pragma intrinsic(_ReturnAddress)
#define WDKMP_RETURN_ADDRESS() _ReturnAddress()
#define WDKMP_NOINLINE __declspec(noinline)
#else
#define WDKMP_RETURN_ADDRESS() ((PVOID)0)
#define WDKMP_NOINLINE
#endif

typedef KMUTEX WDKMP_KMUTEX;
typedef FAST_MUTEX WDKMP_FAST_MUTEX;
typedef KGUARDED_MUTEX WDKMP_GUARDED_MUTEX;
typedef ERESOURCE WDKMP_RESOURCE;
typedef ULONG_PTR WDKMP_PUSH_LOCK;       /* EX_PUSH_LOCK: one pointer-sized word */
typedef KLOCK_QUEUE_HANDLE WDKMP_LOCK_QUEUE_HANDLE;

/* Identifies a thread while it lives; NULL is never a thread. */
typedef PVOID WDKMP_THREAD;

/* ------------------------------------------------------------------------
 * IRQL and threads
 */

WDKMP_INLINE
KIRQL
WdkmpGetIrql(
    VOID
    )
{
    return KeGetCurrentIrql();
}

WDKMP_INLINE
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

/*
 * Any IRQL. The index of the processor the caller runs on. Below
 * DISPATCH_LEVEL the thread may move before it uses the answer: callers
 * use it to choose where to count (two processors, two cache lines), never
 * as a fact that must still hold.
 */
WDKMP_INLINE
ULONG
WdkmpCurrentProcessor(
    VOID
    )
{
    return KeGetCurrentProcessorNumberEx(NULL);
}

/* ------------------------------------------------------------------------
 * Loads and stores of data shared between threads without a lock
 * (docs/memory-ordering.md lists every such variable and the ordering it
 * needs). The ordering is always named, never left to volatile: MSVC gives
 * volatile acquire/release semantics only on x86/x64 (/volatile:ms), not on
 * ARM64 (/volatile:iso). So:
 *   Relaxed  whole (untorn) access, no ordering: ReadNoFence / WriteNoFence
 *            and their pointer forms on the WDK, __ATOMIC_RELAXED elsewhere.
 *   Acquire  no later access moves before the load: ReadAcquire.
 *   Release  no earlier access moves after the store: WriteRelease.
 * gcc and clang (mingw-w64, clang-cl, the host) use the __atomic builtins,
 * which also tell ThreadSanitizer; MSVC uses the WDK's forms. Interlocked*
 * routines are full barriers on every target.
 */

/* Owner fields: read by any thread, written by the owner. Relaxed. */
WDKMP_INLINE
WDKMP_THREAD
WdkmpLoadThread(
    _In_ WDKMP_THREAD const volatile *Location
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(Location, __ATOMIC_RELAXED);
#else
    return ReadPointerNoFence((PVOID const volatile *)Location);
#endif
}

WDKMP_INLINE
VOID
WdkmpStoreThread(
    _Out_ WDKMP_THREAD volatile *Location,
    _In_opt_ WDKMP_THREAD Thread
    )
{
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(Location, Thread, __ATOMIC_RELAXED);
#else
    WritePointerNoFence((PVOID volatile *)Location, Thread);
#endif
}

/*
 * Publication of pointers to lock-free readers: a writer fills an object
 * then stores its address with release semantics; a reader loads it with
 * acquire semantics and sees the filled object.
 */
WDKMP_INLINE
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

WDKMP_INLINE
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

/*
 * A hint: start fetching the cache line of Address into the caches, for a
 * read soon (the kernel's PreFetchCacheLine, PF_TEMPORAL_LEVEL_1). Never
 * faults and reads nothing the program sees, so any address will do,
 * even one freed meanwhile; a compiler without it does nothing.
 */
WDKMP_INLINE
VOID
WdkmpPrefetch(
    _In_ const VOID *Address
    )
{
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(Address, 0, 3);
#elif defined(PreFetchCacheLine)
    PreFetchCacheLine(PF_TEMPORAL_LEVEL_1, Address);
    UNREFERENCED_PARAMETER(Address);    /* x86's PreFetchCacheLine is empty */
#else
    UNREFERENCED_PARAMETER(Address);
#endif
}

/* LONG flags and counts: relaxed, or acquire/release where a LONG publishes. */
WDKMP_INLINE
LONG
WdkmpLoadLong(
    _In_ LONG const volatile *Location
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(Location, __ATOMIC_RELAXED);
#else
    return ReadNoFence((LONG const volatile *)Location);
#endif
}

WDKMP_INLINE
VOID
WdkmpStoreLong(
    _Out_ LONG volatile *Location,
    _In_ LONG Value
    )
{
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(Location, Value, __ATOMIC_RELAXED);
#else
    WriteNoFence(Location, Value);
#endif
}

WDKMP_INLINE
LONG
WdkmpLoadLongAcquire(
    _In_ LONG const volatile *Location
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(Location, __ATOMIC_ACQUIRE);
#else
    return ReadAcquire((LONG const volatile *)Location);
#endif
}

WDKMP_INLINE
VOID
WdkmpStoreLongRelease(
    _Out_ LONG volatile *Location,
    _In_ LONG Value
    )
{
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(Location, Value, __ATOMIC_RELEASE);
#else
    WriteRelease(Location, Value);
#endif
}

/*
 * 64-bit figures read by any thread and written by one at a time: whole
 * loads and stores, so that a reader never sees half of an update, on
 * 32-bit x86 too. Relaxed.
 */
WDKMP_INLINE
LONG64
WdkmpLoadLong64(
    _In_ LONG64 const volatile *Location
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(Location, __ATOMIC_RELAXED);
#else
    return ReadNoFence64(Location);
#endif
}

/*
 * Acquire: what the last writer of the word did before its write (a
 * release, or any Interlocked operation, and the read-modify-writes after
 * it) happens before what follows the load.
 */
WDKMP_INLINE
LONG64
WdkmpLoadLong64Acquire(
    _In_ LONG64 const volatile *Location
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(Location, __ATOMIC_ACQUIRE);
#else
    return ReadAcquire64((LONG64 const volatile *)Location);
#endif
}

WDKMP_INLINE
VOID
WdkmpStoreLong64(
    _Out_ LONG64 volatile *Location,
    _In_ LONG64 Value
    )
{
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(Location, Value, __ATOMIC_RELAXED);
#else
    WriteNoFence64(Location, Value);
#endif
}

/* ------------------------------------------------------------------------
 * Spin lock (KSPIN_LOCK): raises to DISPATCH_LEVEL; callers are at
 * <= DISPATCH_LEVEL and hold it briefly. A zeroed KSPIN_LOCK is free.
 */

typedef KSPIN_LOCK WDKMP_SPIN_LOCK;

WDKMP_INLINE
KIRQL
WdkmpSpinLockAcquire(
    _Inout_ WDKMP_SPIN_LOCK *SpinLock
    )
{
    KIRQL OldIrql;

    KeAcquireSpinLock(SpinLock, &OldIrql);
    return OldIrql;
}

WDKMP_INLINE
VOID
WdkmpSpinLockRelease(
    _Inout_ WDKMP_SPIN_LOCK *SpinLock,
    _In_ KIRQL OldIrql
    )
{
    KeReleaseSpinLock(SpinLock, OldIrql);
}

/*
 * TRUE if some processor holds the spin lock at this instant (a held
 * KSPIN_LOCK is nonzero, plain or queued; so is Wine's). A racy peek, as
 * KeTestSpinLock is: the checked build counts contention with it.
 */
WDKMP_INLINE
BOOLEAN
WdkmpSpinLockBusy(
    _In_ const WDKMP_SPIN_LOCK *SpinLock
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(SpinLock, __ATOMIC_RELAXED) != 0;
#else
    return ReadPointerNoFence((PVOID const volatile *)SpinLock) != NULL;
#endif
}

/* At DISPATCH_LEVEL already (a DPC, or under another spin lock). */
WDKMP_INLINE
VOID
WdkmpSpinLockAcquireAtDpcLevel(
    _Inout_ WDKMP_SPIN_LOCK *SpinLock
    )
{
    KeAcquireSpinLockAtDpcLevel(SpinLock);
}

WDKMP_INLINE
VOID
WdkmpSpinLockReleaseFromDpcLevel(
    _Inout_ WDKMP_SPIN_LOCK *SpinLock
    )
{
    KeReleaseSpinLockFromDpcLevel(SpinLock);
}

/*
 * At DISPATCH_LEVEL: STATUS_SUCCESS, STATUS_TIMEOUT (busy), or
 * STATUS_NOT_SUPPORTED where KeTryToAcquireSpinLockAtDpcLevel is not
 * exported (Wine 8). Out of line: resolved at run time.
 */
NTSTATUS
WdkmpSpinLockTryAcquireAtDpcLevel(
    _Inout_ WDKMP_SPIN_LOCK *SpinLock
    );

/*
 * In-stack queued spin locks: FIFO, the handle lives with the caller. A
 * KSPIN_LOCK used this way must never be taken with KeAcquireSpinLock.
 */
WDKMP_INLINE
VOID
WdkmpQueuedSpinLockAcquire(
    _Inout_ WDKMP_SPIN_LOCK *SpinLock,
    _Out_ WDKMP_LOCK_QUEUE_HANDLE *Handle,
    _In_ BOOLEAN AtDpcLevel
    )
{
    if (AtDpcLevel) {
        KeAcquireInStackQueuedSpinLockAtDpcLevel(SpinLock, Handle);
    } else {
        KeAcquireInStackQueuedSpinLock(SpinLock, Handle);
    }
}

WDKMP_INLINE
VOID
WdkmpQueuedSpinLockRelease(
    _Inout_ WDKMP_LOCK_QUEUE_HANDLE *Handle,
    _In_ BOOLEAN AtDpcLevel
    )
{
    if (AtDpcLevel) {
        KeReleaseInStackQueuedSpinLockFromDpcLevel(Handle);
    } else {
        KeReleaseInStackQueuedSpinLock(Handle);
    }
}

/* Raising and lowering, for the spin-lock try from below DISPATCH_LEVEL. */
WDKMP_INLINE
KIRQL
WdkmpRaiseIrql(
    _In_ KIRQL NewIrql
    )
{
    KIRQL OldIrql;

    KeRaiseIrql(NewIrql, &OldIrql);
    return OldIrql;
}

WDKMP_INLINE
VOID
WdkmpLowerIrql(
    _In_ KIRQL NewIrql
    )
{
    KeLowerIrql(NewIrql);
}

/* ------------------------------------------------------------------------
 * Stopping the system, for the callback forms' detected misuse. Any IRQL.
 */

DECLSPEC_NORETURN
WDKMP_INLINE
VOID
WdkmpBugCheck(
    _In_ ULONG Code,
    _In_ ULONG_PTR Parameter1,
    _In_ ULONG_PTR Parameter2,
    _In_ ULONG_PTR Parameter3,
    _In_ ULONG_PTR Parameter4
    )
{
    KeBugCheckEx(Code, Parameter1, Parameter2, Parameter3, Parameter4);
}

/* ------------------------------------------------------------------------
 * Critical and guarded regions: <= APC_LEVEL, balanced per thread.
 */

WDKMP_INLINE
VOID
WdkmpEnterRegion(
    _In_ BOOLEAN Guarded
    )
{
    if (Guarded) {
        KeEnterGuardedRegion();
    } else {
        KeEnterCriticalRegion();
    }
}

WDKMP_INLINE
VOID
WdkmpLeaveRegion(
    _In_ BOOLEAN Guarded
    )
{
    if (Guarded) {
        KeLeaveGuardedRegion();
    } else {
        KeLeaveCriticalRegion();
    }
}

/* ------------------------------------------------------------------------
 * ERESOURCE. Kernel rules: acquire at <= APC_LEVEL inside a critical
 * region; recursive; a shared owner must not ask for exclusive; delete
 * before freeing, at < DISPATCH_LEVEL.
 */

WDKMP_INLINE
NTSTATUS
WdkmpResourceInitialize(
    _Out_ WDKMP_RESOURCE *Resource
    )
{
    return ExInitializeResourceLite(Resource);
}

WDKMP_INLINE
VOID
WdkmpResourceDelete(
    _Inout_ WDKMP_RESOURCE *Resource
    )
{
    (VOID)ExDeleteResourceLite(Resource);
}

WDKMP_INLINE
BOOLEAN
WdkmpResourceAcquire(
    _Inout_ WDKMP_RESOURCE *Resource,
    _In_ BOOLEAN Exclusive,
    _In_ BOOLEAN Wait
    )
{
    return Exclusive ? ExAcquireResourceExclusiveLite(Resource, Wait)
                     : ExAcquireResourceSharedLite(Resource, Wait);
}

WDKMP_INLINE
VOID
WdkmpResourceRelease(
    _Inout_ WDKMP_RESOURCE *Resource
    )
{
    ExReleaseResourceLite(Resource);
}

/* The caller's acquisitions of Resource: exclusive (TRUE) or any. */
WDKMP_INLINE
BOOLEAN
WdkmpResourceHeldExclusive(
    _In_ WDKMP_RESOURCE *Resource
    )
{
    return ExIsResourceAcquiredExclusiveLite(Resource);
}

WDKMP_INLINE
ULONG
WdkmpResourceHeldCount(
    _In_ WDKMP_RESOURCE *Resource
    )
{
    return ExIsResourceAcquiredSharedLite(Resource);
}

/* ------------------------------------------------------------------------
 * KGUARDED_MUTEX and push locks: exported by some kernels only, so every
 * routine goes through a resolved pointer (wdkm_port_wdk.c). Callers check
 * the Supported function (after a PASSIVE_LEVEL call resolved them) before
 * using the others.
 */

BOOLEAN WdkmpGuardedMutexSupported(VOID);
VOID WdkmpGuardedMutexInitialize(_Out_ WDKMP_GUARDED_MUTEX *Mutex);
VOID WdkmpGuardedMutexAcquire(_Inout_ WDKMP_GUARDED_MUTEX *Mutex);
VOID WdkmpGuardedMutexRelease(_Inout_ WDKMP_GUARDED_MUTEX *Mutex);
/* STATUS_SUCCESS or STATUS_TIMEOUT. */
NTSTATUS WdkmpGuardedMutexTryAcquire(_Inout_ WDKMP_GUARDED_MUTEX *Mutex);

/* Acquire in a critical region at <= APC_LEVEL; not recursive. */
BOOLEAN WdkmpPushLockSupported(VOID);
VOID WdkmpPushLockAcquire(_Inout_ WDKMP_PUSH_LOCK *PushLock, _In_ BOOLEAN Exclusive);
VOID WdkmpPushLockRelease(_Inout_ WDKMP_PUSH_LOCK *PushLock, _In_ BOOLEAN Exclusive);

/* Routines looked up at run time, by index (wdkm_port_wdk.c). */
#define WDKMP_ROUTINE_EX_ALLOCATE_POOL2                0
#define WDKMP_ROUTINE_EX_TRY_TO_ACQUIRE_FAST_MUTEX     1
#define WDKMP_ROUTINE_KE_TRY_TO_ACQUIRE_SPIN_LOCK      2
#define WDKMP_ROUTINE_KE_INITIALIZE_GUARDED_MUTEX      3
#define WDKMP_ROUTINE_KE_ACQUIRE_GUARDED_MUTEX         4
#define WDKMP_ROUTINE_KE_RELEASE_GUARDED_MUTEX         5
#define WDKMP_ROUTINE_KE_TRY_TO_ACQUIRE_GUARDED_MUTEX  6
#define WDKMP_ROUTINE_EXF_ACQUIRE_PUSH_LOCK_EXCLUSIVE  7
#define WDKMP_ROUTINE_EXF_ACQUIRE_PUSH_LOCK_SHARED     8
#define WDKMP_ROUTINE_EXF_RELEASE_PUSH_LOCK_EXCLUSIVE  9
#define WDKMP_ROUTINE_EXF_RELEASE_PUSH_LOCK_SHARED     10
#define WDKMP_ROUTINE_COUNT                            11

/* The routine's address, or NULL if missing or not yet looked up. */
PVOID
WdkmpRoutine(
    _In_ ULONG Index
    );

/*
 * Kernels whose IRQL cannot be raised. Wine reports PASSIVE_LEVEL
 * everywhere, in a DPC too, and KeRaiseIrql changes nothing; an exact
 * IRQL above PASSIVE_LEVEL (the AtDpcLevel forms' DISPATCH_LEVEL) is then
 * unknowable, not wrong. The lookup of the routines (the first create at
 * PASSIVE_LEVEL) also raises to DISPATCH_LEVEL once and reads the IRQL
 * back. WdkmpIrqlFixed: TRUE once that found the IRQL unchanged (FALSE
 * before the lookup, and on every real kernel). WdkmpIrqlFixedNews: TRUE
 * for exactly one caller after a lookup that found it so (say so once).
 * Any IRQL.
 */
BOOLEAN
WdkmpIrqlFixed(
    VOID
    );

BOOLEAN
WdkmpIrqlFixedNews(
    VOID
    );

/* ------------------------------------------------------------------------
 * IRPs, for the cancel-safe queue (wdkm_csq.c). A driver owns an IRP's
 * Tail.Overlay.ListEntry and DriverContext while it holds the IRP; the
 * cancel routine is set and cleared with one interlocked exchange, and
 * only the side that gets a non-NULL routine back from a clear may
 * complete the IRP (the other side is the cancel routine, called by
 * IoCancelIrp holding the cancel spin lock). A cancel routine is declared
 * `VOID NTAPI Routine(PDEVICE_OBJECT, PIRP)`: Wine's headers have no
 * DRIVER_CANCEL type, only PDRIVER_CANCEL.
 */

/*
 * Any IRQL. Sets (or clears, NULL) the cancel routine; the previous one.
 * IoSetCancelRoutine itself on MSVC; the same interlocked exchange written
 * out on GCC and Clang, where Wine's header passes a function pointer as
 * void * (rejected by -pedantic-errors) and where ThreadSanitizer must see
 * an atomic.
 */
WDKMP_INLINE
PDRIVER_CANCEL
WdkmpIrpSetCancelRoutine(
    _Inout_ PIRP Irp,
    _In_opt_ PDRIVER_CANCEL CancelRoutine
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_exchange_n(&Irp->CancelRoutine, CancelRoutine, __ATOMIC_SEQ_CST);
#else
    return IoSetCancelRoutine(Irp, CancelRoutine);
#endif
}

/* Any IRQL. TRUE if Irp has a cancel routine now (a racy peek). */
WDKMP_INLINE
BOOLEAN
WdkmpIrpHasCancelRoutine(
    _In_ PIRP Irp
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(&Irp->CancelRoutine, __ATOMIC_RELAXED) != NULL;
#else
    return ReadPointerNoFence((PVOID volatile *)&Irp->CancelRoutine) != NULL;
#endif
}

/*
 * Any IRQL. Irp->Cancel, read after a WdkmpIrpSetCancelRoutine by the same
 * thread: IoCancelIrp stores Cancel before it exchanges the routine away,
 * and both exchanges are full barriers, so a set routine followed by this
 * read cannot miss a cancellation that found no routine.
 */
WDKMP_INLINE
BOOLEAN
WdkmpIrpCancelled(
    _In_ PIRP Irp
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(&Irp->Cancel, __ATOMIC_RELAXED) != FALSE;
#else
    return *(volatile BOOLEAN *)&Irp->Cancel != FALSE;
#endif
}

/* Any IRQL. The dispatch routine must then return STATUS_PENDING. */
WDKMP_INLINE
VOID
WdkmpIrpMarkPending(
    _Inout_ PIRP Irp
    )
{
    IoMarkIrpPending(Irp);
}

/* The IRP's list link and its one context slot the queue uses. */
WDKMP_INLINE
PLIST_ENTRY
WdkmpIrpLink(
    _In_ PIRP Irp
    )
{
    return &Irp->Tail.Overlay.ListEntry;
}

WDKMP_INLINE
PIRP
WdkmpIrpFromLink(
    _In_ PLIST_ENTRY Link
    )
{
    return CONTAINING_RECORD(Link, IRP, Tail.Overlay.ListEntry);
}

WDKMP_INLINE
PVOID *
WdkmpIrpQueueSlot(
    _In_ PIRP Irp
    )
{
    return &Irp->Tail.Overlay.DriverContext[3];
}

/* In a cancel routine: release the cancel spin lock IoCancelIrp took. */
WDKMP_INLINE
VOID
WdkmpIrpReleaseCancelSpinLock(
    _In_ PIRP Irp
    )
{
    IoReleaseCancelSpinLock(Irp->CancelIrql);
}

/* ------------------------------------------------------------------------
 * Waiting without an object, at <= APC_LEVEL.
 */

WDKMP_INLINE
VOID
WdkmpSleepMs(
    _In_ ULONG Milliseconds
    )
{
    LARGE_INTEGER Interval;

    Interval.QuadPart = -(LONGLONG)Milliseconds * 10000;
    (VOID)KeDelayExecutionThread(KernelMode, FALSE, &Interval);
}

/* The system time (100 ns units since 1601), to turn an absolute timeout
   into an interval. Any IRQL. */
WDKMP_INLINE
LONGLONG
WdkmpSystemTime(
    VOID
    )
{
    LARGE_INTEGER Now;

    KeQuerySystemTime(&Now);
    return Now.QuadPart;
}

/* ------------------------------------------------------------------------
 * Synchronization event (KEVENT, SynchronizationEvent): a set releases one
 * waiter and the event resets itself, so a signalled event is a free lock
 * that any thread may hand on (unlike a KMUTEX, which Wine 8 does not hand
 * to a waiter while its releasing thread lives). Wait at <= APC_LEVEL; set
 * at <= DISPATCH_LEVEL.
 */

typedef KEVENT WDKMP_EVENT;

WDKMP_INLINE
VOID
WdkmpEventInitialize(
    _Out_ WDKMP_EVENT *Event,
    _In_ BOOLEAN Signaled
    )
{
    KeInitializeEvent(Event, SynchronizationEvent, Signaled);
}

/* STATUS_SUCCESS (it was set, and is reset again) or STATUS_TIMEOUT.
   Timeout as KeWaitForSingleObject's; NULL waits as long as it takes. */
WDKMP_INLINE
NTSTATUS
WdkmpEventWait(
    _Inout_ WDKMP_EVENT *Event,
    _In_opt_ const LARGE_INTEGER *Timeout
    )
{
    LARGE_INTEGER Copy;
    NTSTATUS Status;

    if (Timeout != NULL) {
        Copy = *Timeout;    /* the kernel's prototype is not const */
    }
    /* KernelMode and not alertable: only the set or the timeout ends it. */
    Status = KeWaitForSingleObject(Event, Executive, KernelMode, FALSE,
                                   Timeout != NULL ? &Copy : NULL);
    return Status == STATUS_SUCCESS ? STATUS_SUCCESS : STATUS_TIMEOUT;
}

WDKMP_INLINE
VOID
WdkmpEventSet(
    _Inout_ WDKMP_EVENT *Event
    )
{
    (VOID)KeSetEvent(Event, 0, FALSE);
}

/* Debugger output; the library chooses component and level (wdkm_debug.c). */
#define WDKMP_DEBUG_ERROR   DPFLTR_ERROR_LEVEL
#define WDKMP_DEBUG_WARNING DPFLTR_WARNING_LEVEL
#define WDKMP_DEBUG_TRACE   DPFLTR_TRACE_LEVEL
#define WdkmpDbgPrintEx(ComponentId, Level, ...) DbgPrintEx((ComponentId), (Level), __VA_ARGS__)

/*
 * The checked build's wait and hold times: the performance counter, at any
 * IRQL, in its own ticks (no conversion where the times are taken) ...
 */
WDKMP_INLINE
ULONG64
WdkmpTimestamp(
    VOID
    )
{
    return (ULONG64)KeQueryPerformanceCounter(NULL).QuadPart;
}

/*
 * ... and turned into nanoseconds where they are reported. The counter
 * runs at a few MHz to a few GHz, so neither product below overflows.
 */
WDKMP_INLINE
ULONG64
WdkmpTimestampToNs(
    _In_ ULONG64 Ticks
    )
{
    LARGE_INTEGER Frequency;
    ULONG64 Hertz;

    (VOID)KeQueryPerformanceCounter(&Frequency);
    Hertz = (ULONG64)Frequency.QuadPart;
    return (Ticks / Hertz) * 1000000000ULL + (Ticks % Hertz) * 1000000000ULL / Hertz;
}

/* ------------------------------------------------------------------------
 * KMUTEX. Kernel rules: wait at <= APC_LEVEL, or at DISPATCH_LEVEL with a
 * zero timeout; release by the owner only, at <= DISPATCH_LEVEL.
 */

WDKMP_INLINE
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
WDKMP_INLINE
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

/*
 * After a successful wait by the caller: TRUE if the caller held Mutex
 * already, so that the kernel granted it recursively. A KMUTEX's
 * SignalState is 1 when free and goes down by one with each acquisition
 * by its owner, as KeReadStateMutex reports (read here without importing
 * it: a stub in Wine 8). Only the owner changes it while it is held, so
 * the owner reads it exactly.
 */
WDKMP_INLINE
BOOLEAN
WdkmpKMutexHeldBefore(
    _In_ WDKMP_KMUTEX *Mutex
    )
{
    return WdkmpLoadLong(&Mutex->Header.SignalState) < 0;
}

/*
 * TRUE while some thread holds Mutex as the kernel counts it (SignalState
 * below 1), whatever the library recorded: also in the instants between
 * the kernel's grant and the library's record of the owner, and between
 * the library's release of its record and the kernel's. Exact for the
 * calling thread's own hold (and so for a DPC or APC on it); for another
 * thread's, a moment old.
 */
WDKMP_INLINE
BOOLEAN
WdkmpKMutexBusy(
    _In_ WDKMP_KMUTEX *Mutex
    )
{
    return WdkmpLoadLong(&Mutex->Header.SignalState) < 1;
}

/* A wait that does not wait: STATUS_SUCCESS or STATUS_TIMEOUT. */
WDKMP_INLINE
NTSTATUS
WdkmpKMutexTryWait(
    _Inout_ WDKMP_KMUTEX *Mutex
    )
{
    LARGE_INTEGER Zero;

    Zero.QuadPart = 0;
    return WdkmpKMutexWait(Mutex, KernelMode, FALSE, &Zero);
}

WDKMP_INLINE
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

WDKMP_INLINE
VOID
WdkmpFastMutexInitialize(
    _Out_ WDKMP_FAST_MUTEX *FastMutex
    )
{
    ExInitializeFastMutex(FastMutex);
}

WDKMP_INLINE
VOID
WdkmpFastMutexAcquire(
    _Inout_ WDKMP_FAST_MUTEX *FastMutex
    )
{
    ExAcquireFastMutex(FastMutex);
}

WDKMP_INLINE
VOID
WdkmpFastMutexRelease(
    _Inout_ WDKMP_FAST_MUTEX *FastMutex
    )
{
    ExReleaseFastMutex(FastMutex);
}

/*
 * TRUE while some thread holds a FAST_MUTEX or KGUARDED_MUTEX as its Count
 * word says (the same layout): NT keeps bit 0 set while it is free, with
 * the waiters counted above it; Wine 8 counts down from 1 (0 held,
 * negative with waiters). Held in the kernel's eyes also in the instants
 * around the library's record of the owner (see WdkmpKMutexBusy).
 */
WDKMP_INLINE
BOOLEAN
WdkmpMutexCountBusy(
    _In_ LONG volatile *Count
    )
{
    LONG Value = WdkmpLoadLong(Count);

    return (Value & 1) == 0 || Value < 0;
}

WDKMP_INLINE
BOOLEAN
WdkmpFastMutexBusy(
    _In_ WDKMP_FAST_MUTEX *FastMutex
    )
{
    return WdkmpMutexCountBusy((LONG volatile *)&FastMutex->Count);
}

WDKMP_INLINE
BOOLEAN
WdkmpGuardedMutexBusy(
    _In_ WDKMP_GUARDED_MUTEX *Mutex
    )
{
    return WdkmpMutexCountBusy((LONG volatile *)&Mutex->Count);
}

/* TRUE while a push lock is held, shared or exclusive: its word's bit 0. */
WDKMP_INLINE
BOOLEAN
WdkmpPushLockBusy(
    _In_ WDKMP_PUSH_LOCK *PushLock
    )
{
    return ((ULONG_PTR)WdkmpLoadPointerAcquire((PVOID const volatile *)PushLock) & 1) != 0;
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
