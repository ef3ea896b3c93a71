import { AmalgamError } from '../errors'
import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

export const weightedSubtraction = defineMethod({
  id: 'weighted_subtraction',
  aliases: [],
  label: 'Weighted subtraction',
  description:
    "Removes B's share from A, as if A were a weighted sum of a model and B: (A - alpha x beta x B) / (1 - alpha x beta) (meh weighted_subtraction). Use it to undo a weighted-sum merge whose other ingredient is known. alpha x beta must not be 1: the division would blow up (meh turns alpha = beta = 1 into a result around 1e10 times too large; here it is refused).",
  reference: 'https://github.com/s1dlx/meh/blob/main/sd_meh/merge_methods.py',
  inputs: { min: 2, max: 2, base: 'none', roles: ['model a (the merge B is removed from)', 'model b (the share removed)'] },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'First factor of the share of B removed (alpha x beta).',
      default: 0.5,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    beta: {
      type: 'number',
      label: 'beta',
      description: 'Second factor of the share of B removed (alpha x beta).',
      default: 0.5,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 3,
  kernel(ctx) {
    const { alpha, beta } = ctx.params
    const share = alpha * beta
    if (share === 1) {
      throw new AmalgamError(
        'BAD_RECIPE',
        `${ctx.key}: weighted_subtraction: alpha x beta = 1 (alpha ${alpha}, beta ${beta}) divides by zero; choose values whose product is not 1`,
      )
    }
    // nothing removed: A bit for bit (A - 0 x B would turn -0 into +0 where B is negative)
    if (share === 0) return passThrough(ctx, ctx.inputs[0]!)
    const divisor = 1 - share
    mapElementwise(ctx, (out, [a, b]) => {
      for (let i = 0; i < out.length; i++) out[i] = (a![i]! - share * b![i]!) / divisor
    })
  },
})
