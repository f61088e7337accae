/*
 * test_misuse.c - the misuse catalogue: one table, one row per documented
 * misuse (README.md, "Functions, IRQL limits and errors"), each with the
 * status the README promises. A row sets up, makes the wrong call,
 * tears down and returns the wrong call's status; the runner compares it
 * and checks that no bug check was raised (a trap catches one) and that no
 * library pool block is left behind.
 */
#include "wdkm_test.h"

#include <stdio.h>
#include <string.h>

typedef struct _COUNTER {
    LONG Value;
    LONG Spare;
} COUNTER;

static const COUNTER Zero = { 0, 0 };

/* A setup or teardown step failed: the row's status is this sentinel. */
#define ROW_SETUP_FAILED ((NTSTATUS)0xDEAD0001L)
static PCSTR RowSetupStep;

#define SETUP(Expression)                                                  \
    do {                                                                   \
        if ((Expression) != STATUS_SUCCESS) {                              \
            RowSetupStep = #Expression;                                    \
            return ROW_SETUP_FAILED;                                       \
        }                                                                  \
    } while (0)

/* Teardown: a failure is recorded, the misuse status still returned. */
#define TEARDOWN(Expression)                                               \
    do {                                                                   \
        if ((Expression) != STATUS_SUCCESS && RowSetupStep == NULL) {      \
            RowSetupStep = #Expression;                                    \
        }                                                                  \
    } while (0)

static KIRQL
Raise(KIRQL Level)
{
    KIRQL Old;

    KeRaiseIrql(Level, &Old);
    return Old;
}

/* Runs Routine(Argument) on another system thread and returns its status. */
typedef NTSTATUS OTHER_ROUTINE(PVOID Argument);

typedef struct _OTHER_CALL {
    OTHER_ROUTINE *Routine;
    PVOID Argument;
    NTSTATUS Status;
} OTHER_CALL;

static VOID
OtherThread(PVOID Context, ULONG Index)
{
    OTHER_CALL *Call = (OTHER_CALL *)Context;

    (VOID)Index;
    Call->Status = Call->Routine(Call->Argument);
}

static NTSTATUS
OnOtherThread(OTHER_ROUTINE *Routine, PVOID Argument)
{
    OTHER_CALL Call;

    Call.Routine = Routine;
    Call.Argument = Argument;
    Call.Status = ROW_SETUP_FAILED;
    if (!WdkmTestRunThreads(1, OtherThread, &Call)) {
        RowSetupStep = "WdkmTestRunThreads";
        return ROW_SETUP_FAILED;
    }
    return Call.Status;
}


/*
 * Another thread holds a lock while this one misuses it: the holder runs
 * Acquire(Lock), says so, spins (it may be at DISPATCH_LEVEL, where it must
 * not wait) until this thread is done, then runs Release(Lock).
 */
typedef struct _HOLDER {
    OTHER_ROUTINE *Acquire;
    OTHER_ROUTINE *Release;
    PVOID Lock;
    LONG Held;          /* 1 held, -1 acquire failed */
    LONG Go;
    NTSTATUS ReleaseStatus;
} HOLDER;

static VOID
HolderThread(PVOID Context, ULONG Index)
{
    HOLDER *Holder = (HOLDER *)Context;

    (VOID)Index;
    if (Holder->Acquire(Holder->Lock) != STATUS_SUCCESS) {
        __atomic_store_n(&Holder->Held, -1, __ATOMIC_RELEASE);
        return;
    }
    __atomic_store_n(&Holder->Held, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&Holder->Go, __ATOMIC_ACQUIRE) == 0) {
        /* spin: no waiting at DISPATCH_LEVEL */
    }
    Holder->ReleaseStatus = Holder->Release(Holder->Lock);
}

static NTSTATUS
WhileOtherThreadHolds(OTHER_ROUTINE *Acquire, OTHER_ROUTINE *Release, PVOID Lock,
                      OTHER_ROUTINE *Misuse)
{
    HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    NTSTATUS Status = ROW_SETUP_FAILED;

    memset(&Holder, 0, sizeof(Holder));
    Holder.Acquire = Acquire;
    Holder.Release = Release;
    Holder.Lock = Lock;
    Thread = WdkmTestStartThread(HolderThread, &Holder);
    if (Thread == NULL) {
        RowSetupStep = "WdkmTestStartThread";
        return ROW_SETUP_FAILED;
    }
    while (__atomic_load_n(&Holder.Held, __ATOMIC_ACQUIRE) == 0) {
        WdkmTestSleepMs(1);
    }
    if (Holder.Held == 1) {
        Status = Misuse(Lock);
    } else {
        RowSetupStep = "holder's acquire";
    }
    __atomic_store_n(&Holder.Go, 1, __ATOMIC_RELEASE);
    WdkmTestJoinThread(Thread);
    if (Holder.Held == 1) {
        TEARDOWN(Holder.ReleaseStatus);
    }
    return Status;
}

static LARGE_INTEGER
Ms(LONG Milliseconds)
{
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Milliseconds);
    return Timeout;
}

static NTSTATUS
DestroyRegistry(VOID)
{
    LARGE_INTEGER Timeout = Ms(1000);

    return WdkmGrtDestroy(&Timeout, NULL);
}

/* ====================================================================== */
/* WDKM_KMUTEX                                                            */
/* ====================================================================== */

static NTSTATUS
KMutexCreateNullValue(VOID)
{
    PWDKM_KMUTEX Lock;

    return WdkmKMutexCreate(NULL, sizeof(COUNTER), &Lock);
}

static NTSTATUS
KMutexCreateZeroSize(VOID)
{
    PWDKM_KMUTEX Lock;

    return WdkmKMutexCreate(&Zero, 0, &Lock);
}

static NTSTATUS
KMutexCreateOversized(VOID)
{
    PWDKM_KMUTEX Lock;

    return WdkmKMutexCreate(&Zero, (SIZE_T)WDKM_MAX_DATA_SIZE + 1, &Lock);
}

static NTSTATUS
KMutexCreateNullOut(VOID)
{
    return WdkmKMutexCreate(&Zero, sizeof(Zero), NULL);
}

static NTSTATUS
KMutexCreateAtHigh(VOID)
{
    PWDKM_KMUTEX Lock;
    KIRQL Old = Raise(HIGH_LEVEL);
    NTSTATUS Status = WDKM_KMUTEX_CREATE(&Zero, &Lock);

    KeLowerIrql(Old);
    return Status;
}

