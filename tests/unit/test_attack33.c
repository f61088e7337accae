/*
 * test_attack33.c - the registry lookup's callback form
 * (WdkmGrtReferenceOrBugCheck, WDKM_GRT_GET_<KIND>_OR_BUGCHECK) and the
 * acquisitions' callback forms, written from the documentation alone
 * (reference.md "Callback forms" and "The registry", diagnostics.md,
 * wdkm_grt.h, host-testing.md).
 *
 * Every refusal the plain lookup documents must stop with
 * WDKM_BUGCHECK_LOCK_MISUSE, P1 the plain form's status zero-extended, P2
 * the name's address, P3 the caller's return address, P4 (kind << 8) |
 * IRQL, and change nothing: no reference (a destroy right after does not
 * wait), no lock held, the IRQL and the regions as they were. Success
 * hands back a referenced lock of the kind at every IRQL allowed, in a DPC
 * or special kernel APC over registry locks the thread holds, and while
 * other threads replace, register and unregister names.
 */
#include <stdio.h>
#include <string.h>

#include "wdkm_test.h"

typedef struct _A33_DATA {
    ULONG64 Magic;
    ULONG64 Kind;
} A33_DATA;

#define A33_MAGIC 0x3333333333333333ULL

static const WDKM_LOCK_KIND A33Kinds[] = {
    WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock,
    WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource,
    WdkmLockKindPushLock,
};
#define A33_KIND_COUNT (sizeof(A33Kinds) / sizeof(A33Kinds[0]))

/* One registered name per kind: "a33.kind1" .. "a33.kind7". */
static char A33Names[8][16];

static PCSTR
A33NameOf(WDKM_LOCK_KIND Kind)
{
    return A33Names[Kind];
}

static BOOLEAN
A33IsSpinKind(WDKM_LOCK_KIND Kind)
{
    return Kind == WdkmLockKindSpinLock || Kind == WdkmLockKindQueuedSpinLock;
}

/* Registry up, one lock of each kind registered with { A33_MAGIC, kind }. */
static BOOLEAN
A33Start(VOID)
{
    ULONG Index;

    if (WdkmGrtInitialize() != STATUS_SUCCESS) {
        return FALSE;
    }
    for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
        A33_DATA Initial;
        WDKM_LOCK_KIND Kind = A33Kinds[Index];

        Initial.Magic = A33_MAGIC;
        Initial.Kind = (ULONG64)Kind;
        (VOID)snprintf(A33Names[Kind], sizeof(A33Names[Kind]), "a33.kind%u", (unsigned)Kind);
        if (WdkmGrtRegister(A33Names[Kind], Kind, &Initial, sizeof(Initial), 0) !=
            STATUS_SUCCESS) {
            return FALSE;
        }
    }
    return TRUE;
}

/* A destroy with a zero timeout: succeeds only if nothing is referenced and
   no lookup is in flight. */
static NTSTATUS
A33StopNow(PWDKM_GRT_REPORT Report)
{
    LARGE_INTEGER Zero;

    Zero.QuadPart = 0;
    return WdkmGrtDestroy(&Zero, Report);
}

/* ---------------------------------------------------------------------- */
/* Calling the lookup's callback form and catching its stop                */
/* ---------------------------------------------------------------------- */

static PVOID volatile A33Sink;

typedef struct _A33_OUTCOME {
    BOOLEAN Stopped;
    ULONG Stops;                 /* bug checks raised during the call */
    WDKM_HOST_BUGCHECK Bugcheck;
    PVOID Returned;
    KIRQL Irql;                  /* after the call (or the stop) */
    BOOLEAN ApcsDisabled;
    BOOLEAN AllApcsDisabled;
    ULONG HeldLocks;
} A33_OUTCOME;

/* The driver function that calls the form: P3 must return into it. The
   store after the call keeps it from being a tail call. */
static __attribute__((noinline)) PVOID
A33CallLookup(PCSTR Name, WDKM_LOCK_KIND Kind, SIZE_T DataSize)
{
    PVOID Lock = WdkmGrtReferenceOrBugCheck(Name, Kind, DataSize);

    A33Sink = Lock;
    return Lock;
}

/* After a call under a trap: the stops it made and the state it left. */
static VOID
A33Settle(A33_OUTCOME *Out, ULONG Before)
{
    Out->Stops = WdkmHostBugcheckCount() - Before;
    Out->Irql = KeGetCurrentIrql();
    Out->ApcsDisabled = KeAreApcsDisabled();
    Out->AllApcsDisabled = KeAreAllApcsDisabled();
    Out->HeldLocks = WdkmHostThreadHeldLockCount();
}

static __attribute__((noinline)) VOID
A33TryLookup(PCSTR Name, WDKM_LOCK_KIND Kind, SIZE_T DataSize, A33_OUTCOME *Out)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    ULONG Before = WdkmHostBugcheckCount();

    memset(Out, 0, sizeof(*Out));
    if (WDKM_HOST_TRY(&Trap)) {
        Out->Returned = A33CallLookup(Name, Kind, DataSize);
        WdkmHostDisarm(&Trap);
    } else {
        Out->Stopped = TRUE;
        Out->Bugcheck = Trap.Bugcheck;
    }
    A33Settle(Out, Before);
}

/* TRUE if ReturnAddress is the return address of a call to Callee made
   from inside Caller (a direct call, x86-64: E8 rel32 right before it). */
static BOOLEAN
A33ReturnsInto(ULONG_PTR ReturnAddress, ULONG_PTR Caller, ULONG_PTR Callee)
{
    if (ReturnAddress <= Caller || ReturnAddress > Caller + 1024) {
        return FALSE;
    }
#if defined(__x86_64__)
    {
        const unsigned char *At = (const unsigned char *)ReturnAddress;
        LONG Relative;

        if (At[-5] != 0xE8) {
            return FALSE;
        }
        memcpy(&Relative, At - 4, sizeof(Relative));
        return ReturnAddress + (ULONG_PTR)(LONG_PTR)Relative == Callee;
    }
#else
    UNREFERENCED_PARAMETER(Callee);
    return TRUE;
#endif
}

static char A33Why[256];

/* Checks one refused lookup at the current IRQL: the plain form answers
   Expected (and NULL), the callback form stops with the documented
   parameters and changes nothing. Returns FALSE with A33Why set. */
static BOOLEAN
A33RefusedAsDocumented(PCSTR Name, WDKM_LOCK_KIND Kind, SIZE_T DataSize, NTSTATUS Expected)
{
    PVOID Lock = (PVOID)&Lock;
    NTSTATUS Plain;
    A33_OUTCOME Out;
    KIRQL Irql = KeGetCurrentIrql();
    BOOLEAN ApcsDisabled = KeAreApcsDisabled();
    BOOLEAN AllApcsDisabled = KeAreAllApcsDisabled();
    ULONG Held = WdkmHostThreadHeldLockCount();

    Plain = WdkmGrtReference(Name, Kind, DataSize, &Lock);
    if (Plain != Expected || Lock != NULL) {
        (VOID)snprintf(A33Why, sizeof(A33Why), "plain lookup of %s kind %d size %lu at IRQL %u: %s, lock %p; expected %s",
                       Name != NULL ? Name : "(null)", (int)Kind, (unsigned long)DataSize,
                       (unsigned)Irql, WdkmStatusName(Plain), Lock, WdkmStatusName(Expected));
        if (Plain == STATUS_SUCCESS) {
            (VOID)WdkmGrtDereference(Lock);
        }
        return FALSE;
    }
    A33TryLookup(Name, Kind, DataSize, &Out);
    if (!Out.Stopped) {
        (VOID)snprintf(A33Why, sizeof(A33Why), "form returned %p for %s (plain: %s)",
                       Out.Returned, Name != NULL ? Name : "(null)", WdkmStatusName(Expected));
        return FALSE;
    }
    if (Out.Stops != 1 || Out.Bugcheck.Code != WDKM_BUGCHECK_LOCK_MISUSE ||
        Out.Bugcheck.Parameter[0] != (ULONG_PTR)(ULONG)Expected ||
        Out.Bugcheck.Parameter[1] != (ULONG_PTR)Name ||
        !A33ReturnsInto(Out.Bugcheck.Parameter[2], (ULONG_PTR)&A33CallLookup,
                        (ULONG_PTR)&WdkmGrtReferenceOrBugCheck) ||
        Out.Bugcheck.Parameter[3] != ((((ULONG_PTR)(ULONG)Kind) << 8) | Irql)) {
        (VOID)snprintf(A33Why, sizeof(A33Why),
                       "%s kind %d size %lu IRQL %u: stops %u code 0x%08X P1 0x%llx P2 0x%llx "
                       "(name %p) P3 0x%llx (caller %p) P4 0x%llx; expected P1 0x%08X",
                       Name != NULL ? Name : "(null)", (int)Kind, (unsigned long)DataSize,
                       (unsigned)Irql, (unsigned)Out.Stops, (unsigned)Out.Bugcheck.Code,
                       (unsigned long long)Out.Bugcheck.Parameter[0],
                       (unsigned long long)Out.Bugcheck.Parameter[1], (PVOID)Name,
                       (unsigned long long)Out.Bugcheck.Parameter[2], (PVOID)(ULONG_PTR)&A33CallLookup,
                       (unsigned long long)Out.Bugcheck.Parameter[3], (unsigned)Expected);
        return FALSE;
    }
    if (Out.Irql != Irql || Out.ApcsDisabled != ApcsDisabled ||
        Out.AllApcsDisabled != AllApcsDisabled || Out.HeldLocks != Held) {
        (VOID)snprintf(A33Why, sizeof(A33Why),
                       "%s (%s) changed the thread: IRQL %u->%u, APCs disabled %d->%d, "
                       "all %d->%d, held %u->%u",
                       Name != NULL ? Name : "(null)", WdkmStatusName(Expected), (unsigned)Irql,
                       (unsigned)Out.Irql, ApcsDisabled, Out.ApcsDisabled, AllApcsDisabled,
                       Out.AllApcsDisabled, (unsigned)Held, (unsigned)Out.HeldLocks);
        if (Out.Irql != Irql) {
            if (Out.Irql > Irql) {
                KeLowerIrql(Irql);
            }
        }
        return FALSE;
    }
    return TRUE;
}

#define CHECK_REFUSED(Name, Kind, Size, Expected)                            \
    do {                                                                     \
        if (!A33RefusedAsDocumented((Name), (Kind), (Size), (Expected))) {   \
            WdkmTestFail(__FILE__, __LINE__, "%s", A33Why);                  \
            return;                                                          \
        }                                                                    \
    } while (0)

static const KIRQL A33Irqls[] = { PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL };

/* Name not found, other kind, other size, at each IRQL allowed, for each
   kind; then nothing is referenced: a zero-timeout destroy frees all. */
