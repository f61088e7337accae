/*
 * test_attack26.c - written from docs/reference.md, CHANGELOG.md and the
 * public headers alone (not src/), against three promises just fixed:
 *
 *  1. Destroy / Take / DestroyWith of a held KMUTEX, FAST_MUTEX, guarded
 *     mutex, ERESOURCE or push lock answer STATUS_WDKM_LOCK_HELD "once the
 *     kernel has granted it, and until the kernel has released it ... also
 *     from a DPC or APC on the holder's thread" (reference.md, "What is not
 *     detected"), and a lock that is truly free stays destroyable after
 *     any history.
 *  2. A nested spin-lock release with an OldIrql below DISPATCH_LEVEL while
 *     another spin lock of the caller is held is refused with
 *     STATUS_WDKM_LOCK_HELD, nothing changed; NT's explicit out-of-order
 *     release still works (reference.md, spin locks).
 *  3. ERESOURCE under special kernel APCs of its own thread: exclusive
 *     requests over a shared hold answer STATUS_POSSIBLE_DEADLOCK, and an
 *     exclusive hold's recursion stays exact (CHANGELOG, Unreleased/Fixed).
 *
 * The oracle for the instants inside an acquire or a release is the
 * emulation's own view of the kernel objects: WdkmHostThreadHeldLockCount()
 * on the interrupted thread is the number of kernel objects it holds, so
 * an event that sees it non-zero is between "the kernel has granted" and
 * "the kernel has released".
 */
#define _DEFAULT_SOURCE 1   /* usleep: a host sleep that works at DISPATCH_LEVEL */
#include "wdkm_test.h"
#include "wdkm_test_kinds.h"
#if WDKM_CHECKED
#include <wdkmutex/wdkm_diag.h>
#endif

#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- */
/* The five kinds that promise 1 names, behind one table                   */
/* ---------------------------------------------------------------------- */

typedef enum _A26_KIND {
    A26KMutex,
    A26FastMutex,
    A26Guarded,
    A26Resource,
    A26PushLock,
    A26KindCount
} A26_KIND;

static const PCSTR A26KindNames[A26KindCount] = {
    "KMUTEX", "FAST_MUTEX", "guarded mutex", "ERESOURCE", "push lock"
};

static volatile LONG A26DrainCalls;
static volatile LONG A26DrainSeen;

static VOID
A26Drain(PVOID Value, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    InterlockedIncrement(&A26DrainCalls);
    InterlockedExchange(&A26DrainSeen, *(LONG *)Value);
}

/* The library's kind of each (WdkmTestKind*, wdkm_test_kinds.h). */
static const WDKM_LOCK_KIND A26LockKinds[A26KindCount] = {
    WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindGuardedMutex, WdkmLockKindResource,
    WdkmLockKindPushLock,
};

static NTSTATUS
A26Create(A26_KIND Kind, LONG Initial, PVOID *Lock)
{
    return WdkmTestKindCreate(A26LockKinds[Kind], &Initial, sizeof(LONG), Lock);
}

/* A hold of Lock as Kind: exclusive, or shared (ERESOURCE, push lock). */
static WDKM_TEST_KIND_HOLD
A26Hold(WDKM_LOCK_KIND Kind, PVOID Lock, BOOLEAN Shared)
{
    WDKM_TEST_KIND_HOLD Hold;

    memset(&Hold, 0, sizeof(Hold));
    Hold.Kind = Kind;
    Hold.Lock = Lock;
    Hold.Shared = Shared;
    return Hold;
}

/* Exclusive acquisition (the only mode of the mutexes). */
static NTSTATUS
A26Acquire(A26_KIND Kind, PVOID Lock)
{
    WDKM_TEST_KIND_HOLD Hold = A26Hold(A26LockKinds[Kind], Lock, FALSE);
    PVOID Data;

    return WdkmTestKindAcquire(&Hold, sizeof(LONG), &Data);
}

static NTSTATUS
A26AcquireShared(A26_KIND Kind, PVOID Lock)
{
    WDKM_TEST_KIND_HOLD Hold = A26Hold(Kind == A26Resource ? WdkmLockKindResource
                                                           : WdkmLockKindPushLock,
                                       Lock, TRUE);
    PVOID Data;

    return WdkmTestKindAcquire(&Hold, sizeof(LONG), &Data);
}

/* The release of an exclusive or shared hold (no kind here keeps an IRQL). */
static NTSTATUS
A26Release(A26_KIND Kind, PVOID Lock)
{
    WDKM_TEST_KIND_HOLD Hold = A26Hold(A26LockKinds[Kind], Lock, FALSE);

    return WdkmTestKindRelease(&Hold);
}

static NTSTATUS
A26Destroy(A26_KIND Kind, PVOID Lock)
{
    return WdkmTestKindDestroy(A26LockKinds[Kind], Lock);
}

static NTSTATUS
A26Take(A26_KIND Kind, PVOID Lock, LONG *Value)
{
    return WdkmTestKindTake(A26LockKinds[Kind], Lock, sizeof(LONG), Value);
}

static NTSTATUS
A26DestroyWith(A26_KIND Kind, PVOID Lock)
{
    return WdkmTestKindDestroyWith(A26LockKinds[Kind], Lock, sizeof(LONG), A26Drain, NULL);
}

/* The three teardowns of a held lock: each must answer LOCK_HELD (at an
   IRQL the teardown accepts), the drain not called, *Value untouched. */
static NTSTATUS
A26AllTeardownsAnswer(A26_KIND Kind, PVOID Lock)
{
    LONG Value = 0x5A5A;
    LONG DrainsBefore = InterlockedCompareExchange(&A26DrainCalls, 0, 0);
    NTSTATUS Status;

    Status = A26Destroy(Kind, Lock);
    if (Status != STATUS_WDKM_LOCK_HELD) {
        return Status;
    }
    Status = A26Take(Kind, Lock, &Value);
    if (Status != STATUS_WDKM_LOCK_HELD || Value != 0x5A5A) {
        return Status == STATUS_WDKM_LOCK_HELD ? STATUS_INTERNAL_ERROR : Status;
    }
    Status = A26DestroyWith(Kind, Lock);
    if (Status != STATUS_WDKM_LOCK_HELD) {
        return Status;
    }
    if (InterlockedCompareExchange(&A26DrainCalls, 0, 0) != DrainsBefore) {
        return STATUS_INTERNAL_ERROR;
    }
    return STATUS_WDKM_LOCK_HELD;
}

/* A free lock ends with DestroyWith: SUCCESS, the drain once with Value. */
static BOOLEAN
A26DestroyFree(A26_KIND Kind, PVOID Lock, LONG Value)
{
    LONG Before = InterlockedCompareExchange(&A26DrainCalls, 0, 0);

    if (A26DestroyWith(Kind, Lock) != STATUS_SUCCESS) {
        return FALSE;
    }
    return InterlockedCompareExchange(&A26DrainCalls, 0, 0) == Before + 1 &&
           InterlockedCompareExchange(&A26DrainSeen, 0, 0) == Value;
}

static LONG
A26Read(volatile LONG *Value)
{
    return InterlockedCompareExchange(Value, 0, 0);
}

/* Waits (PASSIVE or APC_LEVEL) until *Value == Wanted, at most ~5 s. */
static BOOLEAN
A26WaitFor(volatile LONG *Value, LONG Wanted)
{
    ULONG Tries;

    for (Tries = 0; Tries < 5000; Tries += 1) {
        if (A26Read(Value) == Wanted) {
            return TRUE;
        }
        usleep(1000);
    }
    return FALSE;
}

/* ---------------------------------------------------------------------- */
/* 1a. Held by another thread (exclusive, shared), waiters present         */
/* ---------------------------------------------------------------------- */

typedef struct _A26_HOLDER {
    A26_KIND Kind;
    PVOID Lock;
    BOOLEAN Shared;
    volatile LONG Holding;   /* 1 once held, 2 once released */
    volatile LONG Go;        /* set by the test: release now */
    volatile LONG Errors;
} A26_HOLDER;

static VOID
A26HolderThread(PVOID Context, ULONG Index)
{
    A26_HOLDER *Holder = (A26_HOLDER *)Context;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    Status = Holder->Shared ? A26AcquireShared(Holder->Kind, Holder->Lock)
                            : A26Acquire(Holder->Kind, Holder->Lock);
    if (Status != STATUS_SUCCESS) {
        InterlockedIncrement(&Holder->Errors);
        InterlockedExchange(&Holder->Holding, 2);
        return;
    }
    InterlockedExchange(&Holder->Holding, 1);
    (VOID)A26WaitFor(&Holder->Go, 1);
    if (A26Release(Holder->Kind, Holder->Lock) != STATUS_SUCCESS) {
        InterlockedIncrement(&Holder->Errors);
    }
    if (WdkmHostThreadHeldLockCount() != 0) {
        InterlockedIncrement(&Holder->Errors);
    }
    InterlockedExchange(&Holder->Holding, 2);
}

