import { mkdir, rm, stat } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { loadComputeBackend } from '../src-main/engine/compute/backend'
import { lineagePathFor } from '../src-main/engine/lineage/sidecar'
import type { ChildJob } from './child-protocol'
import { readThrough } from './floor'
import { ensureLlmModels, type LlmModels } from './llm-models'
import { dropPageCache, measureInChild, type Measurement } from './measure'
import { bytesOf } from './merge-job'
import { ensureModels, hashCacheDir, outputDir, type BenchArch, type BenchModels, type BenchScale } from './models'
import type { BenchCase, BenchMethod, BenchOptions } from './options'

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

/** One of the cases beside the method table (--llm, --lora-extract, --rotate). */
export interface CaseRow {
  readonly case: BenchCase
  readonly cache: CacheState
  readonly run: Measurement
  /** the I/O floor of its inputs, for the LLM merge only: the other cases are bound by computation */
  readonly floor: Measurement | null
  /** run wall time / floor wall time, when there is a floor */
  readonly ratio: number | null
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
  /** the compute backend the jobs load, and who computes matrix products (the children inherit AMALGAM_BACKEND / AMALGAM_NATIVE) */
  readonly compute: string
  /** 1-minute load average before and after: other work on the machine skews every number */
  readonly loadAverage: { readonly start: number; readonly end: number }
  /** the SD inputs, null when nothing measured reads them (--llm alone) */
  readonly models: (BenchModels & { readonly bytes: number }) | null
  /** the LLM folders (bytes: the weights of one folder), null without --llm */
  readonly llm: (LlmModels & { readonly bytes: number }) | null
  /** null when cold-cache runs were measured; else why not */
  readonly coldUnavailable: string | null
  readonly rows: readonly MethodRow[]
  readonly cases: readonly CaseRow[]
  readonly targets: readonly Target[]
}

interface BenchInputs {
  readonly models: (BenchModels & { readonly bytes: number }) | null
  readonly llm: (LlmModels & { readonly bytes: number }) | null
}

const GB = 1e9
/** issue 7: rotate of a whole SD1.5 model, the time sd-mecha's author reported */
const ROTATE_TARGET_SECONDS = 9 * 60

/**
 * The benchmark: makes sure the synthetic inputs exist, then for each cache state (warm: every input
 * read once beforehand; cold: page cache dropped before every job, where permitted) measures the
 * I/O floor of each input set, each merge and each case, every one in its own child process.
 */
export async function runBench(opts: BenchOptions, log: (line: string) => void): Promise<BenchReport> {
  const architecture: BenchArch = opts.xl ? 'sdxl' : 'sd1'
  const scale: BenchScale = opts.tiny ? 'tiny' : 'real'
  const startedAt = new Date().toISOString()
  const needsSd = opts.methods.length > 0 || opts.cases.some((c) => c !== 'llm_slerp')
  const models = needsSd ? await ensureModels(opts.cacheDir, architecture, scale, log) : null
  const llm = opts.cases.includes('llm_slerp') ? await ensureLlmModels(opts.cacheDir, scale, log) : null
  const inputs: BenchInputs = {
    models: models === null ? null : { ...models, bytes: (await stat(models.a)).size },
    llm: llm === null ? null : { ...llm, bytes: await bytesOf(llm.shards.a) },
  }
  const backend = await loadComputeBackend()
  const compute = `${backend.name}, matrix products: ${backend.matMul}`
  // taken after generating the inputs: the load the measurements ran under
  const loadStart = loadavg()[0] ?? 0
  const outDir = outputDir(opts.cacheDir)
  await mkdir(outDir, { recursive: true })

  log('warming the page cache (reading every input once) ...')
  for (const path of inputFiles(inputs)) readThrough(path)
  const warm = await measureState('warm', opts, inputs, outDir, log)
  const rows = [...warm.rows]
  const cases = [...warm.cases]

  let coldUnavailable: string | null = opts.cold ? null : 'not requested (--warm-only)'
  if (opts.cold) {
    const refused = dropPageCache()
    if (refused === null) {
      const cold = await measureState('cold', opts, inputs, outDir, log)
      rows.push(...cold.rows)
      cases.push(...cold.cases)
    } else coldUnavailable = `not permitted (${refused})`
  }

  return {
    architecture,
    scale,
    startedAt,
    cpus: availableParallelism(),
    compute,
    loadAverage: { start: loadStart, end: loadavg()[0] ?? 0 },
    ...inputs,
    coldUnavailable,
    rows,
    cases,
    targets: scale === 'real' ? targets(architecture, rows, cases) : [],
  }
}

function inputFiles({ models, llm }: BenchInputs): string[] {
  return [...(models === null ? [] : [models.a, models.b, models.base]), ...(llm === null ? [] : [...llm.shards.a, ...llm.shards.b])]
}

interface StateRun {
  readonly cache: CacheState
  readonly opts: BenchOptions
  readonly outDir: string
  readonly log: (line: string) => void
}

