/*
 * test_attack40.c - the wdk-mutex crate's promises, checked against
 * wdkmutex from its documentation alone (docs/crate-mapping.md,
 * docs/migration.md, docs/reference.md, docs/host-testing.md).
 *
 * A crate user expects each row of crate-mapping.md to hold as written:
 * KMutex<T> and FastMutex<T> (new, lock, Deref, guard drop, drop_safe, drop,
 * to_owned, to_owned_box), the Grt (init, register and its checked form,
 * get, destroy) and the error enums. Each test states one row's promise and
 * checks it, refusals included: a refused call must change nothing, so the
 * value and the lock state are compared before and after. The registry is
 * also walked by a seeded random model of what reference.md promises, with
 * DPCs, kernel APCs and suspensions injected into the walking threads.
 */
#include "wdkm_test.h"
#include "wdkm_test_interrupts.h"

#include <stdio.h>
#include <string.h>

typedef struct _A40_PAIR {
    ULONG64 A;
    ULONG64 B;
} A40_PAIR;

typedef struct _A40_OTHER {
    ULONG64 A;
    ULONG64 B;
    ULONG64 C;
} A40_OTHER;

static LONG A40Load(LONG volatile *Value)
{
    return InterlockedCompareExchange(Value, 0, 0);
}

/* Polls Value until it reaches at least Minimum or the give-up deadline. */
static BOOLEAN A40WaitAtLeast(LONG volatile *Value, LONG Minimum)
{
    LONGLONG Deadline = WdkmTestDeadlineMs(10000);

    while (A40Load(Value) < Minimum) {
        if (WdkmTestNowMs() > Deadline) {
            return FALSE;
        }
        WdkmTestSleepMs(1);
    }
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* Probing a lock's state from another thread                          */
/* ------------------------------------------------------------------ */

typedef struct _A40_PROBE {
    PVOID Lock;
    BOOLEAN Fast;
    SIZE_T Size;
    NTSTATUS Status;        /* the other thread's try */
    ULONG64 Value;          /* first 8 bytes of the value, when it got it */
} A40_PROBE;

static VOID A40ProbeThread(PVOID Context, ULONG Index)
{
    A40_PROBE *Probe = (A40_PROBE *)Context;
    PVOID Data = NULL;

    UNREFERENCED_PARAMETER(Index);
    if (Probe->Fast) {
        Probe->Status = WdkmFastMutexTryAcquire((PWDKM_FAST_MUTEX)Probe->Lock, Probe->Size, &Data);
        if (Probe->Status == STATUS_SUCCESS) {
            Probe->Value = *(ULONG64 *)Data;
            (VOID)WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Probe->Lock);
        }
    } else {
        Probe->Status = WdkmKMutexTryAcquire((PWDKM_KMUTEX)Probe->Lock, Probe->Size, &Data);
        if (Probe->Status == STATUS_SUCCESS) {
            Probe->Value = *(ULONG64 *)Data;
            (VOID)WdkmKMutexRelease((PWDKM_KMUTEX)Probe->Lock);
        }
    }
}

/* A thread that acquires a lock and holds it until told to release. */
typedef struct _A40_HOLDER {
    PVOID Lock;
    BOOLEAN Fast;
    LONG volatile Held;
    LONG volatile Release;
    NTSTATUS AcquireStatus;
    NTSTATUS ReleaseStatus;
} A40_HOLDER;

static VOID A40HolderThread(PVOID Context, ULONG Index)
{
    A40_HOLDER *Holder = (A40_HOLDER *)Context;
    A40_PAIR *Data;

    UNREFERENCED_PARAMETER(Index);
    if (Holder->Fast) {
        Holder->AcquireStatus = WDKM_FAST_MUTEX_ACQUIRE((PWDKM_FAST_MUTEX)Holder->Lock, &Data);
    } else {
        Holder->AcquireStatus = WDKM_KMUTEX_ACQUIRE((PWDKM_KMUTEX)Holder->Lock, &Data);
    }
    InterlockedExchange(&Holder->Held, 1);
    if (Holder->AcquireStatus != STATUS_SUCCESS) {
        return;
    }
    while (A40Load(&Holder->Release) == 0) {
        if (Holder->Fast) {
            /* At APC_LEVEL: no kernel wait, poll. */
            LONGLONG Spin;
            for (Spin = 0; Spin < 10000; Spin += 1) {
                YieldProcessor();
            }
        } else {
            WdkmTestSleepMs(1);
        }
    }
    Holder->ReleaseStatus = Holder->Fast ? WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Holder->Lock)
                                         : WdkmKMutexRelease((PWDKM_KMUTEX)Holder->Lock);
}

/* A thread that tries a release of a lock it does not hold. */
typedef struct _A40_STRAY {
    PVOID Lock;
    BOOLEAN Fast;
    KIRQL Irql;
    NTSTATUS Status;
} A40_STRAY;

static VOID A40StrayReleaseThread(PVOID Context, ULONG Index)
{
    A40_STRAY *Stray = (A40_STRAY *)Context;
    KIRQL Old;

    UNREFERENCED_PARAMETER(Index);
    KeRaiseIrql(Stray->Irql, &Old);
    Stray->Status = Stray->Fast ? WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Stray->Lock)
                                : WdkmKMutexRelease((PWDKM_KMUTEX)Stray->Lock);
    KeLowerIrql(Old);
}

/*
 * An agent thread started at PASSIVE_LEVEL that probes or releases on
 * request: a test holding a FAST_MUTEX runs at APC_LEVEL, where it may not
 * create threads (PsCreateSystemThread needs PASSIVE_LEVEL).
 */
typedef struct _A40_AGENT {
    LONG volatile Posted;       /* requests posted */
    LONG volatile Served;       /* requests served */
    LONG volatile Quit;
    BOOLEAN Stray;              /* TRUE: a stray release; FALSE: a probe */
    A40_PROBE Probe;
    A40_STRAY StrayRequest;
    WDKM_TEST_THREAD *Thread;
} A40_AGENT;

static A40_AGENT A40Agent;

static VOID A40AgentThread(PVOID Context, ULONG Index)
{
    LONG Served = 0;

    UNREFERENCED_PARAMETER(Context);
    while (A40Load(&A40Agent.Quit) == 0) {
        if (A40Load(&A40Agent.Posted) != Served) {
            if (A40Agent.Stray) {
                A40StrayReleaseThread(&A40Agent.StrayRequest, Index);
            } else {
                A40ProbeThread(&A40Agent.Probe, Index);
            }
            Served += 1;
            InterlockedExchange(&A40Agent.Served, Served);
        } else {
            WdkmTestSleepMs(1);
        }
    }
}

static BOOLEAN A40AgentStart(VOID)
{
    memset(&A40Agent, 0, sizeof(A40Agent));
    A40Agent.Thread = WdkmTestStartThread(A40AgentThread, NULL);
    return A40Agent.Thread != NULL;
}

static VOID A40AgentStop(VOID)
{
    if (A40Agent.Thread != NULL) {
        InterlockedExchange(&A40Agent.Quit, 1);
        WdkmTestJoinThread(A40Agent.Thread);
        A40Agent.Thread = NULL;
    }
}

/* Runs the request on the agent; spins, since the caller may be raised. */
static BOOLEAN A40AgentRun(VOID)
{
    LONG Posted = InterlockedIncrement(&A40Agent.Posted);
    LONGLONG Deadline = WdkmTestDeadlineMs(10000);

    while (A40Load(&A40Agent.Served) != Posted) {
        if (WdkmTestNowMs() > Deadline) {
            return FALSE;
        }
        YieldProcessor();
    }
    return TRUE;
}

/* STATUS_SUCCESS: free (Value read); STATUS_TIMEOUT: held by someone;
   STATUS_NOT_SUPPORTED: a fast mutex try is not available here. */
static NTSTATUS A40Probe(PVOID Lock, BOOLEAN Fast, SIZE_T Size, ULONG64 *Value)
{
    A40_PROBE Probe;

    Probe.Lock = Lock;
    Probe.Fast = Fast;
    Probe.Size = Size;
    Probe.Status = STATUS_UNSUCCESSFUL;
    Probe.Value = 0;
    if (A40Agent.Thread != NULL) {
        A40Agent.Stray = FALSE;
        A40Agent.Probe = Probe;
        if (!A40AgentRun()) {
            return STATUS_UNSUCCESSFUL;
        }
        Probe = A40Agent.Probe;
    } else if (!WdkmTestRunThreads(1, A40ProbeThread, &Probe)) {
        return STATUS_UNSUCCESSFUL;
    }
    if (Value != NULL) {
        *Value = Probe.Value;
    }
    return Probe.Status;
}

static NTSTATUS A40StrayRelease(PVOID Lock, BOOLEAN Fast, KIRQL Irql)
{
    A40_STRAY Stray;

    Stray.Lock = Lock;
    Stray.Fast = Fast;
    Stray.Irql = Irql;
    Stray.Status = STATUS_UNSUCCESSFUL;
    if (A40Agent.Thread != NULL) {
        A40Agent.Stray = TRUE;
        A40Agent.StrayRequest = Stray;
        if (!A40AgentRun()) {
            return STATUS_UNSUCCESSFUL;
        }
        return A40Agent.StrayRequest.Status;
    }
    if (!WdkmTestRunThreads(1, A40StrayReleaseThread, &Stray)) {
        return STATUS_UNSUCCESSFUL;
    }
    return Stray.Status;
}

/* ------------------------------------------------------------------ */
/* KMutex<T>                                                           */
/* ------------------------------------------------------------------ */

/* KMutex::new(data): the data is moved into non-paged pool; the caller's
   stack copy may change or go away. *Mutex is NULL on failure. */
static VOID A40KMutexNewCopiesValue(VOID)
{
    A40_PAIR Initial = { 7, 9 };
    PWDKM_KMUTEX Mutex = NULL;
    A40_PAIR *Data;
    WDKM_POOL_STATISTICS Before, After;
    LONG Blocks = WdkmTestPoolOutstanding();

    WdkmQueryPoolStatistics(&Before);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK(Mutex != NULL);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks + 1);
    WdkmQueryPoolStatistics(&After);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks + 1);
    Initial.A = 100;
    Initial.B = 200;
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK(Data != NULL && (PVOID)Data != (PVOID)&Initial);
    CHECK_EQ(Data->A, 7);
    CHECK_EQ(Data->B, 9);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);

    /* PagedPoolAllocFailed: STATUS_INSUFFICIENT_RESOURCES, *Mutex NULL. */
    Mutex = (PWDKM_KMUTEX)(ULONG_PTR)1;
    WdkmHostPoolFailAt(0);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_INSUFFICIENT_RESOURCES);
    WdkmHostPoolFailAt(-1);
    CHECK(Mutex == NULL);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);

    /* Invalid sizes. */
    Mutex = (PWDKM_KMUTEX)(ULONG_PTR)1;
    CHECK_STATUS(WdkmKMutexCreate(&Initial, 0, &Mutex), STATUS_INVALID_PARAMETER);
    CHECK(Mutex == NULL);
    CHECK_STATUS(WdkmKMutexCreate(&Initial, WDKM_MAX_DATA_SIZE + 1, &Mutex),
                 STATUS_INVALID_PARAMETER);
    CHECK(Mutex == NULL);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);
}

/* lock(), *guard, *guard = v, drop of the guard; the scoped block as the
   guard's lexical lifetime; recursion (each acquire its release). */
static VOID A40KMutexLockDerefDrop(VOID)
{
    A40_PAIR Initial = { 0, 0 };
    PWDKM_KMUTEX Mutex;
    A40_PAIR *Data;
    A40_PAIR *Again;
    NTSTATUS Status;
    ULONG64 Seen = 0;
    ULONG Rounds = 0;

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK(WdkmKMutexIsOwned(Mutex));
    Data->A = 41;                       /* DerefMut */
    Data->B += 1;
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Again), STATUS_SUCCESS);    /* recursion */
    CHECK(Again == Data);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK(WdkmKMutexIsOwned(Mutex));    /* the outer hold remains */
    CHECK_STATUS(A40Probe(Mutex, FALSE, sizeof(A40_PAIR), NULL), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);    /* guard drop */
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(A40Probe(Mutex, FALSE, sizeof(A40_PAIR), &Seen), STATUS_SUCCESS);
    CHECK_EQ(Seen, 41);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);

    WDKM_KMUTEX_SCOPED(Mutex, Data, &Status) {
        Rounds += 1;
        Data->A += 1;
        CHECK(WdkmKMutexIsOwned(Mutex));
        if (Data->A == 42) {
            continue;                   /* leaves the block, releasing */
        }
        Data->A = 1000;
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Rounds, 1);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(A40Probe(Mutex, FALSE, sizeof(A40_PAIR), &Seen), STATUS_SUCCESS);
    CHECK_EQ(Seen, 42);

    /* Type by size: another struct's size is the crate's wrong T. */
    Data = (A40_PAIR *)(ULONG_PTR)1;
    CHECK_STATUS(WdkmKMutexAcquire(Mutex, sizeof(A40_OTHER), (PVOID *)&Data),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Data == NULL);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* drop_safe(): the release checks that the caller owns the lock; on error
   the lock is unchanged (the kernel would bugcheck). */
static VOID A40KMutexDropSafeChecksOwner(VOID)
{
    A40_PAIR Initial = { 5, 5 };
    PWDKM_KMUTEX Mutex;
    A40_PAIR *Data;
    ULONG64 Seen = 0;
    ULONG64 Bugchecks = (ULONG64)WdkmHostBugcheckCount();

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    Data->A = 6;
    CHECK_STATUS(A40StrayRelease(Mutex, FALSE, PASSIVE_LEVEL), STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(A40StrayRelease(Mutex, FALSE, DISPATCH_LEVEL), STATUS_WDKM_NOT_OWNER);
    CHECK(WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(A40Probe(Mutex, FALSE, sizeof(A40_PAIR), NULL), STATUS_TIMEOUT);
    CHECK_EQ(Data->A, 6);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(A40StrayRelease(Mutex, FALSE, PASSIVE_LEVEL), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(A40Probe(Mutex, FALSE, sizeof(A40_PAIR), &Seen), STATUS_SUCCESS);
    CHECK_EQ(Seen, 6);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_EQ((ULONG64)WdkmHostBugcheckCount(), Bugchecks);     /* none raised here */
}

/* drop of KMutex: refused while held (by the caller or another thread);
   a handle of another kind is "not a live lock of this kind". */
static VOID A40KMutexDropRefusedWhileHeld(VOID)
{
    A40_PAIR Initial = { 1, 2 };
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX Fast;
    A40_PAIR *Data;
    A40_HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    LONG Blocks = WdkmTestPoolOutstanding();

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_WDKM_LOCK_HELD);
    CHECK(WdkmKMutexIsOwned(Mutex));
    CHECK_EQ(Data->A, 1);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);

    memset(&Holder, 0, sizeof(Holder));
    Holder.Lock = Mutex;
    Thread = WdkmTestStartThread(A40HolderThread, &Holder);
    CHECK(Thread != NULL);
    CHECK(A40WaitAtLeast(&Holder.Held, 1));
    CHECK_STATUS(Holder.AcquireStatus, STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks + 1);
    InterlockedExchange(&Holder.Release, 1);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Holder.ReleaseStatus, STATUS_SUCCESS);

    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy((PWDKM_KMUTEX)(PVOID)Fast), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)(PVOID)Mutex), STATUS_INVALID_PARAMETER);
    Data = (A40_PAIR *)(ULONG_PTR)1;
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE((PWDKM_KMUTEX)(PVOID)Fast, &Data), STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Data == NULL);
    CHECK(!WdkmKMutexIsOwned((PWDKM_KMUTEX)(PVOID)Fast));
    CHECK_STATUS(WdkmKMutexRelease((PWDKM_KMUTEX)(PVOID)Fast), STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmFastMutexDestroy(Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(NULL), STATUS_INVALID_PARAMETER);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);
}

/* to_owned() / to_owned_box(): the value comes back by copy and the lock
   is freed; refused while held and for another type, with the lock and
   the destination untouched. */
#define A40_BOX_TAG 0x786F4243UL     /* 'xoBC', the page's tag */

typedef struct _A40_CRATE_STATS {
    ULONG64 Packets;
    ULONG64 Bytes;
} A40_CRATE_STATS;

static NTSTATUS A40ToOwnedBox(PWDKM_KMUTEX Mutex, A40_CRATE_STATS **Boxed)
{
    A40_CRATE_STATS *Block;
    NTSTATUS Status;

    *Boxed = NULL;
    Block = (A40_CRATE_STATS *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Block), A40_BOX_TAG);
    if (Block == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Status = WDKM_KMUTEX_TAKE(Mutex, Block);
    if (Status != STATUS_SUCCESS) {
        ExFreePoolWithTag(Block, A40_BOX_TAG);
        return Status;
    }
    *Boxed = Block;
    return STATUS_SUCCESS;
}

static VOID A40KMutexToOwned(VOID)
{
    A40_CRATE_STATS Initial = { 3, 300 };
    A40_CRATE_STATS Final = { 0xAA, 0xBB };
    A40_CRATE_STATS *Data;
    A40_CRATE_STATS *Boxed = NULL;
    A40_OTHER Wrong;
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX Fast;
    LONG Blocks = WdkmTestPoolOutstanding();

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    Data->Packets += 1;
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Mutex, &Final), STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(Final.Packets, 0xAA);
    CHECK(WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    memset(&Wrong, 0x5A, sizeof(Wrong));
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Mutex, &Wrong), STATUS_WDKM_TYPE_MISMATCH);
    CHECK_EQ(Wrong.A, 0x5A5A5A5A5A5A5A5AULL);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks + 1);
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Mutex, &Final), STATUS_SUCCESS);
    CHECK_EQ(Final.Packets, 4);
    CHECK_EQ(Final.Bytes, 300);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);

    /* to_owned_box: into a caller-owned pool block; a failure frees it. */
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK_STATUS(A40ToOwnedBox(Mutex, &Boxed), STATUS_WDKM_LOCK_HELD);
    CHECK(Boxed == NULL);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(A40ToOwnedBox(Mutex, &Boxed), STATUS_SUCCESS);
    CHECK(Boxed != NULL);
    CHECK_EQ(Boxed->Packets, 3);
    CHECK_EQ(Boxed->Bytes, 300);
    ExFreePoolWithTag(Boxed, A40_BOX_TAG);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);

    /* FastMutex's to_owned: as for KMutex. */
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Fast), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data), STATUS_SUCCESS);
    Data->Bytes = 301;
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(Fast, &Final), STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(Final.Bytes, 300);
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(Fast, &Wrong), STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(Fast, &Final), STATUS_SUCCESS);
    CHECK_EQ(Final.Bytes, 301);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);
}

