/*
 * wdkm_grt.h - the global registry ("Grt", global reference tracker): named,
 * typed locks for the whole driver.
 *
 * Register a lock with its initial value under a name at DriverEntry, look
 * it up by name from any thread, callback, work item or IOCTL path, and tear
 * everything down with one call at unload:
 *
 *     DriverEntry:   WdkmGrtInitialize();
 *                    WDKM_GRT_REGISTER_KMUTEX("stats", &InitialStats);
 *     any thread:    PWDKM_KMUTEX Stats;
 *                    if (WDKM_GRT_GET_KMUTEX("stats", STATS, &Stats) == STATUS_SUCCESS) {
 *                        ... WDKM_KMUTEX_ACQUIRE(Stats, &Data) ... release ...
 *                        WdkmGrtDereference(Stats);
 *                    }
 *     or simply:     WDKM_GRT_KMUTEX_SCOPED("stats", Data, &Status) { ... }
 *     DriverUnload:  WdkmGrtDestroy(NULL, &Report);
 *
 * Semantics:
 *   - A successful Get returns the lock with a reference: the lock and its
 *     value stay allocated until WdkmGrtDereference, whatever else happens
 *     (unregistration, Destroy). Dereference once per successful Get, after
 *     releasing the lock.
 *   - Lookups take no lock: readers announce themselves in their
 *     processor's slot and walk the hash table with acquire loads (below
 *     APC_LEVEL inside a guarded region, so that no APC can suspend a
 *     reader that writers wait for). Writers
 *     (register, unregister, destroy) serialise among themselves and wait
 *     for readers that may still see what they remove before freeing it.
 *     Lookup cost does not depend on the number of names: the table is
 *     open-addressed and rebuilt larger when half full.
 *   - Unregister removes the name at once (new lookups fail); the lock is
 *     freed when its last reference is dropped.
 *   - Destroy refuses new lookups (STATUS_DELETE_PENDING while it runs,
 *     STATUS_WDKM_NOT_INITIALIZED after), waits for lookups and writers in
 *     flight, frees every lock nobody references, and waits for the
 *     others; its timeout bounds all of these waits. On timeout it reports
 *     the locks still alive (and which of them are held) through
 *     DbgPrintEx and *Report, frees nothing that is in use, and returns
 *     STATUS_TIMEOUT: call it again later.
 *   - Locks owned by the registry cannot be destroyed or taken with
 *     WdkmKMutexDestroy & co (STATUS_WDKM_OWNED_BY_REGISTRY).
 *
 * Names are NUL-terminated char strings of 1..WDKM_GRT_MAX_NAME_LENGTH
 * characters, compared byte for byte; they are copied, so a caller's stack
 * buffer is fine.
 */
#ifndef WDKM_GRT_H
#define WDKM_GRT_H

#include "wdkm_base.h"
#include "wdkm_scope.h"
#include "wdkm_kmutex.h"
#include "wdkm_fastmutex.h"
#include "wdkm_spinlock.h"
#include "wdkm_guardedmutex.h"
#include "wdkm_rwlock.h"

WDKM_EXTERN_C_BEGIN

#define WDKM_GRT_MAX_NAME_LENGTH 63

/* Every lock kind the registry holds. */
typedef enum _WDKM_LOCK_KIND {
    WdkmLockKindKMutex = 1,
    WdkmLockKindFastMutex = 2,
    WdkmLockKindSpinLock = 3,
    WdkmLockKindQueuedSpinLock = 4,   /* registrable; no registry scoped form */
    WdkmLockKindGuardedMutex = 5,
    WdkmLockKindResource = 6,         /* registry scoped form: exclusive */
    WdkmLockKindPushLock = 7          /* registry scoped form: exclusive */
} WDKM_LOCK_KIND;

/* WdkmGrtRegister flags. */
#define WDKM_GRT_REPLACE 0x00000001UL   /* replace an existing name instead of failing */

/* What WdkmGrtDestroy could not free yet. */
#define WDKM_GRT_REPORT_NAMES 16

