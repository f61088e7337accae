/*
 * test_inplace.c - values that point into themselves: a LIST_ENTRY head
 * created in place is a list in the lock's pool block (a copied-in head is
 * not), records linked under the lock are all seen by the drain at
 * destroy, a failing initialiser leaves no pool and no kernel object, and
 * the in-place forms refuse misuse as the other creates and destroys do.
 */
#include "wdkm_test.h"

#include <stdio.h>
#include <string.h>

#define TEST_RECORD_TAG 0x63655254UL   /* 'TRec' */

typedef struct _RECORD_LIST {
    LIST_ENTRY Head;
    ULONG Count;
} RECORD_LIST;

typedef struct _RECORD {
    LIST_ENTRY Link;
    ULONG Number;
} RECORD;

/* What the callbacks saw. */
typedef struct _SEEN {
    PVOID Value;
    ULONG Calls;
    ULONG Records;
    ULONG NumberSum;
    BOOLEAN WasEmpty;
    NTSTATUS Answer;          /* what the initialiser returns */
    BOOLEAN Allocate;         /* the initialiser allocates a record first */
} SEEN;

static NTSTATUS
InitializeList(PVOID Value, PVOID Context)
{
    RECORD_LIST *List = (RECORD_LIST *)Value;
    SEEN *Seen = (SEEN *)Context;

    Seen->Value = Value;
    Seen->Calls += 1;
    /* The value arrives zeroed. */
    Seen->WasEmpty = List->Head.Flink == NULL && List->Head.Blink == NULL && List->Count == 0;
    InitializeListHead(&List->Head);
    return Seen->Answer;
}

/* Unlinks and frees every record; counts them. */
static VOID
DrainList(PVOID Value, PVOID Context)
{
    RECORD_LIST *List = (RECORD_LIST *)Value;
    SEEN *Seen = (SEEN *)Context;

    Seen->Value = Value;
    Seen->Calls += 1;
    Seen->WasEmpty = IsListEmpty(&List->Head);
    while (!IsListEmpty(&List->Head)) {
        RECORD *Record = CONTAINING_RECORD(RemoveHeadList(&List->Head), RECORD, Link);
        Seen->Records += 1;
        Seen->NumberSum += Record->Number;
        ExFreePoolWithTag(Record, TEST_RECORD_TAG);
    }
}

static BOOLEAN
InsideBlock(const VOID *Value, const VOID *Lock)
{
    /* The value follows the lock's header in the same block. */
    return (const UCHAR *)Value > (const UCHAR *)Lock &&
           (const UCHAR *)Value < (const UCHAR *)Lock + 4096;
}

/* The bug, kept visible: a head initialised on the stack and
   copied in points into the caller's frame, and a taken empty list looks
   non-empty. */
static VOID
CopiedInListHeadPointsIntoTheStack(VOID)
{
    LIST_ENTRY Head;
    LIST_ENTRY Taken;
    PWDKM_SPIN_LOCK Lock;
    PLIST_ENTRY Data;
    KIRQL OldIrql;

    InitializeListHead(&Head);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Head, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK(Data->Flink == &Head);            /* the stack variable, not the copy */
    CHECK(!IsListEmpty(Data));
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_TAKE(Lock, &Taken), STATUS_SUCCESS);
    CHECK(!IsListEmpty(&Taken));            /* empty, yet it looks non-empty */
}

static VOID
InPlaceListHeadIsSelfConsistent(VOID)
{
    SEEN Created = { 0 };
    SEEN Drained = { 0 };
    PWDKM_SPIN_LOCK Lock;
    RECORD_LIST *Data;
    KIRQL OldIrql;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Created, &Lock),
                 STATUS_SUCCESS);
    CHECK_EQ(Created.Calls, 1);
    CHECK(Created.WasEmpty);
    CHECK(InsideBlock(Created.Value, Lock));
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK(Data == Created.Value);
    CHECK(IsListEmpty(&Data->Head));
    CHECK(Data->Head.Flink == &Data->Head && Data->Head.Blink == &Data->Head);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_DESTROY_WITH(Lock, RECORD_LIST, DrainList, &Drained),
                 STATUS_SUCCESS);
    CHECK_EQ(Drained.Calls, 1);
    CHECK(Drained.Value == Created.Value);
    CHECK(Drained.WasEmpty);
}

