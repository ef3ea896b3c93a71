import { passThrough } from './kernel-helpers'
import { TaskVectors, requireBase } from './task-vectors'
import { tiesMerge } from './ties-core'
import { defineMethod } from './types'

export const mehTiesAddDifference = defineMethod({
  id: 'meh_ties_add_difference',
  aliases: [],
  label: 'TIES add difference (meh)',
  description:
    "meh's TIES for two fine-tunes A and B of one base C: each difference from C keeps its largest beta fraction by magnitude, the sign of each weight is elected by majority (sign count, not magnitude), the differences that agree with it are averaged, and C + alpha x that average is returned. Note the result is built on C, not on A. For more models or the magnitude-weighted election of the TIES paper, use ties_sum.",
  reference: 'https://github.com/s1dlx/meh/blob/main/sd_meh/merge_methods.py',
  inputs: {
    min: 2,
    max: 2,
    base: 'required',
    roles: ['fine-tune a', 'fine-tune b'],
    baseRole: 'c, the common base of a and b; the result is built on it',
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Strength of the merged difference added to C: 0 = C.',
      default: 1,
      ui: { min: 0, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    beta: {
      type: 'number',
      label: 'beta (fraction kept)',
      description: 'Fraction of each difference kept by magnitude (ties at the threshold are all kept). 1 = no trimming; 0 or less keeps only the largest.',
      default: 0.2,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['S'],
  randomness: 'deterministic',
  chunked: true,
  // as ties_sum for two models: 3 input chunks, the output chunk, selection windows
  memoryFactor: 12,
  kernel(ctx) {
    const { alpha, beta } = ctx.params
    if (alpha === 0) return passThrough(ctx, requireBase(ctx))
    tiesMerge(ctx, new TaskVectors(ctx), { k: beta, election: 'soup', stock: false, cosEps: 0, scale: alpha })
  },
})
