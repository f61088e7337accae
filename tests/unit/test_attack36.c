/*
 * test_attack36.c - the cancel-safe queue's current IRP (WDKM_CSQ_CURRENT,
 * WdkmCsqInitializeCurrent, WdkmCsqStartNextIrp, WdkmCsqCheckCurrentIrp,
 * WdkmCsqEndCurrentIrp, WdkmCsqCancelCurrentIrps, WdkmCsqDestroy's
 * STATUS_DEVICE_BUSY) attacked from its documentation alone (docs/csq.md,
 * docs/reference.md, wdkm_csq.h, docs/host-testing.md): every refusal
 * returns its status and changes nothing, every row of csq.md's timing
 * table, a cancel routine IoCancelIrp took that runs after the end (the
 * record freed, reused, moved to another queue), match callbacks that
 * cancel or call the queue, DPCs and APCs inside the start and the end,
 * racing cancellers, two workers on one record, the destroy racing the last
 * end, and a seeded model of each IRP's fate under injected events.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wdkm_test_irp.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

/* Per IRP, in DriverContext[0..2] (the driver's while the queue has it). */
#define A36_INDEX(Irp)  ((Irp)->Tail.Overlay.DriverContext[0])

/* The queue's CompleteCanceledIrp: counts (per queue, and per IRP through
   DriverContext[1]), records the IRQL, completes cancelled. */
typedef struct _A36_QUEUE {
    PWDKM_CSQ Csq;
    volatile LONG Callbacks;
    volatile LONG AboveDispatch;        /* callbacks run above DISPATCH_LEVEL */
    VOID (*Hook)(struct _A36_QUEUE *Queue, PIRP Irp);   /* inside the callback, before completing */
    PVOID HookContext;
} A36_QUEUE;

static LONG
A36Load(volatile LONG *Value)
{
    return __atomic_load_n(Value, __ATOMIC_SEQ_CST);
}

static VOID
A36Store(volatile LONG *Value, LONG New)
{
    __atomic_store_n(Value, New, __ATOMIC_SEQ_CST);
}

static LONG
A36Add(volatile LONG *Value, LONG Delta)
{
    return __atomic_add_fetch(Value, Delta, __ATOMIC_SEQ_CST);
}

static LONG
A36IrpCallbacks(PIRP Irp)
{
    return (LONG)__atomic_load_n((LONG_PTR *)&Irp->Tail.Overlay.DriverContext[1],
                                 __ATOMIC_SEQ_CST);
}

static VOID
A36CompleteCancelled(PWDKM_CSQ Csq, PIRP Irp, PVOID Context)
{
    A36_QUEUE *Queue = (A36_QUEUE *)Context;

    UNREFERENCED_PARAMETER(Csq);
    if (KeGetCurrentIrql() > DISPATCH_LEVEL) {
        A36Add(&Queue->AboveDispatch, 1);
    }
    __atomic_add_fetch((LONG_PTR *)&Irp->Tail.Overlay.DriverContext[1], 1, __ATOMIC_SEQ_CST);
    A36Add(&Queue->Callbacks, 1);
    if (Queue->Hook != NULL) {
        Queue->Hook(Queue, Irp);
    }
    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static BOOLEAN
A36Create(A36_QUEUE *Queue)
{
    memset(Queue, 0, sizeof(*Queue));
    return WdkmCsqCreate(A36CompleteCancelled, Queue, &Queue->Csq) == STATUS_SUCCESS;
}

static PIRP
A36Irp(ULONG Index)
{
    PIRP Irp = WdkmTestIrpAllocate(NULL, NULL);

    if (Irp != NULL) {
        A36_INDEX(Irp) = (PVOID)(ULONG_PTR)Index;
    }
    return Irp;
}

/* OnCancel: counts, records the IRQL. Context is an A36_WAKE. */
typedef struct _A36_WAKE {
    volatile LONG Calls;
    volatile LONG AboveDispatch;
    VOID (*Hook)(struct _A36_WAKE *Wake);
    PVOID HookContext;
} A36_WAKE;

static VOID
A36OnCancel(PWDKM_CSQ Csq, PVOID Context)
{
    A36_WAKE *Wake = (A36_WAKE *)Context;

    UNREFERENCED_PARAMETER(Csq);
    if (KeGetCurrentIrql() > DISPATCH_LEVEL) {
        A36Add(&Wake->AboveDispatch, 1);
    }
    A36Add(&Wake->Calls, 1);
    if (Wake->Hook != NULL) {
        Wake->Hook(Wake);
    }
}

/* The subject of most cases: Queue created, Record initialised (its
   OnCancel counting into Wake, zeroed first; no OnCancel if Wake is NULL)
   and Count IRPs, numbered from 0, made and inserted in order into Irps.
   FALSE, with the test failed, if anything is refused. */
static BOOLEAN
A36SetUp(A36_QUEUE *Queue, PWDKM_CSQ_CURRENT Record, A36_WAKE *Wake, PIRP *Irps, ULONG Count)
{
    NTSTATUS Status;
    ULONG Index;

    if (Wake != NULL) {
        memset(Wake, 0, sizeof(*Wake));
    }
    if (!A36Create(Queue)) {
        return WdkmTestFail(__FILE__, __LINE__, "create");
    }
    Status = WdkmCsqInitializeCurrent(Record, Wake != NULL ? A36OnCancel : NULL, Wake);
    if (Status != STATUS_SUCCESS) {
        return WdkmTestFail(__FILE__, __LINE__, "initialise: %s", WdkmStatusName(Status));
    }
    for (Index = 0; Index < Count; Index += 1) {
        Irps[Index] = A36Irp(Index);
        if (Irps[Index] == NULL) {
            return WdkmTestFail(__FILE__, __LINE__, "no IRP");
        }
        Status = WdkmCsqInsertIrp(Queue->Csq, Irps[Index], NULL);
        if (Status != STATUS_PENDING) {
            return WdkmTestFail(__FILE__, __LINE__, "insert: %s", WdkmStatusName(Status));
        }
    }
    return TRUE;
}

/* A refusal with nothing changed: the record byte for byte, and the IRP's
   cancel routine. */
#define A36_REFUSED(Record, Call, Expected)                                 \
    do {                                                                    \
        WDKM_CSQ_CURRENT A36Before_;                                        \
        memcpy(&A36Before_, (Record), sizeof(A36Before_));                  \
        CHECK_STATUS((Call), (Expected));                                   \
        CHECK(memcmp(&A36Before_, (Record), sizeof(A36Before_)) == 0);      \
    } while (0)

/* ---------------------------------------------------------------------- */
/* Refusals                                                                */
/* ---------------------------------------------------------------------- */

/* NULLs, zeroed and garbage records, a record of another queue, a second
   start and a second end, every call above its IRQL: each refused with its
   status, the record, the queue and the IRP unchanged. */
static VOID
A36Refusals(VOID)
{
    A36_QUEUE Queue;
    A36_QUEUE Other;
    WDKM_CSQ_CURRENT Record;
    WDKM_CSQ_CURRENT Zeroed;
    WDKM_CSQ_CURRENT Garbage;
    PWDKM_SPIN_LOCK Lock = NULL;
    ULONG LockValue = 0;
    PIRP Irps[2];
    PIRP Irp = (PIRP)(ULONG_PTR)1;
    PDRIVER_CANCEL Routine;
    ULONG Count = 77;
    KIRQL OldIrql;

    CHECK(A36Create(&Queue));
    CHECK(A36Create(&Other));
    CHECK_STATUS(WdkmSpinLockCreate(&LockValue, sizeof(LockValue), &Lock), STATUS_SUCCESS);
    Irps[0] = A36Irp(0);
    Irps[1] = A36Irp(1);
    CHECK(Irps[0] != NULL && Irps[1] != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[0], NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[1], NULL), STATUS_PENDING);

    CHECK_STATUS(WdkmCsqInitializeCurrent(NULL, NULL, NULL), STATUS_INVALID_PARAMETER);
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Count = (ULONG)WdkmCsqInitializeCurrent(&Record, NULL, NULL);   /* IRQL: any */
    KeLowerIrql(OldIrql);
    CHECK_EQ((NTSTATUS)Count, STATUS_SUCCESS);

    /* Zeroed and garbage records: nothing taken. */
    memset(&Zeroed, 0, sizeof(Zeroed));
    memset(&Garbage, 0xA5, sizeof(Garbage));
    A36_REFUSED(&Zeroed, WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Zeroed, &Irp),
                STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Garbage, WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Garbage, &Irp),
                STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Zeroed, WdkmCsqCheckCurrentIrp(Queue.Csq, &Zeroed), STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Garbage, WdkmCsqCheckCurrentIrp(Queue.Csq, &Garbage), STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Zeroed, WdkmCsqEndCurrentIrp(Queue.Csq, &Zeroed), STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Garbage, WdkmCsqEndCurrentIrp(Queue.Csq, &Garbage), STATUS_INVALID_PARAMETER);
    CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 2);

    /* NULLs. */
    CHECK_STATUS(WdkmCsqStartNextIrp(NULL, NULL, NULL, &Record, &Irp), STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Record, WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, NULL, &Irp),
                STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Record, WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, NULL),
                STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(NULL, NULL, NULL, NULL), STATUS_INVALID_PARAMETER);
    CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 2);

    /* Not a queue. */
    A36_REFUSED(&Record, WdkmCsqStartNextIrp((PWDKM_CSQ)Lock, NULL, NULL, &Record, &Irp),
                STATUS_WDKM_TYPE_MISMATCH);
    CHECK_STATUS(WdkmCsqCancelCurrentIrps((PWDKM_CSQ)Lock, NULL, NULL, NULL),
                 STATUS_WDKM_TYPE_MISMATCH);

    /* Idle record: check and end refused. */
    A36_REFUSED(&Record, WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Record, WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_INVALID_PARAMETER);

    /* Above DISPATCH_LEVEL. */
    KeRaiseIrql(HIGH_LEVEL, &OldIrql);
    Count = (ULONG)WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp);
    KeLowerIrql(OldIrql);
    CHECK_EQ((NTSTATUS)Count, STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 2);

    /* Hold one. */
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
    CHECK(Irp == Irps[0]);
    Routine = __atomic_load_n(&Irps[0]->CancelRoutine, __ATOMIC_SEQ_CST);
    CHECK(Routine != NULL);                                 /* still armed */
    CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 1);               /* current not counted */

    /* A second start, the wrong queue, the IRQL: nothing changes. */
    A36_REFUSED(&Record, WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp),
                STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Record, WdkmCsqStartNextIrp(Other.Csq, NULL, NULL, &Record, &Irp),
                STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Record, WdkmCsqCheckCurrentIrp(Other.Csq, &Record), STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Record, WdkmCsqEndCurrentIrp(Other.Csq, &Record), STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Record, WdkmCsqEndCurrentIrp((PWDKM_CSQ)Lock, &Record),
                STATUS_WDKM_TYPE_MISMATCH);
    A36_REFUSED(&Record, WdkmCsqCheckCurrentIrp((PWDKM_CSQ)Lock, &Record),
                STATUS_WDKM_TYPE_MISMATCH);
    {
        WDKM_CSQ_CURRENT Before;
        NTSTATUS Status[3];

        memcpy(&Before, &Record, sizeof(Before));
        KeRaiseIrql(HIGH_LEVEL, &OldIrql);
        Status[0] = WdkmCsqCheckCurrentIrp(Queue.Csq, &Record);
        Status[1] = WdkmCsqEndCurrentIrp(Queue.Csq, &Record);
        Status[2] = WdkmCsqCancelCurrentIrps(Queue.Csq, NULL, NULL, &Count);
        KeLowerIrql(OldIrql);
        CHECK_STATUS(Status[0], STATUS_WDKM_IRQL_TOO_HIGH);
        CHECK_STATUS(Status[1], STATUS_WDKM_IRQL_TOO_HIGH);
        CHECK_STATUS(Status[2], STATUS_WDKM_IRQL_TOO_HIGH);
        CHECK(memcmp(&Before, &Record, sizeof(Before)) == 0);
    }
    CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 1);
    CHECK(__atomic_load_n(&Irps[0]->CancelRoutine, __ATOMIC_SEQ_CST) == Routine);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);

    /* Busy: the destroy refuses and changes nothing (inserts still taken);
       above PASSIVE_LEVEL it refuses first. */
    {
        NTSTATUS Status[2];

        KeRaiseIrql(APC_LEVEL, &OldIrql);
        Status[0] = WdkmCsqDestroy(Queue.Csq);
        KeLowerIrql(OldIrql);
        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        Status[1] = WdkmCsqDestroy(Queue.Csq);
        KeLowerIrql(OldIrql);
        CHECK_STATUS(Status[0], STATUS_WDKM_IRQL_TOO_HIGH);
        CHECK_STATUS(Status[1], STATUS_WDKM_IRQL_TOO_HIGH);
    }
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_DEVICE_BUSY);
    CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 1);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
    {
        PIRP Late = A36Irp(2);
        PIRP Taken = NULL;

        CHECK(Late != NULL);
        CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Late, NULL), STATUS_PENDING);
        CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, NULL, NULL, &Taken), STATUS_SUCCESS);
        CHECK(Taken == Irps[1]);
        WdkmTestIrpComplete(Taken, STATUS_SUCCESS, 1);
        CHECK_STATUS(WdkmCsqRemoveNextIrp(Queue.Csq, NULL, NULL, &Taken), STATUS_SUCCESS);
        CHECK(Taken == Late);
        WdkmTestIrpComplete(Late, STATUS_SUCCESS, 1);
        WdkmHostIrpFree(Late);
    }

    /* The end, then a second end. */
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
    CHECK(__atomic_load_n(&Irps[0]->CancelRoutine, __ATOMIC_SEQ_CST) == NULL);
    A36_REFUSED(&Record, WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_INVALID_PARAMETER);
    A36_REFUSED(&Record, WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_INVALID_PARAMETER);
    CHECK(!IoCancelIrp(Irps[0]));
    WdkmTestIrpComplete(Irps[0], STATUS_SUCCESS, 1);
    CHECK_EQ(Queue.Callbacks, 0);

    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqDestroy(Other.Csq), STATUS_SUCCESS);
    CHECK_STATUS(WdkmSpinLockDestroy(Lock), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[1]), 1);
    WdkmHostIrpFree(Irps[0]);
    WdkmHostIrpFree(Irps[1]);
}

/* ---------------------------------------------------------------------- */
/* csq.md's table, row by row                                              */
/* ---------------------------------------------------------------------- */

