/*
 * test_attack24.c - values in place (CreateInPlace / DestroyWith), every
 * kind's Destroy and Take, and the callback forms (..._OrBugCheck),
 * attacked from docs/reference.md and the public headers alone, where the
 * kernel acts on a thread asynchronously: DPCs on the owner's thread
 * (modelled by raising the IRQL, and injected), special kernel APCs in the
 * middle of a hold or a drain, normal APCs parking a thread, other threads
 * using a handle whose drain is running, drains that call the library.
 *
 * Every case leaves no pool block, no held lock and no thread behind.
 */
#include "wdkm_test.h"
#include "wdkm_test_kinds.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#define A24_RECORD_TAG 0x72343261UL   /* 'a24r': the test's own list records */
#define A24_MAGIC 0x24242424UL

/* ---------------------------------------------------------------------- */
/* Violations seen off the test's own frame (drains, DPCs, APCs, threads)  */
/* ---------------------------------------------------------------------- */

static LONG volatile A24Violations;

static VOID
A24Violation(PCSTR What, NTSTATUS Status, int Line)
{
    InterlockedIncrement(&A24Violations);
    printf("  attack24 violation (line %d): %s: %s (0x%08X)\n", Line, What,
           WdkmStatusName(Status), (unsigned)Status);
}

#define A24_EXPECT(Expression, Expected, What)                                  \
    do {                                                                        \
        NTSTATUS A24Actual_ = (Expression);                                     \
        if (A24Actual_ != (Expected)) {                                         \
            A24Violation(What, A24Actual_, __LINE__);                           \
        }                                                                       \
    } while (0)

#define A24_TRUE(Condition, What)                                               \
    do {                                                                        \
        if (!(Condition)) {                                                     \
            A24Violation(What, STATUS_SUCCESS, __LINE__);                       \
        }                                                                       \
    } while (0)

static VOID
A24Yield(VOID)
{
    YieldProcessor();
    sched_yield();
}

static VOID
A24WaitFlag(LONG volatile *Flag)
{
    while (ReadAcquire(Flag) == 0) {
        A24Yield();
    }
}

/* ---------------------------------------------------------------------- */
/* The value: an intrusive list, initialised and drained in place          */
/* ---------------------------------------------------------------------- */

typedef struct _A24_LIST {
    ULONG Magic;
    LIST_ENTRY Head;
    ULONG Count;
} A24_LIST;

typedef struct _A24_RECORD {
    LIST_ENTRY Link;
    ULONG Id;
} A24_RECORD;

typedef struct _A24_INIT {
    LONG Calls;
    KIRQL Irql;
    NTSTATUS Result;   /* what the initialiser returns */
} A24_INIT;

static NTSTATUS
A24Initialize(PVOID Value, PVOID Context)
{
    A24_LIST *List = (A24_LIST *)Value;
    A24_INIT *Init = (A24_INIT *)Context;

    Init->Calls += 1;
    Init->Irql = KeGetCurrentIrql();
    if (List->Magic != 0 || List->Count != 0) {
        A24Violation("initialiser: the value is not zeroed", STATUS_SUCCESS, __LINE__);
    }
    List->Magic = A24_MAGIC;
    InitializeListHead(&List->Head);
    return Init->Result;
}

static BOOLEAN
A24ListIsSound(const A24_LIST *List)
{
    const LIST_ENTRY *Entry = List->Head.Flink;
    ULONG Seen = 0;

    if (List->Magic != A24_MAGIC || List->Head.Blink->Flink != &List->Head) {
        return FALSE;
    }
    while (Entry != &List->Head) {
        if (Entry->Flink->Blink != Entry || Seen > List->Count) {
            return FALSE;
        }
        Seen += 1;
        Entry = Entry->Flink;
    }
    return Seen == List->Count;
}

static BOOLEAN
A24AddRecord(A24_LIST *List, ULONG Id)
{
    A24_RECORD *Record = (A24_RECORD *)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*Record),
                                                             A24_RECORD_TAG);

    if (Record == NULL) {
        return FALSE;
    }
    Record->Id = Id;
    InsertTailList(&List->Head, &Record->Link);
    List->Count += 1;
    return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Every kind behind one table                                             */
/* ---------------------------------------------------------------------- */

typedef struct _A24_HOLD {
    KIRQL OldIrql;
    BOOLEAN AtDpcLevel;
    WDKM_LOCK_QUEUE_HANDLE Handle;
} A24_HOLD;

typedef struct _A24_KIND {
    PCSTR Name;
    WDKM_LOCK_KIND Kind;
    KIRQL DestroyMax;                  /* destroy, take, DestroyWith */
    BOOLEAN Spin;                      /* held at DISPATCH_LEVEL */
    BOOLEAN Shared;                    /* has shared holds */
    NTSTATUS (*CreateInPlace)(SIZE_T, PWDKM_INITIALIZE_VALUE, PVOID, PVOID *);
    /* Destroy, Take, DestroyWith: A24Destroy, A24Take, A24DestroyWith. */
    /* Exclusive; blocking where the kind blocks, AtDpcLevel for a spin kind
       already at DISPATCH_LEVEL. */
    NTSTATUS (*Acquire)(PVOID, SIZE_T, A24_HOLD *, PVOID *);
    /* Never waits (spin kinds and push locks: the plain acquire, for a lock
       nobody holds). */
    NTSTATUS (*Try)(PVOID, SIZE_T, A24_HOLD *, PVOID *);
    NTSTATUS (*AcquireShared)(PVOID, SIZE_T, const VOID **);
    NTSTATUS (*Release)(PVOID, A24_HOLD *);
    BOOLEAN (*IsOwned)(PVOID);
    PVOID (*OrBugCheck)(PVOID, SIZE_T, A24_HOLD *, PVOID *);
} A24_KIND;

/* KMUTEX */
static NTSTATUS KmCreate(SIZE_T S, PWDKM_INITIALIZE_VALUE I, PVOID C, PVOID *L)
{ return WdkmKMutexCreateInPlace(S, I, C, (PWDKM_KMUTEX *)L); }
static NTSTATUS KmAcquire(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{
    UNREFERENCED_PARAMETER(H);
    if (KeGetCurrentIrql() >= DISPATCH_LEVEL) {
        return WdkmKMutexTryAcquire((PWDKM_KMUTEX)L, S, D);
    }
    return WdkmKMutexAcquire((PWDKM_KMUTEX)L, S, D);
}
static NTSTATUS KmTry(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmKMutexTryAcquire((PWDKM_KMUTEX)L, S, D); }
static NTSTATUS KmRelease(PVOID L, A24_HOLD *H) { UNREFERENCED_PARAMETER(H); return WdkmKMutexRelease((PWDKM_KMUTEX)L); }
static BOOLEAN KmIsOwned(PVOID L) { return WdkmKMutexIsOwned((const WDKM_KMUTEX *)L); }
static PVOID KmOrBugCheck(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmKMutexAcquireOrBugCheck((PWDKM_KMUTEX)L, S, D); }

/* FAST_MUTEX */
static NTSTATUS FmCreate(SIZE_T S, PWDKM_INITIALIZE_VALUE I, PVOID C, PVOID *L)
{ return WdkmFastMutexCreateInPlace(S, I, C, (PWDKM_FAST_MUTEX *)L); }
static NTSTATUS FmAcquire(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)L, S, D); }
static NTSTATUS FmTry(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmFastMutexTryAcquire((PWDKM_FAST_MUTEX)L, S, D); }
static NTSTATUS FmRelease(PVOID L, A24_HOLD *H) { UNREFERENCED_PARAMETER(H); return WdkmFastMutexRelease((PWDKM_FAST_MUTEX)L); }
static BOOLEAN FmIsOwned(PVOID L) { return WdkmFastMutexIsOwned((const WDKM_FAST_MUTEX *)L); }
static PVOID FmOrBugCheck(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmFastMutexAcquireOrBugCheck((PWDKM_FAST_MUTEX)L, S, D); }

/* Spin lock */
static NTSTATUS SlCreate(SIZE_T S, PWDKM_INITIALIZE_VALUE I, PVOID C, PVOID *L)
{ return WdkmSpinLockCreateInPlace(S, I, C, (PWDKM_SPIN_LOCK *)L); }
static NTSTATUS SlAcquire(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{
    H->AtDpcLevel = KeGetCurrentIrql() == DISPATCH_LEVEL;
    if (H->AtDpcLevel) {
        return WdkmSpinLockAcquireAtDpcLevel((PWDKM_SPIN_LOCK)L, S, D);
    }
    return WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)L, S, &H->OldIrql, D);
}
static NTSTATUS SlRelease(PVOID L, A24_HOLD *H)
{
    if (H->AtDpcLevel) {
        return WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)L);
    }
    return WdkmSpinLockRelease((PWDKM_SPIN_LOCK)L, H->OldIrql);
}
static BOOLEAN SlIsOwned(PVOID L) { return WdkmSpinLockIsOwned((const WDKM_SPIN_LOCK *)L); }
static PVOID SlOrBugCheck(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{
    H->AtDpcLevel = KeGetCurrentIrql() == DISPATCH_LEVEL;
    if (H->AtDpcLevel) {
        return WdkmSpinLockAcquireAtDpcLevelOrBugCheck((PWDKM_SPIN_LOCK)L, S, D);
    }
    return WdkmSpinLockAcquireOrBugCheck((PWDKM_SPIN_LOCK)L, S, &H->OldIrql, D);
}

/* Queued spin lock */
static NTSTATUS QsCreate(SIZE_T S, PWDKM_INITIALIZE_VALUE I, PVOID C, PVOID *L)
{ return WdkmQueuedSpinLockCreateInPlace(S, I, C, (PWDKM_QUEUED_SPIN_LOCK *)L); }
static NTSTATUS QsAcquire(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{
    if (KeGetCurrentIrql() == DISPATCH_LEVEL) {
        return WdkmQueuedSpinLockAcquireAtDpcLevel((PWDKM_QUEUED_SPIN_LOCK)L, S, &H->Handle, D);
    }
    return WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)L, S, &H->Handle, D);
}
static NTSTATUS QsRelease(PVOID L, A24_HOLD *H) { UNREFERENCED_PARAMETER(L); return WdkmQueuedSpinLockRelease(&H->Handle); }
static BOOLEAN QsIsOwned(PVOID L) { return WdkmQueuedSpinLockIsOwned((const WDKM_QUEUED_SPIN_LOCK *)L); }
static PVOID QsOrBugCheck(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{
    if (KeGetCurrentIrql() == DISPATCH_LEVEL) {
        return WdkmQueuedSpinLockAcquireAtDpcLevelOrBugCheck((PWDKM_QUEUED_SPIN_LOCK)L, S, &H->Handle, D);
    }
    return WdkmQueuedSpinLockAcquireOrBugCheck((PWDKM_QUEUED_SPIN_LOCK)L, S, &H->Handle, D);
}

/* Guarded mutex */
static NTSTATUS GmCreate(SIZE_T S, PWDKM_INITIALIZE_VALUE I, PVOID C, PVOID *L)
{ return WdkmGuardedMutexCreateInPlace(S, I, C, (PWDKM_GUARDED_MUTEX *)L); }
static NTSTATUS GmAcquire(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)L, S, D); }
static NTSTATUS GmTry(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmGuardedMutexTryAcquire((PWDKM_GUARDED_MUTEX)L, S, D); }
static NTSTATUS GmRelease(PVOID L, A24_HOLD *H) { UNREFERENCED_PARAMETER(H); return WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)L); }
static BOOLEAN GmIsOwned(PVOID L) { return WdkmGuardedMutexIsOwned((const WDKM_GUARDED_MUTEX *)L); }
static PVOID GmOrBugCheck(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmGuardedMutexAcquireOrBugCheck((PWDKM_GUARDED_MUTEX)L, S, D); }

/* ERESOURCE */
static NTSTATUS ErCreate(SIZE_T S, PWDKM_INITIALIZE_VALUE I, PVOID C, PVOID *L)
{ return WdkmResourceCreateInPlace(S, I, C, (PWDKM_RESOURCE *)L); }
static NTSTATUS ErAcquire(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmResourceAcquireExclusive((PWDKM_RESOURCE)L, S, D); }
static NTSTATUS ErTry(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmResourceTryAcquireExclusive((PWDKM_RESOURCE)L, S, D); }
static NTSTATUS ErShared(PVOID L, SIZE_T S, const VOID **D)
{ return WdkmResourceAcquireShared((PWDKM_RESOURCE)L, S, D); }
static NTSTATUS ErRelease(PVOID L, A24_HOLD *H) { UNREFERENCED_PARAMETER(H); return WdkmResourceRelease((PWDKM_RESOURCE)L); }
static BOOLEAN ErIsOwned(PVOID L) { return WdkmResourceIsOwnedExclusive((const WDKM_RESOURCE *)L); }
static PVOID ErOrBugCheck(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmResourceAcquireExclusiveOrBugCheck((PWDKM_RESOURCE)L, S, D); }

/* Push lock */
static NTSTATUS PlCreate(SIZE_T S, PWDKM_INITIALIZE_VALUE I, PVOID C, PVOID *L)
{ return WdkmPushLockCreateInPlace(S, I, C, (PWDKM_PUSH_LOCK *)L); }
static NTSTATUS PlAcquire(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)L, S, D); }
static NTSTATUS PlShared(PVOID L, SIZE_T S, const VOID **D)
{ return WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)L, S, D); }
static NTSTATUS PlRelease(PVOID L, A24_HOLD *H) { UNREFERENCED_PARAMETER(H); return WdkmPushLockRelease((PWDKM_PUSH_LOCK)L); }
static BOOLEAN PlIsOwned(PVOID L) { return WdkmPushLockIsOwnedExclusive((const WDKM_PUSH_LOCK *)L); }
static PVOID PlOrBugCheck(PVOID L, SIZE_T S, A24_HOLD *H, PVOID *D)
{ UNREFERENCED_PARAMETER(H); return WdkmPushLockAcquireExclusiveOrBugCheck((PWDKM_PUSH_LOCK)L, S, D); }

static const A24_KIND A24Kinds[] = {
    { "kmutex", WdkmLockKindKMutex, DISPATCH_LEVEL, FALSE, FALSE, KmCreate, KmAcquire, KmTry,
      NULL, KmRelease, KmIsOwned, KmOrBugCheck },
    { "fast_mutex", WdkmLockKindFastMutex, DISPATCH_LEVEL, FALSE, FALSE, FmCreate, FmAcquire,
      FmTry, NULL, FmRelease, FmIsOwned, FmOrBugCheck },
    { "spin_lock", WdkmLockKindSpinLock, DISPATCH_LEVEL, TRUE, FALSE, SlCreate, SlAcquire,
      SlAcquire, NULL, SlRelease, SlIsOwned, SlOrBugCheck },
    { "queued_spin_lock", WdkmLockKindQueuedSpinLock, DISPATCH_LEVEL, TRUE, FALSE, QsCreate,
      QsAcquire, QsAcquire, NULL, QsRelease, QsIsOwned, QsOrBugCheck },
    { "guarded_mutex", WdkmLockKindGuardedMutex, DISPATCH_LEVEL, FALSE, FALSE, GmCreate,
      GmAcquire, GmTry, NULL, GmRelease, GmIsOwned, GmOrBugCheck },
    { "resource", WdkmLockKindResource, APC_LEVEL, FALSE, TRUE, ErCreate, ErAcquire, ErTry,
      ErShared, ErRelease, ErIsOwned, ErOrBugCheck },
    { "push_lock", WdkmLockKindPushLock, DISPATCH_LEVEL, FALSE, TRUE, PlCreate, PlAcquire,
      PlAcquire, PlShared, PlRelease, PlIsOwned, PlOrBugCheck },
};

/* The teardowns of a lock of Kind: the shared WdkmTestKind* (wdkm_test_kinds.h). */
static NTSTATUS A24Destroy(const A24_KIND *Kind, PVOID Lock)
{ return WdkmTestKindDestroy(Kind->Kind, Lock); }
static NTSTATUS A24Take(const A24_KIND *Kind, PVOID Lock, SIZE_T DataSize, PVOID Value)
{ return WdkmTestKindTake(Kind->Kind, Lock, DataSize, Value); }
static NTSTATUS A24DestroyWith(const A24_KIND *Kind, PVOID Lock, SIZE_T DataSize,
                               PWDKM_DRAIN_VALUE Drain, PVOID Context)
{ return WdkmTestKindDestroyWith(Kind->Kind, Lock, DataSize, Drain, Context); }

#define A24_KIND_COUNT ((ULONG)(sizeof(A24Kinds) / sizeof(A24Kinds[0])))

/* ---------------------------------------------------------------------- */
/* The drain                                                               */
/* ---------------------------------------------------------------------- */

typedef struct _A24_DRAIN A24_DRAIN;
typedef VOID A24_DRAIN_HOOK(A24_DRAIN *Drain, A24_LIST *List);

struct _A24_DRAIN {
    LONG Calls;
    KIRQL Irql;
    ULONG Freed;
    BOOLEAN Sound;                /* the list was whole when the drain got it */
    const A24_KIND *Kind;
    PVOID Lock;                   /* the handle being destroyed */
    A24_DRAIN_HOOK *Hook;         /* runs inside the drain, before the records go */
    PVOID HookContext;
};

