/*
 * threadq_client.c - loads the worker-thread driver and sends it jobs
 * from several threads (each on its own handle) with overlapped
 * DeviceIoControl, cancels some right after sending them (queued or
 * already the thread's), and checks that every job ended exactly once,
 * with its own answer or cancelled, with exact counts on both sides and
 * per handle; then cancels a long job the thread is working on; then
 * leaves long jobs in flight on a closed handle and stops the driver.
 *
 * Usage: threadq_client.exe [path\to\threadq.sys]
 *        (default: threadq.sys beside this program)
 *
 * The plumbing (loading the driver, opening it, a window of overlapped
 * requests, the verdict lines) is support/'s: wdkm_service.h,
 * wdkm_device.h, wdkm_request_window.h, wdkm_report.h.
 */
#include <stdio.h>
#include <string.h>

#include <windows.h>
#include <winioctl.h>

#include "threadq_ioctl.h"
#include "wdkm_device.h"
#include "wdkm_path.h"
#include "wdkm_report.h"
#include "wdkm_request_window.h"
#include "wdkm_service.h"
#include "wdkm_service_key.h"
#include "wdkm_threads.h"

#define THREADS      4
#define JOBS         40
#define WINDOW       3
#define CANCEL_EVERY 7
#define LEFT         4
#define LONG_WORK_MS 60000
#define TIMEOUT_MS   30000
#define TOTAL        (THREADS * JOBS)

typedef struct _WORKER {
    HANDLE Device;
    ULONG Index;
    LONG Done;
    LONG Cancelled;
    LONG Errors;
    THREADQ_REPORT Report;      /* the driver's counts, this handle's among them */
    WDKM_REQUEST Requests[WINDOW];
    THREADQ_JOB Jobs[WINDOW];
    unsigned long long Sequences[JOBS];
    char Error[160];
} WORKER;

static BOOL
Query(HANDLE Device, THREADQ_REPORT *Report)
{
    DWORD Returned = 0;

    return WdkmDeviceIoControl(Device, IOCTL_THREADQ_QUERY, NULL, 0, Report, sizeof(*Report),
                               &Returned, TIMEOUT_MS, NULL) == ERROR_SUCCESS &&
           Returned == sizeof(*Report);
}

/* Sends Job (in and out in one buffer) asking WorkMs of the thread's work. */
static DWORD
SendJob(HANDLE Device, WDKM_REQUEST *Request, THREADQ_JOB *Job, ULONG Value, ULONG WorkMs,
        WDKM_ERROR *Error)
{
    ZeroMemory(Job, sizeof(*Job));
    Job->Value = Value;
    Job->WorkMs = WorkMs;
    return WdkmRequestSend(Request, Device, IOCTL_THREADQ_JOB, Job, sizeof(*Job), Job,
                           sizeof(*Job), Error);
}

/* A finished job: 1 done (its own answer), 0 cancelled, -1 anything else. */
static int
JobOutcome(const THREADQ_JOB *Job, ULONG Value, DWORD Result, DWORD Returned)
{
    if (Result == ERROR_OPERATION_ABORTED) {
        return 0;
    }
    return Result == ERROR_SUCCESS && Returned == sizeof(*Job) && Job->Sequence != 0 &&
                   Job->Answer == THREADQ_ANSWER(Value)
               ? 1
               : -1;
}

/* The thread's job number Index: a value of its own, 0 to 2 ms of work;
   every CANCEL_EVERY-th of all cancelled at once (queued or already the
   thread's). */
static DWORD
StartJob(void *Context, ULONG Index, ULONG Slot, WDKM_REQUEST *Request, WDKM_ERROR *Error)
{
    WORKER *Worker = (WORKER *)Context;
    DWORD Result;

    Result = SendJob(Worker->Device, Request, &Worker->Jobs[Slot], Worker->Index * 1000 + Index,
                     Index % 3, Error);
    if (Result == ERROR_SUCCESS && (Worker->Index * JOBS + Index) % CANCEL_EVERY == 0) {
        (VOID)WdkmRequestCancel(Request);
    }
    return Result;
}

