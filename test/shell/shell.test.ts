import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { INVOKE_CHANNELS } from '../../src-main/common/ipc-channels'
import { RENDERER_CSP } from '../../src-main/services/renderer-assets'
import { useTempDir } from '../formats/support'
import { fakeRenderer } from '../server/support'
import type * as FakeElectron from './support/fake-electron'
import { recordingBackends } from '../services/support/recording-backends'
import { testLineage, testRecipe } from '../services/support/fixtures'

vi.mock('electron', async () => await import('./support/fake-electron'))
vi.mock('electron-store', async () => ({ default: (await import('./support/fake-electron')).FakeElectronStore }))

const tempDir = useTempDir()

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1))
}

/** A shell on a clean fake Electron, started and showing its page. */
async function startShell(options: { singleInstance?: boolean } = {}) {
  // the module the shell sees as 'electron'
  const fake = (await import('electron')) as unknown as typeof FakeElectron
  fake.resetFakeElectron()
  const dir = tempDir()
  fake.state.singleInstance = options.singleInstance ?? true
  fake.state.userData = join(dir, 'userData')
  const { runShell } = await import('../../src-main/shell/app-shell')
  const recorded = recordingBackends()
  runShell({ preload: '/app/out/preload/index.cjs', rendererRoot: fakeRenderer(dir) }, async () => recorded.backends)
  if (options.singleInstance !== false) await until(() => fake.BrowserWindow.created[0]?.loaded.length === 1)
  const window = fake.BrowserWindow.created[0]
  const invoke = (channel: string, payload: unknown, event?: { sender: unknown; senderFrame: unknown }) =>
    fake.ipcHandlers.get(channel)!(event ?? { sender: window!.webContents, senderFrame: window!.webContents.mainFrame }, payload) as Promise<{ ok: boolean }>
  return { fake, window: window!, recorded, invoke, dir }
}

