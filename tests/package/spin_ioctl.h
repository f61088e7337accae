/*
 * spin_ioctl.h - what spin_driver.sys and spin_runner.exe agree on: the
 * device name and the one IOCTL (add the input count under the spin lock,
 * return the total and the library's pool figures).
 */
#ifndef SPIN_IOCTL_H
#define SPIN_IOCTL_H

#define SPIN_DEVICE_NAME L"\\Device\\WdkmPackageSpin"
#define SPIN_DOS_NAME    L"\\DosDevices\\WdkmPackageSpin"
#define SPIN_USER_NAME   L"WdkmPackageSpin"
#define SPIN_SERVICE     L"WdkmPackageSpin"

/* METHOD_BUFFERED, FILE_ANY_ACCESS, function 0x900 of FILE_DEVICE_UNKNOWN. */
#define IOCTL_SPIN_ADD 0x00222400UL
/* Function 0x901: complete with the library status given as input (a
   LONG), mapped by WdkmStatusForRequest when the second LONG is nonzero. */
#define IOCTL_SPIN_FAIL_WITH 0x00222404UL

typedef struct _SPIN_REPLY {
    unsigned long long Total;        /* the counter after this request */
    unsigned long OutstandingBlocks; /* the library's live pool blocks */
    unsigned long Pad;
} SPIN_REPLY;

#endif /* SPIN_IOCTL_H */
