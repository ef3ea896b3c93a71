import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../backend'
import { Rng } from '../rng'
import { orthonormalizeColumns } from './orthonormalize'
import { polarFactor } from './polar'
import { matMul, readScalar } from './tf-ops'

/**
 * Square orthogonal matrices: completing a partial isometry, the sign of a determinant, and real
 * powers R^t (the principal branch, as torch.linalg.eig-based code computes them).
 */

/**
 * Turns a square partial isometry Q (a polar factor U_r V_rᵀ of a rank-r matrix, the output of
 * polarFactor) into an orthogonal matrix Q + U₀V₀ᵀ, where U₀ and V₀ are orthonormal bases of the left
 * and right complements. Which bases is arbitrary (as for the singular vectors of a zero singular
 * value in an SVD); they are drawn from a fixed seed, so the result is deterministic. `nullity` is
 * p − r. `flip` negates the first completing pair (same bases), which flips the sign of det R: with
 * the completion on the zero singular values this is upstream's reflection cancelling (u[:, −1] *= −1).
 * Accuracy: orthogonal to ~1e-6 (float32).
 */
export function completeToOrthogonal(tf: Tf, q: tfc.Tensor2D, flip = false): { r: tfc.Tensor2D; nullity: number } {
  const p = q.shape[0]
  const trace = readScalar(tf, () => tf.sum(tf.square(q)))
  const nullity = Math.round(p - trace)
  if (nullity <= 0) return { r: tf.clone(q), nullity: 0 }
  const rng = new Rng([0x5eed, 1, 2, 3])
  const omega = (): tfc.Tensor2D => tf.tensor2d(Float32Array.from({ length: p * nullity }, () => rng.normal()), [p, nullity])
  // (I − QQᵀ)Ω and (I − QᵀQ)Ω without forming the p x p projectors
  const [u0, v0] = tf.tidy(() => {
    const left = omega()
    const right = omega()
    return [tf.sub(left, tf.matMul(q, matMul(tf, q, left, true))), tf.sub(right, matMul(tf, q, tf.matMul(q, right), true))]
  })
  const uBasis = orthonormalizeColumns(tf, u0)
  const vBasis = orthonormalizeColumns(tf, v0)
  const completed = tf.tidy(() => {
    const signs = tf.tensor1d(Float32Array.from({ length: nullity }, (_, j) => (flip && j === 0 ? -1 : 1)))
    return tf.add(q, matMul(tf, tf.mul(uBasis, signs) as tfc.Tensor2D, vBasis, false, true))
  }) as tfc.Tensor2D
  tf.dispose([u0, v0, uBasis, vBasis])
  // the complement directions came from a nearly-converged iteration: a few more steps settle them
  const { q: r } = polarFactor(tf, completed, { lowerBound: 0.5 })
  completed.dispose()
  return { r, nullity }
}

/** Sign of det(A) (−1, 0 or 1) for an n x n row-major float64 matrix, by LU with partial pivoting. */
export function determinantSign(a: Float64Array, n: number): number {
  const m = a.slice()
  let sign = 1
  for (let k = 0; k < n; k++) {
    let pivot = k
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]!) > Math.abs(m[pivot * n + k]!)) pivot = i
    const value = m[pivot * n + k]!
    if (value === 0) return 0
    if (pivot !== k) {
      for (let j = 0; j < n; j++) {
        const t = m[k * n + j]!
        m[k * n + j] = m[pivot * n + j]!
        m[pivot * n + j] = t
      }
      sign = -sign
    }
    if (value < 0) sign = -sign
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k]! / value
      if (f === 0) continue
      for (let j = k + 1; j < n; j++) m[i * n + j]! -= f * m[k * n + j]!
    }
  }
  return sign
}

/** R^t for an integer t (R^{-1} = Rᵀ), by repeated multiplication: |t| − 1 matmuls. */
export function orthogonalIntegerPower(tf: Tf, r: tfc.Tensor2D, t: number): tfc.Tensor2D {
  if (t === 0) return tf.eye(r.shape[0])
  return tf.tidy(() => {
    const base = t > 0 ? r : (tf.transpose(r) as tfc.Tensor2D)
    let out = base
    for (let i = 1; i < Math.abs(t); i++) out = tf.matMul(out, base)
    return tf.clone(out)
  })
}

/** rotation angle up to which the logarithm's series is used (its terms then fall ~30x each) */
const SMALL_ANGLE = 0.25
const MAX_HALVINGS = 24
/** terms of θ/sin θ = Σ c_n (1 − cos θ)^n, c_n = c_{n−1}·n/(2n + 1): 6 give 1e-11 at SMALL_ANGLE */
const LOG_TERMS = 6
/** Taylor degree of exp on skew matrices scaled to norm ≤ SMALL_ANGLE (error ~1e-11) */
const EXP_DEGREE = 8

