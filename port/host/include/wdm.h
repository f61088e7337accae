/*
 * wdm.h - user-mode emulation of the NT kernel interface (host builds only).
 *
 * This header stands in for the WDK's <wdm.h> when kernel code is compiled
 * for Linux with -Iport/host/include and linked with wdkm_hostkernel. It
 * declares the subset of the kernel API that wdkmutex and its users need,
 * with the WDK's names, types, signatures, status values and bug check codes.
 *
 * What the emulation checks (each violation raises a simulated bug check
 * with the real code, see wdkm_host.h to observe one):
 *   - IRQL is per thread and starts at PASSIVE_LEVEL; raising to a lower or
 *     lowering to a higher IRQL, waiting at DISPATCH_LEVEL with a non-zero
 *     timeout, allocating or freeing pool at too high an IRQL;
 *   - KMUTEX ownership, recursion and release; FAST_MUTEX and guarded mutex
 *     ownership, recursion and IRQL; spin lock ownership;
 *   - ERESOURCE and push lock IRQL, APC state, ownership and self-deadlock;
 *     ERESOURCE initialisation and deletion;
 *   - DPC routines that return at another IRQL or APC state;
 *   - unbalanced critical and guarded regions; pool tag mismatches, double
 *     frees, frees of pointers that are not pool blocks, and frees of pool
 *     that still holds a live ERESOURCE, a set timer or a queued DPC.
 *
 * Host differences that can matter to portable code:
 *   - WCHAR is wchar_t (4 bytes on Linux) so that L"" literals work;
 *     UNICODE_STRING lengths are still in bytes, so code that uses
 *     sizeof(WCHAR) is portable and code that assumes 2 is not.
 *   - ULONG_PTR and SIZE_T are uintptr_t; LONG is 32 bits as on Windows.
 *   - SAL and driver annotations come from the emulation's own <sal.h>
 *     and <driverspecs.h>, defined empty (as mingw-w64's are), so driver
 *     code that writes them compiles here unchanged; nothing checks them.
 *   - IRQL masks only injected events: unless a test turns interrupt
 *     injection on (wdkm_host.h), there are no interrupts or kernel APCs;
 *     threads are ordinary, preemptible pthreads at every IRQL. DPCs and
 *     timer expiry run one at a time on one emulation thread (started on
 *     first use, joined at exit), at DISPATCH_LEVEL, so a DPC never
 *     preempts the thread that queued it.
 *   - An absolute wait timeout is turned into an interval once, when the
 *     wait starts; later changes of the wall clock are not followed.
 *   - The Wait argument of KeSetEvent/KeReleaseMutex is ignored (NT would
 *     hold the dispatcher lock until the caller's next wait).
 *   - In-stack queued spin locks share the plain lock word: no FIFO order.
 *   - PAGED_CODE() checks the IRQL in every build, not only with DBG.
 *   - Where NT would deadlock (re-acquiring a FAST_MUTEX, guarded mutex or
 *     push lock, a shared ERESOURCE owner waiting for exclusive) or raise an
 *     exception nobody handles, a bug check is raised instead.
 *   - ERESOURCE and push lock waiters are served in arrival order and the
 *     releaser hands the lock over; push locks remember their owners in a
 *     side table keyed by the lock's address (the word itself still reads
 *     0 when free).
 */
#ifndef WDKM_HOST_WDM_H
#define WDKM_HOST_WDM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sal.h>
#include <driverspecs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/* Calling conventions and declaration helpers                             */
/* ---------------------------------------------------------------------- */

#define NTAPI
#define FASTCALL
#define NTKERNELAPI
#define NTSYSAPI
#define NTHALAPI
#define DECLSPEC_IMPORT

#if defined(__GNUC__)
#define DECLSPEC_NORETURN __attribute__((__noreturn__))
/* Like mingw-w64: always inlined, never emitted as an out-of-line copy. */
#define FORCEINLINE extern __inline__ __attribute__((__always_inline__, __gnu_inline__))
#define WDKM_HOSTP_EXTENSION __extension__
#define WDKM_HOSTP_PRINTF(FormatIndex, FirstArgument) \
    __attribute__((__format__(__printf__, FormatIndex, FirstArgument)))
#else
#define DECLSPEC_NORETURN
#define FORCEINLINE static inline
#define WDKM_HOSTP_EXTENSION
#define WDKM_HOSTP_PRINTF(FormatIndex, FirstArgument)
#endif

/* The emulation's own inline helpers: static, so every translation unit
   gets a private copy and C and C++ agree on linkage. */
#define WDKM_HOSTP_INLINE static inline

#define UNREFERENCED_PARAMETER(P) ((void)(P))
#define FIELD_OFFSET(Type, Field) ((LONG)offsetof(Type, Field))
/* Through void *: the result is as aligned as Type, which -Wcast-align cannot know. */
#define CONTAINING_RECORD(Address, Type, Field) \
    ((Type *)(void *)((PCHAR)(Address) - offsetof(Type, Field)))
#define ARRAYSIZE(A) (sizeof(A) / sizeof((A)[0]))
#define RTL_NUMBER_OF(A) ARRAYSIZE(A)

/* ---------------------------------------------------------------------- */
/* Basic types                                                             */
/* ---------------------------------------------------------------------- */

#ifndef VOID
#define VOID void
#endif
typedef void *PVOID, **PPVOID;
typedef char CHAR, CCHAR, *PCHAR, *PSTR;
typedef const char *PCSTR, *PCCH;
typedef unsigned char UCHAR, *PUCHAR;
typedef short SHORT, *PSHORT;
typedef unsigned short USHORT, *PUSHORT;
typedef int LONG, *PLONG;
typedef unsigned int ULONG, *PULONG;
typedef long long LONGLONG, *PLONGLONG;
typedef unsigned long long ULONGLONG, *PULONGLONG;
typedef long long LONG64, *PLONG64;
typedef unsigned long long ULONG64, *PULONG64;
typedef intptr_t LONG_PTR, *PLONG_PTR;
typedef uintptr_t ULONG_PTR, *PULONG_PTR;
typedef ULONG_PTR SIZE_T, *PSIZE_T;
typedef UCHAR BOOLEAN, *PBOOLEAN;
typedef wchar_t WCHAR, *PWCHAR, *PWSTR;
typedef const wchar_t *PCWSTR;
typedef ULONG LOGICAL, *PLOGICAL;
typedef LONG NTSTATUS, *PNTSTATUS;
typedef PVOID HANDLE, *PHANDLE;
typedef ULONG ACCESS_MASK, *PACCESS_MASK;
typedef LONG KPRIORITY;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

#define MAXLONG 0x7fffffff
#define MINLONG (-MAXLONG - 1)
#define MAXULONG 0xffffffffU
#define MAXUSHORT 0xffff

