/*
 * test_model.c - a model-based test of the documented semantics (issue 15,
 * section 2).
 *
 * A seeded random walk over several locks of every kind, the regions and
 * the registry, made by MODEL_THREADS emulated system threads, each
 * operation checked against a reference model written from
 * docs/reference.md and the public headers (not from src/): the returned
 * status, the data pointer (NULL on any status but STATUS_SUCCESS), the
 * IRQL after the call, the owner as the IsOwned queries (and in the checked
 * build WdkmDiagIsHeld) see it, the APC-disable state, and the protected
 * value (each exclusive holder checks the last writer's pattern on entry and
 * writes its own; every step re-reads every held value).
 *
 * Lockstep: a conductor (the test's own thread) draws each step from the
 * seed, hands it to one worker and waits for it, so the model is exact and a
 * seed replays the same run. A step the model predicts to block (a waiting
 * acquire of a lock another thread holds) is left in flight: the worker
 * stays blocked in the library until the holder's release, and the model
 * checks that it neither returns early nor fails to get the lock then. An
 * alertable wait may be ended by an alert instead.
 *
 * Misuse is part of the walk: wrong IRQL (KeRaiseIrql first), release by a
 * non-owner and a second release, recursion on non-recursive kinds, destroy
 * and take while held, a wrong data size, NULL arguments, busy tries and
 * expiring timeouts. Each must return the documented status and change
 * nothing, which the next checks see.
 *
 * A DPC runs on the thread it interrupts and, to NT, is that thread: a
 * KeRaiseIrql(DISPATCH_LEVEL) step taken while the thread holds
 * PASSIVE-level locks, the operations made at DISPATCH_LEVEL after it (which
 * must release what they take) and the KeLowerIrql that ends it are such a
 * DPC, deterministically.
 *
 * Environment: WDKM_MODEL_SEED=n runs that seed only (a failure prints the
 * line that replays it); WDKM_MODEL_STEPS=n steps per seed (default 4000);
 * WDKM_MODEL_SEEDS=n seeds from the default base (default 4). No
 * operation is left out of the walk: every disagreement with the
 * documentation fails it.
 */
#define _POSIX_C_SOURCE 200809L
#include "wdkm_test.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- */
/* The model's state                                                       */
/* ---------------------------------------------------------------------- */

#define MODEL_THREADS 4
#define MODEL_PER_KIND 2
#define MODEL_KINDS 7
#define MODEL_STANDALONE (MODEL_KINDS * MODEL_PER_KIND)
#define MODEL_LOCKS 40            /* standalone locks, then registry instances */
#define MODEL_NAMES 4
#define MODEL_MAX_ENTRIES 10      /* holds + raises + regions per thread */
#define MODEL_MAX_REFS 6
#define MODEL_REGIONS 6
#define MODEL_QHANDLES 4
#ifndef MODEL_HISTORY
#define MODEL_HISTORY 48
#endif
#define MODEL_WAIT_SECONDS 20     /* a step that does not end by then hangs */

/* The protected value: who wrote it last, and a running serial. */
typedef struct _MODEL_VALUE {
    ULONG64 Writer;
    ULONG64 Serial;
    ULONG64 Check;
} MODEL_VALUE;

#define MODEL_SIZE sizeof(MODEL_VALUE)

typedef struct _MODEL_LOCK {
    BOOLEAN Live;             /* created and not destroyed / freed */
    BOOLEAN Registry;         /* an instance the registry created */
    BOOLEAN Registered;       /* still under its name */
    int Kind;                 /* WDKM_LOCK_KIND */
    SIZE_T Size;
    PVOID Handle;             /* NULL for a registry instance not yet looked up */
    int Refs;                 /* registry references, all threads */
    MODEL_VALUE Value;        /* what the lock protects, as the model knows it */
    int ExclOwner;            /* thread holding it exclusively (or owning it), -1 */
    int ExclDepth;            /* acquisitions of the exclusive owner */
    int Shared[MODEL_THREADS];/* shared acquisitions per thread */
    int Waiter;               /* thread blocked acquiring it, -1 */
    PVOID DataPointer;        /* the value's address, as first handed out */
    ULONG64 Acquisitions;     /* successful acquisitions (checked build's statistics) */
    ULONG64 Contended;        /* waits that may have found it busy: an upper bound, as a waiter
                                 issued while the lock is held may reach its try only after the
                                 holder's release */
    char Label[40];
} MODEL_LOCK;

enum { ENTRY_HOLD = 1, ENTRY_RAISE, ENTRY_REGION };

typedef struct _MODEL_ENTRY {
    int Type;
    int Lock;                 /* hold */
    BOOLEAN Exclusive;        /* hold: mode */
    BOOLEAN AtDpc;            /* hold: spin AtDpcLevel form */
    BOOLEAN ChangesIrql;      /* raise, or a FAST/SPIN/QSPIN hold that raised */
    KIRQL AcquireIrql;        /* hold: IRQL the acquire was called at */
    KIRQL SavedIrql;          /* raise, FAST/SPIN/QSPIN: IRQL to restore */
    int Handle;               /* QSPIN: handle index */
    int Region;               /* region: index */
    PVOID Data;               /* hold: the value pointer handed out */
} MODEL_ENTRY;

/* One operation for a worker. */
typedef struct _MODEL_CMD {
    int Op;
    int Kind;
    int Form;
    PVOID Handle;
    SIZE_T Size;
    PVOID Arg;                /* queue handle, region, take buffer, other pointer */
    KIRQL Irql;
    LONGLONG Timeout;
    BOOLEAN NullTimeout;
    BOOLEAN NullData;
    BOOLEAN NullOther;
    BOOLEAN NullHandle;
    KPROCESSOR_MODE WaitMode;
    PCSTR Name;
    ULONG Flags;
    PVOID HeldData;           /* release: the value to check before releasing */
    MODEL_VALUE Write;        /* exclusive acquire / create: the value to write */
    int CheckCount;           /* IsOwned queries after the operation */
    PVOID CheckHandle[MODEL_LOCKS];
    int CheckKind[MODEL_LOCKS];
} MODEL_CMD;

typedef struct _MODEL_RESULT {
    NTSTATUS Status;
    PVOID Data;
    PVOID OutHandle;
    KIRQL OldIrqlOut;
    KIRQL IrqlAfter;
    BOOLEAN SeenValid;
    MODEL_VALUE Seen;         /* the value found on entry / before release / taken */
    BOOLEAN BeforeValid;
    MODEL_VALUE Before;
    BOOLEAN Apcs;
    BOOLEAN AllApcs;
    ULONG64 Owned;
    ULONG64 Held;
    BOOLEAN Boolean;
    NTSTATUS Status2;
    WDKM_DIAG_STATISTICS Statistics;
    WDKM_DIAG_SUMMARY Summary;
} MODEL_RESULT;

/*
 * An event the emulation injects into a worker (WdkmHostQueueInterrupt on
 * itself, so that it is delivered at once where NT's masking allows): a DPC
 * at DISPATCH_LEVEL, a special kernel APC at APC_LEVEL or a normal one at
 * PASSIVE_LEVEL, running on the worker's identity. It makes one call and,
 * if that acquired a lock, its release (an event must return with what it
 * took given back).
 */
typedef struct _MODEL_INTERRUPT {
    int Kind;                 /* WDKM_HOST_INTERRUPT */
    MODEL_CMD Sub[2];
    MODEL_RESULT SubResult[2];
    BOOLEAN ReleaseIfAcquired;
    volatile BOOLEAN Ran;
    BOOLEAN SecondRan;
    KIRQL IrqlInside;
} MODEL_INTERRUPT;

typedef struct _MODEL_THREAD {
    int Index;
    WDKM_TEST_THREAD *Thread;
    /* the model */
    KIRQL Irql;
    MODEL_ENTRY Entries[MODEL_MAX_ENTRIES];
    int EntryCount;
    int Refs[MODEL_MAX_REFS];       /* registry instances referenced (with repeats) */
    int RefCount;
    WDKM_REGION Regions[MODEL_REGIONS];
    int RegionState[MODEL_REGIONS];  /* 0 never entered, 1 entered (critical), 2 entered (guarded), 3 left */
    WDKM_LOCK_QUEUE_HANDLE QHandles[MODEL_QHANDLES];
    BOOLEAN QInUse[MODEL_QHANDLES];
    /* blocked in a waiting acquire */
    BOOLEAN Blocked;
    int BlockedLock;
    BOOLEAN BlockedExclusive;
    BOOLEAN BlockedAlertable;
    MODEL_CMD BlockedCmd;
    char BlockedText[240];
    /* the hand-off */
    pthread_mutex_t Mutex;
    pthread_cond_t Cond;
    BOOLEAN HasCmd;
    BOOLEAN Done;
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    int CheckLock[MODEL_LOCKS];     /* the model lock of each IsOwned query */
    MODEL_VALUE TakeBuffer;
    MODEL_INTERRUPT Interrupt;
    /* A masked event queued to be delivered when the thread unmasks. */
    int ProbeKind;
    ULONG ProbeQueued;
    LONG ProbeRan;            /* written by the event on the worker (atomic) */
    LONG ProbeIrql;           /* the IRQL it ran at */
} MODEL_THREAD;

typedef struct _MODEL_RUN {
    ULONG64 Seed;
    ULONG64 Rng;
    ULONG Step;
    ULONG Steps;
    BOOLEAN Failed;
    MODEL_LOCK Locks[MODEL_LOCKS];
    int NameInstance[MODEL_NAMES];
    MODEL_THREAD Threads[MODEL_THREADS];
    ULONG64 Serial;
    char History[MODEL_HISTORY][200];
    ULONG HistoryCount;
    ULONG Stats[32];
    ULONG Deferred;           /* registry ERESOURCEs whose last dereference was at
                                 DISPATCH_LEVEL: alive until the next registry writer
                                 call (or Destroy) frees them (reference.md) */
    ULONG BaseResources;      /* the emulation's live ERESOURCEs before the walk */
    ULONG BaseLiveLocks;      /* the validator's summary before the walk */
    ULONG BaseHeldLocks;
    BOOLEAN Inject;           /* random injection runs under the walk */
    BOOLEAN OwnInjection;     /* ... started by this walk (model.injected_walk) */
    BOOLEAN InEvent;          /* verifying calls made inside an injected event */
} MODEL_RUN;

static const PCSTR ModelNames[MODEL_NAMES] = { "model.a", "model.b", "model.c", "model.d" };

static const PCSTR ModelKindNames[] = {
    "?", "KMUTEX", "FAST_MUTEX", "SPIN_LOCK", "QUEUED_SPIN_LOCK", "GUARDED_MUTEX",
    "RESOURCE", "PUSH_LOCK"
};

enum {
    OP_CREATE = 1, OP_ACQUIRE, OP_RELEASE, OP_RAISE, OP_LOWER, OP_REGION_ENTER, OP_REGION_LEAVE,
    OP_DESTROY, OP_TAKE, OP_REGISTER, OP_REFERENCE, OP_DEREFERENCE, OP_UNREGISTER,
    OP_ISOWNED_NULL, OP_NONE_HELD, OP_QUERY, OP_INTERRUPT, OP_PROBE, OP_DIAG_STATS, OP_QUIT
};

/* Acquire forms. */
enum {
    FORM_WAIT = 0, FORM_TRY, FORM_SHARED, FORM_TRY_SHARED, FORM_AT_DPC, FORM_TIMEOUT,
    FORM_ALERTABLE
};

/* Release forms. */
enum { REL_NORMAL = 0, REL_FROM_DPC };

#define STATUS_MODEL_NONE ((NTSTATUS)0x7FFFFFFF)

/* Run->Stats beyond the op codes. */
enum { STAT_WAITS = 20, STAT_TIMEOUTS, STAT_REFUSED, STAT_DPC, STAT_GRANTED, STAT_ALERTS,
       STAT_INJECTED, STAT_INJECTED_OPS, STAT_DEFERRED };

static ULONG64
ModelRandom(MODEL_RUN *Run)
{
    /* xorshift64*: the seed alone decides the walk. */
    Run->Rng ^= Run->Rng >> 12;
    Run->Rng ^= Run->Rng << 25;
    Run->Rng ^= Run->Rng >> 27;
    return Run->Rng * 0x2545F4914F6CDD1DULL;
}

static ULONG
ModelPick(MODEL_RUN *Run, ULONG Count)
{
    return Count == 0 ? 0 : (ULONG)(ModelRandom(Run) % Count);
}

static BOOLEAN
ModelChance(MODEL_RUN *Run, ULONG Percent)
{
    return ModelPick(Run, 100) < Percent;
}

static MODEL_VALUE
ModelNewValue(MODEL_RUN *Run, int Thread)
{
    MODEL_VALUE Value;

    Run->Serial += 1;
    Value.Writer = 0x5EED000000000000ULL | ((ULONG64)(Thread + 1) << 32) | (ULONG64)Run->Step;
    Value.Serial = Run->Serial;
    Value.Check = ~(Value.Writer ^ (Value.Serial * 0x9E3779B97F4A7C15ULL));
    return Value;
}

static BOOLEAN
ModelSameValue(const MODEL_VALUE *A, const MODEL_VALUE *B)
{
    return A->Writer == B->Writer && A->Serial == B->Serial && A->Check == B->Check;
}

/* ---------------------------------------------------------------------- */
/* History and failure                                                     */
/* ---------------------------------------------------------------------- */

static MODEL_RUN *ModelCurrentRun;
/* What the worker on this thread is doing, for reports of injected events. */
static _Thread_local int ModelWorkerIndex = -1;
static _Thread_local volatile int ModelWorkerOp;
static _Thread_local volatile int ModelWorkerKind;
static _Thread_local volatile int ModelInApcMutexCall;   /* an event beneath is in a call on ApcMutex */
static VOID ModelPrintAsyncState(VOID);

static VOID
ModelNote(MODEL_RUN *Run, PCSTR Format, ...)
{
    va_list Arguments;
    char *Line = Run->History[Run->HistoryCount % MODEL_HISTORY];

    va_start(Arguments, Format);
    vsnprintf(Line, sizeof(Run->History[0]), Format, Arguments);
    va_end(Arguments);
    Run->HistoryCount += 1;
}

static VOID
ModelPrintHistory(MODEL_RUN *Run)
{
    ULONG First = Run->HistoryCount > MODEL_HISTORY ? Run->HistoryCount - MODEL_HISTORY : 0;
    ULONG Index;

    printf("    model: last %u operations (oldest first):\n", (unsigned)(Run->HistoryCount - First));
    for (Index = First; Index < Run->HistoryCount; Index += 1) {
        printf("    model:   %s\n", Run->History[Index % MODEL_HISTORY]);
    }
}

static VOID
ModelFailure(MODEL_RUN *Run, PCSTR File, int Line, PCSTR Format, ...)
{
    va_list Arguments;
    char Message[512];

    va_start(Arguments, Format);
    vsnprintf(Message, sizeof(Message), Format, Arguments);
    va_end(Arguments);
    if (!Run->Failed) {
        Run->Failed = TRUE;
        WdkmTestFail(File, Line, "model: seed %llu step %u: %s", (unsigned long long)Run->Seed,
                     (unsigned)Run->Step, Message);
        ModelPrintHistory(Run);
        ModelPrintAsyncState();
        printf("    model: replay: WDKM_MODEL_SEED=%llu WDKM_MODEL_STEPS=%u wdkm_unit_tests%s model.%s\n",
               (unsigned long long)Run->Seed, (unsigned)Run->Steps, WDKM_CHECKED ? "_checked" : "",
               Run->Inject ? "injected_walk" : "walk");
    }
}

#define MODEL_FAIL(Run, ...) ModelFailure((Run), __FILE__, __LINE__, __VA_ARGS__)

/* A hang or a bugcheck leaves threads that cannot be joined: report and leave. */
static VOID
ModelFatal(MODEL_RUN *Run, PCSTR Why)
{
    MODEL_FAIL(Run, "%s", Why);
    printf("FAIL model (fatal: threads cannot be recovered; exiting)\n");
    fflush(stdout);
    _exit(1);
}

static VOID
ModelBugcheckHandler(const WDKM_HOST_BUGCHECK *Bugcheck, PVOID Context)
{
    MODEL_RUN *Run = (MODEL_RUN *)Context;
    char Why[200];

    snprintf(Why, sizeof(Why), "simulated bugcheck 0x%08X %s (%p, %p, %p, %p)",
             (unsigned)Bugcheck->Code, WdkmHostBugcheckName(Bugcheck->Code),
             (void *)Bugcheck->Parameter[0], (void *)Bugcheck->Parameter[1],
             (void *)Bugcheck->Parameter[2], (void *)Bugcheck->Parameter[3]);
    ModelFatal(Run, Why);
}

static VOID
ModelQuietSink(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    UNREFERENCED_PARAMETER(ComponentId);
    UNREFERENCED_PARAMETER(Level);
    UNREFERENCED_PARAMETER(Message);
    UNREFERENCED_PARAMETER(Context);
}

static PCSTR
ModelStatusText(NTSTATUS Status)
{
    return Status == STATUS_MODEL_NONE ? "-" : WdkmStatusName(Status);
}

/* ---------------------------------------------------------------------- */
/* The worker: one library call per command, then its own queries          */
/* ---------------------------------------------------------------------- */

static BOOLEAN
ModelIsOwned(int Kind, PVOID Handle)
{
    switch (Kind) {
    case WdkmLockKindKMutex: return WdkmKMutexIsOwned((PWDKM_KMUTEX)Handle);
    case WdkmLockKindFastMutex: return WdkmFastMutexIsOwned((PWDKM_FAST_MUTEX)Handle);
    case WdkmLockKindSpinLock: return WdkmSpinLockIsOwned((PWDKM_SPIN_LOCK)Handle);
    case WdkmLockKindQueuedSpinLock:
        return WdkmQueuedSpinLockIsOwned((PWDKM_QUEUED_SPIN_LOCK)Handle);
    case WdkmLockKindGuardedMutex: return WdkmGuardedMutexIsOwned((PWDKM_GUARDED_MUTEX)Handle);
    case WdkmLockKindResource: return WdkmResourceIsOwnedExclusive((PWDKM_RESOURCE)Handle);
    case WdkmLockKindPushLock: return WdkmPushLockIsOwnedExclusive((PWDKM_PUSH_LOCK)Handle);
    default: return FALSE;
    }
}

static NTSTATUS
ModelCreate(int Kind, const VOID *Initial, SIZE_T Size, PVOID *Out)
{
    switch (Kind) {
    case WdkmLockKindKMutex: return WdkmKMutexCreate(Initial, Size, (PWDKM_KMUTEX *)Out);
    case WdkmLockKindFastMutex: return WdkmFastMutexCreate(Initial, Size, (PWDKM_FAST_MUTEX *)Out);
    case WdkmLockKindSpinLock: return WdkmSpinLockCreate(Initial, Size, (PWDKM_SPIN_LOCK *)Out);
    case WdkmLockKindQueuedSpinLock:
        return WdkmQueuedSpinLockCreate(Initial, Size, (PWDKM_QUEUED_SPIN_LOCK *)Out);
    case WdkmLockKindGuardedMutex:
        return WdkmGuardedMutexCreate(Initial, Size, (PWDKM_GUARDED_MUTEX *)Out);
    case WdkmLockKindResource: return WdkmResourceCreate(Initial, Size, (PWDKM_RESOURCE *)Out);
    case WdkmLockKindPushLock: return WdkmPushLockCreate(Initial, Size, (PWDKM_PUSH_LOCK *)Out);
    default: return STATUS_MODEL_NONE;
    }
}

static NTSTATUS
ModelDestroy(int Kind, PVOID Handle)
{
    switch (Kind) {
    case WdkmLockKindKMutex: return WdkmKMutexDestroy((PWDKM_KMUTEX)Handle);
    case WdkmLockKindFastMutex: return WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)Handle);
    case WdkmLockKindSpinLock: return WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Handle);
    case WdkmLockKindQueuedSpinLock: return WdkmQueuedSpinLockDestroy((PWDKM_QUEUED_SPIN_LOCK)Handle);
    case WdkmLockKindGuardedMutex: return WdkmGuardedMutexDestroy((PWDKM_GUARDED_MUTEX)Handle);
    case WdkmLockKindResource: return WdkmResourceDestroy((PWDKM_RESOURCE)Handle);
    case WdkmLockKindPushLock: return WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Handle);
    default: return STATUS_MODEL_NONE;
    }
}

static NTSTATUS
ModelTake(int Kind, PVOID Handle, SIZE_T Size, PVOID Value)
{
    switch (Kind) {
    case WdkmLockKindKMutex: return WdkmKMutexTake((PWDKM_KMUTEX)Handle, Size, Value);
    case WdkmLockKindFastMutex: return WdkmFastMutexTake((PWDKM_FAST_MUTEX)Handle, Size, Value);
    case WdkmLockKindSpinLock: return WdkmSpinLockTake((PWDKM_SPIN_LOCK)Handle, Size, Value);
    case WdkmLockKindQueuedSpinLock:
        return WdkmQueuedSpinLockTake((PWDKM_QUEUED_SPIN_LOCK)Handle, Size, Value);
    case WdkmLockKindGuardedMutex:
        return WdkmGuardedMutexTake((PWDKM_GUARDED_MUTEX)Handle, Size, Value);
    case WdkmLockKindResource: return WdkmResourceTake((PWDKM_RESOURCE)Handle, Size, Value);
    case WdkmLockKindPushLock: return WdkmPushLockTake((PWDKM_PUSH_LOCK)Handle, Size, Value);
    default: return STATUS_MODEL_NONE;
    }
}

