/*
 * test_attack38.c - two features attacked from the documentation alone
 * (wdkm_grt.h, wdkm_diag.h, wdkm_rundown.h, docs/diagnostics.md,
 * docs/reference.md), written before reading the sources:
 *
 *   1. WdkmGrtInstanceName and the checked build's rule that a registry
 *      name's lock class is its part before the first '#': "Role#<hex>"
 *      names share the class Role, so an order learnt on one instance is
 *      validated on every other; refusals leave the buffer unchanged;
 *      WdkmDiagReset, class-table recycling, instance churn, REPORT and
 *      REFUSE.
 *   2. WDKM_RUNDOWN: counts, waits, refusals after a wait began,
 *      Initialize after a completed wait, IRQL rules and statuses for each
 *      misuse (nothing changed: compared byte for byte), DPCs and APCs
 *      landing on holders and waiters, a suspended holder, and a seeded
 *      random-operation model of what the documentation promises.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "wdkm_test.h"
#include "wdkm_test_interrupts.h"

/* ------------------------------------------------------------------ */
/* Feature 1: WdkmGrtInstanceName                                      */
/* ------------------------------------------------------------------ */

#define A38_HEX_DIGITS ((ULONG)(sizeof(PVOID) * 2))

/* The name the documentation describes: Role, '#', the pointer in hex
   (lowercase as in the example), as many digits as a pointer has. */
static VOID
A38ExpectedName(PCHAR Out, SIZE_T Size, PCSTR Role, const VOID *Instance)
{
    (VOID)snprintf(Out, Size, "%s#%0*llx", Role, (int)A38_HEX_DIGITS,
                   (unsigned long long)(ULONG_PTR)Instance);
}

static BOOLEAN
A38AllBytes(const CHAR *Buffer, SIZE_T Size, UCHAR Value)
{
    SIZE_T Index;

    for (Index = 0; Index < Size; Index += 1) {
        if ((UCHAR)Buffer[Index] != Value) {
            return FALSE;
        }
    }
    return TRUE;
}

/* The documented format, for a few instances, NULL included (_In_opt_). */
static VOID
TestInstanceNameFormat(VOID)
{
    static const ULONG_PTR Instances[] = {
        0, 1, 0xABCDEF, (ULONG_PTR)-1, (ULONG_PTR)0xffffa50c3e2b1d40ULL
    };
    CHAR Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    CHAR Expected[128];
    ULONG Index;

    for (Index = 0; Index < sizeof(Instances) / sizeof(Instances[0]); Index += 1) {
        memset(Name, 0xCC, sizeof(Name));
        CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), "threadq.file",
                                         (const VOID *)Instances[Index]),
                     STATUS_SUCCESS);
        A38ExpectedName(Expected, sizeof(Expected), "threadq.file",
                        (const VOID *)Instances[Index]);
        if (strcmp(Name, Expected) != 0) {
            WdkmTestFail(__FILE__, __LINE__, "name \"%s\", expected \"%s\"", Name, Expected);
            return;
        }
        CHECK_EQ(strlen(Name), strlen("threadq.file#") + A38_HEX_DIGITS);
    }
}

/* Every refusal: its status, and Buffer untouched (the whole of it). */
static VOID
TestInstanceNameRefusals(VOID)
{
    CHAR Name[WDKM_GRT_INSTANCE_NAME_SIZE + 8];
    CHAR LongRole[200];
    PVOID Object = &Name;
    SIZE_T Need;
    /* No role, an empty one, or one with a '#' anywhere in it. */
    static const PCSTR BadRoles[] = { NULL, "", "#", "#role", "ro#le", "role#" };
    ULONG Bad;

    memset(Name, 0x5A, sizeof(Name));
    CHECK_STATUS(WdkmGrtInstanceName(NULL, sizeof(Name), "role", Object),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtInstanceName(NULL, 0, "role", Object), STATUS_INVALID_PARAMETER);

    memset(Name, 0x5A, sizeof(Name));
    for (Bad = 0; Bad < RTL_NUMBER_OF(BadRoles); Bad += 1) {
        CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), BadRoles[Bad], Object),
                     STATUS_INVALID_PARAMETER);
        CHECK(A38AllBytes(Name, sizeof(Name), 0x5A));
    }

    /* Sizes: exactly what is needed works, one less and 0 do not. */
    Need = strlen("role#") + A38_HEX_DIGITS + 1;
    CHECK_STATUS(WdkmGrtInstanceName(Name, 0, "role", Object), STATUS_BUFFER_TOO_SMALL);
    CHECK(A38AllBytes(Name, sizeof(Name), 0x5A));
    CHECK_STATUS(WdkmGrtInstanceName(Name, 1, "role", Object), STATUS_BUFFER_TOO_SMALL);
    CHECK(A38AllBytes(Name, sizeof(Name), 0x5A));
    CHECK_STATUS(WdkmGrtInstanceName(Name, Need - 1, "role", Object), STATUS_BUFFER_TOO_SMALL);
    CHECK(A38AllBytes(Name, sizeof(Name), 0x5A));
    CHECK_STATUS(WdkmGrtInstanceName(Name, Need, "role", Object), STATUS_SUCCESS);
    CHECK_EQ(strlen(Name), Need - 1);
    CHECK(A38AllBytes(Name + Need, sizeof(Name) - Need, 0x5A));   /* nothing past Size */

    /* A '#' in a role is refused even with a buffer too small: either
       refusal leaves the buffer alone. */
    memset(Name, 0x5A, sizeof(Name));
    {
        NTSTATUS Status = WdkmGrtInstanceName(Name, 2, "a#b", Object);
        CHECK(Status == STATUS_INVALID_PARAMETER || Status == STATUS_BUFFER_TOO_SMALL);
        CHECK(A38AllBytes(Name, sizeof(Name), 0x5A));
    }

    /* A very long role: too long whatever the buffer. */
    memset(LongRole, 'r', sizeof(LongRole) - 1);
    LongRole[sizeof(LongRole) - 1] = '\0';
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), LongRole, Object),
                 STATUS_NAME_TOO_LONG);
    CHECK(A38AllBytes(Name, sizeof(Name), 0x5A));
    {
        /* With a small buffer as well: which wins is not specified; the
           buffer stays untouched either way. */
        NTSTATUS Status = WdkmGrtInstanceName(Name, 4, LongRole, Object);
        CHECK(Status == STATUS_NAME_TOO_LONG || Status == STATUS_BUFFER_TOO_SMALL);
        CHECK(A38AllBytes(Name, sizeof(Name), 0x5A));
    }
    /* A long role that has a '#' far in: still refused, buffer untouched. */
    LongRole[150] = '#';
    {
        NTSTATUS Status = WdkmGrtInstanceName(Name, sizeof(Name), LongRole, Object);
        CHECK(Status == STATUS_INVALID_PARAMETER || Status == STATUS_NAME_TOO_LONG);
        CHECK(A38AllBytes(Name, sizeof(Name), 0x5A));
    }
}

/* Role lengths at the limit: 63 - 1 - digits is the longest role. */
static VOID
TestInstanceNameLengthLimit(VOID)
{
    CHAR Role[WDKM_GRT_MAX_NAME_LENGTH + 2];
    CHAR Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    ULONG Longest = WDKM_GRT_MAX_NAME_LENGTH - 1 - A38_HEX_DIGITS;
    ULONG Value = 7;
    PWDKM_KMUTEX Mutex;

    if (sizeof(PVOID) == 8) {
        CHECK_EQ(Longest, 46);   /* as reference.md says */
    }
    memset(Role, 'q', Longest);
    Role[Longest] = '\0';
    memset(Name, 0x11, sizeof(Name));
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), Role, &Role), STATUS_SUCCESS);
    CHECK_EQ(strlen(Name), WDKM_GRT_MAX_NAME_LENGTH);
    /* 63 characters need 64 bytes: 63 is too small. */
    memset(Name, 0x11, sizeof(Name));
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name) - 1, Role, &Role),
                 STATUS_BUFFER_TOO_SMALL);
    CHECK(A38AllBytes(Name, sizeof(Name), 0x11));

    /* The longest name is registrable, found again from the object. */
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), Role, &Role), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Value), STATUS_SUCCESS);
    {
        CHAR Again[WDKM_GRT_INSTANCE_NAME_SIZE];

        CHECK_STATUS(WdkmGrtInstanceName(Again, sizeof(Again), Role, &Role), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Again, ULONG, &Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);

    /* One more character is too long, whatever the buffer. */
    Role[Longest] = 'q';
    Role[Longest + 1] = '\0';
    memset(Name, 0x22, sizeof(Name));
    CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), Role, &Role), STATUS_NAME_TOO_LONG);
    CHECK(A38AllBytes(Name, sizeof(Name), 0x22));
}

/* IRQL: any. At HIGH_LEVEL it works and writes the same name. */
static VOID
TestInstanceNameAnyIrql(VOID)
{
    CHAR Low[WDKM_GRT_INSTANCE_NAME_SIZE];
    CHAR High[WDKM_GRT_INSTANCE_NAME_SIZE];
    NTSTATUS Status;
    NTSTATUS Refused;
    KIRQL OldIrql;

    memset(Low, 0, sizeof(Low));
    CHECK_STATUS(WdkmGrtInstanceName(Low, sizeof(Low), "irql.role", &Low), STATUS_SUCCESS);
    memset(High, 0x33, sizeof(High));
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Status = WdkmGrtInstanceName(High, sizeof(High), "irql.role", &Low);
    Refused = WdkmGrtInstanceName(High, 3, "irql.role", &Low);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_STATUS(Refused, STATUS_BUFFER_TOO_SMALL);
    CHECK(strcmp(Low, High) == 0);
}

/* Per-object names in the registry: each object its own lock and value,
   distinct names, found from the object again; unregistered by the name. */
