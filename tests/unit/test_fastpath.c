/*
 * test_fastpath.c - the inline fast paths (wdkm_fastpath.h) against the
 * library's own functions. In release builds a call written
 * WdkmSpinLockAcquire(...) reaches the inline twin, one written
 * (WdkmSpinLockAcquire)(...) the exported function. For each kind a
 * seeded random walk (misuse included) runs on one fresh set of locks
 * through the twins and records, after every step, the status and what a
 * caller can observe (owned or not, IRQL, APCs disabled, *Data, *OldIrql,
 * the queue handles); the same walk then runs on a second fresh set
 * through the functions and must observe the same. The walk is chosen
 * from the observations, so it only makes calls the documentation says
 * are legal or refused without reaching the kernel.
 *
 * In the checked build (WDKM_CHECKED=1) there are no twins: both sides
 * are the library's function, and the suite runs and agrees trivially.
 */
#include <stdio.h>
#include <string.h>

#include "wdkm_test.h"

typedef enum _FP_KIND {
    FpSpin, FpQueued, FpFastMutex, FpGuarded, FpKMutex, FpResource, FpPushLock
} FP_KIND;

typedef enum _FP_OP {
    OpAcquire, OpRelease, OpRaise, OpLower, OpForeignRelease,
    OpAcquireDpc, OpReleaseDpc, OpAcquireShared, OpCount
} FP_OP;

/* Acquire variants */
enum { AcqOk, AcqNullLock, AcqNullData, AcqWrongSize, AcqWrongKind, AcqNullOut, AcqVariants };
/* Release variants */
enum { RelOk, RelNullLock, RelWrongKind, RelKeepIrql, RelBadIrql, RelOtherHandle, RelCopy,
       RelVariants };

typedef struct _FP_STEP {
    UCHAR Op;
    UCHAR Lock;
    UCHAR Variant;
    KIRQL Level;
} FP_STEP;

typedef struct _FP_OBS {
    NTSTATUS Status;
    KIRQL Irql;
    UCHAR ApcsDisabled;
    UCHAR AllApcsDisabled;
    UCHAR Owned[2];
    LONG DataValue;            /* -1 untouched, 0 NULL, else the value it points to */
    KIRQL OldIrql;             /* 0xEE untouched */
    UCHAR HandleLock[2];       /* 0 none, 1 + lock index, 9 other */
    KIRQL HandleOldIrql[2];
} FP_OBS;

#define FP_STEPS 48
#define FP_SEEDS 150

typedef struct _FP_SIDE {
    BOOLEAN Twin;
    PVOID Lock[2];
    PVOID Other;                   /* a lock of another kind, passed through a cast */
    WDKM_LOCK_QUEUE_HANDLE Handle[2];
} FP_SIDE;

/* The walk's picture of the state, from the observations alone. */
typedef struct _FP_SHADOW {
    ULONG Depth[2];
    KIRQL Saved[2][64];            /* the OldIrql of each spin-lock hold, innermost last */
    UCHAR HoldFrame[2][64];        /* the raise frames open when each hold was taken */
    UCHAR Frames;
    KIRQL FrameBase[16];
    UCHAR Stack[128];              /* holds in acquisition order (lock index) */
    ULONG StackCount;
} FP_SHADOW;

static ULONG
FpRandom(ULONG *State)
{
    *State ^= *State << 13;
    *State ^= *State >> 17;
    *State ^= *State << 5;
    return *State;
}

static NTSTATUS
FpCreate(FP_KIND Kind, LONG Value, PVOID *Lock)
{
    switch (Kind) {
    case FpSpin:      return WdkmSpinLockCreate(&Value, sizeof(Value), (PWDKM_SPIN_LOCK *)Lock);
    case FpQueued:    return WdkmQueuedSpinLockCreate(&Value, sizeof(Value),
                                                      (PWDKM_QUEUED_SPIN_LOCK *)Lock);
    case FpFastMutex: return WdkmFastMutexCreate(&Value, sizeof(Value), (PWDKM_FAST_MUTEX *)Lock);
    case FpGuarded:   return WdkmGuardedMutexCreate(&Value, sizeof(Value),
                                                    (PWDKM_GUARDED_MUTEX *)Lock);
    case FpKMutex:    return WdkmKMutexCreate(&Value, sizeof(Value), (PWDKM_KMUTEX *)Lock);
    case FpResource:  return WdkmResourceCreate(&Value, sizeof(Value), (PWDKM_RESOURCE *)Lock);
    case FpPushLock:  return WdkmPushLockCreate(&Value, sizeof(Value), (PWDKM_PUSH_LOCK *)Lock);
    }
    return STATUS_INVALID_PARAMETER;
}

