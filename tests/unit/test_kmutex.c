/*
 * test_kmutex.c - WDKM_KMUTEX: every public function, every error, and
 * exact counts under threads.
 */
#include "wdkm_test.h"

typedef struct _COUNTER {
    LONG Value;
    LONG Spare[3];
} COUNTER;

static PWDKM_KMUTEX
NewCounter(LONG Value)
{
    COUNTER Initial = { Value, { 0, 0, 0 } };
    PWDKM_KMUTEX Mutex = NULL;

    if (WDKM_KMUTEX_CREATE(&Initial, &Mutex) != STATUS_SUCCESS) {
        return NULL;
    }
    return Mutex;
}

/* ---------------------------------------------------------------------- */

static VOID
CreateRejectsBadArguments(VOID)
{
    COUNTER Initial = { 1, { 0, 0, 0 } };
    PWDKM_KMUTEX Mutex = (PWDKM_KMUTEX)&Initial;   /* must be overwritten */

    CHECK_STATUS(WdkmKMutexCreate(NULL, sizeof(COUNTER), &Mutex), STATUS_INVALID_PARAMETER);
    CHECK(Mutex == NULL);
    CHECK_STATUS(WdkmKMutexCreate(&Initial, 0, &Mutex), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmKMutexCreate(&Initial, WDKM_MAX_DATA_SIZE + 1, &Mutex),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmKMutexCreate(&Initial, (SIZE_T)-1, &Mutex), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmKMutexCreate(&Initial, sizeof(Initial), NULL), STATUS_INVALID_PARAMETER);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

static VOID
CreateCopiesValueIntoTaggedPool(VOID)
{
    COUNTER Initial = { 42, { 1, 2, 3 } };
    PWDKM_KMUTEX Mutex;
    COUNTER *Data;
    LONG Before = WdkmTestPoolOutstanding();

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Before + 1);
    Initial.Value = 0;                       /* the lock has its own copy */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK_EQ(Data->Value, 42);
    CHECK_EQ(Data->Spare[2], 3);
    CHECK_EQ(((ULONG_PTR)Data) % 16, 0);     /* pool alignment for the value */
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Before);
}

static VOID
CreateChecksIrql(VOID)
{
    COUNTER Initial = { 0, { 0, 0, 0 } };
    PWDKM_KMUTEX Mutex = NULL;
    KIRQL OldIrql;

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    {
        NTSTATUS Status = WDKM_KMUTEX_CREATE(&Initial, &Mutex);
        KeLowerIrql(PASSIVE_LEVEL);
        CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    }
    CHECK(Mutex == NULL);
}

static VOID
CreateReportsPoolExhaustion(VOID)
{
    COUNTER Initial = { 0, { 0, 0, 0 } };
    PWDKM_KMUTEX Mutex = (PWDKM_KMUTEX)&Initial;
    LONG Before = WdkmTestPoolOutstanding();

    WdkmHostPoolFailAt(0);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_INSUFFICIENT_RESOURCES);
    WdkmHostPoolFailAt(-1);
    CHECK(Mutex == NULL);
    CHECK_EQ(WdkmTestPoolOutstanding(), Before);
}

/* ---------------------------------------------------------------------- */

static VOID
AcquireGivesDataAndReleaseKeepsIt(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(7);
    COUNTER *Data;

    CHECK(Mutex != NULL);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK(WdkmKMutexIsOwned(Mutex));
    Data->Value += 1;
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK_EQ(Data->Value, 8);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

static VOID
AcquireRejectsWrongType(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(1);
    LONGLONG *Wrong = (LONGLONG *)&Mutex;
    PVOID Untyped = &Mutex;

    CHECK(Mutex != NULL);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Wrong), STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Wrong == NULL);
    CHECK_STATUS(WdkmKMutexTryAcquire(Mutex, sizeof(COUNTER) + 1, &Untyped),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Untyped == NULL);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

