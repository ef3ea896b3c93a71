import { app, dialog, Menu, session, type BrowserWindow } from 'electron'
import { describeError } from '../engine/errors'
import { createAppServices, type AppServices } from '../services/app-services'
import type { CreateEngineBackends } from '../services/backends'
import { createMenuActions } from '../services/menu-actions'
import { taskbarProgress } from '../services/taskbar-progress'
import { APP_URL, registerAppScheme, serveRenderer } from './app-scheme'
import { electronDesktop } from './desktop'
import { openElectronStore } from './electron-store'
import { denyAllPermissions, hardenAllWebContents } from './hardening'
import { forwardEvents, registerIpc } from './ipc'
import { buildAppMenu } from './menu'
import { utilityLauncher } from './utility-launcher'
import { createMainWindow } from './window'

export interface ShellPaths {
  /** the preload bundle (out/preload/index.cjs) */
  readonly preload: string
  /** the built renderer (out/renderer) */
  readonly rendererRoot: string
}

/**
 * The desktop app: Electron glue around the same services `amalgam serve` uses. One instance; one
 * hardened window showing app://amalgam/; IPC through the dispatcher for that window only.
 */
export function runShell(paths: ShellPaths, createEngineBackends: CreateEngineBackends): void {
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }
  registerAppScheme()
  hardenAllWebContents()
  const report = (message: string): void => console.error(`amalgam: ${message}`)
  const trusted = new Set<number>()
  let window: BrowserWindow | null = null
  let services: AppServices | null = null

  app.on('second-instance', () => {
    if (!window) return
    if (window.isMinimized()) window.restore()
    window.focus()
  })
  app.on('window-all-closed', () => app.quit())
  app.on('will-quit', (event) => {
    const running = services
    if (!running) return
    // stop the merge host (and record an interrupted merge as cancelled) before exiting
    services = null
    event.preventDefault()
    void running.shutdown().finally(() => app.quit())
  })

  async function start(): Promise<void> {
    denyAllPermissions(session.defaultSession)
    serveRenderer(paths.rendererRoot)
    const dataDir = app.getPath('userData')
    const desktop = electronDesktop(() => window)
    const started = createAppServices({
      mode: 'electron',
      desktop,
      version: app.getVersion(),
      store: openElectronStore(dataDir, report),
      dataDir,
      launcher: utilityLauncher(),
      backends: await createEngineBackends({ dataDir, report }),
      report,
    })
    services = started
    registerIpc(started.dispatcher, trusted, report)
    const actions = createMenuActions({ desktop, library: started.library, events: started.events, showError: (title, message) => dialog.showErrorBox(title, message) })
    Menu.setApplicationMenu(buildAppMenu(actions))

    const win = createMainWindow(paths.preload)
    const contentsId = win.webContents.id
    window = win
    trusted.add(contentsId)
    win.on('closed', () => {
      trusted.delete(contentsId)
      window = null
    })
    forwardEvents(started.events, () => (window ? [window.webContents] : []))
    started.events.subscribe((message) => {
      if (message.channel !== 'merge.event' || !window || window.isDestroyed()) return
      const progress = taskbarProgress(message.payload.event)
      if (progress !== null) window.setProgressBar(progress)
    })
    await win.loadURL(APP_URL)
  }

  app
    .whenReady()
    .then(start)
    .catch((err: unknown) => {
      dialog.showErrorBox('Amalgam could not start', describeError(err))
      app.exit(1)
    })
}
