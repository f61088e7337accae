/*
 * test_inplace.c - values that point into themselves: a LIST_ENTRY head
 * created in place is a list in the lock's pool block (a copied-in head is
 * not), records linked under the lock are all seen by the drain at
 * destroy, a failing initialiser leaves no pool and no kernel object, and
 * the in-place forms refuse misuse as the other creates and destroys do.
 */
#include "wdkm_test.h"

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

static const WDKM_TEST_CASE Cases[] = {
    { "registry registers in place", RegistryRegistersInPlace },
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
