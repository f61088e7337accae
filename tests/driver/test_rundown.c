/*
 * test_rundown.c - WDKM_RUNDOWN inside a real driver: a device context used
 * by a periodic timer DPC, by the work items it queues (acquired in the
 * DPC, released by the worker thread) and by system threads, torn down
 * the way a DriverUnload would: wait for the rundown (a short timed wait
 * first, while a user holds on), stop the timer, free the context.
 * Wine 8's own ExInitializeRundownProtection aborts the driver host; this
 * is what a driver uses instead.
 */
#include "wdkm_test.h"

#include <wdkmutex/wdkmutex.h>

typedef struct _RD_CONTEXT {
    WDKM_RUNDOWN Rundown;
    KTIMER Timer;
    KDPC Dpc;
    LONG volatile Dead;             /* set once the wait succeeded */
    LONG volatile UsedWhileDead;    /* uses after that: must stay 0 */
    LONG volatile DpcRuns;
    LONG volatile DpcAcquired;
    LONG volatile DpcRefused;
    LONG volatile WorkQueued;
    LONG volatile WorkDone;
    LONG volatile ThreadUses;
    LONG volatile ThreadRefused;
    LONG volatile Unexpected;       /* a status the reference does not allow there */
    LONG volatile HolderIn;         /* the long holder has its acquisition */
    NTSTATUS FirstWait;
    NTSTATUS SecondWait;
    NTSTATUS ConcurrentWait;
    NTSTATUS FinalWait;
} RD_CONTEXT;

static VOID
RdUse(_Inout_ RD_CONTEXT *Context)
{
    if (InterlockedCompareExchange(&Context->Dead, 0, 0) != 0) {
        InterlockedIncrement(&Context->UsedWhileDead);
    }
}

/* One work item per DPC that acquired: allocated at DISPATCH_LEVEL,
   freed by its own routine (the one-shot pattern). */
typedef struct _RD_WORK {
    PIO_WORKITEM Item;
    RD_CONTEXT *Context;
} RD_WORK;

static IO_WORKITEM_ROUTINE RdWorkRoutine;

static VOID NTAPI
RdWorkRoutine(_In_ PDEVICE_OBJECT DeviceObject, _In_opt_ PVOID Parameter)
{
    RD_WORK *Work = (RD_WORK *)Parameter;
    RD_CONTEXT *Context = Work->Context;

    UNREFERENCED_PARAMETER(DeviceObject);
    RdUse(Context);
    WdkmTestSleep(1);          /* hold it across a moment: the unload meets it */
    RdUse(Context);
    IoFreeWorkItem(Work->Item);
    WdkmTestFree(Work);
    InterlockedIncrement(&Context->WorkDone);
    /* Last: after this the unload may free the context. */
    if (WdkmRundownRelease(&Context->Rundown) != STATUS_SUCCESS) {
        InterlockedIncrement(&Context->Unexpected);
    }
}

static KDEFERRED_ROUTINE RdTimerDpc;

static VOID NTAPI
RdTimerDpc(_In_ PKDPC Dpc, _In_opt_ PVOID DeferredContext, _In_opt_ PVOID Argument1,
           _In_opt_ PVOID Argument2)
{
    RD_CONTEXT *Context = (RD_CONTEXT *)DeferredContext;
    RD_WORK *Work;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    InterlockedIncrement(&Context->DpcRuns);
    Status = WdkmRundownAcquire(&Context->Rundown);
    if (Status == STATUS_DELETE_PENDING) {
        InterlockedIncrement(&Context->DpcRefused);
        return;
    }
    if (Status != STATUS_SUCCESS) {
        InterlockedIncrement(&Context->Unexpected);
        return;
    }
    InterlockedIncrement(&Context->DpcAcquired);
    RdUse(Context);
    /* Hand the acquisition to a work item; without one, give it back. */
    Work = (RD_WORK *)WdkmTestAllocate(sizeof(*Work));
    if (Work != NULL) {
        Work->Context = Context;
        Work->Item = IoAllocateWorkItem(WdkmTestDeviceObject());
        if (Work->Item != NULL) {
            InterlockedIncrement(&Context->WorkQueued);
            IoQueueWorkItem(Work->Item, RdWorkRoutine, DelayedWorkQueue, Work);
            return;
        }
        WdkmTestFree(Work);
    }
    if (WdkmRundownRelease(&Context->Rundown) != STATUS_SUCCESS) {
        InterlockedIncrement(&Context->Unexpected);
    }
}

#define RD_USERS 3

/*
 * Thread 0 unloads, thread 1 holds one acquisition for a while (so that
 * the first, timed wait must time out), the others use the context in a
 * loop until they are refused.
 */
