/*
 * test_attack29.c - the checked build's lock-order validation and
 * statistics against a seeded reference model, written from
 * docs/diagnostics.md, wdkm_diag.h and reference.md alone.
 *
 * The model (from the docs):
 *   - acquiring B while holding A records "A before B" between their
 *     classes (every held lock, not only the last; never within a class);
 *   - a waiting acquisition whose class reaches (through recorded orders) a
 *     class the thread holds closes a cycle: each such closing order is
 *     reported and kept once; under WDKM_DIAG_REPORT the acquisition goes on,
 *     its orders are recorded and OrderViolations counts each closing order
 *     once; under WDKM_DIAG_REFUSE it fails with STATUS_POSSIBLE_DEADLOCK,
 *     nothing is recorded and every refusal counts;
 *   - a try never closes a cycle and is not ordered after what is held
 *     (what is acquired under it is ordered after it);
 *   - recursion on KMUTEX and ERESOURCE is not an order;
 *   - Acquisitions counts successful acquisitions, Contended the ones that
 *     found the lock busy (none on one thread with instances of its own).
 * Each seed is printed when a step diverges. The suite resets the
 * diagnostics after itself.
 */
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <stdlib.h>

#include "wdkm_test.h"

#define A29_SIZE sizeof(ULONG)

typedef enum {
    A29KMutex, A29Fast, A29Spin, A29QSpin, A29Guarded, A29Resource, A29Push, A29KindCount
} A29_KIND;

typedef struct {
    A29_KIND Kind;
    PVOID Handle;
    int Class;                       /* model class index */
    BOOLEAN Registry;
    CHAR RegName[40];
    WDKM_LOCK_QUEUE_HANDLE QHandle;  /* one hold at a time (not recursive) */
    ULONG64 Acquisitions;            /* model, since the last reset */
} A29_LOCK;

typedef struct {
    int Lock;
    BOOLEAN Shared;
    BOOLEAN Try;
    KIRQL OldIrql;
    BOOLEAN Dispatch;   /* acquired at DISPATCH_LEVEL: a KMUTEX's IRQL class */
} A29_HOLD;

#define A29_MAX_CLASSES 32
#define A29_MAX_LOCKS 64
#define A29_MAX_HOLDS 12
#define A29_MAX_THREADS 4

typedef struct {
    A29_HOLD Holds[A29_MAX_HOLDS];
    int Count;
    ULONG Rng;
} A29_THREAD;

typedef struct {
    int Held;
    int Acquiring;
    ULONG Serial;    /* the acquisition that reported it */
    ULONG Length;
} A29_REPORT;

typedef struct {
    ULONG Seed;
    ULONG Policy;
    int Classes;
    CHAR ClassName[A29_MAX_CLASSES][WDKM_DIAG_NAME_LENGTH];
    BOOLEAN Edge[A29_MAX_CLASSES][A29_MAX_CLASSES];
    BOOLEAN Reported[A29_MAX_CLASSES][A29_MAX_CLASSES];
    A29_REPORT Reports[256];
    ULONG ReportCount;
    ULONG OrderViolations;
    ULONG Serial;
    A29_LOCK Locks[A29_MAX_LOCKS];
    int LockCount;
    A29_THREAD Threads[A29_MAX_THREADS];
    ULONG Steps;
    CHAR Failure[512];
} A29_MODEL;

static A29_MODEL A29;
static int A29Trace = -1;
#define A29_TRACE(...) do { if (A29Trace < 0) A29Trace = getenv("A29_TRACE") != NULL; if (A29Trace) fprintf(stderr, __VA_ARGS__); } while (0)
static pthread_mutex_t A29StepLock = PTHREAD_MUTEX_INITIALIZER;

static ULONG
A29Random(ULONG *State)
{
    /* xorshift32: reproducible from the printed seed */
    ULONG X = *State;
    X ^= X << 13;
    X ^= X >> 17;
    X ^= X << 5;
    *State = X;
    return X;
}

static BOOLEAN
A29Fail(PCSTR Format, const char *What, long long Actual, long long Expected)
{
    if (A29.Failure[0] == '\0') {
        snprintf(A29.Failure, sizeof(A29.Failure), Format, What, Actual, Expected,
                 (unsigned long)A29.Seed, (unsigned long)A29.Steps);
    }
    return FALSE;
}

#define A29_EXPECT(What, Actual, Expected)                                              \
    (((long long)(Actual) == (long long)(Expected)) ||                                  \
     A29Fail("%s: %lld, model %lld (seed %lu, step %lu)", (What), (long long)(Actual),  \
             (long long)(Expected)))

/* ---- the model's graph ---------------------------------------------- */

/* Classes on the shortest recorded path From -> To (From and To counted), 0
   if To is not reachable. */
static ULONG
A29PathLength(int From, int To)
{
    int Distance[A29_MAX_CLASSES];
    int Queue[A29_MAX_CLASSES];
    int Head = 0, Tail = 0;
    for (int I = 0; I < A29.Classes; I++) {
        Distance[I] = -1;
    }
    Distance[From] = 1;
    Queue[Tail++] = From;
    while (Head < Tail) {
        int C = Queue[Head++];
        if (C == To) {
            return (ULONG)Distance[C];
        }
        for (int N = 0; N < A29.Classes; N++) {
            if (A29.Edge[C][N] && Distance[N] < 0) {
                Distance[N] = Distance[C] + 1;
                Queue[Tail++] = N;
            }
        }
    }
    return 0;
}

static int
A29ClassOf(PCSTR Name)
{
    for (int I = 0; I < A29.Classes; I++) {
        if (strcmp(A29.ClassName[I], Name) == 0) {
            return I;
        }
    }
    snprintf(A29.ClassName[A29.Classes], WDKM_DIAG_NAME_LENGTH, "%s", Name);
    return A29.Classes++;
}

static VOID
A29ModelReset(VOID)
{
    memset(A29.Edge, 0, sizeof(A29.Edge));
    memset(A29.Reported, 0, sizeof(A29.Reported));
    A29.ReportCount = 0;
    A29.OrderViolations = 0;
    A29.Serial = 0;
    for (int I = 0; I < A29.LockCount; I++) {
        A29.Locks[I].Acquisitions = 0;
    }
}

/* ---- the library's side --------------------------------------------- */

static NTSTATUS
A29Create(A29_KIND Kind, PVOID *Handle)
{
    ULONG Value = 0;
    switch (Kind) {
    case A29KMutex: return WdkmKMutexCreate(&Value, A29_SIZE, (PWDKM_KMUTEX *)Handle);
    case A29Fast: return WdkmFastMutexCreate(&Value, A29_SIZE, (PWDKM_FAST_MUTEX *)Handle);
    case A29Spin: return WdkmSpinLockCreate(&Value, A29_SIZE, (PWDKM_SPIN_LOCK *)Handle);
    case A29QSpin:
        return WdkmQueuedSpinLockCreate(&Value, A29_SIZE, (PWDKM_QUEUED_SPIN_LOCK *)Handle);
    case A29Guarded:
        return WdkmGuardedMutexCreate(&Value, A29_SIZE, (PWDKM_GUARDED_MUTEX *)Handle);
    case A29Resource: return WdkmResourceCreate(&Value, A29_SIZE, (PWDKM_RESOURCE *)Handle);
    case A29Push: return WdkmPushLockCreate(&Value, A29_SIZE, (PWDKM_PUSH_LOCK *)Handle);
    default: return STATUS_INVALID_PARAMETER;
    }
}

static NTSTATUS
A29Destroy(A29_KIND Kind, PVOID Handle)
{
    switch (Kind) {
    case A29KMutex: return WdkmKMutexDestroy(Handle);
    case A29Fast: return WdkmFastMutexDestroy(Handle);
    case A29Spin: return WdkmSpinLockDestroy(Handle);
    case A29QSpin: return WdkmQueuedSpinLockDestroy(Handle);
    case A29Guarded: return WdkmGuardedMutexDestroy(Handle);
    case A29Resource: return WdkmResourceDestroy(Handle);
    case A29Push: return WdkmPushLockDestroy(Handle);
    default: return STATUS_INVALID_PARAMETER;
    }
}

static WDKM_LOCK_KIND
A29GrtKind(A29_KIND Kind)
{
    static const WDKM_LOCK_KIND Map[] = {
        WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock,
        WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource,
        WdkmLockKindPushLock
    };
    return Map[Kind];
}

/* The acquisition itself; Hold receives what the release needs. */
static NTSTATUS
A29LibAcquire(A29_LOCK *Lock, BOOLEAN Shared, BOOLEAN Try, A29_HOLD *Hold)
{
    PVOID Data;
    const VOID *ConstData;
    LARGE_INTEGER Zero;
    Zero.QuadPart = 0;
    switch (Lock->Kind) {
    case A29KMutex:
        /* a zero timeout is a try as well (diagnostics.md) */
        if (Try) {
            return (Hold->OldIrql & 1) ? WdkmKMutexAcquireTimeout(Lock->Handle, A29_SIZE, &Zero, &Data)
                                       : WdkmKMutexTryAcquire(Lock->Handle, A29_SIZE, &Data);
        }
        return WdkmKMutexAcquire(Lock->Handle, A29_SIZE, &Data);
    case A29Fast:
        return Try ? WdkmFastMutexTryAcquire(Lock->Handle, A29_SIZE, &Data)
                   : WdkmFastMutexAcquire(Lock->Handle, A29_SIZE, &Data);
    case A29Spin:
        return Try ? WdkmSpinLockTryAcquire(Lock->Handle, A29_SIZE, &Hold->OldIrql, &Data)
                   : WdkmSpinLockAcquire(Lock->Handle, A29_SIZE, &Hold->OldIrql, &Data);
    case A29QSpin:
        return WdkmQueuedSpinLockAcquire(Lock->Handle, A29_SIZE, &Lock->QHandle, &Data);
    case A29Guarded:
        return Try ? WdkmGuardedMutexTryAcquire(Lock->Handle, A29_SIZE, &Data)
                   : WdkmGuardedMutexAcquire(Lock->Handle, A29_SIZE, &Data);
    case A29Resource:
        if (Shared) {
            return Try ? WdkmResourceTryAcquireShared(Lock->Handle, A29_SIZE, &ConstData)
                       : WdkmResourceAcquireShared(Lock->Handle, A29_SIZE, &ConstData);
        }
        return Try ? WdkmResourceTryAcquireExclusive(Lock->Handle, A29_SIZE, &Data)
                   : WdkmResourceAcquireExclusive(Lock->Handle, A29_SIZE, &Data);
    case A29Push:
        return Shared ? WdkmPushLockAcquireShared(Lock->Handle, A29_SIZE, &ConstData)
                      : WdkmPushLockAcquireExclusive(Lock->Handle, A29_SIZE, &Data);
    default:
        return STATUS_INVALID_PARAMETER;
    }
}

