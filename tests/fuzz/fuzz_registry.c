/*
 * fuzz_registry.c - libFuzzer target: random sequences of registry and
 * lock operations, each checked against a small reference model kept
 * here; any difference aborts (and libFuzzer saves the input).
 *
 * One input = one registry lifetime: WdkmGrtInitialize, the operations
 * (4 bytes each: operation, name, kind/size, reference slot), then every
 * lock released and reference dropped, WdkmGrtDestroy, and no library
 * pool block or bug check left.
 *
 * Model: 8 names, each bound to a lock record (kind, data size, counter);
 * up to 16 references, each to a record; at most one lock held at a time
 * (holding a spin lock raises to DISPATCH_LEVEL, which the model follows
 * for Register/Unregister). The first 8 bytes of every lock's data are a
 * counter the model predicts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wdkmutex/wdkmutex.h>
#include <wdkm_host.h>

#define NAMES 8
#define RECORDS 64
#define REFS 16

typedef struct _RECORD {
    WDKM_LOCK_KIND Kind;
    SIZE_T Size;
    LONGLONG Counter;
    PVOID Lock;             /* known once referenced; NULL before */
    BOOLEAN Used;
} RECORD;

typedef struct _REF {
    int Record;             /* -1: free */
    PVOID Lock;
} REF;

static RECORD Records[RECORDS];
static int RecordCount;
static int Names[NAMES];    /* record, or -1 */
static REF Refs[REFS];
static int HeldRef;         /* the reference through which a lock is held, or -1 */
static KIRQL HeldOldIrql;
static WDKM_LOCK_QUEUE_HANDLE HeldHandle;

static const char *const NameText[NAMES] = { "a", "b", "c", "d", "name-e", "f/f", "g g", "H" };

static void
Fail(const char *What, NTSTATUS Got, NTSTATUS Expected)
{
    fprintf(stderr, "model mismatch: %s returned %s (0x%08X), model says %s (0x%08X)\n", What,
            WdkmStatusName(Got), (unsigned)Got, WdkmStatusName(Expected), (unsigned)Expected);
    abort();
}

#define EXPECT(What, Got, Expected)                                        \
    do {                                                                   \
        NTSTATUS Got_ = (Got);                                             \
        if (Got_ != (Expected)) {                                          \
            Fail(What, Got_, (Expected));                                  \
        }                                                                  \
    } while (0)

static const WDKM_LOCK_KIND KindOf[7] = {
    WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock,
    WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource,
    WdkmLockKindPushLock,
};

static BOOLEAN
HeldRaisesToDispatch(void)
{
    if (HeldRef < 0) {
        return FALSE;
    }
    switch (Records[Refs[HeldRef].Record].Kind) {
    case WdkmLockKindSpinLock:
    case WdkmLockKindQueuedSpinLock:
        return TRUE;
    default:
        return FALSE;
    }
}

static NTSTATUS
Acquire(WDKM_LOCK_KIND Kind, PVOID Lock, SIZE_T Size, PVOID *Data)
{
    switch (Kind) {
    case WdkmLockKindKMutex: return WdkmKMutexAcquire(Lock, Size, Data);
    case WdkmLockKindFastMutex: return WdkmFastMutexAcquire(Lock, Size, Data);
    case WdkmLockKindSpinLock: return WdkmSpinLockAcquire(Lock, Size, &HeldOldIrql, Data);
    case WdkmLockKindQueuedSpinLock: return WdkmQueuedSpinLockAcquire(Lock, Size, &HeldHandle, Data);
    case WdkmLockKindGuardedMutex: return WdkmGuardedMutexAcquire(Lock, Size, Data);
    case WdkmLockKindResource: return WdkmResourceAcquireExclusive(Lock, Size, Data);
    case WdkmLockKindPushLock: return WdkmPushLockAcquireExclusive(Lock, Size, Data);
    }
    return STATUS_INVALID_PARAMETER;
}

