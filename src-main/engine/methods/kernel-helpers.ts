import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../compute/backend'
import type { TensorStream } from '../compute/tensor-stream'
import type { KernelContext } from './types'

/** [start, end) element ranges that cover the tensor; whole rows unless a single row exceeds the chunk size. */
export function* chunkRanges(ctx: KernelContext<unknown>, wholeRows = false): Generator<[number, number]> {
  const { numel, rowLength, chunkElements } = ctx
  if (numel === 0) return
  let step: number
  if (rowLength >= chunkElements) step = wholeRows ? rowLength : chunkElements
  else step = Math.max(1, Math.floor(chunkElements / rowLength)) * rowLength
  for (let start = 0; start < numel; start += step) yield [start, Math.min(numel, start + step)]
}

/**
 * The fused elementwise path (cost class E): reads a chunk of every input, lets `fn` write the
 * chunk's result into `out`, writes it, and moves on. `ins[i]` follows ctx.inputs; `base` is null
 * when the node has none. `start` is the chunk's first element index.
 */
export function mapElementwise<P>(
  ctx: KernelContext<P>,
  fn: (out: Float32Array, ins: readonly Float32Array[], base: Float32Array | null, start: number) => void,
): void {
  let buffer = new Float32Array(0)
  for (const [start, end] of chunkRanges(ctx)) {
    const n = end - start
    if (buffer.length < n) buffer = new Float32Array(n)
    const out = buffer.subarray(0, n)
    const ins = ctx.inputs.map((s) => s.read(start, end))
    const base = ctx.base ? ctx.base.read(start, end) : null
    fn(out, ins, base, start)
    ctx.out.write(start, out)
  }
}

/** Copies an input through unchanged (shortcuts such as alpha = 0). */
export function passThrough(ctx: KernelContext<unknown>, source: TensorStream): void {
  for (const [start, end] of chunkRanges(ctx)) ctx.out.write(start, source.read(start, end))
}

/**
 * Sum of all elements of `x` in float32 without the wasm backend's sequential-accumulation error:
 * it sums rows of 1024 first, then the row sums (exact enough for any tensor that fits in memory).
 */
export function tfSum(tf: Tf, x: tfc.Tensor): tfc.Scalar {
  return tf.tidy((): tfc.Scalar => {
    const flat = tf.reshape(x, [-1])
    const n = flat.size
    const width = 1024
    const full = Math.floor(n / width) * width
    if (full === 0) return tf.sum(flat) as tfc.Scalar
    const head = tf.sum(tf.sum(tf.reshape(tf.slice(flat, 0, full), [full / width, width]), 1)) as tfc.Scalar
    return full === n ? head : (tf.add(head, tf.sum(tf.slice(flat, full, n - full))) as tfc.Scalar)
  })
}

/** Column sums of a [rows, cols] tensor, summed in blocks of rows for the same reason as tfSum. */
export function tfColumnSum(tf: Tf, x: tfc.Tensor2D): tfc.Tensor1D {
  return tf.tidy((): tfc.Tensor1D => {
    const [rows, cols] = x.shape
    const block = 1024
    if (rows <= block) return tf.sum(x, 0) as tfc.Tensor1D
    const full = Math.floor(rows / block) * block
    const head = tf.sum(tf.sum(tf.reshape(tf.slice(x, [0, 0], [full, cols]), [full / block, block, cols]), 1), 0) as tfc.Tensor1D
    return full === rows ? head : (tf.add(head, tf.sum(tf.slice(x, [full, 0], [rows - full, cols]), 0)) as tfc.Tensor1D)
  })
}

/**
 * A reduction pass over whole rows with tfjs: for each chunk, `fn` gets each stream's chunk as a
 * [rowsInChunk, rowLength] tensor and returns tensors whose values are added across chunks (use
 * tfSum for scalars, tfColumnSum for per-column vectors). Returns the sums in float64.
 */
export function reduceWithTf<P>(
  ctx: KernelContext<P>,
  streams: readonly TensorStream[],
  fn: (tf: Tf, chunks: readonly tfc.Tensor2D[]) => readonly tfc.Tensor[],
): Float64Array[] {
  const { tf, rowLength } = ctx
  let totals: Float64Array[] | null = null
  for (const [start, end] of chunkRanges(ctx, true)) {
    const rows = (end - start) / rowLength
    const values = tf.tidy(() => {
      const chunks = streams.map((s) => tf.tensor2d(s.read(start, end), [rows, rowLength]))
      return fn(tf, chunks).map((t) => t.dataSync())
    })
    totals ??= values.map((v) => new Float64Array(v.length))
    values.forEach((v, i) => {
      const total = totals![i]!
      for (let j = 0; j < v.length; j++) total[j]! += v[j]!
    })
  }
  return totals ?? []
}

/**
 * A per-row pass with tfjs: `fn` returns, per stream chunk of [rowsInChunk, rowLength], tensors with
 * one value per row; results are concatenated over the tensor (one Float32Array of `rows` values each).
 */
export function perRowWithTf<P>(
  ctx: KernelContext<P>,
  streams: readonly TensorStream[],
  fn: (tf: Tf, chunks: readonly tfc.Tensor2D[]) => readonly tfc.Tensor[],
): Float32Array[] {
  const { tf, rowLength, rows } = ctx
  let results: Float32Array[] | null = null
  for (const [start, end] of chunkRanges(ctx, true)) {
    const chunkRows = (end - start) / rowLength
    const values = tf.tidy(() => {
      const chunks = streams.map((s) => tf.tensor2d(s.read(start, end), [chunkRows, rowLength]))
      return fn(tf, chunks).map((t) => t.dataSync() as Float32Array)
    })
    results ??= values.map(() => new Float32Array(rows))
    values.forEach((v, i) => results![i]!.set(v, start / rowLength))
  }
  return results ?? []
}
