/*
 * dpc.c - DPCs and timers, run by one emulation thread.
 *
 * The DPC thread plays a processor's DPC queue and its clock: it sleeps
 * until a DPC is queued or the earliest timer is due, expires due timers
 * (signals them, queues their DPC, re-arms periodic ones), and runs the
 * queued DPCs in order, one at a time, each at DISPATCH_LEVEL, checking
 * afterwards what NT checks (the IRQL and the APC disable count). So code
 * that waits or touches paged code in a DPC hits the same IRQL bug checks
 * as elsewhere, and a DPC can never run on the thread that queued it.
 *
 * The thread starts with the first queued DPC or set timer and is stopped
 * and joined at process exit; DPCs still queued or timers still set then
 * are dropped, as at a shutdown. The queue and the timer list are guarded
 * by the dispatcher lock (timers are dispatcher objects).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "hostp.h"

#define HOSTP_DPC_OBJECT 0x13               /* NT's DpcObject */
#define HOSTP_DPC_MEDIUM_IMPORTANCE 1

/* TIMER_OR_DPC_INVALID sub-codes, as documented. */
#define HOSTP_TIMER_IN_FREED_POOL       0
#define HOSTP_DPC_IN_FREED_POOL         1
#define HOSTP_DPC_APC_COUNT_CHANGED     4
#define HOSTP_TIMER_DPC_APC_COUNT_CHANGED 5

/* All under the dispatcher lock. */
static LIST_ENTRY HostpDpcQueue = { &HostpDpcQueue, &HostpDpcQueue };
static LIST_ENTRY HostpTimers = { &HostpTimers, &HostpTimers };
static ULONG64 HostpLastSequence;           /* of the last queued DPC */
static ULONG64 HostpRunningSequence;        /* of the running DPC, 0: none */
static BOOLEAN HostpStarted;
static BOOLEAN HostpStopping;
static pthread_cond_t HostpDpcWake;         /* the DPC thread sleeps here (monotonic) */
static pthread_cond_t HostpDpcDone = PTHREAD_COND_INITIALIZER;     /* flushes wait here */
static pthread_t HostpDpcThread;
static pid_t HostpDpcProcess;

/* Marks timer DPCs on the queue, for the TIMER_OR_DPC_INVALID sub-code. */
#define HOSTP_TIMER_DPC_MARK ((PVOID)&HostpTimers)

static VOID HostpStopDpcThread(VOID);

/* ---------------------------------------------------------------------- */
/* Running DPCs (on the DPC thread)                                        */
/* ---------------------------------------------------------------------- */

/* Runs one DPC as KiRetireDpcList does, then checks what the routine left.
   A bug check whose handler returns ends the DPC here (TerminateJump).
   Region counts are put back afterwards so that one DPC reported for
   leaving a region unbalanced does not leave the processor in it; locks
   it kept stay held. */
static VOID HostpRunDpc(PKDPC Dpc, PKDEFERRED_ROUTINE Routine, PVOID Context, PVOID Argument1,
                        PVOID Argument2, BOOLEAN TimerDpc)
{
    ULONG CriticalRegions = WdkmHostpThread.CriticalRegionCount;
    ULONG GuardedRegions = WdkmHostpThread.GuardedRegionCount;
    jmp_buf Abandon;

    WdkmHostpThread.TrapTop = NULL;
    WdkmHostpThread.TerminateJump = &Abandon;
    if (setjmp(Abandon) == 0) {
        ULONG Before;
        ULONG After;
        KIRQL Irql;

        KfRaiseIrql(DISPATCH_LEVEL);
        Before = WdkmHostpApcDisableCount();
        WdkmHostpThread.ExecutingDpc = TRUE;
        Routine(Dpc, Context, Argument1, Argument2);
        WdkmHostpThread.ExecutingDpc = FALSE;
        Irql = WdkmHostpCurrent.Irql;
        After = WdkmHostpApcDisableCount();
        if (Irql != DISPATCH_LEVEL) {
            KeBugCheckEx(IRQL_NOT_GREATER_OR_EQUAL, (ULONG_PTR)Dpc, Irql, DISPATCH_LEVEL,
                         (ULONG_PTR)Routine);
        }
        if (After != Before) {
            KeBugCheckEx(TIMER_OR_DPC_INVALID,
                         TimerDpc ? HOSTP_TIMER_DPC_APC_COUNT_CHANGED : HOSTP_DPC_APC_COUNT_CHANGED,
                         (ULONG_PTR)Routine, Before, After);
        }
    }
    /* Back to an idle processor, whatever the routine left. */
    WdkmHostpThread.ExecutingDpc = FALSE;
    WdkmHostpThread.TerminateJump = NULL;
    WdkmHostpThread.TrapTop = NULL;
    WdkmHostpCurrent.Irql = PASSIVE_LEVEL;
    WdkmHostpThread.CriticalRegionCount = CriticalRegions;
    WdkmHostpThread.GuardedRegionCount = GuardedRegions;
}

