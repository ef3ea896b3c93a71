// The engine's worker thread (run by piscina, see execute/worker-pool.ts): each named export is one
// kind of task. State lives per thread for the life of the pool, which is destroyed after every run.
import { openSync } from 'node:fs'
import { workerData } from 'node:worker_threads'
import { loadComputeBackend, type ComputeBackend } from './compute/backend'
import { ioError } from './formats/file-io'
import { TensorReader } from './formats/tensor-reader'
import type { Hashes } from '../common/model-entry'
import { BufferPool } from './execute/file-stream'
import { runKeyStatistics, runKeyTask } from './execute/key-task'
import {
  toTaskError,
  type HashTaskInput,
  type KeyTaskInput,
  type KeyTaskResult,
  type StatisticsTaskInput,
  type StatisticsTaskResult,
  type TaskOutcome,
} from './execute/task-protocol'
import { hashFileSync } from './library/hashes'
import { extractModule, type ModuleExtraction, type ModuleOutcome } from './lora/extract-module'

export interface EngineWorkerData {
  /** AMALGAM_BACKEND-style preference; undefined = the fastest that loads */
  readonly backend: string | undefined
}

const reader = new TensorReader()
const buffers = new BufferPool()
const outputFds = new Map<string, number>()
let compute: Promise<ComputeBackend> | null = null

function outputFd(path: string): number {
  let fd = outputFds.get(path)
  if (fd === undefined) {
    try {
      fd = openSync(path, 'r+')
    } catch (err) {
      throw ioError(err, path)
    }
    outputFds.set(path, fd)
  }
  return fd
}

function computeBackend(): Promise<ComputeBackend> {
  // loaded once per thread, on the first merge (copy-only runs never pay for tfjs)
  compute ??= loadComputeBackend((workerData as EngineWorkerData | null)?.backend)
  return compute
}

export async function keyTask(input: KeyTaskInput): Promise<TaskOutcome<KeyTaskResult>> {
  try {
    const backend = input.task.action.kind === 'merge' ? await computeBackend() : null
    const report = runKeyTask(input.task, {
      reader,
      outputFd: outputFd(input.output.path),
      dataStart: input.output.dataStart,
      seed: input.seed,
      chunkElements: input.chunkElements,
      buffers,
      compute: backend,
      statistics: input.statistics,
    })
    return {
      ok: true,
      value: {
        index: input.task.index,
        ...report,
        backend: backend === null ? null : { name: backend.name, gpuUnavailableReason: backend.gpuUnavailableReason, matMul: backend.matMul },
      },
    }
  } catch (err) {
    return { ok: false, error: toTaskError(err) }
  }
}

export async function statisticsTask(input: StatisticsTaskInput): Promise<TaskOutcome<StatisticsTaskResult>> {
  try {
    const report = runKeyStatistics(input.task, input.node, {
      reader,
      seed: input.seed,
      chunkElements: input.chunkElements,
      buffers,
      compute: await computeBackend(),
      statistics: input.statistics,
    })
    return { ok: true, value: { index: input.task.index, ...report } }
  } catch (err) {
    return { ok: false, error: toTaskError(err) }
  }
}

export async function loraModuleTask(input: ModuleExtraction): Promise<TaskOutcome<ModuleOutcome>> {
  try {
    const { tf } = await computeBackend()
    return { ok: true, value: extractModule(tf, reader, input) }
  } catch (err) {
    return { ok: false, error: toTaskError(err) }
  }
}

export function hashFile(input: HashTaskInput): TaskOutcome<Hashes> {
  try {
    return { ok: true, value: hashFileSync(input.path, input.dataStart, (bytes) => input.progress.postMessage(bytes)) }
  } catch (err) {
    return { ok: false, error: toTaskError(err) }
  } finally {
    input.progress.close()
  }
}
