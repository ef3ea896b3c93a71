import { createHash } from 'node:crypto'
import { closeSync, fstatSync, openSync } from 'node:fs'
import type { Hashes } from '../../common/model-entry'
import { AmalgamError, fileError } from '../errors'
import { ioError, readAtSync } from '../formats/file-io'
import type { HashCache } from './hash-cache'

/*
 * The hashes model sites and UIs identify checkpoints by, all from one read of the file:
 * - sha256: the whole file; AutoV2 (A1111's short hash, civitai) is its first 10 hex digits
 * - AutoV1: A1111's legacy "model hash", SHA-256 of the 64 KiB at offset 1 MiB, 8 hex digits
 * - tensorSha256: the bytes after the safetensors header (modelspec.hash_sha256); AutoV3 is its
 *   first 12 hex digits. Metadata edits leave it unchanged, which is why civitai uses it.
 */

const AUTOV1_OFFSET = 0x100000
const AUTOV1_LENGTH = 0x10000
/** Large reads keep the syscall count low; the buffer is reused for the whole file. */
const READ_BYTES = 16 << 20
/** how often progress is reported while a file is hashed */
export const HASH_PROGRESS_BYTES = 64 << 20

/**
 * Hashes one file in a single streaming pass (synchronous reads: it runs in a worker thread).
 * `dataStart` is where a safetensors file's tensor data begins (null for other formats: no
 * tensor hash). `onProgress` is called every HASH_PROGRESS_BYTES and at the end.
 */
export function hashFileSync(path: string, dataStart: number | null, onProgress?: (bytesDone: number, bytesTotal: number) => void): Hashes {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw ioError(err, path)
  }
  try {
    const size = fstatSync(fd).size
    if (dataStart !== null && !(Number.isInteger(dataStart) && dataStart >= 8 && dataStart <= size)) {
      throw new AmalgamError('INTERNAL', `${path}: tensor data start ${dataStart} is outside the file (${size} bytes)`)
    }
    const whole = createHash('sha256')
    const tensors = dataStart === null ? null : createHash('sha256')
    const legacy = createHash('sha256')
    const buffer = new Uint8Array(Math.min(READ_BYTES, Math.max(size, 1)))
    let position = 0
    let reported = 0
    while (position < size) {
      const want = Math.min(buffer.length, size - position)
      const chunk = buffer.subarray(0, want)
      let got: number
      try {
        got = readAtSync(fd, chunk, position)
      } catch (err) {
        throw ioError(err, path)
      }
      if (got !== want) throw fileError('FILE_UNREADABLE', path, `the file shrank to ${position + got} bytes while it was hashed`)
      whole.update(chunk)
      if (tensors !== null && dataStart !== null && position + want > dataStart) tensors.update(chunk.subarray(Math.max(0, dataStart - position)))
      const from = Math.max(position, AUTOV1_OFFSET)
      const to = Math.min(position + want, AUTOV1_OFFSET + AUTOV1_LENGTH)
      if (from < to) legacy.update(chunk.subarray(from - position, to - position))
      position += want
      if (onProgress !== undefined && position - reported >= HASH_PROGRESS_BYTES) {
        reported = position
        onProgress(position, size)
      }
    }
    onProgress?.(size, size)
    const sha256 = whole.digest('hex')
    const tensorSha256 = tensors?.digest('hex') ?? null
    return {
      sha256,
      autov2: sha256.slice(0, 10),
      autov1: legacy.digest('hex').slice(0, 8),
      tensorSha256,
      autov3: tensorSha256?.slice(0, 12) ?? null,
    }
  } finally {
    closeSync(fd)
  }
}

/** A file to hash, as it was when it was looked at: the cache is keyed by (path, size, mtimeMs). */
export interface HashRequest {
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
  readonly dataStart: number | null
}

/** Runs hashFileSync somewhere else (a worker thread), reporting bytes hashed so far. */
export type FileHasher = (request: HashRequest, onBytes: (bytesDone: number) => void, signal: AbortSignal) => Promise<Hashes>

export interface HashProgress {
  /** files finished so far, of `total` */
  readonly done: number
  readonly total: number
  readonly path: string
  readonly bytesDone: number
  readonly bytesTotal: number
}

export interface HashFilesOptions {
  readonly hasher: FileHasher
  /** null: hash everything, remember nothing */
  readonly cache: HashCache | null
  readonly signal: AbortSignal
  readonly onProgress?: (progress: HashProgress) => void
}

/**
 * Hashes of every requested file (keyed by path), from the cache when it knows the file at this
 * size and modification time, else computed (all at once: the hasher's pool bounds the
 * parallelism) and stored in the cache.
 */
export async function hashFiles(requests: readonly HashRequest[], opts: HashFilesOptions): Promise<Map<string, Hashes>> {
  const unique = [...new Map(requests.map((r) => [r.path, r])).values()]
  const result = new Map<string, Hashes>()
  const missing: HashRequest[] = []
  for (const request of unique) {
    const cached = opts.cache === null ? null : await opts.cache.get(request)
    if (cached !== null) result.set(request.path, cached)
    else missing.push(request)
  }
  const bytesTotal = missing.reduce((sum, r) => sum + r.size, 0)
  const bytesByFile = new Map<string, number>()
  let done = 0
  const report = (path: string): void => {
    const bytesDone = [...bytesByFile.values()].reduce((sum, n) => sum + n, 0)
    opts.onProgress?.({ done, total: missing.length, path, bytesDone, bytesTotal })
  }
  await Promise.all(
    missing.map(async (request) => {
      const hashes = await opts.hasher(
        request,
        (bytes) => {
          // progress travels apart from the result and may arrive after it
          if (result.has(request.path)) return
          bytesByFile.set(request.path, bytes)
          report(request.path)
        },
        opts.signal,
      )
      result.set(request.path, hashes)
      bytesByFile.set(request.path, request.size)
      await opts.cache?.set(request, hashes)
      done++
      report(request.path)
    }),
  )
  return result
}