static VOID
HeldByOtherThreadEveryKind(VOID)
{
    ULONG Kind;
    ULONG Mode;

    for (Kind = 0; Kind < A26KindCount; Kind += 1) {
        for (Mode = 0; Mode < 2; Mode += 1) {
            A26_HOLDER Holder;
            A26_HOLDER Waiter;
            WDKM_TEST_THREAD *HolderThread;
            WDKM_TEST_THREAD *WaiterThread;
            KIRQL OldIrql;
            PVOID Lock = NULL;

            if (Mode == 1 && Kind != A26Resource && Kind != A26PushLock) {
                continue;
            }
            CHECK_STATUS(A26Create((A26_KIND)Kind, 7, &Lock), STATUS_SUCCESS);
            memset(&Holder, 0, sizeof(Holder));
            Holder.Kind = (A26_KIND)Kind;
            Holder.Lock = Lock;
            Holder.Shared = (BOOLEAN)(Mode == 1);
            HolderThread = WdkmTestStartThread(A26HolderThread, &Holder);
            CHECK(HolderThread != NULL);
            CHECK(A26WaitFor(&Holder.Holding, 1));

            /* A second thread queues up behind the holder (exclusive). */
            memset(&Waiter, 0, sizeof(Waiter));
            Waiter.Kind = (A26_KIND)Kind;
            Waiter.Lock = Lock;
            Waiter.Go = 1;
            WaiterThread = WdkmTestStartThread(A26HolderThread, &Waiter);
            CHECK(WaiterThread != NULL);
            WdkmTestSleepMs(20);
            CHECK_EQ(A26Read(&Waiter.Holding), 0);

            if (A26AllTeardownsAnswer((A26_KIND)Kind, Lock) != STATUS_WDKM_LOCK_HELD) {
                WdkmTestFail(__FILE__, __LINE__, "%s held by another thread (%s): teardown "
                             "not refused", A26KindNames[Kind], Mode ? "shared" : "exclusive");
                return;
            }
            /* The same from this thread at DISPATCH_LEVEL (a DPC on a non-holder). */
            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
            if (Kind == A26Resource) {
                CHECK_STATUS(A26Destroy((A26_KIND)Kind, Lock), STATUS_WDKM_IRQL_TOO_HIGH);
            } else if (A26AllTeardownsAnswer((A26_KIND)Kind, Lock) != STATUS_WDKM_LOCK_HELD) {
                KeLowerIrql(OldIrql);
                WdkmTestFail(__FILE__, __LINE__, "%s held by another thread: teardown at "
                             "DISPATCH_LEVEL not refused", A26KindNames[Kind]);
                return;
            }
            KeLowerIrql(OldIrql);

            InterlockedExchange(&Holder.Go, 1);
            WdkmTestJoinThread(HolderThread);
            WdkmTestJoinThread(WaiterThread);
            CHECK_EQ(Holder.Errors, 0);
            CHECK_EQ(Waiter.Errors, 0);
            CHECK_EQ(A26Read(&Waiter.Holding), 2);
            CHECK(A26DestroyFree((A26_KIND)Kind, Lock, 7));
        }
    }
}

/* ---------------------------------------------------------------------- */
/* 1b. Recursive holds: every level but the last keeps the lock            */
/* ---------------------------------------------------------------------- */

static VOID
RecursiveHoldsRefusedToTheLastRelease(VOID)
{
    PWDKM_KMUTEX Mutex;
    PWDKM_RESOURCE Resource;
    PVOID Data;
    const VOID *ConstData;
    KIRQL OldIrql;
    ULONG Depth;

    CHECK_STATUS(WdkmKMutexCreate(&(LONG){ 11 }, sizeof(LONG), &Mutex), STATUS_SUCCESS);
    for (Depth = 0; Depth < 4; Depth += 1) {
        CHECK_STATUS(WdkmKMutexAcquire(Mutex, sizeof(LONG), &Data), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmKMutexTryAcquire(Mutex, sizeof(LONG), &Data), STATUS_SUCCESS);
    for (Depth = 5; Depth > 1; Depth -= 1) {
        CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
        CHECK_STATUS(A26AllTeardownsAnswer(A26KMutex, Mutex), STATUS_WDKM_LOCK_HELD);
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);          /* a DPC on the holder */
        NTSTATUS Status = A26AllTeardownsAnswer(A26KMutex, Mutex);
        KeLowerIrql(OldIrql);
        CHECK_STATUS(Status, STATUS_WDKM_LOCK_HELD);
        CHECK(WdkmKMutexIsOwned(Mutex));
    }
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);
    CHECK(A26DestroyFree(A26KMutex, Mutex, 11));

    /* ERESOURCE: exclusive, exclusive again, shared on top. */
    CHECK_STATUS(WdkmResourceCreate(&(LONG){ 12 }, sizeof(LONG), &Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireExclusive(Resource, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceTryAcquireExclusive(Resource, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireShared(Resource, sizeof(LONG), &ConstData), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceTryAcquireShared(Resource, sizeof(LONG), &ConstData), STATUS_SUCCESS);
    for (Depth = 4; Depth > 1; Depth -= 1) {
        CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
        CHECK_STATUS(A26AllTeardownsAnswer(A26Resource, Resource), STATUS_WDKM_LOCK_HELD);
        KeRaiseIrql(APC_LEVEL, &OldIrql);               /* a special APC on the holder */
        NTSTATUS Status = A26AllTeardownsAnswer(A26Resource, Resource);
        KeLowerIrql(OldIrql);
        CHECK_STATUS(Status, STATUS_WDKM_LOCK_HELD);
        CHECK(WdkmResourceIsOwnedExclusive(Resource));
    }
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK(!WdkmResourceIsOwnedExclusive(Resource));
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_WDKM_NOT_HELD);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    CHECK(A26DestroyFree(A26Resource, Resource, 12));
}

/* ---------------------------------------------------------------------- */
/* 1c. Real injected DPCs and special APCs on the holder's own thread      */
/* ---------------------------------------------------------------------- */

typedef struct _A26_SELF_EVENT {
    A26_KIND Kind;
    PVOID Lock;
    volatile LONG Ran;
    volatile NTSTATUS Result;
    volatile KIRQL Irql;
} A26_SELF_EVENT;

static VOID
A26SelfTeardownRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A26_SELF_EVENT *Event = (A26_SELF_EVENT *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Event->Irql = KeGetCurrentIrql();
    if (Event->Kind == A26Resource && Event->Irql == DISPATCH_LEVEL) {
        Event->Result = A26Destroy(Event->Kind, Event->Lock);
    } else {
        Event->Result = A26AllTeardownsAnswer(Event->Kind, Event->Lock);
    }
    InterlockedIncrement(&Event->Ran);
}

static VOID
InjectedEventsOnHolderAreRefused(VOID)
{
    ULONG Kind;
    ULONG EventKind;

    for (Kind = 0; Kind < A26KindCount; Kind += 1) {
        for (EventKind = 0; EventKind < 2; EventKind += 1) {
            WDKM_HOST_INTERRUPT Which = EventKind == 0 ? WdkmHostInterruptDpc
                                                       : WdkmHostInterruptSpecialApc;
            A26_SELF_EVENT Event;
            PVOID Lock = NULL;

            /* A FAST_MUTEX holder is at APC_LEVEL and a guarded mutex holder
               in a guarded region: special APCs wait for the release. */
            if (Which == WdkmHostInterruptSpecialApc &&
                (Kind == A26FastMutex || Kind == A26Guarded)) {
                continue;
            }
            CHECK_STATUS(A26Create((A26_KIND)Kind, 21, &Lock), STATUS_SUCCESS);
            memset(&Event, 0, sizeof(Event));
            Event.Kind = (A26_KIND)Kind;
            Event.Lock = Lock;
            CHECK_STATUS(A26Acquire((A26_KIND)Kind, Lock), STATUS_SUCCESS);
            WdkmHostQueueInterrupt(KeGetCurrentThread(), Which, A26SelfTeardownRoutine, &Event);
            CHECK_EQ(A26Read(&Event.Ran), 1);    /* "for the calling thread, before this returns" */
            CHECK_STATUS(A26Release((A26_KIND)Kind, Lock), STATUS_SUCCESS);
            if (Kind == A26Resource && Which == WdkmHostInterruptDpc) {
                CHECK_STATUS(Event.Result, STATUS_WDKM_IRQL_TOO_HIGH);
            } else {
                if (Event.Result != STATUS_WDKM_LOCK_HELD) {
                    WdkmTestFail(__FILE__, __LINE__, "%s: %s on its holder: teardown answered %s",
                                 A26KindNames[Kind], EventKind ? "special APC" : "DPC",
                                 WdkmStatusName(Event.Result));
                    return;
                }
            }
            CHECK(A26DestroyFree((A26_KIND)Kind, Lock, 21));
        }
    }
}

/* ---------------------------------------------------------------------- */
/* 1d. Random DPCs and special APCs at every instant of acquire/release    */
/* ---------------------------------------------------------------------- */

typedef struct _A26_STORM {
    A26_KIND Kind;
    PVOID Lock;
    PKTHREAD Target;
    volatile LONG Stop;
    volatile LONG Checked;       /* events that found the kernel object held */
    volatile LONG Wrong;         /* ... and got anything but LOCK_HELD */
    volatile NTSTATUS WrongStatus;
    volatile LONG WorkerErrors;
    volatile LONG Rounds;
} A26_STORM;

/* Published with a full barrier after Target is written, read with one
   (an interrupt routine runs on every thread). */
static PVOID volatile A26CurrentStorm;

static PVOID
A26LoadPointer(PVOID volatile *Pointer)
{
    return InterlockedCompareExchangePointer(Pointer, NULL, NULL);
}

static VOID
A26StormRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A26_STORM *Storm = (A26_STORM *)A26LoadPointer(&A26CurrentStorm);
    NTSTATUS Status;
    LONG Value = 0;

    UNREFERENCED_PARAMETER(Context);
    if (Storm == NULL || Kind == WdkmHostInterruptNormalApc ||
        KeGetCurrentThread() != Storm->Target) {
        return;
    }
    /* Only while the kernel object is held by the interrupted thread: before
       the kernel's grant a destroy is the one documented gap. */
    if (WdkmHostThreadHeldLockCount() == 0) {
        return;
    }
    if (Storm->Kind == A26Resource && KeGetCurrentIrql() > APC_LEVEL) {
        Status = A26Destroy(Storm->Kind, Storm->Lock);
        if (Status != STATUS_WDKM_IRQL_TOO_HIGH) {
            Storm->WrongStatus = Status;
            InterlockedIncrement(&Storm->Wrong);
        }
        return;
    }
    switch (Random % 3) {
    case 0: Status = A26Destroy(Storm->Kind, Storm->Lock); break;
    case 1: Status = A26Take(Storm->Kind, Storm->Lock, &Value); break;
    default: Status = A26DestroyWith(Storm->Kind, Storm->Lock); break;
    }
    InterlockedIncrement(&Storm->Checked);
    if (Status != STATUS_WDKM_LOCK_HELD) {
        Storm->WrongStatus = Status;
        InterlockedIncrement(&Storm->Wrong);
    }
}

