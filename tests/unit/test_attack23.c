/*
 * test_attack23.c - the checked build's per-thread diagnostics attacked
 * with the kernel's asynchrony modelled for real, from docs/diagnostics.md
 * ("DPCs and APCs", "Limits", "The leak check at unload"), reference.md and
 * the public headers alone.
 *
 * What is attacked: a thread's diagnostics record is given back (parked)
 * by whoever empties it, at any IRQL, and the window between finding a
 * record and writing a hold or region into it must not let an interrupt
 * give it away. Injected DPCs and kernel APCs (wdkm_host.h) land anywhere
 * in threads that acquire, release, enter and leave, with the table near
 * full; then what the docs promise is checked: WdkmDiagIsHeld and
 * WdkmDiagCheckNoneHeld for the thread and for the interrupt, lock-order
 * cycles still reported, exact summary counts, and 128 live holders
 * (WDKM_DIAG_MAX_THREADS) fitting without Untracked after thousands of
 * threads ended. A seeded reference model walks one thread through holds
 * at every IRQL with hand-modelled DPCs and APCs at each step.
 *
 * Every test that makes violations or Untracked on purpose ends with
 * WdkmDiagReset, so the diagnostics are left as found.
 */
#include "wdkm_test.h"
#include "wdkm_test_interrupts.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define A23_VALUE_SIZE sizeof(LONG)

static ULONG
A23Random(ULONG64 *State)
{
    /* xorshift64*: the walks and the threads' choices replay from a seed. */
    ULONG64 X = *State;

    X ^= X >> 12;
    X ^= X << 25;
    X ^= X >> 27;
    *State = X;
    return (ULONG)((X * 2685821657736338717ULL) >> 32);
}

static WDKM_DIAG_SUMMARY
A23Summary(VOID)
{
    WDKM_DIAG_SUMMARY Summary;

    memset(&Summary, 0, sizeof(Summary));
    if (WdkmDiagQuerySummary(&Summary) != STATUS_SUCCESS) {
        WdkmTestFail(__FILE__, __LINE__, "WdkmDiagQuerySummary failed");
    }
    return Summary;
}

/* ---------------------------------------------------------------------- */
/* Named locks: one class per name, so that nothing here makes per-lock   */
/* classes (the class table holds 256) and the orders are the ones meant. */
/* ---------------------------------------------------------------------- */

/* Function(Name): a new lock of the kind Create makes, in class Name. */
#define A23_NAMED_LOCK(Function, Type, Create, KindText)                        \
    static Type                                                                 \
    Function(PCSTR Name)                                                        \
    {                                                                           \
        LONG Zero = 0;                                                          \
        Type Lock = NULL;                                                       \
                                                                                \
        if (Create(&Zero, A23_VALUE_SIZE, &Lock) != STATUS_SUCCESS ||           \
            WdkmDiagSetClassName(Lock, Name) != STATUS_SUCCESS) {               \
            WdkmTestFail(__FILE__, __LINE__, KindText " %s", Name);             \
        }                                                                       \
        return Lock;                                                            \
    }

A23_NAMED_LOCK(A23KMutex, PWDKM_KMUTEX, WdkmKMutexCreate, "KMUTEX")
A23_NAMED_LOCK(A23FastMutex, PWDKM_FAST_MUTEX, WdkmFastMutexCreate, "FAST_MUTEX")
A23_NAMED_LOCK(A23SpinLock, PWDKM_SPIN_LOCK, WdkmSpinLockCreate, "SPIN_LOCK")
A23_NAMED_LOCK(A23QueuedSpinLock, PWDKM_QUEUED_SPIN_LOCK, WdkmQueuedSpinLockCreate,
               "QUEUED_SPIN_LOCK")
A23_NAMED_LOCK(A23Resource, PWDKM_RESOURCE, WdkmResourceCreate, "ERESOURCE")

/* ---------------------------------------------------------------------- */
/* What the interrupted code holds, for the injected routine: thread-local,*/
/* so a DPC or APC (which runs on the interrupted thread) reads the state  */
/* of the code it interrupted. Written by that same thread only.           */
/* ---------------------------------------------------------------------- */

#define A23_TLS_SLOTS 8

static _Thread_local const VOID *volatile A23Exclusive[A23_TLS_SLOTS];
static _Thread_local volatile ULONG A23ExclusiveCount;
static _Thread_local const VOID *volatile A23Shared;

static VOID
A23PushExclusive(const VOID *Lock)
{
    ULONG Count = A23ExclusiveCount;

    if (Count < A23_TLS_SLOTS) {
        A23Exclusive[Count] = Lock;
        atomic_signal_fence(memory_order_seq_cst);
        A23ExclusiveCount = Count + 1;
    }
}

static VOID
A23PopExclusive(VOID)
{
    if (A23ExclusiveCount != 0) {
        A23ExclusiveCount = A23ExclusiveCount - 1;
        atomic_signal_fence(memory_order_seq_cst);
    }
}

/* ---------------------------------------------------------------------- */
/* The injected routine: DPCs take spin locks at DPC level, special APCs a */
/* fast mutex (and a guarded region), normal APCs a KMUTEX in a critical   */
/* region. Each checks what docs/diagnostics.md promises an interrupt.     */
/* It may not call the test framework (not async-signal-safe): failures    */
/* are counted and the first is kept for the test to print.               */
/* ---------------------------------------------------------------------- */

typedef struct _A23_INTERRUPT_LOCKS {
    PWDKM_SPIN_LOCK DpcFirst;
    PWDKM_SPIN_LOCK DpcSecond;
    PWDKM_QUEUED_SPIN_LOCK DpcQueued;
    PWDKM_FAST_MUTEX ApcFast;
    PWDKM_KMUTEX ApcMutex;
} A23_INTERRUPT_LOCKS;

static A23_INTERRUPT_LOCKS A23Locks;
static atomic_ulong A23RoutineFailures;
static atomic_ulong A23RoutineRuns[WDKM_HOST_INTERRUPT_KINDS];
static _Atomic(PCSTR) A23RoutineFirstFailure;
static atomic_ulong A23RoutineFirstStatus;

static VOID
A23RoutineFail(PCSTR What, NTSTATUS Status)
{
    PCSTR Expected = NULL;

    if (atomic_fetch_add(&A23RoutineFailures, 1) == 0) {
        atomic_store(&A23RoutineFirstStatus, (ULONG)Status);
        (VOID)atomic_compare_exchange_strong(&A23RoutineFirstFailure, &Expected, What);
    }
}

static VOID
A23RoutineReset(VOID)
{
    ULONG Kind;

    atomic_store(&A23RoutineFailures, 0);
    atomic_store(&A23RoutineFirstFailure, (PCSTR)NULL);
    for (Kind = 0; Kind < WDKM_HOST_INTERRUPT_KINDS; Kind += 1) {
        atomic_store(&A23RoutineRuns[Kind], 0);
    }
}

/* The interrupted code's exclusive holds are the interrupt's too (DPC and
   APC alike: the kinds' owner is the thread). */
static VOID
A23RoutineCheckInterrupted(BOOLEAN SharedVisible)
{
    ULONG Count = A23ExclusiveCount;
    const VOID *Shared = A23Shared;
    ULONG Index;

    atomic_signal_fence(memory_order_seq_cst);
    for (Index = 0; Index < Count && Index < A23_TLS_SLOTS; Index += 1) {
        if (!WdkmDiagIsHeld(A23Exclusive[Index])) {
            A23RoutineFail(SharedVisible ? "APC: an exclusive hold of its thread is not held"
                                         : "DPC: an exclusive hold of the interrupted thread "
                                           "is not held",
                           0);
        }
    }
    if (Shared != NULL && WdkmDiagIsHeld(Shared) != SharedVisible) {
        A23RoutineFail(SharedVisible ? "APC: its thread's shared hold is not held"
                                     : "DPC: sees the interrupted thread's shared hold",
                       0);
    }
}

static VOID
A23Dpc(ULONG64 Random)
{
    NTSTATUS Status;
    PVOID Data;
    WDKM_LOCK_QUEUE_HANDLE Handle;

    A23RoutineCheckInterrupted(FALSE);
    Status = WdkmDiagCheckNoneHeld("attack23 dpc entry");
    if (Status != STATUS_SUCCESS) {
        A23RoutineFail("DPC entry: CheckNoneHeld reports the interrupted thread's holds", Status);
    }
    switch (Random % 3) {
    case 0:
        Status = WdkmSpinLockAcquireAtDpcLevel(A23Locks.DpcFirst, A23_VALUE_SIZE, &Data);
        if (Status != STATUS_SUCCESS) {
            A23RoutineFail("DPC: DpcFirst acquire", Status);
            return;
        }
        if (!WdkmDiagIsHeld(A23Locks.DpcFirst)) {
            A23RoutineFail("DPC: its own spin lock is not held", 0);
        }
        A23RoutineCheckInterrupted(FALSE);
        Status = WdkmSpinLockReleaseFromDpcLevel(A23Locks.DpcFirst);
        if (Status != STATUS_SUCCESS) {
            A23RoutineFail("DPC: DpcFirst release", Status);
        }
        break;
    case 1:
        /* DpcFirst before DpcSecond: an order recorded by DPCs only. */
        Status = WdkmSpinLockAcquireAtDpcLevel(A23Locks.DpcFirst, A23_VALUE_SIZE, &Data);
        if (Status != STATUS_SUCCESS) {
            A23RoutineFail("DPC: DpcFirst acquire (nested)", Status);
            return;
        }
        Status = WdkmSpinLockAcquireAtDpcLevel(A23Locks.DpcSecond, A23_VALUE_SIZE, &Data);
        if (Status != STATUS_SUCCESS) {
            A23RoutineFail("DPC: DpcSecond acquire", Status);
        } else {
            if (!WdkmDiagIsHeld(A23Locks.DpcFirst) || !WdkmDiagIsHeld(A23Locks.DpcSecond)) {
                A23RoutineFail("DPC: its nested spin locks are not held", 0);
            }
            Status = WdkmSpinLockReleaseFromDpcLevel(A23Locks.DpcSecond);
            if (Status != STATUS_SUCCESS) {
                A23RoutineFail("DPC: DpcSecond release", Status);
            }
        }
        Status = WdkmSpinLockReleaseFromDpcLevel(A23Locks.DpcFirst);
        if (Status != STATUS_SUCCESS) {
            A23RoutineFail("DPC: DpcFirst release (nested)", Status);
        }
        break;
    default:
        Status = WdkmQueuedSpinLockAcquireAtDpcLevel(A23Locks.DpcQueued, A23_VALUE_SIZE,
                                                     &Handle, &Data);
        if (Status != STATUS_SUCCESS) {
            A23RoutineFail("DPC: queued acquire", Status);
            return;
        }
        if (!WdkmDiagIsHeld(A23Locks.DpcQueued)) {
            A23RoutineFail("DPC: its queued spin lock is not held", 0);
        }
        Status = WdkmQueuedSpinLockRelease(&Handle);
        if (Status != STATUS_SUCCESS) {
            A23RoutineFail("DPC: queued release", Status);
        }
        break;
    }
    if (WdkmDiagIsHeld(A23Locks.DpcFirst) || WdkmDiagIsHeld(A23Locks.DpcSecond) ||
        WdkmDiagIsHeld(A23Locks.DpcQueued)) {
        A23RoutineFail("DPC: a released spin lock is still held", 0);
    }
    Status = WdkmDiagCheckNoneHeld("attack23 dpc exit");
    if (Status != STATUS_SUCCESS) {
        A23RoutineFail("DPC exit: CheckNoneHeld", Status);
    }
}

static VOID
A23SpecialApc(ULONG64 Random)
{
    NTSTATUS Status;
    PVOID Data;
    WDKM_REGION Region;
    ULONG Slot = A23ExclusiveCount;
    const VOID *Saved = Slot < A23_TLS_SLOTS ? A23Exclusive[Slot] : NULL;

    A23RoutineCheckInterrupted(TRUE);
    Status = WdkmFastMutexAcquire(A23Locks.ApcFast, A23_VALUE_SIZE, &Data);
    if (Status != STATUS_SUCCESS) {
        A23RoutineFail("special APC: fast mutex acquire", Status);
        return;
    }
    A23PushExclusive(A23Locks.ApcFast);
    if (!WdkmDiagIsHeld(A23Locks.ApcFast)) {
        A23RoutineFail("special APC: its fast mutex is not held", 0);
    }
    if ((Random & 4) != 0) {
        Status = WdkmRegionEnterGuarded(&Region);
        if (Status != STATUS_SUCCESS) {
            A23RoutineFail("special APC: guarded region", Status);
        } else {
            A23RoutineCheckInterrupted(TRUE);
            Status = WdkmRegionLeave(&Region);
            if (Status != STATUS_SUCCESS) {
                A23RoutineFail("special APC: region leave", Status);
            }
        }
    }
    A23PopExclusive();
    Status = WdkmFastMutexRelease(A23Locks.ApcFast);
    if (Status != STATUS_SUCCESS) {
        A23RoutineFail("special APC: fast mutex release", Status);
    }
    if (WdkmDiagIsHeld(A23Locks.ApcFast)) {
        A23RoutineFail("special APC: released fast mutex still held", 0);
    }
    if (Slot < A23_TLS_SLOTS) {
        A23Exclusive[Slot] = Saved;   /* the interrupted push may not have counted it yet */
    }
}

