/*
 * clock.c - time: performance counter, system time, stalls.
 */
#define _POSIX_C_SOURCE 200809L

#include <time.h>

#include "hostp.h"

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define HOSTP_EPOCH_DIFFERENCE 116444736000000000LL

static LONGLONG HostpNanoseconds(clockid_t Clock)
{
    struct timespec Now;

    clock_gettime(Clock, &Now);
    return (LONGLONG)Now.tv_sec * 1000000000LL + Now.tv_nsec;
}

LONGLONG WdkmHostpMonotonicNanoseconds(VOID)
{
    return HostpNanoseconds(CLOCK_MONOTONIC);
}

LONGLONG WdkmHostpSystemTime(VOID)
{
    return HostpNanoseconds(CLOCK_REALTIME) / 100 + HOSTP_EPOCH_DIFFERENCE;
}

LARGE_INTEGER NTAPI KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    LARGE_INTEGER Counter;

    if (PerformanceFrequency != NULL) {
        PerformanceFrequency->QuadPart = 10000000;
    }
    Counter.QuadPart = WdkmHostpMonotonicNanoseconds() / 100;
    return Counter;
}

VOID NTAPI KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    CurrentTime->QuadPart = WdkmHostpSystemTime();
}

ULONGLONG NTAPI KeQueryInterruptTime(VOID)
{
    return (ULONGLONG)(WdkmHostpMonotonicNanoseconds() / 100);
}

VOID NTAPI KeStallExecutionProcessor(ULONG MicroSeconds)
{
    /* A busy wait, as the HAL's: it must work at any IRQL. */
    LONGLONG End = WdkmHostpMonotonicNanoseconds() + (LONGLONG)MicroSeconds * 1000;

    while (WdkmHostpMonotonicNanoseconds() < End) {
        YieldProcessor();
    }
}
