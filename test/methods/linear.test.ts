import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

function naiveLinear(models: readonly Float32Array[], weights: readonly number[], normalize: boolean): Float64Array {
  const total = weights.reduce((s, w) => s + w, 0)
  return Float64Array.from(models[0]!, (_, i) => {
    let sum = 0
    models.forEach((m, k) => (sum += weights[k]! * m[i]!))
    return normalize ? sum / total : sum
  })
}

describe('linear', () => {
  it('matches a float64 weighted average on every shape, with and without normalize', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const models = [1, 2, 3].map((s) => sampleTensor(n, s))
      for (const normalize of [true, false]) {
        const weight = [0.5, 0.3, 1.2]
        const { output } = await runMethod('linear', { inputs: models, shape, params: { weight, normalize } })
        expectClose(output, naiveLinear(models, weight, normalize))
      }
    }
  })

  it('gives the same result with tiny and large chunks', async () => {
    const shape = [10, 13]
    const models = [4, 5].map((s) => sampleTensor(130, s))
    const params = { weight: [2, -0.5] }
    const small = await runMethod('linear', { inputs: models, shape, params, chunkElements: 7 })
    const large = await runMethod('linear', { inputs: models, shape, params })
    expectSameValues(small.output, large.output)
    expectClose(small.output, naiveLinear(models, [2, -0.5], true))
  })

  it('returns a single model unchanged, and a model of weight 1 among zeros exactly', async () => {
    const a = sampleTensor(20, 1)
    expectSameValues((await runMethod('linear', { inputs: [a], params: { weight: [3] } })).output, a)
    const b = Float32Array.from(a, (v) => (v === 0 ? NaN : v * 3))
    expectSameValues((await runMethod('linear', { inputs: [a, b], params: { weight: [1, 0] } })).output, a)
  })

  it('averages identical inputs to themselves (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.float32Array({ minLength: 1, maxLength: 40, noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e6), max: Math.fround(1e6) }),
        fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: 1, maxLength: 4 }),
        async (x, weight) => {
          const { output } = await runMethod('linear', { inputs: weight.map(() => x), params: { weight } })
          expectClose(output, x, 1e-6, 1e-30)
        },
      ),
      { numRuns: 50 },
    )
  })

  it('refuses weights summing to 0 when normalizing, naming the key', async () => {
    const x = sampleTensor(4, 1)
    const run = runMethod('linear', { inputs: [x, x], params: { weight: [1, -1] }, key: 'model.diffusion_model.out.2.weight' })
    await expect(run).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('model.diffusion_model.out.2.weight') && e.message.includes('sum to 0'))
    const { output } = await runMethod('linear', { inputs: [x, x], params: { weight: [1, -1], normalize: false } })
    expectClose(output, [0, 0, 0, 0])
  })

  it('n_average is the plain mean and fixes the weights; terge_arithmetic always normalizes', async () => {
    const models = [1, 2, 3].map((s) => sampleTensor(15, s))
    expect(resolveMethod('n_average').fixedParams).toEqual({ weight: 1, normalize: true })
    expectClose((await runMethod('n_average', { inputs: models })).output, naiveLinear(models, [1, 1, 1], true))
    await expect(runMethod('n_average', { inputs: models, params: { weight: [1, 2, 3] } })).rejects.toThrow(/fixes weight/)
    expectClose((await runMethod('terge_arithmetic', { inputs: models, params: { weight: [1, 2, 1] } })).output, naiveLinear(models, [1, 2, 1], true))
    await expect(runMethod('terge_arithmetic', { inputs: models, params: { normalize: false } })).rejects.toThrow(/fixes normalize/)
  })

  it('handles empty tensors', async () => {
    const { output } = await runMethod('linear', { inputs: [new Float32Array(0), new Float32Array(0)], shape: [0, 4] })
    expect(output.length).toBe(0)
  })
})