static VOID
LookupStopsOnEveryLookupRefusal(VOID)
{
    ULONG IrqlIndex;
    ULONG Index;
    WDKM_GRT_REPORT Report;
    char Missing[] = "a33.missing";

    CHECK(A33Start());
    for (IrqlIndex = 0; IrqlIndex < 3; IrqlIndex += 1) {
        KIRQL Old;

        KeRaiseIrql(A33Irqls[IrqlIndex], &Old);
        for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
            WDKM_LOCK_KIND Kind = A33Kinds[Index];
            WDKM_LOCK_KIND Other = A33Kinds[(Index + 1) % A33_KIND_COUNT];

            CHECK_REFUSED(Missing, Kind, sizeof(A33_DATA), STATUS_OBJECT_NAME_NOT_FOUND);
            CHECK_REFUSED(A33NameOf(Kind), Other, sizeof(A33_DATA), STATUS_WDKM_TYPE_MISMATCH);
            CHECK_REFUSED(A33NameOf(Kind), Kind, sizeof(ULONG64), STATUS_WDKM_TYPE_MISMATCH);
            CHECK_REFUSED(A33NameOf(Kind), Kind, sizeof(A33_DATA) + 1, STATUS_WDKM_TYPE_MISMATCH);
        }
        KeLowerIrql(Old);
    }
    CHECK_EQ(WdkmHostBugcheckCount() > 0, 1);
    CHECK_STATUS(A33StopNow(&Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(Report.UnregisteredReferenced, 0);
    CHECK_EQ(Report.Freed, A33_KIND_COUNT);
}

/* The name errors and the parameter errors, at each IRQL allowed. */
static VOID
LookupStopsOnBadNamesAndParameters(VOID)
{
    ULONG IrqlIndex;
    ULONG Index;
    char Empty[1] = "";
    char Long[WDKM_GRT_MAX_NAME_LENGTH + 2];
    char Longest[WDKM_GRT_MAX_NAME_LENGTH + 1];
    PVOID Lock = (PVOID)&Lock;
    NTSTATUS NullNameStatus;

    memset(Long, 'x', sizeof(Long) - 1);
    Long[sizeof(Long) - 1] = '\0';
    memset(Longest, 'y', sizeof(Longest) - 1);
    Longest[sizeof(Longest) - 1] = '\0';
    CHECK(A33Start());
    /* A NULL name: whatever the plain lookup answers for it, the form
       stops with it (P2 0). */
    NullNameStatus = WdkmGrtReference(NULL, WdkmLockKindKMutex, sizeof(A33_DATA), &Lock);
    CHECK(NullNameStatus != STATUS_SUCCESS);
    CHECK(Lock == NULL);
    for (IrqlIndex = 0; IrqlIndex < 3; IrqlIndex += 1) {
        KIRQL Old;

        KeRaiseIrql(A33Irqls[IrqlIndex], &Old);
        for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
            WDKM_LOCK_KIND Kind = A33Kinds[Index];

            CHECK_REFUSED(Empty, Kind, sizeof(A33_DATA), STATUS_OBJECT_NAME_INVALID);
            CHECK_REFUSED(Long, Kind, sizeof(A33_DATA), STATUS_NAME_TOO_LONG);
            CHECK_REFUSED(Longest, Kind, sizeof(A33_DATA), STATUS_OBJECT_NAME_NOT_FOUND);
            CHECK_REFUSED(NULL, Kind, sizeof(A33_DATA), NullNameStatus);
            CHECK_REFUSED(A33NameOf(Kind), Kind, 0, STATUS_WDKM_TYPE_MISMATCH);
            CHECK_REFUSED(A33NameOf(Kind), Kind, (SIZE_T)WDKM_MAX_DATA_SIZE + 1,
                          STATUS_WDKM_TYPE_MISMATCH);
        }
        /* Kinds that are none of WDKM_LOCK_KIND's: P4 carries the value. */
        CHECK_REFUSED(A33NameOf(WdkmLockKindKMutex), (WDKM_LOCK_KIND)0, sizeof(A33_DATA),
                      STATUS_WDKM_TYPE_MISMATCH);
        CHECK_REFUSED(A33NameOf(WdkmLockKindKMutex), (WDKM_LOCK_KIND)8, sizeof(A33_DATA),
                      STATUS_WDKM_TYPE_MISMATCH);
        CHECK_REFUSED(A33NameOf(WdkmLockKindKMutex), (WDKM_LOCK_KIND)0x7F, sizeof(A33_DATA),
                      STATUS_WDKM_TYPE_MISMATCH);
        KeLowerIrql(Old);
    }
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
}

/* Above DISPATCH_LEVEL: STATUS_WDKM_IRQL_TOO_HIGH, but a bad kind or size
   answers STATUS_WDKM_TYPE_MISMATCH "at any IRQL and state". */
static VOID
LookupStopsAboveDispatchLevel(VOID)
{
    static const KIRQL High[] = { DISPATCH_LEVEL + 1, HIGH_LEVEL };
    ULONG IrqlIndex;
    ULONG Index;

    CHECK(A33Start());
    for (IrqlIndex = 0; IrqlIndex < 2; IrqlIndex += 1) {
        KIRQL Old;

        KeRaiseIrql(High[IrqlIndex], &Old);
        for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
            WDKM_LOCK_KIND Kind = A33Kinds[Index];

            CHECK_REFUSED(A33NameOf(Kind), Kind, sizeof(A33_DATA), STATUS_WDKM_IRQL_TOO_HIGH);
            CHECK_REFUSED("a33.missing", Kind, sizeof(A33_DATA), STATUS_WDKM_IRQL_TOO_HIGH);
            CHECK_REFUSED(A33NameOf(Kind), Kind, 0, STATUS_WDKM_TYPE_MISMATCH);
        }
        CHECK_REFUSED(A33NameOf(WdkmLockKindKMutex), (WDKM_LOCK_KIND)9, sizeof(A33_DATA),
                      STATUS_WDKM_TYPE_MISMATCH);
        KeLowerIrql(Old);
    }
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
}

/* No registry: STATUS_WDKM_NOT_INITIALIZED, before Initialize and after
   Destroy; a bad kind still answers STATUS_WDKM_TYPE_MISMATCH. */
static VOID
LookupStopsWithoutRegistry(VOID)
{
    ULONG IrqlIndex;
    ULONG Round;

    for (Round = 0; Round < 2; Round += 1) {
        if (Round == 1) {
            CHECK(A33Start());
            CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
        }
        for (IrqlIndex = 0; IrqlIndex < 3; IrqlIndex += 1) {
            KIRQL Old;
            ULONG Index;

            KeRaiseIrql(A33Irqls[IrqlIndex], &Old);
            for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
                CHECK_REFUSED("a33.kind1", A33Kinds[Index], sizeof(A33_DATA),
                              STATUS_WDKM_NOT_INITIALIZED);
            }
            CHECK_REFUSED("a33.kind1", (WDKM_LOCK_KIND)0, sizeof(A33_DATA),
                          STATUS_WDKM_TYPE_MISMATCH);
            KeLowerIrql(Old);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Success                                                                 */
/* ---------------------------------------------------------------------- */

/* Acquires Lock (of Kind) with its callback form at the current IRQL,
   checks the value, releases. FALSE if the value is not the kind's. */
static BOOLEAN
A33UseLock(PVOID Lock, WDKM_LOCK_KIND Kind)
{
    A33_DATA *Data = NULL;
    PVOID Returned = NULL;
    BOOLEAN AtDpc = (KeGetCurrentIrql() == DISPATCH_LEVEL);
    KIRQL OldIrql;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    BOOLEAN Good;

    switch (Kind) {
    case WdkmLockKindKMutex:
        Returned = WdkmKMutexAcquireOrBugCheck((PWDKM_KMUTEX)Lock, sizeof(A33_DATA), (PVOID *)&Data);
        break;
    case WdkmLockKindFastMutex:
        Returned = WdkmFastMutexAcquireOrBugCheck((PWDKM_FAST_MUTEX)Lock, sizeof(A33_DATA),
                                                  (PVOID *)&Data);
        break;
    case WdkmLockKindSpinLock:
        Returned = AtDpc ? WdkmSpinLockAcquireAtDpcLevelOrBugCheck((PWDKM_SPIN_LOCK)Lock,
                                                                   sizeof(A33_DATA), (PVOID *)&Data)
                         : WdkmSpinLockAcquireOrBugCheck((PWDKM_SPIN_LOCK)Lock, sizeof(A33_DATA),
                                                         &OldIrql, (PVOID *)&Data);
        break;
    case WdkmLockKindQueuedSpinLock:
        Returned = AtDpc ? WdkmQueuedSpinLockAcquireAtDpcLevelOrBugCheck(
                               (PWDKM_QUEUED_SPIN_LOCK)Lock, sizeof(A33_DATA), &Handle,
                               (PVOID *)&Data)
                         : WdkmQueuedSpinLockAcquireOrBugCheck((PWDKM_QUEUED_SPIN_LOCK)Lock,
                                                               sizeof(A33_DATA), &Handle,
                                                               (PVOID *)&Data);
        break;
    case WdkmLockKindGuardedMutex:
        Returned = WdkmGuardedMutexAcquireOrBugCheck((PWDKM_GUARDED_MUTEX)Lock, sizeof(A33_DATA),
                                                     (PVOID *)&Data);
        break;
    case WdkmLockKindResource:
        Returned = WdkmResourceAcquireExclusiveOrBugCheck((PWDKM_RESOURCE)Lock, sizeof(A33_DATA),
                                                          (PVOID *)&Data);
        break;
    case WdkmLockKindPushLock:
        Returned = WdkmPushLockAcquireExclusiveOrBugCheck((PWDKM_PUSH_LOCK)Lock, sizeof(A33_DATA),
                                                          (PVOID *)&Data);
        break;
    }
    Good = (Returned == (PVOID)Data && Data != NULL && Data->Magic == A33_MAGIC &&
            Data->Kind == (ULONG64)Kind);
    switch (Kind) {
    case WdkmLockKindKMutex:
        (VOID)WdkmKMutexRelease((PWDKM_KMUTEX)Lock);
        break;
    case WdkmLockKindFastMutex:
        (VOID)WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock);
        break;
    case WdkmLockKindSpinLock:
        if (AtDpc) {
            (VOID)WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)Lock);
        } else {
            (VOID)WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, OldIrql);
        }
        break;
    case WdkmLockKindQueuedSpinLock:
        (VOID)WdkmQueuedSpinLockRelease(&Handle);
        break;
    case WdkmLockKindGuardedMutex:
        (VOID)WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Lock);
        break;
    case WdkmLockKindResource:
        (VOID)WdkmResourceRelease((PWDKM_RESOURCE)Lock);
        break;
    case WdkmLockKindPushLock:
        (VOID)WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock);
        break;
    }
    return Good;
}

