/*
 * test_attack34.c - WDKM_RUNDOWN attacked from its documentation alone
 * (docs/reference.md "WDKM_RUNDOWN: rundown protection", wdkm_rundown.h,
 * docs/memory-ordering.md, docs/host-testing.md): every refusal returns its
 * status and changes nothing, the IRQL of every call, acquisitions after a
 * wait began, a wait that never returns early, timeouts then a second wait,
 * concurrent waiters, ReInitialize, counts at their limits, freeing right
 * after the wait, DPCs and APCs on acquirers, releasers and the waiter, a
 * suspended holder, and seeded models (one thread, then several).
 */
#include <string.h>

#include "wdkm_test.h"

#define A34_TAG ((ULONG)0x41333461)   /* 'a43A' */

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

static LONG
A34Load(volatile LONG *Value)
{
    return __atomic_load_n(Value, __ATOMIC_SEQ_CST);
}

static VOID
A34Store(volatile LONG *Value, LONG New)
{
    __atomic_store_n(Value, New, __ATOMIC_SEQ_CST);
}

static LONG
A34Add(volatile LONG *Value, LONG Delta)
{
    return __atomic_add_fetch(Value, Delta, __ATOMIC_SEQ_CST);
}

/* The library's own words, read atomically (for checks while other threads
   may be inside the event). */
typedef struct _A34_WORDS {
    ULONG Signature;
    LONG State;
} A34_WORDS;

static A34_WORDS
A34Words(WDKM_RUNDOWN *Rundown)
{
    A34_WORDS Words;

    Words.Signature = __atomic_load_n(&Rundown->Signature, __ATOMIC_SEQ_CST);
    Words.State = __atomic_load_n(&Rundown->State, __ATOMIC_SEQ_CST);
    return Words;
}

static BOOLEAN
A34SameWords(A34_WORDS A, A34_WORDS B)
{
    return A.Signature == B.Signature && A.State == B.State;
}

/* Calls a function that must refuse with Expected, at Irql, and checks the
   whole object is byte for byte as before. */
#define A34_REFUSED(Rundown, Call, Expected)                                \
    do {                                                                    \
        WDKM_RUNDOWN A34Before_;                                            \
        memcpy(&A34Before_, (Rundown), sizeof(A34Before_));                 \
        CHECK_STATUS((Call), (Expected));                                   \
        CHECK(memcmp(&A34Before_, (Rundown), sizeof(A34Before_)) == 0);     \
    } while (0)

/* Refused with one of two statuses (two argument errors: which wins is not
   specified), nothing changed. */
#define A34_REFUSED_EITHER(Rundown, Call, First, Second)                    \
    do {                                                                    \
        WDKM_RUNDOWN A34Before_;                                            \
        NTSTATUS A34Status_;                                                \
        memcpy(&A34Before_, (Rundown), sizeof(A34Before_));                 \
        A34Status_ = (Call);                                                \
        if (A34Status_ != (First)) {                                        \
            CHECK_STATUS(A34Status_, (Second));                             \
        }                                                                   \
        CHECK(memcmp(&A34Before_, (Rundown), sizeof(A34Before_)) == 0);     \
    } while (0)

/* The same, comparing only the library's words (other threads may be
   inside the event: a waiter asleep). */
#define A34_REFUSED_WORDS(Rundown, Call, Expected)                          \
    do {                                                                    \
        A34_WORDS A34Before_ = A34Words(Rundown);                           \
        CHECK_STATUS((Call), (Expected));                                   \
        CHECK(A34SameWords(A34Before_, A34Words(Rundown)));                 \
    } while (0)

static LARGE_INTEGER A34Zero = { .QuadPart = 0 };

static LARGE_INTEGER
A34Ms(LONG Milliseconds)
{
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(Milliseconds);
    return Timeout;
}

/* Waits (polling, yielding) until *Flag reaches Value or 5 s pass. */
static BOOLEAN
A34WaitFor(volatile LONG *Flag, LONG Value)
{
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);

    while (A34Load(Flag) < Value) {
        if (WdkmTestNowMs() > Deadline) {
            return FALSE;
        }
        WdkmTestSleepMs(1);
    }
    return TRUE;
}

static ULONG64
A34Next(ULONG64 *Seed)
{
    ULONG64 X = *Seed;

    X ^= X << 13;
    X ^= X >> 7;
    X ^= X << 17;
    *Seed = X;
    return X;
}

/* ---------------------------------------------------------------------- */
/* Arguments, IRQL, never initialised                                      */
/* ---------------------------------------------------------------------- */

static VOID
A34NullEverywhere(VOID)
{
    static const KIRQL Levels[] = { PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL };
    ULONG Index;

    /* Arguments before the IRQL: NULL answers STATUS_INVALID_PARAMETER at
       every level. */
    for (Index = 0; Index < sizeof(Levels) / sizeof(Levels[0]); Index += 1) {
        KIRQL Old = PASSIVE_LEVEL;
        NTSTATUS S[7];

        if (Levels[Index] != PASSIVE_LEVEL) {
            KeRaiseIrql(Levels[Index], &Old);
        }
        S[0] = WdkmRundownInitialize(NULL);
        S[1] = WdkmRundownAcquire(NULL);
        S[2] = WdkmRundownAcquireEx(NULL, 1);
        S[3] = WdkmRundownRelease(NULL);
        S[4] = WdkmRundownReleaseEx(NULL, 1);
        S[5] = WdkmRundownWait(NULL, &A34Zero);
        S[6] = WdkmRundownReInitialize(NULL);
        if (Levels[Index] != PASSIVE_LEVEL) {
            KeLowerIrql(Old);
        }
        for (ULONG Call = 0; Call < 7; Call += 1) {
            if (S[Call] != STATUS_INVALID_PARAMETER) {
                WdkmTestFail(__FILE__, __LINE__, "call %u at IRQL %u: %s", Call,
                             (unsigned)Levels[Index], WdkmStatusName(S[Call]));
                return;
            }
        }
    }
    CHECK_STATUS(WdkmRundownWait(NULL, NULL), STATUS_INVALID_PARAMETER);
}

static VOID
A34NeverInitialised(VOID)
{
    WDKM_RUNDOWN Rundown;
    KIRQL Old;

    memset(&Rundown, 0, sizeof(Rundown));
    A34_REFUSED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_WDKM_NOT_INITIALIZED);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 3), STATUS_WDKM_NOT_INITIALIZED);
    A34_REFUSED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_INITIALIZED);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 2), STATUS_WDKM_NOT_INITIALIZED);
    A34_REFUSED(&Rundown, WdkmRundownWait(&Rundown, &A34Zero), STATUS_WDKM_NOT_INITIALIZED);
    A34_REFUSED(&Rundown, WdkmRundownWait(&Rundown, NULL), STATUS_WDKM_NOT_INITIALIZED);
    A34_REFUSED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_WDKM_NOT_INITIALIZED);

    /* Order: arguments (a Count out of range), then IRQL, then the state
       (never initialised). */
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 0), STATUS_INVALID_PARAMETER);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT + 1),
                STATUS_INVALID_PARAMETER);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 0), STATUS_INVALID_PARAMETER);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    A34_REFUSED(&Rundown, WdkmRundownWait(&Rundown, &A34Zero), STATUS_WDKM_IRQL_TOO_HIGH);
    A34_REFUSED(&Rundown, WdkmRundownWait(&Rundown, NULL), STATUS_WDKM_IRQL_TOO_HIGH);
    A34_REFUSED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_WDKM_NOT_INITIALIZED);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 0), STATUS_INVALID_PARAMETER);
    KeLowerIrql(Old);
    KeRaiseIrql(HIGH_LEVEL, &Old);
    A34_REFUSED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_WDKM_IRQL_TOO_HIGH);
    A34_REFUSED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_IRQL_TOO_HIGH);
    A34_REFUSED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_WDKM_IRQL_TOO_HIGH);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 0), STATUS_INVALID_PARAMETER);
    KeLowerIrql(Old);
}

/* Above DISPATCH_LEVEL every call refuses and writes nothing (Initialize
   included, on a live object with acquisitions out); at DISPATCH_LEVEL all
   but the wait work; the wait refuses there and acquisitions still work. */
static VOID
A34IrqlEveryCall(VOID)
{
    static const KIRQL High[] = { DISPATCH_LEVEL + 1, HIGH_LEVEL };
    WDKM_RUNDOWN Rundown;
    KIRQL Old;
    ULONG Index;

    memset(&Rundown, 0xCD, sizeof(Rundown));
    KeRaiseIrql(HIGH_LEVEL, &Old);
    A34_REFUSED(&Rundown, WdkmRundownInitialize(&Rundown), STATUS_WDKM_IRQL_TOO_HIGH);
    KeLowerIrql(Old);

    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 4), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownWait(&Rundown, &A34Zero), STATUS_WDKM_IRQL_TOO_HIGH);
    A34_REFUSED(&Rundown, WdkmRundownWait(&Rundown, NULL), STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);      /* still open */
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 2), STATUS_SUCCESS);
    KeLowerIrql(Old);
    /* 4 out. */
    for (Index = 0; Index < sizeof(High) / sizeof(High[0]); Index += 1) {
        KeRaiseIrql(High[Index], &Old);
        A34_REFUSED(&Rundown, WdkmRundownInitialize(&Rundown), STATUS_WDKM_IRQL_TOO_HIGH);
        A34_REFUSED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_WDKM_IRQL_TOO_HIGH);
        A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 2), STATUS_WDKM_IRQL_TOO_HIGH);
        A34_REFUSED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_IRQL_TOO_HIGH);
        A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 4), STATUS_WDKM_IRQL_TOO_HIGH);
        A34_REFUSED(&Rundown, WdkmRundownWait(&Rundown, &A34Zero), STATUS_WDKM_IRQL_TOO_HIGH);
        A34_REFUSED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_WDKM_IRQL_TOO_HIGH);
        /* A Count out of range is an argument: judged before the IRQL. */
        A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 0), STATUS_INVALID_PARAMETER);
        A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT + 1),
                    STATUS_INVALID_PARAMETER);
        A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 0), STATUS_INVALID_PARAMETER);
        KeLowerIrql(Old);
    }
    /* The wait at APC_LEVEL works (times out), then everything at
       DISPATCH_LEVEL in a begun rundown. */
    KeRaiseIrql(APC_LEVEL, &Old);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A34Zero), STATUS_TIMEOUT);
    KeLowerIrql(Old);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    A34_REFUSED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    A34_REFUSED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 3), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    KeLowerIrql(Old);
    KeRaiseIrql(APC_LEVEL, &Old);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    KeLowerIrql(Old);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    KeLowerIrql(Old);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

