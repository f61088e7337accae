/*
 * host_attack39_test.c - the issuing thread's exit and its IRPs
 * (WdkmHostIrpQueueToThread), attacked from docs/host-testing.md and
 * wdkm_host_io.h alone: what a driver author would test with it.
 *
 * The harness is host_test.h's, as host_emulation_test.c's.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ntddk.h>
#include <wdkm_host.h>

#include "host_test.h"

static LONGLONG NowMs(void)
{
    struct timespec Now;
    clock_gettime(CLOCK_MONOTONIC, &Now);
    return (LONGLONG)Now.tv_sec * 1000 + Now.tv_nsec / 1000000;
}

static LONG Load(volatile LONG *Value)
{
    return __atomic_load_n(Value, __ATOMIC_ACQUIRE);
}

static VOID Store(volatile LONG *Value, LONG New)
{
    __atomic_store_n(Value, New, __ATOMIC_RELEASE);
}

static VOID Add(volatile LONG *Value)
{
    __atomic_add_fetch(Value, 1, __ATOMIC_ACQ_REL);
}

/* Polls until *Value == Expected or a generous give-up bound passed. */
static BOOLEAN WaitFor(volatile LONG *Value, LONG Expected, LONGLONG GiveUpMs)
{
    LONGLONG End = NowMs() + GiveUpMs;

    while (Load(Value) != Expected) {
        if (NowMs() > End) {
            return FALSE;
        }
        sched_yield();
    }
    return TRUE;
}

/* A system thread and its object (referenced), for waits and identity. */
typedef struct _A39_THREAD {
    HANDLE Handle;
    PVOID Object;
} A39_THREAD;

static VOID StartThread(A39_THREAD *Thread, PKSTART_ROUTINE Routine, PVOID Context)
{
    NTSTATUS Status;

    memset(Thread, 0, sizeof(*Thread));
    Status = PsCreateSystemThread(&Thread->Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, Routine,
                                  Context);
    CHECK(Status == STATUS_SUCCESS);
    if (Status == STATUS_SUCCESS) {
        CHECK(ObReferenceObjectByHandle(Thread->Handle, SYNCHRONIZE, *PsThreadType, KernelMode,
                                        &Thread->Object, NULL) == STATUS_SUCCESS);
    }
}

static BOOLEAN ThreadEnded(A39_THREAD *Thread)
{
    LARGE_INTEGER Zero;

    Zero.QuadPart = 0;
    return KeWaitForSingleObject(Thread->Object, Executive, KernelMode, FALSE, &Zero) ==
           STATUS_SUCCESS;
}

static VOID JoinThread(A39_THREAD *Thread)
{
    if (Thread->Object != NULL) {
        CHECK(KeWaitForSingleObject(Thread->Object, Executive, KernelMode, FALSE, NULL) ==
              STATUS_SUCCESS);
        ObDereferenceObject(Thread->Object);
        Thread->Object = NULL;
    }
    if (Thread->Handle != NULL) {
        CHECK(ZwClose(Thread->Handle) == STATUS_SUCCESS);
        Thread->Handle = NULL;
    }
}

/* ---------------------------------------------------------------------- */
/* A driver's request, issued by a thread that then exits                  */
/* ---------------------------------------------------------------------- */

typedef enum _A39_CANCEL_MODE {
    A39CompleteInCancel,    /* the cancel routine completes the IRP (a queued request) */
    A39WakeWorker,          /* it only wakes the worker (a request being processed) */
    A39Lose,                /* it drops the IRP: a driver bug */
    A39NoRoutine            /* no cancel routine at all: a driver bug too */
} A39_CANCEL_MODE;

#define A39_MAX_IRPS 4

typedef struct _A39_CASE {
    A39_CANCEL_MODE Mode;
    ULONG Count;
    PIRP Irps[A39_MAX_IRPS];
    PETHREAD volatile Issuer;
    BOOLEAN Terminate;              /* PsTerminateSystemThread instead of returning */
    BOOLEAN FreeInHook;             /* the completion hook frees the IRP */
    BOOLEAN CompleteBeforeExit;     /* the issuer's driver completes them before it exits */
    BOOLEAN FreeBeforeExit;         /* ... and the test frees them, still before the exit */
    LONG SpinAfterCompleteMs;       /* the cancel routine goes on after completing */
    volatile LONG Issued;           /* the issuer queued its IRPs */
    volatile LONG Go;               /* the issuer may exit */
    /* What the cancel routines saw. */
    volatile LONG CancelCalls;
    volatile LONG CancelOnIssuer;
    volatile LONG CancelIrqlApc;        /* Irp->CancelIrql == APC_LEVEL */
    volatile LONG CancelAtDispatch;     /* entered at DISPATCH_LEVEL (cancel spin lock held) */
    volatile LONG CancelAfterRelease;   /* at APC_LEVEL once the lock was let go */
    volatile LONG CancelSawFlag;        /* Irp->Cancel */
    volatile LONG CancelObjectSignalled; /* the issuer's object was already signalled */
    /* What the completion hooks saw. */
    volatile LONG HookCalls;
    volatile LONG HookOnIssuer;
    volatile LONG HookAtApc;
    /* The worker of A39WakeWorker. */
    KEVENT Wake;
    volatile LONG WorkerMayComplete;
    volatile LONG WorkerCompleted;
    PETHREAD volatile Worker;
    PVOID IssuerObject;
} A39_CASE;

