/*
 * test_kinds.c - the lock kinds beyond KMUTEX and FAST_MUTEX: spin locks
 * (plain, queued, from a DPC), guarded mutex, ERESOURCE, push lock,
 * critical and guarded regions, and all of them in the registry.
 */
#include "wdkm_test.h"

#include "wdkm_port.h"     /* WdkmpForgetRoutines, to re-run the lookup */

typedef struct _COUNTER {
    LONG Value;
    LONG Spare;
} COUNTER;

static const COUNTER Zero = { 0, 0 };

/* Makes the library look its optional routines up again, with Name missing. */
static VOID
WithoutRoutine(PCSTR Name)
{
    WdkmHostSetRoutineAvailable(Name, FALSE);
    WdkmpForgetRoutines();
}

static VOID
RestoreRoutines(VOID)
{
    WdkmHostResetRoutines();
    WdkmpForgetRoutines();
}

/* ---------------------------------------------------------------------- */
/* Spin lock                                                              */

static VOID
SpinLockRaisesAndRestores(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    COUNTER *Data;
    COUNTER *Again;
    NTSTATUS Results[3];
    KIRQL OldIrql;
    KIRQL Seen;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    Seen = KeGetCurrentIrql();
    Results[0] = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Again);    /* would spin forever */
    Data->Value += 1;
    Results[1] = WdkmSpinLockRelease(Lock, OldIrql);
    Results[2] = WdkmSpinLockRelease(Lock, OldIrql);
    CHECK_EQ(Seen, DISPATCH_LEVEL);
    CHECK_EQ(OldIrql, PASSIVE_LEVEL);
    CHECK_STATUS(Results[0], STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_STATUS(Results[2], STATUS_WDKM_NOT_HELD);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(!WdkmSpinLockIsOwned(Lock));

    /* From DISPATCH_LEVEL it stays there. */
    KeRaiseIrql(DISPATCH_LEVEL, &Seen);
    Results[0] = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data);
    Results[1] = WdkmSpinLockRelease(Lock, OldIrql);
    Seen = KeGetCurrentIrql();
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_STATUS(Results[0], STATUS_SUCCESS);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_EQ(Seen, DISPATCH_LEVEL);
    {
        SHORT WrongType;
        CHECK_STATUS(WDKM_SPIN_LOCK_TAKE(Lock, &WrongType), STATUS_WDKM_TYPE_MISMATCH);
    }
    {
        COUNTER Out;
        CHECK_STATUS(WDKM_SPIN_LOCK_TAKE(Lock, &Out), STATUS_SUCCESS);
        CHECK_EQ(Out.Value, 1);
    }
}

static VOID
SpinLockChecksIrqlAndForms(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    COUNTER *Data;
    NTSTATUS Results[6];
    KIRQL OldIrql;
    KIRQL Ignored;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock), STATUS_SUCCESS);
    KeRaiseIrql(HIGH_LEVEL, &Ignored);
    Results[0] = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_STATUS(Results[0], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data), STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(WdkmSpinLockAcquire(Lock, sizeof(COUNTER), NULL, (PVOID *)&Data),
                 STATUS_INVALID_PARAMETER);

    /* At DISPATCH_LEVEL: the DPC forms, and mismatched releases refused. */
    KeRaiseIrql(DISPATCH_LEVEL, &Ignored);
    Results[0] = WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data);
    Results[1] = WdkmSpinLockRelease(Lock, PASSIVE_LEVEL);          /* wrong form */
    Results[2] = WdkmSpinLockReleaseFromDpcLevel(Lock);
    Results[3] = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data);
    Results[4] = WdkmSpinLockReleaseFromDpcLevel(Lock);             /* wrong form */
    Results[5] = WdkmSpinLockRelease(Lock, HIGH_LEVEL);             /* bad OldIrql */
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_STATUS(Results[0], STATUS_SUCCESS);
    CHECK_STATUS(Results[1], STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(Results[2], STATUS_SUCCESS);
    CHECK_STATUS(Results[3], STATUS_SUCCESS);
    CHECK_STATUS(Results[4], STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(Results[5], STATUS_INVALID_PARAMETER);
    CHECK(!WdkmSpinLockIsOwned(Lock));

    /* Lowered below where the acquire left us: refused. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    KeLowerIrql(PASSIVE_LEVEL);
    Results[0] = WdkmSpinLockRelease(Lock, OldIrql);
    KeRaiseIrql(DISPATCH_LEVEL, &Ignored);
    Results[1] = WdkmSpinLockRelease(Lock, OldIrql);
    CHECK_STATUS(Results[0], STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmSpinLockDestroy(Lock), STATUS_SUCCESS);
}

/* Holding a spin lock puts the caller at DISPATCH_LEVEL: no sleeping lock. */
static VOID
SleepingLockUnderSpinLockIsRefused(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX FastMutex;
    PWDKM_RESOURCE Resource;
    COUNTER *Data;
    COUNTER *Inner;
    NTSTATUS Results[4];
    KIRQL OldIrql;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_CREATE(&Zero, &Resource), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    Results[0] = WDKM_KMUTEX_ACQUIRE(Mutex, &Inner);
    Results[1] = WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Inner);
    Results[2] = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Inner);
    Results[3] = WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Inner);            /* allowed */
    if (Results[3] == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(Mutex);
    }
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK_STATUS(Results[0], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[1], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[2], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[3], STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceDestroy(Resource), STATUS_SUCCESS);
}

typedef struct _SPIN_HOLDER {
    PWDKM_SPIN_LOCK Lock;
    KEVENT Held;
    LONG volatile Release;
} SPIN_HOLDER;

static VOID
HoldSpinLock(PVOID Context, ULONG Index)
{
    SPIN_HOLDER *Holder = (SPIN_HOLDER *)Context;
    COUNTER *Data;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Index);
    if (WDKM_SPIN_LOCK_ACQUIRE(Holder->Lock, &OldIrql, &Data) != STATUS_SUCCESS) {
        (VOID)KeSetEvent(&Holder->Held, 0, FALSE);
        return;
    }
    (VOID)KeSetEvent(&Holder->Held, 0, FALSE);
    while (InterlockedCompareExchange(&Holder->Release, 0, 0) == 0) {
        YieldProcessor();
    }
    (VOID)WdkmSpinLockRelease(Holder->Lock, OldIrql);
}

