/* counter_logic.c - part of a driver, compiled here against the emulation. */
#include "counter_logic.h"

static PWDKM_KMUTEX CounterLock;

NTSTATUS CounterStart(VOID)
{
    ULONG64 Initial = 0;

    return WDKM_KMUTEX_CREATE(&Initial, &CounterLock);
}

NTSTATUS CounterAdd(ULONG Value, ULONG64 *Total)
{
    ULONG64 *Counter;
    NTSTATUS Status;

    Status = WDKM_KMUTEX_ACQUIRE(CounterLock, &Counter);
    if (!WDKM_ACQUIRED(Status)) {
        return Status;
    }
    *Counter += Value;
    *Total = *Counter;
    return WdkmKMutexRelease(CounterLock);
}

NTSTATUS CounterStop(VOID)
{
    NTSTATUS Status = WdkmKMutexDestroy(CounterLock);

    if (Status == STATUS_SUCCESS) {
        CounterLock = NULL;
    }
    return Status;
}
