import { mapElementwise } from './kernel-helpers'
import { requireBase } from './task-vectors'
import { defineMethod } from './types'

export const similarityAddDifference = defineMethod({
  id: 'similarity_add_difference',
  aliases: [],
  label: 'Similarity add difference',
  description:
    "Add difference where A and B disagree, weighted sum where they agree (meh similarity_add_difference): per weight, s = beta x (A B / max(|A|, |B|)^2 + 1) / 2 measures how alike A and B are (beta where both are 0), and the result is (1 - s) (A + alpha (B - C)) + s ((1 - alpha/2) A + (alpha/2) B). Use it to add a fine-tune's training to A while averaging the weights the two models already share.",
  reference: 'https://github.com/s1dlx/meh/blob/main/sd_meh/merge_methods.py',
  inputs: {
    min: 2,
    max: 2,
    base: 'required',
    roles: ['model a (the result is built on it)', 'model b (its difference from c is added)'],
    baseRole: 'c, the model b was trained from',
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Strength of the added difference (and twice the weighted-sum share of B): 0 = A.',
      default: 1,
      ui: { min: 0, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    beta: {
      type: 'number',
      label: 'beta',
      description: 'How far similar weights lean to the weighted sum instead of the added difference: 0 = plain add difference.',
      default: 0.5,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 4,
  kernel(ctx) {
    const { alpha, beta } = ctx.params
    requireBase(ctx)
    mapElementwise(ctx, (out, [a, b], c) => {
      for (let i = 0; i < out.length; i++) {
        const x = a![i]!
        const y = b![i]!
        const threshold = Math.max(Math.abs(x), Math.abs(y))
        const s = (((x * y) / (threshold * threshold) + 1) / 2) * beta
        // meh: nan_to_num(s, nan=beta) for A = B = 0 (0/0) and infinite inputs; |AB| ≤ max² keeps s finite otherwise
        const similarity = Number.isNaN(s) ? beta : s
        const added = x + alpha * (y - c![i]!)
        const mixed = (1 - alpha / 2) * x + (alpha / 2) * y
        out[i] = (1 - similarity) * added + similarity * mixed
      }
    })
  },
})