static VOID
SpinLockTry(VOID)
{
    SPIN_HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    COUNTER *Data;
    NTSTATUS Status;
    KIRQL OldIrql;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Holder.Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_TRY_ACQUIRE(Holder.Lock, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(Holder.Lock, OldIrql), STATUS_SUCCESS);

    Holder.Release = 0;
    KeInitializeEvent(&Holder.Held, NotificationEvent, FALSE);
    Thread = WdkmTestStartThread(HoldSpinLock, &Holder);
    CHECK(Thread != NULL);
    (VOID)KeWaitForSingleObject(&Holder.Held, Executive, KernelMode, FALSE, NULL);
    Status = WDKM_SPIN_LOCK_TRY_ACQUIRE(Holder.Lock, &OldIrql, &Data);
    InterlockedExchange(&Holder.Release, 1);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Status, STATUS_TIMEOUT);
    CHECK(Data == NULL);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);          /* raised and put back */

    WithoutRoutine("KeTryToAcquireSpinLockAtDpcLevel");
    Status = WDKM_SPIN_LOCK_TRY_ACQUIRE(Holder.Lock, &OldIrql, &Data);
    RestoreRoutines();
    CHECK_STATUS(Status, STATUS_NOT_SUPPORTED);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmSpinLockDestroy(Holder.Lock), STATUS_SUCCESS);
}

/* A DPC (and a timer DPC) takes the spin lock at DISPATCH_LEVEL. */
typedef struct _DPC_STATE {
    PWDKM_SPIN_LOCK Lock;
    LONG volatile Runs;
    LONG volatile Failures;
    KIRQL SeenIrql;
} DPC_STATE;

static VOID
CountInDpc(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    DPC_STATE *State = (DPC_STATE *)Context;
    COUNTER *Data;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    State->SeenIrql = KeGetCurrentIrql();
    if (WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(State->Lock, &Data) != STATUS_SUCCESS) {
        InterlockedIncrement(&State->Failures);
        return;
    }
    Data->Value += 1;
    if (WdkmSpinLockReleaseFromDpcLevel(State->Lock) != STATUS_SUCCESS) {
        InterlockedIncrement(&State->Failures);
    }
    InterlockedIncrement(&State->Runs);
}

static VOID
SpinLockFromDpc(VOID)
{
    DPC_STATE State = { NULL, 0, 0, PASSIVE_LEVEL };
    LARGE_INTEGER DueTime;
    KDPC Dpc;
    KTIMER Timer;
    COUNTER *Data;
    COUNTER Out;
    KIRQL OldIrql;
    int Round;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &State.Lock), STATUS_SUCCESS);
    KeInitializeDpc(&Dpc, CountInDpc, &State);
    for (Round = 0; Round < 10; Round += 1) {
        CHECK(KeInsertQueueDpc(&Dpc, NULL, NULL));
        KeFlushQueuedDpcs();
        /* The test thread contends with the DPC for the same data. */
        CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(State.Lock, &OldIrql, &Data), STATUS_SUCCESS);
        Data->Value += 100;
        CHECK_STATUS(WdkmSpinLockRelease(State.Lock, OldIrql), STATUS_SUCCESS);
    }
    KeInitializeTimer(&Timer);
    DueTime.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5);
    (VOID)KeSetTimer(&Timer, DueTime, &Dpc);
    (VOID)KeWaitForSingleObject(&Timer, Executive, KernelMode, FALSE, NULL);
    KeFlushQueuedDpcs();
    CHECK_EQ(State.Failures, 0);
    CHECK_EQ(State.Runs, 11);
    CHECK_EQ(State.SeenIrql, DISPATCH_LEVEL);
    CHECK_STATUS(WDKM_SPIN_LOCK_TAKE(State.Lock, &Out), STATUS_SUCCESS);
    CHECK_EQ(Out.Value, 11 + 10 * 100);
}

static VOID
QueuedSpinLock(VOID)
{
    PWDKM_QUEUED_SPIN_LOCK Lock;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_LOCK_QUEUE_HANDLE Other;
    COUNTER *Data;
    COUNTER Out;
    NTSTATUS Results[4];
    KIRQL Seen;
    KIRQL Ignored;

    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data), STATUS_SUCCESS);
    Seen = KeGetCurrentIrql();
    Data->Value += 1;
    {
        COUNTER *Again;
        Results[0] = WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Other, &Again);
    }
    Results[1] = WdkmQueuedSpinLockRelease(&Handle);
    Results[2] = WdkmQueuedSpinLockRelease(&Handle);
    CHECK_EQ(Seen, DISPATCH_LEVEL);
    CHECK_STATUS(Results[0], STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_STATUS(Results[2], STATUS_WDKM_NOT_HELD);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Handle, &Data),
                 STATUS_WDKM_IRQL_MISMATCH);
    KeRaiseIrql(DISPATCH_LEVEL, &Ignored);
    Results[0] = WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Handle, &Data);
    Results[1] = WdkmQueuedSpinLockRelease(&Handle);
    Seen = KeGetCurrentIrql();
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_STATUS(Results[0], STATUS_SUCCESS);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_EQ(Seen, DISPATCH_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_TAKE(Lock, &Out), STATUS_SUCCESS);
    CHECK_EQ(Out.Value, 1);
}

