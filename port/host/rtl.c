/*
 * rtl.c - run-time library routines that are not inline in wdm.h.
 */
#define _POSIX_C_SOURCE 200809L

#include <wchar.h>

#include "hostp.h"

VOID NTAPI RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    /* Longest whole-character length a USHORT byte count can hold. */
    const SIZE_T MaxBytes = (MAXUSHORT / sizeof(WCHAR) - 1) * sizeof(WCHAR);
    SIZE_T Bytes;

    DestinationString->Buffer = (PWSTR)SourceString;
    if (SourceString == NULL) {
        DestinationString->Length = 0;
        DestinationString->MaximumLength = 0;
        return;
    }
    Bytes = wcslen(SourceString) * sizeof(WCHAR);
    if (Bytes > MaxBytes) {
        Bytes = MaxBytes;
    }
    DestinationString->Length = (USHORT)Bytes;
    DestinationString->MaximumLength = (USHORT)(Bytes + sizeof(WCHAR));
}
