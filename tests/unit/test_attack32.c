/*
 * test_attack32.c - the host emulation's interrupt injection and the
 * registry's drained in-place registrations, attacked from the
 * documentation alone (docs/host-testing.md, port/host/include/wdkm_host.h,
 * docs/reference.md): no test here was written from src/ or port/host.
 *
 * 1. Injected DPCs and APCs against a seeded reference model of the
 *    masking rules: which events run at each step, in which order (DPCs,
 *    then special, then normal APCs, each in queueing order), at which
 *    IRQL, nested as NT nests them; the DPC thread is never a target; a
 *    seed replays each thread's choices (in a fresh process); stop,
 *    dropped events, a bugcheck inside an event, the post-event checks.
 * 2. Drained in-place registrations: every path to the last reference,
 *    drains that call the library, DPCs and APCs on the holder's thread.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wdkm_test.h"

extern char **environ;

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

static ULONG64
A32Next(ULONG64 *State)
{
    ULONG64 X = *State;

    X ^= X << 13;
    X ^= X >> 7;
    X ^= X << 17;
    *State = X;
    return X;
}

static ULONG
A32Below(ULONG64 *State, ULONG Limit)
{
    return (ULONG)(A32Next(State) % Limit);
}

/* ---------------------------------------------------------------------- */
/* 1a. Masking and ordering against a reference model, on one thread       */
/* ---------------------------------------------------------------------- */

#define A32_MAX_EVENTS 8192
#define A32_MAX_CHILDREN 2

typedef struct _A32_EVENT {
    LONG Id;
    WDKM_HOST_INTERRUPT Kind;
    LONG ChildCount;
    LONG Child[A32_MAX_CHILDREN];
} A32_EVENT;

typedef struct _A32_RUN {
    LONG Id;
    LONG Kind;              /* the Kind argument */
    KIRQL Irql;             /* KeGetCurrentIrql in the routine */
    BOOLEAN InInterrupt;
    BOOLEAN SameThread;
    BOOLEAN ExecutingDpc;
} A32_RUN;

static A32_EVENT A32Events[A32_MAX_EVENTS];
static A32_RUN A32Ran[A32_MAX_EVENTS];
static LONG A32RanCount;
static PKTHREAD A32ModelThread;

static VOID
A32ModelRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A32_EVENT *Event = (A32_EVENT *)Context;
    LONG Index = __atomic_fetch_add(&A32RanCount, 1, __ATOMIC_RELAXED);
    LONG Child;

    UNREFERENCED_PARAMETER(Random);
    if (Index < A32_MAX_EVENTS) {
        A32Ran[Index].Id = Event->Id;
        A32Ran[Index].Kind = (LONG)Kind;
        A32Ran[Index].Irql = KeGetCurrentIrql();
        A32Ran[Index].InInterrupt = WdkmHostInInterrupt();
        A32Ran[Index].SameThread = (BOOLEAN)(KeGetCurrentThread() == A32ModelThread);
        A32Ran[Index].ExecutingDpc = (BOOLEAN)(KeIsExecutingDpc() != FALSE);
    }
    for (Child = 0; Child < Event->ChildCount; Child += 1) {
        A32_EVENT *Next = &A32Events[Event->Child[Child]];

        WdkmHostQueueInterrupt(KeGetCurrentThread(), Next->Kind, A32ModelRoutine, Next);
    }
}

/* The model's view of the thread: what masks what (wdkm_host.h). */
typedef struct _A32_CONTEXT {
    KIRQL Irql;
    LONG Critical;
    LONG Guarded;
    LONG KMutexOwned;
    BOOLEAN InNormalApc;
} A32_CONTEXT;

typedef struct _A32_MODEL {
    LONG Pending[64];
    LONG PendingCount;
    LONG Expected[A32_MAX_EVENTS];
    LONG ExpectedCount;
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];
    ULONG64 Deferred[WDKM_HOST_INTERRUPT_KINDS];
} A32_MODEL;

static BOOLEAN
A32Deliverable(WDKM_HOST_INTERRUPT Kind, const A32_CONTEXT *Context)
{
    switch (Kind) {
    case WdkmHostInterruptDpc:
        return Context->Irql < DISPATCH_LEVEL;
    case WdkmHostInterruptSpecialApc:
        return Context->Irql < APC_LEVEL && Context->Guarded == 0;
    default:
        return Context->Irql < APC_LEVEL && Context->Guarded == 0 && Context->Critical == 0 &&
               Context->KMutexOwned == 0 && !Context->InNormalApc;
    }
}

static LONG
A32Priority(WDKM_HOST_INTERRUPT Kind)
{
    return Kind == WdkmHostInterruptDpc ? 3 : Kind == WdkmHostInterruptSpecialApc ? 2 : 1;
}

static VOID A32ModelQueue(A32_MODEL *Model, LONG Id, const A32_CONTEXT *Context);

/* Runs every pending event Context allows, highest level first, each in
   queueing order; an event's children are queued from its own context. */
static VOID
A32ModelDeliver(A32_MODEL *Model, const A32_CONTEXT *Context)
{
    for (;;) {
        LONG Best = -1;
        LONG Index;
        A32_EVENT *Event;
        A32_CONTEXT Inner;
        LONG Child;

        for (Index = 0; Index < Model->PendingCount; Index += 1) {
            A32_EVENT *Candidate = &A32Events[Model->Pending[Index]];

            if (A32Deliverable(Candidate->Kind, Context) &&
                (Best < 0 ||
                 A32Priority(Candidate->Kind) > A32Priority(A32Events[Model->Pending[Best]].Kind))) {
                Best = Index;
            }
        }
        if (Best < 0) {
            return;
        }
        Event = &A32Events[Model->Pending[Best]];
        memmove(&Model->Pending[Best], &Model->Pending[Best + 1],
                (size_t)(Model->PendingCount - Best - 1) * sizeof(LONG));
        Model->PendingCount -= 1;
        Model->Expected[Model->ExpectedCount++] = Event->Id;
        Model->Delivered[Event->Kind] += 1;
        Inner = *Context;
        if (Event->Kind == WdkmHostInterruptDpc) {
            Inner.Irql = DISPATCH_LEVEL;
        } else if (Event->Kind == WdkmHostInterruptSpecialApc) {
            Inner.Irql = APC_LEVEL;
        } else {
            Inner.Irql = PASSIVE_LEVEL;
            Inner.InNormalApc = TRUE;
        }
        for (Child = 0; Child < Event->ChildCount; Child += 1) {
            A32ModelQueue(Model, Event->Child[Child], &Inner);
        }
    }
}

static VOID
A32ModelQueue(A32_MODEL *Model, LONG Id, const A32_CONTEXT *Context)
{
    if (!A32Deliverable(A32Events[Id].Kind, Context)) {
        Model->Deferred[A32Events[Id].Kind] += 1;
    }
    Model->Pending[Model->PendingCount++] = Id;
    A32ModelDeliver(Model, Context);
}

typedef enum _A32_SCOPE_KIND {
    A32ScopeRaiseApc,
    A32ScopeRaiseDispatch,
    A32ScopeCritical,
    A32ScopeGuarded,
    A32ScopeKMutex,
    A32ScopeFastMutex,
    A32ScopeSpinLock,
    A32ScopeQueuedSpinLock,
    A32ScopeGuardedMutex,
    A32ScopeKinds
} A32_SCOPE_KIND;

typedef struct _A32_SCOPE {
    A32_SCOPE_KIND Kind;
    KIRQL OldIrql;
    KLOCK_QUEUE_HANDLE Handle;
} A32_SCOPE;

#define A32_MAX_DEPTH 10

typedef struct _A32_LOCKS {
    KMUTEX Mutex;
    FAST_MUTEX FastMutex[A32_MAX_DEPTH];
    KSPIN_LOCK SpinLock[A32_MAX_DEPTH];
    KGUARDED_MUTEX GuardedMutex[A32_MAX_DEPTH];
} A32_LOCKS;

static A32_LOCKS A32Locks;

static A32_CONTEXT
A32ContextOf(const A32_SCOPE *Stack, LONG Depth)
{
    A32_CONTEXT Context;
    LONG Index;

    memset(&Context, 0, sizeof(Context));
    for (Index = 0; Index < Depth; Index += 1) {
        switch (Stack[Index].Kind) {
        case A32ScopeRaiseApc:
        case A32ScopeFastMutex:
            Context.Irql = APC_LEVEL > Context.Irql ? APC_LEVEL : Context.Irql;
            break;
        case A32ScopeRaiseDispatch:
        case A32ScopeSpinLock:
        case A32ScopeQueuedSpinLock:
            Context.Irql = DISPATCH_LEVEL;
            break;
        case A32ScopeCritical:
            Context.Critical += 1;
            break;
        case A32ScopeGuarded:
        case A32ScopeGuardedMutex:
            Context.Guarded += 1;
            break;
        case A32ScopeKMutex:
            Context.KMutexOwned += 1;
            break;
        default:
            break;
        }
    }
    return Context;
}

static BOOLEAN
A32ScopeAllowed(A32_SCOPE_KIND Kind, const A32_CONTEXT *Context, const A32_SCOPE *Stack, LONG Depth)
{
    LONG Index;

    switch (Kind) {
    case A32ScopeRaiseDispatch:
    case A32ScopeSpinLock:
    case A32ScopeQueuedSpinLock:
        return TRUE;
    case A32ScopeFastMutex:
        /* One FAST_MUTEX hold at a time keeps clear of recursion rules. */
        for (Index = 0; Index < Depth; Index += 1) {
            if (Stack[Index].Kind == A32ScopeFastMutex) {
                return FALSE;
            }
        }
        return Context->Irql <= APC_LEVEL;
    default:
        return Context->Irql <= APC_LEVEL;
    }
}

static VOID
A32ScopePush(A32_SCOPE *Scope, LONG Depth)
{
    switch (Scope->Kind) {
    case A32ScopeRaiseApc:
        KeRaiseIrql(APC_LEVEL > KeGetCurrentIrql() ? APC_LEVEL : KeGetCurrentIrql(), &Scope->OldIrql);
        break;
    case A32ScopeRaiseDispatch:
        KeRaiseIrql(DISPATCH_LEVEL, &Scope->OldIrql);
        break;
    case A32ScopeCritical:
        KeEnterCriticalRegion();
        break;
    case A32ScopeGuarded:
        KeEnterGuardedRegion();
        break;
    case A32ScopeKMutex:
        (VOID)KeWaitForSingleObject(&A32Locks.Mutex, Executive, KernelMode, FALSE, NULL);
        break;
    case A32ScopeFastMutex:
        ExAcquireFastMutex(&A32Locks.FastMutex[Depth]);
        break;
    case A32ScopeSpinLock:
        KeAcquireSpinLock(&A32Locks.SpinLock[Depth], &Scope->OldIrql);
        break;
    case A32ScopeQueuedSpinLock:
        KeAcquireInStackQueuedSpinLock(&A32Locks.SpinLock[Depth], &Scope->Handle);
        break;
    case A32ScopeGuardedMutex:
        KeAcquireGuardedMutex(&A32Locks.GuardedMutex[Depth]);
        break;
    default:
        break;
    }
}

static VOID
A32ScopePop(A32_SCOPE *Scope, LONG Depth)
{
    switch (Scope->Kind) {
    case A32ScopeRaiseApc:
    case A32ScopeRaiseDispatch:
        KeLowerIrql(Scope->OldIrql);
        break;
    case A32ScopeCritical:
        KeLeaveCriticalRegion();
        break;
    case A32ScopeGuarded:
        KeLeaveGuardedRegion();
        break;
    case A32ScopeKMutex:
        (VOID)KeReleaseMutex(&A32Locks.Mutex, FALSE);
        break;
    case A32ScopeFastMutex:
        ExReleaseFastMutex(&A32Locks.FastMutex[Depth]);
        break;
    case A32ScopeSpinLock:
        KeReleaseSpinLock(&A32Locks.SpinLock[Depth], Scope->OldIrql);
        break;
    case A32ScopeQueuedSpinLock:
        KeReleaseInStackQueuedSpinLock(&Scope->Handle);
        break;
    case A32ScopeGuardedMutex:
        KeReleaseGuardedMutex(&A32Locks.GuardedMutex[Depth]);
        break;
    default:
        break;
    }
}

static const char *const A32ScopeNames[A32ScopeKinds] = {
    "raise-apc", "raise-dispatch", "critical", "guarded", "kmutex",
    "fast-mutex", "spin-lock", "queued-spin-lock", "guarded-mutex"
};

/* Checks the run log against the model; prints the step on a mismatch. */
static BOOLEAN
A32CompareRuns(const A32_MODEL *Model, ULONG64 Seed, LONG Step, PCSTR What)
{
    LONG Ran = __atomic_load_n(&A32RanCount, __ATOMIC_RELAXED);
    LONG Index;

    if (Ran != Model->ExpectedCount) {
        WdkmTestFail(__FILE__, __LINE__, "seed %llu step %ld (%s): %ld events ran, model %ld",
                     (unsigned long long)Seed, (long)Step, What, (long)Ran,
                     (long)Model->ExpectedCount);
        return FALSE;
    }
    for (Index = 0; Index < Ran; Index += 1) {
        const A32_RUN *Run = &A32Ran[Index];
        const A32_EVENT *Event = &A32Events[Model->Expected[Index]];
        KIRQL Irql = Event->Kind == WdkmHostInterruptDpc ? DISPATCH_LEVEL
                   : Event->Kind == WdkmHostInterruptSpecialApc ? APC_LEVEL : PASSIVE_LEVEL;

        if (Run->Id != Event->Id || Run->Kind != (LONG)Event->Kind || Run->Irql != Irql ||
            !Run->InInterrupt || !Run->SameThread ||
            (Event->Kind == WdkmHostInterruptDpc) != (Run->ExecutingDpc != FALSE)) {
            WdkmTestFail(__FILE__, __LINE__,
                         "seed %llu step %ld (%s): run %ld was event %ld kind %ld irql %u "
                         "in-interrupt %u same-thread %u executing-dpc %u; model: event %ld "
                         "kind %ld irql %u",
                         (unsigned long long)Seed, (long)Step, What, (long)Index,
                         (long)Run->Id, (long)Run->Kind, (unsigned)Run->Irql,
                         (unsigned)Run->InInterrupt, (unsigned)Run->SameThread,
                         (unsigned)Run->ExecutingDpc, (long)Event->Id, (long)Event->Kind,
                         (unsigned)Irql);
            return FALSE;
        }
    }
    return TRUE;
}

static BOOLEAN
A32MaskingWalk(ULONG64 Seed, LONG Steps)
{
    static A32_MODEL Model;
    A32_SCOPE Stack[A32_MAX_DEPTH];
    LONG Depth = 0;
    LONG Step;
    LONG NextId = 0;
    ULONG64 State = Seed * 0x9E3779B97F4A7C15ULL + 1;
    ULONG64 DeliveredBefore[WDKM_HOST_INTERRUPT_KINDS];
    ULONG64 DeferredBefore[WDKM_HOST_INTERRUPT_KINDS];
    ULONG64 DeliveredAfter[WDKM_HOST_INTERRUPT_KINDS];
    ULONG64 DeferredAfter[WDKM_HOST_INTERRUPT_KINDS];
    ULONG64 DroppedBefore = WdkmHostInterruptsDropped();
    LONG Kind;
    char What[96];

    memset(&Model, 0, sizeof(Model));
    A32RanCount = 0;
    A32ModelThread = KeGetCurrentThread();
    WdkmHostQueryInterruptCounts(DeliveredBefore, DeferredBefore);
    for (Step = 0; Step < Steps || Depth > 0; Step += 1) {
        A32_CONTEXT Context = A32ContextOf(Stack, Depth);
        ULONG Choice = A32Below(&State, 10);

        if (Step >= Steps) {
            Choice = 9;     /* unwind */
        }
        if (Choice < 4 && NextId + 3 < A32_MAX_EVENTS && Model.PendingCount < 26) {
            A32_EVENT *Event = &A32Events[NextId];
            LONG Child;

            Event->Id = NextId++;
            Event->Kind = (WDKM_HOST_INTERRUPT)A32Below(&State, 3);
            Event->ChildCount = A32Below(&State, 4) == 0 ? (LONG)A32Below(&State, 3) : 0;
            for (Child = 0; Child < Event->ChildCount; Child += 1) {
                A32_EVENT *Next = &A32Events[NextId];

                Next->Id = NextId++;
                Next->Kind = (WDKM_HOST_INTERRUPT)A32Below(&State, 3);
                Next->ChildCount = 0;
                Event->Child[Child] = Next->Id;
            }
            snprintf(What, sizeof(What), "queue event %ld kind %d (%ld children) at depth %ld",
                     (long)Event->Id, (int)Event->Kind, (long)Event->ChildCount, (long)Depth);
            A32ModelQueue(&Model, Event->Id, &Context);
            WdkmHostQueueInterrupt(KeGetCurrentThread(), Event->Kind, A32ModelRoutine, Event);
        } else if (Choice < 7 && Depth < A32_MAX_DEPTH) {
            A32_SCOPE_KIND ScopeKind = (A32_SCOPE_KIND)A32Below(&State, A32ScopeKinds);

            if (!A32ScopeAllowed(ScopeKind, &Context, Stack, Depth)) {
                continue;
            }
            Stack[Depth].Kind = ScopeKind;
            snprintf(What, sizeof(What), "enter %s at depth %ld", A32ScopeNames[ScopeKind],
                     (long)Depth);
            A32ScopePush(&Stack[Depth], Depth);
            Depth += 1;
            Context = A32ContextOf(Stack, Depth);
            A32ModelDeliver(&Model, &Context);
        } else if (Depth > 0) {
            Depth -= 1;
            snprintf(What, sizeof(What), "leave %s at depth %ld", A32ScopeNames[Stack[Depth].Kind],
                     (long)Depth);
            A32ScopePop(&Stack[Depth], Depth);
            Context = A32ContextOf(Stack, Depth);
            A32ModelDeliver(&Model, &Context);
        } else {
            continue;
        }
        if (!A32CompareRuns(&Model, Seed, Step, What)) {
            while (Depth > 0) {
                Depth -= 1;
                A32ScopePop(&Stack[Depth], Depth);
            }
            return FALSE;
        }
        if (KeGetCurrentIrql() != Context.Irql) {
            WdkmTestFail(__FILE__, __LINE__, "seed %llu step %ld (%s): IRQL %u, model %u",
                         (unsigned long long)Seed, (long)Step, What,
                         (unsigned)KeGetCurrentIrql(), (unsigned)Context.Irql);
            return FALSE;
        }
    }
    if (Model.PendingCount != 0) {
        WdkmTestFail(__FILE__, __LINE__, "seed %llu: the model left %ld events pending",
                     (unsigned long long)Seed, (long)Model.PendingCount);
        return FALSE;
    }
    WdkmHostQueryInterruptCounts(DeliveredAfter, DeferredAfter);
    for (Kind = 0; Kind < WDKM_HOST_INTERRUPT_KINDS; Kind += 1) {
        if (DeliveredAfter[Kind] - DeliveredBefore[Kind] != Model.Delivered[Kind] ||
            DeferredAfter[Kind] - DeferredBefore[Kind] != Model.Deferred[Kind]) {
            WdkmTestFail(__FILE__, __LINE__,
                         "seed %llu kind %ld: delivered %llu deferred %llu, model %llu / %llu",
                         (unsigned long long)Seed, (long)Kind,
                         (unsigned long long)(DeliveredAfter[Kind] - DeliveredBefore[Kind]),
                         (unsigned long long)(DeferredAfter[Kind] - DeferredBefore[Kind]),
                         (unsigned long long)Model.Delivered[Kind],
                         (unsigned long long)Model.Deferred[Kind]);
            return FALSE;
        }
    }
    if (WdkmHostInterruptsDropped() != DroppedBefore) {
        WdkmTestFail(__FILE__, __LINE__, "seed %llu: events dropped", (unsigned long long)Seed);
        return FALSE;
    }
    return TRUE;
}

