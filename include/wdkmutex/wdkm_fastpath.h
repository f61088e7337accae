/*
 * wdkm_fastpath.h - PRIVATE. The common acquire and release of each lock
 * kind, compiled into the driver's own code. Not part of the documented
 * API: wdkmutex.h includes it in release builds (WDKM_INLINE_FAST_PATHS,
 * wdkm_config.h) and a driver never includes it itself.
 *
 * Each public function named here keeps its exported, out-of-line
 * definition (the library's, which a function pointer still reaches); a
 * call of it in the driver's source goes through the macro below to an
 * inline twin instead. The twin makes the out-of-line function's checks,
 * and only for the case every call takes (a valid handle of its kind, the
 * right type size, an IRQL at which the hold nests in none of the
 * caller's, the caller not the owner) calls the kernel itself and keeps
 * the same records the library keeps. Every other case (an error, a
 * nested hold, a recursive KMUTEX) is passed whole to the out-of-line
 * function, which checks again from the start and answers with the
 * documented status: the twin only ever goes ahead where the library
 * would, and does there exactly what the library does. So every promise
 * and status of the public function holds, and the common pair costs the
 * checks and the kernel's calls, without the two calls and their frames.
 *
 * The twins read and write the lock blocks (wdkm_layout.h), which is why
 * the library and every driver that uses it must be built alike: both
 * release (WDKM_CHECKED 0), as wdkm_config.h already requires.
 */
#ifndef WDKM_FASTPATH_H
#define WDKM_FASTPATH_H

#include "wdkm_layout.h"

/*
 * A call of the library for a case the twin leaves to it, reading the
 * layout's symbol on the way (WdkmpLayout: a library of the other build
 * does not link). Only this rare path pays the read.
 */
#define WdkmpFastSlow(Call) ((VOID)WdkmpLayout, (Call))

/*
 * A check the common case passes: the compiler keeps the code that
 * follows on the straight line and moves the rare path out of it (a taken
 * branch or two per pair otherwise, a measurable part of a spin lock's).
 */
#define WdkmpFastOk(Condition) (!WDKMP_RARELY(!(Condition)))

/*
 * The checks every fast acquisition makes; TRUE to go ahead. Below is the
 * lowest IRQL at which the out-of-line acquire would do more than the
 * fast path (refuse, or count a nested hold). The thread is read last, so
 * that only the lock stays live across the kernel call.
 */
WDKMP_INLINE
BOOLEAN
WdkmpFastAcquireChecks(
    _In_ const WDKMP_LOCK_HEADER *Header,
    _In_ ULONG Signature,
    _In_ SIZE_T DataSize,
    _In_ KIRQL Below
    )
{
    return WdkmpFastOk(Header->Signature == Signature) && WdkmpFastOk(WdkmpGetIrql() < Below) &&
           WdkmpFastOk(Header->DataSize == DataSize) &&
           WdkmpFastOk(WdkmpLoadThread(&Header->Owner) != WdkmpCurrentThread());
}

/*
 * A release's checks once the kind is known: the caller (Self, the current
 * thread) the owner, at the IRQL the acquisition left it at.
 */
WDKMP_INLINE
BOOLEAN
WdkmpFastOwnerChecks(
    _In_ const WDKMP_LOCK_HEADER *Header,
    _In_ WDKMP_THREAD Self
    )
{
    return WdkmpFastOk(WdkmpLoadThread(&Header->Owner) == Self) &&
           WdkmpFastOk(WdkmpGetIrql() == Header->HeldIrql);
}

/* The checks every fast release makes; TRUE to go ahead. */
WDKMP_INLINE
BOOLEAN
WdkmpFastReleaseChecks(
    _In_ const WDKMP_LOCK_HEADER *Header,
    _In_ ULONG Signature
    )
{
    return WdkmpFastOk(Header->Signature == Signature) &&
           WdkmpFastOwnerChecks(Header, WdkmpCurrentThread());
}

