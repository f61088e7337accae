/*
 * host_emulation_test.c - tests of the user-mode NT kernel emulation.
 *
 * The harness (one PASS/FAIL line per test, the checks made after each)
 * is host_test.h's.
 */
#define _GNU_SOURCE     /* sched_setaffinity, CPU_SET */

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ntddk.h>
#include <wdkm_host.h>

#include "host_test.h"

/* ---------------------------------------------------------------------- */
/* Harness                                                                 */
/* ---------------------------------------------------------------------- */

static WDKM_HOST_BUGCHECK LastBugcheck;

/* Runs Statement, which must bug check with ExpectedCode; LastBugcheck gets it. */
#define EXPECT_BUGCHECK(ExpectedCode, Statement)                                                   \
    do {                                                                                   \
        WDKM_HOST_BUGCHECK_TRAP Trap_;                                                     \
        memset(&LastBugcheck, 0, sizeof(LastBugcheck));                                    \
        if (WDKM_HOST_TRY(&Trap_)) {                                                       \
            Statement;                                                                     \
            WdkmHostDisarm(&Trap_);                                                        \
            fprintf(stderr, "  %s:%d: no bug check from %s\n", __FILE__, __LINE__, #Statement); \
            CurrentTestFailed = 1;                                                         \
        } else {                                                                           \
            LastBugcheck = Trap_.Bugcheck;                                                 \
            if (Trap_.Bugcheck.Code != (ULONG)(ExpectedCode)) {                                    \
                fprintf(stderr, "  %s:%d: %s bug checked 0x%X (%s), expected %s\n", __FILE__, \
                        __LINE__, #Statement, Trap_.Bugcheck.Code,                         \
                        WdkmHostBugcheckName(Trap_.Bugcheck.Code), #ExpectedCode);                 \
                CurrentTestFailed = 1;                                                     \
            }                                                                              \
        }                                                                                  \
    } while (0)

#define TAG(A, B, C, D) \
    ((ULONG)(UCHAR)(A) | ((ULONG)(UCHAR)(B) << 8) | ((ULONG)(UCHAR)(C) << 16) | ((ULONG)(UCHAR)(D) << 24))

static LONGLONG NowNanoseconds(void)
{
    struct timespec Now;
    clock_gettime(CLOCK_MONOTONIC, &Now);
    return (LONGLONG)Now.tv_sec * 1000000000LL + Now.tv_nsec;
}

static LARGE_INTEGER RelativeMs(LONGLONG Milliseconds)
{
    LARGE_INTEGER Timeout;
    Timeout.QuadPart = -Milliseconds * 10000;
    return Timeout;
}

static LARGE_INTEGER Zero(void)
{
    LARGE_INTEGER Timeout;
    Timeout.QuadPart = 0;
    return Timeout;
}

/* WDKM_HOST_TEST=name runs only that test (WDKM_HOST_TEST_REPEAT=N times),
   to chase a rare failure without the ~65 others around it. */
/* System threads for tests. */
static HANDLE StartThread(PKSTART_ROUTINE Routine, PVOID Context)
{
    HANDLE Handle = NULL;
    NTSTATUS Status = PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, Routine,
                                           Context);
    CHECK_STATUS(STATUS_SUCCESS, Status);
    return Handle;
}

/* Waits for the thread of Handle to end, then closes Handle. */
static void JoinThread(HANDLE Handle)
{
    PVOID Object = NULL;

    CHECK_STATUS(STATUS_SUCCESS, ObReferenceObjectByHandle(Handle, SYNCHRONIZE, *PsThreadType,
                                                           KernelMode, &Object, NULL));
    if (Object != NULL) {
        CHECK_STATUS(STATUS_SUCCESS,
                     KeWaitForSingleObject(Object, Executive, KernelMode, FALSE, NULL));
        ObDereferenceObject(Object);
    }
    CHECK_STATUS(STATUS_SUCCESS, ZwClose(Handle));
}

/* Records bug checks that no trap caught (system thread exit rules). */
typedef struct _HANDLED_BUGCHECKS {
    pthread_mutex_t Lock;
    ULONG Count;
    WDKM_HOST_BUGCHECK Last;
} HANDLED_BUGCHECKS;

static HANDLED_BUGCHECKS Handled = { PTHREAD_MUTEX_INITIALIZER, 0, { 0, { 0, 0, 0, 0 } } };

static VOID RecordBugcheck(const WDKM_HOST_BUGCHECK *Bugcheck, PVOID Context)
{
    HANDLED_BUGCHECKS *Record = (HANDLED_BUGCHECKS *)Context;
    pthread_mutex_lock(&Record->Lock);
    Record->Count++;
    Record->Last = *Bugcheck;
    pthread_mutex_unlock(&Record->Lock);
}

static ULONG HandledCount(WDKM_HOST_BUGCHECK *Last)
{
    ULONG Count;
    pthread_mutex_lock(&Handled.Lock);
    Count = Handled.Count;
    if (Last != NULL) {
        *Last = Handled.Last;
    }
    pthread_mutex_unlock(&Handled.Lock);
    return Count;
}

/* ---------------------------------------------------------------------- */
/* IRQL and traps                                                          */
/* ---------------------------------------------------------------------- */

/*
 * A test that waits for WdkmHostIrpCompletions to read 1 and then frees the
 * IRP (wdkm_host_io.h allows it) must not race IoCompleteRequest's last
 * reads of it: the completer read the hook after publishing the count, a
 * use after free ThreadSanitizer and AddressSanitizer report.
 */
static VOID NTAPI CompleteIrpRoutine(PVOID Context)
{
    IoCompleteRequest((PIRP)Context, IO_NO_INCREMENT);
}

static void TestIrpFreedOnceCompletionSeen(void)
{
    ULONG Round;

    for (Round = 0; Round < 200; Round++) {
        PIRP Irp = WdkmHostIrpAllocate(IRP_MJ_READ, 0, NULL);
        HANDLE Completer;

        CHECK(Irp != NULL);
        if (Irp == NULL) {
            return;
        }
        Completer = StartThread(CompleteIrpRoutine, Irp);
        while (WdkmHostIrpCompletions(Irp) == 0) {
            sched_yield();
        }
        WdkmHostIrpFree(Irp);
        JoinThread(Completer);
    }
}

/* ---------------------------------------------------------------------- */
/* A thread's IRPs at its exit                                             */
/* ---------------------------------------------------------------------- */

/* What the IRPs of an exiting thread went through. */
typedef struct _EXIT_IRPS {
    PIRP Pending;               /* queued on the thread, with a cancel routine */
    PIRP Done;                  /* queued on the thread, completed before it exits */
    PKTHREAD Issuer;            /* the thread that issued them */
    PKTHREAD CancelThread;      /* where the cancel routine ran */
    KIRQL CancelIrql;
    BOOLEAN CompleteInCancel;   /* the routine completes the IRP (else leaves it) */
    BOOLEAN FreeInHook;         /* the completion hook frees it */
    LONG CancelCalls;
    LONG HookCalls;
    KEVENT Cancelled;           /* set by the routine */
    LONGLONG QueuedAt;          /* ns */
    BOOLEAN IssuerRanOnAfterCancel; /* the issuer's object unsignalled when the worker completed */
    BOOLEAN WorkerSawCancel;
} EXIT_IRPS;

static EXIT_IRPS *ExitIrpsOf(PIRP Irp)
{
    return (EXIT_IRPS *)Irp->Tail.Overlay.DriverContext[0];
}

static VOID ExitIrpCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    EXIT_IRPS *Exit = ExitIrpsOf(Irp);

    (VOID)DeviceObject;
    Exit->CancelThread = KeGetCurrentThread();
    Exit->CancelIrql = Irp->CancelIrql;
    __atomic_add_fetch(&Exit->CancelCalls, 1, __ATOMIC_SEQ_CST);
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    if (Exit->CompleteInCancel) {
        Irp->IoStatus.Status = STATUS_CANCELLED;
        Irp->IoStatus.Information = 0;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
    }
    KeSetEvent(&Exit->Cancelled, 0, FALSE);
}

static VOID ExitIrpHook(PIRP Irp, PVOID Context)
{
    EXIT_IRPS *Exit = (EXIT_IRPS *)Context;

    __atomic_add_fetch(&Exit->HookCalls, 1, __ATOMIC_SEQ_CST);
    if (Exit->FreeInHook) {
        WdkmHostIrpFree(Irp);       /* its completion still holds it: freed after */
    }
}

static VOID ExitIrpsInitialize(EXIT_IRPS *Exit, BOOLEAN CompleteInCancel)
{
    memset(Exit, 0, sizeof(*Exit));
    Exit->CompleteInCancel = CompleteInCancel;
    KeInitializeEvent(&Exit->Cancelled, NotificationEvent, FALSE);
    Exit->Pending = WdkmHostIrpAllocate(IRP_MJ_DEVICE_CONTROL, 0x222000, NULL);
    Exit->Done = WdkmHostIrpAllocate(IRP_MJ_READ, 0, NULL);
    CHECK(Exit->Pending != NULL && Exit->Done != NULL);
    if (Exit->Pending != NULL) {
        Exit->Pending->Tail.Overlay.DriverContext[0] = Exit;
        WdkmHostIrpSetCompletionHook(Exit->Pending, ExitIrpHook, Exit);
    }
}

/* The issuer's side, as a driver's dispatch sees it: the Pending IRP goes
   pending with a cancel routine; the Done one completes at once. */
static VOID ExitIrpsIssue(EXIT_IRPS *Exit)
{
    Exit->Issuer = KeGetCurrentThread();
    Exit->QueuedAt = NowNanoseconds();
    WdkmHostIrpQueueToThread(Exit->Pending);
    WdkmHostIrpQueueToThread(Exit->Done);
    CHECK(Exit->Pending->Tail.Overlay.Thread == PsGetCurrentThread());
    IoMarkIrpPending(Exit->Pending);
    (VOID)IoSetCancelRoutine(Exit->Pending, ExitIrpCancel);
    Exit->Done->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(Exit->Done, IO_NO_INCREMENT);
}

static VOID NTAPI ExitIrpsIssueRoutine(PVOID Context)
{
    ExitIrpsIssue((EXIT_IRPS *)Context);
}

static void *ExitIrpsIssuePthread(void *Context)
{
    ExitIrpsIssue((EXIT_IRPS *)Context);
    return NULL;
}

/* The test's own cleanup: an IRP the exit left pending is completed here
   (today's emulation, or a timeout), then both are freed. */
static VOID ExitIrpsCleanUp(EXIT_IRPS *Exit)
{
    if (Exit->Pending != NULL) {
        if (WdkmHostIrpCompletions(Exit->Pending) == 0) {
            (VOID)IoSetCancelRoutine(Exit->Pending, NULL);
            Exit->Pending->IoStatus.Status = STATUS_SUCCESS;
            IoCompleteRequest(Exit->Pending, IO_NO_INCREMENT);
        }
        if (!Exit->FreeInHook) {
            WdkmHostIrpFree(Exit->Pending);
        }
    }
    WdkmHostIrpFree(Exit->Done);
}

/*
 * A system thread exits with an IRP pending: its exit cancels it, on the
 * exiting thread, at APC_LEVEL, before the thread's object is signalled;
 * an IRP it completed before is left alone.
 */
static void TestThreadExitCancelsIrps(void)
{
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous = WdkmHostSetIrpCancelTimeout(30000);
    EXIT_IRPS Exit;

    ExitIrpsInitialize(&Exit, TRUE);
    JoinThread(StartThread(ExitIrpsIssueRoutine, &Exit));
    CHECK(WdkmHostIrpCompletions(Exit.Pending) == 1);
    CHECK(Exit.Pending->IoStatus.Status == STATUS_CANCELLED);
    CHECK(Exit.Pending->Cancel);
    CHECK(Exit.CancelCalls == 1);
    CHECK(Exit.HookCalls == 1);
    CHECK(Exit.CancelThread == Exit.Issuer);
    CHECK(Exit.CancelIrql == APC_LEVEL);
    CHECK(!Exit.Done->Cancel);
    CHECK(WdkmHostIrpCompletions(Exit.Done) == 1);
    CHECK(WdkmHostIrpCancelTimeouts() == Timeouts);
    ExitIrpsCleanUp(&Exit);
    WdkmHostSetIrpCancelTimeout(Previous);
}

/* The same for a pthread the emulation adopted (its key destructor). */
static void TestPthreadExitCancelsIrps(void)
{
    ULONG Previous = WdkmHostSetIrpCancelTimeout(30000);
    EXIT_IRPS Exit;
    pthread_t Thread;

    ExitIrpsInitialize(&Exit, TRUE);
    CHECK(pthread_create(&Thread, NULL, ExitIrpsIssuePthread, &Exit) == 0);
    CHECK(pthread_join(Thread, NULL) == 0);
    CHECK(WdkmHostIrpCompletions(Exit.Pending) == 1);
    CHECK(Exit.Pending->IoStatus.Status == STATUS_CANCELLED);
    CHECK(Exit.CancelThread == Exit.Issuer);
    CHECK(Exit.CancelIrql == APC_LEVEL);
    CHECK(!Exit.Done->Cancel);
    ExitIrpsCleanUp(&Exit);
    WdkmHostSetIrpCancelTimeout(Previous);
}

/*
 * The cancel routine only wakes a worker, which completes the IRP later:
 * the exit waits for that completion (the issuer's object is still
 * unsignalled when the worker completes), and the waiter for the issuer
 * sees the completion and its hook.
 */
static VOID NTAPI ExitIrpsWorkerRoutine(PVOID Context)
{
    EXIT_IRPS *Exit = (EXIT_IRPS *)Context;
    LARGE_INTEGER Timeout = RelativeMs(10000);
    LARGE_INTEGER Poll = Zero();

    if (KeWaitForSingleObject(&Exit->Cancelled, Executive, KernelMode, FALSE, &Timeout) !=
        STATUS_SUCCESS) {
        return;     /* never cancelled: the test's cleanup completes it */
    }
    Exit->WorkerSawCancel = TRUE;
    /* The cancel routine ran and returned; the issuer is still in its exit. */
    Exit->IssuerRanOnAfterCancel =
        KeWaitForSingleObject(Exit->Issuer, Executive, KernelMode, FALSE, &Poll) == STATUS_TIMEOUT;
    Exit->Pending->IoStatus.Status = STATUS_CANCELLED;
    Exit->Pending->IoStatus.Information = 0;
    IoCompleteRequest(Exit->Pending, IO_NO_INCREMENT);
}

static void TestThreadExitWaitsForCompletion(void)
{
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous = WdkmHostSetIrpCancelTimeout(30000);
    EXIT_IRPS Exit;
    HANDLE Worker;

    ExitIrpsInitialize(&Exit, FALSE);
    Worker = StartThread(ExitIrpsWorkerRoutine, &Exit);
    JoinThread(StartThread(ExitIrpsIssueRoutine, &Exit));
    /* The exit returned: the worker's completion and its hook are done. */
    CHECK(WdkmHostIrpCompletions(Exit.Pending) == 1);
    CHECK(Exit.HookCalls == 1);
    JoinThread(Worker);
    CHECK(Exit.WorkerSawCancel);
    CHECK(Exit.IssuerRanOnAfterCancel);
    CHECK(Exit.CancelThread == Exit.Issuer);
    CHECK(Exit.Pending->IoStatus.Status == STATUS_CANCELLED);
    CHECK(WdkmHostIrpCancelTimeouts() == Timeouts);
    ExitIrpsCleanUp(&Exit);
    WdkmHostSetIrpCancelTimeout(Previous);
}

/*
 * A driver that loses a cancelled IRP (its routine neither completes it
 * nor hands it on): the exit waits for the bound, then takes the IRP off
 * the thread, still pending, counts it and goes on.
 */
static void TestThreadExitCancelTimeout(void)
{
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous = WdkmHostSetIrpCancelTimeout(100);
    EXIT_IRPS Exit;
    LONGLONG Elapsed;

    ExitIrpsInitialize(&Exit, FALSE);
    JoinThread(StartThread(ExitIrpsIssueRoutine, &Exit));
    Elapsed = NowNanoseconds() - Exit.QueuedAt;
    WdkmHostSetIrpCancelTimeout(Previous);
    CHECK(Exit.CancelCalls == 1);
    CHECK(Exit.Pending->Cancel);
    CHECK(WdkmHostIrpCompletions(Exit.Pending) == 0);       /* still pending */
    CHECK(Exit.Pending->Tail.Overlay.Thread == NULL);       /* off the thread */
    CHECK(WdkmHostIrpCancelTimeouts() == Timeouts + 1);
    CHECK(Elapsed >= 100 * 1000000LL);
    /* Its holder may still complete it: an ordinary completion. */
    ExitIrpsCleanUp(&Exit);
    CHECK(Exit.HookCalls == 1);
}

/*
 * The IRP's hook frees it inside the completion that the exit's cancel
 * started (the pointer stays the exit's until IoCancelIrp returns); an IRP
 * the issuer freed unfinished is not waited for (with a bound of 0 a
 * queued one would be counted as timed out).
 */
static VOID NTAPI ExitIrpsFreeOneRoutine(PVOID Context)
{
    EXIT_IRPS *Exit = (EXIT_IRPS *)Context;
    PIRP Abandoned = WdkmHostIrpAllocate(IRP_MJ_WRITE, 0, NULL);

    if (Abandoned != NULL) {
        WdkmHostIrpQueueToThread(Abandoned);
        WdkmHostIrpFree(Abandoned);
    }
    ExitIrpsIssue(Exit);
}

static void TestThreadExitIrpFreedInHook(void)
{
    ULONG Timeouts = WdkmHostIrpCancelTimeouts();
    ULONG Previous = WdkmHostSetIrpCancelTimeout(0);
    EXIT_IRPS Exit;

    ExitIrpsInitialize(&Exit, TRUE);
    Exit.FreeInHook = TRUE;
    JoinThread(StartThread(ExitIrpsFreeOneRoutine, &Exit));
    WdkmHostSetIrpCancelTimeout(Previous);
    CHECK(Exit.CancelCalls == 1);
    CHECK(Exit.HookCalls == 1);                 /* freed there */
    CHECK(WdkmHostIrpCancelTimeouts() == Timeouts);
    if (Exit.HookCalls == 0) {
        ExitIrpsCleanUp(&Exit);                 /* never cancelled: the hook frees it now */
    } else {
        WdkmHostIrpFree(Exit.Done);
    }
}

static void TestIrql(void)
{
    KIRQL OldIrql;

    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    CHECK(OldIrql == PASSIVE_LEVEL);
    CHECK(KeGetCurrentIrql() == APC_LEVEL);
    CHECK(KeRaiseIrqlToDpcLevel() == APC_LEVEL);
    CHECK(KeGetCurrentIrql() == DISPATCH_LEVEL);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);     /* same level is fine */
    CHECK(OldIrql == DISPATCH_LEVEL);
    KeLowerIrql(APC_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
}

static void TestIrqlViolations(void)
{
    ULONG Before = WdkmHostBugcheckCount();
    KIRQL OldIrql = HIGH_LEVEL;

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_GREATER_OR_EQUAL, KeRaiseIrql(APC_LEVEL, &OldIrql));
    CHECK(LastBugcheck.Parameter[1] == DISPATCH_LEVEL && LastBugcheck.Parameter[2] == APC_LEVEL);
    CHECK(KeGetCurrentIrql() == DISPATCH_LEVEL);   /* unchanged by the failed call */
    KeLowerIrql(PASSIVE_LEVEL);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, KeLowerIrql(APC_LEVEL));
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
    CHECK(WdkmHostBugcheckCount() == Before + 2);
    CHECK(strcmp(WdkmHostBugcheckName(IRQL_NOT_LESS_OR_EQUAL), "IRQL_NOT_LESS_OR_EQUAL") == 0);
    CHECK(strcmp(WdkmHostBugcheckName(0x12345), "UNKNOWN_BUGCHECK") == 0);
}

/* With no trap and no handler a bug check prints the STOP line and aborts:
   checked in a child process. */
static void TestUntrappedBugcheckAborts(void)
{
    char Output[512];
    ssize_t Length = 0;
    int Pipe[2];
    int Status = 0;
    pid_t Child;

    fflush(stdout);
    fflush(stderr);
    CHECK(pipe(Pipe) == 0);
    Child = fork();
    if (Child == 0) {
        dup2(Pipe[1], STDERR_FILENO);
        close(Pipe[0]);
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, 0x10, 2, 0, 0xABC);
    }
    close(Pipe[1]);
    CHECK(Child > 0);
    for (ssize_t Read; (Read = read(Pipe[0], Output + Length,
                                    sizeof(Output) - 1 - (size_t)Length)) > 0;) {
        Length += Read;
    }
    close(Pipe[0]);
    Output[Length] = '\0';
    CHECK(waitpid(Child, &Status, 0) == Child);
    CHECK(WIFSIGNALED(Status) && WTERMSIG(Status) == SIGABRT);
    CHECK(strstr(Output, "*** STOP: 0x0000000A (0x0000000000000010, 0x0000000000000002, "
                         "0x0000000000000000, 0x0000000000000ABC) IRQL_NOT_LESS_OR_EQUAL") != NULL);
}

static void TestTrapNesting(void)
{
    WDKM_HOST_BUGCHECK_TRAP Outer;
    volatile int InnerCaught = 0;

    if (WDKM_HOST_TRY(&Outer)) {
        WDKM_HOST_BUGCHECK_TRAP Inner;
        if (WDKM_HOST_TRY(&Inner)) {
            KeBugCheckEx(0x1234, 1, 2, 3, 4);
        } else {
            InnerCaught = 1;
            CHECK(Inner.Bugcheck.Code == 0x1234 && Inner.Bugcheck.Parameter[3] == 4);
            WdkmHostDisarm(&Inner);     /* harmless after firing */
        }
        KeBugCheckEx(0x5678, 0, 0, 0, 0);   /* now the outer trap's */
    } else {
        CHECK(InnerCaught);
        CHECK(Outer.Bugcheck.Code == 0x5678);
        CHECK(!Outer.Armed);
    }
}

/* ---------------------------------------------------------------------- */
/* KMUTEX                                                                  */
/* ---------------------------------------------------------------------- */

/* WdkmHostThreadIsWaiting: TRUE only while the thread sleeps in a wait. */
static VOID NTAPI WaitOnceRoutine(PVOID Context)
{
    KEVENT *Release = (KEVENT *)Context;

    KeWaitForSingleObject(Release, Executive, KernelMode, FALSE, NULL);
}