static NTSTATUS
A29LibRelease(A29_LOCK *Lock, A29_HOLD *Hold)
{
    switch (Lock->Kind) {
    case A29KMutex: return WdkmKMutexRelease(Lock->Handle);
    case A29Fast: return WdkmFastMutexRelease(Lock->Handle);
    case A29Spin: return WdkmSpinLockRelease(Lock->Handle, Hold->OldIrql);
    case A29QSpin: return WdkmQueuedSpinLockRelease(&Lock->QHandle);
    case A29Guarded: return WdkmGuardedMutexRelease(Lock->Handle);
    case A29Resource: return WdkmResourceRelease(Lock->Handle);
    case A29Push: return WdkmPushLockRelease(Lock->Handle);
    default: return STATUS_INVALID_PARAMETER;
    }
}

/* ---- locks of the walk ---------------------------------------------- */

static BOOLEAN A29GrtOwned;

/* Adds a lock of Kind in class Name (a registry lock when Registry). */
static NTSTATUS
A29AddLock(A29_KIND Kind, PCSTR Name, BOOLEAN Registry)
{
    A29_LOCK *Lock = &A29.Locks[A29.LockCount];
    NTSTATUS Status;
    memset(Lock, 0, sizeof(*Lock));
    Lock->Kind = Kind;
    Lock->Registry = Registry;
    if (Registry) {
        ULONG Value = 0;
        snprintf(Lock->RegName, sizeof(Lock->RegName), "%s", Name);
        Status = WdkmGrtRegister(Name, A29GrtKind(Kind), &Value, A29_SIZE, 0);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
        Status = WdkmGrtReference(Name, A29GrtKind(Kind), A29_SIZE, &Lock->Handle);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
    } else {
        Status = A29Create(Kind, &Lock->Handle);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
        Status = WdkmDiagSetClassName(Lock->Handle, Name);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
    }
    Lock->Class = A29ClassOf(Name);
    A29.LockCount++;
    return STATUS_SUCCESS;
}

static NTSTATUS
A29RemoveLocks(VOID)
{
    NTSTATUS Result = STATUS_SUCCESS;
    for (int I = 0; I < A29.LockCount; I++) {
        A29_LOCK *Lock = &A29.Locks[I];
        NTSTATUS Status;
        if (Lock->Registry) {
            Status = WdkmGrtDereference(Lock->Handle);
            if (NT_SUCCESS(Status)) {
                Status = WdkmGrtUnregister(Lock->RegName);
            }
        } else {
            Status = A29Destroy(Lock->Kind, Lock->Handle);
        }
        if (!NT_SUCCESS(Status)) {
            Result = Status;
        }
    }
    A29.LockCount = 0;
    A29.Classes = 0;
    return Result;
}

/* ---- one step of the walk --------------------------------------------- */

static KIRQL
A29ThreadIrql(A29_THREAD *Thread)
{
    KIRQL Irql = PASSIVE_LEVEL;
    for (int I = 0; I < Thread->Count; I++) {
        A29_KIND Kind = A29.Locks[Thread->Holds[I].Lock].Kind;
        if (Kind == A29Spin || Kind == A29QSpin) {
            return DISPATCH_LEVEL;
        }
        if (Kind == A29Fast) {
            Irql = APC_LEVEL;
        }
    }
    return Irql;
}

static int
A29FindHold(A29_THREAD *Thread, int LockIndex)
{
    for (int I = 0; I < Thread->Count; I++) {
        if (Thread->Holds[I].Lock == LockIndex) {
            return I;
        }
    }
    return -1;
}

/* Compares the library's counters with the model's. */
static BOOLEAN
A29Compare(VOID)
{
    WDKM_DIAG_SUMMARY Summary;
    WDKM_DIAG_VIOLATION Kept[16];
    ULONG Count = 0;
    if (!A29_EXPECT("QuerySummary", WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS) ||
        !A29_EXPECT("OrderViolations", Summary.OrderViolations, A29.OrderViolations) ||
        !A29_EXPECT("Untracked", Summary.Untracked, 0) ||
        !A29_EXPECT("ContextViolations", Summary.ContextViolations, 0)) {
        return FALSE;
    }
    if (!A29_EXPECT("QueryViolations", WdkmDiagQueryViolations(Kept, 16, &Count), STATUS_SUCCESS) ||
        !A29_EXPECT("violations reported", Count, A29.ReportCount)) {
        return FALSE;
    }
    for (ULONG I = 0; I < Count && I < 16; I++) {
        /* reports of one acquisition may come in any order */
        BOOLEAN Found = FALSE;
        for (ULONG J = 0; J < A29.ReportCount; J++) {
            const A29_REPORT *R = &A29.Reports[J];
            if (R->Serial != A29.Reports[I].Serial) {
                continue;
            }
            if (strcmp(Kept[I].Held, A29.ClassName[R->Held]) == 0 &&
                strcmp(Kept[I].Acquiring, A29.ClassName[R->Acquiring]) == 0) {
                Found = TRUE;
                if (!A29_EXPECT("violation type", Kept[I].Type, WdkmDiagLockOrder) ||
                    !A29_EXPECT("CycleLength (shortest)", Kept[I].CycleLength, R->Length)) {
                    return FALSE;
                }
            }
        }
        if (!Found) {
            char What[160];
            snprintf(What, sizeof(What), "kept violation %lu held \"%s\" acquiring \"%s\" unknown",
                     (unsigned long)I, Kept[I].Held, Kept[I].Acquiring);
            return A29Fail("%s %lld %lld (seed %lu, step %lu)", What, 0, 0);
        }
    }
    return TRUE;
}

/* One acquisition: the library and the model, then compared. */
static BOOLEAN
A29StepAcquire(A29_THREAD *Thread, int LockIndex, BOOLEAN Shared, BOOLEAN Try)
{
    A29_LOCK *Lock = &A29.Locks[LockIndex];
    int Existing = A29FindHold(Thread, LockIndex);
    BOOLEAN Recursive = FALSE;
    BOOLEAN SelfRefused = FALSE;
    NTSTATUS Expected = STATUS_SUCCESS;
    int Closing[A29_MAX_HOLDS];
    int ClosingCount = 0;
    A29_HOLD Hold;
    NTSTATUS Status;

    memset(&Hold, 0, sizeof(Hold));
    Hold.OldIrql = (KIRQL)(A29Random(&Thread->Rng) & 1);  /* only picks the try form */
    if (Existing >= 0) {
        const A29_HOLD *Prior = &Thread->Holds[Existing];
        if (Lock->Kind == A29KMutex) {
            Recursive = TRUE;
        } else if (Lock->Kind == A29Resource && (!Prior->Shared || Shared)) {
            /* exclusive owner again in either mode, shared owner shared */
            Recursive = TRUE;
        } else {
            SelfRefused = TRUE;
            Expected = STATUS_POSSIBLE_DEADLOCK;
        }
    }
    if (!Recursive && !SelfRefused && !Try) {
        int X = Lock->Class;
        for (int I = 0; I < Thread->Count; I++) {
            int H = A29.Locks[Thread->Holds[I].Lock].Class;
            BOOLEAN Seen = FALSE;
            if (H == X || A29.Edge[H][X]) {
                continue;
            }
            for (int J = 0; J < ClosingCount; J++) {
                Seen = Seen || Closing[J] == H;
            }
            if (!Seen && A29PathLength(X, H) != 0) {
                Closing[ClosingCount++] = H;
            }
        }
        if (ClosingCount != 0 && (A29.Policy & WDKM_DIAG_REFUSE)) {
            Expected = STATUS_POSSIBLE_DEADLOCK;
        }
    }

    Status = A29LibAcquire(Lock, Shared, Try, &Hold);
    A29.Steps++;
    A29_TRACE("step %lu: %s %s%s lock %d (%s) irql-now %d -> 0x%08x closing %d\n", (unsigned long)A29.Steps,
              Try ? "try" : "acquire", Shared ? "shared " : "", Recursive ? "recursive" : "", LockIndex,
              A29.ClassName[Lock->Class], (int)KeGetCurrentIrql(), (unsigned)Status, ClosingCount);
    if (!A29_EXPECT(Try ? "try status" : "acquire status", Status, Expected)) {
        if (NT_SUCCESS(Status)) {
            Hold.Lock = LockIndex;
            Thread->Holds[Thread->Count++] = Hold;   /* so that the cleanup releases it */
        }
        return FALSE;
    }
    if (!SelfRefused && !Recursive && !Try) {
        A29.Serial++;
        for (int J = 0; J < ClosingCount; J++) {
            int H = Closing[J];
            if (!A29.Reported[H][Lock->Class]) {
                A29_REPORT *R = &A29.Reports[A29.ReportCount++ & 255];
                A29.Reported[H][Lock->Class] = TRUE;
                R->Held = H;
                R->Acquiring = Lock->Class;
                R->Serial = A29.Serial;
                R->Length = A29PathLength(Lock->Class, H);
            }
            if (!(A29.Policy & WDKM_DIAG_REFUSE)) {
                A29.OrderViolations++;
            }
        }
        if (ClosingCount != 0 && (A29.Policy & WDKM_DIAG_REFUSE)) {
            A29.OrderViolations++;
        }
        if (NT_SUCCESS(Status)) {
            for (int I = 0; I < Thread->Count; I++) {
                int H = A29.Locks[Thread->Holds[I].Lock].Class;
                if (H != Lock->Class) {
                    A29.Edge[H][Lock->Class] = TRUE;
                }
            }
        }
    }
    if (NT_SUCCESS(Status)) {
        WDKM_DIAG_STATISTICS Stats;
        Hold.Lock = LockIndex;
        Hold.Shared = Shared;
        Hold.Try = Try;
        Hold.Dispatch = (A29ThreadIrql(Thread) == DISPATCH_LEVEL);
        Thread->Holds[Thread->Count++] = Hold;
        Lock->Acquisitions++;
        if (!A29_EXPECT("QueryLockStatistics", WdkmDiagQueryLockStatistics(Lock->Handle, &Stats),
                        STATUS_SUCCESS) ||
            !A29_EXPECT("lock Acquisitions", Stats.Acquisitions, Lock->Acquisitions) ||
            !A29_EXPECT("lock Contended (own instance, one thread)", Stats.Contended, 0)) {
            return FALSE;
        }
    }
    return A29Compare();
}

