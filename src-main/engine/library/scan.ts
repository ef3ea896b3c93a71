import { readdir, realpath, stat } from 'node:fs/promises'
import { extname, join, resolve } from 'node:path'
import type { ModelEntry } from '../../common/model-entry'
import { AmalgamError, fileError } from '../errors'
import { ioError } from '../formats/file-io'
import { sidecarPath } from '../lineage/sidecar'
import type { EntryCache, Fingerprint, FolderEntries } from './entry-cache'
import type { HashCache } from './hash-cache'
import { inspectModel } from './inspect'
import { folderFingerprint, modelFolderKind, type ModelFolderKind } from './model-folders'

/** Checkpoint files a scan lists; `.bin` only as part of a Hugging Face folder (it is too common a name). */
const MODEL_EXTENSIONS = new Set(['.safetensors', '.ckpt', '.pt', '.pth'])
/** Header reads in flight at once: enough to hide disk latency, few enough not to thrash a hard disk. */
const CONCURRENT_INSPECTIONS = 4

export interface ListedModel {
  readonly path: string
  readonly kind: 'file' | ModelFolderKind
}

export interface ScanProgress {
  readonly done: number
  readonly total: number
  /** the file just looked at */
  readonly current: string | null
}

export interface ScanOptions {
  /** remembered entries: unchanged files are not opened again */
  readonly cache?: EntryCache | null
  /** hashes already computed are filled in from here */
  readonly hashCache?: HashCache | null
  readonly onProgress?: (progress: ScanProgress) => void
  /** each entry as soon as it is known */
  readonly onEntry?: (entry: ModelEntry) => void
  readonly signal?: AbortSignal
}

/** Every model under `dir` (recursively), by path: see listModels and inspectListed. */
export async function scanFolder(dir: string, opts: ScanOptions = {}): Promise<ModelEntry[]> {
  const root = resolve(dir)
  return inspectListed(root, await listModels(root), opts)
}

/**
 * The checkpoint files and model folders under `root`, sorted by path. Hidden files and folders and
 * `*.partial` outputs are skipped; symlinks are followed, each real folder once (so loops end); a
 * model folder is one item and is not entered. Only an unreadable `root` is an error.
 */
export async function listModels(root: string): Promise<ListedModel[]> {
  const absolute = resolve(root)
  let info
  try {
    info = await stat(absolute)
  } catch (err) {
    throw ioError(err, absolute)
  }
  if (!info.isDirectory()) throw fileError('BAD_ARGUMENT', absolute, 'is a file, not a folder')
  const found: ListedModel[] = []
  const visited = new Set<string>()
  const visit = async (dir: string): Promise<void> => {
    const real = await realpath(dir).catch(() => null)
    if (real === null || visited.has(real)) return
    visited.add(real)
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      if (dir === absolute) throw ioError(err, dir)
      return
    }
    const kind = modelFolderKind(new Set(entries.map((e) => e.name)))
    if (kind !== null) {
      found.push({ path: dir, kind })
      return
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name.endsWith('.partial')) continue
      const path = join(dir, entry.name)
      let isDirectory = entry.isDirectory()
      let isFile = entry.isFile()
      if (entry.isSymbolicLink()) {
        const target = await stat(path).catch(() => null)
        isDirectory = target?.isDirectory() ?? false
        isFile = target?.isFile() ?? false
      }
      if (isDirectory) await visit(path)
      else if (isFile && MODEL_EXTENSIONS.has(extname(entry.name).toLowerCase())) found.push({ path, kind: 'file' })
    }
  }
  await visit(absolute)
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/**
 * Entries for listed models of the library folder `root`, sorted by path: from the cache when a file's
 * size, modification time and sidecar are unchanged, else inspected (headers only). A file that vanished
 * meanwhile is left out. The cache is saved at the end, also when the scan is cancelled (CANCELLED).
 */
export async function inspectListed(root: string, models: readonly ListedModel[], opts: ScanOptions = {}): Promise<ModelEntry[]> {
  const folder = opts.cache ? await opts.cache.forFolder(root) : null
  const entries: ModelEntry[] = []
  const seen = new Set<string>()
  let next = 0
  let done = 0
  const work = async (): Promise<void> => {
    // on cancel each worker stops before its next file: what is in flight still lands in the cache
    while (next < models.length && opts.signal?.aborted !== true) {
      const model = models[next++]!
      seen.add(model.path)
      const entry = await entryFor(model, folder, opts.hashCache ?? null)
      done++
      if (entry !== null) {
        entries.push(entry)
        opts.onEntry?.(entry)
      }
      opts.onProgress?.({ done, total: models.length, current: model.path })
    }
  }
  let complete = false
  try {
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_INSPECTIONS, models.length) }, work))
    if (opts.signal?.aborted) throw new AmalgamError('CANCELLED', `${root}: the scan was cancelled`)
    complete = true
  } finally {
    await folder?.save(complete ? seen : null)
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

async function entryFor(model: ListedModel, folder: FolderEntries | null, hashCache: HashCache | null): Promise<ModelEntry | null> {
  const fingerprint = await fingerprintOf(model)
  if (fingerprint === null) return null
  let entry = folder?.get(model.path, fingerprint) ?? null
  if (entry === null) {
    try {
      entry = await inspectModel(model.path)
    } catch {
      // it vanished, or stopped being a model folder, since it was listed
      return null
    }
    folder?.set(model.path, fingerprint, entry)
  }
  if (model.kind !== 'file' || hashCache === null) return entry
  const hashes = await hashCache.get({ path: entry.path, size: entry.size, mtimeMs: entry.mtimeMs })
  return hashes === null ? entry : { ...entry, hashes }
}

async function fingerprintOf(model: ListedModel): Promise<Fingerprint | null> {
  if (model.kind !== 'file') return { ...(await folderFingerprint(model.path, model.kind)), sidecarMtimeMs: null }
  const info = await stat(model.path).catch(() => null)
  if (info === null) return null
  const sidecar = await stat(sidecarPath(model.path, '.yaml')).catch(() => null)
  return { size: info.size, mtimeMs: info.mtimeMs, sidecarMtimeMs: sidecar?.mtimeMs ?? null }
}
