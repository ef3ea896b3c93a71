import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { MergeEvent } from '../../src-main/common/events'
import type { RecipeInput } from '../../src-main/common/recipe'
import { runRecipe, type RunRecipeOptions } from '../../src-main/engine/execute/run-recipe'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { supermergerCosine } from '../../src-main/engine/methods/supermerger-cosine'
import { expectClose, lerp64, readAll, recipeOf, writeModel } from '../plan/support'
import { runMethod } from '../support/run-method'
import { cos, normalize } from '../support/naive-vectors'

/*
 * Naive float64 supermerger cosineA / cosineB (METHODS.md §5.2), over a whole SD1 model:
 * pass 1 gathers one similarity per column (tensor as (shape[0], rest)) of every merged key, drops
 * NaN and what lies outside numpy's midpoint 1st/99th percentiles, keeps min and max; pass 2 rescales
 * each key's combined similarity to [min, max] and mixes B + k·(A − B).
 */

type Variant = 'a' | 'b'
type Body = Omit<RecipeInput, 'format' | 'version'>

function columnsOf(x: ArrayLike<number>, shape: readonly number[]): number[][] {
  const rows = shape.length === 0 ? 1 : shape[0]!
  const count = x.length / rows
  return Array.from({ length: count }, (_, j) => Array.from({ length: rows }, (_, r) => x[r * count + j]!))
}

/** (cos per column + whole-tensor cos) / 2, of the column-normalised tensors when `normalised`. */
function combined(a: ArrayLike<number>, b: ArrayLike<number>, shape: readonly number[], normalised: boolean): number[] {
  let xs = columnsOf(a, shape)
  let ys = columnsOf(b, shape)
  if (normalised) {
    xs = xs.map(normalize)
    ys = ys.map(normalize)
  }
  const whole = cos(xs.flat(), ys.flat())
  return xs.map((x, j) => (cos(x, ys[j]!) + whole) / 2)
}

function passOne(a: ArrayLike<number>, b: ArrayLike<number>, shape: readonly number[], variant: Variant): number[] {
  if (variant === 'b') return combined(a, b, shape, false)
  const ys = columnsOf(b, shape).map(normalize)
  return columnsOf(a, shape).map((x, j) => cos(normalize(x), ys[j]!))
}

function numpyMidpoint(sorted: readonly number[], q: number): number {
  const k = ((sorted.length - 1) * q) / 100
  return (sorted[Math.floor(k)]! + sorted[Math.ceil(k)]!) / 2
}

function naiveRange(values: readonly number[]): { min: number; max: number } {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((x, y) => x - y)
  const lo = numpyMidpoint(sorted, 1)
  const hi = numpyMidpoint(sorted, 99)
  const kept = sorted.filter((v) => v >= lo && v <= hi)
  return { min: Math.min(...kept), max: Math.max(...kept) }
}

/** supermerger's SD1 block of a key (as in run-recipe.test.ts). */
function block(key: string): string {
  if (key.includes('time_embed')) return 'IN00'
  if (key.includes('.out.')) return 'OUT11'
  const n = /\.(input_blocks|output_blocks)\.(\d+)\./.exec(key)
  if (n !== null) return `${n[1] === 'input_blocks' ? 'IN' : 'OUT'}${n[2]!.padStart(2, '0')}`
  return /\.middle_block\./.test(key) ? 'M00' : 'BASE'
}

/** The keys the default recipe merges: unet and text encoder floats (the VAE is copied, as supermerger skips it). */
function isMerged(key: string, dtype: string): boolean {
  return dtype !== 'I64' && (key.startsWith('model.diffusion_model.') || key.startsWith('cond_stage_model.'))
}

let dir: string
const path = (name: string): string => join(dir, name)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-sm-cosine-'))
  await writeModel(path('a.safetensors'), { seed: 11 })
  await writeModel(path('b.safetensors'), { seed: 12 })
})

