import type { TensorStream } from '../compute/tensor-stream'
import type { TensorLocator } from '../formats/checkpoint'
import { numelOf } from '../formats/dtype'
import type { TensorReader } from '../formats/tensor-reader'

/** Buffers larger than this are not kept for reuse: a thread holds at most a few chunks between keys. */
const POOLED_MAX_ELEMENTS = 4 << 20
const POOLED_MAX_BUFFERS = 8

/**
 * Float32 buffers reused from key to key within a thread: a fresh multi-megabyte array costs a page
 * fault per 4 KiB on first touch, about as much as decoding into it.
 */
export class BufferPool {
  private readonly free: Float32Array[] = []

  /** a buffer of at least `length` elements (the smallest free one that fits, else a new one) */
  take(length: number): Float32Array {
    let best = -1
    for (let i = 0; i < this.free.length; i++) {
      const candidate = this.free[i]!.length
      if (candidate >= length && (best < 0 || candidate < this.free[best]!.length)) best = i
    }
    if (best < 0) return new Float32Array(length)
    return this.free.splice(best, 1)[0]!
  }

  give(buffer: Float32Array): void {
    if (buffer.length === 0 || buffer.length > POOLED_MAX_ELEMENTS) return
    this.free.push(buffer)
    if (this.free.length > POOLED_MAX_BUFFERS) this.free.sort((x, y) => y.length - x.length).pop()
  }
}

/**
 * A stored tensor read in ranges straight from its file, decoded to float32 into a buffer the stream
 * reuses. It remembers the last range: reading the same range again returns the same buffer without
 * touching the file (the output sink re-reads the primary input's chunk the kernel just read, for
 * change statistics, at no cost). Kernels must not modify what `read` returns, as the contract says.
 */
export class FileStream implements TensorStream {
  readonly numel: number
  private buffer: Float32Array | null = null
  /** the values of the last range read, and that range */
  private last: Float32Array | null = null
  private lastStart = -1
  private lastEnd = -1

  constructor(
    private readonly reader: TensorReader,
    readonly locator: TensorLocator,
    private readonly buffers: BufferPool,
  ) {
    this.numel = numelOf(locator.shape)
  }

  read(start: number, end: number): Float32Array {
    if (this.last !== null && start === this.lastStart && end === this.lastEnd) return this.last
    const count = end - start
    if (this.buffer === null || this.buffer.length < count) {
      if (this.buffer !== null) this.buffers.give(this.buffer)
      this.buffer = this.buffers.take(count)
    }
    // forget the range first: if the read fails, the buffer no longer holds it
    this.last = null
    this.last = this.reader.readFloat32(this.locator, start, end, this.buffer)
    this.lastStart = start
    this.lastEnd = end
    return this.last
  }

  readAll(): Float32Array {
    return this.reader.readFloat32(this.locator)
  }

  /** Hands the buffer back to the pool; the stream must not be read afterwards. */
  release(): void {
    if (this.buffer !== null) this.buffers.give(this.buffer)
    this.buffer = null
    this.last = null
  }
}