static VOID
A23NormalApc(VOID)
{
    NTSTATUS Status;
    PVOID Data;
    WDKM_REGION Region;
    ULONG Slot = A23ExclusiveCount;
    const VOID *Saved = Slot < A23_TLS_SLOTS ? A23Exclusive[Slot] : NULL;

    A23RoutineCheckInterrupted(TRUE);
    Status = WdkmRegionEnterCritical(&Region);
    if (Status != STATUS_SUCCESS) {
        A23RoutineFail("normal APC: critical region", Status);
        return;
    }
    Status = WdkmKMutexAcquire(A23Locks.ApcMutex, A23_VALUE_SIZE, &Data);
    if (Status != STATUS_SUCCESS) {
        A23RoutineFail("normal APC: KMUTEX acquire", Status);
    } else {
        A23PushExclusive(A23Locks.ApcMutex);
        if (!WdkmDiagIsHeld(A23Locks.ApcMutex)) {
            A23RoutineFail("normal APC: its KMUTEX is not held", 0);
        }
        A23PopExclusive();
        Status = WdkmKMutexRelease(A23Locks.ApcMutex);
        if (Status != STATUS_SUCCESS) {
            A23RoutineFail("normal APC: KMUTEX release", Status);
        }
    }
    Status = WdkmRegionLeave(&Region);
    if (Status != STATUS_SUCCESS) {
        A23RoutineFail("normal APC: region leave", Status);
    }
    if (Slot < A23_TLS_SLOTS) {
        A23Exclusive[Slot] = Saved;
    }
}

static VOID
A23InterruptRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    if ((ULONG)Kind < WDKM_HOST_INTERRUPT_KINDS) {
        atomic_fetch_add(&A23RoutineRuns[Kind], 1);
    }
    switch (Kind) {
    case WdkmHostInterruptDpc:
        A23Dpc(Random);
        break;
    case WdkmHostInterruptSpecialApc:
        A23SpecialApc(Random);
        break;
    case WdkmHostInterruptNormalApc:
        A23NormalApc();
        break;
    default:
        break;
    }
}

static BOOLEAN
A23InterruptLocksCreate(VOID)
{
    A23Locks.DpcFirst = A23SpinLock("attack23.dpc.first");
    A23Locks.DpcSecond = A23SpinLock("attack23.dpc.second");
    A23Locks.DpcQueued = A23QueuedSpinLock("attack23.dpc.queued");
    A23Locks.ApcFast = A23FastMutex("attack23.apc.fast");
    A23Locks.ApcMutex = A23KMutex("attack23.apc.kmutex");
    return A23Locks.DpcFirst != NULL && A23Locks.DpcSecond != NULL &&
           A23Locks.DpcQueued != NULL && A23Locks.ApcFast != NULL && A23Locks.ApcMutex != NULL;
}

static VOID
A23InterruptLocksDestroy(VOID)
{
    if (A23Locks.DpcFirst != NULL) {
        (VOID)WdkmSpinLockDestroy(A23Locks.DpcFirst);
    }
    if (A23Locks.DpcSecond != NULL) {
        (VOID)WdkmSpinLockDestroy(A23Locks.DpcSecond);
    }
    if (A23Locks.DpcQueued != NULL) {
        (VOID)WdkmQueuedSpinLockDestroy(A23Locks.DpcQueued);
    }
    if (A23Locks.ApcFast != NULL) {
        (VOID)WdkmFastMutexDestroy(A23Locks.ApcFast);
    }
    if (A23Locks.ApcMutex != NULL) {
        (VOID)WdkmKMutexDestroy(A23Locks.ApcMutex);
    }
    memset(&A23Locks, 0, sizeof(A23Locks));
}

static VOID
A23InterruptsStart(ULONG64 Seed, ULONG MeanIntervalMicroseconds)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;

    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = Seed;
    Settings.MeanIntervalMicroseconds = MeanIntervalMicroseconds;
    Settings.DpcWeight = 4;
    Settings.SpecialApcWeight = 2;
    Settings.NormalApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 0;
    Settings.Routine = A23InterruptRoutine;
    Settings.Context = NULL;
    A23RoutineReset();
    WdkmHostInterruptsStart(&Settings);
}

/* Stops injection; FALSE (after reporting) if a routine failed or too few
   interrupts ran for the test to mean anything. */
