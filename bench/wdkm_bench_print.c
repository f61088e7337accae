/*
 * wdkm_bench_print.c - prints a sample as one line (see wdkm_bench_print.h).
 */
#ifdef _WIN32
#include <windows.h>
#else
#include <ntddk.h>
#endif
#include <stdio.h>

#include "wdkm_bench_print.h"

void WdkmBenchPrintSample(const char *Platform, const char *Variant,
                          const WDKM_BENCH_SAMPLE *Sample)
{
    ULONG Index;

    printf("sample platform=%s variant=%s name=%.*s status=0x%08lX threads=%lu frequency=%lld ops=",
           Platform, Variant, (int)sizeof(Sample->Name), Sample->Name,
           (unsigned long)Sample->Status, (unsigned long)Sample->Threads,
           (long long)Sample->Frequency);
    for (Index = 0; Index < Sample->Repetitions && Index < WDKM_BENCH_MAX_REPETITIONS; Index += 1) {
        printf("%s%llu", Index == 0 ? "" : ",", (unsigned long long)Sample->Operations[Index]);
    }
    printf(" ticks=");
    for (Index = 0; Index < Sample->Repetitions && Index < WDKM_BENCH_MAX_REPETITIONS; Index += 1) {
        printf("%s%lld", Index == 0 ? "" : ",", (long long)Sample->Ticks[Index]);
    }
    printf("\n");
    fflush(stdout);
}
