import { describe, expect, it } from 'vitest'
import { getConvention } from '../../src-main/engine/arch/blocks'
import { presetsFor } from '../../src-main/engine/arch/presets'
import { PRESETS } from './support'

const ref = (name: string, version: string): { name: string; version: string } => ({ name, version })

describe('tool presets', () => {
  it('SD1 supermerger: the 38 numeric presets, values in BASE, IN00..OUT11 order', () => {
    const c = getConvention('sd1')
    const presets = presetsFor('sd1', ref(c.name, c.version), c.blockIds)
    expect(presets.map((p) => p.name)).toEqual(Object.keys(PRESETS.sd1_26))
    for (const p of presets) {
      const values = PRESETS.sd1_26[p.name]!
      expect(p).toMatchObject({ id: `supermerger/${p.name}`, source: 'supermerger', architecture: 'sd1', convention: { name: 'supermerger', version: '2025-11' } })
      expect(Object.keys(p.values)).toEqual(PRESETS.block_ids.sd1_26)
      PRESETS.block_ids.sd1_26.forEach((id, i) => expect(p.values[id]).toBe(values[i]))
    }
    const gradV = presets.find((p) => p.name === 'GRAD_V')!
    expect([gradV.values.BASE, gradV.values.IN00, gradV.values.M00, gradV.values.OUT11]).toEqual([0, 1, 0, 1])
  })

  it('the same presets apply to SD2 and to every convention with the 26 supermerger ids', () => {
    for (const name of ['bbc_mc', 'sd_mecha', 'model_mixer']) {
      const c = getConvention('sd2', name)
      expect(presetsFor('sd2', ref(c.name, c.version), c.blockIds).length, name).toBe(38)
    }
  })

  it('SDXL: the supermerger-derived and Model Mixer sets, labelled by source; supermerger VAE slot = 0', () => {
    const c = getConvention('sdxl')
    const presets = presetsFor('sdxl', ref(c.name, c.version), c.blockIds)
    const derived = presets.filter((p) => p.id.startsWith('supermerger-xl/'))
    const mixer = presets.filter((p) => p.id.startsWith('model_mixer-xl/'))
    expect(derived.length + mixer.length).toBe(presets.length)
    expect(derived.map((p) => p.name)).toEqual(Object.keys(PRESETS.sdxl_20_supermerger_derived))
    expect(mixer.map((p) => p.name)).toEqual(Object.keys(PRESETS.sdxl_20_model_mixer))
    expect(new Set(derived.map((p) => p.source)).size).toBe(1)
    expect(mixer[0]!.source).toBe('Model Mixer (native SDXL)')
    for (const p of presets) {
      expect(p.values.VAE).toBe(0)
      const table = p.id.startsWith('supermerger-xl/') ? PRESETS.sdxl_20_supermerger_derived : PRESETS.sdxl_20_model_mixer
      PRESETS.block_ids.sdxl_20.forEach((id, i) => expect(p.values[id]).toBe(table[p.name]![i]))
    }
    const mm = getConvention('sdxl', 'model_mixer')
    expect(presetsFor('sdxl', ref(mm.name, mm.version), mm.blockIds).length).toBe(presets.length)
  })
})

describe('generated curves', () => {
  /** t = i/(n−1) over the strip, the curve formulas written out again. */
  function expectedCurves(ids: readonly string[], t: (i: number) => number): Record<string, Record<string, number>> {
    const at = (f: (x: number) => number): Record<string, number> => Object.fromEntries(ids.map((id, i) => [id, f(t(i))]))
    return {
      FLAT_25: at(() => 0.25),
      FLAT_50: at(() => 0.5),
      FLAT_75: at(() => 0.75),
      RAMP_UP: at((x) => x),
      RAMP_DOWN: at((x) => 1 - x),
      V: at((x) => (x < 0.5 ? 1 - 2 * x : 2 * x - 1)),
      A: at((x) => (x < 0.5 ? 2 * x : 2 - 2 * x)),
    }
  }

  function curves(arch: 'flux' | 'sd3' | 'sd1', name?: string): { ids: readonly string[]; got: Record<string, Record<string, number>> } {
    const c = getConvention(arch, name)
    const presets = presetsFor(arch, ref(c.name, c.version), c.blockIds)
    expect(presets.every((p) => p.source === 'generated curve' && p.id === `curve/${p.name}`)).toBe(true)
    return { ids: c.blockIds, got: Object.fromEntries(presets.map((p) => [p.name, { ...p.values }])) }
  }

  it.each([
    ['flux', undefined],
    ['sd3', undefined],
    ['sd1', 'comfyui'],
  ] as const)('%s %s: curves over the whole strip', (arch, name) => {
    const { ids, got } = curves(arch, name)
    const want = expectedCurves(ids, (i) => i / (ids.length - 1))
    for (const [curve, values] of Object.entries(want)) {
      for (const [id, v] of Object.entries(values)) expect(got[curve]![id], `${curve} ${id}`).toBeCloseTo(v, 12)
    }
  })

  it('LLM layers: curves over the layers, EMBED and HEAD at t = 0', () => {
    const c = getConvention('llm', undefined, undefined, { layers: 9 })
    const presets = presetsFor('llm', ref(c.name, c.version), c.blockIds)
    const v = presets.find((p) => p.name === 'V')!.values
    const up = presets.find((p) => p.name === 'RAMP_UP')!.values
    expect([v.EMBED, v.L00, v.L04, v.L08, v.HEAD]).toEqual([1, 1, 0, 1, 1])
    expect([up.EMBED, up.L00, up.L02, up.L08, up.HEAD]).toEqual([0, 0, 0.25, 1, 0])
  })
})
