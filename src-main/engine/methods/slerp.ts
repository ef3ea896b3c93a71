import { lerp } from '../compute/lerp'
import { mapSegmentsWithTf, passThrough, tfRowSum, type PieceKernel } from './kernel-helpers'
import type { KernelContext } from './types'
import { defineMethod } from './types'

/** mergekit's colinearity threshold: above it the tensors are mixed linearly */
const MERGEKIT_DOT_THRESHOLD = 0.9995
/** mergekit leaves a tensor unnormalised when its norm is at most this */
const MERGEKIT_NORM_EPS = 1e-8

export const slerp = defineMethod({
  id: 'slerp',
  aliases: [
    { name: 'slerp_mergekit', params: { variant: 'mergekit' } },
    { name: 'slerp_mecha', params: { variant: 'mecha' } },
  ],
  label: 'Spherical interpolation (slerp)',
  description:
    'Interpolates along the arc between A and B (each tensor seen as one vector) instead of the straight line, so the result keeps its magnitude where A and B point in different directions. alpha 0 = A, 1 = B; alpha is mergekit\'s t. Variant mergekit (default: the slerp of LLM merges) applies the arc coefficients to the raw tensors and mixes linearly when the tensors are nearly parallel (|cos| > 0.9995). Variant mecha (sd-mecha) moves the direction along the arc and the norm linearly, and falls back to a weighted sum when the directions coincide, a tensor is zero or the tensors point in opposite directions.',
  reference: 'https://en.wikipedia.org/wiki/Slerp',
  inputs: {
    min: 2,
    max: 2,
    base: 'none',
    roles: ["model a (kept at alpha 0; mergekit's base_model)", 'model b (reached at alpha 1)'],
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: "Position on the arc from A (0) to B (1); mergekit calls it t, sd-mecha alpha.",
      default: 0.5,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'Whose slerp: they differ in how norms and degenerate tensors are handled.',
      options: [
        {
          value: 'mergekit',
          label: 'mergekit',
          description: 'Arc coefficients on the raw tensors (norms are not interpolated); nearly parallel tensors are mixed linearly; a zero tensor counts as perpendicular.',
        },
        {
          value: 'mecha',
          label: 'sd-mecha',
          description: 'Directions along the arc, norms interpolated linearly; weighted sum when the arc is undefined (same or opposite directions, a zero tensor).',
        },
      ],
      default: 'mergekit',
    },
  },
  cost: ['R'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 6,
  kernel(ctx) {
    const { alpha, variant } = ctx.params
    // exact copies at the ends, as weighted_sum: both upstream formulas give A and B there anyway
    if (alpha === 0) return passThrough(ctx, ctx.inputs[0]!)
    if (alpha === 1) return passThrough(ctx, ctx.inputs[1]!)
    mapSegmentsWithTf(
      ctx,
      ctx.numel,
      (tf, [a, b]) => [tfRowSum(tf, tf.mul(a!, a!)), tfRowSum(tf, tf.mul(b!, b!)), tfRowSum(tf, tf.mul(a!, b!))],
      ([aa, bb, ab]) => {
        const sums = { aa: aa![0]!, bb: bb![0]!, ab: ab![0]! }
        return variant === 'mecha' ? mechaKernel(ctx, alpha, sums) : mergekitKernel(ctx, alpha, sums)
      },
    )
  },
})

interface Sums {
  readonly aa: number
  readonly bb: number
  readonly ab: number
}

/** sd-mecha: u = (â sin((1−α)ω) + b̂ sin(αω)) / sin ω, out = u·lerp(‖A‖, ‖B‖, α); lerp(A, B, α) where that is undefined. */
function mechaKernel(ctx: KernelContext<unknown>, alpha: number, { aa, bb, ab }: Sums): PieceKernel {
  const na = Math.sqrt(aa)
  const nb = Math.sqrt(bb)
  const c = Math.min(Math.max(ab / (na * nb), -1), 1)
  // upstream gets NaN here (a zero norm, non-finite inputs, ω = 0) and falls back to lerp
  if (!(na > 0 && nb > 0 && Number.isFinite(na) && Number.isFinite(nb)) || Number.isNaN(c) || c >= 1) return lerpKernel(alpha)
  if (c <= -1) {
    // sin(π) is 1e-16, not 0: upstream divides rounding noise by it; no arc is defined between opposite directions
    ctx.warn(`slerp (mecha): A and B point in opposite directions, so no arc is defined; used the weighted sum instead`)
    return lerpKernel(alpha)
  }
  const omega = Math.acos(c)
  const sinOmega = Math.sin(omega)
  const norm = lerp(na, nb, alpha)
  return combineKernel(((Math.sin((1 - alpha) * omega) / sinOmega) * norm) / na, ((Math.sin(alpha * omega) / sinOmega) * norm) / nb)
}

/** mergekit: out = sin((1−t)θ)/sin θ · A + sin(tθ)/sin θ · B on the raw tensors; (1−t)A + tB when |cos| > 0.9995. */
function mergekitKernel(ctx: KernelContext<unknown>, t: number, { aa, bb, ab }: Sums): PieceKernel {
  const na = Math.sqrt(aa)
  const nb = Math.sqrt(bb)
  const c = ab / ((na > MERGEKIT_NORM_EPS ? na : 1) * (nb > MERGEKIT_NORM_EPS ? nb : 1))
  if (Number.isNaN(c)) ctx.warn(`slerp (mergekit): the inputs hold NaN or infinite values, so the result is NaN, as in mergekit`)
  if (Math.abs(c) > MERGEKIT_DOT_THRESHOLD) return combineKernel(1 - t, t)
  const theta = Math.acos(c)
  const sinTheta = Math.sin(theta)
  const thetaT = theta * t
  return combineKernel(Math.sin(theta - thetaT) / sinTheta, Math.sin(thetaT) / sinTheta)
}

function combineKernel(ka: number, kb: number): PieceKernel {
  return (out, [a, b]) => {
    for (let i = 0; i < out.length; i++) out[i] = ka * a![i]! + kb * b![i]!
  }
}

function lerpKernel(alpha: number): PieceKernel {
  return (out, [a, b]) => {
    for (let i = 0; i < out.length; i++) out[i] = lerp(a![i]!, b![i]!, alpha)
  }
}
