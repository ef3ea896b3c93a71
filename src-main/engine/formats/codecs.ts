import { nativeAddon, type NativeAddon } from '../compute/native-addon'
import { AmalgamError } from '../errors'
import { dtypeSize, type DType, type FloatDType } from './dtype'

/*
 * Conversions between stored tensor bytes (little-endian) and Float32Array, run over billions of
 * elements: every loop works on typed-array views with integer bit operations, nothing is allocated
 * per element, and each format has its own loop so the engine keeps every call site monomorphic.
 *
 * Rounding is IEEE round-to-nearest-even everywhere, subnormals included. Overflow: F16, BF16 and
 * F8_E5M2 go to ±inf as IEEE does; F8_E4M3 (e4m3fn, which has no infinity) saturates to ±448, ±inf
 * included. NaN stays NaN, keeping its sign and as much payload as the narrow format holds (so every
 * stored pattern survives decode → encode bit for bit); a payload that would vanish becomes the
 * quiet NaN, because an all-zero mantissa would mean infinity.
 *
 * F16, the most common checkpoint dtype, goes through the native addon's F16C conversions when it is
 * built and the CPU has them (same results bit for bit, ~10x faster); the loops below are the fallback.
 */

let f16c: NativeAddon | null | undefined
/** the addon when it can convert halves here, else null (decided once per thread) */
function nativeF16(): NativeAddon | null {
  if (f16c === undefined) {
    const status = nativeAddon()
    f16c = 'addon' in status && status.addon.hasF16c() ? status.addon : null
  }
  return f16c
}

/** f32 bits of a small float code, built from the layout; `ieee` = the top exponent holds inf/NaN (else e4m3fn: only S.1111.111 is NaN). */
function smallFloatToF32Bits(code: number, expBits: number, manBits: number, bias: number, ieee: boolean): number {
  const sign = ((code >>> (expBits + manBits)) & 1) << 31
  const expMax = (1 << expBits) - 1
  const manMask = (1 << manBits) - 1
  const exp = (code >>> manBits) & expMax
  const man = code & manMask
  const shift = 23 - manBits
  if (exp === expMax && (ieee || man === manMask)) {
    if (!ieee) return (sign | 0x7fc00000) >>> 0
    return (sign | 0x7f800000 | (man << shift)) >>> 0
  }
  if (exp !== 0) return (sign | ((exp - bias + 127) << 23) | (man << shift)) >>> 0
  if (man === 0) return sign >>> 0
  // subnormal: shift the mantissa up until its leading one becomes the implicit bit
  let e = 128 - bias
  let m = man
  while ((m & (1 << manBits)) === 0) {
    m <<= 1
    e--
  }
  return (sign | (e << 23) | ((m & manMask) << shift)) >>> 0
}

function buildTable(bits: number, expBits: number, manBits: number, bias: number, ieee: boolean): Uint32Array {
  const table = new Uint32Array(1 << bits)
  for (let code = 0; code < table.length; code++) table[code] = smallFloatToF32Bits(code, expBits, manBits, bias, ieee)
  return table
}

// Lookup tables hold f32 bit patterns, not floats: copying integers keeps NaN payloads exact.
let f16Table: Uint32Array | null = null
let e4m3Table: Uint32Array | null = null
let e5m2Table: Uint32Array | null = null
const f16Bits = (): Uint32Array => (f16Table ??= buildTable(16, 5, 10, 15, true))
const e4m3Bits = (): Uint32Array => (e4m3Table ??= buildTable(8, 4, 3, 7, false))
const e5m2Bits = (): Uint32Array => (e5m2Table ??= buildTable(8, 5, 2, 15, true))

/** A per-thread scratch area for inputs whose byteOffset does not allow a typed view of their element size. */
let scratch = new Uint8Array(0)
function scratchBytes(length: number): Uint8Array {
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, scratch.length * 2))
  return scratch.subarray(0, length)
}

/** `bytes` itself when a typed view of `size`-byte elements can start at it, else an aligned copy. */
function aligned(bytes: Uint8Array, size: number): Uint8Array {
  if (bytes.byteOffset % size === 0) return bytes
  const copy = scratchBytes(bytes.length)
  copy.set(bytes)
  return copy
}

function elementCount(dtype: DType, byteLength: number): number {
  const size = dtypeSize(dtype)
  if (byteLength % size !== 0) throw new AmalgamError('INTERNAL', `${byteLength} bytes is not a whole number of ${dtype} elements`)
  return byteLength / size
}

function outputFor(dst: Float32Array | undefined, n: number): Float32Array {
  if (dst === undefined) return new Float32Array(n)
  if (dst.length < n) throw new AmalgamError('INTERNAL', `decode target holds ${dst.length} elements, ${n} needed`)
  return dst.subarray(0, n)
}

