/*
 * wdkm_test_run.c - running one test, and the harness's tainted state.
 */
#include "wdkm_test_framework.h"

static PCSTR volatile WdkmpTestTaintReason;

VOID WdkmTestTaint(PCSTR Reason)
{
    if (InterlockedCompareExchangePointer((PVOID volatile *)&WdkmpTestTaintReason, (PVOID)Reason,
                                          NULL) == NULL) {
        WdkmTestTrace(DPFLTR_ERROR_LEVEL, "harness tainted: %s; reload the driver", Reason);
    }
}

PCSTR WdkmTestTaintReason(VOID)
{
    return WdkmpTestTaintReason;
}

VOID WdkmTestRun(const WDKM_TEST_DEFINITION *Definition, PWDKM_TEST_RESULT Result)
{
    WDKM_TEST test;
    ULONG64 start;
    KIRQL irql;
    PCSTR taint;

    RtlZeroMemory(Result, sizeof(*Result));
    test.Name = Definition->Name;
    test.Result = Result;
    test.Skipped = FALSE;
    test.ExpectFailures = FALSE;

    taint = WdkmTestTaintReason();
    if (taint != NULL) {
        Result->Outcome = WDKM_TEST_OUTCOME_FAILED;
        Result->Status = STATUS_INVALID_DEVICE_STATE;
        Result->FailedChecks = 1;
        (VOID)WdkmTestFormat(Result->Message, sizeof(Result->Message),
                             "not run: the harness is tainted (%s)", taint);
        return;
    }

    WdkmTestTrace(DPFLTR_INFO_LEVEL, "RUN %s", Definition->Name);
    start = WdkmTestMicroseconds();
    Definition->Routine(&test);
    Result->DurationMicroseconds = WdkmTestMicroseconds() - start;

    /* A test must give back the IRQL it was called at. */
    irql = KeGetCurrentIrql();
    if (irql != PASSIVE_LEVEL) {
        WdkmTestFail(&test, STATUS_INVALID_DEVICE_STATE, __FILE__, __LINE__,
                     "test returned at IRQL %u instead of PASSIVE_LEVEL", (unsigned)irql);
    }

    if (Result->FailedChecks != 0) {
        Result->Outcome = WDKM_TEST_OUTCOME_FAILED;
        if (NT_SUCCESS(Result->Status)) {
            Result->Status = STATUS_UNSUCCESSFUL;
        }
    } else if (test.Skipped) {
        Result->Outcome = WDKM_TEST_OUTCOME_SKIPPED;
        Result->Status = STATUS_SUCCESS;
    } else {
        Result->Outcome = WDKM_TEST_OUTCOME_PASSED;
        Result->Status = STATUS_SUCCESS;
        Result->Message[0] = '\0';
    }
    WdkmTestTrace(DPFLTR_INFO_LEVEL, "%s %s (%llu us)",
                  Result->Outcome == WDKM_TEST_OUTCOME_PASSED    ? "PASS"
                  : Result->Outcome == WDKM_TEST_OUTCOME_SKIPPED ? "SKIPPED"
                                                                 : "FAIL",
                  Definition->Name, Result->DurationMicroseconds);
}
