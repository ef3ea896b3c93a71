import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { expectBinomial, expectClose, expectSameValues, expectSeededMean, sampleTensor } from './sample-tensors'

describe('dropout', () => {
  it('is deterministic per seed and key, and differs between keys and seeds', async () => {
    const a = sampleTensor(500, 1)
    const models = [2, 3].map((s) => sampleTensor(500, s))
    const run = async (seed: number, key: string): Promise<Float32Array> => (await runMethod('dropout', { inputs: [a, ...models], seed, key, params: { probability: 0.5 } })).output
    const first = await run(7, 'model.diffusion_model.input_blocks.1.0.in_layers.2.weight')
    expectSameValues(await run(7, 'model.diffusion_model.input_blocks.1.0.in_layers.2.weight'), first)
    expect(await run(7, 'model.diffusion_model.input_blocks.2.0.in_layers.2.weight')).not.toEqual(first)
    expect(await run(8, 'model.diffusion_model.input_blocks.1.0.in_layers.2.weight')).not.toEqual(first)
  })

  it('draws the same masks whatever the chunk size', async () => {
    const a = sampleTensor(4 * 27, 1)
    const models = [2, 3, 4].map((s) => sampleTensor(4 * 27, s))
    const opts = { inputs: [a, ...models], shape: [4, 3, 3, 3], seed: 3, params: { probability: 0.6, alpha: 1 } }
    expectSameValues((await runMethod('dropout', { ...opts, chunkElements: 5 })).output, (await runMethod('dropout', opts)).output)
  })

  it('keeps each difference with probability 1 − p, independently per model', async () => {
    const n = 40_000
    const a = new Float32Array(n)
    // differences 1 and 2 make every outcome readable: 0 none, 1 or 2 one model, 1.5 both (mean of the kept)
    const { output } = await runMethod('dropout', { inputs: [a, new Float32Array(n).fill(1), new Float32Array(n).fill(2)], seed: 11, params: { probability: 0.5, alpha: 1, rescale: 0 } })
    const counts = new Map<number, number>()
    for (const v of output) counts.set(v, (counts.get(v) ?? 0) + 1)
    expect([...counts.keys()].sort()).toEqual([0, 1, 1.5, 2])
    for (const outcome of [0, 1, 1.5, 2]) expectBinomial(counts.get(outcome)!, n, 0.25)

    const single = await runMethod('dropout', { inputs: [a, new Float32Array(n).fill(1)], seed: 12, params: { probability: 0.9, alpha: 1, rescale: 0 } })
    expectBinomial(single.output.filter((v) => v === 1).length, n, 0.1)
  })

  it('has expectation A + α(1 − p^N)/(1 − p)^r · mean δ (|z| ≤ 4 over 400 seeds)', async () => {
    const n = 12
    const a = sampleTensor(n, 1)
    const models = [2, 3, 4].map((s) => sampleTensor(n, s))
    const [p, alpha, r] = [0.7, 0.5, 0.8]
    const factor = (alpha * (1 - p ** 3)) / (1 - p) ** r
    const expected = Array.from(a, (x, i) => x + (factor * models.reduce((s, m) => s + (m[i]! - x), 0)) / 3)
    await expectSeededMean(async (seed) => (await runMethod('dropout', { inputs: [a, ...models], seed, params: { probability: p, alpha, rescale: r } })).output, expected)
  })

  it('keeps A exactly at alpha 0 and at probability 1; probability 0 adds α·mean δ', async () => {
    const a = sampleTensor(30, 1)
    const models = [2, 3].map((s) => sampleTensor(30, s))
    expectSameValues((await runMethod('dropout', { inputs: [a, ...models], params: { alpha: 0 } })).output, a)
    expectSameValues((await runMethod('dropout', { inputs: [a, ...models], params: { probability: 1 } })).output, a)
    const { output } = await runMethod('dropout', { inputs: [a, ...models], params: { probability: 0, alpha: 0.5 } })
    expectClose(output, Float64Array.from(a, (x, i) => x + (0.5 * (models[0]![i]! - x + (models[1]![i]! - x))) / 2))
  })

  it('n_supermario is a plain alias', () => {
    expect(resolveMethod('n_supermario')).toMatchObject({ method: { id: 'dropout' }, fixedParams: {} })
  })

  it('accepts odd overlaps (independent masks) and refuses the others, naming the upstream failure', async () => {
    const a = sampleTensor(50, 1)
    const models = [2, 3].map((s) => sampleTensor(50, s))
    const one = await runMethod('dropout', { inputs: [a, ...models], seed: 5, params: { overlap: 1 } })
    expectSameValues((await runMethod('dropout', { inputs: [a, ...models], seed: 5, params: { overlap: 3 } })).output, one.output)
    for (const overlap of [2, 0.5]) {
      await expect(runMethod('dropout', { inputs: [a, ...models], params: { overlap } })).rejects.toSatisfy(
        (e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes(`overlap = ${overlap}`) && e.message.includes('torch.lerp'),
      )
    }
  })
})
