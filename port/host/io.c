/*
 * io.c - IRPs: the cancel spin lock, IoCancelIrp, IoCompleteRequest, the
 * test controls that make and free IRPs, and threads' IRPs: cancelled at
 * their thread's exit (wdkm_host_io.h).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include "hostp.h"

/* The system-wide cancel spin lock, an ordinary emulated spin lock. */
static KSPIN_LOCK HostpCancelSpinLock;

/* Threads' IRP lists, the IRPs' ThreadListEntry and their exit fields.
   Innermost: nothing else is taken under it, and no driver code runs
   under it (IoCancelIrp is called without it). */
static pthread_mutex_t HostpIrpThreadLock = PTHREAD_MUTEX_INITIALIZER;
/* Broadcast when a threaded IRP leaves its list or an exit's IoCancelIrp
   returns; on CLOCK_MONOTONIC, for the exit's bounded wait. */
static pthread_cond_t HostpIrpThreadCondition;
static pthread_once_t HostpIrpThreadConditionOnce = PTHREAD_ONCE_INIT;
/* NT waits 5 minutes per IRP; a test wants to hear sooner. */
static ULONG HostpIrpCancelTimeoutMs = 5000;
static ULONG HostpIrpCancelTimeouts;

static VOID HostpCheckIoIrql(PVOID Object)
{
    KIRQL Irql = KeGetCurrentIrql();

    if (Irql > DISPATCH_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Object, Irql, DISPATCH_LEVEL, 0);
    }
}

VOID NTAPI IoAcquireCancelSpinLock(PKIRQL Irql)
{
    KeAcquireSpinLock(&HostpCancelSpinLock, Irql);
}

VOID NTAPI IoReleaseCancelSpinLock(KIRQL Irql)
{
    KeReleaseSpinLock(&HostpCancelSpinLock, Irql);
}

BOOLEAN NTAPI IoCancelIrp(PIRP Irp)
{
    PDRIVER_CANCEL CancelRoutine;
    KIRQL Irql;

    HostpCheckIoIrql(Irp);
    IoAcquireCancelSpinLock(&Irql);
    /* Cancel is set before the routine is taken: a driver that clears its
       routine and finds it still there reads Cancel after the exchange. */
    __atomic_store_n(&Irp->Cancel, TRUE, __ATOMIC_SEQ_CST);
    CancelRoutine = IoSetCancelRoutine(Irp, NULL);
    if (CancelRoutine == NULL) {
        IoReleaseCancelSpinLock(Irql);
        return FALSE;
    }
    Irp->CancelIrql = Irql;
    CancelRoutine(IoGetCurrentIrpStackLocation(Irp)->DeviceObject, Irp);
    if (__atomic_load_n(&HostpCancelSpinLock, __ATOMIC_RELAXED) ==
        ((ULONG_PTR)KeGetCurrentThread() | 1)) {
        /* The routine kept the lock: NT would hang the next canceller.
           The lock is freed first, for a test that traps the stop and goes
           on: later tests' cancels must not find it owned (the IRQL the
           routine left is the trapping test's to lower). */
        __atomic_store_n(&HostpCancelSpinLock, 0, __ATOMIC_RELEASE);
        KeBugCheckEx(SPIN_LOCK_ALREADY_OWNED, (ULONG_PTR)&HostpCancelSpinLock,
                     (ULONG_PTR)CancelRoutine, (ULONG_PTR)Irp, 0);
    }
    return TRUE;
}

static VOID HostpInitializeIrpThreadCondition(VOID)
{
    pthread_condattr_t Attributes;

    pthread_condattr_init(&Attributes);
    pthread_condattr_setclock(&Attributes, CLOCK_MONOTONIC);
    if (pthread_cond_init(&HostpIrpThreadCondition, &Attributes) != 0) {
        fputs("wdkm host: pthread_cond_init failed\n", stderr);
        abort();
    }
    pthread_condattr_destroy(&Attributes);
}

/* IRP thread lock held. Takes Irp off its thread's list, if it is on one. */
static VOID HostpUnqueueThreadIrpLocked(PIRP Irp)
{
    if (!Irp->ThreadQueued) {
        return;
    }
    RemoveEntryList(&Irp->ThreadListEntry);
    InitializeListHead(&Irp->ThreadListEntry);
    __atomic_store_n(&Irp->ThreadQueued, FALSE, __ATOMIC_RELEASE);
    /* Queued means the condition was made (WdkmHostIrpQueueToThread). */
    pthread_cond_broadcast(&HostpIrpThreadCondition);
}

