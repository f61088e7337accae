/*
 * pushlock.c - EX_PUSH_LOCK: the kernel's slim reader/writer lock.
 *
 * NT keeps a push lock's whole state in its one word and its waiters in
 * wait blocks chained from it; it records no owners, so a recursive
 * acquisition simply deadlocks. The emulation keeps the state of every
 * held or waited-for push lock in a side table keyed by the lock's address
 * (an entry exists only while the lock is in use, so nothing needs to be
 * freed when a driver frees a push lock), with its owners, which is what
 * lets it report recursion and foreign releases. It mirrors the state into
 * the word as NT lays it out (bit 0 locked, bit 1 waiters, shared count
 * from bit 4), so the word reads 0 whenever the lock is free, and a word
 * that does not match the table (overwritten while in use, or never
 * initialised) is reported.
 *
 * Waiters queue in arrival order and the releaser hands the lock over: to
 * the first waiter if it wants exclusive access, else to the run of
 * shared waiters at the head. A shared acquirer queues behind any waiter.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include "hostp.h"

#define HOSTP_PUSH_LOCK_LOCKED     ((ULONG_PTR)0x1)
#define HOSTP_PUSH_LOCK_WAITING    ((ULONG_PTR)0x2)
#define HOSTP_PUSH_LOCK_SHARE_SHIFT 4

#define HOSTP_PUSH_LOCK_BUCKETS 256

typedef enum _HOSTP_RELEASE_KIND {
    HostpReleaseAny,
    HostpReleaseExclusive,
    HostpReleaseShared
} HOSTP_RELEASE_KIND;

typedef struct _HOSTP_PUSH_LOCK {
    struct _HOSTP_PUSH_LOCK *HashNext;
    PEX_PUSH_LOCK PushLock;
    PKTHREAD Exclusive;             /* the exclusive owner, or NULL */
    ULONG SharedCount;              /* shared owners in Shared */
    ULONG SharedCapacity;
    PKTHREAD *Shared;
    LIST_ENTRY Waiters;             /* HOSTP_LOCK_WAITERs, arrival order */
} HOSTP_PUSH_LOCK, *PHOSTP_PUSH_LOCK;

/* Dispatcher lock. */
static PHOSTP_PUSH_LOCK HostpPushLocks[HOSTP_PUSH_LOCK_BUCKETS];

/* ---------------------------------------------------------------------- */
/* Side table (dispatcher lock held)                                       */
/* ---------------------------------------------------------------------- */

static PHOSTP_PUSH_LOCK *HostpBucket(PEX_PUSH_LOCK PushLock)
{
    ULONG_PTR Value = (ULONG_PTR)PushLock >> 3;
    return &HostpPushLocks[(Value ^ (Value >> 8) ^ (Value >> 16)) % HOSTP_PUSH_LOCK_BUCKETS];
}

static PHOSTP_PUSH_LOCK HostpFind(PEX_PUSH_LOCK PushLock)
{
    PHOSTP_PUSH_LOCK Lock = *HostpBucket(PushLock);

    while (Lock != NULL && Lock->PushLock != PushLock) {
        Lock = Lock->HashNext;
    }
    return Lock;
}

/* The emulation cannot go on without the entry: out of memory ends it. */
static PHOSTP_PUSH_LOCK HostpCreate(PEX_PUSH_LOCK PushLock)
{
    PHOSTP_PUSH_LOCK *Bucket = HostpBucket(PushLock);
    PHOSTP_PUSH_LOCK Lock = (PHOSTP_PUSH_LOCK)calloc(1, sizeof(*Lock));

    if (Lock == NULL) {
        fputs("wdkm host: out of memory for a push lock entry\n", stderr);
        abort();
    }
    Lock->PushLock = PushLock;
    InitializeListHead(&Lock->Waiters);
    Lock->HashNext = *Bucket;
    *Bucket = Lock;
    return Lock;
}

static VOID HostpDestroy(PHOSTP_PUSH_LOCK Lock)
{
    PHOSTP_PUSH_LOCK *Link = HostpBucket(Lock->PushLock);

    while (*Link != Lock) {
        Link = &(*Link)->HashNext;
    }
    *Link = Lock->HashNext;
    free(Lock->Shared);
    free(Lock);
}

