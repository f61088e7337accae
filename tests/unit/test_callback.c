/*
 * test_callback.c - the callback forms (..._OR_BUGCHECK): correct use
 * hands out the data with the lock held; each misuse the plain acquire
 * would refuse stops the system with WDKM_BUGCHECK_LOCK_MISUSE, whose
 * parameters name the status, the lock, the calling code and the kind and
 * IRQL, and changes nothing before it; the checked build reports the whole
 * story first. Beside it, what the raw kernel call does with the same
 * misuse.
 */
#include <string.h>

#include "wdkm_test.h"

typedef struct _STATE {
    LONG Value;
} STATE;

static const STATE Initial = { 7 };

/* The caller's return address lies in this function (a few hundred bytes
   of code; the bound is generous for sanitizer builds). */
#define CALLER_SLACK 4096

static BOOLEAN
CalledFrom(ULONG_PTR ReturnAddress, ULONG_PTR Start)
{
    return ReturnAddress > Start && ReturnAddress < Start + CALLER_SLACK;
}

/* The parameters every misuse stop carries. */
static BOOLEAN
IsMisuseStop(const WDKM_HOST_BUGCHECK *Bugcheck, NTSTATUS Status, const VOID *Lock,
             ULONG_PTR Caller, WDKM_LOCK_KIND Kind, KIRQL Irql)
{
    return Bugcheck->Code == WDKM_BUGCHECK_LOCK_MISUSE &&
           Bugcheck->Parameter[0] == (ULONG_PTR)(ULONG)Status &&
           Bugcheck->Parameter[1] == (ULONG_PTR)Lock &&
           CalledFrom(Bugcheck->Parameter[2], Caller) &&
           Bugcheck->Parameter[3] == (((ULONG_PTR)Kind << 8) | Irql);
}

/* Helpers that make one callback-form call each, so the stop's caller
   parameter can be checked against them. */
typedef VOID ACQUIRE_CALL(PVOID Lock);

static __attribute__((noinline)) VOID
SpinAcquire(PVOID Lock)
{
    KIRQL OldIrql;
    STATE *Data;

    WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK((PWDKM_SPIN_LOCK)Lock, &OldIrql, &Data);
}

static __attribute__((noinline)) VOID
SpinAcquireAtDpcLevel(PVOID Lock)
{
    STATE *Data;

    WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK((PWDKM_SPIN_LOCK)Lock, &Data);
}

static __attribute__((noinline)) VOID
SpinAcquireWrongType(PVOID Lock)
{
    KIRQL OldIrql;
    LONG64 *Data;

    WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK((PWDKM_SPIN_LOCK)Lock, &OldIrql, &Data);
}

static __attribute__((noinline)) VOID
QueuedAcquireAtDpcLevel(PVOID Lock)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    STATE *Data;

    WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK((PWDKM_QUEUED_SPIN_LOCK)Lock, &Handle,
                                                           &Data);
}

static __attribute__((noinline)) VOID
KMutexAcquire(PVOID Lock)
{
    STATE *Data;

    WDKM_KMUTEX_ACQUIRE_OR_BUGCHECK((PWDKM_KMUTEX)Lock, &Data);
}

static __attribute__((noinline)) VOID
FastMutexAcquire(PVOID Lock)
{
    STATE *Data;

    WDKM_FAST_MUTEX_ACQUIRE_OR_BUGCHECK((PWDKM_FAST_MUTEX)Lock, &Data);
}

static __attribute__((noinline)) VOID
ResourceAcquireShared(PVOID Lock)
{
    const STATE *Data;

    WDKM_RESOURCE_ACQUIRE_SHARED_OR_BUGCHECK((PWDKM_RESOURCE)Lock, &Data);
}

/* Registry lookups by callback form; the name is what P2 carries. */
static const CHAR GrtName[] = "callback.grt";
static const CHAR GrtMissing[] = "callback.missing";

static __attribute__((noinline)) VOID
GrtGetSpin(PVOID Name)
{
    PWDKM_SPIN_LOCK Lock = WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK((PCSTR)Name, STATE);

    (VOID)WdkmGrtDereference(Lock);     /* reached only if it did not stop */
}

static __attribute__((noinline)) VOID
GrtGetSpinWrongType(PVOID Name)
{
    PWDKM_SPIN_LOCK Lock = WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK((PCSTR)Name, LONG64);

    (VOID)WdkmGrtDereference(Lock);
}

