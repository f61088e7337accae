/*
 * demo_ioctl.h - what the demo driver reports to its user-mode program.
 * Shared by both sides; fixed-size structures only.
 */
#ifndef DEMO_IOCTL_H
#define DEMO_IOCTL_H

#ifdef _KERNEL_MODE
#include <ntddk.h>
#else
#include <windows.h>
#include <winioctl.h>
typedef LONG NTSTATUS;
#endif

#define DEMO_DEVICE_NAME  L"\\Device\\WdkmDemo"
#define DEMO_DOS_NAME     L"\\DosDevices\\WdkmDemo"
#define DEMO_USER_NAME    L"WdkmDemo"
#define DEMO_SERVICE_NAME L"WdkmDemo"

#define IOCTL_DEMO_QUERY \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0xA00, METHOD_BUFFERED, FILE_READ_ACCESS)

#define DEMO_WORKERS           4
#define DEMO_PACKETS_PER_WORKER 10000
#define DEMO_FLUSH_EVERY       20      /* packets between two flushes */
#define DEMO_NAME_CHARS        48
#define DEMO_ROUTE_UPDATE_EVERY 50     /* flushes between route table updates */

/* One check the driver made of its own lock use, and what it got back. */
typedef struct _DEMO_CHECK {
    CHAR What[80];
    NTSTATUS Status;
    CHAR StatusName[DEMO_NAME_CHARS];
} DEMO_CHECK;

#define DEMO_CHECKS 5

typedef struct _DEMO_REPORT {
    ULONG Workers;
    ULONG PacketsPerWorker;
    ULONG FlushEvery;
    ULONG WorkersDone;                       /* threads that finished */
    /* Under the FAST_MUTEX "traffic": updated for every packet. */
    ULONG64 Packets;
    ULONG64 Bytes;
    ULONG64 PacketsByWorker[DEMO_WORKERS];
    /* Under the KMUTEX "totals": updated at every flush (recursively). */
    ULONG64 Flushes;
    ULONG64 FlushedPackets;
    ULONG64 NestedAcquisitions;
    /* Under the ERESOURCE "routes": read shared at every flush, rewritten
       exclusively by worker 0 every DEMO_ROUTE_UPDATE_EVERY flushes. */
    ULONG64 RouteReads;
    ULONG64 RouteUpdates;
    ULONG64 RouteVersion;
    /* Under the spin lock "ticks": a periodic timer DPC. */
    ULONG64 DpcTicks;
    ULONG64 DpcTicksCountedOutside;
    /* Library figures. */
    LONG PoolBlocksOutstanding;
    ULONG PoolAllocator;                     /* WDKM_POOL_ALLOCATOR */
    ULONG TryBusySeen;                       /* try-acquires that found the lock busy */
    DEMO_CHECK Checks[DEMO_CHECKS];
} DEMO_REPORT;

#endif /* DEMO_IOCTL_H */
