import type * as tfc from '@tensorflow/tfjs-core'
import type { Rng } from '../compute/rng'
import { lerp } from '../compute/lerp'
import { chunkRanges, columnSumsWithTf } from './kernel-helpers'
import type { KernelContext } from './types'

/*
 * Shared by untitledmerger's difference-driven interpolations (METHODS.md §8.1–8.3): per weight,
 * d = |A − B| measured against the key's largest difference D, and the mask that mixes
 * A (1 − mask) + B · mask, a seeded Bernoulli draw blended with its own probability.
 */

/** text-encoder embeddings the untitledmerger interpolation modes never touch (SD1 and the two SDXL encoders) */
const TEXT_EMBEDDING_PREFIXES = [
  'cond_stage_model.transformer.text_model.embeddings',
  'conditioner.embedders.0.transformer.text_model.embeddings',
  'conditioner.embedders.1.model.token_embedding',
  'conditioner.embedders.1.model.positional_embedding',
]

export function isTextEmbeddingKey(key: string): boolean {
  return TEXT_EMBEDDING_PREFIXES.some((prefix) => key.startsWith(prefix))
}

/** D = max |A − B| over the key (NaN if any difference is NaN, as torch.max). A max is exact in any order, so a plain pass suffices. */
export function maxAbsDifference(ctx: KernelContext<unknown>): number {
  const [a, b] = ctx.inputs
  let max = 0
  for (const [start, end] of chunkRanges(ctx)) {
    const x = a!.read(start, end)
    const y = b!.read(start, end)
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!))
  }
  return max
}

/** nan0((D − d)/D): 1 where A = B, 0 at the largest difference (and where the ratio is NaN) */
export function closeness(x: number, y: number, max: number): number {
  const w = (max - Math.abs(x - y)) / max
  return Number.isNaN(w) ? 0 : w
}

/** torch.mean(closeness, dim 0): one mean per column of the (shape[0], rest) view — a single value for 1-D and 0-dim tensors */
export function closenessColumnMeans(ctx: KernelContext<unknown>, max: number): Float64Array {
  const [sums] = columnSumsWithTf(ctx, (tf, [a, b]) => {
    const w = tf.div(tf.sub(max, tf.abs(tf.sub(a!, b!))), max) as tfc.Tensor2D
    return [tf.where(tf.isNaN(w), tf.zerosLike(w), w)]
  })
  return Float64Array.from(sums ?? new Float64Array(ctx.rowLength), (s) => s / ctx.rows)
}

/** 1/max(α, 0.001) − 1: untitledmerger's exponent on the closeness (0 at α = 1, 999 at α ≤ 0.001) */
export function strengthExponent(alpha: number): number {
  return 1 / Math.max(alpha, 0.001) - 1
}

/** nan0(w^e); Math.pow(NaN, 0) = 1 as in torch; e ≥ 0 keeps w^e in [0, 1] for w in [0, 1] */
export function poweredWeight(w: number, exponent: number): number {
  const p = Math.pow(w, exponent)
  return Number.isNaN(p) ? 0 : p
}

/**
 * Turns the probabilities in `mask` into lerp(Bernoulli(clip(p, 0, 1)), p, smoothness), in place
 * (smoothness 1: the probabilities themselves, nothing drawn). One draw per element from `rng`, in
 * element order, so the masks do not depend on the chunk size.
 */
export function blendRandomMask(mask: Float32Array, rng: Rng, smoothness: number): void {
  if (smoothness === 1) return
  const draws = rng.bernoulli(new Float32Array(mask.length), mask.map((p) => Math.min(Math.max(p, 0), 1)))
  for (let i = 0; i < mask.length; i++) mask[i] = lerp(draws[i]!, mask[i]!, smoothness)
}
