/*
 * test_rundown.c - WDKM_RUNDOWN, attacked from docs/reference.md and
 * include/wdkmutex/wdkm_rundown.h (not src/).
 *
 * The promises under test:
 *  R1 an acquisition before the wait began succeeds; every acquisition
 *     after it began answers STATUS_DELETE_PENDING, also after a timeout.
 *  R2 a wait answers STATUS_SUCCESS only once every acquisition is
 *     released, and then nothing touches the object: it may be freed.
 *  R3 a release with nothing out answers STATUS_WDKM_NOT_HELD and changes
 *     nothing (the count never goes negative).
 *  R4 a timed-out wait leaves a state where waiting again works, and a
 *     later cycle (ReInitialize) starts clean: no stale wake-up.
 *  R5 one waiter at a time (STATUS_INVALID_DEVICE_STATE, nothing changes);
 *     a wait after a completed wait answers STATUS_SUCCESS.
 *  R6 every refusal (NULL, IRQL, not initialised, bad count, overflow,
 *     ReInitialize before a completed wait) changes nothing.
 *  R7 all of it from DPCs and APCs on the holders' threads, and against a
 *     seeded model driven by several threads.
 */
#define _DEFAULT_SOURCE 1
#include "wdkm_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole object, byte for byte: a refusal must leave it as it was. */
#define RD_CHECK_UNCHANGED(Rundown, Copy) \
    CHECK(memcmp((const void *)(Rundown), (const void *)(Copy), sizeof(WDKM_RUNDOWN)) == 0)

static LARGE_INTEGER
RdTimeoutMs(ULONG Milliseconds)
{
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Milliseconds);
    return Timeout;
}

/* R1, R2: the plain life of one object. */
static VOID
TestBasic(VOID)
{
    WDKM_RUNDOWN Rundown;

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 3), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 3), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    /* After a completed wait the object is not in use: Initialize starts
       it afresh too (a device restarted, pollread's host test). */
    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
}