/* The typed macro of each kind, as a driver writes it. */
static PVOID
A33TypedLookup(WDKM_LOCK_KIND Kind)
{
    PCSTR Name = A33NameOf(Kind);

    switch (Kind) {
    case WdkmLockKindKMutex:
        return WDKM_GRT_GET_KMUTEX_OR_BUGCHECK(Name, A33_DATA);
    case WdkmLockKindFastMutex:
        return WDKM_GRT_GET_FAST_MUTEX_OR_BUGCHECK(Name, A33_DATA);
    case WdkmLockKindSpinLock:
        return WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK(Name, A33_DATA);
    case WdkmLockKindQueuedSpinLock:
        return WDKM_GRT_GET_QUEUED_SPIN_LOCK_OR_BUGCHECK(Name, A33_DATA);
    case WdkmLockKindGuardedMutex:
        return WDKM_GRT_GET_GUARDED_MUTEX_OR_BUGCHECK(Name, A33_DATA);
    case WdkmLockKindResource:
        return WDKM_GRT_GET_RESOURCE_OR_BUGCHECK(Name, A33_DATA);
    case WdkmLockKindPushLock:
        return WDKM_GRT_GET_PUSH_LOCK_OR_BUGCHECK(Name, A33_DATA);
    }
    return NULL;
}

/* At PASSIVE, APC and DISPATCH level, each kind's typed form returns the
   registered lock (the plain lookup's), referenced: usable at once where
   the kind allows it, and again after the IRQL is lowered; the
   dereference succeeds and the registry then frees everything at once. */
static VOID
LookupSucceedsAtEveryIrqlAllowed(VOID)
{
    ULONG IrqlIndex;
    ULONG Index;
    WDKM_GRT_REPORT Report;
    ULONG Stops = WdkmHostBugcheckCount();
    ULONG Held = WdkmHostThreadHeldLockCount();

    CHECK(A33Start());
    for (IrqlIndex = 0; IrqlIndex < 3; IrqlIndex += 1) {
        KIRQL Irql = A33Irqls[IrqlIndex];

        for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
            WDKM_LOCK_KIND Kind = A33Kinds[Index];
            PVOID Plain = NULL;
            PVOID Lock;
            KIRQL Old;
            BOOLEAN UsableThere = TRUE;

            CHECK_STATUS(WdkmGrtReference(A33NameOf(Kind), Kind, sizeof(A33_DATA), &Plain),
                         STATUS_SUCCESS);
            KeRaiseIrql(Irql, &Old);
            Lock = A33TypedLookup(Kind);
            if (Irql == DISPATCH_LEVEL ? A33IsSpinKind(Kind) :
                Irql == APC_LEVEL ? (Kind != WdkmLockKindResource && Kind != WdkmLockKindPushLock) :
                TRUE) {
                UsableThere = A33UseLock(Lock, Kind);
            }
            CHECK_EQ(KeGetCurrentIrql(), Irql);
            KeLowerIrql(Old);
            CHECK(Lock == Plain);
            CHECK(UsableThere);
            /* The unregistered name's lock lives on for its references. */
            CHECK(A33UseLock(Lock, Kind));
            CHECK_STATUS(WdkmGrtDereference(Plain), STATUS_SUCCESS);
            KeRaiseIrql(Irql, &Old);
            CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
            KeLowerIrql(Old);
        }
    }
    CHECK_EQ(WdkmHostBugcheckCount(), Stops);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), Held);
    CHECK_STATUS(A33StopNow(&Report), STATUS_SUCCESS);
    CHECK_EQ(Report.Freed, A33_KIND_COUNT);
}

/* A reference from the form keeps an unregistered lock alive and usable;
   its dereference frees it (the pool goes back). */
static VOID
LookupReferenceOutlivesUnregister(VOID)
{
    ULONG Index;
    LONG PoolBefore;

    CHECK(A33Start());
    PoolBefore = WdkmTestPoolOutstanding();
    for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
        WDKM_LOCK_KIND Kind = A33Kinds[Index];
        PVOID Lock = A33TypedLookup(Kind);
        PVOID Again = (PVOID)&Again;

        CHECK_STATUS(WdkmGrtUnregister(A33NameOf(Kind)), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtReference(A33NameOf(Kind), Kind, sizeof(A33_DATA), &Again),
                     STATUS_OBJECT_NAME_NOT_FOUND);
        CHECK(A33UseLock(Lock, Kind));
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        CHECK(WdkmTestPoolOutstanding() < PoolBefore);
        PoolBefore = WdkmTestPoolOutstanding();
    }
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* DPCs and special kernel APCs over the thread's registry locks           */
/* ---------------------------------------------------------------------- */

typedef struct _A33_EVENT_RESULT {
    ULONG Ran;
    KIRQL Irql;
    ULONG Looked;                 /* lookups that returned the plain lookup's lock */
    ULONG Used;                   /* locks acquired, value checked, released */
    ULONG Dereferenced;           /* dereferences answered STATUS_SUCCESS */
    NTSTATUS FirstFailedDereference;
    BOOLEAN Refused;              /* the failing lookup stopped as documented */
    char Why[256];
} A33_EVENT_RESULT;

static A33_EVENT_RESULT A33Event;
static PVOID A33EventExpected[8];

static VOID
A33EventRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    ULONG Index;
    A33_EVENT_RESULT *Result = &A33Event;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    Result->Ran += 1;
    Result->Irql = KeGetCurrentIrql();
    Result->FirstFailedDereference = STATUS_SUCCESS;
    for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
        WDKM_LOCK_KIND LockKind = A33Kinds[Index];
        PVOID Lock = A33TypedLookup(LockKind);
        NTSTATUS Status;

        if (Lock == A33EventExpected[LockKind]) {
            Result->Looked += 1;
        }
        /* What may be taken here and is not held by the thread below. */
        if ((A33IsSpinKind(LockKind)) ||
            (Result->Irql == APC_LEVEL && (LockKind == WdkmLockKindFastMutex ||
                                           LockKind == WdkmLockKindGuardedMutex))) {
            if (A33UseLock(Lock, LockKind)) {
                Result->Used += 1;
            }
        }
        Status = WdkmGrtDereference(Lock);
        if (Status == STATUS_SUCCESS) {
            Result->Dereferenced += 1;
        } else if (Result->FirstFailedDereference == STATUS_SUCCESS) {
            Result->FirstFailedDereference = Status;
        }
    }
    Result->Refused = A33RefusedAsDocumented("a33.none", WdkmLockKindSpinLock, sizeof(A33_DATA),
                                             STATUS_OBJECT_NAME_NOT_FOUND) &&
                      A33RefusedAsDocumented(A33NameOf(WdkmLockKindKMutex), WdkmLockKindKMutex,
                                             sizeof(ULONG), STATUS_WDKM_TYPE_MISMATCH);
    if (!Result->Refused) {
        memcpy(Result->Why, A33Why, sizeof(Result->Why));
    }
}

/* Takes the plain references the event compares with, holds the kinds the
   thread may hold across the event (KMUTEX, ERESOURCE exclusive, push lock
   shared), queues Kind on itself, and checks what the event saw. */
static VOID
A33EventOverHeldLocks(WDKM_HOST_INTERRUPT Kind, KIRQL ExpectedIrql)
{
    ULONG Index;
    PVOID Mutex, Resource, PushLock;
    A33_DATA *MutexData;
    A33_DATA *ResourceData;
    const A33_DATA *PushData;
    ULONG Stops;

    CHECK(A33Start());
    for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
        WDKM_LOCK_KIND LockKind = A33Kinds[Index];

        CHECK_STATUS(WdkmGrtReference(A33NameOf(LockKind), LockKind, sizeof(A33_DATA),
                                      &A33EventExpected[LockKind]),
                     STATUS_SUCCESS);
    }
    Mutex = A33EventExpected[WdkmLockKindKMutex];
    Resource = A33EventExpected[WdkmLockKindResource];
    PushLock = A33EventExpected[WdkmLockKindPushLock];
    CHECK_STATUS(WdkmKMutexAcquire((PWDKM_KMUTEX)Mutex, sizeof(A33_DATA), (PVOID *)&MutexData),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Resource, sizeof(A33_DATA),
                                              (PVOID *)&ResourceData),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)PushLock, sizeof(A33_DATA),
                                           (const VOID **)&PushData),
                 STATUS_SUCCESS);
    memset(&A33Event, 0, sizeof(A33Event));
    Stops = WdkmHostBugcheckCount();
    WdkmHostQueueInterrupt(KeGetCurrentThread(), Kind, A33EventRoutine, NULL);
    CHECK_EQ(A33Event.Ran, 1);     /* the thread is unmasked: it ran at once */
    CHECK_STATUS(WdkmPushLockRelease((PWDKM_PUSH_LOCK)PushLock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceRelease((PWDKM_RESOURCE)Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease((PWDKM_KMUTEX)Mutex), STATUS_SUCCESS);
    if (!A33Event.Refused) {
        WdkmTestFail(__FILE__, __LINE__, "in the event: %s", A33Event.Why);
        return;
    }
    CHECK_EQ(A33Event.Irql, ExpectedIrql);
    CHECK_EQ(A33Event.Looked, A33_KIND_COUNT);
    CHECK_EQ(A33Event.Used, ExpectedIrql == APC_LEVEL ? 4 : 2);
    CHECK_STATUS(A33Event.FirstFailedDereference, STATUS_SUCCESS);
    CHECK_EQ(A33Event.Dereferenced, A33_KIND_COUNT);
    CHECK_EQ(WdkmHostBugcheckCount() - Stops, 2);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(KeAreApcsDisabled(), FALSE);
    for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
        CHECK_STATUS(WdkmGrtDereference(A33EventExpected[A33Kinds[Index]]), STATUS_SUCCESS);
    }
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
}

static VOID
LookupInDpcOverHeldRegistryLocks(VOID)
{
    A33EventOverHeldLocks(WdkmHostInterruptDpc, DISPATCH_LEVEL);
}

static VOID
LookupInSpecialApcOverHeldRegistryLocks(VOID)
{
    A33EventOverHeldLocks(WdkmHostInterruptSpecialApc, APC_LEVEL);
}

/* ---------------------------------------------------------------------- */
/* WdkmGrtDestroy under way                                                */
/* ---------------------------------------------------------------------- */

static LONG volatile A33HolderGo;
static LONG volatile A33HolderHas;
static NTSTATUS volatile A33DestroyStatus;
static LONGLONG volatile A33DestroyMs;

static VOID
A33Holder(PVOID Context, ULONG Index)
{
    PWDKM_KMUTEX Mutex;

    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    Mutex = WDKM_GRT_GET_KMUTEX_OR_BUGCHECK(A33NameOf(WdkmLockKindKMutex), A33_DATA);
    InterlockedExchange(&A33HolderHas, 1);
    while (InterlockedCompareExchange(&A33HolderGo, 0, 0) == 0) {
        WdkmTestSleepMs(1);
    }
    (VOID)WdkmGrtDereference(Mutex);
}

