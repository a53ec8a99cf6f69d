// The scalar (reference) kernels, one function per entry of core/kernels.h's table.
// SIMD paths call these for the odd sizes they leave over and tests compare against them.
#pragma once
#include "core/kernels.h"

namespace ember::scalar {

size_t sgemm_scratch_floats(int workers);
void sgemm(const GemmArgs& g, const Parallel& par, float* scratch);
// c = act(c + bias) over an m x n block (the GEMM epilogue), for paths that apply it late.
void apply_epilogue(const Epilogue& ep, int m, int n, float* c, int ldc);

void act_forward(Act act, float slope, const float* x, float* y, size_t n);
void act_backward(Act act, float slope, const float* x, const float* y, const float* dy, float* dx,
                  size_t n);
void exp(const float* x, float* y, size_t n);
void axpy(size_t n, float a, const float* x, float* y);
void scale(size_t n, float a, float* x);
void add(size_t n, const float* a, const float* b, float* out);
void mul(size_t n, const float* a, const float* b, float* out);
float sum(const float* x, size_t n);
float dot(const float* x, const float* y, size_t n);
void dot_rows(const float* x, const float* y, size_t ld, size_t n, size_t count, float* out);
void div_sqrt(size_t n, const float* a, const float* b, float eps, float* out);
float max(const float* x, size_t n);
float sumsq(const float* x, size_t n);
void adam(const AdamArgs& a, float* p, const float* g, float* m, float* v, size_t n);
void sgd_momentum(const SgdArgs& a, float* p, const float* g, float* vel, size_t n);
void widen_i8(const int8_t* q, float s, float* y, size_t n);
float dot_i8(const int8_t* q, const float* x, size_t n);
void transpose(const float* src, size_t rows, size_t cols, size_t lds, float* dst, size_t ldd);
void patches_k4(const float* const* src, size_t cs, int channels, int ow, int stride, float* rows, size_t ld);
void patches_k4_add(const float* rows, size_t ld, int channels, int first, int step, int ow, int stride,
                    float* const* dst, size_t cs);

// The full scalar table.
extern const Kernels kKernels;

}  // namespace ember::scalar
