/*
 * interrupt.c - DPCs and kernel APCs injected into running threads.
 *
 * A real processor interrupts a running thread between two instructions to
 * run a DPC (at DISPATCH_LEVEL, as that thread) or a kernel APC. Here each
 * kernel thread has a ring of pending events; whoever queues one sends the
 * thread SIGURG, and the thread's signal handler runs the events its
 * masking allows, on the interrupted thread itself, wherever it was.
 *
 * When the handler may not run an event now it leaves it pending:
 *   - NT's masking (IRQL, critical and guarded regions, owned KMUTEXes):
 *     the unmasking routines (KeLowerIrql, region exits, the last
 *     KeReleaseMutex) see WdkmHostpCurrent.InterruptPending and deliver;
 *   - the emulation's own sections (its pthread mutexes, SectionDepth):
 *     delivered at the section's outermost exit, as a DPC waits for a spin
 *     lock holder to lower the IRQL;
 *   - the thread was inside a shared object (libc's malloc, stdio, a
 *     futex): not a safe point, so the controller thread signals it again
 *     shortly after.
 * That retry does not rely on the handler having run: a signal stays
 * "outstanding" (Signalled) until a delivery pass has looked at the ring
 * after it went out, and the controller sends it again while it is and
 * events wait. So a signal that never reaches the handler is covered too:
 * ThreadSanitizer (clang 14's runtime) makes a thread's signal state on
 * first use, and a signal arriving meanwhile is recorded in a copy that
 * the first use then overwrites - lost, on a thread just registered (its
 * first setjmp is right after). ThreadSanitizer delivers asynchronous
 * signals itself at the next interceptor boundary (a safe point), with
 * the context of the moment the signal arrived, which only makes the
 * checks above more conservative.
 *
 * The controller thread (not a kernel thread) makes random mode: it draws
 * for each registered, running thread the time of its next interrupt and
 * the event's kind and random value from that thread's generator, queues
 * the event and signals the thread; it also retries the signals above.
 *
 * Locking: the injector lock guards the registry and every ring; each
 * thread takes it only inside a section, so its own handler never meets it
 * held. Counters are atomics.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "hostp.h"

#define HOSTP_INTERRUPT_SIGNAL SIGURG
#define HOSTP_RANDOM_PENDING_MAX 2          /* random events waiting per thread, at most */
#define HOSTP_CONTROLLER_IDLE_NS 500000     /* retry period when nothing is due sooner */
#define HOSTP_CONTROLLER_QUIET_NS 5000000   /* and without random injection */
#define HOSTP_CONTROLLER_MIN_NS 20000
#define HOSTP_RESIGNAL_NS 100000            /* an unanswered signal is sent again after */
#define HOSTP_STALL_MAX_NS 20000            /* default DPC / special APC action */
#define HOSTP_MAX_TEXT_RANGES 8

static pthread_mutex_t HostpInterruptLock = PTHREAD_MUTEX_INITIALIZER;
static LIST_ENTRY HostpInterruptThreads = { &HostpInterruptThreads, &HostpInterruptThreads };
static ULONG HostpRegistrationOrder;        /* injector lock */
static WDKM_HOST_INTERRUPT_SETTINGS HostpSettings;   /* injector lock */
static BOOLEAN HostpRandomActive;           /* injector lock (atomic reads) */
static BOOLEAN HostpEverActive;             /* atomic: a seed is worth printing */
static ULONG64 HostpReportedSeed;           /* atomic: the last started seed */
static WDKM_HOST_INTERRUPT_ROUTINE *HostpDefaultRoutine;   /* injector lock */
static PVOID HostpDefaultContext;

static ULONG64 HostpDelivered[WDKM_HOST_INTERRUPT_KINDS];  /* atomics */
static ULONG64 HostpDeferred[WDKM_HOST_INTERRUPT_KINDS];
static ULONG64 HostpDropped;
static LONG HostpRunning;                   /* atomic: events running now */

static pthread_once_t HostpSignalOnce = PTHREAD_ONCE_INIT;
static pthread_once_t HostpEnvironmentOnce = PTHREAD_ONCE_INIT;
static pthread_t HostpController;
static BOOLEAN HostpControllerStarted;      /* injector lock */
static BOOLEAN HostpControllerStopping;     /* atomic */
static pid_t HostpControllerProcess;

/* The main program's code: the only place an event may interrupt. */
static ULONG_PTR HostpTextStart[HOSTP_MAX_TEXT_RANGES];
static ULONG_PTR HostpTextEnd[HOSTP_MAX_TEXT_RANGES];
static ULONG HostpTextRanges;               /* written before the handler is installed */

static VOID HostpStartController(VOID);

/* ---------------------------------------------------------------------- */
/* Random numbers                                                          */
/* ---------------------------------------------------------------------- */

