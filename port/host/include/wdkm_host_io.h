/*
 * wdkm_host_io.h - the I/O manager's IRP, its cancellation and completion,
 * as the host kernel emulation provides them (included by <wdm.h>).
 *
 * Only what a driver's request-queueing code touches: an IRP with one
 * stack location, IoSetCancelRoutine, the cancel spin lock, IoCancelIrp,
 * IoMarkIrpPending and IoCompleteRequest, with the WDK's names, fields and
 * rules. What it checks, with the real bug check codes:
 *   - completing an IRP twice (MULTIPLE_IRP_COMPLETE_REQUESTS, P1 = the
 *     IRP) or with a cancel routine still set
 *     (CANCEL_STATE_IN_COMPLETED_IRP, P1 = the IRP, P2 = the routine);
 *   - IoCancelIrp and IoCompleteRequest above DISPATCH_LEVEL
 *     (IRQL_NOT_LESS_OR_EQUAL);
 *   - a cancel routine that returns still holding the cancel spin lock
 *     (SPIN_LOCK_ALREADY_OWNED, P1 = the cancel spin lock).
 * As NT, IoCancelIrp sets Irp->Cancel, takes the cancel routine with an
 * interlocked exchange and calls it holding the cancel spin lock, with the
 * IRQL to restore in Irp->CancelIrql; the routine releases the lock.
 *
 * Host differences: there is no I/O manager behind the IRP. Tests make
 * IRPs with WdkmHostIrpAllocate (below), see their completion through a
 * completion hook or the IRP's own fields, and free them. No process, APC
 * or file object lifetime is attached to an IRP; a thread's is, when the
 * test asks for it (WdkmHostIrpQueueToThread): as NT's I/O manager does
 * for a request a thread issues, the thread's exit then cancels the IRP
 * and waits a bounded time for its completion (below).
 */
#ifndef WDKM_HOST_IO_H
#define WDKM_HOST_IO_H

#ifndef STATUS_NO_MORE_ENTRIES
#define STATUS_NO_MORE_ENTRIES           ((NTSTATUS)0x8000001AL)
#endif
#ifndef STATUS_NOT_FOUND
#define STATUS_NOT_FOUND                 ((NTSTATUS)0xC0000225L)
#endif

#define MULTIPLE_IRP_COMPLETE_REQUESTS      0x00000044
#define CANCEL_STATE_IN_COMPLETED_IRP       0x00000048

#define IRP_MJ_CREATE                   0x00
#define IRP_MJ_CLOSE                    0x02
#define IRP_MJ_READ                     0x03
#define IRP_MJ_WRITE                    0x04
#define IRP_MJ_DEVICE_CONTROL           0x0e
#define IRP_MJ_CLEANUP                  0x12

/* I/O control codes (devioctl.h), so an IOCTL header shared by a driver
   and its client compiles here too. */
#ifndef CTL_CODE
#define CTL_CODE(DeviceType, Function, Method, Access) \
    (((ULONG)(DeviceType) << 16) | ((ULONG)(Access) << 14) | ((ULONG)(Function) << 2) | (ULONG)(Method))
#endif
#define METHOD_BUFFERED                 0
#define METHOD_IN_DIRECT                1
#define METHOD_OUT_DIRECT               2
#define METHOD_NEITHER                  3
#define FILE_ANY_ACCESS                 0
#define FILE_READ_ACCESS                0x0001
#define FILE_WRITE_ACCESS               0x0002
#define FILE_DEVICE_UNKNOWN             0x00000022

#define SL_PENDING_RETURNED             0x01
#define IO_NO_INCREMENT                 0

#define IO_TYPE_DEVICE                  3
#define IO_TYPE_FILE                    5
#define IO_TYPE_IRP                     6

typedef struct _DEVICE_OBJECT {
    SHORT Type;                     /* IO_TYPE_DEVICE */
    USHORT Size;
    PVOID DeviceExtension;
} DEVICE_OBJECT, *PDEVICE_OBJECT;

typedef struct _FILE_OBJECT {
    SHORT Type;                     /* IO_TYPE_FILE */
    SHORT Size;
    PDEVICE_OBJECT DeviceObject;
    PVOID FsContext;
    PVOID FsContext2;
} FILE_OBJECT, *PFILE_OBJECT;

typedef struct _IO_STATUS_BLOCK {
    union {
        NTSTATUS Status;
        PVOID Pointer;
    };
    ULONG_PTR Information;
} IO_STATUS_BLOCK, *PIO_STATUS_BLOCK;

