import { selectAbs } from '../compute/selection'
import { weiszfeldCoefficients, type WeiszfeldSettings } from '../compute/weiszfeld'
import { AmalgamError } from '../errors'
import type { TaskVectors } from './task-vectors'
import type { KernelContext } from './types'

/*
 * sd-mecha's TIES (METHODS.md §6.1): trim each task vector to its top-k fraction by magnitude,
 * elect a sign per element, average the deltas that agree with it (disjoint mean), optionally
 * scale by the model-stock factor (TIES-STOCK). Shared by ties_sum and ties_sum_with_dropout.
 */

/** paper: sgn Σ δ̂ (magnitude-weighted, the TIES paper); soup: sgn Σ sgn δ̂ (sign count, TIES-SOUP) */
export type SignElection = 'paper' | 'soup'

export interface TiesSettings {
  /** fraction of each task vector kept (sd-mecha threshold rule, §1.5) */
  readonly k: number
  readonly election: SignElection
  /** TIES-STOCK: multiply the disjoint mean by the model-stock factor of the masked deltas (§6.7a) */
  readonly stock: boolean
  readonly cosEps: number
  /** TIES-GMEDIAN: the geometric median of the masked deltas replaces the disjoint mean (and model stock) */
  readonly median?: WeiszfeldSettings
  /** the result is base + scale · merged delta */
  readonly scale: number
}

/** a selection window may hold this many chunks' worth of magnitudes per model (else histogram passes) */
export const WINDOW_CHUNKS = 4

/** sd-mecha's threshold rank j = max(trunc((1 − k)·n), 1), capped at n (k ≤ 0 keeps the maximum only) */
export function fractionKeptRank(k: number, n: number): number {
  return Math.min(n, Math.max(Math.trunc((1 - k) * n), 1))
}

export const SIGN_ELECTION_OPTIONS = [
  {
    value: 'paper',
    label: 'Magnitude (paper)',
    description: 'Elects the sign of the sum of trimmed deltas, as in the TIES paper (sd-mecha vote_sgn=True in ≥ 0.1).',
  },
  {
    value: 'soup',
    label: 'Sign count (TIES-SOUP)',
    description: 'Elects the majority sign regardless of magnitude; what sd-mecha ≥ 0.1 does by default (vote_sgn=False).',
  },
] as const

/** Writes base + scale · TIES(δ₁..δ_N) for the key; the deltas come from `vectors` (possibly dropout-masked). */
export function tiesMerge(ctx: KernelContext<unknown>, vectors: TaskVectors, settings: TiesSettings): void {
  const n = ctx.numel
  const models = vectors.models
  if (n === 0) return
  if (settings.stock && !settings.median && models < 2) {
    throw new AmalgamError('BAD_RECIPE', `${ctx.key}: apply_stock (TIES-STOCK) needs at least two models, got ${models}`)
  }
  const rank = fractionKeptRank(settings.k, n)
  // rank 1 keeps everything: |δ| ≥ 0 holds for every number, no selection pass needed
  const thresholds =
    rank === 1
      ? new Float64Array(models)
      : Float64Array.from(
          selectAbs(
            ctx.tf,
            vectors.source(),
            n,
            Array.from({ length: models }, (_, i) => ({ sequence: i, rank })),
            { sample: (sequences) => vectors.sample(sequences), maxCollected: WINDOW_CHUNKS * ctx.chunkElements },
          ),
          (s) => s.value,
        )
  if (settings.median) mergeWithMedian(vectors, thresholds, settings, settings.median)
  else if (settings.stock) mergeWithStock(ctx, vectors, thresholds, settings)
  else mergeDisjointMean(vectors, thresholds, settings)
}