static VOID
TestInstanceNameRegistry(VOID)
{
    ULONG Objects[8];
    CHAR Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    ULONG Index;

    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    for (Index = 0; Index < 8; Index += 1) {
        ULONG Value = 100 + Index;

        CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), "a38.obj", &Objects[Index]),
                     STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Value), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX(Name, &Value), STATUS_OBJECT_NAME_COLLISION);
    }
    for (Index = 0; Index < 8; Index += 1) {
        PWDKM_KMUTEX Mutex;
        PULONG Data;

        CHECK_STATUS(WdkmGrtInstanceName(Name, sizeof(Name), "a38.obj", &Objects[Index]),
                     STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WdkmKMutexAcquire(Mutex, sizeof(ULONG), (PVOID *)&Data), STATUS_SUCCESS);
        CHECK_EQ(*Data, 100 + Index);
        CHECK_STATUS(WdkmKMutexRelease(Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtDereference(Mutex), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex), STATUS_OBJECT_NAME_NOT_FOUND);
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

#if WDKM_CHECKED

/* ------------------------------------------------------------------ */
/* Feature 1, checked build: classes of registry names                 */
/* ------------------------------------------------------------------ */

static WDKM_DIAG_STATISTICS A38Classes[300];

static NTSTATUS
A38Register(PCSTR Name)
{
    ULONG Value = 0;

    return WDKM_GRT_REGISTER_KMUTEX(Name, &Value);
}

static NTSTATUS
A38RegisterInstance(PCSTR Role, const VOID *Instance, PCHAR Name)
{
    NTSTATUS Status = WdkmGrtInstanceName(Name, WDKM_GRT_INSTANCE_NAME_SIZE, Role, Instance);

    return Status == STATUS_SUCCESS ? A38Register(Name) : Status;
}

/* The references the main thread took, so that a failed CHECK does not
   leave the registry waiting for them (the cleanup drops them). */
static PWDKM_KMUTEX A38Refs[64];

static PWDKM_KMUTEX
A38Get(PCSTR Name)
{
    PWDKM_KMUTEX Mutex = NULL;
    ULONG Index;

    if (WDKM_GRT_GET_KMUTEX(Name, ULONG, &Mutex) != STATUS_SUCCESS) {
        return NULL;
    }
    for (Index = 0; Index < 64; Index += 1) {
        if (A38Refs[Index] == NULL) {
            A38Refs[Index] = Mutex;
            break;
        }
    }
    return Mutex;
}

static NTSTATUS
A38Put(PWDKM_KMUTEX Mutex)
{
    ULONG Index;

    for (Index = 0; Index < 64; Index += 1) {
        if (A38Refs[Index] == Mutex) {
            A38Refs[Index] = NULL;
            break;
        }
    }
    return WdkmGrtDereference(Mutex);
}

static VOID
A38PutAll(VOID)
{
    ULONG Index;

    for (Index = 0; Index < 64; Index += 1) {
        if (A38Refs[Index] != NULL) {
            (VOID)WdkmGrtDereference(A38Refs[Index]);
            A38Refs[Index] = NULL;
        }
    }
}

static NTSTATUS
A38Acquire(PWDKM_KMUTEX Mutex)
{
    PVOID Data;

    return WdkmKMutexAcquire(Mutex, sizeof(ULONG), &Data);
}

/* Hold First, acquire Second, release both: the order "First before
   Second" (or its refusal). Returns the status of the second acquire. */
static NTSTATUS
A38Nest(PWDKM_KMUTEX First, PWDKM_KMUTEX Second)
{
    NTSTATUS Status;

    if (A38Acquire(First) != STATUS_SUCCESS) {
        return STATUS_UNSUCCESSFUL;
    }
    Status = A38Acquire(Second);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(Second);
    }
    (VOID)WdkmKMutexRelease(First);
    return Status;
}

static ULONG
A38ViolationCount(VOID)
{
    WDKM_DIAG_VIOLATION Violations[16];
    ULONG Count = 0;

    if (WdkmDiagQueryViolations(Violations, 16, &Count) != STATUS_SUCCESS) {
        return 0xFFFFFFFF;
    }
    return Count;
}

static BOOLEAN
A38LastViolation(PWDKM_DIAG_VIOLATION Violation)
{
    WDKM_DIAG_VIOLATION Violations[16];
    ULONG Count = 0;

    if (WdkmDiagQueryViolations(Violations, 16, &Count) != STATUS_SUCCESS || Count == 0 ||
        Count > 16) {
        return FALSE;
    }
    *Violation = Violations[Count - 1];
    return TRUE;
}

/* The statistics of the class Name; NULL if no such class. */
static const WDKM_DIAG_STATISTICS *
A38FindClass(PCSTR Name)
{
    ULONG Count = 0;
    ULONG Index;
    NTSTATUS Status;

    Status = WdkmDiagQueryStatistics(A38Classes, 300, &Count, FALSE);
    if (Status != STATUS_SUCCESS) {
        return NULL;
    }
    for (Index = 0; Index < Count; Index += 1) {
        if (strcmp(A38Classes[Index].Name, Name) == 0) {
            return &A38Classes[Index];
        }
    }
    return NULL;
}

static ULONG
A38OrderViolations(VOID)
{
    WDKM_DIAG_SUMMARY Summary;

    memset(&Summary, 0, sizeof(Summary));
    if (WdkmDiagQuerySummary(&Summary) != STATUS_SUCCESS) {
        return 0xFFFFFFFF;
    }
    return Summary.OrderViolations;
}

static ULONG
A38Untracked(VOID)
{
    WDKM_DIAG_SUMMARY Summary;

    memset(&Summary, 0, sizeof(Summary));
    (VOID)WdkmDiagQuerySummary(&Summary);
    return Summary.Untracked;
}

/* Reset and a fresh registry: the start of every class test. */
static BOOLEAN
A38ClassStart(ULONG Policy)
{
    WdkmTestInterruptsPause();      /* WdkmDiagReset: no other holder */
    return WdkmDiagReset() == STATUS_SUCCESS && WdkmDiagSetPolicy(Policy) == STATUS_SUCCESS &&
           WdkmGrtInitialize() == STATUS_SUCCESS;
}

/* "device, then file" learnt on one handle's lock is validated on
   another's: the inversion on the second instance is reported, naming
   the roles; once, under WDKM_DIAG_REPORT. */
