import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../backend'
import { matMul } from './tf-ops'
import type { Rng } from '../rng'
import { orthonormalizeColumns } from './orthonormalize'
import { symmetricEigen } from './symmetric-eigen'

/**
 * Truncated SVD A ≈ U diag(s) Vᵀ of an m x n matrix by the randomized range finder (Halko, Martinsson
 * & Tropp): Q = orth(A·Ω) with Ω Gaussian n x (rank + oversampling), refined by power iterations
 * Q ← orth(A·orth(Aᵀ·Q)) (each re-orthonormalised, so small singular values are not lost in float32),
 * then the exact SVD of the small projection B = QᵀA. All products with A are tfjs matmuls; the small
 * SVD uses the float64 Gram matrix B·Bᵀ and Jacobi (smallSvdFromGram).
 *
 * Accuracy: exact (to float32 rounding, ~1e-6 relative to σ₁) when rank(A) ≤ rank + oversampling or
 * when rank + oversampling ≥ min(m, n); otherwise the error of the rank-r result is within a small
 * factor of the optimal σ_{r+1}, the factor shrinking fast with the power iterations (2 give results
 * indistinguishable from the exact SVD for the gently decaying spectra of weight deltas). Singular
 * values below ~1e-4·σ₁ (float32 range-finder resolution) are approximate; for zero singular values
 * the columns of v are zero and those of u arbitrary (they are multiplied by zero in U·diag(s)·Vᵀ).
 */
export interface RandomizedSvdOptions {
  readonly oversampling?: number
  readonly powerIterations?: number
}

export interface TruncatedSvd {
  /** m x r, orthonormal columns */
  readonly u: tfc.Tensor2D
  /** r singular values, descending */
  readonly s: Float64Array
  /** n x r, orthonormal columns */
  readonly v: tfc.Tensor2D
}

export function randomizedSvd(tf: Tf, a: tfc.Tensor2D, rank: number, rng: Rng, options: RandomizedSvdOptions = {}): TruncatedSvd {
  const [m, n] = a.shape
  if (m < n) {
    const at = tf.transpose(a)
    try {
      const { u, s, v } = randomizedSvd(tf, at, rank, rng, options)
      return { u: v, s, v: u }
    } finally {
      at.dispose()
    }
  }
  const r = Math.max(0, Math.min(rank, n))
  const k = Math.min(n, r + (options.oversampling ?? 8))
  const powerIterations = options.powerIterations ?? 2
  const omega = tf.tensor2d(Float32Array.from({ length: n * k }, () => rng.normal()), [n, k])
  let q = orthonormalizeAfter(tf, () => tf.matMul(a, omega))
  omega.dispose()
  for (let i = 0; i < powerIterations; i++) {
    const current = q
    const z = orthonormalizeAfter(tf, () => matMul(tf, a, current, true, false))
    q.dispose()
    q = orthonormalizeAfter(tf, () => tf.matMul(a, z))
    z.dispose()
  }
  // B = QᵀA is k x n; its SVD B = W Σ Yᵀ gives A ≈ (QW) Σ Yᵀ
  const bt = matMul(tf, a, q, true, false) as tfc.Tensor2D
  const { values, vectors } = smallSvdFromGram(bt.dataSync(), n, k)
  const s = values.subarray(0, r)
  const result = tf.tidy(() => {
    const w = tf.slice(tf.tensor2d(Float32Array.from(vectors), [k, k]), [0, 0], [k, r])
    const inverse = tf.tensor1d(Float32Array.from(s, (x) => (x > 0 ? 1 / x : 0)))
    return { u: tf.matMul(q, w) as tfc.Tensor2D, v: tf.mul(tf.matMul(bt, w), inverse) as tfc.Tensor2D }
  })
  tf.dispose([q, bt])
  return { u: result.u, s: Float64Array.from(s), v: result.v }
}

function orthonormalizeAfter(tf: Tf, product: () => tfc.Tensor): tfc.Tensor2D {
  const y = tf.tidy(product) as tfc.Tensor2D
  try {
    return orthonormalizeColumns(tf, y)
  } finally {
    y.dispose()
  }
}

/**
 * Singular values (descending) and left singular vectors (k x k, columns) of the k x n matrix B given
 * as Bᵀ (n x k row-major): eigendecomposition of the float64 Gram matrix B·Bᵀ. Squaring costs relative
 * accuracy only for σ below ~1e-8·σ₁, far under float32 resolution.
 */
export function smallSvdFromGram(bt: ArrayLike<number>, n: number, k: number): { values: Float64Array; vectors: Float64Array } {
  const gram = new Float64Array(k * k)
  const row = new Float64Array(k)
  for (let l = 0; l < n; l++) {
    for (let i = 0; i < k; i++) row[i] = bt[l * k + i]!
    for (let i = 0; i < k; i++) {
      const x = row[i]!
      if (x === 0) continue
      for (let j = i; j < k; j++) gram[i * k + j]! += x * row[j]!
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) gram[i * k + j] = gram[j * k + i]!
  const { values, vectors } = symmetricEigen(gram, k)
  return { values: values.map((x) => Math.sqrt(Math.max(0, x))), vectors }
}
