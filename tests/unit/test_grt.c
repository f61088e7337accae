/*
 * test_grt.c - the registry: every error, the crate's scenario, teardown
 * against concurrent users, growth, and a stress run checked against a
 * model.
 */
#include "wdkm_test.h"
#include "wdkm_test_interrupts.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct _COUNTER {
    LONG Value;
    LONG Spare;
} COUNTER;

typedef struct _BIG {
    LONGLONG Values[4];
} BIG;

static const COUNTER Zero = { 0, 0 };

static LARGE_INTEGER
Milliseconds(LONG Ms)
{
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Ms);
    return Timeout;
}

/* Destroys the registry, which must have nothing left in use. */
static BOOLEAN
DestroyClean(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout = Milliseconds(1000);

    return WdkmGrtDestroy(&Timeout, &Report) == STATUS_SUCCESS && Report.StillReferenced == 0;
}

/* ---------------------------------------------------------------------- */

static VOID
InitializeAndDestroyOnce(VOID)
{
    PWDKM_KMUTEX Mutex;

    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a", &Zero), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a", COUNTER, &Mutex), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_STATUS(WdkmGrtUnregister("a"), STATUS_WDKM_NOT_INITIALIZED);

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_WDKM_ALREADY_INITIALIZED);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a", &Zero), STATUS_SUCCESS);
    CHECK(DestroyClean());
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a", COUNTER, &Mutex), STATUS_WDKM_NOT_INITIALIZED);
    CHECK(Mutex == NULL);

    /* And again: a driver may be started and stopped many times. */
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("a", COUNTER, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK(DestroyClean());
}

static VOID
InitializeReportsPoolExhaustion(VOID)
{
    WdkmHostPoolFailAt(0);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_INSUFFICIENT_RESOURCES);
    WdkmHostPoolFailAt(-1);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK(DestroyClean());
}

static VOID
RegisterAndGetTyped(VOID)
{
    COUNTER Initial = { 5, 0 };
    BIG BigInitial = { { 1, 2, 3, 4 } };
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX FastMutex;
    COUNTER *Data;
    BIG *Big;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("counter", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("big", &BigInitial), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("counter", COUNTER, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK_EQ(Data->Value, 5);
    Data->Value += 1;
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("big", BIG, &FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Big), STATUS_SUCCESS);
    CHECK_EQ(Big->Values[3], 4);
    CHECK_STATUS(WdkmFastMutexRelease(FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(FastMutex), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("counter", COUNTER, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
    CHECK_EQ(Data->Value, 6);
    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    CHECK(DestroyClean());
}

static VOID
NamesAreCheckedAndCopied(VOID)
{
    char Name[80];
    PWDKM_KMUTEX Mutex;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtRegister(NULL, WdkmLockKindKMutex, &Zero, sizeof(Zero), 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("", &Zero), STATUS_OBJECT_NAME_INVALID);
    memset(Name, 'n', sizeof(Name));
    Name[WDKM_GRT_MAX_NAME_LENGTH + 1] = '\0';
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Zero), STATUS_NAME_TOO_LONG);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, COUNTER, &Mutex), STATUS_NAME_TOO_LONG);
    Name[WDKM_GRT_MAX_NAME_LENGTH] = '\0';
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Zero), STATUS_SUCCESS);   /* the longest */
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("", COUNTER, &Mutex), STATUS_OBJECT_NAME_INVALID);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX(NULL, COUNTER, &Mutex), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtReference("x", WdkmLockKindKMutex, sizeof(COUNTER), NULL),
                 STATUS_INVALID_PARAMETER);

    /* The registry keeps its own copy of the name. */
    snprintf(Name, sizeof(Name), "stack-name");
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Zero), STATUS_SUCCESS);
    Name[0] = 'X';
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, COUNTER, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("stack-name", COUNTER, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);

    /* Other bad arguments. */
    CHECK_STATUS(WdkmGrtRegister("k", (WDKM_LOCK_KIND)77, &Zero, sizeof(Zero), 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegister("k", WdkmLockKindKMutex, &Zero, sizeof(Zero), 0x80),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegister("k", WdkmLockKindKMutex, NULL, sizeof(Zero), 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegister("k", WdkmLockKindKMutex, &Zero, 0, 0), STATUS_INVALID_PARAMETER);
    CHECK(DestroyClean());
}

static VOID
CollisionAndReplace(VOID)
{
    COUNTER First = { 1, 0 };
    COUNTER Second = { 2, 0 };
    PWDKM_KMUTEX Old;
    PWDKM_KMUTEX New;
    COUNTER *Data;
    LONG Blocks;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("x", &First), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("x", &Second), STATUS_OBJECT_NAME_COLLISION);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("x", &Second), STATUS_OBJECT_NAME_COLLISION);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("x", COUNTER, &Old), STATUS_SUCCESS);

    Blocks = WdkmTestPoolOutstanding();
    CHECK_STATUS(WDKM_GRT_REPLACE_KMUTEX("x", &Second), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("x", COUNTER, &New), STATUS_SUCCESS);
    CHECK(New != Old);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(New, &Data), STATUS_SUCCESS);
    CHECK_EQ(Data->Value, 2);
    CHECK_STATUS(WdkmKMutexRelease(New), STATUS_SUCCESS);

    /* The replaced lock still works for its holder of a reference. */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Old, &Data), STATUS_SUCCESS);
    CHECK_EQ(Data->Value, 1);
    CHECK_STATUS(WdkmKMutexRelease(Old), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Old), STATUS_SUCCESS);
    CHECK(WdkmTestPoolOutstanding() < Blocks + 3);   /* old entry and lock freed */
    CHECK_STATUS(WdkmGrtDereference(New), STATUS_SUCCESS);
    CHECK(DestroyClean());
}

static VOID
WrongKindTypeOrName(VOID)
{
    PWDKM_KMUTEX Mutex = (PWDKM_KMUTEX)&Mutex;
    PWDKM_FAST_MUTEX FastMutex = (PWDKM_FAST_MUTEX)&FastMutex;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("k", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("k", COUNTER, &FastMutex), STATUS_WDKM_TYPE_MISMATCH);
    CHECK(FastMutex == NULL);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("k", BIG, &Mutex), STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Mutex == NULL);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("K", COUNTER, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("missing", COUNTER, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK(DestroyClean());
}

static VOID
IrqlIsChecked(VOID)
{
    PWDKM_KMUTEX Mutex;
    NTSTATUS Results[8];
    KIRQL OldIrql;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("k", &Zero), STATUS_SUCCESS);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Results[0] = WDKM_GRT_GET_KMUTEX("k", COUNTER, &Mutex);         /* allowed */
    Results[1] = Results[0] == STATUS_SUCCESS ? WdkmGrtDereference(Mutex) : Results[0];
    Results[2] = WDKM_GRT_REGISTER_KMUTEX("j", &Zero);
    Results[3] = WdkmGrtUnregister("k");
    Results[4] = WdkmGrtDestroy(NULL, NULL);
    Results[5] = WdkmGrtInitialize();
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Results[6] = WDKM_GRT_GET_KMUTEX("k", COUNTER, &Mutex);
    KeLowerIrql(APC_LEVEL);
    Results[7] = WDKM_GRT_REGISTER_KMUTEX("apc", &Zero);             /* allowed */
    KeLowerIrql(PASSIVE_LEVEL);

    CHECK_STATUS(Results[0], STATUS_SUCCESS);
    CHECK_STATUS(Results[1], STATUS_SUCCESS);
    CHECK_STATUS(Results[2], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[3], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[4], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[5], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[6], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Results[7], STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("k", COUNTER, &Mutex), STATUS_SUCCESS);  /* unchanged */
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    CHECK(DestroyClean());
}

static VOID
UnregisterWhileReferenced(VOID)
{
    PWDKM_FAST_MUTEX FastMutex;
    PWDKM_FAST_MUTEX Again;
    COUNTER *Data;
    LONG Blocks;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("f", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("f", COUNTER, &FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Data), STATUS_SUCCESS);

    Blocks = WdkmTestPoolOutstanding();
    CHECK_STATUS(WdkmGrtUnregister("f"), STATUS_SUCCESS);   /* while held */
    CHECK_STATUS(WdkmGrtUnregister("f"), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("f", COUNTER, &Again), STATUS_OBJECT_NAME_NOT_FOUND);
    Data->Value = 9;                                          /* still ours */
    CHECK_STATUS(WdkmGrtDereference(FastMutex), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmFastMutexRelease(FastMutex), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);              /* its bucket is marked in place */
    CHECK_STATUS(WdkmGrtDereference(FastMutex), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks - 2);          /* then entry with its lock, counter chunk */
    CHECK(DestroyClean());
}

/*
 * A reference counts on the processor it was taken on and may be dropped
 * on any other, before or after the name is unregistered: the entry is
 * freed exactly when the last one is dropped.
 */
static VOID
ReferencesMoveBetweenProcessors(VOID)
{
    PWDKM_FAST_MUTEX First;
    PWDKM_FAST_MUTEX Second;
    LONG Blocks;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("p", &Zero), STATUS_SUCCESS);

    /* Taken on 0 and 21 (shards 0 and 5), dropped on 5 and 250 (shards 5 and 10). */
    WdkmHostSetCurrentProcessor(0);
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("p", COUNTER, &First), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(21);
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("p", COUNTER, &Second), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(5);
    CHECK_STATUS(WdkmGrtDereference(First), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(250);
    CHECK_STATUS(WdkmGrtDereference(Second), STATUS_SUCCESS);
    Blocks = WdkmTestPoolOutstanding();
    CHECK_STATUS(WdkmGrtUnregister("p"), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks - 2);          /* nothing outstanding */

    /* Taken on 3, still held when the name goes, dropped on 9. */
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("p", &Zero), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(3);
    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("p", COUNTER, &First), STATUS_SUCCESS);
    Blocks = WdkmTestPoolOutstanding();
    CHECK_STATUS(WdkmGrtUnregister("p"), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);              /* one reference left */
    WdkmHostSetCurrentProcessor(9);
    CHECK_STATUS(WdkmGrtDereference(First), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Blocks - 2);
    WdkmHostSetCurrentProcessor(-1);
    CHECK(DestroyClean());
}

