import type { FileHandle } from 'node:fs/promises'
import { promisify } from 'node:util'
import { crc32, inflateRaw } from 'node:zlib'
import { fileError } from '../../errors'
import { readAt } from '../file-io'

/*
 * Just enough of the zip format (APPNOTE 6.3) to find torch's entries and read them in place:
 * the central directory (ZIP64 included, for checkpoints over 4 GB) and the local headers that say
 * where each entry's data starts. Every offset and size read from the file is checked against the
 * file before it is used, so a damaged or hostile archive fails with BAD_ZIP instead of reading
 * garbage, allocating a declared 2^64 bytes or waiting for data that never comes.
 */

export interface ZipEntry {
  readonly name: string
  /** 0 = stored, 8 = deflate */
  readonly method: number
  readonly flags: number
  readonly compressedSize: number
  readonly size: number
  readonly localHeaderOffset: number
  readonly crc32: number
}

export interface ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>
  /** entry data must end before the central directory starts */
  readonly centralDirectoryOffset: number
}

const END_SIGNATURE = 0x06054b50
const END_SIZE = 22
const MAX_COMMENT = 0xffff
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50
const ZIP64_LOCATOR_SIZE = 20
const ZIP64_END_SIGNATURE = 0x06064b50
const ZIP64_END_SIZE = 56
const CENTRAL_SIGNATURE = 0x02014b50
const CENTRAL_SIZE = 46
const LOCAL_SIGNATURE = 0x04034b50
const LOCAL_SIZE = 30
const ZIP64_EXTRA_ID = 0x0001
const SATURATED_32 = 0xffffffff
const SATURATED_16 = 0xffff
/** ~60 bytes per entry: room for millions of tensors */
const MAX_CENTRAL_DIRECTORY_BYTES = 256 << 20
const FLAG_ENCRYPTED = 0x1
export const METHOD_STORED = 0
const METHOD_DEFLATE = 8
/** deflate cannot exceed ~1032:1; a pickle that compresses past 100:1 is built to expand, not to be read */
const MAX_INFLATE_RATIO = 100
/** local headers whose span fits in this are read together */
const HEADER_BATCH_BYTES = 1 << 20

const inflateRawAsync = promisify(inflateRaw)
const nameDecoder = new TextDecoder('utf-8')

export async function readZipArchive(handle: FileHandle, path: string, fileSize: number): Promise<ZipArchive> {
  const tailLength = Math.min(fileSize, END_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE)
  const tailStart = fileSize - tailLength
  const tail = await readExactly(handle, path, tailLength, tailStart, 'the end of the archive')
  const tailView = viewOf(tail)
  const end = findEndRecord(tail, tailView)
  if (end < 0) throw fileError('BAD_ZIP', path, 'has no zip end record: the file is truncated or damaged')

  let diskNumbers = [tailView.getUint16(end + 4, true), tailView.getUint16(end + 6, true)]
  let count = tailView.getUint16(end + 10, true)
  let directorySize = tailView.getUint32(end + 12, true)
  let directoryOffset = tailView.getUint32(end + 16, true)
  let directoryLimit = tailStart + end
  const locator = end - ZIP64_LOCATOR_SIZE
  if (locator >= 0 && tailView.getUint32(locator, true) === ZIP64_LOCATOR_SIGNATURE) {
    const recordOffset = safeNumber(path, tailView.getBigUint64(locator + 8, true), 'ZIP64 end record offset')
    if (recordOffset + ZIP64_END_SIZE > tailStart + locator) throw fileError('BAD_ZIP', path, `ZIP64 end record offset ${recordOffset} is past the end of the archive`)
    const record = viewOf(await readExactly(handle, path, ZIP64_END_SIZE, recordOffset, 'the ZIP64 end record'))
    if (record.getUint32(0, true) !== ZIP64_END_SIGNATURE) throw fileError('BAD_ZIP', path, `no ZIP64 end record at byte ${recordOffset}`)
    diskNumbers = [record.getUint32(16, true), record.getUint32(20, true)]
    count = safeNumber(path, record.getBigUint64(32, true), 'entry count')
    directorySize = safeNumber(path, record.getBigUint64(40, true), 'central directory size')
    directoryOffset = safeNumber(path, record.getBigUint64(48, true), 'central directory offset')
    directoryLimit = recordOffset
  }
  if (diskNumbers.some((n) => n !== 0)) throw fileError('BAD_ZIP', path, 'is a zip archive split across several files, which torch never writes')
  if (directoryOffset + directorySize > directoryLimit) {
    throw fileError('BAD_ZIP', path, `the central directory (${directorySize} bytes at ${directoryOffset}) runs past the end record: the archive is truncated or damaged`)
  }
  if (directorySize > MAX_CENTRAL_DIRECTORY_BYTES) throw fileError('BAD_ZIP', path, `the central directory is ${directorySize} bytes, more than the ${MAX_CENTRAL_DIRECTORY_BYTES}-byte limit`)
  if (count * CENTRAL_SIZE > directorySize) throw fileError('BAD_ZIP', path, `${count} entries cannot fit in a ${directorySize}-byte central directory`)
  const directory = await readExactly(handle, path, directorySize, directoryOffset, 'the central directory')
  return { entries: parseCentralDirectory(path, directory, count, directoryOffset), centralDirectoryOffset: directoryOffset }
}

