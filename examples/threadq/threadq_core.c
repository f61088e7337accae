/*
 * threadq_core.c - the worker-thread device's logic (see threadq_core.h
 * for the shape and the locks). No device object or registry key here:
 * threadq_driver.c does the I/O plumbing, and the host test drives these
 * functions with the emulation's IRPs, threads, DPCs and APCs.
 *
 * Who runs what, and at which IRQL:
 *   TqCoreSubmit   dispatch, PASSIVE: queue the IRP, arm its cancel
 *                  routine, signal the thread.
 *   TqThreadMain   the system thread, PASSIVE: take the oldest job, work
 *                  on it (a wait on the work KEVENT, so a cancel, a
 *                  cleanup or the unload wakes it), complete it.
 *   TqCancel       the cancel routine, <= DISPATCH (IoCancelIrp): a
 *                  queued job is unlinked and completed here; the
 *                  thread's job is marked and the thread completes it.
 *   TqCoreCleanup  IRP_MJ_CLEANUP: the handle's queued jobs end, its
 *                  current one is aborted.
 *
 * The race of a cancel routine with the thread's completion of its job:
 * IoCancelIrp takes the cancel routine (an interlocked exchange) before
 * it calls it, and the routine must then take the device lock. Whoever
 * else wants to complete the job clears the routine under the device lock
 * first (IoSetCancelRoutine(Irp, NULL)); a NULL answer means the routine
 * was taken and is on its way, so the job is left where the routine will
 * look for it (state in DriverContext[1]): still queued, or, for the
 * thread's job, TqStateHandedOff. Only if the routine has already marked
 * the job (CurrentCancelSeen: it will not touch it again) does the thread
 * complete it itself. So each IRP is completed exactly once and never
 * touched by the routine after its completion.
 */
#include "threadq_core.h"

static PKTHREAD TqThread;
static NTSTATUS TqThreadExit;
/* Auto-reset: a job queued, a cancel, a cleanup, a pause change or the
   stop. The thread re-reads the device under its lock after each wake. */
static KEVENT TqWork;
/* One acquisition per accepted job, released when it ends (by the thread,
   a cancel routine, cleanup or the unload): the unload waits for the
   rundown before tearing the locks down, so no cancel routine still owed
   can find the device lock gone. */
static WDKM_RUNDOWN TqJobs;

static KSTART_ROUTINE TqThreadMain;
static DRIVER_CANCEL TqCancel;

#define TQ_IRP_FILE_LOCK(Irp) ((Irp)->Tail.Overlay.DriverContext[0])
#define TQ_IRP_STATE(Irp)     ((Irp)->Tail.Overlay.DriverContext[1])

/* Irp->Cancel, which IoCancelIrp sets on another processor: one atomic
   load where the compiler has one. The plain read NT's samples make is a
   data race to C11 (TSan reports it in the host test). */
static BOOLEAN
TqIrpCancelled(
    _In_ PIRP Irp
    )
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(&Irp->Cancel, __ATOMIC_RELAXED) != FALSE;
#else
    return *(volatile BOOLEAN *)&Irp->Cancel != FALSE;
#endif
}

/* The driver's own stop for a job in no state a cancel can meet (a bug in
   this file): a customer code (bit 29) of its own, not the library's
   WDKM_BUGCHECK_LOCK_MISUSE, which names lock misuse. */
#define TQ_BUGCHECK_JOB_STATE 0x20710001UL

static TQ_STATE
TqState(
    _In_ PIRP Irp
    )
{
    return (TQ_STATE)(ULONG_PTR)TQ_IRP_STATE(Irp);
}

static VOID
TqSetState(
    _Inout_ PIRP Irp,
    _In_ TQ_STATE State
    )
{
    TQ_IRP_STATE(Irp) = (PVOID)(ULONG_PTR)State;
}

