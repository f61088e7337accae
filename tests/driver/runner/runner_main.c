/*
 * runner_main.c - wdkm_test_runner.exe: options, driver life, summary.
 */
#include "wdkm_runner.h"
#include "wdkm_path.h"

#include <fcntl.h>
#include <io.h>
#include <shellapi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define WDKM_RUNNER_DEFAULT_DRIVER L"wdkm_test_driver.sys"

static const char WdkmpRunnerUsage[] =
    "usage: wdkm_test_runner.exe [options] [filter...]\n"
    "\n"
    "Installs the test driver as a kernel service, runs its tests and the\n"
    "runner's own driver_load_unload_20, then stops and deletes the service.\n"
    "Prints 'PASS <name>', 'FAIL <name>: <why>' or 'SKIPPED <name>: <why>' per\n"
    "test and finally '<n> passed, <n> failed, <n> skipped'.\n"
    "\n"
    "  filter            run only the tests whose name contains it; a filter\n"
    "                    with * or ? is a wildcard matched against the whole\n"
    "                    name. Several filters: tests matching any of them.\n"
    "  --driver PATH     the driver (.sys); a Unix path is used as Z:\\...\n"
    "                    (default: wdkm_test_driver.sys beside this program)\n"
    "  --service NAME    service name (default WdkmTest)\n"
    "  --timeout SEC     time allowed for each test (default 300)\n"
    "  --list            list the tests (the driver is loaded to ask it)\n"
    "  -v, --verbose     also print each test's duration\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0 all selected tests passed or were skipped, 1 a test\n"
    "failed, 2 the harness itself failed (bad arguments, driver not loading,\n"
    "service or device errors, a test that never returned).\n";

void WdkmRunnerPrint(const char *Format, ...)
{
    va_list arguments;

    va_start(arguments, Format);
    vprintf(Format, arguments);
    va_end(arguments);
    putchar('\n');
    fflush(stdout);
}

/* '*' any run, '?' one character; the whole name must match. */
static BOOL WdkmpRunnerWildcard(const char *Pattern, const char *Name)
{
    if (*Pattern == '\0') {
        return *Name == '\0';
    }
    if (*Pattern == '*') {
        do {
            if (WdkmpRunnerWildcard(Pattern + 1, Name)) {
                return TRUE;
            }
        } while (*Name++ != '\0');
        return FALSE;
    }
    if (*Name != '\0' && (*Pattern == '?' || *Pattern == *Name)) {
        return WdkmpRunnerWildcard(Pattern + 1, Name + 1);
    }
    return FALSE;
}

BOOL WdkmRunnerSelected(const WDKM_RUNNER_OPTIONS *Options, const char *Name)
{
    int i;

    if (Options->FilterCount == 0) {
        return TRUE;
    }
    for (i = 0; i < Options->FilterCount; i++) {
        const char *filter = Options->Filters[i];
        if (strpbrk(filter, "*?") != NULL ? WdkmpRunnerWildcard(filter, Name)
                                          : strstr(Name, filter) != NULL) {
            return TRUE;
        }
    }
    return FALSE;
}

/* A wide argument as a malloc'ed UTF-8 string. */
static char *WdkmpRunnerNarrow(const WCHAR *Text)
{
    int size = WideCharToMultiByte(CP_UTF8, 0, Text, -1, NULL, 0, NULL, NULL);
    char *narrow;

    if (size <= 0) {
        return NULL;
    }
    narrow = (char *)malloc((size_t)size);
    if (narrow != NULL) {
        WideCharToMultiByte(CP_UTF8, 0, Text, -1, narrow, size, NULL, NULL);
    }
    return narrow;
}

