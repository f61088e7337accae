/*
 * wdkm_region.h - critical and guarded regions: code that must not be
 * interrupted by (normal kernel, or all) APCs, with no data to protect.
 *
 *     WDKM_REGION Region;
 *     Status = WdkmRegionEnterCritical(&Region);     KeEnterCriticalRegion
 *     ...
 *     Status = WdkmRegionLeave(&Region);             KeLeaveCriticalRegion
 *
 * or WDKM_CRITICAL_REGION_SCOPED(&Status) { ... }.
 *
 * Each entry has its own WDKM_REGION (on the caller's stack), so regions
 * nest and stay balanced by construction: leaving a region that was never
 * entered, or leaving it twice, returns STATUS_WDKM_NOT_HELD; leaving it on
 * another thread returns STATUS_WDKM_NOT_OWNER. Neither touches the
 * thread's APC-disable count, which the kernel would otherwise corrupt
 * (APC_INDEX_MISMATCH at the next system call return).
 * IRQL: <= APC_LEVEL for all.
 */
#ifndef WDKM_REGION_H
#define WDKM_REGION_H

#include "wdkm_base.h"
#include "wdkm_scope.h"

WDKM_EXTERN_C_BEGIN

/* A capability for clang's analysis (wdkm_annotations.h): enter/leave pair up. */
typedef struct WDKMP_CAPABILITY("region") _WDKM_REGION {
    ULONG Kind;          /* library-private: which region is entered, 0 when none */
    PVOID Thread;        /* the thread that entered it */
} WDKM_REGION, *PWDKM_REGION;

/*
 * WdkmRegionEnterCritical / WdkmRegionEnterGuarded - enter a critical region
 * (normal kernel APCs disabled) or a guarded region (all APCs disabled).
 * IRQL: <= APC_LEVEL. Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER
 * (NULL); STATUS_WDKM_IRQL_TOO_HIGH. The caller must leave it with
 * WdkmRegionLeave(Region) on the same thread, and must not enter again
 * through a Region still entered (not detected: Region is _Out_, maybe
 * uninitialised; the first entry could then never be left).
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_lock_(*Region))
NTSTATUS
WdkmRegionEnterCritical(
    _Out_ PWDKM_REGION Region
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Region);

_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_lock_(*Region))
NTSTATUS
WdkmRegionEnterGuarded(
    _Out_ PWDKM_REGION Region
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Region);

/*
 * WdkmRegionLeave - leave the region Region describes.
 * IRQL: <= APC_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_NOT_HELD (not
 * entered, or left already); STATUS_WDKM_NOT_OWNER (entered by another
 * thread); STATUS_WDKM_IRQL_TOO_HIGH; STATUS_INVALID_PARAMETER.
 */
_IRQL_requires_max_(APC_LEVEL)
_Releases_lock_(*Region)
NTSTATUS
WdkmRegionLeave(
    _Inout_ PWDKM_REGION Region
    ) WDKM_RELEASES_LOCK(Region);

/* For the scoped forms; not meant to be called directly. IRQL: <= APC_LEVEL.
   The block must not end above APC_LEVEL: the leave is then refused
   (*Status STATUS_WDKM_IRQL_TOO_HIGH) and the scope held the only record,
   so the region stays entered. */
_IRQL_requires_max_(APC_LEVEL)
WDKM_SCOPE
WdkmRegionScopeEnter(
    _In_ BOOLEAN Guarded,
    _Out_ NTSTATUS *Status
    );

/* WDKM_CRITICAL_REGION_SCOPED(&Status) { ... }: see wdkm_scope.h for exits. */
#define WDKM_CRITICAL_REGION_SCOPED(StatusPointer) \
    WDKMP_SCOPED(WdkmRegionScopeEnter(FALSE, (StatusPointer)))
#define WDKM_GUARDED_REGION_SCOPED(StatusPointer) \
    WDKMP_SCOPED(WdkmRegionScopeEnter(TRUE, (StatusPointer)))

WDKM_EXTERN_C_END

#endif /* WDKM_REGION_H */