static VOID
A32InitializeLocks(VOID)
{
    LONG Index;

    KeInitializeMutex(&A32Locks.Mutex, 0);
    for (Index = 0; Index < A32_MAX_DEPTH; Index += 1) {
        ExInitializeFastMutex(&A32Locks.FastMutex[Index]);
        KeInitializeSpinLock(&A32Locks.SpinLock[Index]);
        KeInitializeGuardedMutex(&A32Locks.GuardedMutex[Index]);
    }
}

/* Every event runs exactly where the documented masking allows, in the
   documented order, at its level, on its thread, nested as NT's. */
static VOID
Attack32MaskingMatchesModel(VOID)
{
    ULONG64 Seed;
    PCSTR Text = getenv("ATTACK32_SEED");
    ULONG64 First = Text != NULL ? strtoull(Text, NULL, 0) : 1;
    ULONG64 Last = Text != NULL ? First : 24;

    A32InitializeLocks();
    for (Seed = First; Seed <= Last; Seed += 1) {
        if (!A32MaskingWalk(Seed, 3000)) {
            return;
        }
    }
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
}

/* ---------------------------------------------------------------------- */
/* 1b. Other threads: masked while they spin, asleep in a wait              */
/* ---------------------------------------------------------------------- */

typedef struct _A32_SPINNER {
    LONG volatile Go;           /* the test's signal to move on */
    LONG volatile Phase;        /* where the worker is */
    LONG volatile RanAtPhase[8];
    LONG volatile RanCount;
    LONG volatile Order[8];
    KEVENT Event;
    KSPIN_LOCK SpinLock;
    PKTHREAD Thread;
} A32_SPINNER;

static A32_SPINNER A32Spinner;

static VOID
A32SpinnerRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    LONG Index = __atomic_fetch_add(&A32Spinner.RanCount, 1, __ATOMIC_RELAXED);

    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    if (Index < 8) {
        __atomic_store_n(&A32Spinner.RanAtPhase[Index],
                         __atomic_load_n(&A32Spinner.Phase, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
        __atomic_store_n(&A32Spinner.Order[Index], (LONG)Kind, __ATOMIC_RELAXED);
    }
}

static VOID
A32WaitGo(LONG Value)
{
    while (__atomic_load_n(&A32Spinner.Go, __ATOMIC_ACQUIRE) < Value) {
        /* spin: runnable, so an unmasked event lands here */
    }
}

static VOID
A32SpinnerThread(PVOID Context, ULONG Index)
{
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    A32Spinner.Thread = KeGetCurrentThread();
    /* Phase 1: holding a spin lock; 2: released. */
    KeAcquireSpinLock(&A32Spinner.SpinLock, &OldIrql);
    __atomic_store_n(&A32Spinner.Phase, 1, __ATOMIC_RELEASE);
    A32WaitGo(1);
    KeReleaseSpinLock(&A32Spinner.SpinLock, OldIrql);
    __atomic_store_n(&A32Spinner.Phase, 2, __ATOMIC_RELEASE);
    A32WaitGo(2);
    /* Phase 3: in a critical region, spinning. */
    KeEnterCriticalRegion();
    __atomic_store_n(&A32Spinner.Phase, 3, __ATOMIC_RELEASE);
    A32WaitGo(3);
    KeLeaveCriticalRegion();
    __atomic_store_n(&A32Spinner.Phase, 4, __ATOMIC_RELEASE);
    A32WaitGo(4);
    /* Phase 5: asleep in a wait; 6: the wait returned. */
    __atomic_store_n(&A32Spinner.Phase, 5, __ATOMIC_RELEASE);
    (VOID)KeWaitForSingleObject(&A32Spinner.Event, Executive, KernelMode, FALSE, NULL);
    __atomic_store_n(&A32Spinner.Phase, 6, __ATOMIC_RELEASE);
    A32WaitGo(6);
}

static VOID
A32WaitPhase(LONG Phase)
{
    while (__atomic_load_n(&A32Spinner.Phase, __ATOMIC_ACQUIRE) < Phase) {
        WdkmTestSleepMs(1);
    }
}

static LONG
A32WaitRan(LONG Count, ULONG Milliseconds)
{
    LONGLONG End = WdkmTestNowMs() + Milliseconds;

    while (__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE) < Count && WdkmTestNowMs() < End) {
        WdkmTestSleepMs(1);
    }
    return __atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE);
}

/* "if it is masked where it spins, the event waits and runs at its
   unmasking call"; a thread asleep in a wait is not interrupted, its
   events run when the wait returns, DPCs before APCs. */
static VOID
Attack32OtherThreadMaskedAndAsleep(VOID)
{
    WDKM_TEST_THREAD *Worker;

    memset(&A32Spinner, 0, sizeof(A32Spinner));
    KeInitializeEvent(&A32Spinner.Event, NotificationEvent, FALSE);
    KeInitializeSpinLock(&A32Spinner.SpinLock);
    Worker = WdkmTestStartThread(A32SpinnerThread, NULL);
    CHECK(Worker != NULL);
    A32WaitPhase(1);
    /* At DISPATCH_LEVEL: a DPC and both APCs wait for the release. */
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptNormalApc, A32SpinnerRoutine, NULL);
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptSpecialApc, A32SpinnerRoutine, NULL);
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptDpc, A32SpinnerRoutine, NULL);
    WdkmTestSleepMs(50);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE), 0);
    __atomic_store_n(&A32Spinner.Go, 1, __ATOMIC_RELEASE);
    A32WaitPhase(2);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE), 3);       /* all ran in KeReleaseSpinLock */
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanAtPhase[0], __ATOMIC_ACQUIRE), 1);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanAtPhase[2], __ATOMIC_ACQUIRE), 1);
    CHECK_EQ(__atomic_load_n(&A32Spinner.Order[0], __ATOMIC_ACQUIRE), WdkmHostInterruptDpc);
    CHECK_EQ(__atomic_load_n(&A32Spinner.Order[1], __ATOMIC_ACQUIRE), WdkmHostInterruptSpecialApc);
    CHECK_EQ(__atomic_load_n(&A32Spinner.Order[2], __ATOMIC_ACQUIRE), WdkmHostInterruptNormalApc);
    /* Running unmasked: at once, wherever it is. */
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptNormalApc, A32SpinnerRoutine, NULL);
    CHECK_EQ(A32WaitRan(4, 2000), 4);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanAtPhase[3], __ATOMIC_ACQUIRE), 2);
    __atomic_store_n(&A32Spinner.Go, 2, __ATOMIC_RELEASE);
    A32WaitPhase(3);
    /* In a critical region: the special APC runs, the normal one waits. */
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptNormalApc, A32SpinnerRoutine, NULL);
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptSpecialApc, A32SpinnerRoutine, NULL);
    CHECK_EQ(A32WaitRan(5, 2000), 5);
    CHECK_EQ(__atomic_load_n(&A32Spinner.Order[4], __ATOMIC_ACQUIRE), WdkmHostInterruptSpecialApc);
    WdkmTestSleepMs(50);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE), 5);
    __atomic_store_n(&A32Spinner.Go, 3, __ATOMIC_RELEASE);
    A32WaitPhase(4);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE), 6);       /* ran in KeLeaveCriticalRegion */
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanAtPhase[5], __ATOMIC_ACQUIRE), 3);
    __atomic_store_n(&A32Spinner.Go, 4, __ATOMIC_RELEASE);
    A32WaitPhase(5);
    WdkmTestSleepMs(30);                    /* asleep by now */
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptSpecialApc, A32SpinnerRoutine, NULL);
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptDpc, A32SpinnerRoutine, NULL);
    WdkmTestSleepMs(50);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE), 6);       /* not interrupted while asleep */
    (VOID)KeSetEvent(&A32Spinner.Event, 0, FALSE);
    CHECK_EQ(A32WaitRan(8, 2000), 8);
    /* (Their order is not the unmasking order's: NT would have run the
       APC inside the wait, before the DPC was queued.) */
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanAtPhase[6], __ATOMIC_ACQUIRE), 5);  /* when the wait returned */
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanAtPhase[7], __ATOMIC_ACQUIRE), 5);
    __atomic_store_n(&A32Spinner.Go, 6, __ATOMIC_RELEASE);
    WdkmTestJoinThread(Worker);
}

/* ---------------------------------------------------------------------- */
/* 1c. Random injection: never the DPC thread; stop; dropped events         */
/* ---------------------------------------------------------------------- */

#define A32_MAX_TARGETS 8

typedef struct _A32_RANDOM {
    pthread_t Allowed[A32_MAX_TARGETS];
    LONG volatile AllowedCount;
    pthread_t DpcThread;
    PKTHREAD DpcKThread;
    LONG volatile DpcThreadKnown;
    LONG volatile OnDpcThread;
    LONG volatile OnUnknownThread;
    LONG volatile InsideQueuedDpc;
    LONG volatile Ran;
    LONG volatile Active;
    LONG volatile Stop;
    LONG volatile DpcsRun;
    ULONG StallMicroseconds;
} A32_RANDOM;

static A32_RANDOM A32Random;

/* Busy loops write here, so that the compiler keeps them. */
static __thread volatile ULONG64 A32Sink;

static VOID
A32RandomRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    pthread_t Self = pthread_self();
    LONG Count = __atomic_load_n(&A32Random.AllowedCount, __ATOMIC_ACQUIRE);
    LONG Index;
    BOOLEAN Known = FALSE;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    __atomic_fetch_add(&A32Random.Active, 1, __ATOMIC_ACQ_REL);
    __atomic_fetch_add(&A32Random.Ran, 1, __ATOMIC_RELAXED);
    if (__atomic_load_n(&A32Random.DpcThreadKnown, __ATOMIC_ACQUIRE) != 0 &&
        (pthread_equal(Self, A32Random.DpcThread) || KeGetCurrentThread() == A32Random.DpcKThread)) {
        __atomic_fetch_add(&A32Random.OnDpcThread, 1, __ATOMIC_RELAXED);
    }
    for (Index = 0; Index < Count; Index += 1) {
        if (pthread_equal(Self, A32Random.Allowed[Index])) {
            Known = TRUE;
        }
    }
    if (!Known) {
        __atomic_fetch_add(&A32Random.OnUnknownThread, 1, __ATOMIC_RELAXED);
    }
    if (A32Random.StallMicroseconds != 0) {
        KeStallExecutionProcessor(A32Random.StallMicroseconds);
    }
    __atomic_fetch_sub(&A32Random.Active, 1, __ATOMIC_ACQ_REL);
}

static VOID
A32AllowCurrentThread(VOID)
{
    static LONG Reserved;
    LONG Index;

    if (__atomic_load_n(&A32Random.AllowedCount, __ATOMIC_ACQUIRE) == 0) {
        Reserved = 0;       /* a new test: only its first call comes here */
    }
    Index = __atomic_fetch_add(&Reserved, 1, __ATOMIC_ACQ_REL);
    A32Random.Allowed[Index] = pthread_self();
    /* Publish in slot order, so the routine never reads an unset slot. */
    while (__atomic_load_n(&A32Random.AllowedCount, __ATOMIC_ACQUIRE) != Index) {
        sched_yield();
    }
    __atomic_store_n(&A32Random.AllowedCount, Index + 1, __ATOMIC_RELEASE);
}

static VOID
A32QueuedDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    if (__atomic_load_n(&A32Random.DpcThreadKnown, __ATOMIC_ACQUIRE) == 0) {
        A32Random.DpcThread = pthread_self();
        A32Random.DpcKThread = KeGetCurrentThread();
        __atomic_store_n(&A32Random.DpcThreadKnown, 1, __ATOMIC_RELEASE);
    }
    KeStallExecutionProcessor(30);
    __atomic_fetch_add(&A32Random.DpcsRun, 1, __ATOMIC_RELAXED);
}

/* Spins in and out of a lock until told to stop. */
static VOID
A32RandomWorker(PVOID Context, ULONG Index)
{
    KSPIN_LOCK *SpinLock = (KSPIN_LOCK *)Context;

    UNREFERENCED_PARAMETER(Index);
    A32AllowCurrentThread();
    while (__atomic_load_n(&A32Random.Stop, __ATOMIC_ACQUIRE) == 0) {
        KIRQL OldIrql;
        ULONG Spin;

        KeAcquireSpinLock(SpinLock, &OldIrql);
        for (Spin = 0; Spin < 200; Spin += 1) {
            A32Sink += Spin;
        }
        KeReleaseSpinLock(SpinLock, OldIrql);
        for (Spin = 0; Spin < 2000; Spin += 1) {
            A32Sink += Spin;
        }
    }
}

/* "Random injection into every emulated kernel thread (...; not the
   emulation's DPC thread)": while queued and timer DPCs keep the DPC
   thread busy, no injected event runs there, nor on a thread of no one. */
static VOID
Attack32RandomInjectionNeverOnDpcThread(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_TEST_THREAD *Workers[2];
    KSPIN_LOCK SpinLock;
    KDPC Dpcs[8];
    KDPC TimerDpc;
    KTIMER Timer;
    LARGE_INTEGER Due;
    LONGLONG End;
    LONGLONG Deadline;
    LONG Index;

    memset(&A32Random, 0, sizeof(A32Random));
    KeInitializeSpinLock(&SpinLock);
    A32AllowCurrentThread();
    for (Index = 0; Index < 8; Index += 1) {
        KeInitializeDpc(&Dpcs[Index], A32QueuedDpcRoutine, NULL);
    }
    KeInitializeDpc(&TimerDpc, A32QueuedDpcRoutine, NULL);
    KeInitializeTimerEx(&Timer, NotificationTimer);
    (VOID)KeInsertQueueDpc(&Dpcs[0], NULL, NULL);
    KeFlushQueuedDpcs();
    CHECK(A32Random.DpcThreadKnown != 0);
    CHECK(!pthread_equal(A32Random.DpcThread, pthread_self()));
    Workers[0] = WdkmTestStartThread(A32RandomWorker, &SpinLock);
    Workers[1] = WdkmTestStartThread(A32RandomWorker, &SpinLock);
    CHECK(Workers[0] != NULL && Workers[1] != NULL);
    while (__atomic_load_n(&A32Random.AllowedCount, __ATOMIC_ACQUIRE) < 3) {
        WdkmTestSleepMs(1);
    }
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 32;
    Settings.MeanIntervalMicroseconds = 30;
    Settings.DpcWeight = 1;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 50;
    Settings.Routine = A32RandomRoutine;
    WdkmHostInterruptsStart(&Settings);
    Due.QuadPart = -10000;      /* 1 ms, then every ms */
    (VOID)KeSetTimerEx(&Timer, Due, 1, &TimerDpc);
    /* 400 ms, and on a loaded machine on until what is judged below ran. */
    End = WdkmTestNowMs() + 400;
    Deadline = WdkmTestDeadlineMs(10000);
    while (WdkmTestNowMs() < End ||
           ((__atomic_load_n(&A32Random.Ran, __ATOMIC_ACQUIRE) <= 50 ||
             __atomic_load_n(&A32Random.DpcsRun, __ATOMIC_ACQUIRE) <= 50) &&
            WdkmTestNowMs() < Deadline)) {
        for (Index = 0; Index < 8; Index += 1) {
            (VOID)KeInsertQueueDpc(&Dpcs[Index], NULL, NULL);
        }
        WdkmTestSleepMs(2);
    }
    (VOID)KeCancelTimer(&Timer);
    KeFlushQueuedDpcs();
    WdkmHostInterruptsStop();
    __atomic_store_n(&A32Random.Stop, 1, __ATOMIC_RELEASE);
    WdkmTestJoinThread(Workers[0]);
    WdkmTestJoinThread(Workers[1]);
    KeFlushQueuedDpcs();
    CHECK(A32Random.Ran > 50);
    CHECK(A32Random.DpcsRun > 50);
    CHECK_EQ(A32Random.OnDpcThread, 0);
    CHECK_EQ(A32Random.OnUnknownThread, 0);
}

/* Stop "returns once no event runs anywhere"; its pending events are
   dropped, but events queued with WdkmHostQueueInterrupt stay. */
