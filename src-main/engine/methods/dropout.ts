import { AmalgamError } from '../errors'
import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

export const dropout = defineMethod({
  id: 'dropout',
  aliases: [{ name: 'n_supermario', params: {} }],
  label: 'Dropout (multi-model DARE)',
  description:
    'DARE for several models at once (sd-mecha dropout, "n-supermario"): each model\'s difference from A keeps a random (1 - probability) share of its weights, the kept differences are averaged per weight over the models that kept it, rescaled by 1 / (1 - probability)^rescale, and added to A with strength alpha. Masks are independent per model and seeded per key. With several models the expected result is larger than the mean difference by (1 - probability^N) / (1 - probability)^rescale.',
  reference: 'https://arxiv.org/abs/2311.03099',
  inputs: {
    min: 2,
    max: null,
    base: 'none',
    roles: ['model a: the base the differences are taken from and added back to', 'the models whose differences from a are dropped out and merged (b, c, …)'],
  },
  params: {
    probability: {
      type: 'number',
      label: 'drop probability',
      description: 'Chance that a weight of a difference is dropped: 0.9 keeps 10 %.',
      default: 0.9,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Strength of the merged difference added to A.',
      default: 0.5,
      ui: { min: 0, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    rescale: {
      type: 'number',
      label: 'rescale exponent',
      description: 'Kept differences are divided by (1 - probability)^rescale: 1 = DARE\'s unbiased rescale for one model, 0 = none.',
      default: 1,
      ui: { min: 0, max: 2, step: 0.1 },
      perBlock: false,
      perModel: false,
    },
    overlap: {
      type: 'number',
      label: 'overlap',
      description: 'sd-mecha\'s mask overlap mode. Only odd integers are supported, all meaning independent masks per model: the other modes fail in sd-mecha itself.',
      default: 1,
      ui: { min: 1, max: 5, step: 2 },
      perBlock: false,
      perModel: false,
    },
  },
  cost: ['E'],
  randomness: 'seeded',
  chunked: true,
  memoryFactor: 8,
  kernel(ctx) {
    const { probability, alpha, rescale, overlap } = ctx.params
    if (!(Number.isInteger(overlap) && Math.abs(overlap % 2) === 1)) {
      throw new AmalgamError(
        'BAD_RECIPE',
        `${ctx.key}: dropout: overlap = ${overlap} is not supported; only odd integers (independent masks, e.g. 1) work, as in sd-mecha, whose other overlap modes call torch.lerp on numpy arrays and fail`,
      )
    }
    // p = 1 drops everything: the result is A (sd-mecha skips the rescale there)
    if (alpha === 0 || probability === 1) return passThrough(ctx, ctx.inputs[0]!)
    const divisor = (1 - probability) ** rescale
    // sd-mecha ignores a divisor that is not finite (a negative exponent near p = 1)
    const scale = alpha / (Number.isFinite(divisor) ? divisor : 1)
    const keep = 1 - probability
    // one stream per model input (b = 1, c = 2, ...), consumed in element order, so chunking does not change the masks
    const rngs = ctx.inputs.slice(1).map((_, m) => ctx.rng(m + 1))
    let masks: Float32Array[] = []
    mapElementwise(ctx, (out, [a, ...models]) => {
      const n = out.length
      if ((masks[0]?.length ?? 0) < n) masks = models.map(() => new Float32Array(n))
      const drawn = rngs.map((rng, m) => rng.bernoulli(masks[m]!.subarray(0, n), keep))
      for (let i = 0; i < n; i++) {
        const x = a![i]!
        let sum = 0
        let kept = 0
        for (let m = 0; m < models.length; m++) {
          if (drawn[m]![i] === 0) continue
          sum += models[m]![i]! - x
          kept++
        }
        out[i] = kept === 0 ? x : x + (scale * sum) / kept
      }
    })
  },
})
