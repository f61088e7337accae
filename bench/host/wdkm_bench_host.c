/*
 * wdkm_bench_host.c - the benchmarks on the host: the library and the raw
 * primitives both run on port/host, the user-mode emulation of the kernel.
 *
 *   wdkm_bench_host [--smoke] [--groups wrapper,contended,registry]
 *                   [--repetitions N] [--microseconds N] [--sizes 10,1000,...]
 *                   [--no-pin]
 *   wdkm_bench_host --callgrind [--smoke]   (under valgrind --tool=callgrind
 *                                            --collect-atstart=no)
 *
 * Timing mode prints one line per sample (wdkm_bench_print.h). Callgrind
 * mode counts instructions instead of time: it runs each loop for N1 and
 * then N2 operations with collection on only around the loop, and dumps
 * the counts after each ("wrapper/kmutex/library/2000", ...), so that
 * (count(N2) - count(N1)) / (N2 - N1) is the exact cost of one operation,
 * free of the loop's setup. bench/report.py reads the dumps.
 *
 * Exit status: 0 when every benchmark ran (a lock kind this kernel lacks
 * counts as run), 1 when one failed, 2 for a usage error.
 */
#define _GNU_SOURCE     /* sched_setaffinity, CPU_SET */

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wdkm_bench.h"
#include "wdkm_bench_print.h"

#ifdef WDKM_BENCH_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#endif

#define WDKM_BENCH_CALLGRIND_N1 1000
#define WDKM_BENCH_CALLGRIND_N2 2000

static int
WdkmBenchUsage(void)
{
    fprintf(stderr,
            "usage: wdkm_bench_host [--smoke] [--groups wrapper,contended,registry]\n"
            "                       [--repetitions N] [--microseconds N] [--sizes N,N,...]\n"
            "                       [--time-holds]   (checked build: WDKM_DIAG_TIME_HOLDS)\n"
            "                       [--no-pin]       (threaded runs: leave threads unpinned)\n"
            "       wdkm_bench_host --callgrind [--smoke] [--sizes N,N,...]\n");
    return 2;
}

/* The processors the program may run on, in order, read before any is pinned. */
static int WdkmBenchCpus[CPU_SETSIZE];
static int WdkmBenchCpuCount;

static void
WdkmBenchReadCpus(void)
{
    cpu_set_t Allowed;
    int Cpu;

    WdkmBenchCpuCount = 0;
    if (sched_getaffinity(0, sizeof(Allowed), &Allowed) != 0) {
        return;
    }
    for (Cpu = 0; Cpu < CPU_SETSIZE; Cpu++) {
        if (CPU_ISSET(Cpu, &Allowed)) {
            WdkmBenchCpus[WdkmBenchCpuCount++] = Cpu;
        }
    }
}

/* wdkm_bench.h: the calling thread on the Index-th allowed processor. */
LONG
WdkmBenchPinCurrentThread(ULONG Index)
{
    cpu_set_t One;
    int Cpu;

    if (WdkmBenchCpuCount == 0) {
        return -1;
    }
    Cpu = WdkmBenchCpus[Index % (ULONG)WdkmBenchCpuCount];
    CPU_ZERO(&One);
    CPU_SET(Cpu, &One);
    return sched_setaffinity(0, sizeof(One), &One) == 0 ? Cpu : -1;
}

/* Parses "10,1000,100000" into Config->RegistrySizes. */
static int
WdkmBenchParseSizes(const char *Text, WDKM_BENCH_CONFIG *Config)
{
    char *End;

    Config->RegistrySizeCount = 0;
    while (*Text != '\0') {
        unsigned long Value = strtoul(Text, &End, 10);

        if (End == Text || Value == 0 || Value > 9999999 ||
            Config->RegistrySizeCount == WDKM_BENCH_MAX_SIZES) {
            return 0;
        }
        Config->RegistrySizes[Config->RegistrySizeCount++] = (ULONG)Value;
        Text = *End == ',' ? End + 1 : End;
        if (*End != ',' && *End != '\0') {
            return 0;
        }
    }
    return 1;
}

static int
WdkmBenchParseGroups(const char *Text, ULONG *Groups)
{
    static const struct {
        const char *Name;
        ULONG Group;
    } Known[] = {
        { "wrapper", WDKM_BENCH_GROUP_WRAPPER },
        { "contended", WDKM_BENCH_GROUP_CONTENDED },
        { "registry", WDKM_BENCH_GROUP_REGISTRY },
        { "all", WDKM_BENCH_GROUP_ALL },
    };
    size_t Length;
    size_t Index;

    *Groups = 0;
    while (*Text != '\0') {
        Length = strcspn(Text, ",");
        for (Index = 0; Index < sizeof(Known) / sizeof(Known[0]); Index++) {
            if (strlen(Known[Index].Name) == Length && strncmp(Text, Known[Index].Name, Length) == 0) {
                *Groups |= Known[Index].Group;
                break;
            }
        }
        if (Index == sizeof(Known) / sizeof(Known[0])) {
            return 0;
        }
        Text += Length + (Text[Length] == ',');
    }
    return *Groups != 0;
}

