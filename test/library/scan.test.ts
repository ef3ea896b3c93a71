import { mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { openCheckpoint } from '../../src-main/engine/formats/open'
import type * as OpenModule from '../../src-main/engine/formats/open'
import { EntryCache } from '../../src-main/engine/library/entry-cache'
import { HashCache } from '../../src-main/engine/library/hash-cache'
import { listModels, scanFolder, type ScanProgress } from '../../src-main/engine/library/scan'
import { amalgamErrorOf, craftSafetensors, useTempDir, writeBytes, writeJson, writeTensors, writeTiny } from './support'

// every header read goes through openCheckpoint: counting its calls shows what a rescan really opens
vi.mock('../../src-main/engine/formats/open', async (importOriginal) => {
  const original = await importOriginal<typeof OpenModule>()
  return { ...original, openCheckpoint: vi.fn(original.openCheckpoint) }
})
const opens = vi.mocked(openCheckpoint)

const tempDir = useTempDir()
beforeEach(() => {
  opens.mockClear()
})

/** A library folder with nested, hidden, partial, symlinked, bad and model-folder content. */
async function library(): Promise<string> {
  const root = tempDir()
  mkdirSync(join(root, 'sd', 'nested'), { recursive: true })
  mkdirSync(join(root, '.hidden'))
  mkdirSync(join(root, 'llm', 'tiny-llama'), { recursive: true })
  await writeTiny(join(root, 'sd', 'a.safetensors'), 'sd1', { seed: 1 })
  await writeTiny(join(root, 'sd', 'nested', 'b.safetensors'), 'sd1', { seed: 2 })
  await writeTiny(join(root, '.hidden', 'secret.safetensors'), 'sd1')
  await writeTiny(join(root, '._a.safetensors'), 'sd1')
  writeFileSync(join(root, 'sd', 'c.safetensors.partial'), 'half written')
  writeFileSync(join(root, 'sd', 'stray.bin'), 'not a model folder')
  writeFileSync(join(root, 'notes.txt'), 'hello')
  writeBytes(join(root, 'sd', 'broken.safetensors'), craftSafetensors('{"a": '))
  await writeTensors(join(root, 'llm', 'tiny-llama', 'model.safetensors'), [
    { key: 'model.embed_tokens.weight', shape: [8, 4] },
    { key: 'model.layers.0.self_attn.q_proj.weight', shape: [4, 4] },
    { key: 'model.norm.weight', shape: [4] },
  ])
  writeJson(join(root, 'llm', 'tiny-llama', 'config.json'), { architectures: ['LlamaForCausalLM'], hidden_size: 4, vocab_size: 8 })
  // a loop back to the root and a second way into sd/
  symlinkSync(root, join(root, 'sd', 'nested', 'loop'))
  symlinkSync(join(root, 'sd'), join(root, 'sd-again'))
  return root
}

describe('listModels', () => {
  it('finds checkpoints and model folders recursively, skipping hidden, partial and stray files, once per real folder', async () => {
    const root = await library()
    const listed = await listModels(root)
    expect(listed.map((m) => [m.path.slice(root.length + 1), m.kind])).toEqual([
      ['llm/tiny-llama', 'hf-folder'],
      ['sd/a.safetensors', 'file'],
      ['sd/broken.safetensors', 'file'],
      ['sd/nested/b.safetensors', 'file'],
    ])
  })

  it('fails with a clear message when the folder itself cannot be read', async () => {
    const dir = tempDir()
    const missing = await amalgamErrorOf(listModels(join(dir, 'nope')))
    expect(missing.code).toBe('FILE_NOT_FOUND')
    writeFileSync(join(dir, 'file'), 'x')
    expect((await amalgamErrorOf(listModels(join(dir, 'file')))).message).toMatch(/is a file, not a folder/)
  })
})

describe('scanFolder', () => {
  it('lists every model with bad files as error rows, reporting progress', async () => {
    const root = await library()
    const progress: ScanProgress[] = []
    const entries = await scanFolder(root, { onProgress: (p) => progress.push(p) })
    expect(entries.map((e) => [e.name, e.status, e.architecture])).toEqual([
      ['tiny-llama', 'ok', 'llm'],
      ['a.safetensors', 'ok', 'sd1'],
      ['broken.safetensors', 'error', 'unknown'],
      ['b.safetensors', 'ok', 'sd1'],
    ])
    expect(entries[2]!.problem).toMatch(/broken\.safetensors: header is not valid JSON/)
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4])
    expect(progress.every((p) => p.total === 4)).toBe(true)
  })

  it('rescans from the entry cache: unchanged files are not opened again, changed ones are', async () => {
    const root = await library()
    const cacheDir = join(tempDir(), 'entries')
    const first = await scanFolder(root, { cache: new EntryCache(cacheDir) })
    expect(opens).toHaveBeenCalledTimes(4)

    // a new process: the cache comes from disk
    opens.mockClear()
    const second = await scanFolder(root, { cache: new EntryCache(cacheDir) })
    expect(opens).toHaveBeenCalledTimes(0)
    expect(second).toEqual(first)

    // a rewritten file (new time) and a new sidecar .yaml are looked at again; a deleted file disappears
    opens.mockClear()
    const later = new Date(Date.now() + 60_000)
    utimesSync(join(root, 'sd', 'a.safetensors'), later, later)
    writeFileSync(join(root, 'sd', 'nested', 'b.yaml'), 'model:\n  params: {}\n')
    rmSync(join(root, 'sd', 'broken.safetensors'))
    const cache = new EntryCache(cacheDir)
    const third = await scanFolder(root, { cache })
    expect(opens.mock.calls.map(([path]) => path.slice(root.length + 1)).sort()).toEqual(['sd/a.safetensors', 'sd/nested/b.safetensors'])
    expect(third.map((e) => e.name)).toEqual(['tiny-llama', 'a.safetensors', 'b.safetensors'])
    expect(third[2]!.predictionSource).toBe('sidecar .yaml (no parameterization: the LDM default, eps)')

    opens.mockClear()
    await scanFolder(root, { cache: new EntryCache(cacheDir) })
    expect(opens).toHaveBeenCalledTimes(0)
  })

  it('fills in hashes from the hash cache on every scan (they are not part of the entry cache)', async () => {
    const root = await library()
    const cacheDir = tempDir()
    const entryCache = new EntryCache(join(cacheDir, 'entries'))
    const hashCache = new HashCache(join(cacheDir, 'hashes'))
    const before = await scanFolder(root, { cache: entryCache, hashCache })
    const a = before.find((e) => e.name === 'a.safetensors')!
    expect(a.hashes.sha256).toBeNull()
    const hashes = { sha256: 'f'.repeat(64), autov2: 'f'.repeat(10), autov1: 'e'.repeat(8), tensorSha256: 'd'.repeat(64), autov3: 'd'.repeat(12) }
    await hashCache.set({ path: a.path, size: a.size, mtimeMs: a.mtimeMs }, hashes)
    const after = await scanFolder(root, { cache: entryCache, hashCache })
    expect(after.find((e) => e.name === 'a.safetensors')!.hashes).toEqual(hashes)
  })

  it('stops when cancelled and keeps what it learned', async () => {
    const root = await library()
    for (let i = 0; i < 8; i++) await writeTiny(join(root, `more-${i}.safetensors`), 'sd1', { seed: i })
    const cacheDir = join(tempDir(), 'entries')
    const controller = new AbortController()
    const err = await amalgamErrorOf(scanFolder(root, { cache: new EntryCache(cacheDir), signal: controller.signal, onEntry: () => controller.abort() }))
    expect(err.code).toBe('CANCELLED')
    const learned = opens.mock.calls.length
    expect(learned).toBeGreaterThan(0)
    expect(learned).toBeLessThan(12)
    opens.mockClear()
    await scanFolder(root, { cache: new EntryCache(cacheDir) })
    expect(opens.mock.calls.length).toBe(12 - learned)
  })
})
