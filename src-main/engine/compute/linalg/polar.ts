import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../backend'
import { matMul, readScalar } from './tf-ops'

/**
 * The orthogonal polar factor of a matrix M = U S Vᵀ, i.e. U Vᵀ (the closest matrix with orthonormal
 * columns, the solution of orthogonal Procrustes), by Newton–Schulz iteration on tfjs: only matmuls,
 * two per step, so a GPU backend runs it at full speed.
 *
 * Scaling, so that it converges and converges fast: M is first divided by sqrt(‖MᵀM‖∞), an upper
 * bound of its largest singular value (the cubic iteration needs every singular value below √3).
 * Each step then applies x ↦ (3/2)·αx − (1/2)·(αx)³ to the singular values, with α chosen (Chen &
 * Chow's scaled Newton–Schulz) so that the images of the current lower and upper bounds are equal:
 * small singular values grow by up to 2.6x per step instead of 1.5x. The lower bound starts at a guess
 * (1e-3); a smaller true singular value still grows, only more slowly.
 *
 * Accuracy: ‖QᵀQ − I‖ ~ 1e-6 (float32) on the directions of singular values above ~1e-5·σ_max.
 * Exact zero singular values stay zero, and the iteration stops once the spectrum of QᵀQ has settled
 * into {~0, 1}, so the directions of singular values that are float32 noise on a rank-deficient M end
 * near zero too: the result is then the partial isometry U_r V_rᵀ (completeToOrthogonal fills it).
 */
export interface PolarOptions {
  /** stop when a step changes Q by less than this, relative to ‖Q‖_F */
  readonly tolerance?: number
  readonly maxIterations?: number
  /** initial guess of σ_min/σ_max used by the scaling */
  readonly lowerBound?: number
}

export interface PolarResult {
  readonly q: tfc.Tensor2D
  readonly iterations: number
}

/** Σσ²(1 − σ²) per column below which the spectrum counts as settled into {0, 1} */
const SETTLED_PER_COLUMN = 1e-5

export function polarFactor(tf: Tf, m: tfc.Tensor2D, options: PolarOptions = {}): PolarResult {
  const [rows, cols] = m.shape
  if (rows < cols) {
    const t = tf.transpose(m)
    try {
      const { q, iterations } = polarFactor(tf, t, options)
      const back = tf.transpose(q)
      q.dispose()
      return { q: back, iterations }
    } finally {
      t.dispose()
    }
  }
  const tolerance = options.tolerance ?? 1e-6
  const maxIterations = options.maxIterations ?? 60
  let lower = options.lowerBound ?? 1e-3
  const g = matMul(tf, m, m, true, false)
  const bound = readScalar(tf, () => tf.max(tf.sum(tf.abs(g), 1)))
  if (!(bound > 0) || !Number.isFinite(bound)) {
    g.dispose()
    return { q: tf.zeros([rows, cols]), iterations: 0 }
  }
  let x = tf.tidy(() => tf.div(m, Math.sqrt(bound))) as tfc.Tensor2D
  let gram: tfc.Tensor2D = tf.tidy(() => tf.div(g, bound)) as tfc.Tensor2D
  g.dispose()
  let iterations = 0
  let settled = false
  for (;;) {
    iterations++
    // α equalises the images of the bounds [lower, 1]: (αl)² + (αl) α + α² = 3
    const alpha = Math.sqrt(3 / (lower * lower + lower + 1))
    const g0 = gram
    const next = tf.tidy(() => tf.add(tf.mul(x, 1.5 * alpha), tf.mul(tf.matMul(x, g0), -0.5 * alpha * alpha * alpha))) as tfc.Tensor2D
    const change = readScalar(tf, () => tf.div(tf.norm(tf.sub(next, x)), tf.norm(next)))
    tf.dispose([x, gram])
    x = next
    const al = alpha * lower
    lower = Math.min(1, 1.5 * al - 0.5 * al * al * al)
    if (settled || !(change > tolerance) || iterations >= maxIterations) break
    gram = matMul(tf, x, x, true, false)
    // Σσ²(1 − σ²) = trace(G) − ‖G‖²_F: once every σ is ~1 or ~0, one more step finishes the converged
    // ones; the near-zero ones (noise on a rank-deficient M) would need dozens more for nothing.
    // Summed elementwise (G_ii − G_ii², −G_ij²) so the float32 sum holds only small terms.
    const g1 = gram
    settled = lower > 0.5 && readScalar(tf, () => tf.sum(tf.sub(tf.mul(tf.eye(cols), g1), tf.square(g1)))) < SETTLED_PER_COLUMN * cols
  }
  return { q: x, iterations }
}
