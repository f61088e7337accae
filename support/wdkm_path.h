/*
 * wdkm_path.h - file paths for programs that run under Wine or Windows.
 *
 * A kernel service's image path must be a Windows path. Under Wine the
 * driver usually sits in a Linux build tree: a Unix path ("/work/x.sys") is
 * turned into its Z: drive form ("Z:\work\x.sys"), which Wine maps to "/"
 * in every prefix it creates.
 */
#ifndef WDKM_PATH_H
#define WDKM_PATH_H

#include "wdkm_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Makes Path an absolute Windows path in Out (OutChars characters with the
 * terminating NUL): "/a/b" becomes "Z:\a\b"; anything else goes through
 * GetFullPathNameW (relative to the current directory).
 */
DWORD WdkmPathToWindows(const WCHAR *Path, WCHAR *Out, DWORD OutChars, WDKM_ERROR *Error);

/* Full path of FileName in the directory of the running program's .exe. */
DWORD WdkmPathBesideProgram(const WCHAR *FileName, WCHAR *Out, DWORD OutChars,
                            WDKM_ERROR *Error);

/* ERROR_SUCCESS if Path names an existing file (not a directory). */
DWORD WdkmPathCheckFile(const WCHAR *Path, WDKM_ERROR *Error);

/*
 * The driver image a program was told to load, as an absolute Windows
 * path to an existing file in Out: Argument (a command-line argument, a
 * Unix or Windows path) when not NULL, else DefaultName beside the
 * running program. What a client's "prog.exe [path\to\driver.sys]" does
 * with its argument.
 */
DWORD WdkmPathDriverImage(const WCHAR *Argument, const WCHAR *DefaultName, WCHAR *Out,
                          DWORD OutChars, WDKM_ERROR *Error);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_PATH_H */
