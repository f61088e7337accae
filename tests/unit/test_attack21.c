/*
 * test_attack21.c - the registry's per-processor reference caches attacked
 * from docs/reference.md alone ("The registry (Grt)" and the conventions):
 * references taken on one processor and dropped on another (numbers past
 * 64 included), DPCs modelled on the interrupted thread, references held
 * while other names share their cache word, misuse of WdkmGrtDereference,
 * wrong-type and odd-length lookups, allocation failures, many names and
 * many cycles, writers racing lookups on many processors, and a seeded
 * random walk against a model of what the reference promises.
 *
 * "Freed" is observed through the library's pool accounting: an entry's
 * lock is one pool block, so its free lowers OutstandingBlocks.
 */
#include "wdkm_test.h"
#include <stdio.h>
#include <string.h>

static LONG
Blocks(VOID)
{
    WDKM_POOL_STATISTICS Statistics;

    WdkmQueryPoolStatistics(&Statistics);
    return Statistics.OutstandingBlocks;
}

static NTSTATUS
Register(PCSTR Name)
{
    ULONG Initial = 7;

    return WdkmGrtRegister(Name, WdkmLockKindKMutex, &Initial, sizeof(Initial), 0);
}

static NTSTATUS
Reference(PCSTR Name, PVOID *Lock)
{
    return WdkmGrtReference(Name, WdkmLockKindKMutex, sizeof(ULONG), Lock);
}

/* The lock still works: acquire, bump the value, release. */
static BOOLEAN
Works(PVOID Lock)
{
    ULONG *Data = NULL;

    if (WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, sizeof(ULONG), (PVOID *)&Data) != STATUS_SUCCESS) {
        return FALSE;
    }
    *Data += 1;
    return WdkmKMutexRelease((PWDKM_KMUTEX)Lock) == STATUS_SUCCESS;
}

static VOID
Cleanup(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Zero;

    Zero.QuadPart = 0;
    WdkmHostPoolFailAt(-1);
    WdkmHostSetCurrentProcessor(-1);
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KeLowerIrql(PASSIVE_LEVEL);
    }
    (VOID)WdkmGrtDestroy(&Zero, &Report);
}

/* ---------------------------------------------------------------------- */

/* A reference taken on processor 3 and dropped on 77 (past 64), 131, 255:
   the lock stays alive after unregister until the last one, then is freed. */
static VOID
MovedProcessorsFreeAtLastDrop(VOID)
{
    static const LONG Takers[] = { 3, 67, 200, 0 };
    static const LONG Droppers[] = { 77, 131, 255, 3 };
    PVOID Locks[4];
    LONG Base, Alive;
    ULONG Index;

    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(Register("moved"), STATUS_SUCCESS);
    for (Index = 0; Index < 4; Index += 1) {
        WdkmHostSetCurrentProcessor(Takers[Index]);
        CHECK_STATUS(Reference("moved", &Locks[Index]), STATUS_SUCCESS);
    }
    WdkmHostSetCurrentProcessor(-1);
    CHECK_STATUS(WdkmGrtUnregister("moved"), STATUS_SUCCESS);
    Alive = Blocks();
    for (Index = 0; Index < 4; Index += 1) {
        CHECK(Works(Locks[Index]));
        CHECK_EQ(Blocks(), Alive);       /* not freed before its last reference */
        WdkmHostSetCurrentProcessor(Droppers[Index]);
        CHECK_STATUS(WdkmGrtDereference(Locks[Index]), STATUS_SUCCESS);
        WdkmHostSetCurrentProcessor(-1);
    }
    CHECK(Blocks() < Alive);              /* freed by the last dereference */
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Base);
}

/* A reference held on processor 5 while 40 other names (some sharing its
   cache word) are looked up and dropped there, unregistered and freed;
   then dropped on another processor. */
static VOID
LongHeldReferenceSharedWord(VOID)
{
    CHAR Name[16];
    PVOID Held, Other, Second;
    LONG Base, Before;
    ULONG Index;

    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(Register("held"), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(5);
    CHECK_STATUS(Reference("held", &Held), STATUS_SUCCESS);
    for (Index = 0; Index < 40; Index += 1) {
        snprintf(Name, sizeof(Name), "o%u", Index);
        CHECK_STATUS(Register(Name), STATUS_SUCCESS);
        CHECK_STATUS(Reference(Name, &Other), STATUS_SUCCESS);
        CHECK_STATUS(Reference(Name, &Second), STATUS_SUCCESS);
        CHECK(Other == Second);
        WdkmHostSetCurrentProcessor(5 + 64);     /* the same slot, another processor */
        CHECK_STATUS(WdkmGrtDereference(Other), STATUS_SUCCESS);
        WdkmHostSetCurrentProcessor(5);
        Before = Blocks();
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
        CHECK_EQ(Blocks(), Before);              /* one reference left */
        CHECK(Works(Second));
        CHECK_STATUS(WdkmGrtDereference(Second), STATUS_SUCCESS);
        CHECK(Blocks() < Before);
    }
    CHECK(Works(Held));
    WdkmHostSetCurrentProcessor(9);
    Before = Blocks();
    CHECK_STATUS(WdkmGrtUnregister("held"), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Before);
    CHECK(Works(Held));
    CHECK_STATUS(WdkmGrtDereference(Held), STATUS_SUCCESS);
    CHECK(Blocks() < Before);
    WdkmHostSetCurrentProcessor(-1);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Base);
}

/* A DPC modelled on the same thread: it takes and drops its own reference
   while the interrupted code holds one, and while that code holds the lock. */
