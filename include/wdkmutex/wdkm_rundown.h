/*
 * wdkm_rundown.h - checked rundown protection: safe teardown of an object
 * that other threads, DPCs and work items are still using.
 *
 * The kernel's EX_RUNDOWN_REF (ExAcquireRundownProtection,
 * ExReleaseRundownProtection, ExWaitForRundownProtectionRelease,
 * ExReInitializeRundownProtection), built by the library on interlocked
 * operations and an event, so that it runs where the kernel's does not
 * (Wine 8's ExInitializeRundownProtection is a stub that aborts the driver
 * host) and checks what the kernel's does not:
 *
 *     WDKM_RUNDOWN Rundown;                 in the device extension
 *     Status = WdkmRundownInitialize(&Rundown);            at creation
 *
 *     if (WdkmRundownAcquire(&Rundown) == STATUS_SUCCESS) { a user:
 *         ... use the object ...                        any thread, DPC
 *         (VOID)WdkmRundownRelease(&Rundown);           (maybe another)
 *     }
 *
 *     Status = WdkmRundownWait(&Rundown, NULL);        at teardown
 *     ... free the object ...
 *
 * Semantics:
 *   - An acquisition is a count, not a lock: nothing is owned, any thread
 *     may release what another acquired (a dispatch routine acquires, a
 *     completion or a DPC releases), and acquisitions may overlap freely.
 *   - Once a wait has begun, every acquisition is refused with
 *     STATUS_DELETE_PENDING, forever (until WdkmRundownReInitialize after
 *     a completed wait). Acquisitions made before it stay valid; the wait
 *     returns STATUS_SUCCESS when the last of them has been released, and
 *     then the object is quiet: the caller may free it.
 *   - A release with nothing acquired (one release too many) is refused
 *     with STATUS_WDKM_NOT_HELD and changes nothing: the count never goes
 *     negative, and a waiter is never woken early by a stray release.
 *   - A wait with a timeout that expires answers STATUS_TIMEOUT: the
 *     rundown stays under way (acquisitions still refused) and the caller
 *     may wait again, with or without a timeout. The object must not be
 *     freed after a timeout: the acquisitions still out will release it.
 *   - One waiter at a time: a wait while another thread is waiting answers
 *     STATUS_INVALID_DEVICE_STATE (nothing changes; the first wait goes
 *     on). A wait after a completed wait answers STATUS_SUCCESS at once
 *     (no acquisition is out, none can start), so two teardown paths may
 *     both wait.
 *   - An object never initialised (zeroed memory) is refused by every call
 *     but WdkmRundownInitialize with STATUS_WDKM_NOT_INITIALIZED. The
 *     checks run in this order: NULL and a Count out of range
 *     (STATUS_INVALID_PARAMETER), the IRQL, initialised, the state.
 *   - Every refusal returns its status and changes nothing; no call
 *     allocates, so none can fail for pool and none leaks.
 *
 * Not detected (the caller must not do these):
 *   - A thread that waits while it holds an acquisition itself (or while a
 *     holder needs something the waiter holds) waits forever without a
 *     timeout: acquisitions belong to no thread (a DPC or another thread
 *     may release them), so the library cannot tell. Release before
 *     waiting; with a timeout, such a wait answers STATUS_TIMEOUT.
 *   - Initialize or ReInitialize racing another call on the same object,
 *     Initialize of an object in use (after a wait answered STATUS_SUCCESS
 *     it is not: Initialize then starts it afresh, as ReInitialize does),
 *     copying the structure (it holds a KEVENT), or freeing it while a
 *     call may still be running on it or before a wait answered
 *     STATUS_SUCCESS.
 *   - A release by a caller that did not acquire, while someone else's
 *     acquisition is out: the count cannot tell whose it was (the wait
 *     then completes while the real holder still uses the object).
 *
 * Ordering: every change of the state is an interlocked operation (a full
 * barrier on every target), and every read of it an acquire load, so what
 * a holder did before its release happens before a successful wait
 * returns, on ARM64 too.
 */
#ifndef WDKM_RUNDOWN_H
#define WDKM_RUNDOWN_H

#include "wdkm_base.h"

WDKM_EXTERN_C_BEGIN

/*
 * WDKM_RUNDOWN - caller-allocated (a device extension, a global, a value
 * made in place in a lock or the registry), in memory that stays resident
 * while it is used: non-paged when acquired or released at
 * DISPATCH_LEVEL. Its fields are the library's.
 */
typedef struct _WDKM_RUNDOWN {
    ULONG Signature;        /* set by WdkmRundownInitialize */
    LONG volatile State;    /* acquisitions and flags (wdkm_rundown.c) */
    KEVENT Drained;         /* the last release after a wait began sets it */
} WDKM_RUNDOWN, *PWDKM_RUNDOWN;