/* Every IRQL boundary of the KMutex rows; every refusal changes nothing. */
static VOID A40KMutexIrqlBoundaries(VOID)
{
    A40_PAIR Initial = { 10, 20 };
    PWDKM_KMUTEX Mutex;
    PWDKM_KMUTEX Other;
    A40_PAIR *Data;
    A40_PAIR Copy;
    LARGE_INTEGER Zero;
    LARGE_INTEGER Short;
    KIRQL Old;
    NTSTATUS Status;
    ULONG64 Seen = 0;
    LONG Blocks = WdkmTestPoolOutstanding();

    Zero.QuadPart = 0;
    Short.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5);

    /* new: <= DISPATCH_LEVEL. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_KMUTEX_CREATE(&Initial, &Mutex);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    KeRaiseIrql(HIGH_LEVEL, &Old);
    Other = (PWDKM_KMUTEX)(ULONG_PTR)1;
    Status = WDKM_KMUTEX_CREATE(&Initial, &Other);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Other == NULL);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks + 1);

    /* lock: <= APC_LEVEL. APC_LEVEL acquires, DISPATCH_LEVEL refuses. */
    KeRaiseIrql(APC_LEVEL, &Old);
    Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Data);
    if (Status == STATUS_SUCCESS) {
        Data->A += 1;
        Status = WdkmKMutexRelease(Mutex);
    }
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);

    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Data = (A40_PAIR *)(ULONG_PTR)1;
    Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Data);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(A40Probe(Mutex, FALSE, sizeof(A40_PAIR), &Seen), STATUS_SUCCESS);
    CHECK_EQ(Seen, 11);

    /* The timeout form: nonzero needs <= APC_LEVEL; zero is a try, <= DISPATCH. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Data = (A40_PAIR *)(ULONG_PTR)1;
    Status = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Mutex, &Short, &Data);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Mutex, &Zero, &Data);
    if (Status == STATUS_SUCCESS) {
        Data->A += 1;
        Status = WdkmKMutexRelease(Mutex);     /* released at DISPATCH_LEVEL */
    }
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);

    /* The alertable form: <= APC_LEVEL whatever the timeout; KernelMode only. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Data = (A40_PAIR *)(ULONG_PTR)1;
    Status = WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, KernelMode, &Zero, &Data);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);
    Data = (A40_PAIR *)(ULONG_PTR)1;
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, UserMode, NULL, &Data),
                 STATUS_INVALID_PARAMETER);
    CHECK(Data == NULL);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE_ALERTABLE(Mutex, KernelMode, NULL, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);

    /* Try at DISPATCH_LEVEL; its release at PASSIVE_LEVEL is the other class. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Data);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_IRQL_MISMATCH);
    CHECK(WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(A40Probe(Mutex, FALSE, sizeof(A40_PAIR), NULL), STATUS_TIMEOUT);
    /* A recursive acquire below DISPATCH over a DISPATCH hold: refused. */
    Data = (A40_PAIR *)(ULONG_PTR)1;
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_WDKM_IRQL_MISMATCH);
    CHECK(Data == NULL);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WdkmKMutexRelease(Mutex);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK(!WdkmKMutexIsOwned(Mutex));

    /* A PASSIVE hold released at DISPATCH_LEVEL: mismatch; above it: too high. */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    Copy = *Data;
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WdkmKMutexRelease(Mutex);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_MISMATCH);
    CHECK(WdkmKMutexIsOwned(Mutex));
    KeRaiseIrql(HIGH_LEVEL, &Old);
    Status = WdkmKMutexRelease(Mutex);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(WdkmKMutexIsOwned(Mutex));
    /* Too high is checked before ownership: a non-holder at HIGH_LEVEL too. */
    CHECK_STATUS(A40StrayRelease(Mutex, FALSE, HIGH_LEVEL), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(WdkmKMutexIsOwned(Mutex));
    /* Same class (PASSIVE/APC): a release at APC_LEVEL is accepted. */
    KeRaiseIrql(APC_LEVEL, &Old);
    Status = WdkmKMutexRelease(Mutex);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(A40Probe(Mutex, FALSE, sizeof(A40_PAIR), &Seen), STATUS_SUCCESS);
    CHECK_EQ(Seen, Copy.A);

    /* Destroy and Take: <= DISPATCH_LEVEL; above refused, nothing freed. */
    KeRaiseIrql(HIGH_LEVEL, &Old);
    Status = WdkmKMutexDestroy(Mutex);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    KeRaiseIrql(HIGH_LEVEL, &Old);
    Copy.A = 77;
    Status = WDKM_KMUTEX_TAKE(Mutex, &Copy);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_EQ(Copy.A, 77);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks + 1);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_KMUTEX_TAKE(Mutex, &Copy);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Copy.A, 12);
    CHECK_EQ(Copy.B, 20);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);
}

/* ------------------------------------------------------------------ */
/* FastMutex<T>                                                        */
/* ------------------------------------------------------------------ */

static VOID A40FastMutexRows(VOID)
{
    A40_PAIR Initial = { 1, 1 };
    PWDKM_FAST_MUTEX Fast;
    PWDKM_FAST_MUTEX Inner;
    A40_PAIR *Data;
    A40_PAIR *Again;
    A40_PAIR *InnerData;
    A40_HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    NTSTATUS Status;
    KIRQL Old;
    ULONG64 Seen = 0;
    LONG Blocks = WdkmTestPoolOutstanding();

    /* This test lowers the IRQL under a held FAST_MUTEX on purpose (the
       documented STATUS_WDKM_IRQL_MISMATCH release), where a normal APC
       of the run's own injection would find a lock held: none here. */
    WdkmTestInterruptsPause();

    CHECK(A40AgentStart());

    /* new: <= DISPATCH_LEVEL. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_FAST_MUTEX_CREATE(&Initial, &Fast);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    Initial.A = 99;

    /* lock(): the holder runs at APC_LEVEL; the release restores. */
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK_EQ(Data->A, 1);
    Data->A = 2;
    /* A second acquire by the owner: STATUS_POSSIBLE_DEADLOCK, no change. */
    Again = (A40_PAIR *)(ULONG_PTR)1;
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Fast, &Again), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Again == NULL);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK(WdkmFastMutexIsOwned(Fast));
    /* Another thread's release: NOT_OWNER at any IRQL, no change. */
    CHECK_STATUS(A40StrayRelease(Fast, TRUE, PASSIVE_LEVEL), STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(A40StrayRelease(Fast, TRUE, DISPATCH_LEVEL), STATUS_WDKM_NOT_OWNER);
    CHECK(WdkmFastMutexIsOwned(Fast));
    /* The holder at DISPATCH_LEVEL: too high; below APC_LEVEL: mismatch. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WdkmFastMutexRelease(Fast);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(WdkmFastMutexIsOwned(Fast));
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);
    Status = WdkmFastMutexRelease(Fast);
    KeRaiseIrql(APC_LEVEL, &Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_MISMATCH);
    CHECK(WdkmFastMutexIsOwned(Fast));
    /* Destroy and Take refused while held. */
    CHECK_STATUS(WdkmFastMutexDestroy(Fast), STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks + 1);
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(!WdkmFastMutexIsOwned(Fast));
    /* A release with nothing held: NOT_HELD, at any IRQL (ownership first). */
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_WDKM_NOT_HELD);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WdkmFastMutexRelease(Fast);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_NOT_HELD);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* lock() above APC_LEVEL: too high, IRQL unchanged, Data NULL. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Data = (A40_PAIR *)(ULONG_PTR)1;
    Status = WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);
    CHECK(!WdkmFastMutexIsOwned(Fast));
    /* lock() at APC_LEVEL: accepted; the release leaves APC_LEVEL. */
    KeRaiseIrql(APC_LEVEL, &Old);
    Status = WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data);
    if (Status == STATUS_SUCCESS) {
        Data->B = 3;
        Status = WdkmFastMutexRelease(Fast);
        CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    }
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);

    /* Wrong size: TYPE_MISMATCH, IRQL unchanged. */
    CHECK_STATUS(WdkmFastMutexAcquire(Fast, sizeof(A40_OTHER), (PVOID *)&Data),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* The scoped block runs at APC_LEVEL. */
    WDKM_FAST_MUTEX_SCOPED(Fast, Data, &Status) {
        CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
        Data->A += 10;
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* Another thread holds it: the probe sees it busy, the value intact. */
    memset(&Holder, 0, sizeof(Holder));
    Holder.Lock = Fast;
    Holder.Fast = TRUE;
    Thread = WdkmTestStartThread(A40HolderThread, &Holder);
    CHECK(Thread != NULL);
    CHECK(A40WaitAtLeast(&Holder.Held, 1));
    CHECK_STATUS(Holder.AcquireStatus, STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Fast), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_WDKM_NOT_OWNER);
    Status = A40Probe(Fast, TRUE, sizeof(A40_PAIR), NULL);
    CHECK(Status == STATUS_TIMEOUT || Status == STATUS_NOT_SUPPORTED);
    InterlockedExchange(&Holder.Release, 1);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Holder.ReleaseStatus, STATUS_SUCCESS);
    Status = A40Probe(Fast, TRUE, sizeof(A40_PAIR), &Seen);
    CHECK(Status == STATUS_SUCCESS || Status == STATUS_NOT_SUPPORTED);
    if (Status == STATUS_SUCCESS) {
        CHECK_EQ(Seen, 12);
    }

    /* Nested: the outer one taken at PASSIVE released first is refused. */
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Inner), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Inner, &InnerData), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_WDKM_LOCK_HELD);
    CHECK(WdkmFastMutexIsOwned(Fast));
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK_STATUS(WdkmFastMutexRelease(Inner), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* drop of FastMutex: Destroy <= DISPATCH_LEVEL. */
    KeRaiseIrql(HIGH_LEVEL, &Old);
    Status = WdkmFastMutexDestroy(Inner);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WdkmFastMutexDestroy(Inner);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Fast), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);
}

/* The try form: success, busy, or not supported (handle it). */
static VOID A40FastMutexTry(VOID)
{
    A40_PAIR Initial = { 4, 4 };
    PWDKM_FAST_MUTEX Fast;
    A40_PAIR *Data;
    NTSTATUS Status;
    KIRQL Old;

    CHECK(A40AgentStart());

    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Fast), STATUS_SUCCESS);
    Status = WDKM_FAST_MUTEX_TRY_ACQUIRE(Fast, &Data);
    CHECK(Status == STATUS_SUCCESS || Status == STATUS_NOT_SUPPORTED);
    if (Status == STATUS_SUCCESS) {
        CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
        CHECK_EQ(Data->A, 4);
        Data = (A40_PAIR *)(ULONG_PTR)1;
        /* The owner's try: the kernel's would be busy; the library says deadlock or busy. */
        Status = WDKM_FAST_MUTEX_TRY_ACQUIRE(Fast, &Data);
        CHECK(Status == STATUS_POSSIBLE_DEADLOCK || Status == STATUS_TIMEOUT);
        CHECK(Data == NULL);
        CHECK_STATUS(A40Probe(Fast, TRUE, sizeof(A40_PAIR), NULL), STATUS_TIMEOUT);
        CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    } else {
        CHECK(Data == NULL);
    }
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Data = (A40_PAIR *)(ULONG_PTR)1;
    Status = WDKM_FAST_MUTEX_TRY_ACQUIRE(Fast, &Data);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);
    CHECK(!WdkmFastMutexIsOwned(Fast));
    CHECK_STATUS(WdkmFastMutexDestroy(Fast), STATUS_SUCCESS);
}

/* ------------------------------------------------------------------ */
/* Grt                                                                 */
/* ------------------------------------------------------------------ */

static VOID A40GrtReset(VOID)
{
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(200);
    (VOID)WdkmGrtDestroy(&Timeout, NULL);
}

/* The GrtError table and init/destroy rows. */
static VOID A40GrtErrorTable(VOID)
{
    ULONG Value = 5;
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX Fast;
    NTSTATUS Status;
    KIRQL Old;
    static const NTSTATUS Named[] = {
        STATUS_WDKM_IRQL_TOO_HIGH, STATUS_WDKM_IRQL_MISMATCH, STATUS_INSUFFICIENT_RESOURCES,
        STATUS_WDKM_ALREADY_INITIALIZED, STATUS_WDKM_NOT_INITIALIZED, STATUS_DELETE_PENDING,
        STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_NAME_COLLISION, STATUS_WDKM_TYPE_MISMATCH,
        STATUS_WDKM_NOT_OWNER, STATUS_WDKM_NOT_HELD, STATUS_WDKM_LOCK_HELD,
        STATUS_WDKM_OWNED_BY_REGISTRY, STATUS_POSSIBLE_DEADLOCK, STATUS_MUTANT_LIMIT_EXCEEDED,
        STATUS_OBJECT_NAME_INVALID, STATUS_NAME_TOO_LONG, STATUS_TIMEOUT,
    };
    ULONG Index;

    for (Index = 0; Index < sizeof(Named) / sizeof(Named[0]); Index += 1) {
        CHECK(strcmp(WdkmStatusName(Named[Index]), "STATUS_<unknown>") != 0);
    }
    CHECK(strcmp(WdkmStatusName(STATUS_WDKM_NOT_OWNER), "STATUS_WDKM_NOT_OWNER") == 0);

    /* GrtIsNull: before init. */
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.err", &Value), STATUS_WDKM_NOT_INITIALIZED);
    Mutex = (PWDKM_KMUTEX)(ULONG_PTR)1;
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.err", ULONG, &Mutex), STATUS_WDKM_NOT_INITIALIZED);
    CHECK(Mutex == NULL);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_STATUS(WdkmGrtUnregister("a40.err"), STATUS_WDKM_NOT_INITIALIZED);

    /* init: PASSIVE_LEVEL only; refused at APC_LEVEL, nothing created. */
    KeRaiseIrql(APC_LEVEL, &Old);
    Status = WdkmGrtInitialize();
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.err", &Value), STATUS_WDKM_NOT_INITIALIZED);
    /* init failing for pool: nothing left, and it can be retried. */
    WdkmHostPoolFailAt(0);
    Status = WdkmGrtInitialize();
    WdkmHostPoolFailAt(-1);
    if (Status != STATUS_SUCCESS) {
        CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
        CHECK_EQ(WdkmTestPoolOutstanding(), 0);
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    }
    /* GrtAlreadyExists. */
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_WDKM_ALREADY_INITIALIZED);

    /* GrtIsEmpty, KeyNotFound. */
    Mutex = (PWDKM_KMUTEX)(ULONG_PTR)1;
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.err", ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK(Mutex == NULL);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.err", &Value), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.missing", ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    /* KeyExists: the checked form; the first value stays. */
    Value = 6;
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.err", &Value), STATUS_OBJECT_NAME_COLLISION);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("a40.err", &Value), STATUS_OBJECT_NAME_COLLISION);
    /* DowncastError: another kind, another size. */
    Fast = (PWDKM_FAST_MUTEX)(ULONG_PTR)1;
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("a40.err", ULONG, &Fast), STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Fast == NULL);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.err", ULONG64, &Mutex), STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Mutex == NULL);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.err", ULONG, &Mutex), STATUS_SUCCESS);
    {
        ULONG *Data;
        CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
        CHECK_EQ(*Data, 5);
        CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    /* DriverMutexError(e): the create's errors come through unchanged. */
    WdkmHostPoolFailAt(0);
    Status = WDKM_GRT_REGISTER_KMUTEX("a40.nomem", &Value);
    WdkmHostPoolFailAt(-1);
    CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.nomem", ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);

    /* destroy: PASSIVE only; at APC_LEVEL refused and the registry works on. */
    KeRaiseIrql(APC_LEVEL, &Old);
    Status = WdkmGrtDestroy(NULL, NULL);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.err", ULONG, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    /* GrtIsNull after destroy; destroy twice. */
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.err", ULONG, &Mutex), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.err", &Value), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
    /* init again after a complete destroy. */
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.err", ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* register_kmutex (unchecked): overwrites; the old lock lives for whoever
   still references it and is freed at its last dereference. */
static VOID A40GrtReplaceOverwrites(VOID)
{
    ULONG First = 1;
    ULONG Second = 2;
    ULONG64 Third = 3;
    PWDKM_KMUTEX Old;
    PWDKM_KMUTEX New;
    PWDKM_FAST_MUTEX Fast;
    ULONG *Data;
    ULONG64 *Data64;
    LONG Blocks;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REPLACE_KMUTEX("a40.rep", &First), STATUS_SUCCESS);  /* new name too */
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.rep", ULONG, &Old), STATUS_SUCCESS);
    Blocks = WdkmTestPoolOutstanding();
    CHECK_STATUS(WDKM_GRT_REPLACE_KMUTEX("a40.rep", &Second), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.rep", ULONG, &New), STATUS_SUCCESS);
    CHECK(New != Old);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(New, &Data), STATUS_SUCCESS);
    CHECK_EQ(*Data, 2);
    CHECK_STATUS(WdkmKMutexRelease(New), STATUS_SUCCESS);
    /* The old reference still works, on the old value. */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Old, &Data), STATUS_SUCCESS);
    CHECK_EQ(*Data, 1);
    *Data = 11;
    CHECK_STATUS(WdkmKMutexRelease(Old), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Old), STATUS_SUCCESS);      /* frees the old lock */
    CHECK(WdkmTestPoolOutstanding() < Blocks + 1);
    CHECK_STATUS(WdkmGrtDereference(New), STATUS_SUCCESS);

    /* The crate inserts any T under a label: REPLACE with another kind and size. */
    CHECK_STATUS(WDKM_GRT_REPLACE_FAST_MUTEX("a40.rep", &Third), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.rep", ULONG, &New), STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("a40.rep", ULONG, &Fast), STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("a40.rep", ULONG64, &Fast), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data64), STATUS_SUCCESS);
    CHECK_EQ(*Data64, 3);
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Fast), STATUS_SUCCESS);
    /* A REPLACE that fails (pool) leaves the old registration in place. */
    WdkmHostPoolFailAt(0);
    {
        NTSTATUS Status = WDKM_GRT_REPLACE_KMUTEX("a40.rep", &First);
        WdkmHostPoolFailAt(-1);
        CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
    }
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("a40.rep", ULONG64, &Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* labels -> names: 1..63 characters, copied, compared byte for byte. */
static VOID A40GrtNames(VOID)
{
    CHAR Name[80];
    ULONG Value = 9;
    PWDKM_KMUTEX Mutex;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    memset(Name, 'n', sizeof(Name));
    Name[63] = '\0';
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Value), STATUS_SUCCESS);
    Name[63] = 'n';
    Name[64] = '\0';
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Value), STATUS_NAME_TOO_LONG);
    Mutex = (PWDKM_KMUTEX)(ULONG_PTR)1;
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex), STATUS_NAME_TOO_LONG);
    CHECK(Mutex == NULL);
    CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_NAME_TOO_LONG);
    CHECK_STATUS(WdkmGrtUnregister(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtReference(NULL, WdkmLockKindKMutex, sizeof(ULONG), (PVOID *)&Mutex),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegister(NULL, WdkmLockKindKMutex, &Value, sizeof(Value), 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegister("a40.null", WdkmLockKindKMutex, NULL, sizeof(Value), 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("", &Value), STATUS_OBJECT_NAME_INVALID);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("", ULONG, &Mutex), STATUS_OBJECT_NAME_INVALID);
    CHECK_STATUS(WdkmGrtUnregister(""), STATUS_OBJECT_NAME_INVALID);
    /* Copied: the stack buffer changes, the registered name does not. */
    Name[63] = '\0';
    Name[0] = 'X';
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    Name[0] = 'n';
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    /* Byte for byte: case matters, prefixes differ. */
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.Case", &Value), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.case", ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.Cas", ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.case", &Value), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* MutexType: the kind taken by value. */
static VOID A40GrtMutexType(VOID)
{
    ULONG Value = 3;
    PVOID Lock;
    ULONG *Data;
    NTSTATUS Status;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtRegister("a40.kind.k", WdkmLockKindKMutex, &Value, sizeof(Value), 0),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtRegister("a40.kind.f", WdkmLockKindFastMutex, &Value, sizeof(Value), 0),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtRegister("a40.kind.x", (WDKM_LOCK_KIND)0, &Value, sizeof(Value), 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegister("a40.kind.x", (WDKM_LOCK_KIND)8, &Value, sizeof(Value), 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegister("a40.kind.x", WdkmLockKindKMutex, &Value, sizeof(Value), 2),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegister("a40.kind.x", WdkmLockKindKMutex, &Value, 0, 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtReference("a40.kind.x", WdkmLockKindKMutex, sizeof(ULONG), &Lock),
                 STATUS_OBJECT_NAME_NOT_FOUND);
    Lock = (PVOID)(ULONG_PTR)1;
    CHECK_STATUS(WdkmGrtReference("a40.kind.k", (WDKM_LOCK_KIND)9, sizeof(ULONG), &Lock),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Lock == NULL);
    CHECK_STATUS(WdkmGrtReference("a40.kind.k", WdkmLockKindKMutex, 0, &Lock),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmGrtReference("a40.kind.k", WdkmLockKindFastMutex, sizeof(ULONG), &Lock),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmGrtReference("a40.kind.f", WdkmLockKindFastMutex, sizeof(ULONG), &Lock),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE((PWDKM_FAST_MUTEX)Lock, &Data), STATUS_SUCCESS);
    CHECK_EQ(*Data, 3);
    CHECK_STATUS(WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
    /* The generic scoped form with the kind. */
    WDKM_GRT_SCOPED("a40.kind.k", WdkmLockKindKMutex, Data, &Status) {
        *Data += 1;
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    WDKM_GRT_KMUTEX_SCOPED("a40.kind.k", Data, &Status) {
        CHECK_EQ(*Data, 4);
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* Grt IRQL rows; a registry lock is not the kind's own to destroy. */
static VOID A40GrtIrqlAndOwnership(VOID)
{
    ULONG Value = 0;
    ULONG Copy = 0xFFFF;
    PWDKM_KMUTEX Mutex;
    PWDKM_KMUTEX Peek;
    PWDKM_FAST_MUTEX Fast;
    ULONG *Data;
    NTSTATUS Status;
    KIRQL Old;
    LONG Blocks;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.irql.k", &Value), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("a40.irql.f", &Value), STATUS_SUCCESS);
    Blocks = WdkmTestPoolOutstanding();

    /* register: <= APC_LEVEL. */
    KeRaiseIrql(APC_LEVEL, &Old);
    Status = WDKM_GRT_REGISTER_KMUTEX("a40.irql.apc", &Value);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_GRT_REGISTER_KMUTEX("a40.irql.dpc", &Value);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.irql.dpc", ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    /* IRQL before state: a taken name at DISPATCH is still "too high". */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_GRT_REPLACE_KMUTEX("a40.irql.k", &Copy);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmGrtUnregister("a40.irql.apc"), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);

    /* get: lock-free up to DISPATCH_LEVEL; dereference too. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_GRT_GET_KMUTEX("a40.irql.k", ULONG, &Mutex);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    KeRaiseIrql(HIGH_LEVEL, &Old);
    Peek = (PWDKM_KMUTEX)(ULONG_PTR)1;
    Status = WDKM_GRT_GET_KMUTEX("a40.irql.k", ULONG, &Peek);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Peek == NULL);
    /* The registry lock is not the kind's own. */
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_WDKM_OWNED_BY_REGISTRY);
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Mutex, &Copy), STATUS_WDKM_OWNED_BY_REGISTRY);
    CHECK_EQ(Copy, 0xFFFF);
    /* Dereference while holding: refused, the reference is kept. */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    *Data = 1;
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WdkmGrtDereference(Mutex);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(NULL), STATUS_INVALID_PARAMETER);

    /* A lock made with Create is no registry lock. */
    {
        PWDKM_KMUTEX Own;
        CHECK_STATUS(WDKM_KMUTEX_CREATE(&Value, &Own), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDereference(Own), STATUS_INVALID_PARAMETER);
        CHECK_STATUS(WdkmKMutexDestroy(Own), STATUS_SUCCESS);
    }

    /* The scoped registry forms at DISPATCH_LEVEL: refused, nothing run. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Copy = 0;
    WDKM_GRT_KMUTEX_SCOPED("a40.irql.k", Data, &Status) {
        Copy = 1;
    }
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_EQ(Copy, 0);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    WDKM_GRT_FAST_MUTEX_SCOPED("a40.irql.f", Data, &Status) {
        Copy = 1;
    }
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_EQ(Copy, 0);
    /* ... and at APC_LEVEL they run. */
    KeRaiseIrql(APC_LEVEL, &Old);
    WDKM_GRT_FAST_MUTEX_SCOPED("a40.irql.f", Data, &Status) {
        *Data += 5;
    }
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("a40.irql.f", ULONG, &Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Fast), STATUS_WDKM_OWNED_BY_REGISTRY);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data), STATUS_SUCCESS);
    CHECK_EQ(*Data, 5);
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Fast), STATUS_SUCCESS);

    /* unregister: <= APC_LEVEL. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WdkmGrtUnregister("a40.irql.k");
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.irql.k", ULONG, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* ------------------------------------------------------------------ */
/* The crate's walkthrough, end to end, with DPCs and APCs              */
/* ------------------------------------------------------------------ */

