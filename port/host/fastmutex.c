/*
 * fastmutex.c - FAST_MUTEX and KGUARDED_MUTEX.
 *
 * Both use the lock word of Windows 8 and later: bit 0 set means free,
 * bit 1 means a waiter was woken and has not retried yet, and the bits
 * above count the waiters. The uncontended paths are interlocked operations
 * only. A release wakes at most one waiter at a time through the embedded
 * synchronization event, and the woken waiter competes again (a running
 * thread may take the lock first), so there is no lock convoy.
 * Recursion would deadlock in NT; the emulation reports it as Driver
 * Verifier does, with a bug check.
 */
#define _POSIX_C_SOURCE 200809L

#include "hostp.h"

#define HOSTP_LOCK_FREE    0x1
#define HOSTP_LOCK_WOKEN   0x2
#define HOSTP_LOCK_WAITER  0x4

/* Shared by both mutex kinds: the lock word and the gate. The callers
   record the owner (after acquiring, before releasing). */
typedef struct _HOSTP_EXCLUSIVE {
    LONG volatile *Count;
    ULONG *Contention;
    PKEVENT Gate;
} HOSTP_EXCLUSIVE;

static BOOLEAN HostpExchangeCount(const HOSTP_EXCLUSIVE *Lock, LONG *Old, LONG New)
{
    return (BOOLEAN)__atomic_compare_exchange_n(Lock->Count, Old, New, 0, __ATOMIC_SEQ_CST,
                                                __ATOMIC_RELAXED);
}

static VOID HostpAcquireExclusive(const HOSTP_EXCLUSIVE *Lock)
{
    LONG Old;
    LONG Woken = 0;     /* HOSTP_LOCK_WOKEN once this thread was woken: it clears it */

    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */
    Old = ReadNoFence(Lock->Count);

    for (;;) {
        if ((Old & HOSTP_LOCK_FREE) != 0) {
            if (HostpExchangeCount(Lock, &Old, (Old & ~HOSTP_LOCK_FREE) & ~Woken)) {
                break;
            }
        } else if (HostpExchangeCount(Lock, &Old, (Old + HOSTP_LOCK_WAITER) & ~Woken)) {
            __atomic_add_fetch(Lock->Contention, 1, __ATOMIC_RELAXED);
            KeWaitForSingleObject(Lock->Gate, WrExecutive, KernelMode, FALSE, NULL);
            Woken = HOSTP_LOCK_WOKEN;
            Old = ReadNoFence(Lock->Count);
        }
    }
    WdkmHostpThread.OtherLockCount++;
}

static BOOLEAN HostpTryAcquireExclusive(const HOSTP_EXCLUSIVE *Lock)
{
    LONG Old;

    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */
    Old = ReadNoFence(Lock->Count);

    while ((Old & HOSTP_LOCK_FREE) != 0) {
        if (HostpExchangeCount(Lock, &Old, Old & ~HOSTP_LOCK_FREE)) {
            WdkmHostpThread.OtherLockCount++;
            return TRUE;
        }
    }
    return FALSE;
}

static VOID HostpReleaseExclusive(const HOSTP_EXCLUSIVE *Lock)
{
    LONG Old = ReadNoFence(Lock->Count);
    LONG New;
    BOOLEAN Wake;

    WdkmHostpThread.OtherLockCount--;
    do {
        /* Wake one waiter unless a woken one has yet to retry. */
        Wake = (BOOLEAN)(Old >= HOSTP_LOCK_WAITER && (Old & HOSTP_LOCK_WOKEN) == 0);
        New = Wake ? ((Old | HOSTP_LOCK_FREE) - HOSTP_LOCK_WAITER) | HOSTP_LOCK_WOKEN
                   : Old | HOSTP_LOCK_FREE;
    } while (!HostpExchangeCount(Lock, &Old, New));
    if (Wake) {
        KeSetEvent(Lock->Gate, 0, FALSE);
    }
    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */
}

