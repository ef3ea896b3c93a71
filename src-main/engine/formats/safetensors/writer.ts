import { lstat, open, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { AmalgamError, fileError } from '../../errors'
import { encodeFromFloat32 } from '../codecs'
import { dtypeSize, isFloatDType, numelOf, type DType } from '../dtype'
import { ioError } from '../file-io'
import { MAX_HEADER_BYTES, METADATA_KEY } from './header'

export interface PlannedTensor {
  readonly key: string
  readonly dtype: DType
  readonly shape: readonly number[]
}

export interface ByteRange {
  readonly begin: number
  readonly end: number
}

export interface LayoutOptions {
  /** spare header bytes so metadata known only at the end (hashes) can be patched in by `finish` */
  readonly reserveMetadataBytes?: number
}

export interface SafetensorsLayout {
  /** the 8-byte little-endian header length, then the JSON header padded with spaces to a multiple of 8 */
  readonly headerBytes: Uint8Array
  /** = headerBytes.length: where tensor data starts */
  readonly dataStart: number
  /** per key, byte offsets relative to dataStart; contiguous, in the given order */
  readonly offsets: ReadonlyMap<string, ByteRange>
  /** size of the finished file */
  readonly totalBytes: number
}

/**
 * Plans a safetensors file: header bytes and where each tensor's data goes. `__metadata__.format` is
 * always "pt" (what transformers/diffusers expect of a torch file).
 */
export function layoutSafetensors(
  tensors: readonly PlannedTensor[],
  metadata: Readonly<Record<string, string>> = {},
  opts: LayoutOptions = {},
): SafetensorsLayout {
  const offsets = new Map<string, ByteRange>()
  let cursor = 0
  for (const t of tensors) {
    if (t.key === METADATA_KEY) throw new AmalgamError('BAD_ARGUMENT', `a tensor cannot be named ${METADATA_KEY}`)
    if (offsets.has(t.key)) throw new AmalgamError('BAD_ARGUMENT', `tensor ${JSON.stringify(t.key)} is listed twice`)
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new AmalgamError('BAD_ARGUMENT', `tensor ${JSON.stringify(t.key)}: shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`)
    }
    const end = cursor + numelOf(t.shape) * dtypeSize(t.dtype)
    offsets.set(t.key, { begin: cursor, end })
    cursor = end
  }
  const json = headerJsonBytes(tensors, offsets, metadata)
  const reserve = opts.reserveMetadataBytes ?? 0
  const capacity = Math.ceil((json.length + reserve) / 8) * 8
  if (capacity > MAX_HEADER_BYTES) throw new AmalgamError('BAD_ARGUMENT', `the safetensors header would be ${capacity} bytes, over the ${MAX_HEADER_BYTES}-byte limit`)
  const headerBytes = new Uint8Array(8 + capacity)
  new DataView(headerBytes.buffer).setBigUint64(0, BigInt(capacity), true)
  headerBytes.fill(0x20, 8)
  headerBytes.set(json, 8)
  return { headerBytes, dataStart: headerBytes.length, offsets, totalBytes: headerBytes.length + cursor }
}

/** The header JSON, written by hand so keys keep the given order (JS objects move integer-like keys first). */
function headerJsonBytes(tensors: readonly PlannedTensor[], offsets: ReadonlyMap<string, ByteRange>, metadata: Readonly<Record<string, string>>): Uint8Array {
  const meta = Object.entries({ ...metadata, format: 'pt' }).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
  const parts = [`${JSON.stringify(METADATA_KEY)}:{${meta.join(',')}}`]
  for (const t of tensors) {
    const { begin, end } = offsets.get(t.key)!
    parts.push(`${JSON.stringify(t.key)}:{"dtype":"${t.dtype}","shape":${JSON.stringify(t.shape)},"data_offsets":[${begin},${end}]}`)
  }
  return new TextEncoder().encode(`{${parts.join(',')}}`)
}

export interface WriterOptions extends LayoutOptions {
  /** replace an existing file at the output path (an input is never replaced) */
  readonly overwrite?: boolean
  /** the files being merged: the output may not be any of them, whatever `overwrite` says */
  readonly inputs?: readonly string[]
}

/** Node refuses single writes over 2 GiB; larger ones are split. */
const MAX_WRITE_BYTES = 1 << 30

/** Elements encoded per write by writeTensor: keeps the encode buffer at a few MiB whatever the tensor size. */
const ENCODE_CHUNK_ELEMENTS = 1 << 20

