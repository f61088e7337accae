/*
 * pollread_core.c - the polled-read device's logic (see pollread_core.h
 * for the shape and the locks). No device object, work item or registry
 * key here: pollread_driver.c does the I/O plumbing, and the host test
 * drives these functions with the emulation's IRPs, DPCs and APCs.
 *
 * Who runs what, and at which IRQL:
 *   PrCoreRead     dispatch, PASSIVE: queue the IRP, then PrCorePoll.
 *   PrCorePoll     dispatch or the timer DPC: make the oldest request the
 *                  device's current one, sample it once the device has
 *                  settled, or arm the timer to come back.
 *   PrCancelled    the queue's callback (cancel, cleanup, destroy).
 *   PrBook         every ending: links the IRP's credit record into the
 *                  credits list and queues the work item if none is.
 *   PrCoreWork     the work item, PASSIVE: books credits to the opens.
 *
 * Every request carries a credit record from dispatch to its ending, in
 * Tail.Overlay.DriverContext[0] (the queue leaves [0..2] to the driver):
 * nothing is allocated at DISPATCH_LEVEL.
 */
#include "pollread_core.h"

static PWDKM_CSQ PrQueue;
static PR_QUEUE_WORK *PrQueueWork;
static KTIMER PrTimer;
static KDPC PrTimerDpc;
/* One acquisition per read in its dispatch routine: the stop waits for
   them before it destroys the queue, and refuses reads from then on. */
static WDKM_RUNDOWN PrReads;
/* One acquisition while a work item is queued or running (taken and given
   back under the credits lock, with WorkQueued): the stop waits for it to
   run dry. */
static WDKM_RUNDOWN PrWork;
/* Open handles the opens list's drain freed at unload (PrOpensDrain). */
static ULONG PrOpensLeft;

static KDEFERRED_ROUTINE PrTimerRoutine;
static WDKM_CSQ_COMPLETE_CANCELED_IRP PrCancelled;
static WDKM_CSQ_MATCH PrMatchFileObject;

/* Now, in 100 ns units, from the performance counter (present in every
   kernel this runs on, Wine 8 included). */
static ULONG64
PrNow(VOID)
{
    LARGE_INTEGER Frequency;
    LARGE_INTEGER Counter = KeQueryPerformanceCounter(&Frequency);
    ULONG64 Ticks = (ULONG64)Counter.QuadPart;
    ULONG64 PerSecond = (ULONG64)Frequency.QuadPart;

    return (Ticks / PerSecond) * 10000000ULL + (Ticks % PerSecond) * 10000000ULL / PerSecond;
}

static NTSTATUS
PrListInitialize(
    _Out_ PVOID Value,
    _In_opt_ PVOID Context
    )
{
    UNREFERENCED_PARAMETER(Context);
    /* Both values start with their LIST_ENTRY head. */
    InitializeListHead((PLIST_ENTRY)Value);
    return STATUS_SUCCESS;
}

/*
 * The opens list's drain: the registry runs it when it frees the lock
 * (at unload, after the last reference), so a handle still open then -
 * a close Wine 8 never sent - is freed with it. Counts them in *Context.
 * The lock is an ERESOURCE: its drain runs at <= APC_LEVEL.
 */
static VOID
PrOpensDrain(
    _Inout_ PVOID Value,
    _In_opt_ PVOID Context
    )
{
    PR_OPENS *Opens = (PR_OPENS *)Value;

    while (!IsListEmpty(&Opens->Head)) {
        ExFreePoolWithTag(CONTAINING_RECORD(RemoveHeadList(&Opens->Head), PR_OPEN, Link),
                          POLLREAD_TAG);
        *(ULONG *)Context += 1;
    }
}

static VOID
PrComplete(
    _Inout_ PIRP Irp,
    _In_ NTSTATUS Status,
    _In_ ULONG_PTR Information
    )
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

/*
 * An ending: the IRP's credit goes to the credits list (the IRP is still
 * ours: called before its completion). <= DISPATCH_LEVEL, no lock held.
 */