/* The word NT would hold for this state. */
static ULONG_PTR HostpWord(const HOSTP_PUSH_LOCK *Lock)
{
    ULONG_PTR Word = 0;

    if (Lock == NULL) {
        return 0;
    }
    if (Lock->Exclusive != NULL) {
        Word = HOSTP_PUSH_LOCK_LOCKED;
    } else if (Lock->SharedCount != 0) {
        Word = HOSTP_PUSH_LOCK_LOCKED | ((ULONG_PTR)Lock->SharedCount << HOSTP_PUSH_LOCK_SHARE_SHIFT);
    }
    if (!IsListEmpty(&Lock->Waiters)) {
        Word |= HOSTP_PUSH_LOCK_WAITING;
    }
    return Word;
}

static VOID HostpStoreWord(PEX_PUSH_LOCK PushLock, ULONG_PTR Word)
{
    __atomic_store_n(PushLock, Word, __ATOMIC_RELAXED);
}

/* Index of Thread among the shared owners, or -1. */
static LONG HostpSharedIndex(const HOSTP_PUSH_LOCK *Lock, PKTHREAD Thread)
{
    for (ULONG Index = 0; Index < Lock->SharedCount; Index++) {
        if (Lock->Shared[Index] == Thread) {
            return (LONG)Index;
        }
    }
    return -1;
}

static VOID HostpAddOwner(PHOSTP_PUSH_LOCK Lock, PKTHREAD Thread, BOOLEAN Exclusive)
{
    if (Exclusive) {
        Lock->Exclusive = Thread;
        return;
    }
    if (Lock->SharedCount == Lock->SharedCapacity) {
        ULONG Capacity = Lock->SharedCapacity == 0 ? 4 : Lock->SharedCapacity * 2;
        PKTHREAD *Shared = (PKTHREAD *)realloc(Lock->Shared, Capacity * sizeof(*Shared));
        if (Shared == NULL) {
            fputs("wdkm host: out of memory for push lock owners\n", stderr);
            abort();
        }
        Lock->Shared = Shared;
        Lock->SharedCapacity = Capacity;
    }
    Lock->Shared[Lock->SharedCount++] = Thread;
}

/* The lock just became free: hand it to the head of the queue. */
static VOID HostpGrantWaiters(PHOSTP_PUSH_LOCK Lock)
{
    while (!IsListEmpty(&Lock->Waiters)) {
        PHOSTP_LOCK_WAITER Waiter =
            CONTAINING_RECORD(Lock->Waiters.Flink, HOSTP_LOCK_WAITER, Entry);
        if (Waiter->Exclusive && Lock->SharedCount != 0) {
            break;      /* the shared run granted so far goes first */
        }
        HostpAddOwner(Lock, Waiter->Thread, Waiter->Exclusive);
        WdkmHostpGrant(Waiter);
        if (Lock->Exclusive != NULL) {
            break;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Rules                                                                   */
/* ---------------------------------------------------------------------- */

static VOID HostpCheckState(PEX_PUSH_LOCK PushLock, ULONG Violation)
{
    if (WdkmHostpCurrent.Irql > APC_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)PushLock, WdkmHostpCurrent.Irql,
                     APC_LEVEL, 0);
    }
    /* A thread suspended while holding it would block everyone. */
    if (WdkmHostpCurrent.Irql < APC_LEVEL && !KeAreApcsDisabled()) {
        KeBugCheckEx(DRIVER_VERIFIER_DETECTED_VIOLATION, Violation, WdkmHostpCurrent.Irql,
                     WdkmHostpApcDisableCount(), (ULONG_PTR)PushLock);
    }
}

static VOID HostpViolation(ULONG Code, PEX_PUSH_LOCK PushLock, PKTHREAD Thread, ULONG_PTR Owner)
{
    KeBugCheckEx(DRIVER_VERIFIER_DETECTED_VIOLATION, Code, (ULONG_PTR)PushLock,
                 (ULONG_PTR)Thread, Owner);
}

/* Dispatcher lock held. The entry of PushLock (NULL: free), after checking
   that its word is the one the emulation left; else drops the lock and
   bug checks. */
static PHOSTP_PUSH_LOCK HostpLookup(PEX_PUSH_LOCK PushLock, PKTHREAD Thread)
{
    PHOSTP_PUSH_LOCK Lock = HostpFind(PushLock);
    ULONG_PTR Word = __atomic_load_n(PushLock, __ATOMIC_RELAXED);

    if (Word != HostpWord(Lock)) {
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        HostpViolation(WDKM_HOST_VIOLATION_PUSH_LOCK_CORRUPTED, PushLock, Thread, Word);
    }
    return Lock;
}

/* ---------------------------------------------------------------------- */
/* Acquire and release                                                     */
/* ---------------------------------------------------------------------- */

static VOID HostpAcquire(PEX_PUSH_LOCK PushLock, BOOLEAN Exclusive)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    HOSTP_LOCK_WAITER Waiter;
    PHOSTP_PUSH_LOCK Lock;

    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */
    HostpCheckState(PushLock, WDKM_HOST_VIOLATION_PUSH_LOCK_APCS_ENABLED);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Lock = HostpLookup(PushLock, Thread);
    if (Lock != NULL && (Lock->Exclusive == Thread || HostpSharedIndex(Lock, Thread) >= 0)) {
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        HostpViolation(WDKM_HOST_VIOLATION_SELF_DEADLOCK, PushLock, Thread, (ULONG_PTR)Thread);
    }
    if (Lock == NULL) {
        Lock = HostpCreate(PushLock);
    }
    if (IsListEmpty(&Lock->Waiters) && Lock->Exclusive == NULL &&
        (!Exclusive || Lock->SharedCount == 0)) {
        HostpAddOwner(Lock, Thread, Exclusive);
        HostpStoreWord(PushLock, HostpWord(Lock));
    } else {
        /* Set the waiting bit now; the releaser stores the word it leaves. */
        HostpStoreWord(PushLock, HostpWord(Lock) | HOSTP_PUSH_LOCK_WAITING);
        Waiter.Thread = Thread;
        Waiter.Exclusive = Exclusive;
        WdkmHostpWaitForGrant(&Lock->Waiters, &Waiter);
    }
    /* Counted in the section that granted it (see KeReleaseMutex). */
    WdkmHostpThread.OtherLockCount++;
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
}