static NTSTATUS
KMutexAcquireAtDispatch(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    Old = Raise(DISPATCH_LEVEL);
    Status = WDKM_KMUTEX_ACQUIRE(Lock, &Data);
    KeLowerIrql(Old);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexAcquireWrongType(VOID)
{
    PWDKM_KMUTEX Lock;
    LONG *Data;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    Status = WDKM_KMUTEX_ACQUIRE(Lock, &Data);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexAcquireNullLock(VOID)
{
    PVOID Data;

    return WdkmKMutexAcquire(NULL, sizeof(COUNTER), &Data);
}

static NTSTATUS
KMutexAcquireNullData(VOID)
{
    PWDKM_KMUTEX Lock;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    Status = WdkmKMutexAcquire(Lock, sizeof(COUNTER), NULL);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexTryAcquireAtHigh(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    Old = Raise(HIGH_LEVEL);
    Status = WDKM_KMUTEX_TRY_ACQUIRE(Lock, &Data);
    KeLowerIrql(Old);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexTimeoutNull(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    Status = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Lock, NULL, &Data);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexTimeoutNonZeroAtDispatch(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    LARGE_INTEGER Timeout = Ms(10);
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    Old = Raise(DISPATCH_LEVEL);
    Status = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Lock, &Timeout, &Data);
    KeLowerIrql(Old);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexAlertableBadWaitMode(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    Status = WDKM_KMUTEX_ACQUIRE_ALERTABLE(Lock, (KPROCESSOR_MODE)7, NULL, &Data);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
ReleaseKMutexOther(PVOID Lock)
{
    return WdkmKMutexRelease((PWDKM_KMUTEX)Lock);
}

static NTSTATUS
KMutexReleaseNotOwner(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_KMUTEX_ACQUIRE(Lock, &Data));
    Status = OnOtherThread(ReleaseKMutexOther, Lock);
    TEARDOWN(WdkmKMutexRelease(Lock));
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexReleaseTwice(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_KMUTEX_ACQUIRE(Lock, &Data));
    SETUP(WdkmKMutexRelease(Lock));
    Status = WdkmKMutexRelease(Lock);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexReleaseOtherIrqlClass(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_KMUTEX_ACQUIRE(Lock, &Data));
    Old = Raise(DISPATCH_LEVEL);
    Status = WdkmKMutexRelease(Lock);
    KeLowerIrql(Old);
    TEARDOWN(WdkmKMutexRelease(Lock));
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexReleaseAtHigh(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_KMUTEX_ACQUIRE(Lock, &Data));
    Old = Raise(HIGH_LEVEL);
    Status = WdkmKMutexRelease(Lock);
    KeLowerIrql(Old);
    TEARDOWN(WdkmKMutexRelease(Lock));
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexDestroyHeld(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_KMUTEX_ACQUIRE(Lock, &Data));
    Status = WdkmKMutexDestroy(Lock);
    TEARDOWN(WdkmKMutexRelease(Lock));
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexDestroyAtHigh(VOID)
{
    PWDKM_KMUTEX Lock;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    Old = Raise(HIGH_LEVEL);
    Status = WdkmKMutexDestroy(Lock);
    KeLowerIrql(Old);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexTakeWrongType(VOID)
{
    PWDKM_KMUTEX Lock;
    LONG Small;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    Status = WDKM_KMUTEX_TAKE(Lock, &Small);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexTakeHeld(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    COUNTER Out;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_KMUTEX_ACQUIRE(Lock, &Data));
    Status = WDKM_KMUTEX_TAKE(Lock, &Out);
    TEARDOWN(WdkmKMutexRelease(Lock));
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexDestroyOfFastMutex(VOID)
{
    PWDKM_FAST_MUTEX Lock;
    NTSTATUS Status;

    SETUP(WDKM_FAST_MUTEX_CREATE(&Zero, &Lock));
    Status = WdkmKMutexDestroy((PWDKM_KMUTEX)(PVOID)Lock);
    TEARDOWN(WdkmFastMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
KMutexAcquireWhileSpinLockHeld(VOID)
{
    PWDKM_KMUTEX Lock;
    PWDKM_SPIN_LOCK Spin;
    COUNTER *Data;
    COUNTER *SpinData;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_SPIN_LOCK_CREATE(&Zero, &Spin));
    SETUP(WDKM_SPIN_LOCK_ACQUIRE(Spin, &Old, &SpinData));
    Status = WDKM_KMUTEX_ACQUIRE(Lock, &Data);
    TEARDOWN(WdkmSpinLockRelease(Spin, Old));
    TEARDOWN(WdkmSpinLockDestroy(Spin));
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

/* ====================================================================== */
/* WDKM_FAST_MUTEX                                                        */
/* ====================================================================== */

static NTSTATUS
FastMutexCreateZeroSize(VOID)
{
    PWDKM_FAST_MUTEX Lock;

    return WdkmFastMutexCreate(&Zero, 0, &Lock);
}

static NTSTATUS
FastMutexAcquireAtDispatch(VOID)
{
    PWDKM_FAST_MUTEX Lock;
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_FAST_MUTEX_CREATE(&Zero, &Lock));
    Old = Raise(DISPATCH_LEVEL);
    Status = WDKM_FAST_MUTEX_ACQUIRE(Lock, &Data);
    KeLowerIrql(Old);
    TEARDOWN(WdkmFastMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
FastMutexTryAcquireAtDispatch(VOID)
{
    PWDKM_FAST_MUTEX Lock;
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_FAST_MUTEX_CREATE(&Zero, &Lock));
    Old = Raise(DISPATCH_LEVEL);
    Status = WDKM_FAST_MUTEX_TRY_ACQUIRE(Lock, &Data);
    KeLowerIrql(Old);
    TEARDOWN(WdkmFastMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
FastMutexRecursion(VOID)
{
    PWDKM_FAST_MUTEX Lock;
    COUNTER *Data;
    COUNTER *Again;
    NTSTATUS Status;

    SETUP(WDKM_FAST_MUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_FAST_MUTEX_ACQUIRE(Lock, &Data));
    Status = WDKM_FAST_MUTEX_ACQUIRE(Lock, &Again);
    TEARDOWN(WdkmFastMutexRelease(Lock));
    TEARDOWN(WdkmFastMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
FastMutexAcquireWrongType(VOID)
{
    PWDKM_FAST_MUTEX Lock;
    LONG *Data;
    NTSTATUS Status;

    SETUP(WDKM_FAST_MUTEX_CREATE(&Zero, &Lock));
    Status = WDKM_FAST_MUTEX_ACQUIRE(Lock, &Data);
    TEARDOWN(WdkmFastMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
ReleaseFastMutexOtherAtApc(PVOID Lock)
{
    KIRQL Old = Raise(APC_LEVEL);
    NTSTATUS Status = WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock);

    KeLowerIrql(Old);
    return Status;
}

static NTSTATUS
AcquireFastMutexOther(PVOID Lock)
{
    COUNTER *Data;

    return WDKM_FAST_MUTEX_ACQUIRE((PWDKM_FAST_MUTEX)Lock, &Data);
}

static NTSTATUS
ReleaseFastMutexPlain(PVOID Lock)
{
    return WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock);
}

static NTSTATUS
FastMutexReleaseNotOwner(VOID)
{
    PWDKM_FAST_MUTEX Lock;
    NTSTATUS Status;

    SETUP(WDKM_FAST_MUTEX_CREATE(&Zero, &Lock));
    Status = WhileOtherThreadHolds(AcquireFastMutexOther, ReleaseFastMutexPlain, Lock,
                                   ReleaseFastMutexOtherAtApc);
    TEARDOWN(WdkmFastMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
FastMutexReleaseTwice(VOID)
{
    PWDKM_FAST_MUTEX Lock;
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_FAST_MUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_FAST_MUTEX_ACQUIRE(Lock, &Data));
    SETUP(WdkmFastMutexRelease(Lock));
    Old = Raise(APC_LEVEL);
    Status = WdkmFastMutexRelease(Lock);
    KeLowerIrql(Old);
    TEARDOWN(WdkmFastMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
FastMutexReleaseAtDispatch(VOID)
{
    PWDKM_FAST_MUTEX Lock;
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_FAST_MUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_FAST_MUTEX_ACQUIRE(Lock, &Data));
    Old = Raise(DISPATCH_LEVEL);
    Status = WdkmFastMutexRelease(Lock);
    KeLowerIrql(Old);
    TEARDOWN(WdkmFastMutexRelease(Lock));
    TEARDOWN(WdkmFastMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
FastMutexDestroyHeld(VOID)
{
    PWDKM_FAST_MUTEX Lock;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WDKM_FAST_MUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_FAST_MUTEX_ACQUIRE(Lock, &Data));
    Status = WdkmFastMutexDestroy(Lock);
    TEARDOWN(WdkmFastMutexRelease(Lock));
    TEARDOWN(WdkmFastMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
FastMutexDestroyOfKMutex(VOID)
{
    PWDKM_KMUTEX Lock;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    Status = WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)(PVOID)Lock);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

/* ====================================================================== */
/* WDKM_SPIN_LOCK, WDKM_QUEUED_SPIN_LOCK                                  */
/* ====================================================================== */

static NTSTATUS
SpinLockCreateOversized(VOID)
{
    PWDKM_SPIN_LOCK Lock;

    return WdkmSpinLockCreate(&Zero, (SIZE_T)WDKM_MAX_DATA_SIZE + 1, &Lock);
}

static NTSTATUS
SpinLockRecursion(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    COUNTER *Data;
    COUNTER *Again;
    KIRQL Old;
    KIRQL Old2;
    NTSTATUS Status;

    SETUP(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock));
    SETUP(WDKM_SPIN_LOCK_ACQUIRE(Lock, &Old, &Data));
    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &Old2, &Again);
    TEARDOWN(WdkmSpinLockRelease(Lock, Old));
    TEARDOWN(WdkmSpinLockDestroy(Lock));
    return Status;
}

static NTSTATUS
SpinLockAcquireAtHigh(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    COUNTER *Data;
    KIRQL Old;
    KIRQL Saved;
    NTSTATUS Status;

    SETUP(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock));
    Saved = Raise(HIGH_LEVEL);
    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &Old, &Data);
    KeLowerIrql(Saved);
    TEARDOWN(WdkmSpinLockDestroy(Lock));
    return Status;
}

static NTSTATUS
ReleaseSpinLockOther(PVOID Lock)
{
    KIRQL Old = Raise(DISPATCH_LEVEL);
    NTSTATUS Status = WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, PASSIVE_LEVEL);

    KeLowerIrql(Old);
    return Status;
}

static NTSTATUS
AcquireSpinLockOther(PVOID Lock)
{
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status = WDKM_SPIN_LOCK_ACQUIRE((PWDKM_SPIN_LOCK)Lock, &Old, &Data);

    return Old == PASSIVE_LEVEL ? Status : ROW_SETUP_FAILED;
}

static NTSTATUS
ReleaseSpinLockPlain(PVOID Lock)
{
    return WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, PASSIVE_LEVEL);
}

static NTSTATUS
SpinLockReleaseNotOwner(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    NTSTATUS Status;

    SETUP(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock));
    Status = WhileOtherThreadHolds(AcquireSpinLockOther, ReleaseSpinLockPlain, Lock,
                                   ReleaseSpinLockOther);
    TEARDOWN(WdkmSpinLockDestroy(Lock));
    return Status;
}

static NTSTATUS
SpinLockReleaseTwice(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    COUNTER *Data;
    KIRQL Old;
    KIRQL Saved;
    NTSTATUS Status;

    SETUP(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock));
    SETUP(WDKM_SPIN_LOCK_ACQUIRE(Lock, &Old, &Data));
    SETUP(WdkmSpinLockRelease(Lock, Old));
    Saved = Raise(DISPATCH_LEVEL);
    Status = WdkmSpinLockRelease(Lock, Saved);
    KeLowerIrql(Saved);
    TEARDOWN(WdkmSpinLockDestroy(Lock));
    return Status;
}

static NTSTATUS
SpinLockReleaseOldIrqlTooHigh(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock));
    SETUP(WDKM_SPIN_LOCK_ACQUIRE(Lock, &Old, &Data));
    Status = WdkmSpinLockRelease(Lock, HIGH_LEVEL);
    TEARDOWN(WdkmSpinLockRelease(Lock, Old));
    TEARDOWN(WdkmSpinLockDestroy(Lock));
    return Status;
}

static NTSTATUS
SpinLockAtDpcReleasedPlain(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    COUNTER *Data;
    KIRQL Saved;
    NTSTATUS Status;

    SETUP(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock));
    Saved = Raise(DISPATCH_LEVEL);
    SETUP(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data));
    Status = WdkmSpinLockRelease(Lock, Saved);
    TEARDOWN(WdkmSpinLockReleaseFromDpcLevel(Lock));
    KeLowerIrql(Saved);
    TEARDOWN(WdkmSpinLockDestroy(Lock));
    return Status;
}

static NTSTATUS
SpinLockAtDpcBelowDispatch(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock));
    Status = WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Lock, &Data);
    TEARDOWN(WdkmSpinLockDestroy(Lock));
    return Status;
}

static NTSTATUS
SpinLockDestroyHeld(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_SPIN_LOCK_CREATE(&Zero, &Lock));
    SETUP(WDKM_SPIN_LOCK_ACQUIRE(Lock, &Old, &Data));
    Status = WdkmSpinLockDestroy(Lock);
    TEARDOWN(WdkmSpinLockRelease(Lock, Old));
    TEARDOWN(WdkmSpinLockDestroy(Lock));
    return Status;
}

static NTSTATUS
QueuedReleaseTwice(VOID)
{
    PWDKM_QUEUED_SPIN_LOCK Lock;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    COUNTER *Data;
    KIRQL Saved;
    NTSTATUS Status;

    SETUP(WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, &Lock));
    SETUP(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data));
    SETUP(WdkmQueuedSpinLockRelease(&Handle));
    Saved = Raise(DISPATCH_LEVEL);
    Status = WdkmQueuedSpinLockRelease(&Handle);
    KeLowerIrql(Saved);
    TEARDOWN(WdkmQueuedSpinLockDestroy(Lock));
    return Status;
}

