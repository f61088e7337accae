/*
 * ticker_driver.c - the I/O plumbing of the ticker driver: the device
 * object, the dispatch routine, the work item and the values left under
 * the service key at unload. The device's logic, every lock and the IRPs'
 * completion are in ticker_core.c (see ticker_core.h for the shape),
 * which is also unit-tested on the host.
 *
 * Wine 8 (measured by the other examples, the same here): the timer DPC
 * runs at a reported PASSIVE_LEVEL; KeCancelTimer waits for a running
 * DPC; no IRP_MJ_CLEANUP when a handle is closed (IRP_MJ_CLOSE tears the
 * handle's context down instead).
 */
#include <ntddk.h>

#include <wdkmutex/wdkmutex.h>

#include "ticker_core.h"

static PDEVICE_OBJECT TkDevice;
static PIO_WORKITEM TkWorkItem;
static WCHAR TkServiceKeyBuffer[256];
static UNICODE_STRING TkServiceKey;

static DRIVER_UNLOAD TkUnload;
static DRIVER_DISPATCH TkDispatch;
static IO_WORKITEM_ROUTINE TkWorkRoutine;
static TK_QUEUE_WORK TkQueueWorkItem;

static VOID
TkWorkRoutine(
    _In_ PDEVICE_OBJECT DeviceObject,
    _In_opt_ PVOID Context
    )
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Context);
    TkCoreWork();
}

/* <= DISPATCH_LEVEL (the timer DPC): the core asks for TkCoreWork at
   PASSIVE_LEVEL, at most once until it has run dry. The I/O manager keeps
   the device object (and so the driver) until the routine has returned;
   the core's stop waits for it to run dry. */
static VOID
TkQueueWorkItem(VOID)
{
    IoQueueWorkItem(TkWorkItem, TkWorkRoutine, DelayedWorkQueue, NULL);
}

/* IRP_MJ_CREATE, _CLEANUP, _CLOSE, _DEVICE_CONTROL: the core completes. */
static NTSTATUS
TkDispatch(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return TkCoreDispatch(Irp);
}

/* A REG_DWORD under the service key (the client reads them after unload). */
static VOID
TkWriteValue(
    _In_ PCWSTR Name,
    _In_ ULONG Value
    )
{
    OBJECT_ATTRIBUTES Attributes;
    UNICODE_STRING ValueName;
    HANDLE Key;

    InitializeObjectAttributes(&Attributes, &TkServiceKey,
                               OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
    if (!NT_SUCCESS(ZwOpenKey(&Key, KEY_SET_VALUE, &Attributes))) {
        return;
    }
    RtlInitUnicodeString(&ValueName, Name);
    (VOID)ZwSetValueKey(Key, &ValueName, 0, REG_DWORD, &Value, sizeof(Value));
    (VOID)ZwClose(Key);
}

static VOID
TkUnload(
    _In_ PDRIVER_OBJECT DriverObject
    )
{
    WDKM_POOL_STATISTICS Pool;
    UNICODE_STRING DosName;
    NTSTATUS Stopped;
    NTSTATUS LeakCheck;
    TK_FINAL Final;

    UNREFERENCED_PARAMETER(DriverObject);
    /* The DPC, the work item and requests may be in flight: the core
       waits for each. */
    Stopped = TkCoreStop(&Final);
    IoFreeWorkItem(TkWorkItem);
    TkWorkItem = NULL;

    WdkmQueryPoolStatistics(&Pool);
    LeakCheck = WdkmDiagLeakCheck(NULL);
    TkWriteValue(TICKER_VALUE_REQUESTS, (ULONG)Final.Requests);
    TkWriteValue(TICKER_VALUE_GENERATED, (ULONG)Final.Generated);
    TkWriteValue(TICKER_VALUE_DISTRIBUTED, (ULONG)Final.Distributed);
    TkWriteValue(TICKER_VALUE_DELIVERED, (ULONG)Final.Delivered);
    TkWriteValue(TICKER_VALUE_HEARD, (ULONG)Final.Heard);
    TkWriteValue(TICKER_VALUE_OPENED, Final.Opened);
    TkWriteValue(TICKER_VALUE_CLEANED, Final.CleanedUp);
    TkWriteValue(TICKER_VALUE_CLOSED, Final.ClosedWithoutCleanup);
    TkWriteValue(TICKER_VALUE_HANDLES_LEFT, Final.HandlesLeft);
    TkWriteValue(TICKER_VALUE_POOL_BLOCKS, (ULONG)Pool.OutstandingBlocks);
    TkWriteValue(TICKER_VALUE_LEAK_CHECK, (ULONG)LeakCheck);
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL,
               "WdkmTicker: unloaded (%s): %I64u ticks, %I64u units generated, %I64u "
               "distributed, %I64u delivered, %I64u requests, %lu handle(s) left; "
               "library pool %ld blocks\n",
               WdkmStatusName(Stopped), Final.Ticks, Final.Generated, Final.Distributed,
               Final.Delivered, Final.Requests, Final.HandlesLeft, (LONG)Pool.OutstandingBlocks);

    RtlInitUnicodeString(&DosName, TICKER_DOS_NAME);
    (VOID)IoDeleteSymbolicLink(&DosName);
    IoDeleteDevice(TkDevice);
    TkDevice = NULL;
}

NTSTATUS
DriverEntry(
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath
    )
{
    UNICODE_STRING DeviceName;
    UNICODE_STRING DosName;
    TK_FINAL Unused;
    NTSTATUS Status;

    TkServiceKey.Buffer = TkServiceKeyBuffer;
    TkServiceKey.Length = 0;
    TkServiceKey.MaximumLength = sizeof(TkServiceKeyBuffer);
    RtlCopyUnicodeString(&TkServiceKey, RegistryPath);

    RtlInitUnicodeString(&DeviceName, TICKER_DEVICE_NAME);
    RtlInitUnicodeString(&DosName, TICKER_DOS_NAME);
    Status = IoCreateDevice(DriverObject, 0, &DeviceName, FILE_DEVICE_UNKNOWN,
                            FILE_DEVICE_SECURE_OPEN, FALSE, &TkDevice);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    TkWorkItem = IoAllocateWorkItem(TkDevice);
    if (TkWorkItem == NULL) {
        IoDeleteDevice(TkDevice);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Status = TkCoreStart(TkQueueWorkItem);
    if (Status != STATUS_SUCCESS) {
        IoFreeWorkItem(TkWorkItem);
        IoDeleteDevice(TkDevice);
        return Status;
    }
    Status = IoCreateSymbolicLink(&DosName, &DeviceName);
    if (!NT_SUCCESS(Status)) {
        (VOID)TkCoreStop(&Unused);
        IoFreeWorkItem(TkWorkItem);
        IoDeleteDevice(TkDevice);
        return Status;
    }

    DriverObject->MajorFunction[IRP_MJ_CREATE] = TkDispatch;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = TkDispatch;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = TkDispatch;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = TkDispatch;
    DriverObject->DriverUnload = TkUnload;
    return STATUS_SUCCESS;
}
