/*
 * wdkm_wine_ddk.h - what Wine 8's DDK headers (libwine-dev,
 * /usr/include/wine/wine/windows/ddk) need before and after them to compile
 * kernel-mode code written against the WDK. Used only by
 * scripts/check-portability.sh, through the wdm.h / ntddk.h / ntifs.h
 * beside this file, which stand first on the include path.
 *
 * Wine's DDK headers are written for Wine's own drivers, which include
 * <windef.h> and <winternl.h> first; alone, <ddk/wdm.h> does not even know
 * ULONG. And a WDK driver relies on things Wine's headers do not declare,
 * because on x64 they are intrinsics or macros in the WDK, or simply because
 * no Wine driver uses them yet. Each item below names what is missing; every
 * declaration is the WDK's documented one. Nothing here changes a
 * declaration Wine does make.
 */
#ifndef WDKM_WINE_DDK_H
#define WDKM_WINE_DDK_H

/* Before: the types and the NTSTATUS values every DDK header assumes. */
#include <ntstatus.h>
#define WIN32_NO_STATUS         /* winnt.h must not redefine STATUS_* */
#include <windef.h>
#include <winternl.h>

#include <ddk/wdm.h>

/* IRQL levels (WDK: wdm.h). Wine's headers have none. */
#ifndef PASSIVE_LEVEL
#define PASSIVE_LEVEL 0
#endif
#ifndef LOW_LEVEL
#define LOW_LEVEL 0
#endif
#ifndef APC_LEVEL
#define APC_LEVEL 1
#endif
#ifndef DISPATCH_LEVEL
#define DISPATCH_LEVEL 2
#endif
#ifndef HIGH_LEVEL
#define HIGH_LEVEL 15
#endif

/* DbgPrintEx component of third-party drivers (WDK: dpfilter.h). */
#ifndef DPFLTR_IHVDRIVER_ID
#define DPFLTR_IHVDRIVER_ID 77
#endif

/* The performance counter (WDK: wdm.h); Wine's ntoskrnl exports it. */
LARGE_INTEGER WINAPI KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency);

/*
 * POOL_TYPE: Wine's enum stops before the Windows 8 no-execute pool types.
 * The value is the WDK's.
 */
#ifndef NonPagedPoolNx
#define NonPagedPoolNx ((POOL_TYPE)512)
#endif

/*
 * IRQL on x64 is the CR8 register: the WDK defines these as inline
 * functions reading and writing it (Wine declares none of them). Wine
 * emulates the CR8 instructions (reads answer PASSIVE_LEVEL, writes do
 * nothing). FORCEINLINE as the WDK does: Wine's FORCEINLINE is a C99
 * inline definition with external linkage.
 */
FORCEINLINE
KIRQL
KeGetCurrentIrql(void)
{
    ULONG64 Irql;

    __asm__ __volatile__("movq %%cr8, %0" : "=r"(Irql));
    return (KIRQL)Irql;
}

FORCEINLINE
KIRQL
KfRaiseIrql(KIRQL NewIrql)
{
    ULONG64 Old;
    ULONG64 New = NewIrql;

    __asm__ __volatile__("movq %%cr8, %0" : "=r"(Old));
    __asm__ __volatile__("movq %0, %%cr8" : : "r"(New) : "memory");
    return (KIRQL)Old;
}

FORCEINLINE
VOID
KeLowerIrql(KIRQL NewIrql)
{
    ULONG64 New = NewIrql;

    __asm__ __volatile__("movq %0, %%cr8" : : "r"(New) : "memory");
}

#ifndef KeRaiseIrql
#define KeRaiseIrql(NewIrql, OldIrql) (*(OldIrql) = KfRaiseIrql(NewIrql))
#endif
#ifndef KeRaiseIrqlToDpcLevel
#define KeRaiseIrqlToDpcLevel() KfRaiseIrql(DISPATCH_LEVEL)
#endif

/*
 * Exported by Wine 8's ntoskrnl.exe (and by Windows on x64) but not
 * declared by its headers.
 */
void WINAPI KeAcquireInStackQueuedSpinLock(KSPIN_LOCK *SpinLock, KLOCK_QUEUE_HANDLE *LockHandle);
void WINAPI KeReleaseInStackQueuedSpinLock(KLOCK_QUEUE_HANDLE *LockHandle);
void WINAPI KeEnterGuardedRegion(void);
void WINAPI KeLeaveGuardedRegion(void);
void WINAPI ExReleaseResourceLite(ERESOURCE *Resource);
ULONG WINAPI KeGetCurrentProcessorNumberEx(PROCESSOR_NUMBER *ProcNumber);

#endif /* WDKM_WINE_DDK_H */
