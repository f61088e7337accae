/*
 * wdkm_diag_class.c - lock classes and the list of live locks (checked
 * builds). A lock's class is its registry name, the name given with
 * WdkmDiagSetClassName, its creation site, or the lock alone (wdkm_diag.h).
 * The tables are changed under WdkmpDiag.Lock.
 */
#include "wdkm_diag_private.h"

#if WDKM_CHECKED

/*
 * Header of a live library lock, or NULL. Only the first word of Lock is
 * read until it matched a kind's signature, and the kind pointer is
 * compared, never followed: memory that is not a lock is refused without
 * being walked. (Lock must point at readable memory of a header's size.)
 */
PWDKMP_LOCK_HEADER
WdkmpDiagHeaderOf(
    _In_opt_ const VOID *Lock
    )
{
    PWDKMP_LOCK_HEADER Header = (PWDKMP_LOCK_HEADER)Lock;
    const WDKMP_LOCK_KIND *Kind;
    ULONG Value;

    if (Header == NULL) {
        return NULL;
    }
    for (Value = WdkmLockKindKMutex; Value <= WdkmLockKindPushLock; Value += 1) {
        Kind = WdkmpLockKindOf((WDKM_LOCK_KIND)Value);
        if (Kind != NULL && Header->Signature == Kind->Signature) {
            return Header->Kind == Kind ? Header : NULL;
        }
    }
    return NULL;
}

PCSTR
WdkmpDiagClassName(
    _In_ LONG Index
    )
{
    return Index >= 0 ? WdkmpDiag.Classes[Index].Name : "(untracked)";
}

/* "KMUTEX@<address>": the class of a lock with no other. */
static
VOID
WdkmpDiagAnonymousName(
    _In_ const WDKMP_LOCK_HEADER *Header,
    _Out_writes_(WDKM_DIAG_NAME_LENGTH) PCHAR Name
    )
{
    ULONG Length = 0;

    WdkmpDiagAppend(Name, &Length, WdkmpDiagKindName(Header->Kind->Kind));
    WdkmpDiagAppend(Name, &Length, "@");
    WdkmpDiagAppendNumber(Name, &Length, (ULONG64)(ULONG_PTR)Header, 16);
}

PCSTR
WdkmpDiagLockClassName(
    _In_ const WDKMP_LOCK_HEADER *Header,
    _Out_writes_(WDKM_DIAG_NAME_LENGTH) PCHAR Buffer
    )
{
    LONG Index = WdkmpLoadLong(&Header->Diag.Class);

    if (Index == WDKMP_DIAG_CLASS_PENDING) {
        WdkmpDiagAnonymousName(Header, Buffer);
        return Buffer;
    }
    return WdkmpDiagClassName(Index);
}

static
LONG
WdkmpDiagClassFind(
    _In_z_ PCSTR Name
    )
{
    LONG Index;

    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        WDKMP_DIAG_CLASS *Class = &WdkmpDiag.Classes[Index];
        if (Class->InUse && !Class->Anonymous && WdkmpDiagNameEqual(Class->Name, Name)) {
            return Index;
        }
    }
    return -1;
}

/*
 * A full table frees the named class no live lock is in that was used
 * least recently, forgetting its orders and figures, so that a driver
 * naming a lock per handle or per request keeps being validated after its
 * 256th name (Linux's lockdep, whose class table is also static, stops
 * validating instead). -1 when every class has a live lock. Under the lock.
 */
static
LONG
WdkmpDiagClassRecycle(
    VOID
    )
{
    LONG Index;
    LONG Oldest = -1;

    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        const WDKMP_DIAG_CLASS *Class = &WdkmpDiag.Classes[Index];
        if (Class->Locks == 0 &&
            (Oldest < 0 ||
             (LONG)(Class->LastUsed - WdkmpDiag.Classes[Oldest].LastUsed) < 0)) {
            Oldest = Index;
        }
    }
    if (Oldest >= 0) {
        WdkmpDiagForgetOrders(Oldest);
        WdkmpDiag.Classes[Oldest].InUse = FALSE;
    }
    return Oldest;
}

