/* ntddk.h - host emulation: everything lives in wdm.h. */
#ifndef WDKM_HOST_NTDDK_H
#define WDKM_HOST_NTDDK_H
#include <wdm.h>
#endif