static BOOLEAN
A23InterruptsStopAndJudge(PCSTR File, int Line, ULONG64 MinimumDpcs, ULONG64 MinimumApcs)
{
    ULONG64 Dpcs;
    ULONG64 Apcs;
    PCSTR First;

    WdkmHostInterruptsStop();
    Dpcs = atomic_load(&A23RoutineRuns[WdkmHostInterruptDpc]);
    Apcs = atomic_load(&A23RoutineRuns[WdkmHostInterruptSpecialApc]);
    if (atomic_load(&A23RoutineFailures) != 0) {
        First = atomic_load(&A23RoutineFirstFailure);
        return WdkmTestFail(File, Line, "%lu interrupt routine failures; first: %s (0x%08lX)",
                            (unsigned long)atomic_load(&A23RoutineFailures),
                            First != NULL ? First : "?",
                            (unsigned long)atomic_load(&A23RoutineFirstStatus));
    }
    if (Dpcs < MinimumDpcs || Apcs < MinimumApcs) {
        return WdkmTestFail(File, Line, "too few interrupts ran: %llu DPCs, %llu special APCs",
                            (unsigned long long)Dpcs, (unsigned long long)Apcs);
    }
    return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Per-thread private locks and the churn a thread does.                    */
/* ---------------------------------------------------------------------- */

typedef struct _A23_PRIVATE {
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX Fast;
    PWDKM_SPIN_LOCK Spin;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_RESOURCE Resource;
} A23_PRIVATE;

static BOOLEAN
A23PrivateCreate(A23_PRIVATE *Private)
{
    /* One class per role: the threads' locks of a role never nest. */
    Private->Mutex = A23KMutex("attack23.thread.kmutex");
    Private->Fast = A23FastMutex("attack23.thread.fast");
    Private->Spin = A23SpinLock("attack23.thread.spin");
    Private->Queued = A23QueuedSpinLock("attack23.thread.queued");
    Private->Resource = A23Resource("attack23.thread.resource");
    return Private->Mutex != NULL && Private->Fast != NULL && Private->Spin != NULL &&
           Private->Queued != NULL && Private->Resource != NULL;
}

static VOID
A23PrivateDestroy(A23_PRIVATE *Private)
{
    if (Private->Mutex != NULL) {
        (VOID)WdkmKMutexDestroy(Private->Mutex);
    }
    if (Private->Fast != NULL) {
        (VOID)WdkmFastMutexDestroy(Private->Fast);
    }
    if (Private->Spin != NULL) {
        (VOID)WdkmSpinLockDestroy(Private->Spin);
    }
    if (Private->Queued != NULL) {
        (VOID)WdkmQueuedSpinLockDestroy(Private->Queued);
    }
    if (Private->Resource != NULL) {
        (VOID)WdkmResourceDestroy(Private->Resource);
    }
    memset(Private, 0, sizeof(*Private));
}

/* Checks that do not end the thread (it must give back what it holds). */
#define A23_EXPECT(Failed, Condition)                                          \
    do {                                                                       \
        if (!(Condition)) {                                                    \
            WdkmTestFail(__FILE__, __LINE__, "EXPECT(%s)", #Condition);        \
            (Failed) = TRUE;                                                   \
        }                                                                      \
    } while (0)

#define A23_EXPECT_STATUS(Failed, Expression, Expected)                        \
    do {                                                                       \
        NTSTATUS A23Actual_ = (Expression);                                    \
        if (A23Actual_ != (Expected)) {                                        \
            WdkmTestFail(__FILE__, __LINE__, "%s returned %s, expected %s",    \
                         #Expression, WdkmStatusName(A23Actual_),              \
                         WdkmStatusName(Expected));                            \
            (Failed) = TRUE;                                                   \
        }                                                                      \
    } while (0)

/*
 * One operation of the churn: a hold or a region at one of the IRQL
 * combinations the docs name (PASSIVE_LEVEL; APC_LEVEL raised by hand or
 * by a fast mutex; DISPATCH_LEVEL raised by hand, which looks like a DPC,
 * or by the thread's own spin lock), checked while held and released so
 * that the thread holds nothing after it. Other is a lock another thread
 * may hold right now: never this thread's. Returns FALSE on a failure.
 */
static BOOLEAN
A23ChurnOperation(A23_PRIVATE *Own, const VOID *Other, ULONG Operation)
{
    BOOLEAN Failed = FALSE;
    PVOID Data;
    const VOID *ConstData;
    KIRQL Irql;
    KIRQL Old;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_REGION Region;
    WDKM_REGION Inner;

    switch (Operation) {
    case 0:     /* KMUTEX at PASSIVE_LEVEL */
        A23_EXPECT_STATUS(Failed, WdkmKMutexAcquire(Own->Mutex, A23_VALUE_SIZE, &Data),
                          STATUS_SUCCESS);
        if (Failed) {
            break;
        }
        A23PushExclusive(Own->Mutex);
        A23_EXPECT(Failed, WdkmDiagIsHeld(Own->Mutex));
        A23_EXPECT(Failed, !WdkmDiagIsHeld(Other));
        A23PopExclusive();
        A23_EXPECT_STATUS(Failed, WdkmKMutexRelease(Own->Mutex), STATUS_SUCCESS);
        break;
    case 1:     /* KMUTEX, then a fast mutex inside it */
        A23_EXPECT_STATUS(Failed, WdkmKMutexAcquire(Own->Mutex, A23_VALUE_SIZE, &Data),
                          STATUS_SUCCESS);
        if (Failed) {
            break;
        }
        A23PushExclusive(Own->Mutex);
        A23_EXPECT_STATUS(Failed, WdkmFastMutexAcquire(Own->Fast, A23_VALUE_SIZE, &Data),
                          STATUS_SUCCESS);
        if (!Failed) {
            A23PushExclusive(Own->Fast);
            A23_EXPECT(Failed, WdkmDiagIsHeld(Own->Mutex) && WdkmDiagIsHeld(Own->Fast));
            A23_EXPECT(Failed, !WdkmDiagIsHeld(Other));
            A23PopExclusive();
            A23_EXPECT_STATUS(Failed, WdkmFastMutexRelease(Own->Fast), STATUS_SUCCESS);
        }
        A23_EXPECT(Failed, WdkmDiagIsHeld(Own->Mutex) && !WdkmDiagIsHeld(Own->Fast));
        A23PopExclusive();
        A23_EXPECT_STATUS(Failed, WdkmKMutexRelease(Own->Mutex), STATUS_SUCCESS);
        break;
    case 2:     /* APC_LEVEL raised by hand, a fast mutex there */
        KeRaiseIrql(APC_LEVEL, &Irql);
        A23_EXPECT_STATUS(Failed, WdkmFastMutexAcquire(Own->Fast, A23_VALUE_SIZE, &Data),
                          STATUS_SUCCESS);
        if (!Failed) {
            A23PushExclusive(Own->Fast);
            A23_EXPECT(Failed, WdkmDiagIsHeld(Own->Fast));
            A23PopExclusive();
            A23_EXPECT_STATUS(Failed, WdkmFastMutexRelease(Own->Fast), STATUS_SUCCESS);
        }
        KeLowerIrql(Irql);
        break;
    case 3:     /* DISPATCH_LEVEL raised by hand (looks like a DPC): spin lock */
        KeRaiseIrql(DISPATCH_LEVEL, &Irql);
        A23_EXPECT_STATUS(Failed,
                          WdkmSpinLockAcquireAtDpcLevel(Own->Spin, A23_VALUE_SIZE, &Data),
                          STATUS_SUCCESS);
        if (!Failed) {
            A23_EXPECT(Failed, WdkmDiagIsHeld(Own->Spin));
            A23_EXPECT(Failed, !WdkmDiagIsHeld(Other));
            A23_EXPECT_STATUS(Failed, WdkmSpinLockReleaseFromDpcLevel(Own->Spin),
                              STATUS_SUCCESS);
        }
        KeLowerIrql(Irql);
        break;
    case 4:     /* the thread's own spin lock, a queued one inside at DPC level */
        A23_EXPECT_STATUS(Failed, WdkmSpinLockAcquire(Own->Spin, A23_VALUE_SIZE, &Old, &Data),
                          STATUS_SUCCESS);
        if (Failed) {
            break;
        }
        A23_EXPECT_STATUS(Failed,
                          WdkmQueuedSpinLockAcquireAtDpcLevel(Own->Queued, A23_VALUE_SIZE,
                                                              &Handle, &Data),
                          STATUS_SUCCESS);
        if (!Failed) {
            A23_EXPECT(Failed, WdkmDiagIsHeld(Own->Spin) && WdkmDiagIsHeld(Own->Queued));
            A23_EXPECT_STATUS(Failed, WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
        }
        A23_EXPECT_STATUS(Failed, WdkmSpinLockRelease(Own->Spin, Old), STATUS_SUCCESS);
        break;
    case 5:     /* critical region, KMUTEX inside */
        A23_EXPECT_STATUS(Failed, WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
        if (Failed) {
            break;
        }
        A23_EXPECT_STATUS(Failed, WdkmKMutexAcquire(Own->Mutex, A23_VALUE_SIZE, &Data),
                          STATUS_SUCCESS);
        if (!Failed) {
            A23PushExclusive(Own->Mutex);
            A23_EXPECT(Failed, WdkmDiagIsHeld(Own->Mutex));
            A23PopExclusive();
            A23_EXPECT_STATUS(Failed, WdkmKMutexRelease(Own->Mutex), STATUS_SUCCESS);
        }
        A23_EXPECT_STATUS(Failed, WdkmRegionLeave(&Region), STATUS_SUCCESS);
        break;
    case 6:     /* guarded region alone: a region is all the record holds */
        A23_EXPECT_STATUS(Failed, WdkmRegionEnterGuarded(&Region), STATUS_SUCCESS);
        if (!Failed) {
            A23_EXPECT(Failed, !WdkmDiagIsHeld(Other));
            A23_EXPECT_STATUS(Failed, WdkmRegionLeave(&Region), STATUS_SUCCESS);
        }
        break;
    case 7:     /* ERESOURCE shared: a DPC must not see it, an APC must */
        A23_EXPECT_STATUS(Failed,
                          WdkmResourceAcquireShared(Own->Resource, A23_VALUE_SIZE, &ConstData),
                          STATUS_SUCCESS);
        if (Failed) {
            break;
        }
        A23Shared = Own->Resource;
        atomic_signal_fence(memory_order_seq_cst);
        A23_EXPECT(Failed, WdkmDiagIsHeld(Own->Resource));
        A23_EXPECT(Failed, !WdkmDiagIsHeld(Other));
        A23Shared = NULL;
        atomic_signal_fence(memory_order_seq_cst);
        A23_EXPECT_STATUS(Failed, WdkmResourceRelease(Own->Resource), STATUS_SUCCESS);
        break;
    case 8:     /* ERESOURCE exclusive */
        A23_EXPECT_STATUS(Failed,
                          WdkmResourceAcquireExclusive(Own->Resource, A23_VALUE_SIZE, &Data),
                          STATUS_SUCCESS);
        if (Failed) {
            break;
        }
        A23PushExclusive(Own->Resource);
        A23_EXPECT(Failed, WdkmDiagIsHeld(Own->Resource));
        A23PopExclusive();
        A23_EXPECT_STATUS(Failed, WdkmResourceRelease(Own->Resource), STATUS_SUCCESS);
        break;
    case 9:     /* APC_LEVEL raised by hand: regions entered and left there */
        KeRaiseIrql(APC_LEVEL, &Irql);
        A23_EXPECT_STATUS(Failed, WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
        if (!Failed) {
            A23_EXPECT_STATUS(Failed, WdkmRegionEnterGuarded(&Inner), STATUS_SUCCESS);
            if (!Failed) {
                A23_EXPECT_STATUS(Failed, WdkmRegionLeave(&Inner), STATUS_SUCCESS);
            }
            A23_EXPECT_STATUS(Failed, WdkmRegionLeave(&Region), STATUS_SUCCESS);
        }
        KeLowerIrql(Irql);
        break;
    case 10:    /* region entered at PASSIVE_LEVEL, left at APC_LEVEL raised by hand */
        A23_EXPECT_STATUS(Failed, WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
        if (!Failed) {
            KeRaiseIrql(APC_LEVEL, &Irql);
            A23_EXPECT_STATUS(Failed, WdkmRegionLeave(&Region), STATUS_SUCCESS);
            KeLowerIrql(Irql);
        }
        break;
    case 11:    /* KMUTEX tried at DISPATCH_LEVEL raised by hand, released there */
        KeRaiseIrql(DISPATCH_LEVEL, &Irql);
        A23_EXPECT_STATUS(Failed, WdkmKMutexTryAcquire(Own->Mutex, A23_VALUE_SIZE, &Data),
                          STATUS_SUCCESS);
        if (!Failed) {
            A23_EXPECT(Failed, WdkmDiagIsHeld(Own->Mutex));
            A23_EXPECT_STATUS(Failed, WdkmKMutexRelease(Own->Mutex), STATUS_SUCCESS);
        }
        KeLowerIrql(Irql);
        break;
    default:    /* fast mutex taken at APC_LEVEL raised by hand, lowered after release */
        KeRaiseIrql(APC_LEVEL, &Irql);
        A23_EXPECT_STATUS(Failed, WdkmRegionEnterGuarded(&Region), STATUS_SUCCESS);
        if (!Failed) {
            A23_EXPECT_STATUS(Failed, WdkmFastMutexAcquire(Own->Fast, A23_VALUE_SIZE, &Data),
                              STATUS_SUCCESS);
            if (!Failed) {
                A23PushExclusive(Own->Fast);
                A23_EXPECT(Failed, WdkmDiagIsHeld(Own->Fast));
                A23PopExclusive();
                A23_EXPECT_STATUS(Failed, WdkmFastMutexRelease(Own->Fast), STATUS_SUCCESS);
            }
            A23_EXPECT_STATUS(Failed, WdkmRegionLeave(&Region), STATUS_SUCCESS);
        }
        KeLowerIrql(Irql);
        break;
    }
    /* Nothing held, nothing entered: the record is empty (parked). */
    A23_EXPECT(Failed, KeGetCurrentIrql() == PASSIVE_LEVEL);
    A23_EXPECT(Failed, !WdkmDiagIsHeld(Own->Mutex) && !WdkmDiagIsHeld(Own->Fast) &&
                           !WdkmDiagIsHeld(Own->Spin) && !WdkmDiagIsHeld(Own->Resource));
    A23_EXPECT_STATUS(Failed, WdkmDiagCheckNoneHeld("attack23 churn"), STATUS_SUCCESS);
    return !Failed;
}

#define A23_CHURN_OPERATIONS 13

static BOOLEAN A23HoldersFit(PCSTR File, int Line);

/* ---------------------------------------------------------------------- */
/* 1. Churn under dense injected interrupts                                */
/* ---------------------------------------------------------------------- */

#define A23_CHURN_THREADS 16

typedef struct _A23_CHURN {
    A23_PRIVATE Private[A23_CHURN_THREADS];
    ULONG Threads;
    ULONG Iterations;
    LONGLONG Least;                   /* runs at least until then */
    LONGLONG Deadline;                /* and gives up on the counts then */
    ULONG64 Seed;
    atomic_ulong Operations;
} A23_CHURN;

#define A23_CHURN_DPCS 300
#define A23_CHURN_APCS 100

/* The churn has run long enough: the interrupts the test judges ran. */
static BOOLEAN
A23ChurnDone(const A23_CHURN *Churn)
{
    LONGLONG Now = WdkmTestNowMs();

    return Now > Churn->Deadline ||
           (Now > Churn->Least &&
            atomic_load(&A23RoutineRuns[WdkmHostInterruptDpc]) >= A23_CHURN_DPCS &&
            atomic_load(&A23RoutineRuns[WdkmHostInterruptSpecialApc]) >= A23_CHURN_APCS);
}

static VOID
A23ChurnThread(PVOID Context, ULONG Index)
{
    A23_CHURN *Churn = (A23_CHURN *)Context;
    ULONG64 State = Churn->Seed ^ ((ULONG64)(Index + 1) * 0x9E3779B97F4A7C15ULL);
    A23_PRIVATE *Own = &Churn->Private[Index];
    const VOID *Other = Churn->Private[(Index + 1) % Churn->Threads].Mutex;
    ULONG Iteration;
    BOOLEAN Failed = FALSE;

    /* A thread that never held anything finds no hold of a previous owner
       of whichever record it will take. */
    A23_EXPECT_STATUS(Failed, WdkmDiagCheckNoneHeld("attack23 churn start"), STATUS_SUCCESS);
    for (Iteration = 0; Iteration < Churn->Iterations && !Failed; Iteration += 1) {
        if (!A23ChurnOperation(Own, Other, A23Random(&State) % A23_CHURN_OPERATIONS)) {
            break;
        }
        atomic_fetch_add(&Churn->Operations, 1);
        if ((Iteration & 63) == 63 && A23ChurnDone(Churn)) {
            break;
        }
    }
}

static A23_CHURN A23ChurnState;

static VOID
A23ChurnUnderInterrupts(VOID)
{
    A23_CHURN *Churn = &A23ChurnState;
    WDKM_DIAG_SUMMARY Before;
    WDKM_DIAG_SUMMARY After;
    ULONG Index;
    BOOLEAN Created = TRUE;

    WdkmTestInterruptsPause();
    memset(Churn, 0, sizeof(*Churn));
    CHECK(A23InterruptLocksCreate());
    for (Index = 0; Index < A23_CHURN_THREADS; Index += 1) {
        Created = Created && A23PrivateCreate(&Churn->Private[Index]);
    }
    Churn->Threads = A23_CHURN_THREADS;
    Churn->Iterations = 50000000;     /* the counts or the deadline end it */
    Churn->Seed = 0xA23C0001ULL;
    /* Until the interrupts judged below ran, not for a fixed time: a loaded
       machine (load average 16) ran 229 DPCs in 1.5 s. */
    Churn->Least = WdkmTestNowMs() + 1500;
    Churn->Deadline = WdkmTestDeadlineMs(20000);
    Before = A23Summary();
    if (Created) {
        A23InterruptsStart(0xA23C0001ULL, 20);
        Created = WdkmTestRunThreads(A23_CHURN_THREADS, A23ChurnThread, Churn);
        (VOID)A23InterruptsStopAndJudge(__FILE__, __LINE__, A23_CHURN_DPCS, A23_CHURN_APCS);
    }
    After = A23Summary();
    for (Index = 0; Index < A23_CHURN_THREADS; Index += 1) {
        A23PrivateDestroy(&Churn->Private[Index]);
    }
    A23InterruptLocksDestroy();
    CHECK(Created);
    CHECK(atomic_load(&Churn->Operations) >= 1000);
    /* Nothing was misused: no report, nothing left untracked or held. */
    CHECK_EQ(After.OrderViolations - Before.OrderViolations, 0);
    CHECK_EQ(After.ContextViolations - Before.ContextViolations, 0);
    CHECK_EQ(After.AssertFailures - Before.AssertFailures, 0);
    CHECK_EQ(After.Untracked - Before.Untracked, 0);
    CHECK_EQ(After.HeldLocks, Before.HeldLocks);
    CHECK_EQ(After.UnbalancedRegions, Before.UnbalancedRegions);
    CHECK(A23HoldersFit(__FILE__, __LINE__));   /* no record left behind */
}

/* ---------------------------------------------------------------------- */
/* 2. Minimal: a closing order taken twice is reported (and kept) once;    */
/*     the summary counts it once under REPORT, each refusal under REFUSE  */
/*     (diagnostics.md, "Reading a lock-order report"; WDKM_DIAG_SUMMARY).  */
/* ---------------------------------------------------------------------- */

static ULONG
A23ViolationCount(VOID)
{
    WDKM_DIAG_VIOLATION Violations[16];
    ULONG Count = 0;

    if (WdkmDiagQueryViolations(Violations, 16, &Count) != STATUS_SUCCESS) {
        WdkmTestFail(__FILE__, __LINE__, "WdkmDiagQueryViolations failed");
    }
    return Count;
}

static VOID
A23ClosingOrderTwice(BOOLEAN Refuse, PCSTR FirstName, PCSTR SecondName,
                     ULONG *SummaryDelta, ULONG *ViolationsDelta, NTSTATUS *Closing)
{
    PWDKM_KMUTEX First = A23KMutex(FirstName);
    PWDKM_KMUTEX Second = A23KMutex(SecondName);
    WDKM_DIAG_SUMMARY Before;
    WDKM_DIAG_SUMMARY After;
    ULONG CountBefore;
    ULONG Attempt;
    PVOID Data;

    Closing[0] = Closing[1] = STATUS_UNSUCCESSFUL;
    *SummaryDelta = *ViolationsDelta = 0;
    if (First == NULL || Second == NULL) {
        return;
    }
    Before = A23Summary();
    CountBefore = A23ViolationCount();
    if (WdkmKMutexAcquire(First, A23_VALUE_SIZE, &Data) == STATUS_SUCCESS) {
        if (WdkmKMutexAcquire(Second, A23_VALUE_SIZE, &Data) == STATUS_SUCCESS) {
            (VOID)WdkmKMutexRelease(Second);
        }
        (VOID)WdkmKMutexRelease(First);
    }
    if (Refuse) {
        (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REFUSE);
    }
    for (Attempt = 0; Attempt < 2; Attempt += 1) {
        if (WdkmKMutexAcquire(Second, A23_VALUE_SIZE, &Data) == STATUS_SUCCESS) {
            Closing[Attempt] = WdkmKMutexAcquire(First, A23_VALUE_SIZE, &Data);
            if (Closing[Attempt] == STATUS_SUCCESS) {
                (VOID)WdkmKMutexRelease(First);
            }
            (VOID)WdkmKMutexRelease(Second);
        }
    }
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    After = A23Summary();
    *SummaryDelta = After.OrderViolations - Before.OrderViolations;
    *ViolationsDelta = A23ViolationCount() - CountBefore;
    (VOID)WdkmKMutexDestroy(First);
    (VOID)WdkmKMutexDestroy(Second);
}

static VOID
A23ClosingOrderReportedOnce(VOID)
{
    ULONG ReportSummary;
    ULONG ReportViolations;
    ULONG RefuseSummary;
    ULONG RefuseViolations;
    NTSTATUS Report[2];
    NTSTATUS Refuse[2];

    WdkmTestInterruptsPause();
    A23ClosingOrderTwice(FALSE, "attack23.once.report.a", "attack23.once.report.b",
                         &ReportSummary, &ReportViolations, Report);
    A23ClosingOrderTwice(TRUE, "attack23.once.refuse.a", "attack23.once.refuse.b",
                         &RefuseSummary, &RefuseViolations, Refuse);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);   /* the cycles were on purpose */
    CHECK_STATUS(Report[0], STATUS_SUCCESS);
    CHECK_STATUS(Report[1], STATUS_SUCCESS);
    CHECK_EQ(ReportViolations, 1);
    CHECK_EQ(ReportSummary, 1);
    CHECK_STATUS(Refuse[0], STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Refuse[1], STATUS_POSSIBLE_DEADLOCK);   /* "every time" */
    CHECK_EQ(RefuseViolations, 1);                        /* "reported once" */
    CHECK_EQ(RefuseSummary, 2);                           /* "every refusal counts" */
}

/* ---------------------------------------------------------------------- */
/* 3. Lock order recorded while interrupts churn, the reverse refused      */
/* ---------------------------------------------------------------------- */

typedef struct _A23_ORDER {
    PWDKM_KMUTEX First;
    PWDKM_FAST_MUTEX Second;
    A23_PRIVATE Private[8];
    LONGLONG Deadline;
} A23_ORDER;

static A23_ORDER A23OrderState;

static VOID
A23OrderThread(PVOID Context, ULONG Index)
{
    A23_ORDER *Order = (A23_ORDER *)Context;
    ULONG64 State = 0xA23D0000ULL + Index;
    PVOID Data;
    BOOLEAN Failed = FALSE;
    ULONG Iteration;

    for (Iteration = 0; !Failed; Iteration += 1) {
        if ((Index & 1) == 0) {
            /* First before Second, the order the reverse will close. */
            A23_EXPECT_STATUS(Failed, WdkmKMutexAcquire(Order->First, A23_VALUE_SIZE, &Data),
                              STATUS_SUCCESS);
            if (Failed) {
                break;
            }
            A23PushExclusive(Order->First);
            A23_EXPECT_STATUS(Failed,
                              WdkmFastMutexAcquire(Order->Second, A23_VALUE_SIZE, &Data),
                              STATUS_SUCCESS);
            if (!Failed) {
                A23PushExclusive(Order->Second);
                A23_EXPECT(Failed, WdkmDiagIsHeld(Order->First) &&
                                       WdkmDiagIsHeld(Order->Second));
                A23PopExclusive();
                A23_EXPECT_STATUS(Failed, WdkmFastMutexRelease(Order->Second), STATUS_SUCCESS);
            }
            A23PopExclusive();
            A23_EXPECT_STATUS(Failed, WdkmKMutexRelease(Order->First), STATUS_SUCCESS);
        } else if (!A23ChurnOperation(&Order->Private[Index], Order->First,
                                      A23Random(&State) % A23_CHURN_OPERATIONS)) {
            break;
        }
        if (Iteration >= 300 && WdkmTestNowMs() > Order->Deadline) {
            break;
        }
    }
}

static BOOLEAN
A23FindOrderViolation(PCSTR Held, PCSTR Acquiring)
{
    WDKM_DIAG_VIOLATION Violations[16];
    ULONG Count = 0;
    ULONG Index;

    if (WdkmDiagQueryViolations(Violations, 16, &Count) != STATUS_SUCCESS) {
        return FALSE;
    }
    for (Index = 0; Index < Count && Index < 16; Index += 1) {
        if (Violations[Index].Type == WdkmDiagLockOrder &&
            strcmp(Violations[Index].Held, Held) == 0 &&
            strcmp(Violations[Index].Acquiring, Acquiring) == 0 &&
            Violations[Index].CycleLength == 2) {
            return TRUE;
        }
    }
    return FALSE;
}

static VOID
A23OrderCyclesSurviveChurn(VOID)
{
    A23_ORDER *Order = &A23OrderState;
    WDKM_DIAG_SUMMARY Before;
    WDKM_DIAG_SUMMARY After;
    ULONG ViolationsBefore;
    ULONG ViolationsAfter;
    PVOID Data;
    KIRQL Irql;
    ULONG Index;
    BOOLEAN Created = TRUE;
    NTSTATUS Status;
    NTSTATUS DpcStatus;
    NTSTATUS Again;
    BOOLEAN FirstHeldAfterRefusal;
    BOOLEAN SecondStillHeld;
    BOOLEAN DpcSecondStillHeld;

    WdkmTestInterruptsPause();
    memset(Order, 0, sizeof(*Order));
    CHECK(A23InterruptLocksCreate());
    Order->First = A23KMutex("attack23.order.first");
    Order->Second = A23FastMutex("attack23.order.second");
    for (Index = 0; Index < 8; Index += 1) {
        Created = Created && A23PrivateCreate(&Order->Private[Index]);
    }
    Before = A23Summary();
    ViolationsBefore = A23ViolationCount();
    Order->Deadline = WdkmTestNowMs() + 1200;
    if (Created && Order->First != NULL && Order->Second != NULL) {
        A23InterruptsStart(0xA23D0001ULL, 30);
        Created = WdkmTestRunThreads(8, A23OrderThread, Order);
        (VOID)A23InterruptsStopAndJudge(__FILE__, __LINE__, 100, 20);
    } else {
        Created = FALSE;
    }
    /* No cycle yet: only First before Second and DpcFirst before DpcSecond. */
    After = A23Summary();
    Status = STATUS_UNSUCCESSFUL;
    DpcStatus = STATUS_UNSUCCESSFUL;
    Again = STATUS_UNSUCCESSFUL;
    FirstHeldAfterRefusal = TRUE;
    SecondStillHeld = FALSE;
    DpcSecondStillHeld = FALSE;
    if (Created && After.OrderViolations == Before.OrderViolations &&
        WdkmDiagSetPolicy(WDKM_DIAG_REFUSE) == STATUS_SUCCESS) {
        /* The reverse, Second then First: refused before any wait. */
        if (WdkmFastMutexAcquire(Order->Second, A23_VALUE_SIZE, &Data) == STATUS_SUCCESS) {
            Status = WdkmKMutexAcquire(Order->First, A23_VALUE_SIZE, &Data);
            FirstHeldAfterRefusal = WdkmDiagIsHeld(Order->First);
            if (Status == STATUS_SUCCESS) {
                (VOID)WdkmKMutexRelease(Order->First);
            }
            Again = WdkmKMutexAcquire(Order->First, A23_VALUE_SIZE, &Data);
            if (Again == STATUS_SUCCESS) {
                (VOID)WdkmKMutexRelease(Order->First);
            }
            SecondStillHeld = WdkmDiagIsHeld(Order->Second);
            (VOID)WdkmFastMutexRelease(Order->Second);
        }
        /* The DPCs' order, reversed by the thread at DISPATCH_LEVEL by hand. */
        KeRaiseIrql(DISPATCH_LEVEL, &Irql);
        if (WdkmSpinLockAcquireAtDpcLevel(A23Locks.DpcSecond, A23_VALUE_SIZE, &Data) ==
            STATUS_SUCCESS) {
            DpcStatus = WdkmSpinLockAcquireAtDpcLevel(A23Locks.DpcFirst, A23_VALUE_SIZE, &Data);
            if (DpcStatus == STATUS_SUCCESS) {
                (VOID)WdkmSpinLockReleaseFromDpcLevel(A23Locks.DpcFirst);
            }
            DpcSecondStillHeld = WdkmDiagIsHeld(A23Locks.DpcSecond);
            (VOID)WdkmSpinLockReleaseFromDpcLevel(A23Locks.DpcSecond);
        }
        KeLowerIrql(Irql);
        (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    }
    After = A23Summary();
    ViolationsAfter = A23ViolationCount();
    {
        BOOLEAN FoundThread = A23FindOrderViolation("attack23.order.second",
                                                    "attack23.order.first");
        BOOLEAN FoundDpc = A23FindOrderViolation("attack23.dpc.second", "attack23.dpc.first");
        BOOLEAN Clean = WdkmDiagCheckNoneHeld("attack23 order end") == STATUS_SUCCESS;

        for (Index = 0; Index < 8; Index += 1) {
            A23PrivateDestroy(&Order->Private[Index]);
        }
        (VOID)WdkmKMutexDestroy(Order->First);
        (VOID)WdkmFastMutexDestroy(Order->Second);
        A23InterruptLocksDestroy();
        CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);   /* the violations were on purpose */
        CHECK(Created);
        CHECK_STATUS(Status, STATUS_POSSIBLE_DEADLOCK);
        CHECK(!FirstHeldAfterRefusal);
        CHECK_STATUS(Again, STATUS_POSSIBLE_DEADLOCK);     /* "every time" */
        CHECK(SecondStillHeld);
        CHECK_STATUS(DpcStatus, STATUS_POSSIBLE_DEADLOCK);
        CHECK(DpcSecondStillHeld);
        /* Each closing order reported once (the summary counts every
           refusal: closing_order_reported_once). */
        CHECK_EQ(ViolationsAfter - ViolationsBefore, 2);
        CHECK(After.OrderViolations - Before.OrderViolations >= 2);
        CHECK(FoundThread);
        CHECK(FoundDpc);
        CHECK(Clean);
        CHECK_EQ(After.Untracked - Before.Untracked, 0);
        CHECK(A23HoldersFit(__FILE__, __LINE__));
    }
}

/* ---------------------------------------------------------------------- */
/* The table's capacity: 128 live holders fit, the 129th is Untracked.    */
/* ---------------------------------------------------------------------- */

typedef struct _A23_FIT {
    PWDKM_KMUTEX Locks[WDKM_DIAG_MAX_THREADS + 1];
    KEVENT Go;
    atomic_ulong Holding;
    atomic_ulong Failures;
    atomic_ulong Started;
} A23_FIT;

static A23_FIT A23FitState;

static VOID
A23FitHolder(PVOID Context, ULONG Index)
{
    A23_FIT *Fit = (A23_FIT *)Context;
    ULONG Mine = (ULONG)atomic_fetch_add(&Fit->Started, 1);
    PVOID Data;

    UNREFERENCED_PARAMETER(Index);
    if (WdkmKMutexAcquire(Fit->Locks[Mine], A23_VALUE_SIZE, &Data) != STATUS_SUCCESS) {
        atomic_fetch_add(&Fit->Failures, 1);
        atomic_fetch_add(&Fit->Holding, 1);
        return;
    }
    atomic_fetch_add(&Fit->Holding, 1);
    (VOID)KeWaitForSingleObject(&Fit->Go, Executive, KernelMode, FALSE, NULL);
    /* Its record was never given to another thread meanwhile. */
    if (!WdkmDiagIsHeld(Fit->Locks[Mine]) ||
        WdkmDiagIsHeld(Fit->Locks[(Mine + 1) % WDKM_DIAG_MAX_THREADS])) {
        atomic_fetch_add(&Fit->Failures, 1);
    }
    if (WdkmKMutexRelease(Fit->Locks[Mine]) != STATUS_SUCCESS ||
        WdkmDiagCheckNoneHeld("attack23 fit holder") != STATUS_SUCCESS) {
        atomic_fetch_add(&Fit->Failures, 1);
    }
}

/*
 * WDKM_DIAG_MAX_THREADS threads hold a lock at once: none is Untracked
 * (every record a finished thread or interrupt used was given back); a
 * 129th holder is (the probe that shows the check can fail). Resets the
 * diagnostics after (the 129th Untracked is on purpose). The caller holds
 * nothing and no other thread uses the library.
 */
static BOOLEAN
A23HoldersFit(PCSTR File, int Line)
{
    A23_FIT *Fit = &A23FitState;
    WDKM_TEST_THREAD *Threads[WDKM_DIAG_MAX_THREADS];
    WDKM_DIAG_SUMMARY Before;
    WDKM_DIAG_SUMMARY Full;
    WDKM_DIAG_SUMMARY Probe;
    NTSTATUS ProbeAcquire = STATUS_UNSUCCESSFUL;
    NTSTATUS ProbeRelease = STATUS_UNSUCCESSFUL;
    ULONG Index;
    ULONG Started = 0;
    BOOLEAN Ok = TRUE;
    PVOID Data;
    LONGLONG Deadline;

    memset(Fit, 0, sizeof(*Fit));
    KeInitializeEvent(&Fit->Go, NotificationEvent, FALSE);
    for (Index = 0; Index <= WDKM_DIAG_MAX_THREADS; Index += 1) {
        Fit->Locks[Index] = A23KMutex("attack23.fit.holder");
        if (Fit->Locks[Index] == NULL) {
            Ok = FALSE;
        }
    }
    Before = A23Summary();
    for (Index = 0; Ok && Index < WDKM_DIAG_MAX_THREADS; Index += 1) {
        Threads[Index] = WdkmTestStartThread(A23FitHolder, Fit);
        if (Threads[Index] == NULL) {
            Ok = FALSE;
            break;
        }
        Started += 1;
    }
    Deadline = WdkmTestDeadlineMs(20000);
    while (atomic_load(&Fit->Holding) < Started && WdkmTestNowMs() < Deadline) {
        WdkmTestSleepMs(1);
    }
    Full = A23Summary();
    if (Ok && atomic_load(&Fit->Holding) == WDKM_DIAG_MAX_THREADS) {
        /* The 129th holder at once: the table is full now. */
        ProbeAcquire = WdkmKMutexAcquire(Fit->Locks[WDKM_DIAG_MAX_THREADS], A23_VALUE_SIZE,
                                         &Data);
        Probe = A23Summary();
        if (ProbeAcquire == STATUS_SUCCESS) {
            ProbeRelease = WdkmKMutexRelease(Fit->Locks[WDKM_DIAG_MAX_THREADS]);
        }
    } else {
        Probe = Full;
    }
    KeSetEvent(&Fit->Go, 0, FALSE);
    for (Index = 0; Index < Started; Index += 1) {
        WdkmTestJoinThread(Threads[Index]);
    }
    for (Index = 0; Index <= WDKM_DIAG_MAX_THREADS; Index += 1) {
        if (Fit->Locks[Index] != NULL) {
            (VOID)WdkmKMutexDestroy(Fit->Locks[Index]);
        }
    }
    (VOID)WdkmDiagReset();
    if (!Ok || atomic_load(&Fit->Holding) != WDKM_DIAG_MAX_THREADS) {
        return WdkmTestFail(File, Line, "only %lu of %u holders started",
                            (unsigned long)atomic_load(&Fit->Holding),
                            (unsigned)WDKM_DIAG_MAX_THREADS);
    }
    if (Full.Untracked != Before.Untracked) {
        return WdkmTestFail(File, Line,
                            "%lu of %u live holders did not fit in the thread table "
                            "(Untracked %lu -> %lu): records were left behind",
                            (unsigned long)(Full.Untracked - Before.Untracked),
                            (unsigned)WDKM_DIAG_MAX_THREADS, (unsigned long)Before.Untracked,
                            (unsigned long)Full.Untracked);
    }
    if (Full.HeldLocks - Before.HeldLocks != WDKM_DIAG_MAX_THREADS) {
        return WdkmTestFail(File, Line, "HeldLocks rose by %lu with %u holders",
                            (unsigned long)(Full.HeldLocks - Before.HeldLocks),
                            (unsigned)WDKM_DIAG_MAX_THREADS);
    }
    if (atomic_load(&Fit->Failures) != 0) {
        return WdkmTestFail(File, Line, "%lu holders saw a wrong hold or release",
                            (unsigned long)atomic_load(&Fit->Failures));
    }
    if (ProbeAcquire != STATUS_SUCCESS || ProbeRelease != STATUS_SUCCESS) {
        return WdkmTestFail(File, Line, "the 129th holder's lock changed: %s / %s",
                            WdkmStatusName(ProbeAcquire), WdkmStatusName(ProbeRelease));
    }
    if (Probe.Untracked - Full.Untracked != 1) {
        return WdkmTestFail(File, Line, "the 129th holder counted %lu Untracked, expected 1",
                            (unsigned long)(Probe.Untracked - Full.Untracked));
    }
    return TRUE;
}

static VOID
A23TableHolds128(VOID)
{
    WdkmTestInterruptsPause();
    CHECK(A23HoldersFit(__FILE__, __LINE__));
}

/* ---------------------------------------------------------------------- */
/* 4. Thousands of threads end after holds at every IRQL combination,      */
/*    with interrupts landing, then 128 holders still fit.                 */
/* ---------------------------------------------------------------------- */

#define A23_WAVE 24

typedef struct _A23_ENDING {
    A23_PRIVATE Private[A23_WAVE];
    ULONG Wave;
    ULONG64 Seed;
    atomic_ulong Operations;
} A23_ENDING;

static A23_ENDING A23EndingState;

/* A short life: a few operations, the last one chosen by the wave so that
   every combination is the last thing some thread did before it ended. */
static VOID
A23EndingThread(PVOID Context, ULONG Index)
{
    A23_ENDING *Ending = (A23_ENDING *)Context;
    ULONG64 State = Ending->Seed ^ ((ULONG64)(Ending->Wave * A23_WAVE + Index + 1) *
                                    0xD1B54A32D192ED03ULL);
    A23_PRIVATE *Own = &Ending->Private[Index];
    const VOID *Other = Ending->Private[(Index + 1) % A23_WAVE].Mutex;
    ULONG Count = 500 + A23Random(&State) % 1500;   /* long enough for interrupts to land */
    ULONG Step;

    for (Step = 0; Step < Count; Step += 1) {
        if (!A23ChurnOperation(Own, Other, A23Random(&State) % A23_CHURN_OPERATIONS)) {
            return;
        }
        atomic_fetch_add(&Ending->Operations, 1);
    }
    if (A23ChurnOperation(Own, Other, (Ending->Wave + Index) % A23_CHURN_OPERATIONS)) {
        atomic_fetch_add(&Ending->Operations, 1);
    }
}

static VOID
A23EndedThreadsLeaveNoRecords(VOID)
{
    A23_ENDING *Ending = &A23EndingState;
    WDKM_DIAG_SUMMARY Before;
    WDKM_DIAG_SUMMARY After;
    ULONG Index;
    ULONG Waves = 60;
    BOOLEAN Created = TRUE;
    LONGLONG Deadline = WdkmTestDeadlineMs(4000);

    WdkmTestInterruptsPause();
    memset(Ending, 0, sizeof(*Ending));
    CHECK(A23InterruptLocksCreate());
    for (Index = 0; Index < A23_WAVE; Index += 1) {
        Created = Created && A23PrivateCreate(&Ending->Private[Index]);
    }
    Ending->Seed = 0xA23E0001ULL;
    Before = A23Summary();
    if (Created) {
        A23InterruptsStart(0xA23E0001ULL, 20);
        for (Ending->Wave = 0; Ending->Wave < Waves && Created; Ending->Wave += 1) {
            Created = WdkmTestRunThreads(A23_WAVE, A23EndingThread, Ending);
            if (Ending->Wave >= 2 * A23_CHURN_OPERATIONS && WdkmTestNowMs() > Deadline) {
                break;
            }
        }
        (VOID)A23InterruptsStopAndJudge(__FILE__, __LINE__, 200, 50);
    }
    After = A23Summary();
    for (Index = 0; Index < A23_WAVE; Index += 1) {
        A23PrivateDestroy(&Ending->Private[Index]);
    }
    A23InterruptLocksDestroy();
    CHECK(Created);
    CHECK(Ending->Wave >= 2 * A23_CHURN_OPERATIONS);
    CHECK_EQ(After.OrderViolations - Before.OrderViolations, 0);
    CHECK_EQ(After.ContextViolations - Before.ContextViolations, 0);
    CHECK_EQ(After.Untracked - Before.Untracked, 0);
    CHECK_EQ(After.HeldLocks, Before.HeldLocks);
    CHECK_EQ(After.UnbalancedRegions, Before.UnbalancedRegions);
    CHECK(A23HoldersFit(__FILE__, __LINE__));
}

/* ---------------------------------------------------------------------- */
/* 5. The table near full: 120 long holders, short threads ending around   */
/*    them, holders giving back and taking records, interrupts everywhere. */
/* ---------------------------------------------------------------------- */

#define A23_LONG_HOLDERS 120
#define A23_SHORT_THREADS 6

typedef struct _A23_NEAR_FULL {
    PWDKM_KMUTEX HolderLocks[A23_LONG_HOLDERS];
    PWDKM_FAST_MUTEX HolderFast[A23_LONG_HOLDERS];
    A23_PRIVATE Private[A23_SHORT_THREADS];
    volatile LONG Stop;
    volatile LONG Pause;
    atomic_ulong Paused;
    atomic_ulong Started;
    atomic_ulong Cycles;
    atomic_ulong ShortOperations;
    ULONG Wave;
} A23_NEAR_FULL;

static A23_NEAR_FULL A23NearFullState;

static VOID
A23LongHolder(PVOID Context, ULONG Index)
{
    A23_NEAR_FULL *Near = (A23_NEAR_FULL *)Context;
    ULONG Mine = (ULONG)atomic_fetch_add(&Near->Started, 1);
    PWDKM_KMUTEX Own = Near->HolderLocks[Mine];
    const VOID *Other = Near->HolderLocks[(Mine + 1) % A23_LONG_HOLDERS];
    PVOID Data;
    BOOLEAN Failed = FALSE;
    BOOLEAN CountedPause = FALSE;
    ULONG Round = 0;
    WDKM_REGION Region;
    BOOLEAN InRegion;

    UNREFERENCED_PARAMETER(Index);
    while (!Failed && __atomic_load_n(&Near->Stop, __ATOMIC_ACQUIRE) == 0) {
        /* Take a record (a hold, sometimes in a region), keep it a while
           across sleeps that interrupts land behind, give it back. */
        InRegion = (Mine + Round) % 3 == 0;
        if (InRegion) {
            A23_EXPECT_STATUS(Failed, WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
            if (Failed) {
                break;
            }
        }
        A23_EXPECT_STATUS(Failed, WdkmKMutexAcquire(Own, A23_VALUE_SIZE, &Data), STATUS_SUCCESS);
        if (Failed) {
            if (InRegion) {
                (VOID)WdkmRegionLeave(&Region);
            }
            break;
        }
        A23PushExclusive(Own);
        do {
            WdkmTestSleepMs(1 + (Mine + Round) % 3);
            A23_EXPECT(Failed, WdkmDiagIsHeld(Own));
            A23_EXPECT(Failed, !WdkmDiagIsHeld(Other));
            if (__atomic_load_n(&Near->Pause, __ATOMIC_ACQUIRE) != 0 && !CountedPause) {
                /* Hold still while the test counts. */
                CountedPause = TRUE;
                atomic_fetch_add(&Near->Paused, 1);
            }
        } while (!Failed && __atomic_load_n(&Near->Pause, __ATOMIC_ACQUIRE) != 0 &&
                 __atomic_load_n(&Near->Stop, __ATOMIC_ACQUIRE) == 0);
        if (CountedPause) {
            CountedPause = FALSE;
            atomic_fetch_sub(&Near->Paused, 1);
        }
        A23PopExclusive();
        A23_EXPECT_STATUS(Failed, WdkmKMutexRelease(Own), STATUS_SUCCESS);
        if (InRegion) {
            A23_EXPECT_STATUS(Failed, WdkmRegionLeave(&Region), STATUS_SUCCESS);
        }
        A23_EXPECT_STATUS(Failed, WdkmDiagCheckNoneHeld("attack23 long holder"),
                          STATUS_SUCCESS);
        /* Empty: its record is parked and may go to a short thread; a
           region alone takes one again. */
        if ((Round & 1) != 0) {
            A23_EXPECT_STATUS(Failed, WdkmRegionEnterGuarded(&Region), STATUS_SUCCESS);
            if (!Failed) {
                A23_EXPECT(Failed, !WdkmDiagIsHeld(Own) && !WdkmDiagIsHeld(Other));
                A23_EXPECT_STATUS(Failed, WdkmRegionLeave(&Region), STATUS_SUCCESS);
            }
        }
        Round += 1;
        atomic_fetch_add(&Near->Cycles, 1);
    }
}

static VOID
A23ShortThread(PVOID Context, ULONG Index)
{
    A23_NEAR_FULL *Near = (A23_NEAR_FULL *)Context;
    ULONG64 State = 0xA23F0000ULL ^ ((ULONG64)(Near->Wave * A23_SHORT_THREADS + Index + 1) *
                                     0x9E3779B97F4A7C15ULL);
    ULONG Count = 1 + A23Random(&State) % 4;
    ULONG Step;
    BOOLEAN Failed = FALSE;

    A23_EXPECT_STATUS(Failed, WdkmDiagCheckNoneHeld("attack23 short start"), STATUS_SUCCESS);
    for (Step = 0; Step < Count && !Failed; Step += 1) {
        if (!A23ChurnOperation(&Near->Private[Index], Near->HolderLocks[Index],
                               A23Random(&State) % A23_CHURN_OPERATIONS)) {
            return;
        }
        atomic_fetch_add(&Near->ShortOperations, 1);
    }
}

static VOID
A23NearFullTable(VOID)
{
    A23_NEAR_FULL *Near = &A23NearFullState;
    WDKM_TEST_THREAD *Holders[A23_LONG_HOLDERS];
    WDKM_DIAG_SUMMARY Before;
    WDKM_DIAG_SUMMARY Counted;
    WDKM_DIAG_SUMMARY After;
    ULONG Index;
    ULONG Started = 0;
    ULONG RoutineFailures;
    BOOLEAN Created = TRUE;
    BOOLEAN AllPaused = FALSE;
    LONGLONG Deadline;
    LONGLONG GiveUp;
    ULONG Round;

    WdkmTestInterruptsPause();
    memset(Near, 0, sizeof(*Near));
    CHECK(A23InterruptLocksCreate());
    for (Index = 0; Index < A23_LONG_HOLDERS; Index += 1) {
        Near->HolderLocks[Index] = A23KMutex("attack23.near.holder");
        Created = Created && Near->HolderLocks[Index] != NULL;
    }
    for (Index = 0; Index < A23_SHORT_THREADS; Index += 1) {
        Created = Created && A23PrivateCreate(&Near->Private[Index]);
    }
    Before = A23Summary();
    memset(&Counted, 0, sizeof(Counted));
    if (Created) {
        /* 120 holders + 6 short threads + this one's interrupts: 127. */
        A23InterruptsStart(0xA23F0001ULL, 40);
        for (Index = 0; Index < A23_LONG_HOLDERS; Index += 1) {
            Holders[Index] = WdkmTestStartThread(A23LongHolder, Near);
            if (Holders[Index] == NULL) {
                Created = FALSE;
                break;
            }
            Started += 1;
        }
        for (Round = 0; Round < 2 && Created; Round += 1) {
            /* 1.2 s of waves, and on until this round's share of the
               short operations judged below ran (a loaded machine runs
               few waves in 1.2 s with 120 holders about). */
            Deadline = WdkmTestNowMs() + 1200;
            GiveUp = WdkmTestDeadlineMs(30000);
            while (Created && WdkmTestNowMs() < GiveUp &&
                   (WdkmTestNowMs() < Deadline ||
                    atomic_load(&Near->ShortOperations) < 50 * (Round + 1))) {
                Created = WdkmTestRunThreads(A23_SHORT_THREADS, A23ShortThread, Near);
                Near->Wave += 1;
            }
            /* Quiet point: every holder holds, the short threads ended, no
               interrupt runs. The counts are exact there. */
            __atomic_store_n(&Near->Pause, 1, __ATOMIC_RELEASE);
            Deadline = WdkmTestDeadlineMs(20000);
            while (atomic_load(&Near->Paused) < Started && WdkmTestNowMs() < Deadline) {
                WdkmTestSleepMs(2);
            }
            AllPaused = atomic_load(&Near->Paused) == Started;
            (VOID)A23InterruptsStopAndJudge(__FILE__, __LINE__, 100, 20);
            Counted = A23Summary();
            if (!AllPaused ||
                Counted.HeldLocks - Before.HeldLocks != A23_LONG_HOLDERS ||
                Counted.Untracked != Before.Untracked) {
                break;
            }
            A23InterruptsStart(0xA23F0002ULL + Round, 40);
            __atomic_store_n(&Near->Pause, 0, __ATOMIC_RELEASE);
        }
        __atomic_store_n(&Near->Stop, 1, __ATOMIC_RELEASE);
        __atomic_store_n(&Near->Pause, 0, __ATOMIC_RELEASE);
        for (Index = 0; Index < Started; Index += 1) {
            WdkmTestJoinThread(Holders[Index]);
        }
        WdkmHostInterruptsStop();
    }
    After = A23Summary();
    RoutineFailures = (ULONG)atomic_load(&A23RoutineFailures);
    for (Index = 0; Index < A23_LONG_HOLDERS; Index += 1) {
        if (Near->HolderLocks[Index] != NULL) {
            (VOID)WdkmKMutexDestroy(Near->HolderLocks[Index]);
        }
    }
    for (Index = 0; Index < A23_SHORT_THREADS; Index += 1) {
        A23PrivateDestroy(&Near->Private[Index]);
    }
    A23InterruptLocksDestroy();
    CHECK(Created);
    CHECK(AllPaused);
    CHECK_EQ(RoutineFailures, 0);
    CHECK_EQ(Counted.HeldLocks - Before.HeldLocks, A23_LONG_HOLDERS);
    CHECK_EQ(Counted.Untracked - Before.Untracked, 0);
    CHECK(atomic_load(&Near->ShortOperations) >= 100);
    CHECK(atomic_load(&Near->Cycles) >= A23_LONG_HOLDERS);
    CHECK_EQ(After.OrderViolations - Before.OrderViolations, 0);
    CHECK_EQ(After.ContextViolations - Before.ContextViolations, 0);
    CHECK_EQ(After.Untracked - Before.Untracked, 0);
    CHECK_EQ(After.HeldLocks, Before.HeldLocks);
    CHECK_EQ(After.UnbalancedRegions, Before.UnbalancedRegions);
    CHECK(A23HoldersFit(__FILE__, __LINE__));
}

/* ---------------------------------------------------------------------- */
/* 6. A seeded reference model: one thread walks holds, regions and IRQLs  */
/*    raised by hand (modelled APCs and DPCs); after every step, and       */
/*    inside a modelled DPC and APC excursion at every step, IsHeld,        */
/*    CheckNoneHeld's report and the summary are compared with the model.  */
/* ---------------------------------------------------------------------- */

enum {
    A23W_K1, A23W_K2, A23W_RX, A23W_RS, A23W_F1, A23W_F2, A23W_S1, A23W_S2, A23W_Q1,
    A23W_FA, A23W_D1, A23W_LOCKS
};

static const PCSTR A23WalkNames[A23W_LOCKS] = {
    "attack23.walk.k1", "attack23.walk.k2", "attack23.walk.rx", "attack23.walk.rs",
    "attack23.walk.f1", "attack23.walk.f2", "attack23.walk.s1", "attack23.walk.s2",
    "attack23.walk.q1", "attack23.walk.apc", "attack23.walk.dpc",
};

typedef enum _A23_ITEM_TYPE {
    A23ItemLock, A23ItemCritical, A23ItemGuarded, A23ItemRaiseApc, A23ItemRaiseDpc
} A23_ITEM_TYPE;

#define A23_LOWER 0
#define A23_UPPER 1
#define A23_MAX_ITEMS 14

typedef struct _A23_ITEM {
    A23_ITEM_TYPE Type;
    ULONG Lock;
    ULONG Frame;
    BOOLEAN AtDpcLevel;
    KIRQL OldIrql;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_REGION Region;
} A23_ITEM;

typedef struct _A23_WALK {
    PVOID Locks[A23W_LOCKS];
    A23_ITEM Items[A23_MAX_ITEMS + 4];
    ULONG Depth;
    KIRQL Irql;                       /* what the model says the IRQL is */
    WDKM_DIAG_SUMMARY Base;
    ULONG64 Seed;
    ULONG Walk;
    ULONG Steps;
    ULONG64 Verified;
    BOOLEAN Failed;
    CHAR Trace[512];                  /* the last steps, for a failure's report */
} A23_WALK;

static A23_WALK A23WalkState;

/* The debug output of one CheckNoneHeld (the walk is the only thread). */
#define A23_SINK_MESSAGES 64
static CHAR A23SinkText[A23_SINK_MESSAGES][200];
static ULONG A23SinkCount;

static VOID
A23Sink(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    UNREFERENCED_PARAMETER(ComponentId);
    UNREFERENCED_PARAMETER(Level);
    UNREFERENCED_PARAMETER(Context);
    if (A23SinkCount < A23_SINK_MESSAGES) {
        snprintf(A23SinkText[A23SinkCount], sizeof(A23SinkText[0]), "%s", Message);
    }
    A23SinkCount += 1;
}

static BOOLEAN
A23SinkHas(PCSTR Text)
{
    ULONG Index;

    for (Index = 0; Index < A23SinkCount && Index < A23_SINK_MESSAGES; Index += 1) {
        if (strstr(A23SinkText[Index], Text) != NULL) {
            return TRUE;
        }
    }
    return FALSE;
}

static BOOLEAN
A23WalkIsSpin(ULONG Lock)
{
    return Lock == A23W_S1 || Lock == A23W_S2 || Lock == A23W_Q1 || Lock == A23W_D1;
}

static A23_ITEM *
A23WalkHeld(A23_WALK *Walk, ULONG Lock)
{
    ULONG Index;

    for (Index = 0; Index < Walk->Depth; Index += 1) {
        if (Walk->Items[Index].Type == A23ItemLock && Walk->Items[Index].Lock == Lock) {
            return &Walk->Items[Index];
        }
    }
    return NULL;
}

static VOID
A23WalkNote(A23_WALK *Walk, PCSTR Kind, ULONG Lock)
{
    size_t Used = strlen(Walk->Trace);
    CHAR Step[48];

    snprintf(Step, sizeof(Step), "%s%lu ", Kind, (unsigned long)Lock);
    if (Used + strlen(Step) + 1 >= sizeof(Walk->Trace)) {
        memmove(Walk->Trace, Walk->Trace + 256, Used - 256 + 1);
        Used = strlen(Walk->Trace);
    }
    memcpy(Walk->Trace + Used, Step, strlen(Step) + 1);
}

#define A23_WALK_FAIL(Walk, ...)                                               \
    do {                                                                       \
        if (!(Walk)->Failed) {                                                 \
            WdkmTestFail(__FILE__, __LINE__, __VA_ARGS__);                     \
            WdkmTestFail(__FILE__, __LINE__, "walk %lu step %lu, steps: %s",   \
                         (unsigned long)(Walk)->Walk, (unsigned long)(Walk)->Steps, \
                         (Walk)->Trace);                                       \
        }                                                                      \
        (Walk)->Failed = TRUE;                                                 \
    } while (0)

/*
 * Compares the library with the model: docs/diagnostics.md, "DPCs and
 * APCs". At DISPATCH_LEVEL with no spin lock in the lower frame the code is
 * a DPC (or looks like one): it sees its own (upper) holds and the lower
 * frame's exclusive ones, and CheckNoneHeld reports only its own.
 */
static VOID
A23WalkVerify(A23_WALK *Walk, PCSTR Where)
{
    BOOLEAN DpcMode;
    BOOLEAN LowerSpin = FALSE;
    ULONG Regions = 0;
    ULONG Held = 0;
    ULONG Reported = 0;
    ULONG Index;
    ULONG Lock;
    NTSTATUS Status;
    WDKM_DIAG_SUMMARY Summary;
    CHAR Text[96];

    if (Walk->Failed) {
        return;
    }
    if (KeGetCurrentIrql() != Walk->Irql) {
        A23_WALK_FAIL(Walk, "%s: IRQL %u, model %u", Where, (unsigned)KeGetCurrentIrql(),
                      (unsigned)Walk->Irql);
        return;
    }
    for (Index = 0; Index < Walk->Depth; Index += 1) {
        const A23_ITEM *Item = &Walk->Items[Index];

        if (Item->Type == A23ItemCritical || Item->Type == A23ItemGuarded) {
            Regions += 1;
        } else if (Item->Type == A23ItemLock) {
            Held += 1;
            if (A23WalkIsSpin(Item->Lock) && Item->Frame == A23_LOWER) {
                LowerSpin = TRUE;
            }
        }
    }
    DpcMode = Walk->Irql == DISPATCH_LEVEL && !LowerSpin;
    for (Lock = 0; Lock < A23W_LOCKS; Lock += 1) {
        const A23_ITEM *Item = A23WalkHeld(Walk, Lock);
        BOOLEAN Expected = Item != NULL &&
                           (!DpcMode || Item->Frame == A23_UPPER || Lock != A23W_RS);

        if (WdkmDiagIsHeld(Walk->Locks[Lock]) != Expected) {
            A23_WALK_FAIL(Walk, "%s: IsHeld(%s) is %s, model %s (%s)", Where,
                          A23WalkNames[Lock], Expected ? "FALSE" : "TRUE",
                          Expected ? "TRUE" : "FALSE", DpcMode ? "DPC" : "thread");
            return;
        }
    }
    A23SinkCount = 0;
    Status = WdkmDiagCheckNoneHeld("attack23.walk");
    for (Lock = 0; Lock < A23W_LOCKS; Lock += 1) {
        const A23_ITEM *Item = A23WalkHeld(Walk, Lock);
        BOOLEAN Expected = Item != NULL && (!DpcMode || Item->Frame == A23_UPPER);

        snprintf(Text, sizeof(Text), "\"%s\" still held", A23WalkNames[Lock]);
        if (A23SinkHas(Text) != Expected) {
            A23_WALK_FAIL(Walk, "%s: CheckNoneHeld %s %s (%s)", Where,
                          Expected ? "did not report" : "reported", A23WalkNames[Lock],
                          DpcMode ? "DPC" : "thread");
            return;
        }
        Reported += Expected ? 1 : 0;
    }
    if (A23SinkHas("not left") != (!DpcMode && Regions != 0)) {
        A23_WALK_FAIL(Walk, "%s: CheckNoneHeld %s %lu region(s) (%s)", Where,
                      DpcMode || Regions == 0 ? "reported" : "did not report",
                      (unsigned long)Regions, DpcMode ? "DPC" : "thread");
        return;
    }
    if (Status != ((Reported != 0 || (!DpcMode && Regions != 0)) ? STATUS_WDKM_LOCK_HELD
                                                                  : STATUS_SUCCESS)) {
        A23_WALK_FAIL(Walk, "%s: CheckNoneHeld returned %s", Where, WdkmStatusName(Status));
        return;
    }
    if (WdkmDiagQuerySummary(&Summary) != STATUS_SUCCESS) {
        A23_WALK_FAIL(Walk, "%s: QuerySummary", Where);
        return;
    }
    if (Summary.HeldLocks - Walk->Base.HeldLocks != Held ||
        Summary.UnbalancedRegions - Walk->Base.UnbalancedRegions != Regions ||
        Summary.Untracked != Walk->Base.Untracked ||
        Summary.OrderViolations != Walk->Base.OrderViolations) {
        A23_WALK_FAIL(Walk, "%s: summary held %lu regions %lu untracked +%lu order +%lu, "
                      "model held %lu regions %lu", Where,
                      (unsigned long)(Summary.HeldLocks - Walk->Base.HeldLocks),
                      (unsigned long)(Summary.UnbalancedRegions - Walk->Base.UnbalancedRegions),
                      (unsigned long)(Summary.Untracked - Walk->Base.Untracked),
                      (unsigned long)(Summary.OrderViolations - Walk->Base.OrderViolations),
                      (unsigned long)Held, (unsigned long)Regions);
        return;
    }
    Walk->Verified += 1;
}

static NTSTATUS
A23WalkAcquire(A23_WALK *Walk, A23_ITEM *Item)
{
    PVOID Lock = Walk->Locks[Item->Lock];
    PVOID Data;
    const VOID *ConstData;

    switch (Item->Lock) {
    case A23W_K1:
    case A23W_K2:
        return WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, A23_VALUE_SIZE, &Data);
    case A23W_RX:
        return WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Lock, A23_VALUE_SIZE, &Data);
    case A23W_RS:
        return WdkmResourceAcquireShared((PWDKM_RESOURCE)Lock, A23_VALUE_SIZE, &ConstData);
    case A23W_F1:
    case A23W_F2:
    case A23W_FA:
        return WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock, A23_VALUE_SIZE, &Data);
    case A23W_Q1:
        return Item->AtDpcLevel
                   ? WdkmQueuedSpinLockAcquireAtDpcLevel((PWDKM_QUEUED_SPIN_LOCK)Lock,
                                                         A23_VALUE_SIZE, &Item->Handle, &Data)
                   : WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Lock, A23_VALUE_SIZE,
                                               &Item->Handle, &Data);
    default:
        return Item->AtDpcLevel
                   ? WdkmSpinLockAcquireAtDpcLevel((PWDKM_SPIN_LOCK)Lock, A23_VALUE_SIZE, &Data)
                   : WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock, A23_VALUE_SIZE, &Item->OldIrql,
                                         &Data);
    }
}

static NTSTATUS
A23WalkRelease(A23_WALK *Walk, A23_ITEM *Item)
{
    PVOID Lock = Walk->Locks[Item->Lock];

    switch (Item->Lock) {
    case A23W_K1:
    case A23W_K2:
        return WdkmKMutexRelease((PWDKM_KMUTEX)Lock);
    case A23W_RX:
    case A23W_RS:
        return WdkmResourceRelease((PWDKM_RESOURCE)Lock);
    case A23W_F1:
    case A23W_F2:
    case A23W_FA:
        return WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock);
    case A23W_Q1:
        return WdkmQueuedSpinLockRelease(&Item->Handle);
    default:
        return Item->AtDpcLevel ? WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)Lock)
                                : WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, Item->OldIrql);
    }
}