static ULONG64 HostpMix(ULONG64 Z)
{
    Z += 0x9E3779B97F4A7C15ULL;
    Z = (Z ^ (Z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    Z = (Z ^ (Z >> 27)) * 0x94D049BB133111EBULL;
    return Z ^ (Z >> 31);
}

/* xorshift64*, never zero */
static ULONG64 HostpNext(ULONG64 *State)
{
    ULONG64 X = *State;

    X ^= X >> 12;
    X ^= X << 25;
    X ^= X >> 27;
    *State = X;
    return X * 0x2545F4914F6CDD1DULL;
}

static VOID HostpSeedThread(HOSTP_INTERRUPT_THREAD *Record, ULONG64 Seed, ULONG Order)
{
    ULONG64 Z = HostpMix(HostpMix(Seed) ^ Order);
    ULONG64 T = HostpMix(Z ^ 0x74696D65ULL);

    Record->RandomState = Z != 0 ? Z : 1;
    Record->TimingState = T != 0 ? T : 1;
    Record->NextDue = 0;
}

/* ---------------------------------------------------------------------- */
/* Masking and delivery (on the thread itself)                             */
/* ---------------------------------------------------------------------- */

/* NT's masking of Kind for the calling thread. */
static BOOLEAN HostpMasked(WDKM_HOST_INTERRUPT Kind)
{
    KIRQL Irql = WdkmHostpCurrent.Irql;

    switch (Kind) {
    case WdkmHostInterruptDpc:
        return (BOOLEAN)(Irql >= DISPATCH_LEVEL);
    case WdkmHostInterruptSpecialApc:
        return (BOOLEAN)(Irql >= APC_LEVEL || WdkmHostpThread.GuardedRegionCount != 0);
    default:
        return (BOOLEAN)(Irql >= APC_LEVEL || WdkmHostpThread.GuardedRegionCount != 0 ||
                         WdkmHostpThread.CriticalRegionCount != 0 ||
                         WdkmHostpThread.KMutexCount != 0 ||
                         WdkmHostpThread.NormalApcInProgress);
    }
}

static VOID HostpSleepNanoseconds(LONGLONG Nanoseconds)
{
    struct timespec Sleep;

    Sleep.tv_sec = (time_t)(Nanoseconds / 1000000000LL);
    Sleep.tv_nsec = (long)(Nanoseconds % 1000000000LL);
    nanosleep(&Sleep, NULL);
}

/* Without a routine: DPCs and special APCs stall (spin, as a DPC that
   does some work), normal APCs suspend the thread. */
static VOID HostpDefaultAction(WDKM_HOST_INTERRUPT Kind, ULONG64 Random, ULONG SuspendMax)
{
    if (Kind == WdkmHostInterruptNormalApc) {
        if (SuspendMax != 0) {
            HostpSleepNanoseconds((LONGLONG)(Random % ((ULONG64)SuspendMax + 1)) * 1000);
        }
        return;
    }
    LONGLONG End = WdkmHostpMonotonicNanoseconds() + (LONGLONG)(Random % HOSTP_STALL_MAX_NS);
    while (WdkmHostpMonotonicNanoseconds() < End) {
        YieldProcessor();
    }
}

/* Runs one event on the calling thread, as the processor would: at the
   event's IRQL, with no trap of the interrupted code armed; afterwards
   checks what NT checks and puts the thread back as it was. */
static VOID HostpRunEvent(const HOSTP_INTERRUPT_EVENT *Event, ULONG SuspendMax)
{
    KIRQL Irql = WdkmHostpCurrent.Irql;
    ULONG CriticalRegions = WdkmHostpThread.CriticalRegionCount;
    ULONG GuardedRegions = WdkmHostpThread.GuardedRegionCount;
    PWDKM_HOST_BUGCHECK_TRAP TrapTop = WdkmHostpThread.TrapTop;
    jmp_buf *TerminateJump = WdkmHostpThread.TerminateJump;
    BOOLEAN ExecutingDpc = WdkmHostpThread.ExecutingDpc;
    BOOLEAN NormalApc = WdkmHostpThread.NormalApcInProgress;
    KIRQL Level = Event->Kind == WdkmHostInterruptDpc          ? DISPATCH_LEVEL
                  : Event->Kind == WdkmHostInterruptSpecialApc ? APC_LEVEL
                                                               : PASSIVE_LEVEL;
    jmp_buf Abandon;
#ifndef WDKM_HOSTP_TSAN
    sigset_t Interrupt;
    sigset_t Mask;
#endif

    /* Interruptible itself, as on NT (a DPC may interrupt an APC routine):
       the handler that runs it blocked the signal. Not under
       ThreadSanitizer, whose handler already unblocked it for good
       (HostpKeepInterruptedMask). */
#ifndef WDKM_HOSTP_TSAN
    sigemptyset(&Interrupt);
    sigaddset(&Interrupt, HOSTP_INTERRUPT_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &Interrupt, &Mask);
#endif
    WdkmHostpThread.TrapTop = NULL;
    WdkmHostpThread.TerminateJump = &Abandon;
    if (setjmp(Abandon) == 0) {
        ULONG Before;
        ULONG After;
        KIRQL Returned;

        WdkmHostpCurrent.Irql = Level;
        Before = WdkmHostpApcDisableCount();
        WdkmHostpThread.ExecutingDpc = (BOOLEAN)(Event->Kind == WdkmHostInterruptDpc);
        if (Event->Kind == WdkmHostInterruptNormalApc) {
            WdkmHostpThread.NormalApcInProgress = TRUE;
        }
        if (Event->Routine != NULL) {
            Event->Routine(Event->Kind, Event->Random, Event->Context);
        } else {
            HostpDefaultAction(Event->Kind, Event->Random, SuspendMax);
        }
        WdkmHostpThread.ExecutingDpc = ExecutingDpc;
        Returned = WdkmHostpCurrent.Irql;
        After = WdkmHostpApcDisableCount();
        if (Event->Kind == WdkmHostInterruptDpc) {
            if (Returned != DISPATCH_LEVEL) {
                KeBugCheckEx(IRQL_NOT_GREATER_OR_EQUAL, 0, Returned, DISPATCH_LEVEL,
                             (ULONG_PTR)Event->Routine);
            }
            if (After != Before) {
                KeBugCheckEx(TIMER_OR_DPC_INVALID, 4, (ULONG_PTR)Event->Routine, Before, After);
            }
        } else {
            if (Returned != Level) {
                KeBugCheckEx(IRQL_UNEXPECTED_VALUE, Returned, Level, (ULONG_PTR)Event->Routine,
                             0);
            }
            if (After != Before) {
                KeBugCheckEx(APC_INDEX_MISMATCH, (ULONG_PTR)Event->Routine, 0, After, 0);
            }
        }
    }
    /* Block the signal again before undoing the event's state: a signal
       that arrived meanwhile then waits for HostpDeliver's loop, which runs
       it as the next event, instead of nesting in this finished event's
       frame, where a steady stream of events would grow the stack without
       end. Under ThreadSanitizer the signal stays unblocked, and what
       arrives now waits for the next intercepted call: the loop's section
       (HostpKeepInterruptedMask). */
#ifndef WDKM_HOSTP_TSAN
    pthread_sigmask(SIG_SETMASK, &Mask, NULL);
#endif
    /* Back where the thread was interrupted, whatever the routine left. */
    WdkmHostpThread.NormalApcInProgress = NormalApc;
    WdkmHostpThread.ExecutingDpc = ExecutingDpc;
    WdkmHostpThread.TerminateJump = TerminateJump;
    WdkmHostpThread.TrapTop = TrapTop;
    WdkmHostpThread.CriticalRegionCount = CriticalRegions;
    WdkmHostpThread.GuardedRegionCount = GuardedRegions;
    WdkmHostpThread.SectionDepth = 0;
    WdkmHostpCurrent.Irql = Irql;
}

/* The software interrupt level of Kind: when one unmasking lets several
   events run that waited for it, NT services the higher level first (a DPC
   before a special APC before a normal one), whatever order they were
   queued in. Events that never waited (a signal answered late) keep their
   queueing order, which is what a seed replays. */
static ULONG HostpPriority(WDKM_HOST_INTERRUPT Kind)
{
    switch (Kind) {
    case WdkmHostInterruptDpc:
        return 2;
    case WdkmHostInterruptSpecialApc:
        return 1;
    default:
        return 0;
    }
}

/* Runs the calling thread's events that its masking allows: those that
   waited for an unmasking first, highest level first, then the others;
   queueing order otherwise. Leaves InterruptPending set while any is left. */
static VOID HostpDeliver(VOID)
{
    HOSTP_INTERRUPT_THREAD *Self = &WdkmHostpThread.Interrupts;

    for (;;) {
        HOSTP_INTERRUPT_EVENT Event;
        BOOLEAN Found = FALSE;
        ULONG Chosen = 0;
        ULONG SuspendMax;

        if (WdkmHostpThread.SectionDepth != 0) {
            WdkmHostpCurrent.InterruptPending = 1;
            return;
        }
        WdkmHostpThread.SectionDepth = 1;
        WDKM_HOSTP_SIGNAL_FENCE();
        pthread_mutex_lock(&HostpInterruptLock);
        Self->Signalled = FALSE;    /* this pass answers every signal sent so far */
        for (ULONG Index = 0; Index < Self->Count; Index++) {
            HOSTP_INTERRUPT_EVENT *Slot = &Self->Ring[(Self->Head + Index) % HOSTP_INTERRUPT_RING];
            if (HostpMasked(Slot->Kind)) {
                if (!Slot->Deferred) {
                    Slot->Deferred = TRUE;
                    __atomic_add_fetch(&HostpDeferred[Slot->Kind], 1, __ATOMIC_RELAXED);
                }
                continue;
            }
            if (!Found || (Slot->Deferred &&
                           (!Event.Deferred ||
                            HostpPriority(Slot->Kind) > HostpPriority(Event.Kind)))) {
                Event = *Slot;
                Chosen = Index;
                Found = TRUE;
            }
        }
        if (Found) {
            /* Close the gap: the later ones move up one slot. */
            for (ULONG Move = Chosen; Move + 1 < Self->Count; Move++) {
                Self->Ring[(Self->Head + Move) % HOSTP_INTERRUPT_RING] =
                    Self->Ring[(Self->Head + Move + 1) % HOSTP_INTERRUPT_RING];
            }
            Self->Count--;
        }
        WdkmHostpCurrent.InterruptPending = (UCHAR)(Self->Count != 0);
        SuspendMax = HostpSettings.SuspendMaxMicroseconds;
        if (Found) {
            __atomic_add_fetch(&HostpDelivered[Event.Kind], 1, __ATOMIC_RELAXED);
            __atomic_add_fetch(&HostpRunning, 1, __ATOMIC_SEQ_CST);
            WdkmHostpThread.InEvent++;
        }
        pthread_mutex_unlock(&HostpInterruptLock);
        WDKM_HOSTP_SIGNAL_FENCE();
        WdkmHostpThread.SectionDepth = 0;
        if (!Found) {
            return;
        }
        HostpRunEvent(&Event, SuspendMax);
        WdkmHostpThread.InEvent--;
        __atomic_sub_fetch(&HostpRunning, 1, __ATOMIC_SEQ_CST);
    }
}

VOID NTAPI WdkmHostpDeliverInterrupts(VOID)
{
    if (!WdkmHostpThread.Interrupts.Registered) {
        WdkmHostpCurrent.InterruptPending = 0;
        return;
    }
    HostpDeliver();
}

/* Whether the interrupted instruction is in the main program (not in
   libc or another shared object, where an event could re-enter malloc or
   stdio). Unknown architectures count as safe. */
static BOOLEAN HostpSafePoint(const VOID *UserContext)
{
    const ucontext_t *Context = (const ucontext_t *)UserContext;
    ULONG_PTR Pc;

    if (Context == NULL || HostpTextRanges == 0) {
        return TRUE;
    }
#if defined(__x86_64__)
    Pc = (ULONG_PTR)Context->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    Pc = (ULONG_PTR)Context->uc_mcontext.pc;
#else
    return TRUE;
#endif
    for (ULONG Index = 0; Index < HostpTextRanges; Index++) {
        if (Pc >= HostpTextStart[Index] && Pc < HostpTextEnd[Index]) {
            return TRUE;
        }
    }
    return FALSE;
}

/*
 * ThreadSanitizer runs an asynchronous signal's handler later, at an
 * intercepted call, with every signal blocked, and afterwards restores the
 * mask it saved in one place per thread. A handler it runs inside another
 * (at any intercepted call the first makes while a signal waits, including
 * pthread_sigmask itself) overwrites that saved mask with the mask of that
 * moment, and the outer one then leaves the thread with it: every signal
 * blocked, when that moment was an event's end blocking the interrupt
 * signal again. Such a thread never takes an interrupt again, nor do the
 * threads it creates (they inherit the mask): the registry tests that
 * place their own events starved under check-interrupts. So under it the
 * handler first puts back the interrupted code's mask (the signal was
 * delivered, so it leaves the signal unblocked) and keeps it to its end:
 * whichever level saves the mask, it saves that one. Between two events
 * the handler's intercepted calls are its section's lock and unlock,
 * where a nested handler only leaves its event pending, so events still
 * run in order and none in a finished event's frame.
 */
static VOID HostpKeepInterruptedMask(const VOID *UserContext)
{
#ifdef WDKM_HOSTP_TSAN
    if (UserContext != NULL) {
        pthread_sigmask(SIG_SETMASK, &((const ucontext_t *)UserContext)->uc_sigmask, NULL);
    }
#else
    (void)UserContext;
#endif
}

static void HostpSignalHandler(int Signal, siginfo_t *Info, void *UserContext)
{
    int SavedErrno = errno;

    (void)Signal;
    (void)Info;
    HostpKeepInterruptedMask(UserContext);
    if (WdkmHostpThread.Interrupts.Registered && WdkmHostpCurrent.Thread != NULL) {
        /* Not run now: the signal stays outstanding, so it comes again. */
        if (WdkmHostpThread.SectionDepth != 0) {
            /* Delivered at the section's exit; signalled again in case the
               section was the tail of a delivery pass, which exits without
               looking once more. */
            WdkmHostpCurrent.InterruptPending = 1;
        } else if (!HostpSafePoint(UserContext)) {
            WdkmHostpCurrent.InterruptPending = 1;
        } else {
            HostpDeliver();
        }
    }
    errno = SavedErrno;
}

static int HostpFindText(struct dl_phdr_info *Info, size_t Size, void *Argument)
{
    (void)Size;
    (void)Argument;
    /* The first object is the program itself. */
    for (int Index = 0; Index < Info->dlpi_phnum && HostpTextRanges < HOSTP_MAX_TEXT_RANGES;
         Index++) {
        const ElfW(Phdr) *Header = &Info->dlpi_phdr[Index];
        if (Header->p_type == PT_LOAD && (Header->p_flags & PF_X) != 0) {
            HostpTextStart[HostpTextRanges] = Info->dlpi_addr + Header->p_vaddr;
            HostpTextEnd[HostpTextRanges] = Info->dlpi_addr + Header->p_vaddr + Header->p_memsz;
            HostpTextRanges++;
        }
    }
    return 1;
}

static VOID HostpInstallSignal(VOID)
{
    struct sigaction Action;

    dl_iterate_phdr(HostpFindText, NULL);
    memset(&Action, 0, sizeof(Action));
    Action.sa_sigaction = HostpSignalHandler;
    Action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&Action.sa_mask);   /* the signal itself stays blocked while it runs */
    if (sigaction(HOSTP_INTERRUPT_SIGNAL, &Action, NULL) != 0) {
        fputs("wdkm host: cannot install the interrupt signal handler\n", stderr);
        abort();
    }
}

/* ---------------------------------------------------------------------- */
/* Queueing (injector lock held)                                           */
/* ---------------------------------------------------------------------- */

static BOOLEAN HostpPush(HOSTP_INTERRUPT_THREAD *Record, WDKM_HOST_INTERRUPT Kind,
                         WDKM_HOST_INTERRUPT_ROUTINE *Routine, PVOID Context, BOOLEAN FromRandom)
{
    HOSTP_INTERRUPT_EVENT *Slot;

    if (Record->Count == HOSTP_INTERRUPT_RING) {
        __atomic_add_fetch(&HostpDropped, 1, __ATOMIC_RELAXED);
        return FALSE;
    }
    Slot = &Record->Ring[(Record->Head + Record->Count) % HOSTP_INTERRUPT_RING];
    Slot->Kind = Kind;
    Slot->Routine = Routine;
    Slot->Context = Context;
    Slot->Random = HostpNext(&Record->RandomState);
    Slot->Deferred = FALSE;
    Slot->FromRandomMode = FromRandom;
    Record->Count++;
    return TRUE;
}

/* Drops Record's random-mode events. */
static VOID HostpDropRandom(HOSTP_INTERRUPT_THREAD *Record)
{
    ULONG Kept = 0;

    for (ULONG Index = 0; Index < Record->Count; Index++) {
        HOSTP_INTERRUPT_EVENT *Slot = &Record->Ring[(Record->Head + Index) % HOSTP_INTERRUPT_RING];
        if (!Slot->FromRandomMode) {
            Record->Ring[(Record->Head + Kept) % HOSTP_INTERRUPT_RING] = *Slot;
            Kept++;
        }
    }
    Record->Count = Kept;
}

/* Injector lock held. Interrupts Record's thread; outstanding until a
   delivery pass there answers it. */
static VOID HostpSignal(HOSTP_INTERRUPT_THREAD *Record, LONGLONG Now)
{
    Record->Signalled = TRUE;
    Record->SignalledAt = Now;
    pthread_kill(Record->Posix, HOSTP_INTERRUPT_SIGNAL);
}

/* ---------------------------------------------------------------------- */
/* Registration                                                            */
/* ---------------------------------------------------------------------- */

static VOID HostpReadEnvironment(VOID);

VOID WdkmHostpRegisterInterruptThread(PKTHREAD Thread)
{
    HOSTP_INTERRUPT_THREAD *Self = &WdkmHostpThread.Interrupts;

    if (Self->Excluded || Self->Registered) {
        return;
    }
    pthread_once(&HostpSignalOnce, HostpInstallSignal);
    Self->Posix = pthread_self();
    Self->Thread = Thread;
    Self->Head = 0;
    Self->Count = 0;
    Self->Signalled = FALSE;
    WdkmHostpLock(&HostpInterruptLock);
    HostpSeedThread(Self, HostpSettings.Seed, HostpRegistrationOrder++);
    InsertTailList(&HostpInterruptThreads, &Self->Link);
    Thread->Interrupts = Self;
    Self->Registered = TRUE;
    WdkmHostpUnlock(&HostpInterruptLock);
    pthread_once(&HostpEnvironmentOnce, HostpReadEnvironment);
}

VOID WdkmHostpUnregisterInterruptThread(VOID)
{
    HOSTP_INTERRUPT_THREAD *Self = &WdkmHostpThread.Interrupts;

    if (!Self->Registered) {
        return;
    }
    WdkmHostpLock(&HostpInterruptLock);
    RemoveEntryList(&Self->Link);
    Self->Thread->Interrupts = NULL;
    Self->Registered = FALSE;
    if (Self->Count != 0) {
        __atomic_add_fetch(&HostpDropped, Self->Count, __ATOMIC_RELAXED);
        Self->Count = 0;
    }
    Self->Signalled = FALSE;
    WdkmHostpUnlock(&HostpInterruptLock);
    WdkmHostpCurrent.InterruptPending = 0;
}

/* ---------------------------------------------------------------------- */
/* The controller: random mode and retries                                 */
/* ---------------------------------------------------------------------- */

static WDKM_HOST_INTERRUPT HostpDrawKind(ULONG64 Random)
{
    ULONG Dpc = HostpSettings.DpcWeight;
    ULONG Normal = HostpSettings.NormalApcWeight;
    ULONG Total = Dpc + Normal + HostpSettings.SpecialApcWeight;
    ULONG Pick;

    if (Total == 0) {
        return WdkmHostInterruptDpc;
    }
    Pick = (ULONG)(Random % Total);
    if (Pick < Dpc) {
        return WdkmHostInterruptDpc;
    }
    return Pick < Dpc + Normal ? WdkmHostInterruptNormalApc : WdkmHostInterruptSpecialApc;
}

/* Injector lock held. Uniform in [0, 2 * mean]: the mean asked for. */
static LONGLONG HostpDrawInterval(HOSTP_INTERRUPT_THREAD *Record)
{
    ULONG64 Mean = (ULONG64)HostpSettings.MeanIntervalMicroseconds * 1000;

    return (LONGLONG)(Mean == 0 ? 0 : HostpNext(&Record->TimingState) % (2 * Mean + 1));
}

/* Injector lock held. One pass; returns when to look again (ns). */
static LONGLONG HostpControllerPass(LONGLONG Now)
{
    LONGLONG Next = Now + (HostpRandomActive ? HOSTP_CONTROLLER_IDLE_NS : HOSTP_CONTROLLER_QUIET_NS);

    for (PLIST_ENTRY Entry = HostpInterruptThreads.Flink; Entry != &HostpInterruptThreads;
         Entry = Entry->Flink) {
        HOSTP_INTERRUPT_THREAD *Record = CONTAINING_RECORD(Entry, HOSTP_INTERRUPT_THREAD, Link);
        BOOLEAN Signal = FALSE;

        if (HostpRandomActive) {
            if (Record->NextDue == 0) {
                Record->NextDue = Now + HostpDrawInterval(Record);
            }
            if (Record->NextDue <= Now) {
                Record->NextDue = Now + HostpDrawInterval(Record);
                if (__atomic_load_n(&Record->Blocked, __ATOMIC_RELAXED) == 0 &&
                    Record->Count < HOSTP_RANDOM_PENDING_MAX) {
                    WDKM_HOST_INTERRUPT Kind = HostpDrawKind(HostpNext(&Record->RandomState));
                    Signal = HostpPush(Record, Kind, HostpSettings.Routine, HostpSettings.Context,
                                       TRUE);
                }
            }
            if (Record->NextDue < Next) {
                Next = Record->NextDue;
            }
        }
        /* Unanswered for a while: the handler found no safe point, or
           never ran (a signal lost on the way). Masked events need no
           signal: the unmasking routine delivers them. */
        if (Record->Count != 0 && Record->Signalled &&
            Now - Record->SignalledAt >= HOSTP_RESIGNAL_NS) {
            Signal = TRUE;
        }
        if (Signal) {
            HostpSignal(Record, Now);
        }
    }
    return Next;
}

static void *HostpControllerMain(void *Argument)
{
    (void)Argument;
    while (!__atomic_load_n(&HostpControllerStopping, __ATOMIC_ACQUIRE)) {
        LONGLONG Now = WdkmHostpMonotonicNanoseconds();
        LONGLONG Next;

        pthread_mutex_lock(&HostpInterruptLock);
        Next = HostpControllerPass(Now);
        pthread_mutex_unlock(&HostpInterruptLock);
        Next -= WdkmHostpMonotonicNanoseconds();
        HostpSleepNanoseconds(Next < HOSTP_CONTROLLER_MIN_NS ? HOSTP_CONTROLLER_MIN_NS : Next);
    }
    return NULL;
}

static VOID HostpStopController(VOID)
{
    if (getpid() != HostpControllerProcess) {
        return;     /* a forked child: not ours */
    }
    __atomic_store_n(&HostpControllerStopping, TRUE, __ATOMIC_RELEASE);
    pthread_join(HostpController, NULL);
}

/* Injector lock held (inside a section). */
static VOID HostpStartController(VOID)
{
    if (HostpControllerStarted) {
        return;
    }
    /* Not a kernel thread: an interrupt that landed on it while it holds
       the injector lock would wait for that lock in its own handler. */
    if (WdkmHostpStartInternalThread(&HostpController, HostpControllerMain, NULL) != 0) {
        fputs("wdkm host: cannot start the interrupt controller thread\n", stderr);
        abort();
    }
    HostpControllerStarted = TRUE;
    HostpControllerProcess = getpid();
    atexit(HostpStopController);
}

/* ---------------------------------------------------------------------- */
/* Public controls                                                         */
/* ---------------------------------------------------------------------- */

VOID WdkmHostInterruptsStart(const WDKM_HOST_INTERRUPT_SETTINGS *Settings)
{
    pthread_once(&HostpSignalOnce, HostpInstallSignal);
    WdkmHostpLock(&HostpInterruptLock);
    HostpSettings = *Settings;
    for (ULONG Kind = 0; Kind < WDKM_HOST_INTERRUPT_KINDS; Kind++) {
        __atomic_store_n(&HostpDelivered[Kind], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&HostpDeferred[Kind], 0, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&HostpDropped, 0, __ATOMIC_RELAXED);
    /* Reseed every thread from its registration order. */
    HostpRegistrationOrder = 0;
    for (PLIST_ENTRY Entry = HostpInterruptThreads.Flink; Entry != &HostpInterruptThreads;
         Entry = Entry->Flink) {
        HostpSeedThread(CONTAINING_RECORD(Entry, HOSTP_INTERRUPT_THREAD, Link), Settings->Seed,
                        HostpRegistrationOrder++);
    }
    HostpRandomActive = TRUE;
    __atomic_store_n(&HostpReportedSeed, Settings->Seed, __ATOMIC_RELAXED);
    __atomic_store_n(&HostpEverActive, TRUE, __ATOMIC_RELAXED);
    HostpStartController();
    WdkmHostpUnlock(&HostpInterruptLock);
}

VOID WdkmHostInterruptsStop(VOID)
{
    LONG Own = (LONG)WdkmHostpThread.InEvent;

    WdkmHostpLock(&HostpInterruptLock);
    HostpRandomActive = FALSE;
    for (PLIST_ENTRY Entry = HostpInterruptThreads.Flink; Entry != &HostpInterruptThreads;
         Entry = Entry->Flink) {
        HostpDropRandom(CONTAINING_RECORD(Entry, HOSTP_INTERRUPT_THREAD, Link));
    }
    WdkmHostpUnlock(&HostpInterruptLock);
    while (__atomic_load_n(&HostpRunning, __ATOMIC_SEQ_CST) > Own) {
        HostpSleepNanoseconds(50000);
    }
}

BOOLEAN WdkmHostInterruptsActive(WDKM_HOST_INTERRUPT_SETTINGS *Settings)
{
    BOOLEAN Active;

    pthread_once(&HostpEnvironmentOnce, HostpReadEnvironment);
    WdkmHostpLock(&HostpInterruptLock);
    Active = HostpRandomActive;
    if (Settings != NULL) {
        *Settings = HostpSettings;
    }
    WdkmHostpUnlock(&HostpInterruptLock);
    return Active;
}

VOID WdkmHostQueueInterrupt(PKTHREAD Thread, WDKM_HOST_INTERRUPT Kind,
                            WDKM_HOST_INTERRUPT_ROUTINE *Routine, PVOID Context)
{
    BOOLEAN Self = (BOOLEAN)(Thread == WdkmHostpCurrent.Thread);

    if (Thread == NULL || (ULONG)Kind >= WDKM_HOST_INTERRUPT_KINDS) {
        return;
    }
    pthread_once(&HostpSignalOnce, HostpInstallSignal);
    for (;;) {
        BOOLEAN Done = TRUE;

        WdkmHostpLock(&HostpInterruptLock);
        HostpStartController();     /* for the retries */
        if (Thread->Interrupts != NULL) {
            if (HostpPush(Thread->Interrupts, Kind, Routine, Context, FALSE)) {
                if (Self) {
                    WdkmHostpCurrent.InterruptPending = 1;  /* runs at the unlock, if unmasked */
                } else {
                    HostpSignal(Thread->Interrupts, WdkmHostpMonotonicNanoseconds());
                }
            }
        } else if (Thread->SystemThread && !Self &&
                   HostpLoad(Thread->Header.SignalState) == 0) {
            Done = FALSE;   /* created, not yet running: wait for it to start */
        } else {
            __atomic_add_fetch(&HostpDropped, 1, __ATOMIC_RELAXED);    /* it has ended */
        }
        WdkmHostpUnlock(&HostpInterruptLock);
        if (Done) {
            return;
        }
        HostpSleepNanoseconds(20000);
    }
}

VOID WdkmHostQueryInterruptCounts(ULONG64 Delivered[WDKM_HOST_INTERRUPT_KINDS],
                                  ULONG64 Deferred[WDKM_HOST_INTERRUPT_KINDS])
{
    for (ULONG Kind = 0; Kind < WDKM_HOST_INTERRUPT_KINDS; Kind++) {
        if (Delivered != NULL) {
            Delivered[Kind] = __atomic_load_n(&HostpDelivered[Kind], __ATOMIC_RELAXED);
        }
        if (Deferred != NULL) {
            Deferred[Kind] = __atomic_load_n(&HostpDeferred[Kind], __ATOMIC_RELAXED);
        }
    }
}

ULONG64 WdkmHostInterruptsDropped(VOID)
{
    return __atomic_load_n(&HostpDropped, __ATOMIC_RELAXED);
}

VOID WdkmHostSetDefaultInterruptRoutine(WDKM_HOST_INTERRUPT_ROUTINE *Routine, PVOID Context)
{
    WdkmHostpLock(&HostpInterruptLock);
    if (HostpSettings.Routine == HostpDefaultRoutine &&
        HostpSettings.Context == HostpDefaultContext) {
        HostpSettings.Routine = Routine;
        HostpSettings.Context = Context;
    }
    HostpDefaultRoutine = Routine;
    HostpDefaultContext = Context;
    WdkmHostpUnlock(&HostpInterruptLock);
}

BOOLEAN WdkmHostInInterrupt(VOID)
{
    return (BOOLEAN)(WdkmHostpThread.InEvent != 0);
}

VOID WdkmHostpReportInterruptSeed(VOID)
{
    if (__atomic_load_n(&HostpEverActive, __ATOMIC_RELAXED)) {
        /* Not under the lock: this thread may hold it. */
        fprintf(stderr, "wdkm host: interrupt injection seed=%llu\n",
                (unsigned long long)__atomic_load_n(&HostpReportedSeed, __ATOMIC_RELAXED));
    }
}

/* WDKM_HOST_INTERRUPTS="seed=N,interval=US,dpc=W,napc=W,sapc=W,suspend=US" */
static VOID HostpReadEnvironment(VOID)
{
    const char *Value = getenv("WDKM_HOST_INTERRUPTS");
    WDKM_HOST_INTERRUPT_SETTINGS Settings;
    const char *Cursor;

    if (Value == NULL || *Value == '\0') {
        return;
    }
    memset(&Settings, 0, sizeof(Settings));
    Settings.Seed = 1;
    Settings.MeanIntervalMicroseconds = 500;
    Settings.DpcWeight = Settings.NormalApcWeight = Settings.SpecialApcWeight = 1;
    Settings.SuspendMaxMicroseconds = 200;
    for (Cursor = Value; *Cursor != '\0';) {
        const char *Equals = strchr(Cursor, '=');
        const char *Comma = strchr(Cursor, ',');
        size_t Length = Comma != NULL ? (size_t)(Comma - Cursor) : strlen(Cursor);
        unsigned long long Number;

        if (Equals == NULL || (Comma != NULL && Equals > Comma)) {
            fprintf(stderr, "wdkm host: WDKM_HOST_INTERRUPTS: no value in \"%.*s\"\n",
                    (int)Length, Cursor);
            abort();
        }
        Number = strtoull(Equals + 1, NULL, 0);
#define HOSTP_KEY(Name) ((size_t)(Equals - Cursor) == strlen(Name) && \
                         strncmp(Cursor, Name, strlen(Name)) == 0)
        if (HOSTP_KEY("seed")) {
            Settings.Seed = Number;
        } else if (HOSTP_KEY("interval")) {
            Settings.MeanIntervalMicroseconds = (ULONG)Number;
        } else if (HOSTP_KEY("dpc")) {
            Settings.DpcWeight = (ULONG)Number;
        } else if (HOSTP_KEY("napc")) {
            Settings.NormalApcWeight = (ULONG)Number;
        } else if (HOSTP_KEY("sapc")) {
            Settings.SpecialApcWeight = (ULONG)Number;
        } else if (HOSTP_KEY("suspend")) {
            Settings.SuspendMaxMicroseconds = (ULONG)Number;
        } else {
            fprintf(stderr, "wdkm host: WDKM_HOST_INTERRUPTS: unknown key in \"%.*s\"\n",
                    (int)Length, Cursor);
            abort();
        }
#undef HOSTP_KEY
        Cursor += Length;
        if (*Cursor == ',') {
            Cursor++;
        }
    }
    WdkmHostpLock(&HostpInterruptLock);
    Settings.Routine = HostpDefaultRoutine;
    Settings.Context = HostpDefaultContext;
    WdkmHostpUnlock(&HostpInterruptLock);
    fprintf(stderr,
            "wdkm host: interrupt injection on: seed=%llu interval=%lu us dpc=%lu napc=%lu "
            "sapc=%lu suspend=%lu us\n",
            (unsigned long long)Settings.Seed, (unsigned long)Settings.MeanIntervalMicroseconds,
            (unsigned long)Settings.DpcWeight, (unsigned long)Settings.NormalApcWeight,
            (unsigned long)Settings.SpecialApcWeight,
            (unsigned long)Settings.SuspendMaxMicroseconds);
    WdkmHostInterruptsStart(&Settings);
}