static VOID
A32MaskedWorker(PVOID Context, ULONG Index)
{
    KSPIN_LOCK *SpinLock = (KSPIN_LOCK *)Context;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Index);
    A32Spinner.Thread = KeGetCurrentThread();
    A32AllowCurrentThread();
    KeAcquireSpinLock(SpinLock, &OldIrql);
    __atomic_store_n(&A32Spinner.Phase, 1, __ATOMIC_RELEASE);
    A32WaitGo(1);
    KeReleaseSpinLock(SpinLock, OldIrql);
    __atomic_store_n(&A32Spinner.Phase, 2, __ATOMIC_RELEASE);
    A32WaitGo(2);
}

static VOID
Attack32StopWaitsAndKeepsQueuedEvents(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_TEST_THREAD *Workers[2];
    WDKM_TEST_THREAD *Masked;
    KSPIN_LOCK SpinLock;
    KSPIN_LOCK MaskedLock;
    LONG RanAtStop;

    memset(&A32Random, 0, sizeof(A32Random));
    memset(&A32Spinner, 0, sizeof(A32Spinner));
    KeInitializeSpinLock(&SpinLock);
    KeInitializeSpinLock(&MaskedLock);
    A32AllowCurrentThread();
    A32Random.StallMicroseconds = 300;
    Workers[0] = WdkmTestStartThread(A32RandomWorker, &SpinLock);
    Workers[1] = WdkmTestStartThread(A32RandomWorker, &SpinLock);
    Masked = WdkmTestStartThread(A32MaskedWorker, &MaskedLock);
    CHECK(Workers[0] != NULL && Workers[1] != NULL && Masked != NULL);
    A32WaitPhase(1);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 7;
    Settings.MeanIntervalMicroseconds = 50;
    Settings.DpcWeight = 1;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 50;
    Settings.Routine = A32RandomRoutine;
    WdkmHostInterruptsStart(&Settings);
    CHECK(WdkmHostInterruptsActive(NULL));
    /* A deterministic event for the thread that spins under a spin lock. */
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptDpc, A32SpinnerRoutine, NULL);
    WdkmTestSleepMs(200);
    WdkmHostInterruptsStop();
    CHECK_EQ(__atomic_load_n(&A32Random.Active, __ATOMIC_ACQUIRE), 0);
    CHECK(!WdkmHostInterruptsActive(NULL));
    RanAtStop = __atomic_load_n(&A32Random.Ran, __ATOMIC_ACQUIRE);
    CHECK(RanAtStop > 10);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE), 0);
    /* The masked thread unmasks: its random events were dropped, the
       queued one runs. */
    __atomic_store_n(&A32Spinner.Go, 1, __ATOMIC_RELEASE);
    A32WaitPhase(2);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE), 1);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanAtPhase[0], __ATOMIC_ACQUIRE), 1);
    WdkmTestSleepMs(30);
    CHECK_EQ(__atomic_load_n(&A32Random.Ran, __ATOMIC_ACQUIRE), RanAtStop);
    __atomic_store_n(&A32Spinner.Go, 2, __ATOMIC_RELEASE);
    __atomic_store_n(&A32Random.Stop, 1, __ATOMIC_RELEASE);
    WdkmTestJoinThread(Masked);
    WdkmTestJoinThread(Workers[0]);
    WdkmTestJoinThread(Workers[1]);
}

/* "At most 32 events wait per thread; more are dropped"; for a thread
   that has ended nothing happens; both count as dropped. */
static VOID
A32EndAtOnce(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
}

static VOID
Attack32RingHoldsThirtyTwo(VOID)
{
    ULONG64 Dropped = WdkmHostInterruptsDropped();
    KIRQL OldIrql;
    LONG Index;
    WDKM_TEST_THREAD *Thread;
    PKTHREAD Object = NULL;

    memset(&A32Spinner, 0, sizeof(A32Spinner));
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    for (Index = 0; Index < 40; Index += 1) {
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A32SpinnerRoutine, NULL);
    }
    KeLowerIrql(OldIrql);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE), 32);
    CHECK_EQ(WdkmHostInterruptsDropped() - Dropped, 8);
    Thread = WdkmTestStartThread(A32EndAtOnce, NULL);
    CHECK(Thread != NULL);
    ObReferenceObject(WdkmTestThreadObject(Thread));
    Object = WdkmTestThreadObject(Thread);
    WdkmTestJoinThread(Thread);
    WdkmHostQueueInterrupt(Object, WdkmHostInterruptSpecialApc, A32SpinnerRoutine, NULL);
    WdkmTestSleepMs(20);
    CHECK_EQ(__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE), 32);
    CHECK_EQ(WdkmHostInterruptsDropped() - Dropped, 9);
    ObDereferenceObject(Object);
}

/* ---------------------------------------------------------------------- */
/* 1d. A seed replays each thread's kinds and random values                 */
/* ---------------------------------------------------------------------- */

#define A32_SEED_THREADS 3
#define A32_SEED_EVENTS 40

typedef struct _A32_SEED_RECORD {
    LONG volatile Reserved;
    LONG volatile Count;
    LONG Kind[A32_SEED_EVENTS];
    ULONG64 Random[A32_SEED_EVENTS];
} A32_SEED_RECORD;

static A32_SEED_RECORD A32SeedRecords[A32_SEED_THREADS];
static __thread LONG A32SeedSlot = -1;
static LONG volatile A32SeedStarted;

static VOID
A32SeedRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    LONG Slot = A32SeedSlot;
    A32_SEED_RECORD *Record;
    LONG Index;

    UNREFERENCED_PARAMETER(Context);
    if (Slot < 0) {
        return;
    }
    Record = &A32SeedRecords[Slot];
    /* One atomic step: a DPC may nest inside an APC's routine here. */
    Index = __atomic_fetch_add(&Record->Reserved, 1, __ATOMIC_RELAXED);
    if (Index < A32_SEED_EVENTS) {
        Record->Kind[Index] = (LONG)Kind;
        Record->Random[Index] = Random;
        __atomic_fetch_add(&Record->Count, 1, __ATOMIC_RELEASE);
    }
}

static VOID
A32SeedWorker(PVOID Context, ULONG Index)
{
    LONG Slot = (LONG)(LONG_PTR)Context;
    LONGLONG End = WdkmTestDeadlineMs(10000);

    UNREFERENCED_PARAMETER(Index);
    A32SeedSlot = Slot;
    __atomic_store_n(&A32SeedStarted, Slot + 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&A32SeedRecords[Slot].Count, __ATOMIC_ACQUIRE) < A32_SEED_EVENTS &&
           WdkmTestNowMs() < End) {
        ULONG Spin;

        for (Spin = 0; Spin < 1000; Spin += 1) {
            A32Sink += Spin;
        }
    }
    A32SeedSlot = -1;
}

/* In the child process: threads made one after another, each interrupted
   until it has seen A32_SEED_EVENTS events; their choices to the file. */
static VOID
A32SeedChild(PCSTR Path, ULONG64 Seed)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_TEST_THREAD *Threads[A32_SEED_THREADS];
    FILE *File;
    LONG Slot;
    LONG Index;

    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = Seed;
    Settings.MeanIntervalMicroseconds = 40;
    Settings.DpcWeight = 2;
    Settings.NormalApcWeight = 0;
    Settings.SpecialApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 10;
    Settings.Routine = A32SeedRoutine;
    WdkmHostInterruptsStart(&Settings);
    for (Slot = 0; Slot < A32_SEED_THREADS; Slot += 1) {
        Threads[Slot] = WdkmTestStartThread(A32SeedWorker, (PVOID)(LONG_PTR)Slot);
        CHECK(Threads[Slot] != NULL);
        while (__atomic_load_n(&A32SeedStarted, __ATOMIC_ACQUIRE) < Slot + 1) {
            WdkmTestSleepMs(1);
        }
    }
    for (Slot = 0; Slot < A32_SEED_THREADS; Slot += 1) {
        WdkmTestJoinThread(Threads[Slot]);
    }
    WdkmHostInterruptsStop();
    File = fopen(Path, "w");
    CHECK(File != NULL);
    for (Slot = 0; Slot < A32_SEED_THREADS; Slot += 1) {
        fprintf(File, "thread %ld: %ld events\n", (long)Slot, (long)A32SeedRecords[Slot].Count);
        for (Index = 0; Index < A32SeedRecords[Slot].Count; Index += 1) {
            fprintf(File, "%ld %016llx\n", (long)A32SeedRecords[Slot].Kind[Index],
                    (unsigned long long)A32SeedRecords[Slot].Random[Index]);
        }
    }
    fclose(File);
}

/* Runs test Name of this program in a fresh process, with the variables
   Extra (NULL-terminated) added and WDKM_HOST_INTERRUPTS and ATTACK32_*
   taken out; its standard error goes to ErrorPath (optional). TRUE when
   it passed. */
static BOOLEAN
A32RunChild(PCSTR Name, char *const *Extra, PCSTR ErrorPath)
{
    char *Argv[3];
    char **Environment;
    size_t Count = 0;
    size_t ExtraCount = 0;
    size_t Index;
    size_t Out = 0;
    pid_t Child;
    int Status;
    char Self[] = "/proc/self/exe";
    char Test[128];
    posix_spawn_file_actions_t Actions;
    BOOLEAN Spawned;

    snprintf(Test, sizeof(Test), "%s", Name);
    while (environ[Count] != NULL) {
        Count += 1;
    }
    while (Extra[ExtraCount] != NULL) {
        ExtraCount += 1;
    }
    Environment = (char **)calloc(Count + ExtraCount + 1, sizeof(char *));
    if (Environment == NULL) {
        return FALSE;
    }
    for (Index = 0; Index < Count; Index += 1) {
        if (strncmp(environ[Index], "WDKM_HOST_INTERRUPTS=", 21) != 0 &&
            strncmp(environ[Index], "ATTACK32_", 9) != 0) {
            Environment[Out++] = environ[Index];
        }
    }
    for (Index = 0; Index < ExtraCount; Index += 1) {
        Environment[Out++] = Extra[Index];
    }
    Environment[Out] = NULL;
    Argv[0] = Self;
    Argv[1] = Test;
    Argv[2] = NULL;
    /* The child's own PASS lines would be counted as the parent's. */
    if (posix_spawn_file_actions_init(&Actions) != 0) {
        free(Environment);
        return FALSE;
    }
    (VOID)posix_spawn_file_actions_addopen(&Actions, 1, "/dev/null", O_WRONLY, 0);
    if (ErrorPath != NULL) {
        (VOID)posix_spawn_file_actions_addopen(&Actions, 2, ErrorPath, O_WRONLY | O_CREAT | O_TRUNC,
                                               0600);
    }
    Spawned = posix_spawn(&Child, Self, &Actions, NULL, Argv, Environment) == 0;
    posix_spawn_file_actions_destroy(&Actions);
    free(Environment);
    if (!Spawned) {
        return FALSE;
    }
    if (waitpid(Child, &Status, 0) != Child) {
        return FALSE;
    }
    return WIFEXITED(Status) && WEXITSTATUS(Status) == 0;
}

static BOOLEAN
A32RunSeedChild(PCSTR Path, ULONG64 Seed)
{
    char Variable[512];
    char *Extra[2];

    snprintf(Variable, sizeof(Variable), "ATTACK32_SEED_CHILD=%s,%llu", Path,
             (unsigned long long)Seed);
    Extra[0] = Variable;
    Extra[1] = NULL;
    return A32RunChild("attack32.seed_replays_each_threads_choices", Extra, NULL);
}

static char *
A32ReadFile(PCSTR Path)
{
    FILE *File = fopen(Path, "r");
    char *Text;
    size_t Length;

    if (File == NULL) {
        return NULL;
    }
    Text = (char *)calloc(1, 65536);
    if (Text != NULL) {
        Length = fread(Text, 1, 65535, File);
        Text[Length] = '\0';
    }
    fclose(File);
    return Text;
}

/* Each thread's (kind, random) window in a child's file. */
static BOOLEAN
A32ParseStreams(PCSTR Text, ULONG64 Streams[A32_SEED_THREADS][A32_SEED_EVENTS])
{
    LONG Slot;
    PCSTR At = Text;

    for (Slot = 0; Slot < A32_SEED_THREADS; Slot += 1) {
        LONG Index;

        At = strstr(At, "events\n");
        if (At == NULL) {
            return FALSE;
        }
        At += 7;
        for (Index = 0; Index < A32_SEED_EVENTS; Index += 1) {
            unsigned Kind;
            unsigned long long Random;
            int Used;

            if (sscanf(At, "%u %llx\n%n", &Kind, &Random, &Used) != 2) {
                return FALSE;
            }
            Streams[Slot][Index] = Random ^ ((ULONG64)Kind << 62);
            At += Used;
        }
    }
    return TRUE;
}

static BOOLEAN
A32SameStreams(PCSTR First, PCSTR Second, BOOLEAN Verbose)
{
    static ULONG64 A[A32_SEED_THREADS][A32_SEED_EVENTS];
    static ULONG64 B[A32_SEED_THREADS][A32_SEED_EVENTS];
    LONG Slot;

    if (!A32ParseStreams(First, A) || !A32ParseStreams(Second, B)) {
        return FALSE;
    }
    for (Slot = 0; Slot < A32_SEED_THREADS; Slot += 1) {
        LONG Common = 0;
        LONG Index;
        LONG Other;

        /* The same stream, seen through windows that may start a few
           events apart; a pending APC that a later DPC overtakes at an
           unmasking runs after it: compare the values, not their order. */
        for (Index = 0; Index < A32_SEED_EVENTS; Index += 1) {
            for (Other = 0; Other < A32_SEED_EVENTS; Other += 1) {
                if (A[Slot][Index] == B[Slot][Other]) {
                    Common += 1;
                    break;
                }
            }
        }
        if (Common < A32_SEED_EVENTS - 10) {
            if (Verbose) {
                printf("thread %ld: %ld of %ld choices in common:\n", (long)Slot, (long)Common,
                       (long)A32_SEED_EVENTS);
                for (Index = 0; Index < 16; Index += 1) {
                    printf("  %016llx %016llx\n", (unsigned long long)A[Slot][Index],
                           (unsigned long long)B[Slot][Index]);
                }
            }
            return FALSE;
        }
    }
    return TRUE;
}

/* "the seed fixes what each thread is interrupted with (its sequence of
   kinds and random values, from the seed and the order in which threads
   first used the emulation)": two processes with the same seed, the same
   threads in the same order, see the same choices; another seed does not.
   The weights hold too: a kind of weight 0 never comes. */
static VOID
Attack32SeedReplaysEachThreadsChoices(VOID)
{
    PCSTR Child = getenv("ATTACK32_SEED_CHILD");
    char Paths[3][64];
    char *Texts[3];
    LONG Index;
    BOOLEAN Same;
    BOOLEAN Differs;
    BOOLEAN Full;

    if (Child != NULL) {
        char Path[400];
        PCSTR Comma = strchr(Child, ',');

        CHECK(Comma != NULL && (size_t)(Comma - Child) < sizeof(Path));
        memcpy(Path, Child, (size_t)(Comma - Child));
        Path[Comma - Child] = '\0';
        A32SeedChild(Path, strtoull(Comma + 1, NULL, 0));
        return;
    }
    for (Index = 0; Index < 3; Index += 1) {
        snprintf(Paths[Index], sizeof(Paths[Index]), "/tmp/attack32_seed_%ld_%ld",
                 (long)getpid(), (long)Index);
        CHECK(A32RunSeedChild(Paths[Index], Index == 2 ? 33 : 32));
        Texts[Index] = A32ReadFile(Paths[Index]);
        (VOID)unlink(Paths[Index]);
        CHECK(Texts[Index] != NULL);
    }
    Full = strstr(Texts[0], "thread 0: 40 events") != NULL &&
           strstr(Texts[0], "thread 1: 40 events") != NULL &&
           strstr(Texts[0], "thread 2: 40 events") != NULL &&
           strstr(Texts[1], "thread 2: 40 events") != NULL;
    CHECK(Full);
    /* Events that land before a worker's first statement draw from its
       generator unseen, so a window of the same stream may start a few
       events later. */
    Same = A32SameStreams(Texts[0], Texts[1], TRUE);
    Differs = !A32SameStreams(Texts[0], Texts[2], FALSE);
    CHECK(Same);
    CHECK(Differs);
    CHECK(strstr(Texts[0], "\n1 ") == NULL);    /* no normal APC: weight 0 */
    CHECK(strstr(Texts[0], "\n0 ") != NULL && strstr(Texts[0], "\n2 ") != NULL);
    for (Index = 0; Index < 3; Index += 1) {
        free(Texts[Index]);
    }
}

/* ---------------------------------------------------------------------- */
/* 1e. Bug checks in and after an event                                     */
/* ---------------------------------------------------------------------- */

static WDKM_HOST_BUGCHECK A32Handled[8];
static LONG volatile A32HandledCount;
static LONG volatile A32AfterMisuse;
static LONG volatile A32OwnTrapCode;
static KMUTEX A32UnownedMutex;

static VOID
A32Handler(const WDKM_HOST_BUGCHECK *Bugcheck, PVOID Context)
{
    LONG Index = __atomic_fetch_add(&A32HandledCount, 1, __ATOMIC_RELAXED);

    UNREFERENCED_PARAMETER(Context);
    if (Index < 8) {
        A32Handled[Index] = *Bugcheck;
    }
}

static VOID
A32MisuseRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    (VOID)KeReleaseMutex(&A32UnownedMutex, FALSE);      /* not the owner */
    __atomic_store_n(&A32AfterMisuse, 1, __ATOMIC_RELAXED);
}

static VOID
A32DpcLowersRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    KeLowerIrql(PASSIVE_LEVEL);
}

static VOID
A32DpcEntersRegionRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    KeLowerIrql(PASSIVE_LEVEL);
    KeEnterCriticalRegion();
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
}

static VOID
A32ApcRaisesRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
}

static VOID
A32ApcEntersGuardedRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    KeEnterGuardedRegion();
}

static VOID
A32ApcEntersCriticalRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    KeEnterCriticalRegion();
}

static VOID
A32OwnTrapRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    if (WDKM_HOST_TRY(&Trap)) {
        (VOID)KeReleaseMutex(&A32UnownedMutex, FALSE);
        WdkmHostDisarm(&Trap);
    } else {
        __atomic_store_n(&A32OwnTrapCode, (LONG)Trap.Bugcheck.Code, __ATOMIC_RELAXED);
    }
}