/* Pushes Item (filled with Type, Lock, AtDpcLevel) and does it. */
static VOID
A23WalkPush(A23_WALK *Walk, A23_ITEM_TYPE Type, ULONG Lock, BOOLEAN AtDpcLevel)
{
    A23_ITEM *Item = &Walk->Items[Walk->Depth];
    NTSTATUS Status = STATUS_SUCCESS;

    memset(Item, 0, sizeof(*Item));
    Item->Type = Type;
    Item->Lock = Lock;
    Item->AtDpcLevel = AtDpcLevel;
    Item->Frame = Walk->Irql < DISPATCH_LEVEL ? A23_LOWER : A23_UPPER;
    switch (Type) {
    case A23ItemLock:
        A23WalkNote(Walk, AtDpcLevel ? "+dpclevel:" : "+", Lock);
        Status = A23WalkAcquire(Walk, Item);
        if (Lock == A23W_F1 || Lock == A23W_F2 || Lock == A23W_FA) {
            Walk->Irql = APC_LEVEL;
        } else if (A23WalkIsSpin(Lock)) {
            Walk->Irql = DISPATCH_LEVEL;
        }
        break;
    case A23ItemCritical:
        A23WalkNote(Walk, "+critical", 0);
        Status = WdkmRegionEnterCritical(&Item->Region);
        break;
    case A23ItemGuarded:
        A23WalkNote(Walk, "+guarded", 0);
        Status = WdkmRegionEnterGuarded(&Item->Region);
        break;
    case A23ItemRaiseApc:
        A23WalkNote(Walk, "+raise-apc", 0);
        KeRaiseIrql(APC_LEVEL, &Item->OldIrql);
        Walk->Irql = APC_LEVEL;
        break;
    default:
        A23WalkNote(Walk, "+raise-dpc", 0);
        KeRaiseIrql(DISPATCH_LEVEL, &Item->OldIrql);
        Walk->Irql = DISPATCH_LEVEL;
        break;
    }
    if (Status != STATUS_SUCCESS) {
        A23_WALK_FAIL(Walk, "push %u/%lu returned %s", (unsigned)Type, (unsigned long)Lock,
                      WdkmStatusName(Status));
        return;
    }
    Walk->Depth += 1;
}

