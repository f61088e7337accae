/*
 * wdkm_diag.h - checked-build diagnostics: owner assertions, lock classes,
 * lock-order validation, context checks, contention statistics, and the
 * leak check at unload. docs/diagnostics.md explains how to read a report.
 *
 * Everything here works in the checked build (WDKM_CHECKED=1, the default
 * when DBG=1; see wdkm_config.h). In a release build the library contains
 * no diagnostics code at all: the functions below become macros that
 * evaluate to STATUS_NOT_SUPPORTED (the query ones set *Count to 0) and
 * the assertion macros to nothing, so the calls may stay in a driver's
 * source unconditionally. The one exception is WdkmDiagIsHeld, which needs
 * the tracking and exists in checked builds only (use WDKM_ASSERT_HELD, or
 * the kinds' IsOwned).
 *
 * Lock classes. Order is recorded between classes, not objects, so that an
 * inversion between two instances of "the queue lock" and "the device
 * lock" is found even when the instances differ. A lock's class is:
 *   - its registry name up to the first '#', for a lock the registry
 *     (wdkm_grt.h) created: the role of a WdkmGrtInstanceName name (also
 *     of a name written by hand: every name starting "Role#" is in Role;
 *     a name starting with '#' has no role and is its own class, whole);
 *   - the name given with WdkmDiagSetClassName;
 *   - else its creation site ("file.c:123"), when it was created through a
 *     typed WDKM_xxx_CREATE macro;
 *   - else the lock alone (a class of one, named "<KIND>@<address>").
 * Locks with the same class name share one class. Two locks of one class
 * nested inside each other are not ordered against each other: give them
 * different names if they nest.
 *
 * Lock order. Each thread's held locks are tracked; acquiring B while
 * holding A records "A before B". When an acquisition would record the
 * reverse of an order already recorded (directly, or through a longer
 * chain A before B before C), it is reported the first time it happens,
 * before any thread waits, with both classes and the acquisition sites.
 * Under WDKM_DIAG_REFUSE the acquisition is refused with
 * STATUS_POSSIBLE_DEADLOCK instead. Tries (TryAcquire, zero timeouts)
 * cannot deadlock and never close a cycle; recursion on a recursive kind
 * is not an inversion.
 *
 * Context checks. A waiting acquisition (any mutex, ERESOURCE, push lock)
 * while the thread holds a spin lock; locks or regions still held where
 * the driver says none may be (WdkmDiagCheckNoneHeld, e.g. before a
 * dispatch routine returns) and at unload (WdkmDiagLeakCheck).
 *
 * Reports go to the debugger through DbgPrintEx (wdkm_debug.h chooses the
 * component id and level), and are kept for WdkmDiagQueryViolations.
 */
#ifndef WDKM_DIAG_H
#define WDKM_DIAG_H

#include "wdkm_base.h"
#include "wdkm_grt.h"

WDKM_EXTERN_C_BEGIN

/* Longest class name kept, including the terminating NUL: a whole
   registry name, since a registry lock's class is its name up to the
   first '#'. (It was 48: two registry names that agreed in their first 47
   characters fell into one class, and an order on one was taken for an
   order on the other; attack38.class_long_names_distinct.) */
#define WDKM_DIAG_NAME_LENGTH (WDKM_GRT_MAX_NAME_LENGTH + 1)

/* Policy flags (WdkmDiagSetPolicy). */
#define WDKM_DIAG_REPORT 0x00000000UL   /* report violations, let the acquisition go on */
#define WDKM_DIAG_REFUSE 0x00000001UL   /* refuse it: STATUS_POSSIBLE_DEADLOCK (order) or
                                           STATUS_WDKM_IRQL_TOO_HIGH (wait under a spin lock) */
#define WDKM_DIAG_TIME_HOLDS 0x00000002UL  /* measure MaxHoldNs: two clock reads per
                                              acquisition, off by default */