/* Dispatcher lock held. Queues Dpc; FALSE if it already is. */
static BOOLEAN HostpQueueDpc(PKDPC Dpc, PVOID Argument1, PVOID Argument2, PVOID Mark)
{
    if (Dpc->DpcData != NULL) {
        return FALSE;
    }
    Dpc->SystemArgument1 = Argument1;
    Dpc->SystemArgument2 = Argument2;
    Dpc->DpcData = Mark;
    Dpc->QueueSequence = ++HostpLastSequence;
    InsertTailList(&HostpDpcQueue, &Dpc->DpcListEntry);
    return TRUE;
}

/* Dispatcher lock held. Expires the timers due at Now (interrupt time)
   and returns the nearest later due time, or 0 if no timer is set. */
static ULONGLONG HostpExpireTimers(ULONGLONG Now)
{
    ULONGLONG Next = 0;
    PLIST_ENTRY Entry = HostpTimers.Flink;

    while (Entry != &HostpTimers) {
        PKTIMER Timer = CONTAINING_RECORD(Entry, KTIMER, TimerListEntry);
        Entry = Entry->Flink;
        if (Timer->DueTime.QuadPart <= Now) {
            LARGE_INTEGER SystemTime;
            RemoveEntryList(&Timer->TimerListEntry);
            Timer->TimerListEntry.Flink = Timer->TimerListEntry.Blink = NULL;
            WdkmHostpSignalObjectLocked(&Timer->Header);
            if (Timer->Dpc != NULL) {
                /* NT passes the expiry system time in the two arguments. */
                SystemTime.QuadPart = WdkmHostpSystemTime();
                HostpQueueDpc(Timer->Dpc, (PVOID)(ULONG_PTR)SystemTime.LowPart,
                              (PVOID)(ULONG_PTR)(ULONG)SystemTime.HighPart, HOSTP_TIMER_DPC_MARK);
            }
            if (Timer->Period != 0) {
                ULONGLONG Period = (ULONGLONG)Timer->Period * 10000;
                Timer->DueTime.QuadPart += Period;
                if (Timer->DueTime.QuadPart <= Now) {
                    Timer->DueTime.QuadPart = Now + Period;   /* late: no burst of catch-ups */
                }
                InsertTailList(&HostpTimers, &Timer->TimerListEntry);
            }
        }
        if (Timer->TimerListEntry.Flink != NULL &&
            (Next == 0 || Timer->DueTime.QuadPart < Next)) {
            Next = Timer->DueTime.QuadPart;
        }
    }
    return Next;
}