static VOID
A24Drain(PVOID Value, PVOID Context)
{
    A24_LIST *List = (A24_LIST *)Value;
    A24_DRAIN *Drain = (A24_DRAIN *)Context;

    Drain->Calls += 1;
    Drain->Irql = KeGetCurrentIrql();
    Drain->Sound = A24ListIsSound(List);
    if (Drain->Hook != NULL) {
        Drain->Hook(Drain, List);
    }
    while (!IsListEmpty(&List->Head)) {
        A24_RECORD *Record = CONTAINING_RECORD(RemoveHeadList(&List->Head), A24_RECORD, Link);
        ExFreePoolWithTag(Record, A24_RECORD_TAG);
        List->Count -= 1;
        Drain->Freed += 1;
    }
}

/* Creates a lock of Kind with its list initialised in place and Records
   records linked in. */
static NTSTATUS
A24CreateList(const A24_KIND *Kind, ULONG Records, PVOID *Lock)
{
    A24_INIT Init = { 0, PASSIVE_LEVEL, STATUS_SUCCESS };
    A24_HOLD Hold;
    A24_LIST *List;
    NTSTATUS Status;
    ULONG Index;

    Status = Kind->CreateInPlace(sizeof(A24_LIST), A24Initialize, &Init, Lock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    if (Init.Calls != 1) {
        A24Violation("initialiser not called exactly once", STATUS_SUCCESS, __LINE__);
    }
    Status = Kind->Acquire(*Lock, sizeof(A24_LIST), &Hold, (PVOID *)&List);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    if (List->Head.Flink != &List->Head || List->Magic != A24_MAGIC) {
        A24Violation("the list head was not initialised in place", STATUS_SUCCESS, __LINE__);
    }
    for (Index = 0; Index < Records; Index += 1) {
        (VOID)A24AddRecord(List, Index);
    }
    return Kind->Release(*Lock, &Hold);
}

static LONG
A24Records(VOID)
{
    return (LONG)WdkmHostPoolOutstanding(A24_RECORD_TAG, NULL);
}

static BOOLEAN
A24Untouched(const VOID *Buffer, SIZE_T Size)
{
    const UCHAR *Byte = (const UCHAR *)Buffer;
    SIZE_T Index;

    for (Index = 0; Index < Size; Index += 1) {
        if (Byte[Index] != 0xA5) {
            return FALSE;
        }
    }
    return TRUE;
}

/* ---------------------------------------------------------------------- */
/* 1. The caller's own hold: DestroyWith, Destroy and Take refuse it        */
/* ---------------------------------------------------------------------- */

/*
 * reference.md, DestroyWith: "checks everything Destroy checks (not held,
 * ...) ... On any error nothing changes and the drain is not called";
 * Take: "STATUS_WDKM_LOCK_HELD", "STATUS_WDKM_TYPE_MISMATCH (nothing
 * freed, *Value untouched)"; the order of the checks puts a NULL drain
 * (an argument) before the hold.
 */
static VOID
HeldByCallerRefusedEveryKind(VOID)
{
    ULONG KindIndex;

    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];
        A24_DRAIN Drain;
        A24_HOLD Hold;
        A24_LIST *List;
        A24_LIST Out;
        PVOID Lock;

        memset(&Drain, 0, sizeof(Drain));
        CHECK_STATUS(A24CreateList(Kind, 2, &Lock), STATUS_SUCCESS);
        CHECK_EQ(A24Records(), 2);
        CHECK_STATUS(Kind->Acquire(Lock, sizeof(A24_LIST), &Hold, (PVOID *)&List), STATUS_SUCCESS);
        CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain),
                     STATUS_WDKM_LOCK_HELD);
        CHECK_EQ(Drain.Calls, 0);
        CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), NULL, &Drain),
                     STATUS_INVALID_PARAMETER);
        CHECK_STATUS(A24Destroy(Kind, Lock), STATUS_WDKM_LOCK_HELD);
        memset(&Out, 0xA5, sizeof(Out));
        CHECK_STATUS(A24Take(Kind, Lock, sizeof(A24_LIST), &Out), STATUS_WDKM_LOCK_HELD);
        CHECK(A24Untouched(&Out, sizeof(Out)));
        CHECK(Kind->IsOwned(Lock));
        CHECK(A24ListIsSound(List));
        CHECK_STATUS(Kind->Release(Lock, &Hold), STATUS_SUCCESS);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

        /* Free, with the wrong size: refused, nothing freed, no drain. */
        CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST) + 1, A24Drain, &Drain),
                     STATUS_WDKM_TYPE_MISMATCH);
        CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST) - 1, A24Drain, &Drain),
                     STATUS_WDKM_TYPE_MISMATCH);
        CHECK_EQ(Drain.Calls, 0);
        CHECK_STATUS(A24Take(Kind, Lock, sizeof(A24_LIST) + 8, &Out), STATUS_WDKM_TYPE_MISMATCH);
        CHECK(A24Untouched(&Out, sizeof(Out)));
        /* Another kind's destroy and take: "not a live lock of this kind". */
        CHECK_STATUS(A24DestroyWith(&A24Kinds[(KindIndex + 1) % A24_KIND_COUNT], 
                         Lock, sizeof(A24_LIST), A24Drain, &Drain),
                     STATUS_INVALID_PARAMETER);
        CHECK_STATUS(A24Destroy(&A24Kinds[(KindIndex + 1) % A24_KIND_COUNT], Lock),
                     STATUS_INVALID_PARAMETER);
        CHECK_STATUS(A24Take(&A24Kinds[(KindIndex + 2) % A24_KIND_COUNT], Lock, sizeof(A24_LIST), &Out),
                     STATUS_INVALID_PARAMETER);
        CHECK(A24Untouched(&Out, sizeof(Out)));
        CHECK_EQ(Drain.Calls, 0);
        CHECK_EQ(A24Records(), 2);

        Drain.Kind = Kind;
        CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain), STATUS_SUCCESS);
        CHECK_EQ(Drain.Calls, 1);
        CHECK(Drain.Sound);
        CHECK_EQ(Drain.Freed, 2);
        CHECK_EQ(Drain.Irql, PASSIVE_LEVEL);
        CHECK_EQ(A24Records(), 0);
        CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    }
}

/* ---------------------------------------------------------------------- */
/* 2. Another thread's hold (exclusive and shared)                          */
/* ---------------------------------------------------------------------- */

typedef struct _A24_HOLDER {
    const A24_KIND *Kind;
    PVOID Lock;
    BOOLEAN Shared;
    LONG volatile Holding;
    LONG volatile Go;
    NTSTATUS AcquireStatus;
    NTSTATUS ReleaseStatus;
} A24_HOLDER;

static VOID
A24HolderThread(PVOID Context, ULONG Index)
{
    A24_HOLDER *Holder = (A24_HOLDER *)Context;
    A24_HOLD Hold;
    PVOID Data;
    const VOID *ConstData;

    UNREFERENCED_PARAMETER(Index);
    memset(&Hold, 0, sizeof(Hold));
    if (Holder->Shared) {
        Holder->AcquireStatus = Holder->Kind->AcquireShared(Holder->Lock, sizeof(A24_LIST),
                                                            &ConstData);
    } else {
        Holder->AcquireStatus = Holder->Kind->Acquire(Holder->Lock, sizeof(A24_LIST), &Hold, &Data);
    }
    WriteRelease(&Holder->Holding, 1);
    if (Holder->AcquireStatus != STATUS_SUCCESS) {
        return;
    }
    A24WaitFlag(&Holder->Go);
    Holder->ReleaseStatus = Holder->Kind->Release(Holder->Lock, &Hold);
}

/*
 * reference.md: Destroy "STATUS_WDKM_LOCK_HELD (nothing freed)" whoever
 * holds it; DestroyWith "as the kind's destroy"; Take
 * "STATUS_WDKM_LOCK_HELD". Shared holders hold it too.
 */
static VOID
HeldByOtherThreadRefusedEveryKind(VOID)
{
    ULONG KindIndex;
    ULONG Mode;

    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];

        for (Mode = 0; Mode < (Kind->Shared ? 2UL : 1UL); Mode += 1) {
            A24_HOLDER Holder;
            A24_DRAIN Drain;
            A24_LIST Out;
            WDKM_TEST_THREAD *Thread;
            PVOID Lock;
            KIRQL OldIrql;

            memset(&Holder, 0, sizeof(Holder));
            memset(&Drain, 0, sizeof(Drain));
            CHECK_STATUS(A24CreateList(Kind, 1, &Lock), STATUS_SUCCESS);
            Holder.Kind = Kind;
            Holder.Lock = Lock;
            Holder.Shared = Mode == 1;
            Thread = WdkmTestStartThread(A24HolderThread, &Holder);
            CHECK(Thread != NULL);
            A24WaitFlag(&Holder.Holding);
            if (Holder.AcquireStatus != STATUS_SUCCESS) {
                WdkmTestJoinThread(Thread);
                CHECK_STATUS(Holder.AcquireStatus, STATUS_SUCCESS);
            }
            CHECK(!Kind->IsOwned(Lock));
            CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain),
                         STATUS_WDKM_LOCK_HELD);
            CHECK_STATUS(A24Destroy(Kind, Lock), STATUS_WDKM_LOCK_HELD);
            memset(&Out, 0xA5, sizeof(Out));
            CHECK_STATUS(A24Take(Kind, Lock, sizeof(A24_LIST), &Out), STATUS_WDKM_LOCK_HELD);
            CHECK(A24Untouched(&Out, sizeof(Out)));
            /* The same from DISPATCH_LEVEL (a DPC on this thread), where the
               kind allows it; an ERESOURCE answers the IRQL first. */
            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
            Drain.Calls = 0;
            {
                NTSTATUS Expected = Kind->DestroyMax >= DISPATCH_LEVEL ? STATUS_WDKM_LOCK_HELD
                                                                       : STATUS_WDKM_IRQL_TOO_HIGH;
                NTSTATUS A = A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain);
                NTSTATUS B = A24Destroy(Kind, Lock);
                NTSTATUS C = A24Take(Kind, Lock, sizeof(A24_LIST), &Out);

                KeLowerIrql(OldIrql);
                CHECK_STATUS(A, Expected);
                CHECK_STATUS(B, Expected);
                CHECK_STATUS(C, Expected);
            }
            CHECK(A24Untouched(&Out, sizeof(Out)));
            CHECK_EQ(Drain.Calls, 0);
            WriteRelease(&Holder.Go, 1);
            WdkmTestJoinThread(Thread);
            CHECK_STATUS(Holder.ReleaseStatus, STATUS_SUCCESS);
            CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain), STATUS_SUCCESS);
            CHECK_EQ(Drain.Calls, 1);
            CHECK_EQ(Drain.Freed, 1);
            CHECK_EQ(A24Records(), 0);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* 3. A DPC on the owner's thread: modelled and injected                    */
/* ---------------------------------------------------------------------- */

typedef struct _A24_DPC_PROBE {
    const A24_KIND *Kind;
    PVOID Lock;
    LONG Ran;
    KIRQL Irql;
    NTSTATUS DestroyWith, Destroy, Take, Try;
    BOOLEAN Owned;
    A24_DRAIN Drain;
    BOOLEAN Untouched;
} A24_DPC_PROBE;

static VOID
A24DpcProbeRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A24_DPC_PROBE *Probe = (A24_DPC_PROBE *)Context;
    A24_LIST Out;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Probe->Ran += 1;
    Probe->Irql = KeGetCurrentIrql();
    Probe->Owned = Probe->Kind->IsOwned(Probe->Lock);
    Probe->DestroyWith = A24DestroyWith(Probe->Kind, Probe->Lock, sizeof(A24_LIST), A24Drain,
                                                  &Probe->Drain);
    Probe->Destroy = A24Destroy(Probe->Kind, Probe->Lock);
    memset(&Out, 0xA5, sizeof(Out));
    Probe->Take = A24Take(Probe->Kind, Probe->Lock, sizeof(A24_LIST), &Out);
    Probe->Untouched = A24Untouched(&Out, sizeof(Out));
    if (Probe->Kind->Kind == WdkmLockKindKMutex) {
        PVOID Data;

        /* reference.md, KMUTEX: "The library refuses that try with
           STATUS_TIMEOUT (the mutex is busy: the interrupted code holds it)". */
        Probe->Try = WdkmKMutexTryAcquire((PWDKM_KMUTEX)Probe->Lock, sizeof(A24_LIST), &Data);
        if (Probe->Try == STATUS_SUCCESS) {
            (VOID)WdkmKMutexRelease((PWDKM_KMUTEX)Probe->Lock);
        }
    }
}

/*
 * A hold taken below DISPATCH_LEVEL, then a DPC on the same thread (to NT
 * the same thread, so "the caller holds it"): Destroy, DestroyWith and Take
 * answer STATUS_WDKM_LOCK_HELD (the ERESOURCE STATUS_WDKM_IRQL_TOO_HIGH,
 * its destroy being <= APC_LEVEL), nothing changes, no drain. Both the
 * model (raise the IRQL on the thread) and a real injected DPC.
 */
static VOID
DpcOnOwnerThreadDestroyTakeRefused(VOID)
{
    ULONG KindIndex;
    ULONG Way;

    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];

        if (Kind->Spin) {
            continue;   /* held at DISPATCH_LEVEL: no DPC gets in */
        }
        for (Way = 0; Way < 2; Way += 1) {
            A24_DPC_PROBE Probe;
            A24_HOLD Hold;
            A24_LIST *List;
            PVOID Lock;
            NTSTATUS Expected = Kind->DestroyMax >= DISPATCH_LEVEL ? STATUS_WDKM_LOCK_HELD
                                                                   : STATUS_WDKM_IRQL_TOO_HIGH;

            memset(&Probe, 0, sizeof(Probe));
            CHECK_STATUS(A24CreateList(Kind, 1, &Lock), STATUS_SUCCESS);
            Probe.Kind = Kind;
            Probe.Lock = Lock;
            CHECK_STATUS(Kind->Acquire(Lock, sizeof(A24_LIST), &Hold, (PVOID *)&List), STATUS_SUCCESS);
            if (Way == 0) {
                KIRQL OldIrql;

                KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
                A24DpcProbeRoutine(WdkmHostInterruptDpc, 0, &Probe);
                KeLowerIrql(OldIrql);
            } else {
                WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc,
                                       A24DpcProbeRoutine, &Probe);
            }
            if (Probe.Ran != 1) {
                (VOID)Kind->Release(Lock, &Hold);
                (VOID)A24Destroy(Kind, Lock);
                CHECK_EQ(Probe.Ran, 1);
            }
            CHECK_EQ(Probe.Irql, DISPATCH_LEVEL);
            CHECK(A24ListIsSound(List));
            CHECK(Kind->IsOwned(Lock));
            CHECK_STATUS(Kind->Release(Lock, &Hold), STATUS_SUCCESS);
            CHECK_STATUS(Probe.DestroyWith, Expected);
            CHECK_STATUS(Probe.Destroy, Expected);
            CHECK_STATUS(Probe.Take, Expected);
            CHECK(Probe.Untouched);
            CHECK_EQ(Probe.Drain.Calls, 0);
            if (Kind->Kind == WdkmLockKindKMutex) {
                CHECK(Probe.Owned);    /* the DPC is the owner's thread */
                CHECK_STATUS(Probe.Try, STATUS_TIMEOUT);
            }
            {
                A24_DRAIN Drain;

                memset(&Drain, 0, sizeof(Drain));
                CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain),
                             STATUS_SUCCESS);
                CHECK_EQ(Drain.Freed, 1);
            }
        }
    }
}

/*
 * A KMUTEX hold of the DISPATCH class (a DPC's try), then in the same DPC
 * destroy and take: held. After the DPC-class release, take at
 * DISPATCH_LEVEL works and hands the value out ("<= DISPATCH_LEVEL").
 */