typedef enum _WDKM_DIAG_VIOLATION_TYPE {
    WdkmDiagLockOrder = 1,           /* a cycle in the recorded lock order */
    WdkmDiagWaitUnderSpinLock = 2,   /* waiting acquisition while a spin lock is held */
    WdkmDiagHeldAtCheckpoint = 3,    /* WdkmDiagCheckNoneHeld found a lock held */
    WdkmDiagRegionUnbalanced = 4,    /* a region still entered at a checkpoint or unload */
    WdkmDiagAssertHeld = 5,          /* WDKM_ASSERT_HELD / WDKM_ASSERT_NOT_HELD failed */
    WdkmDiagLeakedLock = 6,          /* a lock never destroyed, found at unload */
    WdkmDiagCallbackMisuse = 7       /* a callback form (..._OR_BUGCHECK) refused: the
                                        system stops with WDKM_BUGCHECK_LOCK_MISUSE */
} WDKM_DIAG_VIOLATION_TYPE;

/*
 * One reported violation. For WdkmDiagLockOrder, Held is the class the
 * thread held (acquired at HeldFile:HeldLine) and Acquiring the class it
 * was acquiring at AcquireFile:AcquireLine; CycleLength counts the classes
 * in the cycle (2 for ABBA). Sites are NULL/0 where unknown (a call made
 * without the typed or scoped macros).
 */
typedef struct _WDKM_DIAG_VIOLATION {
    WDKM_DIAG_VIOLATION_TYPE Type;
    ULONG CycleLength;
    CHAR Held[WDKM_DIAG_NAME_LENGTH];
    CHAR Acquiring[WDKM_DIAG_NAME_LENGTH];
    PCSTR HeldFile;
    ULONG HeldLine;
    PCSTR AcquireFile;
    ULONG AcquireLine;
} WDKM_DIAG_VIOLATION, *PWDKM_DIAG_VIOLATION;

/*
 * Contention statistics of one lock or one class. Times are nanoseconds.
 * Contended counts acquisitions that found the lock busy (a try before the
 * wait failed); Wait times are measured for those only. MaxHoldNs is
 * measured only while the policy has WDKM_DIAG_TIME_HOLDS (0 otherwise):
 * timing every hold reads the clock twice per acquisition, which would
 * cost a cheap lock more than all the validation does.
 */
typedef struct _WDKM_DIAG_STATISTICS {
    CHAR Name[WDKM_DIAG_NAME_LENGTH];
    WDKM_LOCK_KIND Kind;             /* the kind of the class's first lock */
    ULONG Locks;                     /* live locks in the class (1 for a lock) */
    ULONG64 Acquisitions;
    ULONG64 Contended;
    ULONG64 TotalWaitNs;
    ULONG64 MaxWaitNs;
    ULONG64 MaxHoldNs;
} WDKM_DIAG_STATISTICS, *PWDKM_DIAG_STATISTICS;

/*
 * What the validator has seen since the start (or WdkmDiagReset).
 * OrderViolations counts acquisitions that closed a lock-order cycle:
 * under WDKM_DIAG_REPORT once per closing order (the order is recorded
 * then, and is no cycle the next time), under WDKM_DIAG_REFUSE every
 * refused one (the order is never recorded). Either way each closing
 * order is printed and kept (WdkmDiagQueryViolations) once.
 */
typedef struct _WDKM_DIAG_SUMMARY {
    ULONG OrderViolations;
    ULONG ContextViolations;         /* wait under spin lock, held at checkpoint, regions */
    ULONG AssertFailures;
    ULONG LiveLocks;                 /* lock objects not destroyed */
    ULONG HeldLocks;                 /* of those, held by some thread */
    ULONG UnbalancedRegions;         /* regions entered and not left, all threads */
    ULONG Untracked;                 /* acquisitions the full tables could not track */
    SIZE_T PoolBlocks;               /* library pool outstanding (WdkmQueryPoolStatistics) */
    SIZE_T PoolBytes;
} WDKM_DIAG_SUMMARY, *PWDKM_DIAG_SUMMARY;

/*
 * WdkmDiagSetPolicy - WDKM_DIAG_REPORT (the default) or WDKM_DIAG_REFUSE,
 * combined with WDKM_DIAG_TIME_HOLDS to measure hold times. IRQL: any.
 * Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER for unknown flags.
 * Takes effect for acquisitions that start afterwards (a hold that began
 * untimed stays untimed).
 */
_Must_inspect_result_
_IRQL_requires_max_(HIGH_LEVEL)
NTSTATUS
WdkmDiagSetPolicy(
    _In_ ULONG Flags
    );