/**
 * R^t for an orthogonal p x p R and any real t: the principal power exp(t·log R), with matmuls only
 * (inverse scaling and squaring), so a GPU backend runs it at full speed:
 * 1. square roots R ← polar(I + R) (the principal root of a rotation: I + R has the eigenvalues
 *    2cos(θ/2)·e^{iθ/2}) until every rotation angle is ≤ 0.25 rad, the angle bounded by
 *    ‖2(I − S)‖∞ ≥ max 4sin²(θ/2), S = (R + Rᵀ)/2;
 * 2. log R = K·acos(S)/sqrt(1 − S²) with K = (R − Rᵀ)/2, the scalar function as a series in I − S
 *    (R is normal, so S and K commute and act on each rotation plane as cos θ and sin θ·J);
 * 3. exp(t·2^k·log R_k) by Taylor on a scaled copy and repeated squaring.
 * Accuracy ~1e-5 (float32, the square roots' errors grow 2x per halving). Angle π (eigenvalue −1)
 * has no principal root: the first root is completed there by an arbitrary orthogonal map of that
 * plane (completeToOrthogonal), so the result stays orthogonal but is no power of R on that plane
 * (eig-based code keeps the real part cos(πt) of e^{iπt}, not orthogonal either way). Rotate cancels
 * single reflections first, so this needs an exact half-turn, which float weights do not produce.
 */
export function orthogonalFractionalPower(tf: Tf, r: tfc.Tensor2D, t: number): tfc.Tensor2D {
  const p = r.shape[0]
  let root = tf.clone(r)
  let halvings = 0
  for (let angle = angleBound(tf, root); halvings < MAX_HALVINGS && angle > SMALL_ANGLE; angle = angleBound(tf, root)) {
    const current = root
    const shifted = tf.tidy(() => tf.add(current, tf.eye(p))) as tfc.Tensor2D
    // the singular values of I + R are 2cos(θ/2): a known lower bound makes the iteration's scaling exact
    const { q } = polarFactor(tf, shifted, { lowerBound: Math.max(1e-3, Math.cos(angle / 2) / 2), tolerance: 1e-7 })
    root = completeToOrthogonal(tf, q).r
    tf.dispose([current, shifted, q])
    halvings++
  }
  const scale = t * 2 ** halvings
  const squarings = Math.max(0, Math.ceil(Math.log2(Math.abs(scale) + 1e-300)))
  const result = tf.tidy(() => {
    const rootT = tf.transpose(root)
    const y = tf.sub(tf.eye(p), tf.div(tf.add(root, rootT), 2)) as tfc.Tensor2D
    const skew = tf.div(tf.sub(root, rootT), 2) as tfc.Tensor2D
    // θ/sin θ as a polynomial in y = I − S (Horner)
    const coefficients = [1]
    for (let n = 1; n < LOG_TERMS; n++) coefficients.push((coefficients[n - 1]! * n) / (2 * n + 1))
    let f: tfc.Tensor2D = tf.mul(tf.eye(p), coefficients[LOG_TERMS - 1]!)
    for (let n = LOG_TERMS - 2; n >= 0; n--) f = tf.add(tf.matMul(f, y), tf.mul(tf.eye(p), coefficients[n]!)) as tfc.Tensor2D
    const x = tf.mul(tf.matMul(skew, f), scale / 2 ** squarings) as tfc.Tensor2D
    // exp(x) = I + x(I + x/2(I + x/3(...))) (Horner), then squared back
    let e: tfc.Tensor2D = tf.eye(p)
    for (let n = EXP_DEGREE; n >= 1; n--) e = tf.add(tf.eye(p), tf.div(tf.matMul(x, e), n)) as tfc.Tensor2D
    for (let i = 0; i < squarings; i++) e = tf.matMul(e, e)
    return e
  })
  root.dispose()
  return result
}

/** an upper bound of the largest rotation angle of an orthogonal R, from ‖2(I − S)‖∞ ≥ 4sin²(θ/2) */
function angleBound(tf: Tf, r: tfc.Tensor2D): number {
  const bound = readScalar(tf, () => tf.max(tf.sum(tf.abs(tf.sub(tf.mul(tf.eye(r.shape[0]), 2), tf.add(r, tf.transpose(r)))), 1)))
  return bound >= 4 ? Math.PI : 2 * Math.asin(Math.sqrt(bound) / 2)
}