/* Every kind: the initialiser and the drain see the value in the block. */
static VOID
EveryKindCreatesAndDrainsInPlace(VOID)
{
    WDKM_POOL_STATISTICS Before;
    WDKM_POOL_STATISTICS After;
    SEEN Created[7];
    SEEN Drained[7];
    PWDKM_KMUTEX KMutex;
    PWDKM_FAST_MUTEX FastMutex;
    PWDKM_SPIN_LOCK SpinLock;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_GUARDED_MUTEX Guarded;
    PWDKM_RESOURCE Resource;
    PWDKM_PUSH_LOCK PushLock;
    const VOID *Locks[7];
    ULONG Index;

    RtlZeroMemory(Created, sizeof(Created));
    RtlZeroMemory(Drained, sizeof(Drained));
    WdkmQueryPoolStatistics(&Before);
    CHECK_STATUS(WDKM_KMUTEX_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Created[0], &KMutex),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Created[1],
                                                 &FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Created[2],
                                                &SpinLock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Created[3],
                                                       &Queued), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GUARDED_MUTEX_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Created[4],
                                                    &Guarded), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Created[5],
                                               &Resource), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_PUSH_LOCK_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Created[6],
                                                &PushLock), STATUS_SUCCESS);
    Locks[0] = KMutex;
    Locks[1] = FastMutex;
    Locks[2] = SpinLock;
    Locks[3] = Queued;
    Locks[4] = Guarded;
    Locks[5] = Resource;
    Locks[6] = PushLock;
    for (Index = 0; Index < 7; Index += 1) {
        CHECK_EQ(Created[Index].Calls, 1);
        CHECK(Created[Index].WasEmpty);
        CHECK(InsideBlock(Created[Index].Value, Locks[Index]));
    }
    CHECK_STATUS(WDKM_KMUTEX_DESTROY_WITH(KMutex, RECORD_LIST, DrainList, &Drained[0]),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_DESTROY_WITH(FastMutex, RECORD_LIST, DrainList, &Drained[1]),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_DESTROY_WITH(SpinLock, RECORD_LIST, DrainList, &Drained[2]),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_DESTROY_WITH(Queued, RECORD_LIST, DrainList, &Drained[3]),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GUARDED_MUTEX_DESTROY_WITH(Guarded, RECORD_LIST, DrainList, &Drained[4]),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_DESTROY_WITH(Resource, RECORD_LIST, DrainList, &Drained[5]),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_PUSH_LOCK_DESTROY_WITH(PushLock, RECORD_LIST, DrainList, &Drained[6]),
                 STATUS_SUCCESS);
    for (Index = 0; Index < 7; Index += 1) {
        CHECK_EQ(Drained[Index].Calls, 1);
        CHECK(Drained[Index].Value == Created[Index].Value);
        CHECK(Drained[Index].WasEmpty);
    }
    WdkmQueryPoolStatistics(&After);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks);
    CHECK_EQ(After.OutstandingBytes, Before.OutstandingBytes);
}

/* The intrusive list: records linked and unlinked under the lock, every
   one still linked at destroy reached by the drain, no record pool left. */
