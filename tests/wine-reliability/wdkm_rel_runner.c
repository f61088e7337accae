/*
 * wdkm_rel_runner.c - wdkm_rel_runner.exe: the user-mode side of the Wine
 * reliability run (docs/reliability.md, "Wine, real driver").
 *
 *   1. Load/unload cycles: installs wdkm_rel_driver.sys as a kernel service
 *      and starts, uses and stops it --cycles times. Each cycle checks that
 *      a fresh image was loaded, runs one operation per worker, checks the
 *      counts, and after the stop that the device name is gone.
 *   2. Hammer: starts it once more, and --threads client threads send
 *      IOCTL_WDKM_REL_HAMMER for --seconds. Then every lock's counter, read
 *      under that lock, must equal the operations the clients saw succeed.
 *   3. Stops and deletes the service. Each load is tagged (1, 2, ...) so
 *      that scripts/run-wine-reliability.sh can match the driver's unload
 *      reports (pool outstanding) in Wine's debug log; the last line before
 *      the totals says how many it must find.
 *
 * Output: figures, then one "PASS name: ..." or "FAIL name: ..." line per
 * check, then "<n> passed, <n> failed". Exit status 0 if all passed, 1 if a
 * check failed, 2 if the run could not be made (driver not loading, ...).
 */
#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <shellapi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "wdkm_device.h"
#include "wdkm_path.h"
#include "wdkm_rel_ioctl.h"
#include "wdkm_service.h"

#define WDKM_REL_DEFAULT_DRIVER   L"wdkm_rel_driver.sys"
#define WDKM_REL_DEFAULT_CYCLES   100
#define WDKM_REL_DEFAULT_SECONDS  4
#define WDKM_REL_DEFAULT_THREADS  4

#define WDKM_REL_INSTALL_TIMEOUT_MS 30000
#define WDKM_REL_START_TIMEOUT_MS   60000
#define WDKM_REL_STOP_TIMEOUT_MS    60000
#define WDKM_REL_OPEN_TIMEOUT_MS    10000
#define WDKM_REL_IOCTL_TIMEOUT_MS   10000
/* Beyond the hammer's own duration: time for the last requests to return. */
#define WDKM_REL_JOIN_GRACE_MS      30000

typedef struct _WDKM_REL_OPTIONS {
    WCHAR DriverPath[MAX_PATH * 2];
    unsigned Cycles;
    unsigned Seconds;
    unsigned Threads;
} WDKM_REL_OPTIONS;

typedef struct _WDKM_REL_RESULTS {
    unsigned Passed;
    unsigned Failed;
    unsigned Loads;                    /* tags handed out: unload reports expected */
} WDKM_REL_RESULTS;

/* One hammering client thread. */
typedef struct _WDKM_REL_CLIENT {
    unsigned Index;
    HANDLE Device;                     /* its own, synchronous handle */
    HANDLE Go;                         /* manual-reset: all start together */
    ULONGLONG DurationMs;
    ULONGLONG ElapsedMs;
    unsigned long long Succeeded;      /* replies with STATUS_SUCCESS */
    unsigned long long OperationFailures; /* replies with another status */
    unsigned long long BadReplies;     /* wrong size or sequence */
    unsigned long long IoctlErrors;    /* DeviceIoControl itself failed */
    DWORD FirstError;
    NTSTATUS FirstStatus;
} WDKM_REL_CLIENT;

static const char *const WdkmpRelLockNames[WDKM_REL_LOCKS] = WDKM_REL_LOCK_NAMES;

static const char *const WdkmpRelAllocatorNames[] = {
    "not resolved", "ExAllocatePool2", "ExAllocatePoolWithTag + zeroing",
};

static void
WdkmpRelPrint(const char *Format, ...) WDKM_SUPPORT_PRINTF(1, 2);

static void
WdkmpRelPrint(const char *Format, ...)
{
    va_list Arguments;

    va_start(Arguments, Format);
    vprintf(Format, Arguments);
    va_end(Arguments);
    putchar('\n');
    fflush(stdout);
}

