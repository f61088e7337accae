/*
 * wdkm_rundown.c - rundown protection on one interlocked word and an event.
 *
 * The word (WDKM_RUNDOWN.State) holds everything, so that every step is one
 * compare-exchange from one whole state to the next:
 *
 *   bits 3..30  acquisitions out (WDKMP_RUNDOWN_ONE each)
 *   bit 0       RUNDOWN: a wait has begun; acquisitions are refused
 *   bit 1       WAITER:  a thread is inside WdkmRundownWait now
 *   bit 2       DONE:    a wait completed (no acquisition out, none can start)
 *
 * The event: the release that brings the count to zero while RUNDOWN is
 * set (exactly one per rundown, since the count cannot rise again) sets it.
 * A waiter that found acquisitions out when it set RUNDOWN owes itself
 * that signal: it, or a later waiter after a timeout, waits on the event
 * until it comes, even if the count reads zero already - the releaser may
 * still be between its decrement and its set, and the object must not be
 * freed under it. A waiter that set RUNDOWN with nothing out is done at
 * once (no signal will come). So at DONE the event is always reset, and
 * ReInitialize only has to clear the word.
 *
 * Ordering: every change is InterlockedCompareExchange (a full barrier on
 * every target: on ARM64 the holder's accesses to the object cannot move
 * after its release, nor a new holder's before its acquire); every read
 * that a decision rests on is WdkmpLoadLongAcquire, so that a waiter which
 * sees DONE set by another waiter also sees what the holders did before
 * their releases (the chain release -> exchange -> acquire load).
 */
#include "wdkm_internal.h"

#define WDKMP_RUNDOWN_SIGNATURE 0x6E645257UL    /* 'WRdn' */

#define WDKMP_RUNDOWN_ACTIVE  0x1L   /* RUNDOWN: a wait has begun */
#define WDKMP_RUNDOWN_WAITER  0x2L
#define WDKMP_RUNDOWN_DONE    0x4L
#define WDKMP_RUNDOWN_FLAGS   0x7L
#define WDKMP_RUNDOWN_SHIFT   3
#define WDKMP_RUNDOWN_ONE     (1L << WDKMP_RUNDOWN_SHIFT)

#define WdkmpRundownCount(State) ((ULONG)((State) >> WDKMP_RUNDOWN_SHIFT))

