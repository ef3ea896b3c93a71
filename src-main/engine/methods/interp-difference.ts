import { blendRandomMask, closeness, isTextEmbeddingKey, maxAbsDifference, poweredWeight, strengthExponent } from './interp-weights'
import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

export const interpDifference = defineMethod({
  id: 'interp_difference',
  aliases: [{ name: 'comparative_interp', params: {} }],
  label: 'Comparative interpolation',
  description:
    "Takes B's value where A and B are similar (or, in difference mode, where they differ most) and keeps A elsewhere (untitledmerger \"Comparative Interp\"): per weight, w = ((D - |A - B|) / D)^(1/alpha - 1), D the key's largest difference, and each weight becomes B with probability w (a seeded random mask), or w x B + (1 - w) x A when smoothness is 1. Lower alpha concentrates the swap on the most similar weights. Text-encoder embeddings keep A, as in untitledmerger.",
  reference: 'https://github.com/groinge/sd-webui-untitledmerger/blob/master/scripts/untitled/operators.py',
  inputs: { min: 2, max: 2, base: 'none', roles: ['model a', 'model b'] },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha (concave - convex)',
      description: 'Exponent control 1/alpha - 1: 1 = every weight mixed with w = 1 (B), 0.5 = w linear in the closeness, near 0 = only (almost) identical weights swapped.',
      default: 0.5,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    compare: {
      type: 'enum',
      label: 'beta (similarity - difference)',
      description: "Whether B's values are taken where the models are similar or where they differ (untitledmerger's beta 0 or 1).",
      options: [
        { value: 'similarity', label: 'similarity', description: 'w from (D - |A - B|) / D: B where A and B already agree (beta 0).' },
        { value: 'difference', label: 'difference', description: 'w from |A - B| / D: B where A and B differ most (beta 1).' },
      ],
      default: 'similarity',
    },
    smoothness: {
      type: 'number',
      label: 'gamma (binomial - linear)',
      description: 'Blend of the random 0/1 mask (0) with its probability w (1); 1 makes the method deterministic.',
      default: 0.5,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['R'],
  randomness: 'seeded',
  chunked: true,
  memoryFactor: 4,
  kernel(ctx) {
    const { alpha, compare, smoothness } = ctx.params
    if (isTextEmbeddingKey(ctx.key)) return passThrough(ctx, ctx.inputs[0]!)
    const max = maxAbsDifference(ctx)
    // A = B: nothing to mix (untitledmerger's forks return A; the original's NaN paths give A too)
    if (max === 0) return passThrough(ctx, ctx.inputs[0]!)
    const exponent = strengthExponent(alpha)
    // stream 1 = model b, consumed in element order
    const rng = ctx.rng(1)
    mapElementwise(ctx, (mask, [a, b]) => {
      for (let i = 0; i < mask.length; i++) {
        const x = a![i]!
        const y = b![i]!
        const w = compare === 'similarity' ? closeness(x, y, max) : Math.abs(x - y) / max
        mask[i] = poweredWeight(w, exponent)
      }
      blendRandomMask(mask, rng, smoothness)
      for (let i = 0; i < mask.length; i++) mask[i] = a![i]! * (1 - mask[i]!) + b![i]! * mask[i]!
    })
  },
})