/** The end record: the signature at a place where its comment ends exactly at the end of the file. */
function findEndRecord(tail: Uint8Array, view: DataView): number {
  for (let at = tail.length - END_SIZE; at >= 0; at--) {
    if (view.getUint32(at, true) === END_SIGNATURE && at + END_SIZE + view.getUint16(at + 20, true) === tail.length) return at
  }
  return -1
}

function parseCentralDirectory(path: string, directory: Uint8Array, count: number, directoryOffset: number): Map<string, ZipEntry> {
  const view = viewOf(directory)
  const entries = new Map<string, ZipEntry>()
  let at = 0
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_SIZE > directory.length || view.getUint32(at, true) !== CENTRAL_SIGNATURE) {
      throw fileError('BAD_ZIP', path, `central directory entry ${i} (byte ${directoryOffset + at}) is damaged`)
    }
    const nameLength = view.getUint16(at + 28, true)
    const extraLength = view.getUint16(at + 30, true)
    const commentLength = view.getUint16(at + 32, true)
    const next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength
    if (next > directory.length) throw fileError('BAD_ZIP', path, `central directory entry ${i} runs past the directory`)
    const name = nameDecoder.decode(directory.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength))
    const sizes = {
      size: view.getUint32(at + 24, true),
      compressedSize: view.getUint32(at + 20, true),
      localHeaderOffset: view.getUint32(at + 42, true),
      disk: view.getUint16(at + 34, true),
    }
    applyZip64Extra(path, name, viewOf(directory.subarray(at + CENTRAL_SIZE + nameLength, at + CENTRAL_SIZE + nameLength + extraLength)), sizes)
    if (sizes.disk !== 0) throw fileError('BAD_ZIP', path, `entry ${JSON.stringify(name)} is on another disk of a split archive`)
    if (entries.has(name)) throw fileError('BAD_ZIP', path, `the archive holds two entries named ${JSON.stringify(name)}`)
    if (sizes.localHeaderOffset >= directoryOffset) throw fileError('BAD_ZIP', path, `entry ${JSON.stringify(name)} starts past the central directory`)
    entries.set(name, {
      name,
      method: view.getUint16(at + 10, true),
      flags: view.getUint16(at + 8, true),
      compressedSize: sizes.compressedSize,
      size: sizes.size,
      localHeaderOffset: sizes.localHeaderOffset,
      crc32: view.getUint32(at + 16, true),
    })
    at = next
  }
  return entries
}

/** Replaces saturated 32-bit fields with their 64-bit values, in the order APPNOTE 4.5.3 gives. */
function applyZip64Extra(path: string, name: string, extra: DataView, sizes: { size: number; compressedSize: number; localHeaderOffset: number; disk: number }): void {
  let at = 0
  while (at + 4 <= extra.byteLength) {
    const id = extra.getUint16(at, true)
    const length = extra.getUint16(at + 2, true)
    const body = at + 4
    if (body + length > extra.byteLength) throw fileError('BAD_ZIP', path, `entry ${JSON.stringify(name)} has a damaged extra field`)
    if (id === ZIP64_EXTRA_ID) {
      let field = body
      const next = (what: string): number => {
        if (field + 8 > body + length) throw fileError('BAD_ZIP', path, `entry ${JSON.stringify(name)}: the ZIP64 field lacks the ${what}`)
        const value = safeNumber(path, extra.getBigUint64(field, true), `${what} of ${JSON.stringify(name)}`)
        field += 8
        return value
      }
      if (sizes.size === SATURATED_32) sizes.size = next('size')
      if (sizes.compressedSize === SATURATED_32) sizes.compressedSize = next('compressed size')
      if (sizes.localHeaderOffset === SATURATED_32) sizes.localHeaderOffset = next('header offset')
      if (sizes.disk === SATURATED_16) {
        if (field + 4 > body + length) throw fileError('BAD_ZIP', path, `entry ${JSON.stringify(name)}: the ZIP64 field lacks the disk number`)
        sizes.disk = extra.getUint32(field, true)
      }
    }
    at = body + length
  }
}

/**
 * Absolute offsets of the entries' data (name → offset), from their local headers, whose extra
 * field torch uses to align data to 64 bytes. Headers close together (small tensors) are fetched
 * with one read.
 */
