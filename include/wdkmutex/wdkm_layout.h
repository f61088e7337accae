/*
 * wdkm_layout.h - PRIVATE. The lock blocks' layout, shared by the library
 * (src/) and the inline fast paths (wdkm_fastpath.h). Not part of the
 * documented API: any release may change it, and a driver must never read
 * or write these fields itself. It is a header only so that the common
 * acquire and release can be compiled into the driver's own code.
 *
 * A lock block is one pool allocation:
 *
 *     +------------------------------+  <- the pool block (Header.Slack bytes
 *     | unused                       |     before the header)
 *     +------------------------------+  <- the PWDKM_xxx handle, on a cache
 *     | WDKMP_LOCK_HEADER (48 bytes) |     line's start (WDKMP_CACHE_LINE)
 *     | kind fields + kernel object  |
 *     +------------------------------+  <- Header.Data, WDKMP_DATA_ALIGNMENT
 *     | the protected value          |
 *     +------------------------------+
 *
 * Contention moves as few cache lines as the raw lock does: in a release
 * build the header's fields every acquire and release touch (signature,
 * owner, IRQL, data pointer and size) and the kernel's lock word of the
 * spin locks, FAST_MUTEX, guarded mutex, KMUTEX and push lock share the
 * first cache line, so the next owner fetches the line the lock word is
 * on and nothing else of the library's.
 *
 * The kernel types come from the port (port/wdkm_port.h), the one place
 * that names kernel primitives; in the checked build the library adds its
 * diagnostics record (WDKMP_DIAG_LOCK, src/wdkm_diag_hooks.h) at the end
 * of the header, after every field the fast paths read.
 */
#ifndef WDKM_LAYOUT_H
#define WDKM_LAYOUT_H

#include "wdkm_kmutex.h"
#include "wdkm_fastmutex.h"
#include "wdkm_spinlock.h"
#include "wdkm_guardedmutex.h"
#include "wdkm_rwlock.h"

/*
 * The port, by one path in the tree (a forwarding header) and in an
 * installed package (the port itself): include/wdkmutex/port/.
 */
#include "port/wdkm_port.h"

/*
 * Kind signatures, checked on every entry that takes a handle: acquire and
 * release forms answer STATUS_WDKM_TYPE_MISMATCH for a handle of another
 * kind, destroy and take STATUS_INVALID_PARAMETER ("not a live lock of
 * this kind"). Overwritten when the block is freed. The signature is the
 * first word of the header, on the cache line the checks read anyway.
 */
#define WDKMP_SIGNATURE_KMUTEX     0x784D4B57UL   /* 'WKMx' */
#define WDKMP_SIGNATURE_FAST_MUTEX 0x784D4657UL   /* 'WFMx' */
#define WDKMP_SIGNATURE_SPIN_LOCK  0x784C5357UL   /* 'WSLx' */
#define WDKMP_SIGNATURE_QUEUED     0x784C5157UL   /* 'WQLx' */
#define WDKMP_SIGNATURE_GUARDED    0x784D4757UL   /* 'WGMx' */
#define WDKMP_SIGNATURE_RESOURCE   0x78535257UL   /* 'WRSx' */
#define WDKMP_SIGNATURE_PUSH_LOCK  0x784C5057UL   /* 'WPLx' */
#define WDKMP_SIGNATURE_FREED      0x64616544UL   /* 'Dead' */

/* The value is aligned as pool blocks themselves are (16 bytes on x64). */
#define WDKMP_DATA_ALIGNMENT 16

/*
 * The header starts a cache line (64 bytes on x64 and on the ARM64 cores
 * Windows runs on); pool blocks are aligned to MEMORY_ALLOCATION_ALIGNMENT
 * (16 on 64-bit targets, 8 on x86), so at most the difference goes before
 * it (wdkm_lock.c checks it).
 */
#define WDKMP_CACHE_LINE 64
#if defined(MEMORY_ALLOCATION_ALIGNMENT)
#define WDKMP_LOCK_SLACK (WDKMP_CACHE_LINE - MEMORY_ALLOCATION_ALIGNMENT)
#else
#define WDKMP_LOCK_SLACK (WDKMP_CACHE_LINE - 8)
#endif

/*
 * One symbol per layout. The inline fast paths read lock blocks at the
 * offsets of the build they are compiled in; a driver built for release
 * that links a checked library (whose header ends with its diagnostics
 * record, moving every kernel object) would acquire the wrong memory.
 * Every twin's rare path reads WdkmpLayout, which the library defines
 * under its own build's name and this file's revision: such a mix fails
 * to link instead. WDKMP_LAYOUT_REVISION changes with anything here a
 * twin compiles against (offsets, the nested-hold shards, rules such as
 * How being 0 while a lock is free), so that a driver built against one
 * release of these headers does not link with a library of another.
 */
