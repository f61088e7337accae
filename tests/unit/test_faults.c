/*
 * test_faults.c - fault injection walk. For every public path that
 * allocates pool, fails the 0th, 1st, 2nd, ... allocation attempt
 * (WdkmHostPoolFailAt) until the call succeeds with no failure injected.
 * Every failing call must return STATUS_INSUFFICIENT_RESOURCES, leave the
 * library's outstanding pool unchanged, and leave existing objects usable.
 */
#include "wdkm_test.h"
#include "wdkm_test_kinds.h"

#include <stdio.h>
#include <string.h>

typedef struct _COUNTER {
    LONG Value;
    LONG Spare;
} COUNTER;

static const COUNTER Zero = { 0, 0 };

static ULONG FaultSitesCovered;     /* failing allocation points walked */
static ULONG FaultPathsWalked;

static const WDKM_LOCK_KIND AllKinds[] = {
    WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock,
    WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource,
    WdkmLockKindPushLock,
};
#define KIND_COUNT ((ULONG)(sizeof(AllKinds) / sizeof(AllKinds[0])))

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

/* ---------------------------------------------------------------------- */
/* Every kind's create/destroy, through one signature                     */
/* ---------------------------------------------------------------------- */

static NTSTATUS
CreateKind(WDKM_LOCK_KIND Kind, PVOID *Lock)
{
    return WdkmTestKindCreate(Kind, &Zero, sizeof(Zero), Lock);
}

/* Acquires and releases Lock (exclusively), adding one to its value. */
static NTSTATUS
UseKind(WDKM_LOCK_KIND Kind, PVOID Lock)
{
    WDKM_TEST_KIND_HOLD Hold;
    COUNTER *Data = NULL;
    NTSTATUS Status;

    memset(&Hold, 0, sizeof(Hold));
    Hold.Kind = Kind;
    Hold.Lock = Lock;
    Status = WdkmTestKindAcquire(&Hold, sizeof(*Data), (PVOID *)&Data);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Data->Value += 1;
    return WdkmTestKindRelease(&Hold);
}

/* Looks Name up as Kind, uses the lock once, drops the reference. */
static NTSTATUS
UseRegistered(PCSTR Name, WDKM_LOCK_KIND Kind)
{
    PVOID Lock;
    NTSTATUS Status = WdkmGrtReference(Name, Kind, sizeof(COUNTER), &Lock);

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = UseKind(Kind, Lock);
    if (Status != STATUS_SUCCESS) {
        (VOID)WdkmGrtDereference(Lock);
        return Status;
    }
    return WdkmGrtDereference(Lock);
}

/* ---------------------------------------------------------------------- */
/* The walk                                                               */
/* ---------------------------------------------------------------------- */

/*
 * One attempt of the path under test. Returns the status of the call
 * that allocates; Undo (called after a success) returns the world to the
 * state before the attempt; Usable checks the existing objects.
 */
typedef struct _FAULT_PATH {
    PCSTR Name;
    NTSTATUS (*Attempt)(PVOID Context);
    NTSTATUS (*Undo)(PVOID Context);
    BOOLEAN (*Usable)(PVOID Context);
    PVOID Context;
    BOOLEAN FailureAbsorbed;   /* a failure may be absorbed: SUCCESS allowed */
} FAULT_PATH;

/* Returns the number of failure points walked, or -1 on a broken rule. */
static LONG
Walk(const FAULT_PATH *Path)
{
    LONG N;

    for (N = 0; N < 10000; N += 1) {
        ULONG InjectedBefore = WdkmHostPoolInjectedFailures();
        LONG PoolBefore = WdkmTestPoolOutstanding();
        NTSTATUS Status;
        BOOLEAN Fired;

        WdkmHostPoolFailAt(N);
        Status = Path->Attempt(Path->Context);
        WdkmHostPoolFailAt(-1);
        Fired = WdkmHostPoolInjectedFailures() != InjectedBefore;

        if (!Fired) {
            if (Status != STATUS_SUCCESS) {
                printf("    %s: no failure injected at %ld, returned %s\n", Path->Name,
                       (long)N, WdkmStatusName(Status));
                return -1;
            }
            if (Path->Undo(Path->Context) != STATUS_SUCCESS) {
                printf("    %s: undo failed\n", Path->Name);
                return -1;
            }
            if (WdkmTestPoolOutstanding() != PoolBefore) {
                printf("    %s: pool %ld -> %ld after success and undo\n", Path->Name,
                       (long)PoolBefore, (long)WdkmTestPoolOutstanding());
                return -1;
            }
            FaultSitesCovered += (ULONG)N;
            FaultPathsWalked += 1;
            printf("    %s: %ld allocation(s), each failure handled\n", Path->Name, (long)N);
            return N;
        }
        if (Status == STATUS_SUCCESS && Path->FailureAbsorbed) {
            if (Path->Undo(Path->Context) != STATUS_SUCCESS) {
                printf("    %s: undo after absorbed failure %ld failed\n", Path->Name, (long)N);
                return -1;
            }
        } else if (Status != STATUS_INSUFFICIENT_RESOURCES) {
            printf("    %s: failure at allocation %ld returned %s\n", Path->Name, (long)N,
                   WdkmStatusName(Status));
            if (Status == STATUS_SUCCESS) {
                (VOID)Path->Undo(Path->Context);
            }
            return -1;
        }
        if (WdkmTestPoolOutstanding() != PoolBefore) {
            printf("    %s: failure at allocation %ld left pool %ld -> %ld\n", Path->Name,
                   (long)N, (long)PoolBefore, (long)WdkmTestPoolOutstanding());
            return -1;
        }
        if (Path->Usable != NULL && !Path->Usable(Path->Context)) {
            printf("    %s: existing objects unusable after failure %ld\n", Path->Name, (long)N);
            return -1;
        }
    }
    printf("    %s: never succeeded\n", Path->Name);
    return -1;
}

