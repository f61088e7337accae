/*
 * wdkm_test_threads.c - run N system threads on a routine and join them.
 *
 * Life of a run (all of it in one non-paged block, so that abandoned threads
 * never touch freed memory):
 *   1. create every thread (PsCreateSystemThread) and keep a referenced
 *      pointer to its thread object (ObReferenceObjectByHandle), closing the
 *      handle at once;
 *   2. release them together through a notification event;
 *   3. join: wait on each thread object until a shared deadline;
 *   4. on timeout, ask the threads to stop and give them a grace period;
 *      threads still running after that are abandoned with the block and
 *      the harness is tainted.
 */
#include "wdkm_test_framework.h"

#define WDKM_TEST_THREAD_GRACE_MS 5000

typedef struct _WDKM_TEST_THREAD_RUN WDKM_TEST_THREAD_RUN;

/* One thread: the part the routine sees, and the way back to the run. */
typedef struct _WDKM_TEST_THREAD_SLOT {
    WDKM_TEST_THREAD Public;
    WDKM_TEST_THREAD_RUN *Run;
} WDKM_TEST_THREAD_SLOT;

struct _WDKM_TEST_THREAD_RUN {
    KEVENT Release;                /* notification: set once all exist */
    volatile LONG StopRequested;   /* set on timeout or creation failure */
    WDKM_TEST_THREAD_ROUTINE *Routine;
    ULONG Count;                   /* threads created and referenced */
    WDKM_TEST_THREAD_SLOT Slots[WDKM_TEST_MAX_THREADS];
    PVOID Objects[WDKM_TEST_MAX_THREADS]; /* referenced thread objects */
    BOOLEAN Finished[WDKM_TEST_MAX_THREADS];
};

BOOLEAN WdkmTestThreadShouldStop(PWDKM_TEST_THREAD Thread)
{
    return (BOOLEAN)(InterlockedCompareExchange(Thread->StopRequested, 0, 0) != 0);
}

static KSTART_ROUTINE WdkmpTestThreadStart;

static VOID NTAPI WdkmpTestThreadStart(PVOID StartContext)
{
    WDKM_TEST_THREAD_SLOT *slot = (WDKM_TEST_THREAD_SLOT *)StartContext;
    WDKM_TEST_THREAD_RUN *run = slot->Run;

    (VOID)KeWaitForSingleObject(&run->Release, Executive, KernelMode, FALSE, NULL);
    if (!WdkmTestThreadShouldStop(&slot->Public)) {
        run->Routine(&slot->Public);
    }
    (VOID)PsTerminateSystemThread(STATUS_SUCCESS);
}

/*
 * Waits for every unfinished thread until Deadline (microseconds, see
 * WdkmTestMicroseconds). Returns the number of threads still running.
 */
static ULONG WdkmpTestJoinUntil(_Inout_ WDKM_TEST_THREAD_RUN *Run, _In_ ULONG64 Deadline)
{
    LARGE_INTEGER timeout;
    ULONG64 now;
    ULONG running = 0;
    ULONG i;
    NTSTATUS status;

    for (i = 0; i < Run->Count; i++) {
        if (Run->Finished[i]) {
            continue;
        }
        now = WdkmTestMicroseconds();
        timeout.QuadPart = (now >= Deadline) ? 0 : -(LONGLONG)((Deadline - now) * 10);
        status = KeWaitForSingleObject(Run->Objects[i], Executive, KernelMode, FALSE, &timeout);
        if (status == STATUS_SUCCESS) {
            Run->Finished[i] = TRUE;
        } else {
            running++;
        }
    }
    return running;
}

/* Drops the thread references; frees the block unless threads still use it. */
static VOID WdkmpTestThreadRunEnd(_In_ WDKM_TEST_THREAD_RUN *Run, _In_ ULONG StillRunning)
{
    ULONG i;

    for (i = 0; i < Run->Count; i++) {
        ObDereferenceObject(Run->Objects[i]);
    }
    if (StillRunning == 0) {
        WdkmTestFree(Run);
    } else {
        WdkmTestTaint("WdkmTestRunThreads: threads did not stop after a timeout");
    }
}