static VOID
A23WalkPop(A23_WALK *Walk)
{
    A23_ITEM *Item = &Walk->Items[Walk->Depth - 1];
    NTSTATUS Status = STATUS_SUCCESS;

    switch (Item->Type) {
    case A23ItemLock:
        A23WalkNote(Walk, "-", Item->Lock);
        Status = A23WalkRelease(Walk, Item);
        break;
    case A23ItemCritical:
    case A23ItemGuarded:
        A23WalkNote(Walk, "-region", 0);
        Status = WdkmRegionLeave(&Item->Region);
        break;
    default:
        A23WalkNote(Walk, "-raise", 0);
        KeLowerIrql(Item->OldIrql);
        break;
    }
    if (Status != STATUS_SUCCESS) {
        A23_WALK_FAIL(Walk, "pop %u/%lu returned %s", (unsigned)Item->Type,
                      (unsigned long)Item->Lock, WdkmStatusName(Status));
    }
    Walk->Depth -= 1;
    /* The IRQL the item was pushed at: what the one below left. */
    Walk->Irql = PASSIVE_LEVEL;
    {
        ULONG Index;

        for (Index = 0; Index < Walk->Depth; Index += 1) {
            const A23_ITEM *Below = &Walk->Items[Index];

            if (Below->Type == A23ItemRaiseApc && Walk->Irql < APC_LEVEL) {
                Walk->Irql = APC_LEVEL;
            } else if (Below->Type == A23ItemRaiseDpc) {
                Walk->Irql = DISPATCH_LEVEL;
            } else if (Below->Type == A23ItemLock) {
                if (A23WalkIsSpin(Below->Lock)) {
                    Walk->Irql = DISPATCH_LEVEL;
                } else if ((Below->Lock == A23W_F1 || Below->Lock == A23W_F2 ||
                            Below->Lock == A23W_FA) && Walk->Irql < APC_LEVEL) {
                    Walk->Irql = APC_LEVEL;
                }
            }
        }
    }
}

