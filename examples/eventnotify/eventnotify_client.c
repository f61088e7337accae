/*
 * eventnotify_client.c - loads the event-notification driver, waits for
 * events from several threads with overlapped DeviceIoControl, cancels
 * some requests with CancelIoEx, and checks that every request ended
 * exactly once, as an event or as STATUS_CANCELLED, with exact counts on
 * both sides, and that the driver left no library pool at unload.
 *
 * Usage: eventnotify_client.exe [path\to\eventnotify.sys]
 *        (default: eventnotify.sys beside this program)
 *
 * Phase 1: THREADS threads x REQUESTS requests, at most WINDOW in flight
 * per thread; every CANCEL_EVERY-th request is cancelled right after it is
 * sent (it may still be notified first: either outcome counts, once).
 * Phase 2: the timer is paused, and LEFT requests are left pending on a
 * handle that is then closed before the driver is stopped: Windows sends IRP_MJ_CLEANUP (the driver
 * cancels them there), Wine 8 does not (the driver's unload does). Either
 * way each ends cancelled, and the driver's counts say which path ran.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <winioctl.h>

#include "eventnotify_ioctl.h"
#include "wdkm_path.h"
#include "wdkm_service.h"
#include "wdkm_service_key.h"

#define THREADS      4
#define REQUESTS     60
#define WINDOW       4
#define CANCEL_EVERY 5
#define LEFT         3
#define TIMEOUT_MS   30000
#define TOTAL        (THREADS * REQUESTS)

typedef struct _REQUEST {
    OVERLAPPED Overlapped;
    EVENTNOTIFY_EVENT Event;
    BOOL InFlight;
} REQUEST;

typedef struct _WORKER {
    HANDLE Device;
    ULONG Index;
    LONG Notified;
    LONG Cancelled;
    LONG Errors;
    LONG CancelCalls;
    unsigned long long Sequences[REQUESTS];
    char Error[160];
} WORKER;

static HANDLE
OpenDevice(VOID)
{
    return CreateFileW(L"\\\\.\\" EVENTNOTIFY_USER_NAME, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                       OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
}

/* Sends one wait request; FALSE (with Worker->Error) if it failed outright. */
static BOOL
Send(WORKER *Worker, REQUEST *Request)
{
    DWORD Returned;

    ZeroMemory(&Request->Overlapped, sizeof(Request->Overlapped));
    Request->Overlapped.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    ZeroMemory(&Request->Event, sizeof(Request->Event));
    if (Request->Overlapped.hEvent == NULL) {
        snprintf(Worker->Error, sizeof(Worker->Error), "CreateEvent: %lu", GetLastError());
        return FALSE;
    }
    Request->InFlight = TRUE;
    if (DeviceIoControl(Worker->Device, IOCTL_EVENTNOTIFY_WAIT, NULL, 0, &Request->Event,
                        sizeof(Request->Event), &Returned, &Request->Overlapped) ||
        GetLastError() == ERROR_IO_PENDING) {
        return TRUE;
    }
    snprintf(Worker->Error, sizeof(Worker->Error), "DeviceIoControl: %lu", GetLastError());
    CloseHandle(Request->Overlapped.hEvent);
    Request->InFlight = FALSE;
    return FALSE;
}

/* Waits for one request to end and records how. */
static VOID
Finish(WORKER *Worker, REQUEST *Request)
{
    DWORD Returned = 0;

    if (WaitForSingleObject(Request->Overlapped.hEvent, TIMEOUT_MS) != WAIT_OBJECT_0) {
        Worker->Errors += 1;
        snprintf(Worker->Error, sizeof(Worker->Error), "a request did not end in %u ms",
                 TIMEOUT_MS);
        return;     /* left in flight: its buffers stay alive (Worker is static) */
    }
    if (GetOverlappedResult(Worker->Device, &Request->Overlapped, &Returned, FALSE)) {
        if (Returned == sizeof(EVENTNOTIFY_EVENT) && Request->Event.Sequence != 0 &&
            Worker->Notified < REQUESTS) {
            Worker->Sequences[Worker->Notified] = Request->Event.Sequence;
            Worker->Notified += 1;
        } else {
            Worker->Errors += 1;
            snprintf(Worker->Error, sizeof(Worker->Error), "an event of %lu bytes, number %llu",
                     Returned, Request->Event.Sequence);
        }
    } else if (GetLastError() == ERROR_OPERATION_ABORTED) {
        Worker->Cancelled += 1;
    } else {
        Worker->Errors += 1;
        snprintf(Worker->Error, sizeof(Worker->Error), "a request failed: %lu", GetLastError());
    }
    CloseHandle(Request->Overlapped.hEvent);
    Request->InFlight = FALSE;
}

