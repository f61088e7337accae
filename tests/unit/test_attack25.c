/*
 * test_attack25.c - every lock kind's acquire / try / timeout / alertable /
 * release / IsOwned / ScopeEnter while the kernel acts on the thread
 * asynchronously (DPCs on the owner's identity, special and normal kernel
 * APCs), plus releases at the wrong IRQL, by the wrong thread, out of
 * order, with copied or foreign queued handles and bad out-parameters.
 *
 * Written from docs/reference.md (Conventions and each kind's section),
 * docs/checks.md, docs/memory-ordering.md, the public headers and
 * wdkm_host.h alone: the library (and, in the release build, its inline
 * fast paths) is a black box. Each expectation names the doc sentence it
 * comes from. The locks all protect one LONG.
 */
#define _POSIX_C_SOURCE 200809L   /* sigaction, sigsetjmp: scope_enter_null_status */

#include "wdkm_test.h"

#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define A25_POISON ((PVOID)(ULONG_PTR)0xDEADBEEFUL)

/* The emulation's push lock allocates its owner record on acquire
   (port/host/pushlock.c); taken inside an injected event (a signal
   handler) TSan reports calloc/free as signal-unsafe. The TSan build
   leaves push locks out of events; the others run them. */
#if defined(__SANITIZE_THREAD__)
#define A25_PUSH_LOCK_IN_EVENTS 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define A25_PUSH_LOCK_IN_EVENTS 0
#endif
#endif
#ifndef A25_PUSH_LOCK_IN_EVENTS
#define A25_PUSH_LOCK_IN_EVENTS 1
#endif

/* ------------------------------------------------------------------------
 * One interface over the seven kinds, so that tables can drive them.
 */
typedef enum _A25_KIND {
    A25KMutex,
    A25Fast,
    A25Spin,
    A25Queued,
    A25Guarded,
    A25Resource,
    A25Push,
    A25KindCount
} A25_KIND;

static const char *const A25KindNames[A25KindCount] = {
    "KMUTEX", "FAST_MUTEX", "SPIN_LOCK", "QUEUED_SPIN_LOCK", "GUARDED_MUTEX",
    "RESOURCE", "PUSH_LOCK",
};

typedef struct _A25_LOCK {
    A25_KIND Kind;
    PVOID Lock;
    KIRQL OldIrql;                      /* spin lock's saved IRQL */
    WDKM_LOCK_QUEUE_HANDLE Handle;      /* queued spin lock's hold */
} A25_LOCK;

static NTSTATUS
A25Create(A25_KIND Kind, A25_LOCK *Lock)
{
    LONG Zero = 0;

    memset(Lock, 0, sizeof(*Lock));
    Lock->Kind = Kind;
    switch (Kind) {
    case A25KMutex: return WdkmKMutexCreate(&Zero, sizeof(Zero), (PWDKM_KMUTEX *)&Lock->Lock);
    case A25Fast: return WdkmFastMutexCreate(&Zero, sizeof(Zero), (PWDKM_FAST_MUTEX *)&Lock->Lock);
    case A25Spin: return WdkmSpinLockCreate(&Zero, sizeof(Zero), (PWDKM_SPIN_LOCK *)&Lock->Lock);
    case A25Queued:
        return WdkmQueuedSpinLockCreate(&Zero, sizeof(Zero), (PWDKM_QUEUED_SPIN_LOCK *)&Lock->Lock);
    case A25Guarded:
        return WdkmGuardedMutexCreate(&Zero, sizeof(Zero), (PWDKM_GUARDED_MUTEX *)&Lock->Lock);
    case A25Resource: return WdkmResourceCreate(&Zero, sizeof(Zero), (PWDKM_RESOURCE *)&Lock->Lock);
    case A25Push: return WdkmPushLockCreate(&Zero, sizeof(Zero), (PWDKM_PUSH_LOCK *)&Lock->Lock);
    default: return STATUS_INVALID_PARAMETER;
    }
}

static NTSTATUS
A25Destroy(A25_LOCK *Lock)
{
    switch (Lock->Kind) {
    case A25KMutex: return WdkmKMutexDestroy((PWDKM_KMUTEX)Lock->Lock);
    case A25Fast: return WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)Lock->Lock);
    case A25Spin: return WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Lock->Lock);
    case A25Queued: return WdkmQueuedSpinLockDestroy((PWDKM_QUEUED_SPIN_LOCK)Lock->Lock);
    case A25Guarded: return WdkmGuardedMutexDestroy((PWDKM_GUARDED_MUTEX)Lock->Lock);
    case A25Resource: return WdkmResourceDestroy((PWDKM_RESOURCE)Lock->Lock);
    case A25Push: return WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Lock->Lock);
    default: return STATUS_INVALID_PARAMETER;
    }
}

/* The blocking acquire of the kind (Shared for the reader/writer kinds;
   spin locks with their raising form). Goes through the public names, so
   in the release build through the inline fast paths. */
static NTSTATUS
A25Acquire(A25_LOCK *Lock, BOOLEAN Shared, LONG **Data)
{
    PVOID *Out = (PVOID *)Data;

    switch (Lock->Kind) {
    case A25KMutex: return WdkmKMutexAcquire((PWDKM_KMUTEX)Lock->Lock, sizeof(LONG), Out);
    case A25Fast: return WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock->Lock, sizeof(LONG), Out);
    case A25Spin:
        return WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock->Lock, sizeof(LONG), &Lock->OldIrql, Out);
    case A25Queued:
        return WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Lock->Lock, sizeof(LONG),
                                         &Lock->Handle, Out);
    case A25Guarded: return WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)Lock->Lock, sizeof(LONG), Out);
    case A25Resource:
        return Shared ? WdkmResourceAcquireShared((PWDKM_RESOURCE)Lock->Lock, sizeof(LONG),
                                                  (const VOID **)Out)
                      : WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Lock->Lock, sizeof(LONG), Out);
    case A25Push:
        return Shared ? WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)Lock->Lock, sizeof(LONG),
                                                  (const VOID **)Out)
                      : WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)Lock->Lock, sizeof(LONG), Out);
    default: return STATUS_INVALID_PARAMETER;
    }
}

/* The try form; the queued spin lock and the push lock have none
   (STATUS_NOT_SUPPORTED here, never expected by a table). */
static NTSTATUS
A25Try(A25_LOCK *Lock, BOOLEAN Shared, LONG **Data)
{
    PVOID *Out = (PVOID *)Data;

    switch (Lock->Kind) {
    case A25KMutex: return WdkmKMutexTryAcquire((PWDKM_KMUTEX)Lock->Lock, sizeof(LONG), Out);
    case A25Fast: return WdkmFastMutexTryAcquire((PWDKM_FAST_MUTEX)Lock->Lock, sizeof(LONG), Out);
    case A25Spin:
        return WdkmSpinLockTryAcquire((PWDKM_SPIN_LOCK)Lock->Lock, sizeof(LONG), &Lock->OldIrql, Out);
    case A25Guarded:
        return WdkmGuardedMutexTryAcquire((PWDKM_GUARDED_MUTEX)Lock->Lock, sizeof(LONG), Out);
    case A25Resource:
        return Shared ? WdkmResourceTryAcquireShared((PWDKM_RESOURCE)Lock->Lock, sizeof(LONG),
                                                     (const VOID **)Out)
                      : WdkmResourceTryAcquireExclusive((PWDKM_RESOURCE)Lock->Lock, sizeof(LONG),
                                                        Out);
    default: return STATUS_NOT_SUPPORTED;
    }
}

static NTSTATUS
A25Release(A25_LOCK *Lock)
{
    switch (Lock->Kind) {
    case A25KMutex: return WdkmKMutexRelease((PWDKM_KMUTEX)Lock->Lock);
    case A25Fast: return WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock->Lock);
    case A25Spin: return WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock->Lock, Lock->OldIrql);
    case A25Queued: return WdkmQueuedSpinLockRelease(&Lock->Handle);
    case A25Guarded: return WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Lock->Lock);
    case A25Resource: return WdkmResourceRelease((PWDKM_RESOURCE)Lock->Lock);
    case A25Push: return WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock->Lock);
    default: return STATUS_INVALID_PARAMETER;
    }
}

/* IsOwned / IsOwnedExclusive. */
static BOOLEAN
A25IsOwned(const A25_LOCK *Lock)
{
    switch (Lock->Kind) {
    case A25KMutex: return WdkmKMutexIsOwned((const WDKM_KMUTEX *)Lock->Lock);
    case A25Fast: return WdkmFastMutexIsOwned((const WDKM_FAST_MUTEX *)Lock->Lock);
    case A25Spin: return WdkmSpinLockIsOwned((const WDKM_SPIN_LOCK *)Lock->Lock);
    case A25Queued: return WdkmQueuedSpinLockIsOwned((const WDKM_QUEUED_SPIN_LOCK *)Lock->Lock);
    case A25Guarded: return WdkmGuardedMutexIsOwned((const WDKM_GUARDED_MUTEX *)Lock->Lock);
    case A25Resource: return WdkmResourceIsOwnedExclusive((const WDKM_RESOURCE *)Lock->Lock);
    case A25Push: return WdkmPushLockIsOwnedExclusive((const WDKM_PUSH_LOCK *)Lock->Lock);
    default: return FALSE;
    }
}

/* ScopeEnter of the kind (the queued spin lock has none: its Lock is NULL
   and *Status STATUS_NOT_SUPPORTED). */
static WDKM_SCOPE
A25ScopeEnter(A25_LOCK *Lock, BOOLEAN Shared, LONG **Data, NTSTATUS *Status)
{
    PVOID *Out = (PVOID *)Data;
    WDKM_SCOPE None;

    switch (Lock->Kind) {
    case A25KMutex:
        return WdkmKMutexScopeEnter((PWDKM_KMUTEX)Lock->Lock, sizeof(LONG), Out, Status);
    case A25Fast:
        return WdkmFastMutexScopeEnter((PWDKM_FAST_MUTEX)Lock->Lock, sizeof(LONG), Out, Status);
    case A25Spin:
        return WdkmSpinLockScopeEnter((PWDKM_SPIN_LOCK)Lock->Lock, sizeof(LONG), Out, Status);
    case A25Guarded:
        return WdkmGuardedMutexScopeEnter((PWDKM_GUARDED_MUTEX)Lock->Lock, sizeof(LONG), Out, Status);
    case A25Resource:
        return WdkmResourceScopeEnter((PWDKM_RESOURCE)Lock->Lock, sizeof(LONG), (BOOLEAN)!Shared,
                                      Out, Status);
    case A25Push:
        return WdkmPushLockScopeEnter((PWDKM_PUSH_LOCK)Lock->Lock, sizeof(LONG), (BOOLEAN)!Shared,
                                      Out, Status);
    default:
        memset(&None, 0, sizeof(None));
        *Status = STATUS_NOT_SUPPORTED;
        return None;
    }
}

/* How deep the calling thread is in critical (Guarded FALSE) or guarded
   regions: leave until the emulation bug checks APC_INDEX_MISMATCH (a
   trapped bug check changes nothing), then enter as often again. Call at
   PASSIVE_LEVEL with nothing pending. *Probes gets the bug checks it made. */
static LONG
A25RegionDepth(BOOLEAN Guarded, ULONG *Probes)
{
    volatile LONG Depth = 0;
    volatile BOOLEAN Done = FALSE;
    LONG Index;

    while (!Done) {
        WDKM_HOST_BUGCHECK_TRAP Trap;

        if (WDKM_HOST_TRY(&Trap)) {
            if (Guarded) {
                KeLeaveGuardedRegion();
            } else {
                KeLeaveCriticalRegion();
            }
            WdkmHostDisarm(&Trap);
            Depth = Depth + 1;
        } else {
            Done = TRUE;
            *Probes += 1;
        }
    }
    for (Index = 0; Index < Depth; Index += 1) {
        if (Guarded) {
            KeEnterGuardedRegion();
        } else {
            KeEnterCriticalRegion();
        }
    }
    return Depth;
}

/* ------------------------------------------------------------------------
 * What each kind masks while held (reference.md, each kind's opening
 * paragraph; wdkm_host.h "Masking, as NT's"):
 *   KMUTEX: "normal kernel APCs are disabled for the owner while it holds it"
 *   FAST_MUTEX: "Holding it raises the IRQL to APC_LEVEL" (masks both APCs)
 *   spin locks: DISPATCH_LEVEL (masks everything)
 *   guarded mutex: "a guarded region (all APCs disabled) without raising
 *     the IRQL"
 *   ERESOURCE, push lock: "The wrappers enter a critical region before
 *     acquiring and leave it after releasing" (masks normal APCs)
 * An event that found the thread masked runs at the unmasking point, i.e.
 * inside the release: by then the kernel lock is free, so the event must
 * be able to take the lock (the library's record of the owner must be gone
 * too) and IsOwned must say FALSE.
 */
static const BOOLEAN A25RunsDuringHold[A25KindCount][WDKM_HOST_INTERRUPT_KINDS] = {
    /*               DPC    normal APC  special APC */
    /* KMUTEX */   { TRUE,  FALSE,      TRUE  },
    /* FAST */     { TRUE,  FALSE,      FALSE },
    /* SPIN */     { FALSE, FALSE,      FALSE },
    /* QUEUED */   { FALSE, FALSE,      FALSE },
    /* GUARDED */  { TRUE,  FALSE,      FALSE },
    /* RESOURCE */ { TRUE,  FALSE,      TRUE  },
    /* PUSH */     { TRUE,  FALSE,      TRUE  },
};