static void
WdkmpRelCheck(WDKM_REL_RESULTS *Results, int Passed, const char *Name, const char *Format, ...)
    WDKM_SUPPORT_PRINTF(4, 5);

/* One PASS/FAIL line and its count. */
static void
WdkmpRelCheck(WDKM_REL_RESULTS *Results, int Passed, const char *Name, const char *Format, ...)
{
    va_list Arguments;

    printf("%s %s: ", Passed ? "PASS" : "FAIL", Name);
    va_start(Arguments, Format);
    vprintf(Format, Arguments);
    va_end(Arguments);
    putchar('\n');
    fflush(stdout);
    if (Passed) {
        Results->Passed += 1;
    } else {
        Results->Failed += 1;
    }
}

static DWORD
WdkmpRelIoctl(HANDLE Device, DWORD Code, const void *Input, DWORD InputSize, void *Output,
              DWORD OutputSize, WDKM_ERROR *Error)
{
    DWORD Returned = 0;
    DWORD Result;

    Result = WdkmDeviceIoControl(Device, Code, Input, InputSize, Output, OutputSize, &Returned,
                                 WDKM_REL_IOCTL_TIMEOUT_MS, Error);
    if (Result == ERROR_SUCCESS && Returned != OutputSize) {
        Result = WdkmErrorSetText(Error, ERROR_INVALID_DATA, "IOCTL 0x%08lX returned %lu bytes, "
                                  "expected %lu", (unsigned long)Code, (unsigned long)Returned,
                                  (unsigned long)OutputSize);
    }
    return Result;
}

/*
 * Starts the service, opens the device, checks that a fresh image answers
 * and tags this load. The caller closes *Device and stops the service.
 */
static DWORD
WdkmpRelLoad(WDKM_SERVICE *Service, WDKM_REL_RESULTS *Results, HANDLE *Device,
             WDKM_REL_INFO *Info, WDKM_ERROR *Error)
{
    WDKM_REL_TAG Tag;
    DWORD Result;

    *Device = INVALID_HANDLE_VALUE;
    Result = WdkmServiceStart(Service, WDKM_REL_START_TIMEOUT_MS, Error);
    if (Result != ERROR_SUCCESS) {
        return Result;
    }
    Results->Loads += 1;
    Result = WdkmDeviceOpen(WDKM_REL_USER_NAME, WDKM_REL_OPEN_TIMEOUT_MS, Device, Error);
    if (Result == ERROR_SUCCESS) {
        Result = WdkmpRelIoctl(*Device, IOCTL_WDKM_REL_GET_INFO, NULL, 0, Info, sizeof(*Info),
                               Error);
    }
    if (Result == ERROR_SUCCESS && Info->InterfaceVersion != WDKM_REL_INTERFACE_VERSION) {
        Result = WdkmErrorSetText(Error, ERROR_REVISION_MISMATCH, "driver interface %lu, "
                                  "runner %d", (unsigned long)Info->InterfaceVersion,
                                  WDKM_REL_INTERFACE_VERSION);
    }
    if (Result == ERROR_SUCCESS) {
        Tag.Tag = Results->Loads;
        Result = WdkmDeviceIoControl(*Device, IOCTL_WDKM_REL_SET_TAG, &Tag, sizeof(Tag), NULL, 0,
                                     NULL, WDKM_REL_IOCTL_TIMEOUT_MS, Error);
    }
    return Result;
}

