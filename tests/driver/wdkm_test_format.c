/*
 * wdkm_test_format.c - a bounded printf for kernel code.
 */
#include "wdkm_test_format.h"

/* Output state: characters beyond Size - 1 are counted as lost. */
typedef struct _WDKM_FORMAT_SINK {
    PCHAR Buffer;
    SIZE_T Size;
    SIZE_T Length;
    BOOLEAN Truncated;
} WDKM_FORMAT_SINK;

static VOID WdkmpFormatPut(_Inout_ WDKM_FORMAT_SINK *Sink, _In_ CHAR Character)
{
    if (Sink->Length + 1 < Sink->Size) {
        Sink->Buffer[Sink->Length++] = Character;
    } else {
        Sink->Truncated = TRUE;
    }
}

static VOID WdkmpFormatRepeat(_Inout_ WDKM_FORMAT_SINK *Sink, _In_ CHAR Character, _In_ LONG Count)
{
    while (Count-- > 0) {
        WdkmpFormatPut(Sink, Character);
    }
}

/* Conversion specification after parsing. */
typedef struct _WDKM_FORMAT_SPEC {
    BOOLEAN LeftAlign;
    BOOLEAN ZeroPad;
    LONG Width;      /* 0 = none */
    LONG Precision;  /* -1 = none */
} WDKM_FORMAT_SPEC;

/* Emits Text (Length characters) padded to the field width. */
static VOID WdkmpFormatField(_Inout_ WDKM_FORMAT_SINK *Sink, _In_ const WDKM_FORMAT_SPEC *Spec,
                             _In_reads_(Length) PCSTR Text, _In_ LONG Length)
{
    LONG i;

    if (!Spec->LeftAlign) {
        WdkmpFormatRepeat(Sink, ' ', Spec->Width - Length);
    }
    for (i = 0; i < Length; i++) {
        WdkmpFormatPut(Sink, Text[i]);
    }
    if (Spec->LeftAlign) {
        WdkmpFormatRepeat(Sink, ' ', Spec->Width - Length);
    }
}

/* Emits an integer: sign or prefix, zero padding, digits. */
static VOID WdkmpFormatInteger(_Inout_ WDKM_FORMAT_SINK *Sink, _In_ const WDKM_FORMAT_SPEC *Spec,
                               _In_ ULONG64 Magnitude, _In_ BOOLEAN Negative, _In_ ULONG Base,
                               _In_ BOOLEAN Upper)
{
    static const CHAR lowerDigits[] = "0123456789abcdef";
    static const CHAR upperDigits[] = "0123456789ABCDEF";
    const CHAR *digitSet = Upper ? upperDigits : lowerDigits;
    CHAR digits[24];
    LONG count = 0;
    LONG zeros = 0;
    LONG total;
    LONG i;

    do {
        digits[count++] = digitSet[Magnitude % Base];
        Magnitude /= Base;
    } while (Magnitude != 0 && count < (LONG)sizeof(digits));
    if (Spec->Precision == 0 && count == 1 && digits[0] == '0') {
        count = 0; /* C: "%.0d" of 0 prints nothing */
    }
    if (Spec->Precision > count) {
        zeros = Spec->Precision - count;
    }
    total = count + zeros + (Negative ? 1 : 0);
    if (Spec->ZeroPad && !Spec->LeftAlign && Spec->Precision < 0 && Spec->Width > total) {
        zeros += Spec->Width - total;
        total = Spec->Width;
    }

    if (!Spec->LeftAlign) {
        WdkmpFormatRepeat(Sink, ' ', Spec->Width - total);
    }
    if (Negative) {
        WdkmpFormatPut(Sink, '-');
    }
    WdkmpFormatRepeat(Sink, '0', zeros);
    for (i = count - 1; i >= 0; i--) {
        WdkmpFormatPut(Sink, digits[i]);
    }
    if (Spec->LeftAlign) {
        WdkmpFormatRepeat(Sink, ' ', Spec->Width - total);
    }
}

/* Length modifiers, from shortest to longest. */
typedef enum _WDKM_FORMAT_LENGTH {
    WdkmFormatLengthChar,
    WdkmFormatLengthShort,
    WdkmFormatLengthInt,
    WdkmFormatLengthLong,
    WdkmFormatLengthLongLong, /* also I64, j, and (64-bit) z, t, I */
} WDKM_FORMAT_LENGTH;

