/*
 * wdkm_test_framework.h - the framework's side that tests do not see:
 * the test table, running one test, and the harness's tainted state.
 */
#ifndef WDKM_TEST_FRAMEWORK_H
#define WDKM_TEST_FRAMEWORK_H

#include "wdkm_test.h"

typedef struct _WDKM_TEST_DEFINITION {
    PCSTR Name;
    PWDKM_TEST_ROUTINE Routine;
} WDKM_TEST_DEFINITION;

/* Every registered test, in wdkm_test_list.h's order. */
extern const WDKM_TEST_DEFINITION WdkmTestTable[];
extern const ULONG WdkmTestTableCount;

/*
 * Runs one test at PASSIVE_LEVEL and fills Result (all of it: the caller
 * need not clear it). A tainted harness runs nothing and reports FAILED.
 */
_IRQL_requires_(PASSIVE_LEVEL)
VOID WdkmTestRun(_In_ const WDKM_TEST_DEFINITION *Definition, _Out_ PWDKM_TEST_RESULT Result);

/*
 * Marks the harness unusable until the driver is reloaded (threads of a
 * timed-out test are still running). The first reason is kept; Reason must
 * be a string literal or otherwise live forever.
 */
VOID WdkmTestTaint(_In_z_ PCSTR Reason);

/* The reason the harness is tainted, or NULL. */
PCSTR WdkmTestTaintReason(VOID);

/*
 * A debugger line "wdkm-test: <text>\n" through DbgPrintEx (component
 * DPFLTR_IHVDRIVER_ID, Level DPFLTR_ERROR_LEVEL ... DPFLTR_INFO_LEVEL),
 * formatted by WdkmTestFormat so that the same formats work everywhere.
 */
VOID WdkmTestTrace(_In_ ULONG Level, _In_z_ _Printf_format_string_ PCSTR Format, ...)
    WDKM_TEST_PRINTF(2, 3);

/*
 * Adds one to the REG_DWORD ValueName under the driver's service key and
 * returns the new value (a missing value counts as 0). PASSIVE_LEVEL.
 */
_IRQL_requires_(PASSIVE_LEVEL)
NTSTATUS WdkmTestBumpServiceValue(_In_ PCUNICODE_STRING ServiceKey, _In_z_ PCWSTR ValueName,
                                  _Out_ PULONG NewValue);

#endif /* WDKM_TEST_FRAMEWORK_H */
