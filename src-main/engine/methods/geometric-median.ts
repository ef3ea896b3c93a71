import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../compute/backend'
import { weiszfeldCoefficients } from '../compute/weiszfeld'
import { mapElementwise, reduceWithTf, tfSum } from './kernel-helpers'
import { defineMethod } from './types'

export const geometricMedian = defineMethod({
  id: 'geometric_median',
  aliases: [],
  label: 'Geometric median',
  description:
    "The point whose summed distance to all inputs is smallest, each tensor seen as one vector (Weiszfeld's iteration, as sd-mecha's geometric_median). Unlike the mean it is robust to an outlier: one model far from the others barely moves it. Use it with three or more models (with two, every point between them is a median and the iteration stays at the mean); feed it task vectors to merge in delta space.",
  reference: 'https://en.wikipedia.org/wiki/Geometric_median',
  inputs: {
    min: 1,
    max: null,
    base: 'none',
    roles: ['model a (keys not merged come from it)', 'more models (b, c, …)'],
  },
  params: {
    eps: {
      type: 'number',
      label: 'epsilon',
      description: 'Floor on each distance before it is inverted into a weight (keeps an input that coincides with the median from taking all the weight).',
      default: 1e-6,
      min: 0,
      ui: { min: 0, max: 1e-3, step: 1e-6 },
      perBlock: false,
      perModel: false,
    },
    maxiter: {
      type: 'integer',
      label: 'max iterations',
      description: 'Weiszfeld iterations at most; each reads every input once. 0 = the mean.',
      default: 100,
      min: 0,
      ui: { min: 0, max: 500, step: 1 },
      perBlock: false,
      perModel: false,
    },
    ftol: {
      type: 'number',
      label: 'relative tolerance',
      description: 'Stop when the mean distance changes by at most this fraction of itself (sd-mecha default 1e-20: practically run all iterations).',
      default: 1e-20,
      min: 0,
      ui: { min: 0, max: 1e-3, step: 1e-9 },
      perBlock: false,
      perModel: false,
    },
  },
  cost: ['R', 'I'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 6,
  kernel(ctx) {
    const { eps, maxiter, ftol } = ctx.params
    if (ctx.numel === 0) return
    const models = ctx.inputs.length
    const c = weiszfeldCoefficients(
      models,
      (coefficients) => {
        const squares = reduceWithTf(ctx, ctx.inputs, (tf, xs) => {
          const median = mix(tf, xs, coefficients)
          return xs.map((x) => tfSum(tf, tf.square(tf.sub(x, median))))
        })
        return Float64Array.from(squares, (s) => Math.sqrt(s[0]!))
      },
      { eps, maxiter, ftol },
    )
    mapElementwise(ctx, (out, xs) => {
      for (let e = 0; e < out.length; e++) {
        let m = 0
        for (let i = 0; i < models; i++) m += c[i]! * xs[i]![e]!
        out[e] = m
      }
    })
  },
})

/** Σ cᵢXᵢ as a tensor of the chunk's shape */
function mix(tf: Tf, xs: readonly tfc.Tensor2D[], c: Float64Array): tfc.Tensor {
  return tf.addN(xs.map((x, i) => tf.mul(x, c[i]!)))
}
