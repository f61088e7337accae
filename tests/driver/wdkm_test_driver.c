/*
 * wdkm_test_driver.c - the test driver: device, dispatch routines, unload.
 *
 * DriverEntry creates \Device\WdkmTest and \DosDevices\WdkmTest and counts
 * the load in the service key; the device answers the IOCTLs of
 * wdkm_test_ioctl.h (list the tests, run one); DriverUnload deletes both
 * names and counts the unload. Tests run one at a time, at PASSIVE_LEVEL,
 * in the thread of the caller's DeviceIoControl.
 */
#include "wdkm_test_framework.h"

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD WdkmpTestDriverUnload;
_Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE)
static DRIVER_DISPATCH WdkmpTestDispatchCreateClose;
_Dispatch_type_(IRP_MJ_DEVICE_CONTROL)
static DRIVER_DISPATCH WdkmpTestDispatchDeviceControl;

static PDEVICE_OBJECT WdkmpTestDevice;
static UNICODE_STRING WdkmpTestServiceKey;   /* copy of DriverEntry's RegistryPath */
static ULONG WdkmpTestLoadCount;
static volatile LONG WdkmpTestRunning;       /* 1 while a test runs */

PDEVICE_OBJECT WdkmTestDeviceObject(VOID)
{
    return WdkmpTestDevice;
}

/* Copies a counted string into tagged non-paged pool (NUL-terminated). */
static NTSTATUS WdkmpTestCopyString(_Out_ PUNICODE_STRING Copy, _In_ PCUNICODE_STRING Source)
{
    Copy->Length = 0;
    Copy->MaximumLength = (USHORT)(Source->Length + sizeof(WCHAR));
    Copy->Buffer = (PWCH)WdkmTestAllocate(Copy->MaximumLength);
    if (Copy->Buffer == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    RtlCopyMemory(Copy->Buffer, Source->Buffer, Source->Length);
    Copy->Length = Source->Length;
    return STATUS_SUCCESS;
}

static VOID WdkmpTestFreeString(_Inout_ PUNICODE_STRING String)
{
    WdkmTestFree(String->Buffer);
    String->Buffer = NULL;
    String->Length = 0;
    String->MaximumLength = 0;
}

static VOID NTAPI WdkmpTestDriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING dosName = RTL_CONSTANT_STRING(WDKM_TEST_DOS_NAME);
    ULONG unloads = 0;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(DriverObject);

    (VOID)IoDeleteSymbolicLink(&dosName);
    if (WdkmpTestDevice != NULL) {
        IoDeleteDevice(WdkmpTestDevice);
        WdkmpTestDevice = NULL;
    }
    /* Counted last: the runner takes the count as "unload completed". */
    status = WdkmTestBumpServiceValue(&WdkmpTestServiceKey, WDKM_TEST_VALUE_UNLOAD_COUNT, &unloads);
    if (!NT_SUCCESS(status)) {
        WdkmTestTrace(DPFLTR_ERROR_LEVEL, "cannot count the unload: 0x%08lX", (ULONG)status);
    }
    WdkmTestTrace(DPFLTR_INFO_LEVEL, "driver unloaded (load %lu, unload %lu)%s",
                  WdkmpTestLoadCount, unloads,
                  WdkmTestTaintReason() != NULL ? " while tainted" : "");
    WdkmpTestFreeString(&WdkmpTestServiceKey);
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING deviceName = RTL_CONSTANT_STRING(WDKM_TEST_DEVICE_NAME);
    UNICODE_STRING dosName = RTL_CONSTANT_STRING(WDKM_TEST_DOS_NAME);
    NTSTATUS status;

    status = WdkmpTestCopyString(&WdkmpTestServiceKey, RegistryPath);
    if (!NT_SUCCESS(status)) {
        return status;
    }

    status = IoCreateDevice(DriverObject, 0, &deviceName, FILE_DEVICE_UNKNOWN,
                            FILE_DEVICE_SECURE_OPEN, FALSE, &WdkmpTestDevice);
    if (!NT_SUCCESS(status)) {
        WdkmTestTrace(DPFLTR_ERROR_LEVEL, "IoCreateDevice failed: 0x%08lX", (ULONG)status);
        WdkmpTestFreeString(&WdkmpTestServiceKey);
        return status;
    }
    status = IoCreateSymbolicLink(&dosName, &deviceName);
    if (!NT_SUCCESS(status)) {
        WdkmTestTrace(DPFLTR_ERROR_LEVEL, "IoCreateSymbolicLink failed: 0x%08lX", (ULONG)status);
        IoDeleteDevice(WdkmpTestDevice);
        WdkmpTestDevice = NULL;
        WdkmpTestFreeString(&WdkmpTestServiceKey);
        return status;
    }

    DriverObject->MajorFunction[IRP_MJ_CREATE] = WdkmpTestDispatchCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = WdkmpTestDispatchCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = WdkmpTestDispatchDeviceControl;
    DriverObject->DriverUnload = WdkmpTestDriverUnload;
    WdkmpTestDevice->Flags &= ~DO_DEVICE_INITIALIZING;

    /* Not fatal: the runner reports a load count of 0 as its own failure. */
    status = WdkmTestBumpServiceValue(&WdkmpTestServiceKey, WDKM_TEST_VALUE_LOAD_COUNT,
                                      &WdkmpTestLoadCount);
    if (!NT_SUCCESS(status)) {
        WdkmTestTrace(DPFLTR_ERROR_LEVEL, "cannot count the load: 0x%08lX", (ULONG)status);
    }
    WdkmTestTrace(DPFLTR_INFO_LEVEL, "driver loaded (load %lu, %lu tests)", WdkmpTestLoadCount,
                  WdkmTestTableCount);
    return STATUS_SUCCESS;
}