static VOID
RegistryLocksAreTheRegistrys(VOID)
{
    COUNTER Out;
    PWDKM_KMUTEX Mutex;
    PWDKM_KMUTEX Private;

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Private), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("k", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("k", COUNTER, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Mutex), STATUS_WDKM_OWNED_BY_REGISTRY);
    CHECK_STATUS(WDKM_KMUTEX_TAKE(Mutex, &Out), STATUS_WDKM_OWNED_BY_REGISTRY);
    CHECK_STATUS(WdkmGrtDereference(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtDereference(Private), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    CHECK(DestroyClean());
    CHECK_STATUS(WdkmKMutexDestroy(Private), STATUS_SUCCESS);
}

static VOID
ScopedFormReleasesAndDereferences(VOID)
{
    COUNTER *Data;
    NTSTATUS Status;
    int Runs = 0;
    int Pass;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("k", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("f", &Zero), STATUS_SUCCESS);
    for (Pass = 0; Pass < 3; Pass += 1) {
        WDKM_GRT_KMUTEX_SCOPED("k", Data, &Status) {
            Data->Value += 1;
            Runs += 1;
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
        WDKM_GRT_FAST_MUTEX_SCOPED("f", Data, &Status) {
            Data->Value += 1;
            CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
    }
    WDKM_GRT_KMUTEX_SCOPED("missing", Data, &Status) {
        Runs += 100;
    }
    CHECK_STATUS(Status, STATUS_OBJECT_NAME_NOT_FOUND);
    WDKM_GRT_KMUTEX_SCOPED("f", Data, &Status) {
        Runs += 100;
    }
    CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
    CHECK_EQ(Runs, 3);
    WDKM_GRT_KMUTEX_SCOPED("k", Data, &Status) {
        CHECK_EQ(Data->Value, 3);
    }
    CHECK(DestroyClean());       /* every reference was dropped */
}

/*
 * The last reference to an unregistered ERESOURCE lock dropped at
 * DISPATCH_LEVEL: ExDeleteResourceLite cannot run there, so the free is
 * deferred to the next registry call made low enough (found by the fuzzer).
 */
static VOID
LastDereferenceAtDispatchIsDeferred(VOID)
{
    PWDKM_RESOURCE Resource;
    ULONG LiveResources;
    NTSTATUS Status;
    KIRQL OldIrql;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    LiveResources = WdkmHostResourceCount();
    CHECK_STATUS(WDKM_GRT_REGISTER("res", WdkmLockKindResource, &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_RESOURCE("res", COUNTER, &Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("res"), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WdkmGrtDereference(Resource);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(WdkmHostResourceCount(), LiveResources + 1);   /* parked, not leaked */
    CHECK(DestroyClean());
    CHECK_EQ(WdkmHostResourceCount(), LiveResources);       /* deleted by Destroy */
}

/* ---------------------------------------------------------------------- */

typedef struct _CRATE_RUN {
    LONG volatile Errors;
} CRATE_RUN;

static VOID
CrateWorker(PVOID Context, ULONG Index)
{
    CRATE_RUN *Run = (CRATE_RUN *)Context;
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX FastMutex;
    COUNTER *Data;
    ULONG Iteration;

    UNREFERENCED_PARAMETER(Index);
    if (WDKM_GRT_GET_KMUTEX("kmutex", COUNTER, &Mutex) != STATUS_SUCCESS ||
        WDKM_GRT_GET_FAST_MUTEX("fast", COUNTER, &FastMutex) != STATUS_SUCCESS) {
        InterlockedIncrement(&Run->Errors);
        return;
    }
    for (Iteration = 0; Iteration < 500; Iteration += 1) {
        if (WDKM_KMUTEX_ACQUIRE(Mutex, &Data) == STATUS_SUCCESS) {
            Data->Value += 1;
            (VOID)WdkmKMutexRelease(Mutex);
        } else {
            InterlockedIncrement(&Run->Errors);
        }
        if (WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Data) == STATUS_SUCCESS) {
            Data->Value += 1;
            (VOID)WdkmFastMutexRelease(FastMutex);
        } else {
            InterlockedIncrement(&Run->Errors);
        }
    }
    if (WdkmGrtDereference(Mutex) != STATUS_SUCCESS ||
        WdkmGrtDereference(FastMutex) != STATUS_SUCCESS) {
        InterlockedIncrement(&Run->Errors);
    }
}

/* The crate's scenario, three times with Initialize/Destroy between. */
static VOID
CrateScenarioThreeRuns(VOID)
{
    CRATE_RUN Run;
    PWDKM_KMUTEX Mutex;
    PWDKM_FAST_MUTEX FastMutex;
    COUNTER *Data;
    int Round;

    for (Round = 0; Round < 3; Round += 1) {
        Run.Errors = 0;
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("kmutex", &Zero), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("fast", &Zero), STATUS_SUCCESS);
        CHECK(WdkmTestRunThreads(3, CrateWorker, &Run));
        CHECK_EQ(Run.Errors, 0);
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX("kmutex", COUNTER, &Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
        CHECK_EQ(Data->Value, 1500);
        CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("fast", COUNTER, &FastMutex), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Data), STATUS_SUCCESS);
        CHECK_EQ(Data->Value, 1500);
        CHECK_STATUS(WdkmFastMutexRelease(FastMutex), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDereference(FastMutex), STATUS_SUCCESS);
        CHECK(DestroyClean());
    }
}

/* ---------------------------------------------------------------------- */

typedef struct _HOLDER {
    KEVENT Held;
    KEVENT Release;
    NTSTATUS Status;
} HOLDER;

static VOID
HoldRegistryLock(PVOID Context, ULONG Index)
{
    HOLDER *Holder = (HOLDER *)Context;
    PWDKM_KMUTEX Mutex;
    COUNTER *Data;

    UNREFERENCED_PARAMETER(Index);
    Holder->Status = WDKM_GRT_GET_KMUTEX("held", COUNTER, &Mutex);
    if (Holder->Status == STATUS_SUCCESS) {
        Holder->Status = WDKM_KMUTEX_ACQUIRE(Mutex, &Data);
    }
    (VOID)KeSetEvent(&Holder->Held, 0, FALSE);
    if (Holder->Status == STATUS_SUCCESS) {
        (VOID)KeWaitForSingleObject(&Holder->Release, Executive, KernelMode, FALSE, NULL);
        Data->Value = 77;                  /* memory still valid during Destroy */
        Holder->Status = WdkmKMutexRelease(Mutex);
        if (Holder->Status == STATUS_SUCCESS) {
            Holder->Status = WdkmGrtDereference(Mutex);
        }
    }
}

/* Destroy never frees under a holder: it reports, then finishes later. */
static VOID
DestroyWaitsForHolders(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout = Milliseconds(50);
    WDKM_TEST_THREAD *Thread;
    PWDKM_KMUTEX Mutex;
    HOLDER Holder;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("held", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("idle", &Zero), STATUS_SUCCESS);
    KeInitializeEvent(&Holder.Held, NotificationEvent, FALSE);
    KeInitializeEvent(&Holder.Release, NotificationEvent, FALSE);
    Thread = WdkmTestStartThread(HoldRegistryLock, &Holder);
    CHECK(Thread != NULL);
    (VOID)KeWaitForSingleObject(&Holder.Held, Executive, KernelMode, FALSE, NULL);
    CHECK_STATUS(Holder.Status, STATUS_SUCCESS);

    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.Freed, 1);                       /* "idle" */
    CHECK_EQ(Report.StillReferenced, 1);
    CHECK_EQ(Report.StillHeld, 1);
    CHECK_EQ(Report.NamesReported, 1);
    CHECK(strcmp(Report.Names[0], "held") == 0);
    CHECK(Report.Held[0]);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("held", COUNTER, &Mutex), STATUS_DELETE_PENDING);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("new", &Zero), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_WDKM_ALREADY_INITIALIZED);

    (VOID)KeSetEvent(&Holder.Release, 0, FALSE);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Holder.Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("held", COUNTER, &Mutex), STATUS_WDKM_NOT_INITIALIZED);
}

typedef struct _RACE {
    LONG volatile Successes;
    LONG volatile Unexpected;
    LONG volatile Ready;
} RACE;

/* Looks up, locks and releases until the registry goes away. */
static VOID
RaceWorker(PVOID Context, ULONG Index)
{
    RACE *Race = (RACE *)Context;
    char Name[16];
    PWDKM_KMUTEX Mutex;
    COUNTER *Data;
    NTSTATUS Status;
    ULONG Iteration;

    InterlockedIncrement(&Race->Ready);
    for (Iteration = 0;; Iteration += 1) {
        snprintf(Name, sizeof(Name), "n%lu", (unsigned long)((Iteration + Index) % 32));
        Status = WDKM_GRT_GET_KMUTEX(Name, COUNTER, &Mutex);
        if (Status == STATUS_DELETE_PENDING || Status == STATUS_WDKM_NOT_INITIALIZED) {
            break;
        }
        if (Status != STATUS_SUCCESS) {
            InterlockedIncrement(&Race->Unexpected);
            break;
        }
        if (WDKM_KMUTEX_ACQUIRE(Mutex, &Data) == STATUS_SUCCESS) {
            Data->Value += 1;
            (VOID)WdkmKMutexRelease(Mutex);
        } else {
            InterlockedIncrement(&Race->Unexpected);
        }
        if (WdkmGrtDereference(Mutex) != STATUS_SUCCESS) {
            InterlockedIncrement(&Race->Unexpected);
        }
        InterlockedIncrement(&Race->Successes);
    }
}