static VOID HostpViolation(ULONG Code, PVOID Lock, PKTHREAD Thread, PVOID Owner)
{
    KeBugCheckEx(DRIVER_VERIFIER_DETECTED_VIOLATION, Code, (ULONG_PTR)Lock, (ULONG_PTR)Thread,
                 (ULONG_PTR)Owner);
}

static VOID HostpCheckAtMostApcLevel(PVOID Lock)
{
    if (WdkmHostpCurrent.Irql > APC_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Lock, WdkmHostpCurrent.Irql, APC_LEVEL, 0);
    }
}

/* ---------------------------------------------------------------------- */
/* FAST_MUTEX                                                              */
/* ---------------------------------------------------------------------- */

static HOSTP_EXCLUSIVE HostpFastMutexLock(PFAST_MUTEX FastMutex)
{
    HOSTP_EXCLUSIVE Lock = { &FastMutex->Count, &FastMutex->Contention, &FastMutex->Event };
    return Lock;
}

static VOID HostpCheckFastMutexNotOwned(PFAST_MUTEX FastMutex, PKTHREAD Thread)
{
    if (ReadPointerNoFence(&FastMutex->Owner) == Thread) {
        HostpViolation(WDKM_HOST_VIOLATION_FAST_MUTEX_RECURSION, FastMutex, Thread, Thread);
    }
}

static VOID HostpCheckFastMutexOwned(PFAST_MUTEX FastMutex, PKTHREAD Thread)
{
    PVOID Owner = ReadPointerNoFence(&FastMutex->Owner);

    if (Owner != Thread) {
        HostpViolation(WDKM_HOST_VIOLATION_FAST_MUTEX_NOT_OWNER, FastMutex, Thread, Owner);
    }
}

/* The Unsafe forms rely on the caller having disabled normal kernel APCs. */
static VOID HostpCheckUnsafeState(PFAST_MUTEX FastMutex, PKTHREAD Thread)
{
    HostpCheckAtMostApcLevel(FastMutex);
    if (WdkmHostpCurrent.Irql < APC_LEVEL && !KeAreApcsDisabled()) {
        HostpViolation(WDKM_HOST_VIOLATION_UNSAFE_APCS_ENABLED, FastMutex, Thread,
                       ReadPointerNoFence(&FastMutex->Owner));
    }
}

VOID FASTCALL ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    WriteNoFence(&FastMutex->Count, 1);
    WritePointerNoFence(&FastMutex->Owner, NULL);
    FastMutex->Contention = 0;
    FastMutex->OldIrql = PASSIVE_LEVEL;
    KeInitializeEvent(&FastMutex->Event, SynchronizationEvent, FALSE);
}

VOID FASTCALL ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    HOSTP_EXCLUSIVE Lock = HostpFastMutexLock(FastMutex);
    KIRQL OldIrql;

    HostpCheckAtMostApcLevel(FastMutex);
    HostpCheckFastMutexNotOwned(FastMutex, Thread);
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    HostpAcquireExclusive(&Lock);
    WritePointerNoFence(&FastMutex->Owner, Thread);
    FastMutex->OldIrql = OldIrql;
}

VOID FASTCALL ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    HOSTP_EXCLUSIVE Lock = HostpFastMutexLock(FastMutex);
    KIRQL OldIrql;

    HostpCheckFastMutexOwned(FastMutex, Thread);
    if (WdkmHostpCurrent.Irql != APC_LEVEL) {
        HostpViolation(WDKM_HOST_VIOLATION_FAST_MUTEX_IRQL, FastMutex, Thread, Thread);
    }
    /* Read before the release: the next owner overwrites it. */
    OldIrql = (KIRQL)FastMutex->OldIrql;
    WritePointerNoFence(&FastMutex->Owner, NULL);
    HostpReleaseExclusive(&Lock);
    KeLowerIrql(OldIrql);
}

