import type { Tf } from '../compute/backend'
import { AmalgamError } from '../errors'
import type { TensorLocator } from '../formats/checkpoint'
import { numelOf } from '../formats/dtype'
import type { KronFactor, LoraFactors } from './lora-file'

/** The extent of a module's delta: `rows` output rows of `inner` elements (inputs × kernel elements). */
export interface DeltaExtent {
  readonly rows: number
  readonly inner: number
}

/** The delta's extent from the factors' shapes alone (for matching against a target before reading data). */
export function deltaExtent(factors: LoraFactors): DeltaExtent {
  const rowsAndInner = (loc: TensorLocator): [number, number] => {
    const rows = loc.shape[0] ?? 1
    return [rows, rows === 0 ? 0 : numelOf(loc.shape) / rows]
  }
  switch (factors.type) {
    case 'lora':
      return { rows: factors.up.shape[0] ?? 0, inner: rowsAndInner(factors.down)[1] }
    case 'loha':
      return { rows: factors.w1a.shape[0] ?? 0, inner: rowsAndInner(factors.w1b)[1] }
    case 'lokr': {
      const [o1, i1] = kronExtent(factors.w1)
      const [o2, i2] = kronExtent(factors.w2)
      return { rows: o1 * o2, inner: i1 * i2 }
    }
  }
}

function kronExtent(factor: KronFactor): [number, number] {
  if ('whole' in factor) {
    const rows = factor.whole.shape[0] ?? 1
    return [rows, rows === 0 ? 0 : numelOf(factor.whole.shape) / rows]
  }
  const rank = factor.b.shape[0] ?? 1
  return [factor.a.shape[0] ?? 0, rank === 0 ? 0 : numelOf(factor.b.shape) / rank]
}

/**
 * A module's delta, [rows × inner] in C order, computed with tfjs (matmul on the GPU when there is
 * one). `kernel` is the target's elements per (output, input) pair: 1 for linear layers, k·k for
 * convolutions, which LoKr needs to interleave its Kronecker product. `read` decodes a factor.
 */
export function loraDelta(tf: Tf, factors: LoraFactors, kernel: number, read: (loc: TensorLocator) => Float32Array): Float32Array {
  const { rows, inner } = deltaExtent(factors)
  const matrix = (loc: TensorLocator): ReturnType<Tf['tensor2d']> => {
    const r = loc.shape[0] ?? 1
    return tf.tensor2d(read(loc), [r, r === 0 ? 0 : numelOf(loc.shape) / r])
  }
  const result = tf.tidy(() => {
    switch (factors.type) {
      case 'lora':
        return tf.matMul(matrix(factors.up), matrix(factors.down))
      case 'loha':
        return tf.mul(tf.matMul(matrix(factors.w1a), matrix(factors.w1b)), tf.matMul(matrix(factors.w2a), matrix(factors.w2b)))
      case 'lokr': {
        const kron = (f: KronFactor): ReturnType<Tf['tensor2d']> => ('whole' in f ? matrix(f.whole) : tf.matMul(matrix(f.a), matrix(f.b)))
        const w1 = kron(factors.w1)
        const w2 = kron(factors.w2)
        const [o1, i1] = w1.shape
        const [o2, inner2] = w2.shape
        if (inner2 % kernel !== 0) throw new AmalgamError('BAD_ARGUMENT', `a LoKr factor of ${inner2} columns does not split into kernels of ${kernel}`)
        const i2 = inner2 / kernel
        // (a·o2 + c, (b·i2 + d)·kernel + s) = w1[a, b] · w2[c, d·kernel + s]
        const product = tf.mul(tf.reshape(w1, [o1, 1, i1, 1, 1]), tf.reshape(w2, [1, o2, 1, i2, kernel]))
        return tf.reshape(product, [o1 * o2, i1 * inner2])
      }
    }
  })
  try {
    const data = result.dataSync()
    if (!(data instanceof Float32Array) || data.length !== rows * inner) {
      throw new AmalgamError('INTERNAL', `a ${factors.type} delta of ${rows}×${inner} came out with ${data.length} elements`)
    }
    return data
  } finally {
    result.dispose()
  }
}