#define A40_WALK_NAME "my_test_mutex"

static NTSTATUS A40CrateStyleLoad(VOID)
{
    ULONG Initial = 0;
    NTSTATUS Status;

    Status = WdkmGrtInitialize();
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_GRT_REGISTER_KMUTEX(A40_WALK_NAME, &Initial);
    if (Status != STATUS_SUCCESS) {
        (VOID)WdkmGrtDestroy(NULL, NULL);
    }
    return Status;
}

typedef struct _A40_WALK {
    LONG volatile Stop;
    LONG volatile ThreadIncrements;
    LONG volatile EventIncrements;
    LONG volatile DpcRan;
    LONG volatile ApcRan;
    LONG volatile NapcRan;
    LONG volatile BusyStarted;
    LONG volatile Violations;
    NTSTATUS LastViolation;
    LONG volatile DuringDestroy;       /* events see DELETE_PENDING now */
    LONG volatile RefusedInDestroy;
} A40_WALK;

static VOID A40WalkViolation(A40_WALK *Walk, NTSTATUS Status)
{
    Walk->LastViolation = Status;
    InterlockedIncrement(&Walk->Violations);
}

/* The thread of the crate example: get, lock, += 1, drop. */
static VOID A40WalkScopedThread(PVOID Context, ULONG Index)
{
    A40_WALK *Walk = (A40_WALK *)Context;
    ULONG *Value;
    NTSTATUS Status;
    ULONG Round;

    UNREFERENCED_PARAMETER(Index);
    for (Round = 0; Round < 300; Round += 1) {
        WDKM_GRT_KMUTEX_SCOPED(A40_WALK_NAME, Value, &Status) {
            *Value += 1;
        }
        if (Status == STATUS_SUCCESS) {
            InterlockedIncrement(&Walk->ThreadIncrements);
        } else {
            A40WalkViolation(Walk, Status);
        }
    }
}

/* The busy thread: one reference, many locks, until told to stop; it keeps
   working through a destroy that times out. */
static VOID A40WalkBusyThread(PVOID Context, ULONG Index)
{
    A40_WALK *Walk = (A40_WALK *)Context;
    PWDKM_KMUTEX Mutex;
    ULONG *Value;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    Status = WDKM_GRT_GET_KMUTEX(A40_WALK_NAME, ULONG, &Mutex);
    if (Status != STATUS_SUCCESS) {
        A40WalkViolation(Walk, Status);
        InterlockedIncrement(&Walk->BusyStarted);
        return;
    }
    InterlockedIncrement(&Walk->BusyStarted);
    while (A40Load(&Walk->Stop) == 0) {
        Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Value);
        if (WDKM_ACQUIRED(Status)) {
            *Value += 1;
            InterlockedIncrement(&Walk->ThreadIncrements);
            Status = WdkmKMutexRelease(Mutex);
        }
        if (Status != STATUS_SUCCESS) {
            A40WalkViolation(Walk, Status);
        }
        WdkmTestSleepMs(0);
    }
    Status = WdkmGrtDereference(Mutex);
    if (Status != STATUS_SUCCESS) {
        A40WalkViolation(Walk, Status);
    }
}

/* A DPC on a worker: get at DISPATCH_LEVEL; the blocking acquire is
   refused; a try gets it unless the interrupted code holds it. */
static VOID A40WalkEvent(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A40_WALK *Walk = (A40_WALK *)Context;
    PWDKM_KMUTEX Mutex;
    ULONG *Value;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Random);
    Status = WDKM_GRT_GET_KMUTEX(A40_WALK_NAME, ULONG, &Mutex);
    if (A40Load(&Walk->DuringDestroy) != 0) {
        if (Status == STATUS_DELETE_PENDING || Status == STATUS_WDKM_NOT_INITIALIZED) {
            InterlockedIncrement(&Walk->RefusedInDestroy);
        } else {
            A40WalkViolation(Walk, Status);
            if (Status == STATUS_SUCCESS) {
                (VOID)WdkmGrtDereference(Mutex);
            }
        }
        goto Counted;
    }
    if (Status != STATUS_SUCCESS) {
        A40WalkViolation(Walk, Status);
        goto Counted;
    }
    if (Kind == WdkmHostInterruptDpc) {
        Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Value);
        if (Status != STATUS_WDKM_IRQL_TOO_HIGH) {
            A40WalkViolation(Walk, Status);
        }
        Status = WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Value);
        if (Status == STATUS_SUCCESS) {
            *Value += 1;
            InterlockedIncrement(&Walk->EventIncrements);
            Status = WdkmKMutexRelease(Mutex);
            if (Status != STATUS_SUCCESS) {
                A40WalkViolation(Walk, Status);
            }
        } else if (Status != STATUS_TIMEOUT) {
            A40WalkViolation(Walk, Status);
        }
    } else if (!WdkmKMutexIsOwned(Mutex)) {
        /* An APC: a blocking acquire is allowed at APC_LEVEL. Over its own
           thread's hold NT would grant a recursion mid-update: skipped. */
        Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Value);
        if (Status == STATUS_SUCCESS) {
            *Value += 1;
            InterlockedIncrement(&Walk->EventIncrements);
            Status = WdkmKMutexRelease(Mutex);
            if (Status != STATUS_SUCCESS) {
                A40WalkViolation(Walk, Status);
            }
        } else if (Status != STATUS_POSSIBLE_DEADLOCK) {
            A40WalkViolation(Walk, Status);
        }
    }
    Status = WdkmGrtDereference(Mutex);
    if (Status != STATUS_SUCCESS) {
        A40WalkViolation(Walk, Status);
    }
Counted:
    if (Kind == WdkmHostInterruptDpc) {
        InterlockedIncrement(&Walk->DpcRan);
    } else if (Kind == WdkmHostInterruptSpecialApc) {
        InterlockedIncrement(&Walk->ApcRan);
    } else {
        InterlockedIncrement(&Walk->NapcRan);
    }
}

static VOID A40GrtWalkthroughEndToEnd(VOID)
{
    A40_WALK Walk;
    WDKM_TEST_THREAD *Busy[2];
    WDKM_TEST_THREAD *Scoped[2];
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;
    ULONG *Value;
    NTSTATUS Status;
    ULONG Final = 0;
    ULONG Index;
    LONG Events = 0;
    LONG Before;
    LONG Round;

    memset(&Walk, 0, sizeof(Walk));
    CHECK_STATUS(A40CrateStyleLoad(), STATUS_SUCCESS);
    for (Index = 0; Index < 2; Index += 1) {
        Busy[Index] = WdkmTestStartThread(A40WalkBusyThread, &Walk);
        CHECK(Busy[Index] != NULL);
        Scoped[Index] = WdkmTestStartThread(A40WalkScopedThread, &Walk);
        CHECK(Scoped[Index] != NULL);
    }
    CHECK(A40WaitAtLeast(&Walk.BusyStarted, 2));

    /* DPCs and APCs from other threads' contexts, onto the busy workers. */
    for (Round = 0; Round < 20; Round += 1) {
        for (Index = 0; Index < 2; Index += 1) {
            WdkmHostQueueInterrupt(WdkmTestThreadObject(Busy[Index]), WdkmHostInterruptDpc,
                                   A40WalkEvent, &Walk);
            WdkmHostQueueInterrupt(WdkmTestThreadObject(Busy[Index]), WdkmHostInterruptSpecialApc,
                                   A40WalkEvent, &Walk);
            WdkmHostQueueInterrupt(WdkmTestThreadObject(Busy[Index]), WdkmHostInterruptNormalApc,
                                   A40WalkEvent, &Walk);
            Events += 3;
        }
        CHECK(A40WaitAtLeast(&Walk.DpcRan, (Round + 1) * 2));
        CHECK(A40WaitAtLeast(&Walk.ApcRan, (Round + 1) * 2));
        CHECK(A40WaitAtLeast(&Walk.NapcRan, (Round + 1) * 2));
    }
    /* And on this thread, which holds nothing. */
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A40WalkEvent, &Walk);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A40WalkEvent, &Walk);
    WdkmTestJoinThread(Scoped[0]);
    WdkmTestJoinThread(Scoped[1]);
    CHECK_EQ(A40Load(&Walk.Violations), 0);

    /* Unload while the busy threads still use it: the crate would free the
       lock under them; here it times out and names it. */
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(20);
    InterlockedExchange(&Walk.DuringDestroy, 1);
    memset(&Report, 0xCC, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.Freed, 0);
    CHECK_EQ(Report.StillReferenced, 1);
    CHECK_EQ(Report.UnregisteredReferenced, 0);
    CHECK_EQ(Report.NamesReported, 1);
    CHECK(strcmp(Report.Names[0], A40_WALK_NAME) == 0);
    CHECK(Report.StillHeld <= 1);
    /* Lookups and registrations are refused; init too (unfinished destroy). */
    {
        PWDKM_KMUTEX Mutex;
        ULONG Zero = 0;
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX(A40_WALK_NAME, ULONG, &Mutex), STATUS_DELETE_PENDING);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.late", &Zero), STATUS_DELETE_PENDING);
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_WDKM_ALREADY_INITIALIZED);
    }
    WDKM_GRT_KMUTEX_SCOPED(A40_WALK_NAME, Value, &Status) {
        *Value += 1000;
    }
    CHECK_STATUS(Status, STATUS_DELETE_PENDING);
    /* The busy threads go on working on the live lock. */
    Before = A40Load(&Walk.ThreadIncrements);
    CHECK(A40WaitAtLeast(&Walk.ThreadIncrements, Before + 50));
    for (Index = 0; Index < 2; Index += 1) {
        WdkmHostQueueInterrupt(WdkmTestThreadObject(Busy[Index]), WdkmHostInterruptDpc,
                               A40WalkEvent, &Walk);
    }
    CHECK(A40WaitAtLeast(&Walk.RefusedInDestroy, 2));
    /* A second timed-out call goes on where it stopped. */
    Timeout.QuadPart = 0;
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.StillReferenced, 1);

    /* The busy threads read the final value before they drop their references. */
    InterlockedExchange(&Walk.Stop, 1);
    WdkmTestJoinThread(Busy[0]);
    WdkmTestJoinThread(Busy[1]);
    CHECK_EQ(A40Load(&Walk.Violations), 0);
    /* The last dereference freed the lock (the destroy had retired it):
       no registry lock is left for the next call to free or count. */
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
    memset(&Report, 0xCC, sizeof(Report));
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5000);
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.Freed, 0);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(Report.NamesReported, 0);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_WDKM_NOT_INITIALIZED);
    UNREFERENCED_PARAMETER(Final);
    UNREFERENCED_PARAMETER(Events);
    CHECK(A40Load(&Walk.ThreadIncrements) >= 600);
}

/* The final count is exact: thread and event increments, no lost update. */
static VOID A40GrtWalkthroughExactCount(VOID)
{
    A40_WALK Walk;
    WDKM_TEST_THREAD *Scoped[3];
    ULONG *Value;
    NTSTATUS Status;
    ULONG Final = 0;
    ULONG Index;
    LONG Round;

    memset(&Walk, 0, sizeof(Walk));
    CHECK_STATUS(A40CrateStyleLoad(), STATUS_SUCCESS);
    for (Index = 0; Index < 3; Index += 1) {
        Scoped[Index] = WdkmTestStartThread(A40WalkScopedThread, &Walk);
        CHECK(Scoped[Index] != NULL);
    }
    for (Round = 0; Round < 30; Round += 1) {
        WdkmHostQueueInterrupt(WdkmTestThreadObject(Scoped[Round % 3]),
                               (WDKM_HOST_INTERRUPT)(Round % 3), A40WalkEvent, &Walk);
    }
    for (Index = 0; Index < 3; Index += 1) {
        WdkmTestJoinThread(Scoped[Index]);
    }
    CHECK_EQ(A40Load(&Walk.Violations), 0);
    WDKM_GRT_KMUTEX_SCOPED(A40_WALK_NAME, Value, &Status) {
        Final = *Value;
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(A40Load(&Walk.ThreadIncrements), 900);
    CHECK_EQ(Final, (ULONG)(A40Load(&Walk.ThreadIncrements) + A40Load(&Walk.EventIncrements)));
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* ------------------------------------------------------------------ */
/* migration.md                                                         */
/* ------------------------------------------------------------------ */

typedef struct _A40_QUEUE_STATE {
    ULONG Pending;
    ULONG64 Submitted;
} A40_QUEUE_STATE;

typedef struct _A40_TIMEOUT_TRY {
    PWDKM_KMUTEX Lock;
    NTSTATUS Status;
    PVOID Data;
    BOOLEAN OwnedAfter;
} A40_TIMEOUT_TRY;

static VOID A40TimeoutThread(PVOID Context, ULONG Index)
{
    A40_TIMEOUT_TRY *Try = (A40_TIMEOUT_TRY *)Context;
    LARGE_INTEGER Timeout;
    A40_QUEUE_STATE *State = (A40_QUEUE_STATE *)(ULONG_PTR)1;

    UNREFERENCED_PARAMETER(Index);
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(30);
    Try->Status = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Try->Lock, &Timeout, &State);
    Try->Data = State;
    Try->OwnedAfter = WdkmKMutexIsOwned(Try->Lock);
    if (Try->Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(Try->Lock);
    }
}

/* Steps 1-6 with the page's own QueueSubmit/QueueComplete shape. */
static VOID A40MigrationSteps(VOID)
{
    A40_QUEUE_STATE Initial = { 0, 0 };
    A40_QUEUE_STATE Final;
    A40_QUEUE_STATE *State;
    PWDKM_KMUTEX QueueLock = NULL;
    A40_TIMEOUT_TRY Try;
    NTSTATUS Status;
    WDKM_POOL_STATISTICS Pool;
    LONG Before;
    LONG FailAt;
    KIRQL Old;

    WdkmQueryPoolStatistics(&Pool);
    Before = Pool.OutstandingBlocks;
    /* Step 2: create allocates - check its status: every failure is clean. */
    for (FailAt = 0; FailAt < 4; FailAt += 1) {
        WdkmHostPoolFailAt(FailAt);
        Status = WDKM_KMUTEX_CREATE(&Initial, &QueueLock);
        WdkmHostPoolFailAt(-1);
        if (Status == STATUS_SUCCESS) {
            break;
        }
        CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
        CHECK(QueueLock == NULL);
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    /* Step 3: acquire and access through Data; the scoped block. */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(QueueLock, &State), STATUS_SUCCESS);
    State->Pending += 2;
    State->Submitted += 2;
    CHECK_STATUS(WdkmKMutexRelease(QueueLock), STATUS_SUCCESS);    /* step 5 */
    WDKM_KMUTEX_SCOPED(QueueLock, State, &Status) {
        if (State->Pending == 0) {
            continue;
        }
        State->Pending -= 1;
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    /* At DISPATCH_LEVEL: STATUS_WDKM_IRQL_TOO_HIGH instead of a bugcheck. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_KMUTEX_ACQUIRE(QueueLock, &State);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    /* Step 4: a timed-out wait is STATUS_TIMEOUT, NT_SUCCESS, and not held. */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(QueueLock, &State), STATUS_SUCCESS);
    Try.Lock = QueueLock;
    Try.Status = STATUS_UNSUCCESSFUL;
    Try.Data = (PVOID)(ULONG_PTR)1;
    Try.OwnedAfter = TRUE;
    CHECK(WdkmTestRunThreads(1, A40TimeoutThread, &Try));
    CHECK_STATUS(Try.Status, STATUS_TIMEOUT);
    CHECK(NT_SUCCESS(Try.Status));
    CHECK(!WDKM_ACQUIRED(Try.Status));
    CHECK(Try.Data == NULL);
    CHECK(!Try.OwnedAfter);
    CHECK(WdkmKMutexIsOwned(QueueLock));
    CHECK_STATUS(WdkmKMutexRelease(QueueLock), STATUS_SUCCESS);
    /* Step 6: take the final value; nothing leaked. */
    CHECK_STATUS(WDKM_KMUTEX_TAKE(QueueLock, &Final), STATUS_SUCCESS);
    CHECK_EQ(Final.Pending, 1);
    CHECK_EQ(Final.Submitted, 2);
    WdkmQueryPoolStatistics(&Pool);
    CHECK_EQ(Pool.OutstandingBlocks, Before);
}

/* The kernel-rules table, row by row. */
static VOID A40MigrationKernelRules(VOID)
{
    ULONG Initial = 0;
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX Fast;
    ULONG *Data;
    NTSTATUS Status;
    KIRQL Old;
    ULONG Depth;
    ULONG64 Bugchecks = (ULONG64)WdkmHostBugcheckCount();

    /* This test lowers the IRQL under a held FAST_MUTEX on purpose (the
       documented STATUS_WDKM_IRQL_MISMATCH release), where a normal APC
       of the run's own injection would find a lock held: none here. */
    WdkmTestInterruptsPause();

    CHECK(A40AgentStart());

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Fast), STATUS_SUCCESS);
    /* wait at <= APC_LEVEL */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Data);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    /* only the owner releases */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK_STATUS(A40StrayRelease(Mutex, FALSE, PASSIVE_LEVEL), STATUS_WDKM_NOT_OWNER);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    /* release once per acquire */
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);
    /* FAST_MUTEX not recursive */
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data), STATUS_POSSIBLE_DEADLOCK);
    /* release a FAST_MUTEX at APC_LEVEL, on the acquiring thread */
    CHECK_STATUS(A40StrayRelease(Fast, TRUE, APC_LEVEL), STATUS_WDKM_NOT_OWNER);
    KeLowerIrql(PASSIVE_LEVEL);
    Status = WdkmFastMutexRelease(Fast);
    KeRaiseIrql(APC_LEVEL, &Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    /* do not free a held lock */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    /* the data pointer exists only between acquire and release: NULL on failure */
    Data = (ULONG *)(ULONG_PTR)1;
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Data);
    KeLowerIrql(Old);
    CHECK(Data == NULL);
    /* recursion: a few levels deep, each with its release */
    for (Depth = 0; Depth < 64; Depth += 1) {
        CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    }
    for (Depth = 0; Depth < 64; Depth += 1) {
        CHECK(WdkmKMutexIsOwned(Mutex));
        CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    }
    CHECK(!WdkmKMutexIsOwned(Mutex));
    /* Checked builds track 16 holds per thread: the 48 deeper ones were
       counted Untracked, which later suites (the model) expect to be 0
       since the last reset. */
    (VOID)WdkmDiagReset();
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Fast), STATUS_SUCCESS);
    CHECK_EQ((ULONG64)WdkmHostBugcheckCount(), Bugchecks);     /* none raised here */
}

