/*
 * test_attack28.c - the host emulation as a product, from its documentation.
 *
 * docs/host-testing.md tells driver authors that port/host checks the
 * kernel's rules with simulated bug checks of the real codes, interrupts
 * threads with DPCs and kernel APCs masked as NT masks them, fails pool on
 * demand and counts it, and has IRPs and the <wdkm_host.h> controls. A
 * driver's test that passes on the host where the real kernel would bug
 * check (or behaves otherwise) ships a crash. Every expectation here comes
 * from that page, the emulation's headers (wdm.h, wdkm_host.h,
 * wdkm_host_io.h) and Microsoft's documentation of the real routine or bug
 * check (cited at the test); none from the emulation's sources.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <unistd.h>

#include "wdkm_test.h"

#define A28_TAG 0x41383261u            /* 'a28A' */
#define A28_OTHER_TAG 0x41383278u

/* Runs Statement under a trap: Caught is TRUE when it bug checked. */
#define A28_TRAP(TrapPointer, Statement, Caught)   \
    do {                                           \
        if (WDKM_HOST_TRY(TrapPointer)) {          \
            Statement;                             \
            WdkmHostDisarm(TrapPointer);           \
            (Caught) = FALSE;                      \
        } else {                                   \
            (Caught) = TRUE;                       \
        }                                          \
    } while (0)

static LONG A28Load(LONG volatile *Value)
{
    return __atomic_load_n(Value, __ATOMIC_SEQ_CST);
}

static VOID A28Store(LONG volatile *Value, LONG New)
{
    __atomic_store_n(Value, New, __ATOMIC_SEQ_CST);
}

/* Waits (at any IRQL: no emulated wait) until *Value == Expected, up to 5 s. */
static BOOLEAN A28WaitFor(LONG volatile *Value, LONG Expected)
{
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);

    while (A28Load(Value) != Expected) {
        if (WdkmTestNowMs() > Deadline) {
            return FALSE;
        }
        sched_yield();
    }
    return TRUE;
}

/* A small seeded generator (xorshift64*), so a failure replays. */
static ULONG64 A28Random(ULONG64 *State)
{
    *State ^= *State >> 12;
    *State ^= *State << 25;
    *State ^= *State >> 27;
    return *State * 0x2545F4914F6CDD1DULL;
}

/* ---------------------------------------------------------------------- */
/* Bug-check records for events (a trap never catches one: the handler)    */
/* ---------------------------------------------------------------------- */

static LONG volatile A28HandlerCalls;
static WDKM_HOST_BUGCHECK A28HandlerLast;

static VOID A28Handler(const WDKM_HOST_BUGCHECK *Bugcheck, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    A28HandlerLast = *Bugcheck;
    __atomic_add_fetch(&A28HandlerCalls, 1, __ATOMIC_SEQ_CST);
}

/* ---------------------------------------------------------------------- */
/* A thread that holds something until told to let go                     */
/* ---------------------------------------------------------------------- */

typedef enum _A28_HOLD_KIND {
    A28HoldKMutex,
    A28HoldSpinLock,
    A28HoldResourceExclusive,
    A28HoldFastMutex
} A28_HOLD_KIND;

typedef struct _A28_HOLDER {
    A28_HOLD_KIND Kind;
    PVOID Object;
    LONG volatile Phase;        /* 1: holds it; 2: let it go; 3: let go */
} A28_HOLDER;

static VOID A28Hold(PVOID Context, ULONG Index)
{
    A28_HOLDER *Holder = (A28_HOLDER *)Context;
    KIRQL OldIrql = PASSIVE_LEVEL;

    UNREFERENCED_PARAMETER(Index);
    switch (Holder->Kind) {
    case A28HoldKMutex:
        (VOID)KeWaitForSingleObject(Holder->Object, Executive, KernelMode, FALSE, NULL);
        break;
    case A28HoldSpinLock:
        KeAcquireSpinLock((PKSPIN_LOCK)Holder->Object, &OldIrql);
        break;
    case A28HoldResourceExclusive:
        KeEnterCriticalRegion();
        (VOID)ExAcquireResourceExclusiveLite((PERESOURCE)Holder->Object, TRUE);
        break;
    case A28HoldFastMutex:
        ExAcquireFastMutex((PFAST_MUTEX)Holder->Object);
        break;
    }
    A28Store(&Holder->Phase, 1);
    (VOID)A28WaitFor(&Holder->Phase, 2);
    switch (Holder->Kind) {
    case A28HoldKMutex:
        (VOID)KeReleaseMutex((PKMUTEX)Holder->Object, FALSE);
        break;
    case A28HoldSpinLock:
        KeReleaseSpinLock((PKSPIN_LOCK)Holder->Object, OldIrql);
        break;
    case A28HoldResourceExclusive:
        ExReleaseResourceLite((PERESOURCE)Holder->Object);
        KeLeaveCriticalRegion();
        break;
    case A28HoldFastMutex:
        ExReleaseFastMutex((PFAST_MUTEX)Holder->Object);
        break;
    }
    A28Store(&Holder->Phase, 3);
}

static WDKM_TEST_THREAD *A28StartHolder(A28_HOLDER *Holder, A28_HOLD_KIND Kind, PVOID Object)
{
    WDKM_TEST_THREAD *Thread;

    Holder->Kind = Kind;
    Holder->Object = Object;
    Holder->Phase = 0;
    Thread = WdkmTestStartThread(A28Hold, Holder);
    if (Thread != NULL && !A28WaitFor(&Holder->Phase, 1)) {
        WdkmTestFail(__FILE__, __LINE__, "the holder never took the lock");
    }
    return Thread;
}

static VOID A28StopHolder(A28_HOLDER *Holder, WDKM_TEST_THREAD *Thread)
{
    A28Store(&Holder->Phase, 2);
    WdkmTestJoinThread(Thread);
}

/* ====================================================================== */
/* 1. Kernel rules: the real code, the real parameters, nothing changed    */
/* ====================================================================== */

/* KeReleaseMutex by a thread that does not own it: THREAD_NOT_MUTEX_OWNER
   (0x11, Microsoft's bug check reference), on a mutex another thread owns
   and on a free one; neither mutex changes. */
static VOID TestKMutexReleaseNotOwner(VOID)
{
    KMUTEX Mutex;
    A28_HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    LARGE_INTEGER Zero;
    BOOLEAN Caught;

    Zero.QuadPart = 0;
    KeInitializeMutex(&Mutex, 0);
    A28_TRAP(&Trap, (VOID)KeReleaseMutex(&Mutex, FALSE), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, THREAD_NOT_MUTEX_OWNER);
    CHECK_EQ(KeReadStateMutex(&Mutex), 1);             /* still free, not "2" */
    CHECK_EQ(WdkmHostThreadKMutexCount(), 0);

    Thread = A28StartHolder(&Holder, A28HoldKMutex, &Mutex);
    CHECK(Thread != NULL);
    A28_TRAP(&Trap, (VOID)KeReleaseMutex(&Mutex, FALSE), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, THREAD_NOT_MUTEX_OWNER);
    CHECK_EQ(KeReadStateMutex(&Mutex), 0);             /* the holder still owns it */
    CHECK_STATUS(KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, &Zero),
                 STATUS_TIMEOUT);
    A28StopHolder(&Holder, Thread);
    CHECK_EQ(KeReadStateMutex(&Mutex), 1);
    CHECK_STATUS(KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, &Zero),
                 STATUS_SUCCESS);
    CHECK_EQ(KeReleaseMutex(&Mutex, FALSE), 0);
}

/* Out of line: KfRaiseIrql's local next to a trap draws -Wclobbered. */
__attribute__((noinline)) static VOID A28RaiseTo(KIRQL NewIrql)
{
    KIRQL Old;

    KeRaiseIrql(NewIrql, &Old);
    UNREFERENCED_PARAMETER(Old);
}

/* KeRaiseIrql to a lower IRQL is a bug check (Microsoft: "If the new IRQL
   is less than the current IRQL, a bug check occurs"), and KeLowerIrql to
   a higher one is a fatal error; the emulation reports them as 0x09 and
   0x0A with P2 = current, P3 = requested (wdkm_host.h), IRQL untouched. */
static VOID TestIrqlRaiseLowerRules(VOID)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KIRQL Old;
    BOOLEAN Caught;

    KeRaiseIrql(APC_LEVEL, &Old);
    A28_TRAP(&Trap, KeLowerIrql(DISPATCH_LEVEL), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, IRQL_NOT_LESS_OR_EQUAL);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], APC_LEVEL);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], DISPATCH_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);

    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    A28_TRAP(&Trap, A28RaiseTo(APC_LEVEL), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, IRQL_NOT_GREATER_OR_EQUAL);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], DISPATCH_LEVEL);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], APC_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);
}

/* KeWaitForSingleObject: <= DISPATCH_LEVEL, and <= APC_LEVEL unless the
   timeout is zero (Microsoft's KeWaitForSingleObject remarks). A refused
   wait neither consumes an event nor acquires a mutex. */
static VOID TestWaitIrqlRules(VOID)
{
    KEVENT Event;
    KMUTEX Mutex;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    LARGE_INTEGER Zero;
    LARGE_INTEGER Short;
    KIRQL Old;
    BOOLEAN Caught;

    Zero.QuadPart = 0;
    Short.QuadPart = -10000;                            /* 1 ms */
    KeInitializeEvent(&Event, SynchronizationEvent, FALSE);
    KeInitializeMutex(&Mutex, 0);

    /* Legal at DISPATCH_LEVEL: a poll. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    CHECK_STATUS(KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Zero),
                 STATUS_TIMEOUT);
    (VOID)KeSetEvent(&Event, 0, FALSE);
    CHECK_STATUS(KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Zero),
                 STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&Event), 0);              /* a synchronization event resets */

    /* Illegal: a timed or infinite wait at DISPATCH_LEVEL. */
    (VOID)KeSetEvent(&Event, 0, FALSE);
    A28_TRAP(&Trap, (VOID)KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Short),
             Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, IRQL_NOT_LESS_OR_EQUAL);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], DISPATCH_LEVEL);
    CHECK_EQ(KeReadStateEvent(&Event), 1);              /* not consumed */
    A28_TRAP(&Trap, (VOID)KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL),
             Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, IRQL_NOT_LESS_OR_EQUAL);
    CHECK_EQ(KeReadStateMutex(&Mutex), 1);              /* not acquired */
    CHECK_EQ(WdkmHostThreadKMutexCount(), 0);
    A28_TRAP(&Trap, (VOID)KeDelayExecutionThread(KernelMode, FALSE, &Short), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, IRQL_NOT_LESS_OR_EQUAL);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);

    /* Above DISPATCH_LEVEL not even a poll is allowed. */
    KeRaiseIrql(HIGH_LEVEL, &Old);
    A28_TRAP(&Trap, (VOID)KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Zero),
             Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, IRQL_NOT_LESS_OR_EQUAL);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], HIGH_LEVEL);
    CHECK_EQ(KeReadStateEvent(&Event), 1);
    CHECK_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);

    /* Legal at APC_LEVEL: a timed wait. */
    KeRaiseIrql(APC_LEVEL, &Old);
    KeClearEvent(&Event);
    CHECK_STATUS(KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Short),
                 STATUS_TIMEOUT);
    KeLowerIrql(PASSIVE_LEVEL);
}