/* Reads digits or '*' for a width or precision. */
static LONG WdkmpFormatNumber(_Inout_ PCSTR *Cursor, _Inout_ va_list *Arguments)
{
    LONG value = 0;

    if (**Cursor == '*') {
        (*Cursor)++;
        return (LONG)va_arg(*Arguments, int);
    }
    while (**Cursor >= '0' && **Cursor <= '9') {
        if (value < 100000) {
            value = value * 10 + (**Cursor - '0');
        }
        (*Cursor)++;
    }
    return value;
}

static NTSTATUS WdkmpFormat(_Inout_ WDKM_FORMAT_SINK *Sink, _In_z_ PCSTR Format,
                            _Inout_ va_list *Arguments)
{
    PCSTR cursor = Format;
    WDKM_FORMAT_SPEC spec;
    WDKM_FORMAT_LENGTH length;
    PCSTR conversionStart;

    while (*cursor != '\0') {
        if (*cursor != '%') {
            WdkmpFormatPut(Sink, *cursor++);
            continue;
        }
        conversionStart = cursor++;
        spec.LeftAlign = FALSE;
        spec.ZeroPad = FALSE;
        spec.Width = 0;
        spec.Precision = -1;

        for (;; cursor++) {
            if (*cursor == '-') {
                spec.LeftAlign = TRUE;
            } else if (*cursor == '0') {
                spec.ZeroPad = TRUE;
            } else if (*cursor != '+' && *cursor != ' ' && *cursor != '#') {
                break; /* '+', ' ', '#' are accepted and ignored */
            }
        }
        spec.Width = WdkmpFormatNumber(&cursor, Arguments);
        if (spec.Width < 0) {
            spec.LeftAlign = TRUE;
            spec.Width = -spec.Width;
        }
        if (*cursor == '.') {
            cursor++;
            spec.Precision = WdkmpFormatNumber(&cursor, Arguments);
            if (spec.Precision < 0) {
                spec.Precision = -1;
            }
        }

        length = WdkmFormatLengthInt;
        if (cursor[0] == 'h' && cursor[1] == 'h') {
            length = WdkmFormatLengthChar;
            cursor += 2;
        } else if (cursor[0] == 'h') {
            length = WdkmFormatLengthShort;
            cursor += 1;
        } else if (cursor[0] == 'l' && cursor[1] == 'l') {
            length = WdkmFormatLengthLongLong;
            cursor += 2;
        } else if (cursor[0] == 'l' || cursor[0] == 'w') {
            length = WdkmFormatLengthLong;
            cursor += 1;
        } else if (cursor[0] == 'z' || cursor[0] == 'j' || cursor[0] == 't') {
            length = WdkmFormatLengthLongLong;
            cursor += 1;
        } else if (cursor[0] == 'I' && cursor[1] == '6' && cursor[2] == '4') {
            length = WdkmFormatLengthLongLong;
            cursor += 3;
        } else if (cursor[0] == 'I' && cursor[1] == '3' && cursor[2] == '2') {
            length = WdkmFormatLengthInt;
            cursor += 3;
        } else if (cursor[0] == 'I') {
            length = WdkmFormatLengthLongLong; /* pointer-sized */
            cursor += 1;
        }

        switch (*cursor) {
        case 'd':
        case 'i': {
            LONG64 value;
            switch (length) {
            case WdkmFormatLengthChar:  value = (signed char)va_arg(*Arguments, int); break;
            case WdkmFormatLengthShort: value = (short)va_arg(*Arguments, int); break;
            case WdkmFormatLengthInt:   value = va_arg(*Arguments, int); break;
            case WdkmFormatLengthLong:  value = va_arg(*Arguments, long); break;
            default:                    value = va_arg(*Arguments, long long); break;
            }
            WdkmpFormatInteger(Sink, &spec,
                               value < 0 ? (ULONG64)0 - (ULONG64)value : (ULONG64)value,
                               value < 0, 10, FALSE);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            ULONG64 value;
            switch (length) {
            case WdkmFormatLengthChar:  value = (unsigned char)va_arg(*Arguments, int); break;
            case WdkmFormatLengthShort: value = (unsigned short)va_arg(*Arguments, int); break;
            case WdkmFormatLengthInt:   value = va_arg(*Arguments, unsigned int); break;
            case WdkmFormatLengthLong:  value = va_arg(*Arguments, unsigned long); break;
            default:                    value = va_arg(*Arguments, unsigned long long); break;
            }
            WdkmpFormatInteger(Sink, &spec, value, FALSE, *cursor == 'u' ? 10 : 16,
                               *cursor == 'X');
            break;
        }
        case 'p': {
            WDKM_FORMAT_SPEC pointerSpec = spec;
            pointerSpec.Precision = (LONG)(2 * sizeof(PVOID));
            WdkmpFormatInteger(Sink, &pointerSpec, (ULONG64)(ULONG_PTR)va_arg(*Arguments, void *),
                               FALSE, 16, TRUE);
            break;
        }
        case 'c': {
            CHAR character = (CHAR)va_arg(*Arguments, int);
            WdkmpFormatField(Sink, &spec, &character, 1);
            break;
        }
        case 's':
            if (length == WdkmFormatLengthLong) {
                /* Wide string: ASCII passes, the rest becomes '?'. */
                const WCHAR *text = va_arg(*Arguments, const WCHAR *);
                CHAR narrow[64];
                LONG count = 0;
                LONG total = 0;
                LONG i;
                if (text == NULL) {
                    WdkmpFormatField(Sink, &spec, "(null)", 6);
                    break;
                }
                while (text[total] != 0 && (spec.Precision < 0 || total < spec.Precision)) {
                    total++;
                }
                if (!spec.LeftAlign) {
                    WdkmpFormatRepeat(Sink, ' ', spec.Width - total);
                }
                for (i = 0; i < total; i++) {
                    narrow[count++] = (text[i] < 0x80) ? (CHAR)text[i] : '?';
                    if (count == (LONG)sizeof(narrow) || i == total - 1) {
                        WDKM_FORMAT_SPEC plain = { FALSE, FALSE, 0, -1 };
                        WdkmpFormatField(Sink, &plain, narrow, count);
                        count = 0;
                    }
                }
                if (spec.LeftAlign) {
                    WdkmpFormatRepeat(Sink, ' ', spec.Width - total);
                }
            } else {
                PCSTR text = va_arg(*Arguments, PCSTR);
                LONG total = 0;
                if (text == NULL) {
                    text = "(null)";
                }
                while (text[total] != '\0' && (spec.Precision < 0 || total < spec.Precision)) {
                    total++;
                }
                WdkmpFormatField(Sink, &spec, text, total);
            }
            break;
        case '%':
            WdkmpFormatPut(Sink, '%');
            break;
        default:
            /* Unknown conversion: copy it verbatim, consume no argument. */
            while (conversionStart <= cursor && *conversionStart != '\0') {
                WdkmpFormatPut(Sink, *conversionStart++);
            }
            if (*cursor == '\0') {
                continue;
            }
            break;
        }
        cursor++;
    }
    return Sink->Truncated ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

NTSTATUS WdkmTestFormatV(PCHAR Buffer, SIZE_T BufferSize, PCSTR Format, va_list Arguments)
{
    WDKM_FORMAT_SINK sink;
    NTSTATUS status;
    va_list arguments;

    if (Buffer == NULL || BufferSize == 0) {
        return STATUS_BUFFER_TOO_SMALL;
    }
    sink.Buffer = Buffer;
    sink.Size = BufferSize;
    sink.Length = 0;
    sink.Truncated = FALSE;
    if (Format == NULL) {
        Buffer[0] = '\0';
        return STATUS_INVALID_PARAMETER;
    }
    /* A copy, so that it can be passed by address on every ABI. */
    va_copy(arguments, Arguments);
    status = WdkmpFormat(&sink, Format, &arguments);
    va_end(arguments);
    Buffer[sink.Length] = '\0';
    return status;
}

NTSTATUS WdkmTestFormat(PCHAR Buffer, SIZE_T BufferSize, PCSTR Format, ...)
{
    va_list arguments;
    NTSTATUS status;

    va_start(arguments, Format);
    status = WdkmTestFormatV(Buffer, BufferSize, Format, arguments);
    va_end(arguments);
    return status;
}