static VOID
A33Destroyer(PVOID Context, ULONG Index)
{
    LARGE_INTEGER Timeout;
    LONGLONG Start = WdkmTestNowMs();

    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Index);
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(20000);
    A33DestroyStatus = WdkmGrtDestroy(&Timeout, NULL);
    A33DestroyMs = WdkmTestNowMs() - Start;
}

/* While a destroy waits for a reference: STATUS_DELETE_PENDING stops, at
   each IRQL; they hold the destroy up in no way (it ends as soon as the
   holder lets go); afterwards STATUS_WDKM_NOT_INITIALIZED. */
static VOID
LookupStopsWhileDestroyRuns(VOID)
{
    WDKM_TEST_THREAD *Holder;
    WDKM_TEST_THREAD *Destroyer;
    PVOID Lock = NULL;
    ULONG Tries;
    ULONG IrqlIndex;
    LONGLONG Released;

    CHECK(A33Start());
    A33HolderGo = 0;
    A33HolderHas = 0;
    A33DestroyStatus = STATUS_PENDING;
    Holder = WdkmTestStartThread(A33Holder, NULL);
    CHECK(Holder != NULL);
    while (InterlockedCompareExchange(&A33HolderHas, 0, 0) == 0) {
        WdkmTestSleepMs(1);
    }
    Destroyer = WdkmTestStartThread(A33Destroyer, NULL);
    CHECK(Destroyer != NULL);
    for (Tries = 0; Tries < 5000; Tries += 1) {
        NTSTATUS Status = WdkmGrtReference(A33NameOf(WdkmLockKindSpinLock),
                                           WdkmLockKindSpinLock, sizeof(A33_DATA), &Lock);
        if (Status == STATUS_SUCCESS) {
            (VOID)WdkmGrtDereference(Lock);
        }
        if (Status == STATUS_DELETE_PENDING) {
            break;
        }
        WdkmTestSleepMs(1);
    }
    for (IrqlIndex = 0; IrqlIndex < 3; IrqlIndex += 1) {
        KIRQL Old;
        ULONG Index;

        KeRaiseIrql(A33Irqls[IrqlIndex], &Old);
        for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
            WDKM_LOCK_KIND Kind = A33Kinds[Index];

            if (!A33RefusedAsDocumented(A33NameOf(Kind), Kind, sizeof(A33_DATA),
                                        STATUS_DELETE_PENDING) ||
                !A33RefusedAsDocumented("a33.none", Kind, sizeof(A33_DATA),
                                        STATUS_DELETE_PENDING)) {
                KeLowerIrql(Old);
                InterlockedExchange(&A33HolderGo, 1);
                WdkmTestJoinThread(Holder);
                WdkmTestJoinThread(Destroyer);
                WdkmTestFail(__FILE__, __LINE__, "%s", A33Why);
                return;
            }
        }
        KeLowerIrql(Old);
    }
    CHECK_EQ(A33DestroyStatus, STATUS_PENDING);   /* still waiting for the holder */
    Released = WdkmTestNowMs();
    InterlockedExchange(&A33HolderGo, 1);
    WdkmTestJoinThread(Holder);
    WdkmTestJoinThread(Destroyer);
    CHECK_STATUS(A33DestroyStatus, STATUS_SUCCESS);
    /* The refused lookups are in flight no more: the destroy ended with the
       holder's dereference, not at its 20 s timeout. */
    CHECK(WdkmTestNowMs() - Released < 5000);
    CHECK_REFUSED(A33NameOf(WdkmLockKindKMutex), WdkmLockKindKMutex, sizeof(A33_DATA),
                  STATUS_WDKM_NOT_INITIALIZED);
}

/* ---------------------------------------------------------------------- */
/* Concurrent writers                                                      */
/* ---------------------------------------------------------------------- */

static LONG volatile A33WritersStop;
static LONG volatile A33ReaderStops;
static LONG volatile A33ReaderBadValues;
static LONG volatile A33ReaderRounds;
static LONG volatile A33EventLookups;

/* Replaces "a33.kind3" (same kind and type, so that it stays registered)
   and registers and unregisters other names (the table grows and
   shrinks), until told to stop. */
static VOID
A33Writer(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Context);
    while (InterlockedCompareExchange(&A33WritersStop, 0, 0) == 0) {
        A33_DATA Value;
        char Name[32];
        ULONG Each;

        Value.Magic = A33_MAGIC;
        Value.Kind = WdkmLockKindSpinLock;
        (VOID)WDKM_GRT_REPLACE_SPIN_LOCK(A33NameOf(WdkmLockKindSpinLock), &Value);
        Value.Kind = WdkmLockKindKMutex;
        (VOID)WDKM_GRT_REPLACE_KMUTEX(A33NameOf(WdkmLockKindKMutex), &Value);
        for (Each = 0; Each < 40; Each += 1) {
            (VOID)snprintf(Name, sizeof(Name), "a33.w%u.%u", (unsigned)Index, (unsigned)Each);
            (VOID)WDKM_GRT_REGISTER_PUSH_LOCK(Name, &Value);
        }
        for (Each = 0; Each < 40; Each += 1) {
            (VOID)snprintf(Name, sizeof(Name), "a33.w%u.%u", (unsigned)Index, (unsigned)Each);
            (VOID)WdkmGrtUnregister(Name);
        }
    }
}

static __attribute__((noinline)) VOID
A33ReadOnce(KIRQL Irql)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KIRQL Old;

    KeRaiseIrql(Irql, &Old);
    if (WDKM_HOST_TRY(&Trap)) {
        PWDKM_SPIN_LOCK Spin =
            WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK(A33NameOf(WdkmLockKindSpinLock), A33_DATA);
        PWDKM_KMUTEX Mutex =
            WDKM_GRT_GET_KMUTEX_OR_BUGCHECK(A33NameOf(WdkmLockKindKMutex), A33_DATA);

        WdkmHostDisarm(&Trap);
        if (!A33UseLock(Spin, WdkmLockKindSpinLock)) {
            InterlockedIncrement(&A33ReaderBadValues);
        }
        if (Irql == PASSIVE_LEVEL && !A33UseLock(Mutex, WdkmLockKindKMutex)) {
            InterlockedIncrement(&A33ReaderBadValues);
        }
        if (WdkmGrtDereference(Spin) != STATUS_SUCCESS ||
            WdkmGrtDereference(Mutex) != STATUS_SUCCESS) {
            InterlockedIncrement(&A33ReaderBadValues);
        }
    } else {
        InterlockedIncrement(&A33ReaderStops);
    }
    KeLowerIrql(Old);
}

static VOID
A33Reader(PVOID Context, ULONG Index)
{
    ULONG Round;
    LONGLONG Start = WdkmTestNowMs();

    UNREFERENCED_PARAMETER(Context);
    /* 3000 rounds, and on until injected events have looked up too (a
       scheduler may let a short run go uninterrupted), for 10 s at most. */
    for (Round = 0; Round < 3000 || (InterlockedCompareExchange(&A33EventLookups, 0, 0) < 20 &&
                                     WdkmTestNowMs() - Start < 10000);
         Round += 1) {
        A33ReadOnce((Round + Index) % 2 == 0 ? PASSIVE_LEVEL : DISPATCH_LEVEL);
        InterlockedIncrement(&A33ReaderRounds);
    }
}

static VOID
A33WriterOrReader(PVOID Context, ULONG Index)
{
    if (Index == 0) {
        A33Writer(Context, Index);
    } else {
        A33Reader(Context, Index);
        if (InterlockedIncrement((LONG volatile *)Context) == 2) {
            InterlockedExchange(&A33WritersStop, 1);
        }
    }
}

/* Injected at random into the readers and the writer: a DPC or kernel APC
   that looks the kept name up with the form, uses it and gives it back. */

static __attribute__((noinline)) VOID
A33RandomEvent(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    if (WDKM_HOST_TRY(&Trap)) {
        PWDKM_SPIN_LOCK Spin =
            WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK(A33NameOf(WdkmLockKindSpinLock), A33_DATA);

        WdkmHostDisarm(&Trap);
        if (!A33UseLock(Spin, WdkmLockKindSpinLock) ||
            WdkmGrtDereference(Spin) != STATUS_SUCCESS) {
            InterlockedIncrement(&A33ReaderBadValues);
        }
        InterlockedIncrement(&A33EventLookups);
    } else {
        InterlockedIncrement(&A33ReaderStops);
    }
}

/* A name kept registered (replaced over and over, while other names come
   and go) never makes the form stop, and every lock it returns holds its
   kind's value: in the threads and in DPCs and APCs injected into them. */
