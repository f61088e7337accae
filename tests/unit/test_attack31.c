/*
 * test_attack31.c - regions, the scoped forms of every kind, the pool
 * statistics and allocator, the status helpers and the debugger output,
 * attacked from docs/reference.md and the public headers alone.
 *
 * Where the documentation is silent the expectation is what a driver
 * developer would assume; each such test says so in its comment.
 * Seeded tests print their seed (WDKM_ATTACK31_SEED replays one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wdkm_test.h"
#include "wdk/wdkm_port_wdk.h"   /* WdkmpForgetRoutines: the allocator looked up again */

typedef struct _A31_VALUE {
    LONG Value;
    LONG A;
    LONG B;
} A31_VALUE;

static ULONG64
A31Seed(VOID)
{
    const char *Text = getenv("WDKM_ATTACK31_SEED");
    ULONG64 Seed = (Text != NULL) ? strtoull(Text, NULL, 0) : (ULONG64)WdkmTestNowMs() * 2654435761ULL + 31;

    printf("  attack31 seed %llu (WDKM_ATTACK31_SEED replays it)\n", (unsigned long long)Seed);
    return Seed;
}

static ULONG
A31Next(ULONG64 *State)
{
    *State = *State * 6364136223846793005ULL + 1442695040888963407ULL;
    return (ULONG)(*State >> 33);
}

/* ------------------------------------------------------------------------
 * Injected events: a routine that records where and when it ran, then
 * runs the test's action on the interrupted thread.
 */
typedef VOID A31_ACTION(PVOID Context);

typedef struct _A31_EVENT {
    A31_ACTION *Action;
    PVOID Context;
    volatile LONG Ran;
    volatile LONG Order;
    KIRQL Irql;
} A31_EVENT;

static volatile LONG A31Sequence;

static VOID
A31Interrupt(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A31_EVENT *Event = (A31_EVENT *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Event->Irql = KeGetCurrentIrql();
    if (Event->Action != NULL) {
        Event->Action(Event->Context);
    }
    Event->Order = InterlockedIncrement(&A31Sequence);
    Event->Ran += 1;
}

static VOID
A31Queue(WDKM_HOST_INTERRUPT Kind, A31_EVENT *Event)
{
    WdkmHostQueueInterrupt(KeGetCurrentThread(), Kind, A31Interrupt, Event);
}

/* Bug checks raised inside an event (no trap can catch those). */
static volatile LONG A31Bugchecks;
static volatile ULONG A31BugcheckCode;

static VOID
A31BugcheckHandler(const WDKM_HOST_BUGCHECK *Bugcheck, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    A31BugcheckCode = Bugcheck->Code;
    A31Bugchecks += 1;
}

/* The thread holds nothing, runs at PASSIVE_LEVEL with every APC enabled. */
#define CHECK_CLEAN_THREAD()                                               \
    do {                                                                   \
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);                       \
        CHECK(!KeAreApcsDisabled());                                       \
        CHECK(!KeAreAllApcsDisabled());                                    \
        CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);                        \
    } while (0)

/* ========================================================================
 * 1. Regions
 */

/* Enter and leave at every IRQL: allowed at PASSIVE and APC_LEVEL, refused
   above with the count untouched. NULL is an argument error at any IRQL
   (arguments are judged first). */
static VOID
TestRegionEveryIrql(VOID)
{
    static const KIRQL Levels[] = { PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL };
    ULONG Index;

    for (Index = 0; Index < sizeof(Levels) / sizeof(Levels[0]); Index += 1) {
        WDKM_REGION Critical;
        WDKM_REGION Guarded;
        KIRQL OldIrql = PASSIVE_LEVEL;
        NTSTATUS EnterCritical, EnterGuarded, LeaveCritical = STATUS_SUCCESS;
        NTSTATUS LeaveGuarded = STATUS_SUCCESS, NullEnter, NullLeave;
        BOOLEAN CriticalInside = FALSE, GuardedInside = FALSE;

        memset(&Critical, 0xA5, sizeof(Critical));
        memset(&Guarded, 0x5A, sizeof(Guarded));
        if (Levels[Index] != PASSIVE_LEVEL) {
            KeRaiseIrql(Levels[Index], &OldIrql);
        }
        NullEnter = WdkmRegionEnterCritical(NULL);
        NullLeave = WdkmRegionLeave(NULL);
        EnterCritical = WdkmRegionEnterCritical(&Critical);
        if (EnterCritical == STATUS_SUCCESS) {
            CriticalInside = KeAreApcsDisabled();
        }
        EnterGuarded = WdkmRegionEnterGuarded(&Guarded);
        if (EnterGuarded == STATUS_SUCCESS) {
            GuardedInside = KeAreAllApcsDisabled();
            LeaveGuarded = WdkmRegionLeave(&Guarded);
        }
        if (EnterCritical == STATUS_SUCCESS) {
            LeaveCritical = WdkmRegionLeave(&Critical);
        }
        if (Levels[Index] != PASSIVE_LEVEL) {
            KeLowerIrql(OldIrql);
        }
        CHECK_STATUS(NullEnter, STATUS_INVALID_PARAMETER);
        CHECK_STATUS(NullLeave, STATUS_INVALID_PARAMETER);
        if (Levels[Index] <= APC_LEVEL) {
            CHECK_STATUS(EnterCritical, STATUS_SUCCESS);
            CHECK_STATUS(EnterGuarded, STATUS_SUCCESS);
            CHECK_STATUS(LeaveCritical, STATUS_SUCCESS);
            CHECK_STATUS(LeaveGuarded, STATUS_SUCCESS);
            CHECK(CriticalInside);
            CHECK(GuardedInside);
        } else {
            CHECK_STATUS(EnterCritical, STATUS_WDKM_IRQL_TOO_HIGH);
            CHECK_STATUS(EnterGuarded, STATUS_WDKM_IRQL_TOO_HIGH);
            /* A region whose entry failed was never entered: leaving it
               (a cleanup path that leaves unconditionally) is refused,
               whatever the variable held before the failed entry. */
            CHECK_STATUS(WdkmRegionLeave(&Critical), STATUS_WDKM_NOT_HELD);
            CHECK_STATUS(WdkmRegionLeave(&Guarded), STATUS_WDKM_NOT_HELD);
        }
        CHECK_CLEAN_THREAD();
    }
}

/* Leave without enter, twice, and at a too-high IRQL: refused, with the
   thread's APC-disable count (here an outer region's) untouched. */
static VOID
TestRegionLeaveMisuse(VOID)
{
    WDKM_REGION Outer;
    WDKM_REGION Inner;
    WDKM_REGION Never;
    KIRQL OldIrql;
    NTSTATUS Status;

    RtlZeroMemory(&Never, sizeof(Never));
    CHECK_STATUS(WdkmRegionLeave(&Never), STATUS_WDKM_NOT_HELD);
    CHECK_CLEAN_THREAD();

    CHECK_STATUS(WdkmRegionEnterGuarded(&Outer), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionEnterCritical(&Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionLeave(&Inner), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionLeave(&Inner), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRegionLeave(&Never), STATUS_WDKM_NOT_HELD);
    CHECK(KeAreAllApcsDisabled());          /* the outer one is still entered */

    /* At DISPATCH_LEVEL (a DPC on this thread): refused, still entered. */
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WdkmRegionLeave(&Outer);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(KeAreAllApcsDisabled());
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WdkmRegionLeave(&Never);       /* IRQL is judged before state */
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);

    /* At APC_LEVEL the leave is allowed, also of a critical region
       entered at PASSIVE_LEVEL by code that raised the IRQL itself. */
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    Status = WdkmRegionLeave(&Outer);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionLeave(&Outer), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRegionEnterCritical(&Inner), STATUS_SUCCESS);
    KeRaiseIrql(APC_LEVEL, &OldIrql);
    Status = WdkmRegionLeave(&Inner);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_CLEAN_THREAD();
}

typedef struct _A31_REGION_HANDOFF {
    WDKM_REGION *Region;
    NTSTATUS Status;
    BOOLEAN DisabledBefore;
    BOOLEAN DisabledAfter;
    ULONG Bugchecks;
} A31_REGION_HANDOFF;

static VOID
A31LeaveForeignRegion(PVOID Context, ULONG Index)
{
    A31_REGION_HANDOFF *Handoff = (A31_REGION_HANDOFF *)Context;
    WDKM_HOST_BUGCHECK_TRAP Trap;

    UNREFERENCED_PARAMETER(Index);
    Handoff->DisabledBefore = KeAreApcsDisabled();
    if (WDKM_HOST_TRY(&Trap)) {
        Handoff->Status = WdkmRegionLeave(Handoff->Region);
        WdkmHostDisarm(&Trap);
    } else {
        Handoff->Bugchecks += 1;
    }
    Handoff->DisabledAfter = KeAreApcsDisabled();
}

/* Leaving another thread's region: STATUS_WDKM_NOT_OWNER, neither thread's
   count touched; the owner then leaves it normally. */