typedef struct _A25_PROBE {
    A25_LOCK *Lock;
    BOOLEAN Shared;                 /* the owner's hold */
    volatile LONG Phase;            /* 1 holding, 2 inside the release, 3 after */
    LONG Ran;
    LONG RanPhase;
    KIRQL Irql;
    BOOLEAN Owned;
    NTSTATUS Acquired;
    NTSTATUS Released;
    LONG Value;
} A25_PROBE;

/* Takes and gives back Lock with a form allowed at the event's IRQL
   (DPC: the KMUTEX try, the spin locks' AtDpcLevel forms; an APC: the
   blocking acquire, exclusive). */
static VOID
A25EventCycle(const A25_LOCK *Owner, WDKM_HOST_INTERRUPT Kind, NTSTATUS *Acquired,
              NTSTATUS *Released, LONG *Value)
{
    A25_LOCK Mine = *Owner;
    LONG *Data = (LONG *)A25_POISON;

    memset(&Mine.Handle, 0xA5, sizeof(Mine.Handle));
    *Released = STATUS_UNSUCCESSFUL;
    *Value = -1;
    if (Kind == WdkmHostInterruptDpc) {
        switch (Mine.Kind) {
        case A25KMutex:
            *Acquired = WdkmKMutexTryAcquire((PWDKM_KMUTEX)Mine.Lock, sizeof(LONG), (PVOID *)&Data);
            break;
        case A25Spin:
            *Acquired = WdkmSpinLockAcquireAtDpcLevel((PWDKM_SPIN_LOCK)Mine.Lock, sizeof(LONG),
                                                      (PVOID *)&Data);
            if (*Acquired == STATUS_SUCCESS) {
                *Value = *Data;
                *Released = WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)Mine.Lock);
            }
            return;
        case A25Queued:
            *Acquired = WdkmQueuedSpinLockAcquireAtDpcLevel((PWDKM_QUEUED_SPIN_LOCK)Mine.Lock,
                                                            sizeof(LONG), &Mine.Handle,
                                                            (PVOID *)&Data);
            break;
        default:
            *Acquired = A25Try(&Mine, FALSE, &Data);
            break;
        }
    } else {
        *Acquired = A25Acquire(&Mine, FALSE, &Data);
    }
    if (*Acquired == STATUS_SUCCESS) {
        *Value = *Data;
        *Released = A25Release(&Mine);
    } else if (Data != NULL) {
        *Value = -2;                /* "On any status but STATUS_SUCCESS it is set to NULL" */
    }
}

static VOID
A25ProbeRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A25_PROBE *Probe = (A25_PROBE *)Context;

    UNREFERENCED_PARAMETER(Random);
    Probe->Ran += 1;
    Probe->RanPhase = Probe->Phase;
    Probe->Irql = KeGetCurrentIrql();
    Probe->Owned = A25IsOwned(Probe->Lock);
    if (Probe->Phase == 2) {
        A25EventCycle(Probe->Lock, Kind, &Probe->Acquired, &Probe->Released, &Probe->Value);
    }
}

static VOID
A25MaskingOne(A25_KIND Kind, BOOLEAN Shared, WDKM_HOST_INTERRUPT Event)
{
    static const KIRQL EventIrql[WDKM_HOST_INTERRUPT_KINDS] = {
        DISPATCH_LEVEL, PASSIVE_LEVEL, APC_LEVEL,
    };
    A25_LOCK Lock;
    A25_PROBE Probe;
    LONG *Data = NULL;
    ULONG Probes = 0;
    ULONG Bugchecks;

    CHECK_STATUS(A25Create(Kind, &Lock), STATUS_SUCCESS);
    memset(&Probe, 0, sizeof(Probe));
    Probe.Lock = &Lock;
    Probe.Shared = Shared;
    Bugchecks = WdkmHostBugcheckCount();
    CHECK_STATUS(A25Acquire(&Lock, Shared, &Data), STATUS_SUCCESS);
    if (!Shared) {
        *Data = 7;
    }
    Probe.Phase = 1;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), Event, A25ProbeRoutine, &Probe);
    if (A25RunsDuringHold[Kind][Event]) {
        if (Probe.Ran != 1) {
            WdkmTestFail(__FILE__, __LINE__, "%s: event %d did not run during the hold",
                         A25KindNames[Kind], (int)Event);
        }
        CHECK_EQ(Probe.Ran, 1);
        CHECK_EQ(Probe.Irql, EventIrql[Event]);
        /* "TRUE if the calling thread holds the lock": a DPC or APC is,
           to NT, the thread it interrupted (IsOwnedExclusive: FALSE for a
           shared hold). */
        CHECK_EQ(Probe.Owned, !Shared);
    } else {
        CHECK_EQ(Probe.Ran, 0);
    }
    Probe.Phase = 2;
    CHECK_STATUS(A25Release(&Lock), STATUS_SUCCESS);
    Probe.Phase = 3;
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(Probe.Ran, 1);
    if (!A25RunsDuringHold[Kind][Event]) {
        /* Delivered at the unmasking point, inside the release. */
        if (Probe.RanPhase != 2 || Probe.Owned || Probe.Acquired != STATUS_SUCCESS ||
            Probe.Released != STATUS_SUCCESS || Probe.Value != (Shared ? 0 : 7)) {
            WdkmTestFail(__FILE__, __LINE__,
                         "%s (%s hold): event %d deferred to the release: phase %ld, IsOwned %d, "
                         "acquire %s, release %s, value %ld",
                         A25KindNames[Kind], Shared ? "shared" : "exclusive", (int)Event,
                         (long)Probe.RanPhase, (int)Probe.Owned, WdkmStatusName(Probe.Acquired),
                         WdkmStatusName(Probe.Released), (long)Probe.Value);
            return;
        }
    }
    CHECK(!A25IsOwned(&Lock));
    CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_NOT_HELD);
    CHECK_EQ(A25RegionDepth(FALSE, &Probes), 0);
    CHECK_EQ(A25RegionDepth(TRUE, &Probes), 0);
    CHECK_EQ(WdkmHostBugcheckCount() - Bugchecks, Probes);
    CHECK_STATUS(A25Destroy(&Lock), STATUS_SUCCESS);
}

static VOID
MaskingWhileHeld(VOID)
{
    ULONG Kind;
    ULONG Event;

    for (Kind = 0; Kind < A25KindCount; Kind += 1) {
        for (Event = 0; Event < WDKM_HOST_INTERRUPT_KINDS; Event += 1) {
            A25MaskingOne((A25_KIND)Kind, FALSE, (WDKM_HOST_INTERRUPT)Event);
            if (Kind == A25Resource || Kind == A25Push) {
                A25MaskingOne((A25_KIND)Kind, TRUE, (WDKM_HOST_INTERRUPT)Event);
            }
        }
    }
}

/* ------------------------------------------------------------------------
 * Expectations checked inside an event (no CHECK there: it would return
 * from the routine only); the test reports the first mismatch.
 */
typedef struct _A25_EXPECT {
    LONG Checked;
    LONG Mismatches;
    char First[256];
} A25_EXPECT;

static VOID
A25ExpectStatus(A25_EXPECT *Expect, int Line, PCSTR What, NTSTATUS Got, NTSTATUS Want)
{
    Expect->Checked += 1;
    if (Got != Want) {
        if (Expect->Mismatches == 0) {
            snprintf(Expect->First, sizeof(Expect->First), "line %d: %s returned %s, expected %s",
                     Line, What, WdkmStatusName(Got), WdkmStatusName(Want));
        }
        Expect->Mismatches += 1;
    }
}

static VOID
A25ExpectTrue(A25_EXPECT *Expect, int Line, PCSTR What, BOOLEAN Condition)
{
    Expect->Checked += 1;
    if (!Condition) {
        if (Expect->Mismatches == 0) {
            snprintf(Expect->First, sizeof(Expect->First), "line %d: %s is false", Line, What);
        }
        Expect->Mismatches += 1;
    }
}