/* Parses the command line; returns -1 to go on, else an exit status. */
static int WdkmpRunnerParse(int Count, WCHAR **Arguments, WDKM_RUNNER_OPTIONS *Options)
{
    WCHAR defaultDriver[MAX_PATH * 2];
    const WCHAR *driver = NULL;
    WDKM_ERROR error;
    int i;

    memset(Options, 0, sizeof(*Options));
    wcscpy(Options->ServiceName, WDKM_TEST_SERVICE_NAME);
    Options->TestTimeoutMs = WDKM_RUNNER_TEST_TIMEOUT_S * 1000u;
    Options->Filters = (char **)calloc((size_t)(Count > 0 ? Count : 1), sizeof(char *));
    if (Options->Filters == NULL) {
        WdkmRunnerPrint("ERROR: out of memory");
        return 2;
    }

    for (i = 1; i < Count; i++) {
        const WCHAR *argument = Arguments[i];
        BOOL hasValue = (i + 1 < Count);

        if (wcscmp(argument, L"-h") == 0 || wcscmp(argument, L"--help") == 0) {
            fputs(WdkmpRunnerUsage, stdout);
            return 0;
        } else if (wcscmp(argument, L"-v") == 0 || wcscmp(argument, L"--verbose") == 0) {
            Options->Verbose = TRUE;
        } else if (wcscmp(argument, L"--list") == 0) {
            Options->ListOnly = TRUE;
        } else if (wcscmp(argument, L"--driver") == 0 && hasValue) {
            driver = Arguments[++i];
        } else if (wcscmp(argument, L"--service") == 0 && hasValue) {
            if (wcslen(Arguments[i + 1]) >= WDKM_SERVICE_NAME_CHARS) {
                WdkmRunnerPrint("ERROR: service name too long");
                return 2;
            }
            wcscpy(Options->ServiceName, Arguments[++i]);
        } else if (wcscmp(argument, L"--timeout") == 0 && hasValue) {
            long seconds = wcstol(Arguments[++i], NULL, 10);
            if (seconds <= 0 || seconds > 86400) {
                WdkmRunnerPrint("ERROR: --timeout wants seconds between 1 and 86400");
                return 2;
            }
            Options->TestTimeoutMs = (DWORD)seconds * 1000u;
        } else if (argument[0] == L'-') {
            WdkmRunnerPrint("ERROR: unknown option or missing value: %ls (see --help)", argument);
            return 2;
        } else {
            Options->Filters[Options->FilterCount] = WdkmpRunnerNarrow(argument);
            if (Options->Filters[Options->FilterCount] == NULL) {
                WdkmRunnerPrint("ERROR: bad filter argument");
                return 2;
            }
            Options->FilterCount++;
        }
    }

    if (driver == NULL) {
        if (WdkmPathBesideProgram(WDKM_RUNNER_DEFAULT_DRIVER, defaultDriver,
                                  sizeof(defaultDriver) / sizeof(defaultDriver[0]),
                                  &error) != ERROR_SUCCESS) {
            WdkmRunnerPrint("ERROR: %s", error.Text);
            return 2;
        }
        driver = defaultDriver;
    }
    if (WdkmPathToWindows(driver, Options->DriverPath,
                          sizeof(Options->DriverPath) / sizeof(Options->DriverPath[0]),
                          &error) != ERROR_SUCCESS ||
        WdkmPathCheckFile(Options->DriverPath, &error) != ERROR_SUCCESS) {
        WdkmRunnerPrint("ERROR: driver: %s", error.Text);
        return 2;
    }
    return -1;
}

/*
 * With the service installed: start it, run everything, leave it in any
 * state (the caller stops and deletes it).
 */
