/*
 * processor.c - KeGetCurrentProcessorNumberEx: the host CPU the calling
 * thread runs on, or the one a test told it to report.
 *
 * One processor group, numbered as the host numbers its CPUs. Like the
 * kernel's answer below DISPATCH_LEVEL, it may be stale by the time the
 * caller uses it: the host scheduler moves threads at any moment.
 */
#define _GNU_SOURCE

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "hostp.h"

ULONG NTAPI KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber)
{
    ULONG Processor;
    int Cpu;

    if (WdkmHostpThread.ProcessorOverride != 0) {
        Processor = WdkmHostpThread.ProcessorOverride - 1;
    } else {
        /* glibc answers from the rseq area, a load; the vDSO otherwise. */
        Cpu = sched_getcpu();
        Processor = Cpu < 0 ? 0 : (ULONG)Cpu;
    }
    if (ProcNumber != NULL) {
        ProcNumber->Group = 0;
        ProcNumber->Number = (UCHAR)Processor;
        ProcNumber->Reserved = 0;
    }
    return Processor;
}

VOID WdkmHostSetCurrentProcessor(LONG Processor)
{
    if (Processor < -1 || Processor > 255) {
        /* A control misused by a test, not a driver's bug: no bug check. */
        fprintf(stderr, "wdkm host: WdkmHostSetCurrentProcessor(%ld): not -1 nor below 256\n",
                (long)Processor);
        abort();
    }
    WdkmHostpThread.ProcessorOverride = (ULONG)(Processor + 1);
}
