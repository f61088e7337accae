/*
 * hostp.h - private state shared by the files of the host kernel emulation.
 *
 * Locking: one global dispatcher lock (WdkmHostpDispatcherLock) protects the
 * state of every dispatcher object (wait lists, mutex ownership, thread
 * wait state, the handle table). Fields that are also read without it
 * (SignalState, OwnerThread) are written with atomics under it.
 * Per-thread counters that only their own thread changes live in
 * thread-local WdkmHostpCurrent (the thread object and the IRQL, read
 * inline by wdm.h) and WdkmHostpThread (APC disable counts, held locks).
 * The same lock also guards ERESOURCEs, the push-lock side table, the DPC
 * queue and the timer list. Lock order: the pool lock may be held while
 * taking the dispatcher lock (frees check for live objects), never the
 * reverse; nothing allocates pool under the dispatcher lock.
 *
 * Interrupt injection (interrupt.c) runs DPCs and kernel APCs inside a
 * thread's signal handler, wherever the thread was. So every internal
 * mutex is taken through WdkmHostpLock/WdkmHostpUnlock, which count the
 * thread's "sections": an event never runs inside one (it runs at the
 * outermost exit), exactly as a DPC waits for a spin lock holder. Per-
 * thread state that an event reads (IRQL, region counts, owned KMUTEXes)
 * is changed by the thread itself only, and ordered against its handler
 * with signal fences; the injector lock is innermost.
 */
#ifndef WDKM_HOSTP_H
#define WDKM_HOSTP_H

#include <pthread.h>
#include <setjmp.h>

#include <wdm.h>
#include <wdkm_host.h>

/* Dispatcher object types, with NT's numbering. */
#define HOSTP_EVENT_NOTIFICATION_OBJECT   0
#define HOSTP_EVENT_SYNCHRONIZATION_OBJECT 1
#define HOSTP_MUTANT_OBJECT               2
#define HOSTP_THREAD_OBJECT               6
#define HOSTP_TIMER_NOTIFICATION_OBJECT   8
#define HOSTP_TIMER_SYNCHRONIZATION_OBJECT 9

#define HOSTP_THREAD_MAGIC 0x64726854U  /* "Thrd" */

/* Relaxed atomic access to fields also read outside the dispatcher lock. */
#define HostpLoad(Field) __atomic_load_n(&(Field), __ATOMIC_RELAXED)
#define HostpStore(Field, Value) __atomic_store_n(&(Field), (Value), __ATOMIC_RELAXED)

/* A blocked wait: lives on the waiter's stack, linked into the object's
   wait list until a signaller satisfies it or the waiter gives up. */
typedef struct _HOSTP_WAIT_BLOCK {
    LIST_ENTRY WaitListEntry;
    PKTHREAD Thread;
    NTSTATUS Status;            /* valid once Satisfied */
    BOOLEAN Satisfied;
} HOSTP_WAIT_BLOCK, *PHOSTP_WAIT_BLOCK;

/* A blocked lock acquisition (ERESOURCE, push lock): lives on the waiter's
   stack, linked into the lock's waiter list until a releaser hands the lock
   over (records the waiter as owner, then grants), so a woken waiter never
   competes again. */
typedef struct _HOSTP_LOCK_WAITER {
    LIST_ENTRY Entry;
    PKTHREAD Thread;
    BOOLEAN Exclusive;
    BOOLEAN Granted;
} HOSTP_LOCK_WAITER, *PHOSTP_LOCK_WAITER;

struct _KTHREAD {
    DISPATCHER_HEADER Header;       /* first: a thread is a dispatcher object */
    ULONG Magic;
    LONG volatile ReferenceCount;   /* its own run + handles + references */
    HANDLE UniqueThread;
    LIST_ENTRY MutantListHead;      /* KMUTEXes it owns */
    pthread_cond_t WakeCondition;   /* its blocked waits sleep here */
    BOOLEAN Waiting;
    BOOLEAN WaitAlertable;
    KPROCESSOR_MODE WaitMode;
    BOOLEAN Alerted;
    ULONG UserApcCount;
    BOOLEAN SystemThread;
    BOOLEAN Terminated;
    NTSTATUS ExitStatus;
    PKSTART_ROUTINE StartRoutine;
    PVOID StartContext;
    struct _HOSTP_INTERRUPT_THREAD *Interrupts;  /* injector lock; NULL: not running */
    LIST_ENTRY IrpList;             /* IRPs it issued (io.c, under its IRP lock) */
};

