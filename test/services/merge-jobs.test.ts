import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { HistoryEntry } from '../../src-main/common/ipc'
import type { MergeEvent } from '../../src-main/common/events'
import { createEventHub, type EventHub } from '../../src-main/services/events'
import { createHistory, type HistoryService } from '../../src-main/services/history'
import { createMergeJobs, type MergeJobs } from '../../src-main/services/merge-jobs'
import type { MergeHostLauncher } from '../../src-main/services/merge-host-launcher'
import { MemoryStore } from '../../src-main/services/store'
import { useTempDir } from '../formats/support'
import { testRecipe } from './support/fixtures'
import { scriptedLauncher, silentLauncher } from './support/hosts'

/*
 * The supervisor against real host processes (test/services/support/scripted-host.ts: the real host
 * loop with a scripted engine stand-in) — queue order, cancel escalation, crash recovery.
 */

const tempDir = useTempDir()
const running: MergeJobs[] = []
afterEach(async () => {
  for (const jobs of running.splice(0)) await jobs.shutdown()
})

interface Harness {
  jobs: MergeJobs
  events: EventHub
  history: HistoryService
  problems: string[]
  /** every merge event delivered, in delivery order */
  log: { jobId: string; event: MergeEvent }[]
  /** resolves with the job's terminal event */
  finished(jobId: string): Promise<MergeEvent>
}

function harness(launcher: MergeHostLauncher, cancelGraceMs = 300): Harness {
  const events = createEventHub()
  const history = createHistory(new MemoryStore(), () => undefined)
  const problems: string[] = []
  const log: { jobId: string; event: MergeEvent }[] = []
  const waiters = new Map<string, (event: MergeEvent) => void>()
  events.subscribe((m) => {
    if (m.channel !== 'merge.event') return
    log.push(m.payload)
    const { type } = m.payload.event
    if (type === 'done' || type === 'failed' || type === 'cancelled') waiters.get(m.payload.jobId)?.(m.payload.event)
  })
  const jobs = createMergeJobs({ launcher, events, history, report: (m) => void problems.push(m), cancelGraceMs })
  running.push(jobs)
  return {
    jobs,
    events,
    history,
    problems,
    log,
    finished(jobId) {
      const done = log.find((e) => e.jobId === jobId && ['done', 'failed', 'cancelled'].includes(e.event.type))
      if (done) return Promise.resolve(done.event)
      return new Promise((resolve) => waiters.set(jobId, resolve))
    },
  }
}