typedef union _LARGE_INTEGER {
    WDKM_HOSTP_EXTENSION struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    WDKM_HOSTP_EXTENSION struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

/* ---------------------------------------------------------------------- */
/* Status values (ntstatus.h)                                              */
/* ---------------------------------------------------------------------- */

#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)

#define STATUS_SUCCESS                   ((NTSTATUS)0x00000000L)
#define STATUS_WAIT_0                    ((NTSTATUS)0x00000000L)
#define STATUS_ABANDONED                 ((NTSTATUS)0x00000080L)
#define STATUS_ABANDONED_WAIT_0          ((NTSTATUS)0x00000080L)
#define STATUS_USER_APC                  ((NTSTATUS)0x000000C0L)
#define STATUS_KERNEL_APC                ((NTSTATUS)0x00000100L)
#define STATUS_ALERTED                   ((NTSTATUS)0x00000101L)
#define STATUS_TIMEOUT                   ((NTSTATUS)0x00000102L)
#define STATUS_PENDING                   ((NTSTATUS)0x00000103L)
#define STATUS_BUFFER_OVERFLOW           ((NTSTATUS)0x80000005L)
#define STATUS_DEVICE_BUSY               ((NTSTATUS)0x80000011L)
#define STATUS_UNSUCCESSFUL              ((NTSTATUS)0xC0000001L)
#define STATUS_NOT_IMPLEMENTED           ((NTSTATUS)0xC0000002L)
#define STATUS_INVALID_HANDLE            ((NTSTATUS)0xC0000008L)
#define STATUS_INVALID_PARAMETER         ((NTSTATUS)0xC000000DL)
#define STATUS_INVALID_DEVICE_REQUEST    ((NTSTATUS)0xC0000010L)
#define STATUS_NO_MEMORY                 ((NTSTATUS)0xC0000017L)
#define STATUS_ACCESS_DENIED             ((NTSTATUS)0xC0000022L)
#define STATUS_BUFFER_TOO_SMALL          ((NTSTATUS)0xC0000023L)
#define STATUS_OBJECT_TYPE_MISMATCH      ((NTSTATUS)0xC0000024L)
#define STATUS_OBJECT_NAME_INVALID       ((NTSTATUS)0xC0000033L)
#define STATUS_OBJECT_NAME_NOT_FOUND     ((NTSTATUS)0xC0000034L)
#define STATUS_OBJECT_NAME_COLLISION     ((NTSTATUS)0xC0000035L)
#define STATUS_MUTANT_NOT_OWNED          ((NTSTATUS)0xC0000046L)
#define STATUS_DELETE_PENDING            ((NTSTATUS)0xC0000056L)
#define STATUS_INTEGER_OVERFLOW          ((NTSTATUS)0xC0000095L)
#define STATUS_INSUFFICIENT_RESOURCES    ((NTSTATUS)0xC000009AL)
#define STATUS_DEVICE_NOT_READY          ((NTSTATUS)0xC00000A3L)
#define STATUS_NOT_SUPPORTED             ((NTSTATUS)0xC00000BBL)
#define STATUS_INTERNAL_ERROR            ((NTSTATUS)0xC00000E5L)
#define STATUS_NAME_TOO_LONG             ((NTSTATUS)0xC0000106L)
#define STATUS_CANCELLED                 ((NTSTATUS)0xC0000120L)
#define STATUS_FILE_CLOSED               ((NTSTATUS)0xC0000128L)
#define STATUS_INVALID_DEVICE_STATE      ((NTSTATUS)0xC0000184L)
#define STATUS_MUTANT_LIMIT_EXCEEDED     ((NTSTATUS)0xC0000191L)
#define STATUS_POSSIBLE_DEADLOCK         ((NTSTATUS)0xC0000194L)
#define STATUS_ASSERTION_FAILURE         ((NTSTATUS)0xC0000420L)

/* ---------------------------------------------------------------------- */
/* Bug check codes (bugcodes.h)                                            */
/* ---------------------------------------------------------------------- */

#define APC_INDEX_MISMATCH                  0x00000001
#define IRQL_NOT_GREATER_OR_EQUAL           0x00000009
#define IRQL_NOT_LESS_OR_EQUAL              0x0000000A
#define SPIN_LOCK_ALREADY_OWNED             0x0000000F
#define SPIN_LOCK_NOT_OWNED                 0x00000010
#define THREAD_NOT_MUTEX_OWNER              0x00000011
#define REFERENCE_BY_POINTER                0x00000018
#define KMODE_EXCEPTION_NOT_HANDLED         0x0000001E
#define INVALID_KERNEL_HANDLE               0x00000093
#define MUTEX_ALREADY_OWNED                 0x000000BF
#define BAD_POOL_CALLER                     0x000000C2
#define DRIVER_VERIFIER_DETECTED_VIOLATION  0x000000C4
#define TIMER_OR_DPC_INVALID                0x000000C7
#define RESOURCE_NOT_OWNED                  0x000000E3
#define IRQL_UNEXPECTED_VALUE               0x000000C8
#define KERNEL_SECURITY_CHECK_FAILURE       0x00000139

/* ---------------------------------------------------------------------- */
/* IRQL, processor mode, wait reasons                                      */
/* ---------------------------------------------------------------------- */

typedef UCHAR KIRQL, *PKIRQL;

#define PASSIVE_LEVEL   0
#define LOW_LEVEL       0
#define APC_LEVEL       1
#define DISPATCH_LEVEL  2
#define CMCI_LEVEL      5
#define CLOCK_LEVEL     13
#define IPI_LEVEL       14
#define DRS_LEVEL       14
#define POWER_LEVEL     14
#define PROFILE_LEVEL   15
#define HIGH_LEVEL      15

typedef CCHAR KPROCESSOR_MODE;
typedef enum _MODE { KernelMode, UserMode, MaximumMode } MODE;

typedef enum _KWAIT_REASON {
    Executive,
    FreePage,
    PageIn,
    PoolAllocation,
    DelayExecution,
    Suspended,
    UserRequest,
    WrExecutive,
    WrFreePage,
    WrPageIn,
    WrPoolAllocation,
    WrDelayExecution,
    WrSuspended,
    WrUserRequest,
    MaximumWaitReason = 41
} KWAIT_REASON;

/* ---------------------------------------------------------------------- */
/* Doubly linked lists (inline, with the WDK's corruption checks)          */
/* ---------------------------------------------------------------------- */

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY, *PRLIST_ENTRY;

typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

DECLSPEC_NORETURN VOID NTAPI KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR BugCheckParameter1,
                                          ULONG_PTR BugCheckParameter2,
                                          ULONG_PTR BugCheckParameter3,
                                          ULONG_PTR BugCheckParameter4);

/* FAST_FAIL_CORRUPT_LIST_ENTRY, as the WDK's list helpers raise it. */
#define WDKM_HOSTP_CORRUPT_LIST_ENTRY 3

WDKM_HOSTP_INLINE VOID WdkmHostpListCorrupt(PLIST_ENTRY Entry)
{
    KeBugCheckEx(KERNEL_SECURITY_CHECK_FAILURE, WDKM_HOSTP_CORRUPT_LIST_ENTRY,
                 (ULONG_PTR)Entry, 0, 0);
}

WDKM_HOSTP_INLINE VOID InitializeListHead(PLIST_ENTRY ListHead)
{
    ListHead->Flink = ListHead->Blink = ListHead;
}

WDKM_HOSTP_INLINE BOOLEAN IsListEmpty(const LIST_ENTRY *ListHead)
{
    return (BOOLEAN)(ListHead->Flink == ListHead);
}

/* Returns TRUE when the list became empty. */
WDKM_HOSTP_INLINE BOOLEAN RemoveEntryList(PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = Entry->Flink;
    PLIST_ENTRY Blink = Entry->Blink;
    if (Flink->Blink != Entry || Blink->Flink != Entry) {
        WdkmHostpListCorrupt(Entry);
    }
    Blink->Flink = Flink;
    Flink->Blink = Blink;
    return (BOOLEAN)(Flink == Blink);
}