/* R3, R6: every refusal, each checked to change nothing. */
static VOID
TestRefusalsChangeNothing(VOID)
{
    WDKM_RUNDOWN Rundown;
    WDKM_RUNDOWN Copy;
    WDKM_RUNDOWN Zeroed;
    LARGE_INTEGER Zero;
    KIRQL Old;

    Zero.QuadPart = 0;
    CHECK_STATUS(WdkmRundownInitialize(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmRundownAcquire(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmRundownRelease(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmRundownWait(NULL, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmRundownReInitialize(NULL), STATUS_INVALID_PARAMETER);

    /* Never initialised (zeroed, as a fresh device extension). */
    memset(&Zeroed, 0, sizeof(Zeroed));
    memset(&Copy, 0, sizeof(Copy));
    CHECK_STATUS(WdkmRundownAcquire(&Zeroed), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_STATUS(WdkmRundownRelease(&Zeroed), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_STATUS(WdkmRundownWait(&Zeroed, &Zero), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_STATUS(WdkmRundownReInitialize(&Zeroed), STATUS_WDKM_NOT_INITIALIZED);
    RD_CHECK_UNCHANGED(&Zeroed, &Copy);

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    memcpy(&Copy, &Rundown, sizeof(Copy));
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    RD_CHECK_UNCHANGED(&Rundown, &Copy);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    RD_CHECK_UNCHANGED(&Rundown, &Copy);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 0), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT + 1), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 0), STATUS_INVALID_PARAMETER);
    RD_CHECK_UNCHANGED(&Rundown, &Copy);

    /* One out: releasing two is refused whole. */
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    memcpy(&Copy, &Rundown, sizeof(Copy));
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 2), STATUS_WDKM_NOT_HELD);
    RD_CHECK_UNCHANGED(&Rundown, &Copy);

    /* The most that may be out, then one more. */
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT - 1), STATUS_SUCCESS);
    memcpy(&Copy, &Rundown, sizeof(Copy));
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_INTEGER_OVERFLOW);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT), STATUS_INTEGER_OVERFLOW);
    RD_CHECK_UNCHANGED(&Rundown, &Copy);
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT), STATUS_SUCCESS);

    /* IRQL: every call above its level, nothing changes, no bugcheck. */
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    memcpy(&Copy, &Rundown, sizeof(Copy));
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    {
        NTSTATUS WaitStatus = WdkmRundownWait(&Rundown, &Zero);
        NTSTATUS WaitStatus2 = WdkmRundownWait(&Rundown, NULL);

        KeLowerIrql(Old);
        CHECK_STATUS(WaitStatus, STATUS_WDKM_IRQL_TOO_HIGH);
        CHECK_STATUS(WaitStatus2, STATUS_WDKM_IRQL_TOO_HIGH);
    }
    RD_CHECK_UNCHANGED(&Rundown, &Copy);
    KeRaiseIrql(HIGH_LEVEL, &Old);
    {
        NTSTATUS Statuses[6];

        Statuses[0] = WdkmRundownAcquire(&Rundown);
        Statuses[1] = WdkmRundownAcquireEx(&Rundown, 2);
        Statuses[2] = WdkmRundownRelease(&Rundown);
        Statuses[3] = WdkmRundownReleaseEx(&Rundown, 1);
        Statuses[4] = WdkmRundownReInitialize(&Rundown);
        Statuses[5] = WdkmRundownInitialize(&Rundown);
        KeLowerIrql(Old);
        for (ULONG Index = 0; Index < 6; Index += 1) {
            CHECK_STATUS(Statuses[Index], STATUS_WDKM_IRQL_TOO_HIGH);
        }
    }
    RD_CHECK_UNCHANGED(&Rundown, &Copy);

    /* A wait under way: acquisitions and ReInitialize refused. */
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_TIMEOUT);
    memcpy(&Copy, &Rundown, sizeof(Copy));
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 2), STATUS_WDKM_NOT_HELD);
    RD_CHECK_UNCHANGED(&Rundown, &Copy);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    /* Done: one release too many is still refused, and changes nothing. */
    memcpy(&Copy, &Rundown, sizeof(Copy));
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    RD_CHECK_UNCHANGED(&Rundown, &Copy);
}

/* R4: timeouts, waiting again, and no stale wake-up in the next cycle. */
static VOID
TestTimeoutThenWaitAgain(VOID)
{
    WDKM_RUNDOWN Rundown;
    LARGE_INTEGER Zero;
    LARGE_INTEGER Short = RdTimeoutMs(20);
    LONGLONG Start;

    Zero.QuadPart = 0;
    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    Start = WdkmTestNowMs();
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Short), STATUS_TIMEOUT);
    CHECK(WdkmTestNowMs() - Start >= 15);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    /* The last release comes while nobody waits: the next wait still
       learns of it. */
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);     /* R5: again */
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);

    /* The next cycle: a wait with one out must time out, not find a
       signal left from the last one. */
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Short), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Short), STATUS_SUCCESS);

    /* A cycle with nothing out completes at once, and the one after it
       still waits for its own holder. */
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_SUCCESS);
}

/* Waits at APC_LEVEL are allowed; under a FAST_MUTEX's IRQL too. */
static VOID
TestWaitAtApcLevel(VOID)
{
    WDKM_RUNDOWN Rundown;
    LARGE_INTEGER Zero;
    NTSTATUS Statuses[3];
    KIRQL Old;

    Zero.QuadPart = 0;
    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    KeRaiseIrql(APC_LEVEL, &Old);
    Statuses[0] = WdkmRundownWait(&Rundown, &Zero);
    Statuses[1] = WdkmRundownRelease(&Rundown);
    Statuses[2] = WdkmRundownWait(&Rundown, NULL);
    KeLowerIrql(Old);
    CHECK_STATUS(Statuses[0], STATUS_TIMEOUT);
    CHECK_STATUS(Statuses[1], STATUS_SUCCESS);
    CHECK_STATUS(Statuses[2], STATUS_SUCCESS);
}