NTSTATUS WdkmTestRunThreads(ULONG Count, WDKM_TEST_THREAD_ROUTINE *Routine, PVOID Context,
                            ULONG TimeoutMs)
{
    WDKM_TEST_THREAD_RUN *run;
    OBJECT_ATTRIBUTES attributes;
    HANDLE handle;
    NTSTATUS status = STATUS_SUCCESS;
    ULONG running;
    ULONG i;

    if (Count == 0 || Count > WDKM_TEST_MAX_THREADS || Routine == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    run = (WDKM_TEST_THREAD_RUN *)WdkmTestAllocate(sizeof(*run));
    if (run == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    KeInitializeEvent(&run->Release, NotificationEvent, FALSE);
    run->Routine = Routine;

    for (i = 0; i < Count; i++) {
        run->Slots[i].Public.Index = i;
        run->Slots[i].Public.Count = Count;
        run->Slots[i].Public.Context = Context;
        run->Slots[i].Public.StopRequested = &run->StopRequested;
        run->Slots[i].Run = run;

        InitializeObjectAttributes(&attributes, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
        status = PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, &attributes, NULL, NULL,
                                      WdkmpTestThreadStart, &run->Slots[i]);
        if (!NT_SUCCESS(status)) {
            break;
        }
        /*
         * ObjectType NULL, not *PsThreadType: mingw-w64's wdm.h declares
         * PsThreadType __declspec(dllimport), which adds one indirection
         * compared with the WDK's declaration, so *PsThreadType reads the
         * first field of the OBJECT_TYPE (Wine then faults). The handle is
         * our own kernel handle from PsCreateSystemThread: its type is known.
         */
        status = ObReferenceObjectByHandle(handle, SYNCHRONIZE, NULL, KernelMode,
                                           &run->Objects[i], NULL);
        (VOID)ZwClose(handle);
        if (!NT_SUCCESS(status)) {
            /* A thread that cannot be joined: let it go, never free the block. */
            InterlockedExchange(&run->StopRequested, 1);
            KeSetEvent(&run->Release, IO_NO_INCREMENT, FALSE);
            running = WdkmpTestJoinUntil(run, WdkmTestMicroseconds() +
                                                  WDKM_TEST_THREAD_GRACE_MS * 1000ull);
            WdkmpTestThreadRunEnd(run, running + 1);
            return status;
        }
        run->Count++;
    }

    if (!NT_SUCCESS(status)) {
        /* Creation failed part way: the created threads exit without running. */
        InterlockedExchange(&run->StopRequested, 1);
        KeSetEvent(&run->Release, IO_NO_INCREMENT, FALSE);
        running = WdkmpTestJoinUntil(run, WdkmTestMicroseconds() +
                                              WDKM_TEST_THREAD_GRACE_MS * 1000ull);
        WdkmpTestThreadRunEnd(run, running);
        return status;
    }

    KeSetEvent(&run->Release, IO_NO_INCREMENT, FALSE);
    running = WdkmpTestJoinUntil(run, WdkmTestMicroseconds() + (ULONG64)TimeoutMs * 1000u);
    if (running == 0) {
        WdkmpTestThreadRunEnd(run, 0);
        return STATUS_SUCCESS;
    }

    WdkmTestTrace(DPFLTR_WARNING_LEVEL,
                  "WdkmTestRunThreads: %lu of %lu threads still running after %lu ms; "
                  "asking them to stop", running, Count, TimeoutMs);
    InterlockedExchange(&run->StopRequested, 1);
    running = WdkmpTestJoinUntil(run, WdkmTestMicroseconds() + WDKM_TEST_THREAD_GRACE_MS * 1000ull);
    WdkmpTestThreadRunEnd(run, running);
    return STATUS_TIMEOUT;
}