static BOOLEAN
A23WalkInGuarded(const A23_WALK *Walk)
{
    ULONG Index;

    for (Index = 0; Index < Walk->Depth; Index += 1) {
        if (Walk->Items[Index].Type == A23ItemGuarded) {
            return TRUE;
        }
    }
    return FALSE;
}

/* A modelled DPC on the thread, here: raise, check, take its spin lock,
   check, give it back, check, lower. */
static VOID
A23WalkDpcExcursion(A23_WALK *Walk)
{
    if (Walk->Failed || Walk->Irql >= DISPATCH_LEVEL || Walk->Depth + 2 > A23_MAX_ITEMS + 3) {
        return;
    }
    A23WalkPush(Walk, A23ItemRaiseDpc, 0, FALSE);
    A23WalkVerify(Walk, "dpc entry");
    A23WalkPush(Walk, A23ItemLock, A23W_D1, TRUE);
    A23WalkVerify(Walk, "dpc holding");
    A23WalkPop(Walk);
    A23WalkVerify(Walk, "dpc released");
    A23WalkPop(Walk);
    A23WalkVerify(Walk, "after dpc");
}

/* A modelled special kernel APC: at PASSIVE_LEVEL outside guarded regions
   only (NT's masking); takes its fast mutex, a DPC lands inside it. */