static VOID
DestroyRacesLookups(VOID)
{
    WDKM_TEST_THREAD *Threads[4];
    WDKM_GRT_REPORT Report;
    RACE Race = { 0, 0, 0 };
    char Name[16];
    ULONG Index;
    int Round;

    for (Round = 0; Round < 3; Round += 1) {
        Race.Ready = 0;
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        for (Index = 0; Index < 32; Index += 1) {
            snprintf(Name, sizeof(Name), "n%lu", (unsigned long)Index);
            CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Zero), STATUS_SUCCESS);
        }
        for (Index = 0; Index < 4; Index += 1) {
            Threads[Index] = WdkmTestStartThread(RaceWorker, &Race);
        }
        while (InterlockedCompareExchange(&Race.Ready, 0, 0) < 4) {
            WdkmTestSleepMs(1);
        }
        WdkmTestSleepMs(10);
        CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
        for (Index = 0; Index < 4; Index += 1) {
            WdkmTestJoinThread(Threads[Index]);
        }
        CHECK_EQ(Race.Unexpected, 0);
        CHECK_EQ(Report.StillReferenced, 0);
    }
    CHECK(Race.Successes > 0);
}

/* ---------------------------------------------------------------------- */

static VOID
GrowsAndShrinks(VOID)
{
    char Name[32];
    PWDKM_KMUTEX Mutex;
    ULONG Index;
    const ULONG Count = 5000;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < Count; Index += 1) {
        LONG Value = (LONG)Index;
        snprintf(Name, sizeof(Name), "lock-%lu", (unsigned long)Index);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Value), STATUS_SUCCESS);
    }
    for (Index = 0; Index < Count; Index += 1) {
        LONG *Value;
        snprintf(Name, sizeof(Name), "lock-%lu", (unsigned long)Index);
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, LONG, &Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Value), STATUS_SUCCESS);
        CHECK_EQ(*Value, Index);
        CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    }
    for (Index = 0; Index < Count; Index += 2) {
        snprintf(Name, sizeof(Name), "lock-%lu", (unsigned long)Index);
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
    }
    for (Index = 0; Index < Count; Index += 1) {
        snprintf(Name, sizeof(Name), "lock-%lu", (unsigned long)Index);
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, LONG, &Mutex),
                     Index % 2 == 0 ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_SUCCESS);
        if (Index % 2 == 1) {
            CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
        }
    }
    CHECK(DestroyClean());
}

/*
 * A registry lock and its entry are one pool block (WdkmpLockCreateOwned):
 * the entry's line just before the lock's header, the two one 128-byte
 * aligned pair, and the rest of the entry after the value. For every kind
 * and value size: the handle is the second line of a pair; the value,
 * written whole, and the entry (its names, counts, list links) never
 * overlap; names that differ only past the entry's own line (its first
 * 32 characters) stay apart; the accounting counts each block once, whole,
 * and after Destroy nothing is outstanding.
 */
#define LAYOUT_SIZES 4
#define LAYOUT_KINDS 7

static VOID
LayoutName(char *Name, ULONG Kind, ULONG Size)
{
    /* 40 characters alike, then the kind and size: past the entry's line. */
    snprintf(Name, WDKM_GRT_MAX_NAME_LENGTH + 1,
             "registry-layout-name-shared-prefix-xxxx-%lu-%02lu", (unsigned long)Kind,
             (unsigned long)Size);
}

static BOOLEAN
LayoutValueIs(const UCHAR *Data, ULONG Size, UCHAR Pattern)
{
    ULONG Index;

    for (Index = 0; Index < Size; Index += 1) {
        if (Data[Index] != Pattern) {
            return FALSE;
        }
    }
    return TRUE;
}

static VOID
RegistryBlocksHoldEntryAndLock(VOID)
{
    static const WDKM_LOCK_KIND Kinds[LAYOUT_KINDS] = {
        WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock,
        WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource,
        WdkmLockKindPushLock,
    };
    static const ULONG Sizes[LAYOUT_SIZES] = { 1, 14, 27, 40 };
    char Name[WDKM_GRT_MAX_NAME_LENGTH + 1];
    PVOID Locks[LAYOUT_KINDS][LAYOUT_SIZES];
    PVOID Values[LAYOUT_KINDS][LAYOUT_SIZES] = { { NULL } };   /* where each value is */
    UCHAR Value[40];
    WDKM_POOL_STATISTICS Before;
    WDKM_POOL_STATISTICS During;
    WDKM_POOL_STATISTICS After;
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout = Milliseconds(10);
    ULONG Kind;
    ULONG Size;
    ULONG Index;
    ULONG Found;
    PVOID Data;
    NTSTATUS Status;
    WDKM_SCOPE Scope;

    WdkmQueryPoolStatistics(&Before);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Kind = 0; Kind < LAYOUT_KINDS; Kind += 1) {
        for (Size = 0; Size < LAYOUT_SIZES; Size += 1) {
            LayoutName(Name, Kind, Sizes[Size]);
            memset(Value, (int)(0x40 + Kind * LAYOUT_SIZES + Size), sizeof(Value));
            CHECK_STATUS(WdkmGrtRegister(Name, Kinds[Kind], Value, Sizes[Size], 0), STATUS_SUCCESS);
            CHECK_STATUS(WdkmGrtReference(Name, Kinds[Kind], Sizes[Size], &Locks[Kind][Size]),
                         STATUS_SUCCESS);
            CHECK(((ULONG_PTR)Locks[Kind][Size] & 127) == 64);
        }
    }
    /* One block per name, plus the table and two counter chunks. */
    WdkmQueryPoolStatistics(&During);
    CHECK_EQ(During.OutstandingBlocks, Before.OutstandingBlocks + LAYOUT_KINDS * LAYOUT_SIZES + 3);

    /* The entries were filled in after the values were set: the values are
       intact. Written whole, they must not reach the entries (the names
       are checked through Destroy's report below). */
    for (Kind = 0; Kind < LAYOUT_KINDS; Kind += 1) {
        if (Kinds[Kind] == WdkmLockKindQueuedSpinLock) {
            continue;                           /* no scoped form */
        }
        for (Size = 0; Size < LAYOUT_SIZES; Size += 1) {
            LayoutName(Name, Kind, Sizes[Size]);
            Data = NULL;
            Scope = WdkmGrtScopeEnter(Name, Kinds[Kind], Sizes[Size], &Data, &Status);
            CHECK_STATUS(Status, STATUS_SUCCESS);
            CHECK(Data != NULL && LayoutValueIs((const UCHAR *)Data, Sizes[Size],
                                                (UCHAR)(0x40 + Kind * LAYOUT_SIZES + Size)));
            if (Data != NULL) {
                memset(Data, 0xFF, Sizes[Size]);
            }
            Values[Kind][Size] = Data;          /* ours while referenced */
            WdkmScopeLeave(&Scope);
            CHECK_STATUS(Status, STATUS_SUCCESS);
        }
    }

    /* Unregistering writes the entries' counts and list links; Destroy then
       reports every name still referenced, read from the entries. */
    for (Kind = 0; Kind < LAYOUT_KINDS; Kind += 1) {
        for (Size = 0; Size < LAYOUT_SIZES; Size += 1) {
            LayoutName(Name, Kind, Sizes[Size]);
            CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
        }
    }
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.UnregisteredReferenced, LAYOUT_KINDS * LAYOUT_SIZES);
    CHECK_EQ(Report.NamesReported, WDKM_GRT_REPORT_NAMES);
    for (Index = 0; Index < Report.NamesReported; Index += 1) {
        Found = 0;
        for (Kind = 0; Kind < LAYOUT_KINDS; Kind += 1) {
            for (Size = 0; Size < LAYOUT_SIZES; Size += 1) {
                LayoutName(Name, Kind, Sizes[Size]);
                Found += strcmp(Name, Report.Names[Index]) == 0 ? 1 : 0;
            }
        }
        CHECK_EQ(Found, 1);
    }

    /* The values, still whole after all that. */
    for (Kind = 0; Kind < LAYOUT_KINDS; Kind += 1) {
        if (Kinds[Kind] == WdkmLockKindQueuedSpinLock) {
            continue;
        }
        for (Size = 0; Size < LAYOUT_SIZES; Size += 1) {
            CHECK(Values[Kind][Size] != NULL &&
                  LayoutValueIs((const UCHAR *)Values[Kind][Size], Sizes[Size], 0xFF));
        }
    }
    for (Kind = 0; Kind < LAYOUT_KINDS; Kind += 1) {
        for (Size = 0; Size < LAYOUT_SIZES; Size += 1) {
            CHECK_STATUS(WdkmGrtDereference(Locks[Kind][Size]), STATUS_SUCCESS);
        }
    }
    CHECK(DestroyClean());
    WdkmQueryPoolStatistics(&After);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks);
    CHECK_EQ(After.OutstandingBytes, Before.OutstandingBytes);
}

/*
 * The last references to one entry dropped at once on several threads,
 * while its name is unregistered: the block (entry and lock together) is
 * freed exactly once, by whoever drops the last (a double free or a leak
 * shows in the accounting, and under ASan).
 */
#define DROP_THREADS 3

typedef struct _DROP_RACE {
    PVOID Locks[DROP_THREADS];
    LONG volatile Next;                 /* each thread's index */
    LONG volatile Go;
    NTSTATUS Status[DROP_THREADS];
} DROP_RACE;

static VOID
DropRaceWorker(PVOID Context, ULONG Unused)
{
    DROP_RACE *Race = (DROP_RACE *)Context;
    ULONG Index = (ULONG)(InterlockedIncrement(&Race->Next) - 1);

    UNREFERENCED_PARAMETER(Unused);
    WdkmHostSetCurrentProcessor((LONG)(Index * 5));     /* shards of their own */
    while (__atomic_load_n(&Race->Go, __ATOMIC_ACQUIRE) == 0) {
    }
    Race->Status[Index] = WdkmGrtDereference(Race->Locks[Index]);
    WdkmHostSetCurrentProcessor(-1);
}

