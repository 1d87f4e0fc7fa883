#ifndef TCBUILD_CFITSIO_SHIM_H
#define TCBUILD_CFITSIO_SHIM_H
// cfitsio's fits_* names are macros; Swift calls the ff* functions they expand to.
#include <fitsio.h>
#endif
