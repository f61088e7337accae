/*
 * wdkm_bench_runner.c - wdkm_bench_runner.exe: loads the benchmark drivers
 * under Wine (or Windows), runs them through IOCTL_WDKM_BENCH_RUN and
 * prints every sample as a line (wdkm_bench_print.h).
 *
 *   wdkm_bench_runner.exe [--smoke] release=PATH.sys [checked=PATH.sys]
 *
 * Both drivers are loaded at once. The uncontended pairs run in rounds
 * that alternate between the variants (so that a slow patch of the shared
 * machine hits both); the contended and registry groups run once, on the
 * release driver. Wine is slow where it emulates (KMUTEX through the
 * wine server, KeGetCurrentIrql as an emulated instruction): the presets
 * keep the run short.
 *
 * Exit status: 0 every benchmark ran (a kind the kernel lacks counts as
 * run), 1 one failed, 2 the harness failed (driver, service or device).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "wdkm_device.h"        /* <windows.h> first: the sample header needs its types */
#include "wdkm_path.h"
#include "wdkm_service.h"

#include <winioctl.h>

#include "wdkm_bench_print.h"

#define WDKM_BENCH_TIMEOUT_MS 30000
#define WDKM_BENCH_RUN_TIMEOUT_MS 600000    /* one IOCTL: a whole group */
#define WDKM_BENCH_MAX_DRIVERS 2

#define WDKM_BENCH_STATUS_NOT_SUPPORTED ((LONG)0xC00000BBL)

typedef struct _WDKM_BENCH_DRIVER {
    const char *Variant;                    /* "release" or "checked" */
    const WCHAR *Service;                   /* service name = device name */
    WCHAR Image[MAX_PATH];
    WDKM_SERVICE Handle;
    HANDLE Device;
} WDKM_BENCH_DRIVER;

static WDKM_BENCH_OUTPUT WdkmBenchOutput;

static int
WdkmBenchUsage(void)
{
    fprintf(stderr, "usage: wdkm_bench_runner.exe [--smoke] release=PATH.sys [checked=PATH.sys]\n");
    return 2;
}