/* Spin locks: acquired at <= DISPATCH_LEVEL (at DISPATCH_LEVEL for the
   AtDpcLevel forms), not recursively (SPIN_LOCK_ALREADY_OWNED), released
   by the owner (SPIN_LOCK_NOT_OWNED); a refused call changes neither the
   lock nor the IRQL. */
static VOID TestSpinLockRules(VOID)
{
    KSPIN_LOCK Lock;
    KSPIN_LOCK Other;
    KLOCK_QUEUE_HANDLE Handle;
    A28_HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KIRQL Old;
    KIRQL Ignored;
    BOOLEAN Caught;

    KeInitializeSpinLock(&Lock);
    KeInitializeSpinLock(&Other);

    A28RaiseTo(HIGH_LEVEL);
    A28_TRAP(&Trap, KeAcquireSpinLock(&Lock, &Ignored), Caught);
    CHECK(Caught);
    CHECK(Trap.Bugcheck.Code == IRQL_NOT_LESS_OR_EQUAL ||
          Trap.Bugcheck.Code == IRQL_NOT_GREATER_OR_EQUAL);
    CHECK_EQ(Lock, 0);
    CHECK_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    A28_TRAP(&Trap, KeAcquireInStackQueuedSpinLock(&Lock, &Handle), Caught);
    CHECK(Caught);
    CHECK_EQ(Lock, 0);
    CHECK_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);

    A28_TRAP(&Trap, KeAcquireSpinLockAtDpcLevel(&Lock), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, IRQL_NOT_GREATER_OR_EQUAL);
    CHECK_EQ(Lock, 0);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);

    KeAcquireSpinLock(&Lock, &Old);
    A28_TRAP(&Trap, KeAcquireSpinLockAtDpcLevel(&Lock), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, SPIN_LOCK_ALREADY_OWNED);
    CHECK(!KeTryToAcquireSpinLockAtDpcLevel(&Lock));   /* held, also by the caller */
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 1);
    A28_TRAP(&Trap, KeReleaseSpinLockFromDpcLevel(&Other), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, SPIN_LOCK_NOT_OWNED);
    A28_TRAP(&Trap, KeReleaseSpinLock(&Other, PASSIVE_LEVEL), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, SPIN_LOCK_NOT_OWNED);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);      /* not lowered by the refused release */
    KeReleaseSpinLock(&Lock, Old);
    CHECK_EQ(Lock, 0);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    Thread = A28StartHolder(&Holder, A28HoldSpinLock, &Lock);
    CHECK(Thread != NULL);
    A28RaiseTo(DISPATCH_LEVEL);
    A28_TRAP(&Trap, KeReleaseSpinLockFromDpcLevel(&Lock), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, SPIN_LOCK_NOT_OWNED);
    CHECK(Lock != 0);                                    /* still the holder's */
    CHECK(!KeTryToAcquireSpinLockAtDpcLevel(&Lock));
    KeLowerIrql(PASSIVE_LEVEL);
    A28StopHolder(&Holder, Thread);
    CHECK_EQ(Lock, 0);
}

/* FAST_MUTEX and guarded mutex: not recursive, released by the owner, at
   the right IRQL; the DV parameters of wdkm_host.h (P2 lock, P3 thread,
   P4 owner); a refused call leaves the owner, IRQL and region as they were. */
static VOID TestFastAndGuardedMutexRules(VOID)
{
    FAST_MUTEX Fast;
    KGUARDED_MUTEX Guarded;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KIRQL Old;
    BOOLEAN Caught;

    ExInitializeFastMutex(&Fast);
    KeInitializeGuardedMutex(&Guarded);

    ExAcquireFastMutex(&Fast);
    A28_TRAP(&Trap, ExAcquireFastMutex(&Fast), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], WDKM_HOST_VIOLATION_FAST_MUTEX_RECURSION);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], (ULONG_PTR)&Fast);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], (ULONG_PTR)KeGetCurrentThread());
    CHECK_EQ(Trap.Bugcheck.Parameter[3], (ULONG_PTR)KeGetCurrentThread());
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 1);
    ExReleaseFastMutex(&Fast);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);

    KeRaiseIrql(APC_LEVEL, &Old);
    A28_TRAP(&Trap, ExReleaseFastMutex(&Fast), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], WDKM_HOST_VIOLATION_FAST_MUTEX_NOT_OWNER);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);

    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    A28_TRAP(&Trap, ExAcquireFastMutex(&Fast), Caught);
    CHECK(Caught);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK(ExTryToAcquireFastMutex(&Fast));              /* it stayed free */
    ExReleaseFastMutex(&Fast);

    /* Unsafe: APC_LEVEL, or a critical or guarded region (wdm.h). */
    A28_TRAP(&Trap, ExAcquireFastMutexUnsafe(&Fast), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], WDKM_HOST_VIOLATION_UNSAFE_APCS_ENABLED);
    CHECK(ExTryToAcquireFastMutex(&Fast));
    ExReleaseFastMutex(&Fast);

    KeAcquireGuardedMutex(&Guarded);
    A28_TRAP(&Trap, KeAcquireGuardedMutex(&Guarded), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], WDKM_HOST_VIOLATION_GUARDED_MUTEX_RECURSION);
    CHECK(KeAreAllApcsDisabled());
    KeReleaseGuardedMutex(&Guarded);
    CHECK(!KeAreAllApcsDisabled());                     /* one guarded region, left once */
    A28_TRAP(&Trap, KeReleaseGuardedMutex(&Guarded), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], WDKM_HOST_VIOLATION_GUARDED_MUTEX_NOT_OWNER);
    CHECK(!KeAreAllApcsDisabled());
    CHECK(KeTryToAcquireGuardedMutex(&Guarded));
    KeReleaseGuardedMutex(&Guarded);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
}

/* ERESOURCE: acquired with normal kernel APCs disabled (DV 0x37), released
   by an owner (RESOURCE_NOT_OWNED, P1 = the resource, P2 = the releasing
   ERESOURCE_THREAD); a refused release leaves the owner owning it. */
static VOID TestResourceRules(VOID)
{
    ERESOURCE Resource;
    A28_HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    BOOLEAN Caught;

    CHECK_STATUS(ExInitializeResourceLite(&Resource), STATUS_SUCCESS);
    A28_TRAP(&Trap, (VOID)ExAcquireResourceExclusiveLite(&Resource, TRUE), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], WDKM_HOST_VIOLATION_RESOURCE_APCS_ENABLED);
    CHECK_EQ(Trap.Bugcheck.Parameter[3], (ULONG_PTR)&Resource);
    CHECK_EQ(ExIsResourceAcquiredSharedLite(&Resource), 0);

    KeEnterCriticalRegion();
    A28_TRAP(&Trap, ExReleaseResourceLite(&Resource), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, RESOURCE_NOT_OWNED);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], (ULONG_PTR)&Resource);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], ExGetCurrentResourceThread());
    KeLeaveCriticalRegion();

    Thread = A28StartHolder(&Holder, A28HoldResourceExclusive, &Resource);
    CHECK(Thread != NULL);
    KeEnterCriticalRegion();
    A28_TRAP(&Trap, ExReleaseResourceLite(&Resource), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, RESOURCE_NOT_OWNED);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], ExGetCurrentResourceThread());
    CHECK(!ExAcquireResourceSharedLite(&Resource, FALSE));     /* still exclusive */
    KeLeaveCriticalRegion();
    A28StopHolder(&Holder, Thread);
    KeEnterCriticalRegion();
    CHECK(ExAcquireResourceSharedLite(&Resource, FALSE));
    ExReleaseResourceLite(&Resource);
    KeLeaveCriticalRegion();
    CHECK_STATUS(ExDeleteResourceLite(&Resource), STATUS_SUCCESS);
}

/* Leaving a region not entered: APC_INDEX_MISMATCH, and the thread's
   regions stay what they were (wdm.h). */
static VOID TestRegionRules(VOID)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    BOOLEAN Caught;

    A28_TRAP(&Trap, KeLeaveCriticalRegion(), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, APC_INDEX_MISMATCH);
    CHECK(!KeAreApcsDisabled());
    KeEnterCriticalRegion();
    CHECK(KeAreApcsDisabled());
    KeLeaveCriticalRegion();
    CHECK(!KeAreApcsDisabled());                        /* the count was not skewed */

    A28_TRAP(&Trap, KeLeaveGuardedRegion(), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, APC_INDEX_MISMATCH);
    CHECK(!KeAreAllApcsDisabled());

    KeEnterCriticalRegion();
    A28_TRAP(&Trap, KeLeaveGuardedRegion(), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, APC_INDEX_MISMATCH);
    CHECK(KeAreApcsDisabled());
    CHECK(!KeAreAllApcsDisabled());
    KeLeaveCriticalRegion();
    CHECK(!KeAreApcsDisabled());

    KeEnterGuardedRegion();
    A28_TRAP(&Trap, KeLeaveCriticalRegion(), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, APC_INDEX_MISMATCH);
    CHECK(KeAreAllApcsDisabled());
    KeLeaveGuardedRegion();
    CHECK(!KeAreAllApcsDisabled());
    CHECK(!KeAreApcsDisabled());
}

/* BAD_POOL_CALLER with Microsoft's parameters (bug check 0xC2 reference):
   0x0A address / allocator's tag / tag used; 0x07 .. / address of the
   block; 0x08 IRQL / pool type / size; 0x09 IRQL / pool type / address;
   0x42 address, 0, 0. The block stays live after a refused free. */
static VOID TestPoolRulesAndParameters(VOID)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    PVOID Block;
    PVOID Paged;
    ULONG OnStack = 0;
    KIRQL Old;
    BOOLEAN Caught;

    Block = ExAllocatePoolWithTag(NonPagedPoolNx, 40, A28_TAG);
    CHECK(Block != NULL);
    A28_TRAP(&Trap, ExFreePoolWithTag(Block, A28_OTHER_TAG), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, BAD_POOL_CALLER);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], 0x0A);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], (ULONG_PTR)Block);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], A28_TAG);
    CHECK_EQ(Trap.Bugcheck.Parameter[3], A28_OTHER_TAG);
    CHECK_EQ(WdkmHostPoolOutstanding(A28_TAG, NULL), 1);

    KeRaiseIrql(HIGH_LEVEL, &Old);
    A28_TRAP(&Trap, ExFreePoolWithTag(Block, A28_TAG), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], 0x09);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], HIGH_LEVEL);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], NonPagedPoolNx);
    CHECK_EQ(Trap.Bugcheck.Parameter[3], (ULONG_PTR)Block);
    A28_TRAP(&Trap, (VOID)ExAllocatePoolWithTag(NonPagedPoolNx, 24, A28_TAG), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], 0x08);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], HIGH_LEVEL);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], NonPagedPoolNx);
    CHECK_EQ(Trap.Bugcheck.Parameter[3], 24);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostPoolOutstanding(A28_TAG, NULL), 1);

    ExFreePoolWithTag(Block, A28_TAG);
    CHECK_EQ(WdkmHostPoolOutstanding(A28_TAG, NULL), 0);
    A28_TRAP(&Trap, ExFreePoolWithTag(Block, A28_TAG), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, BAD_POOL_CALLER);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], 0x07);
    CHECK_EQ(Trap.Bugcheck.Parameter[3], (ULONG_PTR)Block);

    A28_TRAP(&Trap, ExFreePoolWithTag(&OnStack, A28_TAG), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, BAD_POOL_CALLER);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], 0x42);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], (ULONG_PTR)&OnStack);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], 0);
    CHECK_EQ(Trap.Bugcheck.Parameter[3], 0);

    /* Paged pool: <= APC_LEVEL for both ends (ExFreePoolWithTag remarks). */
    Paged = ExAllocatePoolWithTag(PagedPool, 16, A28_TAG);
    CHECK(Paged != NULL);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    A28_TRAP(&Trap, ExFreePoolWithTag(Paged, A28_TAG), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], 0x09);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], DISPATCH_LEVEL);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], PagedPool);
    A28_TRAP(&Trap, (VOID)ExAllocatePoolWithTag(PagedPool, 16, A28_TAG), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], 0x08);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], PagedPool);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostPoolOutstanding(A28_TAG, NULL), 1);
    ExFreePoolWithTag(Paged, A28_TAG);

    /* Zero bytes: 0x00, P3 = the pool type, P4 = the tag. */
    A28_TRAP(&Trap, (VOID)ExAllocatePoolWithTag(NonPagedPoolNx, 0, A28_TAG), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, BAD_POOL_CALLER);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], 0x00);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], NonPagedPoolNx);
    CHECK_EQ(Trap.Bugcheck.Parameter[3], A28_TAG);
    CHECK_EQ(WdkmHostPoolOutstanding(A28_TAG, NULL), 0);
}

