import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { INVOKE_CHANNELS, type InvokeChannel } from '../../src-main/common/ipc-channels'
import { invokeContract } from '../../src-main/common/ipc'
import { presetsFileText } from '../../src-main/common/presets-file'
import { METHODS } from '../../src-main/engine/methods/registry'
import { useTempDir } from '../formats/support'
import { testApp, type TestApp } from './support/app'
import { testRecipe } from './support/fixtures'

/*
 * Every invoke channel, through the dispatcher into the real services (MemoryStore, temp folders)
 * or the recording engine backends: a valid payload reaches the handler and the answer matches the
 * channel's response schema; a malformed payload is BAD_REQUEST naming the field.
 */

const tempDir = useTempDir()
const apps: TestApp[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.services.shutdown()
})

interface Context {
  readonly app: TestApp
  readonly dir: string
}

interface Case {
  /** the payload, possibly after preparing state the call needs */
  valid(ctx: Context): unknown | Promise<unknown>
  /** what the handler must have done (beyond answering with a valid response) */
  reached?(ctx: Context, value: unknown): void
  malformed: unknown
  /** the start of the BAD_REQUEST message after the channel name */
  field: string
}

const rawRecipe = {
  format: 'amalgam.recipe',
  version: 1,
  merge: { method: 'weighted_sum', inputs: [{ model: '/m/a.safetensors' }, { model: '/m/b.safetensors' }], params: { alpha: 0.3 } },
  output: { path: '/out/ab.safetensors' },
}
const convention = { name: 'supermerger', version: '2025-11' }

const called = (ctx: Context, method: string): unknown[][] => ctx.app.recorded.calls.filter((c) => c.method === method).map((c) => [...c.args])

