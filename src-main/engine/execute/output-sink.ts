import type { OutputSink, TensorStream } from '../compute/tensor-stream'
import { encodeFromFloat32 } from '../formats/codecs'
import { dtypeSize, type FloatDType } from '../formats/dtype'
import { writeAtSync } from '../formats/file-io'
import { AmalgamError } from '../errors'

/**
 * The smallest magnitude a dtype cannot store as a nearby finite value (round-to-nearest-even ties
 * included): F16, BF16 and F8_E5M2 turn it into ±inf, F8_E4M3 (no infinity) clips it to ±448.
 */
const OVERFLOW_AT: Readonly<Record<FloatDType, number>> = {
  F64: Infinity,
  F32: Infinity,
  F16: 65520,
  BF16: 3.39617752923046e38,
  F8_E5M2: 61440,
  F8_E4M3: 464,
}

/**
 * What a merged key did, gathered while it is written: Σ|output − a| against the primary input a
 * (for the per-block heatmap), NaN/±inf values, and values the output dtype cannot hold.
 */
export class ChangeStats {
  sumAbs = 0
  elements = 0
  nonFinite = 0
  outOfRange = 0

  constructor(
    private readonly primary: TensorStream,
    private readonly dtype: FloatDType,
  ) {}

  add(start: number, out: Float32Array): void {
    const a = this.primary.read(start, start + out.length)
    // The hot loop: two accumulators (the float64 additions do not wait on each other) and the
    // largest magnitude, kept with branches that are almost never taken (Math.max on random data
    // mispredicts half the time and triples the cost). NaN or inf anywhere makes a sum non-finite
    // and sends the chunk to the slow path.
    let even = 0
    let odd = 0
    let largest = 0
    const pairs = out.length & ~1
    for (let i = 0; i < pairs; i += 2) {
      const x = out[i]!
      const y = out[i + 1]!
      even += Math.abs(x - a[i]!)
      odd += Math.abs(y - a[i + 1]!)
      const ax = Math.abs(x)
      if (ax > largest) largest = ax
      const ay = Math.abs(y)
      if (ay > largest) largest = ay
    }
    if (pairs < out.length) {
      const x = out[pairs]!
      even += Math.abs(x - a[pairs]!)
      largest = Math.max(largest, Math.abs(x))
    }
    const sum = even + odd
    if (Number.isFinite(sum) && largest < OVERFLOW_AT[this.dtype]) this.sumAbs += sum
    else this.addUnusual(out, a)
    this.elements += out.length
  }

  warnings(): string[] {
    const found: string[] = []
    if (this.nonFinite > 0) found.push(`${this.nonFinite} of ${this.elements} merged values are NaN or infinite`)
    if (this.outOfRange > 0) {
      const fate = this.dtype === 'F8_E4M3' ? 'were clipped to ±448' : 'became ±inf'
      found.push(`${this.outOfRange} merged values are too large for ${this.dtype} and ${fate}`)
    }
    return found
  }

  /** the rare slow path: NaN/inf differences stay out of the mean; NaN/inf and out-of-range values are counted */
  private addUnusual(out: Float32Array, a: Float32Array): void {
    const limit = OVERFLOW_AT[this.dtype]
    for (let i = 0; i < out.length; i++) {
      const d = Math.abs(out[i]! - a[i]!)
      if (d < Infinity) this.sumAbs += d
      const m = Math.abs(out[i]!)
      if (m < limit) continue
      if (m === Infinity || Number.isNaN(m)) this.nonFinite++
      else this.outOfRange++
    }
  }
}

/** Per-thread encode buffer, grown to the largest chunk seen. */
let encodeScratch = new Uint8Array(0)

/**
 * Where a key's float results go: each write is encoded to the output dtype and written with a
 * positioned write at its place in the output file (every worker writes its own keys into the one
 * `.partial` file). Statistics, when given, see every chunk before it is encoded.
 */
export class EncodingSink implements OutputSink {
  private written = 0
  private readonly elementSize: number

  constructor(
    private readonly fd: number,
    /** absolute byte position of the tensor's first element in the output file */
    private readonly position: number,
    private readonly dtype: FloatDType,
    readonly numel: number,
    private readonly stats: ChangeStats | null,
  ) {
    this.elementSize = dtypeSize(dtype)
  }

  write(start: number, data: Float32Array): void {
    if (!(Number.isInteger(start) && start >= 0 && start + data.length <= this.numel)) {
      throw new AmalgamError('INTERNAL', `a kernel wrote elements [${start}, ${start + data.length}) of a tensor of ${this.numel}`)
    }
    this.stats?.add(start, data)
    let bytes: Uint8Array
    if (this.dtype === 'F32') {
      bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    } else {
      const length = data.length * this.elementSize
      if (encodeScratch.length < length) encodeScratch = new Uint8Array(length)
      bytes = encodeFromFloat32(this.dtype, data, encodeScratch)
    }
    writeAtSync(this.fd, bytes, this.position + start * this.elementSize)
    this.written += data.length
  }

  get elementsWritten(): number {
    return this.written
  }
}
