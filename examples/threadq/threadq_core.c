/*
 * threadq_core.c - the worker-thread device's logic (see threadq_core.h
 * for the shape and the locks). No device object or registry key here:
 * threadq_driver.c does the I/O plumbing, and the host test drives these
 * functions with the emulation's IRPs, threads, DPCs and APCs.
 *
 * Who runs what, and at which IRQL:
 *   TqCoreSubmit   dispatch, PASSIVE: count the job, insert it in the
 *                  library's cancel-safe queue, signal the thread.
 *   TqThreadMain   the system thread, PASSIVE: start the oldest job as its
 *                  current one (still cancellable), work on it (a wait on
 *                  the work KEVENT, which a cancellation sets through the
 *                  record's OnCancel), end it, complete it if the end says
 *                  it is the thread's.
 *   TqCompleteCancelled  the queue's CompleteCanceledIrp, <= DISPATCH: a
 *                  job cancelled queued or current, cleaned up, or left at
 *                  unload; the queue calls it once per such job.
 *   TqCoreCleanup  IRP_MJ_CLEANUP: the handle's queued jobs end, its
 *                  current one is asked to stop.
 *
 * Who completes a job is the queue's business: no cancel routine, per-IRP
 * state or IoSetCancelRoutine race is written here. The end of the
 * thread's job says STATUS_SUCCESS (complete it) or STATUS_CANCELLED (the
 * queue has it: TqCompleteCancelled, perhaps later, from the cancel
 * routine IoCancelIrp is about to call).
 */
#include "threadq_core.h"

static PKTHREAD TqThread;
static NTSTATUS TqThreadExit;
/* Auto-reset: a job queued, a cancellation of the thread's job, a pause
   change or the stop. The thread re-reads what it needs after each wake. */
static KEVENT TqWork;
/* The jobs waiting for the thread, and the one it works on. */
static PWDKM_CSQ TqQueue;
static WDKM_CSQ_CURRENT TqCurrent;      /* the thread's record */
/* One acquisition per accepted job, released when it ends (by the thread
   or TqCompleteCancelled): the unload checks every job ended once. */
static WDKM_RUNDOWN TqJobs;
/* Held by a submit from its Stopping check to its insert: the unload waits
   for it before it destroys the queue the insert uses. */
static WDKM_RUNDOWN TqSubmits;

static KSTART_ROUTINE TqThreadMain;
static WDKM_CSQ_COMPLETE_CANCELED_IRP TqCompleteCancelled;
static WDKM_CSQ_CURRENT_CANCELLED TqCurrentCancelled;

#define TQ_IRP_FILE_LOCK(Irp) ((Irp)->Tail.Overlay.DriverContext[0])
#define TQ_IRP_STATE(Irp)     ((Irp)->Tail.Overlay.DriverContext[1])

/* "threadq.file#<FILE_OBJECT's address>": a lock per handle, all of them
   in the checked build's lock class "threadq.file", so the device-then-
   handle order learnt on one handle is validated on every handle. It
   cannot fail (a short role, a buffer of WDKM_GRT_INSTANCE_NAME_SIZE); if
   it did, the empty name would be refused by every registry call. */
static VOID
TqFileName(
    _In_ PFILE_OBJECT FileObject,
    _Out_writes_z_(WDKM_GRT_INSTANCE_NAME_SIZE) char *Name
    )
{
    if (WdkmGrtInstanceName(Name, WDKM_GRT_INSTANCE_NAME_SIZE, TQ_FILE_ROLE, FileObject) !=
        STATUS_SUCCESS) {
        Name[0] = '\0';
    }
}

/* The device lock, referenced. Registered from TqCoreStart until the end
   of TqCoreStop, which comes after the last job: a failure in a callback
   that has no status to give is a bug, and is stopped by name rather than
   leaving an IRP hung. */
#define TqDeviceOrBugCheck() WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK(TQ_DEVICE_NAME, TQ_DEVICE)

/* Under the device lock: one job ended, as Done or Cancelled; its
   acquisition of the rundown goes back (the last one once the unload
   waits wakes it). */
static VOID
TqCountEnd(
    _Inout_ TQ_DEVICE *Device,
    _In_ BOOLEAN Done
    )
{
    if (Done) {
        Device->Done += 1;
    } else {
        Device->Cancelled += 1;
    }
    /* Cannot be refused: one release per accepted job (a second one would
       be STATUS_WDKM_NOT_HELD, counted rather than lost). */
    if (WdkmRundownRelease(&TqJobs) != STATUS_SUCCESS) {
        Device->ReleaseRefused += 1;
    }
}

