import type { Rng } from '../compute/rng'
import type { BlockSource } from '../compute/selection'
import type { TensorStream } from '../compute/tensor-stream'
import { AmalgamError } from '../errors'
import type { KernelContext } from './types'

/*
 * Task vectors δᵢ = inputᵢ − base of one key, streamed: every pass re-reads the inputs chunk by
 * chunk and recomputes the deltas in small blocks (cache-sized scratch), so a method can make as
 * many passes as its thresholds need while holding only a chunk of each input.
 */

/** Elements per block: a few scratch deltas of this size stay in the CPU cache. */
const BLOCK_ELEMENTS = 8192
/** A selection sample: 128 runs of 128 consecutive elements spread over the tensor. */
const SAMPLE_RUNS = 128
const SAMPLE_RUN_LENGTH = 128

/** The base the task vectors are taken against (the declaration requires it; the planner checks). */
export function requireBase(ctx: KernelContext<unknown>): TensorStream {
  if (!ctx.base) throw new AmalgamError('BAD_RECIPE', `${ctx.key}: this method needs a base model (task vectors are taken against it)`)
  return ctx.base
}

/** A per-element keep/drop mask (dropout), one bit per element. */
export class MaskBits {
  readonly bits: Uint8Array
  constructor(readonly length: number) {
    this.bits = new Uint8Array((length + 7) >>> 3)
  }
  set(i: number): void {
    this.bits[i >>> 3]! |= 1 << (i & 7)
  }
  /** sets bit start + j wherever flags[j] is non-zero (a block of Rng.bernoulli draws) */
  setFrom(start: number, flags: Float32Array): void {
    for (let j = 0; j < flags.length; j++) if (flags[j] !== 0) this.set(start + j)
  }
  has(i: number): boolean {
    return ((this.bits[i >>> 3]! >>> (i & 7)) & 1) === 1
  }
  /** number of set bits */
  count(): number {
    let total = 0
    for (const byte of this.bits) total += POPCOUNT[byte]!
    return total
  }
}

/** A mask that keeps each element independently with probability `keep`, drawn in flat order (DARE). */
export function bernoulliMask(rng: Rng, length: number, keep: number): MaskBits {
  const mask = new MaskBits(length)
  const flags = new Float32Array(Math.min(length, BLOCK_ELEMENTS))
  for (let start = 0; start < length; start += flags.length) {
    const block = flags.subarray(0, Math.min(flags.length, length - start))
    mask.setFrom(start, rng.bernoulli(block, keep))
  }
  return mask
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let c = 0
  for (let v = b; v > 0; v >>= 1) c += v & 1
  return c
})

/**
 * One block of a pass: elements [start, start + length) of the tensor. `deltas[i]` holds δ of the
 * i-th model of the pass in entries [0, length) (zero where that model's mask drops an element);
 * the base's values are base[offset, offset + length). The arrays are reused from block to block
 * (loops over arrays V8 has seen before run faster than over fresh views).
 */
export interface DeltaBlock {
  readonly start: number
  readonly length: number
  readonly deltas: readonly Float32Array[]
  readonly base: Float32Array
  readonly offset: number
}

export class TaskVectors {
  private readonly inputs: readonly TensorStream[]
  private readonly base: TensorStream

  /** `masks[i]`, when given, zeroes δᵢ wherever its bit is clear */
  constructor(
    private readonly ctx: KernelContext<unknown>,
    private readonly masks: readonly (MaskBits | null)[] = [],
  ) {
    this.inputs = ctx.inputs
    this.base = requireBase(ctx)
  }

  get models(): number {
    return this.inputs.length
  }

  /**
   * One pass without output over `models` (all by default). Blocks hold whole multiples of
   * `align` elements (one `align`-sized group when that exceeds the block size), so per-row or
   * per-slice work can be done inside a block.
   */
  scan(visit: (block: DeltaBlock) => void, align = 1, models: readonly number[] = this.allModels()): void {
    this.pass(models, align, (block) => visit(block))
  }

  /** The deltas of `models` (all by default) as a selection source: one BlockSource call = one pass. */
  source(models: readonly number[] = this.allModels()): BlockSource {
    return (visit) => this.pass(models, 1, (block) => visit(block.deltas, block.length))
  }