/* Every event of the list in turn on the calling thread; returns the
   state seen after each. */
typedef struct _A32_AFTER {
    KIRQL Irql;
    BOOLEAN ApcsDisabled;
    BOOLEAN AllApcsDisabled;
} A32_AFTER;

static VOID
A32RunBadEvents(A32_AFTER *After)
{
    static const struct {
        WDKM_HOST_INTERRUPT Kind;
        WDKM_HOST_INTERRUPT_ROUTINE *Routine;
    } Events[] = {
        { WdkmHostInterruptSpecialApc, A32MisuseRoutine },
        { WdkmHostInterruptDpc, A32DpcLowersRoutine },
        { WdkmHostInterruptDpc, A32DpcEntersRegionRoutine },
        { WdkmHostInterruptSpecialApc, A32ApcRaisesRoutine },
        { WdkmHostInterruptSpecialApc, A32ApcEntersGuardedRoutine },
        { WdkmHostInterruptNormalApc, A32ApcEntersCriticalRoutine },
        { WdkmHostInterruptSpecialApc, A32OwnTrapRoutine },
    };
    ULONG Index;

    for (Index = 0; Index < sizeof(Events) / sizeof(Events[0]); Index += 1) {
        WdkmHostQueueInterrupt(KeGetCurrentThread(), Events[Index].Kind, Events[Index].Routine, NULL);
        After[Index].Irql = KeGetCurrentIrql();
        After[Index].ApcsDisabled = KeAreApcsDisabled();
        After[Index].AllApcsDisabled = KeAreAllApcsDisabled();
    }
}

/* "A bug check inside an event is never caught by the interrupted code's
   WDKM_HOST_TRY ...; when the handler returns, the event ends there. Then
   the thread's IRQL, regions and traps are put back"; the checks after a
   DPC and an APC, with the documented codes and parameters. */
static VOID
Attack32BugchecksInEvents(VOID)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    static A32_AFTER After[7];
    static volatile LONG Reached;
    static volatile ULONG MainCode;
    ULONG Before = WdkmHostBugcheckCount();
    ULONG Index;

    KeInitializeMutex(&A32UnownedMutex, 0);
    A32HandledCount = 0;
    A32AfterMisuse = 0;
    A32OwnTrapCode = 0;
    Reached = 0;
    MainCode = 0;
    WdkmHostSetBugcheckHandler(A32Handler, NULL);
    if (WDKM_HOST_TRY(&Trap)) {
        A32RunBadEvents(After);
        Reached = 1;
        /* The interrupted code's own trap still works afterwards. */
        (VOID)KeReleaseMutex(&A32UnownedMutex, FALSE);
        WdkmHostDisarm(&Trap);
    } else {
        MainCode = Trap.Bugcheck.Code;
    }
    WdkmHostSetBugcheckHandler(NULL, NULL);
    CHECK_EQ(Reached, 1);
    CHECK_EQ(MainCode, THREAD_NOT_MUTEX_OWNER);
    CHECK_EQ(A32AfterMisuse, 0);
    CHECK_EQ(A32OwnTrapCode, THREAD_NOT_MUTEX_OWNER);
    CHECK_EQ(A32HandledCount, 6);
    CHECK_EQ(WdkmHostBugcheckCount() - Before, 8);
    CHECK_EQ(A32Handled[0].Code, THREAD_NOT_MUTEX_OWNER);
    CHECK_EQ(A32Handled[1].Code, IRQL_NOT_GREATER_OR_EQUAL);
    CHECK_EQ(A32Handled[1].Parameter[3], (ULONG_PTR)A32DpcLowersRoutine);
    CHECK_EQ(A32Handled[2].Code, TIMER_OR_DPC_INVALID);
    CHECK_EQ(A32Handled[2].Parameter[0], 4);
    CHECK_EQ(A32Handled[2].Parameter[1], (ULONG_PTR)A32DpcEntersRegionRoutine);
    CHECK(A32Handled[2].Parameter[2] != A32Handled[2].Parameter[3]);
    CHECK_EQ(A32Handled[3].Code, IRQL_UNEXPECTED_VALUE);
    CHECK_EQ(A32Handled[4].Code, APC_INDEX_MISMATCH);
    CHECK_EQ(A32Handled[5].Code, APC_INDEX_MISMATCH);
    for (Index = 0; Index < 7; Index += 1) {
        if (After[Index].Irql != PASSIVE_LEVEL || After[Index].ApcsDisabled ||
            After[Index].AllApcsDisabled) {
            WdkmTestFail(__FILE__, __LINE__, "after event %lu: IRQL %u, APCs disabled %u/%u",
                         (unsigned long)Index, (unsigned)After[Index].Irql,
                         (unsigned)After[Index].ApcsDisabled,
                         (unsigned)After[Index].AllApcsDisabled);
            return;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* 2. Drained in-place registrations                                        */
/* ---------------------------------------------------------------------- */

#define A32_RECORD_TAG 0x41333252UL     /* 'R23A' */
#define A32_MAX_SERIALS 4096

typedef struct _A32_LIST {
    LIST_ENTRY Head;
    ULONG Count;
    LONG Serial;
} A32_LIST;

typedef struct _A32_RECORD {
    LIST_ENTRY Link;
    ULONG Id;
} A32_RECORD;

/* What a drain does besides freeing its records. */
typedef enum _A32_DRAIN_ACTION {
    A32DrainNothing,
    A32DrainLooksUp,            /* its own name and another */
    A32DrainUnregisters,        /* another drained name: a drain inside the drain */
    A32DrainRegisters           /* a new name */
} A32_DRAIN_ACTION;

typedef struct _A32_DRAINS {
    LONG volatile NextSerial;
    LONG volatile Initialized[A32_MAX_SERIALS];
    LONG volatile Drained[A32_MAX_SERIALS];
    KIRQL DrainIrql[A32_MAX_SERIALS];
    LONG volatile InitFailures;     /* initialisers told to fail */
    LONG volatile Records;          /* records each initialiser links */
    A32_DRAIN_ACTION Action;
    PCSTR OwnName;
    PCSTR OtherName;
    NTSTATUS OwnLookup;
    NTSTATUS OtherLookup;
    NTSTATUS OtherDereference;
    NTSTATUS Nested;
    LONG volatile ActionsDone;
    LONG volatile DrainedTotal;     /* all serials, beyond A32_MAX_SERIALS too */
} A32_DRAINS;

static A32_DRAINS A32Drains;

static NTSTATUS
A32Initialize(PVOID Value, PVOID Context)
{
    A32_LIST *List = (A32_LIST *)Value;
    LONG Serial;
    LONG Index;

    UNREFERENCED_PARAMETER(Context);
    if (A32Drains.InitFailures > 0) {
        A32Drains.InitFailures -= 1;
        return STATUS_DEVICE_NOT_READY;
    }
    InitializeListHead(&List->Head);
    for (Index = 0; Index < A32Drains.Records; Index += 1) {
        A32_RECORD *Record = (A32_RECORD *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Record),
                                                                 A32_RECORD_TAG);

        if (Record == NULL) {
            while (!IsListEmpty(&List->Head)) {
                ExFreePoolWithTag(CONTAINING_RECORD(RemoveHeadList(&List->Head), A32_RECORD, Link),
                                  A32_RECORD_TAG);
            }
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        Record->Id = (ULONG)Index;
        InsertTailList(&List->Head, &Record->Link);
        List->Count += 1;
    }
    Serial = __atomic_fetch_add(&A32Drains.NextSerial, 1, __ATOMIC_ACQ_REL);
    List->Serial = Serial;
    if (Serial < A32_MAX_SERIALS) {
        __atomic_fetch_add(&A32Drains.Initialized[Serial], 1, __ATOMIC_RELAXED);
    }
    return STATUS_SUCCESS;
}

static VOID
A32Drain(PVOID Value, PVOID Context)
{
    A32_LIST *List = (A32_LIST *)Value;
    A32_DRAIN_ACTION Action = A32Drains.Action;

    UNREFERENCED_PARAMETER(Context);
    while (!IsListEmpty(&List->Head)) {
        A32_RECORD *Record = CONTAINING_RECORD(RemoveHeadList(&List->Head), A32_RECORD, Link);

        List->Count -= 1;
        ExFreePoolWithTag(Record, A32_RECORD_TAG);
    }
    __atomic_fetch_add(&A32Drains.DrainedTotal, 1, __ATOMIC_RELAXED);
    if (List->Serial >= 0 && List->Serial < A32_MAX_SERIALS) {
        A32Drains.DrainIrql[List->Serial] = KeGetCurrentIrql();
        __atomic_fetch_add(&A32Drains.Drained[List->Serial], 1, __ATOMIC_RELAXED);
    }
    if (Action == A32DrainNothing || __atomic_fetch_add(&A32Drains.ActionsDone, 1, __ATOMIC_RELAXED) != 0) {
        return;     /* one action per test: the nested drain does nothing */
    }
    if (Action == A32DrainLooksUp) {
        PVOID Lock = NULL;

        A32Drains.OwnLookup = WdkmGrtReference(A32Drains.OwnName, WdkmLockKindSpinLock,
                                               sizeof(A32_LIST), &Lock);
        if (A32Drains.OwnLookup == STATUS_SUCCESS) {
            (VOID)WdkmGrtDereference(Lock);
        }
        A32Drains.OtherLookup = WdkmGrtReference(A32Drains.OtherName, WdkmLockKindSpinLock,
                                                 sizeof(A32_LIST), &Lock);
        if (A32Drains.OtherLookup == STATUS_SUCCESS) {
            A32Drains.OtherDereference = WdkmGrtDereference(Lock);
        }
    } else if (Action == A32DrainUnregisters) {
        A32Drains.Nested = WdkmGrtUnregister(A32Drains.OtherName);
    } else if (Action == A32DrainRegisters) {
        A32Drains.Nested = WDKM_GRT_REGISTER_IN_PLACE_DRAINED(A32Drains.OtherName,
                                                              WdkmLockKindSpinLock, A32_LIST,
                                                              A32Initialize, NULL, A32Drain, NULL);
    }
}

static VOID
A32ResetDrains(VOID)
{
    memset(&A32Drains, 0, sizeof(A32Drains));
}

/* Every registration whose initialiser succeeded drained exactly once
   (Live: how many may still be alive); no record left. */
static BOOLEAN
A32DrainsBalanced(LONG Live, int Line)
{
    LONG Serial;
    LONG Alive = 0;
    LONG Count = __atomic_load_n(&A32Drains.NextSerial, __ATOMIC_ACQUIRE);

    for (Serial = 0; Serial < Count && Serial < A32_MAX_SERIALS; Serial += 1) {
        LONG Drained = __atomic_load_n(&A32Drains.Drained[Serial], __ATOMIC_ACQUIRE);

        if (Drained == 0) {
            Alive += 1;
        } else if (Drained != 1) {
            WdkmTestFail(__FILE__, Line, "registration %ld drained %ld times", (long)Serial,
                         (long)Drained);
            return FALSE;
        }
    }
    if (Alive != Live) {
        WdkmTestFail(__FILE__, Line, "%ld registrations not drained, expected %ld", (long)Alive,
                     (long)Live);
        return FALSE;
    }
    if (Count - __atomic_load_n(&A32Drains.DrainedTotal, __ATOMIC_ACQUIRE) != Live) {
        WdkmTestFail(__FILE__, Line, "%ld initialised, %ld drained, %ld may live", (long)Count,
                     (long)A32Drains.DrainedTotal, (long)Live);
        return FALSE;
    }
    if (Live == 0 && WdkmHostPoolOutstanding(A32_RECORD_TAG, NULL) != 0) {
        WdkmTestFail(__FILE__, Line, "%lu records never freed",
                     (unsigned long)WdkmHostPoolOutstanding(A32_RECORD_TAG, NULL));
        return FALSE;
    }
    return TRUE;
}

#define CHECK_DRAINS(Live) do { if (!A32DrainsBalanced((Live), __LINE__)) return; } while (0)

static const WDKM_LOCK_KIND A32Kinds[] = {
    WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock, WdkmLockKindQueuedSpinLock,
    WdkmLockKindGuardedMutex, WdkmLockKindResource, WdkmLockKindPushLock
};

static NTSTATUS
A32Register(PCSTR Name, WDKM_LOCK_KIND Kind, ULONG Flags)
{
    return WdkmGrtRegisterInPlaceDrained(Name, Kind, sizeof(A32_LIST), A32Initialize, NULL,
                                         A32Drain, NULL, Flags);
}

typedef struct _A32_HOLDER {
    PCSTR Name;
    WDKM_LOCK_KIND Kind;
    PVOID Lock;
    NTSTATUS Reference;
    NTSTATUS Dereference;
    KIRQL DereferenceIrql;
    LONG volatile Referenced;
    LONG volatile Go;
} A32_HOLDER;

/* Another thread takes a reference, waits, drops it at DereferenceIrql. */
static VOID
A32HolderThread(PVOID Context, ULONG Index)
{
    A32_HOLDER *Holder = (A32_HOLDER *)Context;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Index);
    Holder->Reference = WdkmGrtReference(Holder->Name, Holder->Kind, sizeof(A32_LIST), &Holder->Lock);
    __atomic_store_n(&Holder->Referenced, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&Holder->Go, __ATOMIC_ACQUIRE) == 0) {
        WdkmTestSleepMs(1);
    }
    KeRaiseIrql(Holder->DereferenceIrql, &OldIrql);
    Holder->Dereference = WdkmGrtDereference(Holder->Lock);
    KeLowerIrql(OldIrql);
}

/* Every way the last reference of a drained registration goes, for every
   kind: drained once, in the documented call, at its IRQL; records freed. */
static VOID
Attack32DrainedEveryPathEveryKind(VOID)
{
    /* What earlier tests left (a failed one may leave a lock): this test's
       own blocks are counted from here. */
    LONG PoolAtStart = WdkmTestPoolOutstanding();
    ULONG KindIndex;

    for (KindIndex = 0; KindIndex < sizeof(A32Kinds) / sizeof(A32Kinds[0]); KindIndex += 1) {
        WDKM_LOCK_KIND Kind = A32Kinds[KindIndex];
        A32_HOLDER Holder;
        WDKM_TEST_THREAD *Thread;
        WDKM_GRT_REPORT Report;
        LARGE_INTEGER Zero;
        KIRQL OldIrql;
        PVOID Lock;

        A32ResetDrains();
        A32Drains.Records = 3;
        Zero.QuadPart = 0;
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);

        /* Unregistered, unreferenced: drained by WdkmGrtUnregister. */
        CHECK_STATUS(A32Register("a32.plain", Kind, 0), STATUS_SUCCESS);
        CHECK_DRAINS(1);
        CHECK_STATUS(WdkmGrtUnregister("a32.plain"), STATUS_SUCCESS);
        CHECK_DRAINS(0);
        CHECK_EQ(A32Drains.DrainIrql[0], PASSIVE_LEVEL);

        /* Name taken: the failed registration drains what it set up. */
        CHECK_STATUS(A32Register("a32.taken", Kind, 0), STATUS_SUCCESS);
        CHECK_STATUS(A32Register("a32.taken", Kind, 0), STATUS_OBJECT_NAME_COLLISION);
        CHECK_DRAINS(1);

        /* Replaced, unreferenced: drained by the replacing registration. */
        CHECK_STATUS(A32Register("a32.taken", Kind, WDKM_GRT_REPLACE), STATUS_SUCCESS);
        CHECK_EQ(A32Drains.Drained[1], 1);
        CHECK_DRAINS(1);

        /* Unregistered while another thread references it: drained by
           that thread's dereference, at its IRQL. */
        memset(&Holder, 0, sizeof(Holder));
        Holder.Name = "a32.taken";
        Holder.Kind = Kind;
        Holder.DereferenceIrql = Kind == WdkmLockKindResource ? APC_LEVEL : DISPATCH_LEVEL;
        Thread = WdkmTestStartThread(A32HolderThread, &Holder);
        CHECK(Thread != NULL);
        while (__atomic_load_n(&Holder.Referenced, __ATOMIC_ACQUIRE) == 0) {
            WdkmTestSleepMs(1);
        }
        CHECK_STATUS(Holder.Reference, STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister("a32.taken"), STATUS_SUCCESS);
        CHECK_DRAINS(1);                            /* still referenced */
        __atomic_store_n(&Holder.Go, 1, __ATOMIC_RELEASE);
        WdkmTestJoinThread(Thread);
        CHECK_STATUS(Holder.Dereference, STATUS_SUCCESS);
        CHECK_DRAINS(0);
        CHECK_EQ(A32Drains.DrainIrql[3], Holder.DereferenceIrql);

        /* The last reference dropped at DISPATCH_LEVEL: an ERESOURCE waits
           for the next writer call at <= APC_LEVEL with valid arguments. */
        CHECK_STATUS(A32Register("a32.dispatch", Kind, 0), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtReference("a32.dispatch", Kind, sizeof(A32_LIST), &Lock), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister("a32.dispatch"), STATUS_SUCCESS);
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        KeLowerIrql(OldIrql);
        if (Kind == WdkmLockKindResource) {
            CHECK_DRAINS(1);
            CHECK_STATUS(WdkmGrtUnregister(""), STATUS_OBJECT_NAME_INVALID);
            CHECK_DRAINS(1);
            CHECK_STATUS(WdkmGrtReference("a32.none", Kind, sizeof(A32_LIST), &Lock),
                         STATUS_OBJECT_NAME_NOT_FOUND);
            CHECK_DRAINS(1);
            CHECK_STATUS(WdkmGrtUnregister("a32.none"), STATUS_OBJECT_NAME_NOT_FOUND);
            CHECK_EQ(A32Drains.DrainIrql[4], PASSIVE_LEVEL);
        } else {
            CHECK_EQ(A32Drains.DrainIrql[4], DISPATCH_LEVEL);
        }
        CHECK_DRAINS(0);

        /* Destroy with a reference outstanding: times out, drains nothing
           in use; the holder's dereference or the next Destroy drains it,
           once. */
        CHECK_STATUS(A32Register("a32.kept", Kind, 0), STATUS_SUCCESS);
        CHECK_STATUS(A32Register("a32.free", Kind, 0), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtReference("a32.kept", Kind, sizeof(A32_LIST), &Lock), STATUS_SUCCESS);
        memset(&Report, 0, sizeof(Report));
        CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_TIMEOUT);
        CHECK_EQ(Report.Freed, 1);
        CHECK_EQ(Report.StillReferenced, 1);
        CHECK_EQ(A32Drains.Drained[5], 0);
        CHECK_EQ(A32Drains.Drained[6], 1);
        CHECK_STATUS(A32Register("a32.late", Kind, 0), STATUS_DELETE_PENDING);
        CHECK_DRAINS(1);                            /* a late initialiser's drain too */
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        memset(&Report, 0, sizeof(Report));
        CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
        CHECK_DRAINS(0);
        CHECK_EQ(WdkmTestPoolOutstanding(), PoolAtStart);
    }
}

