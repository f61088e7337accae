/*
 * wdkm_request.c - one overlapped IOCTL left in flight, then finished.
 */
#include "wdkm_request.h"

#include <string.h>

DWORD WdkmRequestSend(WDKM_REQUEST *Request, HANDLE Device, DWORD Code, const void *Input,
                      DWORD InputSize, void *Output, DWORD OutputSize, WDKM_ERROR *Error)
{
    DWORD result;

    WdkmErrorClear(Error);
    if (Request == NULL || Device == NULL || Device == INVALID_HANDLE_VALUE ||
        (InputSize != 0 && Input == NULL) || (OutputSize != 0 && Output == NULL)) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "invalid argument");
    }
    if (Request->InFlight) {
        return WdkmErrorSetText(Error, ERROR_BUSY, "request 0x%08lX still in flight",
                                (unsigned long)Request->Code);
    }
    memset(Request, 0, sizeof(*Request));
    Request->Device = Device;
    Request->Code = Code;
    Request->Overlapped.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (Request->Overlapped.hEvent == NULL) {
        return WdkmErrorSet(Error, GetLastError(), "CreateEventW failed");
    }
    /* DeviceIoControl's input is not const; the driver does not write it. */
    if (DeviceIoControl(Device, Code, (void *)Input, InputSize, Output, OutputSize, NULL,
                        &Request->Overlapped) ||
        GetLastError() == ERROR_IO_PENDING) {
        Request->InFlight = TRUE;
        return ERROR_SUCCESS;
    }
    result = WdkmErrorSet(Error, GetLastError(), "DeviceIoControl(0x%08lX) failed",
                          (unsigned long)Code);
    CloseHandle(Request->Overlapped.hEvent);
    Request->Overlapped.hEvent = NULL;
    return result;
}

BOOL WdkmRequestCancel(WDKM_REQUEST *Request)
{
    if (Request == NULL || !Request->InFlight) {
        return FALSE;
    }
    return CancelIoEx(Request->Device, &Request->Overlapped);
}

DWORD WdkmRequestFinish(WDKM_REQUEST *Request, DWORD TimeoutMs, DWORD *Returned,
                        WDKM_ERROR *Error)
{
    DWORD transferred = 0;
    DWORD result = ERROR_SUCCESS;
    DWORD wait;

    WdkmErrorClear(Error);
    if (Returned != NULL) {
        *Returned = 0;
    }
    if (Request == NULL || !Request->InFlight) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "no request in flight");
    }
    wait = WaitForSingleObject(Request->Overlapped.hEvent, TimeoutMs);
    if (wait == WAIT_TIMEOUT) {
        return WdkmErrorSetText(Error, ERROR_TIMEOUT,
                                "request 0x%08lX did not end within %lu ms",
                                (unsigned long)Request->Code, (unsigned long)TimeoutMs);
    }
    if (wait != WAIT_OBJECT_0) {
        /* Cannot tell whether it ended: left in flight, as after a timeout. */
        return WdkmErrorSet(Error, GetLastError(), "waiting for request 0x%08lX failed",
                            (unsigned long)Request->Code);
    }
    /* The event is set, so this only reads the ending: the handle may be
       closed by now (a request left pending across a close). */
    if (!GetOverlappedResult(Request->Device, &Request->Overlapped, &transferred, FALSE)) {
        result = GetLastError();
        if (result == ERROR_SUCCESS) {
            result = ERROR_GEN_FAILURE;
        }
        if (result != ERROR_OPERATION_ABORTED) {
            (void)WdkmErrorSet(Error, result, "request 0x%08lX failed",
                               (unsigned long)Request->Code);
        } else {
            (void)WdkmErrorSetText(Error, result, "request 0x%08lX cancelled",
                                   (unsigned long)Request->Code);
        }
    } else if (Returned != NULL) {
        *Returned = transferred;
    }
    CloseHandle(Request->Overlapped.hEvent);
    Request->Overlapped.hEvent = NULL;
    Request->InFlight = FALSE;
    return result;
}

ULONG WdkmRequestFinishAll(WDKM_REQUEST *Requests, ULONG Count, DWORD TimeoutMs,
                           ULONG *Succeeded, ULONG *Cancelled)
{
    ULONG succeeded = 0;
    ULONG cancelled = 0;
    ULONG ended = 0;
    ULONG index;

    for (index = 0; Requests != NULL && index < Count; index++) {
        DWORD result;

        if (!Requests[index].InFlight) {
            continue;
        }
        result = WdkmRequestFinish(&Requests[index], TimeoutMs, NULL, NULL);
        ended += !Requests[index].InFlight;
        succeeded += result == ERROR_SUCCESS;
        cancelled += result == ERROR_OPERATION_ABORTED;
    }
    if (Succeeded != NULL) {
        *Succeeded = succeeded;
    }
    if (Cancelled != NULL) {
        *Cancelled = cancelled;
    }
    return ended;
}