/* Spin locks: inside one, every waiting lock answers IRQL_TOO_HIGH;
   rundown: the EX_RUNDOWN_REF mapping. */
static VOID A40MigrationSpinLockAndRundown(VOID)
{
    ULONG Initial = 0;
    PWDKM_SPIN_LOCK Spin;
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX Fast;
    ULONG *SpinData;
    ULONG *Data;
    KIRQL OldIrql;
    NTSTATUS KStatus;
    NTSTATUS FStatus;
    NTSTATUS GStatus;
    WDKM_RUNDOWN Rundown;
    LARGE_INTEGER Zero;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Initial, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.spin.k", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spin, &OldIrql, &SpinData), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KStatus = WDKM_KMUTEX_ACQUIRE(Mutex, &Data);
    FStatus = WDKM_FAST_MUTEX_ACQUIRE(Fast, &Data);
    WDKM_GRT_KMUTEX_SCOPED("a40.spin.k", Data, &GStatus) {
        *Data += 1;
    }
    CHECK_STATUS(WdkmSpinLockRelease(Spin, OldIrql), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(KStatus, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(FStatus, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(GStatus, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK(!WdkmFastMutexIsOwned(Fast));
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Fast), STATUS_SUCCESS);

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    Zero.QuadPart = 0;
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Zero), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* ------------------------------------------------------------------ */
/* A seeded random model of the registry                                */
/* ------------------------------------------------------------------ */

#define A40_MODEL_NAMES 6
#define A40_MODEL_REFS 24
#define A40_MODEL_INSTANCES 4096

typedef struct _A40_MODEL_INSTANCE {
    WDKM_LOCK_KIND Kind;
    SIZE_T Size;
    ULONG64 Value;
    LONG Refs;
    BOOLEAN Registered;
} A40_MODEL_INSTANCE;

typedef struct _A40_MODEL {
    ULONG64 Random;
    CHAR Names[A40_MODEL_NAMES][24];
    LONG NameInstance[A40_MODEL_NAMES];          /* -1: not registered */
    A40_MODEL_INSTANCE Instances[A40_MODEL_INSTANCES];
    LONG InstanceCount;
    PVOID RefLock[A40_MODEL_REFS];
    LONG RefInstance[A40_MODEL_REFS];
    LONG RefCount;
    BOOLEAN AllowDestroy;
    ULONG Ops;
    ULONG Destroys;
    CHAR Failure[160];
} A40_MODEL;

/* The value of both sizes starts with a ULONG64 counter. */
typedef struct _A40_BIG {
    ULONG64 Count;
    ULONG64 Mirror;
    ULONG64 Pad[2];
} A40_BIG;

static ULONG64 A40Next(ULONG64 *State)
{
    ULONG64 X = *State;

    X ^= X << 13;
    X ^= X >> 7;
    X ^= X << 17;
    *State = X;
    return X;
}

/* Events injected while the model walks: they look names up and take the
   locks briefly, changing nothing the model sees. */
typedef struct _A40_MODEL_EVENTS {
    CHAR Names[2 * A40_MODEL_NAMES][24];
    ULONG NameCount;
    LONG volatile Ran;
    LONG volatile Violations;
    NTSTATUS LastViolation;
    LONG LastLine;
} A40_MODEL_EVENTS;

static A40_MODEL_EVENTS A40Events;

static VOID A40EventViolation(NTSTATUS Status, LONG Line)
{
    A40Events.LastViolation = Status;
    A40Events.LastLine = Line;
    InterlockedIncrement(&A40Events.Violations);
}

static VOID A40ModelEvent(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    PCSTR Name;
    WDKM_LOCK_KIND LockKind;
    SIZE_T Size;
    PVOID Lock;
    A40_BIG *Data;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Context);
    if (A40Events.NameCount == 0) {
        return;
    }
    InterlockedIncrement(&A40Events.Ran);
    Name = A40Events.Names[Random % A40Events.NameCount];
    LockKind = ((Random >> 8) & 1) ? WdkmLockKindFastMutex : WdkmLockKindKMutex;
    Size = ((Random >> 9) & 1) ? sizeof(A40_BIG) : sizeof(ULONG64);
    Status = WdkmGrtReference(Name, LockKind, Size, &Lock);
    if (Status != STATUS_SUCCESS) {
        if (Status != STATUS_OBJECT_NAME_NOT_FOUND && Status != STATUS_WDKM_TYPE_MISMATCH &&
            Status != STATUS_DELETE_PENDING && Status != STATUS_WDKM_NOT_INITIALIZED) {
            A40EventViolation(Status, __LINE__);
        }
        return;
    }
    if (LockKind == WdkmLockKindKMutex) {
        if (Kind == WdkmHostInterruptDpc) {
            Status = WdkmKMutexTryAcquire((PWDKM_KMUTEX)Lock, Size, (PVOID *)&Data);
            if (Status == STATUS_SUCCESS) {
                if (Size == sizeof(A40_BIG) && Data->Count != Data->Mirror) {
                    A40EventViolation(STATUS_INTERNAL_ERROR, __LINE__);
                }
                Status = WdkmKMutexRelease((PWDKM_KMUTEX)Lock);
                if (Status != STATUS_SUCCESS) {
                    A40EventViolation(Status, __LINE__);
                }
            } else if (Status != STATUS_TIMEOUT) {
                A40EventViolation(Status, __LINE__);
            }
        } else if (!WdkmKMutexIsOwned((PWDKM_KMUTEX)Lock)) {
            Status = WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, Size, (PVOID *)&Data);
            if (Status == STATUS_SUCCESS) {
                if (Size == sizeof(A40_BIG) && Data->Count != Data->Mirror) {
                    A40EventViolation(STATUS_INTERNAL_ERROR, __LINE__);
                }
                Status = WdkmKMutexRelease((PWDKM_KMUTEX)Lock);
                if (Status != STATUS_SUCCESS) {
                    A40EventViolation(Status, __LINE__);
                }
            } else if (Status != STATUS_POSSIBLE_DEADLOCK) {
                A40EventViolation(Status, __LINE__);
            }
        }
    } else {
        if (Kind == WdkmHostInterruptDpc) {
            Status = WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock, Size, (PVOID *)&Data);
            if (Status != STATUS_WDKM_IRQL_TOO_HIGH) {
                A40EventViolation(Status, __LINE__);
            }
        } else {
            /* An APC cannot interrupt its thread's hold (APC_LEVEL masks it);
               another model thread may hold it: wait. */
            Status = WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock, Size, (PVOID *)&Data);
            if (Status == STATUS_SUCCESS) {
                if (Size == sizeof(A40_BIG) && Data->Count != Data->Mirror) {
                    A40EventViolation(STATUS_INTERNAL_ERROR, __LINE__);
                }
                Status = WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock);
                if (Status != STATUS_SUCCESS) {
                    A40EventViolation(Status, __LINE__);
                }
            } else {
                A40EventViolation(Status, __LINE__);
            }
        }
    }
    Status = WdkmGrtDereference(Lock);
    if (Status != STATUS_SUCCESS) {
        A40EventViolation(Status, __LINE__);
    }
}

#define A40_MODEL_CHECK(Model, Condition, Actual)                                   \
    do {                                                                           \
        if (!(Condition)) {                                                        \
            snprintf((Model)->Failure, sizeof((Model)->Failure),                  \
                      "op %u line %d: %s (got %s)", (Model)->Ops, __LINE__,       \
                      #Condition, WdkmStatusName(Actual));                        \
            return FALSE;                                                          \
        }                                                                          \
    } while (0)

static LONG A40ModelNewInstance(A40_MODEL *Model, WDKM_LOCK_KIND Kind, SIZE_T Size, ULONG64 Value)
{
    LONG Index = Model->InstanceCount;

    if (Index >= A40_MODEL_INSTANCES) {
        return -1;
    }
    Model->InstanceCount += 1;
    Model->Instances[Index].Kind = Kind;
    Model->Instances[Index].Size = Size;
    Model->Instances[Index].Value = Value;
    Model->Instances[Index].Refs = 0;
    Model->Instances[Index].Registered = TRUE;
    return Index;
}

static NTSTATUS A40ModelLock(PVOID Lock, WDKM_LOCK_KIND Kind, SIZE_T Size, A40_BIG **Data)
{
    return Kind == WdkmLockKindKMutex
               ? WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, Size, (PVOID *)Data)
               : WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock, Size, (PVOID *)Data);
}

static NTSTATUS A40ModelUnlock(PVOID Lock, WDKM_LOCK_KIND Kind)
{
    return Kind == WdkmLockKindKMutex ? WdkmKMutexRelease((PWDKM_KMUTEX)Lock)
                                      : WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock);
}

/* Updates the value: the counter and its mirror, apart, so that an event
   that sees them differ saw an update in progress. */
static VOID A40ModelBump(A40_BIG *Data, SIZE_T Size)
{
    Data->Count += 1;
    if (Size == sizeof(A40_BIG)) {
        WdkmTestSleepMs(0);
        Data->Mirror += 1;
    }
}

static BOOLEAN A40ModelStep(A40_MODEL *Model)
{
    ULONG64 R = A40Next(&Model->Random);
    ULONG Op = (ULONG)(R % 100);
    ULONG NameIndex = (ULONG)((R >> 8) % A40_MODEL_NAMES);
    PCSTR Name = Model->Names[NameIndex];
    WDKM_LOCK_KIND Kind = ((R >> 16) & 1) ? WdkmLockKindFastMutex : WdkmLockKindKMutex;
    SIZE_T Size = ((R >> 17) & 1) ? sizeof(A40_BIG) : sizeof(ULONG64);
    BOOLEAN Raise = ((R >> 18) % 8) == 0;
    LONG Current = Model->NameInstance[NameIndex];
    NTSTATUS Status;
    KIRQL Old;
    A40_BIG Initial;
    A40_BIG *Data;
    PVOID Lock;

    Model->Ops += 1;
    memset(&Initial, 0, sizeof(Initial));
    Initial.Count = (R >> 24) & 0xFFFF;
    Initial.Mirror = Initial.Count;

    if (Op < 18) {
        /* register (checked) or replace; at DISPATCH_LEVEL refused. */
        BOOLEAN Replace = ((R >> 19) & 3) == 0;
        if (Raise) {
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
        }
        Status = WdkmGrtRegister(Name, Kind, &Initial, Size, Replace ? WDKM_GRT_REPLACE : 0);
        if (Raise) {
            KeLowerIrql(Old);
            A40_MODEL_CHECK(Model, Status == STATUS_WDKM_IRQL_TOO_HIGH, Status);
            return TRUE;
        }
        if (Current >= 0 && !Replace) {
            A40_MODEL_CHECK(Model, Status == STATUS_OBJECT_NAME_COLLISION, Status);
            return TRUE;
        }
        A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
        if (Current >= 0) {
            Model->Instances[Current].Registered = FALSE;
        }
        Model->NameInstance[NameIndex] = A40ModelNewInstance(Model, Kind, Size, Initial.Count);
        A40_MODEL_CHECK(Model, Model->NameInstance[NameIndex] >= 0, STATUS_SUCCESS);
        return TRUE;
    }
    if (Op < 26) {
        /* unregister */
        if (Raise) {
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
        }
        Status = WdkmGrtUnregister(Name);
        if (Raise) {
            KeLowerIrql(Old);
            A40_MODEL_CHECK(Model, Status == STATUS_WDKM_IRQL_TOO_HIGH, Status);
            return TRUE;
        }
        if (Current < 0) {
            A40_MODEL_CHECK(Model, Status == STATUS_OBJECT_NAME_NOT_FOUND, Status);
            return TRUE;
        }
        A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
        Model->Instances[Current].Registered = FALSE;
        Model->NameInstance[NameIndex] = -1;
        return TRUE;
    }
    if (Op < 50) {
        /* get: up to DISPATCH_LEVEL. */
        if (Raise) {
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
        }
        Lock = (PVOID)(ULONG_PTR)1;
        Status = WdkmGrtReference(Name, Kind, Size, &Lock);
        if (Raise) {
            KeLowerIrql(Old);
        }
        if (Current < 0) {
            A40_MODEL_CHECK(Model, Status == STATUS_OBJECT_NAME_NOT_FOUND && Lock == NULL, Status);
            return TRUE;
        }
        if (Model->Instances[Current].Kind != Kind || Model->Instances[Current].Size != Size) {
            A40_MODEL_CHECK(Model, Status == STATUS_WDKM_TYPE_MISMATCH && Lock == NULL, Status);
            return TRUE;
        }
        A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS && Lock != NULL, Status);
        if (Model->RefCount == A40_MODEL_REFS) {
            Status = WdkmGrtDereference(Lock);
            A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
            return TRUE;
        }
        Model->RefLock[Model->RefCount] = Lock;
        Model->RefInstance[Model->RefCount] = Current;
        Model->RefCount += 1;
        Model->Instances[Current].Refs += 1;
        return TRUE;
    }
    if (Op < 78 && Model->RefCount > 0) {
        /* use a held reference: lock, check, bump, unlock; sometimes a
           dereference while holding (refused, the reference kept). */
        LONG Slot = (LONG)((R >> 20) % (ULONG64)Model->RefCount);
        A40_MODEL_INSTANCE *Instance = &Model->Instances[Model->RefInstance[Slot]];
        Lock = Model->RefLock[Slot];
        Status = A40ModelLock(Lock, Instance->Kind, Instance->Size, &Data);
        A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
        A40_MODEL_CHECK(Model, Data->Count == Instance->Value, STATUS_INTERNAL_ERROR);
        if (Instance->Size == sizeof(A40_BIG)) {
            A40_MODEL_CHECK(Model, Data->Mirror == Instance->Value, STATUS_INTERNAL_ERROR);
        }
        A40ModelBump(Data, Instance->Size);
        Instance->Value += 1;
        if (((R >> 30) & 3) == 0) {
            Status = WdkmGrtDereference(Lock);
            if (Status != STATUS_WDKM_LOCK_HELD) {
                (VOID)A40ModelUnlock(Lock, Instance->Kind);
            }
            A40_MODEL_CHECK(Model, Status == STATUS_WDKM_LOCK_HELD, Status);
        }
        /* A wrong-size get of a held lock's name changes nothing. */
        Status = A40ModelUnlock(Lock, Instance->Kind);
        A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
        return TRUE;
    }
    if (Op < 92 && Model->RefCount > 0) {
        /* dereference */
        LONG Slot = (LONG)((R >> 20) % (ULONG64)Model->RefCount);
        LONG Instance = Model->RefInstance[Slot];
        if (Raise) {
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
        }
        Status = WdkmGrtDereference(Model->RefLock[Slot]);
        if (Raise) {
            KeLowerIrql(Old);
        }
        A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
        Model->Instances[Instance].Refs -= 1;
        Model->RefCount -= 1;
        Model->RefLock[Slot] = Model->RefLock[Model->RefCount];
        Model->RefInstance[Slot] = Model->RefInstance[Model->RefCount];
        return TRUE;
    }
    if (Op < 98 || !Model->AllowDestroy) {
        /* the scoped form by name */
        ULONG64 Seen = ~0ULL;
        Status = STATUS_UNSUCCESSFUL;
        {
            WDKM_SCOPE Scope = WdkmGrtScopeEnter(Name, Kind, Size, (PVOID *)&Data, &Status);
            if (Status == STATUS_SUCCESS) {
                Seen = Data->Count;
                A40ModelBump(Data, Size);
            }
            WdkmScopeLeave(&Scope);
        }
        if (Current < 0) {
            A40_MODEL_CHECK(Model, Status == STATUS_OBJECT_NAME_NOT_FOUND, Status);
            return TRUE;
        }
        if (Model->Instances[Current].Kind != Kind || Model->Instances[Current].Size != Size) {
            A40_MODEL_CHECK(Model, Status == STATUS_WDKM_TYPE_MISMATCH, Status);
            return TRUE;
        }
        A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
        A40_MODEL_CHECK(Model, Seen == Model->Instances[Current].Value, STATUS_INTERNAL_ERROR);
        Model->Instances[Current].Value += 1;
        return TRUE;
    }
    {
        /* destroy with no wait: a timeout while references are out, naming
           them; then drop them all and destroy for good, and start again. */
        WDKM_GRT_REPORT Report;
        LARGE_INTEGER Zero;
        ULONG Registered = 0;
        ULONG RegisteredReferenced = 0;
        ULONG UnregisteredReferenced = 0;
        LONG Index;

        for (Index = 0; Index < Model->InstanceCount; Index += 1) {
            A40_MODEL_INSTANCE *Instance = &Model->Instances[Index];
            if (Instance->Registered) {
                Registered += 1;
                if (Instance->Refs > 0) {
                    RegisteredReferenced += 1;
                }
            } else if (Instance->Refs > 0) {
                UnregisteredReferenced += 1;
            }
        }
        Model->Destroys += 1;
        Zero.QuadPart = 0;
        memset(&Report, 0xCC, sizeof(Report));
        Status = WdkmGrtDestroy(&Zero, &Report);
        if (Model->RefCount > 0) {
            A40_MODEL_CHECK(Model, Status == STATUS_TIMEOUT, Status);
            A40_MODEL_CHECK(Model, Report.StillReferenced == RegisteredReferenced, Status);
            A40_MODEL_CHECK(Model, Report.UnregisteredReferenced == UnregisteredReferenced, Status);
            A40_MODEL_CHECK(Model, Report.Freed == Registered - RegisteredReferenced, Status);
            A40_MODEL_CHECK(Model, Report.NamesReported ==
                                       RegisteredReferenced + UnregisteredReferenced, Status);
            Status = WdkmGrtReference(Name, Kind, Size, &Lock);
            A40_MODEL_CHECK(Model, Status == STATUS_DELETE_PENDING, Status);
            Status = WdkmGrtRegister(Name, Kind, &Initial, Size, 0);
            A40_MODEL_CHECK(Model, Status == STATUS_DELETE_PENDING, Status);
            Status = WdkmGrtInitialize();
            A40_MODEL_CHECK(Model, Status == STATUS_WDKM_ALREADY_INITIALIZED, Status);
            /* The references still work, then go. */
            while (Model->RefCount > 0) {
                LONG Slot = Model->RefCount - 1;
                A40_MODEL_INSTANCE *Instance = &Model->Instances[Model->RefInstance[Slot]];
                Status = A40ModelLock(Model->RefLock[Slot], Instance->Kind, Instance->Size, &Data);
                A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
                A40_MODEL_CHECK(Model, Data->Count == Instance->Value, STATUS_INTERNAL_ERROR);
                Status = A40ModelUnlock(Model->RefLock[Slot], Instance->Kind);
                A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
                Status = WdkmGrtDereference(Model->RefLock[Slot]);
                A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
                Instance->Refs -= 1;
                Model->RefCount -= 1;
            }
            /* Each was freed by its last dereference, before this call. */
            A40_MODEL_CHECK(Model, WdkmTestPoolOutstanding() == 0, STATUS_SUCCESS);
            memset(&Report, 0xCC, sizeof(Report));
            Status = WdkmGrtDestroy(&Zero, &Report);
            A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
            A40_MODEL_CHECK(Model, Report.Freed == 0, Status);
        } else {
            A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
            A40_MODEL_CHECK(Model, Report.Freed == Registered, Status);
            A40_MODEL_CHECK(Model, Report.StillReferenced == 0, Status);
        }
        A40_MODEL_CHECK(Model, WdkmTestPoolOutstanding() == 0, STATUS_SUCCESS);
        Status = WdkmGrtInitialize();
        A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
        for (Index = 0; Index < A40_MODEL_NAMES; Index += 1) {
            Model->NameInstance[Index] = -1;
        }
        Model->InstanceCount = 0;
        return TRUE;
    }
}

static VOID A40ModelInit(A40_MODEL *Model, ULONG64 Seed, PCSTR Prefix, BOOLEAN AllowDestroy)
{
    ULONG Index;

    memset(Model, 0, sizeof(*Model));
    Model->Random = Seed * 0x9E3779B97F4A7C15ULL + 1;
    Model->AllowDestroy = AllowDestroy;
    for (Index = 0; Index < A40_MODEL_NAMES; Index += 1) {
        snprintf(Model->Names[Index], sizeof(Model->Names[Index]), "%s.%u", Prefix, Index);
        Model->NameInstance[Index] = -1;
    }
}

