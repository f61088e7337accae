/* counter_logic.h - a driver's counter under a KMUTEX (code under test). */
#ifndef COUNTER_LOGIC_H
#define COUNTER_LOGIC_H

#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

NTSTATUS CounterStart(VOID);
NTSTATUS CounterAdd(ULONG Value, ULONG64 *Total);
NTSTATUS CounterStop(VOID);

#endif
