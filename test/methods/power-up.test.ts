import { describe, expect, it } from 'vitest'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { expectBinomial, expectClose, expectSameValues, expectSeededMean, sampleTensor } from './sample-tensors'

describe('power_up', () => {
  it('untitled keeps each weight with probability alpha and scales it by beta / (1 − alpha)', async () => {
    const n = 40_000
    const a = new Float32Array(n)
    const b = new Float32Array(n).fill(1)
    const { output } = await runMethod('power_up', { inputs: [a, b], seed: 4, params: { alpha: 0.8, beta: 0.5 } })
    const values = new Set(output)
    expect([...values].sort()).toEqual([0, Math.fround(0.5 / (1 - 0.8))])
    expectBinomial(output.filter((v) => v !== 0).length, n, 0.8)
  })

  it('paper (dare_single) drops each weight with probability alpha and scales the kept ones by beta / (1 − alpha)', async () => {
    const n = 40_000
    const a = new Float32Array(n)
    const b = new Float32Array(n).fill(1)
    const { output } = await runMethod('dare_single', { inputs: [a, b], seed: 4, params: { alpha: 0.8, beta: 0.5 } })
    expect([...new Set(output)].sort()).toEqual([0, Math.fround(0.5 / (1 - 0.8))])
    expectBinomial(output.filter((v) => v !== 0).length, n, 0.2)
  })

  it('has expectation A + β·α/(1 − α)·(B − A) (untitled) and A + β(B − A) (paper), |z| ≤ 4 over 400 seeds', async () => {
    const n = 12
    const [a, b] = [1, 2].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array]
    const [alpha, beta] = [0.7, 0.6]
    const cases = [
      { name: 'power_up', factor: (beta * alpha) / (1 - alpha) },
      { name: 'dare_single', factor: beta },
    ]
    for (const { name, factor } of cases) {
      const expected = Array.from(a, (x, i) => x + factor * (b[i]! - x))
      await expectSeededMean(async (seed) => (await runMethod(name, { inputs: [a, b], seed, params: { alpha, beta } })).output, expected)
    }
  })

  it('edges: beta 0 and nothing kept give A; untitled alpha 1 and paper alpha 0 add the whole difference', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(30, s)) as [Float32Array, Float32Array]
    expectSameValues((await runMethod('power_up', { inputs: [a, b], params: { beta: 0 } })).output, a)
    expectSameValues((await runMethod('power_up', { inputs: [a, b], params: { alpha: 0 } })).output, a)
    expectSameValues((await runMethod('dare_single', { inputs: [a, b], params: { alpha: 1 } })).output, a)
    const full = Float64Array.from(a, (x, i) => x + 0.7 * (b[i]! - x))
    expectClose((await runMethod('power_up', { inputs: [a, b], params: { alpha: 1, beta: 0.7 } })).output, full)
    expectClose((await runMethod('dare_single', { inputs: [a, b], params: { alpha: 0, beta: 0.7 } })).output, full)
  })

  it('is deterministic per seed and key, and draws the same mask whatever the chunk size', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(108, s)) as [Float32Array, Float32Array]
    const opts = { inputs: [a, b], shape: [4, 3, 3, 3], seed: 9, params: { alpha: 0.5 } }
    const first = (await runMethod('power_up', opts)).output
    expectSameValues((await runMethod('power_up', opts)).output, first)
    expectSameValues((await runMethod('power_up', { ...opts, chunkElements: 7 })).output, first)
    expect((await runMethod('power_up', { ...opts, seed: 10 })).output).not.toEqual(first)
    expect((await runMethod('power_up', { ...opts, key: 'model.diffusion_model.out.2.weight' })).output).not.toEqual(first)
  })

  it('dare_single fixes the paper variant', () => {
    expect(resolveMethod('dare_single')).toMatchObject({ method: { id: 'power_up' }, fixedParams: { variant: 'paper' } })
  })
})
