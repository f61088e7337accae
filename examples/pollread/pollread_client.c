/*
 * pollread_client.c - loads the polled-read driver, reads samples from
 * several threads (each on its own handle) with overlapped
 * DeviceIoControl, cancels some, and checks that every read ended exactly
 * once, with exact counts on both sides, per handle too (booked by the
 * driver's work item); then holds the device, leaves reads pending, and
 * stops the driver with them in flight.
 *
 * Usage: pollread_client.exe [path\to\pollread.sys]
 *        (default: pollread.sys beside this program)
 *
 * The plumbing (loading the driver, opening it, a window of overlapped
 * requests, the verdict lines) is support/'s: wdkm_service.h,
 * wdkm_device.h, wdkm_request_window.h, wdkm_report.h.
 */
#include <stdio.h>
#include <string.h>

#include <windows.h>
#include <winioctl.h>

#include "pollread_ioctl.h"
#include "wdkm_device.h"
#include "wdkm_path.h"
#include "wdkm_report.h"
#include "wdkm_request_window.h"
#include "wdkm_service.h"
#include "wdkm_service_key.h"
#include "wdkm_threads.h"

#define THREADS      4
#define REQUESTS     40
#define WINDOW       3
#define CANCEL_EVERY 7
#define LEFT         4
#define TIMEOUT_MS   30000
#define TOTAL        (THREADS * REQUESTS)

typedef struct _WORKER {
    HANDLE Device;
    ULONG Index;
    LONG Sampled;
    LONG Cancelled;
    LONG Errors;
    POLLREAD_REPORT Booked;     /* the driver's counts for this handle */
    WDKM_REQUEST Requests[WINDOW];
    POLLREAD_SAMPLE Samples[WINDOW];
    unsigned long long Sequences[REQUESTS];
    char Error[160];
} WORKER;

static BOOL
Query(HANDLE Device, POLLREAD_REPORT *Report)
{
    DWORD Returned = 0;

    return WdkmDeviceIoControl(Device, IOCTL_POLLREAD_QUERY, NULL, 0, Report, sizeof(*Report),
                               &Returned, TIMEOUT_MS, NULL) == ERROR_SUCCESS &&
           Returned == sizeof(*Report);
}

/* Read number Index of the thread: sent, and every CANCEL_EVERY-th of all
   cancelled at once (it may still be sampled first: either counts, once). */
static DWORD
StartRead(void *Context, ULONG Index, ULONG Slot, WDKM_REQUEST *Request, WDKM_ERROR *Error)
{
    WORKER *Worker = (WORKER *)Context;
    DWORD Result;

    ZeroMemory(&Worker->Samples[Slot], sizeof(Worker->Samples[Slot]));
    Result = WdkmRequestSend(Request, Worker->Device, IOCTL_POLLREAD_READ, NULL, 0,
                             &Worker->Samples[Slot], sizeof(Worker->Samples[Slot]), Error);
    if (Result == ERROR_SUCCESS && (Worker->Index * REQUESTS + Index) % CANCEL_EVERY == 0) {
        (VOID)WdkmRequestCancel(Request);
    }
    return Result;
}

/* How one read ended: a sample (with a number), cancelled, or an error. */
static void
ReadEnded(void *Context, ULONG Index, ULONG Slot, DWORD Result, DWORD Returned,
          const WDKM_ERROR *Error)
{
    WORKER *Worker = (WORKER *)Context;
    const POLLREAD_SAMPLE *Sample = &Worker->Samples[Slot];

    UNREFERENCED_PARAMETER(Index);
    if (Result == ERROR_SUCCESS && Returned == sizeof(*Sample) && Sample->Sequence != 0 &&
        Worker->Sampled < REQUESTS) {
        Worker->Sequences[Worker->Sampled] = Sample->Sequence;
        Worker->Sampled += 1;
    } else if (Result == ERROR_OPERATION_ABORTED) {
        Worker->Cancelled += 1;
    } else {
        Worker->Errors += 1;
        snprintf(Worker->Error, sizeof(Worker->Error), "a sample of %lu bytes, number %llu: %s",
                 Returned, Sample->Sequence, Error->Text);
    }
}