/* An injected DPC or APC waiting in its thread's ring (interrupt.c). */
typedef struct _HOSTP_INTERRUPT_EVENT {
    WDKM_HOST_INTERRUPT Kind;
    WDKM_HOST_INTERRUPT_ROUTINE *Routine;   /* NULL: the default action */
    PVOID Context;
    ULONG64 Random;
    BOOLEAN Deferred;                       /* found masked once (counted) */
    BOOLEAN FromRandomMode;                 /* dropped by WdkmHostInterruptsStop */
} HOSTP_INTERRUPT_EVENT;

#define HOSTP_INTERRUPT_RING 32

/* A kernel thread's injection record, in its thread-local state. Other
   threads reach it through the registry in interrupt.c: every field but
   the atomics is guarded by the injector lock. */
typedef struct _HOSTP_INTERRUPT_THREAD {
    LIST_ENTRY Link;                    /* registered threads */
    pthread_t Posix;                    /* signalled with pthread_kill */
    PKTHREAD Thread;
    BOOLEAN Registered;
    BOOLEAN Excluded;                   /* the DPC thread: a processor's queue, not a thread */
    ULONG64 RandomState;                /* event choices: (seed, registration order) */
    ULONG64 TimingState;                /* random mode's intervals, apart so that timing
                                           never shifts the choices */
    LONGLONG NextDue;                   /* random mode: next interrupt, ns (controller) */
    ULONG Head;
    ULONG Count;
    HOSTP_INTERRUPT_EVENT Ring[HOSTP_INTERRUPT_RING];
    ULONG Blocked;                      /* atomic: asleep in an emulated wait */
    BOOLEAN Signalled;                  /* a signal went out that no delivery pass has
                                           answered yet: sent again (controller) */
    LONGLONG SignalledAt;               /* when it last went out, ns */
} HOSTP_INTERRUPT_THREAD;

/* The rest of a thread's state; its object and IRQL are in
   WdkmHostpCurrent (wdm.h), which KeGetCurrentThread and KeGetCurrentIrql
   read inline. */
typedef struct _HOSTP_THREAD_STATE {
    ULONG CriticalRegionCount;          /* KeEnterCriticalRegion depth */
    ULONG GuardedRegionCount;           /* KeEnterGuardedRegion depth */
    ULONG KMutexCount;                  /* owned KMUTEXes (disable kernel APCs) */
    ULONG OtherLockCount;               /* fast/guarded mutexes, spin locks */
    PWDKM_HOST_BUGCHECK_TRAP TrapTop;   /* innermost armed trap */
    jmp_buf *TerminateJump;             /* system threads: their exit; DPC thread: the DPC's */
    BOOLEAN ExecutingDpc;               /* the DPC thread, inside a deferred routine */
    ULONG ProcessorOverride;            /* WdkmHostSetCurrentProcessor + 1; 0: the host's CPU */
    /* Interrupt injection (interrupt.c). SectionDepth counts the
       emulation's own raised sections (its pthread mutexes): no injected
       event runs inside one, as no DPC runs under a spin lock. Read by the
       thread's own signal handler only, ordered by signal fences. */
    ULONG SectionDepth;
    ULONG InEvent;                      /* injected events running (they nest as NT's:
                                           a DPC may interrupt an APC routine) */
    BOOLEAN NormalApcInProgress;        /* masks further normal APCs, as NT's flag */
    HOSTP_INTERRUPT_THREAD Interrupts;
} HOSTP_THREAD_STATE;

extern _Thread_local HOSTP_THREAD_STATE WdkmHostpThread WDKM_HOSTP_LOCAL_EXEC;
extern pthread_mutex_t WdkmHostpDispatcherLock;

/* Sections of the emulation that hold one of its pthread mutexes (or are
   otherwise not reentrant): an injected event arriving inside waits for the
   outermost exit. */
static inline VOID WdkmHostpEnterSection(VOID)
{
    WdkmHostpThread.SectionDepth++;
    WDKM_HOSTP_SIGNAL_FENCE();
}

static inline VOID WdkmHostpLeaveSection(VOID)
{
    WDKM_HOSTP_SIGNAL_FENCE();
    if (--WdkmHostpThread.SectionDepth == 0) {
        WdkmHostpCheckInterrupts();
    }
}

static inline VOID WdkmHostpLock(pthread_mutex_t *Mutex)
{
    WdkmHostpEnterSection();
    pthread_mutex_lock(Mutex);
}

static inline VOID WdkmHostpUnlock(pthread_mutex_t *Mutex)
{
    pthread_mutex_unlock(Mutex);
    WdkmHostpLeaveSection();
}

