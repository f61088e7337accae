/*
 * delay.c - synchronization delay fuzzing, as Driver Verifier's: the
 * emulated lock routines call WdkmHostpDelayPoint() at every acquire and
 * release, which (when enabled) makes the calling thread yield or sleep a
 * few microseconds at random, to shake out interleavings a plain run
 * rarely takes.
 *
 * Reproducible: each thread has its own xorshift generator, seeded from
 * the fuzzing seed and the order in which threads first reach a delay
 * point, so a seed replays each thread's sequence of delays (the
 * interleaving itself still depends on the host scheduler).
 *
 * Off by default. WdkmHostSetDelayFuzzing(Seed, Percent) or the
 * environment variable WDKM_DELAY_FUZZ=seed[:percent] turn it on.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "hostp.h"

#define HOSTP_DELAY_DEFAULT_PERCENT 10
#define HOSTP_DELAY_MAX_SLEEP_NS    20000   /* 20 us */

static ULONG HostpDelaySeed;
static ULONG HostpDelayPercent;         /* 0: off */
static ULONG HostpDelayGeneration;      /* bumped by each Set: reseeds threads */
static ULONG HostpDelayThreadOrder;     /* threads seeded so far */
static ULONG64 HostpDelayCount;
static pthread_once_t HostpDelayEnvOnce = PTHREAD_ONCE_INIT;
static BOOLEAN HostpDelaySetByCall;

/* See hostp.h: 1 until the environment was read, then Percent != 0. */
ULONG WdkmHostpDelayArmed = 1;

static _Thread_local ULONG64 HostpDelayState;
static _Thread_local ULONG HostpDelayThreadGeneration;

static VOID HostpDelayReadEnvironment(VOID)
{
    const char *Value = getenv("WDKM_DELAY_FUZZ");
    char *End;
    unsigned long Seed;
    unsigned long Percent = HOSTP_DELAY_DEFAULT_PERCENT;

    if (Value == NULL || *Value == '\0' || __atomic_load_n(&HostpDelaySetByCall, __ATOMIC_ACQUIRE)) {
        return;
    }
    Seed = strtoul(Value, &End, 0);
    if (*End == ':') {
        Percent = strtoul(End + 1, NULL, 0);
    }
    __atomic_store_n(&HostpDelaySeed, (ULONG)Seed, __ATOMIC_RELAXED);
    __atomic_add_fetch(&HostpDelayGeneration, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&HostpDelayPercent, (ULONG)(Percent > 100 ? 100 : Percent),
                     __ATOMIC_SEQ_CST);
}

/* Arms the inline check of hostp.h while fuzzing is on. Checked again
   after the store: a Set on another thread may have changed the percentage
   meanwhile, and the last store must agree with the last percentage. */
static VOID HostpDelayRearm(VOID)
{
    ULONG Percent = __atomic_load_n(&HostpDelayPercent, __ATOMIC_SEQ_CST);
    ULONG Again;

    for (;;) {
        __atomic_store_n(&WdkmHostpDelayArmed, Percent != 0 ? 1U : 0U, __ATOMIC_SEQ_CST);
        Again = __atomic_load_n(&HostpDelayPercent, __ATOMIC_SEQ_CST);
        if ((Again != 0) == (Percent != 0)) {
            return;
        }
        Percent = Again;
    }
}

VOID WdkmHostSetDelayFuzzing(ULONG Seed, ULONG PercentChance)
{
    __atomic_store_n(&HostpDelaySetByCall, TRUE, __ATOMIC_RELEASE);
    pthread_once(&HostpDelayEnvOnce, HostpDelayReadEnvironment);
    __atomic_store_n(&HostpDelaySeed, Seed, __ATOMIC_RELAXED);
    __atomic_store_n(&HostpDelayThreadOrder, 0, __ATOMIC_RELAXED);
    __atomic_add_fetch(&HostpDelayGeneration, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&HostpDelayPercent, PercentChance > 100 ? 100 : PercentChance,
                     __ATOMIC_SEQ_CST);
    HostpDelayRearm();
}

ULONG64 WdkmHostDelayFuzzingCount(VOID)
{
    return __atomic_load_n(&HostpDelayCount, __ATOMIC_RELAXED);
}

static ULONG64 HostpDelayNext(VOID)
{
    ULONG64 X = HostpDelayState;

    X ^= X << 13;
    X ^= X >> 7;
    X ^= X << 17;
    HostpDelayState = X;
    return X;
}

VOID WdkmHostpDelayPointArmed(VOID)
{
    ULONG Percent;
    ULONG Generation;
    ULONG64 Draw;

    pthread_once(&HostpDelayEnvOnce, HostpDelayReadEnvironment);
    Percent = __atomic_load_n(&HostpDelayPercent, __ATOMIC_ACQUIRE);
    if (Percent == 0) {
        HostpDelayRearm();
        return;
    }
    Generation = __atomic_load_n(&HostpDelayGeneration, __ATOMIC_RELAXED);
    if (HostpDelayThreadGeneration != Generation) {
        ULONG Order = __atomic_fetch_add(&HostpDelayThreadOrder, 1, __ATOMIC_RELAXED);

        /* splitmix64 of (seed, order): never zero for xorshift */
        ULONG64 Z = ((ULONG64)__atomic_load_n(&HostpDelaySeed, __ATOMIC_RELAXED) << 32) + Order +
                    0x9E3779B97F4A7C15ULL;
        Z = (Z ^ (Z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        Z = (Z ^ (Z >> 27)) * 0x94D049BB133111EBULL;
        Z ^= Z >> 31;
        HostpDelayState = Z != 0 ? Z : 1;
        HostpDelayThreadGeneration = Generation;
    }
    Draw = HostpDelayNext();
    if ((ULONG)(Draw % 100) >= Percent) {
        return;
    }
    __atomic_add_fetch(&HostpDelayCount, 1, __ATOMIC_RELAXED);
    if (((Draw >> 8) & 3) != 0) {
        sched_yield();                          /* three in four: a yield */
    } else {
        struct timespec Sleep;

        Sleep.tv_sec = 0;
        Sleep.tv_nsec = (long)(1000 + (Draw >> 16) % HOSTP_DELAY_MAX_SLEEP_NS);
        nanosleep(&Sleep, NULL);                /* else a short sleep */
    }
}
