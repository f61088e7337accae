/*
 * wdkm_test_checks.c - recording check failures, skips and log lines.
 *
 * Checks may be called from several threads of one test at once (see
 * WdkmTestRunThreads): the thread whose failure is the first (the one that
 * moves FailedChecks from 0 to 1) alone writes the message and status; the
 * runner reads them only after the test has returned.
 */
#include "wdkm_test_framework.h"

/* The file name without its directories: messages stay short. */
static PCSTR WdkmpTestBaseName(_In_z_ PCSTR Path)
{
    PCSTR name = Path;
    PCSTR cursor;

    for (cursor = Path; *cursor != '\0'; cursor++) {
        if (*cursor == '/' || *cursor == '\\') {
            name = cursor + 1;
        }
    }
    return name;
}

static VOID WdkmpTestRecordFailure(_Inout_ PWDKM_TEST Test, _In_ NTSTATUS Status,
                                   _In_z_ PCSTR File, _In_ ULONG Line, _In_z_ PCSTR Text)
{
    CHAR message[WDKM_TEST_MESSAGE_CHARS];
    PWDKM_TEST_RESULT result = Test->Result;

    (VOID)WdkmTestFormat(message, sizeof(message), "%s:%lu: %s", WdkmpTestBaseName(File), Line,
                         Text);
    WdkmTestTrace(Test->ExpectFailures ? DPFLTR_INFO_LEVEL : DPFLTR_ERROR_LEVEL, "FAIL %s: %s",
                  Test->Name, message);
    if (InterlockedIncrement((volatile LONG *)&result->FailedChecks) == 1) {
        RtlCopyMemory(result->Message, message, sizeof(result->Message));
        result->Status = Status;
    }
}

static PCSTR WdkmpTestOperator(_In_ WDKM_TEST_COMPARISON Comparison)
{
    switch (Comparison) {
    case WdkmTestEqual:          return "==";
    case WdkmTestNotEqual:       return "!=";
    case WdkmTestLess:           return "<";
    case WdkmTestLessOrEqual:    return "<=";
    case WdkmTestGreater:        return ">";
    case WdkmTestGreaterOrEqual: return ">=";
    default:                     return "?";
    }
}

/* Order is -1, 0 or 1 (Left compared with Right). */
static BOOLEAN WdkmpTestCompare(_In_ WDKM_TEST_COMPARISON Comparison, _In_ LONG Order)
{
    switch (Comparison) {
    case WdkmTestEqual:          return Order == 0;
    case WdkmTestNotEqual:       return Order != 0;
    case WdkmTestLess:           return Order < 0;
    case WdkmTestLessOrEqual:    return Order <= 0;
    case WdkmTestGreater:        return Order > 0;
    case WdkmTestGreaterOrEqual: return Order >= 0;
    default:                     return FALSE;
    }
}

BOOLEAN WdkmTestCheck(PWDKM_TEST Test, BOOLEAN Passed, PCSTR Text, PCSTR File, ULONG Line)
{
    CHAR text[WDKM_TEST_MESSAGE_CHARS];

    if (Passed) {
        return TRUE;
    }
    (VOID)WdkmTestFormat(text, sizeof(text), "check failed: %s", Text);
    WdkmpTestRecordFailure(Test, STATUS_UNSUCCESSFUL, File, Line, text);
    return FALSE;
}

BOOLEAN WdkmTestCheckSigned(PWDKM_TEST Test, WDKM_TEST_COMPARISON Comparison, LONG64 Left,
                            LONG64 Right, PCSTR LeftText, PCSTR RightText, PCSTR File, ULONG Line)
{
    CHAR text[WDKM_TEST_MESSAGE_CHARS];
    LONG order = (Left < Right) ? -1 : (Left > Right) ? 1 : 0;

    if (WdkmpTestCompare(Comparison, order)) {
        return TRUE;
    }
    (VOID)WdkmTestFormat(text, sizeof(text), "check failed: %s %s %s (%lld vs %lld)", LeftText,
                         WdkmpTestOperator(Comparison), RightText, Left, Right);
    WdkmpTestRecordFailure(Test, STATUS_UNSUCCESSFUL, File, Line, text);
    return FALSE;
}

