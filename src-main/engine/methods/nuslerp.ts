import { columnSumsWithTf, lastAxisLength, mapElementwise, mapSegmentsWithTf, tfRowSum, type PieceKernel } from './kernel-helpers'
import { defineMethod } from './types'

/** mergekit floors each vector's norm at this before normalising */
const NORM_FLOOR = 1e-7
/** below this |sin θ| the two vectors count as colinear and are mixed linearly */
const COLINEAR_SIN = 1e-8

export const nuslerp = defineMethod({
  id: 'nuslerp',
  aliases: [],
  label: 'NuSLERP (mergekit)',
  description:
    "mergekit's spherical interpolation of two models with per-model weights: t = weight_b / (weight_a + weight_b) (0.5 when the weights sum to about 0). With a base model it interpolates the task vectors (model − base) and adds the base back. By default each tensor is one vector; with flatten off each last-axis slice (row of a linear weight) is interpolated on its own, or each slice along the first axis (column) with row_wise. The arc coefficients multiply the raw vectors (norms are not interpolated); vectors that are (nearly) parallel are mixed linearly.",
  reference: 'https://github.com/arcee-ai/mergekit/blob/main/docs/merge_methods.md',
  inputs: {
    min: 2,
    max: 2,
    base: 'optional',
    roles: ['model a (keys not merged come from it)', 'model b'],
    baseRole: 'optional common base: when given, the task vectors (model − base) are interpolated and the base added back',
  },
  params: {
    weight: {
      type: 'number',
      label: 'weight',
      description: "Relative weight of each model; t = weight_b / (weight_a + weight_b). mergekit requires it; equal weights (t = 0.5) here by default.",
      default: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: true,
    },
    flatten: {
      type: 'boolean',
      label: 'flatten',
      description: 'Treat the whole tensor as one vector (mergekit nuslerp_flatten, default on). Off: interpolate slices separately.',
      default: true,
    },
    row_wise: {
      type: 'boolean',
      label: 'row-wise',
      description: 'With flatten off: the vectors are the slices along the first axis (X[:, j], mergekit nuslerp_row_wise) instead of the last-axis slices (X[i, :]).',
      default: false,
    },
  },
  cost: ['R'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 7,
  kernel(ctx) {
    const { weight, flatten, row_wise } = ctx.params
    const w0 = weight[0]!
    const w1 = weight[1]!
    const t = Math.abs(w0 + w1) < 1e-6 ? 0.5 : w1 / (w0 + w1)
    const hasBase = ctx.base !== null
    if (!flatten && row_wise) {
      // vectors along the first axis: one per column of the (shape[0], rest) view
      const [aa, bb, ab] = columnSumsWithTf(ctx, (tf, [a, b], base) => {
        const [d0, d1] = base ? [tf.sub(a!, base), tf.sub(b!, base)] : [a!, b!]
        return [tf.mul(d0, d0), tf.mul(d1, d1), tf.mul(d0, d1)]
      })
      const coefficients = arcCoefficients(aa!, bb!, ab!, t)
      const width = ctx.rowLength
      mapElementwise(ctx, (out, [a, b], base, start) => {
        for (let e = 0; e < out.length; e++) {
          const column = (start + e) % width
          out[e] = combine(a![e]!, b![e]!, base ? base[e]! : 0, coefficients[2 * column]!, coefficients[2 * column + 1]!, hasBase)
        }
      })
      return
    }
    mapSegmentsWithTf(
      ctx,
      flatten ? ctx.numel : lastAxisLength(ctx.shape),
      (tf, [a, b], base) => {
        const [d0, d1] = base ? [tf.sub(a!, base), tf.sub(b!, base)] : [a!, b!]
        return [tfRowSum(tf, tf.mul(d0, d0)), tfRowSum(tf, tf.mul(d1, d1)), tfRowSum(tf, tf.mul(d0, d1))]
      },
      ([aa, bb, ab]): PieceKernel => {
        const coefficients = arcCoefficients(aa!, bb!, ab!, t)
        return (out, [a, b], base, piece) => {
          for (let row = 0, i = 0; row < piece.rows; row++) {
            const k0 = coefficients[2 * row]!
            const k1 = coefficients[2 * row + 1]!
            for (let e = 0; e < piece.width; e++, i++) out[i] = combine(a![i]!, b![i]!, base ? base[i]! : 0, k0, k1, hasBase)
          }
        }
      },
    )
  },
})

/**
 * Per vector, from its sums Σv₀², Σv₁², Σv₀v₁: the pair (sin((1−t)θ)/sin θ, sin(tθ)/sin θ), with
 * θ the angle between the vectors normalised by max(‖v‖, 1e-7), or (1 − t, t) when |sin θ| < 1e-8.
 */
function arcCoefficients(aa: Float64Array, bb: Float64Array, ab: Float64Array, t: number): Float64Array {
  const out = new Float64Array(2 * aa.length)
  for (let s = 0; s < aa.length; s++) {
    const c = ab[s]! / (Math.max(Math.sqrt(aa[s]!), NORM_FLOOR) * Math.max(Math.sqrt(bb[s]!), NORM_FLOOR))
    const theta = Math.acos(Math.min(Math.max(c, -1), 1))
    const sinTheta = Math.sin(theta)
    if (Math.abs(sinTheta) < COLINEAR_SIN) {
      out[2 * s] = 1 - t
      out[2 * s + 1] = t
    } else {
      out[2 * s] = Math.sin((1 - t) * theta) / sinTheta
      out[2 * s + 1] = Math.sin(t * theta) / sinTheta
    }
  }
  return out
}

/** base + k₀·(a − base) + k₁·(b − base) with a base, k₀·a + k₁·b without */
function combine(a: number, b: number, base: number, k0: number, k1: number, hasBase: boolean): number {
  return hasBase ? base + k0 * Math.fround(a - base) + k1 * Math.fround(b - base) : k0 * a + k1 * b
}
