/*
 * test_attack21_ids.c - the attack21 suite again, against the library copy
 * with 128 cache ids (2,048 entries): with ATTACK21_MANY_NAMES above that,
 * chunks without an id (their entries count on the shard counters alone)
 * mix with cached ones in every test.
 */
#include "wdkm_test.h"

int WdkmTestMain(int argc, char **argv, const WDKM_TEST_SUITE *Suites, ULONG SuiteCount);

extern const WDKM_TEST_SUITE WdkmAttack21Suite;

int
main(int argc, char **argv)
{
    const WDKM_TEST_SUITE Suites[] = { WdkmAttack21Suite };

    return WdkmTestMain(argc, argv, Suites, 1);
}