/* Before the insert, and while queued: never current, the callback's. */
static VOID
A36CancelBeforeStart(VOID)
{
    A36_QUEUE Queue;
    A36_WAKE Wake;
    WDKM_CSQ_CURRENT Record;
    PIRP Irps[2];
    PIRP Irp = NULL;

    memset(&Wake, 0, sizeof(Wake));
    CHECK(A36Create(&Queue));
    CHECK_STATUS(WdkmCsqInitializeCurrent(&Record, A36OnCancel, &Wake), STATUS_SUCCESS);
    Irps[0] = A36Irp(0);
    Irps[1] = A36Irp(1);
    CHECK(Irps[0] != NULL && Irps[1] != NULL);

    CHECK(!IoCancelIrp(Irps[0]));                       /* before the insert */
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[0], NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[1], NULL), STATUS_PENDING);
    CHECK(IoCancelIrp(Irps[1]));                        /* while queued */
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp),
                 STATUS_NO_MORE_ENTRIES);
    CHECK(Irp == NULL);
    CHECK_EQ(Queue.Callbacks, 2);
    CHECK_EQ(Wake.Calls, 0);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[1]), 1);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Irps[0]);
    WdkmHostIrpFree(Irps[1]);
}

/* While current: marked, OnCancel once, never completed while held, the
   poll answers STATUS_CANCELLED (and keeps answering it), the end hands
   it to the callback. The insert's context is free once it is current. */
static VOID
A36CancelWhileCurrent(VOID)
{
    A36_QUEUE Queue;
    A36_WAKE Wake;
    WDKM_CSQ_CURRENT Record;
    WDKM_CSQ_IRP_CONTEXT Context;
    PIRP Irps[2];
    PIRP Irp = NULL;

    memset(&Wake, 0, sizeof(Wake));
    CHECK(A36Create(&Queue));
    CHECK_STATUS(WdkmCsqInitializeCurrent(&Record, A36OnCancel, &Wake), STATUS_SUCCESS);
    Irps[0] = A36Irp(0);
    Irps[1] = A36Irp(1);
    CHECK(Irps[0] != NULL && Irps[1] != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[0], &Context), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
    CHECK(Irp == Irps[0]);
    CHECK_STATUS(WdkmCsqRemoveIrp(Queue.Csq, &Context, &Irp), STATUS_NOT_FOUND);
    CHECK(Irp == NULL);
    /* The context is free again: a second IRP goes in with it. */
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[1], &Context), STATUS_PENDING);

    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
    CHECK(IoCancelIrp(Irps[0]));
    CHECK_EQ(Wake.Calls, 1);
    CHECK_EQ(Wake.AboveDispatch, 0);
    CHECK_EQ(Queue.Callbacks, 0);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 0);       /* the worker may still use it */
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_CANCELLED);
    CHECK(!IoCancelIrp(Irps[0]));                       /* a second request: no routine */
    CHECK_EQ(Wake.Calls, 1);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_CANCELLED);
    CHECK_EQ(Queue.Callbacks, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 1);
    CHECK(Irps[0]->IoStatus.Status == STATUS_CANCELLED);

    /* The record goes on with the second IRP, whose context still works. */
    CHECK_STATUS(WdkmCsqRemoveIrp(Queue.Csq, &Context, &Irp), STATUS_SUCCESS);
    CHECK(Irp == Irps[1]);
    WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 1);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(Wake.Calls, 1);
    WdkmHostIrpFree(Irps[0]);
    WdkmHostIrpFree(Irps[1]);
}

/* IoCancelIrp took the routine; the end comes before the routine runs:
   STATUS_CANCELLED, nothing completed yet; the routine completes it. A
   second IoCancelIrp in between finds no routine; the poll still says
   cancelled. The destroy is not refused after the end. */
static VOID
A36RoutineTakenBeforeEnd(VOID)
{
    A36_QUEUE Queue;
    A36_WAKE Wake;
    WDKM_CSQ_CURRENT Record;
    PDRIVER_CANCEL Routine;
    PIRP Irp = NULL;
    PIRP Held;

    CHECK(A36SetUp(&Queue, &Record, &Wake, &Held, 1));
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
    Routine = WdkmTestIrpTakeCancelRoutine(Held);
    CHECK(Routine != NULL);
    CHECK(!IoCancelIrp(Held));                          /* found no routine */
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_CANCELLED);
    CHECK_EQ(Queue.Callbacks, 0);
    CHECK_EQ(WdkmHostIrpCompletions(Held), 0);
    WdkmTestIrpCallCancelRoutine(Held, Routine);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(Queue.Callbacks, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Held), 1);
    CHECK(Wake.Calls <= 1);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Held);
}

/* After the end cleared the routine: IoCancelIrp finds none, the worker
   completes. The end at DISPATCH_LEVEL (a StartIo-style DPC), with the
   callback then at DISPATCH_LEVEL too. */
static VOID
A36EndsAtDispatch(VOID)
{
    A36_QUEUE Queue;
    A36_WAKE Wake;
    WDKM_CSQ_CURRENT Record;
    PIRP Irps[2];
    PIRP Irp = NULL;
    KIRQL OldIrql;
    NTSTATUS Status[4];

    CHECK(A36SetUp(&Queue, &Record, &Wake, Irps, 2));

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status[0] = WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp);
    Status[1] = WdkmCsqEndCurrentIrp(Queue.Csq, &Record);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status[0], STATUS_SUCCESS);
    CHECK_STATUS(Status[1], STATUS_SUCCESS);
    CHECK(!IoCancelIrp(Irps[0]));
    WdkmTestIrpComplete(Irps[0], STATUS_SUCCESS, 1);

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status[0] = WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp);
    Status[2] = IoCancelIrp(Irps[1]) ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
    Status[3] = WdkmCsqCheckCurrentIrp(Queue.Csq, &Record);
    Status[1] = WdkmCsqEndCurrentIrp(Queue.Csq, &Record);
    KeLowerIrql(OldIrql);
    CHECK_STATUS(Status[0], STATUS_SUCCESS);
    CHECK_STATUS(Status[2], STATUS_SUCCESS);
    CHECK_STATUS(Status[3], STATUS_CANCELLED);
    CHECK_STATUS(Status[1], STATUS_CANCELLED);
    CHECK_EQ(Queue.Callbacks, 1);
    CHECK_EQ(Queue.AboveDispatch, 0);
    CHECK_EQ(Wake.Calls, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[1]), 1);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Irps[0]);
    WdkmHostIrpFree(Irps[1]);
}

/* Cleanup and unload: WdkmCsqCancelCurrentIrps marks, calls OnCancel once,
   leaves the routine armed; a later IoCancelIrp takes it but OnCancel is
   not called again; counts only new marks; a match picks records. */
static BOOLEAN
A36MatchIndex(PIRP Irp, PVOID MatchContext)
{
    return A36_INDEX(Irp) == MatchContext;
}

static VOID
A36CancelCurrentIrps(VOID)
{
    A36_QUEUE Queue;
    A36_WAKE Wakes[2];
    WDKM_CSQ_CURRENT Records[2];
    PIRP Irps[2];
    PIRP Irp = NULL;
    ULONG Count = 99;
    ULONG Index;

    memset(Wakes, 0, sizeof(Wakes));
    CHECK(A36Create(&Queue));
    for (Index = 0; Index < 2; Index += 1) {
        CHECK_STATUS(WdkmCsqInitializeCurrent(&Records[Index], A36OnCancel, &Wakes[Index]),
                     STATUS_SUCCESS);
        Irps[Index] = A36Irp(Index);
        CHECK(Irps[Index] != NULL);
        CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[Index], NULL), STATUS_PENDING);
    }
    for (Index = 0; Index < 2; Index += 1) {
        CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Records[Index], &Irp),
                     STATUS_SUCCESS);
        CHECK(Irp == Irps[Index]);
    }
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(Queue.Csq, A36MatchIndex, (PVOID)(ULONG_PTR)1, &Count),
                 STATUS_SUCCESS);
    CHECK_EQ(Count, 1);
    CHECK_EQ(Wakes[0].Calls, 0);
    CHECK_EQ(Wakes[1].Calls, 1);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Records[0]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Records[1]), STATUS_CANCELLED);
    CHECK(__atomic_load_n(&Irps[1]->CancelRoutine, __ATOMIC_SEQ_CST) != NULL);
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(Queue.Csq, NULL, NULL, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 1);                                 /* the first record's only */
    CHECK_EQ(Wakes[0].Calls, 1);
    CHECK_EQ(Wakes[1].Calls, 1);
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(Queue.Csq, NULL, NULL, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 0);
    CHECK(IoCancelIrp(Irps[0]));                        /* the routine stayed armed */
    CHECK_EQ(Wakes[0].Calls, 1);                        /* once per IRP */
    CHECK_EQ(Queue.Callbacks, 0);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_DEVICE_BUSY);
    for (Index = 0; Index < 2; Index += 1) {
        CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Records[Index]), STATUS_CANCELLED);
        CHECK_EQ(WdkmHostIrpCompletions(Irps[Index]), 1);
    }
    CHECK_EQ(Queue.Callbacks, 2);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    for (Index = 0; Index < 2; Index += 1) {
        WdkmHostIrpFree(Irps[Index]);
    }
}

/* ---------------------------------------------------------------------- */
/* The cancel routine IoCancelIrp took runs after the end                  */
/* ---------------------------------------------------------------------- */

/* The record "must stay in place while it holds an IRP": after the end it
   holds none, so the worker may free it (a worker thread's stack record,
   the thread gone) before the late routine runs. */
static VOID
A36LateRoutineRecordFreed(VOID)
{
    A36_QUEUE Queue;
    A36_WAKE Wake;
    PWDKM_CSQ_CURRENT Record;
    PDRIVER_CANCEL Routine;
    PIRP Held;
    PIRP Irp = NULL;

    memset(&Wake, 0, sizeof(Wake));
    CHECK(A36Create(&Queue));
    Record = (PWDKM_CSQ_CURRENT)malloc(sizeof(*Record));
    CHECK(Record != NULL);
    CHECK_STATUS(WdkmCsqInitializeCurrent(Record, A36OnCancel, &Wake), STATUS_SUCCESS);
    Held = A36Irp(0);
    CHECK(Held != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Held, NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, Record, &Irp), STATUS_SUCCESS);
    Routine = WdkmTestIrpTakeCancelRoutine(Held);
    CHECK(Routine != NULL);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, Record), STATUS_CANCELLED);
    memset(Record, 0xDD, sizeof(*Record));
    free(Record);
    WdkmTestIrpCallCancelRoutine(Held, Routine);
    CHECK_EQ(Queue.Callbacks, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Held), 1);
    CHECK(Wake.Calls <= 1);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Held);
}

/* The record holds the next IRP when the late routine of the one before
   runs: the next IRP was never cancelled, so its poll says go on and its
   end is the worker's. OnCancel may be called (csq.md allows it). */
static VOID
A36LateRoutineNextIrp(VOID)
{
    A36_QUEUE Queue;
    A36_WAKE Wake;
    WDKM_CSQ_CURRENT Record;
    PDRIVER_CANCEL Routine;
    PIRP Irps[2];
    PIRP Irp = NULL;

    CHECK(A36SetUp(&Queue, &Record, &Wake, Irps, 2));
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
    CHECK(Irp == Irps[0]);
    Routine = WdkmTestIrpTakeCancelRoutine(Irps[0]);
    CHECK(Routine != NULL);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
    CHECK(Irp == Irps[1]);
    WdkmTestIrpCallCancelRoutine(Irps[0], Routine);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 1);
    CHECK_EQ(A36IrpCallbacks(Irps[0]), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[1]), 0);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
    WdkmTestIrpComplete(Irps[1], STATUS_SUCCESS, 1);
    CHECK_EQ(Queue.Callbacks, 1);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Irps[0]);
    WdkmHostIrpFree(Irps[1]);
}

/* The same with the record re-initialised after the end (it holds no IRP,
   so csq.md allows it) with another OnCancel, then used on another queue;
   and the first queue's destroy, on another thread, waits for the routine
   owed to the ended IRP. */
typedef struct _A36_DESTROYER {
    A36_QUEUE *Queue;
    PIRP Irp;
    volatile LONG Done;
    volatile LONG CallbacksSeen;
    NTSTATUS Status;
} A36_DESTROYER;

static VOID
A36DestroyThread(PVOID Context, ULONG Index)
{
    A36_DESTROYER *Destroyer = (A36_DESTROYER *)Context;

    UNREFERENCED_PARAMETER(Index);
    Destroyer->Status = WdkmCsqDestroy(Destroyer->Queue->Csq);
    A36Store(&Destroyer->CallbacksSeen, A36IrpCallbacks(Destroyer->Irp));
    A36Store(&Destroyer->Done, 1);
}