/* ---------------------------------------------------------------------- */
/* Paths                                                                  */
/* ---------------------------------------------------------------------- */

/* Create of one kind, next to a live KMUTEX that must stay usable. */
typedef struct _CREATE_CONTEXT {
    WDKM_LOCK_KIND Kind;
    PVOID Created;
    PWDKM_KMUTEX Bystander;
} CREATE_CONTEXT;

static NTSTATUS
CreateAttempt(PVOID Context)
{
    CREATE_CONTEXT *Create = (CREATE_CONTEXT *)Context;

    Create->Created = (PVOID)(ULONG_PTR)1;   /* must be set to NULL on failure */
    {
        NTSTATUS Status = CreateKind(Create->Kind, &Create->Created);

        if (Status != STATUS_SUCCESS && Create->Created != NULL) {
            return (NTSTATUS)0xDEAD0002L;    /* output not cleared */
        }
        return Status;
    }
}

static NTSTATUS
CreateUndo(PVOID Context)
{
    CREATE_CONTEXT *Create = (CREATE_CONTEXT *)Context;
    NTSTATUS Status = UseKind(Create->Kind, Create->Created);

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    return WdkmTestKindDestroy(Create->Kind, Create->Created);
}

static BOOLEAN
CreateUsable(PVOID Context)
{
    CREATE_CONTEXT *Create = (CREATE_CONTEXT *)Context;

    return UseKind(WdkmLockKindKMutex, Create->Bystander) == STATUS_SUCCESS;
}

static VOID
FaultsCreateEveryKind(VOID)
{
    CREATE_CONTEXT Create;
    FAULT_PATH Path;
    ULONG Index;
    char Name[64];

    memset(&Create, 0, sizeof(Create));
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Create.Bystander), STATUS_SUCCESS);
    for (Index = 0; Index < KIND_COUNT; Index += 1) {
        snprintf(Name, sizeof(Name), "create kind %d", (int)AllKinds[Index]);
        Create.Kind = AllKinds[Index];
        Path.Name = Name;
        Path.Attempt = CreateAttempt;
        Path.Undo = CreateUndo;
        Path.Usable = CreateUsable;
        Path.Context = &Create;
        Path.FailureAbsorbed = FALSE;
        if (Walk(&Path) < 1) {
            (VOID)WdkmKMutexDestroy(Create.Bystander);
            CHECK(FALSE);
        }
    }
    CHECK_STATUS(WdkmKMutexDestroy(Create.Bystander), STATUS_SUCCESS);
}

/* WdkmGrtInitialize next to a live lock. */
static NTSTATUS
InitializeAttempt(PVOID Context)
{
    (VOID)Context;
    return WdkmGrtInitialize();
}

static NTSTATUS
InitializeUndo(PVOID Context)
{
    NTSTATUS Status = WDKM_GRT_REGISTER_KMUTEX("x", &Zero);

    (VOID)Context;
    if (Status != STATUS_SUCCESS) {
        (VOID)DestroyRegistry();
        return Status;
    }
    return DestroyRegistry();
}

static BOOLEAN
InitializeUsable(PVOID Context)
{
    PWDKM_KMUTEX Lock;

    /* The registry is not half made: it answers as uninitialised. */
    if (WDKM_GRT_GET_KMUTEX("x", COUNTER, &Lock) != STATUS_WDKM_NOT_INITIALIZED) {
        return FALSE;
    }
    return UseKind(WdkmLockKindKMutex, Context) == STATUS_SUCCESS;
}

