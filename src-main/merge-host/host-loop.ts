import { isTerminalEvent, type MergeEvent } from '../common/events'
import type { Recipe } from '../common/recipe'
import { describeError, isAmalgamError } from '../engine/errors'
import type { ParentChannel } from './channel'
import { HostRequest } from './protocol'

/**
 * The one engine entry the host drives (src-main/engine/execute/run-recipe.ts). It reports through
 * `onEvent` and may end either by emitting a terminal event (done / failed / cancelled) or by
 * throwing; the host turns a throw into `failed` (or `cancelled` once the signal was aborted).
 */
export type RunRecipe = (recipe: Recipe, opts: { signal: AbortSignal; onEvent: (event: MergeEvent) => void }) => Promise<void>

interface RunningJob {
  readonly jobId: string
  readonly controller: AbortController
  readonly finished: Promise<void>
}

/**
 * Runs merges one at a time as the main process asks. Every job ends with exactly one terminal
 * event, whatever the engine does; a second `run` while one is running is a protocol error (the
 * supervisor queues) and is refused with `failed` for that job.
 */
export function serveHost(channel: ParentChannel, runRecipe: RunRecipe, exit: () => void = () => process.exit(0)): void {
  let running: RunningJob | null = null

  function start(jobId: string, recipe: Recipe): void {
    const controller = new AbortController()
    let ended = false
    const emit = (event: MergeEvent): void => {
      if (ended) return
      if (isTerminalEvent(event)) ended = true
      channel.send({ type: 'event', jobId, event })
    }
    const finished = runRecipe(recipe, { signal: controller.signal, onEvent: emit })
      .then(() => {
        if (!ended) emit(controller.signal.aborted ? { type: 'cancelled' } : { type: 'failed', error: { code: 'INTERNAL', message: 'the merge ended without reporting a result' } })
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) emit({ type: 'cancelled' })
        else emit({ type: 'failed', error: { code: isAmalgamError(err) ? err.code : 'INTERNAL', message: describeError(err) } })
      })
      .finally(() => {
        if (running?.jobId === jobId) running = null
      })
    running = { jobId, controller, finished }
  }

  channel.onMessage((raw) => {
    const parsed = HostRequest.safeParse(raw)
    if (!parsed.success) {
      channel.send({ type: 'log', level: 'error', message: `merge host: ignored a malformed request (${parsed.error.issues[0]?.message ?? 'invalid'})` })
      return
    }
    const request = parsed.data
    switch (request.type) {
      case 'run':
        if (running) {
          channel.send({ type: 'event', jobId: request.jobId, event: { type: 'failed', error: { code: 'INTERNAL', message: `merge host is busy with job ${running.jobId}` } } })
          return
        }
        start(request.jobId, request.recipe)
        return
      case 'cancel':
        if (running?.jobId === request.jobId) running.controller.abort()
        return
      case 'shutdown': {
        const current = running
        current?.controller.abort()
        void (current?.finished ?? Promise.resolve()).then(exit)
        return
      }
    }
  })
  channel.send({ type: 'ready' })
}