static VOID
TestClassSharedReport(VOID)
{
    CHAR File1[WDKM_GRT_INSTANCE_NAME_SIZE], File2[WDKM_GRT_INSTANCE_NAME_SIZE];
    ULONG Handle1, Handle2;
    PWDKM_KMUTEX Device, F1, F2;
    WDKM_DIAG_VIOLATION Violation;

    CHECK(A38ClassStart(WDKM_DIAG_REPORT));
    CHECK_STATUS(A38Register("a38.dev"), STATUS_SUCCESS);
    CHECK_STATUS(A38RegisterInstance("a38.file", &Handle1, File1), STATUS_SUCCESS);
    CHECK_STATUS(A38RegisterInstance("a38.file", &Handle2, File2), STATUS_SUCCESS);
    Device = A38Get("a38.dev");
    F1 = A38Get(File1);
    F2 = A38Get(File2);
    CHECK(Device != NULL && F1 != NULL && F2 != NULL);

    CHECK_STATUS(A38Nest(Device, F1), STATUS_SUCCESS);
    CHECK_EQ(A38ViolationCount(), 0);
    CHECK_STATUS(A38Nest(F2, Device), STATUS_SUCCESS);   /* REPORT: goes on */
    CHECK_EQ(A38ViolationCount(), 1);
    CHECK_EQ(A38OrderViolations(), 1);
    CHECK(A38LastViolation(&Violation));
    CHECK_EQ(Violation.Type, WdkmDiagLockOrder);
    CHECK_EQ(Violation.CycleLength, 2);
    CHECK(strcmp(Violation.Held, "a38.file") == 0);
    CHECK(strcmp(Violation.Acquiring, "a38.dev") == 0);
    /* Reported once: the order is recorded now. */
    CHECK_STATUS(A38Nest(F1, Device), STATUS_SUCCESS);
    CHECK_EQ(A38ViolationCount(), 1);
    CHECK_EQ(A38OrderViolations(), 1);

    /* Two instances of one role nested: not an order, no report. */
    CHECK_STATUS(A38Nest(F1, F2), STATUS_SUCCESS);
    CHECK_STATUS(A38Nest(F2, F1), STATUS_SUCCESS);
    CHECK_EQ(A38ViolationCount(), 1);

    /* One class "a38.file" with both live locks in it. */
    {
        const WDKM_DIAG_STATISTICS *Class = A38FindClass("a38.file");

        CHECK(Class != NULL);
        CHECK_EQ(Class->Locks, 2);
        CHECK(Class->Acquisitions >= 6);
        CHECK(A38FindClass(File1) == NULL);
    }
    CHECK_STATUS(A38Put(Device), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(F1), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(F2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* WDKM_DIAG_REFUSE: the inversion on any instance is refused, each time,
   with nothing held; refusals count every time, the report once. */
static VOID
TestClassSharedRefuse(VOID)
{
    CHAR Names[4][WDKM_GRT_INSTANCE_NAME_SIZE];
    ULONG Handles[4];
    PWDKM_KMUTEX Device, Files[4];
    ULONG Index;

    CHECK(A38ClassStart(WDKM_DIAG_REFUSE));
    CHECK_STATUS(A38Register("a38.dev"), STATUS_SUCCESS);
    Device = A38Get("a38.dev");
    CHECK(Device != NULL);
    for (Index = 0; Index < 4; Index += 1) {
        CHECK_STATUS(A38RegisterInstance("a38.file", &Handles[Index], Names[Index]),
                     STATUS_SUCCESS);
        Files[Index] = A38Get(Names[Index]);
        CHECK(Files[Index] != NULL);
    }
    CHECK_STATUS(A38Nest(Device, Files[0]), STATUS_SUCCESS);
    for (Index = 1; Index < 4; Index += 1) {
        CHECK_STATUS(A38Acquire(Files[Index]), STATUS_SUCCESS);
        CHECK_STATUS(A38Acquire(Device), STATUS_POSSIBLE_DEADLOCK);
        CHECK(!WdkmKMutexIsOwned(Device));
        CHECK_STATUS(WdkmKMutexRelease(Files[Index]), STATUS_SUCCESS);
        CHECK_EQ(A38OrderViolations(), Index);
        CHECK_EQ(A38ViolationCount(), 1);
    }
    /* The refused ones recorded nothing: the right order still passes on
       every instance, and the wrong one is still refused on the first. */
    for (Index = 0; Index < 4; Index += 1) {
        CHECK_STATUS(A38Nest(Device, Files[Index]), STATUS_SUCCESS);
    }
    CHECK_STATUS(A38Nest(Files[0], Device), STATUS_POSSIBLE_DEADLOCK);
    CHECK_EQ(A38OrderViolations(), 4);
    CHECK_EQ(A38ViolationCount(), 1);

    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REPORT), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(Device), STATUS_SUCCESS);
    for (Index = 0; Index < 4; Index += 1) {
        CHECK_STATUS(A38Put(Files[Index]), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* A name written by hand with a '#' is in the class of its part before
   the '#', as the documentation's rule is about registry names, not the
   function: "a38.file#manual" shares "a38.file" with the instances; and
   a name whose first '#' comes later ("a38.file.x#1") does not. */
static VOID
TestClassHandWrittenHash(VOID)
{
    CHAR File1[WDKM_GRT_INSTANCE_NAME_SIZE];
    ULONG Handle1;
    PWDKM_KMUTEX Device, F1, Manual, Other, Double;

    CHECK(A38ClassStart(WDKM_DIAG_REPORT));
    CHECK_STATUS(A38Register("a38.dev"), STATUS_SUCCESS);
    CHECK_STATUS(A38RegisterInstance("a38.file", &Handle1, File1), STATUS_SUCCESS);
    CHECK_STATUS(A38Register("a38.file#manual"), STATUS_SUCCESS);
    CHECK_STATUS(A38Register("a38.file.x#1"), STATUS_SUCCESS);
    CHECK_STATUS(A38Register("a38.file#a#b"), STATUS_SUCCESS);   /* first '#' counts */
    Device = A38Get("a38.dev");
    F1 = A38Get(File1);
    Manual = A38Get("a38.file#manual");
    Other = A38Get("a38.file.x#1");
    Double = A38Get("a38.file#a#b");
    CHECK(Device && F1 && Manual && Other && Double);

    CHECK_STATUS(A38Nest(Device, F1), STATUS_SUCCESS);
    CHECK_STATUS(A38Nest(Other, Device), STATUS_SUCCESS);      /* another class */
    CHECK_EQ(A38ViolationCount(), 0);
    CHECK_STATUS(A38Nest(Manual, Device), STATUS_SUCCESS);     /* same class */
    CHECK_EQ(A38ViolationCount(), 1);
    CHECK_STATUS(A38Nest(Double, Device), STATUS_SUCCESS);     /* recorded now */
    CHECK_EQ(A38ViolationCount(), 1);
    {
        const WDKM_DIAG_STATISTICS *Class = A38FindClass("a38.file");

        CHECK(Class != NULL);
        CHECK_EQ(Class->Locks, 3);
        CHECK(A38FindClass("a38.file.x") != NULL);
    }
    CHECK_STATUS(A38Put(Device), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(F1), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(Manual), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(Other), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(Double), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* Registry names are up to 63 characters, class names are kept to 47.
   Two different registry names without '#' are two classes (their class
   is the whole name): an author who names two locks "...first" and
   "...second" with a long common prefix must not get one class, in which
   "A before X" then "X before B" would be taken for an inversion. Two
   longest roles (46 characters) differing in their last one likewise. */
static VOID
TestClassLongNamesDistinct(VOID)
{
    CHAR NameA[WDKM_GRT_MAX_NAME_LENGTH + 1];
    CHAR NameB[WDKM_GRT_MAX_NAME_LENGTH + 1];
    CHAR RoleA[WDKM_GRT_MAX_NAME_LENGTH + 1];
    CHAR RoleB[WDKM_GRT_MAX_NAME_LENGTH + 1];
    CHAR InstA[WDKM_GRT_INSTANCE_NAME_SIZE], InstB[WDKM_GRT_INSTANCE_NAME_SIZE];
    ULONG Longest = WDKM_GRT_MAX_NAME_LENGTH - 1 - A38_HEX_DIGITS;
    PWDKM_KMUTEX A, B, X, IA, IB;

    CHECK(A38ClassStart(WDKM_DIAG_REPORT));
    memset(NameA, 'n', WDKM_GRT_MAX_NAME_LENGTH);
    NameA[WDKM_GRT_MAX_NAME_LENGTH] = '\0';
    memcpy(NameB, NameA, sizeof(NameA));
    NameA[WDKM_GRT_MAX_NAME_LENGTH - 1] = 'A';
    NameB[WDKM_GRT_MAX_NAME_LENGTH - 1] = 'B';
    memset(RoleA, 'r', Longest);
    RoleA[Longest] = '\0';
    memcpy(RoleB, RoleA, sizeof(RoleA));
    RoleA[Longest - 1] = 'A';
    RoleB[Longest - 1] = 'B';

    CHECK_STATUS(A38Register(NameA), STATUS_SUCCESS);
    CHECK_STATUS(A38Register(NameB), STATUS_SUCCESS);
    CHECK_STATUS(A38Register("a38.x"), STATUS_SUCCESS);
    CHECK_STATUS(A38RegisterInstance(RoleA, &InstA, InstA), STATUS_SUCCESS);
    CHECK_STATUS(A38RegisterInstance(RoleB, &InstB, InstB), STATUS_SUCCESS);
    A = A38Get(NameA);
    B = A38Get(NameB);
    X = A38Get("a38.x");
    IA = A38Get(InstA);
    IB = A38Get(InstB);
    CHECK(A && B && X && IA && IB);

    CHECK_STATUS(A38Nest(A, X), STATUS_SUCCESS);
    CHECK_STATUS(A38Nest(X, B), STATUS_SUCCESS);
    CHECK_EQ(A38ViolationCount(), 0);
    CHECK_STATUS(A38Nest(IA, X), STATUS_SUCCESS);
    CHECK_STATUS(A38Nest(X, IB), STATUS_SUCCESS);
    CHECK_EQ(A38ViolationCount(), 0);
    /* And the role's class is the role, whole. */
    CHECK(A38FindClass(RoleA) != NULL);
    CHECK(A38FindClass(RoleB) != NULL);

    CHECK_STATUS(A38Put(A), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(B), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(X), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(IA), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(IB), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* A name that starts with '#' has an empty part before it. The class
   rule gives no class name then; whatever the library makes of it, it
   must be one class per name's role as documented, and nothing may be
   refused or untracked for it. Two such names nested both ways, and each
   against a named lock, are checked for consistency: "#x" and "#y" in
   one (empty-named) class, or each its own whole-name class. */
static VOID
TestClassEmptyRole(VOID)
{
    PWDKM_KMUTEX Hx, Hy, X;
    ULONG Before;

    CHECK(A38ClassStart(WDKM_DIAG_REPORT));
    CHECK_STATUS(A38Register("#x"), STATUS_SUCCESS);
    CHECK_STATUS(A38Register("#y"), STATUS_SUCCESS);
    CHECK_STATUS(A38Register("a38.x"), STATUS_SUCCESS);
    Hx = A38Get("#x");
    Hy = A38Get("#y");
    X = A38Get("a38.x");
    CHECK(Hx && Hy && X);
    Before = A38Untracked();
    CHECK_STATUS(A38Nest(Hx, X), STATUS_SUCCESS);
    CHECK_STATUS(A38Nest(X, Hy), STATUS_SUCCESS);
    CHECK_EQ(A38Untracked(), Before);
    /* The documented rule: a name with nothing before its '#' has no role
       and is its own class, whole; "#x" before X and X before "#y" close
       no cycle. (Once both were in one class "", reported as a deadlock.) */
    CHECK_EQ(A38ViolationCount(), 0);
    CHECK(A38FindClass("#x") != NULL && A38FindClass("#y") != NULL);
    CHECK_STATUS(A38Put(Hx), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(Hy), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(X), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* WdkmDiagReset forgets the orders; classes with live locks stay (their
   lock count right), classes with none are forgotten. An instance
   registered after the reset is in the role's class again. */
static VOID
TestClassReset(VOID)
{
    CHAR File1[WDKM_GRT_INSTANCE_NAME_SIZE], File2[WDKM_GRT_INSTANCE_NAME_SIZE];
    ULONG Handle1, Handle2;
    PWDKM_KMUTEX Device, F1, F2;

    CHECK(A38ClassStart(WDKM_DIAG_REPORT));
    CHECK_STATUS(A38Register("a38.dev"), STATUS_SUCCESS);
    CHECK_STATUS(A38RegisterInstance("a38.file", &Handle1, File1), STATUS_SUCCESS);
    Device = A38Get("a38.dev");
    F1 = A38Get(File1);
    CHECK(Device && F1);
    CHECK_STATUS(A38Nest(Device, F1), STATUS_SUCCESS);

    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK_EQ(A38ViolationCount(), 0);
    CHECK_STATUS(A38Nest(F1, Device), STATUS_SUCCESS);     /* forgotten: no cycle */
    CHECK_EQ(A38ViolationCount(), 0);
    /* The class survived with its live lock in it. */
    {
        const WDKM_DIAG_STATISTICS *Class = A38FindClass("a38.file");

        CHECK(Class != NULL);
        CHECK_EQ(Class->Locks, 1);
    }
    /* Now "file before dev" is learnt; a new instance is validated by it. */
    CHECK_STATUS(A38RegisterInstance("a38.file", &Handle2, File2), STATUS_SUCCESS);
    F2 = A38Get(File2);
    CHECK(F2 != NULL);
    CHECK_STATUS(A38Nest(Device, F2), STATUS_SUCCESS);
    CHECK_EQ(A38ViolationCount(), 1);

    /* Every instance gone: reset forgets the class; a new instance then
       starts a fresh class with no orders and one lock. */
    CHECK_STATUS(A38Put(F1), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(F2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister(File1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister(File2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagReset(), STATUS_SUCCESS);
    CHECK(A38FindClass("a38.file") == NULL);
    CHECK_STATUS(A38RegisterInstance("a38.file", &Handle1, File1), STATUS_SUCCESS);
    F1 = A38Get(File1);
    CHECK(F1 != NULL);
    CHECK_STATUS(A38Nest(F1, Device), STATUS_SUCCESS);
    CHECK_STATUS(A38Nest(Device, F1), STATUS_SUCCESS);
    CHECK_EQ(A38ViolationCount(), 1);
    {
        const WDKM_DIAG_STATISTICS *Class = A38FindClass("a38.file");

        CHECK(Class != NULL);
        CHECK_EQ(Class->Locks, 1);
        CHECK_EQ(Class->Acquisitions, 2);
    }
    CHECK_STATUS(A38Put(F1), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(Device), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* Churn: 600 instances registered, used under the device lock and
   unregistered, one after another (more than the 256 classes), while
   no instance is live in between: one class serves them all, nothing is
   untracked, and the order learnt on the first is still validated on a
   new one at the end. */
static VOID
TestClassChurn(VOID)
{
    static ULONG Handles[600];
    CHAR Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    PWDKM_KMUTEX Device, File;
    ULONG Index;
    ULONG Before;

    CHECK(A38ClassStart(WDKM_DIAG_REPORT));
    CHECK_STATUS(A38Register("a38.dev"), STATUS_SUCCESS);
    Device = A38Get("a38.dev");
    CHECK(Device != NULL);
    Before = A38Untracked();
    for (Index = 0; Index < 600; Index += 1) {
        CHECK_STATUS(A38RegisterInstance("a38.file", &Handles[Index], Name), STATUS_SUCCESS);
        File = A38Get(Name);
        CHECK(File != NULL);
        CHECK_STATUS(A38Nest(Device, File), STATUS_SUCCESS);
        CHECK_STATUS(A38Put(File), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
    }
    CHECK_EQ(A38Untracked(), Before);
    CHECK_EQ(A38ViolationCount(), 0);
    {
        const WDKM_DIAG_STATISTICS *Class = A38FindClass("a38.file");

        CHECK(Class != NULL);
        CHECK_EQ(Class->Locks, 0);
        CHECK_EQ(Class->Acquisitions, 600);
    }
    CHECK_STATUS(A38RegisterInstance("a38.file", &Index, Name), STATUS_SUCCESS);
    File = A38Get(Name);
    CHECK(File != NULL);
    CHECK_STATUS(A38Nest(File, Device), STATUS_SUCCESS);
    CHECK_EQ(A38ViolationCount(), 1);
    CHECK_STATUS(A38Put(File), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(Device), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* A full table: 300 other roles come and go (each one instance, used and
   unregistered). The roles with live locks (dev, file) keep their class
   and their order; an idle role used least recently is what is recycled,
   so the earliest idle roles' classes are gone and later ones are not. */
static VOID
TestClassRecycling(VOID)
{
    CHAR File1[WDKM_GRT_INSTANCE_NAME_SIZE], File2[WDKM_GRT_INSTANCE_NAME_SIZE];
    CHAR Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    CHAR Role[32];
    ULONG Handle1, Handle2;
    PWDKM_KMUTEX Device, F1, F2, Other;
    ULONG Index;
    ULONG Before;

    CHECK(A38ClassStart(WDKM_DIAG_REPORT));
    CHECK_STATUS(A38Register("a38.dev"), STATUS_SUCCESS);
    CHECK_STATUS(A38RegisterInstance("a38.file", &Handle1, File1), STATUS_SUCCESS);
    Device = A38Get("a38.dev");
    F1 = A38Get(File1);
    CHECK(Device && F1);
    CHECK_STATUS(A38Nest(Device, F1), STATUS_SUCCESS);
    Before = A38Untracked();
    for (Index = 0; Index < 300; Index += 1) {
        (VOID)snprintf(Role, sizeof(Role), "a38.role%u", (unsigned)Index);
        CHECK_STATUS(A38RegisterInstance(Role, &Index, Name), STATUS_SUCCESS);
        Other = A38Get(Name);
        CHECK(Other != NULL);
        CHECK_STATUS(A38Nest(Device, Other), STATUS_SUCCESS);
        CHECK_STATUS(A38Put(Other), STATUS_SUCCESS);
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
    }
    CHECK_EQ(A38Untracked(), Before);
    CHECK(A38FindClass("a38.file") != NULL);
    CHECK(A38FindClass("a38.dev") != NULL);
    CHECK(A38FindClass("a38.role299") != NULL);   /* the most recent stays */
    CHECK(A38FindClass("a38.role0") == NULL);     /* the least recent went */
    /* The live roles' order survived the recycling, on a new instance. */
    CHECK_STATUS(A38RegisterInstance("a38.file", &Handle2, File2), STATUS_SUCCESS);
    F2 = A38Get(File2);
    CHECK(F2 != NULL);
    CHECK_STATUS(A38Nest(F2, Device), STATUS_SUCCESS);
    CHECK_EQ(A38ViolationCount(), 1);
    {
        WDKM_DIAG_VIOLATION Violation;

        CHECK(A38LastViolation(&Violation));
        CHECK(strcmp(Violation.Held, "a38.file") == 0);
        CHECK(strcmp(Violation.Acquiring, "a38.dev") == 0);
    }
    CHECK_STATUS(A38Put(F1), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(F2), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(Device), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* Concurrent churn: four threads each register, use (device, then its
   file) and unregister instances of one role. No report, nothing
   untracked, one class whose acquisitions add up. */
typedef struct _A38_CHURN {
    LONG volatile Failures;
    ULONG Rounds;
} A38_CHURN;

static VOID
A38ChurnThread(PVOID Context, ULONG Index)
{
    A38_CHURN *Churn = (A38_CHURN *)Context;
    CHAR Name[WDKM_GRT_INSTANCE_NAME_SIZE];
    ULONG Objects[4];
    ULONG Round;

    for (Round = 0; Round < Churn->Rounds; Round += 1) {
        PWDKM_KMUTEX Device, File;

        if (A38RegisterInstance("a38.file", &Objects[Round % 4], Name) != STATUS_SUCCESS) {
            InterlockedIncrement(&Churn->Failures);
            continue;
        }
        /* Not A38Get: its list is the main thread's. */
        if (WDKM_GRT_GET_KMUTEX("a38.dev", ULONG, &Device) != STATUS_SUCCESS) {
            Device = NULL;
        }
        if (WDKM_GRT_GET_KMUTEX(Name, ULONG, &File) != STATUS_SUCCESS) {
            File = NULL;
        }
        if (Device == NULL || File == NULL || A38Nest(Device, File) != STATUS_SUCCESS) {
            InterlockedIncrement(&Churn->Failures);
        }
        if (Device != NULL) {
            (VOID)WdkmGrtDereference(Device);
        }
        if (File != NULL) {
            (VOID)WdkmGrtDereference(File);
        }
        if (WdkmGrtUnregister(Name) != STATUS_SUCCESS) {
            InterlockedIncrement(&Churn->Failures);
        }
    }
    UNREFERENCED_PARAMETER(Index);
}

static VOID
TestClassChurnThreads(VOID)
{
    A38_CHURN Churn;
    ULONG Before;

    CHECK(A38ClassStart(WDKM_DIAG_REPORT));
    CHECK_STATUS(A38Register("a38.dev"), STATUS_SUCCESS);
    Before = A38Untracked();
    Churn.Failures = 0;
    Churn.Rounds = 300;
    CHECK(WdkmTestRunThreads(4, A38ChurnThread, &Churn));
    CHECK_EQ(Churn.Failures, 0);
    CHECK_EQ(A38ViolationCount(), 0);
    CHECK_EQ(A38Untracked(), Before);
    {
        const WDKM_DIAG_STATISTICS *Class = A38FindClass("a38.file");

        CHECK(Class != NULL);
        CHECK_EQ(Class->Locks, 0);
        CHECK_EQ(Class->Acquisitions, 4 * 300);
    }
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* A registry lock's class is its name: renaming one is refused
   (reference.md: STATUS_WDKM_OWNED_BY_REGISTRY) and changes nothing; an
   instance name replaced (WDKM_GRT_REPLACE) keeps the role's class, the
   class's lock count following the live locks. */
static VOID
TestClassRenameAndReplace(VOID)
{
    CHAR File1[WDKM_GRT_INSTANCE_NAME_SIZE];
    ULONG Handle1;
    ULONG Value = 5;
    PWDKM_KMUTEX Device, F1, F1New;

    CHECK(A38ClassStart(WDKM_DIAG_REPORT));
    CHECK_STATUS(A38Register("a38.dev"), STATUS_SUCCESS);
    CHECK_STATUS(A38RegisterInstance("a38.file", &Handle1, File1), STATUS_SUCCESS);
    Device = A38Get("a38.dev");
    F1 = A38Get(File1);
    CHECK(Device && F1);
    CHECK_STATUS(WdkmDiagSetClassName(F1, "a38.renamed"), STATUS_WDKM_OWNED_BY_REGISTRY);
    CHECK(A38FindClass("a38.renamed") == NULL);
    CHECK_STATUS(A38Nest(Device, F1), STATUS_SUCCESS);
    CHECK(A38FindClass("a38.renamed") == NULL);
    {
        const WDKM_DIAG_STATISTICS *Class = A38FindClass("a38.file");

        CHECK(Class != NULL);
        CHECK_EQ(Class->Acquisitions, 1);
    }
    /* Replaced while referenced: old and new both live, both the role's. */
    CHECK_STATUS(WDKM_GRT_REPLACE_KMUTEX(File1, &Value), STATUS_SUCCESS);
    F1New = A38Get(File1);
    CHECK(F1New != NULL && F1New != F1);
    {
        const WDKM_DIAG_STATISTICS *Class = A38FindClass("a38.file");

        CHECK(Class != NULL);
        CHECK_EQ(Class->Locks, 2);
    }
    CHECK_STATUS(A38Nest(F1New, Device), STATUS_SUCCESS);   /* learnt on the old one */
    CHECK_EQ(A38ViolationCount(), 1);
    CHECK_STATUS(A38Put(F1), STATUS_SUCCESS);                /* frees the replaced lock */
    {
        const WDKM_DIAG_STATISTICS *Class = A38FindClass("a38.file");

        CHECK(Class != NULL);
        CHECK_EQ(Class->Locks, 1);
    }
    CHECK_STATUS(A38Put(F1New), STATUS_SUCCESS);
    CHECK_STATUS(A38Put(Device), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

#endif /* WDKM_CHECKED */

/* ------------------------------------------------------------------ */
/* Feature 2: WDKM_RUNDOWN                                             */
/* ------------------------------------------------------------------ */

static LARGE_INTEGER A38Zero;

/* Reads a flag another thread sets with an interlocked operation (an
   interlocked read: TSan sees plain reads of them as races). */
static LONG
A38Read(LONG volatile *Value)
{
    return InterlockedCompareExchange(Value, 0, 0);
}

static const LARGE_INTEGER *
A38Ms(LARGE_INTEGER *Timeout, ULONG Milliseconds)
{
    Timeout->QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Milliseconds);
    return Timeout;
}

/* Calls Routine's status with the object compared whole around it: a
   refusal must change nothing. */
#define A38_UNCHANGED(RundownPointer, Expression, Expected)                         \
    do {                                                                           \
        WDKM_RUNDOWN A38Before_;                                                   \
        memcpy(&A38Before_, (RundownPointer), sizeof(A38Before_));                 \
        CHECK_STATUS((Expression), (Expected));                                    \
        CHECK(memcmp(&A38Before_, (RundownPointer), sizeof(A38Before_)) == 0);     \
    } while (0)

/* The same while another thread waits: only the words before the event
   (the waiter may still be entering its kernel wait on the event, which
   writes the event's wait list). */
#define A38_WORDS_UNCHANGED(RundownPointer, Expression, Expected)                   \
    do {                                                                           \
        WDKM_RUNDOWN A38Before_;                                                   \
        memcpy(&A38Before_, (RundownPointer), offsetof(WDKM_RUNDOWN, Drained));    \
        CHECK_STATUS((Expression), (Expected));                                    \
        CHECK(memcmp(&A38Before_, (RundownPointer), offsetof(WDKM_RUNDOWN, Drained)) == 0); \
    } while (0)

/* Counts, refusal after a completed wait, ReInitialize. */
static VOID
TestRundownBasics(VOID)
{
    WDKM_RUNDOWN Rundown;

    memset(&Rundown, 0, sizeof(Rundown));
    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    A38_UNCHANGED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    A38_UNCHANGED(&Rundown, WdkmRundownReleaseEx(&Rundown, 1), STATUS_WDKM_NOT_HELD);
    A38_UNCHANGED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 3), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    A38_UNCHANGED(&Rundown, WdkmRundownReleaseEx(&Rundown, 5), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    A38_UNCHANGED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A38Zero), STATUS_SUCCESS);
    A38_UNCHANGED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    A38_UNCHANGED(&Rundown, WdkmRundownAcquireEx(&Rundown, 2), STATUS_DELETE_PENDING);
    A38_UNCHANGED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);   /* at once */
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A38Zero), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    A38_UNCHANGED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
}

/* Every misuse, at every IRQL, in the documented order of the checks. */
static VOID
TestRundownMisuse(VOID)
{
    WDKM_RUNDOWN Zeroed;
    WDKM_RUNDOWN Rundown;
    WDKM_RUNDOWN Before;
    static const KIRQL Levels[] = { PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL };
    ULONG Level;

    memset(&Zeroed, 0, sizeof(Zeroed));
    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);   /* one out */

    for (Level = 0; Level < 4; Level += 1) {
        KIRQL Irql = Levels[Level];
        NTSTATUS Got[24];
        ULONG Index;
        KIRQL OldIrql;
        NTSTATUS TooHighD = Irql > DISPATCH_LEVEL ? STATUS_WDKM_IRQL_TOO_HIGH : 0;
        NTSTATUS TooHighA = Irql > APC_LEVEL ? STATUS_WDKM_IRQL_TOO_HIGH : 0;
        WDKM_RUNDOWN InitTarget;
        WDKM_RUNDOWN InitBefore;

        memcpy(&Before, &Rundown, sizeof(Before));
        memset(&InitTarget, 0xA5, sizeof(InitTarget));
        memcpy(&InitBefore, &InitTarget, sizeof(InitTarget));
        KeRaiseIrql(Irql, &OldIrql);
        Index = 0;
        /* NULL and Count out of range come first, at any IRQL. */
        Got[Index++] = WdkmRundownInitialize(NULL);
        Got[Index++] = WdkmRundownAcquire(NULL);
        Got[Index++] = WdkmRundownAcquireEx(NULL, 1);
        Got[Index++] = WdkmRundownAcquireEx(&Zeroed, 0);
        Got[Index++] = WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT + 1);
        Got[Index++] = WdkmRundownRelease(NULL);
        Got[Index++] = WdkmRundownReleaseEx(NULL, 1);
        Got[Index++] = WdkmRundownReleaseEx(&Zeroed, 0);
        Got[Index++] = WdkmRundownWait(NULL, &A38Zero);
        Got[Index++] = WdkmRundownReInitialize(NULL);
        /* Then the IRQL, before initialised. */
        Got[Index++] = WdkmRundownAcquire(&Zeroed);
        Got[Index++] = WdkmRundownAcquireEx(&Zeroed, 2);
        Got[Index++] = WdkmRundownRelease(&Zeroed);
        Got[Index++] = WdkmRundownReleaseEx(&Zeroed, 2);
        Got[Index++] = WdkmRundownReInitialize(&Zeroed);
        Got[Index++] = WdkmRundownWait(&Zeroed, &A38Zero);
        /* Then the state, on the live object: nothing it may change. */
        Got[Index++] = WdkmRundownReleaseEx(&Rundown, 2);
        Got[Index++] = WdkmRundownReInitialize(&Rundown);
        Got[Index++] = WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT);
        Got[Index++] = WdkmRundownInitialize(&InitTarget);   /* only above DISPATCH */
        KeLowerIrql(OldIrql);

        Index = 0;
        CHECK_STATUS(Got[Index++], STATUS_INVALID_PARAMETER);
        CHECK_STATUS(Got[Index++], STATUS_INVALID_PARAMETER);
        CHECK_STATUS(Got[Index++], STATUS_INVALID_PARAMETER);
        CHECK_STATUS(Got[Index++], STATUS_INVALID_PARAMETER);
        CHECK_STATUS(Got[Index++], STATUS_INVALID_PARAMETER);
        CHECK_STATUS(Got[Index++], STATUS_INVALID_PARAMETER);
        CHECK_STATUS(Got[Index++], STATUS_INVALID_PARAMETER);
        CHECK_STATUS(Got[Index++], STATUS_INVALID_PARAMETER);
        CHECK_STATUS(Got[Index++], STATUS_INVALID_PARAMETER);
        CHECK_STATUS(Got[Index++], STATUS_INVALID_PARAMETER);
        CHECK_STATUS(Got[Index++], TooHighD ? TooHighD : STATUS_WDKM_NOT_INITIALIZED);
        CHECK_STATUS(Got[Index++], TooHighD ? TooHighD : STATUS_WDKM_NOT_INITIALIZED);
        CHECK_STATUS(Got[Index++], TooHighD ? TooHighD : STATUS_WDKM_NOT_INITIALIZED);
        CHECK_STATUS(Got[Index++], TooHighD ? TooHighD : STATUS_WDKM_NOT_INITIALIZED);
        CHECK_STATUS(Got[Index++], TooHighD ? TooHighD : STATUS_WDKM_NOT_INITIALIZED);
        CHECK_STATUS(Got[Index++], TooHighA ? TooHighA : STATUS_WDKM_NOT_INITIALIZED);
        CHECK_STATUS(Got[Index++], TooHighD ? TooHighD : STATUS_WDKM_NOT_HELD);
        CHECK_STATUS(Got[Index++], TooHighD ? TooHighD : STATUS_INVALID_DEVICE_STATE);
        CHECK_STATUS(Got[Index++], TooHighD ? TooHighD : STATUS_INTEGER_OVERFLOW);
        if (TooHighD) {
            CHECK_STATUS(Got[Index], STATUS_WDKM_IRQL_TOO_HIGH);
            CHECK(memcmp(&InitTarget, &InitBefore, sizeof(InitTarget)) == 0);   /* nothing written */
        } else {
            CHECK_STATUS(Got[Index], STATUS_SUCCESS);
            CHECK_STATUS(WdkmRundownWait(&InitTarget, NULL), STATUS_SUCCESS);
        }
        CHECK(memcmp(&Before, &Rundown, sizeof(Before)) == 0);
        {
            WDKM_RUNDOWN ZeroRef;

            memset(&ZeroRef, 0, sizeof(ZeroRef));
            CHECK(memcmp(&ZeroRef, &Zeroed, sizeof(ZeroRef)) == 0);
        }
    }

    /* Wait at DISPATCH_LEVEL: refused, nothing begun, acquisitions work. */
    {
        KIRQL OldIrql;
        NTSTATUS Status;

        memcpy(&Before, &Rundown, sizeof(Before));
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        Status = WdkmRundownWait(&Rundown, &A38Zero);
        KeLowerIrql(OldIrql);
        CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
        CHECK(memcmp(&Before, &Rundown, sizeof(Before)) == 0);
        CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
        CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
        /* At APC_LEVEL it is allowed (a FAST_MUTEX holder's teardown). */
        KeRaiseIrql(APC_LEVEL, &OldIrql);
        Status = WdkmRundownWait(&Rundown, &A38Zero);
        KeLowerIrql(OldIrql);
        CHECK_STATUS(Status, STATUS_TIMEOUT);
        CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
        CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
        KeRaiseIrql(APC_LEVEL, &OldIrql);
        Status = WdkmRundownWait(&Rundown, NULL);
        KeLowerIrql(OldIrql);
        CHECK_STATUS(Status, STATUS_SUCCESS);
    }
}

/* The count's limit: WDKM_RUNDOWN_MAX_COUNT out at once, not one more. */
static VOID
TestRundownMaxCount(VOID)
{
    WDKM_RUNDOWN Rundown;

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT), STATUS_SUCCESS);
    A38_UNCHANGED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_INTEGER_OVERFLOW);
    A38_UNCHANGED(&Rundown, WdkmRundownAcquireEx(&Rundown, 1), STATUS_INTEGER_OVERFLOW);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    A38_UNCHANGED(&Rundown, WdkmRundownAcquireEx(&Rundown, 2), STATUS_INTEGER_OVERFLOW);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A38Zero), STATUS_TIMEOUT);
    A38_UNCHANGED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT - 1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A38Zero), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A38Zero), STATUS_SUCCESS);
    {
        /* ReleaseEx of more than the maximum: refused, nothing changes. */
        NTSTATUS Status;

        CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
        CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
        {
            WDKM_RUNDOWN Before;

            memcpy(&Before, &Rundown, sizeof(Before));
            Status = WdkmRundownReleaseEx(&Rundown, 0xFFFFFFFFUL);
            CHECK(Status == STATUS_INVALID_PARAMETER || Status == STATUS_WDKM_NOT_HELD);
            CHECK(memcmp(&Before, &Rundown, sizeof(Before)) == 0);
        }
        CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
        CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    }
}

/* A timed-out wait leaves the rundown under way; the last release after
   it, with no waiter, must not leave a signal behind that ends a later
   cycle's wait early; ReInitialize needs a completed wait. */
static VOID
TestRundownTimeoutCycle(VOID)
{
    WDKM_RUNDOWN Rundown;
    LARGE_INTEGER Timeout;
    LONGLONG Start;

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A38Zero), STATUS_TIMEOUT);
    A38_UNCHANGED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    A38_UNCHANGED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmRundownWait(&Rundown, A38Ms(&Timeout, 20)), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);   /* the last, no waiter */
    A38_UNCHANGED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    /* No wait has completed yet: the timed-out ones do not count. */
    A38_UNCHANGED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A38Zero), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);

    /* The next cycle: a wait with one out must time out, not return on a
       signal left over from the last cycle. */
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A38Zero), STATUS_TIMEOUT);
    Start = WdkmTestNowMs();
    CHECK_STATUS(WdkmRundownWait(&Rundown, A38Ms(&Timeout, 30)), STATUS_TIMEOUT);
    CHECK(WdkmTestNowMs() - Start >= 20);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
}

