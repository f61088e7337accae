/*
 * wdkm_error.c - error reports for the user-mode support code.
 */
#include "wdkm_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void WdkmErrorClear(WDKM_ERROR *Error)
{
    if (Error != NULL) {
        Error->Code = ERROR_SUCCESS;
        Error->Text[0] = '\0';
    }
}

const char *WdkmWin32Message(DWORD Code, char *Buffer, size_t BufferSize)
{
    DWORD length;

    if (Buffer == NULL || BufferSize == 0) {
        return "";
    }
    length = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS |
                                FORMAT_MESSAGE_MAX_WIDTH_MASK,
                            NULL, Code, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT),
                            Buffer, (DWORD)(BufferSize > 0xFFFF ? 0xFFFF : BufferSize), NULL);
    if (length == 0) {
        snprintf(Buffer, BufferSize, "unknown error");
        return Buffer;
    }
    /* Trim the trailing blanks, newline and period the system adds. */
    while (length > 0 && (Buffer[length - 1] == ' ' || Buffer[length - 1] == '\r' ||
                          Buffer[length - 1] == '\n' || Buffer[length - 1] == '.')) {
        Buffer[--length] = '\0';
    }
    return Buffer;
}

/*
 * Formats the report. Code 0 (a failure whose GetLastError() was left at 0)
 * is turned into ERROR_INTERNAL_ERROR so that it never reads as success.
 */
static DWORD WdkmpErrorFormat(WDKM_ERROR *Error, DWORD Code, BOOL WithSystemText,
                              const char *Format, va_list Arguments)
{
    size_t used;
    char message[256];
    BOOL noCode = (Code == ERROR_SUCCESS);

    if (noCode) {
        Code = ERROR_INTERNAL_ERROR;
    }
    if (Error == NULL) {
        return Code;
    }
    Error->Code = Code;
    vsnprintf(Error->Text, sizeof(Error->Text), Format, Arguments);
    used = strlen(Error->Text);
    if (noCode) {
        snprintf(Error->Text + used, sizeof(Error->Text) - used,
                 " (failed without an error code)");
    } else if (WithSystemText) {
        snprintf(Error->Text + used, sizeof(Error->Text) - used, ": %s (error %lu)",
                 WdkmWin32Message(Code, message, sizeof(message)), (unsigned long)Code);
    }
    return Code;
}

DWORD WdkmErrorSet(WDKM_ERROR *Error, DWORD Code, const char *Format, ...)
{
    va_list arguments;

    va_start(arguments, Format);
    Code = WdkmpErrorFormat(Error, Code, TRUE, Format, arguments);
    va_end(arguments);
    return Code;
}

DWORD WdkmErrorSetText(WDKM_ERROR *Error, DWORD Code, const char *Format, ...)
{
    va_list arguments;

    va_start(arguments, Format);
    Code = WdkmpErrorFormat(Error, Code, FALSE, Format, arguments);
    va_end(arguments);
    return Code;
}
