import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

export const tripleSum = defineMethod({
  id: 'triple_sum',
  aliases: [],
  label: 'Triple sum',
  description:
    'Three models in one weighted sum whose weights add up to 1: (1 - alpha - beta)A + alpha B + beta C (supermerger "Triple sum", meh triple_sum). alpha and beta are the shares of B and C; A gets the rest. For independent weights use linear with normalize off.',
  inputs: {
    min: 3,
    max: 3,
    base: 'none',
    roles: ['model a (gets 1 - alpha - beta)', 'model b (gets alpha)', 'model c (gets beta)'],
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Share of B.',
      default: 0.33,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    beta: {
      type: 'number',
      label: 'beta',
      description: 'Share of C.',
      default: 0.33,
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
    // exact copies where one model takes the whole weight, as supermerger's block weights expect
    if (alpha === 0 && beta === 0) return passThrough(ctx, ctx.inputs[0]!)
    if (alpha === 1 && beta === 0) return passThrough(ctx, ctx.inputs[1]!)
    if (alpha === 0 && beta === 1) return passThrough(ctx, ctx.inputs[2]!)
    const wa = 1 - alpha - beta
    mapElementwise(ctx, (out, [a, b, c]) => {
      for (let i = 0; i < out.length; i++) out[i] = wa * a![i]! + alpha * b![i]! + beta * c![i]!
    })
  },
})