static BOOLEAN
A29StepRelease(A29_THREAD *Thread, int Index)
{
    A29_HOLD Hold = Thread->Holds[Index];
    NTSTATUS Status = A29LibRelease(&A29.Locks[Hold.Lock], &Hold);
    A29.Steps++;
    A29_TRACE("step %lu: release hold %d of %d lock %d (%s) -> 0x%08x irql %d\n", (unsigned long)A29.Steps, Index,
              Thread->Count, Hold.Lock, A29.ClassName[A29.Locks[Hold.Lock].Class], (unsigned)Status,
              (int)KeGetCurrentIrql());
    if (!A29_EXPECT("release status", Status, STATUS_SUCCESS)) {
        return FALSE;
    }
    memmove(&Thread->Holds[Index], &Thread->Holds[Index + 1],
            (size_t)(Thread->Count - Index - 1) * sizeof(A29_HOLD));
    Thread->Count--;
    return A29Compare();
}

/* Releases everything the thread holds, last first (cleanup). */
static VOID
A29ReleaseAll(A29_THREAD *Thread)
{
    while (Thread->Count > 0) {
        A29_HOLD Hold = Thread->Holds[--Thread->Count];
        (VOID)A29LibRelease(&A29.Locks[Hold.Lock], &Hold);
    }
}

/* A random legal step: an acquisition the kinds allow at the thread's
   IRQL, or a release (out of order where the kind allows it). */
static BOOLEAN
A29Step(A29_THREAD *Thread, const int *Mine, int MineCount)
{
    ULONG R = A29Random(&Thread->Rng);
    KIRQL Irql = A29ThreadIrql(Thread);
    if (Thread->Count > 0 && (Thread->Count >= 8 || R % 100 < 40)) {
        int Index = (int)(A29Random(&Thread->Rng) % (ULONG)Thread->Count);
        A29_KIND Kind = A29.Locks[Thread->Holds[Index].Lock].Kind;
        BOOLEAN Flexible =
            (Kind == A29KMutex && Thread->Holds[Index].Dispatch == (Irql == DISPATCH_LEVEL)) ||
                           ((Kind == A29Resource || Kind == A29Push) && Irql <= APC_LEVEL);
        if (!Flexible) {
            Index = Thread->Count - 1;
        }
        return A29StepRelease(Thread, Index);
    }
    for (int Attempt = 0; Attempt < 8; Attempt++) {
        int LockIndex = Mine[A29Random(&Thread->Rng) % (ULONG)MineCount];
        A29_LOCK *Lock = &A29.Locks[LockIndex];
        BOOLEAN Shared = (A29Random(&Thread->Rng) & 1) != 0;
        BOOLEAN Try = (A29Random(&Thread->Rng) % 4) == 0;
        int Existing = A29FindHold(Thread, LockIndex);
        if (Lock->Kind != A29Resource && Lock->Kind != A29Push) {
            Shared = FALSE;
        }
        if (Lock->Kind == A29QSpin || Lock->Kind == A29Push) {
            Try = FALSE;              /* no try forms */
        }
        if (Irql == DISPATCH_LEVEL) {
            /* under a spin lock: spin locks, and KMUTEX tries */
            if (Lock->Kind == A29KMutex) {
                Try = TRUE;
            } else if (Lock->Kind != A29Spin && Lock->Kind != A29QSpin) {
                continue;
            }
        }
        if (Existing >= 0 && Lock->Kind == A29KMutex &&
            Thread->Holds[Existing].Dispatch != (Irql == DISPATCH_LEVEL)) {
            continue;   /* another IRQL class: TIMEOUT / IRQL_MISMATCH (wdkm_kmutex.h) */
        }
        if (Existing >= 0) {
            /* tries of a lock already held: only on the recursive kinds */
            if (Try && Lock->Kind != A29KMutex &&
                !(Lock->Kind == A29Resource && !Thread->Holds[Existing].Shared)) {
                continue;
            }
            if (Lock->Kind == A29Resource) {
                /* a shared owner asking for exclusive: the kind's refusal */
                BOOLEAN Exclusive = FALSE;
                for (int I = 0; I < Thread->Count; I++) {
                    if (Thread->Holds[I].Lock == LockIndex && !Thread->Holds[I].Shared) {
                        Exclusive = TRUE;
                    }
                }
                if (!Exclusive && !Shared) {
                    continue;
                }
                if (Exclusive) {
                    /* make the model see the exclusive hold first */
                    for (int I = 0; I < Thread->Count; I++) {
                        if (Thread->Holds[I].Lock == LockIndex && !Thread->Holds[I].Shared) {
                            Existing = I;
                            break;
                        }
                    }
                }
            }
            if (Lock->Kind == A29Fast || Lock->Kind == A29Spin || Lock->Kind == A29QSpin ||
                Lock->Kind == A29Guarded) {
                continue;   /* self-refusals of these are attacked in directed tests */
            }
            if (Lock->Kind == A29Push) {
                continue;
            }
        }
        if (Thread->Count >= A29_MAX_HOLDS) {
            break;
        }
        return A29StepAcquire(Thread, LockIndex, Shared, Try);
    }
    return TRUE;
}

/* ---- per-class statistics ------------------------------------------- */

