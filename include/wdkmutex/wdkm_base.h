/*
 * wdkm_base.h - what every wdkmutex header needs: the kernel's types
 * (from <wdm.h>; on the host, the emulation's <wdm.h>), SAL and its twin for
 * clang's thread-safety analysis, and the build-time configuration.
 */
#ifndef WDKM_BASE_H
#define WDKM_BASE_H

#include <wdm.h>

#include "wdkm_sal.h"
#include "wdkm_annotations.h"
#include "wdkm_config.h"

#ifdef __cplusplus
#define WDKM_EXTERN_C_BEGIN extern "C" {
#define WDKM_EXTERN_C_END }
#else
#define WDKM_EXTERN_C_BEGIN
#define WDKM_EXTERN_C_END
#endif

/* Header-only helpers: static, so no header function is ever exported. */
#if defined(_MSC_VER) && !defined(__cplusplus)
#define WDKM_INLINE static __inline
#else
#define WDKM_INLINE static inline
#endif

/*
 * A relative timeout for the *Timeout forms, in milliseconds:
 *     LARGE_INTEGER Timeout;
 *     Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(50);
 */
#define WDKM_RELATIVE_TIMEOUT_MS(Milliseconds) (-(LONGLONG)(Milliseconds) * 10000)

/*
 * Values initialised and drained in place (every kind's CreateInPlace and
 * DestroyWith). A value that points into itself - a LIST_ENTRY head, a
 * structure with an embedded KEVENT or a self-relative pointer - cannot
 * be copied in by Create or out by Take: its pointers would name the
 * copy's source, a dead stack frame. These callbacks see the value where
 * it lives, in the lock's pool block.
 *
 * WDKM_INITIALIZE_VALUE - called by CreateInPlace on the value (zeroed,
 * DataSize bytes) before any other code can reach the lock, at the
 * create's IRQL (<= DISPATCH_LEVEL; PASSIVE_LEVEL or APC_LEVEL only if the
 * caller is there). A failure status (NT_SUCCESS FALSE) fails the create:
 * the create returns it and frees the block, so the routine must release
 * whatever it acquired before failing. Any success status counts as
 * STATUS_SUCCESS. It must not keep Value for use outside the lock.
 *
 * WDKM_DRAIN_VALUE - called by DestroyWith on the value, after the lock
 * has ceased to exist as a lock (every use of its handle is refused) and
 * before its block is freed, at the destroy's IRQL. It takes apart what
 * the value links to (a list's records) and must not fail, keep Value, or
 * use the lock's handle.
 */
typedef NTSTATUS WDKM_INITIALIZE_VALUE(_Out_ PVOID Value, _In_opt_ PVOID Context);
typedef WDKM_INITIALIZE_VALUE *PWDKM_INITIALIZE_VALUE;
typedef VOID WDKM_DRAIN_VALUE(_Inout_ PVOID Value, _In_opt_ PVOID Context);
typedef WDKM_DRAIN_VALUE *PWDKM_DRAIN_VALUE;

#define WDKMP_CONCAT2(A, B) A##B
#define WDKMP_CONCAT(A, B) WDKMP_CONCAT2(A, B)

/*
 * Source sites for the checked build's reports (wdkm_diag.h): the typed and
 * scoped macros of every kind tell the library where in the caller's source
 * a lock is created or acquired. Nothing at all in release builds.
 * WdkmDiagNoteSite: the calling thread's next acquisition of Lock (NULL:
 * whichever lock the registry finds) is made at File:Line.
 * WdkmDiagNoteLookupSite: the calling thread's next registry lookup of
 * Name (that very pointer) by a callback form is made at File:Line;
 * returns Name. Keyed by the name, so that a DPC or APC landing between
 * the note and the lookup neither takes the site for an acquisition or a
 * lookup of its own made without a typed macro, nor removes it.
 * WdkmDiagNoteCreated: names the lock just created into *LockPointer (a
 * handle variable of any kind) after File:Line, its lock class unless it
 * gets another name; returns Status. The handle is read inside, after the
 * create call has run (argument evaluation order is unspecified).
 * IRQL: <= DISPATCH_LEVEL. Not meant to be called directly.
 */
#if WDKM_CHECKED
WDKM_EXTERN_C_BEGIN

_IRQL_requires_max_(DISPATCH_LEVEL)
VOID
WdkmDiagNoteSite(
    _In_opt_ const VOID *Lock,
    _In_z_ PCSTR File,
    _In_ ULONG Line
    );

_IRQL_requires_max_(DISPATCH_LEVEL)
PCSTR
WdkmDiagNoteLookupSite(
    _In_opt_z_ PCSTR Name,
    _In_z_ PCSTR File,
    _In_ ULONG Line
    );

_Must_inspect_result_
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
WdkmDiagNoteCreated(
    _In_ NTSTATUS Status,
    _In_opt_ const VOID *LockPointer,
    _In_z_ PCSTR File,
    _In_ ULONG Line
    );

WDKM_EXTERN_C_END

/* Inside an argument, not around the call: clang's thread-safety analysis
   must still see the acquire call itself (docs/checks.md), and a comma
   expression is transparent to it. Argument is evaluated once, as in
   release builds; Lock (the same expression in the kinds' macros, or NULL)
   is not evaluated at all: the site is noted for the thread's next
   acquisition of whichever lock. */
#define WDKMP_DIAG_SITE(Lock, Argument) \
    (WdkmDiagNoteSite(NULL, __FILE__, __LINE__), (Argument))
#define WDKMP_DIAG_LOOKUP_SITE(Name) WdkmDiagNoteLookupSite((Name), __FILE__, __LINE__)
#define WDKMP_DIAG_CREATED(Expression, LockPointer) \
    WdkmDiagNoteCreated((Expression), (LockPointer), __FILE__, __LINE__)
#else
#define WDKMP_DIAG_SITE(Lock, Argument) (Argument)
#define WDKMP_DIAG_LOOKUP_SITE(Name) (Name)
#define WDKMP_DIAG_CREATED(Expression, LockPointer) (Expression)
#endif

#endif /* WDKM_BASE_H */