static __attribute__((noinline)) VOID
GrtGetKMutex(PVOID Name)
{
    PWDKM_KMUTEX Lock = WDKM_GRT_GET_KMUTEX_OR_BUGCHECK((PCSTR)Name, STATE);

    (VOID)WdkmGrtDereference(Lock);
}

/*
 * Runs Call(Lock) at Irql under a bug-check trap; TRUE if it stopped the
 * system with the misuse code and Status, Lock, Call itself as the caller,
 * Kind and Irql. The IRQL is put back whatever happened.
 */
static BOOLEAN
StopsWith(ACQUIRE_CALL *Call, PVOID Lock, KIRQL Irql, NTSTATUS Status, WDKM_LOCK_KIND Kind)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KIRQL volatile OldIrql = KeGetCurrentIrql();
    BOOLEAN volatile Stopped = FALSE;
    KIRQL Raised;

    if (Irql > OldIrql) {
        KeRaiseIrql(Irql, &Raised);
    }
    if (WDKM_HOST_TRY(&Trap)) {
        Call(Lock);
        WdkmHostDisarm(&Trap);
    } else {
        Stopped = IsMisuseStop(&Trap.Bugcheck, Status, Lock, (ULONG_PTR)Call, Kind, Irql);
        if (!Stopped) {
            WdkmTestFail(__FILE__, __LINE__, "stop 0x%08X (0x%llX, 0x%llX, 0x%llX, 0x%llX)",
                         (unsigned)Trap.Bugcheck.Code,
                         (unsigned long long)Trap.Bugcheck.Parameter[0],
                         (unsigned long long)Trap.Bugcheck.Parameter[1],
                         (unsigned long long)Trap.Bugcheck.Parameter[2],
                         (unsigned long long)Trap.Bugcheck.Parameter[3]);
        }
    }
    if (KeGetCurrentIrql() != OldIrql) {
        KeLowerIrql(OldIrql);
    }
    return Stopped;
}

/* Correct use: the data, the lock held, for every kind and form. */
static VOID
CorrectUseReturnsTheData(VOID)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    PWDKM_SPIN_LOCK Spin;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_KMUTEX KMutex;
    PWDKM_FAST_MUTEX FastMutex;
    PWDKM_GUARDED_MUTEX Guarded;
    PWDKM_RESOURCE Resource;
    PWDKM_PUSH_LOCK PushLock;
    STATE *Data = NULL;
    const STATE *Read = NULL;
    PVOID Returned;
    KIRQL OldIrql;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Initial, &Spin), STATUS_SUCCESS);
    Returned = WDKM_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Spin, &OldIrql, &Data);
    CHECK(Data != NULL && Returned == Data && Data->Value == 7);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_EQ(OldIrql, PASSIVE_LEVEL);
    CHECK(WdkmSpinLockIsOwned(Spin));
    Data->Value += 1;
    CHECK_STATUS(WdkmSpinLockRelease(Spin, OldIrql), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Data = NULL;
    WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(Spin, &Data);
    CHECK(Data != NULL && Data->Value == 8);
    CHECK_STATUS(WdkmSpinLockReleaseFromDpcLevel(Spin), STATUS_SUCCESS);
    KeLowerIrql(OldIrql);

    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Initial, &Queued), STATUS_SUCCESS);
    Data = NULL;
    WDKM_QUEUED_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Queued, &Handle, &Data);
    CHECK(Data != NULL && Data->Value == 7);
    CHECK(WdkmQueuedSpinLockIsOwned(Queued));
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Data = NULL;
    WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(Queued, &Handle, &Data);
    CHECK(Data != NULL);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    KeLowerIrql(OldIrql);

    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &KMutex), STATUS_SUCCESS);
    Data = NULL;
    WDKM_KMUTEX_ACQUIRE_OR_BUGCHECK(KMutex, &Data);
    CHECK(Data != NULL && WdkmKMutexIsOwned(KMutex));
    CHECK_STATUS(WdkmKMutexRelease(KMutex), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex), STATUS_SUCCESS);
    Data = NULL;
    WDKM_FAST_MUTEX_ACQUIRE_OR_BUGCHECK(FastMutex, &Data);
    CHECK(Data != NULL && WdkmFastMutexIsOwned(FastMutex));
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK_STATUS(WdkmFastMutexRelease(FastMutex), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GUARDED_MUTEX_CREATE(&Initial, &Guarded), STATUS_SUCCESS);
    Data = NULL;
    WDKM_GUARDED_MUTEX_ACQUIRE_OR_BUGCHECK(Guarded, &Data);
    CHECK(Data != NULL && WdkmGuardedMutexIsOwned(Guarded));
    CHECK_STATUS(WdkmGuardedMutexRelease(Guarded), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_RESOURCE_CREATE(&Initial, &Resource), STATUS_SUCCESS);
    Data = NULL;
    WDKM_RESOURCE_ACQUIRE_EXCLUSIVE_OR_BUGCHECK(Resource, &Data);
    CHECK(Data != NULL && WdkmResourceIsOwnedExclusive(Resource));
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);
    WDKM_RESOURCE_ACQUIRE_SHARED_OR_BUGCHECK(Resource, &Read);
    CHECK(Read != NULL && Read->Value == 7);
    CHECK_STATUS(WdkmResourceRelease(Resource), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_PUSH_LOCK_CREATE(&Initial, &PushLock), STATUS_SUCCESS);
    Data = NULL;
    WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE_OR_BUGCHECK(PushLock, &Data);
    CHECK(Data != NULL && WdkmPushLockIsOwnedExclusive(PushLock));
    CHECK_STATUS(WdkmPushLockRelease(PushLock), STATUS_SUCCESS);
    Read = NULL;
    WDKM_PUSH_LOCK_ACQUIRE_SHARED_OR_BUGCHECK(PushLock, &Read);
    CHECK(Read != NULL && Read->Value == 7);
    CHECK_STATUS(WdkmPushLockRelease(PushLock), STATUS_SUCCESS);

    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Queued), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(KMutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGuardedMutexDestroy(Guarded), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceDestroy(Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockDestroy(PushLock), STATUS_SUCCESS);
}