static NTSTATUS
FpDestroy(FP_KIND Kind, PVOID Lock)
{
    switch (Kind) {
    case FpSpin:      return WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Lock);
    case FpQueued:    return WdkmQueuedSpinLockDestroy((PWDKM_QUEUED_SPIN_LOCK)Lock);
    case FpFastMutex: return WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)Lock);
    case FpGuarded:   return WdkmGuardedMutexDestroy((PWDKM_GUARDED_MUTEX)Lock);
    case FpKMutex:    return WdkmKMutexDestroy((PWDKM_KMUTEX)Lock);
    case FpResource:  return WdkmResourceDestroy((PWDKM_RESOURCE)Lock);
    case FpPushLock:  return WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Lock);
    }
    return STATUS_INVALID_PARAMETER;
}

static BOOLEAN
FpIsOwned(FP_KIND Kind, PVOID Lock)
{
    switch (Kind) {
    case FpSpin:      return WdkmSpinLockIsOwned((PWDKM_SPIN_LOCK)Lock);
    case FpQueued:    return WdkmQueuedSpinLockIsOwned((PWDKM_QUEUED_SPIN_LOCK)Lock);
    case FpFastMutex: return WdkmFastMutexIsOwned((PWDKM_FAST_MUTEX)Lock);
    case FpGuarded:   return WdkmGuardedMutexIsOwned((PWDKM_GUARDED_MUTEX)Lock);
    case FpKMutex:    return WdkmKMutexIsOwned((PWDKM_KMUTEX)Lock);
    case FpResource:  return WdkmResourceIsOwnedExclusive((PWDKM_RESOURCE)Lock);
    case FpPushLock:  return WdkmPushLockIsOwnedExclusive((PWDKM_PUSH_LOCK)Lock);
    }
    return FALSE;
}