static VOID
DrainAtDestroySeesEveryRecord(VOID)
{
    SEEN Created = { 0 };
    SEEN Drained = { 0 };
    PWDKM_SPIN_LOCK Lock;
    RECORD_LIST *List;
    RECORD *Record;
    KIRQL OldIrql;
    ULONG Number;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Created, &Lock),
                 STATUS_SUCCESS);
    for (Number = 1; Number <= 5; Number += 1) {
        Record = (RECORD *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Record), TEST_RECORD_TAG);
        CHECK(Record != NULL);
        Record->Number = Number;
        CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &List), STATUS_SUCCESS);
        InsertTailList(&List->Head, &Record->Link);
        List->Count += 1;
        CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    }
    /* Take the first one out again, under the lock. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &List), STATUS_SUCCESS);
    Record = CONTAINING_RECORD(RemoveHeadList(&List->Head), RECORD, Link);
    List->Count -= 1;
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK_EQ(Record->Number, 1);
    ExFreePoolWithTag(Record, TEST_RECORD_TAG);

    CHECK_EQ(WdkmHostPoolOutstanding(TEST_RECORD_TAG, NULL), 4);
    CHECK_STATUS(WDKM_SPIN_LOCK_DESTROY_WITH(Lock, RECORD_LIST, DrainList, &Drained),
                 STATUS_SUCCESS);
    CHECK_EQ(Drained.Calls, 1);
    CHECK_EQ(Drained.Records, 4);
    CHECK_EQ(Drained.NumberSum, 2 + 3 + 4 + 5);
    CHECK_EQ(WdkmHostPoolOutstanding(TEST_RECORD_TAG, NULL), 0);
}

static NTSTATUS
AllocateThenFail(PVOID Value, PVOID Context)
{
    SEEN *Seen = (SEEN *)Context;
    RECORD_LIST *List = (RECORD_LIST *)Value;
    RECORD *Record;

    (VOID)InitializeList(Value, Context);
    Record = (RECORD *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Record), TEST_RECORD_TAG);
    if (Record == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    InsertTailList(&List->Head, &Record->Link);
    /* A later step fails: undo the first, as the contract asks. */
    RemoveEntryList(&Record->Link);
    ExFreePoolWithTag(Record, TEST_RECORD_TAG);
    return Seen->Answer;
}

/* A failing initialiser fails the create with its status and leaves
   nothing: no library pool, no kernel object (the ERESOURCE is deleted
   before its block is freed, else the emulation bug checks). */
static VOID
InitializerFailureFreesEverything(VOID)
{
    WDKM_POOL_STATISTICS Before;
    WDKM_POOL_STATISTICS After;
    SEEN Seen = { 0 };
    PWDKM_RESOURCE Resource = (PWDKM_RESOURCE)(ULONG_PTR)1;
    PWDKM_SPIN_LOCK SpinLock = (PWDKM_SPIN_LOCK)(ULONG_PTR)1;
    ULONG Resources = WdkmHostResourceCount();

    Seen.Answer = STATUS_DEVICE_BUSY;
    WdkmQueryPoolStatistics(&Before);
    CHECK_STATUS(WDKM_RESOURCE_CREATE_IN_PLACE(RECORD_LIST, AllocateThenFail, &Seen, &Resource),
                 STATUS_DEVICE_BUSY);
    CHECK(Resource == NULL);
    CHECK_EQ(Seen.Calls, 1);
    CHECK_EQ(WdkmHostResourceCount(), Resources);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE_IN_PLACE(RECORD_LIST, AllocateThenFail, &Seen, &SpinLock),
                 STATUS_DEVICE_BUSY);
    CHECK(SpinLock == NULL);
    WdkmQueryPoolStatistics(&After);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks);
    CHECK_EQ(After.OutstandingBytes, Before.OutstandingBytes);
    CHECK_EQ(WdkmHostPoolOutstanding(TEST_RECORD_TAG, NULL), 0);

    /* A success-class status other than STATUS_SUCCESS is success. */
    Seen.Answer = STATUS_ALERTED;
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE_IN_PLACE(RECORD_LIST, AllocateThenFail, &Seen, &SpinLock),
                 STATUS_SUCCESS);
    CHECK(SpinLock != NULL);
    CHECK_STATUS(WdkmSpinLockDestroy(SpinLock), STATUS_SUCCESS);
}

