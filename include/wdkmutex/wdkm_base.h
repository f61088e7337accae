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

#define WDKMP_CONCAT2(A, B) A##B
#define WDKMP_CONCAT(A, B) WDKMP_CONCAT2(A, B)

#endif /* WDKM_BASE_H */