/*
 * Per element: δ̂ᵢ = δᵢ where |δᵢ| ≥ τᵢ else 0; the vote v = Σ δ̂ᵢ (paper) or Σ sgn δ̂ᵢ (soup);
 * δ̂ᵢ agrees when δ̂ᵢ·v > 0, and the agreeing δ̂ᵢ are averaged. Where v = 0 upstream averages the
 * zero entries, which is 0 too, so "agree = same non-zero sign" gives the same numbers. An element
 * where any δᵢ is not finite gets 0: what upstream's nan_to_num makes of the NaN/inf it produces.
 * The loops are branch-free (comparisons become 0/1 factors): trim and agreement are coin flips
 * the branch predictor would lose.
 */

function mergeDisjointMean(vectors: TaskVectors, thresholds: Float64Array, settings: TiesSettings): void {
  if (vectors.models === 2) return mergeTwo(vectors, thresholds, settings)
  const models = vectors.models
  const paper = settings.election === 'paper'
  const scale = settings.scale
  // 1/count by table: no division per element (count 0 only occurs with sum 0)
  const reciprocal = Float64Array.from({ length: models + 1 }, (_, c) => (c === 0 ? 0 : 1 / c))
  vectors.map(({ length, deltas, base, offset }, out) => {
    for (let e = 0; e < length; e++) {
      let raw = 0
      let vote = 0
      for (let i = 0; i < models; i++) {
        const x = deltas[i]![e]!
        raw += x
        const h = x * +(Math.abs(x) >= thresholds[i]!)
        vote += paper ? h : +(h > 0) - +(h < 0)
      }
      let sum = 0
      let count = 0
      for (let i = 0; i < models; i++) {
        const x = deltas[i]![e]!
        const h = x * +(Math.abs(x) >= thresholds[i]!)
        const agrees = +(h * vote > 0)
        sum += h * agrees
        count += agrees
      }
      out[offset + e] = base[offset + e]! + scale * (raw - raw === 0 ? sum * reciprocal[count]! : 0)
    }
  })
}

/** the same computation unrolled for two models, the common case (twice as fast as the loop over models) */
function mergeTwo(vectors: TaskVectors, thresholds: Float64Array, settings: TiesSettings): void {
  const paper = settings.election === 'paper'
  const scale = settings.scale
  const t0 = thresholds[0]!
  const t1 = thresholds[1]!
  vectors.map(({ length, deltas, base, offset }, out) => {
    const d0 = deltas[0]!
    const d1 = deltas[1]!
    for (let e = 0; e < length; e++) {
      const x0 = d0[e]!
      const x1 = d1[e]!
      const h0 = x0 * +(Math.abs(x0) >= t0)
      const h1 = x1 * +(Math.abs(x1) >= t1)
      const vote = paper ? h0 + h1 : +(h0 > 0) - +(h0 < 0) + +(h1 > 0) - +(h1 < 0)
      const a0 = +(h0 * vote > 0)
      const a1 = +(h1 * vote > 0)
      const raw = x0 + x1
      // the mean of the agreeing ones: halve when both agree, no division
      out[offset + e] = base[offset + e]! + scale * (raw - raw === 0 ? (h0 * a0 + h1 * a1) * (1 - 0.5 * a0 * a1) : 0)
    }
  })
}

/**
 * TIES-STOCK: t = N·c / (1 + (N − 1)·c) per last-axis slice, c = the mean cosine of consecutive
 * masked deltas over that slice (sd-mecha's get_model_stock_t); blocks hold whole slices.
 */
