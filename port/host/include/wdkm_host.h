/*
 * wdkm_host.h - controls of the user-mode kernel emulation, for tests.
 *
 * Nothing here exists in a real kernel: include it only from host tests.
 *
 * Bug checks. Every emulated routine checks its rules (IRQL, ownership,
 * pool tags, ...) before it changes any state and before it takes any
 * internal lock, then calls KeBugCheckEx with the real code. KeBugCheckEx:
 *   1. if the calling thread armed a trap, fills the trap's Bugcheck and
 *      jumps back to its WDKM_HOST_TRY (the emulation is unchanged, so the
 *      test may go on using it; the IRQL is NOT restored for it);
 *   2. else, if a handler is set, calls it; when the handler returns on a
 *      system thread, that thread ends there (its KMUTEXes are abandoned);
 *      on the DPC thread, that DPC ends there and the next one runs (what
 *      it held stays held);
 *   3. else prints "*** STOP: 0x%08X (...) NAME" to stderr and aborts.
 *
 *     WDKM_HOST_BUGCHECK_TRAP Trap;
 *     if (WDKM_HOST_TRY(&Trap)) {
 *         KeReleaseMutex(&Mutex, FALSE);      // not the owner
 *         WdkmHostDisarm(&Trap);              // not reached
 *     } else {
 *         // Trap.Bugcheck.Code == THREAD_NOT_MUTEX_OWNER, already disarmed
 *     }
 *
 * Trap rules (setjmp's): the trap lives in the function that runs
 * WDKM_HOST_TRY and is disarmed before that function returns; locals that
 * the try branch changes and the else branch reads must be volatile; traps
 * nest per thread; C++ destructors in the skipped frames do not run.
 *
 * Parameters of the emulation's bug checks: for IRQL rules (0x09, 0x0A)
 * P1 = the object or lock (or 0), P2 = current IRQL, P3 = the IRQL limit or
 * the requested IRQL. BAD_POOL_CALLER uses the documented sub-codes in P1:
 * 0x00 zero bytes, 0x07 already freed, 0x08 allocate at bad IRQL, 0x09 free
 * at bad IRQL, 0x0A wrong tag, 0x42 not a pool block.
 * DRIVER_VERIFIER_DETECTED_VIOLATION uses the WDKM_HOST_VIOLATION_* codes
 * below in P1, P2 = the lock, P3 = the current thread, P4 = the owner,
 * except the subcodes that Driver Verifier itself defines (marked "DV"),
 * which carry Verifier's parameters. RESOURCE_NOT_OWNED: P1 = the
 * resource, P2 = the releasing ERESOURCE_THREAD, P3 = its owner table.
 * TIMER_OR_DPC_INVALID: P1 = 0 (set timer, P2 = it) or 1 (queued DPC,
 * P2 = it) in freed pool with P3/P4 = the block's start and end; P1 = 4
 * (DPC) or 5 (timer DPC) when the routine changed the APC disable count,
 * P2 = the routine, P3/P4 = the count before/after. A DPC routine that
 * returns at another IRQL than DISPATCH_LEVEL bug checks
 * IRQL_NOT_GREATER_OR_EQUAL with P1 = the KDPC, P2 = the IRQL,
 * P3 = DISPATCH_LEVEL, P4 = the routine.
 * An NTSTATUS in a parameter (KMODE_EXCEPTION_NOT_HANDLED's P1) is
 * sign-extended as on x64: compare with (ULONG_PTR)STATUS_xxx.
 */
#ifndef WDKM_HOST_H
#define WDKM_HOST_H

#include <setjmp.h>
#include <wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/* Bug checks                                                              */
/* ---------------------------------------------------------------------- */

typedef struct _WDKM_HOST_BUGCHECK {
    ULONG Code;
    ULONG_PTR Parameter[4];
} WDKM_HOST_BUGCHECK, *PWDKM_HOST_BUGCHECK;