static VOID
KMutexDispatchClassHoldDestroyTake(VOID)
{
    A24_DRAIN Drain;
    A24_LIST Out;
    A24_LIST *List;
    PVOID Lock;
    KIRQL OldIrql;
    NTSTATUS Try, DestroyWith, Destroy, Take, Passive, Release, TakeFree;

    memset(&Drain, 0, sizeof(Drain));
    CHECK_STATUS(A24CreateList(&A24Kinds[0], 0, &Lock), STATUS_SUCCESS);
    memset(&Out, 0xA5, sizeof(Out));
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Try = WdkmKMutexTryAcquire((PWDKM_KMUTEX)Lock, sizeof(A24_LIST), (PVOID *)&List);
    DestroyWith = WdkmKMutexDestroyWith((PWDKM_KMUTEX)Lock, sizeof(A24_LIST), A24Drain, &Drain);
    Destroy = WdkmKMutexDestroy((PWDKM_KMUTEX)Lock);
    Take = WdkmKMutexTake((PWDKM_KMUTEX)Lock, sizeof(A24_LIST), &Out);
    Release = Try == STATUS_SUCCESS ? WdkmKMutexRelease((PWDKM_KMUTEX)Lock) : STATUS_SUCCESS;
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Try, STATUS_SUCCESS);
    CHECK_STATUS(Release, STATUS_SUCCESS);
    CHECK_STATUS(DestroyWith, STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(Destroy, STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(Take, STATUS_WDKM_LOCK_HELD);
    CHECK(A24Untouched(&Out, sizeof(Out)));
    CHECK_EQ(Drain.Calls, 0);
    /* A passive-class acquire is fine again once the DPC released. */
    Passive = WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, sizeof(A24_LIST), (PVOID *)&List);
    CHECK_STATUS(Passive, STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease((PWDKM_KMUTEX)Lock), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    TakeFree = WdkmKMutexTake((PWDKM_KMUTEX)Lock, sizeof(A24_LIST), &Out);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(TakeFree, STATUS_SUCCESS);
    CHECK_EQ(Out.Magic, A24_MAGIC);
}

/* ---------------------------------------------------------------------- */
/* 4. Drains that call the library                                          */
/* ---------------------------------------------------------------------- */

typedef struct _A24_REENTRY {
    NTSTATUS Probe, Acquire, Destroy, Take, DestroyWith, Release;
    BOOLEAN Owned;
    BOOLEAN TakeUntouched;
    LONG InnerDrainCalls;
    NTSTATUS OtherDestroyWith;
    LONG OtherDrainCalls;
    NTSTATUS FreshCreate, FreshDestroy;
    ULONG BugcheckCode;
    ULONG_PTR Parameter[4];
    BOOLEAN Trapped;
    KIRQL IrqlAfterTrap;
    PVOID Other;                       /* another lock, destroyed from the drain */
    const A24_KIND *OtherKind;
} A24_REENTRY;

static VOID
A24ReenterHook(A24_DRAIN *Drain, A24_LIST *List)
{
    A24_REENTRY *Reentry = (A24_REENTRY *)Drain->HookContext;
    const A24_KIND *Kind = Drain->Kind;
    A24_DRAIN Inner;
    A24_DRAIN OtherDrain;
    A24_HOLD Hold;
    A24_LIST Out;
    PVOID Data = (PVOID)1;
    KIRQL Entry = KeGetCurrentIrql();
    WDKM_HOST_BUGCHECK_TRAP Trap;

    UNREFERENCED_PARAMETER(List);
    memset(&Hold, 0, sizeof(Hold));
    memset(&Inner, 0, sizeof(Inner));
    memset(&OtherDrain, 0, sizeof(OtherDrain));
    /* "use the lock from the drain (refused: the handle is dead)" */
    Reentry->Probe = Kind->Try(Drain->Lock, sizeof(A24_LIST), &Hold, &Data);
    if (Reentry->Probe == STATUS_SUCCESS) {
        (VOID)Kind->Release(Drain->Lock, &Hold);
    }
    Reentry->Acquire = Kind->Acquire(Drain->Lock, sizeof(A24_LIST), &Hold, &Data);
    if (Reentry->Acquire == STATUS_SUCCESS) {
        (VOID)Kind->Release(Drain->Lock, &Hold);
    }
    if (KeGetCurrentIrql() != Entry) {
        KeLowerIrql(Entry);
    }
    Reentry->Owned = Kind->IsOwned(Drain->Lock);
    Reentry->Release = Kind->Release(Drain->Lock, &Hold);
    Reentry->Destroy = A24Destroy(Kind, Drain->Lock);
    memset(&Out, 0xA5, sizeof(Out));
    Reentry->Take = A24Take(Kind, Drain->Lock, sizeof(A24_LIST), &Out);
    Reentry->TakeUntouched = A24Untouched(&Out, sizeof(Out));
    Reentry->DestroyWith = A24DestroyWith(Kind, Drain->Lock, sizeof(A24_LIST), A24Drain, &Inner);
    Reentry->InnerDrainCalls = Inner.Calls;
    /* Another lock: destroying it from here is the drain's business. */
    OtherDrain.Kind = Reentry->OtherKind;
    Reentry->OtherDestroyWith = A24DestroyWith(Reentry->OtherKind, Reentry->Other, sizeof(A24_LIST),
                                                                A24Drain, &OtherDrain);
    Reentry->OtherDrainCalls = OtherDrain.Calls;
    {
        PVOID Fresh;

        A24_INIT FreshInit = { 0, PASSIVE_LEVEL, STATUS_SUCCESS };

        /* No acquire: a waiting kind cannot be acquired at DISPATCH_LEVEL. */
        Reentry->FreshCreate = Kind->CreateInPlace(sizeof(A24_LIST), A24Initialize, &FreshInit,
                                                   &Fresh);
        if (Reentry->FreshCreate == STATUS_SUCCESS) {
            A24_DRAIN FreshDrain;

            memset(&FreshDrain, 0, sizeof(FreshDrain));
            Reentry->FreshDestroy = A24DestroyWith(Kind, Fresh, sizeof(A24_LIST), A24Drain, &FreshDrain);
        }
    }
    /* The callback form on the dead handle: a misuse, so a stop naming it
       (P1 = what the plain acquire answered, zero-extended; P2 = the lock;
       P4 = kind << 8 | IRQL). */
    if (WDKM_HOST_TRY(&Trap)) {
        (VOID)Kind->OrBugCheck(Drain->Lock, sizeof(A24_LIST), &Hold, &Data);
        WdkmHostDisarm(&Trap);
        (VOID)Kind->Release(Drain->Lock, &Hold);
    } else {
        Reentry->Trapped = TRUE;
        Reentry->BugcheckCode = Trap.Bugcheck.Code;
        memcpy(Reentry->Parameter, Trap.Bugcheck.Parameter, sizeof(Reentry->Parameter));
    }
    Reentry->IrqlAfterTrap = KeGetCurrentIrql();
    if (KeGetCurrentIrql() > Entry) {
        KeLowerIrql(Entry);
    }
}

/*
 * reference.md, DestroyWith: "ends the lock - ... every later use of the
 * handle is refused as for a destroyed lock - and hands the value to a
 * drain"; "Must not: ... use the lock from the drain (refused: the handle
 * is dead)". Destroy and take of a dead handle: "STATUS_INVALID_PARAMETER
 * (NULL, or not a live WDKM_KMUTEX)". A callback form there: bug check
 * WDKM_BUGCHECK_LOCK_MISUSE, P1 the plain acquire's status zero-extended.
 * At PASSIVE_LEVEL and, for all but the ERESOURCE, at DISPATCH_LEVEL.
 */
static VOID
DrainReentersLibraryEveryKind(VOID)
{
    ULONG KindIndex;
    ULONG Level;

    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];

        for (Level = 0; Level < 2; Level += 1) {
            A24_REENTRY Reentry;
            A24_DRAIN Drain;
            PVOID Lock;
            KIRQL Irql = Level == 0 ? PASSIVE_LEVEL : DISPATCH_LEVEL;
            KIRQL OldIrql;
            NTSTATUS Status;
            ULONG64 Bugchecks;

            if (Irql > Kind->DestroyMax) {
                continue;
            }
            memset(&Reentry, 0, sizeof(Reentry));
            memset(&Drain, 0, sizeof(Drain));
            CHECK_STATUS(A24CreateList(Kind, 3, &Lock), STATUS_SUCCESS);
            /* The other lock: a spin lock (destroyable at either level). */
            Reentry.OtherKind = &A24Kinds[2];
            CHECK_STATUS(A24CreateList(Reentry.OtherKind, 1, &Reentry.Other), STATUS_SUCCESS);
            Drain.Kind = Kind;
            Drain.Lock = Lock;
            Drain.Hook = A24ReenterHook;
            Drain.HookContext = &Reentry;
            Bugchecks = WdkmHostBugcheckCount();
            KeRaiseIrql(Irql, &OldIrql);
            Status = A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain);
            KeLowerIrql(OldIrql);
            printf("  %s at IRQL %u: drain's acquire %s, try %s, release %s, stop P1 0x%llX\n",
                   Kind->Name, (unsigned)Irql, WdkmStatusName(Reentry.Acquire),
                   WdkmStatusName(Reentry.Probe), WdkmStatusName(Reentry.Release),
                   (unsigned long long)Reentry.Parameter[0]);
            CHECK_STATUS(Status, STATUS_SUCCESS);
            CHECK_EQ(Drain.Calls, 1);
            CHECK_EQ(Drain.Irql, Irql);
            CHECK_EQ(Drain.Freed, 3);
            CHECK(Reentry.Probe != STATUS_SUCCESS && !NT_SUCCESS(Reentry.Probe));
            CHECK(Reentry.Acquire != STATUS_SUCCESS && !NT_SUCCESS(Reentry.Acquire));
            CHECK(!Reentry.Owned);
            CHECK(!NT_SUCCESS(Reentry.Release));
            CHECK_STATUS(Reentry.Destroy, STATUS_INVALID_PARAMETER);
            CHECK_STATUS(Reentry.Take, STATUS_INVALID_PARAMETER);
            CHECK(Reentry.TakeUntouched);
            CHECK_STATUS(Reentry.DestroyWith, STATUS_INVALID_PARAMETER);
            CHECK_EQ(Reentry.InnerDrainCalls, 0);
            CHECK_STATUS(Reentry.OtherDestroyWith, STATUS_SUCCESS);
            CHECK_EQ(Reentry.OtherDrainCalls, 1);
            CHECK_STATUS(Reentry.FreshCreate, STATUS_SUCCESS);
            CHECK_STATUS(Reentry.FreshDestroy, STATUS_SUCCESS);
            CHECK(Reentry.Trapped);
            CHECK_EQ(WdkmHostBugcheckCount(), Bugchecks + 1);
            CHECK_EQ(Reentry.BugcheckCode, WDKM_BUGCHECK_LOCK_MISUSE);
            CHECK_EQ(Reentry.Parameter[0], (ULONG_PTR)(ULONG)Reentry.Acquire);
            CHECK(Reentry.Parameter[1] == (ULONG_PTR)Lock);
            CHECK(Reentry.Parameter[2] != 0);
            CHECK_EQ(Reentry.Parameter[3], ((ULONG_PTR)Kind->Kind << 8) | Irql);
            CHECK_EQ(A24Records(), 0);
            CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* 5. Drains that leave the IRQL elsewhere                                  */
/* ---------------------------------------------------------------------- */

typedef struct _A24_IRQL_HOOK {
    KIRQL To;
} A24_IRQL_HOOK;

static VOID
A24IrqlHook(A24_DRAIN *Drain, A24_LIST *List)
{
    A24_IRQL_HOOK *Hook = (A24_IRQL_HOOK *)Drain->HookContext;
    KIRQL Old;

    UNREFERENCED_PARAMETER(List);
    if (Hook->To > KeGetCurrentIrql()) {
        KeRaiseIrql(Hook->To, &Old);
    } else {
        KeLowerIrql(Hook->To);
    }
}

/* DestroyWith under a trap: *Stop gets the code of a stop it raised. */
static NTSTATUS
A24TrappedDestroyWith(const A24_KIND *Kind, PVOID Lock, A24_DRAIN *Drain, ULONG *Stop)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    volatile NTSTATUS Status = STATUS_UNSUCCESSFUL;

    *Stop = 0;
    if (WDKM_HOST_TRY(&Trap)) {
        Status = A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, Drain);
        WdkmHostDisarm(&Trap);
    } else {
        *Stop = Trap.Bugcheck.Code;
    }
    return Status;
}

/*
 * A drain that raises the IRQL to DISPATCH_LEVEL and returns (or one
 * called at DISPATCH_LEVEL that lowers it). reference.md says the kernel
 * object is torn down before the drain ("ends the lock - the kernel object
 * is torn down ... - and hands the value to a drain ... before freeing the
 * block"), so what is left (freeing non-paged pool) is allowed at either
 * level: no stop, no leak, and the drain ran, so the call succeeded ("On
 * any error ... the drain is not called").
 */
static VOID
DrainThatChangesIrqlEveryKind(VOID)
{
    ULONG KindIndex;
    ULONG Way;

    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];

        for (Way = 0; Way < 2; Way += 1) {
            A24_IRQL_HOOK Hook;
            A24_DRAIN Drain;
            PVOID Lock;
            KIRQL Start = Way == 0 ? PASSIVE_LEVEL : DISPATCH_LEVEL;
            KIRQL OldIrql;
            ULONG64 Bugchecks = WdkmHostBugcheckCount();
            NTSTATUS Status;
            ULONG Stop = 0;

            if (Start > Kind->DestroyMax) {
                continue;
            }
            memset(&Drain, 0, sizeof(Drain));
            CHECK_STATUS(A24CreateList(Kind, 2, &Lock), STATUS_SUCCESS);
            Hook.To = Way == 0 ? DISPATCH_LEVEL : PASSIVE_LEVEL;
            Drain.Hook = A24IrqlHook;
            Drain.HookContext = &Hook;
            KeRaiseIrql(Start, &OldIrql);
            Status = A24TrappedDestroyWith(Kind, Lock, &Drain, &Stop);
            if (KeGetCurrentIrql() > PASSIVE_LEVEL) {
                KeLowerIrql(PASSIVE_LEVEL);
            }
            (VOID)OldIrql;
            if (Stop != 0) {
                printf("  %s: drain %s the IRQL: stop 0x%X (%s)\n", Kind->Name,
                       Way == 0 ? "raising" : "lowering", (unsigned)Stop,
                       WdkmHostBugcheckName(Stop));
            }
            CHECK_EQ(Stop, 0);
            CHECK_EQ(WdkmHostBugcheckCount(), Bugchecks);
            CHECK_EQ(Drain.Calls, 1);
            CHECK_STATUS(Status, STATUS_SUCCESS);
            CHECK_EQ(A24Records(), 0);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* 6. A DPC and APCs delivered into the drain                               */
/* ---------------------------------------------------------------------- */

typedef struct _A24_INTO_DRAIN {
    const A24_KIND *Kind;
    PVOID Lock;
    LONG volatile InDrain;
    LONG Ran[WDKM_HOST_INTERRUPT_KINDS];
    LONG RanOutside[WDKM_HOST_INTERRUPT_KINDS];
} A24_INTO_DRAIN;

static VOID
A24IntoDrainRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A24_INTO_DRAIN *Into = (A24_INTO_DRAIN *)Context;
    const A24_KIND *LockKind = Into->Kind;
    A24_HOLD Hold;
    A24_LIST Out;
    PVOID Data;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Random);
    if (ReadAcquire(&Into->InDrain) == 0) {
        Into->RanOutside[Kind] += 1;    /* the block may be gone: do not touch it */
        return;
    }
    Into->Ran[Kind] += 1;
    memset(&Hold, 0, sizeof(Hold));
    /* The form that never waits at this IRQL (a DPC: the AtDpcLevel or try
       forms; the others answer the IRQL). */
    Status = LockKind->Try(Into->Lock, sizeof(A24_LIST), &Hold, &Data);
    A24_TRUE(Status != STATUS_SUCCESS && !NT_SUCCESS(Status), "an event acquired a dead handle");
    if (Status == STATUS_SUCCESS) {
        (VOID)LockKind->Release(Into->Lock, &Hold);
    }
    A24_TRUE(!LockKind->IsOwned(Into->Lock), "an event owns a dead handle");
    if (KeGetCurrentIrql() <= LockKind->DestroyMax) {
        A24_EXPECT(A24Destroy(LockKind, Into->Lock), STATUS_INVALID_PARAMETER,
                   "an event destroyed a dead handle");
        memset(&Out, 0xA5, sizeof(Out));
        A24_EXPECT(A24Take(LockKind, Into->Lock, sizeof(A24_LIST), &Out), STATUS_INVALID_PARAMETER,
                   "an event took a dead handle");
    }
}

static VOID
A24IntoDrainHook(A24_DRAIN *Drain, A24_LIST *List)
{
    A24_INTO_DRAIN *Into = (A24_INTO_DRAIN *)Drain->HookContext;

    UNREFERENCED_PARAMETER(List);
    WriteRelease(&Into->InDrain, 1);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A24IntoDrainRoutine, Into);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A24IntoDrainRoutine, Into);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptNormalApc, A24IntoDrainRoutine, Into);
    WriteRelease(&Into->InDrain, 0);
}

/*
 * A DPC, a special and a normal kernel APC delivered into the drain of a
 * DestroyWith made at PASSIVE_LEVEL ("the drain runs at the caller's
 * IRQL", so nothing masks the DPC). Each finds the handle dead: refused.
 */
static VOID
InterruptsIntoDrainSeeDeadHandle(VOID)
{
    ULONG KindIndex;

    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];
        A24_INTO_DRAIN Into;
        A24_DRAIN Drain;
        PVOID Lock;
        LONG Before = A24Violations;

        memset(&Into, 0, sizeof(Into));
        memset(&Drain, 0, sizeof(Drain));
        CHECK_STATUS(A24CreateList(Kind, 1, &Lock), STATUS_SUCCESS);
        Into.Kind = Kind;
        Into.Lock = Lock;
        Drain.Hook = A24IntoDrainHook;
        Drain.HookContext = &Into;
        CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain), STATUS_SUCCESS);
        if (Into.Ran[WdkmHostInterruptSpecialApc] == 0 || Into.Ran[WdkmHostInterruptNormalApc] == 0) {
            printf("  %s: APCs into the drain ran special %ld/%ld normal %ld/%ld (in/after)\n",
                   Kind->Name, (long)Into.Ran[WdkmHostInterruptSpecialApc],
                   (long)Into.RanOutside[WdkmHostInterruptSpecialApc],
                   (long)Into.Ran[WdkmHostInterruptNormalApc],
                   (long)Into.RanOutside[WdkmHostInterruptNormalApc]);
        }
        CHECK_EQ(Into.Ran[WdkmHostInterruptDpc], 1);
        CHECK_EQ(A24Violations, Before);
        CHECK_EQ(Drain.Freed, 1);
    }
}

/* ---------------------------------------------------------------------- */
/* 7. Another thread uses the handle while its drain is running             */
/* ---------------------------------------------------------------------- */