/* ---------------------------------------------------------------------- */
/* Counts: release with nothing out, limits, large and zero counts          */
/* ---------------------------------------------------------------------- */

static VOID
A34ReleaseNothingOut(VOID)
{
    WDKM_RUNDOWN Rundown;

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 1), STATUS_WDKM_NOT_HELD);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT),
                STATUS_WDKM_NOT_HELD);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 0xFFFFFFFFUL), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 3), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 4), STATUS_WDKM_NOT_HELD);
    /* Counts whose scaled form would wrap the word. */
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT + 1),
                STATUS_WDKM_NOT_HELD);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 0x80000000UL), STATUS_WDKM_NOT_HELD);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 0x80000003UL), STATUS_WDKM_NOT_HELD);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 0x10000003UL), STATUS_WDKM_NOT_HELD);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 0x40000003UL), STATUS_WDKM_NOT_HELD);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 0xFFFFFFFFUL), STATUS_WDKM_NOT_HELD);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 0), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 3), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A34Zero), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 1), STATUS_WDKM_NOT_HELD);
}

static VOID
A34CountLimits(VOID)
{
    WDKM_RUNDOWN Rundown;

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 0), STATUS_INVALID_PARAMETER);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT + 1),
                STATUS_INVALID_PARAMETER);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 0x80000000UL), STATUS_INVALID_PARAMETER);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 0xFFFFFFFFUL), STATUS_INVALID_PARAMETER);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 0x20000000UL), STATUS_INVALID_PARAMETER);

    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_INTEGER_OVERFLOW);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 1), STATUS_INTEGER_OVERFLOW);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT),
                STATUS_INTEGER_OVERFLOW);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT + 1),
                STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);        /* MAX again */
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 6), STATUS_SUCCESS);   /* MAX - 6 */
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 7), STATUS_INTEGER_OVERFLOW);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 6), STATUS_SUCCESS);   /* MAX */
    A34_REFUSED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_INTEGER_OVERFLOW);
    /* A wait with MAX out times out, then a release of all of them at
       once completes it. */
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A34Zero), STATUS_TIMEOUT);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT + 1),
                STATUS_WDKM_NOT_HELD);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 0xFFFFFFFFUL), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT - 1), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A34Zero), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, WDKM_RUNDOWN_MAX_COUNT), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A34Zero), STATUS_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* Waits: at once, timeouts, a second wait, ReInitialize                   */
/* ---------------------------------------------------------------------- */

static VOID
A34WaitAndReInitialize(VOID)
{
    WDKM_RUNDOWN Rundown;
    LARGE_INTEGER Short = A34Ms(5);
    LARGE_INTEGER Past;
    LARGE_INTEGER Copy;

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 2), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);

    /* Timeouts leave it under way; the timeout value is not written. */
    Copy = Short;
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Short), STATUS_TIMEOUT);
    CHECK(Copy.QuadPart == Short.QuadPart);
    A34_REFUSED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 1), STATUS_DELETE_PENDING);
    A34_REFUSED(&Rundown, WdkmRundownAcquireEx(&Rundown, 0), STATUS_INVALID_PARAMETER);
    A34_REFUSED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    A34_REFUSED(&Rundown, WdkmRundownReleaseEx(&Rundown, 3), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A34Zero), STATUS_TIMEOUT);
    /* An absolute time in the past: as KeWaitForSingleObject's, expired. */
    Past.QuadPart = 1;
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Past), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Short), STATUS_TIMEOUT);
    A34_REFUSED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    /* None out, a wait timed out earlier: still not completed until a wait
       says so. */
    A34_REFUSED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    A34_REFUSED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A34Zero), STATUS_SUCCESS);
    /* Completed: waits answer at once, acquisitions stay refused. */
    A34_REFUSED(&Rundown, WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownWait(&Rundown, &Short), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    A34_REFUSED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    /* The second ReInitialize of the same cycle is refused. */
    A34_REFUSED(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);

    /* A new cycle: the event of the last must not complete this one. */
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A34Zero), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Short), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Short), STATUS_TIMEOUT);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &Short), STATUS_SUCCESS);
    /* A wait with none out and never begun succeeds at once. */
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A34Zero), STATUS_SUCCESS);
}

/* A waiter blocked; others: second waits (timed, zero, none), ReInitialize
   refused, nothing changed; the holder's release on another thread wakes
   it and not earlier. */
typedef struct _A34_WAITER {
    WDKM_RUNDOWN *Rundown;
    const LARGE_INTEGER *Timeout;
    BOOLEAN Retry;             /* again on INVALID_DEVICE_STATE: the test's probe
                                  waits may hold the waiter's place a moment */
    volatile LONG Started;
    volatile LONG Done;
    NTSTATUS Status;
} A34_WAITER;

static VOID
A34WaiterThread(PVOID Context, ULONG Index)
{
    A34_WAITER *Waiter = (A34_WAITER *)Context;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    A34Store(&Waiter->Started, 1);
    do {
        Status = WdkmRundownWait(Waiter->Rundown, Waiter->Timeout);
    } while (Waiter->Retry && Status == STATUS_INVALID_DEVICE_STATE);
    Waiter->Status = Status;
    A34Store(&Waiter->Done, 1);
}

/* Polls with zero-timeout waits until one answers STATUS_INVALID_DEVICE_STATE
   (the other thread is waiting now); TIMEOUT is fine before it started. */
static BOOLEAN
A34UntilWaiterInside(WDKM_RUNDOWN *Rundown)
{
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);

    for (;;) {
        NTSTATUS Status = WdkmRundownWait(Rundown, &A34Zero);

        if (Status == STATUS_INVALID_DEVICE_STATE) {
            return TRUE;
        }
        if (Status != STATUS_TIMEOUT || WdkmTestNowMs() > Deadline) {
            WdkmTestFail(__FILE__, __LINE__, "probe wait: %s", WdkmStatusName(Status));
            return FALSE;
        }
        WdkmTestSleepMs(1);
    }
}

static VOID
A34SecondWaiterRefused(VOID)
{
    WDKM_RUNDOWN Rundown;
    A34_WAITER Waiter;
    A34_WAITER Third;
    WDKM_TEST_THREAD *Thread;
    WDKM_TEST_THREAD *ThirdThread;
    LARGE_INTEGER Timed = A34Ms(20);

    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 2), STATUS_SUCCESS);
    memset(&Waiter, 0, sizeof(Waiter));
    Waiter.Rundown = &Rundown;
    Waiter.Retry = TRUE;
    Thread = WdkmTestStartThread(A34WaiterThread, &Waiter);
    CHECK(Thread != NULL);
    CHECK(A34UntilWaiterInside(&Rundown));
    A34_REFUSED_WORDS(&Rundown, WdkmRundownWait(&Rundown, &Timed), STATUS_INVALID_DEVICE_STATE);
    A34_REFUSED_WORDS(&Rundown, WdkmRundownWait(&Rundown, NULL), STATUS_INVALID_DEVICE_STATE);
    A34_REFUSED_WORDS(&Rundown, WdkmRundownReInitialize(&Rundown), STATUS_INVALID_DEVICE_STATE);
    A34_REFUSED_WORDS(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    A34_REFUSED_WORDS(&Rundown, WdkmRundownReleaseEx(&Rundown, 3), STATUS_WDKM_NOT_HELD);

    /* A third thread's wait without a timeout: refused, not blocked. */
    memset(&Third, 0, sizeof(Third));
    Third.Rundown = &Rundown;
    ThirdThread = WdkmTestStartThread(A34WaiterThread, &Third);
    CHECK(ThirdThread != NULL);
    CHECK(A34WaitFor(&Third.Done, 1));
    WdkmTestJoinThread(ThirdThread);
    CHECK_STATUS(Third.Status, STATUS_INVALID_DEVICE_STATE);

    /* One release of two: the waiter stays. */
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    WdkmTestSleepMs(5);
    CHECK_EQ(A34Load(&Waiter.Done), 0);
    CHECK(A34UntilWaiterInside(&Rundown));
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK(A34WaitFor(&Waiter.Done, 1));
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Waiter.Status, STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, &A34Zero), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
}

/* No call allocates: with every allocation failing, every call works, and
   no allocation happened at all. The wait is non-alertable: an alert and a
   user APC queued to the waiter do not end it. */
static VOID
A34NoPoolNonAlertable(VOID)
{
    WDKM_RUNDOWN Rundown;
    A34_WAITER Waiter;
    WDKM_TEST_THREAD *Thread;
    ULONG64 Allocations = WdkmHostPoolAllocations();
    NTSTATUS S[8];

    WdkmHostPoolFailAt(0);
    S[0] = WdkmRundownInitialize(&Rundown);
    S[1] = WdkmRundownAcquireEx(&Rundown, 3);
    S[2] = WdkmRundownAcquire(&Rundown);
    S[3] = WdkmRundownReleaseEx(&Rundown, 2);
    S[4] = WdkmRundownWait(&Rundown, &A34Zero);
    S[5] = WdkmRundownReleaseEx(&Rundown, 2);
    S[6] = WdkmRundownWait(&Rundown, NULL);
    S[7] = WdkmRundownReInitialize(&Rundown);
    WdkmHostPoolFailAt(-1);
    CHECK_EQ(WdkmHostPoolAllocations(), Allocations);
    CHECK_STATUS(S[0], STATUS_SUCCESS);
    CHECK_STATUS(S[1], STATUS_SUCCESS);
    CHECK_STATUS(S[2], STATUS_SUCCESS);
    CHECK_STATUS(S[3], STATUS_SUCCESS);
    CHECK_STATUS(S[4], STATUS_TIMEOUT);
    CHECK_STATUS(S[5], STATUS_SUCCESS);
    CHECK_STATUS(S[6], STATUS_SUCCESS);
    CHECK_STATUS(S[7], STATUS_SUCCESS);

    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    memset(&Waiter, 0, sizeof(Waiter));
    Waiter.Rundown = &Rundown;
    Waiter.Retry = TRUE;
    Thread = WdkmTestStartThread(A34WaiterThread, &Waiter);
    CHECK(Thread != NULL);
    CHECK(A34UntilWaiterInside(&Rundown));
    WdkmHostAlertThread(WdkmTestThreadObject(Thread));
    WdkmHostQueueUserApc(WdkmTestThreadObject(Thread));
    WdkmTestSleepMs(5);
    CHECK_EQ(A34Load(&Waiter.Done), 0);
    CHECK(A34UntilWaiterInside(&Rundown));
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);
    CHECK(A34WaitFor(&Waiter.Done, 1));
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Waiter.Status, STATUS_SUCCESS);
}

