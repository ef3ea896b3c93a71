import { stat } from 'node:fs/promises'
import type { MergeEvent } from '../../common/events'
import { LINEAGE_SCHEMA, type BlockStat, type Lineage } from '../../common/lineage'
import type { Hashes } from '../../common/model-entry'
import { AmalgamError, describeError, fileError, isAmalgamError } from '../errors'
import { ioError } from '../formats/file-io'
import { SafetensorsFileWriter, type SafetensorsLayout } from '../formats/safetensors/writer'
import { HashCache } from '../library/hash-cache'
import { hashFiles } from '../library/hashes'
import { ENGINE_VERSION } from '../lineage/engine-version'
import { embeddedRecipe, finalMetadataPatch } from '../lineage/metadata'
import { copySidecarYaml, lineagePathFor, writeLineageSidecar } from '../lineage/sidecar'
import { executeFolderPlan } from '../llm/folder-writer'
import type { ModelStatistic } from '../methods/types'
import type { KeyTask, Plan } from '../plan/types'
import { OutputHasher } from './output-hasher'
import { ProgressClock } from './progress'
import { runStatisticsPasses, statisticsNodes } from './statistics-pass'
import type { BackendReport, KeyTaskResult } from './task-protocol'
import { defaultThreads, EngineWorkerPool } from './worker-pool'
import { WritebackPacer } from './writeback'

export interface ExecuteOptions {
  readonly signal?: AbortSignal
  readonly onEvent?: (event: MergeEvent) => void
  /** worker threads; default both cores, one for plans too small to gain from two */
  readonly threads?: number
  /** where input hashes are remembered across runs; default the user's cache directory, null = none */
  readonly hashCache?: HashCache | null
  /** AMALGAM_BACKEND-style compute backend preference; default: the fastest that loads */
  readonly backend?: string
  /** elements per kernel chunk; default the kernel context's (tests use small chunks) */
  readonly chunkElements?: number
}

/** Key tasks queued per thread: enough that a thread never waits for the main thread, few enough to cancel quickly. */
const TASKS_IN_FLIGHT_PER_THREAD = 4

/**
 * Runs a plan: hashes the inputs, computes every key in worker threads (file order, bounded number in
 * flight), writes `<output>.partial` and hashes its tensor data as it goes, then patches the final
 * metadata, syncs, renames, and writes the lineage sidecar. Reports through `onEvent` (started,
 * phases, progress, warnings, then exactly one of done / failed / cancelled) and also settles the
 * returned promise: the lineage, or the AmalgamError the run failed with (CANCELLED when the signal
 * was aborted). On failure or cancel no output file is left behind.
 */
export async function executePlan(plan: Plan, opts: ExecuteOptions = {}): Promise<Lineage> {
  const folder = plan.output.folder
  if (folder !== undefined) return executeFolderPlan(plan, folder, opts, (inner, innerOpts) => new MergeRun(inner, innerOpts).execute())
  return new MergeRun(plan, opts).execute()
}

interface BlockTotals {
  sumAbs: number
  elements: number
}

class MergeRun {
  private ended = false
  private readonly started = Date.now()
  private readonly startedAt = new Date(this.started).toISOString()
  private readonly controller = new AbortController()
  private readonly warnings: string[] = []
  private backend: BackendReport | null = null

  constructor(
    private readonly plan: Plan,
    private readonly opts: ExecuteOptions,
  ) {}