static
LONG
WdkmpDiagClassNew(
    _In_z_ PCSTR Name,
    _In_ BOOLEAN Anonymous,
    _In_ WDKM_LOCK_KIND Kind
    )
{
    WDKMP_DIAG_CLASS *Class;
    LONG Index;
    ULONG Length = 0;

    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        if (!WdkmpDiag.Classes[Index].InUse) {
            break;
        }
    }
    if (Index == WDKM_DIAG_MAX_CLASSES) {
        Index = WdkmpDiagClassRecycle();
        if (Index < 0) {
            if (WdkmpDiagWarnOnce(WDKMP_DIAG_WARNED_CLASSES)) {
                WdkmpDebugPrint(WDKMP_DEBUG_WARNING,
                                "wdkmutex: diagnostics: class table full (WDKM_DIAG_MAX_CLASSES %u), "
                                "every class with a live lock; locks in new classes are not "
                                "validated\n",
                                (unsigned)WDKM_DIAG_MAX_CLASSES);
            }
            return -1;
        }
    }
    Class = &WdkmpDiag.Classes[Index];
    RtlZeroMemory(Class, sizeof(*Class));
    WdkmpDiagAppend(Class->Name, &Length, Name);
    Class->InUse = TRUE;
    Class->Anonymous = Anonymous;
    Class->Kind = Kind;
    return Index;
}

static
VOID
WdkmpDiagClassDrop(
    _In_ LONG Index
    )
{
    WDKMP_DIAG_CLASS *Class;

    if (Index < 0) {
        return;
    }
    Class = &WdkmpDiag.Classes[Index];
    Class->Locks -= 1;
    Class->LastUsed = ++WdkmpDiag.ClassClock;
    if (Class->Anonymous && Class->Locks == 0) {
        WdkmpDiagForgetOrders(Index);
        Class->InUse = FALSE;
    }
}

/*
 * Moves Header into class Index (or none, -1). Its figures so far stay
 * with the class it leaves, and it starts again from zero. Under the lock.
 */
static
VOID
WdkmpDiagClassAssign(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _In_ LONG Index
    )
{
    LONG Old = WdkmpLoadLong(&Header->Diag.Class);

    if (Old >= 0) {
        WdkmpDiagAddFigures(&WdkmpDiag.Classes[Old].Retired, &Header->Diag.Figures);
    }
    if (Old != WDKMP_DIAG_CLASS_PENDING) {
        /* (a pending lock was never counted: its first acquisition gives
           it its place before it counts, and another reader of it may be
           counting already) */
        WdkmpDiagClearFigures(&Header->Diag.Figures);
    }
    if (Index >= 0) {
        WdkmpDiag.Classes[Index].Locks += 1;
        WdkmpDiag.Classes[Index].LastUsed = ++WdkmpDiag.ClassClock;
    }
    InterlockedExchange(&Header->Diag.Class, Index);
    WdkmpDiagClassDrop(Old);
}

NTSTATUS
WdkmpDiagSetClass(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _In_z_ PCSTR Name
    )
{
    KIRQL OldIrql;
    LONG Index;

    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    Index = WdkmpDiagClassFind(Name);
    if (Index < 0) {
        Index = WdkmpDiagClassNew(Name, FALSE, Header->Kind->Kind);
    }
    if (Index >= 0) {
        WdkmpDiagClassAssign(Header, Index);
    }
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
    return Index >= 0 ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

VOID
WdkmpDiagSetRegistryClass(
    _Inout_ PWDKMP_LOCK_HEADER Header,
    _In_z_ PCSTR Name
    )
{
    CHAR Role[WDKM_DIAG_NAME_LENGTH];
    ULONG Length = 0;

    while (Name[Length] != '\0' && Name[Length] != '#' && Length < sizeof(Role) - 1) {
        Role[Length] = Name[Length];
        Length += 1;
    }
    Role[Length] = '\0';
    /* A name with nothing before its '#' has no role: it is its own class,
       whole, as a name without '#' is (one class "" for all such names
       would join locks nothing relates). */
    (VOID)WdkmpDiagSetClass(Header, Length > 0 ? Role : Name);    /* a full table keeps the class of one */
}

VOID
WdkmpDiagClassesReset(
    VOID
    )
{
    LONG Index;

    for (Index = 0; Index < WDKM_DIAG_MAX_CLASSES; Index += 1) {
        WDKMP_DIAG_CLASS *Class = &WdkmpDiag.Classes[Index];
        if (Class->InUse && Class->Locks == 0) {
            Class->InUse = FALSE;            /* a named class nobody uses any more */
        }
        WdkmpDiagClearFigures(&Class->Retired);
    }
}

/* ------------------------------------------------------------------------
 * Live locks.
 */

LONG
WdkmpDiagLockClass(
    _Inout_ PWDKMP_LOCK_HEADER Header
    )
{
    CHAR Name[WDKM_DIAG_NAME_LENGTH];
    LONG Index = WdkmpLoadLong(&Header->Diag.Class);
    KIRQL OldIrql;

    if (Index != WDKMP_DIAG_CLASS_PENDING) {
        return Index;
    }
    WdkmpDiagAnonymousName(Header, Name);
    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    if (Header->Diag.Class == WDKMP_DIAG_CLASS_PENDING) {     /* not another reader's first */
        WdkmpDiagClassAssign(Header, WdkmpDiagClassNew(Name, TRUE, Header->Kind->Kind));
    }
    Index = Header->Diag.Class;
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
    return Index;
}

VOID
WdkmpDiagLockCreated(
    _Inout_ PWDKMP_LOCK_HEADER Header
    )
{
    KIRQL OldIrql;

    WdkmpDiagClearFigures(&Header->Diag.Figures);
    Header->Diag.Class = WDKMP_DIAG_CLASS_PENDING;    /* its place: at its first acquisition */
    OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);
    Header->Diag.Prev = NULL;
    Header->Diag.Next = WdkmpDiag.Live;
    if (WdkmpDiag.Live != NULL) {
        WdkmpDiag.Live->Diag.Prev = Header;
    }
    WdkmpDiag.Live = Header;
    WdkmpDiag.LiveLocks += 1;
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
}

