/*
 * wdkm_test_interrupts.c - what injected DPCs and kernel APCs do in the
 * host unit tests (see wdkm_test_interrupts.h).
 *
 * Each action knows which statuses docs/reference.md allows where it runs:
 *   - a DPC runs at DISPATCH_LEVEL as the interrupted thread, which then
 *     holds no spin lock (it would be at DISPATCH_LEVEL) but may hold
 *     anything else, a KMUTEX included;
 *   - a special APC runs at APC_LEVEL on a thread outside guarded regions
 *     and below APC_LEVEL: it holds no spin lock, FAST_MUTEX or guarded
 *     mutex, but may own a KMUTEX or an ERESOURCE;
 *   - a normal APC runs at PASSIVE_LEVEL on a thread outside critical and
 *     guarded regions that owns no KMUTEX: it holds no library lock at all.
 * So the action set's own locks are never held by the thread an action
 * interrupts, except the KMUTEX (a DPC or special APC may interrupt its
 * owner's normal APC) and the ERESOURCE (a special APC may interrupt its
 * exclusive owner): a try then gets the lock recursively. The library's
 * contract (issue 15, item 1) refuses that to a DPC; a special APC is the
 * owner to NT, so it may have it.
 *
 * Registry lookups use only kinds the interrupted thread cannot hold
 * there, so the dereference must succeed.
 *
 * Actions run inside the emulation's signal handler: no allocation, no
 * stdio but the report of a violation.
 */
#define _POSIX_C_SOURCE 200809L
#include "wdkm_test_interrupts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct _WDKM_TEST_ACTION_LOCKS {
    PWDKM_SPIN_LOCK Spin;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_KMUTEX KMutex;
    PWDKM_FAST_MUTEX FastMutex;
    PWDKM_RESOURCE Resource;
} WDKM_TEST_ACTION_LOCKS;

static WDKM_TEST_ACTION_LOCKS WdkmTestActionLocks;
static LONG volatile WdkmTestActionsReady;         /* the locks exist */
static LONG volatile WdkmTestViolations;
static LONG WdkmTestViolationsReported;            /* main thread only */
static ULONG64 WdkmTestActionSeed;
static ULONG WdkmTestSuspendMax;                   /* microseconds */

/* Names the suites register, and the kinds they register them as. */
static const PCSTR WdkmTestRegistryNames[] = {
    "k", "x", "a", "j", "f", "p", "held", "counter", "kmutex", "fast", "apc", "idle", "new",
    "res", "big", "unregister",
};

#define WDKM_TEST_ARRAY_COUNT(Array) (sizeof(Array) / sizeof((Array)[0]))

static PCSTR
WdkmTestKindName(WDKM_HOST_INTERRUPT Kind)
{
    return Kind == WdkmHostInterruptDpc ? "DPC"
           : Kind == WdkmHostInterruptNormalApc ? "normal APC" : "special APC";
}

/* Prints the first violations at once (a stop may follow), with
   snprintf and write(2): an action runs in a signal handler, where stdio's
   buffers are not to be touched. */
static VOID
WdkmTestViolation(WDKM_HOST_INTERRUPT Kind, PCSTR What, NTSTATUS Status)
{
    LONG Count = __atomic_add_fetch(&WdkmTestViolations, 1, __ATOMIC_SEQ_CST);
    char Line[256];
    int Length;

    if (Count <= 10) {
        Length = snprintf(Line, sizeof(Line),
                          "    interrupt violation (%s, seed %llu): %s: %s (0x%08X)\n",
                          WdkmTestKindName(Kind), (unsigned long long)WdkmTestActionSeed, What,
                          WdkmStatusName(Status), (unsigned)Status);
        if (Length > 0) {
            (void)!write(2, Line, (size_t)Length < sizeof(Line) ? (size_t)Length : sizeof(Line) - 1);
        }
    }
}

#define WDKM_TEST_EXPECT(Kind, Condition, What, Status)      \
    do {                                                     \
        if (!(Condition)) {                                  \
            WdkmTestViolation((Kind), (What), (Status));     \
        }                                                    \
    } while (0)

