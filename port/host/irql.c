/*
 * irql.c - per-thread IRQL and APC-disable state (critical and guarded regions).
 *
 * IRQL here is bookkeeping only: nothing is masked. It exists so that every
 * emulated routine can enforce the IRQL rules of the real one.
 */
#define _POSIX_C_SOURCE 200809L

#include "hostp.h"

WDKM_HOSTP_THREAD_LOCAL WDKM_HOSTP_CURRENT WdkmHostpCurrent;
_Thread_local HOSTP_THREAD_STATE WdkmHostpThread;

UCHAR WdkmHostpIrqlFixed;

VOID WdkmHostSetIrqlRaisable(BOOLEAN Raisable)
{
    __atomic_store_n(&WdkmHostpIrqlFixed, Raisable ? 0 : 1, __ATOMIC_RELAXED);
}

/* KeGetCurrentIrql, KfRaiseIrql, KeLowerIrql and KeRaiseIrqlToDpcLevel are
   inline in wdm.h, as on x64 Windows. */

/* The main thread's object, before main: KeGetCurrentThread (wdm.h) reads
   it without testing for one (other threads: thread.c). Here, beside the
   block it fills, because every program that reads it links this file. */
__attribute__((__constructor__)) static void HostpAdoptMainThread(void)
{
    (VOID)WdkmHostpAdoptCurrentThread();
}

/* Region entry and exit are legal up to APC_LEVEL. */
static VOID HostpCheckRegionIrql(VOID)
{
    if (WdkmHostpCurrent.Irql > APC_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, 0, WdkmHostpCurrent.Irql, APC_LEVEL, 0);
    }
}

/* As NT's (SpecialApcDisable << 16) | KernelApcDisable, with positive counts. */
ULONG WdkmHostpApcDisableCount(VOID)
{
    return (WdkmHostpThread.GuardedRegionCount << 16) |
           (WdkmHostpThread.CriticalRegionCount + WdkmHostpThread.KMutexCount);
}

DECLSPEC_NORETURN static VOID HostpApcIndexMismatch(VOID)
{
    KeBugCheckEx(APC_INDEX_MISMATCH, 0, 0, WdkmHostpApcDisableCount(), 0);
}

VOID NTAPI KeEnterCriticalRegion(VOID)
{
    HostpCheckRegionIrql();
    WdkmHostpThread.CriticalRegionCount++;
}

VOID NTAPI KeLeaveCriticalRegion(VOID)
{
    HostpCheckRegionIrql();
    if (WdkmHostpThread.CriticalRegionCount == 0) {
        HostpApcIndexMismatch();
    }
    WdkmHostpThread.CriticalRegionCount--;
    WdkmHostpCheckInterrupts();     /* a normal kernel APC waiting for it */
}

VOID NTAPI KeEnterGuardedRegion(VOID)
{
    HostpCheckRegionIrql();
    WdkmHostpThread.GuardedRegionCount++;
}

VOID NTAPI KeLeaveGuardedRegion(VOID)
{
    HostpCheckRegionIrql();
    if (WdkmHostpThread.GuardedRegionCount == 0) {
        HostpApcIndexMismatch();
    }
    WdkmHostpThread.GuardedRegionCount--;
    WdkmHostpCheckInterrupts();     /* kernel APCs waiting for it */
}

BOOLEAN NTAPI KeAreApcsDisabled(VOID)
{
    return (BOOLEAN)(WdkmHostpThread.CriticalRegionCount != 0 ||
                     WdkmHostpThread.GuardedRegionCount != 0 ||
                     WdkmHostpThread.KMutexCount != 0);
}

BOOLEAN NTAPI KeAreAllApcsDisabled(VOID)
{
    return (BOOLEAN)(WdkmHostpThread.GuardedRegionCount != 0 ||
                     WdkmHostpCurrent.Irql >= APC_LEVEL);
}

VOID NTAPI WdkmHostpPagedCode(VOID)
{
    if (WdkmHostpCurrent.Irql > APC_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, 0, WdkmHostpCurrent.Irql, APC_LEVEL, 0);
    }
}

ULONG WdkmHostThreadKMutexCount(VOID)
{
    return WdkmHostpThread.KMutexCount;
}

/* ERESOURCEs are counted from their owner entries: another thread may
   release them for this one (ExReleaseResourceForThreadLite). */
ULONG WdkmHostThreadHeldLockCount(VOID)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    ULONG Resources;

    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Resources = WdkmHostpResourcesOwnedBy(Thread);
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return WdkmHostpThread.KMutexCount + WdkmHostpThread.OtherLockCount + Resources;
}
