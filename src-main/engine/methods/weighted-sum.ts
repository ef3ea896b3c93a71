import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

export const weightedSum = defineMethod({
  id: 'weighted_sum',
  aliases: [{ name: 'weight_sum', params: {} }, { name: 'lerp', params: {} }],
  label: 'Weighted sum',
  description:
    'Interpolates linearly between A and B: A + alpha x (B - A). alpha 0 keeps A, 1 gives B, values outside 0..1 extrapolate. The classic checkpoint merge and the usual target of per-block (MBW) weights.',
  inputs: { min: 2, max: 2, base: 'none', roles: ['model A (kept at alpha 0)', 'model B (reached at alpha 1)'] },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Share of B: 0 = A, 1 = B.',
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
    // exact copies at the ends, as sd-mecha and supermerger do: no rounding noise in unmerged blocks
    if (alpha === 0) return passThrough(ctx, ctx.inputs[0]!)
    if (alpha === 1) return passThrough(ctx, ctx.inputs[1]!)
    // compute/lerp.ts's formula with its branch taken once per tensor, not per element: the same float64 operations, the same bits
    const fromA = Math.abs(alpha) < 0.5
    const rest = 1 - alpha
    mapElementwise(ctx, (out, [x, y]) => {
      const n = out.length
      if (fromA) for (let i = 0; i < n; i++) out[i] = x![i]! + alpha * (y![i]! - x![i]!)
      else for (let i = 0; i < n; i++) out[i] = y![i]! - (y![i]! - x![i]!) * rest
    })
  },
})