/*
 * One thread's requests, WINDOW at a time, oldest finished first. The
 * thread waits for all of its requests before it ends: a thread's exit
 * cancels the requests it sent (Windows and Wine alike).
 */
static DWORD WINAPI
WorkerThread(LPVOID Parameter)
{
    WORKER *Worker = (WORKER *)Parameter;
    REQUEST Requests[WINDOW];
    ULONG Sent;
    ULONG Slot;

    ZeroMemory(Requests, sizeof(Requests));
    for (Sent = 0; Sent < REQUESTS; Sent += 1) {
        REQUEST *Request = &Requests[Sent % WINDOW];

        if (Request->InFlight) {
            Finish(Worker, Request);
            if (Request->InFlight) {
                return 1;
            }
        }
        if (!Send(Worker, Request)) {
            Worker->Errors += 1;
            return 1;
        }
        if ((Worker->Index * REQUESTS + Sent) % CANCEL_EVERY == 0) {
            /* May find it completed already (ERROR_NOT_FOUND): fine. */
            (VOID)CancelIoEx(Worker->Device, &Request->Overlapped);
            Worker->CancelCalls += 1;
        }
    }
    for (Slot = 0; Slot < WINDOW; Slot += 1) {
        if (Requests[Slot].InFlight) {
            Finish(Worker, &Requests[Slot]);
        }
    }
    return 0;
}

static BOOL
Query(HANDLE Device, EVENTNOTIFY_REPORT *Report)
{
    OVERLAPPED Overlapped;
    DWORD Returned = 0;
    BOOL Done;

    ZeroMemory(&Overlapped, sizeof(Overlapped));
    Overlapped.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    Done = DeviceIoControl(Device, IOCTL_EVENTNOTIFY_QUERY, NULL, 0, Report, sizeof(*Report),
                           &Returned, &Overlapped);
    if (!Done && GetLastError() == ERROR_IO_PENDING) {
        Done = GetOverlappedResult(Device, &Overlapped, &Returned, TRUE);
    }
    CloseHandle(Overlapped.hEvent);
    return Done && Returned == sizeof(*Report);
}

static int
Verdict(const char *What, unsigned long long Actual, unsigned long long Expected)
{
    int Exact = Actual == Expected;

    printf("  %-52s %8llu   expected %8llu   %s\n", What, Actual, Expected,
           Exact ? "exact" : "WRONG");
    return Exact;
}

static int
CompareSequences(const void *Left, const void *Right)
{
    unsigned long long A = *(const unsigned long long *)Left;
    unsigned long long B = *(const unsigned long long *)Right;

    return A < B ? -1 : A > B;
}

static WORKER Workers[THREADS];
static unsigned long long AllSequences[TOTAL];
static REQUEST Left[LEFT];

