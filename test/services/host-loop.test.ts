import { describe, expect, it } from 'vitest'
import type { MergeEvent } from '../../src-main/common/events'
import type { ParentChannel } from '../../src-main/merge-host/channel'
import { serveHost, type RunRecipe } from '../../src-main/merge-host/host-loop'
import type { HostMessage } from '../../src-main/merge-host/protocol'
import { testRecipe } from './support/fixtures'

/** The host loop in-process: a channel that records what the host sends. */
function host(runRecipe: RunRecipe) {
  const sent: HostMessage[] = []
  let receive: (message: unknown) => void = () => undefined
  let exited = false
  const channel: ParentChannel = { send: (m) => void sent.push(m), onMessage: (l) => void (receive = l) }
  serveHost(channel, runRecipe, () => void (exited = true))
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0))
  return { sent, receive: (m: unknown) => receive(m), settle, exited: () => exited }
}

const recipe = testRecipe('/o/m.safetensors')
const events = (sent: HostMessage[], jobId: string): MergeEvent['type'][] => sent.flatMap((m) => (m.type === 'event' && m.jobId === jobId ? [m.event.type] : []))

describe('merge host loop', () => {
  it('says ready first', () => {
    expect(host(async () => undefined).sent).toEqual([{ type: 'ready' }])
  })

  it('ends every job with exactly one terminal event, whatever the engine does', async () => {
    const h = host(async (r, { onEvent }) => {
      if (r.name === 'silent') return
      if (r.name === 'twice') {
        onEvent({ type: 'cancelled' })
        onEvent({ type: 'failed', error: { code: 'X', message: 'late' } })
        return
      }
      throw new TypeError('undefined is not a function')
    })
    for (const name of ['silent', 'twice', 'throws']) {
      h.receive({ type: 'run', jobId: name, recipe: { ...recipe, name } })
      await h.settle()
    }
    expect(events(h.sent, 'silent')).toEqual(['failed'])
    expect(h.sent).toContainEqual({ type: 'event', jobId: 'silent', event: { type: 'failed', error: { code: 'INTERNAL', message: 'the merge ended without reporting a result' } } })
    expect(events(h.sent, 'twice')).toEqual(['cancelled'])
    expect(h.sent).toContainEqual({ type: 'event', jobId: 'throws', event: { type: 'failed', error: { code: 'INTERNAL', message: 'undefined is not a function' } } })
  })

  it('aborts the signal on cancel and reports cancelled when the engine then throws', async () => {
    let signal: AbortSignal | null = null
    const h = host((_r, opts) => {
      signal = opts.signal
      return new Promise((_resolve, reject) => opts.signal.addEventListener('abort', () => reject(new Error('aborted'))))
    })
    h.receive({ type: 'run', jobId: 'j', recipe })
    h.receive({ type: 'cancel', jobId: 'other' })
    expect(signal!.aborted).toBe(false)
    h.receive({ type: 'cancel', jobId: 'j' })
    await h.settle()
    expect(events(h.sent, 'j')).toEqual(['cancelled'])
  })

  it('refuses a second run while busy, and malformed requests', async () => {
    const h = host(() => new Promise(() => undefined))
    h.receive({ type: 'run', jobId: 'first', recipe })
    h.receive({ type: 'run', jobId: 'second', recipe })
    h.receive({ type: 'run', jobId: 'third' })
    expect(h.sent).toContainEqual({ type: 'event', jobId: 'second', event: { type: 'failed', error: { code: 'INTERNAL', message: 'merge host is busy with job first' } } })
    expect(h.sent.at(-1)).toMatchObject({ type: 'log', level: 'error', message: expect.stringContaining('malformed request') })
  })

  it('on shutdown aborts the running job and exits once it has ended', async () => {
    const h = host((_r, { signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve())))
    h.receive({ type: 'run', jobId: 'j', recipe })
    h.receive({ type: 'shutdown' })
    await h.settle()
    await h.settle()
    expect(events(h.sent, 'j')).toEqual(['cancelled'])
    expect(h.exited()).toBe(true)
  })
})
