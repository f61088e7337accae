/*
 * wdkm_request_window.c - many overlapped requests, a few in flight.
 */
#include "wdkm_request_window.h"

typedef struct WDKM_WINDOW {
    WDKM_REQUEST *Slots;
    ULONG Window;
    DWORD TimeoutMs;
    WDKM_REQUEST_ENDED *Ended;
    void *Context;
} WDKM_WINDOW;

/* Finishes request Index, in flight in its slot, and tells Ended; on a
   timeout nothing is told and the request stays in flight. */
static DWORD WdkmpWindowFinish(const WDKM_WINDOW *Window, ULONG Index, WDKM_ERROR *Error)
{
    ULONG slot = Index % Window->Window;
    WDKM_ERROR ended;
    DWORD returned = 0;
    DWORD result;

    result = WdkmRequestFinish(&Window->Slots[slot], Window->TimeoutMs, &returned, &ended);
    if (result == ERROR_TIMEOUT) {
        if (Error != NULL) {
            *Error = ended;
        }
        return result;
    }
    Window->Ended(Window->Context, Index, slot, result, returned, &ended);
    return ERROR_SUCCESS;
}

/*
 * A request did not end in time: cancels it (First) and every later one
 * sent before End, and gives each still in flight one more timeout.
 * Returns ERROR_TIMEOUT; Error still names the one that did not end.
 */
static DWORD WdkmpWindowAbandon(const WDKM_WINDOW *Window, ULONG First, ULONG End)
{
    ULONG index;

    for (index = First; index < End; index++) {
        (void)WdkmRequestCancel(&Window->Slots[index % Window->Window]);
    }
    for (index = First; index < End; index++) {
        if (Window->Slots[index % Window->Window].InFlight) {
            WDKM_ERROR again;

            (void)WdkmpWindowFinish(Window, index, &again);
        }
    }
    return ERROR_TIMEOUT;
}

/* Finishes, oldest first, the requests still in flight among those sent
   before End (the last Window of them). */
static DWORD WdkmpWindowDrain(const WDKM_WINDOW *Window, ULONG End, WDKM_ERROR *Error)
{
    ULONG index;

    for (index = End > Window->Window ? End - Window->Window : 0; index < End; index++) {
        if (Window->Slots[index % Window->Window].InFlight &&
            WdkmpWindowFinish(Window, index, Error) == ERROR_TIMEOUT) {
            return WdkmpWindowAbandon(Window, index, End);
        }
    }
    return ERROR_SUCCESS;
}

DWORD WdkmRequestWindow(WDKM_REQUEST *Slots, ULONG Window, ULONG Count, DWORD TimeoutMs,
                        WDKM_REQUEST_START *Start, WDKM_REQUEST_ENDED *Ended, void *Context,
                        WDKM_ERROR *Error)
{
    WDKM_WINDOW window;
    DWORD result;
    ULONG index;

    WdkmErrorClear(Error);
    if (Slots == NULL || Window == 0 || Start == NULL || Ended == NULL) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "invalid argument");
    }
    window.Slots = Slots;
    window.Window = Window;
    window.TimeoutMs = TimeoutMs;
    window.Ended = Ended;
    window.Context = Context;

    for (index = 0; index < Count; index++) {
        ULONG slot = index % Window;

        /* The slot's request, sent Window requests ago, ends first. */
        if (Slots[slot].InFlight &&
            WdkmpWindowFinish(&window, index - Window, Error) == ERROR_TIMEOUT) {
            return WdkmpWindowAbandon(&window, index - Window, index);
        }
        result = Start(Context, index, slot, &Slots[slot], Error);
        if (result != ERROR_SUCCESS) {
            WDKM_ERROR drained;

            (void)WdkmpWindowDrain(&window, index + 1, &drained);
            return result;
        }
    }
    return WdkmpWindowDrain(&window, Count, Error);
}
