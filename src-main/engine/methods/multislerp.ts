import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../compute/backend'
import { AmalgamError } from '../errors'
import { mapElementwise, passThrough, reduceWithTf, tfSum } from './kernel-helpers'
import { defineMethod, type KernelContext } from './types'

export const multislerp = defineMethod({
  id: 'multislerp',
  aliases: [],
  label: 'Multi-SLERP (mergekit)',
  description:
    "Spherical weighted average of any number of models (mergekit multislerp): each tensor is seen as one vector and put on the unit sphere, their weighted mean direction is found through the tangent space at the normalised Euclidean mean (one exponential-map step), and the result gets the weighted mean of the norms. With a base model the task vectors (model − base) are averaged and the base added back. Generalises slerp to N models; weights whose unit vectors cancel out (e.g. a and −a at equal weights) have no mean direction and are refused, except for two models, which are then mixed linearly.",
  reference: 'https://goddard.blog/posts/multislerp-wow-what-a-cool-idea',
  inputs: {
    min: 1,
    max: null,
    base: 'optional',
    roles: ['model a (keys not merged come from it)', 'more models (b, c, …)'],
    baseRole: 'optional origin of the sphere: when given, the task vectors (model − base) are interpolated and the base added back',
  },
  params: {
    weight: {
      type: 'number',
      label: 'weight',
      description: 'Weight of each model (relative when normalize_weights is on).',
      default: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: true,
    },
    normalize_weights: {
      type: 'boolean',
      label: 'normalize weights',
      description: 'Divide the weights by their sum (mergekit default on). Off: the norm of the result is the plain weighted sum of norms.',
      default: true,
    },
    eps: {
      type: 'number',
      label: 'epsilon',
      description: 'Added to every norm before dividing by it; a mean direction shorter than this counts as zero.',
      default: 1e-8,
      min: 0,
      ui: { min: 0, max: 1e-4, step: 1e-8 },
      perBlock: false,
      perModel: false,
    },
  },
  cost: ['R'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 6,
  kernel(ctx) {
    const { weight, normalize_weights, eps } = ctx.params
    const models = ctx.inputs.length
    if (models === 1) return passThrough(ctx, ctx.inputs[0]!)
    if (ctx.numel === 0) return
    const total = weight.reduce((s, w) => s + w, 0)
    if (normalize_weights && total === 0) {
      throw new AmalgamError('BAD_RECIPE', `${ctx.key}: multislerp: the weights sum to 0, so normalize_weights cannot divide by their sum`)
    }
    const w = weight.map((x) => (normalize_weights ? x / total : x))
    // every vector below is a combination Σ cᵢxᵢ of the (delta) tensors: passes measure them, the last writes one
    const norms = passSums(ctx, (tf, xs) => xs.map((x) => tfSum(tf, tf.square(x)))).map(Math.sqrt)
    const unit = norms.map((n) => 1 / (n + eps))
    const meanCoefficients = Float64Array.from(w, (wi, i) => wi * unit[i]!)
    // ‖m‖² and ⟨xᵢ, m⟩ for the mean of the unit vectors m = Σ wᵢuᵢ
    const meanSums = passSums(ctx, (tf, xs) => {
      const m = combination(tf, xs, meanCoefficients)
      return [tfSum(tf, tf.square(m)), ...xs.map((x) => tfSum(tf, tf.mul(x, m)))]
    })
    const meanNorm = Math.sqrt(meanSums[0]!)
    if (!(meanNorm >= eps)) {
      if (models === 2) {
        ctx.warn(`multislerp: the two models' unit vectors cancel out (mean direction ${meanNorm}), so they were mixed linearly, as in mergekit`)
        return writeCombination(ctx, Float64Array.from(w))
      }
      throw new AmalgamError(
        'BAD_RECIPE',
        `${ctx.key}: multislerp: the weighted unit vectors cancel out (mean direction ${meanNorm} < eps ${eps}), so there is no mean direction; change the weights`,
      )
    }
    // m̂ = m/‖m‖; tangent tᵢ = uᵢ − ⟨uᵢ, m̂⟩m̂; T = Σ wᵢtᵢ = Σ wᵢuᵢ − (Σ wᵢ⟨uᵢ, m̂⟩) m̂
    const direction = meanCoefficients.map((c) => c / meanNorm)
    let projection = 0
    for (let i = 0; i < models; i++) projection += w[i]! * unit[i]! * (meanSums[1 + i]! / meanNorm)
    const tangent = Float64Array.from(meanCoefficients, (c, i) => c - projection * direction[i]!)
    const [tangentSquare] = passSums(ctx, (tf, xs) => [tfSum(tf, tf.square(combination(tf, xs, tangent)))])
    const tau = Math.sqrt(tangentSquare!) + eps
    const scale = w.reduce((s, wi, i) => s + wi * norms[i]!, 0)
    const cos = Math.cos(tau)
    const sinc = Math.sin(tau) / tau
    writeCombination(ctx, Float64Array.from(direction, (d, i) => scale * (cos * d + sinc * tangent[i]!)))
  },
})

type AnyContext = KernelContext<unknown>

/** One pass over the tensors (task vectors when there is a base): `fn`'s scalar results summed over chunks. */
function passSums(ctx: AnyContext, fn: (tf: Tf, xs: readonly tfc.Tensor[]) => readonly tfc.Tensor[]): number[] {
  const streams = ctx.base ? [...ctx.inputs, ctx.base] : ctx.inputs
  const sums = reduceWithTf(ctx, streams, (tf, chunks) => {
    const base = ctx.base ? chunks[chunks.length - 1]! : null
    const xs = base ? chunks.slice(0, -1).map((x) => tf.sub(x, base)) : chunks
    return fn(tf, xs)
  })
  return sums.map((s) => s[0]!)
}

function combination(tf: Tf, xs: readonly tfc.Tensor[], c: Float64Array): tfc.Tensor {
  return tf.addN(xs.map((x, i) => tf.mul(x, c[i]!)))
}

/** out = base + Σ cᵢ(xᵢ − base) with a base, Σ cᵢxᵢ without */
function writeCombination(ctx: AnyContext, c: Float64Array): void {
  mapElementwise(ctx, (out, xs, base) => {
    for (let e = 0; e < out.length; e++) {
      let r = 0
      if (base) {
        const b = base[e]!
        for (let i = 0; i < xs.length; i++) r += c[i]! * Math.fround(xs[i]![e]! - b)
        out[e] = b + r
      } else {
        for (let i = 0; i < xs.length; i++) r += c[i]! * xs[i]![e]!
        out[e] = r
      }
    }
  })
}
