/*
 * test_attack35.c - the checked build's lock classes attacked from the
 * documentation alone (docs/diagnostics.md "Lock classes", "Limits",
 * "Statistics", wdkm_diag.h, docs/reference.md's WdkmDiag*): a full class
 * table recycles the class no live lock is in that was used least
 * recently, and forgets its orders and figures. Orders of live classes
 * survive any churn; forgotten orders close no cycle, directly or through
 * a chain; a report flag, a site or a figure of a recycled class does not
 * pass to the class that takes its place; renames into and out of a full
 * table; anonymous classes end with their lock; figures read while locks
 * are destroyed and classes recycled; DPCs and APCs on a thread recording
 * orders; and a seeded model of which acquisitions close a cycle, under
 * WDKM_DIAG_REPORT and WDKM_DIAG_REFUSE, with class churn past the table.
 */
#include <stdio.h>
#include <string.h>

#include "wdkm_test.h"

#define A35_CLASSES 256            /* WDKM_DIAG_MAX_CLASSES, as documented */

typedef struct _A35_VALUE {
    ULONG Count;
} A35_VALUE;

/* Names unique over the whole run, so that no test meets another's class. */
static volatile LONG A35NameSerial;

static VOID
A35UniqueName(PCSTR Prefix, PCHAR Buffer, SIZE_T Size)
{
    LONG Serial = __atomic_add_fetch(&A35NameSerial, 1, __ATOMIC_SEQ_CST);

    (VOID)snprintf(Buffer, Size, "%s.%06ld", Prefix, (long)Serial);
}

/* A KMUTEX in class Name (no site: created without the typed macro). */
static PWDKM_KMUTEX
A35Named(PCSTR Name)
{
    A35_VALUE Initial = { 0 };
    PWDKM_KMUTEX Mutex = NULL;

    if (WdkmKMutexCreate(&Initial, sizeof(Initial), &Mutex) != STATUS_SUCCESS) {
        return NULL;
    }
    if (WdkmDiagSetClassName(Mutex, Name) != STATUS_SUCCESS) {
        (VOID)WdkmKMutexDestroy(Mutex);
        return NULL;
    }
    return Mutex;
}

static NTSTATUS
A35Acquire(PWDKM_KMUTEX Mutex)
{
    A35_VALUE *Value;

    return WdkmKMutexAcquire(Mutex, sizeof(A35_VALUE), (PVOID *)&Value);
}

/* Count classes that are named and used once, then never again: the
   per-handle pattern. Each is acquired so that it has figures. */
static BOOLEAN
A35Churn(ULONG Count)
{
    ULONG Index;

    for (Index = 0; Index < Count; Index += 1) {
        CHAR Name[WDKM_DIAG_NAME_LENGTH];
        PWDKM_KMUTEX Mutex;

        A35UniqueName("a35.churn", Name, sizeof(Name));
        Mutex = A35Named(Name);
        if (Mutex == NULL || A35Acquire(Mutex) != STATUS_SUCCESS ||
            WdkmKMutexRelease(Mutex) != STATUS_SUCCESS ||
            WdkmKMutexDestroy(Mutex) != STATUS_SUCCESS) {
            return FALSE;
        }
    }
    return TRUE;
}

static ULONG
A35OrderViolations(VOID)
{
    WDKM_DIAG_SUMMARY Summary;

    if (WdkmDiagQuerySummary(&Summary) != STATUS_SUCCESS) {
        return 0xFFFFFFFFUL;
    }
    return Summary.OrderViolations;
}

/* Takes First then Second, and lets both go. */
static NTSTATUS
A35Nest(PWDKM_KMUTEX First, PWDKM_KMUTEX Second)
{
    NTSTATUS Status = A35Acquire(First);

    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = A35Acquire(Second);
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexRelease(Second);
    }
    (VOID)WdkmKMutexRelease(First);
    return Status;
}

static VOID
A35Start(VOID)
{
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    (VOID)WdkmDiagReset();
}

static PWDKM_KMUTEX A35Full[A35_CLASSES + 2];

static VOID
A35Cleanup(VOID)
{
    ULONG Index;

    for (Index = 0; Index < A35_CLASSES + 2; Index += 1) {
        if (A35Full[Index] != NULL) {
            (VOID)WdkmKMutexDestroy(A35Full[Index]);
            A35Full[Index] = NULL;
        }
    }
    (VOID)WdkmDiagSetPolicy(WDKM_DIAG_REPORT);
    (VOID)WdkmDiagReset();
    WdkmHostSetDebugPrintSink(NULL, NULL);
}

/* ---------------------------------------------------------------------- */
/* Captured reports                                                        */
/* ---------------------------------------------------------------------- */

#define A35_CAPTURE_SIZE 16384

static CHAR A35Captured[A35_CAPTURE_SIZE];
static SIZE_T A35CapturedLength;

static VOID
A35Sink(ULONG ComponentId, ULONG Level, PCSTR Message, PVOID Context)
{
    SIZE_T Length = strlen(Message);

    UNREFERENCED_PARAMETER(ComponentId);
    UNREFERENCED_PARAMETER(Level);
    UNREFERENCED_PARAMETER(Context);
    if (A35CapturedLength + Length + 1 < sizeof(A35Captured)) {
        memcpy(A35Captured + A35CapturedLength, Message, Length);
        A35CapturedLength += Length;
        A35Captured[A35CapturedLength] = '\0';
    }
}

static VOID
A35CaptureStart(VOID)
{
    A35CapturedLength = 0;
    A35Captured[0] = '\0';
    WdkmHostSetDebugPrintSink(A35Sink, NULL);
}

/* ---------------------------------------------------------------------- */
/* Orders of live classes survive churn; forgotten ones close no cycle     */
/* ---------------------------------------------------------------------- */

/* "The class table fills only with classes that have live locks": two
   live classes ordered before 600 per-handle names keep their order. */
static VOID
TestLiveOrderSurvivesChurn(VOID)
{
    PWDKM_KMUTEX First, Second;

    A35Start();
    First = A35Named("a35.live.first");
    Second = A35Named("a35.live.second");
    CHECK(First != NULL && Second != NULL);
    CHECK_STATUS(A35Nest(First, Second), STATUS_SUCCESS);
    CHECK(A35Churn(600));
    CHECK_EQ(A35OrderViolations(), 0);
    CHECK_STATUS(A35Nest(Second, First), STATUS_SUCCESS);
    CHECK_EQ(A35OrderViolations(), 1);
    CHECK_STATUS(WdkmKMutexDestroy(First), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Second), STATUS_SUCCESS);
}

/* A recycled class's orders are forgotten: the same name used again is a
   new class, and the reverse order is no cycle. */
static VOID
TestRecycledOrderIsForgotten(VOID)
{
    PWDKM_KMUTEX Old, Keeper, Again;
    CHAR Name[WDKM_DIAG_NAME_LENGTH];

    A35Start();
    A35UniqueName("a35.forgotten", Name, sizeof(Name));
    Old = A35Named(Name);
    Keeper = A35Named("a35.forgotten.keeper");
    CHECK(Old != NULL && Keeper != NULL);
    CHECK_STATUS(A35Nest(Old, Keeper), STATUS_SUCCESS);     /* Name before keeper */
    CHECK_STATUS(WdkmKMutexDestroy(Old), STATUS_SUCCESS);
    CHECK(A35Churn(A35_CLASSES + 10));                      /* Name is recycled */
    Again = A35Named(Name);
    CHECK(Again != NULL);
    CHECK_STATUS(A35Nest(Keeper, Again), STATUS_SUCCESS);
    CHECK_EQ(A35OrderViolations(), 0);
    CHECK_STATUS(WdkmKMutexDestroy(Again), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Keeper), STATUS_SUCCESS);
}

/* Forgotten orders close no cycle through a chain either: First before
   Middle before Last, Middle recycled, then Last before First is the first
   order between them. */
static VOID
TestRecycledChainIsForgotten(VOID)
{
    PWDKM_KMUTEX First, Middle, Last;
    CHAR Name[WDKM_DIAG_NAME_LENGTH];

    A35Start();
    A35UniqueName("a35.chain.middle", Name, sizeof(Name));
    First = A35Named("a35.chain.first");
    Middle = A35Named(Name);
    Last = A35Named("a35.chain.last");
    CHECK(First != NULL && Middle != NULL && Last != NULL);
    CHECK_STATUS(A35Nest(First, Middle), STATUS_SUCCESS);
    CHECK_STATUS(A35Nest(Middle, Last), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Middle), STATUS_SUCCESS);
    CHECK(A35Churn(A35_CLASSES + 10));
    CHECK_STATUS(A35Nest(Last, First), STATUS_SUCCESS);
    CHECK_EQ(A35OrderViolations(), 0);

    /* and under WDKM_DIAG_REFUSE the acquisition is not refused */
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);
    CHECK_STATUS(A35Nest(Last, First), STATUS_SUCCESS);
    CHECK_EQ(A35OrderViolations(), 0);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REPORT), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(First), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Last), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* Nothing of a recycled class passes to the class in its place            */
/* ---------------------------------------------------------------------- */

/* "Each closing order is reported once": a cycle between two classes is
   reported; both recycled; the classes that take the least recently used
   places (theirs) form a cycle of their own, which is a new order and is
   reported and kept too. */
