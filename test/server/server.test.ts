import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { RENDERER_CSP } from '../../src-main/services/renderer-assets'
import { startServer, type RunningServer } from '../../src-main/server/http-server'
import { TOKEN_HEADER } from '../../src-main/common/serve-protocol'
import { createHttpBridge } from '../../src-renderer/src/bridge/http-bridge'
import { useTempDir } from '../formats/support'
import { testApp, type TestApp } from '../services/support/app'
import { testLineage, testRecipe } from '../services/support/fixtures'
import { fakeRenderer, openSse, send } from './support'

const tempDir = useTempDir()
const open: { server: RunningServer; app: TestApp }[] = []
afterEach(async () => {
  for (const { server, app } of open.splice(0)) {
    await server.close()
    await app.services.shutdown()
  }
})

async function serve(options: { maxBodyBytes?: number } = {}) {
  const dir = tempDir()
  const app = testApp(join(dir, 'data'), { mode: 'serve', home: dir })
  const server = await startServer({ dispatcher: app.services.dispatcher, events: app.services.events, rendererRoot: fakeRenderer(dir), ...options })
  open.push({ server, app })
  const invoke = (channel: string, body: unknown, headers: Record<string, string> = {}) =>
    send(server.port, { method: 'POST', path: `/api/invoke/${channel}`, headers: { 'content-type': 'application/json', [TOKEN_HEADER]: server.token, ...headers }, body: JSON.stringify(body) })
  const cookie = `amalgam_token_${server.port}=${server.token}`
  return { dir, app, server, invoke, cookie }
}

describe('amalgam serve: HTTP server', () => {
  it('prints a 127.0.0.1 address carrying a 32-byte random token', async () => {
    const { server } = await serve()
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`)
    expect(Buffer.from(server.token, 'base64url')).toHaveLength(32)
    const other = await serve()
    expect(other.server.token).not.toBe(server.token)
  })

  it('listens on the loopback interface only', async () => {
    const { server } = await serve()
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address
    const reach = (host: string) =>
      new Promise<boolean>((resolve) => {
        const socket = connect({ host, port: server.port }, () => {
          socket.destroy()
          resolve(true)
        })
        socket.on('error', () => resolve(false))
      })
    expect(await reach('127.0.0.1')).toBe(true)
    if (external) expect(await reach(external)).toBe(false)
  })

  it('answers invokes with the Result of the dispatcher', async () => {
    const { invoke } = await serve()
    const answer = await invoke('settings.update', { embedRecipe: false })
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({ ok: true, value: { libraryFolders: [], outputFolder: null, defaultOutputDType: 'auto', embedRecipe: false } })
    expect(JSON.parse((await invoke('dialog.open', { kind: 'files' })).body)).toMatchObject({ ok: false, error: { code: 'NOT_AVAILABLE' } })
  })

  it('refuses API calls without the token header, even with the cookie', async () => {
    const { invoke, cookie } = await serve()
    expect((await invoke('settings.get', {}, { [TOKEN_HEADER]: '' })).status).toBe(401)
    expect((await invoke('settings.get', {}, { [TOKEN_HEADER]: 'x'.repeat(43) })).status).toBe(401)
    const withCookieOnly = await invoke('settings.get', {}, { [TOKEN_HEADER]: '', cookie })
    expect(withCookieOnly.status).toBe(401)
    expect(JSON.parse(withCookieOnly.body)).toEqual({ ok: false, error: { code: 'UNAUTHORIZED', message: `missing or wrong ${TOKEN_HEADER} header` } })
  })

  it('refuses foreign origins, cross-site fetches and other Host names (DNS rebinding)', async () => {
    const { invoke, server } = await serve()
    expect((await invoke('settings.get', {}, { origin: 'http://evil.example' })).status).toBe(403)
    expect((await invoke('settings.get', {}, { origin: 'http://127.0.0.1:1' })).status).toBe(403)
    expect((await invoke('settings.get', {}, { 'sec-fetch-site': 'cross-site' })).status).toBe(403)
    expect((await invoke('settings.get', {}, { 'sec-fetch-site': 'same-site' })).status).toBe(403)
    const rebound = await invoke('settings.get', {}, { host: `evil.example:${server.port}` })
    expect(rebound.status).toBe(403)
    expect(JSON.parse(rebound.body).error.message).toBe(`Host "evil.example:${server.port}" is not this server`)
    expect((await invoke('settings.get', {}, { host: `localhost:${server.port}`, origin: `http://localhost:${server.port}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200)
  })

  it('refuses non-JSON, malformed and oversized bodies, and invalid payloads naming the field', async () => {
    const { invoke, server } = await serve({ maxBodyBytes: 1024 })
    const post = (headers: Record<string, string>, body: string) => send(server.port, { method: 'POST', path: '/api/invoke/settings.get', headers: { [TOKEN_HEADER]: server.token, ...headers }, body })
    expect((await post({ 'content-type': 'text/plain' }, '{}')).status).toBe(415)
    const broken = await post({ 'content-type': 'application/json' }, '{"embedRecipe": ')
    expect(broken.status).toBe(400)
    expect(JSON.parse(broken.body).error.message).toMatch(/^body is not valid JSON/)
    expect((await post({ 'content-type': 'application/json' }, JSON.stringify({ pad: 'x'.repeat(2000) }))).status).toBe(413)
    const invalid = await invoke('library.addFolder', { path: 42 })
    expect(invalid.status).toBe(400)
    expect(JSON.parse(invalid.body)).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: 'library.addFolder: path: Invalid input: expected string, received number' } })
    expect(JSON.parse((await invoke('nope.nothing', {})).body).error).toEqual({ code: 'BAD_REQUEST', message: 'nope.nothing: no such channel' })
    expect((await send(server.port, { path: '/api/invoke/settings.get', headers: { [TOKEN_HEADER]: server.token } })).status).toBe(405)
  })

  it('serves the page for the tokened address: CSP, the token for the bridge, and the session cookie', async () => {
    const { server, cookie } = await serve()
    expect((await send(server.port, { path: '/' })).status).toBe(401)
    const page = await send(server.port, { path: `/?token=${server.token}` })
    expect(page.status).toBe(200)
    expect(page.headers['content-security-policy']).toBe(RENDERER_CSP)
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    expect(page.headers['set-cookie']).toEqual([`${cookie}; HttpOnly; SameSite=Strict; Path=/`])
    expect(page.body).toContain(`<meta name="amalgam-token" content="${server.token}"></head>`)
    expect((await send(server.port, { path: '/', headers: { cookie } })).status).toBe(200)
  })

  it('serves assets to the page (by cookie) and nothing outside the renderer folder', async () => {
    const { server, cookie } = await serve()
    expect((await send(server.port, { path: '/assets/app.js' })).status).toBe(401)
    const asset = await send(server.port, { path: '/assets/app.js', headers: { cookie } })
    expect(asset).toMatchObject({ status: 200, body: 'console.log("amalgam")', headers: { 'content-type': 'text/javascript; charset=utf-8', 'content-security-policy': RENDERER_CSP } })
    expect(asset.body).not.toContain(server.token)
    for (const path of ['/../secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/assets/missing.js']) {
      expect((await send(server.port, { path, headers: { cookie } })).status).toBe(404)
    }
  })

  it('streams the contract events over Server-Sent Events', async () => {
    const { app, server, cookie } = await serve()
    expect((await openSse(server.port, {})).status).toBe(401)
    expect((await openSse(server.port, { cookie, origin: 'http://evil.example' })).status).toBe(403)
    const stream = await openSse(server.port, { cookie })
    expect(stream.status).toBe(200)
    const recipe = testRecipe('/o/m.safetensors')
    app.services.events.emit('library.changed', {})
    app.services.events.emit('library.progress', { phase: 'hashing', done: 1, total: 2, current: '/m/a.safetensors' })
    app.services.events.emit('merge.event', { jobId: 'j', event: { type: 'done', path: '/o/m.safetensors', lineagePath: '/o/m.lineage.json', durationMs: 3, lineage: testLineage(recipe) } })
    await stream.waitFor(3)
    expect(stream.events.map((e) => e.event)).toEqual(['library.changed', 'library.progress', 'merge.event'])
    expect(stream.events[1]!.data).toEqual({ phase: 'hashing', done: 1, total: 2, current: '/m/a.safetensors' })
    expect(stream.events[2]!.data).toMatchObject({ jobId: 'j', event: { type: 'done', path: '/o/m.safetensors' } })
    stream.close()
  })
})

