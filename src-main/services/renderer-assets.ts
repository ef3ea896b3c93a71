import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'

/**
 * The renderer's Content-Security-Policy, sent with every file of the built renderer by both hosts
 * (the desktop app's app:// protocol and `amalgam serve`). Only our own scripts, styles and
 * connections; no inline script, no eval, no plugins, no framing, no form posts.
 */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}

export interface RendererAsset {
  readonly body: Buffer
  readonly headers: Readonly<Record<string, string>>
}

/** Headers for every renderer response, including errors. */
export const RENDERER_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': RENDERER_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

/**
 * A file of the built renderer (`out/renderer`) for a URL path; "/" is index.html. Null when there is
 * no such file or the path tries to leave the folder (`/../`, encoded or not).
 */
export async function readRendererAsset(root: string, urlPath: string): Promise<RendererAsset | null> {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (decoded.includes('\0')) return null
  const base = resolve(root)
  const relative = normalize(decoded === '/' || decoded === '' ? 'index.html' : decoded).replace(/^[/\\]+/, '')
  const file = resolve(join(base, relative))
  if (!file.startsWith(base + sep)) return null
  try {
    if (!(await stat(file)).isFile()) return null
    const body = await readFile(file)
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
    return { body, headers: { ...RENDERER_SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-cache' } }
  } catch {
    return null
  }
}