static VOID
AcquireRejectsNull(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(1);
    LARGE_INTEGER Zero;
    COUNTER *Data = (COUNTER *)&Zero;

    Zero.QuadPart = 0;
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE((PWDKM_KMUTEX)NULL, &Data), STATUS_INVALID_PARAMETER);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmKMutexAcquire(Mutex, sizeof(COUNTER), NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmKMutexTryAcquire(Mutex, sizeof(COUNTER), NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE_TIMEOUT(Mutex, NULL, &Data), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmKMutexAcquireTimeout(Mutex, sizeof(COUNTER), &Zero, NULL),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, (KPROCESSOR_MODE)7, NULL, &Data),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmKMutexRelease(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmKMutexDestroy(NULL), STATUS_INVALID_PARAMETER);
    CHECK(!WdkmKMutexIsOwned(NULL));
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* Waiting forms refuse DISPATCH_LEVEL; nothing changes. */
static VOID
AcquireChecksIrql(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(0);
    LARGE_INTEGER Wait;
    COUNTER *Data;
    NTSTATUS Results[4];
    KIRQL OldIrql;

    CHECK(Mutex != NULL);
    Wait.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(1);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[0] = WDKM_KMUTEX_ACQUIRE(Mutex, &Data);
    Results[1] = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Mutex, &Wait, &Data);
    Results[2] = WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, KernelMode, NULL, &Data);
    Wait.QuadPart = 0;
    Results[3] = WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, KernelMode, &Wait, &Data);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[0], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[1], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[2], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[3], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(!WdkmKMutexIsOwned(Mutex));

    /* APC_LEVEL is allowed for a wait. */
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    Results[0] = WDKM_KMUTEX_ACQUIRE(Mutex, &Data);
    Results[1] = WdkmKMutexRelease(Mutex);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[0], STATUS_SUCCESS);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);

    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Results[0] = WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Data);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[0], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* A zero-timeout try may run at DISPATCH_LEVEL; release in the same class. */
static VOID
TryAtDispatchReleasesAtDispatch(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(0);
    LARGE_INTEGER Zero;
    COUNTER *Data;
    NTSTATUS Results[4];
    KIRQL OldIrql;

    CHECK(Mutex != NULL);
    Zero.QuadPart = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[0] = WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Data);
    Results[1] = WdkmKMutexRelease(Mutex);
    Results[2] = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Mutex, &Zero, &Data);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[0], STATUS_SUCCESS);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_STATUS(Results[2], STATUS_SUCCESS);

    /* Acquired at DISPATCH_LEVEL, released at PASSIVE_LEVEL: refused. */
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_IRQL_MISMATCH);
    CHECK(WdkmKMutexIsOwned(Mutex));
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[3] = WdkmKMutexRelease(Mutex);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[3], STATUS_SUCCESS);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