/* Racing calls at the edges: threads that acquire together one below the
   limit (one wins, the others get STATUS_INTEGER_OVERFLOW), and two
   ReInitializes of one completed cycle (one wins, the other is refused). */
typedef struct _A34_EDGE {
    WDKM_RUNDOWN Rundown;
    volatile LONG Go;
    volatile LONG Wins;
    volatile LONG Overflows;
    volatile LONG Refused;
    volatile LONG Wrong;
    LONG Mode;
} A34_EDGE;

static VOID
A34EdgeThread(PVOID Context, ULONG Index)
{
    A34_EDGE *Edge = (A34_EDGE *)Context;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Index);
    while (A34Load(&Edge->Go) == 0) {
    }
    Status = Edge->Mode == 0 ? WdkmRundownAcquire(&Edge->Rundown)
                             : WdkmRundownReInitialize(&Edge->Rundown);
    if (Status == STATUS_SUCCESS) {
        A34Add(&Edge->Wins, 1);
    } else if (Edge->Mode == 0 && Status == STATUS_INTEGER_OVERFLOW) {
        A34Add(&Edge->Overflows, 1);
    } else if (Edge->Mode == 1 && Status == STATUS_INVALID_DEVICE_STATE) {
        A34Add(&Edge->Refused, 1);
    } else {
        A34Add(&Edge->Wrong, 1);
    }
}

static VOID
A34RacingEdges(VOID)
{
    A34_EDGE *Edge;
    ULONG Round;
    BOOLEAN Ok = TRUE;

    Edge = (A34_EDGE *)ExAllocatePoolWithTag(NonPagedPool, sizeof(*Edge), A34_TAG);
    CHECK(Edge != NULL);
    for (Round = 0; Round < 40 && Ok; Round += 1) {
        memset(Edge, 0, sizeof(*Edge));
        Edge->Mode = (LONG)(Round & 1);
        Ok = WdkmRundownInitialize(&Edge->Rundown) == STATUS_SUCCESS;
        if (Edge->Mode == 0) {
            Ok = Ok && WdkmRundownAcquireEx(&Edge->Rundown, WDKM_RUNDOWN_MAX_COUNT - 1) ==
                           STATUS_SUCCESS;
        } else {
            Ok = Ok && WdkmRundownWait(&Edge->Rundown, NULL) == STATUS_SUCCESS;
        }
        A34Store(&Edge->Go, 1);
        Ok = Ok && WdkmTestRunThreads(3, A34EdgeThread, Edge);
        Ok = Ok && Edge->Wins == 1 && Edge->Wrong == 0;
        if (Edge->Mode == 0) {
            Ok = Ok && Edge->Overflows == 2 &&
                 WdkmRundownAcquire(&Edge->Rundown) == STATUS_INTEGER_OVERFLOW &&
                 WdkmRundownReleaseEx(&Edge->Rundown, WDKM_RUNDOWN_MAX_COUNT) == STATUS_SUCCESS &&
                 WdkmRundownRelease(&Edge->Rundown) == STATUS_WDKM_NOT_HELD;
        } else {
            Ok = Ok && Edge->Refused == 2 &&
                 WdkmRundownAcquire(&Edge->Rundown) == STATUS_SUCCESS &&
                 WdkmRundownRelease(&Edge->Rundown) == STATUS_SUCCESS;
        }
    }
    if (!Ok) {
        WdkmTestFail(__FILE__, __LINE__, "round %u: wins %d overflows %d refused %d wrong %d",
                     Round - 1, (int)Edge->Wins, (int)Edge->Overflows, (int)Edge->Refused,
                     (int)Edge->Wrong);
    }
    ExFreePoolWithTag(Edge, A34_TAG);
}

/* Several threads all call Wait(NULL) at once while one acquisition is
   out: each answers SUCCESS or INVALID_DEVICE_STATE (then waits again),
   none hangs or times out, every one ends with SUCCESS after the release. */
typedef struct _A34_RACE_WAITERS {
    WDKM_RUNDOWN Rundown;
    volatile LONG Go;
    volatile LONG Refusals;
    volatile LONG Succeeded;
    volatile LONG Wrong;
    volatile LONG Released;
    volatile LONG EarlyReturns;
} A34_RACE_WAITERS;

static VOID
A34RaceWaiterThread(PVOID Context, ULONG Index)
{
    A34_RACE_WAITERS *Race = (A34_RACE_WAITERS *)Context;
    LARGE_INTEGER Timed = A34Ms(1);
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);

    while (A34Load(&Race->Go) == 0) {
    }
    for (;;) {
        NTSTATUS Status = WdkmRundownWait(&Race->Rundown, (Index & 1) ? &Timed : NULL);

        if (Status == STATUS_SUCCESS) {
            if (A34Load(&Race->Released) == 0) {
                A34Add(&Race->EarlyReturns, 1);
            }
            A34Add(&Race->Succeeded, 1);
            return;
        }
        if (Status == STATUS_INVALID_DEVICE_STATE) {
            A34Add(&Race->Refusals, 1);
        } else if (Status != STATUS_TIMEOUT || (Index & 1) == 0) {
            A34Add(&Race->Wrong, 1);
            return;
        }
        if (WdkmTestNowMs() > Deadline) {
            A34Add(&Race->Wrong, 1);
            return;
        }
        WdkmTestSleepMs(0);
    }
}

static VOID
A34RaceReleaser(PVOID Context, ULONG Index)
{
    A34_RACE_WAITERS *Race = (A34_RACE_WAITERS *)Context;

    UNREFERENCED_PARAMETER(Index);
    while (A34Load(&Race->Go) == 0) {
    }
    WdkmTestSleepMs(2);
    A34Store(&Race->Released, 1);
    if (WdkmRundownRelease(&Race->Rundown) != STATUS_SUCCESS) {
        A34Add(&Race->Wrong, 1);
    }
}

static VOID
A34ConcurrentWaitersRelease(PVOID Context, ULONG Index)
{
    if (Index == 0) {
        A34RaceReleaser(Context, Index);
    } else {
        A34RaceWaiterThread(Context, Index);
    }
}

static VOID
A34ConcurrentWaiters(VOID)
{
    A34_RACE_WAITERS *Race;
    ULONG Round;

    Race = (A34_RACE_WAITERS *)ExAllocatePoolWithTag(NonPagedPool, sizeof(*Race), A34_TAG);
    CHECK(Race != NULL);
    for (Round = 0; Round < 20; Round += 1) {
        NTSTATUS Status;

        memset(Race, 0, sizeof(*Race));
        Status = WdkmRundownInitialize(&Race->Rundown);
        if (Status == STATUS_SUCCESS) {
            Status = WdkmRundownAcquire(&Race->Rundown);
        }
        if (Status != STATUS_SUCCESS) {
            break;
        }
        A34Store(&Race->Go, 1);
        if (!WdkmTestRunThreads(5, A34ConcurrentWaitersRelease, Race)) {
            Status = STATUS_UNSUCCESSFUL;
        }
        if (Status != STATUS_SUCCESS || Race->Wrong != 0 || Race->Succeeded != 4 ||
            Race->EarlyReturns != 0) {
            WdkmTestFail(__FILE__, __LINE__, "round %u: wrong %d succeeded %d early %d",
                         Round, (int)Race->Wrong, (int)Race->Succeeded,
                         (int)Race->EarlyReturns);
            break;
        }
    }
    ExFreePoolWithTag(Race, A34_TAG);
}

/* A timed wait racing the last release, again and again: whichever wins,
   the next wait succeeds, and after ReInitialize a wait with one out does
   not succeed (no stale event from the race). */
typedef struct _A34_TIMEOUT_RACE {
    WDKM_RUNDOWN Rundown;
    volatile LONG Round;       /* the releaser releases once per round */
    volatile LONG ReleasedRound;
    volatile LONG Stop;
} A34_TIMEOUT_RACE;

static VOID
A34TimeoutRaceReleaser(PVOID Context, ULONG Index)
{
    A34_TIMEOUT_RACE *Race = (A34_TIMEOUT_RACE *)Context;
    LONG Done = 0;

    UNREFERENCED_PARAMETER(Index);
    while (A34Load(&Race->Stop) == 0) {
        LONG Round = A34Load(&Race->Round);

        if (Round > Done) {
            ULONG Spin = (ULONG)(Round * 2654435761u) % 20000u;

            while (Spin-- != 0) {
                __atomic_signal_fence(__ATOMIC_SEQ_CST);
            }
            A34Store(&Race->ReleasedRound, Round);    /* before: the wait may end at once */
            (VOID)WdkmRundownRelease(&Race->Rundown);
            Done = Round;
        }
    }
}

static VOID
A34TimeoutRacesRelease(VOID)
{
    A34_TIMEOUT_RACE *Race;
    WDKM_TEST_THREAD *Thread;
    LARGE_INTEGER Tiny;
    LONG Round;
    ULONG Timeouts = 0;
    NTSTATUS Failure = STATUS_SUCCESS;
    LONG FailedRound = 0;

    Tiny.QuadPart = -1000;   /* 100 us */
    Race = (A34_TIMEOUT_RACE *)ExAllocatePoolWithTag(NonPagedPool, sizeof(*Race), A34_TAG);
    CHECK(Race != NULL);
    memset(Race, 0, sizeof(*Race));
    if (WdkmRundownInitialize(&Race->Rundown) != STATUS_SUCCESS) {
        ExFreePoolWithTag(Race, A34_TAG);
        CHECK(FALSE);
    }
    Thread = WdkmTestStartThread(A34TimeoutRaceReleaser, Race);
    for (Round = 1; Round <= 300 && Thread != NULL; Round += 1) {
        NTSTATUS Status;

        Status = WdkmRundownAcquire(&Race->Rundown);
        if (Status != STATUS_SUCCESS) {
            Failure = Status;
            break;
        }
        A34Store(&Race->Round, Round);
        Status = WdkmRundownWait(&Race->Rundown, &Tiny);
        if (Status == STATUS_TIMEOUT) {
            Timeouts += 1;
            Status = WdkmRundownWait(&Race->Rundown, NULL);
        }
        if (Status != STATUS_SUCCESS || A34Load(&Race->ReleasedRound) != Round) {
            Failure = Status == STATUS_SUCCESS ? STATUS_UNSUCCESSFUL : Status;
            break;
        }
        Status = WdkmRundownReInitialize(&Race->Rundown);
        if (Status != STATUS_SUCCESS) {
            Failure = Status;
            break;
        }
        /* Fresh cycle with one out, no releaser: must not succeed. */
        Status = WdkmRundownAcquire(&Race->Rundown);
        if (Status == STATUS_SUCCESS) {
            Status = WdkmRundownWait(&Race->Rundown, &A34Zero);
            if (Status == STATUS_TIMEOUT) {
                Status = WdkmRundownWait(&Race->Rundown, &Tiny);
            }
            if (Status != STATUS_TIMEOUT) {
                Failure = Status == STATUS_SUCCESS ? STATUS_UNSUCCESSFUL : Status;
                FailedRound = Round;
                break;
            }
            Status = WdkmRundownRelease(&Race->Rundown);
            if (Status == STATUS_SUCCESS) {
                Status = WdkmRundownWait(&Race->Rundown, NULL);
            }
            if (Status == STATUS_SUCCESS) {
                Status = WdkmRundownReInitialize(&Race->Rundown);
            }
        }
        if (Status != STATUS_SUCCESS) {
            Failure = Status;
            break;
        }
    }
    A34Store(&Race->Stop, 1);
    if (Thread != NULL) {
        WdkmTestJoinThread(Thread);
    }
    ExFreePoolWithTag(Race, A34_TAG);
    CHECK(Thread != NULL);
    if (Failure != STATUS_SUCCESS) {
        WdkmTestFail(__FILE__, __LINE__, "round %d (fresh-cycle %d): %s", (int)Round,
                     (int)FailedRound, WdkmStatusName(Failure));
        return;
    }
    UNREFERENCED_PARAMETER(Timeouts);
}