/* R5: a second waiter while one waits. */
typedef struct _RD_WAITER {
    WDKM_RUNDOWN *Rundown;
    LONG volatile Started;
    LONG volatile Returned;
    NTSTATUS Status;
} RD_WAITER;

static VOID
RdWaiterThread(PVOID Context, ULONG Index)
{
    RD_WAITER *Waiter = (RD_WAITER *)Context;

    UNREFERENCED_PARAMETER(Index);
    InterlockedExchange(&Waiter->Started, 1);
    Waiter->Status = WdkmRundownWait(Waiter->Rundown, NULL);
    InterlockedExchange(&Waiter->Returned, 1);
}

static VOID
TestSecondWaiter(VOID)
{
    WDKM_RUNDOWN Rundown;
    RD_WAITER Waiter;
    WDKM_TEST_THREAD *Thread;
    LARGE_INTEGER Zero;
    LARGE_INTEGER Short = RdTimeoutMs(10);
    ULONG Tries;

    Zero.QuadPart = 0;
    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 2), STATUS_SUCCESS);
    memset(&Waiter, 0, sizeof(Waiter));
    Waiter.Rundown = &Rundown;
    Thread = WdkmTestStartThread(RdWaiterThread, &Waiter);
    CHECK(Thread != NULL);
    /* Until the other thread is inside its wait, ours may begin first: it
       then times out, and we try again (the other finds a waiter and is
       refused: its status says which happened). */
    for (Tries = 0; Tries < 500; Tries += 1) {
        NTSTATUS Status;

        if (InterlockedCompareExchange(&Waiter.Returned, 0, 0) != 0) {
            break;
        }
        Status = WdkmRundownWait(&Rundown, &Zero);
        if (Status == STATUS_INVALID_DEVICE_STATE) {
            break;
        }
        CHECK_STATUS(Status, STATUS_TIMEOUT);
        WdkmTestSleepMs(1);
    }
    if (InterlockedCompareExchange(&Waiter.Returned, 0, 0) != 0) {
        /* It was refused because we were waiting: the documented answer. */
        CHECK_STATUS(Waiter.Status, STATUS_INVALID_DEVICE_STATE);
        WdkmTestJoinThread(Thread);
        CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 2), STATUS_SUCCESS);
        CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
        return;
    }
    CHECK(Tries < 500);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Short), STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    WdkmTestSleepMs(5);
    CHECK_EQ(InterlockedCompareExchange(&Waiter.Returned, 0, 0), 0);   /* one is still out */
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Waiter.Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_SUCCESS);
}

/*
 * R2 with the object freed: holders on other threads and a waiter that
 * frees the object the moment its wait succeeds. Under ASan a release that
 * touched the object after the waiter could return is a use after free.
 */
#define RD_FREE_ROUNDS 300
#define RD_FREE_HOLDERS 3

typedef struct _RD_OBJECT {
    WDKM_RUNDOWN Rundown;
    LONG volatile Dead;                 /* set by the waiter after its wait */
} RD_OBJECT;

typedef struct _RD_SHARED {
    RD_OBJECT *Object;                  /* this round's object; NULL once run down */
    LONG volatile InAcquire;            /* holders inside an Acquire call */
    LONG volatile Done;
    LONG volatile Violations;
    LONG volatile Acquired;
} RD_SHARED;

/*
 * The header's rule "not freeing it while a call may still be running on
 * it" covers a refused Acquire racing the free: the test keeps it (a
 * holder counts itself in InAcquire before it reads the object pointer;
 * the waiter clears the pointer, then waits for InAcquire to drain: with
 * sequentially consistent operations one of the two sees the other). A
 * Release is not counted: a release racing the free is what is attacked.
 */
