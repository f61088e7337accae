/*
 * ticker_core.h - the ticker device's logic, apart from the I/O plumbing
 * (DriverEntry, the device object, the work item, the service key): the
 * same source runs in the .sys and, on the host emulation, in its unit
 * test (ticker_host_test.c).
 *
 * The device is a periodic source of units (a metering or sampling unit):
 * a KTIMER's DPC generates Step units per tick, Step being a setting an
 * IOCTL changes; a work item distributes what was generated, at
 * PASSIVE_LEVEL, to every open handle that listens. Each open handle has a
 * context in an intrusive list; IRP_MJ_CLEANUP (or IRP_MJ_CLOSE, when no
 * cleanup came) tears it down. No request pends: every IRP is completed by
 * TkCoreDispatch before it returns.
 *
 * State, all of it owned by wdkmutex locks registered by name (the Grt),
 * so the DPC, the dispatch routines and the work item find it by name:
 *   "ticker.setting"  WDKM_SPIN_LOCK, TK_SETTING: the step;
 *                     IOCTL_TICKER_SET_STEP writes it, the DPC reads it;
 *   "ticker.counters" WDKM_SPIN_LOCK, TK_COUNTERS: ticks, units generated,
 *                     pending and distributed, requests, the stop flag;
 *   "ticker.handles"  WDKM_RESOURCE, TK_HANDLES (in place, drained): the
 *                     intrusive list of open handles and what they heard.
 * Lock order: setting -> counters (the timer DPC counts a tick under the
 * step it used); no other lock is taken while another is held.
 */
#ifndef TICKER_CORE_H
#define TICKER_CORE_H

#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

#include "ticker_ioctl.h"

/* The timer's period, in milliseconds. */
#ifndef TICKER_PERIOD_MS
#define TICKER_PERIOD_MS 2
#endif

/* The step at start. */
#define TICKER_INITIAL_STEP 1

#define TICKER_TAG 'kciT'

/* The registry names (a lookup is typed by the value's size: whoever
   takes one of these locks needs its type). */
#define TK_SETTING_NAME  "ticker.setting"
#define TK_COUNTERS_NAME "ticker.counters"
#define TK_HANDLES_NAME  "ticker.handles"

/* "ticker.setting". */
typedef struct _TK_SETTING {
    ULONG Step;
    ULONG Changes;
} TK_SETTING;

/* "ticker.counters". Generated == Pending + Distributed, always. */
typedef struct _TK_COUNTERS {
    ULONG64 Ticks;
    ULONG64 Generated;
    ULONG64 Pending;
    ULONG64 Distributed;
    ULONG64 Requests;       /* IOCTLs accepted */
    ULONG WorkItems;        /* TkCoreWork runs that found units */
    BOOLEAN WorkQueued;     /* a work item is queued or running */
    BOOLEAN Stopping;       /* the DPC generates nothing more */
} TK_COUNTERS;

/* One open handle's context. */
typedef struct _TK_HANDLE {
    LIST_ENTRY Link;
    PFILE_OBJECT FileObject;
    ULONG64 Heard;
    BOOLEAN Listening;
} TK_HANDLE;

/* "ticker.handles", in place. Delivered == sum of Heard + HeardByClosed. */
typedef struct _TK_HANDLES {
    LIST_ENTRY Head;
    ULONG Count;
    ULONG Opened;
    ULONG CleanedUp;        /* torn down by IRP_MJ_CLEANUP */
    ULONG ClosedWithoutCleanup;   /* torn down by IRP_MJ_CLOSE (Wine 8) */
    ULONG64 Booked;         /* units the work item handed out */
    ULONG64 Delivered;
    ULONG64 Unheard;
    ULONG64 HeardByClosed;
} TK_HANDLES;

/* Queues the work item that will call TkCoreWork at PASSIVE_LEVEL. Called
   at <= DISPATCH_LEVEL (from the DPC), at most once until TkCoreWork has
   run dry. */
typedef VOID TK_QUEUE_WORK(VOID);

/* What TkCoreStop hands back. */
typedef struct _TK_FINAL {
    ULONG64 Ticks;
    ULONG64 Generated;
    ULONG64 Pending;
    ULONG64 Distributed;
    ULONG64 Booked;
    ULONG64 Delivered;
    ULONG64 Heard;          /* every handle's, open or closed */
    ULONG64 Requests;
    ULONG Opened;
    ULONG CleanedUp;
    ULONG ClosedWithoutCleanup;
    ULONG HandlesLeft;      /* freed by the registry's drain */
    ULONG Overruns;         /* ticks skipped: the last one still ran */
} TK_FINAL;

/* PASSIVE_LEVEL. Registers the locks and starts the timer. */
_IRQL_requires_(PASSIVE_LEVEL)
_Must_inspect_result_
NTSTATUS TkCoreStart(_In_ TK_QUEUE_WORK *QueueWork);

/* <= APC_LEVEL: IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE and
   IRP_MJ_DEVICE_CONTROL. Completes the IRP, always, and returns the status
   it completed it with (the dispatch routine's return value). */
_IRQL_requires_max_(APC_LEVEL)
NTSTATUS TkCoreDispatch(_Inout_ PIRP Irp);

/* DISPATCH_LEVEL: one tick, the timer DPC's body. */
_IRQL_requires_(DISPATCH_LEVEL)
VOID TkCoreTick(VOID);

/* PASSIVE_LEVEL: the work item. Distributes what is pending. */
_IRQL_requires_(PASSIVE_LEVEL)
VOID TkCoreWork(VOID);

/* PASSIVE_LEVEL, once, at unload, with requests, the DPC and the work item
   possibly in flight: refuses new requests and waits for those in
   dispatch, stops the timer, waits for the work item, frees the handles
   still open and every lock. Returns the registry's destroy status. */
_IRQL_requires_(PASSIVE_LEVEL)
NTSTATUS TkCoreStop(_Out_ TK_FINAL *Final);

#endif /* TICKER_CORE_H */