/* A NULL drain or a failing initialiser: nothing registered, no drain. */
static VOID
Attack32DrainedRefusals(VOID)
{
    PVOID Lock;

    A32ResetDrains();
    A32Drains.Records = 2;
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtRegisterInPlaceDrained("a32.nodrain", WdkmLockKindKMutex, sizeof(A32_LIST),
                                               A32Initialize, NULL, NULL, NULL, 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_EQ(A32Drains.NextSerial, 0);
    A32Drains.InitFailures = 1;
    CHECK_STATUS(A32Register("a32.fails", WdkmLockKindKMutex, 0), STATUS_DEVICE_NOT_READY);
    CHECK_STATUS(WdkmGrtReference("a32.fails", WdkmLockKindKMutex, sizeof(A32_LIST), &Lock),
                 STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_DRAINS(0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_DRAINS(0);
}

/* Every allocation of a drained registration failed in turn (the
   initialiser's own included): a clean status each time, and every
   initialiser that succeeded is matched by its drain. */
static VOID
Attack32DrainedUnderPoolFailures(VOID)
{
    LONG FailAt;
    ULONG KindIndex;

    for (KindIndex = 0; KindIndex < sizeof(A32Kinds) / sizeof(A32Kinds[0]); KindIndex += 1) {
        NTSTATUS Status = STATUS_UNSUCCESSFUL;

        A32ResetDrains();
        A32Drains.Records = 2;
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK_STATUS(A32Register("a32.first", A32Kinds[KindIndex], 0), STATUS_SUCCESS);
        for (FailAt = 0; FailAt < 40; FailAt += 1) {
            WdkmHostPoolFailAt(FailAt);
            Status = A32Register("a32.second", A32Kinds[KindIndex], 0);
            WdkmHostPoolFailAt(-1);
            if (Status == STATUS_SUCCESS) {
                break;
            }
            CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
            CHECK_DRAINS(1);
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_DRAINS(2);
        /* The replace path too. */
        for (FailAt = 0; FailAt < 40; FailAt += 1) {
            WdkmHostPoolFailAt(FailAt);
            Status = A32Register("a32.second", A32Kinds[KindIndex], WDKM_GRT_REPLACE);
            WdkmHostPoolFailAt(-1);
            if (Status == STATUS_SUCCESS) {
                break;
            }
            CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
            CHECK_DRAINS(2);
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_DRAINS(2);
        CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
        CHECK_DRAINS(0);
    }
}

/* A drain that calls the library, in each call that may free the lock:
   lookups of its own name (gone) and of another; an unregistration whose
   own drain runs inside this one; a registration. Run on a thread with a
   deadline: a drain that waits for its own thread's registry call hangs. */
typedef struct _A32_TRIGGER {
    LONG Path;              /* 0 Unregister, 1 Dereference, 2 Replace, 3 Destroy */
    NTSTATUS Status;
} A32_TRIGGER;

static VOID
A32TriggerThread(PVOID Context, ULONG Index)
{
    A32_TRIGGER *Trigger = (A32_TRIGGER *)Context;
    PVOID Lock;

    UNREFERENCED_PARAMETER(Index);
    switch (Trigger->Path) {
    case 0:
        Trigger->Status = WdkmGrtUnregister("a32.own");
        break;
    case 1:
        Trigger->Status = WdkmGrtReference("a32.own", WdkmLockKindSpinLock, sizeof(A32_LIST), &Lock);
        if (Trigger->Status == STATUS_SUCCESS) {
            Trigger->Status = WdkmGrtUnregister("a32.own");
            if (Trigger->Status == STATUS_SUCCESS) {
                Trigger->Status = WdkmGrtDereference(Lock);
            }
        }
        break;
    case 2:
        Trigger->Status = A32Register("a32.own", WdkmLockKindSpinLock, WDKM_GRT_REPLACE);
        break;
    default:
        Trigger->Status = WdkmGrtDestroy(NULL, NULL);
        break;
    }
}

static VOID
Attack32DrainCallsTheLibrary(VOID)
{
    static const A32_DRAIN_ACTION Actions[] = { A32DrainLooksUp, A32DrainUnregisters, A32DrainRegisters };
    ULONG ActionIndex;
    LONG Path;

    for (ActionIndex = 0; ActionIndex < 3; ActionIndex += 1) {
        for (Path = 0; Path < 4; Path += 1) {
            A32_TRIGGER Trigger;
            WDKM_TEST_THREAD *Thread;
            LARGE_INTEGER Deadline;
            NTSTATUS Wait;
            A32_DRAIN_ACTION Action = Actions[ActionIndex];
            PVOID Lock;

            A32ResetDrains();
            A32Drains.Records = 2;
            A32Drains.OwnName = "a32.own";
            A32Drains.OtherName = Action == A32DrainRegisters ? "a32.new" : "a32.other";
            CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
            CHECK_STATUS(A32Register("a32.own", WdkmLockKindSpinLock, 0), STATUS_SUCCESS);
            CHECK_STATUS(A32Register("a32.other", WdkmLockKindSpinLock, 0), STATUS_SUCCESS);
            A32Drains.Action = Action;
            Trigger.Path = Path;
            Trigger.Status = STATUS_PENDING;
            Thread = WdkmTestStartThread(A32TriggerThread, &Trigger);
            CHECK(Thread != NULL);
            Deadline.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5000);
            Wait = KeWaitForSingleObject(WdkmTestThreadObject(Thread), Executive, KernelMode, FALSE,
                                         &Deadline);
            if (Wait != STATUS_SUCCESS) {
                WdkmTestFail(__FILE__, __LINE__,
                             "action %lu path %ld: the freeing call never returned (drain hung)",
                             (unsigned long)ActionIndex, (long)Path);
                return;
            }
            WdkmTestJoinThread(Thread);
            CHECK_STATUS(Trigger.Status, STATUS_SUCCESS);
            CHECK(A32Drains.ActionsDone >= 1);
            if (Action == A32DrainLooksUp) {
                CHECK_STATUS(A32Drains.OwnLookup, Path == 3 ? STATUS_DELETE_PENDING
                                                            : Path == 2 ? STATUS_SUCCESS
                                                            : STATUS_OBJECT_NAME_NOT_FOUND);
                if (Path == 3) {
                    CHECK_STATUS(A32Drains.OtherLookup, STATUS_DELETE_PENDING);
                } else {
                    CHECK_STATUS(A32Drains.OtherLookup, STATUS_SUCCESS);
                    CHECK_STATUS(A32Drains.OtherDereference, STATUS_SUCCESS);
                }
            } else if (Action == A32DrainUnregisters) {
                CHECK_STATUS(A32Drains.Nested, Path == 3 ? STATUS_DELETE_PENDING : STATUS_SUCCESS);
            } else {
                CHECK_STATUS(A32Drains.Nested, Path == 3 ? STATUS_DELETE_PENDING : STATUS_SUCCESS);
            }
            if (Path != 3) {
                NTSTATUS Expected = STATUS_SUCCESS;

                if (Action == A32DrainUnregisters) {
                    Expected = STATUS_OBJECT_NAME_NOT_FOUND;
                }
                CHECK_STATUS(WdkmGrtReference("a32.other", WdkmLockKindSpinLock, sizeof(A32_LIST),
                                              &Lock), Expected);
                if (Expected == STATUS_SUCCESS) {
                    (VOID)WdkmGrtDereference(Lock);
                }
                CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
            }
            CHECK_DRAINS(0);
        }
    }
}

/* DPCs and APCs on the holders' threads at arbitrary points while the
   names they use are replaced, and special APCs unregistering names of
   their own while their thread is inside a registry writer call. */
/* Names the APCs unregister, one each until none is left. Each is a lock
   class of the checked build for the rest of the process: 256 filled the
   table (WDKM_DIAG_MAX_CLASSES) every later suite of the checked program
   shares, and its model walk met an untracked lock. */
#define A32_APC_NAMES 64

typedef struct _A32_HOT {
    LONG volatile Stop;
    LONG volatile Bad;
    NTSTATUS volatile BadStatus;
    LONG volatile BadWhat;
    LONG volatile EventCalls;
    LONG volatile ApcUnregistered;
    LONG volatile NextApcName;
    LONG volatile Replaces;
    char ApcNames[A32_APC_NAMES][24];
} A32_HOT;

static A32_HOT A32Hot;

static VOID
A32HotBad(LONG What, NTSTATUS Status)
{
    if (__atomic_fetch_add(&A32Hot.Bad, 1, __ATOMIC_RELAXED) == 0) {
        A32Hot.BadWhat = What;
        A32Hot.BadStatus = Status;
    }
}

static VOID
A32HotRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    PVOID Lock;
    NTSTATUS Status;
    PCSTR Name = (Random & 1) != 0 ? "a32.hot" : "a32.spin";
    WDKM_LOCK_KIND LockKind = (Random & 1) != 0 ? WdkmLockKindKMutex : WdkmLockKindSpinLock;

    UNREFERENCED_PARAMETER(Context);
    if (__atomic_load_n(&A32Hot.Stop, __ATOMIC_ACQUIRE) != 0) {
        return;
    }
    __atomic_fetch_add(&A32Hot.EventCalls, 1, __ATOMIC_RELAXED);
    Status = WdkmGrtReference(Name, LockKind, sizeof(A32_LIST), &Lock);
    if (Status != STATUS_SUCCESS) {
        A32HotBad(1 + (LONG)Kind * 10, Status);
        return;
    }
    Status = WdkmGrtDereference(Lock);
    if (Status != STATUS_SUCCESS) {
        A32HotBad(2 + (LONG)Kind * 10, Status);
    }
    if (Kind != WdkmHostInterruptDpc && (Random & 6) == 0) {
        LONG Index = __atomic_fetch_add(&A32Hot.NextApcName, 1, __ATOMIC_RELAXED);

        if (Index < A32_APC_NAMES) {
            Status = WdkmGrtUnregister(A32Hot.ApcNames[Index]);
            if (Status != STATUS_SUCCESS) {
                A32HotBad(3 + (LONG)Kind * 10, Status);
            } else {
                __atomic_fetch_add(&A32Hot.ApcUnregistered, 1, __ATOMIC_RELAXED);
            }
        }
    }
}

static VOID
A32HotHolder(PVOID Context, ULONG Unused)
{
    ULONG Round = 0;
    ULONG Index = (ULONG)(ULONG_PTR)Context;

    UNREFERENCED_PARAMETER(Unused);
    while (__atomic_load_n(&A32Hot.Stop, __ATOMIC_ACQUIRE) == 0) {
        A32_LIST *Data;
        NTSTATUS Status;
        char Name[32];

        WDKM_GRT_KMUTEX_SCOPED("a32.hot", Data, &Status) {
            Data->Count += 0;
        }
        if (Status != STATUS_SUCCESS) {
            A32HotBad(100, Status);
        }
        WDKM_GRT_SCOPED("a32.spin", WdkmLockKindSpinLock, Data, &Status) {
            Data->Count += 0;
        }
        if (Status != STATUS_SUCCESS) {
            A32HotBad(101, Status);
        }
        /* Writer calls of its own, for the APCs to land in. */
        snprintf(Name, sizeof(Name), "a32.h%lu.%lu", (unsigned long)Index, (unsigned long)(Round % 4));
        Status = A32Register(Name, WdkmLockKindSpinLock, 0);
        if (Status != STATUS_SUCCESS) {
            A32HotBad(102, Status);
        }
        Status = WdkmGrtUnregister(Name);
        if (Status != STATUS_SUCCESS) {
            A32HotBad(103, Status);
        }
        Round += 1;
    }
}

static VOID
A32HotReplacer(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    while (__atomic_load_n(&A32Hot.Stop, __ATOMIC_ACQUIRE) == 0 &&
           __atomic_load_n(&A32Hot.Replaces, __ATOMIC_RELAXED) < 1200) {
        NTSTATUS Status = A32Register("a32.hot", WdkmLockKindKMutex, WDKM_GRT_REPLACE);

        if (Status != STATUS_SUCCESS) {
            A32HotBad(200, Status);
        }
        Status = A32Register("a32.spin", WdkmLockKindSpinLock, WDKM_GRT_REPLACE);
        if (Status != STATUS_SUCCESS) {
            A32HotBad(201, Status);
        }
        __atomic_fetch_add(&A32Hot.Replaces, 2, __ATOMIC_RELAXED);
        WdkmTestSleepMs(0);
    }
}

static VOID
Attack32DrainedUnderInjectedEvents(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_TEST_THREAD *Threads[3];
    WDKM_GRT_REPORT Report;
    LONG Index;
    LONG Round;
    ULONG Seed;

    if (getenv("WDKM_HOST_INTERRUPTS") != NULL) {
        return;     /* injection is the environment's here */
    }
    for (Round = 0; Round < 3; Round += 1) {
        Seed = 3200 + (ULONG)Round;
        memset(&A32Hot, 0, sizeof(A32Hot));
        A32ResetDrains();
        A32Drains.Records = 2;
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK_STATUS(A32Register("a32.hot", WdkmLockKindKMutex, 0), STATUS_SUCCESS);
        CHECK_STATUS(A32Register("a32.spin", WdkmLockKindSpinLock, 0), STATUS_SUCCESS);
        for (Index = 0; Index < A32_APC_NAMES; Index += 1) {
            snprintf(A32Hot.ApcNames[Index], sizeof(A32Hot.ApcNames[Index]), "a32.apc.%ld",
                     (long)Index);
            CHECK_STATUS(A32Register(A32Hot.ApcNames[Index], WdkmLockKindFastMutex, 0),
                         STATUS_SUCCESS);
        }
        memset(&Settings, 0, sizeof(Settings));
        Settings.Seed = Seed;
        Settings.MeanIntervalMicroseconds = 40;
        Settings.DpcWeight = 2;
        Settings.NormalApcWeight = 1;
        Settings.SpecialApcWeight = 2;
        Settings.SuspendMaxMicroseconds = 20;
        Settings.Routine = A32HotRoutine;
        Threads[0] = WdkmTestStartThread(A32HotHolder, (PVOID)(ULONG_PTR)0);
        Threads[1] = WdkmTestStartThread(A32HotHolder, (PVOID)(ULONG_PTR)1);
        Threads[2] = WdkmTestStartThread(A32HotReplacer, NULL);
        CHECK(Threads[0] != NULL && Threads[1] != NULL && Threads[2] != NULL);
        WdkmHostInterruptsStart(&Settings);
        WdkmTestSleepMs(400);
        WdkmHostInterruptsStop();
        __atomic_store_n(&A32Hot.Stop, 1, __ATOMIC_RELEASE);
        for (Index = 0; Index < 3; Index += 1) {
            WdkmTestJoinThread(Threads[Index]);
        }
        if (A32Hot.Bad != 0) {
            WdkmTestFail(__FILE__, __LINE__, "seed %lu: %ld bad statuses, first at %ld: %s",
                         (unsigned long)Seed, (long)A32Hot.Bad, (long)A32Hot.BadWhat,
                         WdkmStatusName(A32Hot.BadStatus));
            return;
        }
        if (getenv("ATTACK32_VERBOSE") != NULL) {
            printf("seed %lu: %ld event calls, %ld APC unregistrations, %ld replaces, %ld drains\n",
                   (unsigned long)Seed, (long)A32Hot.EventCalls, (long)A32Hot.ApcUnregistered,
                   (long)A32Hot.Replaces, (long)A32Drains.NextSerial);
        }
        CHECK(A32Hot.EventCalls > 20);
        memset(&Report, 0, sizeof(Report));
        CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
        CHECK_EQ(Report.Freed, 2 + A32_APC_NAMES - A32Hot.ApcUnregistered);
        CHECK_DRAINS(0);
    }
}

/* ---------------------------------------------------------------------- */
/* 3. The rest of the emulation's promises                                  */
/* ---------------------------------------------------------------------- */

typedef struct _A32_TIMER_RUN {
    LONG volatile Runs;
    LONG volatile Concurrent;
    LONG volatile MaxConcurrent;
    LONG volatile BadIrql;
    LONG volatile NotDpc;
    ULONG64 volatile LastTime;
} A32_TIMER_RUN;

static A32_TIMER_RUN A32Timer;

static VOID
A32TimerDpc(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    LONG Now = __atomic_add_fetch(&A32Timer.Concurrent, 1, __ATOMIC_ACQ_REL);
    LONG Max = __atomic_load_n(&A32Timer.MaxConcurrent, __ATOMIC_RELAXED);

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    while (Now > Max &&
           !__atomic_compare_exchange_n(&A32Timer.MaxConcurrent, &Max, Now, FALSE,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    if (KeGetCurrentIrql() != DISPATCH_LEVEL) {
        __atomic_fetch_add(&A32Timer.BadIrql, 1, __ATOMIC_RELAXED);
    }
    if (!KeIsExecutingDpc()) {
        __atomic_fetch_add(&A32Timer.NotDpc, 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&A32Timer.LastTime,
                     (ULONG64)(ULONG_PTR)SystemArgument1 | ((ULONG64)(ULONG_PTR)SystemArgument2 << 32),
                     __ATOMIC_RELAXED);
    KeStallExecutionProcessor(20);
    __atomic_fetch_sub(&A32Timer.Concurrent, 1, __ATOMIC_ACQ_REL);
    __atomic_fetch_add(&A32Timer.Runs, 1, __ATOMIC_RELEASE);
}

/* Timers: one-shot runs its DPC once and is signalled, with the expiry
   system time as the DPC's arguments; KeSetTimer/KeCancelTimer answer
   whether it was set; periodic runs until cancelled; DPCs one at a time
   at DISPATCH_LEVEL; KeInsertQueueDpc refuses a queued DPC. */
static VOID
Attack32TimersAndDpcs(VOID)
{
    KTIMER Timer;
    KDPC Dpc;
    KDPC Queued[16];
    LARGE_INTEGER Due;
    LARGE_INTEGER Before;
    LARGE_INTEGER After;
    LARGE_INTEGER Zero;
    LONG Runs;
    LONGLONG Until;
    LONG Index;
    KIRQL OldIrql;

    memset(&A32Timer, 0, sizeof(A32Timer));
    Zero.QuadPart = 0;
    KeInitializeTimerEx(&Timer, NotificationTimer);
    KeInitializeDpc(&Dpc, A32TimerDpc, NULL);
    CHECK(!KeReadStateTimer(&Timer));
    Due.QuadPart = -20 * 10000;     /* 20 ms */
    KeQuerySystemTime(&Before);
    CHECK(!KeSetTimer(&Timer, Due, &Dpc));
    CHECK(KeSetTimer(&Timer, Due, &Dpc));           /* set already: re-set */
    CHECK_STATUS(KeWaitForSingleObject(&Timer, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    KeQuerySystemTime(&After);
    KeFlushQueuedDpcs();
    CHECK_EQ(A32Timer.Runs, 1);
    CHECK(KeReadStateTimer(&Timer));
    CHECK(A32Timer.LastTime >= (ULONG64)Before.QuadPart + 15 * 10000);
    CHECK(A32Timer.LastTime <= (ULONG64)After.QuadPart + 10000);
    CHECK(!KeCancelTimer(&Timer));                  /* expired: not set */
    WdkmTestSleepMs(40);
    CHECK_EQ(A32Timer.Runs, 1);                     /* one-shot */

    /* Cancelled before expiry: no DPC, not signalled. */
    Due.QuadPart = -50 * 10000;
    CHECK(!KeSetTimer(&Timer, Due, &Dpc));
    CHECK(!KeReadStateTimer(&Timer));
    CHECK(KeCancelTimer(&Timer));
    CHECK_STATUS(KeWaitForSingleObject(&Timer, Executive, KernelMode, FALSE, &Zero), STATUS_TIMEOUT);
    WdkmTestSleepMs(80);
    KeFlushQueuedDpcs();
    CHECK_EQ(A32Timer.Runs, 1);

    /* Periodic: every 2 ms until cancelled. Until it has run six times
       (at most 10 s: a loaded machine ran it 5 times in a fixed 60 ms). */
    Due.QuadPart = -2 * 10000;
    CHECK(!KeSetTimerEx(&Timer, Due, 2, &Dpc));
    Until = WdkmTestDeadlineMs(10000);
    do {
        WdkmTestSleepMs(10);
    } while (__atomic_load_n(&A32Timer.Runs, __ATOMIC_ACQUIRE) <= 5 && WdkmTestNowMs() < Until);
    CHECK(KeCancelTimer(&Timer));
    KeFlushQueuedDpcs();
    Runs = A32Timer.Runs;
    CHECK(Runs > 5);
    WdkmTestSleepMs(20);
    KeFlushQueuedDpcs();
    CHECK_EQ(A32Timer.Runs, Runs);

    /* Queued DPCs: once each, one at a time, never on the queuing thread
       before it lowers; a second insert of a queued DPC is refused. */
    for (Index = 0; Index < 16; Index += 1) {
        KeInitializeDpc(&Queued[Index], A32TimerDpc, NULL);
    }
    Runs = A32Timer.Runs;
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    for (Index = 0; Index < 16; Index += 1) {
        CHECK(KeInsertQueueDpc(&Queued[Index], NULL, NULL));
    }
    KeLowerIrql(OldIrql);
    KeFlushQueuedDpcs();
    CHECK_EQ(A32Timer.Runs, Runs + 16);
    CHECK_EQ(A32Timer.MaxConcurrent, 1);
    CHECK_EQ(A32Timer.BadIrql, 0);
    CHECK_EQ(A32Timer.NotDpc, 0);
}

static LONG volatile A32Blocking;

static VOID
A32BlockerDpc(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    __atomic_store_n(&A32Blocking, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&A32Blocking, __ATOMIC_ACQUIRE) == 1) {
        KeStallExecutionProcessor(50);
    }
}

/* "frees of pool that still holds ... a set timer or a queued DPC":
   TIMER_OR_DPC_INVALID 0 / 1 with the block's bounds; the block and the
   timer stay as they were. A second insert of a queued DPC: FALSE. */
static VOID
Attack32FreeingASetTimerOrQueuedDpc(VOID)
{
    typedef struct _A32_BLOCK {
        KTIMER Timer;
        KDPC Dpc;
    } A32_BLOCK;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KDPC Blocker;
    A32_BLOCK *Block;
    LARGE_INTEGER Due;
    volatile ULONG Code = 0;
    volatile ULONG_PTR P1 = 99, P2 = 0, P3 = 0;
    ULONG Outstanding;

    Block = (A32_BLOCK *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Block), A32_RECORD_TAG);
    CHECK(Block != NULL);
    Outstanding = WdkmHostPoolOutstanding(A32_RECORD_TAG, NULL);
    KeInitializeTimer(&Block->Timer);
    KeInitializeDpc(&Block->Dpc, A32TimerDpc, NULL);
    Due.QuadPart = -10000000;       /* 1 s */
    (VOID)KeSetTimer(&Block->Timer, Due, NULL);
    if (WDKM_HOST_TRY(&Trap)) {
        ExFreePoolWithTag(Block, A32_RECORD_TAG);
        WdkmHostDisarm(&Trap);
    } else {
        Code = Trap.Bugcheck.Code;
        P1 = Trap.Bugcheck.Parameter[0];
        P2 = Trap.Bugcheck.Parameter[1];
        P3 = Trap.Bugcheck.Parameter[2];
    }
    CHECK_EQ(Code, TIMER_OR_DPC_INVALID);
    CHECK_EQ(P1, 0);
    CHECK_EQ(P2, (ULONG_PTR)&Block->Timer);
    CHECK_EQ(P3, (ULONG_PTR)Block);
    CHECK_EQ(WdkmHostPoolOutstanding(A32_RECORD_TAG, NULL), Outstanding);
    CHECK(KeCancelTimer(&Block->Timer));            /* still set */

    /* A DPC kept queued behind one that blocks the DPC thread. */
    A32Blocking = 0;
    KeInitializeDpc(&Blocker, A32BlockerDpc, NULL);
    CHECK(KeInsertQueueDpc(&Blocker, NULL, NULL));
    while (__atomic_load_n(&A32Blocking, __ATOMIC_ACQUIRE) == 0) {
        WdkmTestSleepMs(1);
    }
    memset(&A32Timer, 0, sizeof(A32Timer));
    CHECK(KeInsertQueueDpc(&Block->Dpc, NULL, NULL));
    CHECK(!KeInsertQueueDpc(&Block->Dpc, NULL, NULL));
    Code = 0;
    if (WDKM_HOST_TRY(&Trap)) {
        ExFreePoolWithTag(Block, A32_RECORD_TAG);
        WdkmHostDisarm(&Trap);
    } else {
        Code = Trap.Bugcheck.Code;
        P1 = Trap.Bugcheck.Parameter[0];
        P2 = Trap.Bugcheck.Parameter[1];
    }
    CHECK(KeRemoveQueueDpc(&Block->Dpc));          /* still queued */
    CHECK(!KeRemoveQueueDpc(&Block->Dpc));
    __atomic_store_n(&A32Blocking, 2, __ATOMIC_RELEASE);
    KeFlushQueuedDpcs();
    CHECK_EQ(Code, TIMER_OR_DPC_INVALID);
    CHECK_EQ(P1, 1);
    CHECK_EQ(P2, (ULONG_PTR)&Block->Dpc);
    CHECK_EQ(A32Timer.Runs, 0);                     /* removed: never ran */
    ExFreePoolWithTag(Block, A32_RECORD_TAG);
    CHECK_EQ(WdkmHostPoolOutstanding(A32_RECORD_TAG, NULL), Outstanding - 1);
}

/* Events and alerts: KeSetEvent/KeResetEvent answer the previous state; a
   synchronization event lets one waiter through per set; an alert ends an
   alertable wait now or the next one (non-alertable waits leave it
   pending); a user APC ends only an alertable UserMode wait. */
typedef struct _A32_WAITERS {
    KEVENT Event;
    LONG volatile Woken;
    LONG volatile Started;
} A32_WAITERS;

static VOID
A32Waiter(PVOID Context, ULONG Index)
{
    A32_WAITERS *Waiters = (A32_WAITERS *)Context;

    UNREFERENCED_PARAMETER(Index);
    __atomic_fetch_add(&Waiters->Started, 1, __ATOMIC_RELEASE);
    if (KeWaitForSingleObject(&Waiters->Event, Executive, KernelMode, FALSE, NULL) == STATUS_SUCCESS) {
        __atomic_fetch_add(&Waiters->Woken, 1, __ATOMIC_RELEASE);
    }
}

static VOID
Attack32EventsAndAlerts(VOID)
{
    static A32_WAITERS Waiters;
    WDKM_TEST_THREAD *Threads[3];
    LARGE_INTEGER Zero;
    LARGE_INTEGER Short;
    LONG Index;

    Zero.QuadPart = 0;
    Short.QuadPart = -10 * 10000;
    memset(&Waiters, 0, sizeof(Waiters));
    KeInitializeEvent(&Waiters.Event, SynchronizationEvent, FALSE);
    CHECK_EQ(KeSetEvent(&Waiters.Event, 0, FALSE), 0);
    CHECK_EQ(KeSetEvent(&Waiters.Event, 0, FALSE), 1);
    CHECK_STATUS(KeWaitForSingleObject(&Waiters.Event, Executive, KernelMode, FALSE, &Zero),
                 STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&Waiters.Event), 0);  /* auto-reset */
    CHECK_STATUS(KeWaitForSingleObject(&Waiters.Event, Executive, KernelMode, FALSE, &Zero),
                 STATUS_TIMEOUT);
    for (Index = 0; Index < 3; Index += 1) {
        Threads[Index] = WdkmTestStartThread(A32Waiter, &Waiters);
        CHECK(Threads[Index] != NULL);
    }
    while (__atomic_load_n(&Waiters.Started, __ATOMIC_ACQUIRE) < 3) {
        WdkmTestSleepMs(1);
    }
    WdkmTestSleepMs(20);
    (VOID)KeSetEvent(&Waiters.Event, 0, FALSE);
    WdkmTestSleepMs(50);
    CHECK_EQ(__atomic_load_n(&Waiters.Woken, __ATOMIC_ACQUIRE), 1);
    (VOID)KeSetEvent(&Waiters.Event, 0, FALSE);
    (VOID)KeSetEvent(&Waiters.Event, 0, FALSE);
    for (Index = 0; Index < 3; Index += 1) {
        WdkmTestJoinThread(Threads[Index]);
    }
    CHECK_EQ(Waiters.Woken, 3);
    CHECK_EQ(KeReadStateEvent(&Waiters.Event), 0);

    /* Alerts on the calling thread: pending across a non-alertable wait. */
    KeInitializeEvent(&Waiters.Event, NotificationEvent, FALSE);
    CHECK_EQ(KeResetEvent(&Waiters.Event), 0);
    WdkmHostAlertThread(KeGetCurrentThread());
    CHECK_STATUS(KeWaitForSingleObject(&Waiters.Event, Executive, KernelMode, FALSE, &Short),
                 STATUS_TIMEOUT);
    CHECK_STATUS(KeDelayExecutionThread(KernelMode, TRUE, &Short), STATUS_ALERTED);
    CHECK_STATUS(KeWaitForSingleObject(&Waiters.Event, Executive, KernelMode, TRUE, &Short),
                 STATUS_TIMEOUT);                   /* used up */
    WdkmHostQueueUserApc(KeGetCurrentThread());
    CHECK_STATUS(KeWaitForSingleObject(&Waiters.Event, Executive, KernelMode, TRUE, &Short),
                 STATUS_TIMEOUT);                   /* kernel-mode wait: stays queued */
    CHECK_STATUS(KeWaitForSingleObject(&Waiters.Event, Executive, UserMode, TRUE, &Short),
                 STATUS_USER_APC);
    CHECK_STATUS(KeWaitForSingleObject(&Waiters.Event, Executive, UserMode, TRUE, &Short),
                 STATUS_TIMEOUT);
    (VOID)KeSetEvent(&Waiters.Event, 0, FALSE);
    CHECK_EQ(KeResetEvent(&Waiters.Event), 1);
}

/* Pool: counts, tags, fills, failure injection, and the bug checks with
   their sub-codes, each leaving the pool as it was. */
static ULONG
A32PoolBugcheck(int Which, PVOID Block, volatile ULONG_PTR *P1)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KIRQL OldIrql;
    volatile ULONG Code = 0;

    if (WDKM_HOST_TRY(&Trap)) {
        switch (Which) {
        case 0:
            ExFreePoolWithTag(Block, A32_RECORD_TAG + 1);       /* wrong tag */
            break;
        case 1:
            (VOID)ExAllocatePoolWithTag(NonPagedPoolNx, 0, A32_RECORD_TAG);
            break;
        case 2:
            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
            (VOID)ExAllocatePoolWithTag(PagedPool, 16, A32_RECORD_TAG);
            break;
        case 3:
            KeRaiseIrql(HIGH_LEVEL, &OldIrql);
            ExFreePoolWithTag(Block, A32_RECORD_TAG);
            break;
        case 4:
            ExFreePoolWithTag((PUCHAR)Block + 8, A32_RECORD_TAG);   /* not a block */
            break;
        default:
            ExFreePoolWithTag(Block, A32_RECORD_TAG);               /* freed already */
            break;
        }
        WdkmHostDisarm(&Trap);
    } else {
        Code = Trap.Bugcheck.Code;
        *P1 = Trap.Bugcheck.Parameter[0];
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    return Code;
}

static VOID
Attack32PoolRules(VOID)
{
    static const ULONG_PTR SubCodes[] = { 0x0A, 0x00, 0x08, 0x09, 0x42, 0x07 };
    PUCHAR Block;
    PUCHAR Zeroed;
    SIZE_T Bytes = 0;
    ULONG64 Attempts;
    ULONG Injected;
    ULONG Which;
    volatile ULONG_PTR P1 = 0;

    CHECK_EQ(WdkmHostPoolOutstanding(A32_RECORD_TAG, &Bytes), 0);
    Block = (PUCHAR)ExAllocatePoolWithTag(NonPagedPoolNx, 100, A32_RECORD_TAG);
    CHECK(Block != NULL);
    CHECK_EQ(Block[0], 0xCD);
    CHECK_EQ(Block[99], 0xCD);
    memset(Block, 0x5A, 100);
    Zeroed = (PUCHAR)ExAllocatePool2(POOL_FLAG_NON_PAGED, 100, A32_RECORD_TAG);
    CHECK(Zeroed != NULL);
    CHECK_EQ(Zeroed[0], 0);
    CHECK_EQ(Zeroed[99], 0);
    CHECK(ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 0) == NULL);
    CHECK_EQ(WdkmHostPoolOutstanding(A32_RECORD_TAG, &Bytes), 2);
    CHECK_EQ(Bytes, 200);
    for (Which = 0; Which < 5; Which += 1) {
        CHECK_EQ(A32PoolBugcheck((int)Which, Block, &P1), BAD_POOL_CALLER);
        if (P1 != SubCodes[Which]) {
            WdkmTestFail(__FILE__, __LINE__, "case %lu: sub-code 0x%lx, expected 0x%lx",
                         (unsigned long)Which, (unsigned long)P1, (unsigned long)SubCodes[Which]);
            ExFreePoolWithTag(Block, A32_RECORD_TAG);
            ExFreePoolWithTag(Zeroed, A32_RECORD_TAG);
            return;
        }
        CHECK_EQ(WdkmHostPoolOutstanding(A32_RECORD_TAG, &Bytes), 2);
        CHECK_EQ(Bytes, 200);
    }
    CHECK_EQ(Block[50], 0x5A);
    ExFreePoolWithTag(Block, A32_RECORD_TAG);
    CHECK_EQ(A32PoolBugcheck(5, Block, &P1), BAD_POOL_CALLER);
    CHECK_EQ(P1, 0x07);
    CHECK_EQ(WdkmHostPoolOutstanding(A32_RECORD_TAG, &Bytes), 1);
    ExFreePoolWithTag(Zeroed, A32_RECORD_TAG);

    /* The Nth attempt from now fails, once; attempts count failures. */
    Attempts = WdkmHostPoolAllocations();
    Injected = WdkmHostPoolInjectedFailures();
    WdkmHostPoolFailAt(2);
    Block = (PUCHAR)ExAllocatePoolWithTag(NonPagedPoolNx, 8, A32_RECORD_TAG);
    Zeroed = (PUCHAR)ExAllocatePoolWithTag(NonPagedPoolNx, 8, A32_RECORD_TAG);
    CHECK(Block != NULL && Zeroed != NULL);
    CHECK(ExAllocatePoolWithTag(NonPagedPoolNx, 8, A32_RECORD_TAG) == NULL);
    ExFreePoolWithTag(Block, A32_RECORD_TAG);
    Block = (PUCHAR)ExAllocatePoolWithTag(NonPagedPoolNx, 8, A32_RECORD_TAG);
    CHECK(Block != NULL);
    CHECK_EQ(WdkmHostPoolAllocations() - Attempts, 4);
    CHECK_EQ(WdkmHostPoolInjectedFailures() - Injected, 1);
    ExFreePoolWithTag(Block, A32_RECORD_TAG);
    ExFreePoolWithTag(Zeroed, A32_RECORD_TAG);
    CHECK_EQ(WdkmHostPoolOutstanding(A32_RECORD_TAG, NULL), 0);
}

/* IRPs: IoCancelIrp calls the routine holding the cancel spin lock at
   DISPATCH_LEVEL with Cancel set and the routine cleared; completion
   rules bug check before changing anything. */
static LONG volatile A32CancelCalls;
static KIRQL A32CancelIrqlSeen;
static BOOLEAN A32CancelFlagSeen;
static BOOLEAN A32CancelRoutineCleared;
static BOOLEAN A32CancelKeepsLock;

static VOID
A32CancelRoutine(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    A32CancelCalls += 1;
    A32CancelIrqlSeen = KeGetCurrentIrql();
    A32CancelFlagSeen = Irp->Cancel;
    A32CancelRoutineCleared = (BOOLEAN)(Irp->CancelRoutine == NULL);
    if (!A32CancelKeepsLock) {
        IoReleaseCancelSpinLock(Irp->CancelIrql);
    }
}

static VOID
Attack32IrpRules(VOID)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    PIRP Irp;
    volatile ULONG Code = 0;
    volatile ULONG_PTR P1 = 0, P2 = 0;

    Irp = WdkmHostIrpAllocate(IRP_MJ_READ, 0, NULL);
    CHECK(Irp != NULL);
    A32CancelCalls = 0;
    A32CancelKeepsLock = FALSE;
    CHECK(IoSetCancelRoutine(Irp, A32CancelRoutine) == NULL);
    IoMarkIrpPending(Irp);
    if (WDKM_HOST_TRY(&Trap)) {
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        WdkmHostDisarm(&Trap);
    } else {
        Code = Trap.Bugcheck.Code;
        P1 = Trap.Bugcheck.Parameter[0];
        P2 = Trap.Bugcheck.Parameter[1];
    }
    CHECK_EQ(Code, CANCEL_STATE_IN_COMPLETED_IRP);
    CHECK_EQ(P1, (ULONG_PTR)Irp);
    CHECK_EQ(P2, (ULONG_PTR)A32CancelRoutine);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 0);
    CHECK(Irp->CancelRoutine == A32CancelRoutine);
    CHECK(IoCancelIrp(Irp));
    CHECK_EQ(A32CancelCalls, 1);
    CHECK_EQ(A32CancelIrqlSeen, DISPATCH_LEVEL);
    CHECK(A32CancelFlagSeen);
    CHECK(A32CancelRoutineCleared);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(!IoCancelIrp(Irp));                       /* no routine any more */
    CHECK_EQ(A32CancelCalls, 1);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    CHECK(Irp->PendingReturned);
    Code = 0;
    if (WDKM_HOST_TRY(&Trap)) {
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        WdkmHostDisarm(&Trap);
    } else {
        Code = Trap.Bugcheck.Code;
    }
    CHECK_EQ(Code, MULTIPLE_IRP_COMPLETE_REQUESTS);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    WdkmHostIrpFree(Irp);

    /* A cancel routine that keeps the cancel spin lock. */
    Irp = WdkmHostIrpAllocate(IRP_MJ_READ, 0, NULL);
    CHECK(Irp != NULL);
    A32CancelKeepsLock = TRUE;
    (VOID)IoSetCancelRoutine(Irp, A32CancelRoutine);
    Code = 0;
    if (WDKM_HOST_TRY(&Trap)) {
        (VOID)IoCancelIrp(Irp);
        WdkmHostDisarm(&Trap);
    } else {
        Code = Trap.Bugcheck.Code;
    }
    A32CancelKeepsLock = FALSE;
    CHECK_EQ(Code, SPIN_LOCK_ALREADY_OWNED);
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    WdkmHostIrpFree(Irp);
}

/* The KMUTEX recursion limit, and the KMUTEX state after the refusal. */
static VOID
Attack32MutexRecursionLimit(VOID)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KMUTEX Mutex;
    LONG Index;
    volatile ULONG Code = 0;
    volatile ULONG_PTR P1 = 0, P2 = 0;

    KeInitializeMutex(&Mutex, 0);
    WdkmHostSetMutexRecursionLimit(3);
    for (Index = 0; Index < 3; Index += 1) {
        CHECK_STATUS(KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    }
    if (WDKM_HOST_TRY(&Trap)) {
        (VOID)KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL);
        WdkmHostDisarm(&Trap);
    } else {
        Code = Trap.Bugcheck.Code;
        P1 = Trap.Bugcheck.Parameter[0];
        P2 = Trap.Bugcheck.Parameter[1];
    }
    WdkmHostSetMutexRecursionLimit(0);
    CHECK_EQ(Code, KMODE_EXCEPTION_NOT_HANDLED);
    CHECK_EQ(P1, (ULONG_PTR)STATUS_MUTANT_LIMIT_EXCEEDED);
    CHECK_EQ(P2, (ULONG_PTR)&Mutex);
    CHECK_EQ(WdkmHostThreadKMutexCount(), 1);
    for (Index = 0; Index < 3; Index += 1) {
        (VOID)KeReleaseMutex(&Mutex, FALSE);
    }
    CHECK_EQ(WdkmHostThreadKMutexCount(), 0);
    CHECK_EQ(KeReadStateMutex(&Mutex), 1);
}

/* Delay fuzzing at 100 %: one delay at every acquire and every release;
   none at 0 %. Processors: N on the calling thread, back with -1. */
static VOID
Attack32DelayFuzzingAndProcessors(VOID)
{
    KSPIN_LOCK SpinLock;
    FAST_MUTEX FastMutex;
    KIRQL OldIrql;
    ULONG64 Before;
    ULONG Host;

    KeInitializeSpinLock(&SpinLock);
    ExInitializeFastMutex(&FastMutex);
    WdkmHostSetDelayFuzzing(5, 100);
    Before = WdkmHostDelayFuzzingCount();
    KeAcquireSpinLock(&SpinLock, &OldIrql);
    KeReleaseSpinLock(&SpinLock, OldIrql);
    ExAcquireFastMutex(&FastMutex);
    ExReleaseFastMutex(&FastMutex);
    CHECK_EQ(WdkmHostDelayFuzzingCount() - Before, 4);
    WdkmHostSetDelayFuzzing(5, 0);
    Before = WdkmHostDelayFuzzingCount();
    KeAcquireSpinLock(&SpinLock, &OldIrql);
    KeReleaseSpinLock(&SpinLock, OldIrql);
    CHECK_EQ(WdkmHostDelayFuzzingCount() - Before, 0);

    Host = KeGetCurrentProcessorNumberEx(NULL);
    WdkmHostSetCurrentProcessor(200);
    CHECK_EQ(KeGetCurrentProcessorNumberEx(NULL), 200);
    WdkmHostSetCurrentProcessor(-1);
    CHECK(KeGetCurrentProcessorNumberEx(NULL) < 200 || Host >= 200);
}

/* ---------------------------------------------------------------------- */
/* 1f. Events queued to a thread blocked in a lock's wait                   */
/* ---------------------------------------------------------------------- */

/* What the blocked thread waits for, and so what masks its events once
   the wait returns with the lock. */
typedef enum _A32_BLOCK_KIND {
    A32BlockKMutex,         /* owning: normal APCs masked until the release */
    A32BlockFastMutex,      /* APC_LEVEL: both APCs masked until the release */
    A32BlockGuardedMutex,   /* guarded region: both APCs masked */
    A32BlockResource,       /* critical region: normal APCs masked */
    A32BlockKinds
} A32_BLOCK_KIND;

typedef struct _A32_BLOCKED {
    A32_BLOCK_KIND Kind;
    KMUTEX Mutex;
    FAST_MUTEX FastMutex;
    KGUARDED_MUTEX GuardedMutex;
    ERESOURCE Resource;
    PKTHREAD Thread;
    LONG volatile Start;
} A32_BLOCKED;

static A32_BLOCKED A32Blocked;

/* A32Blocked's lock of Kind, taken and given back with the raw kernel
   calls (the ERESOURCE in a critical region). */
static VOID
A32BlockedAcquire(A32_BLOCK_KIND Kind)
{
    switch (Kind) {
    case A32BlockKMutex:
        (VOID)KeWaitForSingleObject(&A32Blocked.Mutex, Executive, KernelMode, FALSE, NULL);
        break;
    case A32BlockFastMutex:
        ExAcquireFastMutex(&A32Blocked.FastMutex);
        break;
    case A32BlockGuardedMutex:
        KeAcquireGuardedMutex(&A32Blocked.GuardedMutex);
        break;
    default:
        KeEnterCriticalRegion();
        (VOID)ExAcquireResourceExclusiveLite(&A32Blocked.Resource, TRUE);
        break;
    }
}

static VOID
A32BlockedRelease(A32_BLOCK_KIND Kind)
{
    switch (Kind) {
    case A32BlockKMutex:
        (VOID)KeReleaseMutex(&A32Blocked.Mutex, FALSE);
        break;
    case A32BlockFastMutex:
        ExReleaseFastMutex(&A32Blocked.FastMutex);
        break;
    case A32BlockGuardedMutex:
        KeReleaseGuardedMutex(&A32Blocked.GuardedMutex);
        break;
    default:
        ExReleaseResourceLite(&A32Blocked.Resource);
        KeLeaveCriticalRegion();
        break;
    }
}

static VOID
A32BlockedThread(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    A32Spinner.Thread = KeGetCurrentThread();
    __atomic_store_n(&A32Spinner.Phase, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&A32Blocked.Start, __ATOMIC_ACQUIRE) == 0) {
        /* the test takes the lock first */
    }
    A32BlockedAcquire(A32Blocked.Kind);
    __atomic_store_n(&A32Spinner.Phase, 2, __ATOMIC_RELEASE);
    A32WaitGo(1);
    A32BlockedRelease(A32Blocked.Kind);
    __atomic_store_n(&A32Spinner.Phase, 3, __ATOMIC_RELEASE);
    A32WaitGo(2);
}