typedef struct _A24_PARKED_DRAIN {
    const A24_KIND *Kind;
    PVOID Lock;
    LONG volatile InDrain;
    LONG volatile Go;
    NTSTATUS Status;
    A24_DRAIN Drain;
} A24_PARKED_DRAIN;

static VOID
A24ParkHook(A24_DRAIN *Drain, A24_LIST *List)
{
    A24_PARKED_DRAIN *Parked = (A24_PARKED_DRAIN *)Drain->HookContext;

    UNREFERENCED_PARAMETER(List);
    WriteRelease(&Parked->InDrain, 1);
    A24WaitFlag(&Parked->Go);
}

static VOID
A24ParkedDestroyThread(PVOID Context, ULONG Index)
{
    A24_PARKED_DRAIN *Parked = (A24_PARKED_DRAIN *)Context;

    UNREFERENCED_PARAMETER(Index);
    Parked->Drain.Hook = A24ParkHook;
    Parked->Drain.HookContext = Parked;
    Parked->Status = A24DestroyWith(Parked->Kind, Parked->Lock, sizeof(A24_LIST), A24Drain,
                                               &Parked->Drain);
}

/*
 * base.h: the drain is "called by DestroyWith on the value, after the lock
 * has ceased to exist as a lock (every use of its handle is refused) and
 * before its block is freed". While one thread's drain is parked, another
 * thread's try, destroy, take and DestroyWith are refused and change
 * nothing (the block is still there, so this is no use-after-free).
 */
static VOID
OtherThreadDuringDrainRefused(VOID)
{
    ULONG KindIndex;

    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];
        A24_PARKED_DRAIN Parked;
        A24_DRAIN Second;
        A24_HOLD Hold;
        A24_LIST Out;
        WDKM_TEST_THREAD *Thread;
        PVOID Data = (PVOID)1;
        NTSTATUS Try, Destroy, Take, DestroyWith;
        BOOLEAN Owned;

        memset(&Parked, 0, sizeof(Parked));
        memset(&Second, 0, sizeof(Second));
        memset(&Hold, 0, sizeof(Hold));
        CHECK_STATUS(A24CreateList(Kind, 2, &Parked.Lock), STATUS_SUCCESS);
        Parked.Kind = Kind;
        Thread = WdkmTestStartThread(A24ParkedDestroyThread, &Parked);
        CHECK(Thread != NULL);
        A24WaitFlag(&Parked.InDrain);
        Try = Kind->Try(Parked.Lock, sizeof(A24_LIST), &Hold, &Data);
        if (Try == STATUS_SUCCESS) {
            (VOID)Kind->Release(Parked.Lock, &Hold);
        }
        Owned = Kind->IsOwned(Parked.Lock);
        Destroy = A24Destroy(Kind, Parked.Lock);
        memset(&Out, 0xA5, sizeof(Out));
        Take = A24Take(Kind, Parked.Lock, sizeof(A24_LIST), &Out);
        DestroyWith = A24DestroyWith(Kind, Parked.Lock, sizeof(A24_LIST), A24Drain, &Second);
        WriteRelease(&Parked.Go, 1);
        WdkmTestJoinThread(Thread);
        CHECK_STATUS(Parked.Status, STATUS_SUCCESS);
        CHECK_EQ(Parked.Drain.Freed, 2);
        CHECK(Try != STATUS_SUCCESS && !NT_SUCCESS(Try));
        CHECK(Data == NULL);
        CHECK(!Owned);
        CHECK_STATUS(Destroy, STATUS_INVALID_PARAMETER);
        CHECK_STATUS(Take, STATUS_INVALID_PARAMETER);
        CHECK(A24Untouched(&Out, sizeof(Out)));
        CHECK_STATUS(DestroyWith, STATUS_INVALID_PARAMETER);
        CHECK_EQ(Second.Calls, 0);
        CHECK_EQ(A24Records(), 0);
    }
}

/* ---------------------------------------------------------------------- */
/* 8. APCs to a holder: normal ones wait for the release, special ones      */
/*    land in the hold                                                      */
/* ---------------------------------------------------------------------- */

typedef struct _A24_APC_HOLDER {
    const A24_KIND *Kind;
    PVOID Lock;
    BOOLEAN Shared;
    LONG volatile Holding;
    LONG volatile Go;
    LONG volatile Released;
    LONG volatile InHold;
    LONG volatile ApcRan;
    LONG volatile Resume;
    ULONG HeldInApc;
    BOOLEAN OwnedInApc;
    LONG ReleasedWhenApcRan;
    /* special APC in the hold */
    LONG volatile SpecialRan;
    LONG volatile SpecialLate;
    NTSTATUS SpecialDestroy, SpecialTake, SpecialDestroyWith, SpecialAcquire, SpecialRelease;
    LONG SpecialDrainCalls;
    NTSTATUS AcquireStatus, ReleaseStatus;
} A24_APC_HOLDER;

static VOID
A24NormalApcRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A24_APC_HOLDER *Holder = (A24_APC_HOLDER *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    /* The lock is alive until ApcRan is seen by the test. */
    Holder->ReleasedWhenApcRan = ReadAcquire(&Holder->Released);
    Holder->HeldInApc = WdkmHostThreadHeldLockCount();
    Holder->OwnedInApc = Holder->Kind->IsOwned(Holder->Lock);
    WriteRelease(&Holder->ApcRan, 1);
    /* Parked (a suspension) while the test destroys the lock. */
    A24WaitFlag(&Holder->Resume);
}

static VOID
A24SpecialApcRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A24_APC_HOLDER *Holder = (A24_APC_HOLDER *)Context;
    A24_DRAIN Drain;
    A24_HOLD Hold;
    A24_LIST Out;
    PVOID Data;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    memset(&Drain, 0, sizeof(Drain));
    memset(&Hold, 0, sizeof(Hold));
    if (ReadAcquire(&Holder->InHold) == 0) {
        InterlockedIncrement(&Holder->SpecialLate);   /* not in the hold: touch nothing */
        return;
    }
    Holder->SpecialDestroyWith = A24DestroyWith(Holder->Kind, Holder->Lock, sizeof(A24_LIST),
                                                           A24Drain, &Drain);
    Holder->SpecialDrainCalls = Drain.Calls;
    Holder->SpecialDestroy = A24Destroy(Holder->Kind, Holder->Lock);
    memset(&Out, 0xA5, sizeof(Out));
    Holder->SpecialTake = A24Take(Holder->Kind, Holder->Lock, sizeof(A24_LIST), &Out);
    if (!A24Untouched(&Out, sizeof(Out))) {
        Holder->SpecialTake = STATUS_UNSUCCESSFUL;
    }
    Holder->SpecialAcquire = Holder->Kind->Acquire(Holder->Lock, sizeof(A24_LIST), &Hold, &Data);
    Holder->SpecialRelease = Holder->SpecialAcquire == STATUS_SUCCESS
                                 ? Holder->Kind->Release(Holder->Lock, &Hold)
                                 : STATUS_SUCCESS;
    InterlockedIncrement(&Holder->SpecialRan);        /* the results above are published */
}

static VOID
A24ApcHolderThread(PVOID Context, ULONG Index)
{
    A24_APC_HOLDER *Holder = (A24_APC_HOLDER *)Context;
    A24_HOLD Hold;
    PVOID Data;
    const VOID *ConstData;

    UNREFERENCED_PARAMETER(Index);
    memset(&Hold, 0, sizeof(Hold));
    if (Holder->Shared) {
        Holder->AcquireStatus = Holder->Kind->AcquireShared(Holder->Lock, sizeof(A24_LIST),
                                                            &ConstData);
    } else {
        Holder->AcquireStatus = Holder->Kind->Acquire(Holder->Lock, sizeof(A24_LIST), &Hold, &Data);
    }
    WriteRelease(&Holder->Holding, 1);
    if (Holder->AcquireStatus != STATUS_SUCCESS) {
        return;
    }
    /* Running, not waiting and not in the C library: an event queued now
       interrupts it here if nothing masks it. */
    WriteRelease(&Holder->InHold, 1);
    while (ReadAcquire(&Holder->Go) == 0) {
        YieldProcessor();
    }
    WriteRelease(&Holder->InHold, 0);
    Holder->ReleaseStatus = Holder->Kind->Release(Holder->Lock, &Hold);
    WriteRelease(&Holder->Released, 1);
    /* A normal APC masked during the hold runs at the release (its unmasking
       point) or shortly after; do not touch the lock any more. */
    A24WaitFlag(&Holder->Resume);
}

/*
 * reference.md: KMUTEX "normal kernel APCs are disabled for the owner while
 * it holds it"; FAST_MUTEX raises to APC_LEVEL; spin locks to
 * DISPATCH_LEVEL; guarded mutex "all APCs disabled"; ERESOURCE and push
 * lock are held in a critical region. So a normal APC (a suspension)
 * queued to a holder runs after its release, never inside the hold, and a
 * DestroyWith made while it is parked there succeeds.
 */
static VOID
NormalApcWaitsForReleaseThenDestroy(VOID)
{
    ULONG KindIndex;
    ULONG Mode;

    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];

        for (Mode = 0; Mode < (Kind->Shared ? 2UL : 1UL); Mode += 1) {
            A24_APC_HOLDER Holder;
            A24_DRAIN Drain;
            WDKM_TEST_THREAD *Thread;
            PVOID Lock;
            LONG Waited = 0;

            memset(&Holder, 0, sizeof(Holder));
            memset(&Drain, 0, sizeof(Drain));
            CHECK_STATUS(A24CreateList(Kind, 1, &Lock), STATUS_SUCCESS);
            Holder.Kind = Kind;
            Holder.Lock = Lock;
            Holder.Shared = Mode == 1;
            Thread = WdkmTestStartThread(A24ApcHolderThread, &Holder);
            CHECK(Thread != NULL);
            A24WaitFlag(&Holder.Holding);
            WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread), WdkmHostInterruptNormalApc,
                                   A24NormalApcRoutine, &Holder);
            /* Give it time to land, were it not masked. */
            while (Waited < 20 && ReadAcquire(&Holder.ApcRan) == 0) {
                WdkmTestSleepMs(1);
                Waited += 1;
            }
            {
                LONG RanInHold = ReadAcquire(&Holder.ApcRan);

                WriteRelease(&Holder.Go, 1);
                A24WaitFlag(&Holder.ApcRan);
                /* The APC is parked now: its thread is suspended. */
                CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain),
                             STATUS_SUCCESS);
                WriteRelease(&Holder.Resume, 1);
                WdkmTestJoinThread(Thread);
                CHECK_STATUS(Holder.AcquireStatus, STATUS_SUCCESS);
                CHECK_STATUS(Holder.ReleaseStatus, STATUS_SUCCESS);
                CHECK_EQ(RanInHold, 0);
                CHECK_EQ(Holder.HeldInApc, 0);
                CHECK(!Holder.OwnedInApc);
                CHECK_EQ(Drain.Calls, 1);
                CHECK_EQ(A24Records(), 0);
            }
        }
    }
}

/*
 * A special kernel APC lands in the hold of a KMUTEX, ERESOURCE or push
 * lock (none of them masks it: APC_LEVEL is not reached, only a critical
 * region is entered). From it, the holder's own thread: Destroy,
 * DestroyWith and Take answer STATUS_WDKM_LOCK_HELD (no drain); the
 * acquire is a recursion for KMUTEX ("granted a recursion, as NT grants
 * it") and ERESOURCE exclusive ("the exclusive owner may acquire again"),
 * STATUS_POSSIBLE_DEADLOCK for a shared ERESOURCE holder asking exclusive
 * and for the push lock's owner.
 */
static VOID
SpecialApcInHoldDestroyTakeRefused(VOID)
{
    static const struct {
        ULONG KindIndex;
        BOOLEAN Shared;
        NTSTATUS Acquire;
    } Cases[] = {
        { 0, FALSE, STATUS_SUCCESS },
        { 5, FALSE, STATUS_SUCCESS },
        { 5, TRUE, STATUS_POSSIBLE_DEADLOCK },
        { 6, FALSE, STATUS_POSSIBLE_DEADLOCK },
        { 6, TRUE, STATUS_POSSIBLE_DEADLOCK },
    };
    ULONG Case;

    for (Case = 0; Case < sizeof(Cases) / sizeof(Cases[0]); Case += 1) {
        const A24_KIND *Kind = &A24Kinds[Cases[Case].KindIndex];
        A24_APC_HOLDER Holder;
        A24_DRAIN Drain;
        WDKM_TEST_THREAD *Thread;
        PVOID Lock;
        LONG Waited = 0;

        memset(&Holder, 0, sizeof(Holder));
        memset(&Drain, 0, sizeof(Drain));
        CHECK_STATUS(A24CreateList(Kind, 1, &Lock), STATUS_SUCCESS);
        Holder.Kind = Kind;
        Holder.Lock = Lock;
        Holder.Shared = Cases[Case].Shared;
        Thread = WdkmTestStartThread(A24ApcHolderThread, &Holder);
        CHECK(Thread != NULL);
        A24WaitFlag(&Holder.Holding);
        WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread), WdkmHostInterruptSpecialApc,
                               A24SpecialApcRoutine, &Holder);
        while (Waited < 2000 && ReadAcquire(&Holder.SpecialRan) == 0 &&
               ReadAcquire(&Holder.SpecialLate) == 0) {
            WdkmTestSleepMs(1);
            Waited += 1;
        }
        WriteRelease(&Holder.Go, 1);
        WriteRelease(&Holder.Resume, 1);
        WdkmTestJoinThread(Thread);
        CHECK_STATUS(Holder.AcquireStatus, STATUS_SUCCESS);
        CHECK_STATUS(Holder.ReleaseStatus, STATUS_SUCCESS);
        CHECK_EQ(Holder.SpecialLate, 0);
        CHECK_EQ(Holder.SpecialRan, 1);
        printf("  %s%s: special APC in the hold: acquire %s\n", Kind->Name,
               Holder.Shared ? " (shared)" : "", WdkmStatusName(Holder.SpecialAcquire));
        CHECK_STATUS(Holder.SpecialDestroyWith, STATUS_WDKM_LOCK_HELD);
        CHECK_EQ(Holder.SpecialDrainCalls, 0);
        CHECK_STATUS(Holder.SpecialDestroy, STATUS_WDKM_LOCK_HELD);
        CHECK_STATUS(Holder.SpecialTake, STATUS_WDKM_LOCK_HELD);
        CHECK_STATUS(Holder.SpecialAcquire, Cases[Case].Acquire);
        CHECK_STATUS(Holder.SpecialRelease, STATUS_SUCCESS);
        CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain), STATUS_SUCCESS);
        CHECK_EQ(Drain.Freed, 1);
    }
}

/* ---------------------------------------------------------------------- */
/* 9. Shared holders churning while destroy, take and DestroyWith refuse    */
/* ---------------------------------------------------------------------- */

#define A24_CHURNERS 10

typedef struct _A24_CHURN {
    const A24_KIND *Kind;
    PVOID Lock;
    LONG volatile Stop;
    LONG volatile Failures;
    LONG volatile Rounds;
} A24_CHURN;

static VOID
A24ChurnThread(PVOID Context, ULONG Index)
{
    A24_CHURN *Churn = (A24_CHURN *)Context;
    A24_HOLD Hold;

    UNREFERENCED_PARAMETER(Index);
    memset(&Hold, 0, sizeof(Hold));
    while (ReadAcquire(&Churn->Stop) == 0) {
        const VOID *Data;
        NTSTATUS Status = Churn->Kind->AcquireShared(Churn->Lock, sizeof(A24_LIST), &Data);

        if (Status != STATUS_SUCCESS) {
            InterlockedIncrement(&Churn->Failures);
            continue;
        }
        if (!A24ListIsSound((const A24_LIST *)Data)) {
            InterlockedIncrement(&Churn->Failures);
        }
        A24Yield();
        if (Churn->Kind->Release(Churn->Lock, &Hold) != STATUS_SUCCESS) {
            InterlockedIncrement(&Churn->Failures);
        }
        InterlockedIncrement(&Churn->Rounds);
    }
}

/*
 * One thread holds an ERESOURCE or push lock shared throughout; ten more
 * (more than the push lock's eight reader slots: "the others are only
 * counted") acquire and release it shared over and over. Every Destroy,
 * Take and DestroyWith made meanwhile answers STATUS_WDKM_LOCK_HELD, and
 * once the last holder is gone DestroyWith succeeds.
 */
