import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

function naiveWeightedSubtraction(a: Float32Array, b: Float32Array, alpha: number, beta: number): Float64Array {
  return Float64Array.from(a, (x, i) => (x - alpha * beta * b[i]!) / (1 - alpha * beta))
}

describe('weighted_subtraction', () => {
  it('matches (A − αβB) / (1 − αβ) on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b] = [1, 2].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array]
      for (const [alpha, beta] of [[0.5, 0.5], [0.3, 0.9], [2, -0.7]] as const) {
        const { output } = await runMethod('weighted_subtraction', { inputs: [a, b], shape, params: { alpha, beta } })
        expectClose(output, naiveWeightedSubtraction(a, b, alpha, beta))
      }
    }
  })

  it('undoes a weighted sum: removing B from (1 − w)A + wB gives A back', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(50, s)) as [Float32Array, Float32Array]
    const w = 0.3
    const merged = Float32Array.from(a, (x, i) => (1 - w) * x + w * b[i]!)
    const { output } = await runMethod('weighted_subtraction', { inputs: [merged, b], params: { alpha: w, beta: 1 } })
    expectClose(output, a, 1e-5, 1e-6)
  })

  it('keeps A when alpha or beta is 0', async () => {
    const a = Float32Array.from([-0, 1.5, -3, 7e-30])
    const b = sampleTensor(4, 2)
    expectSameValues((await runMethod('weighted_subtraction', { inputs: [a, b], params: { alpha: 0, beta: 0.7 } })).output, a)
  })

  it('refuses alpha x beta = 1 (meh divides by zero or by 1e-10 there)', async () => {
    const x = sampleTensor(4, 1)
    for (const [alpha, beta] of [[1, 1], [2, 0.5]] as const) {
      await expect(runMethod('weighted_subtraction', { inputs: [x, x], params: { alpha, beta } })).rejects.toSatisfy(
        (e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('alpha x beta = 1'),
      )
    }
  })

  it('streams: tiny chunks give the same result', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(108, s)) as [Float32Array, Float32Array]
    const opts = { inputs: [a, b], shape: [4, 3, 3, 3], params: { alpha: 0.4, beta: 0.8 } }
    expectSameValues((await runMethod('weighted_subtraction', { ...opts, chunkElements: 7 })).output, (await runMethod('weighted_subtraction', opts)).output)
  })
})