/* "A thread asleep in an emulated wait is not interrupted: its events run
   when the wait returns" - as far as the masking the wait returned into
   allows: a KMUTEX it now owns masks normal APCs, a FAST_MUTEX both APCs,
   and so on; what stays masked runs at the release. */
static VOID
Attack32EventsQueuedToABlockedWaiter(VOID)
{
    LONG Kind;

    for (Kind = 0; Kind < A32BlockKinds; Kind += 1) {
        WDKM_TEST_THREAD *Worker;
        LONG Expected[3];
        LONG Index;
        KIRQL OldIrql = PASSIVE_LEVEL;

        memset(&A32Spinner, 0, sizeof(A32Spinner));
        memset(&A32Blocked, 0, sizeof(A32Blocked));
        A32Blocked.Kind = (A32_BLOCK_KIND)Kind;
        KeInitializeMutex(&A32Blocked.Mutex, 0);
        ExInitializeFastMutex(&A32Blocked.FastMutex);
        KeInitializeGuardedMutex(&A32Blocked.GuardedMutex);
        CHECK_STATUS(ExInitializeResourceLite(&A32Blocked.Resource), STATUS_SUCCESS);
        Worker = WdkmTestStartThread(A32BlockedThread, NULL);
        CHECK(Worker != NULL);
        A32WaitPhase(1);
        /* The test holds the lock first. */
        A32BlockedAcquire(Kind);
        __atomic_store_n(&A32Blocked.Start, 1, __ATOMIC_RELEASE);
        {
            /* Asleep in the lock's wait (30 ms was not always enough on a
               loaded machine: the events then ran before the wait). */
            LONGLONG Deadline = WdkmTestDeadlineMs(10000);

            while (!WdkmHostThreadIsWaiting(A32Spinner.Thread) && WdkmTestNowMs() < Deadline) {
                WdkmTestSleepMs(1);
            }
            CHECK(WdkmHostThreadIsWaiting(A32Spinner.Thread));
        }
        WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptNormalApc, A32SpinnerRoutine, NULL);
        WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptSpecialApc, A32SpinnerRoutine, NULL);
        WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptDpc, A32SpinnerRoutine, NULL);
        WdkmTestSleepMs(30);
        CHECK_EQ(__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE), 0);
        A32BlockedRelease(Kind);
        UNREFERENCED_PARAMETER(OldIrql);
        A32WaitPhase(2);
        WdkmTestSleepMs(30);
        /* Phase at which each kind ran: 1 = when the wait returned (before
           the worker's next statement), 2 = at its release. */
        Expected[WdkmHostInterruptDpc] = 1;
        Expected[WdkmHostInterruptSpecialApc] =
            (Kind == A32BlockFastMutex || Kind == A32BlockGuardedMutex) ? 2 : 1;
        Expected[WdkmHostInterruptNormalApc] = Kind == A32BlockKMutex || Kind == A32BlockResource ||
                                               Kind == A32BlockFastMutex ||
                                               Kind == A32BlockGuardedMutex ? 2 : 1;
        __atomic_store_n(&A32Spinner.Go, 1, __ATOMIC_RELEASE);
        A32WaitPhase(3);
        CHECK_EQ(__atomic_load_n(&A32Spinner.RanCount, __ATOMIC_ACQUIRE), 3);
        for (Index = 0; Index < 3; Index += 1) {
            LONG RanKind = __atomic_load_n(&A32Spinner.Order[Index], __ATOMIC_ACQUIRE);
            LONG Phase = __atomic_load_n(&A32Spinner.RanAtPhase[Index], __ATOMIC_ACQUIRE);

            if (Phase != Expected[RanKind]) {
                WdkmTestFail(__FILE__, __LINE__,
                             "blocked on lock kind %ld: event kind %ld ran at phase %ld, expected %ld",
                             (long)Kind, (long)RanKind, (long)Phase, (long)Expected[RanKind]);
                __atomic_store_n(&A32Spinner.Go, 2, __ATOMIC_RELEASE);
                WdkmTestJoinThread(Worker);
                (VOID)ExDeleteResourceLite(&A32Blocked.Resource);
                return;
            }
        }
        __atomic_store_n(&A32Spinner.Go, 2, __ATOMIC_RELEASE);
        WdkmTestJoinThread(Worker);
        CHECK_STATUS(ExDeleteResourceLite(&A32Blocked.Resource), STATUS_SUCCESS);
    }
}