static VOID
SharedChurnDestroyAlwaysHeld(VOID)
{
    ULONG KindIndex;

    for (KindIndex = 5; KindIndex < 7; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];
        A24_HOLDER Guard;
        A24_CHURN Churn;
        A24_DRAIN Drain;
        WDKM_TEST_THREAD *GuardThread;
        WDKM_TEST_THREAD *Threads[A24_CHURNERS];
        PVOID Lock;
        ULONG Index;
        ULONG Attempts = 0;
        ULONG Wrong = 0;
        NTSTATUS WrongStatus = STATUS_SUCCESS;
        LONGLONG End;
        LONGLONG Deadline;

        memset(&Guard, 0, sizeof(Guard));
        memset(&Churn, 0, sizeof(Churn));
        memset(&Drain, 0, sizeof(Drain));
        CHECK_STATUS(A24CreateList(Kind, 1, &Lock), STATUS_SUCCESS);
        Guard.Kind = Kind;
        Guard.Lock = Lock;
        Guard.Shared = TRUE;
        GuardThread = WdkmTestStartThread(A24HolderThread, &Guard);
        CHECK(GuardThread != NULL);
        A24WaitFlag(&Guard.Holding);
        Churn.Kind = Kind;
        Churn.Lock = Lock;
        for (Index = 0; Index < A24_CHURNERS; Index += 1) {
            Threads[Index] = WdkmTestStartThread(A24ChurnThread, &Churn);
        }
        /* 300 ms, and on a loaded machine on until what is judged below
           was tried. */
        End = WdkmTestNowMs() + 300;
        Deadline = WdkmTestDeadlineMs(10000);
        while (WdkmTestNowMs() < End ||
               ((Attempts <= 10 || ReadAcquire(&Churn.Rounds) <= 10) && WdkmTestNowMs() < Deadline)) {
            A24_LIST Out;
            NTSTATUS Status;

            Status = A24Destroy(Kind, Lock);
            if (Status != STATUS_WDKM_LOCK_HELD) {
                Wrong += 1;
                WrongStatus = Status;
                break;        /* a success freed it under its holders */
            }
            Status = A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain);
            if (Status != STATUS_WDKM_LOCK_HELD) {
                Wrong += 1;
                WrongStatus = Status;
                break;
            }
            memset(&Out, 0xA5, sizeof(Out));
            Status = A24Take(Kind, Lock, sizeof(A24_LIST), &Out);
            if (Status != STATUS_WDKM_LOCK_HELD || !A24Untouched(&Out, sizeof(Out))) {
                Wrong += 1;
                WrongStatus = Status;
                break;
            }
            Attempts += 1;
            A24Yield();
        }
        WriteRelease(&Churn.Stop, 1);
        for (Index = 0; Index < A24_CHURNERS; Index += 1) {
            if (Threads[Index] != NULL) {
                WdkmTestJoinThread(Threads[Index]);
            }
        }
        WriteRelease(&Guard.Go, 1);
        WdkmTestJoinThread(GuardThread);
        if (Wrong != 0) {
            printf("  %s: destroy under shared holders answered %s\n", Kind->Name,
                   WdkmStatusName(WrongStatus));
        }
        CHECK_EQ(Wrong, 0);
        CHECK(Attempts > 10);
        CHECK(Churn.Rounds > 10);
        CHECK_EQ(Churn.Failures, 0);
        CHECK_EQ(Drain.Calls, 0);
        CHECK_STATUS(Guard.ReleaseStatus, STATUS_SUCCESS);
        CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain), STATUS_SUCCESS);
        CHECK_EQ(Drain.Freed, 1);
    }
}

/*
 * Ten shared holders of a push lock; the first eight (the ones with reader
 * slots) release. The lock is still held (by the ones "only counted"), so
 * Destroy, Take and DestroyWith answer STATUS_WDKM_LOCK_HELD until the last
 * reader leaves.
 */
static VOID
PushLockCountedReadersStillHold(VOID)
{
    const A24_KIND *Kind = &A24Kinds[6];
    A24_HOLDER Holders[10];
    WDKM_TEST_THREAD *Threads[10];
    A24_DRAIN Drain;
    A24_LIST Out;
    PVOID Lock;
    ULONG Index;
    NTSTATUS Destroy, Take, DestroyWith;

    memset(&Drain, 0, sizeof(Drain));
    CHECK_STATUS(A24CreateList(Kind, 1, &Lock), STATUS_SUCCESS);
    for (Index = 0; Index < 10; Index += 1) {
        memset(&Holders[Index], 0, sizeof(Holders[Index]));
        Holders[Index].Kind = Kind;
        Holders[Index].Lock = Lock;
        Holders[Index].Shared = TRUE;
        Threads[Index] = WdkmTestStartThread(A24HolderThread, &Holders[Index]);
        CHECK(Threads[Index] != NULL);
        A24WaitFlag(&Holders[Index].Holding);
    }
    for (Index = 0; Index < 8; Index += 1) {
        WriteRelease(&Holders[Index].Go, 1);
        WdkmTestJoinThread(Threads[Index]);
    }
    Destroy = A24Destroy(Kind, Lock);
    if (Destroy == STATUS_SUCCESS) {
        /* Freed under two readers: let them go without touching it. */
        printf("  push lock destroyed under two counted readers\n");
        CHECK_STATUS(Destroy, STATUS_WDKM_LOCK_HELD);
    }
    memset(&Out, 0xA5, sizeof(Out));
    Take = A24Take(Kind, Lock, sizeof(A24_LIST), &Out);
    DestroyWith = A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain);
    for (Index = 8; Index < 10; Index += 1) {
        WriteRelease(&Holders[Index].Go, 1);
        WdkmTestJoinThread(Threads[Index]);
    }
    for (Index = 0; Index < 10; Index += 1) {
        CHECK_STATUS(Holders[Index].AcquireStatus, STATUS_SUCCESS);
        CHECK_STATUS(Holders[Index].ReleaseStatus, STATUS_SUCCESS);
    }
    CHECK_STATUS(Destroy, STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(Take, STATUS_WDKM_LOCK_HELD);
    CHECK(A24Untouched(&Out, sizeof(Out)));
    CHECK_STATUS(DestroyWith, STATUS_WDKM_LOCK_HELD);
    CHECK_EQ(Drain.Calls, 0);
    CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain), STATUS_SUCCESS);
    CHECK_EQ(Drain.Freed, 1);
}

/* ---------------------------------------------------------------------- */
/* 10. Injected DPCs into a thread that works on its lists                  */
/* ---------------------------------------------------------------------- */

typedef struct _A24_WORKER {
    PVOID Locks[A24_KIND_COUNT];
    LONG volatile Inside[A24_KIND_COUNT];   /* the worker is between acquire entry and release return */
    LONG volatile Stop;
    LONG volatile Dpcs;
    LONG volatile Probes;
    LONG volatile Violations;
    LONG Rounds;
    LONG Windows;
    NTSTATUS FirstWrong;
    PKTHREAD Thread;
} A24_WORKER;

static VOID
A24WorkerThread(PVOID Context, ULONG Index)
{
    A24_WORKER *Worker = (A24_WORKER *)Context;
    A24_RECORD Records[4];
    ULONG Round = 0;

    UNREFERENCED_PARAMETER(Index);
    Worker->Thread = KeGetCurrentThread();
    while (ReadAcquire(&Worker->Stop) == 0) {
        ULONG KindIndex = Round % A24_KIND_COUNT;
        const A24_KIND *Kind = &A24Kinds[KindIndex];
        A24_HOLD Hold;
        A24_LIST *List;
        ULONG Item;

        memset(&Hold, 0, sizeof(Hold));
        WriteRelease(&Worker->Inside[KindIndex], 1);
        if (Kind->Acquire(Worker->Locks[KindIndex], sizeof(A24_LIST), &Hold, (PVOID *)&List) ==
            STATUS_SUCCESS) {
            /* Records that live in this frame: linked only while held. */
            for (Item = 0; Item < 4; Item += 1) {
                Records[Item].Id = Item;
                InsertTailList(&List->Head, &Records[Item].Link);
                List->Count += 1;
            }
            for (Item = 0; Item < 4; Item += 1) {
                RemoveEntryList(&Records[Item].Link);
                List->Count -= 1;
            }
            if (Kind->Release(Worker->Locks[KindIndex], &Hold) != STATUS_SUCCESS) {
                InterlockedIncrement(&Worker->Violations);
            }
        } else {
            InterlockedIncrement(&Worker->Violations);
        }
        WriteRelease(&Worker->Inside[KindIndex], 0);
        Round += 1;
    }
    Worker->Rounds = (LONG)Round;
}

/* The DPC: destroy-class calls over each lock the worker may be using; a
   try's own hold is released before the DPC returns. */
static VOID
A24WorkerDpcWrapper(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A24_WORKER *Worker = (A24_WORKER *)Context;
    ULONG KindIndex = (ULONG)(Random % A24_KIND_COUNT);
    const A24_KIND *LockKind = &A24Kinds[KindIndex];
    PVOID Lock = Worker->Locks[KindIndex];
    A24_HOLD Hold;
    A24_DRAIN Drain;
    PVOID Data;
    NTSTATUS Status;
    NTSTATUS Try = STATUS_UNSUCCESSFUL;
    BOOLEAN MustBeHeld = FALSE;

    UNREFERENCED_PARAMETER(Kind);
    InterlockedIncrement(&Worker->Dpcs);   /* read by the injecting thread */
    memset(&Hold, 0, sizeof(Hold));
    memset(&Drain, 0, sizeof(Drain));
    if (KindIndex == 5) {
        Status = WdkmResourceDestroy((PWDKM_RESOURCE)Lock);
        if (Status != STATUS_WDKM_IRQL_TOO_HIGH) {
            Worker->FirstWrong = Status;
            Worker->Violations += 1;
        }
        return;
    }
    if (LockKind->Spin || KindIndex == 0) {
        Try = LockKind->Try(Lock, sizeof(A24_LIST), &Hold, &Data);
        if (Try == STATUS_SUCCESS) {
            if (!A24ListIsSound((A24_LIST *)Data)) {
                Worker->Violations += 1;
            }
            MustBeHeld = TRUE;
        } else if (Try == STATUS_TIMEOUT && KindIndex == 0) {
            /* "the mutex is busy: the interrupted code holds it". Where the
               library has no record of the owner yet (or any more), a
               destroy frees it under the owner: that is
               kmutex_destroy_from_dpc_in_owner_window's, not repeated here
               (it ends in a stop on the worker). */
            MustBeHeld = LockKind->IsOwned(Lock);
            Worker->Windows += !MustBeHeld;
        } else {
            Worker->FirstWrong = Try;
            Worker->Violations += 1;
            return;
        }
    } else if (LockKind->IsOwned(Lock)) {
        MustBeHeld = TRUE;
    }
    if (MustBeHeld) {
        BOOLEAN Owned = LockKind->IsOwned(Lock);

        InterlockedIncrement(&Worker->Probes);
        Status = A24Destroy(LockKind, Lock);
        if (Status != STATUS_WDKM_LOCK_HELD) {
            printf("  DPC on the worker: %s try %s, IsOwned %d: destroy answered %s\n",
                   LockKind->Name, WdkmStatusName(Try), (int)Owned, WdkmStatusName(Status));
            Worker->FirstWrong = Status;
            Worker->Violations += 1;
        }
        Status = A24DestroyWith(LockKind, Lock, sizeof(A24_LIST), A24Drain, &Drain);
        if (Status != STATUS_WDKM_LOCK_HELD || Drain.Calls != 0) {
            Worker->FirstWrong = Status;
            Worker->Violations += 1;
        }
    }
    if (Try == STATUS_SUCCESS) {
        Status = LockKind->Release(Lock, &Hold);
        if (Status != STATUS_SUCCESS) {
            Worker->FirstWrong = Status;
            Worker->Violations += 1;
        }
    }
}

/*
 * A worker thread links records of its own frame into each kind's list
 * under the lock and unlinks them, over and over; DPCs are injected into
 * it at arbitrary points. Each DPC picks a lock: where it can tell the
 * lock is held by its thread (IsOwned, a KMUTEX try answering
 * STATUS_TIMEOUT "busy: the interrupted code holds it", or its own
 * AtDpcLevel/try hold), Destroy and DestroyWith must answer
 * STATUS_WDKM_LOCK_HELD; an ERESOURCE destroy at DISPATCH_LEVEL always
 * STATUS_WDKM_IRQL_TOO_HIGH; a lock the DPC gets must hold a whole list.
 */
static VOID
InjectedDpcsIntoListWorker(VOID)
{
    A24_WORKER Worker;
    WDKM_TEST_THREAD *Thread;
    ULONG KindIndex;
    LONGLONG End;
    LONGLONG Deadline;
    ULONG Queued = 0;

    memset(&Worker, 0, sizeof(Worker));
    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        CHECK_STATUS(A24CreateList(&A24Kinds[KindIndex], 0, &Worker.Locks[KindIndex]), STATUS_SUCCESS);
    }
    Thread = WdkmTestStartThread(A24WorkerThread, &Worker);
    CHECK(Thread != NULL);
    /* 600 ms, and on a loaded machine on until the checks below have what
       they count (at most 10 s: fewer fail below). */
    End = WdkmTestNowMs() + 600;
    Deadline = WdkmTestDeadlineMs(10000);
    while (WdkmTestNowMs() < End ||
           ((ReadAcquire(&Worker.Dpcs) <= 50 || ReadAcquire(&Worker.Probes) <= 5) &&
            WdkmTestNowMs() < Deadline)) {
        WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread), WdkmHostInterruptDpc,
                               A24WorkerDpcWrapper, &Worker);
        Queued += 1;
        if ((Queued & 7) == 0) {
            WdkmTestSleepMs(1);
        } else {
            A24Yield();
        }
    }
    WriteRelease(&Worker.Stop, 1);
    WdkmTestJoinThread(Thread);
    printf("  %lu DPCs queued, %ld ran, %ld found a held lock (%ld a KMUTEX busy but not"
           " recorded), %ld worker rounds\n", (unsigned long)Queued, (long)Worker.Dpcs,
           (long)Worker.Probes, (long)Worker.Windows, (long)Worker.Rounds);
    if (Worker.Violations != 0) {
        printf("  first wrong status: %s\n", WdkmStatusName(Worker.FirstWrong));
    }
    CHECK_EQ(Worker.Violations, 0);
    CHECK(Worker.Dpcs > 50);
    CHECK(Worker.Probes > 5);
    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        A24_DRAIN Drain;

        memset(&Drain, 0, sizeof(Drain));
        CHECK_STATUS(A24DestroyWith(&A24Kinds[KindIndex], Worker.Locks[KindIndex], sizeof(A24_LIST),
                                                     A24Drain, &Drain),
                     STATUS_SUCCESS);
        CHECK(Drain.Sound);
        CHECK_EQ(Drain.Freed, 0);
    }
}

/* ---------------------------------------------------------------------- */
/* 11. Callback forms: the stop and its parameters, nothing changed         */
/* ---------------------------------------------------------------------- */

typedef struct _A24_STOP {
    BOOLEAN Fired;
    WDKM_HOST_BUGCHECK Bugcheck;
    PVOID Returned;
} A24_STOP;

/* Calls Kind's callback form at Irql on Lock with DataSize; the IRQL is
   put back afterwards (a trap does not restore it). */
static VOID
A24CallOrBugCheck(const A24_KIND *Kind, PVOID Lock, SIZE_T DataSize, KIRQL Irql, A24_HOLD *Hold,
                  A24_STOP *Stop)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KIRQL Entry = KeGetCurrentIrql();
    KIRQL OldIrql;
    PVOID Data = NULL;

    memset(Stop, 0, sizeof(*Stop));
    if (Irql > Entry) {
        KeRaiseIrql(Irql, &OldIrql);
    }
    if (WDKM_HOST_TRY(&Trap)) {
        Stop->Returned = Kind->OrBugCheck(Lock, DataSize, Hold, &Data);
        WdkmHostDisarm(&Trap);
        if (Data != Stop->Returned) {
            A24Violation("the callback form's *Data is not what it returned", STATUS_SUCCESS, __LINE__);
        }
    } else {
        Stop->Fired = TRUE;
        Stop->Bugcheck = Trap.Bugcheck;
    }
    if (KeGetCurrentIrql() != Irql && !Stop->Fired) {
        /* a spin kind raised: the caller releases */
        return;
    }
    if (KeGetCurrentIrql() > Entry) {
        KeLowerIrql(Entry);
    }
}

/* The AtDpcLevel callback form of the spin lock (Plain) or the queued one. */
static VOID
A24AtDpcLevelOrBugCheck(BOOLEAN Plain, PVOID Lock, A24_HOLD *Hold, A24_STOP *Stop)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    PVOID Data;

    memset(Stop, 0, sizeof(*Stop));
    if (WDKM_HOST_TRY(&Trap)) {
        if (Plain) {
            Stop->Returned = WdkmSpinLockAcquireAtDpcLevelOrBugCheck((PWDKM_SPIN_LOCK)Lock,
                                                                     sizeof(A24_LIST), &Data);
        } else {
            Stop->Returned = WdkmQueuedSpinLockAcquireAtDpcLevelOrBugCheck(
                (PWDKM_QUEUED_SPIN_LOCK)Lock, sizeof(A24_LIST), &Hold->Handle, &Data);
        }
        WdkmHostDisarm(&Trap);
    } else {
        Stop->Fired = TRUE;
        Stop->Bugcheck = Trap.Bugcheck;
    }
}

#define CHECK_STOP(Stop, Status, Lock, Kind, Irql)                                         \
    do {                                                                                    \
        CHECK((Stop).Fired);                                                                \
        CHECK_EQ((Stop).Bugcheck.Code, WDKM_BUGCHECK_LOCK_MISUSE);                          \
        CHECK_EQ((Stop).Bugcheck.Parameter[0], (ULONG_PTR)(ULONG)(Status));                 \
        CHECK((Stop).Bugcheck.Parameter[1] == (ULONG_PTR)(Lock));                           \
        CHECK((Stop).Bugcheck.Parameter[2] != 0);                                           \
        CHECK_EQ((Stop).Bugcheck.Parameter[3], ((ULONG_PTR)(Kind) << 8) | (Irql));          \
    } while (0)

