import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { expectBinomial, expectSameValues, sampleTensor } from './sample-tensors'

describe('plus_random', () => {
  it('adds noise with mean 0 and standard deviation alpha (moments within 4σ)', async () => {
    const n = 40_000
    const alpha = 0.05
    const a = sampleTensor(n, 1)
    const { output } = await runMethod('plus_random', { inputs: [a], seed: 3, params: { alpha } })
    const z = Float64Array.from(output, (v, i) => (v - a[i]!) / alpha)
    const mean = z.reduce((s, v) => s + v, 0) / n
    const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)
    expect(Math.abs(mean)).toBeLessThanOrEqual(4 / Math.sqrt(n))
    // var of the sample variance of N(0,1) is 2/(n − 1)
    expect(Math.abs(variance - 1)).toBeLessThanOrEqual(4 * Math.sqrt(2 / (n - 1)))
    // and it is Gaussian-shaped: P(|z| < 1) = 0.6827
    const inside = z.filter((v) => Math.abs(v) < 1).length
    expectBinomial(inside, n, 0.6827)
  })

  it('is deterministic per seed and key, and differs between keys and seeds', async () => {
    const a = sampleTensor(200, 1)
    const run = async (seed: number, key: string): Promise<Float32Array> => (await runMethod('plus_random', { inputs: [a], seed, key, params: { alpha: 0.1 } })).output
    const key = 'model.diffusion_model.input_blocks.1.0.in_layers.2.weight'
    const first = await run(7, key)
    expectSameValues(await run(7, key), first)
    expect(await run(7, 'model.diffusion_model.input_blocks.2.0.in_layers.2.weight')).not.toEqual(first)
    expect(await run(8, key)).not.toEqual(first)
  })

  it('leaves to_out / proj_out / norm keys and alpha 0 alone', async () => {
    const a = Float32Array.from([-0, 1.5, NaN, 3e-30])
    expectSameValues((await runMethod('plus_random', { inputs: [a], params: { alpha: 0 } })).output, a)
    for (const key of ['model.diffusion_model.input_blocks.1.1.proj_out.weight', 'model.diffusion_model.middle_block.1.transformer_blocks.0.attn1.to_out.0.bias', 'model.diffusion_model.out.0.norm.weight']) {
      expectSameValues((await runMethod('plus_random', { inputs: [a], key, params: { alpha: 0.5 } })).output, a)
    }
  })

  it('draws the same noise whatever the chunk size', async () => {
    const a = sampleTensor(108, 1)
    const opts = { inputs: [a], shape: [4, 3, 3, 3], seed: 5, params: { alpha: 0.2 } }
    expectSameValues((await runMethod('plus_random', { ...opts, chunkElements: 7 })).output, (await runMethod('plus_random', opts)).output)
  })
})
