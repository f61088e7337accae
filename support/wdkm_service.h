/*
 * wdkm_service.h - a kernel driver as a service, through the SCM API.
 *
 * The life of a test or demo driver:
 *
 *     WDKM_SERVICE service = WDKM_SERVICE_INIT;
 *     WdkmServiceInstallDriver(&service, L"WdkmTest", L"Z:\\...\\x.sys", ...);
 *     WdkmServiceStart(&service, timeout, &error);
 *     ... open the device, DeviceIoControl ...
 *     WdkmServiceStop(&service, timeout, &error);
 *     WdkmServiceDelete(&service, &error);     (also closes the handles)
 *
 * Every call waits for the state it asks for, up to a timeout in
 * milliseconds, and reports a failure as a Win32 error code plus a readable
 * WDKM_ERROR (see wdkm_error.h). Needs administrator rights on Windows;
 * under Wine any user may do this in their own prefix.
 *
 * Under Wine, a service lives as long as the prefix's wineserver: install,
 * start, use and stop the driver from one program (or one Wine session).
 */
#ifndef WDKM_SERVICE_H
#define WDKM_SERVICE_H

#include "wdkm_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WDKM_SERVICE_NAME_CHARS 256

typedef struct WDKM_SERVICE {
    SC_HANDLE Manager;                     /* the SCM, NULL when closed */
    SC_HANDLE Service;                     /* the service, NULL when closed */
    WCHAR Name[WDKM_SERVICE_NAME_CHARS];   /* service (key) name */
} WDKM_SERVICE;

#define WDKM_SERVICE_INIT { NULL, NULL, { 0 } }

/*
 * Creates the demand-start kernel-driver service Name with ImagePath (an
 * absolute Windows path to the .sys, see WdkmPathToWindows) and leaves
 * Service open. A service of that name left behind by an earlier run is
 * stopped and deleted first, waiting up to TimeoutMs for it to go away.
 */
DWORD WdkmServiceInstallDriver(WDKM_SERVICE *Service, const WCHAR *Name,
                               const WCHAR *ImagePath, DWORD TimeoutMs, WDKM_ERROR *Error);

/*
 * WdkmServiceInstallDriver, then WdkmServiceStart: the driver at ImagePath
 * loaded as service Name (a leftover of that name replaced first), each
 * step waiting up to TimeoutMs. On failure Service is left as the failing
 * step left it: WdkmServiceDelete (or WdkmServiceClose) cleans up.
 */
DWORD WdkmServiceLoadDriver(WDKM_SERVICE *Service, const WCHAR *Name, const WCHAR *ImagePath,
                            DWORD TimeoutMs, WDKM_ERROR *Error);

/*
 * Starts the service and waits until it is running: for a kernel driver,
 * until its DriverEntry has returned success. A driver that fails to load
 * is reported with the service's exit code. Already running is success.
 */
DWORD WdkmServiceStart(WDKM_SERVICE *Service, DWORD TimeoutMs, WDKM_ERROR *Error);

/*
 * Asks the service to stop and waits until it is stopped (for a driver:
 * DriverUnload has returned). Not running is success. Close every handle to
 * the driver's devices first, or the driver cannot be unloaded.
 */
DWORD WdkmServiceStop(WDKM_SERVICE *Service, DWORD TimeoutMs, WDKM_ERROR *Error);

/* Current state: SERVICE_STOPPED, SERVICE_RUNNING, SERVICE_START_PENDING, ... */
DWORD WdkmServiceQueryState(WDKM_SERVICE *Service, DWORD *State, WDKM_ERROR *Error);

/* Deletes the service (it should be stopped) and closes the handles. */
DWORD WdkmServiceDelete(WDKM_SERVICE *Service, WDKM_ERROR *Error);

/* Closes the handles without touching the service. Safe to call twice. */
void WdkmServiceClose(WDKM_SERVICE *Service);

/* "stopped", "running", "start pending", ... for messages. */
const char *WdkmServiceStateName(DWORD State);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_SERVICE_H */