static VOID
A36LateRoutineOtherQueue(VOID)
{
    A36_QUEUE QueueA;
    A36_QUEUE QueueB;
    A36_WAKE WakeA;
    A36_WAKE WakeB;
    A36_DESTROYER Destroyer;
    WDKM_CSQ_CURRENT Record;
    WDKM_TEST_THREAD *Thread;
    PDRIVER_CANCEL Routine;
    PIRP Irps[2];
    PIRP Irp = NULL;
    NTSTATUS Started;

    memset(&WakeA, 0, sizeof(WakeA));
    memset(&WakeB, 0, sizeof(WakeB));
    memset(&Destroyer, 0, sizeof(Destroyer));
    CHECK(A36Create(&QueueA));
    CHECK(A36Create(&QueueB));
    CHECK_STATUS(WdkmCsqInitializeCurrent(&Record, A36OnCancel, &WakeA), STATUS_SUCCESS);
    Irps[0] = A36Irp(0);
    Irps[1] = A36Irp(1);
    CHECK(Irps[0] != NULL && Irps[1] != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(QueueA.Csq, Irps[0], NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqInsertIrp(QueueB.Csq, Irps[1], NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqStartNextIrp(QueueA.Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
    Routine = WdkmTestIrpTakeCancelRoutine(Irps[0]);
    CHECK(Routine != NULL);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(QueueA.Csq, &Record), STATUS_CANCELLED);

    CHECK_STATUS(WdkmCsqInitializeCurrent(&Record, A36OnCancel, &WakeB), STATUS_SUCCESS);
    Started = WdkmCsqStartNextIrp(QueueB.Csq, NULL, NULL, &Record, &Irp);
    CHECK(Started == STATUS_SUCCESS || Started == STATUS_INVALID_PARAMETER);

    /* A's destroy: not busy (its record ended), but owes the routine. */
    Destroyer.Queue = &QueueA;
    Destroyer.Irp = Irps[0];
    Thread = WdkmTestStartThread(A36DestroyThread, &Destroyer);
    CHECK(Thread != NULL);
    WdkmTestSleepMs(20);
    CHECK_EQ(A36Load(&Destroyer.Done), 0);              /* it waits for the routine */
    WdkmTestIrpCallCancelRoutine(Irps[0], Routine);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Destroyer.Status, STATUS_SUCCESS);
    CHECK_EQ(Destroyer.CallbacksSeen, 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 1);
    CHECK(WakeA.Calls + WakeB.Calls <= 1);

    if (Started == STATUS_SUCCESS) {
        CHECK(Irp == Irps[1]);
        CHECK_STATUS(WdkmCsqCheckCurrentIrp(QueueB.Csq, &Record), STATUS_SUCCESS);
        CHECK_STATUS(WdkmCsqEndCurrentIrp(QueueB.Csq, &Record), STATUS_SUCCESS);
        WdkmTestIrpComplete(Irps[1], STATUS_SUCCESS, 1);
    }
    CHECK_STATUS(WdkmCsqDestroy(QueueB.Csq), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[1]), 1);
    WdkmHostIrpFree(Irps[0]);
    WdkmHostIrpFree(Irps[1]);
}

/* ---------------------------------------------------------------------- */
/* Match callbacks that misbehave                                          */
/* ---------------------------------------------------------------------- */

typedef enum _A36_MATCH_ACTION {
    A36MatchCancelSelf,         /* IoCancelIrp the IRP looked at, accept it */
    A36MatchCancelTarget,       /* IoCancelIrp Target (once), refuse the rest */
    A36MatchCancelTargetAccept, /* IoCancelIrp Target (once), accept the IRP */
    A36MatchCallQueue           /* call the queue: every call must be refused */
} A36_MATCH_ACTION;

typedef struct _A36_MATCH {
    A36_MATCH_ACTION Action;
    PWDKM_CSQ Csq;
    PIRP Target;
    PWDKM_CSQ_CURRENT Holding;  /* a record holding an IRP, for A36MatchCallQueue */
    PWDKM_CSQ_CURRENT Idle;     /* an idle record */
    PIRP Spare;                 /* an IRP not inserted */
    ULONG Calls;
    ULONG Wrong;                /* queue calls not refused with STATUS_POSSIBLE_DEADLOCK */
    BOOLEAN CancelReturned;
} A36_MATCH;

static BOOLEAN
A36Match(PIRP Irp, PVOID MatchContext)
{
    A36_MATCH *Match = (A36_MATCH *)MatchContext;
    PIRP Out = NULL;
    ULONG Count = 0;

    Match->Calls += 1;
    switch (Match->Action) {
    case A36MatchCancelSelf:
        Match->CancelReturned = IoCancelIrp(Irp);
        return TRUE;
    case A36MatchCancelTarget:
    case A36MatchCancelTargetAccept:
        if (Match->Target != NULL) {
            Match->CancelReturned = IoCancelIrp(Match->Target);
            Match->Target = NULL;
        }
        return Match->Action == A36MatchCancelTargetAccept;
    case A36MatchCallQueue:
        Match->Wrong += WdkmCsqStartNextIrp(Match->Csq, NULL, NULL, Match->Idle, &Out) !=
                        STATUS_POSSIBLE_DEADLOCK;
        Match->Wrong += WdkmCsqEndCurrentIrp(Match->Csq, Match->Holding) !=
                        STATUS_POSSIBLE_DEADLOCK;
        Match->Wrong += WdkmCsqCancelCurrentIrps(Match->Csq, NULL, NULL, &Count) !=
                        STATUS_POSSIBLE_DEADLOCK;
        Match->Wrong += WdkmCsqInsertIrp(Match->Csq, Match->Spare, NULL) !=
                        STATUS_POSSIBLE_DEADLOCK;
        Match->Wrong += WdkmCsqRemoveNextIrp(Match->Csq, NULL, NULL, &Out) !=
                        STATUS_POSSIBLE_DEADLOCK;
        Match->Wrong += WdkmCsqQueryCount(Match->Csq, &Count) != STATUS_POSSIBLE_DEADLOCK;
        return FALSE;
    }
    return FALSE;
}

/* A start's match cancels the IRP it accepts: that IRP is never handed to
   the starter; the callback has it before the start returns. */
static VOID
A36MatchCancelsWhileStarting(VOID)
{
    A36_QUEUE Queue;
    A36_WAKE Wake;
    A36_MATCH Match;
    WDKM_CSQ_CURRENT Record;
    PIRP Irps[2];
    PIRP Irp = NULL;
    NTSTATUS Status;

    memset(&Match, 0, sizeof(Match));
    CHECK(A36SetUp(&Queue, &Record, &Wake, Irps, 2));

    Match.Action = A36MatchCancelSelf;
    Status = WdkmCsqStartNextIrp(Queue.Csq, A36Match, &Match, &Record, &Irp);
    CHECK(Match.CancelReturned);
    CHECK_EQ(A36IrpCallbacks(Irps[0]), 1);              /* before the start returned */
    CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 1);
    if (Status == STATUS_SUCCESS) {
        /* It went on to the next one and cancelled it too: neither held. */
        CHECK(FALSE);
    }
    CHECK(Irp == NULL || Irp == Irps[1]);
    CHECK_STATUS(Status, STATUS_NO_MORE_ENTRIES);
    CHECK_EQ(A36IrpCallbacks(Irps[1]), 1);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_INVALID_PARAMETER);
    CHECK_EQ(Wake.Calls, 0);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Irps[0]);
    WdkmHostIrpFree(Irps[1]);
}

/* A start's match cancels another record's current IRP: marked for its
   worker (no OnCancel then), whose end hands it to the callback; and
   another queued IRP: the callback's before the start returns. */
static VOID
A36MatchCancelsOthers(VOID)
{
    A36_QUEUE Queue;
    A36_WAKE Wakes[2];
    A36_MATCH Match;
    WDKM_CSQ_CURRENT Records[2];
    PIRP Irps[4];
    PIRP Irp = NULL;
    ULONG Index;

    memset(Wakes, 0, sizeof(Wakes));
    memset(&Match, 0, sizeof(Match));
    CHECK(A36Create(&Queue));
    for (Index = 0; Index < 2; Index += 1) {
        CHECK_STATUS(WdkmCsqInitializeCurrent(&Records[Index], A36OnCancel, &Wakes[Index]),
                     STATUS_SUCCESS);
    }
    for (Index = 0; Index < 4; Index += 1) {
        Irps[Index] = A36Irp(Index);
        CHECK(Irps[Index] != NULL);
        CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[Index], NULL), STATUS_PENDING);
    }
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Records[0], &Irp), STATUS_SUCCESS);
    CHECK(Irp == Irps[0]);

    /* Record 1's start: the match cancels record 0's IRP and accepts. */
    Match.Action = A36MatchCancelTargetAccept;
    Match.Target = Irps[0];
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, A36Match, &Match, &Records[1], &Irp),
                 STATUS_SUCCESS);
    CHECK(Irp == Irps[1]);
    CHECK(Match.CancelReturned);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 0);       /* still record 0's */
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Records[0]), STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Records[1]), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Records[0]), STATUS_CANCELLED);
    CHECK_EQ(A36IrpCallbacks(Irps[0]), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 1);

    /* Record 0 again: the match cancels queued IRP 3 and accepts IRP 2. */
    Match.Action = A36MatchCancelTargetAccept;
    Match.Target = Irps[3];
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, A36Match, &Match, &Records[0], &Irp),
                 STATUS_SUCCESS);
    CHECK(Irp == Irps[2]);
    CHECK(Match.CancelReturned);
    CHECK_EQ(A36IrpCallbacks(Irps[3]), 1);              /* before the start returned */
    CHECK_EQ(WdkmHostIrpCompletions(Irps[3]), 1);
    CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 0);

    /* WdkmCsqCancelCurrentIrps' match cancels record 1's IRP (current) and
       refuses everything: it is marked all the same. */
    Match.Action = A36MatchCancelTarget;
    Match.Target = Irps[1];
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(Queue.Csq, A36Match, &Match, NULL), STATUS_SUCCESS);
    CHECK(Match.CancelReturned);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Records[1]), STATUS_CANCELLED);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Records[0]), STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[1]), 0);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Records[1]), STATUS_CANCELLED);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[1]), 1);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Records[0]), STATUS_SUCCESS);
    WdkmTestIrpComplete(Irps[2], STATUS_SUCCESS, 1);
    CHECK_EQ(Queue.Callbacks, 3);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    for (Index = 0; Index < 4; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(Irps[Index]), 1);
        WdkmHostIrpFree(Irps[Index]);
    }
}

/* WdkmCsqCancelCurrentIrps' match cancels a queued IRP: not lost, the
   callback's before the call returns. */
static VOID
A36CancelCurrentMatchCancelsQueued(VOID)
{
    A36_QUEUE Queue;
    A36_MATCH Match;
    WDKM_CSQ_CURRENT Record;
    PIRP Irps[2];
    PIRP Irp = NULL;
    ULONG Count = 99;

    memset(&Match, 0, sizeof(Match));
    CHECK(A36SetUp(&Queue, &Record, NULL, Irps, 2));
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
    Match.Action = A36MatchCancelTarget;
    Match.Target = Irps[1];
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(Queue.Csq, A36Match, &Match, &Count), STATUS_SUCCESS);
    CHECK(Match.CancelReturned);
    CHECK_EQ(Count, 0);
    CHECK_EQ(A36IrpCallbacks(Irps[1]), 1);
    CHECK_EQ(WdkmHostIrpCompletions(Irps[1]), 1);
    CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 0);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
    WdkmTestIrpComplete(Irps[0], STATUS_SUCCESS, 1);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Irps[0]);
    WdkmHostIrpFree(Irps[1]);
}

/* Every queue call from a start's and a cancel-current's match: refused
   with STATUS_POSSIBLE_DEADLOCK, nothing changed. */
static VOID
A36MatchCallsQueue(VOID)
{
    A36_QUEUE Queue;
    A36_MATCH Match;
    WDKM_CSQ_CURRENT Holding;
    WDKM_CSQ_CURRENT Idle;
    WDKM_CSQ_CURRENT HoldingBefore;
    WDKM_CSQ_CURRENT IdleBefore;
    PIRP Irps[2];
    PIRP Irp = NULL;
    ULONG Count = 99;

    memset(&Match, 0, sizeof(Match));
    CHECK(A36Create(&Queue));
    CHECK_STATUS(WdkmCsqInitializeCurrent(&Holding, NULL, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqInitializeCurrent(&Idle, NULL, NULL), STATUS_SUCCESS);
    Irps[0] = A36Irp(0);
    Irps[1] = A36Irp(1);
    Match.Spare = A36Irp(2);
    CHECK(Irps[0] != NULL && Irps[1] != NULL && Match.Spare != NULL);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[0], NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqInsertIrp(Queue.Csq, Irps[1], NULL), STATUS_PENDING);
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Holding, &Irp), STATUS_SUCCESS);
    memcpy(&HoldingBefore, &Holding, sizeof(Holding));
    memcpy(&IdleBefore, &Idle, sizeof(Idle));

    Match.Action = A36MatchCallQueue;
    Match.Csq = Queue.Csq;
    Match.Holding = &Holding;
    Match.Idle = &Idle;
    {
        WDKM_CSQ_CURRENT Third;

        CHECK_STATUS(WdkmCsqInitializeCurrent(&Third, NULL, NULL), STATUS_SUCCESS);
        CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, A36Match, &Match, &Third, &Irp),
                     STATUS_NO_MORE_ENTRIES);
    }
    CHECK_EQ(Match.Calls, 1);
    CHECK_EQ(Match.Wrong, 0);
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(Queue.Csq, A36Match, &Match, &Count), STATUS_SUCCESS);
    CHECK_EQ(Count, 0);
    CHECK_EQ(Match.Calls, 2);
    CHECK_EQ(Match.Wrong, 0);
    CHECK(memcmp(&HoldingBefore, &Holding, sizeof(Holding)) == 0);
    CHECK(memcmp(&IdleBefore, &Idle, sizeof(Idle)) == 0);
    CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 1);
    CHECK(__atomic_load_n(&Match.Spare->CancelRoutine, __ATOMIC_SEQ_CST) == NULL);
    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Holding), STATUS_SUCCESS);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Holding), STATUS_SUCCESS);
    WdkmTestIrpComplete(Irps[0], STATUS_SUCCESS, 1);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);   /* IRP 1 cancelled */
    CHECK_EQ(WdkmHostIrpCompletions(Irps[1]), 1);
    WdkmHostIrpFree(Irps[0]);
    WdkmHostIrpFree(Irps[1]);
    WdkmHostIrpFree(Match.Spare);
}

/* ---------------------------------------------------------------------- */
/* Events inside the start and the end, on the worker's own thread         */
/* ---------------------------------------------------------------------- */

/* A start's match queues an event to its own thread: masked under the
   queue's lock, it runs as the start lets the lock go, between the removal
   and the return. It cancels the IRP being started, or starts with the
   same record (a second start: refused, or nothing lost). */
typedef struct _A36_INSIDE {
    A36_QUEUE *Queue;
    PWDKM_CSQ_CURRENT Record;
    WDKM_HOST_INTERRUPT Kind;
    ULONG Mode;                 /* 0: IoCancelIrp the IRP; 1: start with Record */
    BOOLEAN Queued;
    volatile LONG Ran;
    BOOLEAN Cancelled;
    NTSTATUS InnerStatus;
    PIRP InnerIrp;
    PIRP Accepted;
} A36_INSIDE;