static VOID
TestReportFlagDoesNotPassOn(VOID)
{
    PWDKM_KMUTEX A, B, P, Q;
    CHAR NameA[WDKM_DIAG_NAME_LENGTH], NameB[WDKM_DIAG_NAME_LENGTH];
    CHAR NameP[WDKM_DIAG_NAME_LENGTH], NameQ[WDKM_DIAG_NAME_LENGTH];
    WDKM_DIAG_VIOLATION Kept[4];
    ULONG Count = 0;

    A35Start();
    CHECK(A35Churn(A35_CLASSES));            /* every free place is ours, in order */
    A35UniqueName("a35.flag.a", NameA, sizeof(NameA));
    A35UniqueName("a35.flag.b", NameB, sizeof(NameB));
    A = A35Named(NameA);
    B = A35Named(NameB);
    CHECK(A != NULL && B != NULL);
    CHECK_STATUS(A35Nest(A, B), STATUS_SUCCESS);
    CHECK_STATUS(A35Nest(B, A), STATUS_SUCCESS);
    CHECK_EQ(A35OrderViolations(), 1);
    CHECK_STATUS(WdkmKMutexDestroy(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(B), STATUS_SUCCESS);
    /* A and B are now the least recently used after 254 more: the next two
       new classes take their places. */
    CHECK(A35Churn(A35_CLASSES - 2));
    A35UniqueName("a35.flag.p", NameP, sizeof(NameP));
    A35UniqueName("a35.flag.q", NameQ, sizeof(NameQ));
    P = A35Named(NameP);
    Q = A35Named(NameQ);
    CHECK(P != NULL && Q != NULL);
    CHECK_STATUS(A35Nest(P, Q), STATUS_SUCCESS);
    CHECK_STATUS(A35Nest(Q, P), STATUS_SUCCESS);
    CHECK_EQ(A35OrderViolations(), 2);
    CHECK_STATUS(WdkmDiagQueryViolations(Kept, 4, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 2);
    CHECK(strcmp(Kept[1].Held, NameQ) == 0 && strcmp(Kept[1].Acquiring, NameP) == 0);

    /* Under WDKM_DIAG_REFUSE too: recycle P and Q, then two more new classes
       in their places; the closing acquisition is refused. */
    CHECK_STATUS(WdkmKMutexDestroy(P), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Q), STATUS_SUCCESS);
    CHECK(A35Churn(A35_CLASSES - 2));
    A35UniqueName("a35.flag.p", NameP, sizeof(NameP));
    A35UniqueName("a35.flag.q", NameQ, sizeof(NameQ));
    P = A35Named(NameP);
    Q = A35Named(NameQ);
    CHECK(P != NULL && Q != NULL);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REFUSE), STATUS_SUCCESS);
    CHECK_STATUS(A35Nest(P, Q), STATUS_SUCCESS);
    CHECK_STATUS(A35Nest(Q, P), STATUS_POSSIBLE_DEADLOCK);
    CHECK_EQ(A35OrderViolations(), 3);
    CHECK_STATUS(WdkmDiagQueryViolations(Kept, 4, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 3);
    CHECK_STATUS(WdkmDiagSetPolicy(WDKM_DIAG_REPORT), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(P), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Q), STATUS_SUCCESS);
}

/* A recycled class's figures are forgotten: the class in its place, and
   the old name used again, start from nothing. */
static VOID
TestFiguresDoNotPassOn(VOID)
{
    PWDKM_KMUTEX Old, Again;
    CHAR Name[WDKM_DIAG_NAME_LENGTH];
    WDKM_DIAG_STATISTICS Figures;
    ULONG Index;

    A35Start();
    A35UniqueName("a35.figures", Name, sizeof(Name));
    Old = A35Named(Name);
    CHECK(Old != NULL);
    for (Index = 0; Index < 5; Index += 1) {
        CHECK_STATUS(A35Acquire(Old), STATUS_SUCCESS);
        CHECK_STATUS(WdkmKMutexRelease(Old), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmKMutexDestroy(Old), STATUS_SUCCESS);
    CHECK(A35Churn(A35_CLASSES + 10));
    Again = A35Named(Name);
    CHECK(Again != NULL);
    CHECK_STATUS(A35Acquire(Again), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Again), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQueryLockStatistics(Again, &Figures), STATUS_SUCCESS);
    CHECK(strcmp(Figures.Name, Name) == 0);
    CHECK_EQ(Figures.Acquisitions, 1);
    CHECK_EQ(Figures.Locks, 1);
    {
        static WDKM_DIAG_STATISTICS Classes[A35_CLASSES + 8];
        ULONG Count = 0, Found = 0;

        CHECK_STATUS(WdkmDiagQueryStatistics(Classes, A35_CLASSES + 8, &Count, FALSE),
                     STATUS_SUCCESS);
        CHECK(Count <= A35_CLASSES);
        for (Index = 0; Index < Count; Index += 1) {
            if (strcmp(Classes[Index].Name, Name) == 0) {
                Found += 1;
                CHECK_EQ(Classes[Index].Acquisitions, 1);
                CHECK_EQ(Classes[Index].Locks, 1);
            }
        }
        CHECK_EQ(Found, 1);
    }
    CHECK_STATUS(WdkmKMutexDestroy(Again), STATUS_SUCCESS);
}

/* The site of an order between a recycled class and a live one is not
   shown for the order the class in its place records with the live one. */
static VOID
TestSiteDoesNotPassOn(VOID)
{
    PWDKM_KMUTEX Keeper, Old, New;
    CHAR Name[WDKM_DIAG_NAME_LENGTH], NameNew[WDKM_DIAG_NAME_LENGTH];
    CHAR Expected[128];
    A35_VALUE *Value;
    ULONG OldLine, NewLine;

    A35Start();
    CHECK(A35Churn(A35_CLASSES));
    A35UniqueName("a35.site.old", Name, sizeof(Name));
    Old = A35Named(Name);
    Keeper = A35Named("a35.site.keeper");
    CHECK(Old != NULL && Keeper != NULL);
    CHECK_STATUS(A35Acquire(Keeper), STATUS_SUCCESS);
    OldLine = __LINE__ + 1;
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Old, &Value), STATUS_SUCCESS);   /* keeper before old */
    CHECK_STATUS(WdkmKMutexRelease(Old), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Keeper), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Old), STATUS_SUCCESS);
    CHECK(A35Churn(A35_CLASSES - 2));       /* old is now the least recently used */
    A35UniqueName("a35.site.new", NameNew, sizeof(NameNew));
    New = A35Named(NameNew);                /* in old's place */
    CHECK(New != NULL);
    CHECK_STATUS(A35Acquire(Keeper), STATUS_SUCCESS);
    NewLine = __LINE__ + 1;
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(New, &Value), STATUS_SUCCESS);   /* keeper before new */
    CHECK_STATUS(WdkmKMutexRelease(New), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Keeper), STATUS_SUCCESS);
    A35CaptureStart();
    CHECK_STATUS(A35Nest(New, Keeper), STATUS_SUCCESS);
    WdkmHostSetDebugPrintSink(NULL, NULL);
    CHECK_EQ(A35OrderViolations(), 1);
    (VOID)snprintf(Expected, sizeof(Expected), "test_attack35.c:%lu", (unsigned long)NewLine);
    if (strstr(A35Captured, Expected) == NULL) {
        WdkmTestFail(__FILE__, __LINE__, "report lacks %s (old order at line %lu):\n%s",
                     Expected, (unsigned long)OldLine, A35Captured);
        return;
    }
    CHECK_STATUS(WdkmKMutexDestroy(New), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Keeper), STATUS_SUCCESS);
}

/* Forgotten orders free their remembered sites: after 2000 orders among
   per-handle classes, all forgotten, a new order still has its site. */