static VOID
DpcOnInterruptedThread(VOID)
{
    PVOID Outer, Inner;
    KIRQL Old;
    ULONG *Data;
    LONG Before;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(Register("dpc"), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(2);
    CHECK_STATUS(Reference("dpc", &Outer), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexAcquire((PWDKM_KMUTEX)Outer, sizeof(ULONG), (PVOID *)&Data),
                 STATUS_SUCCESS);
    /* The passive holder may not drop its reference. */
    CHECK_STATUS(WdkmGrtDereference(Outer), STATUS_WDKM_LOCK_HELD);

    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    CHECK_STATUS(Reference("dpc", &Inner), STATUS_SUCCESS);
    CHECK(Inner == Outer);
    WdkmHostSetCurrentProcessor(70);   /* the DPC's processor differs from the lookup's */
    CHECK_STATUS(WdkmGrtDereference(Inner), STATUS_SUCCESS);   /* its own, lock busy under it */
    KeLowerIrql(Old);
    WdkmHostSetCurrentProcessor(2);

    CHECK_STATUS(WdkmKMutexRelease((PWDKM_KMUTEX)Outer), STATUS_SUCCESS);
    Before = Blocks();
    CHECK_STATUS(WdkmGrtUnregister("dpc"), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Before);        /* the LOCK_HELD answer kept the reference */
    CHECK(Works(Outer));
    CHECK_STATUS(WdkmGrtDereference(Outer), STATUS_SUCCESS);
    CHECK(Blocks() < Before);
    WdkmHostSetCurrentProcessor(-1);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* Dereference misuse: NULL, a lock that is not the registry's, too high an
   IRQL, while holding. Each answers its status and keeps the reference. */
static VOID
DereferenceMisuseChangesNothing(VOID)
{
    PWDKM_KMUTEX Plain;
    PVOID Lock;
    ULONG Initial = 1;
    ULONG *Data;
    KIRQL Old;
    LONG Before;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(Register("misuse"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexCreate(&Initial, sizeof(Initial), &Plain), STATUS_SUCCESS);
    CHECK_STATUS(Reference("misuse", &Lock), STATUS_SUCCESS);

    CHECK_STATUS(WdkmGrtDereference(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtDereference(Plain), STATUS_INVALID_PARAMETER);
    KeRaiseIrql(HIGH_LEVEL, &Old);
    CHECK_STATUS(WdkmGrtDereference(Plain), STATUS_INVALID_PARAMETER);   /* arguments first */
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(Old);
    KeRaiseIrql(DISPATCH_LEVEL + 1, &Old);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(Old);
    CHECK_STATUS(WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, sizeof(ULONG), (PVOID *)&Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmKMutexRelease((PWDKM_KMUTEX)Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy((PWDKM_KMUTEX)Lock), STATUS_WDKM_OWNED_BY_REGISTRY);

    Before = Blocks();
    CHECK_STATUS(WdkmGrtUnregister("misuse"), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Before);      /* every failed dereference kept the reference */
    CHECK(Works(Lock));
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
    CHECK(Blocks() < Before);        /* the lock (and its counter chunk) freed */
    CHECK_STATUS(WdkmKMutexDestroy(Plain), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* A double dereference is not detected (reference.md, "What is not
   detected"): the second answers SUCCESS and the count is one short. One
   reference more puts it right: the name then unregisters and the
   registry tears down clean, so the second took exactly one reference
   and changed nothing else. */
static VOID
DoubleDereferenceTakesOneReference(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;
    PVOID Lock, Extra;
    NTSTATUS Second;
    LONG Base;

    Timeout.QuadPart = -200 * 10000LL;
    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(Register("alone"), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(12);
    CHECK_STATUS(Reference("alone", &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
    Second = WdkmGrtDereference(Lock);
    WdkmHostSetCurrentProcessor(-1);
    CHECK_STATUS(Second, STATUS_SUCCESS);
    CHECK_STATUS(Reference("alone", &Extra), STATUS_SUCCESS);   /* the one taken twice */
    CHECK_STATUS(WdkmGrtUnregister("alone"), STATUS_SUCCESS);
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.UnregisteredReferenced, 0);
    CHECK_EQ(Blocks(), Base);
}

/* Allocation failures inside WdkmGrtInitialize: INSUFFICIENT_RESOURCES,
   nothing left allocated, and the next call succeeds. */
static VOID
InitializeAllocationFailures(VOID)
{
    LONG Base;
    ULONG At;
    NTSTATUS Status;

    Base = Blocks();
    for (At = 0; At < 16; At += 1) {
        WdkmHostPoolFailAt((LONG)At);
        Status = WdkmGrtInitialize();
        WdkmHostPoolFailAt(-1);
        if (Status == STATUS_SUCCESS) {
            break;
        }
        CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
        CHECK_EQ(Blocks(), Base);
        CHECK_STATUS(Register("x"), STATUS_WDKM_NOT_INITIALIZED);
    }
    CHECK(At > 0 && At < 16);
    CHECK_STATUS(Register("x"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Base);
}

/* Failed lookups take no reference: the entry is freed at unregister. */
static VOID
WrongTypeLookupsTakeNothing(VOID)
{
    PVOID Lock = (PVOID)1;
    LONG Registered, Before;
    KIRQL Old;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Before = Blocks();
    CHECK_STATUS(Register("typed"), STATUS_SUCCESS);
    Registered = Blocks();
    CHECK(Registered > Before);
    CHECK_STATUS(WdkmGrtReference("typed", WdkmLockKindFastMutex, sizeof(ULONG), &Lock),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Lock == NULL);
    Lock = (PVOID)1;
    CHECK_STATUS(WdkmGrtReference("typed", WdkmLockKindKMutex, sizeof(ULONG64), &Lock),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Lock == NULL);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Lock = (PVOID)1;
    CHECK_STATUS(WdkmGrtReference("typed", WdkmLockKindSpinLock, sizeof(ULONG), &Lock),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Lock == NULL);
    KeLowerIrql(Old);
    KeRaiseIrql(DISPATCH_LEVEL + 1, &Old);
    Lock = (PVOID)1;
    CHECK_STATUS(Reference("typed", &Lock), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Lock == NULL);
    KeLowerIrql(Old);
    CHECK_EQ(Blocks(), Registered);
    CHECK_STATUS(WdkmGrtUnregister("typed"), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Before);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}


/* A lookup's argument errors leave *Lock NULL and take no reference. */
static VOID
LookupArgumentErrorsTakeNothing(VOID)
{
    PVOID Lock;
    LONG Registered;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(Register("args"), STATUS_SUCCESS);
    Registered = Blocks();
    Lock = (PVOID)1;
    CHECK(WdkmGrtReference("args", (WDKM_LOCK_KIND)99, sizeof(ULONG), &Lock) != STATUS_SUCCESS);
    CHECK(Lock == NULL);
    Lock = (PVOID)1;
    CHECK(WdkmGrtReference("args", WdkmLockKindKMutex, 0, &Lock) != STATUS_SUCCESS);
    CHECK(Lock == NULL);
    Lock = (PVOID)1;
    CHECK(WdkmGrtReference("args", WdkmLockKindKMutex, WDKM_MAX_DATA_SIZE + 1, &Lock) !=
          STATUS_SUCCESS);
    CHECK(Lock == NULL);
    Lock = (PVOID)1;
    CHECK_STATUS(WdkmGrtReference(NULL, WdkmLockKindKMutex, sizeof(ULONG), &Lock),
                 STATUS_INVALID_PARAMETER);
    CHECK(Lock == NULL);
    CHECK_STATUS(WdkmGrtReference("args", WdkmLockKindKMutex, sizeof(ULONG), NULL),
                 STATUS_INVALID_PARAMETER);
    CHECK_EQ(Blocks(), Registered);
    CHECK_STATUS(WdkmGrtUnregister("args"), STATUS_SUCCESS);
    CHECK(Blocks() < Registered);         /* no reference was taken */
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* "Order of the checks": a kind out of range and a data size of 0 or above
   WDKM_MAX_DATA_SIZE are argument errors, answered before the IRQL and
   before the registry's state and names. So a lookup with one answers the
   same argument error (STATUS_INVALID_PARAMETER, as WdkmGrtRegister and
   WdkmGrtScopeEnter answer for the kind, or STATUS_WDKM_TYPE_MISMATCH) at
   PASSIVE_LEVEL and at HIGH_LEVEL, for a registered name and an absent
   one, and with no registry. */
static BOOLEAN
IsArgumentError(NTSTATUS Status)
{
    return Status == STATUS_INVALID_PARAMETER || Status == STATUS_WDKM_TYPE_MISMATCH;
}

static VOID
LookupArgumentsBeforeIrqlAndState(VOID)
{
    static const struct {
        WDKM_LOCK_KIND Kind;
        SIZE_T Size;
    } Bad[] = {
        { (WDKM_LOCK_KIND)99, sizeof(ULONG) },
        { WdkmLockKindKMutex, 0 },
        { WdkmLockKindKMutex, WDKM_MAX_DATA_SIZE + 1 },
    };
    PVOID Lock;
    KIRQL Old;
    NTSTATUS Passive, High, Absent, None;
    ULONG Index;

    for (Index = 0; Index < sizeof(Bad) / sizeof(Bad[0]); Index += 1) {
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        CHECK_STATUS(Register("args"), STATUS_SUCCESS);
        Passive = WdkmGrtReference("args", Bad[Index].Kind, Bad[Index].Size, &Lock);
        KeRaiseIrql(HIGH_LEVEL, &Old);
        High = WdkmGrtReference("args", Bad[Index].Kind, Bad[Index].Size, &Lock);
        KeLowerIrql(Old);
        Absent = WdkmGrtReference("absent", Bad[Index].Kind, Bad[Index].Size, &Lock);
        CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
        None = WdkmGrtReference("args", Bad[Index].Kind, Bad[Index].Size, &Lock);
        CHECK(IsArgumentError(Passive));
        CHECK_STATUS(High, Passive);
        CHECK_STATUS(Absent, Passive);
        CHECK_STATUS(None, Passive);
    }
}

/* The writers judge their arguments first (held). */
static VOID
WriterArgumentsBeforeIrqlAndState(VOID)
{
    CHAR Long[65];
    ULONG Initial = 1, Pass;
    KIRQL Old = PASSIVE_LEVEL;

    memset(Long, 'w', 64);
    Long[64] = '\0';
    for (Pass = 0; Pass < 3; Pass += 1) {
        if (Pass == 0) {
            CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
            KeRaiseIrql(HIGH_LEVEL, &Old);
        }
        CHECK_STATUS(WdkmGrtRegister("w", (WDKM_LOCK_KIND)99, &Initial, sizeof(Initial), 0),
                     STATUS_INVALID_PARAMETER);
        CHECK_STATUS(WdkmGrtRegister("w", WdkmLockKindKMutex, &Initial, 0, 0),
                     STATUS_INVALID_PARAMETER);
        CHECK_STATUS(WdkmGrtRegister("w", WdkmLockKindKMutex, &Initial, sizeof(Initial), 0x80),
                     STATUS_INVALID_PARAMETER);
        CHECK_STATUS(WdkmGrtRegister(Long, WdkmLockKindKMutex, &Initial, sizeof(Initial), 0),
                     STATUS_NAME_TOO_LONG);
        CHECK_STATUS(WdkmGrtUnregister(Long), STATUS_NAME_TOO_LONG);
        CHECK_STATUS(WdkmGrtUnregister(""), STATUS_OBJECT_NAME_INVALID);
        if (Pass == 0) {
            KeLowerIrql(Old);
        } else if (Pass == 1) {
            CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
        }
    }
}

/* Names of 1 to 63 characters work; 64 and more are too long everywhere,
   even when their first 63 characters are a registered name, and even
   above DISPATCH_LEVEL (arguments are judged before the IRQL). */
static VOID
NameLengths(VOID)
{
    CHAR Name[80];
    PVOID Lock;
    ULONG Length;
    KIRQL Old;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Length = 1; Length <= 63; Length += 1) {
        memset(Name, 'a' + (CHAR)(Length % 26), Length);
        Name[Length] = '\0';
        CHECK_STATUS(Register(Name), STATUS_SUCCESS);
    }
    for (Length = 1; Length <= 63; Length += 1) {
        memset(Name, 'a' + (CHAR)(Length % 26), Length);
        Name[Length] = '\0';
        WdkmHostSetCurrentProcessor((LONG)(Length * 4));
        KeRaiseIrql(DISPATCH_LEVEL, &Old);
        CHECK_STATUS(Reference(Name, &Lock), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        KeLowerIrql(Old);
    }
    WdkmHostSetCurrentProcessor(-1);
    memset(Name, 'a' + 63 % 26, 64);
    Name[64] = '\0';
    CHECK_STATUS(Register(Name), STATUS_NAME_TOO_LONG);
    CHECK_STATUS(Reference(Name, &Lock), STATUS_NAME_TOO_LONG);
    CHECK(Lock == NULL);
    CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_NAME_TOO_LONG);
    KeRaiseIrql(HIGH_LEVEL, &Old);
    CHECK_STATUS(Reference(Name, &Lock), STATUS_NAME_TOO_LONG);
    CHECK_STATUS(Reference("", &Lock), STATUS_OBJECT_NAME_INVALID);
    KeLowerIrql(Old);
    memset(Name, 'q', 79);
    Name[79] = '\0';
    CHECK_STATUS(Reference(Name, &Lock), STATUS_NAME_TOO_LONG);
    CHECK_STATUS(Reference("", &Lock), STATUS_OBJECT_NAME_INVALID);
    CHECK_STATUS(WdkmGrtUnregister(""), STATUS_OBJECT_NAME_INVALID);
    for (Length = 1; Length <= 63; Length += 1) {
        memset(Name, 'a' + (CHAR)(Length % 26), Length);
        Name[Length] = '\0';
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* More names than a chunk or a cache holds, all referenced on one
   processor and held across their unregistration, dropped on others. */
#ifndef ATTACK21_MANY_NAMES
#define ATTACK21_MANY_NAMES 1200
#endif
#define MANY_NAMES ATTACK21_MANY_NAMES

static VOID
ManyNamesHeldAcrossUnregister(VOID)
{
    static PVOID Locks[MANY_NAMES];
    CHAR Name[16];
    LONG Base, Before;
    ULONG Index;

    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < MANY_NAMES; Index += 1) {
        snprintf(Name, sizeof(Name), "n%u", Index);
        CHECK_STATUS(Register(Name), STATUS_SUCCESS);
    }
    WdkmHostSetCurrentProcessor(130);
    for (Index = 0; Index < MANY_NAMES; Index += 1) {
        snprintf(Name, sizeof(Name), "n%u", Index);
        CHECK_STATUS(Reference(Name, &Locks[Index]), STATUS_SUCCESS);
    }
    WdkmHostSetCurrentProcessor(-1);
    Before = Blocks();
    for (Index = 0; Index < MANY_NAMES; Index += 1) {
        snprintf(Name, sizeof(Name), "n%u", Index);
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
    }
    CHECK(Blocks() <= Before);
    for (Index = 0; Index < MANY_NAMES; Index += 1) {
        CHECK(Works(Locks[Index]));
        WdkmHostSetCurrentProcessor((LONG)(Index % 256));
        CHECK_STATUS(WdkmGrtDereference(Locks[Index]), STATUS_SUCCESS);
    }
    WdkmHostSetCurrentProcessor(-1);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Base);
}

/* Many register/unregister cycles reusing keys, each with a reference
   taken on one processor, held across the unregister, dropped on another. */
static VOID
ManyCycles(VOID)
{
    CHAR Name[16];
    PVOID Lock, Keep = NULL;
    LONG Base, Before;
    ULONG Cycle;

    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(Register("keep"), STATUS_SUCCESS);
    for (Cycle = 0; Cycle < 3000; Cycle += 1) {
        snprintf(Name, sizeof(Name), "c%u", Cycle % 37);
        CHECK_STATUS(Register(Name), STATUS_SUCCESS);
        WdkmHostSetCurrentProcessor((LONG)((Cycle * 7) % 256));
        if (Cycle % 500 == 0) {
            if (Keep != NULL) {
                CHECK_STATUS(WdkmGrtDereference(Keep), STATUS_SUCCESS);
            }
            CHECK_STATUS(Reference("keep", &Keep), STATUS_SUCCESS);
        }
        CHECK_STATUS(Reference(Name, &Lock), STATUS_SUCCESS);
        WdkmHostSetCurrentProcessor(-1);
        Before = Blocks();
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
        CHECK_EQ(Blocks(), Before);
        CHECK(Works(Lock));
        WdkmHostSetCurrentProcessor((LONG)((Cycle * 13 + 1) % 256));
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        WdkmHostSetCurrentProcessor(-1);
        CHECK(Blocks() < Before);
    }
    CHECK_STATUS(WdkmGrtDereference(Keep), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Base);
}

/* Allocation failures in register (and table growth past 64 names) give
   STATUS_INSUFFICIENT_RESOURCES and change nothing; lookups and
   dereferences do not fail for want of pool. */
static VOID
AllocationFailures(VOID)
{
    CHAR Name[16];
    PVOID Lock;
    LONG Before;
    ULONG Index, At;
    NTSTATUS Status;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < 150; Index += 1) {
        snprintf(Name, sizeof(Name), "f%u", Index);
        for (At = 0; At < 8; At += 1) {
            Before = Blocks();
            WdkmHostPoolFailAt((LONG)At);
            Status = Register(Name);
            WdkmHostPoolFailAt(-1);
            if (Status == STATUS_SUCCESS) {
                break;
            }
            CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
            CHECK_EQ(Blocks(), Before);
            CHECK_STATUS(Reference(Name, &Lock), STATUS_OBJECT_NAME_NOT_FOUND);
        }
        CHECK(At < 8);
    }
    for (Index = 0; Index < 150; Index += 1) {
        snprintf(Name, sizeof(Name), "f%u", Index);
        WdkmHostSetCurrentProcessor((LONG)(Index % 3));   /* crowd the cache words */
        WdkmHostPoolFailAt(0);
        CHECK_STATUS(Reference(Name, &Lock), STATUS_SUCCESS);
        WdkmHostPoolFailAt(0);
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        WdkmHostPoolFailAt(-1);
        WdkmHostSetCurrentProcessor(-1);
    }
    for (Index = 0; Index < 150; Index += 1) {
        snprintf(Name, sizeof(Name), "f%u", Index);
        WdkmHostPoolFailAt(0);
        Status = WdkmGrtUnregister(Name);
        WdkmHostPoolFailAt(-1);
        CHECK_STATUS(Status, STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* Destroy with references counted in caches and on shards: it times out
   naming them, refuses lookups, and finishes after the last drops. */
static VOID
DestroyWithCachedReferences(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Zero;
    PVOID A, A2, B, C, Lock;
    LONG Base;

    Zero.QuadPart = 0;
    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(Register("a"), STATUS_SUCCESS);
    CHECK_STATUS(Register("b"), STATUS_SUCCESS);
    CHECK_STATUS(Register("c"), STATUS_SUCCESS);
    CHECK_STATUS(Register("d"), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(4);
    CHECK_STATUS(Reference("a", &A), STATUS_SUCCESS);
    CHECK_STATUS(Reference("b", &B), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(100);
    CHECK_STATUS(Reference("a", &A2), STATUS_SUCCESS);
    CHECK_STATUS(Reference("c", &C), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(-1);
    CHECK_STATUS(WdkmGrtUnregister("c"), STATUS_SUCCESS);

    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.StillReferenced, 2);
    CHECK_EQ(Report.UnregisteredReferenced, 1);
    CHECK_EQ(Report.StillHeld, 0);
    CHECK_EQ(Report.Freed, 1);         /* "d" */
    CHECK_STATUS(Reference("a", &Lock), STATUS_DELETE_PENDING);
    CHECK(Lock == NULL);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_WDKM_ALREADY_INITIALIZED);
    CHECK_STATUS(Register("e"), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmGrtUnregister("a"), STATUS_DELETE_PENDING);
    CHECK(Works(A));
    WdkmHostSetCurrentProcessor(4);
    CHECK_STATUS(WdkmGrtDereference(A2), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(200);
    CHECK_STATUS(WdkmGrtDereference(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(C), STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(-1);
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_TIMEOUT);
    CHECK_EQ(Report.StillReferenced, 1);
    CHECK_EQ(Report.UnregisteredReferenced, 0);
    CHECK(Works(A));
    CHECK_STATUS(WdkmGrtDereference(A), STATUS_SUCCESS);
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_WDKM_NOT_INITIALIZED);
    CHECK_EQ(Blocks(), Base);
}


/* Destroy's report with more survivors than it names: 20 referenced on
   scattered processors, 3 of them held (by another thread: the caller must
   not hold one), 2 more unregistered and referenced. */
typedef struct _HOLDERS {
    PVOID Locks[3];
    KEVENT Held, Go;
} HOLDERS;

static VOID
HoldThree(PVOID Context, ULONG Index)
{
    HOLDERS *Holders = (HOLDERS *)Context;
    ULONG *Data, Which;

    UNREFERENCED_PARAMETER(Index);
    for (Which = 0; Which < 3; Which += 1) {
        (VOID)WdkmKMutexAcquire((PWDKM_KMUTEX)Holders->Locks[Which], sizeof(ULONG), (PVOID *)&Data);
    }
    KeSetEvent(&Holders->Held, 0, FALSE);
    (VOID)KeWaitForSingleObject(&Holders->Go, Executive, KernelMode, FALSE, NULL);
    for (Which = 0; Which < 3; Which += 1) {
        (VOID)WdkmKMutexRelease((PWDKM_KMUTEX)Holders->Locks[2 - Which]);
    }
}

static VOID
DestroyReportBeyondSixteen(VOID)
{
    static HOLDERS Holders;
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Zero;
    WDKM_TEST_THREAD *Thread;
    PVOID Locks[22];
    CHAR Name[16];
    ULONG Index, Held = 0;
    LONG Base;

    Zero.QuadPart = 0;
    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < 22; Index += 1) {
        snprintf(Name, sizeof(Name), "s%u", Index);
        CHECK_STATUS(Register(Name), STATUS_SUCCESS);
        WdkmHostSetCurrentProcessor((LONG)(Index * 11 % 256));
        CHECK_STATUS(Reference(Name, &Locks[Index]), STATUS_SUCCESS);
        WdkmHostSetCurrentProcessor(-1);
    }
    CHECK_STATUS(WdkmGrtUnregister("s20"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("s21"), STATUS_SUCCESS);
    Holders.Locks[0] = Locks[3];
    Holders.Locks[1] = Locks[10];
    Holders.Locks[2] = Locks[19];
    KeInitializeEvent(&Holders.Held, NotificationEvent, FALSE);
    KeInitializeEvent(&Holders.Go, NotificationEvent, FALSE);
    Thread = WdkmTestStartThread(HoldThree, &Holders);
    CHECK(Thread != NULL);
    (VOID)KeWaitForSingleObject(&Holders.Held, Executive, KernelMode, FALSE, NULL);
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_TIMEOUT);
    KeSetEvent(&Holders.Go, 0, FALSE);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(Report.StillReferenced, 20);
    CHECK_EQ(Report.StillHeld, 3);
    CHECK_EQ(Report.UnregisteredReferenced, 2);
    CHECK_EQ(Report.NamesReported, WDKM_GRT_REPORT_NAMES);
    for (Index = 0; Index < Report.NamesReported; Index += 1) {
        CHECK(Report.Names[Index][0] == 's');
        Held += Report.Held[Index] ? 1 : 0;
    }
    CHECK(Held <= 3);
    for (Index = 0; Index < 22; Index += 1) {
        WdkmHostSetCurrentProcessor((LONG)(255 - Index));
        CHECK_STATUS(WdkmGrtDereference(Locks[Index]), STATUS_SUCCESS);
    }
    WdkmHostSetCurrentProcessor(-1);
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Base);
}

/* An ERESOURCE whose last reference is dropped at DISPATCH_LEVEL after its
   unregistration (on another processor than its lookup): freed by the next
   valid-argument Unregister at <= APC_LEVEL, even one that answers
   NOT_FOUND. */
static VOID
ResourceDroppedAtDispatch(VOID)
{
    ULONG Initial = 3;
    PVOID Lock;
    KIRQL Old;
    LONG Before, Alive;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Before = Blocks();
    CHECK_STATUS(WdkmGrtRegister("res", WdkmLockKindResource, &Initial, sizeof(Initial), 0),
                 STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(1);
    CHECK_STATUS(WdkmGrtReference("res", WdkmLockKindResource, sizeof(ULONG), &Lock),
                 STATUS_SUCCESS);
    WdkmHostSetCurrentProcessor(-1);
    CHECK_STATUS(WdkmGrtUnregister("res"), STATUS_SUCCESS);
    Alive = Blocks();
    WdkmHostSetCurrentProcessor(66);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
    KeLowerIrql(Old);
    WdkmHostSetCurrentProcessor(-1);
    CHECK_EQ(Blocks(), Alive);      /* deferred */
    CHECK_STATUS(WdkmGrtUnregister("nothing"), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_EQ(Blocks(), Before);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}


/* Deferred ERESOURCEs (last reference dropped at DISPATCH_LEVEL, in a
   modelled DPC, on a processor other than the lookup's) are freed by the
   next valid-argument Register or Unregister at <= APC_LEVEL whatever it
   answers (a collision, an allocation failure), or counted in Destroy's
   Freed. Writers at too high an IRQL answer and change nothing. */
static PVOID
DeferredResource(PCSTR Name)
{
    ULONG Initial = 1;
    PVOID Lock = NULL;
    KIRQL Old;

    if (WdkmGrtRegister(Name, WdkmLockKindResource, &Initial, sizeof(Initial), 0) != STATUS_SUCCESS ||
        WdkmGrtReference(Name, WdkmLockKindResource, sizeof(ULONG), &Lock) != STATUS_SUCCESS ||
        WdkmGrtUnregister(Name) != STATUS_SUCCESS) {
        return NULL;
    }
    WdkmHostSetCurrentProcessor(90);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    if (WdkmGrtDereference(Lock) != STATUS_SUCCESS) {
        Lock = NULL;
    }
    KeLowerIrql(Old);
    WdkmHostSetCurrentProcessor(-1);
    return Lock;
}

static VOID
DeferredResourcesAndWriterIrql(VOID)
{
    WDKM_GRT_REPORT Report;
    PVOID Lock;
    KIRQL Old;
    LONG Base, Parked;
    NTSTATUS Status;

    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(Register("kept"), STATUS_SUCCESS);
    Parked = Blocks();

    CHECK(DeferredResource("r1") != NULL);
    CHECK(Blocks() > Parked);
    CHECK_STATUS(Register("kept"), STATUS_OBJECT_NAME_COLLISION);
    CHECK_EQ(Blocks(), Parked);

    CHECK(DeferredResource("r2") != NULL);
    KeRaiseIrql(APC_LEVEL, &Old);
    WdkmHostPoolFailAt(0);
    Status = Register("new");
    WdkmHostPoolFailAt(-1);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_INSUFFICIENT_RESOURCES);
    CHECK_EQ(Blocks(), Parked);

    /* Writers above their IRQL: nothing changes, the parked one stays. */
    CHECK(DeferredResource("r3") != NULL);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = WdkmGrtUnregister("kept");
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    Status = Register("other");
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    KeRaiseIrql(APC_LEVEL, &Old);
    Status = WdkmGrtDestroy(NULL, NULL);
    KeLowerIrql(Old);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(Reference("kept", &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
    CHECK_STATUS(Reference("other", &Lock), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK(Blocks() > Parked);

    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.Freed, 2);           /* "kept" and the parked "r3" */
    CHECK_EQ(Blocks(), Base);
}

/* Writers (unregister, replace) racing lookups and dereferences on many
   processors; threads move between lookup and dereference, some lookups at
   DISPATCH_LEVEL. At the end everything is freed. */
#define RACE_NAMES 12
#define RACE_THREADS 4

#define RACE_STASH 8

typedef struct _RACE {
    PVOID volatile Stash[RACE_STASH];   /* references handed from thread to thread */
    LONG volatile Stop;
    LONG volatile Failures;
    LONG volatile Successes;
} RACE;

static VOID
RaceReader(PVOID Context, ULONG Index)
{
    RACE *Race = (RACE *)Context;
    ULONG64 Random = 0x9E3779B97F4A7C15ULL * (Index + 1);
    CHAR Name[16];
    PVOID Lock;
    NTSTATUS Status;
    KIRQL Old;
    ULONG Ops = 0;

    while (InterlockedCompareExchange(&Race->Stop, 0, 0) == 0 || Ops < 2000) {
        BOOLEAN Raise;

        Random ^= Random << 13;
        Random ^= Random >> 7;
        Random ^= Random << 17;
        snprintf(Name, sizeof(Name), "r%u", (unsigned)(Random % RACE_NAMES));
        Raise = (Random >> 20) % 3 == 0;
        WdkmHostSetCurrentProcessor((LONG)((Random >> 24) % 256));
        if (Raise) {
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
        }
        Status = Reference(Name, &Lock);
        if (Raise) {
            KeLowerIrql(Old);
        }
        if (Status == STATUS_SUCCESS) {
            if (!Raise && (Random >> 40) % 4 == 0 && !Works(Lock)) {
                InterlockedIncrement(&Race->Failures);
            }
            WdkmHostSetCurrentProcessor((LONG)((Random >> 32) % 256));
            if ((Random >> 44) % 3 == 0) {
                /* Hand this reference to another thread; drop the one found. */
                Lock = InterlockedExchangePointer(&Race->Stash[(Random >> 47) % RACE_STASH], Lock);
                if (Lock == NULL) {
                    Ops += 1;
                    continue;
                }
            }
            if ((Random >> 50) % 2 == 0) {
                KeRaiseIrql(DISPATCH_LEVEL, &Old);
                Status = WdkmGrtDereference(Lock);
                KeLowerIrql(Old);
            } else {
                Status = WdkmGrtDereference(Lock);
            }
            if (Status != STATUS_SUCCESS) {
                InterlockedIncrement(&Race->Failures);
            }
            InterlockedIncrement(&Race->Successes);
        } else if (Status != STATUS_OBJECT_NAME_NOT_FOUND) {
            InterlockedIncrement(&Race->Failures);
        }
        Ops += 1;
    }
    WdkmHostSetCurrentProcessor(-1);
}

static VOID
RaceWriter(PVOID Context, ULONG Index)
{
    RACE *Race = (RACE *)Context;
    CHAR Name[16];
    ULONG Round, Initial = 1;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    for (Round = 0; Round < 3000; Round += 1) {
        snprintf(Name, sizeof(Name), "r%u", Round % RACE_NAMES);
        WdkmHostSetCurrentProcessor((LONG)((Round * 31) % 256));
        switch (Round % 3) {
        case 0:
            Status = WdkmGrtUnregister(Name);
            if (Status != STATUS_SUCCESS && Status != STATUS_OBJECT_NAME_NOT_FOUND) {
                InterlockedIncrement(&Race->Failures);
            }
            break;
        case 1:
            Status = WdkmGrtRegister(Name, WdkmLockKindKMutex, &Initial, sizeof(Initial),
                                     WDKM_GRT_REPLACE);
            if (Status != STATUS_SUCCESS) {
                InterlockedIncrement(&Race->Failures);
            }
            break;
        default:
            Status = Register(Name);
            if (Status != STATUS_SUCCESS && Status != STATUS_OBJECT_NAME_COLLISION) {
                InterlockedIncrement(&Race->Failures);
            }
            break;
        }
    }
    WdkmHostSetCurrentProcessor(-1);
    InterlockedExchange(&Race->Stop, 1);
}

static VOID
RaceThread(PVOID Context, ULONG Index)
{
    if (Index == 0) {
        RaceWriter(Context, Index);
    } else {
        RaceReader(Context, Index);
    }
}

static VOID
WritersRaceLookups(VOID)
{
    RACE Race;
    CHAR Name[16];
    LONG Base;
    ULONG Index;
    WDKM_GRT_REPORT Report;

    memset(&Race, 0, sizeof(Race));
    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < RACE_NAMES; Index += 1) {
        snprintf(Name, sizeof(Name), "r%u", Index);
        CHECK_STATUS(Register(Name), STATUS_SUCCESS);
    }
    CHECK(WdkmTestRunThreads(RACE_THREADS, RaceThread, &Race));
    for (Index = 0; Index < RACE_STASH; Index += 1) {
        if (Race.Stash[Index] != NULL) {
            CHECK(Works(Race.Stash[Index]));
            CHECK_STATUS(WdkmGrtDereference(Race.Stash[Index]), STATUS_SUCCESS);
        }
    }
    CHECK_EQ(Race.Failures, 0);
    CHECK(Race.Successes > 0);
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(Report.UnregisteredReferenced, 0);
    CHECK_EQ(Blocks(), Base);
}


/* The scoped forms: the reference taken by the scope's lookup on one
   processor is dropped at its end on another; failures (wrong type, the
   queued spin lock, too high an IRQL) run no body and take no reference. */
static VOID
ScopesAcrossProcessors(VOID)
{
    ULONG Initial = 11;
    ULONG *Data;
    NTSTATUS Status;
    PVOID Outer;
    ULONG Bodies = 0;
    KIRQL Old;
    LONG Registered, Before;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    Before = Blocks();
    CHECK_STATUS(Register("sk"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtRegister("ss", WdkmLockKindSpinLock, &Initial, sizeof(Initial), 0),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtRegister("sq", WdkmLockKindQueuedSpinLock, &Initial, sizeof(Initial), 0),
                 STATUS_SUCCESS);
    Registered = Blocks();

    WdkmHostSetCurrentProcessor(3);
    WDKM_GRT_KMUTEX_SCOPED("sk", Data, &Status) {
        *Data += 1;
        Bodies += 1;
        WdkmHostSetCurrentProcessor(150);
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Bodies, 1);

    /* A DPC's spin-lock scope while the interrupted code holds a reference. */
    CHECK_STATUS(WdkmGrtReference("ss", WdkmLockKindSpinLock, sizeof(ULONG), &Outer),
                 STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    WdkmHostSetCurrentProcessor(99);
    WDKM_GRT_SCOPED("ss", WdkmLockKindSpinLock, Data, &Status) {
        *Data += 1;
        Bodies += 1;
        WdkmHostSetCurrentProcessor(35);
    }
    CHECK_STATUS(Status, STATUS_SUCCESS);
    /* A KMUTEX scope is too high here, and takes nothing. */
    WDKM_GRT_KMUTEX_SCOPED("sk", Data, &Status) {
        Bodies += 100;
    }
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(Old);
    CHECK_EQ(Bodies, 2);

    WDKM_GRT_SCOPED("sq", WdkmLockKindQueuedSpinLock, Data, &Status) {
        Bodies += 100;
    }
    CHECK_STATUS(Status, STATUS_INVALID_PARAMETER);
    WDKM_GRT_SCOPED("sk", WdkmLockKindFastMutex, Data, &Status) {
        Bodies += 100;
    }
    CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
    WDKM_GRT_KMUTEX_SCOPED("none", Data, &Status) {
        Bodies += 100;
    }
    CHECK_STATUS(Status, STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_EQ(Bodies, 2);
    WdkmHostSetCurrentProcessor(-1);
    CHECK_EQ(Blocks(), Registered);

    /* Only Outer's reference is left: the other two are freed at once. */
    CHECK_STATUS(WdkmGrtUnregister("sk"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("sq"), STATUS_SUCCESS);
    CHECK(Blocks() < Registered);
    Registered = Blocks();
    CHECK_STATUS(WdkmGrtUnregister("ss"), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Registered);
    CHECK_STATUS(WdkmGrtDereference(Outer), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Before);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}


/* The caller's own hold, taken at whatever IRQL the kind's acquire leaves
   (a spin lock's raises to DISPATCH_LEVEL, as a DPC runs at): every kind
   answers STATUS_WDKM_LOCK_HELD and keeps the reference, also after the
   name is unregistered. */
static NTSTATUS
HeldDereference(WDKM_LOCK_KIND Kind, PVOID Lock, BOOLEAN Shared, BOOLEAN AtDpc)
{
    PVOID Data;
    const VOID *Read;
    KIRQL Old = PASSIVE_LEVEL, Raised = PASSIVE_LEVEL;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    NTSTATUS Held, Status = STATUS_UNSUCCESSFUL;

    switch (Kind) {
    case WdkmLockKindSpinLock:
        if (AtDpc) {
            KeRaiseIrql(DISPATCH_LEVEL, &Raised);
            Status = WdkmSpinLockAcquireAtDpcLevel((PWDKM_SPIN_LOCK)Lock, sizeof(ULONG), &Data);
        } else {
            Status = WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock, sizeof(ULONG), &Old, &Data);
        }
        break;
    case WdkmLockKindQueuedSpinLock:
        Status = WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Lock, sizeof(ULONG), &Handle,
                                           &Data);
        break;
    case WdkmLockKindFastMutex:
        Status = WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock, sizeof(ULONG), &Data);
        break;
    case WdkmLockKindGuardedMutex:
        Status = WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)Lock, sizeof(ULONG), &Data);
        break;
    case WdkmLockKindResource:
        Status = Shared ? WdkmResourceAcquireShared((PWDKM_RESOURCE)Lock, sizeof(ULONG), &Read)
                        : WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Lock, sizeof(ULONG), &Data);
        break;
    case WdkmLockKindPushLock:
        Status = Shared ? WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)Lock, sizeof(ULONG), &Read)
                        : WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)Lock, sizeof(ULONG), &Data);
        break;
    default:
        Status = WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, sizeof(ULONG), &Data);
        break;
    }
    if (Status != STATUS_SUCCESS) {
        return STATUS_UNSUCCESSFUL;
    }
    WdkmHostSetCurrentProcessor(201);
    Held = WdkmGrtDereference(Lock);
    switch (Kind) {
    case WdkmLockKindSpinLock:
        if (AtDpc) {
            Status = WdkmSpinLockReleaseFromDpcLevel((PWDKM_SPIN_LOCK)Lock);
            KeLowerIrql(Raised);
        } else {
            Status = WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, Old);
        }
        break;
    case WdkmLockKindQueuedSpinLock:
        Status = WdkmQueuedSpinLockRelease(&Handle);
        break;
    case WdkmLockKindFastMutex:
        Status = WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock);
        break;
    case WdkmLockKindGuardedMutex:
        Status = WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Lock);
        break;
    case WdkmLockKindResource:
        Status = WdkmResourceRelease((PWDKM_RESOURCE)Lock);
        break;
    case WdkmLockKindPushLock:
        Status = WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock);
        break;
    default:
        Status = WdkmKMutexRelease((PWDKM_KMUTEX)Lock);
        break;
    }
    WdkmHostSetCurrentProcessor(-1);
    return Status == STATUS_SUCCESS ? Held : STATUS_UNSUCCESSFUL;
}

static VOID
HeldAtItsOwnIrql(VOID)
{
    static const struct {
        WDKM_LOCK_KIND Kind;
        BOOLEAN Shared;
        BOOLEAN AtDpc;
    } Cases[] = {
        { WdkmLockKindKMutex, FALSE, FALSE },
        { WdkmLockKindSpinLock, FALSE, FALSE },
        { WdkmLockKindSpinLock, FALSE, TRUE },
        { WdkmLockKindQueuedSpinLock, FALSE, FALSE },
        { WdkmLockKindFastMutex, FALSE, FALSE },
        { WdkmLockKindGuardedMutex, FALSE, FALSE },
        { WdkmLockKindResource, FALSE, FALSE },
        { WdkmLockKindResource, TRUE, FALSE },
        { WdkmLockKindPushLock, FALSE, FALSE },
        { WdkmLockKindPushLock, TRUE, FALSE },
    };
    ULONG Initial = 4, Index;
    PVOID Lock, Lock2;
    LONG Before;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < sizeof(Cases) / sizeof(Cases[0]); Index += 1) {
        Before = Blocks();
        CHECK_STATUS(WdkmGrtRegister("h", Cases[Index].Kind, &Initial, sizeof(Initial), 0),
                     STATUS_SUCCESS);
        WdkmHostSetCurrentProcessor((LONG)(Index * 19));
        CHECK_STATUS(WdkmGrtReference("h", Cases[Index].Kind, sizeof(ULONG), &Lock),
                     STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtReference("h", Cases[Index].Kind, sizeof(ULONG), &Lock2),
                     STATUS_SUCCESS);
        WdkmHostSetCurrentProcessor(-1);
        CHECK_STATUS(HeldDereference(Cases[Index].Kind, Lock, Cases[Index].Shared,
                                     Cases[Index].AtDpc), STATUS_WDKM_LOCK_HELD);
        CHECK_STATUS(WdkmGrtUnregister("h"), STATUS_SUCCESS);
        CHECK_STATUS(HeldDereference(Cases[Index].Kind, Lock, Cases[Index].Shared,
                                     Cases[Index].AtDpc), STATUS_WDKM_LOCK_HELD);
        CHECK_STATUS(WdkmGrtDereference(Lock2), STATUS_SUCCESS);
        CHECK(Blocks() > Before);          /* one reference is still out */
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        CHECK_EQ(Blocks(), Before);
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}


/* Real DPCs, queued at random moments into threads that look names up,
   hold the locks and drop references (and move processors): each DPC
   takes and drops its own references on the same names, on a processor it
   picks (so the interrupted code resumes on another), while a writer
   unregisters and registers them again. Under TSan (make host-tsan) about
   one run in five reports a data race: the writer's free of an entry
   (WdkmpLockDestroyCommon writing the signature, from WdkmpGrtRetire) not
   ordered after a worker's read of the lock's header in
   WdkmGrtDereference - seen with the reference caches, never before them
   (0 of 8 runs on f276e2b). */
#define INJECT_NAMES 6
#define INJECT_WORKERS 2

typedef struct _INJECT {
    LONG volatile Stop;
    LONG volatile Failures;
    LONG volatile DpcRuns;
    LONG volatile DpcSuccesses;
} INJECT;

static VOID
InjectDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    INJECT *Inject = (INJECT *)Context;
    CHAR Name[8];
    PVOID Lock;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Kind);
    InterlockedIncrement(&Inject->DpcRuns);
    Name[0] = 'i';
    Name[1] = (CHAR)('0' + (Random % INJECT_NAMES));
    Name[2] = '\0';
    WdkmHostSetCurrentProcessor((LONG)((Random >> 8) % 256));
    Status = Reference(Name, &Lock);
    if (Status == STATUS_SUCCESS) {
        WdkmHostSetCurrentProcessor((LONG)((Random >> 16) % 256));
        if (WdkmGrtDereference(Lock) != STATUS_SUCCESS) {
            InterlockedIncrement(&Inject->Failures);
        }
        InterlockedIncrement(&Inject->DpcSuccesses);
    } else if (Status != STATUS_OBJECT_NAME_NOT_FOUND) {
        InterlockedIncrement(&Inject->Failures);
    }
    WdkmHostSetCurrentProcessor((LONG)((Random >> 24) % 256));
}

static VOID
InjectWorker(PVOID Context, ULONG Index)
{
    INJECT *Inject = (INJECT *)Context;
    ULONG64 Random = 0xD1B54A32D192ED03ULL;
    CHAR Name[8];
    PVOID Lock;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    Random ^= (ULONG64)(ULONG_PTR)KeGetCurrentThread();   /* StartThread passes no index */
    while (InterlockedCompareExchange(&Inject->Stop, 0, 0) == 0) {
        Random ^= Random << 13;
        Random ^= Random >> 7;
        Random ^= Random << 17;
        Name[0] = 'i';
        Name[1] = (CHAR)('0' + (Random % INJECT_NAMES));
        Name[2] = '\0';
        Status = Reference(Name, &Lock);
        if (Status == STATUS_SUCCESS) {
            if ((Random >> 30) % 2 == 0 && !Works(Lock)) {
                InterlockedIncrement(&Inject->Failures);
            }
            if (WdkmGrtDereference(Lock) != STATUS_SUCCESS) {
                InterlockedIncrement(&Inject->Failures);
            }
        } else if (Status != STATUS_OBJECT_NAME_NOT_FOUND) {
            InterlockedIncrement(&Inject->Failures);
        }
    }
    WdkmHostSetCurrentProcessor(-1);
}

static VOID
InjectedDpcsRaceWriters(VOID)
{
    static INJECT Inject;
    WDKM_TEST_THREAD *Threads[INJECT_WORKERS];
    CHAR Name[8];
    ULONG Index, Round;
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];
    NTSTATUS Status;
    ULONG WriterFailures = 0;
    LONG Base;

    memset(&Inject, 0, sizeof(Inject));
    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < INJECT_NAMES; Index += 1) {
        snprintf(Name, sizeof(Name), "i%u", Index);
        CHECK_STATUS(Register(Name), STATUS_SUCCESS);
    }
    for (Index = 0; Index < INJECT_WORKERS; Index += 1) {
        Threads[Index] = WdkmTestStartThread(InjectWorker, &Inject);
        CHECK(Threads[Index] != NULL);
    }
    WdkmTestSleepMs(5);
    for (Round = 0; Round < 1500; Round += 1) {
        PKTHREAD Target = WdkmTestThreadObject(Threads[Round % INJECT_WORKERS]);

        WdkmHostQueueInterrupt(Target, WdkmHostInterruptDpc, InjectDpc, &Inject);
        snprintf(Name, sizeof(Name), "i%u", Round % INJECT_NAMES);
        if (Round % 3 == 0) {
            ULONG Initial = Round;

            Status = WdkmGrtRegister(Name, WdkmLockKindKMutex, &Initial, sizeof(Initial),
                                     WDKM_GRT_REPLACE);
        } else {
            Status = WdkmGrtUnregister(Name);
            if (Status == STATUS_SUCCESS) {
                Status = Register(Name);
            }
        }
        if (Status != STATUS_SUCCESS) {
            WriterFailures += 1;
        }
    }
    InterlockedExchange(&Inject.Stop, 1);
    for (Index = 0; Index < INJECT_WORKERS; Index += 1) {
        WdkmTestJoinThread(Threads[Index]);
    }
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    CHECK_EQ(WriterFailures, 0);
    CHECK_EQ(Inject.Failures, 0);
    CHECK(Inject.DpcRuns > 0);
    CHECK(Inject.DpcSuccesses > 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Base);
}


