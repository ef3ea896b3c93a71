import { protocol } from 'electron'
import { RENDERER_SECURITY_HEADERS, readRendererAsset } from '../services/renderer-assets'

/*
 * The renderer is served from app://amalgam/ rather than file://: a standard, secure scheme gives the
 * page a real origin of its own (file:// pages share one and may read other local files), and every
 * response carries the renderer's CSP header.
 */
export const APP_SCHEME = 'app'
export const APP_HOST = 'amalgam'
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } }])
}

export function serveRenderer(rendererRoot: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url)
    const asset = url.host === APP_HOST && (request.method === 'GET' || request.method === 'HEAD') ? await readRendererAsset(rendererRoot, url.pathname) : null
    if (!asset) return new Response(null, { status: 404, headers: RENDERER_SECURITY_HEADERS })
    return new Response(new Uint8Array(asset.body), { status: 200, headers: asset.headers })
  })
}

/** A page or frame of ours. (WHATWG URLs give custom schemes an opaque origin, so compare the parts.) */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url)
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST
  } catch {
    return false
  }
}
