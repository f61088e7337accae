/*
 * test_stress.c - 8 threads x N mixed operations over every lock kind and
 * the registry, with delay fuzzing on; exact counters checked at the end,
 * no pool left after Destroy.
 *
 * N: WDKM_STRESS_OPS (default 10000 per thread; the long form is 1000000).
 * Delay fuzzing: seed 0x5EED, 5 % unless WDKM_DELAY_FUZZ is set.
 */
#include "wdkm_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRESS_THREADS 8
#define STRESS_DEFAULT_OPS 10000
#define STRESS_OWN_NAMES 4

typedef struct _COUNTER {
    LONG Value;
    LONG Spare;     /* always -Value: a torn update shows */
} COUNTER;

static const COUNTER Zero = { 0, 0 };

static const WDKM_LOCK_KIND Kinds[] = {
    WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock,
    WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource,
    WdkmLockKindPushLock,
};
#define KIND_COUNT 7

static PCSTR const SharedNames[KIND_COUNT] = {
    "shared-kmutex", "shared-fast", "shared-spin", "shared-queued", "shared-guarded",
    "shared-resource", "shared-push",
};

typedef struct _STRESS {
    ULONG Ops;
    PVOID Locks[KIND_COUNT];
    /* per thread: increments done on each direct lock and registry lock */
    ULONG Direct[STRESS_THREADS][KIND_COUNT];
    ULONG Registry[STRESS_THREADS][KIND_COUNT];
    ULONG RegistryCycles[STRESS_THREADS];
    ULONG Reads[STRESS_THREADS];
    LONG Errors;
} STRESS;

static NTSTATUS
CreateKind(WDKM_LOCK_KIND Kind, PVOID *Lock)
{
    switch (Kind) {
    case WdkmLockKindKMutex: return WDKM_KMUTEX_CREATE(&Zero, (PWDKM_KMUTEX *)Lock);
    case WdkmLockKindFastMutex: return WDKM_FAST_MUTEX_CREATE(&Zero, (PWDKM_FAST_MUTEX *)Lock);
    case WdkmLockKindSpinLock: return WDKM_SPIN_LOCK_CREATE(&Zero, (PWDKM_SPIN_LOCK *)Lock);
    case WdkmLockKindQueuedSpinLock:
        return WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, (PWDKM_QUEUED_SPIN_LOCK *)Lock);
    case WdkmLockKindGuardedMutex:
        return WDKM_GUARDED_MUTEX_CREATE(&Zero, (PWDKM_GUARDED_MUTEX *)Lock);
    case WdkmLockKindResource: return WDKM_RESOURCE_CREATE(&Zero, (PWDKM_RESOURCE *)Lock);
    case WdkmLockKindPushLock: return WDKM_PUSH_LOCK_CREATE(&Zero, (PWDKM_PUSH_LOCK *)Lock);
    }
    return STATUS_INVALID_PARAMETER;
}

static NTSTATUS
TakeKind(WDKM_LOCK_KIND Kind, PVOID Lock, COUNTER *Value)
{
    switch (Kind) {
    case WdkmLockKindKMutex: return WDKM_KMUTEX_TAKE((PWDKM_KMUTEX)Lock, Value);
    case WdkmLockKindFastMutex: return WDKM_FAST_MUTEX_TAKE((PWDKM_FAST_MUTEX)Lock, Value);
    case WdkmLockKindSpinLock: return WDKM_SPIN_LOCK_TAKE((PWDKM_SPIN_LOCK)Lock, Value);
    case WdkmLockKindQueuedSpinLock:
        return WDKM_QUEUED_SPIN_LOCK_TAKE((PWDKM_QUEUED_SPIN_LOCK)Lock, Value);
    case WdkmLockKindGuardedMutex:
        return WDKM_GUARDED_MUTEX_TAKE((PWDKM_GUARDED_MUTEX)Lock, Value);
    case WdkmLockKindResource: return WDKM_RESOURCE_TAKE((PWDKM_RESOURCE)Lock, Value);
    case WdkmLockKindPushLock: return WDKM_PUSH_LOCK_TAKE((PWDKM_PUSH_LOCK)Lock, Value);
    }
    return STATUS_INVALID_PARAMETER;
}