static BOOLEAN
A29CompareClasses(VOID)
{
    static WDKM_DIAG_STATISTICS Stats[300];
    ULONG Count = 0;
    if (!A29_EXPECT("QueryStatistics", WdkmDiagQueryStatistics(Stats, 300, &Count, FALSE),
                    STATUS_SUCCESS)) {
        return FALSE;
    }
    for (int C = 0; C < A29.Classes; C++) {
        ULONG64 Acquisitions = 0;
        ULONG Locks = 0;
        int First = -1;
        const WDKM_DIAG_STATISTICS *Found = NULL;
        for (int I = 0; I < A29.LockCount; I++) {
            if (A29.Locks[I].Class == C) {
                Acquisitions += A29.Locks[I].Acquisitions;
                Locks++;
                if (First < 0) {
                    First = I;
                }
            }
        }
        for (ULONG I = 0; I < Count && I < 300; I++) {
            if (strcmp(Stats[I].Name, A29.ClassName[C]) == 0) {
                Found = &Stats[I];
            }
        }
        if (Acquisitions == 0) {
            continue;   /* "every class that has been acquired" */
        }
        if (Found == NULL) {
            return A29Fail("class %s listed: %lld, model %lld (seed %lu, step %lu)",
                           A29.ClassName[C], 0, 1);
        }
        if (!A29_EXPECT("class Acquisitions", Found->Acquisitions, Acquisitions) ||
            !A29_EXPECT("class Contended", Found->Contended, 0) ||
            !A29_EXPECT("class Locks", Found->Locks, Locks) ||
            !A29_EXPECT("class Kind", Found->Kind, A29GrtKind(A29.Locks[First].Kind))) {
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- the single-thread walk ----------------------------------------- */

static NTSTATUS
A29CreateWalkLocks(int ThreadTag)
{
    static const struct {
        A29_KIND Kind;
        PCSTR Class;
        BOOLEAN Registry;
    } Plan[] = {
        { A29KMutex, "a29.kmutex", FALSE },
        { A29KMutex, "a29.pair", FALSE },     /* two locks of one class */
        { A29KMutex, "a29.pair", FALSE },
        { A29Fast, "a29.fast", FALSE },
        { A29Spin, "a29.spin1", FALSE },
        { A29Spin, "a29.spin2", FALSE },
        { A29QSpin, "a29.qspin", FALSE },
        { A29Guarded, "a29.guarded", FALSE },
        { A29Resource, "a29.resource", FALSE },
        { A29Resource, "a29.resource2", FALSE },
        { A29Push, "a29.push", FALSE },
        { A29KMutex, "a29.grt.kmutex", TRUE },
        { A29Spin, "a29.grt.spin", TRUE },
        { A29Resource, "a29.grt.resource", TRUE },
    };
    for (size_t I = 0; I < sizeof(Plan) / sizeof(Plan[0]); I++) {
        CHAR Name[40];
        NTSTATUS Status;
        if (Plan[I].Registry && ThreadTag >= 0) {
            snprintf(Name, sizeof(Name), "%s.t%d", Plan[I].Class, ThreadTag);
        } else {
            snprintf(Name, sizeof(Name), "%s", Plan[I].Class);
        }
        Status = A29AddLock(Plan[I].Kind, Name, Plan[I].Registry);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
    }
    return STATUS_SUCCESS;
}

static VOID
A29GrtUp(VOID)
{
    NTSTATUS Status = WdkmGrtInitialize();
    A29GrtOwned = (Status == STATUS_SUCCESS);
}

static VOID
A29GrtDown(VOID)
{
    if (A29GrtOwned) {
        (VOID)WdkmGrtDestroy(NULL, NULL);
        A29GrtOwned = FALSE;
    }
}

static BOOLEAN
A29RunSeed(ULONG Seed, ULONG Policy, ULONG Steps)
{
    int Mine[A29_MAX_LOCKS];
    BOOLEAN Ok = TRUE;
    memset(&A29, 0, sizeof(A29));
    A29.Seed = Seed;
    A29.Policy = Policy;
    if (!NT_SUCCESS(A29CreateWalkLocks(-1))) {
        (VOID)A29RemoveLocks();
        snprintf(A29.Failure, sizeof(A29.Failure), "could not create the walk's locks");
        return FALSE;
    }
    (VOID)WdkmDiagReset();
    (VOID)WdkmDiagSetPolicy(Policy);
    A29ModelReset();
    for (int I = 0; I < A29.LockCount; I++) {
        Mine[I] = I;
    }
    A29.Threads[0].Rng = Seed * 2654435761u + 1;
    for (ULONG S = 0; S < Steps && Ok; S++) {
        Ok = A29Step(&A29.Threads[0], Mine, A29.LockCount);
    }
    A29ReleaseAll(&A29.Threads[0]);
    if (Ok) {
        Ok = A29CompareClasses();
    }
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    if (!NT_SUCCESS(A29RemoveLocks()) && Ok) {
        snprintf(A29.Failure, sizeof(A29.Failure), "destroying the walk's locks failed");
        Ok = FALSE;
    }
    return Ok;
}

static WDKM_HOST_DEBUG_PRINT_SINK A29QuietSink;
static VOID
A29QuietSink(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    (VOID)ComponentId;
    (VOID)Level;
    (VOID)Message;
    (VOID)Context;
}

static VOID
A29Walk(ULONG Policy, ULONG FirstSeed, ULONG Seeds, ULONG Steps)
{
    BOOLEAN Ok = TRUE;
    ULONG Seed = FirstSeed;
    A29GrtUp();
    WdkmHostSetDebugPrintSink(A29QuietSink, NULL);
    for (; Seed < FirstSeed + Seeds && Ok; Seed++) {
        Ok = A29RunSeed(Seed, Policy, Steps);
    }
    WdkmHostSetDebugPrintSink(NULL, NULL);
    A29GrtDown();
    (VOID)WdkmDiagReset();
    if (!Ok) {
        WdkmTestFail(__FILE__, __LINE__, "%s", A29.Failure);
    }
}

static VOID
A29WalkReport(VOID)
{
    A29Walk(WDKM_DIAG_REPORT, 1, 150, 120);
}

static VOID
A29WalkRefuse(VOID)
{
    A29Walk(WDKM_DIAG_REFUSE, 1001, 150, 120);
}

/* ---- several threads: own instances, shared classes ------------------ */

typedef struct {
    ULONG Steps;
    volatile LONG Failed;
    int Mine[A29_MAX_THREADS][A29_MAX_LOCKS];
    int MineCount[A29_MAX_THREADS];
} A29_MT;

static VOID
A29MtThread(PVOID Context, ULONG Index)
{
    A29_MT *Mt = Context;
    for (ULONG S = 0; S < Mt->Steps; S++) {
        BOOLEAN Ok;
        pthread_mutex_lock(&A29StepLock);
        Ok = (Mt->Failed == 0) &&
             A29Step(&A29.Threads[Index], Mt->Mine[Index], Mt->MineCount[Index]);
        if (!Ok) {
            Mt->Failed = 1;
        }
        pthread_mutex_unlock(&A29StepLock);
        if (!Ok) {
            break;
        }
    }
    pthread_mutex_lock(&A29StepLock);
    A29ReleaseAll(&A29.Threads[Index]);
    pthread_mutex_unlock(&A29StepLock);
}

static VOID
A29WalkThreads(VOID)
{
    static A29_MT Mt;
    BOOLEAN Ok = TRUE;
    A29GrtUp();
    WdkmHostSetDebugPrintSink(A29QuietSink, NULL);
    for (ULONG Seed = 5001; Seed < 5013 && Ok; Seed++) {
        memset(&A29, 0, sizeof(A29));
        memset(&Mt, 0, sizeof(Mt));
        A29.Seed = Seed;
        A29.Policy = (Seed & 1) ? WDKM_DIAG_REFUSE : WDKM_DIAG_REPORT;
        for (int T = 0; T < A29_MAX_THREADS && Ok; T++) {
            int First = A29.LockCount;
            Ok = NT_SUCCESS(A29CreateWalkLocks(T));
            for (int I = First; I < A29.LockCount; I++) {
                Mt.Mine[T][Mt.MineCount[T]++] = I;
            }
            A29.Threads[T].Rng = Seed * 2654435761u + (ULONG)T * 97u + 1;
        }
        if (!Ok) {
            snprintf(A29.Failure, sizeof(A29.Failure), "could not create the walk's locks");
            (VOID)A29RemoveLocks();
            break;
        }
        (VOID)WdkmDiagReset();
        (VOID)WdkmDiagSetPolicy(A29.Policy);
        A29ModelReset();
        Mt.Steps = 100;
        if (!WdkmTestRunThreads(A29_MAX_THREADS, A29MtThread, &Mt)) {
            snprintf(A29.Failure, sizeof(A29.Failure), "could not start the threads");
            Ok = FALSE;
        }
        Ok = Ok && Mt.Failed == 0 && A29CompareClasses();
        (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
        if (!NT_SUCCESS(A29RemoveLocks()) && Ok) {
            snprintf(A29.Failure, sizeof(A29.Failure), "destroying the walk's locks failed");
            Ok = FALSE;
        }
    }
    WdkmHostSetDebugPrintSink(NULL, NULL);
    A29GrtDown();
    (VOID)WdkmDiagReset();
    if (!Ok) {
        WdkmTestFail(__FILE__, __LINE__, "%s", A29.Failure);
    }
}


/* ---- directed attacks ------------------------------------------------ */

/* Debug output captured: lines containing Needle are counted. */
static PCSTR A29Needle;
static volatile LONG A29NeedleHits;
static CHAR A29LastHit[256];

static WDKM_HOST_DEBUG_PRINT_SINK A29CountSink;
static VOID
A29CountSink(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    (VOID)ComponentId;
    (VOID)Level;
    (VOID)Context;
    if (A29Needle != NULL && strstr(Message, A29Needle) != NULL) {
        A29NeedleHits++;
        snprintf(A29LastHit, sizeof(A29LastHit), "%s", Message);
    }
}

static VOID
A29Listen(PCSTR Needle)
{
    A29Needle = Needle;
    A29NeedleHits = 0;
    A29LastHit[0] = '\0';
    WdkmHostSetDebugPrintSink(A29CountSink, NULL);
}

static VOID
A29StopListening(VOID)
{
    WdkmHostSetDebugPrintSink(NULL, NULL);
    A29Needle = NULL;
}

static PWDKM_KMUTEX
A29Named(PCSTR Name)
{
    ULONG Value = 0;
    PWDKM_KMUTEX Mutex = NULL;
    if (!NT_SUCCESS(WdkmKMutexCreate(&Value, A29_SIZE, &Mutex))) {
        return NULL;
    }
    if (!NT_SUCCESS(WdkmDiagSetClassName(Mutex, Name))) {
        (VOID)WdkmKMutexDestroy(Mutex);
        return NULL;
    }
    return Mutex;
}

static NTSTATUS
A29Take(PWDKM_KMUTEX Mutex)
{
    PVOID Data;
    return WdkmKMutexAcquire(Mutex, A29_SIZE, &Data);
}

static NTSTATUS
A29TryTake(PWDKM_KMUTEX Mutex)
{
    PVOID Data;
    return WdkmKMutexTryAcquire(Mutex, A29_SIZE, &Data);
}

static ULONG
A29OrderViolations(VOID)
{
    WDKM_DIAG_SUMMARY Summary;
    if (!NT_SUCCESS(WdkmDiagQuerySummary(&Summary))) {
        return 0xFFFFFFFFu;
    }
    return Summary.OrderViolations;
}

static ULONG
A29Reported(VOID)
{
    ULONG Count = 0;
    WDKM_DIAG_VIOLATION One;
    if (!NT_SUCCESS(WdkmDiagQueryViolations(&One, 1, &Count))) {
        return 0xFFFFFFFFu;
    }
    return Count;
}

/* Records A before B before C, every pair (A, B and C held in order). */
static VOID
A29OrderThree(PWDKM_KMUTEX A, PWDKM_KMUTEX B, PWDKM_KMUTEX C)
{
    if (NT_SUCCESS(A29Take(A))) {
        if (NT_SUCCESS(A29Take(B))) {
            if (NT_SUCCESS(A29Take(C))) {
                (VOID)WdkmKMutexRelease(C);
            }
            (VOID)WdkmKMutexRelease(B);
        }
        (VOID)WdkmKMutexRelease(A);
    }
}

/*
 * An acquisition that closes two orders at once (holding B and C, both
 * ordered after A, asking for A). Under REPORT each closing order is
 * reported and counted; under REFUSE the one refusal counts once, and each
 * closing order is still reported once (diagnostics.md: "Each closing order
 * is reported once ... the report and the kept violation stay one per
 * order"): the same two reports as under REPORT.
 */
static VOID
A29RefuseReportsEveryClosingOrder(VOID)
{
    PWDKM_KMUTEX A = A29Named("a29.two.a");
    PWDKM_KMUTEX B = A29Named("a29.two.b");
    PWDKM_KMUTEX C = A29Named("a29.two.c");
    WDKM_DIAG_VIOLATION Kept[4];
    ULONG Count = 0;
    NTSTATUS Status;
    CHECK(A != NULL && B != NULL && C != NULL);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    A29OrderThree(A, B, C);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);
    A29Listen("LOCK ORDER VIOLATION");
    CHECK_STATUS(A29Take(B), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(C), STATUS_SUCCESS);
    Status = A29Take(A);
    A29StopListening();
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(A);
    }
    (VOID)WdkmKMutexRelease(C);
    (VOID)WdkmKMutexRelease(B);
    CHECK_STATUS(Status, STATUS_POSSIBLE_DEADLOCK);
    CHECK_EQ(A29OrderViolations(), 1);
    CHECK_STATUS(WdkmDiagQueryViolations(Kept, 4, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 2);
    CHECK_EQ(A29NeedleHits, 2);
    CHECK(strcmp(Kept[0].Acquiring, "a29.two.a") == 0 && strcmp(Kept[1].Acquiring, "a29.two.a") == 0);
    CHECK((strcmp(Kept[0].Held, "a29.two.b") == 0 && strcmp(Kept[1].Held, "a29.two.c") == 0) ||
          (strcmp(Kept[0].Held, "a29.two.c") == 0 && strcmp(Kept[1].Held, "a29.two.b") == 0));
    /* each order alone again: refused and counted, not reported again */
    CHECK_STATUS(A29Take(C), STATUS_SUCCESS);
    Status = A29Take(A);
    (VOID)WdkmKMutexRelease(C);
    CHECK_STATUS(Status, STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(A29Take(B), STATUS_SUCCESS);
    Status = A29Take(A);
    (VOID)WdkmKMutexRelease(B);
    CHECK_STATUS(Status, STATUS_POSSIBLE_DEADLOCK);
    CHECK_EQ(A29OrderViolations(), 3);
    CHECK_EQ(A29Reported(), 2);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REPORT), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(C), STATUS_SUCCESS);
}

/*
 * A refused acquisition records nothing (wdkm_diag.h: "the order is never
 * recorded"), also not the orders of the other locks it was made under:
 * holding X and B, asking for A (A before B recorded) is refused; X was
 * never held while A was acquired, so A then X afterwards is no cycle.
 */
static VOID
A29RefusalRecordsNoOrder(VOID)
{
    PWDKM_KMUTEX A = A29Named("a29.norec.a");
    PWDKM_KMUTEX B = A29Named("a29.norec.b");
    PWDKM_KMUTEX X = A29Named("a29.norec.x");
    NTSTATUS Refused, Later;
    CHECK(A != NULL && B != NULL && X != NULL);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(A), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(B), STATUS_SUCCESS);
    (VOID)WdkmKMutexRelease(B);
    (VOID)WdkmKMutexRelease(A);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(X), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(B), STATUS_SUCCESS);
    Refused = A29Take(A);
    if (Refused == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(A);
    }
    (VOID)WdkmKMutexRelease(B);
    (VOID)WdkmKMutexRelease(X);
    CHECK_STATUS(A29Take(A), STATUS_SUCCESS);
    Later = A29Take(X);
    if (Later == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(X);
    }
    (VOID)WdkmKMutexRelease(A);
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    (VOID)WdkmKMutexDestroy(A);
    (VOID)WdkmKMutexDestroy(B);
    (VOID)WdkmKMutexDestroy(X);
    CHECK_STATUS(Refused, STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Later, STATUS_SUCCESS);
    CHECK_EQ(A29OrderViolations(), 1);
    CHECK_EQ(A29Reported(), 1);
}