typedef struct _WDKM_HOST_BUGCHECK_TRAP {
    jmp_buf JumpBuffer;                         /* private */
    struct _WDKM_HOST_BUGCHECK_TRAP *Previous;  /* private: next outer trap */
    BOOLEAN Armed;                              /* TRUE until fired or disarmed */
    WDKM_HOST_BUGCHECK Bugcheck;                /* valid in the else branch */
} WDKM_HOST_BUGCHECK_TRAP, *PWDKM_HOST_BUGCHECK_TRAP;

/* Use only through WDKM_HOST_TRY. Pushes Trap on the calling thread's trap
   stack and returns its jump buffer. */
jmp_buf *WdkmHostArm(PWDKM_HOST_BUGCHECK_TRAP Trap);

/* Non-zero on the first pass; zero when a bug check jumped back. */
#define WDKM_HOST_TRY(Trap) (setjmp(*WdkmHostArm(Trap)) == 0)

/* Pops Trap, which must be the innermost armed one (else aborts). No
   effect on a trap that already fired. */
VOID WdkmHostDisarm(PWDKM_HOST_BUGCHECK_TRAP Trap);

/* Called for a bug check no trap caught, on the raising thread. */
typedef VOID WDKM_HOST_BUGCHECK_HANDLER(const WDKM_HOST_BUGCHECK *Bugcheck, PVOID Context);

/* Sets (or with NULL removes) the handler for untrapped bug checks. */
VOID WdkmHostSetBugcheckHandler(WDKM_HOST_BUGCHECK_HANDLER *Handler, PVOID Context);

/* Bug checks raised so far, trapped or not, on all threads. */
ULONG WdkmHostBugcheckCount(VOID);

/* "IRQL_NOT_LESS_OR_EQUAL" for 0x0A; "UNKNOWN_BUGCHECK" for codes it does not know. */
PCSTR WdkmHostBugcheckName(ULONG Code);

/* P1 of DRIVER_VERIFIER_DETECTED_VIOLATION raised by the emulation. */
#define WDKM_HOST_VIOLATION_FAST_MUTEX_RECURSION     0x00001001
#define WDKM_HOST_VIOLATION_FAST_MUTEX_NOT_OWNER     0x00001002
#define WDKM_HOST_VIOLATION_FAST_MUTEX_IRQL          0x00001003
#define WDKM_HOST_VIOLATION_UNSAFE_APCS_ENABLED      0x00001004
#define WDKM_HOST_VIOLATION_GUARDED_MUTEX_RECURSION  0x00001005
#define WDKM_HOST_VIOLATION_GUARDED_MUTEX_NOT_OWNER  0x00001006
/* Push lock released by a thread that does not hold it (P4 = the
   exclusive owner, or 0 when none). */
#define WDKM_HOST_VIOLATION_PUSH_LOCK_NOT_OWNER      0x00001010
/* ExfReleasePushLockExclusive by a shared holder, or the reverse. */
#define WDKM_HOST_VIOLATION_PUSH_LOCK_RELEASE_MISMATCH 0x00001011
/* A held or waited-for push lock whose word was overwritten (for
   instance by ExInitializePushLock); P4 = the word found. */
#define WDKM_HOST_VIOLATION_PUSH_LOCK_CORRUPTED      0x00001012

/* DV: self-deadlock. A push lock owner acquiring it again, or a shared
   ERESOURCE owner waiting for exclusive access (NT hangs in both).
   P2 = the lock, P3 = the current thread, P4 = the owner (the same). */
#define WDKM_HOST_VIOLATION_SELF_DEADLOCK            0x00001000
/* DV: ExDeleteResourceLite of an owned resource. P2 = the resource,
   P3 = an owning ERESOURCE_THREAD. */
#define WDKM_HOST_VIOLATION_DELETED_LOCK_OWNED       0x0000100B
/* DV: ERESOURCE acquired (released) with normal kernel APCs enabled:
   below APC_LEVEL and outside critical and guarded regions. P2 = the
   IRQL, P3 = the APC disable count (as APC_INDEX_MISMATCH's P3), P4 = the
   resource. */