static BOOLEAN
Bump(COUNTER *Data)
{
    BOOLEAN Consistent = (BOOLEAN)(Data->Spare == -Data->Value);

    Data->Value += 1;
    Data->Spare = -Data->Value;
    return Consistent;
}

/* Exclusive acquire, one increment, release. STATUS_SUCCESS or the error. */
static NTSTATUS
Increment(WDKM_LOCK_KIND Kind, PVOID Lock)
{
    COUNTER *Data = NULL;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    NTSTATUS Status;
    BOOLEAN Consistent;
    KIRQL Old;

    switch (Kind) {
    case WdkmLockKindKMutex:
        if ((Status = WDKM_KMUTEX_ACQUIRE((PWDKM_KMUTEX)Lock, &Data)) != STATUS_SUCCESS) return Status;
        Consistent = Bump(Data);
        Status = WdkmKMutexRelease((PWDKM_KMUTEX)Lock);
        break;
    case WdkmLockKindFastMutex:
        if ((Status = WDKM_FAST_MUTEX_ACQUIRE((PWDKM_FAST_MUTEX)Lock, &Data)) != STATUS_SUCCESS) return Status;
        Consistent = Bump(Data);
        Status = WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock);
        break;
    case WdkmLockKindSpinLock:
        if ((Status = WDKM_SPIN_LOCK_ACQUIRE((PWDKM_SPIN_LOCK)Lock, &Old, &Data)) != STATUS_SUCCESS) return Status;
        Consistent = Bump(Data);
        Status = WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, Old);
        break;
    case WdkmLockKindQueuedSpinLock:
        if ((Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE((PWDKM_QUEUED_SPIN_LOCK)Lock, &Handle, &Data)) != STATUS_SUCCESS) return Status;
        Consistent = Bump(Data);
        Status = WdkmQueuedSpinLockRelease(&Handle);
        break;
    case WdkmLockKindGuardedMutex:
        if ((Status = WDKM_GUARDED_MUTEX_ACQUIRE((PWDKM_GUARDED_MUTEX)Lock, &Data)) != STATUS_SUCCESS) return Status;
        Consistent = Bump(Data);
        Status = WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Lock);
        break;
    case WdkmLockKindResource:
        if ((Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE((PWDKM_RESOURCE)Lock, &Data)) != STATUS_SUCCESS) return Status;
        Consistent = Bump(Data);
        Status = WdkmResourceRelease((PWDKM_RESOURCE)Lock);
        break;
    case WdkmLockKindPushLock:
        if ((Status = WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE((PWDKM_PUSH_LOCK)Lock, &Data)) != STATUS_SUCCESS) return Status;
        Consistent = Bump(Data);
        Status = WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock);
        break;
    default:
        return STATUS_INVALID_PARAMETER;
    }
    return Consistent ? Status : (NTSTATUS)0xDEAD0003L;
}

/* Shared read of a resource or push lock: the value must be consistent. */
static NTSTATUS
Read(WDKM_LOCK_KIND Kind, PVOID Lock)
{
    const COUNTER *Data = NULL;
    NTSTATUS Status;
    BOOLEAN Consistent;

    if (Kind == WdkmLockKindResource) {
        if ((Status = WDKM_RESOURCE_ACQUIRE_SHARED((PWDKM_RESOURCE)Lock, &Data)) != STATUS_SUCCESS) return Status;
        Consistent = (BOOLEAN)(Data->Spare == -Data->Value);
        Status = WdkmResourceRelease((PWDKM_RESOURCE)Lock);
    } else {
        if ((Status = WDKM_PUSH_LOCK_ACQUIRE_SHARED((PWDKM_PUSH_LOCK)Lock, &Data)) != STATUS_SUCCESS) return Status;
        Consistent = (BOOLEAN)(Data->Spare == -Data->Value);
        Status = WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock);
    }
    return Consistent ? Status : (NTSTATUS)0xDEAD0003L;
}

static VOID
Error(STRESS *Stress, PCSTR What, NTSTATUS Status)
{
    if (__atomic_fetch_add(&Stress->Errors, 1, __ATOMIC_RELAXED) < 5) {
        WdkmTestFail(__FILE__, __LINE__, "%s: %s (0x%08X)", What, WdkmStatusName(Status),
                     (unsigned)Status);
    }
}

