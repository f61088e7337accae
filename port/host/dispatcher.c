/*
 * dispatcher.c - waits, KEVENT, KMUTEX, thread objects, alerts and user APCs,
 * and the hand-off waits that ERESOURCEs and push locks block in.
 *
 * One global lock protects every dispatcher object. A blocked waiter links
 * a wait block into the object's wait list and sleeps on its own condition
 * variable; whoever signals the object satisfies waiters directly (for a
 * KMUTEX or synchronization event: ownership passes to the first waiter,
 * FIFO, as in NT), so a woken waiter never has to compete again.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <sched.h>
#include <time.h>

#include "hostp.h"

pthread_mutex_t WdkmHostpDispatcherLock = PTHREAD_MUTEX_INITIALIZER;

/* Lowest KMUTEX state the owner may still acquire from (NT: MINLONG). */
static LONG volatile HostpMutexFloor = MINLONG;

VOID WdkmHostSetMutexRecursionLimit(LONG Limit)
{
    WriteNoFence(&HostpMutexFloor, Limit <= 0 ? MINLONG : 1 - Limit);
}

/* ---------------------------------------------------------------------- */
/* Satisfying waits (dispatcher lock held)                                 */
/* ---------------------------------------------------------------------- */

static VOID HostpSatisfyWaitBlock(PHOSTP_WAIT_BLOCK Block, NTSTATUS Status)
{
    RemoveEntryList(&Block->WaitListEntry);
    Block->Status = Status;
    Block->Satisfied = TRUE;
    pthread_cond_signal(&Block->Thread->WakeCondition);
}

static PHOSTP_WAIT_BLOCK HostpFirstWaiter(PDISPATCHER_HEADER Header)
{
    if (IsListEmpty(&Header->WaitListHead)) {
        return NULL;
    }
    return CONTAINING_RECORD(Header->WaitListHead.Flink, HOSTP_WAIT_BLOCK, WaitListEntry);
}

static VOID HostpSatisfyAllWaiters(PDISPATCHER_HEADER Header)
{
    PHOSTP_WAIT_BLOCK Block;

    while ((Block = HostpFirstWaiter(Header)) != NULL) {
        HostpSatisfyWaitBlock(Block, STATUS_SUCCESS);
    }
}

/* Makes Thread the owner of the free Mutant; returns the wait status. */
static NTSTATUS HostpGrantMutant(PKMUTANT Mutant, PKTHREAD Thread)
{
    NTSTATUS Status = Mutant->Abandoned ? STATUS_ABANDONED : STATUS_SUCCESS;

    Mutant->Abandoned = FALSE;
    HostpStore(Mutant->Header.SignalState, 0);
    HostpStore(Mutant->OwnerThread, Thread);
    InsertTailList(&Thread->MutantListHead, &Mutant->MutantListEntry);
    return Status;
}

/* Mutant just became free: hand it to its first waiter, if any. */
static VOID HostpHandOffMutant(PKMUTANT Mutant)
{
    PHOSTP_WAIT_BLOCK Block = HostpFirstWaiter(&Mutant->Header);

    if (Block != NULL) {
        HostpSatisfyWaitBlock(Block, HostpGrantMutant(Mutant, Block->Thread));
    }
}

/* Acquires Header for Thread if it is signalled now. *FirstAcquire tells
   a KMUTEX acquisition that made Thread its owner. */
