/*
 * bugcheck.c - simulated bug checks: traps, the untrapped handler, names.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include "hostp.h"

static ULONG volatile HostpBugcheckCount;
static pthread_mutex_t HostpHandlerLock = PTHREAD_MUTEX_INITIALIZER;
static WDKM_HOST_BUGCHECK_HANDLER *HostpHandler;
static PVOID HostpHandlerContext;

typedef struct _HOSTP_BUGCHECK_NAME {
    ULONG Code;
    PCSTR Name;
} HOSTP_BUGCHECK_NAME;

static const HOSTP_BUGCHECK_NAME HostpBugcheckNames[] = {
    { APC_INDEX_MISMATCH, "APC_INDEX_MISMATCH" },
    { IRQL_NOT_GREATER_OR_EQUAL, "IRQL_NOT_GREATER_OR_EQUAL" },
    { IRQL_NOT_LESS_OR_EQUAL, "IRQL_NOT_LESS_OR_EQUAL" },
    { SPIN_LOCK_ALREADY_OWNED, "SPIN_LOCK_ALREADY_OWNED" },
    { SPIN_LOCK_NOT_OWNED, "SPIN_LOCK_NOT_OWNED" },
    { THREAD_NOT_MUTEX_OWNER, "THREAD_NOT_MUTEX_OWNER" },
    { REFERENCE_BY_POINTER, "REFERENCE_BY_POINTER" },
    { KMODE_EXCEPTION_NOT_HANDLED, "KMODE_EXCEPTION_NOT_HANDLED" },
    { MULTIPLE_IRP_COMPLETE_REQUESTS, "MULTIPLE_IRP_COMPLETE_REQUESTS" },
    { CANCEL_STATE_IN_COMPLETED_IRP, "CANCEL_STATE_IN_COMPLETED_IRP" },
    { INVALID_KERNEL_HANDLE, "INVALID_KERNEL_HANDLE" },
    { MUTEX_ALREADY_OWNED, "MUTEX_ALREADY_OWNED" },
    { BAD_POOL_CALLER, "BAD_POOL_CALLER" },
    { DRIVER_VERIFIER_DETECTED_VIOLATION, "DRIVER_VERIFIER_DETECTED_VIOLATION" },
    { TIMER_OR_DPC_INVALID, "TIMER_OR_DPC_INVALID" },
    { IRQL_UNEXPECTED_VALUE, "IRQL_UNEXPECTED_VALUE" },
    { RESOURCE_NOT_OWNED, "RESOURCE_NOT_OWNED" },
    { KERNEL_SECURITY_CHECK_FAILURE, "KERNEL_SECURITY_CHECK_FAILURE" },
    /* Not the kernel's: the stop of the library's callback forms
       (wdkm_status.h), named so that an untrapped one says what it is. */
    { 0x20D40001UL, "WDKM_BUGCHECK_LOCK_MISUSE" },
};

PCSTR WdkmHostBugcheckName(ULONG Code)
{
    for (SIZE_T Index = 0; Index < ARRAYSIZE(HostpBugcheckNames); Index++) {
        if (HostpBugcheckNames[Index].Code == Code) {
            return HostpBugcheckNames[Index].Name;
        }
    }
    return "UNKNOWN_BUGCHECK";
}

jmp_buf *WdkmHostArm(PWDKM_HOST_BUGCHECK_TRAP Trap)
{
    Trap->Previous = WdkmHostpThread.TrapTop;
    Trap->Armed = TRUE;
    RtlZeroMemory(&Trap->Bugcheck, sizeof(Trap->Bugcheck));
    WdkmHostpThread.TrapTop = Trap;
    return &Trap->JumpBuffer;
}

VOID WdkmHostDisarm(PWDKM_HOST_BUGCHECK_TRAP Trap)
{
    if (!Trap->Armed) {
        return;
    }
    if (WdkmHostpThread.TrapTop != Trap) {
        /* A trap left armed by a function that returned would make a later
           bug check jump into a dead frame: stop at the first sign of it. */
        fputs("wdkm host: WdkmHostDisarm of a trap that is not the innermost\n", stderr);
        abort();
    }
    WdkmHostpThread.TrapTop = Trap->Previous;
    Trap->Armed = FALSE;
}