static NTSTATUS
QueuedRecursion(VOID)
{
    PWDKM_QUEUED_SPIN_LOCK Lock;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_LOCK_QUEUE_HANDLE Handle2;
    COUNTER *Data;
    COUNTER *Again;
    NTSTATUS Status;

    SETUP(WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, &Lock));
    SETUP(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data));
    Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle2, &Again);
    TEARDOWN(WdkmQueuedSpinLockRelease(&Handle));
    TEARDOWN(WdkmQueuedSpinLockDestroy(Lock));
    return Status;
}

static NTSTATUS
QueuedAcquireWrongType(VOID)
{
    PWDKM_QUEUED_SPIN_LOCK Lock;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    LONG *Data;
    NTSTATUS Status;

    SETUP(WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, &Lock));
    Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data);
    TEARDOWN(WdkmQueuedSpinLockDestroy(Lock));
    return Status;
}

static NTSTATUS
QueuedDestroyHeld(VOID)
{
    PWDKM_QUEUED_SPIN_LOCK Lock;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, &Lock));
    SETUP(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Data));
    Status = WdkmQueuedSpinLockDestroy(Lock);
    TEARDOWN(WdkmQueuedSpinLockRelease(&Handle));
    TEARDOWN(WdkmQueuedSpinLockDestroy(Lock));
    return Status;
}

/* ====================================================================== */
/* WDKM_GUARDED_MUTEX                                                     */
/* ====================================================================== */

static NTSTATUS
GuardedRecursion(VOID)
{
    PWDKM_GUARDED_MUTEX Lock;
    COUNTER *Data;
    COUNTER *Again;
    NTSTATUS Status;

    SETUP(WDKM_GUARDED_MUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_GUARDED_MUTEX_ACQUIRE(Lock, &Data));
    Status = WDKM_GUARDED_MUTEX_ACQUIRE(Lock, &Again);
    TEARDOWN(WdkmGuardedMutexRelease(Lock));
    TEARDOWN(WdkmGuardedMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
GuardedAcquireAtDispatch(VOID)
{
    PWDKM_GUARDED_MUTEX Lock;
    COUNTER *Data;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_GUARDED_MUTEX_CREATE(&Zero, &Lock));
    Old = Raise(DISPATCH_LEVEL);
    Status = WDKM_GUARDED_MUTEX_ACQUIRE(Lock, &Data);
    KeLowerIrql(Old);
    TEARDOWN(WdkmGuardedMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
GuardedReleaseTwice(VOID)
{
    PWDKM_GUARDED_MUTEX Lock;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WDKM_GUARDED_MUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_GUARDED_MUTEX_ACQUIRE(Lock, &Data));
    SETUP(WdkmGuardedMutexRelease(Lock));
    Status = WdkmGuardedMutexRelease(Lock);
    TEARDOWN(WdkmGuardedMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
ReleaseGuardedOther(PVOID Lock)
{
    return WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Lock);
}

static NTSTATUS
GuardedReleaseNotOwner(VOID)
{
    PWDKM_GUARDED_MUTEX Lock;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WDKM_GUARDED_MUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_GUARDED_MUTEX_ACQUIRE(Lock, &Data));
    Status = OnOtherThread(ReleaseGuardedOther, Lock);
    TEARDOWN(WdkmGuardedMutexRelease(Lock));
    TEARDOWN(WdkmGuardedMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
GuardedDestroyHeld(VOID)
{
    PWDKM_GUARDED_MUTEX Lock;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WDKM_GUARDED_MUTEX_CREATE(&Zero, &Lock));
    SETUP(WDKM_GUARDED_MUTEX_ACQUIRE(Lock, &Data));
    Status = WdkmGuardedMutexDestroy(Lock);
    TEARDOWN(WdkmGuardedMutexRelease(Lock));
    TEARDOWN(WdkmGuardedMutexDestroy(Lock));
    return Status;
}

/* ====================================================================== */
/* WDKM_RESOURCE, WDKM_PUSH_LOCK                                          */
/* ====================================================================== */

static NTSTATUS
ResourceSharedThenExclusive(VOID)
{
    PWDKM_RESOURCE Lock;
    const COUNTER *Read;
    COUNTER *Write;
    NTSTATUS Status;

    SETUP(WDKM_RESOURCE_CREATE(&Zero, &Lock));
    SETUP(WDKM_RESOURCE_ACQUIRE_SHARED(Lock, &Read));
    Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Lock, &Write);
    TEARDOWN(WdkmResourceRelease(Lock));
    TEARDOWN(WdkmResourceDestroy(Lock));
    return Status;
}

static NTSTATUS
ResourceExclusiveAtDispatch(VOID)
{
    PWDKM_RESOURCE Lock;
    COUNTER *Write;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_RESOURCE_CREATE(&Zero, &Lock));
    Old = Raise(DISPATCH_LEVEL);
    Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Lock, &Write);
    KeLowerIrql(Old);
    TEARDOWN(WdkmResourceDestroy(Lock));
    return Status;
}

static NTSTATUS
ResourceSharedWrongType(VOID)
{
    PWDKM_RESOURCE Lock;
    const LONG *Read;
    NTSTATUS Status;

    SETUP(WDKM_RESOURCE_CREATE(&Zero, &Lock));
    Status = WDKM_RESOURCE_ACQUIRE_SHARED(Lock, &Read);
    TEARDOWN(WdkmResourceDestroy(Lock));
    return Status;
}

static NTSTATUS
ResourceDestroyWhileRead(VOID)
{
    PWDKM_RESOURCE Lock;
    const COUNTER *Read;
    NTSTATUS Status;

    SETUP(WDKM_RESOURCE_CREATE(&Zero, &Lock));
    SETUP(WDKM_RESOURCE_ACQUIRE_SHARED(Lock, &Read));
    Status = WdkmResourceDestroy(Lock);
    TEARDOWN(WdkmResourceRelease(Lock));
    TEARDOWN(WdkmResourceDestroy(Lock));
    return Status;
}

static NTSTATUS
ResourceDestroyAtDispatch(VOID)
{
    PWDKM_RESOURCE Lock;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_RESOURCE_CREATE(&Zero, &Lock));
    Old = Raise(DISPATCH_LEVEL);
    Status = WdkmResourceDestroy(Lock);
    KeLowerIrql(Old);
    TEARDOWN(WdkmResourceDestroy(Lock));
    return Status;
}

static NTSTATUS
ResourceReleaseNotHeld(VOID)
{
    PWDKM_RESOURCE Lock;
    NTSTATUS Status;

    SETUP(WDKM_RESOURCE_CREATE(&Zero, &Lock));
    Status = WdkmResourceRelease(Lock);
    TEARDOWN(WdkmResourceDestroy(Lock));
    return Status;
}

static NTSTATUS
ReleaseResourceOther(PVOID Lock)
{
    return WdkmResourceRelease((PWDKM_RESOURCE)Lock);
}

static NTSTATUS
ResourceReleaseNotOwner(VOID)
{
    PWDKM_RESOURCE Lock;
    COUNTER *Write;
    NTSTATUS Status;

    SETUP(WDKM_RESOURCE_CREATE(&Zero, &Lock));
    SETUP(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Lock, &Write));
    Status = OnOtherThread(ReleaseResourceOther, Lock);
    TEARDOWN(WdkmResourceRelease(Lock));
    TEARDOWN(WdkmResourceDestroy(Lock));
    return Status;
}

static NTSTATUS
PushLockExclusiveRecursion(VOID)
{
    PWDKM_PUSH_LOCK Lock;
    COUNTER *Write;
    COUNTER *Again;
    NTSTATUS Status;

    SETUP(WDKM_PUSH_LOCK_CREATE(&Zero, &Lock));
    SETUP(WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(Lock, &Write));
    Status = WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(Lock, &Again);
    TEARDOWN(WdkmPushLockRelease(Lock));
    TEARDOWN(WdkmPushLockDestroy(Lock));
    return Status;
}

static NTSTATUS
PushLockReleaseNotHeld(VOID)
{
    PWDKM_PUSH_LOCK Lock;
    NTSTATUS Status;

    SETUP(WDKM_PUSH_LOCK_CREATE(&Zero, &Lock));
    Status = WdkmPushLockRelease(Lock);
    TEARDOWN(WdkmPushLockDestroy(Lock));
    return Status;
}

