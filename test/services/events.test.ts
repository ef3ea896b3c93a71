import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { MergeEvent } from '../../src-main/common/events'
import { createEventHub, type EventMessage } from '../../src-main/services/events'
import { testLineage, testPlanSummary, testRecipe } from './support/fixtures'

const recipe = testRecipe('/o/m.safetensors')
const progress = (index: number): MergeEvent => ({ type: 'progress', phase: 'merging', index, total: 1000, key: `k${index}`, bytesDone: index, bytesTotal: 1000, elapsedMs: 0, etaMs: null })

function collect() {
  const hub = createEventHub()
  const seen: EventMessage[] = []
  hub.subscribe((m) => void seen.push(m))
  const merge = (jobId: string) => seen.filter((m) => m.channel === 'merge.event' && m.payload.jobId === jobId).map((m) => (m.channel === 'merge.event' ? m.payload.event : null))
  return { hub, seen, merge }
}

beforeEach(() => void vi.useFakeTimers())
afterEach(() => void vi.useRealTimers())

describe('event hub', () => {
  it('delivers every channel to every subscriber until it unsubscribes', () => {
    const hub = createEventHub()
    const a: string[] = []
    const b: string[] = []
    const stopA = hub.subscribe((m) => void a.push(m.channel))
    hub.subscribe((m) => void b.push(m.channel))
    hub.emit('library.changed', {})
    stopA()
    hub.emit('library.progress', { phase: 'scanning', done: 1, total: 2, current: '/m/a.safetensors' })
    expect(a).toEqual(['library.changed'])
    expect(b).toEqual(['library.changed', 'library.progress'])
  })

  it('keeps going when one subscriber throws', () => {
    const problems: string[] = []
    const hub = createEventHub({ report: (m) => void problems.push(m) })
    const got: string[] = []
    hub.subscribe(() => {
      throw new Error('window closed')
    })
    hub.subscribe((m) => void got.push(m.channel))
    hub.emit('library.changed', {})
    expect(got).toEqual(['library.changed'])
    expect(problems).toEqual(['event listener failed on library.changed: window closed'])
  })

  it('coalesces a burst of progress to the latest, and delivers it before the terminal event, in order', () => {
    const { hub, merge } = collect()
    hub.emit('merge.event', { jobId: 'j', event: { type: 'started', plan: testPlanSummary(recipe) } })
    for (let i = 0; i < 50; i++) hub.emit('merge.event', { jobId: 'j', event: progress(i) })
    hub.emit('merge.event', { jobId: 'j', event: { type: 'warning', key: 'k7', message: 'NaN produced' } })
    for (let i = 50; i < 80; i++) hub.emit('merge.event', { jobId: 'j', event: progress(i) })
    hub.emit('merge.event', { jobId: 'j', event: { type: 'done', path: '/o/m.safetensors', lineagePath: '/o/m.lineage.json', durationMs: 1, lineage: testLineage(recipe) } })
    expect(merge('j').map((e) => (e?.type === 'progress' ? `progress ${e.index}` : e?.type))).toEqual(['started', 'progress 0', 'progress 49', 'warning', 'progress 79', 'done'])
    // nothing is left to fire after the end
    vi.advanceTimersByTime(1000)
    expect(merge('j')).toHaveLength(6)
  })

  it('sends at most one progress per 100 ms per job, the latest at each tick', () => {
    const { hub, merge } = collect()
    for (let i = 0; i < 100; i++) {
      hub.emit('merge.event', { jobId: 'j', event: progress(i) })
      hub.emit('merge.event', { jobId: 'other', event: progress(i) })
      vi.advanceTimersByTime(10)
    }
    vi.advanceTimersByTime(100)
    const indices = merge('j').map((e) => (e?.type === 'progress' ? e.index : -1))
    // 1000 ms of events at one per 10 ms: the first at once, then one per 100 ms, the last one included
    expect(indices.length).toBeLessThanOrEqual(11)
    expect(indices.length).toBeGreaterThanOrEqual(10)
    expect(indices[0]).toBe(0)
    expect(indices.at(-1)).toBe(99)
    expect([...indices].sort((x, y) => x - y)).toEqual(indices)
    expect(merge('other').map((e) => (e?.type === 'progress' ? e.index : -1))).toEqual(indices)
  })

  it('delivers failed and cancelled even right after a progress', () => {
    const { hub, merge } = collect()
    hub.emit('merge.event', { jobId: 'a', event: progress(1) })
    hub.emit('merge.event', { jobId: 'a', event: progress(2) })
    hub.emit('merge.event', { jobId: 'a', event: { type: 'failed', error: { code: 'DISK_FULL', message: '/o: disk full' } } })
    hub.emit('merge.event', { jobId: 'b', event: progress(1) })
    hub.emit('merge.event', { jobId: 'b', event: { type: 'cancelled' } })
    expect(merge('a').map((e) => e?.type)).toEqual(['progress', 'progress', 'failed'])
    expect(merge('b').map((e) => e?.type)).toEqual(['progress', 'cancelled'])
  })
})