static NTSTATUS
ModelAcquireCall(const MODEL_CMD *Cmd, MODEL_RESULT *Result, PVOID *Data)
{
    PVOID *DataArgument = Cmd->NullData ? NULL : Data;
    PKIRQL OldIrql = Cmd->NullOther ? NULL : &Result->OldIrqlOut;
    PWDKM_LOCK_QUEUE_HANDLE QHandle = Cmd->NullOther ? NULL : (PWDKM_LOCK_QUEUE_HANDLE)Cmd->Arg;
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = Cmd->Timeout;
    switch (Cmd->Kind) {
    case WdkmLockKindKMutex:
        switch (Cmd->Form) {
        case FORM_WAIT: return WdkmKMutexAcquire((PWDKM_KMUTEX)Cmd->Handle, Cmd->Size, DataArgument);
        case FORM_TRY: return WdkmKMutexTryAcquire((PWDKM_KMUTEX)Cmd->Handle, Cmd->Size, DataArgument);
        case FORM_TIMEOUT:
            return WdkmKMutexAcquireTimeout((PWDKM_KMUTEX)Cmd->Handle, Cmd->Size,
                                            Cmd->NullTimeout ? NULL : &Timeout, DataArgument);
        case FORM_ALERTABLE:
            return WdkmKMutexAcquireAlertable((PWDKM_KMUTEX)Cmd->Handle, Cmd->Size, Cmd->WaitMode,
                                              Cmd->NullTimeout ? NULL : &Timeout, DataArgument);
        default: break;
        }
        break;
    case WdkmLockKindFastMutex:
        if (Cmd->Form == FORM_TRY) {
            return WdkmFastMutexTryAcquire((PWDKM_FAST_MUTEX)Cmd->Handle, Cmd->Size, DataArgument);
        }
        return WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Cmd->Handle, Cmd->Size, DataArgument);
    case WdkmLockKindSpinLock:
        switch (Cmd->Form) {
        case FORM_WAIT:
            return WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Cmd->Handle, Cmd->Size, OldIrql, DataArgument);
        case FORM_TRY:
            return WdkmSpinLockTryAcquire((PWDKM_SPIN_LOCK)Cmd->Handle, Cmd->Size, OldIrql, DataArgument);
        case FORM_AT_DPC:
            return WdkmSpinLockAcquireAtDpcLevel((PWDKM_SPIN_LOCK)Cmd->Handle, Cmd->Size, DataArgument);
        default: break;
        }
        break;
    case WdkmLockKindQueuedSpinLock:
        if (Cmd->Form == FORM_AT_DPC) {
            return WdkmQueuedSpinLockAcquireAtDpcLevel((PWDKM_QUEUED_SPIN_LOCK)Cmd->Handle, Cmd->Size,
                                                       QHandle, DataArgument);
        }
        return WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Cmd->Handle, Cmd->Size, QHandle,
                                         DataArgument);
    case WdkmLockKindGuardedMutex:
        if (Cmd->Form == FORM_TRY) {
            return WdkmGuardedMutexTryAcquire((PWDKM_GUARDED_MUTEX)Cmd->Handle, Cmd->Size, DataArgument);
        }
        return WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)Cmd->Handle, Cmd->Size, DataArgument);
    case WdkmLockKindResource:
        switch (Cmd->Form) {
        case FORM_WAIT:
            return WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Cmd->Handle, Cmd->Size, DataArgument);
        case FORM_TRY:
            return WdkmResourceTryAcquireExclusive((PWDKM_RESOURCE)Cmd->Handle, Cmd->Size, DataArgument);
        case FORM_SHARED:
            return WdkmResourceAcquireShared((PWDKM_RESOURCE)Cmd->Handle, Cmd->Size,
                                             (const VOID **)DataArgument);
        case FORM_TRY_SHARED:
            return WdkmResourceTryAcquireShared((PWDKM_RESOURCE)Cmd->Handle, Cmd->Size,
                                                (const VOID **)DataArgument);
        default: break;
        }
        break;
    case WdkmLockKindPushLock:
        if (Cmd->Form == FORM_SHARED) {
            return WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)Cmd->Handle, Cmd->Size,
                                             (const VOID **)DataArgument);
        }
        return WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)Cmd->Handle, Cmd->Size, DataArgument);
    default: break;
    }
    return STATUS_MODEL_NONE;
}

static NTSTATUS
ModelReleaseCall(const MODEL_CMD *Cmd)
{
    switch (Cmd->Kind) {
    case WdkmLockKindKMutex: return WdkmKMutexRelease((PWDKM_KMUTEX)Cmd->Handle);
    case WdkmLockKindFastMutex: return WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Cmd->Handle);
    case WdkmLockKindSpinLock:
        if (Cmd->Form == REL_FROM_DPC) {
            return WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)Cmd->Handle);
        }
        return WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Cmd->Handle, Cmd->Irql);
    case WdkmLockKindQueuedSpinLock:
        return WdkmQueuedSpinLockRelease((PWDKM_LOCK_QUEUE_HANDLE)Cmd->Arg);
    case WdkmLockKindGuardedMutex: return WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Cmd->Handle);
    case WdkmLockKindResource: return WdkmResourceRelease((PWDKM_RESOURCE)Cmd->Handle);
    case WdkmLockKindPushLock: return WdkmPushLockRelease((PWDKM_PUSH_LOCK)Cmd->Handle);
    default: return STATUS_MODEL_NONE;
    }
}

static BOOLEAN
ModelExclusiveForm(const MODEL_CMD *Cmd)
{
    return Cmd->Form != FORM_SHARED && Cmd->Form != FORM_TRY_SHARED;
}

#ifdef WDKM_HOST_INTERRUPT_KINDS
static WDKM_HOST_INTERRUPT_ROUTINE ModelInterruptRoutine;
static WDKM_HOST_INTERRUPT_ROUTINE ModelProbeRoutine;
#endif

static VOID
ModelExecute(MODEL_THREAD *Thread, const MODEL_CMD *Cmd, MODEL_RESULT *Result)
{
    PVOID Data = (PVOID)(ULONG_PTR)0x1;     /* must become NULL on any failure */
    KIRQL Old;
    int Index;

    memset(Result, 0, sizeof(*Result));
    Result->Status = STATUS_MODEL_NONE;
    Result->OldIrqlOut = 0xEE;
    switch (Cmd->Op) {
    case OP_CREATE:
        Result->OutHandle = (PVOID)(ULONG_PTR)0x1;
        Result->Status = ModelCreate(Cmd->Kind, Cmd->NullData ? NULL : &Cmd->Write, Cmd->Size,
                                     Cmd->NullOther ? NULL : &Result->OutHandle);
        break;
    case OP_ACQUIRE:
        Result->Status = ModelAcquireCall(Cmd, Result, &Data);
        Result->Data = Data;
        if (Result->Status == STATUS_SUCCESS && Data != NULL && Data != (PVOID)(ULONG_PTR)0x1) {
            /* The holder checks the last writer's pattern, then writes its own. */
            memcpy(&Result->Seen, Data, sizeof(MODEL_VALUE));
            Result->SeenValid = TRUE;
            if (ModelExclusiveForm(Cmd)) {
                memcpy(Data, &Cmd->Write, sizeof(MODEL_VALUE));
            }
        }
        break;
    case OP_RELEASE:
        if (Cmd->HeldData != NULL) {
            memcpy(&Result->Before, Cmd->HeldData, sizeof(MODEL_VALUE));
            Result->BeforeValid = TRUE;
        }
        Result->Status = ModelReleaseCall(Cmd);
        break;
    case OP_RAISE:
        KeRaiseIrql(Cmd->Irql, &Old);
        Result->OldIrqlOut = Old;
        Result->Status = STATUS_SUCCESS;
        break;
    case OP_LOWER:
        KeLowerIrql(Cmd->Irql);
        Result->Status = STATUS_SUCCESS;
        break;
    case OP_REGION_ENTER:
        if (Cmd->Form == 2) {
            Result->Status = WdkmRegionEnterGuarded((PWDKM_REGION)Cmd->Arg);
        } else {
            Result->Status = WdkmRegionEnterCritical((PWDKM_REGION)Cmd->Arg);
        }
        break;
    case OP_REGION_LEAVE:
        Result->Status = WdkmRegionLeave((PWDKM_REGION)Cmd->Arg);
        break;
    case OP_DESTROY:
        Result->Status = ModelDestroy(Cmd->Kind, Cmd->Handle);
        break;
    case OP_TAKE:
        if (Cmd->Arg != NULL) {
            memset(Cmd->Arg, 0xA5, MODEL_SIZE);
        }
        Result->Status = ModelTake(Cmd->Kind, Cmd->Handle, Cmd->Size, Cmd->Arg);
        if (Cmd->Arg != NULL) {
            memcpy(&Result->Seen, Cmd->Arg, sizeof(MODEL_VALUE));
            Result->SeenValid = TRUE;
        }
        break;
    case OP_REGISTER:
        Result->Status = WdkmGrtRegister(Cmd->Name, (WDKM_LOCK_KIND)Cmd->Kind,
                                         Cmd->NullData ? NULL : &Cmd->Write, Cmd->Size, Cmd->Flags);
        break;
    case OP_REFERENCE:
        Result->OutHandle = (PVOID)(ULONG_PTR)0x1;
        Result->Status = WdkmGrtReference(Cmd->Name, (WDKM_LOCK_KIND)Cmd->Kind, Cmd->Size,
                                          Cmd->NullOther ? NULL : &Result->OutHandle);
        break;
    case OP_DEREFERENCE:
        Result->Status = WdkmGrtDereference(Cmd->Handle);
        break;
    case OP_UNREGISTER:
        Result->Status = WdkmGrtUnregister(Cmd->Name);
        break;
    case OP_ISOWNED_NULL:
        Result->Boolean = ModelIsOwned(Cmd->Kind, NULL);
        Result->Status = STATUS_SUCCESS;
        break;
    case OP_NONE_HELD:
        Result->Status = WdkmDiagCheckNoneHeld("model checkpoint");
        break;
    case OP_INTERRUPT:
#ifdef WDKM_HOST_INTERRUPT_KINDS
        ((MODEL_INTERRUPT *)Cmd->Arg)->Ran = FALSE;
        WdkmHostQueueInterrupt(KeGetCurrentThread(), (WDKM_HOST_INTERRUPT)((MODEL_INTERRUPT *)Cmd->Arg)->Kind,
                               ModelInterruptRoutine, Cmd->Arg);
        Result->Boolean = ((MODEL_INTERRUPT *)Cmd->Arg)->Ran;
#endif
        Result->Status = STATUS_SUCCESS;
        break;
    case OP_PROBE:
#ifdef WDKM_HOST_INTERRUPT_KINDS
        WdkmHostQueueInterrupt(KeGetCurrentThread(), (WDKM_HOST_INTERRUPT)Cmd->Form, ModelProbeRoutine, Cmd->Arg);
#endif
        Result->Status = STATUS_SUCCESS;
        break;
    case OP_DIAG_STATS:
        memset(&Result->Statistics, 0, sizeof(Result->Statistics));
        memset(&Result->Summary, 0, sizeof(Result->Summary));
        Result->Status = WdkmDiagQueryLockStatistics(Cmd->Handle, &Result->Statistics);
        Result->Status2 = WdkmDiagQuerySummary(&Result->Summary);
        break;
    case OP_QUERY:
    case OP_QUIT:
        Result->Status = STATUS_SUCCESS;
        break;
    default:
        break;
    }
    /* What the thread itself sees afterwards. */
    Result->IrqlAfter = KeGetCurrentIrql();
    Result->Apcs = KeAreApcsDisabled();
    Result->AllApcs = KeAreAllApcsDisabled();
    for (Index = 0; Index < Cmd->CheckCount; Index += 1) {
        if (ModelIsOwned(Cmd->CheckKind[Index], Cmd->CheckHandle[Index])) {
            Result->Owned |= 1ULL << Index;
        }
#if WDKM_CHECKED
        if (WdkmDiagIsHeld(Cmd->CheckHandle[Index])) {
            Result->Held |= 1ULL << Index;
        }
#endif
    }
    UNREFERENCED_PARAMETER(Thread);
}

#ifdef WDKM_HOST_INTERRUPT_KINDS
/* Runs on the interrupted worker, at the event's IRQL. */
static VOID
ModelInterruptRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    MODEL_INTERRUPT *Interrupt = (MODEL_INTERRUPT *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Interrupt->IrqlInside = KeGetCurrentIrql();
    ModelExecute(NULL, &Interrupt->Sub[0], &Interrupt->SubResult[0]);
    Interrupt->SecondRan = FALSE;
    if (Interrupt->ReleaseIfAcquired && Interrupt->SubResult[0].Status == STATUS_SUCCESS) {
        MODEL_CMD *Release = &Interrupt->Sub[1];
        const MODEL_CMD *Acquire = &Interrupt->Sub[0];

        *Release = *Acquire;
        Release->Op = OP_RELEASE;
        Release->Form = Acquire->Form == FORM_AT_DPC ? REL_FROM_DPC : REL_NORMAL;
        Release->Irql = Interrupt->SubResult[0].OldIrqlOut;
        Release->HeldData = Interrupt->SubResult[0].Data;
        ModelExecute(NULL, Release, &Interrupt->SubResult[1]);
        Interrupt->SecondRan = TRUE;
    }
    Interrupt->Ran = TRUE;
}

/* A masked event: it only notes that it ran, and at which IRQL. */
static VOID
ModelProbeRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    MODEL_THREAD *Thread = (MODEL_THREAD *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    __atomic_store_n(&Thread->ProbeIrql, (LONG)KeGetCurrentIrql(), __ATOMIC_RELAXED);
    __atomic_fetch_add(&Thread->ProbeRan, 1, __ATOMIC_RELEASE);
}
#endif

static VOID
ModelWorker(PVOID Context, ULONG Unused)
{
    MODEL_THREAD *Thread = (MODEL_THREAD *)Context;
    BOOLEAN Quit = FALSE;

    UNREFERENCED_PARAMETER(Unused);
    while (!Quit) {
        MODEL_CMD Cmd;
        MODEL_RESULT Result;

        pthread_mutex_lock(&Thread->Mutex);
        while (!Thread->HasCmd) {
            pthread_cond_wait(&Thread->Cond, &Thread->Mutex);
        }
        Cmd = Thread->Cmd;
        Thread->HasCmd = FALSE;
        pthread_mutex_unlock(&Thread->Mutex);

        ModelWorkerIndex = Thread->Index;
        ModelWorkerKind = Cmd.Kind;
        ModelWorkerOp = Cmd.Op;
        ModelExecute(Thread, &Cmd, &Result);
        ModelWorkerOp = 0;
        Quit = Cmd.Op == OP_QUIT;

        pthread_mutex_lock(&Thread->Mutex);
        Thread->Result = Result;
        Thread->Done = TRUE;
        pthread_cond_broadcast(&Thread->Cond);
        pthread_mutex_unlock(&Thread->Mutex);
    }
}

static VOID
ModelIssue(MODEL_THREAD *Thread, const MODEL_CMD *Cmd)
{
    pthread_mutex_lock(&Thread->Mutex);
    Thread->Cmd = *Cmd;
    Thread->Done = FALSE;
    Thread->HasCmd = TRUE;
    pthread_cond_broadcast(&Thread->Cond);
    pthread_mutex_unlock(&Thread->Mutex);
}

/* Waits for the worker's result; FALSE if it did not come in time. */
static BOOLEAN
ModelAwait(MODEL_THREAD *Thread, MODEL_RESULT *Result, ULONG Seconds)
{
    struct timespec Deadline;
    BOOLEAN Done;

    clock_gettime(CLOCK_REALTIME, &Deadline);
    Deadline.tv_sec += Seconds;
    pthread_mutex_lock(&Thread->Mutex);
    while (!Thread->Done) {
        if (pthread_cond_timedwait(&Thread->Cond, &Thread->Mutex, &Deadline) == ETIMEDOUT) {
            break;
        }
    }
    Done = Thread->Done;
    if (Done) {
        *Result = Thread->Result;
        Thread->Done = FALSE;
    }
    pthread_mutex_unlock(&Thread->Mutex);
    return Done;
}

static BOOLEAN
ModelPeekDone(MODEL_THREAD *Thread)
{
    BOOLEAN Done;

    pthread_mutex_lock(&Thread->Mutex);
    Done = Thread->Done;
    pthread_mutex_unlock(&Thread->Mutex);
    return Done;
}

/* ---------------------------------------------------------------------- */
/* The conductor: model queries                                            */
/* ---------------------------------------------------------------------- */

typedef struct _MODEL_EXPECT {
    NTSTATUS Allowed[2];      /* the documented status (a second one where the docs allow two) */
    BOOLEAN Block;            /* a waiting acquire that must wait */
    BOOLEAN Skip;             /* not a step the walk may take */
} MODEL_EXPECT;

static VOID
ModelExpect(MODEL_EXPECT *Expect, NTSTATUS Status)
{
    Expect->Allowed[0] = Status;
    Expect->Allowed[1] = STATUS_MODEL_NONE;
    Expect->Block = FALSE;
    Expect->Skip = FALSE;
}

static BOOLEAN
ModelHoldsAny(const MODEL_LOCK *Lock)
{
    int Index;

    if (Lock->ExclOwner >= 0) {
        return TRUE;
    }
    for (Index = 0; Index < MODEL_THREADS; Index += 1) {
        if (Lock->Shared[Index] > 0) {
            return TRUE;
        }
    }
    return FALSE;
}

static BOOLEAN
ModelHeldByOthers(const MODEL_LOCK *Lock, int Thread)
{
    int Index;

    if (Lock->ExclOwner >= 0 && Lock->ExclOwner != Thread) {
        return TRUE;
    }
    for (Index = 0; Index < MODEL_THREADS; Index += 1) {
        if (Index != Thread && Lock->Shared[Index] > 0) {
            return TRUE;
        }
    }
    return FALSE;
}

static BOOLEAN
ModelHeldBy(const MODEL_LOCK *Lock, int Thread)
{
    return Lock->ExclOwner == Thread || Lock->Shared[Thread] > 0;
}

/*
 * reference.md, WdkmGrtDereference: at APC_LEVEL and above, an exclusive
 * hold taken below the caller's IRQL, and any shared hold, belong to the
 * code a DPC or special kernel APC interrupted, not to the caller. Spin
 * locks are held at DISPATCH_LEVEL whoever took them, a FAST_MUTEX at
 * APC_LEVEL; an ERESOURCE or push lock counts as taken at PASSIVE_LEVEL
 * (they leave the IRQL alone), and so does a KMUTEX taken at APC_LEVEL
 * (its code may lower the IRQL under it); a KMUTEX or guarded mutex
 * otherwise at the IRQL of its outermost acquisition.
 */
static BOOLEAN
ModelHeldHere(const MODEL_RUN *Run, const MODEL_LOCK *Lock, const MODEL_THREAD *Thread)
{
    int Index;

    if (Thread->Irql < APC_LEVEL) {
        return ModelHeldBy(Lock, Thread->Index);
    }
    if (Lock->ExclOwner != Thread->Index) {
        return FALSE;
    }
    switch (Lock->Kind) {
    case WdkmLockKindSpinLock:
    case WdkmLockKindQueuedSpinLock:
        return TRUE;
    case WdkmLockKindFastMutex:
        return Thread->Irql <= APC_LEVEL;
    case WdkmLockKindResource:
    case WdkmLockKindPushLock:
        return FALSE;
    default:
        break;
    }
    for (Index = 0; Index < Thread->EntryCount; Index += 1) {
        const MODEL_ENTRY *Entry = &Thread->Entries[Index];

        if (Entry->Type == ENTRY_HOLD && &Run->Locks[Entry->Lock] == Lock) {
            KIRQL Taken = Entry->AcquireIrql;

            if (Lock->Kind == WdkmLockKindKMutex && Taken == APC_LEVEL) {
                Taken = PASSIVE_LEVEL;
            }
            return Taken >= Thread->Irql;
        }
    }
    return FALSE;
}

#if WDKM_CHECKED
/*
 * diagnostics.md: at DISPATCH_LEVEL (and above) the running code is a DPC
 * unless the thread holds a spin lock that raised it there; a DPC's
 * WdkmDiagIsHeld sees its own holds and the interrupted thread's exclusive
 * ones only.
 */
static BOOLEAN
ModelInDpc(const MODEL_RUN *Run, const MODEL_THREAD *Thread)
{
    int Index;

    if (Thread->Irql < DISPATCH_LEVEL) {
        return FALSE;
    }
    for (Index = 0; Index < Thread->EntryCount; Index += 1) {
        const MODEL_ENTRY *Entry = &Thread->Entries[Index];
        int Kind;

        if (Entry->Type != ENTRY_HOLD) {
            continue;
        }
        Kind = Run->Locks[Entry->Lock].Kind;
        if ((Kind == WdkmLockKindSpinLock || Kind == WdkmLockKindQueuedSpinLock) &&
            Entry->AcquireIrql < DISPATCH_LEVEL) {
            return FALSE;               /* the thread raised it itself */
        }
    }
    return TRUE;
}

static BOOLEAN
ModelDiagHeldBy(const MODEL_RUN *Run, const MODEL_LOCK *Lock, const MODEL_THREAD *Thread)
{
    return ModelInDpc(Run, Thread) ? Lock->ExclOwner == Thread->Index
                                   : ModelHeldBy(Lock, Thread->Index);
}
#endif

/* May Thread wait for Lock? Only behind holders that are not waiting
   themselves (no chains, so no cycles), and one waiter per lock. */
static BOOLEAN
ModelMayWait(MODEL_RUN *Run, const MODEL_LOCK *Lock)
{
    int Index;

    if (Lock->Waiter >= 0) {
        return FALSE;
    }
    for (Index = 0; Index < MODEL_THREADS; Index += 1) {
        if ((Lock->ExclOwner == Index || Lock->Shared[Index] > 0) && Run->Threads[Index].Blocked) {
            return FALSE;
        }
    }
    return TRUE;
}

static BOOLEAN
ModelIrqlChanging(int Kind, BOOLEAN AtDpc)
{
    return Kind == WdkmLockKindFastMutex ||
           ((Kind == WdkmLockKindSpinLock || Kind == WdkmLockKindQueuedSpinLock) && !AtDpc);
}

static PCSTR
ModelIrqlName(KIRQL Irql)
{
    switch (Irql) {
    case PASSIVE_LEVEL: return "PASSIVE";
    case APC_LEVEL: return "APC";
    case DISPATCH_LEVEL: return "DISPATCH";
    case HIGH_LEVEL: return "HIGH";
    default: return "IRQL?";
    }
}

static int
ModelLockIndex(MODEL_RUN *Run, const MODEL_LOCK *Lock)
{
    return (int)(Lock - Run->Locks);
}

/* The locks Thread may name: live standalone ones, and registry instances
   it holds a reference on. */