/* Drops every reference the model still holds (end of a walk). */
static BOOLEAN A40ModelDrain(A40_MODEL *Model)
{
    NTSTATUS Status;

    while (Model->RefCount > 0) {
        Model->RefCount -= 1;
        Status = WdkmGrtDereference(Model->RefLock[Model->RefCount]);
        A40_MODEL_CHECK(Model, Status == STATUS_SUCCESS, Status);
    }
    return TRUE;
}

static BOOLEAN A40StartInjection(BOOLEAN *Started, ULONG64 Seed, BOOLEAN Routine)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;

    *Started = FALSE;
    if (WdkmHostInterruptsActive(NULL)) {
        return TRUE;        /* the run's own injection (WDKM_HOST_INTERRUPTS) goes on */
    }
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = Seed;
    Settings.MeanIntervalMicroseconds = 300;
    Settings.DpcWeight = 2;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 2;
    Settings.SuspendMaxMicroseconds = 200;
    Settings.Routine = Routine ? A40ModelEvent : NULL;
    WdkmHostInterruptsStart(&Settings);
    *Started = TRUE;
    return TRUE;
}

static VOID A40SetEventNames(const A40_MODEL *First, const A40_MODEL *Second)
{
    ULONG Index;

    A40Events.NameCount = 0;
    for (Index = 0; Index < A40_MODEL_NAMES; Index += 1) {
        memcpy(A40Events.Names[Index], First->Names[Index], sizeof(First->Names[Index]));
        if (Second != NULL) {
            memcpy(A40Events.Names[A40_MODEL_NAMES + Index], Second->Names[Index],
                   sizeof(Second->Names[Index]));
        }
    }
    A40Events.Violations = 0;
    A40Events.Ran = 0;
    A40Events.NameCount = Second != NULL ? 2 * A40_MODEL_NAMES : A40_MODEL_NAMES;
}

static A40_MODEL A40Models[2];

/* One thread, the destroy included, under injected events and suspensions. */
static VOID A40GrtModelSingle(VOID)
{
    static const ULONG64 Seeds[] = { 1, 7, 40, 2026, 0xC0FFEE };
    ULONG SeedIndex;
    ULONG Step;
    BOOLEAN Started;
    A40_MODEL *Model = &A40Models[0];

    for (SeedIndex = 0; SeedIndex < sizeof(Seeds) / sizeof(Seeds[0]); SeedIndex += 1) {
        A40ModelInit(Model, Seeds[SeedIndex], "a40.m", TRUE);
        A40SetEventNames(Model, NULL);
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        /* Odd seeds: events use the locks; even: stalls and suspensions. */
        CHECK(A40StartInjection(&Started, Seeds[SeedIndex], (SeedIndex & 1) == 0));
        for (Step = 0; Step < 3000; Step += 1) {
            if (!A40ModelStep(Model)) {
                break;
            }
        }
        /* One event of each kind for certain (random delivery may be
           sparse under a sanitizer): the routine is wired and runs clean. */
        {
            LONG RanBefore = A40Load(&A40Events.Ran);
            WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A40ModelEvent, NULL);
            WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A40ModelEvent, NULL);
            WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, A40ModelEvent, NULL);
            CHECK(A40WaitAtLeast(&A40Events.Ran, RanBefore + 3));
        }
        if (Started) {
            WdkmHostInterruptsStop();
        }
        A40Events.NameCount = 0;
        if (Model->Failure[0] != '\0') {
            WdkmTestFail(__FILE__, __LINE__, "seed %llu: %s",
                         (unsigned long long)Seeds[SeedIndex], Model->Failure);
            (VOID)A40ModelDrain(Model);
            return;
        }
        CHECK(A40ModelDrain(Model));
        CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
        CHECK_EQ(WdkmTestPoolOutstanding(), 0);
        if (A40Load(&A40Events.Violations) != 0) {
            WdkmTestFail(__FILE__, __LINE__, "seed %llu: %d event violations, last %s at line %d",
                         (unsigned long long)Seeds[SeedIndex], (int)A40Events.Violations,
                         WdkmStatusName(A40Events.LastViolation), (int)A40Events.LastLine);
            return;
        }
        CHECK(Model->Destroys > 0);
    }
}

static VOID A40ModelThread(PVOID Context, ULONG Index)
{
    A40_MODEL *Model = &((A40_MODEL *)Context)[Index];
    ULONG Step;

    for (Step = 0; Step < 2500; Step += 1) {
        if (!A40ModelStep(Model)) {
            break;
        }
    }
}

/* Two threads, disjoint names, one registry, under injected events. */
static VOID A40GrtModelThreads(VOID)
{
    static const ULONG64 Seeds[] = { 3, 11, 4040 };
    ULONG SeedIndex;
    BOOLEAN Started;

    for (SeedIndex = 0; SeedIndex < sizeof(Seeds) / sizeof(Seeds[0]); SeedIndex += 1) {
        A40ModelInit(&A40Models[0], Seeds[SeedIndex], "a40.t0", FALSE);
        A40ModelInit(&A40Models[1], Seeds[SeedIndex] + 1000, "a40.t1", FALSE);
        A40SetEventNames(&A40Models[0], &A40Models[1]);
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK(A40StartInjection(&Started, Seeds[SeedIndex], (SeedIndex & 1) == 0));
        CHECK(WdkmTestRunThreads(2, A40ModelThread, A40Models));
        if (Started) {
            WdkmHostInterruptsStop();
        }
        A40Events.NameCount = 0;
        if (A40Models[0].Failure[0] != '\0' || A40Models[1].Failure[0] != '\0') {
            WdkmTestFail(__FILE__, __LINE__, "seed %llu: [%s] [%s]",
                         (unsigned long long)Seeds[SeedIndex], A40Models[0].Failure,
                         A40Models[1].Failure);
            (VOID)A40ModelDrain(&A40Models[0]);
            (VOID)A40ModelDrain(&A40Models[1]);
            return;
        }
        CHECK(A40ModelDrain(&A40Models[0]));
        CHECK(A40ModelDrain(&A40Models[1]));
        CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
        CHECK_EQ(WdkmTestPoolOutstanding(), 0);
        if (A40Load(&A40Events.Violations) != 0) {
            WdkmTestFail(__FILE__, __LINE__, "seed %llu: %d event violations, last %s at line %d",
                         (unsigned long long)Seeds[SeedIndex], (int)A40Events.Violations,
                         WdkmStatusName(A40Events.LastViolation), (int)A40Events.LastLine);
            return;
        }
    }
}


/* ------------------------------------------------------------------ */
/* More rows: scoped registry forms, events on a holder, check order   */
/* ------------------------------------------------------------------ */

/* Returns from inside a registry scope (GCC/Clang: released and
   dereferenced on the way out). */
static ULONG A40ReturnFromGrtScope(VOID)
{
    ULONG *Value;
    NTSTATUS Status;

    WDKM_GRT_KMUTEX_SCOPED("a40.scope.k", Value, &Status) {
        *Value += 1;
        return *Value;
    }
    return 0;
}

/* get_kmutex + lock + drop as one block: every exit gives the reference
   back, the failed acquire's too, so that a destroy with no wait succeeds. */
static VOID A40GrtScopeGivesReferencesBack(VOID)
{
    ULONG Initial = 0;
    ULONG *Value;
    ULONG *Held;
    PWDKM_FAST_MUTEX Fast;
    PWDKM_KMUTEX Mutex;
    NTSTATUS Status;
    LARGE_INTEGER Zero;
    WDKM_GRT_REPORT Report;
    ULONG Loop;
    ULONG Bodies = 0;
    KIRQL Old = PASSIVE_LEVEL;

    Zero.QuadPart = 0;
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.scope.k", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("a40.scope.f", &Initial), STATUS_SUCCESS);

    CHECK_EQ(A40ReturnFromGrtScope(), 1);
    /* break acts on the scope, not on the loop around it. */
    for (Loop = 0; Loop < 3; Loop += 1) {
        WDKM_GRT_KMUTEX_SCOPED("a40.scope.k", Value, &Status) {
            Bodies += 1;
            *Value += 1;
            break;
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
    }
    CHECK_EQ(Bodies, 3);
    /* The fast mutex's scope over the caller's own hold: deadlock refused,
       the body not run, the reference given back. */
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("a40.scope.f", ULONG, &Fast), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Fast, &Held), STATUS_SUCCESS);
    Bodies = 0;
    WDKM_GRT_FAST_MUTEX_SCOPED("a40.scope.f", Value, &Status) {
        Bodies += 1;
    }
    CHECK_STATUS(Status, STATUS_POSSIBLE_DEADLOCK);
    CHECK_EQ(Bodies, 0);
    CHECK(WdkmFastMutexIsOwned(Fast));
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Fast), STATUS_SUCCESS);
    /* Wrong type: the reference is never taken. */
    {
        ULONG64 *Wide;
        WDKM_GRT_KMUTEX_SCOPED("a40.scope.k", Wide, &Status) {
            Bodies += 1;
        }
        CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
        CHECK_EQ(Bodies, 0);
    }
    /* A block that leaves the IRQL raised: the release fails (its status
       is the scope's), the lock stays held and the scope keeps its
       reference; the documented way out: look up, release, dereference
       twice (this failed first: the scope's reference was left with no
       word on how to drop it, and the destroy below timed out). */
    WDKM_GRT_KMUTEX_SCOPED("a40.scope.k", Value, &Status) {
        *Value += 1;
        KeRaiseIrql(DISPATCH_LEVEL, &Old);
    }
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.scope.k", ULONG, &Mutex), STATUS_SUCCESS);
    CHECK(WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);     /* the scope's */
    /* Every scope above gave its reference back: nothing to wait for. */
    memset(&Report, 0xCC, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.Freed, 2);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* Events on a KMutex holder: a normal kernel APC waits for the release; a
   special one runs at once; a DPC's try is refused (busy) and its lookup
   and dereference work. */
typedef struct _A40_HOLDER_EVENTS {
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX Fast;
    LONG volatile NormalRan;
    LONG volatile SpecialRan;
    LONG volatile DpcRan;
    NTSTATUS DpcTry;
    NTSTATUS DpcFast;
    NTSTATUS DpcGet;
    NTSTATUS DpcDereference;
    KIRQL SpecialIrql;
    BOOLEAN SpecialOwned;
} A40_HOLDER_EVENTS;

static VOID A40HolderEvent(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A40_HOLDER_EVENTS *Events = (A40_HOLDER_EVENTS *)Context;
    ULONG *Data = (ULONG *)(ULONG_PTR)1;
    PWDKM_KMUTEX Mutex;

    UNREFERENCED_PARAMETER(Random);
    if (Kind == WdkmHostInterruptNormalApc) {
        InterlockedIncrement(&Events->NormalRan);
    } else if (Kind == WdkmHostInterruptSpecialApc) {
        Events->SpecialIrql = KeGetCurrentIrql();
        Events->SpecialOwned = WdkmKMutexIsOwned(Events->Mutex);
        InterlockedIncrement(&Events->SpecialRan);
    } else {
        Events->DpcTry = WDKM_KMUTEX_TRY_ACQUIRE(Events->Mutex, &Data);
        if (Events->DpcTry == STATUS_SUCCESS) {
            (VOID)WdkmKMutexRelease(Events->Mutex);
        }
        Events->DpcFast = WDKM_FAST_MUTEX_ACQUIRE(Events->Fast, &Data);
        Events->DpcGet = WDKM_GRT_GET_KMUTEX("a40.ev.k", ULONG, &Mutex);
        if (Events->DpcGet == STATUS_SUCCESS) {
            Events->DpcDereference = WdkmGrtDereference(Mutex);
        }
        InterlockedIncrement(&Events->DpcRan);
    }
}