/* A normal APC that blocks: events queued meanwhile wait for its wait to
   return; a special one then nests in it, a normal one follows it. */
static KEVENT A32ApcWaitEvent;
static LONG volatile A32NestLog[8];
static LONG volatile A32NestCount;

static VOID
A32NestRecord(LONG Value)
{
    LONG Index = __atomic_fetch_add(&A32NestCount, 1, __ATOMIC_RELAXED);

    if (Index < 8) {
        __atomic_store_n(&A32NestLog[Index], Value, __ATOMIC_RELEASE);
    }
}

static VOID
A32BlockingApc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    A32NestRecord(10 + (LONG)Kind);
    if (Kind == WdkmHostInterruptNormalApc && Context == NULL) {
        (VOID)KeWaitForSingleObject(&A32ApcWaitEvent, Executive, KernelMode, FALSE, NULL);
        A32NestRecord(99);      /* the wait returned */
    }
    A32NestRecord(20 + (LONG)Kind);
}

static VOID
A32BlockingApcWorker(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    A32Spinner.Thread = KeGetCurrentThread();
    __atomic_store_n(&A32Spinner.Phase, 1, __ATOMIC_RELEASE);
    A32WaitGo(1);
}

static VOID
Attack32NormalApcThatBlocks(VOID)
{
    WDKM_TEST_THREAD *Worker;
    static const LONG Expected[] = { 11, 12, 22, 99, 21, 11, 21 };
    LONG Index;

    memset(&A32Spinner, 0, sizeof(A32Spinner));
    memset((PVOID)A32NestLog, 0, sizeof(A32NestLog));
    A32NestCount = 0;
    KeInitializeEvent(&A32ApcWaitEvent, NotificationEvent, FALSE);
    Worker = WdkmTestStartThread(A32BlockingApcWorker, NULL);
    CHECK(Worker != NULL);
    A32WaitPhase(1);
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptNormalApc, A32BlockingApc, NULL);
    while (__atomic_load_n(&A32NestCount, __ATOMIC_ACQUIRE) < 1) {
        WdkmTestSleepMs(1);
    }
    WdkmTestSleepMs(30);        /* the APC is asleep in its wait: its events run when the
                                   wait returns, before the code after it */
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptNormalApc, A32BlockingApc, (PVOID)1);
    WdkmHostQueueInterrupt(A32Spinner.Thread, WdkmHostInterruptSpecialApc, A32BlockingApc, (PVOID)1);
    WdkmTestSleepMs(30);
    CHECK_EQ(__atomic_load_n(&A32NestCount, __ATOMIC_ACQUIRE), 1);
    (VOID)KeSetEvent(&A32ApcWaitEvent, 0, FALSE);
    while (__atomic_load_n(&A32NestCount, __ATOMIC_ACQUIRE) < 7) {
        WdkmTestSleepMs(1);
    }
    __atomic_store_n(&A32Spinner.Go, 1, __ATOMIC_RELEASE);
    WdkmTestJoinThread(Worker);
    for (Index = 0; Index < 7; Index += 1) {
        if (A32NestLog[Index] != Expected[Index]) {
            WdkmTestFail(__FILE__, __LINE__, "step %ld: %ld, expected %ld (log %ld %ld %ld %ld %ld %ld %ld)",
                         (long)Index, (long)A32NestLog[Index], (long)Expected[Index],
                         (long)A32NestLog[0], (long)A32NestLog[1], (long)A32NestLog[2],
                         (long)A32NestLog[3], (long)A32NestLog[4], (long)A32NestLog[5],
                         (long)A32NestLog[6]);
            return;
        }
    }
}

/* "A system thread that was created but has not started yet is waited
   for": the event runs on it, whatever the thread does until it ends -
   even in a busy wait inside the C library, where the signal finds no
   safe point and the retry may come after the thread's end. Start
   restarts the counts. */
static PKTHREAD volatile A32RanOn;

static VOID
A32RecordThreadRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    __atomic_store_n(&A32RanOn, KeGetCurrentThread(), __ATOMIC_RELEASE);
}