/* interrupt.c: thread registration (at adoption or system-thread start,
   and at its end; pending events of an ending thread are dropped - a
   system thread that ends in an orderly way first runs those its masking
   allows), and
   the emulated waits' "asleep" mark that random injection skips. */
VOID WdkmHostpRegisterInterruptThread(PKTHREAD Thread);
VOID WdkmHostpUnregisterInterruptThread(VOID);
static inline VOID WdkmHostpMarkBlocked(ULONG Blocked)
{
    __atomic_store_n(&WdkmHostpThread.Interrupts.Blocked, Blocked, __ATOMIC_RELAXED);
}
/* interrupt.c: prints the injection seed (if injection ran) before a fatal stop. */
VOID WdkmHostpReportInterruptSeed(VOID);
/* interrupt.c: TRUE while the calling thread runs an injected event. */
#define WdkmHostpInEvent() (WdkmHostpThread.InEvent != 0)

/* thread.c: the calling thread's object, made on first use. */
#define WdkmHostpCurrentThread() KeGetCurrentThread()
/* Drops a reference (the last frees Thread); returns the new count. */
LONG WdkmHostpDereferenceThread(PKTHREAD Thread);

/* Starts one of the emulation's own threads (the DPC thread, the interrupt
   controller) without adopting it: unlike every other pthread it is no
   kernel thread at its start, so injected interrupts never target it and
   it takes no place in the registration order a seed replays. */
int WdkmHostpStartInternalThread(pthread_t *Posix, void *(*Routine)(void *), void *Argument);

/* io.c: the calling thread's exit, before anything else of it ends:
   cancels the IRPs queued on Thread (the calling thread) and waits, for
   the IRP cancel timeout at most, until none is left. */
VOID WdkmHostpCancelThreadIrps(PKTHREAD Thread);

/* dispatcher.c: abandons Thread's KMUTEXes and signals its object. */
VOID WdkmHostpRundownThread(PKTHREAD Thread);
/* dispatcher.c, dispatcher lock held: signals an event or timer (one
   waiter for synchronization objects, all for notification ones). */
VOID WdkmHostpSignalObjectLocked(PDISPATCHER_HEADER Header);
/* dispatcher.c, dispatcher lock held: queues Waiter on WaitList and sleeps
   until a releaser grants it. */
VOID WdkmHostpWaitForGrant(PLIST_ENTRY WaitList, PHOSTP_LOCK_WAITER Waiter);
/* dispatcher.c, dispatcher lock held: unlinks Waiter and wakes its thread. */
VOID WdkmHostpGrant(PHOSTP_LOCK_WAITER Waiter);

/* irql.c: the caller's APC disable counts as bug checks report them,
   (guarded regions << 16) | (critical regions + owned KMUTEXes). */
ULONG WdkmHostpApcDisableCount(VOID);

/* resource.c, dispatcher lock held: ERESOURCEs that Thread owns (each
   counts once); a live ERESOURCE inside [Start, Start + Size), or NULL. */
ULONG WdkmHostpResourcesOwnedBy(PKTHREAD Thread);
PVOID WdkmHostpFindResourceInRange(const VOID *Start, SIZE_T Size);

/* dpc.c, dispatcher lock held: a set timer (*Kind 0) or queued DPC
   (*Kind 1) inside [Start, Start + Size), or NULL. */
PVOID WdkmHostpFindTimerOrDpcInRange(const VOID *Start, SIZE_T Size, PULONG Kind);

/* bugcheck.c: reports a bug check that cannot unwind (thread exit); returns
   only if a handler is set and returned. */
VOID WdkmHostpReportBugCheck(ULONG Code, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4);

/* clock.c */
LONGLONG WdkmHostpMonotonicNanoseconds(VOID);
LONGLONG WdkmHostpSystemTime(VOID);

/* Delay fuzzing (delay.c): at every acquire and release of an emulated
   lock, maybe yield or sleep briefly. Takes no lock; safe anywhere. Off
   (the usual case) it costs one load and a branch, inline, so that the
   emulated locks cost about what the real ones do: WdkmHostpDelayArmed is
   nonzero until the first delay point has read the environment, and after
   that while fuzzing is on. */
extern ULONG WdkmHostpDelayArmed;
VOID WdkmHostpDelayPointArmed(VOID);

static inline VOID WdkmHostpDelayPoint(VOID)
{
    if (WDKM_HOSTP_UNLIKELY(__atomic_load_n(&WdkmHostpDelayArmed, __ATOMIC_RELAXED) != 0)) {
        WdkmHostpDelayPointArmed();
    }
}

#endif /* WDKM_HOSTP_H */
