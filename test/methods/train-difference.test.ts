import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

function naiveTrainDifference(a: Float32Array, b: Float32Array, c: Float32Array, alpha: number): Float64Array {
  return Float64Array.from(a, (x, i) => {
    const y = b[i]!
    const z = c[i]!
    const num = Math.abs(y - x)
    const den = num + Math.abs(y - z)
    const w = den === 0 ? 0 : (1.8 * num) / den
    return x + alpha * w * (y - z)
  })
}

describe('train_difference', () => {
  it('matches A + α·1.8·|B − A| / (|B − A| + |B − C|)·(B − C) on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      for (const alpha of [1, 0.35, -0.5]) {
        const { output } = await runMethod('train_difference', { inputs: [a, b], base: c, shape, params: { alpha } })
        expectClose(output, naiveTrainDifference(a, b, c, alpha))
      }
    }
  })

  it('keeps A exactly where B equals C, at alpha 0, and treats 0/0 as 0', async () => {
    const a = Float32Array.from([-0, 2, 3, 5])
    const b = Float32Array.from([1, 2, 4, 5])
    const c = Float32Array.from([1, 1, 4, 7])
    const { output } = await runMethod('train_difference', { inputs: [a, b], base: c })
    // element 1: B == A, so w = 0; elements 0 and 2: B == C; element 3: w = 0/(0 + 2) = 0
    expectSameValues(output, a)
    expectSameValues((await runMethod('train_difference', { inputs: [a, b], base: sampleTensor(4, 9), params: { alpha: 0 } })).output, a)
  })

  it('moves A to B − C scaled by 0.9 when A equals C (w = 1.8 · ½)', async () => {
    const a = sampleTensor(40, 1)
    const b = sampleTensor(40, 2)
    const { output } = await runMethod('train_difference', { inputs: [a, b], base: a })
    expectClose(output, Float64Array.from(a, (x, i) => (b[i] === x ? x : x + 0.9 * (b[i]! - x))))
  })

  it('needs a base', async () => {
    const x = sampleTensor(4, 1)
    await expect(runMethod('train_difference', { inputs: [x, x] })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('base'))
  })

  it('accepts supermerger\'s calcmode name', () => {
    expect(resolveMethod('trainDifference').method.id).toBe('train_difference')
  })

  it('streams: tiny chunks give the same result', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(108, s))
    const opts = { inputs: [a!, b!], base: c!, shape: [4, 3, 3, 3] }
    expectSameValues((await runMethod('train_difference', { ...opts, chunkElements: 10 })).output, (await runMethod('train_difference', opts)).output)
  })
})
