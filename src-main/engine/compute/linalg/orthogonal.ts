import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../backend'
import { Rng } from '../rng'
import { symmetricEigen } from './symmetric-eigen'
import { orthonormalizeColumns } from './orthonormalize'
import { polarFactor } from './polar'
import { matMul, readScalar } from './tf-ops'

/**
 * Square orthogonal matrices: completing a partial isometry, the sign of a determinant, and real
 * powers R^t (the principal branch, as torch.linalg.eig-based code computes them).
 */

/**
 * eigenvalue of I − QᵀQ above which a direction of Q counts as unconverged, hence null: polarFactor
 * converges every singular value above its bound to 1 ± ~1e-7, and float32 leaves ~1e-7 in I − QᵀQ
 */
const CONVERGED_DEFECT = 1e-5

/**
 * Turns the output of polarFactor on a square, possibly rank-deficient matrix into an orthogonal
 * matrix. polarFactor leaves the directions of singular values below its bound (float32 noise, exact
 * zeros) anywhere in [0, 1): they are found as the eigenvectors V of I − QᵀQ with eigenvalue
 * > 1e-5 (a range finder and a small Jacobi, cheap since they are few), removed (Q ← Q − QVVᵀ, a
 * partial isometry U_r V_rᵀ) and filled with U₀Vᵀ, U₀ an orthonormal basis of the left complement.
 * Treating them as null is the float32 counterpart of an SVD's zero singular values: with
 * polarFactor's default bound they are below 1e-6·σ_max. Which basis fills them is arbitrary (as for
 * the singular vectors of a zero singular value); it is drawn from a fixed seed, so the result is
 * deterministic. `nullity` is the number of filled directions. `flip` negates the first filling pair
 * (same bases), which flips the sign of det R: with the filling on the smallest singular values this
 * is upstream's reflection cancelling (u[:, −1] *= −1). Accuracy: orthogonal to ~1e-6 (float32).
 */
export function completeToOrthogonal(tf: Tf, q: tfc.Tensor2D, flip = false): { r: tfc.Tensor2D; nullity: number } {
  const p = q.shape[0]
  const rng = new Rng([0x5eed, 1, 2, 3])
  const omega = (width: number): tfc.Tensor2D => tf.tensor2d(Float32Array.from({ length: p * width }, () => rng.normal()), [p, width])
  const v = unconvergedDirections(tf, q, omega)
  if (!v) return { r: tf.clone(q), nullity: 0 }
  const nullity = v.shape[1]
  const r = tf.tidy(() => {
    const isometry = tf.sub(q, matMul(tf, tf.matMul(q, v), v, false, true)) as tfc.Tensor2D
    // (I − QQᵀ)Ω without forming the p x p projector; projected twice, as the rounding of one
    // projection leaves ~√p·1e-7 of range(Q) in it (measured: RᵀR − I 9e-5 instead of 1e-5 at 320²)
    let left: tfc.Tensor2D = omega(nullity)
    for (let pass = 0; pass < 2; pass++) left = tf.sub(left, tf.matMul(isometry, matMul(tf, isometry, left, true)))
    const uBasis = orthonormalizeColumns(tf, left)
    // the unflipped filling has det(VᵀU₀) ≥ 0: where the two complements coincide (I + R at a half-turn
    // in orthogonalFractionalPower) it is then a rotation of that subspace, not a reflection whose −1
    // would make the next I + R singular again
    const reflects = determinantSign(Float64Array.from(matMul(tf, v, uBasis, true, false).dataSync()), nullity) < 0
    const signs = tf.tensor1d(Float32Array.from({ length: nullity }, (_, j) => (j === 0 && flip !== reflects ? -1 : 1)))
    const completed = tf.add(isometry, matMul(tf, tf.mul(uBasis, signs) as tfc.Tensor2D, v, false, true)) as tfc.Tensor2D
    // V is accurate to the float32 noise of D over the gap, so Q keeps a little of the removed
    // directions (RᵀR − I ~6e-5 at an exact half-turn of the fractional power): one Newton–Schulz
    // step x(3I − xᵀx)/2 squares that error
    return tf.matMul(completed, tf.sub(tf.mul(tf.eye(p), 1.5), tf.mul(matMul(tf, completed, completed, true, false), 0.5)))
  }) as tfc.Tensor2D
  v.dispose()
  return { r, nullity }
}

/**
 * Orthonormal basis (p x k, or null when k = 0) of the unconverged right singular directions of Q:
 * the eigenvectors of D = I − QᵀQ with eigenvalue > CONVERGED_DEFECT. Rayleigh–Ritz on the range of
 * [DΩ, D²Ω], widened until it holds every unconverged direction plus a margin.
 */
function unconvergedDirections(tf: Tf, q: tfc.Tensor2D, omega: (width: number) => tfc.Tensor2D): tfc.Tensor2D | null {
  const p = q.shape[1]
  const defect = tf.tidy(() => tf.sub(tf.eye(p), matMul(tf, q, q, true, false))) as tfc.Tensor2D
  try {
    const mass = readScalar(tf, () => tf.sum(tf.mul(tf.eye(p), defect)))
    for (let width = Math.min(p, Math.ceil(2 * Math.max(0, mass)) + 8); ; width = Math.min(p, 2 * width)) {
      // block Krylov [DΩ, D²Ω]: DΩ sees the small defects, D²Ω pins the large ones more accurately
      const y = tf.tidy(() => {
        const first = tf.matMul(defect, omega(width))
        return tf.concat([first, tf.matMul(defect, first)], 1)
      }) as tfc.Tensor2D
      // a low dependence threshold keeps directions with small defects (zero or noise columns are harmless)
      const w = orthonormalizeColumns(tf, y, 1e-6)
      y.dispose()
      const small = tf.tidy(() => matMul(tf, w, tf.matMul(defect, w), true, false))
      const values = small.dataSync()
      small.dispose()
      const k = w.shape[1]
      const sym = new Float64Array(k * k)
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) sym[i * k + j] = (values[i * k + j]! + values[j * k + i]!) / 2
      const eig = symmetricEigen(sym, k)
      const nulls = eig.values.filter((x) => x > CONVERGED_DEFECT).length
      // a margin of converged directions shows that the range finder caught every unconverged one
      if (nulls + 4 > width && width < p) {
        w.dispose()
        continue
      }
      if (nulls === 0) {
        w.dispose()
        return null
      }
      // eigenvalues are descending: the null directions are the first `nulls` Ritz vectors
      const vectors = Float32Array.from({ length: k * nulls }, (_, i) => eig.vectors[Math.floor(i / nulls) * k + (i % nulls)]!)
      const basis = tf.tidy(() => tf.matMul(w, tf.tensor2d(vectors, [k, nulls]))) as tfc.Tensor2D
      w.dispose()
      return basis
    }
  } finally {
    defect.dispose()
  }
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
    const { q } = polarFactor(tf, shifted, { smallestSingularValue: Math.max(2e-6, 2 * Math.cos(angle / 2)) })
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
