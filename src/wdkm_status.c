/*
 * wdkm_status.c - names for the statuses the library returns, for logs.
 */
#include "wdkm_internal.h"

typedef struct _WDKMP_STATUS_NAME {
    NTSTATUS Status;
    PCSTR Name;
} WDKMP_STATUS_NAME;

#define WDKMP_NAME(Status) { Status, #Status }

static const WDKMP_STATUS_NAME WdkmpStatusNames[] = {
    WDKMP_NAME(STATUS_SUCCESS),
    WDKMP_NAME(STATUS_TIMEOUT),
    WDKMP_NAME(STATUS_ALERTED),
    WDKMP_NAME(STATUS_USER_APC),
    WDKMP_NAME(STATUS_INVALID_PARAMETER),
    WDKMP_NAME(STATUS_INSUFFICIENT_RESOURCES),
    WDKMP_NAME(STATUS_NOT_SUPPORTED),
    WDKMP_NAME(STATUS_MUTANT_LIMIT_EXCEEDED),
    WDKMP_NAME(STATUS_POSSIBLE_DEADLOCK),
    WDKMP_NAME(STATUS_OBJECT_NAME_COLLISION),
    WDKMP_NAME(STATUS_OBJECT_NAME_NOT_FOUND),
    WDKMP_NAME(STATUS_WDKM_IRQL_TOO_HIGH),
    WDKMP_NAME(STATUS_WDKM_IRQL_MISMATCH),
    WDKMP_NAME(STATUS_WDKM_NOT_OWNER),
    WDKMP_NAME(STATUS_WDKM_NOT_HELD),
    WDKMP_NAME(STATUS_WDKM_LOCK_HELD),
    WDKMP_NAME(STATUS_WDKM_TYPE_MISMATCH),
    WDKMP_NAME(STATUS_WDKM_NOT_INITIALIZED),
    WDKMP_NAME(STATUS_WDKM_ALREADY_INITIALIZED),
};

PCSTR
WdkmStatusName(
    _In_ NTSTATUS Status
    )
{
    ULONG Index;

    for (Index = 0; Index < sizeof(WdkmpStatusNames) / sizeof(WdkmpStatusNames[0]); Index += 1) {
        if (WdkmpStatusNames[Index].Status == Status) {
            return WdkmpStatusNames[Index].Name;
        }
    }
    return "STATUS_<unknown>";
}