static void TestThreadIsWaiting(void)
{
    KEVENT Release;
    HANDLE Handle;
    PVOID Object = NULL;
    LARGE_INTEGER Poll = RelativeMs(1);
    int Polls;

    CHECK(!WdkmHostThreadIsWaiting(KeGetCurrentThread()));
    KeInitializeEvent(&Release, NotificationEvent, FALSE);
    Handle = StartThread(WaitOnceRoutine, &Release);
    CHECK_STATUS(STATUS_SUCCESS, ObReferenceObjectByHandle(Handle, SYNCHRONIZE, *PsThreadType,
                                                           KernelMode, &Object, NULL));
    for (Polls = 0; Polls < 10000 && !WdkmHostThreadIsWaiting((PKTHREAD)Object); Polls++) {
        (VOID)KeDelayExecutionThread(KernelMode, FALSE, &Poll);
    }
    CHECK(WdkmHostThreadIsWaiting((PKTHREAD)Object));
    KeSetEvent(&Release, 0, FALSE);
    JoinThread(Handle);
    CHECK(!WdkmHostThreadIsWaiting((PKTHREAD)Object));   /* ended: kept alive by our reference */
    ObDereferenceObject(Object);
}

static void TestKMutexRecursion(void)
{
    KMUTEX Mutex;

    KeInitializeMutex(&Mutex, 0);
    CHECK(KeReadStateMutex(&Mutex) == 1);
    CHECK(!KeAreApcsDisabled());
    for (int Depth = 1; Depth <= 3; Depth++) {
        CHECK_STATUS(STATUS_SUCCESS,
                     KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL));
        CHECK(KeReadStateMutex(&Mutex) == 1 - Depth);
    }
    CHECK(WdkmHostThreadKMutexCount() == 1);
    CHECK(KeAreApcsDisabled());         /* owning a KMUTEX disables kernel APCs */
    CHECK(!KeAreAllApcsDisabled());
    CHECK(KeReleaseMutex(&Mutex, FALSE) == -2);
    CHECK(KeReleaseMutex(&Mutex, FALSE) == -1);
    CHECK(KeAreApcsDisabled());
    CHECK(KeReleaseMutex(&Mutex, FALSE) == 0);
    CHECK(KeReadStateMutex(&Mutex) == 1);
    CHECK(WdkmHostThreadKMutexCount() == 0);
    CHECK(!KeAreApcsDisabled());
}

typedef struct _HOLDER {
    KMUTEX *Mutex;
    FAST_MUTEX *FastMutex;
    KEVENT Acquired;
    KEVENT Release;
} HOLDER;

/* Takes the lock(s), signals Acquired, waits for Release, releases. */
static VOID NTAPI HolderRoutine(PVOID Context)
{
    HOLDER *Holder = (HOLDER *)Context;

    if (Holder->Mutex != NULL) {
        KeWaitForSingleObject(Holder->Mutex, Executive, KernelMode, FALSE, NULL);
    }
    if (Holder->FastMutex != NULL) {
        ExAcquireFastMutex(Holder->FastMutex);
    }
    KeSetEvent(&Holder->Acquired, 0, FALSE);
    KeWaitForSingleObject(&Holder->Release, Executive, KernelMode, FALSE, NULL);
    if (Holder->FastMutex != NULL) {
        ExReleaseFastMutex(Holder->FastMutex);
    }
    if (Holder->Mutex != NULL) {
        KeReleaseMutex(Holder->Mutex, FALSE);
    }
}

static HANDLE StartHolder(HOLDER *Holder, KMUTEX *Mutex, FAST_MUTEX *FastMutex)
{
    HANDLE Handle;

    Holder->Mutex = Mutex;
    Holder->FastMutex = FastMutex;
    KeInitializeEvent(&Holder->Acquired, NotificationEvent, FALSE);
    KeInitializeEvent(&Holder->Release, NotificationEvent, FALSE);
    Handle = StartThread(HolderRoutine, Holder);
    KeWaitForSingleObject(&Holder->Acquired, Executive, KernelMode, FALSE, NULL);
    return Handle;
}

static void TestKMutexOwnership(void)
{
    KMUTEX Mutex;
    HOLDER Holder;
    HANDLE Handle;
    LARGE_INTEGER Timeout = RelativeMs(20);
    LONGLONG Start, Elapsed;

    KeInitializeMutex(&Mutex, 0);
    EXPECT_BUGCHECK(THREAD_NOT_MUTEX_OWNER, KeReleaseMutex(&Mutex, FALSE));
    CHECK(LastBugcheck.Parameter[0] == (ULONG_PTR)&Mutex);
    CHECK(KeReadStateMutex(&Mutex) == 1);

    Handle = StartHolder(&Holder, &Mutex, NULL);
    EXPECT_BUGCHECK(THREAD_NOT_MUTEX_OWNER, KeReleaseMutex(&Mutex, FALSE));
    CHECK(KeReadStateMutex(&Mutex) == 0);

    Start = NowNanoseconds();
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE,
                                                       &Timeout));
    Elapsed = NowNanoseconds() - Start;
    CHECK(Elapsed >= 20000000LL);
    CHECK(WdkmHostThreadKMutexCount() == 0);

    KeSetEvent(&Holder.Release, 0, FALSE);
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL));
    CHECK(WdkmHostThreadKMutexCount() == 1);
    CHECK(KeReleaseMutex(&Mutex, FALSE) == 0);
    JoinThread(Handle);
}

static void TestKMutexReleaseIrql(void)
{
    KMUTEX Mutex;
    KIRQL OldIrql;

    KeInitializeMutex(&Mutex, 0);
    KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, KeReleaseMutex(&Mutex, FALSE));
    CHECK(KeReadStateMutex(&Mutex) == 0);
    KeLowerIrql(DISPATCH_LEVEL);
    CHECK(KeReleaseMutex(&Mutex, FALSE) == 0);  /* legal at DISPATCH_LEVEL */
    KeLowerIrql(OldIrql);
}

static void TestKMutexRecursionLimit(void)
{
    KMUTEX Mutex;

    KeInitializeMutex(&Mutex, 0);
    WdkmHostSetMutexRecursionLimit(3);
    for (int Depth = 0; Depth < 3; Depth++) {
        CHECK_STATUS(STATUS_SUCCESS,
                     KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL));
    }
    EXPECT_BUGCHECK(KMODE_EXCEPTION_NOT_HANDLED,
                    KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL));
    CHECK(LastBugcheck.Parameter[0] == (ULONG_PTR)STATUS_MUTANT_LIMIT_EXCEEDED);
    CHECK(LastBugcheck.Parameter[1] == (ULONG_PTR)&Mutex);
    CHECK(KeReadStateMutex(&Mutex) == -2);
    WdkmHostSetMutexRecursionLimit(0);
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL));
    for (int Depth = 0; Depth < 4; Depth++) {
        KeReleaseMutex(&Mutex, FALSE);
    }
    CHECK(KeReadStateMutex(&Mutex) == 1);
}

static VOID NTAPI ExitHoldingMutexRoutine(PVOID Context)
{
    KeWaitForSingleObject(Context, Executive, KernelMode, FALSE, NULL);
}

static VOID NTAPI ExitAtDispatchRoutine(PVOID Context)
{
    KIRQL OldIrql;
    UNREFERENCED_PARAMETER(Context);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
}

static VOID NTAPI UntrappedBugcheckRoutine(PVOID Context)
{
    *(volatile int *)Context = 1;
    KeLowerIrql(HIGH_LEVEL);                /* bug checks: the thread ends here */
    *(volatile int *)Context = 2;
}

/* Both exit rules are checked by PsTerminateSystemThread itself, where a
   trap on the thread can catch them; the thread then ends cleanly. */
static VOID NTAPI TrappedTerminateRoutine(PVOID Context)
{
    volatile ULONG *Codes = (volatile ULONG *)Context;
    KMUTEX Mutex;
    KIRQL OldIrql;
    WDKM_HOST_BUGCHECK_TRAP Trap;

    KeInitializeMutex(&Mutex, 0);
    KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL);
    if (WDKM_HOST_TRY(&Trap)) {
        PsTerminateSystemThread(STATUS_SUCCESS);
        WdkmHostDisarm(&Trap);
    } else {
        Codes[0] = Trap.Bugcheck.Code;
    }
    KeReleaseMutex(&Mutex, FALSE);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    if (WDKM_HOST_TRY(&Trap)) {
        PsTerminateSystemThread(STATUS_SUCCESS);
        WdkmHostDisarm(&Trap);
    } else {
        Codes[1] = Trap.Bugcheck.Code;
    }
    KeLowerIrql(OldIrql);
    PsTerminateSystemThread(STATUS_SUCCESS);
    Codes[2] = 1;       /* not reached */
}

static void TestSystemThreadExitRules(void)
{
    KMUTEX Mutex;
    WDKM_HOST_BUGCHECK Last;
    ULONG Before;
    volatile int Progress = 0;

    WdkmHostSetBugcheckHandler(RecordBugcheck, &Handled);

    Before = HandledCount(NULL);
    JoinThread(StartThread(ExitAtDispatchRoutine, NULL));
    CHECK(HandledCount(&Last) == Before + 1);
    CHECK(Last.Code == IRQL_NOT_LESS_OR_EQUAL && Last.Parameter[1] == DISPATCH_LEVEL);

    KeInitializeMutex(&Mutex, 0);
    JoinThread(StartThread(ExitHoldingMutexRoutine, &Mutex));
    CHECK(HandledCount(&Last) == Before + 2);
    CHECK(Last.Code == MUTEX_ALREADY_OWNED);
    /* NT abandons it: the next owner hears so, once. */
    CHECK(KeReadStateMutex(&Mutex) == 1);
    CHECK_STATUS(STATUS_ABANDONED, KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL));
    KeReleaseMutex(&Mutex, FALSE);
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL));
    KeReleaseMutex(&Mutex, FALSE);

    JoinThread(StartThread(UntrappedBugcheckRoutine, (PVOID)&Progress));
    CHECK(HandledCount(&Last) == Before + 3);
    CHECK(Last.Code == IRQL_NOT_LESS_OR_EQUAL);
    CHECK(Progress == 1);

    {
        volatile ULONG Codes[3] = { 0, 0, 0 };
        JoinThread(StartThread(TrappedTerminateRoutine, (PVOID)Codes));
        CHECK(Codes[0] == MUTEX_ALREADY_OWNED);
        CHECK(Codes[1] == IRQL_NOT_LESS_OR_EQUAL);
        CHECK(Codes[2] == 0);
        CHECK(HandledCount(NULL) == Before + 3);
    }

    WdkmHostSetBugcheckHandler(NULL, NULL);
}

/* ---------------------------------------------------------------------- */
/* Events, timeouts, wait rules                                            */
/* ---------------------------------------------------------------------- */

static void TestEvents(void)
{
    KEVENT Event;
    LARGE_INTEGER Poll = Zero();

    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    CHECK(KeReadStateEvent(&Event) == 0);
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Poll));
    CHECK(KeSetEvent(&Event, 0, FALSE) == 0);
    CHECK(KeSetEvent(&Event, 0, FALSE) == 1);
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, NULL));
    CHECK(KeReadStateEvent(&Event) == 1);  /* notification: stays signalled */
    CHECK(KeResetEvent(&Event) == 1);
    CHECK(KeReadStateEvent(&Event) == 0);

    KeInitializeEvent(&Event, SynchronizationEvent, TRUE);
    CHECK(KeReadStateEvent(&Event) == 1);
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, NULL));
    CHECK(KeReadStateEvent(&Event) == 0);  /* synchronization: auto-reset */
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Poll));
    KeSetEvent(&Event, 0, FALSE);
    KeClearEvent(&Event);
    CHECK(KeReadStateEvent(&Event) == 0);
}

typedef struct _EVENT_WAITERS {
    KEVENT Event;
    LONG volatile Woken;
} EVENT_WAITERS;

static VOID NTAPI EventWaiterRoutine(PVOID Context)
{
    EVENT_WAITERS *Waiters = (EVENT_WAITERS *)Context;
    LARGE_INTEGER Timeout = RelativeMs(5000);

    if (KeWaitForSingleObject(&Waiters->Event, Executive, KernelMode, FALSE, &Timeout) ==
        STATUS_SUCCESS) {
        InterlockedIncrement(&Waiters->Woken);
    }
}

static void TestEventWakesWaiters(void)
{
    EVENT_WAITERS Waiters;
    HANDLE Handles[3];
    LARGE_INTEGER Delay = RelativeMs(20);
    LARGE_INTEGER Tick = RelativeMs(10);

    KeInitializeEvent(&Waiters.Event, NotificationEvent, FALSE);
    Waiters.Woken = 0;
    for (int Index = 0; Index < 3; Index++) {
        Handles[Index] = StartThread(EventWaiterRoutine, &Waiters);
    }
    KeDelayExecutionThread(KernelMode, FALSE, &Delay);
    KeSetEvent(&Waiters.Event, 0, FALSE);
    for (int Index = 0; Index < 3; Index++) {
        JoinThread(Handles[Index]);
    }
    CHECK(Waiters.Woken == 3);

    /* A synchronization event releases exactly one waiter per set. */
    KeInitializeEvent(&Waiters.Event, SynchronizationEvent, FALSE);
    Waiters.Woken = 0;
    Handles[0] = StartThread(EventWaiterRoutine, &Waiters);
    Handles[1] = StartThread(EventWaiterRoutine, &Waiters);
    KeDelayExecutionThread(KernelMode, FALSE, &Delay);
    KeSetEvent(&Waiters.Event, 0, FALSE);
    for (int Wait = 0; Wait < 500 && ReadNoFence(&Waiters.Woken) == 0; Wait++) {
        KeDelayExecutionThread(KernelMode, FALSE, &Tick);
    }
    KeDelayExecutionThread(KernelMode, FALSE, &Delay);   /* a second one would show by now */
    CHECK(ReadNoFence(&Waiters.Woken) == 1);
    KeSetEvent(&Waiters.Event, 0, FALSE);
    JoinThread(Handles[0]);
    JoinThread(Handles[1]);
    CHECK(Waiters.Woken == 2);
    CHECK(KeReadStateEvent(&Waiters.Event) == 0);
}

static void TestTimeouts(void)
{
    KEVENT Event;
    LARGE_INTEGER Timeout = RelativeMs(20);
    LARGE_INTEGER Absolute;
    LONGLONG Start, Elapsed;

    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    Start = NowNanoseconds();
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Timeout));
    Elapsed = NowNanoseconds() - Start;
    CHECK(Elapsed >= 20000000LL);
    CHECK(Elapsed < 2000000000LL);

    Start = NowNanoseconds();
    CHECK_STATUS(STATUS_SUCCESS, KeDelayExecutionThread(KernelMode, FALSE, &Timeout));
    CHECK(NowNanoseconds() - Start >= 20000000LL);

    /* Absolute: system time 20 ms from now. */
    Start = NowNanoseconds();
    KeQuerySystemTime(&Absolute);
    Absolute.QuadPart += 200000;
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Absolute));
    CHECK(NowNanoseconds() - Start >= 20000000LL);

    /* An absolute time in the past is a poll. */
    Absolute.QuadPart = 1;
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Absolute));
}

static void TestWaitIrqlRules(void)
{
    KEVENT Event;
    KMUTEX Mutex;
    LARGE_INTEGER Timeout = RelativeMs(1);
    LARGE_INTEGER Poll = Zero();
    KIRQL OldIrql;

    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    KeInitializeMutex(&Mutex, 0);

    KeRaiseIrql(APC_LEVEL, &OldIrql);     /* waits are fine at APC_LEVEL */
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Timeout));
    CHECK_STATUS(STATUS_SUCCESS, KeDelayExecutionThread(KernelMode, FALSE, &Timeout));
    KeLowerIrql(OldIrql);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL,
                    KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, NULL));
    CHECK(LastBugcheck.Parameter[0] == (ULONG_PTR)&Event);
    CHECK(LastBugcheck.Parameter[1] == DISPATCH_LEVEL);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL,
                    KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Timeout));
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, KeDelayExecutionThread(KernelMode, FALSE, &Timeout));
    /* A poll is legal at DISPATCH_LEVEL, also on a mutex. */
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Poll));
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, &Poll));
    KeReleaseMutex(&Mutex, FALSE);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL,
                    KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Poll));
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, KeSetEvent(&Event, 0, FALSE));
    CHECK(KeReadStateEvent(&Event) == 0);
    KeLowerIrql(PASSIVE_LEVEL);
}

/* ---------------------------------------------------------------------- */
/* Alerts and user APCs                                                    */
/* ---------------------------------------------------------------------- */

typedef struct _ALERT_TARGET {
    PKTHREAD Thread;
    KPROCESSOR_MODE WaitMode;
    BOOLEAN Alertable;
    LONGLONG TimeoutMs;             /* 0: infinite */
    KEVENT Ready;
    KEVENT Never;
    NTSTATUS Status;
} ALERT_TARGET;

static VOID NTAPI AlertTargetRoutine(PVOID Context)
{
    ALERT_TARGET *Target = (ALERT_TARGET *)Context;
    LARGE_INTEGER Timeout = RelativeMs(Target->TimeoutMs);

    Target->Thread = KeGetCurrentThread();
    ObReferenceObject(Target->Thread);      /* for the alerter */
    KeSetEvent(&Target->Ready, 0, FALSE);
    Target->Status = KeWaitForSingleObject(&Target->Never, UserRequest, Target->WaitMode,
                                           Target->Alertable,
                                           Target->TimeoutMs != 0 ? &Timeout : NULL);
}

/* Starts a thread blocked in the described wait on an event never set. */
static HANDLE StartAlertTarget(ALERT_TARGET *Target, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               LONGLONG TimeoutMs)
{
    LARGE_INTEGER Settle = RelativeMs(10);
    HANDLE Handle;

    Target->Thread = NULL;
    Target->WaitMode = WaitMode;
    Target->Alertable = Alertable;
    Target->TimeoutMs = TimeoutMs;
    Target->Status = STATUS_PENDING;
    KeInitializeEvent(&Target->Ready, NotificationEvent, FALSE);
    KeInitializeEvent(&Target->Never, NotificationEvent, FALSE);
    Handle = StartThread(AlertTargetRoutine, Target);
    KeWaitForSingleObject(&Target->Ready, Executive, KernelMode, FALSE, NULL);
    /* Let it block (if it has not yet, the alert is pending: same result). */
    KeDelayExecutionThread(KernelMode, FALSE, &Settle);
    return Handle;
}

static void TestAlerts(void)
{
    ALERT_TARGET Target;
    HANDLE Handle;
    LARGE_INTEGER Poll = Zero();
    KEVENT Event;

    /* An alertable wait is ended by an alert. */
    Handle = StartAlertTarget(&Target, KernelMode, TRUE, 0);
    WdkmHostAlertThread(Target.Thread);
    JoinThread(Handle);
    CHECK_STATUS(STATUS_ALERTED, Target.Status);
    ObDereferenceObject(Target.Thread);

    /* A non-alertable one is not: it times out, the alert stays pending. */
    Handle = StartAlertTarget(&Target, KernelMode, FALSE, 60);
    WdkmHostAlertThread(Target.Thread);
    JoinThread(Handle);
    CHECK_STATUS(STATUS_TIMEOUT, Target.Status);
    ObDereferenceObject(Target.Thread);

    /* Pending alert on the caller: consumed by the next alertable wait only. */
    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    WdkmHostAlertThread(KeGetCurrentThread());
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Poll));
    CHECK_STATUS(STATUS_ALERTED, KeWaitForSingleObject(&Event, Executive, KernelMode, TRUE, &Poll));
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, Executive, KernelMode, TRUE, &Poll));
    /* A signalled object wins over a pending alert. */
    WdkmHostAlertThread(KeGetCurrentThread());
    KeSetEvent(&Event, 0, FALSE);
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Event, Executive, KernelMode, TRUE, &Poll));
    KeResetEvent(&Event);
    CHECK_STATUS(STATUS_ALERTED, KeDelayExecutionThread(KernelMode, TRUE, &Poll));
}

static void TestUserApcs(void)
{
    ALERT_TARGET Target;
    HANDLE Handle;
    LARGE_INTEGER Poll = Zero();
    KEVENT Event;

    /* An alertable UserMode wait is ended by a user APC. */
    Handle = StartAlertTarget(&Target, UserMode, TRUE, 0);
    WdkmHostQueueUserApc(Target.Thread);
    JoinThread(Handle);
    CHECK_STATUS(STATUS_USER_APC, Target.Status);
    ObDereferenceObject(Target.Thread);

    /* An alertable KernelMode wait is not. */
    Handle = StartAlertTarget(&Target, KernelMode, TRUE, 60);
    WdkmHostQueueUserApc(Target.Thread);
    JoinThread(Handle);
    CHECK_STATUS(STATUS_TIMEOUT, Target.Status);
    ObDereferenceObject(Target.Thread);

    /* Nor a non-alertable UserMode wait; the APC stays queued until one is. */
    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    WdkmHostQueueUserApc(KeGetCurrentThread());
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, UserRequest, UserMode, FALSE, &Poll));
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, UserRequest, KernelMode, TRUE, &Poll));
    CHECK_STATUS(STATUS_USER_APC, KeWaitForSingleObject(&Event, UserRequest, UserMode, TRUE, &Poll));
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, UserRequest, UserMode, TRUE, &Poll));
}

/* ---------------------------------------------------------------------- */
/* FAST_MUTEX and guarded mutex                                            */
/* ---------------------------------------------------------------------- */

static void TestFastMutex(void)
{
    FAST_MUTEX FastMutex;
    KIRQL OldIrql;

    ExInitializeFastMutex(&FastMutex);
    ExAcquireFastMutex(&FastMutex);
    CHECK(KeGetCurrentIrql() == APC_LEVEL);
    CHECK(KeAreAllApcsDisabled());
    CHECK(FastMutex.Owner == (PVOID)KeGetCurrentThread());
    CHECK(WdkmHostThreadHeldLockCount() == 1);
    ExReleaseFastMutex(&FastMutex);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
    CHECK(FastMutex.Count == 1);

    /* From APC_LEVEL, the release restores APC_LEVEL. */
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    ExAcquireFastMutex(&FastMutex);
    ExReleaseFastMutex(&FastMutex);
    CHECK(KeGetCurrentIrql() == APC_LEVEL);
    KeLowerIrql(OldIrql);

    CHECK(ExTryToAcquireFastMutex(&FastMutex));
    CHECK(KeGetCurrentIrql() == APC_LEVEL);
    CHECK(!ExTryToAcquireFastMutex(&FastMutex));  /* held (by us): fails, no deadlock */
    CHECK(KeGetCurrentIrql() == APC_LEVEL);
    ExReleaseFastMutex(&FastMutex);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);

    /* Unsafe forms: the caller provides the APC protection. */
    KeEnterCriticalRegion();
    ExAcquireFastMutexUnsafe(&FastMutex);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
    ExReleaseFastMutexUnsafe(&FastMutex);
    KeLeaveCriticalRegion();
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    ExAcquireFastMutexUnsafe(&FastMutex);
    ExReleaseFastMutexUnsafe(&FastMutex);
    KeLowerIrql(OldIrql);
}