static int
ModelCandidates(MODEL_RUN *Run, MODEL_THREAD *Thread, int *Out)
{
    int Count = 0;
    int Index;

    for (Index = 0; Index < MODEL_STANDALONE; Index += 1) {
        if (Run->Locks[Index].Live) {
            Out[Count++] = Index;
        }
    }
    for (Index = 0; Index < Thread->RefCount; Index += 1) {
        int Lock = Thread->Refs[Index];
        int Seen;
        BOOLEAN Duplicate = FALSE;

        for (Seen = 0; Seen < Count; Seen += 1) {
            Duplicate = Duplicate || Out[Seen] == Lock;
        }
        if (!Duplicate) {
            Out[Count++] = Lock;
        }
    }
    return Count;
}

/* The IsOwned queries the worker makes after the operation. Exclude: a lock
   the operation may free. Narrow: only what the thread holds or references
   (for a waiting step, which ends when other threads may have freed locks). */
static VOID
ModelBuildChecks(MODEL_RUN *Run, MODEL_THREAD *Thread, MODEL_CMD *Cmd, int Exclude, BOOLEAN Narrow)
{
    int Candidates[MODEL_LOCKS];
    int Count = ModelCandidates(Run, Thread, Candidates);
    int Index;
    int Used = 0;

    for (Index = 0; Index < Count && Used < MODEL_LOCKS; Index += 1) {
        MODEL_LOCK *Lock = &Run->Locks[Candidates[Index]];

        if (Candidates[Index] == Exclude || Lock->Handle == NULL) {
            continue;
        }
        if (Narrow && !Lock->Registry && !ModelHeldBy(Lock, Thread->Index) &&
            Lock->Waiter != Thread->Index) {
            continue;
        }
        Cmd->CheckHandle[Used] = Lock->Handle;
        Cmd->CheckKind[Used] = Lock->Kind;
        Thread->CheckLock[Used] = Candidates[Index];
        Used += 1;
    }
    Cmd->CheckCount = Used;
}

static BOOLEAN
ModelStatusAllowed(const MODEL_EXPECT *Expect, NTSTATUS Status)
{
    return Status == Expect->Allowed[0] ||
           (Expect->Allowed[1] != STATUS_MODEL_NONE && Status == Expect->Allowed[1]);
}

static VOID
ModelRunSync(MODEL_RUN *Run, MODEL_THREAD *Thread, const MODEL_CMD *Cmd, MODEL_RESULT *Result,
             PCSTR Text)
{
    char Why[300];

    ModelIssue(Thread, Cmd);
    if (!ModelAwait(Thread, Result, MODEL_WAIT_SECONDS)) {
        snprintf(Why, sizeof(Why), "hang: %s did not return in %d s", Text, MODEL_WAIT_SECONDS);
        ModelFatal(Run, Why);
    }
}

/* Records the step and checks its status. */
static BOOLEAN
ModelCheckStatus(MODEL_RUN *Run, const MODEL_EXPECT *Expect, NTSTATUS Actual, PCSTR Text)
{
    ModelNote(Run, "%5u %s -> %s", (unsigned)Run->Step, Text, ModelStatusText(Actual));
    if (Actual == STATUS_TIMEOUT) {
        Run->Stats[STAT_TIMEOUTS] += 1;
    } else if (!NT_SUCCESS(Actual)) {
        Run->Stats[STAT_REFUSED] += 1;
    }
    if (strstr(Text, "a DPC") != NULL) {
        Run->Stats[STAT_DPC] += 1;
    }
    if (!ModelStatusAllowed(Expect, Actual)) {
        MODEL_FAIL(Run, "%s returned %s, the documentation says %s%s%s", Text, ModelStatusText(Actual),
                   ModelStatusText(Expect->Allowed[0]),
                   Expect->Allowed[1] != STATUS_MODEL_NONE ? " or " : "",
                   Expect->Allowed[1] != STATUS_MODEL_NONE ? ModelStatusText(Expect->Allowed[1]) : "");
        return FALSE;
    }
    return TRUE;
}

enum { MODEL_EVENT_DPC = 0, MODEL_EVENT_NORMAL_APC = 1, MODEL_EVENT_SPECIAL_APC = 2 };

/* NT's masking of an event of Kind for the thread as the model knows it
   (wdkm_host.h, interrupt injection): a DPC at IRQL >= DISPATCH_LEVEL; a
   special kernel APC at IRQL >= APC_LEVEL or in a guarded region (a guarded
   mutex holds one); a normal one also in a critical region (ERESOURCE and
   push-lock holds keep one) or while the thread owns a KMUTEX. */
static BOOLEAN
ModelMasked(MODEL_RUN *Run, MODEL_THREAD *Thread, int Kind)
{
    BOOLEAN Guarded = FALSE;
    BOOLEAN Critical = FALSE;
    int Index;

    for (Index = 0; Index < Thread->EntryCount; Index += 1) {
        const MODEL_ENTRY *Entry = &Thread->Entries[Index];

        if (Entry->Type == ENTRY_REGION) {
            Guarded = Guarded || Thread->RegionState[Entry->Region] == 2;
            Critical = Critical || Thread->RegionState[Entry->Region] == 1;
        } else if (Entry->Type == ENTRY_HOLD) {
            int LockKind = Run->Locks[Entry->Lock].Kind;

            Guarded = Guarded || LockKind == WdkmLockKindGuardedMutex;
            Critical = Critical || LockKind == WdkmLockKindKMutex || LockKind == WdkmLockKindResource ||
                       LockKind == WdkmLockKindPushLock;
        }
    }
    switch (Kind) {
    case MODEL_EVENT_DPC: return Thread->Irql >= DISPATCH_LEVEL;
    case MODEL_EVENT_SPECIAL_APC: return Thread->Irql >= APC_LEVEL || Guarded;
    default: return Thread->Irql >= APC_LEVEL || Guarded || Critical;
    }
}

/* A masked event runs when, and only when, the thread unmasks it. */
static VOID
ModelCheckProbe(MODEL_RUN *Run, MODEL_THREAD *Thread, PCSTR Text)
{
    static const KIRQL Levels[] = { DISPATCH_LEVEL, PASSIVE_LEVEL, APC_LEVEL };
    static const PCSTR Names[] = { "DPC", "normal kernel APC", "special kernel APC" };
    ULONG Ran = (ULONG)__atomic_load_n(&Thread->ProbeRan, __ATOMIC_ACQUIRE);

    if (Thread->ProbeQueued == Ran) {
        return;
    }
    if (Ran > Thread->ProbeQueued) {
        MODEL_FAIL(Run, "a %s queued to T%d ran twice", Names[Thread->ProbeKind], Thread->Index);
    } else if (!ModelMasked(Run, Thread, Thread->ProbeKind)) {
        MODEL_FAIL(Run, "after %s T%d can take its pending %s, which has not run", Text, Thread->Index,
                   Names[Thread->ProbeKind]);
    }
    if (Ran == Thread->ProbeQueued && (KIRQL)Thread->ProbeIrql != Levels[Thread->ProbeKind]) {
        MODEL_FAIL(Run, "the %s queued to T%d ran at %s", Names[Thread->ProbeKind], Thread->Index,
                   ModelIrqlName((KIRQL)Thread->ProbeIrql));
    }
}

/* After every step of Thread: its IRQL, APC state and owners as it sees
   them, and every value any thread holds. */
static VOID
ModelVerifyAfter(MODEL_RUN *Run, MODEL_THREAD *Thread, const MODEL_CMD *Cmd,
                 const MODEL_RESULT *Result, PCSTR Text)
{
    BOOLEAN Apcs = FALSE;
    BOOLEAN AllApcs = Thread->Irql >= APC_LEVEL;
    int Index;
    int Other;

    if (Run->Failed) {
        return;
    }
    ModelCheckProbe(Run, Thread, Text);
    if (Result->IrqlAfter != Thread->Irql) {
        MODEL_FAIL(Run, "after %s the IRQL is %s, expected %s", Text, ModelIrqlName(Result->IrqlAfter),
                   ModelIrqlName(Thread->Irql));
        return;
    }
    for (Index = 0; Index < Thread->EntryCount; Index += 1) {
        const MODEL_ENTRY *Entry = &Thread->Entries[Index];

        if (Entry->Type == ENTRY_REGION) {
            Apcs = TRUE;
            AllApcs = AllApcs || Thread->RegionState[Entry->Region] == 2;
        } else if (Entry->Type == ENTRY_HOLD) {
            int Kind = Run->Locks[Entry->Lock].Kind;

            /* KMUTEX: the kernel's rule; ERESOURCE, push lock: the wrappers' critical region;
               guarded mutex: its guarded region. */
            if (Kind == WdkmLockKindKMutex || Kind == WdkmLockKindResource ||
                Kind == WdkmLockKindPushLock || Kind == WdkmLockKindGuardedMutex) {
                Apcs = TRUE;
            }
            if (Kind == WdkmLockKindGuardedMutex) {
                AllApcs = TRUE;
            }
        }
    }
    /* Inside an event that random injection may have nested on top of
       another (a DPC interrupting an APC routine that holds its own KMUTEX),
       the APC state is not the model's alone. */
    if ((Result->Apcs != Apcs || Result->AllApcs != AllApcs) && !(Run->Inject && Run->InEvent)) {
        MODEL_FAIL(Run, "after %s KeAreApcsDisabled() = %d, KeAreAllApcsDisabled() = %d, expected %d, %d",
                   Text, Result->Apcs, Result->AllApcs, Apcs, AllApcs);
        return;
    }
    for (Index = 0; Index < Cmd->CheckCount; Index += 1) {
        const MODEL_LOCK *Lock = &Run->Locks[Thread->CheckLock[Index]];
        BOOLEAN Owned = Lock->ExclOwner == Thread->Index;
        BOOLEAN IsOwned = (Result->Owned >> Index) & 1;

        if (IsOwned != Owned) {
            MODEL_FAIL(Run, "after %s, IsOwned(%s) on T%d is %d, the model says %d", Text, Lock->Label,
                       Thread->Index, IsOwned, Owned);
            return;
        }
#if WDKM_CHECKED
        if ((BOOLEAN)((Result->Held >> Index) & 1) != ModelDiagHeldBy(Run, Lock, Thread)) {
            MODEL_FAIL(Run, "after %s, WdkmDiagIsHeld(%s) on T%d is %d, the model says %d", Text,
                       Lock->Label, Thread->Index, (int)((Result->Held >> Index) & 1),
                       ModelDiagHeldBy(Run, Lock, Thread));
            return;
        }
#endif
    }
    for (Other = 0; Other < MODEL_THREADS; Other += 1) {
        MODEL_THREAD *Holder = &Run->Threads[Other];

        for (Index = 0; Index < Holder->EntryCount; Index += 1) {
            const MODEL_ENTRY *Entry = &Holder->Entries[Index];
            MODEL_VALUE Now;

            if (Entry->Type != ENTRY_HOLD || Entry->Data == NULL) {
                continue;
            }
            memcpy(&Now, Entry->Data, sizeof(Now));
            if (!ModelSameValue(&Now, &Run->Locks[Entry->Lock].Value)) {
                MODEL_FAIL(Run, "after %s, %s held by T%d holds writer %llx serial %llu, expected "
                           "writer %llx serial %llu", Text, Run->Locks[Entry->Lock].Label, Other,
                           (unsigned long long)Now.Writer, (unsigned long long)Now.Serial,
                           (unsigned long long)Run->Locks[Entry->Lock].Value.Writer,
                           (unsigned long long)Run->Locks[Entry->Lock].Value.Serial);
                return;
            }
        }
    }
}

/* The state of a lock after Thread's successful acquire. */
static VOID
ModelApplyAcquire(MODEL_RUN *Run, MODEL_THREAD *Thread, MODEL_LOCK *Lock, const MODEL_CMD *Cmd,
                  const MODEL_RESULT *Result, KIRQL CallIrql, int QHandle, PCSTR Text)
{
    MODEL_ENTRY *Entry = &Thread->Entries[Thread->EntryCount];
    BOOLEAN Exclusive = ModelExclusiveForm(Cmd);

    if (Result->Data == NULL || Result->Data == (PVOID)(ULONG_PTR)0x1) {
        MODEL_FAIL(Run, "%s succeeded without a data pointer (%p)", Text, Result->Data);
        return;
    }
    if (Lock->DataPointer != NULL && Lock->DataPointer != Result->Data) {
        MODEL_FAIL(Run, "%s handed out %p, earlier acquisitions %p", Text, Result->Data,
                   Lock->DataPointer);
        return;
    }
    Lock->DataPointer = Result->Data;
    if (!Result->SeenValid || !ModelSameValue(&Result->Seen, &Lock->Value)) {
        MODEL_FAIL(Run, "%s: the holder found writer %llx serial %llu, the last holder left writer "
                   "%llx serial %llu", Text, (unsigned long long)Result->Seen.Writer,
                   (unsigned long long)Result->Seen.Serial, (unsigned long long)Lock->Value.Writer,
                   (unsigned long long)Lock->Value.Serial);
        return;
    }
    if ((Lock->Kind == WdkmLockKindSpinLock && Cmd->Form != FORM_AT_DPC) &&
        Result->OldIrqlOut != CallIrql) {
        MODEL_FAIL(Run, "%s returned OldIrql %s, the caller was at %s", Text,
                   ModelIrqlName(Result->OldIrqlOut), ModelIrqlName(CallIrql));
        return;
    }
    memset(Entry, 0, sizeof(*Entry));
    Entry->Type = ENTRY_HOLD;
    Entry->Lock = ModelLockIndex(Run, Lock);
    Entry->Exclusive = Exclusive;
    Entry->AtDpc = Cmd->Form == FORM_AT_DPC;
    Entry->ChangesIrql = ModelIrqlChanging(Lock->Kind, Entry->AtDpc);
    Entry->AcquireIrql = CallIrql;
    Entry->SavedIrql = CallIrql;
    Entry->Handle = QHandle;
    Entry->Data = Result->Data;
    Thread->EntryCount += 1;
    if (Lock->Kind == WdkmLockKindFastMutex) {
        Thread->Irql = CallIrql < APC_LEVEL ? APC_LEVEL : CallIrql;
    } else if (Entry->ChangesIrql) {
        Thread->Irql = DISPATCH_LEVEL;
    }
    if (Lock->Kind == WdkmLockKindQueuedSpinLock) {
        Thread->QInUse[QHandle] = TRUE;
    }
    if ((Lock->Kind == WdkmLockKindResource && !Exclusive && Lock->ExclOwner != Thread->Index) ||
        (Lock->Kind == WdkmLockKindPushLock && !Exclusive)) {
        Lock->Shared[Thread->Index] += 1;
    } else {
        Lock->ExclOwner = Thread->Index;
        Lock->ExclDepth += 1;
    }
    if (Exclusive) {
        Lock->Value = Cmd->Write;
    }
    Lock->Acquisitions += 1;
}

static VOID ModelWake(MODEL_RUN *Run, MODEL_LOCK *Lock);

/* The state after Thread's successful release of its hold Entry. */
static VOID
ModelApplyRelease(MODEL_RUN *Run, MODEL_THREAD *Thread, int EntryIndex)
{
    MODEL_ENTRY Entry = Thread->Entries[EntryIndex];
    MODEL_LOCK *Lock = &Run->Locks[Entry.Lock];

    if (Lock->ExclOwner == Thread->Index) {
        Lock->ExclDepth -= 1;
        if (Lock->ExclDepth == 0 || Lock->Kind == WdkmLockKindPushLock) {
            Lock->ExclOwner = -1;
            Lock->ExclDepth = 0;
        }
    } else {
        Lock->Shared[Thread->Index] -= 1;
    }
    if (Entry.ChangesIrql) {
        Thread->Irql = Entry.SavedIrql;
    }
    if (Lock->Kind == WdkmLockKindQueuedSpinLock) {
        Thread->QInUse[Entry.Handle] = FALSE;
    }
    memmove(&Thread->Entries[EntryIndex], &Thread->Entries[EntryIndex + 1],
            (size_t)(Thread->EntryCount - EntryIndex - 1) * sizeof(MODEL_ENTRY));
    Thread->EntryCount -= 1;
    ModelWake(Run, Lock);
}

static VOID
ModelDescribe(MODEL_RUN *Run, MODEL_THREAD *Thread, char *Text, size_t Size, PCSTR Format, ...)
{
    va_list Arguments;
    int Used = snprintf(Text, Size, "T%d@%s ", Thread->Index, ModelIrqlName(Thread->Irql));

    va_start(Arguments, Format);
    vsnprintf(Text + Used, Size - (size_t)Used, Format, Arguments);
    va_end(Arguments);
    UNREFERENCED_PARAMETER(Run);
}

/* A waiting acquire that may now be granted is: its worker must come back
   with the lock. */
static VOID
ModelWake(MODEL_RUN *Run, MODEL_LOCK *Lock)
{
    MODEL_THREAD *Waiter;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    char Why[300];

    if (Lock->Waiter < 0 || Run->Failed) {
        return;
    }
    Waiter = &Run->Threads[Lock->Waiter];
    if (Lock->ExclOwner >= 0 || (Waiter->BlockedExclusive && ModelHoldsAny(Lock))) {
        return;
    }
    if (!ModelAwait(Waiter, &Result, MODEL_WAIT_SECONDS)) {
        snprintf(Why, sizeof(Why), "hang: %s was not given the lock after its release",
                 Waiter->BlockedText);
        ModelFatal(Run, Why);
    }
    Lock->Waiter = -1;
    Waiter->Blocked = FALSE;
    Run->Stats[STAT_GRANTED] += 1;
    if (Lock->Kind != WdkmLockKindPushLock) {
        Lock->Contended += 1;         /* push locks have no try to find them busy */
    }
    ModelExpect(&Expect, STATUS_SUCCESS);
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Waiter->BlockedText)) {
        return;
    }
    ModelApplyAcquire(Run, Waiter, Lock, &Waiter->BlockedCmd, &Result, Waiter->Irql, -1,
                      Waiter->BlockedText);
    ModelVerifyAfter(Run, Waiter, &Waiter->BlockedCmd, &Result, Waiter->BlockedText);
}

/* ---------------------------------------------------------------------- */
/* Steps                                                                   */
/* ---------------------------------------------------------------------- */

static PCSTR
ModelFormName(int Kind, int Form)
{
    switch (Form) {
    case FORM_WAIT: return Kind == WdkmLockKindResource || Kind == WdkmLockKindPushLock ?
                           "AcquireExclusive" : "Acquire";
    case FORM_TRY: return Kind == WdkmLockKindResource ? "TryAcquireExclusive" : "TryAcquire";
    case FORM_SHARED: return "AcquireShared";
    case FORM_TRY_SHARED: return "TryAcquireShared";
    case FORM_AT_DPC: return "AcquireAtDpcLevel";
    case FORM_TIMEOUT: return "AcquireTimeout";
    case FORM_ALERTABLE: return "AcquireAlertable";
    default: return "?";
    }
}

static int
ModelPickForm(MODEL_RUN *Run, int Kind)
{
    switch (Kind) {
    case WdkmLockKindKMutex: {
        static const int Forms[] = { FORM_WAIT, FORM_WAIT, FORM_TRY, FORM_TRY, FORM_TIMEOUT,
                                     FORM_TIMEOUT, FORM_ALERTABLE };
        return Forms[ModelPick(Run, 7)];
    }
    case WdkmLockKindSpinLock: {
        static const int Forms[] = { FORM_WAIT, FORM_TRY, FORM_AT_DPC };
        return Forms[ModelPick(Run, 3)];
    }
    case WdkmLockKindQueuedSpinLock:
        return ModelChance(Run, 60) ? FORM_WAIT : FORM_AT_DPC;
    case WdkmLockKindResource: {
        static const int Forms[] = { FORM_WAIT, FORM_TRY, FORM_SHARED, FORM_TRY_SHARED };
        return Forms[ModelPick(Run, 4)];
    }
    case WdkmLockKindPushLock:
        return ModelChance(Run, 50) ? FORM_WAIT : FORM_SHARED;
    default:
        return ModelChance(Run, 60) ? FORM_WAIT : FORM_TRY;
    }
}

enum { MISUSE_NONE = 0, MISUSE_SIZE, MISUSE_NULL_LOCK, MISUSE_NULL_DATA, MISUSE_NULL_OTHER,
       MISUSE_BAD_MODE, MISUSE_SAME_HANDLE, MISUSE_OTHER_HANDLE, MISUSE_OTHER_KIND };

/* A live lock of another kind than Kind, to pass through a cast. */
static MODEL_LOCK *
ModelOtherKind(MODEL_RUN *Run, int Kind)
{
    int Index;
    int Start = (int)ModelPick(Run, MODEL_STANDALONE);

    for (Index = 0; Index < MODEL_STANDALONE; Index += 1) {
        MODEL_LOCK *Lock = &Run->Locks[(Start + Index) % MODEL_STANDALONE];

        if (Lock->Live && Lock->Kind != Kind) {
            return Lock;
        }
    }
    return NULL;
}

/* An acquire step, planned: the call, what the documentation says it
   returns, whether it must wait. FALSE: not a step to take now. */
typedef struct _MODEL_PLAN {
    MODEL_CMD Cmd;
    MODEL_EXPECT Expect;
    MODEL_LOCK *Lock;
    int QHandle;
    KIRQL Irql;
    BOOLEAN CheckData;
    char Text[200];
} MODEL_PLAN;