/*
 * reference.md, callback forms: "where the plain acquire would return an
 * error it stops the system instead" with P1 the status zero-extended, P2
 * the lock, P3 the caller, P4 (kind << 8) | IRQL; and, as every failure,
 * nothing changes: the lock is not held afterwards (destroy succeeds),
 * the thread holds nothing more, no pool block is left.
 *   - a waiting form from a DPC (modelled): STATUS_WDKM_IRQL_TOO_HIGH;
 *   - the same over a hold of the DPC's interrupted code;
 *   - the spin lock's owner again: STATUS_POSSIBLE_DEADLOCK, its hold kept;
 *   - an AtDpcLevel form at PASSIVE_LEVEL: STATUS_WDKM_IRQL_MISMATCH;
 *   - a type of another size: STATUS_WDKM_TYPE_MISMATCH;
 * and on success the form returns the value's address, also in *Data.
 */
static VOID
CallbackFormsStopNamingTheMisuse(VOID)
{
    ULONG KindIndex;

    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];
        A24_STOP Stop;
        A24_HOLD Hold;
        A24_HOLD Outer;
        A24_LIST *List;
        PVOID Lock;
        ULONG Held = WdkmHostThreadHeldLockCount();
        LONG Before = A24Violations;

        memset(&Hold, 0, sizeof(Hold));
        memset(&Outer, 0, sizeof(Outer));
        CHECK_STATUS(A24CreateList(Kind, 1, &Lock), STATUS_SUCCESS);

        /* A type of another size, at PASSIVE_LEVEL. */
        A24CallOrBugCheck(Kind, Lock, sizeof(A24_LIST) + 4, PASSIVE_LEVEL, &Hold, &Stop);
        CHECK_STOP(Stop, STATUS_WDKM_TYPE_MISMATCH, Lock, Kind->Kind, PASSIVE_LEVEL);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK_EQ(WdkmHostThreadHeldLockCount(), Held);

        if (!Kind->Spin) {
            /* A waiting form from a DPC. */
            A24CallOrBugCheck(Kind, Lock, sizeof(A24_LIST), DISPATCH_LEVEL, &Hold, &Stop);
            CHECK_STOP(Stop, STATUS_WDKM_IRQL_TOO_HIGH, Lock, Kind->Kind, DISPATCH_LEVEL);
            CHECK_EQ(WdkmHostThreadHeldLockCount(), Held);
            /* The same over the interrupted code's own hold. */
            CHECK_STATUS(Kind->Acquire(Lock, sizeof(A24_LIST), &Outer, (PVOID *)&List), STATUS_SUCCESS);
            {
                KIRQL Hold0 = KeGetCurrentIrql();

                A24CallOrBugCheck(Kind, Lock, sizeof(A24_LIST), DISPATCH_LEVEL, &Hold, &Stop);
                CHECK_EQ(KeGetCurrentIrql(), Hold0);
            }
            CHECK(Kind->IsOwned(Lock));
            CHECK_STATUS(Kind->Release(Lock, &Outer), STATUS_SUCCESS);
            CHECK_STOP(Stop, STATUS_WDKM_IRQL_TOO_HIGH, Lock, Kind->Kind, DISPATCH_LEVEL);
        } else {
            /* The owner again. */
            CHECK_STATUS(Kind->Acquire(Lock, sizeof(A24_LIST), &Outer, (PVOID *)&List), STATUS_SUCCESS);
            A24CallOrBugCheck(Kind, Lock, sizeof(A24_LIST), DISPATCH_LEVEL, &Hold, &Stop);
            CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
            CHECK(Kind->IsOwned(Lock));
            CHECK_STATUS(Kind->Release(Lock, &Outer), STATUS_SUCCESS);
            CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
            CHECK_STOP(Stop, STATUS_POSSIBLE_DEADLOCK, Lock, Kind->Kind, DISPATCH_LEVEL);
            /* The AtDpcLevel form below DISPATCH_LEVEL. */
            {
                A24AtDpcLevelOrBugCheck(KindIndex == 2, Lock, &Hold, &Stop);
                if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
                    KeLowerIrql(PASSIVE_LEVEL);
                }
                CHECK_STOP(Stop, STATUS_WDKM_IRQL_MISMATCH, Lock, Kind->Kind, PASSIVE_LEVEL);
                CHECK(!Kind->IsOwned(Lock));
            }
        }
        /* Success: the value's address, also in *Data. */
        A24CallOrBugCheck(Kind, Lock, sizeof(A24_LIST), PASSIVE_LEVEL, &Hold, &Stop);
        CHECK(!Stop.Fired);
        CHECK(Stop.Returned != NULL);
        CHECK(A24ListIsSound((A24_LIST *)Stop.Returned));
        CHECK(Kind->IsOwned(Lock));
        CHECK_STATUS(Kind->Release(Lock, &Hold), STATUS_SUCCESS);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK_EQ(A24Violations, Before);
        CHECK_EQ(WdkmHostThreadHeldLockCount(), Held);
        {
            A24_DRAIN Drain;

            memset(&Drain, 0, sizeof(Drain));
            CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain), STATUS_SUCCESS);
            CHECK_EQ(Drain.Freed, 1);
        }
    }
}

typedef struct _A24_APC_STOP {
    const A24_KIND *Kind;
    PVOID Lock;
    BOOLEAN Shared;
    LONG Ran;
    A24_STOP Stop;
    KIRQL Irql;
    NTSTATUS ReleaseStatus;
} A24_APC_STOP;

static VOID
A24ApcStopRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A24_APC_STOP *ApcStop = (A24_APC_STOP *)Context;
    A24_HOLD Hold;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    memset(&Hold, 0, sizeof(Hold));
    ApcStop->Ran += 1;
    ApcStop->Irql = KeGetCurrentIrql();
    A24CallOrBugCheck(ApcStop->Kind, ApcStop->Lock, sizeof(A24_LIST), ApcStop->Irql, &Hold,
                      &ApcStop->Stop);
    ApcStop->ReleaseStatus = ApcStop->Stop.Fired ? STATUS_SUCCESS
                                                 : ApcStop->Kind->Release(ApcStop->Lock, &Hold);
}

/*
 * A special kernel APC in a hold of its own thread calls the callback form:
 * over a push lock held exclusively or shared, and over an ERESOURCE held
 * shared, the plain acquire answers STATUS_POSSIBLE_DEADLOCK, so the form
 * stops with it (P4: the kind and APC_LEVEL); over a KMUTEX or an
 * ERESOURCE held exclusively it is a recursion, granted. The hold of the
 * interrupted code is intact afterwards.
 */
static VOID
CallbackFormFromSpecialApcInHold(VOID)
{
    static const struct {
        ULONG KindIndex;
        BOOLEAN Shared;
        BOOLEAN Stops;
    } Cases[] = {
        { 0, FALSE, FALSE },
        { 5, FALSE, FALSE },
        { 5, TRUE, TRUE },
        { 6, FALSE, TRUE },
        { 6, TRUE, TRUE },
    };
    ULONG Case;

    for (Case = 0; Case < sizeof(Cases) / sizeof(Cases[0]); Case += 1) {
        const A24_KIND *Kind = &A24Kinds[Cases[Case].KindIndex];
        A24_APC_STOP ApcStop;
        A24_HOLD Hold;
        A24_DRAIN Drain;
        PVOID Lock;
        PVOID Data;
        const VOID *ConstData;

        memset(&ApcStop, 0, sizeof(ApcStop));
        memset(&Hold, 0, sizeof(Hold));
        memset(&Drain, 0, sizeof(Drain));
        CHECK_STATUS(A24CreateList(Kind, 1, &Lock), STATUS_SUCCESS);
        ApcStop.Kind = Kind;
        ApcStop.Lock = Lock;
        if (Cases[Case].Shared) {
            CHECK_STATUS(Kind->AcquireShared(Lock, sizeof(A24_LIST), &ConstData), STATUS_SUCCESS);
        } else {
            CHECK_STATUS(Kind->Acquire(Lock, sizeof(A24_LIST), &Hold, &Data), STATUS_SUCCESS);
        }
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc,
                               A24ApcStopRoutine, &ApcStop);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK_STATUS(Kind->Release(Lock, &Hold), STATUS_SUCCESS);
        CHECK_STATUS(Kind->Release(Lock, &Hold), STATUS_WDKM_NOT_HELD);
        CHECK_EQ(ApcStop.Ran, 1);
        CHECK_EQ(ApcStop.Irql, APC_LEVEL);
        if (Cases[Case].Stops) {
            CHECK_STOP(ApcStop.Stop, STATUS_POSSIBLE_DEADLOCK, Lock, Kind->Kind, APC_LEVEL);
        } else {
            CHECK(!ApcStop.Stop.Fired);
            CHECK_STATUS(ApcStop.ReleaseStatus, STATUS_SUCCESS);
        }
        CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain), STATUS_SUCCESS);
    }
}

/* ---------------------------------------------------------------------- */
/* 12. CreateInPlace: the initialiser's statuses, IRQL and failures         */
/* ---------------------------------------------------------------------- */

/*
 * reference.md, CreateInPlace: "A failure status it returns (NT_SUCCESS
 * FALSE) fails the create with that status ... Any success status counts
 * as STATUS_SUCCESS"; "*Lock is NULL on any failure; a failed allocation
 * does not call the initialiser"; NULL initialiser: INVALID_PARAMETER;
 * "The initialiser runs at the caller's IRQL" (<= DISPATCH_LEVEL, every
 * kind, the ERESOURCE too); above DISPATCH_LEVEL IRQL_TOO_HIGH, no call.
 */
static VOID
CreateInPlaceInitializerStatuses(VOID)
{
    static const NTSTATUS SuccessClass[] = {
        STATUS_TIMEOUT, STATUS_PENDING, STATUS_ALERTED, (NTSTATUS)0x40000001L,
    };
    static const NTSTATUS FailureClass[] = {
        STATUS_UNSUCCESSFUL, (NTSTATUS)0x80000005L /* warning: NT_SUCCESS FALSE */,
        STATUS_INSUFFICIENT_RESOURCES, STATUS_WDKM_LOCK_HELD,
    };
    ULONG KindIndex;
    ULONG Index;
    LONG PoolBase = WdkmTestPoolOutstanding();

    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];
        A24_INIT Init;
        A24_DRAIN Drain;
        PVOID Lock;
        KIRQL OldIrql;
        NTSTATUS Status;

        for (Index = 0; Index < sizeof(SuccessClass) / sizeof(SuccessClass[0]); Index += 1) {
            memset(&Init, 0, sizeof(Init));
            memset(&Drain, 0, sizeof(Drain));
            Init.Result = SuccessClass[Index];
            CHECK_STATUS(Kind->CreateInPlace(sizeof(A24_LIST), A24Initialize, &Init, &Lock),
                         STATUS_SUCCESS);
            CHECK(Lock != NULL);
            CHECK_EQ(Init.Calls, 1);
            CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain), STATUS_SUCCESS);
            CHECK(Drain.Sound);
        }
        for (Index = 0; Index < sizeof(FailureClass) / sizeof(FailureClass[0]); Index += 1) {
            memset(&Init, 0, sizeof(Init));
            Init.Result = FailureClass[Index];
            Lock = (PVOID)1;
            CHECK_STATUS(Kind->CreateInPlace(sizeof(A24_LIST), A24Initialize, &Init, &Lock),
                         FailureClass[Index]);
            CHECK(Lock == NULL);
            CHECK_EQ(Init.Calls, 1);
            CHECK_EQ(WdkmTestPoolOutstanding(), PoolBase);
        }
        Lock = (PVOID)1;
        CHECK_STATUS(Kind->CreateInPlace(sizeof(A24_LIST), NULL, &Init, &Lock),
                     STATUS_INVALID_PARAMETER);
        CHECK(Lock == NULL);
        /* At DISPATCH_LEVEL: allowed, the initialiser runs there. */
        memset(&Init, 0, sizeof(Init));
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        Status = Kind->CreateInPlace(sizeof(A24_LIST), A24Initialize, &Init, &Lock);
        KeLowerIrql(OldIrql);
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_EQ(Init.Calls, 1);
        CHECK_EQ(Init.Irql, DISPATCH_LEVEL);
        memset(&Drain, 0, sizeof(Drain));
        CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain), STATUS_SUCCESS);
        /* Above it: refused before any call. */
        memset(&Init, 0, sizeof(Init));
        Lock = (PVOID)1;
        KeRaiseIrql(HIGH_LEVEL, &OldIrql);
        Status = Kind->CreateInPlace(sizeof(A24_LIST), A24Initialize, &Init, &Lock);
        KeLowerIrql(OldIrql);
        CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
        CHECK(Lock == NULL);
        CHECK_EQ(Init.Calls, 0);
    }
}

typedef struct _A24_LINKING_INIT {
    LONG Calls;
    LONG Linked;
} A24_LINKING_INIT;

/* An initialiser that links a record of its own into the list: what the
   create must not throw away once it has been called successfully. */
static NTSTATUS
A24LinkingInitialize(PVOID Value, PVOID Context)
{
    A24_LIST *List = (A24_LIST *)Value;
    A24_LINKING_INIT *Init = (A24_LINKING_INIT *)Context;

    Init->Calls += 1;
    List->Magic = A24_MAGIC;
    InitializeListHead(&List->Head);
    if (A24AddRecord(List, 7)) {
        Init->Linked += 1;
    }
    return STATUS_SUCCESS;
}

/*
 * Allocation failures injected at each of the create's first allocations:
 * either the create fails with STATUS_INSUFFICIENT_RESOURCES before the
 * initialiser ran ("a failed allocation does not call the initialiser"),
 * or it succeeds. An initialiser that succeeded is never undone by a later
 * failure (nothing would free the record it linked: the block is freed
 * without a drain).
 */
static VOID
CreateInPlaceAllocationFailures(VOID)
{
    ULONG KindIndex;
    LONG N;
    LONG PoolBase = WdkmTestPoolOutstanding();

    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];

        for (N = 0; N < 6; N += 1) {
            A24_LINKING_INIT Init;
            A24_DRAIN Drain;
            PVOID Lock = (PVOID)1;
            NTSTATUS Status;
            ULONG Injected = WdkmHostPoolInjectedFailures();

            memset(&Init, 0, sizeof(Init));
            memset(&Drain, 0, sizeof(Drain));
            WdkmHostPoolFailAt(N);
            Status = Kind->CreateInPlace(sizeof(A24_LIST), A24LinkingInitialize, &Init, &Lock);
            WdkmHostPoolFailAt(-1);
            if (Status == STATUS_SUCCESS) {
                CHECK_EQ(Init.Calls, 1);
                CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain), STATUS_SUCCESS);
                CHECK_EQ(Drain.Freed, (ULONG)Init.Linked);
            } else {
                if (Init.Calls != 0) {
                    printf("  %s: allocation failure %ld after the initialiser ran: %s\n",
                           Kind->Name, (long)N, WdkmStatusName(Status));
                }
                CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
                CHECK(Lock == NULL);
                CHECK_EQ(Init.Calls, 0);
                CHECK(WdkmHostPoolInjectedFailures() > Injected);
            }
            CHECK_EQ(A24Records(), 0);
            CHECK_EQ(WdkmTestPoolOutstanding(), PoolBase);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* 13. A registry lock refuses DestroyWith and Take                         */
/* ---------------------------------------------------------------------- */

/*
 * reference.md: destroy and take answer STATUS_WDKM_OWNED_BY_REGISTRY;
 * DestroyWith "checks everything Destroy checks (not held, not the
 * registry's, ...)"; no drain. Also from a DPC (DISPATCH_LEVEL), where
 * the kind allows it.
 */
static VOID
RegistryLockRefusesDestroyWithAndTake(VOID)
{
    ULONG KindIndex;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (KindIndex = 0; KindIndex < A24_KIND_COUNT; KindIndex += 1) {
        const A24_KIND *Kind = &A24Kinds[KindIndex];
        A24_INIT Init;
        A24_DRAIN Drain;
        A24_LIST Out;
        PVOID Lock = NULL;
        KIRQL OldIrql;
        NTSTATUS AtDispatch[3];

        memset(&Init, 0, sizeof(Init));
        memset(&Drain, 0, sizeof(Drain));
        CHECK_STATUS(WdkmGrtRegisterInPlace("attack24.list", Kind->Kind, sizeof(A24_LIST),
                                            A24Initialize, &Init, 0),
                     STATUS_SUCCESS);
        CHECK_EQ(Init.Calls, 1);
        CHECK_STATUS(WdkmGrtReference("attack24.list", Kind->Kind, sizeof(A24_LIST), &Lock),
                     STATUS_SUCCESS);
        CHECK_STATUS(A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain),
                     STATUS_WDKM_OWNED_BY_REGISTRY);
        CHECK_STATUS(A24Destroy(Kind, Lock), STATUS_WDKM_OWNED_BY_REGISTRY);
        memset(&Out, 0xA5, sizeof(Out));
        CHECK_STATUS(A24Take(Kind, Lock, sizeof(A24_LIST), &Out), STATUS_WDKM_OWNED_BY_REGISTRY);
        CHECK(A24Untouched(&Out, sizeof(Out)));
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        AtDispatch[0] = A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24Drain, &Drain);
        AtDispatch[1] = A24Destroy(Kind, Lock);
        AtDispatch[2] = A24Take(Kind, Lock, sizeof(A24_LIST), &Out);
        KeLowerIrql(OldIrql);
        {
            NTSTATUS Expected = Kind->DestroyMax >= DISPATCH_LEVEL ? STATUS_WDKM_OWNED_BY_REGISTRY
                                                                   : STATUS_WDKM_IRQL_TOO_HIGH;

            CHECK_STATUS(AtDispatch[0], Expected);
            CHECK_STATUS(AtDispatch[1], Expected);
            CHECK_STATUS(AtDispatch[2], Expected);
        }
        CHECK(A24Untouched(&Out, sizeof(Out)));
        CHECK_EQ(Drain.Calls, 0);
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister("attack24.list"), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* 14. A seeded reference model: three threads, modelled DPCs               */
/* ---------------------------------------------------------------------- */