/* IRPs (wdkm_host_io.h): a second completion is MULTIPLE_IRP_COMPLETE_
   REQUESTS (P1 = the IRP), a completion with a cancel routine set is
   CANCEL_STATE_IN_COMPLETED_IRP (P1 = the IRP, P2 = the routine), and
   neither completes anything. IoCancelIrp calls the routine at
   DISPATCH_LEVEL holding the cancel spin lock, cancel routine cleared,
   Cancel set and the IRQL to restore in CancelIrql. */
static LONG volatile A28HookCalls;
static KIRQL A28CancelSawIrql;
static KIRQL A28CancelSawCancelIrql;
static BOOLEAN A28CancelSawCancel;
static BOOLEAN A28CancelSawRoutine;
static ULONG A28CancelSawHeld;

static VOID A28CompletionHook(PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(Context);
    A28HookCalls += 1;
}

static VOID A28CancelRoutine(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    A28CancelSawIrql = KeGetCurrentIrql();
    A28CancelSawCancelIrql = Irp->CancelIrql;
    A28CancelSawCancel = Irp->Cancel;
    A28CancelSawRoutine = Irp->CancelRoutine != NULL;
    A28CancelSawHeld = WdkmHostThreadHeldLockCount();
    IoReleaseCancelSpinLock(Irp->CancelIrql);
}

static VOID TestIrpRules(VOID)
{
    PIRP Irp;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KIRQL Old;
    BOOLEAN Caught;

    A28HookCalls = 0;
    Irp = WdkmHostIrpAllocate(IRP_MJ_DEVICE_CONTROL, 0x222000, NULL);
    CHECK(Irp != NULL);
    WdkmHostIrpSetCompletionHook(Irp, A28CompletionHook, NULL);
    IoMarkIrpPending(Irp);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    CHECK_EQ(A28HookCalls, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    CHECK(Irp->PendingReturned);
    A28_TRAP(&Trap, IoCompleteRequest(Irp, IO_NO_INCREMENT), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, MULTIPLE_IRP_COMPLETE_REQUESTS);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], (ULONG_PTR)Irp);
    CHECK_EQ(A28HookCalls, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    WdkmHostIrpFree(Irp);

    A28HookCalls = 0;
    Irp = WdkmHostIrpAllocate(IRP_MJ_READ, 0, NULL);
    CHECK(Irp != NULL);
    WdkmHostIrpSetCompletionHook(Irp, A28CompletionHook, NULL);
    (VOID)IoSetCancelRoutine(Irp, A28CancelRoutine);
    A28_TRAP(&Trap, IoCompleteRequest(Irp, IO_NO_INCREMENT), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, CANCEL_STATE_IN_COMPLETED_IRP);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], (ULONG_PTR)Irp);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], (ULONG_PTR)A28CancelRoutine);
    CHECK_EQ(A28HookCalls, 0);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 0);
    CHECK(Irp->CancelRoutine == A28CancelRoutine);

    /* Cancel it from APC_LEVEL: the routine restores APC_LEVEL. */
    KeRaiseIrql(APC_LEVEL, &Old);
    CHECK(IoCancelIrp(Irp));
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_EQ(A28CancelSawIrql, DISPATCH_LEVEL);
    CHECK_EQ(A28CancelSawCancelIrql, APC_LEVEL);
    CHECK(A28CancelSawCancel);
    CHECK(!A28CancelSawRoutine);
    CHECK_EQ(A28CancelSawHeld, 1);                      /* the cancel spin lock */
    CHECK(!IoCancelIrp(Irp));                           /* no routine any more */
    Irp->IoStatus.Status = STATUS_CANCELLED;
    KeRaiseIrql(HIGH_LEVEL, &Old);
    A28_TRAP(&Trap, IoCompleteRequest(Irp, IO_NO_INCREMENT), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, IRQL_NOT_LESS_OR_EQUAL);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 0);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    CHECK_EQ(A28HookCalls, 1);
    CHECK(!Irp->PendingReturned);
    WdkmHostIrpFree(Irp);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
}

/* ====================================================================== */
/* 2. KMUTEX recursion limit, abandonment; waits, timeouts and alerts      */
/* ====================================================================== */

/* WdkmHostSetMutexRecursionLimit(N): N acquisitions, the next one
   KMODE_EXCEPTION_NOT_HANDLED (P1 = STATUS_MUTANT_LIMIT_EXCEEDED, P2 = the
   mutex) with the depth unchanged; KeReleaseMutex returns the previous
   state. Seeded depths. */
static VOID TestKMutexRecursionLimit(VOID)
{
    KMUTEX Mutex;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    static ULONG64 Seed;
    ULONG Round;
    BOOLEAN Caught;

    Seed = 0x28A28A28ULL;

    KeInitializeMutex(&Mutex, 0);
    for (Round = 0; Round < 6; Round += 1) {
        LONG Limit = (LONG)(A28Random(&Seed) % 40) + 1;
        LONG Depth;

        WdkmHostSetMutexRecursionLimit(Limit);
        for (Depth = 1; Depth <= Limit; Depth += 1) {
            CHECK_STATUS(KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL),
                         STATUS_SUCCESS);
            CHECK_EQ(KeReadStateMutex(&Mutex), 1 - Depth);
        }
        A28_TRAP(&Trap, (VOID)KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL),
                 Caught);
        CHECK(Caught);
        CHECK_EQ(Trap.Bugcheck.Code, KMODE_EXCEPTION_NOT_HANDLED);
        CHECK_EQ(Trap.Bugcheck.Parameter[0], (ULONG_PTR)STATUS_MUTANT_LIMIT_EXCEEDED);
        CHECK_EQ(Trap.Bugcheck.Parameter[1], (ULONG_PTR)&Mutex);
        CHECK_EQ(KeReadStateMutex(&Mutex), 1 - Limit);
        CHECK_EQ(WdkmHostThreadKMutexCount(), 1);
        for (Depth = Limit; Depth >= 1; Depth -= 1) {
            CHECK_EQ(KeReleaseMutex(&Mutex, FALSE), 1 - Depth);
        }
        CHECK_EQ(KeReadStateMutex(&Mutex), 1);
        CHECK_EQ(WdkmHostThreadKMutexCount(), 0);
    }
    WdkmHostSetMutexRecursionLimit(0);
}

/* A system thread whose bug check a handler returns from ends there, its
   KMUTEXes abandoned (wdkm_host.h): the next waiter gets STATUS_ABANDONED
   and owns it once (however deep the dead owner was), the one after gets
   STATUS_SUCCESS. */
typedef struct _A28_ABANDON {
    KMUTEX Mutex;
    KMUTEX Unowned;
} A28_ABANDON;

static VOID A28AbandonRoutine(PVOID Context, ULONG Index)
{
    A28_ABANDON *Abandon = (A28_ABANDON *)Context;

    UNREFERENCED_PARAMETER(Index);
    (VOID)KeWaitForSingleObject(&Abandon->Mutex, Executive, KernelMode, FALSE, NULL);
    (VOID)KeWaitForSingleObject(&Abandon->Mutex, Executive, KernelMode, FALSE, NULL);
    (VOID)KeWaitForSingleObject(&Abandon->Mutex, Executive, KernelMode, FALSE, NULL);
    (VOID)KeReleaseMutex(&Abandon->Unowned, FALSE);     /* the bug: ends the thread */
    (VOID)KeReleaseMutex(&Abandon->Mutex, FALSE);       /* never reached */
}

static VOID TestKMutexAbandonedByBugcheckedThread(VOID)
{
    A28_ABANDON Abandon;
    WDKM_TEST_THREAD *Thread;
    LARGE_INTEGER Second;

    Second.QuadPart = -10000000LL;
    KeInitializeMutex(&Abandon.Mutex, 0);
    KeInitializeMutex(&Abandon.Unowned, 0);
    A28HandlerCalls = 0;
    WdkmHostSetBugcheckHandler(A28Handler, NULL);
    Thread = WdkmTestStartThread(A28AbandonRoutine, &Abandon);
    CHECK(Thread != NULL);
    WdkmTestJoinThread(Thread);
    WdkmHostSetBugcheckHandler(NULL, NULL);
    CHECK_EQ(A28HandlerCalls, 1);
    CHECK_EQ(A28HandlerLast.Code, THREAD_NOT_MUTEX_OWNER);

    CHECK_STATUS(KeWaitForSingleObject(&Abandon.Mutex, Executive, KernelMode, FALSE, &Second),
                 STATUS_ABANDONED);
    CHECK_EQ(KeReadStateMutex(&Abandon.Mutex), 0);      /* owned once, by us */
    CHECK_EQ(WdkmHostThreadKMutexCount(), 1);
    CHECK_EQ(KeReleaseMutex(&Abandon.Mutex, FALSE), 0);
    CHECK_EQ(KeReadStateMutex(&Abandon.Mutex), 1);
    CHECK_STATUS(KeWaitForSingleObject(&Abandon.Mutex, Executive, KernelMode, FALSE, &Second),
                 STATUS_SUCCESS);
    CHECK_EQ(KeReleaseMutex(&Abandon.Mutex, FALSE), 0);
}

/* Timeouts: relative waits last at least their interval; zero and past
   absolute times poll. Alerts: only an alertable wait ends with
   STATUS_ALERTED, a non-alertable one leaves the alert pending; a user APC
   ends only an alertable UserMode wait (wdkm_host.h, and Microsoft's
   KeWaitForSingleObject return values). */