#define A25_EXPECT_STATUS(Expect, Expression, Want) \
    A25ExpectStatus((Expect), __LINE__, #Expression, (Expression), (Want))
#define A25_EXPECT_TRUE(Expect, Condition) \
    A25ExpectTrue((Expect), __LINE__, #Condition, (BOOLEAN)((Condition) ? TRUE : FALSE))

#define A25_CHECK_EXPECT(Expect)                                                  \
    do {                                                                          \
        if ((Expect)->Mismatches != 0) {                                          \
            WdkmTestFail(__FILE__, __LINE__, "%ld of %ld expectations failed; first: %s", \
                         (long)(Expect)->Mismatches, (long)(Expect)->Checked,     \
                         (Expect)->First);                                        \
            return;                                                               \
        }                                                                         \
        CHECK((Expect)->Checked > 0);                                             \
    } while (0)

/* ------------------------------------------------------------------------
 * A DPC on the owner's thread (reference.md, WDKM_KMUTEX: "A DPC runs on
 * the thread it interrupts and is, to NT, that thread ... The library
 * refuses that try with STATUS_TIMEOUT"; Conventions: "Every function
 * answers STATUS_WDKM_IRQL_TOO_HIGH above its limit"; the release rows of
 * each kind). Runs at DISPATCH_LEVEL, either called between KeRaiseIrql
 * and KeLowerIrql (the model) or as a real injected DPC.
 */
typedef struct _A25_DPC_SCRIPT {
    A25_LOCK *Owner;
    BOOLEAN OwnerHolds;             /* the interrupted code holds Owner (exclusive) */
    A25_EXPECT Expect;
} A25_DPC_SCRIPT;

static VOID
A25DpcScript(A25_DPC_SCRIPT *Script)
{
    A25_EXPECT *E = &Script->Expect;
    A25_LOCK Mine = *Script->Owner;
    BOOLEAN Holds = Script->OwnerHolds;
    LONG *Data;
    const LONG *ConstData;
    NTSTATUS ScopeStatus;
    WDKM_SCOPE Scope;
    LARGE_INTEGER Zero;
    LARGE_INTEGER OneMs;

    Zero.QuadPart = 0;
    OneMs.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(1);
    A25_EXPECT_TRUE(E, KeGetCurrentIrql() == DISPATCH_LEVEL);
    A25_EXPECT_TRUE(E, A25IsOwned(&Mine) == Holds);

    switch (Mine.Kind) {
    case A25KMutex: {
        PWDKM_KMUTEX M = (PWDKM_KMUTEX)Mine.Lock;

        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, WdkmKMutexTryAcquire(M, sizeof(LONG), (PVOID *)&Data),
                          Holds ? STATUS_TIMEOUT : STATUS_SUCCESS);
        if (Holds) {
            A25_EXPECT_TRUE(E, Data == NULL);
            /* "STATUS_WDKM_IRQL_MISMATCH (the holder, in the other IRQL class)" */
            A25_EXPECT_STATUS(E, WdkmKMutexRelease(M), STATUS_WDKM_IRQL_MISMATCH);
            Data = (LONG *)A25_POISON;
            /* "<= DISPATCH_LEVEL when *Timeout is zero" */
            A25_EXPECT_STATUS(E, WdkmKMutexAcquireTimeout(M, sizeof(LONG), &Zero, (PVOID *)&Data),
                              STATUS_TIMEOUT);
            A25_EXPECT_TRUE(E, Data == NULL);
        } else {
            A25_EXPECT_TRUE(E, Data != NULL && Data != A25_POISON);
            /* A recursion in the class of the hold (DISPATCH) */
            A25_EXPECT_STATUS(E, WdkmKMutexAcquireTimeout(M, sizeof(LONG), &Zero, (PVOID *)&Data),
                              STATUS_SUCCESS);
            A25_EXPECT_STATUS(E, WdkmKMutexRelease(M), STATUS_SUCCESS);
            A25_EXPECT_TRUE(E, WdkmKMutexIsOwned(M));
            A25_EXPECT_STATUS(E, WdkmKMutexRelease(M), STATUS_SUCCESS);
            A25_EXPECT_TRUE(E, !WdkmKMutexIsOwned(M));
            A25_EXPECT_STATUS(E, WdkmKMutexRelease(M), STATUS_WDKM_NOT_HELD);
        }
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, WdkmKMutexAcquire(M, sizeof(LONG), (PVOID *)&Data),
                          STATUS_WDKM_IRQL_TOO_HIGH);
        A25_EXPECT_TRUE(E, Data == NULL);
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, WdkmKMutexAcquireTimeout(M, sizeof(LONG), &OneMs, (PVOID *)&Data),
                          STATUS_WDKM_IRQL_TOO_HIGH);
        A25_EXPECT_TRUE(E, Data == NULL);
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, WdkmKMutexAcquireAlertable(M, sizeof(LONG), KernelMode, &Zero,
                                                        (PVOID *)&Data),
                          STATUS_WDKM_IRQL_TOO_HIGH);        /* "<= APC_LEVEL, whatever the timeout" */
        A25_EXPECT_TRUE(E, Data == NULL);
        break;
    }
    case A25Spin: {
        PWDKM_SPIN_LOCK S = (PWDKM_SPIN_LOCK)Mine.Lock;
        KIRQL Old = 0xEE;

        /* The interrupted code cannot hold a spin lock: it would be at
           DISPATCH_LEVEL, where no DPC interrupts it. */
        A25_EXPECT_STATUS(E, WdkmSpinLockAcquireAtDpcLevel(S, sizeof(LONG), (PVOID *)&Data),
                          STATUS_SUCCESS);
        A25_EXPECT_STATUS(E, WdkmSpinLockRelease(S, DISPATCH_LEVEL), STATUS_WDKM_IRQL_MISMATCH);
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, WdkmSpinLockAcquireAtDpcLevel(S, sizeof(LONG), (PVOID *)&Data),
                          STATUS_POSSIBLE_DEADLOCK);
        A25_EXPECT_TRUE(E, Data == NULL);
        A25_EXPECT_STATUS(E, WdkmSpinLockReleaseFromDpcLevel(S), STATUS_SUCCESS);
        A25_EXPECT_TRUE(E, KeGetCurrentIrql() == DISPATCH_LEVEL);
        A25_EXPECT_STATUS(E, WdkmSpinLockReleaseFromDpcLevel(S), STATUS_WDKM_NOT_HELD);
        A25_EXPECT_STATUS(E, WdkmSpinLockTryAcquire(S, sizeof(LONG), &Old, (PVOID *)&Data),
                          STATUS_SUCCESS);
        A25_EXPECT_TRUE(E, Old == DISPATCH_LEVEL);
        A25_EXPECT_STATUS(E, WdkmSpinLockReleaseFromDpcLevel(S), STATUS_WDKM_IRQL_MISMATCH);
        A25_EXPECT_STATUS(E, WdkmSpinLockRelease(S, Old), STATUS_SUCCESS);
        A25_EXPECT_TRUE(E, KeGetCurrentIrql() == DISPATCH_LEVEL);
        break;
    }
    case A25Queued: {
        PWDKM_QUEUED_SPIN_LOCK Q = (PWDKM_QUEUED_SPIN_LOCK)Mine.Lock;
        WDKM_LOCK_QUEUE_HANDLE H1;
        WDKM_LOCK_QUEUE_HANDLE H2;

        A25_EXPECT_STATUS(E, WdkmQueuedSpinLockAcquireAtDpcLevel(Q, sizeof(LONG), &H1,
                                                                 (PVOID *)&Data),
                          STATUS_SUCCESS);
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, WdkmQueuedSpinLockAcquireAtDpcLevel(Q, sizeof(LONG), &H2,
                                                                 (PVOID *)&Data),
                          STATUS_POSSIBLE_DEADLOCK);
        A25_EXPECT_TRUE(E, Data == NULL);
        /* "On failure *Handle holds nothing" */
        A25_EXPECT_STATUS(E, WdkmQueuedSpinLockRelease(&H2), STATUS_WDKM_NOT_HELD);
        A25_EXPECT_STATUS(E, WdkmQueuedSpinLockRelease(&H1), STATUS_SUCCESS);
        A25_EXPECT_TRUE(E, KeGetCurrentIrql() == DISPATCH_LEVEL);
        A25_EXPECT_STATUS(E, WdkmQueuedSpinLockAcquire(Q, sizeof(LONG), &H1, (PVOID *)&Data),
                          STATUS_SUCCESS);
        A25_EXPECT_STATUS(E, WdkmQueuedSpinLockRelease(&H1), STATUS_SUCCESS);
        A25_EXPECT_TRUE(E, KeGetCurrentIrql() == DISPATCH_LEVEL);
        A25_EXPECT_STATUS(E, WdkmQueuedSpinLockRelease(&H1), STATUS_WDKM_NOT_HELD);
        break;
    }
    case A25Fast:
    case A25Guarded:
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, A25Try(&Mine, FALSE, &Data), STATUS_WDKM_IRQL_TOO_HIGH);
        A25_EXPECT_TRUE(E, Data == NULL);
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, A25Acquire(&Mine, FALSE, &Data), STATUS_WDKM_IRQL_TOO_HIGH);
        A25_EXPECT_TRUE(E, Data == NULL);
        /* "ownership is checked before the IRQL: a caller that does not
           hold it gets one of these two at any IRQL"; the holder above
           its IRQL: STATUS_WDKM_IRQL_TOO_HIGH. */
        A25_EXPECT_STATUS(E, A25Release(&Mine),
                          Holds ? STATUS_WDKM_IRQL_TOO_HIGH : STATUS_WDKM_NOT_HELD);
        break;
    case A25Resource:
    case A25Push:
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, A25Acquire(&Mine, FALSE, &Data), STATUS_WDKM_IRQL_TOO_HIGH);
        A25_EXPECT_TRUE(E, Data == NULL);
        ConstData = (const LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, A25Acquire(&Mine, TRUE, (LONG **)&ConstData), STATUS_WDKM_IRQL_TOO_HIGH);
        A25_EXPECT_TRUE(E, ConstData == NULL);
        if (Mine.Kind == A25Resource) {
            Data = (LONG *)A25_POISON;
            A25_EXPECT_STATUS(E, A25Try(&Mine, FALSE, &Data), STATUS_WDKM_IRQL_TOO_HIGH);
            A25_EXPECT_TRUE(E, Data == NULL);
            Data = (LONG *)A25_POISON;
            A25_EXPECT_STATUS(E, A25Try(&Mine, TRUE, &Data), STATUS_WDKM_IRQL_TOO_HIGH);
            A25_EXPECT_TRUE(E, Data == NULL);
        }
        /* "above APC_LEVEL, checked before ownership: whether or not the
           caller holds it" */
        A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_WDKM_IRQL_TOO_HIGH);
        break;
    default:
        break;
    }

    /* ScopeEnter: "<= APC_LEVEL" for every kind but the spin lock's. */
    if (Mine.Kind != A25Queued) {
        Data = (LONG *)A25_POISON;
        ScopeStatus = STATUS_PENDING;
        Scope = A25ScopeEnter(&Mine, FALSE, &Data, &ScopeStatus);
        if (Mine.Kind == A25Spin) {
            A25_EXPECT_STATUS(E, ScopeStatus, STATUS_SUCCESS);
            A25_EXPECT_TRUE(E, Scope.Lock != NULL);
            WdkmScopeLeave(&Scope);
            A25_EXPECT_STATUS(E, ScopeStatus, STATUS_SUCCESS);
            A25_EXPECT_TRUE(E, !WdkmSpinLockIsOwned((PWDKM_SPIN_LOCK)Mine.Lock));
        } else {
            A25_EXPECT_STATUS(E, ScopeStatus, STATUS_WDKM_IRQL_TOO_HIGH);
            A25_EXPECT_TRUE(E, Scope.Lock == NULL);
            A25_EXPECT_TRUE(E, Data == NULL);
        }
    }
    A25_EXPECT_TRUE(E, KeGetCurrentIrql() == DISPATCH_LEVEL);
    A25_EXPECT_TRUE(E, A25IsOwned(&Mine) == Holds);
}

static VOID
A25DpcScriptRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Random);
    if (Kind == WdkmHostInterruptDpc) {
        A25DpcScript((A25_DPC_SCRIPT *)Context);
    }
}

/* Runs the DPC script at three points of the owner's sequence (before its
   acquire, during its hold, after its release), modelled (Injected FALSE:
   KeRaiseIrql on the same thread) or as a real injected DPC. */
static VOID
A25DpcOnOwnerOne(A25_KIND Kind, BOOLEAN Injected)
{
    A25_LOCK Lock;
    A25_DPC_SCRIPT Script;
    LONG *Data = NULL;
    ULONG Point;
    ULONG Probes = 0;
    ULONG Bugchecks = WdkmHostBugcheckCount();

    CHECK_STATUS(A25Create(Kind, &Lock), STATUS_SUCCESS);
    for (Point = 0; Point < 3; Point += 1) {
        BOOLEAN Holds = (BOOLEAN)(Point == 1 && Kind != A25Spin && Kind != A25Queued);

        if (Holds) {
            CHECK_STATUS(A25Acquire(&Lock, FALSE, &Data), STATUS_SUCCESS);
            *Data = 41;
        }
        memset(&Script, 0, sizeof(Script));
        Script.Owner = &Lock;
        Script.OwnerHolds = Holds;
        if (Injected) {
            WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A25DpcScriptRoutine,
                                   &Script);
        } else {
            KIRQL Old;

            KeRaiseIrql(DISPATCH_LEVEL, &Old);
            A25DpcScript(&Script);
            KeLowerIrql(Old);
        }
        if (Script.Expect.Mismatches != 0) {
            WdkmTestFail(__FILE__, __LINE__, "%s, %s DPC, point %lu: %ld of %ld failed; first: %s",
                         A25KindNames[Kind], Injected ? "injected" : "modelled",
                         (unsigned long)Point, (long)Script.Expect.Mismatches,
                         (long)Script.Expect.Checked, Script.Expect.First);
            if (Holds) {
                (VOID)A25Release(&Lock);
            }
            (VOID)A25Destroy(&Lock);
            return;
        }
        CHECK(Script.Expect.Checked > 0);
        if (Holds) {
            CHECK(A25IsOwned(&Lock));
            CHECK_EQ(*Data, 41);
            CHECK_STATUS(A25Release(&Lock), STATUS_SUCCESS);
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_NOT_HELD);
        }
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK(!A25IsOwned(&Lock));
    }
    CHECK_EQ(A25RegionDepth(FALSE, &Probes), 0);
    CHECK_EQ(A25RegionDepth(TRUE, &Probes), 0);
    CHECK_EQ(WdkmHostBugcheckCount() - Bugchecks, Probes);
    CHECK_STATUS(A25Destroy(&Lock), STATUS_SUCCESS);
}

static VOID
DpcOnOwnerModelled(VOID)
{
    ULONG Kind;

    for (Kind = 0; Kind < A25KindCount; Kind += 1) {
        A25DpcOnOwnerOne((A25_KIND)Kind, FALSE);
    }
}

static VOID
DpcOnOwnerInjected(VOID)
{
    ULONG Kind;

    for (Kind = 0; Kind < A25KindCount; Kind += 1) {
        A25DpcOnOwnerOne((A25_KIND)Kind, TRUE);
    }
}

/* ------------------------------------------------------------------------
 * A special kernel APC between the owner's acquire and release, on the
 * same lock and on another of the same kind (reference.md: KMUTEX "a
 * special kernel APC ... that takes the mutex its thread holds is granted
 * a recursion"; ERESOURCE "Recursive like ERESOURCE (the exclusive owner
 * may acquire again in either mode, a shared owner again shared)" and
 * "STATUS_POSSIBLE_DEADLOCK (the caller holds it shared)"; push lock "a
 * shared holder that asks again (shared or exclusive) gets
 * STATUS_POSSIBLE_DEADLOCK", "(the caller holds it exclusively)").
 * Only the kinds whose hold leaves special APCs unmasked.
 */
typedef struct _A25_APC_SCRIPT {
    A25_LOCK *Owner;
    A25_LOCK *Other;                /* another lock of the same kind */
    BOOLEAN OwnerShared;
    LONG Ran;
    A25_EXPECT Expect;
} A25_APC_SCRIPT;

static VOID
A25SpecialApcScript(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A25_APC_SCRIPT *Script = (A25_APC_SCRIPT *)Context;
    A25_EXPECT *E = &Script->Expect;
    A25_LOCK Mine = *Script->Owner;
    A25_LOCK Other = *Script->Other;
    BOOLEAN Shared = Script->OwnerShared;
    LONG *Data;
    NTSTATUS ScopeStatus;
    WDKM_SCOPE Scope;

    UNREFERENCED_PARAMETER(Random);
    if (Kind != WdkmHostInterruptSpecialApc) {
        return;
    }
    Script->Ran += 1;
    A25_EXPECT_TRUE(E, KeGetCurrentIrql() == APC_LEVEL);
    switch (Mine.Kind) {
    case A25KMutex:
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, A25Acquire(&Mine, FALSE, &Data), STATUS_SUCCESS);
        A25_EXPECT_TRUE(E, Data != NULL && *Data == 41);
        A25_EXPECT_STATUS(E, A25Try(&Mine, FALSE, &Data), STATUS_SUCCESS);
        A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_SUCCESS);
        A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_SUCCESS);
        A25_EXPECT_TRUE(E, A25IsOwned(&Mine));
        ScopeStatus = STATUS_PENDING;
        Scope = A25ScopeEnter(&Mine, FALSE, &Data, &ScopeStatus);
        A25_EXPECT_STATUS(E, ScopeStatus, STATUS_SUCCESS);
        A25_EXPECT_TRUE(E, Scope.Lock != NULL);
        WdkmScopeLeave(&Scope);
        A25_EXPECT_STATUS(E, ScopeStatus, STATUS_SUCCESS);
        A25_EXPECT_TRUE(E, A25IsOwned(&Mine));
        break;
    case A25Resource:
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, A25Acquire(&Mine, TRUE, &Data), STATUS_SUCCESS);
        A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_SUCCESS);
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, A25Acquire(&Mine, FALSE, &Data),
                          Shared ? STATUS_POSSIBLE_DEADLOCK : STATUS_SUCCESS);
        if (Shared) {
            A25_EXPECT_TRUE(E, Data == NULL);
            Data = (LONG *)A25_POISON;
            ScopeStatus = STATUS_PENDING;
            Scope = A25ScopeEnter(&Mine, FALSE, &Data, &ScopeStatus);
            A25_EXPECT_STATUS(E, ScopeStatus, STATUS_POSSIBLE_DEADLOCK);
            A25_EXPECT_TRUE(E, Scope.Lock == NULL && Data == NULL);
        } else {
            A25_EXPECT_TRUE(E, Data != NULL && *Data == 41);
            A25_EXPECT_STATUS(E, A25Try(&Mine, FALSE, &Data), STATUS_SUCCESS);
            A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_SUCCESS);
            A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_SUCCESS);
            A25_EXPECT_TRUE(E, A25IsOwned(&Mine));
        }
        break;
    case A25Push:
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, A25Acquire(&Mine, FALSE, &Data), STATUS_POSSIBLE_DEADLOCK);
        A25_EXPECT_TRUE(E, Data == NULL);
        Data = (LONG *)A25_POISON;
        A25_EXPECT_STATUS(E, A25Acquire(&Mine, TRUE, &Data), STATUS_POSSIBLE_DEADLOCK);
        A25_EXPECT_TRUE(E, Data == NULL);
        Data = (LONG *)A25_POISON;
        ScopeStatus = STATUS_PENDING;
        Scope = A25ScopeEnter(&Mine, TRUE, &Data, &ScopeStatus);
        A25_EXPECT_STATUS(E, ScopeStatus, STATUS_POSSIBLE_DEADLOCK);
        A25_EXPECT_TRUE(E, Scope.Lock == NULL && Data == NULL);
        break;
    default:
        break;
    }
    /* Another lock of the same kind: free, so the APC gets it. */
    Data = (LONG *)A25_POISON;
    A25_EXPECT_STATUS(E, A25Acquire(&Other, FALSE, &Data), STATUS_SUCCESS);
    A25_EXPECT_TRUE(E, Data != NULL && *Data == 0);
    A25_EXPECT_STATUS(E, A25Release(&Other), STATUS_SUCCESS);
    A25_EXPECT_STATUS(E, A25Release(&Other), STATUS_WDKM_NOT_HELD);
    A25_EXPECT_TRUE(E, KeGetCurrentIrql() == APC_LEVEL);
}

