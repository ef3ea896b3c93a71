import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

export const add = defineMethod({
  id: 'add',
  aliases: [],
  label: 'Add',
  description:
    'The sum of its inputs, A + B + …: the operator for task-vector arithmetic in recipe trees, e.g. base + 0.5 x ((legal - base) + (recipe - base)) as add(base, scale(add(subtract(legal, base), subtract(recipe, base)), 0.5)). For weighted sums use linear with normalize off.',
  inputs: { min: 1, max: null, base: 'none', roles: ['a (keys not merged come from it)', 'more terms (b, c, …)'] },
  params: {},
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 6,
  kernel(ctx) {
    if (ctx.inputs.length === 1) return passThrough(ctx, ctx.inputs[0]!)
    let sum = new Float64Array(0)
    mapElementwise(ctx, (out, ins) => {
      if (sum.length < out.length) sum = new Float64Array(out.length)
      const acc = sum.subarray(0, out.length).fill(0)
      for (const x of ins) for (let i = 0; i < acc.length; i++) acc[i]! += x[i]!
      out.set(acc)
    })
  },
})
