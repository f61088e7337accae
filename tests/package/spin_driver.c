/*
 * spin_driver.c - a driver that uses exactly one lock kind, a spin lock,
 * built with wdkm_add_driver from the installed package. check-package.sh
 * checks that its image imports no routine of another lock kind, and runs
 * it under Wine through wdkm_add_wine_test (spin_runner.c).
 */
#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

#include "spin_ioctl.h"

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD SpinUnload;
static DRIVER_DISPATCH SpinCreateClose;
static DRIVER_DISPATCH SpinDeviceControl;

static PWDKM_SPIN_LOCK SpinCounter;      /* protects a ULONG64 */

static
NTSTATUS
SpinCreateClose(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static
NTSTATUS
SpinDeviceControl(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG Count;
    ULONG Index;
    SPIN_REPLY Reply;
    WDKM_POOL_STATISTICS Pool;
    ULONG64 *Total;
    KIRQL OldIrql;
    NTSTATUS Status = STATUS_SUCCESS;

    UNREFERENCED_PARAMETER(DeviceObject);
    RtlZeroMemory(&Reply, sizeof(Reply));
    if (Stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_SPIN_FAIL_WITH &&
        Stack->Parameters.DeviceIoControl.InputBufferLength >= 2 * sizeof(LONG)) {
        /* A request failed by the library, as it leaves the driver. */
        const LONG *Input = (const LONG *)Irp->AssociatedIrp.SystemBuffer;

        Status = Input[1] != 0 ? WdkmStatusForRequest((NTSTATUS)Input[0]) : (NTSTATUS)Input[0];
        Irp->IoStatus.Information = 0;
        Irp->IoStatus.Status = Status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return Status;
    }
    if (Stack->Parameters.DeviceIoControl.IoControlCode != IOCTL_SPIN_ADD ||
        Stack->Parameters.DeviceIoControl.InputBufferLength < sizeof(ULONG) ||
        Stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(Reply)) {
        Status = STATUS_INVALID_DEVICE_REQUEST;
    } else {
        Count = *(const ULONG *)Irp->AssociatedIrp.SystemBuffer;
        /* One acquisition per unit, as a hot path would. */
        for (Index = 0; Index < Count && NT_SUCCESS(Status); Index += 1) {
            Status = WDKM_SPIN_LOCK_ACQUIRE(SpinCounter, &OldIrql, &Total);
            if (WDKM_ACQUIRED(Status)) {
                *Total += 1;
                Reply.Total = *Total;
                Status = WdkmSpinLockRelease(SpinCounter, OldIrql);
            }
        }
        WdkmQueryPoolStatistics(&Pool);
        Reply.OutstandingBlocks = (unsigned long)Pool.OutstandingBlocks;
    }
    if (NT_SUCCESS(Status)) {
        RtlCopyMemory(Irp->AssociatedIrp.SystemBuffer, &Reply, sizeof(Reply));
        Irp->IoStatus.Information = sizeof(Reply);
    } else {
        Irp->IoStatus.Information = 0;
    }
    Irp->IoStatus.Status = Status;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

static
VOID
SpinUnload(
    _In_ PDRIVER_OBJECT DriverObject
    )
{
    UNICODE_STRING DosName;

    RtlInitUnicodeString(&DosName, SPIN_DOS_NAME);
    (VOID)IoDeleteSymbolicLink(&DosName);
    if (DriverObject->DeviceObject != NULL) {
        IoDeleteDevice(DriverObject->DeviceObject);
    }
    (VOID)WdkmSpinLockDestroy(SpinCounter);
}

NTSTATUS
DriverEntry(
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath
    )
{
    ULONG64 Initial = 0;
    UNICODE_STRING DeviceName;
    UNICODE_STRING DosName;
    PDEVICE_OBJECT Device = NULL;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(RegistryPath);
    Status = WDKM_SPIN_LOCK_CREATE(&Initial, &SpinCounter);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    RtlInitUnicodeString(&DeviceName, SPIN_DEVICE_NAME);
    RtlInitUnicodeString(&DosName, SPIN_DOS_NAME);
    Status = IoCreateDevice(DriverObject, 0, &DeviceName, FILE_DEVICE_UNKNOWN, 0, FALSE, &Device);
    if (NT_SUCCESS(Status)) {
        Status = IoCreateSymbolicLink(&DosName, &DeviceName);
        if (!NT_SUCCESS(Status)) {
            IoDeleteDevice(Device);
        }
    }
    if (!NT_SUCCESS(Status)) {
        (VOID)WdkmSpinLockDestroy(SpinCounter);
        return Status;
    }
    DriverObject->MajorFunction[IRP_MJ_CREATE] = SpinCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = SpinCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = SpinDeviceControl;
    DriverObject->DriverUnload = SpinUnload;
    return STATUS_SUCCESS;
}
