import type { HostMessage } from './protocol'

/** The host's line to the main process, whichever way it was started. */
export interface ParentChannel {
  send(message: HostMessage): void
  onMessage(listener: (message: unknown) => void): void
}

/** What Electron's utilityProcess gives a child as `process.parentPort` (the host cannot import electron's types). */
interface ParentPortLike {
  postMessage(message: unknown): void
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown
}

function isParentPort(value: unknown): value is ParentPortLike {
  return typeof value === 'object' && value !== null && typeof (value as { postMessage?: unknown }).postMessage === 'function'
}

/**
 * The desktop app starts the host with utilityProcess.fork (messages via `process.parentPort`);
 * `amalgam serve` and the tests use child_process.fork (Node's IPC channel, `process.send`). A host
 * forked by Node exits when its parent goes away, so an orphan never keeps merging.
 */
export function parentChannel(): ParentChannel {
  const port: unknown = Reflect.get(process, 'parentPort')
  if (isParentPort(port)) {
    return {
      send: (message) => port.postMessage(message),
      onMessage: (listener) => void port.on('message', (event) => listener(event.data)),
    }
  }
  const send = process.send?.bind(process)
  if (!send) throw new Error('the merge host runs only as a child of Amalgam (utilityProcess or child_process.fork)')
  process.on('disconnect', () => process.exit(0))
  return {
    send: (message) => void send(message),
    onMessage: (listener) => void process.on('message', listener),
  }
}
