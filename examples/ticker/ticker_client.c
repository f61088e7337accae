/*
 * ticker_client.c - loads the ticker driver and checks, exactly, that
 * its timer DPC obeys the step an IOCTL sets, that its work item hands
 * every generated unit to every listening handle, and that every handle's
 * context is torn down and every count adds up at unload.
 *
 *   Phase 1: the step set to 0 and everything drained; four handles
 *            listen; the step set to 5: between two queries the DPC
 *            generated exactly 5 units per tick.
 *   Phase 2: four threads, one handle each, 150 IOCTLs each (set the
 *            step, query); every report keeps the driver's invariants.
 *   Phase 3: the step set to 0 and drained: each listener heard exactly
 *            what was generated since it listened, the same for all four.
 *   Unload:  every handle closed, the driver stopped; the values it left
 *            under its service key match the client's counts.
 *
 * Usage: ticker_client.exe [path\to\ticker.sys]
 *        (default: ticker.sys beside this program)
 */
#include <stdio.h>
#include <string.h>

#include <windows.h>
#include <winioctl.h>

#include "ticker_ioctl.h"
#include "wdkm_device.h"
#include "wdkm_path.h"
#include "wdkm_report.h"
#include "wdkm_service.h"
#include "wdkm_service_key.h"
#include "wdkm_threads.h"

#define THREADS    4
#define REQUESTS   150
#define TIMEOUT_MS 30000

/* IOCTLs the client sent that the driver accepted (all of them). */
static volatile LONG Sent;
static volatile LONG BrokenReports;

typedef struct _WORKER {
    HANDLE Device;
    ULONG Index;
    LONG Errors;
    char Error[160];
} WORKER;

static WORKER Workers[THREADS];

static BOOL
Control(HANDLE Device, DWORD Code, const void *In, DWORD InSize, void *Out, DWORD OutSize,
        DWORD *Returned, WDKM_ERROR *Error)
{
    DWORD Ignored = 0;
    DWORD Result = WdkmDeviceIoControl(Device, Code, In, InSize, Out, OutSize,
                                       Returned != NULL ? Returned : &Ignored, TIMEOUT_MS,
                                       Error);

    InterlockedIncrement(&Sent);        /* the driver counts failures too */
    return Result == ERROR_SUCCESS;
}

/* A query; every report keeps the invariants of ticker_ioctl.h. */
static BOOL
Query(HANDLE Device, TICKER_REPORT *Report)
{
    DWORD Returned = 0;

    if (!Control(Device, IOCTL_TICKER_QUERY, NULL, 0, Report, sizeof(*Report), &Returned, NULL) ||
        Returned != sizeof(*Report)) {
        return FALSE;
    }
    if (Report->Generated != Report->Pending + Report->Distributed ||
        Report->Delivered != Report->HeardByOpen + Report->HeardByClosed) {
        InterlockedIncrement(&BrokenReports);
    }
    return TRUE;
}

static BOOL
SetStep(HANDLE Device, ULONG Step, ULONG *Previous)
{
    DWORD Returned = 0;
    ULONG Buffer = Step;
    ULONG Out = 0;

    if (!Control(Device, IOCTL_TICKER_SET_STEP, &Buffer, sizeof(Buffer), &Out, sizeof(Out),
                 &Returned, NULL) ||
        Returned != sizeof(Out)) {
        return FALSE;
    }
    if (Previous != NULL) {
        *Previous = Out;
    }
    return TRUE;
}

static BOOL
Listen(HANDLE Device, ULONG On)
{
    return Control(Device, IOCTL_TICKER_LISTEN, &On, sizeof(On), NULL, 0, NULL, NULL);
}

/* With the step at 0: waits for the work item to have booked every unit. */
static BOOL
WaitDrained(HANDLE Device, TICKER_REPORT *Report)
{
    ULONG Tries;

    for (Tries = 0; Tries < TIMEOUT_MS / 5; Tries += 1) {
        if (!Query(Device, Report)) {
            return FALSE;
        }
        if (Report->Pending == 0 && Report->Booked == Report->Distributed) {
            return TRUE;
        }
        Sleep(5);
    }
    return FALSE;
}

/* Waits for Count more timer ticks. */
static BOOL
WaitTicks(HANDLE Device, unsigned long long Count, TICKER_REPORT *Report)
{
    unsigned long long From;
    ULONG Tries;

    if (!Query(Device, Report)) {
        return FALSE;
    }
    From = Report->Ticks;
    for (Tries = 0; Tries < TIMEOUT_MS / 5; Tries += 1) {
        Sleep(5);
        if (!Query(Device, Report)) {
            return FALSE;
        }
        if (Report->Ticks >= From + Count) {
            return TRUE;
        }
    }
    return FALSE;
}

