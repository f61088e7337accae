/*
 * wdkm_debug.h - where the library's debugger output goes.
 *
 * The library prints through DbgPrintEx: the registry's teardown report,
 * and in checked builds (wdkm_diag.h) violations, leak reports and the
 * statistics table. Every line starts with WDKM_DEBUG_PREFIX, "wdkmutex: "
 * (a filter or a log search may look for it). By default it uses
 * component DPFLTR_IHVDRIVER_ID and prints every level; a driver may move
 * it to its own component id (so the kernel's per-component filter, e.g.
 * the Debug Print Filter registry key or `ed nt!Kd_IHVDRIVER_Mask`, applies
 * to it separately) and choose the highest level it prints.
 *
 * Levels (DbgPrintEx's own):
 *   WDKM_DEBUG_ERROR    violations, leaks, reports asked for (statistics)
 *   WDKM_DEBUG_WARNING  conditions worth knowing: a validator table full,
 *                       a registry lock leaked at teardown
 *   WDKM_DEBUG_TRACE    lifecycle events (checked builds)
 *   WDKM_DEBUG_INFO     everything
 */
#ifndef WDKM_DEBUG_H
#define WDKM_DEBUG_H

#include "wdkm_base.h"

WDKM_EXTERN_C_BEGIN

#define WDKM_DEBUG_ERROR   DPFLTR_ERROR_LEVEL
#define WDKM_DEBUG_WARNING DPFLTR_WARNING_LEVEL
#define WDKM_DEBUG_TRACE   DPFLTR_TRACE_LEVEL
#define WDKM_DEBUG_INFO    DPFLTR_INFO_LEVEL
/* What every line the library prints starts with. */
#define WDKM_DEBUG_PREFIX "wdkmutex: "

/* As MaxLevel: print nothing at all. */
#define WDKM_DEBUG_OFF     0xFFFFFFFFUL

/* The defaults, in effect until WdkmDebugSetOutput is called. */
#define WDKM_DEBUG_DEFAULT_COMPONENT DPFLTR_IHVDRIVER_ID
#define WDKM_DEBUG_DEFAULT_LEVEL     WDKM_DEBUG_INFO

/*
 * WdkmDebugSetOutput - print with ComponentId, and only messages whose
 * level is at most MaxLevel (WDKM_DEBUG_OFF: none).
 * IRQL: any. Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER for a
 * MaxLevel above 31 other than WDKM_DEBUG_OFF. Call it once, early
 * (DriverEntry): messages already being printed use the old setting.
 */
_Must_inspect_result_
_IRQL_requires_max_(HIGH_LEVEL)
NTSTATUS
WdkmDebugSetOutput(
    _In_ ULONG ComponentId,
    _In_ ULONG MaxLevel
    );

/*
 * WdkmDebugQueryOutput - the current component id and highest level.
 * IRQL: any. Either pointer may be NULL.
 */
_IRQL_requires_max_(HIGH_LEVEL)
VOID
WdkmDebugQueryOutput(
    _Out_opt_ PULONG ComponentId,
    _Out_opt_ PULONG MaxLevel
    );

WDKM_EXTERN_C_END

#endif /* WDKM_DEBUG_H */
