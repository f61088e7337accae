/*
 * ok_patterns.c - correct lock use in every form clang's thread-safety
 * analysis follows (docs/checks.md, "Thread-safety analysis"). Must compile
 * with `clang -Wthread-safety -Werror`, as C and as C++, against the
 * mingw-w64 DDK (also as a checked build) and the host emulation: a false
 * error here means an annotation, or a typed macro, hides an acquire from
 * the analysis; a failure in the checked build only means a typed macro no
 * longer expands to the call itself (docs/checks.md). Compiled, never
 * linked or run, by scripts/check-thread-safety.sh. Valid C and C++ both.
 */
#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

typedef struct _OK_STATE {
    ULONG Count;
    ULONG64 Bytes;
} OK_STATE;

/* Forms of the status test. ------------------------------------------- */

/* The status in a variable, an early return when not acquired. */
NTSTATUS
OkEarlyReturn(_Inout_ PWDKM_KMUTEX Lock, _In_ ULONG Length)
{
    OK_STATE *State;
    NTSTATUS Status;

    Status = WDKM_KMUTEX_ACQUIRE(Lock, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    State->Count += 1;
    State->Bytes += Length;
    return WdkmKMutexRelease(Lock);
}

/* The call itself in the condition. */
VOID
OkCallInCondition(_Inout_ PWDKM_FAST_MUTEX Lock)
{
    OK_STATE *State;

    if (WDKM_ACQUIRED(WDKM_FAST_MUTEX_ACQUIRE(Lock, &State))) {
        State->Count += 1;
        (VOID)WdkmFastMutexRelease(Lock);
    }
}

/* Initialised at its declaration; other work between the call and the test. */
VOID
OkWorkBeforeTest(_Inout_ PWDKM_KMUTEX Lock, _Inout_ ULONG *Calls)
{
    OK_STATE *State;
    NTSTATUS Status = WDKM_KMUTEX_TRY_ACQUIRE(Lock, &State);

    *Calls += 1;
    if (WDKM_ACQUIRED(Status)) {
        State->Count += 1;
        (VOID)WdkmKMutexRelease(Lock);
    }
}

/* One exit, reached by goto from the failure paths. */
NTSTATUS
OkGotoCleanup(_Inout_ PWDKM_KMUTEX Lock, _In_ ULONG Limit)
{
    OK_STATE *State;
    NTSTATUS Status;

    Status = WDKM_KMUTEX_ACQUIRE(Lock, &State);
    if (!WDKM_ACQUIRED(Status)) {
        goto Out;
    }
    if (State->Count >= Limit) {
        Status = STATUS_INSUFFICIENT_RESOURCES;
    } else {
        State->Count += 1;
    }
    (VOID)WdkmKMutexRelease(Lock);
Out:
    return Status;
}

/* A loop: retry the try until it succeeds, skip the iteration otherwise. */
VOID
OkLoops(_Inout_ PWDKM_KMUTEX Lock, _In_ ULONG Rounds)
{
    OK_STATE *State;
    ULONG Round;

    for (Round = 0; Round < Rounds; Round += 1) {
        if (!WDKM_ACQUIRED(WDKM_KMUTEX_TRY_ACQUIRE(Lock, &State))) {
            continue;
        }
        State->Count += 1;
        (VOID)WdkmKMutexRelease(Lock);
    }
    while (!WDKM_ACQUIRED(WDKM_KMUTEX_TRY_ACQUIRE(Lock, &State))) {
        /* spin: the lock is held once the loop ends */
    }
    State->Count += 1;
    (VOID)WdkmKMutexRelease(Lock);
}

/* A try first, then a wait: each acquire tested right after it. */
NTSTATUS
OkTryThenWait(_Inout_ PWDKM_KMUTEX Lock, _Out_ BOOLEAN *Waited)
{
    LARGE_INTEGER Timeout;
    OK_STATE *State;
    NTSTATUS Status;

    *Waited = FALSE;
    Status = WDKM_KMUTEX_TRY_ACQUIRE(Lock, &State);
    if (!WDKM_ACQUIRED(Status)) {
        if (Status != STATUS_TIMEOUT) {
            return Status;
        }
        *Waited = TRUE;
        Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(10);
        Status = WDKM_KMUTEX_ACQUIRE_TIMEOUT(Lock, &Timeout, &State);
        if (!WDKM_ACQUIRED(Status)) {
            return Status;
        }
    }
    State->Count += 1;
    return WdkmKMutexRelease(Lock);
}

/* Alertable: the status may be STATUS_ALERTED; only success holds the lock. */
NTSTATUS
OkAlertable(_Inout_ PWDKM_KMUTEX Lock)
{
    OK_STATE *State;
    NTSTATUS Status;

    Status = WDKM_KMUTEX_ACQUIRE_ALERTABLE(Lock, KernelMode, NULL, &State);
    if (WDKM_ACQUIRED(Status)) {
        State->Count += 1;
        Status = WdkmKMutexRelease(Lock);
    }
    return Status;
}

/* Every kind. ------------------------------------------------------------ */

NTSTATUS
OkSpinLocks(_Inout_ PWDKM_SPIN_LOCK Lock, _Inout_ PWDKM_QUEUED_SPIN_LOCK Queued)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    OK_STATE *State;
    NTSTATUS Status;
    KIRQL OldIrql;

    Status = WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    State->Count += 1;
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);

    /* The hold is the handle: WdkmQueuedSpinLockRelease names only it. */
    Status = WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Queued, &Handle, &State);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    State->Count += 1;
    return WdkmQueuedSpinLockRelease(&Handle);
}

