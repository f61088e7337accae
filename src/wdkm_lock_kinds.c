/*
 * wdkm_lock_kinds.c - from a WDKM_LOCK_KIND named at run time to the kind's
 * descriptor, for the calls that take the kind as a value: the generic
 * WdkmGrtRegister and WdkmGrtRegisterInPlace (WDKM_GRT_REGISTER,
 * WDKM_GRT_REGISTER_IN_PLACE).
 *
 * The table names every kind, so whatever links this file links every
 * kind's code and kernel imports. That is why it stands alone: a driver
 * that registers through the typed macros (WDKM_GRT_REGISTER_SPIN_LOCK,
 * ...) passes the one descriptor it needs and never reaches it.
 */
#include "wdkm_internal.h"

static const WDKMP_LOCK_KIND *const WdkmpLockKinds[] = {
    &WdkmpKMutexKind,
    &WdkmpFastMutexKind,
    &WdkmpSpinLockKind,
    &WdkmpQueuedSpinLockKind,
    &WdkmpGuardedMutexKind,
    &WdkmpResourceKind,
    &WdkmpPushLockKind,
};

#define WDKMP_LOCK_KIND_COUNT (sizeof(WdkmpLockKinds) / sizeof(WdkmpLockKinds[0]))

const WDKMP_LOCK_KIND *
WdkmpLockKindOf(
    _In_ WDKM_LOCK_KIND Kind
    )
{
    ULONG Index;

    for (Index = 0; Index < WDKMP_LOCK_KIND_COUNT; Index += 1) {
        if (WdkmpLockKinds[Index]->Kind == Kind) {
            return WdkmpLockKinds[Index];
        }
    }
    return NULL;
}

NTSTATUS
WdkmGrtRegister(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_reads_bytes_(DataSize) const VOID *InitialValue,
    _In_ SIZE_T DataSize,
    _In_ ULONG Flags
    )
{
    const WDKMP_LOCK_KIND *Descriptor = WdkmpLockKindOf(Kind);

    if (Descriptor == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmGrtRegisterKind(Name, Descriptor, InitialValue, DataSize, Flags);
}

NTSTATUS
WdkmGrtRegisterInPlace(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_ ULONG Flags
    )
{
    const WDKMP_LOCK_KIND *Descriptor = WdkmpLockKindOf(Kind);

    if (Descriptor == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmGrtRegisterInPlaceKind(Name, Descriptor, DataSize, Initialize, Context, Flags);
}

NTSTATUS
WdkmGrtRegisterInPlaceDrained(
    _In_z_ PCSTR Name,
    _In_ WDKM_LOCK_KIND Kind,
    _In_ SIZE_T DataSize,
    _In_ PWDKM_INITIALIZE_VALUE Initialize,
    _In_opt_ PVOID Context,
    _In_ PWDKM_DRAIN_VALUE Drain,
    _In_opt_ PVOID DrainContext,
    _In_ ULONG Flags
    )
{
    const WDKMP_LOCK_KIND *Descriptor = WdkmpLockKindOf(Kind);

    if (Descriptor == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    return WdkmGrtRegisterInPlaceDrainedKind(Name, Descriptor, DataSize, Initialize, Context,
                                             Drain, DrainContext, Flags);
}
