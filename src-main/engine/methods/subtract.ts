import { mapElementwise } from './kernel-helpers'
import { defineMethod } from './types'

export const subtract = defineMethod({
  id: 'subtract',
  aliases: [],
  label: 'Subtract',
  description:
    'A - B: the difference (task vector) between two models, for recipe trees that add, scale or combine differences (sd-mecha subtract). The result is a difference, not a model: add it to a model (add, add_difference without a base) before saving.',
  inputs: { min: 2, max: 2, base: 'none', roles: ['a (the model whose change is taken)', 'b (what it is measured from)'] },
  params: {},
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 3,
  kernel(ctx) {
    mapElementwise(ctx, (out, [a, b]) => {
      for (let i = 0; i < out.length; i++) out[i] = a![i]! - b![i]!
    })
  },
})
