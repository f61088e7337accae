/*
 * wdkm_diag.c - the checked build's validator: the hooks every lock kind
 * calls around its acquisitions and releases (wdkm_diag_hooks.h), the
 * policy, and WdkmDiagReset. The jobs behind the hooks live in their own
 * files (wdkm_diag_private.h lists them).
 *
 * An acquisition: BeforeAcquire checks the context (a wait under a spin
 * lock) and the order against what the running context holds, without
 * claiming anything; AfterAcquire counts the statistics and pushes the
 * hold into the frame of the IRQL the acquisition started at. A release:
 * BeforeRelease pops the hold (and measures it), AfterRelease parks the
 * thread's record once it holds nothing.
 */
#include "wdkm_diag_private.h"

#if WDKM_CHECKED

WDKMP_DIAG_STATE WdkmpDiag;

/* BeforeRelease's answer: the record, with this bit when it marked it. */
#define WDKMP_DIAG_RELEASE_MARKED ((ULONG_PTR)1)

NTSTATUS
WdkmDiagSetPolicy(
    _In_ ULONG Flags
    )
{
    if ((Flags & ~(WDKM_DIAG_REFUSE | WDKM_DIAG_TIME_HOLDS)) != 0) {
        return STATUS_INVALID_PARAMETER;
    }
    InterlockedExchange(&WdkmpDiag.Policy, (LONG)Flags);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmDiagReset(
    VOID
    )
{
    KIRQL OldIrql;

    if (WdkmpGetIrql() != PASSIVE_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    WdkmpDiagOrderReset();
    WdkmpDiagClassesReset();
    WdkmpDiagStatisticsReset();
    InterlockedExchange(&WdkmpDiag.OrderViolations, 0);
    InterlockedExchange(&WdkmpDiag.ContextViolations, 0);
    InterlockedExchange(&WdkmpDiag.AssertFailures, 0);
    InterlockedExchange(&WdkmpDiag.Untracked, 0);
    WdkmpDiagViolationsReset();
    InterlockedExchange(&WdkmpDiag.Warned, 0);
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * The hooks.
 */

/*
 * Reports a waiting acquisition of Header while the thread holds a spin
 * lock; TRUE if it does. On Windows the IRQL rule refuses it anyway (the
 * report says which spin lock raised it); where the IRQL is not tracked
 * (Wine) this is the only check.
 */
static
BOOLEAN
WdkmpDiagWaitUnderSpinLock(
    _In_ const WDKMP_DIAG_VIEW *View,
    _In_ PWDKMP_LOCK_HEADER Header,
    _In_opt_z_ PCSTR File,
    _In_ ULONG Line,
    _In_ BOOLEAN Refused
    )
{
    const WDKMP_DIAG_HELD *Held;
    ULONG Cursor = 0;
    CHAR Buffer[WDKM_DIAG_NAME_LENGTH];
    PCSTR Name = WdkmpDiagLockClassName(Header, Buffer);

    while ((Held = WdkmpDiagNextHeld(View, &Cursor)) != NULL) {
        if ((Held->Flags & WDKMP_DIAG_SPIN) == 0) {
            continue;
        }
        InterlockedIncrement(&WdkmpDiag.ContextViolations);
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: CONTEXT VIOLATION: waiting for \"%s\" at %s:%u while holding "
                        "spin lock \"%s\" (acquired at %s:%u)%s\n",
                        Name, WdkmpDiagBaseName(File), (unsigned)Line,
                        WdkmpDiagClassName(Held->Class), WdkmpDiagBaseName(Held->File),
                        (unsigned)Held->Line, Refused ? "; refused" : "");
        WdkmpDiagKeep(WdkmDiagWaitUnderSpinLock, 0, WdkmpDiagClassName(Held->Class), Held->File,
                      Held->Line, Name, File, Line);
        return TRUE;
    }
    return FALSE;
}

VOID
WdkmpDiagIrqlTooHigh(
    _In_ PWDKMP_LOCK_HEADER Header
    )
{
    WDKMP_DIAG_VIEW View;
    PCSTR File;
    ULONG Line;

    WdkmpDiagReadSite(Header, TRUE, &File, &Line);
    WdkmpDiagView(WdkmpGetIrql(), FALSE, &View);
    if (WdkmpDiagViewConfirm(&View)) {
        (VOID)WdkmpDiagWaitUnderSpinLock(&View, Header, File, Line, TRUE);
    }
}

NTSTATUS
WdkmpDiagBeforeAcquire(
    _In_ PWDKMP_LOCK_HEADER Header,
    _In_ ULONG Flags,
    _Out_ PWDKMP_DIAG_ACQUIRE Diag
    )
{
    LONG Policy = WdkmpLoadLong(&WdkmpDiag.Policy);
    BOOLEAN Refuse = (Policy & WDKM_DIAG_REFUSE) != 0;
    KIRQL Irql = WdkmpGetIrql();
    WDKMP_DIAG_VIEW View;
    NTSTATUS Status = STATUS_SUCCESS;

    Diag->Flags = Flags | ((Policy & WDKM_DIAG_TIME_HOLDS) != 0 ? WDKMP_DIAG_TIMED : 0);
    Diag->Frame = Irql >= DISPATCH_LEVEL ? WDKMP_DIAG_FRAME_HIGH : WDKMP_DIAG_FRAME_LOW;
    Diag->Irql = Irql;
    Diag->Contended = FALSE;
    Diag->WaitStart = 0;
    WdkmpDiagReadSite(Header, TRUE, &Diag->File, &Diag->Line);
    /* Only read here: a thread that holds nothing has nothing to check. */
    WdkmpDiagView(Irql, FALSE, &View);
    if (!WdkmpDiagViewConfirm(&View)) {
        return STATUS_SUCCESS;
    }
    if ((Flags & WDKMP_DIAG_WAITS) != 0 &&
        WdkmpDiagWaitUnderSpinLock(&View, Header, Diag->File, Diag->Line, Refuse) && Refuse) {
        Status = STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (Status == STATUS_SUCCESS && (Flags & WDKMP_DIAG_TRY) == 0) {
        Status = WdkmpDiagCheckOrder(&View, Header, Diag);
    }
    return Status;
}

VOID
WdkmpDiagWaitBegins(
    _Inout_ PWDKMP_DIAG_ACQUIRE Diag,
    _In_ BOOLEAN Known
    )
{
    if (Known) {
        Diag->Contended = TRUE;
        Diag->WaitStart = WdkmpTimestamp();
    }
}

VOID
WdkmpDiagAfterAcquire(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _Inout_ PWDKMP_DIAG_ACQUIRE Diag,
    _In_ BOOLEAN Acquired
    )
{
    PWDKMP_DIAG_THREAD Record;
    BOOLEAN Marked;
    ULONG64 Now = 0;
    LONG64 Wait = 0;

    if (!Acquired) {
        return;
    }
    /* A lock alone takes its class's place now, before it counts. */
    (VOID)WdkmpDiagLockClass(Header);
    /* The clock is read only for a wait or a timed hold: an uncontended
       acquisition without WDKM_DIAG_TIME_HOLDS reads it not at all. */
    if (Diag->Contended || (Diag->Flags & WDKMP_DIAG_TIMED) != 0) {
        Now = WdkmpTimestamp();
        Wait = Diag->Contended ? (LONG64)(Now - Diag->WaitStart) : 0;
    }
    WdkmpDiagCountAcquisition(&Header->Diag.Figures, Diag->Contended, Wait,
                              (Diag->Flags & WDKMP_DIAG_SHARED) != 0);
    /* Marked busy until the push is in: a DPC or special kernel APC on
       this thread meanwhile does not park it. */
    Record = WdkmpDiagTakeThread(&Marked);
    if (Record == NULL) {
        InterlockedIncrement(&WdkmpDiag.Untracked);
        return;
    }
    WdkmpDiagPush(Record, Diag->Frame, Header, WdkmpLoadLong(&Header->Diag.Class), Diag, Now);
    WdkmpDiagTaken(Record, Marked);
}

PVOID
WdkmpDiagBeforeRelease(
    _Inout_ PWDKMP_LOCK_HEADER Header
    )
{
    KIRQL Irql = WdkmpGetIrql();
    WDKMP_DIAG_VIEW View;
    WDKMP_DIAG_HELD Held;
    BOOLEAN Marked;

    /* A hold to pop makes the record the thread's, and keeps it so; marked
       busy until AfterRelease parks it, nothing else parks it meanwhile. */
    WdkmpDiagView(Irql, TRUE, &View);
    if (!WdkmpDiagViewMark(&View, &Marked)) {
        return NULL;
    }
    if (WdkmpDiagPop(View.Record, Irql, Header, &Held) &&
        (Held.Flags & WDKMP_DIAG_TIMED) != 0) {
        WdkmpDiagMax64(&Header->Diag.Figures.MaxHold,
                       (LONG64)(WdkmpTimestamp() - Held.AcquiredAt),
                       (Held.Flags & WDKMP_DIAG_SHARED) != 0);
    }
    /* Only a release that set the mark ends it (records are aligned). */
    return Marked ? (PVOID)((ULONG_PTR)View.Record | WDKMP_DIAG_RELEASE_MARKED) : NULL;
}

VOID
WdkmpDiagAfterRelease(
    _In_opt_ PVOID Thread
    )
{
    if (((ULONG_PTR)Thread & WDKMP_DIAG_RELEASE_MARKED) != 0) {
        WdkmpDiagPutMarked(
            (PWDKMP_DIAG_THREAD)((ULONG_PTR)Thread & ~(ULONG_PTR)WDKMP_DIAG_RELEASE_MARKED));
    }
}

#else

/* Release builds: nothing here (ISO C wants a declaration in every file). */
typedef int WDKMP_DIAG_COMPILED_OUT;

#endif /* WDKM_CHECKED */