struct _IRP;

typedef VOID DRIVER_CANCEL(struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp);
typedef DRIVER_CANCEL *PDRIVER_CANCEL;

typedef struct _IO_STACK_LOCATION {
    UCHAR MajorFunction;
    UCHAR MinorFunction;
    UCHAR Flags;
    UCHAR Control;                  /* SL_PENDING_RETURNED once marked pending */
    union {
        struct {
            ULONG OutputBufferLength;
            ULONG InputBufferLength;
            ULONG IoControlCode;
            PVOID Type3InputBuffer;
        } DeviceIoControl;
    } Parameters;
    PDEVICE_OBJECT DeviceObject;
    PFILE_OBJECT FileObject;
} IO_STACK_LOCATION, *PIO_STACK_LOCATION;

/* Emulation: called by IoCompleteRequest once the IRP is complete. */
typedef VOID WDKM_HOST_IRP_COMPLETION(struct _IRP *Irp, PVOID Context);

typedef struct _IRP {
    SHORT Type;                     /* IO_TYPE_IRP */
    USHORT Size;
    ULONG Flags;
    union {
        PVOID SystemBuffer;
    } AssociatedIrp;
    LIST_ENTRY ThreadListEntry;     /* the I/O manager's: on its thread's IRP list */
    IO_STATUS_BLOCK IoStatus;
    KPROCESSOR_MODE RequestorMode;
    BOOLEAN PendingReturned;        /* set by IoCompleteRequest from the stack location */
    BOOLEAN volatile Cancel;        /* set by IoCancelIrp, under the cancel spin lock */
    KIRQL CancelIrql;               /* what the cancel routine restores */
    PDRIVER_CANCEL volatile CancelRoutine;
    PVOID UserBuffer;
    union {
        struct {
            struct {
                PVOID DriverContext[4];     /* the driver's while it owns the IRP */
            };
            PETHREAD Thread;                /* the issuing thread (WdkmHostIrpQueueToThread) */
            struct {
                LIST_ENTRY ListEntry;       /* the driver's while it owns the IRP */
                struct _IO_STACK_LOCATION *CurrentStackLocation;
            };
            PFILE_OBJECT OriginalFileObject;
        } Overlay;
    } Tail;
    /* Emulation only. */
    IO_STACK_LOCATION Stack;        /* the one stack location */
    LONG volatile Completions;      /* IoCompleteRequest calls so far */
    WDKM_HOST_IRP_COMPLETION *CompletionHook;
    PVOID CompletionHookContext;
    BOOLEAN volatile ThreadQueued;  /* on Tail.Overlay.Thread's IRP list */
    BOOLEAN ExitCancelSent;         /* its thread's exit called IoCancelIrp */
    BOOLEAN FreeDeferred;           /* freed while pinned: the last unpin frees it */
    LONG Pins;                      /* its completion, or an exit's IoCancelIrp, uses it */
} IRP, *PIRP;

/* Any IRQL. The driver's stack location. */
WDKM_HOSTP_INLINE PIO_STACK_LOCATION IoGetCurrentIrpStackLocation(PIRP Irp)
{
    return Irp->Tail.Overlay.CurrentStackLocation;
}

/* Any IRQL. The dispatch routine that calls it must return STATUS_PENDING. */
WDKM_HOSTP_INLINE VOID IoMarkIrpPending(PIRP Irp)
{
    IoGetCurrentIrpStackLocation(Irp)->Control |= SL_PENDING_RETURNED;
}

/* Any IRQL. Sets Irp's cancel routine (NULL clears it) and returns the
   previous one, in one interlocked exchange (NT: a macro). NULL back from
   a clear means IoCancelIrp took the routine: it runs, or has run. */
WDKM_HOSTP_INLINE PDRIVER_CANCEL IoSetCancelRoutine(PIRP Irp, PDRIVER_CANCEL CancelRoutine)
{
    return __atomic_exchange_n(&Irp->CancelRoutine, CancelRoutine, __ATOMIC_SEQ_CST);
}

/* <= DISPATCH_LEVEL. Takes the system-wide cancel spin lock (raises to
   DISPATCH_LEVEL); *Irql receives the IRQL to restore. */