static VOID
ReleaseChecksIrql(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(0);
    COUNTER *Data;
    NTSTATUS Results[2];
    KIRQL OldIrql;

    CHECK(Mutex != NULL);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[0] = WdkmKMutexRelease(Mutex);       /* PASSIVE class -> DISPATCH */
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Results[1] = WdkmKMutexRelease(Mutex);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_STATUS(Results[0], STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(Results[1], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(WdkmKMutexIsOwned(Mutex));
    /* APC_LEVEL is in the PASSIVE class. */
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    Results[0] = WdkmKMutexRelease(Mutex);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[0], STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */

typedef struct _HOLDER {
    PWDKM_KMUTEX Mutex;
    KEVENT Held;           /* set by the holder once it owns the lock */
    KEVENT Release;        /* set by the test to let the holder release */
    NTSTATUS Status;
} HOLDER;

static VOID
HoldUntilTold(PVOID Context, ULONG Index)
{
    HOLDER *Holder = (HOLDER *)Context;
    COUNTER *Data;

    UNREFERENCED_PARAMETER(Index);
    Holder->Status = WDKM_KMUTEX_ACQUIRE(Holder->Mutex, &Data);
    (VOID)KeSetEvent(&Holder->Held, 0, FALSE);
    if (Holder->Status == STATUS_SUCCESS) {
        (VOID)KeWaitForSingleObject(&Holder->Release, Executive, KernelMode, FALSE, NULL);
        Holder->Status = WdkmKMutexRelease(Holder->Mutex);
    }
}

/* Starts a thread that holds Mutex until HolderStop. */
static WDKM_TEST_THREAD *
HolderStart(HOLDER *Holder, PWDKM_KMUTEX Mutex)
{
    WDKM_TEST_THREAD *Thread;

    Holder->Mutex = Mutex;
    KeInitializeEvent(&Holder->Held, NotificationEvent, FALSE);
    KeInitializeEvent(&Holder->Release, NotificationEvent, FALSE);
    Thread = WdkmTestStartThread(HoldUntilTold, Holder);
    if (Thread != NULL) {
        (VOID)KeWaitForSingleObject(&Holder->Held, Executive, KernelMode, FALSE, NULL);
    }
    return Thread;
}

static NTSTATUS
HolderStop(HOLDER *Holder, WDKM_TEST_THREAD *Thread)
{
    (VOID)KeSetEvent(&Holder->Release, 0, FALSE);
    WdkmTestJoinThread(Thread);
    return Holder->Status;
}

static VOID
TryAndTimeoutReportBusy(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(0);
    LARGE_INTEGER Timeout;
    WDKM_TEST_THREAD *Thread;
    HOLDER Holder;
    COUNTER *Data = (COUNTER *)&Holder;
    LONGLONG Start;
    LONGLONG Elapsed;
    NTSTATUS Status;

    CHECK(Mutex != NULL);
    Thread = HolderStart(&Holder, Mutex);
    CHECK(Thread != NULL);
    CHECK_STATUS(Holder.Status, STATUS_SUCCESS);

    Status = WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Data);
    CHECK_STATUS(Status, STATUS_TIMEOUT);
    CHECK(Data == NULL);

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(30);
    Start = WdkmTestNowMs();
    Status = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Mutex, &Timeout, &Data);
    Elapsed = WdkmTestNowMs() - Start;
    CHECK_STATUS(Status, STATUS_TIMEOUT);
    CHECK(Data == NULL);
    CHECK(Elapsed >= 29);
    CHECK(!WdkmKMutexIsOwned(Mutex));

    /* Not the owner: release and destroy are refused, nothing changes. */
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_WDKM_LOCK_HELD);

    CHECK_STATUS(HolderStop(&Holder, Thread), STATUS_SUCCESS);
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(1000);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE_TIMEOUT(Mutex, &Timeout, &Data), STATUS_SUCCESS);
    CHECK(Data != NULL);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */

typedef struct _ALERTABLE_WAITER {
    PWDKM_KMUTEX Mutex;
    KPROCESSOR_MODE WaitMode;
    LONGLONG TimeoutMs;          /* 0 = no timeout */
    KEVENT Started;
    NTSTATUS Status;
    COUNTER *Data;
} ALERTABLE_WAITER;

static VOID
WaitAlertably(PVOID Context, ULONG Index)
{
    ALERTABLE_WAITER *Waiter = (ALERTABLE_WAITER *)Context;
    LARGE_INTEGER Timeout;

    UNREFERENCED_PARAMETER(Index);
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Waiter->TimeoutMs);
    (VOID)KeSetEvent(&Waiter->Started, 0, FALSE);
    Waiter->Status = WDKM_KMUTEX_ACQUIRE_ALERTABLE(Waiter->Mutex, Waiter->WaitMode,
                                                  Waiter->TimeoutMs != 0 ? &Timeout : NULL,
                                                  &Waiter->Data);
    if (Waiter->Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(Waiter->Mutex);
    }
}

/*
 * Starts a waiter blocked on a lock this thread holds, wakes it the way
 * Wake says, and returns how its wait ended.
 */