/* At DISPATCH_LEVEL already: a DPC, or under another spin lock. */
VOID
OkAtDpcLevel(_Inout_ PWDKM_SPIN_LOCK Outer, _Inout_ PWDKM_SPIN_LOCK Inner,
             _Inout_ PWDKM_QUEUED_SPIN_LOCK Queued)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    OK_STATE *State;
    OK_STATE *Nested;
    KIRQL OldIrql;

    if (!WDKM_ACQUIRED(WDKM_SPIN_LOCK_ACQUIRE(Outer, &OldIrql, &State))) {
        return;
    }
    if (WDKM_ACQUIRED(WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Inner, &Nested))) {
        Nested->Count = State->Count;
        (VOID)WdkmSpinLockReleaseFromDpcLevel(Inner);
    }
    if (WDKM_ACQUIRED(WDKM_QUEUED_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL(Queued, &Handle, &Nested))) {
        Nested->Count = State->Count;
        (VOID)WdkmQueuedSpinLockRelease(&Handle);
    }
    (VOID)WdkmSpinLockRelease(Outer, OldIrql);
}

VOID
OkGuardedMutex(_Inout_ PWDKM_GUARDED_MUTEX Lock)
{
    OK_STATE *State;

    if (WDKM_ACQUIRED(WDKM_GUARDED_MUTEX_ACQUIRE(Lock, &State))) {
        State->Count += 1;
        (VOID)WdkmGuardedMutexRelease(Lock);
    }
    if (WDKM_ACQUIRED(WDKM_GUARDED_MUTEX_TRY_ACQUIRE(Lock, &State))) {
        State->Count += 1;
        (VOID)WdkmGuardedMutexRelease(Lock);
    }
}