typedef struct _WDKM_GRT_REPORT {
    ULONG Freed;                  /* locks alive when this call began, gone when it returns
                                     (freed by it or by a last dereference while it waited;
                                     deferred ERESOURCEs included) */
    ULONG StillReferenced;        /* registered locks still referenced */
    ULONG StillHeld;              /* ... of which held by a thread */
    ULONG UnregisteredReferenced; /* unregistered (or replaced) locks not yet dereferenced */
    ULONG NamesReported;          /* entries used in Names: survivors of both sorts, first found */
    CHAR Names[WDKM_GRT_REPORT_NAMES][WDKM_GRT_MAX_NAME_LENGTH + 1];
    BOOLEAN Held[WDKM_GRT_REPORT_NAMES];
} WDKM_GRT_REPORT, *PWDKM_GRT_REPORT;

/*
 * WdkmGrtInitialize - create the registry.
 * IRQL: PASSIVE_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_ALREADY_INITIALIZED
 * (also while a Destroy is unfinished); STATUS_INSUFFICIENT_RESOURCES;
 * STATUS_WDKM_IRQL_TOO_HIGH.
 */
_Must_inspect_result_
_IRQL_requires_(PASSIVE_LEVEL)
NTSTATUS
WdkmGrtInitialize(
    VOID
    );

/*
 * WdkmGrtDestroy - free every registered lock; see the semantics above.
 * Timeout: NT convention (100 ns units; negative = an interval, positive =
 * an absolute system time, 0 = no waiting); NULL, and intervals of more
 * than about 22 years (INT64_MIN), wait as long as it takes. It bounds
 * every wait of the call.
 * IRQL: PASSIVE_LEVEL. Returns STATUS_SUCCESS (all freed; Initialize may be
 * called again); STATUS_TIMEOUT (locks still referenced, see *Report);
 * STATUS_WDKM_NOT_INITIALIZED; STATUS_WDKM_IRQL_TOO_HIGH. The caller must
 * not hold a registry lock itself (it would wait for itself until the
 * timeout).
 */
_IRQL_requires_(PASSIVE_LEVEL)
NTSTATUS
WdkmGrtDestroy(
    _In_opt_ const LARGE_INTEGER *Timeout,
    _Out_opt_ PWDKM_GRT_REPORT Report
    );

/*
 * WdkmGrtRegister - create a lock of Kind holding a copy of *InitialValue
 * and register it under Name.
 * IRQL: <= APC_LEVEL. Returns STATUS_SUCCESS; STATUS_OBJECT_NAME_COLLISION
 * (name taken, without WDKM_GRT_REPLACE); STATUS_OBJECT_NAME_INVALID (empty
 * name); STATUS_NAME_TOO_LONG; STATUS_INVALID_PARAMETER (NULL, bad kind or
 * flags, size 0 or too large); STATUS_INSUFFICIENT_RESOURCES;
 * STATUS_WDKM_NOT_INITIALIZED; STATUS_DELETE_PENDING (Destroy running);
 * STATUS_WDKM_IRQL_TOO_HIGH. With WDKM_GRT_REPLACE an existing lock of the
 * name is unregistered (freed once unreferenced).
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
NTSTATUS
WdkmGrtRegister(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _In_ ULONG Flags
    );

/*
 * WdkmGrtRegisterInPlace - as WdkmGrtRegister, with the value (DataSize
 * bytes, zeroed) set up in the lock's block by Initialize(Value, Context)
 * before the lock is registered: for a LIST_ENTRY head or another value
 * that points into itself. IRQL: <= APC_LEVEL (Initialize runs at the
 * caller's IRQL, before the registry's writer lock is taken). Returns as
 * WdkmGrtRegister, and Initialize's failure status (nothing registered,
 * nothing left); STATUS_INVALID_PARAMETER also for a NULL Initialize. The
 * registry frees the lock without a drain: a value that links records of
 * its own wants WdkmGrtRegisterInPlaceDrained, whose Drain takes them
 * apart when the lock is freed, whoever drops its last reference.
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
NTSTATUS
WdkmGrtRegisterInPlace(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_ ULONG Flags
    );

/*
 * WdkmGrtRegisterInPlaceDrained - as WdkmGrtRegisterInPlace, and when the
 * registry frees the lock, Drain(Value, DrainContext) takes the value
 * apart first (the list's records, say), as a lock's DestroyWith does:
 * once, after the name is gone (unregistered, replaced, or the registry
 * destroyed) and the last reference dropped, when no thread can reach the
 * lock any more. Also when the registration itself fails after Initialize
 * succeeded (a name taken, the registry closing): what Initialize set up is
 * drained, never leaked.
 *
 * IRQL: <= APC_LEVEL for the call. Drain runs in whichever call frees the
 * lock: WdkmGrtDereference, WdkmGrtUnregister, a WdkmGrtRegister that
 * replaces or fails, or WdkmGrtDestroy, at that call's IRQL, at most the
 * kind's destroy IRQL (DISPATCH_LEVEL; APC_LEVEL for an ERESOURCE, whose
 * frees from DISPATCH_LEVEL wait for the next WdkmGrtRegister or
 * WdkmGrtUnregister made at <= APC_LEVEL, or WdkmGrtDestroy). So Drain
 * must be non-paged code that can run at DISPATCH_LEVEL unless the kind
 * is an ERESOURCE (a push lock's too: its destroy IRQL is
 * DISPATCH_LEVEL, as WdkmPushLockDestroyWith's). It must not fail,
 * keep Value, use the lock's handle (it is no lock any more), or wait for
 * a registry call of another thread.
 *
 * Returns as WdkmGrtRegisterInPlace; STATUS_INVALID_PARAMETER also for a
 * NULL Drain (nothing registered, Initialize not called).
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
NTSTATUS
WdkmGrtRegisterInPlaceDrained(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID DrainContext,
    _In_ ULONG Flags
    );

/*
 * A lock kind's descriptor (its create, acquire, release and teardown),
 * opaque. The typed registration macros below pass one, so that a driver
 * links the code and kernel imports of the kinds it registers and no
 * other; WdkmGrtRegister and WdkmGrtRegisterInPlace, which take the kind
 * as a value, link them all. The objects are the library's: name them
 * only through the macros.
 */
