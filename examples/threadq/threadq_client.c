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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <winioctl.h>

#include "threadq_ioctl.h"
#include "wdkm_path.h"
#include "wdkm_service.h"
#include "wdkm_service_key.h"

#define THREADS      4
#define JOBS         40
#define WINDOW       3
#define CANCEL_EVERY 7
#define LEFT         4
#define LONG_WORK_MS 60000
#define TIMEOUT_MS   30000
#define TOTAL        (THREADS * JOBS)
#define STATUS_CANCELLED_VALUE 0xC0000120UL

typedef struct _REQUEST {
    OVERLAPPED Overlapped;
    THREADQ_JOB Job;
    BOOL InFlight;
} REQUEST;

typedef struct _WORKER {
    HANDLE Device;
    ULONG Index;
    LONG Done;
    LONG Cancelled;
    LONG Errors;
    THREADQ_REPORT Report;      /* the driver's counts, this handle's among them */
    unsigned long long Sequences[JOBS];
    char Error[160];
} WORKER;

static HANDLE
OpenDevice(VOID)
{
    return CreateFileW(L"\\\\.\\" THREADQ_USER_NAME, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                       OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
}

static BOOL
Query(HANDLE Device, THREADQ_REPORT *Report)
{
    OVERLAPPED Overlapped;
    DWORD Returned = 0;
    BOOL Done;

    ZeroMemory(&Overlapped, sizeof(Overlapped));
    Overlapped.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    Done = DeviceIoControl(Device, IOCTL_THREADQ_QUERY, NULL, 0, Report, sizeof(*Report),
                           &Returned, &Overlapped);
    if (!Done && GetLastError() == ERROR_IO_PENDING) {
        Done = GetOverlappedResult(Device, &Overlapped, &Returned, TRUE);
    }
    CloseHandle(Overlapped.hEvent);
    return Done && Returned == sizeof(*Report);
}

static BOOL
Send(HANDLE Device, REQUEST *Request, ULONG Value, ULONG WorkMs, char *Error, size_t ErrorSize)
{
    DWORD Returned;

    ZeroMemory(Request, sizeof(*Request));
    Request->Job.Value = Value;
    Request->Job.WorkMs = WorkMs;
    Request->Overlapped.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (Request->Overlapped.hEvent == NULL) {
        snprintf(Error, ErrorSize, "CreateEvent: %lu", GetLastError());
        return FALSE;
    }
    Request->InFlight = TRUE;
    if (DeviceIoControl(Device, IOCTL_THREADQ_JOB, &Request->Job, sizeof(Request->Job),
                        &Request->Job, sizeof(Request->Job), &Returned, &Request->Overlapped) ||
        GetLastError() == ERROR_IO_PENDING) {
        return TRUE;
    }
    snprintf(Error, ErrorSize, "DeviceIoControl: %lu", GetLastError());
    CloseHandle(Request->Overlapped.hEvent);
    Request->InFlight = FALSE;
    return FALSE;
}

/* Waits for Request; 1 done (its own answer), 0 cancelled, -1 anything else. */
static int
Finish(HANDLE Device, REQUEST *Request, ULONG Value, char *Error, size_t ErrorSize)
{
    DWORD Returned = 0;
    int Outcome = -1;

    if (WaitForSingleObject(Request->Overlapped.hEvent, TIMEOUT_MS) != WAIT_OBJECT_0) {
        snprintf(Error, ErrorSize, "a job did not end in %u ms", TIMEOUT_MS);
        return -1;
    }
    if (GetOverlappedResult(Device, &Request->Overlapped, &Returned, FALSE)) {
        if (Returned == sizeof(THREADQ_JOB) && Request->Job.Sequence != 0 &&
            Request->Job.Answer == THREADQ_ANSWER(Value)) {
            Outcome = 1;
        } else {
            snprintf(Error, ErrorSize, "job %lu: %lu bytes, answer %lu, number %llu", Value,
                     Returned, Request->Job.Answer, Request->Job.Sequence);
        }
    } else if (GetLastError() == ERROR_OPERATION_ABORTED) {
        Outcome = 0;
    } else {
        snprintf(Error, ErrorSize, "job %lu failed: %lu", Value, GetLastError());
    }
    CloseHandle(Request->Overlapped.hEvent);
    Request->InFlight = FALSE;
    return Outcome;
}

static VOID
Account(WORKER *Worker, REQUEST *Request, ULONG Value)
{
    int Outcome = Finish(Worker->Device, Request, Value, Worker->Error, sizeof(Worker->Error));

    if (Outcome == 1 && Worker->Done < JOBS) {
        Worker->Sequences[Worker->Done] = Request->Job.Sequence;
        Worker->Done += 1;
    } else if (Outcome == 0) {
        Worker->Cancelled += 1;
    } else {
        Worker->Errors += 1;
    }
}

/* One thread, one handle: its jobs, then the driver's counts for it. */
static DWORD WINAPI
WorkerThread(LPVOID Parameter)
{
    WORKER *Worker = (WORKER *)Parameter;
    REQUEST Requests[WINDOW];
    ULONG Values[WINDOW];
    ULONG Sent;
    ULONG Slot;

    ZeroMemory(Requests, sizeof(Requests));
    for (Sent = 0; Sent < JOBS; Sent += 1) {
        ULONG Value = Worker->Index * 1000 + Sent;

        Slot = Sent % WINDOW;
        if (Requests[Slot].InFlight) {
            Account(Worker, &Requests[Slot], Values[Slot]);
        }
        Values[Slot] = Value;
        if (!Send(Worker->Device, &Requests[Slot], Value, Sent % 3, Worker->Error,
                  sizeof(Worker->Error))) {
            Worker->Errors += 1;
            return 1;
        }
        if ((Worker->Index * JOBS + Sent) % CANCEL_EVERY == 0) {
            (VOID)CancelIoEx(Worker->Device, &Requests[Slot].Overlapped);
        }
    }
    for (Slot = 0; Slot < WINDOW; Slot += 1) {
        if (Requests[Slot].InFlight) {
            Account(Worker, &Requests[Slot], Values[Slot]);
        }
    }
    if (!Query(Worker->Device, &Worker->Report)) {
        snprintf(Worker->Error, sizeof(Worker->Error), "query: %lu", GetLastError());
        Worker->Errors += 1;
        return 1;
    }
    return 0;
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
    HANDLE Threads[THREADS];
    HANDLE Control0 = INVALID_HANDLE_VALUE;
    HANDLE LeftDevice;
    THREADQ_REPORT Report;
    THREADQ_REPORT Before;
    REQUEST Long;
    WCHAR Image[MAX_PATH];
    WCHAR WindowsImage[MAX_PATH];
    WDKM_ERROR Error;
    char Text[160];
    LONG Done = 0;
    LONG Cancelled = 0;
    LONG Errors = 0;
    LONG Unique = 0;
    LONG LeftCancelled = 0;
    DWORD Ended = 0;
    DWORD Result;
    DWORD Values[7];
    DWORD Started;
    int Exact = 1;
    int Outcome;
    ULONG Index;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1) {
        Result = WdkmPathToWindows(argv[1], WindowsImage, MAX_PATH, &Error);
    } else {
        Result = WdkmPathBesideProgram(L"threadq.sys", Image, MAX_PATH, &Error);
        if (Result == ERROR_SUCCESS) {
            Result = WdkmPathToWindows(Image, WindowsImage, MAX_PATH, &Error);
        }
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmPathCheckFile(WindowsImage, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        printf("Loading %ls as kernel service %ls\n", WindowsImage, THREADQ_SERVICE_NAME);
        Result = WdkmServiceInstallDriver(&Service, THREADQ_SERVICE_NAME, WindowsImage,
                                          TIMEOUT_MS, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmServiceStart(&Service, TIMEOUT_MS, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Control0 = OpenDevice();
        if (Control0 == INVALID_HANDLE_VALUE) {
            Result = WdkmErrorSet(&Error, GetLastError(), "opening \\\\.\\%ls", THREADQ_USER_NAME);
        }
    }
    for (Index = 0; Result == ERROR_SUCCESS && Index < THREADS; Index += 1) {
        Workers[Index].Index = Index;
        Workers[Index].Device = OpenDevice();
        if (Workers[Index].Device == INVALID_HANDLE_VALUE) {
            Result = WdkmErrorSet(&Error, GetLastError(), "opening handle %lu", Index);
        }
    }
    if (Result != ERROR_SUCCESS) {
        WdkmServiceClose(&Service);
        return Fail("setup", Error.Text);
    }

    /* Phase 1: one handle per thread, jobs, cancellations. */
    for (Index = 0; Index < THREADS; Index += 1) {
        Threads[Index] = CreateThread(NULL, 0, WorkerThread, &Workers[Index], 0, NULL);
        if (Threads[Index] == NULL) {
            return Fail("CreateThread", "failed");
        }
    }
    if (WaitForMultipleObjects(THREADS, Threads, TRUE, 4 * TIMEOUT_MS) != WAIT_OBJECT_0) {
        return Fail("phase 1", "the client threads did not finish");
    }
    printf("\nPhase 1: %d threads (one handle each) x %d overlapped jobs, every %dth cancelled\n",
           THREADS, JOBS, CANCEL_EVERY);
    for (Index = 0; Index < THREADS; Index += 1) {
        WORKER *Worker = &Workers[Index];
        char What[80];

        CloseHandle(Threads[Index]);
        if (Worker->Error[0] != '\0') {
            fprintf(stderr, "threadq: thread %lu: %s\n", Index, Worker->Error);
        }
        memcpy(&AllSequences[Done], Worker->Sequences,
               (size_t)Worker->Done * sizeof(AllSequences[0]));
        Done += Worker->Done;
        Cancelled += Worker->Cancelled;
        Errors += Worker->Errors;
        snprintf(What, sizeof(What), "handle %lu: jobs sent (driver's context)", Index);
        Exact &= Verdict(What, Worker->Report.FileSubmitted, JOBS);
        snprintf(What, sizeof(What), "handle %lu: done, driver = client", Index);
        Exact &= Verdict(What, Worker->Report.FileDone, (unsigned long long)Worker->Done);
        snprintf(What, sizeof(What), "handle %lu: cancelled, driver = client", Index);
        Exact &= Verdict(What, Worker->Report.FileCancelled,
                         (unsigned long long)Worker->Cancelled);
    }
    qsort(AllSequences, (size_t)Done, sizeof(AllSequences[0]), CompareSequences);
    for (Index = 0; Index < (ULONG)Done; Index += 1) {
        Unique += Index == 0 || AllSequences[Index] != AllSequences[Index - 1];
    }
    Exact &= Verdict("jobs that ended (client)", (unsigned long long)(Done + Cancelled), TOTAL);
    Exact &= Verdict("jobs that failed otherwise (client)", (unsigned long long)Errors, 0);
    Exact &= Verdict("distinct job numbers received", (unsigned long long)Unique,
                     (unsigned long long)Done);
    if (!Query(Control0, &Report)) {
        return Fail("query", "failed");
    }
    Exact &= Verdict("jobs accepted (driver)", Report.Submitted, TOTAL);
    Exact &= Verdict("done: driver = client", Report.Done, (unsigned long long)Done);
    Exact &= Verdict("cancelled: driver = client", Report.Cancelled, (unsigned long long)Cancelled);
    Exact &= Verdict("cancelled queued + cancelled current = cancelled",
                     Report.CancelledQueued + Report.CancelledCurrent, Report.Cancelled);
    Exact &= Verdict("handles registered (driver)", Report.Opens, THREADS + 1);
    printf("  %-52s %8llu\n", "cancelled while the thread worked on them", Report.CancelledCurrent);
    printf("  %-52s %8llu\n", "... of which its cancel routine completed", Report.HandedToCancel);
    for (Index = 0; Index < THREADS; Index += 1) {
        CloseHandle(Workers[Index].Device);
    }

    /* Phase 1b: a long job cancelled while the thread works on it. */
    printf("\nPhase 1b: a %d ms job cancelled once the thread works on it\n", LONG_WORK_MS);
    Before = Report;
    if (!Send(Control0, &Long, 424242, LONG_WORK_MS, Text, sizeof(Text))) {
        return Fail("phase 1b", Text);
    }
    for (Index = 0; Index < TIMEOUT_MS / 10 && Query(Control0, &Report) && Report.Busy == 0;
         Index += 1) {
        Sleep(10);
    }
    Exact &= Verdict("the thread works on it", Report.Busy, 1);
    Started = GetTickCount();
    (VOID)CancelIoEx(Control0, &Long.Overlapped);
    Outcome = Finish(Control0, &Long, 424242, Text, sizeof(Text));
    Exact &= Verdict("it ended cancelled", Outcome == 0, 1);
    Exact &= Verdict("... within 5 s of the cancel", GetTickCount() - Started < 5000, 1);
    if (!Query(Control0, &Report)) {
        return Fail("query", "failed");
    }
    Exact &= Verdict("driver: cancelled current, one more",
                     Report.CancelledCurrent + Report.HandedToCancel,
                     Before.CancelledCurrent + Before.HandedToCancel + 1);
    Cancelled += Outcome == 0;

    /* Phase 2: long jobs left in flight on a closed handle, the driver stopped. */
    LeftDevice = OpenDevice();
    if (LeftDevice == INVALID_HANDLE_VALUE) {
        return Fail("phase 2", "open failed");
    }
    for (Index = 0; Index < LEFT; Index += 1) {
        if (!Send(LeftDevice, &Left[Index], 9000 + Index, LONG_WORK_MS, Text, sizeof(Text))) {
            return Fail("phase 2", Text);
        }
    }
    printf("\nPhase 2: %d jobs of %d ms left in flight (one the thread's), their handle closed, "
           "the driver stopped\n", LEFT, LONG_WORK_MS);
    CloseHandle(LeftDevice);
    CloseHandle(Control0);
    if (WdkmServiceStop(&Service, TIMEOUT_MS, &Error) != ERROR_SUCCESS) {
        return Fail("stopping the driver", Error.Text);
    }
    for (Index = 0; Index < LEFT; Index += 1) {
        if (WaitForSingleObject(Left[Index].Overlapped.hEvent, TIMEOUT_MS) == WAIT_OBJECT_0) {
            Ended += 1;
            LeftCancelled += (DWORD)Left[Index].Overlapped.Internal == STATUS_CANCELLED_VALUE;
        }
    }
    Exact &= Verdict("left jobs that ended", Ended, LEFT);
    Exact &= Verdict("... cancelled (close, cleanup or unload)", (unsigned long long)LeftCancelled,
                     LEFT);
    Cancelled += LeftCancelled;

    {
        static const WCHAR *const Names[7] = {
            THREADQ_VALUE_SUBMITTED, THREADQ_VALUE_DONE, THREADQ_VALUE_CANCELLED,
            THREADQ_VALUE_THREAD_EXIT, THREADQ_VALUE_POOL_BLOCKS, THREADQ_VALUE_LEAK_CHECK,
            THREADQ_VALUE_DESTROY,
        };

        for (Index = 0; Index < 7; Index += 1) {
            if (WdkmServiceKeyReadDword(THREADQ_SERVICE_NAME, Names[Index], &Values[Index],
                                        &Error) != ERROR_SUCCESS) {
                return Fail("service key", Error.Text);
            }
        }
    }
    printf("\nAt unload (values the driver left under its service key)\n");
    Exact &= Verdict("jobs accepted, all phases", Values[0], TOTAL + 1 + LEFT);
    Exact &= Verdict("done: driver = client", Values[1], (unsigned long long)Done);
    Exact &= Verdict("cancelled: driver = client", Values[2], (unsigned long long)Cancelled);
    Exact &= Verdict("worker thread's exit status", Values[3], 0);
    Exact &= Verdict("library pool blocks outstanding", Values[4], 0);
    if (Values[5] == 0xC00000BBUL) {    /* STATUS_NOT_SUPPORTED: a release build */
        printf("  %-52s %8s   (release build: no diagnostics)\n", "WdkmDiagLeakCheck", "n/a");
    } else {
        Exact &= Verdict("WdkmDiagLeakCheck status (checked build)", Values[5], 0);
    }
    Exact &= Verdict("WdkmGrtDestroy status", Values[6], 0);

    (VOID)WdkmServiceDelete(&Service, &Error);
    WdkmServiceClose(&Service);
    printf("\nRESULT: %s\n", Exact ? "every job ended exactly once; every count is exact"
                                   : "COUNTS ARE WRONG");
    return Exact ? 0 : 1;
}