/* Issue 15, 3.17: an error with a NULL OldIrql or Handle still clears *Data. */
static VOID
SpinLockErrorsClearData(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    COUNTER *Data;
    KIRQL OldIrql;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, &Queued), STATUS_SUCCESS);
    Data = (COUNTER *)&Lock;
    CHECK_STATUS(WdkmSpinLockAcquire(Lock, sizeof(COUNTER), NULL, (PVOID *)&Data),
                 STATUS_INVALID_PARAMETER);
    CHECK(Data == NULL);
    Data = (COUNTER *)&Lock;
    CHECK_STATUS(WdkmSpinLockTryAcquire(Lock, sizeof(COUNTER), NULL, (PVOID *)&Data),
                 STATUS_INVALID_PARAMETER);
    CHECK(Data == NULL);
    Data = (COUNTER *)&Lock;
    CHECK_STATUS(WdkmQueuedSpinLockAcquire(Queued, sizeof(COUNTER), NULL, (PVOID *)&Data),
                 STATUS_INVALID_PARAMETER);
    CHECK(Data == NULL);
    Data = (COUNTER *)&Lock;
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    {
        NTSTATUS Status = WdkmQueuedSpinLockAcquireAtDpcLevel(Queued, sizeof(COUNTER), NULL,
                                                              (PVOID *)&Data);
        KeLowerIrql(OldIrql);
        CHECK_STATUS(Status, STATUS_INVALID_PARAMETER);
    }
    CHECK(Data == NULL);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmSpinLockDestroy(Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Queued), STATUS_SUCCESS);
}

/*
 * Issue 15, 3.5: a refused second acquire through the handle that holds
 * the lock leaves that handle alone, so its release still works; a
 * refused acquire through another handle leaves that one holding nothing.
 */
static VOID
QueuedRefusalKeepsTheHoldingHandle(VOID)
{
    PWDKM_QUEUED_SPIN_LOCK Lock;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_LOCK_QUEUE_HANDLE Other;
    COUNTER *Data;
    COUNTER *Again;
    NTSTATUS Results[4];
    KIRQL Seen;
    KIRQL OldIrql;

    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data), STATUS_SUCCESS);
    Results[0] = WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Again);
    Results[1] = WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Handle, &Again);
    Results[2] = WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Other, &Again);
    Results[3] = WdkmQueuedSpinLockRelease(&Handle);
    Seen = KeGetCurrentIrql();
    if (Seen != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);               /* the unfixed library left it held */
    }
    CHECK_STATUS(Results[0], STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Results[1], STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Results[2], STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Results[3], STATUS_SUCCESS);
    CHECK_EQ(Seen, PASSIVE_LEVEL);
    CHECK(!WdkmQueuedSpinLockIsOwned(Lock));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Other), STATUS_WDKM_NOT_HELD);

    /* The same from DISPATCH_LEVEL, through the AtDpcLevel form. */
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[0] = WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Handle, &Data);
    Results[1] = WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Handle, &Again);
    Results[2] = WdkmQueuedSpinLockRelease(&Handle);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[0], STATUS_SUCCESS);
    CHECK_STATUS(Results[1], STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Results[2], STATUS_SUCCESS);

    /*
     * Every other refusal through the holding handle keeps the hold too
     * (the model walk's finding model.7: a wrong type or an IRQL above the
     * limit cleared the handle, and the lock stayed held for ever).
     */
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data), STATUS_SUCCESS);
    Results[0] = WdkmQueuedSpinLockAcquire(Lock, sizeof(COUNTER) + 8, &Handle, (PVOID *)&Again);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Results[1] = WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Again);
    KeLowerIrql(OldIrql);
    Results[2] = WdkmQueuedSpinLockRelease(&Handle);
    Seen = KeGetCurrentIrql();
    if (Seen != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);               /* the unfixed library left it held */
    }
    CHECK_STATUS(Results[0], STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(Results[1], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[2], STATUS_SUCCESS);
    CHECK_EQ(Seen, PASSIVE_LEVEL);
    CHECK(!WdkmQueuedSpinLockIsOwned(Lock));
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Lock), STATUS_SUCCESS);
}

/*
 * Issue 15, 3.6: releasing the outer of two nested spin locks first would
 * lower the IRQL under the inner one. Refused, nothing changed; the
 * explicit form NT allows (release the outer without lowering, the inner
 * with the outer's saved IRQL) works.
 */
