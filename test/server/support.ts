import { mkdirSync, writeFileSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'

/** A stand-in for out/renderer: an index page and one asset. */
export function fakeRenderer(dir: string): string {
  const root = join(dir, 'renderer')
  mkdirSync(join(root, 'assets'), { recursive: true })
  writeFileSync(join(root, 'index.html'), '<!doctype html><html><head><title>Amalgam</title><script type="module" src="/assets/app.js"></script></head><body><div id="root"></div></body></html>')
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log("amalgam")')
  writeFileSync(join(dir, 'secret.txt'), 'outside the renderer')
  return root
}

export interface HttpAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/**
 * One HTTP request to 127.0.0.1:port with full control over the headers (fetch would not let a test
 * forge Host or Origin). Host defaults to the right one.
 */
export function send(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: { host: `127.0.0.1:${port}`, ...options.headers } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

export interface SseStream {
  /** events received so far, parsed */
  readonly events: { event: string; data: unknown }[]
  /** resolves once `count` events have arrived */
  waitFor(count: number): Promise<void>
  close(): void
}

/** Reads a Server-Sent Events response the way EventSource does (event + data lines, blank line ends one). */
export function openSse(port: number, headers: Record<string, string>): Promise<SseStream & { status: number }> {
  return new Promise((resolve, reject) => {
    const events: { event: string; data: unknown }[] = []
    const waiters: (() => void)[] = []
    let buffer = ''
    const req = httpRequest({ host: '127.0.0.1', port, path: '/api/events', headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      res.setEncoding('utf8')
      let opened = false
      res.on('data', (chunk: string) => {
        buffer += chunk
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) })
        }
        waiters.splice(0).forEach((w) => w())
        if (!opened) {
          opened = true
          resolve({ status: res.statusCode ?? 0, events, waitFor, close: () => req.destroy() })
        }
      })
      if (res.statusCode !== 200) resolve({ status: res.statusCode ?? 0, events, waitFor, close: () => req.destroy() })
    })
    function waitFor(count: number): Promise<void> {
      if (events.length >= count) return Promise.resolve()
      return new Promise((done) => waiters.push(() => void waitFor(count).then(done)))
    }
    req.on('error', reject)
    req.end()
  })
}