static VOID
A36InsideEvent(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A36_INSIDE *Inside = (A36_INSIDE *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    if (Inside->Mode == 0) {
        Inside->Cancelled = IoCancelIrp(Inside->Accepted);
    } else {
        Inside->InnerStatus = WdkmCsqStartNextIrp(Inside->Queue->Csq, NULL, NULL,
                                                  Inside->Record, &Inside->InnerIrp);
    }
    A36Store(&Inside->Ran, 1);
}

static BOOLEAN
A36InsideMatch(PIRP Irp, PVOID MatchContext)
{
    A36_INSIDE *Inside = (A36_INSIDE *)MatchContext;

    if (!Inside->Queued) {
        Inside->Queued = TRUE;
        Inside->Accepted = Irp;
        WdkmHostQueueInterrupt(KeGetCurrentThread(), Inside->Kind, A36InsideEvent, Inside);
    }
    return TRUE;
}

static VOID
A36EventsInsideStart(VOID)
{
    ULONG Kind;
    ULONG Mode;

    for (Mode = 0; Mode < 2; Mode += 1) {
        for (Kind = 0; Kind < WDKM_HOST_INTERRUPT_KINDS; Kind += 1) {
            A36_QUEUE Queue;
            A36_WAKE Wake;
            A36_INSIDE Inside;
            WDKM_CSQ_CURRENT Record;
            PIRP Irps[2];
            PIRP Irp = NULL;
            NTSTATUS Status;
            ULONG Index;

            memset(&Inside, 0, sizeof(Inside));
            CHECK(A36SetUp(&Queue, &Record, &Wake, Irps, 2));
            Inside.Queue = &Queue;
            Inside.Record = &Record;
            Inside.Kind = (WDKM_HOST_INTERRUPT)Kind;
            Inside.Mode = Mode;
            Status = WdkmCsqStartNextIrp(Queue.Csq, A36InsideMatch, &Inside, &Record, &Irp);
            CHECK_EQ(A36Load(&Inside.Ran), 1);
            CHECK(Inside.Accepted == Irps[0]);
            if (Mode == 0) {
                /* Cancelled between the removal and the return. */
                CHECK(Inside.Cancelled);
                if (Status == STATUS_SUCCESS) {
                    CHECK(Irp == Irps[0]);
                    CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 0);
                    CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_CANCELLED);
                    CHECK_EQ(Wake.Calls, 1);
                    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_CANCELLED);
                } else {
                    CHECK_STATUS(Status, STATUS_NO_MORE_ENTRIES);
                }
                CHECK_EQ(A36IrpCallbacks(Irps[0]), 1);
                CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 1);
            } else {
                /* Two starts with one record: one IRP held, the other queued. */
                CHECK((Status == STATUS_SUCCESS) != (Inside.InnerStatus == STATUS_SUCCESS));
                CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 1);
                CHECK_EQ(Queue.Callbacks, 0);
                if (Status == STATUS_SUCCESS) {
                    CHECK_STATUS(Inside.InnerStatus, STATUS_INVALID_PARAMETER);
                    CHECK(Irp == Irps[0]);
                } else {
                    CHECK_STATUS(Status, STATUS_INVALID_PARAMETER);
                }
                CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
                CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
                WdkmTestIrpComplete(Status == STATUS_SUCCESS ? Irp : Inside.InnerIrp,
                                    STATUS_SUCCESS, 1);
                CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_INVALID_PARAMETER);
            }
            CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
            for (Index = 0; Index < 2; Index += 1) {
                CHECK_EQ(WdkmHostIrpCompletions(Irps[Index]), 1);
                WdkmHostIrpFree(Irps[Index]);
            }
        }
    }
}

/* The callback inside an end (the IRP was cancelled while current) starts
   the record's next IRP, as a StartIo driver starts its next packet from
   its completion: the record is free at the end, so either the start is
   refused with nothing changed, or the record holds the next IRP after
   the end returned, uncancelled. */
static VOID
A36StartFromCallbackInsideEnd(A36_QUEUE *Queue, PIRP Irp)
{
    A36_INSIDE *Inside = (A36_INSIDE *)Queue->HookContext;

    UNREFERENCED_PARAMETER(Irp);
    if (Inside != NULL && !Inside->Queued) {
        Inside->Queued = TRUE;
        Inside->InnerStatus = WdkmCsqStartNextIrp(Queue->Csq, NULL, NULL, Inside->Record,
                                                  &Inside->InnerIrp);
    }
}

static VOID
A36StartInsideEnd(VOID)
{
    ULONG AtDispatch;

    for (AtDispatch = 0; AtDispatch < 2; AtDispatch += 1) {
        A36_QUEUE Queue;
        A36_INSIDE Inside;
        WDKM_CSQ_CURRENT Record;
        PIRP Irps[2];
        PIRP Irp = NULL;
        NTSTATUS Status;
        KIRQL OldIrql = PASSIVE_LEVEL;
        ULONG Index;

        memset(&Inside, 0, sizeof(Inside));
        CHECK(A36SetUp(&Queue, &Record, NULL, Irps, 2));
        CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
        CHECK(IoCancelIrp(Irps[0]));
        Inside.Record = &Record;
        Queue.HookContext = &Inside;
        Queue.Hook = A36StartFromCallbackInsideEnd;
        if (AtDispatch) {
            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        }
        Status = WdkmCsqEndCurrentIrp(Queue.Csq, &Record);
        if (AtDispatch) {
            KeLowerIrql(OldIrql);
        }
        Queue.Hook = NULL;
        CHECK_STATUS(Status, STATUS_CANCELLED);
        CHECK(Inside.Queued);
        CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 1);
        if (Inside.InnerStatus == STATUS_SUCCESS) {
            CHECK(Inside.InnerIrp == Irps[1]);
            CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 0);
        } else {
            CHECK_STATUS(Inside.InnerStatus, STATUS_INVALID_PARAMETER);
            CHECK_EQ(WdkmTestCsqCount(Queue.Csq), 1);
            CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp),
                         STATUS_SUCCESS);
            CHECK(Irp == Irps[1]);
        }
        CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
        CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
        WdkmTestIrpComplete(Irps[1], STATUS_SUCCESS, 1);
        CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
        for (Index = 0; Index < 2; Index += 1) {
            CHECK_EQ(WdkmHostIrpCompletions(Irps[Index]), 1);
            WdkmHostIrpFree(Irps[Index]);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Races                                                                   */
/* ---------------------------------------------------------------------- */

static ULONG64
A36Next(ULONG64 *State)
{
    ULONG64 X = *State;

    X ^= X << 13;
    X ^= X >> 7;
    X ^= X << 17;
    *State = X;
    return X;
}

static VOID
A36Spin(ULONG Count)
{
    volatile ULONG Index;

    for (Index = 0; Index < Count; Index += 1) {
    }
}

/* Helper threads run one step per round: the main thread sets the round
   up and bumps Round (its own part of the round then runs alongside
   theirs), then waits, with a give-up deadline, for every helper's Done. */
#define A36_HELPERS 4

typedef struct _A36_RACE A36_RACE;
typedef VOID A36_STEP(A36_RACE *Race, ULONG Helper, ULONG64 Random);

struct _A36_RACE {
    volatile LONG Round;
    volatile LONG Done;
    volatile LONG Quit;
    volatile LONG Next;         /* helper numbering */
    ULONG Helpers;
    A36_STEP *Step;
    ULONG64 Seed;
    /* The round's subject. */
    A36_QUEUE Queue;
    PWDKM_CSQ_CURRENT Record;
    PIRP Irp;
    ULONG Mode;
    NTSTATUS Results[A36_HELPERS];
    PIRP Irps[A36_HELPERS];
    volatile LONG Cancelled[A36_HELPERS];   /* IoCancelIrp returned: 1 FALSE, 2 TRUE */
};

static VOID
A36RaceHelper(PVOID Context, ULONG Index)
{
    A36_RACE *Race = (A36_RACE *)Context;
    ULONG Helper = (ULONG)A36Add(&Race->Next, 1) - 1;
    ULONG64 Random = Race->Seed * 0x9E3779B97F4A7C15ULL + Helper + 1;
    LONG Seen = 0;

    UNREFERENCED_PARAMETER(Index);
    for (;;) {
        LONG Round;

        while ((Round = A36Load(&Race->Round)) == Seen && A36Load(&Race->Quit) == 0) {
            sched_yield();
        }
        if (A36Load(&Race->Quit) != 0) {
            return;
        }
        Seen = Round;
        Race->Step(Race, Helper, A36Next(&Random));
        A36Add(&Race->Done, 1);
    }
}

static BOOLEAN
A36RaceStartHelpers(A36_RACE *Race, WDKM_TEST_THREAD **Threads)
{
    ULONG Index;
    BOOLEAN Started = TRUE;

    for (Index = 0; Index < Race->Helpers; Index += 1) {
        Threads[Index] = WdkmTestStartThread(A36RaceHelper, Race);
        Started = Started && Threads[Index] != NULL;
    }
    return Started;
}

static VOID
A36RaceFire(A36_RACE *Race)
{
    A36Add(&Race->Round, 1);
}

/* FALSE if the helpers did not finish the round by the deadline. */
static BOOLEAN
A36RaceWait(A36_RACE *Race)
{
    LONGLONG Deadline = WdkmTestDeadlineMs(10000);
    LONG Round = A36Load(&Race->Round);

    while (A36Load(&Race->Done) < Round * (LONG)Race->Helpers) {
        if (WdkmTestNowMs() > Deadline) {
            return FALSE;
        }
        sched_yield();
    }
    return TRUE;
}

static VOID
A36RaceStop(A36_RACE *Race, WDKM_TEST_THREAD **Threads)
{
    ULONG Index;

    A36Store(&Race->Quit, 1);
    for (Index = 0; Index < Race->Helpers; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
}

/* Two workers share one record: two starts at once hold one IRP (the other
   refused, nothing taken); two ends at once end it once. */
static VOID
A36SharedRecordStep(A36_RACE *Race, ULONG Helper, ULONG64 Random)
{
    A36Spin((ULONG)(Random % 256));
    Race->Irps[Helper] = NULL;
    if (Race->Mode == 0) {
        Race->Results[Helper] = WdkmCsqStartNextIrp(Race->Queue.Csq, NULL, NULL, Race->Record,
                                                    &Race->Irps[Helper]);
    } else {
        Race->Results[Helper] = WdkmCsqEndCurrentIrp(Race->Queue.Csq, Race->Record);
    }
}

#define A36_SHARED_ROUNDS 200

static VOID
A36TwoWorkersOneRecord(VOID)
{
    A36_RACE *Race;
    WDKM_TEST_THREAD *Threads[A36_HELPERS] = { NULL };
    WDKM_CSQ_CURRENT Record;
    PIRP Irps[A36_SHARED_ROUNDS + 1];
    ULONG Index;
    ULONG Wrong = 0;
    NTSTATUS WrongStatus[2] = { 0, 0 };
    BOOLEAN InTime = TRUE;
    BOOLEAN Started;

    Race = (A36_RACE *)calloc(1, sizeof(*Race));
    CHECK(Race != NULL);
    CHECK(A36Create(&Race->Queue));
    CHECK_STATUS(WdkmCsqInitializeCurrent(&Record, NULL, NULL), STATUS_SUCCESS);
    for (Index = 0; Index <= A36_SHARED_ROUNDS; Index += 1) {
        Irps[Index] = A36Irp(Index);
        CHECK(Irps[Index] != NULL);
        CHECK_STATUS(WdkmCsqInsertIrp(Race->Queue.Csq, Irps[Index], NULL), STATUS_PENDING);
    }
    Race->Record = &Record;
    Race->Helpers = 2;
    Race->Step = A36SharedRecordStep;
    Race->Seed = 36;
    Started = A36RaceStartHelpers(Race, Threads);
    for (Index = 0; Started && InTime && Index < A36_SHARED_ROUNDS; Index += 1) {
        PIRP Held;
        ULONG Count;

        /* Two starts. */
        Race->Mode = 0;
        A36RaceFire(Race);
        InTime = A36RaceWait(Race);
        if (!InTime) {
            break;
        }
        Count = (Race->Results[0] == STATUS_SUCCESS) + (Race->Results[1] == STATUS_SUCCESS);
        Held = Race->Results[0] == STATUS_SUCCESS ? Race->Irps[0] : Race->Irps[1];
        if (Count != 1 || Held != Irps[Index] ||
            (Race->Results[0] != STATUS_SUCCESS && Race->Results[0] != STATUS_INVALID_PARAMETER) ||
            (Race->Results[1] != STATUS_SUCCESS && Race->Results[1] != STATUS_INVALID_PARAMETER) ||
            WdkmTestCsqCount(Race->Queue.Csq) != A36_SHARED_ROUNDS - Index) {
            Wrong += 1;
            WrongStatus[0] = Race->Results[0];
            WrongStatus[1] = Race->Results[1];
            break;
        }
        /* Two ends. */
        Race->Mode = 1;
        A36RaceFire(Race);
        InTime = A36RaceWait(Race);
        if (!InTime) {
            break;
        }
        Count = (Race->Results[0] == STATUS_SUCCESS) + (Race->Results[1] == STATUS_SUCCESS);
        if (Count != 1 ||
            (Race->Results[0] != STATUS_SUCCESS && Race->Results[0] != STATUS_INVALID_PARAMETER) ||
            (Race->Results[1] != STATUS_SUCCESS && Race->Results[1] != STATUS_INVALID_PARAMETER)) {
            Wrong += 1;
            WrongStatus[0] = Race->Results[0];
            WrongStatus[1] = Race->Results[1];
            break;
        }
        WdkmTestIrpComplete(Held, STATUS_SUCCESS, 1);
    }
    A36RaceStop(Race, Threads);
    (VOID)WdkmCsqEndCurrentIrp(Race->Queue.Csq, &Record);   /* in case a round broke off */
    CHECK(Started);
    CHECK(InTime);
    if (Wrong != 0) {
        WdkmTestFail(__FILE__, __LINE__, "round %lu: %s and %s", (unsigned long)Index,
                     WdkmStatusName(WrongStatus[0]), WdkmStatusName(WrongStatus[1]));
        return;
    }
    CHECK_STATUS(WdkmCsqDestroy(Race->Queue.Csq), STATUS_SUCCESS);
    CHECK_EQ(Race->Queue.Callbacks, 1);                 /* the last one, by the destroy */
    for (Index = 0; Index <= A36_SHARED_ROUNDS; Index += 1) {
        CHECK_EQ(WdkmHostIrpCompletions(Irps[Index]), 1);
        WdkmHostIrpFree(Irps[Index]);
    }
    free(Race);
}

/* Several threads IoCancelIrp one current IRP while its worker ends it:
   once any IoCancelIrp returned TRUE (it took the routine) or returned
   before the end began, the end answers STATUS_CANCELLED; after
   STATUS_SUCCESS every IoCancelIrp found no routine; each IRP completed
   once, by the side the end named. */
static VOID
A36CancellersStep(A36_RACE *Race, ULONG Helper, ULONG64 Random)
{
    A36Spin((ULONG)(Random % 2048));
    if (Random & 0x10000) {
        KIRQL OldIrql;
        BOOLEAN Result;

        KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        Result = IoCancelIrp(Race->Irp);
        KeLowerIrql(OldIrql);
        A36Store(&Race->Cancelled[Helper], Result ? 2 : 1);
    } else {
        A36Store(&Race->Cancelled[Helper], IoCancelIrp(Race->Irp) ? 2 : 1);
    }
}

#define A36_CANCEL_ROUNDS 300

static VOID
A36ManyCancellersRaceEnd(VOID)
{
    A36_RACE *Race;
    A36_WAKE Wake;
    WDKM_TEST_THREAD *Threads[A36_HELPERS] = { NULL };
    WDKM_CSQ_CURRENT Record;
    PIRP Irps[A36_CANCEL_ROUNDS];
    ULONG Index;
    ULONG Wrong = 0;
    ULONG Successes = 0;
    ULONG Cancels = 0;
    PCSTR What = "";
    BOOLEAN InTime = TRUE;
    BOOLEAN Started;
    ULONG64 Random = 0x36363636;

    memset(&Wake, 0, sizeof(Wake));
    memset(Irps, 0, sizeof(Irps));
    Race = (A36_RACE *)calloc(1, sizeof(*Race));
    CHECK(Race != NULL);
    CHECK(A36Create(&Race->Queue));
    CHECK_STATUS(WdkmCsqInitializeCurrent(&Record, A36OnCancel, &Wake), STATUS_SUCCESS);
    Race->Helpers = 3;
    Race->Step = A36CancellersStep;
    Race->Seed = 7;
    Started = A36RaceStartHelpers(Race, Threads);
    for (Index = 0; Started && InTime && Index < A36_CANCEL_ROUNDS; Index += 1) {
        PIRP Irp = NULL;
        NTSTATUS Ended;
        ULONG Helper;
        ULONG Took = 0;
        ULONG Before = 0;
        ULONG Spin = (ULONG)(A36Next(&Random) % 4096);

        Irps[Index] = A36Irp(Index);
        if (Irps[Index] == NULL ||
            WdkmCsqInsertIrp(Race->Queue.Csq, Irps[Index], NULL) != STATUS_PENDING ||
            WdkmCsqStartNextIrp(Race->Queue.Csq, NULL, NULL, &Record, &Irp) != STATUS_SUCCESS ||
            Irp != Irps[Index]) {
            Wrong += 1;
            What = "start";
            break;
        }
        for (Helper = 0; Helper < Race->Helpers; Helper += 1) {
            A36Store(&Race->Cancelled[Helper], 0);
        }
        Race->Irp = Irp;
        A36RaceFire(Race);
        A36Spin(Spin);
        for (Helper = 0; Helper < Race->Helpers; Helper += 1) {
            Before += A36Load(&Race->Cancelled[Helper]) != 0;
        }
        if (Spin & 1) {
            KIRQL OldIrql;

            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
            Ended = WdkmCsqEndCurrentIrp(Race->Queue.Csq, &Record);
            KeLowerIrql(OldIrql);
        } else {
            Ended = WdkmCsqEndCurrentIrp(Race->Queue.Csq, &Record);
        }
        if (Ended == STATUS_SUCCESS) {
            WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 1);
            Successes += 1;
        } else {
            Cancels += 1;
        }
        InTime = A36RaceWait(Race);
        for (Helper = 0; Helper < Race->Helpers; Helper += 1) {
            Took += A36Load(&Race->Cancelled[Helper]) == 2;
        }
        if (Ended != STATUS_SUCCESS && Ended != STATUS_CANCELLED) {
            Wrong += 1;
            What = "end status";
        } else if (Took > 1) {
            Wrong += 1;
            What = "two IoCancelIrp took the routine";
        } else if (Ended == STATUS_SUCCESS && (Took != 0 || Before != 0)) {
            Wrong += 1;
            What = "end answered STATUS_SUCCESS after a cancellation";
        } else if (InTime && WdkmHostIrpCompletions(Irp) != 1) {
            Wrong += 1;
            What = "not completed once";
        } else if (InTime && A36IrpCallbacks(Irp) != (Ended == STATUS_CANCELLED ? 1 : 0)) {
            Wrong += 1;
            What = "completed by the wrong side";
        }
        if (Wrong != 0) {
            break;
        }
    }
    A36RaceStop(Race, Threads);
    CHECK(Started);
    CHECK(InTime);
    if (Wrong != 0) {
        WdkmTestFail(__FILE__, __LINE__, "round %lu: %s", (unsigned long)Index, What);
        return;
    }
    CHECK(Wake.Calls <= (LONG)Cancels);
    CHECK_EQ(Wake.AboveDispatch, 0);
    CHECK_EQ(Race->Queue.AboveDispatch, 0);
    CHECK_STATUS(WdkmCsqDestroy(Race->Queue.Csq), STATUS_SUCCESS);
    for (Index = 0; Index < A36_CANCEL_ROUNDS; Index += 1) {
        WdkmHostIrpFree(Irps[Index]);
    }
    CHECK(Successes + Cancels == A36_CANCEL_ROUNDS);
    if (getenv("A36_VERBOSE") != NULL) {
        printf("successes %lu cancels %lu\n", (unsigned long)Successes, (unsigned long)Cancels);
    }
    free(Race);
}

/* The destroy, looping on STATUS_DEVICE_BUSY on another thread, races the
   last end (cancelled inside the end, or with a routine IoCancelIrp took
   and calls after the end): it returns only once nothing of the queue is
   in use, and the ended IRP has been completed by then whenever the end
   answered STATUS_CANCELLED. */
static VOID
A36DestroyerStep(A36_RACE *Race, ULONG Helper, ULONG64 Random)
{
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Random);
    while ((Status = WdkmCsqDestroy(Race->Queue.Csq)) == STATUS_DEVICE_BUSY) {
        sched_yield();
    }
    Race->Results[Helper] = Status;
    A36Store(&Race->Cancelled[Helper], WdkmHostIrpCompletions(Race->Irp) + 1);
}