/* Phase 2: one thread, one handle: steps and queries. */
static DWORD WINAPI
WorkerThread(LPVOID Parameter)
{
    WORKER *Worker = (WORKER *)Parameter;
    TICKER_REPORT Report;
    ULONG Index;

    ZeroMemory(&Report, sizeof(Report));
    for (Index = 0; Index < REQUESTS; Index += 1) {
        BOOL Ok = (Index % 3 == 0) ? SetStep(Worker->Device, 1 + (Index + Worker->Index) % 4, NULL)
                                   : Query(Worker->Device, &Report);

        if (!Ok) {
            Worker->Errors += 1;
            snprintf(Worker->Error, sizeof(Worker->Error), "request %lu failed (%lu)", Index,
                     GetLastError());
        } else if (Index % 3 != 0 && Report.Listening != 1) {
            Worker->Errors += 1;
            snprintf(Worker->Error, sizeof(Worker->Error), "the handle stopped listening");
        }
    }
    return 0;
}

int
wmain(int argc, wchar_t **argv)
{
    WDKM_SERVICE Service = WDKM_SERVICE_INIT;
    HANDLE Control0 = INVALID_HANDLE_VALUE;
    TICKER_REPORT Before;
    TICKER_REPORT After;
    TICKER_REPORT Report;
    TICKER_REPORT Mine[THREADS];
    WCHAR Image[MAX_PATH];
    WDKM_ERROR Error;
    unsigned long long UnheardBefore;
    unsigned long long Generated;
    DWORD Values[11];
    DWORD Result;
    ULONG Previous = 0;
    LONG Errors = 0;
    int Exact = 1;
    ULONG Index;

    setvbuf(stdout, NULL, _IONBF, 0);
    Result = WdkmPathDriverImage(argc > 1 ? argv[1] : NULL, L"ticker.sys", Image, MAX_PATH,
                                 &Error);
    if (Result == ERROR_SUCCESS) {
        printf("Loading %ls as kernel service %ls\n", Image, TICKER_SERVICE_NAME);
        Result = WdkmServiceLoadDriver(&Service, TICKER_SERVICE_NAME, Image, TIMEOUT_MS, &Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmDeviceOpen(TICKER_USER_NAME, TIMEOUT_MS, &Control0, &Error);
    }
    for (Index = 0; Result == ERROR_SUCCESS && Index < THREADS; Index += 1) {
        Workers[Index].Index = Index;
        Result = WdkmDeviceOpen(TICKER_USER_NAME, 0, &Workers[Index].Device, &Error);
    }
    if (Result != ERROR_SUCCESS) {
        fprintf(stderr, "ticker: %s\n", Error.Text);
        WdkmServiceClose(&Service);
        return 2;
    }

    /* Phase 1: paused and drained; four listeners; exactly 5 per tick. */
    printf("\nPhase 1: the step an IOCTL sets, as the timer DPC applies it\n");
    if (!SetStep(Control0, 0, &Previous) || !WaitDrained(Control0, &Report)) {
        fprintf(stderr, "ticker: phase 1: pausing the ticker failed\n");
        return 2;
    }
    Exact &= WdkmReportExact("initial step (returned by the first change)", Previous, 1);
    UnheardBefore = Report.Unheard;
    Exact &= WdkmReportExact("units delivered before anyone listened", Report.Delivered, 0);
    for (Index = 0; Index < THREADS; Index += 1) {
        if (!Listen(Workers[Index].Device, 1)) {
            fprintf(stderr, "ticker: listen failed\n");
            return 2;
        }
    }
    if (!SetStep(Control0, 5, &Previous) || !Query(Control0, &Before) ||
        !WaitTicks(Control0, 20, &After)) {
        fprintf(stderr, "ticker: phase 1: the timer does not tick\n");
        return 2;
    }
    Exact &= WdkmReportExact("step replaced by 5", Previous, 0);
    Exact &= WdkmReportExact("units generated over 20+ ticks at step 5",
                             After.Generated - Before.Generated, 5 * (After.Ticks - Before.Ticks));

    /* Phase 2: four threads, one handle each. */
    if (WdkmThreadsRun(THREADS, WorkerThread, Workers, sizeof(Workers[0]), 4 * TIMEOUT_MS,
                       &Error) != ERROR_SUCCESS) {
        fprintf(stderr, "ticker: the client threads: %s\n", Error.Text);
        return 2;
    }
    printf("\nPhase 2: %d threads (one handle each) x %d IOCTLs (set the step, query)\n",
           THREADS, REQUESTS);
    for (Index = 0; Index < THREADS; Index += 1) {
        if (Workers[Index].Error[0] != '\0') {
            fprintf(stderr, "ticker: thread %lu: %s\n", Index, Workers[Index].Error);
        }
        Errors += Workers[Index].Errors;
    }
    Exact &= WdkmReportExact("requests that failed (client)", (unsigned long long)Errors, 0);

    /* Phase 3: paused and drained: every listener heard the same. */
    printf("\nPhase 3: paused; what each listener heard\n");
    if (!SetStep(Control0, 0, NULL) || !WaitDrained(Control0, &Report)) {
        fprintf(stderr, "ticker: phase 3: draining failed\n");
        return 2;
    }
    Generated = Report.Generated;
    for (Index = 0; Index < THREADS; Index += 1) {
        char What[80];

        if (!Query(Workers[Index].Device, &Mine[Index])) {
            fprintf(stderr, "ticker: phase 3: query failed\n");
            return 2;
        }
        snprintf(What, sizeof(What), "handle %lu: units heard = generated since it listened",
                 Index);
        Exact &= WdkmReportExact(What, Mine[Index].HandleHeard, Generated - UnheardBefore);
    }
    Exact &= WdkmReportExact("units generated after the pause", Mine[THREADS - 1].Generated,
                             Generated);
    Exact &= WdkmReportExact("units delivered = 4 x heard", Report.Delivered,
                             THREADS * Mine[0].HandleHeard);
    Exact &= WdkmReportExact("reports that broke an invariant", (unsigned long long)BrokenReports,
                             0);
    Exact &= WdkmReportExact("handles open (driver)", Report.Handles, THREADS + 1);
    WdkmReportValue("timer DPC runs", Report.Ticks);
    WdkmReportValue("work item runs that found units", Report.WorkItems);
    WdkmReportValue("timer DPCs skipped (the last tick still ran)", Report.Overruns);

    /* Unload: every handle closed, then the driver stopped. */
    for (Index = 0; Index < THREADS; Index += 1) {
        WdkmDeviceClose(&Workers[Index].Device);
    }
    WdkmDeviceClose(&Control0);
    if (WdkmServiceStop(&Service, TIMEOUT_MS, &Error) != ERROR_SUCCESS) {
        fprintf(stderr, "ticker: stopping the driver: %s\n", Error.Text);
        return 2;
    }
    {
        static const WCHAR *const Names[11] = {
            TICKER_VALUE_REQUESTS, TICKER_VALUE_GENERATED, TICKER_VALUE_DISTRIBUTED,
            TICKER_VALUE_DELIVERED, TICKER_VALUE_HEARD, TICKER_VALUE_OPENED,
            TICKER_VALUE_CLEANED, TICKER_VALUE_CLOSED, TICKER_VALUE_HANDLES_LEFT,
            TICKER_VALUE_POOL_BLOCKS, TICKER_VALUE_LEAK_CHECK,
        };

        if (WdkmServiceKeyReadDwords(TICKER_SERVICE_NAME, Names, Values, 11, &Error) !=
            ERROR_SUCCESS) {
            fprintf(stderr, "ticker: %s\n", Error.Text);
            return 2;
        }
    }
    printf("\nAt unload (values the driver left under its service key)\n");
    Exact &= WdkmReportExact("IOCTLs accepted: driver = client", Values[0],
                             (unsigned long long)Sent);
    Exact &= WdkmReportExact("units generated (nothing after the pause)", Values[1],
                             Generated & 0xFFFFFFFFULL);
    Exact &= WdkmReportExact("units distributed = generated", Values[2], Values[1]);
    Exact &= WdkmReportExact("units delivered = 4 x heard", Values[3],
                             (THREADS * Mine[0].HandleHeard) & 0xFFFFFFFFULL);
    Exact &= WdkmReportExact("units heard by every handle = delivered", Values[4], Values[3]);
    Exact &= WdkmReportExact("handles opened", Values[5], THREADS + 1);
    Exact &= WdkmReportExact("... torn down by IRP_MJ_CLEANUP or IRP_MJ_CLOSE",
                             (unsigned long long)Values[6] + Values[7], THREADS + 1);
    printf("  %-52s %8lu / %lu   (Wine 8 sends no IRP_MJ_CLEANUP)\n",
           "... of which by cleanup / by close alone", Values[6], Values[7]);
    Exact &= WdkmReportExact("handle contexts left for the unload", Values[8], 0);
    Exact &= WdkmReportExact("library pool blocks outstanding", Values[9], 0);
    Exact &= WdkmReportLeakCheck(Values[10]);

    (VOID)WdkmServiceDelete(&Service, &Error);
    WdkmServiceClose(&Service);
    printf("\nRESULT: %s\n", Exact ? "every unit was counted exactly once; every count is exact"
                                   : "COUNTS ARE WRONG");
    return Exact ? 0 : 1;
}