/* The twin (Twin) or the exported function: the same arguments. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static NTSTATUS
FpAcquire(FP_KIND Kind, BOOLEAN Twin, PVOID Lock, SIZE_T Size, PKIRQL OldIrql,
          PWDKM_LOCK_QUEUE_HANDLE Handle, PVOID *Data)
{
    switch (Kind) {
    case FpSpin:
        return Twin ? WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock, Size, OldIrql, Data)
                    : (WdkmSpinLockAcquire)((PWDKM_SPIN_LOCK)Lock, Size, OldIrql, Data);
    case FpQueued:
        return Twin ? WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Lock, Size, Handle, Data)
                    : (WdkmQueuedSpinLockAcquire)((PWDKM_QUEUED_SPIN_LOCK)Lock, Size, Handle,
                                                  Data);
    case FpFastMutex:
        return Twin ? WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock, Size, Data)
                    : (WdkmFastMutexAcquire)((PWDKM_FAST_MUTEX)Lock, Size, Data);
    case FpGuarded:
        return Twin ? WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)Lock, Size, Data)
                    : (WdkmGuardedMutexAcquire)((PWDKM_GUARDED_MUTEX)Lock, Size, Data);
    case FpKMutex:
        return Twin ? WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, Size, Data)
                    : (WdkmKMutexAcquire)((PWDKM_KMUTEX)Lock, Size, Data);
    case FpResource:
        return Twin ? WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Lock, Size, Data)
                    : (WdkmResourceAcquireExclusive)((PWDKM_RESOURCE)Lock, Size, Data);
    case FpPushLock:
        return Twin ? WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)Lock, Size, Data)
                    : (WdkmPushLockAcquireExclusive)((PWDKM_PUSH_LOCK)Lock, Size, Data);
    }
    return STATUS_INVALID_PARAMETER;
}

WDKM_NO_THREAD_SAFETY_ANALYSIS
static NTSTATUS
FpRelease(FP_KIND Kind, BOOLEAN Twin, PVOID Lock, KIRQL OldIrql, PWDKM_LOCK_QUEUE_HANDLE Handle)
{
    switch (Kind) {
    case FpSpin:
        return Twin ? WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, OldIrql)
                    : (WdkmSpinLockRelease)((PWDKM_SPIN_LOCK)Lock, OldIrql);
    case FpQueued:
        return Twin ? WdkmQueuedSpinLockRelease(Handle) : (WdkmQueuedSpinLockRelease)(Handle);
    case FpFastMutex:
        return Twin ? WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock)
                    : (WdkmFastMutexRelease)((PWDKM_FAST_MUTEX)Lock);
    case FpGuarded:
        return Twin ? WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Lock)
                    : (WdkmGuardedMutexRelease)((PWDKM_GUARDED_MUTEX)Lock);
    case FpKMutex:
        return Twin ? WdkmKMutexRelease((PWDKM_KMUTEX)Lock)
                    : (WdkmKMutexRelease)((PWDKM_KMUTEX)Lock);
    case FpResource:
        return Twin ? WdkmResourceRelease((PWDKM_RESOURCE)Lock)
                    : (WdkmResourceRelease)((PWDKM_RESOURCE)Lock);
    case FpPushLock:
        return Twin ? WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock)
                    : (WdkmPushLockRelease)((PWDKM_PUSH_LOCK)Lock);
    }
    return STATUS_INVALID_PARAMETER;
}

/* A release by another thread, which holds nothing: refused either way. */
typedef struct _FP_FOREIGN {
    FP_KIND Kind;
    BOOLEAN Twin;
    PVOID Lock;
    KIRQL OldIrql;
    PWDKM_LOCK_QUEUE_HANDLE Handle;
    NTSTATUS Status;
} FP_FOREIGN;

static VOID
FpForeignRoutine(PVOID Context, ULONG Index)
{
    FP_FOREIGN *Foreign = (FP_FOREIGN *)Context;

    UNREFERENCED_PARAMETER(Index);
    Foreign->Status = FpRelease(Foreign->Kind, Foreign->Twin, Foreign->Lock, Foreign->OldIrql,
                                Foreign->Handle);
}

static FP_KIND
FpOtherKind(FP_KIND Kind)
{
    return Kind == FpSpin ? FpFastMutex : FpSpin;
}

static UCHAR
FpHandleLock(const FP_SIDE *Side, const WDKM_LOCK_QUEUE_HANDLE *Handle)
{
    if (Handle->Lock == NULL) {
        return 0;
    }
    if ((PVOID)Handle->Lock == Side->Lock[0]) {
        return 1;
    }
    if ((PVOID)Handle->Lock == Side->Lock[1]) {
        return 2;
    }
    return 9;
}

static VOID
FpObserve(FP_KIND Kind, const FP_SIDE *Side, NTSTATUS Status, PVOID Data, KIRQL OldIrql,
          FP_OBS *Obs)
{
    ULONG Index;

    memset(Obs, 0, sizeof(*Obs));
    Obs->Status = Status;
    Obs->Irql = KeGetCurrentIrql();
    Obs->ApcsDisabled = (UCHAR)(KeAreApcsDisabled() != FALSE);
    Obs->AllApcsDisabled = (UCHAR)(KeAreAllApcsDisabled() != FALSE);
    for (Index = 0; Index < 2; Index++) {
        Obs->Owned[Index] = (UCHAR)(FpIsOwned(Kind, Side->Lock[Index]) != FALSE);
        Obs->HandleLock[Index] = FpHandleLock(Side, &Side->Handle[Index]);
        Obs->HandleOldIrql[Index] =
            Side->Handle[Index].Lock != NULL ? Side->Handle[Index].Kernel.OldIrql : 0;
    }
    Obs->DataValue = Data == (PVOID)1 ? -1 : Data == NULL ? 0 : *(LONG *)Data;
    Obs->OldIrql = OldIrql;
}

