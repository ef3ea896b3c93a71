import { closeSync, fstatSync, openSync } from 'node:fs'
import { AmalgamError, fileError } from '../errors'
import type { TensorLocator } from './checkpoint'
import { byteSwapInPlace, decodeToFloat32 } from './codecs'
import { dtypeSize, numelOf } from './dtype'
import { ioError, readAtSync } from './file-io'
import { isContiguous } from './strides'

/** Bytes read per positioned read when decoding: bounds the scratch buffer whatever the tensor size. */
const READ_CHUNK_BYTES = 4 << 20

/**
 * Synchronous tensor reads for kernels, one instance per thread: file descriptors stay open per path
 * until `close`, and reads go through reusable scratch buffers, so a kernel reading a tensor in chunks
 * allocates nothing per chunk beyond the output it asks for.
 */
export class TensorReader {
  private readonly fds = new Map<string, number>()
  private scratch = new Uint8Array(0)
  private gatherBuffer = new Uint8Array(0)

  /**
   * Elements [start, end) of the tensor in C order, decoded to float32 with the locator's scale and
   * byte order applied. Written into `into` (which must hold end - start elements) or a new array.
   */
  readFloat32(loc: TensorLocator, start = 0, end = numelOf(loc.shape), into?: Float32Array): Float32Array {
    checkReadable(loc)
    const numel = numelOf(loc.shape)
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= numel)) {
      throw new AmalgamError('INTERNAL', `${describe(loc)}: element range [${start}, ${end}) is outside 0..${numel}`)
    }
    const count = end - start
    if (into !== undefined && into.length < count) throw new AmalgamError('INTERNAL', `${describe(loc)}: output holds ${into.length} elements, ${count} needed`)
    const out = into === undefined ? new Float32Array(count) : into.subarray(0, count)
    if (loc.strides !== undefined && !isContiguous(loc.shape, loc.strides)) {
      decodeToFloat32(loc.dtype, this.gather(loc, start, end), out)
    } else {
      this.readContiguous(loc, start, end, out)
    }
    const scale = loc.scale
    if (scale !== undefined && scale !== 1) {
      for (let i = 0; i < out.length; i++) out[i]! *= scale
    }
    return out
  }

  /**
   * The tensor's stored bytes, contiguous and little-endian (strided views gathered), in a new array
   * the caller may keep: for copying integer tensors and same-dtype copies. A scaled-fp8 tensor has no
   * meaningful raw bytes (they need the scale), so it must be read with readFloat32.
   */
  readBytes(loc: TensorLocator): Uint8Array {
    checkReadable(loc)
    if (loc.scale !== undefined && loc.scale !== 1) {
      throw new AmalgamError('INTERNAL', `${describe(loc)}: a scaled fp8 tensor's bytes are not its values; read it with readFloat32`)
    }
    const numel = numelOf(loc.shape)
    if (loc.strides !== undefined && !isContiguous(loc.shape, loc.strides)) return this.gather(loc, 0, numel).slice()
    const bytes = new Uint8Array(numel * dtypeSize(loc.dtype))
    this.readExactly(loc, bytes, loc.offset)
    if (loc.byteOrder === 'big') byteSwapInPlace(bytes, dtypeSize(loc.dtype))
    return bytes
  }

  /**
   * Stored bytes [byteStart, byteStart + into.length) of a contiguous tensor exactly as the file holds
   * them (no byte swap, no scale): for copying a tensor into a same-dtype output in large pieces.
   */
  readStoredRange(loc: TensorLocator, byteStart: number, into: Uint8Array): Uint8Array {
    checkReadable(loc)
    const total = numelOf(loc.shape) * dtypeSize(loc.dtype)
    if (loc.strides !== undefined && !isContiguous(loc.shape, loc.strides)) {
      throw new AmalgamError('INTERNAL', `${describe(loc)}: a strided view has no contiguous stored bytes; read it with readBytes`)
    }
    if (!(Number.isInteger(byteStart) && byteStart >= 0 && byteStart + into.length <= total)) {
      throw new AmalgamError('INTERNAL', `${describe(loc)}: byte range [${byteStart}, ${byteStart + into.length}) is outside 0..${total}`)
    }
    this.readExactly(loc, into, loc.offset + byteStart)
    return into
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd)
    this.fds.clear()
  }

  private readContiguous(loc: TensorLocator, start: number, end: number, out: Float32Array): void {
    const size = dtypeSize(loc.dtype)
    let position = loc.offset + start * size
    if (loc.dtype === 'F32' && loc.byteOrder !== 'big') {
      // already in the output's representation: read straight into it
      this.readExactly(loc, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), position)
      return
    }
    const perChunk = Math.max(1, Math.floor(READ_CHUNK_BYTES / size))
    for (let done = 0; done < out.length; done += perChunk) {
      const n = Math.min(perChunk, out.length - done)
      const bytes = this.scratchOf(n * size)
      this.readExactly(loc, bytes, position)
      if (loc.byteOrder === 'big') byteSwapInPlace(bytes, size)
      decodeToFloat32(loc.dtype, bytes, out.subarray(done, done + n))
      position += n * size
    }
  }

  /**
   * Elements [start, end) of a strided view, as contiguous little-endian stored bytes in the gather
   * buffer: reads the storage span those elements reach, then copies element by element.
   */
  private gather(loc: TensorLocator, start: number, end: number): Uint8Array {
    const strides = loc.strides!
    const size = dtypeSize(loc.dtype)
    const count = end - start
    const out = this.gatherOf(count * size)
    if (count === 0) return out
    let lowest = Infinity
    let highest = -Infinity
    walkStorage(loc.shape, strides, start, count, (index) => {
      if (index < lowest) lowest = index
      if (index > highest) highest = index
    })
    const span = this.scratchOf((highest - lowest + 1) * size)
    this.readExactly(loc, span, loc.offset + lowest * size)
    copyElements(span, out, size, loc.shape, strides, start, count, lowest)
    if (loc.byteOrder === 'big') byteSwapInPlace(out, size)
    return out
  }

  private readExactly(loc: TensorLocator, into: Uint8Array, position: number): void {
    const fd = this.fdFor(loc)
    let got: number
    try {
      got = readAtSync(fd, into, position)
    } catch (err) {
      throw ioError(err, loc.path, tensorName(loc))
    }
    if (got !== into.length) {
      const size = fstatSync(fd).size
      throw fileError(
        'FILE_UNREADABLE',
        loc.path,
        `${tensorName(loc)}: expected ${into.length} bytes at offset ${position} but the file ends at ${size} (was it changed or truncated after it was opened?)`,
      )
    }
  }

  private fdFor(loc: TensorLocator): number {
    let fd = this.fds.get(loc.path)
    if (fd === undefined) {
      try {
        fd = openSync(loc.path, 'r')
      } catch (err) {
        throw ioError(err, loc.path, tensorName(loc))
      }
      this.fds.set(loc.path, fd)
    }
    return fd
  }

  private scratchOf(length: number): Uint8Array {
    if (this.scratch.length < length) this.scratch = new Uint8Array(length)
    return this.scratch.subarray(0, length)
  }

  private gatherOf(length: number): Uint8Array {
    if (this.gatherBuffer.length < length) this.gatherBuffer = new Uint8Array(length)
    return this.gatherBuffer.subarray(0, length)
  }
}

