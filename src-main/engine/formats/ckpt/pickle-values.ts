import type { TorchDType } from './torch-dtypes'

/*
 * The values our unpickler builds. They are plain data: nothing here can run code, and a class or
 * function named by a pickle is only ever a name (PyGlobal) whose "instances" record their arguments.
 */

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyTuple
  | PyList
  | PyDict
  | PySet
  | PyComplex
  | PyGlobal
  | PyObject
  | TorchStorage
  | TorchTensor

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export class PyList {
  constructor(readonly items: PyValue[] = []) {}
}

/** set and frozenset (membership is never needed, so items are kept as pickled) */
export class PySet {
  constructor(readonly items: PyValue[] = []) {}
}

export class PyComplex {
  constructor(
    readonly real: number,
    readonly imag: number,
  ) {}
}

/**
 * dict / OrderedDict in insertion order. Keys compare as Python compares them for the key types a
 * pickle can hold (1, 1.0 and True are one key; tuples compare by value); other keys by identity.
 */
export class PyDict {
  private readonly map = new Map<unknown, readonly [PyValue, PyValue]>()

  set(key: PyValue, value: PyValue): void {
    const hash = hashKey(key, 0)
    // like Python, an equal key replaces the value but keeps the first key object (d[1] then d[True])
    this.map.set(hash, [this.map.get(hash)?.[0] ?? key, value])
  }

  get(key: string): PyValue | undefined {
    return this.map.get(hashKey(key, 0))?.[1]
  }

  get size(): number {
    return this.map.size
  }

  entries(): IterableIterator<readonly [PyValue, PyValue]> {
    return this.map.values()
  }
}

/** Deeper tuple keys compare by identity: value comparison would recurse without bound. */
const MAX_KEY_DEPTH = 8

function hashKey(key: PyValue, depth: number): unknown {
  if (typeof key === 'string') return `s${key}`
  if (typeof key === 'boolean') return `n${key ? 1 : 0}`
  if (typeof key === 'number') return Number.isInteger(key) ? `n${key}` : `f${key}`
  if (typeof key === 'bigint') return `n${key}`
  if (key === null) return 'None'
  if (key instanceof Uint8Array) return `b${Buffer.from(key).toString('latin1')}`
  if (key instanceof PyTuple && depth < MAX_KEY_DEPTH) {
    const parts: string[] = []
    for (const item of key.items) {
      const part = hashKey(item, depth + 1)
      if (typeof part !== 'string') return key
      parts.push(JSON.stringify(part))
    }
    return `t(${parts.join(',')})`
  }
  return key
}

/**
 * What the role of a named global is. Hostile names never become values: the unpickler refuses
 * them where they are named.
 */
export type GlobalRole =
  | { readonly kind: 'builder'; readonly builder: BuilderName }
  /** torch.FloatStorage, torch.UntypedStorage…: the type slot of a storage persistent id */
  | { readonly kind: 'storage-type'; readonly dtype: TorchDType }
  /** torch.float16…: the dtype argument of _rebuild_tensor_v3 */
  | { readonly kind: 'dtype'; readonly dtype: TorchDType }
  /** any other class or function: never called; "calling" it makes an inert PyObject */
  | { readonly kind: 'opaque' }

/** The globals whose effect we reproduce as data (see torch-builders.ts). */
export type BuilderName =
  | 'rebuild_tensor'
  | 'rebuild_tensor_v2'
  | 'rebuild_tensor_v3'
  | 'rebuild_parameter'
  | 'rebuild_from_type'
  | 'dict'
  | 'list'
  | 'tuple'
  | 'set'
  | 'bytearray'
  | 'complex'
  | 'codecs_encode'
  | 'reconstructor'
  | 'newobj'

export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly role: GlobalRole,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`
  }
}

/** An instance of an opaque class (or the result of an opaque function): its pickled parts, inert. */
export class PyObject {
  state: PyValue | undefined = undefined
  /** what APPEND(S) / SETITEM(S) added, for list and dict subclasses */
  readonly listItems: PyValue[] = []
  readonly dictItems = new PyDict()

  constructor(
    readonly type: PyGlobal,
    readonly args: readonly PyValue[],
  ) {}
}

/** A storage named by a persistent id: where its bytes are is resolved by the container reader. */
export class TorchStorage {
  constructor(
    /** zip: the entry name under data/; legacy: the root storage key */
    readonly key: string,
    readonly dtype: TorchDType,
    /** elements of `dtype` the pickle says the storage holds */
    readonly numel: number,
    /** legacy storage views: where this view starts inside the root storage, in bytes */
    readonly byteOffset: number,
  ) {}

  get byteLength(): number {
    return this.numel * this.dtype.size
  }
}

/** A tensor view: exactly torch's (storage, storage offset, size, stride), in elements of `dtype`. */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly dtype: TorchDType,
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
  ) {}
}