/**
 * Decodes little-endian `src` (whole elements of `dtype`) into float32 and returns the filled part of
 * `dst` (or a new array). Integer dtypes are converted for the rare caller that needs their values as
 * floats; I64/U64 are exact only for |v| < 2^24 (beyond that the value is rounded to float64, then to
 * float32). Tensors are never merged this way: integer tensors are copied as bytes.
 */
export function decodeToFloat32(dtype: DType, src: Uint8Array, dst?: Float32Array): Float32Array {
  const n = elementCount(dtype, src.byteLength)
  const out = outputFor(dst, n)
  if (n === 0) return out
  // F32 is copied byte-wise into the output, so only the other dtypes need an aligned view
  const bytes = dtype === 'F32' ? src : aligned(src, dtypeSize(dtype))
  const out32 = new Uint32Array(out.buffer, out.byteOffset, n)
  switch (dtype) {
    case 'F32':
      new Uint8Array(out.buffer, out.byteOffset, n * 4).set(src)
      break
    case 'F64':
      copyNumbers(new Float64Array(bytes.buffer, bytes.byteOffset, n), out)
      break
    case 'F16': {
      const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, n)
      const native = nativeF16()
      if (native) native.decodeF16(halves, out)
      else lookup16(halves, f16Bits(), out32)
      break
    }
    case 'BF16':
      widenBf16(new Uint16Array(bytes.buffer, bytes.byteOffset, n), out32)
      break
    case 'F8_E4M3':
      lookup8(bytes, e4m3Bits(), out32)
      break
    case 'F8_E5M2':
      lookup8(bytes, e5m2Bits(), out32)
      break
    case 'I8':
      copyNumbers(new Int8Array(bytes.buffer, bytes.byteOffset, n), out)
      break
    case 'U8':
    case 'BOOL':
      copyNumbers(bytes, out)
      break
    case 'I16':
      copyNumbers(new Int16Array(bytes.buffer, bytes.byteOffset, n), out)
      break
    case 'U16':
      copyNumbers(new Uint16Array(bytes.buffer, bytes.byteOffset, n), out)
      break
    case 'I32':
      copyNumbers(new Int32Array(bytes.buffer, bytes.byteOffset, n), out)
      break
    case 'U32':
      copyNumbers(new Uint32Array(bytes.buffer, bytes.byteOffset, n), out)
      break
    case 'I64':
      copyBigInts(new BigInt64Array(bytes.buffer, bytes.byteOffset, n), out)
      break
    case 'U64':
      copyBigInts(new BigUint64Array(bytes.buffer, bytes.byteOffset, n), out)
      break
  }
  return out
}

type NumberArray = Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array

function copyNumbers(src: NumberArray, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = src[i]!
}

function copyBigInts(src: BigInt64Array | BigUint64Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = Number(src[i]!)
}

function lookup16(src: Uint16Array, table: Uint32Array, out32: Uint32Array): void {
  for (let i = 0; i < out32.length; i++) out32[i] = table[src[i]!]!
}

function lookup8(src: Uint8Array, table: Uint32Array, out32: Uint32Array): void {
  for (let i = 0; i < out32.length; i++) out32[i] = table[src[i]!]!
}

function widenBf16(src: Uint16Array, out32: Uint32Array): void {
  for (let i = 0; i < out32.length; i++) out32[i] = src[i]! << 16
}

/**
 * Encodes float32 values to little-endian `dtype` bytes (rounding as described at the top of this
 * file) into `dst` (or a new array) and returns the filled part.
 */
export function encodeFromFloat32(dtype: FloatDType, src: Float32Array, dst?: Uint8Array): Uint8Array {
  const size = dtypeSize(dtype)
  const byteLength = src.length * size
  let out: Uint8Array
  if (dst === undefined) out = new Uint8Array(byteLength)
  else if (dst.length < byteLength) throw new AmalgamError('INTERNAL', `encode target holds ${dst.length} bytes, ${byteLength} needed`)
  else out = dst.subarray(0, byteLength)
  if (src.length === 0) return out
  const target = out.byteOffset % size === 0 ? out : scratchBytes(byteLength)
  const src32 = new Uint32Array(src.buffer, src.byteOffset, src.length)
  switch (dtype) {
    case 'F32':
      target.set(new Uint8Array(src.buffer, src.byteOffset, byteLength))
      break
    case 'F64':
      new Float64Array(target.buffer, target.byteOffset, src.length).set(src)
      break
    case 'F16': {
      const halves = new Uint16Array(target.buffer, target.byteOffset, src.length)
      const native = nativeF16()
      if (native) native.encodeF16(src, halves)
      else narrowF16(src32, halves)
      break
    }
    case 'BF16':
      narrowBf16(src32, new Uint16Array(target.buffer, target.byteOffset, src.length))
      break
    case 'F8_E4M3':
      narrowE4M3(src32, target)
      break
    case 'F8_E5M2':
      narrowE5M2(src32, target)
      break
  }
  if (target !== out) out.set(target)
  return out
}

