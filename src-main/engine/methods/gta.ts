import {
  CUT_ALL,
  CUT_NONE,
  CutCursor,
  cutFromStatistic,
  cutRank,
  magnitudeBitsOf,
  magnitudeKey,
  orderByMagnitudeBits,
  selectAbs,
  selectAbsWithSums,
  type AbsOrderStatistic,
  type AbsRankQuery,
  type DescendingCut,
} from '../compute/selection'
import { AmalgamError } from '../errors'
import { passThrough } from './kernel-helpers'
import { MaskBits, TaskVectors, bernoulliMask, requireBase } from './task-vectors'
import { WINDOW_CHUNKS } from './ties-core'
import { defineMethod, type KernelContext } from './types'

/*
 * mergekit's generalized task arithmetic (METHODS.md §6.3): per model δᵢ = Xᵢ − θ₀ is sparsified
 * (or not), optionally L1-rescaled, weighted, sign-elected (or not), summed, optionally
 * normalised by the weights, scaled by λ and added to θ₀. The eight mergekit method names are
 * variants of this one family; each name is an alias that fixes its variant.
 */

type Sparsifier = 'none' | 'magnitude' | 'random' | 'outliers' | 'della'

interface VariantRules {
  readonly sparsifier: Sparsifier
  readonly consensus: boolean
  readonly normalize: boolean
  readonly rescale: boolean
}

/** mergekit's per-method sparsifier, consensus and defaults for normalize / rescale */
const VARIANTS = {
  task_arithmetic: { sparsifier: 'none', consensus: false, normalize: false, rescale: false },
  ties: { sparsifier: 'magnitude', consensus: true, normalize: true, rescale: false },
  dare_ties: { sparsifier: 'random', consensus: true, normalize: false, rescale: true },
  dare_linear: { sparsifier: 'random', consensus: false, normalize: false, rescale: true },
  breadcrumbs: { sparsifier: 'outliers', consensus: false, normalize: false, rescale: false },
  breadcrumbs_ties: { sparsifier: 'outliers', consensus: true, normalize: false, rescale: false },
  della: { sparsifier: 'della', consensus: true, normalize: true, rescale: true },
  della_linear: { sparsifier: 'della', consensus: false, normalize: false, rescale: true },
} as const satisfies Record<string, VariantRules>

type Variant = keyof typeof VARIANTS

const VARIANT_OPTIONS = [
  { value: 'task_arithmetic', label: 'task arithmetic', description: 'Weighted sum of the task vectors, no sparsification.' },
  { value: 'ties', label: 'TIES', description: 'Keeps the density largest |δ| per model (exact count), sign consensus, normalised by the weights.' },
  { value: 'dare_ties', label: 'DARE-TIES', description: 'Random drop (keep probability density), L1 rescale, sign consensus.' },
  { value: 'dare_linear', label: 'DARE linear', description: 'Random drop (keep probability density), L1 rescale, plain weighted sum.' },
  { value: 'breadcrumbs', label: 'Model Breadcrumbs', description: 'Drops the gamma largest and the smallest |δ| to keep density, plain weighted sum.' },
  { value: 'breadcrumbs_ties', label: 'Breadcrumbs-TIES', description: 'Breadcrumbs sparsification with sign consensus.' },
  { value: 'della', label: 'DELLA', description: 'Random drop with keep probability ranked by |δ| per row (density ± epsilon), L1 rescale, sign consensus, normalised.' },
  { value: 'della_linear', label: 'DELLA linear', description: 'DELLA sparsification with a plain weighted sum.' },
] as const satisfies readonly { value: Variant; label: string; description: string }[]

const SWITCH_OPTIONS = [
  { value: 'auto', label: 'variant default', description: 'What mergekit does for the chosen variant.' },
  { value: 'on', label: 'on', description: 'Always on.' },
  { value: 'off', label: 'off', description: 'Always off.' },
] as const

/** mergekit skips the L1 rescale when either norm is below this */
const RESCALE_EPS = 1e-7