const cases: Record<InvokeChannel, Case> = {
  'app.status': {
    valid: () => ({}),
    reached: (_ctx, value) => expect(value).toEqual({ version: '9.9.9', mode: 'electron', platform: process.platform, backend: { name: 'wasm', gpuUnavailableReason: 'tensorflow-gpu: not installed', matMul: 'native (avx2)' } }),
    malformed: { verbose: true },
    field: 'Unrecognized key: "verbose"',
  },
  'settings.get': { valid: () => ({}), malformed: { all: 1 }, field: 'Unrecognized key: "all"' },
  'settings.update': {
    valid: () => ({ embedRecipe: false }),
    reached: (ctx) => expect(ctx.app.services.settings.get().embedRecipe).toBe(false),
    malformed: { embedRecipe: 'no' },
    field: 'embedRecipe: ',
  },
  'library.list': { valid: () => ({}), malformed: { folder: '/x' }, field: 'Unrecognized key: "folder"' },
  'library.addFolder': {
    valid: ({ dir }) => ({ path: dir }),
    reached: ({ app, dir }, value) => {
      expect(app.recorded.library.folders()).toEqual([dir])
      expect(value).toMatchObject({ folders: [dir] })
    },
    malformed: { path: 42 },
    field: 'path: ',
  },
  'library.removeFolder': {
    valid: async ({ app, dir }) => {
      await app.services.library.addFolder(dir)
      return { path: dir }
    },
    reached: ({ app }) => expect(app.services.settings.get().libraryFolders).toEqual([]),
    malformed: { path: '' },
    field: 'path: ',
  },
  'library.rescan': { valid: () => ({}), reached: (ctx) => expect(called(ctx, 'library.rescan')).toHaveLength(1), malformed: [], field: 'Invalid input: expected object' },
  'library.inspect': {
    valid: () => ({ path: '/m/a.safetensors' }),
    reached: (ctx) => expect(called(ctx, 'library.inspect')).toEqual([['/m/a.safetensors']]),
    malformed: { path: ['/m/a.safetensors'] },
    field: 'path: ',
  },
  'library.hash': {
    valid: () => ({ paths: ['/m/a.safetensors', '/m/b.safetensors'] }),
    reached: (ctx) => expect(called(ctx, 'library.hash')).toEqual([[['/m/a.safetensors', '/m/b.safetensors']]]),
    malformed: { paths: '/m/a.safetensors' },
    field: 'paths: ',
  },
  'library.createDemo': {
    valid: ({ dir }) => ({ folder: join(dir, 'demo') }),
    reached: ({ app, dir }) => {
      expect(existsSync(join(dir, 'demo'))).toBe(true)
      expect(app.services.settings.get().libraryFolders).toEqual([join(dir, 'demo')])
    },
    malformed: { folder: 3 },
    field: 'folder: ',
  },
  'methods.list': {
    valid: () => ({}),
    reached: (_ctx, value) => expect((value as { id: string }[]).map((m) => m.id)).toEqual(METHODS.map((m) => m.id)),
    malformed: { filter: 'ties' },
    field: 'Unrecognized key: "filter"',
  },
  'architecture.info': {
    valid: () => ({ architecture: 'llm', convention: { name: 'layers', version: '1' }, layers: 32 }),
    reached: (ctx) => expect(called(ctx, 'architecture.info')).toEqual([[{ architecture: 'llm', convention: { name: 'layers', version: '1' }, layers: 32 }]]),
    malformed: { architecture: 'llm', layers: -1 },
    field: 'layers: ',
  },
  'merge.preview': {
    valid: () => ({ recipe: rawRecipe }),
    reached: (ctx) => expect(called(ctx, 'planner.preview')).toEqual([[expect.objectContaining({ seed: 0, output: { path: '/out/ab.safetensors', dtype: 'auto', embedRecipe: true } })]]),
    malformed: { recipe: { ...rawRecipe, merge: { ...rawRecipe.merge, method: '' } } },
    field: 'recipe.merge.method: ',
  },
  'merge.start': {
    valid: () => ({ recipe: rawRecipe }),
    reached: ({ app }, value) => expect(app.services.mergeJobs.jobs()).toEqual([{ id: (value as { jobId: string }).jobId, state: 'running' }]),
    malformed: { recipe: { ...rawRecipe, format: 'other' } },
    field: 'recipe.format: ',
  },
  'merge.cancel': {
    valid: ({ app }) => ({ jobId: app.services.mergeJobs.start(testRecipe('/out/x.safetensors')) }),
    reached: ({ app }) => expect(app.services.mergeJobs.jobs().map((j) => j.state)).toEqual(['cancelled']),
    malformed: { jobId: '' },
    field: 'jobId: ',
  },
  'presets.list': { valid: () => ({}), malformed: { kind: 'merge' }, field: 'Unrecognized key: "kind"' },
  'presets.save': {
    valid: () => ({ preset: { kind: 'merge', name: 'thirty percent', recipe: rawRecipe } }),
    reached: ({ app }) => expect(app.services.presets.list().map((p) => p.name)).toEqual(['thirty percent']),
    malformed: { preset: { kind: 'blocks', name: 'x', architecture: 'sd1', convention, values: { IN00: 'high' } } },
    field: 'preset',
  },
  'presets.rename': {
    valid: ({ app }) => ({ id: app.services.presets.save({ kind: 'blocks', name: 'old', architecture: 'sd1', convention, values: {} }).id, name: 'new' }),
    reached: (_ctx, value) => expect(value).toMatchObject({ name: 'new' }),
    malformed: { id: 'p', name: '' },
    field: 'name: ',
  },
  'presets.delete': {
    valid: ({ app }) => ({ id: app.services.presets.save({ kind: 'blocks', name: 'gone', architecture: 'sd1', convention, values: {} }).id }),
    reached: ({ app }) => expect(app.services.presets.list()).toEqual([]),
    malformed: { id: 5 },
    field: 'id: ',
  },
  'presets.import': {
    valid: () => ({ json: presetsFileText([{ kind: 'blocks', id: 'x', name: 'imported', updatedAt: '2026-01-01T00:00:00.000Z', architecture: 'sd1', convention, values: { BASE: 1 } }]) }),
    reached: (_ctx, value) => expect(value).toEqual([expect.objectContaining({ name: 'imported', values: { BASE: 1 } })]),
    malformed: { json: { kind: 'blocks' } },
    field: 'json: ',
  },
  'history.list': { valid: () => ({}), malformed: { limit: 5 }, field: 'Unrecognized key: "limit"' },
  'history.delete': {
    valid: ({ app }) => {
      app.services.history.append({ id: 'h1', status: 'failed', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 3, outputPath: '/o', method: 'weighted_sum', recipe: testRecipe('/o'), error: 'disk full', lineagePath: null })
      return { id: 'h1' }
    },
    reached: ({ app }) => expect(app.services.history.list()).toEqual([]),
    malformed: {},
    field: 'id: ',
  },
  'files.list': {
    valid: ({ dir }) => {
      mkdirSync(join(dir, 'models'))
      return { path: dir }
    },
    reached: ({ dir }, value) => expect(value).toMatchObject({ path: dir, entries: [{ name: 'models', kind: 'dir' }] }),
    malformed: { path: 1 },
    field: 'path: ',
  },
  'files.reveal': {
    valid: () => ({ path: '/out/ab.safetensors' }),
    reached: ({ app }) => expect(app.desktop.calls).toEqual([{ method: 'reveal', args: ['/out/ab.safetensors'] }]),
    malformed: {},
    field: 'path: ',
  },
  'dialog.open': {
    valid: () => ({ kind: 'folder', title: 'Add a library folder' }),
    reached: ({ app }, value) => {
      expect(app.desktop.calls).toEqual([{ method: 'openDialog', args: [{ kind: 'folder', title: 'Add a library folder' }] }])
      expect(value).toEqual({ paths: ['/picked/one'] })
    },
    malformed: { kind: 'dir' },
    field: 'kind: ',
  },
  'dialog.save': {
    valid: () => ({ title: 'Save the merge', extensions: ['safetensors'] }),
    reached: (_ctx, value) => expect(value).toEqual({ path: '/picked/out.safetensors' }),
    malformed: { extensions: 'safetensors' },
    field: 'extensions: ',
  },
}

