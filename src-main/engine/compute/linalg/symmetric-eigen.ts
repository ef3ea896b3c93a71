/**
 * Symmetric eigendecomposition by cyclic Jacobi rotations in float64 (JavaScript, not tfjs): tfjs has
 * no eigensolver, and Jacobi is the simplest method that is accurate to the last bits — every
 * eigenvalue within a few ε64·‖A‖₂ of the exact one, eigenvectors orthonormal to ~1e-14·√n. It costs
 * about 6n³ flops per sweep and 6–10 sweeps, so it is meant for matrices up to a few hundred rows
 * (Gram matrices of a randomized SVD); 1280 rows take tens of seconds.
 */

export interface SymmetricEigen {
  /** eigenvalues in descending order */
  readonly values: Float64Array
  /** eigenvectors as the columns of an n x n row-major matrix, in the order of `values` */
  readonly vectors: Float64Array
}

const MAX_SWEEPS = 50

/** Eigenvalues and eigenvectors of the symmetric n x n row-major matrix `a` (only read, never modified). */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  if (a.length !== n * n) throw new Error(`symmetricEigen: expected ${n * n} values for ${n} x ${n}, got ${a.length}`)
  const m = a.slice()
  // rows of vt are the eigenvectors: rotations then update two contiguous rows
  const vt = new Float64Array(n * n)
  for (let i = 0; i < n; i++) vt[i * n + i] = 1
  let scale = 0
  for (let i = 0; i < m.length; i++) scale += m[i]! * m[i]!
  const tiny = 1e-300
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q]! * m[p * n + q]!
    if (off <= 1e-32 * scale || off < tiny) break
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!
        if (apq === 0) continue
        const app = m[p * n + p]!
        const aqq = m[q * n + q]!
        // skip when a_pq is below the precision of both diagonal entries (no effect left to remove)
        if (Math.abs(apq) < 1e-18 * Math.sqrt(Math.abs(app * aqq)) && sweep > 2) {
          m[p * n + q] = 0
          m[q * n + p] = 0
          continue
        }
        const theta = (aqq - app) / (2 * apq)
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        rotate(m, vt, n, p, q, c, s)
        m[p * n + p] = app - t * apq
        m[q * n + q] = aqq + t * apq
        m[p * n + q] = 0
        m[q * n + p] = 0
      }
    }
  }
  return sortDescending(m, vt, n)
}

function rotate(m: Float64Array, vt: Float64Array, n: number, p: number, q: number, c: number, s: number): void {
  const rp = p * n
  const rq = q * n
  for (let k = 0; k < n; k++) {
    if (k === p || k === q) continue
    const akp = m[rp + k]!
    const akq = m[rq + k]!
    const np = c * akp - s * akq
    const nq = s * akp + c * akq
    m[rp + k] = np
    m[k * n + p] = np
    m[rq + k] = nq
    m[k * n + q] = nq
  }
  for (let k = 0; k < n; k++) {
    const vp = vt[rp + k]!
    const vq = vt[rq + k]!
    vt[rp + k] = c * vp - s * vq
    vt[rq + k] = s * vp + c * vq
  }
}

function sortDescending(m: Float64Array, vt: Float64Array, n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j]! - m[i * n + i]!)
  const values = new Float64Array(n)
  const vectors = new Float64Array(n * n)
  order.forEach((src, dst) => {
    values[dst] = m[src * n + src]!
    for (let k = 0; k < n; k++) vectors[k * n + dst] = vt[src * n + k]!
  })
  return { values, vectors }
}
