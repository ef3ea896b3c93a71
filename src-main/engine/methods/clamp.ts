import { mapElementwise } from './kernel-helpers'
import { defineMethod } from './types'

export const clamp = defineMethod({
  id: 'clamp',
  aliases: [
    { name: 'clip', params: {} },
    // meh's weights_clip: the merged model clamped between A and B, no stiffness
    { name: 'weights_clip', params: { stiffness: 0 } },
  ],
  label: 'Clamp',
  description:
    "Keeps every weight of the first input within the range spanned by the other inputs at that position (sd-mecha clamp, meh weights_clip): typically a merge clamped between its source models, which removes overshoot from add-difference or extrapolating merges. stiffness pulls both limits towards the bounds closest to their mean: 0 = the full min..max range, 1 = the tightest bounds around the mean.",
  inputs: {
    min: 2,
    max: null,
    base: 'none',
    roles: ['the value to clamp (typically a merge node)', 'bounds (b, c, …): the range is their min..max per weight'],
  },
  params: {
    stiffness: {
      type: 'number',
      label: 'stiffness',
      description: 'How far the limits move from min/max towards the bounds nearest to the bounds\' mean: 0 = min..max.',
      default: 0,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 5,
  kernel(ctx) {
    const { stiffness } = ctx.params
    mapElementwise(ctx, (out, [x, ...bounds]) => {
      const count = bounds.length
      for (let i = 0; i < out.length; i++) {
        let hi = -Infinity
        let lo = Infinity
        let sum = 0
        for (const bound of bounds) {
          const v = bound[i]!
          // Math.max/min propagate NaN as torch.maximum/minimum do
          hi = Math.max(hi, v)
          lo = Math.min(lo, v)
          sum += v
        }
        if (stiffness > 0) {
          const mean = sum / count
          let nearestAbove = hi
          let nearestBelow = lo
          for (const bound of bounds) {
            const v = bound[i]!
            if (v >= mean && v <= nearestAbove) nearestAbove = v
            if (v <= mean && v >= nearestBelow) nearestBelow = v
          }
          hi = (1 - stiffness) * hi + stiffness * nearestAbove
          lo = (1 - stiffness) * lo + stiffness * nearestBelow
        }
        out[i] = Math.min(Math.max(x![i]!, lo), hi)
      }
    })
  },
})
