import { assert, expect } from 'vitest'

/*
 * Inputs, comparisons and statistical checks shared by the method tests. Values are float32-exact, so the
 * naive float64 references in the tests see exactly what the kernels see.
 */

/** deterministic values in (-2, 2), every seventh one an exact 0 (ties, 0/0 paths) */
export function sampleTensor(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0 : 2 * Math.sin(i * 1.37 + seed * 2.11 + 0.5) * Math.cos(seed + i * 0.11)))
}

/** shapes every elementwise method must handle: 0-dim, 1-D, 2-D, a 4-D conv weight */
export const SHAPES: readonly (readonly number[])[] = [[], [7], [6, 5], [4, 3, 3, 3]]

export function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1)
}

/** elementwise |actual − expected| ≤ abs + rel·|expected|; NaN must match NaN */
export function expectClose(actual: Float32Array, expected: ArrayLike<number>, rel = 1e-5, abs = 1e-6): void {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!
    const e = expected[i]!
    const ok = Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= abs + rel * Math.abs(e)
    if (!ok) assert.fail(`element ${i}: got ${a}, expected ${e}`)
  }
}

/** bit-level equality that tells -0 from +0 and accepts NaN == NaN */
export function expectSameValues(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`element ${i}: got ${actual[i]}, expected ${expected[i]}`)
  }
}

/** seeds per statistical check: with 4-σ bounds a correct kernel fails about once in 16 000 checks */
const STATISTIC_SEEDS = 400

/**
 * The expectation of a seeded method (METHODS.md §9): runs `output(seed)` for seeds 0 … 399 and checks
 * every element's mean over the seeds against `expected`, within 4 standard errors estimated from the
 * sample variance; an element that never varies must equal its expectation to 5 decimals.
 */
export async function expectSeededMean(output: (seed: number) => Promise<Float32Array>, expected: ArrayLike<number>): Promise<void> {
  const n = expected.length
  const sum = new Float64Array(n)
  const sumSq = new Float64Array(n)
  for (let seed = 0; seed < STATISTIC_SEEDS; seed++) {
    const values = await output(seed)
    expect(values.length).toBe(n)
    values.forEach((v, i) => {
      sum[i]! += v
      sumSq[i]! += v * v
    })
  }
  for (let i = 0; i < n; i++) {
    const mean = sum[i]! / STATISTIC_SEEDS
    const variance = (sumSq[i]! - STATISTIC_SEEDS * mean * mean) / (STATISTIC_SEEDS - 1)
    if (variance < 1e-12) expect(mean, `element ${i} (constant over the seeds)`).toBeCloseTo(expected[i]!, 5)
    else expect(Math.abs(mean - expected[i]!) / Math.sqrt(variance / STATISTIC_SEEDS), `element ${i}: |z| of the mean ${mean} against ${expected[i]}`).toBeLessThanOrEqual(4)
  }
}

/** a count of n independent trials of probability p within 4 binomial standard deviations of n·p */
export function expectBinomial(count: number, n: number, p: number): void {
  expect(Math.abs(count - n * p)).toBeLessThanOrEqual(4 * Math.sqrt(n * p * (1 - p)))
}