typedef struct _WDKMP_LOCK_KIND WDKM_KIND_DESCRIPTOR;
extern const WDKM_KIND_DESCRIPTOR WdkmpKMutexKind;
extern const WDKM_KIND_DESCRIPTOR WdkmpFastMutexKind;
extern const WDKM_KIND_DESCRIPTOR WdkmpSpinLockKind;
extern const WDKM_KIND_DESCRIPTOR WdkmpQueuedSpinLockKind;
extern const WDKM_KIND_DESCRIPTOR WdkmpGuardedMutexKind;
extern const WDKM_KIND_DESCRIPTOR WdkmpResourceKind;
extern const WDKM_KIND_DESCRIPTOR WdkmpPushLockKind;

/*
 * WdkmGrtRegisterKind, WdkmGrtRegisterInPlaceKind,
 * WdkmGrtRegisterInPlaceDrainedKind - WdkmGrtRegister,
 * WdkmGrtRegisterInPlace and WdkmGrtRegisterInPlaceDrained for the kind
 * Descriptor describes: what the typed
 * macros (WDKM_GRT_REGISTER_SPIN_LOCK, WDKM_GRT_REGISTER_IN_PLACE_OF, ...)
 * call. IRQL: <= APC_LEVEL. Same statuses and rules; Descriptor must be
 * one of the library's (STATUS_INVALID_PARAMETER for NULL).
 */
_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
NTSTATUS
WdkmGrtRegisterKind(
    _In_z_ PCSTR Name,
    _In_ const WDKM_KIND_DESCRIPTOR *Descriptor,
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _In_ ULONG Flags
    );

_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
NTSTATUS
WdkmGrtRegisterInPlaceKind(
    _In_z_ PCSTR Name,
    _In_ const WDKM_KIND_DESCRIPTOR *Descriptor,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_ ULONG Flags
    );

_Must_inspect_result_
_IRQL_requires_max_(APC_LEVEL)
NTSTATUS
WdkmGrtRegisterInPlaceDrainedKind(
    _In_z_ PCSTR Name,
    _In_ const WDKM_KIND_DESCRIPTOR *Descriptor,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID DrainContext,
    _In_ ULONG Flags
    );

