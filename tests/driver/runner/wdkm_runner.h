/*
 * wdkm_runner.h - the test runner's parts (user mode).
 *
 * wdkm_test_runner.exe installs the test driver as a kernel service, runs
 * the driver's tests through DeviceIoControl, then its own load/unload
 * test, and always stops and deletes the service. Everything it reports
 * goes to standard output (under scripts/wine-run.sh, standard error holds
 * Wine's log).
 */
#ifndef WDKM_RUNNER_H
#define WDKM_RUNNER_H

#include <windows.h>

#include "wdkm_device.h"
#include "wdkm_service.h"
#include "wdkm_test_ioctl.h"

/* Timeouts in milliseconds. */
#define WDKM_RUNNER_INSTALL_TIMEOUT_MS 30000
#define WDKM_RUNNER_START_TIMEOUT_MS   60000
#define WDKM_RUNNER_STOP_TIMEOUT_MS    60000
#define WDKM_RUNNER_LOST_STOP_TIMEOUT_MS 5000  /* stopping a driver that is gone */
#define WDKM_RUNNER_OPEN_TIMEOUT_MS    10000
#define WDKM_RUNNER_IOCTL_TIMEOUT_MS   10000
#define WDKM_RUNNER_TEST_TIMEOUT_S     300

#define WDKM_RUNNER_LOAD_UNLOAD_TEST   "driver_load_unload_20"
#define WDKM_RUNNER_LOAD_UNLOAD_CYCLES 20

typedef struct WDKM_RUNNER_OPTIONS {
    WCHAR DriverPath[MAX_PATH * 2];     /* Windows path of the .sys */
    WCHAR ServiceName[WDKM_SERVICE_NAME_CHARS];
    char **Filters;                     /* run tests matching any; none = all */
    int FilterCount;
    BOOL ListOnly;
    BOOL Verbose;
    DWORD TestTimeoutMs;
} WDKM_RUNNER_OPTIONS;

typedef struct WDKM_RUNNER_TOTALS {
    unsigned long Passed;
    unsigned long Failed;
    unsigned long Skipped;
    BOOL InfrastructureError;  /* something outside the tests went wrong */
    BOOL DriverLost;           /* the driver stopped answering (its host
                                  process crashed or a test never returned) */
} WDKM_RUNNER_TOTALS;

/* Prints a line (adds the newline) and flushes standard output. */
void WdkmRunnerPrint(const char *Format, ...) WDKM_SUPPORT_PRINTF(1, 2);

/* TRUE if Name is selected by the filters (see runner_main.c's usage). */
BOOL WdkmRunnerSelected(const WDKM_RUNNER_OPTIONS *Options, const char *Name);

/*
 * Runs the selected driver tests on an open device, printing a line per
 * test. Returns FALSE if the run had to stop early (a test did not come
 * back: the driver is unusable).
 */
BOOL WdkmRunnerRunDriverTests(const WDKM_RUNNER_OPTIONS *Options, HANDLE Device,
                              const WDKM_TEST_DRIVER_INFO *Info, WDKM_RUNNER_TOTALS *Totals);

/* Prints the names of the driver's tests and the runner's own. */
BOOL WdkmRunnerListTests(HANDLE Device, const WDKM_TEST_DRIVER_INFO *Info);

/* Reads the driver's info block; checks the interface version. */
DWORD WdkmRunnerGetInfo(HANDLE Device, WDKM_TEST_DRIVER_INFO *Info, WDKM_ERROR *Error);

/*
 * driver_load_unload_20: with the driver running and no handle open, stops
 * and starts it WDKM_RUNNER_LOAD_UNLOAD_CYCLES times. Prints its line and
 * counts it. Leaves the driver running if it can.
 */
void WdkmRunnerLoadUnloadTest(const WDKM_RUNNER_OPTIONS *Options, WDKM_SERVICE *Service,
                              const WDKM_TEST_DRIVER_INFO *FirstInfo, WDKM_RUNNER_TOTALS *Totals);

#endif /* WDKM_RUNNER_H */
