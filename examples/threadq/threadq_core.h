/*
 * threadq_core.h - the worker-thread device's logic, apart from the I/O
 * plumbing (DriverEntry, the device object, the registry values): the
 * same source runs in the .sys and, on the host emulation, in its unit
 * test (threadq_host_test.c).
 *
 * The shape is the classic WDM "dedicated system thread" driver (the
 * ideas of Windows-driver-samples' general/cancel, not its code): the
 * dispatch routine queues a job and signals a KEVENT; one system thread
 * takes the jobs one at a time and works on each for a while; every job
 * can be cancelled while queued *and* while the thread works on it, by a
 * hand-written cancel routine that races the thread's completion; each
 * handle has its own context; IRP_MJ_CLEANUP of a handle races the jobs it
 * still has in flight; the unload stops the thread with a handshake and
 * waits for cancel routines still owed.
 *
 * State, all of it in wdkmutex locks registered by name (the Grt):
 *   "threadq.device"        WDKM_SPIN_LOCK, TQ_DEVICE (in place): the queue
 *                           (an intrusive list of IRPs), the thread's
 *                           current job and its flags, the counters;
 *   "threadq.f.<address>"   WDKM_SPIN_LOCK, TQ_FILE: one per open handle,
 *                           named after its FILE_OBJECT; each job holds a
 *                           registry reference on its handle's lock from
 *                           dispatch to completion, so the context outlives
 *                           IRP_MJ_CLEANUP/CLOSE until its last job ends.
 * Lock order: device -> file (dispatch checks the handle's cleanup flag
 * under both, so a job cannot slip into the queue behind its cleanup).
 * Nothing else is held with them; no kernel object is waited for under
 * either.
 */
#ifndef THREADQ_CORE_H
#define THREADQ_CORE_H

#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

#include "threadq_ioctl.h"

#define THREADQ_TAG 'QdrT'

#define TQ_DEVICE_NAME "threadq.device"
/* "threadq.f." and 16 hex digits. */
#define TQ_FILE_NAME_PREFIX "threadq.f."
#define TQ_FILE_NAME_SIZE (sizeof(TQ_FILE_NAME_PREFIX) + 16)

/* Where a job is, in Tail.Overlay.DriverContext[1] (read and written
   only under the device lock while the job is the driver's). */
typedef enum _TQ_STATE {
    TqStateNone = 0,        /* not the driver's (before the insert) */
    TqStateQueued,          /* linked in TQ_DEVICE.Queue */
    TqStateCurrent,         /* TQ_DEVICE.Current: the thread works on it */
    TqStateHandedOff        /* its cancel routine was called first: it completes it */
} TQ_STATE;

/* "threadq.device", in place: the list head points into the lock's block. */
typedef struct _TQ_DEVICE {
    LIST_ENTRY Queue;       /* IRPs, Tail.Overlay.ListEntry */
    ULONG Queued;
    ULONG ReleaseRefused;   /* job ends the rundown refused: must stay 0 */
    PIRP Current;           /* the thread's job, off the queue; NULL when idle */
    BOOLEAN CurrentCancelSeen;  /* its cancel routine marked it (and leaves it) */
    BOOLEAN CurrentAbort;   /* cleanup or unload wants it ended */
    BOOLEAN Paused;         /* IOCTL_THREADQ_PAUSE: no new job starts */
    BOOLEAN Stopping;       /* the unload began: no job accepted or started */
    ULONG Opens;
    ULONG64 Sequence;
    ULONG64 Submitted;
    ULONG64 Done;
    ULONG64 Cancelled;
    ULONG64 Refused;
    ULONG64 CancelledQueued;
    ULONG64 CancelledCurrent;
    ULONG64 HandedToCancel;
} TQ_DEVICE;

/* "threadq.f.<address>": one handle. */
typedef struct _TQ_FILE {
    ULONG64 Submitted;
    ULONG64 Done;
    ULONG64 Cancelled;
    BOOLEAN CleanedUp;      /* IRP_MJ_CLEANUP came: no new job */
} TQ_FILE;

/* What TqCoreStop hands back. */
typedef struct _TQ_FINAL {
    ULONG64 Submitted;
    ULONG64 Done;
    ULONG64 Cancelled;
    NTSTATUS ThreadExit;    /* how the worker thread ended (STATUS_SUCCESS) */
    NTSTATUS Destroy;       /* the registry's destroy */
    NTSTATUS Drained;       /* the wait for the jobs' rundown (STATUS_SUCCESS) */
    ULONG ReleaseRefused;   /* job ends the rundown refused (0) */
} TQ_FINAL;

/* PASSIVE_LEVEL. Registers the device lock, starts the worker thread. */
_IRQL_requires_(PASSIVE_LEVEL)
_Must_inspect_result_
NTSTATUS TqCoreStart(VOID);

/* PASSIVE_LEVEL (IRP_MJ_CREATE): registers the handle's context. */
_IRQL_requires_(PASSIVE_LEVEL)
_Must_inspect_result_
NTSTATUS TqCoreOpen(_In_ PFILE_OBJECT FileObject);

/* <= APC_LEVEL (IRP_MJ_CLEANUP): no new job for the handle; its queued
   jobs end cancelled, and its job the thread works on is aborted.
   Returns how many of its jobs it ended or aborted. */
_IRQL_requires_max_(APC_LEVEL)
ULONG TqCoreCleanup(_In_ PFILE_OBJECT FileObject);

/* <= APC_LEVEL (IRP_MJ_CLOSE): unregisters the handle's context (freed
   when its last job has ended). Does the cleanup's work first, for a
   kernel that sends no IRP_MJ_CLEANUP (Wine 8); returns what that did. */
_IRQL_requires_max_(APC_LEVEL)
ULONG TqCoreClose(_In_ PFILE_OBJECT FileObject);

/* <= APC_LEVEL. A job: STATUS_PENDING (the driver's now: the dispatch
   routine returns STATUS_PENDING), or an error status with the IRP still
   the caller's, to complete with it. */
_IRQL_requires_max_(APC_LEVEL)
_Must_inspect_result_
NTSTATUS TqCoreSubmit(_Inout_ PIRP Irp);

/* <= APC_LEVEL. The counts, FileObject's among them (NULL: none). */
_IRQL_requires_max_(APC_LEVEL)
_Must_inspect_result_
NTSTATUS TqCoreQuery(_In_opt_ PFILE_OBJECT FileObject, _Out_ THREADQ_REPORT *Report);

/* <= DISPATCH_LEVEL. The thread starts no new job (TRUE) or does again. */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Must_inspect_result_
NTSTATUS TqCorePause(_In_ BOOLEAN Paused);

/* PASSIVE_LEVEL, once, at unload, with jobs possibly in flight: refuses
   new jobs, stops the worker thread (it ends every job it still has),
   waits for cancel routines still owed, tears down every lock. */
_IRQL_requires_(PASSIVE_LEVEL)
VOID TqCoreStop(_Out_ TQ_FINAL *Final);

#endif /* THREADQ_CORE_H */