/* "threadq.f." and the FILE_OBJECT's address in 16 hex digits. */
static VOID
TqFileName(
    _In_ PFILE_OBJECT FileObject,
    _Out_writes_(TQ_FILE_NAME_SIZE) char *Name
    )
{
    static const char Digits[] = "0123456789abcdef";
    ULONG64 Address = (ULONG64)(ULONG_PTR)FileObject;
    SIZE_T Prefix = sizeof(TQ_FILE_NAME_PREFIX) - 1;
    SIZE_T Index;

    RtlCopyMemory(Name, TQ_FILE_NAME_PREFIX, Prefix);
    for (Index = 0; Index < 16; Index += 1) {
        Name[Prefix + Index] = Digits[(Address >> (60 - 4 * Index)) & 0xF];
    }
    Name[Prefix + 16] = '\0';
}

static NTSTATUS
TqDeviceInitialize(
    _Out_ PVOID Value,
    _In_opt_ PVOID Context
    )
{
    UNREFERENCED_PARAMETER(Context);
    InitializeListHead(&((TQ_DEVICE *)Value)->Queue);
    return STATUS_SUCCESS;
}

/* The device lock, referenced. Registered from TqCoreStart until the end
   of TqCoreStop, which comes after the last job and cancel routine: a
   failure in a callback that has no status to give is a bug, and is
   stopped by name rather than leaving an IRP hung. */
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

/* Ends every IRP linked on List (cancelled). No lock held. */
static VOID
TqEndList(
    _Inout_ PLIST_ENTRY List
    )
{
    while (!IsListEmpty(List)) {
        PIRP Irp = CONTAINING_RECORD(RemoveHeadList(List), IRP, Tail.Overlay.ListEntry);

        TqEnd(Irp, STATUS_CANCELLED, 0);
    }
}

/*
 * Under the device lock: moves the queued jobs that Match accepts (all of
 * them for FileObject NULL) to *Ended, unless their cancel routine was
 * taken already (IoCancelIrp is on its way: it finds them still queued).
 */
static ULONG
TqTakeQueued(
    _Inout_ TQ_DEVICE *Device,
    _In_opt_ PFILE_OBJECT FileObject,
    _Inout_ PLIST_ENTRY Ended
    )
{
    PLIST_ENTRY Entry = Device->Queue.Flink;
    ULONG Taken = 0;

    while (Entry != &Device->Queue) {
        PIRP Irp = CONTAINING_RECORD(Entry, IRP, Tail.Overlay.ListEntry);

        Entry = Entry->Flink;
        if (FileObject != NULL && IoGetCurrentIrpStackLocation(Irp)->FileObject != FileObject) {
            continue;
        }
        if (IoSetCancelRoutine(Irp, NULL) == NULL) {
            continue;       /* its cancel routine completes it */
        }
        RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
        Device->Queued -= 1;
        TqSetState(Irp, TqStateNone);
        Device->CancelledQueued += 1;
        TqCountEnd(Device, FALSE);
        InsertTailList(Ended, &Irp->Tail.Overlay.ListEntry);
        Taken += 1;
    }
    return Taken;
}

/*
 * The cancel routine of every job, queued or the thread's. Called by
 * IoCancelIrp with the cancel spin lock held, at <= DISPATCH_LEVEL (a
 * reported PASSIVE_LEVEL under Wine); nobody else completes the IRP once
 * IoCancelIrp has taken this routine (see the top of the file).
 */
