import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../compute/backend'
import type { TensorStream } from '../compute/tensor-stream'
import type { KernelContext, StatisticsContext } from './types'

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
 * mapElementwise's output chunk, kept from key to key (a thread runs one kernel at a time, and sinks
 * copy or encode what they are given): a fresh multi-megabyte array per key costs a page fault per
 * 4 KiB on first touch. At most one chunk (chunkRanges never yields more when rows are long).
 */
let elementwiseScratch = new Float32Array(0)

/**
 * The fused elementwise path (cost class E): reads a chunk of every input, lets `fn` write the
 * chunk's result into `out`, writes it, and moves on. `ins[i]` follows ctx.inputs; `base` is null
 * when the node has none. `start` is the chunk's first element index.
 */
export function mapElementwise<P>(
  ctx: KernelContext<P>,
  fn: (out: Float32Array, ins: readonly Float32Array[], base: Float32Array | null, start: number) => void,
): void {
  for (const [start, end] of chunkRanges(ctx)) {
    const n = end - start
    if (elementwiseScratch.length < n) elementwiseScratch = new Float32Array(n)
    const out = elementwiseScratch.subarray(0, n)
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
    const values = downloadTidy(tf, () => fn(tf, streams.map((s) => tf.tensor2d(s.read(start, end), [rows, rowLength]))))
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
    const values = downloadTidy(tf, () => fn(tf, streams.map((s) => tf.tensor2d(s.read(start, end), [chunkRows, rowLength]))))
    results ??= values.map(() => new Float32Array(rows))
    values.forEach((v, i) => results![i]!.set(v, start / rowLength))
  }
  return results ?? []
}

/**
 * Runs `fn` in tf.tidy and downloads the tensors it returns, then frees them. The download happens
 * after the tidy on purpose: tidy walks whatever its callback returns element by element, so
 * returning a typed array of a million values from it costs seconds.
 */
export function downloadTidy(tf: Tf, fn: () => readonly tfc.Tensor[]): tfc.TypedArray[] {
  const tensors = tf.tidy(() => [...fn()])
  try {
    return tensors.map((t) => t.dataSync())
  } finally {
    tf.dispose(tensors)
  }
}

/** Row sums of a [rows, cols] tensor, summed in blocks of columns for the same reason as tfSum. */
export function tfRowSum(tf: Tf, x: tfc.Tensor2D): tfc.Tensor1D {
  return tf.tidy((): tfc.Tensor1D => {
    const [rows, cols] = x.shape
    const block = 1024
    if (cols <= block) return tf.sum(x, 1)
    const full = Math.floor(cols / block) * block
    const head = tf.sum(tf.sum(tf.reshape(tf.slice(x, [0, 0], [rows, full]), [rows, full / block, block]), 2), 1) as tfc.Tensor1D
    return full === cols ? head : tf.add(head, tf.sum(tf.slice(x, [0, full], [rows, cols - full]), 1))
  })
}

/**
 * Elements read and processed at once by the segment helpers, seen as `rows` x `width`: several whole
 * segments (width = the segment length), or one row holding part of a segment longer than a chunk.
 */
export interface SegmentPiece {
  readonly start: number
  readonly end: number
  readonly rows: number
  readonly width: number
  /** where `start` lies inside its segment: 0 except for the later pieces of a long segment */
  readonly offset: number
}

/**
 * Cuts a tensor into segments of `segmentLength` consecutive elements (the whole tensor, rows, last-axis
 * slices) and yields groups of pieces of at most `chunkElements` elements that never cross a segment
 * boundary: one piece of as many whole segments as fit, or all the pieces of one segment too long for a
 * chunk. A group's segment statistics are complete once all its pieces are read.
 */
export function* segmentGroups(numel: number, segmentLength: number, chunkElements: number): Generator<SegmentPiece[]> {
  if (numel === 0) return
  if (segmentLength <= chunkElements) {
    const step = Math.floor(chunkElements / segmentLength) * segmentLength
    for (let start = 0; start < numel; start += step) {
      const end = Math.min(numel, start + step)
      yield [{ start, end, rows: (end - start) / segmentLength, width: segmentLength, offset: 0 }]
    }
    return
  }
  for (let segment = 0; segment < numel; segment += segmentLength) {
    const pieces: SegmentPiece[] = []
    for (let offset = 0; offset < segmentLength; offset += chunkElements) {
      const width = Math.min(chunkElements, segmentLength - offset)
      pieces.push({ start: segment + offset, end: segment + offset + width, rows: 1, width, offset })
    }
    yield pieces
  }
}