/* Drops a pin (Unqueue: and takes the IRP off its thread); the last one
   frees an IRP freed meanwhile. */
static VOID HostpUnpinIrp(PIRP Irp, BOOLEAN Unqueue)
{
    BOOLEAN FreeIt;

    WdkmHostpLock(&HostpIrpThreadLock);
    Irp->Pins -= 1;
    FreeIt = Irp->Pins == 0 && Irp->FreeDeferred;
    if (Unqueue || FreeIt) {
        HostpUnqueueThreadIrpLocked(Irp);
    }
    WdkmHostpUnlock(&HostpIrpThreadLock);
    if (FreeIt) {
        free(Irp);
    }
}

VOID FASTCALL IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    PDRIVER_CANCEL CancelRoutine;
    WDKM_HOST_IRP_COMPLETION *Hook;
    PVOID HookContext;
    BOOLEAN Pinned;
    LONG Previous;

    UNREFERENCED_PARAMETER(PriorityBoost);
    HostpCheckIoIrql(Irp);
    CancelRoutine = __atomic_load_n(&Irp->CancelRoutine, __ATOMIC_ACQUIRE);
    if (CancelRoutine != NULL) {
        KeBugCheckEx(CANCEL_STATE_IN_COMPLETED_IRP, (ULONG_PTR)Irp, (ULONG_PTR)CancelRoutine, 0, 0);
    }
    if (__atomic_load_n(&Irp->Completions, __ATOMIC_ACQUIRE) != 0) {
        KeBugCheckEx(MULTIPLE_IRP_COMPLETE_REQUESTS, (ULONG_PTR)Irp, 0, 0, 0);
    }
    Irp->PendingReturned = (IoGetCurrentIrpStackLocation(Irp)->Control & SL_PENDING_RETURNED) != 0;
    /* Everything read from the IRP is read before the count is published:
       a test that sees WdkmHostIrpCompletions() == 1 owns the IRP again
       and may free it at once (as the I/O manager's caller would). */
    Hook = Irp->CompletionHook;
    HookContext = Irp->CompletionHookContext;
    /* A thread's IRP leaves its thread after the whole completion, hook
       included, as NT's leaves in the completion APC: an exit waiting for
       it, and whoever waits for that thread, see the outcome. Until then
       it is pinned: a free meanwhile is done by the unpin. */
    Pinned = FALSE;
    if (__atomic_load_n(&Irp->ThreadQueued, __ATOMIC_ACQUIRE)) {
        WdkmHostpLock(&HostpIrpThreadLock);
        if (Irp->ThreadQueued) {
            Irp->Pins += 1;
            Pinned = TRUE;
        }
        WdkmHostpUnlock(&HostpIrpThreadLock);
    }
    /* Two completers racing both pass the check above; one of them is
       caught here, after the first has completed it. */
    Previous = __atomic_fetch_add(&Irp->Completions, 1, __ATOMIC_ACQ_REL);
    if (Previous != 0) {
        if (Pinned) {
            HostpUnpinIrp(Irp, FALSE);
        }
        KeBugCheckEx(MULTIPLE_IRP_COMPLETE_REQUESTS, (ULONG_PTR)Irp, 1, 0, 0);
    }
    if (Hook != NULL) {
        Hook(Irp, HookContext);
    }
    if (Pinned) {
        HostpUnpinIrp(Irp, TRUE);
    }
}

PIRP WdkmHostIrpAllocate(UCHAR MajorFunction, ULONG IoControlCode, PFILE_OBJECT FileObject)
{
    PIRP Irp = (PIRP)calloc(1, sizeof(IRP));

    if (Irp == NULL) {
        return NULL;
    }
    Irp->Type = IO_TYPE_IRP;
    Irp->Size = (USHORT)sizeof(IRP);
    InitializeListHead(&Irp->ThreadListEntry);
    Irp->Tail.Overlay.CurrentStackLocation = &Irp->Stack;
    Irp->Tail.Overlay.OriginalFileObject = FileObject;
    Irp->Stack.MajorFunction = MajorFunction;
    Irp->Stack.Parameters.DeviceIoControl.IoControlCode = IoControlCode;
    Irp->Stack.FileObject = FileObject;
    Irp->Stack.DeviceObject = FileObject != NULL ? FileObject->DeviceObject : NULL;
    return Irp;
}