static NTSTATUS
PushLockSharedAtDispatch(VOID)
{
    PWDKM_PUSH_LOCK Lock;
    const COUNTER *Read;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WDKM_PUSH_LOCK_CREATE(&Zero, &Lock));
    Old = Raise(DISPATCH_LEVEL);
    Status = WDKM_PUSH_LOCK_ACQUIRE_SHARED(Lock, &Read);
    KeLowerIrql(Old);
    TEARDOWN(WdkmPushLockDestroy(Lock));
    return Status;
}

static NTSTATUS
PushLockDestroyHeld(VOID)
{
    PWDKM_PUSH_LOCK Lock;
    COUNTER *Write;
    NTSTATUS Status;

    SETUP(WDKM_PUSH_LOCK_CREATE(&Zero, &Lock));
    SETUP(WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(Lock, &Write));
    Status = WdkmPushLockDestroy(Lock);
    TEARDOWN(WdkmPushLockRelease(Lock));
    TEARDOWN(WdkmPushLockDestroy(Lock));
    return Status;
}

/*
 * A release above APC_LEVEL (reference.md: "IRQL: <= APC_LEVEL" for both
 * releases) is refused and changes nothing: the hold is still there, and
 * its release at the acquirer's IRQL works. Exclusive and shared holds
 * take different paths through each release.
 */
static NTSTATUS
ReaderWriterReleaseAtDispatch(BOOLEAN Exclusive, BOOLEAN PushLock)
{
    PWDKM_RESOURCE Resource = NULL;
    PWDKM_PUSH_LOCK Push = NULL;
    const COUNTER *Read;
    COUNTER *Write;
    KIRQL Old;
    NTSTATUS Status;

    if (PushLock) {
        SETUP(WDKM_PUSH_LOCK_CREATE(&Zero, &Push));
        SETUP(Exclusive ? WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(Push, &Write)
                        : WDKM_PUSH_LOCK_ACQUIRE_SHARED(Push, &Read));
    } else {
        SETUP(WDKM_RESOURCE_CREATE(&Zero, &Resource));
        SETUP(Exclusive ? WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Write)
                        : WDKM_RESOURCE_ACQUIRE_SHARED(Resource, &Read));
    }
    Old = Raise(DISPATCH_LEVEL);
    Status = PushLock ? WdkmPushLockRelease(Push) : WdkmResourceRelease(Resource);
    KeLowerIrql(Old);
    if (PushLock) {
        TEARDOWN(WdkmPushLockRelease(Push));
        TEARDOWN(WdkmPushLockDestroy(Push));
    } else {
        TEARDOWN(WdkmResourceRelease(Resource));
        TEARDOWN(WdkmResourceDestroy(Resource));
    }
    return Status;
}

static NTSTATUS
ResourceReleaseAtDispatch(VOID)
{
    return ReaderWriterReleaseAtDispatch(TRUE, FALSE);
}

static NTSTATUS
ResourceSharedReleaseAtDispatch(VOID)
{
    return ReaderWriterReleaseAtDispatch(FALSE, FALSE);
}

static NTSTATUS
PushLockReleaseAtDispatch(VOID)
{
    return ReaderWriterReleaseAtDispatch(TRUE, TRUE);
}

static NTSTATUS
PushLockSharedReleaseAtDispatch(VOID)
{
    return ReaderWriterReleaseAtDispatch(FALSE, TRUE);
}

/* ====================================================================== */
/* Regions                                                                */
/* ====================================================================== */

static NTSTATUS
RegionLeaveNeverEntered(VOID)
{
    WDKM_REGION Region;

    memset(&Region, 0, sizeof(Region));
    return WdkmRegionLeave(&Region);
}

static NTSTATUS
RegionLeaveTwice(VOID)
{
    WDKM_REGION Region;

    SETUP(WdkmRegionEnterCritical(&Region));
    SETUP(WdkmRegionLeave(&Region));
    return WdkmRegionLeave(&Region);
}

static NTSTATUS
RegionEnterAtDispatch(VOID)
{
    WDKM_REGION Region;
    KIRQL Old = Raise(DISPATCH_LEVEL);
    NTSTATUS Status = WdkmRegionEnterGuarded(&Region);

    KeLowerIrql(Old);
    if (Status == STATUS_SUCCESS) {
        TEARDOWN(WdkmRegionLeave(&Region));
    }
    return Status;
}

static NTSTATUS
RegionEnterNull(VOID)
{
    return WdkmRegionEnterCritical(NULL);
}

static NTSTATUS
LeaveRegionOther(PVOID Region)
{
    return WdkmRegionLeave((PWDKM_REGION)Region);
}

static NTSTATUS
RegionLeaveOtherThread(VOID)
{
    WDKM_REGION Region;
    NTSTATUS Status;

    SETUP(WdkmRegionEnterGuarded(&Region));
    Status = OnOtherThread(LeaveRegionOther, &Region);
    TEARDOWN(WdkmRegionLeave(&Region));
    return Status;
}

/* ====================================================================== */
/* Registry                                                               */
/* ====================================================================== */

static NTSTATUS
GrtRegisterBeforeInitialize(VOID)
{
    return WDKM_GRT_REGISTER_KMUTEX("a", &Zero);
}

static NTSTATUS
GrtReferenceBeforeInitialize(VOID)
{
    PWDKM_KMUTEX Lock;

    return WDKM_GRT_GET_KMUTEX("a", COUNTER, &Lock);
}

static NTSTATUS
GrtUnregisterBeforeInitialize(VOID)
{
    return WdkmGrtUnregister("a");
}

static NTSTATUS
GrtDestroyBeforeInitialize(VOID)
{
    return WdkmGrtDestroy(NULL, NULL);
}

static NTSTATUS
GrtInitializeTwice(VOID)
{
    NTSTATUS Status;

    SETUP(WdkmGrtInitialize());
    Status = WdkmGrtInitialize();
    TEARDOWN(DestroyRegistry());
    return Status;
}

static NTSTATUS
GrtRegisterAfterDestroy(VOID)
{
    SETUP(WdkmGrtInitialize());
    SETUP(WDKM_GRT_REGISTER_KMUTEX("a", &Zero));
    SETUP(DestroyRegistry());
    return WDKM_GRT_REGISTER_KMUTEX("b", &Zero);
}

static NTSTATUS
GrtReferenceAfterDestroy(VOID)
{
    PWDKM_KMUTEX Lock;

    SETUP(WdkmGrtInitialize());
    SETUP(WDKM_GRT_REGISTER_KMUTEX("a", &Zero));
    SETUP(DestroyRegistry());
    return WDKM_GRT_GET_KMUTEX("a", COUNTER, &Lock);
}

static NTSTATUS
GrtInitializeAtApc(VOID)
{
    KIRQL Old = Raise(APC_LEVEL);
    NTSTATUS Status = WdkmGrtInitialize();

    KeLowerIrql(Old);
    if (Status == STATUS_SUCCESS) {
        TEARDOWN(DestroyRegistry());
    }
    return Status;
}

static NTSTATUS
GrtDestroyAtApc(VOID)
{
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WdkmGrtInitialize());
    Old = Raise(APC_LEVEL);
    Status = WdkmGrtDestroy(NULL, NULL);
    KeLowerIrql(Old);
    TEARDOWN(DestroyRegistry());
    return Status;
}

static NTSTATUS
GrtRegisterAtDispatch(VOID)
{
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WdkmGrtInitialize());
    Old = Raise(DISPATCH_LEVEL);
    Status = WDKM_GRT_REGISTER_KMUTEX("a", &Zero);
    KeLowerIrql(Old);
    TEARDOWN(DestroyRegistry());
    return Status;
}

static NTSTATUS
GrtUnregisterAtDispatch(VOID)
{
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WdkmGrtInitialize());
    SETUP(WDKM_GRT_REGISTER_KMUTEX("a", &Zero));
    Old = Raise(DISPATCH_LEVEL);
    Status = WdkmGrtUnregister("a");
    KeLowerIrql(Old);
    TEARDOWN(DestroyRegistry());
    return Status;
}

static NTSTATUS
GrtReferenceAtHigh(VOID)
{
    PWDKM_KMUTEX Lock;
    KIRQL Old;
    NTSTATUS Status;

    SETUP(WdkmGrtInitialize());
    SETUP(WDKM_GRT_REGISTER_KMUTEX("a", &Zero));
    Old = Raise(HIGH_LEVEL);
    Status = WDKM_GRT_GET_KMUTEX("a", COUNTER, &Lock);
    KeLowerIrql(Old);
    TEARDOWN(DestroyRegistry());
    return Status;
}

/* Registers "a" (a KMUTEX of COUNTER) in a new registry, calls, destroys. */
#define GRT_ROW(RowName, Call)                                             \
    static NTSTATUS                                                        \
    RowName(VOID)                                                          \
    {                                                                      \
        NTSTATUS Status;                                                   \
        SETUP(WdkmGrtInitialize());                                        \
        SETUP(WDKM_GRT_REGISTER_KMUTEX("a", &Zero));                       \
        Status = (Call);                                                   \
        TEARDOWN(DestroyRegistry());                                       \
        return Status;                                                     \
    }

static const CHAR LongName[] =
    "0123456789012345678901234567890123456789012345678901234567890123"; /* 64 */
static PVOID Out;