  async execute(): Promise<Lineage> {
    const cancel = (): void => this.controller.abort()
    this.opts.signal?.addEventListener('abort', cancel, { once: true })
    if (this.opts.signal?.aborted) cancel()
    let writer: SafetensorsFileWriter | null = null
    let pool: EngineWorkerPool | null = null
    let hasher: OutputHasher | null = null
    let pacer: WritebackPacer | null = null
    // once the output has its final name, the run can no longer be cancelled, only fail to describe itself
    let committed = false
    try {
      this.emit({ type: 'started', plan: this.plan.summary })
      this.checkCancelled()
      checkTaskOrder(this.plan.tasks)
      await checkInputsUnchanged(this.plan)
      const { output, inputs, tasks } = this.plan
      writer = await SafetensorsFileWriter.create(output.path, tasks, output.metadata, {
        reserveMetadataBytes: output.reserveMetadataBytes,
        overwrite: output.overwrite,
        inputs: inputs.map((i) => i.path),
      })
      checkLayout(output.path, writer.layout, tasks)
      pool = new EngineWorkerPool({ threads: this.threadCount(writer.layout), ...(this.opts.backend === undefined ? {} : { backend: this.opts.backend }) })

      this.emit({ type: 'phase', phase: 'hashing' })
      const inputHashes = await this.hashInputs(pool)
      this.checkCancelled()

      const statistics = await this.computeStatistics(pool)
      this.checkCancelled()

      this.emit({ type: 'phase', phase: 'merging' })
      hasher = await OutputHasher.open(writer.partialPath, writer.layout.dataStart, tasks)
      pacer = await WritebackPacer.open(writer.partialPath)
      const results = await this.mergeKeys(pool, writer, hasher, pacer, statistics)

      this.emit({ type: 'phase', phase: 'finalising' })
      const tensorSha256 = await hasher.digest()
      await hasher.close()
      hasher = null
      await pacer.close()
      pacer = null
      await pool.destroy()
      pool = null
      this.checkCancelled()
      await writer.finish(finalMetadataPatch(this.plan, inputHashes, tensorSha256))
      committed = true
      if (output.sidecarYaml !== null) await this.copyYaml(output.sidecarYaml)
      const lineage = this.lineage(writer.layout, inputHashes, tensorSha256, results)
      const lineagePath = lineagePathFor(output.path)
      try {
        await writeLineageSidecar(lineagePath, lineage)
      } catch (err) {
        throw new AmalgamError(isAmalgamError(err) ? err.code : 'INTERNAL', `${describeError(err)} (the merged model itself was written to ${output.path})`, lineagePath)
      }
      this.emit({ type: 'done', path: output.path, lineagePath, durationMs: lineage.durationMs, lineage })
      return lineage
    } catch (err) {
      this.controller.abort()
      await hasher?.close()
      await pacer?.close().catch(() => undefined)
      await pool?.destroy()
      await writer?.abort().catch(() => undefined)
      if (this.opts.signal?.aborted && !committed) {
        this.emit({ type: 'cancelled' })
        throw new AmalgamError('CANCELLED', `${this.plan.output.path}: the merge was cancelled; nothing was written`, this.plan.output.path)
      }
      const error = isAmalgamError(err) ? err : new AmalgamError('INTERNAL', describeError(err))
      this.emit({ type: 'failed', error: { code: error.code, message: error.message } })
      throw error
    } finally {
      this.opts.signal?.removeEventListener('abort', cancel)
    }
  }

  private emit(event: MergeEvent): void {
    if (this.ended) return
    if (event.type === 'done' || event.type === 'failed' || event.type === 'cancelled') this.ended = true
    this.opts.onEvent?.(event)
  }

  private checkCancelled(): void {
    if (this.controller.signal.aborted) throw new AmalgamError('CANCELLED', 'cancelled')
  }

  private threadCount(layout: SafetensorsLayout): number {
    const wanted = this.opts.threads ?? defaultThreads(layout.totalBytes)
    return Math.max(1, Math.min(wanted, this.plan.tasks.length))
  }

  private async hashInputs(pool: EngineWorkerPool): Promise<Map<string, Hashes>> {
    const clock = new ProgressClock(this.started)
    const cache = this.opts.hashCache === undefined ? new HashCache() : this.opts.hashCache
    return hashFiles(
      this.plan.inputs.map((i) => ({ path: i.path, size: i.size, mtimeMs: i.mtimeMs, dataStart: i.dataStart })),
      {
        hasher: pool.hashFile,
        cache,
        signal: this.controller.signal,
        onProgress: (p) =>
          this.emit({
            type: 'progress',
            phase: 'hashing',
            index: p.done,
            total: p.total,
            key: p.path,
            bytesDone: p.bytesDone,
            bytesTotal: p.bytesTotal,
            ...clock.estimate(p.bytesDone / Math.max(1, p.bytesTotal)),
          }),
      },
    )
  }

