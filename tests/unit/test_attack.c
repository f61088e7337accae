/*
 * test_attack.c - attacks written from the documentation alone (README,
 * the pages in docs/, the public headers), by someone who has not read the other
 * suites. Each case asserts what the docs promise. Cases that broke a
 * promise when written stay here disabled, under ATTACK_FINDING_N, with
 * the doc sentence they contradict; the rest run as regression tests.
 */
#include "wdkm_test.h"

#include <string.h>

/* ATTACK_FINDING_7: the host emulation's <wdm.h> lacks two of the statuses
   WdkmStatusForRequest returns, so driver code built for host tests
   cannot name them. */
#ifndef STATUS_DEVICE_NOT_READY
#define STATUS_DEVICE_NOT_READY ((NTSTATUS)0xC00000A3L)
#endif
#ifndef STATUS_INTERNAL_ERROR
#define STATUS_INTERNAL_ERROR ((NTSTATUS)0xC00000E5L)
#endif

/* ---------------------------------------------------------------------- */
/* Cancel-safe queue                                                       */
/* ---------------------------------------------------------------------- */

typedef struct _ATTACK_CSQ_LOG {
    LONG volatile Callbacks;        /* CompleteCanceledIrp calls */
    PIRP volatile LastIrp;
    PWDKM_CSQ volatile LastCsq;
} ATTACK_CSQ_LOG;

static ATTACK_CSQ_LOG CsqLog;

static VOID
AttackCompleteCancelled(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    ATTACK_CSQ_LOG *Log = (ATTACK_CSQ_LOG *)Context;

    __atomic_add_fetch(&Log->Callbacks, 1, __ATOMIC_SEQ_CST);
    Log->LastIrp = Irp;
    Log->LastCsq = Csq;
    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static VOID
DummyCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
}

static PIRP
NewIrp(VOID)
{
    return WdkmHostIrpAllocate(IRP_MJ_DEVICE_CONTROL, 0x222000, NULL);
}

static BOOLEAN
MarkedPending(PIRP Irp)
{
    return (IoGetCurrentIrpStackLocation(Irp)->Control & SL_PENDING_RETURNED) != 0;
}

static ULONG
CsqCount(PWDKM_CSQ Csq)
{
    ULONG Count = 0xFFFFFFFF;

    if (WdkmCsqQueryCount(Csq, &Count) != STATUS_SUCCESS) {
        return 0xFFFFFFFE;
    }
    return Count;
}

/* NULLs everywhere: STATUS_INVALID_PARAMETER, *out NULL, nothing created. */
static VOID
CsqNulls(VOID)
{
    PWDKM_CSQ Csq = (PWDKM_CSQ)(ULONG_PTR)1;
    PIRP Irp = NewIrp();
    PIRP Out = (PIRP)(ULONG_PTR)1;
    WDKM_CSQ_IRP_CONTEXT Context;
    ULONG Count;
    LONG Pool = WdkmTestPoolOutstanding();

    CHECK(Irp != NULL);
    CHECK_STATUS(WdkmCsqCreate(NULL, &CsqLog, &Csq), STATUS_INVALID_PARAMETER);
    CHECK(Csq == NULL);
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, NULL), STATUS_INVALID_PARAMETER);
    CHECK_EQ(WdkmTestPoolOutstanding(), Pool);
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInsertIrp(NULL, Irp, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, NULL, NULL), STATUS_INVALID_PARAMETER);
    CHECK(!MarkedPending(Irp));
    CHECK_STATUS(WdkmCsqRemoveNextIrp(NULL, NULL, NULL, &Out), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqRemoveIrp(NULL, &Context, &Out), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, NULL, &Out), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqQueryCount(NULL, &Count), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqQueryCount(Csq, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqDestroy(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmTestPoolOutstanding(), Pool);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 0);
    WdkmHostIrpFree(Irp);
}

/* A refused insert (pool failure at create, IRQL) changes nothing. */
static VOID
CsqCreateOutOfPool(VOID)
{
    PWDKM_CSQ Csq = (PWDKM_CSQ)(ULONG_PTR)1;
    LONG Pool = WdkmTestPoolOutstanding();

    WdkmHostPoolFailAt(0);
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq),
                 STATUS_INSUFFICIENT_RESOURCES);
    WdkmHostPoolFailAt(-1);
    CHECK(Csq == NULL);
    CHECK_EQ(WdkmTestPoolOutstanding(), Pool);
}

/* Above DISPATCH_LEVEL every call is refused; destroy above PASSIVE too,
   and the queue still works and still holds its IRP afterwards. */
static VOID
CsqWrongIrql(VOID)
{
    PWDKM_CSQ Csq;
    PIRP Irp = NewIrp();
    PIRP Queued = NewIrp();
    PIRP Out = (PIRP)(ULONG_PTR)1;
    WDKM_CSQ_IRP_CONTEXT Context;
    ULONG Count = 77;
    KIRQL OldIrql;
    NTSTATUS Status;

    memset(&CsqLog, 0, sizeof(CsqLog));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Queued, &Context), STATUS_PENDING);

    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Status = WdkmCsqInsertIrp(Csq, Irp, NULL);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(!MarkedPending(Irp));
    CHECK(Irp->CancelRoutine == NULL);

    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Status = WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Out);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(Out == NULL);

    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Status = WdkmCsqRemoveIrp(Csq, &Context, &Out);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);

    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Status = WdkmCsqQueryCount(Csq, &Count);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);

    KeRaiseIrql(APC_LEVEL, &OldIrql);
    Status = WdkmCsqDestroy(Csq);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = WdkmCsqDestroy(Csq);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status, STATUS_WDKM_IRQL_TOO_HIGH);

    /* Nothing changed: the IRP is still queued, inserts still work. */
    CHECK_EQ(CsqCount(Csq), 1);
    CHECK_EQ(CsqLog.Callbacks, 0);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, &Context, &Out), STATUS_SUCCESS);
    CHECK(Out == Queued);
    CHECK(Queued->CancelRoutine == NULL);
    Out->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(Out, IO_NO_INCREMENT);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(CsqLog.Callbacks, 1);
    CHECK(CsqLog.LastIrp == Irp);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Queued), 1);
    WdkmHostIrpFree(Irp);
    WdkmHostIrpFree(Queued);
}

/* Double insert, insert into a second queue, an IRP with a foreign cancel
   routine: STATUS_INVALID_PARAMETER, nothing changed. */
static VOID
CsqDoubleInsert(VOID)
{
    PWDKM_CSQ Csq;
    PWDKM_CSQ Other;
    PIRP Irp = NewIrp();
    PIRP Foreign = NewIrp();
    PIRP Out = NULL;

    memset(&CsqLog, 0, sizeof(CsqLog));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Other), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqInsertIrp(Other, Irp, NULL), STATUS_INVALID_PARAMETER);
    CHECK_EQ(CsqCount(Csq), 1);
    CHECK_EQ(CsqCount(Other), 0);

    (VOID)IoSetCancelRoutine(Foreign, DummyCancel);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Foreign, NULL), STATUS_INVALID_PARAMETER);
    CHECK(!MarkedPending(Foreign));
    CHECK(Foreign->CancelRoutine == DummyCancel);
    (VOID)IoSetCancelRoutine(Foreign, NULL);

    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Out), STATUS_SUCCESS);
    CHECK(Out == Irp);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Out), STATUS_NO_MORE_ENTRIES);
    CHECK(Out == NULL);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqDestroy(Other), STATUS_SUCCESS);
    CHECK_EQ(CsqLog.Callbacks, 0);
    WdkmHostIrpFree(Irp);
    WdkmHostIrpFree(Foreign);
}

/* Remove of an IRP not queued: a context never filled, of another queue,
   or whose IRP already left. */
static VOID
CsqRemoveNotQueued(VOID)
{
    PWDKM_CSQ Csq;
    PWDKM_CSQ Other;
    PIRP Irp = NewIrp();
    PIRP Out = (PIRP)(ULONG_PTR)1;
    WDKM_CSQ_IRP_CONTEXT Never;
    WDKM_CSQ_IRP_CONTEXT Context;

    memset(&CsqLog, 0, sizeof(CsqLog));
    memset(&Never, 0, sizeof(Never));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Other), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, &Never, &Out), STATUS_INVALID_PARAMETER);
    CHECK(Out == NULL);

    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, &Context), STATUS_PENDING);
    Out = (PIRP)(ULONG_PTR)1;
    CHECK_STATUS(WdkmCsqRemoveIrp(Other, &Context, &Out), STATUS_INVALID_PARAMETER);
    CHECK(Out == NULL);
    CHECK_EQ(CsqCount(Csq), 1);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Out), STATUS_SUCCESS);
    CHECK(Out == Irp);
    Out = (PIRP)(ULONG_PTR)1;
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, &Context, &Out), STATUS_NOT_FOUND);
    CHECK(Out == NULL);
    CHECK(Context.Irp == NULL);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqDestroy(Other), STATUS_SUCCESS);
    CHECK_EQ(CsqLog.Callbacks, 0);
    WdkmHostIrpFree(Irp);
}

/* Cancelled before the insert: STATUS_PENDING, and the callback (on the
   inserting thread) completes it; the queue stays empty. */
static VOID
CsqCancelBeforeInsert(VOID)
{
    PWDKM_CSQ Csq;
    PIRP Irp = NewIrp();
    WDKM_CSQ_IRP_CONTEXT Context;
    PIRP Out = (PIRP)(ULONG_PTR)1;

    memset(&CsqLog, 0, sizeof(CsqLog));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK(!IoCancelIrp(Irp));           /* no routine yet: only marked */
    CHECK(Irp->Cancel);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, &Context), STATUS_PENDING);
    CHECK_EQ(CsqLog.Callbacks, 1);
    CHECK(CsqLog.LastCsq == Csq);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    CHECK(Irp->PendingReturned);
    CHECK_EQ(CsqCount(Csq), 0);
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, &Context, &Out), STATUS_NOT_FOUND);
    CHECK(Out == NULL);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(CsqLog.Callbacks, 1);
    WdkmHostIrpFree(Irp);
}