static void TestFastMutexContended(void)
{
    FAST_MUTEX FastMutex;
    HOLDER Holder;
    HANDLE Handle;

    ExInitializeFastMutex(&FastMutex);
    Handle = StartHolder(&Holder, NULL, &FastMutex);
    CHECK(!ExTryToAcquireFastMutex(&FastMutex));
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
    KeSetEvent(&Holder.Release, 0, FALSE);
    ExAcquireFastMutex(&FastMutex);     /* waits for the holder */
    CHECK(FastMutex.Owner == (PVOID)KeGetCurrentThread());
    ExReleaseFastMutex(&FastMutex);
    JoinThread(Handle);
    CHECK(FastMutex.Count == 1);
}

static void TestFastMutexViolations(void)
{
    FAST_MUTEX FastMutex;
    volatile KIRQL OldIrql;     /* set between traps: keep gcc's -Wclobbered quiet */

    ExInitializeFastMutex(&FastMutex);

    ExAcquireFastMutex(&FastMutex);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExAcquireFastMutex(&FastMutex));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_FAST_MUTEX_RECURSION);
    CHECK(KeGetCurrentIrql() == APC_LEVEL);
    CHECK(FastMutex.Count == 0);

    /* Release at the wrong IRQL. */
    KeLowerIrql(PASSIVE_LEVEL);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExReleaseFastMutex(&FastMutex));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_FAST_MUTEX_IRQL);
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    ExReleaseFastMutex(&FastMutex);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);

    /* Release by a thread that does not own it. */
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExReleaseFastMutex(&FastMutex));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_FAST_MUTEX_NOT_OWNER);
    KeLowerIrql(OldIrql);

    /* Acquire above APC_LEVEL. */
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, ExAcquireFastMutex(&FastMutex));
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, ExTryToAcquireFastMutex(&FastMutex));
    KeLowerIrql(OldIrql);
    CHECK(FastMutex.Count == 1);

    /* Unsafe acquire with APCs enabled. */
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExAcquireFastMutexUnsafe(&FastMutex));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_UNSAFE_APCS_ENABLED);
    CHECK(FastMutex.Count == 1);
}

static void TestGuardedMutex(void)
{
    KGUARDED_MUTEX Mutex;
    KIRQL OldIrql;

    KeInitializeGuardedMutex(&Mutex);
    KeAcquireGuardedMutex(&Mutex);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
    CHECK(KeAreAllApcsDisabled());      /* guarded region */
    CHECK(KeAreApcsDisabled());
    CHECK(Mutex.Owner == KeGetCurrentThread());
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, KeAcquireGuardedMutex(&Mutex));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_GUARDED_MUTEX_RECURSION);
    CHECK(!KeTryToAcquireGuardedMutex(&Mutex));
    KeReleaseGuardedMutex(&Mutex);
    CHECK(!KeAreAllApcsDisabled());
    CHECK(KeTryToAcquireGuardedMutex(&Mutex));
    KeReleaseGuardedMutex(&Mutex);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, KeReleaseGuardedMutex(&Mutex));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_GUARDED_MUTEX_NOT_OWNER);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, KeAcquireGuardedMutex(&Mutex));
    KeLowerIrql(OldIrql);
    CHECK(!KeAreAllApcsDisabled());
}

/* ---------------------------------------------------------------------- */
/* Spin locks                                                              */
/* ---------------------------------------------------------------------- */

static void TestSpinLocks(void)
{
    KSPIN_LOCK Lock;
    KSPIN_LOCK Unowned = 0;
    KLOCK_QUEUE_HANDLE Handle;
    KIRQL OldIrql;
    KIRQL Ignored;

    KeInitializeSpinLock(&Lock);
    KeAcquireSpinLock(&Lock, &OldIrql);
    CHECK(OldIrql == PASSIVE_LEVEL);
    CHECK(KeGetCurrentIrql() == DISPATCH_LEVEL);
    CHECK(Lock == ((ULONG_PTR)KeGetCurrentThread() | 1));
    EXPECT_BUGCHECK(SPIN_LOCK_ALREADY_OWNED, KeAcquireSpinLock(&Lock, &Ignored));
    CHECK(LastBugcheck.Parameter[0] == (ULONG_PTR)&Lock);
    EXPECT_BUGCHECK(SPIN_LOCK_ALREADY_OWNED, KeAcquireSpinLockAtDpcLevel(&Lock));
    CHECK(!KeTryToAcquireSpinLockAtDpcLevel(&Lock));
    CHECK(KeGetCurrentIrql() == DISPATCH_LEVEL);
    KeReleaseSpinLock(&Lock, OldIrql);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
    CHECK(Lock == 0);

    EXPECT_BUGCHECK(SPIN_LOCK_NOT_OWNED, KeReleaseSpinLock(&Lock, PASSIVE_LEVEL));
    EXPECT_BUGCHECK(IRQL_NOT_GREATER_OR_EQUAL, KeAcquireSpinLockAtDpcLevel(&Lock));
    CHECK(Lock == 0);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    KeAcquireSpinLockAtDpcLevel(&Lock);
    EXPECT_BUGCHECK(SPIN_LOCK_NOT_OWNED, KeReleaseSpinLockFromDpcLevel(&Unowned));
    KeReleaseSpinLockFromDpcLevel(&Lock);
    CHECK(KeTryToAcquireSpinLockAtDpcLevel(&Lock));
    KeReleaseSpinLockFromDpcLevel(&Lock);
    KeLowerIrql(OldIrql);

    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_GREATER_OR_EQUAL, KeAcquireSpinLock(&Lock, &Ignored));
    KeLowerIrql(OldIrql);

    KeAcquireInStackQueuedSpinLock(&Lock, &Handle);
    CHECK(KeGetCurrentIrql() == DISPATCH_LEVEL);
    CHECK(Handle.OldIrql == PASSIVE_LEVEL);
    EXPECT_BUGCHECK(SPIN_LOCK_ALREADY_OWNED, KeAcquireInStackQueuedSpinLock(&Lock, &Handle));
    KeReleaseInStackQueuedSpinLock(&Handle);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    KeAcquireInStackQueuedSpinLockAtDpcLevel(&Lock, &Handle);
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&Handle);
    CHECK(KeGetCurrentIrql() == DISPATCH_LEVEL);
    KeLowerIrql(OldIrql);
    CHECK(Lock == 0);
}

/* Waiting while holding a spin lock is the classic bug; it must bug check. */
static void TestWaitsUnderSpinLock(void)
{
    KSPIN_LOCK Lock;
    KEVENT Event;
    FAST_MUTEX FastMutex;
    LARGE_INTEGER Timeout = RelativeMs(1);
    LARGE_INTEGER Poll = Zero();
    PVOID Block;
    KIRQL OldIrql;

    KeInitializeSpinLock(&Lock);
    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    ExInitializeFastMutex(&FastMutex);
    KeAcquireSpinLock(&Lock, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL,
                    KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, NULL));
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL,
                    KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Timeout));
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, ExAcquireFastMutex(&FastMutex));
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, KeDelayExecutionThread(KernelMode, FALSE, &Timeout));
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, KeEnterCriticalRegion());
    EXPECT_BUGCHECK(BAD_POOL_CALLER, ExAllocatePoolWithTag(PagedPool, 16, TAG('T', 's', 't', '1')));
    CHECK(LastBugcheck.Parameter[0] == 0x08 && LastBugcheck.Parameter[1] == DISPATCH_LEVEL);
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Poll));
    Block = ExAllocatePoolWithTag(NonPagedPoolNx, 16, TAG('T', 's', 't', '1'));
    CHECK(Block != NULL);
    ExFreePoolWithTag(Block, TAG('T', 's', 't', '1'));
    KeReleaseSpinLock(&Lock, OldIrql);
    CHECK(FastMutex.Count == 1);
}

/* ---------------------------------------------------------------------- */
/* Regions                                                                 */
/* ---------------------------------------------------------------------- */

static void TestRegions(void)
{
    KIRQL OldIrql;

    CHECK(!KeAreApcsDisabled());
    CHECK(!KeAreAllApcsDisabled());
    KeEnterCriticalRegion();
    KeEnterCriticalRegion();
    CHECK(KeAreApcsDisabled());
    CHECK(!KeAreAllApcsDisabled());
    KeLeaveCriticalRegion();
    CHECK(KeAreApcsDisabled());
    KeLeaveCriticalRegion();
    CHECK(!KeAreApcsDisabled());
    EXPECT_BUGCHECK(APC_INDEX_MISMATCH, KeLeaveCriticalRegion());

    KeEnterGuardedRegion();
    CHECK(KeAreApcsDisabled());
    CHECK(KeAreAllApcsDisabled());
    KeLeaveGuardedRegion();
    CHECK(!KeAreAllApcsDisabled());
    EXPECT_BUGCHECK(APC_INDEX_MISMATCH, KeLeaveGuardedRegion());

    KeRaiseIrql(APC_LEVEL, &OldIrql);
    CHECK(KeAreAllApcsDisabled());
    CHECK(!KeAreApcsDisabled());
    KeLowerIrql(OldIrql);

    /* A KMUTEX's APC disable is not a region the caller may leave. */
    {
        KMUTEX Mutex;
        KeInitializeMutex(&Mutex, 0);
        KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL);
        EXPECT_BUGCHECK(APC_INDEX_MISMATCH, KeLeaveCriticalRegion());
        KeReleaseMutex(&Mutex, FALSE);
    }

    PAGED_CODE();
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, PAGED_CODE());
    KeLowerIrql(OldIrql);
}

/* ---------------------------------------------------------------------- */
/* Threads and objects                                                     */
/* ---------------------------------------------------------------------- */

typedef struct _THREAD_INFO {
    HANDLE Id;
    PKTHREAD Thread;
    KIRQL Irql;
    BOOLEAN System;
    BOOLEAN Terminate;
    volatile int AfterTerminate;
} THREAD_INFO;

static VOID NTAPI InfoRoutine(PVOID Context)
{
    THREAD_INFO *Info = (THREAD_INFO *)Context;

    Info->Id = PsGetCurrentThreadId();
    Info->Thread = KeGetCurrentThread();
    Info->Irql = KeGetCurrentIrql();
    Info->System = PsIsSystemThread(PsGetCurrentThread());
    if (Info->Terminate) {
        PsTerminateSystemThread(STATUS_SUCCESS);
        Info->AfterTerminate = 1;
    }
}

static void TestSystemThreads(void)
{
    THREAD_INFO Info[2];
    HANDLE Handles[2];
    CLIENT_ID ClientId;
    PVOID Object = NULL;
    KIRQL OldIrql;
    HANDLE Handle = NULL;

    memset(Info, 0, sizeof(Info));
    Info[1].Terminate = TRUE;
    CHECK_STATUS(STATUS_SUCCESS, PsCreateSystemThread(&Handles[0], THREAD_ALL_ACCESS, NULL, NULL,
                                                      &ClientId, InfoRoutine, &Info[0]));
    Handles[1] = StartThread(InfoRoutine, &Info[1]);
    CHECK(Handles[0] != Handles[1]);

    CHECK_STATUS(STATUS_SUCCESS, ObReferenceObjectByHandle(Handles[0], SYNCHRONIZE, NULL,
                                                           KernelMode, &Object, NULL));
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(Object, Executive, KernelMode, FALSE, NULL));
    CHECK(Object == (PVOID)Info[0].Thread);
    CHECK(ClientId.UniqueThread == Info[0].Id);
    CHECK(PsGetThreadId((PETHREAD)Object) == Info[0].Id);
    CHECK(Info[0].Irql == PASSIVE_LEVEL);
    CHECK(Info[0].System);
    CHECK_STATUS(STATUS_SUCCESS, ZwClose(Handles[0]));
    CHECK_STATUS(STATUS_INVALID_HANDLE, ZwClose(Handles[0]));
    CHECK_STATUS(STATUS_INVALID_HANDLE, ObReferenceObjectByHandle(Handles[0], SYNCHRONIZE, NULL,
                                                                  KernelMode, &Object, NULL));
    /* The object outlives the thread while referenced: still signalled. */
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(Info[0].Thread, Executive, KernelMode,
                                                       FALSE, NULL));
    ObDereferenceObject(Info[0].Thread);

    JoinThread(Handles[1]);
    CHECK(Info[1].AfterTerminate == 0);
    CHECK(Info[1].Id != Info[0].Id);
    CHECK(PsGetCurrentThreadId() != Info[1].Id);
    CHECK(!PsIsSystemThread(PsGetCurrentThread()));
    CHECK((PVOID)PsGetCurrentThread() == (PVOID)KeGetCurrentThread());

    CHECK_STATUS(STATUS_INVALID_PARAMETER, PsTerminateSystemThread(STATUS_SUCCESS));
    CHECK_STATUS(STATUS_INVALID_HANDLE, ObReferenceObjectByHandle((HANDLE)(ULONG_PTR)0x1234, 0,
                                                                  NULL, KernelMode, &Object, NULL));
    CHECK_STATUS(STATUS_SUCCESS, ObReferenceObjectByHandle(NtCurrentThread(), 0, *PsThreadType,
                                                           KernelMode, &Object, NULL));
    CHECK(Object == (PVOID)KeGetCurrentThread());
    ObDereferenceObject(Object);

    KeRaiseIrql(APC_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL,
                    PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                         InfoRoutine, &Info[0]));
    KeLowerIrql(OldIrql);
    CHECK(Handle == NULL);
}

static void *PlainThreadMain(void *Argument)
{
    PKTHREAD *Thread = (PKTHREAD *)Argument;
    KMUTEX Mutex;

    *Thread = KeGetCurrentThread();     /* created on first use */
    ObReferenceObject(*Thread);
    KeInitializeMutex(&Mutex, 0);
    KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL);
    KeReleaseMutex(&Mutex, FALSE);
    return NULL;
}

static void TestPlainPthreads(void)
{
    PKTHREAD Thread = NULL;
    LARGE_INTEGER Poll = Zero();
    pthread_t Posix;

    CHECK(pthread_create(&Posix, NULL, PlainThreadMain, &Thread) == 0);
    CHECK(pthread_join(Posix, NULL) == 0);
    CHECK(Thread != NULL && Thread != KeGetCurrentThread());
    /* Ended at pthread exit: its object is signalled, and still valid. */
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(Thread, Executive, KernelMode, FALSE, &Poll));
    ObDereferenceObject(Thread);
}

/* ---------------------------------------------------------------------- */
/* Processors                                                              */
/* ---------------------------------------------------------------------- */

static void *ReportProcessorMain(void *Argument)
{
    *(ULONG *)Argument = KeGetCurrentProcessorNumberEx(NULL);
    return NULL;
}

static void TestProcessors(void)
{
    PROCESSOR_NUMBER Number;
    cpu_set_t Saved;
    cpu_set_t One;
    pthread_t Posix;
    ULONG Other = 0;
    ULONG Processor;
    ULONG Restored;
    BOOLEAN Created;
    int Last = -1;
    int Cpu;

    /* The host's CPU: pinned to one, the thread reports that one. */
    CHECK(sched_getaffinity(0, sizeof(Saved), &Saved) == 0);
    for (Cpu = 0; Cpu < CPU_SETSIZE; Cpu += 1) {
        if (CPU_ISSET(Cpu, &Saved)) {
            Last = Cpu;
        }
    }
    CHECK(Last >= 0);
    CPU_ZERO(&One);
    CPU_SET(Last, &One);
    CHECK(sched_setaffinity(0, sizeof(One), &One) == 0);
    memset(&Number, 0xFF, sizeof(Number));
    Processor = KeGetCurrentProcessorNumberEx(&Number);
    CHECK(sched_setaffinity(0, sizeof(Saved), &Saved) == 0);
    CHECK(Processor == (ULONG)Last);
    CHECK(Number.Group == 0 && Number.Number == (UCHAR)Last && Number.Reserved == 0);

    /* The test control: this thread only, until -1 (undone before any
       check, so that a failure leaves the next tests the host's CPU). */
    WdkmHostSetCurrentProcessor(200);
    Processor = KeGetCurrentProcessorNumberEx(&Number);
    Created = pthread_create(&Posix, NULL, ReportProcessorMain, &Other) == 0 &&
              pthread_join(Posix, NULL) == 0;
    WdkmHostSetCurrentProcessor(-1);
    Restored = KeGetCurrentProcessorNumberEx(NULL);
    CHECK(Processor == 200 && Number.Number == 200);
    CHECK(Created);
    CHECK(Other < CPU_SETSIZE && CPU_ISSET(Other, &Saved));
    CHECK(Restored < CPU_SETSIZE && CPU_ISSET(Restored, &Saved));
}

/* ---------------------------------------------------------------------- */
/* Pool                                                                    */
/* ---------------------------------------------------------------------- */

static BOOLEAN AllBytes(const VOID *Block, UCHAR Value, SIZE_T Size)
{
    for (SIZE_T Index = 0; Index < Size; Index++) {
        if (((const UCHAR *)Block)[Index] != Value) {
            return FALSE;
        }
    }
    return TRUE;
}

static void TestPool(void)
{
    const ULONG Tag = TAG('P', 'o', 'o', 'l');
    const ULONG Other = TAG('O', 't', 'h', 'r');
    ULONG64 Attempts = WdkmHostPoolAllocations();
    ULONG64 Successes = WdkmHostPoolTagAllocations(Tag);
    ULONG AllBefore = WdkmHostPoolOutstanding(0, NULL);
    SIZE_T Bytes = 1;
    UCHAR *Fresh;
    UCHAR *Zeroed;
    UCHAR *Raw;
    PVOID Paged;
    PVOID OtherBlock;

    CHECK(WdkmHostPoolOutstanding(Tag, &Bytes) == 0 && Bytes == 0);
    Fresh = (UCHAR *)ExAllocatePoolWithTag(NonPagedPoolNx, 100, Tag);
    Zeroed = (UCHAR *)ExAllocatePool2(POOL_FLAG_NON_PAGED, 50, Tag);
    Raw = (UCHAR *)ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED, 30, Tag);
    Paged = ExAllocatePool2(POOL_FLAG_PAGED, 8, Tag);
    OtherBlock = ExAllocatePoolWithTag(NonPagedPool, 7, Other);
    CHECK(Fresh != NULL && Zeroed != NULL && Raw != NULL && Paged != NULL && OtherBlock != NULL);
    CHECK(((ULONG_PTR)Fresh % 16) == 0 && ((ULONG_PTR)Zeroed % 16) == 0);
    CHECK(AllBytes(Fresh, 0xCD, 100));      /* not zeroed: callers must not rely on it */
    CHECK(AllBytes(Zeroed, 0, 50));
    CHECK(!AllBytes(Raw, 0, 30));
    memset(Fresh, 1, 100);

    CHECK(WdkmHostPoolOutstanding(Tag, &Bytes) == 4 && Bytes == 188);
    CHECK(WdkmHostPoolOutstanding(Other, &Bytes) == 1 && Bytes == 7);
    CHECK(WdkmHostPoolOutstanding(0, NULL) == AllBefore + 5);
    CHECK(WdkmHostPoolAllocations() == Attempts + 5);
    CHECK(WdkmHostPoolTagAllocations(Tag) == Successes + 4);

    ExFreePoolWithTag(Fresh, Tag);
    ExFreePoolWithTag(Zeroed, Tag);
    ExFreePool(Raw);
    ExFreePoolWithTag(Paged, Tag);
    ExFreePoolWithTag(OtherBlock, Other);
    CHECK(WdkmHostPoolOutstanding(Tag, &Bytes) == 0 && Bytes == 0);
    CHECK(WdkmHostPoolOutstanding(0, NULL) == AllBefore);

    /* Documented ExAllocatePool2 failures: tag 0, no or two pool kinds. */
    CHECK(ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 0) == NULL);
    CHECK(ExAllocatePool2(POOL_FLAG_UNINITIALIZED, 8, Tag) == NULL);
    CHECK(ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 8, Tag) == NULL);
    CHECK(ExAllocatePool2(POOL_FLAG_NON_PAGED | 0x10000, 8, Tag) == NULL);
    EXPECT_BUGCHECK(KMODE_EXCEPTION_NOT_HANDLED,
                    ExAllocatePool2(POOL_FLAG_RAISE_ON_FAILURE, 8, Tag));
}

static void TestPoolViolations(void)
{
    const ULONG Tag = TAG('B', 'a', 'd', 'P');
    ULONG Before = WdkmHostPoolOutstanding(Tag, NULL);
    char NotPool[32];
    PVOID Block;
    PVOID Paged;
    KIRQL OldIrql;

    Block = ExAllocatePoolWithTag(NonPagedPoolNx, 24, Tag);
    EXPECT_BUGCHECK(BAD_POOL_CALLER, ExFreePoolWithTag(Block, TAG('W', 'r', 'n', 'g')));
    CHECK(LastBugcheck.Parameter[0] == 0x0A && LastBugcheck.Parameter[1] == (ULONG_PTR)Block);
    CHECK(LastBugcheck.Parameter[2] == Tag);
    CHECK(WdkmHostPoolOutstanding(Tag, NULL) == Before + 1);   /* still live */
    ExFreePoolWithTag(Block, Tag);
    EXPECT_BUGCHECK(BAD_POOL_CALLER, ExFreePoolWithTag(Block, Tag));
    CHECK(LastBugcheck.Parameter[0] == 0x07);
    EXPECT_BUGCHECK(BAD_POOL_CALLER, ExFreePool(NotPool));
    CHECK(LastBugcheck.Parameter[0] == 0x42);
    EXPECT_BUGCHECK(BAD_POOL_CALLER, ExFreePool(NULL));
    EXPECT_BUGCHECK(BAD_POOL_CALLER, ExAllocatePoolWithTag(NonPagedPoolNx, 0, Tag));
    CHECK(LastBugcheck.Parameter[0] == 0x00);

    Paged = ExAllocatePoolWithTag(PagedPool, 8, Tag);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(BAD_POOL_CALLER, ExFreePoolWithTag(Paged, Tag));
    CHECK(LastBugcheck.Parameter[0] == 0x09);
    EXPECT_BUGCHECK(BAD_POOL_CALLER, ExAllocatePool2(POOL_FLAG_PAGED, 8, Tag));
    CHECK(LastBugcheck.Parameter[0] == 0x08);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(BAD_POOL_CALLER, ExAllocatePoolWithTag(NonPagedPoolNx, 8, Tag));
    KeLowerIrql(PASSIVE_LEVEL);
    ExFreePoolWithTag(Paged, Tag);
    CHECK(WdkmHostPoolOutstanding(Tag, NULL) == Before);
}