static VOID
A25SpecialApcOnOwnerOne(A25_KIND Kind, BOOLEAN Shared)
{
    A25_LOCK Lock;
    A25_LOCK Other;
    A25_APC_SCRIPT Script;
    LONG *Data = NULL;
    ULONG Probes = 0;
    ULONG Bugchecks = WdkmHostBugcheckCount();

    CHECK_STATUS(A25Create(Kind, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(A25Create(Kind, &Other), STATUS_SUCCESS);
    if (Shared) {
        CHECK_STATUS(A25Acquire(&Lock, TRUE, &Data), STATUS_SUCCESS);
    } else {
        CHECK_STATUS(A25Acquire(&Lock, FALSE, &Data), STATUS_SUCCESS);
        *Data = 41;
    }
    memset(&Script, 0, sizeof(Script));
    Script.Owner = &Lock;
    Script.Other = &Other;
    Script.OwnerShared = Shared;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A25SpecialApcScript,
                           &Script);
    CHECK_EQ(Script.Ran, 1);
    if (Script.Expect.Mismatches != 0) {
        WdkmTestFail(__FILE__, __LINE__, "%s (%s hold): %ld of %ld failed; first: %s",
                     A25KindNames[Kind], Shared ? "shared" : "exclusive",
                     (long)Script.Expect.Mismatches, (long)Script.Expect.Checked,
                     Script.Expect.First);
        (VOID)A25Release(&Lock);
        (VOID)A25Destroy(&Lock);
        (VOID)A25Destroy(&Other);
        return;
    }
    CHECK_EQ(A25IsOwned(&Lock), !Shared);
    CHECK_STATUS(A25Release(&Lock), STATUS_SUCCESS);
    CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_NOT_HELD);
    CHECK(!A25IsOwned(&Lock));
    CHECK_EQ(A25RegionDepth(FALSE, &Probes), 0);
    CHECK_EQ(A25RegionDepth(TRUE, &Probes), 0);
    CHECK_EQ(WdkmHostBugcheckCount() - Bugchecks, Probes);
    CHECK_STATUS(A25Destroy(&Lock), STATUS_SUCCESS);
    CHECK_STATUS(A25Destroy(&Other), STATUS_SUCCESS);
}

static VOID
SpecialApcOnOwner(VOID)
{
    A25SpecialApcOnOwnerOne(A25KMutex, FALSE);
    A25SpecialApcOnOwnerOne(A25Resource, FALSE);
    A25SpecialApcOnOwnerOne(A25Resource, TRUE);
    A25SpecialApcOnOwnerOne(A25Push, FALSE);
    A25SpecialApcOnOwnerOne(A25Push, TRUE);
}

/* ------------------------------------------------------------------------
 * Random DPCs and kernel APCs (WdkmHostInterruptsStart, our own routine)
 * land anywhere in an owner's acquire / write / release loop, inside the
 * library's acquire and release too. What each event may get, from the
 * docs:
 *   DPC, KMUTEX try: STATUS_SUCCESS or STATUS_TIMEOUT ("refuses that try
 *     with STATUS_TIMEOUT ..., also in the instants between the kernel's
 *     grant and the library's record of the owner"), and never the value
 *     mid-update; its release of the owner's hold is never STATUS_SUCCESS
 *     (STATUS_WDKM_IRQL_MISMATCH or STATUS_WDKM_NOT_HELD).
 *   DPC, spin locks (AtDpcLevel): STATUS_SUCCESS - a DPC lands only where
 *     the IRQL is below DISPATCH_LEVEL, where its thread holds no spin lock.
 *   DPC, the other kinds: STATUS_WDKM_IRQL_TOO_HIGH, *Data NULL; a release
 *     never succeeds.
 *   special APC, KMUTEX: recursion granted, or STATUS_POSSIBLE_DEADLOCK /
 *     STATUS_TIMEOUT inside the owner's acquire or release.
 *   special APC, ERESOURCE: shared always granted (either hold of its
 *     thread allows it); exclusive granted or STATUS_POSSIBLE_DEADLOCK.
 *   special APC, FAST_MUTEX, guarded mutex, spin locks: it only lands while
 *     its thread holds nothing: STATUS_SUCCESS, value not mid-update.
 *   normal APC, every kind: lands only outside every hold: STATUS_SUCCESS.
 *   (Push locks under special APCs: a documented hang, not attacked.)
 * No bug check, no hang, every owner operation succeeds, the value counts
 * every owner's hold.
 */
typedef struct _A25_STORM {
    A25_LOCK Lock;
    PKTHREAD Owner;
    volatile LONG Active;
    LONG Iterations;
    LONG OwnerFailures;
    LONG Events[WDKM_HOST_INTERRUPT_KINDS];
    LONG Granted;
    A25_EXPECT Expect;
} A25_STORM;

static volatile LONG A25StormBugchecks;

static VOID
A25StormBugcheck(const WDKM_HOST_BUGCHECK *Bugcheck, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    InterlockedIncrement(&A25StormBugchecks);
    fprintf(stderr, "attack25 storm: bug check 0x%08X %s (%p %p %p %p)\n",
            (unsigned)Bugcheck->Code, WdkmHostBugcheckName(Bugcheck->Code),
            (void *)Bugcheck->Parameter[0], (void *)Bugcheck->Parameter[1],
            (void *)Bugcheck->Parameter[2], (void *)Bugcheck->Parameter[3]);
}

static BOOLEAN
A25StatusIn(NTSTATUS Status, NTSTATUS A, NTSTATUS B)
{
    return (BOOLEAN)(Status == A || Status == B);
}

static VOID
A25StormRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A25_STORM *Storm = (A25_STORM *)Context;
    A25_EXPECT *E = &Storm->Expect;
    A25_LOCK Mine;
    LONG *Data = (LONG *)A25_POISON;
    NTSTATUS Status;

    if ((PKTHREAD)InterlockedCompareExchangePointer((PVOID volatile *)&Storm->Owner, NULL, NULL) !=
            KeGetCurrentThread() ||
        InterlockedCompareExchange(&Storm->Active, 0, 0) == 0) {
        return;
    }
    Mine = Storm->Lock;
    memset(&Mine.Handle, 0, sizeof(Mine.Handle));
    Storm->Events[Kind] += 1;
    if (Kind == WdkmHostInterruptDpc) {
        switch (Mine.Kind) {
        case A25KMutex:
            Status = A25Try(&Mine, FALSE, &Data);
            A25_EXPECT_TRUE(E, A25StatusIn(Status, STATUS_SUCCESS, STATUS_TIMEOUT));
            if (Status == STATUS_SUCCESS) {
                Storm->Granted += 1;
                A25_EXPECT_TRUE(E, (*Data & 1) == 0);           /* never mid-update */
                A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_SUCCESS);
            } else {
                A25_EXPECT_TRUE(E, Data == NULL);
                if ((Random & 1) != 0) {
                    Status = A25Release(&Mine);
                    A25_EXPECT_TRUE(E, A25StatusIn(Status, STATUS_WDKM_IRQL_MISMATCH,
                                                   STATUS_WDKM_NOT_HELD));
                }
            }
            break;
        case A25Spin:
        case A25Queued:
            Status = Mine.Kind == A25Spin
                ? WdkmSpinLockAcquireAtDpcLevel((PWDKM_SPIN_LOCK)Mine.Lock, sizeof(LONG),
                                                (PVOID *)&Data)
                : WdkmQueuedSpinLockAcquireAtDpcLevel((PWDKM_QUEUED_SPIN_LOCK)Mine.Lock,
                                                      sizeof(LONG), &Mine.Handle, (PVOID *)&Data);
            A25_EXPECT_STATUS(E, Status, STATUS_SUCCESS);
            if (Status == STATUS_SUCCESS) {
                Storm->Granted += 1;
                A25_EXPECT_TRUE(E, (*Data & 1) == 0);
                A25_EXPECT_STATUS(E, Mine.Kind == A25Spin
                                         ? WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)Mine.Lock)
                                         : WdkmQueuedSpinLockRelease(&Mine.Handle),
                                  STATUS_SUCCESS);
            }
            break;
        case A25Fast:
        case A25Guarded:
            A25_EXPECT_STATUS(E, A25Try(&Mine, FALSE, &Data), STATUS_WDKM_IRQL_TOO_HIGH);
            A25_EXPECT_TRUE(E, Data == NULL);
            Status = A25Release(&Mine);
            A25_EXPECT_TRUE(E, A25StatusIn(Status, STATUS_WDKM_IRQL_TOO_HIGH, STATUS_WDKM_NOT_HELD));
            break;
        default:
            A25_EXPECT_STATUS(E, A25Acquire(&Mine, (BOOLEAN)(Random & 1), &Data),
                              STATUS_WDKM_IRQL_TOO_HIGH);
            A25_EXPECT_TRUE(E, Data == NULL);
            A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_WDKM_IRQL_TOO_HIGH);
            break;
        }
        return;
    }
    if (Kind == WdkmHostInterruptSpecialApc) {
        switch (Mine.Kind) {
        case A25KMutex:
            Status = (Random & 1) != 0 ? A25Try(&Mine, FALSE, &Data) : A25Acquire(&Mine, FALSE, &Data);
            A25_EXPECT_TRUE(E, Status == STATUS_SUCCESS ||
                               Status == ((Random & 1) != 0 ? STATUS_TIMEOUT : STATUS_POSSIBLE_DEADLOCK));
            if (Status == STATUS_SUCCESS) {
                Storm->Granted += 1;
                A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_SUCCESS);
            } else {
                A25_EXPECT_TRUE(E, Data == NULL);
            }
            return;
        case A25Resource:
            Status = A25Acquire(&Mine, TRUE, &Data);
            A25_EXPECT_STATUS(E, Status, STATUS_SUCCESS);
            if (Status == STATUS_SUCCESS) {
                A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_SUCCESS);
            }
            Data = (LONG *)A25_POISON;
            Status = A25Acquire(&Mine, FALSE, &Data);
            A25_EXPECT_TRUE(E, A25StatusIn(Status, STATUS_SUCCESS, STATUS_POSSIBLE_DEADLOCK));
            if (Status == STATUS_SUCCESS) {
                Storm->Granted += 1;
                A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_SUCCESS);
            } else {
                A25_EXPECT_TRUE(E, Data == NULL);
            }
            return;
        case A25Push:
            return;
        default:
            break;
        }
    }
    /* A normal APC (any kind but, for the special APC, those above). */
    if (Mine.Kind == A25Push && !A25_PUSH_LOCK_IN_EVENTS) {
        return;
    }
    Status = A25Acquire(&Mine, FALSE, &Data);
    A25_EXPECT_STATUS(E, Status, STATUS_SUCCESS);
    if (Status == STATUS_SUCCESS) {
        Storm->Granted += 1;
        A25_EXPECT_TRUE(E, (*Data & 1) == 0);
        A25_EXPECT_STATUS(E, A25Release(&Mine), STATUS_SUCCESS);
    }
}

static VOID
A25StormOwner(PVOID Context, ULONG Index)
{
    A25_STORM *Storm = (A25_STORM *)Context;
    A25_LOCK *Lock = &Storm->Lock;
    LONGLONG Window = WdkmTestNowMs() + 150;
    LONGLONG GiveUp = WdkmTestDeadlineMs(20000);
    LONG Iteration;

    UNREFERENCED_PARAMETER(Index);
    (VOID)InterlockedExchangePointer((PVOID volatile *)&Storm->Owner, KeGetCurrentThread());
    InterlockedExchange(&Storm->Active, 1);
    /* 150 ms at least, and on until what the test judges happened (on a
       loaded machine or under valgrind few events land in 150 ms); the
       events run on this thread, so their counts are read here as is. */
    for (Iteration = 0;; Iteration += 1) {
        LONGLONG Now = WdkmTestNowMs();

        if (Now >= GiveUp ||
            (Now >= Window && Storm->Iterations > 50 &&
             Storm->Events[WdkmHostInterruptDpc] + Storm->Events[WdkmHostInterruptSpecialApc] +
             Storm->Events[WdkmHostInterruptNormalApc] > 10)) {
            break;
        }
        BOOLEAN Shared = (BOOLEAN)((Lock->Kind == A25Resource || Lock->Kind == A25Push) &&
                                   (Iteration % 3) == 2);
        BOOLEAN AtDispatch = (BOOLEAN)(Lock->Kind == A25KMutex && (Iteration % 4) == 3);
        LONG *Data = NULL;
        KIRQL Old = PASSIVE_LEVEL;
        NTSTATUS Status;
        volatile LONG Spin;

        if (AtDispatch) {
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
            Status = A25Try(Lock, FALSE, &Data);
        } else {
            Status = A25Acquire(Lock, Shared, &Data);
        }
        if (Status != STATUS_SUCCESS) {
            Storm->OwnerFailures += 1;
            if (AtDispatch) {
                KeLowerIrql(Old);
            }
            continue;
        }
        if (!Shared) {
            *Data += 1;                         /* odd: mid-update */
        }
        for (Spin = 0; Spin < 50; Spin = Spin + 1) {
        }
        if (Lock->Kind == A25KMutex && !AtDispatch && (Iteration % 5) == 1) {
            LONG *Again = NULL;

            if (A25Acquire(Lock, FALSE, &Again) != STATUS_SUCCESS || Again != Data ||
                A25Release(Lock) != STATUS_SUCCESS) {
                Storm->OwnerFailures += 1;
            }
        }
        if (!Shared) {
            *Data += 1;                         /* even again */
        }
        if (A25Release(Lock) != STATUS_SUCCESS) {
            Storm->OwnerFailures += 1;
        }
        if (AtDispatch) {
            KeLowerIrql(Old);
        }
        if (!Shared) {
            Storm->Iterations += 1;
        }
    }
    InterlockedExchange(&Storm->Active, 0);
}

