/*
 * wdkm_path.c - file paths for programs that run under Wine or Windows.
 */
#include "wdkm_path.h"

#include <wchar.h>

DWORD WdkmPathToWindows(const WCHAR *Path, WCHAR *Out, DWORD OutChars, WDKM_ERROR *Error)
{
    size_t length;
    size_t i;
    DWORD needed;

    WdkmErrorClear(Error);
    if (Path == NULL || Path[0] == L'\0' || Out == NULL || OutChars == 0) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "empty path");
    }

    if (Path[0] == L'/') {
        /* Unix path: "Z:" + the path with '\' separators. */
        length = wcslen(Path);
        if (length + 3 > OutChars) {
            return WdkmErrorSetText(Error, ERROR_FILENAME_EXCED_RANGE, "path too long: %ls", Path);
        }
        Out[0] = L'Z';
        Out[1] = L':';
        for (i = 0; i < length; i++) {
            Out[2 + i] = (Path[i] == L'/') ? L'\\' : Path[i];
        }
        Out[2 + length] = L'\0';
        return ERROR_SUCCESS;
    }

    needed = GetFullPathNameW(Path, OutChars, Out, NULL);
    if (needed == 0) {
        return WdkmErrorSet(Error, GetLastError(), "GetFullPathNameW(%ls) failed", Path);
    }
    if (needed >= OutChars) {
        return WdkmErrorSetText(Error, ERROR_FILENAME_EXCED_RANGE, "path too long: %ls", Path);
    }
    return ERROR_SUCCESS;
}

DWORD WdkmPathBesideProgram(const WCHAR *FileName, WCHAR *Out, DWORD OutChars,
                            WDKM_ERROR *Error)
{
    DWORD length;
    DWORD directoryLength;
    size_t nameLength;

    WdkmErrorClear(Error);
    if (FileName == NULL || Out == NULL || OutChars == 0) {
        return WdkmErrorSetText(Error, ERROR_INVALID_PARAMETER, "invalid argument");
    }
    length = GetModuleFileNameW(NULL, Out, OutChars);
    if (length == 0) {
        return WdkmErrorSet(Error, GetLastError(), "GetModuleFileNameW failed");
    }
    if (length >= OutChars) {
        return WdkmErrorSetText(Error, ERROR_FILENAME_EXCED_RANGE, "program path too long");
    }

    /* Keep the directory and its trailing separator. */
    directoryLength = length;
    while (directoryLength > 0 && Out[directoryLength - 1] != L'\\' &&
           Out[directoryLength - 1] != L'/') {
        directoryLength--;
    }
    nameLength = wcslen(FileName);
    if (directoryLength + nameLength + 1 > OutChars) {
        return WdkmErrorSetText(Error, ERROR_FILENAME_EXCED_RANGE, "path too long for %ls",
                                FileName);
    }
    wmemcpy(Out + directoryLength, FileName, nameLength + 1);
    return ERROR_SUCCESS;
}

DWORD WdkmPathCheckFile(const WCHAR *Path, WDKM_ERROR *Error)
{
    DWORD attributes;

    WdkmErrorClear(Error);
    attributes = GetFileAttributesW(Path);
    if (attributes == INVALID_FILE_ATTRIBUTES) {
        return WdkmErrorSet(Error, GetLastError(), "cannot find %ls", Path);
    }
    if ((attributes & FILE_ATTRIBUTE_DIRECTORY) != 0) {
        return WdkmErrorSetText(Error, ERROR_DIRECTORY,
                                "%ls is a directory, not a file", Path);
    }
    return ERROR_SUCCESS;
}

DWORD WdkmPathDriverImage(const WCHAR *Argument, const WCHAR *DefaultName, WCHAR *Out,
                          DWORD OutChars, WDKM_ERROR *Error)
{
    WCHAR beside[MAX_PATH];
    DWORD result;

    WdkmErrorClear(Error);
    if (Argument == NULL) {
        result = WdkmPathBesideProgram(DefaultName, beside, MAX_PATH, Error);
        if (result != ERROR_SUCCESS) {
            return result;
        }
        Argument = beside;
    }
    result = WdkmPathToWindows(Argument, Out, OutChars, Error);
    if (result != ERROR_SUCCESS) {
        return result;
    }
    return WdkmPathCheckFile(Out, Error);
}