static VOID
LastDereferencesRaceUnregister(VOID)
{
    WDKM_TEST_THREAD *Threads[DROP_THREADS];
    DROP_RACE Race;
    LONG Blocks;
    ULONG Round;
    ULONG Index;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("keep", &Zero), STATUS_SUCCESS);  /* keeps the chunk */
    Blocks = WdkmTestPoolOutstanding();
    for (Round = 0; Round < 200; Round += 1) {
        memset(&Race, 0, sizeof(Race));
        CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("drop", &Zero), STATUS_SUCCESS);
        for (Index = 0; Index < DROP_THREADS; Index += 1) {
            CHECK_STATUS(WdkmGrtReference("drop", WdkmLockKindFastMutex, sizeof(COUNTER),
                                          &Race.Locks[Index]),
                         STATUS_SUCCESS);
            Threads[Index] = WdkmTestStartThread(DropRaceWorker, &Race);
            CHECK(Threads[Index] != NULL);
        }
        __atomic_store_n(&Race.Go, 1, __ATOMIC_RELEASE);
        CHECK_STATUS(WdkmGrtUnregister("drop"), STATUS_SUCCESS);
        for (Index = 0; Index < DROP_THREADS; Index += 1) {
            WdkmTestJoinThread(Threads[Index]);
            CHECK_STATUS(Race.Status[Index], STATUS_SUCCESS);
        }
        CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);
    }
    CHECK(DestroyClean());
}

/* Every allocation a registration makes can fail without a leak. */
static VOID
RegisterSurvivesEveryAllocationFailure(VOID)
{
    PWDKM_KMUTEX Mutex;
    LONG Failure;
    NTSTATUS Status;
    LONG Blocks;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Failure = 0; Failure < 8; Failure += 1) {
        Blocks = WdkmTestPoolOutstanding();
        WdkmHostPoolFailAt(Failure);
        Status = WDKM_GRT_REGISTER_KMUTEX("x", &Zero);
        WdkmHostPoolFailAt(-1);
        if (Status == STATUS_SUCCESS) {
            break;                              /* past the last allocation */
        }
        CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
        CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX("x", COUNTER, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    }
    CHECK(Failure >= 2);                        /* counter chunk, entry with its lock */
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("x", COUNTER, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    CHECK(DestroyClean());
}

/* ---------------------------------------------------------------------- */

/*
 * 8 threads x mixed register / lookup / lock / unregister. Thread t owns
 * the names "t<t>-<k>": its model (registered or not, counter value) is
 * exact, and every result must match it. All threads also look up the
 * shared names, which always exist.
 */
#define STRESS_THREADS 8
#define STRESS_NAMES   16
#define STRESS_SHARED  8

typedef struct _STRESS {
    ULONG Operations;
    LONG volatile Mismatches;
    LONG volatile SharedIncrements;
} STRESS;

static VOID
StressWorker(PVOID Context, ULONG Index)
{
    STRESS *Stress = (STRESS *)Context;
    BOOLEAN Registered[STRESS_NAMES] = { FALSE };
    LONG Values[STRESS_NAMES] = { 0 };
    ULONG Random = 2463534242UL + Index * 7919;
    PWDKM_KMUTEX Mutex;
    COUNTER *Data;
    char Name[32];
    ULONG Operation;
    ULONG Key;
    NTSTATUS Status;
    NTSTATUS Expected;
    LONG Shared = 0;

    for (Operation = 0; Operation < Stress->Operations; Operation += 1) {
        Random ^= Random << 13;
        Random ^= Random >> 17;
        Random ^= Random << 5;
        Key = (Random >> 8) % STRESS_NAMES;
        snprintf(Name, sizeof(Name), "t%lu-%lu", (unsigned long)Index, (unsigned long)Key);
        switch (Random % 4) {
        case 0: {
            COUNTER Initial = { 0, 0 };
            Status = WDKM_GRT_REGISTER_KMUTEX(Name, &Initial);
            Expected = Registered[Key] ? STATUS_OBJECT_NAME_COLLISION : STATUS_SUCCESS;
            if (Status == STATUS_SUCCESS) {
                Registered[Key] = TRUE;
                Values[Key] = 0;
            }
            break;
        }
        case 1:
            Status = WdkmGrtUnregister(Name);
            Expected = Registered[Key] ? STATUS_SUCCESS : STATUS_OBJECT_NAME_NOT_FOUND;
            Registered[Key] = FALSE;
            break;
        case 2:
            Status = WDKM_GRT_GET_KMUTEX(Name, COUNTER, &Mutex);
            Expected = Registered[Key] ? STATUS_SUCCESS : STATUS_OBJECT_NAME_NOT_FOUND;
            if (Status == STATUS_SUCCESS) {
                if (WDKM_KMUTEX_ACQUIRE(Mutex, &Data) != STATUS_SUCCESS ||
                    Data->Value != Values[Key]) {
                    InterlockedIncrement(&Stress->Mismatches);
                } else {
                    Data->Value += 1;
                    Values[Key] += 1;
                    (VOID)WdkmKMutexRelease(Mutex);
                }
                (VOID)WdkmGrtDereference(Mutex);
            }
            break;
        default:
            snprintf(Name, sizeof(Name), "shared-%lu", (unsigned long)(Key % STRESS_SHARED));
            Status = WDKM_GRT_GET_KMUTEX(Name, COUNTER, &Mutex);
            Expected = STATUS_SUCCESS;
            if (Status == STATUS_SUCCESS) {
                if (WDKM_KMUTEX_ACQUIRE(Mutex, &Data) == STATUS_SUCCESS) {
                    Data->Value += 1;
                    Shared += 1;
                    (VOID)WdkmKMutexRelease(Mutex);
                }
                (VOID)WdkmGrtDereference(Mutex);
            }
            break;
        }
        if (Status != Expected) {
            InterlockedIncrement(&Stress->Mismatches);
        }
    }
    InterlockedExchangeAdd(&Stress->SharedIncrements, Shared);
}

static VOID
StressMatchesModel(VOID)
{
    STRESS Stress = { 20000, 0, 0 };
    PWDKM_KMUTEX Mutex;
    COUNTER *Data;
    char Name[32];
    ULONG Index;
    LONG Total = 0;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < STRESS_SHARED; Index += 1) {
        snprintf(Name, sizeof(Name), "shared-%lu", (unsigned long)Index);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Zero), STATUS_SUCCESS);
    }
    CHECK(WdkmTestRunThreads(STRESS_THREADS, StressWorker, &Stress));
    CHECK_EQ(Stress.Mismatches, 0);
    for (Index = 0; Index < STRESS_SHARED; Index += 1) {
        snprintf(Name, sizeof(Name), "shared-%lu", (unsigned long)Index);
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, COUNTER, &Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Data), STATUS_SUCCESS);
        Total += Data->Value;
        CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    }
    CHECK_EQ(Total, Stress.SharedIncrements);
    CHECK(DestroyClean());
}

/* ---------------------------------------------------------------------- */
/* Destroy's report, timeouts and the checks of Dereference (issue 15)     */
/* ---------------------------------------------------------------------- */

/*
 * The report tells registered locks still referenced from unregistered
 * ones not yet dereferenced (issue 15, item 11: the second count was never
 * filled and the first counted both).
 */
static VOID
DestroyReportsUnregisteredApart(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout = Milliseconds(20);
    PWDKM_KMUTEX Registered;
    PWDKM_KMUTEX Unregistered;
    PWDKM_KMUTEX Held;
    COUNTER *Data;
    ULONG Index;
    BOOLEAN SawHeld = FALSE;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("registered", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("unregistered", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("unregistered-held", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("idle", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("registered", COUNTER, &Registered), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("unregistered", COUNTER, &Unregistered), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("unregistered-held", COUNTER, &Held), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("unregistered"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("unregistered-held"), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Held, &Data), STATUS_SUCCESS);

    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.Freed, 1);                          /* "idle" */
    CHECK_EQ(Report.StillReferenced, 1);                /* "registered" */
    CHECK_EQ(Report.StillHeld, 0);                      /* of the registered ones */
    CHECK_EQ(Report.UnregisteredReferenced, 2);
    CHECK_EQ(Report.NamesReported, 3);                  /* every survivor is named */
    for (Index = 0; Index < Report.NamesReported && Index < WDKM_GRT_REPORT_NAMES; Index += 1) {
        if (strcmp(Report.Names[Index], "unregistered-held") == 0) {
            SawHeld = Report.Held[Index];
        } else {
            CHECK(!Report.Held[Index]);
        }
    }
    CHECK(SawHeld);

    CHECK_STATUS(WdkmKMutexRelease(Held), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Held), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Unregistered), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.Freed, 0);                          /* the dereferences freed them */
    CHECK_EQ(Report.StillReferenced, 1);
    CHECK_EQ(Report.UnregisteredReferenced, 0);
    CHECK_EQ(Report.NamesReported, 1);
    CHECK(strcmp(Report.Names[0], "registered") == 0);
    CHECK_STATUS(WdkmGrtDereference(Registered), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.Freed, 0);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(Report.UnregisteredReferenced, 0);
}

typedef struct _LATE_DEREFERENCE {
    PVOID Lock;
    LONG DelayMs;
    NTSTATUS Status;
} LATE_DEREFERENCE;

static VOID
DereferenceLater(PVOID Context, ULONG Index)
{
    LATE_DEREFERENCE *Late = (LATE_DEREFERENCE *)Context;

    UNREFERENCED_PARAMETER(Index);
    WdkmTestSleepMs((ULONG)Late->DelayMs);
    Late->Status = WdkmGrtDereference(Late->Lock);
}

/*
 * An absolute timeout is a time of day, not "do not wait" (issue 15, item
 * 12): Destroy waits until then for the last reference.
 */