static VOID A39CancelRoutine(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    A39_CASE *Case = (A39_CASE *)Irp->Tail.Overlay.DriverContext[0];
    KIRQL Irql = Irp->CancelIrql;

    (VOID)DeviceObject;
    Add(&Case->CancelCalls);
    if (PsGetCurrentThread() == Case->Issuer) {
        Add(&Case->CancelOnIssuer);
    }
    if (Irql == APC_LEVEL) {
        Add(&Case->CancelIrqlApc);
    }
    if (KeGetCurrentIrql() == DISPATCH_LEVEL) {
        Add(&Case->CancelAtDispatch);
    }
    if (Irp->Cancel) {
        Add(&Case->CancelSawFlag);
    }
    IoReleaseCancelSpinLock(Irql);
    if (KeGetCurrentIrql() == APC_LEVEL) {
        Add(&Case->CancelAfterRelease);
    }
    switch (Case->Mode) {
    case A39CompleteInCancel:
        Irp->IoStatus.Status = STATUS_CANCELLED;
        Irp->IoStatus.Information = 0;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        if (Case->SpinAfterCompleteMs > 0) {
            LONGLONG End = NowMs() + Case->SpinAfterCompleteMs;
            while (NowMs() < End) {
            }
        }
        break;
    case A39WakeWorker:
        (VOID)KeSetEvent(&Case->Wake, IO_NO_INCREMENT, FALSE);
        break;
    default:
        break;      /* lost */
    }
}

static VOID A39Hook(PIRP Irp, PVOID Context)
{
    A39_CASE *Case = (A39_CASE *)Context;

    if (PsGetCurrentThread() == Case->Issuer) {
        Add(&Case->HookOnIssuer);
    }
    if (KeGetCurrentIrql() == APC_LEVEL) {
        Add(&Case->HookAtApc);
    }
    if (Case->FreeInHook) {
        WdkmHostIrpFree(Irp);
    }
    Add(&Case->HookCalls);
}

static VOID A39CaseInit(A39_CASE *Case, A39_CANCEL_MODE Mode, ULONG Count)
{
    memset(Case, 0, sizeof(*Case));
    Case->Mode = Mode;
    Case->Count = Count;
    KeInitializeEvent(&Case->Wake, SynchronizationEvent, FALSE);
    for (ULONG Index = 0; Index < Count; Index++) {
        Case->Irps[Index] = WdkmHostIrpAllocate(IRP_MJ_DEVICE_CONTROL, 0x222004, NULL);
        CHECK(Case->Irps[Index] != NULL);
        Case->Irps[Index]->Tail.Overlay.DriverContext[0] = Case;
        WdkmHostIrpSetCompletionHook(Case->Irps[Index], A39Hook, Case);
    }
}

/* The driver's dispatch routine: pend the request with a cancel routine. */
static VOID A39Dispatch(A39_CASE *Case, PIRP Irp)
{
    IoMarkIrpPending(Irp);
    if (Case->Mode != A39NoRoutine) {
        (VOID)IoSetCancelRoutine(Irp, A39CancelRoutine);
    }
}

/* The driver completes a request it still owns (clears its routine first). */
static BOOLEAN A39DriverComplete(PIRP Irp, NTSTATUS Status)
{
    if (IoSetCancelRoutine(Irp, NULL) == NULL && Irp->Cancel) {
        return FALSE;       /* the cancel routine has it */
    }
    Irp->IoStatus.Status = Status;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return TRUE;
}

static VOID A39Issue(A39_CASE *Case)
{
    Case->Issuer = PsGetCurrentThread();
    for (ULONG Index = 0; Index < Case->Count; Index++) {
        WdkmHostIrpQueueToThread(Case->Irps[Index]);
        A39Dispatch(Case, Case->Irps[Index]);
    }
    if (Case->CompleteBeforeExit) {
        for (ULONG Index = 0; Index < Case->Count; Index++) {
            CHECK(A39DriverComplete(Case->Irps[Index], STATUS_SUCCESS));
        }
    }
    Store(&Case->Issued, 1);
}

static VOID NTAPI A39IssuerRoutine(PVOID Context)
{
    A39_CASE *Case = (A39_CASE *)Context;

    A39Issue(Case);
    (VOID)WaitFor(&Case->Go, 1, 30000);
    if (Case->Terminate) {
        (VOID)PsTerminateSystemThread(STATUS_SUCCESS);
        CHECK(!"PsTerminateSystemThread returned");
    }
}

static void *A39IssuerPthread(void *Context)
{
    A39IssuerRoutine(Context);
    return NULL;
}

