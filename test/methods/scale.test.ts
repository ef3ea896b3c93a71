import { describe, expect, it } from 'vitest'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

describe('scale', () => {
  it('multiplies by the factor on every shape', async () => {
    for (const shape of SHAPES) {
      const a = sampleTensor(numel(shape), 1)
      for (const factor of [0.5, -2, 0]) {
        const { output } = await runMethod('scale', { inputs: [a], shape, params: { scale: factor } })
        expectClose(output, Float64Array.from(a, (x) => x * factor))
      }
    }
  })

  it('passthrough copies the model bit for bit by default and scales when asked', async () => {
    const a = Float32Array.from([-0, 1.5, NaN, 3e-30])
    expectSameValues((await runMethod('passthrough', { inputs: [a] })).output, a)
    expectClose((await runMethod('passthrough', { inputs: [a], params: { scale: 2 } })).output, [-0, 3, NaN, 6e-30], 1e-6, 0)
    expect(resolveMethod('passthrough').fixedParams).toEqual({ variant: 'plain' })
  })

  it('self (supermerger) leaves to_out / proj_out / norm keys and factor 0 alone', async () => {
    const a = sampleTensor(12, 3)
    const run = async (key: string, factor: number): Promise<Float32Array> => (await runMethod('self', { inputs: [a], key, params: { scale: factor } })).output
    expectClose(await run('model.diffusion_model.input_blocks.1.1.proj_in.weight', 0.8), Float64Array.from(a, (x) => x * 0.8))
    for (const key of ['model.diffusion_model.input_blocks.1.1.proj_out.weight', 'model.diffusion_model.middle_block.1.transformer_blocks.0.attn1.to_out.0.bias', 'model.diffusion_model.out.0.norm.weight']) {
      expectSameValues(await run(key, 0.8), a)
    }
    expectSameValues(await run('model.diffusion_model.input_blocks.1.1.proj_in.weight', 0), a)
    expect(resolveMethod('self').fixedParams).toEqual({ variant: 'supermerger_self' })
    // the plain variant zeroes at factor 0 and scales those keys too
    const plain = await runMethod('scale', { inputs: [a], key: 'model.diffusion_model.out.0.norm.weight', params: { scale: 0 } })
    expectClose(plain.output, new Float64Array(12))
  })

  it('streams: tiny chunks give the same result', async () => {
    const a = sampleTensor(60, 1)
    const opts = { inputs: [a], shape: [5, 12], params: { scale: 1.25 } }
    expectSameValues((await runMethod('scale', { ...opts, chunkElements: 5 })).output, (await runMethod('scale', opts)).output)
  })
})