static VOID
LookupNeverStopsWhileNameStaysRegistered(VOID)
{
    LONG ReadersDone = 0;

    CHECK(A33Start());
    A33WritersStop = 0;
    A33ReaderStops = 0;
    A33ReaderBadValues = 0;
    A33ReaderRounds = 0;
    A33EventLookups = 0;
    {
        WDKM_HOST_INTERRUPT_SETTINGS Settings;
        BOOLEAN Ran;

        memset(&Settings, 0, sizeof(Settings));
        Settings.Seed = 33;
        Settings.MeanIntervalMicroseconds = 200;
        Settings.DpcWeight = 2;
        Settings.NormalApcWeight = 1;
        Settings.SpecialApcWeight = 2;
        Settings.SuspendMaxMicroseconds = 50;
        Settings.Routine = A33RandomEvent;
        WdkmHostInterruptsStart(&Settings);
        Ran = WdkmTestRunThreads(3, A33WriterOrReader, (PVOID)&ReadersDone);
        WdkmHostInterruptsStop();
        CHECK(Ran);
    }
    CHECK(A33EventLookups > 0);
    CHECK(A33ReaderRounds >= 6000);
    CHECK_EQ(A33ReaderStops, 0);
    CHECK_EQ(A33ReaderBadValues, 0);
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* The acquisitions' callback forms                                        */
/* ---------------------------------------------------------------------- */

typedef enum _A33_FORM {
    A33FormKMutex, A33FormFastMutex, A33FormSpin, A33FormSpinAtDpc, A33FormQueued,
    A33FormQueuedAtDpc, A33FormGuarded, A33FormResourceExclusive, A33FormResourceShared,
    A33FormPushExclusive, A33FormPushShared, A33FormCount
} A33_FORM;

static const WDKM_LOCK_KIND A33FormKind[A33FormCount] = {
    WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock, WdkmLockKindSpinLock,
    WdkmLockKindQueuedSpinLock, WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex,
    WdkmLockKindResource, WdkmLockKindResource, WdkmLockKindPushLock, WdkmLockKindPushLock,
};

static KIRQL A33FormOldIrql;
static WDKM_LOCK_QUEUE_HANDLE A33FormHandle;

/* Calls one callback form; the store after it keeps it from being a tail
   call, so P3 returns here. */
static __attribute__((noinline)) PVOID
A33CallForm(A33_FORM Form, PVOID Lock, SIZE_T DataSize)
{
    PVOID Data = NULL;
    PVOID Returned = NULL;

    switch (Form) {
    case A33FormKMutex:
        Returned = WdkmKMutexAcquireOrBugCheck((PWDKM_KMUTEX)Lock, DataSize, &Data);
        break;
    case A33FormFastMutex:
        Returned = WdkmFastMutexAcquireOrBugCheck((PWDKM_FAST_MUTEX)Lock, DataSize, &Data);
        break;
    case A33FormSpin:
        Returned = WdkmSpinLockAcquireOrBugCheck((PWDKM_SPIN_LOCK)Lock, DataSize, &A33FormOldIrql,
                                                 &Data);
        break;
    case A33FormSpinAtDpc:
        Returned = WdkmSpinLockAcquireAtDpcLevelOrBugCheck((PWDKM_SPIN_LOCK)Lock, DataSize, &Data);
        break;
    case A33FormQueued:
        Returned = WdkmQueuedSpinLockAcquireOrBugCheck((PWDKM_QUEUED_SPIN_LOCK)Lock, DataSize,
                                                       &A33FormHandle, &Data);
        break;
    case A33FormQueuedAtDpc:
        Returned = WdkmQueuedSpinLockAcquireAtDpcLevelOrBugCheck((PWDKM_QUEUED_SPIN_LOCK)Lock,
                                                                 DataSize, &A33FormHandle, &Data);
        break;
    case A33FormGuarded:
        Returned = WdkmGuardedMutexAcquireOrBugCheck((PWDKM_GUARDED_MUTEX)Lock, DataSize, &Data);
        break;
    case A33FormResourceExclusive:
        Returned = WdkmResourceAcquireExclusiveOrBugCheck((PWDKM_RESOURCE)Lock, DataSize, &Data);
        break;
    case A33FormResourceShared:
        Returned = (PVOID)WdkmResourceAcquireSharedOrBugCheck((PWDKM_RESOURCE)Lock, DataSize,
                                                              (const VOID **)&Data);
        break;
    case A33FormPushExclusive:
        Returned = WdkmPushLockAcquireExclusiveOrBugCheck((PWDKM_PUSH_LOCK)Lock, DataSize, &Data);
        break;
    case A33FormPushShared:
        Returned = (PVOID)WdkmPushLockAcquireSharedOrBugCheck((PWDKM_PUSH_LOCK)Lock, DataSize,
                                                              (const VOID **)&Data);
        break;
    case A33FormCount:
        break;
    }
    A33Sink = Data;
    return Returned;
}

static ULONG_PTR
A33FormFunction(A33_FORM Form)
{
    switch (Form) {
    case A33FormKMutex: return (ULONG_PTR)&WdkmKMutexAcquireOrBugCheck;
    case A33FormFastMutex: return (ULONG_PTR)&WdkmFastMutexAcquireOrBugCheck;
    case A33FormSpin: return (ULONG_PTR)&WdkmSpinLockAcquireOrBugCheck;
    case A33FormSpinAtDpc: return (ULONG_PTR)&WdkmSpinLockAcquireAtDpcLevelOrBugCheck;
    case A33FormQueued: return (ULONG_PTR)&WdkmQueuedSpinLockAcquireOrBugCheck;
    case A33FormQueuedAtDpc: return (ULONG_PTR)&WdkmQueuedSpinLockAcquireAtDpcLevelOrBugCheck;
    case A33FormGuarded: return (ULONG_PTR)&WdkmGuardedMutexAcquireOrBugCheck;
    case A33FormResourceExclusive: return (ULONG_PTR)&WdkmResourceAcquireExclusiveOrBugCheck;
    case A33FormResourceShared: return (ULONG_PTR)&WdkmResourceAcquireSharedOrBugCheck;
    case A33FormPushExclusive: return (ULONG_PTR)&WdkmPushLockAcquireExclusiveOrBugCheck;
    case A33FormPushShared: return (ULONG_PTR)&WdkmPushLockAcquireSharedOrBugCheck;
    case A33FormCount: break;
    }
    return 0;
}

/* The plain form's status under the same conditions (released again on
   success). */
static NTSTATUS
A33PlainForm(A33_FORM Form, PVOID Lock, SIZE_T DataSize)
{
    PVOID Data = NULL;
    NTSTATUS Status = STATUS_UNSUCCESSFUL;
    KIRQL Old;
    WDKM_LOCK_QUEUE_HANDLE Handle;

    switch (Form) {
    case A33FormKMutex:
        Status = WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, DataSize, &Data);
        if (Status == STATUS_SUCCESS) (VOID)WdkmKMutexRelease((PWDKM_KMUTEX)Lock);
        break;
    case A33FormFastMutex:
        Status = WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock, DataSize, &Data);
        if (Status == STATUS_SUCCESS) (VOID)WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock);
        break;
    case A33FormSpin:
        Status = WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock, DataSize, &Old, &Data);
        if (Status == STATUS_SUCCESS) (VOID)WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, Old);
        break;
    case A33FormSpinAtDpc:
        Status = WdkmSpinLockAcquireAtDpcLevel((PWDKM_SPIN_LOCK)Lock, DataSize, &Data);
        if (Status == STATUS_SUCCESS) (VOID)WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)Lock);
        break;
    case A33FormQueued:
        Status = WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Lock, DataSize, &Handle, &Data);
        if (Status == STATUS_SUCCESS) (VOID)WdkmQueuedSpinLockRelease(&Handle);
        break;
    case A33FormQueuedAtDpc:
        Status = WdkmQueuedSpinLockAcquireAtDpcLevel((PWDKM_QUEUED_SPIN_LOCK)Lock, DataSize,
                                                     &Handle, &Data);
        if (Status == STATUS_SUCCESS) (VOID)WdkmQueuedSpinLockRelease(&Handle);
        break;
    case A33FormGuarded:
        Status = WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)Lock, DataSize, &Data);
        if (Status == STATUS_SUCCESS) (VOID)WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Lock);
        break;
    case A33FormResourceExclusive:
        Status = WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Lock, DataSize, &Data);
        if (Status == STATUS_SUCCESS) (VOID)WdkmResourceRelease((PWDKM_RESOURCE)Lock);
        break;
    case A33FormResourceShared:
        Status = WdkmResourceAcquireShared((PWDKM_RESOURCE)Lock, DataSize, (const VOID **)&Data);
        if (Status == STATUS_SUCCESS) (VOID)WdkmResourceRelease((PWDKM_RESOURCE)Lock);
        break;
    case A33FormPushExclusive:
        Status = WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)Lock, DataSize, &Data);
        if (Status == STATUS_SUCCESS) (VOID)WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock);
        break;
    case A33FormPushShared:
        Status = WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)Lock, DataSize, (const VOID **)&Data);
        if (Status == STATUS_SUCCESS) (VOID)WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock);
        break;
    case A33FormCount:
        break;
    }
    return Status;
}

static __attribute__((noinline)) VOID
A33TryForm(A33_FORM Form, PVOID Lock, SIZE_T DataSize, A33_OUTCOME *Out)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    ULONG Before = WdkmHostBugcheckCount();

    memset(Out, 0, sizeof(*Out));
    if (WDKM_HOST_TRY(&Trap)) {
        Out->Returned = A33CallForm(Form, Lock, DataSize);
        WdkmHostDisarm(&Trap);
    } else {
        Out->Stopped = TRUE;
        Out->Bugcheck = Trap.Bugcheck;
    }
    A33Settle(Out, Before);
}

/* The plain form refuses with Expected; the callback form stops with
   P1 Expected, P2 the handle, P3 into A33CallForm, P4 the form's kind and
   the IRQL, and changes nothing. */
static BOOLEAN
A33FormRefusedAsDocumented(A33_FORM Form, PVOID Lock, SIZE_T DataSize, NTSTATUS Expected)
{
    A33_OUTCOME Out;
    NTSTATUS Plain;
    KIRQL Irql = KeGetCurrentIrql();
    BOOLEAN ApcsDisabled = KeAreApcsDisabled();
    BOOLEAN AllApcsDisabled = KeAreAllApcsDisabled();
    ULONG Held = WdkmHostThreadHeldLockCount();

    Plain = A33PlainForm(Form, Lock, DataSize);
    if (Plain != Expected) {
        (VOID)snprintf(A33Why, sizeof(A33Why), "plain form %d at IRQL %u: %s, expected %s",
                       (int)Form, (unsigned)Irql, WdkmStatusName(Plain), WdkmStatusName(Expected));
        return FALSE;
    }
    A33TryForm(Form, Lock, DataSize, &Out);
    if (!Out.Stopped) {
        (VOID)snprintf(A33Why, sizeof(A33Why), "form %d at IRQL %u returned %p (plain %s)",
                       (int)Form, (unsigned)Irql, Out.Returned, WdkmStatusName(Plain));
        return FALSE;
    }
    if (Out.Stops != 1 || Out.Bugcheck.Code != WDKM_BUGCHECK_LOCK_MISUSE ||
        Out.Bugcheck.Parameter[0] != (ULONG_PTR)(ULONG)Expected ||
        Out.Bugcheck.Parameter[1] != (ULONG_PTR)Lock ||
        !A33ReturnsInto(Out.Bugcheck.Parameter[2], (ULONG_PTR)&A33CallForm, A33FormFunction(Form)) ||
        Out.Bugcheck.Parameter[3] != ((((ULONG_PTR)A33FormKind[Form]) << 8) | Irql)) {
        (VOID)snprintf(A33Why, sizeof(A33Why),
                       "form %d IRQL %u: stops %u code 0x%08X P1 0x%llx P2 0x%llx (lock %p) "
                       "P3 0x%llx P4 0x%llx; expected P1 0x%08X",
                       (int)Form, (unsigned)Irql, (unsigned)Out.Stops, (unsigned)Out.Bugcheck.Code,
                       (unsigned long long)Out.Bugcheck.Parameter[0],
                       (unsigned long long)Out.Bugcheck.Parameter[1], Lock,
                       (unsigned long long)Out.Bugcheck.Parameter[2],
                       (unsigned long long)Out.Bugcheck.Parameter[3], (unsigned)Expected);
        return FALSE;
    }
    if (Out.Irql != Irql || Out.ApcsDisabled != ApcsDisabled ||
        Out.AllApcsDisabled != AllApcsDisabled || Out.HeldLocks != Held) {
        (VOID)snprintf(A33Why, sizeof(A33Why),
                       "form %d (%s) changed the thread: IRQL %u->%u, APCs disabled %d->%d, "
                       "all %d->%d, held %u->%u",
                       (int)Form, WdkmStatusName(Expected), (unsigned)Irql, (unsigned)Out.Irql,
                       ApcsDisabled, Out.ApcsDisabled, AllApcsDisabled, Out.AllApcsDisabled,
                       (unsigned)Held, (unsigned)Out.HeldLocks);
        if (Out.Irql > Irql) {
            KeLowerIrql(Irql);
        }
        return FALSE;
    }
    return TRUE;
}