/* Initialize after a completed wait starts afresh: acquisitions work,
   and a wait with one out waits (no signal kept from before). */
static VOID
TestRundownInitializeAfresh(VOID)
{
    WDKM_RUNDOWN Rundown;
    LARGE_INTEGER Timeout;
    ULONG Round;

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    for (Round = 0; Round < 3; Round += 1) {
        CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
        CHECK_STATUS(WdkmRundownWait(&Rundown, &A38Zero), STATUS_TIMEOUT);
        CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);   /* sets the event */
        CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
        CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
        A38_UNCHANGED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
        A38_UNCHANGED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
        CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
        CHECK_STATUS(WdkmRundownWait(&Rundown, A38Ms(&Timeout, 15)), STATUS_TIMEOUT);
        CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
        CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
        CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
}

/* A waiter thread blocks until the last release by another thread; a
   second wait meanwhile is refused and changes nothing; the holder's
   writes are visible after the wait. */
typedef struct _A38_WAITER {
    PWDKM_RUNDOWN Rundown;
    const LARGE_INTEGER *Timeout;
    NTSTATUS volatile Status;
    LONG volatile Done;
} A38_WAITER;

static VOID
A38WaiterThread(PVOID Context, ULONG Index)
{
    A38_WAITER *Waiter = (A38_WAITER *)Context;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    /* A second waiter's refusal changes nothing: retry until ours. */
    do {
        Status = WdkmRundownWait(Waiter->Rundown, Waiter->Timeout);
    } while (Status == STATUS_INVALID_DEVICE_STATE);
    Waiter->Status = Status;
    InterlockedExchange(&Waiter->Done, 1);
}