typedef enum { WAKE_ALERT, WAKE_USER_APC } WAKE_KIND;

static NTSTATUS
AlertableWaitEndedBy(PWDKM_KMUTEX Mutex, KPROCESSOR_MODE WaitMode, LONGLONG TimeoutMs,
                     WAKE_KIND Wake, COUNTER **DataSeen)
{
    ALERTABLE_WAITER Waiter;
    WDKM_TEST_THREAD *Thread;

    Waiter.Mutex = Mutex;
    Waiter.WaitMode = WaitMode;
    Waiter.TimeoutMs = TimeoutMs;
    Waiter.Data = (COUNTER *)&Waiter;
    KeInitializeEvent(&Waiter.Started, NotificationEvent, FALSE);
    Thread = WdkmTestStartThread(WaitAlertably, &Waiter);
    if (Thread == NULL) {
        return STATUS_UNSUCCESSFUL;
    }
    (VOID)KeWaitForSingleObject(&Waiter.Started, Executive, KernelMode, FALSE, NULL);
    WdkmTestSleepMs(20);          /* let it block in the wait */
    if (Wake == WAKE_ALERT) {
        WdkmHostAlertThread(WdkmTestThreadObject(Thread));
    } else {
        WdkmHostQueueUserApc(WdkmTestThreadObject(Thread));
    }
    WdkmTestJoinThread(Thread);
    *DataSeen = Waiter.Data;
    return Waiter.Status;
}

static VOID
AlertableWaitEndsOnAlertNotUserApc(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(0);
    COUNTER *Data;
    COUNTER *Seen;

    CHECK(Mutex != NULL);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);

    CHECK_STATUS(AlertableWaitEndedBy(Mutex, KernelMode, 0, WAKE_ALERT, &Seen), STATUS_ALERTED);
    CHECK(Seen == NULL);
    /* A kernel-mode wait is not ended by a user APC: it times out instead. */
    CHECK_STATUS(AlertableWaitEndedBy(Mutex, KernelMode, 100, WAKE_USER_APC, &Seen),
                 STATUS_TIMEOUT);
    CHECK(Seen == NULL);

    /* Still ours, and usable by others afterwards. */
    CHECK(WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, KernelMode, NULL, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/*
 * Issue 15, 3.1. A DPC runs on the thread it interrupts and, to NT, is that
 * thread: modelled here by raising to DISPATCH_LEVEL on the owner's thread.
 * Its try must not be handed the value while the owner is mid-update, and
 * the owner's one release must end the hold.
 */
static VOID
TryFromDpcOverOwnerIsBusy(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(0);
    COUNTER *Data;
    COUNTER *InDpc = (COUNTER *)&Mutex;           /* must be overwritten */
    NTSTATUS Results[2] = { STATUS_SUCCESS, STATUS_SUCCESS };
    KIRQL OldIrql;

    CHECK(Mutex != NULL);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    Data->Value = -1;                             /* mid-update */
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);        /* the DPC */
    Results[0] = WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &InDpc);
    if (Results[0] == STATUS_SUCCESS) {
        InDpc->Value += 100;                      /* what a DPC would do with it */
        Results[1] = WdkmKMutexRelease(Mutex);
    }
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[0], STATUS_TIMEOUT);
    CHECK(InDpc == NULL);
    CHECK_EQ(Data->Value, -1);
    Data->Value = 1;
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/*
 * The same, in the instant between the kernel's grant and the library's
 * record of the owner (reference.md: the try is refused "also in the
 * instants between the kernel's grant and the library's record"). A
 * thread waits in WdkmKMutexAcquire while another holds the mutex; a DPC
 * queued to the waiter meanwhile runs when its wait returns, that is right
 * after the kernel granted it the mutex and before the library recorded
 * it. To NT the DPC is the new owner, so the kernel grants its try as a
 * recursion: the library must answer STATUS_TIMEOUT. A DPC that ran before
 * the hand-over (delivered before the waiter blocked) proves nothing: the
 * round is repeated until one ran after it.
 */