static VOID
SpinLockOutOfOrderRelease(VOID)
{
    PWDKM_SPIN_LOCK Outer;
    PWDKM_SPIN_LOCK Inner;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    COUNTER *Data;
    KIRQL OuterIrql;
    KIRQL InnerIrql;
    NTSTATUS Results[4];
    KIRQL Seen[2];

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, &Queued), STATUS_SUCCESS);

    /* Both with the raising form. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Outer, &OuterIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Inner, &InnerIrql, &Data), STATUS_SUCCESS);
    Results[0] = WdkmSpinLockRelease(Outer, OuterIrql);
    Seen[0] = KeGetCurrentIrql();
    Results[1] = WdkmSpinLockRelease(Inner, InnerIrql);
    Seen[1] = KeGetCurrentIrql();
    Results[2] = WdkmSpinLockRelease(Outer, OuterIrql);
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    CHECK_STATUS(Results[0], STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(Seen[0], DISPATCH_LEVEL);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_EQ(Seen[1], DISPATCH_LEVEL);
    CHECK_STATUS(Results[2], STATUS_SUCCESS);
    CHECK(!WdkmSpinLockIsOwned(Outer));
    CHECK(!WdkmSpinLockIsOwned(Inner));

    /* The inner one with the AtDpcLevel form, and a queued inner one. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Outer, &OuterIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Inner, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Queued, &Handle, &Data), STATUS_SUCCESS);
    Results[0] = WdkmSpinLockRelease(Outer, OuterIrql);
    Results[1] = WdkmSpinLockReleaseFromDpcLevel(Inner);
    Results[2] = WdkmSpinLockRelease(Outer, OuterIrql);     /* the queued one is held */
    Results[3] = WdkmQueuedSpinLockRelease(&Handle);
    Seen[0] = KeGetCurrentIrql();
    Seen[1] = PASSIVE_LEVEL + 1;
    if (Seen[0] == DISPATCH_LEVEL) {
        CHECK_STATUS(WdkmSpinLockRelease(Outer, OuterIrql), STATUS_SUCCESS);
        Seen[1] = KeGetCurrentIrql();
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    CHECK_STATUS(Results[0], STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_STATUS(Results[2], STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(Results[3], STATUS_SUCCESS);
    CHECK_EQ(Seen[0], DISPATCH_LEVEL);
    CHECK_EQ(Seen[1], PASSIVE_LEVEL);
    CHECK(!WdkmSpinLockIsOwned(Outer));

    /* NT's explicit form: the outer released without lowering, the inner
       with the outer's saved IRQL. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Outer, &OuterIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Inner, &InnerIrql, &Data), STATUS_SUCCESS);
    Results[0] = WdkmSpinLockRelease(Outer, DISPATCH_LEVEL);
    Seen[0] = KeGetCurrentIrql();
    Results[1] = WdkmSpinLockRelease(Inner, OuterIrql);
    Seen[1] = KeGetCurrentIrql();
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    CHECK_STATUS(Results[0], STATUS_SUCCESS);
    CHECK_EQ(Seen[0], DISPATCH_LEVEL);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_EQ(Seen[1], PASSIVE_LEVEL);

    /* That explicit release allowed one lowering release, used above: with
       the outer lock held again, the inner one's lowering release is
       refused (the outer would be held at PASSIVE_LEVEL), nothing changed. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Outer, &OuterIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Inner, &InnerIrql, &Data), STATUS_SUCCESS);
    Results[0] = WdkmSpinLockRelease(Inner, OuterIrql);
    Seen[0] = KeGetCurrentIrql();
    Results[1] = WdkmSpinLockRelease(Inner, InnerIrql);
    Results[2] = WdkmSpinLockRelease(Outer, OuterIrql);
    Seen[1] = KeGetCurrentIrql();
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    CHECK_STATUS(Results[0], STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(Seen[0], DISPATCH_LEVEL);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_STATUS(Results[2], STATUS_SUCCESS);
    CHECK_EQ(Seen[1], PASSIVE_LEVEL);

    /* The same with the thread's nest record kept alive between the two
       rounds by nested FAST_MUTEX holds (APC_LEVEL): the allowance the
       first round used is gone in the second. */
    {
        PWDKM_FAST_MUTEX First;
        PWDKM_FAST_MUTEX Second;
        NTSTATUS Round[2];

        CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &First), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, &Second), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(First, &Data), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Second, &Data), STATUS_SUCCESS);   /* nested */
        CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Outer, &OuterIrql, &Data), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Inner, &InnerIrql, &Data), STATUS_SUCCESS);
        Round[0] = WdkmSpinLockRelease(Outer, DISPATCH_LEVEL);
        Round[1] = WdkmSpinLockRelease(Inner, OuterIrql);       /* used up here */
        CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Outer, &OuterIrql, &Data), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Inner, &InnerIrql, &Data), STATUS_SUCCESS);
        Results[0] = WdkmSpinLockRelease(Inner, OuterIrql);
        Seen[0] = KeGetCurrentIrql();
        if (Results[0] != STATUS_SUCCESS) {
            CHECK_STATUS(WdkmSpinLockRelease(Inner, InnerIrql), STATUS_SUCCESS);
        }
        if (KeGetCurrentIrql() == DISPATCH_LEVEL) {
            CHECK_STATUS(WdkmSpinLockRelease(Outer, OuterIrql), STATUS_SUCCESS);
        }
        Seen[1] = KeGetCurrentIrql();
        CHECK_STATUS(WdkmFastMutexRelease(Second), STATUS_SUCCESS);
        CHECK_STATUS(WdkmFastMutexRelease(First), STATUS_SUCCESS);
        CHECK_STATUS(Round[0], STATUS_SUCCESS);
        CHECK_STATUS(Round[1], STATUS_SUCCESS);
        CHECK_STATUS(Results[0], STATUS_WDKM_LOCK_HELD);
        CHECK_EQ(Seen[0], DISPATCH_LEVEL);
        CHECK_EQ(Seen[1], APC_LEVEL);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK_STATUS(WdkmFastMutexDestroy(First), STATUS_SUCCESS);
        CHECK_STATUS(WdkmFastMutexDestroy(Second), STATUS_SUCCESS);
    }

    CHECK_STATUS(WdkmSpinLockDestroy(Outer), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Queued), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* Exact counts under threads, every exclusive kind                       */

typedef enum { KIND_SPIN, KIND_QUEUED, KIND_GUARDED, KIND_RESOURCE, KIND_PUSH } KIND;

typedef struct _COUNT_RUN {
    KIND Kind;
    PVOID Lock;
    ULONG Iterations;
    LONG volatile Errors;
} COUNT_RUN;

static NTSTATUS
IncrementOnce(COUNT_RUN *Run)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    COUNTER *Data = NULL;
    NTSTATUS Status;
    KIRQL OldIrql;

    switch (Run->Kind) {
    case KIND_SPIN:
        Status = WDKM_SPIN_LOCK_ACQUIRE((PWDKM_SPIN_LOCK)Run->Lock, &OldIrql, &Data);
        if (Status == STATUS_SUCCESS) {
            Data->Value += 1;
            Status = WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Run->Lock, OldIrql);
        }
        return Status;
    case KIND_QUEUED:
        Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE((PWDKM_QUEUED_SPIN_LOCK)Run->Lock, &Handle, &Data);
        if (Status == STATUS_SUCCESS) {
            Data->Value += 1;
            Status = WdkmQueuedSpinLockRelease(&Handle);
        }
        return Status;
    case KIND_GUARDED:
        Status = WDKM_GUARDED_MUTEX_ACQUIRE((PWDKM_GUARDED_MUTEX)Run->Lock, &Data);
        if (Status == STATUS_SUCCESS) {
            Data->Value += 1;
            Status = WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Run->Lock);
        }
        return Status;
    case KIND_RESOURCE:
        Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE((PWDKM_RESOURCE)Run->Lock, &Data);
        if (Status == STATUS_SUCCESS) {
            Data->Value += 1;
            Status = WdkmResourceRelease((PWDKM_RESOURCE)Run->Lock);
        }
        return Status;
    default:
        Status = WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE((PWDKM_PUSH_LOCK)Run->Lock, &Data);
        if (Status == STATUS_SUCCESS) {
            Data->Value += 1;
            Status = WdkmPushLockRelease((PWDKM_PUSH_LOCK)Run->Lock);
        }
        return Status;
    }
}