/* The variant the samples are printed under ("checked-holds": --time-holds). */
static const char *WdkmBenchVariant = WDKM_BENCH_VARIANT;

static BOOLEAN
WdkmBenchPrint(PVOID Context, const WDKM_BENCH_SAMPLE *Sample)
{
    ULONG *Failed = (ULONG *)Context;

    /* A kind the kernel lacks is a result; any other failure is not. */
    if (Sample->Status != STATUS_SUCCESS && Sample->Status != STATUS_NOT_SUPPORTED) {
        *Failed += 1;
    }
    WdkmBenchPrintSample("host", WdkmBenchVariant, Sample);
    return TRUE;
}

#ifdef WDKM_BENCH_HAVE_CALLGRIND
/* Collects the instructions of Run(Count) alone and dumps them as Label/Count. */
#define WDKM_BENCH_COLLECT(Label, Count, Run)                               \
    do {                                                                    \
        char Dump_[96];                                                     \
        snprintf(Dump_, sizeof(Dump_), "%s/%lu", (Label), (unsigned long)(Count)); \
        CALLGRIND_ZERO_STATS;                                               \
        CALLGRIND_TOGGLE_COLLECT;                                           \
        Run;                                                                \
        CALLGRIND_TOGGLE_COLLECT;                                           \
        CALLGRIND_DUMP_STATS_AT(Dump_);                                     \
    } while (0)

static int
WdkmBenchCallgrind(const WDKM_BENCH_CONFIG *Config)
{
    static const ULONG64 Counts[2] = { WDKM_BENCH_CALLGRIND_N1, WDKM_BENCH_CALLGRIND_N2 };
    /* The lookup streams and the peers (WDKM_BENCH_STREAM_*); the others
       look nothing up. */
    static const struct {
        ULONG Stream;
        const char *Name;
    } Streams[] = {
        { WDKM_BENCH_STREAM_UNIFORM, "uniform" },
        { WDKM_BENCH_STREAM_HOT, "hot" },
        { WDKM_BENCH_STREAM_PEER_HASH, "peer_hash_spinlock" },
        { WDKM_BENCH_STREAM_PEER_SORTED, "peer_sorted_eresource" },
    };
    WDKM_BENCH_LOCKS Locks;
    WDKM_BENCH_VALUE *Seen;
    PWDKM_BENCH_REGISTRY Registry;
    char Label[80];
    NTSTATUS Status;
    int Failed = 0;
    ULONG Index;
    ULONG Stream;
    ULONG Round;

    if (!RUNNING_ON_VALGRIND) {
        fprintf(stderr, "wdkm_bench_host: --callgrind needs valgrind --tool=callgrind "
                        "--collect-atstart=no\n");
        return 1;
    }
    for (Index = 0; Index < WdkmBenchKindCount; Index++) {
        const WDKM_BENCH_KIND *Kind = &WdkmBenchKinds[Index];

        Status = WdkmBenchLocksCreate(Kind, &Locks);
        printf("callgrind kind=%s status=0x%08lX\n", Kind->Name, (unsigned long)Status);
        if (Status != STATUS_SUCCESS) {
            Failed |= Status != STATUS_NOT_SUPPORTED;
            continue;
        }
        /* Warm up: first calls resolve routines and adopt the thread. */
        Status = Kind->LibraryPairs(&Locks, 0, 1000, &Seen);
        Kind->RawPairs(&Locks, 0, 1000);
        if (Status == STATUS_SUCCESS) {
            Status = Kind->FloorPairs(&Locks, 0, 1000);
        }
        for (Round = 0; Round < 2 && Status == STATUS_SUCCESS; Round++) {
            snprintf(Label, sizeof(Label), "wrapper/%s/library", Kind->Name);
            WDKM_BENCH_COLLECT(Label, Counts[Round],
                               Status = Kind->LibraryPairs(&Locks, 0, Counts[Round], &Seen));
            snprintf(Label, sizeof(Label), "wrapper/%s/raw", Kind->Name);
            WDKM_BENCH_COLLECT(Label, Counts[Round], Kind->RawPairs(&Locks, 0, Counts[Round]));
            if (Status == STATUS_SUCCESS) {
                snprintf(Label, sizeof(Label), "wrapper/%s/floor", Kind->Name);
                WDKM_BENCH_COLLECT(Label, Counts[Round],
                                   Status = Kind->FloorPairs(&Locks, 0, Counts[Round]));
            }
        }
        Failed |= Status != STATUS_SUCCESS;
        WdkmBenchLocksDestroy(Kind, &Locks);
    }
    for (Index = 0; Index < Config->RegistrySizeCount; Index++) {
        Status = WdkmBenchRegistryCreate(Config->RegistrySizes[Index], &Registry);
        printf("callgrind registry=%lu status=0x%08lX\n",
               (unsigned long)Config->RegistrySizes[Index], (unsigned long)Status);
        if (Status != STATUS_SUCCESS) {
            Failed = 1;
            continue;
        }
        for (Stream = 0; Stream < sizeof(Streams) / sizeof(Streams[0]) && Status == STATUS_SUCCESS;
             Stream++) {
            /* Two full passes first: the cache simulation then counts the
               lines of the steady state, not those the setup left cold. */
            Status = WdkmBenchRegistryLookups(Registry, Streams[Stream].Stream, 0,
                                              2 * (ULONG64)Config->RegistrySizes[Index] + 1000);
            snprintf(Label, sizeof(Label), "registry/%s/%lu/1", Streams[Stream].Name,
                     (unsigned long)Config->RegistrySizes[Index]);
            for (Round = 0; Round < 2 && Status == STATUS_SUCCESS; Round++) {
                WDKM_BENCH_COLLECT(Label, Counts[Round],
                                   Status = WdkmBenchRegistryLookups(Registry,
                                                                     Streams[Stream].Stream, 0,
                                                                     Counts[Round]));
            }
        }
        Failed |= Status != STATUS_SUCCESS;
        WdkmBenchRegistryDestroy(Registry);
    }
    return Failed;
}
#endif /* WDKM_BENCH_HAVE_CALLGRIND */