/*
 * WdkmGrtReference - look Name up and take a reference on its lock.
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS and the lock in *Lock;
 * STATUS_OBJECT_NAME_NOT_FOUND; STATUS_WDKM_TYPE_MISMATCH (other kind or
 * other data size); STATUS_INVALID_PARAMETER; STATUS_OBJECT_NAME_INVALID;
 * STATUS_NAME_TOO_LONG; STATUS_WDKM_NOT_INITIALIZED; STATUS_DELETE_PENDING;
 * STATUS_WDKM_IRQL_TOO_HIGH. *Lock is NULL on failure. The caller must
 * call WdkmGrtDereference once for every success.
 */
_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmGrtReference(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Lock
    );

/*
 * WdkmGrtReferenceOrBugCheck - the callback form of WdkmGrtReference, for
 * code that has no status to give (a cancel routine, a DPC, a completion
 * routine, a VOID helper) and runs only while Name is registered: a
 * failure there is a bug in the driver, and it is stopped by name.
 * IRQL: <= DISPATCH_LEVEL. Returns the lock, referenced (never NULL): the
 * caller must call WdkmGrtDereference once, as after WdkmGrtReference.
 * Where WdkmGrtReference would answer anything but STATUS_SUCCESS (name
 * not found, other kind or size, IRQL, registry not ready or being
 * destroyed, a bad name), nothing is referenced and the system stops with
 * bug check WDKM_BUGCHECK_LOCK_MISUSE: P1 that status, P2 the name's
 * address, P3 the caller, P4 (Kind << 8) | IRQL; the checked build
 * reports the name and the site first. The caller must not use it where a
 * failure can be handled: the plain form returns the status instead.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
_Ret_notnull_
PVOID
WdkmGrtReferenceOrBugCheck(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize
    );

/*
 * WdkmGrtDereference - drop a reference taken by a Get.
 * IRQL: <= DISPATCH_LEVEL. Returns STATUS_SUCCESS; STATUS_WDKM_LOCK_HELD if
 * the calling thread still holds the lock (the reference is kept: release
 * first); STATUS_INVALID_PARAMETER for NULL or a lock that is not the
 * registry's. The caller must not use the lock afterwards, nor drop the
 * same reference twice (not detected: the count is then one short, see
 * reference.md). A push lock the
 * caller holds shared is detected while it is one of the lock's first eight
 * readers at once; beyond them, in checked builds only (see reference.md).
 * A DPC or special kernel APC that interrupted the holder is not refused
 * for that hold (it gives back the reference it took itself): at
 * APC_LEVEL and above, an exclusive hold taken below the caller's IRQL
 * (a KMUTEX's taken at APC_LEVEL counts as taken at PASSIVE_LEVEL, as an
 * ERESOURCE's or a push lock's), and any shared hold, count as the
 * interrupted code's. (Not a KMUTEX taken at DISPATCH_LEVEL whose code
 * has lowered the IRQL: keep such a hold at DISPATCH_LEVEL, see
 * reference.md.)
 * The last reference of an unregistered lock frees it, except an ERESOURCE
 * dropped at DISPATCH_LEVEL (ExDeleteResourceLite needs <= APC_LEVEL): that
 * one is freed by the next WdkmGrtRegister or WdkmGrtUnregister made at
 * <= APC_LEVEL, or by WdkmGrtDestroy.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmGrtDereference(
    _In_ PVOID Lock
    );

/*
 * WdkmGrtUnregister - remove Name; its lock is freed once unreferenced.
 * IRQL: <= APC_LEVEL. Returns STATUS_SUCCESS; STATUS_OBJECT_NAME_NOT_FOUND;
 * the name errors of WdkmGrtRegister; STATUS_WDKM_NOT_INITIALIZED;
 * STATUS_DELETE_PENDING; STATUS_WDKM_IRQL_TOO_HIGH. Threads that hold a
 * reference keep a working lock until they dereference it.
 */
_IRQL_requires_max_(APC_LEVEL)
NTSTATUS
WdkmGrtUnregister(
    _In_z_ PCSTR Name
    );