/*
 * WdkmDiagSetClassName - put Lock (a handle of any WDKM lock kind) in the
 * class Name (copied, truncated to WDKM_DIAG_NAME_LENGTH - 1 characters).
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER
 * (NULL, not a live lock, empty name: only Lock's first words are read,
 * and no pointer in them is followed unless they carry a lock kind's
 * signature); STATUS_WDKM_IRQL_TOO_HIGH; STATUS_WDKM_LOCK_HELD (name a lock
 * before using it); STATUS_WDKM_OWNED_BY_REGISTRY (a lock the registry
 * owns: its class is its registry name, nothing changes);
 * STATUS_INSUFFICIENT_RESOURCES when the class table is full (the lock
 * keeps its class).
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmDiagSetClassName(
    _In_ PVOID Lock,
    _In_z_ PCSTR Name
    );

/*
 * WdkmDiagCheckNoneHeld - report every lock the calling thread still holds
 * and every region it has not left; Where names the checkpoint in the
 * report (e.g. "IRP_MJ_DEVICE_CONTROL return"). Call it where the thread
 * must hold nothing: before a dispatch routine or callback returns. In a
 * DPC it checks what the DPC acquired, not the locks of the thread it
 * interrupted (docs/diagnostics.md, "DPCs and APCs").
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS if nothing is held,
 * STATUS_WDKM_LOCK_HELD otherwise (after reporting);
 * STATUS_WDKM_IRQL_TOO_HIGH above DISPATCH_LEVEL.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmDiagCheckNoneHeld(
    _In_z_ PCSTR Where
    );

/*
 * WdkmDiagQueryLockStatistics - the statistics of one lock.
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER
 * (NULL, or not a live lock: as for WdkmDiagSetClassName);
 * STATUS_WDKM_IRQL_TOO_HIGH above DISPATCH_LEVEL. Figures read while other
 * threads use the lock may be a moment old.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmDiagQueryLockStatistics(
    _In_ const VOID *Lock,
    _Out_ PWDKM_DIAG_STATISTICS Statistics
    );

/*
 * WdkmDiagQueryStatistics - the statistics of every class that has been
 * acquired, into Classes[0 .. Capacity); *Count receives how many classes
 * there are (more than Capacity: the rest did not fit). With Print TRUE,
 * also prints them as a table through DbgPrintEx.
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_BUFFER_OVERFLOW
 * when Capacity was too small (the first Capacity are filled);
 * STATUS_INVALID_PARAMETER (Count NULL, or Classes NULL with Capacity > 0);
 * STATUS_WDKM_IRQL_TOO_HIGH above DISPATCH_LEVEL (*Count is 0).
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmDiagQueryStatistics(
    _Out_writes_opt_(Capacity) PWDKM_DIAG_STATISTICS Classes,
    _In_ ULONG Capacity,
    _Out_ PULONG Count,
    _In_ BOOLEAN Print
    );

/*
 * WdkmDiagQueryViolations - the first violations reported (up to 16 are
 * kept), into Violations[0 .. Capacity); *Count receives how many were
 * reported in all. A violation counts once its record is completely
 * written: one being reported at this moment (by another thread, or by
 * the thread this DPC interrupted) is not counted yet, nor are the ones
 * after it, and none is ever copied half-written.
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER;
 * STATUS_WDKM_IRQL_TOO_HIGH above DISPATCH_LEVEL (*Count is 0).
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmDiagQueryViolations(
    _Out_writes_opt_(Capacity) PWDKM_DIAG_VIOLATION Violations,
    _In_ ULONG Capacity,
    _Out_ PULONG Count
    );

/*
 * WdkmDiagLeakCheck - at unload, after the driver destroyed its locks and
 * the registry: report every lock not destroyed (with its class and
 * whether it is held), every region not left, and library pool still
 * outstanding; fill *Summary. IRQL: PASSIVE_LEVEL. Returns STATUS_SUCCESS
 * if nothing leaked, STATUS_WDKM_LEAK_DETECTED otherwise. Does not free
 * anything. The caller must call it when no other thread uses the library.
 */