static VOID A40EventsOnHolder(VOID)
{
    ULONG Initial = 0;
    A40_HOLDER_EVENTS Events;
    ULONG *Data;
    PKTHREAD Self = KeGetCurrentThread();

    memset(&Events, 0, sizeof(Events));
    Events.DpcTry = STATUS_PENDING;
    Events.DpcFast = STATUS_PENDING;
    Events.DpcGet = STATUS_PENDING;
    Events.DpcDereference = STATUS_PENDING;
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.ev.k", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.ev.k", ULONG, &Events.Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Events.Fast), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Events.Mutex, &Data), STATUS_SUCCESS);
    WdkmHostQueueInterrupt(Self, WdkmHostInterruptNormalApc, A40HolderEvent, &Events);
    CHECK_EQ(A40Load(&Events.NormalRan), 0);          /* masked by the KMUTEX hold */
    WdkmHostQueueInterrupt(Self, WdkmHostInterruptSpecialApc, A40HolderEvent, &Events);
    CHECK_EQ(A40Load(&Events.SpecialRan), 1);         /* not masked */
    CHECK_EQ(Events.SpecialIrql, APC_LEVEL);
    CHECK(Events.SpecialOwned);                       /* to NT, the same thread */
    WdkmHostQueueInterrupt(Self, WdkmHostInterruptDpc, A40HolderEvent, &Events);
    CHECK_EQ(A40Load(&Events.DpcRan), 1);
    CHECK_STATUS(Events.DpcTry, STATUS_TIMEOUT);      /* its thread holds it */
    CHECK_STATUS(Events.DpcFast, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Events.DpcGet, STATUS_SUCCESS);
    CHECK_STATUS(Events.DpcDereference, STATUS_SUCCESS);
    CHECK(WdkmKMutexIsOwned(Events.Mutex));
    CHECK_EQ(*Data, 0);
    CHECK_STATUS(WdkmKMutexRelease(Events.Mutex), STATUS_SUCCESS);
    CHECK_EQ(A40Load(&Events.NormalRan), 1);          /* ran at the release */
    CHECK(!WdkmKMutexIsOwned(Events.Mutex));

    /* The FAST_MUTEX holder: the special APC waits too; a DPC runs. */
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Events.Fast, &Data), STATUS_SUCCESS);
    WdkmHostQueueInterrupt(Self, WdkmHostInterruptSpecialApc, A40HolderEvent, &Events);
    CHECK_EQ(A40Load(&Events.SpecialRan), 1);
    Events.DpcFast = STATUS_PENDING;
    WdkmHostQueueInterrupt(Self, WdkmHostInterruptDpc, A40HolderEvent, &Events);
    CHECK_EQ(A40Load(&Events.DpcRan), 2);
    CHECK_STATUS(Events.DpcFast, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Events.DpcTry, STATUS_SUCCESS);      /* the KMUTEX is free now */
    CHECK(WdkmFastMutexIsOwned(Events.Fast));
    CHECK_STATUS(WdkmFastMutexRelease(Events.Fast), STATUS_SUCCESS);
    CHECK_EQ(A40Load(&Events.SpecialRan), 2);

    CHECK_STATUS(WdkmGrtDereference(Events.Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Events.Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* A real DPC (KeInsertQueueDpc): get_kmutex from a DPC, lock-free; a try
   works; the blocking lock is refused. */
typedef struct _A40_DPC_RESULT {
    NTSTATUS Get;
    NTSTATUS Acquire;
    NTSTATUS Try;
    NTSTATUS Release;
    NTSTATUS Dereference;
    NTSTATUS Scoped;
    KIRQL Irql;
    ULONG Seen;
} A40_DPC_RESULT;

static VOID A40DpcRoutine(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    A40_DPC_RESULT *Result = (A40_DPC_RESULT *)Context;
    PWDKM_KMUTEX Mutex;
    ULONG *Data = NULL;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    Result->Irql = KeGetCurrentIrql();
    Result->Get = WDKM_GRT_GET_KMUTEX("a40.dpc.k", ULONG, &Mutex);
    if (Result->Get != STATUS_SUCCESS) {
        return;
    }
    Result->Acquire = WDKM_KMUTEX_ACQUIRE(Mutex, &Data);
    Result->Try = WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Data);
    if (Result->Try == STATUS_SUCCESS) {
        *Data += 1;
        Result->Seen = *Data;
        Result->Release = WdkmKMutexRelease(Mutex);
    }
    Result->Dereference = WdkmGrtDereference(Mutex);
    WDKM_GRT_KMUTEX_SCOPED("a40.dpc.k", Data, &Result->Scoped) {
        *Data += 100;
    }
}

static VOID A40GrtFromRealDpc(VOID)
{
    ULONG Initial = 41;
    KDPC Dpc;
    A40_DPC_RESULT Result;
    ULONG *Value;
    NTSTATUS Status;

    memset(&Result, 0, sizeof(Result));
    Result.Release = STATUS_PENDING;
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.dpc.k", &Initial), STATUS_SUCCESS);
    KeInitializeDpc(&Dpc, A40DpcRoutine, &Result);
    CHECK(KeInsertQueueDpc(&Dpc, NULL, NULL));
    KeFlushQueuedDpcs();
    CHECK_EQ(Result.Irql, DISPATCH_LEVEL);
    CHECK_STATUS(Result.Get, STATUS_SUCCESS);
    CHECK_STATUS(Result.Acquire, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Result.Try, STATUS_SUCCESS);
    CHECK_STATUS(Result.Release, STATUS_SUCCESS);
    CHECK_EQ(Result.Seen, 42);
    CHECK_STATUS(Result.Dereference, STATUS_SUCCESS);
    CHECK_STATUS(Result.Scoped, STATUS_WDKM_IRQL_TOO_HIGH);
    WDKM_GRT_KMUTEX_SCOPED("a40.dpc.k", Value, &Status) {
        CHECK_EQ(*Value, 42);
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* The alertable and absolute-timeout forms the crate lacks. */
typedef struct _A40_WAITER {
    PWDKM_KMUTEX Mutex;
    LARGE_INTEGER Timeout;
    BOOLEAN Alertable;
    LONG volatile Started;
    NTSTATUS Status;
    PVOID Data;
    BOOLEAN OwnedAfter;
} A40_WAITER;

static VOID A40WaiterThread(PVOID Context, ULONG Index)
{
    A40_WAITER *Waiter = (A40_WAITER *)Context;
    ULONG *Data = (ULONG *)(ULONG_PTR)1;

    UNREFERENCED_PARAMETER(Index);
    InterlockedExchange(&Waiter->Started, 1);
    if (Waiter->Alertable) {
        Waiter->Status = WDKM_KMUTEX_ACQUIRE_ALERTABLE(Waiter->Mutex, KernelMode, NULL, &Data);
    } else {
        Waiter->Status = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Waiter->Mutex, &Waiter->Timeout, &Data);
    }
    Waiter->Data = Data;
    Waiter->OwnedAfter = WdkmKMutexIsOwned(Waiter->Mutex);
    if (Waiter->Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(Waiter->Mutex);
    }
}

static VOID A40KMutexAlertAndAbsolute(VOID)
{
    ULONG Initial = 0;
    PWDKM_KMUTEX Mutex;
    ULONG *Data;
    A40_WAITER Waiter;
    WDKM_TEST_THREAD *Thread;
    LARGE_INTEGER Now;
    LONGLONG Deadline;

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);

    /* An absolute time in the past: a try; 20 ms ahead: a bounded wait. */
    memset(&Waiter, 0, sizeof(Waiter));
    Waiter.Mutex = Mutex;
    KeQuerySystemTime(&Now);
    Waiter.Timeout.QuadPart = Now.QuadPart - 10000000;
    CHECK(WdkmTestRunThreads(1, A40WaiterThread, &Waiter));
    CHECK_STATUS(Waiter.Status, STATUS_TIMEOUT);
    CHECK(Waiter.Data == NULL && !Waiter.OwnedAfter);
    KeQuerySystemTime(&Now);
    Waiter.Timeout.QuadPart = Now.QuadPart + 200000;
    CHECK(WdkmTestRunThreads(1, A40WaiterThread, &Waiter));
    CHECK_STATUS(Waiter.Status, STATUS_TIMEOUT);
    CHECK(Waiter.Data == NULL && !Waiter.OwnedAfter);

    /* An alert ends the alertable wait without the lock. */
    memset(&Waiter, 0, sizeof(Waiter));
    Waiter.Mutex = Mutex;
    Waiter.Alertable = TRUE;
    Waiter.Status = STATUS_PENDING;
    Thread = WdkmTestStartThread(A40WaiterThread, &Waiter);
    CHECK(Thread != NULL);
    CHECK(A40WaitAtLeast(&Waiter.Started, 1));
    Deadline = WdkmTestDeadlineMs(10000);
    /* Alerts until the wait ends: an alert before the wait is kept pending
       for it, so one is enough; repeat only to end a stuck run. */
    WdkmHostAlertThread(WdkmTestThreadObject(Thread));
    while (*(volatile NTSTATUS *)&Waiter.Status == STATUS_PENDING && WdkmTestNowMs() < Deadline) {
        WdkmTestSleepMs(1);
    }
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Waiter.Status, STATUS_ALERTED);
    CHECK(Waiter.Data == NULL && !Waiter.OwnedAfter);
    CHECK(WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* The order of the checks: arguments, then IRQL, then state. */
static VOID A40CheckOrder(VOID)
{
    ULONG Initial = 0;
    ULONG64 Wide = 0;
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX Fast;
    PVOID Lock;
    ULONG *Data;
    NTSTATUS Results[12];
    KIRQL Old;

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Fast), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.order", &Initial), STATUS_SUCCESS);

    KeRaiseIrql(HIGH_LEVEL, &Old);
    Results[0] = WdkmKMutexAcquire(NULL, sizeof(ULONG), (PVOID *)&Data);
    Results[1] = WdkmKMutexAcquire((PWDKM_KMUTEX)(PVOID)Fast, sizeof(ULONG), (PVOID *)&Data);
    Results[2] = WdkmKMutexAcquire(Mutex, sizeof(ULONG64), (PVOID *)&Data);  /* state: IRQL first */
    Results[3] = WdkmKMutexDestroy((PWDKM_KMUTEX)(PVOID)Fast);
    Results[4] = WdkmKMutexTake(Mutex, sizeof(ULONG64), &Wide);              /* state: IRQL first */
    Results[5] = WdkmGrtReference("a40.order", (WDKM_LOCK_KIND)99, sizeof(ULONG), &Lock);
    Results[6] = WdkmGrtReference("", WdkmLockKindKMutex, sizeof(ULONG), &Lock);
    Results[7] = WdkmGrtReference("a40.order", WdkmLockKindKMutex, sizeof(ULONG64), &Lock);
    Results[8] = WdkmGrtRegister("a40.order2", WdkmLockKindKMutex, &Initial, sizeof(Initial), 0x80);
    Results[9] = WdkmFastMutexRelease(Fast);                                 /* ownership first */
    Results[10] = WdkmKMutexCreate(&Initial, 0, (PWDKM_KMUTEX *)&Lock);
    Results[11] = WdkmGrtReference("a40.order", WdkmLockKindKMutex, 0, &Lock);
    KeLowerIrql(Old);
    CHECK_STATUS(Results[0], STATUS_INVALID_PARAMETER);
    CHECK_STATUS(Results[1], STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(Results[2], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[3], STATUS_INVALID_PARAMETER);
    CHECK_STATUS(Results[4], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[5], STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(Results[6], STATUS_OBJECT_NAME_INVALID);
    CHECK_STATUS(Results[7], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[8], STATUS_INVALID_PARAMETER);
    CHECK_STATUS(Results[9], STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(Results[10], STATUS_INVALID_PARAMETER);
    CHECK_STATUS(Results[11], STATUS_WDKM_TYPE_MISMATCH);

    /* More argument errors, each before the IRQL. */
    KeRaiseIrql(HIGH_LEVEL, &Old);
    Results[0] = WdkmGrtRegister("", WdkmLockKindKMutex, &Initial, sizeof(Initial), 0);
    Results[1] = WdkmGrtUnregister("");
    Results[2] = WdkmKMutexRelease((PWDKM_KMUTEX)(PVOID)Fast);
    Results[3] = WdkmFastMutexRelease(NULL);
    Results[4] = WdkmKMutexAcquireAlertable(Mutex, sizeof(ULONG), UserMode, NULL, (PVOID *)&Data);
    Results[5] = WdkmKMutexAcquireTimeout(Mutex, sizeof(ULONG), NULL, (PVOID *)&Data);
    Results[6] = WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)(PVOID)Mutex, sizeof(ULONG), (PVOID *)&Data);
    Results[7] = WdkmFastMutexTake((PWDKM_FAST_MUTEX)(PVOID)Mutex, sizeof(ULONG), &Wide);
    Results[8] = WdkmGrtDereference(NULL);
    KeLowerIrql(Old);
    CHECK_STATUS(Results[0], STATUS_OBJECT_NAME_INVALID);
    CHECK_STATUS(Results[1], STATUS_OBJECT_NAME_INVALID);
    CHECK_STATUS(Results[2], STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(Results[3], STATUS_INVALID_PARAMETER);
    CHECK_STATUS(Results[4], STATUS_INVALID_PARAMETER);
    CHECK_STATUS(Results[5], STATUS_INVALID_PARAMETER);
    CHECK_STATUS(Results[6], STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(Results[7], STATUS_INVALID_PARAMETER);
    CHECK_STATUS(Results[8], STATUS_INVALID_PARAMETER);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK(!WdkmFastMutexIsOwned(Fast));
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Fast), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* Destroy with no limit at unload while a thread still works: it waits
   until the thread drops its reference, then frees everything. */
typedef struct _A40_LATE {
    LONG volatile Rounds;
    LONG volatile SawClosing;
    NTSTATUS Final;
} A40_LATE;

static VOID A40LateThread(PVOID Context, ULONG Index)
{
    A40_LATE *Late = (A40_LATE *)Context;
    PWDKM_KMUTEX Mutex;
    PWDKM_KMUTEX Probe;
    ULONG *Value;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    Late->Final = WDKM_GRT_GET_KMUTEX("a40.late.k", ULONG, &Mutex);
    if (Late->Final != STATUS_SUCCESS) {
        InterlockedExchange(&Late->SawClosing, -1);
        return;
    }
    InterlockedIncrement(&Late->Rounds);
    for (;;) {
        Status = WDKM_GRT_GET_KMUTEX("a40.late.k", ULONG, &Probe);
        if (Status == STATUS_SUCCESS) {
            (VOID)WdkmGrtDereference(Probe);
        } else {
            InterlockedExchange(&Late->SawClosing, Status == STATUS_DELETE_PENDING ? 1 : -1);
            break;
        }
        WdkmTestSleepMs(1);
    }
    /* The registry is closing: this thread's lock still works. */
    Late->Final = WDKM_KMUTEX_ACQUIRE(Mutex, &Value);
    if (Late->Final == STATUS_SUCCESS) {
        *Value += 1;
        Late->Final = WdkmKMutexRelease(Mutex);
    }
    if (Late->Final == STATUS_SUCCESS) {
        Late->Final = WdkmGrtDereference(Mutex);
    }
}

static VOID A40GrtDestroyWaitsForUser(VOID)
{
    ULONG Initial = 0;
    A40_LATE Late;
    WDKM_TEST_THREAD *Thread;
    WDKM_GRT_REPORT Report;

    memset(&Late, 0, sizeof(Late));
    Late.Final = STATUS_PENDING;
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.late.k", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("a40.late.f", &Initial), STATUS_SUCCESS);
    Thread = WdkmTestStartThread(A40LateThread, &Late);
    CHECK(Thread != NULL);
    CHECK(A40WaitAtLeast(&Late.Rounds, 1));
    memset(&Report, 0xCC, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(A40Load(&Late.SawClosing), 1);
    CHECK_STATUS(Late.Final, STATUS_SUCCESS);
    /* Both were alive when the call began and are gone now (the referenced
       one freed by the thread's last dereference while the call waited),
       unless the thread's dereference slipped in before the call read its
       count: then one. */
    CHECK(Report.Freed == 2 || Report.Freed == 1);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}


/* Nested fast mutexes: out of order from PASSIVE refused, from APC_LEVEL
   accepted; a guarded mutex taken at APC_LEVEL inside counts as inner. */
static VOID A40FastMutexNesting(VOID)
{
    ULONG Initial = 0;
    PWDKM_FAST_MUTEX Outer;
    PWDKM_FAST_MUTEX Inner;
    PWDKM_GUARDED_MUTEX Guarded;
    ULONG *Data;
    NTSTATUS Status;
    KIRQL Old;

    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Inner), STATUS_SUCCESS);
    Status = WDKM_GUARDED_MUTEX_CREATE(&Initial, &Guarded);
    if (Status == STATUS_NOT_SUPPORTED) {
        Guarded = NULL;
    } else {
        CHECK_STATUS(Status, STATUS_SUCCESS);
    }

    KeRaiseIrql(APC_LEVEL, &Old);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Outer, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Inner, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexRelease(Outer), STATUS_SUCCESS);     /* lowers nothing */
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK(WdkmFastMutexIsOwned(Inner));
    CHECK_STATUS(WdkmFastMutexRelease(Inner), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(Old);

    if (Guarded != NULL) {
        CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(Outer, &Data), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GUARDED_MUTEX_ACQUIRE(Guarded, &Data), STATUS_SUCCESS);
        CHECK_STATUS(WdkmFastMutexRelease(Outer), STATUS_WDKM_LOCK_HELD);
        CHECK(WdkmFastMutexIsOwned(Outer));
        CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
        CHECK_STATUS(WdkmGuardedMutexRelease(Guarded), STATUS_SUCCESS);
        CHECK_STATUS(WdkmFastMutexRelease(Outer), STATUS_SUCCESS);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK_STATUS(WdkmGuardedMutexDestroy(Guarded), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmFastMutexDestroy(Outer), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Inner), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* Register under pool pressure while the table grows: every failure is
   STATUS_INSUFFICIENT_RESOURCES with nothing registered and every earlier
   name still found. */
static VOID A40GrtRegisterUnderPoolPressure(VOID)
{
    CHAR Name[32];
    ULONG Value;
    ULONG Index;
    ULONG Check;
    LONG FailAt;
    NTSTATUS Status;
    PWDKM_KMUTEX Mutex;
    ULONG *Data;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < 150; Index += 1) {
        snprintf(Name, sizeof(Name), "a40.pool.%u", Index);
        Value = Index;
        for (FailAt = 0; FailAt < 3; FailAt += 1) {
            WdkmHostPoolFailAt(FailAt);
            Status = WDKM_GRT_REGISTER_KMUTEX(Name, &Value);
            WdkmHostPoolFailAt(-1);
            if (Status == STATUS_SUCCESS) {
                break;
            }
            CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
            CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
        }
        if (Status != STATUS_SUCCESS) {
            CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Value), STATUS_SUCCESS);
        }
        if ((Index % 16) == 15 || Index < 8) {
            for (Check = 0; Check <= Index; Check += 1) {
                snprintf(Name, sizeof(Name), "a40.pool.%u", Check);
                CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex), STATUS_SUCCESS);
                CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
                CHECK_EQ(*Data, Check);
                CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
                CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
            }
        }
    }
    /* Unregister under pool pressure too: it should need no memory. */
    for (Index = 0; Index < 150; Index += 2) {
        snprintf(Name, sizeof(Name), "a40.pool.%u", Index);
        WdkmHostPoolFailAt(0);
        Status = WdkmGrtUnregister(Name);
        WdkmHostPoolFailAt(-1);
        if (Status != STATUS_SUCCESS) {
            CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
            CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex), STATUS_SUCCESS);
            CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
            CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
        }
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* register_kmutex over a live name while others use it: every lookup finds
   the old lock or the new one, never nothing; counts stay exact per lock. */
typedef struct _A40_REPLACE_RACE {
    LONG volatile Stop;
    LONG volatile Lookups;
    LONG volatile NotFound;
    LONG volatile Other;
    NTSTATUS LastOther;
} A40_REPLACE_RACE;

static VOID A40ReplaceRaceUser(PVOID Context, ULONG Index)
{
    A40_REPLACE_RACE *Race = (A40_REPLACE_RACE *)Context;
    ULONG *Value;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    while (A40Load(&Race->Stop) == 0) {
        WDKM_GRT_KMUTEX_SCOPED("a40.race", Value, &Status) {
            *Value += 1;
        }
        InterlockedIncrement(&Race->Lookups);
        if (Status == STATUS_OBJECT_NAME_NOT_FOUND) {
            InterlockedIncrement(&Race->NotFound);
        } else if (Status != STATUS_SUCCESS) {
            Race->LastOther = Status;
            InterlockedIncrement(&Race->Other);
        }
    }
}

static VOID A40GrtReplaceUnderUse(VOID)
{
    A40_REPLACE_RACE Race;
    WDKM_TEST_THREAD *Users[2];
    ULONG Value = 0;
    ULONG Round;

    memset(&Race, 0, sizeof(Race));
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.race", &Value), STATUS_SUCCESS);
    Users[0] = WdkmTestStartThread(A40ReplaceRaceUser, &Race);
    Users[1] = WdkmTestStartThread(A40ReplaceRaceUser, &Race);
    CHECK(Users[0] != NULL && Users[1] != NULL);
    for (Round = 0; Round < 300; Round += 1) {
        CHECK_STATUS(WDKM_GRT_REPLACE_KMUTEX("a40.race", &Value), STATUS_SUCCESS);
        if ((Round % 32) == 0) {
            WdkmTestSleepMs(1);
        }
    }
    InterlockedExchange(&Race.Stop, 1);
    WdkmTestJoinThread(Users[0]);
    WdkmTestJoinThread(Users[1]);
    CHECK(A40Load(&Race.Lookups) > 0);
    CHECK_EQ(A40Load(&Race.Other), 0);
    CHECK_EQ(A40Load(&Race.NotFound), 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}


/* Writers interrupted by writers: Unregister is allowed up to APC_LEVEL,
   so a kernel APC may call it on a thread that is itself inside a
   Register or Unregister (the APC does not allocate, as host events must
   not). Every call must complete with a documented status, none may hang. */
typedef struct _A40_WRITER_APC {
    LONG volatile Stop;
    LONG volatile Loops;
    LONG volatile ApcRan;
    LONG volatile ApcDone;
    LONG volatile Bad;
    NTSTATUS LastBad;
    LONG volatile Victim;     /* next victim name index for the APCs */
} A40_WRITER_APC;

static VOID A40WriterApc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A40_WRITER_APC *Writer = (A40_WRITER_APC *)Context;
    CHAR Name[24];
    LONG Victim = InterlockedIncrement(&Writer->Victim) % 8;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    InterlockedIncrement(&Writer->ApcRan);
    Name[0] = 'a'; Name[1] = '4'; Name[2] = '0'; Name[3] = '.'; Name[4] = 'v';
    Name[5] = (CHAR)('0' + Victim);
    Name[6] = '\0';
    Status = WdkmGrtUnregister(Name);
    if (Status != STATUS_SUCCESS && Status != STATUS_OBJECT_NAME_NOT_FOUND) {
        Writer->LastBad = Status;
        InterlockedIncrement(&Writer->Bad);
    }
    InterlockedIncrement(&Writer->ApcDone);
}

static VOID A40WriterThread(PVOID Context, ULONG Index)
{
    A40_WRITER_APC *Writer = (A40_WRITER_APC *)Context;
    ULONG Value = 1;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    while (A40Load(&Writer->Stop) == 0) {
        Status = WDKM_GRT_REGISTER_KMUTEX("a40.writer", &Value);
        if (Status != STATUS_SUCCESS) {
            Writer->LastBad = Status;
            InterlockedIncrement(&Writer->Bad);
        }
        Status = WdkmGrtUnregister("a40.writer");
        if (Status != STATUS_SUCCESS) {
            Writer->LastBad = Status;
            InterlockedIncrement(&Writer->Bad);
        }
        InterlockedIncrement(&Writer->Loops);
    }
}

static VOID A40GrtWriterInterruptedByWriter(VOID)
{
    A40_WRITER_APC Writer;
    WDKM_TEST_THREAD *Thread;
    CHAR Name[24];
    ULONG Value = 2;
    ULONG Round;
    ULONG Victim;
    LONG Queued = 0;

    memset(&Writer, 0, sizeof(Writer));
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Thread = WdkmTestStartThread(A40WriterThread, &Writer);
    CHECK(Thread != NULL);
    CHECK(A40WaitAtLeast(&Writer.Loops, 1));
    for (Round = 0; Round < 200; Round += 1) {
        /* Victims to unregister: registered between rounds by this thread. */
        for (Victim = 0; Victim < 8; Victim += 1) {
            snprintf(Name, sizeof(Name), "a40.v%u", Victim);
            (VOID)WDKM_GRT_REGISTER_KMUTEX(Name, &Value);
        }
        WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread),
                               (Round & 1) ? WdkmHostInterruptSpecialApc : WdkmHostInterruptNormalApc,
                               A40WriterApc, &Writer);
        Queued += 1;
        if (!A40WaitAtLeast(&Writer.ApcDone, Queued)) {
            WdkmTestFail(__FILE__, __LINE__,
                         "an APC unregistering on a thread inside a registry writer did not "
                         "finish (ran %d, done %d of %d): a hang",
                         (int)Writer.ApcRan, (int)Writer.ApcDone, (int)Queued);
            return;     /* the thread is stuck: leave it */
        }
    }
    InterlockedExchange(&Writer.Stop, 1);
    WdkmTestJoinThread(Thread);
    if (A40Load(&Writer.Bad) != 0) {
        WdkmTestFail(__FILE__, __LINE__, "%d bad statuses, last %s", (int)Writer.Bad,
                     WdkmStatusName(Writer.LastBad));
        return;
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}


/* The spin-lock rows of migration.md, with their IRQL boundaries. */
static VOID A40MigrationSpinLockForms(VOID)
{
    ULONG Initial = 5;
    PWDKM_SPIN_LOCK Spin;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    ULONG *Data;
    KIRQL OldIrql;
    KIRQL Old;
    NTSTATUS Status;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Initial, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Initial, &Queued), STATUS_SUCCESS);

    /* KeAcquireSpinLock: the saved IRQL passed back to the release. */
    KeRaiseIrql(APC_LEVEL, &Old);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spin, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_EQ(OldIrql, APC_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spin, &OldIrql, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Spin), STATUS_WDKM_IRQL_MISMATCH);
    CHECK(WdkmSpinLockIsOwned(Spin));
    CHECK_STATUS(WdkmSpinLockRelease(Spin, APC_LEVEL), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(Old);

    /* KeAcquireSpinLockAtDpcLevel: DISPATCH_LEVEL exactly. */
    Data = (ULONG *)(ULONG_PTR)1;
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Spin, &Data), STATUS_WDKM_IRQL_MISMATCH);
    CHECK(Data == NULL);
    CHECK(!WdkmSpinLockIsOwned(Spin));
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Spin, &Data);
    if (Status == STATUS_SUCCESS) {
        CHECK_EQ(*Data, 5);
        CHECK_STATUS(WdkmSpinLockRelease(Spin, DISPATCH_LEVEL), STATUS_WDKM_IRQL_MISMATCH);
        Status = WdkmSpinLockReleaseFromDpcLevel(Spin);
    }
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    /* Above DISPATCH_LEVEL: too high, nothing taken. */
    KeRaiseIrql(HIGH_LEVEL, &Old);
    Status = WDKM_SPIN_LOCK_ACQUIRE(Spin, &OldIrql, &Data);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(!WdkmSpinLockIsOwned(Spin));
    /* A release with nothing held: NOT_HELD at any IRQL. */
    KeRaiseIrql(HIGH_LEVEL, &Old);
    Status = WdkmSpinLockRelease(Spin, PASSIVE_LEVEL);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_NOT_HELD);

    /* KeAcquireInStackQueuedSpinLock: a handle on the stack. */
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Queued, &Handle, &Data), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    *Data += 1;
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Queued, &Handle, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK(WdkmQueuedSpinLockIsOwned(Queued));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_TAKE(Queued, &Initial), STATUS_SUCCESS);
    CHECK_EQ(Initial, 6);
    CHECK_STATUS(WDKM_SPIN_LOCK_TAKE(Spin, &Initial), STATUS_SUCCESS);
    CHECK_EQ(Initial, 5);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* The crate walkthrough's load under memory pressure: each failure leaves
   no registry and nothing allocated, and a later load works. */
static VOID A40CrateLoadUnderPoolPressure(VOID)
{
    LONG FailAt;
    NTSTATUS Status = STATUS_UNSUCCESSFUL;

    for (FailAt = 0; FailAt < 50; FailAt += 1) {
        WdkmHostPoolFailAt(FailAt);
        Status = A40CrateStyleLoad();
        WdkmHostPoolFailAt(-1);
        if (Status == STATUS_SUCCESS) {
            break;
        }
        CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
        CHECK_EQ(WdkmTestPoolOutstanding(), 0);
        CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_WDKM_NOT_INITIALIZED);
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK(FailAt > 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* to_owned_box whose box cannot be allocated: the lock is untouched. */
static VOID A40ToOwnedBoxWithoutMemory(VOID)
{
    A40_CRATE_STATS Initial = { 8, 800 };
    A40_CRATE_STATS *Boxed = (A40_CRATE_STATS *)(ULONG_PTR)1;
    A40_CRATE_STATS Final;
    PWDKM_KMUTEX Mutex;
    NTSTATUS Status;

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    WdkmHostPoolFailAt(0);
    Status = A40ToOwnedBox(Mutex, &Boxed);
    WdkmHostPoolFailAt(-1);
    CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
    CHECK(Boxed == NULL);
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Mutex, &Final), STATUS_SUCCESS);
    CHECK_EQ(Final.Packets, 8);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* The owner raised to DISPATCH_LEVEL over its own PASSIVE hold: its try is
   refused as a DPC's would be (busy), and the hold is unchanged. */
static VOID A40KMutexOwnerTryAtDispatch(VOID)
{
    ULONG Initial = 1;
    PWDKM_KMUTEX Mutex;
    ULONG *Data;
    ULONG *Again = (ULONG *)(ULONG_PTR)1;
    NTSTATUS Status;
    KIRQL Old;

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_KMUTEX_TRY_ACQUIRE(Mutex, &Again);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_TIMEOUT);
    CHECK(Again == NULL);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);     /* one hold only */
    CHECK(!WdkmKMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
}

