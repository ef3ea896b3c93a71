import { visitInMagnitudeOrder } from '../compute/selection'
import { passThrough } from './kernel-helpers'
import { MaskBits, TaskVectors, bernoulliMask, requireBase } from './task-vectors'
import { SIGN_ELECTION_OPTIONS, tiesMerge } from './ties-core'
import { defineMethod, type KernelContext } from './types'

export const tiesSumWithDropout = defineMethod({
  id: 'ties_sum_with_dropout',
  aliases: [{ name: 'add_ties_with_dare', params: {} }],
  label: 'DARE / DELLA + TIES (sd-mecha)',
  description:
    'sd-mecha\'s DARE-TIES: every task vector (model − base) first loses each weight with probability `probability` (DARE; with della_eps, larger weights are kept more often: DELLA), then the survivors are TIES-merged (trim to k, sign election, disjoint mean) and divided by 1 − probability. The result is base + alpha × that. Seeded per key and model. k defaults to 0.2 (sd-mecha\'s add_ties_with_dare wrapper defaults to 1.0 = no trimming). apply_median replaces the disjoint mean by the geometric median of the masked deltas (TIES-GMEDIAN).',
  reference: 'https://arxiv.org/abs/2311.03099',
  inputs: {
    min: 1,
    max: null,
    base: 'required',
    roles: ['fine-tune a (keys not merged come from it)', 'more fine-tunes of the same base (b, c, …)'],
    baseRole: 'the common base θ₀ the task vectors are taken against; the result is built on it',
  },
  params: {
    probability: {
      type: 'number',
      label: 'drop probability',
      description: 'Chance that each weight of a task vector is dropped (DARE p). 0 = TIES alone, 1 = the base.',
      default: 0.9,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    della_eps: {
      type: 'number',
      label: 'DELLA epsilon',
      description:
        'Total spread of keep probabilities by magnitude rank over the whole tensor: the smallest weight is kept with 1 − p − eps/2, the largest with 1 − p + eps/2 (clipped to 0..1). 0 = plain DARE.',
      default: 0,
      ui: { min: 0, max: 0.5, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    rescale: {
      type: 'boolean',
      label: 'rescale by 1 / (1 − p)',
      description: 'Divide the merged delta by the keep probability, so that dropping is unbiased.',
      default: true,
    },
    k: {
      type: 'number',
      label: 'k (fraction kept)',
      description: 'TIES trim after dropout: fraction of each task vector kept by magnitude. 1 = no trimming.',
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
      description: 'Multiplies the averaged deltas by the model-stock factor of the masked deltas. Needs two or more models.',
      default: false,
    },
    apply_median: {
      type: 'boolean',
      label: 'geometric median (TIES-GMEDIAN)',
      description:
        'Replaces the disjoint mean by the geometric median of the masked deltas (zeros of disagreeing models included), found by Weiszfeld iterations over the whole tensor; overrides apply_stock, as in sd-mecha.',
      default: false,
    },
    eps: {
      type: 'number',
      label: 'median epsilon',
      description: 'Floor on the distances inverted into Weiszfeld weights (apply_median only).',
      default: 1e-6,
      min: 0,
      ui: { min: 0, max: 1e-3, step: 1e-6 },
      perBlock: false,
      perModel: false,
    },
    maxiter: {
      type: 'integer',
      label: 'median max iterations',
      description: 'Weiszfeld iterations at most, each one pass over the task vectors (apply_median only).',
      default: 100,
      min: 0,
      ui: { min: 0, max: 500, step: 1 },
      perBlock: false,
      perModel: false,
    },
    ftol: {
      type: 'number',
      label: 'median relative tolerance',
      description: 'Stop when the mean distance changes by at most this fraction of itself (apply_median only).',
      default: 1e-20,
      min: 0,
      ui: { min: 0, max: 1e-3, step: 1e-9 },
      perBlock: false,
      perModel: false,
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
      description: 'Strength of the merged task vector added to the base.',
      default: 1,
      ui: { min: 0, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['S'],
  randomness: 'seeded',
  chunked: true,
  // as ties_sum, plus one mask bit per element and model; DELLA ranks visit batches of one chunk (7 arrays)
  memoryFactor: 12,
  kernel(ctx) {
    const { probability: p, della_eps, rescale, k, variant, apply_stock, apply_median, eps, maxiter, ftol, cos_eps, alpha } = ctx.params
    // sd-mecha returns a zero delta when p is close to 1 (math.isclose)
    if (alpha === 0 || Math.abs(p - 1) <= 1e-9) return passThrough(ctx, requireBase(ctx))
    const masks = ctx.inputs.map((_, i) => (della_eps === 0 ? bernoulliMask(ctx.rng(i), ctx.numel, 1 - p) : rankedDropout(ctx, i, p, della_eps)))
    const scale = rescale ? alpha / (1 - p) : alpha
    tiesMerge(ctx, new TaskVectors(ctx, masks), {
      k,
      election: variant,
      stock: apply_stock,
      cosEps: cos_eps,
      scale,
      ...(apply_median ? { median: { eps, maxiter, ftol } } : {}),
    })
  },
})

/**
 * sd-mecha's DELLA dropout: keep probability clip(1 − p + eps·(r/n − (n + 1)/(2n)), 0, 1) for the
 * element of ordinal rank r of |δ| over the whole tensor (ties by position). The Bernoulli draws
 * are taken in rank order, which needs no per-element rank array: ranks are visited in bounded batches.
 */
function rankedDropout(ctx: KernelContext<unknown>, model: number, p: number, eps: number): MaskBits {
  const n = ctx.numel
  const mask = new MaskBits(n)
  const rng = ctx.rng(model)
  const batch = Math.max(1, ctx.chunkElements)
  const probabilities = new Float32Array(Math.min(n, batch))
  const flags = new Float32Array(Math.min(n, batch))
  const centre = (n + 1) / (2 * n)
  visitInMagnitudeOrder(new TaskVectors(ctx).source([model]), n, batch, (indices, firstRank) => {
    const keep = probabilities.subarray(0, indices.length)
    for (let j = 0; j < indices.length; j++) {
      keep[j] = Math.min(1, Math.max(0, 1 - p + eps * ((firstRank + j) / n - centre)))
    }
    const drawn = rng.bernoulli(flags.subarray(0, indices.length), keep)
    for (let j = 0; j < indices.length; j++) if (drawn[j] !== 0) mask.set(indices[j]!)
  })
  return mask
}
