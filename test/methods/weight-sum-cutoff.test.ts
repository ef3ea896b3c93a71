import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { naiveCloseness, naiveColumnMeanPerElement, naiveMix } from './interp-reference'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

describe('weight_sum_cutoff', () => {
  it('mixes by alpha exactly the columns whose mean closeness lies in (lower, upper), on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b] = [1, 2].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array]
      const means = naiveColumnMeanPerElement(naiveCloseness(a, b), shape)
      for (const [lower, upper] of [[0.3, 0.7], [0, 1], [0.55, 0.9]] as const) {
        const { output } = await runMethod('weight_sum_cutoff', { inputs: [a, b], shape, params: { alpha: 0.4, lower, upper } })
        expectClose(output, naiveMix(a, b, Array.from(means, (m) => (lower < m && m < upper ? 0.4 : 0))))
      }
    }
  })

  it('selects some columns and not others on a 2-D tensor (the band matters)', async () => {
    const shape = [6, 5]
    const [a, b] = [1, 2].map((s) => sampleTensor(30, s)) as [Float32Array, Float32Array]
    const means = naiveColumnMeanPerElement(naiveCloseness(a, b), shape)
    const sorted = [...new Set(means.slice(0, 5))].sort()
    // a band holding only the middle columns
    const [lower, upper] = [(sorted[0]! + sorted[1]!) / 2, (sorted[3]! + sorted[4]!) / 2]
    const { output } = await runMethod('weight_sum_cutoff', { inputs: [a, b], shape, params: { alpha: 1, lower, upper } })
    const fromB = output.filter((v, i) => v === b[i] && v !== a[i]).length
    expect(fromB).toBeGreaterThan(0)
    expect(output.filter((v, i) => v === a[i] && v !== b[i]).length).toBeGreaterThan(0)
  })

  it('keeps A at alpha 0 and for identical models', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(30, s)) as [Float32Array, Float32Array]
    expectSameValues((await runMethod('weight_sum_cutoff', { inputs: [a, b], params: { alpha: 0, lower: 0, upper: 1 } })).output, a)
    expectSameValues((await runMethod('weight_sum_cutoff', { inputs: [a, a], params: { lower: -1, upper: 2 } })).output, a)
  })

  it('streams: tiny chunks (rows split into pieces) give the same result', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(108, s)) as [Float32Array, Float32Array]
    const opts = { inputs: [a, b], shape: [4, 3, 3, 3], params: { alpha: 0.6, lower: 0.2, upper: 0.8 } }
    expectSameValues((await runMethod('weight_sum_cutoff', { ...opts, chunkElements: 7 })).output, (await runMethod('weight_sum_cutoff', opts)).output)
  })
})
