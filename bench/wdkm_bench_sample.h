/*
 * wdkm_bench_sample.h - what a benchmark run is asked for and what it
 * hands back. Fixed-size structures of plain NT types, shared by the
 * measuring core (kernel or host emulation), the benchmark driver's IOCTL
 * and the user-mode programs that print the samples.
 *
 * Include <ntddk.h> (kernel, host emulation) or <windows.h> first.
 */
#ifndef WDKM_BENCH_SAMPLE_H
#define WDKM_BENCH_SAMPLE_H

#define WDKM_BENCH_MAX_REPETITIONS 32
#define WDKM_BENCH_MAX_SIZES       8
#define WDKM_BENCH_NAME_CHARS      48

/* Groups of measurements (WDKM_BENCH_CONFIG.Groups). */
#define WDKM_BENCH_GROUP_WRAPPER   0x1UL    /* uncontended pair: library vs raw, per kind */
#define WDKM_BENCH_GROUP_CONTENDED 0x2UL    /* two threads on one lock: library vs raw */
#define WDKM_BENCH_GROUP_REGISTRY  0x4UL    /* lookups at each size, one and two threads */
#define WDKM_BENCH_GROUP_ALL       0x7UL

/* Options (WDKM_BENCH_CONFIG.Flags). */
#define WDKM_BENCH_FLAG_PIN        0x1UL    /* threaded runs: thread i on the i-th processor */

typedef struct _WDKM_BENCH_CONFIG {
    ULONG Groups;
    ULONG Flags;
    ULONG Repetitions;                      /* 1..WDKM_BENCH_MAX_REPETITIONS */
    ULONG RepetitionMicroseconds;           /* aimed-for duration of one repetition */
    ULONG RegistrySizeCount;                /* 0..WDKM_BENCH_MAX_SIZES */
    ULONG RegistrySizes[WDKM_BENCH_MAX_SIZES];
} WDKM_BENCH_CONFIG;

/*
 * One measurement, repeated: for each repetition the operations done
 * (pairs, lookups; all threads together) and how long they took, in ticks
 * of Frequency per second; for contended pairs also how often the lock
 * passed from one thread to the other (0 elsewhere). Status is
 * STATUS_SUCCESS, or why it did not run (then Repetitions is 0).
 */
typedef struct _WDKM_BENCH_SAMPLE {
    CHAR Name[WDKM_BENCH_NAME_CHARS];       /* "wrapper/kmutex/library", ... */
    LONG Status;                            /* an NTSTATUS */
    ULONG Threads;
    ULONG Repetitions;
    ULONG Pinned;                           /* threads pinned to processors (threaded runs) */
    LONG64 Frequency;
    ULONG64 Operations[WDKM_BENCH_MAX_REPETITIONS];
    LONG64 Ticks[WDKM_BENCH_MAX_REPETITIONS];
    ULONG64 Handoffs[WDKM_BENCH_MAX_REPETITIONS];
} WDKM_BENCH_SAMPLE;

/* The driver's answer to IOCTL_WDKM_BENCH_RUN. */
#define WDKM_BENCH_MAX_SAMPLES 96

typedef struct _WDKM_BENCH_OUTPUT {
    LONG Status;                            /* of the whole run */
    ULONG Checked;                          /* 1 if built with WDKM_CHECKED */
    ULONG SampleCount;
    ULONG Reserved;
    WDKM_BENCH_SAMPLE Samples[WDKM_BENCH_MAX_SAMPLES];
} WDKM_BENCH_OUTPUT;

#ifdef CTL_CODE
/* Input: WDKM_BENCH_CONFIG. Output: WDKM_BENCH_OUTPUT. */
#define IOCTL_WDKM_BENCH_RUN \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0xB00, METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS)
#endif

/*
 * Device and service names: one driver per variant, so that both can be
 * loaded at once and their runs interleaved.
 */
#define WDKM_BENCH_SERVICE_PREFIX L"WdkmBench"

#endif /* WDKM_BENCH_SAMPLE_H */