/* Reader/writer: shared holds read, exclusive ones write; one release. */
ULONG64
OkReaderWriter(_Inout_ PWDKM_RESOURCE Resource, _Inout_ PWDKM_PUSH_LOCK PushLock)
{
    const OK_STATE *Read;
    OK_STATE *Write;
    ULONG64 Bytes = 0;

    if (WDKM_ACQUIRED(WDKM_RESOURCE_ACQUIRE_SHARED(Resource, &Read))) {
        Bytes += Read->Bytes;
        (VOID)WdkmResourceRelease(Resource);
    }
    if (WDKM_ACQUIRED(WDKM_RESOURCE_TRY_ACQUIRE_SHARED(Resource, &Read))) {
        Bytes += Read->Bytes;
        (VOID)WdkmResourceRelease(Resource);
    }
    if (WDKM_ACQUIRED(WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Resource, &Write))) {
        Write->Count += 1;
        (VOID)WdkmResourceRelease(Resource);
    }
    if (WDKM_ACQUIRED(WDKM_RESOURCE_TRY_ACQUIRE_EXCLUSIVE(Resource, &Write))) {
        Write->Count += 1;
        (VOID)WdkmResourceRelease(Resource);
    }
    if (WDKM_ACQUIRED(WDKM_PUSH_LOCK_ACQUIRE_SHARED(PushLock, &Read))) {
        Bytes += Read->Bytes;
        (VOID)WdkmPushLockRelease(PushLock);
    }
    if (WDKM_ACQUIRED(WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(PushLock, &Write))) {
        Write->Count += 1;
        (VOID)WdkmPushLockRelease(PushLock);
    }
    return Bytes;
}

NTSTATUS
OkRegion(VOID)
{
    WDKM_REGION Region;
    NTSTATUS Status;

    Status = WdkmRegionEnterCritical(&Region);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    return WdkmRegionLeave(&Region);
}

/* Two locks, taken and released in either order. */
VOID
OkTwoLocks(_Inout_ PWDKM_KMUTEX First, _Inout_ PWDKM_FAST_MUTEX Second)
{
    OK_STATE *A;
    OK_STATE *B;

    if (!WDKM_ACQUIRED(WDKM_KMUTEX_ACQUIRE(First, &A))) {
        return;
    }
    if (WDKM_ACQUIRED(WDKM_FAST_MUTEX_ACQUIRE(Second, &B))) {
        B->Count = A->Count;
        (VOID)WdkmKMutexRelease(First);
        (VOID)WdkmFastMutexRelease(Second);
        return;
    }
    (VOID)WdkmKMutexRelease(First);
}

/* A driver's own helpers and wrappers. ------------------------------------ */

/* The caller holds the lock: the analysis checks every call. */
static VOID
OkCount(_Inout_ PWDKM_KMUTEX Lock, _Inout_ OK_STATE *State) WDKM_REQUIRES_LOCK_HELD(Lock);

static VOID
OkCount(_Inout_ PWDKM_KMUTEX Lock, _Inout_ OK_STATE *State)
{
    UNREFERENCED_PARAMETER(Lock);
    State->Count += 1;
}

/* Reading needs the lock at least shared. */
static ULONG64
OkBytes(_Inout_ PWDKM_RESOURCE Resource, _In_ const OK_STATE *State)
    WDKM_REQUIRES_SHARED_LOCK_HELD(Resource);

static ULONG64
OkBytes(_Inout_ PWDKM_RESOURCE Resource, _In_ const OK_STATE *State)
{
    UNREFERENCED_PARAMETER(Resource);
    return State->Bytes;
}

/* A wrapper that acquires for its caller: declared like the library's. */
static NTSTATUS
OkLockState(_Inout_ PWDKM_KMUTEX Lock, _Outptr_result_maybenull_ OK_STATE **State)
    WDKM_ACQUIRES_LOCK_ON_SUCCESS(Lock);

static NTSTATUS
OkLockState(_Inout_ PWDKM_KMUTEX Lock, _Outptr_result_maybenull_ OK_STATE **State)
{
    return WDKM_KMUTEX_ACQUIRE(Lock, State);
}

/* A wrapper that releases for its caller: the attribute on the definition. */
static VOID
OkUnlockState(_Inout_ PWDKM_KMUTEX Lock) WDKM_RELEASES_LOCK(Lock)
{
    (VOID)WdkmKMutexRelease(Lock);
}

ULONG64
OkHelpers(_Inout_ PWDKM_KMUTEX Lock, _Inout_ PWDKM_RESOURCE Resource)
{
    const OK_STATE *Read;
    OK_STATE *State;
    ULONG64 Bytes = 0;

    if (WDKM_ACQUIRED(OkLockState(Lock, &State))) {
        OkCount(Lock, State);
        OkUnlockState(Lock);
    }
    if (WDKM_ACQUIRED(WDKM_RESOURCE_ACQUIRE_SHARED(Resource, &Read))) {
        Bytes = OkBytes(Resource, Read);
        (VOID)WdkmResourceRelease(Resource);
    }
    return Bytes;
}