/* The same acquisition under REPORT: two reports, two counted, once. */
static VOID
A29ReportCountsEveryClosingOrderOnce(VOID)
{
    PWDKM_KMUTEX A = A29Named("a29.two.a");
    PWDKM_KMUTEX B = A29Named("a29.two.b");
    PWDKM_KMUTEX C = A29Named("a29.two.c");
    CHECK(A != NULL && B != NULL && C != NULL);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    A29OrderThree(A, B, C);
    A29Listen("LOCK ORDER VIOLATION");
    for (int Round = 0; Round < 3; Round++) {
        CHECK_STATUS(A29Take(B), STATUS_SUCCESS);
        CHECK_STATUS(A29Take(C), STATUS_SUCCESS);
        CHECK_STATUS(A29Take(A), STATUS_SUCCESS);
        (VOID)WdkmKMutexRelease(A);
        (VOID)WdkmKMutexRelease(C);
        (VOID)WdkmKMutexRelease(B);
    }
    A29StopListening();
    CHECK_EQ(A29OrderViolations(), 2);
    CHECK_EQ(A29Reported(), 2);
    CHECK_EQ(A29NeedleHits, 2);
    CHECK_STATUS(WdkmKMutexDestroy(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(C), STATUS_SUCCESS);
}

/*
 * A try never closes a cycle and is not ordered after what is held; what
 * is acquired under it is. A failed try records nothing and is no
 * acquisition in the statistics.
 */
typedef struct {
    PWDKM_KMUTEX Mutex;
    KEVENT Held;
    KEVENT Go;
} A29_HOLDER;

static VOID
A29HolderThread(PVOID Context, ULONG Index)
{
    A29_HOLDER *Holder = Context;
    (VOID)Index;
    if (NT_SUCCESS(A29Take(Holder->Mutex))) {
        KeSetEvent(&Holder->Held, 0, FALSE);
        (VOID)KeWaitForSingleObject(&Holder->Go, Executive, KernelMode, FALSE, NULL);
        (VOID)WdkmKMutexRelease(Holder->Mutex);
    } else {
        KeSetEvent(&Holder->Held, 0, FALSE);
    }
}

static VOID
A29TryIsNotOrdered(VOID)
{
    PWDKM_KMUTEX A = A29Named("a29.try.a");
    PWDKM_KMUTEX B = A29Named("a29.try.b");
    PWDKM_KMUTEX C = A29Named("a29.try.c");
    PWDKM_KMUTEX D;
    static A29_HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    WDKM_DIAG_STATISTICS Stats;
    NTSTATUS Status;
    CHECK(A != NULL && B != NULL && C != NULL);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);
    /* A before B */
    CHECK_STATUS(A29Take(A), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(B), STATUS_SUCCESS);
    (VOID)WdkmKMutexRelease(B);
    (VOID)WdkmKMutexRelease(A);
    /* B held, try A: no cycle closed, and B is not ordered before A */
    CHECK_STATUS(A29Take(B), STATUS_SUCCESS);
    Status = A29TryTake(A);
    if (Status == STATUS_SUCCESS) {
        /* what is acquired under the try is ordered after it: A before C */
        NTSTATUS Inner = A29Take(C);
        if (Inner == STATUS_SUCCESS) {
            (VOID)WdkmKMutexRelease(C);
        }
        (VOID)WdkmKMutexRelease(A);
        CHECK_STATUS(Inner, STATUS_SUCCESS);
    }
    (VOID)WdkmKMutexRelease(B);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(A29OrderViolations(), 0);
    /* a zero timeout is a try as well */
    {
        LARGE_INTEGER Zero;
        PVOID Data;
        Zero.QuadPart = 0;
        CHECK_STATUS(A29Take(B), STATUS_SUCCESS);
        Status = WdkmKMutexAcquireTimeout(A, A29_SIZE, &Zero, &Data);
        if (Status == STATUS_SUCCESS) {
            (VOID)WdkmKMutexRelease(A);
        }
        (VOID)WdkmKMutexRelease(B);
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_EQ(A29OrderViolations(), 0);
    }
    /* C held, waiting for A closes the cycle A before C */
    CHECK_STATUS(A29Take(C), STATUS_SUCCESS);
    Status = A29Take(A);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(A);
    }
    (VOID)WdkmKMutexRelease(C);
    CHECK_STATUS(Status, STATUS_POSSIBLE_DEADLOCK);
    CHECK_EQ(A29OrderViolations(), 1);
    /* the try left no "B before A": A held, waiting for B is no cycle */
    CHECK_STATUS(A29Take(A), STATUS_SUCCESS);
    Status = A29Take(B);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(B);
    }
    (VOID)WdkmKMutexRelease(A);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(A29OrderViolations(), 1);

    /* a failed try: D busy on another thread, tried under B */
    D = A29Named("a29.try.d");
    CHECK(D != NULL);
    CHECK_STATUS(WdkmDiagQueryLockStatistics(D, &Stats), STATUS_SUCCESS);
    {
        ULONG64 Before = Stats.Acquisitions;
        Holder.Mutex = D;
        KeInitializeEvent(&Holder.Held, NotificationEvent, FALSE);
        KeInitializeEvent(&Holder.Go, NotificationEvent, FALSE);
        Thread = WdkmTestStartThread(A29HolderThread, &Holder);
        CHECK(Thread != NULL);
        (VOID)KeWaitForSingleObject(&Holder.Held, Executive, KernelMode, FALSE, NULL);
        Status = A29Take(B);
        if (Status == STATUS_SUCCESS) {
            NTSTATUS Try = A29TryTake(D);
            if (Try == STATUS_SUCCESS) {
                (VOID)WdkmKMutexRelease(D);
            }
            (VOID)WdkmKMutexRelease(B);
            Status = Try;
        }
        KeSetEvent(&Holder.Go, 0, FALSE);
        WdkmTestJoinThread(Thread);
        CHECK_STATUS(Status, STATUS_TIMEOUT);
        CHECK_STATUS(WdkmDiagQueryLockStatistics(D, &Stats), STATUS_SUCCESS);
        CHECK_EQ(Stats.Acquisitions, Before + 1);   /* the holder's only */
    }
    /* D then B: no cycle (the failed try recorded no "B before D") */
    CHECK_STATUS(A29Take(D), STATUS_SUCCESS);
    Status = A29Take(B);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(B);
    }
    (VOID)WdkmKMutexRelease(D);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(A29OrderViolations(), 1);
    CHECK_STATUS(WdkmKMutexDestroy(D), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REPORT), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(C), STATUS_SUCCESS);
}

