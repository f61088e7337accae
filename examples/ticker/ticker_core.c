/*
 * ticker_core.c - the ticker device's logic (see ticker_core.h for the
 * shape and the locks). No device object, work item or registry key here:
 * ticker_driver.c does the I/O plumbing, and the host test drives these
 * functions with the emulation's IRPs, timer DPC and injected DPCs/APCs.
 *
 * Who runs what, and at which IRQL:
 *   TkCoreDispatch  dispatch, PASSIVE: every IRP, completed before it
 *                   returns, inside one acquisition of TkRequests.
 *   TkCoreTick      the timer DPC, DISPATCH: reads the step, generates,
 *                   queues the work item if none is queued.
 *   TkCoreWork      the work item, PASSIVE: takes what is pending and
 *                   credits it to the listening handles under the
 *                   handles' ERESOURCE.
 *   TkCoreStop      the unload, PASSIVE.
 */
#include "ticker_core.h"

static TK_QUEUE_WORK *TkQueueWork;
static KTIMER TkTimer;
static KDPC TkTimerDpc;
/* One acquisition per IRP in TkCoreDispatch: the stop waits for them, and
   refuses IRPs from then on. */
static WDKM_RUNDOWN TkRequests;
/* One acquisition while a work item is queued or running (taken and given
   back under the counters lock, with WorkQueued): the stop waits for it
   to run dry. */
static WDKM_RUNDOWN TkWork;
/* Handles the handles list's drain freed at unload (TkHandlesDrain). */
static ULONG TkHandlesLeft;
/* 1 while a tick runs: a tick that finds one running is skipped (counted
   in TkOverruns). Wine 8 runs a periodic timer's DPC on thread-pool
   threads, a new one each period even while the last still runs; with
   spin locks held by preemptible threads (no IRQL is raised there) such
   ticks pile up spinning and starve the holder. */
static LONG volatile TkTickBusy;
static LONG volatile TkOverruns;

static KDEFERRED_ROUTINE TkTimerRoutine;

static NTSTATUS
TkHandlesInitialize(
    _Out_ PVOID Value,
    _In_opt_ PVOID Context
    )
{
    UNREFERENCED_PARAMETER(Context);
    InitializeListHead(&((TK_HANDLES *)Value)->Head);
    return STATUS_SUCCESS;
}

/*
 * The handles list's drain: the registry runs it when it frees the lock
 * (at unload, after the last reference), so a handle still open then - a
 * close Wine 8 never sent, or one still open on Windows when the driver
 * is stopped - is freed with it. Counts them in *Context. <= APC_LEVEL
 * (an ERESOURCE's drain).
 */
static VOID
TkHandlesDrain(
    _Inout_ PVOID Value,
    _In_opt_ PVOID Context
    )
{
    TK_HANDLES *Handles = (TK_HANDLES *)Value;

    while (!IsListEmpty(&Handles->Head)) {
        ExFreePoolWithTag(CONTAINING_RECORD(RemoveHeadList(&Handles->Head), TK_HANDLE, Link),
                          TICKER_TAG);
        *(ULONG *)Context += 1;
    }
}

/* Under the handles lock, shared or exclusive (a walk writes nothing). */
static TK_HANDLE *
TkFindHandle(
    _In_ const TK_HANDLES *Handles,
    _In_ PFILE_OBJECT FileObject
    )
{
    PLIST_ENTRY Entry;

    for (Entry = Handles->Head.Flink; Entry != &Handles->Head; Entry = Entry->Flink) {
        TK_HANDLE *Handle = CONTAINING_RECORD(Entry, TK_HANDLE, Link);

        if (Handle->FileObject == FileObject) {
            return Handle;
        }
    }
    return NULL;
}

/* --- the timer DPC and the work item ------------------------------------ */