typedef struct _GRANT_RACE {
    PWDKM_KMUTEX Mutex;
    LONG Waiting;               /* the waiter is about to block */
    LONG HandedOver;            /* the holder released (the waiter may have it) */
    LONG DpcRan;
    LONG DpcAfterHandOver;
    NTSTATUS DpcStatus;
    NTSTATUS DpcRelease;
    NTSTATUS WaiterAcquire;
    NTSTATUS WaiterRelease;
} GRANT_RACE;

static VOID
TryInDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    GRANT_RACE *Race = (GRANT_RACE *)Context;
    COUNTER *Data;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Race->DpcAfterHandOver = InterlockedCompareExchange(&Race->HandedOver, 0, 0);
    Race->DpcStatus = WDKM_KMUTEX_TRY_ACQUIRE(Race->Mutex, &Data);
    if (Race->DpcStatus == STATUS_SUCCESS) {
        Race->DpcRelease = WdkmKMutexRelease(Race->Mutex);
    }
    InterlockedExchange(&Race->DpcRan, 1);
}

static VOID
WaitForTheMutex(PVOID Context, ULONG Index)
{
    GRANT_RACE *Race = (GRANT_RACE *)Context;
    COUNTER *Data;

    UNREFERENCED_PARAMETER(Index);
    InterlockedExchange(&Race->Waiting, 1);
    Race->WaiterAcquire = WDKM_KMUTEX_ACQUIRE(Race->Mutex, &Data);
    if (Race->WaiterAcquire == STATUS_SUCCESS) {
        Data->Value += 1;
        Race->WaiterRelease = WdkmKMutexRelease(Race->Mutex);
    }
}

/*
 * Queues Routine (Kind) to a thread blocked acquiring a mutex this thread
 * holds, then hands the mutex over: the event runs when the waiter's wait
 * returns, after the kernel's grant and before the library's (or, in a
 * release build, the inline fast path's) record of the owner. To NT the
 * event is the owner; its acquisition must answer Expected (the kernel's
 * recursive grant given back) and leave the waiter's hold whole. At least
 * two rounds must land in that window.
 */
static VOID
EventAtTheGrant(WDKM_HOST_INTERRUPT Kind, WDKM_HOST_INTERRUPT_ROUTINE *Routine,
                NTSTATUS Expected)
{
    GRANT_RACE Race;
    WDKM_TEST_THREAD *Waiter;
    COUNTER *Data;
    COUNTER Final;
    int InWindow = 0;
    int Round;

    for (Round = 0; Round < 20 && InWindow < 2; Round += 1) {
        RtlZeroMemory(&Race, sizeof(Race));
        Race.DpcRelease = STATUS_SUCCESS;
        Race.Mutex = NewCounter(0);
        CHECK(Race.Mutex != NULL);
        CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Race.Mutex, &Data), STATUS_SUCCESS);
        Waiter = WdkmTestStartThread(WaitForTheMutex, &Race);
        CHECK(Waiter != NULL);
        while (InterlockedCompareExchange(&Race.Waiting, 0, 0) == 0) {
        }
        WdkmTestSleepMs(20);                    /* into its wait */
        WdkmHostQueueInterrupt(WdkmTestThreadObject(Waiter), Kind, Routine, &Race);
        WdkmTestSleepMs(5);
        InterlockedExchange(&Race.HandedOver, 1);
        CHECK_STATUS(WdkmKMutexRelease(Race.Mutex), STATUS_SUCCESS);
        WdkmTestJoinThread(Waiter);
        CHECK_EQ(Race.DpcRan, 1);
        CHECK_STATUS(Race.WaiterAcquire, STATUS_SUCCESS);
        CHECK_STATUS(Race.WaiterRelease, STATUS_SUCCESS);
        if (Race.DpcAfterHandOver) {
            InWindow += 1;
        }
        /* Before the hand-over this thread held it: busy or refused alike. */
        CHECK_STATUS(Race.DpcStatus, Expected);
        CHECK_STATUS(Race.DpcRelease, STATUS_SUCCESS);
        CHECK(!WdkmKMutexIsOwned(Race.Mutex));
        CHECK_STATUS(WDKM_KMUTEX_TAKE(Race.Mutex, &Final), STATUS_SUCCESS);
        CHECK_EQ(Final.Value, 1);
    }
    CHECK(InWindow >= 2);
}