describe('the renderer bridge over HTTP', () => {
  it('calls channels and receives events through the real server', async () => {
    const { app, server, cookie } = await serve()
    const base = `http://127.0.0.1:${server.port}`
    const bridge = createHttpBridge({
      token: server.token,
      fetch: (url, init) => fetch(`${base}${url}`, { method: init.method, headers: init.headers, body: init.body }),
      openEvents: (url) => {
        const listeners = new Map<string, ((event: { data: string }) => void)[]>()
        const ready = openSse(server.port, { cookie })
        void ready.then(async (stream) => {
          for (let seen = 0; ; seen++) {
            await stream.waitFor(seen + 1)
            const { event, data } = stream.events[seen]!
            for (const l of listeners.get(event) ?? []) l({ data: JSON.stringify(data) })
          }
        })
        expect(url).toBe('/api/events')
        opened = ready
        return { addEventListener: (type, l) => void listeners.set(type, [...(listeners.get(type) ?? []), l]) }
      },
    })
    let opened: Promise<unknown> | null = null

    expect(await bridge['settings.update']({ libraryFolders: ['/models'] })).toMatchObject({ ok: true, value: { libraryFolders: ['/models'] } })
    expect(await bridge['presets.rename']({ id: 'none', name: 'x' })).toEqual({ ok: false, error: { code: 'BAD_ARGUMENT', message: 'preset "none" does not exist (it may have been deleted)' } })
    expect(bridge.pathForFile).toBeUndefined()

    const changes: unknown[] = []
    const stop = bridge.events['library.progress']((p) => void changes.push(p))
    await opened
    app.services.events.emit('library.progress', { phase: 'scanning', done: 2, total: 5, current: null })
    await new Promise<void>((resolve) => {
      const check = () => (changes.length > 0 ? resolve() : setTimeout(check, 5))
      check()
    })
    expect(changes).toEqual([{ phase: 'scanning', done: 2, total: 5, current: null }])
    stop()
  })

  it('turns an unreachable server into a DISCONNECTED result', async () => {
    const bridge = createHttpBridge({ token: 't', fetch: () => Promise.reject(new TypeError('fetch failed')), openEvents: () => ({ addEventListener: () => undefined }) })
    expect(await bridge['settings.get']({})).toMatchObject({ ok: false, error: { code: 'DISCONNECTED' } })
  })
})
