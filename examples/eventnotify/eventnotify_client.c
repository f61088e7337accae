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
 *
 * The plumbing (loading the driver, opening it, a window of overlapped
 * requests, the verdict lines) is support/'s: wdkm_service.h,
 * wdkm_device.h, wdkm_request_window.h, wdkm_report.h.
 */
#include <stdio.h>
#include <string.h>

#include <windows.h>
#include <winioctl.h>

#include "eventnotify_ioctl.h"
#include "wdkm_device.h"
#include "wdkm_path.h"
#include "wdkm_report.h"
#include "wdkm_request_window.h"
#include "wdkm_service.h"
#include "wdkm_service_key.h"
#include "wdkm_threads.h"

#define THREADS      4
#define REQUESTS     60
#define WINDOW       4
#define CANCEL_EVERY 5
#define LEFT         3
#define TIMEOUT_MS   30000
#define TOTAL        (THREADS * REQUESTS)

typedef struct _WORKER {
    HANDLE Device;
    ULONG Index;
    LONG Notified;
    LONG Cancelled;
    LONG Errors;
    LONG CancelCalls;
    WDKM_REQUEST Requests[WINDOW];
    EVENTNOTIFY_EVENT Events[WINDOW];
    unsigned long long Sequences[REQUESTS];
    char Error[160];
} WORKER;

static BOOL
Query(HANDLE Device, EVENTNOTIFY_REPORT *Report)
{
    DWORD Returned = 0;

    return WdkmDeviceIoControl(Device, IOCTL_EVENTNOTIFY_QUERY, NULL, 0, Report,
                               sizeof(*Report), &Returned, TIMEOUT_MS, NULL) == ERROR_SUCCESS &&
           Returned == sizeof(*Report);
}

/* Sends wait request number Index of the thread; every CANCEL_EVERY-th of
   all is cancelled right after (it may find it completed: fine). */
static DWORD
StartWait(void *Context, ULONG Index, ULONG Slot, WDKM_REQUEST *Request, WDKM_ERROR *Error)
{
    WORKER *Worker = (WORKER *)Context;
    DWORD Result;

    ZeroMemory(&Worker->Events[Slot], sizeof(Worker->Events[Slot]));
    Result = WdkmRequestSend(Request, Worker->Device, IOCTL_EVENTNOTIFY_WAIT, NULL, 0,
                             &Worker->Events[Slot], sizeof(Worker->Events[Slot]), Error);
    if (Result == ERROR_SUCCESS && (Worker->Index * REQUESTS + Index) % CANCEL_EVERY == 0) {
        (VOID)WdkmRequestCancel(Request);
        Worker->CancelCalls += 1;
    }
    return Result;
}

/* How one request ended: an event (with a number), cancelled, or an error. */
static void
WaitEnded(void *Context, ULONG Index, ULONG Slot, DWORD Result, DWORD Returned,
          const WDKM_ERROR *Error)
{
    WORKER *Worker = (WORKER *)Context;
    const EVENTNOTIFY_EVENT *Event = &Worker->Events[Slot];

    UNREFERENCED_PARAMETER(Index);
    if (Result == ERROR_SUCCESS && Returned == sizeof(*Event) && Event->Sequence != 0 &&
        Worker->Notified < REQUESTS) {
        Worker->Sequences[Worker->Notified] = Event->Sequence;
        Worker->Notified += 1;
    } else if (Result == ERROR_OPERATION_ABORTED) {
        Worker->Cancelled += 1;
    } else {
        Worker->Errors += 1;
        snprintf(Worker->Error, sizeof(Worker->Error), "an event of %lu bytes, number %llu: %s",
                 Returned, Event->Sequence, Error->Text);
    }
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
    WDKM_ERROR Error;

    if (WdkmRequestWindow(Worker->Requests, WINDOW, REQUESTS, TIMEOUT_MS, StartWait, WaitEnded,
                          Worker, &Error) != ERROR_SUCCESS) {
        snprintf(Worker->Error, sizeof(Worker->Error), "%s", Error.Text);
        Worker->Errors += 1;
        return 1;
    }
    return 0;
}