GRT_ROW(GrtRegisterDuplicate, WDKM_GRT_REGISTER_KMUTEX("a", &Zero))
GRT_ROW(GrtRegisterDuplicateOtherKind, WDKM_GRT_REGISTER(("a"), WdkmLockKindSpinLock, &Zero))
GRT_ROW(GrtRegisterEmptyName, WDKM_GRT_REGISTER_KMUTEX("", &Zero))
GRT_ROW(GrtRegisterNameTooLong, WDKM_GRT_REGISTER_KMUTEX(LongName, &Zero))
GRT_ROW(GrtRegisterNullName, WdkmGrtRegister(NULL, WdkmLockKindKMutex, &Zero, sizeof(Zero), 0))
GRT_ROW(GrtRegisterBadKind, WdkmGrtRegister("b", (WDKM_LOCK_KIND)99, &Zero, sizeof(Zero), 0))
GRT_ROW(GrtRegisterKindZero, WdkmGrtRegister("b", (WDKM_LOCK_KIND)0, &Zero, sizeof(Zero), 0))
GRT_ROW(GrtRegisterBadFlags, WdkmGrtRegister("b", WdkmLockKindKMutex, &Zero, sizeof(Zero), 0x80))
GRT_ROW(GrtRegisterZeroSize, WdkmGrtRegister("b", WdkmLockKindKMutex, &Zero, 0, 0))
GRT_ROW(GrtRegisterOversized, WdkmGrtRegister("b", WdkmLockKindKMutex, &Zero,
                                              (SIZE_T)WDKM_MAX_DATA_SIZE + 1, 0))
GRT_ROW(GrtRegisterNullValue, WdkmGrtRegister("b", WdkmLockKindKMutex, NULL, sizeof(Zero), 0))
GRT_ROW(GrtReferenceMissing, WdkmGrtReference("b", WdkmLockKindKMutex, sizeof(COUNTER), &Out))
GRT_ROW(GrtReferenceWrongKind, WdkmGrtReference("a", WdkmLockKindFastMutex, sizeof(COUNTER), &Out))
GRT_ROW(GrtReferenceWrongSize, WdkmGrtReference("a", WdkmLockKindKMutex, sizeof(LONG), &Out))
GRT_ROW(GrtReferenceEmptyName, WdkmGrtReference("", WdkmLockKindKMutex, sizeof(COUNTER), &Out))
GRT_ROW(GrtReferenceNameTooLong, WdkmGrtReference(LongName, WdkmLockKindKMutex, sizeof(COUNTER), &Out))
GRT_ROW(GrtReferenceNullOut, WdkmGrtReference("a", WdkmLockKindKMutex, sizeof(COUNTER), NULL))
GRT_ROW(GrtUnregisterMissing, WdkmGrtUnregister("b"))
GRT_ROW(GrtUnregisterEmptyName, WdkmGrtUnregister(""))
GRT_ROW(GrtUnregisterTooLong, WdkmGrtUnregister(LongName))

static NTSTATUS
GrtDereferenceWhileHeld(VOID)
{
    PWDKM_KMUTEX Lock;
    COUNTER *Data;
    NTSTATUS Status;

    SETUP(WdkmGrtInitialize());
    SETUP(WDKM_GRT_REGISTER_KMUTEX("a", &Zero));
    SETUP(WDKM_GRT_GET_KMUTEX("a", COUNTER, &Lock));
    SETUP(WDKM_KMUTEX_ACQUIRE(Lock, &Data));
    Status = WdkmGrtDereference(Lock);
    TEARDOWN(WdkmKMutexRelease(Lock));
    TEARDOWN(WdkmGrtDereference(Lock));
    TEARDOWN(DestroyRegistry());
    return Status;
}

static NTSTATUS
GrtDereferenceNotRegistry(VOID)
{
    PWDKM_KMUTEX Lock;
    NTSTATUS Status;

    SETUP(WDKM_KMUTEX_CREATE(&Zero, &Lock));
    Status = WdkmGrtDereference(Lock);
    TEARDOWN(WdkmKMutexDestroy(Lock));
    return Status;
}

static NTSTATUS
GrtKMutexDestroyOfRegistryLock(VOID)
{
    PWDKM_KMUTEX Lock;
    NTSTATUS Status;

    SETUP(WdkmGrtInitialize());
    SETUP(WDKM_GRT_REGISTER_KMUTEX("a", &Zero));
    SETUP(WDKM_GRT_GET_KMUTEX("a", COUNTER, &Lock));
    Status = WdkmKMutexDestroy(Lock);
    TEARDOWN(WdkmGrtDereference(Lock));
    TEARDOWN(DestroyRegistry());
    return Status;
}

static NTSTATUS
GrtSpinLockTakeOfRegistryLock(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    COUNTER Value;
    NTSTATUS Status;

    SETUP(WdkmGrtInitialize());
    SETUP(WDKM_GRT_REGISTER("s", WdkmLockKindSpinLock, &Zero));
    SETUP(WDKM_GRT_GET_SPIN_LOCK("s", COUNTER, &Lock));
    Status = WDKM_SPIN_LOCK_TAKE(Lock, &Value);
    TEARDOWN(WdkmGrtDereference(Lock));
    TEARDOWN(DestroyRegistry());
    return Status;
}

static NTSTATUS
GrtResourceDestroyOfRegistryLock(VOID)
{
    PWDKM_RESOURCE Lock;
    NTSTATUS Status;

    SETUP(WdkmGrtInitialize());
    SETUP(WDKM_GRT_REGISTER("r", WdkmLockKindResource, &Zero));
    SETUP(WDKM_GRT_GET_RESOURCE("r", COUNTER, &Lock));
    Status = WdkmResourceDestroy(Lock);
    TEARDOWN(WdkmGrtDereference(Lock));
    TEARDOWN(DestroyRegistry());
    return Status;
}

static NTSTATUS
GrtScopedQueuedSpinLock(VOID)
{
    NTSTATUS Status = ROW_SETUP_FAILED;
    PVOID Data;

    SETUP(WdkmGrtInitialize());
    SETUP(WDKM_GRT_REGISTER("q", WdkmLockKindQueuedSpinLock, &Zero));
    {
        WDKM_SCOPE Scope = WdkmGrtScopeEnter("q", WdkmLockKindQueuedSpinLock, sizeof(COUNTER),
                                             &Data, &Status);
        WdkmScopeLeave(&Scope);
    }
    TEARDOWN(DestroyRegistry());
    return Status;
}

static NTSTATUS
GrtScopedAtDispatchKMutex(VOID)
{
    NTSTATUS Status = ROW_SETUP_FAILED;
    PVOID Data;
    KIRQL Old;

    SETUP(WdkmGrtInitialize());
    SETUP(WDKM_GRT_REGISTER_KMUTEX("a", &Zero));
    Old = Raise(DISPATCH_LEVEL);
    {
        WDKM_SCOPE Scope = WdkmGrtScopeEnter("a", WdkmLockKindKMutex, sizeof(COUNTER),
                                             &Data, &Status);
        WdkmScopeLeave(&Scope);
    }
    KeLowerIrql(Old);
    TEARDOWN(DestroyRegistry());
    return Status;
}

/* ====================================================================== */
/* The table                                                              */
/* ====================================================================== */

typedef NTSTATUS MISUSE_ROUTINE(VOID);

typedef struct _MISUSE_ROW {
    PCSTR Name;             /* the misuse, as the README states it */
    MISUSE_ROUTINE *Routine;
    NTSTATUS Expected;
} MISUSE_ROW;

#define ROW(Routine, Expected) { #Routine, Routine, Expected }