static VOID
WdkmTestStall(ULONG64 Nanoseconds)
{
    LARGE_INTEGER Start;
    LARGE_INTEGER Frequency;
    LARGE_INTEGER Now;

    Start = KeQueryPerformanceCounter(&Frequency);
    do {
        YieldProcessor();
        Now = KeQueryPerformanceCounter(NULL);
    } while ((ULONG64)(Now.QuadPart - Start.QuadPart) * 1000000000ULL /
                 (ULONG64)Frequency.QuadPart < Nanoseconds);
}

/* Holds a lock's value for a moment: it must be 0 when we get the lock
   (nobody else inside), and it is 0 again when we leave. */
static BOOLEAN
WdkmTestUseValue(LONG *Value, ULONG64 Random, ULONG64 MaxNanoseconds)
{
    if (*Value != 0) {
        return FALSE;
    }
    *Value = 1;
    WdkmTestStall(Random % MaxNanoseconds);
    *Value = 0;
    return TRUE;
}

/* Holds inside DPCs and special APCs are short; a normal APC holds its
   KMUTEX or ERESOURCE long enough to be interrupted inside. */
#define WDKM_TEST_SHORT_HOLD_NS 3000
#define WDKM_TEST_LONG_HOLD_NS 300000

/* ---------------------------------------------------------------------- */
/* DPC: DISPATCH_LEVEL                                                     */
/* ---------------------------------------------------------------------- */

static VOID
WdkmTestDpcAction(ULONG64 Random)
{
    const WDKM_HOST_INTERRUPT Kind = WdkmHostInterruptDpc;
    WDKM_TEST_ACTION_LOCKS *Locks = &WdkmTestActionLocks;
    NTSTATUS Status;
    LONG *Value = NULL;

    switch ((Random >> 8) % 8) {
    case 0: {
#if WDKM_CHECKED
        WDKM_TEST_EXPECT(Kind, !WdkmDiagIsHeld(Locks->Spin), "IsHeld(spin lock) before", 0);
#endif
        Status = WdkmSpinLockAcquireAtDpcLevel(Locks->Spin, sizeof(LONG), (PVOID *)&Value);
        WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "spin lock AcquireAtDpcLevel", Status);
        if (Status == STATUS_SUCCESS) {
            WDKM_TEST_EXPECT(Kind, WdkmTestUseValue(Value, Random, WDKM_TEST_SHORT_HOLD_NS), "spin lock shared", 0);
#if WDKM_CHECKED
            WDKM_TEST_EXPECT(Kind, WdkmDiagIsHeld(Locks->Spin), "IsHeld(spin lock) held", 0);
#endif
            Status = WdkmSpinLockReleaseFromDpcLevel(Locks->Spin);
            WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "spin lock ReleaseFromDpcLevel",
                             Status);
        }
#if WDKM_CHECKED
        WDKM_TEST_EXPECT(Kind, !WdkmDiagIsHeld(Locks->Spin), "IsHeld(spin lock) after", 0);
#endif
        break;
    }
    case 1: {
        WDKM_LOCK_QUEUE_HANDLE Handle;
        Status = WdkmQueuedSpinLockAcquireAtDpcLevel(Locks->Queued, sizeof(LONG), &Handle,
                                                     (PVOID *)&Value);
        WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "queued spin lock AcquireAtDpcLevel",
                         Status);
        if (Status == STATUS_SUCCESS) {
            WDKM_TEST_EXPECT(Kind, WdkmTestUseValue(Value, Random, WDKM_TEST_SHORT_HOLD_NS), "queued spin lock shared", 0);
            Status = WdkmQueuedSpinLockRelease(&Handle);
            WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "queued spin lock Release", Status);
        }
        break;
    }
    case 2:
        /* The interrupted thread may own it (a normal APC of its holds it):
           to NT the DPC is that owner, but the library refuses it the
           owner's data mid-update. */
        Status = WdkmKMutexTryAcquire(Locks->KMutex, sizeof(LONG), (PVOID *)&Value);
        WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS || Status == STATUS_TIMEOUT,
                         "KMUTEX TryAcquire at DISPATCH_LEVEL", Status);
        if (Status == STATUS_SUCCESS) {
            WDKM_TEST_EXPECT(Kind, WdkmTestUseValue(Value, Random, WDKM_TEST_SHORT_HOLD_NS),
                             "KMUTEX granted to a DPC while its owner is inside", 0);
            Status = WdkmKMutexRelease(Locks->KMutex);
            WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "KMUTEX Release at DISPATCH_LEVEL",
                             Status);
        }
        break;
    case 3:
        Status = WdkmFastMutexTryAcquire(Locks->FastMutex, sizeof(LONG), (PVOID *)&Value);
        WDKM_TEST_EXPECT(Kind, Status == STATUS_WDKM_IRQL_TOO_HIGH,
                         "FAST_MUTEX TryAcquire at DISPATCH_LEVEL", Status);
        WDKM_TEST_EXPECT(Kind, Value == NULL, "FAST_MUTEX TryAcquire left *Data", Status);
        if (Status == STATUS_SUCCESS) {
            (VOID)WdkmFastMutexRelease(Locks->FastMutex);
        }
        break;
    case 4: {
        const VOID *Shared = NULL;
        Status = WdkmResourceTryAcquireShared(Locks->Resource, sizeof(LONG), &Shared);
        WDKM_TEST_EXPECT(Kind, Status == STATUS_WDKM_IRQL_TOO_HIGH,
                         "ERESOURCE TryAcquireShared at DISPATCH_LEVEL", Status);
        if (Status == STATUS_SUCCESS) {
            (VOID)WdkmResourceRelease(Locks->Resource);
        }
        break;
    }
    case 5:
    case 6: {
        /* Spin-lock kinds only: the thread cannot hold one here. */
        PCSTR Name = WdkmTestRegistryNames[(Random >> 16) % WDKM_TEST_ARRAY_COUNT(WdkmTestRegistryNames)];
        WDKM_LOCK_KIND LockKind = ((Random >> 24) & 1) != 0 ? WdkmLockKindSpinLock
                                                            : WdkmLockKindQueuedSpinLock;
        PVOID Lock = NULL;
        Status = WdkmGrtReference(Name, LockKind, sizeof(LONG), &Lock);
        WDKM_TEST_EXPECT(Kind,
                         Status == STATUS_SUCCESS || Status == STATUS_OBJECT_NAME_NOT_FOUND ||
                             Status == STATUS_WDKM_TYPE_MISMATCH ||
                             Status == STATUS_WDKM_NOT_INITIALIZED ||
                             Status == STATUS_DELETE_PENDING,
                         "registry Reference at DISPATCH_LEVEL", Status);
        if (Status == STATUS_SUCCESS) {
            Status = WdkmGrtDereference(Lock);
            WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "registry Dereference at DISPATCH_LEVEL",
                             Status);
        } else {
            WDKM_TEST_EXPECT(Kind, Lock == NULL, "registry Reference left *Lock", Status);
        }
        break;
    }
    default:
        WdkmTestStall(Random % 5000);
        break;
    }
}

