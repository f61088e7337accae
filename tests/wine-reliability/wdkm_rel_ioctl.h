/*
 * wdkm_rel_ioctl.h - the contract between the reliability driver
 * (wdkm_rel_driver.sys) and its client (wdkm_rel_runner.exe).
 *
 * Shared by kernel code (_KERNEL_MODE) and user-mode code. Fixed-size
 * structures only, the same layout on both sides.
 *
 * Device: \Device\WdkmRel, link \DosDevices\WdkmRel, opened as \\.\WdkmRel.
 * All requests are METHOD_BUFFERED:
 *
 *   IOCTL_WDKM_REL_GET_INFO  in: none               out: WDKM_REL_INFO
 *   IOCTL_WDKM_REL_SET_TAG   in: WDKM_REL_TAG       out: none
 *   IOCTL_WDKM_REL_HAMMER    in: WDKM_REL_REQUEST   out: WDKM_REL_REPLY
 *   IOCTL_WDKM_REL_QUERY     in: none               out: WDKM_REL_TOTALS
 *
 * HAMMER is one operation: every lock of WDKM_REL_LOCK_NAMES taken once,
 * its counter incremented under it. It is pended and served by the
 * driver's worker system thread number Request.Thread, because Wine 8
 * calls every dispatch routine on one thread: synchronous IOCTLs would
 * never overlap, pended ones do. A client thread must have at most one
 * HAMMER outstanding (STATUS_DEVICE_BUSY otherwise).
 *
 * SET_TAG labels the driver's unload report, one DbgPrintEx line:
 *
 *   WdkmRel: unload tag 7: pool 0 blocks 0 bytes outstanding ...
 *
 * which scripts/run-wine-reliability.sh reads back from Wine's debug log.
 */
#ifndef WDKM_REL_IOCTL_H
#define WDKM_REL_IOCTL_H

#ifdef _KERNEL_MODE
#include <ntddk.h>
#else
#include <windows.h>
#include <winioctl.h>
typedef LONG NTSTATUS;
#endif

/* Bumped whenever a structure or a code below changes meaning. */
#define WDKM_REL_INTERFACE_VERSION 1

#define WDKM_REL_DEVICE_NAME  L"\\Device\\WdkmRel"
#define WDKM_REL_DOS_NAME     L"\\DosDevices\\WdkmRel"
#define WDKM_REL_USER_NAME    L"WdkmRel"     /* \\.\WdkmRel */
#define WDKM_REL_SERVICE_NAME L"WdkmRel"

#define WDKM_REL_IOCTL(Function) \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0xA40 + (Function), METHOD_BUFFERED, \
             FILE_READ_ACCESS | FILE_WRITE_ACCESS)

#define IOCTL_WDKM_REL_GET_INFO WDKM_REL_IOCTL(0)
#define IOCTL_WDKM_REL_SET_TAG  WDKM_REL_IOCTL(1)
#define IOCTL_WDKM_REL_HAMMER   WDKM_REL_IOCTL(2)
#define IOCTL_WDKM_REL_QUERY    WDKM_REL_IOCTL(3)

/* Worker threads in the driver, so at most this many hammering clients. */
#define WDKM_REL_MAX_THREADS 8

/*
 * The locks one HAMMER operation takes, in this order. Direct locks are
 * created at DriverEntry; the registry ones are looked up by name on every
 * operation (the Grt lookup is part of what is hammered).
 */
#define WDKM_REL_LOCK_KMUTEX            0
#define WDKM_REL_LOCK_FAST_MUTEX        1
#define WDKM_REL_LOCK_SPIN              2
#define WDKM_REL_LOCK_QUEUED_SPIN       3
#define WDKM_REL_LOCK_RESOURCE          4
#define WDKM_REL_LOCK_GRT_KMUTEX        5
#define WDKM_REL_LOCK_GRT_FAST_MUTEX    6
#define WDKM_REL_LOCK_GRT_SPIN          7
#define WDKM_REL_LOCK_GRT_QUEUED_SPIN   8
#define WDKM_REL_LOCK_GRT_RESOURCE      9
#define WDKM_REL_LOCKS                  10

#define WDKM_REL_LOCK_NAMES {                                          \
    "KMUTEX", "FAST_MUTEX", "spin lock", "queued spin lock",           \
    "ERESOURCE", "registry KMUTEX", "registry FAST_MUTEX",             \
    "registry spin lock", "registry queued spin lock",                 \
    "registry ERESOURCE" }

typedef struct _WDKM_REL_INFO {
    ULONG InterfaceVersion;
    ULONG Workers;                     /* worker system threads running */
    /* The library's pool allocations counted before DriverEntry made any:
       0 for a freshly loaded image (nothing survived the last unload). */
    LONG64 PoolAllocationsAtEntry;
} WDKM_REL_INFO;

typedef struct _WDKM_REL_TAG {
    ULONG Tag;
} WDKM_REL_TAG;

typedef struct _WDKM_REL_REQUEST {
    ULONG Thread;                      /* 0 .. WDKM_REL_MAX_THREADS - 1 */
    ULONG Reserved;
    ULONG64 Sequence;                  /* echoed in the reply */
} WDKM_REL_REQUEST;

typedef struct _WDKM_REL_REPLY {
    ULONG64 Sequence;
    NTSTATUS Status;                   /* the operation's first failure, or success */
    ULONG Reserved;
} WDKM_REL_REPLY;

typedef struct _WDKM_REL_TOTALS {
    ULONG Workers;
    ULONG PeakConcurrent;              /* most workers inside an operation at once */
    ULONG64 Operations;                /* HAMMER operations completed without error */
    ULONG64 FailedOperations;
    NTSTATUS FirstFailure;             /* STATUS_SUCCESS if none */
    ULONG FirstFailureLock;            /* WDKM_REL_LOCK_* of the first failure */
    ULONG64 TornUpdates;               /* a counter's check word was wrong */
    ULONG64 KMutexTryBusy;             /* contention seen: try-acquires found it held */
    ULONG64 ResourceTryBusy;
    ULONG64 Counts[WDKM_REL_LOCKS];    /* each read under its own lock */
    ULONG64 ByThread[WDKM_REL_MAX_THREADS];   /* under the KMUTEX */
    /* The library's pool accounting while loaded. */
    ULONG PoolAllocator;               /* WDKM_POOL_ALLOCATOR */
    LONG PoolBlocks;
    LONG64 PoolBytes;
    LONG64 PoolAllocations;
} WDKM_REL_TOTALS;

#endif /* WDKM_REL_IOCTL_H */