static BOOLEAN
ModelPlanAcquire(MODEL_RUN *Run, MODEL_THREAD *Thread, MODEL_PLAN *Plan, BOOLEAN NoWait)
{
    int Candidates[MODEL_LOCKS];
    int Count = ModelCandidates(Run, Thread, Candidates);
    MODEL_LOCK *Lock;
    MODEL_CMD Cmd;
    MODEL_EXPECT Expect;
    int Kind;
    int Form;
    int Misuse = MISUSE_NONE;
    BOOLEAN SameHandle = FALSE;
    int QHandle = -1;
    int Me = Thread->Index;
    KIRQL Irql = Thread->Irql;
    KIRQL Limit;
    BOOLEAN Exact = FALSE;
    BOOLEAN Owner;
    BOOLEAN Others;
    BOOLEAN CheckData = TRUE;
    char Text[200];
    char Detail[64] = "";
    ULONG Roll;

    if (Count == 0) {
        return FALSE;
    }
    Lock = &Run->Locks[Candidates[ModelPick(Run, (ULONG)Count)]];
    if (ModelChance(Run, 35)) {
        /* Contention: prefer a lock another thread holds. */
        int Index;

        for (Index = 0; Index < Count; Index += 1) {
            if (ModelHeldByOthers(&Run->Locks[Candidates[Index]], Me) && ModelChance(Run, 60)) {
                Lock = &Run->Locks[Candidates[Index]];
            }
        }
    }
    Kind = Lock->Kind;
    Form = ModelPickForm(Run, Kind);
    if (Kind == WdkmLockKindKMutex && ModelHeldByOthers(Lock, Me) && ModelChance(Run, 25)) {
        Form = FORM_ALERTABLE;
    }
    if (Lock->Waiter >= 0 && Lock->Waiter != Me) {
        return FALSE;                       /* nothing acquires a lock somebody waits for */
    }
    memset(&Cmd, 0, sizeof(Cmd));
    Cmd.Op = OP_ACQUIRE;
    Cmd.Kind = Kind;
    Cmd.Form = Form;
    Cmd.Handle = Lock->Handle;
    Cmd.Size = Lock->Size;
    Cmd.WaitMode = KernelMode;
    Cmd.Write = ModelNewValue(Run, Me);

    Roll = ModelPick(Run, 100);
    if (Roll < 6) {
        Misuse = MISUSE_SIZE;
        Cmd.Size = ModelChance(Run, 50) ? Lock->Size + 8 : 8;
    } else if (Roll < 9) {
        Misuse = MISUSE_NULL_LOCK;
        Cmd.Handle = NULL;
    } else if (Roll < 12) {
        Misuse = MISUSE_NULL_DATA;
        Cmd.NullData = TRUE;
    } else if (Roll < 15 && ((Kind == WdkmLockKindSpinLock && Form != FORM_AT_DPC) ||
                             Kind == WdkmLockKindQueuedSpinLock ||
                             (Kind == WdkmLockKindKMutex && Form == FORM_TIMEOUT))) {
        Misuse = MISUSE_NULL_OTHER;
        Cmd.NullOther = Kind != WdkmLockKindKMutex;
        Cmd.NullTimeout = Kind == WdkmLockKindKMutex;
    } else if (Roll < 20 && Kind != WdkmLockKindQueuedSpinLock && ModelOtherKind(Run, Kind) != NULL) {
        /* A handle of another kind through a cast: the kind signature refuses it. */
        Misuse = MISUSE_OTHER_KIND;
        Cmd.Handle = ModelOtherKind(Run, Kind)->Handle;
    } else if (Roll < 22 && Kind == WdkmLockKindKMutex && Form == FORM_ALERTABLE) {
        Misuse = MISUSE_BAD_MODE;
        Cmd.WaitMode = (KPROCESSOR_MODE)(ModelChance(Run, 50) ? UserMode : 9);
    }
    if (Kind == WdkmLockKindQueuedSpinLock) {
        int Index;

        for (Index = 0; Index < MODEL_QHANDLES; Index += 1) {
            if (!Thread->QInUse[Index]) {
                QHandle = Index;
                break;
            }
        }
        if (Lock->ExclOwner == Me && Cmd.Handle == Lock->Handle && ModelChance(Run, 50)) {
            /* Through the handle that holds it, rather than a free one. */
            for (Index = 0; Index < Thread->EntryCount; Index += 1) {
                if (Thread->Entries[Index].Type == ENTRY_HOLD &&
                    Thread->Entries[Index].Lock == ModelLockIndex(Run, Lock)) {
                    QHandle = Thread->Entries[Index].Handle;
                    SameHandle = TRUE;
                }
            }
        }
        if (QHandle < 0) {
            return FALSE;
        }
        Cmd.Arg = &Thread->QHandles[QHandle];
    }
    if (Form == FORM_TIMEOUT) {
        switch (ModelPick(Run, 3)) {
        case 0: Cmd.Timeout = 0; strcpy(Detail, "0"); break;
        case 1: Cmd.Timeout = WDKM_RELATIVE_TIMEOUT_MS(2); strcpy(Detail, "-2ms"); break;
        default: Cmd.Timeout = 1; strcpy(Detail, "absolute, past"); break;
        }
        if (Cmd.NullTimeout) {
            strcpy(Detail, "NULL");
        }
    } else if (Form == FORM_ALERTABLE) {
        if (ModelChance(Run, 50)) {
            Cmd.NullTimeout = TRUE;
            strcpy(Detail, "NULL");
        } else {
            Cmd.Timeout = WDKM_RELATIVE_TIMEOUT_MS(2);
            strcpy(Detail, "-2ms");
        }
        if (Misuse == MISUSE_NONE && ModelChance(Run, 15)) {
            Misuse = MISUSE_BAD_MODE;         /* the WDK requires KernelMode for a mutex wait */
            Cmd.WaitMode = UserMode;
        }
        snprintf(Detail + strlen(Detail), sizeof(Detail) - strlen(Detail), ", mode %d",
                 (int)Cmd.WaitMode);
    }

    /* The IRQL limit of the form (reference.md, "IRQL"). */
    switch (Kind) {
    case WdkmLockKindKMutex:
        Limit = (Form == FORM_TRY || (Form == FORM_TIMEOUT && !Cmd.NullTimeout && Cmd.Timeout == 0)) ?
                DISPATCH_LEVEL : APC_LEVEL;
        break;
    case WdkmLockKindSpinLock:
    case WdkmLockKindQueuedSpinLock:
        Limit = DISPATCH_LEVEL;
        Exact = Form == FORM_AT_DPC;
        break;
    default:
        Limit = APC_LEVEL;
        break;
    }
    Owner = Lock->ExclOwner == Me;
    Others = ModelHeldByOthers(Lock, Me);
    /* reference.md, "Order of the checks": the arguments (NULL pointers, a
       handle of another kind, a wait mode), then the IRQL, then the lock's
       state, the data size against the lock's first. */
    ModelExpect(&Expect, STATUS_SUCCESS);
    if (Misuse == MISUSE_NULL_LOCK || Misuse == MISUSE_NULL_DATA ||
        Misuse == MISUSE_NULL_OTHER || Misuse == MISUSE_BAD_MODE) {
        ModelExpect(&Expect, STATUS_INVALID_PARAMETER);
    } else if (Misuse == MISUSE_OTHER_KIND) {
        ModelExpect(&Expect, STATUS_WDKM_TYPE_MISMATCH);
    } else if (Irql > Limit) {
        ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
    } else if (Exact && Irql < Limit) {
        ModelExpect(&Expect, STATUS_WDKM_IRQL_MISMATCH);
    } else if (Misuse == MISUSE_SIZE) {
        ModelExpect(&Expect, STATUS_WDKM_TYPE_MISMATCH);
    } else {
        BOOLEAN Try = Form == FORM_TRY || Form == FORM_TRY_SHARED || Form == FORM_TIMEOUT ||
                      (Form == FORM_ALERTABLE && !Cmd.NullTimeout);

        switch (Kind) {
        case WdkmLockKindKMutex:
            if (Owner) {
                int Index;

                if (Lock->ExclDepth >= 3) {
                    return FALSE;
                }
                /* The owner succeeds in the class of its hold (that of its outermost
                   acquisition). A try at DISPATCH_LEVEL over a PASSIVE-class hold is a DPC
                   on the owner's thread, which NT would let in mid-update: busy. Below
                   DISPATCH_LEVEL over a DISPATCH-class hold: IRQL_MISMATCH. */
                for (Index = 0; Index < Thread->EntryCount; Index += 1) {
                    if (Thread->Entries[Index].Type == ENTRY_HOLD &&
                        Thread->Entries[Index].Lock == ModelLockIndex(Run, Lock)) {
                        if ((Thread->Entries[Index].AcquireIrql == DISPATCH_LEVEL) != (Irql == DISPATCH_LEVEL)) {
                            ModelExpect(&Expect, Irql == DISPATCH_LEVEL ? STATUS_TIMEOUT : STATUS_WDKM_IRQL_MISMATCH);
                        }
                        break;        /* the outermost acquisition decides */
                    }
                }
            } else if (Others) {
                if (Try) {
                    ModelExpect(&Expect, STATUS_TIMEOUT);
                } else {
                    Expect.Block = TRUE;
                }
            }
            break;
        case WdkmLockKindResource:
            if (Form == FORM_SHARED || Form == FORM_TRY_SHARED) {
                if (!Owner && Lock->ExclOwner >= 0) {
                    if (Try) {
                        ModelExpect(&Expect, STATUS_TIMEOUT);
                    } else {
                        Expect.Block = TRUE;
                    }
                }
            } else if (!Owner && Lock->Shared[Me] > 0) {
                ModelExpect(&Expect, STATUS_POSSIBLE_DEADLOCK);
                if (Try && Others) {
                    Expect.Allowed[1] = STATUS_TIMEOUT;   /* busy as well: either answer is documented */
                }
            } else if (!Owner && Others) {
                if (Try) {
                    ModelExpect(&Expect, STATUS_TIMEOUT);
                } else {
                    Expect.Block = TRUE;
                }
            }
            if (Owner && Lock->ExclDepth >= 3) {
                return FALSE;
            }
            break;
        case WdkmLockKindPushLock:
            if (Owner || Lock->Shared[Me] > 0) {
                /* The exclusive owner, or a shared holder (eight reader slots: we have four threads). */
                ModelExpect(&Expect, STATUS_POSSIBLE_DEADLOCK);
            } else if (Form == FORM_SHARED ? Lock->ExclOwner >= 0 : Others) {
                Expect.Block = TRUE;
            }
            break;
        default:    /* FAST_MUTEX, spin locks, guarded mutex: not recursive */
            if (Owner) {
                ModelExpect(&Expect, STATUS_POSSIBLE_DEADLOCK);
            } else if (Others) {
                if (Try) {
                    ModelExpect(&Expect, STATUS_TIMEOUT);
                } else if (Kind == WdkmLockKindFastMutex || Kind == WdkmLockKindGuardedMutex) {
                    Expect.Block = TRUE;
                } else {
                    return FALSE;           /* a spin would need its holder to run meanwhile */
                }
            }
            break;
        }
    }
    if (Expect.Block && (NoWait || !ModelMayWait(Run, Lock) || Misuse != MISUSE_NONE)) {
        return FALSE;
    }
    if ((Expect.Block || Expect.Allowed[0] == STATUS_SUCCESS) &&
        Thread->EntryCount >= MODEL_MAX_ENTRIES) {
        return FALSE;
    }
    ModelDescribe(Run, Thread, Text, sizeof(Text), "%s(%s%s, size %u%s%s%s%s%s)%s",
                  ModelFormName(Kind, Form), Misuse == MISUSE_NULL_LOCK ? "NULL: " :
                  Misuse == MISUSE_OTHER_KIND ? "a lock of another kind, not " : "", Lock->Label,
                  (unsigned)Cmd.Size, Cmd.NullData ? ", Data NULL" : "",
                  Cmd.NullOther ? (Kind == WdkmLockKindSpinLock ? ", OldIrql NULL" : ", Handle NULL") : "",
                  Kind == WdkmLockKindQueuedSpinLock ? (SameHandle ? ", its holding handle" : ", a free handle") : "",
                  Detail[0] != '\0' ? ", timeout " : "", Detail,
                  Irql == DISPATCH_LEVEL && Thread->EntryCount > 0 ? " [at DISPATCH on a thread holding locks: a DPC]" : "");
    Plan->Cmd = Cmd;
    Plan->Expect = Expect;
    Plan->Lock = Lock;
    Plan->QHandle = QHandle;
    Plan->Irql = Irql;
    Plan->CheckData = CheckData;
    strcpy(Plan->Text, Text);
    return TRUE;
}

/* The acquire's result against its plan; the model takes the hold. */
static BOOLEAN
ModelFinishAcquire(MODEL_RUN *Run, MODEL_THREAD *Thread, MODEL_PLAN *Plan, const MODEL_RESULT *Result)
{
    Run->Stats[OP_ACQUIRE] += 1;
    if (!ModelCheckStatus(Run, &Plan->Expect, Result->Status, Plan->Text)) {
        return FALSE;
    }
    if (Result->Status == STATUS_SUCCESS) {
        ModelApplyAcquire(Run, Thread, Plan->Lock, &Plan->Cmd, Result, Plan->Irql, Plan->QHandle, Plan->Text);
    } else if (!Plan->Cmd.NullData && Plan->CheckData && Result->Data != NULL) {
        MODEL_FAIL(Run, "%s returned %s and left *Data = %p (reference.md: \"On any status but "
                   "STATUS_SUCCESS it is set to NULL\")", Plan->Text, WdkmStatusName(Result->Status),
                   Result->Data);
        return FALSE;
    }
    return !Run->Failed;
}

static VOID
ModelStepAcquire(MODEL_RUN *Run, MODEL_THREAD *Thread)
{
    MODEL_PLAN Plan;
    MODEL_RESULT Result;

    if (!ModelPlanAcquire(Run, Thread, &Plan, FALSE)) {
        return;
    }
    if (Plan.Expect.Block) {
        MODEL_LOCK *Lock = Plan.Lock;

        Run->Stats[OP_ACQUIRE] += 1;
        Thread->Blocked = TRUE;
        Thread->BlockedLock = ModelLockIndex(Run, Lock);
        Thread->BlockedExclusive = ModelExclusiveForm(&Plan.Cmd);
        Thread->BlockedAlertable = Plan.Cmd.Form == FORM_ALERTABLE;
        ModelBuildChecks(Run, Thread, &Plan.Cmd, -1, TRUE);
        Thread->BlockedCmd = Plan.Cmd;
        snprintf(Thread->BlockedText, sizeof(Thread->BlockedText), "%s [waited]", Plan.Text);
        Lock->Waiter = Thread->Index;
        Run->Stats[STAT_WAITS] += 1;
        ModelNote(Run, "%5u %s -> waits (holder: T%d)", (unsigned)Run->Step, Plan.Text, Lock->ExclOwner);
        ModelIssue(Thread, &Plan.Cmd);
        return;
    }
    ModelBuildChecks(Run, Thread, &Plan.Cmd, -1, FALSE);
    ModelRunSync(Run, Thread, &Plan.Cmd, &Result, Plan.Text);
    if (ModelFinishAcquire(Run, Thread, &Plan, &Result)) {
        ModelVerifyAfter(Run, Thread, &Plan.Cmd, &Result, Plan.Text);
    }
}

/* The last hold of Lock in Thread's entries (the acquisition a release ends). */
static int
ModelLastHold(MODEL_RUN *Run, MODEL_THREAD *Thread, const MODEL_LOCK *Lock)
{
    int Index;

    for (Index = Thread->EntryCount - 1; Index >= 0; Index -= 1) {
        if (Thread->Entries[Index].Type == ENTRY_HOLD &&
            Thread->Entries[Index].Lock == ModelLockIndex(Run, Lock)) {
            return Index;
        }
    }
    return -1;
}

static PCSTR
ModelReleaseName(int Kind, int Form)
{
    if (Kind == WdkmLockKindSpinLock && Form == REL_FROM_DPC) {
        return "ReleaseFromDpcLevel";
    }
    return "Release";
}

/* Is a hold of one of the kinds (a bit per kind) taken after Entry still held?
   A release that would lower the IRQL under it is refused (reference.md,
   nested FAST_MUTEX and spin-lock holds). */
static BOOLEAN
ModelLaterHold(MODEL_RUN *Run, MODEL_THREAD *Thread, const MODEL_ENTRY *Entry, ULONG KindMask)
{
    int Index;

    for (Index = (int)(Entry - Thread->Entries) + 1; Index < Thread->EntryCount; Index += 1) {
        if (Thread->Entries[Index].Type == ENTRY_HOLD &&
            (KindMask & (1UL << Run->Locks[Thread->Entries[Index].Lock].Kind)) != 0) {
            return TRUE;
        }
    }
    return FALSE;
}

/* TRUE if the thread holds, besides Entry, a lock of a kind in KindMask. */
static BOOLEAN
ModelOtherHold(MODEL_RUN *Run, MODEL_THREAD *Thread, const MODEL_ENTRY *Entry, ULONG KindMask)
{
    int Index;

    for (Index = 0; Index < Thread->EntryCount; Index += 1) {
        if (&Thread->Entries[Index] != Entry && Thread->Entries[Index].Type == ENTRY_HOLD &&
            (KindMask & (1UL << Run->Locks[Thread->Entries[Index].Lock].Kind)) != 0) {
            return TRUE;
        }
    }
    return FALSE;
}

#define MODEL_SPIN_KINDS ((1UL << WdkmLockKindSpinLock) | (1UL << WdkmLockKindQueuedSpinLock))

/* What reference.md says a release answers. Entry: the caller's hold it
   ends, NULL when the caller holds nothing. */
static VOID
ModelExpectRelease(MODEL_RUN *Run, MODEL_THREAD *Thread, MODEL_LOCK *Lock, const MODEL_ENTRY *Entry,
                   const MODEL_CMD *Cmd, BOOLEAN BadOldIrql, BOOLEAN OtherHandle, MODEL_EXPECT *Expectation)
{
    MODEL_EXPECT Expect;
    KIRQL Irql = Thread->Irql;

    ModelExpect(&Expect, STATUS_SUCCESS);
    switch (Lock->Kind) {
    case WdkmLockKindKMutex:
        if (Irql > DISPATCH_LEVEL) {
            ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
        } else if (Entry == NULL) {
            ModelExpect(&Expect, Lock->ExclOwner >= 0 ? STATUS_WDKM_NOT_OWNER : STATUS_WDKM_NOT_HELD);
        } else if ((Entry->AcquireIrql == DISPATCH_LEVEL) != (Irql == DISPATCH_LEVEL)) {
            ModelExpect(&Expect, STATUS_WDKM_IRQL_MISMATCH);
        }
        break;
    /* FAST_MUTEX, spin locks, guarded mutex: the release IRQL is the one the
       acquire left the caller at, so ownership is checked first: a caller
       that does not hold the lock gets NOT_OWNER / NOT_HELD at any IRQL
       (reference.md, "Order of the checks"). Then above that IRQL
       IRQL_TOO_HIGH, below it IRQL_MISMATCH. */
    case WdkmLockKindFastMutex:
        if (Entry == NULL) {
            ModelExpect(&Expect, Lock->ExclOwner >= 0 ? STATUS_WDKM_NOT_OWNER : STATUS_WDKM_NOT_HELD);
        } else if (Irql > APC_LEVEL) {
            ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
        } else if (Irql < APC_LEVEL) {
            ModelExpect(&Expect, STATUS_WDKM_IRQL_MISMATCH);
        } else if (Entry->SavedIrql < APC_LEVEL &&
                   ModelLaterHold(Run, Thread, Entry, 1UL << WdkmLockKindFastMutex)) {
            /* Refused only where the release would lower the IRQL: a hold taken
               at APC_LEVEL released out of order lowers nothing. */
            ModelExpect(&Expect, STATUS_WDKM_LOCK_HELD);
        }
        break;
    case WdkmLockKindSpinLock:
        if (BadOldIrql) {
            ModelExpect(&Expect, STATUS_INVALID_PARAMETER);
        } else if (Entry == NULL) {
            ModelExpect(&Expect, Lock->ExclOwner >= 0 ? STATUS_WDKM_NOT_OWNER : STATUS_WDKM_NOT_HELD);
        } else if (Irql > DISPATCH_LEVEL) {
            ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
        } else if (Irql < DISPATCH_LEVEL) {
            ModelExpect(&Expect, STATUS_WDKM_IRQL_MISMATCH);
        } else if ((Cmd->Form == REL_FROM_DPC) != Entry->AtDpc) {
            ModelExpect(&Expect, STATUS_WDKM_IRQL_MISMATCH);
        } else if (!Entry->AtDpc && Cmd->Irql < DISPATCH_LEVEL &&
                   ModelOtherHold(Run, Thread, Entry, MODEL_SPIN_KINDS)) {
            ModelExpect(&Expect, STATUS_WDKM_LOCK_HELD);
        }
        break;
    case WdkmLockKindQueuedSpinLock:
        if (Entry == NULL) {
            ModelExpect(&Expect, OtherHandle ? STATUS_WDKM_NOT_OWNER : STATUS_WDKM_NOT_HELD);
        } else if (Irql > DISPATCH_LEVEL) {
            ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
        } else if (Irql < DISPATCH_LEVEL) {
            ModelExpect(&Expect, STATUS_WDKM_IRQL_MISMATCH);
        } else if (!Entry->AtDpc && Entry->SavedIrql < DISPATCH_LEVEL &&
                   ModelOtherHold(Run, Thread, Entry, MODEL_SPIN_KINDS)) {
            ModelExpect(&Expect, STATUS_WDKM_LOCK_HELD);
        }
        break;
    case WdkmLockKindGuardedMutex:
        /* It leaves the IRQL alone: the release is made at the acquire's IRQL. */
        if (Entry == NULL) {
            ModelExpect(&Expect, Lock->ExclOwner >= 0 ? STATUS_WDKM_NOT_OWNER : STATUS_WDKM_NOT_HELD);
        } else if (Irql != Entry->AcquireIrql) {
            ModelExpect(&Expect, Irql > Entry->AcquireIrql ? STATUS_WDKM_IRQL_TOO_HIGH : STATUS_WDKM_IRQL_MISMATCH);
        }
        break;
    default:    /* ERESOURCE, push lock */
        if (Irql > APC_LEVEL) {
            ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
        } else if (Entry == NULL) {
            ModelExpect(&Expect, ModelHoldsAny(Lock) ? STATUS_WDKM_NOT_OWNER : STATUS_WDKM_NOT_HELD);
        }
        break;
    }
    *Expectation = Expect;
}

/*
 * A release: of one of the thread's holds (Force >= 0: that entry, in the
 * right form, for the final unwinding), or a misuse: a lock the thread does
 * not hold, the other spin-lock form, an OldIrql above DISPATCH_LEVEL, a
 * queue handle that holds nothing or belongs to another thread.
 */
