/*
 * host_prelude.h - forced in front of every README/docs example compiled
 * against the host emulation by scripts/check-examples.sh.
 *
 * The examples are driver code; the emulation (port/host/include) declares
 * the kernel's synchronisation, thread, pool and IRQL routines but not the
 * I/O manager's objects. Driver entry points only pass these around, so
 * opaque types are enough. (C11 allows a typedef to be repeated, so this
 * stays valid if the emulation declares them one day.)
 */
#ifndef WDKM_EXAMPLES_HOST_PRELUDE_H
#define WDKM_EXAMPLES_HOST_PRELUDE_H

#include <wdm.h>

typedef struct _DRIVER_OBJECT DRIVER_OBJECT, *PDRIVER_OBJECT;
typedef struct _DEVICE_OBJECT DEVICE_OBJECT, *PDEVICE_OBJECT;
typedef struct _IRP IRP, *PIRP;

#endif /* WDKM_EXAMPLES_HOST_PRELUDE_H */