static VOID
A25StormOne(A25_KIND Kind, ULONG64 Seed)
{
    static A25_STORM Storm;
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_TEST_THREAD *Thread;
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];
    LONG *Data = NULL;

    memset(&Storm, 0, sizeof(Storm));
    CHECK_STATUS(A25Create(Kind, &Storm.Lock), STATUS_SUCCESS);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = Seed;
    Settings.MeanIntervalMicroseconds = 40;
    Settings.DpcWeight = 2;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 2;
    Settings.SuspendMaxMicroseconds = 20;
    if (getenv("A25_WEIGHTS") != NULL) {
        unsigned D = 0, N = 0, S = 0;
        (VOID)sscanf(getenv("A25_WEIGHTS"), "%u,%u,%u", &D, &N, &S);
        Settings.DpcWeight = D;
        Settings.NormalApcWeight = N;
        Settings.SpecialApcWeight = S;
    }
    Settings.Routine = A25StormRoutine;
    Settings.Context = &Storm;
    A25StormBugchecks = 0;
    WdkmHostSetBugcheckHandler(A25StormBugcheck, NULL);
    WdkmHostInterruptsStart(&Settings);
    Thread = WdkmTestStartThread(A25StormOwner, &Storm);
    WdkmTestJoinThread(Thread);
    WdkmHostInterruptsStop();
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    WdkmHostSetBugcheckHandler(NULL, NULL);
    CHECK(Thread != NULL);
    if (A25StormBugchecks != 0 || Storm.OwnerFailures != 0) {
        WdkmTestFail(__FILE__, __LINE__, "%s storm (seed %llu): %ld bug checks, %ld owner failures",
                     A25KindNames[Kind], (unsigned long long)Seed, (long)A25StormBugchecks,
                     (long)Storm.OwnerFailures);
        (VOID)A25Destroy(&Storm.Lock);
        return;
    }
    if (Storm.Expect.Mismatches != 0) {
        WdkmTestFail(__FILE__, __LINE__, "%s storm (seed %llu): %ld of %ld event results wrong; "
                     "first: %s", A25KindNames[Kind], (unsigned long long)Seed,
                     (long)Storm.Expect.Mismatches, (long)Storm.Expect.Checked, Storm.Expect.First);
        (VOID)A25Destroy(&Storm.Lock);
        return;
    }
    /* The storm reached the owner (else this test could not fail). */
    if (getenv("A25_VERBOSE") != NULL) {
        fprintf(stderr, "%s: iterations %ld, events %ld/%ld/%ld, delivered %llu/%llu/%llu, granted %ld\n",
                A25KindNames[Kind], (long)Storm.Iterations, (long)Storm.Events[0],
                (long)Storm.Events[1], (long)Storm.Events[2], (unsigned long long)Delivered[0],
                (unsigned long long)Delivered[1], (unsigned long long)Delivered[2],
                (long)Storm.Granted);
    }
    CHECK(Storm.Events[WdkmHostInterruptDpc] + Storm.Events[WdkmHostInterruptSpecialApc] +
          Storm.Events[WdkmHostInterruptNormalApc] > 10);
    CHECK(Storm.Iterations > 50);
    CHECK(!A25IsOwned(&Storm.Lock));
    CHECK_STATUS(A25Acquire(&Storm.Lock, FALSE, &Data), STATUS_SUCCESS);
    CHECK_EQ(*Data, 2 * Storm.Iterations);
    CHECK_STATUS(A25Release(&Storm.Lock), STATUS_SUCCESS);
    CHECK_STATUS(A25Destroy(&Storm.Lock), STATUS_SUCCESS);
}

static VOID
InterruptStorm(VOID)
{
    ULONG Kind;

    for (Kind = 0; Kind < A25KindCount; Kind += 1) {
        A25StormOne((A25_KIND)Kind, 2500 + Kind);
    }
}


/* ------------------------------------------------------------------------
 * Minimised from interrupt_storm (RESOURCE, special APCs only): a special
 * kernel APC asks for exclusive access to the ERESOURCE its thread is
 * taking or giving back shared. reference.md, WdkmResourceAcquireExclusive:
 * "STATUS_POSSIBLE_DEADLOCK (the caller holds it shared: the kernel would
 * deadlock)"; Conventions: the "Not detected" table lists the remaining
 * ways to a bugcheck or a hang, and names no ERESOURCE edge (only the
 * KMUTEX recursion and the push lock's edges). So the APC must get
 * STATUS_SUCCESS or STATUS_POSSIBLE_DEADLOCK, never reach the kernel's
 * self-deadlock (the emulation bug checks DRIVER_VERIFIER_DETECTED_VIOLATION
 * 0x1000, SELF_DEADLOCK; NT would hang).
 */
typedef struct _A25_EDGE {
    A25_LOCK Lock;
    PKTHREAD Owner;
    volatile LONG Active;
    LONG Apcs;
    LONG Refused;
    LONG Granted;
    LONG Unexpected;
    LONG OwnerFailures;
} A25_EDGE;

static VOID
A25EdgeRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A25_EDGE *Edge = (A25_EDGE *)Context;
    A25_LOCK Mine;
    LONG *Data = (LONG *)A25_POISON;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Random);
    if (Kind != WdkmHostInterruptSpecialApc ||
        (PKTHREAD)InterlockedCompareExchangePointer((PVOID volatile *)&Edge->Owner, NULL, NULL) !=
            KeGetCurrentThread() ||
        InterlockedCompareExchange(&Edge->Active, 0, 0) == 0) {
        return;
    }
    Mine = Edge->Lock;
    Edge->Apcs += 1;
    Status = A25Acquire(&Mine, FALSE, &Data);
    if (Status == STATUS_SUCCESS) {
        Edge->Granted += 1;
        if (A25Release(&Mine) != STATUS_SUCCESS) {
            Edge->Unexpected += 1;
        }
    } else if (Status == STATUS_POSSIBLE_DEADLOCK && Data == NULL) {
        Edge->Refused += 1;
    } else {
        Edge->Unexpected += 1;
    }
}

static VOID
A25EdgeOwner(PVOID Context, ULONG Index)
{
    A25_EDGE *Edge = (A25_EDGE *)Context;
    LONGLONG Start = WdkmTestNowMs();
    LONGLONG Now = Start;

    UNREFERENCED_PARAMETER(Index);
    (VOID)InterlockedExchangePointer((PVOID volatile *)&Edge->Owner, KeGetCurrentThread());
    InterlockedExchange(&Edge->Active, 1);
    /* 100 ms, and on until the APCs the checks ask for have landed (they
       run on this thread: its own counts), for at most 10 s: a loaded
       machine delivers fewer in a fixed window. */
    while (Now < Start + 100 ||
           ((Edge->Apcs <= 10 || Edge->Refused == 0) && Now < Start + 10000)) {
        LONG *Data = NULL;

        if (A25Acquire(&Edge->Lock, TRUE, &Data) != STATUS_SUCCESS ||
            A25Release(&Edge->Lock) != STATUS_SUCCESS) {
            Edge->OwnerFailures += 1;
        }
        Now = WdkmTestNowMs();
    }
    InterlockedExchange(&Edge->Active, 0);
}

static VOID
ResourceSpecialApcExclusiveAtSharedEdges(VOID)
{
    static A25_EDGE Edge;
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    WDKM_TEST_THREAD *Thread;
    ULONG Probes = 0;

    memset(&Edge, 0, sizeof(Edge));
    CHECK_STATUS(A25Create(A25Resource, &Edge.Lock), STATUS_SUCCESS);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 25;
    Settings.MeanIntervalMicroseconds = 20;
    Settings.SpecialApcWeight = 1;
    Settings.Routine = A25EdgeRoutine;
    Settings.Context = &Edge;
    A25StormBugchecks = 0;
    WdkmHostSetBugcheckHandler(A25StormBugcheck, NULL);
    WdkmHostInterruptsStart(&Settings);
    Thread = WdkmTestStartThread(A25EdgeOwner, &Edge);
    WdkmTestJoinThread(Thread);
    WdkmHostInterruptsStop();
    WdkmHostSetBugcheckHandler(NULL, NULL);
    if (getenv("A25_VERBOSE") != NULL) {
        fprintf(stderr, "edge: apcs %ld, refused %ld, granted %ld, unexpected %ld, bug checks %ld\n",
                (long)Edge.Apcs, (long)Edge.Refused, (long)Edge.Granted, (long)Edge.Unexpected,
                (long)A25StormBugchecks);
    }
    CHECK(Thread != NULL);
    CHECK(Edge.Apcs > 10);
    CHECK(Edge.Refused > 0);                /* the APC did land inside shared holds */
    CHECK_EQ(Edge.OwnerFailures, 0);
    CHECK_EQ(Edge.Unexpected, 0);
    CHECK_STATUS(WdkmResourceDestroy((PWDKM_RESOURCE)Edge.Lock.Lock), STATUS_SUCCESS);
    CHECK_EQ(A25RegionDepth(FALSE, &Probes), 0);
    CHECK_EQ(A25StormBugchecks, 0);
}


/* ------------------------------------------------------------------------
 * Releases at the wrong IRQL (reference.md, each release's Returns; the
 * Conventions' exception: FAST_MUTEX, guarded mutex and spin locks check
 * ownership before the IRQL). After every refusal the IRQL and the hold
 * are as before ("No change on error").
 */
static VOID
WrongIrqlReleases(VOID)
{
    A25_LOCK Lock;
    LONG *Data;
    KIRQL Old;
    ULONG Kind;
    ULONG Probes = 0;
    ULONG Bugchecks = WdkmHostBugcheckCount();

    for (Kind = 0; Kind < A25KindCount; Kind += 1) {
        CHECK_STATUS(A25Create((A25_KIND)Kind, &Lock), STATUS_SUCCESS);
        /* Nobody holds it: NOT_HELD at any IRQL for the four kinds that
           check ownership first; the others answer the IRQL first. */
        KeRaiseIrql(HIGH_LEVEL, &Old);
        Lock.OldIrql = PASSIVE_LEVEL;
        memset(&Lock.Handle, 0, sizeof(Lock.Handle));
        if (Kind == A25Fast || Kind == A25Guarded || Kind == A25Spin || Kind == A25Queued) {
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_NOT_HELD);
        } else {
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_IRQL_TOO_HIGH);
        }
        CHECK_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
        KeLowerIrql(Old);

        CHECK_STATUS(A25Acquire(&Lock, FALSE, &Data), STATUS_SUCCESS);
        *Data = 5;
        Old = KeGetCurrentIrql();
        switch (Kind) {
        case A25KMutex: {
            KIRQL Saved;

            KeRaiseIrql(DISPATCH_LEVEL, &Saved);
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_IRQL_MISMATCH);
            KeRaiseIrql(HIGH_LEVEL, &Saved);
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_IRQL_TOO_HIGH);
            KeLowerIrql(APC_LEVEL);
            CHECK(A25IsOwned(&Lock));
            CHECK_STATUS(A25Release(&Lock), STATUS_SUCCESS);   /* same class: APC_LEVEL */
            KeLowerIrql(PASSIVE_LEVEL);
            break;
        }
        case A25Fast: {
            KIRQL Saved;

            CHECK_EQ(Old, APC_LEVEL);
            KeRaiseIrql(DISPATCH_LEVEL, &Saved);
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_IRQL_TOO_HIGH);
            CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
            KeLowerIrql(PASSIVE_LEVEL);
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_IRQL_MISMATCH);
            CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
            CHECK(A25IsOwned(&Lock));
            KeRaiseIrql(APC_LEVEL, &Saved);
            CHECK_STATUS(A25Release(&Lock), STATUS_SUCCESS);
            CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);       /* the acquirer's IRQL */
            break;
        }
        case A25Spin:
        case A25Queued: {
            KIRQL Saved;

            CHECK_EQ(Old, DISPATCH_LEVEL);
            if (Kind == A25Spin) {
                /* "also for an OldIrql above DISPATCH_LEVEL, an argument
                   error answered first" */
                CHECK_STATUS(WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock.Lock, HIGH_LEVEL),
                             STATUS_INVALID_PARAMETER);
                CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)Lock.Lock),
                             STATUS_WDKM_IRQL_MISMATCH);
            }
            KeRaiseIrql(HIGH_LEVEL, &Saved);
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_IRQL_TOO_HIGH);
            CHECK_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
            KeLowerIrql(PASSIVE_LEVEL);
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_IRQL_MISMATCH);
            CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
            KeRaiseIrql(DISPATCH_LEVEL, &Saved);
            CHECK(A25IsOwned(&Lock));
            CHECK_STATUS(A25Release(&Lock), STATUS_SUCCESS);
            CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
            break;
        }
        case A25Guarded: {
            KIRQL Saved;

            KeRaiseIrql(APC_LEVEL, &Saved);
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_IRQL_TOO_HIGH);
            KeRaiseIrql(DISPATCH_LEVEL, &Saved);
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_IRQL_TOO_HIGH);
            KeLowerIrql(PASSIVE_LEVEL);
            CHECK(A25IsOwned(&Lock));
            CHECK_STATUS(A25Release(&Lock), STATUS_SUCCESS);
            /* Acquired at APC_LEVEL, released at PASSIVE_LEVEL. */
            KeRaiseIrql(APC_LEVEL, &Saved);
            CHECK_STATUS(A25Acquire(&Lock, FALSE, &Data), STATUS_SUCCESS);
            KeLowerIrql(PASSIVE_LEVEL);
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_IRQL_MISMATCH);
            KeRaiseIrql(APC_LEVEL, &Saved);
            CHECK_STATUS(A25Release(&Lock), STATUS_SUCCESS);
            KeLowerIrql(PASSIVE_LEVEL);
            break;
        }
        default: {
            KIRQL Saved;

            KeRaiseIrql(DISPATCH_LEVEL, &Saved);
            CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_IRQL_TOO_HIGH);
            CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
            KeLowerIrql(PASSIVE_LEVEL);
            CHECK(A25IsOwned(&Lock));
            CHECK_STATUS(A25Release(&Lock), STATUS_SUCCESS);
            break;
        }
        }
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK(!A25IsOwned(&Lock));
        CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_NOT_HELD);
        CHECK_STATUS(A25Acquire(&Lock, FALSE, &Data), STATUS_SUCCESS);
        CHECK_EQ(*Data, 5);
        CHECK_STATUS(A25Release(&Lock), STATUS_SUCCESS);
        CHECK_EQ(A25RegionDepth(FALSE, &Probes), 0);
        CHECK_EQ(A25RegionDepth(TRUE, &Probes), 0);
        CHECK_STATUS(A25Destroy(&Lock), STATUS_SUCCESS);
    }
    CHECK_EQ(WdkmHostBugcheckCount() - Bugchecks, Probes);
}

