import { mapElementwise, passThrough, reduceWithTf, tfSum } from './kernel-helpers'
import { defineMethod, type KernelContext } from './types'

export const karcher = defineMethod({
  id: 'karcher',
  aliases: [],
  label: 'Karcher mean (mergekit)',
  description:
    "The Riemannian (Karcher) mean of the models' directions on the unit sphere, each tensor seen as one vector, scaled by the mean of their norms (mergekit karcher). It is the direction that minimises the summed squared arc lengths to all inputs, found by a few gradient steps from the normalised average; for two models it is the slerp midpoint, for more it is the natural N-model slerp. All models weigh the same. Zero tensors add nothing to the direction but count in the mean norm.",
  reference: 'https://en.wikipedia.org/wiki/Karcher_mean',
  inputs: {
    min: 1,
    max: null,
    base: 'none',
    roles: ['model a (keys not merged come from it)', 'more models (b, c, …)'],
  },
  params: {
    max_iter: {
      type: 'integer',
      label: 'max iterations',
      description: 'Gradient steps at most; each reads every input twice. 0 = the normalised average direction.',
      default: 10,
      min: 0,
      ui: { min: 0, max: 100, step: 1 },
      perBlock: false,
      perModel: false,
    },
    tol: {
      type: 'number',
      label: 'tolerance',
      description: 'Stop when the gradient is shorter than this; angles below it count as 0 and norms below it as a zero tensor.',
      default: 1e-5,
      min: 0,
      ui: { min: 0, max: 1e-2, step: 1e-6 },
      perBlock: false,
      perModel: false,
    },
  },
  cost: ['R', 'I'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 5,
  kernel(ctx) {
    const { max_iter, tol } = ctx.params
    const models = ctx.inputs.length
    if (models === 1) return passThrough(ctx, ctx.inputs[0]!)
    if (ctx.numel === 0) return
    /*
     * Every iterate u is a combination Σ cᵢxᵢ of the inputs, so the state is the coefficients c:
     * each pass measures the combination (norm, dots with the inputs) without holding it.
     */
    const norms = squaredNorms(ctx).map(Math.sqrt)
    const valid = norms.flatMap((n, i) => (n > tol ? [i] : []))
    if (valid.length === 0) return writeCombination(ctx, new Float64Array(models))
    const alpha = new Float64Array(models)
    for (const i of valid) alpha[i] = 1 / valid.length
    let c = Float64Array.from(alpha, (a, i) => (a === 0 ? 0 : a / norms[i]!))
    let measured = measure(ctx, c)
    let meanNorm = Math.sqrt(measured.square)
    if (meanNorm < tol) {
      c = new Float64Array(models)
      c[valid[0]!] = 1 / norms[valid[0]!]!
      measured = measure(ctx, c)
      meanNorm = 1
    }
    c = c.map((x) => x / meanNorm)
    let dots = measured.dots.map((d) => d / meanNorm)
    for (let iteration = 0; iteration < max_iter; iteration++) {
      // T = Σ αᵢ·θᵢ/sin θᵢ·(uᵢ − cosθᵢ·u), uᵢ = xᵢ/‖xᵢ‖, over the inputs at least tol away
      const tangent = new Float64Array(models)
      for (const i of valid) {
        const cos = Math.min(Math.max(dots[i]! / norms[i]!, -1), 1)
        const theta = Math.acos(cos)
        if (theta < tol) continue
        const k = (alpha[i]! * theta) / Math.sin(theta)
        tangent[i]! += k / norms[i]!
        for (let j = 0; j < models; j++) tangent[j]! -= k * cos * c[j]!
      }
      const tangentNorm = Math.sqrt(measure(ctx, tangent, false).square)
      if (tangentNorm < tol) break
      c = Float64Array.from(c, (x, j) => Math.cos(tangentNorm) * x + (Math.sin(tangentNorm) * tangent[j]!) / tangentNorm)
      measured = measure(ctx, c)
      const unitNorm = Math.sqrt(measured.square)
      const divisor = unitNorm > tol ? unitNorm : 1
      c = c.map((x) => x / divisor)
      dots = measured.dots.map((d) => d / divisor)
    }
    // the mean norm counts zero tensors too: mergekit weighs every input by 1/N here
    const scale = norms.reduce((s, n) => s + n, 0) / models
    writeCombination(
      ctx,
      c.map((x) => scale * x),
    )
  },
})

function squaredNorms(ctx: KernelContext<unknown>): number[] {
  return reduceWithTf(ctx, ctx.inputs, (tf, xs) => xs.map((x) => tfSum(tf, tf.square(x)))).map((t) => t[0]!)
}

interface Measured {
  /** ‖Σ cᵢxᵢ‖² */
  readonly square: number
  /** ⟨Σ cⱼxⱼ, xᵢ⟩ per input (empty when not asked for) */
  readonly dots: number[]
}

/** one pass measuring the combination u = Σ cᵢxᵢ (its dots with the inputs only when asked) */
function measure(ctx: KernelContext<unknown>, c: Float64Array, withDots = true): Measured {
  const totals = reduceWithTf(ctx, ctx.inputs, (tf, xs) => {
    const u = tf.addN(xs.map((x, i) => tf.mul(x, c[i]!)))
    return [tfSum(tf, tf.square(u)), ...(withDots ? xs.map((x) => tfSum(tf, tf.mul(x, u))) : [])]
  }).map((t) => t[0]!)
  return { square: totals[0]!, dots: totals.slice(1) }
}

function writeCombination(ctx: KernelContext<unknown>, c: Float64Array): void {
  mapElementwise(ctx, (out, xs) => {
    for (let e = 0; e < out.length; e++) {
      let r = 0
      for (let i = 0; i < xs.length; i++) r += c[i]! * xs[i]![e]!
      out[e] = r
    }
  })
}