/* One step on one side; the observation after it. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
FpRun(FP_KIND Kind, FP_SIDE *Side, const FP_STEP *Step, FP_OBS *Obs)
{
    PVOID Lock = Side->Lock[Step->Lock];
    PWDKM_LOCK_QUEUE_HANDLE Handle = &Side->Handle[Step->Lock];
    WDKM_LOCK_QUEUE_HANDLE Copy;
    PVOID Data = (PVOID)1;
    KIRQL OldIrql = 0xEE;
    NTSTATUS Status = STATUS_SUCCESS;
    KIRQL Ignored;

    switch ((FP_OP)Step->Op) {
    case OpAcquire: {
        SIZE_T Size = sizeof(LONG);
        PVOID *DataOut = &Data;
        PKIRQL OldOut = &OldIrql;
        PWDKM_LOCK_QUEUE_HANDLE HandleOut = Handle;

        switch (Step->Variant) {
        case AcqNullLock:  Lock = NULL; break;
        case AcqNullData:  DataOut = NULL; break;
        case AcqWrongSize: Size = sizeof(LONGLONG); break;
        case AcqWrongKind: Lock = Side->Other; break;
        case AcqNullOut:   OldOut = NULL; HandleOut = NULL; break;
        default: break;
        }
        Status = FpAcquire(Kind, Side->Twin, Lock, Size, OldOut, HandleOut, DataOut);
        break;
    }
    case OpRelease: {
        KIRQL Release = Step->Level;

        switch (Step->Variant) {
        case RelNullLock:
            Lock = NULL;
            Handle = NULL;
            break;
        case RelWrongKind:
            memset(&Copy, 0, sizeof(Copy));
            Copy.Lock = (PWDKM_QUEUED_SPIN_LOCK)Side->Other;
            Lock = Side->Other;
            Handle = &Copy;
            break;
        case RelOtherHandle:
            Handle = &Side->Handle[1 - Step->Lock];
            break;
        case RelCopy:
            Copy = *Handle;
            Handle = &Copy;
            break;
        default:
            break;
        }
        Status = FpRelease(Kind, Side->Twin, Lock, Release, Handle);
        break;
    }
    case OpRaise:
        KeRaiseIrql(Step->Level, &Ignored);
        break;
    case OpLower:
        KeLowerIrql(Step->Level);
        break;
    case OpForeignRelease: {
        FP_FOREIGN Foreign = { Kind, Side->Twin, Lock, Step->Level, Handle, STATUS_SUCCESS };
        KIRQL Irql = KeGetCurrentIrql();

        /* A thread is made at PASSIVE_LEVEL: only the harness goes down for it. */
        KeLowerIrql(PASSIVE_LEVEL);
        if (!WdkmTestRunThreads(1, FpForeignRoutine, &Foreign)) {
            Foreign.Status = STATUS_INSUFFICIENT_RESOURCES;
        }
        KeRaiseIrql(Irql, &Ignored);
        Status = Foreign.Status;
        break;
    }
    case OpAcquireDpc:
        Status = Kind == FpSpin
                     ? WdkmSpinLockAcquireAtDpcLevel((PWDKM_SPIN_LOCK)Lock, sizeof(LONG), &Data)
                     : WdkmQueuedSpinLockAcquireAtDpcLevel((PWDKM_QUEUED_SPIN_LOCK)Lock,
                                                           sizeof(LONG), Handle, &Data);
        break;
    case OpReleaseDpc:
        Status = Kind == FpSpin ? WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)Lock)
                                : (WdkmQueuedSpinLockRelease)(Handle);
        break;
    case OpAcquireShared: {
        const VOID *Shared = (const VOID *)1;

        Status = Kind == FpResource
                     ? WdkmResourceAcquireShared((PWDKM_RESOURCE)Lock, sizeof(LONG), &Shared)
                     : WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)Lock, sizeof(LONG), &Shared);
        Data = (PVOID)(ULONG_PTR)Shared;
        break;
    }
    default:
        break;
    }
    FpObserve(Kind, Side, Status, Data, OldIrql, Obs);
}