export const gta = defineMethod({
  id: 'gta',
  aliases: (Object.keys(VARIANTS) as Variant[]).map((variant) => ({ name: variant, params: { variant } })),
  label: 'Task arithmetic family (mergekit)',
  description:
    'mergekit\'s generalized task arithmetic: task vectors of several fine-tunes of one base are sparsified (TIES, DARE, Model Breadcrumbs, DELLA), weighted, optionally sign-elected, and added to the base, scaled by lambda. Type the mergekit name (ties, dare_ties, della, task_arithmetic, ...) to pick the variant. weight defaults to 1 for every model (mergekit requires it); normalize and rescale follow the variant unless set.',
  reference: 'https://github.com/arcee-ai/mergekit/blob/main/docs/merge_methods.md',
  inputs: {
    min: 1,
    max: null,
    base: 'required',
    roles: ['fine-tune a (keys not merged come from it)', 'more fine-tunes of the same base (b, c, …)'],
    baseRole: 'the common base θ₀ (mergekit base_model); the result is built on it',
  },
  params: {
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'Which mergekit method: sparsifier, sign consensus and the defaults of normalize and rescale.',
      options: VARIANT_OPTIONS,
      default: 'ties',
    },
    weight: {
      type: 'number',
      label: 'weight',
      description: 'Weight of each model\'s task vector (negative values subtract it and flip its sign votes).',
      default: 1,
      ui: { min: -1, max: 2, step: 0.01 },
      perBlock: true,
      perModel: true,
    },
    density: {
      type: 'number',
      label: 'density',
      description: 'Fraction of each task vector kept (exact count for ties/breadcrumbs, keep probability for dare/della); 1 = keep all.',
      default: 1,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: true,
    },
    gamma: {
      type: 'number',
      label: 'gamma (breadcrumbs)',
      description: 'Fraction of the largest |δ| dropped as outliers (breadcrumbs variants only).',
      default: 0.01,
      min: 0,
      max: 1,
      ui: { min: 0, max: 0.1, step: 0.001 },
      perBlock: true,
      perModel: true,
    },
    epsilon: {
      type: 'number',
      label: 'epsilon (DELLA)',
      description: 'Keep probabilities run from density − epsilon (smallest |δ| of a row) to density + epsilon (largest); della variants only.',
      default: 0.15,
      min: 0,
      max: 1,
      ui: { min: 0, max: 0.5, step: 0.01 },
      perBlock: true,
      perModel: true,
    },
    lambda: {
      type: 'number',
      label: 'lambda',
      description: 'Scales the merged task vector before it is added to the base.',
      default: 1,
      ui: { min: 0, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    normalize: {
      type: 'enum',
      label: 'normalize',
      description: 'Divide by the sum of weights (of the agreeing models, with sign consensus). Default on for ties and della.',
      options: SWITCH_OPTIONS,
      default: 'auto',
    },
    rescale: {
      type: 'enum',
      label: 'rescale',
      description: 'Rescale each sparsified task vector to its original L1 norm. Default on for dare_* and della*.',
      options: SWITCH_OPTIONS,
      default: 'auto',
    },
  },
  cost: ['E', 'S'],
  randomness: 'seeded',
  chunked: true,
  // for two models: 3 input chunks, the output chunk, selection windows of up to WINDOW_CHUNKS chunks per model;
  // dare/della masks add one bit per element and model
  memoryFactor: 12,
  kernel(ctx) {
    const { variant, weight, density, gamma, epsilon, lambda } = ctx.params
    const rules: VariantRules = VARIANTS[variant]
    const normalize = ctx.params.normalize === 'auto' ? rules.normalize : ctx.params.normalize === 'on'
    const rescale = ctx.params.rescale === 'auto' ? rules.rescale : ctx.params.rescale === 'on'
    if (lambda === 0) return passThrough(ctx, requireBase(ctx))
    if (ctx.numel === 0) return
    const sparse = sparsify(ctx, rules.sparsifier, { density, gamma, epsilon }, rescale)
    mix(new TaskVectors(ctx, sparse.masks), sparse, weight, rules.consensus, normalize, lambda)
  },
})

interface SparsifyParams {
  readonly density: readonly number[]
  readonly gamma: readonly number[]
  readonly epsilon: readonly number[]
}

interface Sparsified {
  /** random drops (dare, della); null = nothing dropped */
  readonly masks: readonly (MaskBits | null)[]
  /** magnitude cuts (ties, breadcrumbs): an element is kept when above cuts[0] and not above cuts[1] */
  readonly cuts: readonly (readonly [DescendingCut, DescendingCut] | null)[]
  /** L1 rescale factor per model (1 when off or skipped) */
  readonly scales: readonly number[]
}

function sparsify(ctx: KernelContext<unknown>, sparsifier: Sparsifier, p: SparsifyParams, rescale: boolean): Sparsified {
  const models = ctx.inputs.length
  const none: Sparsified = { masks: [], cuts: [], scales: new Array<number>(models).fill(1) }
  // density ≥ 1 leaves a task vector untouched in every sparsifier
  const sparsified = Array.from({ length: models }, (_, i) => sparsifier !== 'none' && p.density[i]! < 1)
  if (!sparsified.includes(true)) return none
  if (sparsifier === 'magnitude' || sparsifier === 'outliers') return magnitudeCuts(ctx, sparsifier, p, sparsified, rescale)
  const masks = Array.from({ length: models }, (_, i) => {
    if (!sparsified[i]) return null
    const d = p.density[i]!
    if (sparsifier === 'random' || d <= 0) return bernoulliMask(ctx.rng(i), ctx.numel, d)
    return dellaMask(ctx, i, d, p.epsilon[i]!)
  })
  return { masks, cuts: [], scales: rescale ? l1Scales(ctx, masks) : none.scales }
}

/** mergekit's magnitude (exact count) and magnitude_outliers (breadcrumbs) rules as cuts in the descending order */
function magnitudeCuts(ctx: KernelContext<unknown>, sparsifier: 'magnitude' | 'outliers', p: SparsifyParams, sparsified: readonly boolean[], rescale: boolean): Sparsified {
  const n = ctx.numel
  const counts = sparsified.map((on, i): readonly [number, number] | null => {
    if (!on) return null
    const target = Math.trunc(p.density[i]! * n)
    if (sparsifier === 'magnitude') {
      if (target === 0) ctx.warn(`model ${i}: density ${p.density[i]} keeps none of ${n} elements; its task vector is dropped`)
      return [target, 0]
    }
    // drop the n_top largest, keep the next `target`; mergekit's [n_bot:-n_top] slice kept nothing
    // when n_top = 0 (small tensors, gamma 0): here n_top = 0 simply drops no outlier
    let top = Math.trunc(p.gamma[i]! * n)
    const bottom = n - target - top
    if (bottom < 0) top += bottom
    return [n - Math.max(bottom, 0), top]
  })
  const queries: AbsRankQuery[] = []
  const queryOf = counts.map((c, i) =>
    (c ?? []).map((count) => {
      const rank = cutRank(count, n)
      if (rank === null) return -1
      queries.push({ sequence: i, rank })
      return queries.length - 1
    }),
  )
  const vectors = new TaskVectors(ctx)
  const all = ctx.inputs.map((_, i) => i)
  const options = { sample: (s: readonly number[]) => vectors.sample(s), maxCollected: WINDOW_CHUNKS * ctx.chunkElements }
  // the sums (for the L1 rescale) cost a slower selection loop: only ask for them when needed
  const withSums = rescale ? selectAbsWithSums(ctx.tf, vectors.source(all), n, queries, options) : null
  const stats: readonly AbsOrderStatistic[] = withSums ? withSums.stats : selectAbs(ctx.tf, vectors.source(all), n, queries, options)
  const statOf = (i: number, j: number): AbsOrderStatistic | null => {
    const q = queryOf[i]![j]!
    return q < 0 ? null : stats[q]!
  }
  const cuts = counts.map((c, i) => (c ? ([cutFromStatistic(c[0], n, statOf(i, 0)), cutFromStatistic(c[1], n, statOf(i, 1))] as const) : null))
  const scales = cuts.map((pair, i) => {
    if (!pair || !withSums) return 1
    const total = withSums.totals[i]!
    const above = (cut: DescendingCut, j: number): number => {
      if (cut === CUT_ALL) return total
      if (cut === CUT_NONE) return 0
      const s = withSums.stats[queryOf[i]![j]!]!
      return s.sumAbove + cut.ties * s.value
    }
    return l1Factor(total, above(pair[0], 0) - above(pair[1], 1))
  })
  return { masks: [], cuts, scales }
}

function l1Factor(before: number, after: number): number {
  return before < RESCALE_EPS || after < RESCALE_EPS ? 1 : before / after
}

/** ‖δᵢ‖₁ / ‖δᵢ·maskᵢ‖₁ per model (1 where no mask or a norm is below mergekit's epsilon) */
function l1Scales(ctx: KernelContext<unknown>, masks: readonly (MaskBits | null)[]): number[] {
  const before = new Float64Array(masks.length)
  const after = new Float64Array(masks.length)
  const masked = masks.flatMap((m, i) => (m ? [i] : []))
  new TaskVectors(ctx).scan(
    ({ deltas, length, start }) => {
      masked.forEach((model, j) => {
        const d = deltas[j]!
        const mask = masks[model]!
        let all = 0
        let kept = 0
        for (let e = 0; e < length; e++) {
          const a = Math.abs(d[e]!)
          all += a
          if (mask.has(start + e)) kept += a
        }
        before[model]! += all
        after[model]! += kept
      })
    },
    1,
    masked,
  )
  return masks.map((m, i) => (m ? l1Factor(before[i]!, after[i]!) : 1))
}

/**
 * mergekit's della_magprune: along axis 1 (1-D tensors are one row), the rank r of |δ| among its
 * fiber (ascending, ties in index order) gives keep probability density − ε + 2ε·(r − 1)/(len − 1);
 * fibers of length 1 (where upstream divides 0 by 0) get density. Draws in flat order.
 */
function dellaMask(ctx: KernelContext<unknown>, model: number, density: number, eps: number): MaskBits {
  if (density + eps >= 1 || density - eps <= 0) {
    throw new AmalgamError('BAD_RECIPE', `${ctx.key}: della needs 0 < density ± epsilon < 1 (model ${model}: density ${density}, epsilon ${eps})`)
  }
  const { shape, numel } = ctx
  const fiber = shape.length === 0 ? 1 : shape.length === 1 ? shape[0]! : shape[1]!
  const stride = shape.slice(2).reduce((p, q) => p * q, 1)
  const row = fiber * stride
  const rng = ctx.rng(model)
  const mask = new MaskBits(numel)
  const probabilities = new Float32Array(row)
  const flags = new Float32Array(row)
  const bits = new Uint32Array(row)
  const fiberBits = new Uint32Array(fiber)
  const order = new Uint32Array(fiber)
  const scratch = [new Uint32Array(fiber), new Uint32Array(fiber), new Uint32Array(fiber), new Uint32Array(fiber)] as const
  new TaskVectors(ctx).scan(
    ({ deltas: [deltas], length, start }) => {
      for (let offset = 0; offset < length; offset += row) {
        magnitudeBitsOf(deltas!, offset, row, bits)
        for (let r = 0; r < stride; r++) {
          for (let j = 0; j < fiber; j++) fiberBits[j] = bits[j * stride + r]!
          orderByMagnitudeBits(fiberBits, fiber, order, scratch)
          for (let q = 0; q < fiber; q++) {
            probabilities[order[q]! * stride + r] = fiber === 1 ? density : density - eps + (2 * eps * q) / (fiber - 1)
          }
        }
        mask.setFrom(start + offset, rng.bernoulli(flags, probabilities))
      }
    },
    row,
    [model],
  )
  return mask
}

/** weights, sign consensus, normalisation, λ: the per-element mix of the (sparsified) task vectors */
function mix(vectors: TaskVectors, sparse: Sparsified, weights: readonly number[], consensus: boolean, normalize: boolean, lambda: number): void {
  const models = vectors.models
  const weighted = new Float64Array(models)
  const scaled = Float64Array.from(weights, (w, i) => w * sparse.scales[i]!)
  const weightSum = weights.reduce((p, q) => p + q, 0)
  const linearDivisor = Math.abs(weightSum) < 1e-8 ? 1 : weightSum
  const kept = sparse.cuts.map((pair) => (pair ? new CutCursor(pair[0]) : null))
  const outliers = sparse.cuts.map((pair) => (pair && pair[1] !== CUT_NONE ? new CutCursor(pair[1]) : null))
  vectors.map(({ length, deltas, base, offset }, out) => {
    for (let e = 0; e < length; e++) {
      let total = 0
      for (let i = 0; i < models; i++) {
        const x = deltas[i]![e]!
        const keep = kept[i]
        const drop = outliers[i]
        // each cursor sees every element, in flat order; the mask is a 0/1 factor like mergekit's
        // (so a dropped inf becomes NaN there as well)
        let mask = 1
        if (keep) {
          const key = magnitudeKey(x)
          mask = +keep.next(key) & (drop ? +drop.next(key) ^ 1 : 1)
        }
        const w = scaled[i]! * x * mask
        weighted[i] = w
        total += w
      }
      let mixed = total
      let divisor = linearDivisor
      if (consensus) {
        // majority sign of the weighted sum, ties at 0 to +; zeros never agree
        const sign = total >= 0 ? 1 : -1
        mixed = 0
        divisor = 0
        for (let i = 0; i < models; i++) {
          const w = weighted[i]!
          const agrees = +(w * sign > 0)
          mixed += w * agrees
          divisor += weights[i]! * agrees
        }
        if (divisor === 0) divisor = 1
      }
      out[offset + e] = base[offset + e]! + lambda * (normalize ? mixed / divisor : mixed)
    }
  })
}
