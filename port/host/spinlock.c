/*
 * spinlock.c - KSPIN_LOCK, plain and in-stack queued.
 *
 * The lock word holds (owner KTHREAD | 1), as checked NT builds keep it, so
 * that re-acquisition by the owner and release by anyone else are caught.
 * Queued locks use the same word (FIFO hand-off is not emulated); mixing
 * the two forms on one lock is as wrong here as in NT.
 */
#define _POSIX_C_SOURCE 200809L

#include <sched.h>

#include "hostp.h"

#define HOSTP_SPIN_OWNER(Thread) ((ULONG_PTR)(Thread) | 1)

/* A few pause spins, then yield: host threads holding a "spin lock" can be
   preempted, which real DISPATCH_LEVEL code cannot. */
static VOID HostpSpinAcquire(PKSPIN_LOCK SpinLock, ULONG_PTR Owner)
{
    ULONG Spins = 0;

    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */

    for (;;) {
        ULONG_PTR Expected = 0;
        if (__atomic_compare_exchange_n(SpinLock, &Expected, Owner, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            break;
        }
        /* Wait with plain reads, as NT does: a failed exchange would take
           the line away from the owner on every spin. */
        do {
            if (++Spins < 64) {
                YieldProcessor();
            } else {
                sched_yield();
            }
        } while (__atomic_load_n(SpinLock, __ATOMIC_RELAXED) != 0);
    }
    WdkmHostpThread.OtherLockCount++;
}

static VOID HostpSpinRelease(PKSPIN_LOCK SpinLock)
{
    WdkmHostpThread.OtherLockCount--;
    __atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */
}

static VOID HostpCheckNotOwner(PKSPIN_LOCK SpinLock, ULONG_PTR Owner)
{
    if (__atomic_load_n(SpinLock, __ATOMIC_RELAXED) == Owner) {
        KeBugCheckEx(SPIN_LOCK_ALREADY_OWNED, (ULONG_PTR)SpinLock, Owner, 0, 0);
    }
}

static VOID HostpCheckOwner(PKSPIN_LOCK SpinLock, ULONG_PTR Owner)
{
    ULONG_PTR Value = SpinLock != NULL ? __atomic_load_n(SpinLock, __ATOMIC_RELAXED) : 0;

    if (Value != Owner) {
        KeBugCheckEx(SPIN_LOCK_NOT_OWNED, (ULONG_PTR)SpinLock, Value, Owner, 0);
    }
}

/* A kernel whose IRQL cannot be raised (WdkmHostSetIrqlRaisable) checks
   no lower bound, as Wine's does not. */
static VOID HostpCheckAtLeastDispatch(PKSPIN_LOCK SpinLock)
{
    if (WdkmHostpCurrent.Irql < DISPATCH_LEVEL &&
        __atomic_load_n(&WdkmHostpIrqlFixed, __ATOMIC_RELAXED) == 0) {
        KeBugCheckEx(IRQL_NOT_GREATER_OR_EQUAL, (ULONG_PTR)SpinLock, WdkmHostpCurrent.Irql,
                     DISPATCH_LEVEL, 0);
    }
}

KIRQL NTAPI KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    ULONG_PTR Owner = HOSTP_SPIN_OWNER(WdkmHostpCurrentThread());
    KIRQL OldIrql;

    /* Raising from above DISPATCH_LEVEL would lower the IRQL. */
    if (WdkmHostpCurrent.Irql > DISPATCH_LEVEL) {
        KeBugCheckEx(IRQL_NOT_GREATER_OR_EQUAL, (ULONG_PTR)SpinLock, WdkmHostpCurrent.Irql,
                     DISPATCH_LEVEL, 0);
    }
    HostpCheckNotOwner(SpinLock, Owner);
    OldIrql = KfRaiseIrql(DISPATCH_LEVEL);
    HostpSpinAcquire(SpinLock, Owner);
    return OldIrql;
}

VOID NTAPI KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    HostpCheckOwner(SpinLock, HOSTP_SPIN_OWNER(WdkmHostpCurrentThread()));
    HostpCheckAtLeastDispatch(SpinLock);
    if (NewIrql > WdkmHostpCurrent.Irql) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)SpinLock, WdkmHostpCurrent.Irql, NewIrql,
                     0);
    }
    HostpSpinRelease(SpinLock);
    KeLowerIrql(NewIrql);
}

VOID NTAPI KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    ULONG_PTR Owner = HOSTP_SPIN_OWNER(WdkmHostpCurrentThread());

    HostpCheckAtLeastDispatch(SpinLock);
    HostpCheckNotOwner(SpinLock, Owner);
    HostpSpinAcquire(SpinLock, Owner);
}

VOID NTAPI KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    HostpCheckOwner(SpinLock, HOSTP_SPIN_OWNER(WdkmHostpCurrentThread()));
    HostpCheckAtLeastDispatch(SpinLock);
    HostpSpinRelease(SpinLock);
}

BOOLEAN FASTCALL KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    ULONG_PTR Owner = HOSTP_SPIN_OWNER(WdkmHostpCurrentThread());
    ULONG_PTR Expected = 0;

    HostpCheckAtLeastDispatch(SpinLock);
    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */
    if (!__atomic_compare_exchange_n(SpinLock, &Expected, Owner, 0, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED)) {
        return FALSE;
    }
    WdkmHostpThread.OtherLockCount++;
    return TRUE;
}

VOID FASTCALL KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    KIRQL OldIrql = KeAcquireSpinLockRaiseToDpc(SpinLock);

    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
    LockHandle->OldIrql = OldIrql;
}

VOID FASTCALL KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle)
{
    KeReleaseSpinLock(LockHandle->LockQueue.Lock, LockHandle->OldIrql);
}

VOID FASTCALL KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock,
                                                       PKLOCK_QUEUE_HANDLE LockHandle)
{
    KeAcquireSpinLockAtDpcLevel(SpinLock);
    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
    LockHandle->OldIrql = DISPATCH_LEVEL;
}

VOID FASTCALL KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle)
{
    KeReleaseSpinLockFromDpcLevel(LockHandle->LockQueue.Lock);
}