/* DriverContext[0..2] are the driver's: untouched by insert and remove. */
static VOID
CsqDriverContextKept(VOID)
{
    PWDKM_CSQ Csq;
    PIRP Irp = NewIrp();
    PIRP Out = NULL;

    memset(&CsqLog, 0, sizeof(CsqLog));
    Irp->Tail.Overlay.DriverContext[0] = (PVOID)(ULONG_PTR)0x1111;
    Irp->Tail.Overlay.DriverContext[1] = (PVOID)(ULONG_PTR)0x2222;
    Irp->Tail.Overlay.DriverContext[2] = (PVOID)(ULONG_PTR)0x3333;
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_PENDING);
    CHECK(Irp->Tail.Overlay.DriverContext[0] == (PVOID)(ULONG_PTR)0x1111);
    CHECK(Irp->Tail.Overlay.DriverContext[1] == (PVOID)(ULONG_PTR)0x2222);
    CHECK(Irp->Tail.Overlay.DriverContext[2] == (PVOID)(ULONG_PTR)0x3333);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Out), STATUS_SUCCESS);
    CHECK(Out == Irp);
    CHECK(Irp->Tail.Overlay.DriverContext[0] == (PVOID)(ULONG_PTR)0x1111);
    CHECK(Irp->Tail.Overlay.DriverContext[1] == (PVOID)(ULONG_PTR)0x2222);
    CHECK(Irp->Tail.Overlay.DriverContext[2] == (PVOID)(ULONG_PTR)0x3333);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Irp);
}

/* Match callback misuse: a queue call from it answers
   STATUS_POSSIBLE_DEADLOCK; an IRP cancelled from it (here the very IRP
   being matched, accepted) is not lost and not handed out twice. */
typedef struct _ATTACK_MATCH {
    PWDKM_CSQ Csq;
    PIRP CancelThis;
    NTSTATUS Insert, RemoveNext, Remove, Query;
    PIRP Spare;
    WDKM_CSQ_IRP_CONTEXT *Context;
    ULONG Calls;
} ATTACK_MATCH;

static BOOLEAN
AttackMatch(PIRP Irp, PVOID MatchContext)
{
    ATTACK_MATCH *Match = (ATTACK_MATCH *)MatchContext;
    PIRP Out;
    ULONG Count;

    Match->Calls += 1;
    if (Match->Calls == 1) {
        Match->Insert = WdkmCsqInsertIrp(Match->Csq, Match->Spare, NULL);
        Match->RemoveNext = WdkmCsqRemoveNextIrp(Match->Csq, NULL, NULL, &Out);
        Match->Remove = WdkmCsqRemoveIrp(Match->Csq, Match->Context, &Out);
        Match->Query = WdkmCsqQueryCount(Match->Csq, &Count);
    }
    if (Irp == Match->CancelThis) {
        (VOID)IoCancelIrp(Irp);
        return TRUE;
    }
    return FALSE;
}

static VOID
CsqMatchMisuse(VOID)
{
    PWDKM_CSQ Csq;
    PIRP First = NewIrp();
    PIRP Second = NewIrp();
    PIRP Spare = NewIrp();
    PIRP Out = (PIRP)(ULONG_PTR)1;
    WDKM_CSQ_IRP_CONTEXT Context;
    ATTACK_MATCH Match;
    NTSTATUS Status;

    memset(&CsqLog, 0, sizeof(CsqLog));
    memset(&Match, 0, sizeof(Match));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, First, &Context), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Second, NULL), STATUS_PENDING);
    Match.Csq = Csq;
    Match.CancelThis = First;
    Match.Spare = Spare;
    Match.Context = &Context;
    Status = WdkmCsqRemoveNextIrp(Csq, AttackMatch, &Match, &Out);
    CHECK_STATUS(Match.Insert, STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Match.RemoveNext, STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Match.Remove, STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(Match.Query, STATUS_POSSIBLE_DEADLOCK);
    CHECK(!MarkedPending(Spare));
    CHECK(Spare->CancelRoutine == NULL);
    /* First, cancelled by the match that accepted it, goes to the
       callback (ATTACK_FINDING_1, fixed), once; Second is still queued. */
    CHECK_STATUS(Status, STATUS_NO_MORE_ENTRIES);
    CHECK(Out == NULL);
    CHECK_EQ(CsqLog.Callbacks, 1);
    Status = WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Out);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK(Out == Second);
    IoCompleteRequest(Second, IO_NO_INCREMENT);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(First), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Second), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Spare), 0);
    CHECK(First->CancelRoutine == NULL);
    WdkmHostIrpFree(First);
    WdkmHostIrpFree(Second);
    WdkmHostIrpFree(Spare);
}

/* Cancelled from the match, then removed by its context: not found (its
   cancellation has it), and still completed exactly once by the destroy. */
static BOOLEAN
CancelEverythingMatch(PIRP Irp, PVOID MatchContext)
{
    UNREFERENCED_PARAMETER(MatchContext);
    (VOID)IoCancelIrp(Irp);
    return FALSE;
}

static VOID
CsqMatchCancelThenRemoveByContext(VOID)
{
    PWDKM_CSQ Csq;
    PIRP Irp = NewIrp();
    PIRP Out = (PIRP)(ULONG_PTR)1;
    WDKM_CSQ_IRP_CONTEXT Context;
    NTSTATUS Status;

    memset(&CsqLog, 0, sizeof(CsqLog));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, &Context), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, CancelEverythingMatch, NULL, &Out),
                 STATUS_NO_MORE_ENTRIES);
    CHECK(Out == NULL);
    Status = WdkmCsqRemoveIrp(Csq, &Context, &Out);
    CHECK_STATUS(Status, STATUS_NOT_FOUND);             /* ATTACK_FINDING_1, fixed */
    CHECK(Out == NULL);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    CHECK(Irp->CancelRoutine == NULL);
    WdkmHostIrpFree(Irp);
}

/* An IRP cancelled from a match callback: the remove that ran it hands it
   to the callback, once, and the destroy finds nothing of it. */
static VOID
CsqMatchCancelThenDestroy(VOID)
{
    PWDKM_CSQ Csq;
    PIRP Irp = NewIrp();
    PIRP Out = (PIRP)(ULONG_PTR)1;
    ULONG Count = 0;

    memset(&CsqLog, 0, sizeof(CsqLog));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, CancelEverythingMatch, NULL, &Out),
                 STATUS_NO_MORE_ENTRIES);
    CHECK_STATUS(WdkmCsqQueryCount(Csq, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 0);
    CHECK_EQ(CsqLog.Callbacks, 1);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(CsqLog.Callbacks, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    CHECK(Irp->IoStatus.Status == STATUS_CANCELLED);
    WdkmHostIrpFree(Irp);
}

/*
 * ATTACK_FINDING_1 (fixed): an IRP cancelled from a match callback was
 * handed to the next remover as STATUS_SUCCESS, not to
 * CompleteCanceledIrp; WdkmCsqRemoveIrp returned it with STATUS_SUCCESS
 * too. Docs:
 *   reference.md, WdkmCsqRemoveNextIrp: "IRPs being cancelled are skipped."
 *   wdkm_csq.h: "IRP whose cancellation is under way are skipped (the
 *     cancel path owns them)"; "Removal and cancellation racing on one
 *     IRP are decided by the IRP's cancel routine: the side that clears it
 *     owns the IRP."
 *   reference.md, WdkmCsqRemoveIrp: "STATUS_NOT_FOUND (it left the queue,
 *     or its cancellation has it)".
 *   csq.md: "a cancelled IRP goes to the driver's CompleteCanceledIrp
 *     callback".
 * IoCancelIrp cleared the routine, yet the remover got the IRP, and the
 * driver completed a cancelled request as if it had been served. Now the
 * remove that ran the match completes it through the callback.
 */
static VOID
AttackFinding1(VOID)
{
    PWDKM_CSQ Csq;
    PIRP Irp = NewIrp();
    PIRP Out = (PIRP)(ULONG_PTR)1;
    WDKM_CSQ_IRP_CONTEXT Context;

    memset(&CsqLog, 0, sizeof(CsqLog));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, &Context), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, CancelEverythingMatch, NULL, &Out),
                 STATUS_NO_MORE_ENTRIES);
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, &Context, &Out), STATUS_NOT_FOUND);
    CHECK(Out == NULL);
    CHECK_STATUS(WdkmCsqRemoveNextIrp(Csq, NULL, NULL, &Out), STATUS_NO_MORE_ENTRIES);
    CHECK_EQ(CsqLog.Callbacks, 1);
    CHECK(Irp->IoStatus.Status == STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    WdkmHostIrpFree(Irp);
}


/* A queue handle passed where a spin lock is expected, or the reverse,
   and a queue's calls while the pool fails: refused or unaffected. The
   docs name the kind check for lock handles only (ATTACK_FINDING_8). */
static VOID
CsqHandleConfusionAndPoolFailure(VOID)
{
    PWDKM_CSQ Csq;
    PWDKM_SPIN_LOCK SpinLock;
    ULONG Value = 5;
    ULONG Count;
    PVOID Data = (PVOID)(ULONG_PTR)1;
    KIRQL OldIrql;
    PIRP Irp = NewIrp();

    memset(&CsqLog, 0, sizeof(CsqLog));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockCreate(&Value, sizeof(Value), &SpinLock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Csq, sizeof(ULONG), &OldIrql, &Data),
                 STATUS_WDKM_TYPE_MISMATCH);
    CHECK(Data == NULL);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_STATUS(WdkmSpinLockDestroy((PWDKM_SPIN_LOCK)Csq), STATUS_INVALID_PARAMETER);
    /* WdkmGrtDereference(Csq): ATTACK_FINDING_3 */
    CHECK_STATUS(WdkmCsqQueryCount((PWDKM_CSQ)SpinLock, &Count), STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmCsqInsertIrp((PWDKM_CSQ)SpinLock, Irp, NULL), STATUS_WDKM_TYPE_MISMATCH);
    CHECK(!MarkedPending(Irp));
    CHECK_STATUS(WdkmCsqDestroy((PWDKM_CSQ)SpinLock), STATUS_INVALID_PARAMETER);

    WdkmHostPoolFailAt(0);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irp, NULL), STATUS_PENDING);
    WdkmHostPoolFailAt(0);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    WdkmHostPoolFailAt(-1);
    CHECK_EQ(CsqLog.Callbacks, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irp), 1);
    CHECK_STATUS(WdkmSpinLockDestroy(SpinLock), STATUS_SUCCESS);
    WdkmHostIrpFree(Irp);
}