#define A36_DESTROY_ROUNDS 150

static VOID
A36DestroyRacesLastEnd(VOID)
{
    A36_RACE *Race;
    WDKM_TEST_THREAD *Threads[A36_HELPERS] = { NULL };
    WDKM_CSQ_CURRENT Record;
    ULONG Index;
    ULONG Wrong = 0;
    PCSTR What = "";
    BOOLEAN InTime = TRUE;
    BOOLEAN Started;
    ULONG64 Random = 0x3636;

    Race = (A36_RACE *)calloc(1, sizeof(*Race));
    CHECK(Race != NULL);
    CHECK_STATUS(WdkmCsqInitializeCurrent(&Record, NULL, NULL), STATUS_SUCCESS);
    Race->Helpers = 1;
    Race->Step = A36DestroyerStep;
    Race->Seed = 11;
    Started = A36RaceStartHelpers(Race, Threads);
    for (Index = 0; Started && InTime && Index < A36_DESTROY_ROUNDS; Index += 1) {
        PIRP Irp = NULL;
        PIRP Held;
        PDRIVER_CANCEL Routine = NULL;
        NTSTATUS Ended;
        ULONG Mode = Index % 3;     /* 0 plain end, 1 cancelled, 2 routine taken */
        ULONG Spin = (ULONG)(A36Next(&Random) % 4096);

        if (!A36Create(&Race->Queue)) {
            Wrong += 1;
            What = "create";
            break;
        }
        Held = A36Irp(Index);
        if (Held == NULL || WdkmCsqInsertIrp(Race->Queue.Csq, Held, NULL) != STATUS_PENDING ||
            WdkmCsqStartNextIrp(Race->Queue.Csq, NULL, NULL, &Record, &Irp) != STATUS_SUCCESS) {
            Wrong += 1;
            What = "start";
            break;
        }
        if (Mode == 1) {
            (VOID)IoCancelIrp(Held);
        } else if (Mode == 2) {
            Routine = WdkmTestIrpTakeCancelRoutine(Held);
        }
        Race->Irp = Held;
        A36Store(&Race->Cancelled[0], 0);
        A36RaceFire(Race);
        A36Spin(Spin);
        Ended = WdkmCsqEndCurrentIrp(Race->Queue.Csq, &Record);
        if (Routine != NULL) {
            A36Spin(Spin);
            if (A36Load(&Race->Cancelled[0]) != 0) {
                Wrong += 1;
                What = "the destroy returned before the routine it owed ran";
            }
            WdkmTestIrpCallCancelRoutine(Held, Routine);
        }
        if (Ended == STATUS_SUCCESS) {
            WdkmTestIrpComplete(Held, STATUS_SUCCESS, 1);
        }
        InTime = A36RaceWait(Race);
        if (!InTime) {
            break;
        }
        if (Race->Results[0] != STATUS_SUCCESS) {
            Wrong += 1;
            What = "destroy status";
        } else if (Ended != (Mode == 0 ? STATUS_SUCCESS : STATUS_CANCELLED)) {
            Wrong += 1;
            What = "end status";
        } else if (Mode != 0 && A36Load(&Race->Cancelled[0]) != 2) {
            Wrong += 1;
            What = "the destroy returned before the cancelled IRP was completed";
        } else if (WdkmHostIrpCompletions(Held) != 1) {
            Wrong += 1;
            What = "not completed once";
        }
        WdkmHostIrpFree(Held);
        if (Wrong != 0) {
            break;
        }
    }
    A36RaceStop(Race, Threads);
    free(Race);
    CHECK(Started);
    CHECK(InTime);
    if (Wrong != 0) {
        WdkmTestFail(__FILE__, __LINE__, "round %lu: %s", (unsigned long)Index, What);
    }
}

/* ---------------------------------------------------------------------- */
/* A seeded model of each IRP's fate, under injected DPCs and APCs         */
/* ---------------------------------------------------------------------- */

/*
 * What the docs promise, per IRP, checked after a run of an inserter, two
 * workers (each with its own record, starting with and without a match,
 * some at DISPATCH_LEVEL), two cancellers (IoCancelIrp at PASSIVE and
 * DISPATCH_LEVEL, WdkmCsqCancelCurrentIrps with a match) and injected
 * DPCs, special and normal APCs on all of them that cancel too:
 *   - completed exactly once; by the worker iff its end answered
 *     STATUS_SUCCESS, else by CompleteCanceledIrp once;
 *   - an end answers STATUS_SUCCESS only if no IoCancelIrp took its
 *     routine, none had returned and no WdkmCsqCancelCurrentIrps that
 *     accepted it had returned before the end began, and no poll said
 *     STATUS_CANCELLED;
 *   - an IRP nobody asked to cancel is never handed to the callback;
 *   - a poll after a cancellation that returned answers STATUS_CANCELLED;
 *   - OnCancel at most once per cancelled current IRP, at <= DISPATCH;
 *   - every queued IRP is started or cancelled: nothing stays behind.
 */
#define A36_MODEL_IRPS 300
#define A36_MODEL_WORKERS 2
#define A36_MODEL_CANCELLERS 2

typedef struct _A36_FATE {
    volatile LONG CancelAttempts;   /* before IoCancelIrp */
    volatile LONG CancelReturned;   /* after it returned */
    volatile LONG CancelTook;       /* it returned TRUE */
    volatile LONG Marked;           /* a WdkmCsqCancelCurrentIrps that accepted it returned */
    volatile LONG StartedBy;        /* worker + 1 */
    volatile LONG Ended;            /* the end's status */
    volatile LONG PollCancelled;
    volatile LONG KnownBeforeEnd;   /* a cancellation had returned before the end */
    volatile LONG Overlapped;       /* a WdkmCsqCancelCurrentIrps ran while it was current */
    volatile LONG WorkerCompleted;
} A36_FATE;

typedef struct _A36_MODEL {
    A36_QUEUE Queue;
    PIRP Irps[A36_MODEL_IRPS];
    A36_FATE Fates[A36_MODEL_IRPS];
    WDKM_CSQ_CURRENT Records[A36_MODEL_WORKERS];
    A36_WAKE Wakes[A36_MODEL_WORKERS];
    volatile LONG Inserted;
    volatile LONG Completed;
    volatile LONG Stop;
    volatile LONG Next;
    volatile LONG CancelCurrentBegun;
    volatile LONG CancelCurrentEnded;
    volatile LONG Wrong;
    volatile LONG WrongLine;
    volatile LONG WrongStatus;
    volatile LONG Events;
    ULONG64 Seed;
    LONGLONG Deadline;
} A36_MODEL;

static A36_MODEL *A36ModelNow;

#define A36_WRONG(Model, Status)                                            \
    do {                                                                    \
        if (A36Add(&(Model)->Wrong, 1) == 1) {                              \
            A36Store(&(Model)->WrongLine, __LINE__);                        \
            A36Store(&(Model)->WrongStatus, (LONG)(Status));                \
        }                                                                   \
    } while (0)

/* Model pacing: a short spin and a yield, so that the five threads on two
   cores interleave finely instead of a time slice each. */
static VOID
A36Pace(ULONG64 Random, ULONG Spin)
{
    A36Spin((ULONG)(Random % Spin));
    sched_yield();
}

static VOID
A36ModelCompleted(PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(Irp);
    A36Add(&((A36_MODEL *)Context)->Completed, 1);
}

static BOOLEAN
A36ModelDone(A36_MODEL *Model)
{
    if (A36Load(&Model->Completed) >= A36_MODEL_IRPS || A36Load(&Model->Stop) != 0) {
        return TRUE;
    }
    if (WdkmTestNowMs() > Model->Deadline) {
        A36Store(&Model->Stop, 1);
        return TRUE;
    }
    return FALSE;
}

static VOID
A36ModelCancelOne(A36_MODEL *Model, ULONG64 Random)
{
    LONG Limit = A36Load(&Model->Inserted) + 2;
    ULONG Index;
    BOOLEAN Took;

    if (Limit > A36_MODEL_IRPS) {
        Limit = A36_MODEL_IRPS;
    }
    if (Random % 4 != 0 && Limit > 6) {
        Index = (ULONG)(Limit - 3 - (LONG)((Random >> 4) % 4));    /* the live ones, mostly */
    } else {
        Index = (ULONG)((Random >> 4) % (ULONG64)Limit);
    }
    A36Add(&Model->Fates[Index].CancelAttempts, 1);
    Took = IoCancelIrp(Model->Irps[Index]);
    if (Took) {
        A36Add(&Model->Fates[Index].CancelTook, 1);
    }
    A36Store(&Model->Fates[Index].CancelReturned, 1);
}

/* The accepted IRPs of one WdkmCsqCancelCurrentIrps (runs under the lock).
   More than one per worker: its walk starts again after each OnCancel, so
   an IRP a woken worker starts meanwhile is current too, and marked. */
#define A36_ACCEPTED_MAX 64

