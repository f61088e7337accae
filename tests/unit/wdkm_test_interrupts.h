/*
 * wdkm_test_interrupts.h - the interrupt action set of the host unit tests.
 *
 * With WDKM_HOST_INTERRUPTS set (see wdkm_host.h), the emulation interrupts
 * every test thread with DPCs and kernel APCs at random. This action set is
 * what they do: each event, chosen by its seeded random value, takes and
 * releases a few library locks of its own (spin lock and queued spin lock
 * at DPC level, try-acquires of a KMUTEX, FAST_MUTEX and ERESOURCE, a
 * blocking KMUTEX or ERESOURCE acquire from a normal APC), looks a name up
 * in the registry and drops the reference, asks the checked build's
 * validator what the thread holds, or just stalls; a normal APC also
 * suspends the thread for up to the settings' SuspendMaxMicroseconds.
 *
 * Every status an action gets must be one docs/reference.md allows in its
 * situation, and every lock it holds must be its alone (the protected value
 * is 0 when it gets it). Anything else is a violation: printed with the
 * seed, counted, and reported as a failure of the test during which it
 * happened.
 */
#ifndef WDKM_TEST_INTERRUPTS_H
#define WDKM_TEST_INTERRUPTS_H

#include "wdkm_test.h"

/* At program start, before anything else uses the emulation: when
   WDKM_HOST_INTERRUPTS is set, makes the action set the default routine
   (so the injection the variable starts uses it) and creates its locks.
   Returns TRUE when injection is on. */
BOOLEAN
WdkmTestInterruptsInstall(
    VOID
    );

/* For a test that asserts global state (every live lock, every pool
   block): stops injection and frees the action set's locks until the test
   ends (the runner resumes after it). No effect when injection is off. */
VOID
WdkmTestInterruptsPause(
    VOID
    );

/* Violations seen since the last call (the runner calls it after each
   test, which also resumes a paused injection). */
ULONG
WdkmTestInterruptViolationsSinceLastCall(
    VOID
    );

/* At program end: stops injection, prints what was delivered and the
   violations, frees the locks. Returns the violations of the whole run. */
ULONG
WdkmTestInterruptsFinish(
    VOID
    );

#endif /* WDKM_TEST_INTERRUPTS_H */
