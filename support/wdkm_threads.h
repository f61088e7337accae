/*
 * wdkm_threads.h - a few client threads run side by side and waited for:
 * how a client puts several threads (each with its own handle, or sharing
 * one) against a driver at once.
 *
 *     static MY_WORKER workers[4];
 *     result = WdkmThreadsRun(4, MyWorkerThread, workers, sizeof(workers[0]),
 *                             120000, &error);
 *
 * Thread i is given &workers[i] (Contexts + i * ContextSize) as its
 * parameter; what it found is the caller's to read from there afterwards.
 */
#ifndef WDKM_THREADS_H
#define WDKM_THREADS_H

#include "wdkm_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Starts Count threads (at most MAXIMUM_WAIT_OBJECTS) running Routine and
 * waits up to TimeoutMs for all of them to return. ERROR_SUCCESS: every
 * thread has returned. ERROR_TIMEOUT: some still run (their contexts stay
 * in use: do not free them). A thread that cannot be started is reported
 * with CreateThread's error after those started have been waited for.
 * The threads' exit codes are not looked at.
 */
DWORD WdkmThreadsRun(ULONG Count, LPTHREAD_START_ROUTINE Routine, void *Contexts,
                     size_t ContextSize, DWORD TimeoutMs, WDKM_ERROR *Error);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_THREADS_H */