/*
 * WdkmGrtInstanceName - write the registry name of one object's lock,
 * "Role#" and Instance in hex (as many digits as a pointer has), e.g.
 * WdkmGrtInstanceName(Name, sizeof(Name), "threadq.file", FileObject)
 * gives "threadq.file#ffffa50c3e2b1d40": a lock per handle, per request,
 * per device. In checked builds a registry name's lock class is the name up
 * to its first '#', so every instance of a role is in the class Role and an
 * order learnt on one is validated on all (wdkm_diag.h).
 * IRQL: any (it only writes Buffer). Returns STATUS_SUCCESS;
 * STATUS_INVALID_PARAMETER (NULL Buffer or Role, an empty Role, a Role
 * with a '#'); STATUS_BUFFER_TOO_SMALL (Size below what the name needs;
 * WDKM_GRT_INSTANCE_NAME_SIZE always does); STATUS_NAME_TOO_LONG (the name
 * would pass WDKM_GRT_MAX_NAME_LENGTH). Buffer is unchanged on failure.
 * The caller must not use Buffer after a failure.
 */
#define WDKM_GRT_INSTANCE_NAME_SIZE (WDKM_GRT_MAX_NAME_LENGTH + 1)

_Must_inspect_result_
_IRQL_requires_max_(HIGH_LEVEL)
NTSTATUS
WdkmGrtInstanceName(
    _Out_writes_z_(Size) PCHAR Buffer,
    _In_ SIZE_T Size,
    _In_z_ PCSTR Role,
    _In_opt_ const VOID *Instance
    );

/*
 * WdkmGrtScopeEnter - get and acquire (exclusively) for the scoped forms
 * below; not meant to be called directly. IRQL: that of the kind's
 * acquire (<= DISPATCH_LEVEL for a spin lock, <= APC_LEVEL otherwise).
 * STATUS_INVALID_PARAMETER for the queued spin lock, which needs a handle.
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
WDKM_SCOPE
WdkmGrtScopeEnter(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize,
    _Outptr_result_maybenull_ PVOID *Data,
    _Out_ NTSTATUS *Status
    );

/*
 * Typed forms: WDKM_GRT_REGISTER_<KIND>("name", &InitialValue) and
 * WDKM_GRT_REPLACE_<KIND> (with WDKM_GRT_REPLACE). Each links only its own
 * kind. WDKM_GRT_REGISTER(Name, Kind, &Value) takes the kind as a value
 * and so links every kind.
 */
#define WDKMP_GRT_REGISTER_KIND(Name, Descriptor, InitialValuePointer, Flags)          \
    WdkmGrtRegisterKind((Name), &(Descriptor), (InitialValuePointer),                  \
                        sizeof(*(InitialValuePointer)), (Flags))
#define WDKM_GRT_REGISTER_KMUTEX(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpKMutexKind, (InitialValuePointer), 0)
#define WDKM_GRT_REGISTER_FAST_MUTEX(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpFastMutexKind, (InitialValuePointer), 0)
#define WDKM_GRT_REGISTER_SPIN_LOCK(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpSpinLockKind, (InitialValuePointer), 0)
#define WDKM_GRT_REGISTER_QUEUED_SPIN_LOCK(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpQueuedSpinLockKind, (InitialValuePointer), 0)
#define WDKM_GRT_REGISTER_GUARDED_MUTEX(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpGuardedMutexKind, (InitialValuePointer), 0)
#define WDKM_GRT_REGISTER_RESOURCE(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpResourceKind, (InitialValuePointer), 0)
#define WDKM_GRT_REGISTER_PUSH_LOCK(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpPushLockKind, (InitialValuePointer), 0)
#define WDKM_GRT_REPLACE_KMUTEX(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpKMutexKind, (InitialValuePointer), WDKM_GRT_REPLACE)
#define WDKM_GRT_REPLACE_FAST_MUTEX(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpFastMutexKind, (InitialValuePointer), WDKM_GRT_REPLACE)
#define WDKM_GRT_REPLACE_SPIN_LOCK(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpSpinLockKind, (InitialValuePointer), WDKM_GRT_REPLACE)
#define WDKM_GRT_REPLACE_QUEUED_SPIN_LOCK(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpQueuedSpinLockKind, (InitialValuePointer), WDKM_GRT_REPLACE)
#define WDKM_GRT_REPLACE_GUARDED_MUTEX(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpGuardedMutexKind, (InitialValuePointer), WDKM_GRT_REPLACE)
#define WDKM_GRT_REPLACE_RESOURCE(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpResourceKind, (InitialValuePointer), WDKM_GRT_REPLACE)
#define WDKM_GRT_REPLACE_PUSH_LOCK(Name, InitialValuePointer) \
    WDKMP_GRT_REGISTER_KIND((Name), WdkmpPushLockKind, (InitialValuePointer), WDKM_GRT_REPLACE)