#define WDKMP_LAYOUT_REVISION 2
#define WDKMP_LAYOUT_NAME_(Build, Revision) WdkmpLayout##Build##Revision
#define WDKMP_LAYOUT_NAME(Build, Revision) WDKMP_LAYOUT_NAME_(Build, Revision)
#if WDKM_CHECKED
#define WdkmpLayout WDKMP_LAYOUT_NAME(Checked, WDKMP_LAYOUT_REVISION)
#else
#define WdkmpLayout WDKMP_LAYOUT_NAME(Release, WDKMP_LAYOUT_REVISION)
#endif
#ifdef __cplusplus
extern "C" {
#endif
extern const volatile UCHAR WdkmpLayout;
#ifdef __cplusplus
}
#endif

typedef struct _WDKMP_LOCK_KIND WDKMP_LOCK_KIND;

typedef struct _WDKMP_LOCK_HEADER {
    ULONG Signature;
    /*
     * How the hold was taken, for the kinds that raise the IRQL; owner-only.
     * Nest: whether this hold was taken at the level the kind raises to,
     * nested in another hold of the thread, and counted (WDKMP_NEST_*,
     * WdkmpNest*). Form: WDKMP_FORM_AT_DPC if a spin lock was taken by an
     * AtDpcLevel form (its release must be the FromDpcLevel one). Both are
     * 0 for a plain hold, which the inline fast paths test as one word, and
     * 0 while the lock is free: every release leaves them so, and an
     * acquisition writes only what differs (a nested hold, an AtDpcLevel
     * form).
     */
    union {
        struct {
            UCHAR Nest;
            UCHAR Form;
        } Hold;
        USHORT HoldWord;
    } How;
    /*
     * The IRQL an exclusive acquisition left its owner at, where the
     * release must happen (WdkmpLockCheckRelease): recorded, not assumed,
     * because Wine never raises the IRQL. A KMUTEX keeps the IRQL of its
     * outermost acquisition here; the reader/writer kinds leave it 0 (they
     * are held below DISPATCH_LEVEL only). Owner-only. It also tells a DPC
     * from the thread it interrupted: at DISPATCH_LEVEL, a hold taken
     * below it is the thread's (WdkmpLockHeldHere).
     */
    KIRQL HeldIrql;
    UCHAR Slack;                     /* bytes of the pool block before the header */
    WDKMP_THREAD volatile Owner;     /* exclusive owner, written by it; NULL when free */
    PVOID Data;
    ULONG DataSize;                  /* the type size every access must match */
    LONG volatile SharedHolders;     /* shared acquisitions outstanding (reader/writer kinds) */
    const WDKMP_LOCK_KIND *Kind;     /* the kind's descriptor (release, destroy) */
    PVOID RegistryEntry;             /* the registry's entry, if it owns the lock */
#if WDKM_CHECKED
    WDKMP_DIAG_LOCK Diag;            /* class, live-lock list, statistics */
#endif
} WDKMP_LOCK_HEADER, *PWDKMP_LOCK_HEADER;

/*
 * Out-of-order releases of the kinds that raise the IRQL (wdkm_lock.c).
 * A hold taken at the level its kind raises to (APC_LEVEL for a
 * FAST_MUTEX, DISPATCH_LEVEL for a spin lock) is nested in an earlier
 * hold of the thread; its release does not lower the IRQL. The release of
 * an outer hold lowers it, which is wrong while a nested hold of the same
 * level is still there: the nested lock would be held below its level,
 * and its own release refused. The library counts nested holds per thread
 * and refuses such a release with STATUS_WDKM_LOCK_HELD, changing nothing.
 *
 * The count lives in a small table (WDKMP_NEST_SHARDS shards of
 * WDKMP_NEST_SLOTS threads, each under its own spin lock); a hold that
 * finds its shard full is not counted (Nest UNTRACKED), so an out-of-order
 * release over it is not detected. A release that does not lower (an
 * outer spin lock released with OldIrql DISPATCH_LEVEL, NT's explicit way
 * to release out of order) is never refused.
 *
 * The other way round, a nested hold's release that lowers, is right only
 * after that explicit out-of-order release (the outer lock is gone, and
 * its saved IRQL handed to the nested one); with the outer lock still
 * held it would leave that lock held below DISPATCH_LEVEL. The outer hold
 * is not recorded per thread (its pair stays at the floor), so the slot
 * counts what allows it instead: each raising hold released without
 * lowering while the thread held nested ones earns one lowering release
 * of a nested hold (Lowerable); one without it is refused.
 */
#define WDKMP_NEST_APC      0   /* level index: a FAST_MUTEX or guarded-mutex hold taken at APC_LEVEL */
#define WDKMP_NEST_DISPATCH 1   /* level index: a spin-lock hold taken at DISPATCH_LEVEL */

#define WDKMP_NEST_NONE      0  /* How.Hold.Nest: not nested; its release lowers */
#define WDKMP_NEST_TRACKED   1  /* nested and counted */
#define WDKMP_NEST_UNTRACKED 2  /* nested, the table was full */

#define WDKMP_FORM_RAISED    0  /* How.Hold.Form: taken by a form that raises the IRQL */
#define WDKMP_FORM_AT_DPC    1  /* taken by an AtDpcLevel form: it neither raised nor lowers */

#define WDKMP_NEST_SHARD_BITS 5
#define WDKMP_NEST_SHARDS (1UL << WDKMP_NEST_SHARD_BITS)
#define WDKMP_NEST_SLOTS  4

