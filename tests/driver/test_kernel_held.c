/*
 * test_kernel_held.c - Destroy, Take and DestroyWith refuse a lock whose
 * kernel object is held, on this kernel's own encodings.
 *
 * A DPC or special kernel APC on a holder's thread may call a teardown
 * between the kernel's grant and the library's record of the owner, or
 * between the record's end and the kernel's release; there the library's
 * records say free and only the kernel object says held (reference.md,
 * "Where ownership ends"). DPCs and APCs cannot be landed in those
 * instants here (Wine runs neither on a driver's threads), but the state
 * they would see can be made exactly: the kernel object held through the
 * port's own calls, the library's records empty. Every teardown must then
 * answer STATUS_WDKM_LOCK_HELD and free nothing. That checks the port's
 * reading of each object on this kernel (Wine 8 counts a FAST_MUTEX down
 * from 1 where NT keeps a free bit), which the host tests cannot.
 */
#include "wdkm_test.h"
#include "wdkm_test_kinds.h"

#include <wdkmutex/wdkmutex.h>
/* The kernel objects inside the locks: the blocks' private layout, with the
   checked build's diagnostics record it ends with (this driver links the
   checked library). */
#include "../../port/wdkm_port.h"
#include "../../src/wdkm_diag_hooks.h"
#include <wdkmutex/wdkm_layout.h>

typedef struct _VALUE {
    LONG Value;
    LONG Spare;
} VALUE;

static const VALUE Initial = { 7, 0 };

/* One kind: create it, hold and let go of its kernel object alone, and
   its three teardowns. */
typedef struct _HELD_KIND {
    PCSTR Name;
    WDKM_LOCK_KIND Kind;            /* its teardowns: WdkmTestKind* (wdkm_test_kinds.h) */
    NTSTATUS (*Create)(_Out_ PVOID *Lock);
    VOID (*HoldKernel)(_Inout_ PVOID Lock);
    VOID (*ReleaseKernel)(_Inout_ PVOID Lock);
} HELD_KIND;

static VOID
CountDrain(_Inout_ PVOID Value, _In_opt_ PVOID Context)
{
    UNREFERENCED_PARAMETER(Value);
    InterlockedIncrement((LONG volatile *)Context);
}

/* KMUTEX: a wait grants it (SignalState 0), a release frees it. */
static NTSTATUS KMutexCreate(_Out_ PVOID *Lock)
{
    return WDKM_KMUTEX_CREATE(&Initial, (PWDKM_KMUTEX *)Lock);
}
static VOID KMutexHold(_Inout_ PVOID Lock)
{
    (VOID)WdkmpKMutexWait(&((PWDKM_KMUTEX)Lock)->Mutex, KernelMode, FALSE, NULL);
}
static VOID KMutexRelease(_Inout_ PVOID Lock)
{
    WdkmpKMutexRelease(&((PWDKM_KMUTEX)Lock)->Mutex);
}

/* FAST_MUTEX: its Count word, NT's free bit or Wine's count. */
static NTSTATUS FastMutexCreate(_Out_ PVOID *Lock)
{
    return WDKM_FAST_MUTEX_CREATE(&Initial, (PWDKM_FAST_MUTEX *)Lock);
}
static VOID FastMutexHold(_Inout_ PVOID Lock)
{
    WdkmpFastMutexAcquire(&((PWDKM_FAST_MUTEX)Lock)->FastMutex);
}
static VOID FastMutexRelease(_Inout_ PVOID Lock)
{
    WdkmpFastMutexRelease(&((PWDKM_FAST_MUTEX)Lock)->FastMutex);
}

/* KGUARDED_MUTEX: the same Count layout as a FAST_MUTEX. */
static NTSTATUS GuardedMutexCreate(_Out_ PVOID *Lock)
{
    return WDKM_GUARDED_MUTEX_CREATE(&Initial, (PWDKM_GUARDED_MUTEX *)Lock);
}
static VOID GuardedMutexHold(_Inout_ PVOID Lock)
{
    WdkmpGuardedMutexAcquire(&((PWDKM_GUARDED_MUTEX)Lock)->Mutex);
}
static VOID GuardedMutexRelease(_Inout_ PVOID Lock)
{
    WdkmpGuardedMutexRelease(&((PWDKM_GUARDED_MUTEX)Lock)->Mutex);
}

/* ERESOURCE, held exclusive and shared in turn (HoldShared): the kernel's
   count of the caller's acquisitions. Acquired in a critical region, as
   the kernel requires. */