/* One thread, one handle: its reads, then the driver's booking for it. */
static DWORD WINAPI
WorkerThread(LPVOID Parameter)
{
    WORKER *Worker = (WORKER *)Parameter;
    WDKM_ERROR Error;
    ULONG Tries;

    if (WdkmRequestWindow(Worker->Requests, WINDOW, REQUESTS, TIMEOUT_MS, StartRead, ReadEnded,
                          Worker, &Error) != ERROR_SUCCESS) {
        snprintf(Worker->Error, sizeof(Worker->Error), "%s", Error.Text);
        Worker->Errors += 1;
        return 1;
    }
    /* The work item books endings a moment after they complete. */
    for (Tries = 0; Tries < TIMEOUT_MS / 10; Tries += 1) {
        if (!Query(Worker->Device, &Worker->Booked)) {
            snprintf(Worker->Error, sizeof(Worker->Error), "query failed");
            Worker->Errors += 1;
            return 1;
        }
        if (Worker->Booked.OpenSampled + Worker->Booked.OpenCancelled >=
            (unsigned long long)(Worker->Sampled + Worker->Cancelled)) {
            break;
        }
        Sleep(10);
    }
    return 0;
}

static WORKER Workers[THREADS];
static unsigned long long AllSequences[TOTAL];
static WDKM_REQUEST Left[LEFT];
static POLLREAD_SAMPLE LeftSamples[LEFT];

