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
 * can be cancelled while queued *and* while the thread works on it; each
 * handle has its own context; IRP_MJ_CLEANUP of a handle races the jobs it
 * still has in flight; the unload stops the thread with a handshake and
 * waits for cancel routines still owed. The jobs are in the library's
 * cancel-safe queue (WDKM_CSQ), the thread's one as the queue's current
 * IRP (WdkmCsqStartNextIrp / WdkmCsqEndCurrentIrp), so the driver has no
 * cancel routine of its own.
 *
 * State, all of it in wdkmutex objects:
 *   the queue               WDKM_CSQ: jobs waiting, and the thread's job;
 *   "threadq.device"        WDKM_SPIN_LOCK, TQ_DEVICE, registered by name
 *                           (the Grt): pause/stop, the counters;
 *   "threadq.file#<address>" WDKM_SPIN_LOCK, TQ_FILE: one per open handle,
 *                           named after its FILE_OBJECT; each job holds a
 *                           registry reference on its handle's lock from
 *                           dispatch to completion, so the context outlives
 *                           IRP_MJ_CLEANUP/CLOSE until its last job ends.
 * Lock order: device -> file (dispatch checks Stopping and the handle's
 * cleanup flag under both). Neither is held while the queue is called
 * (its CompleteCanceledIrp takes both); no kernel object is waited for
 * under either.
 */
#ifndef THREADQ_CORE_H
#define THREADQ_CORE_H

#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

#include "threadq_ioctl.h"

#define THREADQ_TAG 'QdrT'

#define TQ_DEVICE_NAME "threadq.device"
/* The role of the per-handle locks' names (WdkmGrtInstanceName). */
#define TQ_FILE_ROLE "threadq.file"

/* Where a job was, in Tail.Overlay.DriverContext[1], for the counts:
   written by the submit before the insert and by the thread once it
   started the job, read when the job ends. */
typedef enum _TQ_STATE {
    TqStateNone = 0,
    TqStateQueued,          /* in the queue */
    TqStateCurrent          /* the thread's current job */
} TQ_STATE;

/* "threadq.device". */
typedef struct _TQ_DEVICE {
    ULONG ReleaseRefused;   /* job ends the rundown refused: must stay 0 */
    BOOLEAN Busy;           /* the thread works on a job */
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
    ULONG64 HandedToCancel; /* worked fully, but its end found it cancelled */
} TQ_DEVICE;

/* "threadq.file#<address>": one handle. */
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
    NTSTATUS Drained;       /* the waits for the submits' and jobs' rundowns (STATUS_SUCCESS) */
    NTSTATUS QueueDestroy;  /* the queue's destroy (STATUS_SUCCESS) */
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
   jobs end cancelled, and its job the thread works on is asked to stop.
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
   new jobs, stops the worker thread (it ends its job), destroys the queue
   (its jobs end cancelled, cancel routines still owed are waited for),
   tears down every lock. */
_IRQL_requires_(PASSIVE_LEVEL)
VOID TqCoreStop(_Out_ TQ_FINAL *Final);

#endif /* THREADQ_CORE_H */