describe('Electron shell', () => {
  it('opens one window with a sandboxed, isolated renderer and loads only our app:// page', async () => {
    const { fake, window } = await startShell()
    expect(fake.BrowserWindow.created).toHaveLength(1)
    expect(window.options.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    })
    expect(window.options.show).toBe(false)
    expect(window.loaded).toEqual(['app://amalgam/index.html'])
    expect(fake.schemes).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }])
  })

  it('serves the built renderer over app:// with the strict CSP, and nothing else', async () => {
    const { fake } = await startShell()
    const handler = fake.protocolHandlers.get('app')!
    const page = await handler(new Request('app://amalgam/index.html'))
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toBe(RENDERER_CSP)
    expect(RENDERER_CSP).toContain("script-src 'self'")
    expect(RENDERER_CSP).not.toContain('unsafe')
    expect(await page.text()).toContain('<div id="root">')
    expect((await handler(new Request('app://amalgam/assets/app.js'))).headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect((await handler(new Request('app://amalgam/assets/%2e%2e/%2e%2e/secret.txt'))).status).toBe(404)
    expect((await handler(new Request('app://elsewhere/index.html'))).status).toBe(404)
  })

  it('blocks navigation, new windows and webviews in every webContents', async () => {
    const { fake } = await startShell()
    const contents = new fake.FakeWebContents()
    fake.app.emit('web-contents-created', {}, contents)
    for (const event of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const preventDefault = vi.fn()
      contents.emit(event, { preventDefault }, 'https://evil.example/')
      expect(preventDefault, event).toHaveBeenCalled()
    }
    expect(contents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' })
  })

  it('denies every permission request and check', async () => {
    const { fake } = await startShell()
    const callback = vi.fn()
    fake.permissionHandlers.request?.({}, 'media', callback)
    expect(callback).toHaveBeenCalledWith(false)
    expect(fake.permissionHandlers.check?.({}, 'clipboard-read')).toBe(false)
  })

  it('handles every invoke channel through the dispatcher', async () => {
    const { fake, invoke } = await startShell()
    expect([...fake.ipcHandlers.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort())
    expect(await invoke('settings.update', { embedRecipe: false })).toMatchObject({ ok: true, value: { embedRecipe: false } })
    expect(await invoke('library.addFolder', { path: 7 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } })
    expect(await invoke('app.status', {})).toMatchObject({ ok: true, value: { mode: 'electron', version: '1.2.3' } })
    expect(await invoke('dialog.open', { kind: 'folder' })).toEqual({ ok: true, value: { paths: ['/picked'] } })
    expect(fake.dialog.showOpenDialog).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ properties: ['openDirectory', 'createDirectory'] }))
    expect(fake.storeOptions).toEqual([expect.objectContaining({ cwd: fake.state.userData })])
  })

  it('reveals existing files in the file manager and says when a file is gone', async () => {
    const { fake, invoke, dir } = await startShell()
    const file = join(dir, 'renderer', 'index.html')
    expect(await invoke('files.reveal', { path: file })).toEqual({ ok: true, value: {} })
    expect(fake.shell.showItemInFolder).toHaveBeenCalledWith(file)
    expect(await invoke('files.reveal', { path: join(dir, 'gone.safetensors') })).toEqual({
      ok: false,
      error: { code: 'FILE_NOT_FOUND', message: `${join(dir, 'gone.safetensors')}: no such file (it may have been moved or deleted)` },
    })
  })

  it('refuses IPC from other webContents, subframes and foreign pages', async () => {
    const { fake, window, invoke } = await startShell()
    const stranger = new fake.FakeWebContents()
    const forbidden = { ok: false, error: { code: 'FORBIDDEN', message: expect.any(String) } }
    expect(await invoke('settings.get', {}, { sender: stranger, senderFrame: stranger.mainFrame })).toEqual(forbidden)
    expect(await invoke('settings.get', {}, { sender: window.webContents, senderFrame: new fake.FakeFrame('app://amalgam/index.html') })).toEqual(forbidden)
    expect(await invoke('settings.get', {}, { sender: window.webContents, senderFrame: null })).toEqual(forbidden)
    window.webContents.mainFrame.url = 'https://evil.example/'
    expect(await invoke('settings.get', {}, { sender: window.webContents, senderFrame: window.webContents.mainFrame })).toEqual({
      ok: false,
      error: { code: 'FORBIDDEN', message: 'settings.get: the sending page (https://evil.example/) is not the app' },
    })
  })

  it('sends events to the window, skips it once destroyed, and shows merge progress on the taskbar', async () => {
    const { fake, window, recorded, invoke } = await startShell()
    recorded.library.notifyChanged()
    expect(window.webContents.sent).toEqual([{ channel: 'library.changed', payload: {} }])

    const child = Object.assign(new fake.Emitter(), { postMessage: vi.fn(), kill: vi.fn() })
    fake.utilityProcess.fork.mockReturnValue(child)
    const recipe = testRecipe('/o/m.safetensors')
    const started = (await invoke('merge.start', { recipe })) as { ok: true; value: { jobId: string } }
    expect(fake.utilityProcess.fork).toHaveBeenCalledWith(expect.stringMatching(/merge-host/), [], expect.objectContaining({ serviceName: 'Amalgam merge' }))
    const jobId = started.value.jobId
    child.emit('message', { type: 'ready' })
    expect(child.postMessage).toHaveBeenCalledWith({ type: 'run', jobId, recipe })
    child.emit('message', { type: 'event', jobId, event: { type: 'progress', phase: 'merging', index: 1, total: 4, key: 'k', bytesDone: 50, bytesTotal: 200, elapsedMs: 1, etaMs: 3 } })
    child.emit('message', { type: 'event', jobId, event: { type: 'done', path: '/o/m.safetensors', lineagePath: '/o/m.lineage.json', durationMs: 4, lineage: testLineage(recipe) } })
    expect(window.progress).toEqual([0.25, -1])
    expect(window.webContents.sent.filter((m) => m.channel === 'merge.event').map((m) => (m.payload as { event: { type: string } }).event.type)).toEqual(['progress', 'done'])

    window.webContents.destroyed = true
    const before = window.webContents.sent.length
    recorded.library.notifyChanged()
    expect(window.webContents.sent).toHaveLength(before)
  })

  it('has a File menu with Add Library Folder and Open Recipe, plus Edit, View and Help', async () => {
    const { fake } = await startShell()
    const template = fake.menus[0]!.template as { label?: string; role?: string; submenu?: { label?: string }[] }[]
    const file = template.find((m) => m.label === 'File')!
    expect(file.submenu!.map((i) => i.label).filter(Boolean)).toEqual(['Add Library Folder…', 'Open Recipe…'])
    expect(template.map((m) => m.label ?? m.role)).toEqual(expect.arrayContaining(['File', 'editMenu', 'View', 'help']))
  })

  it('stops the merge host before quitting', async () => {
    const { fake } = await startShell()
    const preventDefault = vi.fn()
    fake.app.emit('will-quit', { preventDefault })
    expect(preventDefault).toHaveBeenCalled()
    await until(() => fake.app.quit.mock.calls.length > 0)
    // the second will-quit (from that quit) goes through
    const again = vi.fn()
    fake.app.emit('will-quit', { preventDefault: again })
    expect(again).not.toHaveBeenCalled()
  })

  it('a second instance quits at once and leaves the first alone', async () => {
    const { fake } = await startShell({ singleInstance: false })
    expect(fake.app.quit).toHaveBeenCalled()
    expect(fake.BrowserWindow.created).toEqual([])
    expect(fake.ipcHandlers.size).toBe(0)
  })
})