/* Stops the driver; its device name must be gone afterwards. */
static DWORD
WdkmpRelUnload(WDKM_SERVICE *Service, HANDLE *Device, WDKM_ERROR *Error)
{
    DWORD Probe;
    DWORD Result;

    WdkmDeviceClose(Device);
    Result = WdkmServiceStop(Service, WDKM_REL_STOP_TIMEOUT_MS, Error);
    if (Result != ERROR_SUCCESS) {
        return Result;
    }
    Probe = WdkmDeviceProbe(WDKM_REL_USER_NAME);
    if (Probe != ERROR_FILE_NOT_FOUND && Probe != ERROR_PATH_NOT_FOUND) {
        return WdkmErrorSetText(Error, ERROR_INVALID_STATE, "\\\\.\\%ls still answers after the "
                                "stop (CreateFileW: %lu)", WDKM_REL_USER_NAME,
                                (unsigned long)Probe);
    }
    return ERROR_SUCCESS;
}

/* ------------------------------------------------------------------------
 * 1. Load/unload cycles.
 */

/* One cycle: load, one operation per worker, exact counts, unload. */
static BOOL
WdkmpRelCycle(WDKM_SERVICE *Service, WDKM_REL_RESULTS *Results, unsigned Cycle, char *Why,
              size_t WhySize)
{
    WDKM_REL_INFO Info;
    WDKM_REL_REQUEST Request;
    WDKM_REL_REPLY Reply;
    WDKM_REL_TOTALS Totals;
    WDKM_ERROR Error;
    HANDLE Device;
    unsigned Worker;
    unsigned Lock;

    if (WdkmpRelLoad(Service, Results, &Device, &Info, &Error) != ERROR_SUCCESS) {
        snprintf(Why, WhySize, "cycle %u: %s", Cycle, Error.Text);
        WdkmDeviceClose(&Device);
        return FALSE;
    }
    if (Info.PoolAllocationsAtEntry != 0) {
        snprintf(Why, WhySize, "cycle %u: not a fresh image (%lld library allocations before "
                 "DriverEntry)", Cycle, (long long)Info.PoolAllocationsAtEntry);
        WdkmDeviceClose(&Device);
        return FALSE;
    }
    for (Worker = 0; Worker < Info.Workers; Worker += 1) {
        memset(&Request, 0, sizeof(Request));
        Request.Thread = Worker;
        Request.Sequence = Worker + 1;
        if (WdkmpRelIoctl(Device, IOCTL_WDKM_REL_HAMMER, &Request, sizeof(Request), &Reply,
                          sizeof(Reply), &Error) != ERROR_SUCCESS) {
            snprintf(Why, WhySize, "cycle %u: HAMMER on worker %u: %s", Cycle, Worker, Error.Text);
            WdkmDeviceClose(&Device);
            return FALSE;
        }
        if (Reply.Sequence != Request.Sequence || Reply.Status != 0) {
            snprintf(Why, WhySize, "cycle %u: HAMMER on worker %u: sequence %llu, status 0x%08lX",
                     Cycle, Worker, (unsigned long long)Reply.Sequence,
                     (unsigned long)Reply.Status);
            WdkmDeviceClose(&Device);
            return FALSE;
        }
    }
    if (WdkmpRelIoctl(Device, IOCTL_WDKM_REL_QUERY, NULL, 0, &Totals, sizeof(Totals), &Error) !=
        ERROR_SUCCESS) {
        snprintf(Why, WhySize, "cycle %u: QUERY: %s", Cycle, Error.Text);
        WdkmDeviceClose(&Device);
        return FALSE;
    }
    for (Lock = 0; Lock < WDKM_REL_LOCKS; Lock += 1) {
        if (Totals.Counts[Lock] != Info.Workers) {
            snprintf(Why, WhySize, "cycle %u: %s counted %llu, expected %lu", Cycle,
                     WdkmpRelLockNames[Lock], (unsigned long long)Totals.Counts[Lock],
                     (unsigned long)Info.Workers);
            WdkmDeviceClose(&Device);
            return FALSE;
        }
    }
    if (WdkmpRelUnload(Service, &Device, &Error) != ERROR_SUCCESS) {
        snprintf(Why, WhySize, "cycle %u: %s", Cycle, Error.Text);
        return FALSE;
    }
    return TRUE;
}

