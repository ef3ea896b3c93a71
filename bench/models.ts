import { existsSync } from 'node:fs'
import { mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeSyntheticCheckpoint } from '../src-main/engine/arch/synthetic-file'
import { syntheticLayout } from '../src-main/engine/arch/synthetic'
import { openSafetensors } from '../src-main/engine/formats/safetensors/reader'
import { HashCache } from '../src-main/engine/library/hash-cache'
import { hashFileSync } from '../src-main/engine/library/hashes'

export type BenchArch = 'sd1' | 'sdxl'
export type BenchScale = 'real' | 'tiny'

export interface BenchModels {
  readonly a: string
  readonly b: string
  readonly base: string
}

/** Distinct seeds: the three files differ everywhere, so every task vector and sign election is non-trivial. */
const SEEDS: Readonly<Record<keyof BenchModels, number>> = { a: 1, b: 2, base: 3 }

export function hashCacheDir(cacheDir: string): string {
  return join(cacheDir, 'hashes')
}

export function outputDir(cacheDir: string): string {
  return join(cacheDir, 'out')
}

/**
 * The three fp16 inputs, generated once per (architecture, scale) and reused afterwards (the writer
 * renames a finished file into place, so an existing file is complete). Their hashes go into the
 * bench's own hash cache now, so that every merge measured finds them there, as a user's repeated
 * merges do, instead of the first merge paying for hashing.
 */
export async function ensureModels(cacheDir: string, arch: BenchArch, scale: BenchScale, log: (line: string) => void): Promise<BenchModels> {
  await mkdir(cacheDir, { recursive: true })
  const layout = syntheticLayout(arch, { scale })
  const cache = new HashCache(hashCacheDir(cacheDir))
  const paths = { a: '', b: '', base: '' }
  for (const role of ['a', 'b', 'base'] as const) {
    const path = join(cacheDir, `${arch}-${scale}-fp16-seed${SEEDS[role]}.safetensors`)
    if (!existsSync(path)) {
      const started = Date.now()
      log(`generating ${path} ...`)
      await writeSyntheticCheckpoint(path, layout, { seed: SEEDS[role], dtype: 'F16' })
      log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    }
    await rememberHash(cache, path, log)
    paths[role] = path
  }
  return paths
}

/** Puts a safetensors file's hashes into the bench's hash cache unless they are there already. */
export async function rememberHash(cache: HashCache, path: string, log: (line: string) => void): Promise<void> {
  const info = await stat(path)
  const file = { path, size: info.size, mtimeMs: info.mtimeMs }
  if ((await cache.get(file)) !== null) return
  log(`hashing ${path} ...`)
  const { dataStart } = await openSafetensors(path)
  await cache.set(file, hashFileSync(path, dataStart ?? null))
}
