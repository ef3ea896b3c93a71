import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { isTerminalEvent, type MergeEvent } from '../common/events'
import type { HistoryEntry } from '../common/ipc'
import type { Recipe } from '../common/recipe'
import { AmalgamError, describeError } from '../engine/errors'
import { HostMessage } from '../merge-host/protocol'
import type { EventHub } from './events'
import type { HistoryService } from './history'
import type { MergeHostLauncher, MergeHostProcess } from './merge-host-launcher'
import type { ProblemReporter } from './store'

export type JobState = 'queued' | 'running' | 'cancelling' | 'done' | 'failed' | 'cancelled'
type TerminalEvent = Extract<MergeEvent, { type: 'done' | 'failed' | 'cancelled' }>

export interface MergeJobs {
  /** queues the merge; it runs after the ones queued before it */
  start(recipe: Recipe): string
  /**
   * A queued job is dropped; a running one is asked to stop between keys. A host that has not
   * stopped after the grace period is killed, its `<output>.partial` removed, and the job reported
   * cancelled. Cancelling a finished job does nothing (the click raced the finish).
   */
  cancel(jobId: string): void
  /** jobs still known, oldest first */
  jobs(): { id: string; state: JobState }[]
  /** cancels everything and stops the host (app quit) */
  shutdown(): Promise<void>
}

export interface MergeJobsOptions {
  launcher: MergeHostLauncher
  events: EventHub
  history: HistoryService
  report: ProblemReporter
  /** how long a cancelled host gets to stop on its own before it is killed */
  cancelGraceMs?: number
}

interface Job {
  readonly id: string
  readonly recipe: Recipe
  readonly queuedAt: Date
  state: JobState
  startedAt: Date | null
  /** the host the run request went to; null until that host said it is ready */
  sentTo: HostConnection | null
  cancelTimer: ReturnType<typeof setTimeout> | null
}

interface HostConnection {
  readonly process: MergeHostProcess
  ready: boolean
  /** resolves when the process is gone and its running job (if any) has been reported */
  readonly closed: Promise<void>
}

/** finished jobs remembered for late cancels; beyond this the oldest are forgotten */
const FINISHED_JOBS_KEPT = 100

/**
 * Owns every merge: a FIFO queue, one job at a time, in a separate host process so a merge that
 * runs out of memory or hangs never takes the app with it. A host that dies mid-job fails that job
 * with WORKER_CRASHED (and its partial output is removed); the next job gets a fresh host.
 */