/** Nearest-even rounding of a normal-range magnitude: rebias the exponent, then drop `drop` mantissa bits. */
function roundNormal(abs: number, rebias: number, drop: number): number {
  const m = abs - rebias
  return (m + ((1 << (drop - 1)) - 1) + ((m >>> drop) & 1)) >>> drop
}

/**
 * Nearest-even rounding of a magnitude below the target's smallest normal: the result counts units of
 * the target's smallest subnormal, 2^(exponent - shiftBase) with the implicit bit restored.
 */
function roundSubnormal(abs: number, shiftBase: number): number {
  const shift = shiftBase - (abs >>> 23)
  const mant = (abs & 0x7fffff) | 0x800000
  return (mant + ((1 << (shift - 1)) - 1) + ((mant >>> shift) & 1)) >>> shift
}

// Thresholds are f32 bit patterns of |x|: 2^-14 = 0x38800000, 65520 = 0x477ff000 (ties to 65536 = inf),
// 2^-25 = 0x33000000 (ties to 0).
function narrowF16(src32: Uint32Array, out: Uint16Array): void {
  for (let i = 0; i < out.length; i++) {
    const x = src32[i]!
    const abs = x & 0x7fffffff
    let h: number
    if (abs < 0x38800000) h = abs <= 0x33000000 ? 0 : roundSubnormal(abs, 126)
    else if (abs < 0x477ff000) h = roundNormal(abs, 0x38000000, 13)
    else if (abs <= 0x7f800000) h = 0x7c00
    else {
      h = 0x7c00 | ((abs >>> 13) & 0x3ff)
      if ((h & 0x3ff) === 0) h |= 0x200
    }
    out[i] = ((x >>> 16) & 0x8000) | h
  }
}

function narrowBf16(src32: Uint32Array, out: Uint16Array): void {
  for (let i = 0; i < out.length; i++) {
    const x = src32[i]!
    const hi = x >>> 16
    if ((x & 0x7fffffff) > 0x7f800000) {
      out[i] = (hi & 0x7f) === 0 ? hi | 0x40 : hi
    } else {
      // hi/lo halves keep every intermediate a small integer (faster than adding to the 32-bit pattern)
      out[i] = hi + (((x & 0xffff) + (hi & 1) + 0x7fff) >>> 16)
    }
  }
}

// e4m3fn: smallest normal 2^-6 = 0x3c800000, 448 = 0x43e00000 (everything from there saturates),
// half the smallest subnormal 2^-10 = 117 << 23.
function narrowE4M3(src32: Uint32Array, out: Uint8Array): void {
  for (let i = 0; i < out.length; i++) {
    const x = src32[i]!
    const abs = x & 0x7fffffff
    let h: number
    if (abs < 0x3c800000) h = abs <= 117 << 23 ? 0 : roundSubnormal(abs, 141)
    else if (abs < 0x43e00000) h = roundNormal(abs, 0x3c000000, 20)
    else if (abs <= 0x7f800000) h = 0x7e
    else h = 0x7f
    out[i] = ((x >>> 24) & 0x80) | h
  }
}

// e5m2: smallest normal 2^-14 = 0x38800000, 61440 = 0x47700000 (ties to 65536 = inf),
// half the smallest subnormal 2^-17 = 110 << 23.
function narrowE5M2(src32: Uint32Array, out: Uint8Array): void {
  for (let i = 0; i < out.length; i++) {
    const x = src32[i]!
    const abs = x & 0x7fffffff
    let h: number
    if (abs < 0x38800000) h = abs <= 110 << 23 ? 0 : roundSubnormal(abs, 134)
    else if (abs < 0x47700000) h = roundNormal(abs, 0x38000000, 21)
    else if (abs <= 0x7f800000) h = 0x7c
    else {
      h = 0x7c | ((abs >>> 21) & 3)
      if ((h & 3) === 0) h |= 2
    }
    out[i] = ((x >>> 24) & 0x80) | h
  }
}

/** Reverses the byte order of each `elementSize`-byte element in place (big-endian storage → little-endian). */
export function byteSwapInPlace(bytes: Uint8Array, elementSize: number): void {
  if (elementSize <= 1) return
  if (bytes.length % elementSize !== 0) throw new AmalgamError('INTERNAL', `${bytes.length} bytes is not a whole number of ${elementSize}-byte elements`)
  const half = elementSize >>> 1
  for (let base = 0; base < bytes.length; base += elementSize) {
    for (let k = 0; k < half; k++) {
      const a = base + k
      const b = base + elementSize - 1 - k
      const t = bytes[a]!
      bytes[a] = bytes[b]!
      bytes[b] = t
    }
  }
}