/* ---------------------------------------------------------------------- */
/* Never early; refused after the wait began; ordering (TSan)              */
/* ---------------------------------------------------------------------- */

#define A34_HOLDERS 4

typedef struct _A34_EARLY {
    WDKM_RUNDOWN Rundown;
    volatile LONG Outstanding;        /* acquisitions out, counted by the users */
    volatile LONG SawRefusal;         /* some acquire answered DELETE_PENDING */
    volatile LONG WaitReturned;
    volatile LONG LateSuccess;        /* an acquire begun after a refusal succeeded */
    volatile LONG Wrong;
    volatile LONG Stop;
    volatile LONG Acquired;
    volatile LONG NextIndex;
    ULONG64 Payload[A34_HOLDERS];     /* plain writes before each release */
} A34_EARLY;

static VOID
A34EarlyHolder(PVOID Context, ULONG Index)
{
    A34_EARLY *Early = (A34_EARLY *)Context;
    ULONG64 Seed;

    /* Started one by one (WdkmTestStartThread): number them here. */
    Index = (ULONG)(A34Add(&Early->NextIndex, 1) - 1) % A34_HOLDERS;
    Seed = 0x9E3779B97F4A7C15ull * (Index + 1);

    while (A34Load(&Early->Stop) == 0) {
        LONG Refused = A34Load(&Early->SawRefusal);
        ULONG Count = 1 + (ULONG)(A34Next(&Seed) % 3);
        KIRQL Old = PASSIVE_LEVEL;
        BOOLEAN Raise = (A34Next(&Seed) % 3) == 0;
        NTSTATUS Status;

        if (Raise) {
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
        }
        Status = Count == 1 ? WdkmRundownAcquire(&Early->Rundown)
                            : WdkmRundownAcquireEx(&Early->Rundown, Count);
        if (Raise) {
            KeLowerIrql(Old);
        }
        if (Status == STATUS_DELETE_PENDING) {
            A34Store(&Early->SawRefusal, 1);
            WdkmTestSleepMs(0);
            continue;
        }
        if (Status != STATUS_SUCCESS) {
            A34Add(&Early->Wrong, 1);
            return;
        }
        if (Refused != 0 || A34Load(&Early->WaitReturned) != 0) {
            A34Add(&Early->LateSuccess, 1);
        }
        A34Add(&Early->Outstanding, (LONG)Count);
        A34Add(&Early->Acquired, 1);
        Early->Payload[Index] += Count;           /* plain: ordered by the release */
        if ((A34Next(&Seed) & 3) == 0) {
            WdkmTestSleepMs(1);
        }
        A34Add(&Early->Outstanding, -(LONG)Count);
        if ((A34Next(&Seed) & 1) != 0) {
            Status = WdkmRundownReleaseEx(&Early->Rundown, Count);
        } else {
            Status = STATUS_SUCCESS;
            while (Count-- != 0 && Status == STATUS_SUCCESS) {
                Status = WdkmRundownRelease(&Early->Rundown);
            }
        }
        if (Status != STATUS_SUCCESS) {
            A34Add(&Early->Wrong, 1);
            return;
        }
    }
}

static VOID
A34WaitNeverEarly(VOID)
{
    A34_EARLY *Early;
    WDKM_TEST_THREAD *Threads[A34_HOLDERS];
    ULONG Round;
    ULONG Index;

    Early = (A34_EARLY *)ExAllocatePoolWithTag(NonPagedPool, sizeof(*Early), A34_TAG);
    CHECK(Early != NULL);
    for (Round = 0; Round < 6; Round += 1) {
        ULONG64 Sum = 0;
        ULONG64 Expected = 0;
        NTSTATUS Status;
        LONG Outstanding;

        memset(Early, 0, sizeof(*Early));
        Status = WdkmRundownInitialize(&Early->Rundown);
        for (Index = 0; Index < A34_HOLDERS; Index += 1) {
            Threads[Index] = WdkmTestStartThread(A34EarlyHolder, Early);
        }
        (VOID)A34WaitFor(&Early->Acquired, 200);
        if (Round & 1) {
            LARGE_INTEGER Short = A34Ms(1);

            Status = WdkmRundownWait(&Early->Rundown, &Short);
            if (Status == STATUS_TIMEOUT) {
                Status = WdkmRundownWait(&Early->Rundown, NULL);
            }
        } else {
            Status = WdkmRundownWait(&Early->Rundown, NULL);
        }
        Outstanding = A34Load(&Early->Outstanding);
        for (Index = 0; Index < A34_HOLDERS; Index += 1) {
            Sum += Early->Payload[Index];     /* plain reads: ordered by the wait */
        }
        A34Store(&Early->WaitReturned, 1);
        /* Let them bang on the closed object a little. */
        WdkmTestSleepMs(2);
        A34Store(&Early->Stop, 1);
        for (Index = 0; Index < A34_HOLDERS; Index += 1) {
            if (Threads[Index] != NULL) {
                WdkmTestJoinThread(Threads[Index]);
            }
        }
        for (Index = 0; Index < A34_HOLDERS; Index += 1) {
            Expected += Early->Payload[Index];
        }
        if (Status != STATUS_SUCCESS || Outstanding != 0 || Early->LateSuccess != 0 ||
            Early->Wrong != 0 || Sum != Expected || Early->Acquired == 0) {
            WdkmTestFail(__FILE__, __LINE__,
                         "round %u: wait %s, outstanding %d, late %d, wrong %d, sum %llu/%llu",
                         Round, WdkmStatusName(Status), (int)Outstanding,
                         (int)Early->LateSuccess, (int)Early->Wrong,
                         (unsigned long long)Sum, (unsigned long long)Expected);
            break;
        }
    }
    ExFreePoolWithTag(Early, A34_TAG);
}

/* A second thread that only sees the completed wait through the object
   (a wait answering SUCCESS at once) must see what the holders wrote. */
typedef struct _A34_ORDER {
    WDKM_RUNDOWN Rundown;
    ULONG64 Data[2];
    volatile LONG Go;
    volatile LONG Wrong;
} A34_ORDER;

static VOID
A34OrderThread(PVOID Context, ULONG Index)
{
    A34_ORDER *Order = (A34_ORDER *)Context;
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);

    while (A34Load(&Order->Go) == 0) {
    }
    if (Index < 2) {
        Order->Data[Index] = 0x1111 * (Index + 1);     /* plain */
        if (WdkmRundownRelease(&Order->Rundown) != STATUS_SUCCESS) {
            A34Add(&Order->Wrong, 1);
        }
        return;
    }
    for (;;) {
        NTSTATUS Status = WdkmRundownWait(&Order->Rundown, Index == 2 ? NULL : &A34Zero);

        if (Status == STATUS_SUCCESS) {
            if (Order->Data[0] != 0x1111 || Order->Data[1] != 0x2222) {
                A34Add(&Order->Wrong, 1);
            }
            return;
        }
        if ((Status != STATUS_TIMEOUT && Status != STATUS_INVALID_DEVICE_STATE) ||
            WdkmTestNowMs() > Deadline) {
            A34Add(&Order->Wrong, 1);
            return;
        }
        WdkmTestSleepMs(0);
    }
}

static VOID
A34OrderingThroughDone(VOID)
{
    A34_ORDER *Order;
    ULONG Round;

    Order = (A34_ORDER *)ExAllocatePoolWithTag(NonPagedPool, sizeof(*Order), A34_TAG);
    CHECK(Order != NULL);
    for (Round = 0; Round < 20; Round += 1) {
        memset(Order, 0, sizeof(*Order));
        if (WdkmRundownInitialize(&Order->Rundown) != STATUS_SUCCESS ||
            WdkmRundownAcquireEx(&Order->Rundown, 2) != STATUS_SUCCESS) {
            Order->Wrong = 1;
            break;
        }
        A34Store(&Order->Go, 1);
        if (!WdkmTestRunThreads(5, A34OrderThread, Order) || Order->Wrong != 0) {
            break;
        }
    }
    Round = (ULONG)Order->Wrong;
    ExFreePoolWithTag(Order, A34_TAG);
    CHECK_EQ(Round, 0);
}

/* ---------------------------------------------------------------------- */
/* Freeing right after the wait (ASan)                                      */
/* ---------------------------------------------------------------------- */

#define A34_FREE_RELEASERS 3
#define A34_FREE_ROUNDS 150

typedef struct _A34_FREE {
    WDKM_RUNDOWN *volatile Objects[A34_FREE_ROUNDS];
    volatile LONG Generation;
    volatile LONG Wrong;
    volatile LONG Finished;
} A34_FREE;