_Use_decl_annotations_
VOID
TkCoreTick(VOID)
{
    PWDKM_SPIN_LOCK SettingLock;
    PWDKM_SPIN_LOCK CountersLock;
    TK_SETTING *Setting;
    TK_COUNTERS *Counters;
    BOOLEAN QueueWork = FALSE;
    ULONG Step;

    if (InterlockedCompareExchange(&TkTickBusy, 1, 0) != 0) {
        InterlockedIncrement(&TkOverruns);
        return;
    }
    /* Registered from TkCoreStart until TkCoreStop, which cancels the
       timer first: a miss means a tick after the stop (the host test's
       injected DPCs), which has nothing to do. */
    if (WDKM_GRT_GET_SPIN_LOCK(TK_SETTING_NAME, TK_SETTING, &SettingLock) !=
        STATUS_SUCCESS) {
        InterlockedExchange(&TkTickBusy, 0);
        return;
    }
    if (WDKM_GRT_GET_SPIN_LOCK(TK_COUNTERS_NAME, TK_COUNTERS, &CountersLock) != STATUS_SUCCESS) {
        (VOID)WdkmGrtDereference(SettingLock);
        InterlockedExchange(&TkTickBusy, 0);
        return;
    }
    /* A DPC has no status to give: the callback forms. DISPATCH_LEVEL on
       Windows; a reported PASSIVE_LEVEL under Wine 8, where the library
       lets the AtDpcLevel forms succeed. (A plain spin lock, not a queued
       one: under Wine 8 the queued kind, contended here by the DPC and the
       dispatch routines, ended with no holder and every taker spinning;
       README.md.) The setting stays held while the
       tick is counted (order: setting, then counters), so a tick is wholly
       before or wholly after an IOCTL_TICKER_SET_STEP: between two
       queries after it, Generated grows by exactly Step per tick. */
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(SettingLock, &Setting);
    Step = Setting->Step;
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(CountersLock, &Counters);
    Counters->Ticks += 1;
    if (!Counters->Stopping) {
        Counters->Generated += Step;
        Counters->Pending += Step;
        /* The rundown is refused only once the stop waits for the work
           item, which is after Stopping was set: not here. */
        if (Counters->Pending != 0 && !Counters->WorkQueued &&
            WdkmRundownAcquire(&TkWork) == STATUS_SUCCESS) {
            Counters->WorkQueued = TRUE;
            QueueWork = TRUE;
        }
    }
    (VOID)WdkmSpinLockReleaseFromDpcLevel(CountersLock);
    (VOID)WdkmSpinLockReleaseFromDpcLevel(SettingLock);
    (VOID)WdkmGrtDereference(CountersLock);
    (VOID)WdkmGrtDereference(SettingLock);
    InterlockedExchange(&TkTickBusy, 0);
    if (QueueWork) {
        TkQueueWork();
    }
}

/*
 * The periodic timer's DPC. The timer is set once, at start, and never
 * re-armed: Wine 8's KeSetTimer on a timer that was ever set cancels it
 * first and waits for its running DPC (examples/pollread found it).
 */
static VOID
TkTimerRoutine(
    _In_ PKDPC Dpc,
    _In_opt_ PVOID DeferredContext,
    _In_opt_ PVOID SystemArgument1,
    _In_opt_ PVOID SystemArgument2
    )
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    TkCoreTick();
}

