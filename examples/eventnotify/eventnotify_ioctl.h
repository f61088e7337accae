/*
 * eventnotify_ioctl.h - what the event-notification driver and its client
 * share: names, IOCTLs, and the records they exchange.
 */
#ifndef EVENTNOTIFY_IOCTL_H
#define EVENTNOTIFY_IOCTL_H

#define EVENTNOTIFY_SERVICE_NAME L"WdkmEventNotify"
#define EVENTNOTIFY_DEVICE_NAME  L"\\Device\\WdkmEventNotify"
#define EVENTNOTIFY_DOS_NAME     L"\\DosDevices\\WdkmEventNotify"
#define EVENTNOTIFY_USER_NAME    L"WdkmEventNotify"

/* Pends until the next event, then returns an EVENTNOTIFY_EVENT. */
#define IOCTL_EVENTNOTIFY_WAIT \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x840, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Returns an EVENTNOTIFY_REPORT at once. */
#define IOCTL_EVENTNOTIFY_QUERY \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x841, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* The timer stops delivering events (requests stay pending until they
   are cancelled, cleaned up or drained at unload). */
#define IOCTL_EVENTNOTIFY_PAUSE \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x842, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* One event: its number (1, 2, ... in the order the timer raised them). */
typedef struct _EVENTNOTIFY_EVENT {
    unsigned long long Sequence;
    unsigned long long Tick;        /* the timer tick that delivered it */
} EVENTNOTIFY_EVENT;

/* The driver's counts. Each request ends in exactly one of the last four. */
typedef struct _EVENTNOTIFY_REPORT {
    unsigned long long Ticks;       /* timer DPC runs */
    unsigned long long Waits;       /* IOCTL_EVENTNOTIFY_WAIT requests queued */
    unsigned long long Notified;    /* completed with an event by the DPC */
    unsigned long long Cancelled;   /* cancelled (CancelIoEx, thread exit) */
    unsigned long long Cleaned;     /* cancelled at IRP_MJ_CLEANUP (not sent by Wine 8) */
    unsigned long long Drained;     /* cancelled by the queue's destroy at unload */
    unsigned long Pending;          /* in the queue now */
    unsigned long Refused;          /* inserts refused (queue closing) */
    long PoolBlocksOutstanding;     /* library pool now */
} EVENTNOTIFY_REPORT;

/*
 * REG_DWORD values the driver leaves under its service key at unload,
 * after every library object is gone: the final counts, the library's pool
 * still outstanding (must be 0), and WdkmDiagLeakCheck's status.
 */
#define EVENTNOTIFY_VALUE_NOTIFIED    L"UnloadNotified"
#define EVENTNOTIFY_VALUE_CANCELLED   L"UnloadCancelled"
#define EVENTNOTIFY_VALUE_CLEANED     L"UnloadCleaned"
#define EVENTNOTIFY_VALUE_DRAINED     L"UnloadDrained"
#define EVENTNOTIFY_VALUE_POOL_BLOCKS L"UnloadPoolBlocks"
#define EVENTNOTIFY_VALUE_POOL_BYTES  L"UnloadPoolBytes"
#define EVENTNOTIFY_VALUE_LEAK_CHECK  L"UnloadLeakCheck"

#endif /* EVENTNOTIFY_IOCTL_H */
