import { resolve, sep } from 'node:path'
import type { z } from 'zod'
import type { LibraryProgress, LibrarySnapshot, ModelDetails } from '../../common/ipc'
import type { ModelEntry } from '../../common/model-entry'
import { describeError, isAmalgamError } from '../errors'
import { hashModelFiles } from './background-hash'
import { createDemoCheckpoints } from './demo'
import { modelDetails } from './details'
import type { EntryCache } from './entry-cache'
import type { HashCache } from './hash-cache'
import { inspectListed, listModels, type ListedModel } from './scan'

export type LibraryProgressEvent = z.infer<typeof LibraryProgress>

export interface ModelLibraryListener {
  changed(): void
  progress(progress: LibraryProgressEvent): void
}

export interface ModelLibraryOptions {
  /** scanned entries remembered between scans and runs */
  readonly entryCache: EntryCache
  /** hashes remembered between runs (shared with merges, which hash their inputs) */
  readonly hashCache: HashCache | null
  /** problems that belong to no request (an unreadable library folder, a file that could not be hashed) */
  readonly report: (message: string) => void
  /** least time between two notifications of one kind while a scan or hash job runs */
  readonly notifyIntervalMs?: number
}

/**
 * The model library: its folders, the entries found in them, background scans and hashing, and
 * listeners told when entries change and how far a job is. A new scan request cancels a running scan
 * and starts over (the entry cache makes that cheap); hash requests queue up.
 */
export class ModelLibrary {
  private folders: string[] = []
  private readonly entries = new Map<string, ModelEntry>()
  private readonly listeners = new Set<ModelLibraryListener>()
  private scanning = false
  private scanRequested = false
  private scanController: AbortController | null = null
  private scanLoop: Promise<void> | null = null
  private readonly hashQueue: string[] = []
  private hashLoop: Promise<void> | null = null
  private readonly changedSoon: Throttled<void>
  private readonly progressSoon: Throttled<LibraryProgressEvent>

  constructor(private readonly opts: ModelLibraryOptions) {
    const interval = opts.notifyIntervalMs ?? 200
    this.changedSoon = throttled(interval, () => this.listeners.forEach((l) => l.changed()))
    this.progressSoon = throttled(interval, (progress: LibraryProgressEvent) => this.listeners.forEach((l) => l.progress(progress)))
  }

  setFolders(folders: readonly string[]): void {
    this.folders = [...new Set(folders.map((f) => resolve(f)))]
    for (const path of [...this.entries.keys()]) if (!this.inFolders(path)) this.entries.delete(path)
    this.requestScan()
  }

  snapshot(): LibrarySnapshot {
    const entries = [...this.entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    return { folders: [...this.folders], entries, scanning: this.scanning }
  }

  rescan(): void {
    this.requestScan()
  }

  inspect(path: string): Promise<ModelDetails> {
    return modelDetails(path, { hashCache: this.opts.hashCache })
  }

  hash(paths: readonly string[]): void {
    for (const path of paths.map((p) => resolve(p))) if (!this.hashQueue.includes(path)) this.hashQueue.push(path)
    this.hashLoop ??= this.runHashJobs().finally(() => {
      this.hashLoop = null
    })
  }

  async createDemo(folder: string): Promise<void> {
    await createDemoCheckpoints(folder)
  }

  subscribe(listener: ModelLibraryListener): () => void {
    this.listeners.add(listener)
    return () => void this.listeners.delete(listener)
  }

  /** Resolves once no scan or hash job is running or queued. */
  async idle(): Promise<void> {
    while (this.scanLoop !== null || this.hashLoop !== null) await Promise.all([this.scanLoop, this.hashLoop])
  }

  private inFolders(path: string): boolean {
    return this.folders.some((folder) => path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep))
  }

  private requestScan(): void {
    this.scanRequested = true
    this.scanController?.abort()
    this.scanLoop ??= this.runScans().finally(() => {
      this.scanLoop = null
    })
  }

  private async runScans(): Promise<void> {
    while (this.scanRequested) {
      this.scanRequested = false
      const controller = new AbortController()
      this.scanController = controller
      this.scanning = true
      this.changedSoon.now()
      try {
        await this.scanOnce(controller.signal)
      } catch (err) {
        if (!isAmalgamError(err, 'CANCELLED')) this.opts.report(`library scan failed: ${describeError(err)}`)
      }
    }
    this.scanController = null
    this.scanning = false
    this.changedSoon.now()
  }

  private async scanOnce(signal: AbortSignal): Promise<void> {
    const listed: { root: string; models: ListedModel[] }[] = []
    for (const root of this.folders) {
      try {
        listed.push({ root, models: await listModels(root) })
      } catch (err) {
        this.opts.report(`library folder ${describeError(err)}`)
      }
    }
    const total = listed.reduce((sum, l) => sum + l.models.length, 0)
    const seen = new Set<string>()
    let offset = 0
    for (const { root, models } of listed) {
      await inspectListed(root, models, {
        cache: this.opts.entryCache,
        hashCache: this.opts.hashCache,
        signal,
        onEntry: (entry) => {
          seen.add(entry.path)
          this.entries.set(entry.path, entry)
          this.changedSoon.call()
        },
        onProgress: (p) => this.progressSoon.call({ phase: 'scanning', done: offset + p.done, total, current: p.current }),
      })
      offset += models.length
    }
    // only a complete scan knows which files are gone
    for (const path of [...this.entries.keys()]) if (!seen.has(path)) this.entries.delete(path)
    this.progressSoon.now({ phase: 'scanning', done: total, total, current: null })
  }

  private async runHashJobs(): Promise<void> {
    while (this.hashQueue.length > 0) {
      const batch = this.hashQueue.splice(0)
      try {
        await hashModelFiles(batch, {
          cache: this.opts.hashCache,
          onProgress: (p) => this.progressSoon.call({ phase: 'hashing', done: p.done, total: p.total, current: p.path }),
          onHashed: (path, hashes) => {
            const entry = this.entries.get(path)
            if (entry !== undefined) this.entries.set(path, { ...entry, hashes })
            this.changedSoon.call()
          },
          onError: (err) => this.opts.report(`hashing ${err.message}`),
        })
      } catch (err) {
        this.opts.report(`hashing failed: ${describeError(err)}`)
      }
      this.progressSoon.now({ phase: 'hashing', done: batch.length, total: batch.length, current: null })
      this.changedSoon.now()
    }
  }
}

interface Throttled<T> {
  /** at most once per interval: the latest value is delivered when the interval has passed */
  call(value: T): void
  /** at once (a final state), dropping any value still held back */
  now(value: T): void
}

function throttled<T>(intervalMs: number, deliver: (value: T) => void): Throttled<T> {
  let lastAt = -Infinity
  let timer: ReturnType<typeof setTimeout> | null = null
  let pending: { value: T } | null = null
  const send = (value: T): void => {
    if (timer !== null) clearTimeout(timer)
    timer = null
    pending = null
    lastAt = Date.now()
    deliver(value)
  }
  return {
    call(value) {
      const wait = lastAt + intervalMs - Date.now()
      if (wait <= 0) return send(value)
      pending = { value }
      timer ??= setTimeout(() => {
        if (pending !== null) send(pending.value)
      }, wait)
    },
    now: send,
  }
}