#define CHECK_FORM_REFUSED(Form, Lock, Size, Expected)                              \
    do {                                                                            \
        if (!A33FormRefusedAsDocumented((Form), (Lock), (Size), (Expected))) {      \
            WdkmTestFail(__FILE__, __LINE__, "%s", A33Why);                         \
            return;                                                                 \
        }                                                                           \
    } while (0)

static PVOID A33Locks[8];

static BOOLEAN
A33GetAll(VOID)
{
    ULONG Index;

    for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
        WDKM_LOCK_KIND Kind = A33Kinds[Index];

        if (WdkmGrtReference(A33NameOf(Kind), Kind, sizeof(A33_DATA), &A33Locks[Kind]) !=
            STATUS_SUCCESS) {
            return FALSE;
        }
    }
    return TRUE;
}

static VOID
A33PutAll(VOID)
{
    ULONG Index;

    for (Index = 0; Index < A33_KIND_COUNT; Index += 1) {
        (VOID)WdkmGrtDereference(A33Locks[A33Kinds[Index]]);
    }
}

/* Every form: a handle of another kind, a type of another size, and the
   IRQL misuses, each a stop with the documented parameters and nothing
   changed (the lock is free afterwards: a plain acquire succeeds). */
static VOID
AcquisitionFormsStopAsDocumented(VOID)
{
    ULONG FormIndex;

    CHECK(A33Start());
    CHECK(A33GetAll());
    for (FormIndex = 0; FormIndex < A33FormCount; FormIndex += 1) {
        A33_FORM Form = (A33_FORM)FormIndex;
        WDKM_LOCK_KIND Kind = A33FormKind[Form];
        PVOID Own = A33Locks[Kind];
        PVOID Other = A33Locks[Kind == WdkmLockKindKMutex ? WdkmLockKindSpinLock :
                               WdkmLockKindKMutex];
        BOOLEAN AtDpcForm = (Form == A33FormSpinAtDpc || Form == A33FormQueuedAtDpc);
        KIRQL Right = AtDpcForm ? DISPATCH_LEVEL : PASSIVE_LEVEL;
        KIRQL Old;

        KeRaiseIrql(Right, &Old);
        CHECK_FORM_REFUSED(Form, Other, sizeof(A33_DATA), STATUS_WDKM_TYPE_MISMATCH);
        CHECK_FORM_REFUSED(Form, Own, sizeof(ULONG64), STATUS_WDKM_TYPE_MISMATCH);
        KeLowerIrql(Old);
        if (AtDpcForm) {
            CHECK_FORM_REFUSED(Form, Own, sizeof(A33_DATA), STATUS_WDKM_IRQL_MISMATCH);
            KeRaiseIrql(APC_LEVEL, &Old);
            CHECK_FORM_REFUSED(Form, Own, sizeof(A33_DATA), STATUS_WDKM_IRQL_MISMATCH);
            KeLowerIrql(Old);
        } else if (!A33IsSpinKind(Kind)) {
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
            CHECK_FORM_REFUSED(Form, Own, sizeof(A33_DATA), STATUS_WDKM_IRQL_TOO_HIGH);
            KeLowerIrql(Old);
        }
        KeRaiseIrql(HIGH_LEVEL, &Old);
        CHECK_FORM_REFUSED(Form, Own, sizeof(A33_DATA), STATUS_WDKM_IRQL_TOO_HIGH);
        KeLowerIrql(Old);
        /* Nothing held: the plain form takes it now. */
        KeRaiseIrql(Right, &Old);
        CHECK_STATUS(A33PlainForm(Form, Own, sizeof(A33_DATA)), STATUS_SUCCESS);
        KeLowerIrql(Old);
    }
    A33PutAll();
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
}

/* The owner acquiring its spin lock again: P1 STATUS_POSSIBLE_DEADLOCK,
   P2 the lock; still held once, released once, IRQL back. */
static VOID
AcquisitionFormsStopOnSpinLockRecursion(VOID)
{
    PWDKM_SPIN_LOCK Spin;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    A33_DATA *Data;
    KIRQL Old;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    ULONG Held = WdkmHostThreadHeldLockCount();

    CHECK(A33Start());
    CHECK(A33GetAll());
    Spin = (PWDKM_SPIN_LOCK)A33Locks[WdkmLockKindSpinLock];
    Queued = (PWDKM_QUEUED_SPIN_LOCK)A33Locks[WdkmLockKindQueuedSpinLock];

    Data = (A33_DATA *)WdkmSpinLockAcquireOrBugCheck(Spin, sizeof(A33_DATA), &Old, NULL);
    CHECK(Data != NULL && Data->Magic == A33_MAGIC);
    CHECK_FORM_REFUSED(A33FormSpin, Spin, sizeof(A33_DATA), STATUS_POSSIBLE_DEADLOCK);
    CHECK_FORM_REFUSED(A33FormSpinAtDpc, Spin, sizeof(A33_DATA), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmSpinLockRelease(Spin, Old), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    Data = (A33_DATA *)WdkmQueuedSpinLockAcquireOrBugCheck(Queued, sizeof(A33_DATA), &Handle,
                                                            NULL);
    CHECK(Data != NULL && Data->Kind == WdkmLockKindQueuedSpinLock);
    CHECK_FORM_REFUSED(A33FormQueued, Queued, sizeof(A33_DATA), STATUS_POSSIBLE_DEADLOCK);
    CHECK_FORM_REFUSED(A33FormQueuedAtDpc, Queued, sizeof(A33_DATA), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    A33PutAll();
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), Held);
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* What the stop prints, and in the checked build what it keeps            */
/* ---------------------------------------------------------------------- */

static char A33Log[16384];
static ULONG A33LogLength;
static ULONG A33LogMessages;

static VOID
A33Capture(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    size_t Length = strlen(Message);

    UNREFERENCED_PARAMETER(ComponentId);
    UNREFERENCED_PARAMETER(Level);
    UNREFERENCED_PARAMETER(Context);
    A33LogMessages += 1;
    if (A33LogLength + Length + 1 < sizeof(A33Log)) {
        memcpy(A33Log + A33LogLength, Message, Length);
        A33LogLength += (ULONG)Length;
        A33Log[A33LogLength] = '\0';
    }
}

static VOID
A33CaptureStart(VOID)
{
    A33Log[0] = '\0';
    A33LogLength = 0;
    A33LogMessages = 0;
    WdkmHostSetDebugPrintLevel(0xFFFFFFFF);
    WdkmHostSetDebugPrintSink(A33Capture, NULL);
}

static VOID
A33CaptureStop(VOID)
{
    WdkmHostSetDebugPrintSink(NULL, NULL);
    WdkmHostSetDebugPrintLevel(DPFLTR_WARNING_LEVEL);
}

#if !WDKM_CHECKED

/* "A release build prints one line ("callback form refused: ...") and
   stops": one message, for the lookup as for an acquisition. */
static VOID
ReleaseBuildPrintsOneLine(VOID)
{
    A33_OUTCOME Out;
    PVOID Lock;
    ULONG Lines;
    ULONG Index;

    CHECK(A33Start());
    Lock = A33TypedLookup(WdkmLockKindKMutex);
    A33CaptureStart();
    A33TryLookup("a33.none", WdkmLockKindKMutex, sizeof(A33_DATA), &Out);
    A33CaptureStop();
    CHECK(Out.Stopped);
    Lines = 0;
    for (Index = 0; Index < A33LogLength; Index += 1) {
        Lines += (A33Log[Index] == '\n');
    }
    CHECK_EQ(A33LogMessages, 1);
    CHECK_EQ(Lines, 1);
    CHECK(strstr(A33Log, "callback form refused") != NULL);

    A33CaptureStart();
    {
        KIRQL Old;

        KeRaiseIrql(DISPATCH_LEVEL, &Old);
        A33TryForm(A33FormKMutex, Lock, sizeof(A33_DATA), &Out);
        KeLowerIrql(Old);
    }
    A33CaptureStop();
    CHECK(Out.Stopped);
    CHECK_EQ(A33LogMessages, 1);
    CHECK(strstr(A33Log, "callback form refused") != NULL);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);

    /* A lookup without a name is still a lookup: its P2 is the name (0),
       and the line says it looked a name up, not that it acquired a lock. */
    A33CaptureStart();
    A33TryLookup(NULL, WdkmLockKindKMutex, sizeof(A33_DATA), &Out);
    A33CaptureStop();
    CHECK(Out.Stopped);
    CHECK_EQ(Out.Bugcheck.Parameter[1], 0);
    CHECK_EQ(A33LogMessages, 1);
    if (strstr(A33Log, "looking up") == NULL || strstr(A33Log, "acquiring") != NULL) {
        WdkmTestFail(__FILE__, __LINE__, "a NULL name's lookup reported as:\n%s", A33Log);
        return;
    }
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
}

#else /* WDKM_CHECKED */

static BOOLEAN
A33LastViolation(PWDKM_DIAG_VIOLATION Last, PULONG Count)
{
    WDKM_DIAG_VIOLATION Violations[16];

    if (WdkmDiagQueryViolations(Violations, 16, Count) != STATUS_SUCCESS || *Count == 0 ||
        *Count > 16) {
        return FALSE;
    }
    *Last = Violations[*Count - 1];
    return TRUE;
}

static ULONG A33SiteLine;

static __attribute__((noinline)) VOID
A33TypedMissingLookup(PCSTR Name, A33_OUTCOME *Out)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;

    memset(Out, 0, sizeof(*Out));
    if (WDKM_HOST_TRY(&Trap)) {
        A33SiteLine = __LINE__ + 1;
        A33Sink = WDKM_GRT_GET_RESOURCE_OR_BUGCHECK(Name, A33_DATA);
        WdkmHostDisarm(&Trap);
    } else {
        Out->Stopped = TRUE;
        Out->Bugcheck = Trap.Bugcheck;
    }
}

/* The report names the lookup (the name), the status and the typed
   macro's site, and keeps a WdkmDiagCallbackMisuse whose Acquiring is the
   name, counted with the context violations. */