/* The pool allocation fails: the initialiser never runs. */
static VOID
AllocationFailureSkipsTheInitializer(VOID)
{
    SEEN Seen = { 0 };
    PWDKM_KMUTEX Mutex;

    WdkmHostPoolFailAt(0);
    CHECK_STATUS(WDKM_KMUTEX_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Seen, &Mutex),
                 STATUS_INSUFFICIENT_RESOURCES);
    WdkmHostPoolFailAt(-1);
    CHECK(Mutex == NULL);
    CHECK_EQ(Seen.Calls, 0);
}

/* The drain may not use the lock: its handle is dead by then. */
typedef struct _REENTRY {
    PWDKM_SPIN_LOCK Lock;
    NTSTATUS Status;
} REENTRY;

WDKM_NO_THREAD_SAFETY_ANALYSIS   /* an acquire that must fail */
static VOID
ReacquireFromDrain(PVOID Value, PVOID Context)
{
    REENTRY *Reentry = (REENTRY *)Context;
    RECORD_LIST *Data;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Value);
    Reentry->Status = WDKM_SPIN_LOCK_ACQUIRE(Reentry->Lock, &OldIrql, &Data);
}

WDKM_NO_THREAD_SAFETY_ANALYSIS   /* misuses the lock on purpose */
static VOID
InPlaceMisuseIsRefused(VOID)
{
    SEEN Seen = { 0 };
    SEEN Drained = { 0 };
    PWDKM_SPIN_LOCK Lock;
    PWDKM_RESOURCE Resource;
    RECORD_LIST *Data;
    KIRQL OldIrql;
    REENTRY Reentry;

    /* Creation. */
    Lock = (PWDKM_SPIN_LOCK)(ULONG_PTR)1;
    CHECK_STATUS(WdkmSpinLockCreateInPlace(sizeof(RECORD_LIST), NULL, &Seen, &Lock),
                 STATUS_INVALID_PARAMETER);
    CHECK(Lock == NULL);
    CHECK_STATUS(WdkmSpinLockCreateInPlace(0, InitializeList, &Seen, &Lock),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmSpinLockCreateInPlace((SIZE_T)WDKM_MAX_DATA_SIZE + 1, InitializeList, &Seen,
                                           &Lock), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmSpinLockCreateInPlace(sizeof(RECORD_LIST), InitializeList, &Seen, NULL),
                 STATUS_INVALID_PARAMETER);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Seen, &Lock),
                 STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(OldIrql);
    CHECK(Lock == NULL);
    CHECK_EQ(Seen.Calls, 0);

    /* Destruction: each refusal leaves the lock alive and the drain uncalled. */
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Seen, &Lock),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroyWith(Lock, sizeof(RECORD_LIST), NULL, &Drained),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmSpinLockDestroyWith(Lock, sizeof(LIST_ENTRY), DrainList, &Drained),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmSpinLockDestroyWith(NULL, sizeof(RECORD_LIST), DrainList, &Drained),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmFastMutexDestroyWith((PWDKM_FAST_MUTEX)(PVOID)Lock, sizeof(RECORD_LIST),
                                          DrainList, &Drained), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_DESTROY_WITH(Lock, RECORD_LIST, DrainList, &Drained),
                 STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockRelease(Lock, OldIrql), STATUS_SUCCESS);
    CHECK_EQ(Drained.Calls, 0);

    /* The drain finds the handle dead. */
    Reentry.Lock = Lock;
    Reentry.Status = STATUS_SUCCESS;
    CHECK_STATUS(WDKM_SPIN_LOCK_DESTROY_WITH(Lock, RECORD_LIST, ReacquireFromDrain, &Reentry),
                 STATUS_SUCCESS);
    CHECK_STATUS(Reentry.Status, STATUS_WDKM_TYPE_MISMATCH);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* An ERESOURCE is destroyed at <= APC_LEVEL, with or without a drain. */
    CHECK_STATUS(WDKM_RESOURCE_CREATE_IN_PLACE(RECORD_LIST, InitializeList, &Seen, &Resource),
                 STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK_STATUS(WDKM_RESOURCE_DESTROY_WITH(Resource, RECORD_LIST, DrainList, &Drained),
                 STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(OldIrql);
    CHECK_EQ(Drained.Calls, 0);
    CHECK_STATUS(WDKM_RESOURCE_DESTROY_WITH(Resource, RECORD_LIST, DrainList, &Drained),
                 STATUS_SUCCESS);
    CHECK_EQ(Drained.Calls, 1);
}

/* The registry creates in place too; a failing initialiser registers
   nothing and leaves nothing. */
static VOID
RegistryRegistersInPlace(VOID)
{
    WDKM_POOL_STATISTICS Before;
    WDKM_POOL_STATISTICS After;
    SEEN Created = { 0 };
    SEEN Failed = { 0 };
    PWDKM_SPIN_LOCK Lock;
    RECORD_LIST *List;
    BOOLEAN Empty = FALSE;
    KIRQL OldIrql;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_IN_PLACE("inplace.list", WdkmLockKindSpinLock, RECORD_LIST,
                                            InitializeList, &Created), STATUS_SUCCESS);
    CHECK_EQ(Created.Calls, 1);
    CHECK_STATUS(WDKM_GRT_GET_SPIN_LOCK("inplace.list", RECORD_LIST, &Lock), STATUS_SUCCESS);
    if (WDKM_ACQUIRED(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &List))) {
        Empty = IsListEmpty(&List->Head) && (PVOID)List == Created.Value;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    }
    CHECK(Empty);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);

    WdkmQueryPoolStatistics(&Before);
    Failed.Answer = STATUS_DEVICE_BUSY;
    CHECK_STATUS(WDKM_GRT_REGISTER_IN_PLACE("inplace.failed", WdkmLockKindResource, RECORD_LIST,
                                            AllocateThenFail, &Failed), STATUS_DEVICE_BUSY);
    WdkmQueryPoolStatistics(&After);
    CHECK_EQ(After.OutstandingBlocks, Before.OutstandingBlocks);
    CHECK_STATUS(WDKM_GRT_GET_SPIN_LOCK("inplace.failed", RECORD_LIST, &Lock),
                 STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_STATUS(WdkmGrtRegisterInPlace("inplace.null", WdkmLockKindSpinLock, sizeof(RECORD_LIST),
                                        NULL, NULL, 0), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* ------------------------------------------------------------------------
 * Drained registrations: the registry takes the value apart when it frees
 * the lock, whoever drops the last reference.
 */

/* What a drained registration's callbacks saw, and what the drain tries. */
typedef struct _DRAINED {
    SEEN Seen;                  /* the drain's view */
    KIRQL DrainIrql;
    PVOID Lock;                 /* the handle, tried from the drain if TryHandle */
    BOOLEAN TryHandle;
    NTSTATUS HandleStatus;
    BOOLEAN TryRegistry;        /* a lookup from the drain */
    NTSTATUS RegistryStatus;
} DRAINED;

static VOID
DrainRegistered(PVOID Value, PVOID Context)
{
    DRAINED *Drained = (DRAINED *)Context;
    PWDKM_SPIN_LOCK Other = NULL;
    RECORD_LIST *Data = NULL;
    KIRQL OldIrql;

    Drained->DrainIrql = KeGetCurrentIrql();
    if (Drained->TryHandle) {
        Drained->HandleStatus = WDKM_SPIN_LOCK_ACQUIRE((PWDKM_SPIN_LOCK)Drained->Lock, &OldIrql,
                                                       &Data);
        if (WDKM_ACQUIRED(Drained->HandleStatus)) {
            (VOID)WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Drained->Lock, OldIrql);
        }
    }
    if (Drained->TryRegistry) {
        Drained->RegistryStatus = WDKM_GRT_GET_SPIN_LOCK("drained.other", RECORD_LIST, &Other);
        if (Other != NULL) {
            (VOID)WdkmGrtDereference(Other);
        }
    }
    DrainList(Value, &Drained->Seen);
}

/* Links a record numbered Number into the list under the lock. */
static BOOLEAN
AddRecord(PWDKM_SPIN_LOCK Lock, ULONG Number)
{
    RECORD *Record = (RECORD *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Record),
                                                     TEST_RECORD_TAG);
    RECORD_LIST *List;
    KIRQL OldIrql;

    if (Record == NULL) {
        return FALSE;
    }
    Record->Number = Number;
    if (!WDKM_ACQUIRED(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &List))) {
        ExFreePoolWithTag(Record, TEST_RECORD_TAG);
        return FALSE;
    }
    InsertTailList(&List->Head, &Record->Link);
    List->Count += 1;
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    return TRUE;
}

