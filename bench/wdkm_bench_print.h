/*
 * wdkm_bench_print.h - the text form of a sample, one line each, written
 * by the host program and by the Wine runner alike and read by
 * bench/report.py:
 *
 *   sample platform=host variant=release name=wrapper/kmutex/library
 *          status=0x00000000 threads=1 frequency=10000000
 *          ops=200000,200000,... ticks=412,409,... handoffs=0,0,...
 *
 * (on one line). User mode only; include <windows.h> or, on the host, the
 * emulation's <ntddk.h> first.
 */
#ifndef WDKM_BENCH_PRINT_H
#define WDKM_BENCH_PRINT_H

#include "wdkm_bench_sample.h"

void WdkmBenchPrintSample(const char *Platform, const char *Variant,
                          const WDKM_BENCH_SAMPLE *Sample);

#endif /* WDKM_BENCH_PRINT_H */