/* ------------------------------------------------------------------------
 * Out of order: A then B, A released first (reference.md, FAST_MUTEX "the
 * library refuses that release with STATUS_WDKM_LOCK_HELD ... An outer one
 * acquired at APC_LEVEL lowers nothing when released, so its release out
 * of order is accepted"; spin locks "Nested spin locks (plain and queued
 * alike) ... refused with STATUS_WDKM_LOCK_HELD"; the kinds without IRQL
 * rules accept it).
 */
static VOID
OutOfOrderReleases(VOID)
{
    A25_LOCK A;
    A25_LOCK B;
    LONG *Data;
    KIRQL Saved;
    ULONG Kind;
    ULONG Probes = 0;

    for (Kind = 0; Kind < A25KindCount; Kind += 1) {
        CHECK_STATUS(A25Create((A25_KIND)Kind, &A), STATUS_SUCCESS);
        CHECK_STATUS(A25Create((A25_KIND)Kind, &B), STATUS_SUCCESS);
        CHECK_STATUS(A25Acquire(&A, FALSE, &Data), STATUS_SUCCESS);
        CHECK_STATUS(A25Acquire(&B, FALSE, &Data), STATUS_SUCCESS);
        if (Kind == A25Fast || Kind == A25Spin || Kind == A25Queued) {
            KIRQL Before = KeGetCurrentIrql();

            CHECK_STATUS(A25Release(&A), STATUS_WDKM_LOCK_HELD);
            CHECK_EQ(KeGetCurrentIrql(), Before);
            CHECK(A25IsOwned(&A));
            CHECK(A25IsOwned(&B));
            if (Kind == A25Spin) {
                /* NT's explicit order: A without lowering, B with A's IRQL. */
                CHECK_STATUS(WdkmSpinLockRelease((PWDKM_SPIN_LOCK)A.Lock, DISPATCH_LEVEL),
                             STATUS_SUCCESS);
                CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
                CHECK_STATUS(WdkmSpinLockRelease((PWDKM_SPIN_LOCK)B.Lock, A.OldIrql), STATUS_SUCCESS);
                CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
            } else {
                CHECK_STATUS(A25Release(&B), STATUS_SUCCESS);
                CHECK_STATUS(A25Release(&A), STATUS_SUCCESS);
            }
        } else {
            CHECK_STATUS(A25Release(&A), STATUS_SUCCESS);
            CHECK(A25IsOwned(&B));
            CHECK_STATUS(A25Release(&B), STATUS_SUCCESS);
        }
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        if (Kind == A25Fast) {
            /* Acquired at APC_LEVEL: the outer release lowers nothing. */
            KeRaiseIrql(APC_LEVEL, &Saved);
            CHECK_STATUS(A25Acquire(&A, FALSE, &Data), STATUS_SUCCESS);
            CHECK_STATUS(A25Acquire(&B, FALSE, &Data), STATUS_SUCCESS);
            CHECK_STATUS(A25Release(&A), STATUS_SUCCESS);
            CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
            CHECK(A25IsOwned(&B));
            CHECK_STATUS(A25Release(&B), STATUS_SUCCESS);
            CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
            KeLowerIrql(Saved);
        }
        CHECK(!A25IsOwned(&A));
        CHECK(!A25IsOwned(&B));
        CHECK_EQ(A25RegionDepth(FALSE, &Probes), 0);
        CHECK_EQ(A25RegionDepth(TRUE, &Probes), 0);
        CHECK_STATUS(A25Destroy(&A), STATUS_SUCCESS);
        CHECK_STATUS(A25Destroy(&B), STATUS_SUCCESS);
    }

    /* Plain and queued mixed, both orders. */
    {
        A25_LOCK S;
        A25_LOCK Q;

        CHECK_STATUS(A25Create(A25Spin, &S), STATUS_SUCCESS);
        CHECK_STATUS(A25Create(A25Queued, &Q), STATUS_SUCCESS);
        CHECK_STATUS(A25Acquire(&S, FALSE, &Data), STATUS_SUCCESS);
        CHECK_STATUS(A25Acquire(&Q, FALSE, &Data), STATUS_SUCCESS);
        CHECK_STATUS(A25Release(&S), STATUS_WDKM_LOCK_HELD);
        CHECK_STATUS(A25Release(&Q), STATUS_SUCCESS);
        CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
        CHECK_STATUS(A25Release(&S), STATUS_SUCCESS);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK_STATUS(A25Acquire(&Q, FALSE, &Data), STATUS_SUCCESS);
        CHECK_STATUS(A25Acquire(&S, FALSE, &Data), STATUS_SUCCESS);
        CHECK_STATUS(A25Release(&Q), STATUS_WDKM_LOCK_HELD);
        CHECK(A25IsOwned(&Q));
        CHECK_STATUS(A25Release(&S), STATUS_SUCCESS);
        CHECK_STATUS(A25Release(&Q), STATUS_SUCCESS);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK_STATUS(A25Destroy(&S), STATUS_SUCCESS);
        CHECK_STATUS(A25Destroy(&Q), STATUS_SUCCESS);
    }
}

/* ------------------------------------------------------------------------
 * Queued handles: a copy, another kind's lock in the handle, a handle a
 * failed acquire left (reference.md, WdkmQueuedSpinLockRelease
 * "STATUS_WDKM_NOT_HELD (the handle holds nothing: released twice, or a
 * copy of the handle that acquired)", "STATUS_WDKM_TYPE_MISMATCH (the
 * handle names a lock of another kind)"; WdkmQueuedSpinLockAcquire "On
 * failure *Handle holds nothing, except when it is the very handle through
 * which the caller already holds this lock (STATUS_POSSIBLE_DEADLOCK):
 * that hold is kept, and its release works").
 */
static VOID
QueuedHandles(VOID)
{
    A25_LOCK Q;
    A25_LOCK F;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_LOCK_QUEUE_HANDLE Copy;
    WDKM_LOCK_QUEUE_HANDLE Fresh;
    PWDKM_QUEUED_SPIN_LOCK Lock;
    LONG *Data;
    KIRQL Saved;

    CHECK_STATUS(A25Create(A25Queued, &Q), STATUS_SUCCESS);
    CHECK_STATUS(A25Create(A25Fast, &F), STATUS_SUCCESS);
    Lock = (PWDKM_QUEUED_SPIN_LOCK)Q.Lock;
    CHECK_STATUS(WdkmQueuedSpinLockAcquire(Lock, sizeof(LONG), &Handle, (PVOID *)&Data), STATUS_SUCCESS);
    *Data = 3;
    Copy = Handle;
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Copy), STATUS_WDKM_NOT_HELD);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK(WdkmQueuedSpinLockIsOwned(Lock));
    Copy = Handle;
    Copy.Lock = (PWDKM_QUEUED_SPIN_LOCK)F.Lock;
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Copy), STATUS_WDKM_TYPE_MISMATCH);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    /* The same handle again: the hold is kept. */
    Data = (LONG *)A25_POISON;
    CHECK_STATUS(WdkmQueuedSpinLockAcquire(Lock, sizeof(LONG), &Handle, (PVOID *)&Data),
                 STATUS_POSSIBLE_DEADLOCK);
    CHECK(Data == NULL);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    /* Another fresh handle, garbage inside, refused: holds nothing. */
    memset(&Fresh, 0x5A, sizeof(Fresh));
    Data = (LONG *)A25_POISON;
    CHECK_STATUS(WdkmQueuedSpinLockAcquire(Lock, sizeof(LONG), &Fresh, (PVOID *)&Data),
                 STATUS_POSSIBLE_DEADLOCK);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Fresh), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Copy), STATUS_WDKM_TYPE_MISMATCH);

    /* Refused acquires leave a garbage handle holding nothing. */
    memset(&Fresh, 0x5A, sizeof(Fresh));
    Data = (LONG *)A25_POISON;
    CHECK_STATUS(WdkmQueuedSpinLockAcquire(Lock, sizeof(LONG) + 1, &Fresh, (PVOID *)&Data),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Data == NULL);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Fresh), STATUS_WDKM_NOT_HELD);
    memset(&Fresh, 0x5A, sizeof(Fresh));
    Data = (LONG *)A25_POISON;
    CHECK_STATUS(WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)F.Lock, sizeof(LONG), &Fresh,
                                           (PVOID *)&Data),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Data == NULL);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Fresh), STATUS_WDKM_NOT_HELD);
    KeRaiseIrql(HIGH_LEVEL, &Saved);
    memset(&Fresh, 0x5A, sizeof(Fresh));
    Data = (LONG *)A25_POISON;
    CHECK_STATUS(WdkmQueuedSpinLockAcquire(Lock, sizeof(LONG), &Fresh, (PVOID *)&Data),
                 STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Fresh), STATUS_WDKM_NOT_HELD);
    CHECK_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    KeLowerIrql(Saved);
    memset(&Fresh, 0x5A, sizeof(Fresh));
    Data = (LONG *)A25_POISON;
    CHECK_STATUS(WdkmQueuedSpinLockAcquireAtDpcLevel(Lock, sizeof(LONG), &Fresh, (PVOID *)&Data),
                 STATUS_WDKM_IRQL_MISMATCH);
    CHECK(Data == NULL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Fresh), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmQueuedSpinLockAcquire(Lock, sizeof(LONG), &Handle, (PVOID *)&Data), STATUS_SUCCESS);
    CHECK_EQ(*Data, 3);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_STATUS(A25Destroy(&Q), STATUS_SUCCESS);
    CHECK_STATUS(A25Destroy(&F), STATUS_SUCCESS);
}


/* ------------------------------------------------------------------------
 * Minimised from out-of-order work: spin lock A then B, B released FIRST
 * (in order) but with an OldIrql below DISPATCH_LEVEL while A is still
 * held. reference.md, WdkmSpinLockRelease: "STATUS_WDKM_LOCK_HELD (an
 * OldIrql below DISPATCH_LEVEL while any other spin lock of the caller is
 * still held: see above)"; spin locks: "A release that would lower the
 * IRQL below DISPATCH_LEVEL while any other spin lock of the caller is
 * still held ... is refused with STATUS_WDKM_LOCK_HELD, nothing changed:
 * otherwise that lock would be held at PASSIVE_LEVEL and its own release
 * refused." Both the public name (the inline twin in the release build)
 * and the exported function, and with a queued spin lock as the outer.
 */