static const MISUSE_ROW MisuseTable[] = {
    /* KMUTEX */
    ROW(KMutexCreateNullValue, STATUS_INVALID_PARAMETER),
    ROW(KMutexCreateZeroSize, STATUS_INVALID_PARAMETER),
    ROW(KMutexCreateOversized, STATUS_INVALID_PARAMETER),
    ROW(KMutexCreateNullOut, STATUS_INVALID_PARAMETER),
    ROW(KMutexCreateAtHigh, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(KMutexAcquireAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(KMutexAcquireWrongType, STATUS_WDKM_TYPE_MISMATCH),
    ROW(KMutexAcquireNullLock, STATUS_INVALID_PARAMETER),
    ROW(KMutexAcquireNullData, STATUS_INVALID_PARAMETER),
    ROW(KMutexTryAcquireAtHigh, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(KMutexTimeoutNull, STATUS_INVALID_PARAMETER),
    ROW(KMutexTimeoutNonZeroAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(KMutexAlertableBadWaitMode, STATUS_INVALID_PARAMETER),
    ROW(KMutexReleaseNotOwner, STATUS_WDKM_NOT_OWNER),
    ROW(KMutexReleaseTwice, STATUS_WDKM_NOT_HELD),
    ROW(KMutexReleaseOtherIrqlClass, STATUS_WDKM_IRQL_MISMATCH),
    ROW(KMutexReleaseAtHigh, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(KMutexDestroyHeld, STATUS_WDKM_LOCK_HELD),
    ROW(KMutexDestroyAtHigh, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(KMutexTakeWrongType, STATUS_WDKM_TYPE_MISMATCH),
    ROW(KMutexTakeHeld, STATUS_WDKM_LOCK_HELD),
    ROW(KMutexDestroyOfFastMutex, STATUS_INVALID_PARAMETER),
    ROW(KMutexAcquireWhileSpinLockHeld, STATUS_WDKM_IRQL_TOO_HIGH),
    /* FAST_MUTEX */
    ROW(FastMutexCreateZeroSize, STATUS_INVALID_PARAMETER),
    ROW(FastMutexAcquireAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(FastMutexTryAcquireAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(FastMutexRecursion, STATUS_POSSIBLE_DEADLOCK),
    ROW(FastMutexAcquireWrongType, STATUS_WDKM_TYPE_MISMATCH),
    ROW(FastMutexReleaseNotOwner, STATUS_WDKM_NOT_OWNER),
    ROW(FastMutexReleaseTwice, STATUS_WDKM_NOT_HELD),
    ROW(FastMutexReleaseAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(FastMutexDestroyHeld, STATUS_WDKM_LOCK_HELD),
    ROW(FastMutexDestroyOfKMutex, STATUS_INVALID_PARAMETER),
    /* spin locks */
    ROW(SpinLockCreateOversized, STATUS_INVALID_PARAMETER),
    ROW(SpinLockRecursion, STATUS_POSSIBLE_DEADLOCK),
    ROW(SpinLockAcquireAtHigh, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(SpinLockReleaseNotOwner, STATUS_WDKM_NOT_OWNER),
    ROW(SpinLockReleaseTwice, STATUS_WDKM_NOT_HELD),
    ROW(SpinLockReleaseOldIrqlTooHigh, STATUS_INVALID_PARAMETER),
    ROW(SpinLockAtDpcReleasedPlain, STATUS_WDKM_IRQL_MISMATCH),
    ROW(SpinLockAtDpcBelowDispatch, STATUS_WDKM_IRQL_MISMATCH),
    ROW(SpinLockDestroyHeld, STATUS_WDKM_LOCK_HELD),
    ROW(QueuedReleaseTwice, STATUS_WDKM_NOT_HELD),
    ROW(QueuedRecursion, STATUS_POSSIBLE_DEADLOCK),
    ROW(QueuedAcquireWrongType, STATUS_WDKM_TYPE_MISMATCH),
    ROW(QueuedDestroyHeld, STATUS_WDKM_LOCK_HELD),
    /* guarded mutex */
    ROW(GuardedRecursion, STATUS_POSSIBLE_DEADLOCK),
    ROW(GuardedAcquireAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(GuardedReleaseTwice, STATUS_WDKM_NOT_HELD),
    ROW(GuardedReleaseNotOwner, STATUS_WDKM_NOT_OWNER),
    ROW(GuardedDestroyHeld, STATUS_WDKM_LOCK_HELD),
    /* ERESOURCE, push lock */
    ROW(ResourceSharedThenExclusive, STATUS_POSSIBLE_DEADLOCK),
    ROW(ResourceExclusiveAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(ResourceSharedWrongType, STATUS_WDKM_TYPE_MISMATCH),
    ROW(ResourceDestroyWhileRead, STATUS_WDKM_LOCK_HELD),
    ROW(ResourceDestroyAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(ResourceReleaseNotHeld, STATUS_WDKM_NOT_HELD),
    ROW(ResourceReleaseNotOwner, STATUS_WDKM_NOT_OWNER),
    ROW(PushLockExclusiveRecursion, STATUS_POSSIBLE_DEADLOCK),
    ROW(PushLockReleaseNotHeld, STATUS_WDKM_NOT_HELD),
    ROW(PushLockSharedAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(PushLockDestroyHeld, STATUS_WDKM_LOCK_HELD),
    ROW(ResourceReleaseAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(ResourceSharedReleaseAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(PushLockReleaseAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(PushLockSharedReleaseAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    /* regions */
    ROW(RegionLeaveNeverEntered, STATUS_WDKM_NOT_HELD),
    ROW(RegionLeaveTwice, STATUS_WDKM_NOT_HELD),
    ROW(RegionEnterAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(RegionEnterNull, STATUS_INVALID_PARAMETER),
    ROW(RegionLeaveOtherThread, STATUS_WDKM_NOT_OWNER),
    /* registry */
    ROW(GrtRegisterBeforeInitialize, STATUS_WDKM_NOT_INITIALIZED),
    ROW(GrtReferenceBeforeInitialize, STATUS_WDKM_NOT_INITIALIZED),
    ROW(GrtUnregisterBeforeInitialize, STATUS_WDKM_NOT_INITIALIZED),
    ROW(GrtDestroyBeforeInitialize, STATUS_WDKM_NOT_INITIALIZED),
    ROW(GrtInitializeTwice, STATUS_WDKM_ALREADY_INITIALIZED),
    ROW(GrtRegisterAfterDestroy, STATUS_WDKM_NOT_INITIALIZED),
    ROW(GrtReferenceAfterDestroy, STATUS_WDKM_NOT_INITIALIZED),
    ROW(GrtInitializeAtApc, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(GrtDestroyAtApc, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(GrtRegisterAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(GrtUnregisterAtDispatch, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(GrtReferenceAtHigh, STATUS_WDKM_IRQL_TOO_HIGH),
    ROW(GrtRegisterDuplicate, STATUS_OBJECT_NAME_COLLISION),
    ROW(GrtRegisterDuplicateOtherKind, STATUS_OBJECT_NAME_COLLISION),
    ROW(GrtRegisterEmptyName, STATUS_OBJECT_NAME_INVALID),
    ROW(GrtRegisterNameTooLong, STATUS_NAME_TOO_LONG),
    ROW(GrtRegisterNullName, STATUS_INVALID_PARAMETER),
    ROW(GrtRegisterBadKind, STATUS_INVALID_PARAMETER),
    ROW(GrtRegisterKindZero, STATUS_INVALID_PARAMETER),
    ROW(GrtRegisterBadFlags, STATUS_INVALID_PARAMETER),
    ROW(GrtRegisterZeroSize, STATUS_INVALID_PARAMETER),
    ROW(GrtRegisterOversized, STATUS_INVALID_PARAMETER),
    ROW(GrtRegisterNullValue, STATUS_INVALID_PARAMETER),
    ROW(GrtReferenceMissing, STATUS_OBJECT_NAME_NOT_FOUND),
    ROW(GrtReferenceWrongKind, STATUS_WDKM_TYPE_MISMATCH),
    ROW(GrtReferenceWrongSize, STATUS_WDKM_TYPE_MISMATCH),
    ROW(GrtReferenceEmptyName, STATUS_OBJECT_NAME_INVALID),
    ROW(GrtReferenceNameTooLong, STATUS_NAME_TOO_LONG),
    ROW(GrtReferenceNullOut, STATUS_INVALID_PARAMETER),
    ROW(GrtUnregisterMissing, STATUS_OBJECT_NAME_NOT_FOUND),
    ROW(GrtUnregisterEmptyName, STATUS_OBJECT_NAME_INVALID),
    ROW(GrtUnregisterTooLong, STATUS_NAME_TOO_LONG),
    ROW(GrtDereferenceWhileHeld, STATUS_WDKM_LOCK_HELD),
    ROW(GrtDereferenceNotRegistry, STATUS_INVALID_PARAMETER),
    ROW(GrtKMutexDestroyOfRegistryLock, STATUS_WDKM_OWNED_BY_REGISTRY),
    ROW(GrtSpinLockTakeOfRegistryLock, STATUS_WDKM_OWNED_BY_REGISTRY),
    ROW(GrtResourceDestroyOfRegistryLock, STATUS_WDKM_OWNED_BY_REGISTRY),
    ROW(GrtScopedQueuedSpinLock, STATUS_INVALID_PARAMETER),
    ROW(GrtScopedAtDispatchKMutex, STATUS_WDKM_IRQL_TOO_HIGH),
};

#define MISUSE_ROWS ((ULONG)(sizeof(MisuseTable) / sizeof(MisuseTable[0])))

/* Runs one row under a bug check trap; FALSE if it bug checked. */
static BOOLEAN
RunRow(const MISUSE_ROW *Row, NTSTATUS *Status)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    volatile BOOLEAN Completed = FALSE;

    if (WDKM_HOST_TRY(&Trap)) {
        *Status = Row->Routine();
        Completed = TRUE;
        WdkmHostDisarm(&Trap);
    } else {
        printf("    %s: bug check 0x%08X %s\n", Row->Name, (unsigned)Trap.Bugcheck.Code,
               WdkmHostBugcheckName(Trap.Bugcheck.Code));
        if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
            KeLowerIrql(PASSIVE_LEVEL);
        }
    }
    return Completed;
}

static VOID
MisuseCatalogue(VOID)
{
    ULONG Index;
    ULONG Failures = 0;

    for (Index = 0; Index < MISUSE_ROWS; Index += 1) {
        const MISUSE_ROW *Row = &MisuseTable[Index];
        ULONG BugchecksBefore = WdkmHostBugcheckCount();
        LONG PoolBefore = WdkmTestPoolOutstanding();
        NTSTATUS Status = ROW_SETUP_FAILED;

        RowSetupStep = NULL;
        if (!RunRow(Row, &Status)) {
            Failures += 1;
            continue;
        }
        if (RowSetupStep != NULL) {
            printf("    %s: setup/teardown failed at %s\n", Row->Name, RowSetupStep);
            Failures += 1;
        } else if (Status != Row->Expected) {
            printf("    %s: returned %s (0x%08X), README says %s\n", Row->Name,
                   WdkmStatusName(Status), (unsigned)Status, WdkmStatusName(Row->Expected));
            Failures += 1;
        }
        if (WdkmHostBugcheckCount() != BugchecksBefore) {
            printf("    %s: %lu bug check(s) raised\n", Row->Name,
                   (unsigned long)(WdkmHostBugcheckCount() - BugchecksBefore));
            Failures += 1;
        }
        if (WdkmTestPoolOutstanding() != PoolBefore) {
            printf("    %s: pool blocks outstanding %ld -> %ld\n", Row->Name, (long)PoolBefore,
                   (long)WdkmTestPoolOutstanding());
            Failures += 1;
        }
        if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
            printf("    %s: left the IRQL at %u\n", Row->Name, (unsigned)KeGetCurrentIrql());
            KeLowerIrql(PASSIVE_LEVEL);
            Failures += 1;
        }
    }
    printf("    misuse catalogue: %lu rows, %lu failures\n", (unsigned long)MISUSE_ROWS,
           (unsigned long)Failures);
    CHECK(MISUSE_ROWS >= 40);
    CHECK_EQ(Failures, 0);
}

/* ====================================================================== */
/* A handle of another kind (issue 15, 3.10)                              */
/* ====================================================================== */

/*
 * Every acquire and release form, given a lock of another kind through a
 * cast, answers STATUS_WDKM_TYPE_MISMATCH and changes nothing; IsOwned
 * answers FALSE. Each call runs under a bug check trap.
 */
typedef NTSTATUS FOREIGN_CALL(PVOID Lock);

static NTSTATUS
AtDispatch(FOREIGN_CALL *Call, PVOID Lock)
{
    KIRQL Old = Raise(DISPATCH_LEVEL);
    NTSTATUS Status = Call(Lock);

    if (KeGetCurrentIrql() == DISPATCH_LEVEL) {
        KeLowerIrql(Old);
    }
    return Status;
}

/* The call's status if it cleared *Data, as every failing acquire must. */
#define DATA_OUT COUNTER *Data = (COUNTER *)&Lock; NTSTATUS Called
#define CHECK_DATA_CLEARED(Call) (Called = (Call), Data == NULL ? Called : ROW_SETUP_FAILED)

static NTSTATUS FcKMutexAcquire(PVOID Lock)
{ DATA_OUT; return CHECK_DATA_CLEARED(WDKM_KMUTEX_ACQUIRE((PWDKM_KMUTEX)Lock, &Data)); }
static NTSTATUS FcKMutexTry(PVOID Lock)
{ DATA_OUT; return CHECK_DATA_CLEARED(WDKM_KMUTEX_TRY_ACQUIRE((PWDKM_KMUTEX)Lock, &Data)); }
static NTSTATUS FcKMutexTimeout(PVOID Lock)
{
    LARGE_INTEGER Timeout = Ms(10);
    DATA_OUT;
    return CHECK_DATA_CLEARED(WDKM_KMUTEX_ACQUIRE_TIMEOUT((PWDKM_KMUTEX)Lock, &Timeout, &Data));
}
static NTSTATUS FcKMutexAlertable(PVOID Lock)
{
    LARGE_INTEGER Timeout = Ms(10);
    DATA_OUT;
    return CHECK_DATA_CLEARED(
        WDKM_KMUTEX_ACQUIRE_ALERTABLE((PWDKM_KMUTEX)Lock, KernelMode, &Timeout, &Data));
}
static NTSTATUS FcKMutexRelease(PVOID Lock) { return WdkmKMutexRelease((PWDKM_KMUTEX)Lock); }
static NTSTATUS FcKMutexTryAtDispatch(PVOID Lock) { return AtDispatch(FcKMutexTry, Lock); }
static NTSTATUS FcKMutexReleaseAtDispatch(PVOID Lock) { return AtDispatch(FcKMutexRelease, Lock); }

static NTSTATUS FcFastAcquire(PVOID Lock)
{ DATA_OUT; return CHECK_DATA_CLEARED(WDKM_FAST_MUTEX_ACQUIRE((PWDKM_FAST_MUTEX)Lock, &Data)); }
static NTSTATUS FcFastTry(PVOID Lock)
{ DATA_OUT; return CHECK_DATA_CLEARED(WDKM_FAST_MUTEX_TRY_ACQUIRE((PWDKM_FAST_MUTEX)Lock, &Data)); }
static NTSTATUS FcFastRelease(PVOID Lock) { return WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock); }

static NTSTATUS FcSpinAcquire(PVOID Lock)
{
    KIRQL OldIrql;
    DATA_OUT;
    return CHECK_DATA_CLEARED(WDKM_SPIN_LOCK_ACQUIRE((PWDKM_SPIN_LOCK)Lock, &OldIrql, &Data));
}
static NTSTATUS FcSpinTry(PVOID Lock)
{
    KIRQL OldIrql;
    DATA_OUT;
    return CHECK_DATA_CLEARED(WDKM_SPIN_LOCK_TRY_ACQUIRE((PWDKM_SPIN_LOCK)Lock, &OldIrql, &Data));
}
static NTSTATUS FcSpinAtDpc(PVOID Lock)
{
    DATA_OUT;
    return CHECK_DATA_CLEARED(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL((PWDKM_SPIN_LOCK)Lock, &Data));
}
static NTSTATUS FcSpinAtDpcAtDispatch(PVOID Lock) { return AtDispatch(FcSpinAtDpc, Lock); }
static NTSTATUS FcSpinRelease(PVOID Lock) { return WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, PASSIVE_LEVEL); }
static NTSTATUS FcSpinReleaseAtDispatch(PVOID Lock) { return AtDispatch(FcSpinRelease, Lock); }
static NTSTATUS FcSpinFromDpc(PVOID Lock) { return WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)Lock); }
static NTSTATUS FcSpinFromDpcAtDispatch(PVOID Lock) { return AtDispatch(FcSpinFromDpc, Lock); }

static NTSTATUS FcQueuedAcquire(PVOID Lock)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    NTSTATUS Status;
    DATA_OUT;

    Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE((PWDKM_QUEUED_SPIN_LOCK)Lock, &Handle, &Data);
    return Handle.Lock == NULL ? CHECK_DATA_CLEARED(Status) : ROW_SETUP_FAILED;
}
static NTSTATUS FcQueuedAtDpc(PVOID Lock)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    NTSTATUS Status;
    DATA_OUT;

    Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL((PWDKM_QUEUED_SPIN_LOCK)Lock, &Handle,
                                                        &Data);
    return Handle.Lock == NULL ? CHECK_DATA_CLEARED(Status) : ROW_SETUP_FAILED;
}
static NTSTATUS FcQueuedAtDpcAtDispatch(PVOID Lock) { return AtDispatch(FcQueuedAtDpc, Lock); }
static NTSTATUS FcQueuedRelease(PVOID Lock)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;

    memset(&Handle, 0, sizeof(Handle));
    Handle.Lock = (PWDKM_QUEUED_SPIN_LOCK)Lock;     /* a handle made up by hand */
    return WdkmQueuedSpinLockRelease(&Handle);
}
static NTSTATUS FcQueuedReleaseAtDispatch(PVOID Lock) { return AtDispatch(FcQueuedRelease, Lock); }

static NTSTATUS FcGuardedAcquire(PVOID Lock)
{ DATA_OUT; return CHECK_DATA_CLEARED(WDKM_GUARDED_MUTEX_ACQUIRE((PWDKM_GUARDED_MUTEX)Lock, &Data)); }
static NTSTATUS FcGuardedTry(PVOID Lock)
{ DATA_OUT; return CHECK_DATA_CLEARED(WDKM_GUARDED_MUTEX_TRY_ACQUIRE((PWDKM_GUARDED_MUTEX)Lock, &Data)); }
static NTSTATUS FcGuardedRelease(PVOID Lock) { return WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Lock); }

static NTSTATUS FcResourceExclusive(PVOID Lock)
{ DATA_OUT; return CHECK_DATA_CLEARED(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE((PWDKM_RESOURCE)Lock, &Data)); }
static NTSTATUS FcResourceTryExclusive(PVOID Lock)
{ DATA_OUT; return CHECK_DATA_CLEARED(WDKM_RESOURCE_TRY_ACQUIRE_EXCLUSIVE((PWDKM_RESOURCE)Lock, &Data)); }
static NTSTATUS FcResourceShared(PVOID Lock)
{
    const COUNTER *Data = (const COUNTER *)&Lock;
    NTSTATUS Status = WDKM_RESOURCE_ACQUIRE_SHARED((PWDKM_RESOURCE)Lock, &Data);
    return Data == NULL ? Status : ROW_SETUP_FAILED;
}
static NTSTATUS FcResourceTryShared(PVOID Lock)
{
    const COUNTER *Data = (const COUNTER *)&Lock;
    NTSTATUS Status = WDKM_RESOURCE_TRY_ACQUIRE_SHARED((PWDKM_RESOURCE)Lock, &Data);
    return Data == NULL ? Status : ROW_SETUP_FAILED;
}
static NTSTATUS FcResourceRelease(PVOID Lock) { return WdkmResourceRelease((PWDKM_RESOURCE)Lock); }

static NTSTATUS FcPushExclusive(PVOID Lock)
{ DATA_OUT; return CHECK_DATA_CLEARED(WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE((PWDKM_PUSH_LOCK)Lock, &Data)); }
static NTSTATUS FcPushShared(PVOID Lock)
{
    const COUNTER *Data = (const COUNTER *)&Lock;
    NTSTATUS Status = WDKM_PUSH_LOCK_ACQUIRE_SHARED((PWDKM_PUSH_LOCK)Lock, &Data);
    return Data == NULL ? Status : ROW_SETUP_FAILED;
}
static NTSTATUS FcPushRelease(PVOID Lock) { return WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock); }

static NTSTATUS FcScope(PVOID Lock, WDKM_SCOPE (*Enter)(PVOID, PVOID *, NTSTATUS *))
{
    NTSTATUS Status = STATUS_SUCCESS;
    PVOID Data = &Lock;
    WDKM_SCOPE Scope = Enter(Lock, &Data, &Status);

    if (Scope.Lock != NULL) {
        WdkmScopeLeave(&Scope);
        return ROW_SETUP_FAILED;
    }
    return Data == NULL ? Status : ROW_SETUP_FAILED;
}
static WDKM_SCOPE EnKMutex(PVOID Lock, PVOID *Data, NTSTATUS *Status)
{ return WdkmKMutexScopeEnter((PWDKM_KMUTEX)Lock, sizeof(COUNTER), Data, Status); }
static WDKM_SCOPE EnFast(PVOID Lock, PVOID *Data, NTSTATUS *Status)
{ return WdkmFastMutexScopeEnter((PWDKM_FAST_MUTEX)Lock, sizeof(COUNTER), Data, Status); }
static WDKM_SCOPE EnSpin(PVOID Lock, PVOID *Data, NTSTATUS *Status)
{ return WdkmSpinLockScopeEnter((PWDKM_SPIN_LOCK)Lock, sizeof(COUNTER), Data, Status); }
static WDKM_SCOPE EnGuarded(PVOID Lock, PVOID *Data, NTSTATUS *Status)
{ return WdkmGuardedMutexScopeEnter((PWDKM_GUARDED_MUTEX)Lock, sizeof(COUNTER), Data, Status); }
static WDKM_SCOPE EnResource(PVOID Lock, PVOID *Data, NTSTATUS *Status)
{ return WdkmResourceScopeEnter((PWDKM_RESOURCE)Lock, sizeof(COUNTER), TRUE, Data, Status); }
static WDKM_SCOPE EnPush(PVOID Lock, PVOID *Data, NTSTATUS *Status)
{ return WdkmPushLockScopeEnter((PWDKM_PUSH_LOCK)Lock, sizeof(COUNTER), FALSE, Data, Status); }
static NTSTATUS FcScopeKMutex(PVOID Lock) { return FcScope(Lock, EnKMutex); }
static NTSTATUS FcScopeFast(PVOID Lock) { return FcScope(Lock, EnFast); }
static NTSTATUS FcScopeSpin(PVOID Lock) { return FcScope(Lock, EnSpin); }
static NTSTATUS FcScopeGuarded(PVOID Lock) { return FcScope(Lock, EnGuarded); }
static NTSTATUS FcScopeResource(PVOID Lock) { return FcScope(Lock, EnResource); }
static NTSTATUS FcScopePush(PVOID Lock) { return FcScope(Lock, EnPush); }

typedef struct _FOREIGN_FORM {
    PCSTR Name;
    WDKM_LOCK_KIND Kind;          /* the kind the form is for */
    FOREIGN_CALL *Call;
} FOREIGN_FORM;

#define FORM(Kind, Call) { #Call, Kind, Call }

static const FOREIGN_FORM ForeignForms[] = {
    FORM(WdkmLockKindKMutex, FcKMutexAcquire),
    FORM(WdkmLockKindKMutex, FcKMutexTry),
    FORM(WdkmLockKindKMutex, FcKMutexTimeout),
    FORM(WdkmLockKindKMutex, FcKMutexAlertable),
    FORM(WdkmLockKindKMutex, FcKMutexRelease),
    FORM(WdkmLockKindKMutex, FcKMutexTryAtDispatch),
    FORM(WdkmLockKindKMutex, FcKMutexReleaseAtDispatch),
    FORM(WdkmLockKindKMutex, FcScopeKMutex),
    FORM(WdkmLockKindFastMutex, FcFastAcquire),
    FORM(WdkmLockKindFastMutex, FcFastTry),
    FORM(WdkmLockKindFastMutex, FcFastRelease),
    FORM(WdkmLockKindFastMutex, FcScopeFast),
    FORM(WdkmLockKindSpinLock, FcSpinAcquire),
    FORM(WdkmLockKindSpinLock, FcSpinTry),
    FORM(WdkmLockKindSpinLock, FcSpinAtDpcAtDispatch),
    FORM(WdkmLockKindSpinLock, FcSpinReleaseAtDispatch),
    FORM(WdkmLockKindSpinLock, FcSpinFromDpcAtDispatch),
    FORM(WdkmLockKindSpinLock, FcScopeSpin),
    FORM(WdkmLockKindQueuedSpinLock, FcQueuedAcquire),
    FORM(WdkmLockKindQueuedSpinLock, FcQueuedAtDpcAtDispatch),
    FORM(WdkmLockKindQueuedSpinLock, FcQueuedReleaseAtDispatch),
    FORM(WdkmLockKindGuardedMutex, FcGuardedAcquire),
    FORM(WdkmLockKindGuardedMutex, FcGuardedTry),
    FORM(WdkmLockKindGuardedMutex, FcGuardedRelease),
    FORM(WdkmLockKindGuardedMutex, FcScopeGuarded),
    FORM(WdkmLockKindResource, FcResourceExclusive),
    FORM(WdkmLockKindResource, FcResourceTryExclusive),
    FORM(WdkmLockKindResource, FcResourceShared),
    FORM(WdkmLockKindResource, FcResourceTryShared),
    FORM(WdkmLockKindResource, FcResourceRelease),
    FORM(WdkmLockKindResource, FcScopeResource),
    FORM(WdkmLockKindPushLock, FcPushExclusive),
    FORM(WdkmLockKindPushLock, FcPushShared),
    FORM(WdkmLockKindPushLock, FcPushRelease),
    FORM(WdkmLockKindPushLock, FcScopePush),
};

#define FOREIGN_FORMS ((ULONG)(sizeof(ForeignForms) / sizeof(ForeignForms[0])))

/* IsOwned of Kind on Lock. */
static BOOLEAN
ForeignIsOwned(WDKM_LOCK_KIND Kind, PVOID Lock)
{
    switch (Kind) {
    case WdkmLockKindKMutex: return WdkmKMutexIsOwned((PWDKM_KMUTEX)Lock);
    case WdkmLockKindFastMutex: return WdkmFastMutexIsOwned((PWDKM_FAST_MUTEX)Lock);
    case WdkmLockKindSpinLock: return WdkmSpinLockIsOwned((PWDKM_SPIN_LOCK)Lock);
    case WdkmLockKindQueuedSpinLock: return WdkmQueuedSpinLockIsOwned((PWDKM_QUEUED_SPIN_LOCK)Lock);
    case WdkmLockKindGuardedMutex: return WdkmGuardedMutexIsOwned((PWDKM_GUARDED_MUTEX)Lock);
    case WdkmLockKindResource: return WdkmResourceIsOwnedExclusive((PWDKM_RESOURCE)Lock);
    default: return WdkmPushLockIsOwnedExclusive((PWDKM_PUSH_LOCK)Lock);
    }
}

/* Call(Lock) under a bug check trap. */
static NTSTATUS
RunForeign(FOREIGN_CALL *Call, PVOID Lock)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    volatile NTSTATUS Status = ROW_SETUP_FAILED;

    if (WDKM_HOST_TRY(&Trap)) {
        Status = Call(Lock);
        WdkmHostDisarm(&Trap);
    }
    return Status;
}

static VOID
ForeignKindHandles(VOID)
{
    PVOID Locks[7];
    static const WDKM_LOCK_KIND Kinds[7] = {
        WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock,
        WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource,
        WdkmLockKindPushLock
    };
    ULONG Form;
    ULONG Index;
    ULONG Failures = 0;
    ULONG Calls = 0;

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, (PWDKM_KMUTEX *)&Locks[0]), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Zero, (PWDKM_FAST_MUTEX *)&Locks[1]), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Zero, (PWDKM_SPIN_LOCK *)&Locks[2]), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, (PWDKM_QUEUED_SPIN_LOCK *)&Locks[3]),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GUARDED_MUTEX_CREATE(&Zero, (PWDKM_GUARDED_MUTEX *)&Locks[4]),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_CREATE(&Zero, (PWDKM_RESOURCE *)&Locks[5]), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_PUSH_LOCK_CREATE(&Zero, (PWDKM_PUSH_LOCK *)&Locks[6]), STATUS_SUCCESS);

    for (Form = 0; Form < FOREIGN_FORMS; Form += 1) {
        for (Index = 0; Index < 7; Index += 1) {
            ULONG BugchecksBefore = WdkmHostBugcheckCount();
            NTSTATUS Status;

            if (Kinds[Index] == ForeignForms[Form].Kind) {
                continue;
            }
            Calls += 1;
            Status = RunForeign(ForeignForms[Form].Call, Locks[Index]);
            if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
                printf("    %s on kind %d: left the IRQL at %u\n", ForeignForms[Form].Name,
                       (int)Kinds[Index], (unsigned)KeGetCurrentIrql());
                KeLowerIrql(PASSIVE_LEVEL);
                Failures += 1;
            }
            if (WdkmHostBugcheckCount() != BugchecksBefore) {
                printf("    %s on kind %d: bug check\n", ForeignForms[Form].Name,
                       (int)Kinds[Index]);
                Failures += 1;
            } else if (Status != STATUS_WDKM_TYPE_MISMATCH) {
                printf("    %s on kind %d: %s (0x%08X)\n", ForeignForms[Form].Name,
                       (int)Kinds[Index], WdkmStatusName(Status), (unsigned)Status);
                Failures += 1;
            }
        }
    }
    for (Form = 0; Form < 7; Form += 1) {
        for (Index = 0; Index < 7; Index += 1) {
            if (Form != Index && ForeignIsOwned(Kinds[Form], Locks[Index])) {
                Failures += 1;
            }
        }
    }
    printf("    foreign handles: %lu calls, %lu failures\n", (unsigned long)Calls,
           (unsigned long)Failures);
    CHECK_EQ(Failures, 0);
    CHECK(!KeAreApcsDisabled());
    /* Nothing is held: every lock is destroyed by its own kind. */
    CHECK_STATUS(WdkmKMutexDestroy((PWDKM_KMUTEX)Locks[0]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)Locks[1]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Locks[2]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy((PWDKM_QUEUED_SPIN_LOCK)Locks[3]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGuardedMutexDestroy((PWDKM_GUARDED_MUTEX)Locks[4]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceDestroy((PWDKM_RESOURCE)Locks[5]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Locks[6]), STATUS_SUCCESS);
}

static const WDKM_TEST_CASE MisuseCases[] = {
    { "catalogue", MisuseCatalogue },
    { "foreign_kind_handles", ForeignKindHandles },
};

const WDKM_TEST_SUITE WdkmMisuseSuite = WDKM_TEST_SUITE_OF("misuse", MisuseCases);