static VOID
RdFreeHolder(PVOID Context, ULONG Index)
{
    RD_SHARED *Shared = (RD_SHARED *)Context;

    UNREFERENCED_PARAMETER(Index);
    while (__atomic_load_n(&Shared->Done, __ATOMIC_SEQ_CST) == 0) {
        RD_OBJECT *Object;
        NTSTATUS Status;

        __atomic_fetch_add(&Shared->InAcquire, 1, __ATOMIC_SEQ_CST);
        Object = __atomic_load_n(&Shared->Object, __ATOMIC_SEQ_CST);
        if (Object == NULL) {
            __atomic_fetch_sub(&Shared->InAcquire, 1, __ATOMIC_SEQ_CST);
            WdkmTestSleepMs(0);
            continue;
        }
        Status = WdkmRundownAcquire(&Object->Rundown);
        __atomic_fetch_sub(&Shared->InAcquire, 1, __ATOMIC_SEQ_CST);
        if (Status == STATUS_DELETE_PENDING) {
            WdkmTestSleepMs(0);
            continue;
        }
        if (Status != STATUS_SUCCESS) {
            InterlockedIncrement(&Shared->Violations);
            continue;
        }
        InterlockedIncrement(&Shared->Acquired);
        if (InterlockedCompareExchange(&Object->Dead, 0, 0) != 0) {
            InterlockedIncrement(&Shared->Violations);
        }
        /* The last one after the wait began wakes the waiter, which frees
           the object at once: the release must not touch it after that. */
        if (WdkmRundownRelease(&Object->Rundown) != STATUS_SUCCESS) {
            InterlockedIncrement(&Shared->Violations);
        }
    }
}

static VOID
TestFreeAfterWait(VOID)
{
    RD_SHARED Shared;
    WDKM_TEST_THREAD *Holders[RD_FREE_HOLDERS];
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_HOST_INTERRUPT_SETTINGS Previous;
    BOOLEAN WasActive;
    LONG Round;
    ULONG Index;

    memset(&Shared, 0, sizeof(Shared));
    /* Stalls and suspensions anywhere in the holders, between a release's
       decrement and its wake-up of the waiter too: that window is where
       a wait that returned early would let the object be freed under it. */
    WasActive = WdkmHostInterruptsActive(&Previous);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 4242;
    Settings.MeanIntervalMicroseconds = 50;
    Settings.DpcWeight = 1;
    Settings.NormalApcWeight = 2;
    Settings.SpecialApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 300;
    WdkmHostInterruptsStart(&Settings);
    for (Index = 0; Index < RD_FREE_HOLDERS; Index += 1) {
        Holders[Index] = WdkmTestStartThread(RdFreeHolder, &Shared);
        CHECK(Holders[Index] != NULL);
    }
    for (Round = 1; Round <= RD_FREE_ROUNDS; Round += 1) {
        RD_OBJECT *Object = (RD_OBJECT *)malloc(sizeof(RD_OBJECT));

        CHECK(Object != NULL);
        memset(Object, 0, sizeof(*Object));
        CHECK_STATUS(WdkmRundownInitialize(&Object->Rundown), STATUS_SUCCESS);
        __atomic_store_n(&Shared.Object, Object, __ATOMIC_SEQ_CST);
        /* Let the holders in for a while (sometimes hardly at all). */
        if (Round % 4 != 0) {
            WdkmTestSleepMs((ULONG)(Round % 4) - 1);
        }
        CHECK_STATUS(WdkmRundownWait(&Object->Rundown, NULL), STATUS_SUCCESS);
        InterlockedExchange(&Object->Dead, 1);
        __atomic_store_n(&Shared.Object, (RD_OBJECT *)NULL, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&Shared.InAcquire, __ATOMIC_SEQ_CST) != 0) {
            WdkmTestSleepMs(0);     /* a refused Acquire still reads the object */
        }
        free(Object);
    }
    __atomic_store_n(&Shared.Done, 1, __ATOMIC_SEQ_CST);
    for (Index = 0; Index < RD_FREE_HOLDERS; Index += 1) {
        WdkmTestJoinThread(Holders[Index]);
    }
    WdkmHostInterruptsStop();
    if (WasActive) {
        WdkmHostInterruptsStart(&Previous);
    }
    CHECK_EQ(Shared.Violations, 0);
    CHECK(Shared.Acquired > RD_FREE_ROUNDS);
}