static BOOLEAN
FpSpinKind(FP_KIND Kind)
{
    return Kind == FpSpin || Kind == FpQueued;
}

/* The next step, from the shadow state (legal or refused, never a bugcheck). */
static VOID
FpChoose(FP_KIND Kind, const FP_SHADOW *Shadow, ULONG *Random, FP_STEP *Step)
{
    KIRQL Irql = KeGetCurrentIrql();

    for (;;) {
        ULONG Pick = FpRandom(Random) % 100;

        memset(Step, 0, sizeof(*Step));
        Step->Lock = (UCHAR)(FpRandom(Random) % 2);
        if (Pick < 35) {
            Step->Op = OpAcquire;
            Step->Variant = (UCHAR)(FpRandom(Random) % 3 == 0 ? 1 + FpRandom(Random) % 5 : AcqOk);
            if (Step->Variant == AcqNullOut && !FpSpinKind(Kind)) {
                Step->Variant = AcqNullData;
            }
            /* A queue handle is not reused while it holds another hold. */
            if (Kind == FpQueued && Step->Variant != AcqNullOut &&
                Shadow->Depth[Step->Lock] != 0 && Step->Variant != AcqOk) {
                continue;
            }
            if (Shadow->Depth[Step->Lock] > 40) {
                continue;
            }
        } else if (Pick < 70) {
            Step->Op = OpRelease;
            Step->Variant = (UCHAR)(FpRandom(Random) % 3 == 0 ? 1 + FpRandom(Random) % 6 : RelOk);
            if ((Step->Variant == RelKeepIrql || Step->Variant == RelBadIrql) && Kind != FpSpin) {
                Step->Variant = RelOk;
            }
            if ((Step->Variant == RelOtherHandle || Step->Variant == RelCopy) &&
                Kind != FpQueued) {
                Step->Variant = RelOk;
            }
            Step->Level = Shadow->Depth[Step->Lock] != 0
                              ? Shadow->Saved[Step->Lock][Shadow->Depth[Step->Lock] - 1]
                              : PASSIVE_LEVEL;
            if (Step->Variant == RelKeepIrql) {
                Step->Level = DISPATCH_LEVEL;
            } else if (Step->Variant == RelBadIrql) {
                Step->Level = HIGH_LEVEL;
            }
        } else if (Pick < 80) {
            static const KIRQL Levels[] = { APC_LEVEL, DISPATCH_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL };

            Step->Op = OpRaise;
            Step->Level = Levels[FpRandom(Random) % 4];
            if (Step->Level < Irql || Shadow->Frames >= 15) {
                continue;
            }
        } else if (Pick < 90) {
            ULONG Index;
            BOOLEAN Inside = FALSE;

            if (Shadow->Frames == 0) {
                continue;
            }
            /* Only a frame no hold was taken inside. */
            for (Index = 0; Index < 2; Index++) {
                if (Shadow->Depth[Index] != 0 &&
                    Shadow->HoldFrame[Index][Shadow->Depth[Index] - 1] >= Shadow->Frames) {
                    Inside = TRUE;
                }
            }
            if (Inside) {
                continue;
            }
            Step->Op = OpLower;
            Step->Level = Shadow->FrameBase[Shadow->Frames - 1];
            if (Step->Level > Irql) {
                Step->Level = Irql;    /* a release lowered below the frame already */
            }
        } else if (Pick < 93) {
            Step->Op = OpForeignRelease;
            Step->Level = Shadow->Depth[Step->Lock] != 0
                              ? Shadow->Saved[Step->Lock][Shadow->Depth[Step->Lock] - 1]
                              : PASSIVE_LEVEL;
        } else if (FpSpinKind(Kind)) {
            Step->Op = Pick < 97 ? OpAcquireDpc : OpReleaseDpc;
            if (Step->Op == OpAcquireDpc && Kind == FpQueued && Shadow->Depth[Step->Lock] != 0) {
                continue;
            }
        } else if (Kind == FpResource || Kind == FpPushLock) {
            Step->Op = OpAcquireShared;
            if (Shadow->Depth[Step->Lock] > 40) {
                continue;
            }
        } else {
            continue;
        }
        return;
    }
}