/** Computes one piece's output into `out`; row r of the piece (rows x width) is the group's segment r, so every piece of a long segment uses segment 0. */
export type PieceKernel = (out: Float32Array, ins: readonly Float32Array[], base: Float32Array | null, piece: SegmentPiece) => void

/** Per-piece tfjs statistics: `ins`/`base` as [piece.rows, piece.width] tensors, each result one value per row. */
export type SegmentStats = (tf: Tf, ins: readonly tfc.Tensor2D[], base: tfc.Tensor2D | null) => readonly tfc.Tensor[]

/**
 * Methods driven by per-segment statistics (norms, dot products, cosines over the whole tensor, rows or
 * last-axis slices): `stats` reduces every piece with tfjs (use tfRowSum), the values are summed per
 * segment in float64, then `prepare` turns the group's sums (sums[k][j] = statistic k of the group's
 * j-th segment) into the elementwise kernel that writes the group. Short segments take one read per
 * chunk; a segment longer than a chunk is read twice, so memory stays bounded by the chunk.
 */
export function mapSegmentsWithTf<P>(
  ctx: KernelContext<P>,
  segmentLength: number,
  stats: SegmentStats,
  prepare: (sums: readonly Float64Array[]) => PieceKernel,
): void {
  const { tf } = ctx
  let buffer = new Float32Array(0)
  for (const group of segmentGroups(ctx.numel, segmentLength, ctx.chunkElements)) {
    let sums: Float64Array[] = []
    let ins: Float32Array[] = []
    let base: Float32Array | null = null
    for (const piece of group) {
      ins = ctx.inputs.map((s) => s.read(piece.start, piece.end))
      base = ctx.base ? ctx.base.read(piece.start, piece.end) : null
      const view = (x: Float32Array): tfc.Tensor2D => tf.tensor2d(x, [piece.rows, piece.width])
      const values = downloadTidy(tf, () => stats(tf, ins.map(view), base ? view(base) : null))
      if (sums.length === 0) sums = values.map(() => new Float64Array(piece.rows))
      values.forEach((v, k) => {
        const total = sums[k]!
        if (v.length !== total.length) throw new Error(`segment statistic ${k} has ${v.length} values for ${total.length} segments`)
        for (let j = 0; j < v.length; j++) total[j]! += v[j]!
      })
    }
    const kernel = prepare(sums)
    for (const piece of group) {
      // a one-piece group is still in the streams' buffers; the pieces of a long segment are read again
      if (group.length > 1) {
        ins = ctx.inputs.map((s) => s.read(piece.start, piece.end))
        base = ctx.base ? ctx.base.read(piece.start, piece.end) : null
      }
      const n = piece.end - piece.start
      if (buffer.length < n) buffer = new Float32Array(n)
      const out = buffer.subarray(0, n)
      kernel(out, ins, base, piece)
      ctx.out.write(piece.start, out)
    }
  }
}

/**
 * Column sums over dim 0 of the tensor seen as (shape[0], rest), rows longer than a chunk read in
 * pieces: `terms` maps each piece (as [rows, width] tensors covering columns [offset, offset + width))
 * to elementwise terms, whose column sums are accumulated in float64 — one array of rowLength values per term.
 */
export function columnSumsWithTf<P>(
  ctx: StatisticsContext<P>,
  terms: (tf: Tf, ins: readonly tfc.Tensor2D[], base: tfc.Tensor2D | null) => readonly tfc.Tensor2D[],
): Float64Array[] {
  const { tf } = ctx
  let totals: Float64Array[] = []
  for (const group of segmentGroups(ctx.numel, ctx.rowLength, ctx.chunkElements)) {
    for (const piece of group) {
      const view = (s: TensorStream): tfc.Tensor2D => tf.tensor2d(s.read(piece.start, piece.end), [piece.rows, piece.width])
      const values = downloadTidy(tf, () => terms(tf, ctx.inputs.map(view), ctx.base ? view(ctx.base) : null).map((t) => tfColumnSum(tf, t)))
      if (totals.length === 0) totals = values.map(() => new Float64Array(ctx.rowLength))
      values.forEach((v, k) => {
        const total = totals[k]!
        for (let j = 0; j < v.length; j++) total[piece.offset + j]! += v[j]!
      })
    }
  }
  return totals
}

/** Elements per last-axis slice, the vectors of cos_last / torch's dim=-1: the whole tensor for 1-D, 1 for 0-dim. */
export function lastAxisLength(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : shape[shape.length - 1]!
}

/** Cosine similarity from sums (METHODS.md §1.4): Σxy / sqrt(max(Σx²·Σy², ε²)); zero vectors give 0. */
export function cosineFromSums(xy: number, xx: number, yy: number, eps = 1e-8): number {
  return xy / Math.sqrt(Math.max(xx * yy, eps * eps))
}