static VOID
A26StormWorker(PVOID Context, ULONG Index)
{
    A26_STORM *Storm = (A26_STORM *)Context;
    ULONG Round = 0;

    UNREFERENCED_PARAMETER(Index);
    Storm->Target = KeGetCurrentThread();
    (VOID)InterlockedExchangePointer(&A26CurrentStorm, Storm);
    while (A26Read(&Storm->Stop) == 0) {
        BOOLEAN Shared = (Storm->Kind == A26Resource || Storm->Kind == A26PushLock) &&
                         (Round % 3) == 1;
        BOOLEAN Recurse = (Storm->Kind == A26KMutex || Storm->Kind == A26Resource) &&
                          !Shared && (Round % 4) == 2;
        NTSTATUS Status = Shared ? A26AcquireShared(Storm->Kind, Storm->Lock)
                                 : A26Acquire(Storm->Kind, Storm->Lock);

        if (Status != STATUS_SUCCESS) {
            InterlockedIncrement(&Storm->WorkerErrors);
            break;
        }
        if (Recurse) {
            if (A26Acquire(Storm->Kind, Storm->Lock) != STATUS_SUCCESS ||
                A26Release(Storm->Kind, Storm->Lock) != STATUS_SUCCESS) {
                InterlockedIncrement(&Storm->WorkerErrors);
            }
        }
        if (A26Release(Storm->Kind, Storm->Lock) != STATUS_SUCCESS) {
            InterlockedIncrement(&Storm->WorkerErrors);
            break;
        }
        Round += 1;
    }
    (VOID)InterlockedExchangePointer(&A26CurrentStorm, NULL);
    if (WdkmHostThreadHeldLockCount() != 0) {
        InterlockedIncrement(&Storm->WorkerErrors);
    }
    InterlockedExchange(&Storm->Rounds, (LONG)Round);
}

static VOID
RandomEventsOnHolderNeverDestroyHeld(VOID)
{
    ULONG Kind;

    for (Kind = 0; Kind < A26KindCount; Kind += 1) {
        WDKM_HOST_INTERRUPT_SETTINGS Settings;
        WDKM_TEST_THREAD *Worker;
        A26_STORM Storm;
        LONGLONG Start;

        memset(&Storm, 0, sizeof(Storm));
        Storm.Kind = (A26_KIND)Kind;
        CHECK_STATUS(A26Create((A26_KIND)Kind, 31, &Storm.Lock), STATUS_SUCCESS);
        memset(&Settings, 0, sizeof(Settings));
        Settings.Seed = 2600 + Kind;
        Settings.MeanIntervalMicroseconds = 15;
        Settings.DpcWeight = 1;
        Settings.SpecialApcWeight = 2;
        Settings.Routine = A26StormRoutine;
        WdkmHostInterruptsStart(&Settings);
        Worker = WdkmTestStartThread(A26StormWorker, &Storm);
        if (Worker == NULL) {
            WdkmHostInterruptsStop();
            CHECK(Worker != NULL);
        }
        /* At least 250 ms, then up to 200 teardowns tried from events on
           the holder; past 2 s the 20 judged below will do (valgrind runs
           few events), and the stretched deadline gives up waiting. */
        Start = WdkmTestNowMs();
        while (WdkmTestNowMs() - Start < 250 ||
               (A26Read(&Storm.Checked) < 200 &&
                (A26Read(&Storm.Checked) < 20 || WdkmTestNowMs() - Start < 2000) &&
                WdkmTestNowMs() - Start < WdkmTestScaledMs(2000))) {
            WdkmTestSleepMs(10);
        }
        InterlockedExchange(&Storm.Stop, 1);
        WdkmTestJoinThread(Worker);
        WdkmHostInterruptsStop();
        if (Storm.Wrong != 0) {
            WdkmTestFail(__FILE__, __LINE__, "%s: %ld of %ld teardowns from an event on the "
                         "holder, kernel object held, answered e.g. %s", A26KindNames[Kind],
                         (long)Storm.Wrong, (long)Storm.Checked,
                         WdkmStatusName(Storm.WrongStatus));
            return;
        }
        CHECK_EQ(Storm.WorkerErrors, 0);
        CHECK(Storm.Checked >= 20);            /* the oracle was exercised */
        /* Truly free after the storm: destroyable, value intact. */
        CHECK(A26DestroyFree((A26_KIND)Kind, Storm.Lock, 31));
    }
}

/* ---------------------------------------------------------------------- */
/* 1e. Histories that end free: no false LOCK_HELD                         */
/* ---------------------------------------------------------------------- */

static VOID
A26KMutexDpcTryRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A26_SELF_EVENT *Event = (A26_SELF_EVENT *)Context;
    PVOID Data;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Event->Result = WdkmKMutexTryAcquire((PWDKM_KMUTEX)Event->Lock, sizeof(LONG), &Data);
    if (Event->Result == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease((PWDKM_KMUTEX)Event->Lock);
    }
    InterlockedIncrement(&Event->Ran);
}

