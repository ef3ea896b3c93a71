import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBench, type BenchReport } from '../../bench/bench'
import { caseRecipe, LORA_RANK } from '../../bench/case-job'
import { outputDir } from '../../bench/models'
import { BENCH_CASES, parseBenchArgs } from '../../bench/options'
import { formatReport } from '../../bench/report'
import { readFolder } from '../llm/support'
import { expectClose, readAll } from '../plan/support'

const BF16 = { rel: 1 / 64, abs: 1e-6 }
const FP16 = { rel: 2e-3, abs: 2e-3 }

/** mergekit's slerp of two whole tensors, written out in float64: linear when nearly parallel. */
function slerp64(a: Float32Array, b: Float32Array, t: number): number[] {
  const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0))
  const [na, nb] = [norm(a), norm(b)]
  let dot = 0
  for (let i = 0; i < a.length; i++) dot += (a[i]! / na) * (b[i]! / nb)
  if (Math.abs(dot) > 0.9995) return Array.from(a, (x, i) => (1 - t) * x + t * b[i]!)
  const theta = Math.acos(dot)
  const s0 = Math.sin(theta * (1 - t)) / Math.sin(theta)
  const s1 = Math.sin(theta * t) / Math.sin(theta)
  return Array.from(a, (x, i) => s0 * x + s1 * b[i]!)
}

function meanRow(values: Float32Array, rows: number, cols: number): number[] {
  const mean = new Array<number>(cols).fill(0)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c]! += values[r * cols + c]! / rows
  return mean
}

function centredRowNorms(values: Float32Array, rows: number, cols: number): number[] {
  const mean = meanRow(values, rows, cols)
  return Array.from({ length: rows }, (_, r) => Math.sqrt(mean.reduce((s, m, c) => s + (values[r * cols + c]! - m) ** 2, 0)))
}

describe('bench case options', () => {
  it('runs only the cases asked for, in table order, unless --only adds methods', () => {
    const opts = parseBenchArgs(['--rotate', '--llm'])
    expect(opts.cases).toEqual(['llm_slerp', 'rotate'])
    expect(opts.methods).toEqual([])
    expect(parseBenchArgs(['--lora-extract', '--only', 'weighted_sum'])).toMatchObject({ cases: ['lora_extract'], methods: ['weighted_sum'] })
    expect(parseBenchArgs([]).cases).toEqual([])
  })

  it('refuses the SD1.5 cases with --xl', () => {
    expect(() => parseBenchArgs(['--xl', '--rotate'])).toThrow(/--rotate.*SD1\.5/)
    expect(() => parseBenchArgs(['--xl', '--lora-extract'])).toThrow(/--lora-extract.*SD1\.5/)
    expect(parseBenchArgs(['--xl', '--llm']).cases).toEqual(['llm_slerp'])
  })

  it('builds the issue recipes: mergekit slerp at 0.5 to bf16, the full rotation of a onto b', () => {
    const job = { a: '/m/a', b: '/m/b', output: '/o/x', hashCacheDir: '/h' }
    const llm = caseRecipe({ ...job, case: 'llm_slerp' })
    expect(llm.merge).toMatchObject({ method: 'slerp', inputs: [{ model: '/m/a' }, { model: '/m/b' }], params: { alpha: 0.5, variant: 'mergekit' } })
    expect(llm.output).toMatchObject({ path: '/o/x', dtype: 'bf16' })
    const rotate = caseRecipe({ ...job, case: 'rotate' })
    expect(rotate.merge).toMatchObject({ method: 'rotate', params: { alignment: 1, alpha: 0 } })
    expect(rotate.merge.base).toBeUndefined()
  })
})