#if 1 /* ATTACK_FINDING_3: fixed, kept as its regression test */
/*
 * WdkmGrtDereference of a cancel-safe queue handle reads the block as a
 * lock header without checking its kind signature: Header->RegistryEntry
 * is whatever the queue keeps at that offset, and Entry->Lock is then
 * read through it. TSan/ASan checked build: heap-use-after-free read at
 * src/wdkm_grt.c:1300 then SEGV at 0x28 (wdkm_grt.c:1307); in a kernel a
 * bug check. (The release host build happened to find NULL there.)
 * Docs: reference.md WdkmGrtDereference "STATUS_INVALID_PARAMETER (NULL,
 * or not a registry lock)"; conventions: "A lock of another kind ... is
 * recognised by the kind signature at the start of every lock block".
 * WdkmSpinLockAcquire and WdkmSpinLockDestroy on the same handle answer
 * TYPE_MISMATCH / INVALID_PARAMETER correctly.
 */
static VOID
AttackFinding3(VOID)
{
    PWDKM_CSQ Csq;

    memset(&CsqLog, 0, sizeof(CsqLog));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Csq), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
}
#endif

/* A context after its IRP was cancelled: not found; reused for another
   IRP: removes that one. */
static VOID
CsqContextAfterCancelAndReuse(VOID)
{
    PWDKM_CSQ Csq;
    PIRP First = NewIrp();
    PIRP Second = NewIrp();
    PIRP Out = (PIRP)(ULONG_PTR)1;
    WDKM_CSQ_IRP_CONTEXT Context;

    memset(&CsqLog, 0, sizeof(CsqLog));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, First, &Context), STATUS_PENDING);
    CHECK(Context.Irp == First);
    CHECK(IoCancelIrp(First));
    CHECK_EQ(CsqLog.Callbacks, 1);
    CHECK(Context.Irp == NULL);
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, &Context, &Out), STATUS_NOT_FOUND);
    CHECK(Out == NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Csq, Second, &Context), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqRemoveIrp(Csq, &Context, &Out), STATUS_SUCCESS);
    CHECK(Out == Second);
    IoCompleteRequest(Out, IO_NO_INCREMENT);
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(First), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Second), 1);
    WdkmHostIrpFree(First);
    WdkmHostIrpFree(Second);
}

/* Destroy with IRPs queued: each handed to the callback once, pool freed. */
static VOID
CsqDestroyDrains(VOID)
{
    PWDKM_CSQ Csq;
    PIRP Irps[5];
    ULONG Index;
    LONG Pool = WdkmTestPoolOutstanding();

    memset(&CsqLog, 0, sizeof(CsqLog));
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Csq), STATUS_SUCCESS);
    for (Index = 0; Index < 5; Index += 1) {
        Irps[Index] = NewIrp();
        CHECK_STATUS(WdkmCsqInsertIrp(Csq, Irps[Index], NULL), STATUS_PENDING);
    }
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(CsqLog.Callbacks, 5);
    CHECK_EQ(WdkmTestPoolOutstanding(), Pool);
    for (Index = 0; Index < 5; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(Irps[Index]), 1);
        CHECK(Irps[Index]->CancelRoutine == NULL);
        WdkmHostIrpFree(Irps[Index]);
    }
}

/* The callback of a cancel on another thread is slow; the destroy must
   not return (and free the queue) before that cancel routine is done. */
typedef struct _ATTACK_SLOW {
    PWDKM_CSQ Csq;
    PIRP Irp;
    LONG volatile InCallback;
    LONG volatile CallbackDone;
    LONG volatile DestroyReturned;
    LONG volatile DestroyReturnedEarly;
} ATTACK_SLOW;

static ATTACK_SLOW Slow;

static VOID
SlowCompleteCancelled(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    ATTACK_SLOW *State = (ATTACK_SLOW *)Context;

    UNREFERENCED_PARAMETER(Csq);
    if (Irp == State->Irp) {
        __atomic_store_n(&State->InCallback, 1, __ATOMIC_SEQ_CST);
        WdkmTestSleepMs(100);
        if (__atomic_load_n(&State->DestroyReturned, __ATOMIC_SEQ_CST)) {
            __atomic_store_n(&State->DestroyReturnedEarly, 1, __ATOMIC_SEQ_CST);
        }
    }
    Irp->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    if (Irp == State->Irp) {
        __atomic_store_n(&State->CallbackDone, 1, __ATOMIC_SEQ_CST);
    }
}

static VOID
SlowCanceller(PVOID Context, ULONG Index)
{
    ATTACK_SLOW *State = (ATTACK_SLOW *)Context;

    UNREFERENCED_PARAMETER(Index);
    (VOID)IoCancelIrp(State->Irp);
}

static VOID
CsqDestroyWaitsForRunningCancel(VOID)
{
    WDKM_TEST_THREAD *Thread;
    PIRP Other = NewIrp();
    LONGLONG Deadline;

    memset(&Slow, 0, sizeof(Slow));
    Slow.Irp = NewIrp();
    CHECK_STATUS(WdkmCsqCreate(SlowCompleteCancelled, &Slow, &Slow.Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInsertIrp(Slow.Csq, Slow.Irp, NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqInsertIrp(Slow.Csq, Other, NULL), STATUS_PENDING);
    Thread = WdkmTestStartThread(SlowCanceller, &Slow);
    CHECK(Thread != NULL);
    Deadline = WdkmTestDeadlineMs(5000);
    while (!__atomic_load_n(&Slow.InCallback, __ATOMIC_SEQ_CST) && WdkmTestNowMs() < Deadline) {
        WdkmTestSleepMs(1);
    }
    CHECK(Slow.InCallback);
    CHECK_STATUS(WdkmCsqDestroy(Slow.Csq), STATUS_SUCCESS);
    __atomic_store_n(&Slow.DestroyReturned, 1, __ATOMIC_SEQ_CST);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(Slow.DestroyReturnedEarly, 0);
    CHECK_EQ(WdkmHostIrpCompletions(Slow.Irp), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Other), 1);
    WdkmHostIrpFree(Slow.Irp);
    WdkmHostIrpFree(Other);
}

/* Insert, remove by context, remove next and cancel racing on two threads:
   every IRP ends exactly once, and the destroy finds the queue consistent. */
#define RACE_IRPS 400

typedef struct _ATTACK_RACE {
    PWDKM_CSQ Csq;
    PIRP Irps[RACE_IRPS];
    WDKM_CSQ_IRP_CONTEXT Contexts[RACE_IRPS];
    LONG volatile Inserted;          /* IRPs inserted so far (in order) */
    LONG volatile Removed;           /* handed to a remover */
    LONG volatile Failures;
} ATTACK_RACE;

static ATTACK_RACE Race;

static VOID
RaceWorker(PVOID Context, ULONG Index)
{
    ATTACK_RACE *State = (ATTACK_RACE *)Context;
    LONG Position;
    PIRP Out;
    NTSTATUS Status;

    if (Index == 0) {
        for (Position = 0; Position < RACE_IRPS; Position += 1) {
            if (WdkmCsqInsertIrp(State->Csq, State->Irps[Position], &State->Contexts[Position]) !=
                STATUS_PENDING) {
                __atomic_add_fetch(&State->Failures, 1, __ATOMIC_SEQ_CST);
            }
            __atomic_store_n(&State->Inserted, Position + 1, __ATOMIC_RELEASE);
            if (Position % 3 == 0) {
                Status = WdkmCsqRemoveNextIrp(State->Csq, NULL, NULL, &Out);
                if (Status == STATUS_SUCCESS) {
                    __atomic_add_fetch(&State->Removed, 1, __ATOMIC_SEQ_CST);
                    IoCompleteRequest(Out, IO_NO_INCREMENT);
                } else if (Status != STATUS_NO_MORE_ENTRIES) {
                    __atomic_add_fetch(&State->Failures, 1, __ATOMIC_SEQ_CST);
                }
            }
        }
    } else if (Index == 1) {
        /* Cancel every second IRP as soon as it is inserted. */
        for (Position = 0; Position < RACE_IRPS; Position += 2) {
            while (__atomic_load_n(&State->Inserted, __ATOMIC_ACQUIRE) <= Position) {
                YieldProcessor();
            }
            (VOID)IoCancelIrp(State->Irps[Position]);
        }
    } else {
        /* Remove every fifth by its context. */
        for (Position = 1; Position < RACE_IRPS; Position += 5) {
            while (__atomic_load_n(&State->Inserted, __ATOMIC_ACQUIRE) <= Position) {
                YieldProcessor();
            }
            Status = WdkmCsqRemoveIrp(State->Csq, &State->Contexts[Position], &Out);
            if (Status == STATUS_SUCCESS) {
                if (Out != State->Irps[Position]) {
                    __atomic_add_fetch(&State->Failures, 1, __ATOMIC_SEQ_CST);
                }
                __atomic_add_fetch(&State->Removed, 1, __ATOMIC_SEQ_CST);
                IoCompleteRequest(Out, IO_NO_INCREMENT);
            } else if (Status != STATUS_NOT_FOUND) {
                __atomic_add_fetch(&State->Failures, 1, __ATOMIC_SEQ_CST);
            }
        }
    }
}

static VOID
CsqInsertRemoveCancelRace(VOID)
{
    ULONG Index;

    memset(&Race, 0, sizeof(Race));
    memset(&CsqLog, 0, sizeof(CsqLog));
    for (Index = 0; Index < RACE_IRPS; Index += 1) {
        Race.Irps[Index] = NewIrp();
        CHECK(Race.Irps[Index] != NULL);
    }
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Race.Csq), STATUS_SUCCESS);
    CHECK(WdkmTestRunThreads(3, RaceWorker, &Race));
    CHECK_EQ(Race.Failures, 0);
    CHECK_STATUS(WdkmCsqDestroy(Race.Csq), STATUS_SUCCESS);
    CHECK_EQ(Race.Removed + CsqLog.Callbacks, RACE_IRPS);
    for (Index = 0; Index < RACE_IRPS; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(Race.Irps[Index]), 1);
        CHECK(Race.Irps[Index]->PendingReturned);
        WdkmHostIrpFree(Race.Irps[Index]);
    }
}