static VOID
CountWorker(PVOID Context, ULONG Index)
{
    COUNT_RUN *Run = (COUNT_RUN *)Context;
    ULONG Iteration;

    UNREFERENCED_PARAMETER(Index);
    for (Iteration = 0; Iteration < Run->Iterations; Iteration += 1) {
        if (IncrementOnce(Run) != STATUS_SUCCESS) {
            InterlockedIncrement(&Run->Errors);
        }
    }
}

static VOID
EveryKindCountsExactly(VOID)
{
    static const KIND Kinds[] = { KIND_SPIN, KIND_QUEUED, KIND_GUARDED, KIND_RESOURCE, KIND_PUSH };
    COUNT_RUN Run;
    COUNTER Out;
    ULONG Index;

    for (Index = 0; Index < sizeof(Kinds) / sizeof(Kinds[0]); Index += 1) {
        Run.Kind = Kinds[Index];
        Run.Iterations = 10000;
        Run.Errors = 0;
        switch (Run.Kind) {
        case KIND_SPIN:
            CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, (PWDKM_SPIN_LOCK *)&Run.Lock), STATUS_SUCCESS);
            break;
        case KIND_QUEUED:
            CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, (PWDKM_QUEUED_SPIN_LOCK *)&Run.Lock),
                         STATUS_SUCCESS);
            break;
        case KIND_GUARDED:
            CHECK_STATUS(WDKM_GUARDED_MUTEX_CREATE(&Zero, (PWDKM_GUARDED_MUTEX *)&Run.Lock),
                         STATUS_SUCCESS);
            break;
        case KIND_RESOURCE:
            CHECK_STATUS(WDKM_RESOURCE_CREATE(&Zero, (PWDKM_RESOURCE *)&Run.Lock), STATUS_SUCCESS);
            break;
        default:
            CHECK_STATUS(WDKM_PUSH_LOCK_CREATE(&Zero, (PWDKM_PUSH_LOCK *)&Run.Lock), STATUS_SUCCESS);
            break;
        }
        CHECK(WdkmTestRunThreads(4, CountWorker, &Run));
        CHECK_EQ(Run.Errors, 0);
        switch (Run.Kind) {
        case KIND_SPIN:
            CHECK_STATUS(WDKM_SPIN_LOCK_TAKE((PWDKM_SPIN_LOCK)Run.Lock, &Out), STATUS_SUCCESS);
            break;
        case KIND_QUEUED:
            CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_TAKE((PWDKM_QUEUED_SPIN_LOCK)Run.Lock, &Out),
                         STATUS_SUCCESS);
            break;
        case KIND_GUARDED:
            CHECK_STATUS(WDKM_GUARDED_MUTEX_TAKE((PWDKM_GUARDED_MUTEX)Run.Lock, &Out), STATUS_SUCCESS);
            break;
        case KIND_RESOURCE:
            CHECK_STATUS(WDKM_RESOURCE_TAKE((PWDKM_RESOURCE)Run.Lock, &Out), STATUS_SUCCESS);
            break;
        default:
            CHECK_STATUS(WDKM_PUSH_LOCK_TAKE((PWDKM_PUSH_LOCK)Run.Lock, &Out), STATUS_SUCCESS);
            break;
        }
        CHECK_EQ(Out.Value, 40000);
    }
}

/* ---------------------------------------------------------------------- */
/* Guarded mutex                                                          */

static VOID
GuardedMutexRules(VOID)
{
    PWDKM_GUARDED_MUTEX Mutex;
    PWDKM_GUARDED_MUTEX Missing = (PWDKM_GUARDED_MUTEX)&Mutex;
    COUNTER *Data;
    COUNTER *Again;
    NTSTATUS Results[2];
    KIRQL OldIrql;

    CHECK_STATUS(WDKM_GUARDED_MUTEX_CREATE(&Zero, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GUARDED_MUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK(KeAreAllApcsDisabled());                     /* a guarded region */
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);       /* without raising */
    CHECK_STATUS(WDKM_GUARDED_MUTEX_ACQUIRE(Mutex, &Again), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WDKM_GUARDED_MUTEX_TRY_ACQUIRE(Mutex, &Again), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmGuardedMutexDestroy(Mutex), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmGuardedMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK(!KeAreAllApcsDisabled());
    CHECK_STATUS(WdkmGuardedMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WDKM_GUARDED_MUTEX_TRY_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGuardedMutexRelease(Mutex), STATUS_SUCCESS);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[0] = WDKM_GUARDED_MUTEX_ACQUIRE(Mutex, &Data);
    Results[1] = WDKM_GUARDED_MUTEX_TRY_ACQUIRE(Mutex, &Data);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[0], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[1], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmGuardedMutexDestroy(Mutex), STATUS_SUCCESS);

    /* Wine 8: no KeAcquireGuardedMutex. The driver loads; create says so. */
    WithoutRoutine("KeAcquireGuardedMutex");
    Results[0] = WDKM_GUARDED_MUTEX_CREATE(&Zero, &Missing);
    RestoreRoutines();
    CHECK_STATUS(Results[0], STATUS_NOT_SUPPORTED);
    CHECK(Missing == NULL);
}

/* ---------------------------------------------------------------------- */
/* Reader/writer: ERESOURCE and push lock                                 */

static VOID
ResourceRules(VOID)
{
    PWDKM_RESOURCE Resource;
    COUNTER *Data;
    const COUNTER *Read;
    const COUNTER *ReadAgain;
    NTSTATUS Results[2];
    KIRQL OldIrql;

    CHECK_STATUS(WDKM_RESOURCE_CREATE(&Zero, &Resource), STATUS_SUCCESS);
    CHECK(!KeAreApcsDisabled());
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Data), STATUS_SUCCESS);
    CHECK(KeAreApcsDisabled());                        /* the wrapper's critical region */
    CHECK(WdkmResourceIsOwnedExclusive(Resource));
    Data->Value = 7;
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Data), STATUS_SUCCESS);  /* recursive */
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_SHARED(Resource, &Read), STATUS_SUCCESS);
    CHECK_EQ(Read->Value, 7);
    CHECK_STATUS(WdkmResourceDestroy(Resource), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK(WdkmResourceIsOwnedExclusive(Resource));
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK(!WdkmResourceIsOwnedExclusive(Resource));
    CHECK(!KeAreApcsDisabled());
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_WDKM_NOT_HELD);

    /* A shared owner: shared again is fine, exclusive would deadlock. */
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_SHARED(Resource, &Read), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_SHARED(Resource, &ReadAgain), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WDKM_RESOURCE_TRY_ACQUIRE_EXCLUSIVE(Resource, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK(!KeAreApcsDisabled());

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[0] = WDKM_RESOURCE_ACQUIRE_SHARED(Resource, &Read);
    Results[1] = WdkmResourceDestroy(Resource);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Results[0], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[1], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WDKM_RESOURCE_TRY_ACQUIRE_SHARED(Resource, &Read), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceDestroy(Resource), STATUS_SUCCESS);
}