#define WDKM_GRT_REGISTER(Name, Kind, InitialValuePointer) \
    WdkmGrtRegister((Name), (Kind), (InitialValuePointer), sizeof(*(InitialValuePointer)), 0)
/* WDKM_GRT_REGISTER_IN_PLACE("name", WdkmLockKindSpinLock, DATA_TYPE, Initialize, Context) */
#define WDKM_GRT_REGISTER_IN_PLACE(Name, Kind, Type, Initialize, Context) \
    WdkmGrtRegisterInPlace((Name), (Kind), sizeof(Type), (Initialize), (Context), 0)
/* The same linking only the kind named: KindName is KMutex, FastMutex,
   SpinLock, QueuedSpinLock, GuardedMutex, Resource or PushLock. */
#define WDKM_GRT_REGISTER_IN_PLACE_OF(Name, KindName, Type, Initialize, Context) \
    WdkmGrtRegisterInPlaceKind((Name), &Wdkmp##KindName##Kind, sizeof(Type), (Initialize), \
                               (Context), 0)
/* The drained forms: WDKM_GRT_REGISTER_IN_PLACE_DRAINED("name",
   WdkmLockKindSpinLock, DATA_TYPE, Initialize, Context, Drain,
   DrainContext), and _OF with the kind named, as above. */
#define WDKM_GRT_REGISTER_IN_PLACE_DRAINED(Name, Kind, Type, Initialize, Context, Drain,   \
                                           DrainContext)                                  \
    WdkmGrtRegisterInPlaceDrained((Name), (Kind), sizeof(Type), (Initialize), (Context),   \
                                  (Drain), (DrainContext), 0)
#define WDKM_GRT_REGISTER_IN_PLACE_DRAINED_OF(Name, KindName, Type, Initialize, Context,   \
                                              Drain, DrainContext)                        \
    WdkmGrtRegisterInPlaceDrainedKind((Name), &Wdkmp##KindName##Kind, sizeof(Type),        \
                                      (Initialize), (Context), (Drain), (DrainContext), 0)

/* WDKM_GRT_GET_KMUTEX("name", DATA_TYPE, &Mutex) */
#define WDKM_GRT_GET_KMUTEX(Name, Type, MutexPointer) \
    WdkmGrtReference((Name), WdkmLockKindKMutex, sizeof(Type), (PVOID *)(MutexPointer))
#define WDKM_GRT_GET_FAST_MUTEX(Name, Type, FastMutexPointer) \
    WdkmGrtReference((Name), WdkmLockKindFastMutex, sizeof(Type), (PVOID *)(FastMutexPointer))
#define WDKM_GRT_GET_SPIN_LOCK(Name, Type, LockPointer) \
    WdkmGrtReference((Name), WdkmLockKindSpinLock, sizeof(Type), (PVOID *)(LockPointer))
#define WDKM_GRT_GET_QUEUED_SPIN_LOCK(Name, Type, LockPointer) \
    WdkmGrtReference((Name), WdkmLockKindQueuedSpinLock, sizeof(Type), (PVOID *)(LockPointer))
#define WDKM_GRT_GET_GUARDED_MUTEX(Name, Type, LockPointer) \
    WdkmGrtReference((Name), WdkmLockKindGuardedMutex, sizeof(Type), (PVOID *)(LockPointer))
#define WDKM_GRT_GET_RESOURCE(Name, Type, LockPointer) \
    WdkmGrtReference((Name), WdkmLockKindResource, sizeof(Type), (PVOID *)(LockPointer))
