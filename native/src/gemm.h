#ifndef AMALGAM_GEMM_H
#define AMALGAM_GEMM_H

#include <stddef.h>

/*
 * C = op(A) · op(B), row-major float32, C is m x n, the inner dimension is k.
 * op(A) is A (m x k, stored m rows of k) or, with trans_a, Aᵀ (A stored k rows of m);
 * likewise op(B) is B (k x n) or, with trans_b, Bᵀ (B stored n rows of k).
 * Returns 0, or -1 when the packing buffers cannot be allocated.
 */
int amalgam_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
                  const float *a, const float *b, float *c);

/* 1 when the AVX2/FMA micro-kernel is used on this CPU, 0 for the portable one */
int amalgam_sgemm_uses_avx2(void);

#endif