static NTSTATUS WdkmpTestComplete(_Inout_ PIRP Irp, _In_ NTSTATUS Status,
                                  _In_ ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = NT_SUCCESS(Status) ? Information : 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

static NTSTATUS NTAPI WdkmpTestDispatchCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return WdkmpTestComplete(Irp, STATUS_SUCCESS, 0);
}

/* Reads the test index of a GET_NAME or RUN request. */
static NTSTATUS WdkmpTestRequestIndex(_In_ PIO_STACK_LOCATION Stack, _In_ PVOID Buffer,
                                      _In_ ULONG OutputSize, _Out_ PULONG Index)
{
    *Index = 0;
    if (Stack->Parameters.DeviceIoControl.InputBufferLength < sizeof(WDKM_TEST_INDEX)) {
        return STATUS_INVALID_PARAMETER;
    }
    if (Stack->Parameters.DeviceIoControl.OutputBufferLength < OutputSize) {
        return STATUS_BUFFER_TOO_SMALL;
    }
    *Index = ((const WDKM_TEST_INDEX *)Buffer)->Index;
    if (*Index >= WdkmTestTableCount) {
        return STATUS_INVALID_PARAMETER;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI WdkmpTestDispatchDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    PVOID buffer = Irp->AssociatedIrp.SystemBuffer;
    NTSTATUS status;
    ULONG index;

    UNREFERENCED_PARAMETER(DeviceObject);

    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_WDKM_TEST_GET_INFO: {
        WDKM_TEST_DRIVER_INFO *info = (WDKM_TEST_DRIVER_INFO *)buffer;
        if (stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(*info)) {
            return WdkmpTestComplete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        }
        RtlZeroMemory(info, sizeof(*info));
        info->InterfaceVersion = WDKM_TEST_INTERFACE_VERSION;
        info->TestCount = WdkmTestTableCount;
        info->LoadCount = WdkmpTestLoadCount;
        info->Flags = (WdkmTestTaintReason() != NULL) ? WDKM_TEST_DRIVER_TAINTED : 0;
        return WdkmpTestComplete(Irp, STATUS_SUCCESS, sizeof(*info));
    }

    case IOCTL_WDKM_TEST_GET_NAME: {
        WDKM_TEST_NAME *name = (WDKM_TEST_NAME *)buffer;
        PCSTR source;
        ULONG i;
        status = WdkmpTestRequestIndex(stack, buffer, sizeof(*name), &index);
        if (!NT_SUCCESS(status)) {
            return WdkmpTestComplete(Irp, status, 0);
        }
        source = WdkmTestTable[index].Name;
        RtlZeroMemory(name, sizeof(*name));
        for (i = 0; i + 1 < sizeof(name->Name) && source[i] != '\0'; i++) {
            name->Name[i] = source[i];
        }
        return WdkmpTestComplete(Irp, STATUS_SUCCESS, sizeof(*name));
    }

    case IOCTL_WDKM_TEST_RUN:
        status = WdkmpTestRequestIndex(stack, buffer, sizeof(WDKM_TEST_RESULT), &index);
        if (!NT_SUCCESS(status)) {
            return WdkmpTestComplete(Irp, status, 0);
        }
        if (InterlockedCompareExchange(&WdkmpTestRunning, 1, 0) != 0) {
            return WdkmpTestComplete(Irp, STATUS_DEVICE_BUSY, 0);
        }
        WdkmTestRun(&WdkmTestTable[index], (PWDKM_TEST_RESULT)buffer);
        InterlockedExchange(&WdkmpTestRunning, 0);
        return WdkmpTestComplete(Irp, STATUS_SUCCESS, sizeof(WDKM_TEST_RESULT));

    default:
        return WdkmpTestComplete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}
