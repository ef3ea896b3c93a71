import type * as tfc from '@tensorflow/tfjs-core'
import { randomizedSvd } from '../compute/linalg/randomized-svd'
import { matMul } from '../compute/linalg/tf-ops'
import { passThrough } from './kernel-helpers'
import { defineMethod } from './types'

/*
 * sd-mecha's truncate_rank (METHODS.md §8.5): the best rank-r approximation U_r S_r V_rᵀ of a delta's
 * (shape[0], rest) view, by randomized SVD (range finder + power iterations, as upstream's default).
 */

export const truncateRank = defineMethod({
  id: 'truncate_rank',
  aliases: [],
  label: 'Truncate rank',
  description:
    "Keeps only the strongest `rank` directions of a difference (its best rank-r approximation by SVD of the (shape[0], rest) view), like extracting a LoRA of that rank and applying it back. Use it on a difference (B − C) to compress or denoise what a fine-tune changed. rank 0 gives zeros; rank ≥ the matrix's smaller side returns the input; tensors of fewer than 2 dimensions pass through. Computed by randomized SVD: exact when the difference's true rank is at most rank + oversampling, and otherwise within a hair of the exact truncation after the default 2 power iterations.",
  reference: 'sd-mecha sd_mecha/extensions/builtin/merge_methods/svd.py (truncate_rank)',
  inputs: { min: 1, max: 1, base: 'none', roles: ['difference (delta) to truncate'] },
  params: {
    rank: {
      type: 'integer',
      label: 'rank',
      description: 'Number of singular directions kept (clipped to the smaller side of the matrix).',
      default: 8,
      min: 0,
      ui: { min: 0, max: 256, step: 1 },
      perBlock: true,
      perModel: false,
    },
    power_iterations: {
      type: 'integer',
      label: 'power iterations',
      description: 'Refinement passes of the randomized range finder (upstream: 2); more = closer to the exact SVD when the spectrum decays slowly.',
      default: 2,
      min: 0,
      max: 20,
      ui: { min: 0, max: 8, step: 1 },
      perBlock: false,
      perModel: false,
    },
    oversampling: {
      type: 'integer',
      label: 'oversampling',
      description: 'Extra random directions sampled beyond rank (upstream samples none); they make the truncation exact for differences of rank ≤ rank + oversampling.',
      default: 8,
      min: 0,
      max: 256,
      ui: { min: 0, max: 64, step: 1 },
      perBlock: false,
      perModel: false,
    },
  },
  cost: ['L'],
  randomness: 'seeded',
  chunked: false,
  memoryFactor: 4,
  kernel(ctx) {
    const { rank, power_iterations: powerIterations, oversampling } = ctx.params
    const input = ctx.inputs[0]!
    const { rows, rowLength, tf } = ctx
    const maxRank = Math.min(rows, rowLength)
    if (ctx.shape.length < 2 || rank >= maxRank) return passThrough(ctx, input)
    if (rank === 0) return ctx.out.write(0, new Float32Array(ctx.numel))
    const a = tf.tensor2d(input.readAll(), [rows, rowLength])
    const { u, s, v } = randomizedSvd(tf, a, rank, ctx.rng(0), { powerIterations, oversampling })
    const product = tf.tidy(() => matMul(tf, tf.mul(u, tf.tensor1d(Float32Array.from(s))), v, false, true)) as tfc.Tensor2D
    tf.dispose([a, u, v])
    const values = product.dataSync() as Float32Array
    product.dispose()
    ctx.out.write(0, values)
  },
})
