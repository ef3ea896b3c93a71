import { describe, expect, it } from 'vitest'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, expectSeededMean, numel, sampleTensor } from './sample-tensors'

/** METHODS.md §8.1 with gamma = 1 (the deterministic mask w, also the expectation for any gamma) */
function naiveInterpWeights(a: Float32Array, b: Float32Array, alpha: number, difference: boolean): Float64Array {
  const d = Float64Array.from(a, (x, i) => Math.abs(x - b[i]!))
  const max = d.reduce((m, v) => Math.max(m, v), 0)
  const e = 1 / Math.max(alpha, 0.001) - 1
  return d.map((v) => {
    const w = (difference ? v / max : (max - v) / max) ** e
    return Number.isNaN(w) ? 0 : w
  })
}

function mix(a: Float32Array, b: Float32Array, mask: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (x, i) => x * (1 - mask[i]!) + b[i]! * mask[i]!)
}

describe('interp_difference', () => {
  it('with smoothness 1 mixes by w = ((D − d)/D)^(1/α − 1) (or (d/D)^…) on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b] = [1, 2].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array]
      for (const alpha of [0.5, 0.2, 1, 0]) {
        for (const compare of ['similarity', 'difference']) {
          const { output } = await runMethod('interp_difference', { inputs: [a, b], shape, params: { alpha, compare, smoothness: 1 } })
          expectClose(output, mix(a, b, naiveInterpWeights(a, b, alpha, compare === 'difference')), 1e-5, 1e-5)
        }
      }
    }
  })

  it('with smoothness 0 takes each weight whole from A or B, B with probability w (4σ)', async () => {
    const n = 20_000
    // A = 0, B = 1 + i/n: d = B, w = (D − d)/D at alpha 0.5, every weight readable as A (0) or B (b)
    const a = new Float32Array(n)
    const b = Float32Array.from({ length: n }, (_, i) => 1 + i / n)
    const { output } = await runMethod('interp_difference', { inputs: [a, b], seed: 2, params: { alpha: 0.5, smoothness: 0 } })
    const w = naiveInterpWeights(a, b, 0.5, false)
    let taken = 0
    output.forEach((v, i) => {
      expect(v === 0 || v === b[i]).toBe(true)
      if (v !== 0) taken++
    })
    const expected = w.reduce((s, p) => s + p, 0)
    const sd = Math.sqrt(w.reduce((s, p) => s + p * (1 - p), 0))
    expect(Math.abs(taken - expected)).toBeLessThanOrEqual(4 * sd)
  })

  it('has expectation equal to the smoothness-1 result (|z| ≤ 4 over 400 seeds)', async () => {
    const n = 12
    const [a, b] = [1, 2].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array]
    const expected = mix(a, b, naiveInterpWeights(a, b, 0.4, false))
    await expectSeededMean(async (seed) => (await runMethod('interp_difference', { inputs: [a, b], seed, params: { alpha: 0.4, smoothness: 0.3 } })).output, expected)
  })

  it('keeps A for identical models and for text-encoder embeddings', async () => {
    const a = sampleTensor(30, 1)
    expectSameValues((await runMethod('interp_difference', { inputs: [a, a], params: { alpha: 1 } })).output, a)
    const b = sampleTensor(30, 2)
    for (const key of ['cond_stage_model.transformer.text_model.embeddings.token_embedding.weight', 'conditioner.embedders.1.model.positional_embedding']) {
      expectSameValues((await runMethod('interp_difference', { inputs: [a, b], key, params: { smoothness: 1 } })).output, a)
    }
  })

  it('is deterministic per seed, draws the same mask whatever the chunk size, and differs between seeds', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(108, s)) as [Float32Array, Float32Array]
    const opts = { inputs: [a, b], shape: [4, 3, 3, 3], seed: 6, params: { smoothness: 0 } }
    const first = (await runMethod('interp_difference', opts)).output
    expectSameValues((await runMethod('interp_difference', opts)).output, first)
    expectSameValues((await runMethod('interp_difference', { ...opts, chunkElements: 7 })).output, first)
    expect((await runMethod('interp_difference', { ...opts, seed: 7 })).output).not.toEqual(first)
  })

  it('accepts the untitledmerger name', () => {
    expect(resolveMethod('Comparative Interp').method.id).toBe('interp_difference')
  })
})