/* ---------------------------------------------------------------------- */
/* Special kernel APC: APC_LEVEL                                           */
/* ---------------------------------------------------------------------- */

static VOID
WdkmTestSpecialApcAction(ULONG64 Random)
{
    const WDKM_HOST_INTERRUPT Kind = WdkmHostInterruptSpecialApc;
    WDKM_TEST_ACTION_LOCKS *Locks = &WdkmTestActionLocks;
    NTSTATUS Status;
    LONG *Value = NULL;

    switch ((Random >> 8) % 6) {
    case 0:
        Status = WdkmFastMutexTryAcquire(Locks->FastMutex, sizeof(LONG), (PVOID *)&Value);
        WDKM_TEST_EXPECT(Kind,
                         Status == STATUS_SUCCESS || Status == STATUS_TIMEOUT ||
                             Status == STATUS_NOT_SUPPORTED,
                         "FAST_MUTEX TryAcquire at APC_LEVEL", Status);
        if (Status == STATUS_SUCCESS) {
            WDKM_TEST_EXPECT(Kind, WdkmTestUseValue(Value, Random, WDKM_TEST_SHORT_HOLD_NS), "FAST_MUTEX shared", 0);
            Status = WdkmFastMutexRelease(Locks->FastMutex);
            WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "FAST_MUTEX Release", Status);
        }
        break;
    case 1: {
        /* May be the exclusive owner (recursion): only the statuses count. */
        const VOID *Shared = NULL;
        Status = WdkmResourceTryAcquireShared(Locks->Resource, sizeof(LONG), &Shared);
        WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS || Status == STATUS_TIMEOUT,
                         "ERESOURCE TryAcquireShared at APC_LEVEL", Status);
        if (Status == STATUS_SUCCESS) {
            Status = WdkmResourceRelease(Locks->Resource);
            WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "ERESOURCE Release at APC_LEVEL",
                             Status);
        }
        break;
    }
    case 2: {
        KIRQL OldIrql;
        Status = WdkmSpinLockAcquire(Locks->Spin, sizeof(LONG), &OldIrql, (PVOID *)&Value);
        WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "spin lock Acquire at APC_LEVEL", Status);
        if (Status == STATUS_SUCCESS) {
            WDKM_TEST_EXPECT(Kind, WdkmTestUseValue(Value, Random, WDKM_TEST_SHORT_HOLD_NS), "spin lock shared", 0);
            Status = WdkmSpinLockRelease(Locks->Spin, OldIrql);
            WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "spin lock Release", Status);
            WDKM_TEST_EXPECT(Kind, KeGetCurrentIrql() == APC_LEVEL, "IRQL after spin lock", 0);
        }
        break;
    }
    case 3: {
        /* Kinds the thread cannot hold here (APC_LEVEL or guarded). */
        static const WDKM_LOCK_KIND Kinds[] = { WdkmLockKindFastMutex, WdkmLockKindGuardedMutex,
                                                WdkmLockKindSpinLock };
        PCSTR Name = WdkmTestRegistryNames[(Random >> 16) % WDKM_TEST_ARRAY_COUNT(WdkmTestRegistryNames)];
        PVOID Lock = NULL;
        Status = WdkmGrtReference(Name, Kinds[(Random >> 24) % 3], sizeof(LONG), &Lock);
        WDKM_TEST_EXPECT(Kind,
                         Status == STATUS_SUCCESS || Status == STATUS_OBJECT_NAME_NOT_FOUND ||
                             Status == STATUS_WDKM_TYPE_MISMATCH ||
                             Status == STATUS_WDKM_NOT_INITIALIZED ||
                             Status == STATUS_DELETE_PENDING,
                         "registry Reference at APC_LEVEL", Status);
        if (Status == STATUS_SUCCESS) {
            Status = WdkmGrtDereference(Lock);
            WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "registry Dereference at APC_LEVEL",
                             Status);
        }
        break;
    }
    default:
        WdkmTestStall(Random % 5000);
        break;
    }
}

