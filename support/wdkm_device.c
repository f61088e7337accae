/*
 * wdkm_device.c - talking to a driver's device from user mode.
 */
#include "wdkm_device.h"

#include <string.h>
#include <wchar.h>

#define WDKM_DEVICE_POLL_MS 10
/* After a cancel, how long to wait for the driver to give the request back. */
#define WDKM_DEVICE_CANCEL_GRACE_MS 2000

static DWORD WdkmpDevicePath(const WCHAR *DosName, WCHAR *Path, size_t PathChars)
{
    static const WCHAR prefix[] = L"\\\\.\\";
    size_t prefixChars = wcslen(prefix);

    if (DosName == NULL || DosName[0] == L'\0' ||
        prefixChars + wcslen(DosName) + 1 > PathChars) {
        return ERROR_INVALID_PARAMETER;
    }
    wcscpy(Path, prefix);
    wcscat(Path, DosName);
    return ERROR_SUCCESS;
}

static HANDLE WdkmpDeviceCreate(const WCHAR *Path)
{
    return CreateFileW(Path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                       NULL, OPEN_EXISTING,
                       FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED, NULL);
}

DWORD WdkmDeviceOpen(const WCHAR *DosName, DWORD TimeoutMs, HANDLE *Device, WDKM_ERROR *Error)
{
    WCHAR path[300];
    ULONGLONG start = GetTickCount64();
    DWORD result;

    WdkmErrorClear(Error);
    if (Device == NULL) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "invalid argument");
    }
    *Device = INVALID_HANDLE_VALUE;
    if (WdkmpDevicePath(DosName, path, sizeof(path) / sizeof(path[0])) != ERROR_SUCCESS) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "invalid device name");
    }
    for (;;) {
        *Device = WdkmpDeviceCreate(path);
        if (*Device != INVALID_HANDLE_VALUE) {
            return ERROR_SUCCESS;
        }
        result = GetLastError();
        if ((result != ERROR_FILE_NOT_FOUND && result != ERROR_PATH_NOT_FOUND) ||
            GetTickCount64() - start >= TimeoutMs) {
            return WdkmErrorSet(Error, result, "CreateFileW(%ls) failed", path);
        }
        Sleep(WDKM_DEVICE_POLL_MS);
    }
}

DWORD WdkmDeviceProbe(const WCHAR *DosName)
{
    WCHAR path[300];
    HANDLE device;
    DWORD result;

    result = WdkmpDevicePath(DosName, path, sizeof(path) / sizeof(path[0]));
    if (result != ERROR_SUCCESS) {
        return result;
    }
    device = WdkmpDeviceCreate(path);
    if (device == INVALID_HANDLE_VALUE) {
        result = GetLastError();
        return result != ERROR_SUCCESS ? result : ERROR_INTERNAL_ERROR;
    }
    CloseHandle(device);
    return ERROR_SUCCESS;
}

/*
 * A request and its private copy of the buffers (Data = input, then
 * output). It is performed by a worker thread: Wine 8 completes an IOCTL to
 * a kernel driver inside DeviceIoControl even on an overlapped handle, so
 * only a separate thread lets the caller stop waiting. A request that never
 * completes is abandoned with its thread and this block (never freed).
 */
typedef struct WDKM_DEVICE_REQUEST {
    HANDLE Device;
    DWORD Code;
    DWORD InputSize;
    DWORD OutputSize;
    OVERLAPPED Overlapped;
    DWORD Transferred;   /* set by the worker */
    DWORD Result;        /* Win32 error, set by the worker */
    unsigned char Data[];
} WDKM_DEVICE_REQUEST;

static DWORD WINAPI WdkmpDeviceWorker(LPVOID Parameter)
{
    WDKM_DEVICE_REQUEST *request = (WDKM_DEVICE_REQUEST *)Parameter;
    unsigned char *input = request->Data;
    unsigned char *output = request->Data + request->InputSize;

    request->Result = ERROR_SUCCESS;
    if (!DeviceIoControl(request->Device, request->Code,
                         request->InputSize != 0 ? input : NULL, request->InputSize,
                         request->OutputSize != 0 ? output : NULL, request->OutputSize, NULL,
                         &request->Overlapped)) {
        request->Result = GetLastError();
        if (request->Result != ERROR_IO_PENDING) {
            return 0;
        }
        request->Result = ERROR_SUCCESS;
    }
    if (!GetOverlappedResult(request->Device, &request->Overlapped, &request->Transferred, TRUE)) {
        request->Result = GetLastError();
        if (request->Result == ERROR_SUCCESS) {
            request->Result = ERROR_GEN_FAILURE;
        }
    }
    return 0;
}