static VOID
FaultsGrtInitialize(VOID)
{
    PWDKM_KMUTEX Bystander;
    FAULT_PATH Path = { "WdkmGrtInitialize", InitializeAttempt, InitializeUndo,
                        InitializeUsable, NULL, FALSE };

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Zero, &Bystander), STATUS_SUCCESS);
    Path.Context = Bystander;
    if (Walk(&Path) < 1) {
        (VOID)WdkmKMutexDestroy(Bystander);
        CHECK(FALSE);
    }
    CHECK_STATUS(WdkmKMutexDestroy(Bystander), STATUS_SUCCESS);
}

/* WdkmGrtRegister of one kind (optionally replacing "old", a KMUTEX). */
typedef struct _REGISTER_CONTEXT {
    WDKM_LOCK_KIND Kind;
    BOOLEAN Replace;
} REGISTER_CONTEXT;

static NTSTATUS
RegisterAttempt(PVOID Context)
{
    REGISTER_CONTEXT *Register = (REGISTER_CONTEXT *)Context;

    return WdkmGrtRegister(Register->Replace ? "old" : "new", Register->Kind, &Zero,
                           sizeof(Zero), Register->Replace ? WDKM_GRT_REPLACE : 0);
}

static NTSTATUS
RegisterUndo(PVOID Context)
{
    REGISTER_CONTEXT *Register = (REGISTER_CONTEXT *)Context;
    NTSTATUS Status;

    if (Register->Replace) {
        /* "old" is now the new kind; put the KMUTEX back (no injection). */
        Status = UseRegistered("old", Register->Kind);
        if (Status != STATUS_SUCCESS) {
            return Status;
        }
        return WDKM_GRT_REPLACE_KMUTEX("old", &Zero);
    }
    Status = UseRegistered("new", Register->Kind);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    return WdkmGrtUnregister("new");
}

static BOOLEAN
RegisterUsable(PVOID Context)
{
    REGISTER_CONTEXT *Register = (REGISTER_CONTEXT *)Context;
    PVOID Lock;

    if (UseRegistered("keep", WdkmLockKindFastMutex) != STATUS_SUCCESS) {
        return FALSE;
    }
    if (UseRegistered("old", WdkmLockKindKMutex) != STATUS_SUCCESS) {
        return FALSE;   /* a failed replace must keep the old lock */
    }
    if (!Register->Replace &&
        WdkmGrtReference("new", Register->Kind, sizeof(COUNTER), &Lock) !=
            STATUS_OBJECT_NAME_NOT_FOUND) {
        return FALSE;
    }
    return TRUE;
}

static VOID
WalkRegister(BOOLEAN Replace)
{
    REGISTER_CONTEXT Register;
    FAULT_PATH Path;
    ULONG Index;
    char Name[64];
    BOOLEAN Ok = TRUE;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("keep", &Zero), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("old", &Zero), STATUS_SUCCESS);
    for (Index = 0; Index < KIND_COUNT && Ok; Index += 1) {
        snprintf(Name, sizeof(Name), "WdkmGrtRegister kind %d%s", (int)AllKinds[Index],
                 Replace ? " WDKM_GRT_REPLACE" : "");
        Register.Kind = AllKinds[Index];
        Register.Replace = Replace;
        Path.Name = Name;
        Path.Attempt = RegisterAttempt;
        Path.Undo = RegisterUndo;
        Path.Usable = RegisterUsable;
        Path.Context = &Register;
        Path.FailureAbsorbed = FALSE;
        Ok = Walk(&Path) >= 1;
    }
    CHECK_STATUS(DestroyRegistry(), STATUS_SUCCESS);
    CHECK(Ok);
}

static VOID
FaultsGrtRegister(VOID)
{
    WalkRegister(FALSE);
}

static VOID
FaultsGrtReplace(VOID)
{
    WalkRegister(TRUE);
}

/*
 * Growth: the registration that would fill half of the first table (128
 * buckets) first replaces it with a larger one. A failure inside the
 * growth is absorbed (the registration succeeds on the old table); a
 * failure of the registration's own blocks fails it. Either way every name
 * stays reachable.
 */
#define GROWTH_FILL 63

static NTSTATUS
GrowthAttempt(PVOID Context)
{
    (VOID)Context;
    return WDKM_GRT_REGISTER_KMUTEX("grow-last", &Zero);
}

static NTSTATUS
GrowthUndo(PVOID Context)
{
    (VOID)Context;
    /* Start over from a registry of GROWTH_FILL names and the first table. */
    return WdkmGrtUnregister("grow-last");
}

