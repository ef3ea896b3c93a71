import { passThrough } from './kernel-helpers'
import { TaskVectors, requireBase } from './task-vectors'
import { SIGN_ELECTION_OPTIONS, tiesMerge } from './ties-core'
import { defineMethod } from './types'

export const tiesSum = defineMethod({
  id: 'ties_sum',
  aliases: [
    { name: 'add_difference_ties', params: {} },
    { name: 'ties_sum_extended', params: {} },
    { name: 'add_difference_ties_extended', params: {} },
  ],
  label: 'TIES (sd-mecha)',
  description:
    'TIES-merging of several fine-tunes of one base: each task vector (model − base) keeps its top k fraction by magnitude, a sign is elected per weight, and the deltas that agree with it are averaged; the result is base + alpha × that average. k defaults to 0.2 as in the TIES paper (sd-mecha ties_sum / add_difference_ties default to 1.0 = no trimming; pass k = 1 for that). apply_stock gives TIES-STOCK; the geometric-median option (TIES-GMEDIAN) is not available yet.',
  reference: 'https://arxiv.org/abs/2306.01708',
  inputs: {
    min: 1,
    max: null,
    base: 'required',
    roles: ['fine-tune a (keys not merged come from it)', 'more fine-tunes of the same base (b, c, …)'],
    baseRole: 'the common base θ₀ the task vectors are taken against; the result is built on it',
  },
  params: {
    k: {
      type: 'number',
      label: 'k (fraction kept)',
      description: 'Fraction of each task vector kept by magnitude (ties at the threshold are all kept). 1 = no trimming; 0 or less keeps only the largest.',
      default: 0.2,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    variant: {
      type: 'enum',
      label: 'sign election',
      description: 'How the sign of each weight is elected.',
      options: SIGN_ELECTION_OPTIONS,
      default: 'paper',
    },
    apply_stock: {
      type: 'boolean',
      label: 'apply model stock (TIES-STOCK)',
      description:
        'Multiplies the averaged deltas by the model-stock factor of the masked deltas (per last-axis slice). Needs two or more models. Intended meaning: sd-mecha ≥ 0.1 applies it when its apply_stock is False.',
      default: false,
    },
    cos_eps: {
      type: 'number',
      label: 'cosine epsilon',
      description: 'Guards the model-stock cosine against zero norms (apply_stock only).',
      default: 1e-6,
      min: 0,
      ui: { min: 0, max: 0.001, step: 1e-6 },
      perBlock: false,
      perModel: false,
    },
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Strength of the merged task vector added to the base: 0 = base, 1 = full.',
      default: 1,
      ui: { min: 0, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['S'],
  randomness: 'deterministic',
  chunked: true,
  // for two models: 3 input chunks, the output chunk, selection windows of up to WINDOW_CHUNKS chunks per model
  memoryFactor: 12,
  kernel(ctx) {
    const { k, variant, apply_stock, cos_eps, alpha } = ctx.params
    if (alpha === 0) return passThrough(ctx, requireBase(ctx))
    tiesMerge(ctx, new TaskVectors(ctx), { k, election: variant, stock: apply_stock, cosEps: cos_eps, scale: alpha })
  },
})