static VOID
PrBook(
    _Inout_ PIRP Irp,
    _In_ BOOLEAN Sampled
    )
{
    PR_CREDIT *Credit = (PR_CREDIT *)Irp->Tail.Overlay.DriverContext[0];
    PWDKM_QUEUED_SPIN_LOCK Lock;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    PR_CREDITS *Credits;
    BOOLEAN QueueWork = FALSE;

    Irp->Tail.Overlay.DriverContext[0] = NULL;
    Credit->Sampled = Sampled;
    /* Registered from PrCoreStart until PrCoreStop's last step, which
       comes after every ending: a lookup failure is a bug here, and an
       ending has no status to give, so stop the system by name rather
       than lose the count (the callback form). */
    Lock = WDKM_GRT_GET_QUEUED_SPIN_LOCK_OR_BUGCHECK(PR_CREDITS_NAME, PR_CREDITS);
    (VOID)WDKM_QUEUED_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &Handle, &Credits);
    InsertTailList(&Credits->Head, &Credit->Link);
    Credits->Count += 1;
    /* Refused only once the stop waits for the work item, after every
       ending: the stop then books what is left itself. */
    if (!Credits->WorkQueued && WdkmRundownAcquire(&PrWork) == STATUS_SUCCESS) {
        Credits->WorkQueued = TRUE;
        QueueWork = TRUE;
    }
    (VOID)WdkmQueuedSpinLockRelease(&Handle);
    (VOID)WdkmGrtDereference(Lock);
    if (QueueWork) {
        PrQueueWork();
    }
}

_Use_decl_annotations_
VOID
PrCorePoll(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    PR_DEVICE *Device;
    POLLREAD_SAMPLE *Sample;
    KIRQL OldIrql;
    PIRP Irp;
    PIRP Next;
    ULONG64 Now;

    /* Gone only after PrCoreStop, by when no DPC or dispatch runs. */
    if (WDKM_GRT_GET_SPIN_LOCK(PR_DEVICE_NAME, PR_DEVICE, &Lock) != STATUS_SUCCESS) {
        return;
    }
    for (;;) {
        Now = PrNow();
        /* The DPC has no status to give, and a refusal here would hang
           the current request: the callback form. */
        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
        if (Device->Stopping) {
            (VOID)WdkmSpinLockRelease(Lock, OldIrql);
            break;          /* PrCoreStop ends the current request */
        }
        if (Device->Current == NULL) {
            /* StartIo: the next request becomes the device's. Under the
               device lock, so only one caller starts one. */
            if (WdkmCsqRemoveNextIrp(PrQueue, NULL, NULL, &Next) != STATUS_SUCCESS) {
                (VOID)WdkmSpinLockRelease(Lock, OldIrql);
                break;      /* idle */
            }
            Device->Current = Next;
        }
        if (Device->Held) {
            (VOID)WdkmSpinLockRelease(Lock, OldIrql);
            break;          /* stays current until cleanup, cancel or unload */
        }
        if (Device->Sequence != 0 && Now - Device->LastSample < PR_SETTLE_100NS) {
            Device->Retries += 1;
            (VOID)WdkmSpinLockRelease(Lock, OldIrql);
            break;          /* the next timer tick comes back */
        }
        Irp = Device->Current;
        Device->Current = NULL;
        Device->LastSample = Now;
        Device->Sequence += 1;
        Device->Sampled += 1;
        Sample = (POLLREAD_SAMPLE *)Irp->AssociatedIrp.SystemBuffer;
        Sample->Sequence = Device->Sequence;
        Sample->Retries = Device->Retries;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);

        PrBook(Irp, TRUE);
        PrComplete(Irp, STATUS_SUCCESS, sizeof(POLLREAD_SAMPLE));
    }
    (VOID)WdkmGrtDereference(Lock);
}

/*
 * The periodic timer's DPC, every settling time: the device may have
 * settled. The timer is set once, at start, and never re-armed: Wine 8's
 * KeSetTimer on a timer that was ever set cancels it first and waits for
 * its running DPC, so re-arming from the DPC (or under a lock the DPC
 * takes) deadlocks there. DISPATCH_LEVEL on Windows (the AtDpcLevel
 * form), a reported PASSIVE_LEVEL under Wine (the library lets the same
 * form succeed there). A tick that finds the last one still running does
 * nothing: Wine 8 runs each period on a new thread even while the last
 * still runs, with spin-lock holders preemptible there, and the ticks
 * piled up spinning on the device's lock starved its holder (the client
 * saw its threads hang; docs/csq.md, the Wine table). On Windows a DPC
 * object runs on one processor at a time and this never happens.
 */
