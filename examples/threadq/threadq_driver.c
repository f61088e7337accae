/*
 * threadq_driver.c - the I/O plumbing of the worker-thread driver: the
 * device object, the dispatch routines and the values left under the
 * service key at unload. The device's logic, its thread and every lock
 * are in threadq_core.c (see threadq_core.h for the shape), which is also
 * unit-tested on the host.
 *
 * Wine 8: no IRP_MJ_CLEANUP when a handle is closed, only IRP_MJ_CLOSE
 * (TqCoreClose does the cleanup's work first); a cancel routine runs at a
 * reported PASSIVE_LEVEL.
 */
#include <ntddk.h>

#include <wdkmutex/wdkmutex.h>

#include "threadq_core.h"

static PDEVICE_OBJECT TqDevice;
static WCHAR TqServiceKeyBuffer[256];
static UNICODE_STRING TqServiceKey;

static DRIVER_UNLOAD TqUnload;
static DRIVER_DISPATCH TqCreate;
static DRIVER_DISPATCH TqClose;
static DRIVER_DISPATCH TqCleanup;
static DRIVER_DISPATCH TqDeviceControl;

static NTSTATUS
TqCompleteNow(
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

static NTSTATUS
TqCreate(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(DeviceObject);
    Status = TqCoreOpen(IoGetCurrentIrpStackLocation(Irp)->FileObject);
    if (Status != STATUS_SUCCESS) {
        DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, "WdkmThreadQ: open: %s\n",
                   WdkmStatusName(Status));
    }
    return TqCompleteNow(Irp, WdkmStatusForRequest(Status), 0);
}

static NTSTATUS
TqClose(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    ULONG Ending;

    UNREFERENCED_PARAMETER(DeviceObject);
    Ending = TqCoreClose(IoGetCurrentIrpStackLocation(Irp)->FileObject);
    if (Ending != 0) {
        /* Windows sends IRP_MJ_CLOSE only once every request of the
           handle has ended; a kernel that sends it sooner is seen here. */
        DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL,
                   "WdkmThreadQ: IRP_MJ_CLOSE with %lu job(s) of the handle in flight\n",
                   Ending);
    }
    return TqCompleteNow(Irp, STATUS_SUCCESS, 0);
}

static NTSTATUS
TqCleanup(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    UNREFERENCED_PARAMETER(DeviceObject);
    (VOID)TqCoreCleanup(IoGetCurrentIrpStackLocation(Irp)->FileObject);
    return TqCompleteNow(Irp, STATUS_SUCCESS, 0);
}

