/*
 * wdkm_grt.c - the global registry of named locks (see wdkm_grt.h).
 *
 * Structure
 *   An entry holds a name, a lock and a reference count: one reference
 *   while the name is registered, one per successful lookup. The entry and
 *   its lock are freed when the count reaches zero, by whoever drops the
 *   last reference (the lock's header points back to its entry).
 *
 *   A hash table of chain nodes maps names to entries. Nodes, not entries,
 *   are chained so that a resize can build a complete new table while
 *   readers still walk the old one.
 *
 * Readers take no lock
 *   A lookup increments a reader slot chosen by its thread (a full barrier),
 *   checks the state, then walks the current table with acquire loads, and
 *   takes an entry reference before leaving its slot. Writers publish with
 *   release stores. Before a writer frees anything a reader may still see
 *   (a removed node, an old table), it waits for a grace period: every slot
 *   observed at zero once after the removal was published. The interlocked
 *   increment on the reader side and the interlocked operation before the
 *   writer's scan make a store-buffering pair, so a reader either saw the
 *   removal or is counted in a slot the writer waits for.
 *
 * Writers serialise
 *   Register, unregister and destroy hold the writer lock (a KMUTEX). Every
 *   entry alive, registered or not, is on a list under a spin lock, so that
 *   Destroy can wait for the last ones and name those still in use.
 */
#include "wdkm_internal.h"

#define WDKMP_GRT_UNINITIALIZED 0
#define WDKMP_GRT_INITIALIZING  1
#define WDKMP_GRT_READY         2
#define WDKMP_GRT_CLOSING       3

#define WDKMP_GRT_SLOTS           64     /* a power of two */
#define WDKMP_GRT_INITIAL_BUCKETS 64     /* a power of two */
#define WDKMP_GRT_MAX_BUCKETS     (1UL << 22)
#define WDKMP_GRT_POLL_MS         2

typedef struct _WDKMP_GRT_ENTRY {
    LIST_ENTRY Link;                    /* on WdkmpGrt.Entries */
    struct _WDKMP_GRT_ENTRY *NextDeferred; /* on WdkmpGrt.Deferred, awaiting its free */
    LONG volatile References;
    WDKM_LOCK_KIND Kind;
    PVOID Lock;
    ULONG Hash;
    ULONG NameLength;
    CHAR Name[WDKM_GRT_MAX_NAME_LENGTH + 1];
} WDKMP_GRT_ENTRY, *PWDKMP_GRT_ENTRY;

typedef struct _WDKMP_GRT_NODE {
    struct _WDKMP_GRT_NODE *volatile Next;
    PWDKMP_GRT_ENTRY Entry;
} WDKMP_GRT_NODE, *PWDKMP_GRT_NODE;

typedef struct _WDKMP_GRT_TABLE {
    ULONG Mask;                          /* buckets - 1 */
    ULONG Count;                         /* names in the table (writers only) */
    PWDKMP_GRT_NODE volatile Buckets[1]; /* Mask + 1 of them */
} WDKMP_GRT_TABLE, *PWDKMP_GRT_TABLE;

/*
 * One per 128 bytes (two lines: adjacent-line prefetch pairs them), so that
 * readers on different threads share none.
 */
typedef struct _WDKMP_GRT_SLOT {
    LONG volatile Readers;
    LONG Padding[31];
} WDKMP_GRT_SLOT;

/* Static, not pool: it outlives every Initialize/Destroy cycle. */
static struct {
    WDKMP_GRT_SLOT Slots[WDKMP_GRT_SLOTS];  /* first: no line shared with the state */
    LONG volatile State;
    LONG volatile WriterLockReady;       /* 0 never, 1 initialising, 2 ready */
    WDKMP_KMUTEX WriterLock;
    PWDKMP_GRT_TABLE volatile Table;
    WDKMP_SPIN_LOCK EntriesLock;         /* zero is a free spin lock */
    LIST_ENTRY Entries;
    PWDKMP_GRT_ENTRY Deferred;           /* unreferenced, freed at a lower IRQL */
    LONG volatile LiveEntries;
} WdkmpGrt;

static VOID WdkmpGrtFreeDeferred(VOID);

