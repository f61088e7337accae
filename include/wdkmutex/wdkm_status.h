/*
 * wdkm_status.h - the status codes the library returns.
 *
 * Standard NTSTATUS codes are used wherever one fits:
 *
 *   STATUS_SUCCESS                 the operation happened (a lock is held)
 *   STATUS_TIMEOUT                 a try or a timed wait found the lock busy.
 *                                  NT_SUCCESS(STATUS_TIMEOUT) is TRUE, as in
 *                                  the kernel: test for STATUS_SUCCESS.
 *   STATUS_ALERTED, STATUS_USER_APC  an alertable wait ended early; the lock
 *                                  is not held (also success-class codes)
 *   STATUS_INVALID_PARAMETER       NULL pointer, zero or oversized data size
 *   STATUS_INSUFFICIENT_RESOURCES  the pool allocation failed
 *   STATUS_NOT_SUPPORTED           the running kernel lacks an optional export
 *   STATUS_MUTANT_LIMIT_EXCEEDED   a KMUTEX recursion limit was reached
 *   STATUS_POSSIBLE_DEADLOCK       the owner acquired a non-recursive lock again
 *   STATUS_DELETE_PENDING          the object is being torn down (a queue's
 *                                  destroy, a rundown's wait has begun)
 *   STATUS_INVALID_DEVICE_STATE    a rundown's second waiter, or its
 *                                  ReInitialize before a completed wait
 *   STATUS_INTEGER_OVERFLOW        a rundown's count is at its maximum
 *   STATUS_CANCELLED               a queue's current IRP: its cancellation
 *                                  was asked for (wdkm_csq.h)
 *   STATUS_DEVICE_BUSY             a queue's destroy while a worker holds a
 *                                  current IRP; a warning-class code,
 *                                  NT_SUCCESS() is FALSE
 *   STATUS_BUFFER_OVERFLOW         (checked builds) WdkmDiagQueryStatistics: the
 *                                  caller's array was too small; a warning-class
 *                                  code, NT_SUCCESS() is FALSE
 *
 * The library's own codes are customer NTSTATUS codes (customer bit set,
 * facility WDKM_FACILITY) for the cases no standard code describes. All of
 * them are errors: NT_SUCCESS() is FALSE.
 */
#ifndef WDKM_STATUS_H
#define WDKM_STATUS_H

#include "wdkm_base.h"

#define WDKM_FACILITY 0x0D4

/* Standard codes the library returns that not every header set defines
   (mingw-w64's <wdm.h> lacks them); NT's values. */
#ifndef STATUS_INVALID_DEVICE_STATE
#define STATUS_INVALID_DEVICE_STATE ((NTSTATUS)0xC0000184L)
#endif
#ifndef STATUS_CANCELLED
#define STATUS_CANCELLED ((NTSTATUS)0xC0000120L)
#endif
#ifndef STATUS_DEVICE_BUSY
#define STATUS_DEVICE_BUSY ((NTSTATUS)0x80000011L)
#endif
#ifndef STATUS_INTEGER_OVERFLOW
#define STATUS_INTEGER_OVERFLOW ((NTSTATUS)0xC0000095L)
#endif

#define WDKMP_ERROR_STATUS(Code) \
    ((NTSTATUS)(0xE0000000UL | ((ULONG)WDKM_FACILITY << 16) | (ULONG)(Code)))

/* The caller's IRQL is above what the operation allows. */
#define STATUS_WDKM_IRQL_TOO_HIGH       WDKMP_ERROR_STATUS(0x0001)
/*
 * A release at an IRQL the acquisition rules forbid: a FAST_MUTEX released
 * below APC_LEVEL, or a KMUTEX released at another IRQL class
 * (PASSIVE/APC versus DISPATCH) than it was acquired at.
 */
