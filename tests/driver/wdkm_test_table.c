/*
 * wdkm_test_table.c - the test table, generated from wdkm_test_list.h.
 */
#include "wdkm_test_framework.h"

/* A prototype for every routine, and a compile-time check of every name. */
#define WDKM_TEST_ENTRY(Name, Routine)  \
    WDKM_TEST_ROUTINE Routine;          \
    WDKM_TEST_STATIC_ASSERT(sizeof(#Name) <= WDKM_TEST_NAME_CHARS);
#include "wdkm_test_list.h"
#undef WDKM_TEST_ENTRY

const WDKM_TEST_DEFINITION WdkmTestTable[] = {
#define WDKM_TEST_ENTRY(Name, Routine) { #Name, Routine },
#include "wdkm_test_list.h"
#undef WDKM_TEST_ENTRY
};

const ULONG WdkmTestTableCount = (ULONG)(sizeof(WdkmTestTable) / sizeof(WdkmTestTable[0]));