static LONG volatile A32Queued;

/* Lives until the test has queued its event, then a moment more, in a
   busy wait (mostly inside the C library), a spin or a sleep. */
static VOID
A32ShortLived(PVOID Context)
{
    ULONG Mode = (ULONG)(ULONG_PTR)Context;
    ULONG Spin;

    while (__atomic_load_n(&A32Queued, __ATOMIC_ACQUIRE) == 0) {
        if (Mode == 0) {
            KeStallExecutionProcessor(100);
        } else if (Mode == 1) {
            for (Spin = 0; Spin < 10000; Spin += 1) {
                A32Sink += Spin;
            }
        } else {
            WdkmTestSleepMs(1);
        }
    }
    if (Mode == 0) {
        KeStallExecutionProcessor(500);
    } else if (Mode == 1) {
        for (Spin = 0; Spin < 100000; Spin += 1) {
            A32Sink += Spin;
        }
    } else {
        WdkmTestSleepMs(1);
    }
}

static VOID
Attack32FreshThreadAndCountRestart(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];
    HANDLE Handle;
    PVOID Object = NULL;
    LONG Round;

    for (Round = 0; Round < 20; Round += 1) {
        A32RanOn = NULL;
        A32Queued = 0;
        CHECK_STATUS(PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, A32ShortLived,
                                          (PVOID)(ULONG_PTR)(Round % 3)), STATUS_SUCCESS);
        CHECK_STATUS(ObReferenceObjectByHandle(Handle, SYNCHRONIZE, NULL, KernelMode, &Object, NULL),
                     STATUS_SUCCESS);
        (VOID)ZwClose(Handle);
        WdkmHostQueueInterrupt((PKTHREAD)Object, WdkmHostInterruptSpecialApc, A32RecordThreadRoutine,
                               NULL);
        __atomic_store_n(&A32Queued, 1, __ATOMIC_RELEASE);
        (VOID)KeWaitForSingleObject(Object, Executive, KernelMode, FALSE, NULL);
        if (__atomic_load_n(&A32RanOn, __ATOMIC_ACQUIRE) != (PKTHREAD)Object) {
            WdkmTestFail(__FILE__, __LINE__, "round %ld: the event ran on %p, not on the new thread %p "
                         "(%llu dropped so far)", (long)Round, (PVOID)A32RanOn, Object,
                         (unsigned long long)WdkmHostInterruptsDropped());
            ObDereferenceObject(Object);
            return;
        }
        ObDereferenceObject(Object);
    }
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A32RecordThreadRoutine, NULL);
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    CHECK(Delivered[WdkmHostInterruptDpc] >= 1);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 1;
    Settings.MeanIntervalMicroseconds = 100000;
    Settings.DpcWeight = 1;
    Settings.Routine = A32RecordThreadRoutine;
    WdkmHostInterruptsStart(&Settings);
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    WdkmHostInterruptsStop();
    CHECK_EQ(Delivered[WdkmHostInterruptDpc], 0);
    CHECK_EQ(Delivered[WdkmHostInterruptSpecialApc], 0);
}

/* WDKM_HOST_INTERRUPTS: keys left out take their defaults, injection
   starts at the first use and prints its seed; a kind of weight 0 never
   comes; WdkmHostSetDefaultInterruptRoutine later changes the routine. */
static LONG volatile A32EnvRoutineRuns;
static LONG volatile A32EnvRoutineWrongKind;

static VOID
A32EnvRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    __atomic_fetch_add(&A32EnvRoutineRuns, 1, __ATOMIC_RELAXED);
    if (Kind != WdkmHostInterruptSpecialApc) {
        __atomic_fetch_add(&A32EnvRoutineWrongKind, 1, __ATOMIC_RELAXED);
    }
}

static VOID
A32Busy(ULONG Milliseconds)
{
    LONGLONG End = WdkmTestNowMs() + Milliseconds;

    while (WdkmTestNowMs() < End) {
        ULONG Spin;

        for (Spin = 0; Spin < 20000; Spin += 1) {
            A32Sink += Spin;
        }
    }
}

static VOID
Attack32EnvironmentStartsInjection(VOID)
{
    char *Extra[3];
    char Variable[] = "WDKM_HOST_INTERRUPTS=seed=7,dpc=0,napc=0,suspend=50";
    char Child[] = "ATTACK32_ENV_CHILD=1";
    char ErrorPath[64];
    char *Errors;

    if (getenv("ATTACK32_ENV_CHILD") != NULL) {
        WDKM_HOST_INTERRUPT_SETTINGS Settings;
        ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];

        CHECK(WdkmHostInterruptsActive(&Settings));
        CHECK_EQ(Settings.Seed, 7);
        CHECK_EQ(Settings.MeanIntervalMicroseconds, 500);
        CHECK_EQ(Settings.DpcWeight, 0);
        CHECK_EQ(Settings.NormalApcWeight, 0);
        CHECK_EQ(Settings.SpecialApcWeight, 1);
        CHECK_EQ(Settings.SuspendMaxMicroseconds, 50);
        WdkmHostSetDefaultInterruptRoutine(A32EnvRoutine, NULL);
        A32Busy(300);
        WdkmHostQueryInterruptCounts(Delivered, NULL);
        CHECK(A32EnvRoutineRuns > 5);
        CHECK_EQ(A32EnvRoutineWrongKind, 0);
        CHECK_EQ(Delivered[WdkmHostInterruptDpc], 0);
        CHECK_EQ(Delivered[WdkmHostInterruptNormalApc], 0);
        WdkmHostInterruptsStop();
        return;
    }
    snprintf(ErrorPath, sizeof(ErrorPath), "/tmp/attack32_env_%ld", (long)getpid());
    Extra[0] = Variable;
    Extra[1] = Child;
    Extra[2] = NULL;
    CHECK(A32RunChild("attack32.environment_starts_injection", Extra, ErrorPath));
    Errors = A32ReadFile(ErrorPath);
    (VOID)unlink(ErrorPath);
    CHECK(Errors != NULL);
    if (strstr(Errors, "seed=7") == NULL) {
        WdkmTestFail(__FILE__, __LINE__, "the child printed no seed: %.300s", Errors);
    }
    free(Errors);
}

/* The last reference of a drained lock dropped by a DPC on the holder's
   thread while WdkmGrtDestroy waits for it: Destroy returns SUCCESS, the
   drain runs once (at DISPATCH_LEVEL in the DPC, or for an ERESOURCE in
   Destroy), Freed counts a deferred ERESOURCE. And Destroy's report of an
   unregistered lock still referenced. */
typedef struct _A32_DPC_HOLDER {
    PCSTR Name;
    WDKM_LOCK_KIND Kind;
    PVOID Lock;
    LONG volatile Referenced;
    LONG volatile Dropped;
    NTSTATUS Dereference;
} A32_DPC_HOLDER;

static A32_DPC_HOLDER A32DpcHolder;

static VOID
A32DropInDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    A32DpcHolder.Dereference = WdkmGrtDereference(A32DpcHolder.Lock);
    __atomic_store_n(&A32DpcHolder.Dropped, 1, __ATOMIC_RELEASE);
}

static VOID
A32DpcHolderThread(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    if (WdkmGrtReference(A32DpcHolder.Name, A32DpcHolder.Kind, sizeof(A32_LIST),
                         &A32DpcHolder.Lock) != STATUS_SUCCESS) {
        A32DpcHolder.Lock = NULL;
    }
    __atomic_store_n(&A32DpcHolder.Referenced, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&A32DpcHolder.Dropped, __ATOMIC_ACQUIRE) == 0) {
        ULONG Spin;

        for (Spin = 0; Spin < 1000; Spin += 1) {
            A32Sink += Spin;
        }
    }
}

static VOID
A32QueueLater(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Index);
    WdkmTestSleepMs(60);
    WdkmHostQueueInterrupt((PKTHREAD)Context, WdkmHostInterruptDpc, A32DropInDpc, NULL);
}

static VOID
Attack32DpcDropsLastReferenceDuringDestroy(VOID)
{
    static const WDKM_LOCK_KIND Kinds[] = {
        WdkmLockKindSpinLock, WdkmLockKindKMutex, WdkmLockKindResource, WdkmLockKindPushLock
    };
    ULONG KindIndex;

    for (KindIndex = 0; KindIndex < sizeof(Kinds) / sizeof(Kinds[0]); KindIndex += 1) {
        WDKM_TEST_THREAD *Holder;
        WDKM_TEST_THREAD *Queuer;
        WDKM_GRT_REPORT Report;
        LARGE_INTEGER Timeout;
        NTSTATUS Status;

        A32ResetDrains();
        A32Drains.Records = 2;
        memset(&A32DpcHolder, 0, sizeof(A32DpcHolder));
        A32DpcHolder.Name = "a32.held";
        A32DpcHolder.Kind = Kinds[KindIndex];
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK_STATUS(A32Register("a32.held", Kinds[KindIndex], 0), STATUS_SUCCESS);
        CHECK_STATUS(A32Register("a32.idle", Kinds[KindIndex], 0), STATUS_SUCCESS);
        Holder = WdkmTestStartThread(A32DpcHolderThread, NULL);
        CHECK(Holder != NULL);
        while (__atomic_load_n(&A32DpcHolder.Referenced, __ATOMIC_ACQUIRE) == 0) {
            WdkmTestSleepMs(1);
        }
        CHECK(A32DpcHolder.Lock != NULL);
        Queuer = WdkmTestStartThread(A32QueueLater, WdkmTestThreadObject(Holder));
        CHECK(Queuer != NULL);
        memset(&Report, 0, sizeof(Report));
        Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5000);
        Status = WdkmGrtDestroy(&Timeout, &Report);
        WdkmTestJoinThread(Queuer);
        __atomic_store_n(&A32DpcHolder.Dropped, 1, __ATOMIC_RELEASE);
        WdkmTestJoinThread(Holder);
        CHECK_STATUS(A32DpcHolder.Dereference, STATUS_SUCCESS);
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_DRAINS(0);
        if (Kinds[KindIndex] == WdkmLockKindResource) {
            CHECK_EQ(Report.Freed, 2);                  /* the deferred one included */
            CHECK_EQ(A32Drains.DrainIrql[0], PASSIVE_LEVEL);
        } else {
            CHECK(Report.Freed == 1 || Report.Freed == 2);
            CHECK(A32Drains.DrainIrql[0] == DISPATCH_LEVEL || Report.Freed == 2);
        }
    }
}

static VOID
Attack32DestroyReportsUnregisteredReferenced(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Zero;
    PVOID Lock;
    PVOID Held;
    KIRQL OldIrql;

    A32ResetDrains();
    Zero.QuadPart = 0;
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(A32Register("a32.gone", WdkmLockKindKMutex, 0), STATUS_SUCCESS);
    CHECK_STATUS(A32Register("a32.res", WdkmLockKindResource, 0), STATUS_SUCCESS);
    CHECK_STATUS(A32Register("a32.stay", WdkmLockKindSpinLock, 0), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtReference("a32.gone", WdkmLockKindKMutex, sizeof(A32_LIST), &Lock),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtReference("a32.res", WdkmLockKindResource, sizeof(A32_LIST), &Held),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("a32.gone"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("a32.res"), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmGrtDereference(Held), STATUS_SUCCESS);    /* deferred */
    KeLowerIrql(OldIrql);
    CHECK_DRAINS(3);
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.Freed, 2);                  /* "a32.stay" and the deferred ERESOURCE */
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(Report.UnregisteredReferenced, 1);
    CHECK_EQ(Report.NamesReported, 1);
    CHECK(strcmp(Report.Names[0], "a32.gone") == 0);
    CHECK_DRAINS(1);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    CHECK_DRAINS(0);
}

/* A drain that uses the lock's handle is refused ("it is no lock any
   more"): every kind's acquire answers an error, nothing bug checks. */
static PVOID A32DrainHandle;
static WDKM_LOCK_KIND A32DrainHandleKind;
static NTSTATUS A32DrainHandleStatus;

static VOID
A32DrainUsingHandle(PVOID Value, PVOID Context)
{
    PVOID Data = (PVOID)1;
    KIRQL OldIrql;
    WDKM_LOCK_QUEUE_HANDLE Queue;

    A32Drain(Value, Context);
    switch (A32DrainHandleKind) {
    case WdkmLockKindKMutex:
        A32DrainHandleStatus = WdkmKMutexTryAcquire((PWDKM_KMUTEX)A32DrainHandle, sizeof(A32_LIST), &Data);
        break;
    case WdkmLockKindFastMutex:
        A32DrainHandleStatus = WdkmFastMutexTryAcquire((PWDKM_FAST_MUTEX)A32DrainHandle,
                                                       sizeof(A32_LIST), &Data);
        break;
    case WdkmLockKindSpinLock:
        A32DrainHandleStatus = WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)A32DrainHandle, sizeof(A32_LIST),
                                                   &OldIrql, &Data);
        break;
    case WdkmLockKindQueuedSpinLock:
        A32DrainHandleStatus = WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)A32DrainHandle,
                                                         sizeof(A32_LIST), &Queue, &Data);
        break;
    case WdkmLockKindGuardedMutex:
        A32DrainHandleStatus = WdkmGuardedMutexTryAcquire((PWDKM_GUARDED_MUTEX)A32DrainHandle,
                                                          sizeof(A32_LIST), &Data);
        break;
    case WdkmLockKindResource:
        A32DrainHandleStatus = WdkmResourceTryAcquireExclusive((PWDKM_RESOURCE)A32DrainHandle,
                                                               sizeof(A32_LIST), &Data);
        break;
    default:
        A32DrainHandleStatus = WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)A32DrainHandle,
                                                            sizeof(A32_LIST), &Data);
        break;
    }
    if (A32DrainHandleStatus == STATUS_SUCCESS || Data != NULL) {
        A32DrainHandleStatus = STATUS_SUCCESS;      /* reported below */
    }
}

static VOID
Attack32DrainUsingTheHandleIsRefused(VOID)
{
    ULONG KindIndex;

    for (KindIndex = 0; KindIndex < sizeof(A32Kinds) / sizeof(A32Kinds[0]); KindIndex += 1) {
        ULONG Bugchecks = WdkmHostBugcheckCount();

        A32ResetDrains();
        A32Drains.Records = 1;
        A32DrainHandleKind = A32Kinds[KindIndex];
        A32DrainHandleStatus = STATUS_PENDING;
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtRegisterInPlaceDrained("a32.handle", A32Kinds[KindIndex], sizeof(A32_LIST),
                                                   A32Initialize, NULL, A32DrainUsingHandle, NULL, 0),
                     STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtReference("a32.handle", A32Kinds[KindIndex], sizeof(A32_LIST),
                                      &A32DrainHandle), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister("a32.handle"), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDereference(A32DrainHandle), STATUS_SUCCESS);
        if (A32DrainHandleStatus == STATUS_SUCCESS || A32DrainHandleStatus == STATUS_PENDING) {
            WdkmTestFail(__FILE__, __LINE__, "kind %d: the drain's acquire answered %s",
                         (int)A32Kinds[KindIndex], WdkmStatusName(A32DrainHandleStatus));
            return;
        }
        CHECK_EQ(WdkmHostBugcheckCount(), Bugchecks);
        CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
        CHECK_DRAINS(0);
    }
}

static const WDKM_TEST_CASE Attack32Cases[] = {
    { "masking_matches_model", Attack32MaskingMatchesModel },
    { "other_thread_masked_and_asleep", Attack32OtherThreadMaskedAndAsleep },
    { "random_injection_never_on_dpc_thread", Attack32RandomInjectionNeverOnDpcThread },
    { "stop_waits_and_keeps_queued_events", Attack32StopWaitsAndKeepsQueuedEvents },
    { "ring_holds_thirty_two", Attack32RingHoldsThirtyTwo },
    { "seed_replays_each_threads_choices", Attack32SeedReplaysEachThreadsChoices },
    { "bugchecks_in_events", Attack32BugchecksInEvents },
    { "drained_every_path_every_kind", Attack32DrainedEveryPathEveryKind },
    { "drained_refusals", Attack32DrainedRefusals },
    { "drained_under_pool_failures", Attack32DrainedUnderPoolFailures },
    { "drain_calls_the_library", Attack32DrainCallsTheLibrary },
    { "drained_under_injected_events", Attack32DrainedUnderInjectedEvents },
    { "dpc_drops_last_reference_during_destroy", Attack32DpcDropsLastReferenceDuringDestroy },
    { "destroy_reports_unregistered_referenced", Attack32DestroyReportsUnregisteredReferenced },
    { "drain_using_the_handle_is_refused", Attack32DrainUsingTheHandleIsRefused },
    { "events_queued_to_a_blocked_waiter", Attack32EventsQueuedToABlockedWaiter },
    { "normal_apc_that_blocks", Attack32NormalApcThatBlocks },
    { "fresh_thread_and_count_restart", Attack32FreshThreadAndCountRestart },
    { "environment_starts_injection", Attack32EnvironmentStartsInjection },
    { "timers_and_dpcs", Attack32TimersAndDpcs },
    { "freeing_a_set_timer_or_queued_dpc", Attack32FreeingASetTimerOrQueuedDpc },
    { "events_and_alerts", Attack32EventsAndAlerts },
    { "pool_rules", Attack32PoolRules },
    { "irp_rules", Attack32IrpRules },
    { "mutex_recursion_limit", Attack32MutexRecursionLimit },
    { "delay_fuzzing_and_processors", Attack32DelayFuzzingAndProcessors },
};

/* After each test: a failed one may leave injection on or the registry up. */
static VOID
Attack32Cleanup(VOID)
{
    LARGE_INTEGER Timeout;

    if (getenv("WDKM_HOST_INTERRUPTS") == NULL && WdkmHostInterruptsActive(NULL)) {
        WdkmHostInterruptsStop();
    }
    WdkmHostPoolFailAt(-1);
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(200);
    (VOID)WdkmGrtDestroy(&Timeout, NULL);
    A32Drains.Action = A32DrainNothing;
}

const WDKM_TEST_SUITE WdkmAttack32Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack32", Attack32Cases, Attack32Cleanup);
