/*
 * runner_suite.c - listing and running the driver's own tests.
 */
#include "wdkm_runner.h"

#include <stdlib.h>
#include <string.h>

DWORD WdkmRunnerGetInfo(HANDLE Device, WDKM_TEST_DRIVER_INFO *Info, WDKM_ERROR *Error)
{
    DWORD returned = 0;
    DWORD result;

    memset(Info, 0, sizeof(*Info));
    result = WdkmDeviceIoControl(Device, IOCTL_WDKM_TEST_GET_INFO, NULL, 0, Info, sizeof(*Info),
                                 &returned, WDKM_RUNNER_IOCTL_TIMEOUT_MS, Error);
    if (result != ERROR_SUCCESS) {
        return result;
    }
    if (returned != sizeof(*Info)) {
        return WdkmErrorSetText(Error, ERROR_INVALID_DATA,
                                "GET_INFO returned %lu bytes, expected %lu",
                                (unsigned long)returned, (unsigned long)sizeof(*Info));
    }
    if (Info->InterfaceVersion != WDKM_TEST_INTERFACE_VERSION) {
        return WdkmErrorSetText(Error, ERROR_REVISION_MISMATCH,
                                "the driver speaks interface version %lu, the runner %d: "
                                "rebuild both",
                                (unsigned long)Info->InterfaceVersion,
                                WDKM_TEST_INTERFACE_VERSION);
    }
    return ERROR_SUCCESS;
}

static DWORD WdkmpRunnerGetName(HANDLE Device, ULONG Index, WDKM_TEST_NAME *Name,
                                WDKM_ERROR *Error)
{
    WDKM_TEST_INDEX request;
    DWORD returned = 0;
    DWORD result;

    request.Index = Index;
    result = WdkmDeviceIoControl(Device, IOCTL_WDKM_TEST_GET_NAME, &request, sizeof(request), Name,
                                 sizeof(*Name), &returned, WDKM_RUNNER_IOCTL_TIMEOUT_MS, Error);
    if (result != ERROR_SUCCESS) {
        return result;
    }
    if (returned != sizeof(*Name) || Name->Name[0] == '\0' ||
        Name->Name[sizeof(Name->Name) - 1] != '\0') {
        return WdkmErrorSetText(Error, ERROR_INVALID_DATA, "GET_NAME(%lu) returned a bad name",
                                (unsigned long)Index);
    }
    return ERROR_SUCCESS;
}

/* Fetches every name; NULL (after printing why) on failure. Free with free(). */
static WDKM_TEST_NAME *WdkmpRunnerGetNames(HANDLE Device, const WDKM_TEST_DRIVER_INFO *Info)
{
    WDKM_TEST_NAME *names;
    WDKM_ERROR error;
    ULONG i;
    ULONG j;

    names = (WDKM_TEST_NAME *)calloc(Info->TestCount ? Info->TestCount : 1, sizeof(*names));
    if (names == NULL) {
        WdkmRunnerPrint("ERROR: out of memory");
        return NULL;
    }
    for (i = 0; i < Info->TestCount; i++) {
        if (WdkmpRunnerGetName(Device, i, &names[i], &error) != ERROR_SUCCESS) {
            WdkmRunnerPrint("ERROR: %s", error.Text);
            free(names);
            return NULL;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(names[i].Name, names[j].Name) == 0) {
                WdkmRunnerPrint("ERROR: the driver registers two tests named %s", names[i].Name);
                free(names);
                return NULL;
            }
        }
        if (strcmp(names[i].Name, WDKM_RUNNER_LOAD_UNLOAD_TEST) == 0) {
            WdkmRunnerPrint("ERROR: the driver registers a test named %s, which is the runner's",
                            names[i].Name);
            free(names);
            return NULL;
        }
    }
    return names;
}

BOOL WdkmRunnerListTests(HANDLE Device, const WDKM_TEST_DRIVER_INFO *Info)
{
    WDKM_TEST_NAME *names = WdkmpRunnerGetNames(Device, Info);
    ULONG i;

    if (names == NULL) {
        return FALSE;
    }
    for (i = 0; i < Info->TestCount; i++) {
        WdkmRunnerPrint("%s", names[i].Name);
    }
    WdkmRunnerPrint("%s", WDKM_RUNNER_LOAD_UNLOAD_TEST);
    free(names);
    return TRUE;
}

