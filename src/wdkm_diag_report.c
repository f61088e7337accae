/*
 * wdkm_diag_report.c - the text of the validator's reports and the
 * violations kept for WdkmDiagQueryViolations (checked builds).
 */
#include "wdkm_diag_private.h"

#if WDKM_CHECKED

static const PCSTR WdkmpDiagKindNames[] = {
    "?", "KMUTEX", "FAST_MUTEX", "SPIN_LOCK", "QUEUED_SPIN_LOCK", "GUARDED_MUTEX",
    "ERESOURCE", "PUSH_LOCK"
};

/* ------------------------------------------------------------------------
 * Small helpers: no C library in a kernel driver we may rely on.
 */

PCSTR
WdkmpDiagKindName(
    _In_ WDKM_LOCK_KIND Kind
    )
{
    ULONG Index = (ULONG)Kind;

    return Index < sizeof(WdkmpDiagKindNames) / sizeof(WdkmpDiagKindNames[0])
               ? WdkmpDiagKindNames[Index] : "?";
}

BOOLEAN
WdkmpDiagNameEqual(
    _In_z_ PCSTR Left,
    _In_z_ PCSTR Right
    )
{
    ULONG Index;

    for (Index = 0; Index < WDKM_DIAG_NAME_LENGTH - 1; Index += 1) {
        if (Left[Index] != Right[Index]) {
            return FALSE;
        }
        if (Left[Index] == '\0') {
            return TRUE;
        }
    }
    return TRUE;    /* equal as far as a class name is kept */
}

/* Appends Text to Buffer[*Length ..], truncating at the name length. */
VOID
WdkmpDiagAppend(
    _Inout_ PCHAR Buffer,
    _Inout_ PULONG Length,
    _In_z_ PCSTR Text
    )
{
    while (*Text != '\0' && *Length < WDKM_DIAG_NAME_LENGTH - 1) {
        Buffer[*Length] = *Text;
        *Length += 1;
        Text += 1;
    }
    Buffer[*Length] = '\0';
}

VOID
WdkmpDiagAppendNumber(
    _Inout_ PCHAR Buffer,
    _Inout_ PULONG Length,
    _In_ ULONG64 Value,
    _In_ ULONG Base
    )
{
    CHAR Digits[24];
    ULONG Count = 0;

    do {
        Digits[sizeof(Digits) - 2 - Count] = "0123456789abcdef"[Value % Base];
        Value /= Base;
        Count += 1;
    } while (Value != 0 && Count < sizeof(Digits) - 1);
    Digits[sizeof(Digits) - 1] = '\0';
    WdkmpDiagAppend(Buffer, Length, &Digits[sizeof(Digits) - 1 - Count]);
}

/* The last path component: reports name "file.c:12", not a build path. */
PCSTR
WdkmpDiagBaseName(
    _In_opt_z_ PCSTR File
    )
{
    PCSTR Base = File;

    if (File == NULL) {
        return "?";
    }
    for (; *File != '\0'; File += 1) {
        if (*File == '/' || *File == '\\') {
            Base = File + 1;
        }
    }
    return Base;
}

BOOLEAN
WdkmpDiagWarnOnce(
    _In_ LONG Bit
    )
{
    return (InterlockedOr(&WdkmpDiag.Warned, Bit) & Bit) == 0;
}

/* ------------------------------------------------------------------------
 * Kept violations. A reporter claims a slot with one interlocked
 * increment, fills it, and publishes it (release); a reader copies a slot
 * only once it loaded Published (acquire), so it never copies one still
 * being written. No lock: reports come from any IRQL up to DISPATCH_LEVEL,
 * including a DPC that interrupted another reporter.
 */

VOID
WdkmpDiagKeep(
    _In_ WDKM_DIAG_VIOLATION_TYPE Type,
    _In_ ULONG CycleLength,
    _In_z_ PCSTR Held,
    _In_opt_z_ PCSTR HeldFile,
    _In_ ULONG HeldLine,
    _In_z_ PCSTR Acquiring,
    _In_opt_z_ PCSTR AcquireFile,
    _In_ ULONG AcquireLine
    )
{
    LONG Number = InterlockedIncrement(&WdkmpDiag.Violations) - 1;
    WDKM_DIAG_VIOLATION *Kept;
    ULONG Length;

    if (Number >= WDKMP_DIAG_KEEP) {
        return;
    }
    Kept = &WdkmpDiag.Kept[Number].Violation;
    Kept->Type = Type;
    Kept->CycleLength = CycleLength;
    Length = 0;
    WdkmpDiagAppend(Kept->Held, &Length, Held);
    Length = 0;
    WdkmpDiagAppend(Kept->Acquiring, &Length, Acquiring);
    Kept->HeldFile = HeldFile;
    Kept->HeldLine = HeldLine;
    Kept->AcquireFile = AcquireFile;
    Kept->AcquireLine = AcquireLine;
    WdkmpStorePointerRelease(&WdkmpDiag.Kept[Number].Published, (PVOID)(ULONG_PTR)1);
}

VOID
WdkmpDiagViolationsReset(
    VOID
    )
{
    ULONG Index;

    for (Index = 0; Index < WDKMP_DIAG_KEEP; Index += 1) {
        WdkmpStorePointerRelease(&WdkmpDiag.Kept[Index].Published, NULL);
    }
    InterlockedExchange(&WdkmpDiag.Violations, 0);
}

NTSTATUS
WdkmDiagQueryViolations(
    _Out_writes_opt_(Capacity) PWDKM_DIAG_VIOLATION Violations,
    _In_ ULONG Capacity,
    _Out_ PULONG Count
    )
{
    ULONG Total;
    ULONG Index;

    if (Count == NULL || (Violations == NULL && Capacity > 0)) {
        return STATUS_INVALID_PARAMETER;
    }
    *Count = 0;
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    Total = (ULONG)WdkmpLoadLong(&WdkmpDiag.Violations);
    for (Index = 0; Index < Total && Index < WDKMP_DIAG_KEEP; Index += 1) {
        if (WdkmpLoadPointerAcquire(&WdkmpDiag.Kept[Index].Published) == NULL) {
            /* Still being written (its reporter may be the thread this
               call interrupted: never wait for it). It and the ones
               after it are not reported yet. */
            Total = Index;
            break;
        }
        if (Index < Capacity) {
            Violations[Index] = WdkmpDiag.Kept[Index].Violation;
        }
    }
    *Count = Total;
    return STATUS_SUCCESS;
}

BOOLEAN
WdkmDiagAssertFailed(
    _In_z_ PCSTR Expression,
    _In_z_ PCSTR File,
    _In_ ULONG Line
    )
{
    InterlockedIncrement(&WdkmpDiag.AssertFailures);
    WdkmpDebugPrint(WDKMP_DEBUG_ERROR, "wdkmutex: ASSERTION FAILED at %s:%u: %s\n",
                    WdkmpDiagBaseName(File), (unsigned)Line, Expression);
    WdkmpDiagKeep(WdkmDiagAssertHeld, 0, Expression, File, Line, "", NULL, 0);
    return FALSE;
}

#else

/* Release builds: nothing here (ISO C wants a declaration in every file). */
typedef int WDKMP_DIAG_REPORT_COMPILED_OUT;

#endif /* WDKM_CHECKED */