static VOID
A34FreeReleaser(PVOID Context, ULONG Index)
{
    A34_FREE *Free = (A34_FREE *)Context;
    LONG Round;

    for (Round = 1; Round <= A34_FREE_ROUNDS; Round += 1) {
        WDKM_RUNDOWN *Rundown;
        LONGLONG Deadline = WdkmTestDeadlineMs(5000);
        KIRQL Old = PASSIVE_LEVEL;
        NTSTATUS Status;

        while (A34Load(&Free->Generation) < Round) {
            if (WdkmTestNowMs() > Deadline) {
                A34Add(&Free->Wrong, 1);
                return;
            }
        }
        Rundown = Free->Objects[Round - 1];
        if (((ULONG)Round + Index) % 3 == 0) {
            KeRaiseIrql(DISPATCH_LEVEL, &Old);
        }
        Status = WdkmRundownRelease(Rundown);      /* the object may be gone after */
        if (((ULONG)Round + Index) % 3 == 0) {
            KeLowerIrql(Old);
        }
        if (Status != STATUS_SUCCESS) {
            A34Add(&Free->Wrong, 1);
        }
    }
    A34Add(&Free->Finished, 1);
}

static VOID
A34FreeRightAfterWait(VOID)
{
    A34_FREE *Free;
    WDKM_TEST_THREAD *Threads[A34_FREE_RELEASERS];
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    ULONG Index;
    LONG Round;
    NTSTATUS Failure = STATUS_SUCCESS;

    Free = (A34_FREE *)ExAllocatePoolWithTag(NonPagedPool, sizeof(*Free), A34_TAG);
    CHECK(Free != NULL);
    memset(Free, 0, sizeof(*Free));
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 34;
    Settings.MeanIntervalMicroseconds = 50;
    Settings.DpcWeight = 1;
    Settings.SpecialApcWeight = 1;
    Settings.NormalApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 100;
    WdkmHostInterruptsStart(&Settings);
    for (Index = 0; Index < A34_FREE_RELEASERS; Index += 1) {
        Threads[Index] = WdkmTestStartThread(A34FreeReleaser, Free);
    }
    for (Round = 1; Round <= A34_FREE_ROUNDS; Round += 1) {
        WDKM_RUNDOWN *Rundown;
        NTSTATUS Status;

        Rundown = (WDKM_RUNDOWN *)ExAllocatePoolWithTag(NonPagedPool, sizeof(*Rundown), A34_TAG);
        if (Rundown == NULL) {
            Failure = STATUS_INSUFFICIENT_RESOURCES;
            break;
        }
        Status = WdkmRundownInitialize(Rundown);
        if (Status == STATUS_SUCCESS) {
            Status = WdkmRundownAcquireEx(Rundown, A34_FREE_RELEASERS);
        }
        if (Status != STATUS_SUCCESS) {
            Failure = Status;
            ExFreePoolWithTag(Rundown, A34_TAG);
            break;
        }
        Free->Objects[Round - 1] = Rundown;
        A34Store(&Free->Generation, Round);
        Status = WdkmRundownWait(Rundown, NULL);
        if (Status != STATUS_SUCCESS) {
            Failure = Status;     /* do not free: still in use */
            break;
        }
        memset(Rundown, 0xDD, sizeof(*Rundown));
        ExFreePoolWithTag(Rundown, A34_TAG);
    }
    for (Index = 0; Index < A34_FREE_RELEASERS; Index += 1) {
        if (Threads[Index] != NULL) {
            WdkmTestJoinThread(Threads[Index]);
        }
    }
    WdkmHostInterruptsStop();
    Index = (ULONG)Free->Wrong;
    ExFreePoolWithTag(Free, A34_TAG);
    CHECK_STATUS(Failure, STATUS_SUCCESS);
    CHECK_EQ(Index, 0);
}

/* ---------------------------------------------------------------------- */
/* DPCs and APCs                                                            */
/* ---------------------------------------------------------------------- */

typedef struct _A34_EVENT_CTX {
    WDKM_RUNDOWN *Rundown;
    NTSTATUS Status[4];
    volatile LONG Ran;
    KIRQL Irql;
    KEVENT Gate;
} A34_EVENT_CTX;

/* A DPC on the acquirer's thread that releases its acquisition (a DPC may
   release what the thread acquired: an acquisition belongs to no thread). */
static VOID
A34ReleaseRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A34_EVENT_CTX *Ctx = (A34_EVENT_CTX *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Ctx->Irql = KeGetCurrentIrql();
    Ctx->Status[0] = WdkmRundownRelease(Ctx->Rundown);
    Ctx->Status[1] = WdkmRundownAcquire(Ctx->Rundown);
    Ctx->Status[2] = WdkmRundownWait(Ctx->Rundown, &A34Zero);
    A34Store(&Ctx->Ran, 1);
}

static VOID
A34DpcAndApcOnOwnThread(VOID)
{
    WDKM_RUNDOWN Rundown;
    A34_EVENT_CTX Ctx;
    KIRQL Old;

    memset(&Ctx, 0, sizeof(Ctx));
    Ctx.Rundown = &Rundown;
    CHECK_STATUS(WdkmRundownInitialize(&Rundown), STATUS_SUCCESS);

    /* DPC at once, unmasked: releases the thread's acquisition, acquires,
       and its wait is refused for its IRQL (nothing changes). */
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A34ReleaseRoutine, &Ctx);
    CHECK_EQ(A34Load(&Ctx.Ran), 1);
    CHECK_EQ(Ctx.Irql, DISPATCH_LEVEL);
    CHECK_STATUS(Ctx.Status[0], STATUS_SUCCESS);
    CHECK_STATUS(Ctx.Status[1], STATUS_SUCCESS);
    CHECK_STATUS(Ctx.Status[2], STATUS_WDKM_IRQL_TOO_HIGH);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);    /* still open */
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 2), STATUS_SUCCESS);
    A34_REFUSED(&Rundown, WdkmRundownRelease(&Rundown), STATUS_WDKM_NOT_HELD);

    /* DPC masked at DISPATCH_LEVEL: runs at the lowering. */
    memset(Ctx.Status, 0, sizeof(Ctx.Status));
    A34Store(&Ctx.Ran, 0);
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    CHECK_STATUS(WdkmRundownAcquire(&Rundown), STATUS_SUCCESS);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptDpc, A34ReleaseRoutine, &Ctx);
    CHECK_EQ(A34Load(&Ctx.Ran), 0);
    KeLowerIrql(Old);
    CHECK_EQ(A34Load(&Ctx.Ran), 1);
    CHECK_STATUS(Ctx.Status[0], STATUS_SUCCESS);
    CHECK_STATUS(Ctx.Status[1], STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownRelease(&Rundown), STATUS_SUCCESS);

    /* Special APC at APC_LEVEL: its zero wait begins the rundown and, with
       the thread's acquisition out, times out. */
    memset(Ctx.Status, 0, sizeof(Ctx.Status));
    A34Store(&Ctx.Ran, 0);
    CHECK_STATUS(WdkmRundownAcquireEx(&Rundown, 2), STATUS_SUCCESS);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc,
                           A34ReleaseRoutine, &Ctx);
    CHECK_EQ(A34Load(&Ctx.Ran), 1);
    CHECK_EQ(Ctx.Irql, APC_LEVEL);
    CHECK_STATUS(Ctx.Status[0], STATUS_SUCCESS);
    CHECK_STATUS(Ctx.Status[1], STATUS_SUCCESS);
    CHECK_STATUS(Ctx.Status[2], STATUS_TIMEOUT);
    A34_REFUSED(&Rundown, WdkmRundownAcquire(&Rundown), STATUS_DELETE_PENDING);
    CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, 2), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

/* The teardown path under a FAST_MUTEX (APC_LEVEL): the wait blocks there
   until a release on another thread (which needs no mutex), and a special
   APC queued to the waiter meanwhile stays masked until the mutex is
   released. */
typedef struct _A34_UNDER_MUTEX {
    WDKM_RUNDOWN Rundown;
    volatile LONG Released;
    volatile LONG ApcRan;
} A34_UNDER_MUTEX;

static VOID
A34UnderMutexReleaser(PVOID Context, ULONG Index)
{
    A34_UNDER_MUTEX *Under = (A34_UNDER_MUTEX *)Context;

    UNREFERENCED_PARAMETER(Index);
    WdkmTestSleepMs(5);
    A34Store(&Under->Released, 1);
    (VOID)WdkmRundownRelease(&Under->Rundown);
}

