/*
 * hostp.h - private state shared by the files of the host kernel emulation.
 *
 * Locking: one global dispatcher lock (WdkmHostpDispatcherLock) protects the
 * state of every dispatcher object (wait lists, mutex ownership, thread
 * wait state, the handle table). Fields that are also read without it
 * (SignalState, OwnerThread) are written with atomics under it.
 * Per-thread counters that only their own thread changes (IRQL, APC
 * disable counts, held locks) live in thread-local WdkmHostpThread.
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
};

typedef struct _HOSTP_THREAD_STATE {
    PKTHREAD Thread;                    /* NULL until first needed */
    KIRQL Irql;
    ULONG CriticalRegionCount;          /* KeEnterCriticalRegion depth */
    ULONG GuardedRegionCount;           /* KeEnterGuardedRegion depth */
    ULONG KMutexCount;                  /* owned KMUTEXes (disable kernel APCs) */
    ULONG OtherLockCount;               /* fast/guarded mutexes, spin locks */
    PWDKM_HOST_BUGCHECK_TRAP TrapTop;   /* innermost armed trap */
    jmp_buf *TerminateJump;             /* system threads: their exit */
} HOSTP_THREAD_STATE;

extern _Thread_local HOSTP_THREAD_STATE WdkmHostpThread;
extern pthread_mutex_t WdkmHostpDispatcherLock;

/* thread.c */
PKTHREAD WdkmHostpCurrentThread(VOID);
/* Drops a reference (the last frees Thread); returns the new count. */
LONG WdkmHostpDereferenceThread(PKTHREAD Thread);

/* dispatcher.c: abandons Thread's KMUTEXes and signals its object. */
VOID WdkmHostpRundownThread(PKTHREAD Thread);

/* bugcheck.c: reports a bug check that cannot unwind (thread exit); returns
   only if a handler is set and returned. */
VOID WdkmHostpReportBugCheck(ULONG Code, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4);

/* clock.c */
LONGLONG WdkmHostpMonotonicNanoseconds(VOID);
LONGLONG WdkmHostpSystemTime(VOID);

#endif /* WDKM_HOSTP_H */