DWORD WdkmDeviceIoControl(HANDLE Device, DWORD Code, const void *Input, DWORD InputSize,
                          void *Output, DWORD OutputSize, DWORD *Returned, DWORD TimeoutMs,
                          WDKM_ERROR *Error)
{
    WDKM_DEVICE_REQUEST *request;
    HANDLE worker;
    DWORD wait;
    DWORD result;

    WdkmErrorClear(Error);
    if (Returned != NULL) {
        *Returned = 0;
    }
    if (Device == NULL || Device == INVALID_HANDLE_VALUE ||
        (InputSize != 0 && Input == NULL) || (OutputSize != 0 && Output == NULL)) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "invalid argument");
    }

    request = (WDKM_DEVICE_REQUEST *)HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY,
                                               sizeof(*request) + (SIZE_T)InputSize + OutputSize);
    if (request == NULL) {
        return WdkmErrorSetText(Error, ERROR_NOT_ENOUGH_MEMORY, "out of memory");
    }
    request->Device = Device;
    request->Code = Code;
    request->InputSize = InputSize;
    request->OutputSize = OutputSize;
    if (InputSize != 0) {
        memcpy(request->Data, Input, InputSize);
    }
    request->Overlapped.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (request->Overlapped.hEvent == NULL) {
        result = WdkmErrorSet(Error, GetLastError(), "CreateEventW failed");
        HeapFree(GetProcessHeap(), 0, request);
        return result;
    }
    worker = CreateThread(NULL, 0, WdkmpDeviceWorker, request, 0, NULL);
    if (worker == NULL) {
        result = WdkmErrorSet(Error, GetLastError(), "CreateThread failed");
        CloseHandle(request->Overlapped.hEvent);
        HeapFree(GetProcessHeap(), 0, request);
        return result;
    }

    wait = WaitForSingleObject(worker, TimeoutMs);
    if (wait == WAIT_TIMEOUT) {
        /* Ask the driver to give the request back; it may ignore that. */
        CancelIoEx(Device, &request->Overlapped);
        wait = WaitForSingleObject(worker, WDKM_DEVICE_CANCEL_GRACE_MS);
        if (wait != WAIT_OBJECT_0) {
            CloseHandle(worker);
            return WdkmErrorSetText(Error, ERROR_TIMEOUT,
                                    "DeviceIoControl(0x%08lX) did not complete within %lu ms "
                                    "and ignored the cancel",
                                    (unsigned long)Code, (unsigned long)TimeoutMs);
        }
        result = WdkmErrorSetText(Error, ERROR_TIMEOUT,
                                  "DeviceIoControl(0x%08lX) did not complete within %lu ms "
                                  "(cancelled)",
                                  (unsigned long)Code, (unsigned long)TimeoutMs);
        goto Done;
    }
    if (wait != WAIT_OBJECT_0) {
        /* Cannot tell whether the request is still in flight: abandon it. */
        result = WdkmErrorSet(Error, GetLastError(), "waiting for DeviceIoControl(0x%08lX) failed",
                              (unsigned long)Code);
        CloseHandle(worker);
        return result;
    }

    if (request->Result != ERROR_SUCCESS) {
        result = WdkmErrorSet(Error, request->Result, "DeviceIoControl(0x%08lX) failed",
                              (unsigned long)Code);
        goto Done;
    }
    if (request->Transferred > OutputSize) {
        result = WdkmErrorSetText(Error, ERROR_INVALID_DATA,
                                  "DeviceIoControl(0x%08lX) returned %lu bytes for a %lu-byte buffer",
                                  (unsigned long)Code, (unsigned long)request->Transferred,
                                  (unsigned long)OutputSize);
        goto Done;
    }
    if (request->Transferred != 0) {
        memcpy(Output, request->Data + InputSize, request->Transferred);
    }
    if (Returned != NULL) {
        *Returned = request->Transferred;
    }
    result = ERROR_SUCCESS;

Done:
    CloseHandle(worker);
    CloseHandle(request->Overlapped.hEvent);
    HeapFree(GetProcessHeap(), 0, request);
    return result;
}

void WdkmDeviceClose(HANDLE *Device)
{
    if (Device != NULL && *Device != NULL && *Device != INVALID_HANDLE_VALUE) {
        CloseHandle(*Device);
    }
    if (Device != NULL) {
        *Device = INVALID_HANDLE_VALUE;
    }
}
