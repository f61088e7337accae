/*
 * ticker_ioctl.h - what the ticker driver and its client share: names,
 * IOCTLs and the records they exchange.
 */
#ifndef TICKER_IOCTL_H
#define TICKER_IOCTL_H

#define TICKER_SERVICE_NAME L"WdkmTicker"
#define TICKER_DEVICE_NAME  L"\\Device\\WdkmTicker"
#define TICKER_DOS_NAME     L"\\DosDevices\\WdkmTicker"
#define TICKER_USER_NAME    L"WdkmTicker"

/* In: a ULONG, the units each timer tick generates from now on (0 pauses
   the generation; the timer keeps ticking). Out (optional): a ULONG, the
   step it replaces. */
#define IOCTL_TICKER_SET_STEP \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x860, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* In: a ULONG, nonzero to make the calling handle a listener (the work
   item credits it with every batch of units it distributes), 0 to stop. */
#define IOCTL_TICKER_LISTEN \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x861, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Out: a TICKER_REPORT, the calling handle's counts in it. */
#define IOCTL_TICKER_QUERY \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x862, METHOD_BUFFERED, FILE_ANY_ACCESS)

/*
 * The driver's counts. Ticks and Generated are read together, under one
 * lock, so with the step unchanged between two queries
 * (Generated2 - Generated1) == Step * (Ticks2 - Ticks1) exactly.
 * Generated == Pending + Distributed in every report (one lock), and
 * Delivered == HeardByOpen + HeardByClosed in every report (another);
 * Booked == Distributed once the work item is idle.
 */
typedef struct _TICKER_REPORT {
    unsigned long long Ticks;         /* timer DPC runs */
    unsigned long long Generated;     /* units the DPC generated (Step per tick) */
    unsigned long long Pending;       /* generated, not yet distributed by the work item */
    unsigned long long Distributed;   /* units the work item handed out */
    unsigned long long Booked;        /* units the work item has booked to the handles */
    unsigned long long Delivered;     /* units credited to listeners (one batch x listeners) */
    unsigned long long Unheard;       /* units distributed while nobody listened */
    unsigned long long HeardByClosed; /* what handles closed since had heard */
    unsigned long long Requests;      /* IOCTLs accepted (this one included) */
    unsigned long long HeardByOpen;   /* what the handles open now have heard */
    unsigned long long HandleHeard;   /* this handle: units credited to it */
    unsigned long Step;               /* the current step */
    unsigned long StepChanges;        /* IOCTL_TICKER_SET_STEP requests served */
    unsigned long WorkItems;          /* work item runs */
    unsigned long Overruns;           /* timer DPCs skipped: the last tick still ran */
    unsigned long Handles;            /* handles open now */
    unsigned long Listening;          /* this handle: 1 if it listens */
    long PoolBlocksOutstanding;       /* library pool now */
} TICKER_REPORT;

/* REG_DWORD values left under the service key at unload. */
#define TICKER_VALUE_REQUESTS      L"UnloadRequests"
#define TICKER_VALUE_GENERATED     L"UnloadGenerated"
#define TICKER_VALUE_DISTRIBUTED   L"UnloadDistributed"
#define TICKER_VALUE_DELIVERED     L"UnloadDelivered"
#define TICKER_VALUE_HEARD         L"UnloadHeard"
#define TICKER_VALUE_OPENED        L"UnloadOpened"
#define TICKER_VALUE_CLEANED       L"UnloadCleanedUp"
#define TICKER_VALUE_CLOSED        L"UnloadClosedWithoutCleanup"
#define TICKER_VALUE_HANDLES_LEFT  L"UnloadHandlesLeft"
#define TICKER_VALUE_POOL_BLOCKS   L"UnloadPoolBlocks"
#define TICKER_VALUE_LEAK_CHECK    L"UnloadLeakCheck"

#endif /* TICKER_IOCTL_H */
