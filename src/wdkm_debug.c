/*
 * wdkm_debug.c - the component id and levels of the library's debugger
 * output (wdkm_debug.h).
 */
#include "wdkm_internal.h"

/* LONG, so that every read is one atomic load (WdkmpLoadLong). */
LONG WdkmpDebugComponent = (LONG)WDKM_DEBUG_DEFAULT_COMPONENT;
LONG WdkmpDebugLevels = (LONG)WDKM_DEBUG_DEFAULT_LEVEL + 1;

NTSTATUS
WdkmDebugSetOutput(
    _In_ ULONG ComponentId,
    _In_ ULONG MaxLevel
    )
{
    if (MaxLevel > 31 && MaxLevel != WDKM_DEBUG_OFF) {
        return STATUS_INVALID_PARAMETER;
    }
    InterlockedExchange(&WdkmpDebugComponent, (LONG)ComponentId);
    InterlockedExchange(&WdkmpDebugLevels, MaxLevel == WDKM_DEBUG_OFF ? 0 : (LONG)MaxLevel + 1);
    return STATUS_SUCCESS;
}

VOID
WdkmDebugQueryOutput(
    _Out_opt_ PULONG ComponentId,
    _Out_opt_ PULONG MaxLevel
    )
{
    LONG Levels = WdkmpLoadLong(&WdkmpDebugLevels);

    if (ComponentId != NULL) {
        *ComponentId = (ULONG)WdkmpLoadLong(&WdkmpDebugComponent);
    }
    if (MaxLevel != NULL) {
        *MaxLevel = Levels == 0 ? WDKM_DEBUG_OFF : (ULONG)Levels - 1;
    }
}