/* Completes each IRP the cancel routine woke it for, once the test lets it. */
static VOID NTAPI A39WorkerRoutine(PVOID Context)
{
    A39_CASE *Case = (A39_CASE *)Context;
    LARGE_INTEGER Timeout;
    ULONG Done = 0;

    Case->Worker = PsGetCurrentThread();
    Timeout.QuadPart = -30000LL * 10000;
    while (Done < Case->Count) {
        if (KeWaitForSingleObject(&Case->Wake, Executive, KernelMode, FALSE, &Timeout) !=
            STATUS_SUCCESS) {
            return;
        }
        (VOID)WaitFor(&Case->WorkerMayComplete, 1, 30000);
        for (ULONG Index = 0; Index < Case->Count; Index++) {
            PIRP Irp = Case->Irps[Index];
            /* Woken by a cancel routine that ran: the IRP is the worker's. */
            if (Irp->Cancel && WdkmHostIrpCompletions(Irp) == 0) {
                Add(&Case->WorkerCompleted);
                Irp->IoStatus.Status = STATUS_CANCELLED;
                IoCompleteRequest(Irp, IO_NO_INCREMENT);
                Done++;
            }
        }
    }
}

static VOID A39FreeAll(A39_CASE *Case)
{
    if (Case->FreeInHook || Case->FreeBeforeExit) {
        return;
    }
    for (ULONG Index = 0; Index < Case->Count; Index++) {
        WdkmHostIrpFree(Case->Irps[Index]);
        Case->Irps[Index] = NULL;
    }
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                   */
/* ---------------------------------------------------------------------- */

static void TestDefaultTimeout(void)
{
    ULONG Previous = WdkmHostSetIrpCancelTimeout(1234);

    CHECK_EQ(Previous, 5000);
    CHECK_EQ(WdkmHostSetIrpCancelTimeout(Previous), 1234);
}

/* One queued request: cancelled on the exiting thread, CancelIrql APC_LEVEL,
   completed there, and the thread's object signalled only afterwards. */
static VOID RunQueuedCase(A39_CASE *Case, BOOLEAN Terminate)
{
    A39_THREAD Issuer;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    Case->Terminate = Terminate;
    StartThread(&Issuer, A39IssuerRoutine, Case);
    CHECK(WaitFor(&Case->Issued, 1, 10000));
    for (ULONG Index = 0; Index < Case->Count; Index++) {
        CHECK(Case->Irps[Index]->Tail.Overlay.Thread == Case->Issuer);
        CHECK_EQ(WdkmHostIrpCompletions(Case->Irps[Index]), 0);
        CHECK(!Case->Irps[Index]->Cancel);
    }
    CHECK_EQ(Load(&Case->CancelCalls), 0);      /* nothing before the exit */
    Store(&Case->Go, 1);
    JoinThread(&Issuer);
    CHECK_EQ(Load(&Case->CancelCalls), Case->Count);
    CHECK_EQ(Load(&Case->CancelOnIssuer), Case->Count);
    CHECK_EQ(Load(&Case->CancelIrqlApc), Case->Count);
    CHECK_EQ(Load(&Case->CancelAtDispatch), Case->Count);
    CHECK_EQ(Load(&Case->CancelAfterRelease), Case->Count);
    CHECK_EQ(Load(&Case->CancelSawFlag), Case->Count);
    CHECK_EQ(Load(&Case->HookCalls), Case->Count);
    CHECK_EQ(Load(&Case->HookOnIssuer), Case->Count);
    CHECK_EQ(Load(&Case->HookAtApc), Case->Count);
    for (ULONG Index = 0; Index < Case->Count; Index++) {
        CHECK_EQ(WdkmHostIrpCompletions(Case->Irps[Index]), 1);
        CHECK_EQ(Case->Irps[Index]->IoStatus.Status, STATUS_CANCELLED);
        CHECK(Case->Irps[Index]->PendingReturned);
        CHECK(Case->Irps[Index]->CancelRoutine == NULL);
    }
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    A39FreeAll(Case);
}

static void TestQueuedIrpCancelledOnExit(void)
{
    A39_CASE Case;

    A39CaseInit(&Case, A39CompleteInCancel, 1);
    RunQueuedCase(&Case, FALSE);
}

static void TestSeveralIrpsOneThread(void)
{
    A39_CASE Case;

    A39CaseInit(&Case, A39CompleteInCancel, A39_MAX_IRPS);
    RunQueuedCase(&Case, FALSE);
}

static void TestTerminateSystemThread(void)
{
    A39_CASE Case;

    A39CaseInit(&Case, A39CompleteInCancel, 2);
    RunQueuedCase(&Case, TRUE);
}

/* An adopted pthread: the same, and pthread_join sees the outcome. */
static void TestPthreadIssuer(void)
{
    A39_CASE Case;
    pthread_t Thread;

    A39CaseInit(&Case, A39CompleteInCancel, 2);
    Case.Go = 1;
    CHECK(pthread_create(&Thread, NULL, A39IssuerPthread, &Case) == 0);
    CHECK(pthread_join(Thread, NULL) == 0);
    CHECK_EQ(Load(&Case.CancelCalls), 2);
    CHECK_EQ(Load(&Case.CancelOnIssuer), 2);
    CHECK_EQ(Load(&Case.CancelIrqlApc), 2);
    CHECK_EQ(Load(&Case.HookCalls), 2);
    for (ULONG Index = 0; Index < 2; Index++) {
        CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[Index]), 1);
        CHECK_EQ(Case.Irps[Index]->IoStatus.Status, STATUS_CANCELLED);
    }
    A39FreeAll(&Case);
}