/* Recursion on KMUTEX and ERESOURCE is not an order; nesting within a
   class is none either. */
static VOID
A29RecursionIsNotAnOrder(VOID)
{
    PWDKM_KMUTEX K = A29Named("a29.rec.k");
    PWDKM_KMUTEX A = A29Named("a29.rec.a");
    PWDKM_KMUTEX P1 = A29Named("a29.rec.pair");
    PWDKM_KMUTEX P2 = A29Named("a29.rec.pair");
    PWDKM_RESOURCE R = NULL;
    ULONG Value = 0;
    PVOID Data;
    const VOID *Shared;
    NTSTATUS Status;
    CHECK(K != NULL && A != NULL && P1 != NULL && P2 != NULL);
    CHECK_STATUS(WdkmResourceCreate(&Value, A29_SIZE, &R), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(R, "a29.rec.r"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);
    /* K, A, K again */
    CHECK_STATUS(A29Take(K), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(A), STATUS_SUCCESS);
    Status = A29Take(K);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(K);
    }
    (VOID)WdkmKMutexRelease(A);
    (VOID)WdkmKMutexRelease(K);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    /* R exclusive, A, R exclusive and shared again */
    CHECK_STATUS(WdkmResourceAcquireExclusive(R, A29_SIZE, &Data), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(A), STATUS_SUCCESS);
    Status = WdkmResourceAcquireExclusive(R, A29_SIZE, &Data);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmResourceRelease(R);
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    Status = WdkmResourceAcquireShared(R, A29_SIZE, &Shared);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmResourceRelease(R);
    }
    (VOID)WdkmKMutexRelease(A);
    (VOID)WdkmResourceRelease(R);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    /* R shared, A, R shared again */
    CHECK_STATUS(WdkmResourceAcquireShared(R, A29_SIZE, &Shared), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(A), STATUS_SUCCESS);
    Status = WdkmResourceAcquireShared(R, A29_SIZE, &Shared);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmResourceRelease(R);
    }
    (VOID)WdkmKMutexRelease(A);
    (VOID)WdkmResourceRelease(R);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    /* one class nested both ways */
    CHECK_STATUS(A29Take(P1), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(P2), STATUS_SUCCESS);
    (VOID)WdkmKMutexRelease(P2);
    (VOID)WdkmKMutexRelease(P1);
    CHECK_STATUS(A29Take(P2), STATUS_SUCCESS);
    Status = A29Take(P1);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(P1);
    }
    (VOID)WdkmKMutexRelease(P2);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(A29OrderViolations(), 0);
    CHECK_EQ(A29Reported(), 0);
    /* the recursion recorded nothing: A then K is still no cycle? No: K
       before A was recorded by the first round, so A then K closes it. */
    CHECK_STATUS(A29Take(A), STATUS_SUCCESS);
    Status = A29Take(K);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(K);
    }
    (VOID)WdkmKMutexRelease(A);
    CHECK_STATUS(Status, STATUS_POSSIBLE_DEADLOCK);
    CHECK_EQ(A29OrderViolations(), 1);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REPORT), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceDestroy(R), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(K), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(P1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(P2), STATUS_SUCCESS);
}

/* Waiting under a spin lock is a context report (and the IRQL refusal);
   a try under it is neither, nor an order closing a cycle. */
static VOID
A29WaitUnderSpinLock(VOID)
{
    PWDKM_KMUTEX M = A29Named("a29.ctx.m");
    PWDKM_SPIN_LOCK S = NULL;
    ULONG Value = 0;
    WDKM_DIAG_SUMMARY Summary;
    WDKM_DIAG_VIOLATION Kept[2];
    ULONG Count = 0;
    KIRQL Old;
    PVOID Data;
    NTSTATUS Wait, Try;
    CHECK(M != NULL);
    CHECK_STATUS(WdkmSpinLockCreate(&Value, A29_SIZE, &S), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(S, "a29.ctx.spin"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    A29Listen("CONTEXT VIOLATION");
    CHECK_STATUS(WdkmSpinLockAcquire(S, A29_SIZE, &Old, &Data), STATUS_SUCCESS);
    Wait = A29Take(M);
    if (Wait == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(M);
    }
    Try = A29TryTake(M);
    if (Try == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(M);
    }
    (VOID)WdkmSpinLockRelease(S, Old);
    A29StopListening();
    CHECK_STATUS(Wait, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Try, STATUS_SUCCESS);
    CHECK_EQ(A29NeedleHits, 1);
    CHECK(strstr(A29LastHit, "a29.ctx.spin") != NULL);
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.ContextViolations, 1);
    CHECK_EQ(Summary.OrderViolations, 0);
    CHECK_STATUS(WdkmDiagQueryViolations(Kept, 2, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 1);
    CHECK_EQ(Kept[0].Type, WdkmDiagWaitUnderSpinLock);
    /* the refused wait recorded no order and counted no acquisition */
    CHECK_STATUS(A29Take(M), STATUS_SUCCESS);
    Wait = WdkmSpinLockAcquire(S, A29_SIZE, &Old, &Data);
    if (Wait == STATUS_SUCCESS) {
        (VOID)WdkmSpinLockRelease(S, Old);
    }
    (VOID)WdkmKMutexRelease(M);
    CHECK_STATUS(Wait, STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.OrderViolations, 0);
    {
        WDKM_DIAG_STATISTICS Stats;
        CHECK_STATUS(WdkmDiagQueryLockStatistics(M, &Stats), STATUS_SUCCESS);
        CHECK_EQ(Stats.Acquisitions, 2);   /* the try and the last acquire */
    }
    CHECK_STATUS(WdkmSpinLockDestroy(S), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(M), STATUS_SUCCESS);
}

/* Contention: another thread holds the lock; the waiter is counted once as
   contended, its wait timed; holds timed only with TIME_HOLDS. */
static VOID
A29Contention(VOID)
{
    PWDKM_KMUTEX M = A29Named("a29.stat.m");
    static A29_HOLDER Holder;
    WDKM_TEST_THREAD *Thread;
    WDKM_DIAG_STATISTICS Stats;
    WDKM_DIAG_STATISTICS Classes[300];
    ULONG Count = 0;
    NTSTATUS Status;
    CHECK(M != NULL);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_TIME_HOLDS), STATUS_SUCCESS);
    Holder.Mutex = M;
    KeInitializeEvent(&Holder.Held, NotificationEvent, FALSE);
    KeInitializeEvent(&Holder.Go, NotificationEvent, FALSE);
    Thread = WdkmTestStartThread(A29HolderThread, &Holder);
    CHECK(Thread != NULL);
    (VOID)KeWaitForSingleObject(&Holder.Held, Executive, KernelMode, FALSE, NULL);
    KeSetEvent(&Holder.Go, 0, FALSE);   /* it releases after a moment */
    Status = A29Take(M);
    if (Status == STATUS_SUCCESS) {
        WdkmTestSleepMs(5);
        (VOID)WdkmKMutexRelease(M);
    }
    WdkmTestJoinThread(Thread);
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQueryLockStatistics(M, &Stats), STATUS_SUCCESS);
    CHECK_EQ(Stats.Acquisitions, 2);
    CHECK(Stats.Contended <= 1);
    CHECK(Stats.MaxHoldNs >= 4000000);
    CHECK((Stats.Contended == 0) == (Stats.TotalWaitNs == 0));
    CHECK(Stats.MaxWaitNs == Stats.TotalWaitNs);
    CHECK_STATUS(WdkmDiagQueryStatistics(Classes, 300, &Count, FALSE), STATUS_SUCCESS);
    {
        BOOLEAN Found = FALSE;
        for (ULONG I = 0; I < Count && I < 300; I++) {
            if (strcmp(Classes[I].Name, "a29.stat.m") == 0) {
                Found = TRUE;
                CHECK_EQ(Classes[I].Acquisitions, 2);
                CHECK_EQ(Classes[I].Contended, Stats.Contended);
                CHECK_EQ(Classes[I].Locks, 1);
            }
        }
        CHECK(Found);
    }
    /* destroyed: the class keeps its figures, one lock fewer */
    CHECK_STATUS(WdkmKMutexDestroy(M), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQueryStatistics(Classes, 300, &Count, FALSE), STATUS_SUCCESS);
    {
        BOOLEAN Found = FALSE;
        for (ULONG I = 0; I < Count && I < 300; I++) {
            if (strcmp(Classes[I].Name, "a29.stat.m") == 0) {
                Found = TRUE;
                CHECK_EQ(Classes[I].Acquisitions, 2);
                CHECK_EQ(Classes[I].Locks, 0);
            }
        }
        CHECK(Found);
    }
    /* reset forgets them */
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQueryStatistics(Classes, 300, &Count, FALSE), STATUS_SUCCESS);
    for (ULONG I = 0; I < Count && I < 300; I++) {
        if (strcmp(Classes[I].Name, "a29.stat.m") == 0) {
            CHECK_EQ(Classes[I].Acquisitions, 0);
        }
    }
}