BOOLEAN WdkmTestCheckHex(PWDKM_TEST Test, WDKM_TEST_COMPARISON Comparison, ULONG64 Left,
                         ULONG64 Right, PCSTR LeftText, PCSTR RightText, PCSTR File, ULONG Line)
{
    CHAR text[WDKM_TEST_MESSAGE_CHARS];
    LONG order = (Left < Right) ? -1 : (Left > Right) ? 1 : 0;

    if (WdkmpTestCompare(Comparison, order)) {
        return TRUE;
    }
    (VOID)WdkmTestFormat(text, sizeof(text), "check failed: %s %s %s (0x%llX vs 0x%llX)",
                         LeftText, WdkmpTestOperator(Comparison), RightText, Left, Right);
    WdkmpTestRecordFailure(Test, STATUS_UNSUCCESSFUL, File, Line, text);
    return FALSE;
}

BOOLEAN WdkmTestCheckPointer(PWDKM_TEST Test, WDKM_TEST_COMPARISON Comparison,
                             const volatile void *Left, const volatile void *Right,
                             PCSTR LeftText, PCSTR RightText, PCSTR File, ULONG Line)
{
    CHAR text[WDKM_TEST_MESSAGE_CHARS];
    ULONG_PTR left = (ULONG_PTR)Left;
    ULONG_PTR right = (ULONG_PTR)Right;
    LONG order = (left < right) ? -1 : (left > right) ? 1 : 0;

    if (WdkmpTestCompare(Comparison, order)) {
        return TRUE;
    }
    (VOID)WdkmTestFormat(text, sizeof(text), "check failed: %s %s %s (%p vs %p)", LeftText,
                         WdkmpTestOperator(Comparison), RightText, (PVOID)left, (PVOID)right);
    WdkmpTestRecordFailure(Test, STATUS_UNSUCCESSFUL, File, Line, text);
    return FALSE;
}

BOOLEAN WdkmTestCheckStatus(PWDKM_TEST Test, NTSTATUS Expected, NTSTATUS Actual,
                            PCSTR ActualText, PCSTR File, ULONG Line)
{
    CHAR text[WDKM_TEST_MESSAGE_CHARS];

    if (Actual == Expected) {
        return TRUE;
    }
    (VOID)WdkmTestFormat(text, sizeof(text), "%s returned 0x%08lX, expected 0x%08lX", ActualText,
                         (ULONG)Actual, (ULONG)Expected);
    WdkmpTestRecordFailure(Test, Actual, File, Line, text);
    return FALSE;
}

BOOLEAN WdkmTestCheckSuccess(PWDKM_TEST Test, NTSTATUS Actual, PCSTR ActualText, PCSTR File,
                             ULONG Line)
{
    CHAR text[WDKM_TEST_MESSAGE_CHARS];

    if (NT_SUCCESS(Actual)) {
        return TRUE;
    }
    (VOID)WdkmTestFormat(text, sizeof(text), "%s failed with 0x%08lX", ActualText,
                         (ULONG)Actual);
    WdkmpTestRecordFailure(Test, Actual, File, Line, text);
    return FALSE;
}

VOID WdkmTestFail(PWDKM_TEST Test, NTSTATUS Status, PCSTR File, ULONG Line, PCSTR Format, ...)
{
    CHAR text[WDKM_TEST_MESSAGE_CHARS];
    va_list arguments;

    va_start(arguments, Format);
    (VOID)WdkmTestFormatV(text, sizeof(text), Format, arguments);
    va_end(arguments);
    WdkmpTestRecordFailure(Test, NT_SUCCESS(Status) ? STATUS_UNSUCCESSFUL : Status, File, Line,
                           text);
}

VOID WdkmTestSkip(PWDKM_TEST Test, PCSTR Format, ...)
{
    CHAR text[WDKM_TEST_MESSAGE_CHARS];
    va_list arguments;

    va_start(arguments, Format);
    (VOID)WdkmTestFormatV(text, sizeof(text), Format, arguments);
    va_end(arguments);
    WdkmTestTrace(DPFLTR_WARNING_LEVEL, "SKIP %s: %s", Test->Name, text);
    if (!Test->Skipped && Test->Result->FailedChecks == 0) {
        RtlCopyMemory(Test->Result->Message, text, sizeof(Test->Result->Message));
    }
    Test->Skipped = TRUE;
}

VOID WdkmTestLog(PWDKM_TEST Test, PCSTR Format, ...)
{
    CHAR text[WDKM_TEST_MESSAGE_CHARS];
    va_list arguments;

    va_start(arguments, Format);
    (VOID)WdkmTestFormatV(text, sizeof(text), Format, arguments);
    va_end(arguments);
    WdkmTestTrace(DPFLTR_INFO_LEVEL, "%s: %s", Test->Name, text);
}