static BOOLEAN HostpTrySatisfy(PDISPATCHER_HEADER Header, PKTHREAD Thread, PNTSTATUS Status,
                               BOOLEAN *FirstAcquire)
{
    LONG State = Header->SignalState;

    *Status = STATUS_SUCCESS;
    switch (Header->Type) {
    case HOSTP_EVENT_SYNCHRONIZATION_OBJECT:
    case HOSTP_TIMER_SYNCHRONIZATION_OBJECT:
        if (State > 0) {
            HostpStore(Header->SignalState, 0);
            return TRUE;
        }
        return FALSE;
    case HOSTP_MUTANT_OBJECT: {
        PKMUTANT Mutant = CONTAINING_RECORD(Header, KMUTANT, Header);
        if (State > 0) {
            *Status = HostpGrantMutant(Mutant, Thread);
            *FirstAcquire = TRUE;
            return TRUE;
        }
        if (Mutant->OwnerThread == Thread) {
            HostpStore(Header->SignalState, State - 1);
            return TRUE;
        }
        return FALSE;
    }
    default:    /* notification event or timer, thread */
        return (BOOLEAN)(State > 0);
    }
}

/* Consumes a pending alert or user APC that ends this wait. */
static BOOLEAN HostpTakeAlert(PKTHREAD Thread, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                              PNTSTATUS Status)
{
    if (!Alertable) {
        return FALSE;
    }
    if (Thread->Alerted) {
        Thread->Alerted = FALSE;
        *Status = STATUS_ALERTED;
        return TRUE;
    }
    if (WaitMode == UserMode && Thread->UserApcCount != 0) {
        Thread->UserApcCount--;
        *Status = STATUS_USER_APC;
        return TRUE;
    }
    return FALSE;
}

VOID WdkmHostpSignalObjectLocked(PDISPATCHER_HEADER Header)
{
    if (Header->Type == HOSTP_EVENT_SYNCHRONIZATION_OBJECT ||
        Header->Type == HOSTP_TIMER_SYNCHRONIZATION_OBJECT) {
        PHOSTP_WAIT_BLOCK Block = HostpFirstWaiter(Header);
        if (Block != NULL) {
            HostpSatisfyWaitBlock(Block, STATUS_SUCCESS);   /* stays unsignalled */
        } else {
            HostpStore(Header->SignalState, 1);
        }
    } else {
        HostpStore(Header->SignalState, 1);
        HostpSatisfyAllWaiters(Header);
    }
}

/* ---------------------------------------------------------------------- */
/* Hand-off waits of ERESOURCEs and push locks                             */
/* ---------------------------------------------------------------------- */

BOOLEAN WdkmHostThreadIsWaiting(PKTHREAD Thread)
{
    BOOLEAN Waiting;

    /* Under the dispatcher lock, which every wait holds while it marks
       itself (and releases only inside pthread_cond_wait). */
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Waiting = Thread->Waiting;
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return Waiting;
}

/* Not alertable: like NT's resource and push-lock waits, only a grant ends it. */
VOID WdkmHostpWaitForGrant(PLIST_ENTRY WaitList, PHOSTP_LOCK_WAITER Waiter)
{
    PKTHREAD Thread = Waiter->Thread;

    Waiter->Granted = FALSE;
    InsertTailList(WaitList, &Waiter->Entry);
    Thread->Waiting = TRUE;
    Thread->WaitAlertable = FALSE;
    Thread->WaitMode = KernelMode;
    WdkmHostpMarkBlocked(1);
    while (!Waiter->Granted) {
        pthread_cond_wait(&Thread->WakeCondition, &WdkmHostpDispatcherLock);
    }
    WdkmHostpMarkBlocked(0);
    Thread->Waiting = FALSE;
}

VOID WdkmHostpGrant(PHOSTP_LOCK_WAITER Waiter)
{
    RemoveEntryList(&Waiter->Entry);
    Waiter->Granted = TRUE;
    pthread_cond_signal(&Waiter->Thread->WakeCondition);
}

/* ---------------------------------------------------------------------- */
/* Waiting                                                                 */
/* ---------------------------------------------------------------------- */