BOOLEAN FASTCALL ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    HOSTP_EXCLUSIVE Lock = HostpFastMutexLock(FastMutex);
    KIRQL OldIrql;

    HostpCheckAtMostApcLevel(FastMutex);
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    if (!HostpTryAcquireExclusive(&Lock)) {
        KeLowerIrql(OldIrql);
        return FALSE;
    }
    WritePointerNoFence(&FastMutex->Owner, Thread);
    FastMutex->OldIrql = OldIrql;
    return TRUE;
}

VOID FASTCALL ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    HOSTP_EXCLUSIVE Lock = HostpFastMutexLock(FastMutex);

    HostpCheckUnsafeState(FastMutex, Thread);
    HostpCheckFastMutexNotOwned(FastMutex, Thread);
    HostpAcquireExclusive(&Lock);
    WritePointerNoFence(&FastMutex->Owner, Thread);
}

VOID FASTCALL ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    HOSTP_EXCLUSIVE Lock = HostpFastMutexLock(FastMutex);

    HostpCheckFastMutexOwned(FastMutex, Thread);
    HostpCheckUnsafeState(FastMutex, Thread);
    WritePointerNoFence(&FastMutex->Owner, NULL);
    HostpReleaseExclusive(&Lock);
}

/* ---------------------------------------------------------------------- */
/* KGUARDED_MUTEX                                                          */
/* ---------------------------------------------------------------------- */

static HOSTP_EXCLUSIVE HostpGuardedMutexLock(PKGUARDED_MUTEX Mutex)
{
    HOSTP_EXCLUSIVE Lock = { &Mutex->Count, &Mutex->Contention, &Mutex->Gate };
    return Lock;
}

VOID FASTCALL KeInitializeGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    WriteNoFence(&Mutex->Count, 1);
    HostpStore(Mutex->Owner, (PKTHREAD)NULL);
    Mutex->Contention = 0;
    Mutex->CombinedApcDisable = 0;
    KeInitializeEvent(&Mutex->Gate, SynchronizationEvent, FALSE);
}

VOID FASTCALL KeAcquireGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    HOSTP_EXCLUSIVE Lock = HostpGuardedMutexLock(Mutex);

    HostpCheckAtMostApcLevel(Mutex);
    if (HostpLoad(Mutex->Owner) == Thread) {
        HostpViolation(WDKM_HOST_VIOLATION_GUARDED_MUTEX_RECURSION, Mutex, Thread, Thread);
    }
    KeEnterGuardedRegion();
    HostpAcquireExclusive(&Lock);
    HostpStore(Mutex->Owner, Thread);
}

VOID FASTCALL KeReleaseGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    HOSTP_EXCLUSIVE Lock = HostpGuardedMutexLock(Mutex);
    PKTHREAD Owner = HostpLoad(Mutex->Owner);

    HostpCheckAtMostApcLevel(Mutex);
    if (Owner != Thread) {
        HostpViolation(WDKM_HOST_VIOLATION_GUARDED_MUTEX_NOT_OWNER, Mutex, Thread, Owner);
    }
    if (WdkmHostpThread.GuardedRegionCount == 0) {
        KeLeaveGuardedRegion();     /* bug checks APC_INDEX_MISMATCH before the release */
    }
    HostpStore(Mutex->Owner, (PKTHREAD)NULL);
    HostpReleaseExclusive(&Lock);
    KeLeaveGuardedRegion();
}

BOOLEAN FASTCALL KeTryToAcquireGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    HOSTP_EXCLUSIVE Lock = HostpGuardedMutexLock(Mutex);

    HostpCheckAtMostApcLevel(Mutex);
    KeEnterGuardedRegion();
    if (!HostpTryAcquireExclusive(&Lock)) {
        KeLeaveGuardedRegion();
        return FALSE;
    }
    HostpStore(Mutex->Owner, Thread);
    return TRUE;
}