static VOID
HistoriesLeaveFreeLocksDestroyable(VOID)
{
    PWDKM_KMUTEX K1, K2;
    PWDKM_FAST_MUTEX F1, F2;
    PWDKM_GUARDED_MUTEX G;
    PWDKM_RESOURCE R;
    PWDKM_PUSH_LOCK P;
    PVOID Data;
    const VOID *ConstData;
    LARGE_INTEGER Timeout;
    KIRQL OldIrql;
    A26_HOLDER Other;
    WDKM_TEST_THREAD *Thread;
    A26_SELF_EVENT Event;
    NTSTATUS Status;

    CHECK_STATUS(WdkmKMutexCreate(&(LONG){ 1 }, sizeof(LONG), &K1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexCreate(&(LONG){ 2 }, sizeof(LONG), &K2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexCreate(&(LONG){ 3 }, sizeof(LONG), &F1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexCreate(&(LONG){ 4 }, sizeof(LONG), &F2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGuardedMutexCreate(&(LONG){ 5 }, sizeof(LONG), &G), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceCreate(&(LONG){ 6 }, sizeof(LONG), &R), STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockCreate(&(LONG){ 7 }, sizeof(LONG), &P), STATUS_SUCCESS);

    /* KMUTEX: recursion, out-of-order release of two, type mismatch, extra
       release, a DPC's refused try, the DISPATCH class mismatch. */
    CHECK_STATUS(WdkmKMutexAcquire(K1, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexAcquire(K2, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexAcquire(K1, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexAcquire(K1, sizeof(SHORT), &Data), STATUS_WDKM_TYPE_MISMATCH);
    memset(&Event, 0, sizeof(Event));
    Event.Lock = K1;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A26KMutexDpcTryRoutine,
                           &Event);
    CHECK_EQ(A26Read(&Event.Ran), 1);
    CHECK_STATUS(Event.Result, STATUS_TIMEOUT);
    CHECK_STATUS(WdkmKMutexRelease(K1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(K1), STATUS_SUCCESS);      /* K1 before K2 */
    CHECK_STATUS(WdkmKMutexRelease(K2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(K2), STATUS_WDKM_NOT_HELD);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WdkmKMutexTryAcquire(K2, sizeof(LONG), &Data);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexAcquire(K2, sizeof(LONG), &Data), STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(WdkmKMutexRelease(K2), STATUS_WDKM_IRQL_MISMATCH);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WdkmKMutexRelease(K2);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_SUCCESS);

    /* Another thread holds K1: try, timeout and alert fail, release refused. */
    memset(&Other, 0, sizeof(Other));
    Other.Kind = A26KMutex;
    Other.Lock = K1;
    Thread = WdkmTestStartThread(A26HolderThread, &Other);
    CHECK(Thread != NULL);
    CHECK(A26WaitFor(&Other.Holding, 1));
    CHECK_STATUS(WdkmKMutexTryAcquire(K1, sizeof(LONG), &Data), STATUS_TIMEOUT);
    Timeout.QuadPart = -10 * 1000 * 5;
    CHECK_STATUS(WdkmKMutexAcquireTimeout(K1, sizeof(LONG), &Timeout, &Data), STATUS_TIMEOUT);
    WdkmHostAlertThread(KeGetCurrentThread());
    Timeout.QuadPart = -10 * 1000 * 500;
    CHECK_STATUS(WdkmKMutexAcquireAlertable(K1, sizeof(LONG), KernelMode, &Timeout, &Data),
                 STATUS_ALERTED);
    CHECK_STATUS(WdkmKMutexRelease(K1), STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(A26AllTeardownsAnswer(A26KMutex, K1), STATUS_WDKM_LOCK_HELD);
    InterlockedExchange(&Other.Go, 1);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(Other.Errors, 0);

    /* FAST_MUTEX: recursion refused, out-of-order refused then accepted at
       APC_LEVEL, try busy, release by a non-owner. */
    CHECK_STATUS(WdkmFastMutexAcquire(F1, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexAcquire(F1, sizeof(LONG), &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmFastMutexAcquire(F2, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(F1), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmFastMutexRelease(F2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(F1), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmFastMutexAcquire(F1, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexAcquire(F2, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(F1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(F2), STATUS_SUCCESS);
    KeLowerIrql(OldIrql);
    memset(&Other, 0, sizeof(Other));
    Other.Kind = A26FastMutex;
    Other.Lock = F2;
    Thread = WdkmTestStartThread(A26HolderThread, &Other);
    CHECK(Thread != NULL);
    CHECK(A26WaitFor(&Other.Holding, 1));
    Status = WdkmFastMutexTryAcquire(F2, sizeof(LONG), &Data);
    CHECK(Status == STATUS_TIMEOUT || Status == STATUS_NOT_SUPPORTED);
    CHECK_STATUS(WdkmFastMutexRelease(F2), STATUS_WDKM_NOT_OWNER);
    InterlockedExchange(&Other.Go, 1);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(Other.Errors, 0);

    /* Guarded mutex: recursion refused, release at the wrong IRQL refused. */
    CHECK_STATUS(WdkmGuardedMutexAcquire(G, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGuardedMutexAcquire(G, sizeof(LONG), &Data), STATUS_POSSIBLE_DEADLOCK);
    Status = WdkmGuardedMutexTryAcquire(G, sizeof(LONG), &Data);
    CHECK(Status == STATUS_POSSIBLE_DEADLOCK || Status == STATUS_TIMEOUT);
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    Status = WdkmGuardedMutexRelease(G);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmGuardedMutexRelease(G), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGuardedMutexRelease(G), STATUS_WDKM_NOT_HELD);

    /* ERESOURCE: exclusive over shared refused, recursion both ways,
       release at DISPATCH_LEVEL refused. */
    CHECK_STATUS(WdkmResourceAcquireShared(R, sizeof(LONG), &ConstData), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireExclusive(R, sizeof(LONG), &Data), STATUS_POSSIBLE_DEADLOCK);
    Status = WdkmResourceTryAcquireExclusive(R, sizeof(LONG), &Data);
    CHECK(Status == STATUS_POSSIBLE_DEADLOCK || Status == STATUS_TIMEOUT);
    CHECK_STATUS(WdkmResourceAcquireShared(R, sizeof(LONG), &ConstData), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(R), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WdkmResourceRelease(R);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmResourceRelease(R), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireExclusive(R, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireShared(R, sizeof(LONG), &ConstData), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireExclusive(R, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(R), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(R), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(R), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(R), STATUS_WDKM_NOT_HELD);

    /* Push lock: every refused recursion, stray releases. */
    CHECK_STATUS(WdkmPushLockAcquireExclusive(P, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockAcquireExclusive(P, sizeof(LONG), &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmPushLockAcquireShared(P, sizeof(LONG), &ConstData), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmPushLockRelease(P), STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockAcquireShared(P, sizeof(LONG), &ConstData), STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockAcquireShared(P, sizeof(LONG), &ConstData), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmPushLockAcquireExclusive(P, sizeof(LONG), &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmPushLockRelease(P), STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockRelease(P), STATUS_WDKM_NOT_HELD);
    memset(&Other, 0, sizeof(Other));
    Other.Kind = A26PushLock;
    Other.Lock = P;
    Other.Shared = TRUE;
    Thread = WdkmTestStartThread(A26HolderThread, &Other);
    CHECK(Thread != NULL);
    CHECK(A26WaitFor(&Other.Holding, 1));
    CHECK_STATUS(WdkmPushLockRelease(P), STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(WdkmPushLockAcquireShared(P, sizeof(LONG), &ConstData), STATUS_SUCCESS);
    CHECK_STATUS(A26AllTeardownsAnswer(A26PushLock, P), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmPushLockRelease(P), STATUS_SUCCESS);
    CHECK_STATUS(A26AllTeardownsAnswer(A26PushLock, P), STATUS_WDKM_LOCK_HELD);  /* other's share */
    InterlockedExchange(&Other.Go, 1);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(Other.Errors, 0);

    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(A26DestroyFree(A26KMutex, K1, 1));
    CHECK(A26DestroyFree(A26KMutex, K2, 2));
    CHECK(A26DestroyFree(A26FastMutex, F1, 3));
    CHECK(A26DestroyFree(A26FastMutex, F2, 4));
    CHECK(A26DestroyFree(A26Guarded, G, 5));
    CHECK(A26DestroyFree(A26Resource, R, 6));
    CHECK(A26DestroyFree(A26PushLock, P, 7));
}

/* ---------------------------------------------------------------------- */
/* 1f. Registry locks: refused (registry) whether free or held             */
/* ---------------------------------------------------------------------- */

static VOID
RegistryLocksRefusedHeldOrFree(VOID)
{
    static const WDKM_LOCK_KIND Kinds[A26KindCount] = {
        WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindGuardedMutex,
        WdkmLockKindResource, WdkmLockKindPushLock
    };
    ULONG Kind;
    LONG Initial = 41;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Kind = 0; Kind < A26KindCount; Kind += 1) {
        PVOID Lock = NULL;
        NTSTATUS Status;
        KIRQL OldIrql;

        CHECK_STATUS(WdkmGrtRegister("attack26.lock", Kinds[Kind], &Initial, sizeof(LONG), 0),
                     STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtReference("attack26.lock", Kinds[Kind], sizeof(LONG), &Lock),
                     STATUS_SUCCESS);
        CHECK_STATUS(A26Destroy((A26_KIND)Kind, Lock), STATUS_WDKM_OWNED_BY_REGISTRY);
        CHECK_STATUS(A26Acquire((A26_KIND)Kind, Lock), STATUS_SUCCESS);
        Status = A26Destroy((A26_KIND)Kind, Lock);
        CHECK(Status == STATUS_WDKM_OWNED_BY_REGISTRY || Status == STATUS_WDKM_LOCK_HELD);
        KeRaiseIrql(Kind == A26Resource ? APC_LEVEL : DISPATCH_LEVEL, &OldIrql);
        Status = A26DestroyWith((A26_KIND)Kind, Lock);
        KeLowerIrql(OldIrql);
        CHECK(Status == STATUS_WDKM_OWNED_BY_REGISTRY || Status == STATUS_WDKM_LOCK_HELD);
        CHECK_STATUS(A26Release((A26_KIND)Kind, Lock), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister("attack26.lock"), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* 2. Nested spin-lock releases                                            */
/* ---------------------------------------------------------------------- */

static PWDKM_SPIN_LOCK A26Spin[4];
static PWDKM_QUEUED_SPIN_LOCK A26Queued[2];

static BOOLEAN
A26SpinSetUp(VOID)
{
    ULONG Index;
    LONG Zero = 0;

    for (Index = 0; Index < 4; Index += 1) {
        if (WdkmSpinLockCreate(&Zero, sizeof(LONG), &A26Spin[Index]) != STATUS_SUCCESS) {
            return FALSE;
        }
    }
    for (Index = 0; Index < 2; Index += 1) {
        if (WdkmQueuedSpinLockCreate(&Zero, sizeof(LONG), &A26Queued[Index]) != STATUS_SUCCESS) {
            return FALSE;
        }
    }
    return TRUE;
}

static BOOLEAN
A26SpinTearDown(VOID)
{
    ULONG Index;
    BOOLEAN Ok = TRUE;

    for (Index = 0; Index < 4; Index += 1) {
        if (A26Spin[Index] != NULL && WdkmSpinLockDestroy(A26Spin[Index]) != STATUS_SUCCESS) {
            Ok = FALSE;
        }
        A26Spin[Index] = NULL;
    }
    for (Index = 0; Index < 2; Index += 1) {
        if (A26Queued[Index] != NULL &&
            WdkmQueuedSpinLockDestroy(A26Queued[Index]) != STATUS_SUCCESS) {
            Ok = FALSE;
        }
        A26Queued[Index] = NULL;
    }
    return Ok;
}

/* Plain and queued outers and inners: the lowering inner release is
   refused with nothing changed; then in-order release works. */
static VOID
SpinInnerLoweringRefusedEveryForm(VOID)
{
    ULONG Form;

    CHECK(A26SpinSetUp());
    for (Form = 0; Form < 4; Form += 1) {
        BOOLEAN OuterQueued = (Form & 1) != 0;
        BOOLEAN InnerQueued = (Form & 2) != 0;
        WDKM_LOCK_QUEUE_HANDLE OuterHandle, InnerHandle;
        KIRQL OuterIrql = 0xFF, InnerIrql = 0xFF;
        PVOID Data;

        if (OuterQueued) {
            CHECK_STATUS(WdkmQueuedSpinLockAcquire(A26Queued[0], sizeof(LONG), &OuterHandle, &Data),
                         STATUS_SUCCESS);
        } else {
            CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[0], sizeof(LONG), &OuterIrql, &Data),
                         STATUS_SUCCESS);
            CHECK_EQ(OuterIrql, PASSIVE_LEVEL);
        }
        if (InnerQueued) {
            CHECK_STATUS(WdkmQueuedSpinLockAcquire(A26Queued[1], sizeof(LONG), &InnerHandle, &Data),
                         STATUS_SUCCESS);
            /* Releasing the OUTER first would lower under the inner. */
            if (OuterQueued) {
                CHECK_STATUS(WdkmQueuedSpinLockRelease(&OuterHandle), STATUS_WDKM_LOCK_HELD);
                CHECK(WdkmQueuedSpinLockIsOwned(A26Queued[0]));
            } else {
                CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], PASSIVE_LEVEL), STATUS_WDKM_LOCK_HELD);
                CHECK(WdkmSpinLockIsOwned(A26Spin[0]));
            }
            CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
            CHECK(WdkmQueuedSpinLockIsOwned(A26Queued[1]));
            CHECK_STATUS(WdkmQueuedSpinLockRelease(&InnerHandle), STATUS_SUCCESS);
        } else {
            CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[1], sizeof(LONG), &InnerIrql, &Data),
                         STATUS_SUCCESS);
            CHECK_EQ(InnerIrql, DISPATCH_LEVEL);
            CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], PASSIVE_LEVEL), STATUS_WDKM_LOCK_HELD);
            CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], APC_LEVEL), STATUS_WDKM_LOCK_HELD);
            CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
            CHECK(WdkmSpinLockIsOwned(A26Spin[1]));
            if (OuterQueued) {
                CHECK_STATUS(WdkmQueuedSpinLockRelease(&OuterHandle), STATUS_WDKM_LOCK_HELD);
            } else {
                CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], OuterIrql), STATUS_WDKM_LOCK_HELD);
            }
            CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], InnerIrql), STATUS_SUCCESS);
        }
        if (OuterQueued) {
            CHECK_STATUS(WdkmQueuedSpinLockRelease(&OuterHandle), STATUS_SUCCESS);
        } else {
            CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], OuterIrql), STATUS_SUCCESS);
        }
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    }
    CHECK(A26SpinTearDown());
}

/* NT's explicit out-of-order release, and the allowance it gives being
   used once, never carried to a later nest or another lock. */
static VOID
SpinExplicitOutOfOrderExactlyOnce(VOID)
{
    KIRQL A, B, C, D;
    PVOID Data;
    WDKM_LOCK_QUEUE_HANDLE Handle;

    CHECK(A26SpinSetUp());
    /* Two deep, the documented example. */
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[0], sizeof(LONG), &A, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[1], sizeof(LONG), &B, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], DISPATCH_LEVEL), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], A), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* Three deep: after A's explicit release, C may not lower while B is held. */
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[0], sizeof(LONG), &A, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[1], sizeof(LONG), &B, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[2], sizeof(LONG), &C, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], DISPATCH_LEVEL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[2], A), STATUS_WDKM_LOCK_HELD);
    CHECK(WdkmSpinLockIsOwned(A26Spin[2]));
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], A), STATUS_WDKM_LOCK_HELD);   /* C after B */
    CHECK(WdkmSpinLockIsOwned(A26Spin[1]));
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[2], DISPATCH_LEVEL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], A), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* A new inner taken after the explicit release: B may not lower over it. */
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[0], sizeof(LONG), &A, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[1], sizeof(LONG), &B, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], DISPATCH_LEVEL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[3], sizeof(LONG), &D, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], A), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[3], D), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], A), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* The allowance not used (inner released without lowering, the IRQL
       lowered by hand): a later nest gets no allowance from it. */
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[0], sizeof(LONG), &A, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[1], sizeof(LONG), &B, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], DISPATCH_LEVEL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], DISPATCH_LEVEL), STATUS_SUCCESS);
    KeLowerIrql(A);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[2], sizeof(LONG), &C, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[3], sizeof(LONG), &D, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[3], PASSIVE_LEVEL), STATUS_WDKM_LOCK_HELD);
    CHECK(WdkmSpinLockIsOwned(A26Spin[3]));
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[3], D), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[2], C), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* Plain outer released explicitly over a queued inner (which does not
       lower: it was taken at DISPATCH_LEVEL); then the IRQL by hand. */
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[0], sizeof(LONG), &A, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockAcquire(A26Queued[0], sizeof(LONG), &Handle, &Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], DISPATCH_LEVEL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(A);
    /* Queued outer, plain inner: the outer's release would lower (its
       handle saved PASSIVE_LEVEL), and so would the inner given PASSIVE. */
    CHECK_STATUS(WdkmQueuedSpinLockAcquire(A26Queued[0], sizeof(LONG), &Handle, &Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[3], sizeof(LONG), &A, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[3], PASSIVE_LEVEL), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[3], A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    CHECK(A26SpinTearDown());
}