static VOID
DestroyHonoursAbsoluteTimeouts(VOID)
{
    WDKM_GRT_REPORT Report;
    LATE_DEREFERENCE Late;
    WDKM_TEST_THREAD *Thread;
    LARGE_INTEGER Deadline;
    PWDKM_KMUTEX Mutex;
    ULONG64 Started;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("late", &Zero), STATUS_SUCCESS);

    /* A time already past: no wait, the survivor is reported. */
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("late", COUNTER, &Mutex), STATUS_SUCCESS);
    KeQuerySystemTime(&Deadline);
    Deadline.QuadPart -= 10000000;
    Started = WdkmTestNowMs();
    CHECK_STATUS(WdkmGrtDestroy(&Deadline, &Report), STATUS_TIMEOUT);
    CHECK(WdkmTestNowMs() - Started < 1000);
    CHECK_EQ(Report.StillReferenced, 1);

    /* Two seconds from now: the reference dropped after 50 ms ends it. */
    Late.Lock = Mutex;
    Late.DelayMs = 50;
    Late.Status = STATUS_UNSUCCESSFUL;
    Thread = WdkmTestStartThread(DereferenceLater, &Late);
    CHECK(Thread != NULL);
    KeQuerySystemTime(&Deadline);
    Deadline.QuadPart += 20000000;
    Started = WdkmTestNowMs();
    CHECK_STATUS(WdkmGrtDestroy(&Deadline, &Report), STATUS_SUCCESS);
    CHECK(WdkmTestNowMs() - Started < 1900);
    CHECK_EQ(Report.StillReferenced, 0);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Late.Status, STATUS_SUCCESS);
}

/* The longest relative timeout is "as long as it takes" (issue 15, item 12:
   its negation overflowed). */
static VOID
DestroyTakesTheLongestTimeout(VOID)
{
    WDKM_GRT_REPORT Report;
    LATE_DEREFERENCE Late;
    WDKM_TEST_THREAD *Thread;
    LARGE_INTEGER Longest;
    PWDKM_KMUTEX Mutex;

    Longest.QuadPart = INT64_MIN;
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("late", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("late", COUNTER, &Mutex), STATUS_SUCCESS);
    Late.Lock = Mutex;
    Late.DelayMs = 30;
    Late.Status = STATUS_UNSUCCESSFUL;
    Thread = WdkmTestStartThread(DereferenceLater, &Late);
    CHECK(Thread != NULL);
    CHECK_STATUS(WdkmGrtDestroy(&Longest, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.Freed, 1);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Late.Status, STATUS_SUCCESS);
}

typedef struct _SHARED_HOLDER {
    KEVENT Held;
    KEVENT Release;
    WDKM_LOCK_KIND Kind;
    NTSTATUS Status;
} SHARED_HOLDER;

/* Takes its own reference to "rw" and holds it shared until told. */
static VOID
HoldShared(PVOID Context, ULONG Index)
{
    SHARED_HOLDER *Holder = (SHARED_HOLDER *)Context;
    const VOID *Data;
    PVOID Lock = NULL;

    UNREFERENCED_PARAMETER(Index);
    Holder->Status = WdkmGrtReference("rw", Holder->Kind, sizeof(COUNTER), &Lock);
    if (Holder->Status == STATUS_SUCCESS) {
        Holder->Status = Holder->Kind == WdkmLockKindResource
                             ? WdkmResourceAcquireShared((PWDKM_RESOURCE)Lock, sizeof(COUNTER), &Data)
                             : WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)Lock, sizeof(COUNTER), &Data);
    }
    (VOID)KeSetEvent(&Holder->Held, 0, FALSE);
    if (Holder->Status == STATUS_SUCCESS) {
        (VOID)KeWaitForSingleObject(&Holder->Release, Executive, KernelMode, FALSE, NULL);
        Holder->Status = Holder->Kind == WdkmLockKindResource
                             ? WdkmResourceRelease((PWDKM_RESOURCE)Lock)
                             : WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock);
    }
    if (Lock != NULL && Holder->Status == STATUS_SUCCESS) {
        Holder->Status = WdkmGrtDereference(Lock);
    }
}

/*
 * Dereference by a thread that holds the lock shared keeps the reference
 * (issue 15, item 9: it answered SUCCESS and the last one freed the lock
 * under its holder). For an ERESOURCE the kernel knows each thread's
 * holds; a push lock records its first readers by name, so a lone reader
 * is known in every build (see reference.md). Another thread's shared
 * hold is no reason to refuse.
 */
static VOID
DereferenceWhileHeldSharedIsRefused(WDKM_LOCK_KIND Kind)
{
    WDKM_TEST_THREAD *Thread;
    SHARED_HOLDER Holder;
    const VOID *Data;
    PVOID Lock;
    PVOID Mine;
    NTSTATUS Status;
    ULONG Blocks;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtRegister("rw", Kind, &Zero, sizeof(Zero), 0), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtReference("rw", Kind, sizeof(COUNTER), &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("rw"), STATUS_SUCCESS);    /* ours is the last reference */
    Status = Kind == WdkmLockKindResource
                 ? WdkmResourceAcquireShared((PWDKM_RESOURCE)Lock, sizeof(COUNTER), &Data)
                 : WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)Lock, sizeof(COUNTER), &Data);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    Blocks = (ULONG)WdkmTestPoolOutstanding();
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(WdkmTestPoolOutstanding(), (LONG)Blocks);   /* nothing freed */
    CHECK_EQ(((const COUNTER *)Data)->Value, 0);          /* still ours */
    Status = Kind == WdkmLockKindResource ? WdkmResourceRelease((PWDKM_RESOURCE)Lock)
                                          : WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);

    /* Another thread holds it shared: our own dereference goes through. */
    CHECK_STATUS(WdkmGrtRegister("rw", Kind, &Zero, sizeof(Zero), 0), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtReference("rw", Kind, sizeof(COUNTER), &Mine), STATUS_SUCCESS);
    Holder.Kind = Kind;
    Holder.Status = STATUS_UNSUCCESSFUL;
    KeInitializeEvent(&Holder.Held, NotificationEvent, FALSE);
    KeInitializeEvent(&Holder.Release, NotificationEvent, FALSE);
    Thread = WdkmTestStartThread(HoldShared, &Holder);
    CHECK(Thread != NULL);
    (VOID)KeWaitForSingleObject(&Holder.Held, Executive, KernelMode, FALSE, NULL);
    CHECK_STATUS(Holder.Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Mine), STATUS_SUCCESS);
    (VOID)KeSetEvent(&Holder.Release, 0, FALSE);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Holder.Status, STATUS_SUCCESS);
    CHECK(DestroyClean());
}

static VOID
DereferenceWhileResourceHeldShared(VOID)
{
    DereferenceWhileHeldSharedIsRefused(WdkmLockKindResource);
}

static VOID
DereferenceWhilePushLockHeldShared(VOID)
{
    DereferenceWhileHeldSharedIsRefused(WdkmLockKindPushLock);
}

/*
 * Register and Unregister racing Initialize see either no registry or a
 * whole one (issue 15, item 13: they read its state without ordering;
 * ThreadSanitizer reported the race).
 */
typedef struct _EARLY_WRITER {
    LONG volatile Stop;
    LONG volatile Unexpected;
    LONG volatile Registered;
    LONG volatile Started;
} EARLY_WRITER;

static VOID
WriteEarly(PVOID Context, ULONG Index)
{
    EARLY_WRITER *Writer = (EARLY_WRITER *)Context;
    char Name[32];
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    snprintf(Name, sizeof(Name), "early-%ld", (long)InterlockedIncrement(&Writer->Started));
    while (InterlockedCompareExchange(&Writer->Stop, 0, 0) == 0) {
        Status = WDKM_GRT_REGISTER_KMUTEX(Name, &Zero);
        if (Status == STATUS_SUCCESS) {
            InterlockedIncrement(&Writer->Registered);
            Status = WdkmGrtUnregister(Name);
            if (Status != STATUS_SUCCESS && Status != STATUS_DELETE_PENDING &&
                Status != STATUS_WDKM_NOT_INITIALIZED) {
                InterlockedIncrement(&Writer->Unexpected);
            }
        } else if (Status != STATUS_WDKM_NOT_INITIALIZED && Status != STATUS_DELETE_PENDING) {
            InterlockedIncrement(&Writer->Unexpected);
        }
    }
}

static VOID
WritersRaceInitialize(VOID)
{
    WDKM_TEST_THREAD *Threads[2];
    EARLY_WRITER Writer;
    LARGE_INTEGER Timeout = Milliseconds(2000);
    ULONG64 Started;
    ULONG Index;
    int Round;

    for (Round = 0; Round < 20; Round += 1) {
        Writer.Stop = 0;
        Writer.Unexpected = 0;
        Writer.Registered = 0;
        Writer.Started = 0;
        for (Index = 0; Index < 2; Index += 1) {
            Threads[Index] = WdkmTestStartThread(WriteEarly, &Writer);
            CHECK(Threads[Index] != NULL);
        }
        WdkmTestSleepMs(1);
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        /* A busy wait: a sleep here would order Initialize before the
           writers' next steps through the emulation's own locks. */
        for (Started = WdkmTestNowMs();
             InterlockedCompareExchange(&Writer.Registered, 0, 0) < 2 &&
             WdkmTestNowMs() - Started < 5000;) {
        }
        InterlockedExchange(&Writer.Stop, 1);
        for (Index = 0; Index < 2; Index += 1) {
            WdkmTestJoinThread(Threads[Index]);
        }
        CHECK_EQ(Writer.Unexpected, 0);
        CHECK_STATUS(WdkmGrtDestroy(&Timeout, NULL), STATUS_SUCCESS);
    }
}