/* A DPC lands inside a queue call on the same thread: the insert of an
   IRP cancelled beforehand runs the callback on the inserting thread,
   inside WdkmCsqInsertIrp; a DPC interrupting it there uses the queue. */
typedef struct _ATTACK_NESTED {
    PWDKM_CSQ Csq;
    PIRP Cancelled;
    PIRP Queued;
    PIRP DpcInsert;
    NTSTATUS DpcRemoveStatus;
    NTSTATUS DpcInsertStatus;
    ULONG DpcCount;
    PIRP DpcGot;
    ULONG Dpcs;
} ATTACK_NESTED;

static ATTACK_NESTED Nested;

static VOID
NestedDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    ATTACK_NESTED *State = (ATTACK_NESTED *)Context;
    PIRP Out = NULL;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    State->Dpcs += 1;
    State->DpcRemoveStatus = WdkmCsqRemoveNextIrp(State->Csq, NULL, NULL, &Out);
    State->DpcGot = Out;
    if (Out != NULL) {
        IoCompleteRequest(Out, IO_NO_INCREMENT);
    }
    State->DpcInsertStatus = WdkmCsqInsertIrp(State->Csq, State->DpcInsert, NULL);
    (VOID)WdkmCsqQueryCount(State->Csq, &State->DpcCount);
}

static VOID
NestedCompleteCancelled(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    ATTACK_NESTED *State = (ATTACK_NESTED *)Context;

    UNREFERENCED_PARAMETER(Csq);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    if (Irp == State->Cancelled && KeGetCurrentIrql() < DISPATCH_LEVEL) {
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, NestedDpc, State);
    }
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static VOID
CsqDpcInsideInsert(VOID)
{
    PIRP Out = NULL;

    memset(&Nested, 0, sizeof(Nested));
    Nested.Cancelled = NewIrp();
    Nested.Queued = NewIrp();
    Nested.DpcInsert = NewIrp();
    CHECK_STATUS(WdkmCsqCreate(NestedCompleteCancelled, &Nested, &Nested.Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInsertIrp(Nested.Csq, Nested.Queued, NULL), STATUS_PENDING);
    (VOID)IoCancelIrp(Nested.Cancelled);
    CHECK_STATUS(WdkmCsqInsertIrp(Nested.Csq, Nested.Cancelled, NULL), STATUS_PENDING);
    CHECK_EQ(WdkmHostIrpCompletions(Nested.Cancelled), 1);
    if (Nested.Dpcs == 1) {
        CHECK_STATUS(Nested.DpcRemoveStatus, STATUS_SUCCESS);
        CHECK(Nested.DpcGot == Nested.Queued);
        CHECK_STATUS(Nested.DpcInsertStatus, STATUS_PENDING);
        CHECK_EQ(Nested.DpcCount, 1);
        CHECK_EQ(WdkmHostIrpCompletions(Nested.Queued), 1);
        CHECK_STATUS(WdkmCsqRemoveNextIrp(Nested.Csq, NULL, NULL, &Out), STATUS_SUCCESS);
        CHECK(Out == Nested.DpcInsert);
        IoCompleteRequest(Out, IO_NO_INCREMENT);
    }
    CHECK_STATUS(WdkmCsqDestroy(Nested.Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(Nested.Queued), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Nested.Cancelled), 1);
    WdkmHostIrpFree(Nested.Cancelled);
    WdkmHostIrpFree(Nested.Queued);
    WdkmHostIrpFree(Nested.DpcInsert);
    /* The callback ran below DISPATCH_LEVEL here, so the DPC did land. */
    CHECK_EQ(Nested.Dpcs, 1);
}

/* Random DPCs (cancel an IRP, or remove the next and complete it) landing
   anywhere in a thread's inserts and removes. */
#define INJECT_IRPS 600

typedef struct _ATTACK_INJECT {
    PWDKM_CSQ Csq;
    PIRP Irps[INJECT_IRPS];
    LONG volatile Inserted;
    LONG volatile Removed;
    LONG volatile Failures;
} ATTACK_INJECT;

static ATTACK_INJECT Inject;

static VOID
InjectRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    ATTACK_INJECT *State = (ATTACK_INJECT *)Context;
    LONG Inserted = __atomic_load_n(&State->Inserted, __ATOMIC_ACQUIRE);
    PIRP Out;
    NTSTATUS Status;

    if (Kind != WdkmHostInterruptDpc || State->Csq == NULL || Inserted == 0) {
        return;
    }
    if (Random % 2 == 0) {
        (VOID)IoCancelIrp(State->Irps[(Random >> 8) % (ULONG64)Inserted]);
    } else {
        Status = WdkmCsqRemoveNextIrp(State->Csq, NULL, NULL, &Out);
        if (Status == STATUS_SUCCESS) {
            __atomic_add_fetch(&State->Removed, 1, __ATOMIC_SEQ_CST);
            IoCompleteRequest(Out, IO_NO_INCREMENT);
        } else if (Status != STATUS_NO_MORE_ENTRIES) {
            __atomic_add_fetch(&State->Failures, 1, __ATOMIC_SEQ_CST);
        }
    }
}

static VOID
InjectWorker(PVOID Context, ULONG Index)
{
    ATTACK_INJECT *State = (ATTACK_INJECT *)Context;
    LONG Position;
    PIRP Out;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    for (Position = 0; Position < INJECT_IRPS; Position += 1) {
        if (WdkmCsqInsertIrp(State->Csq, State->Irps[Position], NULL) != STATUS_PENDING) {
            __atomic_add_fetch(&State->Failures, 1, __ATOMIC_SEQ_CST);
        }
        __atomic_store_n(&State->Inserted, Position + 1, __ATOMIC_RELEASE);
        KeStallExecutionProcessor(30);      /* room for DPCs between calls too */
        if (Position % 4 == 3) {
            Status = WdkmCsqRemoveNextIrp(State->Csq, NULL, NULL, &Out);
            if (Status == STATUS_SUCCESS) {
                __atomic_add_fetch(&State->Removed, 1, __ATOMIC_SEQ_CST);
                IoCompleteRequest(Out, IO_NO_INCREMENT);
            } else if (Status != STATUS_NO_MORE_ENTRIES) {
                __atomic_add_fetch(&State->Failures, 1, __ATOMIC_SEQ_CST);
            }
        }
    }
}

/* One round; adds the DPCs delivered to *Dpcs and sets *Judged (left
   FALSE when a check failed). */
static VOID
CsqRandomDpcsRound(ULONG64 *Dpcs, BOOLEAN *Judged)
{
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];
    ULONG Index;

    memset(&Inject, 0, sizeof(Inject));
    memset(&CsqLog, 0, sizeof(CsqLog));
    for (Index = 0; Index < INJECT_IRPS; Index += 1) {
        Inject.Irps[Index] = NewIrp();
        CHECK(Inject.Irps[Index] != NULL);
    }
    CHECK_STATUS(WdkmCsqCreate(AttackCompleteCancelled, &CsqLog, &Inject.Csq), STATUS_SUCCESS);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 7;
    Settings.MeanIntervalMicroseconds = 20;
    Settings.DpcWeight = 1;
    Settings.Routine = InjectRoutine;
    Settings.Context = &Inject;
    WdkmHostInterruptsStart(&Settings);
    (VOID)WdkmTestRunThreads(1, InjectWorker, &Inject);
    WdkmHostInterruptsStop();
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    CHECK_EQ(Inject.Failures, 0);
    CHECK_STATUS(WdkmCsqDestroy(Inject.Csq), STATUS_SUCCESS);
    Inject.Csq = NULL;
    CHECK_EQ(Inject.Removed + CsqLog.Callbacks, INJECT_IRPS);
    for (Index = 0; Index < INJECT_IRPS; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(Inject.Irps[Index]), 1);
        WdkmHostIrpFree(Inject.Irps[Index]);
    }
    *Dpcs += Delivered[WdkmHostInterruptDpc];
    *Judged = TRUE;
}

/* Rounds until a DPC has landed (on a loaded machine a round's few
   milliseconds may pass without one). */
static VOID
CsqRandomDpcs(VOID)
{
    LONGLONG Deadline = WdkmTestDeadlineMs(20000);
    ULONG64 Dpcs = 0;
    BOOLEAN Judged;

    if (WdkmHostInterruptsActive(NULL)) {
        return;     /* the run injects its own events */
    }
    do {
        Judged = FALSE;
        CsqRandomDpcsRound(&Dpcs, &Judged);
        if (!Judged) {
            return;
        }
    } while (Dpcs == 0 && WdkmTestNowMs() < Deadline);
    CHECK(Dpcs > 0);
}

/* ---------------------------------------------------------------------- */
/* Registry: typed registration, scoped forms, dereference while holding  */
/* ---------------------------------------------------------------------- */

typedef struct _ATTACK_VALUE {
    ULONG A;
    ULONG B;
} ATTACK_VALUE;

static LONG GrtPoolBaseline;

static VOID
GrtStart(VOID)
{
    (VOID)WdkmGrtDestroy(NULL, NULL);
    GrtPoolBaseline = WdkmTestPoolOutstanding();
}

/* Every typed registration macro, then a lookup of that kind (success),
   of another kind or size (type mismatch), and the replace forms. */
