/*
 * wdkm_service.c - a kernel driver as a service, through the SCM API.
 */
#include "wdkm_service.h"

#include <wchar.h>

/* How often a wait re-reads the service state. */
#define WDKM_SERVICE_POLL_MS 10

const char *WdkmServiceStateName(DWORD State)
{
    switch (State) {
    case SERVICE_STOPPED:          return "stopped";
    case SERVICE_START_PENDING:    return "start pending";
    case SERVICE_STOP_PENDING:     return "stop pending";
    case SERVICE_RUNNING:          return "running";
    case SERVICE_CONTINUE_PENDING: return "continue pending";
    case SERVICE_PAUSE_PENDING:    return "pause pending";
    case SERVICE_PAUSED:           return "paused";
    default:                       return "unknown state";
    }
}

void WdkmServiceClose(WDKM_SERVICE *Service)
{
    if (Service == NULL) {
        return;
    }
    if (Service->Service != NULL) {
        CloseServiceHandle(Service->Service);
        Service->Service = NULL;
    }
    if (Service->Manager != NULL) {
        CloseServiceHandle(Service->Manager);
        Service->Manager = NULL;
    }
}

static DWORD WdkmpServiceQuery(SC_HANDLE Handle, const WCHAR *Name,
                               SERVICE_STATUS_PROCESS *Status, WDKM_ERROR *Error)
{
    DWORD needed = 0;

    if (!QueryServiceStatusEx(Handle, SC_STATUS_PROCESS_INFO, (BYTE *)Status,
                              sizeof(*Status), &needed)) {
        return WdkmErrorSet(Error, GetLastError(), "QueryServiceStatusEx(%ls) failed", Name);
    }
    return ERROR_SUCCESS;
}

/*
 * Waits until the service reaches Wanted, or leaves the pending state that
 * leads there (reported as an error), or TimeoutMs elapses.
 */
static DWORD WdkmpServiceWaitFor(SC_HANDLE Handle, const WCHAR *Name, DWORD Wanted,
                                 DWORD TimeoutMs, WDKM_ERROR *Error)
{
    SERVICE_STATUS_PROCESS status;
    ULONGLONG start = GetTickCount64();
    DWORD result;

    for (;;) {
        result = WdkmpServiceQuery(Handle, Name, &status, Error);
        if (result != ERROR_SUCCESS) {
            return result;
        }
        if (status.dwCurrentState == Wanted) {
            return ERROR_SUCCESS;
        }
        if (Wanted == SERVICE_RUNNING && status.dwCurrentState == SERVICE_STOPPED) {
            /* The start failed: the driver did not load or DriverEntry failed. */
            if (status.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR) {
                return WdkmErrorSetText(Error, ERROR_SERVICE_SPECIFIC_ERROR,
                                        "service %ls stopped while starting: "
                                        "service-specific exit code 0x%08lX",
                                        Name, (unsigned long)status.dwServiceSpecificExitCode);
            }
            return WdkmErrorSet(Error, status.dwWin32ExitCode != ERROR_SUCCESS
                                           ? status.dwWin32ExitCode
                                           : ERROR_SERVICE_NEVER_STARTED,
                                "service %ls stopped while starting", Name);
        }
        if (GetTickCount64() - start >= TimeoutMs) {
            return WdkmErrorSetText(Error, ERROR_TIMEOUT,
                                    "service %ls is still %s after %lu ms (waiting for %s)",
                                    Name, WdkmServiceStateName(status.dwCurrentState),
                                    (unsigned long)TimeoutMs, WdkmServiceStateName(Wanted));
        }
        Sleep(WDKM_SERVICE_POLL_MS);
    }
}

/* Stops (if needed) and deletes an existing service of that name. */
static DWORD WdkmpServiceRemoveExisting(SC_HANDLE Manager, const WCHAR *Name,
                                        DWORD TimeoutMs, WDKM_ERROR *Error)
{
    WDKM_SERVICE existing = WDKM_SERVICE_INIT;
    DWORD result;

    existing.Service = OpenServiceW(Manager, Name, SERVICE_ALL_ACCESS);
    if (existing.Service == NULL) {
        result = GetLastError();
        if (result == ERROR_SERVICE_DOES_NOT_EXIST) {
            return ERROR_SUCCESS;
        }
        return WdkmErrorSet(Error, result, "OpenServiceW(%ls) failed", Name);
    }
    wcsncpy(existing.Name, Name, WDKM_SERVICE_NAME_CHARS - 1);

    result = WdkmServiceStop(&existing, TimeoutMs, Error);
    if (result == ERROR_SUCCESS) {
        result = WdkmServiceDelete(&existing, Error);
    }
    WdkmServiceClose(&existing);
    return result;
}

