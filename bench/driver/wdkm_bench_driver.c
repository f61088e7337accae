/*
 * wdkm_bench_driver.c - the benchmarks in a real driver (.sys), for Wine.
 *
 * One IOCTL, IOCTL_WDKM_BENCH_RUN: the input is a WDKM_BENCH_CONFIG, the
 * output a WDKM_BENCH_OUTPUT with every sample the run produced. The run
 * happens in the IOCTL's own thread, at PASSIVE_LEVEL, and may take
 * seconds; the runner waits for it.
 *
 * The release and the checked variant are two images of this file, linked
 * with the library built both ways. Each creates its own device
 * (\Device\WdkmBenchRelease, \Device\WdkmBenchChecked), so that the runner
 * can load both at once and alternate between them.
 */
/* KeSetSystemAffinityThreadEx: mingw-w64 declares it only for this API set. */
#define SINGLE_GROUP_LEGACY_API 1

#include "wdkm_bench.h"

#if defined(WDKM_CHECKED) && WDKM_CHECKED
#define WDKM_BENCH_DEVICE_NAME L"\\Device\\WdkmBenchChecked"
#define WDKM_BENCH_DOS_NAME    L"\\DosDevices\\WdkmBenchChecked"
#define WDKM_BENCH_CHECKED     1
#else
#define WDKM_BENCH_DEVICE_NAME L"\\Device\\WdkmBenchRelease"
#define WDKM_BENCH_DOS_NAME    L"\\DosDevices\\WdkmBenchRelease"
#define WDKM_BENCH_CHECKED     0
#endif

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD WdkmBenchUnload;
static DRIVER_DISPATCH WdkmBenchCreateClose;
static DRIVER_DISPATCH WdkmBenchDeviceControl;

static PDEVICE_OBJECT WdkmBenchDevice;

/* wdkm_bench.h: the calling (system) thread on the Index-th active
   processor. The thread ends after its run, so its affinity is not reverted. */
LONG
WdkmBenchPinCurrentThread(
    _In_ ULONG Index
    )
{
    KAFFINITY Active = KeQueryActiveProcessors();
    ULONG Count = 0;
    ULONG Bit;

    for (Bit = 0; Bit < sizeof(KAFFINITY) * 8; Bit += 1) {
        Count += (ULONG)((Active >> Bit) & 1);
    }
    if (Count == 0) {
        return -1;
    }
    Index %= Count;
    for (Bit = 0; Bit < sizeof(KAFFINITY) * 8; Bit += 1) {
        if (((Active >> Bit) & 1) != 0) {
            if (Index == 0) {
                (VOID)KeSetSystemAffinityThreadEx((KAFFINITY)1 << Bit);
                return (LONG)Bit;
            }
            Index -= 1;
        }
    }
    return -1;
}

/* Copies each sample into the IOCTL's output while there is room. */
static
BOOLEAN
WdkmBenchCollect(
    _In_opt_ PVOID Context,
    _In_ const WDKM_BENCH_SAMPLE *Sample
    )
{
    WDKM_BENCH_OUTPUT *Output = (WDKM_BENCH_OUTPUT *)Context;

    if (Output == NULL || Output->SampleCount == WDKM_BENCH_MAX_SAMPLES) {
        return FALSE;
    }
    RtlCopyMemory(&Output->Samples[Output->SampleCount], Sample, sizeof(*Sample));
    Output->SampleCount += 1;
    return TRUE;
}

static
NTSTATUS
WdkmBenchCreateClose(
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
WdkmBenchDeviceControl(
    _In_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS Status = STATUS_INVALID_DEVICE_REQUEST;
    ULONG_PTR Information = 0;
    WDKM_BENCH_OUTPUT *Output;
    WDKM_BENCH_CONFIG Config;

    UNREFERENCED_PARAMETER(DeviceObject);
    if (Stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_WDKM_BENCH_RUN) {
        if (Stack->Parameters.DeviceIoControl.InputBufferLength < sizeof(Config) ||
            Stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(*Output)) {
            Status = STATUS_BUFFER_TOO_SMALL;
        } else {
            /* METHOD_BUFFERED: input and output share the system buffer. */
            RtlCopyMemory(&Config, Irp->AssociatedIrp.SystemBuffer, sizeof(Config));
            Output = (WDKM_BENCH_OUTPUT *)Irp->AssociatedIrp.SystemBuffer;
            RtlZeroMemory(Output, sizeof(*Output));
            Output->Checked = WDKM_BENCH_CHECKED;
            Output->Status = WdkmBenchRun(&Config, WdkmBenchCollect, Output);
            Status = STATUS_SUCCESS;
            Information = sizeof(*Output);
        }
    }
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

static
VOID
WdkmBenchUnload(
    _In_ PDRIVER_OBJECT DriverObject
    )
{
    UNICODE_STRING DosName;

    UNREFERENCED_PARAMETER(DriverObject);
    RtlInitUnicodeString(&DosName, WDKM_BENCH_DOS_NAME);
    (VOID)IoDeleteSymbolicLink(&DosName);
    if (WdkmBenchDevice != NULL) {
        IoDeleteDevice(WdkmBenchDevice);
        WdkmBenchDevice = NULL;
    }
}

NTSTATUS
DriverEntry(
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath
    )
{
    UNICODE_STRING DeviceName;
    UNICODE_STRING DosName;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = WdkmBenchUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = WdkmBenchCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = WdkmBenchCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = WdkmBenchDeviceControl;

    RtlInitUnicodeString(&DeviceName, WDKM_BENCH_DEVICE_NAME);
    Status = IoCreateDevice(DriverObject, 0, &DeviceName, FILE_DEVICE_UNKNOWN, 0, FALSE,
                            &WdkmBenchDevice);
    if (NT_SUCCESS(Status)) {
        RtlInitUnicodeString(&DosName, WDKM_BENCH_DOS_NAME);
        Status = IoCreateSymbolicLink(&DosName, &DeviceName);
        if (!NT_SUCCESS(Status)) {
            IoDeleteDevice(WdkmBenchDevice);
            WdkmBenchDevice = NULL;
        }
    }
    return Status;
}
