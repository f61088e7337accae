/*
 * wdkm_request_window.h - many overlapped requests on one handle, a few in
 * flight at a time, the oldest waited for first: how a client keeps a
 * driver's queue busy (and cancels some) without a thread per request.
 *
 *     static DWORD Start(void *Context, ULONG Index, ULONG Slot,
 *                        WDKM_REQUEST *Request, WDKM_ERROR *Error)
 *     {   send request number Index with WdkmRequestSend, its buffers
 *         the caller's Slot-th ones; maybe WdkmRequestCancel it }
 *     static void Ended(void *Context, ULONG Index, ULONG Slot,
 *                       DWORD Result, DWORD Returned, const WDKM_ERROR *Error)
 *     {   count how request Index ended (WdkmRequestFinish's Result) }
 *
 *     WDKM_REQUEST slots[4];                  (zeroed)
 *     result = WdkmRequestWindow(slots, 4, 100, 30000, Start, Ended, context, &error);
 *
 * Each request's buffers belong to its slot: request Index uses slot
 * Index % Window, which is free again once the request sent Window
 * requests earlier has been finished.
 */
#ifndef WDKM_REQUEST_WINDOW_H
#define WDKM_REQUEST_WINDOW_H

#include "wdkm_request.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Sends request number Index (0 to Count-1) as Request, Slots[Slot]:
 * returns WdkmRequestSend's code. ERROR_SUCCESS means it is in flight.
 */
typedef DWORD WDKM_REQUEST_START(void *Context, ULONG Index, ULONG Slot, WDKM_REQUEST *Request,
                                 WDKM_ERROR *Error);

/*
 * Request number Index, in Slots[Slot], ended: Result and Returned as
 * WdkmRequestFinish gives them (ERROR_SUCCESS, ERROR_OPERATION_ABORTED or
 * another error, with its text in Error). Called once per request that
 * ended, in the order they were sent, on the caller's thread.
 */
typedef void WDKM_REQUEST_ENDED(void *Context, ULONG Index, ULONG Slot, DWORD Result,
                                DWORD Returned, const WDKM_ERROR *Error);

/*
 * Runs Count requests through Window slots (Slots: Window zeroed
 * WDKM_REQUESTs), each waited for up to TimeoutMs. Returns ERROR_SUCCESS
 * once every request was sent and Ended was told how each ended (however
 * that was). Otherwise:
 *   Start's code   a send failed: nothing more is sent; the requests in
 *                  flight are finished (Ended for each) first;
 *   ERROR_TIMEOUT  a request did not end in time: it, and those sent after
 *                  it, are cancelled and given TimeoutMs once more; any
 *                  still in flight then (InFlight set) keeps its slot and
 *                  buffers in use: the caller must not free them.
 * ERROR_INVALID_PARAMETER for NULL arguments or a Window of 0.
 */
DWORD WdkmRequestWindow(WDKM_REQUEST *Slots, ULONG Window, ULONG Count, DWORD TimeoutMs,
                        WDKM_REQUEST_START *Start, WDKM_REQUEST_ENDED *Ended, void *Context,
                        WDKM_ERROR *Error);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_REQUEST_WINDOW_H */