static VOID
TryFromDpcAtTheGrantIsBusy(VOID)
{
    EventAtTheGrant(WdkmHostInterruptDpc, TryInDpc, STATUS_TIMEOUT);
}

static VOID
AcquireInSpecialApc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    GRANT_RACE *Race = (GRANT_RACE *)Context;
    COUNTER *Data;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Race->DpcAfterHandOver = InterlockedCompareExchange(&Race->HandedOver, 0, 0);
    Race->DpcStatus = WDKM_KMUTEX_ACQUIRE(Race->Mutex, &Data);
    if (Race->DpcStatus == STATUS_SUCCESS) {
        Race->DpcRelease = WdkmKMutexRelease(Race->Mutex);
    }
    InterlockedExchange(&Race->DpcRan, 1);
}

/*
 * The same edge met by a waiting acquisition (in a release build, the
 * inline fast path's own wait): a special kernel APC on the thread that
 * the kernel just granted the mutex to, before its owner is recorded. To
 * NT the APC is the owner; its acquisition is refused with
 * STATUS_POSSIBLE_DEADLOCK, the recursive grant given back.
 */
static VOID
AcquireFromSpecialApcAtTheGrantIsRefused(VOID)
{
    EventAtTheGrant(WdkmHostInterruptSpecialApc, AcquireInSpecialApc, STATUS_POSSIBLE_DEADLOCK);
}

/* The other direction: a hold taken at DISPATCH_LEVEL (and kept past a
   lowering) is not extended from below DISPATCH_LEVEL; nothing changes. */
static VOID
RecursionFromAnotherClassIsRefused(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(0);
    COUNTER *Data;
    COUNTER *Again = (COUNTER *)&Mutex;
    NTSTATUS Results[3];
    KIRQL OldIrql;

    CHECK(Mutex != NULL);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[0] = WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Data);
    KeLowerIrql(OldIrql);
    Results[1] = WDKM_KMUTEX_ACQUIRE(Mutex, &Again);
    Results[2] = WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Again);
    CHECK_STATUS(Results[0], STATUS_SUCCESS);
    CHECK_STATUS(Results[1], STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(Results[2], STATUS_WDKM_IRQL_MISMATCH);
    CHECK(Again == NULL);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[0] = WdkmKMutexRelease(Mutex);        /* one release ends the hold */
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[0], STATUS_SUCCESS);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* Issue 15, 3.7: the WDK requires KernelMode for a wait on a mutex. */
static VOID
AlertableRefusesUserMode(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(0);
    COUNTER *Data = (COUNTER *)&Mutex;

    CHECK(Mutex != NULL);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, UserMode, NULL, &Data),
                 STATUS_INVALID_PARAMETER);
    CHECK(Data == NULL);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */

static VOID
RecursionBalances(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(0);
    LARGE_INTEGER Timeout;
    COUNTER *Data[4];
    HOLDER Holder;
    WDKM_TEST_THREAD *Thread;

    CHECK(Mutex != NULL);
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(10);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data[0]), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Data[1]), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE_TIMEOUT(Mutex, &Timeout, &Data[2]), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, KernelMode, NULL, &Data[3]),
                 STATUS_SUCCESS);
    CHECK(Data[0] == Data[1] && Data[1] == Data[2] && Data[2] == Data[3]);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_WDKM_LOCK_HELD);

    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK(WdkmKMutexIsOwned(Mutex));         /* one acquisition left */
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);   /* unlocked twice */

    /* Fully released: another thread gets it at once. */
    Thread = HolderStart(&Holder, Mutex);
    CHECK(Thread != NULL);
    CHECK_STATUS(Holder.Status, STATUS_SUCCESS);
    CHECK_STATUS(HolderStop(&Holder, Thread), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */

static VOID
TakeCopiesOutAndFrees(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(99);
    COUNTER *Data;
    COUNTER Out = { 0, { 0, 0, 0 } };
    LONGLONG WrongType = 0;
    LONG Before;

    CHECK(Mutex != NULL);
    Before = WdkmTestPoolOutstanding();
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    Data->Value += 1;
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Mutex, &Out), STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(Out.Value, 0);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Mutex, &WrongType), STATUS_WDKM_TYPE_MISMATCH);
    CHECK_EQ(WrongType, 0);
    CHECK_STATUS(WdkmKMutexTake(Mutex, sizeof(COUNTER), NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmKMutexTake(NULL, sizeof(COUNTER), &Out), STATUS_INVALID_PARAMETER);
    CHECK_EQ(WdkmTestPoolOutstanding(), Before);

    CHECK_STATUS(WDKM_KMUTEX_TAKE(Mutex, &Out), STATUS_SUCCESS);
    CHECK_EQ(Out.Value, 100);
    CHECK_EQ(WdkmTestPoolOutstanding(), Before - 1);
}

static VOID
DestroyChecksIrqlAndHolder(VOID)
{
    PWDKM_KMUTEX Mutex = NewCounter(0);
    COUNTER *Data;
    NTSTATUS Status;
    KIRQL OldIrql;

    CHECK(Mutex != NULL);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Status = WdkmKMutexDestroy(Mutex);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);

    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WdkmKMutexDestroy(Mutex);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */

typedef struct _SHARED_COUNT {
    PWDKM_KMUTEX Mutex;
    ULONG Iterations;
    LONG volatile Successes;     /* increments each thread reports it made */
    LONG volatile Errors;
} SHARED_COUNT;

static VOID
IncrementUnderLock(PVOID Context, ULONG Index)
{
    SHARED_COUNT *Shared = (SHARED_COUNT *)Context;
    ULONG Iteration;
    COUNTER *Data;

    UNREFERENCED_PARAMETER(Index);
    for (Iteration = 0; Iteration < Shared->Iterations; Iteration += 1) {
        if (WDKM_KMUTEX_ACQUIRE(Shared->Mutex, &Data) != STATUS_SUCCESS) {
            InterlockedIncrement(&Shared->Errors);
            continue;
        }
        Data->Value += 1;
        if (WdkmKMutexRelease(Shared->Mutex) != STATUS_SUCCESS) {
            InterlockedIncrement(&Shared->Errors);
        }
    }
}

/* The crate's own scenario: 3 threads x 500 increments end at 1500. */
static VOID
ThreeThreadsCountExactly(VOID)
{
    SHARED_COUNT Shared = { NULL, 500, 0, 0 };
    COUNTER Final;

    Shared.Mutex = NewCounter(0);
    CHECK(Shared.Mutex != NULL);
    CHECK(WdkmTestRunThreads(3, IncrementUnderLock, &Shared));
    CHECK_EQ(Shared.Errors, 0);
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Shared.Mutex, &Final), STATUS_SUCCESS);
    CHECK_EQ(Final.Value, 1500);
}

/*
 * 8 threads x 100,000 operations mixing blocking acquires, tries and
 * short timed waits; each thread counts the increments it made, and the
 * total must equal the protected counter.
 */