  /** The whole-model statistics of the nodes whose method declares a pass (cost class G), before any key is merged. */
  private async computeStatistics(pool: EngineWorkerPool): Promise<Record<string, ModelStatistic>> {
    const nodes = statisticsNodes(this.plan.tasks)
    if (nodes.length === 0) return {}
    this.emit({ type: 'phase', phase: 'statistics' })
    const clock = new ProgressClock(this.started)
    return runStatisticsPasses(nodes, {
      pool,
      seed: this.plan.seed,
      chunkElements: this.opts.chunkElements ?? null,
      signal: this.controller.signal,
      limit: pool.threads * TASKS_IN_FLIGHT_PER_THREAD,
      onProgress: (p) =>
        this.emit({
          type: 'progress',
          phase: 'statistics',
          index: p.done,
          total: p.total,
          key: p.key,
          bytesDone: p.bytesDone,
          bytesTotal: p.bytesTotal,
          ...clock.estimate(p.bytesDone / Math.max(1, p.bytesTotal)),
        }),
      onWarning: (key, message) => {
        this.warnings.push(`${key}: ${message}`)
        this.emit({ type: 'warning', key, message })
      },
    })
  }

  /** Runs every key task in file order with a bounded number in flight; resolves with the results by task index. */
  private mergeKeys(
    pool: EngineWorkerPool,
    writer: SafetensorsFileWriter,
    hasher: OutputHasher,
    pacer: WritebackPacer,
    statistics: Readonly<Record<string, ModelStatistic>>,
  ): Promise<KeyTaskResult[]> {
    const { tasks, seed } = this.plan
    const output = { path: writer.partialPath, dataStart: writer.layout.dataStart }
    const chunkElements = this.opts.chunkElements ?? null
    const limit = pool.threads * TASKS_IN_FLIGHT_PER_THREAD
    const work = (t: KeyTask): number => t.inputBytes + (t.end - t.begin)
    const workTotal = tasks.reduce((sum, t) => sum + work(t), 0)
    const bytesTotal = writer.layout.totalBytes - writer.layout.dataStart
    const clock = new ProgressClock(this.started)
    const results: KeyTaskResult[] = []
    let next = 0
    let running = 0
    let finished = 0
    let workDone = 0
    let bytesDone = 0
    return new Promise((resolve, reject) => {
      const onResult = (task: KeyTask, result: KeyTaskResult): void => {
        running--
        finished++
        results[task.index] = result
        hasher.completed(task.index)
        pacer.written(task.end - task.begin)
        this.backend ??= result.backend
        for (const message of result.warnings) {
          this.warnings.push(`${task.key}: ${message}`)
          this.emit({ type: 'warning', key: task.key, message })
        }
        workDone += work(task)
        bytesDone += task.end - task.begin
        this.emit({
          type: 'progress',
          phase: 'merging',
          index: finished,
          total: tasks.length,
          key: task.key,
          bytesDone,
          bytesTotal,
          ...clock.estimate(workDone / Math.max(1, workTotal)),
        })
        if (finished === tasks.length) resolve(results)
        else launch()
      }
      const launch = (): void => {
        if (this.controller.signal.aborted && running === 0) reject(new AmalgamError('CANCELLED', 'cancelled'))
        while (running < limit && next < tasks.length && !this.controller.signal.aborted) {
          const task = tasks[next++]!
          running++
          pool
            .runKey({ task, output, seed, chunkElements, statistics }, this.controller.signal)
            .then((result) => onResult(task, result))
            .catch(reject)
        }
      }
      if (tasks.length === 0) resolve(results)
      else launch()
    })
  }

