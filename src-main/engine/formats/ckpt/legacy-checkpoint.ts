import type { FileHandle } from 'node:fs/promises'
import { fileError } from '../../errors'
import { readAt } from '../file-io'
import { PyDict, PyList, PyTuple, TorchStorage, type PyObject, type PyValue } from './pickle-values'
import { asText, count, persistentIdParts, storageDType, torchHooks } from './torch-builders'
import { MAX_PICKLE_BYTES, type LoadedPickle } from './torch-container'
import type { StorageExtent } from './tensor-locators'
import { NeedMoreBytes, PickleProblem, unpickle } from './unpickler'

/*
 * The pre-zip format (torch < 1.6, or _use_new_zipfile_serialization=False): five pickles back to
 * back — magic number, protocol version, system info, the checkpoint, the list of storage keys —
 * then each storage in that order as an 8-byte element count followed by its raw bytes. The
 * storages' offsets are found by walking those counts; nothing is read but the counts.
 */

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn
const PROTOCOL_VERSION = 1001
/** Most legacy files' pickles fit here; bigger ones are read again with a larger window. */
const FIRST_WINDOW = 1 << 20

export async function readLegacyCheckpoint(handle: FileHandle, path: string, fileSize: number): Promise<LoadedPickle> {
  let window = Math.min(fileSize, FIRST_WINDOW)
  for (;;) {
    const bytes = await readAt(handle, window, 0)
    if (bytes.length !== window) throw fileError('FILE_UNREADABLE', path, 'the file shrank while it was read')
    try {
      const pickles = readPickles(path, bytes, window === fileSize)
      const extents = await walkStorages(handle, path, fileSize, bytes, pickles)
      return {
        root: pickles.root,
        placeholders: pickles.placeholders,
        byteOrder: pickles.byteOrder,
        storageExtents: (keys) => Promise.resolve(pickExtents(path, extents, keys)),
      }
    } catch (err) {
      if (!(err instanceof NeedMoreBytes)) throw err
      if (window >= MAX_PICKLE_BYTES) throw fileError('BAD_PICKLE', path, `the pickles at the start of the file are larger than the ${MAX_PICKLE_BYTES}-byte limit`)
      window = Math.min(fileSize, window * 8, MAX_PICKLE_BYTES)
    }
  }
}

interface LegacyPickles {
  readonly root: PyValue
  readonly placeholders: readonly PyObject[]
  readonly byteOrder: 'little' | 'big'
  /** root storages by key, as the checkpoint pickle named them */
  readonly storages: ReadonlyMap<string, TorchStorage>
  readonly storageKeys: readonly string[]
  /** where the storage records start */
  readonly end: number
}

function readPickles(path: string, bytes: Uint8Array, complete: boolean): LegacyPickles {
  const placeholders: PyObject[] = []
  const roots = new Map<string, TorchStorage>()
  const views = new Map<string, TorchStorage>()
  const hooks = torchHooks((pid) => legacyPersistentLoad(pid, roots, views), placeholders)
  let at = 0
  const next = (label: string): PyValue => {
    const { value, end } = unpickle(bytes, at, { file: path, label, hooks, complete })
    at = end
    return value
  }
  const magic = next('the first pickle')
  if (magic !== MAGIC_NUMBER) throw fileError('UNSUPPORTED_FORMAT', path, 'is a Python pickle but not a torch checkpoint (no torch magic number)')
  const version = next('the protocol version pickle')
  if (version !== PROTOCOL_VERSION) throw fileError('UNSUPPORTED_FORMAT', path, `is a legacy torch checkpoint of protocol version ${String(version)}, not ${PROTOCOL_VERSION}`)
  const sysInfo = next('the system info pickle')
  const littleEndian = sysInfo instanceof PyDict ? sysInfo.get('little_endian') : undefined
  const root = next('the checkpoint pickle')
  const keyList = next('the storage key pickle')
  if (!(keyList instanceof PyList)) throw fileError('BAD_PICKLE', path, 'the storage key pickle is not a list')
  const storageKeys = keyList.items.map((key) => (typeof key === 'string' ? key : ''))
  if (storageKeys.includes('')) throw fileError('BAD_PICKLE', path, 'the storage key list holds something other than names')
  return { root, placeholders, byteOrder: littleEndian === false ? 'big' : 'little', storages: roots, storageKeys, end: at }
}