/* Allocates a record into the fresh list: a value a failed registration
   must still take apart. */
static NTSTATUS
InitializeWithRecord(PVOID Value, PVOID Context)
{
    RECORD_LIST *List = (RECORD_LIST *)Value;
    RECORD *Record;

    (VOID)InitializeList(Value, Context);
    Record = (RECORD *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Record), TEST_RECORD_TAG);
    if (Record == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Record->Number = 40;
    InsertTailList(&List->Head, &Record->Link);
    return STATUS_SUCCESS;
}

/* Unregistered while referenced: the drain waits for the last reference,
   sees every record (also one linked after the unregistration, through
   the reference still held) and frees them; nothing is left. */
static VOID
RegistryDrainsAtTheLastReference(VOID)
{
    SEEN Created = { 0 };
    DRAINED Drained;
    PWDKM_SPIN_LOCK Lock = NULL;
    ULONG Number;

    memset(&Drained, 0, sizeof(Drained));
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_IN_PLACE_DRAINED_OF("drained.list", SpinLock, RECORD_LIST,
                                                       InitializeList, &Created, DrainRegistered,
                                                       &Drained), STATUS_SUCCESS);
    CHECK_EQ(Created.Calls, 1);
    CHECK_STATUS(WDKM_GRT_GET_SPIN_LOCK("drained.list", RECORD_LIST, &Lock), STATUS_SUCCESS);
    for (Number = 1; Number <= 3; Number++) {
        CHECK(AddRecord(Lock, Number));
    }
    CHECK_STATUS(WdkmGrtUnregister("drained.list"), STATUS_SUCCESS);
    CHECK_EQ(Drained.Seen.Calls, 0);                /* still referenced */
    CHECK(AddRecord(Lock, 4));
    CHECK_EQ(WdkmHostPoolOutstanding(TEST_RECORD_TAG, NULL), 4);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
    CHECK_EQ(Drained.Seen.Calls, 1);
    CHECK_EQ(Drained.Seen.Records, 4);
    CHECK_EQ(Drained.Seen.NumberSum, 10);
    CHECK(Drained.Seen.Value == Created.Value);
    CHECK_EQ(Drained.DrainIrql, PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostPoolOutstanding(TEST_RECORD_TAG, NULL), 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(Drained.Seen.Calls, 1);                /* once */
}

