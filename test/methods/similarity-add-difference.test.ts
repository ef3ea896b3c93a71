import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

/** METHODS.md §3.12: s = β(AB/max(|A|,|B|)² + 1)/2 (NaN → β), (1 − s)(A + α(B − C)) + s((1 − α/2)A + (α/2)B) */
function naiveSimilarityAddDifference(a: Float32Array, b: Float32Array, c: Float32Array, alpha: number, beta: number): Float64Array {
  return Float64Array.from(a, (x, i) => {
    const y = b[i]!
    const t = Math.max(Math.abs(x), Math.abs(y))
    const raw = (((x * y) / t ** 2 + 1) / 2) * beta
    const s = Number.isNaN(raw) ? beta : raw
    return (1 - s) * (x + alpha * (y - c[i]!)) + s * ((1 - alpha / 2) * x + (alpha / 2) * y)
  })
}

describe('similarity_add_difference', () => {
  it('matches a float64 reference on every shape (zeros included: s = β there)', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      // sample tensors have zeros at the same positions, so A = B = 0 (0/0) occurs
      for (const [alpha, beta] of [[1, 0.5], [0.4, 1], [1.5, 0.2]] as const) {
        const { output } = await runMethod('similarity_add_difference', { inputs: [a, b], base: c, shape, params: { alpha, beta } })
        expectClose(output, naiveSimilarityAddDifference(a, b, c, alpha, beta))
      }
    }
  })

  it('is add difference at beta 0 and a weighted sum where A = B at beta 1', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(60, s)) as [Float32Array, Float32Array, Float32Array]
    expectClose((await runMethod('similarity_add_difference', { inputs: [a, b], base: c, params: { alpha: 0.7, beta: 0 } })).output, Float64Array.from(a, (x, i) => x + 0.7 * (b[i]! - c[i]!)))
    // A = B: s = β, and the weighted sum of A with itself is A
    expectClose((await runMethod('similarity_add_difference', { inputs: [a, a], base: c, params: { alpha: 0.7, beta: 1 } })).output, a)
  })

  it('keeps A at alpha 0', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(30, s)) as [Float32Array, Float32Array, Float32Array]
    expectClose((await runMethod('similarity_add_difference', { inputs: [a, b], base: c, params: { alpha: 0 } })).output, a)
  })

  it('needs a base', async () => {
    const x = sampleTensor(4, 1)
    await expect(runMethod('similarity_add_difference', { inputs: [x, x] })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('base'))
  })

  it('streams: tiny chunks give the same result', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(108, s)) as [Float32Array, Float32Array, Float32Array]
    const opts = { inputs: [a, b], base: c, shape: [4, 3, 3, 3], params: { alpha: 0.8, beta: 0.6 } }
    expectSameValues((await runMethod('similarity_add_difference', { ...opts, chunkElements: 7 })).output, (await runMethod('similarity_add_difference', opts)).output)
  })
})