VOID WdkmHostIrpFree(PIRP Irp)
{
    PDRIVER_CANCEL CancelRoutine;

    if (Irp == NULL) {
        return;
    }
    CancelRoutine = __atomic_load_n(&Irp->CancelRoutine, __ATOMIC_ACQUIRE);
    if (CancelRoutine != NULL) {
        KeBugCheckEx(CANCEL_STATE_IN_COMPLETED_IRP, (ULONG_PTR)Irp, (ULONG_PTR)CancelRoutine, 0, 0);
    }
    WdkmHostpLock(&HostpIrpThreadLock);
    if (Irp->Pins != 0) {
        /* Its completion or an exit's IoCancelIrp uses it: freed after. */
        Irp->FreeDeferred = TRUE;
        WdkmHostpUnlock(&HostpIrpThreadLock);
        return;
    }
    HostpUnqueueThreadIrpLocked(Irp);
    WdkmHostpUnlock(&HostpIrpThreadLock);
    free(Irp);
}

VOID WdkmHostIrpSetCompletionHook(PIRP Irp, WDKM_HOST_IRP_COMPLETION *Hook, PVOID Context)
{
    Irp->CompletionHook = Hook;
    Irp->CompletionHookContext = Context;
}

LONG WdkmHostIrpCompletions(const IRP *Irp)
{
    return __atomic_load_n(&Irp->Completions, __ATOMIC_ACQUIRE);
}

VOID WdkmHostIrpQueueToThread(PIRP Irp)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();

    pthread_once(&HostpIrpThreadConditionOnce, HostpInitializeIrpThreadCondition);
    WdkmHostpLock(&HostpIrpThreadLock);
    HostpUnqueueThreadIrpLocked(Irp);
    if (__atomic_load_n(&Irp->Completions, __ATOMIC_ACQUIRE) == 0) {
        __atomic_store_n(&Irp->Tail.Overlay.Thread, (PETHREAD)Thread, __ATOMIC_RELAXED);
        InsertTailList(&Thread->IrpList, &Irp->ThreadListEntry);
        Irp->ExitCancelSent = FALSE;
        __atomic_store_n(&Irp->ThreadQueued, TRUE, __ATOMIC_RELEASE);
    }
    WdkmHostpUnlock(&HostpIrpThreadLock);
}

ULONG WdkmHostSetIrpCancelTimeout(ULONG Milliseconds)
{
    return __atomic_exchange_n(&HostpIrpCancelTimeoutMs, Milliseconds, __ATOMIC_RELAXED);
}

ULONG WdkmHostIrpCancelTimeouts(VOID)
{
    return __atomic_load_n(&HostpIrpCancelTimeouts, __ATOMIC_RELAXED);
}

/* IRP thread lock held. The first IRP on Thread's list that its exit has
   not cancelled yet, marked as cancelled and held by the exit; or NULL. */
static PIRP HostpNextIrpToCancelLocked(PKTHREAD Thread)
{
    PLIST_ENTRY Entry;

    for (Entry = Thread->IrpList.Flink; Entry != &Thread->IrpList; Entry = Entry->Flink) {
        PIRP Irp = CONTAINING_RECORD(Entry, IRP, ThreadListEntry);

        if (!Irp->ExitCancelSent) {
            Irp->ExitCancelSent = TRUE;
            Irp->Pins += 1;
            return Irp;
        }
    }
    return NULL;
}

/* IRP thread lock held. The bound ran out: what is left goes off the
   thread, still pending, as NT's IO_DRIVER_CANCEL_TIMEOUT does. */