/* R7: DPCs and APCs on a holder's thread acquire and release. */
typedef struct _RD_INTERRUPT {
    WDKM_RUNDOWN *Rundown;
    NTSTATUS Status;
    KIRQL Irql;
    BOOLEAN Release;
} RD_INTERRUPT;

static VOID
RdInterruptRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    RD_INTERRUPT *Event = (RD_INTERRUPT *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Event->Irql = KeGetCurrentIrql();
    Event->Status = Event->Release ? WdkmRundownRelease(Event->Rundown)
                                   : WdkmRundownAcquire(Event->Rundown);
}

static VOID
TestInterruptsOnHolder(VOID)
{
    WDKM_RUNDOWN Rundown;
    RD_INTERRUPT Event;
    LARGE_INTEGER Zero;
    KIRQL Old;

    Zero.QuadPart = 0;
    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    memset(&Event, 0, sizeof(Event));
    Event.Rundown = &Rundown;

    /* A DPC acquires on our thread; a special APC releases it. */
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, RdInterruptRoutine, &Event);
    CHECK_EQ(Event.Irql, DISPATCH_LEVEL);
    CHECK_STATUS(Event.Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_TIMEOUT);
    /* Once the wait began a DPC's acquisition is refused. */
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, RdInterruptRoutine, &Event);
    CHECK_STATUS(Event.Status, STATUS_DELETE_PENDING);
    Event.Release = TRUE;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, RdInterruptRoutine,
                           &Event);
    CHECK_EQ(Event.Irql, APC_LEVEL);
    CHECK_STATUS(Event.Status, STATUS_SUCCESS);
    /* A release too many from a normal APC: refused. */
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, RdInterruptRoutine,
                           &Event);
    CHECK_STATUS(Event.Status, STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_SUCCESS);

    /* A DPC that arrives while we are at DISPATCH_LEVEL runs when we lower. */
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    Event.Release = TRUE;
    Event.Status = STATUS_UNSUCCESSFUL;
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, RdInterruptRoutine, &Event);
    {
        NTSTATUS Pending = Event.Status;

        KeLowerIrql(Old);
        CHECK_STATUS(Pending, STATUS_UNSUCCESSFUL);
    }
    CHECK_STATUS(Event.Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_SUCCESS);
}

/*
 * R7: the seeded model. Workers acquire, use the object, release (some of
 * their acquisitions are given back by DPCs and APCs injected into them),
 * make refused calls that must change nothing, while one waiter runs the
 * object down with timeouts, checks that nobody uses it after a wait
 * succeeded, and starts the next cycle. The model's state is the count of
 * acquisitions workers hold: after a successful wait it must be zero, and
 * every acquisition after the wait began must be refused.
 */
#define RD_MODEL_WORKERS 4
#define RD_MODEL_CYCLES 15

typedef struct _RD_MODEL {
    WDKM_RUNDOWN Rundown;
    LONG volatile Holders;       /* acquisitions out, as the workers count them */
    LONG volatile Dead;          /* 1 from a successful wait to the ReInitialize */
    LONG volatile Phase;         /* odd from the return of a cycle's first wait
                                    to just before its ReInitialize */
    LONG volatile Stop;
    LONG volatile Violations;
    LONG volatile Acquired;
    LONG volatile Refused;
    LONG volatile InterruptReleases;
    ULONG64 Seed;
} RD_MODEL;

