/*
 * wdkm_grt_name.c - registry names for the locks of one role's instances
 * ("Role#<address>"). Apart from wdkm_grt.c so that a driver formatting
 * names links no registry code it does not call.
 */
#include "wdkm_internal.h"

NTSTATUS
WdkmGrtInstanceName(
    _Out_writes_z_(Size) PCHAR Buffer,
    _In_ SIZE_T Size,
    _In_z_ PCSTR Role,
    _In_opt_ const VOID *Instance
    )
{
    static const CHAR Digits[] = "0123456789abcdef";
    const SIZE_T HexDigits = sizeof(ULONG_PTR) * 2;
    ULONG_PTR Value = (ULONG_PTR)Instance;
    SIZE_T RoleLength = 0;
    SIZE_T Needed;
    SIZE_T Index;

    if (Buffer == NULL || Role == NULL || Role[0] == '\0') {
        return STATUS_INVALID_PARAMETER;
    }
    /* Bounded: a Role longer than any name is refused without reading on. */
    while (Role[RoleLength] != '\0' && RoleLength <= WDKM_GRT_MAX_NAME_LENGTH) {
        if (Role[RoleLength] == '#') {
            return STATUS_INVALID_PARAMETER;      /* the class would end early */
        }
        RoleLength += 1;
    }
    Needed = RoleLength + 1 + HexDigits;
    if (Needed > WDKM_GRT_MAX_NAME_LENGTH) {
        return STATUS_NAME_TOO_LONG;
    }
    if (Size < Needed + 1) {
        return STATUS_BUFFER_TOO_SMALL;
    }
    RtlCopyMemory(Buffer, Role, RoleLength);
    Buffer[RoleLength] = '#';
    for (Index = 0; Index < HexDigits; Index += 1) {
        Buffer[RoleLength + 1 + Index] = Digits[(Value >> (4 * (HexDigits - 1 - Index))) & 0xF];
    }
    Buffer[Needed] = '\0';
    return STATUS_SUCCESS;
}