static VOID TestWaitTimeoutsAndAlerts(VOID)
{
    KEVENT Event;
    LARGE_INTEGER Timeout;
    LARGE_INTEGER Now;
    LONGLONG Before;
    LONGLONG Elapsed;

    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    Timeout.QuadPart = -30 * 10000LL;                   /* 30 ms */
    Before = WdkmTestNowMs();
    CHECK_STATUS(KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Timeout),
                 STATUS_TIMEOUT);
    Elapsed = WdkmTestNowMs() - Before;
    CHECK(Elapsed >= 29);
    CHECK(Elapsed < 2000);

    KeQuerySystemTime(&Now);
    Timeout.QuadPart = Now.QuadPart - 10000000LL;       /* a second ago, absolute */
    Before = WdkmTestNowMs();
    CHECK_STATUS(KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Timeout),
                 STATUS_TIMEOUT);
    CHECK(WdkmTestNowMs() - Before < 20);
    KeQuerySystemTime(&Now);
    Timeout.QuadPart = Now.QuadPart + 30 * 10000LL;     /* 30 ms from now, absolute */
    Before = WdkmTestNowMs();
    CHECK_STATUS(KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Timeout),
                 STATUS_TIMEOUT);
    CHECK(WdkmTestNowMs() - Before >= 29);

    Timeout.QuadPart = -5 * 10000LL;
    WdkmHostAlertThread(KeGetCurrentThread());
    CHECK_STATUS(KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Timeout),
                 STATUS_TIMEOUT);                      /* not alertable: still pending */
    CHECK_STATUS(KeWaitForSingleObject(&Event, Executive, KernelMode, TRUE, &Timeout),
                 STATUS_ALERTED);
    CHECK_STATUS(KeWaitForSingleObject(&Event, Executive, KernelMode, TRUE, &Timeout),
                 STATUS_TIMEOUT);                      /* consumed */
    CHECK_STATUS(KeDelayExecutionThread(KernelMode, TRUE, &Timeout), STATUS_SUCCESS);

    WdkmHostQueueUserApc(KeGetCurrentThread());
    CHECK_STATUS(KeWaitForSingleObject(&Event, Executive, KernelMode, TRUE, &Timeout),
                 STATUS_TIMEOUT);
    CHECK_STATUS(KeWaitForSingleObject(&Event, UserRequest, UserMode, FALSE, &Timeout),
                 STATUS_TIMEOUT);
    CHECK_STATUS(KeWaitForSingleObject(&Event, UserRequest, UserMode, TRUE, &Timeout),
                 STATUS_USER_APC);
    CHECK_STATUS(KeWaitForSingleObject(&Event, UserRequest, UserMode, TRUE, &Timeout),
                 STATUS_TIMEOUT);
}

/* Another thread's alert ends a wait already in progress. */
typedef struct _A28_ALERTED {
    KEVENT Never;
    LONG volatile Waiting;
    NTSTATUS Status;
} A28_ALERTED;

static VOID A28AlertableWaiter(PVOID Context, ULONG Index)
{
    A28_ALERTED *Alerted = (A28_ALERTED *)Context;
    LARGE_INTEGER Timeout;

    UNREFERENCED_PARAMETER(Index);
    Timeout.QuadPart = -5 * 10000000LL;
    A28Store(&Alerted->Waiting, 1);
    Alerted->Status = KeWaitForSingleObject(&Alerted->Never, Executive, KernelMode, TRUE,
                                            &Timeout);
}

static VOID TestAlertEndsWaitInProgress(VOID)
{
    A28_ALERTED Alerted;
    WDKM_TEST_THREAD *Thread;
    LONGLONG Before;

    KeInitializeEvent(&Alerted.Never, NotificationEvent, FALSE);
    Alerted.Waiting = 0;
    Alerted.Status = STATUS_PENDING;
    Thread = WdkmTestStartThread(A28AlertableWaiter, &Alerted);
    CHECK(Thread != NULL);
    CHECK(A28WaitFor(&Alerted.Waiting, 1));
    WdkmTestSleepMs(20);
    Before = WdkmTestNowMs();
    WdkmHostAlertThread(WdkmTestThreadObject(Thread));
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Alerted.Status, STATUS_ALERTED);
    CHECK(WdkmTestNowMs() - Before < 2000);
}

/* ====================================================================== */
/* 3. Injected DPCs and kernel APCs                                        */
/* ====================================================================== */

typedef struct _A28_SEEN {
    LONG volatile Runs;
    PKTHREAD Thread;
    KIRQL Irql;
    BOOLEAN InInterrupt;
    LOGICAL ExecutingDpc;
    ULONG Processor;
    NTSTATUS WaitStatus;
    LONG Order;
} A28_SEEN;

static LONG volatile A28OrderCounter;

static VOID A28Record(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A28_SEEN *Seen = (A28_SEEN *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Seen->Thread = KeGetCurrentThread();
    Seen->Irql = KeGetCurrentIrql();
    Seen->InInterrupt = WdkmHostInInterrupt();
    Seen->ExecutingDpc = KeIsExecutingDpc();
    Seen->Processor = KeGetCurrentProcessorNumberEx(NULL);
    Seen->Order = __atomic_add_fetch(&A28OrderCounter, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&Seen->Runs, 1, __ATOMIC_SEQ_CST);
}

static VOID A28ResetSeen(A28_SEEN *Seen)
{
    RtlZeroMemory(Seen, sizeof(*Seen));
    Seen->Irql = 0xFF;
}

/* A DPC queued to the running thread runs before the call returns, at
   DISPATCH_LEVEL, as that thread (KeGetCurrentThread), inside a DPC
   (KeIsExecutingDpc: "TRUE inside a DPC routine"), on the processor the
   thread is on; the thread's IRQL comes back. A special APC runs at
   APC_LEVEL, a normal one at PASSIVE_LEVEL, neither "executing a DPC". */
static VOID TestInjectedEventIdentityOnSelf(VOID)
{
    A28_SEEN Seen;
    KIRQL Old;

    WdkmHostSetCurrentProcessor(77);
    A28ResetSeen(&Seen);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 1);
    CHECK(Seen.Thread == KeGetCurrentThread());
    CHECK_EQ(Seen.Irql, DISPATCH_LEVEL);
    CHECK(Seen.InInterrupt);
    CHECK_EQ(Seen.Processor, 77);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(!WdkmHostInInterrupt());

    KeRaiseIrql(APC_LEVEL, &Old);                       /* a DPC is not masked here */
    A28ResetSeen(&Seen);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 1);
    CHECK_EQ(Seen.Irql, DISPATCH_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);

    A28ResetSeen(&Seen);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 1);
    CHECK_EQ(Seen.Irql, APC_LEVEL);
    CHECK(Seen.Thread == KeGetCurrentThread());
    CHECK(!Seen.ExecutingDpc);
    A28ResetSeen(&Seen);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 1);
    CHECK_EQ(Seen.Irql, PASSIVE_LEVEL);
    CHECK(!Seen.ExecutingDpc);
    WdkmHostSetCurrentProcessor(-1);
}

/* KeIsExecutingDpc inside an injected DPC: the DPC is a DPC to the kernel. */
static VOID TestInjectedDpcIsExecutingDpc(VOID)
{
    A28_SEEN Seen;

    A28ResetSeen(&Seen);
    CHECK(!KeIsExecutingDpc());
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 1);
    CHECK(Seen.ExecutingDpc);
    CHECK(!KeIsExecutingDpc());
}

/* The same on another thread, interrupted while it spins: the DPC is that
   thread, and it may take (recursively) the KMUTEX that thread owns with a
   zero timeout, as on NT. */
typedef struct _A28_SPINNER {
    KMUTEX Mutex;
    LONG volatile Phase;        /* 1: spinning with the mutex; 2: stop */
    PKTHREAD Self;
} A28_SPINNER;

static VOID A28Spinner(PVOID Context, ULONG Index)
{
    A28_SPINNER *Spinner = (A28_SPINNER *)Context;

    UNREFERENCED_PARAMETER(Index);
    Spinner->Self = KeGetCurrentThread();
    WdkmHostSetCurrentProcessor(5);
    (VOID)KeWaitForSingleObject(&Spinner->Mutex, Executive, KernelMode, FALSE, NULL);
    A28Store(&Spinner->Phase, 1);
    while (A28Load(&Spinner->Phase) == 1) {
        YieldProcessor();
    }
    (VOID)KeReleaseMutex(&Spinner->Mutex, FALSE);
    WdkmHostSetCurrentProcessor(-1);
}

static VOID A28DpcTakesOwnersMutex(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A28_SPINNER *Spinner = (A28_SPINNER *)Context;
    LARGE_INTEGER Zero;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Zero.QuadPart = 0;
    if (KeGetCurrentThread() == Spinner->Self && KeGetCurrentIrql() == DISPATCH_LEVEL &&
        KeGetCurrentProcessorNumberEx(NULL) == 5 &&
        KeWaitForSingleObject(&Spinner->Mutex, Executive, KernelMode, FALSE, &Zero) ==
            STATUS_SUCCESS) {
        if (KeReadStateMutex(&Spinner->Mutex) == -1) {
            A28Store(&Spinner->Phase, 3);               /* all as NT: report it */
        }
        (VOID)KeReleaseMutex(&Spinner->Mutex, FALSE);
    }
}

static VOID TestInjectedDpcOnOtherThreadIsThatThread(VOID)
{
    A28_SPINNER Spinner;
    WDKM_TEST_THREAD *Thread;

    KeInitializeMutex(&Spinner.Mutex, 0);
    Spinner.Phase = 0;
    Spinner.Self = NULL;
    Thread = WdkmTestStartThread(A28Spinner, &Spinner);
    CHECK(Thread != NULL);
    CHECK(A28WaitFor(&Spinner.Phase, 1));
    WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread), WdkmHostInterruptDpc,
                           A28DpcTakesOwnersMutex, &Spinner);
    if (!A28WaitFor(&Spinner.Phase, 3)) {
        A28Store(&Spinner.Phase, 2);
        WdkmTestJoinThread(Thread);
        CHECK(!"the DPC did not run as the owner thread");
    }
    A28Store(&Spinner.Phase, 2);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(KeReadStateMutex(&Spinner.Mutex), 1);
}

/* Masking: a DPC waits while the IRQL is DISPATCH_LEVEL or above (a spin
   lock held), whatever the regions, and runs in the KeLowerIrql (or
   release) that unmasks it; lowering from HIGH_LEVEL to DISPATCH_LEVEL
   does not. */
static VOID TestDpcMaskedAtDispatchDeliveredOnLower(VOID)
{
    A28_SEEN Seen;
    KSPIN_LOCK Lock;
    KLOCK_QUEUE_HANDLE Handle;
    KIRQL Old;

    KeInitializeSpinLock(&Lock);
    A28ResetSeen(&Seen);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 0);
    KeLowerIrql(Old);
    CHECK_EQ(Seen.Runs, 1);
    CHECK_EQ(Seen.Irql, DISPATCH_LEVEL);

    A28ResetSeen(&Seen);
    KeRaiseIrql(HIGH_LEVEL, &Old);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A28Record, &Seen);
    KeLowerIrql(DISPATCH_LEVEL);
    CHECK_EQ(Seen.Runs, 0);
    KeLowerIrql(APC_LEVEL);
    CHECK_EQ(Seen.Runs, 1);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);

    A28ResetSeen(&Seen);
    KeAcquireSpinLock(&Lock, &Old);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 0);
    KeReleaseSpinLock(&Lock, Old);
    CHECK_EQ(Seen.Runs, 1);

    A28ResetSeen(&Seen);
    KeAcquireInStackQueuedSpinLock(&Lock, &Handle);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 0);
    KeReleaseInStackQueuedSpinLock(&Handle);
    CHECK_EQ(Seen.Runs, 1);

    /* Regions mask no DPC. */
    A28ResetSeen(&Seen);
    KeEnterGuardedRegion();
    KeEnterCriticalRegion();
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 1);
    KeLeaveCriticalRegion();
    KeLeaveGuardedRegion();
}

