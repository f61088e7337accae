/*
 * wdkm_diag_stats.c - contention statistics (checked builds): figures
 * kept per lock by its holders, added up per class when queried.
 */
#include "wdkm_diag_private.h"

#if WDKM_CHECKED

#if defined(_MSC_VER)
#define WDKMP_U64 "I64u"
#else
#define WDKMP_U64 "llu"
#endif

/*
 * Figures are updated by the lock's holder: an exclusive holder is alone
 * and adds with a plain load and store; shared holders (Shared) may update
 * at the same time and use interlocked operations. Readers load whole
 * words (WdkmpLoadLong64). This keeps locked instructions off the
 * uncontended exclusive path.
 */
static
VOID
WdkmpDiagAdd64(
    _Inout_ LONG64 volatile *Figure,
    _In_ LONG64 Value,
    _In_ BOOLEAN Shared
    )
{
    if (Shared) {
        (VOID)InterlockedExchangeAdd64(Figure, Value);
    } else {
        WdkmpStoreLong64(Figure, WdkmpLoadLong64(Figure) + Value);
    }
}

VOID
WdkmpDiagMax64(
    _Inout_ LONG64 volatile *Maximum,
    _In_ LONG64 Value,
    _In_ BOOLEAN Shared
    )
{
    LONG64 Seen = WdkmpLoadLong64(Maximum);

    if (!Shared) {
        if (Value > Seen) {
            WdkmpStoreLong64(Maximum, Value);
        }
        return;
    }
    while (Value > Seen) {
        LONG64 Before = InterlockedCompareExchange64(Maximum, Value, Seen);
        if (Before == Seen) {
            break;
        }
        Seen = Before;
    }
}

/* One acquisition into Figures: contended ones with their wait (ticks). */
VOID
WdkmpDiagCountAcquisition(
    _Inout_ WDKMP_DIAG_FIGURES *Figures,
    _In_ BOOLEAN Contended,
    _In_ LONG64 Wait,
    _In_ BOOLEAN Shared
    )
{
    WdkmpDiagAdd64(&Figures->Acquisitions, 1, Shared);
    if (Contended) {
        WdkmpDiagAdd64(&Figures->Contended, 1, Shared);
        WdkmpDiagAdd64(&Figures->TotalWait, Wait, Shared);
        WdkmpDiagMax64(&Figures->MaxWait, Wait, Shared);
    }
}

/* Adds the figures From into Into (maxima as maxima). Under the lock. */
VOID
WdkmpDiagAddFigures(
    _Inout_ WDKMP_DIAG_FIGURES *Into,
    _In_ const WDKMP_DIAG_FIGURES *From
    )
{
    WdkmpDiagAdd64(&Into->Acquisitions, WdkmpLoadLong64(&From->Acquisitions), FALSE);
    WdkmpDiagAdd64(&Into->Contended, WdkmpLoadLong64(&From->Contended), FALSE);
    WdkmpDiagAdd64(&Into->TotalWait, WdkmpLoadLong64(&From->TotalWait), FALSE);
    WdkmpDiagMax64(&Into->MaxWait, WdkmpLoadLong64(&From->MaxWait), FALSE);
    WdkmpDiagMax64(&Into->MaxHold, WdkmpLoadLong64(&From->MaxHold), FALSE);
}

VOID
WdkmpDiagClearFigures(
    _Out_ WDKMP_DIAG_FIGURES *Figures
    )
{
    WdkmpStoreLong64(&Figures->Acquisitions, 0);
    WdkmpStoreLong64(&Figures->Contended, 0);
    WdkmpStoreLong64(&Figures->TotalWait, 0);
    WdkmpStoreLong64(&Figures->MaxWait, 0);
    WdkmpStoreLong64(&Figures->MaxHold, 0);
}

static
VOID
WdkmpDiagFillStatistics(
    _Out_ PWDKM_DIAG_STATISTICS Statistics,
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ ULONG Locks,
    _In_ const WDKMP_DIAG_FIGURES *Figures
    )
{
    ULONG Length = 0;

    WdkmpDiagAppend(Statistics->Name, &Length, Name);
    Statistics->Kind = Kind;
    Statistics->Locks = Locks;
    Statistics->Acquisitions = (ULONG64)WdkmpLoadLong64(&Figures->Acquisitions);
    Statistics->Contended = (ULONG64)WdkmpLoadLong64(&Figures->Contended);
    Statistics->TotalWaitNs = WdkmpTimestampToNs((ULONG64)WdkmpLoadLong64(&Figures->TotalWait));
    Statistics->MaxWaitNs = WdkmpTimestampToNs((ULONG64)WdkmpLoadLong64(&Figures->MaxWait));
    Statistics->MaxHoldNs = WdkmpTimestampToNs((ULONG64)WdkmpLoadLong64(&Figures->MaxHold));
}

