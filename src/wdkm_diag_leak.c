/*
 * wdkm_diag_leak.c - the validator's summary and the leak check at unload
 * (checked builds): locks never destroyed, regions never left, library
 * pool still outstanding.
 */
#include "wdkm_diag_private.h"

#if WDKM_CHECKED

/* Summary figures; with Print, each leaked lock and unbalanced thread too. */
static
VOID
WdkmpDiagSummarize(
    _Out_ PWDKM_DIAG_SUMMARY Summary,
    _In_ BOOLEAN Print
    )
{
    WDKM_POOL_STATISTICS Pool;
    PWDKMP_LOCK_HEADER Header;
    KIRQL OldIrql;
    ULONG Index;

    RtlZeroMemory(Summary, sizeof(*Summary));
    Summary->OrderViolations = (ULONG)WdkmpLoadLong(&WdkmpDiag.OrderViolations);
    Summary->ContextViolations = (ULONG)WdkmpLoadLong(&WdkmpDiag.ContextViolations);
    Summary->AssertFailures = (ULONG)WdkmpLoadLong(&WdkmpDiag.AssertFailures);
    Summary->Untracked = (ULONG)WdkmpLoadLong(&WdkmpDiag.Untracked);

    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    for (Header = WdkmpDiag.Live; Header != NULL; Header = Header->Diag.Next) {
        BOOLEAN Held = WdkmpLockIsHeld(Header);
        CHAR Buffer[WDKM_DIAG_NAME_LENGTH];
        Summary->LiveLocks += 1;
        Summary->HeldLocks += Held ? 1 : 0;
        if (Print) {
            WdkmpDebugPrint(WDKMP_DEBUG_ERROR, "wdkmutex: LEAK: %s \"%s\" never destroyed%s%s\n",
                            WdkmpDiagKindName(Header->Kind->Kind),
                            WdkmpDiagLockClassName(Header, Buffer),
                            Held ? ", still held" : "",
                            Header->RegistryEntry != NULL ? " (registry not destroyed)" : "");
            WdkmpDiagKeep(WdkmDiagLeakedLock, 0, WdkmpDiagLockClassName(Header, Buffer), NULL,
                          0, WdkmpDiagKindName(Header->Kind->Kind), NULL, 0);
        }
    }
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);

    for (Index = 0; Index < WDKM_DIAG_MAX_THREADS; Index += 1) {
        const WDKMP_DIAG_THREAD *Record = &WdkmpDiagThreads[Index];
        PVOID Thread = WdkmpLoadPointerAcquire((PVOID const volatile *)&Record->Thread);
        LONG Regions = WdkmpLoadLong(&Record->Regions);
        if (Thread == NULL || Regions <= 0) {
            continue;
        }
        Summary->UnbalancedRegions += (ULONG)Regions;
        if (Print) {
            WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                            "wdkmutex: LEAK: thread %p left %d critical/guarded region(s) entered\n",
                            Thread, (int)Regions);
        }
    }

    WdkmQueryPoolStatistics(&Pool);
    Summary->PoolBlocks = (SIZE_T)Pool.OutstandingBlocks;
    Summary->PoolBytes = (SIZE_T)Pool.OutstandingBytes;
}

NTSTATUS
WdkmDiagQuerySummary(
    _Out_ PWDKM_DIAG_SUMMARY Summary
    )
{
    if (Summary == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    WdkmpDiagSummarize(Summary, FALSE);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmDiagLeakCheck(
    _Out_opt_ PWDKM_DIAG_SUMMARY Summary
    )
{
    WDKM_DIAG_SUMMARY Local;
    BOOLEAN Leaked;

    if (WdkmpGetIrql() != PASSIVE_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    WdkmpDiagSummarize(&Local, TRUE);
    Leaked = Local.LiveLocks != 0 || Local.UnbalancedRegions != 0 || Local.PoolBlocks != 0;
    WdkmpDebugPrint(Leaked ? WDKMP_DEBUG_ERROR : WDKMP_DEBUG_TRACE,
                    "wdkmutex: leak check: %s: %u lock(s) not destroyed (%u held), %u region(s) "
                    "not left, %u pool block(s) / %u bytes outstanding; %u order and %u "
                    "context violation(s), %u failed assertion(s) during the run\n",
                    Leaked ? "LEAKS FOUND" : "clean", (unsigned)Local.LiveLocks, (unsigned)Local.HeldLocks,
                    (unsigned)Local.UnbalancedRegions, (unsigned)Local.PoolBlocks, (unsigned)Local.PoolBytes,
                    (unsigned)Local.OrderViolations, (unsigned)Local.ContextViolations, (unsigned)Local.AssertFailures);
    if (Summary != NULL) {
        *Summary = Local;
    }
    return Leaked ? STATUS_WDKM_LEAK_DETECTED : STATUS_SUCCESS;
}

#else

/* Release builds: nothing here (ISO C wants a declaration in every file). */
typedef int WDKMP_DIAG_LEAK_COMPILED_OUT;

#endif /* WDKM_CHECKED */
