import { describe, expect, it } from 'vitest'
import { FftPlan, filterRealTensor, halfSpectrumShape } from '../../src-main/engine/compute/fft'

/** the DFT by its definition, O(n²) */
function naiveDft(re: ArrayLike<number>, im: ArrayLike<number>, inverse: boolean): [Float64Array, Float64Array] {
  const n = re.length
  const sign = inverse ? 1 : -1
  const outRe = new Float64Array(n)
  const outIm = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const angle = (sign * 2 * Math.PI * ((j * k) % n)) / n
      outRe[k]! += re[j]! * Math.cos(angle) - im[j]! * Math.sin(angle)
      outIm[k]! += re[j]! * Math.sin(angle) + im[j]! * Math.cos(angle)
    }
  }
  return [outRe, outIm]
}

function signal(n: number, seed: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) + 0.3 * Math.cos(i * i * 0.13 + seed))
}

function expectNear(actual: Float64Array, expected: Float64Array, tol: number): void {
  for (let i = 0; i < actual.length; i++) if (!(Math.abs(actual[i]! - expected[i]!) <= tol)) expect.fail(`element ${i}: got ${actual[i]}, expected ${expected[i]}`)
}

/** row-major strides of a shape */
function strides(shape: readonly number[]): number[] {
  return shape.map((_, d) => shape.slice(d + 1).reduce((p, s) => p * s, 1))
}

/** the DFT of every axis in turn, by the definition */
function naiveDftN(re: Float64Array, im: Float64Array, shape: readonly number[], inverse: boolean): [Float64Array, Float64Array] {
  let [r, i] = [re.slice(), im.slice()]
  const n = re.length
  strides(shape).forEach((stride, d) => {
    const size = shape[d]!
    for (let start = 0; start < n; start++) {
      if (Math.floor(start / stride) % size !== 0) continue
      const idx = Array.from({ length: size }, (_, j) => start + j * stride)
      const [lr, li] = naiveDft(idx.map((p) => r[p]!), idx.map((p) => i[p]!), inverse)
      idx.forEach((p, j) => {
        r[p] = lr[j]!
        i[p] = li[j]!
      })
    }
  })
  if (inverse) [r, i] = [r.map((v) => v / n), i.map((v) => v / n)]
  return [r, i]
}

/** the flat index of the frequency −k of the entry at flat index i */
function mirrored(i: number, shape: readonly number[]): number {
  return strides(shape).reduce((sum, stride, d) => sum + ((shape[d]! - (Math.floor(i / stride) % shape[d]!)) % shape[d]!) * stride, 0)
}

/** a gain over the full spectrum with g(k) = g(−k): h(k) + h(−k) for arbitrary h */
function symmetricGain(shape: readonly number[], n: number): Float64Array {
  const h = signal(n, 11)
  return Float64Array.from(h, (v, i) => v + h[mirrored(i, shape)]!)
}

/** the entries of a full-spectrum gain that the half-spectrum layout keeps */
function halveGain(gain: Float64Array, shape: readonly number[]): Float64Array {
  const dims = shape.length === 0 ? [1] : shape
  const half = halfSpectrumShape(dims)
  const halfStrides = strides(half.shape)
  const out = new Float64Array(half.shape.reduce((p, s) => p * s, 1))
  gain.forEach((g, i) => {
    const index = strides(dims).map((stride, d) => Math.floor(i / stride) % dims[d]!)
    if (index[half.axis]! >= half.shape[half.axis]!) return
    out[index.reduce((sum, k, d) => sum + k * halfStrides[d]!, 0)] = g
  })
  return out
}

/** ifftn(gain · fftn(x)) on the full complex spectrum; the imaginary part must vanish for a symmetric gain */
function naiveFilter(x: Float64Array, shape: readonly number[], gain: Float64Array): Float64Array {
  const dims = shape.length === 0 ? [1] : shape
  const [re, im] = naiveDftN(x, new Float64Array(x.length), dims, false)
  const [outRe, outIm] = naiveDftN(re.map((v, i) => v * gain[i]!), im.map((v, i) => v * gain[i]!), dims, true)
  expectNear(outIm, new Float64Array(x.length), 1e-12)
  return outRe
}

