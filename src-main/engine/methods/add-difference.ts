import { AmalgamError } from '../errors'
import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

export const addDifference = defineMethod({
  id: 'add_difference',
  aliases: [],
  label: 'Add difference',
  description:
    'Adds what B learned on top of its base C to A: A + alpha x (B - C). Without a base, B is taken to be a difference already (a task vector, e.g. the result of subtract): A + alpha x B. clamp_to_ab keeps every weight between A\'s and B\'s values (sd-mecha). Also the inpainting/instruct-pix2pix recipe: A = the inpainting model, B = your model, C = the base of both.',
  inputs: {
    min: 2,
    max: 2,
    base: 'optional',
    roles: ['model a (the result is built on it)', 'model b (its difference from the base is added)'],
    baseRole: 'c, the model b was trained from; without it b is used as a difference directly',
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Strength of the added difference: 0 = A, 1 = the full difference.',
      default: 1,
      ui: { min: -1, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    clamp_to_ab: {
      type: 'boolean',
      label: 'clamp to A and B',
      description: "Clamp every result weight into the range between A's and B's values (needs the base C).",
      default: false,
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 4,
  kernel(ctx) {
    const { alpha, clamp_to_ab } = ctx.params
    if (alpha === 0) return passThrough(ctx, ctx.inputs[0]!)
    if (clamp_to_ab && !ctx.base) {
      // sd-mecha refuses too: without C, b is a difference and says nothing about where B's weights are
      throw new AmalgamError('BAD_RECIPE', `${ctx.key}: add_difference: clamp_to_ab needs the base c (without it b is a difference, not a model to clamp to)`)
    }
    mapElementwise(ctx, (out, [a, b], c) => {
      for (let i = 0; i < out.length; i++) {
        const x = a![i]!
        const y = b![i]!
        const d = c ? y - c[i]! : y
        // d == 0 keeps A bit for bit (x + 0 would turn -0 into +0)
        let r = d === 0 ? x : x + alpha * d
        if (clamp_to_ab) r = Math.min(Math.max(r, Math.min(x, y)), Math.max(x, y))
        out[i] = r
      }
    })
  },
})
