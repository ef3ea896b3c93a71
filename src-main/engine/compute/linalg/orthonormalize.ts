import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../backend'

/**
 * Orthonormal basis of the columns of an m x k matrix (the Q of a thin QR, column signs aside) by
 * block classical Gram–Schmidt with re-orthogonalisation ("twice is enough"): each block of columns
 * is projected off the previous blocks twice with tfjs matmuls — the O(m·k²) part, which a GPU backend
 * accelerates — and then orthonormalised within itself by modified Gram–Schmidt, also twice, in
 * float64. Columns are orthonormal to ~1e-6 in float32 whatever the conditioning.
 *
 * A column whose part not already spanned is below `dependence` (relative to its own norm) is
 * linearly dependent on the earlier ones: it comes out as a zero column, so Q keeps k columns and
 * QᵀQ is the identity except for zeros on those columns (rank = the number of non-zero columns).
 */
export function orthonormalizeColumns(tf: Tf, y: tfc.Tensor2D, dependence = 1e-4, blockSize = 32): tfc.Tensor2D {
  const [m, k] = y.shape
  const blocks: tfc.Tensor2D[] = []
  // the blocks transposed, kept alongside: wasm's matMul with transposeA is ~6x slower (tf-ops.ts)
  const transposed: tfc.Tensor2D[] = []
  try {
    for (let start = 0; start < k; start += blockSize) {
      const width = Math.min(blockSize, k - start)
      const projected = tf.tidy(() => {
        let block = tf.slice(y, [0, start], [m, width])
        if (blocks.length > 0) {
          const q = blocks.length === 1 ? blocks[0]! : tf.concat(blocks, 1)
          const qT = transposed.length === 1 ? transposed[0]! : tf.concat(transposed, 0)
          for (let pass = 0; pass < 2; pass++) block = tf.sub(block, tf.matMul(q, tf.matMul(qT, block)))
        }
        return block
      })
      const norms = tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.slice(y, [0, start], [m, width])), 0)))
      const columnNorms = norms.dataSync()
      norms.dispose()
      const values = projected.dataSync()
      projected.dispose()
      const done = tf.tensor2d(orthonormalizeBlock(values, m, width, columnNorms, dependence), [m, width])
      blocks.push(done)
      if (start + width < k) transposed.push(tf.transpose(done))
    }
    if (blocks.length === 0) return tf.zeros([m, 0])
    return blocks.length === 1 ? blocks[0]! : tf.concat(blocks, 1)
  } finally {
    if (blocks.length > 1) tf.dispose(blocks)
    tf.dispose(transposed)
  }
}

/** MGS twice on an m x w row-major block, float64; returns the block row-major in float32. */
function orthonormalizeBlock(values: ArrayLike<number>, m: number, w: number, originalNorms: ArrayLike<number>, dependence: number): Float32Array {
  const columns = Array.from({ length: w }, (_, j) => {
    const col = new Float64Array(m)
    for (let i = 0; i < m; i++) col[i] = values[i * w + j]!
    return col
  })
  for (let j = 0; j < w; j++) {
    const col = columns[j]!
    for (let pass = 0; pass < 2; pass++) {
      for (let l = 0; l < j; l++) {
        const other = columns[l]!
        let dot = 0
        for (let i = 0; i < m; i++) dot += other[i]! * col[i]!
        for (let i = 0; i < m; i++) col[i]! -= dot * other[i]!
      }
    }
    let norm = 0
    for (let i = 0; i < m; i++) norm += col[i]! * col[i]!
    norm = Math.sqrt(norm)
    const reference = originalNorms[j]!
    if (!(norm > dependence * reference) || norm === 0) col.fill(0)
    else for (let i = 0; i < m; i++) col[i]! /= norm
  }
  const out = new Float32Array(m * w)
  for (let j = 0; j < w; j++) {
    const col = columns[j]!
    for (let i = 0; i < m; i++) out[i * w + j] = col[i]!
  }
  return out
}
