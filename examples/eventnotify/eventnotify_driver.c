/*
 * eventnotify_driver.c - an event-notification driver, the canonical WDM
 * shape: user-mode threads send IOCTL_EVENTNOTIFY_WAIT, the driver pends
 * each request in a cancel-safe queue, and a periodic timer DPC completes
 * the oldest ones with the next event number. A request can also end by
 * cancellation (CancelIoEx, the exit of the thread that sent it), at
 * IRP_MJ_CLEANUP of its handle, or at unload.
 *
 * Locking, all of it through wdkmutex:
 *   - the queue of pending requests: a WDKM_CSQ, whose list is owned by a
 *     library spin lock taken inside each queue call (no lock callbacks,
 *     nothing hidden from clang's thread-safety analysis);
 *   - the counters: a WDKM_SPIN_LOCK owning EVENTNOTIFY_STATE, taken in the
 *     dispatch routines, the DPC and the cancel callback, never while the
 *     queue's lock is held (the queue releases it before calling back).
 *
 * The unload waits for the dispatch routines still using the queue or the
 * counters (a WDKM_RUNDOWN each of them holds while it runs) before it
 * destroys either, and refuses new ones from then on; the timer DPC is
 * stopped instead.
 *
 * Where no status can go (the DPC, the queue's callback, cleanup's count,
 * the unload) the counters' lock is taken with the callback forms
 * (..._OR_BUGCHECK): a refusal there would lose a count or hang a request,
 * so it stops the system with a bug check naming the misuse instead.
 *
 * Wine 8 (measured): the timer DPC runs on an ordinary thread at a
 * reported PASSIVE_LEVEL; the library finds at the first create that the
 * IRQL cannot be raised there and lets the AtDpcLevel form the DPC uses
 * succeed. KeCancelTimer waits for a running DPC, so the unload cancels the
 * timer holding no lock; no IRP_MJ_CLEANUP is sent when a handle is closed,
 * so requests left pending on a closed handle are cancelled at unload by
 * the queue's destroy instead (and counted apart: Drained).
 */
#include <ntddk.h>

#include <wdkmutex/wdkmutex.h>

#include "eventnotify_ioctl.h"

#define EVENTNOTIFY_PERIOD_MS      2
#define EVENTNOTIFY_EVENTS_PER_TICK 2

/* The counters; the spin lock EnState owns them. */
typedef struct _EVENTNOTIFY_STATE {
    ULONG64 Sequence;       /* the last event number handed out */
    ULONG64 Ticks;
    ULONG64 Waits;
    ULONG64 Notified;
    ULONG64 Cancelled;
    ULONG64 Cleaned;
    ULONG64 Drained;
    ULONG Refused;
    BOOLEAN Unloading;      /* cancellations from now on are the unload's */
    BOOLEAN Paused;         /* IOCTL_EVENTNOTIFY_PAUSE: no more events */
} EVENTNOTIFY_STATE;

static PDEVICE_OBJECT EnDevice;
static PWDKM_CSQ EnQueue;
static PWDKM_SPIN_LOCK EnState;
/* One acquisition per dispatch routine that uses EnQueue or EnState. */
static WDKM_RUNDOWN EnDispatch;
static KTIMER EnTimer;
static KDPC EnTickDpc;
static BOOLEAN EnTimerSet;
/* The service key, for the values left at unload. */
static WCHAR EnServiceKeyBuffer[256];
static UNICODE_STRING EnServiceKey;

static DRIVER_UNLOAD EnUnload;
static KDEFERRED_ROUTINE EnTick;
static WDKM_CSQ_COMPLETE_CANCELED_IRP EnCompleteCancelled;
static WDKM_CSQ_MATCH EnMatchFileObject;
static DRIVER_DISPATCH EnCreateClose;
static DRIVER_DISPATCH EnCleanup;
static DRIVER_DISPATCH EnDeviceControl;

static NTSTATUS
EnComplete(
    _Inout_ PIRP Irp,
    _In_ NTSTATUS Status,
    _In_ ULONG_PTR Information
    )
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

/*
 * Counts a request ended by cancellation: at unload, at cleanup, or else by
 * a cancel. From the queue's callback and from cleanup, which have no status
 * to give: the callback form.
 */
static VOID
EnCountCancelled(
    _In_ BOOLEAN AtCleanup
    )
{
    EVENTNOTIFY_STATE *State;
    KIRQL OldIrql;

    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(EnState, &OldIrql, &State);
    if (State->Unloading) {
        State->Drained += 1;
    } else if (AtCleanup) {
        State->Cleaned += 1;
    } else {
        State->Cancelled += 1;
    }
    (VOID)WdkmSpinLockRelease(EnState, OldIrql);
}