static VOID
A34UnderMutexApc(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A34_UNDER_MUTEX *Under = (A34_UNDER_MUTEX *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    A34Store(&Under->ApcRan, 1);
}

static VOID
A34WaitUnderFastMutex(VOID)
{
    A34_UNDER_MUTEX Under;
    FAST_MUTEX Mutex;
    WDKM_TEST_THREAD *Thread;
    NTSTATUS Status;
    LONG Released;
    LONG ApcRan;

    memset(&Under, 0, sizeof(Under));
    ExInitializeFastMutex(&Mutex);
    CHECK_STATUS(WdkmRundownInitialize(&Under.Rundown), STATUS_SUCCESS);
    CHECK_STATUS(WdkmRundownAcquire(&Under.Rundown), STATUS_SUCCESS);
    Thread = WdkmTestStartThread(A34UnderMutexReleaser, &Under);
    CHECK(Thread != NULL);
    ExAcquireFastMutex(&Mutex);
    WdkmHostQueueInterrupt(KeGetCurrentThread(), WdkmHostInterruptSpecialApc,
                           A34UnderMutexApc, &Under);
    Status = WdkmRundownWait(&Under.Rundown, NULL);
    Released = A34Load(&Under.Released);
    ApcRan = A34Load(&Under.ApcRan);
    ExReleaseFastMutex(&Mutex);
    WdkmTestJoinThread(Thread);
    CHECK_STATUS(Status, STATUS_SUCCESS);
    CHECK_EQ(Released, 1);
    CHECK_EQ(ApcRan, 0);
    CHECK_EQ(A34Load(&Under.ApcRan), 1);
}

/* A special APC queued to the thread blocked in the wait: it runs when the
   wait returns (host), inside the library's wait. It tries to acquire
   (refused), to wait again (SUCCESS or INVALID_DEVICE_STATE, never a hang)
   and to ReInitialize (refused unless the wait is complete). The outer
   wait must answer SUCCESS. */
typedef struct _A34_APC_WAITER {
    WDKM_RUNDOWN Rundown;
    volatile LONG Started;
    volatile LONG Done;
    volatile LONG ApcRan;
    NTSTATUS WaitStatus;
    NTSTATUS ApcAcquire;
    NTSTATUS ApcWait;
    NTSTATUS ApcRelease;
    const LARGE_INTEGER *Timeout;
} A34_APC_WAITER;

static VOID
A34ApcOnWaiterRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A34_APC_WAITER *Ctx = (A34_APC_WAITER *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    Ctx->ApcAcquire = WdkmRundownAcquire(&Ctx->Rundown);
    if (Ctx->Timeout != NULL) {
        /* The test handed its acquisition to the APC to give back. */
        Ctx->ApcRelease = WdkmRundownRelease(&Ctx->Rundown);
    }
    Ctx->ApcWait = WdkmRundownWait(&Ctx->Rundown, &A34Zero);
    A34Store(&Ctx->ApcRan, 1);
}

static VOID
A34ApcWaiterThread(PVOID Context, ULONG Index)
{
    A34_APC_WAITER *Ctx = (A34_APC_WAITER *)Context;

    UNREFERENCED_PARAMETER(Index);
    A34Store(&Ctx->Started, 1);
    do {    /* the test's probe waits may hold the waiter's place a moment */
        Ctx->WaitStatus = WdkmRundownWait(&Ctx->Rundown, Ctx->Timeout);
    } while (Ctx->WaitStatus == STATUS_INVALID_DEVICE_STATE && A34Load(&Ctx->ApcRan) == 0);
    A34Store(&Ctx->Done, 1);
}

static VOID
A34SpecialApcOnWaiter(VOID)
{
    A34_APC_WAITER *Ctx;
    WDKM_TEST_THREAD *Thread;
    LARGE_INTEGER Timed = A34Ms(30);
    ULONG Pass;

    Ctx = (A34_APC_WAITER *)ExAllocatePoolWithTag(NonPagedPool, sizeof(*Ctx), A34_TAG);
    CHECK(Ctx != NULL);
    for (Pass = 0; Pass < 2; Pass += 1) {
        BOOLEAN Ok = TRUE;

        memset(Ctx, 0, sizeof(*Ctx));
        Ctx->Timeout = Pass == 0 ? NULL : &Timed;
        if (WdkmRundownInitialize(&Ctx->Rundown) != STATUS_SUCCESS ||
            WdkmRundownAcquire(&Ctx->Rundown) != STATUS_SUCCESS) {
            Ok = FALSE;
        }
        Thread = Ok ? WdkmTestStartThread(A34ApcWaiterThread, Ctx) : NULL;
        if (Thread == NULL) {
            ExFreePoolWithTag(Ctx, A34_TAG);
            CHECK(FALSE);
        }
        Ok = A34UntilWaiterInside(&Ctx->Rundown);
        WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread), WdkmHostInterruptSpecialApc,
                               A34ApcOnWaiterRoutine, Ctx);
        if (Pass == 0) {
            WdkmTestSleepMs(2);
            Ok = Ok && A34Load(&Ctx->Done) == 0;
            Ok = Ok && WdkmRundownRelease(&Ctx->Rundown) == STATUS_SUCCESS;
        }
        Ok = A34WaitFor(&Ctx->Done, 1) && Ok;
        WdkmTestJoinThread(Thread);
        if (Pass == 0) {
            /* Woken by the release: SUCCESS; the APC found a wait begun. */
            Ok = Ok && Ctx->WaitStatus == STATUS_SUCCESS && A34Load(&Ctx->ApcRan) == 1 &&
                 Ctx->ApcAcquire == STATUS_DELETE_PENDING &&
                 (Ctx->ApcWait == STATUS_SUCCESS || Ctx->ApcWait == STATUS_INVALID_DEVICE_STATE);
        } else {
            /* Timed out with one out; the APC's own zero wait cannot succeed;
               its release (of the test's acquisition) lets a wait complete. */
            Ok = Ok && A34Load(&Ctx->ApcRan) == 1 && Ctx->ApcAcquire == STATUS_DELETE_PENDING &&
                 Ctx->ApcRelease == STATUS_SUCCESS &&
                 (Ctx->WaitStatus == STATUS_TIMEOUT || Ctx->WaitStatus == STATUS_SUCCESS) &&
                 (Ctx->ApcWait == STATUS_SUCCESS || Ctx->ApcWait == STATUS_INVALID_DEVICE_STATE);
        }
        Ok = Ok && WdkmRundownWait(&Ctx->Rundown, NULL) == STATUS_SUCCESS &&
             WdkmRundownReInitialize(&Ctx->Rundown) == STATUS_SUCCESS;
        if (!Ok) {
            WdkmTestFail(__FILE__, __LINE__, "pass %u: wait %s, apc ran %d: %s %s %s", Pass,
                         WdkmStatusName(Ctx->WaitStatus), (int)Ctx->ApcRan,
                         WdkmStatusName(Ctx->ApcAcquire), WdkmStatusName(Ctx->ApcRelease),
                         WdkmStatusName(Ctx->ApcWait));
            break;
        }
    }
    ExFreePoolWithTag(Ctx, A34_TAG);
}

/* A holder suspended (a normal kernel APC that blocks) while it holds an
   acquisition: the wait times out, acquisitions stay refused; resumed, the
   holder releases and the next wait succeeds, not before. */
typedef struct _A34_SUSPEND {
    WDKM_RUNDOWN Rundown;
    KEVENT Resume;
    volatile LONG Held;
    volatile LONG Suspended;
    volatile LONG MayRelease;
    volatile LONG Released;
    NTSTATUS ReleaseStatus;
} A34_SUSPEND;

static VOID
A34SuspendRoutine(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A34_SUSPEND *Suspend = (A34_SUSPEND *)Context;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Random);
    A34Store(&Suspend->Suspended, 1);
    (VOID)KeWaitForSingleObject(&Suspend->Resume, Executive, KernelMode, FALSE, NULL);
    A34Store(&Suspend->Suspended, 2);
}

static VOID
A34SuspendHolder(PVOID Context, ULONG Index)
{
    A34_SUSPEND *Suspend = (A34_SUSPEND *)Context;
    LONGLONG Deadline = WdkmTestDeadlineMs(5000);

    UNREFERENCED_PARAMETER(Index);
    if (WdkmRundownAcquire(&Suspend->Rundown) != STATUS_SUCCESS) {
        A34Store(&Suspend->Held, -1);
        return;
    }
    A34Store(&Suspend->Held, 1);
    while (A34Load(&Suspend->MayRelease) == 0 && WdkmTestNowMs() < Deadline) {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);     /* spin unmasked, interruptible */
    }
    A34Store(&Suspend->Released, 1);
    Suspend->ReleaseStatus = WdkmRundownRelease(&Suspend->Rundown);
}

static VOID
A34SuspendedHolder(VOID)
{
    A34_SUSPEND *Suspend;
    WDKM_TEST_THREAD *Thread;
    LARGE_INTEGER Timed = A34Ms(20);
    NTSTATUS Status[3];
    BOOLEAN Ok;

    Suspend = (A34_SUSPEND *)ExAllocatePoolWithTag(NonPagedPool, sizeof(*Suspend), A34_TAG);
    CHECK(Suspend != NULL);
    memset(Suspend, 0, sizeof(*Suspend));
    KeInitializeEvent(&Suspend->Resume, NotificationEvent, FALSE);
    Ok = WdkmRundownInitialize(&Suspend->Rundown) == STATUS_SUCCESS;
    Thread = Ok ? WdkmTestStartThread(A34SuspendHolder, Suspend) : NULL;
    Ok = Thread != NULL && A34WaitFor(&Suspend->Held, 1);
    if (Ok) {
        WdkmHostQueueInterrupt(WdkmTestThreadObject(Thread), WdkmHostInterruptNormalApc,
                               A34SuspendRoutine, Suspend);
        Ok = A34WaitFor(&Suspend->Suspended, 1);
    }
    A34Store(&Suspend->MayRelease, 1);
    Status[0] = WdkmRundownWait(&Suspend->Rundown, &Timed);
    Status[1] = WdkmRundownAcquire(&Suspend->Rundown);
    Status[2] = WdkmRundownReInitialize(&Suspend->Rundown);
    Ok = Ok && A34Load(&Suspend->Released) == 0;
    (VOID)KeSetEvent(&Suspend->Resume, IO_NO_INCREMENT, FALSE);
    if (Thread != NULL) {
        NTSTATUS Final = WdkmRundownWait(&Suspend->Rundown, NULL);

        Ok = Ok && Final == STATUS_SUCCESS && A34Load(&Suspend->Released) == 1;
        WdkmTestJoinThread(Thread);
        Ok = Ok && Suspend->ReleaseStatus == STATUS_SUCCESS;
    }
    ExFreePoolWithTag(Suspend, A34_TAG);
    CHECK(Ok);
    CHECK_STATUS(Status[0], STATUS_TIMEOUT);
    CHECK_STATUS(Status[1], STATUS_DELETE_PENDING);
    CHECK_STATUS(Status[2], STATUS_INVALID_DEVICE_STATE);
}

/* A real DPC (KeInsertQueueDpc) acquires; a system thread releases; the
   wait returns once the thread did. */
typedef struct _A34_DPC {
    WDKM_RUNDOWN Rundown;
    KDPC Dpc;
    volatile LONG DpcRan;
    NTSTATUS DpcStatus;
    KIRQL DpcIrql;
} A34_DPC;

static VOID
A34DpcRoutine(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    A34_DPC *Ctx = (A34_DPC *)Context;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    Ctx->DpcIrql = KeGetCurrentIrql();
    Ctx->DpcStatus = WdkmRundownAcquireEx(&Ctx->Rundown, 2);
    A34Store(&Ctx->DpcRan, 1);
}

static VOID
A34DpcReleaser(PVOID Context, ULONG Index)
{
    A34_DPC *Ctx = (A34_DPC *)Context;

    UNREFERENCED_PARAMETER(Index);
    WdkmTestSleepMs(3);
    (VOID)WdkmRundownRelease(&Ctx->Rundown);
    WdkmTestSleepMs(3);
    (VOID)WdkmRundownRelease(&Ctx->Rundown);
}

