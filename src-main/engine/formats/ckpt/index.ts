import type { FileHandle } from 'node:fs/promises'
import { fileError } from '../../errors'
import type { Checkpoint } from '../checkpoint'
import type { PyObject } from './pickle-values'
import { readAt, readFileWith } from '../file-io'
import { readLegacyCheckpoint } from './legacy-checkpoint'
import { findStateDict, listNames } from './state-dict'
import type { LoadedPickle } from './torch-container'
import { locateTensors } from './tensor-locators'
import { readZipCheckpoint } from './zip-checkpoint'

/**
 * Opens a PyTorch checkpoint (.ckpt / .pt / .pth / .bin written by torch.save, zip or legacy
 * format) without running it: the pickle is read by our own unpickler, which builds data only and
 * refuses files that name dangerous functions (HOSTILE_PICKLE). Returns the state dict's tensors
 * as locators into the file; no tensor data is read.
 */
export async function openCkpt(path: string): Promise<Checkpoint> {
  return readFileWith(path, (handle) => readCheckpoint(path, handle))
}

async function readCheckpoint(path: string, handle: FileHandle): Promise<Checkpoint> {
  const stat = await handle.stat()
  if (!stat.isFile()) throw fileError('FILE_UNREADABLE', path, 'is not a regular file')
  const fileSize = stat.size
  if (fileSize === 0) throw fileError('BAD_HEADER', path, 'is empty')
  const head = await readAt(handle, Math.min(fileSize, 512), 0)
  const loaded = await readContainer(handle, path, fileSize, head)
  const stateDict = findStateDict(path, loaded.root)
  const extents = await loaded.storageExtents(new Set(stateDict.tensors.map(([, tensor]) => tensor.storage.key)))
  const { tensors, unsupported } = locateTensors(path, stateDict.tensors, extents, loaded.byteOrder)
  const notes = [...stateDict.notes]
  const ignored = loaded.placeholders.filter((object) => !stateDict.modules.has(object))
  if (ignored.length > 0) notes.push(ignoredObjectsNote(ignored))
  return {
    path,
    format: 'ckpt',
    fileSize,
    tensors,
    metadata: {},
    ...(unsupported.length > 0 ? { unsupported: `unsupported: ${unsupported.join(', ')}` } : {}),
    notes,
  }
}

function readContainer(handle: FileHandle, path: string, fileSize: number, head: Uint8Array): Promise<LoadedPickle> {
  // "PK\3\4": a zip archive (torch ≥ 1.6)
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return readZipCheckpoint(handle, path, fileSize)
  // PROTO (protocol 2+) or LONG (protocols 0–1): the magic-number pickle of the legacy format
  if (head[0] === 0x80 || head[0] === 0x4c) return readLegacyCheckpoint(handle, path, fileSize)
  if (Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar') {
    throw fileError('UNSUPPORTED_FORMAT', path, 'is a tar-based torch checkpoint (torch ≤ 0.3), which Amalgam does not read; load and save it again with a newer torch')
  }
  throw fileError('UNSUPPORTED_FORMAT', path, 'is not a torch checkpoint: it is neither a zip archive nor a torch pickle')
}

function ignoredObjectsNote(ignored: readonly PyObject[]): string {
  const names = new Set(ignored.map((object) => object.type.qualifiedName))
  return `ignored ${ignored.length} non-tensor objects: ${listNames([...names])}`
}
