/*
 * threadq_ioctl.h - what the worker-thread driver and its client share:
 * names, IOCTLs and the records they exchange.
 */
#ifndef THREADQ_IOCTL_H
#define THREADQ_IOCTL_H

#define THREADQ_SERVICE_NAME L"WdkmThreadQ"
#define THREADQ_DEVICE_NAME  L"\\Device\\WdkmThreadQ"
#define THREADQ_DOS_NAME     L"\\DosDevices\\WdkmThreadQ"
#define THREADQ_USER_NAME    L"WdkmThreadQ"

/* A job for the driver's worker thread: in and out in one THREADQ_JOB
   (METHOD_BUFFERED). Pends until the thread has worked on it for WorkMs
   milliseconds, or until it is cancelled. */
#define IOCTL_THREADQ_JOB \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x860, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Returns a THREADQ_REPORT at once (the calling handle's counts in it). */
#define IOCTL_THREADQ_QUERY \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x861, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* The worker thread takes no new job (those queued stay pending until
   they are cancelled, cleaned up or ended at unload). */
#define IOCTL_THREADQ_PAUSE \
    CTL_CODE(FILE_DEVICE_UNKNOWN, 0x862, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* The answer is THREADQ_ANSWER(Value): the client checks that each
   request got its own answer back. */
#define THREADQ_ANSWER(Value) ((unsigned long)(Value) * 2654435761UL + 12345UL)

typedef struct _THREADQ_JOB {
    unsigned long Value;            /* in */
    unsigned long WorkMs;           /* in: how long the thread works on it */
    unsigned long Answer;           /* out: THREADQ_ANSWER(Value) */
    unsigned long Reserved;
    unsigned long long Sequence;    /* out: 1, 2, ... in the order the thread finished */
} THREADQ_JOB;

/* The driver's counts. Every job ends as exactly one of Done, Cancelled. */
typedef struct _THREADQ_REPORT {
    unsigned long long Submitted;   /* jobs accepted (queued) */
    unsigned long long Done;        /* completed with an answer */
    unsigned long long Cancelled;   /* completed STATUS_CANCELLED */
    unsigned long long Refused;     /* not queued: stopping, closed handle, bad buffer */
    unsigned long long CancelledQueued;   /* of Cancelled: by the cancel routine, queued */
    unsigned long long CancelledCurrent;  /* of Cancelled: the thread's own job, cancelled */
    unsigned long long HandedToCancel;    /* the thread lost the race: its cancel routine completed it */
    unsigned long long FileSubmitted;     /* this handle's jobs */
    unsigned long long FileDone;
    unsigned long long FileCancelled;
    unsigned long Opens;            /* handles whose context is registered now */
    unsigned long Queued;           /* jobs waiting for the thread now */
    unsigned long Busy;             /* 1 while the thread works on a job */
    long PoolBlocksOutstanding;     /* library pool now */
} THREADQ_REPORT;

/* REG_DWORD values left under the service key at unload. */
#define THREADQ_VALUE_SUBMITTED   L"UnloadSubmitted"
#define THREADQ_VALUE_DONE        L"UnloadDone"
#define THREADQ_VALUE_CANCELLED   L"UnloadCancelled"
#define THREADQ_VALUE_THREAD_EXIT L"UnloadThreadExit"
#define THREADQ_VALUE_POOL_BLOCKS L"UnloadPoolBlocks"
#define THREADQ_VALUE_LEAK_CHECK  L"UnloadLeakCheck"
#define THREADQ_VALUE_DESTROY     L"UnloadDestroy"

#endif /* THREADQ_IOCTL_H */