/* Two issuers: only the exiting one's IRP is cancelled. */
static void TestTwoThreadsOneExits(void)
{
    A39_CASE Staying, Leaving;
    A39_THREAD StayingThread, LeavingThread;

    A39CaseInit(&Staying, A39CompleteInCancel, 1);
    A39CaseInit(&Leaving, A39CompleteInCancel, 1);
    StartThread(&StayingThread, A39IssuerRoutine, &Staying);
    StartThread(&LeavingThread, A39IssuerRoutine, &Leaving);
    CHECK(WaitFor(&Staying.Issued, 1, 10000));
    CHECK(WaitFor(&Leaving.Issued, 1, 10000));
    Store(&Leaving.Go, 1);
    JoinThread(&LeavingThread);
    CHECK_EQ(WdkmHostIrpCompletions(Leaving.Irps[0]), 1);
    CHECK_EQ(Leaving.Irps[0]->IoStatus.Status, STATUS_CANCELLED);
    CHECK_EQ(Load(&Leaving.CancelOnIssuer), 1);
    /* The other thread's request is untouched. */
    CHECK_EQ(Load(&Staying.CancelCalls), 0);
    CHECK_EQ(WdkmHostIrpCompletions(Staying.Irps[0]), 0);
    CHECK(!Staying.Irps[0]->Cancel);
    CHECK(Staying.Irps[0]->CancelRoutine == A39CancelRoutine);
    CHECK(Staying.Irps[0]->Tail.Overlay.Thread == Staying.Issuer);
    Store(&Staying.Go, 1);
    JoinThread(&StayingThread);
    CHECK_EQ(WdkmHostIrpCompletions(Staying.Irps[0]), 1);
    CHECK_EQ(Load(&Staying.CancelOnIssuer), 1);
    A39FreeAll(&Staying);
    A39FreeAll(&Leaving);
}

/* A request a worker processes: the cancel routine only wakes the worker;
   the exit waits for the worker's completion. */
static void TestExitWaitsForWorker(void)
{
    A39_CASE Case;
    A39_THREAD Issuer, Worker;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    A39CaseInit(&Case, A39WakeWorker, 1);
    StartThread(&Worker, A39WorkerRoutine, &Case);
    StartThread(&Issuer, A39IssuerRoutine, &Case);
    CHECK(WaitFor(&Case.Issued, 1, 10000));
    Store(&Case.Go, 1);
    CHECK(WaitFor(&Case.CancelCalls, 1, 10000));
    /* The worker holds the IRP: the issuer cannot have finished exiting. */
    CHECK(!ThreadEnded(&Issuer));
    CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[0]), 0);
    CHECK(Case.Irps[0]->Tail.Overlay.Thread == Case.Issuer);
    Store(&Case.WorkerMayComplete, 1);
    JoinThread(&Issuer);
    CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[0]), 1);
    CHECK_EQ(Load(&Case.HookCalls), 1);
    CHECK_EQ(Load(&Case.HookOnIssuer), 0);      /* completed on the worker */
    CHECK_EQ(Load(&Case.WorkerCompleted), 1);
    CHECK_EQ(Load(&Case.CancelOnIssuer), 1);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    JoinThread(&Worker);
    A39FreeAll(&Case);
}

/* The bound runs out: the IRP is taken off the thread, still pending and
   completable later; the count goes up once per IRP; the wait is one
   bound for all of them together. */
static void TestTimeoutLostIrps(void)
{
    A39_CASE Case;
    A39_THREAD Issuer;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous = WdkmHostSetIrpCancelTimeout(300);
    LONGLONG Start, Elapsed;

    A39CaseInit(&Case, A39Lose, 3);
    StartThread(&Issuer, A39IssuerRoutine, &Case);
    CHECK(WaitFor(&Case.Issued, 1, 10000));
    Start = NowMs();
    Store(&Case.Go, 1);
    JoinThread(&Issuer);
    Elapsed = NowMs() - Start;
    CHECK_EQ(WdkmHostSetIrpCancelTimeout(Previous), 300);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts + 3);
    CHECK(Elapsed >= 250);
    CHECK(Elapsed < 3 * 300);       /* one bound, not one per IRP */
    CHECK_EQ(Load(&Case.CancelCalls), 3);
    for (ULONG Index = 0; Index < 3; Index++) {
        PIRP Irp = Case.Irps[Index];
        CHECK(Irp->Tail.Overlay.Thread == NULL);
        CHECK(Irp->Cancel);
        CHECK_EQ(WdkmHostIrpCompletions(Irp), 0);
        /* Whoever holds it may still complete it, after the thread is gone. */
        Irp->IoStatus.Status = STATUS_CANCELLED;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    }
    CHECK_EQ(Load(&Case.HookCalls), 3);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts + 3);
    A39FreeAll(&Case);
}

/* A driver that never set a cancel routine: IoCancelIrp finds none, the
   exit still waits, then gives up. */
