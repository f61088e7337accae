/*
 * spin_runner.c - loads spin_driver.sys (beside this program) as a kernel
 * service, sends it two IOCTLs and checks the counts it reports, then
 * unloads it. Run under Wine by wdkm_add_wine_test; exit status 0 only if
 * every figure is exact.
 */
#include <stdio.h>

#include "spin_ioctl.h"
#include "wdkm_device.h"
#include "wdkm_path.h"
#include "wdkm_service.h"

#define TIMEOUT_MS 30000

/* The library's codes (wdkm_status.h), spelled out: this is user mode. */
#define RUNNER_WDKM_STATUS(Code) ((LONG)(0xE0000000UL | (0x0D4UL << 16) | (Code)))
#define STATUS_WDKM_IRQL_TOO_HIGH   RUNNER_WDKM_STATUS(0x0001)
#define STATUS_WDKM_LOCK_HELD       RUNNER_WDKM_STATUS(0x0005)
#define STATUS_WDKM_NOT_INITIALIZED RUNNER_WDKM_STATUS(0x0007)

/* The Win32 error a request failed with Status (mapped or raw) reaches the caller as. */
static DWORD
FailWith(HANDLE Device, LONG Status, LONG Mapped)
{
    LONG Input[2];
    WDKM_ERROR Error;

    Input[0] = Status;
    Input[1] = Mapped;
    return WdkmDeviceIoControl(Device, IOCTL_SPIN_FAIL_WITH, Input, sizeof(Input), NULL, 0, NULL,
                               TIMEOUT_MS, &Error);
}

/* Library statuses completed as they are, and through WdkmStatusForRequest. */
static int
StatusesLeaveTheDriverKnown(HANDLE Device)
{
    static const struct {
        LONG Status;
        const char *Name;
        DWORD Expected;
    } Cases[] = {
        { (LONG)STATUS_WDKM_NOT_INITIALIZED, "STATUS_WDKM_NOT_INITIALIZED", ERROR_NOT_READY },
        { (LONG)STATUS_WDKM_LOCK_HELD, "STATUS_WDKM_LOCK_HELD", ERROR_BAD_COMMAND },
        { (LONG)STATUS_WDKM_IRQL_TOO_HIGH, "STATUS_WDKM_IRQL_TOO_HIGH", ERROR_INTERNAL_ERROR },
    };
    int Exact = 1;
    unsigned Index;

    for (Index = 0; Index < sizeof(Cases) / sizeof(Cases[0]); Index += 1) {
        DWORD Raw = FailWith(Device, Cases[Index].Status, 0);
        DWORD Mapped = FailWith(Device, Cases[Index].Status, 1);
        /* Unmapped, it is no Win32 error: Windows answers ERROR_MR_MID_NOT_FOUND,
           Wine 8 hands the status itself back as the error. */
        int Unknown = Raw == ERROR_MR_MID_NOT_FOUND || Raw == (DWORD)Cases[Index].Status;
        int Right = Unknown && Mapped == Cases[Index].Expected;

        printf("%s: completed as is -> error 0x%08lX (no Win32 error), through "
               "WdkmStatusForRequest -> Win32 %lu (expected %lu): %s\n", Cases[Index].Name, Raw,
               Mapped, Cases[Index].Expected, Right ? "exact" : "WRONG");
        Exact &= Right;
    }
    return Exact;
}

static DWORD
Add(HANDLE Device, ULONG Count, SPIN_REPLY *Reply, WDKM_ERROR *Error)
{
    DWORD Returned = 0;
    DWORD Result = WdkmDeviceIoControl(Device, IOCTL_SPIN_ADD, &Count, sizeof(Count), Reply,
                                       sizeof(*Reply), &Returned, TIMEOUT_MS, Error);

    if (Result == ERROR_SUCCESS && Returned != sizeof(*Reply)) {
        Result = WdkmErrorSetText(Error, ERROR_INVALID_DATA, "reply of %lu bytes", Returned);
    }
    return Result;
}

int
main(void)
{
    WCHAR Image[MAX_PATH];
    WCHAR WindowsImage[MAX_PATH];
    WDKM_SERVICE Service = WDKM_SERVICE_INIT;
    HANDLE Device = INVALID_HANDLE_VALUE;
    SPIN_REPLY First = { 0, 0, 0 };
    SPIN_REPLY Second = { 0, 0, 0 };
    WDKM_ERROR Error;
    WDKM_ERROR StopError;
    DWORD Result;
    int Exact = 0;

    Result = WdkmPathBesideProgram(L"spin_driver.sys", Image, MAX_PATH, &Error);
    if (Result == ERROR_SUCCESS) {
        Result = WdkmPathToWindows(Image, WindowsImage, MAX_PATH, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmServiceInstallDriver(&Service, SPIN_SERVICE, WindowsImage, TIMEOUT_MS, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmServiceStart(&Service, TIMEOUT_MS, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmDeviceOpen(SPIN_USER_NAME, TIMEOUT_MS, &Device, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = Add(Device, 1000, &First, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = Add(Device, 234, &Second, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        /* One lock, one pool block, for the whole life of the driver. */
        Exact = First.Total == 1000 && Second.Total == 1234 && Second.OutstandingBlocks == 1;
        printf("spin lock counter: %llu after 1000, %llu after 234 more; %lu library pool block(s): %s\n",
               First.Total, Second.Total, Second.OutstandingBlocks, Exact ? "exact" : "WRONG");
        Exact &= StatusesLeaveTheDriverKnown(Device);
    } else {
        printf("ERROR: %s\n", Error.Text);
    }
    WdkmDeviceClose(&Device);
    if (Service.Service != NULL) {
        if (WdkmServiceStop(&Service, TIMEOUT_MS, &StopError) != ERROR_SUCCESS) {
            printf("ERROR: stopping the driver: %s\n", StopError.Text);
            Exact = 0;
        }
        (VOID)WdkmServiceDelete(&Service, &StopError);
    }
    return Exact ? 0 : 1;
}