/* Every kind, both entry points: drained once by the registry's destroy. */
static VOID
RegistryDrainsEveryKindAtDestroy(VOID)
{
    static const WDKM_LOCK_KIND Kinds[] = {
        WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock,
        WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource,
        WdkmLockKindPushLock,
    };
    SEEN Created = { 0 };
    DRAINED Drained[sizeof(Kinds) / sizeof(Kinds[0])];
    DRAINED ByMacro;
    CHAR Name[32];
    ULONG Index;

    memset(Drained, 0, sizeof(Drained));
    memset(&ByMacro, 0, sizeof(ByMacro));
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < sizeof(Kinds) / sizeof(Kinds[0]); Index++) {
        snprintf(Name, sizeof(Name), "drained.kind.%lu", (unsigned long)Index);
        CHECK_STATUS(WDKM_GRT_REGISTER_IN_PLACE_DRAINED(Name, Kinds[Index], RECORD_LIST,
                                                        InitializeWithRecord, &Created,
                                                        DrainRegistered, &Drained[Index]),
                     STATUS_SUCCESS);
    }
    CHECK_STATUS(WDKM_GRT_REGISTER_IN_PLACE_DRAINED_OF("drained.resource", Resource, RECORD_LIST,
                                                       InitializeWithRecord, &Created,
                                                       DrainRegistered, &ByMacro),
                 STATUS_SUCCESS);
    CHECK_EQ(WdkmHostPoolOutstanding(TEST_RECORD_TAG, NULL), 8);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    for (Index = 0; Index < sizeof(Kinds) / sizeof(Kinds[0]); Index++) {
        CHECK_EQ(Drained[Index].Seen.Calls, 1);
        CHECK_EQ(Drained[Index].Seen.Records, 1);
    }
    CHECK_EQ(ByMacro.Seen.Calls, 1);
    CHECK_EQ(WdkmHostPoolOutstanding(TEST_RECORD_TAG, NULL), 0);
}