static BOOL
WdkmpRelCycles(const WDKM_REL_OPTIONS *Options, WDKM_SERVICE *Service,
               WDKM_REL_RESULTS *Results)
{
    char Why[WDKM_ERROR_TEXT_CHARS + 128];
    ULONGLONG Start = GetTickCount64();
    ULONGLONG Elapsed;
    unsigned Cycle;

    if (Options->Cycles == 0) {
        WdkmpRelPrint("load/unload: skipped (--cycles 0)");
        return TRUE;
    }
    for (Cycle = 1; Cycle <= Options->Cycles; Cycle += 1) {
        if (!WdkmpRelCycle(Service, Results, Cycle, Why, sizeof(Why))) {
            WdkmpRelPrint("load/unload: %u of %u cycles done", Cycle - 1, Options->Cycles);
            WdkmpRelCheck(Results, FALSE, "load_unload_cycles", "%s", Why);
            return FALSE;
        }
    }
    Elapsed = GetTickCount64() - Start;
    WdkmpRelPrint("load/unload: %u of %u cycles done in %.1f s (%.1f ms per cycle: start, "
                  "open, %d operations, query, stop)", Options->Cycles, Options->Cycles,
                  (double)Elapsed / 1000.0,
                  Options->Cycles != 0 ? (double)Elapsed / Options->Cycles : 0.0,
                  WDKM_REL_MAX_THREADS);
    WdkmpRelCheck(Results, TRUE, "load_unload_cycles",
                  "%u cycles, each a fresh image with exact counts and its device gone after "
                  "the stop", Options->Cycles);
    return TRUE;
}

/* ------------------------------------------------------------------------
 * 2. Hammer.
 */

static DWORD WINAPI
WdkmpRelClientMain(LPVOID Context)
{
    WDKM_REL_CLIENT *Client = (WDKM_REL_CLIENT *)Context;
    WDKM_REL_REQUEST Request;
    WDKM_REL_REPLY Reply;
    ULONGLONG Start;
    ULONGLONG Deadline;
    DWORD Returned;

    (VOID)WaitForSingleObject(Client->Go, INFINITE);
    Start = GetTickCount64();
    Deadline = Start + Client->DurationMs;
    memset(&Request, 0, sizeof(Request));
    Request.Thread = Client->Index;
    while (GetTickCount64() < Deadline) {
        Request.Sequence += 1;
        memset(&Reply, 0, sizeof(Reply));
        Returned = 0;
        if (!DeviceIoControl(Client->Device, IOCTL_WDKM_REL_HAMMER, &Request, sizeof(Request),
                             &Reply, sizeof(Reply), &Returned, NULL)) {
            Client->IoctlErrors += 1;
            Client->FirstError = GetLastError();
            break;                     /* the device is unusable: stop here */
        }
        if (Returned != sizeof(Reply) || Reply.Sequence != Request.Sequence) {
            Client->BadReplies += 1;
        } else if (Reply.Status != 0) {
            if (Client->OperationFailures == 0) {
                Client->FirstStatus = Reply.Status;
            }
            Client->OperationFailures += 1;
        } else {
            Client->Succeeded += 1;
        }
    }
    Client->ElapsedMs = GetTickCount64() - Start;
    return 0;
}