describe('FFT', () => {
  it('matches the DFT definition for every length up to 70 and larger mixed-radix and Bluestein ones, both directions', () => {
    for (const n of [...Array.from({ length: 70 }, (_, i) => i + 1), 74, 128, 243, 320, 768, 1000, 1280, 3 * 5 * 64, 5120, 37 * 4, 101 * 3]) {
      const re = signal(n, 1)
      const im = signal(n, 2)
      for (const inverse of [false, true]) {
        const [er, ei] = naiveDft(re, im, inverse)
        const r = re.slice()
        const i = im.slice()
        FftPlan.of(n).transform(r, i, inverse)
        expectNear(r, er, 1e-9 * n)
        expectNear(i, ei, 1e-9 * n)
      }
    }
  })

  it('transforms tiles of interleaved lines like each line on its own', () => {
    // 7, 11·2: the generic butterfly; 37: Bluestein; the rest: radix 2, 3, 4, 5 passes
    for (const n of [1, 2, 3, 5, 6, 7, 9, 10, 12, 15, 16, 20, 22, 37, 45, 80, 320]) {
      for (const width of [2, 3, 8]) {
        const re = signal(n * width, n)
        const im = signal(n * width, n + 1)
        for (const inverse of [false, true]) {
          const [outRe, outIm] = FftPlan.of(n).transformTile(re.slice(), im.slice(), width, inverse)
          for (let c = 0; c < width; c++) {
            const line = (x: Float64Array): Float64Array => Float64Array.from({ length: n }, (_, j) => x[j * width + c]!)
            const [er, ei] = naiveDft(line(re), line(im), inverse)
            expectNear(line(outRe), er, 1e-9 * n)
            expectNear(line(outIm), ei, 1e-9 * n)
          }
        }
      }
    }
  })

  it('filters real tensors of every shape like the full complex DFT over all axes', () => {
    // [1024, 18]: a cut axis whose Stockham result ends in the plan's work buffer, with 9 paired lines
    const shapes = [[], [1], [2], [3], [5], [6], [9], [10], [12], [15], [7], [37], [1, 1], [3, 5], [4, 6], [6, 4], [3, 1, 5], [2, 4, 3, 2], [5, 3, 3], [10, 3, 3], [2, 22], [1024, 18]]
    for (const shape of shapes) {
      const n = shape.reduce((p, s) => p * s, 1)
      const x = signal(n, shape.length + n)
      const gain = symmetricGain(shape, n)
      const expected = naiveFilter(x, shape, gain)
      const actual = x.slice()
      filterRealTensor(actual, shape, halveGain(gain, shape))
      expectNear(actual, expected, 1e-11)
    }
  })

  it('restores a real tensor under a gain of 1 (forward and inverse round trip), on shapes with many lines per tile', () => {
    for (const shape of [[1280, 3], [320, 9], [64, 20, 3], [9, 320], [3, 3, 3, 3, 3], [5, 1280], [2, 65536], [1024, 1024]]) {
      const n = shape.reduce((p, s) => p * s, 1)
      const x = signal(n, 6)
      const actual = x.slice()
      const half = halfSpectrumShape(shape).shape.reduce((p, s) => p * s, 1)
      filterRealTensor(actual, shape, new Float64Array(half).fill(1))
      expectNear(actual, x, 1e-12)
    }
  })

  it('filters long 1-D signals (four-step on the half spectrum, Bluestein rows, a long prime) like the DFT', () => {
    for (const n of [1 << 17, 105_000, 2 * 65_537, 65_537]) {
      const x = signal(n, 7)
      const half = Math.floor(n / 2) + 1
      // frequencies spread over the four-step rows and columns, with the Nyquist entry when n is even
      const kept = [0, 5, 2 * 256 + 1, Math.floor(n / 3), half - 1]
      const gain = new Float64Array(half)
      for (const k of kept) gain[k] = 1
      const expected = new Float64Array(n)
      for (const k of kept) {
        // X_k by the definition; its entry and the mirrored one −k together give m·Re(X_k·e^(2πijk/n))/n
        let xr = 0
        let xi = 0
        for (let j = 0; j < n; j++) {
          const angle = (-2 * Math.PI * ((j * k) % n)) / n
          xr += x[j]! * Math.cos(angle)
          xi += x[j]! * Math.sin(angle)
        }
        const multiplicity = k === 0 || 2 * k === n ? 1 : 2
        for (let j = 0; j < n; j++) {
          const angle = (2 * Math.PI * ((j * k) % n)) / n
          expected[j]! += (multiplicity * (xr * Math.cos(angle) - xi * Math.sin(angle))) / n
        }
      }
      const actual = x.slice()
      filterRealTensor(actual, [n], gain)
      expectNear(actual, expected, 1e-9)
      const same = x.slice()
      filterRealTensor(same, [n], new Float64Array(half).fill(1))
      expectNear(same, x, 1e-11)
    }
  })

  it('refuses a gain that does not cover the half spectrum', () => {
    expect(() => filterRealTensor(new Float64Array(12), [3, 4], new Float64Array(12))).toThrow(/half spectrum/)
  })

  it('transforms long lengths (four-step split, Bluestein on a four-step inner transform) correctly', () => {
    for (const n of [1 << 17, 105_000, 65_537, 2 * 65_537]) {
      const re = signal(n, 4)
      const im = signal(n, 5)
      const r = re.slice()
      const i = im.slice()
      FftPlan.of(n).transform(r, i, false)
      // spot checks against the definition: X_k for a few k, each O(n)
      for (const k of [0, 1, 7, Math.floor(n / 3), n - 1]) {
        let er = 0
        let ei = 0
        for (let j = 0; j < n; j++) {
          const angle = (-2 * Math.PI * ((j * k) % n)) / n
          er += re[j]! * Math.cos(angle) - im[j]! * Math.sin(angle)
          ei += re[j]! * Math.sin(angle) + im[j]! * Math.cos(angle)
        }
        expect(Math.abs(r[k]! - er)).toBeLessThan(1e-6 * Math.sqrt(n))
        expect(Math.abs(i[k]! - ei)).toBeLessThan(1e-6 * Math.sqrt(n))
      }
      FftPlan.of(n).transform(r, i, true)
      expectNear(r.map((v) => v / n), re, 1e-9)
      expectNear(i.map((v) => v / n), im, 1e-9)
    }
  })

  it('refuses lengths that are not positive integers', () => {
    expect(() => FftPlan.of(0)).toThrow(RangeError)
  })
})
