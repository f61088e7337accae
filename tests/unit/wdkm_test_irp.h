/*
 * wdkm_test_irp.h - IRPs and cancel-safe queues for the host unit tests.
 *
 * The host emulation's IRPs (wdkm_host_io.h, docs/host-testing.md) with
 * what the csq suites need around them: an outcome that counts how a
 * test's IRPs were completed, the queue's CompleteCanceledIrp and a
 * record's OnCancel counting into it, IoCancelIrp in its two halves, and
 * a queue with a record and a few IRPs already inserted.
 *
 * Host only (it is built with the unit tests, not with tests/common,
 * whose sources are also the test driver's kernel sources).
 */
#ifndef WDKM_TEST_IRP_H
#define WDKM_TEST_IRP_H

#include "wdkm_test.h"

/* What happened to the IRPs of a test; updated atomically (any thread). */
typedef struct _WDKM_TEST_IRP_OUTCOME {
    LONG Completed;
    LONG Succeeded;
    LONG Cancelled;
    LONG NotPending;        /* completed without having been marked pending */
    LONG CallbackCalls;     /* WdkmTestIrpCompleteCancelled (CompleteCanceledIrp) */
    LONG OnCancelCalls;     /* WdkmTestIrpOnCancel (a record's OnCancel) */
} WDKM_TEST_IRP_OUTCOME;

/* A device control IRP of FileObject (may be NULL); its completions count
   into Outcome unless that is NULL. NULL if out of memory. Free it with
   WdkmHostIrpFree once WdkmHostIrpCompletions reads 1 (or it never went
   anywhere). */
PIRP
WdkmTestIrpAllocate(
    _In_opt_ WDKM_TEST_IRP_OUTCOME *Outcome,
    _In_opt_ PFILE_OBJECT FileObject);

/* Completes Irp with Status and Information, as its driver would. */
VOID
WdkmTestIrpComplete(
    _In_ PIRP Irp,
    _In_ NTSTATUS Status,
    _In_ ULONG_PTR Information);

/* A queue's CompleteCanceledIrp: counts a callback into the outcome that
   Context is, completes Irp with STATUS_CANCELLED. */
VOID
WdkmTestIrpCompleteCancelled(
    _In_ PWDKM_CSQ Csq,
    _In_ PIRP Irp,
    _In_opt_ PVOID Context);

/* A record's OnCancel: counts into the outcome that Context is. */
VOID
WdkmTestIrpOnCancel(
    _In_ PWDKM_CSQ Csq,
    _In_opt_ PVOID Context);

/* A match: the IRPs of the file object MatchContext is (a cleanup's). */
BOOLEAN
WdkmTestIrpOfFile(
    _In_ PIRP Irp,
    _In_opt_ PVOID MatchContext);

/* IoCancelIrp's first half, as NT runs it under the cancel spin lock:
   marks Irp cancelled and takes its cancel routine (NULL if it had none).
   The lock is let go again, so the test can go on before the second half,
   as if IoCancelIrp had been interrupted between the two. */
PDRIVER_CANCEL
WdkmTestIrpTakeCancelRoutine(
    _In_ PIRP Irp);

/* IoCancelIrp's second half: calls Routine with the cancel spin lock held,
   as the routine expects (it releases it). */
VOID
WdkmTestIrpCallCancelRoutine(
    _In_ PIRP Irp,
    _In_ PDRIVER_CANCEL Routine);

/* WdkmCsqQueryCount, or 0xFFFFFFFF if it fails. */
ULONG
WdkmTestCsqCount(
    _In_opt_ PWDKM_CSQ Csq);

/* A queue completing through WdkmTestIrpCompleteCancelled, a record waking
   through WdkmTestIrpOnCancel, both counting into Outcome, and Count IRPs
   inserted, each with its context. */
#define WDKM_TEST_CSQ_SETUP_IRPS 4

typedef struct _WDKM_TEST_CSQ_SETUP {
    WDKM_TEST_IRP_OUTCOME Outcome;
    PWDKM_CSQ Csq;
    WDKM_CSQ_CURRENT Current;
    PIRP Irps[WDKM_TEST_CSQ_SETUP_IRPS];
    WDKM_CSQ_IRP_CONTEXT Contexts[WDKM_TEST_CSQ_SETUP_IRPS];
    ULONG Count;
} WDKM_TEST_CSQ_SETUP;

/* Fails the running test (and returns FALSE) if anything is refused. */
BOOLEAN
WdkmTestCsqSetUp(
    _Out_ WDKM_TEST_CSQ_SETUP *Setup,
    _In_ ULONG Count,
    _In_opt_ PFILE_OBJECT FileObject);

/* Destroys the queue, checks that each IRP was completed exactly once and
   frees it, and that no pool is left. */
VOID
WdkmTestCsqTearDown(
    _Inout_ WDKM_TEST_CSQ_SETUP *Setup);

#endif /* WDKM_TEST_IRP_H */