/* Lowering from DISPATCH_LEVEL to PASSIVE_LEVEL with a special APC and a
   DPC pending: NT services the higher software interrupt first, so the DPC
   runs before the APC even when the APC was queued first; lowering to
   APC_LEVEL runs only the DPC. */
static VOID TestPendingDpcRunsBeforePendingApc(VOID)
{
    A28_SEEN Dpc;
    A28_SEEN Apc;
    KIRQL Old;

    A28ResetSeen(&Dpc);
    A28ResetSeen(&Apc);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A28Record, &Apc);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A28Record, &Dpc);
    CHECK_EQ(Dpc.Runs + Apc.Runs, 0);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_EQ(Dpc.Runs, 1);
    CHECK_EQ(Apc.Runs, 1);
    CHECK(Dpc.Order < Apc.Order);

    A28ResetSeen(&Dpc);
    A28ResetSeen(&Apc);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, A28Record, &Apc);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A28Record, &Dpc);
    KeLowerIrql(APC_LEVEL);
    CHECK_EQ(Dpc.Runs, 1);
    CHECK_EQ(Apc.Runs, 0);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_EQ(Apc.Runs, 1);
    CHECK_EQ(Apc.Irql, PASSIVE_LEVEL);
}

/* Special kernel APCs: masked at APC_LEVEL (FAST_MUTEX) and in a guarded
   region (guarded mutex), NOT in a critical region; delivered at the
   unmasking call. */
static VOID TestSpecialApcMasking(VOID)
{
    A28_SEEN Seen;
    FAST_MUTEX Fast;
    KGUARDED_MUTEX Guarded;
    ERESOURCE Resource;

    ExInitializeFastMutex(&Fast);
    KeInitializeGuardedMutex(&Guarded);
    CHECK_STATUS(ExInitializeResourceLite(&Resource), STATUS_SUCCESS);

    A28ResetSeen(&Seen);
    ExAcquireFastMutex(&Fast);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 0);
    ExReleaseFastMutex(&Fast);
    CHECK_EQ(Seen.Runs, 1);
    CHECK_EQ(Seen.Irql, APC_LEVEL);

    A28ResetSeen(&Seen);
    KeAcquireGuardedMutex(&Guarded);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 0);
    KeReleaseGuardedMutex(&Guarded);
    CHECK_EQ(Seen.Runs, 1);

    A28ResetSeen(&Seen);
    KeEnterGuardedRegion();
    KeEnterGuardedRegion();
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A28Record, &Seen);
    KeLeaveGuardedRegion();
    CHECK_EQ(Seen.Runs, 0);                             /* still one level in */
    KeLeaveGuardedRegion();
    CHECK_EQ(Seen.Runs, 1);

    /* Critical regions (ERESOURCE) hold back only normal APCs. */
    A28ResetSeen(&Seen);
    KeEnterCriticalRegion();
    CHECK(ExAcquireResourceExclusiveLite(&Resource, TRUE));
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 1);
    CHECK_EQ(Seen.Irql, APC_LEVEL);
    ExReleaseResourceLite(&Resource);
    KeLeaveCriticalRegion();

    /* ExAcquireFastMutexUnsafe in a critical region keeps PASSIVE_LEVEL:
       a special APC still runs. */
    A28ResetSeen(&Seen);
    KeEnterCriticalRegion();
    ExAcquireFastMutexUnsafe(&Fast);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 1);
    ExReleaseFastMutexUnsafe(&Fast);
    KeLeaveCriticalRegion();
    CHECK_STATUS(ExDeleteResourceLite(&Resource), STATUS_SUCCESS);
}

/* Normal kernel APCs: masked in a critical region (nested: until the
   outermost leave), while owning a KMUTEX (until the last release of a
   recursive one), at APC_LEVEL, and inside another normal APC. */
static A28_SEEN A28Inner;
static A28_SEEN A28InnerSpecial;
static LONG A28InnerRunsInside;
static LONG A28InnerSpecialRunsInside;

static VOID A28NormalQueuesMore(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, A28Record,
                           &A28Inner);
    A28InnerRunsInside = A28Load(&A28Inner.Runs);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A28Record,
                           &A28InnerSpecial);
    A28InnerSpecialRunsInside = A28Load(&A28InnerSpecial.Runs);
}

static VOID TestNormalApcMasking(VOID)
{
    A28_SEEN Seen;
    KMUTEX Mutex;
    KIRQL Old;

    KeInitializeMutex(&Mutex, 0);

    A28ResetSeen(&Seen);
    KeEnterCriticalRegion();
    KeEnterCriticalRegion();
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, A28Record, &Seen);
    KeLeaveCriticalRegion();
    CHECK_EQ(Seen.Runs, 0);
    KeLeaveCriticalRegion();
    CHECK_EQ(Seen.Runs, 1);
    CHECK_EQ(Seen.Irql, PASSIVE_LEVEL);

    A28ResetSeen(&Seen);
    CHECK_STATUS(KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL),
                 STATUS_SUCCESS);
    CHECK_STATUS(KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL),
                 STATUS_SUCCESS);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, A28Record, &Seen);
    CHECK_EQ(Seen.Runs, 0);
    (VOID)KeReleaseMutex(&Mutex, FALSE);
    CHECK_EQ(Seen.Runs, 0);                             /* still owned */
    (VOID)KeReleaseMutex(&Mutex, FALSE);
    CHECK_EQ(Seen.Runs, 1);

    /* Leaving the critical region at APC_LEVEL does not unmask it yet. */
    A28ResetSeen(&Seen);
    KeEnterCriticalRegion();
    KeRaiseIrql(APC_LEVEL, &Old);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, A28Record, &Seen);
    KeLeaveCriticalRegion();
    CHECK_EQ(Seen.Runs, 0);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_EQ(Seen.Runs, 1);

    /* A normal APC queued from a normal APC waits for it to return; a
       special one interrupts it. */
    A28ResetSeen(&A28Inner);
    A28ResetSeen(&A28InnerSpecial);
    A28InnerRunsInside = -1;
    A28InnerSpecialRunsInside = -1;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc,
                           A28NormalQueuesMore, NULL);
    CHECK_EQ(A28InnerRunsInside, 0);
    CHECK_EQ(A28InnerSpecialRunsInside, 1);
    CHECK_EQ(A28Inner.Runs, 1);
}

/* What NT checks after an event (wdkm_host.h): a DPC that returns below
   DISPATCH_LEVEL is IRQL_NOT_GREATER_OR_EQUAL with P4 = the routine; a DPC
   making a timed wait bug checks as a DPC; a special APC returning at
   another IRQL is IRQL_UNEXPECTED_VALUE; a normal APC leaving a critical
   region entered is APC_INDEX_MISMATCH. The interrupted code's trap does
   not catch them, the handler does, and the thread gets its IRQL and
   regions back. */
static VOID A28DpcLowers(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    KeLowerIrql(PASSIVE_LEVEL);
}

static VOID A28DpcWaits(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    LARGE_INTEGER Timeout;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Timeout.QuadPart = -10000;
    (VOID)KeWaitForSingleObject(Context, Executive, KernelMode, FALSE, &Timeout);
}

static VOID A28ApcRaises(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    KIRQL Old;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
}

static VOID A28ApcStaysCritical(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    KeEnterCriticalRegion();
}

static VOID A28QueueAndRecord(WDKM_HOST_INTERRUPT Kind, WDKM_HOST_INTERRUPT_ROUTINE *Routine,
                              PVOID Context, WDKM_HOST_BUGCHECK *Seen, LONG *Calls,
                              KIRQL *IrqlAfter, BOOLEAN *ApcsDisabledAfter)
{
    LONG Before = A28Load(&A28HandlerCalls);

    RtlZeroMemory(&A28HandlerLast, sizeof(A28HandlerLast));
    WdkmHostQueueInterrupt(KeGetCurrentThread(), Kind, Routine, Context);
    *Calls = A28Load(&A28HandlerCalls) - Before;
    *Seen = A28HandlerLast;
    *IrqlAfter = KeGetCurrentIrql();
    *ApcsDisabledAfter = KeAreApcsDisabled();
}

static VOID TestEventRuleViolations(VOID)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KEVENT Event;
    WDKM_HOST_BUGCHECK Seen[4];
    LONG Calls[4];
    KIRQL IrqlAfter[4];
    BOOLEAN ApcsDisabledAfter[4];
    volatile BOOLEAN Caught = FALSE;
    ULONG Index;

    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    RtlZeroMemory(Seen, sizeof(Seen));
    RtlZeroMemory(Calls, sizeof(Calls));
    WdkmHostSetBugcheckHandler(A28Handler, NULL);
    if (WDKM_HOST_TRY(&Trap)) {
        A28QueueAndRecord(WdkmHostInterruptDpc, A28DpcLowers, NULL, &Seen[0], &Calls[0],
                          &IrqlAfter[0], &ApcsDisabledAfter[0]);
        A28QueueAndRecord(WdkmHostInterruptDpc, A28DpcWaits, &Event, &Seen[1], &Calls[1],
                          &IrqlAfter[1], &ApcsDisabledAfter[1]);
        A28QueueAndRecord(WdkmHostInterruptSpecialApc, A28ApcRaises, NULL, &Seen[2],
                          &Calls[2], &IrqlAfter[2], &ApcsDisabledAfter[2]);
        A28QueueAndRecord(WdkmHostInterruptNormalApc, A28ApcStaysCritical, NULL, &Seen[3],
                          &Calls[3], &IrqlAfter[3], &ApcsDisabledAfter[3]);
        WdkmHostDisarm(&Trap);
    } else {
        Caught = TRUE;
    }
    WdkmHostSetBugcheckHandler(NULL, NULL);
    CHECK(!Caught);
    for (Index = 0; Index < 4; Index += 1) {
        CHECK_EQ(Calls[Index], 1);
        CHECK_EQ(IrqlAfter[Index], PASSIVE_LEVEL);
        CHECK(!ApcsDisabledAfter[Index]);
    }
    CHECK_EQ(Seen[0].Code, IRQL_NOT_GREATER_OR_EQUAL);
    CHECK_EQ(Seen[0].Parameter[3], (ULONG_PTR)A28DpcLowers);
    CHECK_EQ(Seen[1].Code, IRQL_NOT_LESS_OR_EQUAL);
    CHECK_EQ(Seen[2].Code, IRQL_UNEXPECTED_VALUE);
    CHECK_EQ(Seen[3].Code, APC_INDEX_MISMATCH);
}

/* Random injection: on every thread, every event is that thread
   (KeGetCurrentThread), runs at its kind's IRQL, sees the processor the
   thread was moved to, and never lands where NT masks it: no DPC while the
   thread holds a spin lock, no special APC while it holds a FAST_MUTEX or
   is in a guarded region, no normal APC in a critical region. */
typedef struct _A28_RANDOM {
    LONG volatile Stop;
    LONG volatile Violations;
    LONG volatile Events;
} A28_RANDOM;

static _Thread_local PKTHREAD A28Self;
static _Thread_local ULONG A28SelfProcessor;
static _Thread_local LONG volatile A28InSpinLock;
static _Thread_local LONG volatile A28InFastMutex;
static _Thread_local LONG volatile A28InGuarded;
static _Thread_local LONG volatile A28InCritical;