static void *HostpDpcThreadMain(void *Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    /* A processor's DPC queue, not a thread: never interrupted itself. */
    WdkmHostpThread.Interrupts.Excluded = TRUE;
    (VOID)WdkmHostpAdoptCurrentThread();   /* its KTHREAD, after the exclusion: freed when it ends */
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    while (!HostpStopping) {
        ULONGLONG Now = (ULONGLONG)(WdkmHostpMonotonicNanoseconds() / 100);
        ULONGLONG Next = HostpExpireTimers(Now);

        if (!IsListEmpty(&HostpDpcQueue)) {
            PKDPC Dpc = CONTAINING_RECORD(RemoveHeadList(&HostpDpcQueue), KDPC, DpcListEntry);
            PKDEFERRED_ROUTINE Routine = Dpc->DeferredRoutine;
            PVOID Context = Dpc->DeferredContext;
            PVOID Argument1 = Dpc->SystemArgument1;
            PVOID Argument2 = Dpc->SystemArgument2;
            BOOLEAN TimerDpc = (BOOLEAN)(Dpc->DpcData == HOSTP_TIMER_DPC_MARK);

            /* Dequeued before it runs, so the routine may queue it again. */
            Dpc->DpcData = NULL;
            HostpRunningSequence = Dpc->QueueSequence;
            WdkmHostpUnlock(&WdkmHostpDispatcherLock);
            HostpRunDpc(Dpc, Routine, Context, Argument1, Argument2, TimerDpc);
            WdkmHostpLock(&WdkmHostpDispatcherLock);
            HostpRunningSequence = 0;
            pthread_cond_broadcast(&HostpDpcDone);
        } else if (Next == 0) {
            pthread_cond_wait(&HostpDpcWake, &WdkmHostpDispatcherLock);
        } else {
            struct timespec Deadline;
            Deadline.tv_sec = (time_t)(Next / 10000000);
            Deadline.tv_nsec = (long)(Next % 10000000) * 100;
            pthread_cond_timedwait(&HostpDpcWake, &WdkmHostpDispatcherLock, &Deadline);
        }
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return NULL;
}

/* Dispatcher lock held. Starts the DPC thread once, and wakes it. */
static VOID HostpKickDpcThread(VOID)
{
    if (!HostpStarted) {
        pthread_condattr_t Attributes;

        /* Timer deadlines are on CLOCK_MONOTONIC, like interrupt time. */
        pthread_condattr_init(&Attributes);
        pthread_condattr_setclock(&Attributes, CLOCK_MONOTONIC);
        if (pthread_cond_init(&HostpDpcWake, &Attributes) != 0 ||
            WdkmHostpStartInternalThread(&HostpDpcThread, HostpDpcThreadMain, NULL) != 0) {
            fputs("wdkm host: cannot start the DPC thread\n", stderr);
            abort();
        }
        pthread_condattr_destroy(&Attributes);
        HostpStarted = TRUE;
        HostpDpcProcess = getpid();
        atexit(HostpStopDpcThread);
    }
    pthread_cond_signal(&HostpDpcWake);
}

/* At exit: stops the DPC thread after its current DPC and joins it, so
   nothing runs while the process tears down (and its KTHREAD is freed). */
static VOID HostpStopDpcThread(VOID)
{
    if (getpid() != HostpDpcProcess) {
        return;     /* a forked child: the thread is not ours */
    }
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    HostpStopping = TRUE;
    pthread_cond_signal(&HostpDpcWake);
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    pthread_join(HostpDpcThread, NULL);
}

/* ---------------------------------------------------------------------- */
/* DPCs                                                                    */
/* ---------------------------------------------------------------------- */

VOID NTAPI KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    Dpc->Type = HOSTP_DPC_OBJECT;
    Dpc->Importance = HOSTP_DPC_MEDIUM_IMPORTANCE;
    Dpc->Number = 0;
    Dpc->DpcListEntry.Flink = Dpc->DpcListEntry.Blink = NULL;
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
    Dpc->SystemArgument1 = Dpc->SystemArgument2 = NULL;
    Dpc->DpcData = NULL;
    Dpc->QueueSequence = 0;
}

BOOLEAN NTAPI KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    BOOLEAN Queued;

    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Queued = HostpQueueDpc(Dpc, SystemArgument1, SystemArgument2, &HostpDpcQueue);
    if (Queued) {
        HostpKickDpcThread();
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return Queued;
}

BOOLEAN NTAPI KeRemoveQueueDpc(PRKDPC Dpc)
{
    BOOLEAN Queued;

    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Queued = (BOOLEAN)(Dpc->DpcData != NULL);
    if (Queued) {
        RemoveEntryList(&Dpc->DpcListEntry);
        Dpc->DpcData = NULL;
        pthread_cond_broadcast(&HostpDpcDone);  /* a flush may wait for it */
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return Queued;
}

/* Dispatcher lock held. Whether a DPC queued at or before Sequence has
   yet to finish (the queue is in sequence order). */
static BOOLEAN HostpDpcPending(ULONG64 Sequence)
{
    if (HostpRunningSequence != 0 && HostpRunningSequence <= Sequence) {
        return TRUE;
    }
    return (BOOLEAN)(!IsListEmpty(&HostpDpcQueue) &&
                     CONTAINING_RECORD(HostpDpcQueue.Flink, KDPC, DpcListEntry)->QueueSequence <=
                         Sequence);
}

VOID NTAPI KeFlushQueuedDpcs(VOID)
{
    ULONG64 Sequence;

    if (WdkmHostpCurrent.Irql != PASSIVE_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, 0, WdkmHostpCurrent.Irql, PASSIVE_LEVEL, 0);
    }
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Sequence = HostpLastSequence;
    while (HostpDpcPending(Sequence)) {
        pthread_cond_wait(&HostpDpcDone, &WdkmHostpDispatcherLock);
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
}

LOGICAL NTAPI KeIsExecutingDpc(VOID)
{
    return WdkmHostpThread.ExecutingDpc;
}

/* ---------------------------------------------------------------------- */
/* Timers                                                                  */
/* ---------------------------------------------------------------------- */

VOID NTAPI KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
    Timer->Header.Type = Type == NotificationTimer ? HOSTP_TIMER_NOTIFICATION_OBJECT
                                                   : HOSTP_TIMER_SYNCHRONIZATION_OBJECT;
    Timer->Header.Signalling = 0;
    Timer->Header.Size = (UCHAR)(sizeof(KTIMER) / sizeof(LONG));
    Timer->Header.Reserved1 = 0;
    HostpStore(Timer->Header.SignalState, 0);
    InitializeListHead(&Timer->Header.WaitListHead);
    Timer->DueTime.QuadPart = 0;
    Timer->TimerListEntry.Flink = Timer->TimerListEntry.Blink = NULL;
    Timer->Dpc = NULL;
    Timer->Processor = 0;
    Timer->Period = 0;
}