/* Two threads on eight processors, each looking up and dropping its own
   names (the two sets share cache words), while the main thread unregisters
   and registers the first set again: a word one thread drops a reference
   from may be taken over by the other's next lookup before the writer
   sweeps it.
   Under TSan this shows whether the writer's free is ordered after the
   dropper's last read of the lock. */
typedef struct _TAKEOVER {
    LONG volatile Stop;
    LONG volatile Failures;
} TAKEOVER;

static VOID
TakeoverWorker(PVOID Context, ULONG Index)
{
    TAKEOVER *Takeover = (TAKEOVER *)Context;
    CHAR Name[8];
    PVOID Lock;
    NTSTATUS Status;
    ULONG Round = 0;

    while (InterlockedCompareExchange(&Takeover->Stop, 0, 0) == 0) {
        /* Eight processors: a word left empty by one thread waits there
           for the other's next lookup on that processor. */
        WdkmHostSetCurrentProcessor((LONG)((Round * 3 + Index) % 8));
        Name[0] = Index == 0 ? 'e' : 'f';
        Name[1] = (CHAR)('0' + Round % 7);
        Name[2] = '\0';
        Round += 1;
        Status = Reference(Name, &Lock);
        if (Status == STATUS_SUCCESS) {
            if (WdkmGrtDereference(Lock) != STATUS_SUCCESS) {
                InterlockedIncrement(&Takeover->Failures);
            }
        } else if (Status != STATUS_OBJECT_NAME_NOT_FOUND) {
            InterlockedIncrement(&Takeover->Failures);
        }
    }
    WdkmHostSetCurrentProcessor(-1);
}