/* Nanoseconds to wait for an NT timeout: -1 infinite, 0 poll. */
static LONGLONG HostpTimeoutNanoseconds(PLARGE_INTEGER Timeout)
{
    LONGLONG Interval;

    if (Timeout == NULL) {
        return -1;
    }
    if (Timeout->QuadPart < 0) {
        Interval = Timeout->QuadPart == INT64_MIN ? INT64_MAX : -Timeout->QuadPart;
    } else if (Timeout->QuadPart == 0) {
        return 0;
    } else {
        /* Absolute: system time, converted once to a monotonic interval. */
        Interval = Timeout->QuadPart - WdkmHostpSystemTime();
        if (Interval <= 0) {
            return 0;
        }
    }
    if (Interval > INT64_MAX / 100) {
        return -1;  /* centuries: as good as infinite */
    }
    return Interval * 100;
}

/* Waits for Header (NULL: only a delay). Returns the wait status;
   *FirstAcquire as HostpTrySatisfy. */
static NTSTATUS HostpWait(PDISPATCHER_HEADER Header, KPROCESSOR_MODE WaitMode,
                          BOOLEAN Alertable, PLARGE_INTEGER Timeout, BOOLEAN *FirstAcquire)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    LONGLONG Nanoseconds = HostpTimeoutNanoseconds(Timeout);
    struct timespec Deadline = { 0, 0 };
    HOSTP_WAIT_BLOCK Block;
    NTSTATUS Status;

    *FirstAcquire = FALSE;
    if (Nanoseconds > 0) {
        LONGLONG End = WdkmHostpMonotonicNanoseconds() + Nanoseconds;
        if (End < Nanoseconds) {
            Nanoseconds = -1;  /* overflow: infinite */
        } else {
            Deadline.tv_sec = (time_t)(End / 1000000000LL);
            Deadline.tv_nsec = (long)(End % 1000000000LL);
        }
    }

    WdkmHostpLock(&WdkmHostpDispatcherLock);
    if (Header != NULL && HostpTrySatisfy(Header, Thread, &Status, FirstAcquire)) {
        goto Done;
    }
    if (HostpTakeAlert(Thread, WaitMode, Alertable, &Status)) {
        goto Done;
    }
    if (Nanoseconds == 0) {
        Status = STATUS_TIMEOUT;
        goto Done;
    }

    Block.Thread = Thread;
    Block.Status = STATUS_SUCCESS;
    Block.Satisfied = FALSE;
    if (Header != NULL) {
        InsertTailList(&Header->WaitListHead, &Block.WaitListEntry);
    }
    Thread->Waiting = TRUE;
    Thread->WaitAlertable = Alertable;
    Thread->WaitMode = WaitMode;
    WdkmHostpMarkBlocked(1);
    for (;;) {
        int Error = Nanoseconds < 0
                        ? pthread_cond_wait(&Thread->WakeCondition, &WdkmHostpDispatcherLock)
                        : pthread_cond_timedwait(&Thread->WakeCondition, &WdkmHostpDispatcherLock,
                                                 &Deadline);
        if (Block.Satisfied) {
            /* Only a KMUTEX from the free state is ever handed over. */
            *FirstAcquire = (BOOLEAN)(Header->Type == HOSTP_MUTANT_OBJECT);
            Status = Block.Status;
            break;
        }
        if (HostpTakeAlert(Thread, WaitMode, Alertable, &Status)) {
            break;
        }
        if (Error == ETIMEDOUT) {
            Status = STATUS_TIMEOUT;
            break;
        }
    }
    if (!Block.Satisfied && Header != NULL) {
        RemoveEntryList(&Block.WaitListEntry);
    }
    WdkmHostpMarkBlocked(0);
    Thread->Waiting = FALSE;

Done:
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return Status;
}

/* Waits are legal at <= APC_LEVEL, and at DISPATCH_LEVEL only as a poll. */
static VOID HostpCheckWaitIrql(PVOID Object, PLARGE_INTEGER Timeout)
{
    KIRQL Irql = WdkmHostpCurrent.Irql;

    if (Irql > DISPATCH_LEVEL ||
        (Irql == DISPATCH_LEVEL && (Timeout == NULL || Timeout->QuadPart != 0))) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Object, Irql,
                     Timeout != NULL && Timeout->QuadPart == 0 ? DISPATCH_LEVEL : APC_LEVEL, 0);
    }
}