static WORKER Workers[THREADS];
static unsigned long long AllSequences[TOTAL];
static WDKM_REQUEST Left[LEFT];
static EVENTNOTIFY_EVENT LeftEvents[LEFT];

int
wmain(int argc, wchar_t **argv)
{
    WDKM_SERVICE Service = WDKM_SERVICE_INIT;
    HANDLE Device = INVALID_HANDLE_VALUE;
    HANDLE Second = INVALID_HANDLE_VALUE;
    HANDLE LeftDevice = INVALID_HANDLE_VALUE;
    EVENTNOTIFY_REPORT Report;
    WCHAR Image[MAX_PATH];
    WDKM_ERROR Error;
    LONG Notified = 0;
    LONG Cancelled = 0;
    LONG Errors = 0;
    LONG CancelCalls = 0;
    DWORD Result;
    DWORD Values[7];
    int Exact = 1;
    ULONG Index;

    setvbuf(stdout, NULL, _IONBF, 0);
    Result = WdkmPathDriverImage(argc > 1 ? argv[1] : NULL, L"eventnotify.sys", Image, MAX_PATH,
                                 &Error);
    if (Result == ERROR_SUCCESS) {
        printf("Loading %ls as kernel service %ls\n", Image, EVENTNOTIFY_SERVICE_NAME);
        Result = WdkmServiceLoadDriver(&Service, EVENTNOTIFY_SERVICE_NAME, Image, TIMEOUT_MS,
                                       &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmDeviceOpen(EVENTNOTIFY_USER_NAME, TIMEOUT_MS, &Device, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmDeviceOpen(EVENTNOTIFY_USER_NAME, 0, &Second, &Error);
    }
    if (Result != ERROR_SUCCESS) {
        fprintf(stderr, "eventnotify: %s\n", Error.Text);
        WdkmServiceClose(&Service);
        return 2;
    }

    /* Phase 1: threads, waits, cancellations, all on one handle. */
    for (Index = 0; Index < THREADS; Index += 1) {
        Workers[Index].Device = Device;
        Workers[Index].Index = Index;
    }
    if (WdkmThreadsRun(THREADS, WorkerThread, Workers, sizeof(Workers[0]), 4 * TIMEOUT_MS,
                       &Error) != ERROR_SUCCESS) {
        fprintf(stderr, "eventnotify: the client threads: %s\n", Error.Text);
        return 2;
    }
    for (Index = 0; Index < THREADS; Index += 1) {
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

    printf("\nPhase 1: %d threads x %d overlapped waits, %ld cancelled with CancelIoEx\n",
           THREADS, REQUESTS, CancelCalls);
    Exact &= WdkmReportExact("requests that ended (client)",
                             (unsigned long long)(Notified + Cancelled), TOTAL);
    Exact &= WdkmReportExact("requests that failed otherwise (client)",
                             (unsigned long long)Errors, 0);
    /* Event numbers: each delivered once (all distinct; sorted from here). */
    Exact &= WdkmReportExact("distinct event numbers received",
                             WdkmReportDistinct(AllSequences, (size_t)Notified),
                             (unsigned long long)Notified);
    if (!Query(Second, &Report)) {
        fprintf(stderr, "eventnotify: query failed\n");
        return 2;
    }
    Exact &= WdkmReportExact("requests queued (driver)", Report.Waits, TOTAL);
    Exact &= WdkmReportExact("notified: driver = client", Report.Notified,
                             (unsigned long long)Notified);
    Exact &= WdkmReportExact("cancelled: driver = client", Report.Cancelled,
                             (unsigned long long)Cancelled);
    Exact &= WdkmReportExact("highest event number = events delivered",
                             Notified > 0 ? AllSequences[Notified - 1] : 0, Report.Notified);
    Exact &= WdkmReportExact("still pending in the driver's queue", Report.Pending, 0);
    WdkmReportValue("timer DPC ticks so far", Report.Ticks);
    WdkmReportValue("of them cancelled (the rest notified)", (unsigned long long)Cancelled);

    /* Phase 2: requests left pending on a handle closed before unload. No
       more events first: these requests can only end by cleanup or unload. */
    Result = WdkmDeviceOpen(EVENTNOTIFY_USER_NAME, 0, &LeftDevice, &Error);
    if (Result == ERROR_SUCCESS) {
        Result = WdkmDeviceIoControl(Second, IOCTL_EVENTNOTIFY_PAUSE, NULL, 0, NULL, 0, NULL,
                                     TIMEOUT_MS, &Error);
    }
    for (Index = 0; Result == ERROR_SUCCESS && Index < LEFT; Index += 1) {
        Result = WdkmRequestSend(&Left[Index], LeftDevice, IOCTL_EVENTNOTIFY_WAIT, NULL, 0,
                                 &LeftEvents[Index], sizeof(LeftEvents[Index]), &Error);
    }
    if (Result != ERROR_SUCCESS) {
        fprintf(stderr, "eventnotify: phase 2 setup: %s\n", Error.Text);
        return 2;
    }
    (VOID)Query(Second, &Report);
    printf("\nPhase 2: events paused, %d waits left pending, their handle closed, the driver stopped\n", LEFT);
    WdkmDeviceClose(&LeftDevice);
    WdkmDeviceClose(&Second);
    WdkmDeviceClose(&Device);

    if (WdkmServiceStop(&Service, TIMEOUT_MS, &Error) != ERROR_SUCCESS) {
        fprintf(stderr, "eventnotify: stopping the driver: %s\n", Error.Text);
        return 2;
    }
    {
        ULONG LeftNotified = 0;
        ULONG LeftCancelled = 0;
        ULONG Ended = WdkmRequestFinishAll(Left, LEFT, TIMEOUT_MS, &LeftNotified,
                                           &LeftCancelled);

        Exact &= WdkmReportExact("left requests that ended", Ended, LEFT);
        Exact &= WdkmReportExact("... cancelled", (unsigned long long)LeftCancelled, LEFT);
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

        if (WdkmServiceKeyReadDwords(EVENTNOTIFY_SERVICE_NAME, Names, Values, 7, &Error) !=
            ERROR_SUCCESS) {
            fprintf(stderr, "eventnotify: %s\n", Error.Text);
            return 2;
        }
    }
    printf("\nAt unload (values the driver left under its service key)\n");
    Exact &= WdkmReportExact("notified, all phases: driver = client", Values[0],
                             (unsigned long long)Notified);
    Exact &= WdkmReportExact("cancelled + cleaned + drained = client's cancelled",
                             (unsigned long long)Values[1] + Values[2] + Values[3],
                             (unsigned long long)Cancelled);
    Exact &= WdkmReportExact("left requests cancelled at cleanup or unload",
                             (unsigned long long)Values[2] + Values[3], LEFT);
    printf("  %-52s %8lu   (IRP_MJ_CLEANUP; Wine 8 sends none)\n", "... at cleanup", Values[2]);
    printf("  %-52s %8lu   (by the queue's destroy)\n", "... at unload", Values[3]);
    Exact &= WdkmReportExact("library pool blocks outstanding", Values[4], 0);
    Exact &= WdkmReportExact("library pool bytes outstanding", Values[5], 0);
    Exact &= WdkmReportLeakCheck(Values[6]);

    (VOID)WdkmServiceDelete(&Service, &Error);
    WdkmServiceClose(&Service);
    printf("\nRESULT: %s\n", Exact ? "every request ended exactly once; every count is exact"
                                   : "COUNTS ARE WRONG");
    return Exact ? 0 : 1;
}
