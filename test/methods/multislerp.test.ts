import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, numel, sampleTensor } from './sample-tensors'

/* Naive float64 multislerp on explicit vectors (METHODS.md §4.4). */
function naiveMultislerp(inputs: Float32Array[], base: Float32Array | null, weight: number[], normalize = true, eps = 1e-8): Float64Array {
  const xs = inputs.map((x) => Float64Array.from(x, (v, i) => (base ? Math.fround(v - base[i]!) : v)))
  const n = xs[0]!.length
  const total = weight.reduce((s, v) => s + v, 0)
  const w = weight.map((v) => (normalize ? v / total : v))
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((s, v, i) => s + v * b[i]!, 0)
  const norms = xs.map((x) => Math.sqrt(dot(x, x)))
  const units = xs.map((x, i) => x.map((v) => v / (norms[i]! + eps)))
  const mean = new Float64Array(n)
  units.forEach((u, i) => u.forEach((v, e) => (mean[e]! += w[i]! * v)))
  const meanNorm = Math.sqrt(dot(mean, mean))
  const mhat = mean.map((v) => v / meanNorm)
  const tangent = new Float64Array(n)
  units.forEach((u, i) => {
    const d = dot(u, mhat)
    u.forEach((v, e) => (tangent[e]! += w[i]! * (v - d * mhat[e]!)))
  })
  const tau = Math.sqrt(dot(tangent, tangent)) + eps
  const scale = w.reduce((s, wi, i) => s + wi * norms[i]!, 0)
  return Float64Array.from(mhat, (m, e) => (base ? base[e]! : 0) + scale * (m * Math.cos(tau) + (tangent[e]! * Math.sin(tau)) / tau))
}

describe('multislerp', () => {
  it('matches the float64 reference for 2 to 4 models, with and without a base', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      for (const models of [2, 3, 4]) {
        const inputs = Array.from({ length: models }, (_, i) => sampleTensor(n, i + 1))
        const base = sampleTensor(n, 9).map((x) => x * 0.2)
        const weight = Array.from({ length: models }, (_, i) => 0.5 + i * 0.3)
        for (const normalize_weights of [true, false]) {
          const params = { weight, normalize_weights }
          expectClose((await runMethod('multislerp', { inputs, shape, params })).output, naiveMultislerp(inputs, null, weight, normalize_weights), 1e-4, 1e-5)
          expectClose((await runMethod('multislerp', { inputs, base, shape, params })).output, naiveMultislerp(inputs, base, weight, normalize_weights), 1e-4, 1e-5)
        }
      }
    }
  })

  it('streams: tiny chunks give the single-chunk result', async () => {
    const inputs = [1, 2, 3].map((s) => sampleTensor(300, s))
    const base = sampleTensor(300, 5)
    const expected = naiveMultislerp(inputs, base, [1, 2, 3])
    for (const chunkElements of [7, 30, 1 << 20]) {
      expectClose((await runMethod('multislerp', { inputs, base, shape: [20, 15], params: { weight: [1, 2, 3] }, chunkElements })).output, expected, 1e-4, 1e-5)
    }
  })

  it('returns a single model, keeps identical inputs, and equals the mergekit slerp at equal norms', async () => {
    const a = sampleTensor(50, 1)
    expect((await runMethod('multislerp', { inputs: [a] })).output).toEqual(a)
    expectClose((await runMethod('multislerp', { inputs: [a, a, a] })).output, a)
    // two unit-norm-equal vectors: one tangent step is exact slerp at t = 0.5
    const b = sampleTensor(50, 2)
    const scaleB = Math.hypot(...a) / Math.hypot(...b)
    const b2 = b.map((x) => x * scaleB)
    const slerp = await runMethod('slerp', { inputs: [a, b2], params: { alpha: 0.5, variant: 'mecha' } })
    expectClose((await runMethod('multislerp', { inputs: [a, b2] })).output, slerp.output, 1e-4, 1e-5)
  })

  it('mixes antipodal pairs linearly and refuses antipodal sets of more models', async () => {
    const a = sampleTensor(20, 3)
    const neg = a.map((x) => -x)
    const pair = await runMethod('multislerp', { inputs: [a, neg] })
    expectClose(pair.output, new Float64Array(20))
    expect(pair.warnings.join()).toMatch(/cancel out/)
    await expect(runMethod('multislerp', { inputs: [a, neg, a, neg] })).rejects.toSatisfy((e) => isAmalgamError(e, 'BAD_RECIPE'))
    await expect(runMethod('multislerp', { inputs: [a, a], params: { weight: [1, -1] } })).rejects.toThrow(/sum to 0/)
  })
})