/*
 * The job's ending, after the device lock was let go (its counts there are
 * done): its handle's counts, the completion, and the handle's reference
 * dropped. <= DISPATCH_LEVEL; no status to give, hence the callback form.
 */
static VOID
TqEnd(
    _Inout_ PIRP Irp,
    _In_ NTSTATUS Status,
    _In_ ULONG_PTR Information
    )
{
    PWDKM_SPIN_LOCK FileLock = (PWDKM_SPIN_LOCK)TQ_IRP_FILE_LOCK(Irp);
    TQ_FILE *File;
    KIRQL OldIrql;

    TQ_IRP_FILE_LOCK(Irp) = NULL;
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(FileLock, &OldIrql, &File);
    if (Status == STATUS_SUCCESS) {
        File->Done += 1;
    } else {
        File->Cancelled += 1;
    }
    (VOID)WdkmSpinLockRelease(FileLock, OldIrql);

    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    /* The handle's context may be unregistered already: this may be the
       last reference, which frees it. */
    (VOID)WdkmGrtDereference(FileLock);
}

/*
 * The queue's CompleteCanceledIrp: a job cancelled while queued or while
 * the thread had it (its state tells which, for the counts), cleaned up,
 * or left at unload. <= DISPATCH_LEVEL, no lock of the queue held, on the
 * cancelling thread (or the one inserting, ending, or destroying).
 */
static VOID
TqCompleteCancelled(
    _In_ PWDKM_CSQ Csq,
    _In_ PIRP Irp,
    _In_opt_ PVOID Context
    )
{
    PWDKM_SPIN_LOCK Lock = TqDeviceOrBugCheck();
    TQ_DEVICE *Device;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Csq);
    UNREFERENCED_PARAMETER(Context);
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
    if ((TQ_STATE)(ULONG_PTR)TQ_IRP_STATE(Irp) == TqStateCurrent) {
        Device->CancelledCurrent += 1;
    } else {
        Device->CancelledQueued += 1;
    }
    TqCountEnd(Device, FALSE);
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    TqEnd(Irp, STATUS_CANCELLED, 0);
    (VOID)WdkmGrtDereference(Lock);
}

/* The thread's record's OnCancel: wake it (any thread, <= DISPATCH). */
static VOID
TqCurrentCancelled(
    _In_ PWDKM_CSQ Csq,
    _In_opt_ PVOID Context
    )
{
    UNREFERENCED_PARAMETER(Csq);
    UNREFERENCED_PARAMETER(Context);
    (VOID)KeSetEvent(&TqWork, IO_NO_INCREMENT, FALSE);
}

/* Under the queue's lock: one of the handle's jobs? */
static BOOLEAN
TqSameFile(
    _In_ PIRP Irp,
    _In_opt_ PVOID FileObject
    )
{
    return IoGetCurrentIrpStackLocation(Irp)->FileObject == (PFILE_OBJECT)FileObject;
}

/*
 * The handle's jobs end: the queued ones here (cancelled), the thread's
 * is asked to stop (the thread ends it). Queued first: a job started
 * between the two is then found current. Returns how many.
 */
static ULONG
TqCancelFileJobs(
    _In_ PFILE_OBJECT FileObject
    )
{
    ULONG Ending = 0;
    ULONG Current = 0;
    PIRP Irp;

    while (WdkmCsqRemoveNextIrp(TqQueue, TqSameFile, FileObject, &Irp) == STATUS_SUCCESS) {
        TqCompleteCancelled(TqQueue, Irp, NULL);
        Ending += 1;
    }
    if (WdkmCsqCancelCurrentIrps(TqQueue, TqSameFile, FileObject, &Current) == STATUS_SUCCESS) {
        Ending += Current;
    }
    return Ending;
}

/* Performance-counter ticks from now until Milliseconds have passed. */
static LONG64
TqDeadline(
    _In_ ULONG Milliseconds
    )
{
    LARGE_INTEGER Frequency;
    LARGE_INTEGER Now = KeQueryPerformanceCounter(&Frequency);

    return Now.QuadPart + (LONG64)Milliseconds * Frequency.QuadPart / 1000;
}

