/*
 * wdkm_service_key.c - values under a service's registry key.
 */
#include "wdkm_service_key.h"

#include <wchar.h>

#define WDKM_SERVICES_KEY L"SYSTEM\\CurrentControlSet\\Services\\"

DWORD WdkmServiceKeyReadDword(const WCHAR *ServiceName, const WCHAR *ValueName, DWORD *Value,
                              WDKM_ERROR *Error)
{
    WCHAR keyPath[512];
    HKEY key;
    DWORD type = REG_NONE;
    DWORD data = 0;
    DWORD size = sizeof(data);
    LSTATUS status;

    WdkmErrorClear(Error);
    if (ServiceName == NULL || ValueName == NULL || Value == NULL ||
        wcslen(WDKM_SERVICES_KEY) + wcslen(ServiceName) >= sizeof(keyPath) / sizeof(keyPath[0])) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "invalid argument");
    }
    wcscpy(keyPath, WDKM_SERVICES_KEY);
    wcscat(keyPath, ServiceName);

    status = RegOpenKeyExW(HKEY_LOCAL_MACHINE, keyPath, 0, KEY_QUERY_VALUE, &key);
    if (status != ERROR_SUCCESS) {
        return WdkmErrorSet(Error, (DWORD)status, "RegOpenKeyExW(HKLM\\%ls) failed", keyPath);
    }
    status = RegQueryValueExW(key, ValueName, NULL, &type, (BYTE *)&data, &size);
    RegCloseKey(key);
    if (status != ERROR_SUCCESS) {
        return WdkmErrorSet(Error, (DWORD)status, "reading %ls under HKLM\\%ls failed",
                            ValueName, keyPath);
    }
    if (type != REG_DWORD || size != sizeof(data)) {
        return WdkmErrorSetText(Error, ERROR_DATATYPE_MISMATCH,
                                "%ls under HKLM\\%ls is not a REG_DWORD (type %lu, %lu bytes)",
                                ValueName, keyPath, (unsigned long)type, (unsigned long)size);
    }
    *Value = data;
    return ERROR_SUCCESS;
}

DWORD WdkmServiceKeyReadDwords(const WCHAR *ServiceName, const WCHAR *const *Names,
                               DWORD *Values, ULONG Count, WDKM_ERROR *Error)
{
    DWORD result = ERROR_SUCCESS;
    ULONG index;

    WdkmErrorClear(Error);
    if (Names == NULL || Values == NULL) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "invalid argument");
    }
    for (index = 0; index < Count && result == ERROR_SUCCESS; index++) {
        result = WdkmServiceKeyReadDword(ServiceName, Names[index], &Values[index], Error);
    }
    return result;
}