/* Polls a zero-timeout wait until another thread is the waiter. */
static BOOLEAN
A38WaitForWaiter(PWDKM_RUNDOWN Rundown)
{
    LONGLONG Deadline = WdkmTestDeadlineMs(10000);

    while (WdkmTestNowMs() < Deadline) {
        NTSTATUS Status = WdkmRundownWait(Rundown, &A38Zero);

        if (Status == STATUS_INVALID_DEVICE_STATE) {
            return TRUE;
        }
        if (Status != STATUS_TIMEOUT) {
            return FALSE;
        }
        WdkmTestSleepMs(1);
    }
    return FALSE;
}

static VOID
TestRundownWaiterThread(VOID)
{
    WDKM_RUNDOWN Rundown;
    A38_WAITER Waiter;
    WDKM_TEST_THREAD *Thread;
    ULONG volatile Shared = 0;

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 2), STATUS_SUCCESS);
    Waiter.Rundown = &Rundown;
    Waiter.Timeout = NULL;
    Waiter.Status = STATUS_PENDING;
    Waiter.Done = 0;
    Thread = WdkmTestStartThread(A38WaiterThread, &Waiter);
    CHECK(Thread != NULL);
    CHECK(A38WaitForWaiter(&Rundown));
    A38_WORDS_UNCHANGED(&Rundown, WdkmRundownWait(&Rundown, NULL), STATUS_INVALID_DEVICE_STATE);
    A38_WORDS_UNCHANGED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    A38_WORDS_UNCHANGED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    WdkmTestSleepMs(5);
    CHECK_EQ(A38Read(&Waiter.Done), 0);                 /* one still out */
    Shared = 42;
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Waiter.Status, STATUS_SUCCESS);
    CHECK_EQ(Shared, 42);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);

    /* A timed waiter that times out: the next waiter may wait again. */
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    {
        LARGE_INTEGER Timeout;

        Waiter.Timeout = A38Ms(&Timeout, 20);
        Waiter.Status = STATUS_PENDING;
        Waiter.Done = 0;
        Thread = WdkmTestStartThread(A38WaiterThread, &Waiter);
        CHECK(Thread != NULL);
        WdkmTestJoinThread(Thread);
        CHECK_STATUS(Waiter.Status, STATUS_TIMEOUT);
    }
    A38_UNCHANGED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    Waiter.Timeout = NULL;
    Waiter.Status = STATUS_PENDING;
    Waiter.Done = 0;
    Thread = WdkmTestStartThread(A38WaiterThread, &Waiter);
    CHECK(Thread != NULL);
    CHECK(A38WaitForWaiter(&Rundown));
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Waiter.Status, STATUS_SUCCESS);
}

