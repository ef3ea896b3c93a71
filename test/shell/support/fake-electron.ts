import { vi } from 'vitest'

/*
 * Just enough of Electron's main-process API for the shell to run in Node: everything records what
 * the shell did. Used through `vi.mock('electron', ...)`, so the real electron module (which tries to
 * download a binary when evaluated) is never loaded.
 */

type Listener = (...args: unknown[]) => unknown

export class Emitter {
  readonly listeners = new Map<string, Listener[]>()
  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener])
    return this
  }
  once(event: string, listener: Listener): this {
    return this.on(event, listener)
  }
  emit(event: string, ...args: unknown[]): unknown[] {
    return (this.listeners.get(event) ?? []).map((l) => l(...args))
  }
}

export class FakeFrame {
  constructor(public url: string) {}
}

let nextContentsId = 1

export class FakeWebContents extends Emitter {
  readonly id = nextContentsId++
  readonly mainFrame = new FakeFrame('app://amalgam/index.html')
  readonly sent: { channel: string; payload: unknown }[] = []
  destroyed = false
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload })
  }
  isDestroyed(): boolean {
    return this.destroyed
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler
  }
}

export class BrowserWindow extends Emitter {
  static readonly created: BrowserWindow[] = []
  readonly webContents = new FakeWebContents()
  readonly loaded: string[] = []
  readonly progress: number[] = []
  constructor(readonly options: { webPreferences: Record<string, unknown> } & Record<string, unknown>) {
    super()
    BrowserWindow.created.push(this)
  }
  async loadURL(url: string): Promise<void> {
    this.loaded.push(url)
  }
  setProgressBar(value: number): void {
    this.progress.push(value)
  }
  isDestroyed(): boolean {
    return false
  }
  isMinimized(): boolean {
    return false
  }
  restore(): void {}
  focus(): void {}
  show(): void {}
}

export const state = {
  singleInstance: true,
  userData: '/tmp/amalgam-shell-test',
}

export const app = Object.assign(new Emitter(), {
  requestSingleInstanceLock: vi.fn(() => state.singleInstance),
  quit: vi.fn(),
  exit: vi.fn(),
  whenReady: () => Promise.resolve(),
  getPath: (name: string) => (name === 'userData' ? state.userData : `/tmp/${name}`),
  getVersion: () => '1.2.3',
  isPackaged: false,
  showAboutPanel: vi.fn(),
})

export const schemes: unknown[] = []
export const protocolHandlers = new Map<string, (request: Request) => Promise<Response>>()
export const protocol = {
  registerSchemesAsPrivileged: (list: unknown[]) => void schemes.push(...list),
  handle: (scheme: string, handler: (request: Request) => Promise<Response>) => void protocolHandlers.set(scheme, handler),
}

export const permissionHandlers: { request: Listener | null; check: Listener | null } = { request: null, check: null }
export const session = {
  defaultSession: {
    setPermissionRequestHandler: (handler: Listener) => void (permissionHandlers.request = handler),
    setPermissionCheckHandler: (handler: Listener) => void (permissionHandlers.check = handler),
  },
}

export const ipcHandlers = new Map<string, Listener>()
export const ipcMain = {
  handle: (channel: string, handler: Listener) => {
    if (ipcHandlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
    ipcHandlers.set(channel, handler)
  },
}

export const menus: { template: unknown }[] = []
export const Menu = {
  buildFromTemplate: (template: unknown) => ({ template }),
  setApplicationMenu: (menu: { template: unknown }) => void menus.push(menu),
}

export const dialog = {
  showOpenDialog: vi.fn(async (..._args: unknown[]) => ({ canceled: false, filePaths: ['/picked'] })),
  showSaveDialog: vi.fn(async (..._args: unknown[]) => ({ canceled: true, filePath: '' })),
  showErrorBox: vi.fn(),
}

export const shell = { showItemInFolder: vi.fn() }

export const utilityProcess = { fork: vi.fn() }

/** electron-store: an in-memory store that records how it was opened. */
export const storeOptions: unknown[] = []
export class FakeElectronStore {
  private readonly values = new Map<string, unknown>()
  readonly path: string
  constructor(options: { cwd: string }) {
    storeOptions.push(options)
    this.path = `${options.cwd}/config.json`
  }
  get(key: string): unknown {
    return structuredClone(this.values.get(key))
  }
  set(key: string, value: unknown): void {
    this.values.set(key, structuredClone(value))
  }
}

/** Forgets everything a previous shell registered, so each test starts a shell on a clean Electron. */
export function resetFakeElectron(): void {
  app.listeners.clear()
  for (const fn of [app.requestSingleInstanceLock, app.quit, app.exit, app.showAboutPanel, dialog.showOpenDialog, dialog.showSaveDialog, dialog.showErrorBox, shell.showItemInFolder, utilityProcess.fork]) fn.mockClear()
  BrowserWindow.created.splice(0)
  schemes.splice(0)
  protocolHandlers.clear()
  permissionHandlers.request = null
  permissionHandlers.check = null
  ipcHandlers.clear()
  menus.splice(0)
  storeOptions.splice(0)
}
