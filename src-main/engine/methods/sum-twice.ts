import { lerp } from '../compute/lerp'
import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

export const sumTwice = defineMethod({
  id: 'sum_twice',
  aliases: [],
  label: 'Sum twice',
  description:
    'Two weighted sums in a row: first A and B by alpha, then that result and C by beta: (1 - beta)((1 - alpha)A + alpha B) + beta C (supermerger "Sum Twice", meh sum_twice). alpha 0 and beta 0 keep A; beta 1 gives C.',
  inputs: {
    min: 3,
    max: 3,
    base: 'none',
    roles: ['model a (kept at alpha 0, beta 0)', 'model b (mixed in by alpha)', 'model c (mixed into that by beta)'],
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Share of B in the first sum: 0 = A, 1 = B.',
      default: 0.5,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    beta: {
      type: 'number',
      label: 'beta',
      description: 'Share of C in the second sum: 0 = the first sum, 1 = C.',
      default: 0.5,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 4,
  kernel(ctx) {
    const { alpha, beta } = ctx.params
    if (beta === 1) return passThrough(ctx, ctx.inputs[2]!)
    if (beta === 0) {
      if (alpha === 0) return passThrough(ctx, ctx.inputs[0]!)
      if (alpha === 1) return passThrough(ctx, ctx.inputs[1]!)
    }
    mapElementwise(ctx, (out, [a, b, c]) => {
      for (let i = 0; i < out.length; i++) out[i] = lerp(lerp(a![i]!, b![i]!, alpha), c![i]!, beta)
    })
  },
})