/* A registration that fails after its Initialize succeeded (the name is
   taken) drains what Initialize set up; a replaced one is drained when
   replaced; a NULL drain is refused before Initialize runs. */
static VOID
RegistryDrainsFailedAndReplacedRegistrations(VOID)
{
    SEEN Created = { 0 };
    DRAINED First;
    DRAINED Second;
    DRAINED Third;

    memset(&First, 0, sizeof(First));
    memset(&Second, 0, sizeof(Second));
    memset(&Third, 0, sizeof(Third));
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_IN_PLACE_DRAINED_OF("drained.name", FastMutex, RECORD_LIST,
                                                       InitializeWithRecord, &Created,
                                                       DrainRegistered, &First), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_IN_PLACE_DRAINED_OF("drained.name", FastMutex, RECORD_LIST,
                                                       InitializeWithRecord, &Created,
                                                       DrainRegistered, &Second),
                 STATUS_OBJECT_NAME_COLLISION);
    CHECK_EQ(Second.Seen.Calls, 1);
    CHECK_EQ(Second.Seen.Records, 1);
    CHECK_EQ(First.Seen.Calls, 0);
    CHECK_EQ(WdkmHostPoolOutstanding(TEST_RECORD_TAG, NULL), 1);

    CHECK_STATUS(WdkmGrtRegisterInPlaceDrained("drained.name", WdkmLockKindFastMutex,
                                               sizeof(RECORD_LIST), InitializeWithRecord,
                                               &Created, DrainRegistered, &Third,
                                               WDKM_GRT_REPLACE), STATUS_SUCCESS);
    CHECK_EQ(First.Seen.Calls, 1);                  /* unreferenced: at once */
    CHECK_EQ(Third.Seen.Calls, 0);

    Created.Calls = 0;
    CHECK_STATUS(WdkmGrtRegisterInPlaceDrained("drained.null", WdkmLockKindSpinLock,
                                               sizeof(RECORD_LIST), InitializeWithRecord,
                                               &Created, NULL, NULL, 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegisterInPlaceDrainedKind("drained.null", &WdkmpSpinLockKind,
                                                   sizeof(RECORD_LIST), NULL, NULL,
                                                   DrainRegistered, &Third, 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_EQ(Created.Calls, 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(Third.Seen.Calls, 1);
    CHECK_EQ(WdkmHostPoolOutstanding(TEST_RECORD_TAG, NULL), 0);
}

/* The last reference dropped at DISPATCH_LEVEL: a spin lock is drained
   right there, at DISPATCH_LEVEL; an ERESOURCE waits for the next registry
   call made at <= APC_LEVEL. The drain's use of the handle is refused, and
   its registry lookups answer (found in use, refused during the destroy),
   never hang. */
static VOID
RegistryDrainsWhereTheLastReferenceGoes(VOID)
{
    SEEN Created = { 0 };
    DRAINED Spin;
    DRAINED Resource;
    DRAINED AtDestroy;
    PWDKM_SPIN_LOCK SpinLock = NULL;
    PWDKM_RESOURCE ResourceLock = NULL;
    RECORD_LIST Other;
    KIRQL OldIrql;

    memset(&Spin, 0, sizeof(Spin));
    memset(&Resource, 0, sizeof(Resource));
    memset(&AtDestroy, 0, sizeof(AtDestroy));
    memset(&Other, 0, sizeof(Other));
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK("drained.other", &Other), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_IN_PLACE_DRAINED_OF("drained.spin", SpinLock, RECORD_LIST,
                                                       InitializeWithRecord, &Created,
                                                       DrainRegistered, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_IN_PLACE_DRAINED_OF("drained.resource", Resource, RECORD_LIST,
                                                       InitializeWithRecord, &Created,
                                                       DrainRegistered, &Resource),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_IN_PLACE_DRAINED_OF("drained.destroy", SpinLock, RECORD_LIST,
                                                       InitializeWithRecord, &Created,
                                                       DrainRegistered, &AtDestroy),
                 STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_SPIN_LOCK("drained.spin", RECORD_LIST, &SpinLock), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_RESOURCE("drained.resource", RECORD_LIST, &ResourceLock),
                 STATUS_SUCCESS);
    Spin.Lock = SpinLock;
    Spin.TryHandle = TRUE;
    Spin.TryRegistry = TRUE;
    CHECK_STATUS(WdkmGrtUnregister("drained.spin"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("drained.resource"), STATUS_SUCCESS);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    CHECK_STATUS(WdkmGrtDereference(SpinLock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(ResourceLock), STATUS_SUCCESS);
    KeLowerIrql(OldIrql);
    CHECK_EQ(Spin.Seen.Calls, 1);
    CHECK_EQ(Spin.DrainIrql, DISPATCH_LEVEL);
    CHECK(Spin.HandleStatus != STATUS_SUCCESS);     /* no lock any more */
    CHECK_STATUS(Spin.RegistryStatus, STATUS_SUCCESS);
    CHECK_EQ(Resource.Seen.Calls, 0);               /* parked */
    CHECK_STATUS(WdkmGrtUnregister("drained.none"), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_EQ(Resource.Seen.Calls, 1);
    CHECK_EQ(Resource.DrainIrql, PASSIVE_LEVEL);

    AtDestroy.TryRegistry = TRUE;
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(AtDestroy.Seen.Calls, 1);
    CHECK(AtDestroy.RegistryStatus != STATUS_SUCCESS);
    CHECK_EQ(WdkmHostPoolOutstanding(TEST_RECORD_TAG, NULL), 0);
}

static const WDKM_TEST_CASE Cases[] = {
    { "registry registers in place", RegistryRegistersInPlace },
    { "registry drains at the last reference", RegistryDrainsAtTheLastReference },
    { "registry drains every kind at destroy", RegistryDrainsEveryKindAtDestroy },
    { "registry drains failed and replaced registrations",
      RegistryDrainsFailedAndReplacedRegistrations },
    { "registry drains where the last reference goes", RegistryDrainsWhereTheLastReferenceGoes },
    { "copied-in list head points into the stack", CopiedInListHeadPointsIntoTheStack },
    { "in-place list head is self-consistent", InPlaceListHeadIsSelfConsistent },
    { "every kind creates and drains in place", EveryKindCreatesAndDrainsInPlace },
    { "drain at destroy sees every record", DrainAtDestroySeesEveryRecord },
    { "initializer failure frees everything", InitializerFailureFreesEverything },
    { "allocation failure skips the initializer", AllocationFailureSkipsTheInitializer },
    { "in-place misuse is refused", InPlaceMisuseIsRefused },
};

/* A failed check must not leave the registry for the next test. */
static VOID
DestroyRegistry(VOID)
{
    (VOID)WdkmGrtDestroy(NULL, NULL);
}

const WDKM_TEST_SUITE WdkmInPlaceSuite = WDKM_TEST_SUITE_WITH_CLEANUP("inplace", Cases, DestroyRegistry);