static VOID
TestRegionLeaveOtherThread(VOID)
{
    ULONG Pass;

    for (Pass = 0; Pass < 2; Pass += 1) {
        WDKM_REGION Region;
        A31_REGION_HANDOFF Handoff;

        RtlZeroMemory(&Handoff, sizeof(Handoff));
        Handoff.Region = &Region;
        Handoff.Status = STATUS_PENDING;
        if (Pass == 0) {
            CHECK_STATUS(WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
        } else {
            CHECK_STATUS(WdkmRegionEnterGuarded(&Region), STATUS_SUCCESS);
        }
        CHECK(WdkmTestRunThreads(1, A31LeaveForeignRegion, &Handoff));
        CHECK(KeAreApcsDisabled());
        CHECK_STATUS(WdkmRegionLeave(&Region), STATUS_SUCCESS);
        CHECK_EQ(Handoff.Bugchecks, 0);
        CHECK_STATUS(Handoff.Status, STATUS_WDKM_NOT_OWNER);
        CHECK(!Handoff.DisabledBefore);
        CHECK(!Handoff.DisabledAfter);
        CHECK_CLEAN_THREAD();
    }
}

/* Two and three regions left out of order (both kinds): every leave
   succeeds, and real APCs show what is masked after each step. */
static VOID
TestRegionNestingOutOfOrder(VOID)
{
    WDKM_REGION A, B, C;
    A31_EVENT Special = { NULL, NULL, 0, 0, PASSIVE_LEVEL };
    A31_EVENT Normal = { NULL, NULL, 0, 0, PASSIVE_LEVEL };

    CHECK_STATUS(WdkmRegionEnterCritical(&A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionEnterGuarded(&B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionEnterCritical(&C), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionLeave(&A), STATUS_SUCCESS);      /* out of order */
    A31Queue(WdkmHostInterruptSpecialApc, &Special);
    A31Queue(WdkmHostInterruptNormalApc, &Normal);
    CHECK_EQ(Special.Ran, 0);                               /* guarded B */
    CHECK_EQ(Normal.Ran, 0);
    CHECK_STATUS(WdkmRegionLeave(&C), STATUS_SUCCESS);
    CHECK_EQ(Special.Ran, 0);                               /* still guarded */
    CHECK_EQ(Normal.Ran, 0);
    CHECK_STATUS(WdkmRegionLeave(&B), STATUS_SUCCESS);
    CHECK_EQ(Special.Ran, 1);                               /* at the last leave */
    CHECK_EQ(Normal.Ran, 1);
    CHECK(Special.Order < Normal.Order);                    /* the higher level first */
    CHECK_EQ(Special.Irql, APC_LEVEL);
    CHECK_EQ(Normal.Irql, PASSIVE_LEVEL);
    CHECK_CLEAN_THREAD();

    /* Two critical regions, the first left first. */
    Normal.Ran = 0;
    CHECK_STATUS(WdkmRegionEnterCritical(&A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionEnterCritical(&B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionLeave(&A), STATUS_SUCCESS);
    A31Queue(WdkmHostInterruptNormalApc, &Normal);
    CHECK_EQ(Normal.Ran, 0);
    CHECK_STATUS(WdkmRegionLeave(&A), STATUS_WDKM_NOT_HELD);
    CHECK_EQ(Normal.Ran, 0);
    CHECK_STATUS(WdkmRegionLeave(&B), STATUS_SUCCESS);
    CHECK_EQ(Normal.Ran, 1);

    /* A guarded region inside a critical one, the critical left first:
       a special APC stays masked until the guarded one is left too. */
    Special.Ran = 0;
    CHECK_STATUS(WdkmRegionEnterCritical(&A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionEnterGuarded(&B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRegionLeave(&A), STATUS_SUCCESS);
    A31Queue(WdkmHostInterruptSpecialApc, &Special);
    CHECK_EQ(Special.Ran, 0);
    CHECK_STATUS(WdkmRegionLeave(&B), STATUS_SUCCESS);
    CHECK_EQ(Special.Ran, 1);
    CHECK_CLEAN_THREAD();
}

/* The promise of each kind, with real APCs: a critical region masks normal
   kernel APCs only; a guarded region masks special ones too. DPCs are
   masked by neither. The IRQL is not raised by either. */
static VOID
TestRegionApcMasking(VOID)
{
    WDKM_REGION Region;
    A31_EVENT Special = { NULL, NULL, 0, 0, PASSIVE_LEVEL };
    A31_EVENT Normal = { NULL, NULL, 0, 0, PASSIVE_LEVEL };
    A31_EVENT Dpc = { NULL, NULL, 0, 0, PASSIVE_LEVEL };

    CHECK_STATUS(WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    A31Queue(WdkmHostInterruptNormalApc, &Normal);
    A31Queue(WdkmHostInterruptSpecialApc, &Special);
    A31Queue(WdkmHostInterruptDpc, &Dpc);
    CHECK_EQ(Normal.Ran, 0);
    CHECK_EQ(Special.Ran, 1);
    CHECK_EQ(Dpc.Ran, 1);
    CHECK_EQ(Special.Irql, APC_LEVEL);
    CHECK_EQ(Dpc.Irql, DISPATCH_LEVEL);
    CHECK_STATUS(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    CHECK_EQ(Normal.Ran, 1);
    CHECK_EQ(Normal.Irql, PASSIVE_LEVEL);

    Normal.Ran = Special.Ran = Dpc.Ran = 0;
    CHECK_STATUS(WdkmRegionEnterGuarded(&Region), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    A31Queue(WdkmHostInterruptNormalApc, &Normal);
    A31Queue(WdkmHostInterruptSpecialApc, &Special);
    A31Queue(WdkmHostInterruptDpc, &Dpc);
    CHECK_EQ(Normal.Ran, 0);
    CHECK_EQ(Special.Ran, 0);
    CHECK_EQ(Dpc.Ran, 1);
    CHECK_STATUS(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    CHECK_EQ(Special.Ran, 1);
    CHECK_EQ(Normal.Ran, 1);

    /* A refused leave unmasks nothing. */
    Normal.Ran = 0;
    CHECK_STATUS(WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
    A31Queue(WdkmHostInterruptNormalApc, &Normal);
    {
        WDKM_REGION Never;

        RtlZeroMemory(&Never, sizeof(Never));
        CHECK_STATUS(WdkmRegionLeave(&Never), STATUS_WDKM_NOT_HELD);
    }
    CHECK_EQ(Normal.Ran, 0);
    CHECK_STATUS(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    CHECK_EQ(Normal.Ran, 1);
    CHECK_CLEAN_THREAD();
}

typedef struct _A31_REGION_IN_EVENT {
    WDKM_REGION *Interrupted;       /* the interrupted code's region */
    NTSTATUS LeaveInterrupted;
    NTSTATUS EnterOwn;
    NTSTATUS LeaveOwn;
    NTSTATUS LeaveOwnAgain;
} A31_REGION_IN_EVENT;

static VOID
A31RegionInEvent(PVOID Context)
{
    A31_REGION_IN_EVENT *Work = (A31_REGION_IN_EVENT *)Context;
    WDKM_REGION Own;

    Work->LeaveInterrupted = WdkmRegionLeave(Work->Interrupted);
    Work->EnterOwn = WdkmRegionEnterCritical(&Own);
    if (Work->EnterOwn == STATUS_SUCCESS) {
        Work->LeaveOwn = WdkmRegionLeave(&Own);
        Work->LeaveOwnAgain = WdkmRegionLeave(&Own);
    }
}

/*
 * A DPC or a special kernel APC on the thread that entered a region is, to
 * NT, the same thread: the library's owner check cannot tell it from the
 * thread itself. Leaving the interrupted code's region from there would
 * return from the event with the APC-disable count changed (NT:
 * APC_INDEX_MISMATCH or TIMER_OR_DPC_INVALID). The DPC is refused by its
 * IRQL. The special APC, at APC_LEVEL, looks like the thread itself having
 * raised its IRQL, which may leave its region there: this attack found it
 * succeeding and the thread bugchecking, which reference.md now lists
 * under "What is not detected"; the test holds the library to that.
 */
static VOID
TestRegionLeftFromEventOnSameThread(VOID)
{
    WDKM_REGION Region;
    A31_REGION_IN_EVENT Work;
    A31_EVENT Event;
    LONG BugchecksBefore = A31Bugchecks;

    WdkmHostSetBugcheckHandler(A31BugcheckHandler, NULL);

    /* A DPC. */
    RtlZeroMemory(&Work, sizeof(Work));
    Work.Interrupted = &Region;
    Event.Action = A31RegionInEvent;
    Event.Context = &Work;
    Event.Ran = 0;
    CHECK_STATUS(WdkmRegionEnterGuarded(&Region), STATUS_SUCCESS);
    A31Queue(WdkmHostInterruptDpc, &Event);
    CHECK_EQ(Event.Ran, 1);
    CHECK_EQ(A31Bugchecks, BugchecksBefore);
    CHECK_STATUS(Work.LeaveInterrupted, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Work.EnterOwn, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(KeAreAllApcsDisabled());
    CHECK_STATUS(WdkmRegionLeave(&Region), STATUS_SUCCESS);
    CHECK_CLEAN_THREAD();

    /* A special kernel APC inside a critical region (not masked there):
       not detected (reference.md): its leave succeeds, and NT bugchecks
       APC_INDEX_MISMATCH when the APC returns. Its own region, entered and
       left inside, is fine. */
    RtlZeroMemory(&Work, sizeof(Work));
    Work.Interrupted = &Region;
    Event.Ran = 0;
    CHECK_STATUS(WdkmRegionEnterCritical(&Region), STATUS_SUCCESS);
    A31Queue(WdkmHostInterruptSpecialApc, &Event);
    WdkmHostSetBugcheckHandler(NULL, NULL);
    CHECK_EQ(Event.Ran, 1);
    CHECK_STATUS(Work.LeaveInterrupted, STATUS_SUCCESS);
    CHECK_EQ(A31Bugchecks, BugchecksBefore + 1);
    CHECK_EQ(A31BugcheckCode, APC_INDEX_MISMATCH);
    CHECK_STATUS(Work.EnterOwn, STATUS_SUCCESS);
    CHECK_STATUS(Work.LeaveOwn, STATUS_SUCCESS);
    CHECK_STATUS(Work.LeaveOwnAgain, STATUS_WDKM_NOT_HELD);
    /* The emulation put the count back as the APC found it: the region is
       still entered to the kernel, left to the library. */
    CHECK(KeAreApcsDisabled());
    CHECK_STATUS(WdkmRegionLeave(&Region), STATUS_WDKM_NOT_HELD);
    KeLeaveCriticalRegion();
    CHECK_CLEAN_THREAD();
}

/* A region entered in a normal kernel APC (PASSIVE_LEVEL) is the APC's own;
   the interrupted code, which never entered a region, holds nothing. */
static VOID
A31RegionInNormalApc(PVOID Context)
{
    A31_REGION_IN_EVENT *Work = (A31_REGION_IN_EVENT *)Context;
    WDKM_REGION Own;

    Work->EnterOwn = WdkmRegionEnterGuarded(&Own);
    if (Work->EnterOwn == STATUS_SUCCESS) {
        Work->LeaveOwn = WdkmRegionLeave(&Own);
    }
}

static VOID
TestRegionInNormalApc(VOID)
{
    A31_REGION_IN_EVENT Work;
    A31_EVENT Event;

    RtlZeroMemory(&Work, sizeof(Work));
    Event.Action = A31RegionInNormalApc;
    Event.Context = &Work;
    Event.Ran = 0;
    A31Queue(WdkmHostInterruptNormalApc, &Event);
    CHECK_EQ(Event.Ran, 1);
    CHECK_STATUS(Work.EnterOwn, STATUS_SUCCESS);
    CHECK_STATUS(Work.LeaveOwn, STATUS_SUCCESS);
    CHECK_CLEAN_THREAD();
}

/* Scoped regions: the block runs inside; every exit the docs list for this
   compiler leaves the region. */
static BOOLEAN
A31ReturnFromCriticalScope(NTSTATUS *Status)
{
    WDKM_CRITICAL_REGION_SCOPED(Status) {
        return KeAreApcsDisabled();        /* computed inside the region */
    } WDKM_SCOPED_END
    return FALSE;
}

static LONG
A31GotoOutOfGuardedScope(NTSTATUS *Status)
{
    LONG Ran = 0;

    WDKM_GUARDED_REGION_SCOPED(Status) {
        Ran += 1;
        if (KeAreAllApcsDisabled()) {
            goto Out;
        }
        Ran += 100;
    } WDKM_SCOPED_END
Out:
    return Ran;
}

static ULONG
A31NestedRegionScopesReturn(NTSTATUS *Outer, NTSTATUS *Middle, NTSTATUS *Inner)
{
    WDKM_CRITICAL_REGION_SCOPED(Outer) {
        WDKM_GUARDED_REGION_SCOPED(Middle) {
            WDKM_CRITICAL_REGION_SCOPED(Inner) {
                return 3;
            } WDKM_SCOPED_END
        } WDKM_SCOPED_END
    } WDKM_SCOPED_END
    return 0;
}

static VOID
TestRegionScoped(VOID)
{
    NTSTATUS Status = STATUS_PENDING;
    NTSTATUS Outer, Middle, Inner;
    LONG Ran = 0;
    LONG Iterations = 0;
    LONG Index;
    KIRQL OldIrql;
    A31_EVENT Normal = { NULL, NULL, 0, 0, PASSIVE_LEVEL };
    A31_EVENT Special = { NULL, NULL, 0, 0, PASSIVE_LEVEL };

    WDKM_CRITICAL_REGION_SCOPED(&Status) {
        Ran += 1;
        CHECK(KeAreApcsDisabled());
        A31Queue(WdkmHostInterruptNormalApc, &Normal);
        A31Queue(WdkmHostInterruptSpecialApc, &Special);
        CHECK_EQ(Normal.Ran, 0);
        CHECK_EQ(Special.Ran, 1);
    } WDKM_SCOPED_END
    CHECK_EQ(Ran, 1);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Normal.Ran, 1);                 /* ran at the scope's end */
    CHECK_CLEAN_THREAD();

    Ran = 0;
    Special.Ran = 0;
    WDKM_GUARDED_REGION_SCOPED(&Status) {
        Ran += 1;
        CHECK(KeAreAllApcsDisabled());
        A31Queue(WdkmHostInterruptSpecialApc, &Special);
        CHECK_EQ(Special.Ran, 0);
    } WDKM_SCOPED_END
    CHECK_EQ(Ran, 1);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Special.Ran, 1);
    CHECK_CLEAN_THREAD();

    /* Refused at DISPATCH_LEVEL: the block does not run. */
    Ran = 0;
    Status = STATUS_PENDING;
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    WDKM_GUARDED_REGION_SCOPED(&Status) {
        Ran += 1;
    } WDKM_SCOPED_END
    WDKM_CRITICAL_REGION_SCOPED(&Status) {
        Ran += 1;
    } WDKM_SCOPED_END
    KeLowerIrql(OldIrql);
    CHECK_EQ(Ran, 0);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);

    /* `break` and `continue` act on the scope, not the loop around it. */
    Ran = 0;
    for (Index = 0; Index < 3; Index += 1) {
        WDKM_CRITICAL_REGION_SCOPED(&Status) {
            Ran += 1;
            if (Index == 1) {
                break;
            }
            if (Index == 2) {
                continue;
            }
            Ran += 10;
        } WDKM_SCOPED_END
        CHECK(!KeAreApcsDisabled());
        Iterations += 1;
    }
    CHECK_EQ(Iterations, 3);
    CHECK_EQ(Ran, 13);
    CHECK_CLEAN_THREAD();

    /* `return` (its value computed inside) and `goto` out. */
    Status = STATUS_PENDING;
    CHECK(A31ReturnFromCriticalScope(&Status));
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_CLEAN_THREAD();
    Status = STATUS_PENDING;
    CHECK_EQ(A31GotoOutOfGuardedScope(&Status), 1);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_CLEAN_THREAD();
    CHECK_EQ(A31NestedRegionScopesReturn(&Outer, &Middle, &Inner), 3);
    CHECK_STATUS(Outer, STATUS_SUCCESS);
    CHECK_STATUS(Middle, STATUS_SUCCESS);
    CHECK_STATUS(Inner, STATUS_SUCCESS);
    CHECK_CLEAN_THREAD();
}

/* The scoped form with a NULL status pointer: NULL is an argument error
   everywhere, and there is no place to report it, so (docs silent) the
   block must not run, nothing may crash and nothing stays entered. */
static VOID
TestRegionScopedNullStatus(VOID)
{
    LONG Ran = 0;

    WDKM_CRITICAL_REGION_SCOPED(NULL) {
        Ran += 1;
    } WDKM_SCOPED_END
    WDKM_GUARDED_REGION_SCOPED(NULL) {
        Ran += 1;
    } WDKM_SCOPED_END
    CHECK_EQ(Ran, 0);
    CHECK_CLEAN_THREAD();
}

/* ========================================================================
 * 2. Scoped forms of the lock kinds
 */

typedef struct _A31_LOCKS {
    PWDKM_KMUTEX KMutex;
    PWDKM_FAST_MUTEX FastMutex;
    PWDKM_SPIN_LOCK SpinLock;
    PWDKM_GUARDED_MUTEX Guarded;
    PWDKM_RESOURCE Resource;
    PWDKM_PUSH_LOCK PushLock;
} A31_LOCKS;

static NTSTATUS
A31CreateLocks(A31_LOCKS *Locks, LONG Value)
{
    A31_VALUE Initial = { 0, 0, 0 };
    NTSTATUS Status;

    Initial.Value = Value;
    RtlZeroMemory(Locks, sizeof(*Locks));
    Status = WDKM_KMUTEX_CREATE(&Initial, &Locks->KMutex);
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_FAST_MUTEX_CREATE(&Initial, &Locks->FastMutex);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_SPIN_LOCK_CREATE(&Initial, &Locks->SpinLock);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_GUARDED_MUTEX_CREATE(&Initial, &Locks->Guarded);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_RESOURCE_CREATE(&Initial, &Locks->Resource);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_PUSH_LOCK_CREATE(&Initial, &Locks->PushLock);
    }
    return Status;
}

/* The checked build's lock classes are per creation site: locks that a
   test takes in another order than the nesting test get classes of their
   own, so lock-order validation sees two consistent orders. */
static VOID
A31NameLocks(A31_LOCKS *Locks, ULONG Set)
{
#if WDKM_CHECKED
    static char Names[8][6][40];
    static const PCSTR Kinds[6] = { "kmutex", "fastmutex", "spinlock", "guarded", "resource", "pushlock" };
    PVOID Handles[6];
    ULONG Index;

    Handles[0] = Locks->KMutex;
    Handles[1] = Locks->FastMutex;
    Handles[2] = Locks->SpinLock;
    Handles[3] = Locks->Guarded;
    Handles[4] = Locks->Resource;
    Handles[5] = Locks->PushLock;
    for (Index = 0; Index < 6; Index += 1) {
        (VOID)snprintf(Names[Set % 8][Index], sizeof(Names[0][0]), "attack31.events%u.%s",
                       (unsigned)(Set % 8), Kinds[Index]);
        (VOID)WdkmDiagSetClassName(Handles[Index], Names[Set % 8][Index]);
    }
#else
    UNREFERENCED_PARAMETER(Locks);
    UNREFERENCED_PARAMETER(Set);
#endif
}

static NTSTATUS
A31DestroyLocks(A31_LOCKS *Locks)
{
    NTSTATUS Result = STATUS_SUCCESS;
    NTSTATUS Status;

#define A31_DESTROY(Routine, Field)                                        \
    if (Locks->Field != NULL) {                                            \
        Status = Routine(Locks->Field);                                    \
        if (Status != STATUS_SUCCESS) {                                    \
            Result = Status;                                               \
        }                                                                  \
        Locks->Field = NULL;                                               \
    }
    A31_DESTROY(WdkmKMutexDestroy, KMutex)
    A31_DESTROY(WdkmFastMutexDestroy, FastMutex)
    A31_DESTROY(WdkmSpinLockDestroy, SpinLock)
    A31_DESTROY(WdkmGuardedMutexDestroy, Guarded)
    A31_DESTROY(WdkmResourceDestroy, Resource)
    A31_DESTROY(WdkmPushLockDestroy, PushLock)
#undef A31_DESTROY
    return Result;
}

/*
 * The exits of one scoped form, generated for every kind: falling off the
 * end, continue, break (inside a loop), return (value computed under the
 * lock), goto out. Each returns how many times the block ran; *Status is
 * the scope's status.
 */
#define A31_SCOPE_EXITS(Tag, SCOPED, LockType)                              \
    static LONG Tag##Fall(PVOID LockArgument, NTSTATUS *Status)             \
    {                                                                       \
        LockType Lock = (LockType)LockArgument;                             \
        const A31_VALUE *Data = (const A31_VALUE *)(ULONG_PTR)1;            \
        LONG Ran = 0;                                                       \
        SCOPED(Lock, Data, Status) {                                        \
            Ran += (Data->Value == 31) ? 1 : 1000;                          \
        } WDKM_SCOPED_END                                                   \
        return Ran;                                                         \
    }                                                                       \
    static LONG Tag##Loop(PVOID LockArgument, NTSTATUS *Status)             \
    {                                                                       \
        LockType Lock = (LockType)LockArgument;                             \
        const A31_VALUE *Data;                                              \
        LONG Ran = 0;                                                       \
        LONG Index;                                                         \
        for (Index = 0; Index < 3; Index += 1) {                            \
            SCOPED(Lock, Data, Status) {                                    \
                Ran += 1;                                                   \
                if (Index == 0) {                                           \
                    continue;                                               \
                }                                                           \
                if (Data->Value == 31) {                                    \
                    break;                                                  \
                }                                                           \
                Ran += 1000;                                                \
            } WDKM_SCOPED_END                                               \
            if (WdkmHostThreadHeldLockCount() != 0) {                       \
                Ran += 10000;                                               \
            }                                                               \
            Ran += 10;                                                      \
        }                                                                   \
        return Ran;                                                         \
    }                                                                       \
    static LONG Tag##Return(PVOID LockArgument, NTSTATUS *Status) \
    {                                                                       \
        LockType Lock = (LockType)LockArgument;                             \
        const A31_VALUE *Data;                                              \
        SCOPED(Lock, Data, Status) {                                        \
            return (LONG)WdkmHostThreadHeldLockCount() * 100 + Data->Value; \
        } WDKM_SCOPED_END                                                   \
        return -1;                                                          \
    }                                                                       \
    static LONG Tag##Goto(PVOID LockArgument, NTSTATUS *Status)             \
    {                                                                       \
        LockType Lock = (LockType)LockArgument;                             \
        const A31_VALUE *Data;                                              \
        LONG Ran = 0;                                                       \
        SCOPED(Lock, Data, Status) {                                        \
            Ran += 1;                                                       \
            if (Data->Value == 31) {                                        \
                goto Out;                                                   \
            }                                                               \
            Ran += 1000;                                                    \
        } WDKM_SCOPED_END                                                   \
    Out:                                                                    \
        return Ran;                                                         \
    }

A31_SCOPE_EXITS(A31KMutex, WDKM_KMUTEX_SCOPED, PWDKM_KMUTEX)
A31_SCOPE_EXITS(A31FastMutex, WDKM_FAST_MUTEX_SCOPED, PWDKM_FAST_MUTEX)
A31_SCOPE_EXITS(A31SpinLock, WDKM_SPIN_LOCK_SCOPED, PWDKM_SPIN_LOCK)
A31_SCOPE_EXITS(A31Guarded, WDKM_GUARDED_MUTEX_SCOPED, PWDKM_GUARDED_MUTEX)
A31_SCOPE_EXITS(A31ResourceX, WDKM_RESOURCE_EXCLUSIVE_SCOPED, PWDKM_RESOURCE)
A31_SCOPE_EXITS(A31ResourceS, WDKM_RESOURCE_SHARED_SCOPED, PWDKM_RESOURCE)
A31_SCOPE_EXITS(A31PushX, WDKM_PUSH_LOCK_EXCLUSIVE_SCOPED, PWDKM_PUSH_LOCK)
A31_SCOPE_EXITS(A31PushS, WDKM_PUSH_LOCK_SHARED_SCOPED, PWDKM_PUSH_LOCK)
A31_SCOPE_EXITS(A31GrtK, WDKM_GRT_KMUTEX_SCOPED, PCSTR)
A31_SCOPE_EXITS(A31GrtF, WDKM_GRT_FAST_MUTEX_SCOPED, PCSTR)

typedef struct _A31_KIND_EXITS {
    PCSTR Name;
    LONG (*Fall)(PVOID, NTSTATUS *);
    LONG (*Loop)(PVOID, NTSTATUS *);
    LONG (*Return)(PVOID, NTSTATUS *);
    LONG (*Goto)(PVOID, NTSTATUS *);
} A31_KIND_EXITS;

/* Every kind's exits through one table (the lock argument as PVOID). */
#define A31_ENTRY(Tag, Name) { Name, Tag##Fall, Tag##Loop, Tag##Return, Tag##Goto }

static const A31_KIND_EXITS A31Exits[] = {
    A31_ENTRY(A31KMutex, "kmutex"),
    A31_ENTRY(A31FastMutex, "fast mutex"),
    A31_ENTRY(A31SpinLock, "spin lock"),
    A31_ENTRY(A31Guarded, "guarded mutex"),
    A31_ENTRY(A31ResourceX, "resource exclusive"),
    A31_ENTRY(A31ResourceS, "resource shared"),
    A31_ENTRY(A31PushX, "push lock exclusive"),
    A31_ENTRY(A31PushS, "push lock shared"),
    A31_ENTRY(A31GrtK, "registry kmutex"),
    A31_ENTRY(A31GrtF, "registry fast mutex"),
};

static PVOID
A31LockFor(const A31_LOCKS *Locks, ULONG Kind)
{
    switch (Kind) {
    case 0: return Locks->KMutex;
    case 1: return Locks->FastMutex;
    case 2: return Locks->SpinLock;
    case 3: return Locks->Guarded;
    case 4: case 5: return Locks->Resource;
    case 6: case 7: return Locks->PushLock;
    case 8: return (PVOID)"attack31.kmutex";
    default: return (PVOID)"attack31.fastmutex";
    }
}

static NTSTATUS
A31GrtStart(VOID)
{
    A31_VALUE Initial = { 31, 0, 0 };
    NTSTATUS Status = WdkmGrtInitialize();

    if (Status == STATUS_SUCCESS) {
        Status = WDKM_GRT_REGISTER_KMUTEX("attack31.kmutex", &Initial);
    }
    if (Status == STATUS_SUCCESS) {
        Status = WDKM_GRT_REGISTER_FAST_MUTEX("attack31.fastmutex", &Initial);
    }
    return Status;
}

static NTSTATUS
A31GrtStop(VOID)
{
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(2000);
    return WdkmGrtDestroy(&Timeout, NULL);
}

/* Every documented exit of every kind's scope releases (GCC/Clang: all of
   them). After each: nothing held, PASSIVE_LEVEL, no region left entered. */
static VOID
TestScopeEveryExitReleases(VOID)
{
    A31_LOCKS Locks;
    ULONG Kind;

    CHECK(WDKM_SCOPE_EXIT_RELEASES == 1);
    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    CHECK_STATUS(A31GrtStart(), STATUS_SUCCESS);
    for (Kind = 0; Kind < sizeof(A31Exits) / sizeof(A31Exits[0]); Kind += 1) {
        PVOID Lock = A31LockFor(&Locks, Kind);
        NTSTATUS Status = STATUS_PENDING;

        printf("  %s\n", A31Exits[Kind].Name);
        CHECK_EQ(A31Exits[Kind].Fall(Lock, &Status), 1);
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_CLEAN_THREAD();
        Status = STATUS_PENDING;
        CHECK_EQ(A31Exits[Kind].Loop(Lock, &Status), 3 + 30);
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_CLEAN_THREAD();
        Status = STATUS_PENDING;
        CHECK_EQ(A31Exits[Kind].Return(Lock, &Status), 100 + 31);
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_CLEAN_THREAD();
        Status = STATUS_PENDING;
        CHECK_EQ(A31Exits[Kind].Goto(Lock, &Status), 1);
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_CLEAN_THREAD();
    }
    CHECK_STATUS(A31GrtStop(), STATUS_SUCCESS);
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);   /* none left held */
}

/* Failed acquisitions: the block never runs, the data pointer is NULL,
   *Status says why; nothing held afterwards. */
static VOID
TestScopeFailureNeverRunsBlock(VOID)
{
    A31_LOCKS Locks;
    ULONG Kind;
    KIRQL OldIrql;

    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    CHECK_STATUS(A31GrtStart(), STATUS_SUCCESS);
    for (Kind = 0; Kind < sizeof(A31Exits) / sizeof(A31Exits[0]); Kind += 1) {
        NTSTATUS Status = STATUS_PENDING;
        BOOLEAN Registry = (Kind >= 8);

        printf("  %s\n", A31Exits[Kind].Name);
        /* NULL lock (or name). */
        CHECK_EQ(A31Exits[Kind].Fall(NULL, &Status), 0);
        CHECK_STATUS(Status, STATUS_INVALID_PARAMETER);
        /* Too high an IRQL: DISPATCH_LEVEL, or above it for the spin lock. */
        Status = STATUS_PENDING;
        KeRaiseIrql(Kind == 2 ? HIGH_LEVEL : DISPATCH_LEVEL, &OldIrql);
        {
            LONG Ran = A31Exits[Kind].Goto(A31LockFor(&Locks, Kind), &Status);

            KeLowerIrql(OldIrql);
            CHECK_EQ(Ran, 0);
        }
        CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
        CHECK_CLEAN_THREAD();
        if (!Registry) {
            /* A lock of another kind behind the handle. */
            PVOID Other = (Kind == 1) ? (PVOID)Locks.KMutex : (PVOID)Locks.FastMutex;

            Status = STATUS_PENDING;
            CHECK_EQ(A31Exits[Kind].Return(Other, &Status), -1);
            CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
            CHECK_CLEAN_THREAD();
        }
    }

    /* A type of another size: TYPE_MISMATCH, and the data pointer NULL. */
    {
        ULONG *Wrong = (ULONG *)(ULONG_PTR)1;
        const ULONG *WrongConst = (const ULONG *)(ULONG_PTR)1;
        NTSTATUS Status = STATUS_PENDING;
        LONG Ran = 0;

#define A31_WRONG(SCOPED, Lock, Pointer)                                   \
        Status = STATUS_PENDING;                                            \
        Pointer = (void *)(ULONG_PTR)1;                                     \
        SCOPED(Lock, Pointer, &Status) {                                    \
            Ran += 1;                                                       \
        } WDKM_SCOPED_END                                                   \
        CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);                    \
        CHECK(Pointer == NULL);                                             \
        CHECK_EQ(Ran, 0);                                                   \
        CHECK_CLEAN_THREAD();
        A31_WRONG(WDKM_KMUTEX_SCOPED, Locks.KMutex, Wrong)
        A31_WRONG(WDKM_FAST_MUTEX_SCOPED, Locks.FastMutex, Wrong)
        A31_WRONG(WDKM_SPIN_LOCK_SCOPED, Locks.SpinLock, Wrong)
        A31_WRONG(WDKM_GUARDED_MUTEX_SCOPED, Locks.Guarded, Wrong)
        A31_WRONG(WDKM_RESOURCE_EXCLUSIVE_SCOPED, Locks.Resource, Wrong)
        A31_WRONG(WDKM_RESOURCE_SHARED_SCOPED, Locks.Resource, WrongConst)
        A31_WRONG(WDKM_PUSH_LOCK_EXCLUSIVE_SCOPED, Locks.PushLock, Wrong)
        A31_WRONG(WDKM_PUSH_LOCK_SHARED_SCOPED, Locks.PushLock, WrongConst)
        A31_WRONG(WDKM_GRT_KMUTEX_SCOPED, "attack31.kmutex", Wrong)
        A31_WRONG(WDKM_GRT_FAST_MUTEX_SCOPED, "attack31.fastmutex", Wrong)
#undef A31_WRONG
    }

    /* The owner of a non-recursive lock asking again through a scope:
       refused, the outer hold intact. */
    {
        A31_VALUE *Outer;
        const A31_VALUE *Inner = NULL;
        NTSTATUS Status = STATUS_PENDING;
        NTSTATUS InnerStatus = STATUS_PENDING;
        LONG Ran = 0;

        WDKM_FAST_MUTEX_SCOPED(Locks.FastMutex, Outer, &Status) {
            WDKM_FAST_MUTEX_SCOPED(Locks.FastMutex, Inner, &InnerStatus) {
                Ran += 1;
            } WDKM_SCOPED_END
            CHECK(WdkmFastMutexIsOwned(Locks.FastMutex));
            Outer->A += 1;
        } WDKM_SCOPED_END
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_STATUS(InnerStatus, STATUS_POSSIBLE_DEADLOCK);
        CHECK(Inner == NULL);
        CHECK_EQ(Ran, 0);
        CHECK_CLEAN_THREAD();

        WDKM_PUSH_LOCK_SHARED_SCOPED(Locks.PushLock, Inner, &Status) {
            WDKM_PUSH_LOCK_EXCLUSIVE_SCOPED(Locks.PushLock, Outer, &InnerStatus) {
                Ran += 1;
            } WDKM_SCOPED_END
        } WDKM_SCOPED_END
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_STATUS(InnerStatus, STATUS_POSSIBLE_DEADLOCK);
        CHECK_EQ(Ran, 0);
        CHECK_CLEAN_THREAD();
    }
    CHECK_STATUS(A31GrtStop(), STATUS_SUCCESS);
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
}

/* NULL status pointer on a lock's scope: as for regions (docs silent),
   the block does not run and nothing stays held. */
static VOID
TestScopeNullStatus(VOID)
{
    A31_LOCKS Locks;
    A31_VALUE *Data;
    const A31_VALUE *Shared;
    LONG Ran = 0;

    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    WDKM_KMUTEX_SCOPED(Locks.KMutex, Data, NULL) { Ran += 1; } WDKM_SCOPED_END
    CHECK_CLEAN_THREAD();
    WDKM_FAST_MUTEX_SCOPED(Locks.FastMutex, Data, NULL) { Ran += 1; } WDKM_SCOPED_END
    CHECK_CLEAN_THREAD();
    WDKM_SPIN_LOCK_SCOPED(Locks.SpinLock, Data, NULL) { Ran += 1; } WDKM_SCOPED_END
    CHECK_CLEAN_THREAD();
    WDKM_GUARDED_MUTEX_SCOPED(Locks.Guarded, Data, NULL) { Ran += 1; } WDKM_SCOPED_END
    CHECK_CLEAN_THREAD();
    WDKM_RESOURCE_EXCLUSIVE_SCOPED(Locks.Resource, Data, NULL) { Ran += 1; } WDKM_SCOPED_END
    CHECK_CLEAN_THREAD();
    WDKM_RESOURCE_SHARED_SCOPED(Locks.Resource, Shared, NULL) { Ran += 1; } WDKM_SCOPED_END
    CHECK_CLEAN_THREAD();
    WDKM_PUSH_LOCK_EXCLUSIVE_SCOPED(Locks.PushLock, Data, NULL) { Ran += 1; } WDKM_SCOPED_END
    CHECK_CLEAN_THREAD();
    WDKM_PUSH_LOCK_SHARED_SCOPED(Locks.PushLock, Shared, NULL) { Ran += 1; } WDKM_SCOPED_END
    CHECK_CLEAN_THREAD();
    CHECK_EQ(Ran, 0);
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
}

/*
 * Scopes of different kinds nested in one fixed order (a fixed order so the
 * checked build's lock-order validation sees one consistent order), left
 * by a random exit at a random depth. Seeded.
 */
typedef struct _A31_NEST {
    A31_LOCKS *Locks;
    ULONG ExitDepth;        /* 0..5: the scope the exit is taken in */
    ULONG ExitKind;         /* 0 fall, 1 break, 2 return, 3 goto */
    ULONG Deepest;          /* how deep the blocks ran */
    NTSTATUS Status[6];
} A31_NEST;

#define A31_EXIT_AT(Depth)                                                 \
    if (Nest->ExitDepth == (Depth)) {                                      \
        if (Nest->ExitKind == 1) { break; }                                \
        if (Nest->ExitKind == 2) { return (Depth); }                       \
        if (Nest->ExitKind == 3) { goto Out; }                             \
    }

static ULONG
A31Nest(A31_NEST *Nest)
{
    A31_VALUE *K, *F, *S;
    A31_VALUE *R;
    const A31_VALUE *P;
    A31_VALUE *G;

    WDKM_KMUTEX_SCOPED(Nest->Locks->KMutex, K, &Nest->Status[0]) {
        Nest->Deepest = 1;
        K->A += 1;
        A31_EXIT_AT(0)
        WDKM_RESOURCE_EXCLUSIVE_SCOPED(Nest->Locks->Resource, R, &Nest->Status[1]) {
            Nest->Deepest = 2;
            R->A += 1;
            A31_EXIT_AT(1)
            WDKM_PUSH_LOCK_SHARED_SCOPED(Nest->Locks->PushLock, P, &Nest->Status[2]) {
                Nest->Deepest = 3;
                A31_EXIT_AT(2)
                WDKM_GUARDED_MUTEX_SCOPED(Nest->Locks->Guarded, G, &Nest->Status[3]) {
                    Nest->Deepest = 4;
                    G->A += P->Value;
                    A31_EXIT_AT(3)
                    WDKM_FAST_MUTEX_SCOPED(Nest->Locks->FastMutex, F, &Nest->Status[4]) {
                        Nest->Deepest = 5;
                        F->A += 1;
                        A31_EXIT_AT(4)
                        WDKM_SPIN_LOCK_SCOPED(Nest->Locks->SpinLock, S, &Nest->Status[5]) {
                            Nest->Deepest = 6;
                            S->A += 1;
                            if (KeGetCurrentIrql() != DISPATCH_LEVEL) {
                                S->B = 1;
                            }
                            A31_EXIT_AT(5)
                        } WDKM_SCOPED_END
                        if (KeGetCurrentIrql() != APC_LEVEL) {
                            F->B = 1;
                        }
                    } WDKM_SCOPED_END
                } WDKM_SCOPED_END
            } WDKM_SCOPED_END
        } WDKM_SCOPED_END
    } WDKM_SCOPED_END
    return 100;
Out:
    return 200;
}

static VOID
TestScopeNestingKinds(VOID)
{
    A31_LOCKS Locks;
    ULONG64 Random = A31Seed();
    ULONG Round;

    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    for (Round = 0; Round < 48; Round += 1) {
        A31_NEST Nest;
        ULONG Result;
        ULONG Index;

        RtlZeroMemory(&Nest, sizeof(Nest));
        Nest.Locks = &Locks;
        Nest.ExitDepth = A31Next(&Random) % 6;
        Nest.ExitKind = A31Next(&Random) % 4;
        for (Index = 0; Index < 6; Index += 1) {
            Nest.Status[Index] = STATUS_PENDING;
        }
        Result = A31Nest(&Nest);
        CHECK_CLEAN_THREAD();
        if (Nest.ExitKind == 2) {
            CHECK_EQ(Result, Nest.ExitDepth);
            CHECK_EQ(Nest.Deepest, Nest.ExitDepth + 1);
        } else if (Nest.ExitKind == 3) {
            CHECK_EQ(Result, 200);
            CHECK_EQ(Nest.Deepest, Nest.ExitDepth + 1);
        } else {
            CHECK_EQ(Result, 100);
            CHECK_EQ(Nest.Deepest, Nest.ExitKind == 1 ? Nest.ExitDepth + 1 : 6);
        }
        for (Index = 0; Index < Nest.Deepest; Index += 1) {
            CHECK_STATUS(Nest.Status[Index], STATUS_SUCCESS);
        }
    }
    /* Every lock is free: destroy would say LOCK_HELD otherwise. */
    {
        A31_VALUE Value;

        CHECK_STATUS(WDKM_SPIN_LOCK_TAKE(Locks.SpinLock, &Value), STATUS_SUCCESS);
        Locks.SpinLock = NULL;
        CHECK_EQ(Value.B, 0);               /* the block ran at DISPATCH_LEVEL */
        CHECK_STATUS(WDKM_FAST_MUTEX_TAKE(Locks.FastMutex, &Value), STATUS_SUCCESS);
        Locks.FastMutex = NULL;
        CHECK_EQ(Value.B, 0);               /* and the spin scope restored APC_LEVEL */
    }
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
}

/* A release that fails (the block raised the IRQL and left it raised):
   *Status is the release's error, and the lock is still held as "no change
   on error" says, so the caller can release it once the IRQL is back. */
static VOID
TestScopeReleaseFailureLeavesLockHeld(VOID)
{
    A31_LOCKS Locks;
    A31_VALUE *Data;
    NTSTATUS Status = STATUS_PENDING;
    KIRQL OldIrql = PASSIVE_LEVEL;

    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    WDKM_KMUTEX_SCOPED(Locks.KMutex, Data, &Status) {
        Data->A += 1;
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    } WDKM_SCOPED_END
    KeLowerIrql(OldIrql);
    CHECK(Status != STATUS_SUCCESS);
    CHECK(!NT_SUCCESS(Status));
    CHECK(WdkmKMutexIsOwned(Locks.KMutex));
    CHECK_STATUS(WdkmKMutexRelease(Locks.KMutex), STATUS_SUCCESS);
    CHECK_CLEAN_THREAD();
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
}

/* Scopes run by DPCs and special kernel APCs on a holder's thread. */
typedef struct _A31_SCOPE_IN_EVENT {
    A31_LOCKS *Locks;
    NTSTATUS KMutex, FastMutex, SpinLock, Guarded, ResourceX, ResourceS, PushX, PushS;
    LONG Ran;
    KIRQL IrqlAfterSpin;
    LONG SeenValue;
} A31_SCOPE_IN_EVENT;

static VOID
A31ScopesInEvent(PVOID Context)
{
    A31_SCOPE_IN_EVENT *Work = (A31_SCOPE_IN_EVENT *)Context;
    A31_VALUE *Data;
    const A31_VALUE *Shared;

    WDKM_KMUTEX_SCOPED(Work->Locks->KMutex, Data, &Work->KMutex) {
        Work->Ran += 1;
        Work->SeenValue = Data->A;
    } WDKM_SCOPED_END
    WDKM_FAST_MUTEX_SCOPED(Work->Locks->FastMutex, Data, &Work->FastMutex) {
        Work->Ran += 1;
    } WDKM_SCOPED_END
    WDKM_SPIN_LOCK_SCOPED(Work->Locks->SpinLock, Data, &Work->SpinLock) {
        Work->Ran += 1;
        if (Work->Ran > 0) {
            break;
        }
    } WDKM_SCOPED_END
    Work->IrqlAfterSpin = KeGetCurrentIrql();
    WDKM_GUARDED_MUTEX_SCOPED(Work->Locks->Guarded, Data, &Work->Guarded) {
        Work->Ran += 1;
    } WDKM_SCOPED_END
    WDKM_RESOURCE_EXCLUSIVE_SCOPED(Work->Locks->Resource, Data, &Work->ResourceX) {
        Work->Ran += 1;
    } WDKM_SCOPED_END
    WDKM_RESOURCE_SHARED_SCOPED(Work->Locks->Resource, Shared, &Work->ResourceS) {
        Work->Ran += 1;
    } WDKM_SCOPED_END
    WDKM_PUSH_LOCK_EXCLUSIVE_SCOPED(Work->Locks->PushLock, Data, &Work->PushX) {
        Work->Ran += 1;
    } WDKM_SCOPED_END
    WDKM_PUSH_LOCK_SHARED_SCOPED(Work->Locks->PushLock, Shared, &Work->PushS) {
        Work->Ran += 1;
    } WDKM_SCOPED_END
}

static VOID
TestScopesInEventsOnHolder(VOID)
{
    A31_LOCKS Locks;
    A31_SCOPE_IN_EVENT Work;
    A31_EVENT Event;
    A31_VALUE *Data;
    NTSTATUS Status = STATUS_PENDING;
    LONG BugchecksBefore = A31Bugchecks;

    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    A31NameLocks(&Locks, 0);
    WdkmHostSetBugcheckHandler(A31BugcheckHandler, NULL);

    /* A DPC on a KMUTEX holder: only the spin lock's scope is allowed; it
       leaves the DPC at DISPATCH_LEVEL (the saved IRQL) even after break. */
    RtlZeroMemory(&Work, sizeof(Work));
    Work.Locks = &Locks;
    Event.Action = A31ScopesInEvent;
    Event.Context = &Work;
    Event.Ran = 0;
    WDKM_KMUTEX_SCOPED(Locks.KMutex, Data, &Status) {
        Data->A = 7;
        A31Queue(WdkmHostInterruptDpc, &Event);
        CHECK_EQ(Event.Ran, 1);
        CHECK(WdkmKMutexIsOwned(Locks.KMutex));
    } WDKM_SCOPED_END
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(A31Bugchecks, BugchecksBefore);
    CHECK_STATUS(Work.KMutex, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Work.FastMutex, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Work.SpinLock, STATUS_SUCCESS);
    CHECK_EQ(Work.IrqlAfterSpin, DISPATCH_LEVEL);
    CHECK_STATUS(Work.Guarded, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Work.ResourceX, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Work.ResourceS, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Work.PushX, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Work.PushS, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_EQ(Work.Ran, 1);
    CHECK_CLEAN_THREAD();

    /* A special kernel APC on a KMUTEX holder: the KMUTEX is granted as a
       recursion (documented) and shows the holder's value; the rest are
       free and work; the holder still owns its KMUTEX afterwards. */
    RtlZeroMemory(&Work, sizeof(Work));
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    A31NameLocks(&Locks, 1);           /* a fresh set of classes: another order */
    Work.Locks = &Locks;
    Event.Ran = 0;
    WDKM_KMUTEX_SCOPED(Locks.KMutex, Data, &Status) {
        Data->A = 9;
        A31Queue(WdkmHostInterruptSpecialApc, &Event);
        CHECK_EQ(Event.Ran, 1);
        CHECK(WdkmKMutexIsOwned(Locks.KMutex));
        CHECK_EQ(WdkmHostThreadKMutexCount(), 1);
    } WDKM_SCOPED_END
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK(!WdkmKMutexIsOwned(Locks.KMutex));
    CHECK_EQ(A31Bugchecks, BugchecksBefore);
    CHECK_STATUS(Work.KMutex, STATUS_SUCCESS);
    CHECK_EQ(Work.SeenValue, 9);
    CHECK_STATUS(Work.FastMutex, STATUS_SUCCESS);
    CHECK_STATUS(Work.SpinLock, STATUS_SUCCESS);
    CHECK_EQ(Work.IrqlAfterSpin, APC_LEVEL);
    CHECK_STATUS(Work.Guarded, STATUS_SUCCESS);
    CHECK_STATUS(Work.ResourceX, STATUS_SUCCESS);
    CHECK_STATUS(Work.ResourceS, STATUS_SUCCESS);
    CHECK_STATUS(Work.PushX, STATUS_SUCCESS);
    CHECK_STATUS(Work.PushS, STATUS_SUCCESS);
    CHECK_EQ(Work.Ran, 8);
    CHECK_CLEAN_THREAD();

    /* A special kernel APC on an ERESOURCE exclusive holder (a critical
       region does not mask it): recursive like ERESOURCE, both modes. */
    RtlZeroMemory(&Work, sizeof(Work));
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    A31NameLocks(&Locks, 2);           /* a fresh set of classes: another order */
    Work.Locks = &Locks;
    Event.Ran = 0;
    WDKM_RESOURCE_EXCLUSIVE_SCOPED(Locks.Resource, Data, &Status) {
        A31Queue(WdkmHostInterruptSpecialApc, &Event);
        CHECK_EQ(Event.Ran, 1);
        CHECK(WdkmResourceIsOwnedExclusive(Locks.Resource));
    } WDKM_SCOPED_END
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(A31Bugchecks, BugchecksBefore);
    CHECK_STATUS(Work.ResourceX, STATUS_SUCCESS);
    CHECK_STATUS(Work.ResourceS, STATUS_SUCCESS);
    CHECK_STATUS(Work.KMutex, STATUS_SUCCESS);
    CHECK_CLEAN_THREAD();

    /* A special kernel APC on a push lock holder: the owner asking again
       is refused with POSSIBLE_DEADLOCK, not a hang; the block never runs. */
    RtlZeroMemory(&Work, sizeof(Work));
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    A31NameLocks(&Locks, 3);           /* a fresh set of classes: another order */
    Work.Locks = &Locks;
    Event.Ran = 0;
    WDKM_PUSH_LOCK_EXCLUSIVE_SCOPED(Locks.PushLock, Data, &Status) {
        A31Queue(WdkmHostInterruptSpecialApc, &Event);
        CHECK_EQ(Event.Ran, 1);
        CHECK(WdkmPushLockIsOwnedExclusive(Locks.PushLock));
    } WDKM_SCOPED_END
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(A31Bugchecks, BugchecksBefore);
    CHECK_STATUS(Work.PushX, STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Work.PushS, STATUS_POSSIBLE_DEADLOCK);
    CHECK_EQ(Work.Ran, 6);
    CHECK_CLEAN_THREAD();

    /* Holders whose lock masks the event: FAST_MUTEX (APC_LEVEL) and the
       guarded mutex (guarded region) defer a special APC to the scope's
       end; a spin lock defers a DPC. Each then takes the same lock. */
    RtlZeroMemory(&Work, sizeof(Work));
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    A31NameLocks(&Locks, 4);           /* a fresh set of classes: another order */
    Work.Locks = &Locks;
    Event.Ran = 0;
    WDKM_FAST_MUTEX_SCOPED(Locks.FastMutex, Data, &Status) {
        A31Queue(WdkmHostInterruptSpecialApc, &Event);
        CHECK_EQ(Event.Ran, 0);
    } WDKM_SCOPED_END
    CHECK_EQ(Event.Ran, 1);
    CHECK_STATUS(Work.FastMutex, STATUS_SUCCESS);
    CHECK_EQ(Work.Ran, 8);
    RtlZeroMemory(&Work, sizeof(Work));
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    A31NameLocks(&Locks, 5);           /* a fresh set of classes: another order */
    Work.Locks = &Locks;
    Event.Ran = 0;
    WDKM_GUARDED_MUTEX_SCOPED(Locks.Guarded, Data, &Status) {
        A31Queue(WdkmHostInterruptSpecialApc, &Event);
        CHECK_EQ(Event.Ran, 0);
    } WDKM_SCOPED_END
    CHECK_EQ(Event.Ran, 1);
    CHECK_STATUS(Work.Guarded, STATUS_SUCCESS);
    CHECK_EQ(Work.Ran, 8);
    RtlZeroMemory(&Work, sizeof(Work));
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    A31NameLocks(&Locks, 6);           /* a fresh set of classes: another order */
    Work.Locks = &Locks;
    Event.Ran = 0;
    WDKM_SPIN_LOCK_SCOPED(Locks.SpinLock, Data, &Status) {
        A31Queue(WdkmHostInterruptDpc, &Event);
        CHECK_EQ(Event.Ran, 0);
    } WDKM_SCOPED_END
    CHECK_EQ(Event.Ran, 1);
    CHECK_STATUS(Work.SpinLock, STATUS_SUCCESS);
    CHECK_EQ(Work.IrqlAfterSpin, DISPATCH_LEVEL);
    CHECK_EQ(A31Bugchecks, BugchecksBefore);
    WdkmHostSetBugcheckHandler(NULL, NULL);
    CHECK_CLEAN_THREAD();
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
}

/*
 * A special kernel APC releasing the hold of the code it interrupted (the
 * same thread to NT). ERESOURCE and push locks are held in a critical
 * region and a KMUTEX owner has normal APCs disabled: the release returns
 * from the APC with the APC-disable count changed. The library cannot
 * tell this release from one of a recursive hold the APC took itself
 * (scopes-in-events-on-holder), so reference.md lists it under "not
 * detected": the release succeeds and the thread bugchecks
 * APC_INDEX_MISMATCH. This test holds the library to that documented
 * consequence (and fails, to have the row removed, once it is detected).
 */
typedef struct _A31_FOREIGN_RELEASE {
    A31_LOCKS *Locks;
    ULONG Kind;
    NTSTATUS Status;
} A31_FOREIGN_RELEASE;

static VOID
A31ReleaseInterruptedHold(PVOID Context)
{
    A31_FOREIGN_RELEASE *Work = (A31_FOREIGN_RELEASE *)Context;

    switch (Work->Kind) {
    case 0: Work->Status = WdkmKMutexRelease(Work->Locks->KMutex); break;
    case 1: case 2: Work->Status = WdkmResourceRelease(Work->Locks->Resource); break;
    default: Work->Status = WdkmPushLockRelease(Work->Locks->PushLock); break;
    }
}

static VOID
TestReleaseFromApcOnHolderNotDetected(VOID)
{
    A31_LOCKS Locks;
    ULONG Kind;

    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    A31NameLocks(&Locks, 7);
    WdkmHostSetBugcheckHandler(A31BugcheckHandler, NULL);
    for (Kind = 0; Kind < 5; Kind += 1) {
        A31_FOREIGN_RELEASE Work = { &Locks, Kind, STATUS_PENDING };
        A31_EVENT Event = { A31ReleaseInterruptedHold, &Work, 0, 0, PASSIVE_LEVEL };
        A31_VALUE *Data = NULL;
        const A31_VALUE *Shared = NULL;
        NTSTATUS Status = STATUS_PENDING;
        LONG BugchecksBefore = A31Bugchecks;

        switch (Kind) {
        case 0: Status = WDKM_KMUTEX_ACQUIRE(Locks.KMutex, &Data); break;
        case 1: Status = WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Locks.Resource, &Data); break;
        case 2: Status = WDKM_RESOURCE_ACQUIRE_SHARED(Locks.Resource, &Shared); break;
        case 3: Status = WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(Locks.PushLock, &Data); break;
        default: Status = WDKM_PUSH_LOCK_ACQUIRE_SHARED(Locks.PushLock, &Shared); break;
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
        A31Queue(WdkmHostInterruptSpecialApc, &Event);
        CHECK_EQ(Event.Ran, 1);
        CHECK_STATUS(Work.Status, STATUS_SUCCESS);
        CHECK_EQ(A31Bugchecks, BugchecksBefore + 1);
        CHECK_EQ(A31BugcheckCode, APC_INDEX_MISMATCH);
        /* The emulation put the thread's count back as the APC found it:
           the critical region the wrapper left in the APC is still
           entered here. Leave it, as the dead thread never could. */
        if (Kind != 0) {
            KeLeaveCriticalRegion();
        }
        CHECK_CLEAN_THREAD();
    }
    WdkmHostSetBugcheckHandler(NULL, NULL);
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
}

/* ========================================================================
 * 3. Pool statistics and allocator
 */

typedef struct _A31_POOL_MARK {
    WDKM_POOL_STATISTICS Library;
    ULONG TagBlocks;
    SIZE_T TagBytes;
    ULONG AllBlocks;
    SIZE_T AllBytes;
    ULONG64 TagAllocations;
    ULONG64 AllAllocations;
    ULONG64 Attempts;
    ULONG Injected;
} A31_POOL_MARK;

static VOID
A31PoolMark(A31_POOL_MARK *Mark)
{
    WdkmQueryPoolStatistics(&Mark->Library);
    Mark->TagBlocks = WdkmHostPoolOutstanding(WDKM_POOL_TAG, &Mark->TagBytes);
    Mark->AllBlocks = WdkmHostPoolOutstanding(0, &Mark->AllBytes);
    Mark->TagAllocations = WdkmHostPoolTagAllocations(WDKM_POOL_TAG);
    Mark->AllAllocations = WdkmHostPoolTagAllocations(0);
    Mark->Attempts = WdkmHostPoolAllocations();
    Mark->Injected = WdkmHostPoolInjectedFailures();
}

/* The library's figures move exactly as the kernel's pool saw them move,
   and every block it allocated carries its tag. */
#define CHECK_POOL_AGREES(Before, After)                                   \
    do {                                                                   \
        CHECK_EQ((After).Library.OutstandingBlocks - (Before).Library.OutstandingBlocks, \
                 (LONG)(After).TagBlocks - (LONG)(Before).TagBlocks);      \
        CHECK_EQ((After).Library.OutstandingBytes - (Before).Library.OutstandingBytes, \
                 (LONG64)(After).TagBytes - (LONG64)(Before).TagBytes);    \
        CHECK_EQ((LONG)(After).AllBlocks - (LONG)(Before).AllBlocks,       \
                 (LONG)(After).TagBlocks - (LONG)(Before).TagBlocks);      \
        CHECK_EQ((After).Library.TotalAllocations - (Before).Library.TotalAllocations, \
                 (LONG64)((After).TagAllocations - (Before).TagAllocations)); \
        CHECK_EQ((LONG64)((After).AllAllocations - (Before).AllAllocations), \
                 (LONG64)((After).TagAllocations - (Before).TagAllocations)); \
        CHECK_EQ((After).Library.TotalAllocations - (Before).Library.TotalAllocations \
                 + (After).Library.FailedAllocations - (Before).Library.FailedAllocations, \
                 (LONG64)((After).Attempts - (Before).Attempts));          \
    } while (0)

static VOID
TestPoolStatisticsExact(VOID)
{
    A31_POOL_MARK Start, Middle, End;
    A31_LOCKS Locks;
    PWDKM_QUEUED_SPIN_LOCK Queued = NULL;
    A31_VALUE Initial = { 1, 2, 3 };

    A31PoolMark(&Start);
    CHECK(Start.Library.OutstandingBlocks >= 0);
    CHECK(Start.Library.OutstandingBytes >= 0);
    CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Initial, &Queued), STATUS_SUCCESS);
    CHECK_STATUS(A31GrtStart(), STATUS_SUCCESS);
    A31PoolMark(&Middle);
    CHECK_POOL_AGREES(Start, Middle);
    CHECK(Middle.Library.OutstandingBlocks >= Start.Library.OutstandingBlocks + 7);
    CHECK(Middle.Library.OutstandingBytes >= Start.Library.OutstandingBytes + 7 * (LONG64)sizeof(A31_VALUE));
    CHECK_EQ(Middle.Library.FailedAllocations, Start.Library.FailedAllocations);
    CHECK_STATUS(A31GrtStop(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Queued), STATUS_SUCCESS);
    CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
    A31PoolMark(&End);
    CHECK_POOL_AGREES(Start, End);
    CHECK_EQ(End.Library.OutstandingBlocks, Start.Library.OutstandingBlocks);
    CHECK_EQ(End.Library.OutstandingBytes, Start.Library.OutstandingBytes);

    /* Readable at any IRQL, HIGH_LEVEL included. */
    {
        KIRQL OldIrql;
        WDKM_POOL_STATISTICS High;

        KeRaiseIrql(HIGH_LEVEL, &OldIrql);
        WdkmQueryPoolStatistics(&High);
        KeLowerIrql(OldIrql);
        CHECK_EQ(High.OutstandingBlocks, End.Library.OutstandingBlocks);
        CHECK_EQ(High.TotalAllocations, End.Library.TotalAllocations);
    }
}

/* Every allocation of a start-up path failed in turn (seeded order of
   kinds): each failure is counted once in FailedAllocations, nothing else
   moves, and the figures agree with the kernel's pool. */
static VOID
TestPoolStatisticsUnderFailures(VOID)
{
    ULONG64 Random = A31Seed();
    ULONG Round;

    for (Round = 0; Round < 24; Round += 1) {
        A31_POOL_MARK Before, After;
        ULONG Kind = A31Next(&Random) % 7;
        LONG FailAt = (LONG)(A31Next(&Random) % 3);
        A31_VALUE Initial = { 5, 6, 7 };
        PVOID Lock = NULL;
        NTSTATUS Status = STATUS_PENDING;
        KIRQL OldIrql = PASSIVE_LEVEL;
        BOOLEAN Raise = (Kind == 2 || Kind == 3) && (A31Next(&Random) & 1);

        A31PoolMark(&Before);
        if (Raise) {
            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        }
        WdkmHostPoolFailAt(FailAt);
        switch (Kind) {
        case 0: Status = WDKM_KMUTEX_CREATE(&Initial, (PWDKM_KMUTEX *)&Lock); break;
        case 1: Status = WDKM_FAST_MUTEX_CREATE(&Initial, (PWDKM_FAST_MUTEX *)&Lock); break;
        case 2: Status = WDKM_SPIN_LOCK_CREATE(&Initial, (PWDKM_SPIN_LOCK *)&Lock); break;
        case 3: Status = WDKM_QUEUED_SPIN_LOCK_CREATE(&Initial, (PWDKM_QUEUED_SPIN_LOCK *)&Lock); break;
        case 4: Status = WDKM_GUARDED_MUTEX_CREATE(&Initial, (PWDKM_GUARDED_MUTEX *)&Lock); break;
        case 5: Status = WDKM_RESOURCE_CREATE(&Initial, (PWDKM_RESOURCE *)&Lock); break;
        default: Status = WDKM_PUSH_LOCK_CREATE(&Initial, (PWDKM_PUSH_LOCK *)&Lock); break;
        }
        WdkmHostPoolFailAt(-1);
        if (Raise) {
            KeLowerIrql(OldIrql);
        }
        A31PoolMark(&After);
        CHECK_POOL_AGREES(Before, After);
        if (Status == STATUS_SUCCESS) {
            CHECK_EQ(After.Library.FailedAllocations, Before.Library.FailedAllocations);
            switch (Kind) {
            case 0: Status = WdkmKMutexDestroy((PWDKM_KMUTEX)Lock); break;
            case 1: Status = WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)Lock); break;
            case 2: Status = WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Lock); break;
            case 3: Status = WdkmQueuedSpinLockDestroy((PWDKM_QUEUED_SPIN_LOCK)Lock); break;
            case 4: Status = WdkmGuardedMutexDestroy((PWDKM_GUARDED_MUTEX)Lock); break;
            case 5: Status = WdkmResourceDestroy((PWDKM_RESOURCE)Lock); break;
            default: Status = WdkmPushLockDestroy((PWDKM_PUSH_LOCK)Lock); break;
            }
            CHECK_STATUS(Status, STATUS_SUCCESS);
        } else {
            CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
            CHECK(Lock == NULL);
            CHECK_EQ(After.Injected, Before.Injected + 1);
            CHECK_EQ(After.Library.FailedAllocations, Before.Library.FailedAllocations + 1);
            CHECK_EQ(After.Library.OutstandingBlocks, Before.Library.OutstandingBlocks);
            CHECK_EQ(After.Library.OutstandingBytes, Before.Library.OutstandingBytes);
        }
    }

    /* The registry's start-up, every allocation failed in turn. */
    {
        LONG FailAt;
        NTSTATUS Status = STATUS_PENDING;

        for (FailAt = 0; FailAt < 64; FailAt += 1) {
            A31_POOL_MARK Before, After;

            A31PoolMark(&Before);
            WdkmHostPoolFailAt(FailAt);
            Status = A31GrtStart();
            WdkmHostPoolFailAt(-1);
            if (Status != STATUS_SUCCESS) {
                (VOID)A31GrtStop();
            }
            A31PoolMark(&After);
            if (Status == STATUS_SUCCESS) {
                break;
            }
            CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
            CHECK_POOL_AGREES(Before, After);
            CHECK_EQ(After.Library.FailedAllocations, Before.Library.FailedAllocations + 1);
            CHECK_EQ(After.Library.OutstandingBlocks, Before.Library.OutstandingBlocks);
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK(FailAt > 0);
        CHECK_STATUS(A31GrtStop(), STATUS_SUCCESS);
    }
}

/* Threads creating and destroying locks, one of them failing now and
   then, while another reads the figures: each figure stays within what
   can be true at some instant, and the end is exact. */
typedef struct _A31_POOL_RACE {
    ULONG64 Seed;
    volatile LONG Stop;
    volatile LONG Working;      /* workers not finished yet */
    volatile LONG Bad;
    LONG Baseline;
    LONG64 BaselineBytes;
    volatile LONG Creates;
    volatile LONG Failures;
} A31_POOL_RACE;

#define A31_RACE_WORKERS 3
#define A31_RACE_ROUNDS 150
#define A31_RACE_HELD 4

static VOID
A31PoolWorker(PVOID Context, ULONG Index)
{
    A31_POOL_RACE *Race = (A31_POOL_RACE *)Context;
    ULONG64 Random = Race->Seed + Index * 7919ULL;
    PWDKM_SPIN_LOCK Held[A31_RACE_HELD] = { NULL, NULL, NULL, NULL };
    ULONG Round;

    if (Index == A31_RACE_WORKERS) {
        /* The reader. */
        while (InterlockedCompareExchange(&Race->Stop, 0, 0) == 0) {
            WDKM_POOL_STATISTICS Statistics;

            WdkmQueryPoolStatistics(&Statistics);
            if (Statistics.OutstandingBlocks < Race->Baseline ||
                Statistics.OutstandingBlocks > Race->Baseline + A31_RACE_WORKERS * A31_RACE_HELD ||
                Statistics.OutstandingBytes < Race->BaselineBytes ||
                Statistics.TotalAllocations < 0 || Statistics.FailedAllocations < 0) {
                InterlockedIncrement(&Race->Bad);
            }
            WdkmTestSleepMs(0);
        }
        return;
    }
    for (Round = 0; Round < A31_RACE_ROUNDS; Round += 1) {
        ULONG Slot = A31Next(&Random) % A31_RACE_HELD;

        if (Held[Slot] != NULL) {
            if (WdkmSpinLockDestroy(Held[Slot]) != STATUS_SUCCESS) {
                InterlockedIncrement(&Race->Bad);
            }
            Held[Slot] = NULL;
        } else {
            A31_VALUE Initial = { (LONG)Round, 0, 0 };
            NTSTATUS Status;

            if (Index == 0 && (A31Next(&Random) % 16) == 0) {
                WdkmHostPoolFailAt(0);      /* whichever thread allocates next */
            }
            Status = WDKM_SPIN_LOCK_CREATE(&Initial, &Held[Slot]);
            if (Status == STATUS_SUCCESS) {
                InterlockedIncrement(&Race->Creates);
            } else if (Status == STATUS_INSUFFICIENT_RESOURCES) {
                InterlockedIncrement(&Race->Failures);
            } else {
                InterlockedIncrement(&Race->Bad);
            }
        }
    }
    for (Round = 0; Round < A31_RACE_HELD; Round += 1) {
        if (Held[Round] != NULL && WdkmSpinLockDestroy(Held[Round]) != STATUS_SUCCESS) {
            InterlockedIncrement(&Race->Bad);
        }
    }
}

static VOID
A31PoolRaceRun(PVOID Context, ULONG Index)
{
    A31_POOL_RACE *Race = (A31_POOL_RACE *)Context;

    A31PoolWorker(Context, Index);
    if (Index < A31_RACE_WORKERS && InterlockedDecrement(&Race->Working) == 0) {
        InterlockedExchange(&Race->Stop, 1);
    }
}

static VOID
TestPoolStatisticsThreads(VOID)
{
    A31_POOL_RACE Race;
    A31_POOL_MARK Before, After;

    RtlZeroMemory(&Race, sizeof(Race));
    Race.Seed = A31Seed();
    Race.Working = A31_RACE_WORKERS;
    A31PoolMark(&Before);
    Race.Baseline = Before.Library.OutstandingBlocks;
    Race.BaselineBytes = Before.Library.OutstandingBytes;
    CHECK(WdkmTestRunThreads(A31_RACE_WORKERS + 1, A31PoolRaceRun, &Race));
    WdkmHostPoolFailAt(-1);
    A31PoolMark(&After);
    CHECK_EQ(Race.Bad, 0);
    CHECK_POOL_AGREES(Before, After);
    CHECK_EQ(After.Library.OutstandingBlocks, Before.Library.OutstandingBlocks);
    CHECK_EQ(After.Library.OutstandingBytes, Before.Library.OutstandingBytes);
    CHECK_EQ(After.Library.FailedAllocations - Before.Library.FailedAllocations, Race.Failures);
    CHECK_EQ((LONG)(After.Injected - Before.Injected), Race.Failures);
    CHECK(After.Library.TotalAllocations - Before.Library.TotalAllocations >= Race.Creates);
}

/* In-place initialiser: is the value's memory zeroed, as the allocator
   promises (ExAllocatePool2 zeroes; the fallback zeroes itself)? */
static NTSTATUS
A31CheckZeroed(PVOID Value, PVOID Context)
{
    const UCHAR *Bytes = (const UCHAR *)Value;
    ULONG Index;

    for (Index = 0; Index < sizeof(A31_VALUE); Index += 1) {
        if (Bytes[Index] != 0) {
            *(LONG *)Context += 1;
        }
    }
    return STATUS_SUCCESS;
}

/* ExAllocatePool2 where the kernel has it, else the fallback; before any
   PASSIVE_LEVEL call the allocator is not resolved and DISPATCH_LEVEL
   allocations use the fallback. */
static VOID
TestPoolAllocatorChoice(VOID)
{
    A31_POOL_MARK Before, After;
    PWDKM_SPIN_LOCK Early = NULL;
    PWDKM_SPIN_LOCK Late = NULL;
    WDKM_POOL_STATISTICS Statistics;
    KIRQL OldIrql;
    LONG NotZero = 0;
    NTSTATUS Status;
    A31_VALUE Initial = { 1, 1, 1 };

    /* Without ExAllocatePool2. */
    CHECK_STATUS(WdkmHostSetRoutineAvailable("ExAllocatePool2", FALSE), STATUS_SUCCESS);
    WdkmpForgetRoutines();
    A31PoolMark(&Before);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    WdkmQueryPoolStatistics(&Statistics);
    Status = WDKM_SPIN_LOCK_CREATE_IN_PLACE(A31_VALUE, A31CheckZeroed, &NotZero, &Early);
    KeLowerIrql(OldIrql);
    CHECK_EQ(Statistics.Allocator, WdkmPoolAllocatorNotResolved);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(NotZero, 0);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE_IN_PLACE(A31_VALUE, A31CheckZeroed, &NotZero, &Late), STATUS_SUCCESS);
    CHECK_EQ(NotZero, 0);
    WdkmQueryPoolStatistics(&Statistics);
    CHECK_EQ(Statistics.Allocator, WdkmPoolAllocatorWithTag);
    A31PoolMark(&After);
    CHECK_POOL_AGREES(Before, After);
    CHECK_STATUS(WdkmSpinLockDestroy(Early), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Late), STATUS_SUCCESS);

    /* With it again: a block from the fallback freed after the switch. */
    WdkmHostResetRoutines();
    WdkmpForgetRoutines();
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WDKM_SPIN_LOCK_CREATE(&Initial, &Early);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE_IN_PLACE(A31_VALUE, A31CheckZeroed, &NotZero, &Late), STATUS_SUCCESS);
    CHECK_EQ(NotZero, 0);
    WdkmQueryPoolStatistics(&Statistics);
    CHECK_EQ(Statistics.Allocator, WdkmPoolAllocatorPool2);
    CHECK_STATUS(WdkmSpinLockDestroy(Early), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Late), STATUS_SUCCESS);
    A31PoolMark(&After);
    CHECK_EQ(After.Library.OutstandingBlocks, Before.Library.OutstandingBlocks);
    CHECK_EQ(After.TagBlocks, Before.TagBlocks);
}

/* ========================================================================
 * 4. Status helpers and debugger output
 */

typedef struct _A31_NAMED {
    NTSTATUS Status;
    PCSTR Name;
} A31_NAMED;

#define A31_NAME(Code) { Code, #Code }

static const A31_NAMED A31Names[] = {
    A31_NAME(STATUS_SUCCESS),
    A31_NAME(STATUS_TIMEOUT),
    A31_NAME(STATUS_ALERTED),
    A31_NAME(STATUS_USER_APC),
    A31_NAME(STATUS_PENDING),
    A31_NAME(STATUS_INVALID_PARAMETER),
    A31_NAME(STATUS_INSUFFICIENT_RESOURCES),
    A31_NAME(STATUS_NOT_SUPPORTED),
    A31_NAME(STATUS_MUTANT_LIMIT_EXCEEDED),
    A31_NAME(STATUS_POSSIBLE_DEADLOCK),
    A31_NAME(STATUS_BUFFER_OVERFLOW),
    A31_NAME(STATUS_OBJECT_NAME_COLLISION),
    A31_NAME(STATUS_OBJECT_NAME_NOT_FOUND),
    A31_NAME(STATUS_OBJECT_NAME_INVALID),
    A31_NAME(STATUS_NAME_TOO_LONG),
    A31_NAME(STATUS_DELETE_PENDING),
    A31_NAME(STATUS_NO_MORE_ENTRIES),
    A31_NAME(STATUS_NOT_FOUND),
    A31_NAME(STATUS_WDKM_IRQL_TOO_HIGH),
    A31_NAME(STATUS_WDKM_IRQL_MISMATCH),
    A31_NAME(STATUS_WDKM_NOT_OWNER),
    A31_NAME(STATUS_WDKM_NOT_HELD),
    A31_NAME(STATUS_WDKM_LOCK_HELD),
    A31_NAME(STATUS_WDKM_TYPE_MISMATCH),
    A31_NAME(STATUS_WDKM_NOT_INITIALIZED),
    A31_NAME(STATUS_WDKM_ALREADY_INITIALIZED),
    A31_NAME(STATUS_WDKM_OWNED_BY_REGISTRY),
    A31_NAME(STATUS_WDKM_LEAK_DETECTED),
};

/* Every status the library documents returning has its own exact name,
   at any IRQL; anything else is "STATUS_<unknown>". */
static VOID
TestStatusNames(VOID)
{
    static const NTSTATUS Unknown[] = {
        (NTSTATUS)0x12345678L, (NTSTATUS)0xE0D400FFL, (NTSTATUS)0xE0D50001L, (NTSTATUS)0x20D40001L,
    };
    ULONG Index;
    KIRQL OldIrql;

    for (Index = 0; Index < sizeof(A31Names) / sizeof(A31Names[0]); Index += 1) {
        PCSTR Name = WdkmStatusName(A31Names[Index].Status);

        if (strcmp(Name, A31Names[Index].Name) != 0) {
            WdkmTestFail(__FILE__, __LINE__, "WdkmStatusName(0x%08X) = %s, expected %s",
                         (unsigned)A31Names[Index].Status, Name, A31Names[Index].Name);
            return;
        }
    }
    for (Index = 0; Index < sizeof(Unknown) / sizeof(Unknown[0]); Index += 1) {
        CHECK(strcmp(WdkmStatusName(Unknown[Index]), "STATUS_<unknown>") == 0);
    }
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    {
        PCSTR Name = WdkmStatusName(STATUS_WDKM_NOT_OWNER);

        KeLowerIrql(OldIrql);
        CHECK(strcmp(Name, "STATUS_WDKM_NOT_OWNER") == 0);
    }
}

/* WDKM_ACQUIRED is exactly "== STATUS_SUCCESS", and evaluates once. */
static VOID
TestStatusAcquired(VOID)
{
    ULONG Index;
    NTSTATUS Sequence[2] = { STATUS_SUCCESS, STATUS_TIMEOUT };
    ULONG Next = 0;

    for (Index = 0; Index < sizeof(A31Names) / sizeof(A31Names[0]); Index += 1) {
        BOOLEAN Acquired = WDKM_ACQUIRED(A31Names[Index].Status) ? TRUE : FALSE;

        CHECK_EQ(Acquired, A31Names[Index].Status == STATUS_SUCCESS);
    }
    CHECK(WDKM_ACQUIRED(Sequence[Next++]));
    CHECK_EQ(Next, 1);
    CHECK(!WDKM_ACQUIRED(STATUS_TIMEOUT) && NT_SUCCESS(STATUS_TIMEOUT));
    CHECK(!WDKM_ACQUIRED(STATUS_ALERTED) && NT_SUCCESS(STATUS_ALERTED));
    CHECK(!WDKM_ACQUIRED(STATUS_USER_APC) && NT_SUCCESS(STATUS_USER_APC));
    /* Every library code is an error, customer bit set, facility 0x0D4. */
    for (Index = 0; Index < sizeof(A31Names) / sizeof(A31Names[0]); Index += 1) {
        ULONG Code = (ULONG)A31Names[Index].Status;

        if (strncmp(A31Names[Index].Name, "STATUS_WDKM_", 12) == 0) {
            CHECK(!NT_SUCCESS(A31Names[Index].Status));
            CHECK_EQ(Code & 0xE0000000UL, 0xE0000000UL);
            CHECK_EQ((Code >> 16) & 0x0FFF, WDKM_FACILITY);
        }
    }
}

/* WdkmStatusForRequest: each library code to its documented standard one,
   everything else unchanged, at any IRQL. */
static VOID
TestStatusForRequest(VOID)
{
    ULONG Index;
    KIRQL OldIrql;
    NTSTATUS High;

    for (Index = 0; Index < sizeof(A31Names) / sizeof(A31Names[0]); Index += 1) {
        NTSTATUS Status = A31Names[Index].Status;
        NTSTATUS Expected = Status;

        if (Status == STATUS_WDKM_NOT_INITIALIZED) {
            Expected = STATUS_DEVICE_NOT_READY;
        } else if (Status == STATUS_WDKM_LOCK_HELD || Status == STATUS_WDKM_ALREADY_INITIALIZED) {
            Expected = STATUS_INVALID_DEVICE_STATE;
        } else if (strncmp(A31Names[Index].Name, "STATUS_WDKM_", 12) == 0) {
            Expected = STATUS_INTERNAL_ERROR;
        }
        if (WdkmStatusForRequest(Status) != Expected) {
            WdkmTestFail(__FILE__, __LINE__, "WdkmStatusForRequest(%s) = 0x%08X, expected 0x%08X",
                         A31Names[Index].Name, (unsigned)WdkmStatusForRequest(Status),
                         (unsigned)Expected);
            return;
        }
    }
    CHECK_EQ(WdkmStatusForRequest((NTSTATUS)0xE0D50001L), (NTSTATUS)0xE0D50001L);  /* another facility */
    CHECK_EQ(WdkmStatusForRequest(STATUS_CANCELLED), STATUS_CANCELLED);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    High = WdkmStatusForRequest(STATUS_WDKM_NOT_OWNER);
    KeLowerIrql(OldIrql);
    CHECK_EQ(High, STATUS_INTERNAL_ERROR);
}

/* Debugger output: SetOutput validates, Query reads back; a refused set
   changes nothing. In the checked build, the statistics table (several
   lines) goes to the chosen component, every line with the prefix, and
   nothing at all with WDKM_DEBUG_OFF. */
typedef struct _A31_SINK {
    ULONG Messages;
    ULONG Lines;
    ULONG BadPrefix;
    ULONG BadComponent;
    ULONG BadLevel;
    ULONG Component;
    ULONG MaxLevel;
    char First[160];
} A31_SINK;

static VOID
A31Sink(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    A31_SINK *Sink = (A31_SINK *)Context;
    PCSTR Line = Message;
    size_t Prefix = strlen(WDKM_DEBUG_PREFIX);

    Sink->Messages += 1;
    if (ComponentId != Sink->Component) {
        Sink->BadComponent += 1;
    }
    if (Level > Sink->MaxLevel) {
        Sink->BadLevel += 1;
    }
    while (Line != NULL && *Line != '\0') {
        PCSTR End = strchr(Line, '\n');

        Sink->Lines += 1;
        if (strncmp(Line, WDKM_DEBUG_PREFIX, Prefix) != 0) {
            if (Sink->BadPrefix == 0) {
                size_t Length = (End != NULL) ? (size_t)(End - Line) : strlen(Line);

                if (Length >= sizeof(Sink->First)) {
                    Length = sizeof(Sink->First) - 1;
                }
                memcpy(Sink->First, Line, Length);
                Sink->First[Length] = '\0';
            }
            Sink->BadPrefix += 1;
        }
        Line = (End != NULL) ? End + 1 : NULL;
    }
}

static VOID
TestDebugOutput(VOID)
{
    ULONG Component = 0, Level = 0;
    ULONG OldComponent = 0, OldLevel = 0;
    A31_SINK Sink;

    WdkmDebugQueryOutput(&OldComponent, &OldLevel);
    CHECK_EQ(OldComponent, WDKM_DEBUG_DEFAULT_COMPONENT);
    CHECK_EQ(OldLevel, WDKM_DEBUG_DEFAULT_LEVEL);
    CHECK_STATUS(WdkmDebugSetOutput(77, 32), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmDebugSetOutput(77, 0xFFFFFFFEUL), STATUS_INVALID_PARAMETER);
    WdkmDebugQueryOutput(&Component, &Level);
    CHECK_EQ(Component, OldComponent);
    CHECK_EQ(Level, OldLevel);
    CHECK_STATUS(WdkmDebugSetOutput(77, 31), STATUS_SUCCESS);
    WdkmDebugQueryOutput(NULL, &Level);
    CHECK_EQ(Level, 31);
    WdkmDebugQueryOutput(&Component, NULL);
    CHECK_EQ(Component, 77);
    WdkmDebugQueryOutput(NULL, NULL);

#if WDKM_CHECKED
    {
        A31_LOCKS Locks;
        A31_VALUE *Data;
        NTSTATUS Status;
        ULONG Count = 0;

        CHECK_STATUS(A31CreateLocks(&Locks, 31), STATUS_SUCCESS);
        WDKM_KMUTEX_SCOPED(Locks.KMutex, Data, &Status) {
            Data->A += 1;
        } WDKM_SCOPED_END
        WDKM_FAST_MUTEX_SCOPED(Locks.FastMutex, Data, &Status) {
            Data->A += 1;
        } WDKM_SCOPED_END

        RtlZeroMemory(&Sink, sizeof(Sink));
        Sink.Component = 77;
        Sink.MaxLevel = WDKM_DEBUG_ERROR;
        CHECK_STATUS(WdkmDebugSetOutput(77, WDKM_DEBUG_ERROR), STATUS_SUCCESS);
        WdkmHostSetDebugPrintLevel(DPFLTR_INFO_LEVEL);
        WdkmHostSetDebugPrintSink(A31Sink, &Sink);
        Status = WdkmDiagQueryStatistics(NULL, 0, &Count, TRUE);
        WdkmHostSetDebugPrintSink(NULL, NULL);
        CHECK(Status == STATUS_SUCCESS || Status == STATUS_BUFFER_OVERFLOW);
        CHECK(Count >= 2);
        CHECK(Sink.Lines >= 3);
        if (Sink.BadPrefix != 0) {
            WdkmTestFail(__FILE__, __LINE__, "%u of %u lines without the prefix, first: \"%s\"",
                         Sink.BadPrefix, Sink.Lines, Sink.First);
            goto Restore;
        }
        CHECK_EQ(Sink.BadComponent, 0);
        CHECK_EQ(Sink.BadLevel, 0);

        RtlZeroMemory(&Sink, sizeof(Sink));
        CHECK_STATUS(WdkmDebugSetOutput(77, WDKM_DEBUG_OFF), STATUS_SUCCESS);
        WdkmHostSetDebugPrintSink(A31Sink, &Sink);
        Status = WdkmDiagQueryStatistics(NULL, 0, &Count, TRUE);
        WdkmHostSetDebugPrintSink(NULL, NULL);
        CHECK_EQ(Sink.Messages, 0);
Restore:
        WdkmHostSetDebugPrintSink(NULL, NULL);
        WdkmHostSetDebugPrintLevel(DPFLTR_WARNING_LEVEL);
        (VOID)WdkmDebugSetOutput(OldComponent, OldLevel);
        CHECK_STATUS(A31DestroyLocks(&Locks), STATUS_SUCCESS);
    }
#else
    UNREFERENCED_PARAMETER(Sink);
    (VOID)A31Sink;             /* the table is printed by checked builds only */
#endif
    CHECK_STATUS(WdkmDebugSetOutput(OldComponent, OldLevel), STATUS_SUCCESS);
}

static VOID
Attack31Cleanup(VOID)
{
    LARGE_INTEGER Timeout;

    WdkmHostPoolFailAt(-1);
    WdkmHostSetBugcheckHandler(NULL, NULL);
    WdkmHostSetDebugPrintSink(NULL, NULL);
    WdkmHostResetRoutines();
    (VOID)WdkmDebugSetOutput(WDKM_DEBUG_DEFAULT_COMPONENT, WDKM_DEBUG_DEFAULT_LEVEL);
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(500);
    (VOID)WdkmGrtDestroy(&Timeout, NULL);
}

static const WDKM_TEST_CASE Attack31Cases[] = {
    { "region-every-irql", TestRegionEveryIrql },
    { "region-leave-misuse", TestRegionLeaveMisuse },
    { "region-leave-other-thread", TestRegionLeaveOtherThread },
    { "region-nesting-out-of-order", TestRegionNestingOutOfOrder },
    { "region-apc-masking", TestRegionApcMasking },
    { "region-left-from-event-on-same-thread", TestRegionLeftFromEventOnSameThread },
    { "region-in-normal-apc", TestRegionInNormalApc },
    { "region-scoped", TestRegionScoped },
    { "region-scoped-null-status", TestRegionScopedNullStatus },
    { "scope-every-exit-releases", TestScopeEveryExitReleases },
    { "scope-failure-never-runs-block", TestScopeFailureNeverRunsBlock },
    { "scope-null-status", TestScopeNullStatus },
    { "scope-nesting-kinds", TestScopeNestingKinds },
    { "scope-release-failure-leaves-lock-held", TestScopeReleaseFailureLeavesLockHeld },
    { "scopes-in-events-on-holder", TestScopesInEventsOnHolder },
    { "release-from-apc-on-holder-not-detected", TestReleaseFromApcOnHolderNotDetected },
    { "pool-statistics-exact", TestPoolStatisticsExact },
    { "pool-statistics-under-failures", TestPoolStatisticsUnderFailures },
    { "pool-statistics-threads", TestPoolStatisticsThreads },
    { "pool-allocator-choice", TestPoolAllocatorChoice },
    { "status-names", TestStatusNames },
    { "status-acquired", TestStatusAcquired },
    { "status-for-request", TestStatusForRequest },
    { "debug-output", TestDebugOutput },
};

const WDKM_TEST_SUITE WdkmAttack31Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack31", Attack31Cases, Attack31Cleanup);