static LONG volatile PrTickBusy;

static VOID
PrTimerRoutine(
    _In_ PKDPC Dpc,
    _In_opt_ PVOID DeferredContext,
    _In_opt_ PVOID SystemArgument1,
    _In_opt_ PVOID SystemArgument2
    )
{
    PWDKM_SPIN_LOCK Lock;
    PR_DEVICE *Device;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);

    if (InterlockedCompareExchange(&PrTickBusy, 1, 0) != 0) {
        return;
    }
    if (WDKM_GRT_GET_SPIN_LOCK(PR_DEVICE_NAME, PR_DEVICE, &Lock) == STATUS_SUCCESS) {
        (VOID)WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(Lock, &Device);
        Device->Ticks += 1;
        (VOID)WdkmSpinLockReleaseFromDpcLevel(Lock);
        (VOID)WdkmGrtDereference(Lock);
        PrCorePoll();
    }
    InterlockedExchange(&PrTickBusy, 0);
}

/* Counts one cancelled ending. <= DISPATCH_LEVEL, no status to give. */
static VOID
PrCountCancelled(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    PR_DEVICE *Device;
    KIRQL OldIrql;

    Lock = WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK(PR_DEVICE_NAME, PR_DEVICE);
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
    Device->Cancelled += 1;
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    (VOID)WdkmGrtDereference(Lock);
}

/* The queue hands over a cancelled request (cancel, or its destroy). */
static VOID
PrCancelled(
    _In_ PWDKM_CSQ Csq,
    _In_ PIRP Irp,
    _In_opt_ PVOID Context
    )
{
    UNREFERENCED_PARAMETER(Csq);
    UNREFERENCED_PARAMETER(Context);
    PrCountCancelled();
    PrBook(Irp, FALSE);
    PrComplete(Irp, STATUS_CANCELLED, 0);
}

static BOOLEAN
PrMatchFileObject(
    _In_ PIRP Irp,
    _In_opt_ PVOID MatchContext
    )
{
    return IoGetCurrentIrpStackLocation(Irp)->FileObject == (PFILE_OBJECT)MatchContext;
}

static PR_OPEN *
PrFindOpen(
    _In_ PR_OPENS *Opens,
    _In_ PFILE_OBJECT FileObject
    )
{
    PLIST_ENTRY Entry;

    for (Entry = Opens->Head.Flink; Entry != &Opens->Head; Entry = Entry->Flink) {
        PR_OPEN *Open = CONTAINING_RECORD(Entry, PR_OPEN, Link);

        if (Open->FileObject == FileObject) {
            return Open;
        }
    }
    return NULL;
}

