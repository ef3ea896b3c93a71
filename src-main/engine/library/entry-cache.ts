import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { z } from 'zod'
import { ModelEntry } from '../../common/model-entry'
import { NO_HASHES } from './inspect'

/** What has to be unchanged for a remembered entry to still describe the file (or model folder). */
export interface Fingerprint {
  readonly size: number
  readonly mtimeMs: number
  /** the A1111 sidecar .yaml changes the prediction type; null when there is none */
  readonly sidecarMtimeMs: number | null
}

const CacheRecord = z.strictObject({
  size: z.number(),
  mtimeMs: z.number(),
  sidecarMtimeMs: z.number().nullable(),
  entry: ModelEntry,
})
type CacheRecord = z.infer<typeof CacheRecord>

const CacheFile = z.strictObject({
  version: z.literal(1),
  root: z.string(),
  records: z.record(z.string(), CacheRecord),
})

/**
 * Inspected entries remembered per library folder, so a rescan opens only files that changed: one JSON
 * file per folder (written to a temporary name and renamed), loaded once per process. Hashes are not
 * stored here (the hash cache is their one home); a corrupt or unwritable cache only costs a cold scan.
 */
export class EntryCache {
  private readonly folders = new Map<string, FolderEntries>()

  constructor(readonly dir: string) {}

  async forFolder(root: string): Promise<FolderEntries> {
    const absolute = resolve(root)
    let folder = this.folders.get(absolute)
    if (folder === undefined) {
      const file = join(this.dir, `${createHash('sha256').update(absolute).digest('hex').slice(0, 32)}.json`)
      folder = new FolderEntries(absolute, file, await loadRecords(file, absolute))
      this.folders.set(absolute, folder)
    }
    return folder
  }
}

async function loadRecords(file: string, root: string): Promise<Map<string, CacheRecord>> {
  try {
    const parsed = CacheFile.safeParse(JSON.parse(await readFile(file, 'utf8')))
    if (parsed.success && parsed.data.root === root) return new Map(Object.entries(parsed.data.records))
  } catch {
    // missing or unreadable: a cold scan
  }
  return new Map()
}

export class FolderEntries {
  constructor(
    readonly root: string,
    private readonly file: string,
    private readonly records: Map<string, CacheRecord>,
  ) {}

  /** The remembered entry when the file still has this fingerprint (hashes left empty). */
  get(path: string, fingerprint: Fingerprint): ModelEntry | null {
    const record = this.records.get(path)
    if (record === undefined) return null
    const same = record.size === fingerprint.size && record.mtimeMs === fingerprint.mtimeMs && record.sidecarMtimeMs === fingerprint.sidecarMtimeMs
    // LoRA entries remembered before LoRAs had details are read again
    const stale = record.entry.architecture === 'lora' && record.entry.lora === undefined
    return same && !stale ? record.entry : null
  }

  set(path: string, fingerprint: Fingerprint, entry: ModelEntry): void {
    this.records.set(path, { ...fingerprint, entry: { ...entry, hashes: NO_HASHES } })
  }

  /**
   * Writes the folder's records. After a complete scan `seen` holds every path found, and records of
   * files that are gone are dropped; after an interrupted one (null) everything is kept.
   */
  async save(seen: ReadonlySet<string> | null): Promise<boolean> {
    if (seen !== null) for (const path of [...this.records.keys()]) if (!seen.has(path)) this.records.delete(path)
    const temporary = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    try {
      await mkdir(dirname(this.file), { recursive: true })
      await writeFile(temporary, JSON.stringify({ version: 1, root: this.root, records: Object.fromEntries(this.records) }))
      await rename(temporary, this.file)
      return true
    } catch {
      await unlink(temporary).catch(() => undefined)
      return false
    }
  }
}
