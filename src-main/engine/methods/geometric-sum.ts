import { mapElementwise, passThrough } from './kernel-helpers'
import { cosPi, magnitudePow, signBit } from './real-powers'
import { defineMethod } from './types'

export const geometricSum = defineMethod({
  id: 'geometric_sum',
  aliases: [],
  label: 'Geometric sum',
  description:
    'Geometric interpolation A^(1 - alpha) x B^alpha per weight, taking the real part of the complex power for negative values (sd-mecha geometric_sum). Magnitudes are mixed multiplicatively; where A and B have opposite signs the result shrinks towards 0 (exactly 0 at alpha 0.5). Meant for differences (task vectors) more than for whole models. alpha 0 gives A and 1 gives B exactly (sd-mecha returns NaN there wherever the other model is exactly 0).',
  inputs: { min: 2, max: 2, base: 'none', roles: ['model a (kept at alpha 0)', 'model b (reached at alpha 1)'] },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Exponent of B: 0 = A, 1 = B.',
      default: 0.5,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 3,
  kernel(ctx) {
    const { alpha } = ctx.params
    if (alpha === 0) return passThrough(ctx, ctx.inputs[0]!)
    if (alpha === 1) return passThrough(ctx, ctx.inputs[1]!)
    const pa = 1 - alpha
    mapElementwise(ctx, (out, [a, b]) => {
      for (let i = 0; i < out.length; i++) {
        const x = a![i]!
        const y = b![i]!
        const magnitude = magnitudePow(Math.abs(x), pa) * magnitudePow(Math.abs(y), alpha)
        const angle = (signBit(x) ? pa : 0) + (signBit(y) ? alpha : 0)
        out[i] = magnitude * cosPi(angle)
      }
    })
  },
})
