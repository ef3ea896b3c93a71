/*
 * Half-precision conversions with the F16C instructions (8 values per instruction). Checkpoints are
 * mostly fp16, and every merge decodes its inputs and encodes its output: in JavaScript that is
 * 2–4 ns per value, a fifth of a weighted sum's CPU time. Infinity/NaN lanes, which are rare, are
 * redone in scalar code so that NaN payloads survive exactly as in the JavaScript codecs.
 */
#include "f16.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AMALGAM_X86 1
#endif

static uint32_t f32_bits(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

static float f32_from_bits(uint32_t b) {
  float x;
  memcpy(&x, &b, sizeof x);
  return x;
}

/* ±inf or NaN half → float32 with the payload moved up, signalling NaNs kept signalling */
static float special_to_f32(uint16_t h) {
  return f32_from_bits(((uint32_t)(h & 0x8000) << 16) | 0x7f800000u | ((uint32_t)(h & 0x3ff) << 13));
}

/* NaN float32 → half NaN with as much payload as fits; a payload that would vanish becomes quiet */
static uint16_t nan_to_f16(float x) {
  uint32_t b = f32_bits(x);
  uint16_t h = (uint16_t)(0x7c00 | ((b >> 13) & 0x3ff));
  if ((h & 0x3ff) == 0) h |= 0x200;
  return (uint16_t)(((b >> 16) & 0x8000) | h);
}

#ifdef AMALGAM_X86
int amalgam_f16c_supported(void) {
  return __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
}

__attribute__((target("avx,f16c")))
void amalgam_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
  size_t i = 0;
  const __m128i exponent = _mm_set1_epi16(0x7c00);
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(h, exponent), exponent))) {
      for (size_t j = i; j < i + 8; j++) if ((src[j] & 0x7c00) == 0x7c00) dst[j] = special_to_f32(src[j]);
    }
  }
  for (; i < n; i++) {
    uint16_t h = src[i];
    dst[i] = (h & 0x7c00) == 0x7c00 ? special_to_f32(h) : _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
  }
}

__attribute__((target("avx,f16c")))
void amalgam_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(src + i);
    _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
    if (_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q))) {
      for (size_t j = i; j < i + 8; j++) if (src[j] != src[j]) dst[j] = nan_to_f16(src[j]);
    }
  }
  for (; i < n; i++) {
    float x = src[i];
    dst[i] = x != x ? nan_to_f16(x) : (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(x), _MM_FROUND_TO_NEAREST_INT), 0);
  }
}
#else
int amalgam_f16c_supported(void) { return 0; }
void amalgam_f16_to_f32(const uint16_t *src, float *dst, size_t n) { (void)src; (void)dst; (void)n; }
void amalgam_f32_to_f16(const float *src, uint16_t *dst, size_t n) { (void)src; (void)dst; (void)n; }
#endif