static void TestTimeoutNoCancelRoutine(void)
{
    A39_CASE Case;
    A39_THREAD Issuer;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous = WdkmHostSetIrpCancelTimeout(100);

    A39CaseInit(&Case, A39NoRoutine, 1);
    StartThread(&Issuer, A39IssuerRoutine, &Case);
    CHECK(WaitFor(&Case.Issued, 1, 10000));
    Store(&Case.Go, 1);
    JoinThread(&Issuer);
    (VOID)WdkmHostSetIrpCancelTimeout(Previous);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts + 1);
    CHECK(Case.Irps[0]->Cancel);
    CHECK(Case.Irps[0]->Tail.Overlay.Thread == NULL);
    CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[0]), 0);
    /* Taken off its thread: free it without completing (never completed). */
    A39FreeAll(&Case);
}

/* Bound 0: no wait at all; a request completed by its cancel routine
   is not a timeout, a lost one is. */
static void TestTimeoutZero(void)
{
    A39_CASE Good, Lost;
    A39_THREAD GoodThread, LostThread;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous = WdkmHostSetIrpCancelTimeout(0);

    A39CaseInit(&Good, A39CompleteInCancel, 1);
    A39CaseInit(&Lost, A39Lose, 1);
    Good.Go = 1;
    Lost.Go = 1;
    StartThread(&GoodThread, A39IssuerRoutine, &Good);
    JoinThread(&GoodThread);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    CHECK_EQ(WdkmHostIrpCompletions(Good.Irps[0]), 1);
    StartThread(&LostThread, A39IssuerRoutine, &Lost);
    JoinThread(&LostThread);
    (VOID)WdkmHostSetIrpCancelTimeout(Previous);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts + 1);
    CHECK(Lost.Irps[0]->Tail.Overlay.Thread == NULL);
    CHECK_EQ(WdkmHostIrpCompletions(Lost.Irps[0]), 0);
    A39FreeAll(&Good);
    A39FreeAll(&Lost);
}

/* A worker that completes only after the bound ran out: counted once, then
   its completion of the (taken off) IRP is an ordinary one. */
static void TestWorkerLateAfterTimeout(void)
{
    A39_CASE Case;
    A39_THREAD Issuer, Worker;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous = WdkmHostSetIrpCancelTimeout(100);

    A39CaseInit(&Case, A39WakeWorker, 1);
    StartThread(&Worker, A39WorkerRoutine, &Case);
    StartThread(&Issuer, A39IssuerRoutine, &Case);
    CHECK(WaitFor(&Case.Issued, 1, 10000));
    Store(&Case.Go, 1);
    JoinThread(&Issuer);
    (VOID)WdkmHostSetIrpCancelTimeout(Previous);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts + 1);
    CHECK(Case.Irps[0]->Tail.Overlay.Thread == NULL);
    CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[0]), 0);
    Store(&Case.WorkerMayComplete, 1);
    JoinThread(&Worker);
    CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[0]), 1);
    CHECK_EQ(Load(&Case.HookCalls), 1);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts + 1);
    A39FreeAll(&Case);
}

/* The completion hook frees the IRP, inside the exit's IoCancelIrp. */
static void TestFreedInHookDuringExit(void)
{
    A39_CASE Case;

    A39CaseInit(&Case, A39CompleteInCancel, 3);
    Case.FreeInHook = TRUE;
    Case.Go = 1;
    {
        A39_THREAD Issuer;
        StartThread(&Issuer, A39IssuerRoutine, &Case);
        JoinThread(&Issuer);
    }
    CHECK_EQ(Load(&Case.HookCalls), 3);
    CHECK_EQ(Load(&Case.CancelCalls), 3);
}

/* The worker's hook frees the IRP while the exit waits for it. */
static void TestFreedInWorkerHookDuringExit(void)
{
    A39_CASE Case;
    A39_THREAD Issuer, Worker;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    A39CaseInit(&Case, A39WakeWorker, 1);
    Case.FreeInHook = TRUE;
    Case.WorkerMayComplete = 1;
    Case.Go = 1;
    StartThread(&Worker, A39WorkerRoutine, &Case);
    StartThread(&Issuer, A39IssuerRoutine, &Case);
    JoinThread(&Issuer);
    CHECK_EQ(Load(&Case.HookCalls), 1);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    JoinThread(&Worker);
}

/* The test sees the count read 1 and frees the IRP while the exit's
   IoCancelIrp (the cancel routine that completed it) still runs. */
static void TestFreedByTestDuringExitCancel(void)
{
    A39_CASE Case;
    A39_THREAD Issuer;

    A39CaseInit(&Case, A39CompleteInCancel, 1);
    Case.SpinAfterCompleteMs = 50;
    Case.FreeBeforeExit = TRUE;     /* the test frees it, not A39FreeAll */
    StartThread(&Issuer, A39IssuerRoutine, &Case);
    CHECK(WaitFor(&Case.Issued, 1, 10000));
    Store(&Case.Go, 1);
    CHECK(WaitFor(&Case.HookCalls, 1, 10000));
    CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[0]), 1);
    WdkmHostIrpFree(Case.Irps[0]);
    Case.Irps[0] = NULL;
    JoinThread(&Issuer);
    CHECK_EQ(Load(&Case.CancelCalls), 1);
}