typedef struct _WDKMP_NEST_SLOT {
    WDKMP_THREAD Thread;        /* NULL: free */
    LONG Depth[2];              /* nested holds, by WDKMP_NEST_APC / _DISPATCH */
    LONG Lowerable;             /* lowering releases of nested spin-lock holds allowed */
} WDKMP_NEST_SLOT;

typedef struct _WDKMP_NEST_SHARD {
    WDKMP_SPIN_LOCK Lock;
    LONG volatile Holds;        /* counted holds in Slots: written under Lock, read without */
    WDKMP_NEST_SLOT Slots[WDKMP_NEST_SLOTS];
} WDKMP_NEST_SHARD;

/*
 * A shard on two cache lines of its own (WDKMP_NEST_SHARD_BYTES, aligned):
 * a DPC's nested spin-lock hold writes its shard, and a lowering release
 * on another processor reads its own; no two shards share a line. The
 * power-of-two size also makes a shard's address a shift of its index.
 * (A literal: MSVC's __declspec(align) takes no expression.)
 */
#define WDKMP_NEST_SHARD_BYTES 128

typedef union WDKMP_ALIGNED(128) _WDKMP_NEST_SHARD_LINES {
    WDKMP_NEST_SHARD Shard;
    UCHAR Lines[WDKMP_NEST_SHARD_BYTES];
} WDKMP_NEST_SHARD_LINES;

#ifdef __cplusplus
extern "C" {
#endif
extern WDKMP_NEST_SHARD_LINES WdkmpNestShards[WDKMP_NEST_SHARDS];
#ifdef __cplusplus
}
#endif

/*
 * The shard of a thread: Fibonacci hashing of the identity's low 32 bits
 * (identities are aligned pointers or small ids, whose low bits differ),
 * the product's top WDKMP_NEST_SHARD_BITS bits. Every lowering release
 * makes it: a multiply by an immediate, a shift and a mask before the
 * load.
 */
WDKMP_INLINE
WDKMP_NEST_SHARD *
WdkmpNestShard(
    _In_ WDKMP_THREAD Thread
    )
{
    ULONG Hash = (ULONG)(ULONG_PTR)Thread * 0x9E3779B1UL;

    return &WdkmpNestShards[Hash >> (32 - WDKMP_NEST_SHARD_BITS)].Shard;
}

/* The kinds' blocks, as far as their fast paths and files need them. */

struct _WDKM_KMUTEX {
    WDKMP_LOCK_HEADER Header;
    ULONG Depth;                /* acquisitions by the owner; owner-only */
    WDKMP_KMUTEX Mutex;
};

struct _WDKM_FAST_MUTEX {
    WDKMP_LOCK_HEADER Header;   /* HeldIrql: APC_LEVEL on Windows */
    WDKMP_FAST_MUTEX FastMutex;
};

struct _WDKM_SPIN_LOCK {
    WDKMP_LOCK_HEADER Header;   /* HeldIrql: where the acquisition left the owner;
                                   How.Hold.Form: which form took it */
    WDKMP_SPIN_LOCK SpinLock;
};

struct _WDKM_QUEUED_SPIN_LOCK {
    WDKMP_LOCK_HEADER Header;
    /*
     * The address of the hold's handle; owner-only, read only once the
     * caller is known to own the lock, and only compared, never followed.
     * A number, not a pointer: the handle is on the caller's stack, and
     * GCC's -Wdangling-pointer would call a pointer to it left in the lock
     * (by an acquisition whose release it cannot see) an error in the
     * driver's own build.
     */
    ULONG_PTR HeldBy;
    WDKMP_SPIN_LOCK SpinLock;
};

struct _WDKM_GUARDED_MUTEX {
    WDKMP_LOCK_HEADER Header;
    WDKMP_GUARDED_MUTEX Mutex;
};

struct _WDKM_RESOURCE {
    WDKMP_LOCK_HEADER Header;
    ULONG ExclusiveDepth;       /* the exclusive owner's acquisitions; owner-only */
    WDKMP_RESOURCE Resource;
};

/*
 * A push lock records no owners, so the wrapper records its shared
 * holders: each takes a reader slot (WDKMP_PUSH_LOCK_READERS of them, one
 * cache line on x64) by a compare-exchange from NULL to its thread, and
 * empties it at its release; a reader that finds them all taken is
 * counted in UntrackedReaders instead. That tells a stray shared release
 * (a thread that holds nothing) from a legitimate one, and a shared holder
 * that asks again (the kernel would deadlock), as long as no reader is
 * untracked: see WdkmPushLockRelease.
 */
#define WDKMP_PUSH_LOCK_READERS 8

struct _WDKM_PUSH_LOCK {
    WDKMP_LOCK_HEADER Header;
    WDKMP_PUSH_LOCK PushLock;   /* on the header's line */
    LONG volatile UntrackedReaders;
    WDKMP_THREAD volatile Readers[WDKMP_PUSH_LOCK_READERS];   /* NULL: free */
};

#endif /* WDKM_LAYOUT_H */