static VOID A28RandomRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A28_RANDOM *State = (A28_RANDOM *)Context;
    BOOLEAN Bad = FALSE;

    UNREFERENCED_PARAMETER(Random);
    if (A28Self == NULL) {
        return;                                 /* not one of this test's threads */
    }
    __atomic_add_fetch(&State->Events, 1, __ATOMIC_SEQ_CST);
    if (KeGetCurrentThread() != A28Self || KeGetCurrentProcessorNumberEx(NULL) != A28SelfProcessor) {
        Bad = TRUE;
    }
    switch (Kind) {
    case WdkmHostInterruptDpc:
        Bad |= KeGetCurrentIrql() != DISPATCH_LEVEL || A28InSpinLock != 0;
        break;
    case WdkmHostInterruptSpecialApc:
        Bad |= KeGetCurrentIrql() != APC_LEVEL || A28InSpinLock != 0 || A28InFastMutex != 0 ||
               A28InGuarded != 0;
        break;
    case WdkmHostInterruptNormalApc:
        Bad |= KeGetCurrentIrql() != PASSIVE_LEVEL || A28InSpinLock != 0 ||
               A28InFastMutex != 0 || A28InGuarded != 0 || A28InCritical != 0;
        break;
    }
    if (Bad) {
        __atomic_add_fetch(&State->Violations, 1, __ATOMIC_SEQ_CST);
    }
}

typedef struct _A28_RANDOM_WORK {
    A28_RANDOM *State;
    KSPIN_LOCK Lock;
    FAST_MUTEX Fast;
    KGUARDED_MUTEX Guarded;
} A28_RANDOM_WORK;

static VOID A28RandomWorker(PVOID Context, ULONG Index)
{
    A28_RANDOM_WORK *Work = (A28_RANDOM_WORK *)Context;
    ULONG64 Seed = 0xA28 + Index;
    KIRQL Old;

    A28SelfProcessor = 40 + Index;
    WdkmHostSetCurrentProcessor((LONG)A28SelfProcessor);
    A28Self = KeGetCurrentThread();
    while (A28Load(&Work->State->Stop) == 0) {
        ULONG Spin = (ULONG)(A28Random(&Seed) % 200);
        ULONG Count;

        switch (A28Random(&Seed) % 4) {
        case 0:
            KeAcquireSpinLock(&Work->Lock, &Old);
            A28InSpinLock = 1;
            for (Count = 0; Count < Spin; Count += 1) {
                YieldProcessor();
            }
            A28InSpinLock = 0;
            KeReleaseSpinLock(&Work->Lock, Old);
            break;
        case 1:
            ExAcquireFastMutex(&Work->Fast);
            A28InFastMutex = 1;
            for (Count = 0; Count < Spin; Count += 1) {
                YieldProcessor();
            }
            A28InFastMutex = 0;
            ExReleaseFastMutex(&Work->Fast);
            break;
        case 2:
            KeEnterCriticalRegion();
            A28InCritical = 1;
            for (Count = 0; Count < Spin; Count += 1) {
                YieldProcessor();
            }
            A28InCritical = 0;
            KeLeaveCriticalRegion();
            break;
        default:
            KeAcquireGuardedMutex(&Work->Guarded);
            A28InGuarded = 1;
            for (Count = 0; Count < Spin; Count += 1) {
                YieldProcessor();
            }
            A28InGuarded = 0;
            KeReleaseGuardedMutex(&Work->Guarded);
            break;
        }
    }
    A28Self = NULL;
    WdkmHostSetCurrentProcessor(-1);
}

static VOID TestRandomInjectionRespectsMasking(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    A28_RANDOM State;
    A28_RANDOM_WORK Work;
    WDKM_TEST_THREAD *Threads[2];
    ULONG Index;

    if (WdkmHostInterruptsActive(NULL)) {
        return;                                 /* the environment's injection owns the counts */
    }
    RtlZeroMemory(&State, sizeof(State));
    Work.State = &State;
    KeInitializeSpinLock(&Work.Lock);
    ExInitializeFastMutex(&Work.Fast);
    KeInitializeGuardedMutex(&Work.Guarded);
    RtlZeroMemory(&Settings, sizeof(Settings));
    Settings.Seed = 28;
    Settings.MeanIntervalMicroseconds = 200;
    Settings.DpcWeight = 1;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 50;
    Settings.Routine = A28RandomRoutine;
    Settings.Context = &State;
    WdkmHostInterruptsStart(&Settings);
    for (Index = 0; Index < 2; Index += 1) {
        Threads[Index] = WdkmTestStartThread(A28RandomWorker, &Work);
    }
    WdkmTestSleepMs(300);
    A28Store(&State.Stop, 1);
    for (Index = 0; Index < 2; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    WdkmHostInterruptsStop();
    CHECK(Threads[0] != NULL && Threads[1] != NULL);
    CHECK_EQ(State.Violations, 0);
    CHECK(State.Events > 0);
}

/* ====================================================================== */
/* 4. Pool controls                                                        */
/* ====================================================================== */

/* WdkmHostPoolFailAt(N): exactly the Nth attempt from now (0: the next)
   fails, once, whatever the allocator; attempts and injected failures are
   counted. Seeded N. */
static VOID TestPoolFailAtCountsExactly(VOID)
{
    ULONG64 Seed = 0x5EED28ULL;
    ULONG Round;

    for (Round = 0; Round < 12; Round += 1) {
        LONG FailAt = (LONG)(A28Random(&Seed) % 9);
        LONG Attempts = FailAt + 4;
        PVOID Blocks[16];
        ULONG64 AttemptsBefore = WdkmHostPoolAllocations();
        ULONG InjectedBefore = WdkmHostPoolInjectedFailures();
        LONG Index;
        LONG Failed = -1;

        WdkmHostPoolFailAt(FailAt);
        for (Index = 0; Index < Attempts; Index += 1) {
            if (A28Random(&Seed) & 1) {
                Blocks[Index] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8 + Index, A28_TAG);
            } else {
                Blocks[Index] = ExAllocatePoolWithTag(NonPagedPoolNx, 8 + Index, A28_TAG);
            }
            if (Blocks[Index] == NULL) {
                CHECK_EQ(Failed, -1);
                Failed = Index;
            }
        }
        WdkmHostPoolFailAt(-1);
        for (Index = 0; Index < Attempts; Index += 1) {
            if (Blocks[Index] != NULL) {
                ExFreePoolWithTag(Blocks[Index], A28_TAG);
            }
        }
        CHECK_EQ(Failed, FailAt);
        CHECK_EQ(WdkmHostPoolAllocations() - AttemptsBefore, (ULONG64)Attempts);
        CHECK_EQ(WdkmHostPoolInjectedFailures() - InjectedBefore, 1);
        CHECK_EQ(WdkmHostPoolOutstanding(A28_TAG, NULL), 0);
    }

    /* -1 disables an armed failure; a second call replaces the first. */
    WdkmHostPoolFailAt(0);
    WdkmHostPoolFailAt(-1);
    {
        PVOID Block = ExAllocatePoolWithTag(NonPagedPoolNx, 8, A28_TAG);
        CHECK(Block != NULL);
        ExFreePoolWithTag(Block, A28_TAG);
    }
    WdkmHostPoolFailAt(0);
    WdkmHostPoolFailAt(1);
    {
        PVOID First = ExAllocatePoolWithTag(NonPagedPoolNx, 8, A28_TAG);
        PVOID Second = ExAllocatePoolWithTag(NonPagedPoolNx, 8, A28_TAG);
        WdkmHostPoolFailAt(-1);
        if (First != NULL) {
            ExFreePoolWithTag(First, A28_TAG);
        }
        if (Second != NULL) {
            ExFreePoolWithTag(Second, A28_TAG);
        }
        CHECK(First != NULL);
        CHECK(Second == NULL);
    }
}

/* Under threads: one armed failure fails exactly one allocation among all
   the threads' attempts; the per-tag counts and bytes are exact. */
#define A28_POOL_THREADS 4
#define A28_POOL_BLOCKS 64

typedef struct _A28_POOL_WORK {
    PVOID Blocks[A28_POOL_THREADS][A28_POOL_BLOCKS];
    SIZE_T Bytes[A28_POOL_THREADS];
    LONG volatile Nulls;
} A28_POOL_WORK;

static ULONG A28ThreadTag(ULONG Index)
{
    return 0x41306132u + Index;
}

