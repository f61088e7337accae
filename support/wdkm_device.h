/*
 * wdkm_device.h - talking to a driver's device from user mode.
 *
 * A driver that creates \Device\X and the link \DosDevices\X is reached at
 * \\.\X. Every request has a timeout: a driver that never completes an
 * IOCTL (a deadlocked test) is reported instead of hanging the caller
 * forever. Requests run on a short-lived worker thread, because Wine 8
 * completes an IOCTL to a kernel driver inside DeviceIoControl even on an
 * overlapped handle. Handles from WdkmDeviceOpen are overlapped (so that a
 * request can be cancelled on Windows).
 */
#ifndef WDKM_DEVICE_H
#define WDKM_DEVICE_H

#include "wdkm_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Opens \\.\DosName for reading and writing (DosName without the prefix,
 * e.g. L"WdkmTest"). Retries while the name does not exist yet, up to
 * TimeoutMs. *Device is INVALID_HANDLE_VALUE on failure.
 */
DWORD WdkmDeviceOpen(const WCHAR *DosName, DWORD TimeoutMs, HANDLE *Device, WDKM_ERROR *Error);

/*
 * Tries once to open \\.\DosName and closes it again. Returns ERROR_SUCCESS
 * if the device exists, otherwise CreateFileW's error (ERROR_FILE_NOT_FOUND
 * once the driver has deleted its symbolic link).
 */
DWORD WdkmDeviceProbe(const WCHAR *DosName);

/*
 * Sends an IOCTL and waits up to TimeoutMs for it to complete. *Returned
 * (optional) gets the number of output bytes. The buffers are copied, so
 * they are free to reuse on return even after a timeout: on timeout the
 * request is cancelled and, if the driver ignores the cancel, abandoned with
 * its worker thread and private copy (a small deliberate leak), and
 * ERROR_TIMEOUT is returned. The device handle stays usable only if the
 * driver can serve other requests meanwhile.
 */
DWORD WdkmDeviceIoControl(HANDLE Device, DWORD Code, const void *Input, DWORD InputSize,
                          void *Output, DWORD OutputSize, DWORD *Returned, DWORD TimeoutMs,
                          WDKM_ERROR *Error);

/* Closes *Device if open and sets it to INVALID_HANDLE_VALUE. */
void WdkmDeviceClose(HANDLE *Device);

#ifdef __cplusplus
}
#endif

#endif /* WDKM_DEVICE_H */
