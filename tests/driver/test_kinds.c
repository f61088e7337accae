/*
 * test_kinds.c - the lock kinds beyond KMUTEX and FAST_MUTEX inside a real
 * driver: exact counts with system threads for every kind this kernel
 * supports, readers overlapping, a timer DPC taking a spin lock, regions,
 * and the registry holding every kind. Kinds the kernel lacks are SKIPPED
 * after checking that the library said STATUS_NOT_SUPPORTED.
 */
#include "wdkm_test.h"

#include <wdkmutex/wdkmutex.h>

typedef struct _COUNTER {
    LONG Value;
    LONG Spare;
} COUNTER;

static const COUNTER Zero = { 0, 0 };

typedef enum { KIND_SPIN, KIND_QUEUED, KIND_RESOURCE, KIND_PUSH } KIND;

typedef struct _RUN {
    KIND Kind;
    PVOID Lock;
    LONG volatile Errors;
} RUN;

static NTSTATUS
IncrementOnce(_Inout_ RUN *Run)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    COUNTER *Data = NULL;
    NTSTATUS Status;
    KIRQL OldIrql;

    switch (Run->Kind) {
    case KIND_SPIN:
        Status = WDKM_SPIN_LOCK_ACQUIRE((PWDKM_SPIN_LOCK)Run->Lock, &OldIrql, &Data);
        if (WDKM_ACQUIRED(Status)) {
            Data->Value += 1;
            Status = WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Run->Lock, OldIrql);
        }
        return Status;
    case KIND_QUEUED:
        Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE((PWDKM_QUEUED_SPIN_LOCK)Run->Lock, &Handle, &Data);
        if (WDKM_ACQUIRED(Status)) {
            Data->Value += 1;
            Status = WdkmQueuedSpinLockRelease(&Handle);
        }
        return Status;
    case KIND_RESOURCE:
        Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE((PWDKM_RESOURCE)Run->Lock, &Data);
        if (WDKM_ACQUIRED(Status)) {
            Data->Value += 1;
            Status = WdkmResourceRelease((PWDKM_RESOURCE)Run->Lock);
        }
        return Status;
    default:
        Status = WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE((PWDKM_PUSH_LOCK)Run->Lock, &Data);
        if (WDKM_ACQUIRED(Status)) {
            Data->Value += 1;
            Status = WdkmPushLockRelease((PWDKM_PUSH_LOCK)Run->Lock);
        }
        return Status;
    }
}

static VOID
CountWorker(_In_ PWDKM_TEST_THREAD Thread)
{
    RUN *Run = (RUN *)Thread->Context;
    ULONG Iteration;

    for (Iteration = 0; Iteration < 500 && !WdkmTestThreadShouldStop(Thread); Iteration += 1) {
        if (IncrementOnce(Run) != STATUS_SUCCESS) {
            InterlockedIncrement(&Run->Errors);
        }
    }
}

/* Creates the kind's lock, runs 3 threads x 500, takes the value out. */
static VOID
CountWithThreads(_Inout_ PWDKM_TEST Test, _In_ KIND Kind)
{
    RUN Run;
    COUNTER Out;
    NTSTATUS Status;

    Run.Kind = Kind;
    Run.Errors = 0;
    switch (Kind) {
    case KIND_SPIN:
        Status = WDKM_SPIN_LOCK_CREATE(&Zero, (PWDKM_SPIN_LOCK *)&Run.Lock);
        break;
    case KIND_QUEUED:
        Status = WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, (PWDKM_QUEUED_SPIN_LOCK *)&Run.Lock);
        break;
    case KIND_RESOURCE:
        Status = WDKM_RESOURCE_CREATE(&Zero, (PWDKM_RESOURCE *)&Run.Lock);
        break;
    default:
        Status = WDKM_PUSH_LOCK_CREATE(&Zero, (PWDKM_PUSH_LOCK *)&Run.Lock);
        break;
    }
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, Status);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmTestRunThreads(3, CountWorker, &Run, 60000));
    WDKM_EXPECT_EQ(Test, Run.Errors, 0);
    switch (Kind) {
    case KIND_SPIN:
        Status = WDKM_SPIN_LOCK_TAKE((PWDKM_SPIN_LOCK)Run.Lock, &Out);
        break;
    case KIND_QUEUED:
        Status = WDKM_QUEUED_SPIN_LOCK_TAKE((PWDKM_QUEUED_SPIN_LOCK)Run.Lock, &Out);
        break;
    case KIND_RESOURCE:
        Status = WDKM_RESOURCE_TAKE((PWDKM_RESOURCE)Run.Lock, &Out);
        break;
    default:
        Status = WDKM_PUSH_LOCK_TAKE((PWDKM_PUSH_LOCK)Run.Lock, &Out);
        break;
    }
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, Status);
    WDKM_EXPECT_EQ(Test, Out.Value, 1500);
}