static void WdkmpRunnerSession(const WDKM_RUNNER_OPTIONS *Options, WDKM_SERVICE *Service,
                               WDKM_RUNNER_TOTALS *Totals)
{
    WDKM_TEST_DRIVER_INFO info;
    WDKM_ERROR error;
    HANDLE device = INVALID_HANDLE_VALUE;
    BOOL completed;

    if (WdkmServiceStart(Service, WDKM_RUNNER_START_TIMEOUT_MS, &error) != ERROR_SUCCESS) {
        WdkmRunnerPrint("ERROR: the driver did not start: %s", error.Text);
        Totals->InfrastructureError = TRUE;
        return;
    }
    if (WdkmDeviceOpen(WDKM_TEST_USER_NAME, WDKM_RUNNER_OPEN_TIMEOUT_MS, &device, &error) !=
            ERROR_SUCCESS ||
        WdkmRunnerGetInfo(device, &info, &error) != ERROR_SUCCESS) {
        WdkmRunnerPrint("ERROR: %s", error.Text);
        WdkmDeviceClose(&device);
        Totals->InfrastructureError = TRUE;
        return;
    }
    if (Options->Verbose) {
        WdkmRunnerPrint("  driver %ls: %lu tests, load %lu", Options->DriverPath,
                        (unsigned long)info.TestCount, (unsigned long)info.LoadCount);
    }

    if (Options->ListOnly) {
        if (!WdkmRunnerListTests(device, &info)) {
            Totals->InfrastructureError = TRUE;
        }
        WdkmDeviceClose(&device);
        return;
    }

    completed = WdkmRunnerRunDriverTests(Options, device, &info, Totals);
    WdkmDeviceClose(&device);
    if (!completed) {
        return;
    }
    if (WdkmRunnerSelected(Options, WDKM_RUNNER_LOAD_UNLOAD_TEST)) {
        WdkmRunnerLoadUnloadTest(Options, Service, &info, Totals);
    }
}

int main(void)
{
    WDKM_RUNNER_OPTIONS options;
    WDKM_RUNNER_TOTALS totals = { 0, 0, 0, FALSE, FALSE };
    WDKM_SERVICE service = WDKM_SERVICE_INIT;
    WDKM_ERROR error;
    WCHAR **arguments;
    int count = 0;
    int status;

    /* Lines end in \n, not \r\n: the output is read on Linux (wine-run.sh). */
    _setmode(_fileno(stdout), _O_BINARY);

    arguments = CommandLineToArgvW(GetCommandLineW(), &count);
    if (arguments == NULL) {
        WdkmRunnerPrint("ERROR: cannot read the command line");
        return 2;
    }
    status = WdkmpRunnerParse(count, arguments, &options);
    LocalFree(arguments);
    if (status >= 0) {
        return status;
    }

    if (WdkmServiceInstallDriver(&service, options.ServiceName, options.DriverPath,
                                 WDKM_RUNNER_INSTALL_TIMEOUT_MS, &error) != ERROR_SUCCESS) {
        WdkmRunnerPrint("ERROR: cannot install the driver service: %s", error.Text);
        return 2;
    }

    WdkmpRunnerSession(&options, &service, &totals);

    /* Always: stop and delete, whatever happened above. */
    if (WdkmServiceStop(&service, totals.DriverLost ? WDKM_RUNNER_LOST_STOP_TIMEOUT_MS
                                                    : WDKM_RUNNER_STOP_TIMEOUT_MS,
                        &error) != ERROR_SUCCESS) {
        WdkmRunnerPrint("ERROR: cannot stop the driver: %s", error.Text);
        totals.InfrastructureError = TRUE;
    }
    if (WdkmServiceDelete(&service, &error) != ERROR_SUCCESS) {
        WdkmRunnerPrint("ERROR: cannot delete the driver service: %s", error.Text);
        totals.InfrastructureError = TRUE;
    }
    WdkmServiceClose(&service);

    if (options.ListOnly) {
        return totals.InfrastructureError ? 2 : 0;
    }
    if (!totals.InfrastructureError && totals.Passed + totals.Failed + totals.Skipped == 0) {
        WdkmRunnerPrint("ERROR: no test matches the filter");
        totals.InfrastructureError = TRUE;
    }
    WdkmRunnerPrint("%lu passed, %lu failed, %lu skipped", totals.Passed, totals.Failed,
                    totals.Skipped);
    if (totals.InfrastructureError) {
        return 2;
    }
    return totals.Failed != 0 ? 1 : 0;
}
