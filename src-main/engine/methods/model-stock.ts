import { AmalgamError } from '../errors'
import { cosineFromSums, lastAxisLength, mapSegmentsWithTf, tfRowSum, type PieceKernel } from './kernel-helpers'
import { requireBase } from './task-vectors'
import { defineMethod } from './types'

/** torch's nan_to_num replaces ±inf with the largest finite float32 */
const FLOAT32_MAX = 3.4028234663852886e38

export const modelStock = defineMethod({
  id: 'model_stock',
  aliases: [
    { name: 'model_stock_mergekit', params: { variant: 'mergekit' } },
    { name: 'model_stock_mecha', params: { variant: 'mecha' } },
    { name: 'n_model_stock', params: { variant: 'mecha' } },
  ],
  label: 'Model Stock',
  description:
    'Averages two or more fine-tunes of one base and pulls the average back towards the base by how much the fine-tunes agree: with c the mean cosine between their changes from the base, t = N·c / (1 + (N − 1)·c) and the result is base + t·(mean − base). Fine-tunes that changed in the same direction keep the average; unrelated changes (c near 0) fall back to the base. Variant mergekit (default; model_stock of LLM merges) averages the cosines of all pairs over the whole tensor (or per last-axis slice with filter_wise). Variant mecha (sd-mecha n_model_stock) averages only consecutive pairs, always per last-axis slice, and turns NaN into 0 and infinities into the largest float.',
  reference: 'https://arxiv.org/abs/2403.19522',
  inputs: {
    min: 2,
    max: null,
    base: 'required',
    roles: ['fine-tune a (keys not merged come from it)', 'more fine-tunes of the same base (b, c, …)'],
    baseRole: 'the common base θ₀ (mergekit base_model); the result is built on it',
  },
  params: {
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'Whose Model Stock: they differ in which cosines are averaged and over which slices.',
      options: [
        {
          value: 'mergekit',
          label: 'mergekit',
          description: 'Cosines of all pairs, clipped to [−1, 1], over the whole tensor (per last-axis slice with filter_wise); result t·mean + (1 − t)·base, unguarded.',
        },
        {
          value: 'mecha',
          label: 'sd-mecha',
          description: 'Cosines of consecutive pairs only, per last-axis slice; NaN in t·mean(δ) becomes 0, infinities the largest float.',
        },
      ],
      default: 'mergekit',
    },
    filter_wise: {
      type: 'boolean',
      label: 'filter-wise',
      description: 'mergekit variant: one t per last-axis slice (each row of a linear weight) instead of one for the tensor. The mecha variant always works per slice.',
      default: false,
    },
    cos_eps: {
      type: 'number',
      label: 'cosine epsilon',
      description: 'Floor on the product of the two norms in each cosine (mergekit and sd-mecha both use 1e-6).',
      default: 1e-6,
      min: 0,
      ui: { min: 0, max: 1e-3, step: 1e-6 },
      perBlock: false,
      perModel: false,
    },
  },
  cost: ['R'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 8,
  kernel(ctx) {
    const { variant, filter_wise, cos_eps } = ctx.params
    requireBase(ctx)
    const models = ctx.inputs.length
    if (models < 2) throw new AmalgamError('BAD_RECIPE', `${ctx.key}: model_stock needs at least two fine-tunes besides the base, got ${models}`)
    const mecha = variant === 'mecha'
    const pairs: [number, number][] = []
    for (let i = 0; i < models; i++) for (let j = i + 1; j < models; j++) if (!mecha || j === i + 1) pairs.push([i, j])
    let warned = false
    mapSegmentsWithTf(
      ctx,
      mecha || filter_wise ? lastAxisLength(ctx.shape) : ctx.numel,
      (tf, xs, base) => {
        const deltas = xs.map((x) => tf.sub(x, base!))
        return [...deltas.map((d) => tfRowSum(tf, tf.mul(d, d))), ...pairs.map(([i, j]) => tfRowSum(tf, tf.mul(deltas[i]!, deltas[j]!)))]
      },
      (sums): PieceKernel => {
        const norms = sums.slice(0, models)
        const dots = sums.slice(models)
        const t = new Float64Array(norms[0]!.length)
        for (let s = 0; s < t.length; s++) {
          let total = 0
          for (let p = 0; p < pairs.length; p++) {
            const [i, j] = pairs[p]!
            const cos = cosineFromSums(dots[p]![s]!, norms[i]![s]!, norms[j]![s]!, cos_eps)
            total += mecha ? cos : Math.min(Math.max(cos, -1), 1)
          }
          const c = total / pairs.length
          t[s] = (models * c) / (1 + (models - 1) * c)
        }
        if (!mecha && !warned && t.some((x) => !Number.isFinite(x))) {
          warned = true
          // mergekit has no guard at the pole c = −1/(N − 1); keep its arithmetic, but say so
          ctx.warn(`model_stock (mergekit): the fine-tunes' changes point apart (mean cosine −1/(N − 1) or NaN), so t is infinite or NaN and the result is not finite`)
        }
        return mecha ? mechaKernel(t, models) : mergekitKernel(t, models)
      },
    )
  },
})

/** sd-mecha: base + nan_to_num(t · mean δ) */
function mechaKernel(t: Float64Array, models: number): PieceKernel {
  return (out, xs, base, piece) => {
    for (let row = 0, i = 0; row < piece.rows; row++) {
      const tr = t[row]!
      for (let e = 0; e < piece.width; e++, i++) {
        const b = base![i]!
        let sum = 0
        for (let m = 0; m < models; m++) sum += xs[m]![i]! - b
        // nan_to_num acts on the float32 product: NaN → 0, overflow → ±max
        const r = Math.fround((tr * sum) / models)
        out[i] = b + (Number.isNaN(r) ? 0 : Number.isFinite(r) ? r : Math.sign(r) * FLOAT32_MAX)
      }
    }
  }
}

/** mergekit: t · mean(X) + (1 − t) · base */
function mergekitKernel(t: Float64Array, models: number): PieceKernel {
  return (out, xs, base, piece) => {
    for (let row = 0, i = 0; row < piece.rows; row++) {
      const tr = t[row]!
      for (let e = 0; e < piece.width; e++, i++) {
        let sum = 0
        for (let m = 0; m < models; m++) sum += xs[m]![i]!
        out[i] = (tr * sum) / models + (1 - tr) * base![i]!
      }
    }
  }
}
