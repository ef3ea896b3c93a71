import { lerp } from '../compute/lerp'
import { columnSumsWithTf, cosineFromSums, mapElementwise } from './kernel-helpers'
import { defineMethod } from './types'

/** torch.nn.functional.normalize's floor on a column norm */
export const NORMALIZE_EPS = 1e-12

export const addCosine = defineMethod({
  id: 'add_cosine',
  aliases: [
    { name: 'add_cosine_a', params: { variant: 'a' } },
    { name: 'add_cosine_b', params: { variant: 'b' } },
  ],
  label: 'Add cosine (similarity-weighted sum)',
  description:
    "Mixes A and B per slice along the first axis (one weight per column: per input channel and kernel position for a conv weight, one for a 1-D tensor) by how similar the two models are there: k = 1 − clip(similarity − alpha, 0, 1), result = A + k·(B − A). Slices where A and B agree stay close to A, dissimilar ones move to B. alpha is an offset: at sd-mecha's default 1 every slice becomes B; lower it to keep A where the models agree. Variant a compares the column-normalised tensors (sd-mecha add_cosine_a); variant b averages the per-column cosine with the whole-tensor cosine (add_cosine_b).",
  inputs: { min: 2, max: 2, base: 'none', roles: ['model a (kept where the models are similar)', 'model b (taken where they differ)'] },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Similarity offset: the weight of B is 1 − clip(similarity − alpha, 0, 1); 1 gives B everywhere, 0 keeps A where the slices agree.',
      default: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'Which similarity decides the weights (sd-mecha add_cosine_a / add_cosine_b).',
      options: [
        { value: 'a', label: 'cosine A', description: 'Cosine per column of the tensors normalised per column (sd-mecha add_cosine_a).' },
        { value: 'b', label: 'cosine B', description: 'Mean of the per-column cosine and the whole-tensor cosine of the raw tensors (sd-mecha add_cosine_b).' },
      ],
      default: 'a',
    },
  },
  cost: ['R'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 6,
  kernel(ctx) {
    const { alpha, variant } = ctx.params
    if (ctx.numel === 0) return
    const [ab, aa, bb] = columnSumsWithTf(ctx, (tf, [a, b]) => [tf.mul(a!, b!), tf.mul(a!, a!), tf.mul(b!, b!)]) as [Float64Array, Float64Array, Float64Array]
    const columns = ctx.rowLength
    let whole = 0
    if (variant === 'b') {
      let xy = 0
      let xx = 0
      let yy = 0
      for (let j = 0; j < columns; j++) {
        xy += ab[j]!
        xx += aa[j]!
        yy += bb[j]!
      }
      // upstream divides by ‖A‖‖B‖ unguarded, so a zero tensor turns the whole key into NaN; the §1.4 floor gives 0
      whole = cosineFromSums(xy, xx, yy)
    }
    const k = new Float64Array(columns)
    for (let j = 0; j < columns; j++) {
      const similarity = variant === 'a' ? normalizedCosine(ab[j]!, aa[j]!, bb[j]!) : (cosineFromSums(ab[j]!, aa[j]!, bb[j]!) + whole) / 2
      k[j] = 1 - Math.min(Math.max(similarity - alpha, 0), 1)
    }
    mapElementwise(ctx, (out, [a, b], _base, start) => {
      let column = start % columns
      for (let i = 0; i < out.length; i++) {
        out[i] = lerp(a![i]!, b![i]!, k[column]!)
        if (++column === columns) column = 0
      }
    })
  },
})

/** cos_dim0(normalize_dim0(A), normalize_dim0(B)) of one column, from that column's sums */
function normalizedCosine(ab: number, aa: number, bb: number): number {
  const na = Math.max(Math.sqrt(aa), NORMALIZE_EPS)
  const nb = Math.max(Math.sqrt(bb), NORMALIZE_EPS)
  return cosineFromSums(ab / (na * nb), aa / (na * na), bb / (nb * nb))
}