/* AtDpcLevel forms, a FAST_MUTEX and a guarded mutex underneath. */
static VOID
SpinAtDpcLevelAndMutexesUnderneath(VOID)
{
    PWDKM_FAST_MUTEX Fast;
    PWDKM_GUARDED_MUTEX Guarded;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    KIRQL OldIrql, A, B;
    PVOID Data;

    CHECK(A26SpinSetUp());
    /* A DPC (modelled): AtDpcLevel holds released in any order. */
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmSpinLockAcquireAtDpcLevel(A26Spin[0], sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockAcquireAtDpcLevel(A26Queued[0], sizeof(LONG), &Handle, &Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[1], sizeof(LONG), &A, &Data), STATUS_SUCCESS);
    CHECK_EQ(A, DISPATCH_LEVEL);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(A26Spin[0]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], PASSIVE_LEVEL), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], A), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(OldIrql);

    /* A plain outer from PASSIVE over an AtDpcLevel inner. */
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[0], sizeof(LONG), &A, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquireAtDpcLevel(A26Spin[1], sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], A), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], DISPATCH_LEVEL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(A26Spin[1]), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(A);

    /* FAST_MUTEX underneath: the spin locks save APC_LEVEL. */
    CHECK_STATUS(WdkmFastMutexCreate(&(LONG){ 0 }, sizeof(LONG), &Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGuardedMutexCreate(&(LONG){ 0 }, sizeof(LONG), &Guarded), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexAcquire(Fast, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[0], sizeof(LONG), &A, &Data), STATUS_SUCCESS);
    CHECK_EQ(A, APC_LEVEL);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[1], sizeof(LONG), &B, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], APC_LEVEL), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], DISPATCH_LEVEL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[1], A), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    /* Guarded mutex underneath (PASSIVE_LEVEL). */
    CHECK_STATUS(WdkmGuardedMutexAcquire(Guarded, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire(A26Spin[0], sizeof(LONG), &A, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockAcquire(A26Queued[0], sizeof(LONG), &Handle, &Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], A), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(A26Spin[0], A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGuardedMutexRelease(Guarded), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    CHECK(A26DestroyFree(A26FastMutex, Fast, 0));
    CHECK(A26DestroyFree(A26Guarded, Guarded, 0));
    CHECK(A26SpinTearDown());
}

/* A DPC's nest: legitimate forms succeed, the lowering inner release is
   refused; run by a real injected DPC and by the thread before and after. */
static volatile LONG A26DpcNestErrors;

static VOID
A26DpcNest(VOID)
{
    KIRQL A, B;
    PVOID Data;
    WDKM_LOCK_QUEUE_HANDLE Handle;

    /* Lock order 1, 2, queued 1, 3: the threads' nests take 0, 1, 2. */
    if (WdkmSpinLockAcquire(A26Spin[1], sizeof(LONG), &A, &Data) != STATUS_SUCCESS ||
        WdkmSpinLockAcquireAtDpcLevel(A26Spin[2], sizeof(LONG), &Data) != STATUS_SUCCESS ||
        WdkmQueuedSpinLockAcquireAtDpcLevel(A26Queued[1], sizeof(LONG), &Handle, &Data) !=
            STATUS_SUCCESS ||
        WdkmSpinLockAcquire(A26Spin[3], sizeof(LONG), &B, &Data) != STATUS_SUCCESS) {
        InterlockedIncrement(&A26DpcNestErrors);
        return;
    }
    if (A != DISPATCH_LEVEL || B != DISPATCH_LEVEL) {
        InterlockedIncrement(&A26DpcNestErrors);
    }
    /* A DPC's bug: releasing with PASSIVE_LEVEL under its other holds. */
    if (WdkmSpinLockRelease(A26Spin[3], PASSIVE_LEVEL) != STATUS_WDKM_LOCK_HELD ||
        KeGetCurrentIrql() != DISPATCH_LEVEL) {
        InterlockedIncrement(&A26DpcNestErrors);
    }
    if (WdkmSpinLockRelease(A26Spin[1], A) != STATUS_SUCCESS ||
        WdkmQueuedSpinLockRelease(&Handle) != STATUS_SUCCESS ||
        WdkmSpinLockReleaseFromDpcLevel(A26Spin[2]) != STATUS_SUCCESS ||
        WdkmSpinLockRelease(A26Spin[3], B) != STATUS_SUCCESS ||
        KeGetCurrentIrql() != DISPATCH_LEVEL) {
        InterlockedIncrement(&A26DpcNestErrors);
    }
}

static VOID
A26DpcNestRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    if (Kind == WdkmHostInterruptDpc) {
        A26DpcNest();
    }
}

/* The thread's own nest, probing the refusal and the explicit form. */
static BOOLEAN
A26ThreadNest(ULONG Variant)
{
    KIRQL A, B, C;
    PVOID Data;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    KIRQL Entry = KeGetCurrentIrql();

    if (WdkmSpinLockAcquire(A26Spin[0], sizeof(LONG), &A, &Data) != STATUS_SUCCESS) {
        return FALSE;
    }
    if ((Variant & 1) != 0) {
        if (WdkmQueuedSpinLockAcquire(A26Queued[0], sizeof(LONG), &Handle, &Data) !=
                STATUS_SUCCESS ||
            WdkmSpinLockRelease(A26Spin[0], A) != STATUS_WDKM_LOCK_HELD ||
            WdkmSpinLockRelease(A26Spin[0], DISPATCH_LEVEL) != STATUS_SUCCESS ||
            WdkmQueuedSpinLockRelease(&Handle) != STATUS_SUCCESS) {
            return FALSE;
        }
        KeLowerIrql(A);
    } else {
        if (WdkmSpinLockAcquire(A26Spin[1], sizeof(LONG), &B, &Data) != STATUS_SUCCESS ||
            WdkmSpinLockAcquire(A26Spin[2], sizeof(LONG), &C, &Data) != STATUS_SUCCESS ||
            WdkmSpinLockRelease(A26Spin[2], A) != STATUS_WDKM_LOCK_HELD ||
            WdkmSpinLockRelease(A26Spin[0], DISPATCH_LEVEL) != STATUS_SUCCESS ||
            WdkmSpinLockRelease(A26Spin[2], A) != STATUS_WDKM_LOCK_HELD ||
            WdkmSpinLockRelease(A26Spin[2], C) != STATUS_SUCCESS ||
            WdkmSpinLockRelease(A26Spin[1], A) != STATUS_SUCCESS) {
            return FALSE;
        }
    }
    return KeGetCurrentIrql() == Entry;
}

static VOID
SpinInjectedDpcNestsBetweenThreadNests(VOID)
{
    PWDKM_GUARDED_MUTEX Guarded;
    PWDKM_FAST_MUTEX Fast;
    PVOID Data;
    ULONG Round;

    CHECK(A26SpinSetUp());
    CHECK_STATUS(WdkmGuardedMutexCreate(&(LONG){ 0 }, sizeof(LONG), &Guarded), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexCreate(&(LONG){ 0 }, sizeof(LONG), &Fast), STATUS_SUCCESS);
    InterlockedExchange(&A26DpcNestErrors, 0);
    for (Round = 0; Round < 8; Round += 1) {
        CHECK(A26ThreadNest(Round));
        if ((Round & 2) != 0) {
            CHECK_STATUS(WdkmGuardedMutexAcquire(Guarded, sizeof(LONG), &Data), STATUS_SUCCESS);
        } else if ((Round & 4) != 0) {
            CHECK_STATUS(WdkmFastMutexAcquire(Fast, sizeof(LONG), &Data), STATUS_SUCCESS);
        }
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A26DpcNestRoutine,
                               NULL);
        CHECK(A26ThreadNest(Round + 1));
        if ((Round & 2) != 0) {
            CHECK_STATUS(WdkmGuardedMutexRelease(Guarded), STATUS_SUCCESS);
        } else if ((Round & 4) != 0) {
            CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
        }
        CHECK(A26ThreadNest(Round));
    }
    CHECK_EQ(A26DpcNestErrors, 0);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    CHECK(A26DestroyFree(A26Guarded, Guarded, 0));
    CHECK(A26DestroyFree(A26FastMutex, Fast, 0));
    CHECK(A26SpinTearDown());
}

