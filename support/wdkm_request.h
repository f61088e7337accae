/*
 * wdkm_request.h - one overlapped IOCTL that stays in flight while the
 * caller does something else: sent, maybe cancelled, then waited for with
 * a timeout and told how it ended.
 *
 *     WDKM_REQUEST request;
 *     MY_EVENT event;                        (the output buffer)
 *     if (WdkmRequestSend(&request, device, IOCTL_MY_WAIT, NULL, 0, &event,
 *                         sizeof(event), &error) == ERROR_SUCCESS) {
 *         ... CancelIoEx(device, &request.Overlapped) if wanted ...
 *         result = WdkmRequestFinish(&request, 30000, &returned, &error);
 *     }
 *
 * This is what a client does to leave requests pending in a driver (a
 * cancel-safe queue, a worker thread): unlike WdkmDeviceIoControl
 * (wdkm_device.h), the buffers are the caller's own and the driver writes
 * them in place, so they must stay valid, and the WDKM_REQUEST in place,
 * until WdkmRequestFinish says the request ended. The device handle must
 * be overlapped (WdkmDeviceOpen's are).
 */
#ifndef WDKM_REQUEST_H
#define WDKM_REQUEST_H

#include "wdkm_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct WDKM_REQUEST {
    OVERLAPPED Overlapped;    /* hEvent: a manual-reset event while in flight */
    HANDLE Device;            /* the handle it was sent on */
    DWORD Code;               /* the IOCTL, for messages */
    BOOL InFlight;            /* sent and not yet seen to end */
} WDKM_REQUEST;

/*
 * Sends IOCTL Code on Device with Request's OVERLAPPED. ERROR_SUCCESS: the
 * request is in flight (pending in the driver, or already complete: either
 * way WdkmRequestFinish tells); Input and Output must stay valid until
 * then. Any other code: DeviceIoControl refused it (or no event could be
 * made), nothing is in flight. Request is zeroed memory or a request that
 * has ended; one still in flight is refused (ERROR_BUSY).
 */
DWORD WdkmRequestSend(WDKM_REQUEST *Request, HANDLE Device, DWORD Code, const void *Input,
                      DWORD InputSize, void *Output, DWORD OutputSize, WDKM_ERROR *Error);

/*
 * Asks the driver to cancel Request (CancelIoEx). FALSE when nothing was
 * found to cancel: the request has completed already (ERROR_NOT_FOUND), a
 * race every client that cancels must accept. The request still has to
 * be finished.
 */
BOOL WdkmRequestCancel(WDKM_REQUEST *Request);

/*
 * Waits up to TimeoutMs for Request to end and says how:
 *   ERROR_SUCCESS            completed with success; *Returned (optional)
 *                            output bytes;
 *   ERROR_OPERATION_ABORTED  ended cancelled (STATUS_CANCELLED);
 *   ERROR_TIMEOUT            still in flight: its buffers stay in use, the
 *                            caller may finish it again later and must not
 *                            free them before;
 *   any other code           ended with that error (the driver's status
 *                            turned into a Win32 code), or not in flight
 *                            (ERROR_INVALID_PARAMETER).
 * Except after ERROR_TIMEOUT the request is no longer in flight and its
 * event is closed: the buffers and the WDKM_REQUEST are the caller's again.
 */
DWORD WdkmRequestFinish(WDKM_REQUEST *Request, DWORD TimeoutMs, DWORD *Returned,
                        WDKM_ERROR *Error);

/*
 * Finishes each of Count requests still in flight (those left pending
 * while their driver was stopped, say), each waited for up to TimeoutMs.
 * Returns how many ended; *Succeeded and *Cancelled (both optional) get
 * how many of them completed with success and how many cancelled.
 */
ULONG WdkmRequestFinishAll(WDKM_REQUEST *Requests, ULONG Count, DWORD TimeoutMs,
                           ULONG *Succeeded, ULONG *Cancelled);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_REQUEST_H */
