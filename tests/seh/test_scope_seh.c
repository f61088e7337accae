/*
 * test_scope_seh.c - the scoped forms built on __try/__finally
 * (WDKM_SCOPE_SEH=1, wdkm_scope.h) release on every way out of the block:
 * falling off the end, continue, break, return (its value computed under
 * the lock), goto out, __leave, an exception handled outside, and from a
 * nested scope; a failed acquisition runs nothing and releases nothing; a
 * failed release reaches the status variable.
 *
 * A user-mode Windows program, run under Wine by scripts/check-scope-seh.sh:
 * built by clang --target=x86_64-w64-windows-gnu -fms-extensions (the SEH
 * form, as MSVC builds it), and by mingw-w64 gcc in the cleanup form
 * (WDKM_SCOPE_SEH=0), where the same source, WDKM_SCOPED_END included,
 * must behave the same. The lock is a stand-in: WdkmKMutexScopeEnter is
 * defined here and counts, so the real WDKM_KMUTEX_SCOPED macro is what
 * is tested, without a kernel.
 */
#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>
#include <stdio.h>

typedef struct _STATE {
    LONG Value;
} STATE;

static STATE TheState;
static LONG Held;            /* holds open now */
static LONG Releases;
static BOOLEAN FailAcquire;
static NTSTATUS ReleaseAnswer = STATUS_SUCCESS;
static ULONG Failures;

static NTSTATUS
FakeRelease(PWDKM_SCOPE Scope)
{
    (VOID)Scope;
    Held -= 1;
    Releases += 1;
    return ReleaseAnswer;
}

WDKM_SCOPE
WdkmKMutexScopeEnter(PWDKM_KMUTEX Mutex, SIZE_T DataSize, PVOID *Data, NTSTATUS *Status)
{
    WDKM_SCOPE Scope;

    (VOID)DataSize;
    Scope.Release = FakeRelease;
    Scope.Status = Status;
    Scope.SavedIrql = PASSIVE_LEVEL;
    if (FailAcquire) {
        *Data = NULL;
        *Status = STATUS_TIMEOUT;
        Scope.Lock = NULL;
        return Scope;
    }
    Held += 1;
    *Data = &TheState;
    *Status = STATUS_SUCCESS;
    Scope.Lock = Mutex;
    return Scope;
}

#define MUTEX ((PWDKM_KMUTEX)(PVOID)&TheState)

static VOID
Expect(const char *Name, BOOLEAN Passed)
{
    printf("%s %s\n", Passed ? "PASS" : "FAIL", Name);
    if (!Passed) {
        Failures += 1;
    }
}

/* Each exit path, one function each. Returns what the block saw. */

static LONG
FallThrough(VOID)
{
    STATE *State;
    NTSTATUS Status;
    LONG Seen = -1;

    WDKM_KMUTEX_SCOPED(MUTEX, State, &Status) {
        Seen = Held;
        State->Value += 1;
    } WDKM_SCOPED_END
    return Seen;
}

static LONG
Continue(VOID)
{
    STATE *State;
    NTSTATUS Status;
    LONG After = 0;

    WDKM_KMUTEX_SCOPED(MUTEX, State, &Status) {
        if (State != NULL) {
            continue;
        }
        After += 1;
    } WDKM_SCOPED_END
    return After;
}

static LONG
Break(VOID)
{
    STATE *State;
    NTSTATUS Status;
    LONG Rounds = 0;
    LONG Round;

    /* break acts on the scope: the loop around it goes on. */
    for (Round = 0; Round < 3; Round += 1) {
        WDKM_KMUTEX_SCOPED(MUTEX, State, &Status) {
            if (State != NULL) {
                break;
            }
        } WDKM_SCOPED_END
        Rounds += 1;
    }
    return Rounds;
}

static LONG
HeldNow(VOID)
{
    return Held;
}

static LONG
Return(VOID)
{
    STATE *State;
    NTSTATUS Status;

    WDKM_KMUTEX_SCOPED(MUTEX, State, &Status) {
        return HeldNow() * 100 + State->Value;   /* computed under the lock */
    } WDKM_SCOPED_END
    return -1;
}