static RD_MODEL RdModel;

/* Per worker: acquisitions an injected event on this thread gives back.
   The worker and the events interrupting it change it with interlocked
   operations, so that an event between a load and a store loses nothing. */
static __thread LONG volatile RdStashed;

/* Takes one stashed acquisition, if any (the only decrement). */
static BOOLEAN
RdTakeStashed(VOID)
{
    LONG Seen = InterlockedCompareExchange(&RdStashed, 0, 0);

    while (Seen > 0) {
        LONG Previous = InterlockedCompareExchange(&RdStashed, Seen - 1, Seen);

        if (Previous == Seen) {
            return TRUE;
        }
        Seen = Previous;
    }
    return FALSE;
}

static VOID
RdViolation(PCSTR What, NTSTATUS Status)
{
    InterlockedIncrement(&RdModel.Violations);
    fprintf(stderr, "rundown model (seed %llu): %s: %s\n", (unsigned long long)RdModel.Seed, What,
            WdkmStatusName(Status));
}

static ULONG64
RdNext(ULONG64 *State)
{
    *State ^= *State << 13;
    *State ^= *State >> 7;
    *State ^= *State << 17;
    return *State;
}

/* One use of the object under an acquisition: it must not be dead. */
static VOID
RdUse(VOID)
{
    if (InterlockedCompareExchange(&RdModel.Dead, 0, 0) != 0) {
        InterlockedIncrement(&RdModel.Violations);
    }
}

static BOOLEAN
RdAcquire(ULONG Count)
{
    LONG Before = InterlockedCompareExchange(&RdModel.Phase, 0, 0);
    NTSTATUS Status = Count == 1 ? WdkmRundownAcquire(&RdModel.Rundown)
                                 : WdkmRundownAcquireEx(&RdModel.Rundown, Count);

    if (Status == STATUS_SUCCESS) {
        /* Odd all along: the wait had begun and no ReInitialize came. */
        if ((Before & 1) != 0 && InterlockedCompareExchange(&RdModel.Phase, 0, 0) == Before) {
            RdViolation("acquired after the wait began", Status);
        }
        InterlockedExchangeAdd(&RdModel.Holders, (LONG)Count);
        InterlockedIncrement(&RdModel.Acquired);
        RdUse();
        return TRUE;
    }
    if (Status != STATUS_DELETE_PENDING) {
        RdViolation("acquire", Status);
    }
    InterlockedIncrement(&RdModel.Refused);
    return FALSE;
}

static VOID
RdRelease(ULONG Count)
{
    NTSTATUS Status;

    RdUse();
    InterlockedExchangeAdd(&RdModel.Holders, -(LONG)Count);
    Status = Count == 1 ? WdkmRundownRelease(&RdModel.Rundown)
                        : WdkmRundownReleaseEx(&RdModel.Rundown, Count);
    if (Status != STATUS_SUCCESS) {
        RdViolation("release of a held acquisition", Status);
    }
}

/* Injected into workers: DPCs and APCs acquire and release on their own,
   and give back an acquisition the worker stashed for them. */
static VOID
RdModelInterrupt(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Context);
    if ((Random & 1) != 0 && RdTakeStashed()) {
        RdRelease(1);
        InterlockedIncrement(&RdModel.InterruptReleases);
        return;
    }
    if (RdAcquire(1)) {
        RdRelease(1);
    }
}

