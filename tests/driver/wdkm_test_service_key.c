/*
 * wdkm_test_service_key.c - counters under the driver's service key.
 *
 * The runner proves that loads and unloads really happen by reading these
 * values back (see WDKM_TEST_VALUE_LOAD_COUNT in wdkm_test_ioctl.h).
 */
#include "wdkm_test_framework.h"

NTSTATUS WdkmTestBumpServiceValue(PCUNICODE_STRING ServiceKey, PCWSTR ValueName, PULONG NewValue)
{
    OBJECT_ATTRIBUTES attributes;
    UNICODE_STRING valueName;
    HANDLE key;
    NTSTATUS status;
    ULONG value = 0;
    ULONG length = 0;
    /* KEY_VALUE_PARTIAL_INFORMATION with room for a DWORD. */
    union {
        KEY_VALUE_PARTIAL_INFORMATION Information;
        UCHAR Bytes[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG)];
    } buffer;

    *NewValue = 0;
    RtlInitUnicodeString(&valueName, ValueName);
    InitializeObjectAttributes(&attributes, (PUNICODE_STRING)ServiceKey,
                               OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
    status = ZwOpenKey(&key, KEY_QUERY_VALUE | KEY_SET_VALUE, &attributes);
    if (!NT_SUCCESS(status)) {
        return status;
    }

    status = ZwQueryValueKey(key, &valueName, KeyValuePartialInformation, &buffer,
                             sizeof(buffer), &length);
    if (NT_SUCCESS(status)) {
        if (buffer.Information.Type == REG_DWORD &&
            buffer.Information.DataLength == sizeof(ULONG)) {
            RtlCopyMemory(&value, buffer.Information.Data, sizeof(value));
        }
    } else if (status != STATUS_OBJECT_NAME_NOT_FOUND) {
        (VOID)ZwClose(key);
        return status;
    }

    value++;
    status = ZwSetValueKey(key, &valueName, 0, REG_DWORD, &value, sizeof(value));
    (VOID)ZwClose(key);
    if (NT_SUCCESS(status)) {
        *NewValue = value;
    }
    return status;
}