WDKM_HOSTP_INLINE PLIST_ENTRY RemoveHeadList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Flink;
    RemoveEntryList(Entry);
    return Entry;
}

WDKM_HOSTP_INLINE PLIST_ENTRY RemoveTailList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Blink;
    RemoveEntryList(Entry);
    return Entry;
}

WDKM_HOSTP_INLINE VOID InsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY Blink = ListHead->Blink;
    if (Blink->Flink != ListHead) {
        WdkmHostpListCorrupt(ListHead);
    }
    Entry->Flink = ListHead;
    Entry->Blink = Blink;
    Blink->Flink = Entry;
    ListHead->Blink = Entry;
}

WDKM_HOSTP_INLINE VOID InsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = ListHead->Flink;
    if (Flink->Blink != ListHead) {
        WdkmHostpListCorrupt(ListHead);
    }
    Entry->Flink = Flink;
    Entry->Blink = ListHead;
    Flink->Blink = Entry;
    ListHead->Flink = Entry;
}

/* ---------------------------------------------------------------------- */
/* Memory and interlocked operations                                       */
/* ---------------------------------------------------------------------- */

#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define RtlFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define RtlMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define RtlEqualMemory(Destination, Source, Length) (!memcmp((Destination), (Source), (Length)))

/* Returns how many leading bytes of the two blocks are equal. */
WDKM_HOSTP_INLINE SIZE_T RtlCompareMemory(const VOID *Source1, const VOID *Source2, SIZE_T Length)
{
    const UCHAR *Left = (const UCHAR *)Source1;
    const UCHAR *Right = (const UCHAR *)Source2;
    SIZE_T Index = 0;
    while (Index < Length && Left[Index] == Right[Index]) {
        Index++;
    }
    return Index;
}

/* Every Interlocked* is a sequentially consistent __atomic builtin, and the
   NoFence/Acquire/Release accessors are real atomics of the named order,
   so ThreadSanitizer sees exactly what the kernel code claims. */