/*
 * Random operations on a KMUTEX, a FAST_MUTEX, a spin lock and an
 * ERESOURCE, each made by one of three threads (the test's and two served
 * workers, one at a time, so the order is the seed's), some from a
 * modelled DPC (the IRQL raised on the same thread). The expected status of
 * each comes from reference.md: acquisitions that would wait for another
 * thread are made as tries (STATUS_TIMEOUT); recursion where the kind
 * allows it, STATUS_POSSIBLE_DEADLOCK where it does not; releases by
 * non-holders NOT_OWNER / NOT_HELD; destroy, take and DestroyWith of a
 * held lock LOCK_HELD, of an ERESOURCE above APC_LEVEL IRQL_TOO_HIGH, of
 * a wrong size TYPE_MISMATCH, of a free one SUCCESS (the lock is then
 * created again); a DPC's KMUTEX try over its thread's hold TIMEOUT. After
 * each operation the acting thread's IsOwned answers must match the model.
 */
#define A24M_THREADS 3
#define A24M_LOCKS 4
static const ULONG A24MKind[A24M_LOCKS] = { 0, 1, 2, 5 };   /* KMUTEX, FAST, SPIN, RESOURCE */

enum { A24M_ACQ, A24M_ACQ_SHARED, A24M_TRY, A24M_TRY_SHARED, A24M_REL, A24M_DESTROY, A24M_TAKE,
       A24M_DWITH, A24M_DPC_TRY };

typedef struct _A24M_OP {
    ULONG Code;
    ULONG L;
    BOOLEAN Dpc;
    BOOLEAN WrongSize;
    NTSTATUS Result;
    NTSTATUS Inner;        /* DPC try: the destroy made while the DPC holds it */
    BOOLEAN Consistent;    /* drain called / value copied exactly when it succeeded */
    ULONG Owned;           /* IsOwned bits for every lock, after the op */
} A24M_OP;

typedef struct _A24M {
    PVOID Lock[A24M_LOCKS];
    A24_HOLD Hold[A24M_THREADS][A24M_LOCKS];
    /* served workers */
    A24M_OP Op[A24M_THREADS];
    LONG volatile Posted[A24M_THREADS];
    LONG volatile Done[A24M_THREADS];
    LONG volatile Quit;
} A24M;

static VOID
A24MExec(A24M *M, ULONG T, A24M_OP *Op)
{
    const A24_KIND *Kind = &A24Kinds[A24MKind[Op->L]];
    PVOID Lock = M->Lock[Op->L];
    A24_HOLD *Hold = &M->Hold[T][Op->L];
    PVOID Data = NULL;
    const VOID *ConstData = NULL;
    KIRQL OldIrql = PASSIVE_LEVEL;
    A24_DRAIN Drain;
    A24_LIST Out;
    ULONG L;

    memset(&Drain, 0, sizeof(Drain));
    memset(&Out, 0xA5, sizeof(Out));
    Op->Consistent = TRUE;
    Op->Inner = STATUS_SUCCESS;
    if (Op->Dpc) {
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    }
    switch (Op->Code) {
    case A24M_ACQ:
        Op->Result = Kind->Acquire(Lock, sizeof(A24_LIST), Hold, &Data);
        break;
    case A24M_ACQ_SHARED:
        Op->Result = Kind->AcquireShared(Lock, sizeof(A24_LIST), &ConstData);
        break;
    case A24M_TRY:
        if (Op->L == 2) {
            Hold->AtDpcLevel = FALSE;
            Op->Result = WdkmSpinLockTryAcquire((PWDKM_SPIN_LOCK)Lock, sizeof(A24_LIST),
                                                &Hold->OldIrql, &Data);
        } else {
            Op->Result = Kind->Try(Lock, sizeof(A24_LIST), Hold, &Data);
        }
        break;
    case A24M_TRY_SHARED:
        Op->Result = WdkmResourceTryAcquireShared((PWDKM_RESOURCE)Lock, sizeof(A24_LIST), &ConstData);
        break;
    case A24M_REL:
        Op->Result = Kind->Release(Lock, Hold);
        break;
    case A24M_DESTROY:
        Op->Result = A24Destroy(Kind, Lock);
        break;
    case A24M_TAKE:
        Op->Result = A24Take(Kind, Lock, sizeof(A24_LIST), &Out);
        Op->Consistent = Op->Result == STATUS_SUCCESS ? Out.Magic == A24_MAGIC
                                                      : A24Untouched(&Out, sizeof(Out));
        break;
    case A24M_DWITH:
        Op->Result = A24DestroyWith(Kind, Lock, Op->WrongSize ? sizeof(A24_LIST) + 4 : sizeof(A24_LIST),
                                       A24Drain, &Drain);
        Op->Consistent = Drain.Calls == (Op->Result == STATUS_SUCCESS ? 1 : 0);
        break;
    case A24M_DPC_TRY:
        Op->Result = WdkmKMutexTryAcquire((PWDKM_KMUTEX)Lock, sizeof(A24_LIST), &Data);
        if (Op->Result == STATUS_SUCCESS) {
            Op->Inner = WdkmKMutexDestroy((PWDKM_KMUTEX)Lock);
            if (Op->Inner == STATUS_WDKM_LOCK_HELD) {
                Op->Inner = WdkmKMutexRelease((PWDKM_KMUTEX)Lock) == STATUS_SUCCESS
                                ? STATUS_WDKM_LOCK_HELD : STATUS_UNSUCCESSFUL;
            }
        }
        break;
    default:
        break;
    }
    if ((Op->Code == A24M_DESTROY || Op->Code == A24M_TAKE || Op->Code == A24M_DWITH) &&
        Op->Result == STATUS_SUCCESS) {
        A24_INIT Init = { 0, PASSIVE_LEVEL, STATUS_SUCCESS };

        /* gone: a new one in its place, at this IRQL (<= DISPATCH_LEVEL) */
        if (Kind->CreateInPlace(sizeof(A24_LIST), A24Initialize, &Init, &M->Lock[Op->L]) !=
            STATUS_SUCCESS) {
            M->Lock[Op->L] = NULL;
        }
    }
    Op->Owned = 0;
    for (L = 0; L < A24M_LOCKS; L += 1) {
        if (M->Lock[L] != NULL && A24Kinds[A24MKind[L]].IsOwned(M->Lock[L])) {
            Op->Owned |= 1UL << L;
        }
    }
    if (Op->Dpc) {
        KeLowerIrql(OldIrql);
    }
}

typedef struct _A24M_WORKER_ARG {
    A24M *M;
    ULONG T;
} A24M_WORKER_ARG;

static VOID
A24MWorker(PVOID Context, ULONG Index)
{
    A24M *M = ((A24M_WORKER_ARG *)Context)->M;
    ULONG T = ((A24M_WORKER_ARG *)Context)->T;
    LONG Seen = 0;

    UNREFERENCED_PARAMETER(Index);

    for (;;) {
        LONG Posted;

        while ((Posted = ReadAcquire(&M->Posted[T])) == Seen && ReadAcquire(&M->Quit) == 0) {
            YieldProcessor();
            if (KeGetCurrentIrql() < DISPATCH_LEVEL) {
                sched_yield();
            }
        }
        if (Posted == Seen) {
            return;
        }
        Seen = Posted;
        A24MExec(M, T, &M->Op[T]);
        WriteRelease(&M->Done[T], Seen);
    }
}

typedef struct _A24M_MODEL {
    LONG Count[A24M_LOCKS][A24M_THREADS];   /* acquisitions held */
    LONG ExclOwner[A24M_LOCKS];             /* resource: the exclusive owner, or -1 */
} A24M_MODEL;

static LONG
A24MOthers(const A24M_MODEL *Model, ULONG L, ULONG T)
{
    LONG Sum = 0;
    ULONG U;

    for (U = 0; U < A24M_THREADS; U += 1) {
        if (U != T) {
            Sum += Model->Count[L][U];
        }
    }
    return Sum;
}

static KIRQL
A24MIrql(const A24M_MODEL *Model, ULONG T)
{
    if (Model->Count[2][T] != 0) {
        return DISPATCH_LEVEL;
    }
    return Model->Count[1][T] != 0 ? APC_LEVEL : PASSIVE_LEVEL;
}

static ULONG64
A24MNext(ULONG64 *State)
{
    *State = *State * 6364136223846793005ULL + 1442695040888963407ULL;
    return *State >> 33;
}

/* Picks the next op for T and computes its expected status; *Model is
   updated as the op will leave it. */
static NTSTATUS
A24MPlan(A24M_MODEL *Model, ULONG T, ULONG64 *Rng, A24M_OP *Op)
{
    ULONG L = (ULONG)(A24MNext(Rng) % A24M_LOCKS);
    ULONG Pick = (ULONG)(A24MNext(Rng) % 10);
    LONG Mine;
    LONG Others;
    KIRQL Irql = A24MIrql(Model, T);

    memset(Op, 0, sizeof(*Op));
    if (Model->Count[2][T] != 0) {
        Op->Code = A24M_REL;           /* a spin-lock holder only releases */
        Op->L = 2;
        Model->Count[2][T] = 0;
        return STATUS_SUCCESS;
    }
    Op->L = L;
    Mine = Model->Count[L][T];
    Others = A24MOthers(Model, L, T);
    if (Pick <= 3) {
        BOOLEAN Shared = L == 3 && (A24MNext(Rng) & 1) != 0;

        if (L == 0) {                                  /* KMUTEX, recursive */
            if (Mine >= 3) { Op->Code = A24M_REL; Model->Count[L][T] -= 1; return STATUS_SUCCESS; }
            if (Others != 0) { Op->Code = A24M_TRY; return STATUS_TIMEOUT; }
            Op->Code = A24M_ACQ; Model->Count[L][T] += 1; return STATUS_SUCCESS;
        }
        if (L == 1 || L == 2) {                        /* FAST_MUTEX, spin: not recursive */
            if (Mine != 0) { Op->Code = A24M_ACQ; return STATUS_POSSIBLE_DEADLOCK; }
            if (Others != 0) { Op->Code = A24M_TRY; return STATUS_TIMEOUT; }
            Op->Code = A24M_ACQ; Model->Count[L][T] = 1; return STATUS_SUCCESS;
        }
        /* ERESOURCE */
        if (Mine >= 3) { Op->Code = A24M_REL; goto ResourceRelease; }
        if (Shared) {
            if (Model->ExclOwner[L] >= 0 && Model->ExclOwner[L] != (LONG)T) {
                Op->Code = A24M_TRY_SHARED; return STATUS_TIMEOUT;
            }
            Op->Code = A24M_ACQ_SHARED; Model->Count[L][T] += 1; return STATUS_SUCCESS;
        }
        if (Model->ExclOwner[L] == (LONG)T) { Op->Code = A24M_ACQ; Model->Count[L][T] += 1; return STATUS_SUCCESS; }
        if (Mine != 0) { Op->Code = A24M_ACQ; return STATUS_POSSIBLE_DEADLOCK; }
        if (Others != 0) { Op->Code = A24M_TRY; return STATUS_TIMEOUT; }
        Op->Code = A24M_ACQ; Model->Count[L][T] = 1; Model->ExclOwner[L] = (LONG)T; return STATUS_SUCCESS;
    }
    if (Pick <= 6) {
        Op->Code = A24M_REL;
        if (L == 3) {
ResourceRelease:
            if (Model->Count[L][T] != 0) {
                Model->Count[L][T] -= 1;
                if (Model->Count[L][T] == 0 && Model->ExclOwner[L] == (LONG)T) {
                    Model->ExclOwner[L] = -1;
                }
                return STATUS_SUCCESS;
            }
            return Others != 0 ? STATUS_WDKM_NOT_OWNER : STATUS_WDKM_NOT_HELD;
        }
        if (Mine != 0) {
            Model->Count[L][T] -= 1;
            return STATUS_SUCCESS;
        }
        return Others != 0 ? STATUS_WDKM_NOT_OWNER : STATUS_WDKM_NOT_HELD;
    }
    /* destroy, take, DestroyWith, or a DPC's try */
    Op->Dpc = (A24MNext(Rng) & 1) != 0;
    if (Op->Dpc && L == 0 && (A24MNext(Rng) & 1) != 0) {
        Op->Code = A24M_DPC_TRY;
        /* "at DISPATCH_LEVEL, the code this DPC interrupted does" */
        return Mine != 0 || Others != 0 ? STATUS_TIMEOUT : STATUS_SUCCESS;
    }
    Op->Code = A24M_DESTROY + (ULONG)(A24MNext(Rng) % 3);
    Op->WrongSize = Op->Code == A24M_DWITH && (A24MNext(Rng) % 4) == 0;
    if (Op->Dpc) {
        Irql = DISPATCH_LEVEL;
    }
    if (Irql > A24Kinds[A24MKind[L]].DestroyMax) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (Op->WrongSize) {
        if (Mine != 0 || Others != 0) {
            Op->WrongSize = FALSE;     /* which of the two states wins is not specified */
        } else {
            return STATUS_WDKM_TYPE_MISMATCH;
        }
    }
    return Mine != 0 || Others != 0 ? STATUS_WDKM_LOCK_HELD : STATUS_SUCCESS;
}

static VOID
A24MRun(A24M *M, ULONG T, A24M_OP *Op)
{
    if (T == 0) {
        A24MExec(M, 0, Op);
        return;
    }
    M->Op[T] = *Op;
    WriteRelease(&M->Posted[T], ReadAcquire(&M->Posted[T]) + 1);
    while (ReadAcquire(&M->Done[T]) != ReadAcquire(&M->Posted[T])) {
        A24Yield();
    }
    *Op = M->Op[T];
}

static VOID
SeededModelThreeThreads(VOID)
{
    static const ULONG64 Seeds[] = { 1, 24, 2424, 0xA24A24ULL };
    static const NTSTATUS Kinds[] = {
        STATUS_SUCCESS, STATUS_TIMEOUT, STATUS_POSSIBLE_DEADLOCK, STATUS_WDKM_NOT_OWNER,
        STATUS_WDKM_NOT_HELD, STATUS_WDKM_LOCK_HELD, STATUS_WDKM_IRQL_TOO_HIGH,
        STATUS_WDKM_TYPE_MISMATCH,
    };
    ULONG Seen[sizeof(Kinds) / sizeof(Kinds[0])] = { 0 };
    ULONG Recreated = 0;
    ULONG SeedIndex;
    ULONG K;

    for (SeedIndex = 0; SeedIndex < sizeof(Seeds) / sizeof(Seeds[0]); SeedIndex += 1) {
        A24M M;
        A24M_MODEL Model;
        WDKM_TEST_THREAD *Workers[A24M_THREADS - 1];
        A24M_WORKER_ARG Args[A24M_THREADS - 1];
        ULONG64 Rng = Seeds[SeedIndex];
        ULONG Step;
        ULONG L;
        ULONG T;
        ULONG Mismatches = 0;

        memset(&M, 0, sizeof(M));
        memset(&Model, 0, sizeof(Model));
        for (L = 0; L < A24M_LOCKS; L += 1) {
            Model.ExclOwner[L] = -1;
            CHECK_STATUS(A24CreateList(&A24Kinds[A24MKind[L]], 0, &M.Lock[L]), STATUS_SUCCESS);
        }
        for (T = 1; T < A24M_THREADS; T += 1) {
            Args[T - 1].M = &M;
            Args[T - 1].T = T;
            Workers[T - 1] = WdkmTestStartThread(A24MWorker, &Args[T - 1]);
            CHECK(Workers[T - 1] != NULL);
        }
        for (Step = 0; Step < 600 && Mismatches == 0; Step += 1) {
            A24M_OP Op;
            NTSTATUS Expected;
            ULONG ExpectedOwned = 0;

            T = (ULONG)(A24MNext(&Rng) % A24M_THREADS);
            Expected = A24MPlan(&Model, T, &Rng, &Op);
            A24MRun(&M, T, &Op);
            for (K = 0; K < sizeof(Kinds) / sizeof(Kinds[0]); K += 1) {
                Seen[K] += Op.Result == Kinds[K];
            }
            Recreated += Op.Code >= A24M_DESTROY && Op.Code <= A24M_DWITH && Op.Result == STATUS_SUCCESS;
            for (L = 0; L < A24M_LOCKS; L += 1) {
                BOOLEAN Owned = L == 3 ? Model.ExclOwner[L] == (LONG)T : Model.Count[L][T] != 0;

                ExpectedOwned |= Owned ? 1UL << L : 0;
            }
            if (Op.Result != Expected || !Op.Consistent || Op.Owned != ExpectedOwned ||
                (Op.Code == A24M_DPC_TRY && Op.Result == STATUS_SUCCESS &&
                 Op.Inner != STATUS_WDKM_LOCK_HELD)) {
                printf("  seed %llu step %lu: thread %lu op %lu on %s%s%s: %s, expected %s"
                       " (inner %s, consistent %d, owned 0x%lx expected 0x%lx)\n",
                       (unsigned long long)Seeds[SeedIndex], (unsigned long)Step, (unsigned long)T,
                       (unsigned long)Op.Code, A24Kinds[A24MKind[Op.L]].Name,
                       Op.Dpc ? " from a DPC" : "", Op.WrongSize ? " (wrong size)" : "",
                       WdkmStatusName(Op.Result), WdkmStatusName(Expected),
                       WdkmStatusName(Op.Inner), (int)Op.Consistent, (unsigned long)Op.Owned,
                       (unsigned long)ExpectedOwned);
                Mismatches += 1;
            }
        }
        /* Everyone lets go (spin first, then the FAST_MUTEX: the IRQL
           order), then every lock is destroyed. */
        for (T = 0; T < A24M_THREADS; T += 1) {
            static const ULONG Order[A24M_LOCKS] = { 2, 1, 0, 3 };
            ULONG K;

            for (K = 0; K < A24M_LOCKS; K += 1) {
                L = Order[K];
                while (Model.Count[L][T] > 0) {
                    A24M_OP Op;

                    memset(&Op, 0, sizeof(Op));
                    Op.Code = A24M_REL;
                    Op.L = L;
                    A24MRun(&M, T, &Op);
                    if (Op.Result != STATUS_SUCCESS) {
                        Mismatches += 1;
                        break;
                    }
                    Model.Count[L][T] -= 1;
                }
            }
        }
        WriteRelease(&M.Quit, 1);
        for (T = 1; T < A24M_THREADS; T += 1) {
            WdkmTestJoinThread(Workers[T - 1]);
        }
        {
            NTSTATUS Destroyed[A24M_LOCKS];

            for (L = 0; L < A24M_LOCKS; L += 1) {
                Destroyed[L] = M.Lock[L] != NULL ? A24Destroy(&A24Kinds[A24MKind[L]], M.Lock[L])
                                                 : STATUS_UNSUCCESSFUL;
            }
            CHECK_EQ(Mismatches, 0);
            for (L = 0; L < A24M_LOCKS; L += 1) {
                CHECK_STATUS(Destroyed[L], STATUS_SUCCESS);
            }
        }
    }
    printf("  statuses seen:");
    for (K = 0; K < sizeof(Kinds) / sizeof(Kinds[0]); K += 1) {
        printf(" %s %lu", WdkmStatusName(Kinds[K]), (unsigned long)Seen[K]);
    }
    printf("; locks destroyed and made again %lu\n", (unsigned long)Recreated);
    /* The walk reached every answer it models. */
    for (K = 0; K < sizeof(Kinds) / sizeof(Kinds[0]); K += 1) {
        CHECK(Seen[K] > 0);
    }
    CHECK(Recreated > 10);
}