/* The most acquisitions that may be out at once (WdkmRundownAcquireEx). */
#define WDKM_RUNDOWN_MAX_COUNT 0x0FFFFFFFUL

/*
 * WdkmRundownInitialize - make Rundown ready for acquisitions, none out.
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER
 * (NULL); STATUS_WDKM_IRQL_TOO_HIGH (nothing written). The caller must not
 * initialise an object that is in use (see above).
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmRundownInitialize(
    _Out_ PWDKM_RUNDOWN Rundown
    );

/*
 * WdkmRundownAcquire - one acquisition: the object may be used until the
 * matching WdkmRundownRelease. IRQL: <= DISPATCH_LEVEL. Returns
 * STATUS_SUCCESS; STATUS_DELETE_PENDING (a wait has begun: do not use the
 * object); STATUS_WDKM_NOT_INITIALIZED; STATUS_INVALID_PARAMETER (NULL);
 * STATUS_INTEGER_OVERFLOW (WDKM_RUNDOWN_MAX_COUNT are out already);
 * STATUS_WDKM_IRQL_TOO_HIGH. Only STATUS_SUCCESS acquired anything.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmRundownAcquire(
    _Inout_ PWDKM_RUNDOWN Rundown
    );

/*
 * WdkmRundownAcquireEx - Count acquisitions at once, all or none
 * (ExAcquireRundownProtectionEx). IRQL: <= DISPATCH_LEVEL. Returns as
 * WdkmRundownAcquire, and STATUS_INVALID_PARAMETER for a Count of 0 or
 * above WDKM_RUNDOWN_MAX_COUNT.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmRundownAcquireEx(
    _Inout_ PWDKM_RUNDOWN Rundown,
    _In_ ULONG Count
    );

/*
 * WdkmRundownRelease - give back one acquisition, from any thread.
 * The last release after a wait began wakes the waiter. IRQL:
 * <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_NOT_HELD (none is
 * out: nothing changes); STATUS_WDKM_NOT_INITIALIZED;
 * STATUS_INVALID_PARAMETER (NULL); STATUS_WDKM_IRQL_TOO_HIGH. After
 * STATUS_SUCCESS the caller must not touch the object again (a waiter may
 * free it).
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmRundownRelease(
    _Inout_ PWDKM_RUNDOWN Rundown
    );

/*
 * WdkmRundownReleaseEx - give back Count acquisitions at once, all or
 * none. IRQL: <= DISPATCH_LEVEL. Returns as WdkmRundownRelease:
 * STATUS_WDKM_NOT_HELD when fewer than Count are out (nothing changes);
 * STATUS_INVALID_PARAMETER for a Count of 0.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmRundownReleaseEx(
    _Inout_ PWDKM_RUNDOWN Rundown,
    _In_ ULONG Count
    );

/*
 * WdkmRundownWait - refuse every new acquisition from now on and wait
 * until every acquisition out has been released.
 * IRQL: <= APC_LEVEL (a non-alertable kernel-mode wait on an event, which
 * NT allows at APC_LEVEL: a teardown path holding a FAST_MUTEX may call
 * it; the caller must then be sure no holder needs that mutex).
 * Timeout: as KeWaitForSingleObject's (negative: relative, in 100 ns
 * units, WDKM_RELATIVE_TIMEOUT_MS; zero: just look); NULL waits as long as
 * it takes.
 * Returns STATUS_SUCCESS (none is out, none can start: the object may be
 * freed; also at once for a wait after a completed one);
 * STATUS_TIMEOUT (some are still out: the rundown stays under way, the
 * caller may wait again and must not free the object);
 * STATUS_INVALID_DEVICE_STATE (another thread is waiting now: nothing
 * changes); STATUS_WDKM_NOT_INITIALIZED; STATUS_INVALID_PARAMETER (NULL);
 * STATUS_WDKM_IRQL_TOO_HIGH (nothing changes: acquisitions still work).
 * A wait by a thread that holds an acquisition itself never succeeds (not
 * detected: see above).
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
NTSTATUS
WdkmRundownWait(
    _Inout_ PWDKM_RUNDOWN Rundown,
    _In_opt_ const LARGE_INTEGER *Timeout
    );

/*
 * WdkmRundownReInitialize - after a completed wait, allow acquisitions
 * again (ExReInitializeRundownProtection). IRQL: <= DISPATCH_LEVEL.
 * Returns STATUS_SUCCESS; STATUS_INVALID_DEVICE_STATE (no wait has
 * completed: never waited, a wait under way or timed out; nothing
 * changes); STATUS_WDKM_NOT_INITIALIZED; STATUS_INVALID_PARAMETER (NULL);
 * STATUS_WDKM_IRQL_TOO_HIGH.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmRundownReInitialize(
    _Inout_ PWDKM_RUNDOWN Rundown
    );

WDKM_EXTERN_C_END

#endif /* WDKM_RUNDOWN_H */
