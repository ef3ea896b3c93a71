import { describe, expect, it } from 'vitest'
import { Preset } from '../../src-main/common/ipc'
import { presetsFileText, PresetsFile } from '../../src-main/common/presets-file'
import { createPresets } from '../../src-main/services/presets'
import { MemoryStore } from '../../src-main/services/store'
import type { PersistedData } from '../../src-main/services/validated-store'
import { testRecipe } from './support/fixtures'

const convention = { name: 'supermerger', version: '2025-11' }

function service(initial: Record<string, unknown> = {}) {
  const store = new MemoryStore<PersistedData>(initial)
  const problems: string[] = []
  let tick = 0
  const presets = createPresets(store, (m) => void problems.push(m), () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)))
  return { presets, store, problems }
}

describe('presets', () => {
  it('saves new presets with an id and a timestamp, lists merge presets first, each by name', () => {
    const { presets } = service()
    const b = presets.save({ kind: 'merge', name: 'b', recipe: testRecipe('/o/b.safetensors') })
    const blocks = presets.save({ kind: 'blocks', name: 'a ramp', architecture: 'sdxl', convention, values: { IN00: 0.2 } })
    const a = presets.save({ kind: 'merge', name: 'a', recipe: testRecipe('/o/a.safetensors') })
    expect(b.id).not.toBe(a.id)
    expect(b.updatedAt).toBe('2026-01-01T00:00:00.000Z')
    expect(presets.list().map((p) => p.name)).toEqual(['a', 'b', 'a ramp'])
    expect(presets.list().every((p) => Preset.safeParse(p).success)).toBe(true)
    expect(blocks.kind).toBe('blocks')
  })

  it('replaces a preset saved with its id, renames and deletes', () => {
    const { presets } = service()
    const first = presets.save({ kind: 'merge', name: 'first', recipe: testRecipe('/o/a.safetensors') })
    const updated = presets.save({ kind: 'merge', id: first.id, name: 'first v2', recipe: testRecipe('/o/b.safetensors') })
    expect(updated.id).toBe(first.id)
    expect(updated.updatedAt > first.updatedAt).toBe(true)
    expect(presets.list()).toEqual([updated])
    const renamed = presets.rename(first.id, 'final')
    expect(renamed).toMatchObject({ id: first.id, name: 'final' })
    presets.delete(first.id)
    expect(presets.list()).toEqual([])
  })

  it('names the missing preset when the id is unknown', () => {
    const { presets } = service()
    expect(() => presets.rename('nope', 'x')).toThrow('preset "nope" does not exist')
    expect(() => presets.delete('nope')).toThrow('preset "nope" does not exist')
    expect(() => presets.save({ kind: 'merge', id: 'nope', name: 'x', recipe: testRecipe('/o/a.safetensors') })).toThrow('preset "nope" does not exist')
  })

  it('round-trips an export file: import gives the same presets under new ids', () => {
    const from = service().presets
    from.save({ kind: 'merge', name: 'm', recipe: testRecipe('/o/a.safetensors') })
    from.save({ kind: 'blocks', name: 'bl', architecture: 'sd1', convention, values: { BASE: 0, IN00: 1 } })
    const text = presetsFileText(from.list())
    expect(PresetsFile.safeParse(JSON.parse(text)).success).toBe(true)

    const { presets: to } = service()
    const existing = to.save({ kind: 'merge', name: 'mine', recipe: testRecipe('/o/c.safetensors') })
    const added = to.import(text)
    const strip = ({ id: _id, updatedAt: _u, ...rest }: Preset) => rest
    expect(added.map(strip)).toEqual(from.list().map(strip))
    expect(added.map((p) => p.id)).not.toContain(from.list()[0]!.id)
    expect(to.list()).toHaveLength(3)
    expect(to.list()).toContainEqual(existing)
  })

  it('imports one preset or a list, with or without ids', () => {
    const { presets } = service()
    const one = { kind: 'blocks', name: 'hand written', architecture: 'sd1', convention, values: { BASE: 0.5 } }
    expect(presets.import(JSON.stringify(one))).toEqual([expect.objectContaining({ name: 'hand written' })])
    expect(presets.import(JSON.stringify([one, { ...one, name: 'second' }])).map((p) => p.name)).toEqual(['hand written', 'second'])
    expect(presets.list()).toHaveLength(3)
  })

  it('refuses a bad file as a whole, naming what is wrong and where', () => {
    const { presets } = service()
    const good = { kind: 'blocks', name: 'ok', architecture: 'sd1', convention, values: {} }
    const bad = { kind: 'merge', name: 'broken', recipe: { format: 'amalgam.recipe', version: 1, merge: { method: 'weighted_sum', inputs: [] }, output: { path: '/o.safetensors' } } }
    expect(() => presets.import(JSON.stringify({ format: 'amalgam.presets', version: 1, presets: [good, bad] }))).toThrow(/^presets file: presets\[1\]\.recipe\.merge\.inputs: /)
    expect(presets.list()).toEqual([])
    expect(() => presets.import('{"kind": "merge", ')).toThrow(/^presets file: not valid JSON/)
    expect(() => presets.import(JSON.stringify({ format: 'amalgam.presets', version: 2, presets: [] }))).toThrow('presets file: version 2 is not supported by this Amalgam (it reads version 1)')
    expect(() => presets.import(JSON.stringify([good, { kind: 'colour' }]))).toThrow(/^presets file: \[1\]\.kind: /)
    expect(() => presets.import(JSON.stringify({ format: 'amalgam.presets', version: 1 }))).toThrow(/^presets file: not an Amalgam presets file \(presets: /)
  })

  it('quarantines a stored preset that no longer validates and keeps the rest', () => {
    const good: Preset = { kind: 'blocks', id: 'g', name: 'good', updatedAt: '2026-01-01T00:00:00.000Z', architecture: 'sd1', convention, values: {} }
    const { presets, problems, store } = service({ presets: [good, { kind: 'blocks', id: 'b', name: '' }] })
    expect(presets.list()).toEqual([good])
    expect(problems).toEqual([expect.stringContaining('presets[1]')])
    expect(store.get('presets')).toEqual([good])
  })
})
