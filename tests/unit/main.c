/*
 * main.c - the host unit test program: every suite, in order. Built twice:
 * against the release library, and against the checked one (WDKM_CHECKED),
 * which adds the diagnostics suite.
 */
#include "wdkm_test.h"
#include "wdkm_test_interrupts.h"

extern const WDKM_TEST_SUITE WdkmStatusSuite;
extern const WDKM_TEST_SUITE WdkmKMutexSuite;
extern const WDKM_TEST_SUITE WdkmFastMutexSuite;
extern const WDKM_TEST_SUITE WdkmScopeSuite;
extern const WDKM_TEST_SUITE WdkmPoolSuite;
extern const WDKM_TEST_SUITE WdkmGrtSuite;
extern const WDKM_TEST_SUITE WdkmGrtCacheSuite;
extern const WDKM_TEST_SUITE WdkmKindsSuite;
extern const WDKM_TEST_SUITE WdkmMisuseSuite;
extern const WDKM_TEST_SUITE WdkmFaultsSuite;
extern const WDKM_TEST_SUITE WdkmStressSuite;
extern const WDKM_TEST_SUITE WdkmCsqSuite;
extern const WDKM_TEST_SUITE WdkmCsqCurrentSuite;
extern const WDKM_TEST_SUITE WdkmCsqThreadExitSuite;
extern const WDKM_TEST_SUITE WdkmRundownSuite;
extern const WDKM_TEST_SUITE WdkmModelSuite;
extern const WDKM_TEST_SUITE WdkmInPlaceSuite;
extern const WDKM_TEST_SUITE WdkmDpcFormsSuite;
extern const WDKM_TEST_SUITE WdkmCallbackSuite;
extern const WDKM_TEST_SUITE WdkmAttackSuite;
extern const WDKM_TEST_SUITE WdkmFastPathSuite;
extern const WDKM_TEST_SUITE WdkmAttack18Suite;
extern const WDKM_TEST_SUITE WdkmAttack21Suite;
extern const WDKM_TEST_SUITE WdkmAttack24Suite;
extern const WDKM_TEST_SUITE WdkmAttack25Suite;
extern const WDKM_TEST_SUITE WdkmAttack26Suite;
extern const WDKM_TEST_SUITE WdkmAttack27Suite;
extern const WDKM_TEST_SUITE WdkmAttack28Suite;
extern const WDKM_TEST_SUITE WdkmAttack31Suite;
extern const WDKM_TEST_SUITE WdkmAttack30Suite;
extern const WDKM_TEST_SUITE WdkmAttack32Suite;
extern const WDKM_TEST_SUITE WdkmAttack33Suite;
extern const WDKM_TEST_SUITE WdkmAttack34Suite;
extern const WDKM_TEST_SUITE WdkmAttack36Suite;
extern const WDKM_TEST_SUITE WdkmAttack37Suite;
extern const WDKM_TEST_SUITE WdkmAttack38Suite;
extern const WDKM_TEST_SUITE WdkmAttack39Suite;
extern const WDKM_TEST_SUITE WdkmAttack40Suite;
#if WDKM_CHECKED
extern const WDKM_TEST_SUITE WdkmDiagSuite;
extern const WDKM_TEST_SUITE WdkmAttack22Suite;
extern const WDKM_TEST_SUITE WdkmAttack23Suite;
extern const WDKM_TEST_SUITE WdkmAttack29Suite;
extern const WDKM_TEST_SUITE WdkmAttack35Suite;
#endif

int WdkmTestMain(int argc, char **argv, const WDKM_TEST_SUITE *Suites, ULONG SuiteCount);

int
main(int argc, char **argv)
{
    const WDKM_TEST_SUITE Suites[] = {
        WdkmStatusSuite,
        WdkmKMutexSuite,
        WdkmFastMutexSuite,
        WdkmScopeSuite,
        WdkmPoolSuite,
        WdkmGrtSuite,
        WdkmGrtCacheSuite,    /* the registry's per-processor reference caches */
        WdkmKindsSuite,
        WdkmMisuseSuite,
        WdkmFaultsSuite,
        WdkmCsqSuite,
        WdkmCsqCurrentSuite,  /* a worker's current IRP, cancellable */
        WdkmCsqThreadExitSuite, /* the issuing thread exits: its IRPs cancelled */
        WdkmRundownSuite,     /* rundown protection under DPCs, APCs and a seeded model */
        WdkmStressSuite,
        WdkmInPlaceSuite,
        WdkmDpcFormsSuite,
        WdkmCallbackSuite,
        WdkmAttackSuite,      /* written from the docs alone */
        WdkmFastPathSuite,    /* inline twins against the exported functions */
        WdkmAttack18Suite,    /* registry one-block entries, fast-path forms mixed */
        WdkmAttack21Suite,    /* registry reference caches, from the docs alone */
#if WDKM_CHECKED
        WdkmDiagSuite,        /* the checked build's own: lock order, statistics, leaks */
        WdkmAttack22Suite,    /* diagnostics thread records, from the docs alone */
        WdkmAttack23Suite,    /* thread records under injected DPCs and APCs, from the docs */
        WdkmAttack29Suite,    /* lock order and statistics against a seeded model, from the docs */
        WdkmAttack35Suite,    /* class recycling in a full table, against a seeded model, from the docs */
#endif
        WdkmAttack24Suite,    /* values in place, destroy and take, callback forms under DPCs and APCs */
        WdkmAttack25Suite,    /* every kind under DPCs and APCs on its owner, from the docs */
        WdkmAttack26Suite,    /* destroy of held locks, nested spin-lock releases, ERESOURCE APCs */
        WdkmAttack27Suite,    /* the cancel-safe queue under cancels, DPCs and APCs, from the docs */
        WdkmAttack28Suite,    /* the host emulation as a product: kernel rules, events, controls */
        WdkmAttack31Suite,    /* regions, scoped forms, pool statistics, status helpers, from the docs */
        WdkmAttack30Suite,    /* drained registry locks; DPCs and APCs giving back their references */
        WdkmAttack32Suite,    /* interrupt injection against a model; drained registrations, from the docs */
        WdkmAttack33Suite,    /* the registry lookup's callback form and the acquisitions', from the docs */
        WdkmAttack34Suite,    /* rundown protection, from the docs alone */
        WdkmAttack36Suite,    /* the queue's current IRP, from the docs alone */
        WdkmAttack37Suite,    /* scopes, regions, values in place, inline twins, pool, from the docs */
        WdkmAttack38Suite,    /* instance names and their classes; rundown under DPCs, APCs and a model, from the docs */
        WdkmAttack39Suite,    /* the issuing thread's exit and the cancel-safe queue, from the docs */
        WdkmAttack40Suite,    /* the wdk-mutex crate's promises, row by row, and a registry model */
        WdkmModelSuite,       /* last: a failed walk may leave threads stuck in the library */
    };

    int Result;

    /* WDKM_HOST_INTERRUPTS: injected DPCs and APCs run the action set. */
    if (WdkmTestInterruptsInstall()) {
        WdkmTestAfterEachTest = WdkmTestInterruptViolationsSinceLastCall;
    }
    Result = WdkmTestMain(argc, argv, Suites, sizeof(Suites) / sizeof(Suites[0]));
    if (WdkmTestInterruptsFinish() != 0) {
        Result = 1;
    }
    return Result;
}
