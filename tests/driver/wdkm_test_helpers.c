/*
 * wdkm_test_helpers.c - clock, pool, sleep and trace helpers for tests.
 */
#include "wdkm_test_framework.h"

ULONG64 WdkmTestMicroseconds(VOID)
{
    LARGE_INTEGER frequency;
    LARGE_INTEGER counter = KeQueryPerformanceCounter(&frequency);
    ULONG64 ticks = (ULONG64)counter.QuadPart;
    ULONG64 perSecond = (ULONG64)frequency.QuadPart;

    if (perSecond == 0) {
        return 0;
    }
    /* Split to avoid overflowing ticks * 1000000. */
    return (ticks / perSecond) * 1000000u + ((ticks % perSecond) * 1000000u) / perSecond;
}

PVOID WdkmTestAllocate(SIZE_T Size)
{
    PVOID memory;

    /* ExAllocatePool2 is missing from Wine 8: allocate and zero by hand. */
#ifdef _MSC_VER
#pragma warning(suppress : 4996)
#endif
    memory = ExAllocatePoolWithTag(NonPagedPoolNx, Size, WDKM_TEST_POOL_TAG);
    if (memory != NULL) {
        RtlZeroMemory(memory, Size);
    }
    return memory;
}

VOID WdkmTestFree(PVOID Memory)
{
    if (Memory != NULL) {
        ExFreePoolWithTag(Memory, WDKM_TEST_POOL_TAG);
    }
}

VOID WdkmTestSleep(ULONG Milliseconds)
{
    LARGE_INTEGER interval;

    interval.QuadPart = -(LONGLONG)Milliseconds * 10000; /* relative, 100 ns units */
    (VOID)KeDelayExecutionThread(KernelMode, FALSE, &interval);
}

VOID WdkmTestTrace(ULONG Level, PCSTR Format, ...)
{
    CHAR text[WDKM_TEST_MESSAGE_CHARS + 128];
    va_list arguments;

    va_start(arguments, Format);
    (VOID)WdkmTestFormatV(text, sizeof(text), Format, arguments);
    va_end(arguments);
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, Level, "wdkm-test: %s\n", text);
}
