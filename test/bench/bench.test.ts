import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBench, type BenchReport } from '../../bench/bench'
import { benchRecipe } from '../../bench/merge-job'
import { outputDir } from '../../bench/models'
import { BENCH_METHODS, parseBenchArgs, type BenchOptions } from '../../bench/options'
import { formatReport } from '../../bench/report'
import { expectClose, lerp64, readAll } from '../plan/support'

const UNET = 'model.diffusion_model.'
const FP16 = { rel: 1e-3, abs: 1e-6 }

describe('bench options', () => {
  it('defaults to every method, warm and cold, SD1.5 in ~/.cache/amalgam-bench', () => {
    const opts = parseBenchArgs([])
    expect(opts).toMatchObject({ xl: false, tiny: false, methods: BENCH_METHODS, keepOutputs: false, json: false, cold: true })
    expect(opts.cacheDir).toMatch(/amalgam-bench$/)
  })

  it('keeps the table order whatever order --only lists, and resolves --cache', () => {
    const opts = parseBenchArgs(['--only', 'ties_sum, weighted_sum', '--cache', 'rel/dir', '--xl', '--keep-outputs', '--json', '--warm-only'])
    expect(opts.methods).toEqual(['weighted_sum', 'ties_sum'])
    expect(opts.cacheDir).toBe(join(process.cwd(), 'rel/dir'))
    expect(opts).toMatchObject({ xl: true, keepOutputs: true, json: true, cold: false })
  })

  it('names an unknown method or flag', () => {
    expect(() => parseBenchArgs(['--only', 'weighted_sum,slerp'])).toThrow(/unknown method "slerp"/)
    expect(() => parseBenchArgs(['--only', ','])).toThrow(/at least one/)
    expect(() => parseBenchArgs(['--fast'])).toThrow(/--fast/)
  })

  it('builds the issue recipes: alpha 0.5, a + (b - base), TIES k = 0.2 over a, b and the base', () => {
    const job = { a: '/m/a.safetensors', b: '/m/b.safetensors', base: '/m/c.safetensors', output: '/o/x.safetensors', hashCacheDir: '/h' }
    const ws = benchRecipe({ ...job, method: 'weighted_sum' })
    expect(ws.merge).toMatchObject({ method: 'weighted_sum', params: { alpha: 0.5 } })
    expect(ws.merge.base).toBeUndefined()
    const ties = benchRecipe({ ...job, method: 'ties_sum' })
    expect(ties.merge).toMatchObject({ method: 'ties_sum', params: { k: 0.2 }, base: { model: job.base } })
    expect(ties.merge.inputs).toEqual([{ model: job.a }, { model: job.b }])
    expect(ties.output).toMatchObject({ path: job.output, dtype: 'fp16' })
  })
})

describe('runBench on the tiny SD1 layout', () => {
  let cacheDir: string
  let first: BenchReport
  const options = (over: Partial<BenchOptions>): BenchOptions => ({ ...parseBenchArgs(['--tiny', '--warm-only', '--cache', cacheDir]), ...over })
  const models = (): NonNullable<BenchReport['models']> => {
    if (first.models === null) throw new Error('the method rows ran without SD inputs')
    return first.models
  }

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'amalgam-bench-test-'))
    first = await runBench(options({ keepOutputs: true }), () => undefined)
  }, 180_000)

  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }))

  it('measures every method against the floor of its own inputs, in child processes', () => {
    expect(first.rows.map((r) => [r.method, r.cache, r.inputs])).toEqual([
      ['weighted_sum', 'warm', 2],
      ['add_difference', 'warm', 3],
      ['ties_sum', 'warm', 3],
    ])
    for (const row of first.rows) {
      expect(row.merge.seconds).toBeGreaterThan(0)
      expect(row.merge.cpuSeconds).toBeGreaterThan(0)
      expect(row.floor.seconds).toBeGreaterThan(0)
      expect(row.ratio).toBeCloseTo(row.merge.seconds / row.floor.seconds, 10)
      // a child's peak RSS: more than an empty V8 heap, far less than this machine's memory
      expect(row.merge.peakRssBytes).toBeGreaterThan(20e6)
      expect(row.merge.peakRssBytes).toBeLessThan(4e9)
      // inputs read + output written, each file a few hundred KB
      expect(row.floor.bytes).toBe((row.inputs + 1) * models().bytes)
    }
    expect(first.coldUnavailable).toMatch(/warm-only/)
    expect([first.cases, first.llm]).toEqual([[], null])
    // the targets are about real sizes
    expect(first.targets).toEqual([])
    const text = formatReport(first)
    for (const method of BENCH_METHODS) expect(text).toContain(method)
    expect(text).toContain('load average')
  })

  it('runs the real merges: weighted_sum and add_difference outputs match a float64 reference', async () => {
    const [a, b, base, ws, ad] = await Promise.all(
      [models().a, models().b, models().base, join(outputDir(cacheDir), 'weighted_sum.safetensors'), join(outputDir(cacheDir), 'add_difference.safetensors')].map(readAll),
    )
    let checked = 0
    for (const [key, x] of a!) {
      if (!key.startsWith(UNET)) continue
      const y = b!.get(key)!.values
      const c = base!.get(key)!.values
      expectClose(ws!.get(key)!.values, Array.from(x.values, (v, i) => lerp64(v, y[i]!, 0.5)), FP16.rel, FP16.abs)
      expectClose(ad!.get(key)!.values, Array.from(x.values, (v, i) => v + (y[i]! - c[i]!)), FP16.rel, FP16.abs)
      checked++
    }
    expect(checked).toBeGreaterThan(500)
    expect(existsSync(join(outputDir(cacheDir), 'ties_sum.safetensors'))).toBe(true)
  })

  it('reuses the generated models on a later run and removes its outputs unless asked to keep them', async () => {
    const mtime = statSync(models().a).mtimeMs
    const second = await runBench(options({ methods: ['weighted_sum'] }), () => undefined)
    expect(second.models).toEqual(first.models)
    expect(statSync(models().a).mtimeMs).toBe(mtime)
    expect(second.rows.map((r) => r.method)).toEqual(['weighted_sum'])
    expect(readdirSync(outputDir(cacheDir)).filter((f) => f.startsWith('weighted_sum'))).toEqual([])
  }, 120_000)
})