static void
JobEnded(void *Context, ULONG Index, ULONG Slot, DWORD Result, DWORD Returned,
         const WDKM_ERROR *Error)
{
    WORKER *Worker = (WORKER *)Context;
    const THREADQ_JOB *Job = &Worker->Jobs[Slot];
    ULONG Value = Worker->Index * 1000 + Index;
    int Outcome = JobOutcome(Job, Value, Result, Returned);

    if (Outcome == 1 && Worker->Done < JOBS) {
        Worker->Sequences[Worker->Done] = Job->Sequence;
        Worker->Done += 1;
    } else if (Outcome == 0) {
        Worker->Cancelled += 1;
    } else {
        Worker->Errors += 1;
        snprintf(Worker->Error, sizeof(Worker->Error),
                 "job %lu: %lu bytes, answer %lu, number %llu: %s", Value, Returned,
                 Job->Answer, Job->Sequence, Error->Text);
    }
}

/* One thread, one handle: its jobs, then the driver's counts for it. */
static DWORD WINAPI
WorkerThread(LPVOID Parameter)
{
    WORKER *Worker = (WORKER *)Parameter;
    WDKM_ERROR Error;

    if (WdkmRequestWindow(Worker->Requests, WINDOW, JOBS, TIMEOUT_MS, StartJob, JobEnded, Worker,
                          &Error) != ERROR_SUCCESS) {
        snprintf(Worker->Error, sizeof(Worker->Error), "%s", Error.Text);
        Worker->Errors += 1;
        return 1;
    }
    if (!Query(Worker->Device, &Worker->Report)) {
        snprintf(Worker->Error, sizeof(Worker->Error), "query failed");
        Worker->Errors += 1;
        return 1;
    }
    return 0;
}

static WORKER Workers[THREADS];
static unsigned long long AllSequences[TOTAL];
static WDKM_REQUEST Left[LEFT];
static THREADQ_JOB LeftJobs[LEFT];

static int
Fail(const char *What, const char *Text)
{
    fprintf(stderr, "threadq: %s: %s\n", What, Text);
    return 2;
}