/** ('storage', type, root key, location, numel, view) or ('module', class, source file, source). */
function legacyPersistentLoad(pid: PyValue, roots: Map<string, TorchStorage>, views: Map<string, TorchStorage>): PyValue {
  const { typename, fields } = persistentIdParts(pid)
  // a pickled nn.Module class, saved with its source for a change check: the class is all we keep
  if (typename === 'module') return fields[0] ?? null
  if (typename !== 'storage') throw new PickleProblem(`persistent id of type ${JSON.stringify(typename)}, not 'storage' or 'module'`)
  if (fields.length !== 5) throw new PickleProblem(`a storage persistent id has ${fields.length + 1} items, not 6`)
  const [type, rootKey, , numel, view] = fields
  const dtype = storageDType(type)
  const key = asText('storage key', rootKey!)
  let root = roots.get(key)
  if (root === undefined) {
    root = new TorchStorage(key, dtype, count('storage persistent id', 'numel', numel), 0)
    roots.set(key, root)
  }
  if (view === null) return root
  // (view key, offset, size): a storage view of torch < 0.4, in elements of the pid's dtype
  if (!(view instanceof PyTuple) || view.items.length !== 3) throw new PickleProblem('a storage view is not (key, offset, size)')
  const [viewKey, offset, size] = view.items
  const name = asText('storage view key', viewKey!)
  let storage = views.get(name)
  if (storage === undefined) {
    storage = new TorchStorage(key, dtype, count('storage view', 'size', size), count('storage view', 'offset', offset) * dtype.size)
    views.set(name, storage)
  }
  return storage
}

function pickExtents(path: string, extents: ReadonlyMap<string, StorageExtent>, keys: ReadonlySet<string>): Map<string, StorageExtent> {
  const picked = new Map<string, StorageExtent>()
  for (const key of keys) {
    const extent = extents.get(key)
    if (extent === undefined) throw fileError('BAD_HEADER', path, `storage ${JSON.stringify(key)} is used by the checkpoint but not stored in the file`)
    picked.set(key, extent)
  }
  return picked
}

async function walkStorages(handle: FileHandle, path: string, fileSize: number, bytes: Uint8Array, pickles: LegacyPickles): Promise<Map<string, StorageExtent>> {
  const extents = new Map<string, StorageExtent>()
  let position = pickles.end
  for (const key of pickles.storageKeys) {
    const storage = pickles.storages.get(key)
    if (storage === undefined) throw fileError('BAD_PICKLE', path, `the storage key list names ${JSON.stringify(key)}, which the checkpoint never uses`)
    const header = position + 8 <= bytes.length ? bytes.subarray(position, position + 8) : await readAt(handle, 8, position)
    if (header.length !== 8) throw fileError('BAD_HEADER', path, `storage ${JSON.stringify(key)} is missing: the file is truncated`)
    const declared = new DataView(header.buffer, header.byteOffset, 8).getBigUint64(0, pickles.byteOrder === 'little')
    if (declared !== BigInt(storage.numel)) {
      throw fileError('BAD_HEADER', path, `storage ${JSON.stringify(key)} holds ${declared} elements in the file but ${storage.numel} in the pickle`)
    }
    const offset = position + 8
    position = offset + storage.byteLength
    if (position > fileSize) throw fileError('BAD_HEADER', path, `storage ${JSON.stringify(key)} (${storage.byteLength} bytes at ${offset}) runs past the end of the file: it is truncated`)
    extents.set(key, { offset, byteLength: storage.byteLength })
  }
  return extents
}