/* ---------------------------------------------------------------------- */
/* Minimal: a special kernel APC (APC_LEVEL) on a KMUTEX owner's thread     */
/* ---------------------------------------------------------------------- */

typedef struct _A24_MINI {
    PWDKM_KMUTEX Mutex;
    NTSTATUS Destroy;
    LONG Ran;
} A24_MINI;

static VOID
A24MiniApc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A24_MINI *Mini = (A24_MINI *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Mini->Ran += 1;
    Mini->Destroy = WdkmKMutexDestroy(Mini->Mutex);
}

/*
 * reference.md, WdkmKMutexDestroy: "STATUS_WDKM_LOCK_HELD (nothing
 * freed)". The owner's thread at APC_LEVEL (modelled by raising the IRQL,
 * and a real special kernel APC queued to itself) asks to destroy the
 * KMUTEX it holds.
 */
static VOID
KMutexDestroyAtApcLevelByOwner(VOID)
{
    ULONG Way;

    for (Way = 0; Way < 2; Way += 1) {
        A24_MINI Mini;
        ULONG Value = 5;
        ULONG *Data;

        memset(&Mini, 0, sizeof(Mini));
        CHECK_STATUS(WDKM_KMUTEX_CREATE(&Value, &Mini.Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Mini.Mutex, &Data), STATUS_SUCCESS);
        if (Way == 0) {
            KIRQL OldIrql;

            KeRaiseIrql(APC_LEVEL, &OldIrql);
            A24MiniApc(WdkmHostInterruptSpecialApc, 0, &Mini);
            KeLowerIrql(OldIrql);
        } else {
            WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc, A24MiniApc,
                                   &Mini);
        }
        CHECK_EQ(Mini.Ran, 1);
        if (Mini.Destroy == STATUS_SUCCESS) {
            /* The block is gone under the hold: the release would run on
               freed memory. Stop here (the KMUTEX stays owned by the
               emulation's thread record, nothing else can be done). */
            CHECK_STATUS(Mini.Destroy, STATUS_WDKM_LOCK_HELD);
        }
        CHECK_STATUS(Mini.Destroy, STATUS_WDKM_LOCK_HELD);
        CHECK_STATUS(WdkmKMutexRelease(Mini.Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WdkmKMutexDestroy(Mini.Mutex), STATUS_SUCCESS);
    }
}

/* ---------------------------------------------------------------------- */
/* Minimal: destroy from a DPC / special APC while the owner is inside      */
/* acquire or release                                                       */
/* ---------------------------------------------------------------------- */

typedef struct _A24_WINDOW {
    const A24_KIND *Kind;
    PVOID Lock;
    LONG volatile Phase;    /* 1 in acquire, 2 held, 3 in release, 0 outside */
    LONG volatile Stop;
    LONG volatile Events;
    LONG volatile Windows;
    LONG volatile Wrong;
    LONG WrongPhase;
    NTSTATUS WrongStatus;
    ULONG StopCode;
    LONG Rounds;
    LONG volatile Ended;
    LONG volatile Broke;                /* the owner's loop stopped on a refusal */
} A24_WINDOW;

/* A drain that never returns: the stop it raises jumps back to
   A24DestroyWithoutFree's trap, so that a DestroyWith that should have
   been refused does not free the block under its owner (the test stays
   alive to report it; the block is then leaked, dead). */
static VOID
A24StopDrain(PVOID Value, PVOID Context)
{
    UNREFERENCED_PARAMETER(Value);
    UNREFERENCED_PARAMETER(Context);
    KeBugCheckEx(0xA24DA24DUL, 0, 0, 0, 0);
}

/* DestroyWith with A24StopDrain under a trap: STATUS_SUCCESS when the
   library went as far as tearing the lock down (the drain, or the kernel
   object's teardown, stopped it: *StopCode says which). */
static NTSTATUS
A24DestroyWithoutFree(const A24_KIND *Kind, PVOID Lock, ULONG *StopCode)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    volatile NTSTATUS Status = STATUS_UNSUCCESSFUL;

    if (WDKM_HOST_TRY(&Trap)) {
        Status = A24DestroyWith(Kind, Lock, sizeof(A24_LIST), A24StopDrain, NULL);
        WdkmHostDisarm(&Trap);
    } else {
        *StopCode = Trap.Bugcheck.Code;
        Status = STATUS_SUCCESS;
    }
    return Status;
}

static VOID
A24WindowEvent(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A24_WINDOW *Window = (A24_WINDOW *)Context;
    NTSTATUS Destroy;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    InterlockedIncrement(&Window->Events);   /* read by the injecting thread */
    if (Window->Wrong != 0) {
        return;                 /* the block is gone */
    }
    /* The thread this event interrupted (to NT, this thread) holds a lock
       (the emulation's count: its only one is Window->Lock), but the
       library has no record of it: between the kernel's grant and the
       record, or between the record's end and the kernel's release. */
    if (WdkmHostThreadHeldLockCount() == 0 || Window->Kind->IsOwned(Window->Lock)) {
        return;
    }
    /* Only the release's instant: after a wrong answer there the owner's
       release still completes on the (kept) block and the thread ends
       holding nothing. In the acquire's instant (Phase 1) the same wrong
       answer comes, but the owner then holds a kernel object whose handle
       is dead and cannot give it back: the emulation stops at its exit. */
    if (Window->Phase != 3) {
        return;
    }
    Window->Windows += 1;
    Destroy = A24DestroyWithoutFree(Window->Kind, Window->Lock, &Window->StopCode);
    if (Destroy != STATUS_WDKM_LOCK_HELD) {
        Window->WrongStatus = Destroy;
        Window->WrongPhase = Window->Phase;
        WriteRelease(&Window->Wrong, 1);
    }
}

static VOID
A24WindowThread(PVOID Context, ULONG Index)
{
    A24_WINDOW *Window = (A24_WINDOW *)Context;
    A24_HOLD Hold;
    PVOID Data;

    UNREFERENCED_PARAMETER(Index);
    memset(&Hold, 0, sizeof(Hold));
    while (ReadAcquire(&Window->Stop) == 0 && ReadAcquire(&Window->Wrong) == 0) {
        WriteRelease(&Window->Phase, 1);
        if (Window->Kind->Acquire(Window->Lock, sizeof(A24_LIST), &Hold, &Data) != STATUS_SUCCESS) {
            WriteRelease(&Window->Broke, 1);
            break;
        }
        WriteRelease(&Window->Phase, 2);
        ((A24_LIST *)Data)->Count += 0;
        WriteRelease(&Window->Phase, 3);
        if (Window->Kind->Release(Window->Lock, &Hold) != STATUS_SUCCESS) {
            WriteRelease(&Window->Broke, 1);
            break;
        }
        WriteRelease(&Window->Phase, 0);
        Window->Rounds += 1;
    }
    WriteRelease(&Window->Ended, 1);
}

/*
 * reference.md: Destroy (and DestroyWith: "checks everything Destroy
 * checks (not held, ...)") answers "STATUS_WDKM_LOCK_HELD (nothing freed)";
 * KMUTEX: a DPC's try is refused with STATUS_TIMEOUT "(the mutex is busy:
 * the interrupted code holds it), also in the instants between the
 * kernel's grant and the library's record of the owner" - the library
 * itself counts those instants as held. A DPC (or a special kernel APC)
 * on the owner's thread that lands in such an instant and asks to destroy
 * the lock must get STATUS_WDKM_LOCK_HELD. Were the block freed, the
 * owner's next step would run on freed memory, so the event asks with
 * DestroyWith and a drain that stops (trapped): a wrong answer leaves the
 * dead block allocated instead of freed, and the test fails with a leak
 * rather than taking the program down.
 */
static VOID
A24DestroyInOwnerWindow(ULONG KindIndex, WDKM_HOST_INTERRUPT EventKind)
{
    A24_WINDOW Window;
    WDKM_TEST_THREAD *Thread;
    LONGLONG End;
    LONGLONG Deadline;

    memset(&Window, 0, sizeof(Window));
    Window.Kind = &A24Kinds[KindIndex];
    CHECK_STATUS(A24CreateList(Window.Kind, 0, &Window.Lock), STATUS_SUCCESS);
    Thread = WdkmTestStartThread(A24WindowThread, &Window);
    CHECK(Thread != NULL);
    /* 400 ms, and on a loaded machine on until 100 events have reached
       the owner (at most 10 s: fewer fail below). */
    End = WdkmTestNowMs() + 400;
    Deadline = WdkmTestDeadlineMs(10000);
    while ((WdkmTestNowMs() < End ||
            (ReadAcquire(&Window.Events) <= 100 && WdkmTestNowMs() < Deadline)) &&
           ReadAcquire(&Window.Wrong) == 0 && ReadAcquire(&Window.Ended) == 0) {
        WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread), EventKind, A24WindowEvent, &Window);
        YieldProcessor();
    }
    WriteRelease(&Window.Stop, 1);
    WdkmTestJoinThread(Thread);
    printf("  %s, %s: %ld events, %ld found it held but unrecorded, %ld owner rounds\n",
           Window.Kind->Name, EventKind == WdkmHostInterruptDpc ? "DPC" : "special APC",
           (long)Window.Events, (long)Window.Windows, (long)Window.Rounds);
    if (Window.Wrong != 0) {
        printf("  DestroyWith from the event went ahead (%s) with the owner in phase %ld (%s);"
               " the dead block is left allocated\n",
               Window.StopCode == 0xA24DA24DUL ? "drain called" : WdkmHostBugcheckName(Window.StopCode),
               (long)Window.WrongPhase,
               Window.WrongPhase == 1 ? "inside the acquire"
               : Window.WrongPhase == 3 ? "inside the release" : "?");
        CHECK_STATUS(Window.WrongStatus, STATUS_WDKM_LOCK_HELD);
    }
    CHECK(Window.Broke == 0);       /* every acquire and release of the owner succeeded */
    CHECK(Window.Events > 100);     /* the events did reach the owner */
    CHECK_STATUS(A24Destroy(Window.Kind, Window.Lock), STATUS_SUCCESS);
}

static VOID KMutexDestroyFromDpcInOwnerWindow(VOID) { A24DestroyInOwnerWindow(0, WdkmHostInterruptDpc); }
static VOID KMutexDestroyFromApcInOwnerWindow(VOID) { A24DestroyInOwnerWindow(0, WdkmHostInterruptSpecialApc); }
static VOID FastMutexDestroyFromDpcInOwnerWindow(VOID) { A24DestroyInOwnerWindow(1, WdkmHostInterruptDpc); }
static VOID GuardedMutexDestroyFromDpcInOwnerWindow(VOID) { A24DestroyInOwnerWindow(4, WdkmHostInterruptDpc); }
static VOID ResourceDestroyFromApcInOwnerWindow(VOID) { A24DestroyInOwnerWindow(5, WdkmHostInterruptSpecialApc); }
static VOID PushLockDestroyFromDpcInOwnerWindow(VOID) { A24DestroyInOwnerWindow(6, WdkmHostInterruptDpc); }
static VOID PushLockDestroyFromApcInOwnerWindow(VOID) { A24DestroyInOwnerWindow(6, WdkmHostInterruptSpecialApc); }

/* ---------------------------------------------------------------------- */

static VOID
A24Cleanup(VOID)
{
    WdkmHostPoolFailAt(-1);
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    if (A24Violations != 0) {
        WdkmTestFail(__FILE__, __LINE__, "%ld violations off the test's frame", (long)A24Violations);
        A24Violations = 0;
    }
    if (WdkmHostThreadHeldLockCount() != 0) {
        WdkmTestFail(__FILE__, __LINE__, "the test thread still holds %lu locks",
                     (unsigned long)WdkmHostThreadHeldLockCount());
    }
}

static const WDKM_TEST_CASE Attack24Cases[] = {
    { "kmutex_destroy_at_apc_level_by_owner", KMutexDestroyAtApcLevelByOwner },
    { "held_by_caller_refused_every_kind", HeldByCallerRefusedEveryKind },
    { "held_by_other_thread_refused_every_kind", HeldByOtherThreadRefusedEveryKind },
    { "dpc_on_owner_thread_destroy_take_refused", DpcOnOwnerThreadDestroyTakeRefused },
    { "kmutex_dispatch_class_hold_destroy_take", KMutexDispatchClassHoldDestroyTake },
    { "drain_reenters_library_every_kind", DrainReentersLibraryEveryKind },
    { "drain_that_changes_irql_every_kind", DrainThatChangesIrqlEveryKind },
    { "interrupts_into_drain_see_dead_handle", InterruptsIntoDrainSeeDeadHandle },
    { "other_thread_during_drain_refused", OtherThreadDuringDrainRefused },
    { "normal_apc_waits_for_release_then_destroy", NormalApcWaitsForReleaseThenDestroy },
    { "special_apc_in_hold_destroy_take_refused", SpecialApcInHoldDestroyTakeRefused },
    { "shared_churn_destroy_always_held", SharedChurnDestroyAlwaysHeld },
    { "push_lock_counted_readers_still_hold", PushLockCountedReadersStillHold },
    { "injected_dpcs_into_list_worker", InjectedDpcsIntoListWorker },
    { "callback_forms_stop_naming_the_misuse", CallbackFormsStopNamingTheMisuse },
    { "callback_form_from_special_apc_in_hold", CallbackFormFromSpecialApcInHold },
    { "create_in_place_initializer_statuses", CreateInPlaceInitializerStatuses },
    { "create_in_place_allocation_failures", CreateInPlaceAllocationFailures },
    { "registry_lock_refuses_destroy_with_and_take", RegistryLockRefusesDestroyWithAndTake },
    { "seeded_model_three_threads", SeededModelThreeThreads },
    /* Last: while they fail, each leaves its dead lock block allocated. */
    { "kmutex_destroy_from_dpc_in_owner_window", KMutexDestroyFromDpcInOwnerWindow },
    { "kmutex_destroy_from_apc_in_owner_window", KMutexDestroyFromApcInOwnerWindow },
    { "fast_mutex_destroy_from_dpc_in_owner_window", FastMutexDestroyFromDpcInOwnerWindow },
    { "guarded_mutex_destroy_from_dpc_in_owner_window", GuardedMutexDestroyFromDpcInOwnerWindow },
    { "resource_destroy_from_apc_in_owner_window", ResourceDestroyFromApcInOwnerWindow },
    { "push_lock_destroy_from_dpc_in_owner_window", PushLockDestroyFromDpcInOwnerWindow },
    { "push_lock_destroy_from_apc_in_owner_window", PushLockDestroyFromApcInOwnerWindow },
};

const WDKM_TEST_SUITE WdkmAttack24Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack24", Attack24Cases, A24Cleanup);