static VOID
ModelStepRelease(MODEL_RUN *Run, MODEL_THREAD *Thread, int Force)
{
    MODEL_LOCK *Lock;
    MODEL_ENTRY *Entry = NULL;
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    int EntryIndex = -1;
    int Me = Thread->Index;
    BOOLEAN BadOldIrql = FALSE;
    BOOLEAN OtherHandle = FALSE;
    int Transfer = -1;
    MODEL_LOCK *OtherKind = NULL;
    char Text[200];

    memset(&Cmd, 0, sizeof(Cmd));
    Cmd.Op = OP_RELEASE;
    if (Force >= 0 || (Thread->EntryCount > 0 && ModelChance(Run, 75))) {
        int Holds[MODEL_MAX_ENTRIES];
        int HoldCount = 0;
        int Index;

        if (Force >= 0) {
            EntryIndex = Force;
        } else {
            for (Index = 0; Index < Thread->EntryCount; Index += 1) {
                if (Thread->Entries[Index].Type == ENTRY_HOLD) {
                    Holds[HoldCount++] = Index;
                }
            }
            if (HoldCount == 0) {
                return;
            }
            EntryIndex = Holds[ModelPick(Run, (ULONG)HoldCount)];
        }
        Entry = &Thread->Entries[EntryIndex];
        Lock = &Run->Locks[Entry->Lock];
        if (Lock->Kind == WdkmLockKindKMutex || Lock->Kind == WdkmLockKindResource) {
            /* A release ends the latest acquisition (recursive kinds). */
            EntryIndex = ModelLastHold(Run, Thread, Lock);
            Entry = &Thread->Entries[EntryIndex];
        }
        Cmd.Kind = Lock->Kind;
        Cmd.Handle = Lock->Handle;
        Cmd.HeldData = Entry->Data;
        Cmd.Form = Entry->AtDpc ? REL_FROM_DPC : REL_NORMAL;
        Cmd.Irql = Entry->SavedIrql;
        if (Force < 0 && Lock->Kind == WdkmLockKindSpinLock && !Entry->AtDpc &&
            EntryIndex != Thread->EntryCount - 1 && ModelChance(Run, 50)) {
            Cmd.Irql = DISPATCH_LEVEL;        /* NT's explicit out-of-order release: do not lower */
        } else if (Force < 0 && Lock->Kind == WdkmLockKindSpinLock && ModelChance(Run, 12)) {
            Cmd.Form = Cmd.Form == REL_FROM_DPC ? REL_NORMAL : REL_FROM_DPC;
        } else if (Force < 0 && Lock->Kind == WdkmLockKindSpinLock && Cmd.Form == REL_NORMAL &&
                   ModelChance(Run, 8)) {
            BadOldIrql = TRUE;
            Cmd.Irql = HIGH_LEVEL;
        }
        if (Lock->Kind == WdkmLockKindQueuedSpinLock) {
            Cmd.Arg = &Thread->QHandles[Entry->Handle];
        }
    } else {
        /* A lock the thread does not hold: a second release, or someone else's. */
        int Candidates[MODEL_LOCKS];
        int Count = ModelCandidates(Run, Thread, Candidates);

        if (Count == 0) {
            return;
        }
        Lock = &Run->Locks[Candidates[ModelPick(Run, (ULONG)Count)]];
        if (ModelHeldBy(Lock, Me)) {
            return;
        }
        Cmd.Kind = Lock->Kind;
        Cmd.Handle = Lock->Handle;
        Cmd.Form = Lock->Kind == WdkmLockKindSpinLock && ModelChance(Run, 50) ? REL_FROM_DPC : REL_NORMAL;
        Cmd.Irql = PASSIVE_LEVEL;
        if (Lock->Kind != WdkmLockKindQueuedSpinLock && ModelChance(Run, 20) &&
            ModelOtherKind(Run, Lock->Kind) != NULL) {
            OtherKind = ModelOtherKind(Run, Lock->Kind);
            Cmd.Handle = OtherKind->Handle;   /* through a cast: the kind signature refuses it */
        }
        if (Lock->Kind == WdkmLockKindQueuedSpinLock) {
            int Other = (int)ModelPick(Run, MODEL_THREADS);
            int Index;

            /* Another thread's handle that holds a lock, else a free one of ours. */
            for (Index = 0; Index < MODEL_QHANDLES && Other != Me; Index += 1) {
                if (Run->Threads[Other].QInUse[Index]) {
                    Cmd.Arg = &Run->Threads[Other].QHandles[Index];
                    OtherHandle = TRUE;
                    break;
                }
            }
            for (Index = 0; Index < MODEL_QHANDLES && !OtherHandle; Index += 1) {
                if (!Thread->QInUse[Index]) {
                    Cmd.Arg = &Thread->QHandles[Index];
                    break;
                }
            }
            if (Cmd.Arg == NULL) {
                return;
            }
        }
    }

    ModelExpectRelease(Run, Thread, Lock, Entry, &Cmd, BadOldIrql, OtherHandle, &Expect);
    if (OtherKind != NULL) {
        ModelExpect(&Expect, STATUS_WDKM_TYPE_MISMATCH);     /* an argument error: before the IRQL */
    }
    if (Entry != NULL && Entry->ChangesIrql && EntryIndex != Thread->EntryCount - 1 &&
        Expect.Allowed[0] == STATUS_SUCCESS) {
        /* An IRQL-raising hold released out of order, successfully: only where the
           IRQL stays (a spin lock taken at DISPATCH_LEVEL, or released with OldIrql
           DISPATCH_LEVEL, whose saved IRQL then goes to the next plain spin lock's
           release, as reference.md shows). Otherwise later holds would be left at
           another IRQL than they were taken at. */
        int Next;

        Transfer = -1;
        if (Lock->Kind == WdkmLockKindFastMutex) {
            if (Entry->SavedIrql < APC_LEVEL) {
                return;
            }
            /* Taken at APC_LEVEL and released there: nothing is lowered. */
        } else if (Entry->SavedIrql < DISPATCH_LEVEL) {
            if (Lock->Kind != WdkmLockKindSpinLock || Cmd.Irql != DISPATCH_LEVEL) {
                return;
            }
            /* The saved IRQL goes to the release that will come last: that of the
               next spin lock held (the thread's spin locks are released in reverse
               order after this one), which must be a plain acquire to take it. */
            for (Next = EntryIndex + 1; Next < Thread->EntryCount && Transfer < 0; Next += 1) {
                const MODEL_ENTRY *Later = &Thread->Entries[Next];
                int LaterKind = Later->Type == ENTRY_HOLD ? Run->Locks[Later->Lock].Kind : 0;

                if (Later->ChangesIrql || LaterKind == WdkmLockKindSpinLock ||
                    LaterKind == WdkmLockKindQueuedSpinLock) {
                    if (LaterKind != WdkmLockKindSpinLock || Later->AtDpc) {
                        return;
                    }
                    Transfer = Next;
                }
            }
            if (Transfer < 0) {
                return;
            }
        }
    }
    ModelDescribe(Run, Thread, Text, sizeof(Text), "%s(%s%s%s)%s", ModelReleaseName(Lock->Kind, Cmd.Form),
                  Lock->Label,
                  Lock->Kind == WdkmLockKindSpinLock && Cmd.Form == REL_NORMAL ?
                  (BadOldIrql ? ", OldIrql HIGH" : (Entry != NULL ? ", its OldIrql" : ", OldIrql PASSIVE")) : "",
                  Lock->Kind == WdkmLockKindQueuedSpinLock ?
                  (Entry != NULL ? ", its handle" : (OtherHandle ? ", another thread's handle" : ", a free handle")) : "",
                  OtherKind != NULL ? " [a handle of another kind]" : Entry == NULL ? " [not held by the caller]" : "");
    Run->Stats[OP_RELEASE] += 1;
    ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Text)) {
        return;
    }
    if (Entry != NULL && Result.BeforeValid &&
        !ModelSameValue(&Result.Before, &Run->Locks[Entry->Lock].Value)) {
        MODEL_FAIL(Run, "%s: before the release the holder found writer %llx serial %llu, it left "
                   "writer %llx serial %llu", Text, (unsigned long long)Result.Before.Writer,
                   (unsigned long long)Result.Before.Serial,
                   (unsigned long long)Run->Locks[Entry->Lock].Value.Writer,
                   (unsigned long long)Run->Locks[Entry->Lock].Value.Serial);
        return;
    }
    if (Result.Status == STATUS_SUCCESS) {
        if (Transfer >= 0) {
            /* The next plain spin lock's release restores what this one saved. */
            Thread->Entries[Transfer].SavedIrql = Entry->SavedIrql;
            Entry->SavedIrql = DISPATCH_LEVEL;
        }
        ModelApplyRelease(Run, Thread, EntryIndex);
    }
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

static VOID
ModelStepRaise(MODEL_RUN *Run, MODEL_THREAD *Thread)
{
    static const KIRQL Levels[] = { APC_LEVEL, DISPATCH_LEVEL, DISPATCH_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL };
    KIRQL Target = Levels[ModelPick(Run, 5)];

    if (Thread->EntryCount > 0 && Thread->Irql < DISPATCH_LEVEL && ModelChance(Run, 50)) {
        Target = DISPATCH_LEVEL;      /* a DPC on a thread that holds locks */
    }
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    MODEL_ENTRY *Entry;
    char Text[200];

    if (Target <= Thread->Irql || Thread->EntryCount >= MODEL_MAX_ENTRIES) {
        return;
    }
    memset(&Cmd, 0, sizeof(Cmd));
    Cmd.Op = OP_RAISE;
    Cmd.Irql = Target;
    ModelDescribe(Run, Thread, Text, sizeof(Text), "KeRaiseIrql(%s)%s", ModelIrqlName(Target),
                  Target == DISPATCH_LEVEL && Thread->EntryCount > 0 ?
                  " [a DPC interrupts a thread holding locks]" : "");
    ModelExpect(&Expect, STATUS_SUCCESS);
    ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    (VOID)ModelCheckStatus(Run, &Expect, Result.Status, Text);
    Entry = &Thread->Entries[Thread->EntryCount++];
    memset(Entry, 0, sizeof(*Entry));
    Entry->Type = ENTRY_RAISE;
    Entry->ChangesIrql = TRUE;
    Entry->SavedIrql = Thread->Irql;
    Thread->Irql = Target;
    Run->Stats[OP_RAISE] += 1;
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

/* Ends the latest raise; everything taken since must have been released
   (what a DPC must do before it returns). */
static VOID
ModelStepLower(MODEL_RUN *Run, MODEL_THREAD *Thread)
{
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    MODEL_ENTRY *Entry;
    char Text[200];

    if (Thread->EntryCount == 0 || Thread->Entries[Thread->EntryCount - 1].Type != ENTRY_RAISE) {
        return;
    }
    Entry = &Thread->Entries[Thread->EntryCount - 1];
    memset(&Cmd, 0, sizeof(Cmd));
    Cmd.Op = OP_LOWER;
    Cmd.Irql = Entry->SavedIrql;
    ModelDescribe(Run, Thread, Text, sizeof(Text), "KeLowerIrql(%s)", ModelIrqlName(Entry->SavedIrql));
    Thread->Irql = Entry->SavedIrql;
    Thread->EntryCount -= 1;
    ModelExpect(&Expect, STATUS_SUCCESS);
    ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    (VOID)ModelCheckStatus(Run, &Expect, Result.Status, Text);
    Run->Stats[OP_LOWER] += 1;
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

static VOID
ModelStepRegion(MODEL_RUN *Run, MODEL_THREAD *Thread, int Force)
{
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    int Region = -1;
    int EntryIndex = -1;
    int Index;
    BOOLEAN Enter;
    BOOLEAN Foreign = FALSE;
    BOOLEAN Null = Force < 0 && ModelChance(Run, 5);
    PCSTR What;
    char Text[200];

    memset(&Cmd, 0, sizeof(Cmd));
    Enter = Force < 0 && ModelChance(Run, 50);
    if (Enter) {
        for (Index = 0; Index < MODEL_REGIONS; Index += 1) {
            if (Thread->RegionState[Index] == 0 || Thread->RegionState[Index] == 3) {
                Region = Index;
                break;
            }
        }
        if (Region < 0 || Thread->EntryCount >= MODEL_MAX_ENTRIES) {
            return;
        }
        Cmd.Op = OP_REGION_ENTER;
        Cmd.Form = ModelChance(Run, 50) ? 2 : 1;
        Cmd.Arg = &Thread->Regions[Region];
        What = Cmd.Form == 2 ? "WdkmRegionEnterGuarded" : "WdkmRegionEnterCritical";
    } else {
        Cmd.Op = OP_REGION_LEAVE;
        What = "WdkmRegionLeave";
        if (Force >= 0) {
            EntryIndex = Force;
        } else if (ModelChance(Run, 70)) {
            for (Index = Thread->EntryCount - 1; Index >= 0; Index -= 1) {
                if (Thread->Entries[Index].Type == ENTRY_REGION && (EntryIndex < 0 || ModelChance(Run, 30))) {
                    EntryIndex = Index;
                }
            }
        }
        if (EntryIndex >= 0) {
            Region = Thread->Entries[EntryIndex].Region;
            Cmd.Arg = &Thread->Regions[Region];
        } else {
            /* Misuse: a region never entered or left already, or another thread's. */
            int Other = (int)ModelPick(Run, MODEL_THREADS);

            for (Index = 0; Index < MODEL_REGIONS && Other != Thread->Index; Index += 1) {
                int State = Run->Threads[Other].RegionState[Index];

                if (State == 1 || State == 2) {
                    Cmd.Arg = &Run->Threads[Other].Regions[Index];
                    Foreign = TRUE;
                    break;
                }
            }
            for (Index = 0; Index < MODEL_REGIONS && !Foreign; Index += 1) {
                if (Thread->RegionState[Index] == 0 || Thread->RegionState[Index] == 3) {
                    Cmd.Arg = &Thread->Regions[Index];
                    Region = Index;
                    break;
                }
            }
            if (Cmd.Arg == NULL) {
                return;
            }
        }
    }
    if (Null) {
        Cmd.Arg = NULL;
    }
    if (Null) {
        ModelExpect(&Expect, STATUS_INVALID_PARAMETER);
    } else if (Thread->Irql > APC_LEVEL) {
        ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
    } else if (Enter || EntryIndex >= 0) {
        ModelExpect(&Expect, STATUS_SUCCESS);
    } else {
        ModelExpect(&Expect, Foreign ? STATUS_WDKM_NOT_OWNER : STATUS_WDKM_NOT_HELD);
    }
    ModelDescribe(Run, Thread, Text, sizeof(Text), "%s(%s)", What,
                  Null ? "NULL" : Foreign ? "another thread's region" :
                  Enter ? "a region" : EntryIndex >= 0 ? "its region" :
                  Thread->RegionState[Region] == 3 ? "a region it left" : "a region never entered");
    ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Text)) {
        return;
    }
    if (Result.Status == STATUS_SUCCESS) {
        if (Enter) {
            MODEL_ENTRY *Entry = &Thread->Entries[Thread->EntryCount++];

            memset(Entry, 0, sizeof(*Entry));
            Entry->Type = ENTRY_REGION;
            Entry->Region = Region;
            Thread->RegionState[Region] = Cmd.Form;
        } else {
            Thread->RegionState[Region] = 3;
            memmove(&Thread->Entries[EntryIndex], &Thread->Entries[EntryIndex + 1],
                    (size_t)(Thread->EntryCount - EntryIndex - 1) * sizeof(MODEL_ENTRY));
            Thread->EntryCount -= 1;
        }
    }
    Run->Stats[Cmd.Op] += 1;
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

/* Destroy or take a lock, right or wrong; a standalone lock freed here is
   created again by a later step. */
static VOID
ModelStepDestroy(MODEL_RUN *Run, MODEL_THREAD *Thread)
{
    int Candidates[MODEL_LOCKS];
    int Count = ModelCandidates(Run, Thread, Candidates);
    MODEL_LOCK *Lock;
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    BOOLEAN Take = ModelChance(Run, 50);
    BOOLEAN WrongSize = FALSE;
    BOOLEAN NullLock = FALSE;
    BOOLEAN OtherKind = FALSE;
    BOOLEAN NullValue = FALSE;
    KIRQL Limit;
    ULONG Roll = ModelPick(Run, 100);
    char Text[200];

    if (Count == 0) {
        return;
    }
    Lock = &Run->Locks[Candidates[ModelPick(Run, (ULONG)Count)]];
    if (Lock->Waiter >= 0) {
        return;                       /* documented must-not, not detected */
    }
    memset(&Cmd, 0, sizeof(Cmd));
    Cmd.Op = Take ? OP_TAKE : OP_DESTROY;
    Cmd.Kind = Lock->Kind;
    Cmd.Handle = Lock->Handle;
    Cmd.Size = Lock->Size;
    Cmd.Arg = &Thread->TakeBuffer;
    if (Roll < 10) {
        NullLock = TRUE;
        Cmd.Handle = NULL;
    } else if (Roll < 16 && ModelOtherKind(Run, Lock->Kind) != NULL) {
        /* A lock of another kind through a cast: "not a live lock of this kind". */
        NullLock = TRUE;
        OtherKind = TRUE;
        Cmd.Handle = ModelOtherKind(Run, Lock->Kind)->Handle;
    } else if (Take && Roll < 25 && !ModelHoldsAny(Lock)) {
        WrongSize = TRUE;
        Cmd.Size = Lock->Size + 8;
    } else if (Take && Roll < 32 && !ModelHoldsAny(Lock)) {
        NullValue = TRUE;
        Cmd.Arg = NULL;
    }
    Limit = Lock->Kind == WdkmLockKindResource ? APC_LEVEL : DISPATCH_LEVEL;
    if (NullLock || NullValue) {
        ModelExpect(&Expect, STATUS_INVALID_PARAMETER);   /* arguments before the IRQL */
    } else if (Thread->Irql > Limit) {
        ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
    } else if (WrongSize) {                               /* the size against the lock's: after it */
        ModelExpect(&Expect, Lock->Registry ? STATUS_WDKM_OWNED_BY_REGISTRY : STATUS_WDKM_TYPE_MISMATCH);
        if (Lock->Registry) {
            Expect.Allowed[1] = STATUS_WDKM_TYPE_MISMATCH;   /* which is checked first is not said */
        }
    } else if (Lock->Registry) {
        ModelExpect(&Expect, STATUS_WDKM_OWNED_BY_REGISTRY);
        if (ModelHoldsAny(Lock)) {
            Expect.Allowed[1] = STATUS_WDKM_LOCK_HELD;        /* both are true */
        }
    } else if (ModelHoldsAny(Lock)) {
        ModelExpect(&Expect, STATUS_WDKM_LOCK_HELD);
    } else {
        ModelExpect(&Expect, STATUS_SUCCESS);
    }
    ModelDescribe(Run, Thread, Text, sizeof(Text), "%s%s(%s%s%s)%s", ModelKindNames[Lock->Kind],
                  Take ? "Take" : "Destroy", OtherKind ? "a lock of another kind, not " : NullLock ? "NULL: " : "",
                  Lock->Label,
                  WrongSize ? ", wrong size" : NullValue ? ", Value NULL" : "",
                  ModelHoldsAny(Lock) ? " [held]" : "");
    ModelBuildChecks(Run, Thread, &Cmd, NullLock ? -1 : ModelLockIndex(Run, Lock), FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    Run->Stats[Cmd.Op] += 1;
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Text)) {
        return;
    }
    if (Take && Result.SeenValid) {
        MODEL_VALUE Untouched;

        memset(&Untouched, 0xA5, sizeof(Untouched));
        if (Result.Status == STATUS_SUCCESS ? !ModelSameValue(&Result.Seen, &Lock->Value) :
                                              !ModelSameValue(&Result.Seen, &Untouched)) {
            MODEL_FAIL(Run, "%s: *Value has writer %llx serial %llu (%s)", Text,
                       (unsigned long long)Result.Seen.Writer, (unsigned long long)Result.Seen.Serial,
                       Result.Status == STATUS_SUCCESS ? "not the last value" : "touched on failure");
            return;
        }
    }
    if (Result.Status == STATUS_SUCCESS) {
        Lock->Live = FALSE;
        Lock->Handle = NULL;
        Lock->DataPointer = NULL;
    }
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

static VOID
ModelStepCreate(MODEL_RUN *Run, MODEL_THREAD *Thread)
{
    MODEL_LOCK *Lock = NULL;
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    ULONG Roll = ModelPick(Run, 100);
    PCSTR Misuse = "";
    int Index;
    char Text[200];

    for (Index = 0; Index < MODEL_STANDALONE; Index += 1) {
        if (!Run->Locks[Index].Live && (Lock == NULL || ModelChance(Run, 40))) {
            Lock = &Run->Locks[Index];
        }
    }
    if (Lock == NULL) {
        /* A create that must fail, on a lock kind chosen at random. */
        if (Roll >= 40) {
            return;
        }
        Lock = &Run->Locks[ModelPick(Run, MODEL_STANDALONE)];
    }
    memset(&Cmd, 0, sizeof(Cmd));
    Cmd.Op = OP_CREATE;
    Cmd.Kind = Lock->Kind;
    Cmd.Size = MODEL_SIZE;
    Cmd.Write = ModelNewValue(Run, Thread->Index);
    if (Roll < 10) {
        Cmd.NullData = TRUE;
        Misuse = ", InitialValue NULL";
    } else if (Roll < 20) {
        Cmd.Size = 0;
        Misuse = ", size 0";
    } else if (Roll < 30) {
        Cmd.Size = (SIZE_T)WDKM_MAX_DATA_SIZE + 1;
        Misuse = ", size above WDKM_MAX_DATA_SIZE";
    } else if (Roll < 40) {
        Cmd.NullOther = TRUE;
        Misuse = ", out pointer NULL";
    }
    if (Misuse[0] != '\0') {
        ModelExpect(&Expect, STATUS_INVALID_PARAMETER);   /* arguments before the IRQL */
    } else if (Thread->Irql > DISPATCH_LEVEL) {
        ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
    } else {
        ModelExpect(&Expect, STATUS_SUCCESS);
    }
    ModelDescribe(Run, Thread, Text, sizeof(Text), "%sCreate(%s%s)", ModelKindNames[Lock->Kind],
                  Lock->Label, Misuse);
    ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    Run->Stats[OP_CREATE] += 1;
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Text)) {
        if (Result.Status == STATUS_SUCCESS && Result.OutHandle != NULL) {
            (VOID)ModelDestroy(Lock->Kind, Result.OutHandle);   /* leak nothing */
        }
        return;
    }
    if (Result.Status == STATUS_SUCCESS) {
        Lock->Live = TRUE;
        Lock->Handle = Result.OutHandle;
        Lock->Value = Cmd.Write;
        Lock->DataPointer = NULL;
        Lock->Acquisitions = 0;
        Lock->Contended = 0;
    } else if (!Cmd.NullOther && Result.OutHandle != NULL) {
        MODEL_FAIL(Run, "%s failed and left the lock pointer %p (reference.md: NULL on failure)", Text,
                   Result.OutHandle);
        return;
    }
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

