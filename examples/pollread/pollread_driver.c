/*
 * pollread_driver.c - the I/O plumbing of the polled-read driver: the
 * device object, the dispatch routines, the work item and the values left
 * under the service key at unload. The device's logic and every lock are
 * in pollread_core.c (see pollread_core.h for the shape), which is also
 * unit-tested on the host.
 *
 * The shape is that of a classic WDM polling driver (a data-acquisition
 * device with a settling time: requests pend in a cancel-safe queue, one
 * is the device's current request, a timer DPC retries it, IRP_MJ_CLEANUP
 * cancels a handle's requests), with a work item that books each ending
 * to its handle at PASSIVE_LEVEL under an ERESOURCE.
 *
 * Wine 8 (measured for eventnotify, the same here): the timer DPC runs at
 * a reported PASSIVE_LEVEL; KeCancelTimer waits for a running DPC; no
 * IRP_MJ_CLEANUP when a handle is closed (the unload cancels instead).
 */
#include <ntddk.h>

#include <wdkmutex/wdkmutex.h>

#include "pollread_core.h"

static PDEVICE_OBJECT PrDevice;
static PIO_WORKITEM PrWorkItem;
static WCHAR PrServiceKeyBuffer[256];
static UNICODE_STRING PrServiceKey;

static DRIVER_UNLOAD PrUnload;
static DRIVER_DISPATCH PrCreate;
static DRIVER_DISPATCH PrClose;
static DRIVER_DISPATCH PrCleanup;
static DRIVER_DISPATCH PrDeviceControl;
static IO_WORKITEM_ROUTINE PrWorkRoutine;
static PR_QUEUE_WORK PrQueueWorkItem;

static NTSTATUS
PrCompleteNow(
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

static VOID
PrWorkRoutine(
    _In_ PDEVICE_OBJECT DeviceObject,
    _In_opt_ PVOID Context
    )
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Context);
    PrCoreWork();
}

/* <= DISPATCH_LEVEL: the core asks for PrCoreWork at PASSIVE_LEVEL. The
   I/O manager keeps the device object (and so the driver) alive until the
   routine has returned; the core's stop waits for it to run dry. */
static VOID
PrQueueWorkItem(VOID)
{
    IoQueueWorkItem(PrWorkItem, PrWorkRoutine, DelayedWorkQueue, NULL);
}

static NTSTATUS
PrCreate(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(DeviceObject);
    Status = PrCoreOpen(IoGetCurrentIrpStackLocation(Irp)->FileObject);
    return PrCompleteNow(Irp, WdkmStatusForRequest(Status), 0);
}

static NTSTATUS
PrClose(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    UNREFERENCED_PARAMETER(DeviceObject);
    /* Close cannot fail; a lookup refused here leaves the open to the
       unload, which frees what is left. */
    (VOID)PrCoreClose(IoGetCurrentIrpStackLocation(Irp)->FileObject);
    return PrCompleteNow(Irp, STATUS_SUCCESS, 0);
}

static NTSTATUS
PrCleanup(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    UNREFERENCED_PARAMETER(DeviceObject);
    PrCoreCleanup(IoGetCurrentIrpStackLocation(Irp)->FileObject);
    return PrCompleteNow(Irp, STATUS_SUCCESS, 0);
}

