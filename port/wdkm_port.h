/*
 * wdkm_port.h - the port boundary: everything the library needs from a
 * kernel, and the only header src/ includes to get it.
 *
 * There is one port, port/wdk, written against the documented NT kernel
 * API. It is compiled in two ways:
 *   - against the real DDK headers, for a driver (mingw-w64 or MSVC+WDK);
 *   - against the user-mode kernel emulation in port/host/include, whose
 *     <wdm.h>/<ntddk.h> provide the same functions, for host tests. The
 *     emulation enforces the kernel's rules with simulated bugchecks, so
 *     host tests exercise this very port code, not a stand-in.
 *
 * The port provides (all FORCEINLINE unless noted):
 *   types    WDKMP_KMUTEX, WDKMP_FAST_MUTEX, WDKMP_THREAD (an owner id)
 *   IRQL     WdkmpGetIrql
 *   threads  WdkmpCurrentThread, WdkmpCurrentProcessor
 *   KMUTEX   WdkmpKMutexInitialize, WdkmpKMutexWait, WdkmpKMutexRelease
 *   FAST_MUTEX WdkmpFastMutexInitialize, WdkmpFastMutexAcquire,
 *            WdkmpFastMutexTryAcquire (may be STATUS_NOT_SUPPORTED),
 *            WdkmpFastMutexRelease
 *   pool     WdkmpPoolAllocate (zeroed, non-paged, tagged), WdkmpPoolFree,
 *            WdkmpPoolAllocator (out of line, wdkm_port_wdk.c)
 *   events   WDKMP_EVENT, WdkmpEventInitialize, WdkmpEventWait, WdkmpEventSet
 *   time     WdkmpSleepMs, WdkmpSystemTime
 *   ordering WdkmpLoad/Store{Thread,Long,Long64} (relaxed),
 *            WdkmpLoadLongAcquire, WdkmpStoreLongRelease,
 *            WdkmpLoadPointerAcquire, WdkmpStorePointerRelease
 *            (docs/memory-ordering.md); Interlocked* are full barriers
 *   debug    WdkmpDbgPrintEx, WdkmpTimestamp, WdkmpTimestampToNs
 *   IRPs     WdkmpIrpSetCancelRoutine, WdkmpIrpHasCancelRoutine,
 *            WdkmpIrpCancelled, WdkmpIrpMarkPending, WdkmpIrpLink,
 *            WdkmpIrpFromLink, WdkmpIrpQueueSlot,
 *            WdkmpIrpReleaseCancelSpinLock (the cancel-safe queue)
 */
#ifndef WDKM_PORT_H
#define WDKM_PORT_H

#include "wdk/wdkm_port_wdk.h"

#endif /* WDKM_PORT_H */