static VOID
A23WalkApcExcursion(A23_WALK *Walk)
{
    if (Walk->Failed || Walk->Irql != PASSIVE_LEVEL || A23WalkInGuarded(Walk) ||
        Walk->Depth + 2 > A23_MAX_ITEMS + 1) {
        return;
    }
    A23WalkPush(Walk, A23ItemRaiseApc, 0, FALSE);
    A23WalkVerify(Walk, "apc entry");
    A23WalkPush(Walk, A23ItemLock, A23W_FA, FALSE);
    A23WalkVerify(Walk, "apc holding");
    A23WalkDpcExcursion(Walk);
    A23WalkPop(Walk);
    A23WalkVerify(Walk, "apc released");
    A23WalkPop(Walk);
    A23WalkVerify(Walk, "after apc");
}

static VOID
A23WalkStep(A23_WALK *Walk, ULONG64 *State)
{
    ULONG Candidates[16];
    BOOLEAN AtDpc[16];
    ULONG Count = 0;
    ULONG MaxRank = 0;
    BOOLEAN Any = FALSE;
    ULONG Lock;
    ULONG Choice;
    ULONG Index;
    ULONG Regions = 0;

    for (Index = 0; Index < Walk->Depth; Index += 1) {
        if (Walk->Items[Index].Type == A23ItemLock) {
            if (!Any || Walk->Items[Index].Lock > MaxRank) {
                MaxRank = Walk->Items[Index].Lock;
            }
            Any = TRUE;
        } else if (Walk->Items[Index].Type == A23ItemCritical ||
                   Walk->Items[Index].Type == A23ItemGuarded) {
            Regions += 1;
        }
    }
    if (Walk->Depth != 0 && (A23Random(State) % 100 < 40 || Walk->Depth >= A23_MAX_ITEMS)) {
        A23WalkPop(Walk);
        return;
    }
    /* Locks in one global order (no cycle is ever made on purpose). */
    for (Lock = Any ? MaxRank + 1 : 0; Lock <= A23W_Q1; Lock += 1) {
        if (A23WalkIsSpin(Lock)) {
            Candidates[Count] = Lock;
            AtDpc[Count] = Walk->Irql == DISPATCH_LEVEL && (A23Random(State) & 1) != 0;
            Count += 1;
        } else if (Walk->Irql <= APC_LEVEL) {
            Candidates[Count] = Lock;
            AtDpc[Count] = FALSE;
            Count += 1;
        }
    }
    if (Walk->Irql <= APC_LEVEL && Regions < 3) {
        Candidates[Count] = 100 + A23ItemCritical;
        Count += 1;
        Candidates[Count] = 100 + A23ItemGuarded;
        Count += 1;
    }
    if (Walk->Irql == PASSIVE_LEVEL) {
        Candidates[Count] = 100 + A23ItemRaiseApc;
        Count += 1;
    }
    if (Walk->Irql < DISPATCH_LEVEL) {
        Candidates[Count] = 100 + A23ItemRaiseDpc;
        Count += 1;
    }
    if (Count == 0) {
        if (Walk->Depth != 0) {
            A23WalkPop(Walk);
        }
        return;
    }
    Choice = A23Random(State) % Count;
    if (Candidates[Choice] >= 100) {
        A23WalkPush(Walk, (A23_ITEM_TYPE)(Candidates[Choice] - 100), 0, FALSE);
    } else {
        A23WalkPush(Walk, A23ItemLock, Candidates[Choice], AtDpc[Choice]);
    }
}