VOID
WdkmTestSpinLockThreads(_Inout_ PWDKM_TEST Test)
{
    CountWithThreads(Test, KIND_SPIN);
}

VOID
WdkmTestQueuedSpinLockThreads(_Inout_ PWDKM_TEST Test)
{
    CountWithThreads(Test, KIND_QUEUED);
}

VOID
WdkmTestResourceThreads(_Inout_ PWDKM_TEST Test)
{
    CountWithThreads(Test, KIND_RESOURCE);
}

VOID
WdkmTestPushLockThreads(_Inout_ PWDKM_TEST Test)
{
    PWDKM_PUSH_LOCK Probe;
    NTSTATUS Status = WDKM_PUSH_LOCK_CREATE(&Zero, &Probe);

    if (Status == STATUS_NOT_SUPPORTED) {
        WDKM_EXPECT_NULL(Test, Probe);
        WDKM_SKIP(Test, "this kernel lacks ExfReleasePushLockExclusive/Shared (Wine 8, whose "
                        "ExfAcquirePushLock* are aborting stubs): create correctly answered "
                        "STATUS_NOT_SUPPORTED; the host tests cover push locks");
    }
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, Status);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmPushLockDestroy(Probe));
    CountWithThreads(Test, KIND_PUSH);
}

VOID
WdkmTestGuardedMutex(_Inout_ PWDKM_TEST Test)
{
    PWDKM_GUARDED_MUTEX Mutex;
    COUNTER *Data;
    NTSTATUS Status = WDKM_GUARDED_MUTEX_CREATE(&Zero, &Mutex);

    if (Status == STATUS_NOT_SUPPORTED) {
        WDKM_EXPECT_NULL(Test, Mutex);
        WDKM_SKIP(Test, "this kernel does not export KeAcquireGuardedMutex / "
                        "KeReleaseGuardedMutex (Wine 8): create correctly answered "
                        "STATUS_NOT_SUPPORTED and the driver loaded; the host tests cover "
                        "guarded mutexes");
    }
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, Status);
    Status = WDKM_GUARDED_MUTEX_ACQUIRE(Mutex, &Data);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status);
    if (WDKM_ACQUIRED(Status)) {
        WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmGuardedMutexRelease(Mutex));
    }
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmGuardedMutexDestroy(Mutex));
}

/* ------------------------------------------------------------------------
 * Readers overlap under a real ERESOURCE.
 */

typedef struct _OVERLAP {
    PWDKM_RESOURCE Resource;
    LONG volatile Inside;
    LONG volatile MaxInside;
    LONG volatile Errors;
} OVERLAP;

static VOID
ReadTogether(_In_ PWDKM_TEST_THREAD Thread)
{
    OVERLAP *Overlap = (OVERLAP *)Thread->Context;
    const COUNTER *Read;
    ULONG Waited;
    LONG Now;

    if (!WDKM_ACQUIRED(WDKM_RESOURCE_ACQUIRE_SHARED(Overlap->Resource, &Read))) {
        InterlockedIncrement(&Overlap->Errors);
        return;
    }
    Now = InterlockedIncrement(&Overlap->Inside);
    for (Waited = 0; Now < 2 && Waited < 5000; Waited += 5) {
        WdkmTestSleep(5);
        Now = InterlockedCompareExchange(&Overlap->Inside, 0, 0);
    }
    if (Now > InterlockedCompareExchange(&Overlap->MaxInside, 0, 0)) {
        InterlockedExchange(&Overlap->MaxInside, Now);
    }
    WdkmTestSleep(10);
    InterlockedDecrement(&Overlap->Inside);
    if (WdkmResourceRelease(Overlap->Resource) != STATUS_SUCCESS) {
        InterlockedIncrement(&Overlap->Errors);
    }
}

VOID
WdkmTestResourceReadersOverlap(_Inout_ PWDKM_TEST Test)
{
    OVERLAP Overlap;

    RtlZeroMemory(&Overlap, sizeof(Overlap));
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_RESOURCE_CREATE(&Zero, &Overlap.Resource));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmTestRunThreads(2, ReadTogether, &Overlap, 30000));
    WDKM_EXPECT_EQ(Test, Overlap.Errors, 0);
    WDKM_EXPECT_EQ(Test, Overlap.MaxInside, 2);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmResourceDestroy(Overlap.Resource));
}

