#ifndef TCBUILD_CZLIB_SHIM_H
#define TCBUILD_CZLIB_SHIM_H
// zlib: compress2 (IDAT streams) and crc32 (chunk CRCs) for the PNG writer in Imaging.
#include <zlib.h>
#endif
