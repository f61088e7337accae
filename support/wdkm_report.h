/*
 * wdkm_report.h - a client's verdict lines: what it counted against what
 * it expected, one aligned line each, so that a run's output reads as a
 * table and a wrong count stands out ("WRONG").
 *
 *     int exact = 1;
 *     exact &= WdkmReportExact("requests that ended", ended, 240);
 *     WdkmReportValue("timer DPC ticks", ticks);           (for information)
 *     exact &= WdkmReportLeakCheck(leakCheckStatus);
 *     printf("RESULT: %s\n", exact ? "..." : "COUNTS ARE WRONG");
 *
 * Written to stdout.
 */
#ifndef WDKM_REPORT_H
#define WDKM_REPORT_H

#include "wdkm_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Prints What, Actual and Expected, "exact" or "WRONG"; returns 1 if they
   are equal, else 0. */
int WdkmReportExact(const char *What, unsigned long long Actual, unsigned long long Expected);

/* Prints What and Value, a figure with nothing to compare it with. */
void WdkmReportValue(const char *What, unsigned long long Value);

/*
 * The status a driver's WdkmDiagLeakCheck answered (left under its service
 * key): STATUS_NOT_SUPPORTED, a release build with no diagnostics, is
 * printed as such and counts as exact; otherwise it must be
 * STATUS_SUCCESS (0). Returns 1 or 0 as WdkmReportExact.
 */
int WdkmReportLeakCheck(DWORD Status);

/*
 * Sorts Values (Count of them) in place and returns how many distinct
 * ones there are: equal to Count when no number was handed out twice.
 */
size_t WdkmReportDistinct(unsigned long long *Values, size_t Count);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_REPORT_H */