static VOID
TakeoverWorkerF(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Index);
    TakeoverWorker(Context, 1);
}

static VOID
CacheTakeoverRace(VOID)
{
    static TAKEOVER Takeover;
    CHAR Name[8];
    ULONG Index, Round, WriterFailures = 0;
    LONG Base;

    memset(&Takeover, 0, sizeof(Takeover));
    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < 7; Index += 1) {
        snprintf(Name, sizeof(Name), "e%u", Index);
        CHECK_STATUS(Register(Name), STATUS_SUCCESS);
        snprintf(Name, sizeof(Name), "f%u", Index);
        CHECK_STATUS(Register(Name), STATUS_SUCCESS);
    }
    {
        WDKM_TEST_THREAD *Threads[2];

        /* StartThread passes index 0: the second worker gets its own. */
        Threads[0] = WdkmTestStartThread(TakeoverWorker, &Takeover);
        Threads[1] = NULL;
        CHECK(Threads[0] != NULL);
        Threads[1] = WdkmTestStartThread(TakeoverWorkerF, &Takeover);
        for (Round = 0; Round < 4000; Round += 1) {
            snprintf(Name, sizeof(Name), "e%u", Round % 7);
            if (WdkmGrtUnregister(Name) != STATUS_SUCCESS || Register(Name) != STATUS_SUCCESS) {
                WriterFailures += 1;
            }
        }
        InterlockedExchange(&Takeover.Stop, 1);
        WdkmTestJoinThread(Threads[0]);
        if (Threads[1] != NULL) {
            WdkmTestJoinThread(Threads[1]);
        }
        CHECK(Threads[1] != NULL);
    }
    CHECK_EQ(WriterFailures, 0);
    CHECK_EQ(Takeover.Failures, 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(Blocks(), Base);
}

