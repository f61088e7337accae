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
#if defined(__has_include)
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#define HOSTP_HAVE_RSEQ 1
#endif
#endif

#include "hostp.h"

/*
 * The kernel reads the number from its processor block, one load off gs.
 * The host's counterpart is the rseq area the kernel keeps up to date for
 * each thread glibc registered it for: one load off the thread pointer
 * (what sched_getcpu does too, behind a call through the PLT). Where rseq
 * is not registered (valgrind, old kernels) sched_getcpu asks the vDSO.
 */
static inline int HostpCurrentCpu(void)
{
#if defined(HOSTP_HAVE_RSEQ) && defined(RSEQ_SIG)
    if (__builtin_expect(__rseq_size != 0, 1)) {
        const struct rseq *Area =
            (const struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);

        return (int)__atomic_load_n(&Area->cpu_id, __ATOMIC_RELAXED);
    }
#endif
    return sched_getcpu();
}

ULONG NTAPI KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber)
{
    ULONG Processor;
    int Cpu;

    if (WdkmHostpThread.ProcessorOverride != 0) {
        Processor = WdkmHostpThread.ProcessorOverride - 1;
    } else {
        Cpu = HostpCurrentCpu();
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
