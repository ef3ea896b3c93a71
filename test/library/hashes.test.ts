import { createHash, randomFillSync } from 'node:crypto'
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Hashes } from '../../src-main/common/model-entry'
import { EngineWorkerPool } from '../../src-main/engine/execute/worker-pool'
import { defaultCacheDir, HashCache } from '../../src-main/engine/library/hash-cache'
import { hashFiles, hashFileSync, type FileHasher, type HashProgress, type HashRequest } from '../../src-main/engine/library/hashes'
import { amalgamErrorOf, useTempDir } from '../formats/support'

const tempDir = useTempDir()

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** The hashes by their definitions, each computed on its own from the whole file in memory. */
function expectedHashes(bytes: Uint8Array, dataStart: number | null): Hashes {
  const full = sha256(bytes)
  const tensors = dataStart === null ? null : sha256(bytes.subarray(dataStart))
  return { sha256: full, autov2: full.slice(0, 10), autov1: sha256(bytes.subarray(0x100000, 0x110000)).slice(0, 8), tensorSha256: tensors, autov3: tensors?.slice(0, 12) ?? null }
}

function writeRandom(path: string, size: number): Uint8Array {
  const bytes = randomFillSync(new Uint8Array(size))
  writeFileSync(path, bytes)
  return bytes
}

function request(path: string, dataStart: number | null): HashRequest {
  const st = statSync(path)
  return { path, size: st.size, mtimeMs: st.mtimeMs, dataStart }
}

describe('hashFileSync', () => {
  it('computes SHA-256, AutoV1/V2 and the tensor-data hash in one pass over a file larger than one read', () => {
    const path = join(tempDir(), 'big.safetensors')
    // 16 MiB reads: the file spans three, and the tensor data starts at an odd offset
    const bytes = writeRandom(path, (37 << 20) + 12345)
    const progress: number[] = []
    expect(hashFileSync(path, 12345, (done, total) => progress.push(done / total))).toEqual(expectedHashes(bytes, 12345))
    expect(progress.at(-1)).toBe(1)
    expect(progress).toEqual([...progress].sort((x, y) => x - y))
  })

  it('hashes files shorter than the AutoV1 window, and files that are not safetensors', () => {
    const dir = tempDir()
    const small = writeRandom(join(dir, 'small.ckpt'), 5000)
    expect(hashFileSync(join(dir, 'small.ckpt'), null)).toEqual(expectedHashes(small, null))
    const partWindow = writeRandom(join(dir, 'window.safetensors'), 0x100000 + 100)
    expect(hashFileSync(join(dir, 'window.safetensors'), 0x100000 + 100)).toEqual(expectedHashes(partWindow, 0x100000 + 100))
  })

  it('names the file when it cannot be read', async () => {
    const path = join(tempDir(), 'missing.safetensors')
    const err = await amalgamErrorOf(() => hashFileSync(path, null))
    expect(err.code).toBe('FILE_NOT_FOUND')
    expect(err.message).toBe(`${path}: file not found`)
  })
})

describe('HashCache', () => {
  const hashes: Hashes = { sha256: 'a'.repeat(64), autov2: 'a'.repeat(10), autov1: 'b'.repeat(8), tensorSha256: null, autov3: null }

  it('remembers hashes per (path, size, mtime) and forgets them when the file changes', async () => {
    const dir = tempDir()
    const cache = new HashCache(join(dir, 'cache'))
    const file = { path: join(dir, 'm.safetensors'), size: 100, mtimeMs: 1234.5 }
    expect(await cache.get(file)).toBeNull()
    expect(await cache.set(file, hashes)).toBe(true)
    expect(await cache.get(file)).toEqual(hashes)
    expect(await new HashCache(join(dir, 'cache')).get(file)).toEqual(hashes)
    expect(await cache.get({ ...file, size: 101 })).toBeNull()
    expect(await cache.get({ ...file, mtimeMs: 1234.6 })).toBeNull()
    expect(await cache.get({ ...file, path: join(dir, 'other.safetensors') })).toBeNull()
  })

  it('treats a corrupt entry as a miss and a cache it cannot write as no cache', async () => {
    const dir = tempDir()
    const cache = new HashCache(join(dir, 'cache'))
    const file = { path: join(dir, 'm.safetensors'), size: 100, mtimeMs: 1 }
    await cache.set(file, hashes)
    const entries = readdirSync(join(dir, 'cache', 'hashes'))
    expect(entries).toHaveLength(1)
    for (const junk of ['{"version":1,', '{"version":1,"path":"x"}', '']) {
      writeFileSync(join(dir, 'cache', 'hashes', entries[0]!), junk)
      expect(await cache.get(file)).toBeNull()
    }
    writeFileSync(join(dir, 'not-a-dir'), '')
    const broken = new HashCache(join(dir, 'not-a-dir'))
    expect(await broken.set(file, hashes)).toBe(false)
    expect(await broken.get(file)).toBeNull()
  })

  it('lives under AMALGAM_CACHE_DIR, else XDG_CACHE_HOME, else ~/.cache', () => {
    expect(defaultCacheDir({ AMALGAM_CACHE_DIR: '/x/cache', XDG_CACHE_HOME: '/xdg' })).toBe('/x/cache')
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/amalgam')
    expect(defaultCacheDir({})).toMatch(/[/\\]\.cache[/\\]amalgam$/)
  })
})

describe('hashFiles', () => {
  it('hashes only what the cache does not know, each file once, and reports progress to the end', async () => {
    const dir = tempDir()
    const a = join(dir, 'a.safetensors')
    const b = join(dir, 'b.safetensors')
    const aBytes = writeRandom(a, 3000)
    const bBytes = writeRandom(b, 4000)
    const hashed: string[] = []
    const hasher: FileHasher = (r, onBytes) => {
      hashed.push(r.path)
      return Promise.resolve(hashFileSync(r.path, r.dataStart, (done) => onBytes(done)))
    }
    const cache = new HashCache(join(dir, 'cache'))
    const progress: HashProgress[] = []
    const requests = [request(a, 8), request(b, null), request(a, 8)]
    const first = await hashFiles(requests, { hasher, cache, signal: new AbortController().signal, onProgress: (p) => progress.push(p) })
    expect(first).toEqual(
      new Map([
        [a, expectedHashes(aBytes, 8)],
        [b, expectedHashes(bBytes, null)],
      ]),
    )
    expect(hashed.sort()).toEqual([a, b])
    expect(progress.at(-1)).toMatchObject({ done: 2, total: 2, bytesDone: 7000, bytesTotal: 7000 })

    const second = await hashFiles(requests, { hasher, cache, signal: new AbortController().signal })
    expect(second).toEqual(first)
    expect(hashed).toHaveLength(2)
  })

  it('hashes in the engine worker threads with the same result', async () => {
    const dir = tempDir()
    const path = join(dir, 'w.safetensors')
    const bytes = writeRandom(path, (20 << 20) + 7)
    const pool = new EngineWorkerPool({ threads: 1 })
    try {
      const seen: number[] = []
      const result = await hashFiles([request(path, 100)], { hasher: pool.hashFile, cache: null, signal: new AbortController().signal, onProgress: (p) => seen.push(p.bytesDone) })
      expect(result.get(path)).toEqual(expectedHashes(bytes, 100))
      expect(seen.at(-1)).toBe(bytes.length)
    } finally {
      await pool.destroy()
    }
  })
})