/* ------------------------------------------------------------------------
 * Small helpers
 */

/* Validates a name and computes its length and hash (FNV-1a). */
static
NTSTATUS
WdkmpGrtHashName(
    _In_opt_z_ PCSTR Name,
    _Out_ ULONG *Length,
    _Out_ ULONG *Hash
    )
{
    ULONG Value = 2166136261UL;
    ULONG Index;

    *Length = 0;
    *Hash = 0;
    if (Name == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    for (Index = 0; Name[Index] != '\0'; Index += 1) {
        if (Index == WDKM_GRT_MAX_NAME_LENGTH) {
            return STATUS_NAME_TOO_LONG;
        }
        Value = (Value ^ (UCHAR)Name[Index]) * 16777619UL;
    }
    if (Index == 0) {
        return STATUS_OBJECT_NAME_INVALID;
    }
    *Length = Index;
    *Hash = Value;
    return STATUS_SUCCESS;
}

static
BOOLEAN
WdkmpGrtNameIs(
    _In_ const WDKMP_GRT_ENTRY *Entry,
    _In_ PCSTR Name,
    _In_ ULONG Length,
    _In_ ULONG Hash
    )
{
    return Entry->Hash == Hash && Entry->NameLength == Length &&
           RtlEqualMemory(Entry->Name, Name, Length);
}

static
PWDKMP_LOCK_HEADER
WdkmpGrtHeader(
    _In_ const WDKMP_GRT_ENTRY *Entry
    )
{
    return (PWDKMP_LOCK_HEADER)Entry->Lock;
}

/* ------------------------------------------------------------------------
 * Readers and grace periods
 */

static
WDKMP_GRT_SLOT *
WdkmpGrtEnterReader(
    VOID
    )
{
    /*
     * A full 64-bit mix (MurmurHash3's finaliser): thread objects a few
     * hundred bytes apart, or thread ids four apart, must land in
     * different slots, or two readers share a line on every lookup.
     */
    ULONG64 Mixed = (ULONG64)(ULONG_PTR)WdkmpCurrentThread();
    WDKMP_GRT_SLOT *Slot;

    Mixed ^= Mixed >> 33;
    Mixed *= 0xFF51AFD7ED558CCDULL;
    Mixed ^= Mixed >> 33;
    Mixed *= 0xC4CEB9FE1A85EC53ULL;
    Mixed ^= Mixed >> 33;
    Slot = &WdkmpGrt.Slots[(ULONG)Mixed & (WDKMP_GRT_SLOTS - 1)];

    InterlockedIncrement(&Slot->Readers);
    return Slot;
}

static
VOID
WdkmpGrtLeaveReader(
    _Inout_ WDKMP_GRT_SLOT *Slot
    )
{
    InterlockedDecrement(&Slot->Readers);
}

/*
 * Waits until no reader can still see what the caller unpublished before
 * the call. PASSIVE_LEVEL or APC_LEVEL; the caller must not be a reader.
 */
static
VOID
WdkmpGrtWaitForReaders(
    VOID
    )
{
    ULONG Index;
    ULONG Spins;
    LONG Fence = 0;

    /* Pairs with the readers' interlocked increment (store buffering). */
    InterlockedExchange(&Fence, 1);
    for (Index = 0; Index < WDKMP_GRT_SLOTS; Index += 1) {
        /* A full-barrier read: what a reader did before leaving its slot
           happens before what the writer does next. */
        for (Spins = 0;
             InterlockedCompareExchange(&WdkmpGrt.Slots[Index].Readers, 0, 0) != 0;
             Spins += 1) {
            if (Spins < 1000) {
                YieldProcessor();
            } else {
                WdkmpSleepMs(1);
            }
        }
    }
}

static
LONG
WdkmpGrtState(
    VOID
    )
{
    return WdkmpLoadLong(&WdkmpGrt.State);
}

static
NTSTATUS
WdkmpGrtStateStatus(
    _In_ LONG State
    )
{
    return State == WDKMP_GRT_CLOSING ? STATUS_DELETE_PENDING : STATUS_WDKM_NOT_INITIALIZED;
}

/*
 * The checks a writer (register, unregister) makes before its work: the
 * IRQL allows a wait, and the registry is up. Checked again under the
 * writer lock, since Destroy may start meanwhile.
 */
static
NTSTATUS
WdkmpGrtCheckWriter(
    VOID
    )
{
    LONG State;

    if (WdkmpGetIrql() > APC_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    WdkmpGrtFreeDeferred();
    State = WdkmpGrtState();
    return State == WDKMP_GRT_READY ? STATUS_SUCCESS : WdkmpGrtStateStatus(State);
}

/* ------------------------------------------------------------------------
 * Entries
 */

static
VOID
WdkmpGrtFreeEntry(
    _In_ PWDKMP_GRT_ENTRY Entry
    )
{
    NTSTATUS Status;
    KIRQL OldIrql;

    Status = WdkmpLockDestroy(Entry->Lock, WdkmpGrtHeader(Entry)->Kind, 0, NULL, TRUE);
    if (!NT_SUCCESS(Status)) {
        /* Held by a thread that dropped its reference too early: freeing it
           would pull the lock from under that thread. Leak it, loudly. */
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: registry lock \"%s\" freed while held (%s); leaked\n",
                        Entry->Name, WdkmStatusName(Status));
    }
    OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
    RemoveEntryList(&Entry->Link);
    WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
    WdkmpFreeBlock(Entry, sizeof(*Entry));
    InterlockedDecrement(&WdkmpGrt.LiveEntries);
}

static
VOID
WdkmpGrtDropReference(
    _In_ PWDKMP_GRT_ENTRY Entry
    )
{
    KIRQL OldIrql;

    if (InterlockedDecrement(&Entry->References) != 0) {
        return;
    }
    if (WdkmpGetIrql() > WdkmpGrtHeader(Entry)->Kind->MaxDestroyIrql) {
        /*
         * Too high an IRQL to tear the kernel object down here (an
         * ERESOURCE dereferenced at DISPATCH_LEVEL): the next registry call
         * made at a low enough IRQL frees it, and Destroy waits for that.
         */
        OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
        Entry->NextDeferred = WdkmpGrt.Deferred;
        WdkmpGrt.Deferred = Entry;
        WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
        return;
    }
    WdkmpGrtFreeEntry(Entry);
}

/* Frees the entries parked by WdkmpGrtDropReference. <= APC_LEVEL. */
static
VOID
WdkmpGrtFreeDeferred(
    VOID
    )
{
    PWDKMP_GRT_ENTRY Entry;
    PWDKMP_GRT_ENTRY Next;
    KIRQL OldIrql;

    OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
    Entry = WdkmpGrt.Deferred;
    WdkmpGrt.Deferred = NULL;
    WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
    for (; Entry != NULL; Entry = Next) {
        Next = Entry->NextDeferred;
        WdkmpGrtFreeEntry(Entry);
    }
}

/* Creates the lock and an unpublished entry holding the table's reference. */
static
NTSTATUS
WdkmpGrtCreateEntry(
    _In_ PCSTR Name,
    _In_ ULONG Length,
    _In_ ULONG Hash,
    _In_ WDKM_LOCK_KIND Kind,
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PWDKMP_GRT_ENTRY *EntryOut
    )
{
    PWDKMP_GRT_ENTRY Entry;
    NTSTATUS Status;
    KIRQL OldIrql;

    *EntryOut = NULL;
    Entry = (PWDKMP_GRT_ENTRY)WdkmpAllocateBlock(sizeof(*Entry));
    if (Entry == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Status = WdkmpLockCreate(WdkmpLockKindOf(Kind), InitialValue, DataSize, &Entry->Lock);
    if (!NT_SUCCESS(Status)) {
        WdkmpFreeBlock(Entry, sizeof(*Entry));
        return Status;
    }
    Entry->References = 1;
    Entry->Kind = Kind;
    Entry->Hash = Hash;
    Entry->NameLength = Length;
    RtlCopyMemory(Entry->Name, Name, Length);
    /* Checked builds: the lock's class is its name (a full class table
       leaves it a class of one, still validated). */
    (VOID)WdkmpDiagSetClass(WdkmpGrtHeader(Entry), Entry->Name);
    WdkmpGrtHeader(Entry)->RegistryEntry = Entry;

    InterlockedIncrement(&WdkmpGrt.LiveEntries);
    OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
    InsertTailList(&WdkmpGrt.Entries, &Entry->Link);
    WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
    *EntryOut = Entry;
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * The table (writers hold the writer lock)
 */

static
PWDKMP_GRT_TABLE
WdkmpGrtAllocateTable(
    _In_ ULONG Buckets
    )
{
    SIZE_T Bytes = FIELD_OFFSET(WDKMP_GRT_TABLE, Buckets) + Buckets * sizeof(PWDKMP_GRT_NODE);
    PWDKMP_GRT_TABLE Table = (PWDKMP_GRT_TABLE)WdkmpAllocateBlock(Bytes);

    if (Table != NULL) {
        Table->Mask = Buckets - 1;    /* zeroed: every bucket empty */
    }
    return Table;
}

static
VOID
WdkmpGrtFreeTable(
    _In_ PWDKMP_GRT_TABLE Table
    )
{
    WdkmpFreeBlock(Table, FIELD_OFFSET(WDKMP_GRT_TABLE, Buckets) +
                              (Table->Mask + 1) * sizeof(PWDKMP_GRT_NODE));
}

static
PWDKMP_GRT_TABLE
WdkmpGrtCurrentTable(
    VOID
    )
{
    return (PWDKMP_GRT_TABLE)WdkmpLoadPointerAcquire((PVOID const volatile *)&WdkmpGrt.Table);
}

/* Finds the link that points at the node of Name, or NULL. */
static
PWDKMP_GRT_NODE volatile *
WdkmpGrtFindLink(
    _In_ PWDKMP_GRT_TABLE Table,
    _In_ PCSTR Name,
    _In_ ULONG Length,
    _In_ ULONG Hash
    )
{
    PWDKMP_GRT_NODE volatile *Link = &Table->Buckets[Hash & Table->Mask];

    while (*Link != NULL) {
        if (WdkmpGrtNameIs((*Link)->Entry, Name, Length, Hash)) {
            return Link;
        }
        Link = &(*Link)->Next;
    }
    return NULL;
}

/* Finds the link that points at Node itself, or NULL. */
static
PWDKMP_GRT_NODE volatile *
WdkmpGrtFindNodeLink(
    _In_ PWDKMP_GRT_TABLE Table,
    _In_ PWDKMP_GRT_NODE Node
    )
{
    PWDKMP_GRT_NODE volatile *Link = &Table->Buckets[Node->Entry->Hash & Table->Mask];

    while (*Link != NULL && *Link != Node) {
        Link = &(*Link)->Next;
    }
    return *Link == Node ? Link : NULL;
}

/* Publishes Node at the head of its bucket. */
static
VOID
WdkmpGrtPublishNode(
    _Inout_ PWDKMP_GRT_TABLE Table,
    _Inout_ PWDKMP_GRT_NODE Node
    )
{
    PWDKMP_GRT_NODE volatile *Bucket = &Table->Buckets[Node->Entry->Hash & Table->Mask];

    Node->Next = *Bucket;
    WdkmpStorePointerRelease((PVOID volatile *)Bucket, Node);
}

static
VOID
WdkmpGrtFreeNodes(
    _In_ PWDKMP_GRT_TABLE Table
    )
{
    ULONG Bucket;
    PWDKMP_GRT_NODE Node;
    PWDKMP_GRT_NODE Next;

    for (Bucket = 0; Bucket <= Table->Mask; Bucket += 1) {
        for (Node = Table->Buckets[Bucket]; Node != NULL; Node = Next) {
            Next = Node->Next;
            WdkmpFreeBlock(Node, sizeof(*Node));
        }
    }
}

/*
 * Grows the table four-fold once it holds as many names as buckets. The
 * new table gets its own nodes, so readers of the old one are undisturbed;
 * the old one is freed after a grace period. On allocation failure the old
 * table simply stays (lookups get slower, never wrong).
 */
static
VOID
WdkmpGrtMaybeGrow(
    VOID
    )
{
    PWDKMP_GRT_TABLE Old = WdkmpGrt.Table;
    PWDKMP_GRT_TABLE New;
    PWDKMP_GRT_NODE Node;
    PWDKMP_GRT_NODE Copy;
    ULONG Bucket;

    if (Old->Count <= Old->Mask || (Old->Mask + 1) >= WDKMP_GRT_MAX_BUCKETS) {
        return;
    }
    New = WdkmpGrtAllocateTable((Old->Mask + 1) * 4);
    if (New == NULL) {
        return;
    }
    for (Bucket = 0; Bucket <= Old->Mask; Bucket += 1) {
        for (Node = Old->Buckets[Bucket]; Node != NULL; Node = Node->Next) {
            Copy = (PWDKMP_GRT_NODE)WdkmpAllocateBlock(sizeof(*Copy));
            if (Copy == NULL) {
                WdkmpGrtFreeNodes(New);
                WdkmpGrtFreeTable(New);
                return;
            }
            Copy->Entry = Node->Entry;
            WdkmpGrtPublishNode(New, Copy);
            New->Count += 1;
        }
    }
    WdkmpStorePointerRelease((PVOID volatile *)&WdkmpGrt.Table, New);
    WdkmpGrtWaitForReaders();
    WdkmpGrtFreeNodes(Old);
    WdkmpGrtFreeTable(Old);
}

/*
 * Unlinks the node *Link points at and frees it after a grace period.
 * Returns its entry, whose table reference the caller now owns.
 */
static
PWDKMP_GRT_ENTRY
WdkmpGrtUnlink(
    _Inout_ PWDKMP_GRT_TABLE Table,
    _Inout_ PWDKMP_GRT_NODE volatile *Link
    )
{
    PWDKMP_GRT_NODE Node = *Link;
    PWDKMP_GRT_ENTRY Entry = Node->Entry;

    WdkmpStorePointerRelease((PVOID volatile *)Link, Node->Next);
    Table->Count -= 1;
    WdkmpGrtWaitForReaders();
    WdkmpFreeBlock(Node, sizeof(*Node));
    return Entry;
}

static
VOID
WdkmpGrtLockWriters(
    VOID
    )
{
    (VOID)WdkmpKMutexWait(&WdkmpGrt.WriterLock, KernelMode, FALSE, NULL);
}

static
VOID
WdkmpGrtUnlockWriters(
    VOID
    )
{
    WdkmpKMutexRelease(&WdkmpGrt.WriterLock);
}

/* The writer lock is made once and kept for the driver's lifetime. */
static
VOID
WdkmpGrtPrepareWriterLock(
    VOID
    )
{
    if (InterlockedCompareExchange(&WdkmpGrt.WriterLockReady, 1, 0) == 0) {
        WdkmpKMutexInitialize(&WdkmpGrt.WriterLock);
        InitializeListHead(&WdkmpGrt.Entries);
        InterlockedExchange(&WdkmpGrt.WriterLockReady, 2);
    }
    while (WdkmpLoadLong(&WdkmpGrt.WriterLockReady) != 2) {
        YieldProcessor();
    }
}

/* ------------------------------------------------------------------------
 * Public functions
 */

NTSTATUS
WdkmGrtInitialize(
    VOID
    )
{
    PWDKMP_GRT_TABLE Table;

    if (WdkmpGetIrql() != PASSIVE_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (InterlockedCompareExchange(&WdkmpGrt.State, WDKMP_GRT_INITIALIZING,
                                   WDKMP_GRT_UNINITIALIZED) != WDKMP_GRT_UNINITIALIZED) {
        return STATUS_WDKM_ALREADY_INITIALIZED;
    }
    WdkmpGrtPrepareWriterLock();
    Table = WdkmpGrtAllocateTable(WDKMP_GRT_INITIAL_BUCKETS);
    if (Table == NULL) {
        InterlockedExchange(&WdkmpGrt.State, WDKMP_GRT_UNINITIALIZED);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    WdkmpStorePointerRelease((PVOID volatile *)&WdkmpGrt.Table, Table);
    InterlockedExchange(&WdkmpGrt.State, WDKMP_GRT_READY);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmGrtRegister(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _In_ ULONG Flags
    )
{
    PWDKMP_GRT_ENTRY Entry;
    PWDKMP_GRT_ENTRY Replaced = NULL;
    PWDKMP_GRT_NODE Node;
    PWDKMP_GRT_NODE volatile *Link;
    NTSTATUS Status;
    ULONG Length;
    ULONG Hash;
    LONG State;

    Status = WdkmpGrtHashName(Name, &Length, &Hash);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    if (WdkmpLockKindOf(Kind) == NULL || (Flags & ~WDKM_GRT_REPLACE) != 0 ||
        InitialValue == NULL || DataSize == 0 || DataSize > WDKM_MAX_DATA_SIZE) {
        return STATUS_INVALID_PARAMETER;
    }
    Status = WdkmpGrtCheckWriter();
    if (!NT_SUCCESS(Status)) {
        return Status;
    }

    /* Allocate before taking the writer lock, to hold it briefly. */
    Node = (PWDKMP_GRT_NODE)WdkmpAllocateBlock(sizeof(*Node));
    if (Node == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Status = WdkmpGrtCreateEntry(Name, Length, Hash, Kind, InitialValue, DataSize, &Entry);
    if (!NT_SUCCESS(Status)) {
        WdkmpFreeBlock(Node, sizeof(*Node));
        return Status;
    }
    Node->Entry = Entry;

    WdkmpGrtLockWriters();
    State = WdkmpGrtState();
    if (State != WDKMP_GRT_READY) {
        Status = WdkmpGrtStateStatus(State);
    } else {
        Link = WdkmpGrtFindLink(WdkmpGrt.Table, Name, Length, Hash);
        if (Link != NULL && (Flags & WDKM_GRT_REPLACE) == 0) {
            Status = STATUS_OBJECT_NAME_COLLISION;
        } else {
            /* Publish the new name first, so that a lookup always finds one
               of the two; the old node's link may have moved meanwhile. */
            PWDKMP_GRT_NODE Old = Link != NULL ? *Link : NULL;

            WdkmpGrtPublishNode(WdkmpGrt.Table, Node);
            WdkmpGrt.Table->Count += 1;
            Node = NULL;
            if (Old != NULL) {
                Replaced = WdkmpGrtUnlink(WdkmpGrt.Table, WdkmpGrtFindNodeLink(WdkmpGrt.Table, Old));
            }
            WdkmpGrtMaybeGrow();
        }
    }
    WdkmpGrtUnlockWriters();

    if (Node != NULL) {                 /* not published */
        WdkmpFreeBlock(Node, sizeof(*Node));
        WdkmpGrtDropReference(Entry);
    }
    if (Replaced != NULL) {
        WdkmpGrtDropReference(Replaced);
    }
    return Status;
}

NTSTATUS
WdkmGrtReference(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Lock
    )
{
    WDKMP_GRT_SLOT *Slot;
    PWDKMP_GRT_TABLE Table;
    PWDKMP_GRT_NODE Node;
    PWDKMP_GRT_ENTRY Entry = NULL;
    NTSTATUS Status;
    ULONG Length;
    ULONG Hash;
    LONG State;

    if (Lock == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    *Lock = NULL;
    Status = WdkmpGrtHashName(Name, &Length, &Hash);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }

    Slot = WdkmpGrtEnterReader();
    State = WdkmpGrtState();
    if (State != WDKMP_GRT_READY) {
        WdkmpGrtLeaveReader(Slot);
        return WdkmpGrtStateStatus(State);
    }
    Table = WdkmpGrtCurrentTable();
    Node = (PWDKMP_GRT_NODE)WdkmpLoadPointerAcquire(
        (PVOID const volatile *)&Table->Buckets[Hash & Table->Mask]);
    while (Node != NULL) {
        if (WdkmpGrtNameIs(Node->Entry, Name, Length, Hash)) {
            Entry = Node->Entry;
            break;
        }
        Node = (PWDKMP_GRT_NODE)WdkmpLoadPointerAcquire((PVOID const volatile *)&Node->Next);
    }
    if (Entry == NULL) {
        Status = STATUS_OBJECT_NAME_NOT_FOUND;
    } else if (Entry->Kind != Kind || WdkmpGrtHeader(Entry)->DataSize != DataSize) {
        Status = STATUS_WDKM_TYPE_MISMATCH;
    } else {
        /* Still registered, so the table's reference keeps it above zero. */
        InterlockedIncrement(&Entry->References);
        *Lock = Entry->Lock;
    }
    WdkmpGrtLeaveReader(Slot);
    return Status;
}

NTSTATUS
WdkmGrtDereference(
    _In_ PVOID Lock
    )
{
    PWDKMP_LOCK_HEADER Header = (PWDKMP_LOCK_HEADER)Lock;
    PWDKMP_GRT_ENTRY Entry;

    if (Header == NULL || Header->RegistryEntry == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    Entry = (PWDKMP_GRT_ENTRY)Header->RegistryEntry;
    if (Entry->Lock != Lock) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpLockOwnedByCaller(Header)) {
        return STATUS_WDKM_LOCK_HELD;
    }
    WdkmpGrtDropReference(Entry);
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmGrtUnregister(
    _In_z_ PCSTR Name
    )
{
    PWDKMP_GRT_ENTRY Entry = NULL;
    PWDKMP_GRT_NODE volatile *Link;
    NTSTATUS Status;
    ULONG Length;
    ULONG Hash;
    LONG State;

    Status = WdkmpGrtHashName(Name, &Length, &Hash);
    if (NT_SUCCESS(Status)) {
        Status = WdkmpGrtCheckWriter();
    }
    if (!NT_SUCCESS(Status)) {
        return Status;
    }

    WdkmpGrtLockWriters();
    State = WdkmpGrtState();
    if (State != WDKMP_GRT_READY) {
        Status = WdkmpGrtStateStatus(State);
    } else {
        Link = WdkmpGrtFindLink(WdkmpGrt.Table, Name, Length, Hash);
        if (Link == NULL) {
            Status = STATUS_OBJECT_NAME_NOT_FOUND;
        } else {
            Entry = WdkmpGrtUnlink(WdkmpGrt.Table, Link);
        }
    }
    WdkmpGrtUnlockWriters();

    if (Entry != NULL) {
        WdkmpGrtDropReference(Entry);
    }
    return Status;
}

/* Fills *Report with the entries still alive and prints them. */
static
VOID
WdkmpGrtReportSurvivors(
    _Inout_ PWDKM_GRT_REPORT Report
    )
{
    PLIST_ENTRY Link;
    PWDKMP_GRT_ENTRY Entry;
    BOOLEAN Held;
    KIRQL OldIrql;

    OldIrql = WdkmpSpinLockAcquire(&WdkmpGrt.EntriesLock);
    for (Link = WdkmpGrt.Entries.Flink; Link != &WdkmpGrt.Entries; Link = Link->Flink) {
        Entry = CONTAINING_RECORD(Link, WDKMP_GRT_ENTRY, Link);
        Held = WdkmpLockIsHeld(WdkmpGrtHeader(Entry));
        Report->StillReferenced += 1;
        Report->StillHeld += Held ? 1 : 0;
        if (Report->NamesReported < WDKM_GRT_REPORT_NAMES) {
            RtlCopyMemory(Report->Names[Report->NamesReported], Entry->Name,
                          sizeof(Entry->Name));
            Report->Held[Report->NamesReported] = Held;
            Report->NamesReported += 1;
        }
        WdkmpDebugPrint(WDKMP_DEBUG_ERROR,
                        "wdkmutex: registry destroy: \"%s\" still referenced (%d)%s\n",
                        Entry->Name, (int)WdkmpLoadLong(&Entry->References),
                        Held ? ", lock held" : "");
    }
    WdkmpSpinLockRelease(&WdkmpGrt.EntriesLock, OldIrql);
}

NTSTATUS
WdkmGrtDestroy(
    _In_opt_ const LARGE_INTEGER *Timeout,
    _Out_opt_ PWDKM_GRT_REPORT Report
    )
{
    WDKM_GRT_REPORT Local;
    PWDKM_GRT_REPORT Out = Report != NULL ? Report : &Local;
    PWDKMP_GRT_TABLE Table;
    PWDKMP_GRT_NODE Node;
    PWDKMP_GRT_NODE Next;
    LONGLONG WaitedMs = 0;
    LONGLONG LimitMs = -1;
    LONG LiveBefore;
    ULONG Bucket;
    LONG State;

    RtlZeroMemory(Out, sizeof(*Out));
    if (WdkmpGetIrql() != PASSIVE_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (Timeout != NULL) {
        /* Relative only; an absolute time counts as "do not wait". */
        LimitMs = Timeout->QuadPart < 0 ? -Timeout->QuadPart / 10000 : 0;
    }
    State = InterlockedCompareExchange(&WdkmpGrt.State, WDKMP_GRT_CLOSING, WDKMP_GRT_READY);
    if (State != WDKMP_GRT_READY && State != WDKMP_GRT_CLOSING) {
        return STATUS_WDKM_NOT_INITIALIZED;
    }

    /* No new lookups; wait out those that saw READY, then empty the table. */
    WdkmpGrtWaitForReaders();
    WdkmpGrtLockWriters();
    Table = WdkmpGrt.Table;
    WdkmpStorePointerRelease((PVOID volatile *)&WdkmpGrt.Table, NULL);
    WdkmpGrtUnlockWriters();
    LiveBefore = WdkmpLoadLong(&WdkmpGrt.LiveEntries);
    if (Table != NULL) {
        for (Bucket = 0; Bucket <= Table->Mask; Bucket += 1) {
            for (Node = Table->Buckets[Bucket]; Node != NULL; Node = Next) {
                Next = Node->Next;
                WdkmpGrtDropReference(Node->Entry);
                WdkmpFreeBlock(Node, sizeof(*Node));
            }
        }
        WdkmpGrtFreeTable(Table);
    }

    /* Locks still referenced are freed by their last dereference. */
    WdkmpGrtFreeDeferred();
    while (WdkmpLoadLong(&WdkmpGrt.LiveEntries) != 0 && (LimitMs < 0 || WaitedMs < LimitMs)) {
        WdkmpSleepMs(WDKMP_GRT_POLL_MS);
        WaitedMs += WDKMP_GRT_POLL_MS;
        WdkmpGrtFreeDeferred();
    }
    Out->Freed = (ULONG)(LiveBefore - WdkmpLoadLong(&WdkmpGrt.LiveEntries));
    if (WdkmpLoadLong(&WdkmpGrt.LiveEntries) != 0) {
        WdkmpGrtReportSurvivors(Out);
        return STATUS_TIMEOUT;
    }
    InterlockedExchange(&WdkmpGrt.State, WDKMP_GRT_UNINITIALIZED);
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * Scoped form
 */

static
NTSTATUS
WdkmpGrtScopeRelease(
    _Inout_ PWDKM_SCOPE Scope
    )
{
    NTSTATUS Status = WdkmpLockScopeRelease(Scope);

    if (!NT_SUCCESS(Status)) {
        return Status;          /* still held: keep the reference too */
    }
    return WdkmGrtDereference(Scope->Lock);
}

WDKM_SCOPE
WdkmGrtScopeEnter(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    )
{
    const WDKMP_LOCK_KIND *Descriptor = WdkmpLockKindOf(Kind);
    KIRQL SavedIrql = PASSIVE_LEVEL;
    PVOID Lock = NULL;
    NTSTATUS Result;
    WDKM_SCOPE Scope;

    *Data = NULL;
    if (Descriptor == NULL || Descriptor->Acquire == NULL) {
        Result = STATUS_INVALID_PARAMETER;      /* no scoped form for this kind */
    } else {
        Result = WdkmGrtReference(Name, Kind, DataSize, &Lock);
    }
    if (Result == STATUS_SUCCESS) {
        Result = Descriptor->Acquire(Lock, DataSize, Data, &SavedIrql);
        if (Result != STATUS_SUCCESS) {
            (VOID)WdkmGrtDereference(Lock);
        }
    }
    Scope = WdkmpScopeResult(Lock, WdkmpGrtScopeRelease, Result, Status);
    Scope.SavedIrql = SavedIrql;
    return Scope;
}