NTKERNELAPI VOID NTAPI IoAcquireCancelSpinLock(PKIRQL Irql);
/* DISPATCH_LEVEL, holding the cancel spin lock. Releases it, lowers to Irql. */
NTKERNELAPI VOID NTAPI IoReleaseCancelSpinLock(KIRQL Irql);
/* <= DISPATCH_LEVEL. Marks Irp cancelled and, if it has a cancel routine,
   clears it and calls it holding the cancel spin lock (TRUE); FALSE if it
   had none. */
NTKERNELAPI BOOLEAN NTAPI IoCancelIrp(PIRP Irp);
/* <= DISPATCH_LEVEL. Completes Irp: once, with no cancel routine set. */
NTKERNELAPI VOID FASTCALL IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost);
#define IoCompleteRequest IofCompleteRequest

/* ---------------------------------------------------------------------- */
/* Emulation controls, for tests (nothing like them exists in a kernel)    */
/* ---------------------------------------------------------------------- */

/* Any IRQL (heap, not pool). A zeroed IRP whose one stack location is
   current, with MajorFunction, IoControlCode and FileObject set; NULL when
   out of memory. */
PIRP WdkmHostIrpAllocate(UCHAR MajorFunction, ULONG IoControlCode, PFILE_OBJECT FileObject);
/* Frees Irp (off its thread's list, if queued). An IRP still holding a
   cancel routine bug checks as a completion would
   (CANCEL_STATE_IN_COMPLETED_IRP). An IRP queued on a thread and freed
   while its IoCompleteRequest or its thread exit's IoCancelIrp is still
   running (from its completion hook, or by a test that saw the count
   below) is freed when that call is done with it. */
VOID WdkmHostIrpFree(PIRP Irp);
/* Has IoCompleteRequest call Hook(Irp, Context) after it completed Irp
   (on the completing thread, at its IRQL). */
VOID WdkmHostIrpSetCompletionHook(PIRP Irp, WDKM_HOST_IRP_COMPLETION *Hook, PVOID Context);
/* IoCompleteRequest calls for Irp so far (a second one bug checks). Once
   it reads 1, IoCompleteRequest no longer reads the IRP (only its hook
   may still run, with the pointer): a test that does not use the hook may
   free the IRP then. */
LONG WdkmHostIrpCompletions(const IRP *Irp);

/*
 * Threads' IRPs. NT's I/O manager queues the IRP of a request a thread
 * issues (NtDeviceIoControlFile, ReadFile, IoBuildDeviceIoControlRequest)
 * on that thread, with Tail.Overlay.Thread naming it; IoCompleteRequest's
 * completion takes it off. When the thread exits with IRPs still queued
 * (process teardown, a thread killed mid-request), its exit calls
 * IoCancelIrp on each, at APC_LEVEL (the cancel routine gets
 * CancelIrql == APC_LEVEL, on the exiting thread), then waits for all of
 * them to complete; NT gives up on an IRP after 5 minutes, takes it off
 * the thread (Tail.Overlay.Thread NULL), logs IO_DRIVER_CANCEL_TIMEOUT and
 * lets the thread go. The emulation does the same for system threads and
 * adopted pthreads (not the main thread: its end is the process's), with
 * a shorter, settable bound: on timeout every IRP still queued is taken
 * off (Tail.Overlay.Thread NULL, still pending: whoever holds it may
 * complete it later), one line per IRP goes to stderr, the count below
 * goes up, and the exit goes on. The thread's object is signalled only
 * after all this, so a test that waits for the thread sees the outcome.
 * A bug check inside a cancel routine that the exit runs is fatal unless
 * a handler takes it (no trap reaches an exit); when the handler returns,
 * that IoCancelIrp ends there, as a DPC does, and the exit goes on (an
 * IRP left pending then times out).
 */
/* Any IRQL. Queues Irp on the calling thread, as issued by it: sets
   Tail.Overlay.Thread; IoCompleteRequest (or WdkmHostIrpFree) takes it
   off. Call it before the driver sees the IRP; an IRP already completed is
   not queued, one queued on another thread moves. */
VOID WdkmHostIrpQueueToThread(PIRP Irp);
/* How long a thread's exit waits for its cancelled IRPs, all together,
   before it takes them off (default 5000 ms; 0: not at all). Returns the
   previous bound. */
ULONG WdkmHostSetIrpCancelTimeout(ULONG Milliseconds);
/* IRPs taken off an exiting thread because the bound ran out, so far. */
ULONG WdkmHostIrpCancelTimeouts(VOID);

#endif /* WDKM_HOST_IO_H */