/* ---------------------------------------------------------------------- */
/* A seeded random walk against a model of the reference.                  */

#define MODEL_NAMES 24
#define MODEL_REFS 256
#define MODEL_ENTRIES 4096

typedef struct _MODEL_ENTRY {
    ULONG Refs;
    BOOLEAN Registered;
    BOOLEAN Freed;
} MODEL_ENTRY;

typedef struct _MODEL_REF {
    PVOID Lock;
    ULONG Entry;
} MODEL_REF;

static MODEL_ENTRY ModelEntries[MODEL_ENTRIES];
static MODEL_REF ModelRefs[MODEL_REFS];

static ULONG64 ModelRandom;
static BOOLEAN ModelOk;

static ULONG
Next(ULONG Bound)
{
    ModelRandom ^= ModelRandom << 13;
    ModelRandom ^= ModelRandom >> 7;
    ModelRandom ^= ModelRandom << 17;
    return (ULONG)((ModelRandom >> 11) % Bound);
}

static VOID
ModelWalk(ULONG64 Seed, ULONG Steps)
{
    LONG NameEntry[MODEL_NAMES];     /* the entry a name maps to, -1: none */
    ULONG RefCount = 0, EntryCount = 0;
    ULONG Step, Index, Entry, Still, Unreg;
    CHAR Name[16];
    PVOID Lock;
    NTSTATUS Status;
    KIRQL Old;
    LONG Base, Before;
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Zero;
    ULONG Initial = 5;

    Zero.QuadPart = 0;
    ModelOk = FALSE;
    ModelRandom = Seed;
    memset(ModelEntries, 0, sizeof(ModelEntries));
    for (Index = 0; Index < MODEL_NAMES; Index += 1) {
        NameEntry[Index] = -1;
    }
    Base = Blocks();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Step = 0; Step < Steps; Step += 1) {
        ULONG Op = Next(100);
        ULONG N = Next(MODEL_NAMES);

        snprintf(Name, sizeof(Name), "m%u", N);
        WdkmHostSetCurrentProcessor((LONG)Next(256));
        if (Op < 12) {                          /* register (or replace) */
            BOOLEAN Replace = Next(2) == 0;

            if (EntryCount >= MODEL_ENTRIES) {
                continue;
            }
            Before = Blocks();
            Status = WdkmGrtRegister(Name, WdkmLockKindKMutex, &Initial, sizeof(Initial),
                                     Replace ? WDKM_GRT_REPLACE : 0);
            if (NameEntry[N] >= 0 && !Replace) {
                CHECK_STATUS(Status, STATUS_OBJECT_NAME_COLLISION);
                CHECK_EQ(Blocks(), Before);
                continue;
            }
            CHECK_STATUS(Status, STATUS_SUCCESS);
            if (NameEntry[N] >= 0) {
                Entry = (ULONG)NameEntry[N];
                ModelEntries[Entry].Registered = FALSE;
                ModelEntries[Entry].Freed = ModelEntries[Entry].Refs == 0;
            }
            ModelEntries[EntryCount].Registered = TRUE;
            NameEntry[N] = (LONG)EntryCount;
            EntryCount += 1;
        } else if (Op < 22) {                   /* unregister */
            Before = Blocks();
            Status = WdkmGrtUnregister(Name);
            if (NameEntry[N] < 0) {
                CHECK_STATUS(Status, STATUS_OBJECT_NAME_NOT_FOUND);
                CHECK_EQ(Blocks(), Before);
                continue;
            }
            CHECK_STATUS(Status, STATUS_SUCCESS);
            Entry = (ULONG)NameEntry[N];
            NameEntry[N] = -1;
            ModelEntries[Entry].Registered = FALSE;
            if (ModelEntries[Entry].Refs == 0) {
                ModelEntries[Entry].Freed = TRUE;
                CHECK(Blocks() < Before);
            } else {
                CHECK(Blocks() <= Before);   /* a chunk may go, never the lock */
            }
        } else if (Op < 60) {                   /* reference, maybe at DISPATCH */
            BOOLEAN Raise = Next(3) == 0;
            BOOLEAN WrongKind = Next(10) == 0;

            if (RefCount >= MODEL_REFS) {
                continue;
            }
            if (Raise) {
                KeRaiseIrql(DISPATCH_LEVEL, &Old);
            }
            Lock = (PVOID)1;
            Status = WdkmGrtReference(Name, WrongKind ? WdkmLockKindFastMutex
                                                      : WdkmLockKindKMutex,
                                      sizeof(ULONG), &Lock);
            if (Raise) {
                KeLowerIrql(Old);
            }
            if (NameEntry[N] < 0) {
                CHECK_STATUS(Status, STATUS_OBJECT_NAME_NOT_FOUND);
                CHECK(Lock == NULL);
            } else if (WrongKind) {
                CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
                CHECK(Lock == NULL);
            } else {
                CHECK_STATUS(Status, STATUS_SUCCESS);
                ModelRefs[RefCount].Lock = Lock;
                ModelRefs[RefCount].Entry = (ULONG)NameEntry[N];
                ModelEntries[NameEntry[N]].Refs += 1;
                RefCount += 1;
            }
        } else if (Op < 95) {                   /* dereference, maybe at DISPATCH or held */
            ULONG Which;
            ULONG How = Next(8);
            ULONG *Data;

            if (RefCount == 0) {
                continue;
            }
            Which = Next(RefCount);
            Lock = ModelRefs[Which].Lock;
            Entry = ModelRefs[Which].Entry;
            CHECK(!ModelEntries[Entry].Freed);
            if (How == 0) {                     /* held: refused, kept */
                CHECK_STATUS(WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, sizeof(ULONG),
                                               (PVOID *)&Data), STATUS_SUCCESS);
                WdkmHostSetCurrentProcessor((LONG)Next(256));
                CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
                CHECK_STATUS(WdkmKMutexRelease((PWDKM_KMUTEX)Lock), STATUS_SUCCESS);
                continue;
            }
            if (How == 1) {                     /* too high: refused, kept */
                KeRaiseIrql(DISPATCH_LEVEL + 1, &Old);
                Status = WdkmGrtDereference(Lock);
                KeLowerIrql(Old);
                CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
                continue;
            }
            CHECK(Works(Lock));
            WdkmHostSetCurrentProcessor((LONG)Next(256));
            Before = Blocks();
            if (How == 2) {
                KeRaiseIrql(DISPATCH_LEVEL, &Old);
                Status = WdkmGrtDereference(Lock);
                KeLowerIrql(Old);
            } else {
                Status = WdkmGrtDereference(Lock);
            }
            CHECK_STATUS(Status, STATUS_SUCCESS);
            ModelEntries[Entry].Refs -= 1;
            ModelRefs[Which] = ModelRefs[RefCount - 1];
            RefCount -= 1;
            if (ModelEntries[Entry].Refs == 0 && !ModelEntries[Entry].Registered) {
                ModelEntries[Entry].Freed = TRUE;
                CHECK(Blocks() < Before);
            } else {
                CHECK_EQ(Blocks(), Before);
            }
        } else {                                /* a DPC's own reference inside a held one */
            if (RefCount == 0) {
                continue;
            }
            Index = Next(RefCount);
            for (N = 0; N < MODEL_NAMES; N += 1) {
                if (NameEntry[N] == (LONG)ModelRefs[Index].Entry) {
                    break;
                }
            }
            if (N == MODEL_NAMES) {
                continue;
            }
            snprintf(Name, sizeof(Name), "m%u", N);
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
            Status = Reference(Name, &Lock);
            if (Status == STATUS_SUCCESS) {
                WdkmHostSetCurrentProcessor((LONG)Next(256));
                Status = WdkmGrtDereference(Lock);
            }
            KeLowerIrql(Old);
            CHECK_STATUS(Status, STATUS_SUCCESS);
            CHECK(Lock == ModelRefs[Index].Lock);
        }
    }
    WdkmHostSetCurrentProcessor(-1);

    Still = 0;
    Unreg = 0;
    for (Entry = 0; Entry < EntryCount; Entry += 1) {
        if (ModelEntries[Entry].Registered) {
            Still += ModelEntries[Entry].Refs != 0 ? 1 : 0;
        } else if (!ModelEntries[Entry].Freed) {
            Unreg += 1;
        }
    }
    memset(&Report, 0, sizeof(Report));
    Status = WdkmGrtDestroy(&Zero, &Report);
    CHECK_STATUS(Status, (Still + Unreg) != 0 ? STATUS_TIMEOUT : STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, Still);
    CHECK_EQ(Report.UnregisteredReferenced, Unreg);
    for (Index = 0; Index < RefCount; Index += 1) {
        CHECK(Works(ModelRefs[Index].Lock));
        WdkmHostSetCurrentProcessor((LONG)Next(256));
        CHECK_STATUS(WdkmGrtDereference(ModelRefs[Index].Lock), STATUS_SUCCESS);
    }
    WdkmHostSetCurrentProcessor(-1);
    if (Still + Unreg != 0) {
        CHECK_STATUS(WdkmGrtDestroy(&Zero, &Report), STATUS_SUCCESS);
    }
    CHECK_EQ(Blocks(), Base);
    ModelOk = TRUE;
}