/* Milliseconds left until Deadline (0 once passed). */
static ULONG
TqRemainingMs(
    _In_ LONG64 Deadline
    )
{
    LARGE_INTEGER Frequency;
    LARGE_INTEGER Now = KeQueryPerformanceCounter(&Frequency);

    if (Now.QuadPart >= Deadline) {
        return 0;
    }
    return (ULONG)((Deadline - Now.QuadPart) * 1000 / Frequency.QuadPart) + 1;
}

/*
 * Works on the thread's job for WorkMs: waits on the work event, so a
 * cancellation (the record's OnCancel sets it) or the stop ends the work
 * early. Returns TRUE if the work ran its full time.
 */
static BOOLEAN
TqWorkOn(
    _In_ PWDKM_SPIN_LOCK Lock,
    _In_ ULONG WorkMs
    )
{
    LONG64 Deadline = TqDeadline(WorkMs);
    TQ_DEVICE *Device;
    KIRQL OldIrql;
    ULONG Remaining;

    while ((Remaining = TqRemainingMs(Deadline)) != 0) {
        LARGE_INTEGER Timeout;
        BOOLEAN Stopping;

        Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Remaining);
        if (KeWaitForSingleObject(&TqWork, Executive, KernelMode, FALSE, &Timeout) ==
            STATUS_TIMEOUT) {
            continue;
        }
        if (WdkmCsqCheckCurrentIrp(TqQueue, &TqCurrent) != STATUS_SUCCESS) {
            return FALSE;                   /* cancelled, or cleaned up */
        }
        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
        Stopping = Device->Stopping;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
        if (Stopping) {
            return FALSE;
        }
    }
    return TRUE;
}

/*
 * The worker thread. PASSIVE_LEVEL. Keeps one reference on the device
 * lock for its whole life; the unload's handshake: Stopping set under the
 * lock, the thread's job asked to stop, the event signalled, the thread
 * object waited for. Jobs still queued are the queue's destroy's.
 */
static VOID
TqThreadMain(
    _In_ PVOID Context
    )
{
    PWDKM_SPIN_LOCK Lock = TqDeviceOrBugCheck();
    TQ_DEVICE *Device;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Context);
    for (;;) {
        PIRP Irp = NULL;
        BOOLEAN Paused;
        BOOLEAN Stopping;
        BOOLEAN WorkedFully;
        NTSTATUS Status;

        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
        Stopping = Device->Stopping;
        Paused = Device->Paused;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
        if (Stopping) {
            break;
        }
        if (Paused || WdkmCsqStartNextIrp(TqQueue, NULL, NULL, &TqCurrent, &Irp) !=
                          STATUS_SUCCESS) {
            (VOID)KeWaitForSingleObject(&TqWork, Executive, KernelMode, FALSE, NULL);
            continue;
        }
        /* Ours until the end (never completed under us): for the counts of
           TqCompleteCancelled, which sees it after the end. */
        TQ_IRP_STATE(Irp) = (PVOID)(ULONG_PTR)TqStateCurrent;
        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
        Device->Busy = TRUE;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);

        WorkedFully = TqWorkOn(Lock, ((THREADQ_JOB *)Irp->AssociatedIrp.SystemBuffer)->WorkMs);
        Status = WdkmCsqEndCurrentIrp(TqQueue, &TqCurrent);

        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
        Device->Busy = FALSE;
        if (Status != STATUS_SUCCESS) {
            /* STATUS_CANCELLED: the queue completes it. Having worked it
               fully, the thread lost the race to the cancellation. */
            Device->HandedToCancel += WorkedFully ? 1 : 0;
            Irp = NULL;
        } else if (WorkedFully) {
            THREADQ_JOB *Job = (THREADQ_JOB *)Irp->AssociatedIrp.SystemBuffer;

            Device->Sequence += 1;
            Job->Answer = THREADQ_ANSWER(Job->Value);
            Job->Sequence = Device->Sequence;
            TqCountEnd(Device, TRUE);
        } else {
            Device->CancelledCurrent += 1;  /* stopped by the unload */
            TqCountEnd(Device, FALSE);
        }
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
        if (Irp != NULL) {
            TqEnd(Irp, WorkedFully ? STATUS_SUCCESS : STATUS_CANCELLED,
                  WorkedFully ? sizeof(THREADQ_JOB) : 0);
        }
    }
    (VOID)WdkmGrtDereference(Lock);
    TqThreadExit = STATUS_SUCCESS;
    (VOID)PsTerminateSystemThread(STATUS_SUCCESS);
}

