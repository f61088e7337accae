/*
 * test_grt_ids.c - registry entries whose counter chunk got no cache id
 * (all taken) count their references on the shard counters alone, next to
 * entries that do use the reference caches. Built against a copy of the
 * library with 128 chunk ids (WDKMP_GRT_CHUNK_IDS), since the real 32,768
 * take half a million names.
 */
#include "wdkm_test.h"

#include <stdio.h>

int WdkmTestMain(int argc, char **argv, const WDKM_TEST_SUITE *Suites, ULONG SuiteCount);

typedef struct _COUNTER {
    LONG Value;
    LONG Spare;
} COUNTER;

static const COUNTER Zero = { 0, 0 };

/* 130 chunks of 16 entries: the last two have no id. */
#define ID_NAMES (130 * 16)
#define ID_REFS  3

static PVOID Locks[ID_NAMES][ID_REFS];

static VOID
NameOf(char *Name, size_t Size, ULONG Index)
{
    snprintf(Name, Size, "id-%lu", (unsigned long)Index);
}

/*
 * Every name referenced three times, on processors 0, 1 and 2, the names
 * without ids first (the last registered: so that they, not the others,
 * find the cache words free, and an entry without an id that used one
 * would be counted with another), unregistered with its references out,
 * then dropped on processors 3, 0 and 1: each entry is freed by its last
 * dereference, not before. Twice: the ids the first round gave back serve
 * the second.
 */
static VOID
ChunksWithoutIdsCountOnShards(VOID)
{
    WDKM_GRT_REPORT Report;
    LARGE_INTEGER Timeout;
    char Name[32];
    LONG Blocks;
    LONG Now;
    ULONG Round;
    ULONG Index;
    ULONG Ref;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(10);
    for (Round = 0; Round < 2; Round += 1) {
        CHECK_STATUS(WdkmGrtInitialize(), STATUS_SUCCESS);
        for (Index = 0; Index < ID_NAMES; Index += 1) {
            NameOf(Name, sizeof(Name), Index);
            CHECK_STATUS(WDKM_GRT_REGISTER_FAST_MUTEX(Name, &Zero), STATUS_SUCCESS);
        }
        for (Ref = 0; Ref < ID_REFS; Ref += 1) {
            WdkmHostSetCurrentProcessor((LONG)Ref);
            for (Index = ID_NAMES; Index-- > 0;) {
                NameOf(Name, sizeof(Name), Index);
                CHECK_STATUS(WdkmGrtReference(Name, WdkmLockKindFastMutex, sizeof(COUNTER),
                                              &Locks[Index][Ref]),
                             STATUS_SUCCESS);
            }
        }
        WdkmHostSetCurrentProcessor(-1);
        Blocks = WdkmTestPoolOutstanding();
        for (Index = 0; Index < ID_NAMES; Index += 1) {
            NameOf(Name, sizeof(Name), Index);
            CHECK_STATUS(WdkmGrtUnregister(Name), STATUS_SUCCESS);
        }
        CHECK_EQ(WdkmTestPoolOutstanding(), Blocks);
        CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_TIMEOUT);
        CHECK_EQ(Report.UnregisteredReferenced, ID_NAMES);

        /* The entries without ids (the last 32) first, then the others. */
        for (Index = ID_NAMES; Index-- > 0;) {
            for (Ref = 0; Ref < ID_REFS; Ref += 1) {
                Blocks = WdkmTestPoolOutstanding();
                WdkmHostSetCurrentProcessor((LONG)((Ref + 3) % 4));
                CHECK_STATUS(WdkmGrtDereference(Locks[Index][Ref]), STATUS_SUCCESS);
                WdkmHostSetCurrentProcessor(-1);
                Now = WdkmTestPoolOutstanding();
                if (Ref + 1 < ID_REFS) {
                    CHECK_EQ(Now, Blocks);
                } else {
                    CHECK(Now == Blocks - 1 || Now == Blocks - 2);
                }
            }
            if (WdkmTestPoolOutstanding() < 0) {
                break;
            }
        }
        CHECK_EQ(WdkmTestPoolOutstanding(), 0);
        CHECK_STATUS(WdkmGrtDestroy(&Timeout, &Report), STATUS_SUCCESS);
    }
}

static const WDKM_TEST_CASE Cases[] = {
    { "chunks_without_ids_count_on_shards", ChunksWithoutIdsCountOnShards },
};

/* A test that failed half-way leaves the registry up: take it down. */
static VOID
DestroyLeftovers(VOID)
{
    LARGE_INTEGER Timeout;

    Timeout.QuadPart = WDKM_RELATIVE_TIMEOUT_MS(100);
    WdkmHostSetCurrentProcessor(-1);
    (VOID)WdkmGrtDestroy(&Timeout, NULL);
}

int
main(int argc, char **argv)
{
    const WDKM_TEST_SUITE Suites[] = {
        WDKM_TEST_SUITE_WITH_CLEANUP("grt_ids", Cases, DestroyLeftovers),
    };

    return WdkmTestMain(argc, argv, Suites, 1);
}