async function run(body: Body, opts: Partial<Omit<RunRecipeOptions, 'onEvent'>> = {}): Promise<MergeEvent[]> {
  const events: MergeEvent[] = []
  await runRecipe(recipeOf(body), { cwd: dir, signal: new AbortController().signal, hashCache: null, ...opts, onEvent: (e) => events.push(MergeEvent.parse(e)) })
  return events
}

function done(events: readonly MergeEvent[]): Extract<MergeEvent, { type: 'done' }> {
  const last = events.at(-1)
  if (last?.type !== 'done') throw new Error(`the merge did not finish: ${JSON.stringify(last)}`)
  return last
}

function cosineBody(output: string, variant: Variant, alpha: number | { value: number; blocks: Record<string, number> }, b = 'b.safetensors'): Body {
  return {
    merge: { method: 'supermerger_cosine', inputs: [{ model: 'a.safetensors' }, { model: b }], params: { variant, alpha } },
    output: { path: output, dtype: 'fp32' },
  }
}

describe('supermerger_cosine over a whole model', () => {
  const cases: { variant: Variant; alpha: { value: number; blocks: Record<string, number> } }[] = [
    { variant: 'a', alpha: { value: -0.3, blocks: { IN05: 0.1, OUT11: 0.6 } } },
    { variant: 'b', alpha: { value: 0.2, blocks: { M00: -0.2 } } },
  ]
  it.each(cases)('variant $variant equals a float64 two-pass reference on every merged key', async ({ variant, alpha }) => {
    const result = done(await run(cosineBody(`ref-${variant}.safetensors`, variant, alpha)))
    const [a, b, out] = await Promise.all([readAll(path('a.safetensors')), readAll(path('b.safetensors')), readAll(result.path)])
    const merged = [...a].filter(([key, t]) => isMerged(key, t.dtype))
    const { min, max } = naiveRange(merged.flatMap(([key, t]) => passOne(t.values, b.get(key)!.values, t.shape, variant)))
    expect(max).toBeGreaterThan(min)
    let partial = 0
    let columns = 0
    for (const [key, x] of merged) {
      const y = b.get(key)!.values
      const raw = alpha.blocks[block(key)] ?? alpha.value
      const offset = variant === 'a' ? Math.abs(raw) : raw
      const k = combined(x.values, y, x.shape, variant === 'a').map((c) => Math.min(Math.max((c - min) / (max - min) - offset, 0), 1))
      partial += k.filter((w) => w > 0 && w < 1).length
      columns += k.length
      const expected = Array.from(x.values, (v, i) => lerp64(y[i]!, v, k[i % k.length]!))
      expectClose(out.get(key)!.values, expected, 1e-4, 1e-5)
    }
    expect(merged.length).toBeGreaterThan(800)
    // the rescaled weights really vary: most columns are neither pure A nor pure B
    expect(partial / columns).toBeGreaterThan(0.3)
    for (const [key, t] of a) if (!isMerged(key, t.dtype)) expect(out.get(key)!.values, key).toEqual(t.values)
  })

  it('reports a statistics phase with progress over every merged key, before merging', async () => {
    const events = await run(cosineBody('phase.safetensors', 'b', 0.5))
    done(events)
    const phases = events.flatMap((e) => (e.type === 'phase' ? [e.phase] : []))
    expect(phases).toEqual(['hashing', 'statistics', 'merging', 'finalising'])
    const progress = events.flatMap((e) => (e.type === 'progress' && e.phase === 'statistics' ? [e] : []))
    const mergedKeys = [...(await readAll(path('a.safetensors')))].filter(([key, t]) => isMerged(key, t.dtype)).length
    expect(progress).toHaveLength(mergedKeys)
    expect(progress.map((p) => p.index)).toEqual(Array.from({ length: mergedKeys }, (_, i) => i + 1))
    expect(progress.at(-1)?.bytesDone).toBe(progress.at(-1)?.bytesTotal)
    const firstMerge = events.findIndex((e) => e.type === 'progress' && e.phase === 'merging')
    expect(events.findIndex((e) => e === progress.at(-1))).toBeLessThan(firstMerge)
  })

  it('is deterministic across runs and thread counts; small chunks agree with whole rows', async () => {
    const first = done(await run(cosineBody('det-1.safetensors', 'a', 0.25), { threads: 1 }))
    const second = done(await run(cosineBody('det-2.safetensors', 'a', 0.25), { threads: 2 }))
    expect(second.lineage.output.tensorSha256).toBe(first.lineage.output.tensorSha256)
    const chunked = done(await run(cosineBody('det-chunked.safetensors', 'a', 0.25), { chunkElements: 128 }))
    const [whole, pieces] = await Promise.all([readAll(first.path), readAll(chunked.path)])
    for (const [key, t] of whole) expectClose(pieces.get(key)!.values, t.values, 1e-4, 1e-5)
  })

  it('returns A when both models are A', async () => {
    const result = done(await run(cosineBody('same.safetensors', 'b', 0.1, 'a.safetensors')))
    const [a, out] = await Promise.all([readAll(path('a.safetensors')), readAll(result.path)])
    for (const [key, t] of a) expect(out.get(key)!.values, key).toEqual(t.values)
  })

  it('leaves nothing behind when cancelled during the statistics pass', async () => {
    const controller = new AbortController()
    const events: MergeEvent[] = []
    await runRecipe(recipeOf(cosineBody('cancelled.safetensors', 'a', 0.5)), {
      cwd: dir,
      signal: controller.signal,
      hashCache: null,
      threads: 2,
      onEvent: (e) => {
        events.push(e)
        if (e.type === 'progress' && e.phase === 'statistics') controller.abort()
      },
    })
    expect(events.at(-1)?.type).toBe('cancelled')
    expect(events.filter((e) => e.type === 'cancelled')).toHaveLength(1)
    expect(events.some((e) => e.type === 'phase' && e.phase === 'merging')).toBe(false)
    expect(existsSync(path('cancelled.safetensors'))).toBe(false)
    expect(readdirSync(dir).filter((n) => n.startsWith('cancelled'))).toEqual([])
  })
})