static VOID
A34RealDpcAcquires(VOID)
{
    A34_DPC Ctx;
    WDKM_TEST_THREAD *Thread;

    memset(&Ctx, 0, sizeof(Ctx));
    CHECK_STATUS(WdkmRundownInitialize(&Ctx.Rundown), STATUS_SUCCESS);
    KeInitializeDpc(&Ctx.Dpc, A34DpcRoutine, &Ctx);
    (VOID)KeInsertQueueDpc(&Ctx.Dpc, NULL, NULL);
    CHECK(A34WaitFor(&Ctx.DpcRan, 1));
    KeFlushQueuedDpcs();
    CHECK_EQ(Ctx.DpcIrql, DISPATCH_LEVEL);
    CHECK_STATUS(Ctx.DpcStatus, STATUS_SUCCESS);
    Thread = WdkmTestStartThread(A34DpcReleaser, &Ctx);
    CHECK(Thread != NULL);
    CHECK_STATUS(WdkmRundownWait(&Ctx.Rundown, NULL), STATUS_SUCCESS);
    WdkmTestJoinThread(Thread);
    A34_REFUSED(&Ctx.Rundown, WdkmRundownRelease(&Ctx.Rundown), STATUS_WDKM_NOT_HELD);
    /* A DPC after the wait: refused. */
    A34Store(&Ctx.DpcRan, 0);
    (VOID)KeInsertQueueDpc(&Ctx.Dpc, NULL, NULL);
    CHECK(A34WaitFor(&Ctx.DpcRan, 1));
    KeFlushQueuedDpcs();
    CHECK_STATUS(Ctx.DpcStatus, STATUS_DELETE_PENDING);
}

/* ---------------------------------------------------------------------- */
/* Seeded models                                                            */
/* ---------------------------------------------------------------------- */

typedef enum _A34_PHASE { A34Open, A34Begun, A34Done } A34_PHASE;

typedef struct _A34_MODEL {
    BOOLEAN Initialized;
    ULONG Count;
    A34_PHASE Phase;
} A34_MODEL;

/* One thread: every call at a random IRQL against the documented state
   machine, the whole object compared on every refusal. */
static VOID
A34SingleThreadModel(VOID)
{
    static const KIRQL Levels[] = { PASSIVE_LEVEL, PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL,
                                    DISPATCH_LEVEL + 1, HIGH_LEVEL };
    WDKM_RUNDOWN Rundown;
    A34_MODEL Model;
    ULONG64 Seed = 0xA34A34A34ull;
    ULONG Step;

    memset(&Rundown, 0, sizeof(Rundown));
    memset(&Model, 0, sizeof(Model));
    for (Step = 0; Step < 20000; Step += 1) {
        ULONG64 R = A34Next(&Seed);
        ULONG Op = (ULONG)(R % 9);
        KIRQL Irql = Levels[(R >> 8) % (sizeof(Levels) / sizeof(Levels[0]))];
        ULONG Count;
        NTSTATUS Expected;
        NTSTATUS Alternative;
        NTSTATUS Actual;
        WDKM_RUNDOWN Before;
        KIRQL Old = PASSIVE_LEVEL;
        BOOLEAN TooHigh = Irql > DISPATCH_LEVEL;

        switch ((R >> 16) % 6) {
        case 0: Count = 0; break;
        case 1: Count = WDKM_RUNDOWN_MAX_COUNT - Model.Count; break;
        case 2: Count = WDKM_RUNDOWN_MAX_COUNT - Model.Count + 1; break;
        case 3: Count = (ULONG)(R >> 32); break;
        default: Count = 1 + (ULONG)((R >> 24) % 4); break;
        }
        if (Count == 0 && (R >> 40) % 2 == 0) {
            Count = Model.Count;       /* release exactly what is out */
        }
        Alternative = (NTSTATUS)-1;
        memcpy(&Before, &Rundown, sizeof(Before));
        if (Irql != PASSIVE_LEVEL) {
            KeRaiseIrql(Irql, &Old);
        }
        switch (Op) {
        case 0:     /* Initialize: only when not in use */
            if (Model.Count != 0 || Model.Phase == A34Begun) {
                Expected = (NTSTATUS)-2;
                Actual = (NTSTATUS)-2;
                break;
            }
            Actual = WdkmRundownInitialize(&Rundown);
            if (TooHigh) {
                Expected = STATUS_WDKM_IRQL_TOO_HIGH;
            } else {
                Expected = STATUS_SUCCESS;
                Model.Initialized = TRUE;
                Model.Count = 0;
                Model.Phase = A34Open;
            }
            break;
        case 1:     /* Acquire */
            Actual = WdkmRundownAcquire(&Rundown);
            Expected = TooHigh ? STATUS_WDKM_IRQL_TOO_HIGH
                     : !Model.Initialized ? STATUS_WDKM_NOT_INITIALIZED
                     : Model.Phase != A34Open ? STATUS_DELETE_PENDING
                     : Model.Count == WDKM_RUNDOWN_MAX_COUNT ? STATUS_INTEGER_OVERFLOW
                     : STATUS_SUCCESS;
            if (Expected == STATUS_DELETE_PENDING && Model.Count == WDKM_RUNDOWN_MAX_COUNT) {
                Alternative = STATUS_INTEGER_OVERFLOW;
            }
            break;
        case 2:     /* AcquireEx */
            Actual = WdkmRundownAcquireEx(&Rundown, Count);
            Expected = (Count == 0 || Count > WDKM_RUNDOWN_MAX_COUNT) ? STATUS_INVALID_PARAMETER
                     : TooHigh ? STATUS_WDKM_IRQL_TOO_HIGH
                     : !Model.Initialized ? STATUS_WDKM_NOT_INITIALIZED
                     : Model.Phase != A34Open ? STATUS_DELETE_PENDING
                     : Count > WDKM_RUNDOWN_MAX_COUNT - Model.Count ? STATUS_INTEGER_OVERFLOW
                     : STATUS_SUCCESS;
            if (Expected == STATUS_DELETE_PENDING &&
                Count > WDKM_RUNDOWN_MAX_COUNT - Model.Count) {
                Alternative = STATUS_INTEGER_OVERFLOW;
            }
            break;
        case 3:     /* Release */
            Actual = WdkmRundownRelease(&Rundown);
            Expected = TooHigh ? STATUS_WDKM_IRQL_TOO_HIGH
                     : !Model.Initialized ? STATUS_WDKM_NOT_INITIALIZED
                     : Model.Count == 0 ? STATUS_WDKM_NOT_HELD
                     : STATUS_SUCCESS;
            Count = 1;
            break;
        case 4:     /* ReleaseEx */
        case 5:
            Actual = WdkmRundownReleaseEx(&Rundown, Count);
            Expected = Count == 0 ? STATUS_INVALID_PARAMETER
                     : TooHigh ? STATUS_WDKM_IRQL_TOO_HIGH
                     : !Model.Initialized ? STATUS_WDKM_NOT_INITIALIZED
                     : Model.Count < Count ? STATUS_WDKM_NOT_HELD
                     : STATUS_SUCCESS;
            break;
        case 6:     /* Wait, zero or 0.1 ms; without a timeout when none is out */
        case 7: {
            LARGE_INTEGER Tiny;
            const LARGE_INTEGER *Timeout = &A34Zero;

            Tiny.QuadPart = -1000;
            if ((R >> 44) % 8 == 0) {
                Timeout = &Tiny;
            } else if ((R >> 44) % 8 == 1 && Model.Count == 0) {
                Timeout = NULL;
            }
            Actual = WdkmRundownWait(&Rundown, Timeout);
            Expected = Irql > APC_LEVEL ? STATUS_WDKM_IRQL_TOO_HIGH
                     : !Model.Initialized ? STATUS_WDKM_NOT_INITIALIZED
                     : (Model.Phase == A34Done || Model.Count == 0) ? STATUS_SUCCESS
                     : STATUS_TIMEOUT;
            break;
        }
        default:    /* ReInitialize */
            Actual = WdkmRundownReInitialize(&Rundown);
            Expected = TooHigh ? STATUS_WDKM_IRQL_TOO_HIGH
                     : !Model.Initialized ? STATUS_WDKM_NOT_INITIALIZED
                     : Model.Phase != A34Done ? STATUS_INVALID_DEVICE_STATE
                     : STATUS_SUCCESS;
            break;
        }
        if (Irql != PASSIVE_LEVEL) {
            KeLowerIrql(Old);
        }
        if (Actual != Expected && Actual != Alternative) {
            WdkmTestFail(__FILE__, __LINE__, "step %u op %u irql %u count %u (model %u, phase %d): %s, expected %s",
                         Step, Op, (unsigned)Irql, Count, Model.Count, (int)Model.Phase,
                         WdkmStatusName(Actual), WdkmStatusName(Expected));
            return;
        }
        if (Actual == (NTSTATUS)-2) {
            continue;
        }
        if (Actual != STATUS_SUCCESS && Actual != STATUS_TIMEOUT) {
            if (memcmp(&Before, &Rundown, sizeof(Before)) != 0) {
                WdkmTestFail(__FILE__, __LINE__, "step %u op %u: refusal %s changed the object",
                             Step, Op, WdkmStatusName(Actual));
                return;
            }
            continue;
        }
        /* Apply a success to the model. */
        switch (Op) {
        case 1: Model.Count += 1; break;
        case 2: Model.Count += Count; break;
        case 3: case 4: case 5: Model.Count -= Count; break;
        case 6: case 7:
            if (Actual == STATUS_SUCCESS) {
                Model.Phase = A34Done;
            } else {
                Model.Phase = A34Begun;
            }
            break;
        case 8: Model.Phase = A34Open; break;
        default: break;
        }
        /* Rarely: drain and finish so cycles repeat. */
        if ((R >> 50) % 64 == 0 && Model.Initialized) {
            if (Model.Count != 0) {
                CHECK_STATUS(WdkmRundownReleaseEx(&Rundown, Model.Count), STATUS_SUCCESS);
                Model.Count = 0;
            }
            if (Model.Phase != A34Open) {
                CHECK_STATUS(WdkmRundownWait(&Rundown, NULL), STATUS_SUCCESS);
                CHECK_STATUS(WdkmRundownReInitialize(&Rundown), STATUS_SUCCESS);
                Model.Phase = A34Open;
            }
        }
    }
}

/* Several threads: acquisitions are tokens any thread may give back; a
   waiter thread runs cycles of (timed waits, a full wait, ReInitialize);
   injected DPCs and APCs take and give back their own acquisitions. A
   successful wait must find no token out and none may appear until the
   ReInitialize. */
#define A34_WORKERS 3

typedef struct _A34_MULTI {
    WDKM_RUNDOWN Rundown;
    volatile LONG Tokens;          /* acquisitions out that workers may give back */
    volatile LONG Private;         /* acquisitions an event holds for its own duration */
    volatile LONG ClosedGen;       /* odd between a successful wait and the ReInitialize */
    volatile LONG Stop;
    volatile LONG Wrong;
    volatile LONG Cycles;
    volatile LONG Successes;
    NTSTATUS WrongStatus;
} A34_MULTI;

static A34_MULTI *A34Multi;

static VOID
A34MultiWrong(A34_MULTI *Multi, NTSTATUS Status)
{
    if (A34Add(&Multi->Wrong, 1) == 1) {
        Multi->WrongStatus = Status;
    }
}

