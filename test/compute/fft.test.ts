import { describe, expect, it } from 'vitest'
import { FftPlan, fftn } from '../../src-main/engine/compute/fft'

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

describe('FFT', () => {
  it('matches the DFT definition for every length up to 70 and larger mixed-radix and Bluestein ones, both directions', () => {
    for (const n of [...Array.from({ length: 70 }, (_, i) => i + 1), 74, 128, 243, 1000, 1280, 37 * 4, 101 * 3]) {
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

  it('transforms every axis of an N-D tensor, and the inverse restores the input', () => {
    const shape = [3, 4, 5]
    const n = 60
    const re = signal(n, 3)
    const im = new Float64Array(n)
    // reference: 1-D DFTs along each axis in turn
    const [rr, ri] = [re.slice(), im.slice()]
    let stride = n
    for (const size of shape) {
      stride /= size
      for (let outer = 0; outer < n; outer += size * stride) {
        for (let inner = 0; inner < stride; inner++) {
          const idx = Array.from({ length: size }, (_, j) => outer + inner + j * stride)
          const [lr, li] = naiveDft(idx.map((p) => rr[p]!), idx.map((p) => ri[p]!), false)
          idx.forEach((p, j) => {
            rr[p] = lr[j]!
            ri[p] = li[j]!
          })
        }
      }
    }
    const r = re.slice()
    const i = im.slice()
    fftn(r, i, shape, false)
    expectNear(r, rr, 1e-9)
    expectNear(i, ri, 1e-9)
    fftn(r, i, shape, true)
    expectNear(r, re, 1e-12)
    expectNear(i, im, 1e-12)
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