/* Random DPCs (with their own nests) into several threads doing nests. */
typedef struct _A26_SPIN_STORM {
    volatile LONG Stop;
    volatile LONG Errors;
    volatile LONG Rounds;
} A26_SPIN_STORM;

static VOID
A26SpinStormWorker(PVOID Context, ULONG Index)
{
    A26_SPIN_STORM *Storm = (A26_SPIN_STORM *)Context;
    ULONG Round = Index;

    while (A26Read(&Storm->Stop) == 0) {
        if (!A26ThreadNest(Round)) {
            InterlockedIncrement(&Storm->Errors);
            break;
        }
        Round += 1;
        InterlockedIncrement(&Storm->Rounds);
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL || WdkmHostThreadHeldLockCount() != 0) {
        InterlockedIncrement(&Storm->Errors);
    }
}

static VOID
SpinRandomDpcsNeverRefuseLegitimateNests(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_TEST_THREAD *Threads[3];
    A26_SPIN_STORM Storm;
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];
    ULONG Index;

    CHECK(A26SpinSetUp());
    memset(&Storm, 0, sizeof(Storm));
    InterlockedExchange(&A26DpcNestErrors, 0);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 26026;
    Settings.MeanIntervalMicroseconds = 40;
    Settings.DpcWeight = 1;
    Settings.Routine = A26DpcNestRoutine;
    WdkmHostInterruptsStart(&Settings);
    for (Index = 0; Index < 3; Index += 1) {
        Threads[Index] = WdkmTestStartThread(A26SpinStormWorker, &Storm);
    }
    WdkmTestSleepMs(400);
    InterlockedExchange(&Storm.Stop, 1);
    for (Index = 0; Index < 3; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    WdkmHostInterruptsStop();
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    for (Index = 0; Index < 3; Index += 1) {
        CHECK(Threads[Index] != NULL);
    }
    CHECK_EQ(Storm.Errors, 0);
    CHECK_EQ(A26DpcNestErrors, 0);
    CHECK(Storm.Rounds > 100);
    CHECK(Delivered[WdkmHostInterruptDpc] > 20);
    CHECK(A26SpinTearDown());
}

/* Threads that end in odd states of the table, then many threads at once. */
typedef struct _A26_CROWD {
    PWDKM_SPIN_LOCK Outer[160];
    PWDKM_SPIN_LOCK Inner[160];
    ULONG Count;
    volatile LONG Arrived;
    volatile LONG Errors;
} A26_CROWD;

/* Ends after an explicit outer release whose allowance it never used. */
static VOID
A26UnusedAllowanceThread(PVOID Context, ULONG Index)
{
    A26_CROWD *Crowd = (A26_CROWD *)Context;
    KIRQL A, B;
    PVOID Data;

    if (WdkmSpinLockAcquire(Crowd->Outer[Index], sizeof(LONG), &A, &Data) != STATUS_SUCCESS ||
        WdkmSpinLockAcquire(Crowd->Inner[Index], sizeof(LONG), &B, &Data) != STATUS_SUCCESS ||
        WdkmSpinLockRelease(Crowd->Outer[Index], DISPATCH_LEVEL) != STATUS_SUCCESS ||
        WdkmSpinLockRelease(Crowd->Inner[Index], DISPATCH_LEVEL) != STATUS_SUCCESS) {
        InterlockedIncrement(&Crowd->Errors);
    }
    KeLowerIrql(A);
}

/* A fresh thread: the refusal must work (no allowance inherited). */
static VOID
A26ProbeThread(PVOID Context, ULONG Index)
{
    A26_CROWD *Crowd = (A26_CROWD *)Context;
    KIRQL A, B;
    PVOID Data;

    if (WdkmSpinLockAcquire(Crowd->Outer[Index], sizeof(LONG), &A, &Data) != STATUS_SUCCESS ||
        WdkmSpinLockAcquire(Crowd->Inner[Index], sizeof(LONG), &B, &Data) != STATUS_SUCCESS) {
        InterlockedIncrement(&Crowd->Errors);
        return;
    }
    if (WdkmSpinLockRelease(Crowd->Inner[Index], A) != STATUS_WDKM_LOCK_HELD ||
        KeGetCurrentIrql() != DISPATCH_LEVEL || !WdkmSpinLockIsOwned(Crowd->Inner[Index])) {
        InterlockedIncrement(&Crowd->Errors);
    }
    if (WdkmSpinLockRelease(Crowd->Inner[Index], B) != STATUS_SUCCESS ||
        WdkmSpinLockRelease(Crowd->Outer[Index], A) != STATUS_SUCCESS ||
        KeGetCurrentIrql() != PASSIVE_LEVEL) {
        InterlockedIncrement(&Crowd->Errors);
    }
}

/* All at once, two holds each, released legitimately (half explicitly). */
static VOID
A26CrowdThread(PVOID Context, ULONG Index)
{
    A26_CROWD *Crowd = (A26_CROWD *)Context;
    KIRQL A, B;
    PVOID Data;
    ULONG Tries;

    if (WdkmSpinLockAcquire(Crowd->Outer[Index], sizeof(LONG), &A, &Data) != STATUS_SUCCESS ||
        WdkmSpinLockAcquire(Crowd->Inner[Index], sizeof(LONG), &B, &Data) != STATUS_SUCCESS) {
        InterlockedIncrement(&Crowd->Errors);
        return;
    }
    InterlockedIncrement(&Crowd->Arrived);
    for (Tries = 0; Tries < 3000 && A26Read(&Crowd->Arrived) < (LONG)Crowd->Count; Tries += 1) {
        usleep(1000);
    }
    if ((Index & 1) != 0) {
        if (WdkmSpinLockRelease(Crowd->Outer[Index], DISPATCH_LEVEL) != STATUS_SUCCESS ||
            WdkmSpinLockRelease(Crowd->Inner[Index], A) != STATUS_SUCCESS) {
            InterlockedIncrement(&Crowd->Errors);
        }
    } else {
        if (WdkmSpinLockRelease(Crowd->Inner[Index], B) != STATUS_SUCCESS ||
            WdkmSpinLockRelease(Crowd->Outer[Index], A) != STATUS_SUCCESS) {
            InterlockedIncrement(&Crowd->Errors);
        }
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        InterlockedIncrement(&Crowd->Errors);
        KeLowerIrql(PASSIVE_LEVEL);
    }
}

typedef struct _A26_CROWD_SLOT {
    A26_CROWD *Crowd;
    ULONG Index;
} A26_CROWD_SLOT;

static VOID
A26CrowdSlotThread(PVOID Context, ULONG Index)
{
    A26_CROWD_SLOT *Slot = (A26_CROWD_SLOT *)Context;

    UNREFERENCED_PARAMETER(Index);
    A26CrowdThread(Slot->Crowd, Slot->Index);
}

static VOID
SpinTableFullAndReusedByNewThreads(VOID)
{
    static A26_CROWD Crowd;
    static A26_CROWD_SLOT Slots[160];
    WDKM_TEST_THREAD *Threads[160];
    ULONG Index;
    LONG Zero = 0;

    memset(&Crowd, 0, sizeof(Crowd));
    for (Index = 0; Index < 160; Index += 1) {
        CHECK_STATUS(WdkmSpinLockCreate(&Zero, sizeof(LONG), &Crowd.Outer[Index]), STATUS_SUCCESS);
        CHECK_STATUS(WdkmSpinLockCreate(&Zero, sizeof(LONG), &Crowd.Inner[Index]), STATUS_SUCCESS);
    }
    /* 40 threads end with an unused allowance; 40 fresh ones probe. */
    CHECK(WdkmTestRunThreads(40, A26UnusedAllowanceThread, &Crowd));
    CHECK_EQ(Crowd.Errors, 0);
    CHECK(WdkmTestRunThreads(40, A26ProbeThread, &Crowd));
    CHECK_EQ(Crowd.Errors, 0);
    /* 160 threads hold two each at once: more than the table (32 x 4). */
    Crowd.Count = 160;
    for (Index = 0; Index < 160; Index += 1) {
        Slots[Index].Crowd = &Crowd;
        Slots[Index].Index = Index;
        Threads[Index] = WdkmTestStartThread(A26CrowdSlotThread, &Slots[Index]);
    }
    for (Index = 0; Index < 160; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    for (Index = 0; Index < 160; Index += 1) {
        CHECK(Threads[Index] != NULL);
    }
    CHECK_EQ(Crowd.Arrived, 160);
    CHECK_EQ(Crowd.Errors, 0);
    /* After the crowd, the table is free again: the refusal works. */
    CHECK(WdkmTestRunThreads(8, A26ProbeThread, &Crowd));
    CHECK_EQ(Crowd.Errors, 0);
    for (Index = 0; Index < 160; Index += 1) {
        CHECK_STATUS(WdkmSpinLockDestroy(Crowd.Outer[Index]), STATUS_SUCCESS);
        CHECK_STATUS(WdkmSpinLockDestroy(Crowd.Inner[Index]), STATUS_SUCCESS);
    }
#if WDKM_CHECKED
    /* 160 holders overflow the checked build's thread table on purpose:
       the Untracked they made is not for the suites after this one. */
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
#endif
}

/* ---------------------------------------------------------------------- */
/* 3. ERESOURCE and its thread's special APCs                              */
/* ---------------------------------------------------------------------- */

typedef struct _A26_RES_EVENT {
    PWDKM_RESOURCE Resource;
    volatile LONG Ran;
    volatile NTSTATUS Blocking;
    volatile NTSTATUS Try;
} A26_RES_EVENT;

static VOID
A26ExclusiveFromApcRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A26_RES_EVENT *Event = (A26_RES_EVENT *)Context;
    PVOID Data;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Event->Blocking = WdkmResourceAcquireExclusive(Event->Resource, sizeof(LONG), &Data);
    if (Event->Blocking == STATUS_SUCCESS) {
        (VOID)WdkmResourceRelease(Event->Resource);
    }
    Event->Try = WdkmResourceTryAcquireExclusive(Event->Resource, sizeof(LONG), &Data);
    if (Event->Try == STATUS_SUCCESS) {
        (VOID)WdkmResourceRelease(Event->Resource);
    }
    InterlockedIncrement(&Event->Ran);
}