/* Far more live blocks than the block set's first 4096 buckets, so that it
   grows several times: every check a free makes still holds after each
   rehash, for the first blocks and the last. */
static void TestPoolManyBlocks(void)
{
    enum { Count = 50000 };
    const ULONG Tag = TAG('M', 'a', 'n', 'y');
    ULONG Before = WdkmHostPoolOutstanding(Tag, NULL);
    PVOID *Blocks = (PVOID *)calloc(Count, sizeof(PVOID));
    ULONG Index;

    CHECK(Blocks != NULL);
    if (Blocks == NULL) {
        return;
    }
    for (Index = 0; Index < Count; Index++) {
        Blocks[Index] = ExAllocatePoolWithTag(NonPagedPoolNx, 8 + Index % 64, Tag);
        if (Blocks[Index] == NULL) {
            break;
        }
    }
    CHECK(Index == Count);
    CHECK(WdkmHostPoolOutstanding(Tag, NULL) == Before + Index);
    if (Index == Count) {
        EXPECT_BUGCHECK(BAD_POOL_CALLER, ExFreePoolWithTag(Blocks[0], TAG('W', 'r', 'n', 'g')));
        CHECK(LastBugcheck.Parameter[0] == 0x0A && LastBugcheck.Parameter[1] == (ULONG_PTR)Blocks[0]);
        EXPECT_BUGCHECK(BAD_POOL_CALLER, ExFreePool((UCHAR *)Blocks[Count - 1] + 8));
        CHECK(LastBugcheck.Parameter[0] == 0x42);
    }
    /* Every other block, then the rest: the set shrinks through every bucket. */
    for (ULONG Pass = 0; Pass < 2; Pass++) {
        for (ULONG Free = Pass; Free < Index; Free += 2) {
            ExFreePoolWithTag(Blocks[Free], Tag);
        }
    }
    CHECK(WdkmHostPoolOutstanding(Tag, NULL) == Before);
    if (Index == Count) {
        EXPECT_BUGCHECK(BAD_POOL_CALLER, ExFreePoolWithTag(Blocks[Count - 1], Tag));
        CHECK(LastBugcheck.Parameter[0] == 0x07);
    }
    free(Blocks);
}

static void TestPoolFaultInjection(void)
{
    const ULONG Tag = TAG('F', 'a', 'i', 'l');
    ULONG Injected = WdkmHostPoolInjectedFailures();
    PVOID Blocks[4];

    WdkmHostPoolFailAt(2);
    for (int Index = 0; Index < 4; Index++) {
        Blocks[Index] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, Tag);
    }
    CHECK(Blocks[0] != NULL && Blocks[1] != NULL && Blocks[2] == NULL && Blocks[3] != NULL);
    CHECK(WdkmHostPoolInjectedFailures() == Injected + 1);
    CHECK(WdkmHostPoolOutstanding(Tag, NULL) == 3);

    WdkmHostPoolFailAt(0);
    CHECK(ExAllocatePoolWithTag(NonPagedPoolNx, 16, Tag) == NULL);
    WdkmHostPoolFailAt(0);
    EXPECT_BUGCHECK(KMODE_EXCEPTION_NOT_HANDLED,
                    ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 16, Tag));
    CHECK(LastBugcheck.Parameter[0] == (ULONG_PTR)STATUS_INSUFFICIENT_RESOURCES);
    WdkmHostPoolFailAt(1);
    WdkmHostPoolFailAt(-1);
    Blocks[2] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, Tag);
    CHECK(Blocks[2] != NULL);
    CHECK(WdkmHostPoolInjectedFailures() == Injected + 3);
    for (int Index = 0; Index < 4; Index++) {
        ExFreePoolWithTag(Blocks[Index], Tag);
    }
    CHECK(WdkmHostPoolOutstanding(Tag, NULL) == 0);
}

/* ---------------------------------------------------------------------- */
/* MmGetSystemRoutineAddress, debug output, misc                           */
/* ---------------------------------------------------------------------- */

static PVOID RoutineAddress(PCWSTR Name)
{
    UNICODE_STRING String;
    RtlInitUnicodeString(&String, Name);
    return MmGetSystemRoutineAddress(&String);
}

static PVOID FunctionAddress(void (*Function)(void))
{
    PVOID Address;
    memcpy(&Address, &Function, sizeof(Address));
    return Address;
}

static void TestRoutines(void)
{
    static const PCSTR Optional[] = { "ExAllocatePool2", "ExTryToAcquireFastMutex",
                                      "KeAcquireGuardedMutex", "KeReleaseGuardedMutex",
                                      "KeTryToAcquireGuardedMutex", "KeInitializeGuardedMutex" };
    UNICODE_STRING Constant = RTL_CONSTANT_STRING(L"ExAllocatePool2");
    KIRQL OldIrql;

    CHECK(Constant.Length == 15 * sizeof(WCHAR));
    CHECK(MmGetSystemRoutineAddress(&Constant) == FunctionAddress((void (*)(void))ExAllocatePool2));
    CHECK(RoutineAddress(L"KeAcquireGuardedMutex") ==
          FunctionAddress((void (*)(void))KeAcquireGuardedMutex));
    CHECK(RoutineAddress(L"ExTryToAcquireFastMutex") ==
          FunctionAddress((void (*)(void))ExTryToAcquireFastMutex));
    CHECK(RoutineAddress(L"NoSuchRoutine") == NULL);
    CHECK(RoutineAddress(L"ExAllocatePool") == NULL);    /* prefix of a name */
    CHECK(RoutineAddress(L"ExAllocatePool22") == NULL);

    for (SIZE_T Index = 0; Index < ARRAYSIZE(Optional); Index++) {
        CHECK_STATUS(STATUS_SUCCESS, WdkmHostSetRoutineAvailable(Optional[Index], FALSE));
    }
    CHECK(RoutineAddress(L"ExAllocatePool2") == NULL);
    CHECK(RoutineAddress(L"KeInitializeGuardedMutex") == NULL);
    CHECK(RoutineAddress(L"ExAllocatePoolWithTag") != NULL);
    CHECK_STATUS(STATUS_SUCCESS, WdkmHostSetRoutineAvailable("ExAllocatePool2", TRUE));
    CHECK(RoutineAddress(L"ExAllocatePool2") != NULL);
    CHECK(RoutineAddress(L"KeTryToAcquireGuardedMutex") == NULL);
    WdkmHostResetRoutines();
    CHECK(RoutineAddress(L"KeTryToAcquireGuardedMutex") != NULL);
    CHECK_STATUS(STATUS_OBJECT_NAME_NOT_FOUND, WdkmHostSetRoutineAvailable("Nope", FALSE));

    KeRaiseIrql(APC_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, RoutineAddress(L"ExAllocatePool2"));
    KeLowerIrql(OldIrql);
}

typedef VOID (FASTCALL PUSH_LOCK_ROUTINE)(PEX_PUSH_LOCK PushLock);
typedef BOOLEAN (FASTCALL TRY_SPIN_LOCK_ROUTINE)(PKSPIN_LOCK SpinLock);

/* Resolves Name into a function pointer of the caller's type. */
#define RESOLVE(Name, Target)                                   \
    do {                                                        \
        PVOID Address_ = RoutineAddress(Name);                  \
        memcpy(&(Target), &Address_, sizeof(Target));           \
    } while (0)

/* The push lock, spin lock try and DPC exports, and the Wine 8 profile
   under which only the generic push lock release resolves. */
static void TestRoutinesWine8(void)
{
    static const PCWSTR Present[] = { L"ExfAcquirePushLockExclusive", L"ExfAcquirePushLockShared",
                                      L"ExfReleasePushLock", L"KeAcquireSpinLockRaiseToDpc",
                                      L"ExInitializeResourceLite", L"ExAcquireResourceSharedLite",
                                      L"KeInsertQueueDpc", L"KeFlushQueuedDpcs", L"KeSetTimerEx",
                                      L"ExAllocatePoolWithTag", L"KeInitializeGuardedMutex" };
    static const PCWSTR Missing[] = { L"ExfReleasePushLockExclusive", L"ExfReleasePushLockShared",
                                      L"KeTryToAcquireSpinLockAtDpcLevel", L"ExAllocatePool2",
                                      L"ExTryToAcquireFastMutex", L"KeAcquireGuardedMutex",
                                      L"KeReleaseGuardedMutex", L"KeTryToAcquireGuardedMutex" };
    PUSH_LOCK_ROUTINE *Acquire;
    PUSH_LOCK_ROUTINE *Release;
    TRY_SPIN_LOCK_ROUTINE *TryToAcquire;
    EX_PUSH_LOCK Lock = 0;
    KSPIN_LOCK SpinLock;
    KIRQL OldIrql;

    CHECK(RoutineAddress(L"ExfReleasePushLockExclusive") ==
          FunctionAddress((void (*)(void))ExfReleasePushLockExclusive));
    CHECK(RoutineAddress(L"KeTryToAcquireSpinLockAtDpcLevel") ==
          FunctionAddress((void (*)(void))KeTryToAcquireSpinLockAtDpcLevel));
    CHECK(RoutineAddress(L"KeAcquireSpinLockRaiseToDpc") ==
          FunctionAddress((void (*)(void))KeAcquireSpinLockRaiseToDpc));
    CHECK_STATUS(STATUS_SUCCESS, WdkmHostSetRoutineAvailable("KeTryToAcquireSpinLockAtDpcLevel",
                                                             FALSE));
    CHECK(RoutineAddress(L"KeTryToAcquireSpinLockAtDpcLevel") == NULL);
    CHECK_STATUS(STATUS_SUCCESS, WdkmHostSetRoutineAvailable("ExfReleasePushLockShared", FALSE));
    CHECK(RoutineAddress(L"ExfReleasePushLockShared") == NULL);
    CHECK(RoutineAddress(L"ExfReleasePushLockExclusive") != NULL);
    WdkmHostResetRoutines();

    WdkmHostSetRoutineProfile(WdkmHostRoutineProfileWine8);
    for (SIZE_T Index = 0; Index < ARRAYSIZE(Present); Index++) {
        CHECK(RoutineAddress(Present[Index]) != NULL);
    }
    for (SIZE_T Index = 0; Index < ARRAYSIZE(Missing); Index++) {
        CHECK(RoutineAddress(Missing[Index]) == NULL);
    }
    /* What a driver does on Wine: both acquires, the generic release. */
    RESOLVE(L"ExfAcquirePushLockExclusive", Acquire);
    RESOLVE(L"ExfReleasePushLock", Release);
    KeEnterCriticalRegion();
    Acquire(&Lock);
    CHECK(Lock == 0x1);
    Release(&Lock);
    RESOLVE(L"ExfAcquirePushLockShared", Acquire);
    Acquire(&Lock);
    CHECK(Lock == 0x11);
    Release(&Lock);
    KeLeaveCriticalRegion();
    CHECK(Lock == 0);
    WdkmHostSetRoutineProfile(WdkmHostRoutineProfileAll);
    CHECK(RoutineAddress(L"ExfReleasePushLockShared") != NULL);
    CHECK(RoutineAddress(L"ExAllocatePool2") != NULL);

    RESOLVE(L"KeTryToAcquireSpinLockAtDpcLevel", TryToAcquire);
    KeInitializeSpinLock(&SpinLock);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK(TryToAcquire(&SpinLock));
    CHECK(!TryToAcquire(&SpinLock));
    KeReleaseSpinLockFromDpcLevel(&SpinLock);
    KeLowerIrql(OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_GREATER_OR_EQUAL, TryToAcquire(&SpinLock));
    CHECK(SpinLock == 0);
}

typedef struct _CAPTURE {
    int Count;
    ULONG Level;
    char Text[600];
} CAPTURE;

static VOID CaptureSink(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    CAPTURE *Capture = (CAPTURE *)Context;
    UNREFERENCED_PARAMETER(ComponentId);
    Capture->Count++;
    Capture->Level = Level;
    snprintf(Capture->Text, sizeof(Capture->Text), "%s", Message);
}

static void TestDebugPrint(void)
{
    CAPTURE Capture;
    char Long[700];

    memset(&Capture, 0, sizeof(Capture));
    WdkmHostSetDebugPrintSink(CaptureSink, &Capture);
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, "error %d\n", 1);
    CHECK(Capture.Count == 1 && strcmp(Capture.Text, "error 1\n") == 0);
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_WARNING_LEVEL, "warning %s\n", "two");
    CHECK(Capture.Count == 2 && strcmp(Capture.Text, "warning two\n") == 0);
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_TRACE_LEVEL, "trace\n");
    DbgPrint("default info\n");
    CHECK(Capture.Count == 2);              /* filtered by default */
    WdkmHostSetDebugPrintLevel(DPFLTR_INFO_LEVEL);
    DbgPrint("info %u\n", 3u);
    CHECK(Capture.Count == 3 && strcmp(Capture.Text, "info 3\n") == 0);
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_MASK | 0x4, "mask\n");  /* bit 2: trace */
    CHECK(Capture.Count == 4 && Capture.Level == (DPFLTR_MASK | 0x4));
    memset(Long, 'x', sizeof(Long) - 1);
    Long[sizeof(Long) - 1] = '\0';
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, "%s", Long);
    CHECK(strlen(Capture.Text) == 511);     /* NT's 512-byte limit */
    WdkmHostSetDebugPrintLevel(DPFLTR_WARNING_LEVEL);
    WdkmHostSetDebugPrintSink(NULL, NULL);
}

static void TestInterlockedAndLists(void)
{
    LONG volatile Value = 5;
    LONG64 volatile Value64 = 1;
    PVOID volatile Pointer = NULL;
    LIST_ENTRY Head, A, B;
    int Dummy;

    CHECK(InterlockedIncrement(&Value) == 6);
    CHECK(InterlockedDecrement(&Value) == 5);
    CHECK(InterlockedExchange(&Value, 9) == 5);
    CHECK(InterlockedExchangeAdd(&Value, 2) == 9 && Value == 11);
    CHECK(InterlockedCompareExchange(&Value, 1, 10) == 11 && Value == 11);
    CHECK(InterlockedCompareExchange(&Value, 1, 11) == 11 && Value == 1);
    CHECK(InterlockedOr(&Value, 6) == 1 && Value == 7);
    CHECK(InterlockedAnd(&Value, 3) == 7 && Value == 3);
    CHECK(InterlockedIncrement64(&Value64) == 2);
    CHECK(InterlockedCompareExchange64(&Value64, 7, 2) == 2 && Value64 == 7);
    CHECK(InterlockedExchangePointer(&Pointer, &Dummy) == NULL);
    CHECK(InterlockedCompareExchangePointer(&Pointer, NULL, &Dummy) == &Dummy && Pointer == NULL);
    WriteRelease(&Value, 4);
    CHECK(ReadAcquire(&Value) == 4 && ReadNoFence(&Value) == 4);
    WritePointerNoFence(&Pointer, &Dummy);
    CHECK(ReadPointerNoFence(&Pointer) == &Dummy);
    KeMemoryBarrier();

    InitializeListHead(&Head);
    CHECK(IsListEmpty(&Head));
    InsertTailList(&Head, &A);
    InsertTailList(&Head, &B);
    CHECK(Head.Flink == &A && Head.Blink == &B);
    CHECK(!RemoveEntryList(&A));
    CHECK(RemoveEntryList(&B));
    CHECK(IsListEmpty(&Head));
    A.Flink = A.Blink = &B;             /* corrupt: not linked to Head */
    EXPECT_BUGCHECK(KERNEL_SECURITY_CHECK_FAILURE, RemoveEntryList(&A));
    CHECK(RtlCompareMemory("abcd", "abXd", 4) == 2);
}

static void TestClock(void)
{
    LARGE_INTEGER Frequency, First, Second, SystemTime;
    KMUTEX Mutex;
    const int Rounds = 100000;
    LONGLONG Start, PerRound;

    First = KeQueryPerformanceCounter(&Frequency);
    CHECK(Frequency.QuadPart == 10000000);
    KeStallExecutionProcessor(100);
    Second = KeQueryPerformanceCounter(NULL);
    CHECK(Second.QuadPart - First.QuadPart >= 1000);
    KeQuerySystemTime(&SystemTime);
    CHECK(SystemTime.QuadPart > 132000000000000000LL);  /* after 2019 */

    KeInitializeMutex(&Mutex, 0);
    Start = NowNanoseconds();
    for (int Round = 0; Round < Rounds; Round++) {
        KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL);
        KeReleaseMutex(&Mutex, FALSE);
    }
    PerRound = (NowNanoseconds() - Start) / Rounds;
    printf("  uncontended KMUTEX acquire+release: %lld ns\n", PerRound);
}

/* ---------------------------------------------------------------------- */
/* Shared probes: how many threads hold a lock at once                     */
/* ---------------------------------------------------------------------- */

typedef enum _PROBE_LOCK { ProbeResource, ProbePushLock } PROBE_LOCK;

typedef struct _OVERLAP {
    PROBE_LOCK Kind;
    BOOLEAN Exclusive;
    ULONG HoldMs;                       /* how long to wait for company */
    ERESOURCE Resource;
    EX_PUSH_LOCK PushLock;
    KEVENT Start;
    LONG volatile Inside;
    LONG volatile MaxInside;
} OVERLAP;

static VOID ProbeAcquire(PROBE_LOCK Kind, ERESOURCE *Resource, EX_PUSH_LOCK *PushLock,
                         BOOLEAN Exclusive)
{
    if (Kind == ProbeResource) {
        if (Exclusive) {
            ExAcquireResourceExclusiveLite(Resource, TRUE);
        } else {
            ExAcquireResourceSharedLite(Resource, TRUE);
        }
    } else if (Exclusive) {
        ExfAcquirePushLockExclusive(PushLock);
    } else {
        ExfAcquirePushLockShared(PushLock);
    }
}

static VOID ProbeRelease(PROBE_LOCK Kind, ERESOURCE *Resource, EX_PUSH_LOCK *PushLock,
                         BOOLEAN Exclusive)
{
    if (Kind == ProbeResource) {
        ExReleaseResourceLite(Resource);
    } else if (Exclusive) {
        ExfReleasePushLockExclusive(PushLock);
    } else {
        ExfReleasePushLockShared(PushLock);
    }
}

/* Holds the lock until another thread holds it too (or HoldMs pass),
   recording the most holders seen at once. */
static VOID NTAPI OverlapRoutine(PVOID Context)
{
    OVERLAP *Overlap = (OVERLAP *)Context;
    LARGE_INTEGER Millisecond = RelativeMs(1);
    LONG Now;

    KeWaitForSingleObject(&Overlap->Start, Executive, KernelMode, FALSE, NULL);
    KeEnterCriticalRegion();
    ProbeAcquire(Overlap->Kind, &Overlap->Resource, &Overlap->PushLock, Overlap->Exclusive);
    Now = InterlockedIncrement(&Overlap->Inside);
    for (LONG Seen = ReadNoFence(&Overlap->MaxInside); Now > Seen;) {
        LONG Previous = InterlockedCompareExchange(&Overlap->MaxInside, Now, Seen);
        if (Previous == Seen) {
            break;
        }
        Seen = Previous;
    }
    for (ULONG Waited = 0; Waited < Overlap->HoldMs && ReadNoFence(&Overlap->Inside) < 2; Waited++) {
        KeDelayExecutionThread(KernelMode, FALSE, &Millisecond);
    }
    InterlockedDecrement(&Overlap->Inside);
    ProbeRelease(Overlap->Kind, &Overlap->Resource, &Overlap->PushLock, Overlap->Exclusive);
    KeLeaveCriticalRegion();
}

/* Two threads take the lock; returns the most that held it at once. */
static LONG MeasureOverlap(PROBE_LOCK Kind, BOOLEAN Exclusive, ULONG HoldMs)
{
    static OVERLAP Overlap;
    HANDLE Handles[2];

    Overlap.Kind = Kind;
    Overlap.Exclusive = Exclusive;
    Overlap.HoldMs = HoldMs;
    Overlap.Inside = 0;
    Overlap.MaxInside = 0;
    ExInitializeResourceLite(&Overlap.Resource);
    ExInitializePushLock(&Overlap.PushLock);
    KeInitializeEvent(&Overlap.Start, NotificationEvent, FALSE);
    for (int Index = 0; Index < 2; Index++) {
        Handles[Index] = StartThread(OverlapRoutine, &Overlap);
    }
    KeSetEvent(&Overlap.Start, 0, FALSE);
    for (int Index = 0; Index < 2; Index++) {
        JoinThread(Handles[Index]);
    }
    CHECK(Overlap.PushLock == 0);
    CHECK_STATUS(STATUS_SUCCESS, ExDeleteResourceLite(&Overlap.Resource));
    return Overlap.MaxInside;
}

/* A thread that takes a lock, reports, and holds it until told to release. */
typedef struct _LOCK_HOLDER {
    PROBE_LOCK Kind;
    BOOLEAN Exclusive;
    ERESOURCE *Resource;
    EX_PUSH_LOCK *PushLock;
    PKTHREAD Thread;
    KEVENT Acquired;
    KEVENT Release;
} LOCK_HOLDER;

static VOID NTAPI LockHolderRoutine(PVOID Context)
{
    LOCK_HOLDER *Holder = (LOCK_HOLDER *)Context;

    Holder->Thread = KeGetCurrentThread();
    KeEnterCriticalRegion();
    ProbeAcquire(Holder->Kind, Holder->Resource, Holder->PushLock, Holder->Exclusive);
    KeSetEvent(&Holder->Acquired, 0, FALSE);
    KeWaitForSingleObject(&Holder->Release, Executive, KernelMode, FALSE, NULL);
    ProbeRelease(Holder->Kind, Holder->Resource, Holder->PushLock, Holder->Exclusive);
    KeLeaveCriticalRegion();
}

