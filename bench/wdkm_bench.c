/*
 * wdkm_bench.c - the measuring core: calibration, repetitions, threads,
 * and the three groups of measurements (see wdkm_bench.h).
 *
 * Method, shared by the host and the driver:
 *   - Uncontended pairs: a loop of Count pairs on the calling thread, timed
 *     as a whole with KeQueryPerformanceCounter (one reading before, one
 *     after), so that the timer's cost and resolution do not enter the
 *     per-pair figure. Count is calibrated once per kind and side (library,
 *     raw) for a repetition of about Config->RepetitionMicroseconds; the
 *     calibration runs double as the warm-up.
 *   - Threaded measurements (contended pairs, registry lookups on one or
 *     two threads) run for a fixed window instead: system threads start
 *     together (an event, then a spin barrier) and each works in small
 *     chunks until the window has passed, so that two threads overlap for
 *     all of it whatever their speed; the operations done are counted.
 *   - A library measurement and its baseline alternate repetition by
 *     repetition (library first on even repetitions, baseline first on odd
 *     ones), so that a burst of noise on the shared machine hits both.
 */
#include "wdkm_bench.h"

#define WDKM_BENCH_MAX_THREADS     2
#define WDKM_BENCH_MAX_COUNT       (1ULL << 32)
#define WDKM_BENCH_HOT_NAMES       10
#define WDKM_BENCH_PAIRS_CHUNK     16       /* pairs between two looks at the clock */
#define WDKM_BENCH_LOOKUPS_CHUNK   64       /* lookups between two looks at the clock */

static LONG64 WdkmBenchFrequency;
static BOOLEAN WdkmBenchPin;                /* WDKM_BENCH_FLAG_PIN */
static LONG volatile WdkmBenchPinFailures;  /* threads that could not be pinned */

/* The initial value of every registry lock. */
static const WDKM_BENCH_VALUE WdkmBenchZeroValue = { 0 };

/* ------------------------------------------------------------------------
 * Small helpers: clock, pool, strings (no C runtime in a driver).
 */

static
LONG64
WdkmBenchNow(
    VOID
    )
{
    return KeQueryPerformanceCounter(NULL).QuadPart;
}

static
PVOID
WdkmBenchAllocate(
    _In_ SIZE_T Bytes
    )
{
    PVOID Block = ExAllocatePoolWithTag(NonPagedPool, Bytes, WDKM_BENCH_POOL_TAG);

    if (Block != NULL) {
        RtlZeroMemory(Block, Bytes);
    }
    return Block;
}

static
VOID
WdkmBenchFree(
    _In_opt_ PVOID Block
    )
{
    if (Block != NULL) {
        ExFreePoolWithTag(Block, WDKM_BENCH_POOL_TAG);
    }
}

/* Appends Text to the NUL-terminated Buffer of Size bytes, truncating. */
static
VOID
WdkmBenchAppend(
    _Inout_ PCHAR Buffer,
    _In_ SIZE_T Size,
    _In_z_ PCSTR Text
    )
{
    SIZE_T Length = 0;

    while (Length + 1 < Size && Buffer[Length] != '\0') {
        Length += 1;
    }
    while (Length + 1 < Size && *Text != '\0') {
        Buffer[Length] = *Text;
        Length += 1;
        Text += 1;
    }
    Buffer[Length] = '\0';
}

/* Writes Value in decimal, zero-padded to at least Digits digits. */
static
VOID
WdkmBenchFormatNumber(
    _Out_writes_bytes_(Size) PCHAR Buffer,
    _In_ SIZE_T Size,
    _In_ ULONG Value,
    _In_ ULONG Digits
    )
{
    CHAR Reversed[16];
    ULONG Count = 0;
    SIZE_T Index;

    do {
        Reversed[Count] = (CHAR)('0' + Value % 10);
        Count += 1;
        Value /= 10;
    } while ((Value != 0 || Count < Digits) && Count < sizeof(Reversed));
    for (Index = 0; Index + 1 < Size && Index < Count; Index += 1) {
        Buffer[Index] = Reversed[Count - 1 - Index];
    }
    Buffer[Index] = '\0';
}

/* Starts a sample named Part1/Part2/Part3 (NULL parts are left out). */
static
VOID
WdkmBenchSampleStart(
    _Out_ WDKM_BENCH_SAMPLE *Sample,
    _In_z_ PCSTR Part1,
    _In_z_ PCSTR Part2,
    _In_opt_z_ PCSTR Part3,
    _In_ ULONG Threads
    )
{
    RtlZeroMemory(Sample, sizeof(*Sample));
    WdkmBenchAppend(Sample->Name, sizeof(Sample->Name), Part1);
    WdkmBenchAppend(Sample->Name, sizeof(Sample->Name), "/");
    WdkmBenchAppend(Sample->Name, sizeof(Sample->Name), Part2);
    if (Part3 != NULL) {
        WdkmBenchAppend(Sample->Name, sizeof(Sample->Name), "/");
        WdkmBenchAppend(Sample->Name, sizeof(Sample->Name), Part3);
    }
    Sample->Threads = Threads;
    Sample->Frequency = WdkmBenchFrequency;
}

/* Whether every thread was pinned since the pin failures were Failures. */
static
ULONG
WdkmBenchPinnedSince(
    _In_ LONG Failures
    )
{
    return WdkmBenchPin && InterlockedCompareExchange(&WdkmBenchPinFailures, 0, 0) == Failures;
}