/*
 * The queue hands over a cancelled request (CancelIoEx, thread exit, or
 * the destroy at unload): complete it. IRQL <= DISPATCH_LEVEL; no lock
 * of the queue is held.
 */
static VOID
EnCompleteCancelled(
    _In_ PWDKM_CSQ Csq,
    _In_ PIRP Irp,
    _In_opt_ PVOID Context
    )
{
    UNREFERENCED_PARAMETER(Csq);
    UNREFERENCED_PARAMETER(Context);
    EnCountCancelled(FALSE);
    (VOID)EnComplete(Irp, STATUS_CANCELLED, 0);
}

/*
 * The timer DPC: the oldest pending requests get the next events. It runs
 * at DISPATCH_LEVEL, so it takes the counters' lock with the AtDpcLevel
 * form, and with the callback form of it: a DPC has no status to return.
 * Under Wine, where a DPC runs at a reported PASSIVE_LEVEL, the library
 * knows the IRQL cannot be raised and the same form succeeds.
 */
static VOID
EnTick(
    _In_ PKDPC Dpc,
    _In_opt_ PVOID DeferredContext,
    _In_opt_ PVOID SystemArgument1,
    _In_opt_ PVOID SystemArgument2
    )
{
    EVENTNOTIFY_STATE *State;
    EVENTNOTIFY_EVENT *Event;
    ULONG Delivered;
    PIRP Irp;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);

    (VOID)WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(EnState, &State);
    State->Ticks += 1;
    Delivered = State->Paused ? EVENTNOTIFY_EVENTS_PER_TICK : 0;
    (VOID)WdkmSpinLockReleaseFromDpcLevel(EnState);

    for (; Delivered < EVENTNOTIFY_EVENTS_PER_TICK; Delivered += 1) {
        if (WdkmCsqRemoveNextIrp(EnQueue, NULL, NULL, &Irp) != STATUS_SUCCESS) {
            break;      /* none pending */
        }
        /* The request is this DPC's now: no cancel routine, off the queue. */
        Event = (EVENTNOTIFY_EVENT *)Irp->AssociatedIrp.SystemBuffer;
        (VOID)WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(EnState, &State);
        State->Sequence += 1;
        State->Notified += 1;
        Event->Sequence = State->Sequence;
        Event->Tick = State->Ticks;
        (VOID)WdkmSpinLockReleaseFromDpcLevel(EnState);
        (VOID)EnComplete(Irp, STATUS_SUCCESS, sizeof(EVENTNOTIFY_EVENT));
    }
}

static NTSTATUS
EnCreateClose(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return EnComplete(Irp, STATUS_SUCCESS, 0);
}

/* Under the queue's lock: is this request one of the closing handle's? */
static BOOLEAN
EnMatchFileObject(
    _In_ PIRP Irp,
    _In_opt_ PVOID MatchContext
    )
{
    return IoGetCurrentIrpStackLocation(Irp)->FileObject == (PFILE_OBJECT)MatchContext;
}

/* The handle's last user closed it: end its pending requests (once the
   unload has begun, its queue's destroy ends them instead). */
static NTSTATUS
EnCleanup(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    PFILE_OBJECT FileObject = IoGetCurrentIrpStackLocation(Irp)->FileObject;
    PIRP Pending;

    UNREFERENCED_PARAMETER(DeviceObject);
    if (WdkmRundownAcquire(&EnDispatch) == STATUS_SUCCESS) {
        while (WdkmCsqRemoveNextIrp(EnQueue, EnMatchFileObject, FileObject, &Pending) ==
               STATUS_SUCCESS) {
            EnCountCancelled(TRUE);
            (VOID)EnComplete(Pending, STATUS_CANCELLED, 0);
        }
        (VOID)WdkmRundownRelease(&EnDispatch);
    }
    return EnComplete(Irp, STATUS_SUCCESS, 0);
}

