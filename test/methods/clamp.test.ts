import { describe, expect, it } from 'vitest'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

function naiveClamp(x: Float32Array, bounds: readonly Float32Array[], stiffness: number): Float64Array {
  return Float64Array.from(x, (v, i) => {
    const sorted = bounds.map((b) => b[i]!).sort((p, q) => p - q)
    let lo = sorted[0]!
    let hi = sorted[sorted.length - 1]!
    if (stiffness > 0) {
      const mean = sorted.reduce((s, b) => s + b, 0) / sorted.length
      const above = sorted.find((b) => b >= mean)!
      const below = sorted.filter((b) => b <= mean).pop()!
      hi = (1 - stiffness) * hi + stiffness * above
      lo = (1 - stiffness) * lo + stiffness * below
    }
    return Math.min(Math.max(v, lo), hi)
  })
}

describe('clamp', () => {
  it('clamps into [min, max] of the bounds on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const x = sampleTensor(n, 1).map((v) => v * 2)
      const bounds = [2, 3, 4].map((s) => sampleTensor(n, s))
      const { output } = await runMethod('clamp', { inputs: [x, ...bounds], shape })
      expectClose(output, naiveClamp(x, bounds, 0))
    }
  })

  it('stiffness pulls the limits towards the bounds nearest the mean', async () => {
    const x = sampleTensor(50, 1).map((v) => v * 3)
    const bounds = [2, 3, 4, 5].map((s) => sampleTensor(50, s))
    for (const stiffness of [0.5, 1]) {
      const { output } = await runMethod('clamp', { inputs: [x, ...bounds], params: { stiffness } })
      expectClose(output, naiveClamp(x, bounds, stiffness))
    }
    // three bounds 0, 1, 5 (mean 2): stiffness 1 narrows [0, 5] to [1, 5]
    const { output } = await runMethod('clamp', { inputs: [[-3, 0.5, 9], [0, 0, 0], [1, 1, 1], [5, 5, 5]], params: { stiffness: 1 } })
    expect([...output]).toEqual([1, 1, 5])
  })

  it('stiffness changes nothing with two bounds (the mean lies between them)', async () => {
    const x = sampleTensor(40, 1).map((v) => v * 3)
    const [b, c] = [sampleTensor(40, 2), sampleTensor(40, 3)]
    const loose = await runMethod('clamp', { inputs: [x, b, c] })
    const stiff = await runMethod('clamp', { inputs: [x, b, c], params: { stiffness: 0.7 } })
    expectSameValues(stiff.output, loose.output)
  })

  it('leaves values already inside unchanged and propagates NaN', async () => {
    const { output } = await runMethod('clamp', { inputs: [[0.5, -0, NaN, 2], [0, -1, 0, NaN], [1, 1, 1, 3]] })
    expectSameValues(output, Float32Array.from([0.5, -0, NaN, NaN]))
  })

  it('weights_clip is clamp with stiffness fixed at 0; clip is a plain alias', () => {
    expect(resolveMethod('weights_clip')).toMatchObject({ method: { id: 'clamp' }, fixedParams: { stiffness: 0 } })
    expect(resolveMethod('clip').method.id).toBe('clamp')
  })

  it('streams: tiny chunks give the same result', async () => {
    const [x, b, c, d] = [1, 2, 3, 4].map((s) => sampleTensor(108, s))
    const opts = { inputs: [x!, b!, c!, d!], shape: [4, 3, 3, 3], params: { stiffness: 0.3 } }
    expectSameValues((await runMethod('clamp', { ...opts, chunkElements: 9 })).output, (await runMethod('clamp', opts)).output)
  })
})