static VOID
RdModelWorker(PVOID Context, ULONG Index)
{
    ULONG64 Random = RdModel.Seed * 0x9E3779B97F4A7C15ULL + Index + 1;
    LONG Held = 0;

    UNREFERENCED_PARAMETER(Context);
    InterlockedExchange(&RdStashed, 0);
    while (InterlockedCompareExchange(&RdModel.Stop, 0, 0) == 0) {
        ULONG64 Choice = RdNext(&Random) % 100;

        if (Choice < 40) {
            ULONG Count = (ULONG)(RdNext(&Random) % 3) + 1;

            if (RdAcquire(Count)) {
                Held += (LONG)Count;
            }
        } else if (Choice < 75) {
            if (Held > 0) {
                ULONG Count = (ULONG)(RdNext(&Random) % (ULONG64)Held) + 1;

                RdRelease(Count);
                Held -= (LONG)Count;
            }
        } else if (Choice < 85) {
            /* Hand one to the next DPC or APC on this thread. */
            if (Held > 0) {
                Held -= 1;
                InterlockedIncrement(&RdStashed);
            }
        } else if (Choice < 95) {
            /* Refusals that must change nothing: ReInitialize while one is
               held (no wait can have completed), a release of more than
               can be out, bad counts. */
            if (Held > 0) {
                NTSTATUS Status = WdkmRundownReInitialize(&RdModel.Rundown);

                if (Status != STATUS_INVALID_DEVICE_STATE) {
                    RdViolation("ReInitialize while held", Status);
                }
            }
            if (WdkmRundownReleaseEx(&RdModel.Rundown, WDKM_RUNDOWN_MAX_COUNT) !=
                STATUS_WDKM_NOT_HELD) {
                RdViolation("release of more than is out", STATUS_SUCCESS);
            }
            if (WdkmRundownAcquireEx(&RdModel.Rundown, 0) != STATUS_INVALID_PARAMETER) {
                RdViolation("AcquireEx(0)", STATUS_SUCCESS);
            }
        } else {
            /* Hold across a moment, so that the waiter meets it. */
            if (Held > 0) {
                WdkmTestSleepMs(0);
            }
        }
        /* Let the waiter finish a cycle: give everything back once it
           began, as a driver's users do when refused. */
        if ((InterlockedCompareExchange(&RdModel.Phase, 0, 0) & 1) != 0 &&
            (RdNext(&Random) % 2) == 0 && Held > 0) {
            RdRelease((ULONG)Held);
            Held = 0;
        }
    }
    if (Held > 0) {
        RdRelease((ULONG)Held);
    }
    /* Stashed acquisitions a DPC never took back: give them back here. */
    while (RdTakeStashed()) {
        RdRelease(1);
    }
}

static VOID
RdModelWaiter(PVOID Context, ULONG Index)
{
    ULONG64 Random = RdModel.Seed + 77;
    LONGLONG Deadline = WdkmTestDeadlineMs(20000);
    LONG Cycle;
    BOOLEAN First;

    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    /* Its cycles, and on until the workers were both granted and refused
       (on a loaded machine they may get no time in the first cycles). */
    for (Cycle = 0;
         Cycle < RD_MODEL_CYCLES ||
         ((InterlockedCompareExchange(&RdModel.Acquired, 0, 0) == 0 ||
           InterlockedCompareExchange(&RdModel.Refused, 0, 0) == 0) &&
          WdkmTestNowMs() < Deadline);
         Cycle += 1) {
        NTSTATUS Status;
        LARGE_INTEGER Timeout;

        WdkmTestSleepMs((ULONG)(RdNext(&Random) % 3));
        First = TRUE;
        do {
            Timeout.QuadPart = -(LONGLONG)(RdNext(&Random) % 20000);    /* 0..2 ms */
            Status = WdkmRundownWait(&RdModel.Rundown, (RdNext(&Random) % 4) == 0 ? NULL
                                                                                 : &Timeout);
            if (First) {
                /* The rundown has begun once a wait returned: from here
                   on every acquisition that starts must be refused. */
                InterlockedIncrement(&RdModel.Phase);    /* odd */
                First = FALSE;
            }
            if (Status != STATUS_SUCCESS && Status != STATUS_TIMEOUT) {
                RdViolation("wait", Status);
                break;
            }
        } while (Status == STATUS_TIMEOUT);
        if (Status == STATUS_SUCCESS) {
            LONG Holders = InterlockedCompareExchange(&RdModel.Holders, 0, 0);

            InterlockedExchange(&RdModel.Dead, 1);
            if (Holders != 0) {
                RdViolation("wait succeeded with acquisitions out", STATUS_SUCCESS);
            }
            if (WdkmRundownWait(&RdModel.Rundown, NULL) != STATUS_SUCCESS) {
                RdViolation("second wait after completion", STATUS_SUCCESS);
            }
            if (WdkmRundownAcquire(&RdModel.Rundown) != STATUS_DELETE_PENDING) {
                RdViolation("acquire after completion", STATUS_SUCCESS);
            }
        }
        WdkmTestSleepMs((ULONG)(RdNext(&Random) % 2));
        InterlockedExchange(&RdModel.Dead, 0);
        /* Even before the ReInitialize, never after: an acquisition that
           read the odd phase and succeeds after the ReInitialize (in a
           worker, or in a DPC on this very thread between the two) must
           find the phase changed. */
        InterlockedIncrement(&RdModel.Phase);    /* even */
        Status = WdkmRundownReInitialize(&RdModel.Rundown);
        if (Status != STATUS_SUCCESS) {
            RdViolation("ReInitialize after completion", Status);
        }
    }
    InterlockedExchange(&RdModel.Stop, 1);
}

