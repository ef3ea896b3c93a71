import { availableParallelism } from 'node:os'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { Hashes } from '../../common/model-entry'
import { AmalgamError } from '../errors'
import type { HashRequest } from '../library/hashes'
import type { ModuleExtraction, ModuleOutcome } from '../lora/extract-module'
import { entryPoint } from '../runtime/entry-points'
import type { EngineWorkerData } from '../worker-entry'
import {
  fromTaskError,
  type HashTaskInput,
  type KeyTaskInput,
  type KeyTaskResult,
  type StatisticsTaskInput,
  type StatisticsTaskResult,
  type TaskOutcome,
} from './task-protocol'

/** Below this much work (bytes of output, or of input for a LoRA extraction) a second thread costs more to start than it saves. */
const SMALL_WORK_BYTES = 64 << 20

/** The engine's default thread count for a job of `bytes`: one for small jobs, else up to two. */
export function defaultThreads(bytes: number): number {
  return bytes < SMALL_WORK_BYTES ? 1 : Math.min(2, availableParallelism())
}

export interface EngineWorkerPoolOptions {
  readonly threads: number
  /** AMALGAM_BACKEND-style preference for the compute backend; undefined = the fastest that loads */
  readonly backend?: string
}

/**
 * The engine's worker threads (worker-entry.ts), with typed tasks. Every merge gets its own pool and
 * destroys it at the end: wasm memory never shrinks, and terminating the threads also closes every
 * file they opened.
 */
export class EngineWorkerPool {
  private readonly pool: Piscina<unknown, unknown>

  constructor(opts: EngineWorkerPoolOptions) {
    const { filename, execArgv } = entryPoint('engine-worker')
    const data: EngineWorkerData = { backend: opts.backend }
    this.pool = new Piscina({
      filename,
      execArgv: [...execArgv],
      minThreads: opts.threads,
      maxThreads: opts.threads,
      idleTimeout: Infinity,
      trackUnmanagedFds: true,
      workerData: data,
    })
    // Piscina reports a result that arrives for a task aborted a moment earlier as a pool 'error'
    // event; unheard, that would crash the process. Real failures reject the task's own promise.
    this.pool.on('error', () => undefined)
  }

  get threads(): number {
    return this.pool.maxThreads
  }

  /** Runs one key; what the task reports as failing becomes the AmalgamError it was in the worker. */
  async runKey(input: KeyTaskInput, signal: AbortSignal): Promise<KeyTaskResult> {
    const outcome = (await this.run(input, 'keyTask', signal, `merging ${JSON.stringify(input.task.key)}`)) as TaskOutcome<KeyTaskResult>
    if (!outcome.ok) throw fromTaskError(outcome.error)
    return outcome.value
  }

  /** Runs one key's part of a statistics pass (method declarations' `statistics`). */
  async runStatistics(input: StatisticsTaskInput, signal: AbortSignal): Promise<StatisticsTaskResult> {
    const outcome = (await this.run(input, 'statisticsTask', signal, `computing statistics of ${JSON.stringify(input.task.key)}`)) as TaskOutcome<StatisticsTaskResult>
    if (!outcome.ok) throw fromTaskError(outcome.error)
    return outcome.value
  }

  /** Extracts one layer of a LoRA (lora/extract-module.ts). */
  async runLoraModule(input: ModuleExtraction, signal: AbortSignal): Promise<ModuleOutcome> {
    const outcome = (await this.run(input, 'loraModuleTask', signal, `extracting ${JSON.stringify(input.target.name)}`)) as TaskOutcome<ModuleOutcome>
    if (!outcome.ok) throw fromTaskError(outcome.error)
    return outcome.value
  }

  /** A FileHasher (library/hashes.ts) that hashes in this pool. */
  readonly hashFile = async (request: HashRequest, onBytes: (bytesDone: number) => void, signal: AbortSignal): Promise<Hashes> => {
    const { port1, port2 } = new MessageChannel()
    port1.on('message', (bytes: number) => onBytes(bytes))
    const input: HashTaskInput = { path: request.path, dataStart: request.dataStart, progress: port2 }
    try {
      const outcome = (await this.run(input, 'hashFile', signal, `hashing ${request.path}`, [port2])) as TaskOutcome<Hashes>
      if (!outcome.ok) throw fromTaskError(outcome.error)
      return outcome.value
    } finally {
      port1.close()
    }
  }

  destroy(): Promise<void> {
    return this.pool.destroy()
  }

  private async run(task: unknown, name: string, signal: AbortSignal, doing: string, transferList?: MessagePort[]): Promise<unknown> {
    try {
      return await this.pool.run(task, { name, signal, ...(transferList ? { transferList } : {}) })
    } catch (err) {
      if (signal.aborted) throw new AmalgamError('CANCELLED', 'cancelled')
      const message = err instanceof Error ? err.message : String(err)
      const code = (err as { code?: unknown } | null)?.code
      if (code === 'ERR_WORKER_OUT_OF_MEMORY') throw new AmalgamError('OUT_OF_MEMORY', `out of memory while ${doing}: ${message}`)
      throw new AmalgamError('WORKER_CRASHED', `a worker thread stopped while ${doing}: ${message}`)
    }
  }
}
