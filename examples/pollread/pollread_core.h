/*
 * pollread_core.h - the polled-read device's logic, apart from the I/O
 * plumbing (DriverEntry, the device object, the work item): the same
 * source runs in the .sys and, on the host emulation, in its unit test
 * (pollread_host_test.c).
 *
 * The device is a hypothetical data-acquisition unit that needs a settling
 * time between two samples. A read that comes too soon waits: one request
 * at a time is the device's current one (the StartIo pattern), the others
 * wait in a cancel-safe queue, and a periodic timer DPC retries the
 * current one once the device has settled. Each ending (sampled or cancelled) is
 * booked to the handle that sent it by a work item, at PASSIVE_LEVEL,
 * under the ERESOURCE that owns the list of open handles.
 *
 * State, all of it owned by wdkmutex locks registered by name (the Grt),
 * so the DPC, the cancel callback and the work item find it by name:
 *   "pollread.device"  WDKM_SPIN_LOCK, PR_DEVICE: the current request,
 *                      the settle clock, the counters, the stop flag;
 *   "pollread.credits" WDKM_QUEUED_SPIN_LOCK, PR_CREDITS (in place): an
 *                      intrusive list of endings waiting for the work item;
 *   "pollread.opens"   WDKM_RESOURCE, PR_OPENS (in place): an intrusive
 *                      list of open handles and their booked counts.
 * The pending requests are a WDKM_CSQ (not a registry kind: a static).
 *
 * Lock order: device -> the queue's own lock (a remove under the device
 * lock); credits and opens are never held with another.
 */
#ifndef POLLREAD_CORE_H
#define POLLREAD_CORE_H

#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

#include "pollread_ioctl.h"

/* The settling time between two samples, in milliseconds. */
#ifndef POLLREAD_SETTLE_MS
#define POLLREAD_SETTLE_MS 2
#endif

#define POLLREAD_TAG 'dRlP'

/* The registry names and the values their locks own (a lookup is typed
   by the value's size: whoever takes one of these locks needs its type). */
#define PR_DEVICE_NAME  "pollread.device"
#define PR_CREDITS_NAME "pollread.credits"
#define PR_OPENS_NAME   "pollread.opens"

#define PR_SETTLE_100NS ((ULONG64)POLLREAD_SETTLE_MS * 10000)

/* "pollread.device": the StartIo state and the counters. */
typedef struct _PR_DEVICE {
    PIRP Current;           /* the device's request, off the queue; NULL when idle */
    ULONG64 LastSample;     /* 100 ns units, PrNow */
    ULONG64 Sequence;
    ULONG64 Reads;
    ULONG64 Sampled;
    ULONG64 Cancelled;
    ULONG64 Retries;
    ULONG64 Ticks;          /* timer DPC runs */
    ULONG Refused;
    BOOLEAN Held;           /* IOCTL_POLLREAD_HOLD: no more samples */
    BOOLEAN Stopping;       /* no poll starts or samples a request */
} PR_DEVICE;

/* One ending on its way to the work item. */
typedef struct _PR_CREDIT {
    LIST_ENTRY Link;
    PFILE_OBJECT FileObject;
    BOOLEAN Sampled;
} PR_CREDIT;

/* "pollread.credits", in place: the list points into the lock's block. */
typedef struct _PR_CREDITS {
    LIST_ENTRY Head;
    ULONG Count;
    BOOLEAN WorkQueued;     /* a work item is queued or running */
} PR_CREDITS;

/* One open handle. */
typedef struct _PR_OPEN {
    LIST_ENTRY Link;
    PFILE_OBJECT FileObject;
    ULONG64 Sampled;
    ULONG64 Cancelled;
} PR_OPEN;

/* "pollread.opens", in place. */
typedef struct _PR_OPENS {
    LIST_ENTRY Head;
    ULONG Count;
    ULONG64 Credited;       /* endings booked (to an open, or to a closed one) */
    ULONG64 Orphans;        /* endings whose handle was closed first */
} PR_OPENS;

/* Queues the work item that will call PrCoreWork at PASSIVE_LEVEL. Called
   at <= DISPATCH_LEVEL, at most once until PrCoreWork has run dry. */
typedef VOID PR_QUEUE_WORK(VOID);

/* The final counts PrCoreStop hands back. */
typedef struct _PR_FINAL {
    ULONG64 Reads;
    ULONG64 Sampled;
    ULONG64 Cancelled;
    ULONG64 Credited;
    ULONG OpensLeft;
} PR_FINAL;

/* PASSIVE_LEVEL. Registers the locks, creates the queue and the timer. */
_IRQL_requires_(PASSIVE_LEVEL)
_Must_inspect_result_
NTSTATUS PrCoreStart(_In_ PR_QUEUE_WORK *QueueWork);

/* PASSIVE_LEVEL (IRP_MJ_CREATE / IRP_MJ_CLOSE): add or drop a handle. */
_IRQL_requires_(PASSIVE_LEVEL)
_Must_inspect_result_
NTSTATUS PrCoreOpen(_In_ PFILE_OBJECT FileObject);
_IRQL_requires_(PASSIVE_LEVEL)
NTSTATUS PrCoreClose(_In_ PFILE_OBJECT FileObject);

/* <= APC_LEVEL. A read request: STATUS_PENDING (the core's now: the
   dispatch routine returns STATUS_PENDING), or an error status with the
   IRP still the caller's, to complete with it. */
_IRQL_requires_max_(APC_LEVEL)
_Must_inspect_result_
NTSTATUS PrCoreRead(_Inout_ PIRP Irp);

/* <= DISPATCH_LEVEL. Starts the current request if the device is idle and
   samples it if it has settled (the DPC's body; dispatch calls it too). */
_IRQL_requires_max_(DISPATCH_LEVEL)
VOID PrCorePoll(VOID);

/* PASSIVE_LEVEL: the work item. Books every waiting ending to its open. */
_IRQL_requires_(PASSIVE_LEVEL)
VOID PrCoreWork(VOID);

/* <= DISPATCH_LEVEL (IRP_MJ_CLEANUP): cancels the handle's reads, queued
   or the device's current one. */
_IRQL_requires_max_(DISPATCH_LEVEL)
VOID PrCoreCleanup(_In_ PFILE_OBJECT FileObject);

/* <= DISPATCH_LEVEL. The device samples no more (IOCTL_POLLREAD_HOLD). */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Must_inspect_result_
NTSTATUS PrCoreHold(VOID);

/* <= APC_LEVEL. The counts, FileObject's among them (NULL: none). */
_IRQL_requires_max_(APC_LEVEL)
_Must_inspect_result_
NTSTATUS PrCoreQuery(_In_opt_ PFILE_OBJECT FileObject, _Out_ POLLREAD_REPORT *Report);

/* PASSIVE_LEVEL, once, at unload, with requests possibly in flight: stops
   the timer, ends every request (cancelled), waits for the work item,
   books what is left, drops the handles left open and tears down every
   lock. Returns the registry's destroy status. */
_IRQL_requires_(PASSIVE_LEVEL)
NTSTATUS PrCoreStop(_Out_ PR_FINAL *Final);

#endif /* POLLREAD_CORE_H */
