#ifndef TCBUILD_CFFTW_SHIM_H
#define TCBUILD_CFFTW_SHIM_H
// FFTW 3, double precision (libfftw3-dev). Plans are made with FFTW_ESTIMATE (no timing measurements,
// so the same sizes always give the same plan and the same bytes); the planner is not thread-safe,
// so Imaging.FFT2D serializes plan creation and destruction, while executing a plan is thread-safe.
#include <fftw3.h>
#endif