/* Installs, starts and opens one driver. */
static DWORD
WdkmBenchLoad(WDKM_BENCH_DRIVER *Driver, WDKM_ERROR *Error)
{
    DWORD Result = WdkmPathCheckFile(Driver->Image, Error);

    if (Result == ERROR_SUCCESS) {
        Result = WdkmServiceInstallDriver(&Driver->Handle, Driver->Service, Driver->Image,
                                          WDKM_BENCH_TIMEOUT_MS, Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmServiceStart(&Driver->Handle, WDKM_BENCH_TIMEOUT_MS, Error);
    }
    if (Result == ERROR_SUCCESS) {
        Result = WdkmDeviceOpen(Driver->Service, WDKM_BENCH_TIMEOUT_MS, &Driver->Device, Error);
    }
    return Result;
}

static void
WdkmBenchUnload(WDKM_BENCH_DRIVER *Driver)
{
    WDKM_ERROR Error;

    WdkmDeviceClose(&Driver->Device);
    if (Driver->Handle.Service != NULL) {
        if (WdkmServiceStop(&Driver->Handle, WDKM_BENCH_TIMEOUT_MS, &Error) != ERROR_SUCCESS) {
            fprintf(stderr, "bench runner: stopping %ls: %s\n", Driver->Service, Error.Text);
        }
        (void)WdkmServiceDelete(&Driver->Handle, &Error);
    }
}

/*
 * Runs Groups on one driver and prints its samples. Returns 0, 1 (a
 * benchmark failed) or 2 (the request itself failed).
 */
static int
WdkmBenchRunGroups(WDKM_BENCH_DRIVER *Driver, const WDKM_BENCH_CONFIG *Template, ULONG Groups)
{
    WDKM_BENCH_CONFIG Config = *Template;
    WDKM_ERROR Error;
    DWORD Returned = 0;
    DWORD Result;
    ULONG Index;
    int Failed = 0;

    Config.Groups = Groups;
    Result = WdkmDeviceIoControl(Driver->Device, IOCTL_WDKM_BENCH_RUN, &Config, sizeof(Config),
                                 &WdkmBenchOutput, sizeof(WdkmBenchOutput), &Returned,
                                 WDKM_BENCH_RUN_TIMEOUT_MS, &Error);
    if (Result != ERROR_SUCCESS) {
        fprintf(stderr, "bench runner: %ls: %s\n", Driver->Service, Error.Text);
        return 2;
    }
    if (Returned != sizeof(WdkmBenchOutput) ||
        WdkmBenchOutput.Checked != (ULONG)(strcmp(Driver->Variant, "checked") == 0) ||
        WdkmBenchOutput.SampleCount > WDKM_BENCH_MAX_SAMPLES) {
        fprintf(stderr, "bench runner: %ls: malformed answer (%lu bytes, checked=%lu)\n",
                Driver->Service, (unsigned long)Returned, (unsigned long)WdkmBenchOutput.Checked);
        return 2;
    }
    for (Index = 0; Index < WdkmBenchOutput.SampleCount; Index += 1) {
        const WDKM_BENCH_SAMPLE *Sample = &WdkmBenchOutput.Samples[Index];

        WdkmBenchPrintSample("wine", Driver->Variant, Sample);
        if (Sample->Status != 0 && Sample->Status != WDKM_BENCH_STATUS_NOT_SUPPORTED) {
            Failed = 1;
        }
    }
    if (WdkmBenchOutput.Status != 0) {
        fprintf(stderr, "bench runner: %ls: the run stopped with 0x%08lX\n", Driver->Service,
                (unsigned long)WdkmBenchOutput.Status);
        Failed = 1;
    }
    return Failed;
}

int
wmain(int argc, wchar_t **argv)
{
    WDKM_BENCH_DRIVER Drivers[WDKM_BENCH_MAX_DRIVERS];
    WDKM_BENCH_CONFIG Config;
    WDKM_ERROR Error;
    ULONG DriverCount = 0;
    ULONG Rounds;
    ULONG Round;
    ULONG Index;
    int Smoke = 0;
    int Worst = 0;
    int Result;
    int Arg;

    setvbuf(stdout, NULL, _IONBF, 0);
    memset(Drivers, 0, sizeof(Drivers));
    for (Arg = 1; Arg < argc; Arg++) {
        const wchar_t *Path = NULL;
        WDKM_BENCH_DRIVER *Driver;

        if (wcscmp(argv[Arg], L"--smoke") == 0) {
            Smoke = 1;
            continue;
        }
        if (DriverCount == WDKM_BENCH_MAX_DRIVERS) {
            return WdkmBenchUsage();
        }
        Driver = &Drivers[DriverCount];
        if (wcsncmp(argv[Arg], L"release=", 8) == 0 && DriverCount == 0) {
            Driver->Variant = "release";
            Driver->Service = WDKM_BENCH_SERVICE_PREFIX L"Release";
            Path = argv[Arg] + 8;
        } else if (wcsncmp(argv[Arg], L"checked=", 8) == 0 && DriverCount == 1) {
            Driver->Variant = "checked";
            Driver->Service = WDKM_BENCH_SERVICE_PREFIX L"Checked";
            Path = argv[Arg] + 8;
        } else {
            return WdkmBenchUsage();
        }
        Driver->Device = INVALID_HANDLE_VALUE;
        if (WdkmPathToWindows(Path, Driver->Image, MAX_PATH, &Error) != ERROR_SUCCESS) {
            fprintf(stderr, "bench runner: %s\n", Error.Text);
            return 2;
        }
        DriverCount += 1;
    }
    if (DriverCount == 0) {
        return WdkmBenchUsage();
    }

    /* The presets: short, because Wine is slow exactly where it emulates. */
    memset(&Config, 0, sizeof(Config));
    Config.Repetitions = Smoke ? 3 : 7;
    Config.RepetitionMicroseconds = Smoke ? 2000 : 20000;
    Config.RegistrySizes[0] = 10;
    Config.RegistrySizes[1] = 1000;
    Config.RegistrySizeCount = Smoke ? 1 : 2;
    Config.Flags = WDKM_BENCH_FLAG_PIN;     /* KeSetSystemAffinityThreadEx in the driver */
    Rounds = Smoke ? 1 : 2;

    printf("# wdkm_bench_runner repetitions=%lu microseconds=%lu rounds=%lu\n",
           (unsigned long)Config.Repetitions, (unsigned long)Config.RepetitionMicroseconds,
           (unsigned long)Rounds);
    for (Index = 0; Index < DriverCount && Worst < 2; Index += 1) {
        if (WdkmBenchLoad(&Drivers[Index], &Error) != ERROR_SUCCESS) {
            fprintf(stderr, "bench runner: loading %ls: %s\n", Drivers[Index].Image, Error.Text);
            Worst = 2;
        }
    }
    for (Round = 0; Round < Rounds && Worst < 2; Round += 1) {
        for (Index = 0; Index < DriverCount && Worst < 2; Index += 1) {
            Result = WdkmBenchRunGroups(&Drivers[Index], &Config, WDKM_BENCH_GROUP_WRAPPER);
            Worst = Result > Worst ? Result : Worst;
        }
    }
    if (Worst < 2) {
        Result = WdkmBenchRunGroups(&Drivers[0], &Config,
                                    WDKM_BENCH_GROUP_CONTENDED | WDKM_BENCH_GROUP_REGISTRY);
        Worst = Result > Worst ? Result : Worst;
    }
    for (Index = DriverCount; Index > 0; Index -= 1) {
        WdkmBenchUnload(&Drivers[Index - 1]);
    }
    return Worst;
}