/* Runs the clients; FALSE if they could not be started or never came back. */
static BOOL
WdkmpRelRunClients(const WDKM_REL_OPTIONS *Options, WDKM_REL_CLIENT *Clients,
                   WDKM_REL_RESULTS *Results)
{
    HANDLE Threads[WDKM_REL_MAX_THREADS];
    HANDLE Go;
    unsigned Started = 0;
    unsigned Index;
    DWORD Wait;
    BOOL Ok = TRUE;

    Go = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (Go == NULL) {
        WdkmpRelCheck(Results, FALSE, "hammer", "CreateEventW failed: %lu",
                      (unsigned long)GetLastError());
        return FALSE;
    }
    for (Index = 0; Index < Options->Threads && Ok; Index += 1) {
        WDKM_REL_CLIENT *Client = &Clients[Index];

        memset(Client, 0, sizeof(*Client));
        Client->Index = Index;
        Client->Go = Go;
        Client->DurationMs = (ULONGLONG)Options->Seconds * 1000u;
        Client->Device = CreateFileW(L"\\\\.\\" WDKM_REL_USER_NAME, GENERIC_READ | GENERIC_WRITE,
                                     FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                                     FILE_ATTRIBUTE_NORMAL, NULL);
        if (Client->Device == INVALID_HANDLE_VALUE) {
            WdkmpRelCheck(Results, FALSE, "hammer", "client %u: CreateFileW failed: %lu", Index,
                          (unsigned long)GetLastError());
            Ok = FALSE;
            break;
        }
        Threads[Index] = CreateThread(NULL, 0, WdkmpRelClientMain, Client, 0, NULL);
        if (Threads[Index] == NULL) {
            WdkmpRelCheck(Results, FALSE, "hammer", "client %u: CreateThread failed: %lu", Index,
                          (unsigned long)GetLastError());
            CloseHandle(Client->Device);
            Client->Device = INVALID_HANDLE_VALUE;
            Ok = FALSE;
            break;
        }
        Started += 1;
    }
    if (!Ok) {
        /* Release the ones started; with a zero duration they stop at once. */
        for (Index = 0; Index < Started; Index += 1) {
            Clients[Index].DurationMs = 0;
        }
    }
    SetEvent(Go);
    Wait = WAIT_OBJECT_0;
    if (Started != 0) {
        Wait = WaitForMultipleObjects(Started, Threads, TRUE,
                                      (DWORD)(Options->Seconds * 1000u + WDKM_REL_JOIN_GRACE_MS));
    }
    if (Wait == WAIT_TIMEOUT) {
        WdkmpRelCheck(Results, FALSE, "hammer", "a client's IOCTL did not return within %u s "
                      "after the end (a deadlock in the driver?)",
                      WDKM_REL_JOIN_GRACE_MS / 1000);
        return FALSE;                  /* threads and handles are abandoned with the process */
    }
    for (Index = 0; Index < Started; Index += 1) {
        CloseHandle(Threads[Index]);
        CloseHandle(Clients[Index].Device);
        Clients[Index].Device = INVALID_HANDLE_VALUE;
    }
    CloseHandle(Go);
    return Ok;
}