BOOL WdkmRunnerRunDriverTests(const WDKM_RUNNER_OPTIONS *Options, HANDLE Device,
                              const WDKM_TEST_DRIVER_INFO *Info, WDKM_RUNNER_TOTALS *Totals)
{
    WDKM_TEST_NAME *names = WdkmpRunnerGetNames(Device, Info);
    WDKM_TEST_RESULT result;
    WDKM_TEST_INDEX request;
    WDKM_ERROR error;
    DWORD returned;
    ULONG i;
    BOOL completed = TRUE;

    if (names == NULL) {
        Totals->InfrastructureError = TRUE;
        return FALSE;
    }
    for (i = 0; i < Info->TestCount; i++) {
        const char *name = names[i].Name;

        if (!WdkmRunnerSelected(Options, name)) {
            continue;
        }
        request.Index = i;
        returned = 0;
        memset(&result, 0, sizeof(result));
        if (WdkmDeviceIoControl(Device, IOCTL_WDKM_TEST_RUN, &request, sizeof(request), &result,
                                sizeof(result), &returned, Options->TestTimeoutMs,
                                &error) != ERROR_SUCCESS) {
            WDKM_TEST_DRIVER_INFO probe;
            WDKM_ERROR probeError;

            WdkmRunnerPrint("FAIL %s: %s", name, error.Text);
            Totals->Failed++;
            Totals->InfrastructureError = TRUE;
            if (error.Code == ERROR_TIMEOUT) {
                /* The driver is stuck in this test: nothing else can run. */
                WdkmRunnerPrint("ERROR: %s did not return; the remaining tests were not run",
                                name);
                Totals->DriverLost = TRUE;
                completed = FALSE;
                break;
            }
            if (WdkmRunnerGetInfo(Device, &probe, &probeError) != ERROR_SUCCESS) {
                /* Under Wine a crashing test takes winedevice.exe down with it. */
                WdkmRunnerPrint("ERROR: the driver stopped answering during %s (its host process "
                                "probably crashed; see the Wine log); the remaining tests were "
                                "not run: %s",
                                name, probeError.Text);
                Totals->DriverLost = TRUE;
                completed = FALSE;
                break;
            }
            continue;
        }
        result.Message[sizeof(result.Message) - 1] = '\0';
        if (returned != sizeof(result)) {
            WdkmRunnerPrint("FAIL %s: RUN returned %lu bytes, expected %lu", name,
                            (unsigned long)returned, (unsigned long)sizeof(result));
            Totals->Failed++;
            Totals->InfrastructureError = TRUE;
            continue;
        }

        switch (result.Outcome) {
        case WDKM_TEST_OUTCOME_PASSED:
            WdkmRunnerPrint("PASS %s", name);
            Totals->Passed++;
            break;
        case WDKM_TEST_OUTCOME_SKIPPED:
            WdkmRunnerPrint("SKIPPED %s: %s", name,
                            result.Message[0] != '\0' ? result.Message : "(no reason given)");
            Totals->Skipped++;
            break;
        case WDKM_TEST_OUTCOME_FAILED:
            if (result.FailedChecks > 1) {
                WdkmRunnerPrint("FAIL %s: %s (and %lu more failed checks)", name, result.Message,
                                (unsigned long)(result.FailedChecks - 1));
            } else {
                WdkmRunnerPrint("FAIL %s: %s", name, result.Message);
            }
            Totals->Failed++;
            break;
        default:
            WdkmRunnerPrint("FAIL %s: the driver returned an unknown outcome %lu", name,
                            (unsigned long)result.Outcome);
            Totals->Failed++;
            Totals->InfrastructureError = TRUE;
            break;
        }
        if (Options->Verbose) {
            WdkmRunnerPrint("  %s: %llu us, status 0x%08lX", name,
                            (unsigned long long)result.DurationMicroseconds,
                            (unsigned long)result.Status);
        }
    }
    free(names);
    return completed;
}