VOID
WdkmpDiagLockDestroyed(
    _Inout_ PWDKMP_LOCK_HEADER Header
    )
{
    KIRQL OldIrql = WdkmpSpinLockAcquire(&WdkmpDiag.Lock);

    if (Header->Diag.Prev != NULL) {
        Header->Diag.Prev->Diag.Next = Header->Diag.Next;
    } else {
        WdkmpDiag.Live = Header->Diag.Next;
    }
    if (Header->Diag.Next != NULL) {
        Header->Diag.Next->Diag.Prev = Header->Diag.Prev;
    }
    WdkmpDiag.LiveLocks -= 1;
    WdkmpDiagClassAssign(Header, -1);
    WdkmpSpinLockRelease(&WdkmpDiag.Lock, OldIrql);
}

/* ------------------------------------------------------------------------
 * Public functions.
 */

NTSTATUS
WdkmDiagSetClassName(
    _In_ PVOID Lock,
    _In_z_ PCSTR Name
    )
{
    PWDKMP_LOCK_HEADER Header = WdkmpDiagHeaderOf(Lock);

    if (Header == NULL || Name == NULL || Name[0] == '\0') {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmpGetIrql() > DISPATCH_LEVEL) {
        return STATUS_WDKM_IRQL_TOO_HIGH;
    }
    if (Header->RegistryEntry != NULL) {
        return STATUS_WDKM_OWNED_BY_REGISTRY;
    }
    if (WdkmpLockIsHeld(Header)) {
        return STATUS_WDKM_LOCK_HELD;
    }
    return WdkmpDiagSetClass(Header, Name);
}

NTSTATUS
WdkmDiagNoteCreated(
    _In_ NTSTATUS Status,
    _In_opt_ const VOID *LockPointer,
    _In_z_ PCSTR File,
    _In_ ULONG Line
    )
{
    PWDKMP_LOCK_HEADER Header;
    CHAR Name[WDKM_DIAG_NAME_LENGTH];
    ULONG Length = 0;

    if (Status != STATUS_SUCCESS || LockPointer == NULL) {
        return Status;
    }
    Header = WdkmpDiagHeaderOf(*(PVOID const *)LockPointer);
    if (Header != NULL && Header->RegistryEntry == NULL) {
        WdkmpDiagAppend(Name, &Length, WdkmpDiagBaseName(File));
        WdkmpDiagAppend(Name, &Length, ":");
        WdkmpDiagAppendNumber(Name, &Length, Line, 10);
        (VOID)WdkmpDiagSetClass(Header, Name);   /* a full table keeps the class of one */
    }
    return Status;
}

#else

/* Release builds: nothing here (ISO C wants a declaration in every file). */
typedef int WDKMP_DIAG_CLASS_COMPILED_OUT;

#endif /* WDKM_CHECKED */
