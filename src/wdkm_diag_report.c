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

/* ------------------------------------------------------------------------
 * The callback forms' last words.
 */

/* What a refused registry lookup means: nothing was acquired and no
   handle given, the name, its lock or the registry's state is the story. */
static
PCSTR
WdkmpDiagLookupMeaning(
    _In_ NTSTATUS Status
    )
{
    switch (Status) {
    case STATUS_OBJECT_NAME_NOT_FOUND:
        return "no lock is registered under this name (never registered, or unregistered "
               "already): the code runs after the name's registration ended";
    case STATUS_WDKM_TYPE_MISMATCH:
        return "the name's lock is of another kind, or the data type's size is not its "
               "value's (or the kind or size asked for is none the registry holds)";
    case STATUS_OBJECT_NAME_INVALID:
        return "the name is empty";
    case STATUS_NAME_TOO_LONG:
        return "the name is longer than WDKM_GRT_MAX_NAME_LENGTH (63) characters";
    case STATUS_INVALID_PARAMETER:
        return "a NULL name";
    case STATUS_WDKM_IRQL_TOO_HIGH:
        return "the caller's IRQL is above DISPATCH_LEVEL, the highest a lookup allows";
    case STATUS_WDKM_NOT_INITIALIZED:
        return "the registry is not initialized (WdkmGrtInitialize not called yet, or "
               "WdkmGrtDestroy finished)";
    case STATUS_DELETE_PENDING:
        return "WdkmGrtDestroy is running: the registry refuses new lookups";
    default:
        return "the lookup was refused";
    }
}

/* What a refusal means, for a reader of the report. */
static
PCSTR
WdkmpDiagMisuseMeaning(
    _In_ NTSTATUS Status
    )
{
    switch (Status) {
    case STATUS_WDKM_IRQL_TOO_HIGH:
        return "the caller's IRQL is above what this lock kind allows (the kernel would "
               "bugcheck IRQL_NOT_LESS_OR_EQUAL, or wait at DISPATCH_LEVEL)";
    case STATUS_WDKM_IRQL_MISMATCH:
        return "the caller is below DISPATCH_LEVEL in an AtDpcLevel form (the kernel would "
               "take the lock without raising, and a DPC could then deadlock on it)";
    case STATUS_POSSIBLE_DEADLOCK:
        return "the calling thread already holds this lock, or the lock-order validator "
               "refused the acquisition (the kernel would spin or wait forever)";
    case STATUS_WDKM_TYPE_MISMATCH:
        return "the handle is a lock of another kind, or the data type's size is not the "
               "value's (the kernel would work on the wrong object)";
    case STATUS_INVALID_PARAMETER:
        return "a NULL lock or output pointer";
    default:
        return "the acquisition was refused";
    }
}

VOID
WdkmpDiagCallbackMisuse(
    _In_opt_ const VOID *Lock,
    _In_ BOOLEAN Lookup,
    _In_opt_z_ PCSTR Name,
    _In_ ULONG Kind,
    _In_ NTSTATUS Status,
    _In_opt_ PVOID Caller,
    _In_opt_z_ PCSTR File,
    _In_ ULONG Line
    )
{
    PWDKMP_LOCK_HEADER Header = WdkmpDiagHeaderOf(Lock);
    CHAR Buffer[WDKM_DIAG_NAME_LENGTH];
    PCSTR Class = Header != NULL ? WdkmpDiagLockClassName(Header, Buffer) : "(not a live lock)";
    PCSTR Doing = "acquiring";
    WDKMP_THREAD Owner = Header != NULL ? WdkmpLoadThread(&Header->Owner) : NULL;
    const WDKMP_DIAG_HELD *Held;
    WDKMP_DIAG_VIEW View;
    ULONG Cursor = 0;

    if (Lookup) {
        /* A registry lookup: the name is the class its lock would have
           (the registry's), however it failed; a NULL name is still a
           lookup's (P2 0), no lock's. */
        Class = Name != NULL ? Name : "(NULL name)";
        Doing = "looking up";
    }
    InterlockedIncrement(&WdkmpDiag.ContextViolations);
    WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                    "wdkmutex: CALLBACK FORM REFUSED: %s %s \"%.64s\" (%s form, lock %p) at "
                    "%s:%u, IRQL %u, called from %p\n",
                    WdkmStatusName(Status), Doing, Class, WdkmpDiagKindName((WDKM_LOCK_KIND)Kind),
                    Lock, WdkmpDiagBaseName(File), (unsigned)Line, (unsigned)WdkmpGetIrql(),
                    Caller);
    WdkmpDebugPrint(WDKMP_DEBUG_ERROR, "wdkmutex:   %s\n",
                    Lookup ? WdkmpDiagLookupMeaning(Status) : WdkmpDiagMisuseMeaning(Status));
    if (Header != NULL && Header->Kind->Kind != (WDKM_LOCK_KIND)Kind) {
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR, "wdkmutex:   the handle is a %s\n",
                        WdkmpDiagKindName(Header->Kind->Kind));
    }
    if (Owner != NULL) {
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR, "wdkmutex:   the lock is held by thread %p%s\n",
                        Owner, Owner == WdkmpCurrentThread() ? " (this thread)" : "");
    }
    /* Every frame: the report is about to stop the system, the whole story
       helps more than telling a DPC's holds from its thread's. */
    WdkmpDiagView(WdkmpGetIrql(), TRUE, &View);
    if (WdkmpDiagViewConfirm(&View)) {
        while ((Held = WdkmpDiagNextHeld(&View, &Cursor)) != NULL) {
            WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                            "wdkmutex:   this thread holds \"%s\", acquired at %s:%u\n",
                            WdkmpDiagClassName(Held->Class), WdkmpDiagBaseName(Held->File),
                            (unsigned)Held->Line);
        }
    }
    WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                    "wdkmutex:   no status can be returned here: stopping the system with bug "
                    "check 0x%08X (status, %s, caller, kind << 8 | IRQL)\n",
                    (unsigned)WDKM_BUGCHECK_LOCK_MISUSE, Lookup ? "name" : "lock");
    WdkmpDiagKeep(WdkmDiagCallbackMisuse, 0, WdkmStatusName(Status), NULL, 0, Class, File, Line);
}

#else

/* Release builds: nothing here (ISO C wants a declaration in every file). */
typedef int WDKMP_DIAG_REPORT_COMPILED_OUT;

#endif /* WDKM_CHECKED */
