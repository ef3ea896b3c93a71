import { mapElementwise, passThrough } from './kernel-helpers'
import { requireBase } from './task-vectors'
import { defineMethod } from './types'

export const trainDifference = defineMethod({
  id: 'train_difference',
  aliases: [{ name: 'traindifference', params: {} }],
  label: 'Train difference',
  description:
    'Adds what B learned from its base C to A, as if A had been trained the same way: each weight moves by alpha x w x (B - C), where w = 1.8 |B - A| / (|B - A| + |B - C|) is large where A is far from B and small where A already agrees with B (supermerger trainDifference, sd-mecha train_difference). Weights where B equals C keep A exactly.',
  inputs: {
    min: 2,
    max: 2,
    base: 'required',
    roles: ['model a (the target the training is transferred to)', 'model b (the fine-tune)'],
    baseRole: 'c, the model b was trained from',
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Strength of the transferred training: 0 = A.',
      default: 1,
      ui: { min: 0, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 4,
  kernel(ctx) {
    const { alpha } = ctx.params
    requireBase(ctx)
    if (alpha === 0) return passThrough(ctx, ctx.inputs[0]!)
    mapElementwise(ctx, (out, [a, b], c) => {
      for (let i = 0; i < out.length; i++) {
        const x = a![i]!
        const y = b![i]!
        const z = c![i]!
        // supermerger keeps A where B == C (it skips such keys); per element this also covers inf == inf
        if (y === z) {
          out[i] = x
          continue
        }
        const fromA = Math.abs(y - x)
        const fromC = Math.abs(y - z)
        const total = fromA + fromC
        // a NaN ratio (inf/inf, NaN inputs) counts as 0, as nan0 does upstream
        const ratio = fromA / total
        const w = Number.isNaN(ratio) ? 0 : 1.8 * ratio
        out[i] = x + alpha * w * (y - z)
      }
    })
  },
})