/*
 * Destroy's survivor report against a concurrent last dereference (issue
 * 15, item 4: the report read the header of a lock the dereference had
 * just freed). The report prints each survivor while it walks them; the
 * sink, on the first one, lets another thread drop the last reference of
 * the second and gives it time to free what it may. The report then reads
 * the second entry: it must find a live lock (AddressSanitizer reported the
 * use after free; the plain build read the freed fill as an owner).
 */
typedef struct _REPORT_RACE {
    KEVENT Go;
    PVOID Lock;
    LONG Blocks;                 /* outstanding before the dereference */
    LONG volatile Prints;
    NTSTATUS Status;
} REPORT_RACE;

static VOID
DropDuringReport(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    REPORT_RACE *Race = (REPORT_RACE *)Context;
    ULONG64 Started;

    UNREFERENCED_PARAMETER(ComponentId);
    UNREFERENCED_PARAMETER(Level);
    if (strstr(Message, "still referenced") == NULL ||
        InterlockedIncrement(&Race->Prints) != 1) {
        return;
    }
    (VOID)KeSetEvent(&Race->Go, 0, FALSE);
    /* Under the report's spin lock: a busy wait until the block count drops
       (up to 200 ms), then 20 ms more for the free itself (the count drops
       first). */
    for (Started = WdkmTestNowMs(); WdkmTestNowMs() - Started < 200;) {
        if (WdkmTestPoolOutstanding() < Race->Blocks) {
            break;
        }
    }
    for (Started = WdkmTestNowMs(); WdkmTestNowMs() - Started < 20;) {
    }
}

static VOID
DereferenceOnSignal(PVOID Context, ULONG Index)
{
    REPORT_RACE *Race = (REPORT_RACE *)Context;

    UNREFERENCED_PARAMETER(Index);
    (VOID)KeWaitForSingleObject(&Race->Go, Executive, KernelMode, FALSE, NULL);
    Race->Status = WdkmGrtDereference(Race->Lock);
}

static VOID
ReportRacesLastDereference(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout = Milliseconds(0);
    WDKM_TEST_THREAD *Thread;
    PWDKM_KMUTEX First;
    PWDKM_KMUTEX Second;
    REPORT_RACE Race;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("first", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("second", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("first", COUNTER, &First), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("second", COUNTER, &Second), STATUS_SUCCESS);

    KeInitializeEvent(&Race.Go, NotificationEvent, FALSE);
    Race.Lock = Second;
    Race.Blocks = WdkmTestPoolOutstanding();
    Race.Prints = 0;
    Race.Status = STATUS_UNSUCCESSFUL;
    Thread = WdkmTestStartThread(DereferenceOnSignal, &Race);
    CHECK(Thread != NULL);
    WdkmHostSetDebugPrintSink(DropDuringReport, &Race);
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_TIMEOUT);
    WdkmHostSetDebugPrintSink(NULL, NULL);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Race.Status, STATUS_SUCCESS);
    CHECK(Race.Prints >= 1);
    CHECK_EQ(Report.StillHeld, 0);                   /* nobody holds either */
    CHECK(Report.StillReferenced >= 1 && Report.StillReferenced <= 2);

    CHECK_STATUS(WdkmGrtDereference(First), STATUS_SUCCESS);
    CHECK(DestroyClean());
}


/*
 * A registry scoped form whose acquire is refused in a DPC that interrupted
 * the lock's holder gives its reference back: to NT the DPC is the holder,
 * so the plain Dereference answered LOCK_HELD and the reference leaked
 * (found by interrupt injection: Destroy then timed out with the lock
 * "still referenced").
 */
static VOID
ScopeRefusedInHoldersDpcKeepsNoReference(VOID)
{
    PWDKM_KMUTEX Mutex;
    COUNTER *Held;
    COUNTER *Data = NULL;
    NTSTATUS Status = STATUS_UNSUCCESSFUL;
    KIRQL OldIrql;
    BOOLEAN Entered = FALSE;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("held", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("held", COUNTER, &Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mutex, &Held), STATUS_SUCCESS);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);          /* a DPC on the holder */
    WDKM_GRT_KMUTEX_SCOPED("held", Data, &Status) {
        Entered = TRUE;
    }
    KeLowerIrql(OldIrql);
    CHECK(!Entered);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);

    CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    CHECK(DestroyClean());                          /* no reference left behind */
}

/*
 * A scoped form nested in the same thread's own hold of a recursive lock
 * (an ERESOURCE held exclusive) releases its acquisition and gives its
 * reference back; the outer hold and its reference are untouched.
 */
static VOID
ScopeNestedInOwnHoldGivesItsReferenceBack(VOID)
{
    PWDKM_RESOURCE Resource;
    COUNTER *Outer;
    COUNTER *Inner = NULL;
    NTSTATUS Status = STATUS_UNSUCCESSFUL;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_RESOURCE("routes", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_RESOURCE("routes", COUNTER, &Resource), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Outer), STATUS_SUCCESS);
    WDKM_GRT_SCOPED("routes", WdkmLockKindResource, Inner, &Status) {
        Inner->Value += 1;
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK(WdkmResourceIsOwnedExclusive(Resource));  /* the outer hold stays */
    CHECK_EQ(Outer->Value, 1);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Resource), STATUS_SUCCESS);
    CHECK(DestroyClean());
}

/* ---------------------------------------------------------------------- */
/* Interrupted readers (issue 15, item 2 and the surviving mutations)      */
/* ---------------------------------------------------------------------- */

/*
 * A thread that looks "victim" up as fast as it can until told to stop,
 * and the events injected into it: they record when they start and end.
 */
typedef struct _LOOKER {
    LONG volatile Stop;
    LONG volatile Lookups;
    LONG volatile Unexpected;
    LONG volatile EventStarted;
    LONG volatile EventEnded;
    ULONG StallMs;
} LOOKER;

/*
 * One looker at a time, in static storage: a failed CHECK returns from the
 * test while the looker still runs, and the suite's cleanup stops it, so
 * it must never point into a test's stack frame.
 */
static LOOKER Looker;
static WDKM_TEST_THREAD *LookerThread;

static VOID LookUpUntilStopped(PVOID Context, ULONG Index);

static WDKM_TEST_THREAD *
StartLooker(ULONG StallMs)
{
    /* These tests place their own events exactly; random injection
       (make check-interrupts) competing for the looker can starve them, so
       it pauses for the test (resumed after it). */
    WdkmTestInterruptsPause();
    RtlZeroMemory(&Looker, sizeof(Looker));
    Looker.StallMs = StallMs;
    LookerThread = WdkmTestStartThread(LookUpUntilStopped, &Looker);
    return LookerThread;
}

static VOID
StopLooker(VOID)
{
    if (LookerThread != NULL) {
        InterlockedExchange(&Looker.Stop, 1);
        WdkmTestJoinThread(LookerThread);
        LookerThread = NULL;
    }
}

static VOID
LookUpUntilStopped(PVOID Context, ULONG Index)
{
    LOOKER *Looker = (LOOKER *)Context;
    PWDKM_KMUTEX Mutex;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    while (InterlockedCompareExchange(&Looker->Stop, 0, 0) == 0) {
        Status = WDKM_GRT_GET_KMUTEX("victim", COUNTER, &Mutex);
        if (Status == STATUS_SUCCESS) {
            if (WdkmGrtDereference(Mutex) != STATUS_SUCCESS) {
                InterlockedIncrement(&Looker->Unexpected);
            }
            InterlockedIncrement(&Looker->Lookups);
        } else if (Status != STATUS_OBJECT_NAME_NOT_FOUND && Status != STATUS_DELETE_PENDING &&
                   Status != STATUS_WDKM_NOT_INITIALIZED) {
            InterlockedIncrement(&Looker->Unexpected);
        }
    }
}

/* A DPC or an APC that keeps the interrupted thread where it was for
   StallMs: a DPC spins (it may not wait), a normal APC sleeps (suspension). */
static VOID
StallThere(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    LOOKER *Looker = (LOOKER *)Context;
    ULONG64 Started = WdkmTestNowMs();

    UNREFERENCED_PARAMETER(Random);
    InterlockedExchange(&Looker->EventStarted, 1);
    if (Kind == WdkmHostInterruptNormalApc) {
        WdkmTestSleepMs(Looker->StallMs);
    } else {
        while (WdkmTestNowMs() - Started < Looker->StallMs) {
        }
    }
    InterlockedExchange(&Looker->EventEnded, 1);
}

/* Interrupts the looker with Kind and returns once the event runs. */
static BOOLEAN
InterruptLooker(WDKM_TEST_THREAD *Thread, LOOKER *Looker, WDKM_HOST_INTERRUPT Kind)
{
    ULONG64 Started = WdkmTestNowMs();

    InterlockedExchange(&Looker->EventStarted, 0);
    InterlockedExchange(&Looker->EventEnded, 0);
    WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread), Kind, StallThere, Looker);
    /* Generous: delivery waits for the looker to be scheduled, and a CI
       machine running sanitizer builds side by side can starve it. */
    while (InterlockedCompareExchange(&Looker->EventStarted, 0, 0) == 0) {
        if (WdkmTestNowMs() - Started > 15000) {
            return FALSE;
        }
    }
    return TRUE;
}

static VOID
WaitForEventEnd(LOOKER *Looker)
{
    while (InterlockedCompareExchange(&Looker->EventEnded, 0, 0) == 0) {
        WdkmTestSleepMs(1);
    }
}

/*
 * A normal kernel APC (a suspension) cannot park a looker inside its
 * reader section: writers and Destroy finish while the looker sleeps
 * (issue 15, item 2: the section ran with APCs enabled, and the APC that
 * landed in it held every writer for as long as it slept).
 */