#define WDKM_HOST_VIOLATION_RESOURCE_APCS_ENABLED         0x00000037
#define WDKM_HOST_VIOLATION_RESOURCE_RELEASE_APCS_ENABLED 0x00000038
/* DV: ExInitializeResourceLite of a live resource. P2 = the resource. */
#define WDKM_HOST_VIOLATION_RESOURCE_REINITIALIZED   0x000000D0
/* DV: use (Verifier: delete) of a resource that is not initialised or was
   deleted. P2 = the resource. */
#define WDKM_HOST_VIOLATION_RESOURCE_UNINITIALIZED   0x000000D1
/* DV: pool freed with a live ERESOURCE inside. P2 = the resource, P3 = the
   block, P4 = its size. Delete resources before freeing their memory. */
#define WDKM_HOST_VIOLATION_RESOURCE_IN_FREED_POOL   0x000000D2
/* DV: push lock acquired (released) with normal kernel APCs enabled.
   P2 = the IRQL, P3 = the APC disable count, P4 = the push lock. */
#define WDKM_HOST_VIOLATION_PUSH_LOCK_APCS_ENABLED          0x000000EA
#define WDKM_HOST_VIOLATION_PUSH_LOCK_RELEASE_APCS_ENABLED  0x000000EB

/* ---------------------------------------------------------------------- */
/* Threads, alerts and APCs                                                */
/* ---------------------------------------------------------------------- */

/* Alerts Thread (kept alive by the caller): ends its alertable wait now or
   its next one with STATUS_ALERTED. Non-alertable waits leave it pending. */
VOID WdkmHostAlertThread(PKTHREAD Thread);

/* Queues a (routine-less) user APC to Thread: ends its alertable UserMode
   wait now or its next one with STATUS_USER_APC; other waits leave it queued. */
VOID WdkmHostQueueUserApc(PKTHREAD Thread);

/* TRUE while Thread (kept alive by the caller) sleeps in an emulated wait:
   a dispatcher wait, or an ERESOURCE's or push lock's hand-off. What is
   queued to it from then on runs when the wait returns. For tests that
   must know a thread is blocked before they act, instead of sleeping a
   while and hoping. */
BOOLEAN WdkmHostThreadIsWaiting(PKTHREAD Thread);

/* KMUTEXes the calling thread owns (recursion counts once). */
ULONG WdkmHostThreadKMutexCount(VOID);

/* Locks of every kind (KMUTEX, FAST_MUTEX, guarded mutex, spin lock,
   ERESOURCE, push lock) the calling thread holds; recursion counts once. */
ULONG WdkmHostThreadHeldLockCount(VOID);

/* Live ERESOURCEs (initialised and not yet deleted), of all threads. A
   test can compare it before and after to find resources never deleted. */
ULONG WdkmHostResourceCount(VOID);

/* A KMUTEX owner may hold it Limit times; one more acquisition bug checks
   KMODE_EXCEPTION_NOT_HANDLED (P1 = STATUS_MUTANT_LIMIT_EXCEEDED, P2 = the
   mutex). Limit <= 0 restores NT's limit (state down to MINLONG). */
VOID WdkmHostSetMutexRecursionLimit(LONG Limit);

/* ---------------------------------------------------------------------- */
/* Pool                                                                    */
/* ---------------------------------------------------------------------- */

/* Live blocks with Tag (0: all tags); *Bytes (optional) gets their size. */
ULONG WdkmHostPoolOutstanding(ULONG Tag, SIZE_T *Bytes);

/* Allocation attempts so far (failed ones included), all tags. */
ULONG64 WdkmHostPoolAllocations(VOID);

/* Successful allocations so far with Tag (0: all tags). */
ULONG64 WdkmHostPoolTagAllocations(ULONG Tag);

/* The Nth allocation attempt from now returns NULL (0: the next one);
   -1 disables. Fires once. */
VOID WdkmHostPoolFailAt(LONG N);

/* Failures injected by WdkmHostPoolFailAt so far. */
ULONG WdkmHostPoolInjectedFailures(VOID);