static VOID A28PoolWorker(PVOID Context, ULONG Index)
{
    A28_POOL_WORK *Work = (A28_POOL_WORK *)Context;
    ULONG64 Seed = 0x9000 + Index;
    ULONG Block;

    for (Block = 0; Block < A28_POOL_BLOCKS; Block += 1) {
        SIZE_T Size = (SIZE_T)(A28Random(&Seed) % 300) + 1;
        PVOID Memory = ExAllocatePoolWithTag(NonPagedPoolNx, Size, A28ThreadTag(Index));

        Work->Blocks[Index][Block] = Memory;
        if (Memory == NULL) {
            __atomic_add_fetch(&Work->Nulls, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        if (Block % 2 == 1) {                   /* every other block freed at once */
            ExFreePoolWithTag(Memory, A28ThreadTag(Index));
            Work->Blocks[Index][Block] = NULL;
        } else {
            Work->Bytes[Index] += Size;
        }
    }
}

static VOID TestPoolAccountingUnderThreads(VOID)
{
    static A28_POOL_WORK Work;
    ULONG Index;
    ULONG Block;
    SIZE_T Bytes;
    ULONG Live;

    RtlZeroMemory(&Work, sizeof(Work));
    WdkmHostPoolFailAt(100);
    CHECK(WdkmTestRunThreads(A28_POOL_THREADS, A28PoolWorker, &Work));
    WdkmHostPoolFailAt(-1);
    CHECK_EQ(Work.Nulls, 1);
    for (Index = 0; Index < A28_POOL_THREADS; Index += 1) {
        ULONG Expected = 0;

        for (Block = 0; Block < A28_POOL_BLOCKS; Block += 1) {
            Expected += Work.Blocks[Index][Block] != NULL;
        }
        Live = WdkmHostPoolOutstanding(A28ThreadTag(Index), &Bytes);
        CHECK_EQ(Live, Expected);
        CHECK_EQ(Bytes, Work.Bytes[Index]);
    }
    for (Index = 0; Index < A28_POOL_THREADS; Index += 1) {
        for (Block = 0; Block < A28_POOL_BLOCKS; Block += 1) {
            if (Work.Blocks[Index][Block] != NULL) {
                ExFreePoolWithTag(Work.Blocks[Index][Block], A28ThreadTag(Index));
            }
        }
        CHECK_EQ(WdkmHostPoolOutstanding(A28ThreadTag(Index), &Bytes), 0);
        CHECK_EQ(Bytes, 0);
    }
}

/* ====================================================================== */
/* 5. Processors and held locks                                            */
/* ====================================================================== */

typedef struct _A28_PROCESSOR_PEEK {
    ULONG Seen;
    ULONG Count;
} A28_PROCESSOR_PEEK;

static VOID A28PeekProcessor(PVOID Context, ULONG Index)
{
    A28_PROCESSOR_PEEK *Peek = (A28_PROCESSOR_PEEK *)Context;

    UNREFERENCED_PARAMETER(Index);
    Peek->Seen = KeGetCurrentProcessorNumberEx(NULL);
}

/* WdkmHostSetCurrentProcessor(N): this thread reports N (Number N, group
   0) until -1, other threads are not moved, -1 reports a real CPU. */
static VOID TestSetCurrentProcessor(VOID)
{
    PROCESSOR_NUMBER Number;
    A28_PROCESSOR_PEEK Peek;
    long Cpus = sysconf(_SC_NPROCESSORS_CONF);
    ULONG Processor;

    CHECK(Cpus > 0 && Cpus < 200);
    for (Processor = 0; Processor < 256; Processor += 51) {
        WdkmHostSetCurrentProcessor((LONG)Processor);
        RtlZeroMemory(&Number, sizeof(Number));
        Number.Reserved = 0x5A;
        CHECK_EQ(KeGetCurrentProcessorNumberEx(&Number), Processor);
        CHECK_EQ(Number.Number, Processor);
        CHECK_EQ(Number.Group, 0);
    }
    WdkmHostSetCurrentProcessor(250);
    Peek.Seen = 1000;
    CHECK(WdkmTestRunThreads(1, A28PeekProcessor, &Peek));
    CHECK(Peek.Seen < (ULONG)Cpus);
    CHECK_EQ(KeGetCurrentProcessorNumberEx(NULL), 250);
    WdkmHostSetCurrentProcessor(-1);
    CHECK(KeGetCurrentProcessorNumberEx(NULL) < (ULONG)Cpus);
}

/* WdkmHostThreadHeldLockCount: every kind counts once while held (also
   recursively), a failed try counts nothing, release uncounts it. */
static VOID TestHeldLockCountEveryKind(VOID)
{
    KMUTEX Mutex;
    FAST_MUTEX Fast;
    FAST_MUTEX Unsafe;
    KGUARDED_MUTEX Guarded;
    KSPIN_LOCK Lock;
    KSPIN_LOCK Queued;
    KSPIN_LOCK AtDpc;
    KSPIN_LOCK Tried;
    KLOCK_QUEUE_HANDLE Handle;
    KLOCK_QUEUE_HANDLE DpcHandle;
    KSPIN_LOCK DpcQueued;
    ERESOURCE Exclusive;
    ERESOURCE Shared;
    EX_PUSH_LOCK PushExclusive;
    EX_PUSH_LOCK PushShared;
    KIRQL Old;
    KIRQL Cancel;
    ULONG Held = 0;

    KeInitializeMutex(&Mutex, 0);
    ExInitializeFastMutex(&Fast);
    ExInitializeFastMutex(&Unsafe);
    KeInitializeGuardedMutex(&Guarded);
    KeInitializeSpinLock(&Lock);
    KeInitializeSpinLock(&Queued);
    KeInitializeSpinLock(&AtDpc);
    KeInitializeSpinLock(&Tried);
    KeInitializeSpinLock(&DpcQueued);
    CHECK_STATUS(ExInitializeResourceLite(&Exclusive), STATUS_SUCCESS);
    CHECK_STATUS(ExInitializeResourceLite(&Shared), STATUS_SUCCESS);
    ExInitializePushLock(&PushExclusive);
    ExInitializePushLock(&PushShared);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);

    CHECK_STATUS(KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL),
                 STATUS_SUCCESS);
    CHECK_STATUS(KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL),
                 STATUS_SUCCESS);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);    /* KMUTEX, recursion counts once */

    KeEnterCriticalRegion();
    CHECK(ExAcquireResourceExclusiveLite(&Exclusive, TRUE));
    CHECK(ExAcquireResourceExclusiveLite(&Exclusive, TRUE));
    CHECK(ExAcquireResourceSharedLite(&Exclusive, TRUE));
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);    /* ERESOURCE exclusive */
    CHECK(ExAcquireResourceSharedLite(&Shared, TRUE));
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);    /* ERESOURCE shared */
    ExfAcquirePushLockExclusive(&PushExclusive);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);
    ExfAcquirePushLockShared(&PushShared);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);
    ExAcquireFastMutexUnsafe(&Unsafe);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);

    KeAcquireGuardedMutex(&Guarded);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);
    CHECK(!KeTryToAcquireGuardedMutex(&Guarded) || !"a guarded mutex is not recursive");
    ExAcquireFastMutex(&Fast);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);

    KeAcquireSpinLock(&Lock, &Old);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);
    KeAcquireSpinLockAtDpcLevel(&AtDpc);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);
    CHECK(KeTryToAcquireSpinLockAtDpcLevel(&Tried));
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);
    CHECK(!KeTryToAcquireSpinLockAtDpcLevel(&Tried));
    CHECK_EQ(WdkmHostThreadHeldLockCount(), Held);
    KeAcquireInStackQueuedSpinLockAtDpcLevel(&DpcQueued, &DpcHandle);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), ++Held);

    /* Unwind in reverse order, checking each step. */
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&DpcHandle);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    KeReleaseSpinLockFromDpcLevel(&Tried);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    KeReleaseSpinLockFromDpcLevel(&AtDpc);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    KeReleaseSpinLock(&Lock, Old);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    ExReleaseFastMutex(&Fast);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    KeReleaseGuardedMutex(&Guarded);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    ExReleaseFastMutexUnsafe(&Unsafe);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    ExfReleasePushLockShared(&PushShared);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    ExfReleasePushLock(&PushExclusive);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    ExReleaseResourceLite(&Shared);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    ExReleaseResourceLite(&Exclusive);
    ExConvertExclusiveToSharedLite(&Exclusive);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), Held);      /* still held twice, now shared */
    ExReleaseResourceLite(&Exclusive);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), Held);
    ExReleaseResourceLite(&Exclusive);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    KeLeaveCriticalRegion();
    (VOID)KeReleaseMutex(&Mutex, FALSE);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), Held);
    (VOID)KeReleaseMutex(&Mutex, FALSE);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), --Held);
    CHECK_EQ(Held, 0);

    /* The in-stack queued and the cancel spin lock are spin locks too. */
    KeAcquireInStackQueuedSpinLock(&Queued, &Handle);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 1);
    KeReleaseInStackQueuedSpinLock(&Handle);
    IoAcquireCancelSpinLock(&Cancel);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 1);
    IoReleaseCancelSpinLock(Cancel);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    CHECK_STATUS(ExDeleteResourceLite(&Exclusive), STATUS_SUCCESS);
    CHECK_STATUS(ExDeleteResourceLite(&Shared), STATUS_SUCCESS);
}


/* ====================================================================== */
/* 6. More rules: IRQL of releases, resources, push locks, raising pool,    */
/*    KDPCs, timers                                                         */
/* ====================================================================== */

/* KeReleaseMutex is <= DISPATCH_LEVEL (wdm.h); KeReleaseSpinLock lowers to
   NewIrql, so a NewIrql above the current one is KeLowerIrql's error; a
   FAST_MUTEX is released at APC_LEVEL. Each refusal keeps the lock held. */
static VOID TestReleasesAtWrongIrql(VOID)
{
    KMUTEX Mutex;
    KSPIN_LOCK Lock;
    FAST_MUTEX Fast;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KIRQL Old;
    BOOLEAN Caught;

    KeInitializeMutex(&Mutex, 0);
    KeInitializeSpinLock(&Lock);
    ExInitializeFastMutex(&Fast);

    CHECK_STATUS(KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL),
                 STATUS_SUCCESS);
    A28RaiseTo(HIGH_LEVEL);
    A28_TRAP(&Trap, (VOID)KeReleaseMutex(&Mutex, FALSE), Caught);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, IRQL_NOT_LESS_OR_EQUAL);
    CHECK_EQ(KeReadStateMutex(&Mutex), 0);
    CHECK_EQ(WdkmHostThreadKMutexCount(), 1);
    CHECK_EQ(KeReleaseMutex(&Mutex, FALSE), 0);

    KeAcquireSpinLock(&Lock, &Old);
    A28_TRAP(&Trap, KeReleaseSpinLock(&Lock, HIGH_LEVEL), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, IRQL_NOT_LESS_OR_EQUAL);
    CHECK(Lock != 0);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 1);
    KeReleaseSpinLock(&Lock, Old);
    CHECK_EQ(Lock, 0);

    /* Lowering below the FAST_MUTEX's APC_LEVEL is not checked by
       KeLowerIrql (NT does not either), but the release then is wrong. */
    ExAcquireFastMutex(&Fast);
    KeLowerIrql(PASSIVE_LEVEL);
    A28_TRAP(&Trap, ExReleaseFastMutex(&Fast), Caught);
    CHECK(Caught);
    CHECK(Trap.Bugcheck.Code == DRIVER_VERIFIER_DETECTED_VIOLATION ||
          Trap.Bugcheck.Code == IRQL_NOT_GREATER_OR_EQUAL);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 1);
    KeRaiseIrql(APC_LEVEL, &Old);
    ExReleaseFastMutex(&Fast);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    CHECK(ExTryToAcquireFastMutex(&Fast));
    ExReleaseFastMutex(&Fast);
}

/* ERESOURCE life cycle (wdm.h, DV codes of wdkm_host.h): deleting an owned
   resource (0x100B), initialising a live one (0xD0), freeing pool that
   holds a live one (0xD2, P2 = the resource, P3 = the block) are refused
   and change nothing; a shared owner asking for exclusive with Wait
   (0x1000) too. Push lock recursion is 0x1000. */
static VOID TestResourceAndPushLockLifecycle(VOID)
{
    ERESOURCE *Resource;
    EX_PUSH_LOCK Push;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    BOOLEAN Caught;

    Resource = (ERESOURCE *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(ERESOURCE), A28_TAG);
    CHECK(Resource != NULL);
    CHECK_STATUS(ExInitializeResourceLite(Resource), STATUS_SUCCESS);
    A28_TRAP(&Trap, (VOID)ExInitializeResourceLite(Resource), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], WDKM_HOST_VIOLATION_RESOURCE_REINITIALIZED);
    A28_TRAP(&Trap, ExFreePoolWithTag(Resource, A28_TAG), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], WDKM_HOST_VIOLATION_RESOURCE_IN_FREED_POOL);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], (ULONG_PTR)Resource);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], (ULONG_PTR)Resource);
    CHECK_EQ(WdkmHostPoolOutstanding(A28_TAG, NULL), 1);

    KeEnterCriticalRegion();
    CHECK(ExAcquireResourceSharedLite(Resource, TRUE));
    A28_TRAP(&Trap, (VOID)ExAcquireResourceExclusiveLite(Resource, TRUE), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], WDKM_HOST_VIOLATION_SELF_DEADLOCK);
    CHECK_EQ(ExIsResourceAcquiredSharedLite(Resource), 1);
    CHECK(!ExIsResourceAcquiredExclusiveLite(Resource));
    A28_TRAP(&Trap, (VOID)ExDeleteResourceLite(Resource), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], WDKM_HOST_VIOLATION_DELETED_LOCK_OWNED);
    CHECK_EQ(ExIsResourceAcquiredSharedLite(Resource), 1);
    ExReleaseResourceLite(Resource);
    KeLeaveCriticalRegion();
    CHECK_STATUS(ExDeleteResourceLite(Resource), STATUS_SUCCESS);
    ExFreePoolWithTag(Resource, A28_TAG);

    ExInitializePushLock(&Push);
    KeEnterCriticalRegion();
    ExfAcquirePushLockExclusive(&Push);
    A28_TRAP(&Trap, ExfAcquirePushLockExclusive(&Push), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], WDKM_HOST_VIOLATION_SELF_DEADLOCK);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 1);
    ExfReleasePushLockExclusive(&Push);
    CHECK_EQ(Push, 0);
    KeLeaveCriticalRegion();
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
}