static VOID
StressThread(PVOID Context, ULONG Index)
{
    STRESS *Stress = (STRESS *)Context;
    ULONG64 Random = 0x243F6A8885A308D3ULL ^ ((ULONG64)(Index + 1) * 0x9E3779B97F4A7C15ULL);
    ULONG Op;
    char Name[32];

    for (Op = 0; Op < Stress->Ops && Stress->Errors == 0; Op += 1) {
        ULONG Choice;
        ULONG Kind;
        NTSTATUS Status;
        PVOID Lock;

        Random ^= Random << 13;
        Random ^= Random >> 7;
        Random ^= Random << 17;
        Choice = (ULONG)(Random % 16);
        Kind = (ULONG)((Random >> 8) % KIND_COUNT);

        if (Choice < 7) {                               /* a direct lock */
            Status = Increment(Kinds[Kind], Stress->Locks[Kind]);
            if (Status != STATUS_SUCCESS) { Error(Stress, "direct increment", Status); return; }
            Stress->Direct[Index][Kind] += 1;
        } else if (Choice < 9) {                        /* a shared read */
            ULONG Which = (Random >> 16) & 1 ? 5 : 6;
            Status = Read(Kinds[Which], Stress->Locks[Which]);
            if (Status != STATUS_SUCCESS) { Error(Stress, "shared read", Status); return; }
            Stress->Reads[Index] += 1;
        } else if (Choice < 14) {                       /* lookup, lock, unlock */
            Status = WdkmGrtReference(SharedNames[Kind], Kinds[Kind], sizeof(COUNTER), &Lock);
            if (Status != STATUS_SUCCESS) { Error(Stress, "reference shared", Status); return; }
            Status = Increment(Kinds[Kind], Lock);
            if (Status != STATUS_SUCCESS) { Error(Stress, "registry increment", Status); return; }
            Status = WdkmGrtDereference(Lock);
            if (Status != STATUS_SUCCESS) { Error(Stress, "dereference", Status); return; }
            Stress->Registry[Index][Kind] += 1;
        } else {                                        /* register .. unregister */
            snprintf(Name, sizeof(Name), "t%lu-%lu", (unsigned long)Index,
                     (unsigned long)((Random >> 20) % STRESS_OWN_NAMES));
            Status = WdkmGrtRegister(Name, Kinds[Kind], &Zero, sizeof(Zero), 0);
            if (Status != STATUS_SUCCESS) { Error(Stress, "register", Status); return; }
            Status = WdkmGrtReference(Name, Kinds[Kind], sizeof(COUNTER), &Lock);
            if (Status != STATUS_SUCCESS) { Error(Stress, "reference own", Status); return; }
            Status = WdkmGrtUnregister(Name);    /* while referenced: stays usable */
            if (Status != STATUS_SUCCESS) { Error(Stress, "unregister", Status); return; }
            Status = Increment(Kinds[Kind], Lock);
            if (Status != STATUS_SUCCESS) { Error(Stress, "own increment", Status); return; }
            Status = WdkmGrtDereference(Lock);   /* frees it */
            if (Status != STATUS_SUCCESS) { Error(Stress, "dereference own", Status); return; }
            Status = WdkmGrtReference(Name, Kinds[Kind], sizeof(COUNTER), &Lock);
            if (Status != STATUS_OBJECT_NAME_NOT_FOUND) { Error(Stress, "gone", Status); return; }
            Stress->RegistryCycles[Index] += 1;
        }
    }
}

static ULONG
StressOps(VOID)
{
    const char *Value = getenv("WDKM_STRESS_OPS");
    unsigned long Ops;

    if (Value == NULL || *Value == '\0') {
        return STRESS_DEFAULT_OPS;
    }
    Ops = strtoul(Value, NULL, 0);
    return Ops == 0 ? STRESS_DEFAULT_OPS : (ULONG)Ops;
}