static BOOLEAN HoldShared;

static NTSTATUS ResourceCreate(_Out_ PVOID *Lock)
{
    return WDKM_RESOURCE_CREATE(&Initial, (PWDKM_RESOURCE *)Lock);
}
static VOID ResourceHold(_Inout_ PVOID Lock)
{
    KeEnterCriticalRegion();
    (VOID)WdkmpResourceAcquire(&((PWDKM_RESOURCE)Lock)->Resource, !HoldShared, TRUE);
}
static VOID ResourceRelease(_Inout_ PVOID Lock)
{
    WdkmpResourceRelease(&((PWDKM_RESOURCE)Lock)->Resource);
    KeLeaveCriticalRegion();
}

/* Push lock: its word's bit 0, exclusive (or shared, HoldShared). */
static NTSTATUS PushLockCreate(_Out_ PVOID *Lock)
{
    return WDKM_PUSH_LOCK_CREATE(&Initial, (PWDKM_PUSH_LOCK *)Lock);
}
static VOID PushLockHold(_Inout_ PVOID Lock)
{
    KeEnterCriticalRegion();
    WdkmpPushLockAcquire(&((PWDKM_PUSH_LOCK)Lock)->PushLock, !HoldShared);
}
static VOID PushLockRelease(_Inout_ PVOID Lock)
{
    WdkmpPushLockRelease(&((PWDKM_PUSH_LOCK)Lock)->PushLock, !HoldShared);
    KeLeaveCriticalRegion();
}

static const HELD_KIND HeldKinds[] = {
    { "KMUTEX", WdkmLockKindKMutex, KMutexCreate, KMutexHold, KMutexRelease },
    { "FAST_MUTEX", WdkmLockKindFastMutex, FastMutexCreate, FastMutexHold, FastMutexRelease },
    { "KGUARDED_MUTEX", WdkmLockKindGuardedMutex, GuardedMutexCreate, GuardedMutexHold,
      GuardedMutexRelease },
    { "ERESOURCE", WdkmLockKindResource, ResourceCreate, ResourceHold, ResourceRelease },
    { "push lock", WdkmLockKindPushLock, PushLockCreate, PushLockHold, PushLockRelease },
};

static LONG
LibraryBlocks(VOID)
{
    WDKM_POOL_STATISTICS Statistics;

    WdkmQueryPoolStatistics(&Statistics);
    return Statistics.OutstandingBlocks;
}

/*
 * A hold of the kernel object alone, with a waiter queued behind it if
 * asked: the holder (thread 0) makes the teardowns while the waiter
 * (thread 1) is blocked in the kernel's acquire, where a FAST_MUTEX's
 * count on Wine goes below zero.
 */
typedef struct _HELD_RUN {
    PWDKM_TEST Test;
    const HELD_KIND *Kind;
    PVOID Lock;
    LONG volatile Held;             /* the holder has the kernel object */
    LONG volatile Waiting;          /* the waiter is about to block */
    LONG Drains;
    VALUE Taken;
    NTSTATUS Statuses[3];           /* Destroy, Take, DestroyWith */
    LONG BlocksBefore;
    LONG BlocksDuring;
} HELD_RUN;

static VOID
HoldAndTearDown(_Inout_ HELD_RUN *Run, _In_ BOOLEAN WithWaiter)
{
    Run->Kind->HoldKernel(Run->Lock);
    InterlockedExchange(&Run->Held, 1);
    if (WithWaiter) {
        while (InterlockedCompareExchange(&Run->Waiting, 0, 0) == 0) {
            WdkmTestSleep(1);
        }
        WdkmTestSleep(100);         /* the waiter is in the kernel's wait now */
    }
    Run->Statuses[0] = WdkmTestKindDestroy(Run->Kind->Kind, Run->Lock);
    Run->Statuses[1] = WdkmTestKindTake(Run->Kind->Kind, Run->Lock, sizeof(Run->Taken),
                                        &Run->Taken);
    Run->Statuses[2] = WdkmTestKindDestroyWith(Run->Kind->Kind, Run->Lock, sizeof(VALUE),
                                               CountDrain, &Run->Drains);
    Run->BlocksDuring = LibraryBlocks();
    Run->Kind->ReleaseKernel(Run->Lock);
}

