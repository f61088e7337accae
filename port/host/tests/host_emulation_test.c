/*
 * host_emulation_test.c - tests of the user-mode NT kernel emulation.
 *
 * Plain C, no framework: one "PASS name" or "FAIL name" line per test, then
 * "N passed, N failed"; the exit status is non-zero if anything failed.
 * After every test the main thread must be back at PASSIVE_LEVEL with no
 * lock held and APCs enabled, which also checks the emulation's bookkeeping
 * after each trapped bug check.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ntddk.h>
#include <wdkm_host.h>

/* ---------------------------------------------------------------------- */
/* Harness                                                                 */
/* ---------------------------------------------------------------------- */

static int TestsPassed;
static int TestsFailed;
static int CurrentTestFailed;
static WDKM_HOST_BUGCHECK LastBugcheck;

#define CHECK(Condition)                                                                  \
    do {                                                                                  \
        if (!(Condition)) {                                                               \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #Condition); \
            CurrentTestFailed = 1;                                                        \
        }                                                                                 \
    } while (0)

#define CHECK_STATUS(Expected, Actual)                                                  \
    do {                                                                                \
        NTSTATUS Actual_ = (Actual);                                                    \
        if (Actual_ != (Expected)) {                                                    \
            fprintf(stderr, "  %s:%d: %s is 0x%08X, expected 0x%08X\n", __FILE__, __LINE__, \
                    #Actual, (unsigned)Actual_, (unsigned)(Expected));                  \
            CurrentTestFailed = 1;                                                      \
        }                                                                               \
    } while (0)

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

static void RunTest(const char *Name, void (*Test)(void))
{
    CurrentTestFailed = 0;
    Test();
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        fprintf(stderr, "  left at IRQL %u\n", KeGetCurrentIrql());
        KeLowerIrql(PASSIVE_LEVEL);
        CurrentTestFailed = 1;
    }
    if (WdkmHostThreadHeldLockCount() != 0 || KeAreApcsDisabled()) {
        fprintf(stderr, "  left holding %lu locks, APCs disabled %u\n",
                (unsigned long)WdkmHostThreadHeldLockCount(), KeAreApcsDisabled());
        CurrentTestFailed = 1;
    }
    printf("%s %s\n", CurrentTestFailed ? "FAIL" : "PASS", Name);
    fflush(stdout);
    if (CurrentTestFailed) {
        TestsFailed++;
    } else {
        TestsPassed++;
    }
}

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
/* Stress: exact counts under each lock                                    */
/* ---------------------------------------------------------------------- */

#define STRESS_THREADS 4
#define STRESS_ROUNDS 100000

typedef enum _STRESS_KIND { StressKMutex, StressFastMutex, StressGuardedMutex, StressSpinLock } STRESS_KIND;

typedef struct _STRESS {
    STRESS_KIND Kind;
    KEVENT Start;
    KMUTEX Mutex;
    FAST_MUTEX FastMutex;
    KGUARDED_MUTEX GuardedMutex;
    KSPIN_LOCK SpinLock;
    LONGLONG Counter;                   /* plain: the lock must protect it */
} STRESS;

static VOID NTAPI StressRoutine(PVOID Context)
{
    STRESS *Stress = (STRESS *)Context;
    KIRQL OldIrql;

    KeWaitForSingleObject(&Stress->Start, Executive, KernelMode, FALSE, NULL);
    for (int Round = 0; Round < STRESS_ROUNDS; Round++) {
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
        }
    }
}

static void RunStress(STRESS_KIND Kind)
{
    static STRESS Stress;
    HANDLE Handles[STRESS_THREADS];
    LONGLONG Start = NowNanoseconds();

    Stress.Kind = Kind;
    Stress.Counter = 0;
    KeInitializeEvent(&Stress.Start, NotificationEvent, FALSE);
    KeInitializeMutex(&Stress.Mutex, 0);
    ExInitializeFastMutex(&Stress.FastMutex);
    KeInitializeGuardedMutex(&Stress.GuardedMutex);
    KeInitializeSpinLock(&Stress.SpinLock);
    for (int Index = 0; Index < STRESS_THREADS; Index++) {
        Handles[Index] = StartThread(StressRoutine, &Stress);
    }
    KeSetEvent(&Stress.Start, 0, FALSE);
    for (int Index = 0; Index < STRESS_THREADS; Index++) {
        JoinThread(Handles[Index]);
    }
    CHECK(Stress.Counter == (LONGLONG)STRESS_THREADS * STRESS_ROUNDS);
    CHECK(KeReadStateMutex(&Stress.Mutex) == 1);
    CHECK(Stress.FastMutex.Count == 1 && Stress.GuardedMutex.Count == 1 && Stress.SpinLock == 0);
    printf("  %d threads x %d: %lld ms (contended waits: fast %lu, guarded %lu)\n",
           STRESS_THREADS, STRESS_ROUNDS, (NowNanoseconds() - Start) / 1000000,
           (unsigned long)Stress.FastMutex.Contention,
           (unsigned long)Stress.GuardedMutex.Contention);
}

static void TestStressKMutex(void) { RunStress(StressKMutex); }
static void TestStressFastMutex(void) { RunStress(StressFastMutex); }
static void TestStressGuardedMutex(void) { RunStress(StressGuardedMutex); }
static void TestStressSpinLock(void) { RunStress(StressSpinLock); }

int main(void)
{
    RunTest("irql", TestIrql);
    RunTest("irql_violations", TestIrqlViolations);
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
    RunTest("pool", TestPool);
    RunTest("pool_violations", TestPoolViolations);
    RunTest("pool_fault_injection", TestPoolFaultInjection);
    RunTest("routines", TestRoutines);
    RunTest("debug_print", TestDebugPrint);
    RunTest("interlocked_and_lists", TestInterlockedAndLists);
    RunTest("clock", TestClock);
    RunTest("stress_kmutex", TestStressKMutex);
    RunTest("stress_fast_mutex", TestStressFastMutex);
    RunTest("stress_guarded_mutex", TestStressGuardedMutex);
    RunTest("stress_spin_lock", TestStressSpinLock);
    printf("%d passed, %d failed\n", TestsPassed, TestsFailed);
    return TestsFailed == 0 ? 0 : 1;
}