static VOID
A34MultiEvent(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, PVOID Context)
{
    A34_MULTI *Multi = A34Multi;
    LONG WasClosed;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(Kind);
    UNREFERENCED_PARAMETER(Context);
    if (Multi == NULL) {
        return;
    }
    WasClosed = A34Load(&Multi->ClosedGen);
    Status = WdkmRundownAcquire(&Multi->Rundown);
    if (Status == STATUS_SUCCESS) {
        A34Add(&Multi->Private, 1);
        if ((WasClosed & 1) != 0 && A34Load(&Multi->ClosedGen) == WasClosed) {
            A34MultiWrong(Multi, STATUS_UNSUCCESSFUL);
        }
        if ((Random & 1) != 0) {
            /* Give back one token someone else holds, then our own. */
            LONG Tokens = A34Load(&Multi->Tokens);

            if (Tokens > 0 && __atomic_compare_exchange_n(&Multi->Tokens, &Tokens, Tokens - 1,
                                                           FALSE, __ATOMIC_SEQ_CST,
                                                           __ATOMIC_SEQ_CST)) {
                Status = WdkmRundownRelease(&Multi->Rundown);
                if (Status != STATUS_SUCCESS) {
                    A34MultiWrong(Multi, Status);
                }
            }
        }
        A34Add(&Multi->Private, -1);
        Status = WdkmRundownRelease(&Multi->Rundown);
        if (Status != STATUS_SUCCESS) {
            A34MultiWrong(Multi, Status);
        }
    } else if (Status != STATUS_DELETE_PENDING) {
        A34MultiWrong(Multi, Status);
    }
}

static VOID
A34MultiWorker(PVOID Context, ULONG Index)
{
    A34_MULTI *Multi = (A34_MULTI *)Context;
    ULONG64 Seed = 0xC0FFEE00ull + Index * 7919;

    while (A34Load(&Multi->Stop) == 0) {
        ULONG64 R = A34Next(&Seed);
        KIRQL Old = PASSIVE_LEVEL;
        KIRQL Irql = (KIRQL)(R % 3);
        NTSTATUS Status;

        if (Irql != PASSIVE_LEVEL) {
            KeRaiseIrql(Irql, &Old);
        }
        if ((R >> 8) % 2 == 0) {
            ULONG Count = 1 + (ULONG)((R >> 12) % 3);
            LONG WasClosed = A34Load(&Multi->ClosedGen);

            Status = Count == 1 ? WdkmRundownAcquire(&Multi->Rundown)
                                : WdkmRundownAcquireEx(&Multi->Rundown, Count);
            if (Status == STATUS_SUCCESS) {
                /* Refused from the successful wait until the ReInitialize,
                   which comes after ClosedGen moved on. */
                if ((WasClosed & 1) != 0 && A34Load(&Multi->ClosedGen) == WasClosed) {
                    A34MultiWrong(Multi, STATUS_UNSUCCESSFUL);
                }
                A34Add(&Multi->Tokens, (LONG)Count);
                A34Add(&Multi->Successes, 1);
            } else if (Status != STATUS_DELETE_PENDING) {
                A34MultiWrong(Multi, Status);
            }
        } else {
            /* Take up to 3 tokens, give them back at once. */
            LONG Want = 1 + (LONG)((R >> 12) % 3);
            LONG Tokens = A34Load(&Multi->Tokens);

            while (Tokens > 0) {
                LONG Take = Tokens < Want ? Tokens : Want;

                if (__atomic_compare_exchange_n(&Multi->Tokens, &Tokens, Tokens - Take, FALSE,
                                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
                    Status = Take == 1 ? WdkmRundownRelease(&Multi->Rundown)
                                       : WdkmRundownReleaseEx(&Multi->Rundown, (ULONG)Take);
                    if (Status != STATUS_SUCCESS) {
                        A34MultiWrong(Multi, Status);
                    }
                    break;
                }
            }
        }
        if (Irql != PASSIVE_LEVEL) {
            KeLowerIrql(Old);
        }
    }
}

static VOID
A34MultiWaiter(PVOID Context, ULONG Index)
{
    A34_MULTI *Multi = (A34_MULTI *)Context;
    ULONG64 Seed = 0xBEEFull;
    LONGLONG Deadline = WdkmTestDeadlineMs(2500);
    LONG Cycle = 0;

    UNREFERENCED_PARAMETER(Index);
    while (WdkmTestNowMs() < Deadline && A34Load(&Multi->Wrong) == 0) {
        ULONG64 R = A34Next(&Seed);
        LARGE_INTEGER Tiny;
        NTSTATUS Status;
        KIRQL Old = PASSIVE_LEVEL;
        BOOLEAN Apc = (R % 4) == 0;

        WdkmTestSleepMs((ULONG)(R >> 8) % 3);
        Tiny.QuadPart = -(LONGLONG)((R >> 16) % 2000);
        if (Apc) {
            KeRaiseIrql(APC_LEVEL, &Old);
        }
        Status = WdkmRundownWait(&Multi->Rundown, &Tiny);
        while (Status == STATUS_TIMEOUT) {
            /* Acquisitions are refused from here; the workers drain. */
            Status = WdkmRundownWait(&Multi->Rundown, (R >> 40) % 2 ? NULL : &Tiny);
        }
        if (Status == STATUS_SUCCESS) {
            A34Store(&Multi->ClosedGen, Cycle * 2 + 1);
            if (A34Load(&Multi->Tokens) != 0 || A34Load(&Multi->Private) != 0) {
                A34MultiWrong(Multi, STATUS_UNSUCCESSFUL);
            }
            if (WdkmRundownWait(&Multi->Rundown, NULL) != STATUS_SUCCESS) {
                A34MultiWrong(Multi, STATUS_UNSUCCESSFUL);
            }
        } else {
            A34MultiWrong(Multi, Status);
        }
        if (Apc) {
            KeLowerIrql(Old);
        }
        WdkmTestSleepMs((ULONG)(R >> 24) % 2);
        if (A34Load(&Multi->Tokens) != 0 || A34Load(&Multi->Private) != 0) {
            A34MultiWrong(Multi, STATUS_UNSUCCESSFUL);
        }
        A34Store(&Multi->ClosedGen, Cycle * 2 + 2);
        Cycle += 1;
        Status = WdkmRundownReInitialize(&Multi->Rundown);
        if (Status != STATUS_SUCCESS) {
            A34MultiWrong(Multi, Status);
        }
        A34Add(&Multi->Cycles, 1);
    }
    A34Store(&Multi->Stop, 1);
}

static VOID
A34MultiThreadModel(PVOID Context, ULONG Index)
{
    if (Index == 0) {
        A34MultiWaiter(Context, Index);
    } else {
        A34MultiWorker(Context, Index);
    }
}

static VOID
A34MultiThreadedModel(VOID)
{
    A34_MULTI *Multi;
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    BOOLEAN Ran;
    LONG Wrong;
    LONG Cycles;
    LONG Successes;
    NTSTATUS WrongStatus;

    Multi = (A34_MULTI *)ExAllocatePoolWithTag(NonPagedPool, sizeof(*Multi), A34_TAG);
    CHECK(Multi != NULL);
    memset(Multi, 0, sizeof(*Multi));
    if (WdkmRundownInitialize(&Multi->Rundown) != STATUS_SUCCESS) {
        ExFreePoolWithTag(Multi, A34_TAG);
        CHECK(FALSE);
    }
    A34Multi = Multi;
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 3434;
    Settings.MeanIntervalMicroseconds = 100;
    Settings.DpcWeight = 2;
    Settings.SpecialApcWeight = 2;
    Settings.NormalApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 100;
    Settings.Routine = A34MultiEvent;
    WdkmHostInterruptsStart(&Settings);
    Ran = WdkmTestRunThreads(1 + A34_WORKERS, A34MultiThreadModel, Multi);
    WdkmHostInterruptsStop();
    A34Multi = NULL;
    Wrong = Multi->Wrong;
    WrongStatus = Multi->WrongStatus;
    Cycles = Multi->Cycles;
    Successes = Multi->Successes;
    /* Leave it quiet: give back what is out, finish the last cycle. */
    if (Multi->Tokens > 0) {
        (VOID)WdkmRundownReleaseEx(&Multi->Rundown, (ULONG)Multi->Tokens);
    }
    (VOID)WdkmRundownWait(&Multi->Rundown, NULL);
    ExFreePoolWithTag(Multi, A34_TAG);
    CHECK(Ran);
    if (Wrong != 0) {
        WdkmTestFail(__FILE__, __LINE__, "%d wrong, first %s", (int)Wrong,
                     WdkmStatusName(WrongStatus));
        return;
    }
    CHECK(Cycles > 5);
    CHECK(Successes > 0);
}

static VOID
A34Cleanup(VOID)
{
    if (WdkmHostInterruptsActive(NULL)) {
        WdkmHostInterruptsStop();
    }
    A34Multi = NULL;
}

static const WDKM_TEST_CASE A34Cases[] = {
    { "null_everywhere", A34NullEverywhere },
    { "never_initialised", A34NeverInitialised },
    { "irql_every_call", A34IrqlEveryCall },
    { "release_nothing_out", A34ReleaseNothingOut },
    { "count_limits", A34CountLimits },
    { "wait_and_reinitialize", A34WaitAndReInitialize },
    { "second_waiter_refused", A34SecondWaiterRefused },
    { "no_pool_non_alertable", A34NoPoolNonAlertable },
    { "racing_edges", A34RacingEdges },
    { "concurrent_waiters", A34ConcurrentWaiters },
    { "timeout_races_release", A34TimeoutRacesRelease },
    { "wait_never_early", A34WaitNeverEarly },
    { "ordering_through_done", A34OrderingThroughDone },
    { "free_right_after_wait", A34FreeRightAfterWait },
    { "dpc_and_apc_on_own_thread", A34DpcAndApcOnOwnThread },
    { "wait_under_fast_mutex", A34WaitUnderFastMutex },
    { "special_apc_on_waiter", A34SpecialApcOnWaiter },
    { "suspended_holder", A34SuspendedHolder },
    { "real_dpc_acquires", A34RealDpcAcquires },
    { "single_thread_model", A34SingleThreadModel },
    { "multi_thread_model", A34MultiThreadedModel },
};

const WDKM_TEST_SUITE WdkmAttack34Suite =
    WDKM_TEST_SUITE_WITH_CLEANUP("attack34", A34Cases, A34Cleanup);