static NTSTATUS
TqDeviceControl(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    THREADQ_REPORT *Report;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(DeviceObject);
    switch (Stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_THREADQ_JOB:
        Status = TqCoreSubmit(Irp);
        if (Status == STATUS_PENDING) {
            return STATUS_PENDING;      /* the core's now: not touched again */
        }
        return TqCompleteNow(Irp, WdkmStatusForRequest(Status), 0);
    case IOCTL_THREADQ_QUERY:
        if (Stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(*Report)) {
            return TqCompleteNow(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        }
        Report = (THREADQ_REPORT *)Irp->AssociatedIrp.SystemBuffer;
        Status = TqCoreQuery(Stack->FileObject, Report);
        if (Status != STATUS_SUCCESS) {
            DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL,
                       "WdkmThreadQ: query: %s\n", WdkmStatusName(Status));
            return TqCompleteNow(Irp, WdkmStatusForRequest(Status), 0);
        }
        return TqCompleteNow(Irp, STATUS_SUCCESS, sizeof(*Report));
    case IOCTL_THREADQ_PAUSE:
        Status = TqCorePause(TRUE);
        return TqCompleteNow(Irp, WdkmStatusForRequest(Status), 0);
    default:
        return TqCompleteNow(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

/* A REG_DWORD under the service key (the client reads them after unload). */
static VOID
TqWriteValue(
    _In_ PCWSTR Name,
    _In_ ULONG Value
    )
{
    OBJECT_ATTRIBUTES Attributes;
    UNICODE_STRING ValueName;
    HANDLE Key;

    InitializeObjectAttributes(&Attributes, &TqServiceKey,
                               OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
    if (!NT_SUCCESS(ZwOpenKey(&Key, KEY_SET_VALUE, &Attributes))) {
        return;
    }
    RtlInitUnicodeString(&ValueName, Name);
    (VOID)ZwSetValueKey(Key, &ValueName, 0, REG_DWORD, &Value, sizeof(Value));
    (VOID)ZwClose(Key);
}

static VOID
TqUnload(
    _In_ PDRIVER_OBJECT DriverObject
    )
{
    WDKM_POOL_STATISTICS Pool;
    UNICODE_STRING DosName;
    NTSTATUS LeakCheck;
    TQ_FINAL Final;

    UNREFERENCED_PARAMETER(DriverObject);
    /* Jobs may be in flight: the core's handshake ends every one. */
    TqCoreStop(&Final);

    WdkmQueryPoolStatistics(&Pool);
    LeakCheck = WdkmDiagLeakCheck(NULL);
    TqWriteValue(THREADQ_VALUE_SUBMITTED, (ULONG)Final.Submitted);
    TqWriteValue(THREADQ_VALUE_DONE, (ULONG)Final.Done);
    TqWriteValue(THREADQ_VALUE_CANCELLED, (ULONG)Final.Cancelled);
    TqWriteValue(THREADQ_VALUE_THREAD_EXIT, (ULONG)Final.ThreadExit);
    TqWriteValue(THREADQ_VALUE_POOL_BLOCKS, (ULONG)Pool.OutstandingBlocks);
    TqWriteValue(THREADQ_VALUE_LEAK_CHECK, (ULONG)LeakCheck);
    TqWriteValue(THREADQ_VALUE_DESTROY, (ULONG)Final.Destroy);
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL,
               "WdkmThreadQ: unloaded (%s): %I64u jobs, %I64u done, %I64u cancelled; "
               "library pool %ld blocks\n",
               WdkmStatusName(Final.Destroy), Final.Submitted, Final.Done, Final.Cancelled,
               (LONG)Pool.OutstandingBlocks);

    RtlInitUnicodeString(&DosName, THREADQ_DOS_NAME);
    (VOID)IoDeleteSymbolicLink(&DosName);
    IoDeleteDevice(TqDevice);
    TqDevice = NULL;
}

NTSTATUS
DriverEntry(
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath
    )
{
    UNICODE_STRING DeviceName;
    UNICODE_STRING DosName;
    TQ_FINAL Unused;
    NTSTATUS Status;

    TqServiceKey.Buffer = TqServiceKeyBuffer;
    TqServiceKey.Length = 0;
    TqServiceKey.MaximumLength = sizeof(TqServiceKeyBuffer);
    RtlCopyUnicodeString(&TqServiceKey, RegistryPath);

    RtlInitUnicodeString(&DeviceName, THREADQ_DEVICE_NAME);
    RtlInitUnicodeString(&DosName, THREADQ_DOS_NAME);
    Status = IoCreateDevice(DriverObject, 0, &DeviceName, FILE_DEVICE_UNKNOWN,
                            FILE_DEVICE_SECURE_OPEN, FALSE, &TqDevice);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    Status = TqCoreStart();
    if (Status != STATUS_SUCCESS) {
        IoDeleteDevice(TqDevice);
        return Status;
    }
    Status = IoCreateSymbolicLink(&DosName, &DeviceName);
    if (!NT_SUCCESS(Status)) {
        TqCoreStop(&Unused);
        IoDeleteDevice(TqDevice);
        return Status;
    }

    DriverObject->MajorFunction[IRP_MJ_CREATE] = TqCreate;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = TqClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = TqCleanup;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = TqDeviceControl;
    DriverObject->DriverUnload = TqUnload;
    return STATUS_SUCCESS;
}
