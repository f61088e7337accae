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
 * below in P1, P2 = the lock, P3 = the current thread, P4 = the owner.
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

/* ---------------------------------------------------------------------- */
/* Threads, alerts and APCs                                                */
/* ---------------------------------------------------------------------- */

/* Alerts Thread (kept alive by the caller): ends its alertable wait now or
   its next one with STATUS_ALERTED. Non-alertable waits leave it pending. */
VOID WdkmHostAlertThread(PKTHREAD Thread);

/* Queues a (routine-less) user APC to Thread: ends its alertable UserMode
   wait now or its next one with STATUS_USER_APC; other waits leave it queued. */
VOID WdkmHostQueueUserApc(PKTHREAD Thread);

/* KMUTEXes the calling thread owns (recursion counts once). */
ULONG WdkmHostThreadKMutexCount(VOID);

/* Locks of every kind (KMUTEX, FAST_MUTEX, guarded mutex, spin lock) the
   calling thread holds. */
ULONG WdkmHostThreadHeldLockCount(VOID);

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