/* ---------------------------------------------------------------------- */
/* Registry steps                                                          */
/* ---------------------------------------------------------------------- */

/*
 * The ERESOURCEs alive in the kernel: the model's live resource locks and
 * the registry's deferred ones (ExDeleteResourceLite needs <= APC_LEVEL, so
 * a last dereference at DISPATCH_LEVEL leaves its lock to the next
 * registry writer call or to WdkmGrtDestroy).
 */
static VOID
ModelCheckResources(MODEL_RUN *Run, PCSTR Text)
{
    ULONG Live = 0;
    ULONG Kernel = WdkmHostResourceCount();
    int Index;

    for (Index = 0; Index < MODEL_LOCKS; Index += 1) {
        Live += Run->Locks[Index].Live && Run->Locks[Index].Kind == WdkmLockKindResource ? 1 : 0;
    }
    if (Kernel != Run->BaseResources + Live + Run->Deferred) {
        MODEL_FAIL(Run, "%s: %u ERESOURCEs alive; the model: %u live resource locks and %u whose last "
                   "dereference was at DISPATCH_LEVEL", Text, (unsigned)(Kernel - Run->BaseResources),
                   (unsigned)Live, (unsigned)Run->Deferred);
    }
}

static char ModelLongName[WDKM_GRT_MAX_NAME_LENGTH + 2];

/* A name argument: usually one of the model's, sometimes a wrong one. */
static PCSTR
ModelPickName(MODEL_RUN *Run, int *NameIndex, NTSTATUS *NameError)
{
    ULONG Roll = ModelPick(Run, 100);

    *NameIndex = (int)ModelPick(Run, MODEL_NAMES);
    *NameError = STATUS_SUCCESS;
    if (Roll < 4) {
        *NameError = STATUS_INVALID_PARAMETER;
        return NULL;
    }
    if (Roll < 8) {
        *NameError = STATUS_OBJECT_NAME_INVALID;
        return "";
    }
    if (Roll < 12) {
        *NameError = STATUS_NAME_TOO_LONG;
        return ModelLongName;
    }
    return ModelNames[*NameIndex];
}

static int
ModelFreeInstance(MODEL_RUN *Run)
{
    int Index;

    for (Index = MODEL_STANDALONE; Index < MODEL_LOCKS; Index += 1) {
        if (!Run->Locks[Index].Live) {
            return Index;
        }
    }
    return -1;
}

static VOID
ModelRetireInstance(MODEL_LOCK *Lock)
{
    if (!Lock->Registered && Lock->Refs == 0) {
        Lock->Live = FALSE;   /* freed by the registry */
        Lock->Handle = NULL;
        Lock->DataPointer = NULL;
    }
}

static VOID
ModelStepRegister(MODEL_RUN *Run, MODEL_THREAD *Thread)
{
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    NTSTATUS NameError;
    int Name;
    int Instance = ModelFreeInstance(Run);
    ULONG Roll = ModelPick(Run, 100);
    PCSTR Misuse = "";
    char Text[200];

    if (Instance < 0) {
        return;
    }
    memset(&Cmd, 0, sizeof(Cmd));
    Cmd.Op = OP_REGISTER;
    Cmd.Name = ModelPickName(Run, &Name, &NameError);
    Cmd.Kind = 1 + (int)ModelPick(Run, MODEL_KINDS);
    Cmd.Size = MODEL_SIZE;
    Cmd.Flags = ModelChance(Run, 30) ? WDKM_GRT_REPLACE : 0;
    Cmd.Write = ModelNewValue(Run, Thread->Index);
    if (Roll < 4) {
        Cmd.Kind = ModelChance(Run, 50) ? 0 : 99;
        Misuse = ", bad kind";
    } else if (Roll < 8) {
        Cmd.Flags = 0x80;
        Misuse = ", bad flags";
    } else if (Roll < 12) {
        Cmd.Size = 0;
        Misuse = ", size 0";
    } else if (Roll < 16) {
        Cmd.NullData = TRUE;
        Misuse = ", InitialValue NULL";
    }
    if (Misuse[0] != '\0' && NameError != STATUS_SUCCESS) {
        return;                       /* two errors at once: which one wins is not said */
    } else if (Misuse[0] != '\0') {
        ModelExpect(&Expect, STATUS_INVALID_PARAMETER);   /* arguments before the IRQL */
    } else if (NameError != STATUS_SUCCESS) {
        ModelExpect(&Expect, NameError);
    } else if (Thread->Irql > APC_LEVEL) {
        ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
    } else if (Run->NameInstance[Name] >= 0 && (Cmd.Flags & WDKM_GRT_REPLACE) == 0) {
        ModelExpect(&Expect, STATUS_OBJECT_NAME_COLLISION);
    } else {
        ModelExpect(&Expect, STATUS_SUCCESS);
    }
    ModelDescribe(Run, Thread, Text, sizeof(Text), "WdkmGrtRegister(%s, %s%s%s)",
                  Cmd.Name == NULL ? "NULL" : Cmd.Name[0] == '\0' ? "\"\"" :
                  Cmd.Name == ModelLongName ? "64 characters" : Cmd.Name,
                  Cmd.Kind >= 1 && Cmd.Kind <= MODEL_KINDS ? ModelKindNames[Cmd.Kind] : "kind?",
                  Cmd.Flags & WDKM_GRT_REPLACE ? ", REPLACE" : "", Misuse);
    ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    Run->Stats[OP_REGISTER] += 1;
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Text)) {
        return;
    }
    if (Thread->Irql <= APC_LEVEL && Misuse[0] == '\0' && NameError == STATUS_SUCCESS) {
        Run->Deferred = 0;            /* a writer call past its checks frees them */
    }
    if (Result.Status == STATUS_SUCCESS) {
        MODEL_LOCK *Lock = &Run->Locks[Instance];
        int Old = Run->NameInstance[Name];

        if (Old >= 0) {
            Run->Locks[Old].Registered = FALSE;
            ModelRetireInstance(&Run->Locks[Old]);
        }
        memset(Lock, 0, sizeof(*Lock));
        Lock->Live = TRUE;
        Lock->Registry = TRUE;
        Lock->Registered = TRUE;
        Lock->Kind = Cmd.Kind;
        Lock->Size = Cmd.Size;
        Lock->Value = Cmd.Write;
        Lock->ExclOwner = -1;
        Lock->Waiter = -1;
        snprintf(Lock->Label, sizeof(Lock->Label), "%s#%u %s", ModelNames[Name], (unsigned)Run->Step,
                 ModelKindNames[Cmd.Kind]);
        Run->NameInstance[Name] = Instance;
    }
    ModelCheckResources(Run, Text);
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

static VOID
ModelStepReference(MODEL_RUN *Run, MODEL_THREAD *Thread)
{
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    NTSTATUS NameError;
    int Name;
    int Instance;
    MODEL_LOCK *Lock;
    ULONG Roll = ModelPick(Run, 100);
    char Text[200];

    if (Thread->RefCount >= MODEL_MAX_REFS) {
        return;
    }
    memset(&Cmd, 0, sizeof(Cmd));
    Cmd.Op = OP_REFERENCE;
    Cmd.Name = ModelPickName(Run, &Name, &NameError);
    Instance = Run->NameInstance[Name];
    Lock = Instance >= 0 ? &Run->Locks[Instance] : NULL;
    Cmd.Kind = Lock != NULL && ModelChance(Run, 85) ? Lock->Kind : 1 + (int)ModelPick(Run, MODEL_KINDS);
    Cmd.Size = Roll < 8 ? 8 : MODEL_SIZE;
    Cmd.NullOther = Roll >= 8 && Roll < 12;
    if (NameError != STATUS_SUCCESS) {
        if (Cmd.NullOther) {
            return;                   /* two errors at once */
        }
        ModelExpect(&Expect, NameError);                  /* arguments before the IRQL */
    } else if (Cmd.NullOther) {
        ModelExpect(&Expect, STATUS_INVALID_PARAMETER);
    } else if (Thread->Irql > DISPATCH_LEVEL) {
        ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
    } else if (Lock == NULL) {
        ModelExpect(&Expect, STATUS_OBJECT_NAME_NOT_FOUND);
    } else if (Cmd.Kind != Lock->Kind || Cmd.Size != Lock->Size) {
        ModelExpect(&Expect, STATUS_WDKM_TYPE_MISMATCH);
    } else {
        ModelExpect(&Expect, STATUS_SUCCESS);
    }
    ModelDescribe(Run, Thread, Text, sizeof(Text), "WdkmGrtReference(%s, %s, size %u%s)",
                  Cmd.Name == NULL ? "NULL" : Cmd.Name[0] == '\0' ? "\"\"" :
                  Cmd.Name == ModelLongName ? "64 characters" : Cmd.Name,
                  ModelKindNames[Cmd.Kind], (unsigned)Cmd.Size, Cmd.NullOther ? ", Lock NULL" : "");
    ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    Run->Stats[OP_REFERENCE] += 1;
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Text)) {
        return;
    }
    if (Result.Status == STATUS_SUCCESS) {
        if (Lock->Handle != NULL && Lock->Handle != Result.OutHandle) {
            MODEL_FAIL(Run, "%s returned %p, earlier lookups %p", Text, Result.OutHandle, Lock->Handle);
            return;
        }
        Lock->Handle = Result.OutHandle;
        Lock->Refs += 1;
        Thread->Refs[Thread->RefCount++] = Instance;
    } else if (!Cmd.NullOther && Result.OutHandle != NULL) {
        MODEL_FAIL(Run, "%s returned %s and left *Lock = %p (reference.md: NULL on failure)", Text,
                   WdkmStatusName(Result.Status), Result.OutHandle);
        return;
    }
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

static VOID
ModelStepDereference(MODEL_RUN *Run, MODEL_THREAD *Thread, int Force)
{
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    MODEL_LOCK *Lock = NULL;
    int RefIndex = -1;
    PCSTR What;
    char Text[200];

    memset(&Cmd, 0, sizeof(Cmd));
    Cmd.Op = OP_DEREFERENCE;
    if (Force >= 0 || (Thread->RefCount > 0 && ModelChance(Run, 85))) {
        RefIndex = Force >= 0 ? Force : (int)ModelPick(Run, (ULONG)Thread->RefCount);
        if (Force < 0 && Thread->Irql > APC_LEVEL && ModelChance(Run, 50)) {
            /* Prefer the last reference of an unregistered ERESOURCE: its lock
               cannot be deleted at this IRQL (the registry defers it). */
            int Index;

            for (Index = 0; Index < Thread->RefCount; Index += 1) {
                const MODEL_LOCK *Candidate = &Run->Locks[Thread->Refs[Index]];

                if (Candidate->Kind == WdkmLockKindResource && !Candidate->Registered &&
                    Candidate->Refs == 1) {
                    RefIndex = Index;
                }
            }
        }
        Lock = &Run->Locks[Thread->Refs[RefIndex]];
        Cmd.Handle = Lock->Handle;
        What = Lock->Label;
        if (Lock->Kind == WdkmLockKindPushLock && Lock->ExclOwner != Thread->Index &&
            Lock->Shared[Thread->Index] > 0 && !WDKM_CHECKED) {
            return;                   /* documented as not detected in release builds (leaks) */
        }
    } else if (ModelChance(Run, 50)) {
        What = "NULL";
    } else {
        int Index = (int)ModelPick(Run, MODEL_STANDALONE);

        if (!Run->Locks[Index].Live) {
            return;
        }
        Cmd.Handle = Run->Locks[Index].Handle;
        What = Run->Locks[Index].Label;
    }
    if (Lock != NULL && Thread->Irql >= APC_LEVEL && Thread->Irql <= DISPATCH_LEVEL &&
        ModelHeldBy(Lock, Thread->Index) && !ModelHeldHere(Run, Lock, Thread)) {
        /* A DPC or APC dropping a reference that the code it interrupted
           holds the lock through: the model's references are the thread's,
           a real DPC or APC drops only its own. reference.md: not
           detected. */
        return;
    }
    if (Lock == NULL) {
        ModelExpect(&Expect, STATUS_INVALID_PARAMETER);   /* NULL or not a registry lock: first */
    } else if (Thread->Irql > DISPATCH_LEVEL) {
        ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
    } else if (ModelHeldHere(Run, Lock, Thread)) {
        ModelExpect(&Expect, STATUS_WDKM_LOCK_HELD);
    } else {
        ModelExpect(&Expect, STATUS_SUCCESS);
    }
    ModelDescribe(Run, Thread, Text, sizeof(Text), "WdkmGrtDereference(%s)%s%s", What,
                  Lock == NULL && Cmd.Handle != NULL ? " [not a registry lock]" : "",
                  Lock != NULL && ModelHeldHere(Run, Lock, Thread) ? " [held by the caller]" : "");
    ModelBuildChecks(Run, Thread, &Cmd, Lock != NULL ? ModelLockIndex(Run, Lock) : -1, FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    Run->Stats[OP_DEREFERENCE] += 1;
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Text)) {
        return;
    }
    if (Result.Status == STATUS_SUCCESS) {
        Lock->Refs -= 1;
        Thread->Refs[RefIndex] = Thread->Refs[--Thread->RefCount];
        ModelRetireInstance(Lock);
        if (!Lock->Live && Lock->Kind == WdkmLockKindResource && Thread->Irql > APC_LEVEL) {
            Run->Deferred += 1;
        }
    }
    ModelCheckResources(Run, Text);
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

static VOID
ModelStepUnregister(MODEL_RUN *Run, MODEL_THREAD *Thread)
{
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    NTSTATUS NameError;
    int Name;
    char Text[200];

    memset(&Cmd, 0, sizeof(Cmd));
    Cmd.Op = OP_UNREGISTER;
    Cmd.Name = ModelPickName(Run, &Name, &NameError);
    if (NameError != STATUS_SUCCESS) {
        ModelExpect(&Expect, NameError);                  /* arguments before the IRQL */
    } else if (Thread->Irql > APC_LEVEL) {
        ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
    } else if (Run->NameInstance[Name] < 0) {
        ModelExpect(&Expect, STATUS_OBJECT_NAME_NOT_FOUND);
    } else {
        ModelExpect(&Expect, STATUS_SUCCESS);
    }
    ModelDescribe(Run, Thread, Text, sizeof(Text), "WdkmGrtUnregister(%s)",
                  Cmd.Name == NULL ? "NULL" : Cmd.Name[0] == '\0' ? "\"\"" :
                  Cmd.Name == ModelLongName ? "64 characters" : Cmd.Name);
    ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    Run->Stats[OP_UNREGISTER] += 1;
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Text)) {
        return;
    }
    if (Thread->Irql <= APC_LEVEL && NameError == STATUS_SUCCESS) {
        Run->Deferred = 0;            /* a writer call past its checks frees them */
    }
    if (Result.Status == STATUS_SUCCESS) {
        MODEL_LOCK *Lock = &Run->Locks[Run->NameInstance[Name]];

        Lock->Registered = FALSE;
        Run->NameInstance[Name] = -1;
        ModelRetireInstance(Lock);
    }
    ModelCheckResources(Run, Text);
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

/* IsOwned(NULL) of a kind, and the checked build's CheckNoneHeld. */
static VOID
ModelStepQuery(MODEL_RUN *Run, MODEL_THREAD *Thread)
{
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    BOOLEAN Regions = FALSE;
    BOOLEAN Holds = FALSE;
    int Index;
    char Text[200];

    memset(&Cmd, 0, sizeof(Cmd));
    for (Index = 0; Index < Thread->EntryCount; Index += 1) {
        Holds = Holds || Thread->Entries[Index].Type == ENTRY_HOLD;
        Regions = Regions || Thread->Entries[Index].Type == ENTRY_REGION;
    }
#if WDKM_CHECKED
    if (ModelInDpc(Run, Thread)) {
        /* diagnostics.md: a DPC checks what it acquired itself, not the
           locks or regions of the thread it interrupted. */
        Holds = FALSE;
        Regions = FALSE;
        for (Index = 0; Index < Thread->EntryCount; Index += 1) {
            Holds = Holds || (Thread->Entries[Index].Type == ENTRY_HOLD &&
                              Thread->Entries[Index].AcquireIrql >= DISPATCH_LEVEL);
        }
    }
#endif
    if (ModelChance(Run, 50)) {
        Cmd.Op = OP_ISOWNED_NULL;
        Cmd.Kind = 1 + (int)ModelPick(Run, MODEL_KINDS);
        ModelExpect(&Expect, STATUS_SUCCESS);
        ModelDescribe(Run, Thread, Text, sizeof(Text), "%sIsOwned(NULL)", ModelKindNames[Cmd.Kind]);
    } else {
        Cmd.Op = OP_NONE_HELD;
#if WDKM_CHECKED
        if (Thread->Irql > DISPATCH_LEVEL) {
            ModelExpect(&Expect, STATUS_WDKM_IRQL_TOO_HIGH);
        } else {
            ModelExpect(&Expect, Holds || Regions ? STATUS_WDKM_LOCK_HELD : STATUS_SUCCESS);
        }
#else
        ModelExpect(&Expect, STATUS_NOT_SUPPORTED);
#endif
        ModelDescribe(Run, Thread, Text, sizeof(Text), "WdkmDiagCheckNoneHeld()%s%s",
                      Holds ? " [holds locks]" : "", Regions ? " [in a region]" : "");
    }
    ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    Run->Stats[Cmd.Op] += 1;
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Text)) {
        return;
    }
    if (Cmd.Op == OP_ISOWNED_NULL && Result.Boolean) {
        MODEL_FAIL(Run, "%s returned TRUE", Text);
        return;
    }
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

/* The checked build's figures for one lock and the validator's summary,
   against the model's counts (docs/diagnostics.md, Statistics). */
static VOID
ModelStepDiagnostics(MODEL_RUN *Run, MODEL_THREAD *Thread)
{
    int Candidates[MODEL_LOCKS];
    int Count = ModelCandidates(Run, Thread, Candidates);
    MODEL_LOCK *Lock;
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    BOOLEAN Null = ModelChance(Run, 10);
    ULONG Live = 0;
    ULONG Held = 0;
    ULONG Regions = 0;
    int Index;
    char Text[200];

    if (Count == 0) {
        return;
    }
    Lock = &Run->Locks[Candidates[ModelPick(Run, (ULONG)Count)]];
    if (Thread->Irql > DISPATCH_LEVEL && Null) {
        return;
    }
    memset(&Cmd, 0, sizeof(Cmd));
    Cmd.Op = OP_DIAG_STATS;
    Cmd.Handle = Null ? NULL : Lock->Handle;
#if WDKM_CHECKED
    ModelExpect(&Expect, Thread->Irql > DISPATCH_LEVEL ? STATUS_WDKM_IRQL_TOO_HIGH :
                         Null ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS);
#else
    ModelExpect(&Expect, STATUS_NOT_SUPPORTED);
#endif
    ModelDescribe(Run, Thread, Text, sizeof(Text), "WdkmDiagQueryLockStatistics(%s), WdkmDiagQuerySummary",
                  Null ? "NULL" : Lock->Label);
    ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    Run->Stats[OP_DIAG_STATS] += Result.Status == STATUS_SUCCESS ? 1 : 0;
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Text)) {
        return;
    }
    if (Result.Status == STATUS_SUCCESS &&
        (Result.Statistics.Acquisitions != Lock->Acquisitions ||
         Result.Statistics.Contended > Lock->Contended || Result.Statistics.Locks != 1 ||
         (int)Result.Statistics.Kind != Lock->Kind)) {
        MODEL_FAIL(Run, "%s: acquisitions %llu, contended %llu, locks %u, kind %d; the model: %llu, %llu, 1, %d",
                   Text, (unsigned long long)Result.Statistics.Acquisitions,
                   (unsigned long long)Result.Statistics.Contended, (unsigned)Result.Statistics.Locks,
                   (int)Result.Statistics.Kind, (unsigned long long)Lock->Acquisitions,
                   (unsigned long long)Lock->Contended, Lock->Kind);
        return;
    }
#if WDKM_CHECKED
    for (Index = 0; Index < MODEL_LOCKS; Index += 1) {
        Live += Run->Locks[Index].Live ? 1 : 0;
        Held += Run->Locks[Index].Live && ModelHoldsAny(&Run->Locks[Index]) ? 1 : 0;
    }
    for (Index = 0; Index < MODEL_THREADS; Index += 1) {
        int Entry;

        for (Entry = 0; Entry < Run->Threads[Index].EntryCount; Entry += 1) {
            Regions += Run->Threads[Index].Entries[Entry].Type == ENTRY_REGION ? 1 : 0;
        }
    }
    if (Result.Status == STATUS_SUCCESS && !Run->Inject &&
        (Result.Status2 != STATUS_SUCCESS ||
         Result.Summary.LiveLocks != Run->BaseLiveLocks + Live + Run->Deferred ||
         Result.Summary.HeldLocks != Run->BaseHeldLocks + Held || Result.Summary.UnbalancedRegions != Regions ||
         Result.Summary.Untracked != 0)) {
        MODEL_FAIL(Run, "%s: summary %s, live %u, held %u, regions %u, untracked %u; the model: live %u, held %u, "
                   "regions %u, untracked 0", Text, WdkmStatusName(Result.Status2),
                   (unsigned)Result.Summary.LiveLocks, (unsigned)Result.Summary.HeldLocks,
                   (unsigned)Result.Summary.UnbalancedRegions, (unsigned)Result.Summary.Untracked,
                   (unsigned)(Run->BaseLiveLocks + Live + Run->Deferred), (unsigned)(Run->BaseHeldLocks + Held),
                   (unsigned)Regions);
        return;
    }