/* The shadow after a step both sides observed alike. */
static VOID
FpUpdate(FP_KIND Kind, FP_SHADOW *Shadow, const FP_STEP *Step, const FP_OBS *Before,
         const FP_OBS *Obs)
{
    ULONG Lock = Step->Lock;
    ULONG Index;

    switch ((FP_OP)Step->Op) {
    case OpAcquire:
    case OpAcquireDpc:
    case OpAcquireShared:
        if (Obs->Status == STATUS_SUCCESS) {
            ULONG Depth = Shadow->Depth[Lock]++;

            Shadow->Saved[Lock][Depth] = Step->Op == OpAcquire ? Before->Irql : DISPATCH_LEVEL;
            Shadow->HoldFrame[Lock][Depth] = Shadow->Frames;
            Shadow->Stack[Shadow->StackCount++] = (UCHAR)Lock;
        }
        break;
    case OpRelease:
    case OpReleaseDpc:
        if (Obs->Status == STATUS_SUCCESS) {
            if (Step->Variant == RelOtherHandle) {
                Lock = 1 - Lock;
            }
            Shadow->Depth[Lock]--;
            for (Index = Shadow->StackCount; Index-- > 0;) {
                if (Shadow->Stack[Index] == Lock) {
                    memmove(&Shadow->Stack[Index], &Shadow->Stack[Index + 1],
                            Shadow->StackCount - Index - 1);
                    Shadow->StackCount--;
                    break;
                }
            }
            /* NT's out-of-order release: the saved IRQL goes to the last release. */
            if (Kind == FpSpin && Step->Variant == RelKeepIrql &&
                Shadow->Saved[Lock][Shadow->Depth[Lock]] < DISPATCH_LEVEL) {
                KIRQL Saved = Shadow->Saved[Lock][Shadow->Depth[Lock]];
                ULONG Other = 1 - Lock;

                if (Shadow->Depth[Other] != 0 &&
                    Shadow->Saved[Other][Shadow->Depth[Other] - 1] == DISPATCH_LEVEL &&
                    Shadow->HoldFrame[Other][Shadow->Depth[Other] - 1] == 0 &&
                    Shadow->Frames == 0) {
                    Shadow->Saved[Other][Shadow->Depth[Other] - 1] = Saved;
                } else if (Shadow->Frames < 15) {
                    Shadow->FrameBase[Shadow->Frames++] = Saved;
                }
            }
        }
        break;
    case OpRaise:
        Shadow->FrameBase[Shadow->Frames++] = Before->Irql;
        break;
    case OpLower:
        Shadow->Frames--;
        break;
    default:
        break;
    }
}

static BOOLEAN
FpSame(const FP_OBS *A, const FP_OBS *B)
{
    return memcmp(A, B, sizeof(*A)) == 0;
}

static VOID
FpPrintObs(PCSTR Label, const FP_OBS *Obs)
{
    fprintf(stderr,
            "    %s: status %s (0x%08X) irql %u apcs %u/%u owned %u,%u data %ld oldirql 0x%02X "
            "handles %u/%u, %u/%u\n",
            Label, WdkmStatusName(Obs->Status), (unsigned)Obs->Status, Obs->Irql,
            Obs->ApcsDisabled, Obs->AllApcsDisabled, Obs->Owned[0], Obs->Owned[1],
            (long)Obs->DataValue, Obs->OldIrql, Obs->HandleLock[0], Obs->HandleOldIrql[0],
            Obs->HandleLock[1], Obs->HandleOldIrql[1]);
}

static VOID
FpPrintStep(ULONG Number, const FP_STEP *Step)
{
    static const char *const Ops[] = { "acquire", "release", "raise", "lower", "foreign-release",
                                       "acquire-at-dpc", "release-from-dpc", "acquire-shared" };
    static const char *const Acq[] = { "ok", "null-lock", "null-data", "wrong-size",
                                       "wrong-kind", "null-oldirql/handle" };
    static const char *const Rel[] = { "ok", "null-lock", "wrong-kind", "oldirql-dispatch",
                                       "oldirql-high", "other-handle", "handle-copy" };
    const char *Variant = Step->Op == OpAcquire ? Acq[Step->Variant]
                          : Step->Op == OpRelease ? Rel[Step->Variant] : "";

    fprintf(stderr, "    step %lu: %s lock %u %s level %u\n", (unsigned long)Number,
            Ops[Step->Op], Step->Lock, Variant, Step->Level);
}

