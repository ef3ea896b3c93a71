import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

/** METHODS.md §3.12: C + copysign(|A − C|^(1−α)·|B − C|^α, (1−β)A + βB − C), 0^0 = 1 */
function naiveMultiplyDifference(a: Float32Array, b: Float32Array, c: Float32Array, alpha: number, beta: number): Float64Array {
  return Float64Array.from(a, (x, i) => {
    const y = b[i]!
    const z = c[i]!
    const pa = 1 - alpha === 0 ? 1 : Math.abs(x - z) ** (1 - alpha)
    const pb = alpha === 0 ? 1 : Math.abs(y - z) ** alpha
    const dir = (1 - beta) * x + beta * y - z
    const sign = dir < 0 || Object.is(dir, -0) ? -1 : 1
    return z + sign * pa * pb
  })
}

describe('multiply_difference', () => {
  it('matches a float64 reference on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      for (const [alpha, beta] of [[0.5, 0.5], [0.2, 0.9], [1, 0], [0, 1]] as const) {
        const { output } = await runMethod('multiply_difference', { inputs: [a, b], base: c, shape, params: { alpha, beta } })
        expectClose(output, naiveMultiplyDifference(a, b, c, alpha, beta))
      }
    }
  })

  it('gives A at alpha = beta = 0 and B at alpha = beta = 1', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(60, s)) as [Float32Array, Float32Array, Float32Array]
    expectClose((await runMethod('multiply_difference', { inputs: [a, b], base: c, params: { alpha: 0, beta: 0 } })).output, a)
    expectClose((await runMethod('multiply_difference', { inputs: [a, b], base: c, params: { alpha: 1, beta: 1 } })).output, b)
  })

  it('takes the geometric mean of the distances: (C, A, B) = (0, 1, 4) at alpha 0.5 → 2; a model that did not move keeps C', async () => {
    const c = Float32Array.from([0, 1])
    const a = Float32Array.from([1, 1])
    const b = Float32Array.from([4, -3])
    expectClose((await runMethod('multiply_difference', { inputs: [a, b], base: c })).output, [2, 1])
  })

  it('needs a base', async () => {
    const x = sampleTensor(4, 1)
    await expect(runMethod('multiply_difference', { inputs: [x, x] })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('base'))
  })

  it('streams: tiny chunks give the same result', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(108, s)) as [Float32Array, Float32Array, Float32Array]
    const opts = { inputs: [a, b], base: c, shape: [4, 3, 3, 3], params: { alpha: 0.3, beta: 0.6 } }
    expectSameValues((await runMethod('multiply_difference', { ...opts, chunkElements: 7 })).output, (await runMethod('multiply_difference', opts)).output)
  })
})
