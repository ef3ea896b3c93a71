import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { Hashes } from '../../common/model-entry'

/** The directory Amalgam keeps caches in: AMALGAM_CACHE_DIR, else $XDG_CACHE_HOME/amalgam, else ~/.cache/amalgam. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AMALGAM_CACHE_DIR) return resolve(env.AMALGAM_CACHE_DIR)
  if (env.XDG_CACHE_HOME) return join(resolve(env.XDG_CACHE_HOME), 'amalgam')
  return join(homedir(), '.cache', 'amalgam')
}

const CacheEntry = z.strictObject({
  version: z.literal(1),
  path: z.string(),
  size: z.number(),
  mtimeMs: z.number(),
  hashes: Hashes,
})

export interface HashedFile {
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
}

/**
 * Hashes of big files remembered across runs, keyed by (absolute path, size, mtimeMs): hashing a
 * 6 GB checkpoint takes seconds, looking it up a millisecond. One small JSON file per model file,
 * so concurrent writers (app, CLI) never lose each other's entries; each is written to a temporary
 * name and renamed. A missing, unreadable or corrupt entry is simply a miss, and a cache that
 * cannot be written never fails the caller.
 */
export class HashCache {
  constructor(readonly dir: string = defaultCacheDir()) {}

  async get(file: HashedFile): Promise<Hashes | null> {
    const path = resolve(file.path)
    let text: string
    try {
      text = await readFile(this.entryPath(path), 'utf8')
    } catch {
      return null
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return null
    }
    const entry = CacheEntry.safeParse(parsed)
    if (!entry.success) return null
    const { data } = entry
    return data.path === path && data.size === file.size && data.mtimeMs === file.mtimeMs ? data.hashes : null
  }

  /** Remembers `hashes` for the file; false when the cache could not be written (read-only disk, ...). */
  async set(file: HashedFile, hashes: Hashes): Promise<boolean> {
    const path = resolve(file.path)
    const target = this.entryPath(path)
    const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    const entry: z.infer<typeof CacheEntry> = { version: 1, path, size: file.size, mtimeMs: file.mtimeMs, hashes }
    try {
      await mkdir(join(this.dir, 'hashes'), { recursive: true })
      await writeFile(temporary, JSON.stringify(entry))
      await rename(temporary, target)
      return true
    } catch {
      await unlink(temporary).catch(() => undefined)
      return false
    }
  }

  private entryPath(absolutePath: string): string {
    return join(this.dir, 'hashes', `${createHash('sha256').update(absolutePath).digest('hex').slice(0, 32)}.json`)
  }
}
