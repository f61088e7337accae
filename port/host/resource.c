/*
 * resource.c - ERESOURCE: executive reader/writer locks.
 *
 * The dispatcher lock guards every resource. Each owning thread has one
 * owner entry (OwnerEntry, then OwnerTable) holding its recursion count;
 * the exclusive owner is always OwnerEntry. Waiters queue on the
 * resource's shared or exclusive list and the releaser hands ownership
 * over, the way NT's ExpWaitForResource/ExReleaseResourceLite do:
 *   - the exclusive owner's final release grants every shared waiter, or
 *     else the first exclusive waiter;
 *   - the last shared owner's release grants the first exclusive waiter;
 *   - a new shared acquirer waits while an exclusive waiter is queued,
 * so neither side starves. Live resources are kept on a list (NT's
 * ExpSystemResourcesList), which lets the emulation catch double
 * initialisation, use after delete and pool freed under a live resource.
 *
 * Owner entries and ActiveEntries are written with atomics (under the lock
 * all the same), so that ExIsResourceAcquiredSharedLite answers without
 * the lock when the caller is the owner in OwnerEntry, or owns nothing and
 * the table is empty: only the caller's own acquisitions (or a grant made
 * before its wait ended) can put it in either, so what it reads there about
 * itself is exact.
 *
 * Verifier subcodes of DRIVER_VERIFIER_DETECTED_VIOLATION used here are
 * the real ones, with the real parameters (see wdkm_host.h).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include "hostp.h"

#define HOSTP_RESOURCE_OWNED_EXCLUSIVE 0x0080   /* NT's ResourceOwnedExclusive */
/* Allocated when the resource is initialised, so that a shared acquire made
   by an injected event (inside a signal handler, where malloc is not safe)
   finds its owner entry without growing the table; it grows only past this
   many concurrent shared owners. */
#define HOSTP_RESOURCE_TABLE_INITIAL   16

static LIST_ENTRY HostpResources = { &HostpResources, &HostpResources };
static ULONG HostpResourceCount;

/* ---------------------------------------------------------------------- */
/* Owner entries (dispatcher lock held)                                    */
/* ---------------------------------------------------------------------- */

static BOOLEAN HostpIsExclusive(const ERESOURCE *Resource)
{
    return (BOOLEAN)((Resource->Flag & HOSTP_RESOURCE_OWNED_EXCLUSIVE) != 0);
}

/* Thread's owner entry in Resource, or NULL (0 marks free entries). */
static POWNER_ENTRY HostpFindOwner(PERESOURCE Resource, ERESOURCE_THREAD Thread)
{
    if (Thread == 0) {
        return NULL;
    }
    if (Resource->OwnerEntry.OwnerThread == Thread) {
        return &Resource->OwnerEntry;
    }
    for (ULONG Index = 0; Index < Resource->TableSize; Index++) {
        if (Resource->OwnerTable[Index].OwnerThread == Thread) {
            return &Resource->OwnerTable[Index];
        }
    }
    return NULL;
}

/* A free owner entry (the table grows as NT's does). The emulation cannot
   go on without one, so running out of memory here ends the process. */
static POWNER_ENTRY HostpFreeOwnerEntry(PERESOURCE Resource)
{
    ULONG Used = Resource->TableSize;
    ULONG Capacity;
    POWNER_ENTRY Table;

    if (Resource->OwnerEntry.OwnerThread == 0) {
        return &Resource->OwnerEntry;
    }
    for (ULONG Index = 0; Index < Used; Index++) {
        if (Resource->OwnerTable[Index].OwnerThread == 0) {
            return &Resource->OwnerTable[Index];
        }
    }
    Capacity = Used == 0 ? HOSTP_RESOURCE_TABLE_INITIAL : Used * 2;
    Table = (POWNER_ENTRY)realloc(Resource->OwnerTable, Capacity * sizeof(*Table));
    if (Table == NULL) {
        fputs("wdkm host: out of memory for an ERESOURCE owner table\n", stderr);
        abort();
    }
    for (ULONG Index = Used; Index < Capacity; Index++) {
        Table[Index].OwnerThread = 0;
        Table[Index].OwnerCount = 0;
    }
    Resource->OwnerTable = Table;
    Resource->TableSize = Capacity;
    return &Table[Used];
}

