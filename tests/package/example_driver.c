/*
 * example_driver.c - the smallest useful driver built against the installed
 * wdkmutex package (tests/package): a counter in a registry lock, bumped at
 * load, read back and freed at unload.
 */
#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

typedef struct _EXAMPLE_COUNTERS {
    ULONG Loads;
    ULONG64 Bytes;
} EXAMPLE_COUNTERS;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD ExampleUnload;

static
VOID
ExampleUnload(
    _In_ PDRIVER_OBJECT DriverObject
    )
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;

    UNREFERENCED_PARAMETER(DriverObject);
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(5000);
    if (WdkmGrtDestroy(&Timeout, &Report) != STATUS_SUCCESS) {
        DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL,
                   "example: %lu registry locks still referenced\n", Report.StillReferenced);
    }
}

NTSTATUS
DriverEntry(
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath
    )
{
    EXAMPLE_COUNTERS Initial = { 0, 0 };
    EXAMPLE_COUNTERS *Counters;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(RegistryPath);
    Status = WdkmGrtInitialize();
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_GRT_REGISTER_FAST_MUTEX("example.counters", &Initial);
    if (Status == STATUS_SUCCESS) {
        WDKM_GRT_FAST_MUTEX_SCOPED("example.counters", Counters, &Status) {
            Counters->Loads += 1;
        }
    }
    if (Status != STATUS_SUCCESS) {
        DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, "example: %s\n", WdkmStatusName(Status));
        (VOID)WdkmGrtDestroy(NULL, NULL);
        return Status;
    }
    DriverObject->DriverUnload = ExampleUnload;
    return STATUS_SUCCESS;
}