/* Starts a holder; with WaitForIt, returns once it holds the lock. */
static HANDLE StartLockHolder(LOCK_HOLDER *Holder, PROBE_LOCK Kind, BOOLEAN Exclusive,
                              ERESOURCE *Resource, EX_PUSH_LOCK *PushLock, BOOLEAN WaitForIt)
{
    HANDLE Handle;

    Holder->Kind = Kind;
    Holder->Exclusive = Exclusive;
    Holder->Resource = Resource;
    Holder->PushLock = PushLock;
    KeInitializeEvent(&Holder->Acquired, NotificationEvent, FALSE);
    KeInitializeEvent(&Holder->Release, NotificationEvent, FALSE);
    Handle = StartThread(LockHolderRoutine, Holder);
    if (WaitForIt) {
        KeWaitForSingleObject(&Holder->Acquired, Executive, KernelMode, FALSE, NULL);
    }
    return Handle;
}

/* Polls Probe() until it returns Expected, for up to two seconds. */
static BOOLEAN EventuallyEquals(ULONG (*Probe)(PVOID), PVOID Context, ULONG Expected)
{
    LARGE_INTEGER Millisecond = RelativeMs(1);

    for (int Round = 0; Round < 2000; Round++) {
        if (Probe(Context) == Expected) {
            return TRUE;
        }
        KeDelayExecutionThread(KernelMode, FALSE, &Millisecond);
    }
    return FALSE;
}

static ULONG ExclusiveWaiters(PVOID Resource)
{
    return ExGetExclusiveWaiterCount((PERESOURCE)Resource);
}

static ULONG SharedWaiters(PVOID Resource)
{
    return ExGetSharedWaiterCount((PERESOURCE)Resource);
}

static ULONG PushLockWord(PVOID PushLock)
{
    return (ULONG)__atomic_load_n((EX_PUSH_LOCK *)PushLock, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------- */
/* ERESOURCE                                                               */
/* ---------------------------------------------------------------------- */

static void TestResource(void)
{
    ERESOURCE Resource;
    ULONG Live = WdkmHostResourceCount();
    KIRQL OldIrql;

    CHECK_STATUS(STATUS_SUCCESS, ExInitializeResourceLite(&Resource));
    CHECK(WdkmHostResourceCount() == Live + 1);
    KeEnterCriticalRegion();
    CHECK(ExAcquireResourceExclusiveLite(&Resource, TRUE));
    CHECK(ExIsResourceAcquiredExclusiveLite(&Resource));
    CHECK(ExAcquireResourceExclusiveLite(&Resource, FALSE));    /* recursive */
    CHECK(ExAcquireResourceSharedLite(&Resource, FALSE));       /* the exclusive owner, shared */
    CHECK(ExIsResourceAcquiredSharedLite(&Resource) == 3);      /* exclusive ones count */
    CHECK(ExIsResourceAcquiredLite(&Resource) == 3);
    CHECK(WdkmHostThreadHeldLockCount() == 1);
    ExReleaseResourceLite(&Resource);
    ExReleaseResourceLite(&Resource);
    CHECK(ExIsResourceAcquiredExclusiveLite(&Resource));
    ExReleaseResourceLite(&Resource);
    CHECK(!ExIsResourceAcquiredExclusiveLite(&Resource));
    CHECK(ExIsResourceAcquiredSharedLite(&Resource) == 0);
    CHECK(WdkmHostThreadHeldLockCount() == 0);

    CHECK(ExAcquireResourceSharedLite(&Resource, TRUE));
    CHECK(ExAcquireResourceSharedLite(&Resource, FALSE));       /* recursive */
    CHECK(!ExIsResourceAcquiredExclusiveLite(&Resource));
    CHECK(ExIsResourceAcquiredSharedLite(&Resource) == 2);
    CHECK(!ExAcquireResourceExclusiveLite(&Resource, FALSE));   /* not available now */
    /* Waiting for exclusive as a shared owner would hang NT. */
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION,
                    ExAcquireResourceExclusiveLite(&Resource, TRUE));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_SELF_DEADLOCK);
    CHECK(LastBugcheck.Parameter[1] == (ULONG_PTR)&Resource);
    CHECK(ExIsResourceAcquiredSharedLite(&Resource) == 2);      /* unchanged */
    ExReleaseResourceForThreadLite(&Resource, ExGetCurrentResourceThread());
    ExReleaseResourceLite(&Resource);
    CHECK(ExIsResourceAcquiredSharedLite(&Resource) == 0);

    CHECK(ExAcquireResourceExclusiveLite(&Resource, TRUE));
    ExConvertExclusiveToSharedLite(&Resource);
    CHECK(!ExIsResourceAcquiredExclusiveLite(&Resource));
    CHECK(ExIsResourceAcquiredSharedLite(&Resource) == 1);
    ExReleaseResourceLite(&Resource);
    KeLeaveCriticalRegion();

    /* APC_LEVEL or a guarded region disable normal kernel APCs as well. */
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    CHECK(ExAcquireResourceExclusiveLite(&Resource, TRUE));
    ExReleaseResourceLite(&Resource);
    KeLowerIrql(OldIrql);
    KeEnterGuardedRegion();
    CHECK(ExAcquireResourceSharedLite(&Resource, TRUE));
    ExReleaseResourceLite(&Resource);
    KeLeaveGuardedRegion();

    CHECK(ExGetExclusiveWaiterCount(&Resource) == 0 && ExGetSharedWaiterCount(&Resource) == 0);
    CHECK_STATUS(STATUS_SUCCESS, ExDeleteResourceLite(&Resource));
    CHECK(WdkmHostResourceCount() == Live);
}

static void TestResourceViolations(void)
{
    ERESOURCE Resource;
    ERESOURCE Never;
    PERESOURCE Pooled;
    ULONG Live = WdkmHostResourceCount();
    const ULONG Tag = TAG('R', 's', 'r', 'c');
    volatile KIRQL OldIrql;     /* set between traps */

    ExInitializeResourceLite(&Resource);
    /* Acquiring with normal kernel APCs enabled: Verifier's 0x37. */
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION,
                    ExAcquireResourceExclusiveLite(&Resource, TRUE));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_RESOURCE_APCS_ENABLED);
    CHECK(LastBugcheck.Parameter[1] == PASSIVE_LEVEL && LastBugcheck.Parameter[2] == 0);
    CHECK(LastBugcheck.Parameter[3] == (ULONG_PTR)&Resource);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExAcquireResourceSharedLite(&Resource, FALSE));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_RESOURCE_APCS_ENABLED);

    KeEnterCriticalRegion();
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, ExAcquireResourceExclusiveLite(&Resource, FALSE));
    CHECK(LastBugcheck.Parameter[0] == (ULONG_PTR)&Resource);
    CHECK(LastBugcheck.Parameter[1] == DISPATCH_LEVEL && LastBugcheck.Parameter[2] == APC_LEVEL);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, ExAcquireResourceSharedLite(&Resource, FALSE));
    KeLowerIrql(OldIrql);

    EXPECT_BUGCHECK(RESOURCE_NOT_OWNED, ExReleaseResourceLite(&Resource));
    CHECK(LastBugcheck.Parameter[0] == (ULONG_PTR)&Resource);
    CHECK(LastBugcheck.Parameter[1] == ExGetCurrentResourceThread());
    EXPECT_BUGCHECK(RESOURCE_NOT_OWNED, ExConvertExclusiveToSharedLite(&Resource));

    CHECK(ExAcquireResourceExclusiveLite(&Resource, TRUE));
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, ExReleaseResourceLite(&Resource));
    CHECK(LastBugcheck.Parameter[2] == DISPATCH_LEVEL);
    KeLowerIrql(DISPATCH_LEVEL);
    ExReleaseResourceLite(&Resource);               /* legal at DISPATCH_LEVEL */
    KeLowerIrql(OldIrql);

    /* Releasing after leaving the region: Verifier's 0x38. */
    CHECK(ExAcquireResourceExclusiveLite(&Resource, TRUE));
    KeLeaveCriticalRegion();
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExReleaseResourceLite(&Resource));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_RESOURCE_RELEASE_APCS_ENABLED);
    CHECK(ExIsResourceAcquiredExclusiveLite(&Resource));

    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExDeleteResourceLite(&Resource));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_DELETED_LOCK_OWNED);
    CHECK(LastBugcheck.Parameter[1] == (ULONG_PTR)&Resource);
    CHECK(LastBugcheck.Parameter[2] == ExGetCurrentResourceThread());
    CHECK(ExIsResourceAcquiredExclusiveLite(&Resource));    /* still usable */
    KeEnterCriticalRegion();
    ExReleaseResourceLite(&Resource);
    KeLeaveCriticalRegion();

    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExInitializeResourceLite(&Resource));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_RESOURCE_REINITIALIZED);
    CHECK(LastBugcheck.Parameter[1] == (ULONG_PTR)&Resource);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, ExDeleteResourceLite(&Resource));
    KeLowerIrql(OldIrql);
    CHECK(WdkmHostResourceCount() == Live + 1);
    CHECK_STATUS(STATUS_SUCCESS, ExDeleteResourceLite(&Resource));

    /* Deleted, or never initialised. */
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExDeleteResourceLite(&Resource));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_RESOURCE_UNINITIALIZED);
    memset(&Never, 0xCD, sizeof(Never));
    KeEnterCriticalRegion();
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExAcquireResourceExclusiveLite(&Never, TRUE));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_RESOURCE_UNINITIALIZED);
    CHECK(LastBugcheck.Parameter[1] == (ULONG_PTR)&Never);
    KeLeaveCriticalRegion();

    /* Freeing pool that holds a live resource: Verifier's 0xD2. */
    Pooled = (PERESOURCE)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(ERESOURCE) + 8, Tag);
    CHECK(Pooled != NULL);
    if (Pooled != NULL) {
        ExInitializeResourceLite(Pooled);
        EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExFreePoolWithTag(Pooled, Tag));
        CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_RESOURCE_IN_FREED_POOL);
        CHECK(LastBugcheck.Parameter[1] == (ULONG_PTR)Pooled);
        CHECK(LastBugcheck.Parameter[2] == (ULONG_PTR)Pooled);
        CHECK(LastBugcheck.Parameter[3] == sizeof(ERESOURCE) + 8);
        CHECK(WdkmHostPoolOutstanding(Tag, NULL) == 1);
        ExDeleteResourceLite(Pooled);
        ExFreePoolWithTag(Pooled, Tag);
    }
    CHECK(WdkmHostPoolOutstanding(Tag, NULL) == 0);
    CHECK(WdkmHostResourceCount() == Live);
}

static void TestResourceContention(void)
{
    static ERESOURCE Resource;
    LOCK_HOLDER Holder;
    LOCK_HOLDER Writer;
    LOCK_HOLDER Reader;
    HANDLE Handles[3];

    ExInitializeResourceLite(&Resource);
    Handles[0] = StartLockHolder(&Holder, ProbeResource, TRUE, &Resource, NULL, TRUE);
    KeEnterCriticalRegion();
    CHECK(!ExAcquireResourceExclusiveLite(&Resource, FALSE));
    CHECK(!ExAcquireResourceSharedLite(&Resource, FALSE));
    CHECK(ExIsResourceAcquiredSharedLite(&Resource) == 0);
    /* Only the owner may release (or name the owner explicitly). */
    EXPECT_BUGCHECK(RESOURCE_NOT_OWNED, ExReleaseResourceLite(&Resource));
    KeLeaveCriticalRegion();

    Handles[1] = StartLockHolder(&Writer, ProbeResource, TRUE, &Resource, NULL, FALSE);
    CHECK(EventuallyEquals(ExclusiveWaiters, &Resource, 1));
    Handles[2] = StartLockHolder(&Reader, ProbeResource, FALSE, &Resource, NULL, FALSE);
    CHECK(EventuallyEquals(SharedWaiters, &Resource, 1));
    CHECK(Resource.ContentionCount == 2);

    /* The exclusive owner's release lets the shared waiter in first, as NT;
       the writer follows once the reader is done. */
    KeSetEvent(&Holder.Release, 0, FALSE);
    KeWaitForSingleObject(&Reader.Acquired, Executive, KernelMode, FALSE, NULL);
    CHECK(KeReadStateEvent(&Writer.Acquired) == 0);
    CHECK(ExGetExclusiveWaiterCount(&Resource) == 1 && ExGetSharedWaiterCount(&Resource) == 0);
    /* Released on the reader's behalf, as a driver may do from elsewhere. */
    KeEnterCriticalRegion();
    ExReleaseResourceForThreadLite(&Resource, (ERESOURCE_THREAD)Reader.Thread);
    KeLeaveCriticalRegion();
    KeWaitForSingleObject(&Writer.Acquired, Executive, KernelMode, FALSE, NULL);
    KeSetEvent(&Writer.Release, 0, FALSE);
    JoinThread(Handles[0]);
    JoinThread(Handles[1]);
    CHECK(ExGetExclusiveWaiterCount(&Resource) == 0);
    /* The reader's own release now finds it no longer owns it. */
    WdkmHostSetBugcheckHandler(RecordBugcheck, &Handled);
    {
        ULONG Before = HandledCount(NULL);
        WDKM_HOST_BUGCHECK Last;
        KeSetEvent(&Reader.Release, 0, FALSE);
        JoinThread(Handles[2]);
        CHECK(HandledCount(&Last) == Before + 1);
        CHECK(Last.Code == RESOURCE_NOT_OWNED && Last.Parameter[0] == (ULONG_PTR)&Resource);
    }
    WdkmHostSetBugcheckHandler(NULL, NULL);
    CHECK_STATUS(STATUS_SUCCESS, ExDeleteResourceLite(&Resource));
}

static void TestResourceOverlap(void)
{
    /* Shared holders really hold it together; exclusive ones never do. */
    CHECK(MeasureOverlap(ProbeResource, FALSE, 2000) == 2);
    CHECK(MeasureOverlap(ProbeResource, TRUE, 20) == 1);
}

/* Readers that keep the lock shared by overlapping one another. */
typedef struct _READERS {
    PROBE_LOCK Kind;
    ERESOURCE Resource;
    EX_PUSH_LOCK PushLock;
    LONG volatile Stop;
    LONG volatile Rounds;
    KEVENT WriterIn;
} READERS;

static VOID NTAPI OverlappingReaderRoutine(PVOID Context)
{
    READERS *Readers = (READERS *)Context;
    LARGE_INTEGER Millisecond = RelativeMs(1);

    while (!ReadNoFence(&Readers->Stop)) {
        KeEnterCriticalRegion();
        ProbeAcquire(Readers->Kind, &Readers->Resource, &Readers->PushLock, FALSE);
        InterlockedIncrement(&Readers->Rounds);
        KeDelayExecutionThread(KernelMode, FALSE, &Millisecond);
        ProbeRelease(Readers->Kind, &Readers->Resource, &Readers->PushLock, FALSE);
        KeLeaveCriticalRegion();
    }
}

static VOID NTAPI WriterRoutine(PVOID Context)
{
    READERS *Readers = (READERS *)Context;

    KeEnterCriticalRegion();
    ProbeAcquire(Readers->Kind, &Readers->Resource, &Readers->PushLock, TRUE);
    KeSetEvent(&Readers->WriterIn, 0, FALSE);
    ProbeRelease(Readers->Kind, &Readers->Resource, &Readers->PushLock, TRUE);
    KeLeaveCriticalRegion();
}

/* Two readers keep the lock shared without a gap; a writer must still get
   in (new readers queue behind it). */
static void RunWriterNotStarved(PROBE_LOCK Kind)
{
    static READERS Readers;
    LARGE_INTEGER Millisecond = RelativeMs(1);
    LARGE_INTEGER Deadline = RelativeMs(5000);
    HANDLE Handles[3];

    Readers.Kind = Kind;
    Readers.Stop = 0;
    Readers.Rounds = 0;
    ExInitializeResourceLite(&Readers.Resource);
    ExInitializePushLock(&Readers.PushLock);
    KeInitializeEvent(&Readers.WriterIn, NotificationEvent, FALSE);
    Handles[0] = StartThread(OverlappingReaderRoutine, &Readers);
    Handles[1] = StartThread(OverlappingReaderRoutine, &Readers);
    while (ReadNoFence(&Readers.Rounds) < 20) {
        KeDelayExecutionThread(KernelMode, FALSE, &Millisecond);
    }
    Handles[2] = StartThread(WriterRoutine, &Readers);
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Readers.WriterIn, Executive, KernelMode,
                                                       FALSE, &Deadline));
    InterlockedExchange(&Readers.Stop, 1);
    for (int Index = 0; Index < 3; Index++) {
        JoinThread(Handles[Index]);
    }
    CHECK(Readers.PushLock == 0);
    CHECK_STATUS(STATUS_SUCCESS, ExDeleteResourceLite(&Readers.Resource));
}

static void TestResourceWriterNotStarved(void) { RunWriterNotStarved(ProbeResource); }

/* ---------------------------------------------------------------------- */
/* Push locks                                                              */
/* ---------------------------------------------------------------------- */

static void TestPushLock(void)
{
    EX_PUSH_LOCK Lock;
    KIRQL OldIrql;

    ExInitializePushLock(&Lock);
    CHECK(Lock == 0);
    KeEnterCriticalRegion();
    ExfAcquirePushLockExclusive(&Lock);
    CHECK(Lock == 0x1);                 /* NT's layout: locked */
    CHECK(WdkmHostThreadHeldLockCount() == 1);
    ExfReleasePushLockExclusive(&Lock);
    CHECK(Lock == 0);
    CHECK(WdkmHostThreadHeldLockCount() == 0);
    ExfAcquirePushLockShared(&Lock);
    CHECK(Lock == 0x11);                /* locked, one sharer */
    ExfReleasePushLockShared(&Lock);
    ExfAcquirePushLockShared(&Lock);
    ExfReleasePushLock(&Lock);          /* the generic release (Wine's) */
    ExfAcquirePushLockExclusive(&Lock);
    ExfReleasePushLock(&Lock);
    CHECK(Lock == 0);
    KeLeaveCriticalRegion();

    KeRaiseIrql(APC_LEVEL, &OldIrql);   /* APC_LEVEL blocks normal kernel APCs too */
    ExfAcquirePushLockShared(&Lock);
    ExfReleasePushLockShared(&Lock);
    KeLowerIrql(OldIrql);
    KeEnterGuardedRegion();
    ExfAcquirePushLockExclusive(&Lock);
    ExfReleasePushLockExclusive(&Lock);
    KeLeaveGuardedRegion();
    CHECK(Lock == 0);
}

static void TestPushLockViolations(void)
{
    EX_PUSH_LOCK Lock;
    KIRQL OldIrql;

    ExInitializePushLock(&Lock);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfAcquirePushLockExclusive(&Lock));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_PUSH_LOCK_APCS_ENABLED);
    CHECK(LastBugcheck.Parameter[1] == PASSIVE_LEVEL && LastBugcheck.Parameter[3] == (ULONG_PTR)&Lock);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfAcquirePushLockShared(&Lock));
    CHECK(Lock == 0);

    KeEnterCriticalRegion();
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, ExfAcquirePushLockExclusive(&Lock));
    CHECK(LastBugcheck.Parameter[0] == (ULONG_PTR)&Lock && LastBugcheck.Parameter[2] == APC_LEVEL);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, ExfAcquirePushLockShared(&Lock));
    KeLowerIrql(OldIrql);

    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfReleasePushLock(&Lock));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_PUSH_LOCK_NOT_OWNER);
    CHECK(LastBugcheck.Parameter[3] == 0);

    /* Not recursive, either way: NT would hang. */
    ExfAcquirePushLockExclusive(&Lock);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfAcquirePushLockExclusive(&Lock));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_SELF_DEADLOCK);
    CHECK(LastBugcheck.Parameter[1] == (ULONG_PTR)&Lock);
    CHECK(LastBugcheck.Parameter[2] == (ULONG_PTR)KeGetCurrentThread());
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfAcquirePushLockShared(&Lock));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_SELF_DEADLOCK);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfReleasePushLockShared(&Lock));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_PUSH_LOCK_RELEASE_MISMATCH);
    CHECK(Lock == 0x1);
    ExfReleasePushLockExclusive(&Lock);
    ExfAcquirePushLockShared(&Lock);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfAcquirePushLockShared(&Lock));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_SELF_DEADLOCK);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfAcquirePushLockExclusive(&Lock));
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfReleasePushLockExclusive(&Lock));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_PUSH_LOCK_RELEASE_MISMATCH);
    CHECK(Lock == 0x11);

    /* Releasing outside the region: Verifier's 0xEB. */
    KeLeaveCriticalRegion();
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfReleasePushLockShared(&Lock));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_PUSH_LOCK_RELEASE_APCS_ENABLED);
    KeEnterCriticalRegion();
    ExfReleasePushLockShared(&Lock);
    CHECK(Lock == 0);

    /* A word overwritten while in use (re-initialised), or never initialised. */
    ExfAcquirePushLockExclusive(&Lock);
    ExInitializePushLock(&Lock);
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfReleasePushLockExclusive(&Lock));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_PUSH_LOCK_CORRUPTED);
    CHECK(LastBugcheck.Parameter[3] == 0);
    Lock = 0x1;
    ExfReleasePushLockExclusive(&Lock);
    Lock = 0xCDCDCDCD;
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfAcquirePushLockShared(&Lock));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_PUSH_LOCK_CORRUPTED);
    ExInitializePushLock(&Lock);
    ExfAcquirePushLockShared(&Lock);
    ExfReleasePushLock(&Lock);
    KeLeaveCriticalRegion();
    CHECK(Lock == 0);
}

static void TestPushLockContention(void)
{
    static EX_PUSH_LOCK Lock;
    LOCK_HOLDER Holder;
    LOCK_HOLDER Writer;
    LOCK_HOLDER Reader;
    HANDLE Handles[3];

    ExInitializePushLock(&Lock);
    Handles[0] = StartLockHolder(&Holder, ProbePushLock, FALSE, NULL, &Lock, TRUE);
    CHECK(PushLockWord(&Lock) == 0x11);
    KeEnterCriticalRegion();
    /* Held by another thread: releasing it here is a bug. */
    EXPECT_BUGCHECK(DRIVER_VERIFIER_DETECTED_VIOLATION, ExfReleasePushLock(&Lock));
    CHECK(LastBugcheck.Parameter[0] == WDKM_HOST_VIOLATION_PUSH_LOCK_NOT_OWNER);
    KeLeaveCriticalRegion();
    /* A writer queues; a reader that comes later queues behind it. */
    Handles[1] = StartLockHolder(&Writer, ProbePushLock, TRUE, NULL, &Lock, FALSE);
    CHECK(EventuallyEquals(PushLockWord, &Lock, 0x13));     /* shared, waiters */
    Handles[2] = StartLockHolder(&Reader, ProbePushLock, FALSE, NULL, &Lock, FALSE);
    KeStallExecutionProcessor(20000);
    CHECK(KeReadStateEvent(&Reader.Acquired) == 0);
    CHECK(PushLockWord(&Lock) == 0x13);
    KeSetEvent(&Holder.Release, 0, FALSE);
    KeWaitForSingleObject(&Writer.Acquired, Executive, KernelMode, FALSE, NULL);
    /* Exclusive, with the reader waiting (it may still be on its way). */
    CHECK(EventuallyEquals(PushLockWord, &Lock, 0x3));
    CHECK(KeReadStateEvent(&Reader.Acquired) == 0);
    KeSetEvent(&Writer.Release, 0, FALSE);
    KeWaitForSingleObject(&Reader.Acquired, Executive, KernelMode, FALSE, NULL);
    KeSetEvent(&Reader.Release, 0, FALSE);
    for (int Index = 0; Index < 3; Index++) {
        JoinThread(Handles[Index]);
    }
    CHECK(Lock == 0);
}