static void
WdkmpRelHammerChecks(const WDKM_REL_OPTIONS *Options, const WDKM_REL_CLIENT *Clients,
                     const WDKM_REL_TOTALS *Totals, WDKM_REL_RESULTS *Results)
{
    unsigned long long Succeeded = 0;
    unsigned long long Failures = 0;
    unsigned long long BadReplies = 0;
    unsigned long long IoctlErrors = 0;
    unsigned long long ByThreadSum = 0;
    unsigned long long Acquisitions;
    ULONGLONG LongestMs = 1;
    DWORD FirstError = 0;
    char Name[64];
    unsigned Index;
    int ThreadsExact = 1;

    WdkmpRelPrint("hammer: %u client threads x %u s, each IOCTL pended to its own worker "
                  "system thread (%lu in the driver)", Options->Threads, Options->Seconds,
                  (unsigned long)Totals->Workers);
    for (Index = 0; Index < Options->Threads; Index += 1) {
        const WDKM_REL_CLIENT *Client = &Clients[Index];
        ULONGLONG Ms = Client->ElapsedMs != 0 ? Client->ElapsedMs : 1;

        WdkmpRelPrint("  thread %u: %llu IOCTLs in %.2f s (%.0f/s), %llu failed operations, "
                      "%llu bad replies, %llu IOCTL errors", Index, Client->Succeeded,
                      (double)Ms / 1000.0, (double)Client->Succeeded * 1000.0 / (double)Ms,
                      Client->OperationFailures, Client->BadReplies, Client->IoctlErrors);
        Succeeded += Client->Succeeded;
        Failures += Client->OperationFailures;
        BadReplies += Client->BadReplies;
        IoctlErrors += Client->IoctlErrors;
        if (FirstError == 0) {
            FirstError = Client->FirstError;
        }
        ByThreadSum += Totals->ByThread[Index];
        if (Totals->ByThread[Index] != Client->Succeeded) {
            ThreadsExact = 0;
        }
        if (Ms > LongestMs) {
            LongestMs = Ms;
        }
    }
    Acquisitions = Succeeded * (WDKM_REL_LOCKS + 1);   /* + the shared ERESOURCE read */
    WdkmpRelPrint("  total: %llu IOCTLs (%.0f/s), %llu lock acquisitions (%d per IOCTL, 5 of "
                  "them after a registry lookup by name)", Succeeded,
                  (double)Succeeded * 1000.0 / (double)LongestMs, Acquisitions,
                  WDKM_REL_LOCKS + 1);
    WdkmpRelPrint("  contention: up to %lu operations at once in the driver; tries that found "
                  "the lock held: KMUTEX %llu, ERESOURCE %llu", (unsigned long)Totals->PeakConcurrent,
                  (unsigned long long)Totals->KMutexTryBusy,
                  (unsigned long long)Totals->ResourceTryBusy);
    WdkmpRelPrint("  library pool while loaded: %ld blocks, %lld bytes (%lld allocations; "
                  "allocator: %s)", (long)Totals->PoolBlocks, (long long)Totals->PoolBytes,
                  (long long)Totals->PoolAllocations,
                  Totals->PoolAllocator < 3 ? WdkmpRelAllocatorNames[Totals->PoolAllocator] : "?");

    WdkmpRelCheck(Results, Succeeded > 0 && IoctlErrors == 0 && BadReplies == 0,
                  "hammer_ioctls", "%llu IOCTLs answered, %llu IOCTL errors (first: %lu), "
                  "%llu replies of the wrong size or sequence", Succeeded, IoctlErrors,
                  (unsigned long)FirstError, BadReplies);
    WdkmpRelCheck(Results, Failures == 0 && Totals->FailedOperations == 0,
                  "hammer_no_failed_operation", "clients saw %llu, the driver counted %llu "
                  "(first: 0x%08lX on %s)", Failures,
                  (unsigned long long)Totals->FailedOperations,
                  (unsigned long)Totals->FirstFailure,
                  Totals->FirstFailureLock < WDKM_REL_LOCKS
                      ? WdkmpRelLockNames[Totals->FirstFailureLock] : "?");
    WdkmpRelCheck(Results, Totals->Operations == Succeeded, "hammer_driver_operations",
                  "the driver completed %llu operations, the clients counted %llu",
                  (unsigned long long)Totals->Operations, Succeeded);
    for (Index = 0; Index < WDKM_REL_LOCKS; Index += 1) {
        snprintf(Name, sizeof(Name), "hammer_count %s", WdkmpRelLockNames[Index]);
        WdkmpRelCheck(Results, Totals->Counts[Index] == Succeeded, Name,
                      "%llu counted under the lock, %llu IOCTLs",
                      (unsigned long long)Totals->Counts[Index], Succeeded);
    }
    WdkmpRelCheck(Results, ThreadsExact && ByThreadSum == Succeeded, "hammer_per_thread",
                  "each thread's count under the KMUTEX equals its own IOCTLs (sum %llu)",
                  ByThreadSum);
    WdkmpRelCheck(Results, Totals->TornUpdates == 0, "hammer_no_torn_update",
                  "%llu counters seen with a broken check word",
                  (unsigned long long)Totals->TornUpdates);
    /* Without overlap the run would prove nothing about the locks. */
    WdkmpRelCheck(Results, Options->Threads < 2 || Totals->PeakConcurrent >= 2,
                  "hammer_concurrency", "up to %lu operations inside the driver at once "
                  "(at least 2 required)", (unsigned long)Totals->PeakConcurrent);
}