WDKM_HOSTP_INLINE LONG InterlockedIncrement(LONG volatile *Addend)
{
    return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG InterlockedDecrement(LONG volatile *Addend)
{
    return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG InterlockedExchange(LONG volatile *Target, LONG Value)
{
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG InterlockedExchangeAdd(LONG volatile *Addend, LONG Value)
{
    return __atomic_fetch_add(Addend, Value, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG InterlockedCompareExchange(LONG volatile *Destination, LONG ExChange,
                                                  LONG Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, ExChange, 0, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    return Comparand;
}

WDKM_HOSTP_INLINE LONG InterlockedOr(LONG volatile *Destination, LONG Value)
{
    return __atomic_fetch_or(Destination, Value, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG InterlockedAnd(LONG volatile *Destination, LONG Value)
{
    return __atomic_fetch_and(Destination, Value, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG InterlockedXor(LONG volatile *Destination, LONG Value)
{
    return __atomic_fetch_xor(Destination, Value, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG64 InterlockedIncrement64(LONG64 volatile *Addend)
{
    return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG64 InterlockedDecrement64(LONG64 volatile *Addend)
{
    return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG64 InterlockedExchange64(LONG64 volatile *Target, LONG64 Value)
{
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG64 InterlockedExchangeAdd64(LONG64 volatile *Addend, LONG64 Value)
{
    return __atomic_fetch_add(Addend, Value, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG64 InterlockedCompareExchange64(LONG64 volatile *Destination,
                                                      LONG64 ExChange, LONG64 Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, ExChange, 0, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    return Comparand;
}

WDKM_HOSTP_INLINE LONG64 InterlockedOr64(LONG64 volatile *Destination, LONG64 Value)
{
    return __atomic_fetch_or(Destination, Value, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE LONG64 InterlockedAnd64(LONG64 volatile *Destination, LONG64 Value)
{
    return __atomic_fetch_and(Destination, Value, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE PVOID InterlockedExchangePointer(PVOID volatile *Target, PVOID Value)
{
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}

WDKM_HOSTP_INLINE PVOID InterlockedCompareExchangePointer(PVOID volatile *Destination,
                                                          PVOID ExChange, PVOID Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, ExChange, 0, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    return Comparand;
}

WDKM_HOSTP_INLINE LONG ReadNoFence(LONG const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_RELAXED);
}

WDKM_HOSTP_INLINE VOID WriteNoFence(LONG volatile *Destination, LONG Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELAXED);
}

WDKM_HOSTP_INLINE LONG ReadAcquire(LONG const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_ACQUIRE);
}

WDKM_HOSTP_INLINE VOID WriteRelease(LONG volatile *Destination, LONG Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELEASE);
}

WDKM_HOSTP_INLINE LONG64 ReadNoFence64(LONG64 const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_RELAXED);
}

WDKM_HOSTP_INLINE VOID WriteNoFence64(LONG64 volatile *Destination, LONG64 Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELAXED);
}

WDKM_HOSTP_INLINE LONG64 ReadAcquire64(LONG64 const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_ACQUIRE);
}

WDKM_HOSTP_INLINE VOID WriteRelease64(LONG64 volatile *Destination, LONG64 Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELEASE);
}

WDKM_HOSTP_INLINE PVOID ReadPointerNoFence(PVOID const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_RELAXED);
}

WDKM_HOSTP_INLINE VOID WritePointerNoFence(PVOID volatile *Destination, PVOID Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELAXED);
}

WDKM_HOSTP_INLINE PVOID ReadPointerAcquire(PVOID const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_ACQUIRE);
}

WDKM_HOSTP_INLINE VOID WritePointerRelease(PVOID volatile *Destination, PVOID Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELEASE);
}

#if defined(__SANITIZE_THREAD__)
#define WDKM_HOSTP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WDKM_HOSTP_TSAN 1
#endif
#endif

/* A full barrier. ThreadSanitizer does not model fences (and gcc warns
   about them), so under it a sequentially consistent exchange stands in. */
WDKM_HOSTP_INLINE VOID KeMemoryBarrier(VOID)
{
#ifdef WDKM_HOSTP_TSAN
    LONG volatile Barrier = 0;
    __atomic_exchange_n(&Barrier, 0, __ATOMIC_SEQ_CST);
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

#define KeMemoryBarrierWithoutFence() __atomic_signal_fence(__ATOMIC_SEQ_CST)

WDKM_HOSTP_INLINE VOID YieldProcessor(VOID)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

/* ---------------------------------------------------------------------- */
/* Strings and objects                                                     */
/* ---------------------------------------------------------------------- */

typedef struct _UNICODE_STRING {
    USHORT Length;          /* bytes, without a terminator */
    USHORT MaximumLength;   /* bytes */
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

#define RTL_CONSTANT_STRING(String) \
    { (USHORT)(sizeof(String) - sizeof((String)[0])), (USHORT)sizeof(String), (PWSTR)(String) }

/* Points Destination at Source (not copied); NULL gives an empty string. */
NTSYSAPI VOID NTAPI RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString);

typedef struct _OBJECT_ATTRIBUTES {
    ULONG Length;
    HANDLE RootDirectory;
    PUNICODE_STRING ObjectName;
    ULONG Attributes;
    PVOID SecurityDescriptor;
    PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;

#define OBJ_INHERIT         0x00000002L
#define OBJ_CASE_INSENSITIVE 0x00000040L
#define OBJ_KERNEL_HANDLE   0x00000200L

#define InitializeObjectAttributes(p, n, a, r, s) \
    do {                                          \
        (p)->Length = sizeof(OBJECT_ATTRIBUTES);  \
        (p)->RootDirectory = (r);                 \
        (p)->Attributes = (a);                    \
        (p)->ObjectName = (n);                    \
        (p)->SecurityDescriptor = (s);            \
        (p)->SecurityQualityOfService = NULL;     \
    } while (0)

typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;

typedef struct _OBJECT_TYPE *POBJECT_TYPE;
extern POBJECT_TYPE *PsThreadType;

#define SYNCHRONIZE        0x00100000L
#define STANDARD_RIGHTS_REQUIRED 0x000F0000L
#define THREAD_ALL_ACCESS  (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF)

#define NtCurrentThread() ((HANDLE)(LONG_PTR)-2)
#define ZwCurrentThread() NtCurrentThread()
#define NtCurrentProcess() ((HANDLE)(LONG_PTR)-1)
#define ZwCurrentProcess() NtCurrentProcess()

/* ---------------------------------------------------------------------- */
/* Dispatcher objects                                                      */
/* ---------------------------------------------------------------------- */

typedef struct _DISPATCHER_HEADER {
    UCHAR Type;             /* event, mutant or thread */
    UCHAR Signalling;
    UCHAR Size;
    UCHAR Reserved1;
    LONG SignalState;
    LIST_ENTRY WaitListHead;
} DISPATCHER_HEADER, *PDISPATCHER_HEADER;

typedef struct _KTHREAD *PKTHREAD, *PRKTHREAD;
typedef struct _ETHREAD *PETHREAD;  /* the same object as its KTHREAD */

typedef enum _EVENT_TYPE { NotificationEvent, SynchronizationEvent } EVENT_TYPE;

typedef struct _KEVENT {
    DISPATCHER_HEADER Header;
} KEVENT, *PKEVENT, *PRKEVENT;

typedef struct _KMUTANT {
    DISPATCHER_HEADER Header;
    LIST_ENTRY MutantListEntry;     /* in the owner's list of mutexes */
    struct _KTHREAD *OwnerThread;
    BOOLEAN Abandoned;
    UCHAR ApcDisable;
} KMUTANT, *PKMUTANT, *PRKMUTANT, KMUTEX, *PKMUTEX, *PRKMUTEX;

typedef struct _FAST_MUTEX {
    LONG volatile Count;            /* bit 0: free; bit 1: waiter woken; 4 per waiter */
    PVOID Owner;
    ULONG Contention;
    KEVENT Event;
    ULONG OldIrql;
} FAST_MUTEX, *PFAST_MUTEX;

typedef struct _KGUARDED_MUTEX {
    LONG volatile Count;
    PKTHREAD Owner;
    ULONG Contention;
    KEVENT Gate;
    ULONG CombinedApcDisable;
} KGUARDED_MUTEX, *PKGUARDED_MUTEX;

typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;

/* Executive resource. Fields follow NT's where they mean the same; the
   wait lists are the emulation's. Guarded by the emulation's dispatcher
   lock: read them only through the Ex* routines. */
typedef ULONG_PTR ERESOURCE_THREAD, *PERESOURCE_THREAD;

typedef struct _OWNER_ENTRY {
    ERESOURCE_THREAD OwnerThread;   /* 0: free entry */
    ULONG OwnerCount;               /* recursion depth */
} OWNER_ENTRY, *POWNER_ENTRY;

typedef struct _ERESOURCE {
    LIST_ENTRY SystemResourcesList; /* live resources, as NT's ExpSystemResourcesList */
    POWNER_ENTRY OwnerTable;        /* further shared owners (TableSize entries) */
    SHORT ActiveCount;              /* owning threads */
    USHORT Flag;                    /* 0x80: owned exclusive */
    LIST_ENTRY SharedWaiters;       /* emulation: queued shared acquirers */
    LIST_ENTRY ExclusiveWaiters;    /* emulation: queued exclusive acquirers */
    OWNER_ENTRY OwnerEntry;         /* the exclusive owner, or a shared one */
    ULONG ActiveEntries;            /* shared owners in OwnerTable */
    ULONG ContentionCount;          /* acquisitions that had to wait */
    ULONG NumberOfSharedWaiters;
    ULONG NumberOfExclusiveWaiters;
    ULONG TableSize;
    PVOID Address;                  /* this resource while initialised */
    KSPIN_LOCK SpinLock;            /* unused: the dispatcher lock guards it */
} ERESOURCE, *PERESOURCE;

/* Push lock: one pointer-sized word, 0 when free. The emulation writes it
   (bit 0 locked, bit 1 waiters, shared count from bit 4, as NT) and keeps
   the owners in a side table. */
typedef ULONG_PTR EX_PUSH_LOCK, *PEX_PUSH_LOCK;

/* DPCs and timers. */
struct _KDPC;

typedef VOID KDEFERRED_ROUTINE(struct _KDPC *Dpc, PVOID DeferredContext,
                               PVOID SystemArgument1, PVOID SystemArgument2);
typedef KDEFERRED_ROUTINE *PKDEFERRED_ROUTINE;

typedef struct _KDPC {
    UCHAR Type;                     /* DpcObject (0x13) once initialised */
    UCHAR Importance;               /* MediumImportance; not used for ordering */
    USHORT Number;
    LIST_ENTRY DpcListEntry;        /* in the DPC queue while queued */
    PKDEFERRED_ROUTINE DeferredRoutine;
    PVOID DeferredContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    PVOID DpcData;                  /* non-NULL while queued */
    ULONG64 QueueSequence;          /* emulation: insertion order, for KeFlushQueuedDpcs */
} KDPC, *PKDPC, *PRKDPC;

typedef enum _TIMER_TYPE { NotificationTimer, SynchronizationTimer } TIMER_TYPE;

typedef struct _KTIMER {
    DISPATCHER_HEADER Header;       /* a timer is a dispatcher object */
    ULARGE_INTEGER DueTime;         /* interrupt time (100 ns) of expiry */
    LIST_ENTRY TimerListEntry;      /* in the timer list while set; Flink NULL otherwise */
    struct _KDPC *Dpc;
    ULONG Processor;
    ULONG Period;                   /* ms; 0: one-shot */
} KTIMER, *PKTIMER, *PRKTIMER;

typedef struct _KSPIN_LOCK_QUEUE {
    struct _KSPIN_LOCK_QUEUE *volatile Next;
    PKSPIN_LOCK volatile Lock;
} KSPIN_LOCK_QUEUE, *PKSPIN_LOCK_QUEUE;

typedef struct _KLOCK_QUEUE_HANDLE {
    KSPIN_LOCK_QUEUE LockQueue;
    KIRQL OldIrql;
} KLOCK_QUEUE_HANDLE, *PKLOCK_QUEUE_HANDLE;

typedef VOID NTAPI KSTART_ROUTINE(PVOID StartContext);
typedef KSTART_ROUTINE *PKSTART_ROUTINE;

/* ---------------------------------------------------------------------- */
/* IRQL and APC state                                                      */
/* ---------------------------------------------------------------------- */

/*
 * On x64 a kernel reads the IRQL from CR8 and the current thread from
 * gs:[0x188], one instruction each, and the WDK's KeGetCurrentIrql,
 * KeGetCurrentThread, KeRaiseIrql and KeLowerIrql are inline. The
 * emulation keeps both in a thread-local block and reads it inline too,
 * with the local-exec TLS model: one %fs-relative load at a constant
 * offset, the shape of a CR8 or gs:[0x188] read, with no register set up
 * for it and no call into the TLS resolver, so that code measured on the
 * host pays for them what it pays on Windows. The block belongs to the
 * emulation: read it only through these routines. (The local-exec model
 * asks for the emulation to be linked into the program itself, as
 * wdkm_hostkernel is, not into a shared library.)
 */
#if defined(__cplusplus)
#define WDKM_HOSTP_THREAD_LOCAL __thread
#else
#define WDKM_HOSTP_THREAD_LOCAL _Thread_local
#endif
#if defined(__GNUC__)
#define WDKM_HOSTP_LOCAL_EXEC __attribute__((__tls_model__("local-exec")))
#define WDKM_HOSTP_UNLIKELY(Condition) __builtin_expect(!!(Condition), 0)
#else
#define WDKM_HOSTP_LOCAL_EXEC
#define WDKM_HOSTP_UNLIKELY(Condition) (Condition)
#endif

/* Volatile, as CR8 and gs:[0x188] are to a compiler: every read is a load
   it may neither merge with another nor drop, so that code measured on the
   host makes as many of them as it makes on Windows. */
typedef struct _WDKM_HOSTP_CURRENT {
    struct _KTHREAD *volatile Thread;   /* set before the thread runs kernel code */
    KIRQL volatile Irql;                /* PASSIVE_LEVEL when the thread starts */
    UCHAR InterruptPending;     /* an injected DPC or APC waits for this thread to unmask */
} WDKM_HOSTP_CURRENT;

extern WDKM_HOSTP_THREAD_LOCAL WDKM_HOSTP_CURRENT WdkmHostpCurrent WDKM_HOSTP_LOCAL_EXEC;

/* The emulation's (interrupt.c): delivers the calling thread's pending
   injected DPCs and APCs that its masking now allows. */
NTKERNELAPI VOID NTAPI WdkmHostpDeliverInterrupts(VOID);

/* After anything that may unmask an event: one TLS load and a branch. The
   signal fence keeps the unmasking store before the load, so an interrupt
   that finds the thread still masked (and sets the flag) is seen here. */
#if defined(__GNUC__)
#define WDKM_HOSTP_SIGNAL_FENCE() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#else
#define WDKM_HOSTP_SIGNAL_FENCE() ((void)0)
#endif
WDKM_HOSTP_INLINE VOID WdkmHostpCheckInterrupts(VOID)
{
    WDKM_HOSTP_SIGNAL_FENCE();
    if (WDKM_HOSTP_UNLIKELY(WdkmHostpCurrent.InterruptPending != 0)) {
        WdkmHostpDeliverInterrupts();
    }
}

/* Any IRQL. The calling thread's IRQL. */
WDKM_HOSTP_INLINE KIRQL KeGetCurrentIrql(VOID)
{
    return WdkmHostpCurrent.Irql;
}

/* Non-zero while the emulation plays a kernel whose IRQL cannot be raised
   (WdkmHostSetIrqlRaisable, wdkm_host.h). */
extern UCHAR WdkmHostpIrqlFixed;

/* NewIrql >= current IRQL, else IRQL_NOT_GREATER_OR_EQUAL. Returns the old
   IRQL. No effect while the IRQL is fixed, as under Wine. */
WDKM_HOSTP_INLINE KIRQL KfRaiseIrql(KIRQL NewIrql)
{
    KIRQL OldIrql = WdkmHostpCurrent.Irql;

    if (WDKM_HOSTP_UNLIKELY(NewIrql < OldIrql || NewIrql > HIGH_LEVEL)) {
        KeBugCheckEx(IRQL_NOT_GREATER_OR_EQUAL, 0, OldIrql, NewIrql, 0);
    }
    if (WDKM_HOSTP_UNLIKELY(__atomic_load_n(&WdkmHostpIrqlFixed, __ATOMIC_RELAXED) != 0)) {
        return OldIrql;
    }
    WdkmHostpCurrent.Irql = NewIrql;
    return OldIrql;
}
#define KeRaiseIrql(NewIrql, OldIrql) (*(OldIrql) = KfRaiseIrql(NewIrql))

/* NewIrql <= current IRQL, else IRQL_NOT_LESS_OR_EQUAL. */
WDKM_HOSTP_INLINE VOID KeLowerIrql(KIRQL NewIrql)
{
    /* No local: inlined next to a WDKM_HOST_TRY, it would draw -Wclobbered. */
    if (WDKM_HOSTP_UNLIKELY(NewIrql > WdkmHostpCurrent.Irql)) {
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, 0, WdkmHostpCurrent.Irql, NewIrql, 0);
    }
    WdkmHostpCurrent.Irql = NewIrql;
    WdkmHostpCheckInterrupts();     /* an injected DPC or APC masked until now */
}

/* <= DISPATCH_LEVEL. Raises to DISPATCH_LEVEL, returns the old IRQL. */
WDKM_HOSTP_INLINE KIRQL KeRaiseIrqlToDpcLevel(VOID)
{
    return KfRaiseIrql(DISPATCH_LEVEL);
}

/* <= APC_LEVEL. Disables normal kernel APCs (nests). */
NTKERNELAPI VOID NTAPI KeEnterCriticalRegion(VOID);
/* <= APC_LEVEL. Undoes one KeEnterCriticalRegion, else APC_INDEX_MISMATCH. */
NTKERNELAPI VOID NTAPI KeLeaveCriticalRegion(VOID);
/* <= APC_LEVEL. Disables all kernel APCs (nests). */
NTKERNELAPI VOID NTAPI KeEnterGuardedRegion(VOID);
/* <= APC_LEVEL. Undoes one KeEnterGuardedRegion, else APC_INDEX_MISMATCH. */
NTKERNELAPI VOID NTAPI KeLeaveGuardedRegion(VOID);
/* Any IRQL. TRUE inside a critical or guarded region or while owning a KMUTEX. */
NTKERNELAPI BOOLEAN NTAPI KeAreApcsDisabled(VOID);
/* Any IRQL. TRUE inside a guarded region or at IRQL >= APC_LEVEL. */
NTKERNELAPI BOOLEAN NTAPI KeAreAllApcsDisabled(VOID);

/* The WDK checks this only in checked builds; the emulation always does,
   because a real kernel would fault on the paged-out code anyway. */
NTKERNELAPI VOID NTAPI WdkmHostpPagedCode(VOID);
#define PAGED_CODE() WdkmHostpPagedCode()
#define PAGED_CODE_LOCKED() ((void)0)

/* ---------------------------------------------------------------------- */
/* Threads and objects                                                     */
/* ---------------------------------------------------------------------- */

/* The emulation's: makes a thread object for a thread that has none yet
   and returns the calling thread's. Every thread already has one before it
   runs (the main thread before main, any other thread as it starts:
   thread.c), so nothing on a lock's path needs to call this. */
NTKERNELAPI PKTHREAD NTAPI WdkmHostpAdoptCurrentThread(VOID);

/* Any IRQL. The calling thread's object: one load, as gs:[0x188] is. */
WDKM_HOSTP_INLINE PKTHREAD KeGetCurrentThread(VOID)
{
    return WdkmHostpCurrent.Thread;
}

/* Any IRQL. The calling thread's object, as a PETHREAD. */
WDKM_HOSTP_INLINE PETHREAD PsGetCurrentThread(VOID)
{
    return (PETHREAD)KeGetCurrentThread();
}

/* The processor a caller runs on: group and number within it (one group here). */
typedef struct _PROCESSOR_NUMBER {
    USHORT Group;
    UCHAR Number;
    UCHAR Reserved;
} PROCESSOR_NUMBER, *PPROCESSOR_NUMBER;

/* Any IRQL. The index of the processor the caller runs on (the host's CPU,
   or what WdkmHostSetCurrentProcessor made the thread report); fills
   *ProcNumber too when it is not NULL. Below DISPATCH_LEVEL the thread
   may move to another processor as soon as this returns. */
NTKERNELAPI ULONG NTAPI KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber);

/* Any IRQL. An id unique among live threads (a multiple of 4). */
NTKERNELAPI HANDLE NTAPI PsGetCurrentThreadId(VOID);
/* Any IRQL. Thread's id. */
NTKERNELAPI HANDLE NTAPI PsGetThreadId(PETHREAD Thread);
/* Any IRQL. The emulation has one process, the System process (id 4). */
NTKERNELAPI HANDLE NTAPI PsGetCurrentProcessId(VOID);
/* Any IRQL. TRUE for threads made by PsCreateSystemThread. */
NTKERNELAPI BOOLEAN NTAPI PsIsSystemThread(PETHREAD Thread);

/* PASSIVE_LEVEL. Runs StartRoutine(StartContext) on a new thread at
   PASSIVE_LEVEL and returns a handle to it (close it with ZwClose). */
NTKERNELAPI NTSTATUS NTAPI PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess,
                                                POBJECT_ATTRIBUTES ObjectAttributes,
                                                HANDLE ProcessHandle, PCLIENT_ID ClientId,
                                                PKSTART_ROUTINE StartRoutine,
                                                PVOID StartContext);
/* PASSIVE_LEVEL, own no KMUTEX. Ends the calling system thread; returns
   STATUS_INVALID_PARAMETER on any other thread. */
NTKERNELAPI NTSTATUS NTAPI PsTerminateSystemThread(NTSTATUS ExitStatus);

/* PASSIVE_LEVEL. Gives the thread object of Handle with a reference;
   ObjectType may be NULL or *PsThreadType. */
NTKERNELAPI NTSTATUS NTAPI ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess,
                                                     POBJECT_TYPE ObjectType,
                                                     KPROCESSOR_MODE AccessMode, PVOID *Object,
                                                     PVOID HandleInformation);
/* <= DISPATCH_LEVEL. Adds a reference. Returns the new count. */
NTKERNELAPI LONG_PTR FASTCALL ObfReferenceObject(PVOID Object);
/* <= DISPATCH_LEVEL. Drops a reference; the last one frees the object. */
NTKERNELAPI LONG_PTR FASTCALL ObfDereferenceObject(PVOID Object);
#define ObReferenceObject(Object) ObfReferenceObject(Object)
#define ObDereferenceObject(Object) ObfDereferenceObject(Object)
/* PASSIVE_LEVEL. Closes a handle from PsCreateSystemThread. */
NTSYSAPI NTSTATUS NTAPI ZwClose(HANDLE Handle);

/* ---------------------------------------------------------------------- */
/* Waits, events, mutexes                                                  */
/* ---------------------------------------------------------------------- */

/* <= APC_LEVEL, or DISPATCH_LEVEL with a zero Timeout. Waits for a KEVENT,
   KMUTEX, KTIMER or thread object. Timeout: NULL infinite, negative relative
   (100 ns units), zero poll, positive absolute system time. Returns
   STATUS_SUCCESS, STATUS_ABANDONED, STATUS_TIMEOUT, STATUS_ALERTED or
   STATUS_USER_APC. */
NTKERNELAPI NTSTATUS NTAPI KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason,
                                                 KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                                 PLARGE_INTEGER Timeout);
#define KeWaitForMutexObject KeWaitForSingleObject
/* <= APC_LEVEL. Sleeps for Interval (same encoding as a wait timeout). */
NTKERNELAPI NTSTATUS NTAPI KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                                  PLARGE_INTEGER Interval);

/* Any IRQL. Initialises Event in state State. */
NTKERNELAPI VOID NTAPI KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State);
/* <= DISPATCH_LEVEL. Signals Event, returns its previous state. */
NTKERNELAPI LONG NTAPI KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);
/* <= DISPATCH_LEVEL. Unsignals Event, returns its previous state. */
NTKERNELAPI LONG NTAPI KeResetEvent(PRKEVENT Event);
/* <= DISPATCH_LEVEL. Unsignals Event. */
NTKERNELAPI VOID NTAPI KeClearEvent(PRKEVENT Event);
/* Any IRQL. Event's current state. */
NTKERNELAPI LONG NTAPI KeReadStateEvent(PRKEVENT Event);

/* Any IRQL. Initialises Mutex free (state 1); Level is ignored. */
NTKERNELAPI VOID NTAPI KeInitializeMutex(PRKMUTEX Mutex, ULONG Level);
/* <= DISPATCH_LEVEL, owner only (else THREAD_NOT_MUTEX_OWNER). Undoes one
   acquisition; returns the previous state (0: now free). */
NTKERNELAPI LONG NTAPI KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait);
/* Any IRQL. 1 free, <= 0 owned (1 - recursion depth). */
NTKERNELAPI LONG NTAPI KeReadStateMutex(PRKMUTEX Mutex);

/* Any IRQL. Initialises FastMutex free. */
NTKERNELAPI VOID FASTCALL ExInitializeFastMutex(PFAST_MUTEX FastMutex);
/* <= APC_LEVEL. Acquires, raising to APC_LEVEL; not recursive. */
NTKERNELAPI VOID FASTCALL ExAcquireFastMutex(PFAST_MUTEX FastMutex);
/* APC_LEVEL, owner. Releases and restores the IRQL saved by the acquire. */
NTKERNELAPI VOID FASTCALL ExReleaseFastMutex(PFAST_MUTEX FastMutex);
/* <= APC_LEVEL. TRUE: acquired as ExAcquireFastMutex would; FALSE: unchanged. */
NTKERNELAPI BOOLEAN FASTCALL ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex);
/* APC_LEVEL, or lower inside a critical or guarded region. Acquires
   without touching the IRQL. */