/* Completed by the driver before the exit: nothing happens at the exit. */
static void TestCompletedBeforeExit(void)
{
    A39_CASE Case;
    A39_THREAD Issuer;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    A39CaseInit(&Case, A39CompleteInCancel, 2);
    Case.CompleteBeforeExit = TRUE;
    StartThread(&Issuer, A39IssuerRoutine, &Case);
    CHECK(WaitFor(&Case.Issued, 1, 10000));
    CHECK_EQ(Load(&Case.HookCalls), 2);
    Store(&Case.Go, 1);
    JoinThread(&Issuer);
    CHECK_EQ(Load(&Case.CancelCalls), 0);
    CHECK_EQ(Load(&Case.HookCalls), 2);
    for (ULONG Index = 0; Index < 2; Index++) {
        CHECK(!Case.Irps[Index]->Cancel);
        CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[Index]), 1);
        CHECK_EQ(Case.Irps[Index]->IoStatus.Status, STATUS_SUCCESS);
    }
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    A39FreeAll(&Case);
}

/* ... and freed too before the exit: the exit must not touch them. */
static void TestCompletedAndFreedBeforeExit(void)
{
    A39_CASE Case;
    A39_THREAD Issuer;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    A39CaseInit(&Case, A39CompleteInCancel, 2);
    Case.CompleteBeforeExit = TRUE;
    Case.FreeBeforeExit = TRUE;
    StartThread(&Issuer, A39IssuerRoutine, &Case);
    CHECK(WaitFor(&Case.Issued, 1, 10000));
    for (ULONG Index = 0; Index < 2; Index++) {
        WdkmHostIrpFree(Case.Irps[Index]);
        Case.Irps[Index] = NULL;
    }
    Store(&Case.Go, 1);
    JoinThread(&Issuer);
    CHECK_EQ(Load(&Case.CancelCalls), 0);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
}

/* Pending, never completed, freed by the test before its issuer exits (no
   cancel routine: the free allows it): the exit has nothing left. */
static void TestPendingFreedBeforeExit(void)
{
    A39_CASE Case;
    A39_THREAD Issuer;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    A39CaseInit(&Case, A39NoRoutine, 1);
    Case.FreeBeforeExit = TRUE;
    StartThread(&Issuer, A39IssuerRoutine, &Case);
    CHECK(WaitFor(&Case.Issued, 1, 10000));
    WdkmHostIrpFree(Case.Irps[0]);
    Case.Irps[0] = NULL;
    Store(&Case.Go, 1);
    JoinThread(&Issuer);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
}

/* Queued twice by the same thread: one entry, one cancel at the exit. */
static VOID NTAPI A39QueueTwiceRoutine(PVOID Context)
{
    A39_CASE *Case = (A39_CASE *)Context;

    Case->Issuer = PsGetCurrentThread();
    WdkmHostIrpQueueToThread(Case->Irps[0]);
    WdkmHostIrpQueueToThread(Case->Irps[0]);
    A39Dispatch(Case, Case->Irps[0]);
    WdkmHostIrpQueueToThread(Case->Irps[0]);    /* even after the driver saw it */
    Store(&Case->Issued, 1);
}

static void TestQueuedTwiceSameThread(void)
{
    A39_CASE Case;
    A39_THREAD Issuer;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    A39CaseInit(&Case, A39CompleteInCancel, 1);
    StartThread(&Issuer, A39QueueTwiceRoutine, &Case);
    JoinThread(&Issuer);
    CHECK_EQ(Load(&Case.CancelCalls), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[0]), 1);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    A39FreeAll(&Case);
}

/* Queued on one thread, then on another: it moves; the first's exit leaves
   it alone, the second's cancels it. */
typedef struct _A39_MOVE {
    A39_CASE *Case;
    volatile LONG Step;     /* 1: first queued it; 2: second queued it */
    volatile LONG FirstGo;
    volatile LONG SecondGo;
    PETHREAD volatile First;
    PETHREAD volatile Second;
} A39_MOVE;

static VOID NTAPI A39MoveFirst(PVOID Context)
{
    A39_MOVE *Move = (A39_MOVE *)Context;

    Move->First = PsGetCurrentThread();
    WdkmHostIrpQueueToThread(Move->Case->Irps[0]);
    A39Dispatch(Move->Case, Move->Case->Irps[0]);
    Store(&Move->Step, 1);
    (VOID)WaitFor(&Move->FirstGo, 1, 30000);
}

static VOID NTAPI A39MoveSecond(PVOID Context)
{
    A39_MOVE *Move = (A39_MOVE *)Context;

    Move->Second = PsGetCurrentThread();
    Move->Case->Issuer = Move->Second;
    (VOID)WaitFor(&Move->Step, 1, 30000);
    WdkmHostIrpQueueToThread(Move->Case->Irps[0]);
    Store(&Move->Step, 2);
    (VOID)WaitFor(&Move->SecondGo, 1, 30000);
}