static VOID
TestForgottenSitesAreFreed(VOID)
{
    PWDKM_KMUTEX Keeper, Other;
    CHAR Expected[128];
    A35_VALUE *Value;
    ULONG Index, Line;

    A35Start();
    Keeper = A35Named("a35.sites.keeper");
    CHECK(Keeper != NULL);
    for (Index = 0; Index < 2000; Index += 1) {
        CHAR Name[WDKM_DIAG_NAME_LENGTH];
        PWDKM_KMUTEX Handle;

        A35UniqueName("a35.sites.handle", Name, sizeof(Name));
        Handle = A35Named(Name);
        CHECK(Handle != NULL);
        CHECK_STATUS(A35Acquire(Keeper), STATUS_SUCCESS);
        CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Handle, &Value), STATUS_SUCCESS);
        CHECK_STATUS(WdkmKMutexRelease(Handle), STATUS_SUCCESS);
        CHECK_STATUS(WdkmKMutexRelease(Keeper), STATUS_SUCCESS);
        CHECK_STATUS(WdkmKMutexDestroy(Handle), STATUS_SUCCESS);
    }
    Other = A35Named("a35.sites.other");
    CHECK(Other != NULL);
    CHECK_STATUS(A35Acquire(Keeper), STATUS_SUCCESS);
    Line = __LINE__ + 1;
    CHECK_STATUS(WDKM_KMUTEX_ACQUIRE(Other, &Value), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Other), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexRelease(Keeper), STATUS_SUCCESS);
    A35CaptureStart();
    CHECK_STATUS(A35Nest(Other, Keeper), STATUS_SUCCESS);
    WdkmHostSetDebugPrintSink(NULL, NULL);
    CHECK_EQ(A35OrderViolations(), 1);
    (VOID)snprintf(Expected, sizeof(Expected), "test_attack35.c:%lu", (unsigned long)Line);
    if (strstr(A35Captured, Expected) == NULL) {
        WdkmTestFail(__FILE__, __LINE__, "report lacks %s:\n%s", Expected, A35Captured);
        return;
    }
    CHECK_STATUS(WdkmKMutexDestroy(Other), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(Keeper), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* Renames into and out of a full table                                    */
/* ---------------------------------------------------------------------- */

static VOID
TestRenameWhileFull(VOID)
{
    A35_VALUE Initial = { 0 };
    CHAR Names[A35_CLASSES][WDKM_DIAG_NAME_LENGTH];
    CHAR Fresh[WDKM_DIAG_NAME_LENGTH], SiteName[WDKM_DIAG_NAME_LENGTH];
    WDKM_DIAG_STATISTICS Figures;
    WDKM_DIAG_SUMMARY Summary;
    ULONG Index, SiteLine = 0;
    ULONG Last = A35_CLASSES;          /* the two left in the site class */

    A35Start();
    CHECK(A35Churn(A35_CLASSES));
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.LiveLocks, 0);
    memset(A35Full, 0, sizeof(A35Full));
    for (Index = 0; Index < A35_CLASSES + 1; Index += 1) {
        SiteLine = __LINE__ + 1;
        CHECK_STATUS(WDKM_KMUTEX_CREATE(&Initial, &A35Full[Index]), STATUS_SUCCESS);
    }
    (VOID)snprintf(SiteName, sizeof(SiteName), ":%lu", (unsigned long)SiteLine);
    /* 255 named classes and the site class, all with live locks: full */
    for (Index = 0; Index < A35_CLASSES - 1; Index += 1) {
        A35UniqueName("a35.full", Names[Index], sizeof(Names[Index]));
        CHECK_STATUS(WdkmDiagSetClassName(A35Full[Index], Names[Index]), STATUS_SUCCESS);
    }
    A35UniqueName("a35.full.fresh", Fresh, sizeof(Fresh));
    CHECK_STATUS(WdkmDiagSetClassName(A35Full[Last - 1], Fresh), STATUS_INSUFFICIENT_RESOURCES);
    CHECK_STATUS(WdkmDiagQueryLockStatistics(A35Full[Last - 1], &Figures), STATUS_SUCCESS);
    CHECK(strstr(Figures.Name, "test_attack35.c") != NULL);
    CHECK(strstr(Figures.Name, SiteName) != NULL);
    CHECK_EQ(Figures.Locks, 1);
    /* the keeper still orders and is ordered: a cycle with a named one */
    CHECK_STATUS(A35Nest(A35Full[Last - 1], A35Full[0]), STATUS_SUCCESS);
    CHECK_STATUS(A35Nest(A35Full[0], A35Full[Last]), STATUS_SUCCESS);
    CHECK_EQ(A35OrderViolations(), 1);
    /* into an existing class: no new class needed */
    CHECK_STATUS(WdkmDiagSetClassName(A35Full[Last - 1], Names[3]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQueryLockStatistics(A35Full[Last - 1], &Figures), STATUS_SUCCESS);
    CHECK(strcmp(Figures.Name, Names[3]) == 0);
    CHECK_EQ(Figures.Locks, 1);                 /* "1 for a lock" */
    /* one named class loses its lock: the fresh name takes its place */
    CHECK_STATUS(WdkmKMutexDestroy(A35Full[7]), STATUS_SUCCESS);
    A35Full[7] = NULL;
    CHECK_STATUS(WdkmDiagSetClassName(A35Full[Last], Fresh), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagQueryLockStatistics(A35Full[Last], &Figures), STATUS_SUCCESS);
    CHECK(strcmp(Figures.Name, Fresh) == 0);
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.Untracked, 0);
    for (Index = 0; Index < A35_CLASSES + 1; Index += 1) {
        if (A35Full[Index] != NULL) {
            CHECK_STATUS(WdkmKMutexDestroy(A35Full[Index]), STATUS_SUCCESS);
            A35Full[Index] = NULL;
        }
    }
}

/* A lock named into an existing class needs no new class, so nothing is
   recycled: with the table full (a live keeper, the free class X, 254 live
   named classes), a new lock named X is in X, with X's orders. The
   library gave every new lock a class of its own first (KMUTEX@address),
   which took X's place and forgot its orders before the name came. */
static VOID
TestNamingIntoFreeClassKeepsOrders(VOID)
{
    CHAR NameX[WDKM_DIAG_NAME_LENGTH], NameKeeper[WDKM_DIAG_NAME_LENGTH];
    PWDKM_KMUTEX Keeper, X;
    WDKM_DIAG_SUMMARY Summary;
    ULONG Index;

    A35Start();
    CHECK(A35Churn(A35_CLASSES));
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.LiveLocks, 0);
    A35UniqueName("a35.into.keeper", NameKeeper, sizeof(NameKeeper));
    A35UniqueName("a35.into.x", NameX, sizeof(NameX));
    Keeper = A35Named(NameKeeper);
    X = A35Named(NameX);
    CHECK(Keeper != NULL && X != NULL);
    A35Full[A35_CLASSES] = Keeper;
    CHECK_STATUS(A35Nest(X, Keeper), STATUS_SUCCESS);        /* X before keeper */
    CHECK_STATUS(WdkmKMutexDestroy(X), STATUS_SUCCESS);      /* X: no live lock */
    for (Index = 0; Index < A35_CLASSES - 2; Index += 1) {
        CHAR Name[WDKM_DIAG_NAME_LENGTH];

        A35UniqueName("a35.into.live", Name, sizeof(Name));
        A35Full[Index] = A35Named(Name);
        CHECK(A35Full[Index] != NULL);
    }
    /* keeper, X and 254: every class there is; X is the only one free */
    X = A35Named(NameX);
    CHECK(X != NULL);
    A35Full[A35_CLASSES + 1] = X;
    CHECK_STATUS(A35Nest(Keeper, X), STATUS_SUCCESS);
    CHECK_EQ(A35OrderViolations(), 1);
    A35Cleanup();
}

/* ---------------------------------------------------------------------- */
/* Registry names per handle                                               */
/* ---------------------------------------------------------------------- */

static NTSTATUS
A35GrtNest(PCSTR First, PCSTR Second)
{
    PVOID LockFirst = NULL, LockSecond = NULL;
    A35_VALUE *Value;
    NTSTATUS Status;

    Status = WdkmGrtReference(First, WdkmLockKindKMutex, sizeof(A35_VALUE), &LockFirst);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WdkmGrtReference(Second, WdkmLockKindKMutex, sizeof(A35_VALUE), &LockSecond);
    if (Status == STATUS_SUCCESS) {
        Status = WdkmKMutexAcquire((PWDKM_KMUTEX)LockFirst, sizeof(A35_VALUE), (PVOID *)&Value);
        if (Status == STATUS_SUCCESS) {
            Status = WdkmKMutexAcquire((PWDKM_KMUTEX)LockSecond, sizeof(A35_VALUE),
                                       (PVOID *)&Value);
            if (Status == STATUS_SUCCESS) {
                (VOID)WdkmKMutexRelease((PWDKM_KMUTEX)LockSecond);
            }
            (VOID)WdkmKMutexRelease((PWDKM_KMUTEX)LockFirst);
        }
        (VOID)WdkmGrtDereference(LockSecond);
    }
    (VOID)WdkmGrtDereference(LockFirst);
    return Status;
}

/* The case the recycling is for: a driver registering a lock per handle
   under the handle's name, ordered after a device lock. Past 256 names each
   new handle is still validated (its reversed order is reported), and the
   order between two registry locks that live throughout is kept. */