NTKERNELAPI VOID FASTCALL ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex);
/* Same IRQL and APC state as the acquire, owner. Releases. */
NTKERNELAPI VOID FASTCALL ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex);

/* Any IRQL. Initialises Mutex free. */
NTKERNELAPI VOID FASTCALL KeInitializeGuardedMutex(PKGUARDED_MUTEX Mutex);
/* <= APC_LEVEL. Enters a guarded region and acquires; not recursive. */
NTKERNELAPI VOID FASTCALL KeAcquireGuardedMutex(PKGUARDED_MUTEX Mutex);
/* <= APC_LEVEL, owner. Releases and leaves the guarded region. */
NTKERNELAPI VOID FASTCALL KeReleaseGuardedMutex(PKGUARDED_MUTEX Mutex);
/* <= APC_LEVEL. TRUE: acquired as KeAcquireGuardedMutex would. */
NTKERNELAPI BOOLEAN FASTCALL KeTryToAcquireGuardedMutex(PKGUARDED_MUTEX Mutex);

/* ---------------------------------------------------------------------- */
/* Spin locks                                                              */
/* ---------------------------------------------------------------------- */

/* Any IRQL. Initialises SpinLock free. */
WDKM_HOSTP_INLINE VOID KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
    __atomic_store_n(SpinLock, 0, __ATOMIC_RELAXED);
}

