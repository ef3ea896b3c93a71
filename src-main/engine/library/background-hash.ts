import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Hashes } from '../../common/model-entry'
import { AmalgamError, isAmalgamError } from '../errors'
import { EngineWorkerPool } from '../execute/worker-pool'
import { ioError } from '../formats/file-io'
import { openCheckpoint } from '../formats/open'
import type { HashCache } from './hash-cache'
import { hashFiles, type HashRequest } from './hashes'

export interface HashJobProgress {
  /** files finished, of `total` */
  readonly done: number
  readonly total: number
  readonly path: string
  /** bytes of `path` hashed so far, of `bytesTotal` */
  readonly bytesDone: number
  readonly bytesTotal: number
}

export interface HashModelFilesOptions {
  /** results are taken from and stored in it (keyed by path, size and modification time); null: always hash */
  readonly cache: HashCache | null
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: HashJobProgress) => void
  /** each file's hashes as soon as they are known */
  readonly onHashed?: (path: string, hashes: Hashes) => void
  /** a file that could not be hashed; the others still are */
  readonly onError?: (error: AmalgamError) => void
}

/**
 * Hashes model files one after another in an engine worker thread (a hash reads the whole file: the
 * calling thread stays free), each file once per (path, size, mtime) thanks to the cache. The thread
 * lives for this call only. Returns the hashes by absolute path; CANCELLED when the signal fires.
 */
export async function hashModelFiles(paths: readonly string[], opts: HashModelFilesOptions): Promise<Map<string, Hashes>> {
  const signal = opts.signal ?? new AbortController().signal
  const files = [...new Set(paths.map((p) => resolve(p)))]
  const results = new Map<string, Hashes>()
  let pool: EngineWorkerPool | null = null
  try {
    for (const [index, path] of files.entries()) {
      if (signal.aborted) throw new AmalgamError('CANCELLED', 'hashing was cancelled')
      let size = 0
      const report = (done: number, bytesDone: number): void => opts.onProgress?.({ done, total: files.length, path, bytesDone, bytesTotal: size })
      try {
        const request = await hashRequestFor(path)
        size = request.size
        report(index, 0)
        const cached = (await opts.cache?.get(request)) ?? null
        let hashed: ReadonlyMap<string, Hashes>
        if (cached !== null) {
          hashed = new Map([[path, cached]])
        } else {
          // the worker thread starts only once a file really has to be read
          pool ??= new EngineWorkerPool({ threads: 1 })
          hashed = await hashFiles([request], { hasher: pool.hashFile, cache: opts.cache, signal, onProgress: (p) => report(index, p.bytesDone) })
        }
        for (const [file, hashes] of hashed) {
          results.set(file, hashes)
          opts.onHashed?.(file, hashes)
        }
      } catch (err) {
        if (signal.aborted || isAmalgamError(err, 'CANCELLED')) throw new AmalgamError('CANCELLED', 'hashing was cancelled')
        if (!isAmalgamError(err)) throw err
        opts.onError?.(err)
      }
      report(index + 1, size)
    }
  } finally {
    await pool?.destroy()
  }
  return results
}

/** Size and time for the cache key; a safetensors file's data start for its tensor hash (AutoV3). */
async function hashRequestFor(path: string): Promise<HashRequest> {
  let info
  try {
    info = await stat(path)
  } catch (err) {
    throw ioError(err, path)
  }
  if (!info.isFile()) throw new AmalgamError('BAD_ARGUMENT', `${path}: only single files are hashed, not folders`, path)
  // a file whose header cannot be read still gets its full-file hashes
  const dataStart = await openCheckpoint(path).then(
    (c) => c.dataStart ?? null,
    () => null,
  )
  return { path, size: info.size, mtimeMs: info.mtimeMs, dataStart }
}
