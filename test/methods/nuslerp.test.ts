import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, numel, sampleTensor } from './sample-tensors'

/*
 * Naive float64 nuslerp (METHODS.md §4.3): gathers each vector's element indices explicitly
 * (whole tensor, last-axis slices, or first-axis fibres), then applies the arc formula per vector.
 */
function vectorsOf(shape: readonly number[], flatten: boolean, rowWise: boolean): number[][] {
  const n = numel(shape)
  const all = Array.from({ length: n }, (_, i) => i)
  if (flatten || shape.length <= 1) return [all]
  if (!rowWise) {
    const len = shape[shape.length - 1]!
    return Array.from({ length: n / len }, (_, s) => all.slice(s * len, (s + 1) * len))
  }
  const stride = n / shape[0]!
  return Array.from({ length: stride }, (_, j) => Array.from({ length: shape[0]! }, (_, r) => r * stride + j))
}

function naiveNuslerp(a: Float32Array, b: Float32Array, base: Float32Array | null, t: number, shape: readonly number[], flatten: boolean, rowWise: boolean): Float64Array {
  const v0 = Float64Array.from(a, (x, i) => (base ? Math.fround(x - base[i]!) : x))
  const v1 = Float64Array.from(b, (x, i) => (base ? Math.fround(x - base[i]!) : x))
  const out = new Float64Array(a.length)
  for (const idx of vectorsOf(shape, flatten, rowWise)) {
    const n0 = Math.max(Math.hypot(...idx.map((i) => v0[i]!)), 1e-7)
    const n1 = Math.max(Math.hypot(...idx.map((i) => v1[i]!)), 1e-7)
    const c = idx.reduce((s, i) => s + (v0[i]! / n0) * (v1[i]! / n1), 0)
    const theta = Math.acos(Math.min(1, Math.max(-1, c)))
    const st = Math.sin(theta)
    for (const i of idx) {
      const r = Math.abs(st) < 1e-8 ? (1 - t) * v0[i]! + t * v1[i]! : (Math.sin((1 - t) * theta) * v0[i]! + Math.sin(t * theta) * v1[i]!) / st
      out[i] = (base ? base[i]! : 0) + r
    }
  }
  return out
}

const MODES = [
  [true, false],
  [false, false],
  [false, true],
] as const

describe('nuslerp', () => {
  it('matches the float64 reference in every mode, with and without a base', async () => {
    for (const shape of [...SHAPES, [3, 8]]) {
      const n = numel(shape)
      const a = sampleTensor(n, 1)
      const b = sampleTensor(n, 2)
      const base = sampleTensor(n, 3).map((x) => x * 0.3)
      for (const [flatten, row_wise] of MODES) {
        for (const [weight, t] of [[[1, 1], 0.5], [[0.2, 0.6], 0.75], [[1, -1], 0.5]] as const) {
          const params = { weight: [...weight], flatten, row_wise }
          // some 3-element slices are nearly opposite: 1/sin θ ≈ 20 amplifies float32 rounding of the sums
          expectClose((await runMethod('nuslerp', { inputs: [a, b], shape, params })).output, naiveNuslerp(a, b, null, t, shape, flatten, row_wise), 2e-4, 1e-5)
          expectClose((await runMethod('nuslerp', { inputs: [a, b], base, shape, params })).output, naiveNuslerp(a, b, base, t, shape, flatten, row_wise), 2e-4, 1e-5)
        }
      }
    }
  })

  it('streams: tiny chunks give the single-chunk result in every mode', async () => {
    for (const shape of [[6, 50], [40, 25], [2, 3, 7, 5]]) {
      const n = numel(shape)
      const [a, b, base] = [4, 5, 6].map((s) => sampleTensor(n, s))
      for (const [flatten, row_wise] of MODES) {
        const params = { weight: [0.3, 0.5], flatten, row_wise }
        const expected = naiveNuslerp(a!, b!, base!, 0.625, shape, flatten, row_wise)
        for (const chunkElements of [7, 16, 64]) {
          expectClose((await runMethod('nuslerp', { inputs: [a!, b!], base: base!, shape, params, chunkElements })).output, expected)
        }
      }
    }
  })

  it('gives A at weight_b 0, B at weight_a 0, and mixes parallel or zero-free identical inputs linearly', async () => {
    const a = sampleTensor(30, 7)
    const b = sampleTensor(30, 8)
    expectClose((await runMethod('nuslerp', { inputs: [a, b], params: { weight: [1, 0] } })).output, a)
    expectClose((await runMethod('nuslerp', { inputs: [a, b], params: { weight: [0, 2] } })).output, b)
    const twice = a.map((x) => 2 * x)
    expectClose((await runMethod('nuslerp', { inputs: [a, twice] })).output, Float64Array.from(a, (x) => 1.5 * x))
  })

  it('treats a zero vector as perpendicular: sin(tπ/2)·B', async () => {
    const b = sampleTensor(12, 9)
    const { output } = await runMethod('nuslerp', { inputs: [new Float32Array(12), b], params: { weight: [1, 3] } })
    expectClose(output, Float64Array.from(b, (x) => Math.sin((0.75 * Math.PI) / 2) * x))
    expect(output.every(Number.isFinite)).toBe(true)
  })
})
