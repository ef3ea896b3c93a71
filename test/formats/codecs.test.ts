import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { byteSwapInPlace, decodeToFloat32, encodeFromFloat32 } from '../../src-main/engine/formats/codecs'
import { finiteCount, isNaNCode, LAYOUTS, refDecode, refEncode, refMidpoint, type NarrowDType } from './float-reference'

const NARROW: readonly NarrowDType[] = ['F16', 'BF16', 'F8_E4M3', 'F8_E5M2']

/** Every code of a format as little-endian stored bytes. */
function allCodes(dtype: NarrowDType): { codes: Uint32Array; bytes: Uint8Array } {
  const n = 2 ** LAYOUTS[dtype].bits
  const codes = Uint32Array.from({ length: n }, (_, i) => i)
  const bytes = n === 256 ? Uint8Array.from(codes) : new Uint8Array(Uint16Array.from(codes).buffer)
  return { codes, bytes }
}

function codesOf(dtype: NarrowDType, bytes: Uint8Array): number[] {
  return LAYOUTS[dtype].bits === 8 ? [...bytes] : [...new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)]
}

const f32Bits = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0]!

describe.each(NARROW)('%s decode and round trip over every bit pattern', (dtype) => {
  const layout = LAYOUTS[dtype]
  const { codes, bytes } = allCodes(dtype)
  const decoded = decodeToFloat32(dtype, bytes)

  it('decodes every pattern to the value its bit layout defines', () => {
    const wrong: string[] = []
    for (const code of codes) {
      const expected = refDecode(layout, code)
      const got = decoded[code]!
      const same = Number.isNaN(expected) ? Number.isNaN(got) : Object.is(got, Math.fround(expected)) && got === expected
      if (!same) wrong.push(`${code.toString(16)}: ${got} != ${expected}`)
    }
    expect(wrong).toEqual([])
  })

  it('encodes every decoded pattern back to the same bits (NaN payloads and signs included)', () => {
    // Our codecs keep NaN payloads; hardware converters may quiet signalling NaNs, we do not.
    const back = codesOf(dtype, encodeFromFloat32(dtype, decoded))
    const wrong = [...codes].filter((code) => back[code] !== code).map((c) => `${c.toString(16)} -> ${back[c]!.toString(16)}`)
    expect(wrong).toEqual([])
  })
})

function expectEncodesLikeReference(dtype: NarrowDType, values: readonly number[]): void {
  const layout = LAYOUTS[dtype]
  const got = codesOf(dtype, encodeFromFloat32(dtype, Float32Array.from(values)))
  values.forEach((x, i) => {
    const expected = refEncode(layout, Math.fround(x))
    if (expected < 0) expect(isNaNCode(layout, got[i]!), `${x}`).toBe(true)
    else expect(got[i], `${dtype} of ${x} (f32 bits ${f32Bits(x).toString(16)})`).toBe(expected)
  })
}

describe.each(NARROW)('%s encode matches a float64 nearest-even reference', (dtype) => {
  const layout = LAYOUTS[dtype]

  it('on arbitrary float32 values (NaN, ±inf, ±0, subnormals included)', () => {
    fc.assert(
      fc.property(fc.array(fc.float(), { minLength: 1, maxLength: 64 }), (xs) => expectEncodesLikeReference(dtype, xs)),
      { numRuns: 300 },
    )
  })

  it('on exact midpoints between neighbours and one float32 step either side', () => {
    fc.assert(
      fc.property(fc.nat({ max: finiteCount(layout) - 2 }), fc.boolean(), (index, negative) => {
        const mid = refMidpoint(layout, index)
        expect(Math.fround(mid)).toBe(mid)
        const bits = f32Bits(mid)
        const neighbours = [bits - 1, bits, bits + 1].map((b) => new Float32Array(Uint32Array.of(b).buffer)[0]!)
        expectEncodesLikeReference(dtype, neighbours.map((v) => (negative ? -v : v)))
      }),
      { numRuns: 500 },
    )
  })

  it('on every midpoint in the subnormal range and around the overflow threshold', () => {
    const subnormalMids = Array.from({ length: 2 ** layout.manBits + 1 }, (_, i) => refMidpoint(layout, i))
    const largest = refDecode(layout, (2 ** layout.expBits - 1) * 2 ** layout.manBits - (layout.kind === 'fn' ? 2 : 1))
    const around = [largest, largest * 1.01, largest * 1.5, largest * 2, 3.4e38, Infinity, -Infinity, NaN, -NaN]
    expectEncodesLikeReference(dtype, [...subnormalMids, ...subnormalMids.map((v) => -v), ...around, ...around.map((v) => -v)])
  })
})

