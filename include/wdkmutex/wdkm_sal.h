/*
 * wdkm_sal.h - SAL annotations for the public API, on every compiler.
 *
 * MSVC with the WDK reads the real annotations from <sal.h> and
 * <driverspecs.h>, so Code Analysis and Static Driver Verifier see the IRQL
 * and locking contracts. mingw-w64 ships both headers with empty
 * definitions. Anything still undefined afterwards (the host emulation has
 * neither header) is defined empty here, so the same declarations compile
 * everywhere.
 */
#ifndef WDKM_SAL_H
#define WDKM_SAL_H

#if defined(_MSC_VER) || defined(__MINGW32__)
#include <sal.h>
#include <driverspecs.h>
#endif

/* Parameters and results. */
#ifndef _In_
#define _In_
#endif
#ifndef _In_z_
#define _In_z_
#endif
#ifndef _In_opt_z_
#define _In_opt_z_
#endif
#ifndef _In_opt_
#define _In_opt_
#endif
#ifndef _Out_
#define _Out_
#endif
#ifndef _Out_opt_
#define _Out_opt_
#endif
#ifndef _Inout_
#define _Inout_
#endif
#ifndef _In_reads_bytes_
#define _In_reads_bytes_(Size)
#endif
#ifndef _Out_writes_bytes_
#define _Out_writes_bytes_(Size)
#endif
#ifndef _Out_writes_bytes_opt_
#define _Out_writes_bytes_opt_(Size)
#endif
#ifndef _Out_writes_z_
#define _Out_writes_z_(Count)
#endif
#ifndef _Out_writes_opt_
#define _Out_writes_opt_(Count)
#endif
#ifndef _Outptr_
#define _Outptr_
#endif
#ifndef _Outptr_result_maybenull_
#define _Outptr_result_maybenull_
#endif
#ifndef _Must_inspect_result_
#define _Must_inspect_result_
#endif
#ifndef _Success_
#define _Success_(Expression)
#endif
#ifndef _When_
#define _When_(Condition, Annotations)
#endif
#ifndef _Ret_z_
#define _Ret_z_
#endif
#ifndef _Ret_notnull_
#define _Ret_notnull_
#endif
#ifndef _Post_satisfies_
#define _Post_satisfies_(Expression)
#endif

/* IRQL contracts (driverspecs.h). */
#ifndef _IRQL_requires_max_
#define _IRQL_requires_max_(Irql)
#endif
#ifndef _IRQL_requires_
#define _IRQL_requires_(Irql)
#endif
#ifndef _IRQL_raises_
#define _IRQL_raises_(Irql)
#endif
#ifndef _IRQL_saves_
#define _IRQL_saves_
#endif
#ifndef _IRQL_restores_
#define _IRQL_restores_
#endif
#ifndef _IRQL_requires_same_
#define _IRQL_requires_same_
#endif
#ifndef _IRQL_saves_global_
#define _IRQL_saves_global_(Kind, Parameter)
#endif
#ifndef _IRQL_restores_global_
#define _IRQL_restores_global_(Kind, Parameter)
#endif

/*
 * Lock contracts (concurrencysal.h). Clang's analysis reads the same
 * contracts from their twins in wdkm_annotations.h.
 */
#ifndef _Acquires_lock_
#define _Acquires_lock_(Lock)
#endif
#ifndef _Acquires_exclusive_lock_
#define _Acquires_exclusive_lock_(Lock)
#endif
#ifndef _Acquires_shared_lock_
#define _Acquires_shared_lock_(Lock)
#endif
#ifndef _Releases_lock_
#define _Releases_lock_(Lock)
#endif
#ifndef _Requires_lock_held_
#define _Requires_lock_held_(Lock)
#endif
#ifndef _Requires_shared_lock_held_
#define _Requires_shared_lock_held_(Lock)
#endif
#ifndef _Requires_lock_not_held_
#define _Requires_lock_not_held_(Lock)
#endif
#ifndef _Post_same_lock_
#define _Post_same_lock_(Lock1, Lock2)
#endif

#endif /* WDKM_SAL_H */