#define WDKM_GRT_GET_PUSH_LOCK(Name, Type, LockPointer) \
    WdkmGrtReference((Name), WdkmLockKindPushLock, sizeof(Type), (PVOID *)(LockPointer))

/*
 * The callback forms: PWDKM_SPIN_LOCK Lock =
 * WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK("name", DATA_TYPE); the lock,
 * referenced, or a stop naming the failure (WdkmGrtReferenceOrBugCheck).
 */
#define WDKMP_GRT_GET_OR_BUGCHECK(Name, Kind, Type) \
    WdkmGrtReferenceOrBugCheck(WDKMP_DIAG_LOOKUP_SITE(Name), (Kind), sizeof(Type))
#define WDKM_GRT_GET_KMUTEX_OR_BUGCHECK(Name, Type) \
    ((PWDKM_KMUTEX)WDKMP_GRT_GET_OR_BUGCHECK((Name), WdkmLockKindKMutex, Type))
#define WDKM_GRT_GET_FAST_MUTEX_OR_BUGCHECK(Name, Type) \
    ((PWDKM_FAST_MUTEX)WDKMP_GRT_GET_OR_BUGCHECK((Name), WdkmLockKindFastMutex, Type))
#define WDKM_GRT_GET_SPIN_LOCK_OR_BUGCHECK(Name, Type) \
    ((PWDKM_SPIN_LOCK)WDKMP_GRT_GET_OR_BUGCHECK((Name), WdkmLockKindSpinLock, Type))
#define WDKM_GRT_GET_QUEUED_SPIN_LOCK_OR_BUGCHECK(Name, Type) \
    ((PWDKM_QUEUED_SPIN_LOCK)WDKMP_GRT_GET_OR_BUGCHECK((Name), WdkmLockKindQueuedSpinLock, Type))
#define WDKM_GRT_GET_GUARDED_MUTEX_OR_BUGCHECK(Name, Type) \
    ((PWDKM_GUARDED_MUTEX)WDKMP_GRT_GET_OR_BUGCHECK((Name), WdkmLockKindGuardedMutex, Type))
#define WDKM_GRT_GET_RESOURCE_OR_BUGCHECK(Name, Type) \
    ((PWDKM_RESOURCE)WDKMP_GRT_GET_OR_BUGCHECK((Name), WdkmLockKindResource, Type))
#define WDKM_GRT_GET_PUSH_LOCK_OR_BUGCHECK(Name, Type) \
    ((PWDKM_PUSH_LOCK)WDKMP_GRT_GET_OR_BUGCHECK((Name), WdkmLockKindPushLock, Type))

/*
 * WDKM_GRT_KMUTEX_SCOPED("name", DataPointer, &Status) { ... }
 * Look up, reference and acquire; run the block; release and dereference.
 * See wdkm_scope.h for how the block may be left. If the release fails
 * (*Status is its error) the lock stays held and the scope's reference
 * is kept: look the name up again, release, and dereference twice.
 */
#define WDKM_GRT_KMUTEX_SCOPED(Name, DataPointer, StatusPointer)                    \
    WDKMP_SCOPED(WdkmGrtScopeEnter(WDKMP_DIAG_SITE(NULL, (Name)), WdkmLockKindKMutex, sizeof(*(DataPointer)), \
                                   (PVOID *)&(DataPointer), (StatusPointer)))
#define WDKM_GRT_FAST_MUTEX_SCOPED(Name, DataPointer, StatusPointer)                    \
    WDKMP_SCOPED(WdkmGrtScopeEnter(WDKMP_DIAG_SITE(NULL, (Name)), WdkmLockKindFastMutex, sizeof(*(DataPointer)), \
                                   (PVOID *)&(DataPointer), (StatusPointer)))
/* Any kind with an exclusive acquire: spin lock, guarded mutex, resource, push lock. */
#define WDKM_GRT_SCOPED(Name, Kind, DataPointer, StatusPointer)                    \
    WDKMP_SCOPED(WdkmGrtScopeEnter(WDKMP_DIAG_SITE(NULL, (Name)), (Kind), sizeof(*(DataPointer)),          \
                                   (PVOID *)&(DataPointer), (StatusPointer)))

WDKM_EXTERN_C_END

#endif /* WDKM_GRT_H */