NTSTATUS NTAPI KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason,
                                     KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                     PLARGE_INTEGER Timeout)
{
    PDISPATCHER_HEADER Header = (PDISPATCHER_HEADER)Object;
    BOOLEAN FirstAcquire;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(WaitReason);
    HostpCheckWaitIrql(Object, Timeout);
    if (Header->Type == HOSTP_MUTANT_OBJECT) {
        WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */
        /* The owner's recursion: only the owner changes the state now. */
        PKMUTANT Mutant = (PKMUTANT)Object;
        if (HostpLoad(Mutant->OwnerThread) == WdkmHostpCurrentThread() &&
            HostpLoad(Mutant->Header.SignalState) <= ReadNoFence(&HostpMutexFloor)) {
            KeBugCheckEx(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)STATUS_MUTANT_LIMIT_EXCEEDED,
                         (ULONG_PTR)Mutant, 0, 0);
        }
    }
    /* One section with the count: no normal APC between the grant and it. */
    WdkmHostpEnterSection();
    Status = HostpWait(Header, WaitMode, Alertable, Timeout, &FirstAcquire);
    if (FirstAcquire) {
        /* Owning a KMUTEX disables normal kernel APCs until final release. */
        WdkmHostpThread.KMutexCount++;
    }
    WdkmHostpLeaveSection();
    return Status;
}

NTSTATUS NTAPI KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                      PLARGE_INTEGER Interval)
{
    BOOLEAN FirstAcquire;
    NTSTATUS Status;

    if (WdkmHostpCurrent.Irql > APC_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, 0, WdkmHostpCurrent.Irql, APC_LEVEL, 0);
    }
    if (Interval == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (Interval->QuadPart == 0) {
        sched_yield();
    }
    Status = HostpWait(NULL, WaitMode, Alertable, Interval, &FirstAcquire);
    return Status == STATUS_TIMEOUT ? STATUS_SUCCESS : Status;
}

/* ---------------------------------------------------------------------- */
/* Events                                                                  */
/* ---------------------------------------------------------------------- */

static VOID HostpCheckSignalIrql(PVOID Object)
{
    if (WdkmHostpCurrent.Irql > DISPATCH_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Object, WdkmHostpCurrent.Irql,
                     DISPATCH_LEVEL, 0);
    }
}

VOID NTAPI KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    Event->Header.Type = Type == NotificationEvent ? HOSTP_EVENT_NOTIFICATION_OBJECT
                                                   : HOSTP_EVENT_SYNCHRONIZATION_OBJECT;
    Event->Header.Signalling = 0;
    Event->Header.Size = (UCHAR)(sizeof(KEVENT) / sizeof(LONG));
    Event->Header.Reserved1 = 0;
    HostpStore(Event->Header.SignalState, State ? 1 : 0);
    InitializeListHead(&Event->Header.WaitListHead);
}

/* Wait is accepted and ignored: NT would keep the dispatcher lock until the
   caller's next wait, which changes nothing a correct caller can see. */
LONG NTAPI KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    LONG Previous;

    UNREFERENCED_PARAMETER(Increment);
    UNREFERENCED_PARAMETER(Wait);
    HostpCheckSignalIrql(Event);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Previous = Event->Header.SignalState;
    WdkmHostpSignalObjectLocked(&Event->Header);
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return Previous;
}

LONG NTAPI KeResetEvent(PRKEVENT Event)
{
    LONG Previous;

    HostpCheckSignalIrql(Event);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Previous = Event->Header.SignalState;
    HostpStore(Event->Header.SignalState, 0);
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return Previous;
}

VOID NTAPI KeClearEvent(PRKEVENT Event)
{
    KeResetEvent(Event);
}

LONG NTAPI KeReadStateEvent(PRKEVENT Event)
{
    return HostpLoad(Event->Header.SignalState);
}