_Use_decl_annotations_
NTSTATUS
TqCoreStart(VOID)
{
    TQ_DEVICE Initial;
    HANDLE Handle;
    NTSTATUS Status;

    TqThread = NULL;
    TqThreadExit = STATUS_PENDING;
    TqQueue = NULL;
    KeInitializeEvent(&TqWork, SynchronizationEvent, FALSE);
    RtlZeroMemory(&Initial, sizeof(Initial));
    Status = WdkmRundownInitialize(&TqJobs);
    if (Status == STATUS_SUCCESS) {
        Status = WdkmRundownInitialize(&TqSubmits);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WdkmCsqInitializeCurrent(&TqCurrent, TqCurrentCancelled, NULL);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WdkmGrtInitialize();
    }
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_GRT_REGISTER_SPIN_LOCK(TQ_DEVICE_NAME, &Initial);
    if (Status == STATUS_SUCCESS) {
        Status = WdkmCsqCreate(TqCompleteCancelled, NULL, &TqQueue);
    }
    if (Status == STATUS_SUCCESS) {
        Status = PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                      TqThreadMain, NULL);
    }
    if (Status == STATUS_SUCCESS) {
        Status = ObReferenceObjectByHandle(Handle, SYNCHRONIZE, NULL, KernelMode,
                                           (PVOID *)&TqThread, NULL);
        (VOID)ZwClose(Handle);
        if (Status != STATUS_SUCCESS) {
            /* The thread runs and cannot be waited for: leave everything
               in place rather than free the queue under it. Not seen. */
            return Status;
        }
    }
    if (Status != STATUS_SUCCESS) {
        if (TqQueue != NULL) {
            (VOID)WdkmCsqDestroy(TqQueue);      /* empty: no job yet */
            TqQueue = NULL;
        }
        (VOID)WdkmGrtDestroy(NULL, NULL);
    }
    return Status;
}

_Use_decl_annotations_
NTSTATUS
TqCoreOpen(
    PFILE_OBJECT FileObject
    )
{
    TQ_FILE Initial = { 0, 0, 0, FALSE };
    char Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    PWDKM_SPIN_LOCK Lock;
    TQ_DEVICE *Device;
    KIRQL OldIrql;
    NTSTATUS Status;

    TqFileName(FileObject, Name);
    Status = WDKM_GRT_REGISTER_SPIN_LOCK(Name, &Initial);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Lock = TqDeviceOrBugCheck();
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
    Device->Opens += 1;
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    (VOID)WdkmGrtDereference(Lock);
    return STATUS_SUCCESS;
}

/* Sets (and returns the previous) CleanedUp of the handle; FALSE if it
   has no context (never opened, or closed). Set NULL: only reads it. */
static BOOLEAN
TqFileCleanedUp(
    _In_ PFILE_OBJECT FileObject,
    _In_ BOOLEAN Set
    )
{
    char Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    PWDKM_SPIN_LOCK FileLock;
    BOOLEAN Was = FALSE;
    TQ_FILE *File;
    KIRQL OldIrql;

    TqFileName(FileObject, Name);
    if (WDKM_GRT_GET_SPIN_LOCK(Name, TQ_FILE, &FileLock) == STATUS_SUCCESS) {
        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(FileLock, &OldIrql, &File);
        Was = File->CleanedUp;
        File->CleanedUp = (BOOLEAN)(Was || Set);
        (VOID)WdkmSpinLockRelease(FileLock, OldIrql);
        (VOID)WdkmGrtDereference(FileLock);
    }
    return Was;
}

_Use_decl_annotations_
ULONG
TqCoreCleanup(
    PFILE_OBJECT FileObject
    )
{
    /* First no new job for the handle (a submit reads the flag after its
       insert and then ends its own job: none slips past the sweep). */
    (VOID)TqFileCleanedUp(FileObject, TRUE);
    return TqCancelFileJobs(FileObject);
}

_Use_decl_annotations_
ULONG
TqCoreClose(
    PFILE_OBJECT FileObject
    )
{
    char Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    PWDKM_SPIN_LOCK Lock;
    TQ_DEVICE *Device;
    KIRQL OldIrql;
    ULONG Ending;

    Ending = TqCoreCleanup(FileObject);     /* nothing left after a real cleanup */
    TqFileName(FileObject, Name);
    if (WdkmGrtUnregister(Name) != STATUS_SUCCESS) {
        return Ending;              /* never opened (its create failed) */
    }
    Lock = TqDeviceOrBugCheck();
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
    Device->Opens -= 1;
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    (VOID)WdkmGrtDereference(Lock);
    return Ending;
}