static VOID
SuspendedLookerHoldsNoWriter(VOID)
{
    LARGE_INTEGER Timeout = Milliseconds(30);
    NTSTATUS Status;
    WDKM_GRT_REPORT Report;
    WDKM_TEST_THREAD *Thread;
    ULONG64 Started;
    ULONG64 Longest = 0;
    ULONG64 Took;
    int Round;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("victim", &Zero), STATUS_SUCCESS);
    Thread = StartLooker(300);
    CHECK(Thread != NULL);
    while (InterlockedCompareExchange(&Looker.Lookups, 0, 0) < 100) {
        WdkmTestSleepMs(1);
    }
    for (Round = 0; Round < 8; Round += 1) {
        CHECK(InterruptLooker(Thread, &Looker, WdkmHostInterruptNormalApc));
        Started = WdkmTestNowMs();
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("other", &Zero), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister("other"), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister("victim"), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("victim", &Zero), STATUS_SUCCESS);
        Took = WdkmTestNowMs() - Started;
        Longest = Took > Longest ? Took : Longest;
        WaitForEventEnd(&Looker);
    }
    CHECK(Longest < 150);                   /* the APC sleeps 300 ms */

    /* And unload, with the looker suspended: at once, or, if it was
       suspended holding its reference, at the timeout. */
    CHECK(InterruptLooker(Thread, &Looker, WdkmHostInterruptNormalApc));
    Started = WdkmTestNowMs();
    Status = WdkmGrtDestroy(&Timeout, &Report);
    CHECK(WdkmTestNowMs() - Started < 150);
    CHECK(Status == STATUS_SUCCESS || Status == STATUS_TIMEOUT);
    CHECK_EQ(InterlockedCompareExchange(&Looker.EventEnded, 0, 0), 0);
    WaitForEventEnd(&Looker);
    StopLooker();
    if (Status == STATUS_TIMEOUT) {
        CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    }
    CHECK_EQ(Looker.Unexpected, 0);
}

/*
 * Destroy's timeout bounds its wait for a reader: a DPC stalls a looker
 * inside its reader section (a DPC may interrupt one; nothing stops it),
 * and Destroy gives up at its timeout instead of waiting for it (issue 15,
 * item 2). The DPC lands wherever the looker is: rounds go on until one
 * landed in the section (Destroy timed out).
 */
static VOID
DestroyTimeoutBoundsItsGraceWait(VOID)
{
    LARGE_INTEGER Timeout = Milliseconds(30);
    WDKM_GRT_REPORT Report;
    WDKM_TEST_THREAD *Thread;
    NTSTATUS Status;
    ULONG64 Started;
    ULONG64 Took;
    BOOLEAN InSection = FALSE;
    int Round;

    for (Round = 0; Round < 40 && !InSection; Round += 1) {
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("victim", &Zero), STATUS_SUCCESS);
        Thread = StartLooker(400);
        CHECK(Thread != NULL);
        while (InterlockedCompareExchange(&Looker.Lookups, 0, 0) < 100) {
            WdkmTestSleepMs(1);
        }
        CHECK(InterruptLooker(Thread, &Looker, WdkmHostInterruptDpc));
        Started = WdkmTestNowMs();
        Status = WdkmGrtDestroy(&Timeout, &Report);
        Took = WdkmTestNowMs() - Started;
        /* Well under the DPC's 400 ms: the timeout (30 ms) ended the wait.
           300, not less: a loaded machine (load average 19) took over 200. */
        CHECK(Took < 300);
        if (Status == STATUS_TIMEOUT) {
            CHECK_EQ(Report.Freed, 0);
            CHECK_EQ(Report.StillReferenced, 1);
        } else {
            CHECK_STATUS(Status, STATUS_SUCCESS);
        }
        WaitForEventEnd(&Looker);
        StopLooker();
        if (Status == STATUS_TIMEOUT) {
            /* Timed out in the grace wait, "victim" is still in the table
               and this call frees it; timed out waiting for a reference
               the DPC held up (it landed after the lookup), the looker's
               dereference freed it. */
            CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
            InSection = (BOOLEAN)(Report.Freed == 1);
        }
        CHECK_EQ(Looker.Unexpected, 0);
    }
    CHECK(InSection);
}

/*
 * The grace periods themselves: a DPC stalls a looker inside its reader
 * section while its entry is unregistered (the entry must outlive the
 * section), or while the table is rebuilt larger (the old table must).
 * The writer returns only after the DPC did; a DPC that landed outside the
 * section is not waited for, so rounds go on until one was. Without the
 * wait (the mutations "no grace period on unregister / on growth"), the
 * writer never waits, and AddressSanitizer sees the reader read the freed
 * entry or table.
 */
static VOID
GracePeriodCoversInterruptedReader(BOOLEAN Growth)
{
    WDKM_TEST_THREAD *Thread;
    char Name[32];
    ULONG Index;
    int Waited = 0;
    int Round;

    Thread = StartLooker(30);
    CHECK(Thread != NULL);
    for (Round = 0; Round < 60 && Waited < 3; Round += 1) {
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("victim", &Zero), STATUS_SUCCESS);
        InterlockedExchange(&Looker.Lookups, 0);
        while (InterlockedCompareExchange(&Looker.Lookups, 0, 0) < 50) {
        }
        CHECK(InterruptLooker(Thread, &Looker, WdkmHostInterruptDpc));
        if (Growth) {
            /* 100 names: the first table (128 buckets) is rebuilt once. */
            for (Index = 0; Index < 100; Index += 1) {
                snprintf(Name, sizeof(Name), "filler-%lu", (unsigned long)Index);
                CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Zero), STATUS_SUCCESS);
            }
        } else {
            CHECK_STATUS(WdkmGrtUnregister("victim"), STATUS_SUCCESS);
        }
        if (InterlockedCompareExchange(&Looker.EventEnded, 0, 0) != 0) {
            Waited += 1;
        }
        WaitForEventEnd(&Looker);
        CHECK(DestroyClean());
    }
    StopLooker();
    CHECK_EQ(Looker.Unexpected, 0);
    /* Up to three waits are sought; one proves the grace period (without
       it the writer never waits), and under valgrind, which runs one
       thread at a time, the DPC lands in the section more rarely. */
    CHECK(Waited >= 1);
}

static VOID
UnregisterWaitsForInterruptedReader(VOID)
{
    GracePeriodCoversInterruptedReader(FALSE);
}

static VOID
GrowthWaitsForInterruptedReader(VOID)
{
    GracePeriodCoversInterruptedReader(TRUE);
}

/*
 * A special kernel APC on a thread that holds a registry lock is that
 * thread to NT, but the hold is the interrupted code's: the APC's own
 * reference, taken and given back inside it, must go back (the refusal
 * "the calling thread holds the lock" kept it for ever, and the
 * registry's destroy then timed out on it: examples/pollread's host test
 * under injection). Every kind a special APC can interrupt a hold of
 * (KMUTEX, ERESOURCE and push lock, exclusive and shared), the APC
 * delivered for real on the holding thread, and the same at APC_LEVEL
 * raised by hand. The holder's own dereference while it holds the lock is
 * still refused.
 */
typedef enum { APC_KMUTEX, APC_RESOURCE_EXCLUSIVE, APC_RESOURCE_SHARED, APC_PUSH_EXCLUSIVE,
               APC_PUSH_SHARED, APC_CASES } APC_CASE;

static const PCSTR ApcNames[APC_CASES] = { "apc.kmutex", "apc.resource.x", "apc.resource.s",
                                           "apc.push.x", "apc.push.s" };

typedef struct _APC_RUN {
    APC_CASE Case;
    ULONG Runs;
    KIRQL Irql;
    NTSTATUS Get;
    NTSTATUS Acquire;
    NTSTATUS Dereference;
} APC_RUN;

static NTSTATUS
ApcGet(APC_CASE Case, PVOID *Lock)
{
    switch (Case) {
    case APC_KMUTEX:
        return WDKM_GRT_GET_KMUTEX(ApcNames[Case], COUNTER, (PWDKM_KMUTEX *)Lock);
    case APC_RESOURCE_EXCLUSIVE:
    case APC_RESOURCE_SHARED:
        return WDKM_GRT_GET_RESOURCE(ApcNames[Case], COUNTER, (PWDKM_RESOURCE *)Lock);
    default:
        return WDKM_GRT_GET_PUSH_LOCK(ApcNames[Case], COUNTER, (PWDKM_PUSH_LOCK *)Lock);
    }
}

/* The APC's work: its own reference, a recursive use where the kind
   allows one over the interrupted hold, and the reference given back. */
static VOID
ApcUsesItsOwnReference(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    APC_RUN *Run = (APC_RUN *)Context;
    COUNTER *Data = NULL;
    PVOID Lock = NULL;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Run->Runs += 1;
    Run->Irql = KeGetCurrentIrql();
    Run->Get = ApcGet(Run->Case, &Lock);
    if (Run->Get != STATUS_SUCCESS) {
        return;
    }
    Run->Acquire = STATUS_SUCCESS;
    if (Run->Case == APC_KMUTEX) {
        Run->Acquire = WDKM_KMUTEX_ACQUIRE((PWDKM_KMUTEX)Lock, &Data);
        if (WDKM_ACQUIRED(Run->Acquire)) {
            Data->Value += 1;
            (VOID)WdkmKMutexRelease((PWDKM_KMUTEX)Lock);
        }
    } else if (Run->Case == APC_RESOURCE_EXCLUSIVE || Run->Case == APC_RESOURCE_SHARED) {
        Run->Acquire = WDKM_RESOURCE_ACQUIRE_SHARED((PWDKM_RESOURCE)Lock, &Data);
        if (WDKM_ACQUIRED(Run->Acquire)) {
            (VOID)WdkmResourceRelease((PWDKM_RESOURCE)Lock);
        }
    }
    Run->Dereference = WdkmGrtDereference(Lock);
}