#else
    UNREFERENCED_PARAMETER(Index);
    UNREFERENCED_PARAMETER(Live);
    UNREFERENCED_PARAMETER(Held);
    UNREFERENCED_PARAMETER(Regions);
#endif
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}

/* The conductor alerts a thread blocked in an alertable wait: the wait ends
   with STATUS_ALERTED and without the lock. */
static VOID
ModelStepAlert(MODEL_RUN *Run)
{
    MODEL_THREAD *Thread = NULL;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    char Why[300];
    int Index;

    for (Index = 0; Index < MODEL_THREADS; Index += 1) {
        if (Run->Threads[Index].Blocked && Run->Threads[Index].BlockedAlertable &&
            (Thread == NULL || ModelChance(Run, 50))) {
            Thread = &Run->Threads[Index];
        }
    }
    if (Thread == NULL) {
        return;
    }
    ModelNote(Run, "%5u alert T%d", (unsigned)Run->Step, Thread->Index);
    WdkmHostAlertThread(WdkmTestThreadObject(Thread->Thread));
    if (!ModelAwait(Thread, &Result, MODEL_WAIT_SECONDS)) {
        snprintf(Why, sizeof(Why), "hang: %s did not end when its thread was alerted", Thread->BlockedText);
        ModelFatal(Run, Why);
    }
    Thread->Blocked = FALSE;
    Run->Locks[Thread->BlockedLock].Waiter = -1;
    ModelExpect(&Expect, STATUS_ALERTED);
    Run->Stats[STAT_ALERTS] += 1;
    if (!ModelCheckStatus(Run, &Expect, Result.Status, Thread->BlockedText)) {
        return;
    }
    if (Result.Data != NULL) {
        MODEL_FAIL(Run, "%s ended STATUS_ALERTED with *Data = %p", Thread->BlockedText, Result.Data);
        return;
    }
    ModelVerifyAfter(Run, Thread, &Thread->BlockedCmd, &Result, Thread->BlockedText);
}

/* A waiting acquire must still be waiting. */
static VOID
ModelCheckWaiters(MODEL_RUN *Run)
{
    int Index;

    for (Index = 0; Index < MODEL_THREADS && !Run->Failed; Index += 1) {
        MODEL_THREAD *Thread = &Run->Threads[Index];
        MODEL_RESULT Result;

        if (Thread->Blocked && ModelPeekDone(Thread)) {
            (VOID)ModelAwait(Thread, &Result, 1);
            ModelNote(Run, "%5u %s -> %s", (unsigned)Run->Step, Thread->BlockedText,
                      WdkmStatusName(Result.Status));
            MODEL_FAIL(Run, "%s returned %s while %s is still held by T%d", Thread->BlockedText,
                       WdkmStatusName(Result.Status), Run->Locks[Thread->BlockedLock].Label,
                       Run->Locks[Thread->BlockedLock].ExclOwner);
            Thread->Blocked = FALSE;
            Run->Locks[Thread->BlockedLock].Waiter = -1;
        }
    }
}

#ifdef WDKM_HOST_INTERRUPT_KINDS
/*
 * The emulation interrupts the thread (as the processor would, between two
 * instructions of the idle worker) with a DPC or a kernel APC that makes one
 * library call and gives back what it took. To NT the event is the thread:
 * the model predicts its calls from the thread's own state at the event's
 * IRQL (a KMUTEX the thread owns is granted to its DPC's try, by recursion).
 * A masked event is queued instead and must run exactly when the thread
 * unmasks it (checked after each later step).
 */
static VOID
ModelStepInterrupt(MODEL_RUN *Run, MODEL_THREAD *Thread)
{
    static const KIRQL Levels[] = { DISPATCH_LEVEL, PASSIVE_LEVEL, APC_LEVEL };
    static const PCSTR Names[] = { "DPC", "normal APC", "special APC" };
    int Kind = ModelChance(Run, 60) ? MODEL_EVENT_DPC :
               ModelChance(Run, 50) ? MODEL_EVENT_SPECIAL_APC : MODEL_EVENT_NORMAL_APC;
    MODEL_INTERRUPT *Interrupt = &Thread->Interrupt;
    MODEL_CMD Cmd;
    MODEL_RESULT Result;
    MODEL_EXPECT Expect;
    MODEL_PLAN Plan;
    KIRQL Outside = Thread->Irql;
    int HoldsBefore = Thread->EntryCount;
    char Text[240];
    char SubText[260];

    memset(&Cmd, 0, sizeof(Cmd));
    if (ModelMasked(Run, Thread, Kind)) {
        if (Thread->ProbeQueued != (ULONG)__atomic_load_n(&Thread->ProbeRan, __ATOMIC_ACQUIRE)) {
            return;                   /* one pending event at a time */
        }
        Cmd.Op = OP_PROBE;
        Cmd.Form = Kind;
        Cmd.Arg = Thread;
        Thread->ProbeKind = Kind;
        Thread->ProbeQueued += 1;
        ModelDescribe(Run, Thread, Text, sizeof(Text), "WdkmHostQueueInterrupt(itself, %s) [masked: runs when "
                      "the thread unmasks it]", Names[Kind]);
        ModelExpect(&Expect, STATUS_SUCCESS);
        ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
        ModelRunSync(Run, Thread, &Cmd, &Result, Text);
        Run->Stats[STAT_DEFERRED] += 1;
        if (ModelCheckStatus(Run, &Expect, Result.Status, Text)) {
            ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
        }
        return;
    }

    /* The event's one call, planned at its IRQL on the thread's state. */
    Thread->Irql = Levels[Kind];
    if (!ModelPlanAcquire(Run, Thread, &Plan, TRUE) || Thread->EntryCount >= MODEL_MAX_ENTRIES) {
        Thread->Irql = Outside;
        return;
    }
    Thread->Irql = Outside;
    memset(Interrupt, 0, sizeof(*Interrupt));
    Interrupt->Kind = Kind;
    Interrupt->ReleaseIfAcquired = TRUE;
    Cmd.Op = OP_INTERRUPT;
    Cmd.Arg = Interrupt;
    ModelBuildChecks(Run, Thread, &Cmd, -1, FALSE);
    Interrupt->Sub[0] = Plan.Cmd;
    Interrupt->Sub[0].CheckCount = Cmd.CheckCount;
    memcpy(Interrupt->Sub[0].CheckHandle, Cmd.CheckHandle, sizeof(Cmd.CheckHandle));
    memcpy(Interrupt->Sub[0].CheckKind, Cmd.CheckKind, sizeof(Cmd.CheckKind));
    ModelDescribe(Run, Thread, Text, sizeof(Text), "an injected %s runs on the thread", Names[Kind]);
    snprintf(SubText, sizeof(SubText), "[in the %s] %s", Names[Kind], Plan.Text);
    strncpy(Plan.Text, SubText, sizeof(Plan.Text) - 1);
    Plan.Text[sizeof(Plan.Text) - 1] = '\0';
    ModelRunSync(Run, Thread, &Cmd, &Result, Text);
    Run->Stats[STAT_INJECTED] += 1;
    ModelNote(Run, "%5u %s", (unsigned)Run->Step, Text);
    if (!Result.Boolean || Interrupt->IrqlInside != Levels[Kind]) {
        MODEL_FAIL(Run, "%s: the unmasked event %s (at %s)", Text,
                   Result.Boolean ? "ran at the wrong IRQL" : "did not run before WdkmHostQueueInterrupt returned",
                   ModelIrqlName(Interrupt->IrqlInside));
        return;
    }

    /* Its call, then the release it made if it acquired, against the model. */
    Thread->Irql = Levels[Kind];
    Run->InEvent = TRUE;
    Run->Stats[STAT_INJECTED_OPS] += 1;
    if (!ModelFinishAcquire(Run, Thread, &Plan, &Interrupt->SubResult[0])) {
        Thread->Irql = Outside;
        Run->InEvent = FALSE;
        return;
    }
    ModelVerifyAfter(Run, Thread, &Interrupt->Sub[0], &Interrupt->SubResult[0], Plan.Text);
    if (Interrupt->SubResult[0].Status == STATUS_SUCCESS && !Run->Failed) {
        int EntryIndex = Thread->EntryCount - 1;
        MODEL_ENTRY *Entry = &Thread->Entries[EntryIndex];

        ModelExpectRelease(Run, Thread, Plan.Lock, Entry, &Interrupt->Sub[1], FALSE, FALSE, &Expect);
        snprintf(SubText, sizeof(SubText), "[in the %s] T%d@%s %s(%s)", Names[Kind], Thread->Index,
                 ModelIrqlName(Thread->Irql), ModelReleaseName(Plan.Lock->Kind, Interrupt->Sub[1].Form),
                 Plan.Lock->Label);
        if (!Interrupt->SecondRan) {
            MODEL_FAIL(Run, "%s was not made", SubText);
            return;
        }
        Run->Stats[STAT_INJECTED_OPS] += 1;
        if (!ModelCheckStatus(Run, &Expect, Interrupt->SubResult[1].Status, SubText)) {
            return;
        }
        if (Interrupt->SubResult[1].Status == STATUS_SUCCESS) {
            ModelApplyRelease(Run, Thread, EntryIndex);
        }
        ModelVerifyAfter(Run, Thread, &Interrupt->Sub[1], &Interrupt->SubResult[1], SubText);
    }
    Thread->Irql = Outside;
    Run->InEvent = FALSE;
    if (Thread->EntryCount != HoldsBefore && !Run->Failed) {
        MODEL_FAIL(Run, "%s kept a hold after it returned", Text);
        return;
    }
    ModelVerifyAfter(Run, Thread, &Cmd, &Result, Text);
}
#endif

/* ---------------------------------------------------------------------- */
/* Random injection under the walk                                         */
/* ---------------------------------------------------------------------- */
#ifdef WDKM_HOST_INTERRUPT_KINDS

/*
 * With random injection on (WdkmHostInterruptsStart), DPCs and kernel APCs
 * interrupt the workers anywhere: in their own code and inside library
 * calls. They use locks of their own, so the walk's model is not theirs to
 * change; what each of their calls may answer is still the documented
 * set, and each lock's value is whole when its holder enters and leaves.
 * DPCs and APCs take different KMUTEXes: an APC's KMUTEX taken again by a
 * DPC on the same thread is issue 15.1, which the walk covers.
 */
typedef struct _MODEL_ASYNC {
    PWDKM_KMUTEX DpcMutex;        /* DPCs only: tried at DISPATCH_LEVEL */
    PWDKM_KMUTEX ApcMutex;        /* APCs only */
    PWDKM_SPIN_LOCK Spin;         /* DPCs at DISPATCH_LEVEL, APCs through the raising acquire */
    PWDKM_FAST_MUTEX Fast;        /* special APCs (tries) and normal APCs */
    LONG64 Calls;
    LONG64 Acquired;
    LONG64 Busy;
    LONG Failed;                  /* set once: the first wrong answer is in Why */
    LONG TearingDown;             /* WdkmGrtDestroy has been called: lookups may be refused */
    char Why[400];
} MODEL_ASYNC;

static MODEL_ASYNC ModelAsync;

static const PCSTR ModelAsyncName = "model.async";

static VOID
ModelPrintAsyncState(VOID)
{
    if (__atomic_load_n(&ModelAsync.Failed, __ATOMIC_ACQUIRE) != 0) {
        printf("    model: an injected event went wrong first: %s\n", ModelAsync.Why);
    }
}

static VOID
ModelAsyncFail(PCSTR Format, ...)
{
    va_list Arguments;

    if (__atomic_exchange_n(&ModelAsync.Failed, 1, __ATOMIC_ACQ_REL) != 0) {
        return;
    }
    va_start(Arguments, Format);
    vsnprintf(ModelAsync.Why, sizeof(ModelAsync.Why), Format, Arguments);
    va_end(Arguments);
    snprintf(ModelAsync.Why + strlen(ModelAsync.Why), sizeof(ModelAsync.Why) - strlen(ModelAsync.Why),
             " [it interrupted T%d in operation %d on a %s]", ModelWorkerIndex, ModelWorkerOp,
             ModelWorkerKind >= 1 && ModelWorkerKind <= MODEL_KINDS ? ModelKindNames[ModelWorkerKind] : "-");
}

/* The holder's check of a value, then its own pattern. */
static VOID
ModelAsyncTouch(PVOID Data, PCSTR What)
{
    MODEL_VALUE *Value = (MODEL_VALUE *)Data;
    MODEL_VALUE Mine;

    if (Value->Check != ~(Value->Writer ^ (Value->Serial * 0x9E3779B97F4A7C15ULL))) {
        ModelAsyncFail("%s: the holder found a torn value (writer %llx serial %llu)", What,
                       (unsigned long long)Value->Writer, (unsigned long long)Value->Serial);
        return;
    }
    Mine.Writer = (ULONG64)(ULONG_PTR)KeGetCurrentThread();
    Mine.Serial = Value->Serial + 1;
    Mine.Check = ~(Mine.Writer ^ (Mine.Serial * 0x9E3779B97F4A7C15ULL));
    Value->Writer = Mine.Writer;
    Value->Serial = Mine.Serial;
    Value->Check = Mine.Check;
}

static VOID
ModelAsyncExpect(NTSTATUS Status, NTSTATUS A, NTSTATUS B, PCSTR What)
{
    __atomic_fetch_add(&ModelAsync.Calls, 1, __ATOMIC_RELAXED);
    if (Status == STATUS_SUCCESS) {
        __atomic_fetch_add(&ModelAsync.Acquired, 1, __ATOMIC_RELAXED);
    } else if (Status == STATUS_TIMEOUT) {
        __atomic_fetch_add(&ModelAsync.Busy, 1, __ATOMIC_RELAXED);
    }
    if (Status != A && Status != B) {
        ModelAsyncFail("%s returned %s, the documentation says %s or %s", What, WdkmStatusName(Status),
                       WdkmStatusName(A), WdkmStatusName(B));
    }
}

static VOID
ModelAsyncRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    KIRQL Irql = KeGetCurrentIrql();
    PVOID Data;
    PVOID Lock;
    KIRQL Old;
    NTSTATUS Status;
    LARGE_INTEGER Timeout;
    BOOLEAN Down;

    UNREFERENCED_PARAMETER(Context);
    if (Irql != (Kind == WdkmHostInterruptDpc ? DISPATCH_LEVEL :
                 Kind == WdkmHostInterruptSpecialApc ? APC_LEVEL : PASSIVE_LEVEL)) {
        ModelAsyncFail("an injected event of kind %d runs at %s", (int)Kind, ModelIrqlName(Irql));
        return;
    }
    switch ((Random >> 8) % 3) {
    case 0:
        /* A registry lookup from any context. */
        Down = __atomic_load_n(&ModelAsync.TearingDown, __ATOMIC_ACQUIRE) != 0;
        Status = WdkmGrtReference(ModelAsyncName, WdkmLockKindKMutex, MODEL_SIZE, &Lock);
        if (Down && (Status == STATUS_DELETE_PENDING || Status == STATUS_WDKM_NOT_INITIALIZED)) {
            __atomic_fetch_add(&ModelAsync.Calls, 1, __ATOMIC_RELAXED);
            return;                   /* unload has begun: refused, as documented */
        }
        ModelAsyncExpect(Status, STATUS_SUCCESS, STATUS_SUCCESS, "WdkmGrtReference in an injected event");
        if (Status == STATUS_SUCCESS) {
            ModelAsyncExpect(WdkmGrtDereference(Lock), STATUS_SUCCESS, STATUS_SUCCESS,
                             "WdkmGrtDereference in an injected event");
        }
        return;
    case 1:
        if (Kind == WdkmHostInterruptDpc) {
            Status = WdkmSpinLockAcquireAtDpcLevel(ModelAsync.Spin, MODEL_SIZE, &Data);
            ModelAsyncExpect(Status, STATUS_SUCCESS, STATUS_SUCCESS, "WdkmSpinLockAcquireAtDpcLevel in a DPC");
            if (Status == STATUS_SUCCESS) {
                ModelAsyncTouch(Data, "spin lock in a DPC");
                ModelAsyncExpect(WdkmSpinLockReleaseFromDpcLevel(ModelAsync.Spin), STATUS_SUCCESS,
                                 STATUS_SUCCESS, "WdkmSpinLockReleaseFromDpcLevel in a DPC");
            }
        } else {
            Status = WdkmSpinLockAcquire(ModelAsync.Spin, MODEL_SIZE, &Old, &Data);
            ModelAsyncExpect(Status, STATUS_SUCCESS, STATUS_SUCCESS, "WdkmSpinLockAcquire in an APC");
            if (Status == STATUS_SUCCESS) {
                ModelAsyncTouch(Data, "spin lock in an APC");
                ModelAsyncExpect(WdkmSpinLockRelease(ModelAsync.Spin, Old), STATUS_SUCCESS, STATUS_SUCCESS,
                                 "WdkmSpinLockRelease in an APC");
            }
        }
        break;
    default:
        if (Kind == WdkmHostInterruptDpc) {
            Status = WdkmKMutexTryAcquire(ModelAsync.DpcMutex, MODEL_SIZE, &Data);
            ModelAsyncExpect(Status, STATUS_SUCCESS, STATUS_TIMEOUT, "WdkmKMutexTryAcquire in a DPC");
            if (Status == STATUS_SUCCESS) {
                ModelAsyncTouch(Data, "KMUTEX in a DPC");
                ModelAsyncExpect(WdkmKMutexRelease(ModelAsync.DpcMutex), STATUS_SUCCESS, STATUS_SUCCESS,
                                 "WdkmKMutexRelease in a DPC");
            }
        } else if (Kind == WdkmHostInterruptSpecialApc && (Random & 1) != 0) {
            Status = WdkmFastMutexTryAcquire(ModelAsync.Fast, MODEL_SIZE, &Data);
            ModelAsyncExpect(Status, STATUS_SUCCESS, STATUS_TIMEOUT, "WdkmFastMutexTryAcquire in a special APC");
            if (Status == STATUS_SUCCESS) {
                ModelAsyncTouch(Data, "FAST_MUTEX in a special APC");
                ModelAsyncExpect(WdkmFastMutexRelease(ModelAsync.Fast), STATUS_SUCCESS, STATUS_SUCCESS,
                                 "WdkmFastMutexRelease in a special APC");
            }
        } else {
            BOOLEAN Owned = WdkmKMutexIsOwned(ModelAsync.ApcMutex);
            int Beneath = ModelInApcMutexCall;
            char What[200];

            Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(20);
            ModelInApcMutexCall = Beneath + 1;
            Status = WdkmKMutexAcquireTimeout(ModelAsync.ApcMutex, MODEL_SIZE, &Timeout, &Data);
            ModelInApcMutexCall = Beneath;
            snprintf(What, sizeof(What), "WdkmKMutexAcquireTimeout in a %s APC at %s (the thread %s the mutex; "
                     "%s)", Kind == WdkmHostInterruptSpecialApc ? "special" : "normal", ModelIrqlName(Irql),
                     Owned ? "owns" : "does not own",
                     Beneath ? "it interrupted an APC inside an acquire or release of that mutex" :
                               "no event beneath was in a call on it");
            if (Beneath && Kind == WdkmHostInterruptSpecialApc && Status == STATUS_POSSIBLE_DEADLOCK) {
                /* The code beneath is inside a call on the mutex, where the kernel's
                   ownership and the library's record differ: the kernel's recursive
                   grant is given back (reference.md, KMUTEX). Nothing is held. */
                __atomic_fetch_add(&ModelAsync.Busy, 1, __ATOMIC_RELAXED);
                ModelAsyncExpect(Status, STATUS_POSSIBLE_DEADLOCK, STATUS_POSSIBLE_DEADLOCK, What);
            } else {
                ModelAsyncExpect(Status, STATUS_SUCCESS, STATUS_TIMEOUT, What);
            }
            if (Status == STATUS_SUCCESS) {
                ModelAsyncTouch(Data, "KMUTEX in an APC");
                ModelInApcMutexCall = Beneath + 1;
                Status = WdkmKMutexRelease(ModelAsync.ApcMutex);
                ModelInApcMutexCall = Beneath;
                ModelAsyncExpect(Status, STATUS_SUCCESS, STATUS_SUCCESS, "WdkmKMutexRelease in an APC");
            }
        }
        break;
    }
    if (KeGetCurrentIrql() != Irql) {
        ModelAsyncFail("an injected event of kind %d ends at %s, it began at %s", (int)Kind,
                       ModelIrqlName(KeGetCurrentIrql()), ModelIrqlName(Irql));
    }
}

static VOID
ModelAsyncStart(MODEL_RUN *Run)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    MODEL_VALUE Initial;

    memset(&ModelAsync, 0, sizeof(ModelAsync));
    Initial = ModelNewValue(Run, -1);
    if (WdkmKMutexCreate(&Initial, MODEL_SIZE, &ModelAsync.DpcMutex) != STATUS_SUCCESS ||
        WdkmKMutexCreate(&Initial, MODEL_SIZE, &ModelAsync.ApcMutex) != STATUS_SUCCESS ||
        WdkmSpinLockCreate(&Initial, MODEL_SIZE, &ModelAsync.Spin) != STATUS_SUCCESS ||
        WdkmFastMutexCreate(&Initial, MODEL_SIZE, &ModelAsync.Fast) != STATUS_SUCCESS ||
        WdkmGrtRegister(ModelAsyncName, WdkmLockKindKMutex, &Initial, MODEL_SIZE, 0) != STATUS_SUCCESS) {
        MODEL_FAIL(Run, "cannot create the injected events' locks");
        return;
    }
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = Run->Seed;
    Settings.MeanIntervalMicroseconds = 50;
    Settings.DpcWeight = 2;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 100;
    Settings.Routine = ModelAsyncRoutine;
    WdkmHostInterruptsStart(&Settings);
}

