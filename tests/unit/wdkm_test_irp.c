/*
 * wdkm_test_irp.c - IRPs and cancel-safe queues for the host unit tests
 * (see wdkm_test_irp.h).
 */
#include "wdkm_test_irp.h"

/* The completion hook of WdkmTestIrpAllocate's IRPs. */
static VOID
WdkmpTestIrpCountCompletion(PIRP Irp, PVOID Context)
{
    WDKM_TEST_IRP_OUTCOME *Outcome = (WDKM_TEST_IRP_OUTCOME *)Context;

    __atomic_fetch_add(&Outcome->Completed, 1, __ATOMIC_RELAXED);
    if (Irp->IoStatus.Status == STATUS_SUCCESS) {
        __atomic_fetch_add(&Outcome->Succeeded, 1, __ATOMIC_RELAXED);
    } else if (Irp->IoStatus.Status == STATUS_CANCELLED) {
        __atomic_fetch_add(&Outcome->Cancelled, 1, __ATOMIC_RELAXED);
    }
    if (!Irp->PendingReturned) {
        __atomic_fetch_add(&Outcome->NotPending, 1, __ATOMIC_RELAXED);
    }
}

PIRP
WdkmTestIrpAllocate(WDKM_TEST_IRP_OUTCOME *Outcome, PFILE_OBJECT FileObject)
{
    PIRP Irp = WdkmHostIrpAllocate(IRP_MJ_DEVICE_CONTROL, 0x222000, FileObject);

    if (Irp != NULL && Outcome != NULL) {
        WdkmHostIrpSetCompletionHook(Irp, WdkmpTestIrpCountCompletion, Outcome);
    }
    return Irp;
}

VOID
WdkmTestIrpComplete(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

VOID
WdkmTestIrpCompleteCancelled(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    WDKM_TEST_IRP_OUTCOME *Outcome = (WDKM_TEST_IRP_OUTCOME *)Context;

    UNREFERENCED_PARAMETER(Csq);
    __atomic_fetch_add(&Outcome->CallbackCalls, 1, __ATOMIC_RELAXED);
    WdkmTestIrpComplete(Irp, STATUS_CANCELLED, 0);
}

VOID
WdkmTestIrpOnCancel(PWDKM_CSQ Csq, PVOID Context)
{
    WDKM_TEST_IRP_OUTCOME *Outcome = (WDKM_TEST_IRP_OUTCOME *)Context;

    UNREFERENCED_PARAMETER(Csq);
    __atomic_fetch_add(&Outcome->OnCancelCalls, 1, __ATOMIC_RELAXED);
}

BOOLEAN
WdkmTestIrpOfFile(PIRP Irp, PVOID MatchContext)
{
    return IoGetCurrentIrpStackLocation(Irp)->FileObject == (PFILE_OBJECT)MatchContext;
}

PDRIVER_CANCEL
WdkmTestIrpTakeCancelRoutine(PIRP Irp)
{
    PDRIVER_CANCEL Routine;
    KIRQL Irql;

    IoAcquireCancelSpinLock(&Irql);
    /* Atomic: the queue reads Cancel under its own lock, not this one. */
    __atomic_store_n(&Irp->Cancel, TRUE, __ATOMIC_SEQ_CST);
    Routine = IoSetCancelRoutine(Irp, NULL);
    IoReleaseCancelSpinLock(Irql);
    return Routine;
}

VOID
WdkmTestIrpCallCancelRoutine(PIRP Irp, PDRIVER_CANCEL Routine)
{
    KIRQL Irql;

    IoAcquireCancelSpinLock(&Irql);
    Irp->CancelIrql = Irql;
    Routine(NULL, Irp);
}

ULONG
WdkmTestCsqCount(PWDKM_CSQ Csq)
{
    ULONG Count = 0xFFFFFFFF;

    if (WdkmCsqQueryCount(Csq, &Count) != STATUS_SUCCESS) {
        return 0xFFFFFFFF;
    }
    return Count;
}

/* A failed step of the set-up, as CHECK_STATUS words it. */
static BOOLEAN
WdkmpTestIrpRefused(int Line, PCSTR What, NTSTATUS Status, NTSTATUS Expected)
{
    return WdkmTestFail(__FILE__, Line, "%s returned %s (0x%08X), expected %s", What,
                        WdkmStatusName(Status), (unsigned)Status, WdkmStatusName(Expected));
}

BOOLEAN
WdkmTestCsqSetUp(WDKM_TEST_CSQ_SETUP *Setup, ULONG Count, PFILE_OBJECT FileObject)
{
    NTSTATUS Status;
    ULONG Index;

    RtlZeroMemory(Setup, sizeof(*Setup));
    if (Count > WDKM_TEST_CSQ_SETUP_IRPS) {
        return WdkmTestFail(__FILE__, __LINE__, "%lu IRPs asked, %u at most", (unsigned long)Count,
                            WDKM_TEST_CSQ_SETUP_IRPS);
    }
    Setup->Count = Count;
    Status = WdkmCsqCreate(WdkmTestIrpCompleteCancelled, &Setup->Outcome, &Setup->Csq);
    if (Status != STATUS_SUCCESS) {
        return WdkmpTestIrpRefused(__LINE__, "WdkmCsqCreate", Status, STATUS_SUCCESS);
    }
    Status = WdkmCsqInitializeCurrent(&Setup->Current, WdkmTestIrpOnCancel, &Setup->Outcome);
    if (Status != STATUS_SUCCESS) {
        return WdkmpTestIrpRefused(__LINE__, "WdkmCsqInitializeCurrent", Status, STATUS_SUCCESS);
    }
    for (Index = 0; Index < Count; Index += 1) {
        Setup->Irps[Index] = WdkmTestIrpAllocate(&Setup->Outcome, FileObject);
        if (Setup->Irps[Index] == NULL) {
            return WdkmTestFail(__FILE__, __LINE__, "no IRP");
        }
        Status = WdkmCsqInsertIrp(Setup->Csq, Setup->Irps[Index], &Setup->Contexts[Index]);
        if (Status != STATUS_PENDING) {
            return WdkmpTestIrpRefused(__LINE__, "WdkmCsqInsertIrp", Status, STATUS_PENDING);
        }
    }
    return TRUE;
}

VOID
WdkmTestCsqTearDown(WDKM_TEST_CSQ_SETUP *Setup)
{
    ULONG Index;

    CHECK_STATUS(WdkmCsqDestroy(Setup->Csq), STATUS_SUCCESS);
    for (Index = 0; Index < Setup->Count; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(Setup->Irps[Index]), 1);
        WdkmHostIrpFree(Setup->Irps[Index]);
    }
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}
