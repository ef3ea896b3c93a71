import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../compute/backend'
import { matMul } from '../compute/linalg/tf-ops'
import { lerp } from '../compute/lerp'
import { orthonormalizeRows } from '../compute/linalg/orthonormalize'
import {
  completeToOrthogonal,
  determinantSign,
  orthogonalFractionalPower,
  orthogonalIntegerPower,
} from '../compute/linalg/orthogonal'
import { polarFactor } from '../compute/linalg/polar'
import { smallestEigenvector } from '../compute/linalg/smallest-eigenvector'
import { symmetricEigen } from '../compute/linalg/symmetric-eigen'
import { decodeToFloat32, encodeFromFloat32 } from '../formats/codecs'
import { passThrough } from './kernel-helpers'
import { defineMethod, type KernelContext } from './types'

/*
 * sd-mecha's rotate (METHODS.md §8.4): rotates A's neurons (rows of the 2-D view, centred) onto B's by
 * the orthogonal Procrustes solution R = polar(A'ᵀB'), applies a fraction of it (R^alignment) and
 * optionally first moves A towards B's neurons brought back into A's frame (alpha).
 */

export const rotate = defineMethod({
  id: 'rotate',
  aliases: [],
  label: 'Rotate (orthogonal Procrustes)',
  description:
    "Aligns A's neurons with B's before (or instead of) interpolating: each weight matrix's rows are centred and A is rotated by the orthogonal matrix that best maps its rows onto B's (orthogonal Procrustes). alignment is how much of that rotation is applied (0 = none, 1 = full, fractions follow the rotation's geodesic); alpha interpolates A towards B expressed in A's frame before rotating. alignment = alpha = 0 gives A, both 1 give B. With a base C it works on the differences A − C and B − C and adds C back. Useful to merge models whose features are permuted or rotated versions of each other. Costly: one matrix factorisation per key (fractional alignment is the slowest).",
  reference: 'sd-mecha sd_mecha/extensions/builtin/merge_methods/svd.py (rotate)',
  inputs: {
    min: 2,
    max: 2,
    base: 'optional',
    roles: ['model a (rotated)', 'model b (the target of the rotation)'],
    baseRole: 'c, optional: work on differences from it',
  },
  params: {
    alignment: {
      type: 'number',
      label: 'alignment',
      description: 'Fraction of the rotation applied to A: 0 = none, 1 = full; fractions and values outside [0, 1] use the real matrix power R^alignment.',
      default: 1,
      ui: { min: -1, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    alpha: {
      type: 'number',
      label: 'alpha',
      description: "Interpolation from A's neurons (0) to B's neurons rotated back into A's frame (1), before the rotation.",
      default: 0,
      ui: { min: -1, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    centralization: {
      type: 'number',
      label: 'centralization',
      description: "How much of each matrix's mean row is removed before aligning (1 = rotate about the centroid, 0 = about the origin); the centroid is interpolated by alignment.",
      default: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['L'],
  randomness: 'deterministic',
  chunked: false,
  memoryFactor: 8,
  kernel(ctx) {
    const { alignment, alpha } = ctx.params
    const [inA, inB] = [ctx.inputs[0]!, ctx.inputs[1]!]
    if (isClose(alignment, 0) && isClose(alpha, 0)) return passThrough(ctx, inA)
    if (isClose(alignment, 1) && isClose(alpha, 1)) return passThrough(ctx, inB)
    const a = inA.readAll()
    const b = inB.readAll()
    const c = ctx.base ? ctx.base.readAll() : null
    if (c) {
      for (let i = 0; i < a.length; i++) {
        a[i]! -= c[i]!
        b[i]! -= c[i]!
      }
    }
    const out = ctx.shape.length <= 1 || allCloseAsHalf(a, b) ? lerpArrays(a, b, alpha) : rotateMatrix(ctx, a, b)
    if (c) for (let i = 0; i < out.length; i++) out[i]! += c[i]!
    ctx.out.write(0, out)
  },
})

type RotateContext = KernelContext<{ readonly alignment: number; readonly alpha: number; readonly centralization: number }>

function rotateMatrix(ctx: RotateContext, a: Float32Array, b: Float32Array): Float32Array {
  const { tf, shape } = ctx
  const { alignment, alpha, centralization } = ctx.params
  // conv kernels larger than 1x1 are seen as (out·in, kh·kw): each kernel tap is a neuron coordinate
  const isConv = shape.length === 4 && shape[2]! * shape[3]! !== 1
  const n = isConv ? shape[0]! * shape[1]! : ctx.rows
  const p = isConv ? shape[2]! * shape[3]! : ctx.rowLength
  const muA = centre(a, n, p, centralization)
  const muB = centre(b, n, p, centralization)
  const centroid = Float32Array.from(muA, (m, j) => lerp(m, muB[j]!, alignment))
  if (n >= p) return rotateTall(ctx, a, b, n, p, centroid)
  const xa = tf.tensor2d(a, [n, p])
  const xb = tf.tensor2d(b, [n, p])
  const transform = lowRankTransform(tf, xa, xb)
  try {
    const result = tf.tidy(() => {
      let x: tfc.Tensor2D = xa
      if (!isClose(alpha, 0)) x = tfLerp(tf, x, transform.apply(xb, -1), alpha)
      return tf.add(transform.apply(x, alignment), tf.tensor1d(centroid))
    })
    const values = result.dataSync() as Float32Array
    result.dispose()
    return values
  } finally {
    transform.dispose()
    tf.dispose([xa, xb])
  }
}

/**
 * Rows per slice of a tall matrix: every step of the tall case is row by row except A'ᵀB', which is a
 * sum over rows, so the tensors stay this size (4 Mi elements) while conv kernels seen as
 * (out·in, kh·kw) reach 3.3 M rows — the wasm heap never shrinks, so its peak is what the process keeps.
 */
const TALL_SLICE_ELEMENTS = 1 << 22

/** Tall case (rows n ≥ cols p) in slices of rows: R from Σ slicesᵀ·slices, then each slice rotated. */
function rotateTall(ctx: RotateContext, a: Float32Array, b: Float32Array, n: number, p: number, centroid: Float32Array): Float32Array {
  const { tf } = ctx
  const { alignment, alpha } = ctx.params
  const rows = Math.max(1, Math.floor(TALL_SLICE_ELEMENTS / p))
  const slice = (x: Float32Array, start: number): tfc.Tensor2D => {
    const end = Math.min(n, start + rows)
    return tf.tensor2d(x.subarray(start * p, end * p), [end - start, p])
  }
  let m: tfc.Tensor2D = tf.zeros([p, p])
  for (let start = 0; start < n; start += rows) {
    const previous = m
    m = tf.tidy(() => tf.add(previous, matMul(tf, slice(a, start), slice(b, start), true, false)))
    previous.dispose()
  }
  const r = procrustesRotation(ctx, m, !isClose(alignment, Math.round(alignment)))
  const back = isClose(alpha, 0) ? null : rotationPower(tf, r, -1)
  const forward = rotationPower(tf, r, alignment)
  r.dispose()
  try {
    const out = new Float32Array(n * p)
    for (let start = 0; start < n; start += rows) {
      const result = tf.tidy(() => {
        let x = slice(a, start)
        if (back) x = tfLerp(tf, x, tf.matMul(slice(b, start), back), alpha)
        return tf.add(forward ? tf.matMul(x, forward) : x, tf.tensor1d(centroid))
      })
      out.set(result.dataSync(), start * p)
      result.dispose()
    }
    return out
  } finally {
    tf.dispose([back, forward].filter((t) => t !== null))
  }
}

/** R^t for the key's rotation R (null for t = 0: the identity) */
function rotationPower(tf: Tf, r: tfc.Tensor2D, t: number): tfc.Tensor2D | null {
  if (isClose(t, 0)) return null
  return isClose(t, Math.round(t)) ? orthogonalIntegerPower(tf, r, Math.round(t)) : orthogonalFractionalPower(tf, r, t)
}

/** x ↦ x·T^t for the key's alignment transform T (row vectors, as upstream) */
interface Transform {
  apply(x: tfc.Tensor2D, t: number): tfc.Tensor2D
  dispose(): void
}

/**
 * R = UVᵀ from M = A'ᵀB' = USVᵀ (tall case), an orthogonal p x p matrix; disposes M. For a fractional
 * alignment a reflection (det R = −1) is cancelled as upstream does, by flipping the singular pair of
 * the smallest singular value, so that R has a real principal power.
 */
function procrustesRotation(ctx: RotateContext, m: tfc.Tensor2D, fractional: boolean): tfc.Tensor2D {
  const { tf } = ctx
  const polar = polarFactor(tf, m)
  const completion = completeToOrthogonal(tf, polar.q)
  let r = completion.r
  if (fractional && determinantSign(Float64Array.from(r.dataSync()), m.shape[0]) < 0) {
    // the smallest singular values are the zero ones when there is a completion: flip it (cheap);
    // otherwise find the smallest singular direction (inverse iteration in JavaScript)
    const reflected = r
    r = completion.nullity > 0 ? completeToOrthogonal(tf, polar.q, true).r : cancelReflection(tf, reflected, m)
    reflected.dispose()
  }
  polar.q.dispose()
  m.dispose()
  return r
}

/** R − 2(Rv)vᵀ with v the eigenvector of the smallest eigenvalue of RᵀM = V S Vᵀ (upstream: u[:, −1] *= −1) */
function cancelReflection(tf: Tf, r: tfc.Tensor2D, m: tfc.Tensor2D): tfc.Tensor2D {
  const p = r.shape[0]
  const h = matMul(tf, r, m, true, false)
  const values = h.dataSync()
  h.dispose()
  const sym = new Float64Array(p * p)
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) sym[i * p + j] = (values[i * p + j]! + values[j * p + i]!) / 2
  // inverse iteration (about a second at p = 1280); Jacobi only when RᵀM is numerically singular
  const smallest = smallestEigenvector(sym, p)
  const v = smallest ? Float32Array.from(smallest) : smallestByJacobi(sym, p)
  return tf.tidy(() => {
    const column = tf.tensor2d(v, [p, 1])
    return tf.sub(r, tf.mul(matMul(tf, tf.matMul(r, column), column, false, true), 2)) as tfc.Tensor2D
  })
}

function smallestByJacobi(sym: Float64Array, p: number): Float32Array {
  const { vectors } = symmetricEigen(sym, p)
  return Float32Array.from({ length: p }, (_, i) => vectors[i * p + p - 1]!)
}

/**
 * Wide case (rows n < cols p): A'ᵀB' has rank ≤ n, so upstream keeps its rank-n SVD u s vh and uses
 * x ↦ x − x·vhᵀvh + x·u·(vh·u)^{t−1}·vh (identity off B's row space). Here u·vh is computed in the
 * n-dimensional bases QA, QB of the two row spaces: u = QA·polar((A'QA)ᵀ(B'QB)), vh = QBᵀ.
 * Fractional t: upstream follows the Stiefel geodesic from vhᵀ to u (iterative log/exp); this uses
 * the polar retraction polar((1 − t)·vhᵀ + t·u) of the straight line instead (same end points).
 */
function lowRankTransform(tf: Tf, xa: tfc.Tensor2D, xb: tfc.Tensor2D): Transform {
  const qa = orthonormalBasisOfRows(tf, xa)
  const qb = orthonormalBasisOfRows(tf, xb)
  const core = tf.tidy(() => matMul(tf, tf.matMul(xa, qa), tf.matMul(xb, qb), true, false)) as tfc.Tensor2D
  const polar = polarFactor(tf, core)
  const u = tf.matMul(qa, polar.q) as tfc.Tensor2D
  tf.dispose([qa, core, polar.q])
  return {
    apply(x, t) {
      if (isClose(t, 0)) return tf.clone(x)
      return tf.tidy(() => {
        const xProj = tf.sub(x, matMul(tf, tf.matMul(x, qb), qb, false, true))
        const k = Math.round(t)
        if (!isClose(t, k)) {
          const line = tf.add(tf.mul(qb, 1 - t), tf.mul(u, t)) as tfc.Tensor2D
          const { q: ut } = polarFactor(tf, line)
          return tf.add(xProj, matMul(tf, tf.matMul(x, ut), qb, false, true)) as tfc.Tensor2D
        }
        // t > 0: x·u·(vh·u)^{t−1}·vh; t < 0: x·vhᵀ·(uᵀ·vhᵀ)^{|t|−1}·uᵀ
        const [first, last] = k > 0 ? [u, qb] : [qb, u]
        let y = tf.matMul(x, first) as tfc.Tensor2D
        const step = matMul(tf, last, first, true, false)
        for (let i = 1; i < Math.abs(k); i++) y = tf.matMul(y, step) as tfc.Tensor2D
        return tf.add(xProj, matMul(tf, y, last, false, true)) as tfc.Tensor2D
      })
    },
    dispose: () => tf.dispose([u, qb]),
  }
}

/** p x n orthonormal basis of the row space of an n x p matrix (zero columns for dependent rows) */
function orthonormalBasisOfRows(tf: Tf, x: tfc.Tensor2D): tfc.Tensor2D {
  const rows = orthonormalizeRows(tf, x)
  try {
    return tf.transpose(rows)
  } finally {
    rows.dispose()
  }
}

/** removes centralization × the mean row from an n x p row-major matrix in place; returns that centroid */
function centre(x: Float32Array, n: number, p: number, centralization: number): Float64Array {
  const mean = new Float64Array(p)
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) mean[j]! += x[i * p + j]!
  for (let j = 0; j < p; j++) mean[j] = Math.fround((mean[j]! / n) * centralization)
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) x[i * p + j]! -= mean[j]!
  return mean
}

function tfLerp(tf: Tf, x: tfc.Tensor2D, y: tfc.Tensor2D, w: number): tfc.Tensor2D {
  return (Math.abs(w) < 0.5 ? tf.add(x, tf.mul(tf.sub(y, x), w)) : tf.sub(y, tf.mul(tf.sub(y, x), 1 - w))) as tfc.Tensor2D
}

function lerpArrays(a: Float32Array, b: Float32Array, w: number): Float32Array {
  return Float32Array.from(a, (x, i) => lerp(x, b[i]!, w))
}

/** torch.allclose(a.half(), b.half()): |a − b| ≤ 1e-8 + 1e-5·|b| on values rounded to float16 */
function allCloseAsHalf(a: Float32Array, b: Float32Array): boolean {
  const ha = decodeToFloat32('F16', encodeFromFloat32('F16', a))
  const hb = decodeToFloat32('F16', encodeFromFloat32('F16', b))
  for (let i = 0; i < ha.length; i++) {
    const x = ha[i]!
    const y = hb[i]!
    if (x === y) continue
    if (!(Math.abs(x - y) <= 1e-8 + 1e-5 * Math.abs(y))) return false
  }
  return true
}

/** Python's math.isclose with its defaults (relative 1e-9, no absolute tolerance): 0 matches only 0 */
function isClose(x: number, y: number): boolean {
  return x === y || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y))
}