/* The other kinds behind MutexType: an ERESOURCE's last reference dropped
   at DISPATCH_LEVEL is freed by the next writer call with valid
   arguments, whatever it answers; one with invalid arguments does not. */
static VOID A40GrtResourceDeferredFree(VOID)
{
    ULONG Initial = 0;
    PWDKM_RESOURCE Resource;
    ULONG *Data;
    NTSTATUS Status;
    KIRQL Old;
    LONG Blocks;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_RESOURCE("a40.res", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_RESOURCE("a40.res", ULONG, &Resource), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Data), STATUS_SUCCESS);
    *Data = 3;
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    Blocks = WdkmTestPoolOutstanding();
    CHECK_STATUS(WdkmGrtUnregister("a40.res"), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WdkmGrtDereference(Resource);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);           /* still allocated */
    CHECK_STATUS(WdkmGrtUnregister(""), STATUS_OBJECT_NAME_INVALID);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);           /* invalid arguments: not yet */
    CHECK_STATUS(WdkmGrtUnregister("a40.res.none"), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK(WdkmTestPoolOutstanding() < Blocks);             /* freed now */
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}


/* The other kinds: create, lock, unlock, drop, with their IRQL refusals
   changing nothing. */
static VOID A40GuardedMutexRows(VOID)
{
    ULONG Initial = 1;
    PWDKM_GUARDED_MUTEX Mutex = NULL;
    PWDKM_GUARDED_MUTEX Refused;
    ULONG *Data;
    ULONG Final = 0;
    NTSTATUS Status;
    KIRQL Old;

    KeRaiseIrql(HIGH_LEVEL, &Old);
    Refused = (PWDKM_GUARDED_MUTEX)(ULONG_PTR)1;
    Status = WDKM_GUARDED_MUTEX_CREATE(&Initial, &Refused);
    KeLowerIrql(Old);
    if (Status == STATUS_NOT_SUPPORTED) {
        return;     /* a kernel without guarded mutexes: every call says so */
    }
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Refused == NULL);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_GUARDED_MUTEX_CREATE(&Initial, &Mutex);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GUARDED_MUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);        /* no raise */
    *Data = 2;
    CHECK_STATUS(WDKM_GUARDED_MUTEX_ACQUIRE(Mutex, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Data == NULL);
    CHECK(WdkmGuardedMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmGuardedMutexDestroy(Mutex), STATUS_WDKM_LOCK_HELD);
    /* Acquired at PASSIVE, released at APC_LEVEL: too high, still held. */
    KeRaiseIrql(APC_LEVEL, &Old);
    Status = WdkmGuardedMutexRelease(Mutex);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(WdkmGuardedMutexIsOwned(Mutex));
    CHECK_STATUS(WdkmGuardedMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGuardedMutexRelease(Mutex), STATUS_WDKM_NOT_HELD);
    /* Acquired at APC_LEVEL, released at PASSIVE: mismatch, still held. */
    KeRaiseIrql(APC_LEVEL, &Old);
    Status = WDKM_GUARDED_MUTEX_ACQUIRE(Mutex, &Data);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmGuardedMutexRelease(Mutex), STATUS_WDKM_IRQL_MISMATCH);
    CHECK(WdkmGuardedMutexIsOwned(Mutex));
    KeRaiseIrql(APC_LEVEL, &Old);
    Status = WdkmGuardedMutexRelease(Mutex);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    /* Above APC_LEVEL: refused, nothing held. */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Data = (ULONG *)(ULONG_PTR)1;
    Status = WDKM_GUARDED_MUTEX_ACQUIRE(Mutex, &Data);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);
    CHECK(!WdkmGuardedMutexIsOwned(Mutex));
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_GUARDED_MUTEX_TAKE(Mutex, &Final);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Final, 2);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

static VOID A40ResourceRows(VOID)
{
    ULONG Initial = 1;
    PWDKM_RESOURCE Resource;
    ULONG *Data;
    const ULONG *Shared;
    ULONG Final = 0;
    NTSTATUS Status;
    KIRQL Old;

    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_RESOURCE_CREATE(&Initial, &Resource);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_SHARED(Resource, &Shared), STATUS_SUCCESS);
    CHECK_EQ(*Shared, 1);
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Data == NULL);
    CHECK(!WdkmResourceIsOwnedExclusive(Resource));
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Data), STATUS_SUCCESS);
    *Data = 2;
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_SHARED(Resource, &Shared), STATUS_SUCCESS);   /* recursive */
    CHECK_STATUS(WdkmResourceDestroy(Resource), STATUS_WDKM_LOCK_HELD);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WdkmResourceRelease(Resource);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK(WdkmResourceIsOwnedExclusive(Resource));
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK(!WdkmResourceIsOwnedExclusive(Resource));
    /* Above APC_LEVEL: acquires refused; Destroy and Take too (<= APC). */
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Data = (ULONG *)(ULONG_PTR)1;
    Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Data);
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_SHARED(Resource, &Shared), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmResourceDestroy(Resource), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WDKM_RESOURCE_TAKE(Resource, &Final), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);
    CHECK_EQ(Final, 0);
    KeRaiseIrql(APC_LEVEL, &Old);
    Status = WDKM_RESOURCE_TAKE(Resource, &Final);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Final, 2);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

static VOID A40PushLockRows(VOID)
{
    ULONG Initial = 1;
    PWDKM_PUSH_LOCK Lock;
    ULONG *Data;
    const ULONG *Shared;
    ULONG Final = 0;
    NTSTATUS Status;
    KIRQL Old;

    Status = WDKM_PUSH_LOCK_CREATE(&Initial, &Lock);
    if (Status == STATUS_NOT_SUPPORTED) {
        return;
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(Lock, &Data), STATUS_SUCCESS);
    *Data = 2;
    CHECK_STATUS(WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(Lock, &Data), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Data == NULL);
    CHECK_STATUS(WDKM_PUSH_LOCK_ACQUIRE_SHARED(Lock, &Shared), STATUS_POSSIBLE_DEADLOCK);
    CHECK(Shared == NULL);
    CHECK_STATUS(WdkmPushLockDestroy(Lock), STATUS_WDKM_LOCK_HELD);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WdkmPushLockRelease(Lock);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(WdkmPushLockIsOwnedExclusive(Lock));
    CHECK_STATUS(WdkmPushLockRelease(Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockRelease(Lock), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WDKM_PUSH_LOCK_ACQUIRE_SHARED(Lock, &Shared), STATUS_SUCCESS);
    CHECK_EQ(*Shared, 2);
    CHECK_STATUS(WDKM_PUSH_LOCK_ACQUIRE_SHARED(Lock, &Shared), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmPushLockRelease(Lock), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Data = (ULONG *)(ULONG_PTR)1;
    Status = WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(Lock, &Data);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);
    CHECK(!WdkmPushLockIsOwnedExclusive(Lock));
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WDKM_PUSH_LOCK_TAKE(Lock, &Final);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Final, 2);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

/* MutexType's other kinds in the registry: the generic scoped form. */
static VOID A40GrtOtherKindsScoped(VOID)
{
    static const WDKM_LOCK_KIND Kinds[] = {
        WdkmLockKindSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource, WdkmLockKindPushLock,
    };
    ULONG Initial = 10;
    ULONG *Data;
    NTSTATUS Status;
    ULONG Index;
    KIRQL Old;
    CHAR Name[24];

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < sizeof(Kinds) / sizeof(Kinds[0]); Index += 1) {
        snprintf(Name, sizeof(Name), "a40.kind.%u", (unsigned)Kinds[Index]);
        Status = WDKM_GRT_REGISTER(Name, Kinds[Index], &Initial);
        if (Status == STATUS_NOT_SUPPORTED) {
            continue;
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
        WDKM_GRT_SCOPED(Name, Kinds[Index], Data, &Status) {
            *Data += Index;
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
        /* At DISPATCH_LEVEL only the spin lock's scope runs. */
        KeRaiseIrql(DISPATCH_LEVEL, &Old);
        WDKM_GRT_SCOPED(Name, Kinds[Index], Data, &Status) {
            *Data += 100;
        }
        KeLowerIrql(Old);
        if (Kinds[Index] == WdkmLockKindSpinLock) {
            CHECK_STATUS(Status, STATUS_SUCCESS);
        } else {
            CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
        }
        WDKM_GRT_SCOPED(Name, Kinds[Index], Data, &Status) {
            CHECK_EQ(*Data, 10 + Index + (Kinds[Index] == WdkmLockKindSpinLock ? 100 : 0));
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
    }
    /* The queued spin lock has no registry scope (it needs a handle). */
    CHECK_STATUS(WDKM_GRT_REGISTER_QUEUED_SPIN_LOCK("a40.kind.q", &Initial), STATUS_SUCCESS);
    WDKM_GRT_SCOPED("a40.kind.q", WdkmLockKindQueuedSpinLock, Data, &Status) {
        *Data += 1;
    }
    CHECK_STATUS(Status, STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}


/* Init, register, destroy, again and again, while threads use the names
   and injected events look them up: users see only the statuses of the
   GrtError table, every destroy completes, and frees both locks. */
typedef struct _A40_CYCLE {
    LONG volatile Stop;
    LONG volatile Uses;
    LONG volatile Bad;
    NTSTATUS LastBad;
} A40_CYCLE;

static VOID A40CycleUser(PVOID Context, ULONG Index)
{
    A40_CYCLE *Cycle = (A40_CYCLE *)Context;
    ULONG *Value;
    PWDKM_FAST_MUTEX Fast;
    NTSTATUS Status;

    while (A40Load(&Cycle->Stop) == 0) {
        if ((Index & 1) == 0) {
            WDKM_GRT_KMUTEX_SCOPED("a40.cycle.0", Value, &Status) {
                *Value += 1;
            }
        } else {
            Status = WDKM_GRT_GET_FAST_MUTEX("a40.cycle.1", ULONG64, &Fast);
            if (Status == STATUS_SUCCESS) {
                ULONG64 *Wide;
                Status = WDKM_FAST_MUTEX_ACQUIRE(Fast, &Wide);
                if (Status == STATUS_SUCCESS) {
                    *Wide += 1;
                    Status = WdkmFastMutexRelease(Fast);
                }
                if (WdkmGrtDereference(Fast) != STATUS_SUCCESS) {
                    Status = STATUS_INTERNAL_ERROR;
                }
            }
        }
        InterlockedIncrement(&Cycle->Uses);
        if (Status != STATUS_SUCCESS && Status != STATUS_DELETE_PENDING &&
            Status != STATUS_WDKM_NOT_INITIALIZED && Status != STATUS_OBJECT_NAME_NOT_FOUND) {
            Cycle->LastBad = Status;
            InterlockedIncrement(&Cycle->Bad);
        }
    }
}

static VOID A40GrtDestroyCyclesUnderUse(VOID)
{
    A40_CYCLE Cycle;
    WDKM_TEST_THREAD *Users[3];
    WDKM_GRT_REPORT Report;
    ULONG Value = 0;
    ULONG64 Wide = 0;
    ULONG Round;
    ULONG Index;
    LONG Uses;
    BOOLEAN Started;

    memset(&Cycle, 0, sizeof(Cycle));
    A40Events.NameCount = 0;
    snprintf(A40Events.Names[0], sizeof(A40Events.Names[0]), "a40.cycle.0");
    snprintf(A40Events.Names[1], sizeof(A40Events.Names[1]), "a40.cycle.1");
    A40Events.Violations = 0;
    A40Events.NameCount = 2;
    CHECK(A40StartInjection(&Started, 40, TRUE));
    for (Index = 0; Index < 3; Index += 1) {
        Users[Index] = WdkmTestStartThread(A40CycleUser, &Cycle);
        CHECK(Users[Index] != NULL);
    }
    for (Round = 0; Round < 40; Round += 1) {
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.cycle.0", &Value), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("a40.cycle.1", &Wide), STATUS_SUCCESS);
        Uses = A40Load(&Cycle.Uses);
        CHECK(A40WaitAtLeast(&Cycle.Uses, Uses + 20));
        memset(&Report, 0xCC, sizeof(Report));
        CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
        CHECK_EQ(Report.Freed, 2);
        CHECK_EQ(Report.StillReferenced, 0);
    }
    InterlockedExchange(&Cycle.Stop, 1);
    for (Index = 0; Index < 3; Index += 1) {
        WdkmTestJoinThread(Users[Index]);
    }
    if (Started) {
        WdkmHostInterruptsStop();
    }
    A40Events.NameCount = 0;
    if (A40Load(&Cycle.Bad) != 0) {
        WdkmTestFail(__FILE__, __LINE__, "%d bad statuses, last %s", (int)Cycle.Bad,
                     WdkmStatusName(Cycle.LastBad));
        return;
    }
    if (A40Load(&A40Events.Violations) != 0) {
        WdkmTestFail(__FILE__, __LINE__, "%d event violations, last %s at line %d",
                     (int)A40Events.Violations, WdkmStatusName(A40Events.LastViolation),
                     (int)A40Events.LastLine);
        return;
    }
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}


/* Destroy's timeout forms: INT64_MIN and intervals of more than about 22
   years wait as NULL does; a positive absolute time is a deadline; one in
   the past does not wait. */
static VOID A40GrtDestroyTimeoutForms(VOID)
{
    LARGE_INTEGER Forms[3];
    LARGE_INTEGER Timeout;
    LARGE_INTEGER Now;
    ULONG Initial = 0;
    A40_LATE Late;
    WDKM_TEST_THREAD *Thread;
    PWDKM_KMUTEX Mutex;
    PWDKM_KMUTEX Held;
    ULONG Form;
    LONGLONG Start;

    KeQuerySystemTime(&Now);
    Forms[0].QuadPart = (LONGLONG)(-0x7FFFFFFFFFFFFFFFLL - 1);     /* INT64_MIN */
    Forms[1].QuadPart = -(LONGLONG)(1LL << 62);                    /* ~14600 years */
    Forms[2].QuadPart = Now.QuadPart + 36000000000LL;              /* an hour ahead */
    for (Form = 0; Form < 3; Form += 1) {
        memset(&Late, 0, sizeof(Late));
        Late.Final = STATUS_PENDING;
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.late.k", &Initial), STATUS_SUCCESS);
        Thread = WdkmTestStartThread(A40LateThread, &Late);
        CHECK(Thread != NULL);
        CHECK(A40WaitAtLeast(&Late.Rounds, 1));
        Timeout = Forms[Form];
        CHECK_STATUS(WdkmGrtDestroy(&Timeout, NULL), STATUS_SUCCESS);
        WdkmTestJoinThread(Thread);
        CHECK_STATUS(Late.Final, STATUS_SUCCESS);
        CHECK_EQ(A40Load(&Late.SawClosing), 1);
    }
    /* An absolute time in the past: no wait; the reference keeps it. */
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.late.k", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.late.k", ULONG, &Held), STATUS_SUCCESS);
    KeQuerySystemTime(&Now);
    Timeout.QuadPart = Now.QuadPart - 10000000;
    Start = WdkmTestNowMs();
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, NULL), STATUS_TIMEOUT);
    CHECK(WdkmTestNowMs() - Start < WdkmTestScaledMs(2000));
    Mutex = (PWDKM_KMUTEX)(ULONG_PTR)1;
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.late.k", ULONG, &Mutex), STATUS_DELETE_PENDING);
    CHECK(Mutex == NULL);
    CHECK_STATUS(WdkmGrtDereference(Held), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}


/* Many names come and go, few at once: removed names leave the open-
   addressed table usable (a lookup of a missing name ends, new names
   register and are found), and the pool statistics count a failure. */
static VOID A40GrtChurnAndPoolStatistics(VOID)
{
    CHAR Name[32];
    ULONG Value = 0;
    ULONG Index;
    PWDKM_KMUTEX Mutex;
    PWDKM_KMUTEX Keep;
    WDKM_POOL_STATISTICS Before;
    WDKM_POOL_STATISTICS After;
    NTSTATUS Status;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.churn.keep", &Value), STATUS_SUCCESS);
    for (Index = 0; Index < 20000; Index += 1) {
        snprintf(Name, sizeof(Name), "a40.churn.%u", Index);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Value), STATUS_SUCCESS);
        if ((Index % 3) == 0) {
            CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex), STATUS_SUCCESS);
            CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
            CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
        } else {
            CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
        }
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    }
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.churn.missing", ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.churn.keep", ULONG, &Keep), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Keep), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.churn.7", &Value), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.churn.7", ULONG, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);

    WdkmQueryPoolStatistics(&Before);
    WdkmHostPoolFailAt(0);
    Status = WDKM_KMUTEX_CREATE(&Value, &Mutex);
    WdkmHostPoolFailAt(-1);
    WdkmQueryPoolStatistics(&After);
    CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
    CHECK_EQ(After.FailedAllocations, Before.FailedAllocations + 1);
    CHECK_EQ(After.TotalAllocations, Before.TotalAllocations);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks);
    CHECK(After.Allocator != WdkmPoolAllocatorNotResolved);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Value, &Mutex), STATUS_SUCCESS);
    WdkmQueryPoolStatistics(&After);
    CHECK_EQ(After.TotalAllocations, Before.TotalAllocations + 1);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks + 1);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}


/* GCC and Clang: break, continue, return and goto out of a scoped block
   all release (migration.md, "Scoped blocks and MSVC"). */
static NTSTATUS A40ScopeReturn(PWDKM_KMUTEX Mutex, ULONG *Out)
{
    ULONG *Data;
    NTSTATUS Status;

    WDKM_KMUTEX_SCOPED(Mutex, Data, &Status) {
        *Data += 1;
        *Out = *Data;
        return STATUS_SUCCESS;
    }
    return Status;
}

static VOID A40ScopeExitsRelease(VOID)
{
    ULONG Initial = 0;
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX Fast;
    ULONG *Data;
    ULONG Out = 0;
    NTSTATUS Status;
    ULONG Round;

    CHECK(WDKM_SCOPE_EXIT_RELEASES);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Fast), STATUS_SUCCESS);
    CHECK_STATUS(A40ScopeReturn(Mutex, &Out), STATUS_SUCCESS);
    CHECK_EQ(Out, 1);
    CHECK(!WdkmKMutexIsOwned(Mutex));
    for (Round = 0; Round < 2; Round += 1) {
        WDKM_KMUTEX_SCOPED(Mutex, Data, &Status) {
            *Data += 1;
            if (Round == 0) {
                break;
            }
            continue;
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK(!WdkmKMutexIsOwned(Mutex));
    }
    WDKM_FAST_MUTEX_SCOPED(Fast, Data, &Status) {
        *Data += 1;
        goto Out;
    }
Out:
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK(!WdkmFastMutexIsOwned(Fast));
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Mutex, &Out), STATUS_SUCCESS);
    CHECK_EQ(Out, 3);
    CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(Fast, &Out), STATUS_SUCCESS);
    CHECK_EQ(Out, 1);
}


/* Threads on the same names: register, replace, unregister, look up, lock
   through a held reference, scoped blocks, under injected events. No exact
   model of who wins: each status must be one reference.md allows for the
   call, and every value seen under its lock must be whole (its two
   counters equal), which a freed or shared block would break. */
typedef struct _A40_SHARED {
    LONG volatile Bad;
    NTSTATUS LastBad;
    LONG LastLine;
    LONG volatile Ops;
} A40_SHARED;

static A40_SHARED A40Shared;

static VOID A40SharedBad(NTSTATUS Status, LONG Line)
{
    A40Shared.LastBad = Status;
    A40Shared.LastLine = Line;
    InterlockedIncrement(&A40Shared.Bad);
}