static NTSTATUS
Release(WDKM_LOCK_KIND Kind, PVOID Lock)
{
    switch (Kind) {
    case WdkmLockKindKMutex: return WdkmKMutexRelease(Lock);
    case WdkmLockKindFastMutex: return WdkmFastMutexRelease(Lock);
    case WdkmLockKindSpinLock: return WdkmSpinLockRelease(Lock, HeldOldIrql);
    case WdkmLockKindQueuedSpinLock: return WdkmQueuedSpinLockRelease(&HeldHandle);
    case WdkmLockKindGuardedMutex: return WdkmGuardedMutexRelease(Lock);
    case WdkmLockKindResource: return WdkmResourceRelease(Lock);
    case WdkmLockKindPushLock: return WdkmPushLockRelease(Lock);
    }
    return STATUS_INVALID_PARAMETER;
}

static NTSTATUS
Destroy(WDKM_LOCK_KIND Kind, PVOID Lock)
{
    switch (Kind) {
    case WdkmLockKindKMutex: return WdkmKMutexDestroy(Lock);
    case WdkmLockKindFastMutex: return WdkmFastMutexDestroy(Lock);
    case WdkmLockKindSpinLock: return WdkmSpinLockDestroy(Lock);
    case WdkmLockKindQueuedSpinLock: return WdkmQueuedSpinLockDestroy(Lock);
    case WdkmLockKindGuardedMutex: return WdkmGuardedMutexDestroy(Lock);
    case WdkmLockKindResource: return WdkmResourceDestroy(Lock);
    case WdkmLockKindPushLock: return WdkmPushLockDestroy(Lock);
    }
    return STATUS_INVALID_PARAMETER;
}

static void
OpRegister(int Name, WDKM_LOCK_KIND Kind, SIZE_T Size, BOOLEAN Replace)
{
    LONGLONG Initial[2] = { 0, 0 };
    NTSTATUS Expected;
    NTSTATUS Status;

    if (RecordCount >= RECORDS) {
        return;
    }
    if (HeldRaisesToDispatch()) {
        Expected = STATUS_WDKM_IRQL_TOO_HIGH;
    } else if (Names[Name] >= 0 && !Replace) {
        Expected = STATUS_OBJECT_NAME_COLLISION;
    } else {
        Expected = STATUS_SUCCESS;
    }
    Status = WdkmGrtRegister(NameText[Name], Kind, Initial, Size, Replace ? WDKM_GRT_REPLACE : 0);
    EXPECT("WdkmGrtRegister", Status, Expected);
    if (Status == STATUS_SUCCESS) {
        RECORD *Record = &Records[RecordCount];

        memset(Record, 0, sizeof(*Record));
        Record->Kind = Kind;
        Record->Size = Size;
        Record->Used = TRUE;
        Names[Name] = RecordCount;
        RecordCount += 1;
    }
}

static void
OpReference(int Name, WDKM_LOCK_KIND Kind, SIZE_T Size)
{
    int Slot;
    PVOID Lock = (PVOID)(uintptr_t)1;
    NTSTATUS Expected;
    NTSTATUS Status;
    int Record = Names[Name];

    for (Slot = 0; Slot < REFS && Refs[Slot].Record >= 0; Slot += 1) {
    }
    if (Slot == REFS) {
        return;
    }
    if (Record < 0) {
        Expected = STATUS_OBJECT_NAME_NOT_FOUND;
    } else if (Records[Record].Kind != Kind || Records[Record].Size != Size) {
        Expected = STATUS_WDKM_TYPE_MISMATCH;
    } else {
        Expected = STATUS_SUCCESS;
    }
    Status = WdkmGrtReference(NameText[Name], Kind, Size, &Lock);
    EXPECT("WdkmGrtReference", Status, Expected);
    if (Status != STATUS_SUCCESS) {
        if (Lock != NULL) {
            fprintf(stderr, "failed WdkmGrtReference left the lock pointer set\n");
            abort();
        }
        return;
    }
    if (Records[Record].Lock == NULL) {
        int Other;
        for (Other = 0; Other < REFS; Other += 1) {
            if (Refs[Other].Record >= 0 && Refs[Other].Lock == Lock) {
                fprintf(stderr, "a new lock has the address of a referenced one\n");
                abort();
            }
        }
        Records[Record].Lock = Lock;
    } else if (Records[Record].Lock != Lock) {
        fprintf(stderr, "one name, two locks\n");
        abort();
    }
    Refs[Slot].Record = Record;
    Refs[Slot].Lock = Lock;
}

static int
RecordLiveRefs(int Record)
{
    int Count = 0;
    int Slot;

    for (Slot = 0; Slot < REFS; Slot += 1) {
        Count += Refs[Slot].Record == Record;
    }
    return Count;
}