static VOID
A25InnerReleaseLowering(BOOLEAN OuterQueued, BOOLEAN Exported)
{
    A25_LOCK A;
    A25_LOCK B;
    LONG *Data;
    NTSTATUS Status;

    CHECK_STATUS(A25Create(OuterQueued ? A25Queued : A25Spin, &A), STATUS_SUCCESS);
    CHECK_STATUS(A25Create(A25Spin, &B), STATUS_SUCCESS);
    CHECK_STATUS(A25Acquire(&A, FALSE, &Data), STATUS_SUCCESS);
    CHECK_STATUS(A25Acquire(&B, FALSE, &Data), STATUS_SUCCESS);
    CHECK_EQ(B.OldIrql, DISPATCH_LEVEL);
    Status = Exported ? (WdkmSpinLockRelease)((PWDKM_SPIN_LOCK)B.Lock, PASSIVE_LEVEL)
                      : WdkmSpinLockRelease((PWDKM_SPIN_LOCK)B.Lock, PASSIVE_LEVEL);
    if (Status != STATUS_WDKM_LOCK_HELD) {
        KIRQL Now = KeGetCurrentIrql();
        BOOLEAN BHeld = WdkmSpinLockIsOwned((PWDKM_SPIN_LOCK)B.Lock);

        if (Now < DISPATCH_LEVEL) {
            KIRQL Ignored;

            KeRaiseIrql(DISPATCH_LEVEL, &Ignored);
        }
        if (BHeld) {
            (VOID)WdkmSpinLockRelease((PWDKM_SPIN_LOCK)B.Lock, DISPATCH_LEVEL);
        }
        (VOID)A25Release(&A);
        (VOID)A25Destroy(&A);
        (VOID)A25Destroy(&B);
        WdkmTestFail(__FILE__, __LINE__,
                     "%s outer, %s: inner release with OldIrql PASSIVE_LEVEL returned %s, expected "
                     "STATUS_WDKM_LOCK_HELD; IRQL then %u, inner still held %d",
                     OuterQueued ? "queued" : "plain", Exported ? "exported function" : "public name",
                     WdkmStatusName(Status), (unsigned)Now, (int)BHeld);
        return;
    }
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK(WdkmSpinLockIsOwned((PWDKM_SPIN_LOCK)B.Lock));
    CHECK_STATUS(A25Release(&B), STATUS_SUCCESS);
    CHECK_STATUS(A25Release(&A), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(A25Destroy(&A), STATUS_SUCCESS);
    CHECK_STATUS(A25Destroy(&B), STATUS_SUCCESS);
}

static VOID
SpinInnerReleaseLoweringRefused(VOID)
{
    A25InnerReleaseLowering(FALSE, FALSE);
    A25InnerReleaseLowering(FALSE, TRUE);
    A25InnerReleaseLowering(TRUE, FALSE);
    A25InnerReleaseLowering(TRUE, TRUE);
}


/* ------------------------------------------------------------------------
 * Another thread holds the lock; for the reader/writer kinds and the
 * KMUTEX the hold is taken by a NORMAL kernel APC on that thread, which
 * then stays parked inside the APC (a suspended holder). The caller:
 * release -> STATUS_WDKM_NOT_OWNER (every kind; reference.md each release),
 * try -> STATUS_TIMEOUT, KMUTEX timeout -> STATUS_TIMEOUT after the wait,
 * alertable with an alert pending -> STATUS_ALERTED, *Data NULL each time
 * ("On any status but STATUS_SUCCESS it is set to NULL"); shared requests
 * beside a shared holder succeed. The holder's APC must return with its
 * APC disable counts unchanged (else the emulation bug checks
 * APC_INDEX_MISMATCH).
 */
typedef struct _A25_HOLDER {
    A25_LOCK Lock;
    BOOLEAN Shared;
    BOOLEAN InApc;
    volatile LONG State;            /* 0 start, 1 held, 2 go, 3 released */
    NTSTATUS Acquired;
    NTSTATUS Released;
    volatile LONG Done;
} A25_HOLDER;

static VOID
A25HolderHold(A25_HOLDER *Holder)
{
    LONG *Data = NULL;

    Holder->Acquired = A25Acquire(&Holder->Lock, Holder->Shared, &Data);
    InterlockedExchange(&Holder->State, 1);
    while (InterlockedCompareExchange(&Holder->State, 2, 2) != 2) {
        if (KeGetCurrentIrql() <= APC_LEVEL) {
            WdkmTestSleepMs(1);             /* parked: a suspended holder */
        } else {
            sched_yield();
        }
    }
    Holder->Released = Holder->Acquired == STATUS_SUCCESS ? A25Release(&Holder->Lock)
                                                          : STATUS_SUCCESS;
    InterlockedExchange(&Holder->State, 3);
}

static VOID
A25HolderApc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Random);
    if (Kind == WdkmHostInterruptNormalApc) {
        A25HolderHold((A25_HOLDER *)Context);
    }
}

static VOID
A25HolderThread(PVOID Context, ULONG Index)
{
    A25_HOLDER *Holder = (A25_HOLDER *)Context;

    UNREFERENCED_PARAMETER(Index);
    if (!Holder->InApc) {
        A25HolderHold(Holder);
        return;
    }
    while (InterlockedCompareExchange(&Holder->Done, 1, 1) == 0) {
        WdkmTestSleepMs(1);                 /* the APC runs as a sleep returns */
    }
}

static VOID
A25OtherThreadOne(A25_KIND Kind, BOOLEAN Shared, BOOLEAN InApc, ULONG *Probes)
{
    static A25_HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    LONG *Data;
    LONGLONG Start;
    LARGE_INTEGER Timeout;
    NTSTATUS Status;

    memset(&Holder, 0, sizeof(Holder));
    CHECK_STATUS(A25Create(Kind, &Holder.Lock), STATUS_SUCCESS);
    Holder.Shared = Shared;
    Holder.InApc = InApc;
    Thread = WdkmTestStartThread(A25HolderThread, &Holder);
    CHECK(Thread != NULL);
    if (InApc) {
        WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread), WdkmHostInterruptNormalApc,
                               A25HolderApc, &Holder);
    }
    while (InterlockedCompareExchange(&Holder.State, 1, 1) == 0) {
        WdkmTestSleepMs(1);
    }
    if (Holder.Acquired != STATUS_SUCCESS) {
        InterlockedExchange(&Holder.State, 2);
        InterlockedExchange(&Holder.Done, 1);
        WdkmTestJoinThread(Thread);
        (VOID)A25Destroy(&Holder.Lock);
        WdkmTestFail(__FILE__, __LINE__, "%s: the holder's acquire returned %s",
                     A25KindNames[Kind], WdkmStatusName(Holder.Acquired));
        return;
    }

    /* The caller holds nothing: NOT_OWNER, at its own IRQL. */
    {
        A25_LOCK Mine = Holder.Lock;

        memset(&Mine.Handle, 0, sizeof(Mine.Handle));
        if (Kind == A25Queued) {
            /* Another thread's handle. */
            CHECK_STATUS(WdkmQueuedSpinLockRelease(&Holder.Lock.Handle), STATUS_WDKM_NOT_OWNER);
        } else {
            CHECK_STATUS(A25Release(&Mine), STATUS_WDKM_NOT_OWNER);
        }
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK(!A25IsOwned(&Mine));
        Data = (LONG *)A25_POISON;
        Status = A25Try(&Mine, FALSE, &Data);
        if (Kind != A25Queued && Kind != A25Push) {
            CHECK_STATUS(Status, STATUS_TIMEOUT);
            CHECK(Data == NULL);
            CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        }
        if (Kind == A25Resource || Kind == A25Push) {
            Data = (LONG *)A25_POISON;
            if (Kind == A25Resource) {
                CHECK_STATUS(A25Try(&Mine, TRUE, &Data), Shared ? STATUS_SUCCESS : STATUS_TIMEOUT);
            } else if (Shared) {
                CHECK_STATUS(A25Acquire(&Mine, TRUE, &Data), STATUS_SUCCESS);
            } else {
                Data = NULL;
            }
            if (Shared) {
                CHECK(Data != NULL && Data != A25_POISON);
                CHECK_STATUS(A25Release(&Mine), STATUS_SUCCESS);
            } else {
                CHECK(Data == NULL);
            }
        }
        if (Kind == A25KMutex) {
            PWDKM_KMUTEX M = (PWDKM_KMUTEX)Mine.Lock;

            Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(20);
            Data = (LONG *)A25_POISON;
            Start = WdkmTestNowMs();
            CHECK_STATUS(WdkmKMutexAcquireTimeout(M, sizeof(LONG), &Timeout, (PVOID *)&Data),
                         STATUS_TIMEOUT);
            CHECK(WdkmTestNowMs() - Start >= 15);
            CHECK(Data == NULL);
            WdkmHostAlertThread(KeGetCurrentThread());
            Data = (LONG *)A25_POISON;
            CHECK_STATUS(WdkmKMutexAcquireAlertable(M, sizeof(LONG), KernelMode, NULL, (PVOID *)&Data),
                         STATUS_ALERTED);
            CHECK(Data == NULL);
            Data = (LONG *)A25_POISON;
            CHECK_STATUS(WdkmKMutexAcquireAlertable(M, sizeof(LONG), UserMode, &Timeout, (PVOID *)&Data),
                         STATUS_INVALID_PARAMETER);
            CHECK(Data == NULL);
            CHECK(!WdkmKMutexIsOwned(M));
        }
    }
    InterlockedExchange(&Holder.State, 2);
    while (InterlockedCompareExchange(&Holder.State, 3, 3) != 3) {
        WdkmTestSleepMs(1);
    }
    InterlockedExchange(&Holder.Done, 1);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Holder.Released, STATUS_SUCCESS);
    CHECK_EQ(A25RegionDepth(FALSE, Probes), 0);
    CHECK_STATUS(A25Destroy(&Holder.Lock), STATUS_SUCCESS);
}

static VOID
OtherThreadHolds(VOID)
{
    ULONG Kind;
    ULONG Bugchecks = WdkmHostBugcheckCount();
    ULONG Probes = 0;

    for (Kind = 0; Kind < A25KindCount; Kind += 1) {
        A25OtherThreadOne((A25_KIND)Kind, FALSE, FALSE, &Probes);
    }
    A25OtherThreadOne(A25KMutex, FALSE, TRUE, &Probes);
    A25OtherThreadOne(A25Resource, FALSE, TRUE, &Probes);
    A25OtherThreadOne(A25Resource, TRUE, TRUE, &Probes);
    if (A25_PUSH_LOCK_IN_EVENTS) {
        A25OtherThreadOne(A25Push, TRUE, TRUE, &Probes);
        A25OtherThreadOne(A25Push, FALSE, TRUE, &Probes);
    }
    A25OtherThreadOne(A25Guarded, FALSE, TRUE, &Probes);
    A25OtherThreadOne(A25Fast, FALSE, TRUE, &Probes);
    CHECK_EQ(WdkmHostBugcheckCount() - Bugchecks, Probes);   /* A25RegionDepth's probes only */
}

/* ------------------------------------------------------------------------
 * Bad arguments (reference.md Conventions, "Order of the checks": the
 * arguments first, then the IRQL, then the lock's state - a data size
 * other than the creation size is a state error; "On any status but
 * STATUS_SUCCESS it is set to NULL"; a lock of another kind: "every
 * acquire, release and scoped form answers STATUS_WDKM_TYPE_MISMATCH ...
 * the IsOwned queries answer FALSE"). Nothing held afterwards, the IRQL
 * unchanged.
 */