describe('overflow, saturation and NaN rules', () => {
  const encode = (dtype: NarrowDType, xs: number[]): number[] => codesOf(dtype, encodeFromFloat32(dtype, Float32Array.from(xs)))

  it('F8_E4M3 saturates at ±448 (infinity included) and keeps NaN as S.1111.111', () => {
    expect(encode('F8_E4M3', [448, 449, 464, 465, 480, 1e30, Infinity])).toEqual([0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e])
    expect(encode('F8_E4M3', [-448, -1e30, -Infinity])).toEqual([0xfe, 0xfe, 0xfe])
    expect(encode('F8_E4M3', [NaN])).toEqual([0x7f])
    expect(encode('F8_E4M3', [2 ** -9, 2 ** -10, 1.5 * 2 ** -10])).toEqual([0x01, 0x00, 0x01])
  })

  it('F8_E5M2 overflows to ±inf like IEEE; NaN stays NaN', () => {
    expect(encode('F8_E5M2', [57344, 61439, 61440, Infinity, -Infinity])).toEqual([0x7b, 0x7b, 0x7c, 0x7c, 0xfc])
    const [nan] = encode('F8_E5M2', [NaN])
    expect(isNaNCode(LAYOUTS.F8_E5M2, nan!)).toBe(true)
  })

  it('F16 rounds 65519 down and 65520 up to infinity', () => {
    expect(encode('F16', [65504, 65519, 65520, -65520])).toEqual([0x7bff, 0x7bff, 0x7c00, 0xfc00])
  })

  it('BF16 rounds the largest float32 to infinity and keeps NaN', () => {
    const [big, nan] = encode('BF16', [3.4028234663852886e38, NaN])
    expect(big).toBe(0x7f80)
    expect(isNaNCode(LAYOUTS.BF16, nan!)).toBe(true)
  })
})

describe('F32 and F64', () => {
  it('round-trips F32 bit for bit and F64 through float32 rounding', () => {
    const xs = Float32Array.of(0, -0, 1.5, -3.25e-40, 3.4e38, Infinity, NaN)
    const f32 = decodeToFloat32('F32', encodeFromFloat32('F32', xs))
    expect([...new Uint32Array(f32.buffer)]).toEqual([...new Uint32Array(xs.buffer)])
    const doubles = [0.1, -1 / 3, 1e300, 1e-300, 2 ** -149, -0]
    const stored = new Uint8Array(Float64Array.from(doubles).buffer)
    expect([...decodeToFloat32('F64', stored)]).toEqual(doubles.map((d) => Math.fround(d)))
    expect([...new Float64Array(encodeFromFloat32('F64', xs).buffer)]).toEqual([...xs])
  })
})

describe('unaligned buffers', () => {
  it('decodes and encodes through byte offsets that are not a multiple of the element size', () => {
    fc.assert(
      fc.property(fc.constantFrom('F64', 'F32', 'F16', 'BF16', 'I32', 'U16', 'I64') , fc.integer({ min: 1, max: 7 }), fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }), (dtype, shift, raw) => {
        const size = { F64: 8, F32: 4, F16: 2, BF16: 2, I32: 4, U16: 2, I64: 8 }[dtype]
        const bytes = Uint8Array.from(raw.slice(0, raw.length - (raw.length % size)))
        const holder = new Uint8Array(bytes.length + shift)
        holder.set(bytes, shift)
        const unaligned = holder.subarray(shift)
        const a = decodeToFloat32(dtype, bytes)
        const b = decodeToFloat32(dtype, unaligned)
        expect([...new Uint32Array(b.buffer, b.byteOffset, b.length)]).toEqual([...new Uint32Array(a.buffer, a.byteOffset, a.length)])
      }),
    )
    const xs = Float32Array.of(1, -2.5, 65504, 1e-5)
    for (const dtype of ['F64', 'F32', 'F16', 'BF16'] as const) {
      const target = new Uint8Array(xs.length * 8 + 3).subarray(3)
      const aligned = encodeFromFloat32(dtype, xs)
      expect([...encodeFromFloat32(dtype, xs, target)]).toEqual([...aligned])
    }
  })

  it('writes into a given output and returns only the filled part', () => {
    const out = new Float32Array(10).fill(7)
    const got = decodeToFloat32('F16', new Uint8Array(Uint16Array.of(0x3c00, 0xc000).buffer), out)
    expect([...got]).toEqual([1, -2])
    expect(out[2]).toBe(7)
  })
})

describe('integer dtypes decoded to float', () => {
  it('converts every integer width, I64/U64 exactly below 2^24', () => {
    const cases = [
      ['I8', new Int8Array([-128, -1, 0, 127])],
      ['U8', new Uint8Array([0, 1, 255])],
      ['BOOL', new Uint8Array([0, 1])],
      ['I16', new Int16Array([-32768, 5, 32767])],
      ['U16', new Uint16Array([0, 65535])],
      ['I32', new Int32Array([-(2 ** 31), 16777215, 2 ** 31 - 1])],
      ['U32', new Uint32Array([0, 2 ** 32 - 1])],
      ['I64', new BigInt64Array([-16777215n, 0n, 76n, 16777215n])],
      ['U64', new BigUint64Array([0n, 16777215n])],
    ] as const
    for (const [dtype, values] of cases) {
      const bytes = new Uint8Array(values.buffer)
      const expected = [...values].map((v) => Math.fround(Number(v)))
      expect([...decodeToFloat32(dtype, bytes)], dtype).toEqual(expected)
    }
  })
})

describe('byteSwapInPlace', () => {
  it('reverses each element for 1, 2, 4 and 8-byte elements', () => {
    const bytes = (): Uint8Array => Uint8Array.from({ length: 16 }, (_, i) => i)
    for (const size of [1, 2, 4, 8]) {
      const b = bytes()
      byteSwapInPlace(b, size)
      const expected = [...bytes()].map((_, i) => Math.floor(i / size) * size + (size - 1 - (i % size)))
      expect([...b], `size ${size}`).toEqual(expected)
    }
  })

  it('turns big-endian fp16 into what the decoder reads', () => {
    const big = Uint8Array.of(0x3c, 0x00, 0xc0, 0x00)
    byteSwapInPlace(big, 2)
    expect([...decodeToFloat32('F16', big)]).toEqual([1, -2])
  })
})