/*
 * Under the device lock, the handle's lock nested: the job is accepted
 * (counted, its rundown acquisition taken) or refused with a status.
 */
static NTSTATUS
TqAccept(
    _Inout_ TQ_DEVICE *Device,
    _Inout_ TQ_FILE *File
    )
{
    NTSTATUS Status;

    if (Device->Stopping) {
        Status = STATUS_DELETE_PENDING;
    } else if (File->CleanedUp) {
        Status = STATUS_FILE_CLOSED;
    } else {
        Status = WdkmRundownAcquire(&TqJobs);
    }
    if (Status == STATUS_SUCCESS) {
        File->Submitted += 1;
        Device->Submitted += 1;
    } else {
        Device->Refused += 1;
    }
    return Status;
}

_Use_decl_annotations_
NTSTATUS
TqCoreSubmit(
    PIRP Irp
    )
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    char Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    PWDKM_SPIN_LOCK FileLock;
    PWDKM_SPIN_LOCK Lock;
    TQ_DEVICE *Device;
    TQ_FILE *File;
    KIRQL OldIrql;
    NTSTATUS Status;

    if (Stack->Parameters.DeviceIoControl.InputBufferLength < sizeof(THREADQ_JOB) ||
        Stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(THREADQ_JOB)) {
        return STATUS_BUFFER_TOO_SMALL;
    }
    TqFileName(Stack->FileObject, Name);
    Status = WDKM_GRT_GET_SPIN_LOCK(Name, TQ_FILE, &FileLock);
    if (Status == STATUS_OBJECT_NAME_NOT_FOUND) {
        return STATUS_FILE_CLOSED;          /* closed under us */
    }
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_GRT_GET_SPIN_LOCK(TQ_DEVICE_NAME, TQ_DEVICE, &Lock);
    if (Status == STATUS_SUCCESS) {
        /* Refused once the unload waits: then the queue may be gone. */
        Status = WdkmRundownAcquire(&TqSubmits);
        if (Status != STATUS_SUCCESS) {
            (VOID)WdkmGrtDereference(Lock);
        }
    }
    if (Status != STATUS_SUCCESS) {
        (VOID)WdkmGrtDereference(FileLock);
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Device);
    if (WDKM_ACQUIRED(Status)) {
        Status = WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(FileLock, &File);
        if (WDKM_ACQUIRED(Status)) {
            Status = TqAccept(Device, File);
            (VOID)WdkmSpinLockReleaseFromDpcLevel(FileLock);
        }
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    }
    (VOID)WdkmGrtDereference(Lock);
    if (Status == STATUS_SUCCESS) {
        TQ_IRP_FILE_LOCK(Irp) = FileLock;       /* the job's reference now */
        TQ_IRP_STATE(Irp) = (PVOID)(ULONG_PTR)TqStateQueued;
        /* Never refused: the queue is destroyed only after this submit
           (TqSubmits), and the IRP is fresh. An IRP cancelled already goes
           to TqCompleteCancelled, here, and is accounted for there. */
        Status = WdkmCsqInsertIrp(TqQueue, Irp, NULL);
        if (Status != STATUS_PENDING) {
            /* Not seen: ended as the queue would end it. */
            IoMarkIrpPending(Irp);
            TqCompleteCancelled(TqQueue, Irp, NULL);
            Status = STATUS_PENDING;
        }
        if (TqFileCleanedUp(Stack->FileObject, FALSE)) {
            /* The cleanup came between the check and the insert, and its
               sweep may have missed the job: do it again. */
            (VOID)TqCancelFileJobs(Stack->FileObject);
        }
        (VOID)KeSetEvent(&TqWork, IO_NO_INCREMENT, FALSE);
    } else {
        (VOID)WdkmGrtDereference(FileLock);
    }
    (VOID)WdkmRundownRelease(&TqSubmits);
    return Status;
}

