import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../backend'
import { nativeMatMulActive } from '../native-matmul'

/** Computes a scalar with tfjs and returns it as a number, freeing every tensor involved. */
export function readScalar(tf: Tf, fn: () => tfc.Tensor): number {
  const t = tf.tidy(fn)
  try {
    return t.dataSync()[0]!
  } finally {
    t.dispose()
  }
}

/**
 * a·b with either factor transposed. On tfjs's own wasm kernel the transposes are materialised on
 * purpose: its matMul with transposeA/transposeB set is about 6x slower than a transpose followed by a
 * plain matMul. The native kernel reads transposed operands while packing them, at no extra cost.
 */
export function matMul(tf: Tf, a: tfc.Tensor2D, b: tfc.Tensor2D, transposeA = false, transposeB = false): tfc.Tensor2D {
  if (nativeMatMulActive(tf)) return tf.matMul(a, b, transposeA, transposeB)
  return tf.tidy(() => tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b)) as tfc.Tensor2D
}
