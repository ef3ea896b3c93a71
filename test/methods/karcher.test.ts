import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, numel, sampleTensor } from './sample-tensors'

/* Naive float64 Karcher mean with explicit vectors (METHODS.md §4.5). */
function naiveKarcher(xs: readonly Float32Array[], maxIter = 10, tol = 1e-5): Float64Array {
  const n = xs[0]!.length
  const N = xs.length
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((s, v, i) => s + v * b[i]!, 0)
  const norms = xs.map((x) => Math.sqrt(dot(x, x)))
  const valid = norms.flatMap((v, i) => (v > tol ? [i] : []))
  if (valid.length === 0) return new Float64Array(n)
  const units = valid.map((i) => Float64Array.from(xs[i]!, (v) => v / norms[i]!))
  const a = 1 / valid.length
  let mean = new Float64Array(n)
  for (const u of units) u.forEach((v, e) => (mean[e]! += a * v))
  const mn = Math.sqrt(dot(mean, mean))
  mean = mn < tol ? units[0]!.slice() : mean.map((v) => v / mn)
  for (let it = 0; it < maxIter; it++) {
    const tangent = new Float64Array(n)
    for (const u of units) {
      const c = Math.min(1, Math.max(-1, dot(mean, u)))
      const theta = Math.acos(c)
      if (theta < tol) continue
      u.forEach((v, e) => (tangent[e]! += ((a * theta) / Math.sin(theta)) * (v - c * mean[e]!)))
    }
    const tn = Math.sqrt(dot(tangent, tangent))
    if (tn < tol) break
    mean = mean.map((v, e) => Math.cos(tn) * v + (Math.sin(tn) * tangent[e]!) / tn)
    const un = Math.sqrt(dot(mean, mean))
    if (un > tol) mean = mean.map((v) => v / un)
  }
  const scale = norms.reduce((s, v) => s + v, 0) / N
  return mean.map((v) => v * scale)
}

describe('karcher', () => {
  it('matches the float64 reference for 2 to 4 models and several iteration counts', async () => {
    for (const shape of SHAPES.filter((s) => numel(s) > 1)) {
      const n = numel(shape)
      for (const models of [2, 3, 4]) {
        const inputs = Array.from({ length: models }, (_, i) => sampleTensor(n, i + 1))
        for (const max_iter of [0, 1, 10]) {
          expectClose((await runMethod('karcher', { inputs, shape, params: { max_iter } })).output, naiveKarcher(inputs, max_iter), 1e-4, 1e-5)
        }
      }
    }
  })

  it('streams: tiny chunks give the single-chunk result', async () => {
    const inputs = [1, 2, 3, 4].map((s) => sampleTensor(300, s))
    const expected = naiveKarcher(inputs)
    for (const chunkElements of [7, 30, 1 << 20]) {
      expectClose((await runMethod('karcher', { inputs, shape: [20, 15], chunkElements })).output, expected, 1e-4, 1e-5)
    }
  })

  it('is the slerp midpoint for two models of equal norm, and keeps identical inputs', async () => {
    const a = sampleTensor(60, 1)
    const b0 = sampleTensor(60, 2)
    const k = Math.hypot(...a) / Math.hypot(...b0)
    const b = b0.map((x) => x * k)
    const slerp = await runMethod('slerp', { inputs: [a, b], params: { alpha: 0.5, variant: 'mecha' } })
    expectClose((await runMethod('karcher', { inputs: [a, b] })).output, slerp.output, 1e-4, 1e-5)
    expectClose((await runMethod('karcher', { inputs: [a, a, a] })).output, a, 1e-5, 1e-6)
    expect((await runMethod('karcher', { inputs: [a] })).output).toEqual(a)
  })

  it('ignores zero tensors for the direction but counts them in the mean norm; all zero gives zero', async () => {
    const a = sampleTensor(40, 3)
    const zero = new Float32Array(40)
    expectClose((await runMethod('karcher', { inputs: [a, zero] })).output, Float64Array.from(a, (x) => x / 2), 1e-5, 1e-6)
    expect((await runMethod('karcher', { inputs: [zero, zero] })).output).toEqual(zero)
  })
})