static VOID
GrtTypedRegistrationEveryKind(VOID)
{
    static const WDKM_LOCK_KIND Kinds[] = {
        WdkmLockKindKMutex, WdkmLockKindFastMutex, WdkmLockKindSpinLock,
        WdkmLockKindQueuedSpinLock, WdkmLockKindGuardedMutex, WdkmLockKindResource,
        WdkmLockKindPushLock,
    };
    static const char *const Names[] = { "km", "fm", "sl", "qsl", "gm", "res", "pl" };
    ATTACK_VALUE Initial = { 1, 2 };
    ATTACK_VALUE Second = { 3, 4 };
    ULONG Index;
    PVOID Lock;
    WDKM_GRT_REPORT Report;

    GrtStart();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("km", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("fm", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK("sl", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_QUEUED_SPIN_LOCK("qsl", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_GUARDED_MUTEX("gm", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_RESOURCE("res", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_PUSH_LOCK("pl", &Initial), STATUS_SUCCESS);
    /* Taken names collide, whatever the kind. */
    CHECK_STATUS(WDKM_GRT_REGISTER_PUSH_LOCK("km", &Initial), STATUS_OBJECT_NAME_COLLISION);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("pl", &Initial), STATUS_OBJECT_NAME_COLLISION);
    CHECK_STATUS(WdkmGrtRegisterKind("x", NULL, &Initial, sizeof(Initial), 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegisterKind("x", &WdkmpSpinLockKind, &Initial, 0, 0),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegisterKind("x", &WdkmpSpinLockKind, &Initial, sizeof(Initial), 0x80),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmGrtRegisterKind("", &WdkmpSpinLockKind, &Initial, sizeof(Initial), 0),
                 STATUS_OBJECT_NAME_INVALID);

    for (Index = 0; Index < 7; Index += 1) {
        ULONG Other;

        CHECK_STATUS(WdkmGrtReference(Names[Index], Kinds[Index], sizeof(ATTACK_VALUE), &Lock),
                     STATUS_SUCCESS);
        CHECK(Lock != NULL);
        CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
        Lock = (PVOID)(ULONG_PTR)1;
        CHECK_STATUS(WdkmGrtReference(Names[Index], Kinds[Index], sizeof(ULONG), &Lock),
                     STATUS_WDKM_TYPE_MISMATCH);
        CHECK(Lock == NULL);
        for (Other = 0; Other < 7; Other += 1) {
            if (Other != Index) {
                Lock = (PVOID)(ULONG_PTR)1;
                CHECK_STATUS(WdkmGrtReference(Names[Index], Kinds[Other], sizeof(ATTACK_VALUE),
                                              &Lock),
                             STATUS_WDKM_TYPE_MISMATCH);
                CHECK(Lock == NULL);
            }
        }
    }

    /* Replace each with itself (a new value) and with another kind. */
    CHECK_STATUS(WDKM_GRT_REPLACE_KMUTEX("km", &Second), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REPLACE_FAST_MUTEX("fm", &Second), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REPLACE_SPIN_LOCK("sl", &Second), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REPLACE_QUEUED_SPIN_LOCK("qsl", &Second), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REPLACE_GUARDED_MUTEX("gm", &Second), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REPLACE_RESOURCE("res", &Second), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REPLACE_PUSH_LOCK("pl", &Second), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REPLACE_SPIN_LOCK("km", &Second), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_GET_SPIN_LOCK("km", ATTACK_VALUE, &Lock), STATUS_SUCCESS);
    {
        ATTACK_VALUE *Data;
        KIRQL OldIrql;

        CHECK_STATUS(WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock, sizeof(ATTACK_VALUE), &OldIrql,
                                         (PVOID *)&Data), STATUS_SUCCESS);
        CHECK_EQ(Data->A, 3);
        CHECK_STATUS(WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, OldIrql), STATUS_SUCCESS);
    }
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(Report.UnregisteredReferenced, 0);
    CHECK_EQ(WdkmTestPoolOutstanding(), GrtPoolBaseline);
}

/* Recursion through the scoped forms: a KMUTEX nests; the others answer
   STATUS_POSSIBLE_DEADLOCK for the inner one; no reference is leaked. */
static VOID
GrtScopedRecursion(VOID)
{
    ATTACK_VALUE Initial = { 1, 2 };
    ATTACK_VALUE *Outer;
    ATTACK_VALUE *Inner;
    NTSTATUS OuterStatus;
    NTSTATUS InnerStatus;
    BOOLEAN InnerRan;
    WDKM_GRT_REPORT Report;

    GrtStart();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("km", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("fm", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK("sl", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_GUARDED_MUTEX("gm", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_PUSH_LOCK("pl", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_RESOURCE("res", &Initial), STATUS_SUCCESS);

    InnerRan = FALSE;
    WDKM_GRT_KMUTEX_SCOPED("km", Outer, &OuterStatus) {
        Outer->A += 1;
        WDKM_GRT_KMUTEX_SCOPED("km", Inner, &InnerStatus) {
            InnerRan = TRUE;
            Inner->A += 1;
        }
    }
    CHECK_STATUS(OuterStatus, STATUS_SUCCESS);
    CHECK_STATUS(InnerStatus, STATUS_SUCCESS);
    CHECK(InnerRan);

    InnerRan = FALSE;
    WDKM_GRT_FAST_MUTEX_SCOPED("fm", Outer, &OuterStatus) {
        WDKM_GRT_FAST_MUTEX_SCOPED("fm", Inner, &InnerStatus) {
            InnerRan = TRUE;
        }
    }
    CHECK_STATUS(OuterStatus, STATUS_SUCCESS);
    CHECK_STATUS(InnerStatus, STATUS_POSSIBLE_DEADLOCK);
    CHECK(!InnerRan);

    WDKM_GRT_SCOPED("sl", WdkmLockKindSpinLock, Outer, &OuterStatus) {
        WDKM_GRT_SCOPED("sl", WdkmLockKindSpinLock, Inner, &InnerStatus) {
            InnerRan = TRUE;
        }
    }
    CHECK_STATUS(OuterStatus, STATUS_SUCCESS);
    CHECK_STATUS(InnerStatus, STATUS_POSSIBLE_DEADLOCK);
    CHECK(!InnerRan);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    WDKM_GRT_SCOPED("gm", WdkmLockKindGuardedMutex, Outer, &OuterStatus) {
        WDKM_GRT_SCOPED("gm", WdkmLockKindGuardedMutex, Inner, &InnerStatus) {
            InnerRan = TRUE;
        }
    }
    CHECK_STATUS(OuterStatus, STATUS_SUCCESS);
    CHECK_STATUS(InnerStatus, STATUS_POSSIBLE_DEADLOCK);
    CHECK(!InnerRan);

    WDKM_GRT_SCOPED("pl", WdkmLockKindPushLock, Outer, &OuterStatus) {
        WDKM_GRT_SCOPED("pl", WdkmLockKindPushLock, Inner, &InnerStatus) {
            InnerRan = TRUE;
        }
    }
    CHECK_STATUS(OuterStatus, STATUS_SUCCESS);
    CHECK_STATUS(InnerStatus, STATUS_POSSIBLE_DEADLOCK);
    CHECK(!InnerRan);

    /* The queued spin lock has no scoped form: refused, no reference kept. */
    WDKM_GRT_SCOPED("qsl", WdkmLockKindQueuedSpinLock, Outer, &OuterStatus) {
        InnerRan = TRUE;
    }
    CHECK(OuterStatus != STATUS_SUCCESS);
    CHECK(!InnerRan);

    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(WdkmTestPoolOutstanding(), GrtPoolBaseline);
}

/* A DPC (DISPATCH_LEVEL on the holder's thread) uses the scoped forms of
   the lock its thread holds: refused (IRQL or deadlock), the hold and
   the references unchanged; never a bug check or hang. */
static VOID
GrtScopedFromDpcOverHolder(VOID)
{
    ATTACK_VALUE Initial = { 1, 2 };
    ATTACK_VALUE *Outer;
    ATTACK_VALUE *Inner;
    NTSTATUS OuterStatus;
    NTSTATUS InnerStatus;
    BOOLEAN InnerRan = FALSE;
    KIRQL OldIrql;
    KIRQL Before;
    WDKM_GRT_REPORT Report;
    ULONG Bugchecks = WdkmHostBugcheckCount();

    GrtStart();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("km", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("fm", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_RESOURCE("res", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_PUSH_LOCK("pl", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK("sl", &Initial), STATUS_SUCCESS);

    WDKM_GRT_KMUTEX_SCOPED("km", Outer, &OuterStatus) {
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        WDKM_GRT_KMUTEX_SCOPED("km", Inner, &InnerStatus) {
            InnerRan = TRUE;
        }
        KeLowerIrql(OldIrql);
    }
    CHECK_STATUS(OuterStatus, STATUS_SUCCESS);
    CHECK_STATUS(InnerStatus, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(!InnerRan);

    WDKM_GRT_FAST_MUTEX_SCOPED("fm", Outer, &OuterStatus) {
        Before = KeGetCurrentIrql();
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        WDKM_GRT_FAST_MUTEX_SCOPED("fm", Inner, &InnerStatus) {
            InnerRan = TRUE;
        }
        KeLowerIrql(OldIrql);
        CHECK_EQ(KeGetCurrentIrql(), Before);
    }
    CHECK_STATUS(OuterStatus, STATUS_SUCCESS);
    CHECK_STATUS(InnerStatus, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(!InnerRan);

    WDKM_GRT_SCOPED("res", WdkmLockKindResource, Outer, &OuterStatus) {
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        WDKM_GRT_SCOPED("res", WdkmLockKindResource, Inner, &InnerStatus) {
            InnerRan = TRUE;
        }
        KeLowerIrql(OldIrql);
    }
    CHECK_STATUS(OuterStatus, STATUS_SUCCESS);
    CHECK_STATUS(InnerStatus, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(!InnerRan);

    WDKM_GRT_SCOPED("pl", WdkmLockKindPushLock, Outer, &OuterStatus) {
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        WDKM_GRT_SCOPED("pl", WdkmLockKindPushLock, Inner, &InnerStatus) {
            InnerRan = TRUE;
        }
        KeLowerIrql(OldIrql);
    }
    CHECK_STATUS(OuterStatus, STATUS_SUCCESS);
    CHECK_STATUS(InnerStatus, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK(!InnerRan);

    /* A spin lock's holder runs at DISPATCH_LEVEL, so no DPC lands in its
       hold; but a DPC that runs while its own code holds it, recursing: */
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    WDKM_GRT_SCOPED("sl", WdkmLockKindSpinLock, Outer, &OuterStatus) {
        WDKM_GRT_SCOPED("sl", WdkmLockKindSpinLock, Inner, &InnerStatus) {
            InnerRan = TRUE;
        }
        CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    }
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(OuterStatus, STATUS_SUCCESS);
    CHECK_STATUS(InnerStatus, STATUS_POSSIBLE_DEADLOCK);
    CHECK(!InnerRan);

    CHECK_EQ(WdkmHostBugcheckCount(), Bugchecks);
    CHECK_EQ(WdkmHostThreadHeldLockCount(), 0);
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, 0);
    CHECK_EQ(WdkmTestPoolOutstanding(), GrtPoolBaseline);
}

/* Dereference while holding: refused with STATUS_WDKM_LOCK_HELD, the
   reference kept, for every kind, exclusive and shared. */
static VOID
GrtDereferenceWhileHolding(VOID)
{
    ATTACK_VALUE Initial = { 1, 2 };
    PVOID Lock;
    PVOID Data;
    const VOID *Shared;
    KIRQL OldIrql;
    WDKM_LOCK_QUEUE_HANDLE Handle;
    WDKM_GRT_REPORT Report;

    GrtStart();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("km", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("fm", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_SPIN_LOCK("sl", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_QUEUED_SPIN_LOCK("qsl", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_GUARDED_MUTEX("gm", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_RESOURCE("res", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_PUSH_LOCK("pl", &Initial), STATUS_SUCCESS);
    /* Unregistered first, so a wrongly dropped last reference frees it. */

    CHECK_STATUS(WDKM_GRT_GET_KMUTEX("km", ATTACK_VALUE, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("km"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmKMutexAcquire((PWDKM_KMUTEX)Lock, sizeof(ATTACK_VALUE), &Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmKMutexRelease((PWDKM_KMUTEX)Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("fm", ATTACK_VALUE, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("fm"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexAcquire((PWDKM_FAST_MUTEX)Lock, sizeof(ATTACK_VALUE), &Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmFastMutexRelease((PWDKM_FAST_MUTEX)Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GRT_GET_SPIN_LOCK("sl", ATTACK_VALUE, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("sl"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockAcquire((PWDKM_SPIN_LOCK)Lock, sizeof(ATTACK_VALUE), &OldIrql, &Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmSpinLockRelease((PWDKM_SPIN_LOCK)Lock, OldIrql), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GRT_GET_QUEUED_SPIN_LOCK("qsl", ATTACK_VALUE, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("qsl"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmQueuedSpinLockAcquire((PWDKM_QUEUED_SPIN_LOCK)Lock, sizeof(ATTACK_VALUE),
                                           &Handle, &Data), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmQueuedSpinLockRelease(&Handle), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GRT_GET_GUARDED_MUTEX("gm", ATTACK_VALUE, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("gm"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGuardedMutexAcquire((PWDKM_GUARDED_MUTEX)Lock, sizeof(ATTACK_VALUE), &Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmGuardedMutexRelease((PWDKM_GUARDED_MUTEX)Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GRT_GET_RESOURCE("res", ATTACK_VALUE, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("res"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireShared((PWDKM_RESOURCE)Lock, sizeof(ATTACK_VALUE), &Shared),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmResourceRelease((PWDKM_RESOURCE)Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmResourceAcquireExclusive((PWDKM_RESOURCE)Lock, sizeof(ATTACK_VALUE), &Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmResourceRelease((PWDKM_RESOURCE)Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GRT_GET_PUSH_LOCK("pl", ATTACK_VALUE, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtUnregister("pl"), STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)Lock, sizeof(ATTACK_VALUE), &Shared),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmPushLockAcquireExclusive((PWDKM_PUSH_LOCK)Lock, sizeof(ATTACK_VALUE), &Data),
                 STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_WDKM_LOCK_HELD);
    CHECK_STATUS(WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);

    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.Freed, 0);      /* every lock went with its last dereference */
    CHECK_EQ(Report.StillReferenced + Report.UnregisteredReferenced, 0);
    CHECK_EQ(WdkmTestPoolOutstanding(), GrtPoolBaseline);
}

/* A shared push lock with ten readers at once, each dereferencing while it
   holds: the first eight are refused; the ninth and tenth are refused in
   checked builds and (documented) let through in release builds. */
#define PUSH_READERS 10

typedef struct _ATTACK_READERS {
    PVOID Lock;
    LONG volatile Turn;          /* readers acquire in order */
    LONG volatile Holding;
    LONG volatile Go;
    NTSTATUS Status[PUSH_READERS];
} ATTACK_READERS;

static ATTACK_READERS Readers;

static VOID
ReaderWorker(PVOID Context, ULONG Index)
{
    ATTACK_READERS *State = (ATTACK_READERS *)Context;
    PVOID Lock;
    const VOID *Shared;

    if (WdkmGrtReference("pl", WdkmLockKindPushLock, sizeof(ATTACK_VALUE), &Lock) !=
        STATUS_SUCCESS) {
        State->Status[Index] = STATUS_UNSUCCESSFUL;
        return;
    }
    while (__atomic_load_n(&State->Turn, __ATOMIC_ACQUIRE) != (LONG)Index) {
        WdkmTestSleepMs(1);
    }
    if (WdkmPushLockAcquireShared((PWDKM_PUSH_LOCK)Lock, sizeof(ATTACK_VALUE), &Shared) !=
        STATUS_SUCCESS) {
        State->Status[Index] = STATUS_UNSUCCESSFUL;
        __atomic_add_fetch(&State->Turn, 1, __ATOMIC_RELEASE);
        return;
    }
    __atomic_add_fetch(&State->Holding, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&State->Turn, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&State->Holding, __ATOMIC_ACQUIRE) < PUSH_READERS) {
        WdkmTestSleepMs(1);
    }
    State->Status[Index] = WdkmGrtDereference(Lock);
    /* Wait until everyone tried, so all are concurrent readers. */
    __atomic_add_fetch(&State->Go, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&State->Go, __ATOMIC_ACQUIRE) < PUSH_READERS) {
        WdkmTestSleepMs(1);
    }
    (VOID)WdkmPushLockRelease((PWDKM_PUSH_LOCK)Lock);
    if (State->Status[Index] == STATUS_WDKM_LOCK_HELD) {
        (VOID)WdkmGrtDereference(Lock);
    }
}

static VOID
GrtDereferenceManySharedReaders(VOID)
{
    ATTACK_VALUE Initial = { 1, 2 };
    WDKM_GRT_REPORT Report;
    ULONG Index;

    GrtStart();
    memset(&Readers, 0, sizeof(Readers));
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_PUSH_LOCK("pl", &Initial), STATUS_SUCCESS);
    CHECK(WdkmTestRunThreads(PUSH_READERS, ReaderWorker, &Readers));
    for (Index = 0; Index < 8; Index += 1) {
        CHECK_STATUS(Readers.Status[Index], STATUS_WDKM_LOCK_HELD);
    }
    for (Index = 8; Index < PUSH_READERS; Index += 1) {
#if WDKM_CHECKED
        CHECK_STATUS(Readers.Status[Index], STATUS_WDKM_LOCK_HELD);
#else
        CHECK_STATUS(Readers.Status[Index], STATUS_SUCCESS);
#endif
    }
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced + Report.UnregisteredReferenced, 0);
    CHECK_EQ(WdkmTestPoolOutstanding(), GrtPoolBaseline);
}


/* The destroy hands IRPs to the callback one by one; the callback for the
   first cancels the others, directly and from a DPC on the same thread.
   Each still ends exactly once, through the callback. */
typedef struct _ATTACK_DESTROY_CANCEL {
    PIRP Irps[4];
    LONG volatile Callbacks;
    BOOLEAN Started;
} ATTACK_DESTROY_CANCEL;

static ATTACK_DESTROY_CANCEL DestroyCancel;

static VOID
DestroyCancelDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    ATTACK_DESTROY_CANCEL *State = (ATTACK_DESTROY_CANCEL *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    (VOID)IoCancelIrp(State->Irps[2]);
    (VOID)IoCancelIrp(State->Irps[3]);
}

static VOID
DestroyCancelCallback(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    ATTACK_DESTROY_CANCEL *State = (ATTACK_DESTROY_CANCEL *)Context;

    UNREFERENCED_PARAMETER(Csq);
    __atomic_add_fetch(&State->Callbacks, 1, __ATOMIC_SEQ_CST);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    if (!State->Started) {
        State->Started = TRUE;
        (VOID)IoCancelIrp(State->Irps[1]);
        if (KeGetCurrentIrql() < DISPATCH_LEVEL) {
            WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, DestroyCancelDpc,
                                   State);
        } else {
            DestroyCancelDpc(WdkmHostInterruptDpc, 0, State);
        }
    }
}

static VOID
CsqCancelFromCallbackDuringDestroy(VOID)
{
    PWDKM_CSQ Csq;
    ULONG Index;

    memset(&DestroyCancel, 0, sizeof(DestroyCancel));
    CHECK_STATUS(WdkmCsqCreate(DestroyCancelCallback, &DestroyCancel, &Csq), STATUS_SUCCESS);
    for (Index = 0; Index < 4; Index += 1) {
        DestroyCancel.Irps[Index] = NewIrp();
        CHECK_STATUS(WdkmCsqInsertIrp(Csq, DestroyCancel.Irps[Index], NULL), STATUS_PENDING);
    }
    CHECK_STATUS(WdkmCsqDestroy(Csq), STATUS_SUCCESS);
    CHECK_EQ(DestroyCancel.Callbacks, 4);
    for (Index = 0; Index < 4; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(DestroyCancel.Irps[Index]), 1);
        WdkmHostIrpFree(DestroyCancel.Irps[Index]);
    }
}

/* A cancel's callback (run by IoCancelIrp) cancels the next IRP, and
   removes one by its context: no self-deadlock on the queue's lock. */
typedef struct _ATTACK_CHAIN {
    PWDKM_CSQ Csq;
    PIRP Irps[3];
    WDKM_CSQ_IRP_CONTEXT Contexts[3];
    NTSTATUS RemoveStatus;
    LONG volatile Callbacks;
} ATTACK_CHAIN;

static ATTACK_CHAIN Chain;

static VOID
ChainCallback(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    ATTACK_CHAIN *State = (ATTACK_CHAIN *)Context;
    PIRP Out = NULL;

    __atomic_add_fetch(&State->Callbacks, 1, __ATOMIC_SEQ_CST);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    if (Irp == State->Irps[0]) {
        (VOID)IoCancelIrp(State->Irps[1]);
        State->RemoveStatus = WdkmCsqRemoveIrp(Csq, &State->Contexts[2], &Out);
        if (Out != NULL) {
            IoCompleteRequest(Out, IO_NO_INCREMENT);
        }
    }
}

static VOID
CsqCallbackUsesQueue(VOID)
{
    ULONG Index;

    memset(&Chain, 0, sizeof(Chain));
    CHECK_STATUS(WdkmCsqCreate(ChainCallback, &Chain, &Chain.Csq), STATUS_SUCCESS);
    for (Index = 0; Index < 3; Index += 1) {
        Chain.Irps[Index] = NewIrp();
        CHECK_STATUS(WdkmCsqInsertIrp(Chain.Csq, Chain.Irps[Index], &Chain.Contexts[Index]),
                     STATUS_PENDING);
    }
    CHECK(IoCancelIrp(Chain.Irps[0]));
    CHECK_EQ(Chain.Callbacks, 2);
    CHECK_STATUS(Chain.RemoveStatus, STATUS_SUCCESS);
    CHECK_EQ(CsqCount(Chain.Csq), 0);
    CHECK_STATUS(WdkmCsqDestroy(Chain.Csq), STATUS_SUCCESS);
    for (Index = 0; Index < 3; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(Chain.Irps[Index]), 1);
        WdkmHostIrpFree(Chain.Irps[Index]);
    }
}

/* Registry misuse through the scoped forms and Dereference: nothing is
   acquired, no reference is kept. */
static VOID
GrtScopedMisuse(VOID)
{
    ATTACK_VALUE Initial = { 1, 2 };
    ATTACK_VALUE *Data;
    ULONG *Small;
    NTSTATUS Status;
    BOOLEAN Ran = FALSE;
    PWDKM_FAST_MUTEX Own;
    PVOID Lock;
    WDKM_GRT_REPORT Report;
    char Long[WDKM_GRT_MAX_NAME_LENGTH + 2];

    GrtStart();
    memset(Long, 'a', sizeof(Long) - 1);
    Long[sizeof(Long) - 1] = 0;
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("fm", &Initial), STATUS_SUCCESS);
    WDKM_GRT_FAST_MUTEX_SCOPED("nope", Data, &Status) { Ran = TRUE; }
    CHECK_STATUS(Status, STATUS_OBJECT_NAME_NOT_FOUND);
    WDKM_GRT_FAST_MUTEX_SCOPED("", Data, &Status) { Ran = TRUE; }
    CHECK_STATUS(Status, STATUS_OBJECT_NAME_INVALID);
    WDKM_GRT_FAST_MUTEX_SCOPED(Long, Data, &Status) { Ran = TRUE; }
    CHECK_STATUS(Status, STATUS_NAME_TOO_LONG);
    WDKM_GRT_FAST_MUTEX_SCOPED("fm", Small, &Status) { Ran = TRUE; }
    CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
    WDKM_GRT_KMUTEX_SCOPED("fm", Data, &Status) { Ran = TRUE; }
    CHECK_STATUS(Status, STATUS_WDKM_TYPE_MISMATCH);
    CHECK(!Ran);

    CHECK_STATUS(WdkmGrtDereference(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmFastMutexCreate(&Initial, sizeof(Initial), &Own), STATUS_SUCCESS);
    CHECK_STATUS(WdkmGrtDereference(Own), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmFastMutexDestroy(Own), STATUS_SUCCESS);

    CHECK_STATUS(WDKM_GRT_GET_FAST_MUTEX("fm", ATTACK_VALUE, &Lock), STATUS_SUCCESS);
    CHECK_STATUS(WdkmFastMutexDestroy((PWDKM_FAST_MUTEX)Lock), STATUS_WDKM_OWNED_BY_REGISTRY);
    CHECK_STATUS(WdkmGrtDereference(Lock), STATUS_SUCCESS);

    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced + Report.UnregisteredReferenced, 0);
    CHECK_EQ(WdkmTestPoolOutstanding(), GrtPoolBaseline);
}


#if 1 /* ATTACK_FINDING_2: fixed, kept as its regression test */
/*
 * A DPC that interrupts the holder of a registry lock, looks the lock up
 * (allowed: "A DPC can interrupt it and may itself look names up"), finds
 * it busy (for a KMUTEX the docs even say "The library refuses that try
 * with STATUS_TIMEOUT (the mutex is busy: the interrupted code holds
 * it)") and drops its reference, is refused with STATUS_WDKM_LOCK_HELD
 * and the reference is kept. The DPC cannot release a hold that is not
 * its own, so the reference leaks: WdkmGrtDestroy(NULL, ...) at unload
 * then waits forever (here, with a 100 ms timeout: STATUS_TIMEOUT,
 * StillReferenced 4; with the suite's cleanup, WdkmGrtDestroy(NULL, NULL),
 * the test program hangs). Same for FAST_MUTEX, ERESOURCE and push lock holds.
 * Docs, reference.md WdkmGrtDereference: "STATUS_WDKM_LOCK_HELD (the
 * calling thread still holds the lock: the reference is kept, release
 * first)" - a DPC has nothing to release; "Another thread's hold is no
 * reason to refuse." The scoped forms were fixed for this (1f4dd7c);
 * the explicit Reference/Dereference pair a DPC uses was not.
 */
static VOID
AttackFinding2(VOID)
{
    static const char *const Names[] = { "fm", "km", "res", "pl" };
    static const WDKM_LOCK_KIND Kinds[] = {
        WdkmLockKindFastMutex, WdkmLockKindKMutex, WdkmLockKindResource, WdkmLockKindPushLock,
    };
    ATTACK_VALUE Initial = { 1, 2 };
    ATTACK_VALUE *Data;
    NTSTATUS Status;
    NTSTATUS Reference;
    NTSTATUS Dereference;
    PVOID Lock;
    KIRQL OldIrql;
    ULONG Index;
    LARGE_INTEGER Timeout;
    WDKM_GRT_REPORT Report;

    GrtStart();
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("fm", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_KMUTEX("km", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_RESOURCE("res", &Initial), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_PUSH_LOCK("pl", &Initial), STATUS_SUCCESS);
    for (Index = 0; Index < 4; Index += 1) {
        Reference = STATUS_UNSUCCESSFUL;
        Dereference = STATUS_UNSUCCESSFUL;
        WDKM_GRT_SCOPED(Names[Index], Kinds[Index], Data, &Status) {
            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);          /* the DPC */
            Reference = WdkmGrtReference(Names[Index], Kinds[Index], sizeof(ATTACK_VALUE), &Lock);
            if (Reference == STATUS_SUCCESS) {
                Dereference = WdkmGrtDereference(Lock);     /* STATUS_WDKM_LOCK_HELD */
            }
            KeLowerIrql(OldIrql);
        }
        CHECK_STATUS(Status, STATUS_SUCCESS);
        CHECK_STATUS(Reference, STATUS_SUCCESS);
        CHECK_STATUS(Dereference, STATUS_SUCCESS);
    }
    Timeout.QuadPart = -1000000;                            /* 100 ms */
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_SUCCESS);
    CHECK_EQ(Report.StillReferenced, 0);
}
#endif

/* Random DPCs look names up and take a registered spin lock through the
   scoped form while the interrupted thread registers, replaces,
   unregisters and holds registry locks, and finally destroys the registry.
   Every status is one the docs list; nothing leaks. */
typedef struct _ATTACK_GRT_INJECT {
    LONG volatile Active;
    LONG volatile Unexpected;
    NTSTATUS volatile LastUnexpected;
    LONG volatile Took;
} ATTACK_GRT_INJECT;

static ATTACK_GRT_INJECT GrtInject;

static VOID
GrtInjectRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    ATTACK_GRT_INJECT *State = (ATTACK_GRT_INJECT *)Context;
    ATTACK_VALUE *Data;
    NTSTATUS Status;
    PVOID Lock;

    UNREFERENCED_PARAMETER(Random);
    if (Kind != WdkmHostInterruptDpc || !__atomic_load_n(&State->Active, __ATOMIC_ACQUIRE)) {
        return;
    }
    if (Random % 2 == 0) {
        WDKM_GRT_SCOPED("sl", WdkmLockKindSpinLock, Data, &Status) {
            Data->A += 1;
            __atomic_add_fetch(&State->Took, 1, __ATOMIC_RELAXED);
        }
    } else {
        Status = WDKM_GRT_GET_SPIN_LOCK("sl", ATTACK_VALUE, &Lock);
        if (Status == STATUS_SUCCESS) {
            Status = WdkmGrtDereference(Lock);
        }
    }
    if (Status != STATUS_SUCCESS && Status != STATUS_OBJECT_NAME_NOT_FOUND &&
        Status != STATUS_DELETE_PENDING && Status != STATUS_WDKM_NOT_INITIALIZED) {
        __atomic_add_fetch(&State->Unexpected, 1, __ATOMIC_SEQ_CST);
        State->LastUnexpected = Status;
    }
}

static VOID
GrtInjectWorker(PVOID Context, ULONG Index)
{
    ATTACK_GRT_INJECT *State = (ATTACK_GRT_INJECT *)Context;
    ATTACK_VALUE Initial = { 0, 0 };
    ATTACK_VALUE *Data;
    NTSTATUS Status;
    ULONG Round;

    UNREFERENCED_PARAMETER(Index);
    for (Round = 0; Round < 150; Round += 1) {
        if (WDKM_GRT_REPLACE_SPIN_LOCK("sl", &Initial) != STATUS_SUCCESS) {
            __atomic_add_fetch(&State->Unexpected, 1, __ATOMIC_SEQ_CST);
        }
        KeStallExecutionProcessor(20);
        WDKM_GRT_FAST_MUTEX_SCOPED("fm", Data, &Status) {
            Data->A += 1;
            KeStallExecutionProcessor(20);      /* a DPC lands in the hold */
        }
        if (Status != STATUS_SUCCESS) {
            __atomic_add_fetch(&State->Unexpected, 1, __ATOMIC_SEQ_CST);
        }
        if (Round % 3 == 0) {
            (VOID)WdkmGrtUnregister("sl");
            KeStallExecutionProcessor(20);
        }
    }
}

static VOID
GrtRandomDpcs(VOID)
{
    ULONG Rounds;
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS];
    ATTACK_VALUE Initial = { 0, 0 };
    WDKM_GRT_REPORT Report;

    if (WdkmHostInterruptsActive(NULL)) {
        return;
    }
    GrtStart();
    memset(&GrtInject, 0, sizeof(GrtInject));
    CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
    CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX("fm", &Initial), STATUS_SUCCESS);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 11;
    Settings.MeanIntervalMicroseconds = 15;
    Settings.DpcWeight = 1;
    Settings.Routine = GrtInjectRoutine;
    Settings.Context = &GrtInject;
    __atomic_store_n(&GrtInject.Active, 1, __ATOMIC_RELEASE);
    WdkmHostInterruptsStart(&Settings);
    /* Until DPCs have landed: under valgrind, which runs one thread at a
       time, a round can pass without one. */
    for (Rounds = 0; Rounds < 20; Rounds += 1) {
        (VOID)WdkmTestRunThreads(2, GrtInjectWorker, &GrtInject);
        WdkmHostQueryInterruptCounts(Delivered, NULL);
        if (Delivered[WdkmHostInterruptDpc] > 0 && GrtInject.Took > 0) {
            break;
        }
    }
    memset(&Report, 0, sizeof(Report));
    CHECK_STATUS(WdkmGrtDestroy(NULL, &Report), STATUS_SUCCESS);
    WdkmHostInterruptsStop();
    WdkmHostQueryInterruptCounts(Delivered, NULL);
    CHECK_EQ(GrtInject.Unexpected, 0);
    CHECK_EQ(Report.StillReferenced + Report.UnregisteredReferenced, 0);
    CHECK_EQ(WdkmTestPoolOutstanding(), GrtPoolBaseline);
    CHECK(Delivered[WdkmHostInterruptDpc] > 0);
    CHECK(GrtInject.Took > 0);
}

/* ---------------------------------------------------------------------- */
/* WdkmStatusForRequest                                                    */
/* ---------------------------------------------------------------------- */

static VOID
StatusForRequestTable(VOID)
{
    CHECK_STATUS(WdkmStatusForRequest(STATUS_WDKM_NOT_INITIALIZED), STATUS_DEVICE_NOT_READY);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_WDKM_LOCK_HELD), STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_WDKM_ALREADY_INITIALIZED),
                 STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_WDKM_IRQL_TOO_HIGH), STATUS_INTERNAL_ERROR);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_WDKM_IRQL_MISMATCH), STATUS_INTERNAL_ERROR);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_WDKM_NOT_OWNER), STATUS_INTERNAL_ERROR);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_WDKM_NOT_HELD), STATUS_INTERNAL_ERROR);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_WDKM_TYPE_MISMATCH), STATUS_INTERNAL_ERROR);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_WDKM_OWNED_BY_REGISTRY), STATUS_INTERNAL_ERROR);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_WDKM_LEAK_DETECTED), STATUS_INTERNAL_ERROR);
    /* Anything else, success included, unchanged. */
    CHECK_STATUS(WdkmStatusForRequest(STATUS_SUCCESS), STATUS_SUCCESS);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_PENDING), STATUS_PENDING);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_TIMEOUT), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_CANCELLED), STATUS_CANCELLED);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_POSSIBLE_DEADLOCK), STATUS_POSSIBLE_DEADLOCK);
    CHECK_STATUS(WdkmStatusForRequest(STATUS_INVALID_PARAMETER), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmStatusForRequest((NTSTATUS)0xE0010001L), (NTSTATUS)0xE0010001L);
    /* Callable at any IRQL. */
    {
        KIRQL OldIrql;
        NTSTATUS Status;

        KeRaiseIrql(HIGH_LEVEL, &OldIrql);
        Status = WdkmStatusForRequest(STATUS_WDKM_NOT_OWNER);
        KeLowerIrql(OldIrql);
        CHECK_STATUS(Status, STATUS_INTERNAL_ERROR);
    }
}

/* "a static string such as "STATUS_WDKM_NOT_OWNER" for every status the
   library returns": the leak check's code has its name too. */
static VOID
StatusNamesOwnCodes(VOID)
{
    CHECK(strcmp(WdkmStatusName(STATUS_WDKM_LEAK_DETECTED), "STATUS_WDKM_LEAK_DETECTED") == 0);
    CHECK(strcmp(WdkmStatusName(STATUS_WDKM_OWNED_BY_REGISTRY),
                 "STATUS_WDKM_OWNED_BY_REGISTRY") == 0);
    CHECK(strcmp(WdkmStatusName(STATUS_DELETE_PENDING), "STATUS_DELETE_PENDING") == 0);
    CHECK(strcmp(WdkmStatusName(STATUS_POSSIBLE_DEADLOCK), "STATUS_POSSIBLE_DEADLOCK") == 0);
    CHECK(strcmp(WdkmStatusName(STATUS_OBJECT_NAME_COLLISION),
                 "STATUS_OBJECT_NAME_COLLISION") == 0);
}

#if 1 /* ATTACK_FINDING_5: fixed, kept as its regression test */
/*
 * WdkmStatusName answers "STATUS_<unknown>" for three statuses the
 * cancel-safe queue returns. Doc (wdkm_status.h, reference.md): "Returns
 * a static string such as "STATUS_WDKM_NOT_OWNER" for every status the
 * library returns". WdkmCsqInsertIrp returns STATUS_PENDING,
 * WdkmCsqRemoveNextIrp STATUS_NO_MORE_ENTRIES, WdkmCsqRemoveIrp
 * STATUS_NOT_FOUND. (The test framework's CHECK_STATUS prints
 * "STATUS_<unknown>" for them too.)
 */
static VOID
AttackFinding5(VOID)
{
    CHECK(strcmp(WdkmStatusName(STATUS_PENDING), "STATUS_PENDING") == 0);
    CHECK(strcmp(WdkmStatusName(STATUS_NO_MORE_ENTRIES), "STATUS_NO_MORE_ENTRIES") == 0);
    CHECK(strcmp(WdkmStatusName(STATUS_NOT_FOUND), "STATUS_NOT_FOUND") == 0);
}
#endif

static VOID
AttackCleanup(VOID)
{
    WdkmHostPoolFailAt(-1);
    (VOID)WdkmGrtDestroy(NULL, NULL);
}

/*
 * Findings fixed since and run here: ATTACK_FINDING_1 AttackFinding1,
 * ATTACK_FINDING_2 AttackFinding2, ATTACK_FINDING_3 AttackFinding3,
 * ATTACK_FINDING_5 AttackFinding5. ATTACK_FINDING_7 is worked around at
 * the top of this file. Not host-testable, found with an out-of-tree project built against
 * the installed package (docs/packaging.md):
 *   ATTACK_FINDING_4: a driver using only a FAST_MUTEX, against the Release
 *     package, imports KeAcquireSpinLockRaiseToDpc and KeReleaseSpinLock
 *     (the nesting table's shard lock, src/wdkm_lock.c) and names
 *     KeTryToAcquireSpinLockAtDpcLevel, KeInitializeGuardedMutex,
 *     KeAcquireGuardedMutex, KeReleaseGuardedMutex,
 *     KeTryToAcquireGuardedMutex and ExfAcquire/ReleasePushLock* for a
 *     run-time look-up (the whole routine table of port/wdk is one
 *     object). packaging.md: "a driver that uses one lock kind imports no
 *     routine of another"; check-package.sh only checks a spin-lock driver.
 *   ATTACK_FINDING_6: the same driver, Release against a Debug (checked)
 *     package ("and the reverse"), imports routines of every kind
 *     (KeWaitForSingleObject, KeInitializeMutex, ExInitializeResourceLite,
 *     KeAcquireInStackQueuedSpinLock, KeEnterGuardedRegion, ...): 305 KB
 *     against 50 KB. The docs name no exception for checked builds.
 *   ATTACK_FINDING_9: wdkm_add_usermode_exe puts include/wdkmutex/support
 *     on the include path, not include/: the helpers are included as
 *     <wdkm_service.h>; <wdkmutex/support/wdkm_service.h>, the spelling
 *     the installed layout suggests, does not compile. Neither
 *     packaging.md nor support/README.md says which.
 */
static const WDKM_TEST_CASE AttackCases[] = {
    { "csq_nulls", CsqNulls },
    { "csq_create_out_of_pool", CsqCreateOutOfPool },
    { "csq_wrong_irql", CsqWrongIrql },
    { "csq_double_insert", CsqDoubleInsert },
    { "csq_remove_not_queued", CsqRemoveNotQueued },
    { "csq_cancel_before_insert", CsqCancelBeforeInsert },
    { "csq_driver_context_kept", CsqDriverContextKept },
    { "csq_match_misuse", CsqMatchMisuse },
    { "csq_match_cancel_then_remove_by_context", CsqMatchCancelThenRemoveByContext },
    { "csq_handle_confusion_and_pool_failure", CsqHandleConfusionAndPoolFailure },
    { "csq_context_after_cancel_and_reuse", CsqContextAfterCancelAndReuse },
    { "csq_match_cancel_then_destroy", CsqMatchCancelThenDestroy },
    { "csq_destroy_drains", CsqDestroyDrains },
    { "csq_destroy_waits_for_running_cancel", CsqDestroyWaitsForRunningCancel },
    { "csq_insert_remove_cancel_race", CsqInsertRemoveCancelRace },
    { "csq_dpc_inside_insert", CsqDpcInsideInsert },
    { "csq_random_dpcs", CsqRandomDpcs },
    { "csq_cancel_from_callback_during_destroy", CsqCancelFromCallbackDuringDestroy },
    { "csq_callback_uses_queue", CsqCallbackUsesQueue },
    { "grt_scoped_misuse", GrtScopedMisuse },
    { "grt_typed_registration_every_kind", GrtTypedRegistrationEveryKind },
    { "grt_scoped_recursion", GrtScopedRecursion },
    { "grt_scoped_from_dpc_over_holder", GrtScopedFromDpcOverHolder },
    { "grt_dereference_while_holding", GrtDereferenceWhileHolding },
    { "grt_dereference_many_shared_readers", GrtDereferenceManySharedReaders },
    { "grt_random_dpcs", GrtRandomDpcs },
    { "status_for_request_table", StatusForRequestTable },
    { "status_names_own_codes", StatusNamesOwnCodes },
    { "finding1_match_cancel_goes_to_the_callback", AttackFinding1 },
    { "finding2_dpc_dereference_over_holder", AttackFinding2 },
    { "finding3_dereference_of_a_queue_handle", AttackFinding3 },
    { "finding5_every_returned_status_named", AttackFinding5 },
};

const WDKM_TEST_SUITE WdkmAttackSuite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack", AttackCases, AttackCleanup);
