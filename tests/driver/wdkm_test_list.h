/*
 * wdkm_test_list.h - every test of the driver, one line each.
 *
 *     WDKM_TEST_ENTRY(name, Routine)
 *
 * name     the test's name as the runner shows and filters it: a C
 *          identifier, lower_snake_case, topic first (kmutex_..., registry_...),
 *          at most WDKM_TEST_NAME_CHARS - 1 characters;
 * Routine  its function, a WDKM_TEST_ROUTINE defined in a test_<topic>.c
 *          file of this directory (add new files to CMakeLists.txt).
 *
 * Tests that use the library go in the WDKM_TEST_WITH_LIBRARY section
 * (their files in WDKM_TEST_LIBRARY_SOURCES): that section is compiled only
 * when the driver is linked with the wdkmutex library.
 *
 * Tests run in this order. This file is included several times with
 * different definitions of WDKM_TEST_ENTRY (see wdkm_test_table.c), so it
 * has no include guard and holds only WDKM_TEST_ENTRY lines (and #if).
 */

/* test_harness.c: the harness itself, on raw kernel APIs only. */
WDKM_TEST_ENTRY(harness_format, WdkmTestHarnessFormat)
WDKM_TEST_ENTRY(harness_check_reports_failure, WdkmTestHarnessCheckReportsFailure)
WDKM_TEST_ENTRY(harness_clock_and_delay, WdkmTestHarnessClockAndDelay)
WDKM_TEST_ENTRY(harness_threads_run_concurrently, WdkmTestHarnessThreadsRunConcurrently)
WDKM_TEST_ENTRY(harness_system_threads, WdkmTestHarnessSystemThreads)
WDKM_TEST_ENTRY(harness_fast_mutex_threads, WdkmTestHarnessFastMutexThreads)
WDKM_TEST_ENTRY(harness_thread_timeout, WdkmTestHarnessThreadTimeout)

#if WDKM_TEST_WITH_LIBRARY
/* Tests of the library, one section per test_<topic>.c file. */

/* test_locks.c: WDKM_KMUTEX and WDKM_FAST_MUTEX. */
WDKM_TEST_ENTRY(kmutex_three_threads_1500, WdkmTestKMutexThreeThreads)
WDKM_TEST_ENTRY(fast_mutex_three_threads_1500, WdkmTestFastMutexThreeThreads)
WDKM_TEST_ENTRY(kmutex_eight_threads_mixed, WdkmTestKMutexEightThreadsMixed)
WDKM_TEST_ENTRY(kmutex_busy_and_not_owner, WdkmTestKMutexBusyAndNotOwner)
WDKM_TEST_ENTRY(kmutex_recursion, WdkmTestKMutexRecursion)
WDKM_TEST_ENTRY(kmutex_alertable_wait, WdkmTestKMutexAlertableWait)
WDKM_TEST_ENTRY(fast_mutex_misuse, WdkmTestFastMutexMisuse)
WDKM_TEST_ENTRY(fast_mutex_try, WdkmTestFastMutexTry)
WDKM_TEST_ENTRY(irql_rules, WdkmTestIrqlRules)
WDKM_TEST_ENTRY(take_out_value, WdkmTestTakeOut)
WDKM_TEST_ENTRY(scoped_forms, WdkmTestScopedForms)
WDKM_TEST_ENTRY(pool_fallback_allocator, WdkmTestPoolAllocator)

/* test_kernel_held.c: teardowns ask the kernel object. */
WDKM_TEST_ENTRY(teardown_asks_kernel_object, WdkmTestTeardownAsksKernelObject)

/* test_rundown.c: rundown protection used by a timer DPC, work items and
   threads, waited for as at unload. */
WDKM_TEST_ENTRY(rundown_dpc_work_item_unload, WdkmTestRundownUnload)

/* test_grt.c: the registry. */
WDKM_TEST_ENTRY(grt_crate_scenario_three_runs, WdkmTestGrtCrateScenario)
WDKM_TEST_ENTRY(grt_from_work_item, WdkmTestGrtFromWorkItem)
WDKM_TEST_ENTRY(grt_from_ioctl_path, WdkmTestGrtFromIoctlPath)
WDKM_TEST_ENTRY(grt_destroy_with_threads_running, WdkmTestGrtDestroyWithThreadsRunning)
WDKM_TEST_ENTRY(grt_concurrent_writers, WdkmTestGrtConcurrentWriters)

/* test_kinds.c: spin locks, guarded mutex, ERESOURCE, push lock, regions. */
WDKM_TEST_ENTRY(spin_lock_three_threads_1500, WdkmTestSpinLockThreads)
WDKM_TEST_ENTRY(queued_spin_lock_three_threads_1500, WdkmTestQueuedSpinLockThreads)
WDKM_TEST_ENTRY(resource_three_threads_1500, WdkmTestResourceThreads)
WDKM_TEST_ENTRY(push_lock_three_threads_1500, WdkmTestPushLockThreads)
WDKM_TEST_ENTRY(guarded_mutex, WdkmTestGuardedMutex)
WDKM_TEST_ENTRY(resource_readers_overlap, WdkmTestResourceReadersOverlap)
WDKM_TEST_ENTRY(spin_lock_timer_dpc, WdkmTestSpinLockTimerDpc)
WDKM_TEST_ENTRY(in_place_list, WdkmTestInPlaceList)
WDKM_TEST_ENTRY(regions, WdkmTestRegions)
WDKM_TEST_ENTRY(registry_every_kind, WdkmTestRegistryEveryKind)

/* test_diag.c: the checked build's lock-order validation. */
WDKM_TEST_ENTRY(diag_abba_reported, WdkmTestDiagAbbaReported)
#endif
