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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <winioctl.h>

#include "pollread_ioctl.h"
#include "wdkm_path.h"
#include "wdkm_service.h"
#include "wdkm_service_key.h"

#define THREADS      4
#define REQUESTS     40
#define WINDOW       3
#define CANCEL_EVERY 7
#define LEFT         4
#define TIMEOUT_MS   30000
#define TOTAL        (THREADS * REQUESTS)
#define STATUS_CANCELLED_VALUE 0xC0000120UL

typedef struct _REQUEST {
    OVERLAPPED Overlapped;
    POLLREAD_SAMPLE Sample;
    BOOL InFlight;
} REQUEST;

typedef struct _WORKER {
    HANDLE Device;
    ULONG Index;
    LONG Sampled;
    LONG Cancelled;
    LONG Errors;
    POLLREAD_REPORT Booked;     /* the driver's counts for this handle */
    unsigned long long Sequences[REQUESTS];
    char Error[160];
} WORKER;

static HANDLE
OpenDevice(VOID)
{
    return CreateFileW(L"\\\\.\\" POLLREAD_USER_NAME, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                       OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
}

static BOOL
Control(HANDLE Device, DWORD Code, void *Output, DWORD OutputSize, DWORD *Returned)
{
    OVERLAPPED Overlapped;
    BOOL Done;

    ZeroMemory(&Overlapped, sizeof(Overlapped));
    Overlapped.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    *Returned = 0;
    Done = DeviceIoControl(Device, Code, NULL, 0, Output, OutputSize, Returned, &Overlapped);
    if (!Done && GetLastError() == ERROR_IO_PENDING) {
        Done = GetOverlappedResult(Device, &Overlapped, Returned, TRUE);
    }
    CloseHandle(Overlapped.hEvent);
    return Done;
}

static BOOL
Query(HANDLE Device, POLLREAD_REPORT *Report)
{
    DWORD Returned;

    return Control(Device, IOCTL_POLLREAD_QUERY, Report, sizeof(*Report), &Returned) &&
           Returned == sizeof(*Report);
}

static BOOL
Send(WORKER *Worker, REQUEST *Request)
{
    DWORD Returned;

    ZeroMemory(&Request->Overlapped, sizeof(Request->Overlapped));
    ZeroMemory(&Request->Sample, sizeof(Request->Sample));
    Request->Overlapped.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (Request->Overlapped.hEvent == NULL) {
        snprintf(Worker->Error, sizeof(Worker->Error), "CreateEvent: %lu", GetLastError());
        return FALSE;
    }
    Request->InFlight = TRUE;
    if (DeviceIoControl(Worker->Device, IOCTL_POLLREAD_READ, NULL, 0, &Request->Sample,
                        sizeof(Request->Sample), &Returned, &Request->Overlapped) ||
        GetLastError() == ERROR_IO_PENDING) {
        return TRUE;
    }
    snprintf(Worker->Error, sizeof(Worker->Error), "DeviceIoControl: %lu", GetLastError());
    CloseHandle(Request->Overlapped.hEvent);
    Request->InFlight = FALSE;
    return FALSE;
}

static VOID
Finish(WORKER *Worker, REQUEST *Request)
{
    DWORD Returned = 0;

    if (WaitForSingleObject(Request->Overlapped.hEvent, TIMEOUT_MS) != WAIT_OBJECT_0) {
        Worker->Errors += 1;
        snprintf(Worker->Error, sizeof(Worker->Error), "a read did not end in %u ms",
                 TIMEOUT_MS);
        return;
    }
    if (GetOverlappedResult(Worker->Device, &Request->Overlapped, &Returned, FALSE)) {
        if (Returned == sizeof(POLLREAD_SAMPLE) && Request->Sample.Sequence != 0 &&
            Worker->Sampled < REQUESTS) {
            Worker->Sequences[Worker->Sampled] = Request->Sample.Sequence;
            Worker->Sampled += 1;
        } else {
            Worker->Errors += 1;
            snprintf(Worker->Error, sizeof(Worker->Error), "a sample of %lu bytes, number %llu",
                     Returned, Request->Sample.Sequence);
        }
    } else if (GetLastError() == ERROR_OPERATION_ABORTED) {
        Worker->Cancelled += 1;
    } else {
        Worker->Errors += 1;
        snprintf(Worker->Error, sizeof(Worker->Error), "a read failed: %lu", GetLastError());
    }
    CloseHandle(Request->Overlapped.hEvent);
    Request->InFlight = FALSE;
}

/* One thread, one handle: its reads, then the driver's booking for it. */
static DWORD WINAPI
WorkerThread(LPVOID Parameter)
{
    WORKER *Worker = (WORKER *)Parameter;
    REQUEST Requests[WINDOW];
    ULONG Sent;
    ULONG Slot;
    ULONG Tries;

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
            (VOID)CancelIoEx(Worker->Device, &Request->Overlapped);
        }
    }
    for (Slot = 0; Slot < WINDOW; Slot += 1) {
        if (Requests[Slot].InFlight) {
            Finish(Worker, &Requests[Slot]);
        }
    }
    /* The work item books endings a moment after they complete. */
    for (Tries = 0; Tries < TIMEOUT_MS / 10; Tries += 1) {
        if (!Query(Worker->Device, &Worker->Booked)) {
            snprintf(Worker->Error, sizeof(Worker->Error), "query: %lu", GetLastError());
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
    HANDLE Control0 = INVALID_HANDLE_VALUE;
    POLLREAD_REPORT Report;
    WCHAR Image[MAX_PATH];
    WCHAR WindowsImage[MAX_PATH];
    WDKM_ERROR Error;
    WORKER LeftWorker;
    LONG Sampled = 0;
    LONG Cancelled = 0;
    LONG Errors = 0;
    LONG Unique = 0;
    LONG LeftCancelled = 0;
    DWORD Ended = 0;
    DWORD Result;
    DWORD Returned;
    DWORD Values[7];
    int Exact = 1;
    ULONG Index;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1) {
        Result = WdkmPathToWindows(argv[1], WindowsImage, MAX_PATH, &Error);
    } else {
        Result = WdkmPathBesideProgram(L"pollread.sys", Image, MAX_PATH, &Error);
        if (Result == ERROR_SUCCESS) {
            Result = WdkmPathToWindows(Image, WindowsImage, MAX_PATH, &Error);
        }
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmPathCheckFile(WindowsImage, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        printf("Loading %ls as kernel service %ls\n", WindowsImage, POLLREAD_SERVICE_NAME);
        Result = WdkmServiceInstallDriver(&Service, POLLREAD_SERVICE_NAME, WindowsImage,
                                          TIMEOUT_MS, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmServiceStart(&Service, TIMEOUT_MS, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Control0 = OpenDevice();
        if (Control0 == INVALID_HANDLE_VALUE) {
            Result = WdkmErrorSet(&Error, GetLastError(), "opening \\\\.\\%ls", POLLREAD_USER_NAME);
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
        fprintf(stderr, "pollread: %s\n", Error.Text);
        WdkmServiceClose(&Service);
        return 2;
    }

    /* Phase 1: one handle per thread, reads, cancellations. */
    for (Index = 0; Index < THREADS; Index += 1) {
        Threads[Index] = CreateThread(NULL, 0, WorkerThread, &Workers[Index], 0, NULL);
        if (Threads[Index] == NULL) {
            fprintf(stderr, "pollread: CreateThread: %lu\n", GetLastError());
            return 2;
        }
    }
    if (WaitForMultipleObjects(THREADS, Threads, TRUE, 4 * TIMEOUT_MS) != WAIT_OBJECT_0) {
        fprintf(stderr, "pollread: the client threads did not finish\n");
        return 2;
    }
    printf("\nPhase 1: %d threads (one handle each) x %d overlapped reads, every %dth cancelled\n",
           THREADS, REQUESTS, CANCEL_EVERY);
    for (Index = 0; Index < THREADS; Index += 1) {
        WORKER *Worker = &Workers[Index];
        char What[80];

        CloseHandle(Threads[Index]);
        if (Worker->Error[0] != '\0') {
            fprintf(stderr, "pollread: thread %lu: %s\n", Index, Worker->Error);
        }
        memcpy(&AllSequences[Sampled], Worker->Sequences,
               (size_t)Worker->Sampled * sizeof(AllSequences[0]));
        Sampled += Worker->Sampled;
        Cancelled += Worker->Cancelled;
        Errors += Worker->Errors;
        snprintf(What, sizeof(What), "handle %lu: sampled, booked by the work item", Index);
        Exact &= Verdict(What, Worker->Booked.OpenSampled, (unsigned long long)Worker->Sampled);
        snprintf(What, sizeof(What), "handle %lu: cancelled, booked by the work item", Index);
        Exact &= Verdict(What, Worker->Booked.OpenCancelled,
                         (unsigned long long)Worker->Cancelled);
    }
    qsort(AllSequences, (size_t)Sampled, sizeof(AllSequences[0]), CompareSequences);
    for (Index = 0; Index < (ULONG)Sampled; Index += 1) {
        Unique += Index == 0 || AllSequences[Index] != AllSequences[Index - 1];
    }
    Exact &= Verdict("reads that ended (client)", (unsigned long long)(Sampled + Cancelled), TOTAL);
    Exact &= Verdict("reads that failed otherwise (client)", (unsigned long long)Errors, 0);
    Exact &= Verdict("distinct sample numbers received", (unsigned long long)Unique,
                     (unsigned long long)Sampled);
    if (!Query(Control0, &Report)) {
        fprintf(stderr, "pollread: query failed: %lu\n", GetLastError());
        return 2;
    }
    Exact &= Verdict("reads accepted (driver)", Report.Reads, TOTAL);
    Exact &= Verdict("sampled: driver = client", Report.Sampled, (unsigned long long)Sampled);
    Exact &= Verdict("cancelled: driver = client", Report.Cancelled, (unsigned long long)Cancelled);
    Exact &= Verdict("endings booked by the work item", Report.Credited, TOTAL);
    Exact &= Verdict("handles open (driver)", Report.Opens, THREADS + 1);
    printf("  %-52s %8llu\n", "polls that found the device not settled", Report.Retries);
    printf("  %-52s %8llu\n", "timer DPC runs", Report.Ticks);
    for (Index = 0; Index < THREADS; Index += 1) {
        CloseHandle(Workers[Index].Device);
    }

    /* Phase 2: the device held, reads left pending, the driver stopped. */
    ZeroMemory(&LeftWorker, sizeof(LeftWorker));
    LeftWorker.Device = OpenDevice();
    if (LeftWorker.Device == INVALID_HANDLE_VALUE ||
        !Control(Control0, IOCTL_POLLREAD_HOLD, NULL, 0, &Returned)) {
        fprintf(stderr, "pollread: phase 2 setup: %lu\n", GetLastError());
        return 2;
    }
    for (Index = 0; Index < LEFT; Index += 1) {
        if (!Send(&LeftWorker, &Left[Index])) {
            fprintf(stderr, "pollread: %s\n", LeftWorker.Error);
            return 2;
        }
    }
    printf("\nPhase 2: device held, %d reads left pending (one the device's current), "
           "the driver stopped\n", LEFT);
    CloseHandle(LeftWorker.Device);
    CloseHandle(Control0);
    if (WdkmServiceStop(&Service, TIMEOUT_MS, &Error) != ERROR_SUCCESS) {
        fprintf(stderr, "pollread: stopping the driver: %s\n", Error.Text);
        return 2;
    }
    for (Index = 0; Index < LEFT; Index += 1) {
        if (WaitForSingleObject(Left[Index].Overlapped.hEvent, TIMEOUT_MS) == WAIT_OBJECT_0) {
            Ended += 1;
            LeftCancelled += (DWORD)Left[Index].Overlapped.Internal == STATUS_CANCELLED_VALUE;
        }
    }
    Exact &= Verdict("left reads that ended", Ended, LEFT);
    Exact &= Verdict("... cancelled (cleanup or unload)", (unsigned long long)LeftCancelled, LEFT);
    Cancelled += LeftCancelled;

    {
        static const WCHAR *const Names[7] = {
            POLLREAD_VALUE_READS, POLLREAD_VALUE_SAMPLED, POLLREAD_VALUE_CANCELLED,
            POLLREAD_VALUE_CREDITED, POLLREAD_VALUE_OPENS_LEFT, POLLREAD_VALUE_POOL_BLOCKS,
            POLLREAD_VALUE_LEAK_CHECK,
        };

        for (Index = 0; Index < 7; Index += 1) {
            if (WdkmServiceKeyReadDword(POLLREAD_SERVICE_NAME, Names[Index], &Values[Index],
                                        &Error) != ERROR_SUCCESS) {
                fprintf(stderr, "pollread: %s\n", Error.Text);
                return 2;
            }
        }
    }
    printf("\nAt unload (values the driver left under its service key)\n");
    Exact &= Verdict("reads accepted, all phases", Values[0], TOTAL + LEFT);
    Exact &= Verdict("sampled: driver = client", Values[1], (unsigned long long)Sampled);
    Exact &= Verdict("cancelled: driver = client", Values[2], (unsigned long long)Cancelled);
    Exact &= Verdict("endings booked to a handle or a closed one", Values[3], TOTAL + LEFT);
    printf("  %-52s %8lu   (handles whose IRP_MJ_CLOSE never came)\n", "opens left at unload",
           Values[4]);
    Exact &= Verdict("library pool blocks outstanding", Values[5], 0);
    if (Values[6] == 0xC00000BBUL) {    /* STATUS_NOT_SUPPORTED: a release build */
        printf("  %-52s %8s   (release build: no diagnostics)\n", "WdkmDiagLeakCheck", "n/a");
    } else {
        Exact &= Verdict("WdkmDiagLeakCheck status (checked build)", Values[6], 0);
    }

    (VOID)WdkmServiceDelete(&Service, &Error);
    WdkmServiceClose(&Service);
    printf("\nRESULT: %s\n", Exact ? "every read ended exactly once; every count is exact"
                                   : "COUNTS ARE WRONG");
    return Exact ? 0 : 1;
}