VOID WdkmHostSetBugcheckHandler(WDKM_HOST_BUGCHECK_HANDLER *Handler, PVOID Context)
{
    WdkmHostpLock(&HostpHandlerLock);
    HostpHandler = Handler;
    HostpHandlerContext = Context;
    WdkmHostpUnlock(&HostpHandlerLock);
}

ULONG WdkmHostBugcheckCount(VOID)
{
    return __atomic_load_n(&HostpBugcheckCount, __ATOMIC_SEQ_CST);
}

static VOID HostpPrintStop(const WDKM_HOST_BUGCHECK *Bugcheck)
{
    fprintf(stderr, "*** STOP: 0x%08X (0x%016llX, 0x%016llX, 0x%016llX, 0x%016llX) %s\n",
            Bugcheck->Code, (unsigned long long)Bugcheck->Parameter[0],
            (unsigned long long)Bugcheck->Parameter[1],
            (unsigned long long)Bugcheck->Parameter[2],
            (unsigned long long)Bugcheck->Parameter[3], WdkmHostBugcheckName(Bugcheck->Code));
    fflush(stderr);
}

/* Hands an untrapped bug check to the handler, or prints it and aborts. */
static VOID HostpDeliverUntrapped(const WDKM_HOST_BUGCHECK *Bugcheck)
{
    WDKM_HOST_BUGCHECK_HANDLER *Handler;
    PVOID Context;

    WdkmHostpLock(&HostpHandlerLock);
    Handler = HostpHandler;
    Context = HostpHandlerContext;
    WdkmHostpUnlock(&HostpHandlerLock);
    if (Handler == NULL) {
        WdkmHostpReportInterruptSeed();
        HostpPrintStop(Bugcheck);
        abort();
    }
    Handler(Bugcheck, Context);
}

VOID WdkmHostpReportBugCheck(ULONG Code, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4)
{
    WDKM_HOST_BUGCHECK Bugcheck = { Code, { P1, P2, P3, P4 } };

    __atomic_add_fetch(&HostpBugcheckCount, 1, __ATOMIC_SEQ_CST);
    HostpDeliverUntrapped(&Bugcheck);
}

DECLSPEC_NORETURN VOID NTAPI KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR BugCheckParameter1,
                                          ULONG_PTR BugCheckParameter2,
                                          ULONG_PTR BugCheckParameter3,
                                          ULONG_PTR BugCheckParameter4)
{
    WDKM_HOST_BUGCHECK Bugcheck = { BugCheckCode,
                                    { BugCheckParameter1, BugCheckParameter2,
                                      BugCheckParameter3, BugCheckParameter4 } };
    PWDKM_HOST_BUGCHECK_TRAP Trap = WdkmHostpThread.TrapTop;

    __atomic_add_fetch(&HostpBugcheckCount, 1, __ATOMIC_SEQ_CST);
    if (Trap != NULL) {
        WdkmHostpThread.TrapTop = Trap->Previous;
        Trap->Armed = FALSE;
        Trap->Bugcheck = Bugcheck;
        /* The emulation raises no bug check inside its own sections. */
        WdkmHostpThread.SectionDepth = 0;
        longjmp(Trap->JumpBuffer, 1);
    }
    HostpDeliverUntrapped(&Bugcheck);
    if (WdkmHostpThread.TerminateJump != NULL) {
        /* The handler returned: a system thread simply ends here. */
        longjmp(*WdkmHostpThread.TerminateJump, 2);
    }
    fputs("wdkm host: bug check handler returned on a thread that cannot end\n", stderr);
    HostpPrintStop(&Bugcheck);
    abort();
}

VOID NTAPI RtlAssert(PVOID VoidFailedAssertion, PVOID VoidFileName, ULONG LineNumber,
                     PSTR MutableMessage)
{
    fprintf(stderr, "*** Assertion failed: %s%s%s\n***   Source File: %s, line %u\n",
            MutableMessage != NULL ? MutableMessage : "", MutableMessage != NULL ? " " : "",
            (const char *)VoidFailedAssertion, (const char *)VoidFileName, LineNumber);
    KeBugCheckEx(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)STATUS_ASSERTION_FAILURE,
                 (ULONG_PTR)VoidFailedAssertion, (ULONG_PTR)VoidFileName, LineNumber);
}
