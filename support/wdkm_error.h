/*
 * wdkm_error.h - error reports for the user-mode support code.
 *
 * Every support function that can fail returns a Win32 error code
 * (ERROR_SUCCESS on success) and, when given a WDKM_ERROR, fills it with the
 * same code and a one-line explanation in UTF-8/ASCII:
 *
 *     StartServiceW(WdkmTest) failed: The specified driver is invalid (error 2001)
 *
 * A NULL WDKM_ERROR pointer is accepted everywhere and means "code only".
 * A failure always yields a non-zero code: ERROR_SUCCESS passed to
 * WdkmErrorSet (GetLastError() left at 0) becomes ERROR_INTERNAL_ERROR.
 */
#ifndef WDKM_ERROR_H
#define WDKM_ERROR_H

#include <windows.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(__MINGW_PRINTF_FORMAT)
#define WDKM_SUPPORT_PRINTF(FormatIndex, FirstArg) \
    __attribute__((format(__MINGW_PRINTF_FORMAT, FormatIndex, FirstArg)))
#elif defined(__GNUC__)
#define WDKM_SUPPORT_PRINTF(FormatIndex, FirstArg) \
    __attribute__((format(printf, FormatIndex, FirstArg)))
#else
#define WDKM_SUPPORT_PRINTF(FormatIndex, FirstArg)
#endif

#define WDKM_ERROR_TEXT_CHARS 512

typedef struct WDKM_ERROR {
    DWORD Code;                        /* Win32 error code, ERROR_SUCCESS if none */
    char Text[WDKM_ERROR_TEXT_CHARS];  /* NUL-terminated, "" if none */
} WDKM_ERROR;

/* Resets Error to "no error". Error may be NULL. */
void WdkmErrorClear(WDKM_ERROR *Error);

/*
 * Records Code and the text "<Format...>: <system message> (error <Code>)".
 * Returns Code, so a caller can write `return WdkmErrorSet(...)`. Error may
 * be NULL. The text is truncated, never overflowed.
 */
DWORD WdkmErrorSet(WDKM_ERROR *Error, DWORD Code, const char *Format, ...)
    WDKM_SUPPORT_PRINTF(3, 4);

/* Like WdkmErrorSet, without the system message: for errors found by us. */
DWORD WdkmErrorSetText(WDKM_ERROR *Error, DWORD Code, const char *Format, ...)
    WDKM_SUPPORT_PRINTF(3, 4);

/*
 * Writes the system's text for a Win32 error code into Buffer (no trailing
 * period or newline; "unknown error" if the system has none). Returns Buffer.
 */
const char *WdkmWin32Message(DWORD Code, char *Buffer, size_t BufferSize);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_ERROR_H */