typedef struct _A36_ACCEPTED {
    ULONG Parity;               /* 2: all */
    ULONG Count;
    ULONG Indexes[A36_ACCEPTED_MAX];
} A36_ACCEPTED;

static BOOLEAN
A36ModelAccept(PIRP Irp, PVOID MatchContext)
{
    A36_ACCEPTED *Accepted = (A36_ACCEPTED *)MatchContext;
    ULONG Index = (ULONG)(ULONG_PTR)A36_INDEX(Irp);

    if (Accepted->Parity != 2 && Index % 2 != Accepted->Parity) {
        return FALSE;
    }
    if (Accepted->Count < A36_ACCEPTED_MAX) {
        Accepted->Indexes[Accepted->Count] = Index;
    }
    Accepted->Count += 1;
    return TRUE;
}

static VOID
A36ModelCancelCurrent(A36_MODEL *Model, ULONG64 Random)
{
    A36_ACCEPTED Accepted;
    NTSTATUS Status;
    ULONG Count = 0;
    ULONG Index;

    memset(&Accepted, 0, sizeof(Accepted));
    Accepted.Parity = (ULONG)(Random % 3);
    A36Add(&Model->CancelCurrentBegun, 1);
    Status = WdkmCsqCancelCurrentIrps(Model->Queue.Csq, A36ModelAccept, &Accepted, &Count);
    /* Each IRP the match accepts is marked at once (the walk skips marked
       records), so the count is the number accepted. */
    if (Status != STATUS_SUCCESS || Count != Accepted.Count || Count > A36_ACCEPTED_MAX) {
        A36_WRONG(Model, Status);
    }
    for (Index = 0; Index < Accepted.Count && Index < A36_ACCEPTED_MAX; Index += 1) {
        A36Store(&Model->Fates[Accepted.Indexes[Index]].Marked, 1);
    }
    A36Add(&Model->CancelCurrentEnded, 1);
}

static VOID
A36ModelEvent(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A36_MODEL *Model = (A36_MODEL *)Context;

    if (Model == NULL || A36Load(&Model->Stop) != 0) {
        return;
    }
    A36Add(&Model->Events, 1);
    switch (Random % 10) {
    case 0:
        A36ModelCancelCurrent(Model, Random >> 8);
        break;
    case 1:
    case 2:
    case 3:
    case 4:
        A36ModelCancelOne(Model, Random >> 8);
        break;
    case 5:
        if (Kind == WdkmHostInterruptNormalApc) {
            WdkmTestSleepMs(1);             /* a suspension */
        }
        break;
    default:
        break;
    }
}

static BOOLEAN
A36ModelEvenOnly(PIRP Irp, PVOID MatchContext)
{
    UNREFERENCED_PARAMETER(MatchContext);
    return ((ULONG)(ULONG_PTR)A36_INDEX(Irp) % 2) == 0;
}

static VOID
A36ModelWorker(A36_MODEL *Model, ULONG Worker, ULONG64 Random)
{
    PWDKM_CSQ_CURRENT Record = &Model->Records[Worker];

    while (!A36ModelDone(Model)) {
        KIRQL OldIrql = PASSIVE_LEVEL;
        BOOLEAN Raised = (A36Next(&Random) % 4) == 0;
        PIRP Irp = NULL;
        NTSTATUS Status;
        LONG EndedBefore = A36Load(&Model->CancelCurrentEnded);
        A36_FATE *Fate;
        ULONG Polls;
        BOOLEAN Known;

        if (Raised) {
            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
        }
        Status = WdkmCsqStartNextIrp(Model->Queue.Csq,
                                     (A36Next(&Random) % 3) == 0 ? A36ModelEvenOnly : NULL,
                                     NULL, Record, &Irp);
        if (Status == STATUS_NO_MORE_ENTRIES) {
            if (Raised) {
                KeLowerIrql(OldIrql);
            }
            sched_yield();
            continue;
        }
        if (Status != STATUS_SUCCESS || Irp == NULL) {
            A36_WRONG(Model, Status);
            if (Raised) {
                KeLowerIrql(OldIrql);
            }
            return;
        }
        Fate = &Model->Fates[(ULONG)(ULONG_PTR)A36_INDEX(Irp)];
        if (A36Load(&Fate->StartedBy) != 0) {
            A36_WRONG(Model, STATUS_SUCCESS);       /* started twice */
        }
        A36Store(&Fate->StartedBy, (LONG)Worker + 1);
        for (Polls = (ULONG)(A36Next(&Random) % 8); Polls > 0; Polls -= 1) {
            Known = A36Load(&Fate->CancelReturned) != 0 || A36Load(&Fate->Marked) != 0;
            Status = WdkmCsqCheckCurrentIrp(Model->Queue.Csq, Record);
            if (Status == STATUS_CANCELLED) {
                A36Store(&Fate->PollCancelled, 1);
                break;
            }
            if (Status != STATUS_SUCCESS || Known) {
                A36_WRONG(Model, Status);
            }
            A36Pace(A36Next(&Random), 4000);
        }
        Known = A36Load(&Fate->CancelReturned) != 0 || A36Load(&Fate->Marked) != 0;
        A36Store(&Fate->KnownBeforeEnd, Known);
        Status = WdkmCsqEndCurrentIrp(Model->Queue.Csq, Record);
        A36Store(&Fate->Overlapped, A36Load(&Model->CancelCurrentBegun) != EndedBefore);
        A36Store(&Fate->Ended, (LONG)Status);
        if (Status == STATUS_SUCCESS) {
            A36Store(&Fate->WorkerCompleted, 1);
            WdkmTestIrpComplete(Irp, STATUS_SUCCESS, 1);
        } else if (Status != STATUS_CANCELLED) {
            A36_WRONG(Model, Status);
        }
        if (Raised) {
            KeLowerIrql(OldIrql);
        }
    }
}

static VOID
A36ModelInserter(A36_MODEL *Model, ULONG64 Random)
{
    ULONG Index;

    for (Index = 0; Index < A36_MODEL_IRPS && A36Load(&Model->Stop) == 0; Index += 1) {
        NTSTATUS Status;
        KIRQL OldIrql;

        if ((A36Next(&Random) % 4) == 0) {
            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
            Status = WdkmCsqInsertIrp(Model->Queue.Csq, Model->Irps[Index], NULL);
            KeLowerIrql(OldIrql);
        } else {
            Status = WdkmCsqInsertIrp(Model->Queue.Csq, Model->Irps[Index], NULL);
        }
        if (Status != STATUS_PENDING) {
            A36_WRONG(Model, Status);
        }
        A36Store(&Model->Inserted, (LONG)Index + 1);
        A36Pace(A36Next(&Random), 4000);
        A36Pace(A36Next(&Random), 4000);
    }
}

static VOID
A36ModelCanceller(A36_MODEL *Model, ULONG64 Random)
{
    while (!A36ModelDone(Model)) {
        ULONG64 Choice = A36Next(&Random);

        if (Choice % 16 == 0) {
            A36ModelCancelCurrent(Model, Choice >> 8);
        } else if (Choice % 2 == 0) {
            KIRQL OldIrql;

            KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
            A36ModelCancelOne(Model, Choice >> 8);
            KeLowerIrql(OldIrql);
        } else {
            A36ModelCancelOne(Model, Choice >> 8);
        }
        A36Pace(A36Next(&Random), 4000);
    }
}

static VOID
A36ModelThread(PVOID Context, ULONG Index)
{
    A36_MODEL *Model = (A36_MODEL *)Context;
    ULONG Role = (ULONG)A36Add(&Model->Next, 1) - 1;
    ULONG64 Random = Model->Seed * 0x9E3779B97F4A7C15ULL + Role * 7919 + 1;

    UNREFERENCED_PARAMETER(Index);
    if (Role == 0) {
        A36ModelInserter(Model, Random);
    } else if (Role <= A36_MODEL_WORKERS) {
        A36ModelWorker(Model, Role - 1, Random);
    } else {
        A36ModelCanceller(Model, Random);
    }
}

/* One run; FALSE with a failure recorded. */
static BOOLEAN
A36ModelRun(ULONG64 Seed)
{
    A36_MODEL *Model;
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    BOOLEAN Ran;
    ULONG Index;
    ULONG Wrong = 0;
    ULONG Ended[2] = { 0, 0 };
    PCSTR What = NULL;
    ULONG WhatIndex = 0;

    Model = (A36_MODEL *)calloc(1, sizeof(*Model));
    if (Model == NULL) {
        return WdkmTestFail(__FILE__, __LINE__, "no memory");
    }
    Model->Seed = Seed;
    if (!A36Create(&Model->Queue)) {
        free(Model);
        return WdkmTestFail(__FILE__, __LINE__, "create");
    }
    for (Index = 0; Index < A36_MODEL_IRPS; Index += 1) {
        Model->Irps[Index] = A36Irp(Index);
        if (Model->Irps[Index] == NULL) {
            return WdkmTestFail(__FILE__, __LINE__, "no IRP");
        }
        WdkmHostIrpSetCompletionHook(Model->Irps[Index], A36ModelCompleted, Model);
    }
    for (Index = 0; Index < A36_MODEL_WORKERS; Index += 1) {
        if (WdkmCsqInitializeCurrent(&Model->Records[Index], A36OnCancel,
                                     &Model->Wakes[Index]) != STATUS_SUCCESS) {
            return WdkmTestFail(__FILE__, __LINE__, "initialise");
        }
    }
    Model->Deadline = WdkmTestDeadlineMs(20000);
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = Seed;
    Settings.MeanIntervalMicroseconds = 150;
    Settings.DpcWeight = 2;
    Settings.NormalApcWeight = 1;
    Settings.SpecialApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 100;
    Settings.Routine = A36ModelEvent;
    Settings.Context = Model;
    A36ModelNow = Model;
    WdkmHostInterruptsStart(&Settings);
    Ran = WdkmTestRunThreads(1 + A36_MODEL_WORKERS + A36_MODEL_CANCELLERS, A36ModelThread, Model);
    WdkmHostInterruptsStop();
    A36ModelNow = NULL;

    if (!Ran) {
        What = "threads";
    } else if (A36Load(&Model->Wrong) != 0) {
        WdkmTestFail(__FILE__, __LINE__, "seed %llu: %ld wrong, first at line %ld, status %s",
                     (unsigned long long)Seed, (long)Model->Wrong, (long)Model->WrongLine,
                     WdkmStatusName((NTSTATUS)Model->WrongStatus));
        Wrong += 1;
    } else if (A36Load(&Model->Completed) != A36_MODEL_IRPS) {
        What = "IRPs never completed (lost or left queued) by the deadline";
    }
    for (Index = 0; What == NULL && Wrong == 0 && Index < A36_MODEL_IRPS; Index += 1) {
        A36_FATE *Fate = &Model->Fates[Index];
        PIRP Irp = Model->Irps[Index];
        BOOLEAN Asked = Fate->CancelAttempts != 0 || Fate->Overlapped || Fate->Marked;

        WhatIndex = Index;
        if (WdkmHostIrpCompletions(Irp) != 1) {
            What = "not completed exactly once";
        } else if (Fate->WorkerCompleted + A36IrpCallbacks(Irp) != 1) {
            What = "completed by both sides or by neither";
        } else if (Fate->StartedBy == 0 && Fate->CancelAttempts == 0) {
            What = "never started, never cancelled, yet completed";
        } else if (Fate->StartedBy != 0 && Fate->Ended == STATUS_SUCCESS &&
                   (Fate->CancelTook != 0 || Fate->KnownBeforeEnd || Fate->PollCancelled)) {
            What = "the end answered STATUS_SUCCESS after a cancellation";
        } else if (Fate->StartedBy != 0 && Fate->Ended == STATUS_CANCELLED && !Asked) {
            What = "the end answered STATUS_CANCELLED but nobody cancelled it";
        } else if (Fate->StartedBy != 0 && Fate->Ended != STATUS_SUCCESS &&
                   Fate->Ended != STATUS_CANCELLED) {
            What = "end status";
        }
        if (Fate->StartedBy != 0) {
            Ended[Fate->Ended == STATUS_SUCCESS ? 0 : 1] += 1;
        }
    }
    if (What == NULL && Wrong == 0) {
        for (Index = 0; Index < A36_MODEL_WORKERS; Index += 1) {
            if (Model->Wakes[Index].AboveDispatch != 0) {
                What = "OnCancel above DISPATCH_LEVEL";
            }
        }
        if (Model->Queue.AboveDispatch != 0) {
            What = "callback above DISPATCH_LEVEL";
        } else if ((ULONG)(Model->Wakes[0].Calls + Model->Wakes[1].Calls) > Ended[1]) {
            What = "OnCancel more than once per cancelled current IRP";
        } else if (WdkmTestCsqCount(Model->Queue.Csq) != 0) {
            What = "IRPs left in the queue";
        }
    }
    if (getenv("A36_VERBOSE") != NULL) {
        printf("seed %llu: %lu ended by the worker, %lu cancelled as current, %ld events, "
               "%ld OnCancel\n", (unsigned long long)Seed, (unsigned long)Ended[0],
               (unsigned long)Ended[1], (long)Model->Events,
               (long)(Model->Wakes[0].Calls + Model->Wakes[1].Calls));
    }
    if (What != NULL) {
        WdkmTestFail(__FILE__, __LINE__, "seed %llu, IRP %lu: %s", (unsigned long long)Seed,
                     (unsigned long)WhatIndex, What);
        Wrong += 1;
    }
    if (Wrong == 0 && WdkmCsqDestroy(Model->Queue.Csq) != STATUS_SUCCESS) {
        WdkmTestFail(__FILE__, __LINE__, "destroy");
        Wrong += 1;
    }
    if (Wrong != 0) {
        return FALSE;       /* leave the IRPs: a lost one may still be referenced */
    }
    for (Index = 0; Index < A36_MODEL_IRPS; Index += 1) {
        WdkmHostIrpFree(Model->Irps[Index]);
    }
    free(Model);
    return TRUE;
}