static VOID
CheckedReportNamesTheLookupAndItsSite(VOID)
{
    A33_OUTCOME Out;
    WDKM_DIAG_SUMMARY Before, After;
    WDKM_DIAG_VIOLATION Last;
    ULONG Count;
    char Site[64];
    char Name[] = "a33.not.registered";

    CHECK(A33Start());
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQuerySummary(&Before), STATUS_SUCCESS);
    A33CaptureStart();
    A33TypedMissingLookup(Name, &Out);
    A33CaptureStop();
    CHECK(Out.Stopped);
    CHECK_EQ(Out.Bugcheck.Parameter[1], (ULONG_PTR)Name);
    (VOID)snprintf(Site, sizeof(Site), "test_attack33.c:%u", (unsigned)A33SiteLine);
    if (strstr(A33Log, Name) == NULL || strstr(A33Log, Site) == NULL ||
        strstr(A33Log, "STATUS_OBJECT_NAME_NOT_FOUND") == NULL) {
        WdkmTestFail(__FILE__, __LINE__, "report lacks the name, %s or the status:\n%s", Site,
                     A33Log);
        return;
    }
    CHECK_STATUS(WdkmDiagQuerySummary(&After), STATUS_SUCCESS);
    CHECK_EQ(After.ContextViolations, Before.ContextViolations + 1);
    CHECK(A33LastViolation(&Last, &Count));
    CHECK_EQ(Count, 1);
    CHECK_EQ(Last.Type, WdkmDiagCallbackMisuse);
    CHECK(strcmp(Last.Acquiring, Name) == 0);
    if (Last.AcquireFile != NULL) {
        CHECK(strstr(Last.AcquireFile, "test_attack33.c") != NULL);
        CHECK_EQ(Last.AcquireLine, A33SiteLine);
    }
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}

/* A lookup's site (noted by the typed macro, used or not) is not the site
   of a later acquisition made without a typed macro: that one reports
   ?:0, after a successful lookup and after a refused one. */
static VOID
CheckedLookupSiteDoesNotLeakToLaterAcquisition(VOID)
{
    ULONG Round;

    CHECK(A33Start());
    for (Round = 0; Round < 2; Round += 1) {
        PWDKM_KMUTEX Mutex = NULL;
        A33_OUTCOME Out;
        WDKM_DIAG_VIOLATION Last;
        ULONG Count;
        ULONG LookupLine;
        char Site[64];
        KIRQL Old;

        CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
        if (Round == 0) {
            LookupLine = __LINE__ + 1;
            Mutex = WDKM_GRT_GET_KMUTEX_OR_BUGCHECK(A33NameOf(WdkmLockKindKMutex), A33_DATA);
        } else {
            A33TypedMissingLookup("a33.none", &Out);
            CHECK(Out.Stopped);
            LookupLine = A33SiteLine;
            CHECK_STATUS(WdkmGrtReference(A33NameOf(WdkmLockKindKMutex), WdkmLockKindKMutex,
                                          sizeof(A33_DATA), (PVOID *)&Mutex),
                         STATUS_SUCCESS);
            CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
        }
        (VOID)snprintf(Site, sizeof(Site), "test_attack33.c:%u", (unsigned)LookupLine);
        A33CaptureStart();
        KeRaiseIrql(DISPATCH_LEVEL, &Old);
        A33TryForm(A33FormKMutex, Mutex, sizeof(A33_DATA), &Out);   /* no typed macro */
        KeLowerIrql(Old);
        A33CaptureStop();
        CHECK(Out.Stopped);
        CHECK_EQ(Out.Bugcheck.Parameter[0], (ULONG_PTR)(ULONG)STATUS_WDKM_IRQL_TOO_HIGH);
        if (strstr(A33Log, Site) != NULL) {
            WdkmTestFail(__FILE__, __LINE__,
                         "round %u: the direct acquisition is reported at the lookup's site %s:\n%s",
                         (unsigned)Round, Site, A33Log);
            (VOID)WdkmGrtDereference(Mutex);
            return;
        }
        CHECK(A33LastViolation(&Last, &Count));
        CHECK_EQ(Last.Type, WdkmDiagCallbackMisuse);
        CHECK(Last.AcquireFile == NULL || Last.AcquireLine != LookupLine);
        CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    }
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}

/* The direct call (no typed macro) after a typed acquisition: the report
   does not borrow a site either. */
static VOID
CheckedDirectLookupHasNoSite(VOID)
{
    A33_OUTCOME Out;
    WDKM_DIAG_VIOLATION Last;
    ULONG Count;
    char Site[64];
    PWDKM_SPIN_LOCK Spin;
    ULONG TypedLine;
    KIRQL Old;
    A33_DATA *Data;

    CHECK(A33Start());
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    TypedLine = __LINE__ + 1;
    Spin = WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK(A33NameOf(WdkmLockKindSpinLock), A33_DATA);
    (VOID)WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Spin, &Old, &Data);
    (VOID)WdkmSpinLockRelease(Spin, Old);
    A33CaptureStart();
    A33TryLookup("a33.none", WdkmLockKindSpinLock, sizeof(A33_DATA), &Out);
    A33CaptureStop();
    CHECK(Out.Stopped);
    (VOID)snprintf(Site, sizeof(Site), "test_attack33.c:%u", (unsigned)TypedLine);
    if (strstr(A33Log, Site) != NULL || strstr(A33Log, "a33.none") == NULL) {
        WdkmTestFail(__FILE__, __LINE__, "direct lookup report:\n%s", A33Log);
        (VOID)WdkmGrtDereference(Spin);
        return;
    }
    CHECK(A33LastViolation(&Last, &Count));
    CHECK_EQ(Last.Type, WdkmDiagCallbackMisuse);
    CHECK(strcmp(Last.Acquiring, "a33.none") == 0);
    CHECK(Last.AcquireFile == NULL || Last.AcquireLine != TypedLine);
    CHECK_STATUS(WdkmGrtDereference(Spin), STATUS_SUCCESS);
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}

/* Each status the lookup can stop with is told for what it means to a
   lookup (reference.md: "the status and what it means"), not as an
   acquisition's ("the acquisition was refused", "the handle is ..."):
   the name, its kind or the registry's state. A NULL name is reported as
   a lookup, with the bug check's P2 named as the name, and kept with a
   name-like Acquiring. */
static VOID
CheckedReportSaysWhatEachLookupStatusMeans(VOID)
{
    static const struct {
        NTSTATUS Status;
        PCSTR Says;
    } Meanings[] = {
        { STATUS_OBJECT_NAME_NOT_FOUND, "registered" },
        { STATUS_WDKM_TYPE_MISMATCH, "kind" },
        { STATUS_OBJECT_NAME_INVALID, "empty" },
        { STATUS_NAME_TOO_LONG, "63" },
        { STATUS_INVALID_PARAMETER, "NULL name" },
        { STATUS_WDKM_IRQL_TOO_HIGH, "DISPATCH_LEVEL" },
        { STATUS_WDKM_NOT_INITIALIZED, "WdkmGrtInitialize" },
    };
    char Long[WDKM_GRT_MAX_NAME_LENGTH + 2];
    ULONG Index;

    memset(Long, 'z', sizeof(Long) - 1);
    Long[sizeof(Long) - 1] = '\0';
    CHECK(A33Start());
    for (Index = 0; Index < sizeof(Meanings) / sizeof(Meanings[0]); Index += 1) {
        A33_OUTCOME Out;
        KIRQL Old = PASSIVE_LEVEL;
        PCSTR Name = A33NameOf(WdkmLockKindSpinLock);
        SIZE_T Size = sizeof(A33_DATA);
        WDKM_DIAG_VIOLATION Last;
        ULONG Count;
        PCSTR Meaning;

        CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
        switch (Meanings[Index].Status) {
        case STATUS_OBJECT_NAME_NOT_FOUND: Name = "a33.none"; break;
        case STATUS_WDKM_TYPE_MISMATCH: Size = sizeof(ULONG); break;
        case STATUS_OBJECT_NAME_INVALID: Name = ""; break;
        case STATUS_NAME_TOO_LONG: Name = Long; break;
        case STATUS_INVALID_PARAMETER: Name = NULL; break;
        case STATUS_WDKM_NOT_INITIALIZED: CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS); break;
        default: break;
        }
        if (Meanings[Index].Status == STATUS_WDKM_IRQL_TOO_HIGH) {
            KeRaiseIrql(HIGH_LEVEL, &Old);
        }
        A33CaptureStart();
        A33TryLookup(Name, WdkmLockKindSpinLock, Size, &Out);
        A33CaptureStop();
        if (Meanings[Index].Status == STATUS_WDKM_IRQL_TOO_HIGH) {
            KeLowerIrql(Old);
        }
        CHECK(Out.Stopped);
        CHECK_EQ(Out.Bugcheck.Parameter[0], (ULONG_PTR)(ULONG)Meanings[Index].Status);
        /* The meaning is the report's second line. */
        Meaning = strchr(A33Log, '\n');
        if (Meaning == NULL || strstr(A33Log, "looking up") == NULL ||
            strstr(A33Log, "(status, name, caller") == NULL ||
            strstr(Meaning, Meanings[Index].Says) == NULL ||
            strstr(A33Log, "the acquisition was refused") != NULL ||
            strstr(A33Log, "the handle is") != NULL) {
            WdkmTestFail(__FILE__, __LINE__, "%s reported as:\n%s",
                         WdkmStatusName(Meanings[Index].Status), A33Log);
            return;
        }
        CHECK(A33LastViolation(&Last, &Count));
        CHECK_EQ(Last.Type, WdkmDiagCallbackMisuse);
        if (Name != NULL) {
            CHECK(strncmp(Last.Acquiring, Name, WDKM_DIAG_NAME_LENGTH - 1) == 0);
        } else {
            CHECK(strstr(Last.Acquiring, "live lock") == NULL);
        }
    }
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}

/* A special kernel APC that lands on the thread between a typed lookup's
   note of its site and the lookup itself (the macro is two steps: the
   note, then the call) and makes an acquisition without a typed macro:
   that acquisition is not reported at the lookup's site, and the lookup
   still is. The note is made here by hand, as the macro's first step
   (WDKMP_DIAG_LOOKUP_SITE: WdkmDiagNoteLookupSite of the same name). */
static ULONG A33ApcSiteSeen;
static char A33ApcLog[4096];
static PVOID A33ApcSpin;

static VOID
A33ApcDirectMisuse(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A33_OUTCOME Out;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    /* An acquisition that succeeds, then one refused at the event's own
       IRQL (a type of another size), neither through a typed macro. */
    {
        PVOID Data;
        KIRQL Old;

        if (WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)A33ApcSpin, sizeof(A33_DATA), &Old, &Data) ==
            STATUS_SUCCESS) {
            (VOID)WdkmSpinLockRelease((PWDKM_SPIN_LOCK)A33ApcSpin, Old);
        }
    }
    A33CaptureStart();
    A33TryForm(A33FormKMutex, Context, sizeof(ULONG), &Out);   /* no typed macro */
    A33CaptureStop();
    A33ApcSiteSeen = Out.Stopped ? 1 : 0;
    memcpy(A33ApcLog, A33Log, sizeof(A33ApcLog) - 1);
}

