import { lerp } from '../compute/lerp'
import { cosineFromSums, lastAxisLength, mapSegmentsWithTf, passThrough, tfRowSum } from './kernel-helpers'
import { defineMethod } from './types'

/** untitled merger's similarity-bias slider (0..2) is multiplied by this to give the exponent */
const UNTITLED_GAMMA_SCALE = 15

export const extract = defineMethod({
  id: 'extract',
  aliases: [
    { name: 'extract_untitled', params: { variant: 'untitled' } },
    { name: 'add_dissimilarities', params: { variant: 'untitled_dissimilarities', beta: 1 } },
  ],
  label: 'Extract (dis)similar features',
  description:
    "Adds to A the features that B's and C's changes share, or those where they differ. With p = B − A and q = C − A, each last-axis slice (a row of a linear weight, a kernel row of a conv weight, the whole tensor for 1-D) gets c = cos(p, q) and d = ((c + 1)/2)^gamma; the result is A + delta·lerp(p, q, alpha)·lerp(d, 1 − d, beta). beta 0 keeps the slices where the changes agree, 1 those where they disagree; gamma sharpens the choice. Variant supermerger (default) is SuperMerger's extract calcmode; untitled is the untitled merger's Extract (gamma is its 0..2 slider, multiplied by 15); untitled_dissimilarities is its Add Dissimilarities (p = B, q = C, no difference from A; with add_dissimilarities beta is 1 and delta is the addition multiplier).",
  inputs: {
    min: 3,
    max: 3,
    base: 'none',
    roles: ['model a (the result is built on it; the changes are taken from it)', 'model b (alpha 0 side)', 'model c (alpha 1 side)'],
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: "Whose features are added: 0 = B's change, 1 = C's change.",
      default: 0.5,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    beta: {
      type: 'number',
      label: 'beta',
      description: 'Similarity to dissimilarity: 0 adds the slices where the changes agree, 1 those where they differ.',
      default: 0,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    gamma: {
      type: 'number',
      label: 'gamma',
      description: 'Similarity bias: the exponent on (cos + 1)/2 (SuperMerger opt_value); larger values single out the most (dis)similar slices. The untitled variants multiply it by 15.',
      default: 1,
      min: 0,
      ui: { min: 0, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    delta: {
      type: 'number',
      label: 'delta',
      description: 'Multiplier of the added features (the untitled addition multiplier); 0 = A.',
      default: 1,
      ui: { min: -1, max: 4, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'Which upstream calcmode this reproduces.',
      options: [
        { value: 'supermerger', label: 'SuperMerger extract', description: 'Changes taken from A; gamma is the exponent itself.' },
        { value: 'untitled', label: 'untitled Extract', description: 'Changes taken from A; exponent = 15·gamma (the 0..2 slider).' },
        {
          value: 'untitled_dissimilarities',
          label: 'untitled Add Dissimilarities',
          description: 'B and C compared as they are (no difference from A); exponent = 15·gamma. Upstream fixes beta = 1 (alias add_dissimilarities).',
        },
      ],
      default: 'supermerger',
    },
  },
  cost: ['R'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 8,
  kernel(ctx) {
    const { alpha, beta, gamma, delta, variant } = ctx.params
    if (delta === 0) return passThrough(ctx, ctx.inputs[0]!)
    const relative = variant !== 'untitled_dissimilarities'
    const exponent = variant === 'supermerger' ? gamma : UNTITLED_GAMMA_SCALE * gamma
    mapSegmentsWithTf(
      ctx,
      lastAxisLength(ctx.shape),
      (tf, [a, b, c]) => {
        const p = relative ? tf.sub(b!, a!) : b!
        const q = relative ? tf.sub(c!, a!) : c!
        return [tfRowSum(tf, tf.mul(p, q)), tfRowSum(tf, tf.mul(p, p)), tfRowSum(tf, tf.mul(q, q))]
      },
      ([pq, pp, qq]) => {
        // one weight per slice: lerp(d, 1 − d, β) with d = ((clip(cos) + 1)/2)^γ
        const weight = new Float64Array(pq!.length)
        for (let j = 0; j < weight.length; j++) {
          const c = Math.min(Math.max(cosineFromSums(pq![j]!, pp![j]!, qq![j]!), -1), 1)
          const d = ((c + 1) / 2) ** exponent
          weight[j] = delta * lerp(d, 1 - d, beta)
        }
        return (out, [a, b, c], _base, piece) => {
          for (let row = 0, i = 0; row < piece.rows; row++) {
            const w = weight[row]!
            for (let e = 0; e < piece.width; e++, i++) {
              const x = a![i]!
              // without the difference from A, p and q are B and C themselves
              const origin = relative ? x : 0
              out[i] = x + w * lerp(b![i]! - origin, c![i]! - origin, alpha)
            }
          }
        }
      },
    )
  },
})
