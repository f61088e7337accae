/*
 * wdkm_service_key.h - values under a service's registry key.
 *
 * A driver receives its service key (HKLM\SYSTEM\CurrentControlSet\Services\
 * <Name>) as DriverEntry's RegistryPath; it can leave values there that the
 * user-mode side reads back, e.g. how many times it was loaded and unloaded.
 */
#ifndef WDKM_SERVICE_KEY_H
#define WDKM_SERVICE_KEY_H

#include "wdkm_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Reads the REG_DWORD ValueName under service ServiceName's key. Returns
 * ERROR_FILE_NOT_FOUND (with a message) when the value does not exist and
 * ERROR_DATATYPE_MISMATCH when it is not a REG_DWORD.
 */
DWORD WdkmServiceKeyReadDword(const WCHAR *ServiceName, const WCHAR *ValueName, DWORD *Value,
                              WDKM_ERROR *Error);

/*
 * Reads Count REG_DWORDs, Names[i] into Values[i], as WdkmServiceKeyReadDword
 * does each: what a driver left at unload for its client to check. Stops
 * at the first that cannot be read and returns its error.
 */
DWORD WdkmServiceKeyReadDwords(const WCHAR *ServiceName, const WCHAR *const *Names,
                               DWORD *Values, ULONG Count, WDKM_ERROR *Error);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_SERVICE_KEY_H */