static BOOLEAN
GrowthUsable(PVOID Context)
{
    ULONG Index;
    char Name[32];

    (VOID)Context;
    for (Index = 0; Index < GROWTH_FILL; Index += 1) {
        snprintf(Name, sizeof(Name), "grow-%lu", (unsigned long)Index);
        if (UseRegistered(Name, WdkmLockKindKMutex) != STATUS_SUCCESS) {
            return FALSE;
        }
    }
    return TRUE;
}

static VOID
FaultsGrtGrowth(VOID)
{
    FAULT_PATH Path = { "WdkmGrtRegister growing the first table", GrowthAttempt, GrowthUndo,
                        GrowthUsable, NULL, TRUE };
    ULONG Index;
    LONG Points = -1;
    char Name[32];
    ULONG Round;

    /* Each round starts from a fresh registry so the growth is still due. */
    for (Round = 0; Round < 1; Round += 1) {
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        for (Index = 0; Index < GROWTH_FILL; Index += 1) {
            snprintf(Name, sizeof(Name), "grow-%lu", (unsigned long)Index);
            CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Zero), STATUS_SUCCESS);
        }
        Points = Walk(&Path);
        CHECK(GrowthUsable(NULL));
        CHECK_STATUS(DestroyRegistry(), STATUS_SUCCESS);
    }
    /* The registration's own block (entry with its lock) plus the new table. */
    CHECK(Points >= 1 + 1);
}

/*
 * A registration whose entry needs a new block of reference counters (the
 * registry keeps them in chunks of a few entries each). Every fill from 0
 * to 33 names is tried, so that one of them ends a chunk whatever its size
 * (at most 32): there the registration makes three allocations.
 */
static NTSTATUS
ChunkAttempt(PVOID Context)
{
    (VOID)Context;
    return WDKM_GRT_REGISTER_KMUTEX("chunk-last", &Zero);
}

static NTSTATUS
ChunkUndo(PVOID Context)
{
    NTSTATUS Status = UseRegistered("chunk-last", WdkmLockKindKMutex);

    (VOID)Context;
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    return WdkmGrtUnregister("chunk-last");
}

static BOOLEAN
ChunkUsable(PVOID Context)
{
    ULONG Fill = *(const ULONG *)Context;
    ULONG Index;
    char Name[32];

    for (Index = 0; Index < Fill; Index += 1) {
        snprintf(Name, sizeof(Name), "fill-%lu", (unsigned long)Index);
        if (UseRegistered(Name, WdkmLockKindKMutex) != STATUS_SUCCESS) {
            return FALSE;
        }
    }
    return UseRegistered("chunk-last", WdkmLockKindKMutex) == STATUS_OBJECT_NAME_NOT_FOUND;
}

static VOID
FaultsGrtCounterChunk(VOID)
{
    FAULT_PATH Path = { NULL, ChunkAttempt, ChunkUndo, ChunkUsable, NULL, FALSE };
    LONG Most = 0;
    LONG Points;
    ULONG Fill;
    ULONG Index;
    char Name[32];
    char PathName[64];

    for (Fill = 0; Fill <= 33; Fill += 1) {
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        for (Index = 0; Index < Fill; Index += 1) {
            snprintf(Name, sizeof(Name), "fill-%lu", (unsigned long)Index);
            CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Zero), STATUS_SUCCESS);
        }
        snprintf(PathName, sizeof(PathName), "WdkmGrtRegister after %lu names",
                 (unsigned long)Fill);
        Path.Name = PathName;
        Path.Context = &Fill;
        Points = Walk(&Path);
        CHECK_STATUS(DestroyRegistry(), STATUS_SUCCESS);
        if (Points < 0) {
            CHECK(FALSE);
            break;
        }
        Most = Points > Most ? Points : Most;
    }
    /* Counter chunk, entry with its lock. */
    CHECK(Most >= 2);
    printf("    allocation sites covered: %lu failure points on %lu paths\n",
           (unsigned long)FaultSitesCovered, (unsigned long)FaultPathsWalked);
}

static const WDKM_TEST_CASE FaultCases[] = {
    { "create_every_kind", FaultsCreateEveryKind },
    { "grt_initialize", FaultsGrtInitialize },
    { "grt_register_every_kind", FaultsGrtRegister },
    { "grt_replace_every_kind", FaultsGrtReplace },
    { "grt_growth", FaultsGrtGrowth },
    { "grt_counter_chunk", FaultsGrtCounterChunk },
};

const WDKM_TEST_SUITE WdkmFaultsSuite = WDKM_TEST_SUITE_OF("faults", FaultCases);