/* ---------------------------------------------------------------------- */
/* MmGetSystemRoutineAddress                                               */
/* ---------------------------------------------------------------------- */

/* Makes MmGetSystemRoutineAddress(Name) return NULL (FALSE) or the
   routine (TRUE). STATUS_OBJECT_NAME_NOT_FOUND if it does not know Name. */
NTSTATUS WdkmHostSetRoutineAvailable(PCSTR Name, BOOLEAN Available);

/* Makes every routine available again. */
VOID WdkmHostResetRoutines(VOID);

typedef enum _WDKM_HOST_ROUTINE_PROFILE {
    WdkmHostRoutineProfileAll,      /* every routine the emulation has */
    WdkmHostRoutineProfileWine8     /* what Wine 8's ntoskrnl.exe and hal.dll export */
} WDKM_HOST_ROUTINE_PROFILE;

/* Makes exactly the routines of Profile available. Wine 8 lacks
   ExAllocatePool2, ExTryToAcquireFastMutex, KeAcquireGuardedMutex,
   KeReleaseGuardedMutex, KeTryToAcquireGuardedMutex,
   KeTryToAcquireSpinLockAtDpcLevel, ExfReleasePushLockExclusive and
   ExfReleasePushLockShared (it releases push locks with ExfReleasePushLock
   only), and ExInitializeFastMutex (inline in the WDK). It has a stub
   KeInsertQueueDpc whose DPCs never run, which the emulation does not
   play. One routine alone: WdkmHostSetRoutineAvailable. */
VOID WdkmHostSetRoutineProfile(WDKM_HOST_ROUTINE_PROFILE Profile);

/* ---------------------------------------------------------------------- */
/* IRQL                                                                    */
/* ---------------------------------------------------------------------- */

/* FALSE: play a kernel whose IRQL cannot be raised, as Wine's: KfRaiseIrql
   (KeRaiseIrql, KeRaiseIrqlToDpcLevel, the spin-lock acquires) changes
   nothing and the spin-lock routines check no lower IRQL bound. TRUE (the
   default) restores the emulation. Only for tests of how a driver copes
   with such a kernel; set it while no other thread uses the emulation. */
VOID WdkmHostSetIrqlRaisable(BOOLEAN Raisable);

/* ---------------------------------------------------------------------- */
/* Processors                                                              */
/* ---------------------------------------------------------------------- */

/* Makes KeGetCurrentProcessorNumberEx report Processor (below 256) on the
   calling thread, as if the scheduler had moved it there; -1 returns it to
   the host's CPU. Lets a test take a reference on one processor and drop
   it on another without depending on how many the machine has. */
VOID WdkmHostSetCurrentProcessor(LONG Processor);

/* ---------------------------------------------------------------------- */
/* Delay fuzzing                                                           */
/* ---------------------------------------------------------------------- */

/* Synchronization delay fuzzing, as Driver Verifier's: at every acquire and
   release of an emulated lock (KeWaitForSingleObject on a KMUTEX,
   KeReleaseMutex, fast and guarded mutexes, spin locks plain, queued and
   try, ERESOURCE, push locks) the calling thread yields or sleeps a few
   microseconds with probability PercentChance/100. Each thread draws from
   its own generator, seeded from Seed and the thread's order of first
   use, so a seed reproduces each thread's delay sequence. PercentChance 0
   turns it off (the default; values above 100 count as 100). The
   environment variable WDKM_DELAY_FUZZ=seed[:percent] (default percent 10)
   turns it on at the first delay point of a process that never called
   this. */
VOID WdkmHostSetDelayFuzzing(ULONG Seed, ULONG PercentChance);

/* Delays inserted so far (yields and sleeps), all threads. */
ULONG64 WdkmHostDelayFuzzingCount(VOID);

/* ---------------------------------------------------------------------- */
/* Interrupt injection: DPCs and kernel APCs delivered into running threads */
/* ---------------------------------------------------------------------- */

