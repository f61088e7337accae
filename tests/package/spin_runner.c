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