_Use_decl_annotations_
NTSTATUS
PrCoreStart(
    PR_QUEUE_WORK *QueueWork
    )
{
    PR_DEVICE Device;
    LARGE_INTEGER Due;
    NTSTATUS Status;

    PrQueueWork = QueueWork;
    KeInitializeTimer(&PrTimer);
    KeInitializeDpc(&PrTimerDpc, PrTimerRoutine, NULL);

    Status = WdkmRundownInitialize(&PrReads);
    if (Status == STATUS_SUCCESS) {
        Status = WdkmRundownInitialize(&PrWork);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WdkmGrtInitialize();
    }
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    RtlZeroMemory(&Device, sizeof(Device));
    Status = WDKM_GRT_REGISTER_SPIN_LOCK(PR_DEVICE_NAME, &Device);
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_GRT_REGISTER_IN_PLACE_OF(PR_CREDITS_NAME, QueuedSpinLock, PR_CREDITS,
                                               PrListInitialize, NULL);
    }
    if (Status == STATUS_SUCCESS) {
        PrOpensLeft = 0;
        Status = WDKM_GRT_REGISTER_IN_PLACE_DRAINED_OF(PR_OPENS_NAME, Resource, PR_OPENS,
                                                       PrListInitialize, NULL, PrOpensDrain,
                                                       &PrOpensLeft);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WdkmCsqCreate(PrCancelled, NULL, &PrQueue);
    }
    if (Status != STATUS_SUCCESS) {
        /* Nothing is linked yet and nobody references anything. */
        (VOID)WdkmGrtDestroy(NULL, NULL);
        PrQueue = NULL;
        return Status;
    }
    Due.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(POLLREAD_SETTLE_MS);
    (VOID)KeSetTimerEx(&PrTimer, Due, POLLREAD_SETTLE_MS, &PrTimerDpc);
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS
PrCoreOpen(
    PFILE_OBJECT FileObject
    )
{
    PWDKM_RESOURCE Lock;
    PR_OPENS *Opens;
    PR_OPEN *Open;
    NTSTATUS Status;

    Open = (PR_OPEN *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Open), POLLREAD_TAG);
    if (Open == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    RtlZeroMemory(Open, sizeof(*Open));
    Open->FileObject = FileObject;
    Status = WDKM_GRT_GET_RESOURCE(PR_OPENS_NAME, PR_OPENS, &Lock);
    if (Status != STATUS_SUCCESS) {
        ExFreePoolWithTag(Open, POLLREAD_TAG);
        return Status;
    }
    Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Lock, &Opens);
    if (WDKM_ACQUIRED(Status)) {
        InsertTailList(&Opens->Head, &Open->Link);      /* the lock's from now on */
        Opens->Count += 1;
        (VOID)WdkmResourceRelease(Lock);
    } else {
        ExFreePoolWithTag(Open, POLLREAD_TAG);
    }
    (VOID)WdkmGrtDereference(Lock);
    return Status;
}

_Use_decl_annotations_
NTSTATUS
PrCoreClose(
    PFILE_OBJECT FileObject
    )
{
    PWDKM_RESOURCE Lock;
    PR_OPENS *Opens;
    PR_OPEN *Open = NULL;
    NTSTATUS Status;

    Status = WDKM_GRT_GET_RESOURCE(PR_OPENS_NAME, PR_OPENS, &Lock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Lock, &Opens);
    if (WDKM_ACQUIRED(Status)) {
        Open = PrFindOpen(Opens, FileObject);
        if (Open != NULL) {
            RemoveEntryList(&Open->Link);               /* ours again */
            Opens->Count -= 1;
        }
        (VOID)WdkmResourceRelease(Lock);
    }
    (VOID)WdkmGrtDereference(Lock);
    if (Open != NULL) {
        ExFreePoolWithTag(Open, POLLREAD_TAG);
    }
    return Status;
}

_Use_decl_annotations_
NTSTATUS
PrCoreRead(
    PIRP Irp
    )
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    PWDKM_SPIN_LOCK Lock;
    PR_DEVICE *Device;
    PR_CREDIT *Credit;
    NTSTATUS Status;
    KIRQL OldIrql;

    if (Stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(POLLREAD_SAMPLE)) {
        return STATUS_BUFFER_TOO_SMALL;
    }
    Status = WDKM_GRT_GET_SPIN_LOCK(PR_DEVICE_NAME, PR_DEVICE, &Lock);
    if (Status != STATUS_SUCCESS) {
        return WdkmStatusForRequest(Status);
    }
    /* Held until the read is queued (or refused) and polled: the stop
       waits for it before it destroys the queue. Once the stop has begun,
       refused. */
    if (WdkmRundownAcquire(&PrReads) != STATUS_SUCCESS) {
        if (WDKM_ACQUIRED(WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Device))) {
            Device->Refused += 1;
            (VOID)WdkmSpinLockRelease(Lock, OldIrql);
        }
        (VOID)WdkmGrtDereference(Lock);
        return STATUS_DEVICE_NOT_READY;
    }
    Credit = (PR_CREDIT *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Credit), POLLREAD_TAG);
    if (Credit == NULL) {
        Status = STATUS_INSUFFICIENT_RESOURCES;
        goto Leave;
    }
    RtlZeroMemory(Credit, sizeof(*Credit));
    Credit->FileObject = Stack->FileObject;

    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Device);
    if (!WDKM_ACQUIRED(Status)) {
        ExFreePoolWithTag(Credit, POLLREAD_TAG);
        Status = WdkmStatusForRequest(Status);
        goto Leave;
    }
    /* Counted before the insert: once queued, it may end at once. */
    Device->Reads += 1;
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);

    Irp->Tail.Overlay.DriverContext[0] = Credit;
    Status = WdkmCsqInsertIrp(PrQueue, Irp, NULL);
    if (Status != STATUS_PENDING) {
        Irp->Tail.Overlay.DriverContext[0] = NULL;
        ExFreePoolWithTag(Credit, POLLREAD_TAG);
        /* Uncounted: the one place that cannot give a status back (the
           refusal is already the request's), so the callback form. */
        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
        Device->Reads -= 1;
        Device->Refused += 1;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    } else {
        PrCorePoll();       /* the IRP may be gone now: not touched again */
    }