static void TestQueuedToTwoThreads(void)
{
    A39_CASE Case;
    A39_MOVE Move;
    A39_THREAD First, Second;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    A39CaseInit(&Case, A39CompleteInCancel, 1);
    memset(&Move, 0, sizeof(Move));
    Move.Case = &Case;
    StartThread(&First, A39MoveFirst, &Move);
    StartThread(&Second, A39MoveSecond, &Move);
    CHECK(WaitFor(&Move.Step, 2, 10000));
    CHECK(Case.Irps[0]->Tail.Overlay.Thread == Move.Second);
    Store(&Move.FirstGo, 1);
    JoinThread(&First);
    CHECK_EQ(Load(&Case.CancelCalls), 0);
    CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[0]), 0);
    CHECK(!Case.Irps[0]->Cancel);
    Store(&Move.SecondGo, 1);
    JoinThread(&Second);
    CHECK_EQ(Load(&Case.CancelCalls), 1);
    CHECK_EQ(Load(&Case.CancelOnIssuer), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[0]), 1);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    A39FreeAll(&Case);
}

/* Completed before queueing: "not queued"; the exit does nothing. */
static VOID NTAPI A39QueueCompletedRoutine(PVOID Context)
{
    A39_CASE *Case = (A39_CASE *)Context;

    Case->Issuer = PsGetCurrentThread();
    WdkmHostIrpQueueToThread(Case->Irps[0]);
    Store(&Case->Issued, 1);
}

static void TestQueueCompletedIrp(void)
{
    A39_CASE Case;
    A39_THREAD Issuer;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();

    A39CaseInit(&Case, A39CompleteInCancel, 1);
    Case.Irps[0]->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(Case.Irps[0], IO_NO_INCREMENT);
    StartThread(&Issuer, A39QueueCompletedRoutine, &Case);
    JoinThread(&Issuer);
    CHECK(Case.Irps[0]->Tail.Overlay.Thread == NULL);
    CHECK(!Case.Irps[0]->Cancel);
    CHECK_EQ(WdkmHostIrpCompletions(Case.Irps[0]), 1);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    A39FreeAll(&Case);
}

/* A CancelIoEx the driver lost earlier: the exit's IoCancelIrp finds no
   routine, waits, and counts it. */
static void TestCancelledEarlierAndLost(void)
{
    A39_CASE Case;
    A39_THREAD Issuer;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous;

    A39CaseInit(&Case, A39Lose, 1);
    StartThread(&Issuer, A39IssuerRoutine, &Case);
    CHECK(WaitFor(&Case.Issued, 1, 10000));
    CHECK(IoCancelIrp(Case.Irps[0]));
    CHECK_EQ(Load(&Case.CancelCalls), 1);
    Previous = WdkmHostSetIrpCancelTimeout(100);
    Store(&Case.Go, 1);
    JoinThread(&Issuer);
    (VOID)WdkmHostSetIrpCancelTimeout(Previous);
    CHECK_EQ(Load(&Case.CancelCalls), 1);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts + 1);
    CHECK(Case.Irps[0]->Tail.Overlay.Thread == NULL);
    Case.Irps[0]->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(Case.Irps[0], IO_NO_INCREMENT);
    A39FreeAll(&Case);
}

/* The race: the driver completes the request (clearing its cancel routine
   first) just as the issuer exits, under random interrupt injection.
   Exactly one side completes it, and the exit's wait covers a completion
   that the driver had started but not finished. */
typedef struct _A39_RACE {
    A39_CASE Case;
    volatile LONG Published;
    volatile LONG DriverCompleted;
    volatile LONG DriverTook;       /* the driver cleared the routine first */
    ULONG Round;
} A39_RACE;

static VOID Spin(ULONG Loops)
{
    volatile ULONG Count = 0;

    while (Count < Loops) {
        Count = Count + 1;
    }
}

static VOID NTAPI A39RaceIssuer(PVOID Context)
{
    A39_RACE *Race = (A39_RACE *)Context;

    A39Issue(&Race->Case);
    Store(&Race->Published, 1);
    Spin((Race->Round * 7919u) % 20000u);
}

static VOID NTAPI A39RaceDriver(PVOID Context)
{
    A39_RACE *Race = (A39_RACE *)Context;
    PIRP Irp;

    (VOID)WaitFor(&Race->Published, 1, 30000);
    Irp = Race->Case.Irps[0];
    Spin((Race->Round * 104729u) % 20000u);
    if (IoSetCancelRoutine(Irp, NULL) != NULL) {
        Store(&Race->DriverTook, 1);
        Spin((Race->Round * 31u) % 20000u);     /* the exit may come now */
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        Store(&Race->DriverCompleted, 1);
    }
}