static VOID
TqCancel(
    _Inout_ PDEVICE_OBJECT DeviceObject,
    _Inout_ PIRP Irp
    )
{
    PWDKM_SPIN_LOCK Lock;
    TQ_DEVICE *Device;
    KIRQL OldIrql;
    BOOLEAN Complete = FALSE;

    UNREFERENCED_PARAMETER(DeviceObject);
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    Lock = TqDeviceOrBugCheck();
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
    switch (TqState(Irp)) {
    case TqStateQueued:
        RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
        Device->Queued -= 1;
        Device->CancelledQueued += 1;
        Complete = TRUE;
        break;
    case TqStateCurrent:
        /* The thread is working on it: it sees the mark and completes it. */
        Device->CurrentCancelSeen = TRUE;
        (VOID)KeSetEvent(&TqWork, IO_NO_INCREMENT, FALSE);
        break;
    case TqStateHandedOff:
        /* The thread finished first, found this routine taken and left
           the job to it. */
        Device->CancelledCurrent += 1;
        Complete = TRUE;
        break;
    default:
        KeBugCheckEx(TQ_BUGCHECK_JOB_STATE, (ULONG_PTR)Irp, (ULONG_PTR)TqState(Irp), 0, 0);
    }
    if (Complete) {
        TqSetState(Irp, TqStateNone);
        TqCountEnd(Device, FALSE);
    }
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    if (Complete) {
        TqEnd(Irp, STATUS_CANCELLED, 0);
    }
    /* Dropped after the completion: the unload's registry destroy waits
       for this reference. */
    (VOID)WdkmGrtDereference(Lock);
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
 * cancel, an abort or the stop ends the work early. Returns TRUE if the
 * work ran its full time.
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
        BOOLEAN Interrupted;

        Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Remaining);
        if (KeWaitForSingleObject(&TqWork, Executive, KernelMode, FALSE, &Timeout) ==
            STATUS_TIMEOUT) {
            continue;
        }
        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
        Interrupted = Device->CurrentCancelSeen || Device->CurrentAbort || Device->Stopping;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
        if (Interrupted) {
            return FALSE;
        }
    }
    return TRUE;
}

/*
 * Under the device lock: the thread's job ends. Returns the IRP to
 * complete with *Status, or NULL if its cancel routine completes it.
 */
static PIRP
TqFinishCurrent(
    _Inout_ TQ_DEVICE *Device,
    _In_ BOOLEAN WorkedFully,
    _Out_ NTSTATUS *Status
    )
{
    PIRP Irp = Device->Current;
    BOOLEAN Cancelled = !WorkedFully || Device->CurrentCancelSeen || Device->CurrentAbort;

    Device->Current = NULL;
    *Status = STATUS_CANCELLED;
    if (IoSetCancelRoutine(Irp, NULL) == NULL && !Device->CurrentCancelSeen) {
        /* IoCancelIrp took the routine and it has not reached the lock
           yet: it will find the job handed off, and complete it. */
        TqSetState(Irp, TqStateHandedOff);
        Device->HandedToCancel += 1;
        return NULL;
    }
    TqSetState(Irp, TqStateNone);
    if (Cancelled) {
        Device->CancelledCurrent += 1;
        TqCountEnd(Device, FALSE);
    } else {
        THREADQ_JOB *Job = (THREADQ_JOB *)Irp->AssociatedIrp.SystemBuffer;

        Device->Sequence += 1;
        Job->Answer = THREADQ_ANSWER(Job->Value);
        Job->Sequence = Device->Sequence;
        TqCountEnd(Device, TRUE);
        *Status = STATUS_SUCCESS;
    }
    return Irp;
}

/*
 * The worker thread. PASSIVE_LEVEL. Keeps one reference on the device
 * lock for its whole life; the unload's handshake: Stopping set under the
 * lock, the event signalled, the thread object waited for.
 */