static VOID
A36SeededModel(VOID)
{
    ULONG64 Seed;
    ULONG64 First = 1;
    PCSTR Env = getenv("A36_SEED");

    if (Env != NULL) {
        First = strtoull(Env, NULL, 0);
    }
    for (Seed = First; Seed < First + 3; Seed += 1) {
        if (!A36ModelRun(Seed)) {
            return;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* More misuse: copies, OnCancel ending, the destroy against running calls */
/* ---------------------------------------------------------------------- */

/* A copy of a record that holds an IRP is not the record that holds it:
   its end is refused and changes nothing; the real record still ends it,
   once, and the queue can be destroyed (nothing owed). */
static VOID
A36CopiedRecord(VOID)
{
    A36_QUEUE Queue;
    WDKM_CSQ_CURRENT Record;
    WDKM_CSQ_CURRENT Copy;
    PIRP Held;
    PIRP Irp = NULL;
    NTSTATUS Status;

    CHECK(A36SetUp(&Queue, &Record, NULL, &Held, 1));
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
    memcpy(&Copy, &Record, sizeof(Copy));
    {
        WDKM_HOST_BUGCHECK_TRAP Trap;
        volatile NTSTATUS Ended = STATUS_UNSUCCESSFUL;

        if (WDKM_HOST_TRY(&Trap)) {
            Ended = WdkmCsqEndCurrentIrp(Queue.Csq, &Copy);
            WdkmHostDisarm(&Trap);
        } else {
            /* The queue's lock is left held by the stopped call: the test
               cannot go on. */
            WdkmTestFail(__FILE__, __LINE__, "the end of a copied record bug checked 0x%X",
                         (unsigned)Trap.Bugcheck.Code);
            return;
        }
        Status = Ended;
    }
    if (Status == STATUS_SUCCESS) {
        /* The copy ended it: the worker would complete it now, and the real
           record's end must not hand it out again. */
        WdkmTestIrpComplete(Held, STATUS_SUCCESS, 1);
        Status = WdkmCsqEndCurrentIrp(Queue.Csq, &Record);
        CHECK_STATUS(Status, STATUS_INVALID_PARAMETER);
        CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
        WdkmHostIrpFree(Held);
        CHECK(!"the end of a copy of the record was not refused");
    }
    CHECK_STATUS(Status, STATUS_INVALID_PARAMETER);
    CHECK(__atomic_load_n(&Held->CancelRoutine, __ATOMIC_SEQ_CST) != NULL);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
    WdkmTestIrpComplete(Held, STATUS_SUCCESS, 1);
    CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    WdkmHostIrpFree(Held);
}

/* OnCancel "only wakes the worker"; a worker woken by it may end the IRP
   at once, before the cancel routine that called OnCancel has returned
   (here: from inside OnCancel, on the cancelling thread). The IRP is
   completed once, through the callback, by the time IoCancelIrp returns. */
typedef struct _A36_ENDER {
    A36_QUEUE *Queue;
    PWDKM_CSQ_CURRENT Record;
    NTSTATUS Status;
    BOOLEAN Done;
} A36_ENDER;

static VOID
A36EndFromOnCancel(A36_WAKE *Wake)
{
    A36_ENDER *Ender = (A36_ENDER *)Wake->HookContext;

    if (!Ender->Done) {
        Ender->Done = TRUE;
        Ender->Status = WdkmCsqEndCurrentIrp(Ender->Queue->Csq, Ender->Record);
    }
}

static VOID
A36EndInsideOnCancel(VOID)
{
    ULONG Way;

    for (Way = 0; Way < 2; Way += 1) {
        A36_QUEUE Queue;
        A36_WAKE Wake;
        A36_ENDER Ender;
        WDKM_CSQ_CURRENT Record;
        PIRP Held;
        PIRP Irp = NULL;
        ULONG Count = 0;

        memset(&Ender, 0, sizeof(Ender));
        CHECK(A36SetUp(&Queue, &Record, &Wake, &Held, 1));
        CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
        Ender.Queue = &Queue;
        Ender.Record = &Record;
        Wake.HookContext = &Ender;
        Wake.Hook = A36EndFromOnCancel;
        if (Way == 0) {
            CHECK(IoCancelIrp(Held));
        } else {
            CHECK_STATUS(WdkmCsqCancelCurrentIrps(Queue.Csq, NULL, NULL, &Count), STATUS_SUCCESS);
            CHECK_EQ(Count, 1);
        }
        CHECK(Ender.Done);
        CHECK_STATUS(Ender.Status, STATUS_CANCELLED);
        CHECK_EQ(WdkmHostIrpCompletions(Held), 1);
        CHECK_EQ(A36IrpCallbacks(Held), 1);
        CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
        WdkmHostIrpFree(Held);
    }
}

/* The destroy begins while a start is running (its match holds the
   queue's lock): "calls already running are safe", so the start's IRP is
   held and the destroy answers STATUS_DEVICE_BUSY, or the destroy wins and
   the start finds nothing. */
typedef struct _A36_STALL {
    A36_QUEUE *Queue;
    volatile LONG InMatch;
    volatile LONG DestroyBegun;
    volatile LONG DestroyDone;
    NTSTATUS DestroyStatus;
} A36_STALL;

static BOOLEAN
A36StallingMatch(PIRP Irp, PVOID MatchContext)
{
    A36_STALL *Stall = (A36_STALL *)MatchContext;
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);

    UNREFERENCED_PARAMETER(Irp);
    A36Store(&Stall->InMatch, 1);
    while (A36Load(&Stall->DestroyBegun) == 0 && WdkmTestNowMs() < Deadline) {
    }
    A36Spin(200000);        /* let the destroy get as far as it can */
    return TRUE;
}

static VOID
A36StallDestroyThread(PVOID Context, ULONG Index)
{
    A36_STALL *Stall = (A36_STALL *)Context;
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);

    UNREFERENCED_PARAMETER(Index);
    while (A36Load(&Stall->InMatch) == 0 && WdkmTestNowMs() < Deadline) {
        sched_yield();
    }
    A36Store(&Stall->DestroyBegun, 1);
    Stall->DestroyStatus = WdkmCsqDestroy(Stall->Queue->Csq);
    A36Store(&Stall->DestroyDone, 1);
}

static VOID
A36DestroyDuringStart(VOID)
{
    A36_QUEUE Queue;
    A36_STALL Stall;
    WDKM_CSQ_CURRENT Record;
    WDKM_TEST_THREAD *Thread;
    PIRP Held;
    PIRP Irp = NULL;
    NTSTATUS Status;
    LONGLONG Deadline;

    memset(&Stall, 0, sizeof(Stall));
    CHECK(A36SetUp(&Queue, &Record, NULL, &Held, 1));
    Stall.Queue = &Queue;
    Thread = WdkmTestStartThread(A36StallDestroyThread, &Stall);
    CHECK(Thread != NULL);
    Status = WdkmCsqStartNextIrp(Queue.Csq, A36StallingMatch, &Stall, &Record, &Irp);
    Deadline = WdkmTestDeadlineMs(5000);
    while (A36Load(&Stall.DestroyDone) == 0 && WdkmTestNowMs() < Deadline) {
        sched_yield();
    }
    CHECK_EQ(A36Load(&Stall.DestroyDone), 1);
    WdkmTestJoinThread(Thread);
    if (Status == STATUS_SUCCESS) {
        CHECK(Irp == Held);
        CHECK_STATUS(Stall.DestroyStatus, STATUS_DEVICE_BUSY);
        CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
        WdkmTestIrpComplete(Held, STATUS_SUCCESS, 1);
        CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
    } else {
        CHECK_STATUS(Status, STATUS_NO_MORE_ENTRIES);
        CHECK_STATUS(Stall.DestroyStatus, STATUS_SUCCESS);
        CHECK_EQ(A36IrpCallbacks(Held), 1);
    }
    CHECK_EQ(WdkmHostIrpCompletions(Held), 1);
    WdkmHostIrpFree(Held);
}

/* The destroy begins while an end runs its callback (the IRP was cancelled
   while current): the end is a call already running; under ASan any use
   of the queue after the destroy freed it shows. */
typedef struct _A36_LATE_DESTROY {
    volatile LONG InCallback;
    volatile LONG DestroyBegun;
    volatile LONG DestroyDone;
    NTSTATUS DestroyStatus;
    A36_QUEUE *Queue;
} A36_LATE_DESTROY;

static VOID
A36CallbackWaitsForDestroy(A36_QUEUE *Queue, PIRP Irp)
{
    A36_LATE_DESTROY *Late = (A36_LATE_DESTROY *)Queue->HookContext;
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);

    UNREFERENCED_PARAMETER(Irp);
    A36Store(&Late->InCallback, 1);
    while (A36Load(&Late->DestroyBegun) == 0 && WdkmTestNowMs() < Deadline) {
        sched_yield();
    }
    A36Spin(200000);
}

static VOID
A36LateDestroyThread(PVOID Context, ULONG Index)
{
    A36_LATE_DESTROY *Late = (A36_LATE_DESTROY *)Context;
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);

    UNREFERENCED_PARAMETER(Index);
    while (A36Load(&Late->InCallback) == 0 && WdkmTestNowMs() < Deadline) {
        sched_yield();
    }
    A36Store(&Late->DestroyBegun, 1);
    while ((Late->DestroyStatus = WdkmCsqDestroy(Late->Queue->Csq)) == STATUS_DEVICE_BUSY) {
        sched_yield();
    }
    A36Store(&Late->DestroyDone, 1);
}

static VOID
A36DestroyDuringEndCallback(VOID)
{
    A36_QUEUE *Queue;
    A36_LATE_DESTROY Late;
    WDKM_CSQ_CURRENT Record;
    WDKM_TEST_THREAD *Thread;
    PIRP Held;
    PIRP Irp = NULL;

    memset(&Late, 0, sizeof(Late));
    Queue = (A36_QUEUE *)calloc(1, sizeof(*Queue));
    CHECK(Queue != NULL);
    CHECK(A36SetUp(Queue, &Record, NULL, &Held, 1));
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue->Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
    CHECK(IoCancelIrp(Held));
    Late.Queue = Queue;
    Queue->HookContext = &Late;
    Queue->Hook = A36CallbackWaitsForDestroy;
    Thread = WdkmTestStartThread(A36LateDestroyThread, &Late);
    CHECK(Thread != NULL);
    CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue->Csq, &Record), STATUS_CANCELLED);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Late.DestroyStatus, STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(Held), 1);
    WdkmHostIrpFree(Held);
    free(Queue);
}

/* ---------------------------------------------------------------------- */
/* The destroy while a running call is between its lock and its callback   */
/* ---------------------------------------------------------------------- */

/*
 * "Calls already running are safe" (wdkm_csq.h, WdkmCsqDestroy): a call
 * that lets the queue's lock go and then calls CompleteCanceledIrp or an
 * OnCancel, or takes the lock again, is running until it returns. Here it
 * is stopped right there (an OnCancel that stalls, or a DPC delivered as
 * the call's lock release lowers the IRQL) while another thread destroys
 * the queue, with nothing held any more. The destroy must not return (nor
 * free the queue) before the stalled call is done with the queue; the
 * stall gives up after A36_STALL_MS, so a destroy that waits as it should
 * costs that much, and one that does not returns within it.
 */
#define A36_STALL_MS 100

typedef struct _A36_RACER {
    A36_QUEUE *Queue;
    PWDKM_CSQ_CURRENT Record;
    PIRP Irp;                   /* the victim call's IRP */
    PKTHREAD Victim;
    ULONG Mode;
    volatile LONG Go;           /* the destroyer may begin */
    volatile LONG Done;         /* the destroyer returned */
    volatile LONG InWindow;     /* the stall ran where it was meant to */
    volatile LONG EarlyDestroy; /* the destroy returned during the stall */
    volatile LONG InMatch;
    volatile LONG VictimCalling;
    NTSTATUS Status;
} A36_RACER;

static VOID
A36RacerDestroyer(PVOID Context, ULONG Index)
{
    A36_RACER *Racer = (A36_RACER *)Context;
    LONGLONG Deadline = WdkmTestDeadlineMs(10000);

    UNREFERENCED_PARAMETER(Index);
    while (A36Load(&Racer->Go) == 0 && WdkmTestNowMs() < Deadline) {
        sched_yield();
    }
    while ((Racer->Status = WdkmCsqDestroy(Racer->Queue->Csq)) == STATUS_DEVICE_BUSY &&
           WdkmTestNowMs() < Deadline) {
        sched_yield();
    }
    A36Store(&Racer->Done, 1);
}

/* The stall: lets the destroyer go and gives it A36_STALL_MS to return. */
static VOID
A36RacerStall(A36_RACER *Racer)
{
    LONGLONG Until = WdkmTestNowMs() + A36_STALL_MS;

    A36Store(&Racer->InWindow, 1);
    A36Store(&Racer->Go, 1);
    while (A36Load(&Racer->Done) == 0 && WdkmTestNowMs() < Until) {
        sched_yield();
    }
    if (A36Load(&Racer->Done) != 0) {
        A36Store(&Racer->EarlyDestroy, 1);
    }
}

/* WdkmCsqCancelCurrentIrps: its OnCancel stalls while the worker, woken,
   ends the IRP and the destroyer destroys; then it walks the queue again. */
static VOID
A36StallOnCancel(A36_WAKE *Wake)
{
    A36_RACER *Racer = (A36_RACER *)Wake->HookContext;

    A36Store(&Racer->InMatch, 1);           /* wakes the worker */
    A36RacerStall(Racer);
}

static VOID
A36RacerWorker(PVOID Context, ULONG Index)
{
    A36_RACER *Racer = (A36_RACER *)Context;
    LONGLONG Deadline = WdkmTestDeadlineMs(10000);

    UNREFERENCED_PARAMETER(Index);
    while (A36Load(&Racer->InMatch) == 0 && WdkmTestNowMs() < Deadline) {
        sched_yield();
    }
    Racer->Status = WdkmCsqEndCurrentIrp(Racer->Queue->Csq, Racer->Record);
    A36RacerDestroyer(Racer, 0);
}

