/* <wdm.h> for the Wine DDK cells of scripts/check-portability.sh: see wdkm_wine_ddk.h. */
#include "wdkm_wine_ddk.h"
