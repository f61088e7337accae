/*
 * routines.c - MmGetSystemRoutineAddress over a table of the emulation's
 * exports, each of which a test can hide (to play Wine 8 or an old Windows).
 */
#define _POSIX_C_SOURCE 200809L

#include <string.h>

#include "hostp.h"

typedef void (*HOSTP_ROUTINE)(void);

typedef struct _HOSTP_ROUTINE_ENTRY {
    PCSTR Name;
    HOSTP_ROUTINE Routine;
    BOOLEAN Available;      /* atomic */
} HOSTP_ROUTINE_ENTRY;

#define HOSTP_EXPORT(Name) { #Name, (HOSTP_ROUTINE)Name, TRUE }

static HOSTP_ROUTINE_ENTRY HostpRoutines[] = {
    HOSTP_EXPORT(ExAllocatePool2),
    HOSTP_EXPORT(ExAllocatePoolWithTag),
    HOSTP_EXPORT(ExFreePool),
    HOSTP_EXPORT(ExFreePoolWithTag),
    HOSTP_EXPORT(ExInitializeFastMutex),
    HOSTP_EXPORT(ExAcquireFastMutex),
    HOSTP_EXPORT(ExReleaseFastMutex),
    HOSTP_EXPORT(ExTryToAcquireFastMutex),
    HOSTP_EXPORT(ExAcquireFastMutexUnsafe),
    HOSTP_EXPORT(ExReleaseFastMutexUnsafe),
    HOSTP_EXPORT(KeInitializeGuardedMutex),
    HOSTP_EXPORT(KeAcquireGuardedMutex),
    HOSTP_EXPORT(KeReleaseGuardedMutex),
    HOSTP_EXPORT(KeTryToAcquireGuardedMutex),
    HOSTP_EXPORT(KeEnterCriticalRegion),
    HOSTP_EXPORT(KeLeaveCriticalRegion),
    HOSTP_EXPORT(KeEnterGuardedRegion),
    HOSTP_EXPORT(KeLeaveGuardedRegion),
    HOSTP_EXPORT(KeAreApcsDisabled),
    HOSTP_EXPORT(KeAreAllApcsDisabled),
    HOSTP_EXPORT(KeInitializeMutex),
    HOSTP_EXPORT(KeReleaseMutex),
    HOSTP_EXPORT(KeInitializeEvent),
    HOSTP_EXPORT(KeSetEvent),
    HOSTP_EXPORT(KeWaitForSingleObject),
    HOSTP_EXPORT(KeDelayExecutionThread),
    HOSTP_EXPORT(KeAcquireInStackQueuedSpinLock),
    HOSTP_EXPORT(KeReleaseInStackQueuedSpinLock),
    HOSTP_EXPORT(KeQueryPerformanceCounter),
    HOSTP_EXPORT(KeStallExecutionProcessor),
    HOSTP_EXPORT(PsCreateSystemThread),
    HOSTP_EXPORT(MmGetSystemRoutineAddress),
    HOSTP_EXPORT(DbgPrintEx),
    HOSTP_EXPORT(vDbgPrintEx),
};

static HOSTP_ROUTINE_ENTRY *HostpFindRoutineA(PCSTR Name)
{
    for (SIZE_T Index = 0; Index < ARRAYSIZE(HostpRoutines); Index++) {
        if (strcmp(HostpRoutines[Index].Name, Name) == 0) {
            return &HostpRoutines[Index];
        }
    }
    return NULL;
}

/* Compares a counted wide name with an ASCII one. */
static BOOLEAN HostpNameEquals(PCUNICODE_STRING Name, PCSTR Ascii)
{
    SIZE_T Length = Name->Length / sizeof(WCHAR);
    SIZE_T Index;

    for (Index = 0; Index < Length; Index++) {
        if (Ascii[Index] == '\0' || Name->Buffer[Index] != (WCHAR)(UCHAR)Ascii[Index]) {
            return FALSE;
        }
    }
    return (BOOLEAN)(Ascii[Index] == '\0');
}

PVOID NTAPI MmGetSystemRoutineAddress(PUNICODE_STRING SystemRoutineName)
{
    PVOID Address = NULL;

    if (WdkmHostpThread.Irql != PASSIVE_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)SystemRoutineName, WdkmHostpThread.Irql,
                     PASSIVE_LEVEL, 0);
    }
    if (SystemRoutineName == NULL || SystemRoutineName->Buffer == NULL) {
        return NULL;
    }
    for (SIZE_T Index = 0; Index < ARRAYSIZE(HostpRoutines); Index++) {
        if (HostpNameEquals(SystemRoutineName, HostpRoutines[Index].Name)) {
            if (__atomic_load_n(&HostpRoutines[Index].Available, __ATOMIC_RELAXED)) {
                /* ISO C has no cast between function and object pointers;
                   POSIX guarantees they have the same representation. */
                _Static_assert(sizeof(Address) == sizeof(HOSTP_ROUTINE), "pointer sizes");
                memcpy(&Address, &HostpRoutines[Index].Routine, sizeof(Address));
            }
            break;
        }
    }
    return Address;
}

NTSTATUS WdkmHostSetRoutineAvailable(PCSTR Name, BOOLEAN Available)
{
    HOSTP_ROUTINE_ENTRY *Entry = Name != NULL ? HostpFindRoutineA(Name) : NULL;

    if (Entry == NULL) {
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    __atomic_store_n(&Entry->Available, (BOOLEAN)(Available != FALSE), __ATOMIC_RELAXED);
    return STATUS_SUCCESS;
}

VOID WdkmHostResetRoutines(VOID)
{
    for (SIZE_T Index = 0; Index < ARRAYSIZE(HostpRoutines); Index++) {
        __atomic_store_n(&HostpRoutines[Index].Available, (BOOLEAN)TRUE, __ATOMIC_RELAXED);
    }
}