/* A holder suspended (a normal kernel APC that parks it) while another
   thread waits: the wait times out while it is parked, and succeeds once
   it resumes and releases. */
typedef struct _A38_SUSPEND {
    PWDKM_RUNDOWN Rundown;
    KEVENT Resume;
    LONG volatile Acquired;
    LONG volatile Parked;
    LONG volatile Go;
    LONG volatile Failures;
} A38_SUSPEND;

static VOID
A38ParkRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A38_SUSPEND *Suspend = (A38_SUSPEND *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    InterlockedExchange(&Suspend->Parked, 1);
    (VOID)KeWaitForSingleObject(&Suspend->Resume, Executive, KernelMode, FALSE, NULL);
    InterlockedExchange(&Suspend->Parked, 2);
}

static VOID
A38SuspendHolder(PVOID Context, ULONG Index)
{
    A38_SUSPEND *Suspend = (A38_SUSPEND *)Context;

    UNREFERENCED_PARAMETER(Index);
    if (WdkmRundownAcquire(Suspend->Rundown) != STATUS_SUCCESS) {
        InterlockedIncrement(&Suspend->Failures);
        return;
    }
    InterlockedExchange(&Suspend->Acquired, 1);
    while (InterlockedCompareExchange(&Suspend->Go, 0, 0) == 0) {
        /* spin: the APC lands here */
    }
    if (WdkmRundownRelease(Suspend->Rundown) != STATUS_SUCCESS) {
        InterlockedIncrement(&Suspend->Failures);
    }
}

static VOID
TestRundownSuspendedHolder(VOID)
{
    static A38_SUSPEND Suspend;
    WDKM_RUNDOWN Rundown;
    WDKM_TEST_THREAD *Thread;
    LARGE_INTEGER Timeout;
    LONGLONG Deadline;

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    memset(&Suspend, 0, sizeof(Suspend));
    Suspend.Rundown = &Rundown;
    KeInitializeEvent(&Suspend.Resume, NotificationEvent, FALSE);
    Thread = WdkmTestStartThread(A38SuspendHolder, &Suspend);
    CHECK(Thread != NULL);
    Deadline = WdkmTestDeadlineMs(10000);
    while (A38Read(&Suspend.Acquired) == 0 && WdkmTestNowMs() < Deadline) {
        WdkmTestSleepMs(1);
    }
    CHECK_EQ(A38Read(&Suspend.Acquired), 1);
    WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread), WdkmHostInterruptNormalApc,
                           A38ParkRoutine, &Suspend);
    while (A38Read(&Suspend.Parked) == 0 && WdkmTestNowMs() < Deadline) {
        WdkmTestSleepMs(1);
    }
    CHECK_EQ(A38Read(&Suspend.Parked), 1);
    InterlockedExchange(&Suspend.Go, 1);        /* it cannot see it: parked */
    CHECK_STATUS(WdkmRundownWait(&Rundown, A38Ms(&Timeout, 30)), STATUS_TIMEOUT);
    CHECK_EQ(A38Read(&Suspend.Parked), 1);
    A38_UNCHANGED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    (VOID)KeSetEvent(&Suspend.Resume, IO_NO_INCREMENT, FALSE);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(Suspend.Failures, 0);
    CHECK_EQ(A38Read(&Suspend.Parked), 2);
}

