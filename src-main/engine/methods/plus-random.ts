import { mapElementwise, passThrough } from './kernel-helpers'
import { SELF_UNSCALED } from './scale'
import { defineMethod } from './types'

export const plusRandom = defineMethod({
  id: 'plus_random',
  aliases: [],
  label: 'Plus random (noise)',
  description:
    'Adds Gaussian noise to one model: A + alpha x N(0, 1), drawn independently per weight and seeded per key (supermerger "plus random"). As in supermerger, keys containing to_out, proj_out or norm are left alone. Use small values to perturb a model (e.g. to break ties between identical merges or to test robustness).',
  reference: 'https://github.com/hako-mikan/sd-webui-supermerger/blob/main/calcmode_en.md',
  inputs: { min: 1, max: 1, base: 'none', roles: ['model a'] },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha (noise scale)',
      description: 'Standard deviation of the added noise: 0 = A unchanged.',
      default: 0.01,
      ui: { min: 0, max: 0.1, step: 0.001 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['E'],
  randomness: 'seeded',
  chunked: true,
  memoryFactor: 2,
  kernel(ctx) {
    const { alpha } = ctx.params
    if (alpha === 0 || SELF_UNSCALED.some((part) => ctx.key.includes(part))) return passThrough(ctx, ctx.inputs[0]!)
    // one stream, consumed in element order: the noise does not depend on the chunk size
    const rng = ctx.rng(0)
    mapElementwise(ctx, (out, [a]) => {
      for (let i = 0; i < out.length; i++) out[i] = a![i]! + alpha * rng.normal()
    })
  },
})
