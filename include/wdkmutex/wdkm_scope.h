/*
 * wdkm_scope.h - the machinery behind the scoped forms
 * (WDKM_KMUTEX_SCOPED, WDKM_FAST_MUTEX_SCOPED, ...).
 *
 * A scoped form acquires a lock, runs the block that follows it once if the
 * acquisition succeeded, and releases the lock when the block ends:
 *
 *     PMY_STATE State;
 *     NTSTATUS Status;
 *     WDKM_KMUTEX_SCOPED(Mutex, State, &Status) {
 *         State->Count += 1;
 *     }
 *     if (!NT_SUCCESS(Status)) { ... }   the lock was not acquired, or
 *                                        its release failed
 *
 * It is a for statement over a WDKM_SCOPE, in one of two builds:
 *
 * The cleanup form (the default). How the block may be left:
 *   - falling off its end, or `continue`: the lock is released on every
 *     compiler. `continue` is the portable way to leave the block early.
 *   - `break`, `return`, `goto` out of the block: with GCC and Clang the
 *     scope variable carries __attribute__((cleanup)), so the lock is
 *     released on these exits too. With MSVC there is no such attribute:
 *     these exits LEAVE THE LOCK HELD: there, use the SEH form below, or
 *     none of these exits (WDKM_SCOPE_EXIT_RELEASES is 0, for a static
 *     assert).
 *   - longjmp, and SEH exceptions (__try/__except around the block) never
 *     release the lock; kernel code must not do either.
 *
 * The SEH form (WDKM_SCOPE_SEH=1, for MSVC and every compiler with
 * Microsoft's structured exception handling: clang-cl, clang -fms-extensions
 * on Windows targets). The block is the body of a __try whose __finally
 * releases, so every way out releases: falling off the end, `continue`,
 * `break`, `return` (its value is computed first, under the lock), `goto`
 * out, `__leave`, and an exception handled outside the block. It needs
 * WDKM_SCOPED_END right after the block's closing brace:
 *
 *     WDKM_KMUTEX_SCOPED(Mutex, State, &Status) {
 *         if (State->Count == 0) {
 *             return STATUS_NO_MORE_ENTRIES;    released
 *         }
 *         State->Count -= 1;
 *     } WDKM_SCOPED_END
 *
 * WDKM_SCOPED_END is nothing in the cleanup form, so code written with it
 * builds in both. Without it the SEH form does not compile (a __try with
 * no handler): it cannot be forgotten silently. Limits of the SEH form:
 * C only where C++ objects with destructors share the function (MSVC
 * error C2712); no `goto` into the block; a `return` or `goto` out of it
 * costs a local unwind (the __finally runs as a call) where falling off
 * the end or `__leave` costs nothing extra.
 *
 * `break` and `continue` act on the scope itself, never on a loop around
 * it. The block is not a loop: it runs at most once.
 *
 * On exit, *Status is the acquisition's status, or the release's status if
 * the release failed (for instance because the block changed the IRQL).
 */
#ifndef WDKM_SCOPE_H
#define WDKM_SCOPE_H

#include "wdkm_base.h"

WDKM_EXTERN_C_BEGIN

typedef struct _WDKM_SCOPE WDKM_SCOPE, *PWDKM_SCOPE;

/* Releases the scope's lock; returns the release's status. */
typedef NTSTATUS (*PWDKM_SCOPE_RELEASE)(_Inout_ PWDKM_SCOPE Scope);

struct _WDKM_SCOPE {
    PVOID Lock;                    /* held lock; NULL once released or if not acquired */
    PWDKM_SCOPE_RELEASE Release;   /* the lock kind's release */
    NTSTATUS *Status;              /* the caller's status variable */
    KIRQL SavedIrql;               /* for kinds whose release restores an IRQL */
};

/*
 * WdkmScopeLeave - release a scope's lock if it still holds one.
 * IRQL: that of the lock kind's release (<= DISPATCH_LEVEL). Called by the scoped macros; the
 * caller must not use the scope afterwards except to leave it again (a
 * no-op).
 */
_IRQL_requires_max_(DISPATCH_LEVEL)
WDKM_INLINE
VOID
WdkmScopeLeave(
    _Inout_ PWDKM_SCOPE Scope
    )
{
    if (Scope->Lock != NULL) {
        NTSTATUS Status = Scope->Release(Scope);
        Scope->Lock = NULL;
        if (!NT_SUCCESS(Status)) {
            *Scope->Status = Status;
        }
    }
}

/*
 * WDKM_SCOPE_SEH - 1 to build the scoped forms on __try/__finally (see
 * above; every block then needs WDKM_SCOPED_END), 0 for the cleanup form.
 * Default 0. A translation unit may choose for itself: the forms are
 * macros, the library is the same for both.
 */
#ifndef WDKM_SCOPE_SEH
#define WDKM_SCOPE_SEH 0
#endif

#if WDKM_SCOPE_SEH

/*
 * WDKMP_SCOPED(Enter) - the for statement shared by every scoped form, its
 * body a __try; WDKM_SCOPED_END closes it with the __finally. One name for
 * the scope variable (WDKM_SCOPED_END is on another line): an inner scope
 * shadows an outer one, and each END names its own. `continue` and
 * `break` leave the __try for the for statement, running the __finally,
 * as in the cleanup form they act on the scope.
 */
#define WDKMP_SCOPED(Enter)                                                 \
    for (WDKM_SCOPE WdkmpScopeSeh = (Enter);                                \
         WdkmpScopeSeh.Lock != NULL;                                        \
         WdkmScopeLeave(&WdkmpScopeSeh))                                    \
        __try
#define WDKM_SCOPED_END                                                     \
        __finally {                                                         \
            WdkmScopeLeave(&WdkmpScopeSeh);                                 \
        }
#define WDKM_SCOPE_EXIT_RELEASES 1

#else

#if defined(__GNUC__) || defined(__clang__)
#define WDKMP_SCOPE_CLEANUP __attribute__((cleanup(WdkmScopeLeave)))
#define WDKM_SCOPE_EXIT_RELEASES 1
#else
#define WDKMP_SCOPE_CLEANUP
#define WDKM_SCOPE_EXIT_RELEASES 0
#endif

/*
 * WDKMP_SCOPED(Enter) - the for statement shared by every scoped form.
 * Enter is an expression yielding the WDKM_SCOPE (Lock NULL on failure).
 */
#define WDKMP_SCOPE_VARIABLE WDKMP_CONCAT(WdkmpScope, __LINE__)
#define WDKMP_SCOPED(Enter)                                                 \
    for (WDKM_SCOPE WDKMP_SCOPE_VARIABLE WDKMP_SCOPE_CLEANUP = (Enter);     \
         WDKMP_SCOPE_VARIABLE.Lock != NULL;                                 \
         WdkmScopeLeave(&WDKMP_SCOPE_VARIABLE))

/* Nothing here: the block's end is the scope's. Write it anyway in code
   that may be built with WDKM_SCOPE_SEH=1. */
#define WDKM_SCOPED_END

#endif

WDKM_EXTERN_C_END

#endif /* WDKM_SCOPE_H */