/* xorshift64: a fixed, seedable sequence for shuffles. */
static
ULONG64
WdkmBenchRandom(
    _Inout_ ULONG64 *State
    )
{
    ULONG64 Value = *State;

    Value ^= Value << 13;
    Value ^= Value >> 7;
    Value ^= Value << 17;
    *State = Value;
    return Value;
}

/* ------------------------------------------------------------------------
 * Calibration.
 */

/* Runs Count operations of a measurement and returns their duration. */
typedef NTSTATUS WDKM_BENCH_MEASURE(_In_ PVOID Context, _In_ ULONG64 Count, _Out_ LONG64 *Ticks);

/* Count scaled so that it would last TargetTicks, within [1, max]. */
static
ULONG64
WdkmBenchScale(
    _In_ ULONG64 Count,
    _In_ LONG64 Ticks,
    _In_ LONG64 TargetTicks
    )
{
    ULONG64 Scaled;

    if (Ticks < 1) {
        Ticks = 1;
    }
    /* No overflow: Count <= 2^32 and TargetTicks is a few seconds' worth. */
    Scaled = Count * (ULONG64)TargetTicks / (ULONG64)Ticks;
    return Scaled < 1 ? 1 : Scaled > WDKM_BENCH_MAX_COUNT ? WDKM_BENCH_MAX_COUNT : Scaled;
}

/*
 * Finds the Count for which one repetition lasts about TargetTicks: grows
 * it eight-fold until a run lasts a tenth of that, scales linearly, then
 * checks (up to three times) that the scaled run lasts between half and
 * twice the target: one short run on a shared machine can mislead.
 */
