import { AmalgamError, describeError, isAmalgamError } from '../errors'
import { resolveMethod } from '../methods/registry'
import type { ModelStatistic } from '../methods/types'
import type { Expr, KeyTask } from '../plan/types'
import type { EngineWorkerPool } from './worker-pool'

/** A recipe node whose method declares a statistics pass, and the keys it merges (file order). */
export interface StatisticsNode {
  readonly node: string
  readonly method: string
  readonly tasks: readonly KeyTask[]
}

export interface StatisticsProgress {
  readonly done: number
  readonly total: number
  readonly key: string
  readonly bytesDone: number
  readonly bytesTotal: number
}

export interface StatisticsPassOptions {
  readonly pool: EngineWorkerPool
  readonly seed: number
  readonly chunkElements: number | null
  readonly signal: AbortSignal
  /** key tasks in flight at once */
  readonly limit: number
  readonly onProgress: (progress: StatisticsProgress) => void
  readonly onWarning: (key: string, message: string) => void
}

/**
 * The nodes needing a statistics pass, inner nodes first: a node's pass evaluates its inputs, and an
 * input that is itself such a node needs its own values by then.
 */
export function statisticsNodes(tasks: readonly KeyTask[]): StatisticsNode[] {
  const found = new Map<string, { method: string; depth: number; tasks: KeyTask[] }>()
  const visit = (expr: Expr, depth: number, task: KeyTask): void => {
    if (expr.kind === 'tensor') return
    if (expr.kind === 'lora') return visit(expr.model, depth + 1, task)
    if (resolveMethod(expr.method).method.statistics !== undefined) {
      const entry = found.get(expr.node) ?? { method: expr.method, depth, tasks: [] }
      if (entry.method !== expr.method) throw new AmalgamError('INTERNAL', `plan: node ${expr.node} runs ${entry.method} on some keys and ${expr.method} on ${task.key}`)
      entry.depth = Math.max(entry.depth, depth)
      // a node shared by several references of one key is still one contribution of that key
      if (entry.tasks.at(-1) !== task) entry.tasks.push(task)
      found.set(expr.node, entry)
    }
    for (const child of expr.inputs) visit(child, depth + 1, task)
    if (expr.base !== null) visit(expr.base, depth + 1, task)
  }
  for (const task of tasks) if (task.action.kind === 'merge') visit(task.action.expr, 0, task)
  return [...found]
    .sort(([, x], [, y]) => y.depth - x.depth)
    .map(([node, entry]) => ({ node, method: entry.method, tasks: entry.tasks }))
}

/** Runs every node's statistics pass in the worker pool and returns the values by node. */
export async function runStatisticsPasses(nodes: readonly StatisticsNode[], opts: StatisticsPassOptions): Promise<Record<string, ModelStatistic>> {
  const values: Record<string, ModelStatistic> = {}
  const total = nodes.reduce((sum, n) => sum + n.tasks.length, 0)
  const bytesTotal = nodes.reduce((sum, n) => n.tasks.reduce((s, t) => s + t.inputBytes, sum), 0)
  let done = 0
  let bytesDone = 0
  for (const { node, method, tasks } of nodes) {
    const known = { ...values }
    const contributions: Float64Array[] = []
    let next = 0
    let failed = false
    const worker = async (): Promise<void> => {
      while (next < tasks.length && !failed) {
        if (opts.signal.aborted) throw new AmalgamError('CANCELLED', 'cancelled')
        const at = next++
        const task = tasks[at]!
        const input = { task, node, seed: opts.seed, chunkElements: opts.chunkElements, statistics: known }
        const result = await opts.pool.runStatistics(input, opts.signal).catch((err: unknown) => {
          failed = true
          throw err
        })
        contributions[at] = result.contribution
        for (const message of result.warnings) opts.onWarning(task.key, message)
        done++
        bytesDone += task.inputBytes
        opts.onProgress({ done, total, key: task.key, bytesDone, bytesTotal })
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.limit, tasks.length)) }, worker))
    values[node] = combine(method, node, contributions)
  }
  return values
}

function combine(id: string, node: string, contributions: readonly Float64Array[]): ModelStatistic {
  const { method } = resolveMethod(id)
  if (method.statistics === undefined) throw new AmalgamError('INTERNAL', `${node}: ${id} declares no statistics pass`)
  try {
    return method.statistics.combine(contributions)
  } catch (err) {
    if (isAmalgamError(err)) throw err
    throw new AmalgamError('INTERNAL', `${node}: combining the statistics of ${id} failed: ${describeError(err)}`)
  }
}
