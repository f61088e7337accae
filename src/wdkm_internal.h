/*
 * wdkm_internal.h - what the lock kinds share: the header at the start of
 * every lock block, the block layout, and the checks every entry point
 * makes. Private to src/.
 *
 * A lock block is one pool allocation:
 *
 *     +------------------------------+  <- the PWDKM_xxx handle
 *     | WDKMP_LOCK_HEADER            |
 *     | kind fields + kernel object  |
 *     +------------------------------+  <- Header.Data, WDKMP_DATA_ALIGNMENT
 *     | the protected value          |
 *     +------------------------------+
 */
#ifndef WDKM_INTERNAL_H
#define WDKM_INTERNAL_H

#include "wdkmutex/wdkmutex.h"
#include "wdkmutex/wdkm_grt.h"
#include "wdkm_port.h"

/*
 * Kind signatures, checked where a handle enters the library outside the
 * fast path (destroy, take), and overwritten when the block is freed.
 */
#define WDKMP_SIGNATURE_KMUTEX     0x784D4B57UL   /* 'WKMx' */
#define WDKMP_SIGNATURE_FAST_MUTEX 0x784D4657UL   /* 'WFMx' */
#define WDKMP_SIGNATURE_FREED      0x64616544UL   /* 'Dead' */

/* The value is aligned as pool blocks themselves are (16 bytes on x64). */
#define WDKMP_DATA_ALIGNMENT 16

typedef struct _WDKMP_LOCK_HEADER {
    ULONG Signature;
    SIZE_T DataSize;                 /* the type size every access must match */
    SIZE_T BlockSize;                /* whole allocation, for the accounting */
    PVOID Data;
    WDKMP_THREAD volatile Owner;     /* written by the owner only; NULL when free */
    PVOID RegistryEntry;             /* the registry's entry, if it owns the lock */
} WDKMP_LOCK_HEADER, *PWDKMP_LOCK_HEADER;

/* IRQL classes for the KMUTEX release rule. */
#define WDKMP_IRQL_CLASS(Irql) ((Irql) >= DISPATCH_LEVEL)

/*
 * WdkmpLockCreate - validate the arguments every create takes, allocate a
 * zeroed block of LockSize + the value, copy the value in.
 * IRQL <= DISPATCH_LEVEL. On success *Lock is the block; the caller
 * initialises its kernel object.
 */
_Must_inspect_result_
NTSTATUS
WdkmpLockCreate(
    _In_ ULONG Signature,
    _In_ SIZE_T LockSize,
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Lock
    );

/*
 * WdkmpLockDestroy - free a lock block that is not held, after copying its
 * value into *Value when Value is not NULL (a take, checked against
 * DataSize). Only the registry (ByRegistry) may free a lock it owns.
 * IRQL <= DISPATCH_LEVEL.
 */
NTSTATUS
WdkmpLockDestroy(
    _In_opt_ PVOID Lock,
    _In_ ULONG Signature,
    _In_ SIZE_T DataSize,
    _Out_writes_bytes_opt_(DataSize) PVOID Value,
    _In_ BOOLEAN ByRegistry
    );

/*
 * WdkmpLockOwnerStatus - the status of a release by a thread that is not
 * the owner: STATUS_WDKM_NOT_HELD if nobody owns it, else NOT_OWNER.
 */
FORCEINLINE
NTSTATUS
WdkmpLockOwnerStatus(
    _In_opt_ WDKMP_THREAD Owner
    )
{
    return Owner == NULL ? STATUS_WDKM_NOT_HELD : STATUS_WDKM_NOT_OWNER;
}

/*
 * WdkmpScopeResult - finish a ScopeEnter: the scope holds Lock only if the
 * acquisition succeeded.
 */
WDKM_SCOPE
WdkmpScopeResult(
    _In_ PVOID Lock,
    _In_ PWDKM_SCOPE_RELEASE Release,
    _In_ NTSTATUS Status,
    _Out_ NTSTATUS *StatusOut
    );

/*
 * What the registry and the scoped forms need to know of a lock kind: one
 * descriptor per kind, defined in the kind's file and listed in
 * WdkmpLockKinds (wdkm_lock.c). A new kind adds a WDKM_LOCK_KIND value, its
 * descriptor, and a line there.
 */
typedef struct _WDKMP_LOCK_KIND {
    WDKM_LOCK_KIND Kind;
    ULONG Signature;
    NTSTATUS (*Create)(_In_reads_bytes_(DataSize) const VOID *InitialValue,
                       _In_ SIZE_T DataSize, _Outptr_result_maybenull_ PVOID *Lock);
    NTSTATUS (*Acquire)(_Inout_ PVOID Lock, _In_ SIZE_T DataSize,
                        _Outptr_result_maybenull_ PVOID *Data);
    NTSTATUS (*Release)(_Inout_ PVOID Lock);
} WDKMP_LOCK_KIND;

extern const WDKMP_LOCK_KIND WdkmpKMutexKind;
extern const WDKMP_LOCK_KIND WdkmpFastMutexKind;

/* The descriptor of a public kind, or NULL if the library has none. */
const WDKMP_LOCK_KIND *
WdkmpLockKindOf(
    _In_ WDKM_LOCK_KIND Kind
    );

/* The release of every plain scoped form: the kind comes from the header. */
NTSTATUS
WdkmpLockScopeRelease(
    _Inout_ PWDKM_SCOPE Scope
    );

/* Pool blocks, counted for WdkmQueryPoolStatistics (wdkm_pool.c). */
_IRQL_requires_max_(DISPATCH_LEVEL)
PVOID
WdkmpAllocateBlock(
    _In_ SIZE_T Bytes
    );

_IRQL_requires_max_(DISPATCH_LEVEL)
VOID
WdkmpFreeBlock(
    _In_ PVOID Block,
    _In_ SIZE_T Bytes
    );

#endif /* WDKM_INTERNAL_H */
