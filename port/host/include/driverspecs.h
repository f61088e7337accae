/*
 * driverspecs.h - the host emulation's driver annotations (IRQL, dispatch
 * type, function class, kernel resources), defined empty as mingw-w64's
 * are, so driver code that writes them compiles on the host unchanged.
 * <wdm.h> includes it, as the WDK's does.
 */
#ifndef WDKM_HOST_DRIVERSPECS_H
#define WDKM_HOST_DRIVERSPECS_H

#include <sal.h>

#ifndef _IRQL_saves_
#define _IRQL_saves_
#endif
#ifndef _IRQL_restores_
#define _IRQL_restores_
#endif
#ifndef _IRQL_requires_same_
#define _IRQL_requires_same_
#endif
#ifndef _Kernel_float_saved_
#define _Kernel_float_saved_
#endif
#ifndef _Kernel_float_restored_
#define _Kernel_float_restored_
#endif
#ifndef _Kernel_clear_do_init_
#define _Kernel_clear_do_init_
#endif
#ifndef __drv_aliasesMem
#define __drv_aliasesMem
#endif
#ifndef _IRQL_requires_max_
#define _IRQL_requires_max_(A0)
#endif
#ifndef _IRQL_requires_min_
#define _IRQL_requires_min_(A0)
#endif
#ifndef _IRQL_requires_
#define _IRQL_requires_(A0)
#endif
#ifndef _IRQL_raises_
#define _IRQL_raises_(A0)
#endif
#ifndef _IRQL_always_function_max_
#define _IRQL_always_function_max_(A0)
#endif
#ifndef _IRQL_always_function_min_
#define _IRQL_always_function_min_(A0)
#endif
#ifndef _IRQL_saves_global_
#define _IRQL_saves_global_(A0, A1)
#endif
#ifndef _IRQL_restores_global_
#define _IRQL_restores_global_(A0, A1)
#endif
#ifndef _Dispatch_type_
#define _Dispatch_type_(A0)
#endif
#ifndef _Function_class_
#define _Function_class_(A0)
#endif
#ifndef _Kernel_requires_resource_held_
#define _Kernel_requires_resource_held_(A0)
#endif
#ifndef _Kernel_requires_resource_not_held_
#define _Kernel_requires_resource_not_held_(A0)
#endif
#ifndef _Kernel_acquires_resource_
#define _Kernel_acquires_resource_(A0)
#endif
#ifndef _Kernel_releases_resource_
#define _Kernel_releases_resource_(A0)
#endif
#ifndef __drv_allocatesMem
#define __drv_allocatesMem(A0)
#endif
#ifndef __drv_freesMem
#define __drv_freesMem(A0)
#endif

#endif /* WDKM_HOST_DRIVERSPECS_H */
