/*
 * Naive float64 reference for the narrow float formats, written from the bit layouts alone (no bit
 * tricks shared with the code under test): decode by the textbook formula, encode by searching the
 * sorted list of every representable value and picking the nearest, ties to the even code.
 */

export interface FloatLayout {
  readonly bits: number
  readonly expBits: number
  readonly manBits: number
  readonly bias: number
  /** 'ieee': top exponent = inf/NaN; 'fn' (e4m3fn): no inf, only S.1111.111 is NaN, overflow saturates */
  readonly kind: 'ieee' | 'fn'
}

export const LAYOUTS = {
  F16: { bits: 16, expBits: 5, manBits: 10, bias: 15, kind: 'ieee' },
  BF16: { bits: 16, expBits: 8, manBits: 7, bias: 127, kind: 'ieee' },
  F8_E4M3: { bits: 8, expBits: 4, manBits: 3, bias: 7, kind: 'fn' },
  F8_E5M2: { bits: 8, expBits: 5, manBits: 2, bias: 15, kind: 'ieee' },
} as const satisfies Record<string, FloatLayout>

export type NarrowDType = keyof typeof LAYOUTS

export function refDecode(layout: FloatLayout, code: number): number {
  const sign = Math.floor(code / 2 ** (layout.bits - 1)) % 2 === 1 ? -1 : 1
  const exp = Math.floor(code / 2 ** layout.manBits) % 2 ** layout.expBits
  const man = code % 2 ** layout.manBits
  const expMax = 2 ** layout.expBits - 1
  if (layout.kind === 'ieee' && exp === expMax) return man === 0 ? sign * Infinity : NaN
  if (layout.kind === 'fn' && exp === expMax && man === 2 ** layout.manBits - 1) return NaN
  if (exp === 0) return sign * man * 2 ** (1 - layout.bias - layout.manBits)
  return sign * (1 + man / 2 ** layout.manBits) * 2 ** (exp - layout.bias)
}

export function isNaNCode(layout: FloatLayout, code: number): boolean {
  return Number.isNaN(refDecode(layout, code))
}

interface Finite {
  readonly values: number[]
  readonly codes: number[]
}

const finiteCache = new Map<FloatLayout, Finite>()

/** Every finite non-negative value with its code, ascending. */
function finitePositives(layout: FloatLayout): Finite {
  let f = finiteCache.get(layout)
  if (f === undefined) {
    const values: number[] = []
    const codes: number[] = []
    for (let code = 0; code < 2 ** (layout.bits - 1); code++) {
      const v = refDecode(layout, code)
      if (Number.isFinite(v)) {
        values.push(v)
        codes.push(code)
      }
    }
    f = { values, codes }
    finiteCache.set(layout, f)
  }
  return f
}

/** Code of the nearest representable value (ties to even); overflow → inf (ieee) or the largest finite (fn). NaN → -1. */
export function refEncode(layout: FloatLayout, x: number): number {
  if (Number.isNaN(x)) return -1
  const signBit = x < 0 || Object.is(x, -0) ? 2 ** (layout.bits - 1) : 0
  const a = Math.abs(x)
  const { values, codes } = finitePositives(layout)
  const maxIndex = values.length - 1
  const infCode = (2 ** layout.expBits - 1) * 2 ** layout.manBits
  let magnitude: number
  if (a > values[maxIndex]!) {
    if (layout.kind === 'fn') magnitude = codes[maxIndex]!
    else {
      // the next value after the largest finite one, had the exponent range continued, is 2^(emax + 1)
      const next = 2 ** (2 ** layout.expBits - 1 - layout.bias)
      const mid = (values[maxIndex]! + next) / 2
      // the largest finite code has an odd mantissa, so a tie goes to the even neighbour: infinity
      magnitude = a < mid ? codes[maxIndex]! : infCode
    }
  } else {
    let lo = 0
    let hi = maxIndex
    while (lo < hi) {
      const m = (lo + hi + 1) >> 1
      if (values[m]! <= a) lo = m
      else hi = m - 1
    }
    if (values[lo] === a || lo === maxIndex) magnitude = codes[lo]!
    else {
      const below = a - values[lo]!
      const above = values[lo + 1]! - a
      if (below < above) magnitude = codes[lo]!
      else if (above < below) magnitude = codes[lo + 1]!
      else magnitude = codes[lo]! % 2 === 0 ? codes[lo]! : codes[lo + 1]!
    }
  }
  return signBit + magnitude
}

/** Midpoints between neighbouring finite values (exactly representable in float32 for every layout here). */
export function refMidpoint(layout: FloatLayout, index: number): number {
  const { values } = finitePositives(layout)
  const i = index % (values.length - 1)
  return (values[i]! + values[i + 1]!) / 2
}

export function finiteCount(layout: FloatLayout): number {
  return finitePositives(layout).values.length
}