int
wmain(int argc, wchar_t **argv)
{
    WDKM_SERVICE Service = WDKM_SERVICE_INIT;
    HANDLE Control0 = INVALID_HANDLE_VALUE;
    HANDLE LeftDevice = INVALID_HANDLE_VALUE;
    THREADQ_REPORT Report;
    THREADQ_REPORT Before;
    WDKM_REQUEST Long;
    THREADQ_JOB LongJob;
    WCHAR Image[MAX_PATH];
    WDKM_ERROR Error;
    LONG Done = 0;
    LONG Cancelled = 0;
    LONG Errors = 0;
    ULONG LeftCancelled = 0;
    ULONG Ended = 0;
    DWORD Result;
    DWORD Returned;
    DWORD Values[7];
    DWORD Started;
    int Exact = 1;
    int Outcome;
    ULONG Index;

    setvbuf(stdout, NULL, _IONBF, 0);
    Result = WdkmPathDriverImage(argc > 1 ? argv[1] : NULL, L"threadq.sys", Image, MAX_PATH,
                                 &Error);
    if (Result == ERROR_SUCCESS) {
        printf("Loading %ls as kernel service %ls\n", Image, THREADQ_SERVICE_NAME);
        Result = WdkmServiceLoadDriver(&Service, THREADQ_SERVICE_NAME, Image, TIMEOUT_MS,
                                       &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmDeviceOpen(THREADQ_USER_NAME, TIMEOUT_MS, &Control0, &Error);
    }
    for (Index = 0; Result == ERROR_SUCCESS && Index < THREADS; Index += 1) {
        Workers[Index].Index = Index;
        Result = WdkmDeviceOpen(THREADQ_USER_NAME, 0, &Workers[Index].Device, &Error);
    }
    if (Result != ERROR_SUCCESS) {
        WdkmServiceClose(&Service);
        return Fail("setup", Error.Text);
    }

    /* Phase 1: one handle per thread, jobs, cancellations. */
    if (WdkmThreadsRun(THREADS, WorkerThread, Workers, sizeof(Workers[0]), 4 * TIMEOUT_MS,
                       &Error) != ERROR_SUCCESS) {
        return Fail("phase 1", Error.Text);
    }
    printf("\nPhase 1: %d threads (one handle each) x %d overlapped jobs, every %dth cancelled\n",
           THREADS, JOBS, CANCEL_EVERY);
    for (Index = 0; Index < THREADS; Index += 1) {
        WORKER *Worker = &Workers[Index];
        char What[80];

        if (Worker->Error[0] != '\0') {
            fprintf(stderr, "threadq: thread %lu: %s\n", Index, Worker->Error);
        }
        memcpy(&AllSequences[Done], Worker->Sequences,
               (size_t)Worker->Done * sizeof(AllSequences[0]));
        Done += Worker->Done;
        Cancelled += Worker->Cancelled;
        Errors += Worker->Errors;
        snprintf(What, sizeof(What), "handle %lu: jobs sent (driver's context)", Index);
        Exact &= WdkmReportExact(What, Worker->Report.FileSubmitted, JOBS);
        snprintf(What, sizeof(What), "handle %lu: done, driver = client", Index);
        Exact &= WdkmReportExact(What, Worker->Report.FileDone, (unsigned long long)Worker->Done);
        snprintf(What, sizeof(What), "handle %lu: cancelled, driver = client", Index);
        Exact &= WdkmReportExact(What, Worker->Report.FileCancelled,
                                 (unsigned long long)Worker->Cancelled);
    }
    Exact &= WdkmReportExact("jobs that ended (client)", (unsigned long long)(Done + Cancelled),
                             TOTAL);
    Exact &= WdkmReportExact("jobs that failed otherwise (client)", (unsigned long long)Errors,
                             0);
    Exact &= WdkmReportExact("distinct job numbers received",
                             WdkmReportDistinct(AllSequences, (size_t)Done),
                             (unsigned long long)Done);
    if (!Query(Control0, &Report)) {
        return Fail("query", "failed");
    }
    Exact &= WdkmReportExact("jobs accepted (driver)", Report.Submitted, TOTAL);
    Exact &= WdkmReportExact("done: driver = client", Report.Done, (unsigned long long)Done);
    Exact &= WdkmReportExact("cancelled: driver = client", Report.Cancelled,
                             (unsigned long long)Cancelled);
    Exact &= WdkmReportExact("cancelled queued + cancelled current = cancelled",
                             Report.CancelledQueued + Report.CancelledCurrent, Report.Cancelled);
    Exact &= WdkmReportExact("handles registered (driver)", Report.Opens, THREADS + 1);
    WdkmReportValue("cancelled while the thread worked on them", Report.CancelledCurrent);
    WdkmReportValue("... of which its cancel routine completed", Report.HandedToCancel);
    for (Index = 0; Index < THREADS; Index += 1) {
        WdkmDeviceClose(&Workers[Index].Device);
    }

    /* Phase 1b: a long job cancelled while the thread works on it. */
    printf("\nPhase 1b: a %d ms job cancelled once the thread works on it\n", LONG_WORK_MS);
    Before = Report;
    ZeroMemory(&Long, sizeof(Long));
    if (SendJob(Control0, &Long, &LongJob, 424242, LONG_WORK_MS, &Error) != ERROR_SUCCESS) {
        return Fail("phase 1b", Error.Text);
    }
    for (Index = 0; Index < TIMEOUT_MS / 10 && Query(Control0, &Report) && Report.Busy == 0;
         Index += 1) {
        Sleep(10);
    }
    Exact &= WdkmReportExact("the thread works on it", Report.Busy, 1);
    Started = GetTickCount();
    (VOID)WdkmRequestCancel(&Long);
    Result = WdkmRequestFinish(&Long, TIMEOUT_MS, &Returned, &Error);
    Outcome = JobOutcome(&LongJob, 424242, Result, Returned);
    Exact &= WdkmReportExact("it ended cancelled", Outcome == 0, 1);
    Exact &= WdkmReportExact("... within 5 s of the cancel", GetTickCount() - Started < 5000, 1);
    if (!Query(Control0, &Report)) {
        return Fail("query", "failed");
    }
    Exact &= WdkmReportExact("driver: cancelled current, one more",
                             Report.CancelledCurrent + Report.HandedToCancel,
                             Before.CancelledCurrent + Before.HandedToCancel + 1);
    Cancelled += Outcome == 0;

    /* Phase 2: long jobs left in flight on a closed handle, the driver stopped. */
    Result = WdkmDeviceOpen(THREADQ_USER_NAME, 0, &LeftDevice, &Error);
    for (Index = 0; Result == ERROR_SUCCESS && Index < LEFT; Index += 1) {
        Result = SendJob(LeftDevice, &Left[Index], &LeftJobs[Index], 9000 + Index, LONG_WORK_MS,
                         &Error);
    }
    if (Result != ERROR_SUCCESS) {
        return Fail("phase 2", Error.Text);
    }
    printf("\nPhase 2: %d jobs of %d ms left in flight (one the thread's), their handle closed, "
           "the driver stopped\n", LEFT, LONG_WORK_MS);
    WdkmDeviceClose(&LeftDevice);
    WdkmDeviceClose(&Control0);
    if (WdkmServiceStop(&Service, TIMEOUT_MS, &Error) != ERROR_SUCCESS) {
        return Fail("stopping the driver", Error.Text);
    }
    Ended = WdkmRequestFinishAll(Left, LEFT, TIMEOUT_MS, NULL, &LeftCancelled);
    Exact &= WdkmReportExact("left jobs that ended", Ended, LEFT);
    Exact &= WdkmReportExact("... cancelled (close, cleanup or unload)",
                             (unsigned long long)LeftCancelled, LEFT);
    Cancelled += LeftCancelled;

    {
        static const WCHAR *const Names[7] = {
            THREADQ_VALUE_SUBMITTED, THREADQ_VALUE_DONE, THREADQ_VALUE_CANCELLED,
            THREADQ_VALUE_THREAD_EXIT, THREADQ_VALUE_POOL_BLOCKS, THREADQ_VALUE_LEAK_CHECK,
            THREADQ_VALUE_DESTROY,
        };

        if (WdkmServiceKeyReadDwords(THREADQ_SERVICE_NAME, Names, Values, 7, &Error) !=
            ERROR_SUCCESS) {
            return Fail("service key", Error.Text);
        }
    }
    printf("\nAt unload (values the driver left under its service key)\n");
    Exact &= WdkmReportExact("jobs accepted, all phases", Values[0], TOTAL + 1 + LEFT);
    Exact &= WdkmReportExact("done: driver = client", Values[1], (unsigned long long)Done);
    Exact &= WdkmReportExact("cancelled: driver = client", Values[2],
                             (unsigned long long)Cancelled);
    Exact &= WdkmReportExact("worker thread's exit status", Values[3], 0);
    Exact &= WdkmReportExact("library pool blocks outstanding", Values[4], 0);
    Exact &= WdkmReportLeakCheck(Values[5]);
    Exact &= WdkmReportExact("WdkmGrtDestroy status", Values[6], 0);

    (VOID)WdkmServiceDelete(&Service, &Error);
    WdkmServiceClose(&Service);
    printf("\nRESULT: %s\n", Exact ? "every job ended exactly once; every count is exact"
                                   : "COUNTS ARE WRONG");
    return Exact ? 0 : 1;
}