static VOID
RandomModel(VOID)
{
    ULONG64 Seed;

    for (Seed = 1; Seed <= 12; Seed += 1) {
        ModelWalk(Seed * 0x2545F4914F6CDD1DULL, 4000);
        if (!ModelOk) {
            fprintf(stderr, "attack21 random_model: seed %llu failed\n",
                    (unsigned long long)(Seed * 0x2545F4914F6CDD1DULL));
            return;
        }
    }
}

static const WDKM_TEST_CASE Attack21Cases[] = {
    { "moved_processors_free_at_last_drop", MovedProcessorsFreeAtLastDrop },
    { "long_held_reference_shared_word", LongHeldReferenceSharedWord },
    { "dpc_on_interrupted_thread", DpcOnInterruptedThread },
    { "dereference_misuse_changes_nothing", DereferenceMisuseChangesNothing },
    { "initialize_allocation_failures", InitializeAllocationFailures },
    { "wrong_type_lookups_take_nothing", WrongTypeLookupsTakeNothing },
    { "lookup_argument_errors_take_nothing", LookupArgumentErrorsTakeNothing },
    { "lookup_arguments_before_irql_and_state", LookupArgumentsBeforeIrqlAndState },
    { "writer_arguments_before_irql_and_state", WriterArgumentsBeforeIrqlAndState },
    { "name_lengths", NameLengths },
    { "many_names_held_across_unregister", ManyNamesHeldAcrossUnregister },
    { "many_cycles", ManyCycles },
    { "allocation_failures", AllocationFailures },
    { "destroy_with_cached_references", DestroyWithCachedReferences },
    { "destroy_report_beyond_sixteen", DestroyReportBeyondSixteen },
    { "resource_dropped_at_dispatch", ResourceDroppedAtDispatch },
    { "deferred_resources_and_writer_irql", DeferredResourcesAndWriterIrql },
    { "writers_race_lookups", WritersRaceLookups },
    { "scopes_across_processors", ScopesAcrossProcessors },
    { "held_at_its_own_irql", HeldAtItsOwnIrql },
    { "injected_dpcs_race_writers", InjectedDpcsRaceWriters },
    { "cache_takeover_race", CacheTakeoverRace },
    { "random_model", RandomModel },
    { "double_dereference_takes_one_reference", DoubleDereferenceTakesOneReference },
};

const WDKM_TEST_SUITE WdkmAttack21Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack21", Attack21Cases, Cleanup);