function mergeWithStock(ctx: KernelContext<unknown>, vectors: TaskVectors, thresholds: Float64Array, settings: TiesSettings): void {
  const models = vectors.models
  const paper = settings.election === 'paper'
  const { scale, cosEps } = settings
  const sliceLength = ctx.shape.length === 0 ? 1 : ctx.shape[ctx.shape.length - 1]!
  const kept = new Float64Array(models)
  let masked: Float64Array[] = []
  let counts = new Float64Array(0)
  vectors.map(({ length, deltas, base, offset }, out) => {
    if (counts.length < length) {
      counts = new Float64Array(length)
      masked = Array.from({ length: models }, () => new Float64Array(length))
    }
    for (let e = 0; e < length; e++) {
      let raw = 0
      let vote = 0
      for (let i = 0; i < models; i++) {
        const x = deltas[i]![e]!
        raw += x
        const h = x * +(Math.abs(x) >= thresholds[i]!)
        kept[i] = h
        vote += paper ? h : Math.sign(h)
      }
      const finite = raw - raw === 0
      let count = 0
      for (let i = 0; i < models; i++) {
        const h = kept[i]!
        const agrees = finite && h * vote > 0
        masked[i]![e] = agrees ? h : 0
        if (agrees) count++
      }
      counts[e] = count
    }
    for (let s = 0; s < length; s += sliceLength) {
      let cosSum = 0
      for (let i = 0; i + 1 < models; i++) {
        const x = masked[i]!
        const y = masked[i + 1]!
        let dot = 0
        let xx = 0
        let yy = 0
        for (let e = s; e < s + sliceLength; e++) {
          dot += x[e]! * y[e]!
          xx += x[e]! * x[e]!
          yy += y[e]! * y[e]!
        }
        cosSum += dot / Math.sqrt(Math.max(xx * yy, cosEps * cosEps))
      }
      const c = cosSum / (models - 1)
      const t = (models * c) / (1 + (models - 1) * c)
      for (let e = s; e < s + sliceLength; e++) {
        let sum = 0
        for (let i = 0; i < models; i++) sum += masked[i]![e]!
        // no agreeing delta (count 0) or a pole of t: upstream's NaN/inf, made 0
        const merged = (sum * t) / counts[e]!
        out[offset + e] = base[offset + e]! + scale * (merged - merged === 0 ? merged : 0)
      }
    }
  }, sliceLength)
}

/**
 * TIES-GMEDIAN: the whole-tensor geometric median (§6.9) of the masked deltas Mᵢδ̂ᵢ, zeros included
 * (so it is not a disjoint mean: a model that disagrees pulls its elements towards 0). Each Weiszfeld
 * iteration recomputes the masked deltas from the task vectors in one pass; NaN from the iteration
 * becomes 0 (upstream's nan_to_num).
 */
function mergeWithMedian(vectors: TaskVectors, thresholds: Float64Array, settings: TiesSettings, median: WeiszfeldSettings): void {
  const models = vectors.models
  const paper = settings.election === 'paper'
  let masked: Float64Array[] = []
  /** writes Mᵢδ̂ᵢ of the block's elements into masked[i] */
  const maskBlock = (length: number, deltas: readonly Float32Array[]): void => {
    if (masked.length === 0 || masked[0]!.length < length) masked = Array.from({ length: models }, () => new Float64Array(length))
    for (let e = 0; e < length; e++) {
      let raw = 0
      let vote = 0
      for (let i = 0; i < models; i++) {
        const x = deltas[i]![e]!
        raw += x
        const h = x * +(Math.abs(x) >= thresholds[i]!)
        vote += paper ? h : Math.sign(h)
      }
      const finite = raw - raw === 0
      for (let i = 0; i < models; i++) {
        const x = deltas[i]![e]!
        const h = x * +(Math.abs(x) >= thresholds[i]!)
        masked[i]![e] = finite && h * vote > 0 ? h : 0
      }
    }
  }
  const c = weiszfeldCoefficients(
    models,
    (coefficients) => {
      const squares = new Float64Array(models)
      vectors.scan(({ length, deltas }) => {
        maskBlock(length, deltas)
        for (let e = 0; e < length; e++) {
          let m = 0
          for (let i = 0; i < models; i++) m += coefficients[i]! * masked[i]![e]!
          for (let i = 0; i < models; i++) squares[i]! += (masked[i]![e]! - m) ** 2
        }
      })
      return squares.map(Math.sqrt)
    },
    median,
  )
  const scale = settings.scale
  vectors.map(({ length, deltas, base, offset }, out) => {
    maskBlock(length, deltas)
    for (let e = 0; e < length; e++) {
      let m = 0
      for (let i = 0; i < models; i++) m += c[i]! * masked[i]![e]!
      out[offset + e] = base[offset + e]! + scale * (m - m === 0 ? m : 0)
    }
  })
}