static VOID
A33InterruptBetweenNoteAndLookup(WDKM_HOST_INTERRUPT Kind)
{
    PVOID Mutex = NULL;
    A33_OUTCOME Out;
    static const char File[] = "a33_driver.c";
    static const char Missing[] = "a33.none";

    CHECK(A33Start());
    CHECK_STATUS(WdkmGrtReference(A33NameOf(WdkmLockKindKMutex), WdkmLockKindKMutex,
                                  sizeof(A33_DATA), &Mutex),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtReference(A33NameOf(WdkmLockKindSpinLock), WdkmLockKindSpinLock,
                                  sizeof(A33_DATA), &A33ApcSpin),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    A33ApcSiteSeen = 0;
    A33ApcLog[0] = '\0';
    (VOID)WdkmDiagNoteLookupSite(Missing, File, 4242);   /* the macro's first step */
    WdkmHostQueueInterrupt(KeGetCurrentThread(), Kind, A33ApcDirectMisuse, Mutex);
    A33CaptureStart();
    A33TryLookup(Missing, WdkmLockKindKMutex, sizeof(A33_DATA), &Out);   /* its second */
    A33CaptureStop();
    (VOID)WdkmGrtDereference(Mutex);
    (VOID)WdkmGrtDereference(A33ApcSpin);
    CHECK_EQ(A33ApcSiteSeen, 1);
    CHECK(Out.Stopped);
    if (strstr(A33ApcLog, "a33_driver.c:4242") != NULL) {
        WdkmTestFail(__FILE__, __LINE__,
                     "the interrupt's direct acquisition took the lookup's site:\n%s", A33ApcLog);
        return;
    }
    if (strstr(A33Log, "a33_driver.c:4242") == NULL) {
        WdkmTestFail(__FILE__, __LINE__, "the lookup lost its site to the interrupt:\n%s", A33Log);
        return;
    }
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}

static VOID
CheckedSpecialApcDoesNotTakeTheLookupsSite(VOID)
{
    A33InterruptBetweenNoteAndLookup(WdkmHostInterruptSpecialApc);
}

static VOID
CheckedNormalApcDoesNotTakeTheLookupsSite(VOID)
{
    A33InterruptBetweenNoteAndLookup(WdkmHostInterruptNormalApc);
}

/* An acquisition form refused under WDKM_DIAG_REFUSE for closing a lock
   order: P1 STATUS_POSSIBLE_DEADLOCK, P2 the lock, the cycle in the report
   and the typed macro's site; nothing changes (the held lock stays held,
   the asked one is free), and a plain acquire after the release works. */
static ULONG A33OrderLine;

static __attribute__((noinline)) VOID
A33TypedKMutexAcquire(PWDKM_KMUTEX Mutex, A33_OUTCOME *Out)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    A33_DATA *Data;

    memset(Out, 0, sizeof(*Out));
    if (WDKM_HOST_TRY(&Trap)) {
        A33OrderLine = __LINE__ + 1;
        A33Sink = WDKM_KMUTEX_ACQUIRE_OR_BUGCHECK(Mutex, &Data);
        WdkmHostDisarm(&Trap);
    } else {
        Out->Stopped = TRUE;
        Out->Bugcheck = Trap.Bugcheck;
    }
    Out->HeldLocks = WdkmHostThreadHeldLockCount();
    Out->Irql = KeGetCurrentIrql();
}

static VOID
CheckedOrderRefusalStopsAsDocumented(VOID)
{
    A33_DATA Initial = { A33_MAGIC, WdkmLockKindKMutex };
    PWDKM_KMUTEX First;
    PWDKM_KMUTEX Second;
    A33_DATA *Data;
    A33_OUTCOME Out;
    char Site[64];
    ULONG Held;

    CHECK(A33Start());
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("a33.order.second", &Initial), STATUS_SUCCESS);
    First = WDKM_GRT_GET_KMUTEX_OR_BUGCHECK(A33NameOf(WdkmLockKindKMutex), A33_DATA);
    Second = WDKM_GRT_GET_KMUTEX_OR_BUGCHECK("a33.order.second", A33_DATA);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    /* The order: first, then second. */
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(First, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Second, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Second), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(First), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Second, &Data), STATUS_SUCCESS);
    Held = WdkmHostThreadHeldLockCount();
    A33CaptureStart();
    A33TypedKMutexAcquire(First, &Out);
    A33CaptureStop();
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    CHECK(Out.Stopped);
    CHECK_EQ(Out.Bugcheck.Code, WDKM_BUGCHECK_LOCK_MISUSE);
    CHECK_EQ(Out.Bugcheck.Parameter[0], (ULONG_PTR)(ULONG)STATUS_POSSIBLE_DEADLOCK);
    CHECK_EQ(Out.Bugcheck.Parameter[1], (ULONG_PTR)First);
    CHECK_EQ(Out.Bugcheck.Parameter[3], ((ULONG_PTR)WdkmLockKindKMutex << 8) | PASSIVE_LEVEL);
    CHECK_EQ(Out.HeldLocks, Held);
    CHECK_EQ(WdkmKMutexIsOwned(First), FALSE);
    CHECK_EQ(WdkmKMutexIsOwned(Second), TRUE);
    (VOID)snprintf(Site, sizeof(Site), "test_attack33.c:%u", (unsigned)A33OrderLine);
    if (strstr(A33Log, Site) == NULL || strstr(A33Log, "a33.order.second") == NULL ||
        strstr(A33Log, "LOCK ORDER VIOLATION") == NULL ||
        strstr(A33Log, "CALLBACK FORM REFUSED") == NULL) {
        WdkmTestFail(__FILE__, __LINE__, "report lacks %s, the cycle or the refusal:\n%s", Site,
                     A33Log);
        (VOID)WdkmKMutexRelease(Second);
        return;
    }
    CHECK_STATUS(WdkmKMutexRelease(Second), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexAcquire(First, sizeof(A33_DATA), (PVOID *)&Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(First), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(First), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Second), STATUS_SUCCESS);
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}

/* "who holds the lock": a KMUTEX held by another thread, asked for by the
   form at DISPATCH_LEVEL, is reported with its holder. */
static LONG volatile A33OtherHolds;
static LONG volatile A33OtherGo;

static VOID
A33OtherHolder(PVOID Context, ULONG Index)
{
    PVOID Data;

    UNREFERENCED_PARAMETER(Index);
    if (WdkmKMutexAcquire((PWDKM_KMUTEX)Context, sizeof(A33_DATA), &Data) != STATUS_SUCCESS) {
        InterlockedExchange(&A33OtherHolds, -1);
        return;
    }
    InterlockedExchange(&A33OtherHolds, 1);
    while (InterlockedCompareExchange(&A33OtherGo, 0, 0) == 0) {
        WdkmTestSleepMs(1);
    }
    (VOID)WdkmKMutexRelease((PWDKM_KMUTEX)Context);
}

static VOID
CheckedReportNamesTheHolder(VOID)
{
    PWDKM_KMUTEX Mutex;
    WDKM_TEST_THREAD *Other;
    A33_OUTCOME Out;
    KIRQL Old;

    CHECK(A33Start());
    Mutex = WDKM_GRT_GET_KMUTEX_OR_BUGCHECK(A33NameOf(WdkmLockKindKMutex), A33_DATA);
    A33OtherHolds = 0;
    A33OtherGo = 0;
    Other = WdkmTestStartThread(A33OtherHolder, Mutex);
    CHECK(Other != NULL);
    while (InterlockedCompareExchange(&A33OtherHolds, 0, 0) == 0) {
        WdkmTestSleepMs(1);
    }
    A33CaptureStart();
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    A33TryForm(A33FormKMutex, Mutex, sizeof(A33_DATA), &Out);
    KeLowerIrql(Old);
    A33CaptureStop();
    InterlockedExchange(&A33OtherGo, 1);
    WdkmTestJoinThread(Other);
    CHECK_EQ(A33OtherHolds, 1);
    CHECK(Out.Stopped);
    if (strstr(A33Log, "held by thread") == NULL || strstr(A33Log, "(this thread)") != NULL) {
        WdkmTestFail(__FILE__, __LINE__, "report lacks the other holder:\n%s", A33Log);
        return;
    }
    CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    CHECK_STATUS(A33StopNow(NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}

static VOID
CheckedDpcDoesNotTakeTheLookupsSite(VOID)
{
    A33InterruptBetweenNoteAndLookup(WdkmHostInterruptDpc);
}

#endif /* WDKM_CHECKED */

static VOID
A33Cleanup(VOID)
{
    LARGE_INTEGER Timeout;

    A33CaptureStop();
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(100);
    (VOID)WdkmGrtDestroy(&Timeout, NULL);
}

static const WDKM_TEST_CASE A33Cases[] = {
    { "lookup_stops_on_every_lookup_refusal", LookupStopsOnEveryLookupRefusal },
    { "lookup_stops_on_bad_names_and_parameters", LookupStopsOnBadNamesAndParameters },
    { "lookup_stops_above_dispatch_level", LookupStopsAboveDispatchLevel },
    { "lookup_stops_without_registry", LookupStopsWithoutRegistry },
    { "lookup_succeeds_at_every_irql_allowed", LookupSucceedsAtEveryIrqlAllowed },
    { "lookup_reference_outlives_unregister", LookupReferenceOutlivesUnregister },
    { "lookup_in_dpc_over_held_registry_locks", LookupInDpcOverHeldRegistryLocks },
    { "lookup_in_special_apc_over_held_registry_locks", LookupInSpecialApcOverHeldRegistryLocks },
    { "lookup_stops_while_destroy_runs", LookupStopsWhileDestroyRuns },
    { "lookup_never_stops_while_name_stays_registered", LookupNeverStopsWhileNameStaysRegistered },
    { "acquisition_forms_stop_as_documented", AcquisitionFormsStopAsDocumented },
    { "acquisition_forms_stop_on_spin_lock_recursion", AcquisitionFormsStopOnSpinLockRecursion },
#if !WDKM_CHECKED
    { "release_build_prints_one_line", ReleaseBuildPrintsOneLine },
#else
    { "checked_report_names_the_lookup_and_its_site", CheckedReportNamesTheLookupAndItsSite },
    { "checked_lookup_site_does_not_leak_to_later_acquisition",
      CheckedLookupSiteDoesNotLeakToLaterAcquisition },
    { "checked_direct_lookup_has_no_site", CheckedDirectLookupHasNoSite },
    { "checked_report_says_what_each_lookup_status_means",
      CheckedReportSaysWhatEachLookupStatusMeans },
    { "checked_order_refusal_stops_as_documented", CheckedOrderRefusalStopsAsDocumented },
    { "checked_report_names_the_holder", CheckedReportNamesTheHolder },
    { "checked_dpc_does_not_take_the_lookups_site", CheckedDpcDoesNotTakeTheLookupsSite },
    { "checked_special_apc_does_not_take_the_lookups_site",
      CheckedSpecialApcDoesNotTakeTheLookupsSite },
    { "checked_normal_apc_does_not_take_the_lookups_site",
      CheckedNormalApcDoesNotTakeTheLookupsSite },
#endif
};

const WDKM_TEST_SUITE WdkmAttack33Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack33", A33Cases, A33Cleanup);