/* DPCs and special APCs landing on threads that use the rundown, at any
   point: an event acquires and releases itself (a DPC at DISPATCH_LEVEL,
   an APC at APC_LEVEL), tries a wait from a DPC (refused, nothing
   changed) and counts what it saw. The main thread then waits: once the
   wait succeeds nobody is inside, nor enters again. */
typedef struct _A38_STORM {
    WDKM_RUNDOWN Rundown;
    LONG volatile Inside;
    LONG volatile Violations;
    LONG volatile Stop;
    LONG volatile Closed;          /* set once the wait succeeded */
    LONG volatile EventsRun;
    LONG volatile EventAcquired;
    LONG volatile ThreadAcquired;
} A38_STORM;

static A38_STORM A38Storm;

static VOID
A38StormUse(A38_STORM *Storm, LONG volatile *Counter)
{
    NTSTATUS Status = WdkmRundownAcquire(&Storm->Rundown);

    if (Status == STATUS_SUCCESS) {
        if (A38Read(&Storm->Closed) != 0) {
            InterlockedIncrement(&Storm->Violations);   /* granted after the wait */
        }
        InterlockedIncrement(&Storm->Inside);
        InterlockedIncrement(Counter);
        InterlockedDecrement(&Storm->Inside);
        if (WdkmRundownRelease(&Storm->Rundown) != STATUS_SUCCESS) {
            InterlockedIncrement(&Storm->Violations);
        }
    } else if (Status != STATUS_DELETE_PENDING) {
        InterlockedIncrement(&Storm->Violations);
    }
}

static VOID
A38StormEvent(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A38_STORM *Storm = (A38_STORM *)Context;

    InterlockedIncrement(&Storm->EventsRun);
    A38StormUse(Storm, &Storm->EventAcquired);
    if (Kind == WdkmHostInterruptDpc && (Random & 3) == 0) {
        /* A DPC may not wait: refused, and the rundown is not begun. */
        if (WdkmRundownWait(&Storm->Rundown, &A38Zero) != STATUS_WDKM_IRQL_TOO_HIGH) {
            InterlockedIncrement(&Storm->Violations);
        }
    }
}

static VOID
A38StormThread(PVOID Context, ULONG Index)
{
    A38_STORM *Storm = (A38_STORM *)Context;

    UNREFERENCED_PARAMETER(Index);
    while (A38Read(&Storm->Stop) == 0) {
        A38StormUse(Storm, &Storm->ThreadAcquired);
    }
}

static VOID
TestRundownStorm(VOID)
{
    A38_STORM *Storm = &A38Storm;
    WDKM_TEST_THREAD *Threads[2];
    ULONG Index;
    ULONG Round;

    memset(Storm, 0, sizeof(*Storm));
    CHECK_STATUS(WdkmRundownInitialize(&Storm->Rundown), STATUS_SUCCESS);
    for (Round = 0; Round < 3; Round += 1) {
        LONGLONG Deadline;
        ULONG Queued = 0;

        Storm->Stop = 0;
        Storm->Closed = 0;
        for (Index = 0; Index < 2; Index += 1) {
            Threads[Index] = WdkmTestStartThread(A38StormThread, Storm);
            CHECK(Threads[Index] != NULL);
        }
        /* Interrupt both users at arbitrary points for a while. */
        Deadline = WdkmTestNowMs() + 40;
        while (WdkmTestNowMs() < Deadline || A38Read(&Storm->ThreadAcquired) == 0) {
            for (Index = 0; Index < 2; Index += 1) {
                WDKM_HOST_INTERRUPT Kind =
                    (Queued % 3 == 0) ? WdkmHostInterruptDpc :
                    (Queued % 3 == 1) ? WdkmHostInterruptSpecialApc : WdkmHostInterruptNormalApc;

                WdkmHostQueueInterrupt(WdkmTestThreadObject(Threads[Index]), Kind,
                                       A38StormEvent, Storm);
                Queued += 1;
            }
            WdkmTestSleepMs(1);
            if (WdkmTestNowMs() > Deadline + WdkmTestScaledMs(10000)) {
                break;
            }
        }
        /* Teardown while they (and their events) keep going. */
        CHECK_STATUS(WdkmRundownWait(&Storm->Rundown, NULL), STATUS_SUCCESS);
        InterlockedExchange(&Storm->Closed, 1);
        CHECK_EQ(A38Read(&Storm->Inside), 0);
        for (Index = 0; Index < 2; Index += 1) {
            WdkmHostQueueInterrupt(WdkmTestThreadObject(Threads[Index]), WdkmHostInterruptDpc,
                                   A38StormEvent, Storm);
        }
        WdkmTestSleepMs(2);
        InterlockedExchange(&Storm->Stop, 1);
        for (Index = 0; Index < 2; Index += 1) {
            WdkmTestJoinThread(Threads[Index]);
        }
        CHECK_EQ(Storm->Violations, 0);
        CHECK_EQ(Storm->Inside, 0);
        A38_UNCHANGED(&Storm->Rundown, WdkmRundownRelease(&Storm->Rundown), STATUS_WDKM_NOT_HELD);
        CHECK_STATUS(WdkmRundownReInitialize(&Storm->Rundown), STATUS_SUCCESS);
    }
    CHECK(Storm->EventsRun > 0);
    CHECK(Storm->ThreadAcquired > 0);
}

/* A special kernel APC that begins the rundown on its own thread while
   that thread holds an acquisition: with a zero timeout it answers
   STATUS_TIMEOUT (not a hang); the thread's own acquisition stays valid,
   new ones are refused, and its release then completes a wait. A DPC on
   a waiter's thread is deferred to the end of the wait and then sees the
   completed rundown. */
typedef struct _A38_APC_WAIT {
    PWDKM_RUNDOWN Rundown;
    NTSTATUS volatile WaitStatus;
    NTSTATUS volatile AcquireStatus;
    KIRQL volatile Irql;
} A38_APC_WAIT;

static VOID
A38ApcWaitRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A38_APC_WAIT *ApcWait = (A38_APC_WAIT *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    ApcWait->Irql = KeGetCurrentIrql();
    ApcWait->WaitStatus = WdkmRundownWait(ApcWait->Rundown, &A38Zero);
    ApcWait->AcquireStatus = WdkmRundownAcquire(ApcWait->Rundown);
}

static VOID
TestRundownApcWaitsOnHolder(VOID)
{
    WDKM_RUNDOWN Rundown;
    A38_APC_WAIT ApcWait;

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    ApcWait.Rundown = &Rundown;
    ApcWait.WaitStatus = STATUS_PENDING;
    ApcWait.AcquireStatus = STATUS_PENDING;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc,
                           A38ApcWaitRoutine, &ApcWait);
    CHECK_EQ(ApcWait.Irql, APC_LEVEL);
    CHECK_STATUS(ApcWait.WaitStatus, STATUS_TIMEOUT);
    CHECK_STATUS(ApcWait.AcquireStatus, STATUS_DELETE_PENDING);
    A38_UNCHANGED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A38Zero), STATUS_SUCCESS);

    /* A DPC: the wait refused at DISPATCH_LEVEL, nothing begun. */
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    ApcWait.WaitStatus = STATUS_PENDING;
    ApcWait.AcquireStatus = STATUS_PENDING;
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A38ApcWaitRoutine,
                           &ApcWait);
    CHECK_EQ(ApcWait.Irql, DISPATCH_LEVEL);
    CHECK_STATUS(ApcWait.WaitStatus, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(ApcWait.AcquireStatus, STATUS_SUCCESS);   /* the DPC's own */
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
}

/* ------------------------------------------------------------------ */
/* Feature 2: a seeded random-operation model                          */
/* ------------------------------------------------------------------ */

typedef struct _A38_MODEL {
    ULONG Count;
    BOOLEAN Begun;
    BOOLEAN Done;
    ULONG64 Random;
} A38_MODEL;

static ULONG
A38Next(A38_MODEL *Model)
{
    Model->Random ^= Model->Random << 13;
    Model->Random ^= Model->Random >> 7;
    Model->Random ^= Model->Random << 17;
    return (ULONG)(Model->Random >> 11);
}

/* One Count for an Ex call: mostly small, sometimes at or past the edges. */
static ULONG
A38Count(A38_MODEL *Model)
{
    switch (A38Next(Model) % 10) {
    case 0:
        return 0;
    case 1:
        return WDKM_RUNDOWN_MAX_COUNT;
    case 2:
        return WDKM_RUNDOWN_MAX_COUNT + 1;
    case 3:
        return Model->Count;
    default:
        return 1 + A38Next(Model) % 4;
    }
}

/* The documented answer of each call, given the model (IRQL limit
   Limit: DISPATCH_LEVEL, APC_LEVEL for Wait). */
static NTSTATUS
A38Expect(A38_MODEL *Model, ULONG Op, ULONG Count, KIRQL Irql, BOOLEAN Null)
{
    BOOLEAN TooHigh = (Op == 4) ? (Irql > APC_LEVEL) : (Irql > DISPATCH_LEVEL);

    if (Null) {
        return STATUS_INVALID_PARAMETER;
    }
    if ((Op == 1 && (Count == 0 || Count > WDKM_RUNDOWN_MAX_COUNT)) || (Op == 3 && Count == 0)) {
        return STATUS_INVALID_PARAMETER;
    }
    if (TooHigh) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    switch (Op) {
    case 0:
    case 1:
        if (Model->Begun) {
            return STATUS_DELETE_PENDING;
        }
        if (Op == 0) {
            Count = 1;
        }
        if (Count > WDKM_RUNDOWN_MAX_COUNT - Model->Count) {
            return STATUS_INTEGER_OVERFLOW;
        }
        Model->Count += Count;
        return STATUS_SUCCESS;
    case 2:
    case 3:
        if (Op == 2) {
            Count = 1;
        }
        if (Model->Count < Count) {
            return STATUS_WDKM_NOT_HELD;
        }
        Model->Count -= Count;
        return STATUS_SUCCESS;
    case 4:
        Model->Begun = TRUE;
        if (Model->Count == 0) {
            Model->Done = TRUE;
            return STATUS_SUCCESS;
        }
        return STATUS_TIMEOUT;
    case 5:
        if (!Model->Done) {
            return STATUS_INVALID_DEVICE_STATE;
        }
        Model->Begun = FALSE;
        Model->Done = FALSE;
        return STATUS_SUCCESS;
    default:
        return STATUS_UNSUCCESSFUL;
    }
}