NTSTATUS
WdkmDiagQueryLockStatistics(
    _In_ const VOID *Lock,
    _Out_ PWDKM_DIAG_STATISTICS Statistics
    )
{
    PWDKMP_LOCK_HEADER Header = WdkmpDiagHeaderOf(Lock);
    CHAR Buffer[WDKM_DIAG_NAME_LENGTH];
    KIRQL OldIrql;

    if (Header == NULL || Statistics == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;     /* the validator's spin lock */
    }
    RtlZeroMemory(Statistics, sizeof(*Statistics));
    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    WdkmpDiagFillStatistics(Statistics, WdkmpDiagLockClassName(Header, Buffer),
                            Header->Kind->Kind, 1, &Header->Diag.Figures);
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmDiagQueryStatistics(
    _Out_writes_opt_(Capacity) PWDKM_DIAG_STATISTICS Classes,
    _In_ ULONG Capacity,
    _Out_ PULONG Count,
    _In_ BOOLEAN Print
    )
{
    WDKM_DIAG_STATISTICS Row;
    PWDKMP_LOCK_HEADER Header;
    ULONG Found = 0;
    KIRQL OldIrql;
    LONG Index;

    if (Count == NULL || (Classes == NULL && Capacity > 0)) {
        return STATUS_INVALID_PARAMETER;
    }
    *Count = 0;
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;     /* the validator's spin lock */
    }
    if (Print) {
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: lock statistics, per class (times in microseconds)\n");
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: %-28s %-16s %5s %10s %9s %10s %9s %9s\n", "class", "kind", "locks",
                        "acquired", "contended", "wait", "max wait", "max hold");
    }
    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        WdkmpDiag.Totals[Index] = WdkmpDiag.Classes[Index].Retired;
    }
    for (Header = WdkmpDiag.Live; Header != NULL; Header = Header->Diag.Next) {
        if (Header->Diag.Class >= 0) {
            WdkmpDiagAddFigures(&WdkmpDiag.Totals[Header->Diag.Class], &Header->Diag.Figures);
        }
    }
    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        WDKMP_DIAG_CLASS *Class = &WdkmpDiag.Classes[Index];
        if (!Class->InUse || WdkmpDiag.Totals[Index].Acquisitions == 0) {
            continue;
        }
        RtlZeroMemory(&Row, sizeof(Row));
        WdkmpDiagFillStatistics(&Row, Class->Name, Class->Kind, (ULONG)Class->Locks,
                                &WdkmpDiag.Totals[Index]);
        if (Found < Capacity) {
            Classes[Found] = Row;
        }
        Found += 1;
        if (Print) {
            WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                            "wdkmutex: %-28s %-16s %5u %10" WDKMP_U64 " %9" WDKMP_U64
                            " %10" WDKMP_U64 " %9" WDKMP_U64 " %9" WDKMP_U64 "\n",
                            Row.Name, WdkmpDiagKindName(Row.Kind), (unsigned)Row.Locks,
                            (unsigned long long)Row.Acquisitions,
                            (unsigned long long)Row.Contended,
                            (unsigned long long)(Row.TotalWaitNs / 1000),
                            (unsigned long long)(Row.MaxWaitNs / 1000),
                            (unsigned long long)(Row.MaxHoldNs / 1000));
        }
    }
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
    *Count = Found;
    return Found > Capacity ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

VOID
WdkmpDiagStatisticsReset(
    VOID
    )
{
    PWDKMP_LOCK_HEADER Header;

    for (Header = WdkmpDiag.Live; Header != NULL; Header = Header->Diag.Next) {
        WdkmpDiagClearFigures(&Header->Diag.Figures);
    }
}

#else

/* Release builds: nothing here (ISO C wants a declaration in every file). */
typedef int WDKMP_DIAG_STATS_COMPILED_OUT;

#endif /* WDKM_CHECKED */