/* <= DISPATCH_LEVEL. Raises to DISPATCH_LEVEL and acquires; returns the old IRQL. */
NTKERNELAPI KIRQL NTAPI KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock);
#define KeAcquireSpinLock(SpinLock, OldIrql) (*(OldIrql) = KeAcquireSpinLockRaiseToDpc(SpinLock))
/* DISPATCH_LEVEL, owner. Releases and lowers to NewIrql. */
NTKERNELAPI VOID NTAPI KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql);
/* >= DISPATCH_LEVEL. Acquires. */
NTKERNELAPI VOID NTAPI KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);
/* >= DISPATCH_LEVEL, owner. Releases. */
NTKERNELAPI VOID NTAPI KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock);
/* >= DISPATCH_LEVEL. TRUE: acquired; FALSE: held (also by the caller). */
NTKERNELAPI BOOLEAN FASTCALL KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);
/* <= DISPATCH_LEVEL. As KeAcquireSpinLock, state kept in LockHandle. */
NTKERNELAPI VOID FASTCALL KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock,
                                                         PKLOCK_QUEUE_HANDLE LockHandle);
/* DISPATCH_LEVEL, owner. Releases and restores LockHandle->OldIrql. */
NTKERNELAPI VOID FASTCALL KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle);
/* >= DISPATCH_LEVEL. As KeAcquireSpinLockAtDpcLevel. */
NTKERNELAPI VOID FASTCALL KeAcquireInStackQueuedSpinLockAtDpcLevel(
    PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);