static NTSTATUS
ApcHold(APC_CASE Case, PVOID Lock)
{
    COUNTER *Data;

    switch (Case) {
    case APC_KMUTEX:
        return WDKM_KMUTEX_ACQUIRE((PWDKM_KMUTEX)Lock, &Data);
    case APC_RESOURCE_EXCLUSIVE:
        return WDKM_RESOURCE_ACQUIRE_EXCLUSIVE((PWDKM_RESOURCE)Lock, &Data);
    case APC_RESOURCE_SHARED:
        return WDKM_RESOURCE_ACQUIRE_SHARED((PWDKM_RESOURCE)Lock, &Data);
    case APC_PUSH_EXCLUSIVE:
        return WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE((PWDKM_PUSH_LOCK)Lock, &Data);
    default:
        return WDKM_PUSH_LOCK_ACQUIRE_SHARED((PWDKM_PUSH_LOCK)Lock, &Data);
    }
}

static NTSTATUS
ApcRelease(APC_CASE Case, PVOID Lock)
{
    switch (Case) {
    case APC_KMUTEX:
        return WdkmKMutexRelease((PWDKM_KMUTEX)Lock);
    case APC_RESOURCE_EXCLUSIVE:
    case APC_RESOURCE_SHARED:
        return WdkmResourceRelease((PWDKM_RESOURCE)Lock);
    default:
        return WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock);
    }
}

static VOID
SpecialApcOnHolderGivesItsReferenceBack(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout = Milliseconds(200);
    APC_RUN Run;
    ULONG Case;
    ULONG Way;
    PVOID Lock;
    KIRQL OldIrql;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(ApcNames[APC_KMUTEX], &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_RESOURCE(ApcNames[APC_RESOURCE_EXCLUSIVE], &Zero),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_RESOURCE(ApcNames[APC_RESOURCE_SHARED], &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_PUSH_LOCK(ApcNames[APC_PUSH_EXCLUSIVE], &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_PUSH_LOCK(ApcNames[APC_PUSH_SHARED], &Zero), STATUS_SUCCESS);
    for (Case = 0; Case < APC_CASES; Case++) {
        for (Way = 0; Way < 2; Way++) {     /* a delivered APC; APC_LEVEL by hand */
            memset(&Run, 0, sizeof(Run));
            Run.Case = (APC_CASE)Case;
            Lock = NULL;
            CHECK_STATUS(ApcGet(Run.Case, &Lock), STATUS_SUCCESS);
            if (Lock == NULL) {
                continue;
            }
            CHECK(WDKM_ACQUIRED(ApcHold(Run.Case, Lock)));
            /* The holder's own dereference is refused while it holds. */
            CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
            if (Way == 0) {
                WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc,
                                       ApcUsesItsOwnReference, &Run);
            } else {
                KeRaiseIrql(APC_LEVEL, &OldIrql);
                ApcUsesItsOwnReference(WdkmHostInterruptSpecialApc, 0, &Run);
                KeLowerIrql(OldIrql);
            }
            CHECK_EQ(Run.Runs, 1);
            CHECK_EQ(Run.Irql, APC_LEVEL);
            CHECK_STATUS(Run.Get, STATUS_SUCCESS);
            CHECK(WDKM_ACQUIRED(Run.Acquire));
            if (Run.Dereference != STATUS_SUCCESS) {
                printf("  %s, %s: the APC's dereference answered 0x%08lX\n", ApcNames[Case],
                       Way == 0 ? "delivered" : "raised by hand",
                       (unsigned long)(ULONG)Run.Dereference);
            }
            CHECK_STATUS(Run.Dereference, STATUS_SUCCESS);
            CHECK_STATUS(ApcRelease(Run.Case, Lock), STATUS_SUCCESS);
            CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        }
    }
    /* Every reference went back: the destroy frees all five at once. */
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(Report.Freed, APC_CASES);
}

/*
 * reference.md, WdkmGrtInstanceName: "Role#" and the instance in as many
 * hex digits as a pointer has; every refusal leaves the buffer as it was;
 * WDKM_GRT_INSTANCE_NAME_SIZE always suffices for a role that fits; the
 * name registers, and another instance's is another name.
 */
static VOID
InstanceNamesFormatAndRefuse(VOID)
{
    CHAR Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    CHAR Expected[WDKM_GRT_INSTANCE_NAME_SIZE];
    CHAR Small[8];
    CHAR Role[WDKM_GRT_MAX_NAME_LENGTH + 2];
    const SIZE_T Digits = sizeof(ULONG_PTR) * 2;
    SIZE_T Longest = WDKM_GRT_MAX_NAME_LENGTH - 1 - Digits;
    PWDKM_KMUTEX First;
    int Objects[2];

    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), "dev.file", (PVOID)(ULONG_PTR)0xA5C3),
                 STATUS_SUCCESS);
    snprintf(Expected, sizeof(Expected), "dev.file#%0*llx", (int)Digits, 0xA5C3ULL);
    CHECK(strcmp(Name, Expected) == 0);
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), "null", NULL), STATUS_SUCCESS);
    CHECK_EQ(strlen(Name), 5 + Digits);
    /* Refusals change nothing. */
    memset(Name, 'x', sizeof(Name));
    memset(Small, 'x', sizeof(Small));
    CHECK_STATUS(WdkmGrtInstanceName(NULL, sizeof(Name), "role", Objects), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), NULL, Objects), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), "", Objects), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), "a#b", Objects), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtInstanceName(Small, sizeof(Small), "role", Objects), STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(WdkmGrtInstanceName(Name, 0, "role", Objects), STATUS_BUFFER_TOO_SMALL);
    memset(Role, 'r', sizeof(Role) - 1);
    Role[sizeof(Role) - 1] = '\0';
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), Role, Objects), STATUS_NAME_TOO_LONG);
    Role[Longest + 1] = '\0';
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), Role, Objects), STATUS_NAME_TOO_LONG);
    CHECK(Name[0] == 'x' && Name[sizeof(Name) - 1] == 'x' && Small[0] == 'x' && Small[7] == 'x');
    /* The longest role that fits, in the buffer the header sizes. */
    Role[Longest] = '\0';
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), Role, Objects), STATUS_SUCCESS);
    CHECK_EQ(strlen(Name), WDKM_GRT_MAX_NAME_LENGTH);
    CHECK_STATUS(WdkmGrtInstanceName(Name, strlen(Name), Role, Objects), STATUS_BUFFER_TOO_SMALL);
    /* Names a driver registers, one per object. */
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), "file", &Objects[0]), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtInstanceName(Expected, sizeof(Expected), "file", &Objects[1]),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Expected, &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, COUNTER, &First), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(First), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

static const WDKM_TEST_CASE GrtCases[] = {
    { "instance_names_format_and_refuse", InstanceNamesFormatAndRefuse },
    { "scope_refused_in_holders_dpc_keeps_no_reference", ScopeRefusedInHoldersDpcKeepsNoReference },
    { "special_apc_on_holder_gives_its_reference_back", SpecialApcOnHolderGivesItsReferenceBack },
    { "scope_nested_in_own_hold_gives_its_reference_back", ScopeNestedInOwnHoldGivesItsReferenceBack },
    { "initialize_and_destroy_once", InitializeAndDestroyOnce },
    { "initialize_reports_pool_exhaustion", InitializeReportsPoolExhaustion },
    { "register_and_get_typed", RegisterAndGetTyped },
    { "names_are_checked_and_copied", NamesAreCheckedAndCopied },
    { "collision_and_replace", CollisionAndReplace },
    { "wrong_kind_type_or_name", WrongKindTypeOrName },
    { "irql_is_checked", IrqlIsChecked },
    { "unregister_while_referenced", UnregisterWhileReferenced },
    { "references_move_between_processors", ReferencesMoveBetweenProcessors },
    { "registry_locks_are_the_registrys", RegistryLocksAreTheRegistrys },
    { "scoped_form_releases_and_dereferences", ScopedFormReleasesAndDereferences },
    { "last_dereference_at_dispatch_is_deferred", LastDereferenceAtDispatchIsDeferred },
    { "crate_scenario_three_runs", CrateScenarioThreeRuns },
    { "destroy_waits_for_holders", DestroyWaitsForHolders },
    { "destroy_races_lookups", DestroyRacesLookups },
    { "grows_and_shrinks", GrowsAndShrinks },
    { "registry_blocks_hold_entry_and_lock", RegistryBlocksHoldEntryAndLock },
    { "last_dereferences_race_unregister", LastDereferencesRaceUnregister },
    { "register_survives_every_allocation_failure", RegisterSurvivesEveryAllocationFailure },
    { "stress_matches_model", StressMatchesModel },
    { "destroy_reports_unregistered_apart", DestroyReportsUnregisteredApart },
    { "destroy_honours_absolute_timeouts", DestroyHonoursAbsoluteTimeouts },
    { "destroy_takes_the_longest_timeout", DestroyTakesTheLongestTimeout },
    { "dereference_while_resource_held_shared", DereferenceWhileResourceHeldShared },
    { "dereference_while_push_lock_held_shared", DereferenceWhilePushLockHeldShared },
    { "writers_race_initialize", WritersRaceInitialize },
    { "report_races_last_dereference", ReportRacesLastDereference },
    { "suspended_looker_holds_no_writer", SuspendedLookerHoldsNoWriter },
    { "destroy_timeout_bounds_its_grace_wait", DestroyTimeoutBoundsItsGraceWait },
    { "unregister_waits_for_interrupted_reader", UnregisterWaitsForInterruptedReader },
    { "growth_waits_for_interrupted_reader", GrowthWaitsForInterruptedReader },
};

/* A test that failed half-way leaves the registry up: take it down. */
static VOID
DestroyLeftovers(VOID)
{
    LARGE_INTEGER Timeout = Milliseconds(100);

    StopLooker();
    KeLowerIrql(PASSIVE_LEVEL);
    WdkmHostSetCurrentProcessor(-1);
    WdkmHostSetDebugPrintSink(NULL, NULL);
    (VOID)WdkmGrtDestroy(&Timeout, NULL);
}

const WDKM_TEST_SUITE WdkmGrtSuite = WDKM_TEST_SUITE_WITH_CLEANUP("grt", GrtCases, DestroyLeftovers);