/* ---------------------------------------------------------------------- */
/* Normal kernel APC: PASSIVE_LEVEL, nothing held                          */
/* ---------------------------------------------------------------------- */

static VOID
WdkmTestNormalApcAction(ULONG64 Random)
{
    const WDKM_HOST_INTERRUPT Kind = WdkmHostInterruptNormalApc;
    WDKM_TEST_ACTION_LOCKS *Locks = &WdkmTestActionLocks;
    NTSTATUS Status;
    LONG *Value = NULL;

#if WDKM_CHECKED
    /* A normal APC finds its thread holding no lock of any kind. */
    Status = WdkmDiagCheckNoneHeld("injected normal kernel APC");
    WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "CheckNoneHeld in a normal APC", Status);
#endif
    switch ((Random >> 8) % 5) {
    case 0:
        /* Held across a stall: DPCs and special APCs may come in. */
        Status = WdkmKMutexAcquire(Locks->KMutex, sizeof(LONG), (PVOID *)&Value);
        WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "KMUTEX Acquire", Status);
        if (Status == STATUS_SUCCESS) {
            WDKM_TEST_EXPECT(Kind, WdkmTestUseValue(Value, Random, WDKM_TEST_LONG_HOLD_NS), "KMUTEX shared", 0);
            Status = WdkmKMutexRelease(Locks->KMutex);
            WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "KMUTEX Release", Status);
        }
        break;
    case 1:
        Status = WdkmResourceAcquireExclusive(Locks->Resource, sizeof(LONG), (PVOID *)&Value);
        WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "ERESOURCE AcquireExclusive", Status);
        if (Status == STATUS_SUCCESS) {
            WDKM_TEST_EXPECT(Kind, WdkmTestUseValue(Value, Random, WDKM_TEST_LONG_HOLD_NS), "ERESOURCE shared", 0);
            Status = WdkmResourceRelease(Locks->Resource);
            WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "ERESOURCE Release", Status);
        }
        break;
    case 2: {
        static const WDKM_LOCK_KIND Kinds[] = { WdkmLockKindKMutex, WdkmLockKindFastMutex,
                                                WdkmLockKindResource, WdkmLockKindPushLock };
        PCSTR Name = WdkmTestRegistryNames[(Random >> 16) % WDKM_TEST_ARRAY_COUNT(WdkmTestRegistryNames)];
        PVOID Lock = NULL;
        Status = WdkmGrtReference(Name, Kinds[(Random >> 24) % 4], sizeof(LONG), &Lock);
        WDKM_TEST_EXPECT(Kind,
                         Status == STATUS_SUCCESS || Status == STATUS_OBJECT_NAME_NOT_FOUND ||
                             Status == STATUS_WDKM_TYPE_MISMATCH ||
                             Status == STATUS_WDKM_NOT_INITIALIZED ||
                             Status == STATUS_DELETE_PENDING,
                         "registry Reference at PASSIVE_LEVEL", Status);
        if (Status == STATUS_SUCCESS) {
            Status = WdkmGrtDereference(Lock);
            WDKM_TEST_EXPECT(Kind, Status == STATUS_SUCCESS, "registry Dereference at PASSIVE_LEVEL",
                             Status);
        }
        break;
    }
    default: {
        /* Suspension: the thread is parked where it was interrupted. */
        struct timespec Sleep;
        ULONG64 Microseconds = WdkmTestSuspendMax == 0 ? 0 : Random % (WdkmTestSuspendMax + 1ULL);
        Sleep.tv_sec = (time_t)(Microseconds / 1000000);
        Sleep.tv_nsec = (long)(Microseconds % 1000000) * 1000;
        nanosleep(&Sleep, NULL);
        break;
    }
    }
}