/* Readers really hold it together: each waits, inside, for the other. */
typedef struct _OVERLAP {
    BOOLEAN PushLock;
    PVOID Lock;
    LONG volatile Inside;
    LONG volatile MaxInside;
    LONG volatile Errors;
} OVERLAP;

static VOID
ReadTogether(PVOID Context, ULONG Index)
{
    OVERLAP *Overlap = (OVERLAP *)Context;
    const COUNTER *Read;
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);
    NTSTATUS Status;
    LONG Now;

    UNREFERENCED_PARAMETER(Index);
    Status = Overlap->PushLock
                 ? WDKM_PUSH_LOCK_ACQUIRE_SHARED((PWDKM_PUSH_LOCK)Overlap->Lock, &Read)
                 : WDKM_RESOURCE_ACQUIRE_SHARED((PWDKM_RESOURCE)Overlap->Lock, &Read);
    if (Status != STATUS_SUCCESS) {
        InterlockedIncrement(&Overlap->Errors);
        return;
    }
    Now = InterlockedIncrement(&Overlap->Inside);
    while (Now < 2 && WdkmTestNowMs() < Deadline) {
        WdkmTestSleepMs(1);
        Now = InterlockedCompareExchange(&Overlap->Inside, 0, 0);
    }
    if (Now > InterlockedCompareExchange(&Overlap->MaxInside, 0, 0)) {
        InterlockedExchange(&Overlap->MaxInside, Now);
    }
    WdkmTestSleepMs(5);
    InterlockedDecrement(&Overlap->Inside);
    Status = Overlap->PushLock ? WdkmPushLockRelease((PWDKM_PUSH_LOCK)Overlap->Lock)
                               : WdkmResourceRelease((PWDKM_RESOURCE)Overlap->Lock);
    if (Status != STATUS_SUCCESS) {
        InterlockedIncrement(&Overlap->Errors);
    }
}

static VOID
ReadersOverlap(VOID)
{
    OVERLAP Overlap;
    int Round;

    for (Round = 0; Round < 2; Round += 1) {
        RtlZeroMemory(&Overlap, sizeof(Overlap));
        Overlap.PushLock = Round == 1;
        if (Overlap.PushLock) {
            CHECK_STATUS(WDKM_PUSH_LOCK_CREATE(&Zero, (PWDKM_PUSH_LOCK *)&Overlap.Lock),
                         STATUS_SUCCESS);
        } else {
            CHECK_STATUS(WDKM_RESOURCE_CREATE(&Zero, (PWDKM_RESOURCE *)&Overlap.Lock),
                         STATUS_SUCCESS);
        }
        CHECK(WdkmTestRunThreads(2, ReadTogether, &Overlap));
        CHECK_EQ(Overlap.Errors, 0);
        CHECK_EQ(Overlap.MaxInside, 2);               /* measured, not assumed */
        if (Overlap.PushLock) {
            CHECK_STATUS(WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Overlap.Lock), STATUS_SUCCESS);
        } else {
            CHECK_STATUS(WdkmResourceDestroy((PWDKM_RESOURCE)Overlap.Lock), STATUS_SUCCESS);
        }
    }
}

