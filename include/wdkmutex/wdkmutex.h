/*
 * wdkmutex.h - typed, IRQL-checked kernel locks that own their data.
 *
 * Include this one header. On a real kernel include <ntddk.h> or <wdm.h>
 * as usual (this header includes <wdm.h> itself); on the host, the
 * emulation's include directory provides the same headers.
 *
 *   wdkm_kmutex.h     WDKM_KMUTEX      KMUTEX + value (recursive, waits)
 *   wdkm_fastmutex.h  WDKM_FAST_MUTEX  FAST_MUTEX + value (APC_LEVEL)
 *   wdkm_spinlock.h   WDKM_SPIN_LOCK, WDKM_QUEUED_SPIN_LOCK (DISPATCH_LEVEL)
 *   wdkm_guardedmutex.h WDKM_GUARDED_MUTEX  KGUARDED_MUTEX + value
 *   wdkm_rwlock.h     WDKM_RESOURCE, WDKM_PUSH_LOCK  reader/writer + value
 *   wdkm_region.h     critical and guarded regions (no data)
 *   wdkm_csq.h        WDKM_CSQ  cancel-safe IRP queue over a library spin lock
 *   wdkm_rundown.h    WDKM_RUNDOWN  checked rundown protection (teardown)
 *   wdkm_grt.h        the registry: named, typed, reference-counted locks
 *   wdkm_scope.h      scoped forms: lock, run a block, unlock
 *   wdkm_status.h     status codes and WdkmStatusName
 *   wdkm_pool.h       pool allocator in use and the library's pool figures
 *
 * Every function documents its IRQL range, what it returns, and what its
 * caller must not do. No function bugchecks on a detectable misuse: it
 * returns an NTSTATUS error and changes nothing. A lock handle of another
 * kind (passed through a cast) is one: every acquire and release checks
 * the kind and answers STATUS_WDKM_TYPE_MISMATCH.
 */
#ifndef WDKMUTEX_H
#define WDKMUTEX_H

#define WDKM_VERSION_MAJOR 0
#define WDKM_VERSION_MINOR 1
#define WDKM_VERSION_PATCH 0
#define WDKM_VERSION_STRING "0.1.0"

#include "wdkm_base.h"
#include "wdkm_status.h"
#include "wdkm_pool.h"
#include "wdkm_scope.h"
#include "wdkm_kmutex.h"
#include "wdkm_fastmutex.h"
#include "wdkm_spinlock.h"
#include "wdkm_guardedmutex.h"
#include "wdkm_rwlock.h"
#include "wdkm_region.h"
#include "wdkm_csq.h"
#include "wdkm_rundown.h"
#include "wdkm_grt.h"
#include "wdkm_debug.h"
#include "wdkm_diag.h"

#if WDKM_INLINE_FAST_PATHS && !WDKM_CHECKED && !defined(WDKMP_LIBRARY_BUILD)
#include "wdkm_fastpath.h"      /* private: the common pairs, inline */
#endif

#endif /* WDKMUTEX_H */