static VOID
ResourceApcExclusiveOverSharedHold(VOID)
{
    A26_RES_EVENT Event;
    const VOID *ConstData;
    PVOID Data;

    memset(&Event, 0, sizeof(Event));
    CHECK_STATUS(WdkmResourceCreate(&(LONG){ 51 }, sizeof(LONG), &Event.Resource), STATUS_SUCCESS);
    /* Shared, twice (recursive shared). */
    CHECK_STATUS(WdkmResourceAcquireShared(Event.Resource, sizeof(LONG), &ConstData),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireShared(Event.Resource, sizeof(LONG), &ConstData),
                 STATUS_SUCCESS);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc,
                           A26ExclusiveFromApcRoutine, &Event);
    CHECK_EQ(A26Read(&Event.Ran), 1);
    CHECK_STATUS(Event.Blocking, STATUS_POSSIBLE_DEADLOCK);
    CHECK(Event.Try == STATUS_POSSIBLE_DEADLOCK || Event.Try == STATUS_TIMEOUT);
    CHECK_STATUS(WdkmResourceRelease(Event.Resource), STATUS_SUCCESS);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc,
                           A26ExclusiveFromApcRoutine, &Event);
    CHECK_EQ(A26Read(&Event.Ran), 2);
    CHECK_STATUS(Event.Blocking, STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmResourceRelease(Event.Resource), STATUS_SUCCESS);
    /* Free now: the APC gets it. */
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc,
                           A26ExclusiveFromApcRoutine, &Event);
    CHECK_EQ(A26Read(&Event.Ran), 3);
    CHECK_STATUS(Event.Blocking, STATUS_SUCCESS);
    CHECK_STATUS(Event.Try, STATUS_SUCCESS);
    /* Exclusive hold with shared on top: the APC recurses exclusively. */
    CHECK_STATUS(WdkmResourceAcquireExclusive(Event.Resource, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireShared(Event.Resource, sizeof(LONG), &ConstData),
                 STATUS_SUCCESS);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc,
                           A26ExclusiveFromApcRoutine, &Event);
    CHECK_EQ(A26Read(&Event.Ran), 4);
    CHECK_STATUS(Event.Blocking, STATUS_SUCCESS);
    CHECK_STATUS(Event.Try, STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(Event.Resource), STATUS_SUCCESS);
    CHECK(WdkmResourceIsOwnedExclusive(Event.Resource));
    CHECK_STATUS(WdkmResourceRelease(Event.Resource), STATUS_SUCCESS);
    CHECK(!WdkmResourceIsOwnedExclusive(Event.Resource));
    CHECK_STATUS(WdkmResourceRelease(Event.Resource), STATUS_WDKM_NOT_HELD);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    CHECK(A26DestroyFree(A26Resource, Event.Resource, 51));
}

/* Random special APCs: the worker alternates shared and exclusive
   (recursive) holds; each APC asks exclusive (sometimes recursively,
   sometimes shared on top) and releases what it got. */
typedef struct _A26_RES_STORM {
    PWDKM_RESOURCE Resource;
    PKTHREAD Target;
    volatile LONG Mode;          /* 0 none, 1 inside/holding shared, 2 holding exclusive */
    volatile LONG Stop;
    volatile LONG ApcRuns;
    volatile LONG ApcGranted;
    volatile LONG ApcRefused;
    volatile LONG ApcErrors;
    volatile NTSTATUS ApcWrong;
    volatile LONG WorkerErrors;
    volatile LONG Rounds;
} A26_RES_STORM;

static PVOID volatile A26CurrentResStorm;

static VOID
A26ResStormRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A26_RES_STORM *Storm = (A26_RES_STORM *)A26LoadPointer(&A26CurrentResStorm);
    LONG Mode;
    PVOID Data;
    const VOID *ConstData;
    NTSTATUS Status;
    ULONG Depth = 0;
    BOOLEAN KernelHeld;

    UNREFERENCED_PARAMETER(Context);
    if (Storm == NULL || Kind != WdkmHostInterruptSpecialApc ||
        KeGetCurrentThread() != Storm->Target) {
        return;
    }
    Mode = A26Read(&Storm->Mode);
    /* Mode 1 with the kernel object held: the thread holds it shared (or is
       inside a shared acquire after the grant, or a shared release before
       the kernel's). Mode 1 without: it may be before the grant. */
    KernelHeld = WdkmHostThreadHeldLockCount() != 0;
    InterlockedIncrement(&Storm->ApcRuns);
    Status = (Random & 8) != 0
                 ? WdkmResourceTryAcquireExclusive(Storm->Resource, sizeof(LONG), &Data)
                 : WdkmResourceAcquireExclusive(Storm->Resource, sizeof(LONG), &Data);
    if (Status == STATUS_SUCCESS) {
        Depth = 1;
        InterlockedIncrement(&Storm->ApcGranted);
        if ((Mode == 1 && KernelHeld) || !WdkmResourceIsOwnedExclusive(Storm->Resource)) {
            Storm->ApcWrong = Status;
            InterlockedIncrement(&Storm->ApcErrors);   /* exclusive over a shared hold */
        }
        if ((Random & 1) != 0) {
            if (WdkmResourceAcquireExclusive(Storm->Resource, sizeof(LONG), &Data) ==
                STATUS_SUCCESS) {
                Depth += 1;
            } else {
                InterlockedIncrement(&Storm->ApcErrors);
            }
        }
        if ((Random & 2) != 0) {
            if (WdkmResourceAcquireShared(Storm->Resource, sizeof(LONG), &ConstData) ==
                STATUS_SUCCESS) {
                Depth += 1;
            } else {
                InterlockedIncrement(&Storm->ApcErrors);
            }
        }
        while (Depth > 0) {
            if (WdkmResourceRelease(Storm->Resource) != STATUS_SUCCESS) {
                InterlockedIncrement(&Storm->ApcErrors);
                break;
            }
            Depth -= 1;
        }
    } else if (Status == STATUS_POSSIBLE_DEADLOCK || Status == STATUS_TIMEOUT) {
        InterlockedIncrement(&Storm->ApcRefused);
        if (Mode == 2) {
            /* The thread holds it exclusively: a recursion, never refused. */
            Storm->ApcWrong = Status;
            InterlockedIncrement(&Storm->ApcErrors);
        }
    } else {
        Storm->ApcWrong = Status;
        InterlockedIncrement(&Storm->ApcErrors);
    }
}

static VOID
A26ResStormWorker(PVOID Context, ULONG Index)
{
    A26_RES_STORM *Storm = (A26_RES_STORM *)Context;
    ULONG Round = 0;
    PVOID Data;
    const VOID *ConstData;

    UNREFERENCED_PARAMETER(Index);
    Storm->Target = KeGetCurrentThread();
    (VOID)InterlockedExchangePointer(&A26CurrentResStorm, Storm);
    while (A26Read(&Storm->Stop) == 0) {
        ULONG Depth;
        ULONG Want = 1 + (Round % 3);

        if ((Round & 1) == 0) {
            InterlockedExchange(&Storm->Mode, 1);
            for (Depth = 0; Depth < Want; Depth += 1) {
                if (WdkmResourceAcquireShared(Storm->Resource, sizeof(LONG), &ConstData) !=
                    STATUS_SUCCESS) {
                    InterlockedIncrement(&Storm->WorkerErrors);
                }
            }
            if (WdkmResourceIsOwnedExclusive(Storm->Resource)) {
                InterlockedIncrement(&Storm->WorkerErrors);
            }
            for (Depth = 0; Depth < Want; Depth += 1) {
                if (WdkmResourceRelease(Storm->Resource) != STATUS_SUCCESS) {
                    InterlockedIncrement(&Storm->WorkerErrors);
                }
            }
            InterlockedExchange(&Storm->Mode, 0);
        } else {
            if (WdkmResourceAcquireExclusive(Storm->Resource, sizeof(LONG), &Data) !=
                STATUS_SUCCESS) {
                InterlockedIncrement(&Storm->WorkerErrors);
            }
            InterlockedExchange(&Storm->Mode, 2);
            for (Depth = 1; Depth < Want; Depth += 1) {
                if (((Round >> 1) & 1) != 0
                        ? WdkmResourceAcquireShared(Storm->Resource, sizeof(LONG), &ConstData)
                        : WdkmResourceAcquireExclusive(Storm->Resource, sizeof(LONG), &Data)) {
                    InterlockedIncrement(&Storm->WorkerErrors);
                }
            }
            /* Exactly Want releases keep it; the last one frees it. */
            for (Depth = 0; Depth < Want; Depth += 1) {
                if (!WdkmResourceIsOwnedExclusive(Storm->Resource)) {
                    InterlockedIncrement(&Storm->WorkerErrors);
                }
                if (Depth + 1 == Want) {
                    InterlockedExchange(&Storm->Mode, 0);
                }
                if (WdkmResourceRelease(Storm->Resource) != STATUS_SUCCESS) {
                    InterlockedIncrement(&Storm->WorkerErrors);
                }
            }
        }
        if (WdkmResourceIsOwnedExclusive(Storm->Resource) || WdkmHostThreadHeldLockCount() != 0) {
            InterlockedIncrement(&Storm->WorkerErrors);
        }
        Round += 1;
    }
    (VOID)InterlockedExchangePointer(&A26CurrentResStorm, NULL);
    /* Free: one more release finds nothing. */
    if (WdkmResourceRelease(Storm->Resource) != STATUS_WDKM_NOT_HELD) {
        InterlockedIncrement(&Storm->WorkerErrors);
    }
    InterlockedExchange(&Storm->Rounds, (LONG)Round);
}

static VOID
A26TryFromOtherThread(PVOID Context, ULONG Index)
{
    A26_RES_STORM *Storm = (A26_RES_STORM *)Context;
    PVOID Data;

    UNREFERENCED_PARAMETER(Index);
    if (WdkmResourceTryAcquireExclusive(Storm->Resource, sizeof(LONG), &Data) != STATUS_SUCCESS ||
        WdkmResourceRelease(Storm->Resource) != STATUS_SUCCESS) {
        InterlockedIncrement(&Storm->WorkerErrors);
    }
}