static VOID
RdThread(_In_ PWDKM_TEST_THREAD Thread)
{
    RD_CONTEXT *Context = (RD_CONTEXT *)Thread->Context;
    LARGE_INTEGER Timeout;
    NTSTATUS Status;

    if (Thread->Index == 0) {
        ULONG Spins = 0;

        WdkmTestSleep(100);    /* let the DPC and the users run */
        while (InterlockedCompareExchange(&Context->HolderIn, 0, 0) == 0 && Spins < 5000) {
            WdkmTestSleep(1);
            Spins += 1;
        }
        Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(20);
        Context->FirstWait = WdkmRundownWait(&Context->Rundown, &Timeout);
        Timeout.QuadPart = 0;
        Context->SecondWait = WdkmRundownWait(&Context->Rundown, &Timeout);
        Context->FinalWait = WdkmRundownWait(&Context->Rundown, NULL);
        InterlockedExchange(&Context->Dead, 1);
        return;
    }
    if (Thread->Index == 1) {
        Status = WdkmRundownAcquire(&Context->Rundown);
        if (Status != STATUS_SUCCESS) {
            InterlockedIncrement(&Context->Unexpected);
            return;
        }
        InterlockedExchange(&Context->HolderIn, 1);
        WdkmTestSleep(300);
        RdUse(Context);
        /* A second waiter while the unload waits: refused, changes nothing. */
        Timeout.QuadPart = 0;
        Context->ConcurrentWait = WdkmRundownWait(&Context->Rundown, &Timeout);
        if (WdkmRundownRelease(&Context->Rundown) != STATUS_SUCCESS) {
            InterlockedIncrement(&Context->Unexpected);
        }
        return;
    }
    while (!WdkmTestThreadShouldStop(Thread)) {
        Status = WdkmRundownAcquire(&Context->Rundown);
        if (Status == STATUS_DELETE_PENDING) {
            InterlockedIncrement(&Context->ThreadRefused);
            return;
        }
        if (Status != STATUS_SUCCESS) {
            InterlockedIncrement(&Context->Unexpected);
            return;
        }
        InterlockedIncrement(&Context->ThreadUses);
        RdUse(Context);
        WdkmTestSleep(0);
        RdUse(Context);
        if (WdkmRundownRelease(&Context->Rundown) != STATUS_SUCCESS) {
            InterlockedIncrement(&Context->Unexpected);
        }
    }
}

VOID
WdkmTestRundownUnload(_Inout_ PWDKM_TEST Test)
{
    RD_CONTEXT *Context;
    LARGE_INTEGER DueTime;
    NTSTATUS Status;

    Context = (RD_CONTEXT *)WdkmTestAllocate(sizeof(*Context));
    WDKM_CHECK_NOT_NULL(Test, Context);
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WdkmRundownInitialize(&Context->Rundown));
    KeInitializeDpc(&Context->Dpc, RdTimerDpc, Context);
    KeInitializeTimer(&Context->Timer);
    DueTime.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(2);
    (VOID)KeSetTimerEx(&Context->Timer, DueTime, 2, &Context->Dpc);

    Status = WdkmTestRunThreads(RD_USERS + 2, RdThread, Context, 60000);
    /* The unload, continued: DPCs after the wait are refused; stop them. */
    WdkmTestSleep(20);
    (VOID)KeCancelTimer(&Context->Timer);
    KeFlushQueuedDpcs();
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status);
    WDKM_EXPECT_STATUS(Test, STATUS_TIMEOUT, Context->FirstWait);
    WDKM_EXPECT_STATUS(Test, STATUS_TIMEOUT, Context->SecondWait);
    WDKM_EXPECT_STATUS(Test, STATUS_INVALID_DEVICE_STATE, Context->ConcurrentWait);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Context->FinalWait);
    WDKM_EXPECT_EQ(Test, Context->UsedWhileDead, 0);
    WDKM_EXPECT_EQ(Test, Context->Unexpected, 0);
    /* Every work item the DPCs queued ran and gave its acquisition back
       before the wait returned. */
    WDKM_EXPECT_EQ(Test, Context->WorkDone, Context->WorkQueued);
    WDKM_EXPECT_GT(Test, Context->DpcAcquired, 0);
    WDKM_EXPECT_GT(Test, Context->WorkQueued, 0);
    WDKM_EXPECT_GT(Test, Context->DpcRefused, 0);
    WDKM_EXPECT_GT(Test, Context->ThreadUses, 0);
    WDKM_EXPECT_EQ(Test, Context->ThreadRefused, RD_USERS);
    /* After the rundown: refusals change nothing, a wait again succeeds. */
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_NOT_HELD, WdkmRundownRelease(&Context->Rundown));
    WDKM_EXPECT_STATUS(Test, STATUS_DELETE_PENDING, WdkmRundownAcquire(&Context->Rundown));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmRundownWait(&Context->Rundown, NULL));
    /* And a reuse cycle, as after a device restart. */
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmRundownReInitialize(&Context->Rundown));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmRundownAcquire(&Context->Rundown));
    DueTime.QuadPart = 0;
    WDKM_EXPECT_STATUS(Test, STATUS_TIMEOUT, WdkmRundownWait(&Context->Rundown, &DueTime));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmRundownRelease(&Context->Rundown));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmRundownWait(&Context->Rundown, NULL));
    WdkmTestLog(Test, "rundown: %ld DPC runs (%ld acquired, %ld refused), %ld work items, "
                "%ld thread uses", Context->DpcRuns, Context->DpcAcquired, Context->DpcRefused,
                Context->WorkDone, Context->ThreadUses);
    if (Status == STATUS_SUCCESS) {
        WdkmTestFree(Context);      /* else threads may still use it: leak it */
    }
}
