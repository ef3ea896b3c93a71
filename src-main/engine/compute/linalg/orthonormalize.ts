import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../backend'
import { matMul } from './tf-ops'

/**
 * Orthonormal basis of the rows of a k x m matrix (the Qᵀ of a thin QR of its transpose, signs
 * aside) by block classical Gram–Schmidt with re-orthogonalisation ("twice is enough"): each block of
 * rows is projected off the finished rows twice with matrix products — the O(k²·m) part, which the
 * native kernel or a GPU backend takes — and then orthonormalised within itself by modified
 * Gram–Schmidt, also twice, in float64. Rows come out orthonormal to ~1e-6 in float32 whatever the
 * conditioning.
 *
 * A row whose part not already spanned is below `dependence` (relative to its own norm) is linearly
 * dependent on the earlier ones: it comes out as a zero row, so the result keeps k rows and QQᵀ is the
 * identity except for zeros on those rows (rank = the number of non-zero rows).
 *
 * Rows, not columns, because blocks of rows are contiguous: the matrix is read once and the finished
 * rows grow in one buffer (tfjs's wasm slice and column concat copy the whole tensor every time).
 */
export function orthonormalizeRows(tf: Tf, x: tfc.Tensor2D, dependence = 1e-4, blockSize = 32): tfc.Tensor2D {
  const [k, m] = x.shape
  const values = x.dataSync()
  const done = new Float32Array(k * m)
  for (let start = 0; start < k; start += blockSize) {
    const width = Math.min(blockSize, k - start)
    let block = tf.tensor2d(values.subarray(start * m, (start + width) * m), [width, m])
    if (start > 0) {
      const finished = tf.tensor2d(done.subarray(0, start * m), [start, m])
      const previous = block
      block = tf.tidy(() => {
        let b: tfc.Tensor2D = previous
        for (let pass = 0; pass < 2; pass++) b = tf.sub(b, tf.matMul(matMul(tf, b, finished, false, true), finished))
        return b
      })
      tf.dispose([finished, previous])
    }
    const projected = block.dataSync()
    block.dispose()
    done.set(orthonormalizeBlock(projected, values.subarray(start * m, (start + width) * m), width, m, dependence), start * m)
  }
  return tf.tensor2d(done, [k, m])
}

/** The columns of an m x k matrix orthonormalised (orthonormalizeRows of its transpose, transposed back). */
export function orthonormalizeColumns(tf: Tf, y: tfc.Tensor2D, dependence = 1e-4, blockSize = 32): tfc.Tensor2D {
  const rows = tf.transpose(y)
  const q = orthonormalizeRows(tf, rows, dependence, blockSize)
  rows.dispose()
  const columns = tf.transpose(q)
  q.dispose()
  return columns
}

/** MGS twice on the w rows (length m, contiguous) of a block, in float64; returns them in float32. */
function orthonormalizeBlock(projected: ArrayLike<number>, original: ArrayLike<number>, w: number, m: number, dependence: number): Float32Array {
  const rows: Float64Array[] = []
  for (let r = 0; r < w; r++) {
    const row = new Float64Array(m)
    for (let i = 0; i < m; i++) row[i] = projected[r * m + i]!
    rows.push(row)
  }
  const out = new Float32Array(w * m)
  for (let r = 0; r < w; r++) {
    const row = rows[r]!
    for (let pass = 0; pass < 2; pass++) {
      for (let l = 0; l < r; l++) {
        const other = rows[l]!
        const d = dot(other, row)
        for (let i = 0; i < m; i++) row[i]! -= d * other[i]!
      }
    }
    let reference = 0
    for (let i = 0; i < m; i++) reference += original[r * m + i]! * original[r * m + i]!
    const norm = Math.sqrt(dot(row, row))
    if (!(norm > dependence * Math.sqrt(reference)) || norm === 0) row.fill(0)
    else for (let i = 0; i < m; i++) row[i]! /= norm
    out.set(row, r * m)
  }
  return out
}

/** four partial sums: a single running sum is one long chain of dependent additions */
function dot(a: Float64Array, b: Float64Array): number {
  const m = a.length
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let i = 0
  for (; i + 3 < m; i += 4) {
    s0 += a[i]! * b[i]!
    s1 += a[i + 1]! * b[i + 1]!
    s2 += a[i + 2]! * b[i + 2]!
    s3 += a[i + 3]! * b[i + 3]!
  }
  for (; i < m; i++) s0 += a[i]! * b[i]!
  return s0 + s1 + s2 + s3
}
