/*
 * pollread_ioctl.h - what the polled-read driver and its client share:
 * names, IOCTLs and the records they exchange.
 */
#ifndef POLLREAD_IOCTL_H
#define POLLREAD_IOCTL_H

#define POLLREAD_SERVICE_NAME L"WdkmPollRead"
#define POLLREAD_DEVICE_NAME  L"\\Device\\WdkmPollRead"
#define POLLREAD_DOS_NAME     L"\\DosDevices\\WdkmPollRead"
#define POLLREAD_USER_NAME    L"WdkmPollRead"

/* Pends until the device has settled, then returns a POLLREAD_SAMPLE. */
#define IOCTL_POLLREAD_READ \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x850, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Returns a POLLREAD_REPORT at once (the calling handle's counts in it). */
#define IOCTL_POLLREAD_QUERY \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x851, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* The device stops sampling (its current request and the queued ones stay
   pending until they are cancelled, cleaned up or ended at unload). */
#define IOCTL_POLLREAD_HOLD \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x852, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* One sample: its number (1, 2, ... in the order the device gave them). */
typedef struct _POLLREAD_SAMPLE {
    unsigned long long Sequence;
    unsigned long long Retries;     /* timer retries the device needed so far */
} POLLREAD_SAMPLE;

/* The driver's counts. Every read ends as exactly one of Sampled, Cancelled. */
typedef struct _POLLREAD_REPORT {
    unsigned long long Reads;       /* IOCTL_POLLREAD_READ requests accepted */
    unsigned long long Sampled;     /* completed with a sample */
    unsigned long long Cancelled;   /* completed STATUS_CANCELLED (cancel, cleanup, unload) */
    unsigned long long Retries;     /* polls that found the device not settled yet */
    unsigned long long Ticks;       /* timer DPC runs */
    unsigned long long Credited;    /* endings the work item has booked to an open */
    unsigned long long OpenSampled; /* this handle's reads booked as sampled */
    unsigned long long OpenCancelled; /* this handle's reads booked as cancelled */
    unsigned long Opens;            /* handles open now */
    unsigned long Refused;          /* reads refused (driver stopping, no memory) */
    long PoolBlocksOutstanding;     /* library pool now */
} POLLREAD_REPORT;

/* REG_DWORD values left under the service key at unload. */
#define POLLREAD_VALUE_READS       L"UnloadReads"
#define POLLREAD_VALUE_SAMPLED     L"UnloadSampled"
#define POLLREAD_VALUE_CANCELLED   L"UnloadCancelled"
#define POLLREAD_VALUE_CREDITED    L"UnloadCredited"
#define POLLREAD_VALUE_OPENS_LEFT  L"UnloadOpensLeft"
#define POLLREAD_VALUE_POOL_BLOCKS L"UnloadPoolBlocks"
#define POLLREAD_VALUE_LEAK_CHECK  L"UnloadLeakCheck"

#endif /* POLLREAD_IOCTL_H */