Leave:
    (VOID)WdkmRundownRelease(&PrReads);
    (VOID)WdkmGrtDereference(Lock);
    return Status;
}

_Use_decl_annotations_
VOID
PrCoreWork(VOID)
{
    PWDKM_QUEUED_SPIN_LOCK CreditsLock;
    PWDKM_RESOURCE OpensLock;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    PR_CREDITS *Credits;
    PR_OPENS *Opens;
    LIST_ENTRY Taken;
    PLIST_ENTRY Entry;

    if (WDKM_GRT_GET_QUEUED_SPIN_LOCK(PR_CREDITS_NAME, PR_CREDITS, &CreditsLock) !=
        STATUS_SUCCESS) {
        return;
    }
    if (WDKM_GRT_GET_RESOURCE(PR_OPENS_NAME, PR_OPENS, &OpensLock) != STATUS_SUCCESS) {
        (VOID)WdkmGrtDereference(CreditsLock);
        return;
    }
    for (;;) {
        /* Unlink everything waiting: those records are ours again. */
        InitializeListHead(&Taken);
        (VOID)WDKM_QUEUED_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(CreditsLock, &Handle, &Credits);
        while (!IsListEmpty(&Credits->Head)) {
            InsertTailList(&Taken, RemoveHeadList(&Credits->Head));
            Credits->Count -= 1;
        }
        if (IsListEmpty(&Taken)) {
            /* Dry: the next ending queues a new work item. (The stop's
               own call finds none queued: nothing to give back.) */
            if (Credits->WorkQueued) {
                Credits->WorkQueued = FALSE;
                (VOID)WdkmRundownRelease(&PrWork);
            }
            (VOID)WdkmQueuedSpinLockRelease(&Handle);
            break;
        }
        (VOID)WdkmQueuedSpinLockRelease(&Handle);

        /* A work item has no status to give either. */
        (VOID)WDKM_RESOURCE_ACQUIRE_EXCLUSIVE_OR_BUGCHECK(OpensLock, &Opens);
        for (Entry = Taken.Flink; Entry != &Taken; Entry = Entry->Flink) {
            PR_CREDIT *Credit = CONTAINING_RECORD(Entry, PR_CREDIT, Link);
            PR_OPEN *Open = PrFindOpen(Opens, Credit->FileObject);

            Opens->Credited += 1;
            if (Open == NULL) {
                Opens->Orphans += 1;
            } else if (Credit->Sampled) {
                Open->Sampled += 1;
            } else {
                Open->Cancelled += 1;
            }
        }
        (VOID)WdkmResourceRelease(OpensLock);
        while (!IsListEmpty(&Taken)) {
            ExFreePoolWithTag(CONTAINING_RECORD(RemoveHeadList(&Taken), PR_CREDIT, Link),
                              POLLREAD_TAG);
        }
    }
    (VOID)WdkmGrtDereference(OpensLock);
    (VOID)WdkmGrtDereference(CreditsLock);
}

