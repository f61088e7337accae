/*
 * host_test.h - the harness of the emulation's own test programs
 * (host_emulation_test.c, host_attack39_test.c). Plain C, no framework:
 * one "PASS name" or "FAIL name" line per test, then "N passed, N failed"
 * (HostTestSummary, the exit status: non-zero if anything failed).
 * WDKM_HOST_TEST=name runs one test, WDKM_HOST_TEST_REPEAT=N each N times.
 * After every test the main thread must be back at PASSIVE_LEVEL holding
 * no lock with APCs enabled, which also checks the emulation's
 * bookkeeping after each trapped bug check.
 *
 * Included once per program (its state is the program's).
 */
#ifndef HOST_TEST_H
#define HOST_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ntddk.h>
#include <wdkm_host.h>

static int TestsPassed;
static int TestsFailed;
static int CurrentTestFailed;

#define CHECK(Condition)                                                                  \
    do {                                                                                  \
        if (!(Condition)) {                                                               \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #Condition); \
            CurrentTestFailed = 1;                                                        \
        }                                                                                 \
    } while (0)

#define CHECK_EQ(Actual, Expected)                                                        \
    do {                                                                                  \
        long long A_ = (long long)(Actual), E_ = (long long)(Expected);                   \
        if (A_ != E_) {                                                                   \
            fprintf(stderr, "  %s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__,   \
                    #Actual, A_, E_);                                                     \
            CurrentTestFailed = 1;                                                        \
        }                                                                                 \
    } while (0)

#define CHECK_STATUS(Expected, Actual)                                                  \
    do {                                                                                \
        NTSTATUS Actual_ = (Actual);                                                    \
        if (Actual_ != (Expected)) {                                                    \
            fprintf(stderr, "  %s:%d: %s is 0x%08X, expected 0x%08X\n", __FILE__, __LINE__, \
                    #Actual, (unsigned)Actual_, (unsigned)(Expected));                  \
            CurrentTestFailed = 1;                                                      \
        }                                                                               \
    } while (0)

static void HostTestRunOnce(const char *Name, void (*Test)(void))
{
    CurrentTestFailed = 0;
    Test();
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        fprintf(stderr, "  left at IRQL %u\n", KeGetCurrentIrql());
        KeLowerIrql(PASSIVE_LEVEL);
        CurrentTestFailed = 1;
    }
    if (WdkmHostThreadHeldLockCount() != 0 || KeAreApcsDisabled()) {
        fprintf(stderr, "  left holding %lu locks, APCs disabled %u\n",
                (unsigned long)WdkmHostThreadHeldLockCount(), KeAreApcsDisabled());
        CurrentTestFailed = 1;
    }
    printf("%s %s\n", CurrentTestFailed ? "FAIL" : "PASS", Name);
    fflush(stdout);
    if (CurrentTestFailed) {
        TestsFailed++;
    } else {
        TestsPassed++;
    }
}

static void RunTest(const char *Name, void (*Test)(void))
{
    const char *Only = getenv("WDKM_HOST_TEST");
    const char *Repeat = getenv("WDKM_HOST_TEST_REPEAT");
    long Times = Repeat != NULL ? strtol(Repeat, NULL, 10) : 1;
    long Round;

    if (Only != NULL && *Only != '\0' && strcmp(Only, Name) != 0) {
        return;
    }
    for (Round = 0; Round < (Times > 0 ? Times : 1); Round++) {
        HostTestRunOnce(Name, Test);
    }
}

/* The last line and the exit status. */
static int HostTestSummary(void)
{
    printf("%d passed, %d failed\n", TestsPassed, TestsFailed);
    return TestsFailed == 0 ? 0 : 1;
}

#endif /* HOST_TEST_H */