/* Each misuse: the code and parameters, and nothing changed before it. */
WDKM_NO_THREAD_SAFETY_ANALYSIS   /* misuse on purpose */
static VOID
EachMisuseStopsWithItsParameters(VOID)
{
    PWDKM_SPIN_LOCK Spin;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_KMUTEX KMutex;
    PWDKM_FAST_MUTEX FastMutex;
    PWDKM_RESOURCE Resource;
    STATE *Data;
    KIRQL OldIrql;

    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Initial, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_QUEUED_SPIN_LOCK_CREATE(&Initial, &Queued), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &KMutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_FAST_MUTEX_CREATE(&Initial, &FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_RESOURCE_CREATE(&Initial, &Resource), STATUS_SUCCESS);

    /* The owner again: the kernel would spin forever. */
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spin, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK(StopsWith(SpinAcquire, Spin, DISPATCH_LEVEL, STATUS_POSSIBLE_DEADLOCK,
                    WdkmLockKindSpinLock));
    CHECK(WdkmSpinLockIsOwned(Spin));                       /* still the one hold */
    CHECK_STATUS(WdkmSpinLockRelease(Spin, OldIrql), STATUS_SUCCESS);
    CHECK(!WdkmSpinLockIsOwned(Spin));

    /* Above what the kind allows. */
    CHECK(StopsWith(SpinAcquire, Spin, HIGH_LEVEL, STATUS_WDKM_IRQL_TOO_HIGH,
                    WdkmLockKindSpinLock));
    CHECK(StopsWith(KMutexAcquire, KMutex, DISPATCH_LEVEL, STATUS_WDKM_IRQL_TOO_HIGH,
                    WdkmLockKindKMutex));
    CHECK(StopsWith(FastMutexAcquire, FastMutex, DISPATCH_LEVEL, STATUS_WDKM_IRQL_TOO_HIGH,
                    WdkmLockKindFastMutex));
    CHECK(StopsWith(ResourceAcquireShared, Resource, DISPATCH_LEVEL, STATUS_WDKM_IRQL_TOO_HIGH,
                    WdkmLockKindResource));

    /* A DPC form below DISPATCH_LEVEL. */
    CHECK(StopsWith(SpinAcquireAtDpcLevel, Spin, PASSIVE_LEVEL, STATUS_WDKM_IRQL_MISMATCH,
                    WdkmLockKindSpinLock));
    CHECK(StopsWith(QueuedAcquireAtDpcLevel, Queued, PASSIVE_LEVEL, STATUS_WDKM_IRQL_MISMATCH,
                    WdkmLockKindQueuedSpinLock));

    /* Another kind's handle, another type, no lock at all. */
    CHECK(StopsWith(KMutexAcquire, Spin, PASSIVE_LEVEL, STATUS_WDKM_TYPE_MISMATCH,
                    WdkmLockKindKMutex));
    CHECK(StopsWith(SpinAcquireWrongType, Spin, PASSIVE_LEVEL, STATUS_WDKM_TYPE_MISMATCH,
                    WdkmLockKindSpinLock));
    CHECK(StopsWith(SpinAcquire, NULL, PASSIVE_LEVEL, STATUS_INVALID_PARAMETER,
                    WdkmLockKindSpinLock));

    /* Nothing was held or changed by any of them. */
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockDestroy(Queued), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(KMutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy(FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceDestroy(Resource), STATUS_SUCCESS);
}

/*
 * The registry's callback forms: the lock, referenced, for every kind; a
 * lookup WdkmGrtReference would refuse stops with that status and the
 * name's address, and takes no reference (the registry is destroyed
 * after them without waiting for any).
 */
WDKM_NO_THREAD_SAFETY_ANALYSIS   /* misuse on purpose */
static VOID
RegistryLookupsStopByName(VOID)
{
    static const CHAR *const Names[] = { "cb.kmutex", "cb.fast", "cb.spin", "cb.queued",
                                         "cb.guarded", "cb.resource", "cb.push" };
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;
    PWDKM_KMUTEX KMutex;
    PWDKM_FAST_MUTEX FastMutex;
    PWDKM_SPIN_LOCK Spin;
    PWDKM_QUEUED_SPIN_LOCK Queued;
    PWDKM_GUARDED_MUTEX Guarded;
    PWDKM_RESOURCE Resource;
    PWDKM_PUSH_LOCK PushLock;
    STATE *Data;
    KIRQL OldIrql;
    ULONG Index;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Names[0], &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX(Names[1], &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK(Names[2], &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_QUEUED_SPIN_LOCK(Names[3], &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_GUARDED_MUTEX(Names[4], &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_RESOURCE(Names[5], &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_PUSH_LOCK(Names[6], &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK(GrtName, &Initial), STATUS_SUCCESS);

    /* Correct use: each kind's lock, working, referenced. */
    KMutex = WDKM_GRT_GET_KMUTEX_OR_BUGCHECK(Names[0], STATE);
    FastMutex = WDKM_GRT_GET_FAST_MUTEX_OR_BUGCHECK(Names[1], STATE);
    Spin = WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK(Names[2], STATE);
    Queued = WDKM_GRT_GET_QUEUED_SPIN_LOCK_OR_BUGCHECK(Names[3], STATE);
    Guarded = WDKM_GRT_GET_GUARDED_MUTEX_OR_BUGCHECK(Names[4], STATE);
    Resource = WDKM_GRT_GET_RESOURCE_OR_BUGCHECK(Names[5], STATE);
    PushLock = WDKM_GRT_GET_PUSH_LOCK_OR_BUGCHECK(Names[6], STATE);
    CHECK(KMutex != NULL && FastMutex != NULL && Spin != NULL && Queued != NULL &&
          Guarded != NULL && Resource != NULL && PushLock != NULL);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spin, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_EQ(Data->Value, 7);
    CHECK_STATUS(WdkmSpinLockRelease(Spin, OldIrql), STATUS_SUCCESS);
    /* Referenced: unregistered, the lock stays until the reference goes. */
    CHECK_STATUS(WdkmGrtUnregister(Names[2]), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spin, &OldIrql, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockRelease(Spin, OldIrql), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(KMutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(FastMutex), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Queued), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Guarded), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Resource), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(PushLock), STATUS_SUCCESS);
    /* From a DPC (DISPATCH_LEVEL), as a cancel routine would. */
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Spin = WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK(GrtName, STATE);
    CHECK(Spin != NULL);
    CHECK_STATUS(WdkmGrtDereference(Spin), STATUS_SUCCESS);
    KeLowerIrql(OldIrql);

    /* Each refusal of the plain form stops, naming the name. */
    CHECK(StopsWith(GrtGetSpin, (PVOID)GrtMissing, PASSIVE_LEVEL, STATUS_OBJECT_NAME_NOT_FOUND,
                    WdkmLockKindSpinLock));
    CHECK(StopsWith(GrtGetSpin, (PVOID)Names[2], DISPATCH_LEVEL, STATUS_OBJECT_NAME_NOT_FOUND,
                    WdkmLockKindSpinLock));                 /* unregistered above */
    CHECK(StopsWith(GrtGetSpinWrongType, (PVOID)GrtName, PASSIVE_LEVEL,
                    STATUS_WDKM_TYPE_MISMATCH, WdkmLockKindSpinLock));
    CHECK(StopsWith(GrtGetKMutex, (PVOID)GrtName, PASSIVE_LEVEL, STATUS_WDKM_TYPE_MISMATCH,
                    WdkmLockKindKMutex));
    CHECK(StopsWith(GrtGetSpin, (PVOID)GrtName, HIGH_LEVEL, STATUS_WDKM_IRQL_TOO_HIGH,
                    WdkmLockKindSpinLock));
    CHECK(StopsWith(GrtGetSpin, NULL, PASSIVE_LEVEL, STATUS_INVALID_PARAMETER,
                    WdkmLockKindSpinLock));
    CHECK(StopsWith(GrtGetSpin, (PVOID)"", PASSIVE_LEVEL, STATUS_OBJECT_NAME_INVALID,
                    WdkmLockKindSpinLock));
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* No stop took a reference: nothing is still referenced at the end. */
    for (Index = 0; Index < RTL_NUMBER_OF(Names); Index += 1) {
        if (Index != 2) {
            CHECK_STATUS(WdkmGrtUnregister(Names[Index]), STATUS_SUCCESS);
        }
    }
    Timeout.QuadPart = -10 * 1000 * 1000;   /* 1 s: a leaked reference would wait it out */
    RtlZeroMemory(&Report, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, 0);

    /* Not initialised. */
    CHECK(StopsWith(GrtGetSpin, (PVOID)GrtName, PASSIVE_LEVEL, STATUS_WDKM_NOT_INITIALIZED,
                    WdkmLockKindSpinLock));
}

/*
 * The comparison: the raw kernel call with the same misuse. The owner
 * acquiring its spin lock again stops as SPIN_LOCK_ALREADY_OWNED on a
 * kernel that checks (Driver Verifier, the emulation), naming the
 * KSPIN_LOCK but not the calling code; a kernel that does not check spins
 * forever. The callback form names the misuse, the lock and the caller.
 */
static VOID
RawKernelCallStopsWithoutNamingTheMisuse(VOID)
{
    WDKM_HOST_BUGCHECK_TRAP Trap;
    KSPIN_LOCK SpinLock;
    KIRQL OldIrql;
    KIRQL Again;

    KeInitializeSpinLock(&SpinLock);
    KeAcquireSpinLock(&SpinLock, &OldIrql);
    if (WDKM_HOST_TRY(&Trap)) {
        KeAcquireSpinLock(&SpinLock, &Again);
        WdkmHostDisarm(&Trap);
        CHECK(FALSE);
    }
    CHECK_EQ(Trap.Bugcheck.Code, SPIN_LOCK_ALREADY_OWNED);
    CHECK(Trap.Bugcheck.Parameter[0] == (ULONG_PTR)&SpinLock);
    KeReleaseSpinLock(&SpinLock, OldIrql);
}

#if WDKM_CHECKED
static CHAR Story[2048];
static ULONG StoryLength;

static VOID
StorySink(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    SIZE_T Length = strlen(Message);

    UNREFERENCED_PARAMETER(ComponentId);
    UNREFERENCED_PARAMETER(Level);
    UNREFERENCED_PARAMETER(Context);
    if (StoryLength + Length < sizeof(Story)) {
        memcpy(Story + StoryLength, Message, Length);
        StoryLength += (ULONG)Length;
        Story[StoryLength] = '\0';
    }
}

/* The checked build tells the whole story before the stop. */
WDKM_NO_THREAD_SAFETY_ANALYSIS   /* misuse on purpose */
static VOID
CheckedBuildReportsTheStoryFirst(VOID)
{
    WDKM_DIAG_VIOLATION Violations[16];
    PWDKM_SPIN_LOCK Spin;
    STATE *Data;
    KIRQL OldIrql;
    ULONG Count;

    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_CREATE(&Initial, &Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(Spin, "callback.queue"), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_SPIN_LOCK_ACQUIRE(Spin, &OldIrql, &Data), STATUS_SUCCESS);
    StoryLength = 0;
    Story[0] = '\0';
    WdkmHostSetDebugPrintSink(StorySink, NULL);
    CHECK(StopsWith(SpinAcquire, Spin, DISPATCH_LEVEL, STATUS_POSSIBLE_DEADLOCK,
                    WdkmLockKindSpinLock));
    WdkmHostSetDebugPrintSink(NULL, NULL);
    CHECK_STATUS(WdkmSpinLockRelease(Spin, OldIrql), STATUS_SUCCESS);

    CHECK(strstr(Story, "CALLBACK FORM REFUSED: STATUS_POSSIBLE_DEADLOCK") != NULL);
    CHECK(strstr(Story, "\"callback.queue\"") != NULL);
    CHECK(strstr(Story, "test_callback.c:") != NULL);          /* the site */
    CHECK(strstr(Story, "(this thread)") != NULL);             /* who holds it */
    CHECK(strstr(Story, "this thread holds \"callback.queue\"") != NULL);
    CHECK(strstr(Story, "bug check 0x20D40001") != NULL);
    CHECK_STATUS(WdkmDiagQueryViolations(Violations, 16, &Count), STATUS_SUCCESS);
    CHECK(Count >= 1);
    CHECK_EQ(Violations[Count - 1].Type, WdkmDiagCallbackMisuse);
    CHECK(strcmp(Violations[Count - 1].Acquiring, "callback.queue") == 0);
    CHECK(Violations[Count - 1].AcquireFile != NULL &&
          strstr(Violations[Count - 1].AcquireFile, "test_callback.c") != NULL);
    CHECK_STATUS(WdkmSpinLockDestroy(Spin), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}

/* A registry lookup's stop: the name, what the lookup met, the site. */
static VOID
CheckedBuildNamesTheLookup(VOID)
{
    WDKM_DIAG_VIOLATION Violations[16];
    ULONG Count;

    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    StoryLength = 0;
    Story[0] = '\0';
    WdkmHostSetDebugPrintSink(StorySink, NULL);
    CHECK(StopsWith(GrtGetSpin, (PVOID)GrtMissing, PASSIVE_LEVEL, STATUS_OBJECT_NAME_NOT_FOUND,
                    WdkmLockKindSpinLock));
    WdkmHostSetDebugPrintSink(NULL, NULL);
    CHECK(strstr(Story, "CALLBACK FORM REFUSED: STATUS_OBJECT_NAME_NOT_FOUND looking up "
                        "\"callback.missing\"") != NULL);
    CHECK(strstr(Story, "test_callback.c:") != NULL);          /* the site */
    CHECK(strstr(Story, "(status, name, caller") != NULL);
    CHECK_STATUS(WdkmDiagQueryViolations(Violations, 16, &Count), STATUS_SUCCESS);
    CHECK(Count >= 1);
    CHECK_EQ(Violations[Count - 1].Type, WdkmDiagCallbackMisuse);
    CHECK(strcmp(Violations[Count - 1].Acquiring, "callback.missing") == 0);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
}
#endif

/* A stop no test traps prints "*** STOP: 0x20D40001 (...) <name>": the
   emulation names the library's own code, not UNKNOWN_BUGCHECK. */
static VOID
EmulationNamesTheStop(VOID)
{
    CHECK(strcmp(WdkmHostBugcheckName(WDKM_BUGCHECK_LOCK_MISUSE), "WDKM_BUGCHECK_LOCK_MISUSE") == 0);
}

static const WDKM_TEST_CASE Cases[] = {
    { "correct use returns the data", CorrectUseReturnsTheData },
    { "the emulation names the stop", EmulationNamesTheStop },
    { "each misuse stops with its parameters", EachMisuseStopsWithItsParameters },
    { "raw kernel call stops without naming the misuse", RawKernelCallStopsWithoutNamingTheMisuse },
    { "registry lookups stop by name", RegistryLookupsStopByName },
#if WDKM_CHECKED
    { "checked build reports the story first", CheckedBuildReportsTheStoryFirst },
    { "checked build names the lookup", CheckedBuildNamesTheLookup },
#endif
};

const WDKM_TEST_SUITE WdkmCallbackSuite = WDKM_TEST_SUITE_OF("callback", Cases);
