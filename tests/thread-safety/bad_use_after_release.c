/*
 * bad_use_after_release.c - MUST NOT compile under -Wthread-safety -Werror.
 *
 * The value is the lock's only while it is held. The analysis cannot
 * follow a local data pointer, but it checks every call of a helper
 * declared WDKM_REQUIRES_LOCK_HELD / WDKM_REQUIRES_SHARED_LOCK_HELD: the
 * way to make "touches the data after the release" a compile error. Each
 * "expect:" comment is a regular expression one of the errors must match;
 * there must be no other error (scripts/check-thread-safety.sh).
 */
#include <ntddk.h>
#include <wdkmutex/wdkmutex.h>

typedef struct _BAD_STATS {
    ULONG64 Packets;
    ULONG64 Bytes;
} BAD_STATS;

static VOID
BadCountPacket(_Inout_ PWDKM_KMUTEX Lock, _Inout_ BAD_STATS *Stats, _In_ ULONG Length)
    WDKM_REQUIRES_LOCK_HELD(Lock);

static VOID
BadCountPacket(_Inout_ PWDKM_KMUTEX Lock, _Inout_ BAD_STATS *Stats, _In_ ULONG Length)
{
    UNREFERENCED_PARAMETER(Lock);
    Stats->Packets += 1;
    Stats->Bytes += Length;
}

static VOID
BadResetRoutes(_Inout_ PWDKM_RESOURCE Routes, _Inout_ BAD_STATS *Table)
    WDKM_REQUIRES_LOCK_HELD(Routes);

static VOID
BadResetRoutes(_Inout_ PWDKM_RESOURCE Routes, _Inout_ BAD_STATS *Table)
{
    UNREFERENCED_PARAMETER(Routes);
    Table->Packets = 0;
}

/* The pointer outlives the hold. */
VOID
BadAfterRelease(_Inout_ PWDKM_KMUTEX Lock, _In_ ULONG Length)
{
    BAD_STATS *Stats;

    if (!WDKM_ACQUIRED(WDKM_KMUTEX_ACQUIRE(Lock, &Stats))) {
        return;
    }
    BadCountPacket(Lock, Stats, Length);
    (VOID)WdkmKMutexRelease(Lock);
    /* expect: calling function 'BadCountPacket' requires holding mutex 'Lock' exclusively */
    BadCountPacket(Lock, Stats, Length);
}

/* A writer's helper called under a shared (read) hold. */
VOID
BadWriteUnderShared(_Inout_ PWDKM_RESOURCE Routes)
{
    const BAD_STATS *Read;

    if (WDKM_ACQUIRED(WDKM_RESOURCE_ACQUIRE_SHARED(Routes, &Read))) {
        /* expect: calling function 'BadResetRoutes' requires holding mutex 'Routes' exclusively */
        BadResetRoutes(Routes, (BAD_STATS *)Read);
        (VOID)WdkmResourceRelease(Routes);
    }
}
