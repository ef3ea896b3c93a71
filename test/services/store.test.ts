import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Recipe } from '../../src-main/common/recipe'
import { createHistory } from '../../src-main/services/history'
import { createPresets } from '../../src-main/services/presets'
import { createSettings, DEFAULT_SETTINGS } from '../../src-main/services/settings'
import { defaultDataDir, MemoryStore, openConfStore } from '../../src-main/services/store'
import type { PersistedData } from '../../src-main/services/validated-store'
import { useTempDir } from '../formats/support'
import { testRecipe } from './support/fixtures'

const tempDir = useTempDir()

describe('MemoryStore', () => {
  it('copies values in and out, so callers cannot change what is stored by mutating', () => {
    const store = new MemoryStore<PersistedData>()
    const folders = ['/a']
    store.set('settings', { ...DEFAULT_SETTINGS, libraryFolders: folders })
    folders.push('/b')
    const read = store.get('settings') as { libraryFolders: string[] }
    expect(read.libraryFolders).toEqual(['/a'])
    read.libraryFolders.push('/c')
    expect((store.get('settings') as { libraryFolders: string[] }).libraryFolders).toEqual(['/a'])
  })
})

describe('conf store (serve mode)', () => {
  it('keeps presets across a restart: a new service instance on the same folder reads them back', () => {
    const dir = tempDir()
    const first = createPresets(openConfStore<PersistedData>(dir, () => undefined), () => undefined)
    const saved = first.save({ kind: 'merge', name: 'half and half', recipe: testRecipe('/out/m.safetensors') })
    const blocks = first.save({ kind: 'blocks', name: 'ramp', architecture: 'sd1', convention: { name: 'supermerger', version: '2025-11' }, values: { BASE: 0, IN00: 0.5 } })

    const again = createPresets(openConfStore<PersistedData>(dir, () => undefined), () => undefined)
    expect(again.list()).toEqual([saved, blocks])
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).presets).toHaveLength(2)
  })

  it('moves an unparseable data file aside, reports it, and starts with defaults', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'config.json'), '{"settings": {"libraryFolders": [')
    const problems: string[] = []
    const store = openConfStore<PersistedData>(dir, (m) => void problems.push(m))
    expect(createSettings(store, () => undefined).get()).toEqual(DEFAULT_SETTINGS)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain(join(dir, 'config.json'))
    const aside = readdirSync(dir).filter((name) => name.startsWith('config.json.corrupt-'))
    expect(aside).toHaveLength(1)
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe('{"settings": {"libraryFolders": [')
  })
})

describe('settings', () => {
  it('starts with no folders, output next to input a, auto dtype, recipes embedded', () => {
    expect(createSettings(new MemoryStore(), () => undefined).get()).toEqual({ libraryFolders: [], outputFolder: null, defaultOutputDType: 'auto', embedRecipe: true })
  })

  it('normalises and de-duplicates folders, tells listeners, and persists', () => {
    const store = new MemoryStore<PersistedData>()
    const settings = createSettings(store, () => undefined)
    const seen: string[][] = []
    settings.onChange((next) => void seen.push(next.libraryFolders))
    const next = settings.update({ libraryFolders: ['/m/sd/', '/m/sd', '/m/xl/../llm'], outputFolder: '/out/' })
    expect(next.libraryFolders).toEqual(['/m/sd', '/m/llm'])
    expect(next.outputFolder).toBe('/out')
    expect(seen).toEqual([['/m/sd', '/m/llm']])
    expect(createSettings(store, () => undefined).get()).toEqual(next)
  })

  it('refuses relative paths, naming the field', () => {
    const settings = createSettings(new MemoryStore(), () => undefined)
    expect(() => settings.update({ libraryFolders: ['/ok', 'models'] })).toThrow('settings.libraryFolders[1]: "models" is not an absolute path')
    expect(() => settings.update({ outputFolder: 'out' })).toThrow('settings.outputFolder')
  })

  it('quarantines one invalid stored field and keeps the others', () => {
    const store = new MemoryStore<PersistedData>({ settings: { libraryFolders: ['/models'], outputFolder: null, defaultOutputDType: 'fp64', embedRecipe: false } })
    const problems: string[] = []
    const settings = createSettings(store, (m) => void problems.push(m))
    expect(settings.get()).toEqual({ libraryFolders: ['/models'], outputFolder: null, defaultOutputDType: 'auto', embedRecipe: false })
    expect(problems).toEqual([expect.stringContaining('settings.defaultOutputDType')])
    expect(store.get('quarantine')).toEqual([expect.objectContaining({ from: 'settings.defaultOutputDType', value: 'fp64' })])
    // repaired on disk: reported once
    settings.get()
    expect(problems).toHaveLength(1)
  })

  it('replaces settings that are not an object at all', () => {
    const store = new MemoryStore<PersistedData>({ settings: 'garbage' })
    const problems: string[] = []
    expect(createSettings(store, (m) => void problems.push(m)).get()).toEqual(DEFAULT_SETTINGS)
    expect(problems).toHaveLength(1)
  })
})

describe('history', () => {
  const entry = (id: string, status: 'done' | 'failed' | 'cancelled' = 'done') => ({
    id,
    status,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 10,
    outputPath: '/out/m.safetensors',
    method: 'weighted_sum',
    recipe: testRecipe('/out/m.safetensors'),
    error: status === 'failed' ? 'boom' : null,
    lineagePath: status === 'done' ? '/out/m.lineage.json' : null,
  })

  it('lists newest first and deletes by id', () => {
    const history = createHistory(new MemoryStore(), () => undefined)
    history.append(entry('1'))
    history.append(entry('2', 'failed'))
    history.append(entry('3', 'cancelled'))
    expect(history.list().map((e) => e.id)).toEqual(['3', '2', '1'])
    history.delete('2')
    expect(history.list().map((e) => e.id)).toEqual(['3', '1'])
    expect(() => history.delete('2')).toThrow('history entry "2" does not exist')
  })

  it('quarantines an invalid stored entry and keeps the valid ones', () => {
    const store = new MemoryStore<PersistedData>({ history: [entry('ok'), { id: 'broken', status: 'exploded' }] })
    const problems: string[] = []
    expect(createHistory(store, (m) => void problems.push(m)).list().map((e) => e.id)).toEqual(['ok'])
    expect(problems).toEqual([expect.stringContaining('history[1]')])
    expect(store.get('quarantine')).toEqual([expect.objectContaining({ from: 'history[1]', value: { id: 'broken', status: 'exploded' } })])
  })

  it('keeps recipes as they were run (defaults filled in)', () => {
    const history = createHistory(new MemoryStore(), () => undefined)
    history.append(entry('1'))
    expect(Recipe.safeParse(history.list()[0]!.recipe).success).toBe(true)
    expect(history.list()[0]!.recipe.seed).toBe(0)
  })
})

describe('defaultDataDir', () => {
  it('is where Electron keeps the userData of an app named amalgam', () => {
    expect(defaultDataDir({}, 'linux', '/home/u')).toBe('/home/u/.config/amalgam')
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/amalgam')
    expect(defaultDataDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/amalgam')
    expect(defaultDataDir({ APPDATA: '/c/AppData/Roaming' }, 'win32', '/c/u')).toBe('/c/AppData/Roaming/amalgam')
  })
})