describe('supermerger_cosine declaration', () => {
  it('keeps the range inside numpy midpoint 1st/99th percentiles of all contributions', () => {
    const stats = supermergerCosine.statistics
    if (stats === undefined) throw new Error('supermerger_cosine declares no statistics pass')
    // 0..199 split over keys in a scrambled order: p1 = 1.5, p99 = 197.5 → kept 2..197
    const values = Array.from({ length: 200 }, (_, i) => (i * 73) % 200)
    const contributions = [values.slice(0, 7), values.slice(7, 120), [], values.slice(120)].map((v) => Float64Array.from(v))
    expect(stats.combine(contributions)).toEqual({ min: 2, max: 197 })
    expect(stats.combine([Float64Array.of(0.25)])).toEqual({ min: 0.25, max: 0.25 })
  })

  it('resolves supermerger names to the variants', () => {
    expect(resolveMethod('cosineA').fixedParams).toEqual({ variant: 'a' })
    expect(resolveMethod('cosineB').fixedParams).toEqual({ variant: 'b' })
    expect(resolveMethod('cosine_b').method.id).toBe('supermerger_cosine')
  })

  it('refuses to merge a key without its model-wide range', async () => {
    await expect(runMethod('supermerger_cosine', { inputs: [[1, 2], [2, 1]], params: { variant: 'a' } })).rejects.toThrow(/without its model-wide similarity range/)
  })

  it('treats a degenerate range as every column at the top of it', async () => {
    const a = [1, 2, 3, 4, -1, 0.5]
    const b = [2, -1, 0, 3, 1, 1]
    const { output } = await runMethod('supermerger_cosine', { inputs: [a, b], shape: [3, 2], params: { variant: 'b', alpha: 0.25 }, statistic: { min: 0.4, max: 0.4 } })
    expectClose(output, a.map((x, i) => lerp64(b[i]!, x, 0.75)))
  })
})