static void TestCompletionRacesExit(void)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous = WdkmHostSetIrpCancelTimeout(20000);
    LONG DriverWins = 0, CancelWins = 0;
    BOOLEAN Injecting = !WdkmHostInterruptsActive(NULL);

    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 39;
    Settings.MeanIntervalMicroseconds = 100;
    Settings.DpcWeight = 1;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 200;
    if (Injecting) {
        WdkmHostInterruptsStart(&Settings);
    }
    for (ULONG Round = 0; Round < 200 && !CurrentTestFailed; Round++) {
        A39_RACE Race;
        A39_THREAD Issuer, Driver;

        memset(&Race, 0, sizeof(Race));
        A39CaseInit(&Race.Case, A39CompleteInCancel, 1);
        Race.Round = Round;
        Race.Case.Go = 1;
        StartThread(&Driver, A39RaceDriver, &Race);
        StartThread(&Issuer, A39RaceIssuer, &Race);
        JoinThread(&Issuer);
        /* The exit waited for whichever side completes it. */
        CHECK_EQ(WdkmHostIrpCompletions(Race.Case.Irps[0]), 1);
        JoinThread(&Driver);
        CHECK_EQ(WdkmHostIrpCompletions(Race.Case.Irps[0]), 1);
        if (Load(&Race.DriverTook)) {
            CHECK_EQ(Race.Case.Irps[0]->IoStatus.Status, STATUS_SUCCESS);
            DriverWins++;
        } else {
            CHECK_EQ(Race.Case.Irps[0]->IoStatus.Status, STATUS_CANCELLED);
            CHECK_EQ(Load(&Race.Case.CancelOnIssuer), 1);
            CancelWins++;
        }
        A39FreeAll(&Race.Case);
    }
    if (Injecting) {
        WdkmHostInterruptsStop();
    }
    (VOID)WdkmHostSetIrpCancelTimeout(Previous);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts);
    CHECK(DriverWins + CancelWins == 200 || CurrentTestFailed);
}

/* A bug check in the cancel routine an exit runs: only a handler takes it;
   the exit must still end (no hang), and the IRP is counted or completed. */
static volatile LONG HandlerCalls;

static VOID A39Handler(const WDKM_HOST_BUGCHECK *Bugcheck, PVOID Context)
{
    (VOID)Bugcheck;
    (VOID)Context;
    Add(&HandlerCalls);
}

static VOID A39BadCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    (VOID)DeviceObject;
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    /* Completes with a cancel routine still set: CANCEL_STATE_IN_COMPLETED_IRP. */
    (VOID)IoSetCancelRoutine(Irp, A39BadCancel);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static VOID NTAPI A39BadIssuer(PVOID Context)
{
    PIRP Irp = (PIRP)Context;

    WdkmHostIrpQueueToThread(Irp);
    IoMarkIrpPending(Irp);
    (VOID)IoSetCancelRoutine(Irp, A39BadCancel);
}

static void TestBugcheckInExitCancel(void)
{
    A39_THREAD Issuer;
    PIRP Irp = WdkmHostIrpAllocate(IRP_MJ_DEVICE_CONTROL, 0, NULL);
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous = WdkmHostSetIrpCancelTimeout(100);

    HandlerCalls = 0;
    WdkmHostSetBugcheckHandler(A39Handler, NULL);
    StartThread(&Issuer, A39BadIssuer, Irp);
    JoinThread(&Issuer);
    WdkmHostSetBugcheckHandler(NULL, NULL);
    (VOID)WdkmHostSetIrpCancelTimeout(Previous);
    CHECK_EQ(Load(&HandlerCalls), 1);
    /* The completion was refused: the IRP is still pending, and the exit
       gave up on it after the bound. */
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 0);
    CHECK_EQ(WdkmHostIrpCancelTimeouts(), Timeouts + 1);
    CHECK(Irp->Tail.Overlay.Thread == NULL);
    (VOID)IoSetCancelRoutine(Irp, NULL);
    WdkmHostIrpFree(Irp);
}

int main(void)
{
    RunTest("default_timeout", TestDefaultTimeout);
    RunTest("queued_irp_cancelled_on_exit", TestQueuedIrpCancelledOnExit);
    RunTest("several_irps_one_thread", TestSeveralIrpsOneThread);
    RunTest("terminate_system_thread", TestTerminateSystemThread);
    RunTest("pthread_issuer", TestPthreadIssuer);
    RunTest("two_threads_one_exits", TestTwoThreadsOneExits);
    RunTest("exit_waits_for_worker", TestExitWaitsForWorker);
    RunTest("timeout_lost_irps", TestTimeoutLostIrps);
    RunTest("timeout_no_cancel_routine", TestTimeoutNoCancelRoutine);
    RunTest("timeout_zero", TestTimeoutZero);
    RunTest("worker_late_after_timeout", TestWorkerLateAfterTimeout);
    RunTest("freed_in_hook_during_exit", TestFreedInHookDuringExit);
    RunTest("freed_in_worker_hook_during_exit", TestFreedInWorkerHookDuringExit);
    RunTest("freed_by_test_during_exit_cancel", TestFreedByTestDuringExitCancel);
    RunTest("completed_before_exit", TestCompletedBeforeExit);
    RunTest("completed_and_freed_before_exit", TestCompletedAndFreedBeforeExit);
    RunTest("pending_freed_before_exit", TestPendingFreedBeforeExit);
    RunTest("queued_twice_same_thread", TestQueuedTwiceSameThread);
    RunTest("queued_to_two_threads", TestQueuedToTwoThreads);
    RunTest("queue_completed_irp", TestQueueCompletedIrp);
    RunTest("cancelled_earlier_and_lost", TestCancelledEarlierAndLost);
    RunTest("completion_races_exit", TestCompletionRacesExit);
    RunTest("bugcheck_in_exit_cancel", TestBugcheckInExitCancel);
    return HostTestSummary();
}
