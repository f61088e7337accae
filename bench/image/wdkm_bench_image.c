/*
 * wdkm_bench_image.c - what one lock kind costs in a driver's image
 * (bench/README.md, "Image cost per kind").
 *
 * Built once per kind, with WDKM_BENCH_IMAGE_KIND naming it, into a tiny
 * driver that uses only that kind: create, acquire, touch the value,
 * release, destroy, in DriverEntry. Built once more with
 * WDKM_BENCH_IMAGE_KIND 0, the raw baseline: the same driver without the
 * library. scripts/bench.sh measures the images (sections and imports);
 * the drivers are never loaded.
 */
#include <ntddk.h>

#define WDKM_BENCH_IMAGE_RAW              0
#define WDKM_BENCH_IMAGE_KMUTEX           1
#define WDKM_BENCH_IMAGE_FAST_MUTEX       2
#define WDKM_BENCH_IMAGE_SPIN_LOCK        3
#define WDKM_BENCH_IMAGE_QUEUED_SPIN_LOCK 4
#define WDKM_BENCH_IMAGE_GUARDED_MUTEX    5
#define WDKM_BENCH_IMAGE_RESOURCE         6
#define WDKM_BENCH_IMAGE_PUSH_LOCK        7

#if WDKM_BENCH_IMAGE_KIND != WDKM_BENCH_IMAGE_RAW
#include <wdkmutex/wdkmutex.h>
#endif

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD WdkmBenchImageUnload;

/* What every kind protects. volatile: the touch is not optimised away. */
typedef struct _WDKM_BENCH_IMAGE_VALUE {
    ULONG64 Count;
} WDKM_BENCH_IMAGE_VALUE;

static volatile ULONG64 WdkmBenchImageSink;

static
VOID
WdkmBenchImageUnload(
    _In_ PDRIVER_OBJECT DriverObject
    )
{
    UNREFERENCED_PARAMETER(DriverObject);
}

/* One pair through the kind (or nothing, for the raw baseline). */
static
NTSTATUS
WdkmBenchImageUse(
    VOID
    )
{
#if WDKM_BENCH_IMAGE_KIND == WDKM_BENCH_IMAGE_RAW
    return STATUS_SUCCESS;
#else
    static const WDKM_BENCH_IMAGE_VALUE Initial = { 0 };
    WDKM_BENCH_IMAGE_VALUE *Value = NULL;
    NTSTATUS Status;
#if WDKM_BENCH_IMAGE_KIND == WDKM_BENCH_IMAGE_KMUTEX
    PWDKM_KMUTEX Lock;

    Status = WDKM_KMUTEX_CREATE(&Initial, &Lock);
    if (Status == STATUS_SUCCESS && WDKM_KMUTEX_ACQUIRE(Lock, &Value) == STATUS_SUCCESS) {
        Value->Count += 1;
        WdkmBenchImageSink = Value->Count;
        (VOID)WdkmKMutexRelease(Lock);
    }
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmKMutexDestroy(Lock);
    }
#elif WDKM_BENCH_IMAGE_KIND == WDKM_BENCH_IMAGE_FAST_MUTEX
    PWDKM_FAST_MUTEX Lock;

    Status = WDKM_FAST_MUTEX_CREATE(&Initial, &Lock);
    if (Status == STATUS_SUCCESS && WDKM_FAST_MUTEX_ACQUIRE(Lock, &Value) == STATUS_SUCCESS) {
        Value->Count += 1;
        WdkmBenchImageSink = Value->Count;
        (VOID)WdkmFastMutexRelease(Lock);
    }
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmFastMutexDestroy(Lock);
    }
#elif WDKM_BENCH_IMAGE_KIND == WDKM_BENCH_IMAGE_SPIN_LOCK
    PWDKM_SPIN_LOCK Lock;
    KIRQL OldIrql;

    Status = WDKM_SPIN_LOCK_CREATE(&Initial, &Lock);
    if (Status == STATUS_SUCCESS &&
        WDKM_SPIN_LOCK_ACQUIRE(Lock, &OldIrql, &Value) == STATUS_SUCCESS) {
        Value->Count += 1;
        WdkmBenchImageSink = Value->Count;
        (VOID)WdkmSpinLockRelease(Lock, OldIrql);
    }
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmSpinLockDestroy(Lock);
    }
#elif WDKM_BENCH_IMAGE_KIND == WDKM_BENCH_IMAGE_QUEUED_SPIN_LOCK
    PWDKM_QUEUED_SPIN_LOCK Lock;
    WDKM_LOCK_QUEUE_HANDLE Handle;

    Status = WDKM_QUEUED_SPIN_LOCK_CREATE(&Initial, &Lock);
    if (Status == STATUS_SUCCESS &&
        WDKM_QUEUED_SPIN_LOCK_ACQUIRE(Lock, &Handle, &Value) == STATUS_SUCCESS) {
        Value->Count += 1;
        WdkmBenchImageSink = Value->Count;
        (VOID)WdkmQueuedSpinLockRelease(&Handle);
    }
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmQueuedSpinLockDestroy(Lock);
    }
#elif WDKM_BENCH_IMAGE_KIND == WDKM_BENCH_IMAGE_GUARDED_MUTEX
    PWDKM_GUARDED_MUTEX Lock;

    Status = WDKM_GUARDED_MUTEX_CREATE(&Initial, &Lock);
    if (Status == STATUS_SUCCESS &&
        WDKM_GUARDED_MUTEX_ACQUIRE(Lock, &Value) == STATUS_SUCCESS) {
        Value->Count += 1;
        WdkmBenchImageSink = Value->Count;
        (VOID)WdkmGuardedMutexRelease(Lock);
    }
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmGuardedMutexDestroy(Lock);
    }
#elif WDKM_BENCH_IMAGE_KIND == WDKM_BENCH_IMAGE_RESOURCE
    PWDKM_RESOURCE Lock;

    Status = WDKM_RESOURCE_CREATE(&Initial, &Lock);
    if (Status == STATUS_SUCCESS &&
        WDKM_RESOURCE_ACQUIRE_EXCLUSIVE(Lock, &Value) == STATUS_SUCCESS) {
        Value->Count += 1;
        WdkmBenchImageSink = Value->Count;
        (VOID)WdkmResourceRelease(Lock);
    }
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmResourceDestroy(Lock);
    }
#elif WDKM_BENCH_IMAGE_KIND == WDKM_BENCH_IMAGE_PUSH_LOCK
    PWDKM_PUSH_LOCK Lock;

    Status = WDKM_PUSH_LOCK_CREATE(&Initial, &Lock);
    if (Status == STATUS_SUCCESS &&
        WDKM_PUSH_LOCK_ACQUIRE_EXCLUSIVE(Lock, &Value) == STATUS_SUCCESS) {
        Value->Count += 1;
        WdkmBenchImageSink = Value->Count;
        (VOID)WdkmPushLockRelease(Lock);
    }
    if (Status == STATUS_SUCCESS) {
        (VOID)WdkmPushLockDestroy(Lock);
    }
#else
#error "WDKM_BENCH_IMAGE_KIND: unknown kind"
#endif
    return Status;
#endif
}

NTSTATUS
DriverEntry(
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath
    )
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = WdkmBenchImageUnload;
    return WdkmBenchImageUse();
}