static NTSTATUS
A38Call(PWDKM_RUNDOWN Rundown, ULONG Op, ULONG Count)
{
    switch (Op) {
    case 0:
        return WdkmRundownAcquire(Rundown);
    case 1:
        return WdkmRundownAcquireEx(Rundown, Count);
    case 2:
        return WdkmRundownRelease(Rundown);
    case 3:
        return WdkmRundownReleaseEx(Rundown, Count);
    case 4:
        return WdkmRundownWait(Rundown, &A38Zero);
    case 5:
        return WdkmRundownReInitialize(Rundown);
    default:
        return STATUS_UNSUCCESSFUL;
    }
}

static VOID
A38RunModel(ULONG64 Seed, ULONG Steps)
{
    static const KIRQL Levels[] = { PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL };
    WDKM_RUNDOWN Rundown;
    A38_MODEL Model;
    ULONG Step;

    memset(&Model, 0, sizeof(Model));
    Model.Random = Seed * 0x9E3779B97F4A7C15ULL + 1;
    memset(&Rundown, 0, sizeof(Rundown));
    /* Zeroed memory first: every call but Initialize refused. */
    for (Step = 0; Step < 6; Step += 1) {
        WDKM_RUNDOWN Before;

        memcpy(&Before, &Rundown, sizeof(Before));
        if (A38Call(&Rundown, Step, 1) != STATUS_WDKM_NOT_INITIALIZED ||
            memcmp(&Before, &Rundown, sizeof(Before)) != 0) {
            WdkmTestFail(__FILE__, __LINE__, "seed %llu: op %u on zeroed memory",
                         (unsigned long long)Seed, (unsigned)Step);
            return;
        }
    }
    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);

    for (Step = 0; Step < Steps; Step += 1) {
        ULONG Choice = A38Next(&Model) % 100;
        ULONG Op;
        ULONG Count = 1;
        KIRQL Irql = PASSIVE_LEVEL;
        BOOLEAN Null = FALSE;
        NTSTATUS Expected;
        NTSTATUS Actual;
        WDKM_RUNDOWN Before;
        A38_MODEL Saved = Model;

        if (Choice < 8) {
            /* Initialize again, where the docs allow it: nothing out and
               no rundown under way (never begun, or completed). */
            if (Model.Count == 0 && (!Model.Begun || Model.Done)) {
                CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
                Model.Begun = FALSE;
                Model.Done = FALSE;
            }
            continue;
        }
        if (Choice < 12 && Model.Count > 0) {
            /* A blocking wait on another thread, released from here. */
            A38_WAITER Waiter;
            WDKM_TEST_THREAD *Thread;

            Waiter.Rundown = &Rundown;
            Waiter.Timeout = NULL;
            Waiter.Status = STATUS_PENDING;
            Waiter.Done = 0;
            Thread = WdkmTestStartThread(A38WaiterThread, &Waiter);
            CHECK(Thread != NULL);
            if (!A38WaitForWaiter(&Rundown)) {
                WdkmTestFail(__FILE__, __LINE__, "seed %llu step %u: no waiter seen",
                             (unsigned long long)Seed, (unsigned)Step);
                (VOID)WdkmRundownReleaseEx(&Rundown, Model.Count);
                WdkmTestJoinThread(Thread);
                return;
            }
            Model.Begun = TRUE;
            while (Model.Count > 0) {
                Op = A38Next(&Model) % 6;
                if (Op == 3 || Op == 1) {
                    Count = 1 + A38Next(&Model) % 3;
                    if (Op == 3 && Model.Count > 8) {
                        /* After an AcquireEx of thousands: release in big steps. */
                        Count = Model.Count - A38Next(&Model) % 4;
                    }
                }
                memcpy(&Before, &Rundown, offsetof(WDKM_RUNDOWN, Drained));
                Actual = A38Call(&Rundown, Op, Count);
                if (Op == 4 || Op == 5) {
                    Expected = STATUS_INVALID_DEVICE_STATE;
                } else {
                    Expected = A38Expect(&Model, Op, Count, PASSIVE_LEVEL, FALSE);
                }
                if (Actual != Expected ||
                    (Actual != STATUS_SUCCESS &&
                     memcmp(&Before, &Rundown, offsetof(WDKM_RUNDOWN, Drained)) != 0)) {
                    WdkmTestFail(__FILE__, __LINE__,
                                 "seed %llu step %u (waiter): op %u count %u: %s, expected %s",
                                 (unsigned long long)Seed, (unsigned)Step, (unsigned)Op,
                                 (unsigned)Count, WdkmStatusName(Actual),
                                 WdkmStatusName(Expected));
                    (VOID)WdkmRundownReleaseEx(&Rundown, Model.Count);
                    WdkmTestJoinThread(Thread);
                    return;
                }
                if (Model.Count > 0 && A38Read(&Waiter.Done) != 0) {
                    WdkmTestFail(__FILE__, __LINE__, "seed %llu: waiter woke with %u out",
                                 (unsigned long long)Seed, (unsigned)Model.Count);
                    WdkmTestJoinThread(Thread);
                    return;
                }
            }
            WdkmTestJoinThread(Thread);
            CHECK_STATUS(Waiter.Status, STATUS_SUCCESS);
            Model.Done = TRUE;
            continue;
        }
        Op = A38Next(&Model) % 6;
        if (Op == 1 || Op == 3) {
            Count = A38Count(&Model);
        }
        if (A38Next(&Model) % 8 == 0) {
            Irql = Levels[A38Next(&Model) % 4];
        }
        if (A38Next(&Model) % 40 == 0) {
            Null = TRUE;
        }
        Expected = A38Expect(&Model, Op, Count, Irql, Null);
        memcpy(&Before, &Rundown, sizeof(Before));
        {
            KIRQL OldIrql;

            KeRaiseIrql(Irql, &OldIrql);
            Actual = A38Call(Null ? NULL : &Rundown, Op, Count);
            KeLowerIrql(OldIrql);
        }
        /* ReleaseEx above the maximum: either refusal, nothing changed. */
        if (Op == 3 && Count > WDKM_RUNDOWN_MAX_COUNT && !Null &&
            Actual == STATUS_INVALID_PARAMETER && Expected == STATUS_WDKM_NOT_HELD) {
            Expected = Actual;
        }
        if (Actual != Expected) {
            WdkmTestFail(__FILE__, __LINE__,
                         "seed %llu step %u: op %u count %u irql %u null %u: %s, expected %s "
                         "(model count %u begun %u done %u)",
                         (unsigned long long)Seed, (unsigned)Step, (unsigned)Op,
                         (unsigned)Count, (unsigned)Irql, (unsigned)Null,
                         WdkmStatusName(Actual), WdkmStatusName(Expected),
                         (unsigned)Saved.Count, (unsigned)Saved.Begun, (unsigned)Saved.Done);
            return;
        }
        if (Actual != STATUS_SUCCESS && !(Op == 4 && Actual == STATUS_TIMEOUT) &&
            memcmp(&Before, &Rundown, sizeof(Before)) != 0) {
            WdkmTestFail(__FILE__, __LINE__, "seed %llu step %u: refusal %s changed the object",
                         (unsigned long long)Seed, (unsigned)Step, WdkmStatusName(Actual));
            return;
        }
    }
    /* End: release what is out, the wait completes. */
    if (Model.Count > 0) {
        CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, Model.Count), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
}

static VOID
TestRundownModel(VOID)
{
    static const ULONG64 Seeds[] = { 1, 2, 3, 38, 1234, 77777, 0xDEADBEEF, 424242 };
    ULONG Index;

    for (Index = 0; Index < sizeof(Seeds) / sizeof(Seeds[0]); Index += 1) {
        A38RunModel(Seeds[Index], 3000);
    }
}

/* ------------------------------------------------------------------ */

static VOID
A38Cleanup(VOID)
{
    LARGE_INTEGER Timeout;

#if WDKM_CHECKED
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    A38PutAll();
#endif
    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(2000);
    (VOID)WdkmGrtDestroy(&Timeout, NULL);
}

static const WDKM_TEST_CASE A38Cases[] = {
    { "instance_name_format", TestInstanceNameFormat },
    { "instance_name_refusals", TestInstanceNameRefusals },
    { "instance_name_length_limit", TestInstanceNameLengthLimit },
    { "instance_name_any_irql", TestInstanceNameAnyIrql },
    { "instance_name_registry", TestInstanceNameRegistry },
#if WDKM_CHECKED
    { "class_shared_report", TestClassSharedReport },
    { "class_shared_refuse", TestClassSharedRefuse },
    { "class_hand_written_hash", TestClassHandWrittenHash },
    { "class_long_names_distinct", TestClassLongNamesDistinct },
    { "class_empty_role", TestClassEmptyRole },
    { "class_reset", TestClassReset },
    { "class_churn", TestClassChurn },
    { "class_recycling", TestClassRecycling },
    { "class_churn_threads", TestClassChurnThreads },
    { "class_rename_and_replace", TestClassRenameAndReplace },
#endif
    { "rundown_basics", TestRundownBasics },
    { "rundown_misuse", TestRundownMisuse },
    { "rundown_max_count", TestRundownMaxCount },
    { "rundown_timeout_cycle", TestRundownTimeoutCycle },
    { "rundown_initialize_afresh", TestRundownInitializeAfresh },
    { "rundown_waiter_thread", TestRundownWaiterThread },
    { "rundown_suspended_holder", TestRundownSuspendedHolder },
    { "rundown_storm", TestRundownStorm },
    { "rundown_apc_waits_on_holder", TestRundownApcWaitsOnHolder },
    { "rundown_model", TestRundownModel },
};

const WDKM_TEST_SUITE WdkmAttack38Suite = WDKM_TEST_SUITE_WITH_CLEANUP("attack38", A38Cases,
                                                                      A38Cleanup);