static VOID
ModelAsyncStop(MODEL_RUN *Run)
{
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];

    WdkmHostInterruptsStop();
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    if (ModelAsync.Failed) {
        MODEL_FAIL(Run, "with injection seed %llu: %s", (unsigned long long)Run->Seed, ModelAsync.Why);
    }
    if (getenv("WDKM_MODEL_VERBOSE") != NULL) {
        printf("    model: seed %llu: injected %llu DPCs, %llu normal APCs, %llu special APCs; "
               "%lld calls in them, %lld acquired, %lld busy\n", (unsigned long long)Run->Seed,
               (unsigned long long)Delivered[WdkmHostInterruptDpc],
               (unsigned long long)Delivered[WdkmHostInterruptNormalApc],
               (unsigned long long)Delivered[WdkmHostInterruptSpecialApc], (long long)ModelAsync.Calls,
               (long long)ModelAsync.Acquired, (long long)ModelAsync.Busy);
    }
    if (ModelAsync.DpcMutex != NULL) {
        (VOID)WdkmKMutexDestroy(ModelAsync.DpcMutex);
        (VOID)WdkmKMutexDestroy(ModelAsync.ApcMutex);
        (VOID)WdkmSpinLockDestroy(ModelAsync.Spin);
        (VOID)WdkmFastMutexDestroy(ModelAsync.Fast);
    }
}
#endif

#ifndef WDKM_HOST_INTERRUPT_KINDS
static VOID
ModelPrintAsyncState(VOID)
{
}
#endif

/* ---------------------------------------------------------------------- */
/* The walk                                                                */
/* ---------------------------------------------------------------------- */

static VOID
ModelStep(MODEL_RUN *Run)
{
    MODEL_THREAD *Thread = NULL;
    int Runnable[MODEL_THREADS];
    int Count = 0;
    int Index;
    ULONG Roll;

    for (Index = 0; Index < MODEL_THREADS; Index += 1) {
        if (!Run->Threads[Index].Blocked) {
            Runnable[Count++] = Index;
        }
    }
    if (Count == 0) {
        ModelFatal(Run, "model error: every thread waits");
    }
    Thread = &Run->Threads[Runnable[ModelPick(Run, (ULONG)Count)]];
    Roll = ModelPick(Run, 100);
    /* Keep holds short: a thread deep in locks or at HIGH_LEVEL unwinds first. */
    if ((Thread->EntryCount > 5 || Thread->Irql == HIGH_LEVEL) && ModelChance(Run, 60)) {
        Roll = Thread->EntryCount > 0 && Thread->Entries[Thread->EntryCount - 1].Type == ENTRY_RAISE ?
               60 : 30;
    }
    if (Roll < 26) {
        ModelStepAcquire(Run, Thread);
    } else if (Roll < 48) {
        ModelStepRelease(Run, Thread, -1);
    } else if (Roll < 55) {
        ModelStepRaise(Run, Thread);
    } else if (Roll < 61) {
        ModelStepLower(Run, Thread);
    } else if (Roll < 66) {
        ModelStepRegion(Run, Thread, -1);
    } else if (Roll < 70) {
        ModelStepDestroy(Run, Thread);
    } else if (Roll < 73) {
        ModelStepCreate(Run, Thread);
    } else if (Roll < 76) {
        ModelStepRegister(Run, Thread);
    } else if (Roll < 81) {
        ModelStepReference(Run, Thread);
    } else if (Roll < 85) {
        ModelStepDereference(Run, Thread, -1);
    } else if (Roll < 87) {
        ModelStepUnregister(Run, Thread);
    } else if (Roll < 90) {
        ModelStepQuery(Run, Thread);
    } else if (Roll < 92) {
        ModelStepDiagnostics(Run, Thread);
    } else if (Roll < 94) {
        ModelStepAlert(Run);
    } else {
#ifdef WDKM_HOST_INTERRUPT_KINDS
        ModelStepInterrupt(Run, Thread);
#endif
    }
    ModelCheckWaiters(Run);
}

/*
 * Unload while locks are still referenced, some of them held: WdkmGrtDestroy
 * frees what nobody references, reports the rest and answers STATUS_TIMEOUT;
 * lookups are refused from then on, Initialize too until a later Destroy
 * completes, and the holders keep working locks (reference.md, registry).
 */
static VOID
ModelTeardownWhileReferenced(MODEL_RUN *Run)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;
    NTSTATUS Status;
    PVOID Lock = (PVOID)(ULONG_PTR)0x1;
    ULONG Referenced = 0;
    ULONG Held = 0;
    ULONG Unregistered = 0;
    ULONG Freed = 0;
    ULONG Index;
    int Instance;

    for (Instance = MODEL_STANDALONE; Instance < MODEL_LOCKS; Instance += 1) {
        const MODEL_LOCK *Entry = &Run->Locks[Instance];

        if (!Entry->Live || !Entry->Registry) {
            continue;
        }
        if (Entry->Registered) {
            if (Entry->Refs > 0) {
                Referenced += 1;
                Held += ModelHoldsAny(Entry) ? 1 : 0;
            } else {
                Freed += 1;
            }
        } else if (Entry->Refs > 0) {
            Unregistered += 1;
        }
    }
    if (Referenced + Unregistered == 0 || (Run->Inject && !Run->OwnInjection)) {
        /* Injection from the environment runs registry lookups of its own that
           this walk cannot stop: a Destroy timing out while one is in flight
           frees nothing yet (reference.md), so the report is not the model's. */
        return;
    }
#ifdef WDKM_HOST_INTERRUPT_KINDS
    if (Run->OwnInjection) {
        /* Injection stops first, so that the events' own registered lock is
           unreferenced: Destroy frees it. */
        __atomic_store_n(&ModelAsync.TearingDown, 1, __ATOMIC_RELEASE);
        WdkmHostInterruptsStop();
        Freed += 1;
    }
#endif
    Run->Step += 1;
    memset(&Report, 0xCC, sizeof(Report));
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(2);
    Status = WdkmGrtDestroy(&Timeout, &Report);
    ModelNote(Run, "%5u conductor WdkmGrtDestroy(-2ms) with %u registered locks referenced (%u held), "
              "%u unregistered referenced, %u unreferenced -> %s", (unsigned)Run->Step, (unsigned)Referenced,
              (unsigned)Held, (unsigned)Unregistered, (unsigned)Freed, WdkmStatusName(Status));
    if (Status != STATUS_TIMEOUT) {
        MODEL_FAIL(Run, "WdkmGrtDestroy with locks referenced returned %s, expected STATUS_TIMEOUT",
                   WdkmStatusName(Status));
        return;
    }
    /* Destroy frees the deferred ERESOURCEs too, and counts them. */
    Freed += Run->Deferred;
    Run->Deferred = 0;
    if (Report.Freed != Freed ||
        Report.StillReferenced != Referenced || Report.StillHeld != Held ||
        Report.UnregisteredReferenced != Unregistered) {
        for (Instance = MODEL_STANDALONE; Instance < MODEL_LOCKS; Instance += 1) {
            const MODEL_LOCK *Entry = &Run->Locks[Instance];

            if (Entry->Live) {
                printf("    model: registry lock %s: %s, %d references, %s\n", Entry->Label,
                       Entry->Registered ? "registered" : "unregistered", Entry->Refs,
                       ModelHoldsAny(Entry) ? "held" : "not held");
            }
        }
        MODEL_FAIL(Run, "WdkmGrtDestroy's report: Freed %u, StillReferenced %u, StillHeld %u, "
                   "UnregisteredReferenced %u; the model: %u, %u, %u, %u", (unsigned)Report.Freed,
                   (unsigned)Report.StillReferenced, (unsigned)Report.StillHeld,
                   (unsigned)Report.UnregisteredReferenced, (unsigned)Freed, (unsigned)Referenced,
                   (unsigned)Held, (unsigned)Unregistered);
        return;
    }
    if (Report.NamesReported > WDKM_GRT_REPORT_NAMES ||
        Report.NamesReported != (Referenced + Unregistered < WDKM_GRT_REPORT_NAMES ? Referenced + Unregistered :
                                 WDKM_GRT_REPORT_NAMES)) {
        MODEL_FAIL(Run, "WdkmGrtDestroy reported %u names for %u referenced locks",
                   (unsigned)Report.NamesReported, (unsigned)Referenced);
        return;
    }
    for (Index = 0; Index < Report.NamesReported && Index < WDKM_GRT_REPORT_NAMES; Index += 1) {
        BOOLEAN Known = FALSE;

        for (Instance = MODEL_STANDALONE; Instance < MODEL_LOCKS; Instance += 1) {
            const MODEL_LOCK *Entry = &Run->Locks[Instance];
            int Name;

            for (Name = 0; Name < MODEL_NAMES; Name += 1) {
                if (Entry->Live && Entry->Refs > 0 && strncmp(Entry->Label, ModelNames[Name], strlen(ModelNames[Name])) == 0 &&
                    Entry->Label[strlen(ModelNames[Name])] == '#' &&
                    strcmp(Report.Names[Index], ModelNames[Name]) == 0 &&
                    Report.Held[Index] == ModelHoldsAny(Entry)) {
                    Known = TRUE;
                }
            }
        }
        if (!Known) {
            MODEL_FAIL(Run, "WdkmGrtDestroy reported \"%.64s\" (held %d), not a referenced lock of that state",
                       Report.Names[Index], (int)Report.Held[Index]);
            return;
        }
    }
    /* What nobody referenced is gone, the rest is no longer registered (its
       last dereference frees it); the registry refuses lookups and a new start. */
    for (Instance = MODEL_STANDALONE; Instance < MODEL_LOCKS; Instance += 1) {
        MODEL_LOCK *Entry = &Run->Locks[Instance];

        if (Entry->Live && Entry->Registry) {
            Entry->Registered = FALSE;
            ModelRetireInstance(Entry);
        }
    }
#if WDKM_CHECKED
    {
        WDKM_DIAG_SUMMARY Summary;

        if (WdkmDiagQuerySummary(&Summary) == STATUS_SUCCESS) {
            Run->BaseLiveLocks = Summary.LiveLocks;
            Run->BaseHeldLocks = Summary.HeldLocks;
        }
    }
#endif
    for (Index = 0; Index < MODEL_NAMES; Index += 1) {
        Run->NameInstance[Index] = -1;
    }
    Status = WdkmGrtReference(ModelNames[0], WdkmLockKindKMutex, MODEL_SIZE, &Lock);
    if ((Status != STATUS_WDKM_NOT_INITIALIZED && Status != STATUS_DELETE_PENDING) || Lock != NULL) {
        MODEL_FAIL(Run, "WdkmGrtReference after a WdkmGrtDestroy that timed out returned %s (*Lock %p), "
                   "expected STATUS_WDKM_NOT_INITIALIZED or STATUS_DELETE_PENDING", WdkmStatusName(Status), Lock);
        return;
    }
    Status = WdkmGrtInitialize();
    if (Status != STATUS_WDKM_ALREADY_INITIALIZED) {
        MODEL_FAIL(Run, "WdkmGrtInitialize after a WdkmGrtDestroy that timed out returned %s, expected "
                   "STATUS_WDKM_ALREADY_INITIALIZED (\"also while an earlier WdkmGrtDestroy is unfinished\")",
                   WdkmStatusName(Status));
        return;
    }
    Run->Stats[OP_QUERY] += 1;
}

/* Every thread gives back what it holds, in reverse order, then its references. */
static VOID
ModelUnwind(MODEL_RUN *Run)
{
    int Round;
    int Index;

    for (Round = 0; Round < 10000 && !Run->Failed; Round += 1) {
        BOOLEAN Busy = FALSE;

        for (Index = 0; Index < MODEL_THREADS && !Run->Failed; Index += 1) {
            MODEL_THREAD *Thread = &Run->Threads[Index];

            Busy = Busy || Thread->Blocked || Thread->EntryCount > 0;
            if (Thread->Blocked || Thread->EntryCount == 0) {
                continue;
            }
            Run->Step += 1;
            switch (Thread->Entries[Thread->EntryCount - 1].Type) {
            case ENTRY_HOLD: ModelStepRelease(Run, Thread, Thread->EntryCount - 1); break;
            case ENTRY_RAISE: ModelStepLower(Run, Thread); break;
            default: ModelStepRegion(Run, Thread, Thread->EntryCount - 1); break;
            }
            ModelCheckWaiters(Run);
        }
        if (!Busy) {
            break;
        }
    }
    for (Index = 0; Index < MODEL_THREADS && !Run->Failed; Index += 1) {
        MODEL_THREAD *Thread = &Run->Threads[Index];

        while (Thread->RefCount > 0 && !Run->Failed) {
            Run->Step += 1;
            ModelStepDereference(Run, Thread, Thread->RefCount - 1);
        }
    }
}

static VOID
ModelRunSeed(ULONG64 Seed, ULONG Steps, BOOLEAN Inject)
{
    MODEL_RUN *Run = (MODEL_RUN *)calloc(1, sizeof(MODEL_RUN));
    int Index;
    NTSTATUS Status;

    if (Run == NULL) {
        WdkmTestFail(__FILE__, __LINE__, "out of memory");
        return;
    }
    ModelCurrentRun = Run;
    Run->Seed = Seed;
    Run->Rng = Seed * 0x9E3779B97F4A7C15ULL + 0x5EEDULL;
    Run->Steps = Steps;
    Run->Inject = Inject;
    Run->OwnInjection = Inject;
#ifdef WDKM_HOST_INTERRUPT_KINDS
    /* Injection started from the environment (make check-interrupts) counts too. */
    Run->Inject = Run->Inject || WdkmHostInterruptsActive(NULL);
#endif
    memset(ModelLongName, 'x', WDKM_GRT_MAX_NAME_LENGTH + 1);
    ModelLongName[WDKM_GRT_MAX_NAME_LENGTH + 1] = '\0';
    WdkmHostSetBugcheckHandler(ModelBugcheckHandler, Run);
    WdkmHostSetDebugPrintSink(ModelQuietSink, NULL);

    Status = WdkmGrtInitialize();
    if (Status != STATUS_SUCCESS) {
        MODEL_FAIL(Run, "WdkmGrtInitialize returned %s", WdkmStatusName(Status));
        goto Out;
    }
    Run->BaseResources = WdkmHostResourceCount();
#if WDKM_CHECKED
    {
        WDKM_DIAG_SUMMARY Summary;

        if (WdkmDiagQuerySummary(&Summary) == STATUS_SUCCESS) {
            Run->BaseLiveLocks = Summary.LiveLocks;
            Run->BaseHeldLocks = Summary.HeldLocks;
        }
    }
#endif
    for (Index = 0; Index < MODEL_NAMES; Index += 1) {
        Run->NameInstance[Index] = -1;
    }
    for (Index = 0; Index < MODEL_LOCKS; Index += 1) {
        MODEL_LOCK *Lock = &Run->Locks[Index];

        Lock->ExclOwner = -1;
        Lock->Waiter = -1;
        if (Index < MODEL_STANDALONE) {
            Lock->Kind = 1 + Index / MODEL_PER_KIND;
            Lock->Size = MODEL_SIZE;
            Lock->Value = ModelNewValue(Run, -1);
            snprintf(Lock->Label, sizeof(Lock->Label), "%s#%d", ModelKindNames[Lock->Kind],
                     Index % MODEL_PER_KIND);
            Status = ModelCreate(Lock->Kind, &Lock->Value, Lock->Size, &Lock->Handle);
            if (Status != STATUS_SUCCESS) {
                MODEL_FAIL(Run, "creating %s returned %s", Lock->Label, WdkmStatusName(Status));
                goto Out;
            }
            Lock->Live = TRUE;
        }
    }
#ifdef WDKM_HOST_INTERRUPT_KINDS
    if (Inject) {
        ModelAsyncStart(Run);
    }
#else
    UNREFERENCED_PARAMETER(Inject);
#endif
    for (Index = 0; Index < MODEL_THREADS; Index += 1) {
        MODEL_THREAD *Thread = &Run->Threads[Index];

        Thread->Index = Index;
        Thread->Irql = PASSIVE_LEVEL;
        pthread_mutex_init(&Thread->Mutex, NULL);
        pthread_cond_init(&Thread->Cond, NULL);
        Thread->Thread = WdkmTestStartThread(ModelWorker, Thread);
        if (Thread->Thread == NULL) {
            ModelFatal(Run, "cannot start a worker thread");
        }
    }

    for (Run->Step = 1; Run->Step <= Steps && !Run->Failed; Run->Step += 1) {
        ModelStep(Run);
#if defined(MODEL_DIAG_EVERY) && WDKM_CHECKED
        {
            WDKM_DIAG_SUMMARY Summary;
            ULONG Live = 0;

            for (Index = 0; Index < MODEL_LOCKS; Index += 1) {
                Live += Run->Locks[Index].Live ? 1 : 0;
            }
            if (WdkmDiagQuerySummary(&Summary) == STATUS_SUCCESS && Summary.LiveLocks != Run->BaseLiveLocks + Live &&
                Run->Deferred == 0) {
                MODEL_FAIL(Run, "debug: live locks %u, the model %u", (unsigned)Summary.LiveLocks,
                           (unsigned)(Run->BaseLiveLocks + Live));
            }
        }
#endif
    }
    if (!Run->Failed) {
        ModelTeardownWhileReferenced(Run);
    }
    ModelUnwind(Run);
    if (Run->Failed) {
        /* Threads may be stuck in the library, holding what the model cannot
           give back: leave them, report, and stop the program's other suites
           from inheriting the registry. */
        printf("FAIL model.%s\n", Inject ? "injected_walk" : "walk");
        fflush(stdout);
        _exit(1);
    }
    for (Index = 0; Index < MODEL_THREADS; Index += 1) {
        MODEL_THREAD *Thread = &Run->Threads[Index];
        MODEL_CMD Cmd;
        MODEL_RESULT Result;

        memset(&Cmd, 0, sizeof(Cmd));
        Cmd.Op = OP_QUIT;
        ModelRunSync(Run, Thread, &Cmd, &Result, "quit");
        WdkmTestJoinThread(Thread->Thread);
        pthread_mutex_destroy(&Thread->Mutex);
        pthread_cond_destroy(&Thread->Cond);
    }
#ifdef WDKM_HOST_INTERRUPT_KINDS
    if (Inject) {
        ModelAsyncStop(Run);
    }
#endif
    for (Index = 0; Index < MODEL_STANDALONE; Index += 1) {
        MODEL_LOCK *Lock = &Run->Locks[Index];

        if (Lock->Live) {
            Status = ModelDestroy(Lock->Kind, Lock->Handle);
            if (Status != STATUS_SUCCESS) {
                MODEL_FAIL(Run, "destroying %s at the end returned %s", Lock->Label, WdkmStatusName(Status));
            }
        }
    }
    Status = WdkmGrtDestroy(NULL, NULL);
    if (Status != STATUS_SUCCESS) {
        MODEL_FAIL(Run, "WdkmGrtDestroy at the end returned %s", WdkmStatusName(Status));
    }
    if (getenv("WDKM_MODEL_VERBOSE") != NULL) {
        printf("    model: seed %llu: %u steps: %u acquires (%u waited, %u granted on release, "
               "%u alerted), %u releases, %u raises, %u DPC steps, %u regions, %u destroy/take, "
               "%u creates, %u registers, %u references, %u dereferences, %u unregisters; "
               "%u STATUS_TIMEOUT, %u refused; %u injected events (%u calls), %u masked; "
               "%u statistics checked\n",
               (unsigned long long)Seed, (unsigned)Steps, (unsigned)Run->Stats[OP_ACQUIRE],
               (unsigned)Run->Stats[STAT_WAITS], (unsigned)Run->Stats[STAT_GRANTED],
               (unsigned)Run->Stats[STAT_ALERTS], (unsigned)Run->Stats[OP_RELEASE],
               (unsigned)Run->Stats[OP_RAISE], (unsigned)Run->Stats[STAT_DPC],
               (unsigned)(Run->Stats[OP_REGION_ENTER] + Run->Stats[OP_REGION_LEAVE]),
               (unsigned)(Run->Stats[OP_DESTROY] + Run->Stats[OP_TAKE]), (unsigned)Run->Stats[OP_CREATE],
               (unsigned)Run->Stats[OP_REGISTER], (unsigned)Run->Stats[OP_REFERENCE],
               (unsigned)Run->Stats[OP_DEREFERENCE], (unsigned)Run->Stats[OP_UNREGISTER],
               (unsigned)Run->Stats[STAT_TIMEOUTS], (unsigned)Run->Stats[STAT_REFUSED],
               (unsigned)Run->Stats[STAT_INJECTED], (unsigned)Run->Stats[STAT_INJECTED_OPS],
               (unsigned)Run->Stats[STAT_DEFERRED], (unsigned)Run->Stats[OP_DIAG_STATS]);
    }
Out:
    WdkmHostSetBugcheckHandler(NULL, NULL);
    WdkmHostSetDebugPrintSink(NULL, NULL);
    ModelCurrentRun = NULL;
    free(Run);
}

static ULONG
ModelEnvNumber(PCSTR Name, ULONG Default)
{
    PCSTR Value = getenv(Name);

    return Value != NULL && Value[0] != '\0' ? (ULONG)strtoul(Value, NULL, 0) : Default;
}

static VOID
ModelRunSeeds(BOOLEAN Inject)
{
    PCSTR SeedText = getenv("WDKM_MODEL_SEED");
    ULONG Steps = ModelEnvNumber("WDKM_MODEL_STEPS", 4000);
    ULONG Seeds = ModelEnvNumber("WDKM_MODEL_SEEDS", 4);
    ULONG Index;

    if (SeedText != NULL && SeedText[0] != '\0') {
        ModelRunSeed(strtoull(SeedText, NULL, 0), Steps, Inject);
        return;
    }
    for (Index = 1; Index <= Seeds; Index += 1) {
        ModelRunSeed(Index, Steps, Inject);
    }
}

static VOID
TestModelRandomWalk(VOID)
{
    ModelRunSeeds(FALSE);
}

#ifdef WDKM_HOST_INTERRUPT_KINDS
/* The same walk while random DPCs and kernel APCs interrupt the workers
   (their own calls on locks of their own, checked as they go). */
static VOID
TestModelRandomWalkInjected(VOID)
{
    ModelRunSeeds(TRUE);
}
#endif

static const WDKM_TEST_CASE ModelCases[] = {
    { "walk", TestModelRandomWalk },
#ifdef WDKM_HOST_INTERRUPT_KINDS
    { "injected_walk", TestModelRandomWalkInjected },
#endif
};

const WDKM_TEST_SUITE WdkmModelSuite = WDKM_TEST_SUITE_OF("model", ModelCases);