_Use_decl_annotations_
NTSTATUS
PrCoreHold(VOID)
{
    PWDKM_SPIN_LOCK Lock;
    PR_DEVICE *Device;
    NTSTATUS Status;
    KIRQL OldIrql;

    Status = WDKM_GRT_GET_SPIN_LOCK(PR_DEVICE_NAME, PR_DEVICE, &Lock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Device);
    if (WDKM_ACQUIRED(Status)) {
        Device->Held = TRUE;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    }
    (VOID)WdkmGrtDereference(Lock);
    return Status;
}

_Use_decl_annotations_
VOID
PrCoreCleanup(
    PFILE_OBJECT FileObject
    )
{
    PWDKM_SPIN_LOCK Lock;
    PR_DEVICE *Device;
    LIST_ENTRY Ended;
    KIRQL OldIrql;
    PIRP Irp;

    /* Under the device lock, so that no poll makes one of the handle's
       queued requests current meanwhile: the current request if it is the
       handle's, then every queued one (lock order device -> queue). A
       removed IRP's Tail.Overlay.ListEntry is the driver's again. */
    InitializeListHead(&Ended);
    if (WDKM_GRT_GET_SPIN_LOCK(PR_DEVICE_NAME, PR_DEVICE, &Lock) != STATUS_SUCCESS) {
        return;
    }
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
    if (Device->Current != NULL &&
        IoGetCurrentIrpStackLocation(Device->Current)->FileObject == FileObject) {
        InsertTailList(&Ended, &Device->Current->Tail.Overlay.ListEntry);
        Device->Current = NULL;
        Device->Cancelled += 1;
    }
    while (WdkmCsqRemoveNextIrp(PrQueue, PrMatchFileObject, FileObject, &Irp) ==
           STATUS_SUCCESS) {
        InsertTailList(&Ended, &Irp->Tail.Overlay.ListEntry);
        Device->Cancelled += 1;
    }
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    (VOID)WdkmGrtDereference(Lock);

    while (!IsListEmpty(&Ended)) {
        Irp = CONTAINING_RECORD(RemoveHeadList(&Ended), IRP, Tail.Overlay.ListEntry);
        PrBook(Irp, FALSE);
        PrComplete(Irp, STATUS_CANCELLED, 0);
    }
    PrCorePoll();           /* another handle's request may start now */
}

