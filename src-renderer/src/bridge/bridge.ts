import type { AmalgamBridge } from '../../../src-main/common/ipc'
import { TOKEN_META } from '../../../src-main/common/serve-protocol'
import { createHttpBridge } from './http-bridge'

declare global {
  interface Window {
    /** set by the preload in the desktop app; absent in a browser (`amalgam serve`) */
    readonly amalgam?: AmalgamBridge
  }
}

let bridge: AmalgamBridge | null = null

/** How the renderer reaches main: the preload's `window.amalgam` in Electron, HTTP under `amalgam serve`. */
export function getBridge(): AmalgamBridge {
  bridge ??= window.amalgam ?? createHttpBridge({
    token: pageToken(),
    fetch: (url, init) => window.fetch(url, init),
    openEvents: (url) => new EventSource(url),
  })
  return bridge
}

/**
 * The server puts the token in a meta tag of the page it serves; the `?token=` of the printed
 * address is then removed from the address bar so it does not linger in history or screenshots.
 */
function pageToken(): string {
  const url = new URL(window.location.href)
  const fromMeta = document.querySelector<HTMLMetaElement>(`meta[name="${TOKEN_META}"]`)?.content
  const token = fromMeta ?? url.searchParams.get('token') ?? ''
  if (url.searchParams.has('token')) {
    url.searchParams.delete('token')
    window.history.replaceState(window.history.state, '', url)
  }
  return token
}