/* Lifetime, scoped forms and the registry. -------------------------------- */

/* Destroy and take need the lock not held: after the release they are fine. */
NTSTATUS
OkTakeAfterRelease(_Inout_ PWDKM_KMUTEX Lock, _Out_ OK_STATE *Final)
{
    OK_STATE *State;

    if (WDKM_ACQUIRED(WDKM_KMUTEX_ACQUIRE(Lock, &State))) {
        State->Count += 1;
        (VOID)WdkmKMutexRelease(Lock);
    }
    return WDKM_KMUTEX_TAKE(Lock, Final);
}

/* The scoped forms are not annotated: no false error, whatever the exit. */
NTSTATUS
OkScoped(_Inout_ PWDKM_KMUTEX Lock, _Inout_ PWDKM_RESOURCE Resource)
{
    const OK_STATE *Read;
    OK_STATE *State;
    NTSTATUS Status;

    WDKM_KMUTEX_SCOPED(Lock, State, &Status) {
        State->Count += 1;
    }
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    WDKM_RESOURCE_SHARED_SCOPED(Resource, Read, &Status) {
        if (Read->Count == 0) {
            continue;                  /* leaves the scope, releasing */
        }
    }
    return Status;
}

/* A registry lookup is a reference, not a hold; the acquire is as usual. */
NTSTATUS
OkRegistry(VOID)
{
    PWDKM_KMUTEX Lock;
    OK_STATE *State;
    NTSTATUS Status;

    Status = WDKM_GRT_GET_KMUTEX("ok", OK_STATE, &Lock);
    if (Status != STATUS_SUCCESS) {
        return Status;
    }
    Status = WDKM_KMUTEX_ACQUIRE(Lock, &State);
    if (WDKM_ACQUIRED(Status)) {
        State->Count += 1;
        Status = WdkmKMutexRelease(Lock);
    }
    (VOID)WdkmGrtDereference(Lock);
    WDKM_GRT_KMUTEX_SCOPED("ok", State, &Status) {
        State->Count += 1;
    }
    return Status;
}

/* Callback forms (..._OR_BUGCHECK): always held on return, nothing to test.
   In a DPC (KDEFERRED_ROUTINE's shape), a cancel or a cleanup routine. */
VOID
OkCallbackForms(_Inout_ PWDKM_SPIN_LOCK Lock, _Inout_ PWDKM_QUEUED_SPIN_LOCK Queued,
                _Inout_ PWDKM_RESOURCE Resource, _Inout_ PWDKM_KMUTEX Mutex)
{
    WDKM_LOCK_QUEUE_HANDLE Handle;
    OK_STATE *State;
    const OK_STATE *Read;
    KIRQL OldIrql;

    WDKM_SPIN_LOCK_ACQUIRE_AT_DPC_LEVEL_OR_BUGCHECK(Lock, &State);
    State->Count += 1;
    (VOID)WdkmSpinLockReleaseFromDpcLevel(Lock);

    State = (OK_STATE *)WdkmSpinLockAcquireOrBugCheck(Lock, sizeof(OK_STATE), &OldIrql, NULL);
    State->Count += 1;
    (VOID)WdkmSpinLockRelease(Lock, OldIrql);

    WDKM_QUEUED_SPIN_LOCK_ACQUIRE_OR_BUGCHECK(Queued, &Handle, &State);
    State->Count += 1;
    (VOID)WdkmQueuedSpinLockRelease(&Handle);

    WDKM_RESOURCE_ACQUIRE_SHARED_OR_BUGCHECK(Resource, &Read);
    State->Bytes = Read->Bytes;
    (VOID)WdkmResourceRelease(Resource);

    WDKM_KMUTEX_ACQUIRE_OR_BUGCHECK(Mutex, &State);
    State->Count += 1;
    (VOID)WdkmKMutexRelease(Mutex);
}