/* ------------------------------------------------------------------------
 * A timer DPC takes the spin lock (Wine runs timer DPCs on a thread).
 */

typedef struct _DPC_STATE {
    PWDKM_SPIN_LOCK Lock;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    KEVENT Done;
    NTSTATUS Status;
    NTSTATUS AtDpcLevel;          /* the AtDpcLevel forms, in the same DPC */
    NTSTATUS QueuedAtDpcLevel;
} DPC_STATE;

static NTSTATUS
WdkmpQueuedInDpc(_Inout_ PWDKM_QUEUED_SPIN_LOCK Queued)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    COUNTER *Data;
    NTSTATUS Status;

    Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Queued, &Handle, &Data);
    if (WDKM_ACQUIRED(Status)) {
        Data->Value += 1;
        Status = WdkmQueuedSpinLockRelease(&Handle);
    }
    return Status;
}

static VOID NTAPI
CountInDpc(_In_ PKDPC Dpc, _In_opt_ PVOID Context, _In_opt_ PVOID Argument1,
           _In_opt_ PVOID Argument2)
{
    DPC_STATE *State = (DPC_STATE *)Context;
    COUNTER *Data;
    NTSTATUS Status;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    /* The raising form: right at DISPATCH_LEVEL and below. */
    Status = WDKM_SPIN_LOCK_ACQUIRE(State->Lock, &OldIrql, &Data);
    if (WDKM_ACQUIRED(Status)) {
        Data->Value += 1;
        Status = WdkmSpinLockRelease(State->Lock, OldIrql);
    }
    State->Status = Status;
    /* The AtDpcLevel forms, a DPC's own: Wine's DPCs report PASSIVE_LEVEL,
       and the library, having found that the IRQL cannot be raised there,
       does not refuse them for it. */
    Status = WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(State->Lock, &Data);
    if (WDKM_ACQUIRED(Status)) {
        Data->Value += 1;
        Status = WdkmSpinLockReleaseFromDpcLevel(State->Lock);
    }
    State->AtDpcLevel = Status;
    State->QueuedAtDpcLevel = WdkmpQueuedInDpc(State->Queued);
    (VOID)KeSetEvent(&State->Done, 0, FALSE);
}

VOID
WdkmTestSpinLockTimerDpc(_Inout_ PWDKM_TEST Test)
{
    DPC_STATE State;
    LARGE_INTEGER DueTime;
    LARGE_INTEGER Limit;
    KTIMER Timer;
    KDPC Dpc;
    COUNTER Out;
    NTSTATUS Wait;

    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_SPIN_LOCK_CREATE(&Zero, &State.Lock));
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_QUEUED_SPIN_LOCK_CREATE(&Zero, &State.Queued));
    State.Status = STATUS_PENDING;
    State.AtDpcLevel = STATUS_PENDING;
    State.QueuedAtDpcLevel = STATUS_PENDING;
    KeInitializeEvent(&State.Done, NotificationEvent, FALSE);
    KeInitializeDpc(&Dpc, CountInDpc, &State);
    KeInitializeTimer(&Timer);
    DueTime.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(10);
    (VOID)KeSetTimer(&Timer, DueTime, &Dpc);
    Limit.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(10000);
    Wait = KeWaitForSingleObject(&State.Done, Executive, KernelMode, FALSE, &Limit);
    if (Wait != STATUS_SUCCESS) {
        (VOID)KeCancelTimer(&Timer);
        KeFlushQueuedDpcs();
    }
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Wait);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, State.Status);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, State.AtDpcLevel);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, State.QueuedAtDpcLevel);
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_SPIN_LOCK_TAKE(State.Lock, &Out));
    WDKM_EXPECT_EQ(Test, Out.Value, 2);
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WDKM_QUEUED_SPIN_LOCK_TAKE(State.Queued, &Out));
    WDKM_EXPECT_EQ(Test, Out.Value, 1);
}

/* ------------------------------------------------------------------------
 * A LIST_ENTRY head created in place, records linked under the lock, the
 * rest drained at destroy.
 */

#define WDKM_TEST_RECORD_TAG 'ceRT'

typedef struct _RECORD_LIST {
    LIST_ENTRY Head;
    ULONG Count;
} RECORD_LIST;

typedef struct _RECORD {
    LIST_ENTRY Link;
    ULONG Number;
} RECORD;

typedef struct _DRAINED {
    ULONG Records;
    ULONG NumberSum;
} DRAINED;

static NTSTATUS
InitializeRecordList(_Out_ PVOID Value, _In_opt_ PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    InitializeListHead(&((RECORD_LIST *)Value)->Head);
    return STATUS_SUCCESS;
}

