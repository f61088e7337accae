/*
 * debug.c - DbgPrint* with NT's component/level filter and a test sink.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>

#include "hostp.h"

/* NT truncates each message to 512 bytes. */
#define HOSTP_DEBUG_MESSAGE_MAX 512

static pthread_mutex_t HostpDebugLock = PTHREAD_MUTEX_INITIALIZER;
static ULONG HostpDebugLevel = DPFLTR_WARNING_LEVEL;
static WDKM_HOST_DEBUG_PRINT_SINK *HostpDebugSink;
static PVOID HostpDebugSinkContext;

VOID WdkmHostSetDebugPrintSink(WDKM_HOST_DEBUG_PRINT_SINK *Sink, PVOID Context)
{
    WdkmHostpLock(&HostpDebugLock);
    HostpDebugSink = Sink;
    HostpDebugSinkContext = Context;
    WdkmHostpUnlock(&HostpDebugLock);
}

VOID WdkmHostSetDebugPrintLevel(ULONG Level)
{
    WdkmHostpLock(&HostpDebugLock);
    HostpDebugLevel = Level;
    WdkmHostpUnlock(&HostpDebugLock);
}

/* Level is a severity (0..31) or, with DPFLTR_MASK, a bit mask whose
   lowest set bit is taken as the severity. */
static ULONG HostpSeverity(ULONG Level)
{
    ULONG Mask;
    ULONG Severity = 0;

    if (Level <= 31) {
        return Level;
    }
    Mask = Level & ~(ULONG)DPFLTR_MASK;
    if (Mask == 0) {
        return MAXULONG;
    }
    while ((Mask & 1) == 0) {
        Mask >>= 1;
        Severity++;
    }
    return Severity;
}

ULONG NTAPI vDbgPrintEx(ULONG ComponentId, ULONG Level, PCCH Format, va_list arglist)
{
    char Message[HOSTP_DEBUG_MESSAGE_MAX];

    WdkmHostpLock(&HostpDebugLock);
    if (HostpSeverity(Level) <= HostpDebugLevel) {
        vsnprintf(Message, sizeof(Message), Format, arglist);
        if (HostpDebugSink != NULL) {
            HostpDebugSink(ComponentId, Level, Message, HostpDebugSinkContext);
        } else {
            fputs(Message, stderr);
        }
    }
    WdkmHostpUnlock(&HostpDebugLock);
    return (ULONG)STATUS_SUCCESS;
}

ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
{
    va_list Arguments;
    ULONG Status;

    va_start(Arguments, Format);
    Status = vDbgPrintEx(ComponentId, Level, Format, Arguments);
    va_end(Arguments);
    return Status;
}

ULONG DbgPrint(PCSTR Format, ...)
{
    va_list Arguments;
    ULONG Status;

    va_start(Arguments, Format);
    Status = vDbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_INFO_LEVEL, Format, Arguments);
    va_end(Arguments);
    return Status;
}
