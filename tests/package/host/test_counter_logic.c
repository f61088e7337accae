/* test_counter_logic.c - the user's host test: counts, and a call from a
   DPC refused with a status instead of a bugcheck. */
#include <stdio.h>
#include <wdkm_host.h>

#include "counter_logic.h"

int main(void)
{
    ULONG64 Total = 0;
    KIRQL OldIrql;
    NTSTATUS Status;
    int Failures = 0;

    Failures += CounterStart() != STATUS_SUCCESS;
    Failures += CounterAdd(5, &Total) != STATUS_SUCCESS || Total != 5;
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    Status = CounterAdd(7, &Total);
    KeLowerIrql(OldIrql);
    Failures += Status != STATUS_WDKM_IRQL_TOO_HIGH;
    Failures += CounterAdd(1, &Total) != STATUS_SUCCESS || Total != 6;
    Failures += CounterStop() != STATUS_SUCCESS;
    Failures += WdkmHostPoolOutstanding(WDKM_POOL_TAG, NULL) != 0;
    Failures += WdkmHostBugcheckCount() != 0;
    printf("%s: %d failure(s)\n", Failures == 0 ? "PASS" : "FAIL", Failures);
    return Failures == 0 ? 0 : 1;
}
