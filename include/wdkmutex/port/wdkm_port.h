/*
 * wdkmutex/port/wdkm_port.h - PRIVATE. Where the API headers find the
 * port (wdkm_layout.h's kernel types), in the source tree: it forwards to
 * port/wdkm_port.h. An installed package has the port itself here instead
 * (CMakeLists.txt installs port/ to include/wdkmutex/port/), so that the
 * API headers reach it by the same path in both and the package puts
 * nothing beside include/ and lib/. A driver never includes it itself.
 */
#include "../../../port/wdkm_port.h"
