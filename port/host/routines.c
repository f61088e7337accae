/*
 * routines.c - MmGetSystemRoutineAddress over a table of the emulation's
 * exports, each of which a test can hide (to play Wine 8 or an old Windows);
 * WdkmHostRoutineProfileWine8 hides at once all that Wine 8 does not export.
 */
#define _POSIX_C_SOURCE 200809L

#include <string.h>

#include "hostp.h"

typedef void (*HOSTP_ROUTINE)(void);

typedef struct _HOSTP_ROUTINE_ENTRY {
    PCSTR Name;
    HOSTP_ROUTINE Routine;
    BOOLEAN Wine8;          /* exported by Wine 8's ntoskrnl.exe or hal.dll */
    BOOLEAN Available;      /* atomic */
} HOSTP_ROUTINE_ENTRY;

#define HOSTP_EXPORT(Name) { #Name, (HOSTP_ROUTINE)Name, TRUE, TRUE }
/* Checked against the export tables of Debian 12's Wine 8 (ExInitializeFastMutex
   is inline in the WDK, so no kernel exports it on x64). */
#define HOSTP_EXPORT_NOT_WINE8(Name) { #Name, (HOSTP_ROUTINE)Name, FALSE, TRUE }

static HOSTP_ROUTINE_ENTRY HostpRoutines[] = {
    HOSTP_EXPORT_NOT_WINE8(ExAllocatePool2),
    HOSTP_EXPORT(ExAllocatePoolWithTag),
    HOSTP_EXPORT(ExFreePool),
    HOSTP_EXPORT(ExFreePoolWithTag),
    HOSTP_EXPORT_NOT_WINE8(ExInitializeFastMutex),
    HOSTP_EXPORT(ExAcquireFastMutex),
    HOSTP_EXPORT(ExReleaseFastMutex),
    HOSTP_EXPORT_NOT_WINE8(ExTryToAcquireFastMutex),
    HOSTP_EXPORT(ExAcquireFastMutexUnsafe),
    HOSTP_EXPORT(ExReleaseFastMutexUnsafe),
    HOSTP_EXPORT(KeInitializeGuardedMutex),
    HOSTP_EXPORT_NOT_WINE8(KeAcquireGuardedMutex),
    HOSTP_EXPORT_NOT_WINE8(KeReleaseGuardedMutex),
    HOSTP_EXPORT_NOT_WINE8(KeTryToAcquireGuardedMutex),
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
    HOSTP_EXPORT(KeAcquireSpinLockRaiseToDpc),
    HOSTP_EXPORT(KeReleaseSpinLock),
    HOSTP_EXPORT(KeAcquireSpinLockAtDpcLevel),
    HOSTP_EXPORT(KeReleaseSpinLockFromDpcLevel),
    HOSTP_EXPORT_NOT_WINE8(KeTryToAcquireSpinLockAtDpcLevel),
    HOSTP_EXPORT(KeAcquireInStackQueuedSpinLockAtDpcLevel),
    HOSTP_EXPORT(KeReleaseInStackQueuedSpinLockFromDpcLevel),
    HOSTP_EXPORT(ExInitializeResourceLite),
    HOSTP_EXPORT(ExDeleteResourceLite),
    HOSTP_EXPORT(ExAcquireResourceExclusiveLite),
    HOSTP_EXPORT(ExAcquireResourceSharedLite),
    HOSTP_EXPORT(ExConvertExclusiveToSharedLite),
    HOSTP_EXPORT(ExReleaseResourceLite),
    HOSTP_EXPORT(ExReleaseResourceForThreadLite),
    HOSTP_EXPORT(ExIsResourceAcquiredExclusiveLite),
    HOSTP_EXPORT(ExIsResourceAcquiredSharedLite),
    HOSTP_EXPORT(ExGetExclusiveWaiterCount),
    HOSTP_EXPORT(ExGetSharedWaiterCount),
    HOSTP_EXPORT(ExfAcquirePushLockExclusive),
    HOSTP_EXPORT(ExfAcquirePushLockShared),
    HOSTP_EXPORT_NOT_WINE8(ExfReleasePushLockExclusive),
    HOSTP_EXPORT_NOT_WINE8(ExfReleasePushLockShared),
    HOSTP_EXPORT(ExfReleasePushLock),
    HOSTP_EXPORT(KeInitializeDpc),
    HOSTP_EXPORT(KeInsertQueueDpc),
    HOSTP_EXPORT(KeRemoveQueueDpc),
    HOSTP_EXPORT(KeFlushQueuedDpcs),
    HOSTP_EXPORT(KeIsExecutingDpc),
    HOSTP_EXPORT(KeInitializeTimer),
    HOSTP_EXPORT(KeInitializeTimerEx),
    HOSTP_EXPORT(KeSetTimer),
    HOSTP_EXPORT(KeSetTimerEx),
    HOSTP_EXPORT(KeCancelTimer),
    HOSTP_EXPORT(KeReadStateTimer),
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

    if (WdkmHostpCurrent.Irql != PASSIVE_LEVEL) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)SystemRoutineName, WdkmHostpCurrent.Irql,
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
    WdkmHostSetRoutineProfile(WdkmHostRoutineProfileAll);
}

VOID WdkmHostSetRoutineProfile(WDKM_HOST_ROUTINE_PROFILE Profile)
{
    for (SIZE_T Index = 0; Index < ARRAYSIZE(HostpRoutines); Index++) {
        BOOLEAN Available = (BOOLEAN)(Profile != WdkmHostRoutineProfileWine8 ||
                                      HostpRoutines[Index].Wine8);
        __atomic_store_n(&HostpRoutines[Index].Available, Available, __ATOMIC_RELAXED);
    }
}
