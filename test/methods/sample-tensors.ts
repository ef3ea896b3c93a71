import { assert, expect } from 'vitest'

/*
 * Inputs and comparisons shared by the elementwise method tests. Values are float32-exact, so the
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
