#ifndef TCBUILD_CXXHASH_SHIM_H
#define TCBUILD_CXXHASH_SHIM_H
// Linked against libxxhash (no XXH_INLINE_ALL): XXH3-128 streaming and one-shot.
#include <xxhash.h>
#endif