static VOID
ResourceRecursionExactUnderRandomApcs(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_TEST_THREAD *Worker;
    A26_RES_STORM Storm;
    LONGLONG Start;

    memset(&Storm, 0, sizeof(Storm));
    CHECK_STATUS(WdkmResourceCreate(&(LONG){ 61 }, sizeof(LONG), &Storm.Resource), STATUS_SUCCESS);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 2626;
    Settings.MeanIntervalMicroseconds = 10;
    Settings.SpecialApcWeight = 1;
    Settings.Routine = A26ResStormRoutine;
    WdkmHostInterruptsStart(&Settings);
    Worker = WdkmTestStartThread(A26ResStormWorker, &Storm);
    if (Worker == NULL) {
        WdkmHostInterruptsStop();
        CHECK(Worker != NULL);
    }
    /* At least 500 ms, then until 3000 APCs ran (at most 10 s: a loaded
       machine ran fewer than the 1000 judged below in a 1.5 s bound). */
    Start = WdkmTestNowMs();
    while (WdkmTestNowMs() - Start < WdkmTestScaledMs(10000) &&
           (WdkmTestNowMs() - Start < 500 || A26Read(&Storm.ApcRuns) < 3000)) {
        WdkmTestSleepMs(20);
    }
    InterlockedExchange(&Storm.Stop, 1);
    WdkmTestJoinThread(Worker);
    WdkmHostInterruptsStop();
    if (Storm.ApcErrors != 0) {
        WdkmTestFail(__FILE__, __LINE__, "%ld of %ld special APCs went wrong (e.g. %s)",
                     (long)Storm.ApcErrors, (long)Storm.ApcRuns, WdkmStatusName(Storm.ApcWrong));
        return;
    }
    CHECK_EQ(Storm.WorkerErrors, 0);
    CHECK(Storm.ApcRuns >= 1000);
    CHECK(Storm.ApcGranted > 0);
    CHECK(Storm.ApcRefused > 0);
    CHECK(WdkmTestRunThreads(1, A26TryFromOtherThread, &Storm));
    CHECK_EQ(Storm.WorkerErrors, 0);
    CHECK(A26DestroyFree(A26Resource, Storm.Resource, 61));
}

/* Every ERESOURCE status with waiters queued. */
typedef struct _A26_RES_WAITER {
    PWDKM_RESOURCE Resource;
    BOOLEAN Exclusive;
    volatile LONG State;        /* 1 holding, 2 done */
    volatile LONG Go;
    volatile LONG Errors;
} A26_RES_WAITER;

static VOID
A26ResWaiterThread(PVOID Context, ULONG Index)
{
    A26_RES_WAITER *Waiter = (A26_RES_WAITER *)Context;
    PVOID Data;
    const VOID *ConstData;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    Status = Waiter->Exclusive
                 ? WdkmResourceAcquireExclusive(Waiter->Resource, sizeof(LONG), &Data)
                 : WdkmResourceAcquireShared(Waiter->Resource, sizeof(LONG), &ConstData);
    if (Status != STATUS_SUCCESS) {
        InterlockedIncrement(&Waiter->Errors);
        InterlockedExchange(&Waiter->State, 2);
        return;
    }
    InterlockedExchange(&Waiter->State, 1);
    (VOID)A26WaitFor(&Waiter->Go, 1);
    if (WdkmResourceRelease(Waiter->Resource) != STATUS_SUCCESS) {
        InterlockedIncrement(&Waiter->Errors);
    }
    InterlockedExchange(&Waiter->State, 2);
}

typedef struct _A26_RES_PROBE {
    PWDKM_RESOURCE Resource;
    volatile LONG Errors;
    NTSTATUS ExpectTryShared;
} A26_RES_PROBE;

static VOID
A26ResProbeThread(PVOID Context, ULONG Index)
{
    A26_RES_PROBE *Probe = (A26_RES_PROBE *)Context;
    PVOID Data;
    const VOID *ConstData;

    UNREFERENCED_PARAMETER(Index);
    if (WdkmResourceTryAcquireExclusive(Probe->Resource, sizeof(LONG), &Data) != STATUS_TIMEOUT ||
        WdkmResourceTryAcquireShared(Probe->Resource, sizeof(LONG), &ConstData) !=
            Probe->ExpectTryShared ||
        WdkmResourceRelease(Probe->Resource) != STATUS_WDKM_NOT_OWNER ||
        A26AllTeardownsAnswer(A26Resource, Probe->Resource) != STATUS_WDKM_LOCK_HELD) {
        InterlockedIncrement(&Probe->Errors);
    }
}

static VOID
ResourceStatusesWithWaiters(VOID)
{
    PWDKM_RESOURCE Resource;
    A26_RES_WAITER Shared, Exclusive;
    A26_RES_PROBE Probe;
    WDKM_TEST_THREAD *SharedThread, *ExclusiveThread;
    PVOID Data;
    const VOID *ConstData;

    CHECK_STATUS(WdkmResourceCreate(&(LONG){ 71 }, sizeof(LONG), &Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireExclusive(Resource, sizeof(LONG), &Data), STATUS_SUCCESS);
    memset(&Shared, 0, sizeof(Shared));
    Shared.Resource = Resource;
    memset(&Exclusive, 0, sizeof(Exclusive));
    Exclusive.Resource = Resource;
    Exclusive.Exclusive = TRUE;
    SharedThread = WdkmTestStartThread(A26ResWaiterThread, &Shared);
    CHECK(SharedThread != NULL);
    ExclusiveThread = WdkmTestStartThread(A26ResWaiterThread, &Exclusive);
    CHECK(ExclusiveThread != NULL);
    WdkmTestSleepMs(30);
    CHECK_EQ(A26Read(&Shared.State), 0);
    CHECK_EQ(A26Read(&Exclusive.State), 0);

    /* The owner, with two waiters: recursion either way, try, teardown. */
    CHECK_STATUS(WdkmResourceTryAcquireExclusive(Resource, sizeof(LONG), &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireShared(Resource, sizeof(LONG), &ConstData), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceTryAcquireShared(Resource, sizeof(LONG), &ConstData), STATUS_SUCCESS);
    CHECK_STATUS(A26AllTeardownsAnswer(A26Resource, Resource), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK(WdkmResourceIsOwnedExclusive(Resource));
    memset(&Probe, 0, sizeof(Probe));
    Probe.Resource = Resource;
    Probe.ExpectTryShared = STATUS_TIMEOUT;             /* a writer holds it */
    CHECK(WdkmTestRunThreads(1, A26ResProbeThread, &Probe));
    CHECK_EQ(Probe.Errors, 0);
    CHECK_EQ(A26Read(&Shared.State), 0);
    CHECK_EQ(A26Read(&Exclusive.State), 0);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);

    /* The waiters get it in some order; whoever holds it, the main thread
       is no owner and teardown is refused. */
    {
        ULONG Tries;

        for (Tries = 0; Tries < 5000 && A26Read(&Shared.State) != 1 &&
                        A26Read(&Exclusive.State) != 1; Tries += 1) {
            usleep(1000);
        }
    }
    CHECK(A26Read(&Shared.State) == 1 || A26Read(&Exclusive.State) == 1);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(A26AllTeardownsAnswer(A26Resource, Resource), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmResourceTryAcquireExclusive(Resource, sizeof(LONG), &Data), STATUS_TIMEOUT);
    InterlockedExchange(&Shared.Go, 1);
    CHECK(A26WaitFor(&Exclusive.State, 1));
    CHECK_STATUS(WdkmResourceTryAcquireShared(Resource, sizeof(LONG), &ConstData), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(A26AllTeardownsAnswer(A26Resource, Resource), STATUS_WDKM_LOCK_HELD);
    InterlockedExchange(&Exclusive.Go, 1);
    WdkmTestJoinThread(SharedThread);
    WdkmTestJoinThread(ExclusiveThread);
    CHECK_EQ(Shared.Errors, 0);
    CHECK_EQ(Exclusive.Errors, 0);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_WDKM_NOT_HELD);
    CHECK(A26DestroyFree(A26Resource, Resource, 71));
}

/* ---------------------------------------------------------------------- */

static VOID
Attack26Cleanup(VOID)
{
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    if (WdkmHostInterruptsActive(NULL)) {
        WdkmHostInterruptsStop();
    }
    (VOID)InterlockedExchangePointer(&A26CurrentStorm, NULL);
    (VOID)InterlockedExchangePointer(&A26CurrentResStorm, NULL);
}

static const WDKM_TEST_CASE Attack26Cases[] = {
    { "held_by_other_thread_every_kind", HeldByOtherThreadEveryKind },
    { "recursive_holds_refused_to_the_last_release", RecursiveHoldsRefusedToTheLastRelease },
    { "injected_events_on_holder_are_refused", InjectedEventsOnHolderAreRefused },
    { "random_events_on_holder_never_destroy_held", RandomEventsOnHolderNeverDestroyHeld },
    { "histories_leave_free_locks_destroyable", HistoriesLeaveFreeLocksDestroyable },
    { "registry_locks_refused_held_or_free", RegistryLocksRefusedHeldOrFree },
    { "spin_inner_lowering_refused_every_form", SpinInnerLoweringRefusedEveryForm },
    { "spin_explicit_out_of_order_exactly_once", SpinExplicitOutOfOrderExactlyOnce },
    { "spin_at_dpc_level_and_mutexes_underneath", SpinAtDpcLevelAndMutexesUnderneath },
    { "spin_injected_dpc_nests_between_thread_nests", SpinInjectedDpcNestsBetweenThreadNests },
    { "spin_random_dpcs_never_refuse_legitimate_nests", SpinRandomDpcsNeverRefuseLegitimateNests },
    { "spin_table_full_and_reused_by_new_threads", SpinTableFullAndReusedByNewThreads },
    { "resource_apc_exclusive_over_shared_hold", ResourceApcExclusiveOverSharedHold },
    { "resource_recursion_exact_under_random_apcs", ResourceRecursionExactUnderRandomApcs },
    { "resource_statuses_with_waiters", ResourceStatusesWithWaiters },
};

const WDKM_TEST_SUITE WdkmAttack26Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack26", Attack26Cases, Attack26Cleanup);
