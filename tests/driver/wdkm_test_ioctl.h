/*
 * wdkm_test_ioctl.h - the contract between the test driver and its runner.
 *
 * Shared by kernel code (wdkm_test_driver.sys, built with _KERNEL_MODE) and
 * user-mode code (wdkm_test_runner.exe). Fixed-size structures only, the
 * same layout on both sides (checked below); strings are NUL-terminated
 * ASCII/UTF-8.
 *
 * Device: \Device\WdkmTest, link \DosDevices\WdkmTest, opened as \\.\WdkmTest
 * with GENERIC_READ | GENERIC_WRITE. All requests are METHOD_BUFFERED:
 *
 *   IOCTL_WDKM_TEST_GET_INFO   in: none                out: WDKM_TEST_DRIVER_INFO
 *   IOCTL_WDKM_TEST_GET_NAME   in: WDKM_TEST_INDEX     out: WDKM_TEST_NAME
 *   IOCTL_WDKM_TEST_RUN        in: WDKM_TEST_INDEX     out: WDKM_TEST_RESULT
 *
 * A request with a bad size or index completes with STATUS_INVALID_PARAMETER
 * (or STATUS_BUFFER_TOO_SMALL), a second RUN while one is in progress with
 * STATUS_DEVICE_BUSY. A test's own failure is not a request failure: RUN
 * succeeds and the result says FAILED.
 *
 * The driver also counts its loads and unloads in its service key (values
 * WDKM_TEST_VALUE_LOAD_COUNT and WDKM_TEST_VALUE_UNLOAD_COUNT, REG_DWORD,
 * bumped at the end of DriverEntry and of DriverUnload), so that the runner
 * can prove that DriverUnload really ran.
 */
#ifndef WDKM_TEST_IOCTL_H
#define WDKM_TEST_IOCTL_H

#ifdef _KERNEL_MODE
#include <ntddk.h>
#else
#include <windows.h>
#include <winioctl.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a structure or a code below changes meaning. */
#define WDKM_TEST_INTERFACE_VERSION 1

#define WDKM_TEST_DEVICE_NAME   L"\\Device\\WdkmTest"
#define WDKM_TEST_DOS_NAME      L"\\DosDevices\\WdkmTest"
#define WDKM_TEST_USER_NAME     L"WdkmTest" /* \\.\WdkmTest */
#define WDKM_TEST_SERVICE_NAME  L"WdkmTest" /* the runner's default */

#define WDKM_TEST_VALUE_LOAD_COUNT   L"WdkmTestLoadCount"
#define WDKM_TEST_VALUE_UNLOAD_COUNT L"WdkmTestUnloadCount"

#define WDKM_TEST_IOCTL(Function) \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900 + (Function), METHOD_BUFFERED, \
             FILE_READ_ACCESS | FILE_WRITE_ACCESS)

#define IOCTL_WDKM_TEST_GET_INFO WDKM_TEST_IOCTL(0)
#define IOCTL_WDKM_TEST_GET_NAME WDKM_TEST_IOCTL(1)
#define IOCTL_WDKM_TEST_RUN      WDKM_TEST_IOCTL(2)

#define WDKM_TEST_NAME_CHARS    64   /* including the NUL */
#define WDKM_TEST_MESSAGE_CHARS 256  /* including the NUL */

/* WDKM_TEST_DRIVER_INFO.Flags */
#define WDKM_TEST_DRIVER_TAINTED 0x00000001u  /* a test left threads running */

typedef struct _WDKM_TEST_DRIVER_INFO {
    ULONG InterfaceVersion;  /* WDKM_TEST_INTERFACE_VERSION */
    ULONG TestCount;         /* tests are numbered 0 .. TestCount - 1 */
    ULONG LoadCount;         /* this load's number (the service key's load
                                count after DriverEntry bumped it); 0 if the
                                registry could not be updated */
    ULONG Flags;             /* WDKM_TEST_DRIVER_* */
} WDKM_TEST_DRIVER_INFO;

typedef struct _WDKM_TEST_INDEX {
    ULONG Index;
} WDKM_TEST_INDEX;

typedef struct _WDKM_TEST_NAME {
    CHAR Name[WDKM_TEST_NAME_CHARS];
} WDKM_TEST_NAME;

/* WDKM_TEST_RESULT.Outcome */
#define WDKM_TEST_OUTCOME_PASSED  1u
#define WDKM_TEST_OUTCOME_FAILED  2u
#define WDKM_TEST_OUTCOME_SKIPPED 3u

typedef struct _WDKM_TEST_RESULT {
    ULONG Outcome;               /* WDKM_TEST_OUTCOME_* */
    LONG Status;                 /* NTSTATUS: STATUS_SUCCESS when passed; for a
                                    failure, the status that failed a status
                                    check, else STATUS_UNSUCCESSFUL */
    ULONG FailedChecks;          /* failed checks (the message is the first) */
    ULONG Reserved;
    ULONG64 DurationMicroseconds;
    CHAR Message[WDKM_TEST_MESSAGE_CHARS]; /* why it failed or was skipped */
} WDKM_TEST_RESULT, *PWDKM_TEST_RESULT;

/* The layout is part of the contract: same sizes in both worlds. */
#if defined(__cplusplus)
#define WDKM_TEST_STATIC_ASSERT(Expression) static_assert(Expression, #Expression)
#else
#define WDKM_TEST_STATIC_ASSERT(Expression) _Static_assert(Expression, #Expression)
#endif
WDKM_TEST_STATIC_ASSERT(sizeof(WDKM_TEST_DRIVER_INFO) == 16);
WDKM_TEST_STATIC_ASSERT(sizeof(WDKM_TEST_INDEX) == 4);
WDKM_TEST_STATIC_ASSERT(sizeof(WDKM_TEST_NAME) == WDKM_TEST_NAME_CHARS);
WDKM_TEST_STATIC_ASSERT(sizeof(WDKM_TEST_RESULT) == 24 + WDKM_TEST_MESSAGE_CHARS);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_TEST_IOCTL_H */