_Use_decl_annotations_
VOID
TkCoreWork(VOID)
{
    PWDKM_SPIN_LOCK CountersLock;
    PWDKM_RESOURCE HandlesLock;
    TK_COUNTERS *Counters;
    TK_HANDLES *Handles;
    PLIST_ENTRY Entry;
    ULONG64 Units;
    KIRQL OldIrql;

    /* Both stay registered until the stop has waited for this routine. */
    if (WDKM_GRT_GET_SPIN_LOCK(TK_COUNTERS_NAME, TK_COUNTERS, &CountersLock) != STATUS_SUCCESS) {
        return;
    }
    if (WDKM_GRT_GET_RESOURCE(TK_HANDLES_NAME, TK_HANDLES, &HandlesLock) != STATUS_SUCCESS) {
        (VOID)WdkmGrtDereference(CountersLock);
        return;
    }
    for (;;) {
        /* A work item has no status to give: the callback forms. */
        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(CountersLock, &OldIrql, &Counters);
        Units = Counters->Pending;
        Counters->Pending = 0;
        Counters->Distributed += Units;
        if (Units == 0) {
            /* Dry: the next tick queues a new work item. The rundown is
               given back under the lock the DPC acquires it under. */
            if (Counters->WorkQueued) {
                Counters->WorkQueued = FALSE;
                (VOID)WdkmRundownRelease(&TkWork);
            }
            (VOID)WdkmSpinLockRelease(CountersLock, OldIrql);
            break;
        }
        Counters->WorkItems += 1;
        (VOID)WdkmSpinLockRelease(CountersLock, OldIrql);

        /* The PASSIVE_LEVEL bookkeeping: every listener hears the batch. */
        (VOID)WDKM_RESOURCE_ACQUIRE_EXCLUSIVE_OR_BUGCHECK(HandlesLock, &Handles);
        Handles->Booked += Units;
        {
            BOOLEAN Heard = FALSE;

            for (Entry = Handles->Head.Flink; Entry != &Handles->Head; Entry = Entry->Flink) {
                TK_HANDLE *Handle = CONTAINING_RECORD(Entry, TK_HANDLE, Link);

                if (Handle->Listening) {
                    Handle->Heard += Units;
                    Handles->Delivered += Units;
                    Heard = TRUE;
                }
            }
            if (!Heard) {
                Handles->Unheard += Units;
            }
        }
        (VOID)WdkmResourceRelease(HandlesLock);
    }
    (VOID)WdkmGrtDereference(HandlesLock);
    (VOID)WdkmGrtDereference(CountersLock);
}

/* --- the handles: create, cleanup, close --------------------------------- */

static NTSTATUS
TkOpen(
    _In_ PFILE_OBJECT FileObject
    )
{
    PWDKM_RESOURCE Lock;
    TK_HANDLES *Handles;
    TK_HANDLE *Handle;
    NTSTATUS Status;

    Handle = (TK_HANDLE *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Handle), TICKER_TAG);
    if (Handle == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    RtlZeroMemory(Handle, sizeof(*Handle));
    Handle->FileObject = FileObject;
    Status = WDKM_GRT_GET_RESOURCE(TK_HANDLES_NAME, TK_HANDLES, &Lock);
    if (Status != STATUS_SUCCESS) {
        ExFreePoolWithTag(Handle, TICKER_TAG);
        return Status;
    }
    Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Lock, &Handles);
    if (WDKM_ACQUIRED(Status)) {
        InsertTailList(&Handles->Head, &Handle->Link);   /* the lock's from now on */
        Handles->Count += 1;
        Handles->Opened += 1;
        (VOID)WdkmResourceRelease(Lock);
    } else {
        ExFreePoolWithTag(Handle, TICKER_TAG);
    }
    (VOID)WdkmGrtDereference(Lock);
    return Status;
}

/*
 * Tears the handle's context down: IRP_MJ_CLEANUP (the last handle to the
 * file object closed), or IRP_MJ_CLOSE when no cleanup came first (Wine 8
 * sends none). What it heard stays counted in HeardByClosed. Cannot fail
 * (neither IRP can), so the callback forms.
 */
static VOID
TkForget(
    _In_ PFILE_OBJECT FileObject,
    _In_ BOOLEAN Cleanup
    )
{
    PWDKM_RESOURCE Lock;
    TK_HANDLES *Handles;
    TK_HANDLE *Handle;

    Lock = WDKM_GRT_GET_RESOURCE_OR_BUGCHECK(TK_HANDLES_NAME, TK_HANDLES);
    (VOID)WDKM_RESOURCE_ACQUIRE_EXCLUSIVE_OR_BUGCHECK(Lock, &Handles);
    Handle = TkFindHandle(Handles, FileObject);
    if (Handle != NULL) {
        RemoveEntryList(&Handle->Link);                 /* ours again */
        Handles->Count -= 1;
        Handles->HeardByClosed += Handle->Heard;
        if (Cleanup) {
            Handles->CleanedUp += 1;
        } else {
            Handles->ClosedWithoutCleanup += 1;
        }
    }
    (VOID)WdkmResourceRelease(Lock);
    (VOID)WdkmGrtDereference(Lock);
    if (Handle != NULL) {
        ExFreePoolWithTag(Handle, TICKER_TAG);
    }
}