  private async copyYaml(yamlPath: string): Promise<void> {
    try {
      await copySidecarYaml(yamlPath, this.plan.output.path)
    } catch (err) {
      // the model is complete: a missing config beside it is worth a warning, not a failed merge
      const message = `the config ${yamlPath} could not be copied beside the output: ${describeError(err)}`
      this.warnings.push(message)
      this.emit({ type: 'warning', message })
    }
  }

  private lineage(layout: SafetensorsLayout, inputHashes: ReadonlyMap<string, Hashes>, tensorSha256: string, results: readonly KeyTaskResult[]): Lineage {
    const { plan } = this
    const finished = Date.now()
    return {
      schema: LINEAGE_SCHEMA,
      recipe: plan.recipe,
      inputs: plan.inputs.map((input) => {
        const hashes = inputHashes.get(input.path)
        const parentRecipe = embeddedRecipe(input.metadata)
        return {
          role: input.role,
          path: input.path,
          size: input.size,
          sha256: hashes?.sha256 ?? null,
          tensorSha256: hashes?.tensorSha256 ?? null,
          architecture: input.architecture,
          ...(parentRecipe === undefined ? {} : { parentRecipe }),
        }
      }),
      output: { path: plan.output.path, size: layout.totalBytes, tensorSha256, keys: plan.tasks.length, dtype: plan.summary.outputDType },
      engine: {
        version: ENGINE_VERSION,
        // a run that only copied never started a kernel
        backend: this.backend?.name ?? 'none',
        gpuUnavailableReason: this.backend?.gpuUnavailableReason ?? null,
        ...(this.backend ? { matMul: this.backend.matMul } : {}),
      },
      startedAt: this.startedAt,
      finishedAt: new Date(finished).toISOString(),
      durationMs: finished - this.started,
      blockStats: blockStats(plan.tasks, results),
      warnings: [...this.warnings],
    }
  }
}

/** Mean |output − a| per block, blocks in the order their first key appears in the file. */
function blockStats(tasks: readonly KeyTask[], results: readonly KeyTaskResult[]): BlockStat[] {
  const totals = new Map<string, BlockTotals>()
  for (const task of tasks) {
    const change = results[task.index]?.change
    if (task.block === null || change === null || change === undefined) continue
    const total = totals.get(task.block) ?? { sumAbs: 0, elements: 0 }
    total.sumAbs += change.sumAbs
    total.elements += change.elements
    totals.set(task.block, total)
  }
  return [...totals].map(([block, t]) => ({ block, meanAbsChange: t.elements === 0 ? 0 : t.sumAbs / t.elements, elements: t.elements }))
}

function checkTaskOrder(tasks: readonly KeyTask[]): void {
  tasks.forEach((task, i) => {
    if (task.index !== i) throw new AmalgamError('INTERNAL', `plan: task ${i} (${task.key}) has index ${task.index}; tasks must be listed in file order`)
  })
}

/** The writer lays tensors out from the same list; a plan whose offsets differ was computed for another layout. */
function checkLayout(path: string, layout: SafetensorsLayout, tasks: readonly KeyTask[]): void {
  for (const task of tasks) {
    const range = layout.offsets.get(task.key)
    if (range === undefined || range.begin !== task.begin || range.end !== task.end) {
      throw new AmalgamError('INTERNAL', `${path}: the plan puts ${task.key} at [${task.begin}, ${task.end}) but the file layout at [${range?.begin}, ${range?.end})`)
    }
  }
}

/** Locators and hashes are only valid for the files as they were planned; a file changed since must be planned again. */
async function checkInputsUnchanged(plan: Plan): Promise<void> {
  for (const input of plan.inputs) {
    let now
    try {
      now = await stat(input.path)
    } catch (err) {
      throw ioError(err, input.path)
    }
    if (now.size !== input.size || now.mtimeMs !== input.mtimeMs) {
      throw fileError('FILE_UNREADABLE', input.path, 'the file changed after the merge was planned; check the merge again')
    }
  }
}