#define STATUS_WDKM_IRQL_MISMATCH       WDKMP_ERROR_STATUS(0x0002)
/* The calling thread does not own the lock it tries to release. */
#define STATUS_WDKM_NOT_OWNER           WDKMP_ERROR_STATUS(0x0003)
/* The lock is not held at all: released twice, or never acquired. */
#define STATUS_WDKM_NOT_HELD            WDKMP_ERROR_STATUS(0x0004)
/* The lock is held, so it cannot be destroyed or taken apart now. */
#define STATUS_WDKM_LOCK_HELD           WDKMP_ERROR_STATUS(0x0005)
/* The data type (its size) or lock kind asked for is not the one stored. */
#define STATUS_WDKM_TYPE_MISMATCH       WDKMP_ERROR_STATUS(0x0006)
/* The registry was used before WdkmGrtInitialize or after its destruction. */
#define STATUS_WDKM_NOT_INITIALIZED     WDKMP_ERROR_STATUS(0x0007)
/* WdkmGrtInitialize was called while the registry already exists. */
#define STATUS_WDKM_ALREADY_INITIALIZED WDKMP_ERROR_STATUS(0x0008)
/* The lock belongs to the registry: only the registry may free it. */
#define STATUS_WDKM_OWNED_BY_REGISTRY   WDKMP_ERROR_STATUS(0x0009)
/*
 * The checked build's leak check found locks never destroyed, locks still
 * held, regions still entered, or pool still outstanding (wdkm_diag.h).
 */
#define STATUS_WDKM_LEAK_DETECTED       WDKMP_ERROR_STATUS(0x000A)

/*
 * WDKM_BUGCHECK_LOCK_MISUSE - the bug check code with which the callback
 * forms (WdkmXxxAcquireOrBugCheck, the *_OR_BUGCHECK macros) stop the
 * system on a misuse they detect, where no status can be returned. Bit 29
 * set (the customer bit of NTSTATUS codes), the library's facility, code 1:
 * outside every code Windows defines. Parameters:
 *   P1  the status the plain acquire would have returned (zero-extended:
 *       0xE0D40001 is STATUS_WDKM_IRQL_TOO_HIGH; WdkmStatusName names it)
 *   P2  the lock handle
 *   P3  the caller's return address: the driver code that called the form
 *   P4  (WDKM_LOCK_KIND << 8) | the IRQL at the call
 * The checked build first prints the whole story through the debugger
 * output (docs/diagnostics.md).
 */
#define WDKM_BUGCHECK_LOCK_MISUSE 0x20D40001UL

WDKM_EXTERN_C_BEGIN

/*
 * WdkmStatusName - the symbolic name of a status, for logs.
 *
 * IRQL: any. Returns a static string such as "STATUS_WDKM_NOT_OWNER" for
 * every status the library returns, and "STATUS_<unknown>" for others.
 * The caller must not modify or free the string.
 */
_IRQL_requires_max_(HIGH_LEVEL)
_Ret_z_
PCSTR
WdkmStatusName(
    _In_ NTSTATUS Status
    );

/*
 * WdkmStatusForRequest - the status to complete a request with, for a
 * status the library returned.
 *
 * The library's own codes (STATUS_WDKM_*) are customer codes: completed
 * into an IRP they reach user mode as an error no Win32 table knows. This
 * maps each to a standard status: STATUS_WDKM_NOT_INITIALIZED to
 * STATUS_DEVICE_NOT_READY (ERROR_NOT_READY); STATUS_WDKM_LOCK_HELD and
 * STATUS_WDKM_ALREADY_INITIALIZED to STATUS_INVALID_DEVICE_STATE
 * (ERROR_BAD_COMMAND); every other STATUS_WDKM_* (a misuse inside the
 * driver) to STATUS_INTERNAL_ERROR (ERROR_INTERNAL_ERROR). Any other
 * status, success included, comes back unchanged.
 *
 * IRQL: any. Use it where a status leaves the driver
 * (Irp->IoStatus.Status = WdkmStatusForRequest(Status)); log the original
 * (WdkmStatusName) first, it says more.
 */
_Must_inspect_result_
_IRQL_requires_max_(HIGH_LEVEL)
NTSTATUS
WdkmStatusForRequest(
    _In_ NTSTATUS Status
    );

WDKM_EXTERN_C_END

#endif /* WDKM_STATUS_H */
