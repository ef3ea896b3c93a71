import { EVENT_CHANNELS, INVOKE_CHANNELS, type EventChannel } from '../../../src-main/common/ipc-channels'
import type { AmalgamBridge, Result } from '../../../src-main/common/ipc'
import { EVENTS_PATH, INVOKE_PATH, TOKEN_HEADER } from '../../../src-main/common/serve-protocol'

/** What the HTTP bridge needs from the page; plain structural types so the bridge also runs in Node tests. */
export interface HttpBridgeEnv {
  /** the access token the server gave the page */
  readonly token: string
  fetch(url: string, init: { method: 'POST'; headers: Record<string, string>; body: string; credentials: 'same-origin'; cache: 'no-store' }): Promise<{ readonly status: number; json(): Promise<unknown> }>
  /** an EventSource on `url` (same origin: the token cookie authorises it) */
  openEvents(url: string): { addEventListener(type: string, listener: (event: { readonly data: string }) => void): void }
}

function isResult(value: unknown): value is Result<unknown> {
  if (typeof value !== 'object' || value === null || !('ok' in value)) return false
  return value.ok === true ? 'value' in value : value.ok === false && 'error' in value
}

/**
 * `window.amalgam` for `amalgam serve`: each invoke is a POST to the server, all events come over
 * one Server-Sent Events stream per page, opened on the first subscription. A transport failure
 * becomes an error Result, like any other failure, so callers handle one shape.
 */
export function createHttpBridge(env: HttpBridgeEnv): AmalgamBridge {
  async function invoke(channel: string, request: unknown): Promise<Result<unknown>> {
    let response
    try {
      response = await env.fetch(`${INVOKE_PATH}${channel}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [TOKEN_HEADER]: env.token },
        body: JSON.stringify(request),
        credentials: 'same-origin',
        cache: 'no-store',
      })
    } catch {
      return { ok: false, error: { code: 'DISCONNECTED', message: `${channel}: cannot reach amalgam serve; if it was stopped, start it again and open the address it prints` } }
    }
    let body: unknown
    try {
      body = await response.json()
    } catch {
      body = undefined
    }
    if (isResult(body)) return body
    return { ok: false, error: { code: 'BAD_RESPONSE', message: `${channel}: the server answered HTTP ${response.status} without a result` } }
  }

  const listeners = new Map<EventChannel, Set<(payload: unknown) => void>>(EVENT_CHANNELS.map((channel) => [channel, new Set()]))
  let streamOpen = false

  function subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void {
    if (!streamOpen) {
      streamOpen = true
      const stream = env.openEvents(EVENTS_PATH)
      for (const name of EVENT_CHANNELS) {
        stream.addEventListener(name, (event) => {
          const payload: unknown = JSON.parse(event.data)
          for (const l of [...(listeners.get(name) ?? [])]) l(payload)
        })
      }
    }
    const set = listeners.get(channel)!
    set.add(listener)
    return () => void set.delete(listener)
  }

  const invokers = Object.fromEntries(INVOKE_CHANNELS.map((channel) => [channel, (request: unknown) => invoke(channel, request)]))
  const events = Object.fromEntries(EVENT_CHANNELS.map((channel) => [channel, (listener: (payload: unknown) => void) => subscribe(channel, listener)]))
  // Built by looping over the channel lists, so TypeScript cannot see the per-channel types; the
  // server validates every request and answers with that channel's Result.
  return Object.freeze({ ...invokers, events: Object.freeze(events) }) as unknown as AmalgamBridge
}
