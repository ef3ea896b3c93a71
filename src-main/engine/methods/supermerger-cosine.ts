import { lerp } from '../compute/lerp'
import { AmalgamError } from '../errors'
import { NORMALIZE_EPS } from './add-cosine'
import { columnSumsWithTf, cosineFromSums, mapElementwise } from './kernel-helpers'
import { defineMethod, type ModelStatistic, type StatisticsContext } from './types'

/** Similarities outside these percentiles of the whole model are outliers (supermerger: 1 and 99). */
const LOW_PERCENTILE = 1
const HIGH_PERCENTILE = 99

type Variant = 'a' | 'b'

export const supermergerCosine = defineMethod({
  id: 'supermerger_cosine',
  aliases: [
    { name: 'cosinea', params: { variant: 'a' } },
    { name: 'cosineb', params: { variant: 'b' } },
    { name: 'cosine_a', params: { variant: 'a' } },
    { name: 'cosine_b', params: { variant: 'b' } },
  ],
  label: 'Cosine A / B (model-wide similarity)',
  description:
    "Keeps A where the two models agree and moves to B where they differ, judged against the whole model: a first pass measures the similarity of A and B for every column (first-axis slice) of every merged key and keeps the model-wide range of those similarities (the 1st–99th percentile, outliers dropped); then each column's similarity is rescaled to that range, so the model's most similar columns get 1 and its least similar 0, and weight = clip(rescaled − alpha, 0, 1), result = B + weight·(A − B). alpha lowers the share of A everywhere: 0 keeps the most similar columns entirely A, 1 gives B everywhere. Variant a compares column-normalised tensors (supermerger cosineA), variant b the raw tensors (cosineB). Needs a statistics pass over all keys before merging (about twice the reading time).",
  reference: 'supermerger (hako-mikan/sd-webui-supermerger) scripts/mergers/mergers.py, calcmode cosineA / cosineB',
  inputs: { min: 2, max: 2, base: 'none', roles: ['model a (kept where the models are similar)', 'model b (taken where they differ)'] },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Subtracted from the rescaled similarity before clipping to [0, 1]: the weight of A is clip(rescaled − alpha, 0, 1). Variant a uses |alpha|.',
      default: 0.5,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'Which tensors the similarity compares (supermerger cosineA / cosineB).',
      options: [
        { value: 'a', label: 'cosine A', description: 'Columns normalised to unit length first (supermerger cosineA); alpha is taken as |alpha|.' },
        { value: 'b', label: 'cosine B', description: 'The raw tensors (supermerger cosineB).' },
      ],
      default: 'a',
    },
  },
  cost: ['R', 'G'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 6,
  statistics: {
    perKey(ctx) {
      const sums = columnSums(ctx, ctx.params.variant)
      // upstream's first pass for cosineA ranks the plain per-column cosine, its merge the combined one (METHODS.md §5.2)
      const values = ctx.params.variant === 'a' ? columnCosines(sums) : combinedSimilarities(sums)
      return values.filter((v) => !Number.isNaN(v))
    },
    combine: similarityRange,
  },
  kernel(ctx) {
    if (ctx.numel === 0) return
    const { alpha, variant } = ctx.params
    const range = ctx.statistic
    const min = range?.min
    const max = range?.max
    if (min === undefined || max === undefined) throw new AmalgamError('INTERNAL', `${ctx.key}: supermerger_cosine ran without its model-wide similarity range`)
    const offset = variant === 'a' ? Math.abs(alpha) : alpha
    const similarity = combinedSimilarities(columnSums(ctx, variant))
    const columns = ctx.rowLength
    const k = new Float64Array(columns)
    for (let j = 0; j < columns; j++) {
      // a model whose similarities are all equal has no range to rescale to: every column counts as the most similar
      const rescaled = max > min ? (similarity[j]! - min) / (max - min) : 1
      k[j] = Math.min(Math.max(rescaled - offset, 0), 1)
    }
    mapElementwise(ctx, (out, [a, b], _base, start) => {
      let column = start % columns
      for (let i = 0; i < out.length; i++) {
        out[i] = lerp(b![i]!, a![i]!, k[column]!)
        if (++column === columns) column = 0
      }
    })
  },
})

interface ColumnSums {
  readonly ab: Float64Array
  readonly aa: Float64Array
  readonly bb: Float64Array
}

/** Σ a·b, Σ a², Σ b² per column: of the raw tensors (b), or of the tensors with unit-length columns (a). */
function columnSums<P>(ctx: StatisticsContext<P>, variant: Variant): ColumnSums {
  const [ab, aa, bb] = columnSumsWithTf(ctx, (tf, [a, b]) => [tf.mul(a!, b!), tf.mul(a!, a!), tf.mul(b!, b!)]) as [Float64Array, Float64Array, Float64Array]
  if (variant === 'b') return { ab, aa, bb }
  for (let j = 0; j < ab.length; j++) {
    const na = Math.max(Math.sqrt(aa[j]!), NORMALIZE_EPS)
    const nb = Math.max(Math.sqrt(bb[j]!), NORMALIZE_EPS)
    ab[j] = ab[j]! / (na * nb)
    aa[j] = aa[j]! / (na * na)
    bb[j] = bb[j]! / (nb * nb)
  }
  return { ab, aa, bb }
}

/** cos_dim0 per column. */
function columnCosines({ ab, aa, bb }: ColumnSums): Float64Array {
  return ab.map((xy, j) => cosineFromSums(xy, aa[j]!, bb[j]!))
}

/** (cos_dim0 + whole-tensor cosine) / 2 per column; the whole-tensor cosine gets the §1.4 floor, which upstream lacks. */
function combinedSimilarities(sums: ColumnSums): Float64Array {
  let xy = 0
  let xx = 0
  let yy = 0
  for (let j = 0; j < sums.ab.length; j++) {
    xy += sums.ab[j]!
    xx += sums.aa[j]!
    yy += sums.bb[j]!
  }
  const whole = cosineFromSums(xy, xx, yy)
  return columnCosines(sums).map((c) => (c + whole) / 2)
}

/** The smallest and largest similarity of the whole model once values outside the 1st–99th percentile are dropped. */
function similarityRange(contributions: readonly Float64Array[]): ModelStatistic {
  const all = new Float64Array(contributions.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const c of contributions) {
    all.set(c, at)
    at += c.length
  }
  all.sort()
  // no similarity at all (no key, or only NaN): a degenerate range, which the kernel treats as "all equal"
  if (all.length === 0) return { min: 1, max: 1 }
  const low = percentileMidpoint(all, LOW_PERCENTILE)
  const high = percentileMidpoint(all, HIGH_PERCENTILE)
  const kept = all.filter((v) => v >= low && v <= high)
  return { min: kept[0] ?? low, max: kept.at(-1) ?? high }
}

/** numpy.percentile(values, q, interpolation="midpoint") of sorted values. */
function percentileMidpoint(sorted: Float64Array, q: number): number {
  const position = ((sorted.length - 1) * q) / 100
  return (sorted[Math.floor(position)]! + sorted[Math.ceil(position)]!) / 2
}
