import type { FileHandle } from 'node:fs/promises'
import { fileError } from '../../errors'
import { TorchStorage, type PyObject, type PyValue } from './pickle-values'
import { asText, count, persistentIdParts, storageDType, torchHooks } from './torch-builders'
import { MAX_PICKLE_BYTES, type LoadedPickle } from './torch-container'
import type { StorageExtent } from './tensor-locators'
import { PickleProblem, unpickle } from './unpickler'
import { entryDataOffsets, METHOD_STORED, readEntry, readZipArchive, refuseEncrypted, type ZipArchive, type ZipEntry } from './zip-archive'

/*
 * torch.save's zip format (torch ≥ 1.6): <prefix>/data.pkl is the pickle, each storage is the
 * uncompressed entry <prefix>/data/<key>, <prefix>/byteorder (torch ≥ 2.1) says how its numbers
 * are stored. The prefix is "archive" or the file's stem, depending on the torch version and on
 * how the file was written, so it is taken from the one <prefix>/data.pkl entry.
 */

const PICKLE_ENTRY = /^[^/]+\/data\.pkl$/

export async function readZipCheckpoint(handle: FileHandle, path: string, fileSize: number): Promise<LoadedPickle> {
  const archive = await readZipArchive(handle, path, fileSize)
  const pickles = [...archive.entries.keys()].filter((name) => PICKLE_ENTRY.test(name))
  if (pickles.length === 0) throw fileError('BAD_ZIP', path, 'is a zip archive without a <name>/data.pkl entry: not a torch checkpoint')
  if (pickles.length > 1) throw fileError('BAD_ZIP', path, `holds several pickles (${pickles.slice(0, 3).join(', ')}): not a single torch checkpoint`)
  const pickleName = pickles[0]!
  const prefix = pickleName.slice(0, -'/data.pkl'.length)
  if (archive.entries.has(`${prefix}/constants.pkl`) || [...archive.entries.keys()].some((name) => name.startsWith(`${prefix}/code/`))) {
    throw fileError('UNSUPPORTED_FORMAT', path, 'is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save the model\'s state_dict() instead')
  }
  const byteOrder = await readByteOrder(handle, path, archive, prefix)
  const pickle = await readEntry(handle, path, archive, archive.entries.get(pickleName)!, MAX_PICKLE_BYTES)

  const placeholders: PyObject[] = []
  const storages = new Map<string, TorchStorage>()
  const persistentLoad = (pid: PyValue): PyValue => {
    const { typename, fields } = persistentIdParts(pid)
    if (typename !== 'storage') throw new PickleProblem(`persistent id of type ${JSON.stringify(typename)}; torch.save writes only 'storage'`)
    if (fields.length !== 4) throw new PickleProblem(`a storage persistent id has ${fields.length + 1} items, not 5`)
    const [type, key, , numel] = fields
    const dtype = storageDType(type)
    const name = asText('storage key', key!)
    // torch keeps the first storage loaded under a key
    const known = storages.get(name)
    if (known !== undefined) return known
    const storage = new TorchStorage(name, dtype, count('storage persistent id', 'numel', numel), 0)
    storages.set(name, storage)
    return storage
  }
  const { value: root } = unpickle(pickle, 0, { file: path, label: pickleName, hooks: torchHooks(persistentLoad, placeholders), complete: true })
  return {
    root,
    placeholders,
    byteOrder,
    storageExtents: (keys) => storageExtents(handle, path, archive, prefix, keys),
  }
}

async function readByteOrder(handle: FileHandle, path: string, archive: ZipArchive, prefix: string): Promise<'little' | 'big'> {
  const entry = archive.entries.get(`${prefix}/byteorder`)
  if (entry === undefined) return 'little'
  const text = Buffer.from(await readEntry(handle, path, archive, entry, 16)).toString('latin1')
  if (text !== 'little' && text !== 'big') throw fileError('BAD_ZIP', path, `${entry.name} says ${JSON.stringify(text)}, not "little" or "big"`)
  return text
}

async function storageExtents(handle: FileHandle, path: string, archive: ZipArchive, prefix: string, keys: ReadonlySet<string>): Promise<Map<string, StorageExtent>> {
  const entries = new Map<string, ZipEntry>()
  for (const key of keys) {
    const name = `${prefix}/data/${key}`
    const entry = archive.entries.get(name)
    if (entry === undefined) throw fileError('BAD_ZIP', path, `storage ${JSON.stringify(key)} (${name}) is missing from the archive`)
    refuseEncrypted(path, entry)
    if (entry.method !== METHOD_STORED) {
      throw fileError('UNSUPPORTED_FORMAT', path, `storage ${name} is compressed; tensors are read in place and must be stored uncompressed, as torch.save writes them`)
    }
    if (entry.compressedSize !== entry.size) throw fileError('BAD_ZIP', path, `${name} is stored but its sizes differ (${entry.compressedSize} vs ${entry.size})`)
    entries.set(key, entry)
  }
  const offsets = await entryDataOffsets(handle, path, archive, [...entries.values()])
  return new Map([...entries].map(([key, entry]) => [key, { offset: offsets.get(entry.name)!, byteLength: entry.size }] as const))
}
