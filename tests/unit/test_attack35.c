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

static const WDKM_TEST_CASE A35Cases[] = {
    { "live_order_survives_churn", TestLiveOrderSurvivesChurn },
    { "recycled_order_is_forgotten", TestRecycledOrderIsForgotten },
    { "recycled_chain_is_forgotten", TestRecycledChainIsForgotten },
    { "report_flag_does_not_pass_on", TestReportFlagDoesNotPassOn },
    { "figures_do_not_pass_on", TestFiguresDoNotPassOn },
    { "site_does_not_pass_on", TestSiteDoesNotPassOn },
    { "forgotten_sites_are_freed", TestForgottenSitesAreFreed },
    { "rename_while_full", TestRenameWhileFull },
    { "anonymous_class_ends_with_lock", TestAnonymousClassEndsWithLock },
};

const WDKM_TEST_SUITE WdkmAttack35Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack35", A35Cases, A35Cleanup);