static VOID A40SharedThread(PVOID Context, ULONG Index)
{
    ULONG64 Random = ((ULONG64)(ULONG_PTR)Context) * 0x9E3779B97F4A7C15ULL + Index + 1;
    PVOID Refs[8];
    WDKM_LOCK_KIND RefKind[8];
    SIZE_T RefSize[8];
    ULONG RefCount = 0;
    ULONG Step;
    CHAR Name[24];

    for (Step = 0; Step < 4000; Step += 1) {
        ULONG64 R = A40Next(&Random);
        ULONG Op = (ULONG)(R % 100);
        WDKM_LOCK_KIND Kind = ((R >> 16) & 1) ? WdkmLockKindFastMutex : WdkmLockKindKMutex;
        SIZE_T Size = ((R >> 17) & 1) ? sizeof(A40_BIG) : sizeof(ULONG64) * 2;
        A40_BIG Initial;
        A40_BIG *Data;
        NTSTATUS Status;
        PVOID Lock;

        snprintf(Name, sizeof(Name), "a40.sh.%u", (unsigned)((R >> 8) % 4));
        memset(&Initial, 0, sizeof(Initial));
        InterlockedIncrement(&A40Shared.Ops);
        if (Op < 15) {
            Status = WdkmGrtRegister(Name, Kind, &Initial, Size, ((R >> 20) & 1) ? WDKM_GRT_REPLACE : 0);
            if (Status != STATUS_SUCCESS && Status != STATUS_OBJECT_NAME_COLLISION) {
                A40SharedBad(Status, __LINE__);
            }
        } else if (Op < 22) {
            Status = WdkmGrtUnregister(Name);
            if (Status != STATUS_SUCCESS && Status != STATUS_OBJECT_NAME_NOT_FOUND) {
                A40SharedBad(Status, __LINE__);
            }
        } else if (Op < 45) {
            Status = WdkmGrtReference(Name, Kind, Size, &Lock);
            if (Status == STATUS_SUCCESS) {
                if (RefCount < 8) {
                    Refs[RefCount] = Lock;
                    RefKind[RefCount] = Kind;
                    RefSize[RefCount] = Size;
                    RefCount += 1;
                } else if (WdkmGrtDereference(Lock) != STATUS_SUCCESS) {
                    A40SharedBad(STATUS_INTERNAL_ERROR, __LINE__);
                }
            } else if (Status != STATUS_OBJECT_NAME_NOT_FOUND && Status != STATUS_WDKM_TYPE_MISMATCH) {
                A40SharedBad(Status, __LINE__);
            }
        } else if (Op < 70 && RefCount > 0) {
            ULONG Slot = (ULONG)((R >> 24) % RefCount);
            Status = A40ModelLock(Refs[Slot], RefKind[Slot], RefSize[Slot], &Data);
            if (Status != STATUS_SUCCESS) {
                A40SharedBad(Status, __LINE__);
                continue;
            }
            if (Data->Count != Data->Mirror) {
                A40SharedBad(STATUS_INTERNAL_ERROR, __LINE__);
            }
            Data->Count += 1;
            WdkmTestSleepMs(0);
            Data->Mirror += 1;
            Status = A40ModelUnlock(Refs[Slot], RefKind[Slot]);
            if (Status != STATUS_SUCCESS) {
                A40SharedBad(Status, __LINE__);
            }
        } else if (Op < 85 && RefCount > 0) {
            ULONG Slot = (ULONG)((R >> 24) % RefCount);
            Status = WdkmGrtDereference(Refs[Slot]);
            if (Status != STATUS_SUCCESS) {
                A40SharedBad(Status, __LINE__);
            }
            RefCount -= 1;
            Refs[Slot] = Refs[RefCount];
            RefKind[Slot] = RefKind[RefCount];
            RefSize[Slot] = RefSize[RefCount];
        } else {
            WDKM_SCOPE Scope = WdkmGrtScopeEnter(Name, Kind, Size, (PVOID *)&Data, &Status);
            if (Status == STATUS_SUCCESS) {
                if (Data->Count != Data->Mirror) {
                    A40SharedBad(STATUS_INTERNAL_ERROR, __LINE__);
                }
                Data->Count += 1;
                Data->Mirror += 1;
            }
            WdkmScopeLeave(&Scope);
            if (Status != STATUS_SUCCESS && Status != STATUS_OBJECT_NAME_NOT_FOUND &&
                Status != STATUS_WDKM_TYPE_MISMATCH) {
                A40SharedBad(Status, __LINE__);
            }
        }
    }
    while (RefCount > 0) {
        RefCount -= 1;
        if (WdkmGrtDereference(Refs[RefCount]) != STATUS_SUCCESS) {
            A40SharedBad(STATUS_INTERNAL_ERROR, __LINE__);
        }
    }
}

static VOID A40GrtSharedNamesThreads(VOID)
{
    static const ULONG64 Seeds[] = { 5, 17, 4041 };
    ULONG SeedIndex;
    BOOLEAN Started;
    ULONG Index;

    for (SeedIndex = 0; SeedIndex < sizeof(Seeds) / sizeof(Seeds[0]); SeedIndex += 1) {
        memset(&A40Shared, 0, sizeof(A40Shared));
        A40Events.NameCount = 0;
        for (Index = 0; Index < 4; Index += 1) {
            snprintf(A40Events.Names[Index], sizeof(A40Events.Names[Index]), "a40.sh.%u", Index);
        }
        A40Events.Violations = 0;
        A40Events.NameCount = 4;
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK(A40StartInjection(&Started, Seeds[SeedIndex], (SeedIndex & 1) == 0));
        CHECK(WdkmTestRunThreads(3, A40SharedThread, (PVOID)(ULONG_PTR)Seeds[SeedIndex]));
        if (Started) {
            WdkmHostInterruptsStop();
        }
        A40Events.NameCount = 0;
        if (A40Load(&A40Shared.Bad) != 0) {
            WdkmTestFail(__FILE__, __LINE__, "seed %llu: %d bad, last %s at line %d",
                         (unsigned long long)Seeds[SeedIndex], (int)A40Shared.Bad,
                         WdkmStatusName(A40Shared.LastBad), (int)A40Shared.LastLine);
            return;
        }
        if (A40Load(&A40Events.Violations) != 0) {
            WdkmTestFail(__FILE__, __LINE__, "seed %llu: %d event violations, last %s at line %d",
                         (unsigned long long)Seeds[SeedIndex], (int)A40Events.Violations,
                         WdkmStatusName(A40Events.LastViolation), (int)A40Events.LastLine);
            return;
        }
        CHECK_EQ(A40Load(&A40Shared.Ops), 3 * 4000);
        CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
        CHECK_EQ(WdkmTestPoolOutstanding(), 0);
    }
}


/* Two unload paths racing (a driver's unload and a failed start's
   cleanup): both destroys end with a documented status, the registry is
   freed once, and it can be created again. */
typedef struct _A40_TWO_DESTROYS {
    LONG volatile Go;
    NTSTATUS Status[2];
} A40_TWO_DESTROYS;

static VOID A40DestroyThread(PVOID Context, ULONG Index)
{
    A40_TWO_DESTROYS *Two = (A40_TWO_DESTROYS *)Context;
    LONGLONG Deadline = WdkmTestDeadlineMs(10000);

    while (A40Load(&Two->Go) == 0 && WdkmTestNowMs() < Deadline) {
        YieldProcessor();
    }
    Two->Status[Index] = WdkmGrtDestroy(NULL, NULL);
}

static VOID A40GrtConcurrentDestroys(VOID)
{
    A40_TWO_DESTROYS Two;
    WDKM_TEST_THREAD *Threads[2];
    A40_LATE Late;
    WDKM_TEST_THREAD *User;
    ULONG Initial = 0;
    ULONG Round;
    ULONG Index;

    for (Round = 0; Round < 20; Round += 1) {
        memset(&Two, 0, sizeof(Two));
        memset(&Late, 0, sizeof(Late));
        Late.Final = STATUS_PENDING;
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.late.k", &Initial), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("a40.late.f", &Initial), STATUS_SUCCESS);
        User = WdkmTestStartThread(A40LateThread, &Late);
        CHECK(User != NULL);
        CHECK(A40WaitAtLeast(&Late.Rounds, 1));
        /* Index 0 and 1: the thread routine takes its index from the start. */
        Threads[0] = WdkmTestStartThread(A40DestroyThread, &Two);
        CHECK(Threads[0] != NULL);
        InterlockedExchange(&Two.Go, 1);
        Two.Status[1] = WdkmGrtDestroy(NULL, NULL);
        WdkmTestJoinThread(Threads[0]);
        WdkmTestJoinThread(User);
        for (Index = 0; Index < 2; Index += 1) {
            CHECK(Two.Status[Index] == STATUS_SUCCESS ||
                  Two.Status[Index] == STATUS_WDKM_NOT_INITIALIZED);
        }
        CHECK(Two.Status[0] == STATUS_SUCCESS || Two.Status[1] == STATUS_SUCCESS);
        CHECK_STATUS(Late.Final, STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_WDKM_NOT_INITIALIZED);
        CHECK_EQ(WdkmTestPoolOutstanding(), 0);
    }
    UNREFERENCED_PARAMETER(Threads[1]);
}


/* The registry scope answers "as WdkmGrtReference" (reference.md): a kind
   that is none of WDKM_LOCK_KIND's, or a size of 0 or above the maximum,
   is STATUS_WDKM_TYPE_MISMATCH there, at any IRQL, before the lookup;
   only the queued spin lock (no handle) is STATUS_INVALID_PARAMETER. */
static VOID A40GrtScopeAnswersAsReference(VOID)
{
    ULONG Initial = 0;
    ULONG *Data;
    PVOID Lock;
    NTSTATUS Status;
    NTSTATUS Expected;
    WDKM_SCOPE Scope;
    ULONG Bodies = 0;
    KIRQL Old;
    static const WDKM_LOCK_KIND BadKinds[] = { (WDKM_LOCK_KIND)0, (WDKM_LOCK_KIND)8, (WDKM_LOCK_KIND)99 };
    ULONG Index;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.sc.k", &Initial), STATUS_SUCCESS);
    for (Index = 0; Index < sizeof(BadKinds) / sizeof(BadKinds[0]); Index += 1) {
        Expected = WdkmGrtReference("a40.sc.k", BadKinds[Index], sizeof(ULONG), &Lock);
        CHECK_STATUS(Expected, STATUS_WDKM_TYPE_MISMATCH);
        WDKM_GRT_SCOPED("a40.sc.k", BadKinds[Index], Data, &Status) {
            Bodies += 1;
        }
        CHECK_STATUS(Status, Expected);
        /* At HIGH_LEVEL too: an argument error comes first. */
        KeRaiseIrql(HIGH_LEVEL, &Old);
        Scope = WdkmGrtScopeEnter("a40.sc.k", BadKinds[Index], sizeof(ULONG), (PVOID *)&Data, &Status);
        WdkmScopeLeave(&Scope);
        KeLowerIrql(Old);
        CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
    }
    Scope = WdkmGrtScopeEnter("a40.sc.k", WdkmLockKindKMutex, WDKM_MAX_DATA_SIZE + 1, (PVOID *)&Data, &Status);
    WdkmScopeLeave(&Scope);
    CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmGrtReference("a40.sc.k", WdkmLockKindKMutex, WDKM_MAX_DATA_SIZE + 1, &Lock),
                 STATUS_WDKM_TYPE_MISMATCH);
    WDKM_GRT_SCOPED("a40.sc.k", WdkmLockKindQueuedSpinLock, Data, &Status) {
        Bodies += 1;
    }
    CHECK_STATUS(Status, STATUS_INVALID_PARAMETER);
    CHECK_EQ(Bodies, 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}


/* "On any status but STATUS_SUCCESS it is set to NULL": the data pointer
   of every failed acquire of the crate's kinds and the registry's get. */
#define A40_POISON ((PVOID)(ULONG_PTR)0x5A5A5A5A)

static VOID A40FailedAcquiresClearData(VOID)
{
    ULONG Initial = 0;
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX Fast;
    PVOID Data;
    PVOID Held;
    PVOID Lock;
    LARGE_INTEGER Zero;
    NTSTATUS Status;
    KIRQL Old;

    Zero.QuadPart = 0;
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &Fast), STATUS_SUCCESS);

    Data = A40_POISON;
    CHECK_STATUS(WdkmKMutexAcquire(NULL, sizeof(ULONG), &Data), STATUS_INVALID_PARAMETER);
    CHECK(Data == NULL);
    Data = A40_POISON;
    CHECK_STATUS(WdkmKMutexTryAcquire(Mutex, sizeof(ULONG64), &Data), STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Data == NULL);
    Data = A40_POISON;
    CHECK_STATUS(WdkmKMutexAcquireTimeout(Mutex, sizeof(ULONG), NULL, &Data), STATUS_INVALID_PARAMETER);
    CHECK(Data == NULL);
    Data = A40_POISON;
    CHECK_STATUS(WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)(PVOID)Mutex, sizeof(ULONG), &Data),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Data == NULL);
    Data = A40_POISON;
    CHECK_STATUS(WdkmFastMutexTryAcquire(NULL, sizeof(ULONG), &Data), STATUS_INVALID_PARAMETER);
    CHECK(Data == NULL);
    /* Busy for the owner's own try at DISPATCH (a DPC's view). */
    CHECK_STATUS(WdkmKMutexAcquire(Mutex, sizeof(ULONG), &Held), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Data = A40_POISON;
    Status = WdkmKMutexAcquireTimeout(Mutex, sizeof(ULONG), &Zero, &Data);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_TIMEOUT);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    /* The fast mutex's owner asking again. */
    CHECK_STATUS(WdkmFastMutexAcquire(Fast, sizeof(ULONG), &Held), STATUS_SUCCESS);
    Data = A40_POISON;
    Status = WdkmFastMutexTryAcquire(Fast, sizeof(ULONG), &Data);
    CHECK(Status != STATUS_SUCCESS);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmFastMutexRelease(Fast), STATUS_SUCCESS);
    /* The registry: *Lock NULL on every failure. */
    Lock = A40_POISON;
    CHECK_STATUS(WdkmGrtReference("a40.none", WdkmLockKindKMutex, sizeof(ULONG), &Lock),
                 STATUS_WDKM_NOT_INITIALIZED);
    CHECK(Lock == NULL);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Lock = A40_POISON;
    CHECK_STATUS(WdkmGrtReference("a40.none", WdkmLockKindKMutex, sizeof(ULONG), &Lock),
                 STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK(Lock == NULL);
    Lock = A40_POISON;
    CHECK_STATUS(WdkmGrtReference("", WdkmLockKindKMutex, sizeof(ULONG), &Lock),
                 STATUS_OBJECT_NAME_INVALID);
    CHECK(Lock == NULL);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(Fast), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}


/* The report of a timed-out destroy: the first 16 survivors named, each
   with whether it is held; the counts cover all of them. */
static VOID A40GrtReportNamesSurvivors(VOID)
{
    CHAR Name[32];
    A40_PAIR Initial = { 0, 0 };
    PWDKM_KMUTEX Refs[20];
    PWDKM_KMUTEX Unregistered;
    A40_HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Zero;
    ULONG Index;
    ULONG HeldNamed = 0;
    BOOLEAN HolderNamed = FALSE;

    Zero.QuadPart = 0;
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < 20; Index += 1) {
        snprintf(Name, sizeof(Name), "a40.rep.%02u", Index);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Initial), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, A40_PAIR, &Refs[Index]), STATUS_SUCCESS);
    }
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.rep.gone", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a40.rep.gone", A40_PAIR, &Unregistered), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("a40.rep.gone"), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a40.rep.free", &Initial), STATUS_SUCCESS);
    memset(&Holder, 0, sizeof(Holder));
    Holder.Lock = Refs[0];
    Thread = WdkmTestStartThread(A40HolderThread, &Holder);
    CHECK(Thread != NULL);
    CHECK(A40WaitAtLeast(&Holder.Held, 1));
    CHECK_STATUS(Holder.AcquireStatus, STATUS_SUCCESS);

    memset(&Report, 0xCC, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.Freed, 1);                         /* a40.rep.free */
    CHECK_EQ(Report.StillReferenced, 20);
    CHECK_EQ(Report.StillHeld, 1);
    CHECK_EQ(Report.UnregisteredReferenced, 1);
    CHECK_EQ(Report.NamesReported, WDKM_GRT_REPORT_NAMES);
    for (Index = 0; Index < Report.NamesReported; Index += 1) {
        CHECK(strncmp(Report.Names[Index], "a40.rep.", 8) == 0);
        CHECK(strcmp(Report.Names[Index], "a40.rep.free") != 0);
        if (Report.Held[Index]) {
            HeldNamed += 1;
            CHECK(strcmp(Report.Names[Index], "a40.rep.00") == 0);
        }
        if (strcmp(Report.Names[Index], "a40.rep.00") == 0) {
            HolderNamed = TRUE;
        }
    }
    CHECK(HeldNamed == (HolderNamed ? 1U : 0U));

    InterlockedExchange(&Holder.Release, 1);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Holder.ReleaseStatus, STATUS_SUCCESS);
    for (Index = 0; Index < 20; Index += 1) {
        CHECK_STATUS(WdkmGrtDereference(Refs[Index]), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtDereference(Unregistered), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), 0);
}

static const WDKM_TEST_CASE A40Cases[] = {
    { "kmutex_new_copies_value", A40KMutexNewCopiesValue },
    { "kmutex_lock_deref_drop", A40KMutexLockDerefDrop },
    { "kmutex_drop_safe_checks_owner", A40KMutexDropSafeChecksOwner },
    { "kmutex_drop_refused_while_held", A40KMutexDropRefusedWhileHeld },
    { "kmutex_to_owned", A40KMutexToOwned },
    { "kmutex_irql_boundaries", A40KMutexIrqlBoundaries },
    { "fast_mutex_rows", A40FastMutexRows },
    { "fast_mutex_try", A40FastMutexTry },
    { "grt_error_table", A40GrtErrorTable },
    { "grt_replace_overwrites", A40GrtReplaceOverwrites },
    { "grt_names", A40GrtNames },
    { "grt_mutex_type", A40GrtMutexType },
    { "grt_irql_and_ownership", A40GrtIrqlAndOwnership },
    { "grt_walkthrough_end_to_end", A40GrtWalkthroughEndToEnd },
    { "grt_walkthrough_exact_count", A40GrtWalkthroughExactCount },
    { "migration_steps", A40MigrationSteps },
    { "migration_kernel_rules", A40MigrationKernelRules },
    { "migration_spin_lock_and_rundown", A40MigrationSpinLockAndRundown },
    { "grt_scope_gives_references_back", A40GrtScopeGivesReferencesBack },
    { "events_on_holder", A40EventsOnHolder },
    { "grt_from_real_dpc", A40GrtFromRealDpc },
    { "kmutex_alert_and_absolute", A40KMutexAlertAndAbsolute },
    { "check_order", A40CheckOrder },
    { "grt_destroy_waits_for_user", A40GrtDestroyWaitsForUser },
    { "fast_mutex_nesting", A40FastMutexNesting },
    { "grt_register_under_pool_pressure", A40GrtRegisterUnderPoolPressure },
    { "grt_replace_under_use", A40GrtReplaceUnderUse },
    { "grt_writer_interrupted_by_writer", A40GrtWriterInterruptedByWriter },
    { "migration_spin_lock_forms", A40MigrationSpinLockForms },
    { "crate_load_under_pool_pressure", A40CrateLoadUnderPoolPressure },
    { "to_owned_box_without_memory", A40ToOwnedBoxWithoutMemory },
    { "kmutex_owner_try_at_dispatch", A40KMutexOwnerTryAtDispatch },
    { "grt_resource_deferred_free", A40GrtResourceDeferredFree },
    { "guarded_mutex_rows", A40GuardedMutexRows },
    { "resource_rows", A40ResourceRows },
    { "push_lock_rows", A40PushLockRows },
    { "grt_other_kinds_scoped", A40GrtOtherKindsScoped },
    { "grt_destroy_cycles_under_use", A40GrtDestroyCyclesUnderUse },
    { "grt_destroy_timeout_forms", A40GrtDestroyTimeoutForms },
    { "grt_churn_and_pool_statistics", A40GrtChurnAndPoolStatistics },
    { "scope_exits_release", A40ScopeExitsRelease },
    { "grt_concurrent_destroys", A40GrtConcurrentDestroys },
    { "grt_scope_answers_as_reference", A40GrtScopeAnswersAsReference },
    { "failed_acquires_clear_data", A40FailedAcquiresClearData },
    { "grt_report_names_survivors", A40GrtReportNamesSurvivors },
    { "grt_model_single", A40GrtModelSingle },
    { "grt_model_threads", A40GrtModelThreads },
    { "grt_shared_names_threads", A40GrtSharedNamesThreads },
};

static VOID A40Cleanup(VOID)
{
    WdkmHostPoolFailAt(-1);
    A40Events.NameCount = 0;
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    A40AgentStop();
    A40GrtReset();
}

const WDKM_TEST_SUITE WdkmAttack40Suite = WDKM_TEST_SUITE_WITH_CLEANUP("attack40", A40Cases, A40Cleanup);
