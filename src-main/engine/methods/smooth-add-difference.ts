import type { TensorStream } from '../compute/tensor-stream'
import { chunkRanges, passThrough } from './kernel-helpers'
import { smoothTensor } from './smooth-filter'
import { requireBase } from './task-vectors'
import { defineMethod } from './types'

export const smoothAddDifference = defineMethod({
  id: 'smooth_add_difference',
  aliases: [
    { name: 'smoothadd', params: {} },
    { name: 'smoothadd_mt', params: {} },
  ],
  label: 'Smooth add difference',
  description:
    'Add difference with the difference smoothed first: A + alpha x smooth(B - C), where smooth is a 3x3(x3...) median filter (removes isolated spikes) followed by a Gaussian blur (sigma 1) over every dimension of the tensor (supermerger smoothAdd / smoothAdd MT, untitled Add Difference with smoothing). Slow on convolution weights (81-value medians).',
  inputs: {
    min: 2,
    max: 2,
    base: 'required',
    roles: ['model a (the result is built on it)', 'model b (its smoothed difference from c is added)'],
    baseRole: 'c, the model b was trained from',
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Strength of the added smoothed difference: 0 = A.',
      default: 1,
      ui: { min: -1, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['W'],
  randomness: 'deterministic',
  chunked: false,
  memoryFactor: 3,
  kernel(ctx) {
    const { alpha } = ctx.params
    const base = requireBase(ctx)
    const a = ctx.inputs[0]!
    if (alpha === 0) return passThrough(ctx, a)
    const delta = difference(ctx.inputs[1]!, base)
    const smoothed = smoothTensor(delta, ctx.shape)
    for (const [start, end] of chunkRanges(ctx)) {
      const x = a.read(start, end)
      const out = delta.subarray(start, end)
      for (let i = 0; i < out.length; i++) out[i] = x[i]! + alpha * smoothed[start + i]!
      ctx.out.write(start, out)
    }
  },
})

/** B - C in float32 (as upstream), in B's copy so C's copy can be freed before the filters run */
function difference(b: TensorStream, c: TensorStream): Float32Array {
  const delta = b.readAll()
  const base = c.readAll()
  for (let i = 0; i < delta.length; i++) delta[i]! -= base[i]!
  return delta
}