/* Everything released and the IRQL back at PASSIVE_LEVEL, by the functions. */
WDKM_NO_THREAD_SAFETY_ANALYSIS
static VOID
FpUnwind(FP_KIND Kind, FP_SIDE *Side, FP_SHADOW *Shadow)
{
    static const KIRQL Levels[] = { DISPATCH_LEVEL, APC_LEVEL, PASSIVE_LEVEL };
    ULONG Rounds;
    ULONG Lock;
    ULONG Level;
    KIRQL Ignored;

    for (Rounds = 0; Rounds < 200; Rounds++) {
        BOOLEAN Held = FALSE;

        for (Lock = 0; Lock < 2; Lock++) {
            NTSTATUS Status = STATUS_UNSUCCESSFUL;

            if (Shadow->Depth[Lock] == 0 && !FpIsOwned(Kind, Side->Lock[Lock])) {
                continue;
            }
            Held = TRUE;
            /* The class of the hold is not known here: try each IRQL. */
            for (Level = 0; Level < 3 && Status != STATUS_SUCCESS; Level++) {
                if (KeGetCurrentIrql() > Levels[Level]) {
                    KeLowerIrql(Levels[Level]);
                } else {
                    KeRaiseIrql(Levels[Level], &Ignored);
                }
                if (Kind == FpSpin) {
                    Status = (WdkmSpinLockRelease)((PWDKM_SPIN_LOCK)Side->Lock[Lock],
                                                   DISPATCH_LEVEL);
                    if (Status != STATUS_SUCCESS) {
                        Status = WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)Side->Lock[Lock]);
                    }
                } else {
                    Status = FpRelease(Kind, FALSE, Side->Lock[Lock], DISPATCH_LEVEL,
                                       &Side->Handle[Lock]);
                }
            }
            if (Status == STATUS_SUCCESS && Shadow->Depth[Lock] != 0) {
                Shadow->Depth[Lock]--;
            }
        }
        if (!Held) {
            break;
        }
    }
    if (KeGetCurrentIrql() > PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    memset(Shadow, 0, sizeof(*Shadow));
}

static BOOLEAN
FpSetUp(FP_KIND Kind, BOOLEAN Twin, FP_SIDE *Side)
{
    memset(Side, 0, sizeof(*Side));
    Side->Twin = Twin;
    return FpCreate(Kind, 100, &Side->Lock[0]) == STATUS_SUCCESS &&
           FpCreate(Kind, 101, &Side->Lock[1]) == STATUS_SUCCESS &&
           FpCreate(FpOtherKind(Kind), 999, &Side->Other) == STATUS_SUCCESS;
}

static BOOLEAN
FpTearDown(FP_KIND Kind, FP_SIDE *Side)
{
    return FpDestroy(Kind, Side->Lock[0]) == STATUS_SUCCESS &&
           FpDestroy(Kind, Side->Lock[1]) == STATUS_SUCCESS &&
           FpDestroy(FpOtherKind(Kind), Side->Other) == STATUS_SUCCESS;
}

/*
 * One seed: the walk through the twins, then through the functions.
 * Returns FALSE, having printed the walk up to the step, on the first
 * step the two observe differently.
 */
