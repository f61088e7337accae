/*
 * test_grt.c - the registry inside a real driver: the crate's scenario with
 * system threads, lookups from a work item and from the IOCTL path, and
 * teardown while threads are still using it.
 */
#include "wdkm_test.h"

#include <wdkmutex/wdkmutex.h>

typedef struct _COUNTER {
    LONG Value;
    LONG Spare;
} COUNTER;

static const COUNTER Zero = { 0, 0 };

static LONG
LibraryBlocks(VOID)
{
    WDKM_POOL_STATISTICS Statistics;

    WdkmQueryPoolStatistics(&Statistics);
    return Statistics.OutstandingBlocks;
}

static NTSTATUS
DestroyWithin(_In_ LONG Milliseconds, _Out_ PWDKM_GRT_REPORT Report)
{
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Milliseconds);
    return WdkmGrtDestroy(&Timeout, Report);
}

/* Reads a registered counter by name. */
static LONG
ValueOf(_In_ PCSTR Name, _In_ WDKM_LOCK_KIND Kind)
{
    COUNTER *Data;
    NTSTATUS Status;
    LONG Value = -1;

    if (Kind == WdkmLockKindKMutex) {
        WDKM_GRT_KMUTEX_SCOPED(Name, Data, &Status) {
            Value = Data->Value;
        }
    } else {
        WDKM_GRT_FAST_MUTEX_SCOPED(Name, Data, &Status) {
            Value = Data->Value;
        }
    }
    return NT_SUCCESS(Status) ? Value : -1;
}

/* ------------------------------------------------------------------------
 * The crate's scenario.
 */

typedef struct _CRATE_RUN {
    LONG volatile Errors;
} CRATE_RUN;

static VOID
CrateWorker(_In_ PWDKM_TEST_THREAD Thread)
{
    CRATE_RUN *Run = (CRATE_RUN *)Thread->Context;
    PWDKM_KMUTEX Mutex = NULL;
    PWDKM_FAST_MUTEX FastMutex = NULL;
    COUNTER *Data;
    ULONG Iteration;

    if (WDKM_GRT_GET_KMUTEX("kmutex", COUNTER, &Mutex) != STATUS_SUCCESS ||
        WDKM_GRT_GET_FAST_MUTEX("fast_mutex", COUNTER, &FastMutex) != STATUS_SUCCESS) {
        InterlockedIncrement(&Run->Errors);
    } else {
        for (Iteration = 0; Iteration < 500 && !WdkmTestThreadShouldStop(Thread);
             Iteration += 1) {
            if (WDKM_ACQUIRED(WDKM_KMUTEX_ACQUIRE(Mutex, &Data))) {
                Data->Value += 1;
                (VOID)WdkmKMutexRelease(Mutex);
            } else {
                InterlockedIncrement(&Run->Errors);
            }
            if (WDKM_ACQUIRED(WDKM_FAST_MUTEX_ACQUIRE(FastMutex, &Data))) {
                Data->Value += 1;
                (VOID)WdkmFastMutexRelease(FastMutex);
            } else {
                InterlockedIncrement(&Run->Errors);
            }
        }
    }
    if (Mutex != NULL) {
        (VOID)WdkmGrtDereference(Mutex);
    }
    if (FastMutex != NULL) {
        (VOID)WdkmGrtDereference(FastMutex);
    }
}

VOID
WdkmTestGrtCrateScenario(_Inout_ PWDKM_TEST Test)
{
    WDKM_GRT_REPORT Report;
    CRATE_RUN Run;
    LONG Before = LibraryBlocks();
    ULONG Round;

    for (Round = 0; Round < 3; Round += 1) {
        Run.Errors = 0;
        WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WdkmGrtInitialize());
        WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_GRT_REGISTER_KMUTEX("kmutex", &Zero));
        WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_GRT_REGISTER_FAST_MUTEX("fast_mutex", &Zero));
        WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmTestRunThreads(3, CrateWorker, &Run, 60000));
        WDKM_EXPECT_EQ(Test, Run.Errors, 0);
        WDKM_EXPECT_EQ(Test, ValueOf("kmutex", WdkmLockKindKMutex), 1500);
        WDKM_EXPECT_EQ(Test, ValueOf("fast_mutex", WdkmLockKindFastMutex), 1500);
        WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, DestroyWithin(5000, &Report));
        WDKM_EXPECT_EQ(Test, Report.Freed, 2);
        WDKM_EXPECT_EQ(Test, Report.StillReferenced, 0);
    }
    WDKM_EXPECT_EQ(Test, LibraryBlocks(), Before);
}

/* ------------------------------------------------------------------------
 * A work item and the IOCTL path.
 */

typedef struct _WORK {
    KEVENT Done;
    NTSTATUS Status;
    LONG Seen;
} WORK;

static VOID NTAPI
WorkItemRoutine(_In_ PDEVICE_OBJECT DeviceObject, _In_opt_ PVOID Context)
{
    WORK *Work = (WORK *)Context;
    COUNTER *Data;

    UNREFERENCED_PARAMETER(DeviceObject);
    WDKM_GRT_KMUTEX_SCOPED("work", Data, &Work->Status) {
        Data->Value += 1;
        Work->Seen = Data->Value;
    }
    (VOID)KeSetEvent(&Work->Done, 0, FALSE);
}

