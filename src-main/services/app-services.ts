import { homedir } from 'node:os'
import { join } from 'node:path'
import { METHODS } from '../engine/methods/registry'
import { methodInfo } from '../engine/methods/types'
import { AmalgamError } from '../engine/errors'
import type { DesktopIntegration, EngineBackends } from './backends'
import { createDispatcher, type Dispatcher, type Handlers } from './dispatch'
import { createEventHub, type EventHub } from './events'
import { createFiles, type FilesService } from './files'
import { createHistory, type HistoryService } from './history'
import { createLibrary, type LibraryService } from './library'
import { createMergeJobs, type MergeJobs } from './merge-jobs'
import type { MergeHostLauncher } from './merge-host-launcher'
import { createPresets, type PresetsService } from './presets'
import { createSettings, type SettingsService } from './settings'
import { createStatus } from './status'
import type { ProblemReporter } from './store'
import type { AppStore } from './validated-store'

/** The desktop app has native dialogs; `amalgam serve` (a browser on 127.0.0.1) does not. */
export type AppMode = { readonly mode: 'electron'; readonly desktop: DesktopIntegration } | { readonly mode: 'serve' }

export type AppServicesOptions = AppMode & {
  readonly version: string
  readonly store: AppStore
  /** the app's data folder; demo models are written to `<dataDir>/demo-models` */
  readonly dataDir: string
  readonly launcher: MergeHostLauncher
  readonly backends: EngineBackends
  readonly report: ProblemReporter
  /** where the file browser starts (default: the user's home) */
  readonly home?: string
  readonly cancelGraceMs?: number
}

export interface AppServices {
  readonly handlers: Handlers
  readonly dispatcher: Dispatcher
  readonly events: EventHub
  readonly settings: SettingsService
  readonly presets: PresetsService
  readonly history: HistoryService
  readonly library: LibraryService
  readonly files: FilesService
  readonly mergeJobs: MergeJobs
  /** stops merges and listeners (app quit, server close) */
  shutdown(): Promise<void>
}

/** The one composition root: the Electron shell and `amalgam serve` both build the app with it. */
export function createAppServices(options: AppServicesOptions): AppServices {
  const { store, report, backends } = options
  const events = createEventHub({ report })
  const settings = createSettings(store, report)
  const presets = createPresets(store, report)
  const history = createHistory(store, report)
  const files = createFiles(options.home ?? homedir())
  const library = createLibrary({ backend: backends.library, settings, events, demoFolder: join(options.dataDir, 'demo-models') })
  const mergeJobs = createMergeJobs({ launcher: options.launcher, events, history, report, ...(options.cancelGraceMs === undefined ? {} : { cancelGraceMs: options.cancelGraceMs }) })
  const desktop = options.mode === 'electron' ? options.desktop : browserModeDesktop
  const status = createStatus({ version: options.version, mode: options.mode, planner: backends.planner })

  // a finished merge usually lands in a library folder: show it there
  const stopRescan = events.subscribe((message) => {
    if (message.channel === 'merge.event' && message.payload.event.type === 'done') backends.library.rescan()
  })

  const handlers: Handlers = {
    'app.status': () => status(),
    'settings.get': async () => settings.get(),
    'settings.update': async (patch) => settings.update(patch),
    'library.list': async () => library.list(),
    'library.addFolder': ({ path }) => library.addFolder(path),
    'library.removeFolder': async ({ path }) => library.removeFolder(path),
    'library.rescan': async () => library.rescan(),
    'library.inspect': ({ path }) => library.inspect(path),
    'library.hash': async ({ paths }) => {
      library.hash(paths)
      return {}
    },
    'library.createDemo': ({ folder }) => library.createDemo(folder),
    'methods.list': async () => METHODS.map(methodInfo),
    'architecture.info': (request) => backends.architecture.info(request),
    'merge.preview': ({ recipe }) => backends.planner.preview(recipe),
    'merge.start': async ({ recipe }) => ({ jobId: mergeJobs.start(recipe) }),
    'merge.cancel': async ({ jobId }) => {
      mergeJobs.cancel(jobId)
      return {}
    },
    'presets.list': async () => presets.list(),
    'presets.save': async ({ preset }) => presets.save(preset),
    'presets.rename': async ({ id, name }) => presets.rename(id, name),
    'presets.delete': async ({ id }) => {
      presets.delete(id)
      return {}
    },
    'presets.import': async ({ json }) => presets.import(json),
    'history.list': async () => history.list(),
    'history.delete': async ({ id }) => {
      history.delete(id)
      return {}
    },
    'files.list': ({ path }) => files.list(path),
    'files.reveal': async ({ path }) => {
      await desktop.reveal(path)
      return {}
    },
    'dialog.open': async (request) => ({ paths: await desktop.openDialog(request) }),
    'dialog.save': async (request) => ({ path: await desktop.saveDialog(request) }),
  }

  return {
    handlers,
    dispatcher: createDispatcher(handlers, report),
    events,
    settings,
    presets,
    history,
    library,
    files,
    mergeJobs,
    async shutdown() {
      stopRescan()
      library.dispose()
      await mergeJobs.shutdown()
      events.dispose()
    },
  }
}

const notInBrowser = (what: string): AmalgamError =>
  new AmalgamError('NOT_AVAILABLE', `${what} is not available in browser mode (amalgam serve); use the desktop app, or type or browse the path in the page`)

/** Under `amalgam serve` the page is a browser tab: no native dialogs, no file manager. */
const browserModeDesktop: DesktopIntegration = {
  openDialog: () => Promise.reject(notInBrowser('a native open dialog')),
  saveDialog: () => Promise.reject(notInBrowser('a native save dialog')),
  reveal: (path) => Promise.reject(notInBrowser(`showing ${path} in the file manager`)),
}
