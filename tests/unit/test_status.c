/*
 * test_status.c - the library's status codes and their names.
 */
#include "wdkm_test.h"

#include <string.h>

static const struct {
    NTSTATUS Status;
    PCSTR Name;
} OwnCodes[] = {
    { STATUS_WDKM_IRQL_TOO_HIGH, "STATUS_WDKM_IRQL_TOO_HIGH" },
    { STATUS_WDKM_IRQL_MISMATCH, "STATUS_WDKM_IRQL_MISMATCH" },
    { STATUS_WDKM_NOT_OWNER, "STATUS_WDKM_NOT_OWNER" },
    { STATUS_WDKM_NOT_HELD, "STATUS_WDKM_NOT_HELD" },
    { STATUS_WDKM_LOCK_HELD, "STATUS_WDKM_LOCK_HELD" },
    { STATUS_WDKM_TYPE_MISMATCH, "STATUS_WDKM_TYPE_MISMATCH" },
    { STATUS_WDKM_NOT_INITIALIZED, "STATUS_WDKM_NOT_INITIALIZED" },
    { STATUS_WDKM_ALREADY_INITIALIZED, "STATUS_WDKM_ALREADY_INITIALIZED" },
    { STATUS_WDKM_OWNED_BY_REGISTRY, "STATUS_WDKM_OWNED_BY_REGISTRY" },
    { STATUS_WDKM_LEAK_DETECTED, "STATUS_WDKM_LEAK_DETECTED" },
};

/* Customer bit, error severity, our facility, and all distinct. */
static VOID
OwnCodesAreCustomerErrors(VOID)
{
    ULONG Index;
    ULONG Other;

    for (Index = 0; Index < sizeof(OwnCodes) / sizeof(OwnCodes[0]); Index += 1) {
        ULONG Code = (ULONG)OwnCodes[Index].Status;

        CHECK(!NT_SUCCESS(OwnCodes[Index].Status));
        CHECK_EQ(Code >> 30, 3);                       /* severity: error */
        CHECK_EQ((Code >> 29) & 1, 1);                 /* customer code */
        CHECK_EQ((Code >> 16) & 0xFFF, WDKM_FACILITY);
        for (Other = Index + 1; Other < sizeof(OwnCodes) / sizeof(OwnCodes[0]); Other += 1) {
            CHECK(OwnCodes[Index].Status != OwnCodes[Other].Status);
        }
    }
}

static VOID
EveryReturnedStatusHasAName(VOID)
{
    static const struct {
        NTSTATUS Status;
        PCSTR Name;
    } Standard[] = {
        { STATUS_SUCCESS, "STATUS_SUCCESS" },
        { STATUS_TIMEOUT, "STATUS_TIMEOUT" },
        { STATUS_ALERTED, "STATUS_ALERTED" },
        { STATUS_USER_APC, "STATUS_USER_APC" },
        { STATUS_INVALID_PARAMETER, "STATUS_INVALID_PARAMETER" },
        { STATUS_INSUFFICIENT_RESOURCES, "STATUS_INSUFFICIENT_RESOURCES" },
        { STATUS_NOT_SUPPORTED, "STATUS_NOT_SUPPORTED" },
        { STATUS_MUTANT_LIMIT_EXCEEDED, "STATUS_MUTANT_LIMIT_EXCEEDED" },
        { STATUS_POSSIBLE_DEADLOCK, "STATUS_POSSIBLE_DEADLOCK" },
        /* WdkmDiagQueryStatistics, when the caller's array is too small */
        { STATUS_BUFFER_OVERFLOW, "STATUS_BUFFER_OVERFLOW" },
        { STATUS_OBJECT_NAME_COLLISION, "STATUS_OBJECT_NAME_COLLISION" },
        { STATUS_OBJECT_NAME_NOT_FOUND, "STATUS_OBJECT_NAME_NOT_FOUND" },
        { STATUS_DELETE_PENDING, "STATUS_DELETE_PENDING" },
        { STATUS_OBJECT_NAME_INVALID, "STATUS_OBJECT_NAME_INVALID" },
        { STATUS_NAME_TOO_LONG, "STATUS_NAME_TOO_LONG" },
        { STATUS_PENDING, "STATUS_PENDING" },             /* WdkmCsqInsertIrp */
    };
    ULONG Index;

    for (Index = 0; Index < sizeof(OwnCodes) / sizeof(OwnCodes[0]); Index += 1) {
        CHECK(strcmp(WdkmStatusName(OwnCodes[Index].Status), OwnCodes[Index].Name) == 0);
    }
    for (Index = 0; Index < sizeof(Standard) / sizeof(Standard[0]); Index += 1) {
        CHECK(strcmp(WdkmStatusName(Standard[Index].Status), Standard[Index].Name) == 0);
    }
    CHECK(strcmp(WdkmStatusName((NTSTATUS)0xC0DEC0DEUL), "STATUS_<unknown>") == 0);
}

/*
 * Every library code the library names maps to a standard error (no
 * customer bit), so a request completed with it reaches user mode as a
 * known Win32 error; standard statuses pass through unchanged.
 */
static VOID
RequestStatusesAreStandard(VOID)
{
    static const NTSTATUS Standard[] = {
        STATUS_SUCCESS, STATUS_PENDING, STATUS_TIMEOUT, STATUS_INVALID_PARAMETER,
        STATUS_INSUFFICIENT_RESOURCES, STATUS_POSSIBLE_DEADLOCK, STATUS_NOT_SUPPORTED,
        STATUS_OBJECT_NAME_NOT_FOUND, STATUS_DELETE_PENDING,
    };
    ULONG Known = 0;
    ULONG Index;

    for (Index = 1; Index <= 0x100; Index += 1) {
        NTSTATUS Own = (NTSTATUS)(0xE0000000UL | ((ULONG)WDKM_FACILITY << 16) | Index);
        ULONG Mapped = (ULONG)WdkmStatusForRequest(Own);

        if (strcmp(WdkmStatusName(Own), "STATUS_<unknown>") == 0) {
            continue;                       /* not a code of the library */
        }
        Known += 1;
        CHECK_EQ(Mapped >> 30, 3);          /* an error ... */
        CHECK_EQ((Mapped >> 29) & 1, 0);    /* ... of NT's own */
    }
    CHECK(Known >= 10);
    CHECK_EQ((ULONG)WdkmStatusForRequest(STATUS_WDKM_NOT_INITIALIZED), 0xC00000A3UL);
    CHECK_EQ((ULONG)WdkmStatusForRequest(STATUS_WDKM_LOCK_HELD), 0xC0000184UL);
    CHECK_EQ((ULONG)WdkmStatusForRequest(STATUS_WDKM_IRQL_TOO_HIGH), 0xC00000E5UL);
    for (Index = 0; Index < sizeof(Standard) / sizeof(Standard[0]); Index += 1) {
        CHECK_EQ(WdkmStatusForRequest(Standard[Index]), Standard[Index]);
    }
}

static const WDKM_TEST_CASE StatusCases[] = {
    { "request_statuses_are_standard", RequestStatusesAreStandard },
    { "own_codes_are_customer_errors", OwnCodesAreCustomerErrors },
    { "every_returned_status_has_a_name", EveryReturnedStatusHasAName },
};

const WDKM_TEST_SUITE WdkmStatusSuite = WDKM_TEST_SUITE_OF("status", StatusCases);
