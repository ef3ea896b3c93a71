import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EVENTS_PATH, INVOKE_PATH, TOKEN_HEADER, TOKEN_META } from '../common/serve-protocol'
import { AmalgamError } from '../engine/errors'
import type { Dispatcher } from '../services/dispatch'
import type { EventHub } from '../services/events'
import { RENDERER_SECURITY_HEADERS, readRendererAsset } from '../services/renderer-assets'
import { BodyError, readJsonBody } from './json-body'
import { cookieValue, foreignRequestReason, headerValue, newToken, sameToken, tokenCookie, tokenCookieName } from './request-guard'

export interface ServerOptions {
  dispatcher: Dispatcher
  events: EventHub
  /** the built renderer (out/renderer) */
  rendererRoot: string
  /** 0 or absent: a free port */
  port?: number
  /** fixed token for tests; a fresh random one otherwise */
  token?: string
  /** largest accepted request body; presets.import takes up to 10 MB of JSON text */
  maxBodyBytes?: number
}

export interface RunningServer {
  readonly port: number
  readonly token: string
  /** what the user opens: http://127.0.0.1:PORT/?token=... */
  readonly url: string
  close(): Promise<void>
}

const LOOPBACK = '127.0.0.1'

/**
 * The browser mode's HTTP server: the built renderer, `POST /api/invoke/<channel>` (JSON body,
 * Result JSON back) and `GET /api/events` (Server-Sent Events, one stream per page). Listens on
 * 127.0.0.1 only; see request-guard.ts for who else is refused and why.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? newToken()
  const limit = options.maxBodyBytes ?? 16 * 1024 * 1024
  let port = 0
  const streams = new Set<ServerResponse>()

  function authorised(req: IncomingMessage, url: URL, allowCookie: boolean): boolean {
    if (sameToken(headerValue(req, TOKEN_HEADER), token)) return true
    if (allowCookie && sameToken(cookieValue(req, tokenCookieName(port)), token)) return true
    return allowCookie && sameToken(url.searchParams.get('token') ?? undefined, token)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const foreign = foreignRequestReason(req, port)
    if (foreign) return refuse(res, 403, 'FORBIDDEN', foreign)
    const url = new URL(req.url ?? '/', `http://${LOOPBACK}:${port}`)

    if (url.pathname.startsWith(INVOKE_PATH)) {
      if (req.method !== 'POST') return refuse(res, 405, 'BAD_REQUEST', 'use POST')
      // the API takes the token from the header only: a cookie would also ride along on requests that other local pages trigger
      if (!authorised(req, url, false)) return refuse(res, 401, 'UNAUTHORIZED', `missing or wrong ${TOKEN_HEADER} header`)
      let payload: unknown
      try {
        payload = await readJsonBody(req, limit)
      } catch (err) {
        if (err instanceof BodyError) return refuse(res, err.status, 'BAD_REQUEST', err.message)
        throw err
      }
      const result = await options.dispatcher.dispatch(url.pathname.slice(INVOKE_PATH.length), payload)
      return sendJson(res, !result.ok && result.error.code === 'BAD_REQUEST' ? 400 : 200, result)
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'BAD_REQUEST', 'use GET')
    if (!authorised(req, url, true)) {
      return refuse(res, 401, 'UNAUTHORIZED', 'open the address `amalgam serve` printed: it carries the access token')
    }
    if (url.pathname === EVENTS_PATH) return openEventStream(req, res)

    const asset = await readRendererAsset(options.rendererRoot, url.pathname)
    if (!asset) return refuse(res, 404, 'NOT_FOUND', `${url.pathname}: no such file`)
    const isPage = url.pathname === '/' || url.pathname === '/index.html'
    const body = isPage ? withTokenMeta(asset.body, token) : asset.body
    res.writeHead(200, {
      ...asset.headers,
      ...(isPage ? { 'Set-Cookie': tokenCookie(port, token), 'Cache-Control': 'no-store' } : {}),
      'Content-Length': String(body.length),
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  function openEventStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { ...RENDERER_SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' })
    // a comment first, so the browser sees the stream open before the first event
    res.write(': amalgam events\n\n')
    streams.add(res)
    const unsubscribe = options.events.subscribe((message) => {
      res.write(`event: ${message.channel}\ndata: ${JSON.stringify(message.payload)}\n\n`)
    })
    req.on('close', () => {
      unsubscribe()
      streams.delete(res)
    })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) refuse(res, 500, 'INTERNAL', err instanceof Error ? err.message : String(err))
      else res.destroy()
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new AmalgamError('BAD_ARGUMENT', `port ${options.port} on ${LOOPBACK} is in use; choose another with --port, or leave it out for a free one`)
          : err,
      )
    })
    server.listen(options.port ?? 0, LOOPBACK, () => resolve())
  })
  port = (server.address() as AddressInfo).port

  return {
    port,
    token,
    url: `http://${LOOPBACK}:${port}/?token=${token}`,
    close() {
      for (const stream of streams) stream.end()
      return new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

function withTokenMeta(html: Buffer, token: string): Buffer {
  const text = html.toString('utf8')
  const meta = `<meta name="${TOKEN_META}" content="${token}">`
  const at = text.indexOf('</head>')
  return Buffer.from(at < 0 ? meta + text : text.slice(0, at) + meta + text.slice(at), 'utf8')
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(status, { ...RENDERER_SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': String(Buffer.byteLength(body)) })
  res.end(body)
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { ok: false, error: { code, message } })
}