/**
 * Writes a safetensors file through `<path>.partial`: the header goes first (with room reserved for
 * late metadata), tensor bytes go to their planned offsets (here or from other threads with positioned
 * writes at `positionFor(key)` into `partialPath`), and `finish` makes the file durable and renames it.
 * Until then nothing exists under the final name.
 */
export class SafetensorsFileWriter {
  private handle: FileHandle | null
  private state: 'open' | 'finished' | 'aborted' = 'open'
  private encodeBuffer: Uint8Array | null = null
  private readonly planned: ReadonlyMap<string, PlannedTensor>

  private constructor(
    readonly path: string,
    readonly partialPath: string,
    readonly layout: SafetensorsLayout,
    private readonly tensors: readonly PlannedTensor[],
    private readonly metadata: Readonly<Record<string, string>>,
    handle: FileHandle,
  ) {
    this.handle = handle
    this.planned = new Map(tensors.map((t) => [t.key, t]))
  }

  static async create(
    path: string,
    tensors: readonly PlannedTensor[],
    metadata: Readonly<Record<string, string>> = {},
    opts: WriterOptions = {},
  ): Promise<SafetensorsFileWriter> {
    const layout = layoutSafetensors(tensors, metadata, opts)
    await refuseInputAsOutput(path, opts.inputs ?? [])
    await refuseExistingOutput(path, opts.overwrite ?? false)
    const partialPath = `${path}.partial`
    const handle = await createExclusive(partialPath, opts.overwrite ?? false)
    const writer = new SafetensorsFileWriter(path, partialPath, layout, tensors, metadata, handle)
    try {
      await writer.writeAt(layout.headerBytes, 0)
    } catch (err) {
      await writer.abort()
      throw err
    }
    return writer
  }

  /** Absolute byte offset in the file where `key`'s data starts. */
  positionFor(key: string): number {
    return this.layout.dataStart + this.rangeOf(key).begin
  }

  /** Writes a tensor's stored bytes (little-endian, exactly its planned size). */
  async writeTensorBytes(key: string, bytes: Uint8Array): Promise<void> {
    const { begin, end } = this.rangeOf(key)
    if (bytes.length !== end - begin) {
      throw new AmalgamError('INTERNAL', `${this.path}: tensor ${JSON.stringify(key)} needs ${end - begin} bytes, got ${bytes.length}`)
    }
    await this.writeAt(bytes, this.layout.dataStart + begin)
  }

  /** Encodes float32 values to the tensor's planned float dtype and writes them. */
  async writeTensor(key: string, data: Float32Array): Promise<void> {
    const planned = this.planned.get(key)
    if (planned === undefined) throw this.unknownKey(key)
    const { dtype } = planned
    if (!isFloatDType(dtype)) throw new AmalgamError('INTERNAL', `${this.path}: tensor ${JSON.stringify(key)} is ${dtype}; write its bytes with writeTensorBytes`)
    const numel = numelOf(planned.shape)
    if (data.length !== numel) throw new AmalgamError('INTERNAL', `${this.path}: tensor ${JSON.stringify(key)} has ${numel} elements, got ${data.length}`)
    const size = dtypeSize(dtype)
    this.encodeBuffer ??= new Uint8Array(ENCODE_CHUNK_ELEMENTS * 8)
    let position = this.positionFor(key)
    for (let start = 0; start < numel; start += ENCODE_CHUNK_ELEMENTS) {
      const chunk = data.subarray(start, Math.min(numel, start + ENCODE_CHUNK_ELEMENTS))
      const bytes = encodeFromFloat32(dtype, chunk, this.encodeBuffer)
      await this.writeAt(bytes, position)
      position += chunk.length * size
    }
  }

  /**
   * Completes the file: `patchMetadata` entries are merged into the metadata and the header is
   * rewritten in its reserved space (an error if it no longer fits), then fsync, close, rename to the
   * final name and fsync the directory. After an error, call `abort` to remove the partial file.
   */
  async finish(patchMetadata?: Readonly<Record<string, string>>): Promise<void> {
    const handle = this.openHandle()
    if (patchMetadata !== undefined) {
      const json = headerJsonBytes(this.tensors, this.layout.offsets, { ...this.metadata, ...patchMetadata })
      const capacity = this.layout.dataStart - 8
      if (json.length > capacity) {
        throw new AmalgamError('INTERNAL', `${this.path}: the final metadata needs ${json.length} header bytes, only ${capacity} were reserved`)
      }
      const header = new Uint8Array(capacity).fill(0x20)
      header.set(json)
      await this.writeAt(header, 8)
    }
    try {
      const { size } = await handle.stat()
      if (size !== this.layout.totalBytes) {
        throw new AmalgamError('INTERNAL', `${this.partialPath}: file is ${size} bytes, expected ${this.layout.totalBytes}: not every tensor was written`)
      }
      await handle.sync()
      this.handle = null
      await handle.close()
      await rename(this.partialPath, this.path)
    } catch (err) {
      throw ioError(err, this.partialPath)
    }
    this.state = 'finished'
    await syncDirectory(dirname(this.path))
  }