static NTSTATUS
PrDeviceControl(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    POLLREAD_REPORT *Report;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(DeviceObject);
    switch (Stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_POLLREAD_READ:
        Status = PrCoreRead(Irp);
        if (Status == STATUS_PENDING) {
            return STATUS_PENDING;      /* the core's now: not touched again */
        }
        return PrCompleteNow(Irp, Status, 0);
    case IOCTL_POLLREAD_QUERY:
        if (Stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(*Report)) {
            return PrCompleteNow(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        }
        Report = (POLLREAD_REPORT *)Irp->AssociatedIrp.SystemBuffer;
        Status = PrCoreQuery(Stack->FileObject, Report);
        if (Status != STATUS_SUCCESS) {
            DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL,
                       "WdkmPollRead: query: %s\n", WdkmStatusName(Status));
            return PrCompleteNow(Irp, WdkmStatusForRequest(Status), 0);
        }
        return PrCompleteNow(Irp, STATUS_SUCCESS, sizeof(*Report));
    case IOCTL_POLLREAD_HOLD:
        Status = PrCoreHold();
        return PrCompleteNow(Irp, WdkmStatusForRequest(Status), 0);
    default:
        return PrCompleteNow(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

/* A REG_DWORD under the service key (the client reads them after unload). */
static VOID
PrWriteValue(
    _In_ PCWSTR Name,
    _In_ ULONG Value
    )
{
    OBJECT_ATTRIBUTES Attributes;
    UNICODE_STRING ValueName;
    HANDLE Key;

    InitializeObjectAttributes(&Attributes, &PrServiceKey,
                               OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
    if (!NT_SUCCESS(ZwOpenKey(&Key, KEY_SET_VALUE, &Attributes))) {
        return;
    }
    RtlInitUnicodeString(&ValueName, Name);
    (VOID)ZwSetValueKey(Key, &ValueName, 0, REG_DWORD, &Value, sizeof(Value));
    (VOID)ZwClose(Key);
}

static VOID
PrUnload(
    _In_ PDRIVER_OBJECT DriverObject
    )
{
    WDKM_POOL_STATISTICS Pool;
    UNICODE_STRING DosName;
    NTSTATUS Stopped;
    NTSTATUS LeakCheck;
    PR_FINAL Final;

    UNREFERENCED_PARAMETER(DriverObject);
    /* Requests may be in flight: the core ends every one of them. */
    Stopped = PrCoreStop(&Final);
    IoFreeWorkItem(PrWorkItem);
    PrWorkItem = NULL;

    WdkmQueryPoolStatistics(&Pool);
    LeakCheck = WdkmDiagLeakCheck(NULL);
    PrWriteValue(POLLREAD_VALUE_READS, (ULONG)Final.Reads);
    PrWriteValue(POLLREAD_VALUE_SAMPLED, (ULONG)Final.Sampled);
    PrWriteValue(POLLREAD_VALUE_CANCELLED, (ULONG)Final.Cancelled);
    PrWriteValue(POLLREAD_VALUE_CREDITED, (ULONG)Final.Credited);
    PrWriteValue(POLLREAD_VALUE_OPENS_LEFT, Final.OpensLeft);
    PrWriteValue(POLLREAD_VALUE_POOL_BLOCKS, (ULONG)Pool.OutstandingBlocks);
    PrWriteValue(POLLREAD_VALUE_LEAK_CHECK, (ULONG)LeakCheck);
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL,
               "WdkmPollRead: unloaded (%s): %I64u reads, %I64u sampled, %I64u cancelled, "
               "%I64u credited, %lu open(s) left; library pool %ld blocks\n",
               WdkmStatusName(Stopped), Final.Reads, Final.Sampled, Final.Cancelled,
               Final.Credited, Final.OpensLeft, (LONG)Pool.OutstandingBlocks);

    RtlInitUnicodeString(&DosName, POLLREAD_DOS_NAME);
    (VOID)IoDeleteSymbolicLink(&DosName);
    IoDeleteDevice(PrDevice);
    PrDevice = NULL;
}

NTSTATUS
DriverEntry(
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath
    )
{
    UNICODE_STRING DeviceName;
    UNICODE_STRING DosName;
    PR_FINAL Unused;
    NTSTATUS Status;

    PrServiceKey.Buffer = PrServiceKeyBuffer;
    PrServiceKey.Length = 0;
    PrServiceKey.MaximumLength = sizeof(PrServiceKeyBuffer);
    RtlCopyUnicodeString(&PrServiceKey, RegistryPath);

    RtlInitUnicodeString(&DeviceName, POLLREAD_DEVICE_NAME);
    RtlInitUnicodeString(&DosName, POLLREAD_DOS_NAME);
    Status = IoCreateDevice(DriverObject, 0, &DeviceName, FILE_DEVICE_UNKNOWN,
                            FILE_DEVICE_SECURE_OPEN, FALSE, &PrDevice);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    PrWorkItem = IoAllocateWorkItem(PrDevice);
    if (PrWorkItem == NULL) {
        IoDeleteDevice(PrDevice);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Status = PrCoreStart(PrQueueWorkItem);
    if (Status != STATUS_SUCCESS) {
        IoFreeWorkItem(PrWorkItem);
        IoDeleteDevice(PrDevice);
        return Status;
    }
    Status = IoCreateSymbolicLink(&DosName, &DeviceName);
    if (!NT_SUCCESS(Status)) {
        (VOID)PrCoreStop(&Unused);
        IoFreeWorkItem(PrWorkItem);
        IoDeleteDevice(PrDevice);
        return Status;
    }

    DriverObject->MajorFunction[IRP_MJ_CREATE] = PrCreate;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = PrClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = PrCleanup;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = PrDeviceControl;
    DriverObject->DriverUnload = PrUnload;
    return STATUS_SUCCESS;
}
