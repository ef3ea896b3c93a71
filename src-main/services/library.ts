import { mkdir, stat } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import type { LibrarySnapshot, ModelDetails } from '../common/ipc'
import { AmalgamError } from '../engine/errors'
import type { LibraryBackend } from './backends'
import type { EventHub } from './events'
import type { SettingsService } from './settings'

export interface LibraryService {
  list(): LibrarySnapshot
  /** an existing folder, absolute; saved in the settings */
  addFolder(path: string): Promise<LibrarySnapshot>
  removeFolder(path: string): LibrarySnapshot
  rescan(): LibrarySnapshot
  inspect(path: string): Promise<ModelDetails>
  hash(paths: readonly string[]): void
  /** writes the demo checkpoints (into `folder`, or the app's own demo folder) and adds that folder */
  createDemo(folder?: string): Promise<LibrarySnapshot>
  dispose(): void
}

export interface LibraryServiceOptions {
  backend: LibraryBackend
  settings: SettingsService
  events: EventHub
  /** where demo models go when no folder is given */
  demoFolder: string
}

/**
 * The settings hold the library folders (one source of truth, persisted); this service keeps the
 * engine's library in step with them and relays its notifications as contract events.
 */
export function createLibrary({ backend, settings, events, demoFolder }: LibraryServiceOptions): LibraryService {
  backend.setFolders(settings.get().libraryFolders)
  const stopSettings = settings.onChange((next, previous) => {
    if (next.libraryFolders.join('\0') === previous.libraryFolders.join('\0')) return
    backend.setFolders(next.libraryFolders)
    events.emit('library.changed', {})
  })
  const stopBackend = backend.subscribe({
    changed: () => events.emit('library.changed', {}),
    progress: (progress) => events.emit('library.progress', progress),
  })

  async function add(path: string): Promise<void> {
    const folder = await existingFolder(path)
    const folders = settings.get().libraryFolders
    if (!folders.includes(folder)) settings.update({ libraryFolders: [...folders, folder] })
  }

  return {
    list: () => backend.snapshot(),
    async addFolder(path) {
      await add(path)
      return backend.snapshot()
    },
    removeFolder(path) {
      const folder = resolve(path)
      const folders = settings.get().libraryFolders
      if (!folders.includes(folder)) throw new AmalgamError('BAD_ARGUMENT', `${path}: is not a library folder`)
      settings.update({ libraryFolders: folders.filter((f) => f !== folder) })
      return backend.snapshot()
    },
    rescan() {
      backend.rescan()
      return backend.snapshot()
    },
    inspect: (path) => backend.inspect(path),
    hash: (paths) => backend.hash(paths),
    async createDemo(folder = demoFolder) {
      if (!isAbsolute(folder)) throw new AmalgamError('BAD_ARGUMENT', `${folder}: not an absolute path`)
      await mkdir(folder, { recursive: true })
      await backend.createDemo(folder)
      const before = settings.get().libraryFolders
      await add(folder)
      // a folder already in the library is not rescanned by the settings change
      if (before.includes(resolve(folder))) backend.rescan()
      return backend.snapshot()
    },
    dispose() {
      stopSettings()
      stopBackend()
    },
  }
}

async function existingFolder(path: string): Promise<string> {
  if (!isAbsolute(path)) throw new AmalgamError('BAD_ARGUMENT', `${path}: not an absolute path`)
  const folder = resolve(path)
  let isFolder: boolean
  try {
    isFolder = (await stat(folder)).isDirectory()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new AmalgamError('FILE_NOT_FOUND', `${folder}: no such folder`, folder)
    throw new AmalgamError('FILE_UNREADABLE', `${folder}: cannot be read (${code ?? (err as Error).message})`, folder)
  }
  if (!isFolder) throw new AmalgamError('BAD_ARGUMENT', `${folder}: is a file, not a folder`, folder)
  return folder
}
