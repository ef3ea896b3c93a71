import { mapElementwise } from './kernel-helpers'
import { requireBase } from './task-vectors'
import { defineMethod } from './types'

export const multiplyDifference = defineMethod({
  id: 'multiply_difference',
  aliases: [],
  label: 'Multiply difference',
  description:
    "Combines how far A and B moved from their common ancestor C geometrically instead of adding the moves (meh multiply_difference): each weight moves from C by |A - C|^(1 - alpha) x |B - C|^alpha, in the direction of (1 - beta) A + beta B - C. A weight that did not move in one model does not move in the result (unless that model's exponent is 0). alpha 0 gives A's distance, 1 gives B's; beta picks the direction.",
  reference: 'https://github.com/s1dlx/meh/blob/main/sd_meh/merge_methods.py',
  inputs: {
    min: 2,
    max: 2,
    base: 'required',
    roles: ['model a', 'model b'],
    baseRole: 'c, the common ancestor of a and b (the result is built on it)',
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: "Exponent mix of the distances: 0 = A's distance from C, 1 = B's, 0.5 = their geometric mean.",
      default: 0.5,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    beta: {
      type: 'number',
      label: 'beta',
      description: 'Which way each weight moves: the sign of (1 - beta) A + beta B - C.',
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
    requireBase(ctx)
    mapElementwise(ctx, (out, [a, b], c) => {
      for (let i = 0; i < out.length; i++) {
        const x = a![i]!
        const y = b![i]!
        const z = c![i]!
        // Math.pow(0, 0) = 1, as torch.pow: a model whose exponent is 0 does not zero the product
        const magnitude = Math.pow(Math.abs(x - z), 1 - alpha) * Math.pow(Math.abs(y - z), alpha)
        const direction = (1 - beta) * x + beta * y - z
        // copysign: the sign bit of the direction decides, -0 included
        const negative = direction < 0 || Object.is(direction, -0)
        out[i] = z + (negative ? -magnitude : magnitude)
      }
    })
  },
})
