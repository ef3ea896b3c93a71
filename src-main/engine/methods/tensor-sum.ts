import type { TensorStream } from '../compute/tensor-stream'
import { chunkRanges, passThrough } from './kernel-helpers'
import { ratioToRegion } from './region'
import { defineMethod, type KernelContext } from './types'

export const tensorSum = defineMethod({
  id: 'tensor_sum',
  aliases: [
    { name: 'copy_region', params: { variant: 'sd_mecha' } },
    { name: 'tensor2', params: { variant: 'supermerger_tensor2' } },
  ],
  label: 'Tensor sum (row copy)',
  description:
    'Builds each tensor from whole slices of A and B instead of mixing values: a band of rows (width, starting at offset, both as fractions of the rows) is copied from B into A; a band that runs past the end wraps around, and then A\'s rows outside it are copied into B. width and offset are supermerger\'s / meh\'s alpha and beta. The supermerger variant (default) truncates the band ends; sd_mecha rounds them half-to-even and normalises negative values; supermerger_tensor2 cuts along the second dimension (input channels) instead of rows.',
  inputs: { min: 2, max: 2, base: 'none', roles: ['model a', 'model b (the band is taken from it)'] },
  params: {
    width: {
      type: 'number',
      label: 'width (alpha)',
      description: 'Size of the band taken from B, as a fraction of the rows (supermerger/meh alpha).',
      default: 0.5,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    offset: {
      type: 'number',
      label: 'offset (beta)',
      description: 'Where the band starts, as a fraction of the rows (supermerger/meh beta).',
      default: 0,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'Which upstream tool\'s band rule to follow.',
      options: [
        {
          value: 'supermerger',
          label: 'supermerger "tensor" / meh',
          description: 'Rows [trunc(n·offset), trunc(n·(width + offset))) from B; past the end, rows [trunc(n·(width + offset − 1)), trunc(n·offset)) from A into B. 0-dim tensors keep A.',
        },
        {
          value: 'supermerger_tensor2',
          label: 'supermerger "tensor2"',
          description:
            'The same band along dimension 1. As in supermerger, the band is computed from the size of dimension 1 only when it exceeds 100, otherwise from the row count (then cut to the size of dimension 1). 1-D tensors use rows; 0-dim keep A.',
        },
        {
          value: 'sd_mecha',
          label: 'sd-mecha tensor_sum / copy_region',
          description: 'Band ends rounded half-to-even; width is capped at 1, negative widths and offsets wrap. 0-dim tensors take B when width > 0.5. (sd-mecha\'s copy_region defaults width to 1.)',
        },
      ],
      default: 'supermerger',
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 3,
  kernel(ctx) {
    const { width, offset, variant } = ctx.params
    const a = ctx.inputs[0]!
    const b = ctx.inputs[1]!
    if (ctx.shape.length === 0) return passThrough(ctx, variant === 'sd_mecha' && width > 0.5 ? b : a)
    if (variant === 'sd_mecha') {
      const { start, end, inverted } = ratioToRegion(width, offset, ctx.rows)
      return copyBand(ctx, bandOfRows(ctx, start, end), inverted ? a : b, inverted ? b : a)
    }
    const alongColumns = variant === 'supermerger_tensor2' && ctx.shape.length >= 2
    const size = alongColumns ? ctx.shape[1]! : ctx.rows
    // supermerger's quirk: tensor2 measures the band on dim 1 only when dim 1 is larger than 100
    const measured = alongColumns && size > 100 ? size : ctx.rows
    const inverted = width + offset > 1
    const [from, to] = pySlice(Math.trunc(measured * (inverted ? width + offset - 1 : offset)), Math.trunc(measured * (inverted ? offset : width + offset)), size)
    const band = alongColumns ? bandOfColumns(ctx, from, to) : bandOfRows(ctx, from, to)
    copyBand(ctx, band, inverted ? a : b, inverted ? b : a)
  },
})

/** Python slice bounds: negative indices count from the end, both ends cut to [0, n] */
function pySlice(from: number, to: number, n: number): [number, number] {
  const bound = (i: number): number => (i < 0 ? Math.max(0, i + n) : Math.min(i, n))
  return [bound(from), bound(to)]
}

/** Positions [lo, hi) of every period of `period` elements belong to the band. */
interface Band {
  readonly period: number
  readonly lo: number
  readonly hi: number
}

function bandOfRows(ctx: KernelContext<unknown>, start: number, end: number): Band {
  return { period: Math.max(ctx.numel, 1), lo: start * ctx.rowLength, hi: Math.max(start, end) * ctx.rowLength }
}

function bandOfColumns(ctx: KernelContext<unknown>, start: number, end: number): Band {
  const inner = ctx.rowLength / ctx.shape[1]!
  return { period: ctx.rowLength, lo: start * inner, hi: Math.max(start, end) * inner }
}

/** Streams the output chunk by chunk: band positions from `inside`, the rest from `outside`. */
function copyBand(ctx: KernelContext<unknown>, band: Band, inside: TensorStream, outside: TensorStream): void {
  let buffer = new Float32Array(0)
  for (const [start, end] of chunkRanges(ctx)) {
    const runs: [number, number][] = []
    for (let base = Math.floor(start / band.period) * band.period; base < end; base += band.period) {
      const runStart = Math.max(start, base + band.lo)
      const runEnd = Math.min(end, base + band.hi)
      if (runStart < runEnd) runs.push([runStart, runEnd])
    }
    const first = runs[0]
    if (!first) {
      ctx.out.write(start, outside.read(start, end))
    } else if (first[0] === start && first[1] === end) {
      ctx.out.write(start, inside.read(start, end))
    } else {
      const n = end - start
      if (buffer.length < n) buffer = new Float32Array(n)
      const out = buffer.subarray(0, n)
      out.set(outside.read(start, end))
      // read after copying: a stream's buffer is only valid until its next read
      const source = inside.read(start, end)
      for (const [runStart, runEnd] of runs) out.set(source.subarray(runStart - start, runEnd - start), runStart - start)
      ctx.out.write(start, out)
    }
  }
}