export function createMergeJobs(options: MergeJobsOptions): MergeJobs {
  const { launcher, events, history, report } = options
  const grace = options.cancelGraceMs ?? 5000
  const jobs = new Map<string, Job>()
  const queue: Job[] = []
  let running: Job | null = null
  let host: HostConnection | null = null
  let stopping = false

  function launchHost(): HostConnection {
    const process = launcher.launch()
    let closed!: (value: Promise<void>) => void
    const conn: HostConnection = { process, ready: false, closed: new Promise<void>((resolve) => (closed = resolve)) }
    process.onMessage((raw) => onHostMessage(conn, raw))
    process.onExit((reason) => closed(onHostExit(conn, reason)))
    return conn
  }

  function sendRun(job: Job, conn: HostConnection): void {
    job.sentTo = conn
    conn.process.send({ type: 'run', jobId: job.id, recipe: job.recipe })
  }

  function pump(): void {
    if (running || stopping) return
    const job = queue.shift()
    if (!job) return
    running = job
    job.state = 'running'
    job.startedAt = new Date()
    host ??= launchHost()
    if (host.ready) sendRun(job, host)
  }

  function onHostMessage(conn: HostConnection, raw: unknown): void {
    // a host that was detached (killed after ignoring cancel) has no say any more
    if (conn !== host) return
    const parsed = HostMessage.safeParse(raw)
    if (!parsed.success) {
      report(`merge host sent a malformed message (${parsed.error.issues[0]?.message ?? 'invalid'}); ignored`)
      return
    }
    const message = parsed.data
    if (message.type === 'log') {
      report(`merge host: ${message.message}`)
      return
    }
    if (message.type === 'ready') {
      conn.ready = true
      if (running && running.sentTo === null) sendRun(running, conn)
      return
    }
    if (!running || running.id !== message.jobId) {
      report(`merge host reported on job ${message.jobId}, which is not running; ignored`)
      return
    }
    if (isTerminalEvent(message.event)) finish(running, message.event as TerminalEvent)
    else events.emit('merge.event', { jobId: running.id, event: message.event })
  }

  async function onHostExit(conn: HostConnection, reason: string): Promise<void> {
    if (conn !== host) return
    host = null
    const job = running
    if (job && (job.state === 'running' || job.state === 'cancelling')) {
      await removePartial(job)
      finish(
        job,
        job.state === 'cancelling'
          ? { type: 'cancelled' }
          : {
              type: 'failed',
              error: { code: 'WORKER_CRASHED', message: `the merge process stopped unexpectedly (${reason}) while writing ${job.recipe.output.path}; its partial output was removed` },
            },
      )
    }
    pump()
  }

  async function removePartial(job: Job): Promise<void> {
    const partial = `${job.recipe.output.path}.partial`
    try {
      await rm(partial, { force: true })
    } catch (err) {
      report(`${partial}: could not remove the unfinished output (${describeError(err)})`)
    }
  }

  async function forceCancel(job: Job): Promise<void> {
    const conn = host
    if (running !== job || job.state !== 'cancelling' || !conn) return
    host = null
    conn.process.kill()
    await conn.closed
    await removePartial(job)
    finish(job, { type: 'cancelled' })
  }

  function finish(job: Job, event: TerminalEvent): void {
    if (job.cancelTimer !== null) clearTimeout(job.cancelTimer)
    job.cancelTimer = null
    job.state = event.type
    if (running === job) running = null
    try {
      history.append(historyEntry(job, event))
    } catch (err) {
      report(`could not record merge ${job.id} in the history: ${describeError(err)}`)
    }
    // after the history write, so a renderer refreshing history on this event sees the entry
    events.emit('merge.event', { jobId: job.id, event })
    forgetOldJobs()
    pump()
  }

  function forgetOldJobs(): void {
    let excess = jobs.size - FINISHED_JOBS_KEPT
    for (const [id, job] of jobs) {
      if (excess <= 0) break
      if (job.state === 'done' || job.state === 'failed' || job.state === 'cancelled') {
        jobs.delete(id)
        excess--
      }
    }
  }

  return {
    start(recipe) {
      const job: Job = { id: randomUUID(), recipe, queuedAt: new Date(), state: 'queued', startedAt: null, sentTo: null, cancelTimer: null }
      jobs.set(job.id, job)
      queue.push(job)
      pump()
      return job.id
    },
    cancel(jobId) {
      const job = jobs.get(jobId)
      if (!job) throw new AmalgamError('BAD_ARGUMENT', `merge job "${jobId}" does not exist`)
      if (job.state === 'queued') {
        queue.splice(queue.indexOf(job), 1)
        finish(job, { type: 'cancelled' })
      } else if (job.state === 'running' && job.sentTo === null) {
        // the host is still starting: nothing ran yet
        finish(job, { type: 'cancelled' })
      } else if (job.state === 'running') {
        job.state = 'cancelling'
        job.sentTo?.process.send({ type: 'cancel', jobId })
        job.cancelTimer = setTimeout(() => void forceCancel(job), grace)
      }
    },
    jobs: () => [...jobs.values()].map((job) => ({ id: job.id, state: job.state })),
    async shutdown() {
      stopping = true
      for (const job of queue.splice(0)) finish(job, { type: 'cancelled' })
      const conn = host
      if (!conn) return
      if (running && running.state === 'running') running.state = 'cancelling'
      conn.process.send({ type: 'shutdown' })
      const timer = setTimeout(() => conn.process.kill(), grace)
      await conn.closed
      clearTimeout(timer)
    },
  }
}

function historyEntry(job: Job, event: TerminalEvent): HistoryEntry {
  const startedAt = job.startedAt ?? job.queuedAt
  return {
    id: job.id,
    status: event.type,
    startedAt: startedAt.toISOString(),
    durationMs: event.type === 'done' ? event.durationMs : Date.now() - startedAt.getTime(),
    outputPath: event.type === 'done' ? event.path : job.recipe.output.path,
    method: job.recipe.merge.method,
    recipe: job.recipe,
    error: event.type === 'failed' ? event.error.message : null,
    lineagePath: event.type === 'done' ? event.lineagePath : null,
  }
}
