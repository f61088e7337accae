/*
 * wdkm_test_kinds.h - one lock of any kind, named by its WDKM_LOCK_KIND,
 * created, held, let go and torn down through the kind's own public
 * functions: for the tests that run the same case over every kind. Shared
 * by the host unit tests and the test driver (public API only).
 *
 * Every function answers STATUS_INVALID_PARAMETER for a kind the library
 * does not have, and otherwise exactly what the kind's function answered.
 */
#ifndef WDKM_TEST_KINDS_H
#define WDKM_TEST_KINDS_H

#include <wdkmutex/wdkmutex.h>

/* A hold taken by WdkmTestKindAcquire, for WdkmTestKindRelease. */
typedef struct _WDKM_TEST_KIND_HOLD {
    WDKM_LOCK_KIND Kind;
    PVOID Lock;
    BOOLEAN Shared;                  /* ERESOURCE, push lock: a shared hold */
    KIRQL OldIrql;                   /* spin lock: the IRQL before */
    WDKM_LOCK_QUEUE_HANDLE Queue;    /* queued spin lock */
} WDKM_TEST_KIND_HOLD;

/* The kind's Create, a copy of DataSize bytes at Initial. */
_Must_inspect_result_
NTSTATUS
WdkmTestKindCreate(
    _In_ WDKM_LOCK_KIND Kind,
    _In_reads_bytes_(DataSize) const VOID *Initial,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Lock
    );

/* The kind's Destroy. */
NTSTATUS
WdkmTestKindDestroy(
    _In_ WDKM_LOCK_KIND Kind,
    _In_opt_ PVOID Lock
    );

/* The kind's Take: the value into Value (DataSize bytes), then Destroy. */
NTSTATUS
WdkmTestKindTake(
    _In_ WDKM_LOCK_KIND Kind,
    _In_opt_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_(DataSize) PVOID Value
    );

/* The kind's DestroyWith. */
NTSTATUS
WdkmTestKindDestroyWith(
    _In_ WDKM_LOCK_KIND Kind,
    _In_opt_ PVOID Lock,
    _In_ SIZE_T DataSize,
    _In_opt_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID Context
    );

/*
 * The kind's plain acquisition of Hold->Lock (Hold->Kind): exclusive, or
 * shared where Hold->Shared asks and the kind has shared holds; a spin
 * lock's old IRQL and a queued spin lock's handle kept in Hold. A
 * blocking kind blocks, as its Acquire does. *Data as the kind's.
 */
NTSTATUS
WdkmTestKindAcquire(
    _Inout_ WDKM_TEST_KIND_HOLD *Hold,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    );

/* The release of a hold WdkmTestKindAcquire took. */
NTSTATUS
WdkmTestKindRelease(
    _Inout_ WDKM_TEST_KIND_HOLD *Hold
    );

#endif /* WDKM_TEST_KINDS_H */
