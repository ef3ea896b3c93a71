import type * as tfc from '@tensorflow/tfjs-core'
import { selectAbs, type BlockSource } from '../compute/selection'
import type { TensorStream } from '../compute/tensor-stream'
import { downloadTidy, lastAxisLength, segmentGroups, tfRowSum } from './kernel-helpers'
import { requireBase } from './task-vectors'
import { WINDOW_CHUNKS } from './ties-core'
import { defineMethod, type KernelContext } from './types'

/** mergekit adds this to both softmax distributions before the KL divergence */
const SOFTMAX_EPS = 1e-8
const QUARTILES = [0.25, 0.5, 0.75] as const

export const arceeFusion = defineMethod({
  id: 'arcee_fusion',
  aliases: [],
  label: 'Arcee Fusion (mergekit)',
  description:
    "Takes from the other model only the weights whose change matters most and keeps the base everywhere else (mergekit arcee_fusion). Each weight's importance is |other − base| times the KL divergence between the softmax of its last-axis slice in the other model and in the base; weights at or above median + 1.5 × interquartile range of the importances (the usual outlier fence) take the other model's value. Use it to graft a fine-tune's most significant changes onto a base without the small, noisy ones. Quartiles are exact over the whole tensor (mergekit samples a million elements at random above that size).",
  reference: 'https://github.com/arcee-ai/mergekit/blob/main/mergekit/merge_methods/arcee_fusion.py',
  inputs: {
    min: 1,
    max: 1,
    base: 'required',
    roles: ['the other model (its important changes are taken)'],
    baseRole: 'the base: kept wherever the change is not important; keys not merged come from it',
  },
  params: {},
  cost: ['S'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 6,
  kernel(ctx) {
    const base = requireBase(ctx)
    const other = ctx.inputs[0]!
    const n = ctx.numel
    if (n === 0) return
    const sliceLength = lastAxisLength(ctx.shape)
    const kl = sliceDivergences(ctx, other, base, sliceLength)
    let scratch = new Float32Array(0)
    /** importance |other − base|·KL of elements [start, end), in float32 as upstream */
    const importance = (start: number, end: number): Float32Array => {
      const length = end - start
      if (scratch.length < length) scratch = new Float32Array(length)
      const x = other.read(start, end)
      const b = base.read(start, end)
      for (let e = 0; e < length; e++) scratch[e] = Math.abs(x[e]! - b[e]!) * kl[Math.floor((start + e) / sliceLength)]!
      return scratch
    }
    const source: BlockSource = (visit) => {
      for (let start = 0; start < n; start += ctx.chunkElements) {
        const end = Math.min(n, start + ctx.chunkElements)
        visit([importance(start, end)], end - start)
      }
    }
    // sorted[⌊q·(n − 1)⌋] with the product in float32, as upstream's index tensor
    const ranks = QUARTILES.map((q) => Math.trunc(Math.fround(q * Math.fround(n - 1))) + 1)
    const stats = selectAbs(
      ctx.tf,
      source,
      n,
      ranks.map((rank) => ({ sequence: 0, rank })),
      { maxCollected: WINDOW_CHUNKS * ctx.chunkElements },
    )
    const [q1, median, q3] = stats.map((s) => s.value)
    const threshold = Math.fround(median! + Math.fround(1.5 * Math.fround(q3! - q1!)))
    let buffer = new Float32Array(0)
    for (let start = 0; start < n; start += ctx.chunkElements) {
      const end = Math.min(n, start + ctx.chunkElements)
      const scores = importance(start, end)
      const x = other.read(start, end)
      const b = base.read(start, end)
      if (buffer.length < end - start) buffer = new Float32Array(end - start)
      const out = buffer.subarray(0, end - start)
      // base + (other − base)·mask, rounded like upstream; NaN importance fails the test, as in torch
      for (let e = 0; e < out.length; e++) out[e] = scores[e]! >= threshold ? b[e]! + Math.fround(x[e]! - b[e]!) : b[e]!
      ctx.out.write(start, out)
    }
  },
})

/**
 * KL(softmax(other) + ε ‖ softmax(base) + ε) of every last-axis slice, rounded to float32. Two reads
 * per piece: log-sum-exp of both slices (combined across the pieces of a long slice), then the sum.
 */
function sliceDivergences(ctx: KernelContext<unknown>, other: TensorStream, base: TensorStream, sliceLength: number): Float32Array {
  const { tf } = ctx
  const out = new Float32Array(ctx.numel / sliceLength)
  for (const group of segmentGroups(ctx.numel, sliceLength, ctx.chunkElements)) {
    const firstSlice = group[0]!.start / sliceLength
    const slices = group[0]!.rows
    const lseOther = new Float64Array(slices).fill(-Infinity)
    const lseBase = new Float64Array(slices).fill(-Infinity)
    const view = (s: TensorStream, start: number, end: number, rows: number, width: number): tfc.Tensor2D => tf.tensor2d(s.read(start, end), [rows, width])
    for (const piece of group) {
      const [lo, lb] = downloadTidy(tf, () => [
        tf.logSumExp(view(other, piece.start, piece.end, piece.rows, piece.width), 1),
        tf.logSumExp(view(base, piece.start, piece.end, piece.rows, piece.width), 1),
      ])
      for (let r = 0; r < piece.rows; r++) {
        lseOther[r] = addLog(lseOther[r]!, lo![r]!)
        lseBase[r] = addLog(lseBase[r]!, lb![r]!)
      }
    }
    const sums = new Float64Array(slices)
    for (const piece of group) {
      const [kl] = downloadTidy(tf, () => {
        const p = tf.add(tf.exp(tf.sub(view(other, piece.start, piece.end, piece.rows, piece.width), tf.tensor2d(Float32Array.from(lseOther), [piece.rows, 1]))), SOFTMAX_EPS)
        const q = tf.add(tf.exp(tf.sub(view(base, piece.start, piece.end, piece.rows, piece.width), tf.tensor2d(Float32Array.from(lseBase), [piece.rows, 1]))), SOFTMAX_EPS)
        return [tfRowSum(tf, tf.mul(p, tf.log(tf.div(p, q))) as tfc.Tensor2D)]
      })
      for (let r = 0; r < piece.rows; r++) sums[r]! += kl![r]!
    }
    for (let r = 0; r < slices; r++) out[firstSlice + r] = sums[r]!
  }
  return out
}

/** log(eˣ + eʸ) without overflow */
function addLog(x: number, y: number): number {
  if (x === -Infinity) return y
  if (y === -Infinity) return x
  const m = Math.max(x, y)
  return m + Math.log(Math.exp(x - m) + Math.exp(y - m))
}
