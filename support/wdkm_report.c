/*
 * wdkm_report.c - a client's verdict lines.
 */
#include "wdkm_report.h"

#include <stdio.h>
#include <stdlib.h>

/* STATUS_NOT_SUPPORTED, without the kernel headers. */
#define WDKM_REPORT_NOT_SUPPORTED 0xC00000BBUL

int WdkmReportExact(const char *What, unsigned long long Actual, unsigned long long Expected)
{
    int exact = Actual == Expected;

    printf("  %-52s %8llu   expected %8llu   %s\n", What, Actual, Expected,
           exact ? "exact" : "WRONG");
    return exact;
}

void WdkmReportValue(const char *What, unsigned long long Value)
{
    printf("  %-52s %8llu\n", What, Value);
}

int WdkmReportLeakCheck(DWORD Status)
{
    if (Status == WDKM_REPORT_NOT_SUPPORTED) {
        printf("  %-52s %8s   (release build: no diagnostics)\n", "WdkmDiagLeakCheck", "n/a");
        return 1;
    }
    return WdkmReportExact("WdkmDiagLeakCheck status (checked build)", Status, 0);
}

static int WdkmpReportCompare(const void *Left, const void *Right)
{
    unsigned long long left = *(const unsigned long long *)Left;
    unsigned long long right = *(const unsigned long long *)Right;

    return left < right ? -1 : left > right;
}

size_t WdkmReportDistinct(unsigned long long *Values, size_t Count)
{
    size_t distinct = 0;
    size_t index;

    if (Values == NULL || Count == 0) {
        return 0;
    }
    qsort(Values, Count, sizeof(Values[0]), WdkmpReportCompare);
    for (index = 0; index < Count; index++) {
        distinct += index == 0 || Values[index] != Values[index - 1];
    }
    return distinct;
}
