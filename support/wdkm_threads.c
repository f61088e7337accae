/*
 * wdkm_threads.c - a few client threads run side by side and waited for.
 */
#include "wdkm_threads.h"

DWORD WdkmThreadsRun(ULONG Count, LPTHREAD_START_ROUTINE Routine, void *Contexts,
                     size_t ContextSize, DWORD TimeoutMs, WDKM_ERROR *Error)
{
    HANDLE threads[MAXIMUM_WAIT_OBJECTS];
    DWORD result = ERROR_SUCCESS;
    DWORD wait;
    ULONG started;
    ULONG index;

    WdkmErrorClear(Error);
    if (Count == 0 || Count > MAXIMUM_WAIT_OBJECTS || Routine == NULL ||
        (Contexts == NULL && ContextSize != 0)) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "invalid argument");
    }
    for (started = 0; started < Count; started++) {
        void *context = Contexts != NULL ? (char *)Contexts + started * ContextSize : NULL;

        threads[started] = CreateThread(NULL, 0, Routine, context, 0, NULL);
        if (threads[started] == NULL) {
            result = WdkmErrorSet(Error, GetLastError(), "CreateThread (thread %lu of %lu)",
                                  (unsigned long)started + 1, (unsigned long)Count);
            break;
        }
    }
    if (started == 0) {
        return result;
    }
    wait = WaitForMultipleObjects(started, threads, TRUE, TimeoutMs);
    if (wait == WAIT_TIMEOUT) {
        result = WdkmErrorSetText(Error, ERROR_TIMEOUT, "%lu thread(s) not done after %lu ms",
                                  (unsigned long)started, (unsigned long)TimeoutMs);
    } else if (wait >= WAIT_OBJECT_0 + started && result == ERROR_SUCCESS) {
        result = WdkmErrorSet(Error, GetLastError(), "waiting for the threads failed");
    }
    for (index = 0; index < started; index++) {
        CloseHandle(threads[index]);
    }
    return result;
}