_Must_inspect_result_
_IRQL_requires_(PASSIVE_LEVEL)
NTSTATUS
WdkmDiagLeakCheck(
    _Out_opt_ PWDKM_DIAG_SUMMARY Summary
    );

/*
 * WdkmDiagQuerySummary - the counters of WDKM_DIAG_SUMMARY, without
 * printing. IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS;
 * STATUS_INVALID_PARAMETER.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmDiagQuerySummary(
    _Out_ PWDKM_DIAG_SUMMARY Summary
    );

/*
 * WdkmDiagReset - forget the recorded lock order, statistics and
 * violations, and the classes no live lock is in (live locks and their
 * classes stay). For test programs that run several scenarios. IRQL:
 * PASSIVE_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_IRQL_TOO_HIGH above
 * PASSIVE_LEVEL (nothing forgotten). The caller must call it when no
 * other thread holds a library lock.
 */
_Must_inspect_result_
_IRQL_requires_(PASSIVE_LEVEL)
NTSTATUS
WdkmDiagReset(
    VOID
    );

#if WDKM_CHECKED

/*
 * WdkmDiagIsHeld - TRUE if the calling thread holds Lock, exclusively or
 * shared (the kinds' IsOwned functions see exclusive ownership only). In
 * a DPC, the interrupted thread's shared holds are not the DPC's; its
 * exclusive ones are (the kinds' owner is the thread).
 * IRQL: <= DISPATCH_LEVEL. FALSE for NULL.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
BOOLEAN
WdkmDiagIsHeld(
    _In_opt_ const VOID *Lock
    );

/*
 * For the assertion macros; not meant to be called directly. Reports a
 * failed assertion and returns FALSE. IRQL: <= DISPATCH_LEVEL.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
BOOLEAN
WdkmDiagAssertFailed(
    _In_z_ PCSTR Expression,
    _In_z_ PCSTR File,
    _In_ ULONG Line
    );

/* WDKM_ASSERT_HELD(Lock): report (never bugcheck) if this thread does not
   hold Lock. WDKM_ASSERT_NOT_HELD: the reverse. Nothing in release builds. */
#define WDKM_ASSERT_HELD(Lock)                                                  \
    ((VOID)(WdkmDiagIsHeld(Lock) ||                                             \
            WdkmDiagAssertFailed("held: " #Lock, __FILE__, __LINE__)))
#define WDKM_ASSERT_NOT_HELD(Lock)                                              \
    ((VOID)(!WdkmDiagIsHeld(Lock) ||                                            \
            WdkmDiagAssertFailed("not held: " #Lock, __FILE__, __LINE__)))

#else /* !WDKM_CHECKED: the calls above compile to constants. */

#define WdkmDiagSetPolicy(Flags) ((VOID)(Flags), STATUS_NOT_SUPPORTED)
#define WdkmDiagSetClassName(Lock, Name) ((VOID)(Lock), (VOID)(Name), STATUS_NOT_SUPPORTED)
#define WdkmDiagCheckNoneHeld(Where) ((VOID)(Where), STATUS_NOT_SUPPORTED)
#define WdkmDiagQueryLockStatistics(Lock, Statistics) \
    ((VOID)(Lock), (VOID)(Statistics), STATUS_NOT_SUPPORTED)
#define WdkmDiagQueryStatistics(Classes, Capacity, Count, Print)                \
    ((VOID)(Classes), (VOID)(Capacity), (VOID)(Print), *(Count) = 0, STATUS_NOT_SUPPORTED)
#define WdkmDiagQueryViolations(Violations, Capacity, Count) \
    ((VOID)(Violations), (VOID)(Capacity), *(Count) = 0, STATUS_NOT_SUPPORTED)
#define WdkmDiagLeakCheck(Summary) ((VOID)(Summary), STATUS_NOT_SUPPORTED)
#define WdkmDiagQuerySummary(Summary) ((VOID)(Summary), STATUS_NOT_SUPPORTED)
#define WdkmDiagReset() STATUS_NOT_SUPPORTED

#define WDKM_ASSERT_HELD(Lock) ((VOID)0)
#define WDKM_ASSERT_NOT_HELD(Lock) ((VOID)0)

#endif /* WDKM_CHECKED */

WDKM_EXTERN_C_END

#endif /* WDKM_DIAG_H */
