import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ArchitectureInfo, ModelDetails, type LibrarySnapshot } from '../../src-main/common/ipc'
import { PlanSummary } from '../../src-main/common/plan-summary'
import type { RecipeInput } from '../../src-main/common/recipe'
import { createAppServices, type AppServices } from '../../src-main/services/app-services'
import { createEngineBackends } from '../../src-main/services/engine-backends'
import { MemoryStore } from '../../src-main/services/store'
import type { PersistedData } from '../../src-main/services/validated-store'
import { PRESETS } from '../arch/support'
import { craftSafetensors, useTempDir, writeBytes } from '../library/support'
import { silentLauncher } from './support/hosts'

const tempDir = useTempDir()
beforeAll(() => {
  process.env.AMALGAM_CACHE_DIR = join(tempDir(), 'cache')
  process.env.AMALGAM_BACKEND = 'wasm'
})

let running: AppServices | null = null
afterEach(async () => {
  await running?.shutdown()
  running = null
})

async function app(): Promise<{ services: AppServices; dataDir: string; problems: string[] }> {
  const dataDir = join(tempDir(), 'data')
  const problems: string[] = []
  const report = (m: string): void => void problems.push(m)
  const backends = await createEngineBackends({ dataDir, report })
  const services = createAppServices({ mode: 'serve', version: '1.0.0', store: new MemoryStore<PersistedData>(), dataDir, launcher: silentLauncher().launcher, backends, report, cancelGraceMs: 50 })
  running = services
  return { services, dataDir, problems }
}

async function call(services: AppServices, channel: string, request: unknown): Promise<unknown> {
  const result = await services.dispatcher.dispatch(channel, request)
  if (!result.ok) throw new Error(`${channel}: ${result.error.code} ${result.error.message}`)
  return result.value
}

