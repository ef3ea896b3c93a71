import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { dirname, extname, isAbsolute, join, resolve } from 'node:path'
import type { FileListing } from '../common/ipc'
import { AmalgamError } from '../engine/errors'

/** Files the library can read as one checkpoint. */
const CHECKPOINT_EXTENSIONS = new Set(['.safetensors', '.ckpt', '.pt'])

export interface FilesService {
  /**
   * One folder, for the browser-mode file picker (a page cannot open native dialogs or learn local
   * paths): folders first, then files, each by name; checkpoints and model folders marked.
   * No path = the home folder.
   */
  list(path?: string): Promise<FileListing>
}

type Entry = FileListing['entries'][number]

export function createFiles(home: string): FilesService {
  return {
    async list(path) {
      if (path !== undefined && !isAbsolute(path)) throw new AmalgamError('BAD_ARGUMENT', `${path}: not an absolute path`)
      const folder = resolve(path ?? home)
      const dirents = await readFolder(folder)
      const entries = (await Promise.all(dirents.map((d) => describe(folder, d)))).filter((e): e is Entry => e !== null)
      entries.sort((x, y) => (x.kind === y.kind ? x.name.localeCompare(y.name, undefined, { numeric: true, sensitivity: 'base' }) : x.kind === 'dir' ? -1 : 1))
      const parent = dirname(folder)
      return { path: folder, parent: parent === folder ? null : parent, entries }
    },
  }
}

async function readFolder(folder: string): Promise<Dirent[]> {
  try {
    return await readdir(folder, { withFileTypes: true })
  } catch (err) {
    throw listingError(folder, err)
  }
}

function listingError(folder: string, err: unknown): AmalgamError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return new AmalgamError('FILE_NOT_FOUND', `${folder}: no such folder`, folder)
  if (code === 'ENOTDIR') return new AmalgamError('BAD_ARGUMENT', `${folder}: is a file, not a folder`, folder)
  if (code === 'EACCES' || code === 'EPERM') return new AmalgamError('FILE_UNREADABLE', `${folder}: permission denied`, folder)
  return new AmalgamError('FILE_UNREADABLE', `${folder}: cannot be listed (${code ?? (err as Error).message})`, folder)
}

/** Symlinks are followed (model folders often link into a shared store); broken links and sockets are left out. */
async function describe(folder: string, dirent: Dirent): Promise<Entry | null> {
  const path = join(folder, dirent.name)
  let info
  try {
    info = dirent.isSymbolicLink() ? await stat(path) : dirent
  } catch {
    return null
  }
  if (info.isDirectory()) return { name: dirent.name, path, kind: 'dir', size: null, checkpoint: await isModelFolder(path) }
  if (!info.isFile()) return null
  const size = 'size' in info ? info.size : await fileSize(path)
  return { name: dirent.name, path, kind: 'file', size, checkpoint: CHECKPOINT_EXTENSIONS.has(extname(dirent.name).toLowerCase()) }
}

async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size
  } catch {
    return null
  }
}

/**
 * A folder the library reads as one model: a diffusers pipeline (model_index.json) or a Hugging Face
 * model (config.json next to safetensors weights or their shard index).
 */
async function isModelFolder(path: string): Promise<boolean> {
  let names: string[]
  try {
    names = await readdir(path)
  } catch {
    return false
  }
  if (names.includes('model_index.json')) return true
  return names.includes('config.json') && names.some((n) => n.endsWith('.safetensors') || n.endsWith('.safetensors.index.json'))
}