static VOID
TqThreadMain(
    _In_ PVOID Context
    )
{
    PWDKM_SPIN_LOCK Lock = TqDeviceOrBugCheck();
    LIST_ENTRY Ended;
    TQ_DEVICE *Device;
    KIRQL OldIrql;

    UNREFERENCED_PARAMETER(Context);
    for (;;) {
        PIRP Irp = NULL;
        ULONG WorkMs = 0;
        BOOLEAN WorkedFully;
        NTSTATUS Status;

        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
        if (Device->Stopping) {
            break;                          /* with the lock held */
        }
        if (!Device->Paused && !IsListEmpty(&Device->Queue)) {
            Irp = CONTAINING_RECORD(RemoveHeadList(&Device->Queue), IRP, Tail.Overlay.ListEntry);
            Device->Queued -= 1;
            /* Its cancel routine stays armed: it finds the job current. */
            TqSetState(Irp, TqStateCurrent);
            Device->Current = Irp;
            Device->CurrentCancelSeen = FALSE;
            Device->CurrentAbort = FALSE;
            WorkMs = ((THREADQ_JOB *)Irp->AssociatedIrp.SystemBuffer)->WorkMs;
        }
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
        if (Irp == NULL) {
            (VOID)KeWaitForSingleObject(&TqWork, Executive, KernelMode, FALSE, NULL);
            continue;
        }

        WorkedFully = TqWorkOn(Lock, WorkMs);

        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
        Irp = TqFinishCurrent(Device, WorkedFully, &Status);
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
        if (Irp != NULL) {
            TqEnd(Irp, Status, Status == STATUS_SUCCESS ? sizeof(THREADQ_JOB) : 0);
        }
    }

    /* Stopping, the lock held: every queued job whose cancel routine is
       not on its way ends here; those are left to their routines, which
       the unload waits for (the rundown). */
    InitializeListHead(&Ended);
    (VOID)TqTakeQueued(Device, NULL, &Ended);
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    TqEndList(&Ended);
    (VOID)WdkmGrtDereference(Lock);
    TqThreadExit = STATUS_SUCCESS;
    (VOID)PsTerminateSystemThread(STATUS_SUCCESS);
}