static void TestPushLockOverlap(void)
{
    CHECK(MeasureOverlap(ProbePushLock, FALSE, 2000) == 2);
    CHECK(MeasureOverlap(ProbePushLock, TRUE, 20) == 1);
}

static void TestPushLockWriterNotStarved(void) { RunWriterNotStarved(ProbePushLock); }

/* ---------------------------------------------------------------------- */
/* DPCs and timers                                                         */
/* ---------------------------------------------------------------------- */

typedef struct _DPC_PROBE {
    KDPC Dpc;
    LONG volatile Runs;
    ULONG StallMs;
    KIRQL Irql;
    HANDLE ThreadId;
    LOGICAL Executing;
    PVOID Arguments[2];
    LONGLONG RanAt;
} DPC_PROBE;

static VOID ProbeDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                            PVOID SystemArgument2)
{
    DPC_PROBE *Probe = (DPC_PROBE *)DeferredContext;

    Probe->Irql = KeGetCurrentIrql();
    Probe->ThreadId = PsGetCurrentThreadId();
    Probe->Executing = KeIsExecutingDpc();
    Probe->Arguments[0] = SystemArgument1;
    Probe->Arguments[1] = SystemArgument2;
    if (Probe->StallMs != 0) {
        KeStallExecutionProcessor(Probe->StallMs * 1000);
    }
    Probe->RanAt = NowNanoseconds();
    CHECK(Dpc == &Probe->Dpc);
    InterlockedIncrement(&Probe->Runs);
}

static void InitializeProbe(DPC_PROBE *Probe)
{
    memset(Probe, 0, sizeof(*Probe));
    KeInitializeDpc(&Probe->Dpc, ProbeDpcRoutine, Probe);
}

/* Keeps the DPC thread busy until Open is set, so the queue holds still. */
typedef struct _DPC_GATE {
    KDPC Dpc;
    LONG volatile Entered;
    LONG volatile Open;
} DPC_GATE;

static VOID GateDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                           PVOID SystemArgument2)
{
    DPC_GATE *Gate = (DPC_GATE *)DeferredContext;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    InterlockedExchange(&Gate->Entered, 1);
    while (!ReadAcquire(&Gate->Open)) {
        YieldProcessor();
    }
}

static void CloseGate(DPC_GATE *Gate)
{
    Gate->Entered = 0;
    Gate->Open = 0;
    KeInitializeDpc(&Gate->Dpc, GateDpcRoutine, Gate);
    CHECK(KeInsertQueueDpc(&Gate->Dpc, NULL, NULL));
    while (!ReadAcquire(&Gate->Entered)) {
        YieldProcessor();
    }
}

static void OpenGate(DPC_GATE *Gate)
{
    WriteRelease(&Gate->Open, 1);
    KeFlushQueuedDpcs();
}

static void TestDpc(void)
{
    DPC_PROBE Probe;
    DPC_GATE Gate;
    LONGLONG Start;
    KIRQL OldIrql;

    InitializeProbe(&Probe);
    CHECK(KeInsertQueueDpc(&Probe.Dpc, (PVOID)1, (PVOID)2));
    KeFlushQueuedDpcs();
    CHECK(Probe.Runs == 1);
    CHECK(Probe.Irql == DISPATCH_LEVEL);
    CHECK(Probe.ThreadId != PsGetCurrentThreadId());
    CHECK(Probe.Executing);
    CHECK(!KeIsExecutingDpc());
    CHECK(Probe.Arguments[0] == (PVOID)1 && Probe.Arguments[1] == (PVOID)2);

    /* The flush waits for a DPC that is still running. */
    Probe.StallMs = 50;
    Start = NowNanoseconds();
    CHECK(KeInsertQueueDpc(&Probe.Dpc, NULL, NULL));
    KeFlushQueuedDpcs();
    CHECK(Probe.Runs == 2);
    CHECK(NowNanoseconds() - Start >= 50000000LL);
    Probe.StallMs = 0;

    /* Queued once at most; removal takes it off the queue. */
    CloseGate(&Gate);
    CHECK(KeInsertQueueDpc(&Probe.Dpc, (PVOID)3, NULL));
    CHECK(!KeInsertQueueDpc(&Probe.Dpc, (PVOID)4, NULL));
    CHECK(KeRemoveQueueDpc(&Probe.Dpc));
    CHECK(!KeRemoveQueueDpc(&Probe.Dpc));
    CHECK(KeInsertQueueDpc(&Probe.Dpc, (PVOID)5, NULL));
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);  /* queuing is legal at any IRQL */
    CHECK(!KeInsertQueueDpc(&Probe.Dpc, (PVOID)6, NULL));
    KeLowerIrql(OldIrql);
    CHECK(Probe.Runs == 2);
    OpenGate(&Gate);
    CHECK(Probe.Runs == 3);
    CHECK(Probe.Arguments[0] == (PVOID)5);

    KeRaiseIrql(APC_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, KeFlushQueuedDpcs());
    CHECK(LastBugcheck.Parameter[1] == APC_LEVEL && LastBugcheck.Parameter[2] == PASSIVE_LEVEL);
    KeLowerIrql(OldIrql);
}

/* What a DPC routine may not do: each is trapped inside the routine. */
typedef struct _DPC_RULES {
    KDPC Dpc;
    ERESOURCE Resource;
    KEVENT Event;
    ULONG Codes[6];
    NTSTATUS PollStatus;
    BOOLEAN SpinLockBusy;
    BOOLEAN Finished;
} DPC_RULES;

static VOID RulesDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                            PVOID SystemArgument2)
{
    DPC_RULES *Rules = (DPC_RULES *)DeferredContext;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    LARGE_INTEGER Timeout = RelativeMs(1);
    LARGE_INTEGER Poll = Zero();
    EX_PUSH_LOCK PushLock = 0;
    KSPIN_LOCK SpinLock;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    if (WDKM_HOST_TRY(&Trap)) {
        KeWaitForSingleObject(&Rules->Event, Executive, KernelMode, FALSE, NULL);
        WdkmHostDisarm(&Trap);
    } else {
        Rules->Codes[0] = Trap.Bugcheck.Code;
    }
    if (WDKM_HOST_TRY(&Trap)) {
        KeDelayExecutionThread(KernelMode, FALSE, &Timeout);
        WdkmHostDisarm(&Trap);
    } else {
        Rules->Codes[1] = Trap.Bugcheck.Code;
    }
    if (WDKM_HOST_TRY(&Trap)) {
        ExAcquireResourceSharedLite(&Rules->Resource, TRUE);
        WdkmHostDisarm(&Trap);
    } else {
        Rules->Codes[2] = Trap.Bugcheck.Code;
    }
    if (WDKM_HOST_TRY(&Trap)) {
        ExfAcquirePushLockExclusive(&PushLock);
        WdkmHostDisarm(&Trap);
    } else {
        Rules->Codes[3] = Trap.Bugcheck.Code;
    }
    if (WDKM_HOST_TRY(&Trap)) {
        PAGED_CODE();
        WdkmHostDisarm(&Trap);
    } else {
        Rules->Codes[4] = Trap.Bugcheck.Code;
    }
    if (WDKM_HOST_TRY(&Trap)) {
        KeFlushQueuedDpcs();
        WdkmHostDisarm(&Trap);
    } else {
        Rules->Codes[5] = Trap.Bugcheck.Code;
    }
    /* What is legal at DISPATCH_LEVEL. */
    Rules->PollStatus = KeWaitForSingleObject(&Rules->Event, Executive, KernelMode, FALSE, &Poll);
    KeInitializeSpinLock(&SpinLock);
    KeAcquireSpinLockAtDpcLevel(&SpinLock);
    Rules->SpinLockBusy = (BOOLEAN)!KeTryToAcquireSpinLockAtDpcLevel(&SpinLock);
    KeReleaseSpinLockFromDpcLevel(&SpinLock);
    /* Untrapped: the handler sees it and the DPC ends here. */
    KeWaitForSingleObject(&Rules->Event, Executive, KernelMode, FALSE, &Timeout);
    Rules->Finished = TRUE;
}

static VOID LowerIrqlDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                                PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    KeLowerIrql(PASSIVE_LEVEL);
}

static VOID EnterRegionDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                                  PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    KeLowerIrql(PASSIVE_LEVEL);
    KeEnterCriticalRegion();
    KfRaiseIrql(DISPATCH_LEVEL);
}

static void TestDpcRules(void)
{
    DPC_RULES Rules;
    DPC_PROBE Probe;
    KDPC Bad;
    WDKM_HOST_BUGCHECK Last;
    ULONG Before;

    memset(&Rules, 0, sizeof(Rules));
    KeInitializeDpc(&Rules.Dpc, RulesDpcRoutine, &Rules);
    ExInitializeResourceLite(&Rules.Resource);
    KeInitializeEvent(&Rules.Event, NotificationEvent, FALSE);
    WdkmHostSetBugcheckHandler(RecordBugcheck, &Handled);
    Before = HandledCount(NULL);
    KeInsertQueueDpc(&Rules.Dpc, NULL, NULL);
    KeFlushQueuedDpcs();
    CHECK(Rules.Codes[0] == IRQL_NOT_LESS_OR_EQUAL);     /* wait */
    CHECK(Rules.Codes[1] == IRQL_NOT_LESS_OR_EQUAL);     /* sleep */
    CHECK(Rules.Codes[2] == IRQL_NOT_LESS_OR_EQUAL);     /* ERESOURCE */
    CHECK(Rules.Codes[3] == IRQL_NOT_LESS_OR_EQUAL);     /* push lock */
    CHECK(Rules.Codes[4] == IRQL_NOT_LESS_OR_EQUAL);     /* paged code */
    CHECK(Rules.Codes[5] == IRQL_NOT_LESS_OR_EQUAL);     /* flush from a DPC */
    CHECK_STATUS(STATUS_TIMEOUT, Rules.PollStatus);
    CHECK(Rules.SpinLockBusy);
    CHECK(!Rules.Finished);
    CHECK(HandledCount(&Last) == Before + 1);
    CHECK(Last.Code == IRQL_NOT_LESS_OR_EQUAL && Last.Parameter[0] == (ULONG_PTR)&Rules.Event);
    CHECK_STATUS(STATUS_SUCCESS, ExDeleteResourceLite(&Rules.Resource));

    /* A routine must return at DISPATCH_LEVEL with its APC state. */
    KeInitializeDpc(&Bad, LowerIrqlDpcRoutine, NULL);
    KeInsertQueueDpc(&Bad, NULL, NULL);
    KeFlushQueuedDpcs();
    CHECK(HandledCount(&Last) == Before + 2);
    CHECK(Last.Code == IRQL_NOT_GREATER_OR_EQUAL);
    CHECK(Last.Parameter[0] == (ULONG_PTR)&Bad && Last.Parameter[1] == PASSIVE_LEVEL);
    CHECK(Last.Parameter[2] == DISPATCH_LEVEL);
    KeInitializeDpc(&Bad, EnterRegionDpcRoutine, NULL);
    KeInsertQueueDpc(&Bad, NULL, NULL);
    KeFlushQueuedDpcs();
    CHECK(HandledCount(&Last) == Before + 3);
    CHECK(Last.Code == TIMER_OR_DPC_INVALID);
    CHECK(Last.Parameter[0] == 4 && Last.Parameter[2] == 0 && Last.Parameter[3] == 1);
    WdkmHostSetBugcheckHandler(NULL, NULL);

    /* The DPC thread is still fine. */
    InitializeProbe(&Probe);
    KeInsertQueueDpc(&Probe.Dpc, NULL, NULL);
    KeFlushQueuedDpcs();
    CHECK(Probe.Runs == 1 && Probe.Irql == DISPATCH_LEVEL);
}

static void TestTimers(void)
{
    KTIMER Timer;
    DPC_PROBE Probe;
    LARGE_INTEGER Due = RelativeMs(30);
    LARGE_INTEGER Poll = Zero();
    LARGE_INTEGER Now;
    LARGE_INTEGER Expiry;
    LARGE_INTEGER Millisecond = RelativeMs(1);
    LONGLONG Start;
    KIRQL OldIrql;

    KeInitializeTimer(&Timer);
    CHECK(!KeReadStateTimer(&Timer));
    CHECK(!KeCancelTimer(&Timer));
    InitializeProbe(&Probe);
    Start = NowNanoseconds();
    CHECK(!KeSetTimer(&Timer, Due, &Probe.Dpc));
    CHECK(!KeReadStateTimer(&Timer));
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Timer, Executive, KernelMode, FALSE, &Poll));
    /* A timer is a dispatcher object: wait for it. */
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Timer, Executive, KernelMode, FALSE, NULL));
    CHECK(NowNanoseconds() - Start >= 30000000LL);
    CHECK(KeReadStateTimer(&Timer));
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Timer, Executive, KernelMode, FALSE, &Poll));
    KeFlushQueuedDpcs();
    CHECK(Probe.Runs == 1);
    CHECK(Probe.RanAt - Start >= 30000000LL);
    CHECK(Probe.Irql == DISPATCH_LEVEL);
    /* The DPC gets the expiry system time, low part then high part. */
    KeQuerySystemTime(&Now);
    Expiry.LowPart = (ULONG)(ULONG_PTR)Probe.Arguments[0];
    Expiry.HighPart = (LONG)(ULONG)(ULONG_PTR)Probe.Arguments[1];
    CHECK(Expiry.QuadPart <= Now.QuadPart && Now.QuadPart - Expiry.QuadPart < 100000000LL);
    CHECK(!KeCancelTimer(&Timer));      /* already expired */

    /* Set again: unsignalled; cancelled before it is due: never fires. */
    CHECK(!KeSetTimer(&Timer, RelativeMs(10000), &Probe.Dpc));
    CHECK(!KeReadStateTimer(&Timer));
    CHECK(KeSetTimer(&Timer, RelativeMs(10000), &Probe.Dpc));  /* was set */
    CHECK(KeCancelTimer(&Timer));
    CHECK(!KeCancelTimer(&Timer));

    /* Absolute due time (system time), without a DPC. */
    KeQuerySystemTime(&Now);
    Now.QuadPart += 20 * 10000;
    Start = NowNanoseconds();
    CHECK(!KeSetTimer(&Timer, Now, NULL));
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Timer, Executive, KernelMode, FALSE, NULL));
    CHECK(NowNanoseconds() - Start >= 15000000LL);
    CHECK(Probe.Runs == 1);

    /* Periodic. */
    CHECK(!KeSetTimerEx(&Timer, RelativeMs(2), 2, &Probe.Dpc));
    while (ReadNoFence(&Probe.Runs) < 4) {
        KeDelayExecutionThread(KernelMode, FALSE, &Millisecond);
    }
    CHECK(KeCancelTimer(&Timer));
    KeFlushQueuedDpcs();
    CHECK(Probe.Runs >= 4);

    /* A synchronization timer releases one waiter and resets. */
    KeInitializeTimerEx(&Timer, SynchronizationTimer);
    KeSetTimer(&Timer, RelativeMs(5), NULL);
    CHECK_STATUS(STATUS_SUCCESS, KeWaitForSingleObject(&Timer, Executive, KernelMode, FALSE, NULL));
    CHECK(!KeReadStateTimer(&Timer));
    CHECK_STATUS(STATUS_TIMEOUT, KeWaitForSingleObject(&Timer, Executive, KernelMode, FALSE, &Poll));

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);  /* legal up to DISPATCH_LEVEL */
    CHECK(!KeSetTimer(&Timer, RelativeMs(10000), NULL));
    CHECK(KeCancelTimer(&Timer));
    KeLowerIrql(OldIrql);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, KeSetTimer(&Timer, Due, NULL));
    EXPECT_BUGCHECK(IRQL_NOT_LESS_OR_EQUAL, KeCancelTimer(&Timer));
    KeLowerIrql(OldIrql);
}

/* NT bug checks TIMER_OR_DPC_INVALID when pool that holds a set timer or
   a queued DPC is freed. */
static void TestTimerAndDpcInFreedPool(void)
{
    const ULONG Tag = TAG('T', 'm', 'r', 'P');
    PKTIMER Timer = (PKTIMER)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(KTIMER), Tag);
    PKDPC Dpc = (PKDPC)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(KDPC), Tag);
    DPC_PROBE Probe;
    DPC_GATE Gate;

    CHECK(Timer != NULL && Dpc != NULL);
    if (Timer == NULL || Dpc == NULL) {
        return;
    }
    KeInitializeTimer(Timer);
    KeSetTimer(Timer, RelativeMs(10000), NULL);
    EXPECT_BUGCHECK(TIMER_OR_DPC_INVALID, ExFreePoolWithTag(Timer, Tag));
    CHECK(LastBugcheck.Parameter[0] == 0 && LastBugcheck.Parameter[1] == (ULONG_PTR)Timer);
    CHECK(LastBugcheck.Parameter[2] == (ULONG_PTR)Timer);
    CHECK(LastBugcheck.Parameter[3] == (ULONG_PTR)Timer + sizeof(KTIMER));
    KeCancelTimer(Timer);
    ExFreePoolWithTag(Timer, Tag);

    InitializeProbe(&Probe);
    KeInitializeDpc(Dpc, ProbeDpcRoutine, &Probe);
    CloseGate(&Gate);
    KeInsertQueueDpc(Dpc, NULL, NULL);
    EXPECT_BUGCHECK(TIMER_OR_DPC_INVALID, ExFreePoolWithTag(Dpc, Tag));
    CHECK(LastBugcheck.Parameter[0] == 1 && LastBugcheck.Parameter[1] == (ULONG_PTR)Dpc);
    CHECK(KeRemoveQueueDpc(Dpc));
    OpenGate(&Gate);
    ExFreePoolWithTag(Dpc, Tag);
    CHECK(Probe.Runs == 0);
    CHECK(WdkmHostPoolOutstanding(Tag, NULL) == 0);
}

/* ---------------------------------------------------------------------- */
/* Stress: exact counts under each lock                                    */
/* ---------------------------------------------------------------------- */

#define STRESS_THREADS 4
#define STRESS_ROUNDS 100000
#define STRESS_HANDOFF_ROUNDS 10000     /* ERESOURCE, push lock: every wait is a hand-off */

typedef enum _STRESS_KIND {
    StressKMutex,
    StressFastMutex,
    StressGuardedMutex,
    StressSpinLock,
    StressResource,
    StressPushLock
} STRESS_KIND;

typedef struct _STRESS {
    STRESS_KIND Kind;
    int Rounds;
    KEVENT Start;
    KMUTEX Mutex;
    FAST_MUTEX FastMutex;
    KGUARDED_MUTEX GuardedMutex;
    KSPIN_LOCK SpinLock;
    ERESOURCE Resource;
    EX_PUSH_LOCK PushLock;
    LONGLONG Counter;                   /* plain: the lock must protect it */
} STRESS;

static VOID NTAPI StressRoutine(PVOID Context)
{
    STRESS *Stress = (STRESS *)Context;
    KIRQL OldIrql;

    KeWaitForSingleObject(&Stress->Start, Executive, KernelMode, FALSE, NULL);
    for (int Round = 0; Round < Stress->Rounds; Round++) {
        switch (Stress->Kind) {
        case StressKMutex:
            KeWaitForSingleObject(&Stress->Mutex, Executive, KernelMode, FALSE, NULL);
            Stress->Counter++;
            KeReleaseMutex(&Stress->Mutex, FALSE);
            break;
        case StressFastMutex:
            ExAcquireFastMutex(&Stress->FastMutex);
            Stress->Counter++;
            ExReleaseFastMutex(&Stress->FastMutex);
            break;
        case StressGuardedMutex:
            KeAcquireGuardedMutex(&Stress->GuardedMutex);
            Stress->Counter++;
            KeReleaseGuardedMutex(&Stress->GuardedMutex);
            break;
        case StressSpinLock:
            KeAcquireSpinLock(&Stress->SpinLock, &OldIrql);
            Stress->Counter++;
            KeReleaseSpinLock(&Stress->SpinLock, OldIrql);
            break;
        case StressResource:
            KeEnterCriticalRegion();
            ExAcquireResourceExclusiveLite(&Stress->Resource, TRUE);
            Stress->Counter++;
            ExReleaseResourceLite(&Stress->Resource);
            KeLeaveCriticalRegion();
            break;
        case StressPushLock:
            KeEnterCriticalRegion();
            ExfAcquirePushLockExclusive(&Stress->PushLock);
            Stress->Counter++;
            ExfReleasePushLockExclusive(&Stress->PushLock);
            KeLeaveCriticalRegion();
            break;
        }
    }
}

static void RunStress(STRESS_KIND Kind)
{
    static STRESS Stress;
    HANDLE Handles[STRESS_THREADS];
    LONGLONG Start = NowNanoseconds();

    Stress.Kind = Kind;
    Stress.Rounds = Kind == StressResource || Kind == StressPushLock ? STRESS_HANDOFF_ROUNDS
                                                                      : STRESS_ROUNDS;
    Stress.Counter = 0;
    KeInitializeEvent(&Stress.Start, NotificationEvent, FALSE);
    KeInitializeMutex(&Stress.Mutex, 0);
    ExInitializeFastMutex(&Stress.FastMutex);
    KeInitializeGuardedMutex(&Stress.GuardedMutex);
    KeInitializeSpinLock(&Stress.SpinLock);
    ExInitializeResourceLite(&Stress.Resource);
    ExInitializePushLock(&Stress.PushLock);
    for (int Index = 0; Index < STRESS_THREADS; Index++) {
        Handles[Index] = StartThread(StressRoutine, &Stress);
    }
    KeSetEvent(&Stress.Start, 0, FALSE);
    for (int Index = 0; Index < STRESS_THREADS; Index++) {
        JoinThread(Handles[Index]);
    }
    CHECK(Stress.Counter == (LONGLONG)STRESS_THREADS * Stress.Rounds);
    CHECK(KeReadStateMutex(&Stress.Mutex) == 1);
    CHECK(Stress.FastMutex.Count == 1 && Stress.GuardedMutex.Count == 1 && Stress.SpinLock == 0);
    CHECK(Stress.PushLock == 0);
    CHECK(ExGetExclusiveWaiterCount(&Stress.Resource) == 0);
    printf("  %d threads x %d: %lld ms (contended waits: fast %lu, guarded %lu, resource %lu)\n",
           STRESS_THREADS, Stress.Rounds, (NowNanoseconds() - Start) / 1000000,
           (unsigned long)Stress.FastMutex.Contention,
           (unsigned long)Stress.GuardedMutex.Contention,
           (unsigned long)Stress.Resource.ContentionCount);
    CHECK_STATUS(STATUS_SUCCESS, ExDeleteResourceLite(&Stress.Resource));
}

