import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ParamValue, RecipeInput } from '../../src-main/common/recipe'
import type { Plan } from '../../src-main/engine/plan/types'
import { K, mergeOf, plan, taskOf, writeModel } from './support'

type Body = Omit<RecipeInput, 'format' | 'version'>

let dir: string
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-plan-params-'))
  await writeModel(join(dir, 'a.safetensors'), { seed: 1 })
  await writeModel(join(dir, 'b.safetensors'), { seed: 2 })
})

const BLOCKS = ['BASE', ...Array.from({ length: 12 }, (_, i) => `IN${String(i).padStart(2, '0')}`), 'M00', ...Array.from({ length: 12 }, (_, i) => `OUT${String(i).padStart(2, '0')}`)]

/** supermerger's SD1 block of a key (mergers.py blockfromkey, 2025-11), written out independently. */
function supermergerBlock(key: string, timeEmbed: 'IN00' | 'OUT11' = 'IN00'): string {
  if (key.includes('time_embed')) return timeEmbed
  if (key.includes('.out.')) return 'OUT11'
  const n = /\.(input_blocks|output_blocks)\.(\d+)\./.exec(key)
  if (n !== null) return `${n[1] === 'input_blocks' ? 'IN' : 'OUT'}${n[2]!.padStart(2, '0')}`
  if (/\.middle_block\.\d+\./.test(key)) return 'M00'
  return 'BASE'
}

function mergedKeys(p: Plan): string[] {
  return p.tasks.filter((t) => t.action.kind === 'merge').map((t) => t.key)
}

const pairWith = (alpha: ParamValue, extra: Partial<Body> = {}): Body => ({
  merge: { method: 'weighted_sum', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }], params: { alpha } },
  output: { path: 'out.safetensors' },
  ...extra,
})

describe('per-key parameters', () => {
  it('resolve key regex > block > gradient > global value for every key, with the real supermerger convention', async () => {
    const alpha = { value: 0.1, blocks: { IN04: 0.7, OUT11: 0.9, BASE: 0.2 }, gradient: [0, 1], keys: [{ pattern: 'proj_in', value: 0.55 }] }
    const p = await plan(dir, pairWith(alpha))
    const keys = mergedKeys(p)
    expect(keys.length).toBeGreaterThan(800)
    for (const key of keys) {
      const block = supermergerBlock(key)
      const expected = /proj_in/.test(key) ? 0.55 : ({ IN04: 0.7, OUT11: 0.9, BASE: 0.2 } as Record<string, number>)[block] ?? BLOCKS.indexOf(block) / 25
      const got = mergeOf(p, key).expr.params.alpha as number
      expect(Math.abs(got - expected), `${key} (${block})`).toBeLessThan(1e-12)
      expect(taskOf(p, key).block).toBe(block)
    }
    expect(mergeOf(p, K.in04).expr.params.alpha).toBe(0.55)
    expect(mergeOf(p, K.in05).expr.params.alpha).toBeCloseTo(6 / 25, 12)
    expect(mergeOf(p, K.timeEmbed).expr.params.alpha).toBeCloseTo(1 / 25, 12)
  })

  it('fall back to the global value where no block value is given', async () => {
    const p = await plan(dir, pairWith({ value: 0.1, blocks: { IN04: 0.7 } }))
    for (const key of mergedKeys(p)) {
      expect(mergeOf(p, key).expr.params.alpha, key).toBe(supermergerBlock(key) === 'IN04' ? 0.7 : 0.1)
    }
  })

  it('follow the pinned convention version: supermerger 2023-07 put time_embed in OUT11', async () => {
    const alpha = { value: 0.1, blocks: { IN00: 0.3, OUT11: 0.9 } }
    const current = await plan(dir, pairWith(alpha))
    const old = await plan(dir, pairWith(alpha, { blocks: { name: 'supermerger', version: '2023-07' } }))
    expect(mergeOf(current, K.timeEmbed).expr.params.alpha).toBe(0.3)
    expect(mergeOf(old, K.timeEmbed).expr.params.alpha).toBe(0.9)
    expect(mergeOf(old, K.in00).expr.params.alpha).toBe(0.3)
    expect(old.recipe.blocks).toEqual({ name: 'supermerger', version: '2023-07' })
    expect(current.recipe.blocks).toEqual({ name: 'supermerger', version: '2025-11' })
  })

  it('a gradient alone spreads its anchors over the blocks in convention order', async () => {
    const p = await plan(dir, pairWith({ gradient: [0.2, 1, 0.4] }))
    const interp = (t: number): number => (t <= 0.5 ? 0.2 + (t / 0.5) * 0.8 : 1 + ((t - 0.5) / 0.5) * (0.4 - 1))
    for (const key of mergedKeys(p)) {
      const t = BLOCKS.indexOf(supermergerBlock(key)) / 25
      expect(Math.abs((mergeOf(p, key).expr.params.alpha as number) - interp(t)), key).toBeLessThan(1e-12)
    }
  })

  it('the plan covers every output key once, laid out back to back in task order', async () => {
    const p = await plan(dir, pairWith(0.5))
    expect(new Set(p.tasks.map((t) => t.key)).size).toBe(p.tasks.length)
    let cursor = 0
    p.tasks.forEach((t, i) => {
      expect(t.index).toBe(i)
      expect(t.begin).toBe(cursor)
      cursor = t.end
    })
    expect(p.summary.outputBytes).toBeGreaterThan(cursor)
    expect(structuredClone(p)).toEqual(p)
  })
})
