import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

function naiveNearswap(a: Float32Array, b: Float32Array, t: number): Float64Array {
  return Float64Array.from(a, (x, i) => {
    const d = Math.abs(x - b[i]!)
    const w = Math.min(1, Math.max(0, t / Math.max(d, 1e-6)))
    return w * b[i]! + (1 - w) * x
  })
}

describe('nearswap', () => {
  it('matches w = clip(t / max(|A − B|, 1e-6), 0, 1), (1 − w)A + wB on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b] = [1, 2].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array]
      for (const t of [0.5, 0.01, 3]) {
        const { output } = await runMethod('nearswap', { inputs: [a, b], shape, params: { t } })
        expectClose(output, naiveNearswap(a, b, t))
      }
    }
  })

  it('takes B where the weights are within t and moves t / distance of the way elsewhere', async () => {
    const a = Float32Array.from([0, 0, 0, 1])
    const b = Float32Array.from([0.05, 0.1, 1, 1])
    const { output } = await runMethod('nearswap', { inputs: [a, b], params: { t: 0.1 } })
    expectClose(output, [0.05, 0.1, 0.1, 1])
  })

  it('gives A at t = 0 and B when t exceeds every distance', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(40, s)) as [Float32Array, Float32Array]
    expectClose((await runMethod('nearswap', { inputs: [a, b], params: { t: 0 } })).output, a, 0, 0)
    expectClose((await runMethod('nearswap', { inputs: [a, b], params: { t: 10 } })).output, b, 0, 0)
  })

  it('requires t, as mergekit does', async () => {
    const x = sampleTensor(4, 1)
    await expect(runMethod('nearswap', { inputs: [x, x] })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('params.t: required'))
  })

  it('streams: tiny chunks give the same result', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(108, s)) as [Float32Array, Float32Array]
    const opts = { inputs: [a, b], shape: [4, 3, 3, 3], params: { t: 0.3 } }
    expectSameValues((await runMethod('nearswap', { ...opts, chunkElements: 7 })).output, (await runMethod('nearswap', opts)).output)
  })
})
