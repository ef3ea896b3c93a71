import { isTerminalEvent } from '../common/events'
import type { EventChannel } from '../common/ipc-channels'
import type { EventPayload } from '../common/ipc'

/** One event for the renderer, as both transports carry it (Electron webContents.send, SSE). */
export type EventMessage = { [C in EventChannel]: { readonly channel: C; readonly payload: EventPayload<C> } }[EventChannel]
export type EventListener = (message: EventMessage) => void

export interface EventHub {
  emit<C extends EventChannel>(channel: C, payload: EventPayload<C>): void
  subscribe(listener: EventListener): () => void
  /** drops pending throttled progress and its timers (app shutdown) */
  dispose(): void
}

export interface EventHubOptions {
  /** least time between two progress events of one job; 100 ms = at most 10 per second */
  progressIntervalMs?: number
  /** a listener that throws (a closed window, a dropped SSE stream) must not stop the others */
  report?: (message: string) => void
}

interface Throttle {
  lastSentAt: number
  pending: EventPayload<'merge.event'> | null
  timer: ReturnType<typeof setTimeout> | null
}

/**
 * Fan-out of the contract's events. Merge progress comes per key (thousands per merge) and is
 * coalesced per job: at most one per interval, the latest one wins. Every other merge event —
 * started, phase, warning and the terminal done/failed/cancelled — is delivered at once, after any
 * progress still held back for that job, so listeners see each job's events in the order they happened.
 */
export function createEventHub(options: EventHubOptions = {}): EventHub {
  const interval = options.progressIntervalMs ?? 100
  const report = options.report ?? ((message: string) => console.error(message))
  const listeners = new Set<EventListener>()
  const throttles = new Map<string, Throttle>()

  function deliver(message: EventMessage): void {
    for (const listener of [...listeners]) {
      try {
        listener(message)
      } catch (err) {
        report(`event listener failed on ${message.channel}: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  }

  function flush(throttle: Throttle): void {
    if (throttle.timer !== null) clearTimeout(throttle.timer)
    throttle.timer = null
    if (throttle.pending === null) return
    const payload = throttle.pending
    throttle.pending = null
    throttle.lastSentAt = Date.now()
    deliver({ channel: 'merge.event', payload })
  }

  function emitMergeEvent(payload: EventPayload<'merge.event'>): void {
    const { jobId, event } = payload
    let throttle = throttles.get(jobId)
    if (event.type !== 'progress') {
      if (throttle) flush(throttle)
      if (isTerminalEvent(event)) throttles.delete(jobId)
      deliver({ channel: 'merge.event', payload })
      return
    }
    if (!throttle) {
      throttle = { lastSentAt: -Infinity, pending: null, timer: null }
      throttles.set(jobId, throttle)
    }
    throttle.pending = payload
    const wait = throttle.lastSentAt + interval - Date.now()
    if (wait <= 0) flush(throttle)
    else if (throttle.timer === null) {
      const held = throttle
      held.timer = setTimeout(() => flush(held), wait)
    }
  }

  return {
    emit(channel, payload) {
      if (channel === 'merge.event') emitMergeEvent(payload as EventPayload<'merge.event'>)
      else deliver({ channel, payload } as EventMessage)
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    dispose() {
      for (const throttle of throttles.values()) if (throttle.timer !== null) clearTimeout(throttle.timer)
      throttles.clear()
      listeners.clear()
    },
  }
}