static VOID
HeldRunThread(_In_ PWDKM_TEST_THREAD Thread)
{
    HELD_RUN *Run = (HELD_RUN *)Thread->Context;

    if (Thread->Index == 0) {
        HoldAndTearDown(Run, TRUE);
        return;
    }
    while (InterlockedCompareExchange(&Run->Held, 0, 0) == 0) {
        WdkmTestSleep(1);
    }
    InterlockedExchange(&Run->Waiting, 1);
    Run->Kind->HoldKernel(Run->Lock);
    Run->Kind->ReleaseKernel(Run->Lock);
}

/*
 * One kind, one way of holding: every teardown refused while the kernel
 * object is held (nothing freed, the value untouched, no drain), and a
 * teardown going through once it is free. FALSE if the kernel lacks the
 * kind (its create said STATUS_NOT_SUPPORTED and made nothing).
 */
static BOOLEAN
TeardownsRefusedWhileKernelHolds(_Inout_ PWDKM_TEST Test, _In_ const HELD_KIND *Kind,
                                 _In_ BOOLEAN WithWaiter)
{
    HELD_RUN Run;
    ULONG Index;
    NTSTATUS Status;

    WdkmTestLog(Test, "%s, kernel object held %s%s", Kind->Name,
                HoldShared ? "shared" : "exclusive", WithWaiter ? ", a waiter queued" : "");
    RtlZeroMemory(&Run, sizeof(Run));
    Run.Test = Test;
    Run.Kind = Kind;
    Status = Kind->Create(&Run.Lock);
    if (Status == STATUS_NOT_SUPPORTED) {
        WDKM_EXPECT_NULL(Test, Run.Lock);
        return FALSE;
    }
    if (!WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS, Status)) {
        return TRUE;
    }
    Run.BlocksBefore = LibraryBlocks();
    if (WithWaiter) {
        if (!WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS,
                                WdkmTestRunThreads(2, HeldRunThread, &Run, 10000))) {
            return TRUE;            /* the lock is left: a stuck waiter may still use it */
        }
    } else {
        HoldAndTearDown(&Run, FALSE);
    }
    for (Index = 0; Index < 3; Index += 1) {
        WDKM_EXPECT_STATUS(Test, STATUS_WDKM_LOCK_HELD, Run.Statuses[Index]);
    }
    WDKM_EXPECT_EQ(Test, Run.BlocksDuring, Run.BlocksBefore);
    WDKM_EXPECT_EQ(Test, Run.Drains, 0);
    WDKM_EXPECT_EQ(Test, Run.Taken.Value, 0);

    /* Free in the kernel's eyes too: the teardown goes through. */
    WDKM_EXPECT_STATUS(Test, STATUS_SUCCESS,
                       WdkmTestKindTake(Kind->Kind, Run.Lock, sizeof(Run.Taken), &Run.Taken));
    WDKM_EXPECT_EQ(Test, Run.Taken.Value, Initial.Value);
    WDKM_EXPECT_EQ(Test, LibraryBlocks(), Run.BlocksBefore - 1);
    return TRUE;
}

VOID
WdkmTestTeardownAsksKernelObject(_Inout_ PWDKM_TEST Test)
{
    ULONG Index;
    ULONG Missing = 0;
    BOOLEAN ReaderWriter;

    for (Index = 0; Index < sizeof(HeldKinds) / sizeof(HeldKinds[0]); Index += 1) {
        HoldShared = FALSE;
        if (!TeardownsRefusedWhileKernelHolds(Test, &HeldKinds[Index], FALSE)) {
            Missing += 1;
            continue;
        }
        (VOID)TeardownsRefusedWhileKernelHolds(Test, &HeldKinds[Index], TRUE);
        ReaderWriter = (BOOLEAN)(HeldKinds[Index].HoldKernel == ResourceHold ||
                                 HeldKinds[Index].HoldKernel == PushLockHold);
        if (ReaderWriter) {
            HoldShared = TRUE;      /* held shared; the waiter shares it, none waits */
            (VOID)TeardownsRefusedWhileKernelHolds(Test, &HeldKinds[Index], FALSE);
            HoldShared = FALSE;
        }
    }
    if (Missing != 0) {
        WDKM_SKIP(Test, "%lu of the five kinds are missing on this kernel (Wine 8: "
                        "KGUARDED_MUTEX and push locks): their creates correctly answered "
                        "STATUS_NOT_SUPPORTED; the others were checked here, all five by the "
                        "host tests", (unsigned long)Missing);
    }
}
