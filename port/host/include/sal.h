/*
 * sal.h - the host emulation's SAL: every annotation a driver commonly
 * writes, defined empty (as mingw-w64's sal.h does), so driver code that
 * uses them - _Use_decl_annotations_ on a definition, _In_reads_(N), ... -
 * compiles on the host unchanged. <wdm.h> includes it, as the WDK's does.
 * Code Analysis reads the real ones under MSVC; nothing checks them here.
 */
#ifndef WDKM_HOST_SAL_H
#define WDKM_HOST_SAL_H

#ifndef _Use_decl_annotations_
#define _Use_decl_annotations_
#endif
#ifndef _In_
#define _In_
#endif
#ifndef _In_opt_
#define _In_opt_
#endif
#ifndef _In_z_
#define _In_z_
#endif
#ifndef _In_opt_z_
#define _In_opt_z_
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
#ifndef _Inout_opt_
#define _Inout_opt_
#endif
#ifndef _Outptr_
#define _Outptr_
#endif
#ifndef _Outptr_opt_
#define _Outptr_opt_
#endif
#ifndef _Outptr_result_maybenull_
#define _Outptr_result_maybenull_
#endif
#ifndef _Must_inspect_result_
#define _Must_inspect_result_
#endif
#ifndef _Check_return_
#define _Check_return_
#endif
#ifndef _Ret_maybenull_
#define _Ret_maybenull_
#endif
#ifndef _Ret_z_
#define _Ret_z_
#endif
#ifndef _Null_terminated_
#define _Null_terminated_
#endif
#ifndef _Pre_notnull_
#define _Pre_notnull_
#endif
#ifndef _Post_invalid_
#define _Post_invalid_
#endif
#ifndef _Reserved_
#define _Reserved_
#endif
#ifndef _In_reads_
#define _In_reads_(A0)
#endif
#ifndef _In_reads_opt_
#define _In_reads_opt_(A0)
#endif
#ifndef _In_reads_bytes_
#define _In_reads_bytes_(A0)
#endif
#ifndef _In_reads_bytes_opt_
#define _In_reads_bytes_opt_(A0)
#endif
#ifndef _Out_writes_
#define _Out_writes_(A0)
#endif
#ifndef _Out_writes_opt_
#define _Out_writes_opt_(A0)
#endif
#ifndef _Out_writes_bytes_
#define _Out_writes_bytes_(A0)
#endif
#ifndef _Out_writes_bytes_opt_
#define _Out_writes_bytes_opt_(A0)
#endif
#ifndef _Out_writes_to_
#define _Out_writes_to_(A0, A1)
#endif
#ifndef _Inout_updates_
#define _Inout_updates_(A0)
#endif
#ifndef _Inout_updates_bytes_
#define _Inout_updates_bytes_(A0)
#endif
#ifndef _Field_size_
#define _Field_size_(A0)
#endif
#ifndef _Field_size_bytes_
#define _Field_size_bytes_(A0)
#endif
#ifndef _Success_
#define _Success_(A0)
#endif
#ifndef _When_
#define _When_(A0, A1)
#endif
#ifndef _Post_satisfies_
#define _Post_satisfies_(A0)
#endif
#ifndef _Pre_satisfies_
#define _Pre_satisfies_(A0)
#endif
#ifndef _Analysis_assume_
#define _Analysis_assume_(A0)
#endif
#ifndef _Printf_format_string_params_
#define _Printf_format_string_params_(A0)
#endif

#endif /* WDKM_HOST_SAL_H */
