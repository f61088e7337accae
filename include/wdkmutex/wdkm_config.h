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

#endif /* WDKM_CONFIG_H */