static void
DropRef(int Slot)
{
    int Record = Refs[Slot].Record;
    int Name;
    BOOLEAN Named = FALSE;

    Refs[Slot].Record = -1;
    Refs[Slot].Lock = NULL;
    for (Name = 0; Name < NAMES; Name += 1) {
        Named = Named || Names[Name] == Record;
    }
    if (!Named && RecordLiveRefs(Record) == 0) {
        Records[Record].Lock = NULL;       /* freed: its address may come back */
        Records[Record].Used = FALSE;
    }
}

static void
OpDereference(int Slot)
{
    NTSTATUS Expected;

    if (Refs[Slot].Record < 0) {
        return;
    }
    Expected = (HeldRef >= 0 && Refs[HeldRef].Lock == Refs[Slot].Lock) ? STATUS_WDKM_LOCK_HELD
                                                                       : STATUS_SUCCESS;
    EXPECT("WdkmGrtDereference", WdkmGrtDereference(Refs[Slot].Lock), Expected);
    if (Expected == STATUS_SUCCESS) {
        DropRef(Slot);
    }
}

static void
OpAcquire(int Slot)
{
    RECORD *Record;
    PVOID Data = (PVOID)(uintptr_t)1;

    if (Refs[Slot].Record < 0 || HeldRef >= 0) {
        return;
    }
    Record = &Records[Refs[Slot].Record];
    EXPECT("acquire", Acquire(Record->Kind, Refs[Slot].Lock, Record->Size, &Data), STATUS_SUCCESS);
    if (memcmp(Data, &Record->Counter, sizeof(Record->Counter)) != 0) {
        fprintf(stderr, "lock data differs from the model\n");
        abort();
    }
    Record->Counter += 1;
    memcpy(Data, &Record->Counter, sizeof(Record->Counter));
    HeldRef = Slot;
}

static void
OpRelease(void)
{
    if (HeldRef < 0) {
        return;
    }
    EXPECT("release", Release(Records[Refs[HeldRef].Record].Kind, Refs[HeldRef].Lock),
           STATUS_SUCCESS);
    HeldRef = -1;
}

static void
OpReleaseNotHeld(int Slot)
{
    WDKM_LOCK_KIND Kind;

    if (Refs[Slot].Record < 0 || HeldRef >= 0) {
        return;
    }
    Kind = Records[Refs[Slot].Record].Kind;
    /* Kinds released at the acquirer's level: at PASSIVE a stray release
       is "not held". */
    if (Kind == WdkmLockKindKMutex || Kind == WdkmLockKindGuardedMutex ||
        Kind == WdkmLockKindResource || Kind == WdkmLockKindPushLock) {
        EXPECT("release of a free lock", Release(Kind, Refs[Slot].Lock), STATUS_WDKM_NOT_HELD);
    }
}

static void
OpDestroyDirect(int Slot)
{
    if (Refs[Slot].Record < 0 || HeldRef >= 0) {
        return;
    }
    EXPECT("destroy of a registry lock",
           Destroy(Records[Refs[Slot].Record].Kind, Refs[Slot].Lock), STATUS_WDKM_OWNED_BY_REGISTRY);
}

static void
OpUnregister(int Name)
{
    NTSTATUS Expected;
    NTSTATUS Status;

    if (HeldRaisesToDispatch()) {
        Expected = STATUS_WDKM_IRQL_TOO_HIGH;
    } else if (Names[Name] < 0) {
        Expected = STATUS_OBJECT_NAME_NOT_FOUND;
    } else {
        Expected = STATUS_SUCCESS;
    }
    Status = WdkmGrtUnregister(NameText[Name]);
    EXPECT("WdkmGrtUnregister", Status, Expected);
    if (Status == STATUS_SUCCESS) {
        int Record = Names[Name];

        Names[Name] = -1;
        if (RecordLiveRefs(Record) == 0) {
            Records[Record].Lock = NULL;
            Records[Record].Used = FALSE;
        }
    }
}