/* The checks every call but Initialize makes, in the documented order. */
static
NTSTATUS
WdkmpRundownCheck(
    _In_opt_ const WDKM_RUNDOWN *Rundown,
    _In_ KIRQL MaxIrql
    )
{
    if (Rundown == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > MaxIrql) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    /* Relaxed is enough: written once by Initialize, before the caller
       published the object to other threads by its own means. */
    if ((ULONG)WdkmpLoadLong((LONG const volatile *)&Rundown->Signature) !=
        WDKMP_RUNDOWN_SIGNATURE) {
        return STATUS_WDKM_NOT_INITIALIZED;
    }
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmRundownInitialize(
    _Out_ PWDKM_RUNDOWN Rundown
    )
{
    if (Rundown == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    WdkmpEventInitialize(&Rundown->Drained, FALSE);
    WdkmpStoreLong(&Rundown->State, 0);
    /* Release: a thread that finds the signature (through a publication of
       the caller's) finds the event and the word made too. */
    WdkmpStoreLongRelease((LONG volatile *)&Rundown->Signature, (LONG)WDKMP_RUNDOWN_SIGNATURE);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmRundownAcquireEx(
    _Inout_ PWDKM_RUNDOWN Rundown,
    _In_ ULONG Count
    )
{
    NTSTATUS Status;
    LONG State;
    LONG Seen;

    /* Count is an argument: judged before the IRQL, as NULL is. */
    if (Count == 0 || Count > WDKM_RUNDOWN_MAX_COUNT) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpRundownCheck(Rundown, DISPATCH_LEVEL);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    State = WdkmpLoadLongAcquire(&Rundown->State);
    for (;;) {
        if ((State & WDKMP_RUNDOWN_ACTIVE) != 0) {
            return STATUS_DELETE_PENDING;
        }
        if (Count > WDKM_RUNDOWN_MAX_COUNT - WdkmpRundownCount(State)) {
            return STATUS_INTEGER_OVERFLOW;
        }
        /* Full barrier: the caller's use of the object stays after it. */
        Seen = InterlockedCompareExchange(&Rundown->State,
                                          State + (LONG)Count * WDKMP_RUNDOWN_ONE, State);
        if (Seen == State) {
            return STATUS_SUCCESS;
        }
        State = Seen;
    }
}

NTSTATUS
WdkmRundownAcquire(
    _Inout_ PWDKM_RUNDOWN Rundown
    )
{
    return WdkmRundownAcquireEx(Rundown, 1);
}

NTSTATUS
WdkmRundownReleaseEx(
    _Inout_ PWDKM_RUNDOWN Rundown,
    _In_ ULONG Count
    )
{
    NTSTATUS Status;
    LONG State;
    LONG Next;
    LONG Seen;

    /* Count is an argument: judged before the IRQL, as NULL is. */
    if (Count == 0) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpRundownCheck(Rundown, DISPATCH_LEVEL);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    State = WdkmpLoadLongAcquire(&Rundown->State);
    for (;;) {
        if (WdkmpRundownCount(State) < Count) {
            return STATUS_WDKM_NOT_HELD;     /* the count never goes below zero */
        }
        Next = State - (LONG)Count * WDKMP_RUNDOWN_ONE;
        /* Full barrier: the caller's use of the object stays before it. */
        Seen = InterlockedCompareExchange(&Rundown->State, Next, State);
        if (Seen == State) {
            break;
        }
        State = Seen;
    }
    if ((Next & WDKMP_RUNDOWN_ACTIVE) != 0 && WdkmpRundownCount(Next) == 0) {
        /* The one signal of this rundown: a waiter, present or to come,
           waits for it before it may let the object be freed, so the
           event is still there. Nothing is touched after it. */
        WdkmpEventSet(&Rundown->Drained);
    }
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmRundownRelease(
    _Inout_ PWDKM_RUNDOWN Rundown
    )
{
    return WdkmRundownReleaseEx(Rundown, 1);
}

NTSTATUS
WdkmRundownWait(
    _Inout_ PWDKM_RUNDOWN Rundown,
    _In_opt_ const LARGE_INTEGER *Timeout
    )
{
    NTSTATUS Status;
    LONG State;
    LONG Seen;

    Status = WdkmpRundownCheck(Rundown, APC_LEVEL);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    /* Claim the waiter's place and begin the rundown in one step. */
    State = WdkmpLoadLongAcquire(&Rundown->State);
    for (;;) {
        if ((State & WDKMP_RUNDOWN_DONE) != 0) {
            return STATUS_SUCCESS;           /* a wait completed already */
        }
        if ((State & WDKMP_RUNDOWN_WAITER) != 0) {
            return STATUS_INVALID_DEVICE_STATE;
        }
        if ((State & WDKMP_RUNDOWN_ACTIVE) == 0 && WdkmpRundownCount(State) == 0) {
            /* Nothing out and nothing can start: done, and no signal owed. */
            Seen = InterlockedCompareExchange(&Rundown->State,
                                              WDKMP_RUNDOWN_ACTIVE | WDKMP_RUNDOWN_DONE, State);
            if (Seen == State) {
                return STATUS_SUCCESS;
            }
        } else {
            Seen = InterlockedCompareExchange(&Rundown->State,
                                              State | WDKMP_RUNDOWN_ACTIVE | WDKMP_RUNDOWN_WAITER,
                                              State);
            if (Seen == State) {
                break;
            }
        }
        State = Seen;
    }
    /*
     * Acquisitions were out when the rundown began (now, or at an earlier
     * wait that timed out), so the last release sets the event exactly
     * once: wait for that signal even if the count reads zero now.
     */
    Status = WdkmpEventWait(&Rundown->Drained, Timeout);
    State = WdkmpLoadLongAcquire(&Rundown->State);
    for (;;) {
        /* Only this waiter changes the flags now, and the count only falls. */
        Seen = InterlockedCompareExchange(&Rundown->State,
                                          Status == STATUS_SUCCESS
                                              ? (State & ~WDKMP_RUNDOWN_WAITER) | WDKMP_RUNDOWN_DONE
                                              : State & ~WDKMP_RUNDOWN_WAITER,
                                          State);
        if (Seen == State) {
            return Status;
        }
        State = Seen;
    }
}

NTSTATUS
WdkmRundownReInitialize(
    _Inout_ PWDKM_RUNDOWN Rundown
    )
{
    NTSTATUS Status;
    LONG State;

    Status = WdkmpRundownCheck(Rundown, DISPATCH_LEVEL);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    State = WdkmpLoadLongAcquire(&Rundown->State);
    if ((State & WDKMP_RUNDOWN_DONE) == 0) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    /* DONE: no count, no waiter inside, the event reset; only the word
       changes. A racing ReInitialize finds it changed and is refused. */
    if (InterlockedCompareExchange(&Rundown->State, 0, State) != State) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    return STATUS_SUCCESS;
}
