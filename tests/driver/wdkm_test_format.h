/*
 * wdkm_test_format.h - a bounded printf for kernel code.
 *
 * No C runtime, no floating point, no allocation, no locks: it touches only
 * its arguments, so it may be called at any IRQL with resident arguments.
 * The output is always NUL-terminated when BufferSize > 0; text that does
 * not fit is cut and STATUS_BUFFER_OVERFLOW returned.
 *
 * Conversions: %d %i %u %x %X %c %s %ls (wide, non-ASCII shown as '?')
 * %p (16 upper-case hex digits, as the Windows kernel prints it) and %%.
 * Flags '-' and '0', a field width (digits or *), a precision (digits or *:
 * minimum digits for integers, maximum characters for strings), length
 * modifiers hh h l ll z j t, and Microsoft's I64 I32 I. A NULL string
 * prints "(null)". Anything else is copied as is.
 *
 * With gcc and clang the format string is checked at compile time with the
 * C99 rules: use %ld/%lu/%lx for LONG/ULONG/NTSTATUS, %lld/%llu for
 * LONG64/ULONG64, %zu for SIZE_T.
 */
#ifndef WDKM_TEST_FORMAT_H
#define WDKM_TEST_FORMAT_H

#include <ntddk.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__clang__)
#define WDKM_TEST_PRINTF(FormatIndex, FirstArg) \
    __attribute__((format(printf, FormatIndex, FirstArg)))
#elif defined(__GNUC__)
#define WDKM_TEST_PRINTF(FormatIndex, FirstArg) \
    __attribute__((format(gnu_printf, FormatIndex, FirstArg)))
#else
#define WDKM_TEST_PRINTF(FormatIndex, FirstArg)
#endif

/* Formats into Buffer (BufferSize bytes including the NUL). */
NTSTATUS WdkmTestFormatV(_Out_writes_z_(BufferSize) PCHAR Buffer, _In_ SIZE_T BufferSize,
                         _In_z_ _Printf_format_string_ PCSTR Format, _In_ va_list Arguments);

NTSTATUS WdkmTestFormat(_Out_writes_z_(BufferSize) PCHAR Buffer, _In_ SIZE_T BufferSize,
                        _In_z_ _Printf_format_string_ PCSTR Format, ...)
    WDKM_TEST_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_TEST_FORMAT_H */