/*
 * A processor interrupts a running thread between any two instructions to
 * run a DPC on it (to NT the DPC *is* that thread: KeGetCurrentThread
 * returns it) or a kernel APC (a normal one may suspend the thread). The
 * emulation does the same with a per-thread signal (SIGURG): the event runs
 * on the interrupted thread, on its stack, wherever it was, if NT's masking
 * allows it there, else it stays pending and runs as soon as the thread
 * unmasks. Masking, as NT's:
 *   - DPC: masked at IRQL >= DISPATCH_LEVEL;
 *   - special kernel APC: masked at IRQL >= APC_LEVEL or in a guarded region;
 *   - normal kernel APC: also masked in a critical region or while the
 *     thread owns a KMUTEX.
 * Unmasking points deliver what is pending: KeLowerIrql (and every
 * emulated routine that lowers the IRQL), KeLeaveCriticalRegion,
 * KeLeaveGuardedRegion, the last KeReleaseMutex of an owned KMUTEX. When
 * one unmasking frees several events that waited for it, the higher level
 * runs first, as NT's software interrupts: DPCs, then special APCs, then
 * normal APCs (each in queueing order).
 * The emulation's own internal sections (its locks, its pool and thread
 * bookkeeping) count as raised: an event arriving inside one runs at its
 * exit. An event arriving while the thread is inside the C library or
 * another shared object (malloc, stdio, ...) is retried shortly after, as
 * is one whose signal never reached the thread's handler.
 * A thread asleep in an emulated wait is not interrupted: an event queued
 * to it runs when the wait returns (NT would run kernel APCs inside the
 * wait and restart it; the emulation defers them, which a caller cannot
 * tell apart from an APC delivered just after the wake).
 *
 * An event runs at DISPATCH_LEVEL (DPC), APC_LEVEL (special APC) or
 * PASSIVE_LEVEL (normal APC) with no bug-check trap armed. Afterwards the
 * emulation checks what NT checks: a DPC must return at DISPATCH_LEVEL
 * (else IRQL_NOT_GREATER_OR_EQUAL, P4 = the routine) with the APC disable
 * counts unchanged (else TIMER_OR_DPC_INVALID 4, P2 = the routine); an APC
 * must return at its IRQL (else IRQL_UNEXPECTED_VALUE) with the counts
 * unchanged (else APC_INDEX_MISMATCH). A bug check inside an event is
 * never caught by the interrupted code's WDKM_HOST_TRY: with no handler it
 * prints the injection seed and the stop and aborts; when the handler
 * returns, the event ends there. Then the thread's IRQL, regions and traps
 * are put back as they were when it was interrupted.
 *
 * Routines may use the emulation freely (spin locks, try-acquires, waits
 * in a normal APC, pool frees; pool frees made by an event are completed
 * after it). They should not allocate pool: the allocator may be the one
 * they interrupted (the sanitizers' run-times are linked into the program,
 * where the emulation cannot tell them from your code).
 *
 * Environment: WDKM_HOST_INTERRUPTS="seed=N,interval=US,dpc=W,napc=W,
 * sapc=W,suspend=US" (any subset, defaults seed=1, interval=500, weights
 * 1,1,1, suspend=200) starts random injection at the first use of the
 * emulation, with the routine set by WdkmHostSetDefaultInterruptRoutine
 * (or the default actions). The seed is printed to stderr then, and again
 * before a fatal stop, so a run can be replayed.
 */
typedef enum _WDKM_HOST_INTERRUPT {
    WdkmHostInterruptDpc = 0,         /* DISPATCH_LEVEL, as the interrupted thread; never blocks */
    WdkmHostInterruptNormalApc = 1,   /* normal kernel APC: PASSIVE_LEVEL, may block (suspension) */
    WdkmHostInterruptSpecialApc = 2   /* special kernel APC: APC_LEVEL */
} WDKM_HOST_INTERRUPT;

#define WDKM_HOST_INTERRUPT_KINDS 3

/* What an injected event does. Random: a seeded value to choose an action by. */
typedef VOID WDKM_HOST_INTERRUPT_ROUTINE(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context);

