/*
 * A cache-blocked single-precision matrix product in the GotoBLAS/BLIS layout: panels of op(B)
 * (KC x NC) and op(A) (MC x KC) are packed into contiguous strips so that a register-blocked
 * micro-kernel (MR x NR outputs held in registers) streams both with unit stride. Packing reads the
 * operands through their transpose flags, so transposed products cost nothing extra.
 *
 * Why by hand: tfjs's wasm backend (one thread, 128-bit SIMD) reaches ~14 GFLOP/s here; a native
 * AVX2/FMA kernel reaches several times that, and the merge methods built on matrix products
 * (rotate's polar factor, randomized SVD) are bound by this one operation. No BLAS is assumed to
 * be installed on a user's machine, so the kernel ships as source and is compiled at install time.
 */
#include "gemm.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AMALGAM_X86 1
#endif

enum { MR = 6, NR = 16, KC = 256, MC = 144, NC = 3072 };

static void pack_a(int trans, const float *a, size_t lda, size_t i0, size_t mc, size_t p0, size_t kc, float *dst) {
  for (size_t is = 0; is < mc; is += MR) {
    size_t rows = mc - is < MR ? mc - is : MR;
    for (size_t p = 0; p < kc; p++) {
      for (size_t r = 0; r < rows; r++) {
        size_t i = i0 + is + r, q = p0 + p;
        *dst++ = trans ? a[q * lda + i] : a[i * lda + q];
      }
      for (size_t r = rows; r < MR; r++) *dst++ = 0.0f;
    }
  }
}

static void pack_b(int trans, const float *b, size_t ldb, size_t p0, size_t kc, size_t j0, size_t nc, float *dst) {
  for (size_t js = 0; js < nc; js += NR) {
    size_t cols = nc - js < NR ? nc - js : NR;
    for (size_t p = 0; p < kc; p++) {
      size_t q = p0 + p;
      if (!trans && cols == NR) {
        memcpy(dst, b + q * ldb + j0 + js, NR * sizeof(float));
        dst += NR;
        continue;
      }
      for (size_t s = 0; s < cols; s++) {
        size_t j = j0 + js + s;
        *dst++ = trans ? b[j * ldb + q] : b[q * ldb + j];
      }
      for (size_t s = cols; s < NR; s++) *dst++ = 0.0f;
    }
  }
}

/* tile[MR][NR] = Σ_p ap[p][·] ⊗ bp[p][·]; portable C, vectorised by the compiler */
static void micro_kernel_generic(size_t kc, const float *ap, const float *bp, float tile[MR][NR]) {
  float acc[MR][NR];
  memset(acc, 0, sizeof acc);
  for (size_t p = 0; p < kc; p++) {
    for (int r = 0; r < MR; r++) {
      float av = ap[r];
      for (int s = 0; s < NR; s++) acc[r][s] += av * bp[s];
    }
    ap += MR;
    bp += NR;
  }
  memcpy(tile, acc, sizeof acc);
}

#ifdef AMALGAM_X86
__attribute__((target("avx2,fma")))
static void micro_kernel_avx2(size_t kc, const float *ap, const float *bp, float tile[MR][NR]) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (size_t p = 0; p < kc; p++) {
    __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
    __m256 a;
    a = _mm256_broadcast_ss(ap + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(ap + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(ap + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(ap + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(ap + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(ap + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    ap += MR;
    bp += NR;
  }
  _mm256_storeu_ps(tile[0], c00); _mm256_storeu_ps(tile[0] + 8, c01);
  _mm256_storeu_ps(tile[1], c10); _mm256_storeu_ps(tile[1] + 8, c11);
  _mm256_storeu_ps(tile[2], c20); _mm256_storeu_ps(tile[2] + 8, c21);
  _mm256_storeu_ps(tile[3], c30); _mm256_storeu_ps(tile[3] + 8, c31);
  _mm256_storeu_ps(tile[4], c40); _mm256_storeu_ps(tile[4] + 8, c41);
  _mm256_storeu_ps(tile[5], c50); _mm256_storeu_ps(tile[5] + 8, c51);
}
#endif

typedef void (*micro_kernel_fn)(size_t, const float *, const float *, float[MR][NR]);

static micro_kernel_fn pick_kernel(void) {
#ifdef AMALGAM_X86
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return micro_kernel_avx2;
#endif
  return micro_kernel_generic;
}

int amalgam_sgemm_uses_avx2(void) {
#ifdef AMALGAM_X86
  return pick_kernel() == micro_kernel_avx2;
#else
  return 0;
#endif
}

int amalgam_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a, const float *b, float *c) {
  if (m == 0 || n == 0) return 0;
  if (k == 0) {
    memset(c, 0, m * n * sizeof(float));
    return 0;
  }
  micro_kernel_fn kernel = pick_kernel();
  size_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  size_t kc_max = k < KC ? k : KC, nc_max = n < NC ? n : NC;
  float *ap = malloc(sizeof(float) * MC * kc_max);
  float *bp = malloc(sizeof(float) * kc_max * (nc_max + NR));
  if (!ap || !bp) {
    free(ap);
    free(bp);
    return -1;
  }
  float tile[MR][NR];
  for (size_t j0 = 0; j0 < n; j0 += NC) {
    size_t nc = n - j0 < NC ? n - j0 : NC;
    for (size_t p0 = 0; p0 < k; p0 += KC) {
      size_t kc = k - p0 < KC ? k - p0 : KC;
      pack_b(trans_b, b, ldb, p0, kc, j0, nc, bp);
      for (size_t i0 = 0; i0 < m; i0 += MC) {
        size_t mc = m - i0 < MC ? m - i0 : MC;
        pack_a(trans_a, a, lda, i0, mc, p0, kc, ap);
        for (size_t js = 0; js < nc; js += NR) {
          size_t cols = nc - js < NR ? nc - js : NR;
          for (size_t is = 0; is < mc; is += MR) {
            size_t rows = mc - is < MR ? mc - is : MR;
            kernel(kc, ap + is * kc, bp + js * kc, tile);
            for (size_t r = 0; r < rows; r++) {
              float *row = c + (i0 + is + r) * n + j0 + js;
              if (p0 == 0) memcpy(row, tile[r], cols * sizeof(float));
              else for (size_t s = 0; s < cols; s++) row[s] += tile[r][s];
            }
          }
        }
      }
    }
  }
  free(ap);
  free(bp);
  return 0;
}
