/*
 * thread.c - thread objects: creation, lifetime, handles, system threads.
 *
 * Every thread has a KTHREAD before it runs a line of kernel code, so that
 * KeGetCurrentThread is a plain load (wdm.h), as gs:[0x188] is: system
 * threads get theirs from PsCreateSystemThread, the main thread before
 * main (irql.c), and any other pthread as it starts, through the
 * pthread_create below, which the program's own calls bind to (it is
 * defined in the program, linked ahead of the C library). Its reference count holds one
 * reference for the running thread (dropped when the thread ends), one per
 * open handle and one per ObReferenceObject*, so a waiter that referenced
 * a thread can still wait on it after it ended.
 */
#define _GNU_SOURCE     /* RTLD_NEXT */

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostp.h"

struct _OBJECT_TYPE {
    PCSTR Name;
};

static struct _OBJECT_TYPE HostpThreadObjectType = { "Thread" };
static POBJECT_TYPE HostpThreadObjectTypePointer = &HostpThreadObjectType;
POBJECT_TYPE *PsThreadType = &HostpThreadObjectTypePointer;

/* Ends the rundown of threads the emulation did not start. */
static pthread_key_t HostpThreadKey;
static pthread_once_t HostpThreadKeyOnce = PTHREAD_ONCE_INIT;

static LONG volatile HostpLastThreadId;

/* Kernel handles: index + 1 in bits 2.., with the kernel-handle bit set as
   NT's are (sign-extended 0x80000000), so they never look like small ints. */
#define HOSTP_KERNEL_HANDLE_BIT ((ULONG_PTR)(LONG_PTR)MINLONG)
#define HOSTP_SYSTEM_PROCESS_ID ((HANDLE)(ULONG_PTR)4)

static PKTHREAD *HostpHandleTable;   /* dispatcher lock */
static ULONG HostpHandleCapacity;

static VOID HostpThreadKeyDestructor(PVOID Value);

static VOID HostpCreateThreadKey(VOID)
{
    if (pthread_key_create(&HostpThreadKey, HostpThreadKeyDestructor) != 0) {
        fputs("wdkm host: pthread_key_create failed\n", stderr);
        abort();
    }
}

static PKTHREAD HostpAllocateThread(BOOLEAN SystemThread)
{
    pthread_condattr_t Attributes;
    PKTHREAD Thread = (PKTHREAD)calloc(1, sizeof(*Thread));
    int Error;

    if (Thread == NULL) {
        return NULL;
    }
    /* Waits measure their deadlines on CLOCK_MONOTONIC. */
    pthread_condattr_init(&Attributes);
    pthread_condattr_setclock(&Attributes, CLOCK_MONOTONIC);
    Error = pthread_cond_init(&Thread->WakeCondition, &Attributes);
    pthread_condattr_destroy(&Attributes);
    if (Error != 0) {
        free(Thread);
        return NULL;
    }
    Thread->Header.Type = HOSTP_THREAD_OBJECT;
    Thread->Header.SignalState = 0;
    InitializeListHead(&Thread->Header.WaitListHead);
    Thread->Magic = HOSTP_THREAD_MAGIC;
    Thread->ReferenceCount = 1;
    /* Multiples of 4 like NT's ids, never reused in a test run. */
    Thread->UniqueThread =
        (HANDLE)(ULONG_PTR)((ULONG)InterlockedExchangeAdd(&HostpLastThreadId, 4) + 4U);
    InitializeListHead(&Thread->MutantListHead);
    InitializeListHead(&Thread->IrpList);
    Thread->SystemThread = SystemThread;
    return Thread;
}

/* Makes Thread the calling thread's object. */
static VOID HostpAdoptThread(PKTHREAD Thread)
{
    pthread_once(&HostpThreadKeyOnce, HostpCreateThreadKey);
    WdkmHostpCurrent.Thread = Thread;
    pthread_setspecific(HostpThreadKey, Thread);
    WdkmHostpRegisterInterruptThread(Thread);   /* injected DPCs and APCs reach it now */
}

/* A thread the emulation did not start gets its object here, as it starts
   (or, for the main thread, before main). */