static VOID
WdkmTestInterruptAction(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    if (!__atomic_load_n(&WdkmTestActionsReady, __ATOMIC_ACQUIRE)) {
        return;
    }
    switch (Kind) {
    case WdkmHostInterruptDpc:
        WdkmTestDpcAction(Random);
        break;
    case WdkmHostInterruptSpecialApc:
        WdkmTestSpecialApcAction(Random);
        break;
    default:
        WdkmTestNormalApcAction(Random);
        break;
    }
}

/* ---------------------------------------------------------------------- */

/* Creates the action set's locks; FALSE if one cannot be made. */
static BOOLEAN
WdkmTestCreateActionLocks(VOID)
{
    LONG Zero = 0;
    LONG Before = (LONG)WdkmHostPoolOutstanding(WDKM_POOL_TAG, NULL);
    NTSTATUS Status;

    Status = WdkmSpinLockCreate(&Zero, sizeof(Zero), &WdkmTestActionLocks.Spin);
    if (NT_SUCCESS(Status)) {
        Status = WdkmQueuedSpinLockCreate(&Zero, sizeof(Zero), &WdkmTestActionLocks.Queued);
    }
    if (NT_SUCCESS(Status)) {
        Status = WdkmKMutexCreate(&Zero, sizeof(Zero), &WdkmTestActionLocks.KMutex);
    }
    if (NT_SUCCESS(Status)) {
        Status = WdkmFastMutexCreate(&Zero, sizeof(Zero), &WdkmTestActionLocks.FastMutex);
    }
    if (NT_SUCCESS(Status)) {
        Status = WdkmResourceCreate(&Zero, sizeof(Zero), &WdkmTestActionLocks.Resource);
    }
    if (!NT_SUCCESS(Status)) {
        fprintf(stderr, "interrupt actions: cannot create their locks (%s)\n",
                WdkmStatusName(Status));
        return FALSE;
    }
    WdkmTestPoolBaseline = (LONG)WdkmHostPoolOutstanding(WDKM_POOL_TAG, NULL) - Before;
    __atomic_store_n(&WdkmTestActionsReady, 1, __ATOMIC_RELEASE);
    return TRUE;
}

/* Injection stopped first: no action runs any more. */
static VOID
WdkmTestDestroyActionLocks(VOID)
{
    __atomic_store_n(&WdkmTestActionsReady, 0, __ATOMIC_RELEASE);
    (VOID)WdkmSpinLockDestroy(WdkmTestActionLocks.Spin);
    (VOID)WdkmQueuedSpinLockDestroy(WdkmTestActionLocks.Queued);
    (VOID)WdkmKMutexDestroy(WdkmTestActionLocks.KMutex);
    (VOID)WdkmFastMutexDestroy(WdkmTestActionLocks.FastMutex);
    (VOID)WdkmResourceDestroy(WdkmTestActionLocks.Resource);
    memset(&WdkmTestActionLocks, 0, sizeof(WdkmTestActionLocks));
    WdkmTestPoolBaseline = 0;
}

