/*
 * wdkm_annotations.h - lock contracts for clang's thread-safety analysis
 * (-Wthread-safety), the twin of the SAL lock annotations.
 *
 * Each lock contract of the public API is written twice, because no one
 * spelling reaches both analysers:
 *
 *   - SAL, in front of the declaration: _When_(return == 0,
 *     _Acquires_lock_(*Mutex)), _Releases_lock_(*Mutex), ... MSVC's
 *     /analyze (PREfast) and Static Driver Verifier read these; MSVC accepts
 *     them only there.
 *   - a WDKM_ macro of this header, after the parameter list: under clang
 *     a capability attribute (try_acquire_capability(0, Mutex), ...). Clang
 *     parses a C function's leading attributes before its parameters are
 *     declared, so an attribute naming a parameter must come last. Empty on
 *     every other compiler.
 *
 * scripts/check-thread-safety.sh checks that the two agree for every public
 * function. The lock types are capabilities (for the in-stack queued spin
 * lock its hold, WDKM_LOCK_QUEUE_HANDLE; for regions, WDKM_REGION), so a
 * driver compiled with `clang -Wthread-safety` gets, for its own code:
 *
 *     NTSTATUS Status = WDKM_KMUTEX_ACQUIRE(Lock, &Data);
 *     if (!WDKM_ACQUIRED(Status)) {
 *         return Status;
 *     }
 *     if (Data->Count == 0) {
 *         return STATUS_NO_MORE_ENTRIES;    the release forgotten
 *     }
 *     return WdkmKMutexRelease(Lock);
 *
 *     warning: mutex 'Lock' is not held on every path through here
 *     note: mutex acquired here
 *
 * and likewise a release of a lock not held, a lock held on one branch of
 * an if and not the other, an acquire of a lock already held, and a call
 * of a helper declared WDKM_REQUIRES_LOCK_HELD(Lock) without the lock.
 *
 * Test an acquire's status with WDKM_ACQUIRED(Status), or its negation,
 * directly in the condition of an if/while, on the call or on the variable
 * assigned from it. Clang follows a try-acquire only through a comparison
 * with a *literal* constant: STATUS_SUCCESS is ((NTSTATUS)0x00000000L), a
 * cast it does not look through, so `Status == STATUS_SUCCESS` means the
 * same to the compiler and nothing to the analysis (the lock then counts as
 * never acquired: "releasing mutex that was not held" at the release).
 * NT_SUCCESS(Status) is wrong anyway (STATUS_TIMEOUT is a success code).
 * docs/checks.md lists the forms the analysis follows and those it cannot.
 *
 * Not annotated, on purpose: the scoped forms (wdkm_scope.h; the release
 * happens through a cleanup attribute or a function pointer, which clang's
 * analysis does not follow in C, and there is no unlock to forget), the
 * registry (wdkm_grt.h: references, not holds; a looked-up lock is
 * annotated as usual once acquired), and the IsOwned queries (a BOOLEAN
 * answer, not an assertion).
 */
#ifndef WDKM_ANNOTATIONS_H
#define WDKM_ANNOTATIONS_H

/*
 * WDKM_ACQUIRED(Status) - TRUE if an acquire's Status means the lock is
 * held: exactly STATUS_SUCCESS. The literal 0 is what lets clang's analysis
 * read the test (see above); it is STATUS_SUCCESS's value on every header
 * set.
 */
#define WDKM_ACQUIRED(Status) ((Status) == 0)

/*
 * The __has_attribute test sits in its own #if: a compiler without
 * __has_attribute would reject the call even behind a false &&.
 */
#if defined(__clang__) && defined(__has_attribute)
#if __has_attribute(capability) && __has_attribute(try_acquire_capability) && \
    __has_attribute(release_generic_capability)
#define WDKMP_THREAD_SAFETY_ATTRIBUTES 1
#endif
/* Clang 21 and later know recursive locks; older ones warn on recursion. */
#if __has_attribute(reentrant_capability)
#define WDKMP_REENTRANT_ATTRIBUTE 1
#endif
#endif

#if defined(__clang__) && defined(WDKMP_THREAD_SAFETY_ATTRIBUTES)

/* Library-private: marks a lock type (Name appears in the diagnostics). */
#define WDKMP_CAPABILITY(Name) __attribute__((capability(Name)))
#if defined(WDKMP_REENTRANT_ATTRIBUTE)
#define WDKMP_REENTRANT_CAPABILITY(Name) __attribute__((capability(Name), reentrant_capability))
#else
#define WDKMP_REENTRANT_CAPABILITY(Name) __attribute__((capability(Name)))
#endif

/*
 * After the parameter list of a function returning NTSTATUS: Lock (a
 * parameter pointing to a lock) is held when the function returns
 * STATUS_SUCCESS, and only then. SAL: _When_(return == 0, _Acquires_lock_(*Lock)).
 */
#define WDKM_ACQUIRES_LOCK_ON_SUCCESS(Lock) \
    __attribute__((try_acquire_capability(0, Lock)))
#define WDKM_ACQUIRES_SHARED_LOCK_ON_SUCCESS(Lock) \
    __attribute__((try_acquire_shared_capability(0, Lock)))

/* Lock is held when the function returns (a driver's own wrapper). */
#define WDKM_ACQUIRES_LOCK(Lock) __attribute__((acquire_capability(Lock)))
#define WDKM_ACQUIRES_SHARED_LOCK(Lock) __attribute__((acquire_shared_capability(Lock)))

/* The caller holds Lock, in either mode, and the function releases it. */
#define WDKM_RELEASES_LOCK(Lock) __attribute__((release_generic_capability(Lock)))

/*
 * For a driver's own helpers: the caller must hold Lock (exclusively, or
 * at least shared), or must not hold it. SAL: _Requires_lock_held_(*Lock),
 * _Requires_shared_lock_held_(*Lock), _Requires_lock_not_held_(*Lock).
 */
#define WDKM_REQUIRES_LOCK_HELD(Lock) __attribute__((requires_capability(Lock)))
#define WDKM_REQUIRES_SHARED_LOCK_HELD(Lock) __attribute__((requires_shared_capability(Lock)))
#define WDKM_REQUIRES_LOCK_NOT_HELD(Lock) __attribute__((locks_excluded(Lock)))

/*
 * In front of a function: no analysis of its body. Only for code that
 * misuses locks on purpose (a test of the library's misuse statuses) or
 * follows a protocol the analysis cannot (say why beside it).
 */
#define WDKM_NO_THREAD_SAFETY_ANALYSIS __attribute__((no_thread_safety_analysis))

#else

#define WDKMP_CAPABILITY(Name)
#define WDKMP_REENTRANT_CAPABILITY(Name)
#define WDKM_ACQUIRES_LOCK_ON_SUCCESS(Lock)
#define WDKM_ACQUIRES_SHARED_LOCK_ON_SUCCESS(Lock)
#define WDKM_ACQUIRES_LOCK(Lock)
#define WDKM_ACQUIRES_SHARED_LOCK(Lock)
#define WDKM_RELEASES_LOCK(Lock)
#define WDKM_REQUIRES_LOCK_HELD(Lock)
#define WDKM_REQUIRES_SHARED_LOCK_HELD(Lock)
#define WDKM_REQUIRES_LOCK_NOT_HELD(Lock)
#define WDKM_NO_THREAD_SAFETY_ANALYSIS

#endif

#endif /* WDKM_ANNOTATIONS_H */
