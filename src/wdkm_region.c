/*
 * wdkm_region.c - critical and guarded regions with a per-entry token, so
 * that an unbalanced leave is reported instead of corrupting the thread's
 * APC-disable count.
 */
#include "wdkm_internal.h"

#define WDKMP_REGION_CRITICAL 0x52437257UL   /* 'WrCR' */
#define WDKMP_REGION_GUARDED  0x52477257UL   /* 'WrGR' */

static
NTSTATUS
WdkmpRegionEnter(
    _Out_ PWDKM_REGION Region,
    _In_ BOOLEAN Guarded
    )
{
    if (Region == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Region->Kind = 0;
    Region->Thread = NULL;
    if (WdkmpGetIrql() > APC_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    WdkmpEnterRegion(Guarded);
    Region->Kind = Guarded ? WDKMP_REGION_GUARDED : WDKMP_REGION_CRITICAL;
    Region->Thread = WdkmpCurrentThread();
    WdkmpDiagRegion(1);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmRegionEnterCritical(
    _Out_ PWDKM_REGION Region
    )
{
    return WdkmpRegionEnter(Region, FALSE);
}

NTSTATUS
WdkmRegionEnterGuarded(
    _Out_ PWDKM_REGION Region
    )
{
    return WdkmpRegionEnter(Region, TRUE);
}

NTSTATUS
WdkmRegionLeave(
    _Inout_ PWDKM_REGION Region
    )
{
    BOOLEAN Guarded;

    if (Region == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > APC_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (Region->Kind != WDKMP_REGION_CRITICAL && Region->Kind != WDKMP_REGION_GUARDED) {
        return STATUS_WDKM_NOT_HELD;
    }
    if (Region->Thread != WdkmpCurrentThread()) {
        return STATUS_WDKM_NOT_OWNER;
    }
    Guarded = (BOOLEAN)(Region->Kind == WDKMP_REGION_GUARDED);
    Region->Kind = 0;
    Region->Thread = NULL;
    /* Recorded left first: the leave delivers the kernel APCs the region
       held off, and they run as this thread with the region left. */
    WdkmpDiagRegion(-1);
    WdkmpLeaveRegion(Guarded);
    return STATUS_SUCCESS;
}

/*
 * The scope cannot hold a WDKM_REGION, so it keeps what one holds: the
 * entering thread in Lock, the region kind in SavedIrql.
 */
static
NTSTATUS
WdkmpRegionScopeRelease(
    _Inout_ PWDKM_SCOPE Scope
    )
{
    WDKM_REGION Region;

    Region.Kind = Scope->SavedIrql != 0 ? WDKMP_REGION_GUARDED : WDKMP_REGION_CRITICAL;
    Region.Thread = Scope->Lock;
    return WdkmRegionLeave(&Region);
}

WDKM_SCOPE
WdkmRegionScopeEnter(
    _In_ BOOLEAN Guarded,
    _Out_ NTSTATUS *Status
    )
{
    WDKM_REGION Region;
    WDKM_SCOPE Scope;

    if (Status == NULL) {
        return WdkmpScopeNone(NULL);    /* no region entered: nobody could learn why */
    }
    Scope = WdkmpScopeResult(NULL, WdkmpRegionScopeRelease, WdkmpRegionEnter(&Region, Guarded),
                             Status);
    Scope.Lock = *Status == STATUS_SUCCESS ? Region.Thread : NULL;
    Scope.SavedIrql = Guarded ? 1 : 0;
    return Scope;
}