/* >= DISPATCH_LEVEL, owner. As KeReleaseSpinLockFromDpcLevel. */
NTKERNELAPI VOID FASTCALL KeReleaseInStackQueuedSpinLockFromDpcLevel(
    PKLOCK_QUEUE_HANDLE LockHandle);

/* ---------------------------------------------------------------------- */
/* Executive resources (ERESOURCE)                                         */
/* ---------------------------------------------------------------------- */

/* Any IRQL. The caller's id as ERESOURCE owner tables record it. */
#define ExGetCurrentResourceThread() ((ERESOURCE_THREAD)PsGetCurrentThread())

/* <= DISPATCH_LEVEL. Initialises Resource free; it must not be live
   (else DRIVER_VERIFIER_DETECTED_VIOLATION 0xD0). STATUS_SUCCESS. */
NTKERNELAPI NTSTATUS NTAPI ExInitializeResourceLite(PERESOURCE Resource);
/* <= APC_LEVEL, not owned (else DRIVER_VERIFIER_DETECTED_VIOLATION
   0x100B). Required before the memory is freed. STATUS_SUCCESS. */
NTKERNELAPI NTSTATUS NTAPI ExDeleteResourceLite(PERESOURCE Resource);
/* <= APC_LEVEL, normal kernel APCs disabled (critical or guarded region, or
   APC_LEVEL). Recursive for the exclusive owner. A shared owner asking for
   it with Wait bug checks (NT would deadlock). FALSE: not available now
   and Wait is FALSE. */
NTKERNELAPI BOOLEAN NTAPI ExAcquireResourceExclusiveLite(PERESOURCE Resource, BOOLEAN Wait);
/* As ExAcquireResourceExclusiveLite, shared: granted at once to an owner
   (the exclusive one too) or when it is free or shared with no exclusive
   waiter; otherwise waits (Wait) or returns FALSE. */
NTKERNELAPI BOOLEAN NTAPI ExAcquireResourceSharedLite(PERESOURCE Resource, BOOLEAN Wait);
/* <= DISPATCH_LEVEL, exclusive owner (else RESOURCE_NOT_OWNED). Keeps the
   caller's acquisitions, as shared, and lets shared waiters in. */
NTKERNELAPI VOID NTAPI ExConvertExclusiveToSharedLite(PERESOURCE Resource);
/* <= DISPATCH_LEVEL, owner, APCs disabled as for the acquire. Undoes one
   acquisition; the last one hands the resource to waiters. */
NTKERNELAPI VOID FASTCALL ExReleaseResourceLite(PERESOURCE Resource);
/* <= DISPATCH_LEVEL. As ExReleaseResourceLite, for the owner ResourceThreadId
   (from ExGetCurrentResourceThread on that thread). */
NTKERNELAPI VOID NTAPI ExReleaseResourceForThreadLite(PERESOURCE Resource,
                                                      ERESOURCE_THREAD ResourceThreadId);
/* <= DISPATCH_LEVEL. TRUE if the caller owns it exclusive. */
NTKERNELAPI BOOLEAN NTAPI ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource);
/* <= DISPATCH_LEVEL. The caller's acquisitions, exclusive ones included. */
NTKERNELAPI ULONG NTAPI ExIsResourceAcquiredSharedLite(PERESOURCE Resource);
#define ExIsResourceAcquiredLite ExIsResourceAcquiredSharedLite
/* <= DISPATCH_LEVEL. Threads waiting for exclusive (shared) access. */
NTKERNELAPI ULONG NTAPI ExGetExclusiveWaiterCount(PERESOURCE Resource);
NTKERNELAPI ULONG NTAPI ExGetSharedWaiterCount(PERESOURCE Resource);

/* ---------------------------------------------------------------------- */
/* Push locks                                                              */
/* ---------------------------------------------------------------------- */

/* Any IRQL. Initialises PushLock free (NT: a macro). */
#define ExInitializePushLock(PushLock) ((void)(*(PushLock) = 0))

/* <= APC_LEVEL, normal kernel APCs disabled (critical or guarded region, or
   APC_LEVEL). Not recursive: an owner acquiring again bug checks (NT would
   deadlock). Waiters are served in arrival order. */
NTKERNELAPI VOID FASTCALL ExfAcquirePushLockExclusive(PEX_PUSH_LOCK PushLock);
NTKERNELAPI VOID FASTCALL ExfAcquirePushLockShared(PEX_PUSH_LOCK PushLock);
/* <= APC_LEVEL, APCs disabled as for the acquire, held the named way. */
NTKERNELAPI VOID FASTCALL ExfReleasePushLockExclusive(PEX_PUSH_LOCK PushLock);
NTKERNELAPI VOID FASTCALL ExfReleasePushLockShared(PEX_PUSH_LOCK PushLock);
/* As the two above, whichever way the caller holds it (Wine 8 exports only
   this release). */
NTKERNELAPI VOID FASTCALL ExfReleasePushLock(PEX_PUSH_LOCK PushLock);

/* ---------------------------------------------------------------------- */
/* DPCs and timers                                                         */
/* ---------------------------------------------------------------------- */

/* Any IRQL. DeferredRoutine(Dpc, DeferredContext, SystemArgument1,
   SystemArgument2) will run at DISPATCH_LEVEL on the DPC thread, one DPC
   at a time, and must return at DISPATCH_LEVEL with the APC state it got
   (else IRQL_NOT_GREATER_OR_EQUAL, TIMER_OR_DPC_INVALID 4 or 5). */
NTKERNELAPI VOID NTAPI KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine,
                                       PVOID DeferredContext);
/* Any IRQL. Queues Dpc with the two arguments; FALSE (and nothing changed)
   if it is already queued. */
NTKERNELAPI BOOLEAN NTAPI KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1,
                                           PVOID SystemArgument2);
/* Any IRQL. TRUE if Dpc was queued (it will not run); FALSE if it was not
   (a running DPC is not waited for). */