function checkReadable(loc: TensorLocator): void {
  if (loc.unsupportedDtype !== undefined) {
    throw fileError('UNSUPPORTED_DTYPE', loc.path, `${tensorName(loc)} is stored as ${loc.unsupportedDtype}, which Amalgam cannot compute on`)
  }
}

function tensorName(loc: TensorLocator): string {
  return loc.key === undefined ? `tensor at byte ${loc.offset}` : `tensor ${JSON.stringify(loc.key)}`
}

function describe(loc: TensorLocator): string {
  return `${loc.path}: ${tensorName(loc)}`
}


/** Calls `visit` with the storage element index of each of `count` view elements from flat index `start`, in C order. */
function walkStorage(shape: readonly number[], strides: readonly number[], start: number, count: number, visit: (storageIndex: number) => void): void {
  const rank = shape.length
  const index = new Array<number>(rank).fill(0)
  let storage = 0
  let rest = start
  for (let d = rank - 1; d >= 0; d--) {
    const dim = shape[d]!
    index[d] = rest % dim
    rest = Math.floor(rest / dim)
    storage += index[d]! * strides[d]!
  }
  for (let n = 0; n < count; n++) {
    visit(storage)
    // odometer step: bump the last dimension, carrying into earlier ones
    for (let d = rank - 1; d >= 0; d--) {
      const next = index[d]! + 1
      if (next < shape[d]!) {
        index[d] = next
        storage += strides[d]!
        break
      }
      index[d] = 0
      storage -= (next - 1) * strides[d]!
    }
  }
}

/** Copies the elements of a strided view out of `span` (storage from element `lowest`) into contiguous `out`. */
function copyElements(
  span: Uint8Array,
  out: Uint8Array,
  size: number,
  shape: readonly number[],
  strides: readonly number[],
  start: number,
  count: number,
  lowest: number,
): void {
  let k = 0
  walkStorage(shape, strides, start, count, (index) => {
    const from = (index - lowest) * size
    for (let b = 0; b < size; b++) out[k + b] = span[from + b]!
    k += size
  })
}