typedef struct _WDKM_HOST_INTERRUPT_SETTINGS {
    ULONG64 Seed;                      /* each thread's choices: (Seed, its registration order) */
    ULONG MeanIntervalMicroseconds;    /* mean time between interrupts of one running thread */
    ULONG DpcWeight, NormalApcWeight, SpecialApcWeight;   /* relative frequency of each kind */
    ULONG SuspendMaxMicroseconds;      /* a normal APC without routine parks the thread up to this */
    WDKM_HOST_INTERRUPT_ROUTINE *Routine;   /* NULL: DPCs and special APCs stall a few us,
                                               normal APCs suspend */
    PVOID Context;
} WDKM_HOST_INTERRUPT_SETTINGS;

/* Random injection into every emulated kernel thread (system threads and
   adopted threads; not the emulation's DPC thread) until stopped. Restarts
   the counts. A thread's generator is seeded from Seed and the order in
   which threads registered, so a seed replays each thread's choices (the
   interleaving still depends on the host scheduler). */
VOID WdkmHostInterruptsStart(const WDKM_HOST_INTERRUPT_SETTINGS *Settings);

/* Stops random injection (its events still pending are dropped) and
   returns once no injected routine runs anywhere (but the caller's own,
   when called from one). Events queued with WdkmHostQueueInterrupt stay. */
VOID WdkmHostInterruptsStop(VOID);

/* TRUE while random injection runs; *Settings (optional) gets its settings. */
BOOLEAN WdkmHostInterruptsActive(WDKM_HOST_INTERRUPT_SETTINGS *Settings);

/* Deterministic: delivers one event of Kind to Thread as soon as NT's
   masking allows: at once if Thread runs unmasked (it is interrupted
   wherever it is; for the calling thread, before this returns), else when
   it unmasks. Routine NULL: the default action. A system thread that was
   created but has not started yet is waited for; for a thread that has
   ended nothing happens. At most 32 events wait per thread; more are
   dropped. Both count in WdkmHostInterruptsDropped. */
VOID WdkmHostQueueInterrupt(PKTHREAD Thread, WDKM_HOST_INTERRUPT Kind,
                            WDKM_HOST_INTERRUPT_ROUTINE *Routine, PVOID Context);

/* Counts since the last WdkmHostInterruptsStart (or process start), per
   kind: delivered (started), and how many of those found their thread
   masked first and waited for it to unmask. Either may be NULL. */
VOID WdkmHostQueryInterruptCounts(ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS],
                                  ULONG64 Deferred[WDKM_HOST_INTERRUPT_KINDS]);

/* Events dropped: a full ring, or their thread ended before unmasking. */
ULONG64 WdkmHostInterruptsDropped(VOID);

/* The routine WDKM_HOST_INTERRUPTS-started injection uses (NULL: the
   default actions). Call it at program start, before the emulation's
   first use; a later call also changes an injection started from the
   environment. */
VOID WdkmHostSetDefaultInterruptRoutine(WDKM_HOST_INTERRUPT_ROUTINE *Routine, PVOID Context);

/* TRUE on a thread that is running an injected event (its routine). */
BOOLEAN WdkmHostInInterrupt(VOID);

/* ---------------------------------------------------------------------- */
/* Debug output                                                            */
/* ---------------------------------------------------------------------- */

/* Receives each DbgPrint* message that passes the level filter. Calls are
   serialised; a sink must not call DbgPrint* itself. */
typedef VOID WDKM_HOST_DEBUG_PRINT_SINK(ULONG ComponentId, ULONG Level, PCSTR Message,
                                        PVOID Context);

/* Sets (or with NULL restores stderr as) the destination of DbgPrint*. */
VOID WdkmHostSetDebugPrintSink(WDKM_HOST_DEBUG_PRINT_SINK *Sink, PVOID Context);

/* Messages of severity <= Level pass (default DPFLTR_WARNING_LEVEL;
   DbgPrint is DPFLTR_INFO_LEVEL). */
VOID WdkmHostSetDebugPrintLevel(ULONG Level);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_HOST_H */