DWORD WdkmServiceInstallDriver(WDKM_SERVICE *Service, const WCHAR *Name,
                               const WCHAR *ImagePath, DWORD TimeoutMs, WDKM_ERROR *Error)
{
    DWORD result;
    ULONGLONG start;

    WdkmErrorClear(Error);
    if (Service == NULL || Name == NULL || ImagePath == NULL ||
        wcslen(Name) >= WDKM_SERVICE_NAME_CHARS) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "invalid service name or path");
    }
    WdkmServiceClose(Service);
    wcsncpy(Service->Name, Name, WDKM_SERVICE_NAME_CHARS - 1);
    Service->Name[WDKM_SERVICE_NAME_CHARS - 1] = L'\0';

    Service->Manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    if (Service->Manager == NULL) {
        return WdkmErrorSet(Error, GetLastError(),
                            "OpenSCManagerW failed (administrator rights are needed)");
    }

    result = WdkmpServiceRemoveExisting(Service->Manager, Name, TimeoutMs, Error);
    if (result != ERROR_SUCCESS) {
        WdkmServiceClose(Service);
        return result;
    }

    /* A just-deleted service may linger while handles to it are open. */
    start = GetTickCount64();
    for (;;) {
        Service->Service = CreateServiceW(Service->Manager, Name, Name, SERVICE_ALL_ACCESS,
                                          SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START,
                                          SERVICE_ERROR_NORMAL, ImagePath, NULL, NULL, NULL,
                                          NULL, NULL);
        if (Service->Service != NULL) {
            return ERROR_SUCCESS;
        }
        result = GetLastError();
        if (result != ERROR_SERVICE_MARKED_FOR_DELETE || GetTickCount64() - start >= TimeoutMs) {
            WdkmServiceClose(Service);
            return WdkmErrorSet(Error, result, "CreateServiceW(%ls, %ls) failed", Name, ImagePath);
        }
        Sleep(WDKM_SERVICE_POLL_MS);
    }
}

DWORD WdkmServiceStart(WDKM_SERVICE *Service, DWORD TimeoutMs, WDKM_ERROR *Error)
{
    DWORD result;

    WdkmErrorClear(Error);
    if (Service == NULL || Service->Service == NULL) {
        return WdkmErrorSetText(Error, ERROR_INVALID_HANDLE, "service not open");
    }
    if (!StartServiceW(Service->Service, 0, NULL)) {
        result = GetLastError();
        if (result != ERROR_SERVICE_ALREADY_RUNNING) {
            return WdkmErrorSet(Error, result, "StartServiceW(%ls) failed", Service->Name);
        }
    }
    return WdkmpServiceWaitFor(Service->Service, Service->Name, SERVICE_RUNNING, TimeoutMs,
                               Error);
}

DWORD WdkmServiceStop(WDKM_SERVICE *Service, DWORD TimeoutMs, WDKM_ERROR *Error)
{
    SERVICE_STATUS status;
    DWORD result;

    WdkmErrorClear(Error);
    if (Service == NULL || Service->Service == NULL) {
        return WdkmErrorSetText(Error, ERROR_INVALID_HANDLE, "service not open");
    }
    if (!ControlService(Service->Service, SERVICE_CONTROL_STOP, &status)) {
        result = GetLastError();
        switch (result) {
        case ERROR_SERVICE_NOT_ACTIVE:
            return ERROR_SUCCESS;
        case ERROR_SERVICE_CANNOT_ACCEPT_CTRL:
            /* Start or stop pending: wait for it to settle below. */
            break;
        default:
            return WdkmErrorSet(Error, result, "ControlService(%ls, STOP) failed", Service->Name);
        }
    }
    return WdkmpServiceWaitFor(Service->Service, Service->Name, SERVICE_STOPPED, TimeoutMs,
                               Error);
}

DWORD WdkmServiceQueryState(WDKM_SERVICE *Service, DWORD *State, WDKM_ERROR *Error)
{
    SERVICE_STATUS_PROCESS status;
    DWORD result;

    WdkmErrorClear(Error);
    if (Service == NULL || Service->Service == NULL || State == NULL) {
        return WdkmErrorSetText(Error, ERROR_INVALID_HANDLE, "service not open");
    }
    result = WdkmpServiceQuery(Service->Service, Service->Name, &status, Error);
    if (result == ERROR_SUCCESS) {
        *State = status.dwCurrentState;
    }
    return result;
}

DWORD WdkmServiceDelete(WDKM_SERVICE *Service, WDKM_ERROR *Error)
{
    DWORD result = ERROR_SUCCESS;

    WdkmErrorClear(Error);
    if (Service == NULL || Service->Service == NULL) {
        return WdkmErrorSetText(Error, ERROR_INVALID_HANDLE, "service not open");
    }
    if (!DeleteService(Service->Service)) {
        result = GetLastError();
        if (result == ERROR_SERVICE_MARKED_FOR_DELETE) {
            result = ERROR_SUCCESS;
        } else {
            WdkmErrorSet(Error, result, "DeleteService(%ls) failed", Service->Name);
        }
    }
    WdkmServiceClose(Service);
    return result;
}

DWORD WdkmServiceLoadDriver(WDKM_SERVICE *Service, const WCHAR *Name, const WCHAR *ImagePath,
                            DWORD TimeoutMs, WDKM_ERROR *Error)
{
    DWORD result = WdkmServiceInstallDriver(Service, Name, ImagePath, TimeoutMs, Error);

    if (result != ERROR_SUCCESS) {
        return result;
    }
    return WdkmServiceStart(Service, TimeoutMs, Error);
}
