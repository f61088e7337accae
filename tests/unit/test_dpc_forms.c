/*
 * test_dpc_forms.c - the AtDpcLevel and FromDpcLevel forms on a kernel
 * whose IRQL cannot be raised (Wine: a DPC reports PASSIVE_LEVEL). The
 * emulation plays such a kernel (WdkmHostSetIrqlRaisable(FALSE)); the
 * library finds out at its first create at PASSIVE_LEVEL, says so once,
 * and no longer refuses these forms for being below DISPATCH_LEVEL. Every
 * other check stays, and a kernel that raises is judged as before.
 */
#include <string.h>

#include "wdkm_test.h"
#include "wdkm_port.h"     /* WdkmpForgetRoutines, to re-run the lookup */

static LONG volatile Notices;

static VOID
NoticeSink(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    UNREFERENCED_PARAMETER(ComponentId);
    UNREFERENCED_PARAMETER(Level);
    UNREFERENCED_PARAMETER(Context);
    if (strstr(Message, "does not raise the IRQL") != NULL) {
        InterlockedIncrement(&Notices);
    }
}

/* The emulation back as it was, and the library's lookup made again. */
static VOID
RestoreRaisableKernel(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    LONG Value = 0;

    WdkmHostSetDebugPrintSink(NULL, NULL);
    WdkmHostSetIrqlRaisable(TRUE);
    WdkmpForgetRoutines();
    if (NT_SUCCESS(WDKM_SPIN_LOCK_CREATE(&Value, &Lock))) {
        (VOID)WdkmSpinLockDestroy(Lock);
    }
}

WDKM_NO_THREAD_SAFETY_ANALYSIS   /* refusals tested on purpose */
static VOID
FixedIrqlKernelAcceptsDpcForms(VOID)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_SPIN_LOCK Lock;
    PWDKM_SPIN_LOCK Second;
    LONG Value = 0;
    LONG *Data;
    KIRQL OldIrql;

    InterlockedExchange(&Notices, 0);
    WdkmHostSetDebugPrintSink(NoticeSink, NULL);
    WdkmHostSetIrqlRaisable(FALSE);
    WdkmpForgetRoutines();

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Value, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Value, &Second), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Value, &Queued), STATUS_SUCCESS);
    CHECK_EQ(Notices, 1);                   /* said once, at the first create */

    /* A DPC as Wine runs it: at a reported PASSIVE_LEVEL. */
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data), STATUS_SUCCESS);
    *Data += 1;
    /* The other checks stay: recursion, the other release form. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, PASSIVE_LEVEL), STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Second, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Second), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Lock), STATUS_WDKM_NOT_HELD);

    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Queued, &Handle, &Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);

    /* The raising forms work too; the IRQL simply stays. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);

    /* The upper bound stays: above DISPATCH_LEVEL is still too high. */
    WdkmHostSetIrqlRaisable(TRUE);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Queued, &Handle, &Data),
                 STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(OldIrql);

    CHECK_STATUS(WdkmSpinLockDestroy(Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Second), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Queued), STATUS_SUCCESS);
    CHECK_EQ(Notices, 1);
}

/* Real Windows (and the emulation by default): unchanged. */
WDKM_NO_THREAD_SAFETY_ANALYSIS   /* refusals tested on purpose */
static VOID
RaisingKernelStillRefusesBelowDispatch(VOID)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_SPIN_LOCK Lock;
    LONG Value = 0;
    LONG *Data;
    KIRQL OldIrql;

    InterlockedExchange(&Notices, 0);
    WdkmHostSetDebugPrintSink(NoticeSink, NULL);
    WdkmpForgetRoutines();
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Value, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Value, &Queued), STATUS_SUCCESS);
    CHECK_EQ(Notices, 0);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data), STATUS_WDKM_IRQL_MISMATCH);
    CHECK(Data == NULL);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Queued, &Handle, &Data),
                 STATUS_WDKM_IRQL_MISMATCH);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Lock), STATUS_SUCCESS);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(WdkmSpinLockDestroy(Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Queued), STATUS_SUCCESS);
}

static const WDKM_TEST_CASE Cases[] = {
    { "fixed-IRQL kernel accepts the DPC forms", FixedIrqlKernelAcceptsDpcForms },
    { "raising kernel still refuses below DISPATCH_LEVEL", RaisingKernelStillRefusesBelowDispatch },
};

const WDKM_TEST_SUITE WdkmDpcFormsSuite =
    WDKM_TEST_SUITE_WITH_CLEANUP("dpcforms", Cases, RestoreRaisableKernel);
