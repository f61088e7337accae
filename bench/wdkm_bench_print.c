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

/* " Key=v1,v2,..." for the sample's repetitions. */
static void WdkmBenchPrintList(const char *Key, const WDKM_BENCH_SAMPLE *Sample,
                               const ULONG64 *Unsigned, const LONG64 *Signed)
{
    ULONG Index;

    printf(" %s=", Key);
    for (Index = 0; Index < Sample->Repetitions && Index < WDKM_BENCH_MAX_REPETITIONS; Index += 1) {
        if (Unsigned != NULL) {
            printf("%s%llu", Index == 0 ? "" : ",", (unsigned long long)Unsigned[Index]);
        } else {
            printf("%s%lld", Index == 0 ? "" : ",", (long long)Signed[Index]);
        }
    }
}

void WdkmBenchPrintSample(const char *Platform, const char *Variant,
                          const WDKM_BENCH_SAMPLE *Sample)
{
    printf("sample platform=%s variant=%s name=%.*s status=0x%08lX threads=%lu pinned=%lu "
           "frequency=%lld",
           Platform, Variant, (int)sizeof(Sample->Name), Sample->Name,
           (unsigned long)Sample->Status, (unsigned long)Sample->Threads,
           (unsigned long)Sample->Pinned, (long long)Sample->Frequency);
    WdkmBenchPrintList("ops", Sample, Sample->Operations, NULL);
    WdkmBenchPrintList("ticks", Sample, NULL, Sample->Ticks);
    WdkmBenchPrintList("handoffs", Sample, Sample->Handoffs, NULL);
    printf("\n");
    fflush(stdout);
}
