import { blendRandomMask, closeness, closenessColumnMeans, isTextEmbeddingKey, maxAbsDifference, poweredWeight, strengthExponent } from './interp-weights'
import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

export const enhancedInterp = defineMethod({
  id: 'enhanced_interp',
  aliases: [
    { name: 'enhanced_manual_interp', params: { variant: 'manual' } },
    { name: 'enhanced_auto_interp', params: { variant: 'auto' } },
  ],
  label: 'Enhanced interpolation',
  description:
    "Comparative interpolation restricted to a band of closeness (untitledmerger forks' \"Enhanced Man Interp\" / \"Enhanced Auto Interp\"): per weight, c = (D - |A - B|) / D (1 where A = B, 0 at the key's largest difference D); only weights inside the band are mixed, taking B with probability c^(1/alpha - 1) (a seeded random mask, blended with that probability by smoothness). manual: the band is on the per-column mean of c (over the first dimension), between lower and upper. auto: the band is on c itself, within threshold of its mean over the key. Text-encoder embeddings keep A.",
  reference: 'https://github.com/silveroxides/sd-webui-untitledmerger/blob/main/scripts/untitled/operators.py',
  inputs: { min: 2, max: 2, base: 'none', roles: ['model a', 'model b'] },
  params: {
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'How the band of mixed weights is chosen.',
      options: [
        { value: 'manual', label: 'manual (Enhanced Man Interp)', description: 'Columns whose mean closeness lies strictly between lower and upper are mixed.' },
        { value: 'auto', label: 'auto (Enhanced Auto Interp)', description: 'Weights whose closeness lies strictly within mean x (1 ± threshold) are mixed.' },
      ],
      default: 'manual',
    },
    alpha: {
      type: 'number',
      label: 'alpha (interpolation strength)',
      description: 'Exponent control 1/alpha - 1 on the closeness: 1 = every weight in the band becomes B, lower = only the closest.',
      default: 0.5,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.001 },
      perBlock: true,
      perModel: false,
    },
    lower: {
      type: 'number',
      label: 'beta (lower mean threshold, manual)',
      description: 'manual: columns with mean closeness above this are mixed.',
      default: 0.3,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.001 },
      perBlock: true,
      perModel: false,
    },
    upper: {
      type: 'number',
      label: 'gamma (upper mean threshold, manual)',
      description: 'manual: columns with mean closeness below this are mixed.',
      default: 0.7,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.001 },
      perBlock: true,
      perModel: false,
    },
    threshold: {
      type: 'number',
      label: 'beta (threshold factor, auto)',
      description: 'auto: weights whose closeness is within this fraction of the mean closeness are mixed.',
      default: 0.5,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.001 },
      perBlock: true,
      perModel: false,
    },
    smoothness: {
      type: 'number',
      label: 'smoothness (delta manual, gamma auto)',
      description: 'Blend of the random 0/1 mask (0) with its probability (1); 1 makes the method deterministic.',
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
    const { variant, alpha, lower, upper, threshold, smoothness } = ctx.params
    if (isTextEmbeddingKey(ctx.key)) return passThrough(ctx, ctx.inputs[0]!)
    const max = maxAbsDifference(ctx)
    // A = B: every mix is A
    if (max === 0) return passThrough(ctx, ctx.inputs[0]!)
    const means = closenessColumnMeans(ctx, max)
    const exponent = strengthExponent(alpha)
    const { rowLength } = ctx
    // manual: a band per column; auto: a band on the closeness around its mean over the key
    const columnInBand = Uint8Array.from(means, (m) => +(lower < m && m < upper))
    const mean = means.reduce((s, m) => s + m, 0) / rowLength
    const [from, to] = [mean * (1 - threshold), mean * (1 + threshold)]
    // stream 1 = model b, consumed in element order
    const rng = ctx.rng(1)
    mapElementwise(ctx, (mask, [a, b], _base, start) => {
      for (let i = 0; i < mask.length; i++) {
        const c = closeness(a![i]!, b![i]!, max)
        const inBand = variant === 'manual' ? columnInBand[(start + i) % rowLength] === 1 : from < c && c < to
        mask[i] = inBand ? poweredWeight(c, exponent) : 0
      }
      blendRandomMask(mask, rng, smoothness)
      for (let i = 0; i < mask.length; i++) mask[i] = a![i]! * (1 - mask[i]!) + b![i]! * mask[i]!
    })
  },
})
