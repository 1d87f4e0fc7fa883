#ifndef TCBUILD_CMALLOC_SHIM_H
#define TCBUILD_CMALLOC_SHIM_H
// glibc's malloc tuning (mallopt, <malloc.h>; part of libc6-dev, nothing to link).
#include <malloc.h>

// Serve allocations below `bytes` from the heap and keep up to `bytes` of freed memory there instead
// of returning it to the kernel. Returns 1 when both settings were accepted.
static inline int tcb_malloc_keep(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes) == 1 && mallopt(M_TRIM_THRESHOLD, bytes) == 1;
}
#endif