int
main(int argc, char **argv)
{
    WDKM_BENCH_CONFIG Config;
    const char *Sizes = NULL;
    const char *Groups = "all";
    unsigned long Repetitions = 0;
    unsigned long Microseconds = 0;
    int Smoke = 0;
    int Callgrind = 0;
    int TimeHolds = 0;
    int Pin = 1;
    ULONG Failed = 0;
    NTSTATUS Status;
    int Index;

    for (Index = 1; Index < argc; Index++) {
        if (strcmp(argv[Index], "--smoke") == 0) {
            Smoke = 1;
        } else if (strcmp(argv[Index], "--callgrind") == 0) {
            Callgrind = 1;
        } else if (strcmp(argv[Index], "--no-pin") == 0) {
            Pin = 0;
        } else if (strcmp(argv[Index], "--time-holds") == 0) {
            TimeHolds = 1;
        } else if (strcmp(argv[Index], "--groups") == 0 && Index + 1 < argc) {
            Groups = argv[++Index];
        } else if (strcmp(argv[Index], "--sizes") == 0 && Index + 1 < argc) {
            Sizes = argv[++Index];
        } else if (strcmp(argv[Index], "--repetitions") == 0 && Index + 1 < argc) {
            Repetitions = strtoul(argv[++Index], NULL, 10);
        } else if (strcmp(argv[Index], "--microseconds") == 0 && Index + 1 < argc) {
            Microseconds = strtoul(argv[++Index], NULL, 10);
        } else {
            return WdkmBenchUsage();
        }
    }

    /* The presets: a full run, and a smoke run that only proves it all works. */
    memset(&Config, 0, sizeof(Config));
    Config.Repetitions = Smoke ? 3 : 11;
    Config.RepetitionMicroseconds = Smoke ? 2000 : 20000;
    if (!WdkmBenchParseSizes(Sizes != NULL ? Sizes
                                           : Smoke ? "10,1000" : "10,100,1000,10000,100000",
                             &Config) ||
        !WdkmBenchParseGroups(Groups, &Config.Groups) ||
        Repetitions > WDKM_BENCH_MAX_REPETITIONS) {
        return WdkmBenchUsage();
    }
    if (Repetitions != 0) {
        Config.Repetitions = (ULONG)Repetitions;
    }
    if (Microseconds != 0) {
        Config.RepetitionMicroseconds = (ULONG)Microseconds;
    }
    WdkmBenchReadCpus();
    if (Pin) {
        Config.Flags |= WDKM_BENCH_FLAG_PIN;
    }

    if (Callgrind) {
#ifdef WDKM_BENCH_HAVE_CALLGRIND
        return WdkmBenchCallgrind(&Config);
#else
        fprintf(stderr, "wdkm_bench_host: built without <valgrind/callgrind.h>\n");
        return 1;
#endif
    }
    if (TimeHolds) {
        /* What hold timing adds to the checked build's pair; the release
           build has no diagnostics to time with. */
        if (WdkmDiagSetPolicy(WDKM_DIAG_REPORT | WDKM_DIAG_TIME_HOLDS) != STATUS_SUCCESS) {
            fprintf(stderr, "wdkm_bench_host: --time-holds needs the checked build\n");
            return 2;
        }
        WdkmBenchVariant = "checked-holds";
    }
    printf("# wdkm_bench_host variant=%s repetitions=%lu microseconds=%lu pin=%d cpus=%d\n",
           WdkmBenchVariant, (unsigned long)Config.Repetitions,
           (unsigned long)Config.RepetitionMicroseconds, Pin, WdkmBenchCpuCount);
    for (Index = 0; Index < (int)WdkmBenchKindCount; Index++) {
        printf("kind name=%s raw=%s\n", WdkmBenchKinds[Index].Name, WdkmBenchKinds[Index].RawCalls);
    }
    Status = WdkmBenchRun(&Config, WdkmBenchPrint, &Failed);
    if (!NT_SUCCESS(Status)) {
        fprintf(stderr, "wdkm_bench_host: the run stopped: %s (0x%08lX)\n", WdkmStatusName(Status),
                (unsigned long)Status);
        return 1;
    }
    return Failed != 0;
}