/*
 * Contention per kind: the lock is held while another thread asks for it
 * (40 ms after the waiter said it is about to ask): the waiter's try
 * fails, so it counts as contended and its wait is timed; push locks (no
 * try) count none (diagnostics.md, "Statistics"). The holder takes the
 * lock before the waiter may start and lets it go only once the waiter is
 * asking, so that a loaded machine that runs the waiter late (it once
 * started after a fixed 40 ms hold had ended: Contended 0) cannot make
 * the case fail.
 */
typedef struct {
    A29_LOCK *Lock;
    NTSTATUS Status;
    KEVENT Go;
    KEVENT Asking;
} A29_WAITER;

static VOID
A29WaiterThread(PVOID Context, ULONG Index)
{
    A29_WAITER *Waiter = Context;
    A29_HOLD Hold;
    (VOID)Index;
    memset(&Hold, 0, sizeof(Hold));
    (VOID)KeWaitForSingleObject(&Waiter->Go, Executive, KernelMode, FALSE, NULL);
    KeSetEvent(&Waiter->Asking, 0, FALSE);   /* the holder has the lock */
    Waiter->Status = A29LibAcquire(Waiter->Lock, FALSE, FALSE, &Hold);
    if (Waiter->Status == STATUS_SUCCESS) {
        (VOID)A29LibRelease(Waiter->Lock, &Hold);
    }
}

static VOID
A29ContentionKinds(VOID)
{
    static A29_LOCK Lock;
    static A29_LOCK WaiterLock;   /* the same lock, with a queue handle of its own */
    static A29_WAITER Waiter;
    static const A29_KIND Kinds[] = {
        A29KMutex, A29Fast, A29Spin, A29QSpin, A29Guarded, A29Resource, A29Push
    };
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    for (size_t K = 0; K < sizeof(Kinds) / sizeof(Kinds[0]); K++) {
        WDKM_TEST_THREAD *Thread;
        WDKM_DIAG_STATISTICS Stats;
        A29_HOLD Hold;
        LONGLONG Until;
        NTSTATUS Status;
        memset(&Lock, 0, sizeof(Lock));
        memset(&Hold, 0, sizeof(Hold));
        Lock.Kind = Kinds[K];
        CHECK_STATUS(A29Create(Lock.Kind, &Lock.Handle), STATUS_SUCCESS);
        WaiterLock = Lock;
        Waiter.Lock = &WaiterLock;
        Waiter.Status = STATUS_UNSUCCESSFUL;
        KeInitializeEvent(&Waiter.Go, NotificationEvent, FALSE);
        KeInitializeEvent(&Waiter.Asking, NotificationEvent, FALSE);
        Thread = WdkmTestStartThread(A29WaiterThread, &Waiter);   /* at PASSIVE_LEVEL */
        Status = A29LibAcquire(&Lock, FALSE, FALSE, &Hold);
        KeSetEvent(&Waiter.Go, 0, FALSE);
        if (Status == STATUS_SUCCESS) {
            /* Busy: a spin lock's holder may not sleep. Until the waiter
               asks (10 s at most: a waiter that never asks fails below),
               then 40 ms for its try to fail and its wait to be timed. */
            Until = WdkmTestDeadlineMs(10000);
            while (KeReadStateEvent(&Waiter.Asking) == 0 && WdkmTestNowMs() < Until) {
            }
            Until = WdkmTestNowMs() + 40;
            while (WdkmTestNowMs() < Until) {
            }
            Status = A29LibRelease(&Lock, &Hold);
        }
        if (Thread != NULL) {
            WdkmTestJoinThread(Thread);
        }
        CHECK(Thread != NULL);
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_STATUS(Waiter.Status, STATUS_SUCCESS);
        CHECK_STATUS(WdkmDiagQueryLockStatistics(Lock.Handle, &Stats), STATUS_SUCCESS);
        CHECK_STATUS(A29Destroy(Lock.Kind, Lock.Handle), STATUS_SUCCESS);
        CHECK_EQ(Stats.Acquisitions, 2);
        if (Lock.Kind == A29Push) {
            CHECK_EQ(Stats.Contended, 0);
            CHECK_EQ(Stats.TotalWaitNs, 0);
        } else {
            if (Stats.Contended != 1) {
                WdkmTestFail(__FILE__, __LINE__, "kind %d: Contended %llu, expected 1", (int)Lock.Kind,
                             (unsigned long long)Stats.Contended);
                return;
            }
            CHECK(Stats.TotalWaitNs >= 10000000ull);
            CHECK_EQ(Stats.MaxWaitNs, Stats.TotalWaitNs);
        }
        CHECK_EQ(Stats.MaxHoldNs, 0);   /* WDKM_DIAG_TIME_HOLDS is off */
    }
}

/*
 * A DPC's own orders are recorded (diagnostics.md, "DPCs and APCs"): the
 * thread holds a KMUTEX below DISPATCH_LEVEL, raises by hand (looks like a
 * DPC) and takes S1 then S2; later S2 then S1 closes that order.
 */