static VOID
TestRegistryNamePerHandle(VOID)
{
    A35_VALUE Initial = { 0 };
    ULONG Handle, Expected = 0;

    A35Start();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtRegister("a35.grt.device", WdkmLockKindKMutex, &Initial, sizeof(Initial), 0),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtRegister("a35.grt.queue", WdkmLockKindKMutex, &Initial, sizeof(Initial), 0),
                 STATUS_SUCCESS);
    CHECK_STATUS(A35GrtNest("a35.grt.device", "a35.grt.queue"), STATUS_SUCCESS);
    for (Handle = 0; Handle < 3 * A35_CLASSES; Handle += 1) {
        CHAR Name[WDKM_DIAG_NAME_LENGTH];

        A35UniqueName("a35.grt.handle", Name, sizeof(Name));
        CHECK_STATUS(WdkmGrtRegister(Name, WdkmLockKindKMutex, &Initial, sizeof(Initial), 0),
                     STATUS_SUCCESS);
        CHECK_STATUS(A35GrtNest("a35.grt.device", Name), STATUS_SUCCESS);
        if (Handle % 16 == 15) {                      /* a handle used the wrong way round */
            CHECK_STATUS(A35GrtNest(Name, "a35.grt.device"), STATUS_SUCCESS);
            Expected += 1;
            CHECK_EQ(A35OrderViolations(), Expected);
        }
        CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
    }
    CHECK_STATUS(A35GrtNest("a35.grt.queue", "a35.grt.device"), STATUS_SUCCESS);
    CHECK_EQ(A35OrderViolations(), Expected + 1);
    CHECK_STATUS(WdkmGrtDestroy(NULL, NULL), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* Anonymous classes end with their lock                                   */
/* ---------------------------------------------------------------------- */

/* "KMUTEX@<address>, until it is destroyed": a lock made at the address of
   a destroyed one is a new class, without the old one's orders. */
static VOID
TestAnonymousClassEndsWithLock(VOID)
{
    PWDKM_KMUTEX Keeper, Anonymous, Again = NULL;
    A35_VALUE Initial = { 0 };
    ULONG Attempt;
    BOOLEAN SameAddress = FALSE;

    A35Start();
    Keeper = A35Named("a35.anonymous.keeper");
    CHECK(Keeper != NULL);
    {
        /* before its first acquisition too, its class is the lock alone */
        WDKM_DIAG_STATISTICS Figures;
        CHAR Expected[WDKM_DIAG_NAME_LENGTH];

        CHECK_STATUS(WdkmKMutexCreate(&Initial, sizeof(Initial), &Anonymous), STATUS_SUCCESS);
        CHECK_STATUS(WdkmDiagQueryLockStatistics(Anonymous, &Figures), STATUS_SUCCESS);
        (VOID)snprintf(Expected, sizeof(Expected), "@%llx",
                       (unsigned long long)(ULONG_PTR)Anonymous);
        CHECK(strncmp(Figures.Name, "KMUTEX@", 7) == 0);
        CHECK(strstr(Figures.Name, Expected) != NULL);
        CHECK_EQ(Figures.Locks, 1);
        CHECK_EQ(Figures.Acquisitions, 0);
        CHECK_STATUS(A35Acquire(Anonymous), STATUS_SUCCESS);
        CHECK_STATUS(WdkmKMutexRelease(Anonymous), STATUS_SUCCESS);
        CHECK_STATUS(WdkmDiagQueryLockStatistics(Anonymous, &Figures), STATUS_SUCCESS);
        CHECK(strstr(Figures.Name, Expected) != NULL);
        CHECK_EQ(Figures.Acquisitions, 1);
        CHECK_STATUS(WdkmKMutexDestroy(Anonymous), STATUS_SUCCESS);
    }
    for (Attempt = 0; Attempt < 8 && !SameAddress; Attempt += 1) {
        CHECK_STATUS(WdkmKMutexCreate(&Initial, sizeof(Initial), &Anonymous), STATUS_SUCCESS);
        CHECK_STATUS(A35Nest(Anonymous, Keeper), STATUS_SUCCESS);
        CHECK_STATUS(WdkmKMutexDestroy(Anonymous), STATUS_SUCCESS);
        CHECK_STATUS(WdkmKMutexCreate(&Initial, sizeof(Initial), &Again), STATUS_SUCCESS);
        SameAddress = (Again == Anonymous);
        CHECK_STATUS(A35Nest(Keeper, Again), STATUS_SUCCESS);
        CHECK_EQ(A35OrderViolations(), 0);
        CHECK_STATUS(WdkmKMutexDestroy(Again), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmKMutexDestroy(Keeper), STATUS_SUCCESS);
}


/* ---------------------------------------------------------------------- */
/* Figures read while locks are destroyed and classes recycled             */
/* ---------------------------------------------------------------------- */

#define A35R_ROUNDS 300
#define A35R_TIMES 3

typedef struct _A35R_CONTEXT {
    volatile LONG Done;
    volatile LONG Failed;
} A35R_CONTEXT;

/* Workers 0 and 1 make locks of the stable class, use them and destroy
   them; worker 2 names a new class per round, past the table. */
static VOID
A35RWorker(PVOID Context, ULONG Index)
{
    A35R_CONTEXT *Race = (A35R_CONTEXT *)Context;
    ULONG Round, Time;

    for (Round = 0; Round < A35R_ROUNDS * (Index == 2 ? 3 : 1); Round += 1) {
        CHAR Name[WDKM_DIAG_NAME_LENGTH];
        PWDKM_KMUTEX Mutex;

        if (Index == 2) {
            A35UniqueName("a35.race.churn", Name, sizeof(Name));
        } else {
            (VOID)snprintf(Name, sizeof(Name), "a35.race.stable");
        }
        Mutex = A35Named(Name);
        if (Mutex == NULL) {
            __atomic_add_fetch(&Race->Failed, 1, __ATOMIC_SEQ_CST);
            break;
        }
        for (Time = 0; Time < A35R_TIMES; Time += 1) {
            if (A35Acquire(Mutex) != STATUS_SUCCESS || WdkmKMutexRelease(Mutex) != STATUS_SUCCESS) {
                __atomic_add_fetch(&Race->Failed, 1, __ATOMIC_SEQ_CST);
            }
        }
        if (WdkmKMutexDestroy(Mutex) != STATUS_SUCCESS) {
            __atomic_add_fetch(&Race->Failed, 1, __ATOMIC_SEQ_CST);
        }
    }
    __atomic_add_fetch(&Race->Done, 1, __ATOMIC_SEQ_CST);
}

static VOID
A35RWorkerThread(PVOID Context, ULONG Index)
{
    UNREFERENCED_PARAMETER(Index);
    A35RWorker(((PVOID *)Context)[0], (ULONG)(ULONG_PTR)((PVOID *)Context)[1]);
}

static WDKM_DIAG_STATISTICS A35RListed[A35_CLASSES + 8];
static A35R_CONTEXT A35RRace;
static PVOID A35RContexts[3][2];

/* One read of every class's figures while the workers run: NULL if it
   holds, else what did not. */
static PCSTR
A35RRead(PWDKM_KMUTEX Keeper, ULONG64 *Last)
{
    WDKM_DIAG_STATISTICS Figures;
    ULONG Count = 0, Index;
    BOOLEAN Found = FALSE;

    if (WdkmDiagQueryStatistics(A35RListed, A35_CLASSES + 8, &Count, FALSE) != STATUS_SUCCESS) {
        return "QueryStatistics failed";
    }
    if (Count > A35_CLASSES) {
        return "more classes than the table has";
    }
    for (Index = 0; Index < Count; Index += 1) {
        const WDKM_DIAG_STATISTICS *Row = &A35RListed[Index];

        if (strcmp(Row->Name, "a35.race.stable") == 0) {
            if (Found) {
                return "the stable class listed twice";
            }
            Found = TRUE;
            if (Row->Acquisitions < *Last) {
                return "the stable class's acquisitions went down";
            }
            *Last = Row->Acquisitions;
            if (Row->Locks < 1 || Row->Locks > 3) {
                return "the stable class's lock count";
            }
        } else if (strncmp(Row->Name, "a35.race.churn.", 15) == 0) {
            if (strlen(Row->Name) != 21 || Row->Locks > 1 || Row->Acquisitions > A35R_TIMES) {
                return "a churned class's row";
            }
        }
    }
    if (!Found) {
        return "the stable class is not listed";
    }
    if (WdkmDiagQueryLockStatistics(Keeper, &Figures) != STATUS_SUCCESS ||
        strcmp(Figures.Name, "a35.race.stable") != 0) {
        return "the keeper's class";
    }
    return NULL;
}

/* A class's figures include those of its destroyed locks: read while its
   locks come and go and other classes are recycled, they never go down,
   and a class's name is never torn or another's. */
static VOID
TestFiguresWhileClassesChurn(VOID)
{
    WDKM_TEST_THREAD *Threads[3];
    PWDKM_KMUTEX Keeper;
    ULONG64 Last = 0;
    ULONG Index, Reads = 0, Started = 0;
    PCSTR Broken = NULL;

    A35Start();
    Keeper = A35Named("a35.race.stable");     /* the stable class stays */
    CHECK(Keeper != NULL);
    CHECK_STATUS(A35Acquire(Keeper), STATUS_SUCCESS);   /* acquired: listed from now on */
    CHECK_STATUS(WdkmKMutexRelease(Keeper), STATUS_SUCCESS);
    A35RRace.Done = 0;
    A35RRace.Failed = 0;
    for (Index = 0; Index < 3; Index += 1) {
        A35RContexts[Index][0] = &A35RRace;
        A35RContexts[Index][1] = (PVOID)(ULONG_PTR)Index;
        Threads[Index] = WdkmTestStartThread(A35RWorkerThread, A35RContexts[Index]);
        Started += Threads[Index] != NULL;
    }
    while ((LONG)Started == 3 &&
           (__atomic_load_n(&A35RRace.Done, __ATOMIC_SEQ_CST) < 3 || Reads < 2)) {
        PCSTR Now = A35RRead(Keeper, &Last);

        Broken = Broken != NULL ? Broken : Now;
        Reads += 1;
    }
    for (Index = 0; Index < 3; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    CHECK_EQ(Started, 3);
    if (Broken != NULL) {
        WdkmTestFail(__FILE__, __LINE__, "after %lu reads: %s", (unsigned long)Reads, Broken);
        (VOID)WdkmKMutexDestroy(Keeper);
        return;
    }
    CHECK_EQ(A35RRace.Failed, 0);
    CHECK(A35RRead(Keeper, &Last) == NULL);
    CHECK_EQ(Last, 2 * A35R_ROUNDS * A35R_TIMES + 1);
    CHECK_STATUS(WdkmKMutexDestroy(Keeper), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* DPCs and APCs injected into a thread that records orders and churns    */
/* ---------------------------------------------------------------------- */

typedef struct _A35I_STATE {
    PWDKM_SPIN_LOCK DpcFirst, DpcSecond;
    PWDKM_KMUTEX ApcFirst[2], ApcSecond[2];   /* [0] special APCs, [1] normal ones */
    volatile LONG Wrong;              /* bits: what an event did not expect */
    volatile LONG DpcRuns, ApcRuns;
} A35I_STATE;

static A35I_STATE A35I;

static VOID
A35IWrong(LONG Bit)
{
    __atomic_or_fetch(&A35I.Wrong, Bit, __ATOMIC_SEQ_CST);
}

/* A DPC holds nothing of its own when it starts, whatever the thread below
   is doing (the middle of a push included), and takes two spin locks in
   its one order; an APC takes two mutexes in theirs, above the thread's
   holds (a special APC may land on a normal one: their mutexes differ, a
   special APC's recursion on the normal one's hold is another matter).
   None leaves anything behind. */
static VOID
A35IRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A35_VALUE *Value;
    ULONG Which = Kind == WdkmHostInterruptNormalApc ? 1 : 0;

    UNREFERENCED_PARAMETER(Random);
    UNREFERENCED_PARAMETER(Context);
    if (Kind == WdkmHostInterruptDpc) {
        KIRQL First, Second;

        if (WdkmDiagCheckNoneHeld("a35 dpc start") != STATUS_SUCCESS) {
            A35IWrong(0x1);
        }
        if (WDKM_SPIN_LOCK_ACQUIRE(A35I.DpcFirst, &First, &Value) == STATUS_SUCCESS) {
            if (WDKM_SPIN_LOCK_ACQUIRE(A35I.DpcSecond, &Second, &Value) == STATUS_SUCCESS) {
                (VOID)WdkmSpinLockRelease(A35I.DpcSecond, Second);
            } else {
                A35IWrong(0x2);
            }
            (VOID)WdkmSpinLockRelease(A35I.DpcFirst, First);
        } else {
            A35IWrong(0x4);
        }
        if (WdkmDiagCheckNoneHeld("a35 dpc end") != STATUS_SUCCESS) {
            A35IWrong(0x8);
        }
        __atomic_add_fetch(&A35I.DpcRuns, 1, __ATOMIC_SEQ_CST);
        return;
    }
    if (WDKM_KMUTEX_ACQUIRE(A35I.ApcFirst[Which], &Value) == STATUS_SUCCESS) {
        if (!WdkmDiagIsHeld(A35I.ApcFirst[Which])) {
            A35IWrong(0x10);
        }
        if (WDKM_KMUTEX_ACQUIRE(A35I.ApcSecond[Which], &Value) == STATUS_SUCCESS) {
            (VOID)WdkmKMutexRelease(A35I.ApcSecond[Which]);
        } else {
            A35IWrong(0x20);
        }
        (VOID)WdkmKMutexRelease(A35I.ApcFirst[Which]);
        if (WdkmDiagIsHeld(A35I.ApcFirst[Which])) {
            A35IWrong(0x40);
        }
    } else {
        A35IWrong(0x80);
    }
    __atomic_add_fetch(&A35I.ApcRuns, 1, __ATOMIC_SEQ_CST);
}

/* The thread nests A before B before a per-round class (recycled past the
   table) while DPCs and APCs land anywhere in it: no violation, no
   assertion, nothing left held, every class with a live lock kept - the
   order A before B is still there at the end (B then A is reported). */
static VOID
TestInterruptsWhileChurning(VOID)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings, Saved;
    BOOLEAN WasActive = WdkmHostInterruptsActive(&Saved);
    A35_VALUE Initial = { 0 };
    PWDKM_KMUTEX A, B;
    WDKM_DIAG_SUMMARY Summary;
    A35_VALUE *Value;
    LONGLONG Deadline;
    ULONG Rounds = 0;
    BOOLEAN Broken = FALSE;

    A35Start();
    RtlZeroMemory(&A35I, sizeof(A35I));
    A = A35Named("a35.irq.a");
    B = A35Named("a35.irq.b");
    A35I.ApcFirst[0] = A35Named("a35.irq.apc.first");
    A35I.ApcSecond[0] = A35Named("a35.irq.apc.second");
    A35I.ApcFirst[1] = A35Named("a35.irq.napc.first");
    A35I.ApcSecond[1] = A35Named("a35.irq.napc.second");
    CHECK(A != NULL && B != NULL && A35I.ApcFirst[0] != NULL && A35I.ApcSecond[0] != NULL &&
          A35I.ApcFirst[1] != NULL && A35I.ApcSecond[1] != NULL);
    CHECK_STATUS(WdkmSpinLockCreate(&Initial, sizeof(Initial), &A35I.DpcFirst), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockCreate(&Initial, sizeof(Initial), &A35I.DpcSecond), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(A35I.DpcFirst, "a35.irq.dpc.first"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmDiagSetClassName(A35I.DpcSecond, "a35.irq.dpc.second"), STATUS_SUCCESS);

    RtlZeroMemory(&Settings, sizeof(Settings));
    Settings.Seed = 35;
    Settings.MeanIntervalMicroseconds = 40;
    Settings.DpcWeight = 2;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 2;
    Settings.SuspendMaxMicroseconds = 20;
    Settings.Routine = A35IRoutine;
    WdkmHostInterruptsStart(&Settings);
    Deadline = WdkmTestNowMs() + 10000;
    while (!Broken && (__atomic_load_n(&A35I.DpcRuns, __ATOMIC_SEQ_CST) < 300 ||
                       __atomic_load_n(&A35I.ApcRuns, __ATOMIC_SEQ_CST) < 300 || Rounds < 400) &&
           WdkmTestNowMs() < Deadline) {
        CHAR Name[WDKM_DIAG_NAME_LENGTH];
        PWDKM_KMUTEX Handle;

        A35UniqueName("a35.irq.handle", Name, sizeof(Name));
        Handle = A35Named(Name);
        Broken = Handle == NULL;
        if (Broken) {
            break;
        }
        Broken = WDKM_KMUTEX_ACQUIRE(A, &Value) != STATUS_SUCCESS;
        if (!Broken) {
            Broken = WDKM_KMUTEX_ACQUIRE(B, &Value) != STATUS_SUCCESS;
            if (!Broken) {
                WDKM_ASSERT_HELD(A);
                WDKM_ASSERT_HELD(B);
                Broken = WDKM_KMUTEX_ACQUIRE(Handle, &Value) != STATUS_SUCCESS;
                if (!Broken) {
                    WDKM_ASSERT_HELD(Handle);
                    (VOID)WdkmKMutexRelease(Handle);
                }
                (VOID)WdkmKMutexRelease(B);
            }
            (VOID)WdkmKMutexRelease(A);
        }
        Broken = Broken || WdkmKMutexDestroy(Handle) != STATUS_SUCCESS ||
                 WdkmDiagCheckNoneHeld("a35 round end") != STATUS_SUCCESS;
        Rounds += 1;
    }
    WdkmHostInterruptsStop();
    if (WasActive) {
        WdkmHostInterruptsStart(&Saved);
    }
    CHECK(!Broken);
    CHECK(A35I.DpcRuns >= 300 && A35I.ApcRuns >= 300);   /* else the deadline ended it */
    CHECK_EQ(A35I.Wrong, 0);
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.OrderViolations, 0);
    CHECK_EQ(Summary.ContextViolations, 0);
    CHECK_EQ(Summary.AssertFailures, 0);
    CHECK_EQ(Summary.HeldLocks, 0);
    CHECK_EQ(Summary.Untracked, 0);
    CHECK(Rounds > A35_CLASSES);                       /* the table was churned through */
    CHECK_STATUS(A35Nest(B, A), STATUS_SUCCESS);
    CHECK_EQ(A35OrderViolations(), 1);
    CHECK_STATUS(A35Nest(A35I.ApcSecond[0], A35I.ApcFirst[0]), STATUS_SUCCESS);
    CHECK_EQ(A35OrderViolations(), 2);                 /* the APCs' order was kept too */
    CHECK_STATUS(WdkmKMutexDestroy(A), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(B), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(A35I.ApcFirst[0]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(A35I.ApcSecond[0]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(A35I.ApcFirst[1]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexDestroy(A35I.ApcSecond[1]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(A35I.DpcFirst), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(A35I.DpcSecond), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* A seeded model of lock order under class churn                          */
/* ---------------------------------------------------------------------- */

/*
 * What diagnostics.md promises, written as a model: classes live in a table
 * of 256; a new class in a full table takes the place of the class no live
 * lock is in that a lock joined or left least recently, whose orders (and
 * report flags, and figures) go with it. An acquisition that waits, made
 * while the frame holds classes H, closes the order h -> C for each h in H
 * (h != C) not yet recorded from which C reaches h through recorded orders.
 * WDKM_DIAG_REPORT: each closing order counts and is recorded; WDKM_DIAG_
 * REFUSE: refused (STATUS_POSSIBLE_DEADLOCK), counted once, nothing
 * recorded. Each closing order is kept (and printed) once. A DPC's frame
 * holds its own locks only; an APC's sits above the thread's holds.
 * One thread (deterministic): the thread itself, DPCs modelled by raising
 * the IRQL and injected for real, special kernel APCs injected.
 */

#define A35M_NAMES 700
#define A35M_LOCKS 24
#define A35M_SPINS 8                  /* slots [0, A35M_SPINS) are spin locks */
#define A35M_HELD 6
#define A35M_NONE 0xFFFFFFFFUL

typedef struct _A35M_CLASS {          /* a model slot holding one class instance */
    BOOLEAN Present;
    ULONG Name;                       /* index into A35M.Names */
    ULONG Live;
    ULONG64 Stamp;
    ULONG64 Acquisitions;
    WDKM_LOCK_KIND Kind;
} A35M_CLASS;

typedef struct _A35M_LOCK {
    PVOID Handle;                     /* PWDKM_KMUTEX or PWDKM_SPIN_LOCK; NULL: free */
    ULONG Class;                      /* model slot */
    BOOLEAN Held;
} A35M_LOCK;

typedef struct _A35M_STATE {
    ULONG64 Random;
    ULONG64 Clock;
    CHAR Names[A35M_NAMES + 2][WDKM_DIAG_NAME_LENGTH];   /* + the two site classes */
    ULONG NameClass[A35M_NAMES + 2];  /* model slot of the name's class, or NONE */
    A35M_CLASS Classes[A35_CLASSES];
    BOOLEAN Edge[A35_CLASSES][A35_CLASSES];
    BOOLEAN Reported[A35_CLASSES][A35_CLASSES];
    A35M_LOCK Locks[A35M_LOCKS];
    ULONG Held[A35M_HELD * 2];        /* the thread's frame: lock slots, in order */
    ULONG HeldCount;
    BOOLEAN Refuse;
    ULONG OrderViolations;
    ULONG KeptCount;
    CHAR KeptHeld[16][WDKM_DIAG_NAME_LENGTH];
    CHAR KeptAcquiring[16][WDKM_DIAG_NAME_LENGTH];
    PWDKM_KMUTEX MutexKeeper;         /* keep the two site classes live */
    PWDKM_SPIN_LOCK SpinKeeper;
    CHAR Failure[256];
} A35M_STATE;

static A35M_STATE A35M;
static ULONG A35MEvictions, A35MClosings, A35MPlans;   /* over all seeds: the model did work */

static ULONG
A35MRandom(ULONG Bound)
{
    A35M.Random ^= A35M.Random << 13;
    A35M.Random ^= A35M.Random >> 7;
    A35M.Random ^= A35M.Random << 17;
    return (ULONG)(A35M.Random % Bound);
}

static BOOLEAN
A35MFail(PCSTR What, ULONG64 Actual, ULONG64 Expected)
{
    if (A35M.Failure[0] == '\0') {
        (VOID)snprintf(A35M.Failure, sizeof(A35M.Failure), "%s: %llu, model %llu", What,
                       (unsigned long long)Actual, (unsigned long long)Expected);
    }
    return FALSE;
}

static VOID
A35MForget(ULONG Slot)
{
    ULONG Other;

    for (Other = 0; Other < A35_CLASSES; Other += 1) {
        A35M.Edge[Slot][Other] = A35M.Edge[Other][Slot] = FALSE;
        A35M.Reported[Slot][Other] = A35M.Reported[Other][Slot] = FALSE;
    }
    A35M.NameClass[A35M.Classes[Slot].Name] = A35M_NONE;
    RtlZeroMemory(&A35M.Classes[Slot], sizeof(A35M.Classes[Slot]));
}

/* The model slot of Name's class, made (recycling) when it has none;
   NONE when the table is full of live classes. */
static ULONG
A35MClassOf(ULONG Name, WDKM_LOCK_KIND Kind)
{
    ULONG Slot, Victim = A35M_NONE;

    if (A35M.NameClass[Name] != A35M_NONE) {
        return A35M.NameClass[Name];
    }
    for (Slot = 0; Slot < A35_CLASSES; Slot += 1) {
        if (!A35M.Classes[Slot].Present) {
            Victim = Slot;
            break;
        }
        if (A35M.Classes[Slot].Live == 0 &&
            (Victim == A35M_NONE || A35M.Classes[Slot].Stamp < A35M.Classes[Victim].Stamp)) {
            Victim = Slot;
        }
    }
    if (Victim == A35M_NONE) {
        return A35M_NONE;
    }
    if (A35M.Classes[Victim].Present) {
        A35MForget(Victim);
        A35MEvictions += 1;
    }
    A35M.Classes[Victim].Present = TRUE;
    A35M.Classes[Victim].Name = Name;
    A35M.Classes[Victim].Kind = Kind;
    A35M.NameClass[Name] = Victim;
    return Victim;
}

static VOID
A35MJoin(ULONG Slot)
{
    A35M.Classes[Slot].Live += 1;
    A35M.Classes[Slot].Stamp = ++A35M.Clock;
}

static VOID
A35MLeave(ULONG Slot)
{
    A35M.Classes[Slot].Live -= 1;
    A35M.Classes[Slot].Stamp = ++A35M.Clock;
}

static BOOLEAN
A35MReaches(ULONG From, ULONG To)
{
    static BOOLEAN Seen[A35_CLASSES];
    static ULONG Stack[A35_CLASSES];
    ULONG Depth = 0, Node, Next;

    RtlZeroMemory(Seen, sizeof(Seen));
    Stack[Depth++] = From;
    Seen[From] = TRUE;
    while (Depth > 0) {
        Node = Stack[--Depth];
        if (Node == To) {
            return TRUE;
        }
        for (Next = 0; Next < A35_CLASSES; Next += 1) {
            if (A35M.Edge[Node][Next] && !Seen[Next]) {
                Seen[Next] = TRUE;
                Stack[Depth++] = Next;
            }
        }
    }
    return FALSE;
}

/* What the model expects of a waiting acquisition of class Class by a
   frame holding the lock slots Frame[0..Count): STATUS_SUCCESS or
   STATUS_POSSIBLE_DEADLOCK; updates the orders and counts. */
static NTSTATUS
A35MAcquireModel(const ULONG *Frame, ULONG Count, ULONG Class)
{
    ULONG Closing[A35M_HELD * 2], Holders[A35M_HELD * 2];
    ULONG ClosingCount = 0, HolderCount = 0, Index, Other;

    for (Index = 0; Index < Count; Index += 1) {
        ULONG Held = A35M.Locks[Frame[Index]].Class;
        BOOLEAN Seen = FALSE;

        if (Held == Class) {
            continue;
        }
        for (Other = 0; Other < HolderCount; Other += 1) {
            Seen = Seen || Holders[Other] == Held;
        }
        if (Seen) {
            continue;
        }
        Holders[HolderCount++] = Held;
        if (!A35M.Edge[Held][Class] && A35MReaches(Class, Held)) {
            Closing[ClosingCount++] = Held;
        }
    }
    A35MClosings += ClosingCount;
    for (Index = 0; Index < ClosingCount; Index += 1) {
        ULONG Held = Closing[Index];

        if (!A35M.Reported[Held][Class]) {
            A35M.Reported[Held][Class] = TRUE;
            if (A35M.KeptCount < 16) {
                memcpy(A35M.KeptHeld[A35M.KeptCount], A35M.Names[A35M.Classes[Held].Name],
                       WDKM_DIAG_NAME_LENGTH);
                memcpy(A35M.KeptAcquiring[A35M.KeptCount],
                       A35M.Names[A35M.Classes[Class].Name], WDKM_DIAG_NAME_LENGTH);
            }
            A35M.KeptCount += 1;
        }
    }
    if (A35M.Refuse && ClosingCount > 0) {
        A35M.OrderViolations += 1;
        return STATUS_POSSIBLE_DEADLOCK;
    }
    A35M.OrderViolations += ClosingCount;
    for (Index = 0; Index < HolderCount; Index += 1) {
        A35M.Edge[Holders[Index]][Class] = TRUE;
    }
    A35M.Classes[Class].Acquisitions += 1;
    return STATUS_SUCCESS;
}

/* ---- the library side ---- */

static NTSTATUS
A35MAcquireLock(ULONG LockSlot, PKIRQL OldIrql)
{
    A35_VALUE *Value;

    if (LockSlot < A35M_SPINS) {
        return WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)A35M.Locks[LockSlot].Handle,
                                   sizeof(A35_VALUE), OldIrql, (PVOID *)&Value);
    }
    *OldIrql = PASSIVE_LEVEL;
    return WdkmKMutexAcquire((PWDKM_KMUTEX)A35M.Locks[LockSlot].Handle, sizeof(A35_VALUE),
                             (PVOID *)&Value);
}

static NTSTATUS
A35MReleaseLock(ULONG LockSlot, KIRQL OldIrql)
{
    if (LockSlot < A35M_SPINS) {
        return WdkmSpinLockRelease((PWDKM_SPIN_LOCK)A35M.Locks[LockSlot].Handle, OldIrql);
    }
    return WdkmKMutexRelease((PWDKM_KMUTEX)A35M.Locks[LockSlot].Handle);
}

/* A plan run by a DPC or an APC (or by the thread with its IRQL raised):
   acquire the slots in order, noting each status and the violations
   counted after it, then release what was acquired. No libc: it may run
   in the emulation's signal handler. */
typedef struct _A35M_PLAN {
    ULONG Count;
    ULONG Slots[3];
    NTSTATUS Status[3];
    ULONG Violations[3];
    BOOLEAN Ran;
} A35M_PLAN;

static VOID
A35MRunPlan(A35M_PLAN *Plan)
{
    KIRQL OldIrql[3];
    ULONG Index;

    for (Index = 0; Index < Plan->Count; Index += 1) {
        WDKM_DIAG_SUMMARY Summary;

        Plan->Status[Index] = A35MAcquireLock(Plan->Slots[Index], &OldIrql[Index]);
        Plan->Violations[Index] =
            WdkmDiagQuerySummary(&Summary) == STATUS_SUCCESS ? Summary.OrderViolations : 0xFFFFFFFFUL;
    }
    for (Index = Plan->Count; Index > 0; Index -= 1) {
        if (Plan->Status[Index - 1] == STATUS_SUCCESS) {
            (VOID)A35MReleaseLock(Plan->Slots[Index - 1], OldIrql[Index - 1]);
        }
    }
    Plan->Ran = TRUE;
}

static VOID
A35MPlanRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    A35MRunPlan((A35M_PLAN *)Context);
}

static BOOLEAN
A35MCheckViolations(VOID)
{
    WDKM_DIAG_VIOLATION Kept[16];
    ULONG Count = 0, Index;

    if (A35OrderViolations() != A35M.OrderViolations) {
        return A35MFail("OrderViolations", A35OrderViolations(), A35M.OrderViolations);
    }
    if (WdkmDiagQueryViolations(Kept, 16, &Count) != STATUS_SUCCESS) {
        return A35MFail("QueryViolations failed", 0, 0);
    }
    if (Count != A35M.KeptCount) {
        return A35MFail("violations kept", Count, A35M.KeptCount);
    }
    for (Index = 0; Index < Count && Index < 16; Index += 1) {
        if (Kept[Index].Type != WdkmDiagLockOrder ||
            strcmp(Kept[Index].Held, A35M.KeptHeld[Index]) != 0 ||
            strcmp(Kept[Index].Acquiring, A35M.KeptAcquiring[Index]) != 0) {
            (VOID)snprintf(A35M.Failure, sizeof(A35M.Failure),
                           "kept violation %lu: %s -> %s, model %s -> %s", (unsigned long)Index,
                           Kept[Index].Held, Kept[Index].Acquiring, A35M.KeptHeld[Index],
                           A35M.KeptAcquiring[Index]);
            return FALSE;
        }
    }
    return TRUE;
}

/* Compares each step of a plan the library ran with the model, given the
   frame the plan's acquisitions were made above. */
static BOOLEAN
A35MCheckPlan(const A35M_PLAN *Plan, const ULONG *Below, ULONG BelowCount)
{
    ULONG Frame[A35M_HELD * 2];
    ULONG Count = BelowCount, Index;

    if (BelowCount > 0) {
        memcpy(Frame, Below, BelowCount * sizeof(ULONG));
    }
    if (!Plan->Ran) {
        return A35MFail("plan did not run", 0, 1);
    }
    A35MPlans += Plan->Count > 0;
    for (Index = 0; Index < Plan->Count; Index += 1) {
        NTSTATUS Expected = A35MAcquireModel(Frame, Count, A35M.Locks[Plan->Slots[Index]].Class);

        if (Plan->Status[Index] != Expected) {
            return A35MFail("plan acquisition status", (ULONG)Plan->Status[Index], (ULONG)Expected);
        }
        if (Plan->Violations[Index] != A35M.OrderViolations) {
            return A35MFail("OrderViolations in plan", Plan->Violations[Index],
                            A35M.OrderViolations);
        }
        if (Expected == STATUS_SUCCESS) {
            Frame[Count++] = Plan->Slots[Index];
        }
    }
    return A35MCheckViolations();
}

/* Statistics: every class of the model's that has been acquired is listed
   with its figures; no class of this run that the model forgot is. */
static BOOLEAN
A35MCheckStatistics(PCSTR Prefix)
{
    static WDKM_DIAG_STATISTICS Listed[A35_CLASSES + 8];
    ULONG Count = 0, Index, Slot, Found;
    SIZE_T PrefixLength = strlen(Prefix);

    if (WdkmDiagQueryStatistics(Listed, A35_CLASSES + 8, &Count, FALSE) != STATUS_SUCCESS) {
        return A35MFail("QueryStatistics failed", Count, 0);
    }
    if (Count > A35_CLASSES) {
        return A35MFail("classes listed", Count, A35_CLASSES);
    }
    for (Index = 0; Index < Count; Index += 1) {
        if (strncmp(Listed[Index].Name, Prefix, PrefixLength) != 0) {
            continue;
        }
        Found = A35M_NONE;
        for (Slot = 0; Slot < A35_CLASSES; Slot += 1) {
            if (A35M.Classes[Slot].Present &&
                strcmp(A35M.Names[A35M.Classes[Slot].Name], Listed[Index].Name) == 0) {
                Found = Slot;
            }
        }
        if (Found == A35M_NONE) {
            (VOID)snprintf(A35M.Failure, sizeof(A35M.Failure), "listed class %.47s was recycled",
                           Listed[Index].Name);
            return FALSE;
        }
        if (Listed[Index].Acquisitions != A35M.Classes[Found].Acquisitions) {
            (VOID)snprintf(A35M.Failure, sizeof(A35M.Failure),
                           "class %.47s acquired %llu times, model %llu", Listed[Index].Name,
                           (unsigned long long)Listed[Index].Acquisitions,
                           (unsigned long long)A35M.Classes[Found].Acquisitions);
            return FALSE;
        }
        if (Listed[Index].Locks != A35M.Classes[Found].Live ||
            Listed[Index].Kind != A35M.Classes[Found].Kind) {
            (VOID)snprintf(A35M.Failure, sizeof(A35M.Failure),
                           "class %.47s (slot %lu): %lu locks kind %d, model %lu kind %d", Listed[Index].Name, (unsigned long)Found,
                           (unsigned long)Listed[Index].Locks, (int)Listed[Index].Kind,
                           (unsigned long)A35M.Classes[Found].Live,
                           (int)A35M.Classes[Found].Kind);
            return FALSE;
        }
    }
    for (Slot = 0; Slot < A35_CLASSES; Slot += 1) {
        if (!A35M.Classes[Slot].Present || A35M.Classes[Slot].Acquisitions == 0 ||
            A35M.Classes[Slot].Name >= A35M_NAMES) {
            continue;
        }
        Found = 0;
        for (Index = 0; Index < Count; Index += 1) {
            Found += strcmp(Listed[Index].Name, A35M.Names[A35M.Classes[Slot].Name]) == 0;
        }
        if (Found != 1) {
            (VOID)snprintf(A35M.Failure, sizeof(A35M.Failure), "class %s listed %lu times",
                           A35M.Names[A35M.Classes[Slot].Name], (unsigned long)Found);
            return FALSE;
        }
    }
    return TRUE;
}

/* Creates a lock of slot LockSlot's kind at its kind's one site, in the
   site's class. */
static PVOID
A35MCreateAtSite(ULONG LockSlot)
{
    A35_VALUE Initial = { 0 };
    ULONG Site = LockSlot < A35M_SPINS ? A35M_NAMES + 1 : A35M_NAMES;
    ULONG Class;
    PVOID Handle = NULL;
    NTSTATUS Status;

    if (LockSlot < A35M_SPINS) {
        PWDKM_SPIN_LOCK SpinLock = NULL;

        Status = WDKM_SPIN_LOCK_CREATE(&Initial, &SpinLock);
        Handle = SpinLock;
    } else {
        PWDKM_KMUTEX Mutex = NULL;

        Status = WDKM_KMUTEX_CREATE(&Initial, &Mutex);
        Handle = Mutex;
    }
    if (Status != STATUS_SUCCESS) {
        (VOID)A35MFail("create", (ULONG)Status, 0);
        return NULL;
    }
    Class = A35MClassOf(Site, LockSlot < A35M_SPINS ? WdkmLockKindSpinLock : WdkmLockKindKMutex);
    A35MJoin(Class);
    return Handle;
}

/* WdkmDiagSetClassName(Lock, Names[Name]) answered Status, Lock not held:
   the model moves the lock to Name's class, unless the class table is
   full (FullWhat and What name the step in a failure). */
static BOOLEAN
A35MRenamed(ULONG LockSlot, ULONG Name, NTSTATUS Status, PCSTR FullWhat, PCSTR What)
{
    A35M_LOCK *Lock = &A35M.Locks[LockSlot];
    ULONG Class = A35MClassOf(Name, LockSlot < A35M_SPINS ? WdkmLockKindSpinLock
                                                          : WdkmLockKindKMutex);

    if (Class == A35M_NONE) {
        return Status == STATUS_INSUFFICIENT_RESOURCES ||
               A35MFail(FullWhat, (ULONG)Status, STATUS_INSUFFICIENT_RESOURCES);
    }
    if (Status != STATUS_SUCCESS) {
        return A35MFail(What, (ULONG)Status, STATUS_SUCCESS);
    }
    A35MLeave(Lock->Class);
    A35MJoin(Class);
    Lock->Class = Class;
    return TRUE;
}

/* Creates the lock of slot LockSlot at its kind's site, then names it. */
static BOOLEAN
A35MCreate(ULONG LockSlot, ULONG Name)
{
    A35M_LOCK *Lock = &A35M.Locks[LockSlot];
    NTSTATUS Status;

    Lock->Handle = A35MCreateAtSite(LockSlot);
    if (Lock->Handle == NULL) {
        return FALSE;
    }
    Lock->Class = A35M.NameClass[LockSlot < A35M_SPINS ? A35M_NAMES + 1 : A35M_NAMES];
    Lock->Held = FALSE;
    Status = WdkmDiagSetClassName(Lock->Handle, A35M.Names[Name]);
    return A35MRenamed(LockSlot, Name, Status, "rename into a full table", "SetClassName");
}

static BOOLEAN
A35MDestroy(ULONG LockSlot)
{
    A35M_LOCK *Lock = &A35M.Locks[LockSlot];
    NTSTATUS Status = LockSlot < A35M_SPINS
                          ? WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Lock->Handle)
                          : WdkmKMutexDestroy((PWDKM_KMUTEX)Lock->Handle);

    if (Status != STATUS_SUCCESS) {
        return A35MFail("destroy", (ULONG)Status, 0);
    }
    A35MLeave(Lock->Class);
    Lock->Handle = NULL;
    return TRUE;
}

static BOOLEAN
A35MHasHeldSpin(VOID)
{
    return A35M.HeldCount > 0 && A35M.Held[A35M.HeldCount - 1] < A35M_SPINS;
}

/* A random live lock not held, of the wanted kinds; NONE if there is none. */
static ULONG
A35MPickFree(BOOLEAN Spin, BOOLEAN Mutex, const A35M_PLAN *Taken)
{
    ULONG Start = A35MRandom(A35M_LOCKS), Step, Slot, Index;

    for (Step = 0; Step < A35M_LOCKS; Step += 1) {
        BOOLEAN InPlan = FALSE;

        Slot = (Start + Step) % A35M_LOCKS;
        if (A35M.Locks[Slot].Handle == NULL || A35M.Locks[Slot].Held ||
            (Slot < A35M_SPINS ? !Spin : !Mutex)) {
            continue;
        }
        for (Index = 0; Taken != NULL && Index < Taken->Count; Index += 1) {
            InPlan = InPlan || Taken->Slots[Index] == Slot;
        }
        if (!InPlan) {
            return Slot;
        }
    }
    return A35M_NONE;
}

static KIRQL A35MThreadIrql[A35M_HELD * 2];

static BOOLEAN
A35MStep(VOID)
{
    ULONG Choice = A35MRandom(100);

    if (Choice < 15) {                                   /* create and name */
        ULONG Slot = A35MRandom(A35M_LOCKS);

        if (A35M.Locks[Slot].Handle != NULL) {
            return TRUE;
        }
        return A35MCreate(Slot, A35MRandom(A35M_NAMES));
    }
    if (Choice < 25) {                                   /* destroy */
        ULONG Slot = A35MPickFree(TRUE, TRUE, NULL);

        return Slot == A35M_NONE || A35MDestroy(Slot);
    }
    if (Choice < 42) {                                   /* rename */
        ULONG Slot = A35MRandom(A35M_LOCKS), Name = A35MRandom(A35M_NAMES);
        A35M_LOCK *Lock = &A35M.Locks[Slot];
        NTSTATUS Status;

        if (Lock->Handle == NULL) {
            return TRUE;
        }
        Status = WdkmDiagSetClassName(Lock->Handle, A35M.Names[Name]);
        if (Lock->Held) {
            return Status == STATUS_WDKM_LOCK_HELD ||
                   A35MFail("rename held", (ULONG)Status, STATUS_WDKM_LOCK_HELD);
        }
        return A35MRenamed(Slot, Name, Status, "rename full", "rename");
    }
    if (Choice < 60) {                                   /* the thread acquires */
        ULONG Slot;
        NTSTATUS Status, Expected;

        if (A35M.HeldCount >= A35M_HELD) {
            return TRUE;
        }
        Slot = A35MPickFree(TRUE, !A35MHasHeldSpin(), NULL);
        if (Slot == A35M_NONE) {
            return TRUE;
        }
        if (A35MRandom(4) == 0) {
            /* a try cannot wait: it closes no cycle and records no order of
               its own; what is acquired under it is ordered after it */
            A35_VALUE *Value;

            if (Slot < A35M_SPINS) {
                Status = WdkmSpinLockTryAcquire((PWDKM_SPIN_LOCK)A35M.Locks[Slot].Handle,
                                                sizeof(A35_VALUE), &A35MThreadIrql[A35M.HeldCount],
                                                (PVOID *)&Value);
            } else {
                A35MThreadIrql[A35M.HeldCount] = PASSIVE_LEVEL;
                Status = WdkmKMutexTryAcquire((PWDKM_KMUTEX)A35M.Locks[Slot].Handle,
                                              sizeof(A35_VALUE), (PVOID *)&Value);
            }
            Expected = STATUS_SUCCESS;
            A35M.Classes[A35M.Locks[Slot].Class].Acquisitions += 1;
        } else {
            Status = A35MAcquireLock(Slot, &A35MThreadIrql[A35M.HeldCount]);
            Expected = A35MAcquireModel(A35M.Held, A35M.HeldCount, A35M.Locks[Slot].Class);
        }
        if (Status != Expected) {
            return A35MFail("thread acquisition", (ULONG)Status, (ULONG)Expected);
        }
        if (Status == STATUS_SUCCESS) {
            A35M.Locks[Slot].Held = TRUE;
            A35M.Held[A35M.HeldCount++] = Slot;
        }
        return A35MCheckViolations();
    }
    if (Choice < 77) {                                   /* the thread releases */
        ULONG Index, Slot;

        if (A35M.HeldCount == 0) {
            return TRUE;
        }
        Index = A35MHasHeldSpin() ? A35M.HeldCount - 1 : A35MRandom(A35M.HeldCount);
        Slot = A35M.Held[Index];
        if (A35MReleaseLock(Slot, A35MThreadIrql[Index]) != STATUS_SUCCESS) {
            return A35MFail("release", 0, 0);
        }
        A35M.Locks[Slot].Held = FALSE;
        memmove(&A35M.Held[Index], &A35M.Held[Index + 1],
                (A35M.HeldCount - Index - 1) * sizeof(ULONG));
        memmove(&A35MThreadIrql[Index], &A35MThreadIrql[Index + 1],
                (A35M.HeldCount - Index - 1) * sizeof(KIRQL));
        A35M.HeldCount -= 1;
        return TRUE;
    }
    if (Choice < 90) {                                   /* a DPC or a special APC */
        A35M_PLAN Plan;
        ULONG Form = A35MRandom(3), Index;
        BOOLEAN Dpc = Form < 2;

        if (A35MHasHeldSpin()) {
            return TRUE;                                 /* both masked */
        }
        RtlZeroMemory(&Plan, sizeof(Plan));
        Plan.Count = 1 + A35MRandom(3);
        for (Index = 0; Index < Plan.Count; Index += 1) {
            /* a DPC takes spin locks; an APC mutexes and spin locks (spin last) */
            ULONG Slot = A35MPickFree(TRUE, !Dpc && (Index == 0 || Plan.Slots[Index - 1] >= A35M_SPINS),
                                      &Plan);

            if (Slot == A35M_NONE) {
                break;
            }
            Plan.Slots[Index] = Slot;
        }
        Plan.Count = Index;
        if (Form == 0) {                                 /* a DPC modelled on the thread */
            KIRQL OldIrql;

            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
            A35MRunPlan(&Plan);
            KeLowerIrql(OldIrql);
        } else {
            WdkmHostQueueInterrupt(KeGetCurrentThread(),
                                   Dpc ? WdkmHostInterruptDpc : WdkmHostInterruptSpecialApc,
                                   A35MPlanRoutine, &Plan);
        }
        return Dpc ? A35MCheckPlan(&Plan, NULL, 0) : A35MCheckPlan(&Plan, A35M.Held, A35M.HeldCount);
    }
    if (Choice < 94) {                                   /* statistics */
        return A35MCheckStatistics("a35.m.");
    }
    if (Choice < 98) {                                   /* the policy */
        A35M.Refuse = A35MRandom(2) == 0;
        return WdkmDiagSetPolicy(A35M.Refuse ? WDKM_DIAG_REFUSE : WDKM_DIAG_REPORT) ==
                   STATUS_SUCCESS ||
               A35MFail("SetPolicy", 0, 0);
    }
    if (A35M.HeldCount == 0 && A35MRandom(40) == 0) {   /* WdkmDiagReset */
        ULONG Slot;

        if (WdkmDiagReset() != STATUS_SUCCESS) {
            return A35MFail("Reset", 0, 0);
        }
        RtlZeroMemory(A35M.Edge, sizeof(A35M.Edge));
        RtlZeroMemory(A35M.Reported, sizeof(A35M.Reported));
        for (Slot = 0; Slot < A35_CLASSES; Slot += 1) {
            A35M.Classes[Slot].Acquisitions = 0;
            if (A35M.Classes[Slot].Present && A35M.Classes[Slot].Live == 0) {
                A35MForget(Slot);               /* a class no live lock is in goes */
            }
        }
        A35M.OrderViolations = 0;
        A35M.KeptCount = 0;
    }
    return TRUE;
}

static ULONG A35MRun;

static VOID
A35MRunSeed(ULONG64 Seed, ULONG Steps)
{
    WDKM_DIAG_SUMMARY Summary;
    ULONG Index, Step;
    BOOLEAN Ok = TRUE;

    A35Start();
    CHECK_STATUS(WdkmDiagQuerySummary(&Summary), STATUS_SUCCESS);
    CHECK_EQ(Summary.LiveLocks, 0);             /* no class of another's stays live */
    RtlZeroMemory(&A35M, sizeof(A35M));
    A35M.Random = Seed * 0x9E3779B97F4A7C15ULL + 1;
    A35MRun += 1;
    for (Index = 0; Index < A35M_NAMES; Index += 1) {
        (VOID)snprintf(A35M.Names[Index], WDKM_DIAG_NAME_LENGTH, "a35.m.%lu.%lu",
                       (unsigned long)A35MRun, (unsigned long)Index);
    }
    for (Index = 0; Index < A35M_NAMES + 2; Index += 1) {
        A35M.NameClass[Index] = A35M_NONE;
    }
    (VOID)snprintf(A35M.Names[A35M_NAMES], WDKM_DIAG_NAME_LENGTH, "(kmutex site)");
    (VOID)snprintf(A35M.Names[A35M_NAMES + 1], WDKM_DIAG_NAME_LENGTH, "(spin lock site)");
    /* the keepers: one lock in each site class for the whole run, so that
       a lock's class from its creation to its name is always there */
    A35M.MutexKeeper = (PWDKM_KMUTEX)A35MCreateAtSite(A35M_SPINS);
    A35M.SpinKeeper = (PWDKM_SPIN_LOCK)A35MCreateAtSite(0);
    CHECK(A35M.MutexKeeper != NULL && A35M.SpinKeeper != NULL);
    for (Step = 0; Step < Steps && Ok; Step += 1) {
        Ok = A35MStep();
    }
    while (A35M.HeldCount > 0) {
        Index = A35M.HeldCount - 1;
        (VOID)A35MReleaseLock(A35M.Held[Index], A35MThreadIrql[Index]);
        A35M.Locks[A35M.Held[Index]].Held = FALSE;
        A35M.HeldCount -= 1;
    }
    for (Index = 0; Index < A35M_LOCKS; Index += 1) {
        if (A35M.Locks[Index].Handle != NULL) {
            (VOID)A35MDestroy(Index);
        }
    }
    (VOID)WdkmKMutexDestroy(A35M.MutexKeeper);
    (VOID)WdkmSpinLockDestroy(A35M.SpinKeeper);
    if (!Ok) {
        WdkmTestFail(__FILE__, __LINE__, "seed %llu step %lu: %s", (unsigned long long)Seed,
                     (unsigned long)Step, A35M.Failure);
        return;
    }
}

static VOID
TestSeededOrderModel(VOID)
{
    ULONG64 Seed;

    A35MEvictions = A35MClosings = A35MPlans = 0;
    for (Seed = 1; Seed <= 8; Seed += 1) {
        A35MRunSeed(Seed, 4000);
        if (A35M.Failure[0] != '\0') {
            return;
        }
    }
    /* the churn went past the table, cycles closed, DPCs and APCs ran */
    CHECK(A35MEvictions > 100);
    CHECK(A35MClosings > 20);
    CHECK(A35MPlans > 100);
    printf("    model: %lu classes recycled, %lu closing orders, %lu interrupt plans\n",
           (unsigned long)A35MEvictions, (unsigned long)A35MClosings, (unsigned long)A35MPlans);
}

static const WDKM_TEST_CASE A35Cases[] = {
    { "live_order_survives_churn", TestLiveOrderSurvivesChurn },
    { "recycled_order_is_forgotten", TestRecycledOrderIsForgotten },
    { "recycled_chain_is_forgotten", TestRecycledChainIsForgotten },
    { "report_flag_does_not_pass_on", TestReportFlagDoesNotPassOn },
    { "figures_do_not_pass_on", TestFiguresDoNotPassOn },
    { "site_does_not_pass_on", TestSiteDoesNotPassOn },
    { "forgotten_sites_are_freed", TestForgottenSitesAreFreed },
    { "rename_while_full", TestRenameWhileFull },
    { "naming_into_free_class_keeps_orders", TestNamingIntoFreeClassKeepsOrders },
    { "registry_name_per_handle", TestRegistryNamePerHandle },
    { "anonymous_class_ends_with_lock", TestAnonymousClassEndsWithLock },
    { "figures_while_classes_churn", TestFiguresWhileClassesChurn },
    { "interrupts_while_churning", TestInterruptsWhileChurning },
    { "seeded_order_model", TestSeededOrderModel },
};

const WDKM_TEST_SUITE WdkmAttack35Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack35", A35Cases, A35Cleanup);
