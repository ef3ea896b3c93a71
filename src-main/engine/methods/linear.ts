import { AmalgamError } from '../errors'
import { mapElementwise } from './kernel-helpers'
import { defineMethod } from './types'

export const linear = defineMethod({
  id: 'linear',
  aliases: [
    // sd-mecha n_average: the plain mean of its inputs
    { name: 'n_average', params: { weight: 1, normalize: true } },
    // terge always divides by the weight sum
    { name: 'terge_arithmetic', params: { normalize: true } },
  ],
  label: 'Linear (weighted average)',
  description:
    'Weighted average of any number of models: sum of weight x model, divided by the sum of the weights when normalize is on (mergekit linear, terge arithmetic; n_average = equal weights). With normalize off it is a plain weighted sum, e.g. the untitled fork\'s "Triple Sum"/"Quad Sum". Weights that sum to 0 with normalize on are refused (there is no average to take).',
  inputs: { min: 1, max: null, base: 'none', roles: ['model a (keys not merged come from it)', 'more models (b, c, …)'] },
  params: {
    weight: {
      type: 'number',
      label: 'weight',
      description: 'Weight of each model (relative when normalize is on).',
      default: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: true,
    },
    normalize: {
      type: 'boolean',
      label: 'normalize',
      description: 'Divide by the sum of the weights, so the weights need not add up to 1.',
      default: true,
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 6,
  kernel(ctx) {
    const { weight, normalize } = ctx.params
    let total = 0
    for (const w of weight) total += w
    if (normalize && total === 0) {
      // mergekit divides anyway and writes inf/NaN; an average with no total weight has no meaning
      throw new AmalgamError(
        'BAD_RECIPE',
        `${ctx.key}: linear: the weights [${weight.join(', ')}] sum to 0, so normalize would divide by zero; change the weights for this block or set normalize: false`,
      )
    }
    const scale = normalize ? 1 / total : 1
    let sum = new Float64Array(0)
    mapElementwise(ctx, (out, ins) => {
      if (sum.length < out.length) sum = new Float64Array(out.length)
      const acc = sum.subarray(0, out.length).fill(0)
      ins.forEach((x, m) => {
        // a zero weight leaves the model out entirely (its NaNs included), as a user expects
        const w = weight[m]! * scale
        if (w === 0) return
        for (let i = 0; i < acc.length; i++) acc[i]! += w * x[i]!
      })
      out.set(acc)
    })
  },
})
