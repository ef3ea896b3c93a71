import { isTerminalEvent, type MergeEvent } from '../../common/events'
import type { Recipe } from '../../common/recipe'
import { describeError, isAmalgamError } from '../errors'
import { planRecipe, type PlanOptions } from '../plan/plan-recipe'
import type { Plan } from '../plan/types'
import { executePlan, type ExecuteOptions } from './executor'

export interface RunRecipeOptions extends Omit<ExecuteOptions, 'signal' | 'onEvent'>, Pick<PlanOptions, 'cwd' | 'overwrite'> {
  readonly signal: AbortSignal
  readonly onEvent: (event: MergeEvent) => void
}

/**
 * Plans and runs one merge, reporting only through `onEvent`: a recipe that cannot be planned, or
 * whose plan has blocking findings, ends with `failed` (the findings in the message) and no
 * `started`; otherwise the executor reports started, progress and exactly one of done / failed /
 * cancelled. The returned promise resolves once the terminal event was sent; it does not reject for
 * a failed merge. This is what the app's merge host and `amalgam merge` call.
 */
export async function runRecipe(recipe: Recipe, opts: RunRecipeOptions): Promise<void> {
  const { signal, onEvent, cwd, overwrite, ...execute } = opts
  let ended = false
  const emit = (event: MergeEvent): void => {
    if (ended) return
    if (isTerminalEvent(event)) ended = true
    onEvent(event)
  }
  const fail = (err: unknown): void => {
    if (signal.aborted) emit({ type: 'cancelled' })
    else emit({ type: 'failed', error: { code: isAmalgamError(err) ? err.code : 'INTERNAL', message: describeError(err) } })
  }
  let plan: Plan
  try {
    plan = await planRecipe(recipe, {
      signal,
      ...(cwd === undefined ? {} : { cwd }),
      ...(overwrite === undefined ? {} : { overwrite }),
      ...(execute.threads === undefined ? {} : { threads: execute.threads }),
      ...(execute.backend === undefined ? {} : { backend: execute.backend }),
    })
  } catch (err) {
    fail(err)
    return
  }
  if (!plan.summary.ok) {
    const blocking = plan.summary.findings.filter((f) => f.severity === 'blocking')
    emit({ type: 'failed', error: { code: blocking[0]?.code ?? 'INTERNAL', message: `the merge was not started: ${blocking.map((f) => f.message).join('; ')}` } })
    return
  }
  try {
    await executePlan(plan, { ...execute, signal, onEvent: emit })
  } catch (err) {
    // the executor has reported its terminal event; this only covers a failure before it could
    fail(err)
  }
}