static VOID
A23WalkThread(PVOID Context, ULONG Index)
{
    A23_WALK *Walk = (A23_WALK *)Context;
    ULONG64 State = Walk->Seed ^ ((ULONG64)(Walk->Walk + 1) * 0x9E3779B97F4A7C15ULL);
    ULONG Steps = 20 + A23Random(&State) % 60;

    UNREFERENCED_PARAMETER(Index);
    Walk->Depth = 0;
    Walk->Irql = PASSIVE_LEVEL;
    Walk->Trace[0] = '\0';
    if (WdkmDiagQuerySummary(&Walk->Base) != STATUS_SUCCESS) {
        A23_WALK_FAIL(Walk, "QuerySummary");
        return;
    }
    A23WalkVerify(Walk, "start");
    /* The first record of the thread is claimed by a DPC, then by an APC. */
    A23WalkDpcExcursion(Walk);
    A23WalkApcExcursion(Walk);
    for (Walk->Steps = 0; Walk->Steps < Steps && !Walk->Failed; Walk->Steps += 1) {
        A23WalkStep(Walk, &State);
        A23WalkVerify(Walk, "step");
        A23WalkDpcExcursion(Walk);
        A23WalkApcExcursion(Walk);
    }
    while (Walk->Depth != 0 && !Walk->Failed) {
        A23WalkPop(Walk);
        A23WalkVerify(Walk, "unwind");
        A23WalkDpcExcursion(Walk);
    }
    /* Leave the emulation sane even after a failure. */
    while (Walk->Depth != 0) {
        A23WalkPop(Walk);
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
}

static VOID
A23ReferenceModelWalks(VOID)
{
    A23_WALK *Walk = &A23WalkState;
    ULONG Lock;
    ULONG Walks = 160;
    BOOLEAN Created = TRUE;
    LONGLONG Deadline = WdkmTestDeadlineMs(4000);
    WDKM_DIAG_SUMMARY Before;
    WDKM_DIAG_SUMMARY After;

    WdkmTestInterruptsPause();
    memset(Walk, 0, sizeof(*Walk));
    for (Lock = 0; Lock < A23W_LOCKS && Created; Lock += 1) {
        switch (Lock) {
        case A23W_K1:
        case A23W_K2:
            Walk->Locks[Lock] = A23KMutex(A23WalkNames[Lock]);
            break;
        case A23W_RX:
        case A23W_RS:
            Walk->Locks[Lock] = A23Resource(A23WalkNames[Lock]);
            break;
        case A23W_F1:
        case A23W_F2:
        case A23W_FA:
            Walk->Locks[Lock] = A23FastMutex(A23WalkNames[Lock]);
            break;
        case A23W_Q1:
            Walk->Locks[Lock] = A23QueuedSpinLock(A23WalkNames[Lock]);
            break;
        default:
            Walk->Locks[Lock] = A23SpinLock(A23WalkNames[Lock]);
            break;
        }
        Created = Walk->Locks[Lock] != NULL;
    }
    Walk->Seed = 0xA23B0001ULL;
    Before = A23Summary();
    WdkmHostSetDebugPrintSink(A23Sink, NULL);
    for (Walk->Walk = 0; Created && Walk->Walk < Walks && !Walk->Failed; Walk->Walk += 1) {
        Created = WdkmTestRunThreads(1, A23WalkThread, Walk);
        if (Walk->Walk >= 40 && WdkmTestNowMs() > Deadline) {
            break;
        }
    }
    WdkmHostSetDebugPrintSink(NULL, NULL);
    After = A23Summary();
    for (Lock = 0; Lock < A23W_LOCKS; Lock += 1) {
        if (Walk->Locks[Lock] == NULL) {
            continue;
        }
        switch (Lock) {
        case A23W_K1:
        case A23W_K2:
            (VOID)WdkmKMutexDestroy((PWDKM_KMUTEX)Walk->Locks[Lock]);
            break;
        case A23W_RX:
        case A23W_RS:
            (VOID)WdkmResourceDestroy((PWDKM_RESOURCE)Walk->Locks[Lock]);
            break;
        case A23W_F1:
        case A23W_F2:
        case A23W_FA:
            (VOID)WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)Walk->Locks[Lock]);
            break;
        case A23W_Q1:
            (VOID)WdkmQueuedSpinLockDestroy((PWDKM_QUEUED_SPIN_LOCK)Walk->Locks[Lock]);
            break;
        default:
            (VOID)WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Walk->Locks[Lock]);
            break;
        }
    }
    /* CheckNoneHeld reported on purpose at every step that held something. */
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK(Created);
    CHECK(!Walk->Failed);
    CHECK(Walk->Walk >= 40);
    CHECK(Walk->Verified >= 2000);
    CHECK_EQ(After.OrderViolations - Before.OrderViolations, 0);
    CHECK_EQ(After.Untracked - Before.Untracked, 0);
    CHECK_EQ(After.HeldLocks, Before.HeldLocks);
    CHECK_EQ(After.UnbalancedRegions, Before.UnbalancedRegions);
    CHECK(A23HoldersFit(__FILE__, __LINE__));
}

/* ---------------------------------------------------------------------- */
/* 7. The leak check after interrupt churn: exact counts of what parked    */
/*    threads still hold and the regions they are in, clean once they let  */
/*    go ("The leak check at unload").                                     */
/* ---------------------------------------------------------------------- */

typedef struct _A23_LEAK {
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX Fast;
    PWDKM_RESOURCE Resource;
    PWDKM_SPIN_LOCK Idle[3];          /* live, never held */
    KEVENT Go;
    atomic_ulong Next;
    atomic_ulong Ready;
    atomic_ulong Failures;
} A23_LEAK;

static A23_LEAK A23LeakState;

/* Index 0: KMUTEX in a critical region; 1: fast mutex at APC_LEVEL raised
   by hand; 2: ERESOURCE shared in a guarded region. Each keeps its holds
   while interrupts land on it for a while, then waits. */
static VOID
A23LeakHolder(PVOID Context, ULONG Unused)
{
    A23_LEAK *Leak = (A23_LEAK *)Context;
    ULONG Index = (ULONG)atomic_fetch_add(&Leak->Next, 1);
    WDKM_REGION Region;
    BOOLEAN InRegion = FALSE;
    const VOID *Held = NULL;
    KIRQL Irql = PASSIVE_LEVEL;
    PVOID Data;
    const VOID *ConstData;
    NTSTATUS Status = STATUS_UNSUCCESSFUL;
    LONGLONG Until;
    LONGLONG GiveUp;

    UNREFERENCED_PARAMETER(Unused);
    if (Index == 0) {
        InRegion = WdkmRegionEnterCritical(&Region) == STATUS_SUCCESS;
        Status = WdkmKMutexAcquire(Leak->Mutex, A23_VALUE_SIZE, &Data);
        Held = Leak->Mutex;
    } else if (Index == 1) {
        KeRaiseIrql(APC_LEVEL, &Irql);
        Status = WdkmFastMutexAcquire(Leak->Fast, A23_VALUE_SIZE, &Data);
        Held = Leak->Fast;
    } else {
        InRegion = WdkmRegionEnterGuarded(&Region) == STATUS_SUCCESS;
        Status = WdkmResourceAcquireShared(Leak->Resource, A23_VALUE_SIZE, &ConstData);
        Held = Leak->Resource;
    }
    if (Status != STATUS_SUCCESS || (Index != 1 && !InRegion)) {
        atomic_fetch_add(&Leak->Failures, 1);
    }
    if (Index != 2 && Status == STATUS_SUCCESS) {
        A23PushExclusive(Held);
    }
    /* 150 ms, and on until the DPCs the test judges (5) have run: on a
       loaded machine few land in 150 ms. */
    Until = WdkmTestNowMs() + 150;
    GiveUp = WdkmTestDeadlineMs(20000);
    while (WdkmTestNowMs() < GiveUp &&
           (WdkmTestNowMs() < Until || atomic_load(&A23RoutineRuns[WdkmHostInterruptDpc]) < 5)) {
        if (Status == STATUS_SUCCESS && !WdkmDiagIsHeld(Held)) {
            atomic_fetch_add(&Leak->Failures, 1);
            break;
        }
    }
    atomic_fetch_add(&Leak->Ready, 1);
    (VOID)KeWaitForSingleObject(&Leak->Go, Executive, KernelMode, FALSE, NULL);
    if (Index != 2 && Status == STATUS_SUCCESS) {
        A23PopExclusive();
    }
    if (Status == STATUS_SUCCESS) {
        if (Index == 0) {
            Status = WdkmKMutexRelease(Leak->Mutex);
        } else if (Index == 1) {
            Status = WdkmFastMutexRelease(Leak->Fast);
        } else {
            Status = WdkmResourceRelease(Leak->Resource);
        }
        if (Status != STATUS_SUCCESS) {
            atomic_fetch_add(&Leak->Failures, 1);
        }
    }
    if (Index == 1) {
        KeLowerIrql(Irql);
    }
    if (InRegion && WdkmRegionLeave(&Region) != STATUS_SUCCESS) {
        atomic_fetch_add(&Leak->Failures, 1);
    }
    if (WdkmDiagCheckNoneHeld("attack23 leak holder") != STATUS_SUCCESS) {
        atomic_fetch_add(&Leak->Failures, 1);
    }
}

static VOID
A23LeakCheckExactAfterChurn(VOID)
{
    A23_LEAK *Leak = &A23LeakState;
    WDKM_DIAG_SUMMARY Clean;
    WDKM_DIAG_SUMMARY Leaked;
    WDKM_DIAG_SUMMARY Again;
    NTSTATUS CleanStatus;
    NTSTATUS LeakedStatus = STATUS_UNSUCCESSFUL;
    NTSTATUS AgainStatus;
    WDKM_TEST_THREAD *Threads[3];
    ULONG Index;
    ULONG Started = 0;
    BOOLEAN Created;
    LONGLONG Deadline;

    WdkmTestInterruptsPause();
    memset(Leak, 0, sizeof(*Leak));
    memset(&Leaked, 0, sizeof(Leaked));
    KeInitializeEvent(&Leak->Go, NotificationEvent, FALSE);
    CleanStatus = WdkmDiagLeakCheck(&Clean);
    Created = A23InterruptLocksCreate();
    Leak->Mutex = A23KMutex("attack23.leak.kmutex");
    Leak->Fast = A23FastMutex("attack23.leak.fast");
    Leak->Resource = A23Resource("attack23.leak.resource");
    for (Index = 0; Index < 3; Index += 1) {
        Leak->Idle[Index] = A23SpinLock("attack23.leak.idle");
        Created = Created && Leak->Idle[Index] != NULL;
    }
    Created = Created && Leak->Mutex != NULL && Leak->Fast != NULL && Leak->Resource != NULL;
    if (Created) {
        A23InterruptsStart(0xA23A0001ULL, 20);
        for (Index = 0; Index < 3; Index += 1) {
            Threads[Index] = WdkmTestStartThread(A23LeakHolder, Leak);
            if (Threads[Index] == NULL) {
                Created = FALSE;
                break;
            }
            Started += 1;
        }
        Deadline = WdkmTestDeadlineMs(20000);
        while (atomic_load(&Leak->Ready) < Started && WdkmTestNowMs() < Deadline) {
            WdkmTestSleepMs(1);
        }
        (VOID)A23InterruptsStopAndJudge(__FILE__, __LINE__, 5, 0);
        /* Nobody runs library code now: the holders wait. */
        LeakedStatus = WdkmDiagLeakCheck(&Leaked);
        KeSetEvent(&Leak->Go, 0, FALSE);
        for (Index = 0; Index < Started; Index += 1) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    (VOID)WdkmKMutexDestroy(Leak->Mutex);
    (VOID)WdkmFastMutexDestroy(Leak->Fast);
    (VOID)WdkmResourceDestroy(Leak->Resource);
    for (Index = 0; Index < 3; Index += 1) {
        (VOID)WdkmSpinLockDestroy(Leak->Idle[Index]);
    }
    A23InterruptLocksDestroy();
    AgainStatus = WdkmDiagLeakCheck(&Again);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);   /* the leaks were on purpose */
    CHECK_STATUS(CleanStatus, STATUS_SUCCESS);
    CHECK(Created);
    CHECK_EQ(atomic_load(&Leak->Failures), 0);
    CHECK_STATUS(LeakedStatus, STATUS_WDKM_LEAK_DETECTED);
    /* 5 interrupt locks + 3 held + 3 idle; 3 held; 2 regions entered. */
    CHECK_EQ(Leaked.LiveLocks - Clean.LiveLocks, 11);
    CHECK_EQ(Leaked.HeldLocks - Clean.HeldLocks, 3);
    CHECK_EQ(Leaked.UnbalancedRegions - Clean.UnbalancedRegions, 2);
    CHECK_EQ(Leaked.Untracked - Clean.Untracked, 0);
    CHECK_STATUS(AgainStatus, STATUS_SUCCESS);
    CHECK_EQ(Again.LiveLocks, Clean.LiveLocks);
    CHECK_EQ(Again.HeldLocks, 0);
    CHECK_EQ(Again.UnbalancedRegions, 0);
    CHECK(A23HoldersFit(__FILE__, __LINE__));
}

static const WDKM_TEST_CASE Attack23Cases[] = {
    { "table_holds_128_holders_at_start", A23TableHolds128 },
    { "churn_under_interrupts_is_held_and_none_held", A23ChurnUnderInterrupts },
    { "order_cycles_survive_interrupt_churn", A23OrderCyclesSurviveChurn },
    { "closing_order_reported_once", A23ClosingOrderReportedOnce },
    { "ended_threads_leave_no_records", A23EndedThreadsLeaveNoRecords },
    { "near_full_table_with_interrupts", A23NearFullTable },
    { "reference_model_walks_with_modelled_dpcs_and_apcs", A23ReferenceModelWalks },
    { "leak_check_exact_after_interrupt_churn", A23LeakCheckExactAfterChurn },
};

const WDKM_TEST_SUITE WdkmAttack23Suite = WDKM_TEST_SUITE_OF("attack23", Attack23Cases);