static NTSTATUS
EnQuery(
    _Inout_ PIRP Irp,
    _In_ ULONG OutputLength
    )
{
    EVENTNOTIFY_REPORT *Report = (EVENTNOTIFY_REPORT *)Irp->AssociatedIrp.SystemBuffer;
    WDKM_POOL_STATISTICS Pool;
    EVENTNOTIFY_STATE *State;
    ULONG Pending = 0;
    NTSTATUS Status;
    KIRQL OldIrql;

    if (OutputLength < sizeof(*Report)) {
        return EnComplete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    }
    RtlZeroMemory(Report, sizeof(*Report));
    Status = WdkmCsqQueryCount(EnQueue, &Pending);
    if (Status != STATUS_SUCCESS) {
        return EnComplete(Irp, Status, 0);
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(EnState, &OldIrql, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return EnComplete(Irp, Status, 0);
    }
    Report->Ticks = State->Ticks;
    Report->Waits = State->Waits;
    Report->Notified = State->Notified;
    Report->Cancelled = State->Cancelled;
    Report->Cleaned = State->Cleaned;
    Report->Drained = State->Drained;
    Report->Refused = State->Refused;
    (VOID)WdkmSpinLockRelease(EnState, OldIrql);
    Report->Pending = Pending;
    WdkmQueryPoolStatistics(&Pool);
    Report->PoolBlocksOutstanding = Pool.OutstandingBlocks;
    return EnComplete(Irp, STATUS_SUCCESS, sizeof(*Report));
}

/* EnDeviceControl's body, the unload kept off meanwhile. */
static NTSTATUS
EnControl(
    _Inout_ PIRP Irp
    )
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG OutputLength = Stack->Parameters.DeviceIoControl.OutputBufferLength;
    EVENTNOTIFY_STATE *State;
    NTSTATUS Status;
    KIRQL OldIrql;

    switch (Stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_EVENTNOTIFY_WAIT:
        if (OutputLength < sizeof(EVENTNOTIFY_EVENT)) {
            return EnComplete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        }
        /* Counted first: once queued, the DPC may complete it at once. */
        Status = WDKM_SPIN_LOCK_ACQUIRE(EnState, &OldIrql, &State);
        if (!WDKM_ACQUIRED(Status)) {
            return EnComplete(Irp, Status, 0);
        }
        State->Waits += 1;
        (VOID)WdkmSpinLockRelease(EnState, OldIrql);
        Status = WdkmCsqInsertIrp(EnQueue, Irp, NULL);
        if (Status == STATUS_PENDING) {
            return STATUS_PENDING;      /* the queue's now: not touched again */
        }
        /* Not queued (the queue refused it): the request is still ours. */
        if (WDKM_ACQUIRED(WDKM_SPIN_LOCK_ACQUIRE(EnState, &OldIrql, &State))) {
            State->Waits -= 1;
            State->Refused += 1;
            (VOID)WdkmSpinLockRelease(EnState, OldIrql);
        }
        return EnComplete(Irp, Status, 0);
    case IOCTL_EVENTNOTIFY_QUERY:
        return EnQuery(Irp, OutputLength);
    case IOCTL_EVENTNOTIFY_PAUSE:
        Status = WDKM_SPIN_LOCK_ACQUIRE(EnState, &OldIrql, &State);
        if (!WDKM_ACQUIRED(Status)) {
            return EnComplete(Irp, Status, 0);
        }
        State->Paused = TRUE;
        (VOID)WdkmSpinLockRelease(EnState, OldIrql);
        return EnComplete(Irp, STATUS_SUCCESS, 0);
    default:
        return EnComplete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

static NTSTATUS
EnDeviceControl(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(DeviceObject);
    /* Held while the queue and the counters are used: the unload waits
       for it, and refuses it once it has begun. */
    if (WdkmRundownAcquire(&EnDispatch) != STATUS_SUCCESS) {
        return EnComplete(Irp, STATUS_DEVICE_NOT_READY, 0);
    }
    Status = EnControl(Irp);        /* a pending IRP is not touched again */
    (VOID)WdkmRundownRelease(&EnDispatch);
    return Status;
}

/* A REG_DWORD under the service key (the client reads them after unload). */
static VOID
EnWriteValue(
    _In_ PCWSTR Name,
    _In_ ULONG Value
    )
{
    OBJECT_ATTRIBUTES Attributes;
    UNICODE_STRING ValueName;
    HANDLE Key;

    InitializeObjectAttributes(&Attributes, &EnServiceKey, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE,
                               NULL, NULL);
    if (!NT_SUCCESS(ZwOpenKey(&Key, KEY_SET_VALUE, &Attributes))) {
        return;
    }
    RtlInitUnicodeString(&ValueName, Name);
    (VOID)ZwSetValueKey(Key, &ValueName, 0, REG_DWORD, &Value, sizeof(Value));
    (VOID)ZwClose(Key);
}

static VOID
EnUnload(
    _In_ PDRIVER_OBJECT DriverObject
    )
{
    EVENTNOTIFY_STATE Final;
    EVENTNOTIFY_STATE *State;
    WDKM_POOL_STATISTICS Pool;
    UNICODE_STRING DosName;
    NTSTATUS LeakCheck;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(DriverObject);
    /* No dispatch routine still uses the queue or the counters, and none
       will (nothing of ours is held here). */
    (VOID)WdkmRundownWait(&EnDispatch, NULL);
    /* No more ticks, and none still running (no lock is held here: Wine's
       KeCancelTimer waits for a running DPC). */
    if (EnTimerSet) {
        (VOID)KeCancelTimer(&EnTimer);
        KeFlushQueuedDpcs();
    }
    /* An unload returns nothing either: the callback form. */
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(EnState, &OldIrql, &State);
    State->Unloading = TRUE;
    (VOID)WdkmSpinLockRelease(EnState, OldIrql);
    /* Requests still pending (a handle closed without IRP_MJ_CLEANUP, as
       under Wine) are cancelled through EnCompleteCancelled. */
    (VOID)WdkmCsqDestroy(EnQueue);
    EnQueue = NULL;
    RtlZeroMemory(&Final, sizeof(Final));
    (VOID)WDKM_SPIN_LOCK_TAKE(EnState, &Final);
    EnState = NULL;

    /* Every library object is gone: the library's pool must be empty. */
    WdkmQueryPoolStatistics(&Pool);
    LeakCheck = WdkmDiagLeakCheck(NULL);
    EnWriteValue(EVENTNOTIFY_VALUE_NOTIFIED, (ULONG)Final.Notified);
    EnWriteValue(EVENTNOTIFY_VALUE_CANCELLED, (ULONG)Final.Cancelled);
    EnWriteValue(EVENTNOTIFY_VALUE_CLEANED, (ULONG)Final.Cleaned);
    EnWriteValue(EVENTNOTIFY_VALUE_DRAINED, (ULONG)Final.Drained);
    EnWriteValue(EVENTNOTIFY_VALUE_POOL_BLOCKS, (ULONG)Pool.OutstandingBlocks);
    EnWriteValue(EVENTNOTIFY_VALUE_POOL_BYTES, (ULONG)Pool.OutstandingBytes);
    EnWriteValue(EVENTNOTIFY_VALUE_LEAK_CHECK, (ULONG)LeakCheck);
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL,
               "WdkmEventNotify: unloaded: %I64u notified, %I64u cancelled, %I64u cleaned, "
               "%I64u drained; library pool %ld blocks\n",
               Final.Notified, Final.Cancelled, Final.Cleaned, Final.Drained,
               (LONG)Pool.OutstandingBlocks);

    RtlInitUnicodeString(&DosName, EVENTNOTIFY_DOS_NAME);
    (VOID)IoDeleteSymbolicLink(&DosName);
    if (EnDevice != NULL) {
        IoDeleteDevice(EnDevice);
        EnDevice = NULL;
    }
}

NTSTATUS
DriverEntry(
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath
    )
{
    EVENTNOTIFY_STATE Initial;
    UNICODE_STRING DeviceName;
    UNICODE_STRING DosName;
    LARGE_INTEGER DueTime;
    NTSTATUS Status;

    EnServiceKey.Buffer = EnServiceKeyBuffer;
    EnServiceKey.Length = 0;
    EnServiceKey.MaximumLength = sizeof(EnServiceKeyBuffer);
    RtlCopyUnicodeString(&EnServiceKey, RegistryPath);

    Status = WdkmRundownInitialize(&EnDispatch);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    RtlZeroMemory(&Initial, sizeof(Initial));
    Status = WDKM_SPIN_LOCK_CREATE(&Initial, &EnState);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmCsqCreate(EnCompleteCancelled, NULL, &EnQueue);
    if (Status != STATUS_SUCCESS) {
        (VOID)WdkmSpinLockDestroy(EnState);
        return Status;
    }

    RtlInitUnicodeString(&DeviceName, EVENTNOTIFY_DEVICE_NAME);
    RtlInitUnicodeString(&DosName, EVENTNOTIFY_DOS_NAME);
    Status = IoCreateDevice(DriverObject, 0, &DeviceName, FILE_DEVICE_UNKNOWN,
                            FILE_DEVICE_SECURE_OPEN, FALSE, &EnDevice);
    if (NT_SUCCESS(Status)) {
        Status = IoCreateSymbolicLink(&DosName, &DeviceName);
        if (!NT_SUCCESS(Status)) {
            IoDeleteDevice(EnDevice);
            EnDevice = NULL;
        }
    }
    if (!NT_SUCCESS(Status)) {
        (VOID)WdkmCsqDestroy(EnQueue);
        (VOID)WdkmSpinLockDestroy(EnState);
        return Status;
    }

    DriverObject->MajorFunction[IRP_MJ_CREATE] = EnCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = EnCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = EnCleanup;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = EnDeviceControl;
    DriverObject->DriverUnload = EnUnload;

    KeInitializeDpc(&EnTickDpc, EnTick, NULL);
    KeInitializeTimer(&EnTimer);
    DueTime.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(EVENTNOTIFY_PERIOD_MS);
    (VOID)KeSetTimerEx(&EnTimer, DueTime, EVENTNOTIFY_PERIOD_MS, &EnTickDpc);
    EnTimerSet = TRUE;
    return STATUS_SUCCESS;
}