/* --- the IOCTLs ------------------------------------------------------------ */

static NTSTATUS
TkSetStep(
    _In_ ULONG Step,
    _Out_ ULONG *Previous
    )
{
    PWDKM_SPIN_LOCK Lock;
    TK_SETTING *Setting;
    KIRQL OldIrql;
    NTSTATUS Status;

    *Previous = 0;
    Status = WDKM_GRT_GET_SPIN_LOCK(TK_SETTING_NAME, TK_SETTING, &Lock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Setting);
    if (WDKM_ACQUIRED(Status)) {
        *Previous = Setting->Step;
        Setting->Step = Step;
        Setting->Changes += 1;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    }
    (VOID)WdkmGrtDereference(Lock);
    return Status;
}

static NTSTATUS
TkListen(
    _In_ PFILE_OBJECT FileObject,
    _In_ BOOLEAN Listening
    )
{
    PWDKM_RESOURCE Lock;
    TK_HANDLES *Handles;
    TK_HANDLE *Handle;
    NTSTATUS Status;

    Status = WDKM_GRT_GET_RESOURCE(TK_HANDLES_NAME, TK_HANDLES, &Lock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Lock, &Handles);
    if (WDKM_ACQUIRED(Status)) {
        Handle = TkFindHandle(Handles, FileObject);
        if (Handle != NULL) {
            Handle->Listening = Listening;
        } else {
            Status = STATUS_INVALID_HANDLE;   /* its context failed to be made */
        }
        (VOID)WdkmResourceRelease(Lock);
    }
    (VOID)WdkmGrtDereference(Lock);
    return Status;
}

/* The handles' part of a report, under their lock (either mode). */
static VOID
TkReadHandles(
    _In_ const TK_HANDLES *Handles,
    _In_ PFILE_OBJECT FileObject,
    _Inout_ TICKER_REPORT *Report
    )
{
    const TK_HANDLE *Mine = TkFindHandle(Handles, FileObject);
    PLIST_ENTRY Entry;

    Report->Booked = Handles->Booked;
    Report->Delivered = Handles->Delivered;
    Report->Unheard = Handles->Unheard;
    Report->HeardByClosed = Handles->HeardByClosed;
    Report->Handles = Handles->Count;
    for (Entry = Handles->Head.Flink; Entry != &Handles->Head; Entry = Entry->Flink) {
        Report->HeardByOpen += CONTAINING_RECORD(Entry, TK_HANDLE, Link)->Heard;
    }
    if (Mine != NULL) {
        Report->HandleHeard = Mine->Heard;
        Report->Listening = Mine->Listening ? 1 : 0;
    }
}