static void
OpScoped(int Name)
{
    int Record = Names[Name];
    NTSTATUS Status = STATUS_UNSUCCESSFUL;
    PVOID Data = NULL;

    if (Record < 0 || HeldRef >= 0 || Records[Record].Kind == WdkmLockKindQueuedSpinLock) {
        return;
    }
    {
        WDKM_SCOPE Scope = WdkmGrtScopeEnter(NameText[Name], Records[Record].Kind,
                                             Records[Record].Size, &Data, &Status);
        if (Status == STATUS_SUCCESS) {
            if (memcmp(Data, &Records[Record].Counter, sizeof(LONGLONG)) != 0) {
                fprintf(stderr, "scoped data differs from the model\n");
                abort();
            }
            Records[Record].Counter += 1;
            memcpy(Data, &Records[Record].Counter, sizeof(LONGLONG));
        }
        WdkmScopeLeave(&Scope);
    }
    EXPECT("WdkmGrtScopeEnter", Status, STATUS_SUCCESS);
}

static void
OpBadName(int Which)
{
    static const char Long[] = "0123456789012345678901234567890123456789012345678901234567890123";
    PVOID Lock;

    if (Which & 1) {
        EXPECT("reference \"\"", WdkmGrtReference("", WdkmLockKindKMutex, 8, &Lock),
               STATUS_OBJECT_NAME_INVALID);
    } else {
        EXPECT("reference of 64 characters", WdkmGrtReference(Long, WdkmLockKindKMutex, 8, &Lock),
               STATUS_NAME_TOO_LONG);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *Input, size_t Size)
{
    static ULONG BugchecksAtStart;
    static BOOLEAN First = TRUE;
    size_t At;
    int Index;
    LARGE_INTEGER Timeout;
    WDKM_GRT_REPORT Report;

    if (First) {
        BugchecksAtStart = WdkmHostBugcheckCount();
        First = FALSE;
    }
    memset(Records, 0, sizeof(Records));
    RecordCount = 0;
    for (Index = 0; Index < NAMES; Index += 1) {
        Names[Index] = -1;
    }
    for (Index = 0; Index < REFS; Index += 1) {
        Refs[Index].Record = -1;
        Refs[Index].Lock = NULL;
    }
    HeldRef = -1;

    EXPECT("WdkmGrtInitialize", WdkmGrtInitialize(), STATUS_SUCCESS);
    for (At = 0; At + 4 <= Size && At < 4 * 512; At += 4) {
        int Name = Input[At + 1] % NAMES;
        WDKM_LOCK_KIND Kind = KindOf[(Input[At + 2] & 0x0F) % 7];
        SIZE_T DataSize = (Input[At + 2] & 0x10) ? 16 : 8;
        int Slot = Input[At + 3] % REFS;

        switch (Input[At] % 11) {
        case 0: OpRegister(Name, Kind, DataSize, FALSE); break;
        case 1: OpRegister(Name, Kind, DataSize, TRUE); break;
        case 2: OpReference(Name, Kind, DataSize); break;
        case 3: OpDereference(Slot); break;
        case 4: OpAcquire(Slot); break;
        case 5: OpRelease(); break;
        case 6: OpReleaseNotHeld(Slot); break;
        case 7: OpDestroyDirect(Slot); break;
        case 8: OpUnregister(Name); break;
        case 9: OpScoped(Name); break;
        default: OpBadName(Slot); break;
        }
        if (HeldRef < 0 && KeGetCurrentIrql() != PASSIVE_LEVEL) {
            fprintf(stderr, "IRQL %u with no lock held\n", (unsigned)KeGetCurrentIrql());
            abort();
        }
    }

    OpRelease();
    for (Index = 0; Index < REFS; Index += 1) {
        OpDereference(Index);
    }
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(1000);
    EXPECT("WdkmGrtDestroy", WdkmGrtDestroy(&Timeout, &Report), STATUS_SUCCESS);
    if (Report.StillReferenced != 0 || Report.UnregisteredReferenced != 0) {
        fprintf(stderr, "destroy reported references left\n");
        abort();
    }
    if (WdkmHostPoolOutstanding(WDKM_POOL_TAG, NULL) != 0) {
        fprintf(stderr, "%lu library pool blocks outstanding\n",
                (unsigned long)WdkmHostPoolOutstanding(WDKM_POOL_TAG, NULL));
        abort();
    }
    if (WdkmHostBugcheckCount() != BugchecksAtStart || KeGetCurrentIrql() != PASSIVE_LEVEL) {
        fprintf(stderr, "bug check or IRQL left raised\n");
        abort();
    }
    return 0;
}
