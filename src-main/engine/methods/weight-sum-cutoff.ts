import { closenessColumnMeans, maxAbsDifference } from './interp-weights'
import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

export const weightSumCutoff = defineMethod({
  id: 'weight_sum_cutoff',
  aliases: [],
  label: 'Weight sum cutoff',
  description:
    "A weighted sum applied only to the columns where A and B are moderately alike (untitledmerger's WeightSumCutoff operator, never exposed as a mode there): per column of the (first dimension, rest) view, the mean closeness m of (D - |A - B|) / D is computed (D = the key's largest difference); columns with lower < m < upper become (1 - alpha) A + alpha B, the others keep A.",
  reference: 'https://github.com/groinge/sd-webui-untitledmerger/blob/master/scripts/untitled/operators.py',
  inputs: { min: 2, max: 2, base: 'none', roles: ['model a', 'model b'] },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Share of B in the mixed columns: 0 = A.',
      default: 0.5,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    upper: {
      type: 'number',
      label: 'beta (upper mean threshold)',
      description: 'Columns with mean closeness below this are mixed.',
      default: 0.7,
      ui: { min: 0, max: 1, step: 0.001 },
      perBlock: true,
      perModel: false,
    },
    lower: {
      type: 'number',
      label: 'gamma (lower mean threshold)',
      description: 'Columns with mean closeness above this are mixed.',
      default: 0.3,
      ui: { min: 0, max: 1, step: 0.001 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['R'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 4,
  kernel(ctx) {
    const { alpha, upper, lower } = ctx.params
    const max = maxAbsDifference(ctx)
    // A = B: every mix is A
    if (alpha === 0 || max === 0) return passThrough(ctx, ctx.inputs[0]!)
    const share = Float64Array.from(closenessColumnMeans(ctx, max), (m) => (lower < m && m < upper ? alpha : 0))
    const { rowLength } = ctx
    mapElementwise(ctx, (out, [a, b], _base, start) => {
      for (let i = 0; i < out.length; i++) {
        const w = share[(start + i) % rowLength]!
        const x = a![i]!
        out[i] = w === 0 ? x : x * (1 - w) + b![i]! * w
      }
    })
  },
})