static BOOLEAN
FpWalk(FP_KIND Kind, ULONG Seed)
{
    static FP_STEP Steps[FP_STEPS];
    static FP_OBS Twin[FP_STEPS];
    FP_SHADOW Shadow;
    FP_SIDE Side;
    FP_OBS Before;
    FP_OBS Obs;
    ULONG Random = Seed * 2654435761UL + 1;
    ULONG Index;
    BOOLEAN Agree = TRUE;

    if (!FpSetUp(Kind, TRUE, &Side)) {
        fprintf(stderr, "    seed %lu: set-up failed\n", (unsigned long)Seed);
        return FALSE;
    }
    memset(&Shadow, 0, sizeof(Shadow));
    FpObserve(Kind, &Side, STATUS_SUCCESS, (PVOID)1, 0xEE, &Before);
    for (Index = 0; Index < FP_STEPS; Index++) {
        FpChoose(Kind, &Shadow, &Random, &Steps[Index]);
        FpRun(Kind, &Side, &Steps[Index], &Twin[Index]);
        FpUpdate(Kind, &Shadow, &Steps[Index], &Before, &Twin[Index]);
        Before = Twin[Index];
    }
    FpUnwind(Kind, &Side, &Shadow);
    if (!FpTearDown(Kind, &Side)) {
        fprintf(stderr, "    seed %lu: twins' walk left a lock held\n", (unsigned long)Seed);
        return FALSE;
    }

    if (!FpSetUp(Kind, FALSE, &Side)) {
        return FALSE;
    }
    memset(&Shadow, 0, sizeof(Shadow));
    FpObserve(Kind, &Side, STATUS_SUCCESS, (PVOID)1, 0xEE, &Before);
    for (Index = 0; Index < FP_STEPS; Index++) {
        FpRun(Kind, &Side, &Steps[Index], &Obs);
        if (!FpSame(&Obs, &Twin[Index])) {
            ULONG Shown;

            fprintf(stderr, "  fastpath: kind %d seed %lu: twin and function differ at step %lu\n",
                    (int)Kind, (unsigned long)Seed, (unsigned long)Index);
            for (Shown = 0; Shown <= Index; Shown++) {
                FpPrintStep(Shown, &Steps[Shown]);
            }
            FpPrintObs("twin    ", &Twin[Index]);
            FpPrintObs("function", &Obs);
            Agree = FALSE;
            FpUpdate(Kind, &Shadow, &Steps[Index], &Before, &Obs);
            break;
        }
        FpUpdate(Kind, &Shadow, &Steps[Index], &Before, &Obs);
        Before = Obs;
    }
    FpUnwind(Kind, &Side, &Shadow);
    if (!FpTearDown(Kind, &Side)) {
        fprintf(stderr, "    seed %lu: functions' walk left a lock held\n", (unsigned long)Seed);
        return FALSE;
    }
    return Agree;
}

static VOID
FpKind(FP_KIND Kind)
{
    LONG Pool = WdkmTestPoolOutstanding();
    ULONG Seed;
    ULONG Failed = 0;

    for (Seed = 1; Seed <= FP_SEEDS; Seed++) {
        if (!FpWalk(Kind, Seed)) {
            Failed++;
            if (Failed >= 3) {
                break;
            }
        }
    }
    CHECK_EQ(Failed, 0);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(WdkmTestPoolOutstanding(), Pool);
}

static VOID FpSpinLock(VOID) { FpKind(FpSpin); }
static VOID FpQueuedSpinLock(VOID) { FpKind(FpQueued); }
static VOID FpFastMutexKind(VOID) { FpKind(FpFastMutex); }
static VOID FpGuardedMutex(VOID) { FpKind(FpGuarded); }
static VOID FpKMutexKind(VOID) { FpKind(FpKMutex); }
static VOID FpResourceKind(VOID) { FpKind(FpResource); }
static VOID FpPushLockKind(VOID) { FpKind(FpPushLock); }

static const WDKM_TEST_CASE FastPathCases[] = {
    { "twin_agrees_spin_lock", FpSpinLock },
    { "twin_agrees_queued_spin_lock", FpQueuedSpinLock },
    { "twin_agrees_fast_mutex", FpFastMutexKind },
    { "twin_agrees_guarded_mutex", FpGuardedMutex },
    { "twin_agrees_kmutex", FpKMutexKind },
    { "twin_agrees_resource", FpResourceKind },
    { "twin_agrees_push_lock", FpPushLockKind },
};

const WDKM_TEST_SUITE WdkmFastPathSuite = WDKM_TEST_SUITE_OF("fastpath", FastPathCases);