describe('runBench cases on tiny shapes', () => {
  let cacheDir: string
  let report: BenchReport
  const out = (name: string): string => join(outputDir(cacheDir), name)

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'amalgam-bench-cases-'))
    const opts = parseBenchArgs(['--tiny', '--warm-only', '--keep-outputs', '--llm', '--lora-extract', '--rotate', '--cache', cacheDir])
    report = await runBench(opts, () => undefined)
  }, 240_000)

  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }))

  it('measures each case in its own child process; only the LLM merge against an I/O floor', () => {
    expect(report.rows).toEqual([])
    expect(report.cases.map((c) => [c.case, c.cache])).toEqual(BENCH_CASES.map((c) => [c, 'warm']))
    for (const row of report.cases) {
      expect(row.run.seconds).toBeGreaterThan(0)
      expect(row.run.cpuSeconds).toBeGreaterThan(0)
      expect(row.run.peakRssBytes).toBeGreaterThan(20e6)
      expect(row.run.peakRssBytes).toBeLessThan(4e9)
    }
    const [llm, lora, rotate] = report.cases
    if (llm?.floor == null || report.llm === null) throw new Error('the LLM row has no floor')
    expect(llm.ratio).toBeCloseTo(llm.run.seconds / llm.floor.seconds, 10)
    // both folders' shards read, one folder's worth written
    expect(llm.floor.bytes).toBe(3 * report.llm.bytes)
    expect([lora?.floor, rotate?.floor, lora?.ratio, rotate?.ratio]).toEqual([null, null, null, null])
    expect(report.targets).toEqual([])
    const text = formatReport(report)
    for (const name of BENCH_CASES) expect(text).toContain(name)
  })

  it('writes the Llama folders with the 1B layout and merges them by mergekit slerp', async () => {
    if (report.llm === null) throw new Error('no LLM inputs')
    const config = JSON.parse(readFileSync(join(report.llm.a, 'config.json'), 'utf8')) as Record<string, unknown>
    expect(config).toMatchObject({ architectures: ['LlamaForCausalLM'], num_hidden_layers: 16, tie_word_embeddings: true, torch_dtype: 'bfloat16' })
    expect(report.llm.shards.a).toHaveLength(2)
    const [a, b, merged] = await Promise.all([readFolder(report.llm.a), readFolder(report.llm.b), readFolder(out('llm_slerp'))])
    // 1 + 16 × 9 + 1 tensors: tied, so no lm_head
    expect(a.size).toBe(146)
    expect(a.has('lm_head.weight')).toBe(false)
    expect([...merged.keys()]).toEqual([...a.keys()])
    for (const [key, t] of merged) expectClose(t.values, slerp64(a.get(key)!.values, b.get(key)!.values, 0.5), BF16.rel, BF16.abs)
  })

  it('extracts a rank-32 LoRA of b − a', async () => {
    const lora = await readAll(out('lora_extract.safetensors'))
    const downs = [...lora].filter(([key]) => key.endsWith('.lora_down.weight'))
    expect(downs.length).toBeGreaterThan(50)
    for (const [key, t] of downs) {
      expect(t.shape[0], key).toBeLessThanOrEqual(LORA_RANK)
      expect(lora.has(key.replace('lora_down', 'lora_up')), key).toBe(true)
    }
  })

  it('rotates a onto b: rows keep their centred lengths and move to b’s centroid', async () => {
    if (report.models === null) throw new Error('no SD inputs')
    const [a, b, rotated] = await Promise.all([readAll(report.models.a), readAll(report.models.b), readAll(out('rotate.safetensors'))])
    expect([...rotated.keys()].sort()).toEqual([...a.keys()].sort())
    let checked = 0
    for (const [key, t] of rotated) {
      const [rows, cols] = t.shape
      if (t.shape.length !== 2 || rows === undefined || cols === undefined || rows < cols || rows < 2) continue
      const x = a.get(key)!.values
      const y = b.get(key)!.values
      // out = (A − μA)·R + μB with R orthogonal
      expectClose(meanRow(t.values, rows, cols), meanRow(y, rows, cols), FP16.rel, FP16.abs)
      expectClose(centredRowNorms(t.values, rows, cols), centredRowNorms(x, rows, cols), FP16.rel, FP16.abs)
      checked++
    }
    expect(checked).toBeGreaterThan(20)
  })
})
