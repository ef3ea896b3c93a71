#ifndef AMALGAM_F16_H
#define AMALGAM_F16_H

#include <stddef.h>
#include <stdint.h>

/* 1 when this CPU has the F16C conversions these functions need (callers keep their own code otherwise) */
int amalgam_f16c_supported(void);

/*
 * IEEE binary16 <-> binary32, round-to-nearest-even, subnormals included, exactly as the engine's
 * JavaScript codecs (formats/codecs.ts): NaN keeps its sign and payload both ways (hardware would
 * quiet signalling NaNs; those lanes are redone by hand). Only call when amalgam_f16c_supported().
 */
void amalgam_f16_to_f32(const uint16_t *src, float *dst, size_t n);
void amalgam_f32_to_f16(const float *src, uint16_t *dst, size_t n);

#endif