PKTHREAD NTAPI WdkmHostpAdoptCurrentThread(VOID)
{
    PKTHREAD Thread = WdkmHostpCurrent.Thread;

    if (Thread == NULL) {
        Thread = HostpAllocateThread(FALSE);
        if (Thread == NULL) {
            fputs("wdkm host: out of memory for a thread object\n", stderr);
            abort();
        }
        HostpAdoptThread(Thread);
    }
    return Thread;
}

/* ------------------------------------------------------------------------
 * Threads the emulation does not start: adopted as they start.
 */

typedef int HOSTP_PTHREAD_CREATE(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static HOSTP_PTHREAD_CREATE *HostpRealPthreadCreate;

/* A sanitizer linked into the program (clang links its runtime
   statically) defines pthread_create as a weak alias of its interceptor,
   which the definition below displaces: forward to the interceptor, so
   that the sanitizer still sees every thread start. */
extern HOSTP_PTHREAD_CREATE __interceptor_pthread_create __attribute__((__weak__));
extern HOSTP_PTHREAD_CREATE ___interceptor_pthread_create __attribute__((__weak__));

/* The sanitizer's interceptor, else the next pthread_create: a sanitizer
   runtime loaded as a library, or the C library's. */
static HOSTP_PTHREAD_CREATE *HostpPthreadCreate(VOID)
{
    HOSTP_PTHREAD_CREATE *Real = __atomic_load_n(&HostpRealPthreadCreate, __ATOMIC_ACQUIRE);
    PVOID Symbol;

    if (Real == NULL && __interceptor_pthread_create != NULL) {
        Real = __interceptor_pthread_create;
    } else if (Real == NULL && ___interceptor_pthread_create != NULL) {
        Real = ___interceptor_pthread_create;
    }
    if (Real == NULL) {
        Symbol = dlsym(RTLD_NEXT, "pthread_create");
        if (Symbol == NULL) {
            fputs("wdkm host: no pthread_create to forward to\n", stderr);
            abort();
        }
        memcpy(&Real, &Symbol, sizeof(Real));   /* ISO C has no object-to-function cast */
    }
    __atomic_store_n(&HostpRealPthreadCreate, Real, __ATOMIC_RELEASE);
    return Real;
}

typedef struct _HOSTP_PTHREAD_START {
    void *(*Routine)(void *);
    void *Argument;
} HOSTP_PTHREAD_START;

static void *HostpAdoptingStart(void *Context)
{
    HOSTP_PTHREAD_START Start = *(HOSTP_PTHREAD_START *)Context;

    free(Context);
    (VOID)WdkmHostpAdoptCurrentThread();
    return Start.Routine(Start.Argument);
}

int pthread_create(pthread_t *Posix, const pthread_attr_t *Attributes,
                   void *(*Routine)(void *), void *Argument)
{
    HOSTP_PTHREAD_START *Start = (HOSTP_PTHREAD_START *)malloc(sizeof(*Start));
    int Error;

    if (Start == NULL) {
        return EAGAIN;
    }
    Start->Routine = Routine;
    Start->Argument = Argument;
    Error = HostpPthreadCreate()(Posix, Attributes, HostpAdoptingStart, Start);
    if (Error != 0) {
        free(Start);
    }
    return Error;
}

int WdkmHostpStartInternalThread(pthread_t *Posix, void *(*Routine)(void *), void *Argument)
{
    return HostpPthreadCreate()(Posix, NULL, Routine, Argument);
}

static PKTHREAD HostpThreadFromObject(PVOID Object)
{
    PKTHREAD Thread = (PKTHREAD)Object;

    if (Thread == NULL || Thread->Magic != HOSTP_THREAD_MAGIC) {
        KeBugCheckEx(REFERENCE_BY_POINTER, 0, (ULONG_PTR)Object, 0, 0);
    }
    return Thread;
}

LONG WdkmHostpDereferenceThread(PKTHREAD Thread)
{
    LONG Count = __atomic_load_n(&Thread->ReferenceCount, __ATOMIC_RELAXED);

    /* Check before changing anything, so an over-release is trappable. */
    do {
        if (Count <= 0) {
            KeBugCheckEx(REFERENCE_BY_POINTER, 0, (ULONG_PTR)Thread, (ULONG_PTR)(LONG_PTR)Count,
                         0);
        }
    } while (!__atomic_compare_exchange_n(&Thread->ReferenceCount, &Count, Count - 1, 0,
                                          __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
    if (Count == 1) {
        pthread_cond_destroy(&Thread->WakeCondition);
        Thread->Magic = 0;
        free(Thread);
    }
    return Count - 1;
}

/* Ends the calling thread's life as a kernel thread: abandons what it
   owns, wakes its waiters, drops its own reference. */
static VOID HostpEndThread(PKTHREAD Thread)
{
    /* No trap or exit jump reaches back into the frames that are gone. */
    WdkmHostpThread.TrapTop = NULL;
    WdkmHostpThread.TerminateJump = NULL;
    /* Still a kernel thread while the driver's cancel routines run on it,
       as NT cancels a thread's I/O before it runs the thread down. */
    WdkmHostpCancelThreadIrps(Thread);
    WdkmHostpUnregisterInterruptThread();      /* its events still pending are dropped */
    WdkmHostpRundownThread(Thread);
    WdkmHostpThread.KMutexCount = 0;
    WdkmHostpCurrent.Thread = NULL;
    pthread_setspecific(HostpThreadKey, NULL);
    WdkmHostpDereferenceThread(Thread);
}

/* A pthread the emulation did not start is exiting. */
static VOID HostpThreadKeyDestructor(PVOID Value)
{
    PKTHREAD Thread = (PKTHREAD)Value;

    WdkmHostpCurrent.Thread = Thread;
    if (WdkmHostpThread.KMutexCount != 0) {
        WdkmHostpReportBugCheck(MUTEX_ALREADY_OWNED, (ULONG_PTR)Thread,
                                WdkmHostpThread.KMutexCount, 0, 0);
    }
    HostpEndThread(Thread);
}

/* A system thread leaving its routine: the exit rules of NT. */
static VOID HostpCheckSystemThreadExit(PKTHREAD Thread)
{
    if (WdkmHostpCurrent.Irql != PASSIVE_LEVEL) {
        WdkmHostpReportBugCheck(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Thread, WdkmHostpCurrent.Irql,
                                PASSIVE_LEVEL, 0);
    }
    if (WdkmHostpThread.KMutexCount != 0) {
        WdkmHostpReportBugCheck(MUTEX_ALREADY_OWNED, (ULONG_PTR)Thread,
                                WdkmHostpThread.KMutexCount, 0, 0);
    }
}

static void *HostpSystemThreadStart(void *Argument)
{
    PKTHREAD Thread = (PKTHREAD)Argument;
    jmp_buf Terminate;

    HostpAdoptThread(Thread);
    WdkmHostpThread.TerminateJump = &Terminate;
    switch (setjmp(Terminate)) {
    case 0:
        Thread->StartRoutine(Thread->StartContext);
        WdkmHostpThread.TerminateJump = NULL;
        HostpCheckSystemThreadExit(Thread);
        /* An orderly end: the events its masking allows run now, as NT
           runs a terminating thread's kernel APCs. An event whose signal
           found the thread inside the C library waits for a retry, and a
           short-lived thread may end before it: only what stays masked is
           dropped (HostpEndThread). */
        WdkmHostpDeliverInterrupts();
        break;
    case 1:
        /* PsTerminateSystemThread: an orderly end too, as above. */
        WdkmHostpThread.TerminateJump = NULL;
        WdkmHostpDeliverInterrupts();
        break;
    default:
        /* A bug check whose handler returned: the thread ends there. */
        break;
    }
    HostpEndThread(Thread);
    return NULL;
}

/* Dispatcher lock held. Returns NULL if Handle is not an open handle. */
static PKTHREAD *HostpLookupHandle(HANDLE Handle)
{
    ULONG_PTR Value = (ULONG_PTR)Handle;
    ULONG_PTR Index;

    if ((Value & HOSTP_KERNEL_HANDLE_BIT) != HOSTP_KERNEL_HANDLE_BIT || (Value & 3) != 0) {
        return NULL;
    }
    Index = ((Value & ~HOSTP_KERNEL_HANDLE_BIT) >> 2) - 1;
    if (Index >= HostpHandleCapacity || HostpHandleTable[Index] == NULL) {
        return NULL;
    }
    return &HostpHandleTable[Index];
}

/* Dispatcher lock held. Stores Thread (whose reference the handle now
   owns) in a free slot; NULL when out of memory. */
static HANDLE HostpInsertHandle(PKTHREAD Thread)
{
    ULONG Index;

    for (Index = 0; Index < HostpHandleCapacity; Index++) {
        if (HostpHandleTable[Index] == NULL) {
            break;
        }
    }
    if (Index == HostpHandleCapacity) {
        ULONG Capacity = HostpHandleCapacity == 0 ? 16 : HostpHandleCapacity * 2;
        PKTHREAD *Table = (PKTHREAD *)realloc(HostpHandleTable, Capacity * sizeof(*Table));
        if (Table == NULL) {
            return NULL;
        }
        for (ULONG Fill = HostpHandleCapacity; Fill < Capacity; Fill++) {
            Table[Fill] = NULL;
        }
        HostpHandleTable = Table;
        HostpHandleCapacity = Capacity;
    }
    HostpHandleTable[Index] = Thread;
    return (HANDLE)(HOSTP_KERNEL_HANDLE_BIT | ((ULONG_PTR)(Index + 1) << 2));
}

static VOID HostpRemoveHandle(HANDLE Handle)
{
    PKTHREAD *Slot;

    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Slot = HostpLookupHandle(Handle);
    if (Slot != NULL) {
        *Slot = NULL;
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
}

/* KeGetCurrentThread and PsGetCurrentThread are inline in wdm.h. */

HANDLE NTAPI PsGetCurrentThreadId(VOID)
{
    return WdkmHostpCurrentThread()->UniqueThread;
}

HANDLE NTAPI PsGetThreadId(PETHREAD Thread)
{
    return ((PKTHREAD)Thread)->UniqueThread;
}

HANDLE NTAPI PsGetCurrentProcessId(VOID)
{
    return HOSTP_SYSTEM_PROCESS_ID;
}

BOOLEAN NTAPI PsIsSystemThread(PETHREAD Thread)
{
    return ((PKTHREAD)Thread)->SystemThread;
}

NTSTATUS NTAPI PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess,
                                    POBJECT_ATTRIBUTES ObjectAttributes, HANDLE ProcessHandle,
                                    PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                                    PVOID StartContext)
{
    pthread_attr_t Attributes;
    pthread_t Posix;
    PKTHREAD Thread;
    HANDLE Handle;
    int Error;

    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(ObjectAttributes);
    UNREFERENCED_PARAMETER(ProcessHandle);
    if (WdkmHostpCurrent.Irql != PASSIVE_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, 0, WdkmHostpCurrent.Irql, PASSIVE_LEVEL, 0);
    }
    if (ThreadHandle == NULL || StartRoutine == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    Thread = HostpAllocateThread(TRUE);
    if (Thread == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Thread->StartRoutine = StartRoutine;
    Thread->StartContext = StartContext;
    Thread->ReferenceCount = 2;     /* the running thread + the handle */

    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Handle = HostpInsertHandle(Thread);
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    if (Handle == NULL) {
        Thread->ReferenceCount = 1;
        WdkmHostpDereferenceThread(Thread);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    if (ClientId != NULL) {
        ClientId->UniqueProcess = HOSTP_SYSTEM_PROCESS_ID;
        ClientId->UniqueThread = Thread->UniqueThread;
    }

    /* Detached: callers wait on the thread object, never join. */
    pthread_attr_init(&Attributes);
    pthread_attr_setdetachstate(&Attributes, PTHREAD_CREATE_DETACHED);
    /* Not adopted on the way: it has its object already. */
    Error = HostpPthreadCreate()(&Posix, &Attributes, HostpSystemThreadStart, Thread);
    pthread_attr_destroy(&Attributes);
    if (Error != 0) {
        HostpRemoveHandle(Handle);
        Thread->ReferenceCount = 1;
        WdkmHostpDereferenceThread(Thread);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    *ThreadHandle = Handle;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI PsTerminateSystemThread(NTSTATUS ExitStatus)
{
    PKTHREAD Thread = WdkmHostpCurrent.Thread;

    if (WdkmHostpThread.TerminateJump == NULL || Thread == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    if (WdkmHostpCurrent.Irql != PASSIVE_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Thread, WdkmHostpCurrent.Irql,
                     PASSIVE_LEVEL, 0);
    }
    if (WdkmHostpThread.KMutexCount != 0) {
        KeBugCheckEx(MUTEX_ALREADY_OWNED, (ULONG_PTR)Thread, WdkmHostpThread.KMutexCount, 0, 0);
    }
    Thread->ExitStatus = ExitStatus;
    longjmp(*WdkmHostpThread.TerminateJump, 1);
}

/* Callers must be at PASSIVE_LEVEL, as the WDK documents for these. */
static VOID HostpCheckPassive(PVOID Object)
{
    if (WdkmHostpCurrent.Irql != PASSIVE_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Object, WdkmHostpCurrent.Irql,
                     PASSIVE_LEVEL, 0);
    }
}

NTSTATUS NTAPI ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess,
                                         POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode,
                                         PVOID *Object, PVOID HandleInformation)
{
    PKTHREAD Thread = NULL;
    PKTHREAD *Slot;

    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(AccessMode);
    UNREFERENCED_PARAMETER(HandleInformation);
    HostpCheckPassive(Handle);
    if (Object == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    *Object = NULL;
    if (ObjectType != NULL && ObjectType != *PsThreadType) {
        return STATUS_OBJECT_TYPE_MISMATCH;
    }
    if (Handle == NtCurrentThread()) {
        Thread = WdkmHostpCurrentThread();
        InterlockedIncrement(&Thread->ReferenceCount);
    } else {
        WdkmHostpLock(&WdkmHostpDispatcherLock);
        Slot = HostpLookupHandle(Handle);
        if (Slot != NULL) {
            Thread = *Slot;
            InterlockedIncrement(&Thread->ReferenceCount);
        }
        WdkmHostpUnlock(&WdkmHostpDispatcherLock);
        if (Thread == NULL) {
            return STATUS_INVALID_HANDLE;
        }
    }
    *Object = Thread;
    return STATUS_SUCCESS;
}

/* Object references are legal up to DISPATCH_LEVEL. */
static VOID HostpCheckReferenceIrql(PVOID Object)
{
    if (WdkmHostpCurrent.Irql > DISPATCH_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Object, WdkmHostpCurrent.Irql,
                     DISPATCH_LEVEL, 0);
    }
}

LONG_PTR FASTCALL ObfReferenceObject(PVOID Object)
{
    PKTHREAD Thread;

    HostpCheckReferenceIrql(Object);
    Thread = HostpThreadFromObject(Object);
    return InterlockedIncrement(&Thread->ReferenceCount);
}

LONG_PTR FASTCALL ObfDereferenceObject(PVOID Object)
{
    HostpCheckReferenceIrql(Object);
    return WdkmHostpDereferenceThread(HostpThreadFromObject(Object));
}

NTSTATUS NTAPI ZwClose(HANDLE Handle)
{
    PKTHREAD Thread = NULL;
    PKTHREAD *Slot;

    HostpCheckPassive(Handle);
    WdkmHostpLock(&WdkmHostpDispatcherLock);
    Slot = HostpLookupHandle(Handle);
    if (Slot != NULL) {
        Thread = *Slot;
        *Slot = NULL;
    }
    WdkmHostpUnlock(&WdkmHostpDispatcherLock);
    if (Thread == NULL) {
        return STATUS_INVALID_HANDLE;
    }
    WdkmHostpDereferenceThread(Thread);
    return STATUS_SUCCESS;
}