static VOID HostpAddOwner(PERESOURCE Resource, ERESOURCE_THREAD Thread, BOOLEAN Exclusive)
{
    POWNER_ENTRY Entry = Exclusive ? &Resource->OwnerEntry : HostpFreeOwnerEntry(Resource);

    HostpStore(Entry->OwnerThread, Thread);
    HostpStore(Entry->OwnerCount, 1);
    Resource->ActiveCount++;
    if (Exclusive) {
        Resource->Flag |= HOSTP_RESOURCE_OWNED_EXCLUSIVE;
    } else if (Entry != &Resource->OwnerEntry) {
        HostpStore(Resource->ActiveEntries, Resource->ActiveEntries + 1);
    }
}

static VOID HostpGrantSharedWaiters(PERESOURCE Resource)
{
    while (!IsListEmpty(&Resource->SharedWaiters)) {
        PHOSTP_LOCK_WAITER Waiter =
            CONTAINING_RECORD(Resource->SharedWaiters.Flink, HOSTP_LOCK_WAITER, Entry);
        HostpAddOwner(Resource, (ERESOURCE_THREAD)Waiter->Thread, FALSE);
        Resource->NumberOfSharedWaiters--;
        WdkmHostpGrant(Waiter);
    }
}

/* Hands the resource over after the exclusive owner let go of exclusive
   access (FromExclusive: final release or conversion to shared) or the
   last shared owner released it. */
static VOID HostpGrantWaiters(PERESOURCE Resource, BOOLEAN FromExclusive)
{
    BOOLEAN Shared = FromExclusive ? !IsListEmpty(&Resource->SharedWaiters)
                                   : IsListEmpty(&Resource->ExclusiveWaiters);

    if (Shared) {
        HostpGrantSharedWaiters(Resource);
    } else if (Resource->ActiveCount == 0 && !IsListEmpty(&Resource->ExclusiveWaiters)) {
        PHOSTP_LOCK_WAITER Waiter =
            CONTAINING_RECORD(Resource->ExclusiveWaiters.Flink, HOSTP_LOCK_WAITER, Entry);
        HostpAddOwner(Resource, (ERESOURCE_THREAD)Waiter->Thread, TRUE);
        Resource->NumberOfExclusiveWaiters--;
        WdkmHostpGrant(Waiter);
    }
}

/* ---------------------------------------------------------------------- */
/* Rules                                                                   */
/* ---------------------------------------------------------------------- */

static VOID HostpCheckIrql(PERESOURCE Resource, KIRQL Limit)
{
    if (WdkmHostpCurrent.Irql > Limit) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Resource, WdkmHostpCurrent.Irql, Limit, 0);
    }
}

/* A resource is live from ExInitializeResourceLite to ExDeleteResourceLite. */
static VOID HostpCheckLive(PERESOURCE Resource)
{
    if (ReadPointerNoFence((PVOID const volatile *)&Resource->Address) != Resource) {
        KeBugCheckEx(DRIVER_VERIFIER_DETECTED_VIOLATION,
                     WDKM_HOST_VIOLATION_RESOURCE_UNINITIALIZED, (ULONG_PTR)Resource, 0, 0);
    }
}

/* Acquiring (and releasing one's own) needs normal kernel APCs disabled:
   a suspended owner would block every other thread. */
static VOID HostpCheckApcsDisabled(PERESOURCE Resource, ULONG Violation)
{
    if (WdkmHostpCurrent.Irql < APC_LEVEL && !KeAreApcsDisabled()) {
        KeBugCheckEx(DRIVER_VERIFIER_DETECTED_VIOLATION, Violation, WdkmHostpCurrent.Irql,
                     WdkmHostpApcDisableCount(), (ULONG_PTR)Resource);
    }
}

static VOID HostpCheckAcquire(PERESOURCE Resource)
{
    HostpCheckIrql(Resource, APC_LEVEL);
    HostpCheckLive(Resource);
    HostpCheckApcsDisabled(Resource, WDKM_HOST_VIOLATION_RESOURCE_APCS_ENABLED);
}

/* ---------------------------------------------------------------------- */
/* Initialisation and deletion                                             */
/* ---------------------------------------------------------------------- */