static VOID
RdModelThread(PVOID Context, ULONG Index)
{
    if (Index == 0) {
        RdModelWaiter(Context, Index);
    } else {
        RdModelWorker(Context, Index - 1);
    }
}

static VOID
TestSeededModel(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_HOST_INTERRUPT_SETTINGS Previous;
    BOOLEAN WasActive;
    PCSTR SeedText = getenv("WDKM_RUNDOWN_SEED");
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];

    memset(&RdModel, 0, sizeof(RdModel));
    RdModel.Seed = SeedText != NULL ? strtoull(SeedText, NULL, 0) : 20261207;
    CHECK_STATUS(WdkmRundownInitialize(&RdModel.Rundown), STATUS_SUCCESS);
    WasActive = WdkmHostInterruptsActive(&Previous);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = RdModel.Seed;
    Settings.MeanIntervalMicroseconds = 200;
    Settings.DpcWeight = 3;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 2;
    Settings.SuspendMaxMicroseconds = 30;
    Settings.Routine = RdModelInterrupt;
    WdkmHostInterruptsStart(&Settings);
    CHECK(WdkmTestRunThreads(RD_MODEL_WORKERS + 1, RdModelThread, NULL));
    WdkmHostInterruptsStop();
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    if (WasActive) {
        WdkmHostInterruptsStart(&Previous);
    }
    CHECK_EQ(RdModel.Violations, 0);
    CHECK_EQ(RdModel.Holders, 0);
    /* The model really ran both ways. */
    CHECK(RdModel.Acquired > 0);
    CHECK(RdModel.Refused > 0);
    CHECK(Delivered[WdkmHostInterruptDpc] > 0);
    /* Everything given back: one more release is refused, a wait completes. */
    CHECK_STATUS(WdkmRundownRelease(&RdModel.Rundown), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownWait(&RdModel.Rundown, NULL), STATUS_SUCCESS);
}

static const WDKM_TEST_CASE RundownCases[] = {
    { "basic", TestBasic },
    { "refusals-change-nothing", TestRefusalsChangeNothing },
    { "timeout-then-wait-again", TestTimeoutThenWaitAgain },
    { "wait-at-apc-level", TestWaitAtApcLevel },
    { "second-waiter", TestSecondWaiter },
    { "free-after-wait", TestFreeAfterWait },
    { "interrupts-on-holder", TestInterruptsOnHolder },
    { "seeded-model", TestSeededModel },
};

const WDKM_TEST_SUITE WdkmRundownSuite = WDKM_TEST_SUITE_OF("rundown", RundownCases);