async function measureState(cache: CacheState, opts: BenchOptions, inputs: BenchInputs, outDir: string, log: (line: string) => void): Promise<{ rows: MethodRow[]; cases: CaseRow[] }> {
  const run: StateRun = { cache, opts, outDir, log }
  const rows = inputs.models === null ? [] : await measureMethods(run, inputs.models)
  const cases: CaseRow[] = []
  for (const name of opts.cases) {
    const setup = caseInputs(name, inputs)
    if (setup !== null) cases.push(await measureCase(run, name, setup))
  }
  return { rows, cases }
}

async function measureMethods(run: StateRun, models: BenchModels & { readonly bytes: number }): Promise<MethodRow[]> {
  const floors = new Map<number, Measurement>()
  const rows: MethodRow[] = []
  for (const method of run.opts.methods) {
    const inputs = method === 'weighted_sum' ? [models.a, models.b] : [models.a, models.b, models.base]
    const floor = floors.get(inputs.length) ?? (await measureFloor(run, inputs, models.bytes))
    floors.set(inputs.length, floor)
    const output = join(run.outDir, `${method}.safetensors`)
    const { a, b, base } = models
    const merge = await measureJob(run, method, output, { kind: 'merge', method, a, b, base, output, hashCacheDir: hashCacheDir(run.opts.cacheDir) })
    rows.push({ method, cache: run.cache, inputs: inputs.length, merge, floor, ratio: merge.seconds / floor.seconds })
  }
  return rows
}

interface CaseInputs {
  readonly a: string
  readonly b: string
  /** the files whose I/O floor the case is compared with; null when it is not */
  readonly floorFiles: readonly string[] | null
  readonly outputBytes: number
}

function caseInputs(name: BenchCase, { models, llm }: BenchInputs): CaseInputs | null {
  if (name === 'llm_slerp') return llm && { a: llm.a, b: llm.b, floorFiles: [...llm.shards.a, ...llm.shards.b], outputBytes: llm.bytes }
  return models && { a: models.a, b: models.b, floorFiles: null, outputBytes: models.bytes }
}

async function measureCase(run: StateRun, name: BenchCase, setup: CaseInputs): Promise<CaseRow> {
  const floor = setup.floorFiles === null ? null : await measureFloor(run, setup.floorFiles, setup.outputBytes)
  // the LLM merge writes a Hugging Face folder: a path without .safetensors
  const output = join(run.outDir, name === 'llm_slerp' ? name : `${name}.safetensors`)
  const job = { kind: 'case', case: name, a: setup.a, b: setup.b, output, hashCacheDir: hashCacheDir(run.opts.cacheDir) } as const
  const measured = await measureJob(run, name, output, job)
  return { case: name, cache: run.cache, run: measured, floor, ratio: floor === null ? null : measured.seconds / floor.seconds }
}

/** runBench's probe succeeded; should a later drop be refused, that job just runs a little warmer. */
function settle(run: StateRun): void {
  if (run.cache === 'cold') dropPageCache()
}

async function measureFloor(run: StateRun, inputs: readonly string[], outputBytes: number): Promise<Measurement> {
  run.log(`${run.cache}: I/O floor of ${inputs.length} input files ...`)
  settle(run)
  const floor = await measureInChild({ kind: 'floor', inputs: [...inputs], output: join(run.outDir, 'io-floor.bin'), outputBytes })
  run.log(`  ${describe(floor)}`)
  return floor
}

/** One merge or case in its own child, its output removed before (and after, unless kept). */
async function measureJob(run: StateRun, name: string, output: string, job: ChildJob): Promise<Measurement> {
  await removeOutput(output)
  run.log(`${run.cache}: ${name} ...`)
  settle(run)
  const measured = await measureInChild(job)
  run.log(`  ${describe(measured)}`)
  if (!run.opts.keepOutputs) await removeOutput(output)
  return measured
}

function describe(m: Measurement): string {
  return `${m.seconds.toFixed(2)} s (CPU ${m.cpuSeconds.toFixed(1)} s), peak RSS ${Math.round(m.peakRssBytes / 1e6)} MB`
}

/** A file with its lineage sidecar, or a Hugging Face output folder (its lineage is inside). */
async function removeOutput(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true })
  await rm(lineagePathFor(path), { force: true })
}

/** The targets for a 2-core machine, judged on the rows measured (shown, not asserted). */
function targets(architecture: BenchArch, rows: readonly MethodRow[], cases: readonly CaseRow[]): Target[] {
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
  const rotate = cases.find((c) => c.case === 'rotate' && c.cache === 'warm')
  if (rotate !== undefined) {
    const seconds = rotate.run.seconds
    found.push({ name: 'rotate SD1.5 under 9 min (warm)', value: `${(seconds / 60).toFixed(1)} min`, pass: seconds < ROTATE_TARGET_SECONDS })
  }
  return found
}