/* ExAllocatePool2 with POOL_FLAG_RAISE_ON_FAILURE raises instead of
   returning NULL (Microsoft: "If POOL_FLAG_RAISE_ON_FAILURE is specified,
   the function raises an exception" on insufficient memory, a zero tag or
   invalid flags). An exception nobody handles is, on the host, a bug check
   (wdm.h): KMODE_EXCEPTION_NOT_HANDLED. A driver that relies on the flag
   and never checks for NULL must not be handed one. */
static VOID TestPool2RaiseOnFailure(VOID)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    PVOID volatile Block = NULL;
    BOOLEAN Caught;

    WdkmHostPoolFailAt(0);
    A28_TRAP(&Trap,
             Block = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 32,
                                     A28_TAG),
             Caught);
    WdkmHostPoolFailAt(-1);
    if (Block != NULL) {
        ExFreePoolWithTag(Block, A28_TAG);
    }
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, KMODE_EXCEPTION_NOT_HANDLED);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], (ULONG_PTR)STATUS_INSUFFICIENT_RESOURCES);

    Block = NULL;
    A28_TRAP(&Trap,
             Block = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 32, 0),
             Caught);
    CHECK(Block == NULL);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, KMODE_EXCEPTION_NOT_HANDLED);

    /* Without the flag: NULL, no bug check. */
    WdkmHostPoolFailAt(0);
    Block = ExAllocatePool2(POOL_FLAG_NON_PAGED, 32, A28_TAG);
    WdkmHostPoolFailAt(-1);
    CHECK(Block == NULL);
    CHECK(ExAllocatePool2(POOL_FLAG_NON_PAGED, 32, 0) == NULL);
    /* With it and enough memory: a zeroed block. */
    Block = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 32, A28_TAG);
    CHECK(Block != NULL);
    CHECK_EQ(((UCHAR *)Block)[31], 0);
    ExFreePoolWithTag(Block, A28_TAG);
}

/* A KDPC routine that returns below DISPATCH_LEVEL: IRQL_NOT_GREATER_OR_
   EQUAL with P1 = the KDPC, P3 = DISPATCH_LEVEL, P4 = the routine
   (wdkm_host.h); after the handler returns, the next DPC runs as a DPC
   again (DISPATCH_LEVEL, KeIsExecutingDpc). KeFlushQueuedDpcs is
   PASSIVE_LEVEL only. */
static LONG volatile A28GoodDpcRuns;
static KIRQL A28GoodDpcIrql;
static LOGICAL A28GoodDpcExecuting;

static VOID A28BadDpc(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    KeLowerIrql(PASSIVE_LEVEL);
}

static VOID A28GoodDpc(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    A28GoodDpcIrql = KeGetCurrentIrql();
    A28GoodDpcExecuting = KeIsExecutingDpc();
    __atomic_add_fetch(&A28GoodDpcRuns, 1, __ATOMIC_SEQ_CST);
}

static VOID TestKdpcViolationThenNextDpc(VOID)
{
    KDPC Bad;
    KDPC Good;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    BOOLEAN Caught;

    KeInitializeDpc(&Bad, A28BadDpc, NULL);
    KeInitializeDpc(&Good, A28GoodDpc, NULL);
    A28HandlerCalls = 0;
    A28GoodDpcRuns = 0;
    WdkmHostSetBugcheckHandler(A28Handler, NULL);
    CHECK(KeInsertQueueDpc(&Bad, NULL, NULL));
    KeFlushQueuedDpcs();
    CHECK(KeInsertQueueDpc(&Good, NULL, NULL));
    KeFlushQueuedDpcs();
    WdkmHostSetBugcheckHandler(NULL, NULL);
    CHECK_EQ(A28HandlerCalls, 1);
    CHECK_EQ(A28HandlerLast.Code, IRQL_NOT_GREATER_OR_EQUAL);
    CHECK_EQ(A28HandlerLast.Parameter[0], (ULONG_PTR)&Bad);
    CHECK_EQ(A28HandlerLast.Parameter[1], PASSIVE_LEVEL);
    CHECK_EQ(A28HandlerLast.Parameter[2], DISPATCH_LEVEL);
    CHECK_EQ(A28HandlerLast.Parameter[3], (ULONG_PTR)A28BadDpc);
    CHECK_EQ(A28GoodDpcRuns, 1);
    CHECK_EQ(A28GoodDpcIrql, DISPATCH_LEVEL);
    CHECK(A28GoodDpcExecuting);

    A28RaiseTo(DISPATCH_LEVEL);
    A28_TRAP(&Trap, KeFlushQueuedDpcs(), Caught);
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, IRQL_NOT_LESS_OR_EQUAL);
}

/* Pool freed with a set timer inside: TIMER_OR_DPC_INVALID P1 = 0, P2 =
   the timer, P3/P4 = the block's start and end (wdkm_host.h); the block
   stays live and the timer set. */
typedef struct _A28_TIMED {
    KTIMER Timer;
} A28_TIMED;

static VOID TestTimerAndDpcInFreedPool(VOID)
{
    A28_TIMED *Timed;
    WDKM_HOST_BUGCHECK_TRAP Trap;
    LARGE_INTEGER Due;
    BOOLEAN Caught;

    Timed = (A28_TIMED *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Timed), A28_TAG);
    CHECK(Timed != NULL);
    KeInitializeTimer(&Timed->Timer);
    Due.QuadPart = -10 * 10000000LL;                    /* 10 s: never fires here */
    CHECK(!KeSetTimer(&Timed->Timer, Due, NULL));
    A28_TRAP(&Trap, ExFreePoolWithTag(Timed, A28_TAG), Caught);
    CHECK(Caught);
    CHECK_EQ(Trap.Bugcheck.Code, TIMER_OR_DPC_INVALID);
    CHECK_EQ(Trap.Bugcheck.Parameter[0], 0);
    CHECK_EQ(Trap.Bugcheck.Parameter[1], (ULONG_PTR)&Timed->Timer);
    CHECK_EQ(Trap.Bugcheck.Parameter[2], (ULONG_PTR)Timed);
    CHECK_EQ(Trap.Bugcheck.Parameter[3], (ULONG_PTR)(Timed + 1));
    CHECK_EQ(WdkmHostPoolOutstanding(A28_TAG, NULL), 1);
    CHECK(KeCancelTimer(&Timed->Timer));                /* it stayed set */
    ExFreePoolWithTag(Timed, A28_TAG);
}

/* An event queued to a thread asleep in an emulated wait runs when the wait
   returns, on that thread (wdkm_host.h). */
typedef struct _A28_SLEEPER {
    KEVENT Wake;
    LONG volatile Waiting;
    A28_SEEN Seen;
    LONG RunsWhenWoken;
    PKTHREAD Self;
} A28_SLEEPER;

static VOID A28Sleeper(PVOID Context, ULONG Index)
{
    A28_SLEEPER *Sleeper = (A28_SLEEPER *)Context;

    UNREFERENCED_PARAMETER(Index);
    Sleeper->Self = KeGetCurrentThread();
    A28Store(&Sleeper->Waiting, 1);
    (VOID)KeWaitForSingleObject(&Sleeper->Wake, Executive, KernelMode, FALSE, NULL);
    Sleeper->RunsWhenWoken = A28Load(&Sleeper->Seen.Runs);
}

static VOID TestEventForSleepingThreadRunsAfterWait(VOID)
{
    A28_SLEEPER Sleeper;
    WDKM_TEST_THREAD *Thread;

    RtlZeroMemory(&Sleeper, sizeof(Sleeper));
    A28ResetSeen(&Sleeper.Seen);
    KeInitializeEvent(&Sleeper.Wake, NotificationEvent, FALSE);
    Thread = WdkmTestStartThread(A28Sleeper, &Sleeper);
    CHECK(Thread != NULL);
    CHECK(A28WaitFor(&Sleeper.Waiting, 1));
    WdkmTestSleepMs(30);
    WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread), WdkmHostInterruptSpecialApc,
                           A28Record, &Sleeper.Seen);
    WdkmTestSleepMs(30);
    CHECK_EQ(A28Load(&Sleeper.Seen.Runs), 0);
    (VOID)KeSetEvent(&Sleeper.Wake, 0, FALSE);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(Sleeper.Seen.Runs, 1);
    CHECK_EQ(Sleeper.RunsWhenWoken, 1);                 /* before the waiter's next statement */
    CHECK(Sleeper.Seen.Thread == Sleeper.Self);
    CHECK_EQ(Sleeper.Seen.Irql, APC_LEVEL);
}

/* ---------------------------------------------------------------------- */

static VOID A28Cleanup(VOID)
{
    WdkmHostSetBugcheckHandler(NULL, NULL);
    WdkmHostPoolFailAt(-1);
    WdkmHostSetMutexRecursionLimit(0);
    WdkmHostSetCurrentProcessor(-1);
}

static const WDKM_TEST_CASE A28Cases[] = {
    { "kmutex_release_not_owner", TestKMutexReleaseNotOwner },
    { "irql_raise_lower_rules", TestIrqlRaiseLowerRules },
    { "wait_irql_rules", TestWaitIrqlRules },
    { "spin_lock_rules", TestSpinLockRules },
    { "fast_and_guarded_mutex_rules", TestFastAndGuardedMutexRules },
    { "resource_rules", TestResourceRules },
    { "region_rules", TestRegionRules },
    { "pool_rules_and_parameters", TestPoolRulesAndParameters },
    { "irp_rules", TestIrpRules },
    { "kmutex_recursion_limit", TestKMutexRecursionLimit },
    { "kmutex_abandoned_by_bugchecked_thread", TestKMutexAbandonedByBugcheckedThread },
    { "wait_timeouts_and_alerts", TestWaitTimeoutsAndAlerts },
    { "alert_ends_wait_in_progress", TestAlertEndsWaitInProgress },
    { "injected_event_identity_on_self", TestInjectedEventIdentityOnSelf },
    { "injected_dpc_is_executing_dpc", TestInjectedDpcIsExecutingDpc },
    { "injected_dpc_on_other_thread_is_that_thread", TestInjectedDpcOnOtherThreadIsThatThread },
    { "dpc_masked_at_dispatch_delivered_on_lower", TestDpcMaskedAtDispatchDeliveredOnLower },
    { "pending_dpc_runs_before_pending_apc", TestPendingDpcRunsBeforePendingApc },
    { "special_apc_masking", TestSpecialApcMasking },
    { "normal_apc_masking", TestNormalApcMasking },
    { "event_rule_violations", TestEventRuleViolations },
    { "random_injection_respects_masking", TestRandomInjectionRespectsMasking },
    { "pool_fail_at_counts_exactly", TestPoolFailAtCountsExactly },
    { "pool_accounting_under_threads", TestPoolAccountingUnderThreads },
    { "set_current_processor", TestSetCurrentProcessor },
    { "held_lock_count_every_kind", TestHeldLockCountEveryKind },
    { "releases_at_wrong_irql", TestReleasesAtWrongIrql },
    { "resource_and_push_lock_lifecycle", TestResourceAndPushLockLifecycle },
    { "pool2_raise_on_failure", TestPool2RaiseOnFailure },
    { "kdpc_violation_then_next_dpc", TestKdpcViolationThenNextDpc },
    { "timer_and_dpc_in_freed_pool", TestTimerAndDpcInFreedPool },
    { "event_for_sleeping_thread_runs_after_wait", TestEventForSleepingThreadRunsAfterWait },
};

const WDKM_TEST_SUITE WdkmAttack28Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack28", A28Cases, A28Cleanup);
