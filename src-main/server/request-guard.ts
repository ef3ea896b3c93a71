import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/*
 * Who may talk to `amalgam serve`. The server listens on 127.0.0.1 only, but any web page the user
 * opens can still send requests to 127.0.0.1, and a hostile DNS name can be rebound to it. So:
 * - Host must name this server (127.0.0.1:PORT or localhost:PORT): defeats DNS rebinding.
 * - Origin and Sec-Fetch-Site, when the browser sends them, must say "this origin".
 * - API calls carry the token in a header, which another site cannot set without a CORS preflight
 *   we never answer; the page and its assets and the event stream (EventSource cannot set headers)
 *   accept the token from an HttpOnly SameSite=Strict cookie set when the tokened URL is opened.
 */

/** 32 random bytes, URL-safe */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

export function tokenCookieName(port: number): string {
  // cookies ignore ports: two servers on one machine must not overwrite each other's
  return `amalgam_token_${port}`
}

export function tokenCookie(port: number, token: string): string {
  return `${tokenCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`
}

export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Why a request does not come from our own page on this server, or null when it does. */
export function foreignRequestReason(req: IncomingMessage, port: number): string | null {
  const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`]
  const host = headerValue(req, 'host')
  if (host === undefined || !allowedHosts.includes(host.toLowerCase())) return `Host "${host ?? ''}" is not this server`
  const origin = headerValue(req, 'origin')
  if (origin !== undefined && !allowedHosts.map((h) => `http://${h}`).includes(origin.toLowerCase())) return `Origin "${origin}" is not this server`
  const site = headerValue(req, 'sec-fetch-site')
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `cross-site request (Sec-Fetch-Site: ${site})`
  return null
}