VOID
WdkmTestGrtFromWorkItem(_Inout_ PWDKM_TEST Test)
{
    WDKM_GRT_REPORT Report;
    PIO_WORKITEM Item;
    LARGE_INTEGER Limit;
    WORK Work;
    ULONG Round;

    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WdkmGrtInitialize());
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_GRT_REGISTER_KMUTEX("work", &Zero));
    Item = IoAllocateWorkItem(WdkmTestDeviceObject());
    if (WDKM_EXPECT_NOT_NULL(Test, Item)) {
        for (Round = 1; Round <= 3; Round += 1) {
            KeInitializeEvent(&Work.Done, NotificationEvent, FALSE);
            Work.Status = STATUS_UNSUCCESSFUL;
            Work.Seen = 0;
            IoQueueWorkItem(Item, WorkItemRoutine, DelayedWorkQueue, &Work);
            Limit.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(10000);
            if (!WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS,
                                    KeWaitForSingleObject(&Work.Done, Executive, KernelMode,
                                                          FALSE, &Limit))) {
                break;      /* the item may still run: keep Work and Item alive */
            }
            WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Work.Status);
            WDKM_EXPECT_EQ(Test, Work.Seen, (LONG)Round);
        }
        IoFreeWorkItem(Item);
    }
    WDKM_EXPECT_EQ(Test, ValueOf("work", WdkmLockKindKMutex), 3);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, DestroyWithin(5000, &Report));
}

/* Tests run in the driver's IRP_MJ_DEVICE_CONTROL path: look up per request. */
VOID
WdkmTestGrtFromIoctlPath(_Inout_ PWDKM_TEST Test)
{
    WDKM_GRT_REPORT Report;
    COUNTER *Data;
    NTSTATUS Status;
    ULONG Request;

    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WdkmGrtInitialize());
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_GRT_REGISTER_FAST_MUTEX("ioctl", &Zero));
    for (Request = 0; Request < 1000; Request += 1) {
        WDKM_GRT_FAST_MUTEX_SCOPED("ioctl", Data, &Status) {
            Data->Value += 1;
        }
        if (!WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status)) {
            break;
        }
    }
    WDKM_EXPECT_EQ(Test, ValueOf("ioctl", WdkmLockKindFastMutex), 1000);
    WDKM_EXPECT_STATUS(Test, STATUS_OBJECT_NAME_NOT_FOUND,
                       WdkmGrtReference("nothing", WdkmLockKindFastMutex, sizeof(COUNTER),
                                        (PVOID *)&Data));
    WDKM_EXPECT_STATUS(Test, STATUS_WDKM_TYPE_MISMATCH,
                       WdkmGrtReference("ioctl", WdkmLockKindKMutex, sizeof(COUNTER),
                                        (PVOID *)&Data));
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, DestroyWithin(5000, &Report));
}

/* ------------------------------------------------------------------------
 * Teardown while threads still use the registry (the unload case).
 */

typedef struct _USERS {
    LONG volatile Started;
    LONG volatile Lookups;
    LONG volatile Unexpected;
} USERS;

static VOID
RegistryUser(_In_ PVOID Context)
{
    USERS *Users = (USERS *)Context;
    COUNTER *Data;
    NTSTATUS Status;

    InterlockedIncrement(&Users->Started);
    for (;;) {
        WDKM_GRT_KMUTEX_SCOPED("busy", Data, &Status) {
            Data->Value += 1;
        }
        if (Status == STATUS_DELETE_PENDING || Status == STATUS_WDKM_NOT_INITIALIZED) {
            break;                       /* the registry is going away: stop */
        }
        if (Status != STATUS_SUCCESS) {
            InterlockedIncrement(&Users->Unexpected);
            break;
        }
        InterlockedIncrement(&Users->Lookups);
    }
    PsTerminateSystemThread(STATUS_SUCCESS);
}

VOID
WdkmTestGrtDestroyWithThreadsRunning(_Inout_ PWDKM_TEST Test)
{
    PKTHREAD Threads[3] = { NULL, NULL, NULL };
    WDKM_GRT_REPORT Report;
    USERS Users = { 0, 0, 0 };
    LARGE_INTEGER Limit;
    HANDLE Handle;
    NTSTATUS Status;
    LONG Before = LibraryBlocks();
    ULONG Index;
    ULONG Waited;

    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WdkmGrtInitialize());
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WDKM_GRT_REGISTER_KMUTEX("busy", &Zero));
    for (Index = 0; Index < 3; Index += 1) {
        Status = PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                      RegistryUser, &Users);
        if (!WDKM_EXPECT_SUCCESS(Test, Status)) {
            break;
        }
        Status = ObReferenceObjectByHandle(Handle, THREAD_ALL_ACCESS, NULL, KernelMode,
                                           (PVOID *)&Threads[Index], NULL);
        ZwClose(Handle);
        WDKM_EXPECT_SUCCESS(Test, Status);
    }
    for (Waited = 0; Waited < 5000 && Users.Started < (LONG)Index; Waited += 10) {
        WdkmTestSleep(10);
    }
    WdkmTestSleep(50);                   /* let them work */

    /* Unload while they run: must wait for them, never free under them. */
    Status = DestroyWithin(20000, &Report);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status);
    WDKM_EXPECT_EQ(Test, Report.StillReferenced, 0);
    for (Index = 0; Index < 3; Index += 1) {
        if (Threads[Index] != NULL) {
            Limit.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(20000);
            WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS,
                               KeWaitForSingleObject(Threads[Index], Executive, KernelMode,
                                                     FALSE, &Limit));
            ObDereferenceObject(Threads[Index]);
        }
    }
    WDKM_EXPECT_EQ(Test, Users.Unexpected, 0);
    WDKM_EXPECT_GT(Test, Users.Lookups, 0);
    WDKM_EXPECT_EQ(Test, LibraryBlocks(), Before);
    WdkmTestLog(Test, "%ld lookups made before the registry went away", Users.Lookups);
}