static VOID
DrainRecordList(_Inout_ PVOID Value, _In_opt_ PVOID Context)
{
    RECORD_LIST *List = (RECORD_LIST *)Value;
    DRAINED *Drained = (DRAINED *)Context;

    while (!IsListEmpty(&List->Head)) {
        RECORD *Record = CONTAINING_RECORD(RemoveHeadList(&List->Head), RECORD, Link);
        Drained->Records += 1;
        Drained->NumberSum += Record->Number;
        ExFreePoolWithTag(Record, WDKM_TEST_RECORD_TAG);
    }
}

VOID
WdkmTestInPlaceList(_Inout_ PWDKM_TEST Test)
{
    PWDKM_SPIN_LOCK Lock;
    RECORD_LIST *List;
    RECORD *Record;
    DRAINED Drained = { 0, 0 };
    KIRQL OldIrql;
    ULONG Number;
    BOOLEAN Empty = FALSE;

    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS,
                      WDKM_SPIN_LOCK_CREATE_IN_PLACE(RECORD_LIST, InitializeRecordList, NULL,
                                                     &Lock));
    if (WDKM_ACQUIRED(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &List))) {
        Empty = IsListEmpty(&List->Head);
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    }
    WDKM_EXPECT(Test, Empty);
    for (Number = 1; Number <= 3; Number += 1) {
        Record = (RECORD *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Record),
                                                 WDKM_TEST_RECORD_TAG);
        if (Record == NULL) {
            continue;
        }
        Record->Number = Number;
        if (WDKM_ACQUIRED(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &List))) {
            InsertTailList(&List->Head, &Record->Link);
            List->Count += 1;
            (VOID)WdkmSpinLockRelease(Lock, OldIrql);
        } else {
            ExFreePoolWithTag(Record, WDKM_TEST_RECORD_TAG);
        }
    }
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS,
                       WDKM_SPIN_LOCK_DESTROY_WITH(Lock, RECORD_LIST, DrainRecordList, &Drained));
    WDKM_EXPECT_EQ(Test, Drained.Records, 3);
    WDKM_EXPECT_EQ(Test, Drained.NumberSum, 6);
}

/* ------------------------------------------------------------------------
 * Regions and the registry.
 */

/*
 * Leaves a region never entered and one twice, on purpose, to see them
 * refused: clang's analysis would reject both, so it is off here.
 */
WDKM_NO_THREAD_SAFETY_ANALYSIS
VOID
WdkmTestRegions(_Inout_ PWDKM_TEST Test)
{
    WDKM_REGION Outer;
    WDKM_REGION Inner;
    WDKM_REGION Never;
    NTSTATUS Status;
    ULONG Runs = 0;

    RtlZeroMemory(&Never, sizeof(Never));
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_NOT_HELD, WdkmRegionLeave(&Never));
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WdkmRegionEnterCritical(&Outer));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmRegionEnterGuarded(&Inner));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmRegionLeave(&Inner));
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_NOT_HELD, WdkmRegionLeave(&Inner));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmRegionLeave(&Outer));
    WDKM_CRITICAL_REGION_SCOPED(&Status) {
        Runs += 1;
    }
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status);
    WDKM_EXPECT_EQ(Test, Runs, 1);
}

VOID
WdkmTestRegistryEveryKind(_Inout_ PWDKM_TEST Test)
{
    static const WDKM_LOCK_KIND Kinds[] = {
        WdkmLockKindSpinLock, WdkmLockKindResource, WdkmLockKindPushLock,
    };
    static const PCSTR Names[] = { "spin", "resource", "push" };
    WDKM_GRT_REPORT Report;
    COUNTER *Data;
    NTSTATUS Status;
    ULONG Index;
    ULONG Registered = 0;

    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WdkmGrtInitialize());
    for (Index = 0; Index < sizeof(Kinds) / sizeof(Kinds[0]); Index += 1) {
        Status = WDKM_GRT_REGISTER(Names[Index], Kinds[Index], &Zero);
        if (Status == STATUS_NOT_SUPPORTED && Kinds[Index] == WdkmLockKindPushLock) {
            continue;        /* a kernel without push locks: covered above */
        }
        if (!WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status)) {
            continue;
        }
        Registered += 1;
        WDKM_GRT_SCOPED(Names[Index], Kinds[Index], Data, &Status) {
            Data->Value += 1;
        }
        WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status);
    }
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmGrtDestroy(NULL, &Report));
    WDKM_EXPECT_EQ(Test, Report.Freed, Registered);
}
