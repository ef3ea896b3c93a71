import type { Tf } from '../compute/backend'
import { randomizedSvd } from '../compute/linalg/randomized-svd'
import type { Rng } from '../compute/rng'

/** A delta written as LoRA factors: up (rows × rank) · down (rank × inner) · alpha / rank ≈ delta. */
export interface LowRankFactors {
  readonly rank: number
  readonly up: Float32Array
  readonly down: Float32Array
}

export interface FactorOptions {
  /** the rank asked for; the factors have min(rank, rows, inner) */
  readonly rank: number
  /** the alpha the file will store for this module (null = the module's rank: scale 1) */
  readonly alpha: number | null
  /**
   * kohya's clamp_quantile: factor values beyond this quantile of all the module's factor values are
   * clamped (symmetrically). 1 = no clamping.
   */
  readonly clampQuantile: number
}

/**
 * Truncated-SVD factors of a rows × inner delta (C order). The singular values are split evenly
 * between the factors (up = U·√S, down = √S·Vᵀ) rather than all put into up as kohya does: the
 * product is the same, and balanced factors keep both inside fp16's range for any delta size. When
 * the file's alpha differs from the rank, both factors carry √(rank / alpha) so that the loader's
 * alpha / rank scale gives back the delta.
 */
export function lowRankFactors(tf: Tf, delta: Float32Array, rows: number, inner: number, options: FactorOptions, rng: Rng): LowRankFactors {
  const rank = Math.max(1, Math.min(options.rank, rows, inner))
  const alpha = options.alpha ?? rank
  const compensation = Math.sqrt(rank / alpha)
  const matrix = tf.tensor2d(delta, [rows, inner])
  const svd = randomizedSvd(tf, matrix, rank, rng)
  matrix.dispose()
  const weights = tf.tensor1d(Float32Array.from(svd.s, (s) => Math.sqrt(s) * compensation))
  const upTensor = tf.tidy(() => tf.mul(svd.u, weights))
  const downTensor = tf.tidy(() => tf.transpose(tf.mul(svd.v, weights)))
  const up = Float32Array.from(upTensor.dataSync())
  const down = Float32Array.from(downTensor.dataSync())
  tf.dispose([svd.u, svd.v, weights, upTensor, downTensor])
  if (options.clampQuantile < 1) clampToQuantile([up, down], options.clampQuantile)
  return { rank, up, down }
}

/**
 * Clamps every value of `arrays` to ±(the q-quantile of their values, linearly interpolated like
 * torch.quantile), as kohya's extract_lora_from_models does: rare large factor entries are cut, at
 * the price of a small change of the product.
 */
export function clampToQuantile(arrays: readonly Float32Array[], q: number): void {
  const all = new Float32Array(arrays.reduce((n, a) => n + a.length, 0))
  let offset = 0
  for (const a of arrays) {
    all.set(a, offset)
    offset += a.length
  }
  if (all.length === 0) return
  all.sort()
  const position = q * (all.length - 1)
  const below = Math.floor(position)
  const above = Math.min(all.length - 1, below + 1)
  const high = Math.abs(all[below]! + (position - below) * (all[above]! - all[below]!))
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) a[i] = Math.min(high, Math.max(-high, a[i]!))
  }
}