static VOID
PushLockRules(VOID)
{
    PWDKM_PUSH_LOCK PushLock;
    PWDKM_PUSH_LOCK Missing = (PWDKM_PUSH_LOCK)&PushLock;
    COUNTER *Data;
    const COUNTER *Read;
    NTSTATUS Status;

    CHECK_STATUS(WDKM_PUSH_LOCK_CREATE(&Zero, &PushLock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(PushLock, &Data), STATUS_SUCCESS);
    CHECK(KeAreApcsDisabled());
    CHECK(WdkmPushLockIsOwnedExclusive(PushLock));
    CHECK_STATUS(WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(PushLock, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WDKM_PUSH_LOCK_ACQUIRE_SHARED(PushLock, &Read), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmPushLockDestroy(PushLock), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmPushLockRelease(PushLock), STATUS_SUCCESS);
    CHECK(!KeAreApcsDisabled());
    CHECK_STATUS(WdkmPushLockRelease(PushLock), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WDKM_PUSH_LOCK_ACQUIRE_SHARED(PushLock, &Read), STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockDestroy(PushLock), STATUS_WDKM_LOCK_HELD);
    /* A shared holder asking again would wait for itself (issue 15, 3.8). */
    Data = (COUNTER *)&PushLock;
    CHECK_STATUS(WDKM_PUSH_LOCK_ACQUIRE_SHARED(PushLock, &Read), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(PushLock, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmPushLockRelease(PushLock), STATUS_SUCCESS);
    CHECK(!KeAreApcsDisabled());
    CHECK_STATUS(WdkmPushLockRelease(PushLock), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmPushLockDestroy(PushLock), STATUS_SUCCESS);

    /* Wine 8: no specific releases (and stub acquires): not supported. */
    WithoutRoutine("ExfReleasePushLockExclusive");
    Status = WDKM_PUSH_LOCK_CREATE(&Zero, &Missing);
    RestoreRoutines();
    CHECK_STATUS(Status, STATUS_NOT_SUPPORTED);
    CHECK(Missing == NULL);
    Missing = (PWDKM_PUSH_LOCK)&PushLock;

    WithoutRoutine("ExfAcquirePushLockShared");
    Status = WDKM_PUSH_LOCK_CREATE(&Zero, &Missing);
    RestoreRoutines();
    CHECK_STATUS(Status, STATUS_NOT_SUPPORTED);
    CHECK(Missing == NULL);
}

/*
 * Issue 15, 3.8: a shared release by a thread that holds nothing, while
 * another thread holds the lock shared, is refused and changes nothing:
 * the holder keeps its share and both threads' critical regions balance.
 */
typedef struct _SHARED_HOLDER {
    BOOLEAN PushLock;
    PVOID Lock;
    KEVENT Held;
    KEVENT Release;
    NTSTATUS Status;
    BOOLEAN ApcsDisabledAfter;
} SHARED_HOLDER;

static VOID
HoldShared(PVOID Context, ULONG Index)
{
    SHARED_HOLDER *Holder = (SHARED_HOLDER *)Context;
    const COUNTER *Read;

    UNREFERENCED_PARAMETER(Index);
    Holder->Status = Holder->PushLock
                         ? WDKM_PUSH_LOCK_ACQUIRE_SHARED((PWDKM_PUSH_LOCK)Holder->Lock, &Read)
                         : WDKM_RESOURCE_ACQUIRE_SHARED((PWDKM_RESOURCE)Holder->Lock, &Read);
    (VOID)KeSetEvent(&Holder->Held, 0, FALSE);
    if (Holder->Status != STATUS_SUCCESS) {
        return;
    }
    (VOID)KeWaitForSingleObject(&Holder->Release, Executive, KernelMode, FALSE, NULL);
    Holder->Status = Holder->PushLock ? WdkmPushLockRelease((PWDKM_PUSH_LOCK)Holder->Lock)
                                      : WdkmResourceRelease((PWDKM_RESOURCE)Holder->Lock);
    Holder->ApcsDisabledAfter = KeAreApcsDisabled();
}

/* More readers at once than the push lock has reader slots: all of them
   acquire and release, the untracked ones through the count. */
#define MANY_READERS 12

typedef struct _MANY_READERS_RUN {
    PWDKM_PUSH_LOCK Lock;
    LONG volatile Inside;
    LONG volatile Errors;
} MANY_READERS_RUN;

static VOID
ReadWithMany(PVOID Context, ULONG Index)
{
    MANY_READERS_RUN *Run = (MANY_READERS_RUN *)Context;
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);
    const COUNTER *Read;

    UNREFERENCED_PARAMETER(Index);
    if (WDKM_PUSH_LOCK_ACQUIRE_SHARED(Run->Lock, &Read) != STATUS_SUCCESS) {
        InterlockedIncrement(&Run->Errors);
        return;
    }
    InterlockedIncrement(&Run->Inside);
    while (InterlockedCompareExchange(&Run->Inside, 0, 0) < MANY_READERS &&
           WdkmTestNowMs() < Deadline) {
        WdkmTestSleepMs(1);
    }
    if (WdkmPushLockRelease(Run->Lock) != STATUS_SUCCESS || KeAreApcsDisabled()) {
        InterlockedIncrement(&Run->Errors);
    }
}

static VOID
PushLockManyReaders(VOID)
{
    MANY_READERS_RUN Run = { NULL, 0, 0 };

    CHECK_STATUS(WDKM_PUSH_LOCK_CREATE(&Zero, &Run.Lock), STATUS_SUCCESS);
    CHECK(WdkmTestRunThreads(MANY_READERS, ReadWithMany, &Run));
    CHECK_EQ(Run.Errors, 0);
    CHECK_EQ(Run.Inside, MANY_READERS);
    CHECK_STATUS(WdkmPushLockRelease(Run.Lock), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmPushLockDestroy(Run.Lock), STATUS_SUCCESS);
}

static VOID
StraySharedReleaseIsRefused(VOID)
{
    SHARED_HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    NTSTATUS Stray;
    BOOLEAN ApcsDisabled;
    int Round;

    for (Round = 0; Round < 2; Round += 1) {
        RtlZeroMemory(&Holder, sizeof(Holder));
        Holder.PushLock = Round == 0;
        if (Holder.PushLock) {
            CHECK_STATUS(WDKM_PUSH_LOCK_CREATE(&Zero, (PWDKM_PUSH_LOCK *)&Holder.Lock),
                         STATUS_SUCCESS);
        } else {
            CHECK_STATUS(WDKM_RESOURCE_CREATE(&Zero, (PWDKM_RESOURCE *)&Holder.Lock),
                         STATUS_SUCCESS);
        }
        KeInitializeEvent(&Holder.Held, NotificationEvent, FALSE);
        KeInitializeEvent(&Holder.Release, NotificationEvent, FALSE);
        Thread = WdkmTestStartThread(HoldShared, &Holder);
        CHECK(Thread != NULL);
        (VOID)KeWaitForSingleObject(&Holder.Held, Executive, KernelMode, FALSE, NULL);
        Stray = Holder.PushLock ? WdkmPushLockRelease((PWDKM_PUSH_LOCK)Holder.Lock)
                                : WdkmResourceRelease((PWDKM_RESOURCE)Holder.Lock);
        ApcsDisabled = KeAreApcsDisabled();
        if (ApcsDisabled) {
            KeEnterCriticalRegion();              /* undo the unfixed library's leave */
        }
        (VOID)KeSetEvent(&Holder.Release, 0, FALSE);
        WdkmTestJoinThread(Thread);
        CHECK_STATUS(Stray, STATUS_WDKM_NOT_OWNER);
        CHECK(!ApcsDisabled);
        CHECK_STATUS(Holder.Status, STATUS_SUCCESS);
        CHECK(!Holder.ApcsDisabledAfter);
        if (Holder.PushLock) {
            CHECK_STATUS(WdkmPushLockRelease((PWDKM_PUSH_LOCK)Holder.Lock), STATUS_WDKM_NOT_HELD);
            CHECK_STATUS(WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Holder.Lock), STATUS_SUCCESS);
        } else {
            CHECK_STATUS(WdkmResourceRelease((PWDKM_RESOURCE)Holder.Lock), STATUS_WDKM_NOT_HELD);
            CHECK_STATUS(WdkmResourceDestroy((PWDKM_RESOURCE)Holder.Lock), STATUS_SUCCESS);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Regions                                                                */

typedef struct _FOREIGN_LEAVE {
    WDKM_REGION *Region;
    NTSTATUS Status;
} FOREIGN_LEAVE;

static VOID
LeaveOtherThreadsRegion(PVOID Context, ULONG Index)
{
    FOREIGN_LEAVE *Leave = (FOREIGN_LEAVE *)Context;

    UNREFERENCED_PARAMETER(Index);
    Leave->Status = WdkmRegionLeave(Leave->Region);
}

static VOID
RegionsNestAndReportMisuse(VOID)
{
    WDKM_REGION Outer;
    WDKM_REGION Inner;
    WDKM_REGION Never;
    FOREIGN_LEAVE Leave;
    NTSTATUS Status;
    KIRQL OldIrql;
    int Runs = 0;

    RtlZeroMemory(&Never, sizeof(Never));
    CHECK_STATUS(WdkmRegionLeave(&Never), STATUS_WDKM_NOT_HELD);   /* leave without enter */
    CHECK_STATUS(WdkmRegionLeave(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmRegionEnterCritical(&Outer), STATUS_SUCCESS);
    CHECK(KeAreApcsDisabled());
    CHECK(!KeAreAllApcsDisabled());
    CHECK_STATUS(WdkmRegionEnterGuarded(&Inner), STATUS_SUCCESS);
    CHECK(KeAreAllApcsDisabled());

    Leave.Region = &Inner;
    CHECK(WdkmTestRunThreads(1, LeaveOtherThreadsRegion, &Leave));
    CHECK_STATUS(Leave.Status, STATUS_WDKM_NOT_OWNER);

    CHECK_STATUS(WdkmRegionLeave(&Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionLeave(&Inner), STATUS_WDKM_NOT_HELD);     /* twice */
    CHECK(!KeAreAllApcsDisabled());
    CHECK(KeAreApcsDisabled());
    CHECK_STATUS(WdkmRegionLeave(&Outer), STATUS_SUCCESS);
    CHECK(!KeAreApcsDisabled());

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WdkmRegionEnterCritical(&Outer);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);

    WDKM_CRITICAL_REGION_SCOPED(&Status) {
        Runs += KeAreApcsDisabled() ? 1 : 100;
        WDKM_GUARDED_REGION_SCOPED(&Status) {
            Runs += KeAreAllApcsDisabled() ? 1 : 100;
        }
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Runs, 2);
    CHECK(!KeAreApcsDisabled());
}

/* ---------------------------------------------------------------------- */
/* Registry                                                               */

static VOID
RegistryTakesEveryKind(VOID)
{
    static const WDKM_LOCK_KIND Kinds[] = {
        WdkmLockKindSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource, WdkmLockKindPushLock,
    };
    static const PCSTR Names[] = { "spin", "guarded", "resource", "push" };
    PWDKM_QUEUED_SPIN_LOCK Queued;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_GRT_REPORT Report;
    COUNTER *Data;
    NTSTATUS Status;
    ULONG Index;
    int Pass;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < sizeof(Kinds) / sizeof(Kinds[0]); Index += 1) {
        CHECK_STATUS(WDKM_GRT_REGISTER(Names[Index], Kinds[Index], &Zero), STATUS_SUCCESS);
        for (Pass = 0; Pass < 3; Pass += 1) {
            WDKM_GRT_SCOPED(Names[Index], Kinds[Index], Data, &Status) {
                Data->Value += 1;
            }
            CHECK_STATUS(Status, STATUS_SUCCESS);
        }
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK(!KeAreApcsDisabled());
        WDKM_GRT_SCOPED(Names[Index], Kinds[Index], Data, &Status) {
            CHECK_EQ(Data->Value, 3);
        }
        WDKM_GRT_SCOPED(Names[Index], WdkmLockKindKMutex, Data, &Status) {
            CHECK(FALSE);
        }
        CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
    }

    /* The queued kind registers and is looked up, but needs its handle. */
    CHECK_STATUS(WDKM_GRT_REGISTER("queued", WdkmLockKindQueuedSpinLock, &Zero), STATUS_SUCCESS);
    WDKM_GRT_SCOPED("queued", WdkmLockKindQueuedSpinLock, Data, &Status) {
        CHECK(FALSE);
    }
    CHECK_STATUS(Status, STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WDKM_GRT_GET_QUEUED_SPIN_LOCK("queued", COUNTER, &Queued), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Queued, &Handle, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Queued), STATUS_WDKM_OWNED_BY_REGISTRY);
    CHECK_STATUS(WdkmGrtDereference(Queued), STATUS_SUCCESS);

    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.Freed, 5);
}

static const WDKM_TEST_CASE KindCases[] = {
    { "spin_lock_raises_and_restores", SpinLockRaisesAndRestores },
    { "spin_lock_checks_irql_and_forms", SpinLockChecksIrqlAndForms },
    { "sleeping_lock_under_spin_lock_is_refused", SleepingLockUnderSpinLockIsRefused },
    { "spin_lock_try", SpinLockTry },
    { "spin_lock_from_dpc", SpinLockFromDpc },
    { "queued_spin_lock", QueuedSpinLock },
    { "spin_lock_errors_clear_data", SpinLockErrorsClearData },
    { "queued_refusal_keeps_the_holding_handle", QueuedRefusalKeepsTheHoldingHandle },
    { "spin_lock_out_of_order_release", SpinLockOutOfOrderRelease },
    { "stray_shared_release_is_refused", StraySharedReleaseIsRefused },
    { "push_lock_many_readers", PushLockManyReaders },
    { "every_kind_counts_exactly", EveryKindCountsExactly },
    { "guarded_mutex_rules", GuardedMutexRules },
    { "resource_rules", ResourceRules },
    { "readers_overlap", ReadersOverlap },
    { "push_lock_rules", PushLockRules },
    { "regions_nest_and_report_misuse", RegionsNestAndReportMisuse },
    { "registry_takes_every_kind", RegistryTakesEveryKind },
};

const WDKM_TEST_SUITE WdkmKindsSuite = WDKM_TEST_SUITE_OF("kinds", KindCases);
