import { describe, expect, it } from 'vitest'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { naiveCloseness, naiveColumnMeanPerElement, naiveMix } from './interp-reference'
import { SHAPES, expectClose, expectSameValues, expectSeededMean, numel, sampleTensor } from './sample-tensors'

/** METHODS.md §8.2 probabilities p (= the mask at smoothness 1, the expectation otherwise) */
function naiveEnhancedMask(a: Float32Array, b: Float32Array, shape: readonly number[], variant: 'manual' | 'auto', alpha: number, lower: number, upper: number, threshold: number): Float64Array {
  const w = naiveCloseness(a, b)
  const e = 1 / Math.max(alpha, 0.001) - 1
  const columnMeans = naiveColumnMeanPerElement(w, shape)
  const mean = w.reduce((s, v) => s + v, 0) / w.length
  return w.map((v, i) => {
    const inBand = variant === 'manual' ? lower < columnMeans[i]! && columnMeans[i]! < upper : mean * (1 - threshold) < v && v < mean * (1 + threshold)
    return inBand ? v ** e : 0
  })
}

describe('enhanced_interp', () => {
  it('with smoothness 1 matches a float64 reference for both variants on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b] = [1, 2].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array]
      for (const [alpha, lower, upper, threshold] of [[0.5, 0.3, 0.7, 0.5], [0.8, 0, 1, 0.2], [0.3, 0.5, 0.95, 0.9]] as const) {
        for (const variant of ['manual', 'auto'] as const) {
          const { output } = await runMethod('enhanced_interp', { inputs: [a, b], shape, params: { variant, alpha, lower, upper, threshold, smoothness: 1 } })
          expectClose(output, naiveMix(a, b, naiveEnhancedMask(a, b, shape, variant, alpha, lower, upper, threshold)), 1e-5, 1e-5)
        }
      }
    }
  })

  it('has expectation equal to the smoothness-1 result (|z| ≤ 4 over 400 seeds)', async () => {
    const shape = [3, 4]
    const [a, b] = [1, 2].map((s) => sampleTensor(12, s)) as [Float32Array, Float32Array]
    for (const variant of ['manual', 'auto'] as const) {
      const params = { variant, alpha: 0.6, lower: 0.2, upper: 0.9, threshold: 0.6, smoothness: 0.25 }
      const expected = naiveMix(a, b, naiveEnhancedMask(a, b, shape, variant, 0.6, 0.2, 0.9, 0.6))
      await expectSeededMean(async (seed) => (await runMethod('enhanced_interp', { inputs: [a, b], shape, seed, params })).output, expected)
    }
  })

  it('keeps A outside the band, for identical models and for text-encoder embeddings', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(30, s)) as [Float32Array, Float32Array]
    // an empty manual band
    expectClose((await runMethod('enhanced_interp', { inputs: [a, b], params: { lower: 0.9, upper: 0.1, smoothness: 0 } })).output, a, 0, 0)
    expectSameValues((await runMethod('enhanced_interp', { inputs: [a, a], params: { variant: 'auto' } })).output, a)
    const key = 'conditioner.embedders.0.transformer.text_model.embeddings.position_embedding.weight'
    expectSameValues((await runMethod('enhanced_interp', { inputs: [a, b], key, params: { lower: 0, upper: 1, smoothness: 1 } })).output, a)
  })

  it('is deterministic per seed and draws the same mask whatever the chunk size', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(108, s)) as [Float32Array, Float32Array]
    for (const variant of ['manual', 'auto']) {
      const opts = { inputs: [a, b], shape: [4, 3, 3, 3], seed: 8, params: { variant, lower: 0, upper: 1, smoothness: 0 } }
      const first = (await runMethod('enhanced_interp', opts)).output
      expectSameValues((await runMethod('enhanced_interp', opts)).output, first)
      expectSameValues((await runMethod('enhanced_interp', { ...opts, chunkElements: 7 })).output, first)
    }
  })

  it('the fork names fix the variant', () => {
    expect(resolveMethod('enhanced_manual_interp').fixedParams).toEqual({ variant: 'manual' })
    expect(resolveMethod('enhanced_auto_interp')).toMatchObject({ method: { id: 'enhanced_interp' }, fixedParams: { variant: 'auto' } })
  })
})
