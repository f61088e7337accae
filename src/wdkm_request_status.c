/*
 * wdkm_request_status.c - the library's own statuses turned into standard
 * ones, for completing a request.
 *
 * STATUS_WDKM_* are customer codes: put into an IRP's IoStatus they reach
 * user mode as no Win32 error at all (Windows: ERROR_MR_MID_NOT_FOUND, "the
 * system cannot find message text"; Wine 8: the status itself, measured by
 * tests/package). Each is mapped to the standard status
 * that says the same to the requester: a library misuse is the driver's
 * internal error, a lock busy or a registry in the wrong state is the
 * device's state, a registry not yet set up is a device not ready.
 */
#include "wdkm_internal.h"

/* Not in every header set the library is built against; NT's values. */
#ifndef STATUS_DEVICE_NOT_READY
#define STATUS_DEVICE_NOT_READY ((NTSTATUS)0xC00000A3L)
#endif
#ifndef STATUS_INTERNAL_ERROR
#define STATUS_INTERNAL_ERROR ((NTSTATUS)0xC00000E5L)
#endif

NTSTATUS
WdkmStatusForRequest(
    _In_ NTSTATUS Status
    )
{
    switch (Status) {
    case STATUS_WDKM_NOT_INITIALIZED:
        return STATUS_DEVICE_NOT_READY;             /* ERROR_NOT_READY */
    case STATUS_WDKM_LOCK_HELD:
    case STATUS_WDKM_ALREADY_INITIALIZED:
        return STATUS_INVALID_DEVICE_STATE;         /* ERROR_BAD_COMMAND */
    case STATUS_WDKM_IRQL_TOO_HIGH:
    case STATUS_WDKM_IRQL_MISMATCH:
    case STATUS_WDKM_NOT_OWNER:
    case STATUS_WDKM_NOT_HELD:
    case STATUS_WDKM_TYPE_MISMATCH:
    case STATUS_WDKM_OWNED_BY_REGISTRY:
    case STATUS_WDKM_LEAK_DETECTED:
        return STATUS_INTERNAL_ERROR;               /* ERROR_INTERNAL_ERROR */
    default:
        return Status;                              /* already standard */
    }
}
