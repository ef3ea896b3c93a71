import { mapElementwise, passThrough, reduceWithTf, tfSum } from './kernel-helpers'
import { requireBase } from './task-vectors'
import { defineMethod } from './types'

export const euclideanAddDifference = defineMethod({
  id: 'euclidean_add_difference',
  aliases: [],
  label: 'Euclidean add difference',
  description:
    "Mixes the differences of A and B from their common ancestor C by magnitude rather than by value (meh euclidean_add_difference): both differences are scaled to unit norm, combined per weight as sqrt((1 - alpha) a^2 + alpha b^2) with the sign of the weighted sum (1 - alpha) A + alpha B - C, and rescaled to that weighted sum's norm before being added to C. Opposite moves do not cancel out as they do in a weighted sum. alpha 0 gives A, 1 gives B.",
  reference: 'https://github.com/s1dlx/meh/blob/main/sd_meh/merge_methods.py',
  inputs: {
    min: 2,
    max: 2,
    base: 'required',
    roles: ['model a', 'model b'],
    baseRole: 'c, the common ancestor of a and b (the result is built on it)',
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Share of B: 0 = A, 1 = B. Limited to [0, 1], outside which the square root has no real value.',
      default: 0.5,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['R'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 6,
  kernel(ctx) {
    const { alpha } = ctx.params
    const base = requireBase(ctx)
    const [sumA, sumB, sumTarget] = reduceWithTf(ctx, [...ctx.inputs, base], (tf, [a, b, c]) => {
      const target = tf.sub(tf.add(tf.mul(a!, 1 - alpha), tf.mul(b!, alpha)), c!)
      return [tfSum(tf, tf.square(tf.sub(a!, c!))), tfSum(tf, tf.square(tf.sub(b!, c!))), tfSum(tf, tf.square(target))]
    }).map((s) => s[0]!) as [number, number, number]
    const normA = Math.sqrt(sumA)
    const normB = Math.sqrt(sumB)
    // a and b have unit norm (or are all zeros, nan_to_num of 0/0), so ‖d‖² = (1 − α)‖a‖² + α‖b‖²
    const normD = Math.sqrt((1 - alpha) * (normA > 0 ? 1 : 0) + alpha * (normB > 0 ? 1 : 0))
    // nothing to add (e.g. A = B = C): meh divides 0 by 0 and writes NaN; the limit is C
    if (normD === 0) return passThrough(ctx, base)
    const scale = Math.sqrt(sumTarget) / normD
    mapElementwise(ctx, (out, [a, b], c) => {
      for (let i = 0; i < out.length; i++) {
        const x = a![i]!
        const y = b![i]!
        const z = c![i]!
        const da = normA > 0 ? (x - z) / normA : 0
        const db = normB > 0 ? (y - z) / normB : 0
        const magnitude = Math.sqrt((1 - alpha) * da * da + alpha * db * db)
        const target = (1 - alpha) * x + alpha * y - z
        // copysign: the sign bit of the target decides, -0 included
        const negative = target < 0 || Object.is(target, -0)
        out[i] = z + (negative ? -magnitude : magnitude) * scale
      }
    })
  },
})