describe('merge jobs', () => {
  it('runs queued jobs one at a time in order, each with its full event sequence, and records them', async () => {
    const dir = tempDir()
    const { launcher, launches } = scriptedLauncher()
    const h = harness(launcher)
    const ids = ['one', 'two', 'three'].map((n) => h.jobs.start(testRecipe(join(dir, `${n}.safetensors`))))
    expect(h.jobs.jobs().map((j) => j.state)).toEqual(['running', 'queued', 'queued'])
    const ends = await Promise.all(ids.map((id) => h.finished(id)))

    expect(ends.map((e) => e.type)).toEqual(['done', 'done', 'done'])
    // no interleaving: each job's events form one block, in queue order
    const blocks = h.log.map((e) => e.jobId).filter((id, i, all) => i === 0 || all[i - 1] !== id)
    expect(blocks).toEqual(ids)
    for (const id of ids) {
      const types = h.log.filter((e) => e.jobId === id).map((e) => e.event.type)
      expect(types[0]).toBe('started')
      expect(types.at(-1)).toBe('done')
    }
    expect(existsSync(join(dir, 'three.safetensors'))).toBe(true)
    expect(h.history.list().map((e) => [e.id, e.status, e.outputPath])).toEqual(ids.reverse().map((id, i) => [id, 'done', join(dir, `${['three', 'two', 'one'][i]}.safetensors`)]))
    expect(h.history.list().every((e) => HistoryEntry.safeParse(e).success)).toBe(true)
    // one host served all three
    expect(launches()).toBe(1)
  })

  it('reports an engine error as failed with its code, and the host stays up', async () => {
    const dir = tempDir()
    const { launcher, launches } = scriptedLauncher()
    const h = harness(launcher)
    const failing = h.jobs.start(testRecipe(join(dir, 'f.safetensors'), 'fail'))
    const next = h.jobs.start(testRecipe(join(dir, 'n.safetensors')))
    expect(await h.finished(failing)).toEqual({ type: 'failed', error: { code: 'INCOMPATIBLE_MODELS', message: '/models/b.safetensors: is an SDXL model, a is SD 1.x' } })
    expect((await h.finished(next)).type).toBe('done')
    expect(h.history.list().find((e) => e.id === failing)).toMatchObject({ status: 'failed', error: '/models/b.safetensors: is an SDXL model, a is SD 1.x', lineagePath: null })
    expect(launches()).toBe(1)
  })

  it('cancels a cooperative job without killing its host', async () => {
    const dir = tempDir()
    const { launcher, launches } = scriptedLauncher()
    const h = harness(launcher)
    const id = h.jobs.start(testRecipe(join(dir, 'c.safetensors'), 'cooperative'))
    await waitFor(() => h.log.some((e) => e.jobId === id && e.event.type === 'phase'))
    h.jobs.cancel(id)
    expect(await h.finished(id)).toEqual({ type: 'cancelled' })
    expect((await h.finished(h.jobs.start(testRecipe(join(dir, 'after.safetensors'))))).type).toBe('done')
    expect(launches()).toBe(1)
  })

  it('kills a host that ignores cancel, removes the partial output, reports cancelled, and starts a fresh host', async () => {
    const dir = tempDir()
    const output = join(dir, 'hung.safetensors')
    const { launcher, launches } = scriptedLauncher()
    const h = harness(launcher)
    const id = h.jobs.start(testRecipe(output, 'hang'))
    const queued = h.jobs.start(testRecipe(join(dir, 'queued.safetensors')))
    await waitFor(() => existsSync(`${output}.partial`) && h.log.some((e) => e.jobId === id && e.event.type === 'phase'))
    h.jobs.cancel(id)
    expect(h.jobs.jobs().find((j) => j.id === id)?.state).toBe('cancelling')
    expect(await h.finished(id)).toEqual({ type: 'cancelled' })
    expect(existsSync(`${output}.partial`)).toBe(false)
    expect(h.history.list().find((e) => e.id === id)).toMatchObject({ status: 'cancelled', error: null })
    expect((await h.finished(queued)).type).toBe('done')
    expect(launches()).toBe(2)
  })

  it('fails the running job with WORKER_CRASHED when the host dies, cleans up, and runs the next job in a new host', async () => {
    const dir = tempDir()
    const output = join(dir, 'crash.safetensors')
    const { launcher, launches } = scriptedLauncher()
    const h = harness(launcher)
    const crashing = h.jobs.start(testRecipe(output, 'crash'))
    const next = h.jobs.start(testRecipe(join(dir, 'next.safetensors')))
    const end = await h.finished(crashing)
    expect(end).toEqual({
      type: 'failed',
      error: { code: 'WORKER_CRASHED', message: `the merge process stopped unexpectedly (exit code 1) while writing ${output}; its partial output was removed` },
    })
    expect(existsSync(`${output}.partial`)).toBe(false)
    expect((await h.finished(next)).type).toBe('done')
    expect(launches()).toBe(2)
  })

  it('drops a queued job on cancel, and ignores a cancel that comes after the end', async () => {
    const dir = tempDir()
    const h = harness(scriptedLauncher().launcher)
    const first = h.jobs.start(testRecipe(join(dir, 'a.safetensors')))
    const second = h.jobs.start(testRecipe(join(dir, 'b.safetensors')))
    h.jobs.cancel(second)
    expect(await h.finished(second)).toEqual({ type: 'cancelled' })
    expect((await h.finished(first)).type).toBe('done')
    expect(h.log.filter((e) => e.jobId === second).map((e) => e.event.type)).toEqual(['cancelled'])
    h.jobs.cancel(first)
    expect(h.jobs.jobs().find((j) => j.id === first)?.state).toBe('done')
    expect(() => h.jobs.cancel('no-such-job')).toThrow('merge job "no-such-job" does not exist')
  })

  it('ignores malformed host messages and reports them', async () => {
    const sent: unknown[] = []
    let deliver: ((message: unknown) => void) | null = null
    let exit: ((reason: string) => void) | null = null
    const launcher: MergeHostLauncher = {
      launch: () => ({
        send: (r) => void sent.push(r),
        onMessage: (l) => void (deliver = l),
        onExit: (l) => void (exit = l),
        kill: () => exit?.('signal SIGKILL'),
      }),
    }
    const h = harness(launcher)
    const id = h.jobs.start(testRecipe('/o/x.safetensors'))
    deliver!({ type: 'ready' })
    expect(sent).toEqual([{ type: 'run', jobId: id, recipe: testRecipe('/o/x.safetensors') }])
    deliver!({ type: 'event', jobId: id, event: { type: 'progress' } })
    deliver!({ type: 'event', jobId: 'other', event: { type: 'cancelled' } })
    expect(h.log).toEqual([])
    expect(h.problems).toEqual([expect.stringContaining('malformed message'), 'merge host reported on job other, which is not running; ignored'])
  })

  it('cancels a job whose host has not started yet at once', async () => {
    const { launcher, sent } = silentLauncher()
    const h = harness(launcher)
    const id = h.jobs.start(testRecipe('/o/x.safetensors'))
    h.jobs.cancel(id)
    expect(await h.finished(id)).toEqual({ type: 'cancelled' })
    expect(sent).toEqual([])
  })
})

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10))
}
