import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LibrarySnapshot } from '../../src-main/common/ipc'
import { syntheticValues } from '../../src-main/engine/arch/synthetic'
import { openCheckpoint } from '../../src-main/engine/formats/open'
import { TensorReader } from '../../src-main/engine/formats/tensor-reader'
import { createDemoCheckpoints, DEMO_MODELS } from '../../src-main/engine/library/demo'
import { EntryCache } from '../../src-main/engine/library/entry-cache'
import { HashCache } from '../../src-main/engine/library/hash-cache'
import { hashFileSync } from '../../src-main/engine/library/hashes'
import { ModelLibrary, type LibraryProgressEvent } from '../../src-main/engine/library/model-library'
import { craftSafetensors, useTempDir, writeBytes, writeTiny } from './support'

const tempDir = useTempDir()

function newLibrary(dir: string): { library: ModelLibrary; reports: string[]; progress: LibraryProgressEvent[]; changes: () => number } {
  const reports: string[] = []
  const progress: LibraryProgressEvent[] = []
  let changed = 0
  const library = new ModelLibrary({ entryCache: new EntryCache(join(dir, 'entries')), hashCache: new HashCache(join(dir, 'hashes')), report: (m) => void reports.push(m), notifyIntervalMs: 0 })
  library.subscribe({ changed: () => void changed++, progress: (p) => void progress.push(p) })
  return { library, reports, progress, changes: () => changed }
}

describe('createDemoCheckpoints', () => {
  it('writes three small fp16 SD1 checkpoints with different weights, and leaves existing files alone', async () => {
    const dir = tempDir()
    const written = await createDemoCheckpoints(dir)
    expect(written).toEqual(DEMO_MODELS.map((m) => join(dir, m.file)))
    const key = 'model.diffusion_model.input_blocks.1.1.proj_in.weight'
    const reader = new TensorReader()
    try {
      const firsts: number[] = []
      for (const [i, path] of written.entries()) {
        const checkpoint = await openCheckpoint(path)
        expect(checkpoint.fileSize).toBeLessThan(1 << 20)
        expect(new Set(checkpoint.tensors.filter((t) => t.dtype !== 'I64').map((t) => t.dtype))).toEqual(new Set(['F16']))
        const tensor = checkpoint.tensors.find((t) => t.key === key)!
        const values = reader.readFloat32(tensor.locator)
        // the generator's own values for the demo's seed, rounded to fp16 by the file
        const wanted = syntheticValues({ key, shape: tensor.shape }, DEMO_MODELS[i]!.seed)
        values.forEach((v, j) => expect(Math.abs(v - wanted[j]!)).toBeLessThanOrEqual(Math.abs(wanted[j]!) * 2 ** -11))
        firsts.push(values[0]!)
      }
      expect(new Set(firsts).size).toBe(3)
    } finally {
      reader.close()
    }
    expect(await createDemoCheckpoints(dir)).toEqual([])
  })
})

describe('ModelLibrary', () => {
  it('scans its folders in the background, notifies changes and progress, and follows folder changes', async () => {
    const dir = tempDir()
    const models = join(dir, 'models')
    const more = join(dir, 'more')
    mkdirSync(models)
    mkdirSync(more)
    await createDemoCheckpoints(models)
    writeBytes(join(models, 'bad.safetensors'), craftSafetensors('[]'))
    await writeTiny(join(more, 'xl.safetensors'), 'sdxl')
    const { library, progress, changes } = newLibrary(dir)

    library.setFolders([models])
    expect(library.snapshot().scanning).toBe(true)
    await library.idle()
    const snapshot = library.snapshot()
    expect(LibrarySnapshot.parse(snapshot)).toEqual(snapshot)
    expect(snapshot.scanning).toBe(false)
    expect(snapshot.entries.map((e) => [e.name, e.status])).toEqual([
      ['bad.safetensors', 'error'],
      ['demo-anime.safetensors', 'ok'],
      ['demo-base.safetensors', 'ok'],
      ['demo-photo.safetensors', 'ok'],
    ])
    expect(changes()).toBeGreaterThan(0)
    expect(progress.at(-1)).toEqual({ phase: 'scanning', done: 4, total: 4, current: null })

    library.setFolders([models, more])
    await library.idle()
    expect(library.snapshot().entries).toHaveLength(5)
    rmSync(join(models, 'bad.safetensors'))
    library.setFolders([more])
    expect(library.snapshot().entries.map((e) => e.name)).toEqual(['xl.safetensors'])
    await library.idle()
    library.setFolders([models])
    await library.idle()
    expect(library.snapshot().entries.map((e) => e.name)).toEqual(['demo-anime.safetensors', 'demo-base.safetensors', 'demo-photo.safetensors'])
  })

  it('hashes in the background, updates the entries and reports progress; files it cannot hash are reported', async () => {
    const dir = tempDir()
    const models = join(dir, 'models')
    mkdirSync(models)
    const [base, anime] = await createDemoCheckpoints(models)
    const { library, progress, reports } = newLibrary(dir)
    library.setFolders([models])
    await library.idle()
    progress.length = 0
    library.hash([base!, anime!, join(models, 'gone.safetensors')])
    await library.idle()
    const entries = library.snapshot().entries
    const expected = hashFileSync(base!, null)
    expect(entries.find((e) => e.path === base)!.hashes.sha256).toBe(expected.sha256)
    expect(entries.find((e) => e.path === base)!.hashes.autov2).toBe(expected.sha256!.slice(0, 10))
    expect(entries.find((e) => e.path === base)!.hashes.autov3).toMatch(/^[0-9a-f]{12}$/)
    expect(entries.find((e) => e.path === anime)!.hashes.sha256).toBe(hashFileSync(anime!, null).sha256)
    expect(progress.every((p) => p.phase === 'hashing')).toBe(true)
    expect(progress.at(-1)).toMatchObject({ done: 3, total: 3 })
    expect(reports).toEqual([expect.stringMatching(/gone\.safetensors: file not found/)])

    // the hashes are remembered: a rescan and an inspect show them without hashing again
    library.rescan()
    await library.idle()
    expect(library.snapshot().entries.find((e) => e.path === base)!.hashes.sha256).toBe(expected.sha256)
    expect((await library.inspect(base!)).entry.hashes.sha256).toBe(expected.sha256)
  })

  it('reports a library folder it cannot read and keeps going', async () => {
    const dir = tempDir()
    const models = join(dir, 'models')
    mkdirSync(models)
    await createDemoCheckpoints(models)
    const { library, reports } = newLibrary(dir)
    library.setFolders([join(dir, 'unplugged'), models])
    await library.idle()
    expect(library.snapshot().entries).toHaveLength(3)
    expect(reports).toEqual([`library folder ${join(dir, 'unplugged')}: file not found`])
  })
})