  /**
   * δ of each of `models` at runs of elements spread evenly over the tensor (empty for small
   * tensors): guides selection windows without reading whole chunks.
   */
  sample(models: readonly number[]): Float32Array[] {
    const { numel } = this.ctx
    const runs = Math.min(SAMPLE_RUNS, Math.floor(numel / (4 * SAMPLE_RUN_LENGTH)))
    const out = models.map(() => new Float32Array(runs * SAMPLE_RUN_LENGTH))
    for (let r = 0; r < runs; r++) {
      const start = Math.floor(((r + 0.5) * (numel - SAMPLE_RUN_LENGTH)) / runs)
      const base = this.base.read(start, start + SAMPLE_RUN_LENGTH)
      models.forEach((model, j) => {
        const x = this.inputs[model]!.read(start, start + SAMPLE_RUN_LENGTH)
        subtract(out[j]!, r * SAMPLE_RUN_LENGTH, x, base, 0, SAMPLE_RUN_LENGTH, this.masks[model] ?? null, start)
      })
    }
    return out
  }

  /**
   * The output pass: `fn` writes the block's results to out[block.offset, block.offset + length)
   * (`out` is the chunk's output buffer); chunks are written in order.
   */
  map(fn: (block: DeltaBlock, out: Float32Array) => void, align = 1): void {
    let buffer = new Float32Array(0)
    let chunkOut = buffer
    this.pass(this.allModels(), align, (block, chunkStart, chunkEnd) => {
      if (block.offset === 0) {
        if (buffer.length < chunkEnd - chunkStart) buffer = new Float32Array(chunkEnd - chunkStart)
        chunkOut = buffer.length === chunkEnd - chunkStart ? buffer : buffer.subarray(0, chunkEnd - chunkStart)
      }
      fn(block, buffer)
      if (block.start + block.length === chunkEnd) this.ctx.out.write(chunkStart, chunkOut)
    })
  }

  private allModels(): number[] {
    return this.inputs.map((_, i) => i)
  }

  private pass(models: readonly number[], align: number, visit: (block: DeltaBlock, chunkStart: number, chunkEnd: number) => void): void {
    const { numel, chunkElements } = this.ctx
    const blockStep = groupStep(BLOCK_ELEMENTS, align)
    const chunkStep = groupStep(chunkElements, align)
    const deltas = models.map(() => new Float32Array(blockStep))
    const masks = models.map((model) => this.masks[model] ?? null)
    for (let chunkStart = 0; chunkStart < numel; chunkStart += chunkStep) {
      const chunkEnd = Math.min(numel, chunkStart + chunkStep)
      const base = this.base.read(chunkStart, chunkEnd)
      const xs = models.map((i) => this.inputs[i]!.read(chunkStart, chunkEnd))
      for (let offset = 0; offset < chunkEnd - chunkStart; offset += blockStep) {
        const length = Math.min(blockStep, chunkEnd - chunkStart - offset)
        for (let j = 0; j < models.length; j++) subtract(deltas[j]!, 0, xs[j]!, base, offset, length, masks[j]!, chunkStart + offset)
        visit({ start: chunkStart + offset, length, deltas, base, offset }, chunkStart, chunkEnd)
      }
    }
  }
}

/** the largest multiple of `align` not above `target`, or `align` itself when it is larger */
function groupStep(target: number, align: number): number {
  return align >= target ? align : Math.floor(target / align) * align
}

/**
 * d[at + e] = x[offset + e] − base[offset + e] for e < length (rounded to float32 like torch's
 * subtraction), zero where the mask drops element flatStart + e.
 */
function subtract(d: Float32Array, at: number, x: Float32Array, base: Float32Array, offset: number, length: number, mask: MaskBits | null, flatStart: number): void {
  if (!mask) {
    for (let e = 0; e < length; e++) d[at + e] = x[offset + e]! - base[offset + e]!
    return
  }
  const bits = mask.bits
  for (let e = 0; e < length; e++) {
    const i = flatStart + e
    d[at + e] = (bits[i >>> 3]! >>> (i & 7)) & 1 ? x[offset + e]! - base[offset + e]! : 0
  }
}