_Use_decl_annotations_
NTSTATUS
TqCoreStart(VOID)
{
    HANDLE Handle;
    NTSTATUS Status;

    TqThread = NULL;
    TqThreadExit = STATUS_PENDING;
    KeInitializeEvent(&TqWork, SynchronizationEvent, FALSE);
    Status = WdkmRundownInitialize(&TqJobs);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmGrtInitialize();
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_GRT_REGISTER_IN_PLACE_OF(TQ_DEVICE_NAME, SpinLock, TQ_DEVICE,
                                           TqDeviceInitialize, NULL);
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
               registered rather than free the lock under it. Not seen. */
            return Status;
        }
    }
    if (Status != STATUS_SUCCESS) {
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
    char Name[TQ_FILE_NAME_SIZE];
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

_Use_decl_annotations_
ULONG
TqCoreCleanup(
    PFILE_OBJECT FileObject
    )
{
    char Name[TQ_FILE_NAME_SIZE];
    ULONG Ending;
    PWDKM_SPIN_LOCK FileLock;
    PWDKM_SPIN_LOCK Lock;
    LIST_ENTRY Ended;
    TQ_DEVICE *Device;
    TQ_FILE *File;
    KIRQL OldIrql;

    /* First no new job for the handle: dispatch reads the flag under the
       device lock too, so a job is either refused or queued before the
       sweep below, which then finds it. */
    TqFileName(FileObject, Name);
    if (WDKM_GRT_GET_SPIN_LOCK(Name, TQ_FILE, &FileLock) == STATUS_SUCCESS) {
        (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(FileLock, &OldIrql, &File);
        File->CleanedUp = TRUE;
        (VOID)WdkmSpinLockRelease(FileLock, OldIrql);
        (VOID)WdkmGrtDereference(FileLock);
    }

    InitializeListHead(&Ended);
    Lock = TqDeviceOrBugCheck();
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
    Ending = TqTakeQueued(Device, FileObject, &Ended);
    if (Device->Current != NULL &&
        IoGetCurrentIrpStackLocation(Device->Current)->FileObject == FileObject) {
        Device->CurrentAbort = TRUE;        /* the thread ends it */
        (VOID)KeSetEvent(&TqWork, IO_NO_INCREMENT, FALSE);
        Ending += 1;
    }
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    TqEndList(&Ended);
    (VOID)WdkmGrtDereference(Lock);
    return Ending;
}

_Use_decl_annotations_
ULONG
TqCoreClose(
    PFILE_OBJECT FileObject
    )
{
    char Name[TQ_FILE_NAME_SIZE];
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

_Use_decl_annotations_
NTSTATUS
TqCoreSubmit(
    PIRP Irp
    )
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    char Name[TQ_FILE_NAME_SIZE];
    PWDKM_SPIN_LOCK FileLock;
    PWDKM_SPIN_LOCK Lock;
    TQ_DEVICE *Device;
    TQ_FILE *File;
    KIRQL OldIrql;
    BOOLEAN CancelledAlready = FALSE;
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
    if (Status != STATUS_SUCCESS) {
        (VOID)WdkmGrtDereference(FileLock);
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Device);
    if (!WDKM_ACQUIRED(Status)) {
        (VOID)WdkmGrtDereference(Lock);
        (VOID)WdkmGrtDereference(FileLock);
        return Status;
    }
    Status = WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(FileLock, &File);
    if (!WDKM_ACQUIRED(Status)) {
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
        (VOID)WdkmGrtDereference(Lock);
        (VOID)WdkmGrtDereference(FileLock);
        return Status;
    }
    if (Device->Stopping) {
        Status = STATUS_DELETE_PENDING;
    } else if (File->CleanedUp) {
        Status = STATUS_FILE_CLOSED;
    } else if ((Status = WdkmRundownAcquire(&TqJobs)) == STATUS_SUCCESS) {
        /* Acquired under the same hold as the Stopping check, which the
           unload sets before it waits: never refused here in practice. */
        File->Submitted += 1;
        Device->Submitted += 1;
        IoMarkIrpPending(Irp);
        TQ_IRP_FILE_LOCK(Irp) = FileLock;       /* the job's reference now */
        TqSetState(Irp, TqStateQueued);
        InsertTailList(&Device->Queue, &Irp->Tail.Overlay.ListEntry);
        Device->Queued += 1;
        (VOID)IoSetCancelRoutine(Irp, TqCancel);
        if (TqIrpCancelled(Irp) && IoSetCancelRoutine(Irp, NULL) != NULL) {
            /* Cancelled before the routine was set: ours to end. (If the
               routine was taken, it is on its way and finds it queued.) */
            RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
            Device->Queued -= 1;
            TqSetState(Irp, TqStateNone);
            Device->CancelledQueued += 1;
            TqCountEnd(Device, FALSE);
            CancelledAlready = TRUE;
        }
        Status = STATUS_PENDING;
    }
    if (Status != STATUS_PENDING) {
        Device->Refused += 1;
    }
    (VOID)WdkmSpinLockReleaseFromDpcLevel(FileLock);
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    (VOID)WdkmGrtDereference(Lock);
    if (Status != STATUS_PENDING) {
        (VOID)WdkmGrtDereference(FileLock);
        return Status;
    }
    if (CancelledAlready) {
        TqEnd(Irp, STATUS_CANCELLED, 0);
    } else {
        (VOID)KeSetEvent(&TqWork, IO_NO_INCREMENT, FALSE);
    }
    return STATUS_PENDING;
}

_Use_decl_annotations_
NTSTATUS
TqCoreQuery(
    PFILE_OBJECT FileObject,
    THREADQ_REPORT *Report
    )
{
    WDKM_POOL_STATISTICS Pool;
    char Name[TQ_FILE_NAME_SIZE];
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
        Report->Queued = Device->Queued;
        Report->Busy = Device->Current != NULL;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    }
    (VOID)WdkmGrtDereference(Lock);
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
    /* 1. No job accepted or started from now on. */
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Lock, &OldIrql, &Device);
    Device->Stopping = TRUE;
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);

    /* 2. The handshake: the thread ends its job and the queued ones, and
       exits; it is waited for by its object, not by a flag it sets. */
    (VOID)KeSetEvent(&TqWork, IO_NO_INCREMENT, FALSE);
    if (TqThread != NULL) {
        (VOID)KeWaitForSingleObject(TqThread, Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(TqThread);
        TqThread = NULL;
    }
    Final->ThreadExit = TqThreadExit;

    /* 3. Cancel routines still owed (their IoCancelIrp took the routine
       before the thread could) complete their jobs. */
    Final->Drained = WdkmRundownWait(&TqJobs, NULL);

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
