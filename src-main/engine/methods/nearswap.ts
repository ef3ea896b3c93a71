import { mapElementwise } from './kernel-helpers'
import { defineMethod } from './types'

/** mergekit's floor on |base − other|, so identical weights give w = 1 instead of t / 0 */
const MIN_DISTANCE = 1e-6

export const nearswap = defineMethod({
  id: 'nearswap',
  aliases: [],
  label: 'NearSwap',
  description:
    'Takes B\'s value where it is already close to A and keeps A where the two differ a lot (mergekit nearswap): w = clip(t / |A - B|, 0, 1), result (1 - w) A + w B. Weights closer than t are swapped for B\'s entirely; farther ones move toward B in proportion t / distance. Use it to blend in a near relative of the base without disturbing the weights where they disagree.',
  reference: 'https://github.com/arcee-ai/mergekit/blob/main/mergekit/merge_methods/nearswap.py',
  inputs: { min: 2, max: 2, base: 'none', roles: ["model a (mergekit's base_model, kept where B is far)", 'model b (taken where it is close to a)'] },
  params: {
    t: {
      type: 'number',
      label: 't (distance)',
      description: 'Distance below which B\'s value replaces A\'s; farther weights move by t / |A - B| of the way. 0 = A. mergekit requires it.',
      default: null,
      min: 0,
      ui: { min: 0, max: 0.01, step: 0.0001 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 3,
  kernel(ctx) {
    const { t } = ctx.params
    mapElementwise(ctx, (out, [a, b]) => {
      for (let i = 0; i < out.length; i++) {
        const x = a![i]!
        const y = b![i]!
        const w = Math.min(Math.max(t / Math.max(Math.abs(x - y), MIN_DISTANCE), 0), 1)
        out[i] = w * y + (1 - w) * x
      }
    })
  },
})
