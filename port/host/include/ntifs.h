/* ntifs.h - host emulation: everything lives in wdm.h. */
#ifndef WDKM_HOST_NTIFS_H
#define WDKM_HOST_NTIFS_H
#include <wdm.h>
#endif
