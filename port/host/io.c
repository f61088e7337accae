/*
 * io.c - IRPs: the cancel spin lock, IoCancelIrp, IoCompleteRequest, and
 * the test controls that make and free IRPs (wdkm_host_io.h).
 */
#include <stdlib.h>

#include "hostp.h"

/* The system-wide cancel spin lock, an ordinary emulated spin lock. */
static KSPIN_LOCK HostpCancelSpinLock;

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

VOID FASTCALL IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    PDRIVER_CANCEL CancelRoutine;
    WDKM_HOST_IRP_COMPLETION *Hook;
    PVOID HookContext;
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
    /* Two completers racing both pass the check above; one of them is
       caught here, after the first has completed it. */
    Previous = __atomic_fetch_add(&Irp->Completions, 1, __ATOMIC_ACQ_REL);
    if (Previous != 0) {
        KeBugCheckEx(MULTIPLE_IRP_COMPLETE_REQUESTS, (ULONG_PTR)Irp, 1, 0, 0);
    }
    if (Hook != NULL) {
        Hook(Irp, HookContext);
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
