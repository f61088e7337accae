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

/* ------------------------------------------------------------------------
 * Writers from several threads (issue 15, item 14): Wine 8 does not hand a
 * contended KMUTEX to its waiter while the releasing thread lives, so with
 * a KMUTEX as the registry's writer lock, concurrent registrations left it
 * with the last thread that took it, and a later Register from another
 * thread, or Destroy at unload, waited for ever.
 */

typedef struct _WRITERS {
    KEVENT Finish;
    LONG volatile Finished;
    LONG volatile Registered;
    LONG volatile Unexpected;
} WRITERS;

#define WRITERS_THREADS 4
#define WRITERS_NAMES   16

/* Registers its names, then stays alive until told (Wine hands the KMUTEX
   on when its last owner exits). */
static VOID
RegisterAndStay(_In_ PVOID Context)
{
    WRITERS *Writers = (WRITERS *)Context;
    LARGE_INTEGER Limit;
    CHAR Name[16];
    ULONG Index;
    LONG Self = InterlockedIncrement(&Writers->Finished) - 1;   /* numbers the threads 0..3 */
    NTSTATUS Status;

    for (Index = 0; Index < WRITERS_NAMES; Index += 1) {
        /* "w<thread><index>": distinct names, no C runtime needed. */
        Name[0] = 'w';
        Name[1] = (CHAR)('a' + Self);
        Name[2] = (CHAR)('a' + Index);
        Name[3] = '\0';
        Status = WDKM_GRT_REGISTER_KMUTEX(Name, &Zero);
        if (Status == STATUS_SUCCESS) {
            InterlockedIncrement(&Writers->Registered);
            if ((Index & 1) != 0 && WdkmGrtUnregister(Name) != STATUS_SUCCESS) {
                InterlockedIncrement(&Writers->Unexpected);
            }
        } else {
            InterlockedIncrement(&Writers->Unexpected);
        }
    }
    InterlockedIncrement(&Writers->Finished);
    Limit.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(30000);
    (VOID)KeWaitForSingleObject(&Writers->Finish, Executive, KernelMode, FALSE, &Limit);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static VOID
RegisterLate(_In_ PWDKM_TEST_THREAD Thread)
{
    WRITERS *Writers = (WRITERS *)Thread->Context;

    if (WDKM_GRT_REGISTER_KMUTEX("late", &Zero) == STATUS_SUCCESS) {
        InterlockedIncrement(&Writers->Registered);
    } else {
        InterlockedIncrement(&Writers->Unexpected);
    }
}

VOID
WdkmTestGrtConcurrentWriters(_Inout_ PWDKM_TEST Test)
{
    PKTHREAD Threads[WRITERS_THREADS] = { NULL, NULL, NULL, NULL };
    WDKM_GRT_REPORT Report;
    WRITERS Writers;
    LARGE_INTEGER Limit;
    HANDLE Handle;
    NTSTATUS Status;
    LONG Before = LibraryBlocks();
    ULONG Index;
    ULONG Waited;

    KeInitializeEvent(&Writers.Finish, NotificationEvent, FALSE);
    Writers.Finished = 0;
    Writers.Registered = 0;
    Writers.Unexpected = 0;
    WDKM_CHECK_STATUS(Test, STATUS_SUCCESS, WdkmGrtInitialize());
    for (Index = 0; Index < WRITERS_THREADS; Index += 1) {
        Status = PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                      RegisterAndStay, &Writers);
        if (!WDKM_EXPECT_SUCCESS(Test, Status)) {
            break;
        }
        Status = ObReferenceObjectByHandle(Handle, THREAD_ALL_ACCESS, NULL, KernelMode,
                                           (PVOID *)&Threads[Index], NULL);
        ZwClose(Handle);
        WDKM_EXPECT_SUCCESS(Test, Status);
    }
    /* Each thread counts once when it starts and once when it is done. */
    for (Waited = 0; Waited < 20000 && Writers.Finished < 2 * (LONG)Index; Waited += 10) {
        WdkmTestSleep(10);
    }
    WDKM_EXPECT_EQ(Test, Writers.Finished, 2 * WRITERS_THREADS);
    WDKM_EXPECT_EQ(Test, Writers.Registered, WRITERS_THREADS * WRITERS_NAMES);

    /* The writers still live: a Register from another thread, then Destroy
       from this one. */
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, WdkmTestRunThreads(1, RegisterLate, &Writers, 10000));
    WDKM_EXPECT_EQ(Test, Writers.Registered, WRITERS_THREADS * WRITERS_NAMES + 1);
    WDKM_EXPECT_EQ(Test, Writers.Unexpected, 0);
    Status = DestroyWithin(10000, &Report);
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status);
    if (Status == STATUS_SUCCESS) {
        WDKM_EXPECT_EQ(Test, Report.Freed, WRITERS_THREADS * WRITERS_NAMES / 2 + 1);
        WDKM_EXPECT_EQ(Test, Report.StillReferenced, 0);
        WDKM_EXPECT_EQ(Test, LibraryBlocks(), Before);
    }

    (VOID)KeSetEvent(&Writers.Finish, 0, FALSE);
    for (Index = 0; Index < WRITERS_THREADS; Index += 1) {
        if (Threads[Index] != NULL) {
            Limit.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(20000);
            WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS,
                               KeWaitForSingleObject(Threads[Index], Executive, KernelMode,
                                                     FALSE, &Limit));
            ObDereferenceObject(Threads[Index]);
        }
    }
}