export async function entryDataOffsets(handle: FileHandle, path: string, archive: ZipArchive, entries: readonly ZipEntry[]): Promise<Map<string, number>> {
  const sorted = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset)
  const headerEnd = (entry: ZipEntry): number => entry.localHeaderOffset + LOCAL_SIZE + Buffer.byteLength(entry.name, 'utf8')
  const offsets = new Map<string, number>()
  for (let first = 0; first < sorted.length; ) {
    const start = sorted[first]!.localHeaderOffset
    let last = first
    while (last + 1 < sorted.length && headerEnd(sorted[last + 1]!) - start <= HEADER_BATCH_BYTES) last++
    const span = await readExactly(handle, path, headerEnd(sorted[last]!) - start, start, `the headers of ${sorted[first]!.name}…`)
    for (const entry of sorted.slice(first, last + 1)) {
      const at = entry.localHeaderOffset - start
      offsets.set(entry.name, parseLocalHeader(path, archive, entry, span.subarray(at, at + headerEnd(entry) - entry.localHeaderOffset)))
    }
    first = last + 1
  }
  return offsets
}

function parseLocalHeader(path: string, archive: ZipArchive, entry: ZipEntry, header: Uint8Array): number {
  const view = viewOf(header)
  if (view.getUint32(0, true) !== LOCAL_SIGNATURE) throw fileError('BAD_ZIP', path, `no local header for ${entry.name} at byte ${entry.localHeaderOffset}`)
  const nameLength = view.getUint16(26, true)
  const extraLength = view.getUint16(28, true)
  if (nameLength !== header.length - LOCAL_SIZE || nameDecoder.decode(header.subarray(LOCAL_SIZE)) !== entry.name) {
    throw fileError('BAD_ZIP', path, `the local header at byte ${entry.localHeaderOffset} does not name ${entry.name}`)
  }
  const dataOffset = entry.localHeaderOffset + LOCAL_SIZE + nameLength + extraLength
  if (dataOffset + entry.compressedSize > archive.centralDirectoryOffset) {
    throw fileError('BAD_ZIP', path, `the data of ${entry.name} (${entry.compressedSize} bytes at ${dataOffset}) runs into the central directory`)
  }
  return dataOffset
}

/**
 * An entry's content, inflated if needed and checked against its CRC-32 (as torch's reader does),
 * refusing anything that would expand past `maxBytes`.
 */
export async function readEntry(handle: FileHandle, path: string, archive: ZipArchive, entry: ZipEntry, maxBytes: number): Promise<Uint8Array> {
  const content = await readEntryContent(handle, path, archive, entry, maxBytes)
  if (crc32(content) !== entry.crc32) throw fileError('BAD_ZIP', path, `${entry.name} is damaged (its CRC-32 does not match)`)
  return content
}

async function readEntryContent(handle: FileHandle, path: string, archive: ZipArchive, entry: ZipEntry, maxBytes: number): Promise<Uint8Array> {
  refuseEncrypted(path, entry)
  if (entry.size > maxBytes) throw fileError('BAD_ZIP', path, `${entry.name} is ${entry.size} bytes, more than the ${maxBytes}-byte limit`)
  const dataOffset = (await entryDataOffsets(handle, path, archive, [entry])).get(entry.name)!
  if (entry.method === METHOD_STORED) {
    if (entry.compressedSize !== entry.size) throw fileError('BAD_ZIP', path, `${entry.name} is stored but its sizes differ (${entry.compressedSize} vs ${entry.size})`)
    return readExactly(handle, path, entry.size, dataOffset, entry.name)
  }
  if (entry.method !== METHOD_DEFLATE) throw fileError('UNSUPPORTED_FORMAT', path, `${entry.name} is compressed with zip method ${entry.method}; only stored and deflate are read`)
  if (entry.size > MAX_INFLATE_RATIO * Math.max(entry.compressedSize, 1)) {
    throw fileError('BAD_ZIP', path, `${entry.name} would expand ${entry.compressedSize} bytes into ${entry.size} (over ${MAX_INFLATE_RATIO}:1): refused as a zip bomb`)
  }
  const compressed = await readExactly(handle, path, entry.compressedSize, dataOffset, entry.name)
  let inflated: Uint8Array
  try {
    // the declared size bounds the output: a stream that lies about its size stops there
    inflated = await inflateRawAsync(compressed, { maxOutputLength: Math.max(entry.size, 1) })
  } catch (err) {
    const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
    const why = tooLarge ? `inflates past its declared ${entry.size} bytes: refused as a zip bomb` : `cannot be inflated (${err instanceof Error ? err.message : String(err)})`
    throw fileError('BAD_ZIP', path, `${entry.name} ${why}`)
  }
  if (inflated.length !== entry.size) throw fileError('BAD_ZIP', path, `${entry.name} inflates to ${inflated.length} bytes, not the declared ${entry.size}`)
  return inflated
}

export function refuseEncrypted(path: string, entry: ZipEntry): void {
  if (entry.flags & FLAG_ENCRYPTED) throw fileError('UNSUPPORTED_FORMAT', path, `${entry.name} is encrypted`)
}

async function readExactly(handle: FileHandle, path: string, length: number, position: number, what: string): Promise<Uint8Array> {
  const bytes = await readAt(handle, length, position)
  if (bytes.length !== length) throw fileError('BAD_ZIP', path, `${what} (${length} bytes at ${position}) is past the end of the file: the archive is truncated`)
  return bytes
}

function safeNumber(path: string, value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw fileError('BAD_ZIP', path, `${what} ${value} is impossibly large`)
  return Number(value)
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
