/*
 * runner_load_unload.c - driver_load_unload_20, the runner's own test.
 *
 * Each cycle stops the service and starts it again, then opens the device
 * and makes one IOCTL. A cycle passes only if
 *   - the stop completes and afterwards \\.\WdkmTest no longer exists
 *     (DriverUnload deleted the symbolic link),
 *   - the unload count in the service key went up by one (DriverUnload ran
 *     to its end: it counts last),
 *   - the start completes, the device opens and GET_INFO reports the next
 *     load number (a fresh DriverEntry ran, not a cached instance).
 */
#include "wdkm_runner.h"
#include "wdkm_service_key.h"

#include <stdio.h>

/* The unload count so far; a missing value (never unloaded) is 0. */
static DWORD WdkmpRunnerUnloadCount(const WDKM_RUNNER_OPTIONS *Options, DWORD *Count,
                                    WDKM_ERROR *Error)
{
    DWORD result = WdkmServiceKeyReadDword(Options->ServiceName, WDKM_TEST_VALUE_UNLOAD_COUNT,
                                           Count, Error);
    if (result == ERROR_FILE_NOT_FOUND) {
        *Count = 0;
        WdkmErrorClear(Error);
        return ERROR_SUCCESS;
    }
    return result;
}

/* One stop + start cycle; on failure writes why into Why. */
static BOOL WdkmpRunnerCycle(const WDKM_RUNNER_OPTIONS *Options, WDKM_SERVICE *Service,
                             const WDKM_TEST_DRIVER_INFO *FirstInfo, unsigned Cycle,
                             DWORD ExpectedUnloads, char *Why, size_t WhySize)
{
    WDKM_TEST_DRIVER_INFO info;
    WDKM_ERROR error;
    HANDLE device = INVALID_HANDLE_VALUE;
    DWORD unloads = 0;
    DWORD probe;
    DWORD expectedLoad = FirstInfo->LoadCount + Cycle;

    if (WdkmServiceStop(Service, WDKM_RUNNER_STOP_TIMEOUT_MS, &error) != ERROR_SUCCESS) {
        snprintf(Why, WhySize, "cycle %u: stop: %s", Cycle, error.Text);
        return FALSE;
    }
    probe = WdkmDeviceProbe(WDKM_TEST_USER_NAME);
    if (probe == ERROR_SUCCESS) {
        snprintf(Why, WhySize, "cycle %u: \\\\.\\%ls still opens after the driver stopped",
                 Cycle, WDKM_TEST_USER_NAME);
        return FALSE;
    }
    if (probe != ERROR_FILE_NOT_FOUND && probe != ERROR_PATH_NOT_FOUND) {
        WdkmErrorSet(&error, probe, "opening \\\\.\\%ls", WDKM_TEST_USER_NAME);
        snprintf(Why, WhySize, "cycle %u: after the stop, %s (expected: not found)", Cycle,
                 error.Text);
        return FALSE;
    }
    if (WdkmpRunnerUnloadCount(Options, &unloads, &error) != ERROR_SUCCESS) {
        snprintf(Why, WhySize, "cycle %u: %s", Cycle, error.Text);
        return FALSE;
    }
    if (unloads != ExpectedUnloads) {
        snprintf(Why, WhySize,
                 "cycle %u: DriverUnload did not run to its end (unload count %lu, expected %lu)",
                 Cycle, (unsigned long)unloads, (unsigned long)ExpectedUnloads);
        return FALSE;
    }

    if (WdkmServiceStart(Service, WDKM_RUNNER_START_TIMEOUT_MS, &error) != ERROR_SUCCESS) {
        snprintf(Why, WhySize, "cycle %u: start: %s", Cycle, error.Text);
        return FALSE;
    }
    if (WdkmDeviceOpen(WDKM_TEST_USER_NAME, WDKM_RUNNER_OPEN_TIMEOUT_MS, &device, &error) !=
        ERROR_SUCCESS) {
        snprintf(Why, WhySize, "cycle %u: %s", Cycle, error.Text);
        return FALSE;
    }
    if (WdkmRunnerGetInfo(device, &info, &error) != ERROR_SUCCESS) {
        WdkmDeviceClose(&device);
        snprintf(Why, WhySize, "cycle %u: %s", Cycle, error.Text);
        return FALSE;
    }
    WdkmDeviceClose(&device);
    if (info.LoadCount != expectedLoad) {
        snprintf(Why, WhySize, "cycle %u: the driver reports load %lu, expected %lu", Cycle,
                 (unsigned long)info.LoadCount, (unsigned long)expectedLoad);
        return FALSE;
    }
    if (info.TestCount != FirstInfo->TestCount) {
        snprintf(Why, WhySize, "cycle %u: the driver reports %lu tests, expected %lu", Cycle,
                 (unsigned long)info.TestCount, (unsigned long)FirstInfo->TestCount);
        return FALSE;
    }
    return TRUE;
}

void WdkmRunnerLoadUnloadTest(const WDKM_RUNNER_OPTIONS *Options, WDKM_SERVICE *Service,
                              const WDKM_TEST_DRIVER_INFO *FirstInfo, WDKM_RUNNER_TOTALS *Totals)
{
    WDKM_ERROR error;
    char why[WDKM_ERROR_TEXT_CHARS + 64];
    DWORD unloadsBefore = 0;
    ULONGLONG start = GetTickCount64();
    unsigned cycle;

    if (FirstInfo->LoadCount == 0) {
        WdkmRunnerPrint("FAIL %s: the driver could not count its load in the service key",
                        WDKM_RUNNER_LOAD_UNLOAD_TEST);
        Totals->Failed++;
        return;
    }
    if (WdkmpRunnerUnloadCount(Options, &unloadsBefore, &error) != ERROR_SUCCESS) {
        WdkmRunnerPrint("FAIL %s: %s", WDKM_RUNNER_LOAD_UNLOAD_TEST, error.Text);
        Totals->Failed++;
        return;
    }
    for (cycle = 1; cycle <= WDKM_RUNNER_LOAD_UNLOAD_CYCLES; cycle++) {
        if (!WdkmpRunnerCycle(Options, Service, FirstInfo, cycle, unloadsBefore + cycle, why,
                              sizeof(why))) {
            WdkmRunnerPrint("FAIL %s: %s", WDKM_RUNNER_LOAD_UNLOAD_TEST, why);
            Totals->Failed++;
            return;
        }
    }
    WdkmRunnerPrint("PASS %s", WDKM_RUNNER_LOAD_UNLOAD_TEST);
    Totals->Passed++;
    if (Options->Verbose) {
        WdkmRunnerPrint("  %s: %llu ms for %d cycles", WDKM_RUNNER_LOAD_UNLOAD_TEST,
                        (unsigned long long)(GetTickCount64() - start),
                        WDKM_RUNNER_LOAD_UNLOAD_CYCLES);
    }
}