static VOID
A36DestroyDuringCancelCurrent(VOID)
{
    A36_QUEUE *Queue;
    A36_WAKE Wake;
    A36_RACER Racer;
    WDKM_CSQ_CURRENT Record;
    WDKM_TEST_THREAD *Thread;
    PIRP Held;
    PIRP Irp = NULL;
    ULONG Count = 0;

    memset(&Racer, 0, sizeof(Racer));
    Queue = (A36_QUEUE *)calloc(1, sizeof(*Queue));
    CHECK(Queue != NULL);
    CHECK(A36SetUp(Queue, &Record, &Wake, &Held, 1));
    CHECK_STATUS(WdkmCsqStartNextIrp(Queue->Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
    Racer.Queue = Queue;
    Racer.Record = &Record;
    Wake.HookContext = &Racer;
    Wake.Hook = A36StallOnCancel;
    Thread = WdkmTestStartThread(A36RacerWorker, &Racer);
    CHECK(Thread != NULL);
    CHECK_STATUS(WdkmCsqCancelCurrentIrps(Queue->Csq, NULL, NULL, &Count), STATUS_SUCCESS);
    WdkmTestJoinThread(Thread);
    CHECK_EQ(Count, 1);
    CHECK_EQ(A36Load(&Racer.InWindow), 1);
    CHECK_EQ(A36Load(&Racer.EarlyDestroy), 0);
    CHECK_STATUS(Racer.Status, STATUS_SUCCESS);
    CHECK_EQ(WdkmHostIrpCompletions(Held), 1);
    CHECK_EQ(A36IrpCallbacks(Held), 1);
    WdkmHostIrpFree(Held);
    free(Queue);
}

/* A start's (a remove's) match cancels a queued IRP, an orphan the call
   hands to the callback after its lock; a DPC, queued from the match to
   its own thread, runs as the lock is let go and stalls there. */
static VOID
A36StallDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A36_RACER *Racer = (A36_RACER *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    A36RacerStall(Racer);
}

static BOOLEAN
A36OrphanMatch(PIRP Irp, PVOID MatchContext)
{
    A36_RACER *Racer = (A36_RACER *)MatchContext;

    if (Irp == Racer->Irp && A36Load(&Racer->InMatch) == 0) {
        A36Store(&Racer->InMatch, 1);
        (VOID)IoCancelIrp(Irp);
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A36StallDpc, Racer);
    }
    return FALSE;
}

static VOID
A36DestroyDuringOrphans(VOID)
{
    ULONG Mode;

    for (Mode = 0; Mode < 2; Mode += 1) {
        A36_QUEUE *Queue;
        A36_RACER Racer;
        WDKM_CSQ_CURRENT Record;
        WDKM_TEST_THREAD *Thread;
        PIRP Queued;
        PIRP Irp = NULL;
        NTSTATUS Status;

        memset(&Racer, 0, sizeof(Racer));
        Queue = (A36_QUEUE *)calloc(1, sizeof(*Queue));
        CHECK(Queue != NULL);
        CHECK(A36SetUp(Queue, &Record, NULL, &Queued, 1));
        Racer.Queue = Queue;
        Racer.Irp = Queued;
        Thread = WdkmTestStartThread(A36RacerDestroyer, &Racer);
        CHECK(Thread != NULL);
        if (Mode == 0) {
            Status = WdkmCsqStartNextIrp(Queue->Csq, A36OrphanMatch, &Racer, &Record, &Irp);
        } else {
            Status = WdkmCsqRemoveNextIrp(Queue->Csq, A36OrphanMatch, &Racer, &Irp);
        }
        A36Store(&Racer.Go, 1);         /* in case the window was missed */
        WdkmTestJoinThread(Thread);
        CHECK_STATUS(Status, STATUS_NO_MORE_ENTRIES);
        CHECK_EQ(A36Load(&Racer.InWindow), 1);
        CHECK_EQ(A36Load(&Racer.EarlyDestroy), 0);
        CHECK_STATUS(Racer.Status, STATUS_SUCCESS);
        CHECK_EQ(WdkmHostIrpCompletions(Queued), 1);
        WdkmHostIrpFree(Queued);
        free(Queue);
    }
}

/* The end (the IRP cancelled while current: the callback after the lock)
   and the insert (an IRP cancelled before it: the same) are delayed at
   their lock by a start on another thread whose match holds it; that
   match queues a DPC to the waiting call's thread, which runs as the call
   lets the lock go: the stall. Attempts whose DPC came too early (before
   the call took the lock) are retried. */
/* The stall DPC of a victim call: only in the window does it stall. */
static VOID
A36VictimDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A36_RACER *Racer = (A36_RACER *)Context;
    BOOLEAN Past;

    if (Racer->Mode == 0) {
        Past = Racer->Record->Irp == NULL;      /* the end unlinked it */
    } else {
        Past = (Racer->Irp->Stack.Control & SL_PENDING_RETURNED) != 0;    /* inserted */
    }
    if (Past) {
        A36StallDpc(Kind, Random, Context);
    }
}

static BOOLEAN
A36HolderMatch(PIRP Irp, PVOID MatchContext)
{
    A36_RACER *Racer = (A36_RACER *)MatchContext;
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);
    LONGLONG Settle;

    UNREFERENCED_PARAMETER(Irp);
    A36Store(&Racer->InMatch, 1);
    while (A36Load(&Racer->VictimCalling) == 0 && WdkmTestNowMs() < Deadline) {
    }
    Settle = WdkmTestNowMs() + WdkmTestScaledMs(20);    /* the victim raises and spins */
    while (WdkmTestNowMs() < Settle) {
    }
    WdkmHostQueueInterrupt(Racer->Victim, WdkmHostInterruptDpc, A36VictimDpc, Racer);
    return FALSE;
}

static VOID
A36HolderThread(PVOID Context, ULONG Index)
{
    A36_RACER *Racer = (A36_RACER *)Context;
    WDKM_CSQ_CURRENT Record;
    PIRP Irp = NULL;

    UNREFERENCED_PARAMETER(Index);
    if (WdkmCsqInitializeCurrent(&Record, NULL, NULL) == STATUS_SUCCESS) {
        (VOID)WdkmCsqStartNextIrp(Racer->Queue->Csq, A36HolderMatch, Racer, &Record, &Irp);
    }
}

static VOID
A36DestroyDuringCallbackOfEndOrInsert(VOID)
{
    ULONG Mode;

    for (Mode = 0; Mode < 2; Mode += 1) {
        ULONG Attempt;
        BOOLEAN Hit = FALSE;

        for (Attempt = 0; Attempt < 20 && !Hit; Attempt += 1) {
            A36_QUEUE *Queue;
            A36_RACER Racer;
            WDKM_CSQ_CURRENT Record;
            WDKM_TEST_THREAD *Threads[2];
            PIRP Spare;
            PIRP Subject;
            PIRP Irp = NULL;
            NTSTATUS Status;
            LONGLONG Deadline;

            memset(&Racer, 0, sizeof(Racer));
            Queue = (A36_QUEUE *)calloc(1, sizeof(*Queue));
            CHECK(Queue != NULL);
            CHECK(A36Create(Queue));
            CHECK_STATUS(WdkmCsqInitializeCurrent(&Record, NULL, NULL), STATUS_SUCCESS);
            Subject = A36Irp(0);
            Spare = A36Irp(1);
            CHECK(Subject != NULL && Spare != NULL);
            if (Mode == 0) {
                CHECK_STATUS(WdkmCsqInsertIrp(Queue->Csq, Subject, NULL), STATUS_PENDING);
                CHECK_STATUS(WdkmCsqStartNextIrp(Queue->Csq, NULL, NULL, &Record, &Irp),
                             STATUS_SUCCESS);
            }
            CHECK(!IoCancelIrp(Subject) || Mode == 0);
            CHECK_STATUS(WdkmCsqInsertIrp(Queue->Csq, Spare, NULL), STATUS_PENDING);
            Racer.Queue = Queue;
            Racer.Record = &Record;
            Racer.Irp = Subject;
            Racer.Mode = Mode;
            Racer.Victim = KeGetCurrentThread();
            Threads[0] = WdkmTestStartThread(A36RacerDestroyer, &Racer);
            Threads[1] = WdkmTestStartThread(A36HolderThread, &Racer);
            CHECK(Threads[0] != NULL && Threads[1] != NULL);
            Deadline = WdkmTestDeadlineMs(5000);
            while (A36Load(&Racer.InMatch) == 0 && WdkmTestNowMs() < Deadline) {
                sched_yield();
            }
            A36Store(&Racer.VictimCalling, 1);
            if (Mode == 0) {
                Status = WdkmCsqEndCurrentIrp(Queue->Csq, &Record);
                CHECK_STATUS(Status, STATUS_CANCELLED);
            } else {
                Status = WdkmCsqInsertIrp(Queue->Csq, Subject, NULL);
                CHECK_STATUS(Status, STATUS_PENDING);
            }
            Hit = A36Load(&Racer.InWindow) != 0;
            A36Store(&Racer.Go, 1);
            WdkmTestJoinThread(Threads[1]);
            WdkmTestJoinThread(Threads[0]);
            CHECK_EQ(A36Load(&Racer.EarlyDestroy), 0);
            CHECK_STATUS(Racer.Status, STATUS_SUCCESS);
            CHECK_EQ(WdkmHostIrpCompletions(Subject), 1);
            CHECK_EQ(A36IrpCallbacks(Subject), 1);
            CHECK_EQ(WdkmHostIrpCompletions(Spare), 1);
            WdkmHostIrpFree(Subject);
            WdkmHostIrpFree(Spare);
            free(Queue);
        }
        CHECK(Hit);
    }
}

/* Events on the canceller's thread inside the queue's cancel routine:
   after it lets the cancel spin lock go (the IRQL drops, a pending DPC
   runs) and before it takes the queue's lock. The DPC, as the worker
   would, ends the IRP (then nothing holds it: the routine completes it)
   and starts the next one with the same record (which the late routine
   must leave alone). */
typedef struct _A36_IN_ROUTINE {
    A36_QUEUE *Queue;
    PWDKM_CSQ_CURRENT Record;
    ULONG Mode;
    volatile LONG Ran;
    NTSTATUS Ended;
    NTSTATUS Started;
    PIRP Next;
    PIRP Cancelled;
    LONG CompletionsAtDpc;      /* the routine had not completed it yet */
} A36_IN_ROUTINE;

static VOID
A36InRoutineDpc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A36_IN_ROUTINE *In = (A36_IN_ROUTINE *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    In->CompletionsAtDpc = WdkmHostIrpCompletions(In->Cancelled);
    In->Ended = WdkmCsqEndCurrentIrp(In->Queue->Csq, In->Record);
    if (In->Mode == 1) {
        In->Started = WdkmCsqStartNextIrp(In->Queue->Csq, NULL, NULL, In->Record, &In->Next);
    }
    A36Store(&In->Ran, 1);
}

static VOID
A36EventsInsideCancelRoutine(VOID)
{
    ULONG Mode;

    for (Mode = 0; Mode < 2; Mode += 1) {
        A36_QUEUE Queue;
        A36_WAKE Wake;
        A36_IN_ROUTINE In;
        WDKM_CSQ_CURRENT Record;
        PDRIVER_CANCEL Routine;
        PIRP Irps[2];
        PIRP Irp = NULL;
        KIRQL Irql;

        memset(&In, 0, sizeof(In));
        CHECK(A36SetUp(&Queue, &Record, &Wake, Irps, 2));
        CHECK_STATUS(WdkmCsqStartNextIrp(Queue.Csq, NULL, NULL, &Record, &Irp), STATUS_SUCCESS);
        In.Queue = &Queue;
        In.Record = &Record;
        In.Mode = Mode;
        In.Cancelled = Irps[0];
        In.CompletionsAtDpc = -1;
        /* IoCancelIrp by hand, at PASSIVE_LEVEL: the DPC waits, masked, for
           the routine's release of the cancel spin lock. */
        Routine = WdkmTestIrpTakeCancelRoutine(Irps[0]);
        CHECK(Routine != NULL);
        IoAcquireCancelSpinLock(&Irql);
        WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A36InRoutineDpc, &In);
        Irps[0]->CancelIrql = Irql;
        Routine(NULL, Irps[0]);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        CHECK_EQ(A36Load(&In.Ran), 1);
        CHECK_EQ(In.CompletionsAtDpc, 0);
        CHECK_STATUS(In.Ended, STATUS_CANCELLED);
        CHECK_EQ(WdkmHostIrpCompletions(Irps[0]), 1);
        CHECK_EQ(A36IrpCallbacks(Irps[0]), 1);
        if (Mode == 1) {
            CHECK_STATUS(In.Started, STATUS_SUCCESS);
            CHECK(In.Next == Irps[1]);
            CHECK_STATUS(WdkmCsqCheckCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
            CHECK_STATUS(WdkmCsqEndCurrentIrp(Queue.Csq, &Record), STATUS_SUCCESS);
            WdkmTestIrpComplete(Irps[1], STATUS_SUCCESS, 1);
        }
        CHECK(Wake.Calls <= 1);
        CHECK_STATUS(WdkmCsqDestroy(Queue.Csq), STATUS_SUCCESS);
        CHECK_EQ(WdkmHostIrpCompletions(Irps[1]), 1);
        WdkmHostIrpFree(Irps[0]);
        WdkmHostIrpFree(Irps[1]);
    }
}

/* SUITE-TABLE */
static VOID
A36Cleanup(VOID)
{
    if (WdkmHostInterruptsActive(NULL)) {
        WdkmHostInterruptsStop();
    }
}

static const WDKM_TEST_CASE A36Cases[] = {
    { "refusals", A36Refusals },
    { "cancel_before_start", A36CancelBeforeStart },
    { "cancel_while_current", A36CancelWhileCurrent },
    { "routine_taken_before_end", A36RoutineTakenBeforeEnd },
    { "ends_at_dispatch", A36EndsAtDispatch },
    { "cancel_current_irps", A36CancelCurrentIrps },
    { "late_routine_record_freed", A36LateRoutineRecordFreed },
    { "late_routine_next_irp", A36LateRoutineNextIrp },
    { "late_routine_other_queue", A36LateRoutineOtherQueue },
    { "match_cancels_while_starting", A36MatchCancelsWhileStarting },
    { "match_cancels_others", A36MatchCancelsOthers },
    { "cancel_current_match_cancels_queued", A36CancelCurrentMatchCancelsQueued },
    { "match_calls_queue", A36MatchCallsQueue },
    { "events_inside_start", A36EventsInsideStart },
    { "start_inside_end", A36StartInsideEnd },
    { "events_inside_cancel_routine", A36EventsInsideCancelRoutine },
    { "two_workers_one_record", A36TwoWorkersOneRecord },
    { "many_cancellers_race_end", A36ManyCancellersRaceEnd },
    { "destroy_races_last_end", A36DestroyRacesLastEnd },
    { "copied_record", A36CopiedRecord },
    { "end_inside_on_cancel", A36EndInsideOnCancel },
    { "destroy_during_start", A36DestroyDuringStart },
    { "destroy_during_end_callback", A36DestroyDuringEndCallback },
    { "destroy_during_cancel_current", A36DestroyDuringCancelCurrent },
    { "destroy_during_orphans", A36DestroyDuringOrphans },
    { "destroy_during_callback_of_end_or_insert", A36DestroyDuringCallbackOfEndOrInsert },
    { "seeded_model", A36SeededModel },
};

const WDKM_TEST_SUITE WdkmAttack36Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack36", A36Cases, A36Cleanup);
