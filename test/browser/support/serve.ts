import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startServer, type RunningServer } from '../../../src-main/server/http-server'
import { createAppServices, type AppServices } from '../../../src-main/services/app-services'
import type { DesktopIntegration, EngineBackends } from '../../../src-main/services/backends'
import { createEngineBackends } from '../../../src-main/services/engine-backends'
import { forkLauncher, type MergeHostLauncher } from '../../../src-main/services/merge-host-launcher'
import { openConfStore } from '../../../src-main/services/store'
import type { PersistedData } from '../../../src-main/services/validated-store'
import { startServeApp } from '../../../src-main/server/serve-app'
import { buildRenderer } from './build-renderer'
import { openPage, type OpenPage } from './browser'
import { scriptedEngine } from './scripted-engine'

function scriptedHost(): MergeHostLauncher {
  return forkLauncher({ filename: resolve(import.meta.dirname, 'scripted-merge-host.ts'), execArgv: ['--import', 'tsx'] })
}

export interface Amalgam extends OpenPage {
  /** the app's real services, for checking what the page did (saved presets, history) */
  readonly services: AppServices
  readonly server: RunningServer
  /** a fresh, empty folder for models and outputs */
  readonly workDir: string
  /** what the server reported (store problems and the like) */
  readonly reports: string[]
}

export interface AmalgamOptions {
  /** 'scripted': the scripted engine and merge host behind the services; 'real': the engine's own */
  engine: 'scripted' | 'real'
  libraries?: (workDir: string) => string[]
  /**
   * Serve the desktop app's services instead (app.status says "electron"), with these stand-ins for
   * the native dialogs: the page still talks HTTP, but takes its desktop-only paths (native open
   * dialog, reveal in folder). Only drops of OS files stay untested: their path needs Electron.
   */
  desktop?: (workDir: string) => DesktopIntegration
}

/**
 * `amalgam serve` in-process (the real services and HTTP server, on the built renderer) with a
 * fresh data folder, and Chromium on its address.
 */
export async function openAmalgam(options: AmalgamOptions): Promise<Amalgam> {
  const rendererRoot = await buildRenderer()
  const workDir = mkdtempSync(join(tmpdir(), 'amalgam-browser-'))
  const dataDir = join(workDir, '.data')
  const reports: string[] = []
  const report = (message: string): void => void reports.push(message)
  const backends = options.engine === 'real' ? await createEngineBackends({ dataDir, report }) : scriptedEngine().backends
  const launcher = options.engine === 'real' ? forkLauncher() : scriptedHost()
  const libraries = options.libraries?.(workDir) ?? []
  const running = options.desktop
    ? await startDesktopServices({ dataDir, backends, report, launcher, rendererRoot, libraries, desktop: options.desktop(workDir) })
    : await startServeApp({ libraries, dataDir, backends, report, launcher, rendererRoot, cancelGraceMs: 2000 })
  let opened: OpenPage
  try {
    opened = await openPage(running.server.url)
  } catch (err) {
    await running.stop()
    throw err
  }
  return {
    ...opened,
    services: running.services,
    server: running.server,
    workDir,
    reports,
    async close() {
      await opened.close()
      await running.stop()
      rmSync(workDir, { recursive: true, force: true })
    },
  }
}

interface Running {
  readonly services: AppServices
  readonly server: RunningServer
  stop(): Promise<void>
}

/** The desktop app's composition (mode "electron") behind the HTTP server, for the page's desktop paths. */
async function startDesktopServices(options: {
  dataDir: string
  backends: EngineBackends
  report: (message: string) => void
  launcher: MergeHostLauncher
  rendererRoot: string
  libraries: readonly string[]
  desktop: DesktopIntegration
}): Promise<Running> {
  const services = createAppServices({
    mode: 'electron',
    desktop: options.desktop,
    version: '0.0.0-desktop-test',
    store: openConfStore<PersistedData>(options.dataDir, options.report),
    dataDir: options.dataDir,
    launcher: options.launcher,
    backends: options.backends,
    report: options.report,
    cancelGraceMs: 2000,
  })
  for (const folder of options.libraries) await services.library.addFolder(folder)
  const server = await startServer({ dispatcher: services.dispatcher, events: services.events, rendererRoot: options.rendererRoot })
  return {
    services,
    server,
    async stop() {
      await server.close()
      await services.shutdown()
    },
  }
}