VOID NTAPI KeInitializeTimer(PKTIMER Timer)
{
    KeInitializeTimerEx(Timer, NotificationTimer);
}

static VOID HostpCheckTimerIrql(PKTIMER Timer)
{
    if (WdkmHostpCurrent.Irql > DISPATCH_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Timer, WdkmHostpCurrent.Irql,
                     DISPATCH_LEVEL, 0);
    }
}

/* Dispatcher lock held. TRUE if Timer was set (now taken off the list). */
static BOOLEAN HostpUnsetTimer(PKTIMER Timer)
{
    if (Timer->TimerListEntry.Flink == NULL) {
        return FALSE;
    }
    RemoveEntryList(&Timer->TimerListEntry);
    Timer->TimerListEntry.Flink = Timer->TimerListEntry.Blink = NULL;
    return TRUE;
}

BOOLEAN NTAPI KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    ULONGLONG Now = (ULONGLONG)(WdkmHostpMonotonicNanoseconds() / 100);
    ULONGLONG Due;
    BOOLEAN WasSet;

    HostpCheckTimerIrql(Timer);
    if (DueTime.QuadPart < 0) {
        Due = DueTime.QuadPart == INT64_MIN ? UINT64_MAX : Now + (ULONGLONG)-DueTime.QuadPart;
    } else {
        /* Absolute: system time, converted once to interrupt time. */
        LONGLONG Interval = DueTime.QuadPart - WdkmHostpSystemTime();
        Due = Interval <= 0 ? Now : Now + (ULONGLONG)Interval;
    }
    if (Due < Now) {
        Due = UINT64_MAX;   /* overflow: as good as never */
    }
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    WasSet = HostpUnsetTimer(Timer);
    HostpStore(Timer->Header.SignalState, 0);
    Timer->DueTime.QuadPart = Due;
    Timer->Period = Period > 0 ? (ULONG)Period : 0;
    Timer->Dpc = Dpc;
    InsertTailList(&HostpTimers, &Timer->TimerListEntry);
    HostpKickDpcThread();
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return WasSet;
}

BOOLEAN NTAPI KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc)
{
    return KeSetTimerEx(Timer, DueTime, 0, Dpc);
}

BOOLEAN NTAPI KeCancelTimer(PKTIMER Timer)
{
    BOOLEAN WasSet;

    HostpCheckTimerIrql(Timer);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    WasSet = HostpUnsetTimer(Timer);
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return WasSet;
}

BOOLEAN NTAPI KeReadStateTimer(PKTIMER Timer)
{
    return (BOOLEAN)(HostpLoad(Timer->Header.SignalState) != 0);
}

/* ---------------------------------------------------------------------- */
/* Emulation                                                               */
/* ---------------------------------------------------------------------- */

PVOID WdkmHostpFindTimerOrDpcInRange(const VOID *Start, SIZE_T Size, PULONG Kind)
{
    ULONG_PTR Low = (ULONG_PTR)Start;

    for (PLIST_ENTRY Entry = HostpTimers.Flink; Entry != &HostpTimers; Entry = Entry->Flink) {
        PKTIMER Timer = CONTAINING_RECORD(Entry, KTIMER, TimerListEntry);
        if ((ULONG_PTR)Timer - Low < Size) {
            *Kind = HOSTP_TIMER_IN_FREED_POOL;
            return Timer;
        }
    }
    for (PLIST_ENTRY Entry = HostpDpcQueue.Flink; Entry != &HostpDpcQueue;
         Entry = Entry->Flink) {
        PKDPC Dpc = CONTAINING_RECORD(Entry, KDPC, DpcListEntry);
        if ((ULONG_PTR)Dpc - Low < Size) {
            *Kind = HOSTP_DPC_IN_FREED_POOL;
            return Dpc;
        }
    }
    return NULL;
}