static void TestStressKMutex(void) { RunStress(StressKMutex); }
static void TestStressFastMutex(void) { RunStress(StressFastMutex); }
static void TestStressGuardedMutex(void) { RunStress(StressGuardedMutex); }
static void TestStressSpinLock(void) { RunStress(StressSpinLock); }
static void TestStressResource(void) { RunStress(StressResource); }
static void TestStressPushLock(void) { RunStress(StressPushLock); }

/* ---------------------------------------------------------------------- */
/* Interrupt injection                                                     */
/* ---------------------------------------------------------------------- */

/* What an injected routine saw. */
typedef struct _INTERRUPT_PROBE {
    LONG volatile Runs[WDKM_HOST_INTERRUPT_KINDS];
    KIRQL Irql[WDKM_HOST_INTERRUPT_KINDS];          /* at the last run of each kind */
    PKTHREAD Thread[WDKM_HOST_INTERRUPT_KINDS];
    BOOLEAN ExecutingDpc[WDKM_HOST_INTERRUPT_KINDS];
    BOOLEAN InInterrupt;
    LONG volatile Marker;                           /* set by the routine: seen by the loop */
} INTERRUPT_PROBE;

static VOID ProbeRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    INTERRUPT_PROBE *Probe = (INTERRUPT_PROBE *)Context;

    (void)Random;
    Probe->Irql[Kind] = KeGetCurrentIrql();
    Probe->Thread[Kind] = KeGetCurrentThread();
    Probe->ExecutingDpc[Kind] = (BOOLEAN)KeIsExecutingDpc();
    Probe->InInterrupt = WdkmHostInInterrupt();
    __atomic_store_n(&Probe->Marker, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&Probe->Runs[Kind], 1, __ATOMIC_RELEASE);
}

static LONG ProbeRuns(INTERRUPT_PROBE *Probe, WDKM_HOST_INTERRUPT Kind)
{
    return __atomic_load_n(&Probe->Runs[Kind], __ATOMIC_ACQUIRE);
}

/* Queues one event of each kind to the calling thread; returns the runs
   each made before the call returned (0 or 1), as a mask of kinds. */
static ULONG QueueAllToSelf(INTERRUPT_PROBE *Probe)
{
    ULONG Ran = 0;

    for (ULONG Kind = 0; Kind < WDKM_HOST_INTERRUPT_KINDS; Kind++) {
        LONG Before = ProbeRuns(Probe, (WDKM_HOST_INTERRUPT)Kind);
        WdkmHostQueueInterrupt(KeGetCurrentThread(), (WDKM_HOST_INTERRUPT)Kind, ProbeRoutine, Probe);
        if (ProbeRuns(Probe, (WDKM_HOST_INTERRUPT)Kind) != Before) {
            Ran |= 1U << Kind;
        }
    }
    return Ran;
}

static ULONG RunsMask(INTERRUPT_PROBE *Probe, const LONG Expected[WDKM_HOST_INTERRUPT_KINDS])
{
    ULONG Mask = 0;

    for (ULONG Kind = 0; Kind < WDKM_HOST_INTERRUPT_KINDS; Kind++) {
        if (ProbeRuns(Probe, (WDKM_HOST_INTERRUPT)Kind) == Expected[Kind]) {
            Mask |= 1U << Kind;
        }
    }
    return Mask;
}

#define DPC_BIT (1U << WdkmHostInterruptDpc)
#define NAPC_BIT (1U << WdkmHostInterruptNormalApc)
#define SAPC_BIT (1U << WdkmHostInterruptSpecialApc)
#define ALL_BITS (DPC_BIT | NAPC_BIT | SAPC_BIT)

/* NT's masking, kind by kind, on the calling thread: what runs at once,
   what waits, and that the unmasking routine delivers it. */
static void TestInterruptMasking(void)
{
    INTERRUPT_PROBE Probe;
    const LONG Two[3] = { 2, 2, 2 };
    ULONG64 DeferredBefore[3];
    ULONG64 DeferredAfter[3];
    ULONG64 DeliveredBefore[3];
    ULONG64 DeliveredAfter[3];
    KIRQL OldIrql;
    KMUTEX Mutex;
    FAST_MUTEX FastMutex;
    KSPIN_LOCK SpinLock;

    memset(&Probe, 0, sizeof(Probe));
    WdkmHostQueryInterruptCounts(DeliveredBefore, DeferredBefore);

    /* PASSIVE_LEVEL, nothing disabled: all three at once, each at its IRQL,
       as this thread, and the IRQL is back afterwards. */
    CHECK(QueueAllToSelf(&Probe) == ALL_BITS);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
    CHECK(Probe.Irql[WdkmHostInterruptDpc] == DISPATCH_LEVEL);
    CHECK(Probe.Irql[WdkmHostInterruptSpecialApc] == APC_LEVEL);
    CHECK(Probe.Irql[WdkmHostInterruptNormalApc] == PASSIVE_LEVEL);
    CHECK(Probe.Thread[WdkmHostInterruptDpc] == KeGetCurrentThread());
    CHECK(Probe.ExecutingDpc[WdkmHostInterruptDpc]);
    CHECK(!Probe.ExecutingDpc[WdkmHostInterruptNormalApc]);
    CHECK(Probe.InInterrupt);
    CHECK(!WdkmHostInInterrupt());

    /* APC_LEVEL: the DPC runs, both APCs wait for PASSIVE_LEVEL. */
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    CHECK(QueueAllToSelf(&Probe) == DPC_BIT);
    KeLowerIrql(OldIrql);
    CHECK(RunsMask(&Probe, Two) == ALL_BITS);

    /* DISPATCH_LEVEL: all wait; APC_LEVEL frees the DPC only. */
    memset(&Probe, 0, sizeof(Probe));
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK(QueueAllToSelf(&Probe) == 0);
    KeLowerIrql(APC_LEVEL);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptDpc) == 1);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptNormalApc) == 0);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptSpecialApc) == 0);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptNormalApc) == 1);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptSpecialApc) == 1);

    /* HIGH_LEVEL: all wait. */
    memset(&Probe, 0, sizeof(Probe));
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    CHECK(QueueAllToSelf(&Probe) == 0);
    KeLowerIrql(OldIrql);
    CHECK(QueueAllToSelf(&Probe) == ALL_BITS);
    CHECK(RunsMask(&Probe, Two) == ALL_BITS);

    /* Critical region: the normal APC waits for its exit. */
    memset(&Probe, 0, sizeof(Probe));
    KeEnterCriticalRegion();
    CHECK(QueueAllToSelf(&Probe) == (DPC_BIT | SAPC_BIT));
    KeEnterCriticalRegion();
    KeLeaveCriticalRegion();
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptNormalApc) == 0);   /* still one deep */
    KeLeaveCriticalRegion();
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptNormalApc) == 1);

    /* Guarded region: both APCs wait. */
    memset(&Probe, 0, sizeof(Probe));
    KeEnterGuardedRegion();
    CHECK(QueueAllToSelf(&Probe) == DPC_BIT);
    KeLeaveGuardedRegion();
    CHECK(RunsMask(&Probe, (const LONG[3]){ 1, 1, 1 }) == ALL_BITS);

    /* An owned KMUTEX: as a critical region, until its last release. */
    memset(&Probe, 0, sizeof(Probe));
    KeInitializeMutex(&Mutex, 0);
    KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL);
    KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL);
    CHECK(QueueAllToSelf(&Probe) == (DPC_BIT | SAPC_BIT));
    KeReleaseMutex(&Mutex, FALSE);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptNormalApc) == 0);
    KeReleaseMutex(&Mutex, FALSE);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptNormalApc) == 1);

    /* A FAST_MUTEX (APC_LEVEL) and a spin lock (DISPATCH_LEVEL): their
       releases lower the IRQL and deliver. */
    memset(&Probe, 0, sizeof(Probe));
    ExInitializeFastMutex(&FastMutex);
    ExAcquireFastMutex(&FastMutex);
    CHECK(QueueAllToSelf(&Probe) == DPC_BIT);
    ExReleaseFastMutex(&FastMutex);
    CHECK(RunsMask(&Probe, (const LONG[3]){ 1, 1, 1 }) == ALL_BITS);
    memset(&Probe, 0, sizeof(Probe));
    KeInitializeSpinLock(&SpinLock);
    KeAcquireSpinLock(&SpinLock, &OldIrql);
    CHECK(QueueAllToSelf(&Probe) == 0);
    KeReleaseSpinLock(&SpinLock, OldIrql);
    CHECK(RunsMask(&Probe, (const LONG[3]){ 1, 1, 1 }) == ALL_BITS);

    /* Deferred counts: APC_LEVEL 2, DISPATCH 3, HIGH 3, critical 1,
       guarded 2, KMUTEX 1, fast mutex 2, spin lock 3. */
    WdkmHostQueryInterruptCounts(DeliveredAfter, DeferredAfter);
    CHECK(DeferredAfter[WdkmHostInterruptDpc] - DeferredBefore[WdkmHostInterruptDpc] == 3);
    CHECK(DeferredAfter[WdkmHostInterruptNormalApc] - DeferredBefore[WdkmHostInterruptNormalApc] ==
          8);
    CHECK(DeferredAfter[WdkmHostInterruptSpecialApc] -
              DeferredBefore[WdkmHostInterruptSpecialApc] == 6);
    CHECK(DeliveredAfter[WdkmHostInterruptDpc] - DeliveredBefore[WdkmHostInterruptDpc] == 10);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
}

/* A system thread that spins at PASSIVE_LEVEL without calling the
   emulation, until an injected routine sets the probe's marker. */
typedef struct _SPIN_TARGET {
    PKTHREAD Thread;
    LONG volatile Ready;
    LONG volatile Stop;
    KIRQL Raise;                    /* spins at this IRQL (until Lower is set) */
    LONG volatile Lower;
    LONG volatile RunsWhileRaised;  /* DPC runs seen while still raised */
    KIRQL IrqlAfter;
    INTERRUPT_PROBE *Probe;
    BOOLEAN LoseSignal;             /* takes the first interrupt signal without its handler */
    LONG volatile Swallowed;        /* and did */
} SPIN_TARGET;

/* Blocks the interrupt signal, reports ready, takes the signal sent then
   (as a runtime that loses it would), and unblocks it. */
static VOID SwallowInterruptSignal(SPIN_TARGET *Target)
{
    struct timespec Timeout = { 5, 0 };
    sigset_t Interrupt;

    sigemptyset(&Interrupt);
    sigaddset(&Interrupt, SIGURG);
    pthread_sigmask(SIG_BLOCK, &Interrupt, NULL);
    __atomic_store_n(&Target->Ready, 1, __ATOMIC_RELEASE);
    if (sigtimedwait(&Interrupt, NULL, &Timeout) == SIGURG) {
        __atomic_store_n(&Target->Swallowed, 1, __ATOMIC_RELEASE);
    }
    pthread_sigmask(SIG_UNBLOCK, &Interrupt, NULL);
}

static VOID NTAPI SpinTargetRoutine(PVOID Context)
{
    SPIN_TARGET *Target = (SPIN_TARGET *)Context;
    KIRQL OldIrql = PASSIVE_LEVEL;
    ULONG64 Spins = 0;

    Target->Thread = KeGetCurrentThread();
    if (Target->Raise != PASSIVE_LEVEL) {
        KeRaiseIrql(Target->Raise, &OldIrql);
    }
    if (Target->LoseSignal) {
        SwallowInterruptSignal(Target);     /* reports ready itself */
    } else {
        __atomic_store_n(&Target->Ready, 1, __ATOMIC_RELEASE);
    }
    if (Target->Raise != PASSIVE_LEVEL) {
        while (!__atomic_load_n(&Target->Lower, __ATOMIC_ACQUIRE)) {
            Spins++;
        }
        Target->RunsWhileRaised = ProbeRuns(Target->Probe, WdkmHostInterruptDpc);
        KeLowerIrql(OldIrql);
    }
    /* Pure computation: only a real interruption can set the marker. */
    while (!__atomic_load_n(&Target->Probe->Marker, __ATOMIC_ACQUIRE) &&
           !__atomic_load_n(&Target->Stop, __ATOMIC_ACQUIRE)) {
        Spins++;
    }
    Target->IrqlAfter = KeGetCurrentIrql();
    (void)Spins;
}

static void WaitFor(LONG volatile *Flag, LONG Value, LONG TimeoutMs)
{
    LONGLONG End = NowNanoseconds() + (LONGLONG)TimeoutMs * 1000000;

    while (__atomic_load_n(Flag, __ATOMIC_ACQUIRE) != Value && NowNanoseconds() < End) {
        sched_yield();
    }
}

/* Starts Target spinning, queues it a DPC once it is ready, and ends it
   once the DPC ran (or 5 s passed). */
static void QueueDpcToSpinner(SPIN_TARGET *Target, INTERRUPT_PROBE *Probe)
{
    HANDLE Handle;

    Target->Probe = Probe;
    Handle = StartThread(SpinTargetRoutine, Target);
    WaitFor(&Target->Ready, 1, 5000);
    CHECK(Target->Ready == 1);
    WdkmHostQueueInterrupt(Target->Thread, WdkmHostInterruptDpc, ProbeRoutine, Probe);
    WaitFor(&Probe->Marker, 1, 5000);
    __atomic_store_n(&Target->Stop, 1, __ATOMIC_RELEASE);
    JoinThread(Handle);
}

/* A DPC queued to another running thread interrupts it where it spins, runs
   as that thread at DISPATCH_LEVEL, and gives it back at PASSIVE_LEVEL. */
static void TestInterruptRunningThread(void)
{
    INTERRUPT_PROBE Probe;
    SPIN_TARGET Target;

    memset(&Probe, 0, sizeof(Probe));
    memset(&Target, 0, sizeof(Target));
    QueueDpcToSpinner(&Target, &Probe);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptDpc) == 1);
    CHECK(Probe.Thread[WdkmHostInterruptDpc] == Target.Thread);
    CHECK(Probe.Irql[WdkmHostInterruptDpc] == DISPATCH_LEVEL);
    CHECK(Probe.ExecutingDpc[WdkmHostInterruptDpc]);
    CHECK(Target.IrqlAfter == PASSIVE_LEVEL);
}

/* A DPC queued to a system thread that was just created (maybe not yet
   running) waits for it to start, then interrupts it. */
static void TestInterruptNewThread(void)
{
    INTERRUPT_PROBE Probe;
    SPIN_TARGET Target;
    PVOID Object = NULL;
    ULONG64 Dropped = WdkmHostInterruptsDropped();
    HANDLE Handle;

    memset(&Probe, 0, sizeof(Probe));
    memset(&Target, 0, sizeof(Target));
    Target.Probe = &Probe;
    Handle = StartThread(SpinTargetRoutine, &Target);
    CHECK_STATUS(STATUS_SUCCESS, ObReferenceObjectByHandle(Handle, SYNCHRONIZE, *PsThreadType,
                                                           KernelMode, &Object, NULL));
    WdkmHostQueueInterrupt((PKTHREAD)Object, WdkmHostInterruptDpc, ProbeRoutine, &Probe);
    WaitFor(&Probe.Marker, 1, 5000);
    __atomic_store_n(&Target.Stop, 1, __ATOMIC_RELEASE);
    JoinThread(Handle);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptDpc) == 1);
    CHECK(Probe.Thread[WdkmHostInterruptDpc] == (PKTHREAD)Object);
    CHECK(WdkmHostInterruptsDropped() == Dropped);
    /* Ended now: nothing happens, counted as dropped. */
    WdkmHostQueueInterrupt((PKTHREAD)Object, WdkmHostInterruptDpc, ProbeRoutine, &Probe);
    CHECK(WdkmHostInterruptsDropped() == Dropped + 1);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptDpc) == 1);
    ObDereferenceObject(Object);
}

/* A signal that never reaches the handler (ThreadSanitizer's runtime loses
   one that arrives while it sets up a new thread's signal state; here the
   thread swallows it) still gets its event delivered: the controller sends
   the signal again until a delivery pass has answered it. */
static void TestInterruptLostSignal(void)
{
    INTERRUPT_PROBE Probe;
    SPIN_TARGET Target;
    ULONG64 Dropped = WdkmHostInterruptsDropped();

    memset(&Probe, 0, sizeof(Probe));
    memset(&Target, 0, sizeof(Target));
    Target.LoseSignal = TRUE;
    QueueDpcToSpinner(&Target, &Probe);
    CHECK(__atomic_load_n(&Target.Swallowed, __ATOMIC_ACQUIRE) == 1);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptDpc) == 1);
    CHECK(Probe.Thread[WdkmHostInterruptDpc] == Target.Thread);
    CHECK(Probe.Irql[WdkmHostInterruptDpc] == DISPATCH_LEVEL);
    CHECK(WdkmHostInterruptsDropped() == Dropped);
}

/* A DPC queued to a thread spinning at DISPATCH_LEVEL waits (for as long as
   it stays there), then runs in its KeLowerIrql. */
static void TestInterruptDeferredUntilLower(void)
{
    INTERRUPT_PROBE Probe;
    SPIN_TARGET Target;
    ULONG64 DeferredBefore[3];
    ULONG64 DeferredAfter[3];
    HANDLE Handle;

    memset(&Probe, 0, sizeof(Probe));
    memset(&Target, 0, sizeof(Target));
    Target.Probe = &Probe;
    Target.Raise = DISPATCH_LEVEL;
    WdkmHostQueryInterruptCounts(NULL, DeferredBefore);
    Handle = StartThread(SpinTargetRoutine, &Target);
    WaitFor(&Target.Ready, 1, 5000);
    WdkmHostQueueInterrupt(Target.Thread, WdkmHostInterruptDpc, ProbeRoutine, &Probe);
    WdkmHostQueueInterrupt(Target.Thread, WdkmHostInterruptSpecialApc, ProbeRoutine, &Probe);
    WaitFor(&Probe.Marker, 1, 30);     /* must not happen: it is at DISPATCH_LEVEL */
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptDpc) == 0);
    __atomic_store_n(&Target.Lower, 1, __ATOMIC_RELEASE);
    WaitFor(&Probe.Runs[WdkmHostInterruptSpecialApc], 1, 5000);
    __atomic_store_n(&Target.Stop, 1, __ATOMIC_RELEASE);
    JoinThread(Handle);
    WdkmHostQueryInterruptCounts(NULL, DeferredAfter);
    CHECK(Target.RunsWhileRaised == 0);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptDpc) == 1);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptSpecialApc) == 1);
    CHECK(Probe.Thread[WdkmHostInterruptDpc] == Target.Thread);
    CHECK(DeferredAfter[WdkmHostInterruptDpc] - DeferredBefore[WdkmHostInterruptDpc] == 1);
    CHECK(DeferredAfter[WdkmHostInterruptSpecialApc] - DeferredBefore[WdkmHostInterruptSpecialApc] ==
          1);
    CHECK(Target.IrqlAfter == PASSIVE_LEVEL);
}

/* Routines that break NT's rules for DPCs and APCs. */
static VOID LowerInDpcRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    (void)Kind;
    (void)Random;
    (void)Context;
    KeLowerIrql(PASSIVE_LEVEL);
}

static VOID EnterRegionRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    (void)Kind;
    (void)Random;
    (void)Context;
    if (KeGetCurrentIrql() == DISPATCH_LEVEL) {
        KeLowerIrql(APC_LEVEL);     /* regions are legal up to APC_LEVEL */
        KeEnterCriticalRegion();
        KfRaiseIrql(DISPATCH_LEVEL);
    } else {
        KeEnterCriticalRegion();
    }
}

static VOID BugcheckRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    (void)Kind;
    (void)Random;
    *(LONG volatile *)Context = 1;
    KeBugCheckEx(0xDEAD, 1, 2, 3, 4);
}

/* Raised in the interrupted code's trap: the event's bug check goes to
   the handler (set by the caller), the trap stays armed, the IRQL comes
   back. Apart, so that no inlined IRQL local shares a frame with setjmp. */
static void TrapDoesNotCatchEvent(ULONG Expected)
{
    WDKM_HOST_BUGCHECK Last;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    LONG volatile Reached = 0;
    volatile int Caught = 0;

    KfRaiseIrql(APC_LEVEL);
    if (WDKM_HOST_TRY(&Trap)) {
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, BugcheckRoutine,
                               (PVOID)&Reached);
        CHECK(KeGetCurrentIrql() == APC_LEVEL);
        WdkmHostDisarm(&Trap);
    } else {
        Caught = 1;
    }
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK(Reached == 1);
    CHECK(Caught == 0);
    CHECK(HandledCount(&Last) == Expected);
    CHECK(Last.Code == 0xDEAD);
}

/* NT's checks after an injected event, and the state it gives back: the
   interrupted code's traps never catch a bug check of the event. */
static void TestInterruptRules(void)
{
    WDKM_HOST_BUGCHECK Last;
    ULONG Before = HandledCount(NULL);

    WdkmHostSetBugcheckHandler(RecordBugcheck, &Handled);

    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, LowerInDpcRoutine, NULL);
    CHECK(HandledCount(&Last) == Before + 1);
    CHECK(Last.Code == IRQL_NOT_GREATER_OR_EQUAL);
    CHECK(Last.Parameter[1] == PASSIVE_LEVEL);
    CHECK(Last.Parameter[3] == (ULONG_PTR)LowerInDpcRoutine);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);

    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, EnterRegionRoutine, NULL);
    CHECK(HandledCount(&Last) == Before + 2);
    CHECK(Last.Code == TIMER_OR_DPC_INVALID);
    CHECK(Last.Parameter[0] == 4);
    CHECK(!KeAreApcsDisabled());        /* put back */

    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, EnterRegionRoutine,
                           NULL);
    CHECK(HandledCount(&Last) == Before + 3);
    CHECK(Last.Code == APC_INDEX_MISMATCH);
    CHECK(!KeAreApcsDisabled());

    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, LowerInDpcRoutine,
                           NULL);
    CHECK(HandledCount(&Last) == Before + 4);
    CHECK(Last.Code == IRQL_UNEXPECTED_VALUE);
    CHECK(strcmp(WdkmHostBugcheckName(Last.Code), "IRQL_UNEXPECTED_VALUE") == 0);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);

    TrapDoesNotCatchEvent(Before + 5);

    WdkmHostSetBugcheckHandler(NULL, NULL);
}