_Use_decl_annotations_
NTSTATUS
TqCoreQuery(
    PFILE_OBJECT FileObject,
    THREADQ_REPORT *Report
    )
{
    WDKM_POOL_STATISTICS Pool;
    char Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    PWDKM_SPIN_LOCK FileLock;
    PWDKM_SPIN_LOCK Lock;
    TQ_DEVICE *Device;
    TQ_FILE *File;
    KIRQL OldIrql;
    NTSTATUS Status;

    RtlZeroMemory(Report, sizeof(*Report));
    Status = WDKM_GRT_GET_SPIN_LOCK(TQ_DEVICE_NAME, TQ_DEVICE, &Lock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Device);
    if (WDKM_ACQUIRED(Status)) {
        Report->Submitted = Device->Submitted;
        Report->Done = Device->Done;
        Report->Cancelled = Device->Cancelled;
        Report->Refused = Device->Refused;
        Report->CancelledQueued = Device->CancelledQueued;
        Report->CancelledCurrent = Device->CancelledCurrent;
        Report->HandedToCancel = Device->HandedToCancel;
        Report->Opens = Device->Opens;
        Report->Busy = Device->Busy;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    }
    (VOID)WdkmGrtDereference(Lock);
    if (Status == STATUS_SUCCESS) {
        ULONG Queued = 0;

        Status = WdkmCsqQueryCount(TqQueue, &Queued);
        Report->Queued = Queued;
    }
    if (Status != STATUS_SUCCESS || FileObject == NULL) {
        return Status;
    }
    TqFileName(FileObject, Name);
    Status = WDKM_GRT_GET_SPIN_LOCK(Name, TQ_FILE, &FileLock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(FileLock, &OldIrql, &File);
    if (WDKM_ACQUIRED(Status)) {
        Report->FileSubmitted = File->Submitted;
        Report->FileDone = File->Done;
        Report->FileCancelled = File->Cancelled;
        (VOID)WdkmSpinLockRelease(FileLock, OldIrql);
    }
    (VOID)WdkmGrtDereference(FileLock);
    WdkmQueryPoolStatistics(&Pool);
    Report->PoolBlocksOutstanding = (long)Pool.OutstandingBlocks;
    return Status;
}

_Use_decl_annotations_
NTSTATUS
TqCorePause(
    BOOLEAN Paused
    )
{
    PWDKM_SPIN_LOCK Lock;
    TQ_DEVICE *Device;
    KIRQL OldIrql;
    NTSTATUS Status;

    Status = WDKM_GRT_GET_SPIN_LOCK(TQ_DEVICE_NAME, TQ_DEVICE, &Lock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Device);
    if (WDKM_ACQUIRED(Status)) {
        Device->Paused = Paused;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
        (VOID)KeSetEvent(&TqWork, IO_NO_INCREMENT, FALSE);
    }
    (VOID)WdkmGrtDereference(Lock);
    return Status;
}

_Use_decl_annotations_
VOID
TqCoreStop(
    TQ_FINAL *Final
    )
{
    PWDKM_SPIN_LOCK Lock = TqDeviceOrBugCheck();
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;
    TQ_DEVICE *Device;
    KIRQL OldIrql;

    RtlZeroMemory(Final, sizeof(*Final));
    /* 1. No job accepted or started from now on; submits already past
       their check finish their insert. */
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
    Device->Stopping = TRUE;
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    Final->Drained = WdkmRundownWait(&TqSubmits, NULL);

    /* 2. The handshake: the thread's job is asked to stop (its OnCancel
       wakes it), the thread ends it and exits; it is waited for by its
       object, not by a flag it sets. */
    (VOID)WdkmCsqCancelCurrentIrps(TqQueue, NULL, NULL, NULL);
    (VOID)KeSetEvent(&TqWork, IO_NO_INCREMENT, FALSE);
    if (TqThread != NULL) {
        (VOID)KeWaitForSingleObject(TqThread, Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(TqThread);
        TqThread = NULL;
    }
    Final->ThreadExit = TqThreadExit;

    /* 3. The queue: its jobs end cancelled, and cancel routines still owed
       (IoCancelIrp took the routine but has not called it yet) are waited
       for. Then every accepted job has ended. */
    Final->QueueDestroy = WdkmCsqDestroy(TqQueue);
    TqQueue = NULL;
    if (Final->Drained == STATUS_SUCCESS) {
        Final->Drained = WdkmRundownWait(&TqJobs, NULL);
    }

    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
    Final->Submitted = Device->Submitted;
    Final->Done = Device->Done;
    Final->Cancelled = Device->Cancelled;
    Final->ReleaseRefused = Device->ReleaseRefused;
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    (VOID)WdkmGrtDereference(Lock);

    /* 4. Every lock: the device's, and the handles' still open (a close
       Wine never sent). A cancel routine's last reference is waited for. */
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(10000);
    Final->Destroy = WdkmGrtDestroy(&Timeout, &Report);
}