NTKERNELAPI BOOLEAN NTAPI KeRemoveQueueDpc(PRKDPC Dpc);
/* PASSIVE_LEVEL. Returns once every DPC queued before the call has run. */
NTKERNELAPI VOID NTAPI KeFlushQueuedDpcs(VOID);
/* Any IRQL. TRUE inside a DPC routine (NT: ntddk.h). */
NTKERNELAPI LOGICAL NTAPI KeIsExecutingDpc(VOID);

/* Any IRQL. Initialises Timer cancelled and not signalled (notification). */
NTKERNELAPI VOID NTAPI KeInitializeTimer(PKTIMER Timer);
/* Any IRQL. As KeInitializeTimer, of the given type. */
NTKERNELAPI VOID NTAPI KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type);
/* <= DISPATCH_LEVEL. Cancels Timer if set, unsignals it and sets it to
   expire at DueTime (negative: relative, 100 ns; else absolute system time,
   converted to an interval once). On expiry it is signalled and Dpc (if
   any) is queued with the expiry system time as its two arguments. TRUE if
   it was set already. */
NTKERNELAPI BOOLEAN NTAPI KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc);
/* As KeSetTimer; Period > 0 re-arms it every Period ms until cancelled. */
NTKERNELAPI BOOLEAN NTAPI KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period,
                                       PKDPC Dpc);
/* <= DISPATCH_LEVEL. TRUE if Timer was set (now cancelled). A DPC it
   already queued stays queued. */
NTKERNELAPI BOOLEAN NTAPI KeCancelTimer(PKTIMER Timer);
/* Any IRQL. TRUE if Timer is signalled. */
NTKERNELAPI BOOLEAN NTAPI KeReadStateTimer(PKTIMER Timer);

/* ---------------------------------------------------------------------- */
/* Pool                                                                    */
/* ---------------------------------------------------------------------- */

typedef enum _POOL_TYPE {
    NonPagedPool = 0,
    NonPagedPoolExecute = NonPagedPool,
    PagedPool = 1,
    NonPagedPoolMustSucceed = 2,
    DontUseThisType = 3,
    NonPagedPoolCacheAligned = 4,
    PagedPoolCacheAligned = 5,
    NonPagedPoolCacheAlignedMustS = 6,
    MaxPoolType = 7,
    NonPagedPoolBase = 0,
    NonPagedPoolNx = 512,
    NonPagedPoolNxCacheAligned = NonPagedPoolNx + 4
} POOL_TYPE;

typedef ULONG64 POOL_FLAGS;

#define POOL_FLAG_USE_QUOTA           0x0000000000000001ULL
#define POOL_FLAG_UNINITIALIZED       0x0000000000000002ULL
#define POOL_FLAG_SESSION             0x0000000000000004ULL
#define POOL_FLAG_CACHE_ALIGNED       0x0000000000000008ULL
#define POOL_FLAG_RAISE_ON_FAILURE    0x0000000000000020ULL
#define POOL_FLAG_NON_PAGED           0x0000000000000040ULL
#define POOL_FLAG_NON_PAGED_EXECUTE   0x0000000000000080ULL
#define POOL_FLAG_PAGED               0x0000000000000100ULL

/* <= DISPATCH_LEVEL (paged: <= APC_LEVEL), NumberOfBytes > 0. Contents are
   NOT zeroed (filled with 0xCD). NULL when out of memory. */
NTKERNELAPI PVOID NTAPI ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
/* As ExAllocatePoolWithTag, zeroed unless POOL_FLAG_UNINITIALIZED. NULL
   for Tag 0 or invalid Flags, as documented. */
NTKERNELAPI PVOID NTAPI ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag);
/* <= DISPATCH_LEVEL (paged: <= APC_LEVEL). Frees a live block allocated with Tag. */
NTKERNELAPI VOID NTAPI ExFreePoolWithTag(PVOID P, ULONG Tag);
/* As ExFreePoolWithTag, without the tag check. */
NTKERNELAPI VOID NTAPI ExFreePool(PVOID P);

/* ---------------------------------------------------------------------- */
/* Time, routines, bug checks, debug output                                */
/* ---------------------------------------------------------------------- */

/* Any IRQL. A monotonic counter; *PerformanceFrequency (optional) is 10 MHz. */
NTKERNELAPI LARGE_INTEGER NTAPI KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency);
/* Any IRQL. Wall-clock time in 100 ns units since 1601-01-01 (UTC). */
NTKERNELAPI VOID NTAPI KeQuerySystemTime(PLARGE_INTEGER CurrentTime);
/* Any IRQL. Monotonic time in 100 ns units. */
NTKERNELAPI ULONGLONG NTAPI KeQueryInterruptTime(VOID);
/* Any IRQL. Busy-waits at least MicroSeconds. */
NTHALAPI VOID NTAPI KeStallExecutionProcessor(ULONG MicroSeconds);

/* PASSIVE_LEVEL. The emulation's routine of that name, or NULL when it
   is unknown or made unavailable (wdkm_host.h). */
NTKERNELAPI PVOID NTAPI MmGetSystemRoutineAddress(PUNICODE_STRING SystemRoutineName);

/* Debug output: component ids and severity levels. */
#define DPFLTR_IHVDRIVER_ID  77
#define DPFLTR_DEFAULT_ID    101
#define DPFLTR_ERROR_LEVEL   0
#define DPFLTR_WARNING_LEVEL 1
#define DPFLTR_TRACE_LEVEL   2
#define DPFLTR_INFO_LEVEL    3
#define DPFLTR_MASK          0x80000000

/* Any IRQL. DbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_INFO_LEVEL, ...). */
ULONG DbgPrint(PCSTR Format, ...) WDKM_HOSTP_PRINTF(1, 2);
/* Any IRQL. Prints when Level passes the filter (wdkm_host.h); at most
   512 bytes per message, as NT. */
NTSYSAPI ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
    WDKM_HOSTP_PRINTF(3, 4);
/* Any IRQL. va_list form of DbgPrintEx. */
NTSYSAPI ULONG NTAPI vDbgPrintEx(ULONG ComponentId, ULONG Level, PCCH Format, va_list arglist)
    WDKM_HOSTP_PRINTF(3, 0);

/* Prints the failed assertion and bug checks KMODE_EXCEPTION_NOT_HANDLED
   with STATUS_ASSERTION_FAILURE (trappable, see wdkm_host.h). */
NTSYSAPI VOID NTAPI RtlAssert(PVOID VoidFailedAssertion, PVOID VoidFileName, ULONG LineNumber,
                              PSTR MutableMessage);

#if defined(DBG) && DBG
#define ASSERT(Expression) \
    ((!(Expression)) ? (RtlAssert((PVOID) #Expression, (PVOID)__FILE__, __LINE__, NULL), FALSE) : TRUE)
#define NT_ASSERT(Expression) ASSERT(Expression)
#define KdPrint(Arguments) DbgPrint Arguments
#define KdPrintEx(Arguments) DbgPrintEx Arguments
#else
#define ASSERT(Expression) ((void)0)
#define NT_ASSERT(Expression) ((void)0)
#define KdPrint(Arguments) ((void)0)
#define KdPrintEx(Arguments) ((void)0)
#endif

/* IRPs: cancellation and completion (a file of its own). */
#include "wdkm_host_io.h"

#ifdef __cplusplus
}
#endif

#endif /* WDKM_HOST_WDM_H */
