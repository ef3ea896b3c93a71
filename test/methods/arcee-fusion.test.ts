import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { numel, sampleTensor } from './sample-tensors'

/* Naive float64 importance and threshold (METHODS.md §6.11), exact quantiles. */
function naiveFusion(other: Float32Array, base: Float32Array, shape: readonly number[]): { importance: Float64Array; threshold: number } {
  const n = other.length
  const len = shape.length === 0 ? 1 : shape[shape.length - 1]!
  const importance = new Float64Array(n)
  for (let s = 0; s < n; s += len) {
    const softmax = (x: Float32Array): number[] => {
      const slice = Array.from(x.subarray(s, s + len))
      const m = Math.max(...slice)
      const z = slice.reduce((t, v) => t + Math.exp(v - m), 0)
      return slice.map((v) => Math.exp(v - m) / z + 1e-8)
    }
    const p = softmax(other)
    const q = softmax(base)
    const kl = p.reduce((t, pv, j) => t + pv * Math.log(pv / q[j]!), 0)
    for (let j = 0; j < len; j++) importance[s + j] = Math.abs(other[s + j]! - base[s + j]!) * kl
  }
  const sorted = Array.from(importance).sort((a, b) => a - b)
  const at = (q: number): number => sorted[Math.trunc(q * (n - 1))]!
  return { importance, threshold: at(0.5) + 1.5 * (at(0.75) - at(0.25)) }
}

async function check(shape: readonly number[], seed: number, chunkElements?: number): Promise<number> {
  const n = numel(shape)
  const base = sampleTensor(n, seed)
  const other = Float32Array.from(sampleTensor(n, seed + 1), (v, i) => base[i]! + v * v * v * 0.5)
  const { output } = await runMethod('arcee_fusion', { inputs: [other], base, shape, ...(chunkElements ? { chunkElements } : {}) })
  const { importance, threshold } = naiveFusion(other, base, shape)
  let taken = 0
  for (let i = 0; i < n; i++) {
    // float32 rounding may flip elements within a hair of the threshold; everything else must agree
    if (Math.abs(importance[i]! - threshold) <= 1e-4 * Math.abs(threshold)) continue
    const expected = importance[i]! >= threshold ? other[i]! : base[i]!
    if (Math.abs(output[i]! - expected) > 1e-6) expect.fail(`element ${i}: got ${output[i]}, expected ${expected}`)
    if (importance[i]! >= threshold) taken++
  }
  return taken
}

describe('arcee_fusion', () => {
  it('takes the other model exactly where the importance reaches the outlier fence', async () => {
    for (const shape of [[7], [6, 5], [4, 3, 3, 3], [40, 64]]) {
      const taken = await check(shape, 3)
      expect(taken).toBeGreaterThan(0)
      expect(taken).toBeLessThan(numel(shape))
    }
  })

  it('streams: small chunks and slices longer than a chunk give the same result', async () => {
    await check([40, 64], 5, 48)
    await check([3000], 6, 256)
    await check([300, 300], 7)
  })

  it('keeps the base for identical inputs and takes the other model for a 0-dim tensor', async () => {
    const base = sampleTensor(60, 1)
    expect((await runMethod('arcee_fusion', { inputs: [base], base, shape: [6, 10] })).output).toEqual(base)
    // softmax of one element is 1 on both sides: KL 0, importance 0 ≥ fence 0
    expect(Array.from((await runMethod('arcee_fusion', { inputs: [[2.5]], base: [1], shape: [] })).output)).toEqual([2.5])
  })

  it('needs a base', async () => {
    await expect(runMethod('arcee_fusion', { inputs: [[1, 2]] })).rejects.toThrow(/base model/)
  })
})