static void
WdkmpRelHammer(const WDKM_REL_OPTIONS *Options, WDKM_SERVICE *Service,
               WDKM_REL_RESULTS *Results)
{
    WDKM_REL_CLIENT Clients[WDKM_REL_MAX_THREADS];
    WDKM_REL_TOTALS Totals;
    WDKM_REL_INFO Info;
    WDKM_ERROR Error;
    HANDLE Device;
    DWORD Result;

    if (WdkmpRelLoad(Service, Results, &Device, &Info, &Error) != ERROR_SUCCESS) {
        WdkmpRelCheck(Results, FALSE, "hammer", "loading the driver: %s", Error.Text);
        WdkmDeviceClose(&Device);
        return;
    }
    if (Info.Workers < Options->Threads) {
        WdkmpRelCheck(Results, FALSE, "hammer", "the driver runs %lu workers, %u needed",
                      (unsigned long)Info.Workers, Options->Threads);
        (VOID)WdkmpRelUnload(Service, &Device, &Error);
        return;
    }
    if (!WdkmpRelRunClients(Options, Clients, Results)) {
        WdkmDeviceClose(&Device);
        return;
    }
    if (WdkmpRelIoctl(Device, IOCTL_WDKM_REL_QUERY, NULL, 0, &Totals, sizeof(Totals), &Error) !=
        ERROR_SUCCESS) {
        WdkmpRelCheck(Results, FALSE, "hammer", "QUERY: %s", Error.Text);
    } else {
        WdkmpRelHammerChecks(Options, Clients, &Totals, Results);
    }
    Result = WdkmpRelUnload(Service, &Device, &Error);
    WdkmpRelCheck(Results, Result == ERROR_SUCCESS, "unload_after_hammer", "%s",
                  Result == ERROR_SUCCESS ? "stopped, device gone" : Error.Text);
}

/* ------------------------------------------------------------------------
 * Main.
 */

static const char WdkmpRelUsage[] =
    "usage: wdkm_rel_runner.exe [--cycles N] [--seconds S] [--threads T] [--driver PATH]\n"
    "\n"
    "Loads and unloads wdkm_rel_driver.sys N times (default 100), then hammers\n"
    "it from T threads (default 4, at most 8) for S seconds (default 4).\n";

static BOOL
WdkmpRelNumber(const WCHAR *Text, unsigned Minimum, unsigned Maximum, unsigned *Value)
{
    WCHAR *End;
    unsigned long Number = wcstoul(Text, &End, 10);

    if (End == Text || *End != L'\0' || Number < Minimum || Number > Maximum) {
        return FALSE;
    }
    *Value = (unsigned)Number;
    return TRUE;
}

