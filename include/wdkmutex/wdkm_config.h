/*
 * wdkm_config.h - build-time settings. Define any of these on the compiler
 * command line (or in the CMake cache, see the README) to override them; the
 * library and every file that includes its headers must agree.
 */
#ifndef WDKM_CONFIG_H
#define WDKM_CONFIG_H

/*
 * Pool tag of every allocation the library makes. Four characters read
 * backwards by the debugger's !poolused: the default shows as "Wdkm".
 */
#ifndef WDKM_POOL_TAG
#define WDKM_POOL_TAG 0x6D6B6457UL /* 'Wdkm' */
#endif

/*
 * Largest protected value a lock accepts, in bytes. Non-paged pool is a
 * scarce system-wide resource; anything larger is almost certainly a size
 * computed wrongly, and is refused with STATUS_INVALID_PARAMETER.
 */
#ifndef WDKM_MAX_DATA_SIZE
#define WDKM_MAX_DATA_SIZE (16UL * 1024UL * 1024UL)
#endif

/*
 * Deepest recursive acquisition of one WDKM_KMUTEX by its owner. The kernel
 * raises STATUS_MUTANT_LIMIT_EXCEEDED (an exception: a bugcheck in a driver)
 * past 0x7FFFFFFF; the library returns that status instead, one step
 * earlier. Tests lower it to reach the limit quickly.
 */
#ifndef WDKM_KMUTEX_MAX_RECURSION
#define WDKM_KMUTEX_MAX_RECURSION 0x7FFFFFFEUL
#endif

/*
 * The checked build (docs/diagnostics.md): lock classes, lock-order
 * validation, context checks, contention statistics, leak checks at unload.
 * On by default where the WDK's debug configurations define DBG=1; off in
 * release, where every diagnostics call compiles to nothing. Define
 * WDKM_CHECKED=1 or 0 to choose; the library and all of its users must
 * agree (the CMake target exports the definition).
 */
#ifndef WDKM_CHECKED
#if defined(DBG) && DBG
#define WDKM_CHECKED 1
#else
#define WDKM_CHECKED 0
#endif
#endif

/*
 * Inline fast paths (wdkm_fastpath.h): in release builds the common
 * acquire and release of every lock kind (exclusive, for the
 * reader/writer kinds) are compiled into the caller, with the same checks,
 * records and statuses as the library's functions, which handle every
 * other case.
 * Define WDKM_INLINE_FAST_PATHS=0 to call the library every time. The
 * checked build never inlines (its diagnostics live in the library), and
 * neither does the library's own build (WDKMP_LIBRARY_BUILD).
 */
#ifndef WDKM_INLINE_FAST_PATHS
#if WDKM_CHECKED || defined(WDKMP_LIBRARY_BUILD)
#define WDKM_INLINE_FAST_PATHS 0
#else
#define WDKM_INLINE_FAST_PATHS 1
#endif
#endif

/*
 * Microsoft's linker refuses to mix objects built for the two builds (the
 * inline fast paths rely on it, see wdkm_layout.h for other linkers).
 */
#if defined(_MSC_VER)
#if WDKM_CHECKED
#pragma detect_mismatch("wdkmutex_checked", "1")
#else
#pragma detect_mismatch("wdkmutex_checked", "0")
#endif
#endif

/*
 * The validator's tables, checked build only. It never allocates: when a
 * table is full it stops tracking what does not fit, says so once, and
 * locking goes on unchanged.
 *   WDKM_DIAG_MAX_CLASSES  lock classes (named ones persist; a lock with no
 *                          name is its own class until destroyed)
 *   WDKM_DIAG_MAX_EDGES    distinct "A held while B acquired" orders whose
 *                          sites are remembered for reports
 *   WDKM_DIAG_MAX_THREADS  threads holding a lock or region at one time
 *   WDKM_DIAG_MAX_HELD     locks one thread holds at one time
 */
#ifndef WDKM_DIAG_MAX_CLASSES
#define WDKM_DIAG_MAX_CLASSES 256
#endif
#ifndef WDKM_DIAG_MAX_EDGES
#define WDKM_DIAG_MAX_EDGES 1024
#endif
#ifndef WDKM_DIAG_MAX_THREADS
#define WDKM_DIAG_MAX_THREADS 128
#endif
#ifndef WDKM_DIAG_MAX_HELD
#define WDKM_DIAG_MAX_HELD 16
#endif

#endif /* WDKM_CONFIG_H */
