import type { PyObject, PyValue } from './pickle-values'
import type { StorageExtent } from './tensor-locators'

/** What a torch file container (zip or legacy) yields: the unpickled object and where its storages are. */
export interface LoadedPickle {
  readonly root: PyValue
  /** the inert objects standing for classes and functions the pickle named */
  readonly placeholders: readonly PyObject[]
  readonly byteOrder: 'little' | 'big'
  /** The file bytes of each named storage; fails when one is missing or unreadable. */
  storageExtents(keys: ReadonlySet<string>): Promise<ReadonlyMap<string, StorageExtent>>
}

/** The largest pickle we unpickle: real ones are a few MB even for checkpoints with optimizer state. */
export const MAX_PICKLE_BYTES = 256 << 20