static VOID HostpDisassociateThreadIrpsLocked(PKTHREAD Thread, ULONG TimeoutMs)
{
    while (!IsListEmpty(&Thread->IrpList)) {
        PIRP Irp = CONTAINING_RECORD(Thread->IrpList.Flink, IRP, ThreadListEntry);

        HostpUnqueueThreadIrpLocked(Irp);
        __atomic_store_n(&Irp->Tail.Overlay.Thread, NULL, __ATOMIC_RELAXED);
        __atomic_add_fetch(&HostpIrpCancelTimeouts, 1, __ATOMIC_RELAXED);
        fprintf(stderr,
                "wdkm host: thread %p exits; IRP %p (major 0x%02X) not completed %u ms after "
                "its cancel: taken off the thread, still pending (NT: IO_DRIVER_CANCEL_TIMEOUT)\n",
                (void *)Thread, (void *)Irp, (unsigned)Irp->Stack.MajorFunction,
                (unsigned)TimeoutMs);
    }
    fflush(stderr);
}

/* The exit's IoCancelIrp of one IRP. No trap reaches an exit, so a bug
   check in the driver's cancel routine (or the completion it starts) whose
   handler returns ends this call here, as it ends a DPC: the exit goes on
   with the next IRP and its wait (the IRP, never completed, then times
   out); the IRQL and regions are put back, locks the routine kept stay
   held. Without this the handler's return had nowhere to go and the
   program aborted. */
static VOID HostpExitCancelIrp(PIRP Irp)
{
    ULONG CriticalRegions = WdkmHostpThread.CriticalRegionCount;
    ULONG GuardedRegions = WdkmHostpThread.GuardedRegionCount;
    KIRQL Irql = WdkmHostpCurrent.Irql;
    jmp_buf Abandon;

    WdkmHostpThread.TrapTop = NULL;
    WdkmHostpThread.TerminateJump = &Abandon;
    if (setjmp(Abandon) == 0) {
        (VOID)IoCancelIrp(Irp);
    } else {
        WdkmHostpThread.TrapTop = NULL;
        WdkmHostpCurrent.Irql = Irql;
        WdkmHostpThread.CriticalRegionCount = CriticalRegions;
        WdkmHostpThread.GuardedRegionCount = GuardedRegions;
    }
    WdkmHostpThread.TerminateJump = NULL;
}

VOID WdkmHostpCancelThreadIrps(PKTHREAD Thread)
{
    struct timespec Deadline;
    LONGLONG DeadlineNs;
    KIRQL OldIrql = PASSIVE_LEVEL;
    BOOLEAN Raised = FALSE;
    ULONG TimeoutMs;
    PIRP Irp;

    WdkmHostpLock(&HostpIrpThreadLock);
    if (IsListEmpty(&Thread->IrpList)) {
        WdkmHostpUnlock(&HostpIrpThreadLock);
        return;
    }
    /* Each IRP once, the list walked again after every call: the cancel
       routine may complete (and unlink) any of them meanwhile. */
    while ((Irp = HostpNextIrpToCancelLocked(Thread)) != NULL) {
        WdkmHostpUnlock(&HostpIrpThreadLock);
        /* NT cancels at APC_LEVEL: its completion APCs wait meanwhile. */
        if (!Raised && KeGetCurrentIrql() < APC_LEVEL) {
            KeRaiseIrql(APC_LEVEL, &OldIrql);
            Raised = TRUE;
        }
        HostpExitCancelIrp(Irp);
        HostpUnpinIrp(Irp, FALSE);
        WdkmHostpLock(&HostpIrpThreadLock);
    }
    WdkmHostpUnlock(&HostpIrpThreadLock);
    if (Raised) {
        KeLowerIrql(OldIrql);
    }

    TimeoutMs = __atomic_load_n(&HostpIrpCancelTimeoutMs, __ATOMIC_RELAXED);
    DeadlineNs = WdkmHostpMonotonicNanoseconds() + (LONGLONG)TimeoutMs * 1000000LL;
    Deadline.tv_sec = (time_t)(DeadlineNs / 1000000000LL);
    Deadline.tv_nsec = (long)(DeadlineNs % 1000000000LL);
    WdkmHostpLock(&HostpIrpThreadLock);
    WdkmHostpMarkBlocked(1);
    while (!IsListEmpty(&Thread->IrpList)) {
        if (WdkmHostpMonotonicNanoseconds() >= DeadlineNs) {
            HostpDisassociateThreadIrpsLocked(Thread, TimeoutMs);
            break;
        }
        (VOID)pthread_cond_timedwait(&HostpIrpThreadCondition, &HostpIrpThreadLock, &Deadline);
    }
    WdkmHostpMarkBlocked(0);
    WdkmHostpUnlock(&HostpIrpThreadLock);
}
