import { mkdir, rm, stat } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { lineagePathFor } from '../src-main/engine/lineage/sidecar'
import { readThrough } from './floor'
import { dropPageCache, measureInChild, type Measurement } from './measure'
import { ensureModels, hashCacheDir, outputDir, type BenchArch, type BenchModels, type BenchScale } from './models'
import type { BenchMethod, BenchOptions } from './options'

export type CacheState = 'warm' | 'cold'

export interface MethodRow {
  readonly method: BenchMethod
  readonly cache: CacheState
  /** files the merge reads: 2 for weighted_sum, 3 with the base */
  readonly inputs: number
  readonly merge: Measurement
  /** the I/O floor of the same inputs and output size, measured in the same cache state just before */
  readonly floor: Measurement
  /** merge wall time / floor wall time */
  readonly ratio: number
}

export interface Target {
  readonly name: string
  readonly value: string
  readonly pass: boolean
}

export interface BenchReport {
  readonly architecture: BenchArch
  readonly scale: BenchScale
  readonly startedAt: string
  readonly cpus: number
  /** 1-minute load average before and after: other work on the machine skews every number */
  readonly loadAverage: { readonly start: number; readonly end: number }
  readonly models: BenchModels & { readonly bytes: number }
  /** null when cold-cache runs were measured; else why not */
  readonly coldUnavailable: string | null
  readonly rows: readonly MethodRow[]
  readonly targets: readonly Target[]
}

const GB = 1e9

/**
 * The benchmark: makes sure the synthetic inputs exist, then for each cache state (warm: every input
 * read once beforehand; cold: page cache dropped before every job, where permitted) measures the
 * I/O floor of each input set and each merge, every one in its own child process.
 */
export async function runBench(opts: BenchOptions, log: (line: string) => void): Promise<BenchReport> {
  const architecture: BenchArch = opts.xl ? 'sdxl' : 'sd1'
  const scale: BenchScale = opts.tiny ? 'tiny' : 'real'
  const startedAt = new Date().toISOString()
  const models = await ensureModels(opts.cacheDir, architecture, scale, log)
  // taken after generating the inputs: the load the measurements ran under
  const loadStart = loadavg()[0] ?? 0
  const outDir = outputDir(opts.cacheDir)
  await mkdir(outDir, { recursive: true })
  const outputBytes = (await stat(models.a)).size

  const rows: MethodRow[] = []
  log('warming the page cache (reading every input once) ...')
  for (const path of [models.a, models.b, models.base]) readThrough(path)
  rows.push(...(await measureState('warm', opts, models, outDir, outputBytes, log)))

  let coldUnavailable: string | null = opts.cold ? null : 'not requested (--warm-only)'
  if (opts.cold) {
    const refused = dropPageCache()
    if (refused === null) rows.push(...(await measureState('cold', opts, models, outDir, outputBytes, log)))
    else coldUnavailable = `not permitted (${refused})`
  }

  return {
    architecture,
    scale,
    startedAt,
    cpus: availableParallelism(),
    loadAverage: { start: loadStart, end: loadavg()[0] ?? 0 },
    models: { ...models, bytes: outputBytes },
    coldUnavailable,
    rows,
    targets: scale === 'real' ? targets(architecture, rows) : [],
  }
}

async function measureState(
  cache: CacheState,
  opts: BenchOptions,
  models: BenchModels,
  outDir: string,
  outputBytes: number,
  log: (line: string) => void,
): Promise<MethodRow[]> {
  const floors = new Map<number, Measurement>()
  const rows: MethodRow[] = []
  const settle = (): void => {
    // runBench's probe succeeded; should a later drop be refused, that job just runs a little warmer
    if (cache === 'cold') dropPageCache()
  }
  for (const method of opts.methods) {
    const inputs = method === 'weighted_sum' ? [models.a, models.b] : [models.a, models.b, models.base]
    let floor = floors.get(inputs.length)
    if (floor === undefined) {
      log(`${cache}: I/O floor of ${inputs.length} inputs ...`)
      settle()
      floor = await measureInChild({ kind: 'floor', inputs, output: join(outDir, 'io-floor.bin'), outputBytes })
      log(`  ${describe(floor)}`)
      floors.set(inputs.length, floor)
    }
    const output = join(outDir, `${method}.safetensors`)
    await removeOutput(output)
    log(`${cache}: ${method} ...`)
    settle()
    const merge = await measureInChild({ kind: 'merge', method, ...models, output, hashCacheDir: hashCacheDir(opts.cacheDir) })
    log(`  ${describe(merge)}`)
    if (!opts.keepOutputs) await removeOutput(output)
    rows.push({ method, cache, inputs: inputs.length, merge, floor, ratio: merge.seconds / floor.seconds })
  }
  return rows
}

function describe(m: Measurement): string {
  return `${m.seconds.toFixed(2)} s (CPU ${m.cpuSeconds.toFixed(1)} s), peak RSS ${Math.round(m.peakRssBytes / 1e6)} MB`
}

async function removeOutput(path: string): Promise<void> {
  await rm(path, { force: true })
  await rm(lineagePathFor(path), { force: true })
}

/** The targets for a 2-core machine, judged on the rows measured (shown, not asserted). */
function targets(architecture: BenchArch, rows: readonly MethodRow[]): Target[] {
  const found: Target[] = []
  for (const row of rows.filter((r) => r.method === 'weighted_sum')) {
    found.push({ name: `weighted_sum within 3x the I/O floor (${row.cache})`, value: `${row.ratio.toFixed(2)}x`, pass: row.ratio <= 3 })
  }
  const ties = rows.find((r) => r.method === 'ties_sum' && r.cache === 'warm')
  if (ties !== undefined && architecture === 'sd1') {
    found.push({ name: 'ties_sum SD1.5 under 20 s (warm)', value: `${ties.merge.seconds.toFixed(1)} s`, pass: ties.merge.seconds < 20 })
  }
  if (ties !== undefined && architecture === 'sdxl') {
    found.push({ name: 'ties_sum SDXL (3 models) under 60 s (warm)', value: `${ties.merge.seconds.toFixed(1)} s`, pass: ties.merge.seconds < 60 })
    const peak = Math.max(...rows.filter((r) => r.method === 'ties_sum').map((r) => r.merge.peakRssBytes))
    found.push({ name: 'ties_sum SDXL (3 models) under 2 GB RSS', value: `${(peak / GB).toFixed(2)} GB`, pass: peak < 2 * GB })
  }
  return found
}