_Use_decl_annotations_
NTSTATUS
PrCoreQuery(
    PFILE_OBJECT FileObject,
    POLLREAD_REPORT *Report
    )
{
    PWDKM_SPIN_LOCK DeviceLock;
    PWDKM_RESOURCE OpensLock;
    WDKM_POOL_STATISTICS Pool;
    const PR_OPENS *Opens;
    PR_DEVICE *Device;
    NTSTATUS Status;
    KIRQL OldIrql;

    RtlZeroMemory(Report, sizeof(*Report));
    Status = WDKM_GRT_GET_SPIN_LOCK(PR_DEVICE_NAME, PR_DEVICE, &DeviceLock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(DeviceLock, &OldIrql, &Device);
    if (WDKM_ACQUIRED(Status)) {
        Report->Reads = Device->Reads;
        Report->Sampled = Device->Sampled;
        Report->Cancelled = Device->Cancelled;
        Report->Retries = Device->Retries;
        Report->Ticks = Device->Ticks;
        Report->Refused = Device->Refused;
        (VOID)WdkmSpinLockRelease(DeviceLock, OldIrql);
    }
    (VOID)WdkmGrtDereference(DeviceLock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }

    Status = WDKM_GRT_GET_RESOURCE(PR_OPENS_NAME, PR_OPENS, &OpensLock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_RESOURCE_ACQUIRE_SHARED(OpensLock, &Opens);
    if (WDKM_ACQUIRED(Status)) {
        PLIST_ENTRY Entry;

        Report->Opens = Opens->Count;
        Report->Credited = Opens->Credited;
        /* PrFindOpen takes a writable list; a reader walks it itself. */
        for (Entry = Opens->Head.Flink; Entry != &Opens->Head; Entry = Entry->Flink) {
            const PR_OPEN *Open = CONTAINING_RECORD(Entry, PR_OPEN, Link);

            if (FileObject != NULL && Open->FileObject == FileObject) {
                Report->OpenSampled = Open->Sampled;
                Report->OpenCancelled = Open->Cancelled;
            }
        }
        (VOID)WdkmResourceRelease(OpensLock);
    }
    (VOID)WdkmGrtDereference(OpensLock);
    WdkmQueryPoolStatistics(&Pool);
    Report->PoolBlocksOutstanding = (long)Pool.OutstandingBlocks;
    return Status;
}

_Use_decl_annotations_
NTSTATUS
PrCoreStop(
    PR_FINAL *Final
    )
{
    PWDKM_SPIN_LOCK DeviceLock;
    PWDKM_RESOURCE OpensLock;
    PR_DEVICE *Device;
    PR_OPENS *Opens;
    LARGE_INTEGER Timeout;
    NTSTATUS Status;
    PIRP Current;
    KIRQL OldIrql;

    RtlZeroMemory(Final, sizeof(*Final));
    /* Start failed or Stop ran before: nothing of ours is left. */
    if (WDKM_GRT_GET_SPIN_LOCK(PR_DEVICE_NAME, PR_DEVICE, &DeviceLock) != STATUS_SUCCESS) {
        return STATUS_WDKM_NOT_INITIALIZED;
    }
    if (WDKM_GRT_GET_RESOURCE(PR_OPENS_NAME, PR_OPENS, &OpensLock) != STATUS_SUCCESS) {
        (VOID)WdkmGrtDereference(DeviceLock);
        return STATUS_WDKM_NOT_INITIALIZED;
    }

    /* 1. No poll starts a request from now on; no new read, and the reads
          in their dispatch routine are waited for, so the queue outlives
          them (the rundown: nothing of ours is held here). */
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(DeviceLock, &OldIrql, &Device);
    Device->Stopping = TRUE;
    (VOID)WdkmSpinLockRelease(DeviceLock, OldIrql);
    (VOID)WdkmRundownWait(&PrReads, NULL);

    /* 2. No DPC queued or running. No lock held: Wine's KeCancelTimer
          waits for a running DPC, which takes the device lock. */
    (VOID)KeCancelTimer(&PrTimer);
    KeFlushQueuedDpcs();

    /* 3. The device's current request ends cancelled; so does every
          queued one (the queue's destroy hands them to PrCancelled). */
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(DeviceLock, &OldIrql, &Device);
    Current = Device->Current;
    Device->Current = NULL;
    if (Current != NULL) {
        Device->Cancelled += 1;
    }
    (VOID)WdkmSpinLockRelease(DeviceLock, OldIrql);
    if (Current != NULL) {
        PrBook(Current, FALSE);
        PrComplete(Current, STATUS_CANCELLED, 0);
    }
    (VOID)WdkmCsqDestroy(PrQueue);
    PrQueue = NULL;

    /* 4. Every ending is booked or waiting: let the work item run dry
          (no new one can be queued from now on), then book whatever it
          left (nothing, unless it never ran). */
    (VOID)WdkmRundownWait(&PrWork, NULL);
    PrCoreWork();

    /* 5. What was credited. Handles still open (a closed handle under
          Wine 8 may send nothing) stay linked: the registry's destroy
          below drains them with the lock (PrOpensDrain). */
    (VOID)WDKM_RESOURCE_ACQUIRE_EXCLUSIVE_OR_BUGCHECK(OpensLock, &Opens);
    Final->Credited = Opens->Credited;
    (VOID)WdkmResourceRelease(OpensLock);

    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(DeviceLock, &OldIrql, &Device);
    Final->Reads = Device->Reads;
    Final->Sampled = Device->Sampled;
    Final->Cancelled = Device->Cancelled;
    (VOID)WdkmSpinLockRelease(DeviceLock, OldIrql);
    (VOID)WdkmGrtDereference(OpensLock);
    (VOID)WdkmGrtDereference(DeviceLock);

    /* 6. Every lock, at once; the opens' drain runs in here. */
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5000);
    Status = WdkmGrtDestroy(&Timeout, NULL);
    Final->OpensLeft = PrOpensLeft;
    return Status;
}