/* Counts of the injections stopped so far (each Start restarts them). */
static ULONG64 WdkmTestDelivered[WDKM_HOST_INTERRUPT_KINDS];
static ULONG64 WdkmTestDeferred[WDKM_HOST_INTERRUPT_KINDS];
static WDKM_HOST_INTERRUPT_SETTINGS WdkmTestSettings;
static BOOLEAN WdkmTestInstalled;
static BOOLEAN WdkmTestPaused;

static VOID
WdkmTestStopAndCount(VOID)
{
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];
    ULONG64 Deferred[WDKM_HOST_INTERRUPT_KINDS];

    WdkmHostInterruptsStop();
    WdkmHostQueryInterruptCounts(Delivered, Deferred);
    for (ULONG Kind = 0; Kind < WDKM_HOST_INTERRUPT_KINDS; Kind++) {
        WdkmTestDelivered[Kind] += Delivered[Kind];
        WdkmTestDeferred[Kind] += Deferred[Kind];
    }
}

BOOLEAN
WdkmTestInterruptsInstall(VOID)
{
    const char *Variable = getenv("WDKM_HOST_INTERRUPTS");

    if (Variable == NULL || *Variable == '\0') {
        return FALSE;
    }
    WdkmHostSetDefaultInterruptRoutine(WdkmTestInterruptAction, NULL);
    /* The first use of the emulation (here: this thread's object) starts
       the injection; the routine holds off until the locks exist. */
    (VOID)KeGetCurrentThread();
    if (!WdkmHostInterruptsActive(&WdkmTestSettings) || !WdkmTestCreateActionLocks()) {
        fprintf(stderr, "interrupt actions: injection did not start\n");
        exit(2);
    }
    WdkmTestActionSeed = WdkmTestSettings.Seed;
    WdkmTestSuspendMax = WdkmTestSettings.SuspendMaxMicroseconds;
    WdkmTestInstalled = TRUE;
    return TRUE;
}

VOID
WdkmTestInterruptsPause(VOID)
{
    if (!WdkmTestInstalled || WdkmTestPaused) {
        return;
    }
    WdkmTestStopAndCount();
    WdkmTestDestroyActionLocks();
    WdkmTestPaused = TRUE;
}

static VOID
WdkmTestInterruptsResume(VOID)
{
    if (!WdkmTestPaused) {
        return;
    }
    WdkmTestPaused = FALSE;
    if (WdkmTestCreateActionLocks()) {
        WdkmHostInterruptsStart(&WdkmTestSettings);
    }
}

ULONG
WdkmTestInterruptViolationsSinceLastCall(VOID)
{
    LONG Total = __atomic_load_n(&WdkmTestViolations, __ATOMIC_SEQ_CST);
    LONG New = Total - WdkmTestViolationsReported;

    WdkmTestInterruptsResume();
    WdkmTestViolationsReported = Total;
    return (ULONG)New;
}

ULONG
WdkmTestInterruptsFinish(VOID)
{
    LONG Violations;

    if (!WdkmTestInstalled) {
        return 0;
    }
    if (!WdkmTestPaused) {
        WdkmTestStopAndCount();
        WdkmTestDestroyActionLocks();
    }
    WdkmTestInstalled = FALSE;
    Violations = __atomic_load_n(&WdkmTestViolations, __ATOMIC_SEQ_CST);
    printf("interrupts (seed %llu): delivered %llu DPCs, %llu normal APCs, %llu special APCs "
           "(deferred by masking %llu, %llu, %llu); %ld violations\n",
           (unsigned long long)WdkmTestActionSeed, (unsigned long long)WdkmTestDelivered[0],
           (unsigned long long)WdkmTestDelivered[1], (unsigned long long)WdkmTestDelivered[2],
           (unsigned long long)WdkmTestDeferred[0], (unsigned long long)WdkmTestDeferred[1],
           (unsigned long long)WdkmTestDeferred[2], (long)Violations);
    if (Violations != 0) {
        printf("interrupts: replay with WDKM_HOST_INTERRUPTS=\"seed=%llu,...\" (same settings)\n",
               (unsigned long long)WdkmTestActionSeed);
    }
    return (ULONG)Violations;
}