static LONG
Goto(VOID)
{
    STATE *State;
    NTSTATUS Status;
    LONG Seen = -1;

    WDKM_KMUTEX_SCOPED(MUTEX, State, &Status) {
        Seen = Held;
        if (State != NULL) {
            goto Out;
        }
        Seen = -2;
    } WDKM_SCOPED_END
Out:
    return Seen;
}

static LONG
Nested(VOID)
{
    STATE *Outer;
    STATE *Inner;
    NTSTATUS OuterStatus;
    NTSTATUS InnerStatus;

    WDKM_KMUTEX_SCOPED(MUTEX, Outer, &OuterStatus) {
        WDKM_KMUTEX_SCOPED(MUTEX, Inner, &InnerStatus) {
            if (Inner == Outer) {
                return HeldNow();                  /* under both; then both released */
            }
        } WDKM_SCOPED_END
    } WDKM_SCOPED_END
    return -1;
}

#if WDKM_SCOPE_SEH
static LONG
Leave(VOID)
{
    STATE *State;
    NTSTATUS Status;
    LONG After = 0;

    WDKM_KMUTEX_SCOPED(MUTEX, State, &Status) {
        if (State != NULL) {
            __leave;
        }
        After += 1;
    } WDKM_SCOPED_END
    return After;
}

/* Faults in a function of its own: an exception raised by a call, as
   ExRaiseStatus or a faulting callee raises one (clang's SEH, like MSVC's
   default, is synchronous: a fault of the __try's own instructions is not
   unwound through its __finally). */
static __declspec(noinline) VOID
Fault(LONG Address)
{
    *(volatile LONG *)(ULONG_PTR)Address = 1;
}

static int
AccessViolation(unsigned long Code)
{
    return Code == 0xC0000005UL;   /* EXCEPTION_EXECUTE_HANDLER for it, else search on */
}

static LONG
Exception(VOID)
{
    STATE *State;
    NTSTATUS Status;
    LONG volatile Seen = -1;

    __try {
        WDKM_KMUTEX_SCOPED(MUTEX, State, &Status) {
            Seen = Held;
            Fault(State->Value);                   /* a low address: faults */
        } WDKM_SCOPED_END
    } __except (AccessViolation(GetExceptionCode())) {
        Seen += 10;
    }
    return Seen;
}
#endif

static VOID
Run(const char *Name, LONG (*Routine)(VOID), LONG Expected)
{
    char Line[128];
    LONG Before = Releases;
    LONG Got = Routine();

    snprintf(Line, sizeof(Line), "%s (got %ld, expected %ld; released %ld time(s))", Name,
             (long)Got, (long)Expected, (long)(Releases - Before));
    Expect(Line, Got == Expected && Held == 0 && Releases > Before);
    Held = 0;
}

int
main(void)
{
    STATE *State;
    NTSTATUS Status;
    LONG Runs = 0;

    printf("scoped forms: %s\n", WDKM_SCOPE_SEH ? "SEH (__try/__finally)" : "cleanup");
    TheState.Value = 1;
    Run("fall-through", FallThrough, 1);
    Run("continue", Continue, 0);
    Run("break (acts on the scope)", Break, 3);
    Run("return, value computed under the lock", Return, 102);
    Run("goto out", Goto, 1);
    Run("return from a nested scope, value computed under both", Nested, 2);
#if WDKM_SCOPE_SEH
    Run("__leave", Leave, 0);
    TheState.Value = 8;
    Run("exception handled outside", Exception, 11);
#endif

    /* A failed acquisition: the block does not run, nothing is released. */
    FailAcquire = TRUE;
    Releases = 0;
    WDKM_KMUTEX_SCOPED(MUTEX, State, &Status) {
        Runs += 1;
    } WDKM_SCOPED_END
    FailAcquire = FALSE;
    Expect("failed acquisition: block skipped, nothing released",
           Runs == 0 && Releases == 0 && Status == STATUS_TIMEOUT);

    /* A failed release reaches the status variable. */
    ReleaseAnswer = STATUS_UNSUCCESSFUL;
    WDKM_KMUTEX_SCOPED(MUTEX, State, &Status) {
        Runs += 1;
    } WDKM_SCOPED_END
    ReleaseAnswer = STATUS_SUCCESS;
    Expect("failed release: its status reported", Runs == 1 && Status == STATUS_UNSUCCESSFUL);

    printf("%lu failed\n", (unsigned long)Failures);
    return Failures == 0 ? 0 : 1;
}