/** library.list until a scan is over and `done` holds (the scan runs in the background). */
async function settled(services: AppServices, done: (s: LibrarySnapshot) => boolean): Promise<LibrarySnapshot> {
  for (let i = 0; i < 400; i++) {
    const snapshot = (await call(services, 'library.list', {})) as LibrarySnapshot
    if (!snapshot.scanning && done(snapshot)) return snapshot
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error('the library never settled')
}

describe('the engine backends behind the app services', () => {
  it('library: demo models, background scan with events, inspect with details, hashing, errors as entries', async () => {
    const { services, dataDir } = await app()
    const events: string[] = []
    services.events.subscribe((m) => void events.push(m.channel))
    await call(services, 'library.createDemo', {})
    const demoFolder = join(dataDir, 'demo-models')
    writeBytes(join(demoFolder, 'broken.safetensors'), craftSafetensors('[]'))
    await call(services, 'library.rescan', {})
    const snapshot = await settled(services, (s) => s.entries.length === 4)
    expect(snapshot.folders).toEqual([demoFolder])
    expect(snapshot.entries.map((e) => [e.name, e.status, e.architecture])).toEqual([
      ['broken.safetensors', 'error', 'unknown'],
      ['demo-anime.safetensors', 'ok', 'sd1'],
      ['demo-base.safetensors', 'ok', 'sd1'],
      ['demo-photo.safetensors', 'ok', 'sd1'],
    ])
    expect(events).toContain('library.changed')
    expect(events).toContain('library.progress')

    const base = join(demoFolder, 'demo-base.safetensors')
    const details = ModelDetails.parse(await call(services, 'library.inspect', { path: base }))
    expect(details).toMatchObject({ entry: { path: base, architecture: 'sd1' }, ancestry: null, lineage: null })

    await call(services, 'library.hash', { paths: [base] })
    const hashed = await settled(services, (s) => s.entries.find((e) => e.path === base)?.hashes.sha256 !== null)
    expect(hashed.entries.find((e) => e.path === base)!.hashes.autov2).toMatch(/^[0-9a-f]{10}$/)

    const missing = await services.dispatcher.dispatch('library.inspect', { path: join(dataDir, 'nope.safetensors') })
    expect(missing).toMatchObject({ ok: false, error: { code: 'FILE_NOT_FOUND' } })
  })

  it('architecture.info: conventions, blocks with groups, positions and key counts, components and presets', async () => {
    const { services } = await app()
    const sd1 = ArchitectureInfo.parse(await call(services, 'architecture.info', { architecture: 'sd1' }))
    expect(sd1.convention).toEqual({ name: 'supermerger', version: '2025-11' })
    expect(sd1.conventions).toContainEqual({ name: 'supermerger', version: '2023-07', current: false })
    expect(sd1.blocks.map((b) => b.id)).toEqual(PRESETS.block_ids.sd1_26)
    const blocks = new Map(sd1.blocks.map((b) => [b.id, b]))
    expect(blocks.get('IN00')).toMatchObject({ group: 'IN' })
    expect(blocks.get('M00')).toMatchObject({ group: 'M' })
    expect(blocks.get('OUT11')).toMatchObject({ group: 'OUT', t: 1 })
    expect(blocks.get('BASE')).toMatchObject({ group: 'BASE', t: 0 })
    // the reference SD1 layout: every block holds keys, and the sum is at most the layout's key count
    expect(sd1.blocks.every((b) => b.keys > 0)).toBe(true)
    expect(sd1.components).toEqual(['unet', 'clip_l', 'vae', 'ema', 'scheduler', 'markers', 'leftovers'])
    const grad = sd1.presets.find((p) => p.id === 'supermerger/GRAD_V')
    expect(grad?.values).toEqual(Object.fromEntries(PRESETS.block_ids.sd1_26.map((id, i) => [id, PRESETS.sd1_26.GRAD_V![i]])))

    const old = ArchitectureInfo.parse(await call(services, 'architecture.info', { architecture: 'sd1', convention: { name: 'supermerger', version: '2023-07' } }))
    expect(old.convention).toEqual({ name: 'supermerger', version: '2023-07' })

    const flux = ArchitectureInfo.parse(await call(services, 'architecture.info', { architecture: 'flux' }))
    expect(new Set(flux.blocks.map((b) => b.group))).toEqual(new Set(['double', 'single', 'extra']))
    expect(flux.presets.map((p) => p.source)).toContain('generated curve')

    const llm = ArchitectureInfo.parse(await call(services, 'architecture.info', { architecture: 'llm', layers: 4 }))
    expect(llm.blocks.map((b) => [b.id, b.group, b.t, b.keys])).toEqual([
      ['EMBED', 'EMBED', 0, 0],
      ['L00', 'layer', 0, 0],
      ['L01', 'layer', 1 / 3, 0],
      ['L02', 'layer', 2 / 3, 0],
      ['L03', 'layer', 1, 0],
      ['HEAD', 'HEAD', 0, 0],
    ])
    expect(await services.dispatcher.dispatch('architecture.info', { architecture: 'lora' })).toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENT' } })
    expect(await services.dispatcher.dispatch('architecture.info', { architecture: 'sd9' })).toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENT' } })
  })

  it('merge.preview plans a recipe over the demo models; app.status names the compute backend', async () => {
    const { services } = await app()
    const folder = join(tempDir(), 'models')
    mkdirSync(folder)
    await call(services, 'library.createDemo', { folder })
    const recipeOf = (a: string): RecipeInput => ({
      format: 'amalgam.recipe',
      version: 1,
      merge: { method: 'weighted_sum', inputs: [{ model: join(folder, a) }, { model: join(folder, 'demo-anime.safetensors') }], params: { alpha: 0.3 } },
      output: { path: join(folder, 'out.safetensors') },
    })
    const recipe = recipeOf('demo-base.safetensors')
    const summary = PlanSummary.parse(await call(services, 'merge.preview', { recipe }))
    expect(summary.findings.filter((f) => f.severity === 'blocking')).toEqual([])
    expect(summary).toMatchObject({ ok: true, architecture: 'sd1', counts: { keys: 1130 } })
    const broken = PlanSummary.parse(await call(services, 'merge.preview', { recipe: recipeOf('nope.safetensors') }))
    expect(broken.ok).toBe(false)
    expect(broken.findings[0]?.message).toMatch(/nope\.safetensors: file not found/)
    expect(await call(services, 'app.status', {})).toMatchObject({ backend: { name: 'wasm', gpuUnavailableReason: 'AMALGAM_BACKEND=wasm' } })
  })
})
