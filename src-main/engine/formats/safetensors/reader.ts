import type { FileHandle } from 'node:fs/promises'
import { fileError } from '../../errors'
import type { Checkpoint, TensorInfo, TensorLocator } from '../checkpoint'
import { decodeToFloat32 } from '../codecs'
import { readAt, readFileWith } from '../file-io'
import { MAX_HEADER_BYTES, parseSafetensorsHeader, type HeaderEntry } from './header'
import { findScaledFp8, isGgufMagic, refuseGguf, refuseQuantized, type ScaledFp8Layout } from './quantized'

/** Scale tensors closer together than this are fetched with one read (they are usually adjacent). */
const SCALE_SPAN_READ_LIMIT = 16 << 20

/**
 * Opens a safetensors file by reading only its length prefix and JSON header (plus the scalars of a
 * scaled-fp8 file), validates it, and returns the tensor table with a locator per tensor.
 */
export async function openSafetensors(path: string): Promise<Checkpoint> {
  if (/\.gguf$/i.test(path)) throw refuseGguf(path)
  return readFileWith(path, (handle) => readCheckpoint(path, handle))
}

async function readCheckpoint(path: string, handle: FileHandle): Promise<Checkpoint> {
  const stat = await handle.stat()
  if (!stat.isFile()) throw fileError('FILE_UNREADABLE', path, 'is not a regular file')
  const fileSize = stat.size
  if (fileSize < 8) throw fileError('BAD_HEADER', path, `file is ${fileSize} bytes, too short for the 8-byte header length`)
  const head = await readAt(handle, 8, 0)
  if (isGgufMagic(head)) throw refuseGguf(path)
  const declared = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true)
  // checked before anything is allocated: the declared length may be absurd (2^63)
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw fileError('BAD_HEADER', path, `header length ${declared} is larger than the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`)
  }
  const headerLength = Number(declared)
  if (8 + headerLength > fileSize) {
    throw fileError('BAD_HEADER', path, `header length ${headerLength} is larger than the rest of the file (${fileSize - 8} bytes)`)
  }
  const headerBytes = await readAt(handle, headerLength, 8)
  if (headerBytes.length !== headerLength) throw fileError('FILE_UNREADABLE', path, 'the file shrank while its header was read')
  const dataStart = 8 + headerLength
  const header = parseSafetensorsHeader(path, headerBytes, fileSize - dataStart)
  refuseQuantized(path, header)
  const scaled = findScaledFp8(path, header)
  const scales = scaled ? await readScales(path, handle, scaled, dataStart) : new Map<string, number>()

  const tensors: TensorInfo[] = []
  const unsupported = new Set<string>()
  for (const entry of header.entries) {
    if (scaled?.consumed.has(entry.key)) continue
    if (entry.dtype === null) unsupported.add(entry.storedDtype)
    tensors.push(tensorInfo(path, entry, dataStart, scales.get(entry.key)))
  }
  const notes = scaled ? [`dequantised scaled fp8 (${scaled.scaleOf.size} layers)`] : []
  return {
    path,
    format: 'safetensors',
    fileSize,
    tensors,
    metadata: header.metadata,
    ...(unsupported.size > 0 ? { unsupported: `unsupported: ${[...unsupported].join(', ')}` } : {}),
    notes,
    dataStart,
  }
}

function tensorInfo(path: string, entry: HeaderEntry, dataStart: number, scale: number | undefined): TensorInfo {
  // a dtype we cannot compute on is listed as raw bytes; the locator says why its data cannot be read
  const dtype = entry.dtype ?? 'U8'
  const locator: TensorLocator = {
    path,
    key: entry.key,
    dtype,
    shape: entry.shape,
    offset: dataStart + entry.begin,
    byteLength: entry.end - entry.begin,
    ...(scale !== undefined ? { scale } : {}),
    ...(entry.dtype === null ? { unsupportedDtype: entry.storedDtype } : {}),
  }
  return { key: entry.key, dtype, shape: entry.shape, locator }
}

/** Reads every scaled-fp8 scale scalar (weight key → scale), in one read when they sit close together. */
async function readScales(path: string, handle: FileHandle, layout: ScaledFp8Layout, dataStart: number): Promise<Map<string, number>> {
  const scales = new Map<string, number>()
  const wanted = [...layout.scaleOf]
  if (wanted.length === 0) return scales
  const first = Math.min(...wanted.map(([, s]) => s.begin))
  const last = Math.max(...wanted.map(([, s]) => s.end))
  const span = last - first <= SCALE_SPAN_READ_LIMIT ? await readAt(handle, last - first, dataStart + first) : null
  for (const [weightKey, scale] of wanted) {
    const length = scale.end - scale.begin
    const bytes = span ? span.subarray(scale.begin - first, scale.end - first) : await readAt(handle, length, dataStart + scale.begin)
    if (bytes.length !== length) throw fileError('FILE_UNREADABLE', path, `tensor ${JSON.stringify(scale.key)}: the file shrank while it was read`)
    scales.set(weightKey, decodeToFloat32(scale.dtype, bytes)[0]!)
  }
  return scales
}