int
wmain(int argc, wchar_t **argv)
{
    WDKM_SERVICE Service = WDKM_SERVICE_INIT;
    HANDLE Threads[THREADS];
    HANDLE Device = INVALID_HANDLE_VALUE;
    HANDLE Second = INVALID_HANDLE_VALUE;
    EVENTNOTIFY_REPORT Report;
    WCHAR Image[MAX_PATH];
    WCHAR WindowsImage[MAX_PATH];
    WDKM_ERROR Error;
    WORKER LeftWorker;
    LONG Notified = 0;
    LONG Cancelled = 0;
    LONG Errors = 0;
    LONG CancelCalls = 0;
    LONG Unique = 0;
    DWORD Result;
    DWORD Values[7];
    int Exact = 1;
    ULONG Index;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1) {
        Result = WdkmPathToWindows(argv[1], WindowsImage, MAX_PATH, &Error);
    } else {
        Result = WdkmPathBesideProgram(L"eventnotify.sys", Image, MAX_PATH, &Error);
        if (Result == ERROR_SUCCESS) {
            Result = WdkmPathToWindows(Image, WindowsImage, MAX_PATH, &Error);
        }
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmPathCheckFile(WindowsImage, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        printf("Loading %ls as kernel service %ls\n", WindowsImage, EVENTNOTIFY_SERVICE_NAME);
        Result = WdkmServiceInstallDriver(&Service, EVENTNOTIFY_SERVICE_NAME, WindowsImage,
                                          TIMEOUT_MS, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmServiceStart(&Service, TIMEOUT_MS, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Device = OpenDevice();
        Second = OpenDevice();
        if (Device == INVALID_HANDLE_VALUE || Second == INVALID_HANDLE_VALUE) {
            Result = WdkmErrorSet(&Error, GetLastError(), "opening \\\\.\\%ls",
                                  EVENTNOTIFY_USER_NAME);
        }
    }
    if (Result != ERROR_SUCCESS) {
        fprintf(stderr, "eventnotify: %s\n", Error.Text);
        WdkmServiceClose(&Service);
        return 2;
    }

    /* Phase 1: threads, waits, cancellations. */
    for (Index = 0; Index < THREADS; Index += 1) {
        Workers[Index].Device = Device;
        Workers[Index].Index = Index;
        Threads[Index] = CreateThread(NULL, 0, WorkerThread, &Workers[Index], 0, NULL);
        if (Threads[Index] == NULL) {
            fprintf(stderr, "eventnotify: CreateThread: %lu\n", GetLastError());
            return 2;
        }
    }
    if (WaitForMultipleObjects(THREADS, Threads, TRUE, 4 * TIMEOUT_MS) != WAIT_OBJECT_0) {
        fprintf(stderr, "eventnotify: the client threads did not finish\n");
        return 2;
    }
    for (Index = 0; Index < THREADS; Index += 1) {
        CloseHandle(Threads[Index]);
        if (Workers[Index].Error[0] != '\0') {
            fprintf(stderr, "eventnotify: thread %lu: %s\n", Index, Workers[Index].Error);
        }
        memcpy(&AllSequences[Notified], Workers[Index].Sequences,
               (size_t)Workers[Index].Notified * sizeof(AllSequences[0]));
        Notified += Workers[Index].Notified;
        Cancelled += Workers[Index].Cancelled;
        Errors += Workers[Index].Errors;
        CancelCalls += Workers[Index].CancelCalls;
    }
    /* Event numbers: each delivered once (all distinct). */
    qsort(AllSequences, (size_t)Notified, sizeof(AllSequences[0]), CompareSequences);
    for (Index = 0; Index < (ULONG)Notified; Index += 1) {
        Unique += Index == 0 || AllSequences[Index] != AllSequences[Index - 1];
    }

    printf("\nPhase 1: %d threads x %d overlapped waits, %ld cancelled with CancelIoEx\n",
           THREADS, REQUESTS, CancelCalls);
    Exact &= Verdict("requests that ended (client)", (unsigned long long)(Notified + Cancelled),
                     TOTAL);
    Exact &= Verdict("requests that failed otherwise (client)", (unsigned long long)Errors, 0);
    Exact &= Verdict("distinct event numbers received", (unsigned long long)Unique,
                     (unsigned long long)Notified);
    if (!Query(Second, &Report)) {
        fprintf(stderr, "eventnotify: query failed: %lu\n", GetLastError());
        return 2;
    }
    Exact &= Verdict("requests queued (driver)", Report.Waits, TOTAL);
    Exact &= Verdict("notified: driver = client", Report.Notified, (unsigned long long)Notified);
    Exact &= Verdict("cancelled: driver = client", Report.Cancelled, (unsigned long long)Cancelled);
    Exact &= Verdict("highest event number = events delivered",
                     Notified > 0 ? AllSequences[Notified - 1] : 0, Report.Notified);
    Exact &= Verdict("still pending in the driver's queue", Report.Pending, 0);
    printf("  %-52s %8llu\n", "timer DPC ticks so far", Report.Ticks);
    printf("  %-52s %8llu\n", "of them cancelled (the rest notified)", (unsigned long long)Cancelled);

    /* Phase 2: requests left pending on a handle closed before unload. */
    ZeroMemory(&LeftWorker, sizeof(LeftWorker));
    LeftWorker.Device = OpenDevice();
    if (LeftWorker.Device == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "eventnotify: opening a third handle: %lu\n", GetLastError());
        return 2;
    }
    /* No more events: these requests can only end by cleanup or unload. */
    {
        OVERLAPPED Overlapped;
        DWORD Returned = 0;
        BOOL Done;

        ZeroMemory(&Overlapped, sizeof(Overlapped));
        Overlapped.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
        Done = DeviceIoControl(Second, IOCTL_EVENTNOTIFY_PAUSE, NULL, 0, NULL, 0, &Returned,
                               &Overlapped);
        if (!Done && GetLastError() == ERROR_IO_PENDING) {
            Done = GetOverlappedResult(Second, &Overlapped, &Returned, TRUE);
        }
        CloseHandle(Overlapped.hEvent);
        if (!Done) {
            fprintf(stderr, "eventnotify: pause failed: %lu\n", GetLastError());
            return 2;
        }
    }
    for (Index = 0; Index < LEFT; Index += 1) {
        if (!Send(&LeftWorker, &Left[Index])) {
            fprintf(stderr, "eventnotify: %s\n", LeftWorker.Error);
            return 2;
        }
    }
    (VOID)Query(Second, &Report);
    printf("\nPhase 2: events paused, %d waits left pending, their handle closed, the driver stopped\n", LEFT);
    CloseHandle(LeftWorker.Device);
    CloseHandle(Second);
    CloseHandle(Device);

    if (WdkmServiceStop(&Service, TIMEOUT_MS, &Error) != ERROR_SUCCESS) {
        fprintf(stderr, "eventnotify: stopping the driver: %s\n", Error.Text);
        return 2;
    }
    {
        DWORD Ended = 0;
        LONG LeftNotified = 0;
        LONG LeftCancelled = 0;

        for (Index = 0; Index < LEFT; Index += 1) {
            if (WaitForSingleObject(Left[Index].Overlapped.hEvent, TIMEOUT_MS) == WAIT_OBJECT_0) {
                Ended += 1;
                if (Left[Index].Overlapped.Internal == 0) {
                    LeftNotified += 1;
                } else if ((DWORD)Left[Index].Overlapped.Internal == 0xC0000120UL) {   /* STATUS_CANCELLED */
                    LeftCancelled += 1;
                }
            }
        }
        Exact &= Verdict("left requests that ended", Ended, LEFT);
        Exact &= Verdict("... cancelled", (unsigned long long)LeftCancelled, LEFT);
        Notified += LeftNotified;
        Cancelled += LeftCancelled;
    }

    /* What the driver left under its service key at unload. */
    {
        static const WCHAR *const Names[7] = {
            EVENTNOTIFY_VALUE_NOTIFIED, EVENTNOTIFY_VALUE_CANCELLED, EVENTNOTIFY_VALUE_CLEANED,
            EVENTNOTIFY_VALUE_DRAINED, EVENTNOTIFY_VALUE_POOL_BLOCKS, EVENTNOTIFY_VALUE_POOL_BYTES,
            EVENTNOTIFY_VALUE_LEAK_CHECK,
        };

        for (Index = 0; Index < 7; Index += 1) {
            if (WdkmServiceKeyReadDword(EVENTNOTIFY_SERVICE_NAME, Names[Index], &Values[Index],
                                        &Error) != ERROR_SUCCESS) {
                fprintf(stderr, "eventnotify: %s\n", Error.Text);
                return 2;
            }
        }
    }
    printf("\nAt unload (values the driver left under its service key)\n");
    Exact &= Verdict("notified, all phases: driver = client", Values[0], (unsigned long long)Notified);
    Exact &= Verdict("cancelled + cleaned + drained = client's cancelled",
                     (unsigned long long)Values[1] + Values[2] + Values[3],
                     (unsigned long long)Cancelled);
    Exact &= Verdict("left requests cancelled at cleanup or unload",
                     (unsigned long long)Values[2] + Values[3], LEFT);
    printf("  %-52s %8lu   (IRP_MJ_CLEANUP; Wine 8 sends none)\n", "... at cleanup", Values[2]);
    printf("  %-52s %8lu   (by the queue's destroy)\n", "... at unload", Values[3]);
    Exact &= Verdict("library pool blocks outstanding", Values[4], 0);
    Exact &= Verdict("library pool bytes outstanding", Values[5], 0);
    if (Values[6] == 0xC00000BBUL) {    /* STATUS_NOT_SUPPORTED: a release build */
        printf("  %-52s %8s   (release build: no diagnostics)\n", "WdkmDiagLeakCheck", "n/a");
    } else {
        Exact &= Verdict("WdkmDiagLeakCheck status (checked build)", Values[6], 0);
    }

    (VOID)WdkmServiceDelete(&Service, &Error);
    WdkmServiceClose(&Service);
    printf("\nRESULT: %s\n", Exact ? "every request ended exactly once; every count is exact"
                                   : "COUNTS ARE WRONG");
    return Exact ? 0 : 1;
}