static BOOLEAN HostpIsListed(PERESOURCE Resource)
{
    for (PLIST_ENTRY Entry = HostpResources.Flink; Entry != &HostpResources;
         Entry = Entry->Flink) {
        if (Entry == &Resource->SystemResourcesList) {
            return TRUE;
        }
    }
    return FALSE;
}

NTSTATUS NTAPI ExInitializeResourceLite(PERESOURCE Resource)
{
    BOOLEAN Listed;

    POWNER_ENTRY Table;

    HostpCheckIrql(Resource, DISPATCH_LEVEL);
    Table = (POWNER_ENTRY)calloc(HOSTP_RESOURCE_TABLE_INITIAL, sizeof(*Table));
    if (Table == NULL) {
        fputs("wdkm host: out of memory for an ERESOURCE owner table\n", stderr);
        abort();
    }
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Listed = HostpIsListed(Resource);
    if (!Listed) {
        RtlZeroMemory(Resource, sizeof(*Resource));
        Resource->OwnerTable = Table;
        Resource->TableSize = HOSTP_RESOURCE_TABLE_INITIAL;
        Table = NULL;
        InitializeListHead(&Resource->SharedWaiters);
        InitializeListHead(&Resource->ExclusiveWaiters);
        InsertTailList(&HostpResources, &Resource->SystemResourcesList);
        HostpResourceCount++;
        WritePointerNoFence((PVOID volatile *)&Resource->Address, Resource);
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    free(Table);                        /* NULL unless it was already live */
    if (Listed) {
        /* Re-initialising a live resource would corrupt the list. */
        KeBugCheckEx(DRIVER_VERIFIER_DETECTED_VIOLATION,
                     WDKM_HOST_VIOLATION_RESOURCE_REINITIALIZED, (ULONG_PTR)Resource, 0, 0);
    }
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI ExDeleteResourceLite(PERESOURCE Resource)
{
    ERESOURCE_THREAD Owner = 0;
    POWNER_ENTRY Table = NULL;

    HostpCheckIrql(Resource, APC_LEVEL);
    if (ReadPointerNoFence((PVOID const volatile *)&Resource->Address) != Resource) {
        KeBugCheckEx(DRIVER_VERIFIER_DETECTED_VIOLATION,
                     WDKM_HOST_VIOLATION_RESOURCE_UNINITIALIZED, (ULONG_PTR)Resource, 0, 0);
    }
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    if (Resource->ActiveCount != 0) {
        Owner = Resource->OwnerEntry.OwnerThread;
        for (ULONG Index = 0; Owner == 0 && Index < Resource->TableSize; Index++) {
            Owner = Resource->OwnerTable[Index].OwnerThread;
        }
    } else {
        RemoveEntryList(&Resource->SystemResourcesList);
        HostpResourceCount--;
        Table = Resource->OwnerTable;
        Resource->OwnerTable = NULL;
        Resource->TableSize = 0;
        WritePointerNoFence((PVOID volatile *)&Resource->Address, NULL);
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    if (Owner != 0) {
        KeBugCheckEx(DRIVER_VERIFIER_DETECTED_VIOLATION,
                     WDKM_HOST_VIOLATION_DELETED_LOCK_OWNED, (ULONG_PTR)Resource, Owner, 0);
    }
    free(Table);
    return STATUS_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* Acquisition                                                             */
/* ---------------------------------------------------------------------- */

BOOLEAN NTAPI ExAcquireResourceExclusiveLite(PERESOURCE Resource, BOOLEAN Wait)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    ERESOURCE_THREAD Me = (ERESOURCE_THREAD)Thread;
    HOSTP_LOCK_WAITER Waiter;
    POWNER_ENTRY Mine;

    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */

    HostpCheckAcquire(Resource);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    if (Resource->ActiveCount == 0) {
        HostpAddOwner(Resource, Me, TRUE);
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        return TRUE;
    }
    Mine = HostpFindOwner(Resource, Me);
    if (Mine != NULL && HostpIsExclusive(Resource)) {
        HostpStore(Mine->OwnerCount, Mine->OwnerCount + 1);
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        return TRUE;
    }
    if (!Wait) {
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        return FALSE;
    }
    if (Mine != NULL) {
        /* A shared owner waiting for exclusive waits for itself forever. */
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        KeBugCheckEx(DRIVER_VERIFIER_DETECTED_VIOLATION, WDKM_HOST_VIOLATION_SELF_DEADLOCK,
                     (ULONG_PTR)Resource, (ULONG_PTR)Thread, Me);
    }
    Resource->ContentionCount++;
    Resource->NumberOfExclusiveWaiters++;
    Waiter.Thread = Thread;
    Waiter.Exclusive = TRUE;
    WdkmHostpWaitForGrant(&Resource->ExclusiveWaiters, &Waiter);
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return TRUE;
}

BOOLEAN NTAPI ExAcquireResourceSharedLite(PERESOURCE Resource, BOOLEAN Wait)
{
    PKTHREAD Thread = WdkmHostpCurrentThread();
    ERESOURCE_THREAD Me = (ERESOURCE_THREAD)Thread;
    HOSTP_LOCK_WAITER Waiter;
    POWNER_ENTRY Mine;

    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */

    HostpCheckAcquire(Resource);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Mine = HostpFindOwner(Resource, Me);
    if (Mine != NULL) {
        /* Any owner may recurse (the exclusive one stays exclusive). */
        HostpStore(Mine->OwnerCount, Mine->OwnerCount + 1);
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        return TRUE;
    }
    if (Resource->ActiveCount == 0 ||
        (!HostpIsExclusive(Resource) && IsListEmpty(&Resource->ExclusiveWaiters))) {
        HostpAddOwner(Resource, Me, FALSE);
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        return TRUE;
    }
    if (!Wait) {
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        return FALSE;
    }
    Resource->ContentionCount++;
    Resource->NumberOfSharedWaiters++;
    Waiter.Thread = Thread;
    Waiter.Exclusive = FALSE;
    WdkmHostpWaitForGrant(&Resource->SharedWaiters, &Waiter);
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return TRUE;
}

VOID NTAPI ExConvertExclusiveToSharedLite(PERESOURCE Resource)
{
    ERESOURCE_THREAD Me = (ERESOURCE_THREAD)WdkmHostpCurrentThread();
    POWNER_ENTRY Table;
    BOOLEAN Owner;

    HostpCheckIrql(Resource, DISPATCH_LEVEL);
    HostpCheckLive(Resource);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Owner = (BOOLEAN)(HostpIsExclusive(Resource) && Resource->OwnerEntry.OwnerThread == Me);
    Table = Resource->OwnerTable;
    if (Owner) {
        Resource->Flag &= (USHORT)~HOSTP_RESOURCE_OWNED_EXCLUSIVE;
        HostpGrantWaiters(Resource, TRUE);
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    if (!Owner) {
        KeBugCheckEx(RESOURCE_NOT_OWNED, (ULONG_PTR)Resource, Me, (ULONG_PTR)Table, 0);
    }
}

/* ---------------------------------------------------------------------- */
/* Release                                                                 */
/* ---------------------------------------------------------------------- */

static VOID HostpRelease(PERESOURCE Resource, ERESOURCE_THREAD Thread)
{
    POWNER_ENTRY Entry;
    POWNER_ENTRY Table = NULL;

    WdkmHostpDelayPoint();   /* delay fuzzing (delay.c) */

    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Entry = HostpFindOwner(Resource, Thread);
    if (Entry == NULL) {
        Table = Resource->OwnerTable;
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        KeBugCheckEx(RESOURCE_NOT_OWNED, (ULONG_PTR)Resource, Thread, (ULONG_PTR)Table, 0);
    }
    HostpStore(Entry->OwnerCount, Entry->OwnerCount - 1);
    if (Entry->OwnerCount == 0) {
        BOOLEAN WasExclusive = HostpIsExclusive(Resource);
        HostpStore(Entry->OwnerThread, (ERESOURCE_THREAD)0);
        Resource->ActiveCount--;
        if (Entry != &Resource->OwnerEntry) {
            HostpStore(Resource->ActiveEntries, Resource->ActiveEntries - 1);
        }
        if (WasExclusive) {
            Resource->Flag &= (USHORT)~HOSTP_RESOURCE_OWNED_EXCLUSIVE;
        }
        if (Resource->ActiveCount == 0) {
            HostpGrantWaiters(Resource, WasExclusive);
        }
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
}

VOID FASTCALL ExReleaseResourceLite(PERESOURCE Resource)
{
    ERESOURCE_THREAD Me = (ERESOURCE_THREAD)WdkmHostpCurrentThread();

    HostpCheckIrql(Resource, DISPATCH_LEVEL);
    HostpCheckLive(Resource);
    HostpCheckApcsDisabled(Resource, WDKM_HOST_VIOLATION_RESOURCE_RELEASE_APCS_ENABLED);
    HostpRelease(Resource, Me);
}

VOID NTAPI ExReleaseResourceForThreadLite(PERESOURCE Resource, ERESOURCE_THREAD ResourceThreadId)
{
    HostpCheckIrql(Resource, DISPATCH_LEVEL);
    HostpCheckLive(Resource);
    HostpRelease(Resource, ResourceThreadId);
}

/* ---------------------------------------------------------------------- */
/* Queries                                                                 */
/* ---------------------------------------------------------------------- */

BOOLEAN NTAPI ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource)
{
    ERESOURCE_THREAD Me = (ERESOURCE_THREAD)WdkmHostpCurrentThread();
    BOOLEAN Exclusive;

    HostpCheckIrql(Resource, DISPATCH_LEVEL);
    HostpCheckLive(Resource);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Exclusive = (BOOLEAN)(HostpIsExclusive(Resource) && Resource->OwnerEntry.OwnerThread == Me);
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return Exclusive;
}

ULONG NTAPI ExIsResourceAcquiredSharedLite(PERESOURCE Resource)
{
    ERESOURCE_THREAD Me = (ERESOURCE_THREAD)WdkmHostpCurrentThread();
    POWNER_ENTRY Entry;
    ULONG Count;

    HostpCheckIrql(Resource, DISPATCH_LEVEL);
    HostpCheckLive(Resource);
    if (HostpLoad(Resource->OwnerEntry.OwnerThread) == Me) {
        return HostpLoad(Resource->OwnerEntry.OwnerCount);
    }
    if (HostpLoad(Resource->ActiveEntries) == 0) {
        return 0;
    }
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Entry = HostpFindOwner(Resource, Me);
    Count = Entry != NULL ? Entry->OwnerCount : 0;
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return Count;
}

ULONG NTAPI ExGetExclusiveWaiterCount(PERESOURCE Resource)
{
    ULONG Count;

    HostpCheckIrql(Resource, DISPATCH_LEVEL);
    HostpCheckLive(Resource);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Count = Resource->NumberOfExclusiveWaiters;
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return Count;
}

ULONG NTAPI ExGetSharedWaiterCount(PERESOURCE Resource)
{
    ULONG Count;

    HostpCheckIrql(Resource, DISPATCH_LEVEL);
    HostpCheckLive(Resource);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Count = Resource->NumberOfSharedWaiters;
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return Count;
}

/* ---------------------------------------------------------------------- */
/* Emulation                                                               */
/* ---------------------------------------------------------------------- */

ULONG WdkmHostpResourcesOwnedBy(PKTHREAD Thread)
{
    ULONG Count = 0;

    for (PLIST_ENTRY Entry = HostpResources.Flink; Entry != &HostpResources;
         Entry = Entry->Flink) {
        PERESOURCE Resource = CONTAINING_RECORD(Entry, ERESOURCE, SystemResourcesList);
        if (HostpFindOwner(Resource, (ERESOURCE_THREAD)Thread) != NULL) {
            Count++;
        }
    }
    return Count;
}

PVOID WdkmHostpFindResourceInRange(const VOID *Start, SIZE_T Size)
{
    ULONG_PTR Low = (ULONG_PTR)Start;

    for (PLIST_ENTRY Entry = HostpResources.Flink; Entry != &HostpResources;
         Entry = Entry->Flink) {
        PERESOURCE Resource = CONTAINING_RECORD(Entry, ERESOURCE, SystemResourcesList);
        if ((ULONG_PTR)Resource - Low < Size) {
            return Resource;
        }
    }
    return NULL;
}

ULONG WdkmHostResourceCount(VOID)
{
    ULONG Count;

    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Count = HostpResourceCount;
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    return Count;
}