static VOID HostpRelease(PEX_PUSH_LOCK PushLock, HOSTP_RELEASE_KIND Kind)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    PHOSTP_PUSH_LOCK Lock;
    BOOLEAN HeldExclusive;
    LONG SharedIndex;

    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */

    HostpCheckState(PushLock, WDKM_HOST_VIOLATION_PUSH_LOCK_RELEASE_APCS_ENABLED);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Lock = HostpLookup(PushLock, Thread);
    HeldExclusive = (BOOLEAN)(Lock != NULL && Lock->Exclusive == Thread);
    SharedIndex = Lock != NULL ? HostpSharedIndex(Lock, Thread) : -1;
    if (!HeldExclusive && SharedIndex < 0) {
        ULONG_PTR Owner = Lock != NULL ? (ULONG_PTR)Lock->Exclusive : 0;
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        HostpViolation(WDKM_HOST_VIOLATION_PUSH_LOCK_NOT_OWNER, PushLock, Thread, Owner);
    }
    if ((Kind == HostpReleaseExclusive && !HeldExclusive) ||
        (Kind == HostpReleaseShared && HeldExclusive)) {
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        HostpViolation(WDKM_HOST_VIOLATION_PUSH_LOCK_RELEASE_MISMATCH, PushLock, Thread,
                       (ULONG_PTR)Thread);
    }
    if (HeldExclusive) {
        Lock->Exclusive = NULL;
    } else {
        Lock->Shared[SharedIndex] = Lock->Shared[--Lock->SharedCount];
    }
    if (Lock->Exclusive == NULL && Lock->SharedCount == 0) {
        HostpGrantWaiters(Lock);
    }
    HostpStoreWord(PushLock, HostpWord(Lock));
    if (Lock->Exclusive == NULL && Lock->SharedCount == 0) {
        HostpDestroy(Lock);     /* free and nobody waiting */
    }
    WdkmHostpThread.OtherLockCount--;
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
}

VOID FASTCALL ExfAcquirePushLockExclusive(PEX_PUSH_LOCK PushLock)
{
    HostpAcquire(PushLock, TRUE);
}

VOID FASTCALL ExfAcquirePushLockShared(PEX_PUSH_LOCK PushLock)
{
    HostpAcquire(PushLock, FALSE);
}

VOID FASTCALL ExfReleasePushLockExclusive(PEX_PUSH_LOCK PushLock)
{
    HostpRelease(PushLock, HostpReleaseExclusive);
}

VOID FASTCALL ExfReleasePushLockShared(PEX_PUSH_LOCK PushLock)
{
    HostpRelease(PushLock, HostpReleaseShared);
}

VOID FASTCALL ExfReleasePushLock(PEX_PUSH_LOCK PushLock)
{
    HostpRelease(PushLock, HostpReleaseAny);
}