int
wmain(int argc, wchar_t **argv)
{
    WDKM_SERVICE Service = WDKM_SERVICE_INIT;
    HANDLE Control0 = INVALID_HANDLE_VALUE;
    HANDLE LeftDevice = INVALID_HANDLE_VALUE;
    POLLREAD_REPORT Report;
    WCHAR Image[MAX_PATH];
    WDKM_ERROR Error;
    LONG Sampled = 0;
    LONG Cancelled = 0;
    LONG Errors = 0;
    ULONG LeftCancelled = 0;
    ULONG Ended = 0;
    DWORD Result;
    DWORD Values[7];
    int Exact = 1;
    ULONG Index;

    setvbuf(stdout, NULL, _IONBF, 0);
    Result = WdkmPathDriverImage(argc > 1 ? argv[1] : NULL, L"pollread.sys", Image, MAX_PATH,
                                 &Error);
    if (Result == ERROR_SUCCESS) {
        printf("Loading %ls as kernel service %ls\n", Image, POLLREAD_SERVICE_NAME);
        Result = WdkmServiceLoadDriver(&Service, POLLREAD_SERVICE_NAME, Image, TIMEOUT_MS,
                                       &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmDeviceOpen(POLLREAD_USER_NAME, TIMEOUT_MS, &Control0, &Error);
    }
    for (Index = 0; Result == ERROR_SUCCESS && Index < THREADS; Index += 1) {
        Workers[Index].Index = Index;
        Result = WdkmDeviceOpen(POLLREAD_USER_NAME, 0, &Workers[Index].Device, &Error);
    }
    if (Result != ERROR_SUCCESS) {
        fprintf(stderr, "pollread: %s\n", Error.Text);
        WdkmServiceClose(&Service);
        return 2;
    }

    /* Phase 1: one handle per thread, reads, cancellations. */
    if (WdkmThreadsRun(THREADS, WorkerThread, Workers, sizeof(Workers[0]), 4 * TIMEOUT_MS,
                       &Error) != ERROR_SUCCESS) {
        fprintf(stderr, "pollread: the client threads: %s\n", Error.Text);
        return 2;
    }
    printf("\nPhase 1: %d threads (one handle each) x %d overlapped reads, every %dth cancelled\n",
           THREADS, REQUESTS, CANCEL_EVERY);
    for (Index = 0; Index < THREADS; Index += 1) {
        WORKER *Worker = &Workers[Index];
        char What[80];

        if (Worker->Error[0] != '\0') {
            fprintf(stderr, "pollread: thread %lu: %s\n", Index, Worker->Error);
        }
        memcpy(&AllSequences[Sampled], Worker->Sequences,
               (size_t)Worker->Sampled * sizeof(AllSequences[0]));
        Sampled += Worker->Sampled;
        Cancelled += Worker->Cancelled;
        Errors += Worker->Errors;
        snprintf(What, sizeof(What), "handle %lu: sampled, booked by the work item", Index);
        Exact &= WdkmReportExact(What, Worker->Booked.OpenSampled,
                                 (unsigned long long)Worker->Sampled);
        snprintf(What, sizeof(What), "handle %lu: cancelled, booked by the work item", Index);
        Exact &= WdkmReportExact(What, Worker->Booked.OpenCancelled,
                                 (unsigned long long)Worker->Cancelled);
    }
    Exact &= WdkmReportExact("reads that ended (client)",
                             (unsigned long long)(Sampled + Cancelled), TOTAL);
    Exact &= WdkmReportExact("reads that failed otherwise (client)", (unsigned long long)Errors,
                             0);
    Exact &= WdkmReportExact("distinct sample numbers received",
                             WdkmReportDistinct(AllSequences, (size_t)Sampled),
                             (unsigned long long)Sampled);
    if (!Query(Control0, &Report)) {
        fprintf(stderr, "pollread: query failed\n");
        return 2;
    }
    Exact &= WdkmReportExact("reads accepted (driver)", Report.Reads, TOTAL);
    Exact &= WdkmReportExact("sampled: driver = client", Report.Sampled,
                             (unsigned long long)Sampled);
    Exact &= WdkmReportExact("cancelled: driver = client", Report.Cancelled,
                             (unsigned long long)Cancelled);
    Exact &= WdkmReportExact("endings booked by the work item", Report.Credited, TOTAL);
    Exact &= WdkmReportExact("handles open (driver)", Report.Opens, THREADS + 1);
    WdkmReportValue("polls that found the device not settled", Report.Retries);
    WdkmReportValue("timer DPC runs", Report.Ticks);
    for (Index = 0; Index < THREADS; Index += 1) {
        WdkmDeviceClose(&Workers[Index].Device);
    }

    /* Phase 2: the device held, reads left pending, the driver stopped. */
    Result = WdkmDeviceOpen(POLLREAD_USER_NAME, 0, &LeftDevice, &Error);
    if (Result == ERROR_SUCCESS) {
        Result = WdkmDeviceIoControl(Control0, IOCTL_POLLREAD_HOLD, NULL, 0, NULL, 0, NULL,
                                     TIMEOUT_MS, &Error);
    }
    for (Index = 0; Result == ERROR_SUCCESS && Index < LEFT; Index += 1) {
        Result = WdkmRequestSend(&Left[Index], LeftDevice, IOCTL_POLLREAD_READ, NULL, 0,
                                 &LeftSamples[Index], sizeof(LeftSamples[Index]), &Error);
    }
    if (Result != ERROR_SUCCESS) {
        fprintf(stderr, "pollread: phase 2 setup: %s\n", Error.Text);
        return 2;
    }
    printf("\nPhase 2: device held, %d reads left pending (one the device's current), "
           "the driver stopped\n", LEFT);
    WdkmDeviceClose(&LeftDevice);
    WdkmDeviceClose(&Control0);
    if (WdkmServiceStop(&Service, TIMEOUT_MS, &Error) != ERROR_SUCCESS) {
        fprintf(stderr, "pollread: stopping the driver: %s\n", Error.Text);
        return 2;
    }
    Ended = WdkmRequestFinishAll(Left, LEFT, TIMEOUT_MS, NULL, &LeftCancelled);
    Exact &= WdkmReportExact("left reads that ended", Ended, LEFT);
    Exact &= WdkmReportExact("... cancelled (cleanup or unload)",
                             (unsigned long long)LeftCancelled, LEFT);
    Cancelled += LeftCancelled;

    {
        static const WCHAR *const Names[7] = {
            POLLREAD_VALUE_READS, POLLREAD_VALUE_SAMPLED, POLLREAD_VALUE_CANCELLED,
            POLLREAD_VALUE_CREDITED, POLLREAD_VALUE_OPENS_LEFT, POLLREAD_VALUE_POOL_BLOCKS,
            POLLREAD_VALUE_LEAK_CHECK,
        };

        if (WdkmServiceKeyReadDwords(POLLREAD_SERVICE_NAME, Names, Values, 7, &Error) !=
            ERROR_SUCCESS) {
            fprintf(stderr, "pollread: %s\n", Error.Text);
            return 2;
        }
    }
    printf("\nAt unload (values the driver left under its service key)\n");
    Exact &= WdkmReportExact("reads accepted, all phases", Values[0], TOTAL + LEFT);
    Exact &= WdkmReportExact("sampled: driver = client", Values[1], (unsigned long long)Sampled);
    Exact &= WdkmReportExact("cancelled: driver = client", Values[2],
                             (unsigned long long)Cancelled);
    Exact &= WdkmReportExact("endings booked to a handle or a closed one", Values[3],
                             TOTAL + LEFT);
    printf("  %-52s %8lu   (handles whose IRP_MJ_CLOSE never came)\n", "opens left at unload",
           Values[4]);
    Exact &= WdkmReportExact("library pool blocks outstanding", Values[5], 0);
    Exact &= WdkmReportLeakCheck(Values[6]);

    (VOID)WdkmServiceDelete(&Service, &Error);
    WdkmServiceClose(&Service);
    printf("\nRESULT: %s\n", Exact ? "every read ended exactly once; every count is exact"
                                   : "COUNTS ARE WRONG");
    return Exact ? 0 : 1;
}
