/*
 * demo_report.c - loads the demo driver as a kernel service, waits for its
 * workers, and prints what the driver reports. Exits 0 only if every count
 * is exact.
 *
 * Usage: wdkm_demo_report.exe [path\to\wdkm_demo.sys]
 *        (default: wdkm_demo.sys beside this program)
 */
#include <stdio.h>
#include <string.h>

#include "demo_ioctl.h"
#include "wdkm_device.h"
#include "wdkm_path.h"
#include "wdkm_report.h"
#include "wdkm_service.h"

#define TIMEOUT_MS      30000
#define WORKERS_WAIT_MS 120000

static const char *AllocatorNames[] = {
    "not resolved yet",
    "ExAllocatePool2",
    "ExAllocatePoolWithTag + zeroing (ExAllocatePool2 is not exported here)",
};

static int
PrintReport(const DEMO_REPORT *Report)
{
    unsigned long long Expected = (unsigned long long)Report->Workers * Report->PacketsPerWorker;
    unsigned long long ExpectedFlushes = Expected / Report->FlushEvery;
    unsigned long long ByWorkerSum = 0;
    int Exact = 1;
    ULONG Index;

    printf("\nwdkmutex demo: %lu system threads x %lu packets, a flush every %lu packets\n\n",
           Report->Workers, Report->PacketsPerWorker, Report->FlushEvery);

    printf("FAST_MUTEX \"traffic\" (registry; hot path, one acquisition per packet, scoped form)\n");
    Exact &= WdkmReportExact("packets counted", Report->Packets, Expected);
    for (Index = 0; Index < DEMO_WORKERS && Index < Report->Workers; Index += 1) {
        char Label[64];
        snprintf(Label, sizeof(Label), "  by worker %lu", Index);
        Exact &= WdkmReportExact(Label, Report->PacketsByWorker[Index], Report->PacketsPerWorker);
        ByWorkerSum += Report->PacketsByWorker[Index];
    }
    Exact &= WdkmReportExact("sum over workers", ByWorkerSum, Report->Packets);
    WdkmReportValue("bytes counted", Report->Bytes);

    printf("\nKMUTEX \"totals\" (registry; flushes: try first, then wait; a nested acquisition each)\n");
    Exact &= WdkmReportExact("flushes", Report->Flushes, ExpectedFlushes);
    Exact &= WdkmReportExact("packets flushed", Report->FlushedPackets, Expected);
    Exact &= WdkmReportExact("nested (recursive) acquisitions", Report->NestedAcquisitions,
                     ExpectedFlushes);
    WdkmReportValue("tries that found the lock busy", Report->TryBusySeen);

    printf("\nERESOURCE \"routes\" (registry; read shared at every flush, rewritten exclusively)\n");
    Exact &= WdkmReportExact("shared reads", Report->RouteReads, ExpectedFlushes);
    Exact &= WdkmReportExact("table version (exclusive updates)", Report->RouteVersion,
                     Report->RouteUpdates);
    Exact &= WdkmReportExact("exclusive updates", Report->RouteUpdates,
                     Report->PacketsPerWorker / Report->FlushEvery / DEMO_ROUTE_UPDATE_EVERY);

    printf("\nSpin lock \"ticks\" (registry; bumped by a periodic timer DPC)\n");
    Exact &= WdkmReportExact("ticks under the lock", Report->DpcTicks, Report->DpcTicksCountedOutside);
    Exact &= Report->DpcTicks > 0;

    printf("\nMisuse, answered with a status instead of a bugcheck or a hang\n");
    for (Index = 0; Index < DEMO_CHECKS; Index += 1) {
        printf("  %-58s -> %s (0x%08lX)\n", Report->Checks[Index].What,
               Report->Checks[Index].StatusName, (unsigned long)Report->Checks[Index].Status);
    }

    printf("\nPool\n");
    printf("  %-52s %s\n", "allocator",
           Report->PoolAllocator < sizeof(AllocatorNames) / sizeof(AllocatorNames[0])
               ? AllocatorNames[Report->PoolAllocator] : "?");
    printf("  %-52s %8ld   (registry table, 4 names, 4 locks with their values)\n",
           "library blocks outstanding", Report->PoolBlocksOutstanding);
    return Exact;
}

int
wmain(int argc, wchar_t **argv)
{
    WDKM_SERVICE Service = WDKM_SERVICE_INIT;
    HANDLE Device = INVALID_HANDLE_VALUE;
    WCHAR Image[MAX_PATH];
    DEMO_REPORT Report;
    WDKM_ERROR Error;
    DWORD Returned = 0;
    DWORD Waited = 0;
    DWORD Result;
    int Exact = 0;

    setvbuf(stdout, NULL, _IONBF, 0);
    Result = WdkmPathDriverImage(argc > 1 ? argv[1] : NULL, L"wdkm_demo.sys", Image, MAX_PATH,
                                 &Error);
    if (Result == ERROR_SUCCESS) {
        printf("Loading %ls as kernel service %ls\n", Image, DEMO_SERVICE_NAME);
        Result = WdkmServiceLoadDriver(&Service, DEMO_SERVICE_NAME, Image, TIMEOUT_MS, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmDeviceOpen(DEMO_USER_NAME, TIMEOUT_MS, &Device, &Error);
    }
    /* The workers run on their own: ask until all of them are done. */
    while (Result == ERROR_SUCCESS) {
        Result = WdkmDeviceIoControl(Device, IOCTL_DEMO_QUERY, NULL, 0, &Report, sizeof(Report),
                                     &Returned, TIMEOUT_MS, &Error);
        if (Result != ERROR_SUCCESS || Report.WorkersDone == Report.Workers) {
            break;
        }
        if (Waited >= WORKERS_WAIT_MS) {
            Result = WdkmErrorSet(&Error, ERROR_TIMEOUT, "workers not done after %lu ms",
                                  (unsigned long)Waited);
            break;
        }
        Sleep(100);
        Waited += 100;
    }
    if (Result == ERROR_SUCCESS) {
        if (Returned != sizeof(Report)) {
            Result = WdkmErrorSet(&Error, ERROR_INVALID_DATA, "report of %lu bytes, expected %lu",
                                  (unsigned long)Returned, (unsigned long)sizeof(Report));
        } else {
            Exact = PrintReport(&Report);
        }
    }

    WdkmDeviceClose(&Device);
    if (Service.Service != NULL) {
        WDKM_ERROR StopError;
        if (WdkmServiceStop(&Service, TIMEOUT_MS, &StopError) != ERROR_SUCCESS) {
            fprintf(stderr, "demo: stopping the driver: %s\n", StopError.Text);
            Exact = 0;
        } else {
            printf("\nDriver unloaded (its final values and pool figures are in the debug log).\n");
        }
        (VOID)WdkmServiceDelete(&Service, &StopError);
    }
    if (Result != ERROR_SUCCESS) {
        fprintf(stderr, "demo: %s\n", Error.Text);
        return 2;
    }
    printf("\nRESULT: %s\n", Exact ? "every count is exact" : "COUNTS ARE WRONG");
    return Exact ? 0 : 1;
}