  /** Closes and deletes the partial file. Safe to call more than once and after a failed finish; a no-op after a successful one. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return
    this.state = 'aborted'
    const handle = this.handle
    this.handle = null
    await handle?.close().catch(() => undefined)
    await unlink(this.partialPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw ioError(err, this.partialPath)
    })
  }

  private rangeOf(key: string): ByteRange {
    const range = this.layout.offsets.get(key)
    if (range === undefined) throw this.unknownKey(key)
    return range
  }

  private unknownKey(key: string): AmalgamError {
    return new AmalgamError('INTERNAL', `${this.path}: tensor ${JSON.stringify(key)} is not in the planned layout`)
  }

  private openHandle(): FileHandle {
    if (this.state !== 'open' || this.handle === null) throw new AmalgamError('INTERNAL', `${this.path}: the writer is already ${this.state === 'open' ? 'closing' : this.state}`)
    return this.handle
  }

  private async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    const handle = this.openHandle()
    try {
      let done = 0
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, Math.min(bytes.length - done, MAX_WRITE_BYTES), position + done)
        done += bytesWritten
      }
    } catch (err) {
      throw ioError(err, this.partialPath)
    }
  }
}

/** OUTPUT_IS_INPUT when `path` names one of `inputs`, also through symlinks or hard links. */
export async function refuseInputAsOutput(path: string, inputs: readonly string[]): Promise<void> {
  if (inputs.length === 0) return
  const outputStat = await stat(path).catch(() => null)
  const outputReal = await realpath(dirname(path))
    .then((dir) => join(dir, basename(path)))
    .catch(() => resolve(path))
  for (const input of inputs) {
    const inputStat = await stat(input).catch(() => null)
    const sameInode = outputStat !== null && inputStat !== null && outputStat.dev === inputStat.dev && outputStat.ino === inputStat.ino
    const inputReal = await realpath(input).catch(() => resolve(input))
    if (sameInode || inputReal === outputReal) {
      throw fileError('OUTPUT_IS_INPUT', path, `the output would overwrite the input ${input}; choose another output name`)
    }
  }
}

async function refuseExistingOutput(path: string, overwrite: boolean): Promise<void> {
  const existing = await lstat(path).catch(() => null)
  if (existing === null) return
  if (existing.isDirectory()) throw fileError('OUTPUT_EXISTS', path, 'a directory has this name')
  if (!overwrite) throw fileError('OUTPUT_EXISTS', path, 'the output file already exists (allow overwriting to replace it)')
}

/** Creates `partialPath` exclusively; a stale partial from an interrupted run is replaced only when overwriting. */
async function createExclusive(partialPath: string, overwrite: boolean): Promise<FileHandle> {
  try {
    return await open(partialPath, 'wx')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(err, partialPath)
    if (!overwrite) {
      throw fileError('OUTPUT_EXISTS', partialPath, 'a partial output already exists (another merge may be writing it; delete it if none is)')
    }
  }
  try {
    await unlink(partialPath)
    return await open(partialPath, 'wx')
  } catch (err) {
    throw ioError(err, partialPath)
  }
}

/** Makes the rename durable. Some platforms cannot open a directory for fsync; there it is skipped. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle
  try {
    handle = await open(dir, 'r')
  } catch {
    return
  }
  try {
    await handle.sync()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw ioError(err, dir)
  } finally {
    await handle.close()
  }
}

export interface TensorToWrite extends PlannedTensor {
  /** float values (encoded to `dtype`), or the raw little-endian stored bytes (integer tensors, exact copies) */
  readonly data: Float32Array | Uint8Array
}

/** Writes a whole safetensors file from in-memory tensors (tests, fixtures, conversions). */
export async function writeSafetensorsFile(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata: Readonly<Record<string, string>> = {},
  opts: WriterOptions = {},
): Promise<void> {
  const writer = await SafetensorsFileWriter.create(path, tensors, metadata, opts)
  try {
    for (const t of tensors) {
      if (t.data instanceof Float32Array) await writer.writeTensor(t.key, t.data)
      else await writer.writeTensorBytes(t.key, t.data)
    }
    await writer.finish()
  } catch (err) {
    await writer.abort()
    throw err
  }
}