describe('IPC contract: every invoke channel', () => {
  it('has a case here for each channel', () => {
    expect(Object.keys(cases).sort()).toEqual([...INVOKE_CHANNELS].sort())
  })

  function setup(): Context {
    const dir = tempDir()
    const app = testApp(join(dir, 'data'))
    apps.push(app)
    return { app, dir }
  }

  describe.each(INVOKE_CHANNELS.map((channel) => [channel] as const))('%s', (channel) => {
    const spec = cases[channel]

    it('answers a valid payload with a response the contract accepts', async () => {
      const ctx = setup()
      const result = await ctx.app.services.dispatcher.dispatch(channel, await spec.valid(ctx))
      if (!result.ok) throw new Error(`${channel} failed: ${result.error.code} ${result.error.message}`)
      const checked = invokeContract[channel].response.safeParse(result.value)
      expect(checked.error?.issues ?? []).toEqual([])
      spec.reached?.(ctx, result.value)
    })

    it('refuses a malformed payload with BAD_REQUEST naming the field', async () => {
      const ctx = setup()
      const result = await ctx.app.services.dispatcher.dispatch(channel, spec.malformed)
      expect(result).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } })
      if (!result.ok) expect(result.error.message.startsWith(`${channel}: ${spec.field}`)).toBe(true)
    })
  })
})

describe('browser mode', () => {
  it.each(['dialog.open', 'dialog.save', 'files.reveal'] as const)('%s answers NOT_AVAILABLE with a clear message', async (channel) => {
    const app = testApp(join(tempDir(), 'data'), { mode: 'serve' })
    apps.push(app)
    const payload = channel === 'dialog.open' ? { kind: 'files' } : channel === 'dialog.save' ? {} : { path: '/out/ab.safetensors' }
    const result = await app.services.dispatcher.dispatch(channel, payload)
    expect(result).toMatchObject({ ok: false, error: { code: 'NOT_AVAILABLE', message: expect.stringContaining('not available in browser mode (amalgam serve)') } })
  })

  it('reports serve mode in app.status', async () => {
    const app = testApp(join(tempDir(), 'data'), { mode: 'serve' })
    apps.push(app)
    expect(await app.services.dispatcher.dispatch('app.status', {})).toMatchObject({ ok: true, value: { mode: 'serve' } })
  })
})

describe('library wiring', () => {
  it('writes the demo models into the data folder by default and adds that folder', async () => {
    const dir = tempDir()
    const app = testApp(join(dir, 'data'))
    apps.push(app)
    const result = await app.services.dispatcher.dispatch('library.createDemo', {})
    expect(result).toMatchObject({ ok: true, value: { folders: [join(dir, 'data', 'demo-models')] } })
    expect(called({ app, dir }, 'library.createDemo')).toEqual([[join(dir, 'data', 'demo-models')]])
  })

  it('refuses a folder that does not exist or is a file, and relays library notifications as events', async () => {
    const dir = tempDir()
    const app = testApp(join(dir, 'data'))
    apps.push(app)
    expect(await app.services.dispatcher.dispatch('library.addFolder', { path: join(dir, 'nope') })).toEqual({
      ok: false,
      error: { code: 'FILE_NOT_FOUND', message: `${join(dir, 'nope')}: no such folder` },
    })
    expect(await app.services.dispatcher.dispatch('library.addFolder', { path: 'models' })).toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENT' } })
    expect(await app.services.dispatcher.dispatch('library.removeFolder', { path: dir })).toEqual({ ok: false, error: { code: 'BAD_ARGUMENT', message: `${dir}: is not a library folder` } })

    const seen: string[] = []
    app.services.events.subscribe((m) => void seen.push(m.channel))
    await app.services.library.addFolder(dir)
    app.recorded.library.notifyProgress({ phase: 'scanning', done: 1, total: 3, current: null })
    app.recorded.library.notifyChanged()
    expect(seen).toEqual(['library.changed', 'library.progress', 'library.changed'])
  })
})