static VOID
BadArguments(VOID)
{
    A25_LOCK Lock;
    A25_LOCK Foreign;
    A25_LOCK Alien;
    LONG *Data;
    NTSTATUS Status;
    NTSTATUS ScopeStatus;
    WDKM_SCOPE Scope;
    KIRQL Saved;
    ULONG Kind;
    static const KIRQL TooHigh[A25KindCount] = {
        DISPATCH_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL, HIGH_LEVEL, DISPATCH_LEVEL, DISPATCH_LEVEL,
        DISPATCH_LEVEL,
    };

    CHECK_STATUS(A25Create(A25KMutex, &Foreign), STATUS_SUCCESS);
    for (Kind = 0; Kind < A25KindCount; Kind += 1) {
        CHECK_STATUS(A25Create((A25_KIND)Kind, &Lock), STATUS_SUCCESS);
        Alien = Lock;
        Alien.Lock = Kind == A25KMutex ? (PVOID)0 : Foreign.Lock;

        /* Size mismatch: TYPE_MISMATCH, after the IRQL. */
        Data = (LONG *)A25_POISON;
        Status = Kind == A25Spin
            ? WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock.Lock, sizeof(LONG) + 4, &Lock.OldIrql, (PVOID *)&Data)
            : Kind == A25Queued
            ? WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Lock.Lock, sizeof(LONG) + 4, &Lock.Handle,
                                        (PVOID *)&Data)
            : Kind == A25KMutex ? WdkmKMutexAcquire((PWDKM_KMUTEX)Lock.Lock, sizeof(LONG) + 4, (PVOID *)&Data)
            : Kind == A25Fast ? WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock.Lock, sizeof(LONG) + 4, (PVOID *)&Data)
            : Kind == A25Guarded ? WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)Lock.Lock, sizeof(LONG) + 4,
                                                           (PVOID *)&Data)
            : Kind == A25Resource ? WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Lock.Lock, sizeof(LONG) + 4,
                                                                 (PVOID *)&Data)
            : WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)Lock.Lock, sizeof(LONG) + 4, (PVOID *)&Data);
        CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
        CHECK(Data == NULL);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK(!A25IsOwned(&Lock));
        KeRaiseIrql(TooHigh[Kind], &Saved);
        Data = (LONG *)A25_POISON;
        Status = Kind == A25Spin
            ? WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock.Lock, sizeof(LONG) + 4, &Lock.OldIrql, (PVOID *)&Data)
            : Kind == A25Queued
            ? WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Lock.Lock, sizeof(LONG) + 4, &Lock.Handle,
                                        (PVOID *)&Data)
            : Kind == A25KMutex ? WdkmKMutexAcquire((PWDKM_KMUTEX)Lock.Lock, sizeof(LONG) + 4, (PVOID *)&Data)
            : Kind == A25Fast ? WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock.Lock, sizeof(LONG) + 4, (PVOID *)&Data)
            : Kind == A25Guarded ? WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)Lock.Lock, sizeof(LONG) + 4,
                                                           (PVOID *)&Data)
            : Kind == A25Resource ? WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Lock.Lock, sizeof(LONG) + 4,
                                                                 (PVOID *)&Data)
            : WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)Lock.Lock, sizeof(LONG) + 4, (PVOID *)&Data);
        CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);       /* the IRQL before the state */
        CHECK(Data == NULL);
        /* A NULL Data pointer: an argument error, before the IRQL. */
        CHECK_STATUS(A25Acquire(&Lock, FALSE, NULL), STATUS_INVALID_PARAMETER);
        CHECK_EQ(KeGetCurrentIrql(), TooHigh[Kind]);
        KeLowerIrql(Saved);
        CHECK_STATUS(A25Acquire(&Lock, FALSE, NULL), STATUS_INVALID_PARAMETER);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK(!A25IsOwned(&Lock));

        /* A lock of another kind (a KMUTEX; for the KMUTEX: NULL). */
        Data = (LONG *)A25_POISON;
        CHECK_STATUS(A25Acquire(&Alien, FALSE, &Data),
                     Kind == A25KMutex ? STATUS_INVALID_PARAMETER : STATUS_WDKM_TYPE_MISMATCH);
        CHECK(Data == NULL);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK(!A25IsOwned(&Alien));
        if (Kind != A25Queued) {
            CHECK_STATUS(A25Release(&Alien),
                         Kind == A25KMutex ? STATUS_INVALID_PARAMETER : STATUS_WDKM_TYPE_MISMATCH);
            Data = (LONG *)A25_POISON;
            ScopeStatus = STATUS_PENDING;
            Scope = A25ScopeEnter(&Alien, FALSE, &Data, &ScopeStatus);
            CHECK_STATUS(ScopeStatus,
                         Kind == A25KMutex ? STATUS_INVALID_PARAMETER : STATUS_WDKM_TYPE_MISMATCH);
            CHECK(Scope.Lock == NULL);
            CHECK(Data == NULL);
            /* ScopeEnter with a NULL data pointer: no hold (a NULL status
               pointer: scope_enter_null_status). */
            ScopeStatus = STATUS_PENDING;
            Scope = A25ScopeEnter(&Lock, FALSE, NULL, &ScopeStatus);
            CHECK_STATUS(ScopeStatus, STATUS_INVALID_PARAMETER);
            CHECK(Scope.Lock == NULL);
            CHECK(!A25IsOwned(&Lock));
            CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        }
        if (Kind == A25Spin) {
            Data = (LONG *)A25_POISON;
            CHECK_STATUS(WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock.Lock, sizeof(LONG), NULL, (PVOID *)&Data),
                         STATUS_INVALID_PARAMETER);
            CHECK(Data == NULL);
            CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
            Data = (LONG *)A25_POISON;
            CHECK_STATUS(WdkmSpinLockTryAcquire((PWDKM_SPIN_LOCK)Lock.Lock, sizeof(LONG), NULL, (PVOID *)&Data),
                         STATUS_INVALID_PARAMETER);
            CHECK(Data == NULL);
            CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        }
        if (Kind == A25Queued) {
            Data = (LONG *)A25_POISON;
            CHECK_STATUS(WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Lock.Lock, sizeof(LONG), NULL,
                                                   (PVOID *)&Data),
                         STATUS_INVALID_PARAMETER);
            CHECK(Data == NULL);
            CHECK_STATUS(WdkmQueuedSpinLockRelease(NULL), STATUS_INVALID_PARAMETER);
        }
        if (Kind == A25KMutex) {
            Data = (LONG *)A25_POISON;
            CHECK_STATUS(WdkmKMutexAcquireTimeout((PWDKM_KMUTEX)Lock.Lock, sizeof(LONG), NULL, (PVOID *)&Data),
                         STATUS_INVALID_PARAMETER);
            CHECK(Data == NULL);
            Data = (LONG *)A25_POISON;
            CHECK_STATUS(WdkmKMutexAcquireAlertable((PWDKM_KMUTEX)Lock.Lock, sizeof(LONG), UserMode, NULL,
                                                    (PVOID *)&Data),
                         STATUS_INVALID_PARAMETER);
            CHECK(Data == NULL);
            CHECK(!WdkmKMutexIsOwned((PWDKM_KMUTEX)Lock.Lock));
        }
        CHECK_STATUS(A25Release(&Lock), STATUS_WDKM_NOT_HELD);
        CHECK_STATUS(A25Acquire(&Lock, FALSE, &Data), STATUS_SUCCESS);
        CHECK_STATUS(A25Release(&Lock), STATUS_SUCCESS);
        CHECK_STATUS(A25Destroy(&Lock), STATUS_SUCCESS);
    }
    CHECK_STATUS(A25Destroy(&Foreign), STATUS_SUCCESS);
}


/* ------------------------------------------------------------------------
 * Minimised from bad_arguments: ScopeEnter with a NULL Status pointer
 * (what WDKM_xxx_SCOPED(Lock, Data, NULL) passes). reference.md
 * Conventions: "STATUS_INVALID_PARAMETER for a NULL lock or output
 * pointer, everywhere"; the promise: never a bugcheck. With no status
 * variable to answer in, the only refusal is a scope that holds nothing
 * (Lock NULL) and a lock left free. A fault is caught here with a SIGSEGV
 * handler so that the rest of the program runs on.
 */
static sigjmp_buf A25FaultJump;

static void
A25FaultHandler(int Signal)
{
    (void)Signal;
    siglongjmp(A25FaultJump, 1);
}

static VOID
ScopeEnterNullStatus(VOID)
{
    volatile ULONG Kind;
    volatile ULONG Faults = 0;
    volatile ULONG Held = 0;
    static char First[96];

    First[0] = 0;

    for (Kind = 0; Kind < A25KindCount; Kind += 1) {
        static A25_LOCK Lock;
        static WDKM_SCOPE Scope;
        static LONG *Data;
        struct sigaction Action;
        struct sigaction Previous;
        KIRQL Before = KeGetCurrentIrql();

        if (Kind == A25Queued) {
            continue;
        }
        CHECK_STATUS(A25Create((A25_KIND)Kind, &Lock), STATUS_SUCCESS);
        memset(&Scope, 0, sizeof(Scope));
        memset(&Action, 0, sizeof(Action));
        Action.sa_handler = A25FaultHandler;
        sigemptyset(&Action.sa_mask);
        sigaction(SIGSEGV, &Action, &Previous);
        if (sigsetjmp(A25FaultJump, 1) == 0) {
            Data = (LONG *)A25_POISON;
            Scope = A25ScopeEnter(&Lock, FALSE, &Data, NULL);
            sigaction(SIGSEGV, &Previous, NULL);
            if (Scope.Lock != NULL) {
                Held += 1;
                if (First[0] == 0) {
                    snprintf(First, sizeof(First), "%s: a scope that holds the lock",
                             A25KindNames[Kind]);
                }
                Scope.Status = NULL;
                (VOID)A25Release(&Lock);
            }
        } else {
            sigaction(SIGSEGV, &Previous, NULL);
            Faults += 1;
            if (First[0] == 0) {
                snprintf(First, sizeof(First), "%s: faulted", A25KindNames[Kind]);
            }
            /* Whatever the fault left: give the lock back. */
            if (KeGetCurrentIrql() != Before) {
                if (A25IsOwned(&Lock)) {
                    (VOID)A25Release(&Lock);
                }
                if (KeGetCurrentIrql() != Before) {
                    KeLowerIrql(Before);
                }
            } else if (A25IsOwned(&Lock)) {
                (VOID)A25Release(&Lock);
            }
        }
        CHECK_EQ(KeGetCurrentIrql(), Before);
        CHECK(!A25IsOwned(&Lock));
        CHECK_STATUS(A25Destroy(&Lock), STATUS_SUCCESS);
    }
    if (Faults != 0 || Held != 0) {
        WdkmTestFail(__FILE__, __LINE__, "ScopeEnter(..., NULL status): %lu kinds faulted, %lu "
                     "handed out a hold; first: %s", (unsigned long)Faults, (unsigned long)Held, First);
    }
}


/* ------------------------------------------------------------------------
 * Scoped forms under interrupts (reference.md "Scoped forms": the block
 * runs once if the acquisition succeeded; "*Status is the acquisition's
 * status, or the release's if the release failed"): a special APC enters
 * the KMUTEX scope its thread is inside (a recursion, released at the
 * APC's block end, the outer hold kept); a DPC inside a FAST_MUTEX block
 * is refused by the scope (STATUS_WDKM_IRQL_TOO_HIGH, block not run); a
 * spin-lock block that lowers the IRQL gets its release refused and the
 * status says so.
 */
typedef struct _A25_SCOPE_EVENT {
    A25_LOCK *Lock;
    LONG Runs;
    NTSTATUS Status;
    BOOLEAN OwnedAfter;
} A25_SCOPE_EVENT;

static VOID
A25ScopeEventRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A25_SCOPE_EVENT *Event = (A25_SCOPE_EVENT *)Context;
    LONG *Data = NULL;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Event->Status = STATUS_PENDING;
    if (Event->Lock->Kind == A25KMutex) {
        WDKM_KMUTEX_SCOPED((PWDKM_KMUTEX)Event->Lock->Lock, Data, &Event->Status) {
            Event->Runs += 1;
            *Data += 1;
        } WDKM_SCOPED_END
    } else {
        WDKM_FAST_MUTEX_SCOPED((PWDKM_FAST_MUTEX)Event->Lock->Lock, Data, &Event->Status) {
            Event->Runs += 1;
        } WDKM_SCOPED_END
    }
    Event->OwnedAfter = A25IsOwned(Event->Lock);
}

static VOID
ScopedUnderInterrupts(VOID)
{
    A25_LOCK K;
    A25_LOCK F;
    A25_LOCK S;
    A25_SCOPE_EVENT Event;
    LONG *Data = NULL;
    NTSTATUS Status;
    LONG Runs = 0;

    CHECK_STATUS(A25Create(A25KMutex, &K), STATUS_SUCCESS);
    CHECK_STATUS(A25Create(A25Fast, &F), STATUS_SUCCESS);
    CHECK_STATUS(A25Create(A25Spin, &S), STATUS_SUCCESS);

    memset(&Event, 0, sizeof(Event));
    Event.Lock = &K;
    WDKM_KMUTEX_SCOPED((PWDKM_KMUTEX)K.Lock, Data, &Status) {
        Runs += 1;
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc,
                               A25ScopeEventRoutine, &Event);
        *Data += 10;
    } WDKM_SCOPED_END
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Runs, 1);
    CHECK_EQ(Event.Runs, 1);
    CHECK_STATUS(Event.Status, STATUS_SUCCESS);
    CHECK(Event.OwnedAfter);                /* the outer scope's hold is kept */
    CHECK(!A25IsOwned(&K));
    CHECK_STATUS(A25Acquire(&K, FALSE, &Data), STATUS_SUCCESS);
    CHECK_EQ(*Data, 11);
    CHECK_STATUS(A25Release(&K), STATUS_SUCCESS);

    memset(&Event, 0, sizeof(Event));
    Event.Lock = &F;
    Runs = 0;
    WDKM_FAST_MUTEX_SCOPED((PWDKM_FAST_MUTEX)F.Lock, Data, &Status) {
        Runs += 1;
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A25ScopeEventRoutine, &Event);
    } WDKM_SCOPED_END
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Runs, 1);
    CHECK_EQ(Event.Runs, 0);
    CHECK_STATUS(Event.Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Event.OwnedAfter);
    CHECK(!A25IsOwned(&F));
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* A block that lowers the IRQL under a spin lock. */
    Runs = 0;
    WDKM_SPIN_LOCK_SCOPED((PWDKM_SPIN_LOCK)S.Lock, Data, &Status) {
        Runs += 1;
        KeLowerIrql(PASSIVE_LEVEL);
    } WDKM_SCOPED_END
    CHECK_EQ(Runs, 1);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_MISMATCH);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(A25IsOwned(&S));                  /* nothing changed by the refused release */
    {
        KIRQL Ignored;

        KeRaiseIrql(DISPATCH_LEVEL, &Ignored);
        CHECK_STATUS(WdkmSpinLockRelease((PWDKM_SPIN_LOCK)S.Lock, PASSIVE_LEVEL), STATUS_SUCCESS);
    }
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(A25Destroy(&K), STATUS_SUCCESS);
    CHECK_STATUS(A25Destroy(&F), STATUS_SUCCESS);
    CHECK_STATUS(A25Destroy(&S), STATUS_SUCCESS);
}

static const WDKM_TEST_CASE Attack25Cases[] = {
    { "masking_while_held", MaskingWhileHeld },
    { "dpc_on_owner_modelled", DpcOnOwnerModelled },
    { "dpc_on_owner_injected", DpcOnOwnerInjected },
    { "special_apc_on_owner", SpecialApcOnOwner },
    { "interrupt_storm", InterruptStorm },
    { "resource_special_apc_exclusive_at_shared_edges", ResourceSpecialApcExclusiveAtSharedEdges },
    { "wrong_irql_releases", WrongIrqlReleases },
    { "out_of_order_releases", OutOfOrderReleases },
    { "queued_handles", QueuedHandles },
    { "spin_inner_release_lowering_refused", SpinInnerReleaseLoweringRefused },
    { "other_thread_holds", OtherThreadHolds },
    { "bad_arguments", BadArguments },
    { "scope_enter_null_status", ScopeEnterNullStatus },
    { "scoped_under_interrupts", ScopedUnderInterrupts },
};

const WDKM_TEST_SUITE WdkmAttack25Suite = WDKM_TEST_SUITE_OF("attack25", Attack25Cases);