/* Returns -1 to go on, else an exit status. */
static int
WdkmpRelParse(int Count, WCHAR **Arguments, WDKM_REL_OPTIONS *Options)
{
    WCHAR DefaultDriver[MAX_PATH * 2];
    const WCHAR *Driver = NULL;
    WDKM_ERROR Error;
    int Index;

    memset(Options, 0, sizeof(*Options));
    Options->Cycles = WDKM_REL_DEFAULT_CYCLES;
    Options->Seconds = WDKM_REL_DEFAULT_SECONDS;
    Options->Threads = WDKM_REL_DEFAULT_THREADS;
    for (Index = 1; Index < Count; Index += 1) {
        const WCHAR *Argument = Arguments[Index];
        const WCHAR *Value = Index + 1 < Count ? Arguments[Index + 1] : NULL;
        BOOL Ok = Value != NULL;

        if (wcscmp(Argument, L"-h") == 0 || wcscmp(Argument, L"--help") == 0) {
            fputs(WdkmpRelUsage, stdout);
            return 0;
        } else if (wcscmp(Argument, L"--cycles") == 0 && Ok) {
            Ok = WdkmpRelNumber(Value, 0, 100000, &Options->Cycles);
        } else if (wcscmp(Argument, L"--seconds") == 0 && Ok) {
            Ok = WdkmpRelNumber(Value, 1, 86400, &Options->Seconds);
        } else if (wcscmp(Argument, L"--threads") == 0 && Ok) {
            Ok = WdkmpRelNumber(Value, 1, WDKM_REL_MAX_THREADS, &Options->Threads);
        } else if (wcscmp(Argument, L"--driver") == 0 && Ok) {
            Driver = Value;
        } else {
            Ok = FALSE;
        }
        if (!Ok) {
            WdkmpRelPrint("ERROR: bad argument %ls\n%s", Argument, WdkmpRelUsage);
            return 2;
        }
        Index += 1;
    }
    if (Driver == NULL) {
        if (WdkmPathBesideProgram(WDKM_REL_DEFAULT_DRIVER, DefaultDriver,
                                  sizeof(DefaultDriver) / sizeof(DefaultDriver[0]),
                                  &Error) != ERROR_SUCCESS) {
            WdkmpRelPrint("ERROR: %s", Error.Text);
            return 2;
        }
        Driver = DefaultDriver;
    }
    if (WdkmPathToWindows(Driver, Options->DriverPath,
                          sizeof(Options->DriverPath) / sizeof(Options->DriverPath[0]),
                          &Error) != ERROR_SUCCESS ||
        WdkmPathCheckFile(Options->DriverPath, &Error) != ERROR_SUCCESS) {
        WdkmpRelPrint("ERROR: driver: %s", Error.Text);
        return 2;
    }
    return -1;
}

int
main(void)
{
    WDKM_REL_OPTIONS Options;
    WDKM_REL_RESULTS Results = { 0, 0, 0 };
    WDKM_SERVICE Service = WDKM_SERVICE_INIT;
    WDKM_ERROR Error;
    WCHAR **Arguments;
    int Count = 0;
    int Status;
    BOOL Harness = TRUE;

    /* Lines end in \n, not \r\n: the output is read on Linux. */
    _setmode(_fileno(stdout), _O_BINARY);
    Arguments = CommandLineToArgvW(GetCommandLineW(), &Count);
    if (Arguments == NULL) {
        WdkmpRelPrint("ERROR: cannot read the command line");
        return 2;
    }
    Status = WdkmpRelParse(Count, Arguments, &Options);
    LocalFree(Arguments);
    if (Status >= 0) {
        return Status;
    }

    WdkmpRelPrint("driver: %ls", Options.DriverPath);
    if (WdkmServiceInstallDriver(&Service, WDKM_REL_SERVICE_NAME, Options.DriverPath,
                                 WDKM_REL_INSTALL_TIMEOUT_MS, &Error) != ERROR_SUCCESS) {
        WdkmpRelPrint("ERROR: cannot install the driver service: %s", Error.Text);
        return 2;
    }
    if (WdkmpRelCycles(&Options, &Service, &Results)) {
        WdkmpRelHammer(&Options, &Service, &Results);
    }
    if (WdkmServiceStop(&Service, WDKM_REL_STOP_TIMEOUT_MS, &Error) != ERROR_SUCCESS ||
        WdkmServiceDelete(&Service, &Error) != ERROR_SUCCESS) {
        WdkmpRelPrint("ERROR: cleaning up the service: %s", Error.Text);
        Harness = FALSE;
    }
    WdkmServiceClose(&Service);

    /* What the script must find in the debug log: one report per load. */
    WdkmpRelPrint("unload reports expected: %u (tags 1..%u)", Results.Loads, Results.Loads);
    WdkmpRelPrint("%u passed, %u failed", Results.Passed, Results.Failed);
    if (!Harness) {
        return 2;
    }
    return Results.Failed != 0 ? 1 : 0;
}