static VOID
MixedOperations(PVOID Context, ULONG Index)
{
    SHARED_COUNT *Shared = (SHARED_COUNT *)Context;
    LARGE_INTEGER Timeout;
    ULONG Iteration;
    LONG Made = 0;
    COUNTER *Data;
    NTSTATUS Status;

    Timeout.QuadPart = -1000;     /* 100 us */
    for (Iteration = 0; Iteration < Shared->Iterations; Iteration += 1) {
        switch ((Iteration + Index) % 3) {
        case 0:
            Status = WDKM_KMUTEX_ACQUIRE(Shared->Mutex, &Data);
            break;
        case 1:
            Status = WDKM_KMUTEX_TRY_ACQUIRE(Shared->Mutex, &Data);
            break;
        default:
            Status = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Shared->Mutex, &Timeout, &Data);
            break;
        }
        if (Status == STATUS_TIMEOUT) {
            continue;
        }
        if (Status != STATUS_SUCCESS) {
            InterlockedIncrement(&Shared->Errors);
            continue;
        }
        Data->Value += 1;
        Made += 1;
        if (WdkmKMutexRelease(Shared->Mutex) != STATUS_SUCCESS) {
            InterlockedIncrement(&Shared->Errors);
        }
    }
    InterlockedExchangeAdd(&Shared->Successes, Made);
}

static VOID
EightThreadsMixedOperationsCountExactly(VOID)
{
    SHARED_COUNT Shared = { NULL, 100000, 0, 0 };
    COUNTER Final;

    Shared.Mutex = NewCounter(0);
    CHECK(Shared.Mutex != NULL);
    CHECK(WdkmTestRunThreads(8, MixedOperations, &Shared));
    CHECK_EQ(Shared.Errors, 0);
    CHECK(Shared.Successes >= 8 * 100000 / 3);     /* the blocking third always succeeds */
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Shared.Mutex, &Final), STATUS_SUCCESS);
    CHECK_EQ(Final.Value, Shared.Successes);
}

/* ---------------------------------------------------------------------- */

static const WDKM_TEST_CASE KMutexCases[] = {
    { "create_rejects_bad_arguments", CreateRejectsBadArguments },
    { "create_copies_value_into_tagged_pool", CreateCopiesValueIntoTaggedPool },
    { "create_checks_irql", CreateChecksIrql },
    { "create_reports_pool_exhaustion", CreateReportsPoolExhaustion },
    { "acquire_gives_data_release_keeps_it", AcquireGivesDataAndReleaseKeepsIt },
    { "acquire_rejects_wrong_type", AcquireRejectsWrongType },
    { "acquire_rejects_null", AcquireRejectsNull },
    { "acquire_checks_irql", AcquireChecksIrql },
    { "try_at_dispatch_releases_at_dispatch", TryAtDispatchReleasesAtDispatch },
    { "release_checks_irql", ReleaseChecksIrql },
    { "try_and_timeout_report_busy", TryAndTimeoutReportBusy },
    { "alertable_wait_ends_on_alert_not_user_apc", AlertableWaitEndsOnAlertNotUserApc },
    { "alertable_refuses_user_mode", AlertableRefusesUserMode },
    { "try_from_dpc_over_owner_is_busy", TryFromDpcOverOwnerIsBusy },
    { "try_from_dpc_at_the_grant_is_busy", TryFromDpcAtTheGrantIsBusy },
    { "acquire_from_special_apc_at_the_grant_is_refused", AcquireFromSpecialApcAtTheGrantIsRefused },
    { "recursion_from_another_class_is_refused", RecursionFromAnotherClassIsRefused },
    { "recursion_balances", RecursionBalances },
    { "take_copies_out_and_frees", TakeCopiesOutAndFrees },
    { "destroy_checks_irql_and_holder", DestroyChecksIrqlAndHolder },
    { "three_threads_count_exactly", ThreeThreadsCountExactly },
    { "eight_threads_mixed_operations_count_exactly", EightThreadsMixedOperationsCountExactly },
};

const WDKM_TEST_SUITE WdkmKMutexSuite = WDKM_TEST_SUITE_OF("kmutex", KMutexCases);