static VOID
A29DpcOrdersAreItsOwn(VOID)
{
    PWDKM_KMUTEX B = A29Named("a29.dpc.b");
    PWDKM_SPIN_LOCK S1 = NULL, S2 = NULL;
    ULONG Value = 0;
    PVOID Data;
    KIRQL Old, Old1, Old2;
    NTSTATUS First, Second, Check, Later;
    CHECK(B != NULL);
    CHECK_STATUS(WdkmSpinLockCreate(&Value, A29_SIZE, &S1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockCreate(&Value, A29_SIZE, &S2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(S1, "a29.dpc.s1"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(S2, "a29.dpc.s2"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(B), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    First = WdkmSpinLockAcquireAtDpcLevel(S1, A29_SIZE, &Data);
    Second = WdkmSpinLockAcquireAtDpcLevel(S2, A29_SIZE, &Data);
    Check = WdkmDiagCheckNoneHeld("a29 dpc, two spin locks");
    if (Second == STATUS_SUCCESS) {
        (VOID)WdkmSpinLockReleaseFromDpcLevel(S2);
    }
    if (First == STATUS_SUCCESS) {
        (VOID)WdkmSpinLockReleaseFromDpcLevel(S1);
    }
    KeLowerIrql(Old);
    (VOID)WdkmKMutexRelease(B);
    CHECK_STATUS(First, STATUS_SUCCESS);
    CHECK_STATUS(Second, STATUS_SUCCESS);
    CHECK_STATUS(Check, STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockAcquire(S2, A29_SIZE, &Old2, &Data), STATUS_SUCCESS);
    Later = WdkmSpinLockAcquire(S1, A29_SIZE, &Old1, &Data);
    if (Later == STATUS_SUCCESS) {
        (VOID)WdkmSpinLockRelease(S1, Old1);
    }
    (VOID)WdkmSpinLockRelease(S2, Old2);
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    CHECK_STATUS(Later, STATUS_POSSIBLE_DEADLOCK);
    CHECK_EQ(A29OrderViolations(), 1);
    CHECK_STATUS(WdkmSpinLockDestroy(S1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(S2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(B), STATUS_SUCCESS);
}

/* A renamed lock leaves its figures with its old class. */
static VOID
A29RenameKeepsFigures(VOID)
{
    PWDKM_KMUTEX M = A29Named("a29.rename.old");
    WDKM_DIAG_STATISTICS Classes[300];
    ULONG Count = 0;
    ULONG64 Old = 99, New = 99;
    CHECK(M != NULL);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    for (int I = 0; I < 3; I++) {
        CHECK_STATUS(A29Take(M), STATUS_SUCCESS);
        (VOID)WdkmKMutexRelease(M);
    }
    CHECK_STATUS(WdkmDiagSetClassName(M, "a29.rename.new"), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(M), STATUS_SUCCESS);
    (VOID)WdkmKMutexRelease(M);
    CHECK_STATUS(WdkmDiagQueryStatistics(Classes, 300, &Count, FALSE), STATUS_SUCCESS);
    for (ULONG I = 0; I < Count && I < 300; I++) {
        if (strcmp(Classes[I].Name, "a29.rename.old") == 0) {
            Old = Classes[I].Acquisitions;
            CHECK_EQ(Classes[I].Locks, 0);
        }
        if (strcmp(Classes[I].Name, "a29.rename.new") == 0) {
            New = Classes[I].Acquisitions;
            CHECK_EQ(Classes[I].Locks, 1);
        }
    }
    CHECK_EQ(Old, 3);
    CHECK_EQ(New, 1);
    CHECK_STATUS(WdkmKMutexDestroy(M), STATUS_SUCCESS);
}

/* More than WDKM_DIAG_MAX_HELD locks held: counted Untracked, locking
   unchanged, and tracking whole again once they are released. */
static VOID
A29HeldTableFull(VOID)
{
    PWDKM_KMUTEX Locks[20];
    WDKM_DIAG_SUMMARY Summary;
    NTSTATUS Status = STATUS_SUCCESS;
    int Taken = 0;
    for (int I = 0; I < 20; I++) {
        CHAR Name[32];
        snprintf(Name, sizeof(Name), "a29.full.%d", I);
        Locks[I] = A29Named(Name);
        CHECK(Locks[I] != NULL);
    }
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    A29Listen("");
    for (; Taken < 20; Taken++) {
        Status = A29Take(Locks[Taken]);
        if (Status != STATUS_SUCCESS) {
            break;
        }
    }
    /* out of order: the untracked ones first, then the rest */
    for (int I = Taken - 1; I >= 0; I--) {
        NTSTATUS Release = WdkmKMutexRelease(Locks[I]);
        if (Release != STATUS_SUCCESS && Status == STATUS_SUCCESS) {
            Status = Release;
        }
    }
    A29StopListening();
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Taken, 20);
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK(Summary.Untracked >= 4);
    CHECK_EQ(Summary.HeldLocks, 0);
    CHECK_STATUS(WdkmDiagCheckNoneHeld("a29 after the full table"), STATUS_SUCCESS);
    /* tracking works again: 1 before 0 closes the recorded 0 before 1 */
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.Untracked, 0);
    CHECK_STATUS(A29Take(Locks[0]), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(Locks[1]), STATUS_SUCCESS);
    (VOID)WdkmKMutexRelease(Locks[1]);
    (VOID)WdkmKMutexRelease(Locks[0]);
    CHECK_STATUS(A29Take(Locks[1]), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(Locks[0]), STATUS_SUCCESS);
    (VOID)WdkmKMutexRelease(Locks[0]);
    (VOID)WdkmKMutexRelease(Locks[1]);
    CHECK_EQ(A29OrderViolations(), 1);
    for (int I = 0; I < 20; I++) {
        CHECK_STATUS(WdkmKMutexDestroy(Locks[I]), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}

/* More orders than WDKM_DIAG_MAX_EDGES (remembered sites): said once, the
   orders still checked (only their sites are lost), locking unchanged;
   WdkmDiagReset empties the table. */
static VOID
A29EdgeTableFull(VOID)
{
    enum { N = 48 };
    static PWDKM_KMUTEX Locks[N];
    WDKM_DIAG_SUMMARY Summary;
    NTSTATUS Status = STATUS_SUCCESS;
    for (int I = 0; I < N; I++) {
        CHAR Name[32];
        snprintf(Name, sizeof(Name), "a29.edge.%d", I);
        Locks[I] = A29Named(Name);
        CHECK(Locks[I] != NULL);
    }
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    A29Listen("full");
    for (int I = 0; I < N && Status == STATUS_SUCCESS; I++) {
        Status = A29Take(Locks[I]);
        if (Status != STATUS_SUCCESS) {
            break;
        }
        for (int J = I + 1; J < N && Status == STATUS_SUCCESS; J++) {
            Status = A29Take(Locks[J]);
            if (Status == STATUS_SUCCESS) {
                Status = WdkmKMutexRelease(Locks[J]);
            }
        }
        (VOID)WdkmKMutexRelease(Locks[I]);
    }
    A29StopListening();
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(A29NeedleHits, 1);
    /* the orders past the table are still checked, only their sites are
       lost: nothing untracked, and the reverse of the last one is found */
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.Untracked, 0);
    CHECK_EQ(Summary.OrderViolations, 0);
    CHECK_STATUS(A29Take(Locks[N - 1]), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(Locks[N - 2]), STATUS_SUCCESS);
    (VOID)WdkmKMutexRelease(Locks[N - 2]);
    (VOID)WdkmKMutexRelease(Locks[N - 1]);
    CHECK_EQ(A29OrderViolations(), 1);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.Untracked, 0);
    /* the table is empty again: an order and its reverse are found */
    CHECK_STATUS(A29Take(Locks[N - 2]), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(Locks[N - 1]), STATUS_SUCCESS);
    (VOID)WdkmKMutexRelease(Locks[N - 1]);
    (VOID)WdkmKMutexRelease(Locks[N - 2]);
    CHECK_STATUS(A29Take(Locks[N - 1]), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(Locks[N - 2]), STATUS_SUCCESS);
    (VOID)WdkmKMutexRelease(Locks[N - 2]);
    (VOID)WdkmKMutexRelease(Locks[N - 1]);
    CHECK_EQ(A29OrderViolations(), 1);
    for (int I = 0; I < N; I++) {
        CHECK_STATUS(WdkmKMutexDestroy(Locks[I]), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}

/* A lock with no name is its own class until destroyed: creating and
   destroying many never fills the class table. */
static VOID
A29AnonymousClassesGo(VOID)
{
    WDKM_DIAG_SUMMARY Summary;
    PWDKM_KMUTEX Named;
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    for (int I = 0; I < 600; I++) {
        ULONG Value = 0;
        PWDKM_KMUTEX M = NULL;
        CHECK_STATUS(WdkmKMutexCreate(&Value, A29_SIZE, &M), STATUS_SUCCESS);
        CHECK_STATUS(A29Take(M), STATUS_SUCCESS);
        CHECK_STATUS(WdkmKMutexRelease(M), STATUS_SUCCESS);
        CHECK_STATUS(WdkmKMutexDestroy(M), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.Untracked, 0);
    Named = A29Named("a29.after.anonymous");
    CHECK(Named != NULL);
    CHECK_STATUS(WdkmKMutexDestroy(Named), STATUS_SUCCESS);
}

/* A release refused at a raised IRQL changes nothing, in the validator
   either: the lock is still held, still reported, and the right release
   leaves nothing. */
static VOID
A29ReleaseAtRaisedIrql(VOID)
{
    PWDKM_KMUTEX M = A29Named("a29.raised.m");
    PWDKM_RESOURCE R = NULL;
    ULONG Value = 0;
    PVOID Data;
    KIRQL Old;
    NTSTATUS Km, Res, Check, CheckLowered;
    BOOLEAN HeldM, HeldR;
    CHECK(M != NULL);
    CHECK_STATUS(WdkmResourceCreate(&Value, A29_SIZE, &R), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(A29Take(M), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireExclusive(R, A29_SIZE, &Data), STATUS_SUCCESS);
    A29Listen("CONTEXT VIOLATION");
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Km = WdkmKMutexRelease(M);
    Res = WdkmResourceRelease(R);
    KeLowerIrql(Old);
    HeldM = WdkmDiagIsHeld(M);
    HeldR = WdkmDiagIsHeld(R);
    Check = WdkmDiagCheckNoneHeld("a29 raised");
    (VOID)WdkmResourceRelease(R);
    (VOID)WdkmKMutexRelease(M);
    CheckLowered = WdkmDiagCheckNoneHeld("a29 lowered");
    A29StopListening();
    CHECK_STATUS(Km, STATUS_WDKM_IRQL_MISMATCH);
    CHECK_STATUS(Res, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(HeldM && HeldR);
    CHECK_STATUS(Check, STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(CheckLowered, STATUS_SUCCESS);
    CHECK_EQ(A29NeedleHits, 2);
    CHECK_STATUS(WdkmResourceDestroy(R), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(M), STATUS_SUCCESS);
}

/* The leak check names a lock never destroyed and counts it (held too). */
static VOID
A29LeakCheck(VOID)
{
    PWDKM_KMUTEX M = A29Named("a29.leak.m");
    WDKM_DIAG_SUMMARY Before, Leaky, After;
    NTSTATUS Base, Status, Clean;
    CHECK(M != NULL);
    CHECK_STATUS(WdkmKMutexDestroy(M), STATUS_SUCCESS);
    Base = WdkmDiagLeakCheck(&Before);
    M = A29Named("a29.leak.m");
    CHECK(M != NULL);
    CHECK_STATUS(A29Take(M), STATUS_SUCCESS);
    A29Listen("a29.leak.m");
    Status = WdkmDiagLeakCheck(&Leaky);
    A29StopListening();
    (VOID)WdkmKMutexRelease(M);
    CHECK_STATUS(WdkmKMutexDestroy(M), STATUS_SUCCESS);
    Clean = WdkmDiagLeakCheck(&After);
    CHECK_STATUS(Status, STATUS_WDKM_LEAK_DETECTED);
    CHECK(A29NeedleHits >= 1);
    CHECK(strstr(A29LastHit, "LEAK") != NULL && strstr(A29LastHit, "KMUTEX") != NULL);
    CHECK_EQ(Leaky.LiveLocks, Before.LiveLocks + 1);
    CHECK_EQ(Leaky.HeldLocks, Before.HeldLocks + 1);
    CHECK(Leaky.PoolBlocks > Before.PoolBlocks);
    CHECK_STATUS(Clean, Base);
    CHECK_EQ(After.LiveLocks, Before.LiveLocks);
    CHECK_EQ(After.PoolBlocks, Before.PoolBlocks);
}

static const WDKM_TEST_CASE A29Cases[] = {
    { "model_walk_report", A29WalkReport },
    { "model_walk_refuse", A29WalkRefuse },
    { "model_walk_threads", A29WalkThreads },
    { "refuse_reports_every_closing_order", A29RefuseReportsEveryClosingOrder },
    { "refusal_records_no_order", A29RefusalRecordsNoOrder },
    { "report_counts_every_closing_order_once", A29ReportCountsEveryClosingOrderOnce },
    { "try_is_not_ordered_failed_try_records_nothing", A29TryIsNotOrdered },
    { "recursion_and_one_class_are_not_orders", A29RecursionIsNotAnOrder },
    { "wait_under_spin_lock_reported_try_not", A29WaitUnderSpinLock },
    { "contention_and_hold_statistics", A29Contention },
    { "contention_counted_per_kind", A29ContentionKinds },
    { "dpc_orders_are_its_own", A29DpcOrdersAreItsOwn },
    { "rename_keeps_figures_with_old_class", A29RenameKeepsFigures },
    { "held_table_full_untracked_then_whole", A29HeldTableFull },
    { "edge_table_full_said_once_reset_empties", A29EdgeTableFull },
    { "anonymous_classes_go_with_their_lock", A29AnonymousClassesGo },
    { "release_refused_at_raised_irql_changes_nothing", A29ReleaseAtRaisedIrql },
    { "leak_check_names_and_counts", A29LeakCheck },
};

static VOID
A29Cleanup(VOID)
{
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    (VOID)WdkmDiagReset();
}

const WDKM_TEST_SUITE WdkmAttack29Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack29", A29Cases, A29Cleanup);