/* ---------------------------------------------------------------------- */
/* KMUTEX                                                                  */
/* ---------------------------------------------------------------------- */

VOID NTAPI KeInitializeMutex(PRKMUTEX Mutex, ULONG Level)
{
    UNREFERENCED_PARAMETER(Level);
    Mutex->Header.Type = HOSTP_MUTANT_OBJECT;
    Mutex->Header.Signalling = 0;
    Mutex->Header.Size = (UCHAR)(sizeof(KMUTEX) / sizeof(LONG));
    Mutex->Header.Reserved1 = 0;
    HostpStore(Mutex->Header.SignalState, 1);
    InitializeListHead(&Mutex->Header.WaitListHead);
    InitializeListHead(&Mutex->MutantListEntry);
    HostpStore(Mutex->OwnerThread, (PKTHREAD)NULL);
    Mutex->Abandoned = FALSE;
    Mutex->ApcDisable = 1;
}

LONG NTAPI KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    PKTHREAD Owner = HostpLoad(Mutex->OwnerThread);
    BOOLEAN Freed;
    LONG Previous;

    UNREFERENCED_PARAMETER(Wait);   /* see KeSetEvent */
    HostpCheckSignalIrql(Mutex);
    if (Owner != Thread) {
        KeBugCheckEx(THREAD_NOT_MUTEX_OWNER, (ULONG_PTR)Mutex, (ULONG_PTR)Owner,
                     (ULONG_PTR)Thread, 0);
    }
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Previous = Mutex->Header.SignalState;
    HostpStore(Mutex->Header.SignalState, Previous + 1);
    Freed = (BOOLEAN)(Previous + 1 == 1);
    if (Freed) {
        HostpStore(Mutex->OwnerThread, (PKTHREAD)NULL);
        RemoveEntryList(&Mutex->MutantListEntry);
        HostpHandOffMutant(Mutex);
        /* In the same section as the state: an event that runs at its
           exit finds the thread's count and the mutex agreeing. */
        WdkmHostpThread.KMutexCount--;
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    if (Freed) {
        WdkmHostpCheckInterrupts();     /* normal kernel APCs unmasked */
    }
    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */
    return Previous;
}

LONG NTAPI KeReadStateMutex(PRKMUTEX Mutex)
{
    return HostpLoad(Mutex->Header.SignalState);
}

/* ---------------------------------------------------------------------- */
/* Thread objects, alerts, user APCs                                       */
/* ---------------------------------------------------------------------- */

VOID WdkmHostpRundownThread(PKTHREAD Thread)
{
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    while (!IsListEmpty(&Thread->MutantListHead)) {
        /* As NT: the mutex becomes free and abandoned; its next owner is
           told with STATUS_ABANDONED. */
        PKMUTANT Mutant = CONTAINING_RECORD(RemoveHeadList(&Thread->MutantListHead), KMUTANT,
                                            MutantListEntry);
        HostpStore(Mutant->OwnerThread, (PKTHREAD)NULL);
        HostpStore(Mutant->Header.SignalState, 1);
        Mutant->Abandoned = TRUE;
        HostpHandOffMutant(Mutant);
    }
    Thread->Terminated = TRUE;
    HostpStore(Thread->Header.SignalState, 1);
    HostpSatisfyAllWaiters(&Thread->Header);
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
}

VOID WdkmHostAlertThread(PKTHREAD Thread)
{
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Thread->Alerted = TRUE;
    if (Thread->Waiting && Thread->WaitAlertable) {
        pthread_cond_signal(&Thread->WakeCondition);
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
}

VOID WdkmHostQueueUserApc(PKTHREAD Thread)
{
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Thread->UserApcCount++;
    if (Thread->Waiting && Thread->WaitAlertable && Thread->WaitMode == UserMode) {
        pthread_cond_signal(&Thread->WakeCondition);
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
}