/*
 * The checks of a fast release that lowers the IRQL (the kinds that raise
 * it); TRUE to go ahead: those of every release, and that the release of
 * this hold may lower it, that is, the hold is a plain one (not nested,
 * taken by a form that raised: How, one word) and the caller holds no
 * nested one either (the one-load test of WdkmpNestBlocksLowering: no
 * counted holds in the caller's shard). The thread is read once, for the
 * owner check and the shard, and only once the kind is known (read
 * earlier, it stays live across the test and costs a register).
 */
WDKMP_INLINE
BOOLEAN
WdkmpFastLoweringReleaseChecks(
    _In_ const WDKMP_LOCK_HEADER *Header,
    _In_ ULONG Signature
    )
{
    WDKMP_THREAD Self;

    if (!WdkmpFastOk(Header->Signature == Signature)) {
        return FALSE;
    }
    Self = WdkmpCurrentThread();
    return WdkmpFastOwnerChecks(Header, Self) && WdkmpFastOk(Header->How.HoldWord == 0) &&
           WdkmpFastOk(WdkmpLoadLong(&WdkmpNestShard(Self)->Holds) == 0);
}

/*
 * An acquisition of a NULL handle, answered here as the library answers
 * it (*Data cleared): then the compiler knows, wherever an acquisition
 * succeeded, that the handle is not NULL, and the release's own test of
 * it folds away.
 */
WDKMP_INLINE
NTSTATUS
WdkmpFastNullLock(
    _Out_ PVOID *Data
    )
{
    *Data = NULL;
    return STATUS_INVALID_PARAMETER;
}

/*
 * What the library records once an exclusive, plain hold is taken. How,
 * which a plain hold needs 0 (not nested, the raising form), is 0 already:
 * every release leaves it so (WdkmpNestLeave).
 */
WDKMP_INLINE
VOID
WdkmpFastTakeOwnership(
    _Inout_ PWDKMP_LOCK_HEADER Header
    )
{
    WdkmpStoreThread(&Header->Owner, WdkmpCurrentThread());
    Header->HeldIrql = WdkmpGetIrql();
}

/* ------------------------------------------------------------------------
 * WDKM_SPIN_LOCK
 */