static VOID
StressEveryKindAndRegistry(VOID)
{
    static STRESS Stress;
    BOOLEAN FuzzByUs = getenv("WDKM_DELAY_FUZZ") == NULL;
    ULONG64 DelaysBefore = WdkmHostDelayFuzzingCount();
    LARGE_INTEGER Timeout;
    WDKM_GRT_REPORT Report;
    LONGLONG Start = WdkmTestNowMs();
    ULONG64 Total = 0;
    ULONG Kind;
    ULONG Thread;
    BOOLEAN Ran;

    memset(&Stress, 0, sizeof(Stress));
    Stress.Ops = StressOps();
    for (Kind = 0; Kind < KIND_COUNT; Kind += 1) {
        CHECK_STATUS(CreateKind(Kinds[Kind], &Stress.Locks[Kind]), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Kind = 0; Kind < KIND_COUNT; Kind += 1) {
        CHECK_STATUS(WdkmGrtRegister(SharedNames[Kind], Kinds[Kind], &Zero, sizeof(Zero), 0),
                     STATUS_SUCCESS);
    }

    if (FuzzByUs) {
        WdkmHostSetDelayFuzzing(0x5EED, 5);
    }
    Ran = WdkmTestRunThreads(STRESS_THREADS, StressThread, &Stress);
    if (FuzzByUs) {
        WdkmHostSetDelayFuzzing(0, 0);
    }
    CHECK(Ran);
    CHECK_EQ(Stress.Errors, 0);

    /* Exact counters: every lock's value is the sum of its increments. */
    for (Kind = 0; Kind < KIND_COUNT; Kind += 1) {
        COUNTER Value;
        PVOID Lock;
        LONG Expected = 0;
        LONG ExpectedRegistry = 0;
        PVOID Data;
        NTSTATUS Status;

        for (Thread = 0; Thread < STRESS_THREADS; Thread += 1) {
            Expected += (LONG)Stress.Direct[Thread][Kind];
            ExpectedRegistry += (LONG)Stress.Registry[Thread][Kind];
        }
        CHECK_STATUS(TakeKind(Kinds[Kind], Stress.Locks[Kind], &Value), STATUS_SUCCESS);
        CHECK_EQ(Value.Value, Expected);
        CHECK_EQ(Value.Spare, -Expected);

        /* Registry lock: read it through an exclusive acquire. */
        CHECK_STATUS(WdkmGrtReference(SharedNames[Kind], Kinds[Kind], sizeof(COUNTER), &Lock),
                     STATUS_SUCCESS);
        Status = Increment(Kinds[Kind], Lock);   /* one more, to read it under the lock */
        CHECK_STATUS(Status, STATUS_SUCCESS);
        switch (Kinds[Kind]) {
        case WdkmLockKindKMutex:
            CHECK_STATUS(WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, sizeof(COUNTER), &Data), STATUS_SUCCESS);
            Value = *(COUNTER *)Data;
            CHECK_STATUS(WdkmKMutexRelease((PWDKM_KMUTEX)Lock), STATUS_SUCCESS);
            CHECK_EQ(Value.Value, ExpectedRegistry + 1);
            break;
        default:
            break;    /* Increment already checked Spare == -Value under the lock */
        }
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        Total += (ULONG64)Expected + (ULONG64)ExpectedRegistry;
    }
    for (Thread = 0; Thread < STRESS_THREADS; Thread += 1) {
        Total += Stress.Reads[Thread] + Stress.RegistryCycles[Thread];
    }
    CHECK_EQ(Total, (ULONG64)STRESS_THREADS * Stress.Ops);

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5000);
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(Report.UnregisteredReferenced, 0);
    CHECK_EQ(Report.Freed, KIND_COUNT);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    printf("    stress: %lu threads x %lu ops = %llu operations, %llu delays injected, %lld ms\n",
           (unsigned long)STRESS_THREADS, (unsigned long)Stress.Ops,
           (unsigned long long)Total,
           (unsigned long long)(WdkmHostDelayFuzzingCount() - DelaysBefore),
           (long long)(WdkmTestNowMs() - Start));
}

static const WDKM_TEST_CASE StressCases[] = {
    { "every_kind_and_registry", StressEveryKindAndRegistry },
};

const WDKM_TEST_SUITE WdkmStressSuite = WDKM_TEST_SUITE_OF("stress", StressCases);
