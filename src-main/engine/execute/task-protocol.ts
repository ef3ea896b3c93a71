import type { MessagePort } from 'node:worker_threads'
import { AmalgamError, type ErrorCode } from '../errors'
import type { ModelStatistic } from '../methods/types'
import type { KeyTask } from '../plan/types'

/*
 * What crosses the boundary between the executor and its worker threads: plain, structured-cloneable
 * data. Errors travel as data too, because a thrown AmalgamError arrives on the other side as a bare
 * Error without its code.
 */

export interface KeyTaskInput {
  readonly task: KeyTask
  /** the `.partial` file being written and where its tensor data starts */
  readonly output: { readonly path: string; readonly dataStart: number }
  /** the recipe seed */
  readonly seed: number
  /** elements per kernel chunk; null = the kernel context's default */
  readonly chunkElements: number | null
  /** the statistics passes' values by recipe node (empty when no method needs one) */
  readonly statistics: Readonly<Record<string, ModelStatistic>>
}

/** One key's part of the statistics pass of recipe node `node`; `statistics` holds the passes already done. */
export interface StatisticsTaskInput {
  readonly task: KeyTask
  readonly node: string
  readonly seed: number
  readonly chunkElements: number | null
  readonly statistics: Readonly<Record<string, ModelStatistic>>
}

export interface StatisticsTaskResult {
  readonly index: number
  readonly contribution: Float64Array
  readonly warnings: readonly string[]
}

export interface BackendReport {
  readonly name: string
  readonly gpuUnavailableReason: string | null
  readonly matMul: string
}

export interface KeyTaskResult {
  readonly index: number
  /** Σ|output − a| over the merged elements (merge tasks only), for the per-block heatmap */
  readonly change: { readonly sumAbs: number; readonly elements: number } | null
  readonly warnings: readonly string[]
  /** the compute backend, when this task ran a kernel */
  readonly backend: BackendReport | null
}

export interface HashTaskInput {
  readonly path: string
  readonly dataStart: number | null
  /** receives the number of bytes hashed so far */
  readonly progress: MessagePort
}

export interface TaskError {
  readonly code: ErrorCode
  readonly message: string
  readonly file?: string
}

export type TaskOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: TaskError }

export function toTaskError(err: unknown): TaskError {
  if (err instanceof AmalgamError) return { code: err.code, message: err.message, ...(err.file === undefined ? {} : { file: err.file }) }
  if (err instanceof RangeError && /allocat|memory|Array buffer/i.test(err.message)) return { code: 'OUT_OF_MEMORY', message: `out of memory: ${err.message}` }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) }
}

export function fromTaskError(error: TaskError): AmalgamError {
  return new AmalgamError(error.code, error.message, error.file)
}