_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
_When_(return == 0, _IRQL_raises_(DISPATCH_LEVEL) _Acquires_lock_(*SpinLock))
WDKMP_INLINE
NTSTATUS
WdkmpSpinLockAcquireFast(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PKIRQL OldIrql,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(SpinLock);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
_When_(return == 0, _IRQL_raises_(DISPATCH_LEVEL) _Acquires_lock_(*SpinLock))
WDKMP_INLINE
NTSTATUS
WdkmpSpinLockAcquireFast(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PKIRQL OldIrql,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    if (OldIrql == NULL || Data == NULL) {
        return WdkmpFastSlow((WdkmSpinLockAcquire)(SpinLock, DataSize, OldIrql, Data));
    }
    if (SpinLock == NULL) {
        return WdkmpFastNullLock(Data);
    }
    if (!WdkmpFastAcquireChecks(&SpinLock->Header, WDKMP_SIGNATURE_SPIN_LOCK, DataSize,
                                DISPATCH_LEVEL)) {
        /* The library's answer through a local, so that the caller's data
           pointer need not live in memory across the common pair (a store
           and a reload the spin lock's pair measurably paid). Every status
           sets it, so the copy leaves nothing unset. *OldIrql keeps its
           address: a refusal must leave a saved IRQL as it was. */
        PVOID Given;
        NTSTATUS Status;

        Status = WdkmpFastSlow((WdkmSpinLockAcquire)(SpinLock, DataSize, OldIrql, &Given));
        *Data = Given;
        return Status;
    }
    *Data = SpinLock->Header.Data;
    *OldIrql = WdkmpSpinLockAcquire(&SpinLock->SpinLock);
    WdkmpFastTakeOwnership(&SpinLock->Header);
    return STATUS_SUCCESS;
}

_IRQL_requires_(DISPATCH_LEVEL)
_Releases_lock_(*SpinLock)
WDKMP_INLINE
NTSTATUS
WdkmpSpinLockReleaseFast(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ KIRQL OldIrql
    ) WDKM_RELEASES_LOCK(SpinLock);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_IRQL_requires_(DISPATCH_LEVEL)
_Releases_lock_(*SpinLock)
WDKMP_INLINE
NTSTATUS
WdkmpSpinLockReleaseFast(
    _Inout_ PWDKM_SPIN_LOCK SpinLock,
    _In_ KIRQL OldIrql
    )
{
    if (SpinLock == NULL || !WdkmpFastOk(OldIrql < DISPATCH_LEVEL) ||
        !WdkmpFastLoweringReleaseChecks(&SpinLock->Header, WDKMP_SIGNATURE_SPIN_LOCK)) {
        return WdkmpFastSlow((WdkmSpinLockRelease)(SpinLock, OldIrql));
    }
    WdkmpStoreThread(&SpinLock->Header.Owner, NULL);
    WdkmpSpinLockRelease(&SpinLock->SpinLock, OldIrql);
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * WDKM_QUEUED_SPIN_LOCK
 */

_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
_When_(return == 0, _IRQL_raises_(DISPATCH_LEVEL) _Acquires_lock_(*Handle)
                     _Post_same_lock_(*SpinLock, *Handle))
WDKMP_INLINE
NTSTATUS
WdkmpQueuedSpinLockAcquireFast(
    _Inout_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PWDKM_LOCK_QUEUE_HANDLE Handle,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Handle);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
_When_(return == 0, _IRQL_raises_(DISPATCH_LEVEL) _Acquires_lock_(*Handle)
                     _Post_same_lock_(*SpinLock, *Handle))
WDKMP_INLINE
NTSTATUS
WdkmpQueuedSpinLockAcquireFast(
    _Inout_ PWDKM_QUEUED_SPIN_LOCK SpinLock,
    _In_ SIZE_T DataSize,
    _Out_ PWDKM_LOCK_QUEUE_HANDLE Handle,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    if (Handle == NULL || Data == NULL) {
        return WdkmpFastSlow((WdkmQueuedSpinLockAcquire)(SpinLock, DataSize, Handle, Data));
    }
    if (SpinLock == NULL) {
        Handle->Lock = NULL;        /* describes no hold, as after any refusal */
        return WdkmpFastNullLock(Data);
    }
    if (!WdkmpFastAcquireChecks(&SpinLock->Header, WDKMP_SIGNATURE_QUEUED, DataSize,
                                DISPATCH_LEVEL)) {
        return WdkmpFastSlow((WdkmQueuedSpinLockAcquire)(SpinLock, DataSize, Handle, Data));
    }
    *Data = SpinLock->Header.Data;
    WdkmpQueuedSpinLockAcquire(&SpinLock->SpinLock, &Handle->Kernel, FALSE);
    WdkmpFastTakeOwnership(&SpinLock->Header);
    SpinLock->HeldBy = (ULONG_PTR)Handle;
    Handle->Lock = SpinLock;
    return STATUS_SUCCESS;
}

_IRQL_requires_(DISPATCH_LEVEL)
_Releases_lock_(*Handle)
WDKMP_INLINE
NTSTATUS
WdkmpQueuedSpinLockReleaseFast(
    _Inout_ PWDKM_LOCK_QUEUE_HANDLE Handle
    ) WDKM_RELEASES_LOCK(Handle);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_IRQL_requires_(DISPATCH_LEVEL)
_Releases_lock_(*Handle)
WDKMP_INLINE
NTSTATUS
WdkmpQueuedSpinLockReleaseFast(
    _Inout_ PWDKM_LOCK_QUEUE_HANDLE Handle
    )
{
    PWDKM_QUEUED_SPIN_LOCK SpinLock = Handle != NULL ? Handle->Lock : NULL;

    if (SpinLock == NULL ||
        !WdkmpFastLoweringReleaseChecks(&SpinLock->Header, WDKMP_SIGNATURE_QUEUED) ||
        !WdkmpFastOk(SpinLock->HeldBy == (ULONG_PTR)Handle)) {
        return WdkmpFastSlow((WdkmQueuedSpinLockRelease)(Handle));
    }
    WdkmpStoreThread(&SpinLock->Header.Owner, NULL);
    Handle->Lock = NULL;
    WdkmpQueuedSpinLockRelease(&Handle->Kernel, FALSE);
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * WDKM_FAST_MUTEX
 */

_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _IRQL_raises_(APC_LEVEL) _IRQL_saves_global_(OldIrql, FastMutex))
_When_(return == 0, _Acquires_lock_(*FastMutex))
WDKMP_INLINE
NTSTATUS
WdkmpFastMutexAcquireFast(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(FastMutex);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _IRQL_raises_(APC_LEVEL) _IRQL_saves_global_(OldIrql, FastMutex))
_When_(return == 0, _Acquires_lock_(*FastMutex))
WDKMP_INLINE
NTSTATUS
WdkmpFastMutexAcquireFast(
    _Inout_ PWDKM_FAST_MUTEX FastMutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    if (Data == NULL) {
        return WdkmpFastSlow((WdkmFastMutexAcquire)(FastMutex, DataSize, Data));
    }
    if (FastMutex == NULL) {
        return WdkmpFastNullLock(Data);
    }
    if (!WdkmpFastAcquireChecks(&FastMutex->Header, WDKMP_SIGNATURE_FAST_MUTEX, DataSize, APC_LEVEL)) {
        return WdkmpFastSlow((WdkmFastMutexAcquire)(FastMutex, DataSize, Data));
    }
    *Data = FastMutex->Header.Data;
    WdkmpFastMutexAcquire(&FastMutex->FastMutex);
    WdkmpFastTakeOwnership(&FastMutex->Header);
    return STATUS_SUCCESS;
}

_IRQL_requires_(APC_LEVEL)
_IRQL_restores_global_(OldIrql, FastMutex)
_Releases_lock_(*FastMutex)
WDKMP_INLINE
NTSTATUS
WdkmpFastMutexReleaseFast(
    _Inout_ PWDKM_FAST_MUTEX FastMutex
    ) WDKM_RELEASES_LOCK(FastMutex);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_IRQL_requires_(APC_LEVEL)
_IRQL_restores_global_(OldIrql, FastMutex)
_Releases_lock_(*FastMutex)
WDKMP_INLINE
NTSTATUS
WdkmpFastMutexReleaseFast(
    _Inout_ PWDKM_FAST_MUTEX FastMutex
    )
{
    if (FastMutex == NULL ||
        !WdkmpFastLoweringReleaseChecks(&FastMutex->Header, WDKMP_SIGNATURE_FAST_MUTEX)) {
        return WdkmpFastSlow((WdkmFastMutexRelease)(FastMutex));
    }
    WdkmpStoreThread(&FastMutex->Header.Owner, NULL);
    WdkmpFastMutexRelease(&FastMutex->FastMutex);
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * WDKM_GUARDED_MUTEX (the kernel's routines are looked up at run time: the
 * port's calls stay out of line)
 */

_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_lock_(*Mutex))
WDKMP_INLINE
NTSTATUS
WdkmpGuardedMutexAcquireFast(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Mutex);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_lock_(*Mutex))
WDKMP_INLINE
NTSTATUS
WdkmpGuardedMutexAcquireFast(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    if (Data == NULL) {
        return WdkmpFastSlow((WdkmGuardedMutexAcquire)(Mutex, DataSize, Data));
    }
    if (Mutex == NULL) {
        return WdkmpFastNullLock(Data);
    }
    /* At APC_LEVEL the hold nests in the caller's (counted): the library's. */
    if (!WdkmpFastAcquireChecks(&Mutex->Header, WDKMP_SIGNATURE_GUARDED, DataSize, APC_LEVEL)) {
        return WdkmpFastSlow((WdkmGuardedMutexAcquire)(Mutex, DataSize, Data));
    }
    *Data = Mutex->Header.Data;
    WdkmpGuardedMutexAcquire(&Mutex->Mutex);
    /* A guarded mutex leaves the IRQL alone: HeldIrql is the caller's. */
    WdkmpStoreThread(&Mutex->Header.Owner, WdkmpCurrentThread());
    Mutex->Header.HeldIrql = WdkmpGetIrql();
    return STATUS_SUCCESS;
}

_IRQL_requires_max_(APC_LEVEL)
_Releases_lock_(*Mutex)
WDKMP_INLINE
NTSTATUS
WdkmpGuardedMutexReleaseFast(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex
    ) WDKM_RELEASES_LOCK(Mutex);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_IRQL_requires_max_(APC_LEVEL)
_Releases_lock_(*Mutex)
WDKMP_INLINE
NTSTATUS
WdkmpGuardedMutexReleaseFast(
    _Inout_ PWDKM_GUARDED_MUTEX Mutex
    )
{
    /*
     * The fast release is the one of a hold taken and released at
     * PASSIVE_LEVEL: a guarded mutex's hold is counted (nested, uncounted
     * by the library) exactly when it was taken at APC_LEVEL, so one test
     * of both IRQLs stands for the release's IRQL check and that one.
     */
    if (Mutex == NULL || !WdkmpFastOk(Mutex->Header.Signature == WDKMP_SIGNATURE_GUARDED) ||
        !WdkmpFastOk(WdkmpLoadThread(&Mutex->Header.Owner) == WdkmpCurrentThread()) ||
        !WdkmpFastOk((WdkmpGetIrql() | Mutex->Header.HeldIrql) == PASSIVE_LEVEL)) {
        return WdkmpFastSlow((WdkmGuardedMutexRelease)(Mutex));
    }
    WdkmpStoreThread(&Mutex->Header.Owner, NULL);
    WdkmpGuardedMutexRelease(&Mutex->Mutex);
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * WDKM_KMUTEX: the first, non-recursive acquisition below DISPATCH_LEVEL
 */

_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_lock_(*Mutex))
WDKMP_INLINE
NTSTATUS
WdkmpKMutexAcquireFast(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Mutex);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_lock_(*Mutex))
WDKMP_INLINE
NTSTATUS
WdkmpKMutexAcquireFast(
    _Inout_ PWDKM_KMUTEX Mutex,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    KIRQL Irql;

    if (Data == NULL) {
        return WdkmpFastSlow((WdkmKMutexAcquire)(Mutex, DataSize, Data));
    }
    if (Mutex == NULL) {
        return WdkmpFastNullLock(Data);
    }
    if (!WdkmpFastAcquireChecks(&Mutex->Header, WDKMP_SIGNATURE_KMUTEX, DataSize, DISPATCH_LEVEL)) {
        return WdkmpFastSlow((WdkmKMutexAcquire)(Mutex, DataSize, Data));
    }
    (VOID)WdkmpKMutexWait(&Mutex->Mutex, KernelMode, FALSE, NULL);  /* no timeout: held */
    if (WdkmpKMutexHeldBefore(&Mutex->Mutex)) {
        /*
         * Granted recursively although the caller is not the owner: a DPC
         * or special kernel APC interrupted its own thread's hold at its
         * edge (see WdkmpKMutexAcquire). Give the extra grant back.
         */
        WdkmpKMutexRelease(&Mutex->Mutex);
        *Data = NULL;
        return STATUS_POSSIBLE_DEADLOCK;
    }
    /* Depth and HeldIrql before the owner is published, for a DPC. */
    Irql = WdkmpGetIrql();
    Mutex->Header.HeldIrql = Irql;
    Mutex->Depth = 1;
    WdkmpStorePointerRelease((PVOID volatile *)&Mutex->Header.Owner, WdkmpCurrentThread());
    *Data = Mutex->Header.Data;
    return STATUS_SUCCESS;
}

_IRQL_requires_max_(DISPATCH_LEVEL)
_Releases_lock_(*Mutex)
WDKMP_INLINE
NTSTATUS
WdkmpKMutexReleaseFast(
    _Inout_ PWDKM_KMUTEX Mutex
    ) WDKM_RELEASES_LOCK(Mutex);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_IRQL_requires_max_(DISPATCH_LEVEL)
_Releases_lock_(*Mutex)
WDKMP_INLINE
NTSTATUS
WdkmpKMutexReleaseFast(
    _Inout_ PWDKM_KMUTEX Mutex
    )
{
    /* The outermost hold, released at the IRQL it was taken at (then in its
       IRQL class, as the library asks). */
    if (Mutex == NULL || !WdkmpFastReleaseChecks(&Mutex->Header, WDKMP_SIGNATURE_KMUTEX) ||
        Mutex->Depth != 1) {
        return WdkmpFastSlow((WdkmKMutexRelease)(Mutex));
    }
    Mutex->Depth = 0;
    WdkmpStoreThread(&Mutex->Header.Owner, NULL);
    WdkmpKMutexRelease(&Mutex->Mutex);
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * WDKM_RESOURCE and WDKM_PUSH_LOCK: the first exclusive hold, where no
 * thread holds the lock shared (the shared holder asking for exclusive is
 * the library's to refuse), inside the critical region both are held in
 */

_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_exclusive_lock_(*Resource))
WDKMP_INLINE
NTSTATUS
WdkmpResourceAcquireExclusiveFast(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(Resource);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_exclusive_lock_(*Resource))
WDKMP_INLINE
NTSTATUS
WdkmpResourceAcquireExclusiveFast(
    _Inout_ PWDKM_RESOURCE Resource,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    if (Data == NULL) {
        return WdkmpFastSlow((WdkmResourceAcquireExclusive)(Resource, DataSize, Data));
    }
    if (Resource == NULL) {
        return WdkmpFastNullLock(Data);
    }
    if (!WdkmpFastAcquireChecks(&Resource->Header, WDKMP_SIGNATURE_RESOURCE, DataSize, DISPATCH_LEVEL) ||
        WdkmpLoadLong(&Resource->Header.SharedHolders) != 0) {
        return WdkmpFastSlow((WdkmResourceAcquireExclusive)(Resource, DataSize, Data));
    }
    WdkmpEnterRegion(FALSE);
    (VOID)WdkmpResourceAcquire(&Resource->Resource, TRUE, TRUE);   /* waits: held */
    /* The depth before the owner is published, added to, as the library does. */
    Resource->ExclusiveDepth += 1;
    WdkmpStorePointerRelease((PVOID volatile *)&Resource->Header.Owner, WdkmpCurrentThread());
    *Data = Resource->Header.Data;
    return STATUS_SUCCESS;
}

_IRQL_requires_max_(APC_LEVEL)
_Releases_lock_(*Resource)
WDKMP_INLINE
NTSTATUS
WdkmpResourceReleaseFast(
    _Inout_ PWDKM_RESOURCE Resource
    ) WDKM_RELEASES_LOCK(Resource);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_IRQL_requires_max_(APC_LEVEL)
_Releases_lock_(*Resource)
WDKMP_INLINE
NTSTATUS
WdkmpResourceReleaseFast(
    _Inout_ PWDKM_RESOURCE Resource
    )
{
    /* HeldIrql stays PASSIVE_LEVEL for this kind: the check asks for it. */
    if (Resource == NULL || !WdkmpFastReleaseChecks(&Resource->Header, WDKMP_SIGNATURE_RESOURCE) ||
        Resource->ExclusiveDepth != 1) {
        return WdkmpFastSlow((WdkmResourceRelease)(Resource));
    }
    Resource->ExclusiveDepth = 0;
    WdkmpStoreThread(&Resource->Header.Owner, NULL);
    WdkmpResourceRelease(&Resource->Resource);
    WdkmpLeaveRegion(FALSE);
    return STATUS_SUCCESS;
}

_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_exclusive_lock_(*PushLock))
WDKMP_INLINE
NTSTATUS
WdkmpPushLockAcquireExclusiveFast(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    ) WDKM_ACQUIRES_LOCK_ON_SUCCESS(PushLock);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
_When_(return == 0, _Acquires_exclusive_lock_(*PushLock))
WDKMP_INLINE
NTSTATUS
WdkmpPushLockAcquireExclusiveFast(
    _Inout_ PWDKM_PUSH_LOCK PushLock,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data
    )
{
    if (Data == NULL) {
        return WdkmpFastSlow((WdkmPushLockAcquireExclusive)(PushLock, DataSize, Data));
    }
    if (PushLock == NULL) {
        return WdkmpFastNullLock(Data);
    }
    if (!WdkmpFastAcquireChecks(&PushLock->Header, WDKMP_SIGNATURE_PUSH_LOCK, DataSize, DISPATCH_LEVEL) ||
        WdkmpLoadLong(&PushLock->Header.SharedHolders) != 0) {
        return WdkmpFastSlow((WdkmPushLockAcquireExclusive)(PushLock, DataSize, Data));
    }
    WdkmpEnterRegion(FALSE);
    WdkmpPushLockAcquire(&PushLock->PushLock, TRUE);
    WdkmpStoreThread(&PushLock->Header.Owner, WdkmpCurrentThread());
    *Data = PushLock->Header.Data;
    return STATUS_SUCCESS;
}

_IRQL_requires_max_(APC_LEVEL)
_Releases_lock_(*PushLock)
WDKMP_INLINE
NTSTATUS
WdkmpPushLockReleaseFast(
    _Inout_ PWDKM_PUSH_LOCK PushLock
    ) WDKM_RELEASES_LOCK(PushLock);

WDKM_NO_THREAD_SAFETY_ANALYSIS
_IRQL_requires_max_(APC_LEVEL)
_Releases_lock_(*PushLock)
WDKMP_INLINE
NTSTATUS
WdkmpPushLockReleaseFast(
    _Inout_ PWDKM_PUSH_LOCK PushLock
    )
{
    /* HeldIrql stays PASSIVE_LEVEL for this kind: the check asks for it. */
    if (PushLock == NULL ||
        !WdkmpFastReleaseChecks(&PushLock->Header, WDKMP_SIGNATURE_PUSH_LOCK)) {
        return WdkmpFastSlow((WdkmPushLockRelease)(PushLock));
    }
    WdkmpStoreThread(&PushLock->Header.Owner, NULL);
    WdkmpPushLockRelease(&PushLock->PushLock, TRUE);
    WdkmpLeaveRegion(FALSE);
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * The public names, in the driver's source, reach the twins. A function
 * pointer (no parentheses after the name) still reaches the library's.
 */
#define WdkmSpinLockAcquire(SpinLock, DataSize, OldIrql, Data) \
    WdkmpSpinLockAcquireFast((SpinLock), (DataSize), (OldIrql), (Data))
#define WdkmSpinLockRelease(SpinLock, OldIrql) \
    WdkmpSpinLockReleaseFast((SpinLock), (OldIrql))
#define WdkmQueuedSpinLockAcquire(SpinLock, DataSize, Handle, Data) \
    WdkmpQueuedSpinLockAcquireFast((SpinLock), (DataSize), (Handle), (Data))
#define WdkmQueuedSpinLockRelease(Handle) \
    WdkmpQueuedSpinLockReleaseFast((Handle))
#define WdkmFastMutexAcquire(FastMutex, DataSize, Data) \
    WdkmpFastMutexAcquireFast((FastMutex), (DataSize), (Data))
#define WdkmFastMutexRelease(FastMutex) \
    WdkmpFastMutexReleaseFast((FastMutex))
#define WdkmGuardedMutexAcquire(Mutex, DataSize, Data) \
    WdkmpGuardedMutexAcquireFast((Mutex), (DataSize), (Data))
#define WdkmGuardedMutexRelease(Mutex) \
    WdkmpGuardedMutexReleaseFast((Mutex))
#define WdkmKMutexAcquire(Mutex, DataSize, Data) \
    WdkmpKMutexAcquireFast((Mutex), (DataSize), (Data))
#define WdkmKMutexRelease(Mutex) \
    WdkmpKMutexReleaseFast((Mutex))
#define WdkmResourceAcquireExclusive(Resource, DataSize, Data) \
    WdkmpResourceAcquireExclusiveFast((Resource), (DataSize), (Data))
#define WdkmResourceRelease(Resource) \
    WdkmpResourceReleaseFast((Resource))
#define WdkmPushLockAcquireExclusive(PushLock, DataSize, Data) \
    WdkmpPushLockAcquireExclusiveFast((PushLock), (DataSize), (Data))
#define WdkmPushLockRelease(PushLock) \
    WdkmpPushLockReleaseFast((PushLock))

#endif /* WDKM_FASTPATH_H */