static NTSTATUS
TkQuery(
    _In_ PFILE_OBJECT FileObject,
    _Out_ TICKER_REPORT *Report
    )
{
    PWDKM_SPIN_LOCK SettingLock;
    PWDKM_SPIN_LOCK CountersLock;
    PWDKM_RESOURCE HandlesLock;
    WDKM_POOL_STATISTICS Pool;
    TK_SETTING *Setting;
    TK_COUNTERS *Counters;
    const TK_HANDLES *Handles;
    NTSTATUS Status;
    KIRQL OldIrql;

    RtlZeroMemory(Report, sizeof(*Report));
    Status = WDKM_GRT_GET_SPIN_LOCK(TK_SETTING_NAME, TK_SETTING, &SettingLock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(SettingLock, &OldIrql, &Setting);
    if (WDKM_ACQUIRED(Status)) {
        Report->Step = Setting->Step;
        Report->StepChanges = Setting->Changes;
        (VOID)WdkmSpinLockRelease(SettingLock, OldIrql);
    }
    (VOID)WdkmGrtDereference(SettingLock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }

    Status = WDKM_GRT_GET_SPIN_LOCK(TK_COUNTERS_NAME, TK_COUNTERS, &CountersLock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(CountersLock, &OldIrql, &Counters);
    if (WDKM_ACQUIRED(Status)) {
        Report->Ticks = Counters->Ticks;
        Report->Generated = Counters->Generated;
        Report->Pending = Counters->Pending;
        Report->Distributed = Counters->Distributed;
        Report->Requests = Counters->Requests;
        Report->WorkItems = Counters->WorkItems;
        (VOID)WdkmSpinLockRelease(CountersLock, OldIrql);
        Report->Overruns = (unsigned long)InterlockedCompareExchange(&TkOverruns, 0, 0);
    }
    (VOID)WdkmGrtDereference(CountersLock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }

    Status = WDKM_GRT_GET_RESOURCE(TK_HANDLES_NAME, TK_HANDLES, &HandlesLock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    /* Never a shared wait: under Wine 8 a thread waiting shared while
       another waits exclusive (the work item) can both sleep for ever on
       an ERESOURCE nobody holds (seen here: README.md). A shared try
       never waits; when it is busy, the query waits exclusive instead. */
    Status = WDKM_RESOURCE_TRY_ACQUIRE_SHARED(HandlesLock, &Handles);
    if (WDKM_ACQUIRED(Status)) {
        TkReadHandles(Handles, FileObject, Report);
        (VOID)WdkmResourceRelease(HandlesLock);
    } else if (Status == STATUS_TIMEOUT) {
        TK_HANDLES *Writable;

        Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(HandlesLock, &Writable);
        if (WDKM_ACQUIRED(Status)) {
            TkReadHandles(Writable, FileObject, Report);
            (VOID)WdkmResourceRelease(HandlesLock);
        }
    }
    (VOID)WdkmGrtDereference(HandlesLock);
    WdkmQueryPoolStatistics(&Pool);
    Report->PoolBlocksOutstanding = (long)Pool.OutstandingBlocks;
    return Status;
}

/* Counts one accepted IOCTL. */
static NTSTATUS
TkCountRequest(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    TK_COUNTERS *Counters;
    NTSTATUS Status;
    KIRQL OldIrql;

    Status = WDKM_GRT_GET_SPIN_LOCK(TK_COUNTERS_NAME, TK_COUNTERS, &Lock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Counters);
    if (WDKM_ACQUIRED(Status)) {
        Counters->Requests += 1;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    }
    (VOID)WdkmGrtDereference(Lock);
    return Status;
}

static NTSTATUS
TkDeviceControl(
    _Inout_ PIRP Irp,
    _Out_ ULONG_PTR *Information
    )
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG InLength = Stack->Parameters.DeviceIoControl.InputBufferLength;
    ULONG OutLength = Stack->Parameters.DeviceIoControl.OutputBufferLength;
    PVOID Buffer = Irp->AssociatedIrp.SystemBuffer;
    NTSTATUS Status;
    ULONG Previous;

    *Information = 0;
    Status = TkCountRequest();
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    switch (Stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_TICKER_SET_STEP:
        if (InLength < sizeof(ULONG)) {
            return STATUS_BUFFER_TOO_SMALL;
        }
        Status = TkSetStep(*(const ULONG *)Buffer, &Previous);
        if (Status == STATUS_SUCCESS && OutLength >= sizeof(ULONG)) {
            *(ULONG *)Buffer = Previous;    /* METHOD_BUFFERED: one buffer */
            *Information = sizeof(ULONG);
        }
        return Status;
    case IOCTL_TICKER_LISTEN:
        if (InLength < sizeof(ULONG)) {
            return STATUS_BUFFER_TOO_SMALL;
        }
        return TkListen(Stack->FileObject, *(const ULONG *)Buffer != 0);
    case IOCTL_TICKER_QUERY:
        if (OutLength < sizeof(TICKER_REPORT)) {
            return STATUS_BUFFER_TOO_SMALL;
        }
        Status = TkQuery(Stack->FileObject, (TICKER_REPORT *)Buffer);
        if (Status == STATUS_SUCCESS) {
            *Information = sizeof(TICKER_REPORT);
        }
        return Status;
    default:
        return STATUS_INVALID_DEVICE_REQUEST;
    }
}

_Use_decl_annotations_
NTSTATUS
TkCoreDispatch(
    PIRP Irp
    )
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG_PTR Information = 0;
    NTSTATUS Status;

    /* Held through the whole routine: the stop waits for it, and once the
       stop has begun every IRP is refused here (cleanup and close, which
       cannot fail, succeed: the drain frees their context). */
    if (WdkmRundownAcquire(&TkRequests) != STATUS_SUCCESS) {
        Status = (Stack->MajorFunction == IRP_MJ_CLEANUP || Stack->MajorFunction == IRP_MJ_CLOSE)
                     ? STATUS_SUCCESS : STATUS_DEVICE_NOT_READY;
        goto Complete;
    }
    switch (Stack->MajorFunction) {
    case IRP_MJ_CREATE:
        Status = TkOpen(Stack->FileObject);
        break;
    case IRP_MJ_CLEANUP:
        TkForget(Stack->FileObject, TRUE);
        Status = STATUS_SUCCESS;
        break;
    case IRP_MJ_CLOSE:
        TkForget(Stack->FileObject, FALSE);     /* nothing left if cleanup came */
        Status = STATUS_SUCCESS;
        break;
    case IRP_MJ_DEVICE_CONTROL:
        Status = TkDeviceControl(Irp, &Information);
        break;
    default:
        Status = STATUS_INVALID_DEVICE_REQUEST;
        break;
    }
    (VOID)WdkmRundownRelease(&TkRequests);
    if (Status != STATUS_SUCCESS) {
        DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_TRACE_LEVEL, "WdkmTicker: IRP %u: %s\n",
                   (unsigned)Stack->MajorFunction, WdkmStatusName(Status));
    }
    /* A library status (STATUS_WDKM_*) means nothing to user mode. */
    Status = WdkmStatusForRequest(Status);

Complete:
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

/* --- start and stop -------------------------------------------------------- */

_Use_decl_annotations_
NTSTATUS
TkCoreStart(
    TK_QUEUE_WORK *QueueWork
    )
{
    TK_SETTING Setting = { TICKER_INITIAL_STEP, 0 };
    TK_COUNTERS Counters;
    LARGE_INTEGER Due;
    NTSTATUS Status;

    TkQueueWork = QueueWork;
    TkTickBusy = 0;
    TkOverruns = 0;
    KeInitializeTimer(&TkTimer);
    KeInitializeDpc(&TkTimerDpc, TkTimerRoutine, NULL);
    Status = WdkmRundownInitialize(&TkRequests);
    if (Status == STATUS_SUCCESS) {
        Status = WdkmRundownInitialize(&TkWork);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WdkmGrtInitialize();
    }
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    RtlZeroMemory(&Counters, sizeof(Counters));
    Status = WDKM_GRT_REGISTER_SPIN_LOCK(TK_SETTING_NAME, &Setting);
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_GRT_REGISTER_SPIN_LOCK(TK_COUNTERS_NAME, &Counters);
    }
    if (Status == STATUS_SUCCESS) {
        TkHandlesLeft = 0;
        Status = WDKM_GRT_REGISTER_IN_PLACE_DRAINED_OF(TK_HANDLES_NAME, Resource, TK_HANDLES,
                                                       TkHandlesInitialize, NULL, TkHandlesDrain,
                                                       &TkHandlesLeft);
    }
    if (Status != STATUS_SUCCESS) {
        (VOID)WdkmGrtDestroy(NULL, NULL);       /* nobody references anything yet */
        return Status;
    }
    Due.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(TICKER_PERIOD_MS);
    (VOID)KeSetTimerEx(&TkTimer, Due, TICKER_PERIOD_MS, &TkTimerDpc);
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS
TkCoreStop(
    TK_FINAL *Final
    )
{
    PWDKM_SPIN_LOCK CountersLock;
    PWDKM_RESOURCE HandlesLock;
    TK_COUNTERS *Counters;
    TK_HANDLES *Handles;
    LARGE_INTEGER Timeout;
    PLIST_ENTRY Entry;
    NTSTATUS Status;
    KIRQL OldIrql;

    RtlZeroMemory(Final, sizeof(*Final));
    /* Start failed or Stop ran before: nothing of ours is left. */
    if (WDKM_GRT_GET_SPIN_LOCK(TK_COUNTERS_NAME, TK_COUNTERS, &CountersLock) != STATUS_SUCCESS) {
        return STATUS_WDKM_NOT_INITIALIZED;
    }
    if (WDKM_GRT_GET_RESOURCE(TK_HANDLES_NAME, TK_HANDLES, &HandlesLock) != STATUS_SUCCESS) {
        (VOID)WdkmGrtDereference(CountersLock);
        return STATUS_WDKM_NOT_INITIALIZED;
    }

    /* 1. The DPC generates nothing more, so no work item is queued from
          now on but the one that may be out already. */
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(CountersLock, &OldIrql, &Counters);
    Counters->Stopping = TRUE;
    (VOID)WdkmSpinLockRelease(CountersLock, OldIrql);

    /* 2. No IRP in dispatch, none accepted from now on. No lock held. */
    (VOID)WdkmRundownWait(&TkRequests, NULL);

    /* 3. No DPC queued or running. No lock held: Wine's KeCancelTimer
          waits for a running DPC, which takes the counters lock. */
    (VOID)KeCancelTimer(&TkTimer);
    KeFlushQueuedDpcs();

    /* 4. The work item runs dry (it distributes whatever is pending
          before it gives its acquisition back). */
    (VOID)WdkmRundownWait(&TkWork, NULL);

    /* 5. The final counts, quiet now. */
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(CountersLock, &OldIrql, &Counters);
    Final->Ticks = Counters->Ticks;
    Final->Generated = Counters->Generated;
    Final->Pending = Counters->Pending;
    Final->Distributed = Counters->Distributed;
    Final->Requests = Counters->Requests;
    (VOID)WdkmSpinLockRelease(CountersLock, OldIrql);
    Final->Overruns = (ULONG)InterlockedCompareExchange(&TkOverruns, 0, 0);
    (VOID)WDKM_RESOURCE_ACQUIRE_EXCLUSIVE_OR_BUGCHECK(HandlesLock, &Handles);
    Final->Booked = Handles->Booked;
    Final->Delivered = Handles->Delivered;
    Final->Heard = Handles->HeardByClosed;
    for (Entry = Handles->Head.Flink; Entry != &Handles->Head; Entry = Entry->Flink) {
        Final->Heard += CONTAINING_RECORD(Entry, TK_HANDLE, Link)->Heard;
    }
    Final->Opened = Handles->Opened;
    Final->CleanedUp = Handles->CleanedUp;
    Final->ClosedWithoutCleanup = Handles->ClosedWithoutCleanup;
    (VOID)WdkmResourceRelease(HandlesLock);
    (VOID)WdkmGrtDereference(HandlesLock);
    (VOID)WdkmGrtDereference(CountersLock);

    /* 6. Every lock at once; the handles' drain frees the contexts still
          linked (handles whose cleanup and close never came). */
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5000);
    Status = WdkmGrtDestroy(&Timeout, NULL);
    Final->HandlesLeft = TkHandlesLeft;
    return Status;
}