static
NTSTATUS
WdkmBenchCalibrate(
    _In_ WDKM_BENCH_MEASURE *Measure,
    _In_ PVOID Context,
    _In_ LONG64 TargetTicks,
    _Out_ ULONG64 *Count
    )
{
    ULONG64 Trial = 1;
    LONG64 Ticks;
    NTSTATUS Status;
    ULONG Check;

    *Count = 1;
    for (;;) {
        Status = Measure(Context, Trial, &Ticks);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
        if (Ticks >= TargetTicks / 10 || Trial >= WDKM_BENCH_MAX_COUNT / 8) {
            break;
        }
        Trial *= 8;
    }
    for (Check = 0; Check < 3; Check += 1) {
        Trial = WdkmBenchScale(Trial, Ticks, TargetTicks);
        Status = Measure(Context, Trial, &Ticks);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
        if (Ticks >= TargetTicks / 2 && Ticks <= TargetTicks * 2) {
            break;
        }
    }
    *Count = Trial;
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------
 * Threads: run the same work on one or two system threads for a fixed
 * window of time.
 */

/* One thread's work: Count operations (a chunk). */
typedef NTSTATUS WDKM_BENCH_WORK(_In_ PVOID Context, _In_ ULONG Thread, _In_ ULONG64 Count);

typedef struct _WDKM_BENCH_THREAD_RUN WDKM_BENCH_THREAD_RUN;

typedef struct _WDKM_BENCH_THREAD_SLOT {
    WDKM_BENCH_THREAD_RUN *Run;
    ULONG Index;
    BOOLEAN volatile Skip;                  /* set for a thread that cannot be joined */
    LONG64 Start;
    LONG64 End;
    ULONG64 Operations;
    NTSTATUS Status;
} WDKM_BENCH_THREAD_SLOT;

/* In non-paged pool: the threads wait on Go. */
struct _WDKM_BENCH_THREAD_RUN {
    KEVENT Go;
    WDKM_BENCH_WORK *Work;
    PVOID Context;
    ULONG64 Chunk;
    LONG64 WindowTicks;
    ULONG Threads;
    LONG volatile Arrived;                  /* the spin barrier after Go */
    WDKM_BENCH_THREAD_SLOT Slots[WDKM_BENCH_MAX_THREADS];
    PVOID Objects[WDKM_BENCH_MAX_THREADS];
};

static KSTART_ROUTINE WdkmBenchThreadStart;

static
VOID
WdkmBenchThreadStart(
    _In_ PVOID StartContext
    )
{
    WDKM_BENCH_THREAD_SLOT *Slot = (WDKM_BENCH_THREAD_SLOT *)StartContext;
    WDKM_BENCH_THREAD_RUN *Run = Slot->Run;
    NTSTATUS Status = STATUS_SUCCESS;
    ULONG64 Operations = 0;
    LONG64 Deadline;
    LONG64 Now;

    /* Thread i on processor i: two threads never share one (unless the run
       has one processor), and each keeps its caches from one repetition to
       the next whatever else the machine runs. */
    if (WdkmBenchPin && WdkmBenchPinCurrentThread(Slot->Index) < 0) {
        InterlockedIncrement(&WdkmBenchPinFailures);
    }
    (VOID)KeWaitForSingleObject(&Run->Go, Executive, KernelMode, FALSE, NULL);
    if (!Slot->Skip) {
        /* Threads leave a wait microseconds apart, long enough for one to
           run alone at first: meet here, then start together. */
        InterlockedIncrement(&Run->Arrived);
        while (InterlockedCompareExchange(&Run->Arrived, 0, 0) < (LONG)Run->Threads) {
            YieldProcessor();
        }
        Slot->Start = WdkmBenchNow();
        Deadline = Slot->Start + Run->WindowTicks;
        do {
            Status = Run->Work(Run->Context, Slot->Index, Run->Chunk);
            Operations += Run->Chunk;
            Now = WdkmBenchNow();
        } while (NT_SUCCESS(Status) && Now < Deadline);
        Slot->End = Now;
        Slot->Operations = Operations;
        Slot->Status = Status;
    }
    (VOID)PsTerminateSystemThread(STATUS_SUCCESS);
}

/*
 * Runs Work(Context, i, Chunk) over and over on Threads system threads
 * started together, each until WindowTicks have passed since its start.
 * Every thread runs for the whole window, so two threads overlap from
 * start to end whatever the speed of each. *Operations counts all the
 * threads' operations, *Ticks spans the first start to the last end.
 */
static
NTSTATUS
WdkmBenchRunThreads(
    _In_ ULONG Threads,
    _In_ WDKM_BENCH_WORK *Work,
    _In_ PVOID Context,
    _In_ ULONG64 Chunk,
    _In_ LONG64 WindowTicks,
    _Out_ ULONG64 *Operations,
    _Out_ LONG64 *Ticks
    )
{
    WDKM_BENCH_THREAD_RUN *Run;
    NTSTATUS Status = STATUS_SUCCESS;
    BOOLEAN Orphan = FALSE;
    LONG64 Start = 0;
    LONG64 End = 0;
    HANDLE Handle;
    ULONG Created = 0;
    ULONG Index;

    *Operations = 0;
    *Ticks = 0;
    if (Threads == 0 || Threads > WDKM_BENCH_MAX_THREADS) {
        return STATUS_INVALID_PARAMETER;
    }
    Run = (WDKM_BENCH_THREAD_RUN *)WdkmBenchAllocate(sizeof(*Run));
    if (Run == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    KeInitializeEvent(&Run->Go, NotificationEvent, FALSE);
    Run->Work = Work;
    Run->Context = Context;
    Run->Chunk = Chunk;
    Run->WindowTicks = WindowTicks;
    Run->Threads = Threads;
    for (Index = 0; Index < Threads && NT_SUCCESS(Status); Index += 1) {
        Run->Slots[Index].Run = Run;
        Run->Slots[Index].Index = Index;
        Status = PsCreateSystemThread(&Handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                      WdkmBenchThreadStart, &Run->Slots[Index]);
        if (NT_SUCCESS(Status)) {
            /* Type NULL: our own handle (mingw-w64 declares PsThreadType
               with one indirection more than the WDK). */
            Status = ObReferenceObjectByHandle(Handle, THREAD_ALL_ACCESS, NULL, KernelMode,
                                               &Run->Objects[Index], NULL);
            ZwClose(Handle);
            if (NT_SUCCESS(Status)) {
                Created += 1;
            } else {
                /* It cannot be joined: it will do nothing, and keeps Run. */
                Run->Slots[Index].Skip = TRUE;
                Orphan = TRUE;
            }
        }
    }
    /* Also on failure: the threads created so far must finish. */
    if (!NT_SUCCESS(Status)) {
        for (Index = 0; Index < Created; Index += 1) {
            Run->Slots[Index].Skip = TRUE;
        }
    }
    (VOID)KeSetEvent(&Run->Go, 0, FALSE);
    for (Index = 0; Index < Created; Index += 1) {
        (VOID)KeWaitForSingleObject(Run->Objects[Index], Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(Run->Objects[Index]);
        if (NT_SUCCESS(Status) && !NT_SUCCESS(Run->Slots[Index].Status)) {
            Status = Run->Slots[Index].Status;
        }
        if (Index == 0 || Run->Slots[Index].Start < Start) {
            Start = Run->Slots[Index].Start;
        }
        if (Index == 0 || Run->Slots[Index].End > End) {
            End = Run->Slots[Index].End;
        }
        *Operations += Run->Slots[Index].Operations;
    }
    if (NT_SUCCESS(Status)) {
        *Ticks = End - Start;
    } else {
        *Operations = 0;
    }
    if (!Orphan) {
        WdkmBenchFree(Run);
    }
    return Status;
}

/* ------------------------------------------------------------------------
 * Lock kinds: create both sides, time pairs on one or two threads.
 */

NTSTATUS
WdkmBenchLocksCreate(
    _In_ const WDKM_BENCH_KIND *Kind,
    _Out_ PWDKM_BENCH_LOCKS Locks
    )
{
    NTSTATUS Status;

    RtlZeroMemory(Locks, sizeof(*Locks));
    Locks->Raw = (PWDKM_BENCH_RAW)WdkmBenchAllocate(sizeof(WDKM_BENCH_RAW));
    if (Locks->Raw == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Locks->Raw->Floor.DataSize = sizeof(WDKM_BENCH_VALUE);
    Locks->Raw->Floor.Signature = WDKM_BENCH_FLOOR_SIGNATURE;
    Status = Kind->Create(Locks);
    if (Status == STATUS_SUCCESS) {
        /* One pair, to learn where the library keeps the value. */
        Status = Kind->LibraryPairs(Locks, 0, 1, &Locks->LibraryValue);
        if (Status != STATUS_SUCCESS) {
            Kind->Destroy(Locks);
        }
    }
    if (Status != STATUS_SUCCESS) {
        WdkmBenchFree(Locks->Raw);
        Locks->Raw = NULL;
        return NT_SUCCESS(Status) ? STATUS_UNSUCCESSFUL : Status;
    }
    return STATUS_SUCCESS;
}

VOID
WdkmBenchLocksDestroy(
    _In_ const WDKM_BENCH_KIND *Kind,
    _Inout_ PWDKM_BENCH_LOCKS Locks
    )
{
    if (Locks->Raw != NULL) {
        Kind->Destroy(Locks);
        WdkmBenchFree(Locks->Raw);
        Locks->Raw = NULL;
    }
}

/* The sides of a pairs measurement. */
#define WDKM_BENCH_SIDE_LIBRARY 0
#define WDKM_BENCH_SIDE_RAW     1
#define WDKM_BENCH_SIDE_FLOOR   2
#define WDKM_BENCH_SIDES        3

typedef struct _WDKM_BENCH_PAIRS {
    const WDKM_BENCH_KIND *Kind;
    WDKM_BENCH_LOCKS Locks;
    ULONG Side;                             /* which side the next measure runs */
} WDKM_BENCH_PAIRS;

static
NTSTATUS
WdkmBenchPairsWork(
    _In_ PVOID Context,
    _In_ ULONG Thread,
    _In_ ULONG64 Count
    )
{
    WDKM_BENCH_PAIRS *Pairs = (WDKM_BENCH_PAIRS *)Context;
    WDKM_BENCH_VALUE *Seen;

    switch (Pairs->Side) {
    case WDKM_BENCH_SIDE_LIBRARY:
        return Pairs->Kind->LibraryPairs(&Pairs->Locks, Thread, Count, &Seen);
    case WDKM_BENCH_SIDE_FLOOR:
        return Pairs->Kind->FloorPairs(&Pairs->Locks, Thread, Count);
    default:
        Pairs->Kind->RawPairs(&Pairs->Locks, Thread, Count);
        return STATUS_SUCCESS;
    }
}

/* The protected value of the side being measured (no thread running). */
static
const WDKM_BENCH_VALUE *
WdkmBenchPairsValue(
    _In_ const WDKM_BENCH_PAIRS *Pairs
    )
{
    return Pairs->Side == WDKM_BENCH_SIDE_LIBRARY ? Pairs->Locks.LibraryValue
                                                  : &Pairs->Locks.Raw->Value;
}

/* Uncontended: Count pairs on the calling thread (WDKM_BENCH_MEASURE). */
static
NTSTATUS
WdkmBenchPairsMeasure(
    _In_ PVOID Context,
    _In_ ULONG64 Count,
    _Out_ LONG64 *Ticks
    )
{
    LONG64 Start = WdkmBenchNow();
    NTSTATUS Status = WdkmBenchPairsWork(Context, 0, Count);

    *Ticks = WdkmBenchNow() - Start;
    return Status;
}

/*
 * Contended: two threads on the lock for the window. The protected counter
 * must then have grown by exactly the pairs counted, or the lock did not
 * exclude. *Handoffs: how often the lock passed between the threads.
 */
static
NTSTATUS
WdkmBenchPairsContend(
    _Inout_ WDKM_BENCH_PAIRS *Pairs,
    _In_ LONG64 WindowTicks,
    _Out_ ULONG64 *Operations,
    _Out_ LONG64 *Ticks,
    _Out_ ULONG64 *Handoffs
    )
{
    WDKM_BENCH_VALUE Before = *WdkmBenchPairsValue(Pairs);
    NTSTATUS Status;

    Status = WdkmBenchRunThreads(2, WdkmBenchPairsWork, Pairs, WDKM_BENCH_PAIRS_CHUNK,
                                 WindowTicks, Operations, Ticks);
    *Handoffs = WdkmBenchPairsValue(Pairs)->Handoffs - Before.Handoffs;
    if (NT_SUCCESS(Status) && WdkmBenchPairsValue(Pairs)->Count - Before.Count != *Operations) {
        Status = WDKM_BENCH_STATUS_LOST_UPDATES;
    }
    return Status;
}

/* Emits a sample, or stops the run when the receiver has no room. */
static
NTSTATUS
WdkmBenchEmitSample(
    _In_ WDKM_BENCH_EMIT *Emit,
    _In_opt_ PVOID EmitContext,
    _In_ const WDKM_BENCH_SAMPLE *Sample
    )
{
    return Emit(EmitContext, Sample) ? STATUS_SUCCESS : STATUS_BUFFER_OVERFLOW;
}

/* The window of one repetition, in ticks. */
static
LONG64
WdkmBenchWindow(
    _In_ const WDKM_BENCH_CONFIG *Config
    )
{
    return (LONG64)Config->RepetitionMicroseconds * WdkmBenchFrequency / 1000000;
}

/*
 * Library versus raw pairs of one kind, uncontended (Group "wrapper", on
 * the calling thread, Count calibrated) or contended (Group "contended",
 * two threads for a window): samples Group/<kind>/library,
 * Group/<kind>/raw and Group/<kind>/floor (the raw pairs with the
 * library's checks inline, WDKM_BENCH_KIND.FloorPairs).
 */
static
NTSTATUS
WdkmBenchPairsGroup(
    _In_ const WDKM_BENCH_CONFIG *Config,
    _In_ const WDKM_BENCH_KIND *Kind,
    _In_ BOOLEAN Contended,
    _In_ WDKM_BENCH_EMIT *Emit,
    _In_opt_ PVOID EmitContext
    )
{
    PCSTR Group = Contended ? "contended" : "wrapper";
    ULONG Threads = Contended ? 2 : 1;
    ULONG Sides = WDKM_BENCH_SIDES;
    WDKM_BENCH_SAMPLE *Samples;             /* indexed by WDKM_BENCH_SIDE_* */
    WDKM_BENCH_PAIRS Pairs;
    ULONG64 Count[WDKM_BENCH_SIDES] = { 0, 0, 0 };
    ULONG64 Ignored;
    ULONG64 IgnoredHandoffs;
    LONG64 Warm;
    LONG PinFailures;
    NTSTATUS Status;
    ULONG Repetition;
    ULONG Turn;
    ULONG Side;

    Samples = (WDKM_BENCH_SAMPLE *)WdkmBenchAllocate(WDKM_BENCH_SIDES * sizeof(WDKM_BENCH_SAMPLE));
    if (Samples == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    WdkmBenchSampleStart(&Samples[WDKM_BENCH_SIDE_LIBRARY], Group, Kind->Name, "library", Threads);
    WdkmBenchSampleStart(&Samples[WDKM_BENCH_SIDE_RAW], Group, Kind->Name, "raw", Threads);
    WdkmBenchSampleStart(&Samples[WDKM_BENCH_SIDE_FLOOR], Group, Kind->Name, "floor", Threads);
    PinFailures = InterlockedCompareExchange(&WdkmBenchPinFailures, 0, 0);
    Pairs.Kind = Kind;
    Pairs.Side = WDKM_BENCH_SIDE_LIBRARY;
    Status = WdkmBenchLocksCreate(Kind, &Pairs.Locks);
    if (NT_SUCCESS(Status)) {
        if (Contended) {
            /* Warm-up, a quarter window on each side. */
            for (Side = 0; Side < Sides && NT_SUCCESS(Status); Side += 1) {
                Pairs.Side = Side;
                Status = WdkmBenchPairsContend(&Pairs, WdkmBenchWindow(Config) / 4, &Ignored,
                                               &Warm, &IgnoredHandoffs);
            }
        } else {
            /* Each side its own count: a raw FAST_MUTEX pair can be a
               thousand times faster than a checked one under Wine. */
            for (Side = 0; Side < Sides && NT_SUCCESS(Status); Side += 1) {
                Pairs.Side = Side;
                Status = WdkmBenchCalibrate(WdkmBenchPairsMeasure, &Pairs,
                                            WdkmBenchWindow(Config), &Count[Side]);
            }
        }
        for (Repetition = 0; NT_SUCCESS(Status) && Repetition < Config->Repetitions;
             Repetition += 1) {
            for (Turn = 0; NT_SUCCESS(Status) && Turn < Sides; Turn += 1) {
                /* Each side takes each place in the order in turn. */
                Side = (Turn + Repetition) % Sides;
                Pairs.Side = Side;
                if (Contended) {
                    Status = WdkmBenchPairsContend(&Pairs, WdkmBenchWindow(Config),
                                                   &Samples[Side].Operations[Repetition],
                                                   &Samples[Side].Ticks[Repetition],
                                                   &Samples[Side].Handoffs[Repetition]);
                } else {
                    Samples[Side].Operations[Repetition] = Count[Side];
                    Status = WdkmBenchPairsMeasure(&Pairs, Count[Side],
                                                   &Samples[Side].Ticks[Repetition]);
                }
            }
        }
        WdkmBenchLocksDestroy(Kind, &Pairs.Locks);
    }
    for (Side = 0; Side < Sides; Side += 1) {
        Samples[Side].Status = Status;
        Samples[Side].Repetitions = NT_SUCCESS(Status) ? Config->Repetitions : 0;
        Samples[Side].Pinned = Contended ? WdkmBenchPinnedSince(PinFailures) : 0;
    }
    /* A kind this kernel lacks is a result; only the receiver failing is not. */
    Status = STATUS_SUCCESS;
    for (Side = 0; Side < Sides && NT_SUCCESS(Status); Side += 1) {
        Status = WdkmBenchEmitSample(Emit, EmitContext, &Samples[Side]);
    }
    WdkmBenchFree(Samples);
    return Status;
}

/* ------------------------------------------------------------------------
 * The registry.
 */

/* The chase stream's array: a line per name, its first word the next line. */
#define WDKM_BENCH_LINE_WORDS 8

struct _WDKM_BENCH_REGISTRY {
    ULONG Names;
    ULONG HotNames;
    PCHAR Uniform[WDKM_BENCH_MAX_THREADS];  /* Names slots each, shuffled */
    PCHAR Hot[WDKM_BENCH_MAX_THREADS];      /* HotNames slots each */
    ULONG64 *Chase;                         /* Names lines: one random cycle */
    PWDKM_BENCH_PEERS Peers;                /* the same names, a driver author's way */
    /* Each thread's place in its streams, kept from one chunk of lookups to
       the next, and the control loop's result: a cache line per thread. */
    struct {
        ULONG Next;
        ULONG64 Sink;
        ULONG64 ChaseAt;
        ULONG64 Padding[5];
    } Threads[WDKM_BENCH_MAX_THREADS];
};

/* "lock.0000042": short, as driver lock names are. */
static
VOID
WdkmBenchRegistryName(
    _Out_writes_bytes_(WDKM_BENCH_NAME_SLOT) PCHAR Slot,
    _In_ ULONG Index
    )
{
    CHAR Number[12];

    Slot[0] = '\0';
    WdkmBenchAppend(Slot, WDKM_BENCH_NAME_SLOT, "lock.");
    WdkmBenchFormatNumber(Number, sizeof(Number), Index, 7);
    WdkmBenchAppend(Slot, WDKM_BENCH_NAME_SLOT, Number);
}

/* Fisher-Yates over name slots. */
static
VOID
WdkmBenchShuffle(
    _Inout_ PCHAR Slots,
    _In_ ULONG Count,
    _In_ ULONG64 Seed
    )
{
    CHAR Swap[WDKM_BENCH_NAME_SLOT];
    ULONG Index;
    ULONG Other;

    for (Index = Count; Index > 1; Index -= 1) {
        Other = (ULONG)(WdkmBenchRandom(&Seed) % Index);
        RtlCopyMemory(Swap, Slots + (SIZE_T)(Index - 1) * WDKM_BENCH_NAME_SLOT, sizeof(Swap));
        RtlCopyMemory(Slots + (SIZE_T)(Index - 1) * WDKM_BENCH_NAME_SLOT,
                      Slots + (SIZE_T)Other * WDKM_BENCH_NAME_SLOT, sizeof(Swap));
        RtlCopyMemory(Slots + (SIZE_T)Other * WDKM_BENCH_NAME_SLOT, Swap, sizeof(Swap));
    }
}

/*
 * Links the Count lines of Lines into one cycle in random order (Sattolo's
 * shuffle of the identity), so that following it visits every line and the
 * hardware cannot guess the next one.
 */
static
VOID
WdkmBenchChaseCycle(
    _Inout_ ULONG64 *Lines,
    _In_ ULONG Count,
    _In_ ULONG64 Seed
    )
{
    ULONG64 Swap;
    ULONG Index;
    ULONG Other;

    for (Index = 0; Index < Count; Index += 1) {
        Lines[(SIZE_T)Index * WDKM_BENCH_LINE_WORDS] = Index;
    }
    for (Index = Count - 1; Index > 0; Index -= 1) {
        Other = (ULONG)(WdkmBenchRandom(&Seed) % Index);
        Swap = Lines[(SIZE_T)Index * WDKM_BENCH_LINE_WORDS];
        Lines[(SIZE_T)Index * WDKM_BENCH_LINE_WORDS] = Lines[(SIZE_T)Other * WDKM_BENCH_LINE_WORDS];
        Lines[(SIZE_T)Other * WDKM_BENCH_LINE_WORDS] = Swap;
    }
}

/* Frees the lookup streams and the structure (not the library's registry). */
static
VOID
WdkmBenchRegistryFree(
    _In_ PWDKM_BENCH_REGISTRY Registry
    )
{
    ULONG Thread;

    for (Thread = 0; Thread < WDKM_BENCH_MAX_THREADS; Thread += 1) {
        WdkmBenchFree(Registry->Uniform[Thread]);
        WdkmBenchFree(Registry->Hot[Thread]);
    }
    WdkmBenchFree(Registry->Chase);
    if (Registry->Peers != NULL) {
        WdkmBenchPeersDestroy(Registry->Peers);
    }
    WdkmBenchFree(Registry);
}

VOID
WdkmBenchRegistryDestroy(
    _In_ PWDKM_BENCH_REGISTRY Registry
    )
{
    WDKM_GRT_REPORT *Report;

    /* Nothing is referenced any more: a destroy without timeout frees all.
       (The report is large for a kernel stack.) */
    Report = (WDKM_GRT_REPORT *)WdkmBenchAllocate(sizeof(*Report));
    if (Report != NULL) {
        (VOID)WdkmGrtDestroy(NULL, Report);
        WdkmBenchFree(Report);
    }
    WdkmBenchRegistryFree(Registry);
}

NTSTATUS
WdkmBenchRegistryCreate(
    _In_ ULONG Names,
    _Outptr_ PWDKM_BENCH_REGISTRY *Registry
    )
{
    PWDKM_BENCH_REGISTRY Result;
    SIZE_T StreamBytes = (SIZE_T)Names * WDKM_BENCH_NAME_SLOT;
    NTSTATUS Status;
    ULONG Thread;
    ULONG Index;

    *Registry = NULL;
    if (Names == 0 || Names > 9999999) {
        return STATUS_INVALID_PARAMETER;
    }
    Result = (PWDKM_BENCH_REGISTRY)WdkmBenchAllocate(sizeof(*Result));
    if (Result == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Result->Names = Names;
    Result->HotNames = Names < WDKM_BENCH_HOT_NAMES ? Names : WDKM_BENCH_HOT_NAMES;
    for (Thread = 0; Thread < WDKM_BENCH_MAX_THREADS; Thread += 1) {
        Result->Uniform[Thread] = (PCHAR)WdkmBenchAllocate(StreamBytes);
        Result->Hot[Thread] = (PCHAR)WdkmBenchAllocate(
            (SIZE_T)Result->HotNames * WDKM_BENCH_NAME_SLOT);
        if (Result->Uniform[Thread] == NULL || Result->Hot[Thread] == NULL) {
            WdkmBenchRegistryFree(Result);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
    }
    Result->Chase = (ULONG64 *)WdkmBenchAllocate((SIZE_T)Names * WDKM_BENCH_LINE_WORDS *
                                                 sizeof(ULONG64));
    if (Result->Chase == NULL) {
        WdkmBenchRegistryFree(Result);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    WdkmBenchChaseCycle(Result->Chase, Names, 0x2545F4914F6CDD1DULL);
    for (Thread = 0; Thread < WDKM_BENCH_MAX_THREADS; Thread += 1) {
        Result->Threads[Thread].ChaseAt = (ULONG64)Thread * Names / WDKM_BENCH_MAX_THREADS;
    }

    Status = WdkmGrtInitialize();
    if (!NT_SUCCESS(Status)) {
        WdkmBenchRegistryFree(Result);
        return Status;
    }
    for (Index = 0; Index < Names && NT_SUCCESS(Status); Index += 1) {
        PCHAR Slot = Result->Uniform[0] + (SIZE_T)Index * WDKM_BENCH_NAME_SLOT;

        WdkmBenchRegistryName(Slot, Index);
        Status = WDKM_GRT_REGISTER(Slot, WdkmLockKindFastMutex, &WdkmBenchZeroValue);
    }
    if (!NT_SUCCESS(Status)) {
        WdkmBenchRegistryDestroy(Result);
        return Status;
    }
    /* The hot names: spread over the whole table, the same for every thread. */
    for (Thread = 0; Thread < WDKM_BENCH_MAX_THREADS; Thread += 1) {
        for (Index = 0; Index < Result->HotNames; Index += 1) {
            WdkmBenchRegistryName(Result->Hot[Thread] + (SIZE_T)Index * WDKM_BENCH_NAME_SLOT,
                                  (ULONG)((ULONG64)Index * Names / Result->HotNames));
        }
    }
    /* The peers hold the same names (still in ascending order here). */
    Status = WdkmBenchPeersCreate(Result->Uniform[0], Names, &Result->Peers);
    if (!NT_SUCCESS(Status)) {
        WdkmBenchRegistryDestroy(Result);
        return Status;
    }
    /* Every name, in an order of its own for each thread. */
    for (Thread = 1; Thread < WDKM_BENCH_MAX_THREADS; Thread += 1) {
        RtlCopyMemory(Result->Uniform[Thread], Result->Uniform[0], StreamBytes);
    }
    for (Thread = 0; Thread < WDKM_BENCH_MAX_THREADS; Thread += 1) {
        WdkmBenchShuffle(Result->Uniform[Thread], Names, 0x9E3779B97F4A7C15ULL * (Thread + 1));
    }
    *Registry = Result;
    return STATUS_SUCCESS;
}

NTSTATUS
WdkmBenchRegistryLookups(
    _In_ PWDKM_BENCH_REGISTRY Registry,
    _In_ ULONG Stream,
    _In_ ULONG Thread,
    _In_ ULONG64 Count
    )
{
    PCHAR Names = Stream == WDKM_BENCH_STREAM_HOT ? Registry->Hot[Thread]
                                                   : Registry->Uniform[Thread];
    ULONG Length = Stream == WDKM_BENCH_STREAM_HOT ? Registry->HotNames : Registry->Names;
    ULONG Next;
    ULONG64 Index;
    ULONG64 State;
    PVOID Lock;
    NTSTATUS Status;

    if (Thread >= WDKM_BENCH_MAX_THREADS || Stream >= WDKM_BENCH_STREAMS) {
        return STATUS_INVALID_PARAMETER;
    }
    if (Stream == WDKM_BENCH_STREAM_CONTROL) {
        /* About as long as a lookup, touching nothing shared. */
        State = 0x2545F4914F6CDD1DULL + Thread;
        for (Index = 0; Index < Count * 16; Index += 1) {
            (VOID)WdkmBenchRandom(&State);
        }
        Registry->Threads[Thread].Sink = State;
        return STATUS_SUCCESS;
    }
    if (Stream == WDKM_BENCH_STREAM_CHASE) {
        /* Each read's address is the previous read's value: one miss at a time. */
        State = Registry->Threads[Thread].ChaseAt;
        for (Index = 0; Index < Count; Index += 1) {
            State = Registry->Chase[(SIZE_T)State * WDKM_BENCH_LINE_WORDS];
        }
        Registry->Threads[Thread].ChaseAt = State;
        return STATUS_SUCCESS;
    }
    if (Stream == WDKM_BENCH_STREAM_PEER_HASH || Stream == WDKM_BENCH_STREAM_PEER_SORTED) {
        /* The uniform names, looked up in a peer instead of the registry. */
        return WdkmBenchPeerLookups(Registry->Peers,
                                    Stream == WDKM_BENCH_STREAM_PEER_HASH
                                        ? WDKM_BENCH_PEER_HASH_SPINLOCK
                                        : WDKM_BENCH_PEER_SORTED_ERESOURCE,
                                    Names, Length, &Registry->Threads[Thread].Next, Count);
    }
    Next = Registry->Threads[Thread].Next % Length;
    for (Index = 0; Index < Count; Index += 1) {
        Status = WdkmGrtReference(Names + (SIZE_T)Next * WDKM_BENCH_NAME_SLOT,
                                  WdkmLockKindFastMutex, sizeof(WDKM_BENCH_VALUE), &Lock);
        if (Status != STATUS_SUCCESS) {
            return NT_SUCCESS(Status) ? STATUS_UNSUCCESSFUL : Status;
        }
        (VOID)WdkmGrtDereference(Lock);
        Next += 1;
        if (Next == Length) {
            Next = 0;
        }
    }
    Registry->Threads[Thread].Next = Next;
    return STATUS_SUCCESS;
}

typedef struct _WDKM_BENCH_LOOKUPS {
    PWDKM_BENCH_REGISTRY Registry;
    ULONG Stream;
} WDKM_BENCH_LOOKUPS;

static
NTSTATUS
WdkmBenchLookupsWork(
    _In_ PVOID Context,
    _In_ ULONG Thread,
    _In_ ULONG64 Count
    )
{
    WDKM_BENCH_LOOKUPS *Lookups = (WDKM_BENCH_LOOKUPS *)Context;

    return WdkmBenchRegistryLookups(Lookups->Registry, Lookups->Stream, Thread, Count);
}

/*
 * One registry size: for each stream, one and two threads alternating,
 * each for the window, on system threads both.
 */
static
NTSTATUS
WdkmBenchRegistryGroup(
    _In_ const WDKM_BENCH_CONFIG *Config,
    _In_ ULONG Names,
    _In_ WDKM_BENCH_EMIT *Emit,
    _In_opt_ PVOID EmitContext
    )
{
    static const PCSTR StreamNames[WDKM_BENCH_STREAMS] = {
        "uniform", "hot", "control", "chase", "peer_hash_spinlock", "peer_sorted_eresource"
    };
    WDKM_BENCH_SAMPLE *Samples;             /* [0] one thread, [1] two */
    PWDKM_BENCH_REGISTRY Registry = NULL;
    WDKM_BENCH_LOOKUPS Lookups;
    CHAR Size[12];
    ULONG64 Ignored;
    LONG64 Warm;
    LONG PinFailures;
    NTSTATUS Status;
    NTSTATUS RunStatus;
    ULONG Stream;
    ULONG Repetition;
    ULONG Turn;
    ULONG Side;

    Samples = (WDKM_BENCH_SAMPLE *)WdkmBenchAllocate(2 * sizeof(WDKM_BENCH_SAMPLE));
    if (Samples == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    WdkmBenchFormatNumber(Size, sizeof(Size), Names, 1);
    RunStatus = WdkmBenchRegistryCreate(Names, &Registry);
    Status = STATUS_SUCCESS;
    for (Stream = 0; Stream < WDKM_BENCH_STREAMS && NT_SUCCESS(Status); Stream += 1) {
        for (Side = 0; Side < 2; Side += 1) {
            WdkmBenchSampleStart(&Samples[Side], "registry", StreamNames[Stream], Size, Side + 1);
            WdkmBenchAppend(Samples[Side].Name, sizeof(Samples[Side].Name),
                            Side == 0 ? "/1" : "/2");
        }
        PinFailures = InterlockedCompareExchange(&WdkmBenchPinFailures, 0, 0);
        Lookups.Registry = Registry;
        Lookups.Stream = Stream;
        if (NT_SUCCESS(RunStatus)) {
            RunStatus = WdkmBenchRunThreads(1, WdkmBenchLookupsWork, &Lookups,
                                            WDKM_BENCH_LOOKUPS_CHUNK,
                                            WdkmBenchWindow(Config) / 4, &Ignored, &Warm);
        }
        for (Repetition = 0; NT_SUCCESS(RunStatus) && Repetition < Config->Repetitions;
             Repetition += 1) {
            for (Turn = 0; NT_SUCCESS(RunStatus) && Turn < 2; Turn += 1) {
                Side = Turn ^ (Repetition & 1);
                RunStatus = WdkmBenchRunThreads(Side + 1, WdkmBenchLookupsWork, &Lookups,
                                                WDKM_BENCH_LOOKUPS_CHUNK, WdkmBenchWindow(Config),
                                                &Samples[Side].Operations[Repetition],
                                                &Samples[Side].Ticks[Repetition]);
            }
        }
        for (Side = 0; Side < 2 && NT_SUCCESS(Status); Side += 1) {
            Samples[Side].Status = RunStatus;
            Samples[Side].Repetitions = NT_SUCCESS(RunStatus) ? Config->Repetitions : 0;
            Samples[Side].Pinned = WdkmBenchPinnedSince(PinFailures);
            Status = WdkmBenchEmitSample(Emit, EmitContext, &Samples[Side]);
        }
        /* The next stream runs even if this one failed (its own status). */
        if (Registry != NULL) {
            RunStatus = STATUS_SUCCESS;
        }
    }
    if (Registry != NULL) {
        WdkmBenchRegistryDestroy(Registry);
    }
    WdkmBenchFree(Samples);
    return Status;
}

/* ------------------------------------------------------------------------
 * The run.
 */

NTSTATUS
WdkmBenchRun(
    _In_ const WDKM_BENCH_CONFIG *Config,
    _In_ WDKM_BENCH_EMIT *Emit,
    _In_opt_ PVOID EmitContext
    )
{
    LARGE_INTEGER Frequency;
    NTSTATUS Status = STATUS_SUCCESS;
    ULONG Index;

    if (Config->Repetitions == 0 || Config->Repetitions > WDKM_BENCH_MAX_REPETITIONS ||
        Config->RepetitionMicroseconds == 0 || Config->RegistrySizeCount > WDKM_BENCH_MAX_SIZES) {
        return STATUS_INVALID_PARAMETER;
    }
    (VOID)KeQueryPerformanceCounter(&Frequency);
    WdkmBenchFrequency = Frequency.QuadPart;
    WdkmBenchPin = (BOOLEAN)((Config->Flags & WDKM_BENCH_FLAG_PIN) != 0);

    if ((Config->Groups & WDKM_BENCH_GROUP_WRAPPER) != 0) {
        for (Index = 0; Index < WdkmBenchKindCount && NT_SUCCESS(Status); Index += 1) {
            Status = WdkmBenchPairsGroup(Config, &WdkmBenchKinds[Index], FALSE, Emit,
                                         EmitContext);
        }
    }
    if ((Config->Groups & WDKM_BENCH_GROUP_CONTENDED) != 0) {
        for (Index = 0; Index < WdkmBenchKindCount && NT_SUCCESS(Status); Index += 1) {
            Status = WdkmBenchPairsGroup(Config, &WdkmBenchKinds[Index], TRUE, Emit,
                                         EmitContext);
        }
    }
    if ((Config->Groups & WDKM_BENCH_GROUP_REGISTRY) != 0) {
        for (Index = 0; Index < Config->RegistrySizeCount && NT_SUCCESS(Status); Index += 1) {
            Status = WdkmBenchRegistryGroup(Config, Config->RegistrySizes[Index], Emit,
                                            EmitContext);
        }
    }
    return Status;
}
