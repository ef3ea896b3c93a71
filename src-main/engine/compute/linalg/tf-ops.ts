import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../backend'

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
 * a·b with either factor transposed. The transposes are materialised on purpose: the wasm backend's
 * matMul with transposeA/transposeB set is about 6x slower than a transpose followed by a plain matMul.
 */
export function matMul(tf: Tf, a: tfc.Tensor2D, b: tfc.Tensor2D, transposeA = false, transposeB = false): tfc.Tensor2D {
  return tf.tidy(() => tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b)) as tfc.Tensor2D
}