/* Emulation use inside events: spin locks at DPC level, pool freed by a
   DPC, a normal APC that waits. */
typedef struct _NESTED_USE {
    KSPIN_LOCK SpinLock;
    PVOID Block;
    KEVENT Event;
    NTSTATUS WaitStatus;
} NESTED_USE;

static VOID NestedUseRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    NESTED_USE *Use = (NESTED_USE *)Context;
    LARGE_INTEGER Timeout = RelativeMs(1);
    KLOCK_QUEUE_HANDLE Queued;

    (void)Random;
    if (Kind == WdkmHostInterruptDpc) {
        KeAcquireSpinLockAtDpcLevel(&Use->SpinLock);
        KeReleaseSpinLockFromDpcLevel(&Use->SpinLock);
        KeAcquireInStackQueuedSpinLockAtDpcLevel(&Use->SpinLock, &Queued);
        KeReleaseInStackQueuedSpinLockFromDpcLevel(&Queued);
        ExFreePoolWithTag(Use->Block, TAG('I', 'n', 't', 'r'));
        Use->Block = NULL;
    } else {
        Use->WaitStatus = KeWaitForSingleObject(&Use->Event, Executive, KernelMode, FALSE, &Timeout);
    }
}

static void TestInterruptNestedUse(void)
{
    NESTED_USE Use;

    KeInitializeSpinLock(&Use.SpinLock);
    KeInitializeEvent(&Use.Event, NotificationEvent, FALSE);
    Use.Block = ExAllocatePoolWithTag(NonPagedPoolNx, 64, TAG('I', 'n', 't', 'r'));
    Use.WaitStatus = STATUS_UNSUCCESSFUL;
    CHECK(Use.Block != NULL);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, NestedUseRoutine, &Use);
    CHECK(Use.Block == NULL);
    CHECK(WdkmHostPoolOutstanding(TAG('I', 'n', 't', 'r'), NULL) == 0);
    CHECK(Use.SpinLock == 0);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, NestedUseRoutine, &Use);
    CHECK_STATUS(STATUS_TIMEOUT, Use.WaitStatus);
}

/* Events nest as on NT: a DPC or special APC interrupts a normal APC
   routine, a second normal APC waits for the first to finish. */
typedef struct _NESTING {
    INTERRUPT_PROBE Probe;
    LONG DpcRunsInside;
    LONG SpecialRunsInside;
    LONG NormalRunsInside;
} NESTING;

static VOID NestingRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    NESTING *Nesting = (NESTING *)Context;

    (void)Random;
    (void)Kind;
    for (ULONG Queued = 0; Queued < WDKM_HOST_INTERRUPT_KINDS; Queued++) {
        WdkmHostQueueInterrupt(KeGetCurrentThread(), (WDKM_HOST_INTERRUPT)Queued, ProbeRoutine,
                               &Nesting->Probe);
    }
    Nesting->DpcRunsInside = ProbeRuns(&Nesting->Probe, WdkmHostInterruptDpc);
    Nesting->SpecialRunsInside = ProbeRuns(&Nesting->Probe, WdkmHostInterruptSpecialApc);
    Nesting->NormalRunsInside = ProbeRuns(&Nesting->Probe, WdkmHostInterruptNormalApc);
}

static void TestInterruptNesting(void)
{
    NESTING Nesting;

    memset(&Nesting, 0, sizeof(Nesting));
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, NestingRoutine,
                           &Nesting);
    CHECK(Nesting.DpcRunsInside == 1);
    CHECK(Nesting.SpecialRunsInside == 1);
    CHECK(Nesting.NormalRunsInside == 0);       /* NT: one normal kernel APC at a time */
    CHECK(ProbeRuns(&Nesting.Probe, WdkmHostInterruptNormalApc) == 1);   /* right after it */
    CHECK(Nesting.Probe.Irql[WdkmHostInterruptNormalApc] == PASSIVE_LEVEL);
    CHECK(!WdkmHostInInterrupt());
}

/* A thread asleep in an emulated wait is not interrupted: the event runs
   when the wait returns. */
typedef struct _SLEEPER {
    PKTHREAD Thread;
    KEVENT Event;
    LONG volatile Ready;
    LONG RunsWhenWoken;
    INTERRUPT_PROBE *Probe;
} SLEEPER;

static VOID NTAPI SleeperRoutine(PVOID Context)
{
    SLEEPER *Sleeper = (SLEEPER *)Context;

    Sleeper->Thread = KeGetCurrentThread();
    __atomic_store_n(&Sleeper->Ready, 1, __ATOMIC_RELEASE);
    KeWaitForSingleObject(&Sleeper->Event, Executive, KernelMode, FALSE, NULL);
    Sleeper->RunsWhenWoken = ProbeRuns(Sleeper->Probe, WdkmHostInterruptSpecialApc);
}

static void TestInterruptBlockedWait(void)
{
    INTERRUPT_PROBE Probe;
    SLEEPER Sleeper;
    LARGE_INTEGER Delay = RelativeMs(20);
    HANDLE Handle;

    memset(&Probe, 0, sizeof(Probe));
    memset(&Sleeper, 0, sizeof(Sleeper));
    Sleeper.Probe = &Probe;
    KeInitializeEvent(&Sleeper.Event, NotificationEvent, FALSE);
    Handle = StartThread(SleeperRoutine, &Sleeper);
    WaitFor(&Sleeper.Ready, 1, 5000);
    KeDelayExecutionThread(KernelMode, FALSE, &Delay);     /* well inside its wait */
    WdkmHostQueueInterrupt(Sleeper.Thread, WdkmHostInterruptSpecialApc, ProbeRoutine, &Probe);
    KeDelayExecutionThread(KernelMode, FALSE, &Delay);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptSpecialApc) == 0);
    KeSetEvent(&Sleeper.Event, 0, FALSE);
    JoinThread(Handle);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptSpecialApc) == 1);
    CHECK(Sleeper.RunsWhenWoken == 1);      /* before its wait returned to it */
    CHECK(Probe.Thread[WdkmHostInterruptSpecialApc] == Sleeper.Thread);
}

/* An event pending when its (adopted) thread ends is dropped, counted. */
static void *MaskedExitMain(void *Argument)
{
    INTERRUPT_PROBE *Probe = (INTERRUPT_PROBE *)Argument;

    KeEnterGuardedRegion();
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, ProbeRoutine, Probe);
    KeLeaveGuardedRegion();     /* delivered here */
    KeEnterGuardedRegion();
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, ProbeRoutine, Probe);
    /* ends inside the guarded region: the second never runs */
    return NULL;
}

static void TestInterruptThreadExit(void)
{
    INTERRUPT_PROBE Probe;
    ULONG64 Dropped = WdkmHostInterruptsDropped();
    pthread_t Thread;

    memset(&Probe, 0, sizeof(Probe));
    CHECK(pthread_create(&Thread, NULL, MaskedExitMain, &Probe) == 0);
    pthread_join(Thread, NULL);
    CHECK(ProbeRuns(&Probe, WdkmHostInterruptSpecialApc) == 1);
    CHECK(WdkmHostInterruptsDropped() == Dropped + 1);
}

/* Random mode: the choices a thread gets are the seed's. */
#define SEED_EVENTS 24

typedef struct _SEED_LOG {
    LONG volatile Count;
    ULONG64 Random[SEED_EVENTS];
    WDKM_HOST_INTERRUPT Kind[SEED_EVENTS];
    PKTHREAD Thread;
} SEED_LOG;

static VOID SeedLogRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    SEED_LOG *Log = (SEED_LOG *)Context;
    LONG Index;

    if (KeGetCurrentThread() != Log->Thread) {
        return;     /* another thread's (the test's main thread) */
    }
    Index = Log->Count;
    if (Index < SEED_EVENTS) {
        Log->Random[Index] = Random;
        Log->Kind[Index] = Kind;
        __atomic_store_n(&Log->Count, Index + 1, __ATOMIC_RELEASE);
    }
}

typedef struct _SEED_TARGET {
    SEED_LOG *Log;
    LONG volatile Ready;
    LONG volatile Go;
} SEED_TARGET;

static VOID NTAPI SeedTargetRoutine(PVOID Context)
{
    SEED_TARGET *Target = (SEED_TARGET *)Context;
    LONGLONG End = NowNanoseconds() + 10LL * 1000000000;

    Target->Log->Thread = KeGetCurrentThread();
    __atomic_store_n(&Target->Ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&Target->Go, __ATOMIC_ACQUIRE)) {
        sched_yield();
    }
    /* Busy (so it is interrupted) until it has its events. */
    while (__atomic_load_n(&Target->Log->Count, __ATOMIC_ACQUIRE) < SEED_EVENTS &&
           NowNanoseconds() < End) {
    }
}

static void RunSeeded(ULONG64 Seed, SEED_LOG *Log)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    SEED_TARGET Target;
    HANDLE Handle;

    memset(Log, 0, sizeof(*Log));
    memset(&Target, 0, sizeof(Target));
    Target.Log = Log;
    /* The thread registers before the start, so its order is fixed. */
    Handle = StartThread(SeedTargetRoutine, &Target);
    WaitFor(&Target.Ready, 1, 5000);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = Seed;
    Settings.MeanIntervalMicroseconds = 200;
    Settings.DpcWeight = 2;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 1;
    Settings.Routine = SeedLogRoutine;
    Settings.Context = Log;
    WdkmHostInterruptsStart(&Settings);
    CHECK(WdkmHostInterruptsActive(NULL));
    __atomic_store_n(&Target.Go, 1, __ATOMIC_RELEASE);
    JoinThread(Handle);
    WdkmHostInterruptsStop();
    CHECK(!WdkmHostInterruptsActive(NULL));
    CHECK(Log->Count == SEED_EVENTS);
}

static void TestInterruptSeedReproducible(void)
{
    static SEED_LOG First;
    static SEED_LOG Second;
    static SEED_LOG Other;
    ULONG Kinds[3] = { 0, 0, 0 };

    RunSeeded(42, &First);
    RunSeeded(42, &Second);
    RunSeeded(43, &Other);
    for (ULONG Index = 0; Index < SEED_EVENTS; Index++) {
        if (First.Random[Index] != Second.Random[Index] || First.Kind[Index] != Second.Kind[Index]) {
            fprintf(stderr, "  seed 42 replayed differently from event %lu:\n", (unsigned long)Index);
            for (ULONG At = Index; At < SEED_EVENTS && At < Index + 6; At++) {
                fprintf(stderr, "    %lu: kind %d %016llx | kind %d %016llx\n", (unsigned long)At,
                        (int)First.Kind[At], (unsigned long long)First.Random[At],
                        (int)Second.Kind[At], (unsigned long long)Second.Random[At]);
            }
            break;
        }
    }
    CHECK(memcmp(First.Random, Second.Random, sizeof(First.Random)) == 0);
    CHECK(memcmp(First.Kind, Second.Kind, sizeof(First.Kind)) == 0);
    CHECK(memcmp(First.Random, Other.Random, sizeof(First.Random)) != 0);
    for (ULONG Index = 0; Index < SEED_EVENTS; Index++) {
        Kinds[First.Kind[Index]]++;
    }
    CHECK(Kinds[0] != 0 && Kinds[1] != 0 && Kinds[2] != 0);   /* the weights draw each kind */
}

/* Stop returns only once no routine runs, and nothing runs after it. */
static LONG volatile StopRunning;
static LONG volatile StopStarted;

static VOID SlowApcRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    struct timespec Sleep = { 0, 30 * 1000000 };

    (void)Kind;
    (void)Random;
    (void)Context;
    __atomic_add_fetch(&StopRunning, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&StopStarted, 1, __ATOMIC_SEQ_CST);
    nanosleep(&Sleep, NULL);
    __atomic_sub_fetch(&StopRunning, 1, __ATOMIC_SEQ_CST);
}

static VOID NTAPI BusyRoutine(PVOID Context)
{
    LONG volatile *Stop = (LONG volatile *)Context;

    while (!__atomic_load_n(Stop, __ATOMIC_ACQUIRE)) {
    }
}

static void TestInterruptStopWaits(void)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    LONG volatile Stop = 0;
    ULONG64 Delivered[3];
    ULONG64 Later[3];
    LARGE_INTEGER Delay = RelativeMs(50);
    HANDLE Handle;

    StopStarted = 0;
    Handle = StartThread(BusyRoutine, (PVOID)&Stop);
    /* This thread is registered too: a 30 ms APC every 100 us would keep it
       suspended for good (as NT would), so it takes none while it waits. */
    KeEnterCriticalRegion();
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 7;
    Settings.MeanIntervalMicroseconds = 100;
    Settings.NormalApcWeight = 1;
    Settings.Routine = SlowApcRoutine;
    WdkmHostInterruptsStart(&Settings);
    for (LONGLONG End = NowNanoseconds() + 5000000000LL;
         __atomic_load_n(&StopStarted, __ATOMIC_ACQUIRE) < 1 && NowNanoseconds() < End;) {
        sched_yield();
    }
    CHECK(__atomic_load_n(&StopStarted, __ATOMIC_ACQUIRE) >= 1);
    WdkmHostInterruptsStop();
    KeLeaveCriticalRegion();
    CHECK(__atomic_load_n(&StopRunning, __ATOMIC_SEQ_CST) == 0);
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    KeDelayExecutionThread(KernelMode, FALSE, &Delay);
    WdkmHostQueryInterruptCounts(Later, NULL);
    CHECK(memcmp(Delivered, Later, sizeof(Later)) == 0);
    CHECK(Delivered[WdkmHostInterruptDpc] == 0 && Delivered[WdkmHostInterruptNormalApc] >= 1);
    __atomic_store_n(&Stop, 1, __ATOMIC_RELEASE);
    JoinThread(Handle);
}

/* Events that land on a thread while it runs one leave its signal mask as
   they found it: a thread left with the interrupt signal blocked takes no
   event again, nor do the threads it creates (they inherit the mask).
   ThreadSanitizer runs a handler with every signal blocked and restores
   the mask it saved in one place per thread; a handler it ran from inside
   another (at an intercepted call) overwrote that with the mask of the
   moment, every signal blocked at an event's end, and the thread kept it
   (the registry tests starved under check-interrupts). Each event here
   spins across an intercepted call and then without one, while the next
   is queued. */
typedef struct _MASK_TARGET {
    PKTHREAD Thread;
    LONG volatile Ready;
    LONG volatile Stop;
    LONG volatile Runs;
    sigset_t Before;
    sigset_t After;
} MASK_TARGET;

static VOID NTAPI MaskTargetRoutine(PVOID Context)
{
    MASK_TARGET *Target = (MASK_TARGET *)Context;
    ULONG64 Spins = 0;

    pthread_sigmask(SIG_BLOCK, NULL, &Target->Before);
    Target->Thread = KeGetCurrentThread();
    __atomic_store_n(&Target->Ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&Target->Stop, __ATOMIC_ACQUIRE)) {
        Spins++;
    }
    pthread_sigmask(SIG_BLOCK, NULL, &Target->After);
    (void)Spins;
}

static VOID MaskEventRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    MASK_TARGET *Target = (MASK_TARGET *)Context;
    LONGLONG End = NowNanoseconds() + 100000;
    ULONG64 volatile Spins = 0;

    (void)Kind;
    (void)Random;
    while (NowNanoseconds() < End) {      /* intercepted calls (clock_gettime) */
    }
    for (ULONG Index = 0; Index < 200000; Index++) {   /* none */
        Spins = Spins + Index;
    }
    __atomic_add_fetch(&Target->Runs, 1, __ATOMIC_SEQ_CST);
}

static void TestInterruptKeepsSignalMask(void)
{
    MASK_TARGET Target;
    LONG Queued = 0;
    HANDLE Handle;
    int Changed = 0;

    memset(&Target, 0, sizeof(Target));
    Handle = StartThread(MaskTargetRoutine, &Target);
    WaitFor(&Target.Ready, 1, 5000);
    CHECK(Target.Ready == 1);
    for (LONGLONG End = NowNanoseconds() + 10000000000LL; Queued < 200 && NowNanoseconds() < End;) {
        /* Two at most outstanding: one running, the next arriving in it. */
        if (Queued - __atomic_load_n(&Target.Runs, __ATOMIC_ACQUIRE) < 2) {
            WdkmHostQueueInterrupt(Target.Thread, WdkmHostInterruptDpc, MaskEventRoutine, &Target);
            Queued++;
        } else {
            sched_yield();
        }
    }
    WaitFor(&Target.Runs, Queued, 5000);
    CHECK(Queued == 200);
    CHECK(__atomic_load_n(&Target.Runs, __ATOMIC_ACQUIRE) == Queued);
    __atomic_store_n(&Target.Stop, 1, __ATOMIC_RELEASE);
    JoinThread(Handle);
    for (int Signal = 1; Signal < NSIG; Signal++) {
        Changed += sigismember(&Target.Before, Signal) != sigismember(&Target.After, Signal);
    }
    if (Changed != 0) {
        fprintf(stderr, "  %d signals blocked or unblocked by the events (SIGURG: %d before, %d after)\n",
                Changed, sigismember(&Target.Before, SIGURG), sigismember(&Target.After, SIGURG));
    }
    CHECK(Changed == 0);
}

int main(void)
{
    RunTest("irql", TestIrql);
    RunTest("irql_violations", TestIrqlViolations);
    RunTest("thread_is_waiting", TestThreadIsWaiting);
    RunTest("trap_nesting", TestTrapNesting);
    RunTest("untrapped_bugcheck_aborts", TestUntrappedBugcheckAborts);
    RunTest("kmutex_recursion", TestKMutexRecursion);
    RunTest("kmutex_ownership", TestKMutexOwnership);
    RunTest("kmutex_release_irql", TestKMutexReleaseIrql);
    RunTest("kmutex_recursion_limit", TestKMutexRecursionLimit);
    RunTest("system_thread_exit_rules", TestSystemThreadExitRules);
    RunTest("events", TestEvents);
    RunTest("event_wakes_waiters", TestEventWakesWaiters);
    RunTest("timeouts", TestTimeouts);
    RunTest("wait_irql_rules", TestWaitIrqlRules);
    RunTest("alerts", TestAlerts);
    RunTest("user_apcs", TestUserApcs);
    RunTest("fast_mutex", TestFastMutex);
    RunTest("fast_mutex_contended", TestFastMutexContended);
    RunTest("fast_mutex_violations", TestFastMutexViolations);
    RunTest("guarded_mutex", TestGuardedMutex);
    RunTest("spin_locks", TestSpinLocks);
    RunTest("waits_under_spin_lock", TestWaitsUnderSpinLock);
    RunTest("regions", TestRegions);
    RunTest("system_threads", TestSystemThreads);
    RunTest("plain_pthreads", TestPlainPthreads);
    RunTest("processors", TestProcessors);
    RunTest("pool", TestPool);
    RunTest("pool_violations", TestPoolViolations);
    RunTest("pool_many_blocks", TestPoolManyBlocks);
    RunTest("pool_fault_injection", TestPoolFaultInjection);
    RunTest("routines", TestRoutines);
    RunTest("routines_wine8", TestRoutinesWine8);
    RunTest("debug_print", TestDebugPrint);
    RunTest("interlocked_and_lists", TestInterlockedAndLists);
    RunTest("clock", TestClock);
    RunTest("resource", TestResource);
    RunTest("resource_violations", TestResourceViolations);
    RunTest("resource_contention", TestResourceContention);
    RunTest("resource_overlap", TestResourceOverlap);
    RunTest("resource_writer_not_starved", TestResourceWriterNotStarved);
    RunTest("push_lock", TestPushLock);
    RunTest("push_lock_violations", TestPushLockViolations);
    RunTest("push_lock_contention", TestPushLockContention);
    RunTest("push_lock_overlap", TestPushLockOverlap);
    RunTest("push_lock_writer_not_starved", TestPushLockWriterNotStarved);
    RunTest("dpc", TestDpc);
    RunTest("dpc_rules", TestDpcRules);
    RunTest("timers", TestTimers);
    RunTest("timer_and_dpc_in_freed_pool", TestTimerAndDpcInFreedPool);
    RunTest("stress_kmutex", TestStressKMutex);
    RunTest("stress_fast_mutex", TestStressFastMutex);
    RunTest("stress_guarded_mutex", TestStressGuardedMutex);
    RunTest("stress_spin_lock", TestStressSpinLock);
    RunTest("stress_resource", TestStressResource);
    RunTest("stress_push_lock", TestStressPushLock);
    RunTest("interrupt_masking", TestInterruptMasking);
    RunTest("interrupt_running_thread", TestInterruptRunningThread);
    RunTest("interrupt_new_thread", TestInterruptNewThread);
    RunTest("interrupt_lost_signal", TestInterruptLostSignal);
    RunTest("interrupt_deferred_until_lower", TestInterruptDeferredUntilLower);
    RunTest("interrupt_rules", TestInterruptRules);
    RunTest("interrupt_nested_use", TestInterruptNestedUse);
    RunTest("interrupt_nesting", TestInterruptNesting);
    RunTest("interrupt_blocked_wait", TestInterruptBlockedWait);
    RunTest("interrupt_thread_exit", TestInterruptThreadExit);
    RunTest("interrupt_seed_reproducible", TestInterruptSeedReproducible);
    RunTest("interrupt_stop_waits", TestInterruptStopWaits);
    RunTest("interrupt_keeps_signal_mask", TestInterruptKeepsSignalMask);
    RunTest("irp_freed_once_completion_seen", TestIrpFreedOnceCompletionSeen);
    RunTest("thread_exit_cancels_irps", TestThreadExitCancelsIrps);
    RunTest("pthread_exit_cancels_irps", TestPthreadExitCancelsIrps);
    RunTest("thread_exit_waits_for_completion", TestThreadExitWaitsForCompletion);
    RunTest("thread_exit_cancel_timeout", TestThreadExitCancelTimeout);
    RunTest("thread_exit_irp_freed_in_hook", TestThreadExitIrpFreedInHook);
    return HostTestSummary();
}
