/**
 * How a kernel sees one input tensor for one key: a flat float32 sequence it can read in ranges,
 * as many times as it needs (multi-pass methods re-read instead of holding the tensor).
 *
 * Buffers returned by `read` belong to the stream and are valid until the next `read` of the same
 * stream or the next `OutputSink.write`; copy what must live longer. `readAll` always returns an
 * array the caller may keep and modify.
 */
export interface TensorStream {
  readonly numel: number
  read(start: number, end: number): Float32Array
  readAll(): Float32Array
}

/** Where a kernel puts its result. Every element must be written exactly once; ranges may come in any order. */
export interface OutputSink {
  write(start: number, data: Float32Array): void
}

/** A tensor already in memory: an intermediate result of a nested recipe node, or a test input. */
export class MemoryStream implements TensorStream {
  constructor(private readonly data: Float32Array) {}
  get numel(): number {
    return this.data.length
  }
  read(start: number, end: number): Float32Array {
    return this.data.subarray(start, end)
  }
  readAll(): Float32Array {
    return this.data.slice()
  }
}

/** Collects a kernel's output in memory (nested nodes, tests). */
export class MemorySink implements OutputSink {
  readonly data: Float32Array
  private written = 0
  constructor(numel: number) {
    this.data = new Float32Array(numel)
  }
  write(start: number, data: Float32Array): void {
    this.data.set(data, start)
    this.written += data.length
  }
  /** elements written so far; a kernel that finishes with written !== numel is a bug */
  get elementsWritten(): number {
    return this.written
  }
}
