import { PickleProblem, describe, type UnpicklerHooks } from './unpickler'
import { PyComplex, PyDict, PyGlobal, PyList, PyObject, PySet, PyTuple, TorchStorage, TorchTensor, type BuilderName, type PyValue } from './pickle-values'
import type { TorchDType } from './torch-dtypes'

/*
 * What "calling" a global means here. Data builders are reproduced as data (torch's rebuild
 * functions become TorchTensor views, container types become containers); every other global
 * makes an inert PyObject that only records its arguments. Those are collected in `placeholders`
 * so the reader can tell the user what it did not load.
 */

export function torchHooks(persistentLoad: (pid: PyValue) => PyValue, placeholders: PyObject[]): UnpicklerHooks {
  const call = (callable: PyGlobal, args: readonly PyValue[], how: 'call' | 'new'): PyValue => {
    const role = callable.role
    if (role.kind !== 'builder') {
      const placeholder = new PyObject(callable, args)
      placeholders.push(placeholder)
      return placeholder
    }
    if (how === 'new') return allocate(callable, role.builder, args)
    switch (role.builder) {
      case 'rebuild_tensor':
      case 'rebuild_tensor_v2':
        return rebuildTensor(callable, args, null)
      case 'rebuild_tensor_v3':
        return rebuildTensor(callable, args, dtypeArgument(callable, args[6]))
      case 'rebuild_parameter':
        // Parameter(data, requires_grad, hooks[, state]): the tensor is the data
        if (args[0] === undefined) throw new PickleProblem(`${callable.qualifiedName} has no data argument`)
        return args[0]
      case 'rebuild_from_type': {
        // _rebuild_from_type_v2(func, new_type, args, state): a tensor subclass; we keep the tensor
        const [func, , funcArgs] = args
        if (!(func instanceof PyGlobal) || !(funcArgs instanceof PyTuple)) throw new PickleProblem(`${callable.qualifiedName} needs a function and an argument tuple`)
        if (func.role.kind === 'builder' && func.role.builder === 'rebuild_from_type') throw new PickleProblem(`${callable.qualifiedName} nested in itself`)
        return call(func, funcArgs.items, 'call')
      }
      case 'dict':
        return toDict(callable, args)
      case 'list':
        return new PyList(itemsOf(callable, args[0]))
      case 'tuple':
        return new PyTuple(itemsOf(callable, args[0]))
      case 'set':
        return new PySet(itemsOf(callable, args[0]))
      case 'bytearray':
        return toBytes(callable, args)
      case 'complex':
        return new PyComplex(toNumber(callable, args[0] ?? 0), toNumber(callable, args[1] ?? 0))
      case 'codecs_encode':
        return encodeText(callable, args)
      case 'reconstructor': {
        // copyreg._reconstructor(cls, base, state): a protocol 0/1 instance of cls
        const [cls] = args
        if (!(cls instanceof PyGlobal)) throw new PickleProblem(`${callable.qualifiedName} needs a class, got ${describe(cls ?? null)}`)
        return call(cls, [], 'new')
      }
      case 'newobj': {
        const [cls, ...rest] = args
        if (!(cls instanceof PyGlobal)) throw new PickleProblem(`${callable.qualifiedName} needs a class, got ${describe(cls ?? null)}`)
        return call(cls, rest, 'new')
      }
    }
  }
  return { persistentLoad, call }
}

/** NEWOBJ on a builder: only container types can be allocated empty and filled afterwards. */
function allocate(callable: PyGlobal, builder: BuilderName, args: readonly PyValue[]): PyValue {
  if (builder === 'dict') return new PyDict()
  if (builder === 'list') return new PyList()
  if (builder === 'set') return new PySet()
  if (builder === 'tuple') return new PyTuple(itemsOf(callable, args[0]))
  throw new PickleProblem(`${callable.qualifiedName} cannot be allocated with NEWOBJ`)
}

function rebuildTensor(callable: PyGlobal, args: readonly PyValue[], dtype: TorchDType | null): TorchTensor {
  const [storage, offset, size, stride] = args
  if (!(storage instanceof TorchStorage)) throw new PickleProblem(`${callable.qualifiedName}: the storage argument is ${describe(storage ?? null)}, not a storage`)
  const shape = counts(callable, 'size', size)
  const strides = counts(callable, 'stride', stride)
  if (shape.length !== strides.length) throw new PickleProblem(`${callable.qualifiedName}: size has ${shape.length} dimensions, stride ${strides.length}`)
  return new TorchTensor(storage, dtype ?? storage.dtype, count(callable, 'storage offset', offset), shape, strides)
}

function dtypeArgument(callable: PyGlobal, value: PyValue | undefined): TorchDType {
  if (value instanceof PyGlobal && value.role.kind === 'dtype') return value.role.dtype
  throw new PickleProblem(`${callable.qualifiedName}: the dtype argument is ${describe(value ?? null)}, not a torch dtype`)
}

function counts(callable: PyGlobal, what: string, value: PyValue | undefined): number[] {
  if (!(value instanceof PyTuple)) throw new PickleProblem(`${callable.qualifiedName}: ${what} is ${describe(value ?? null)}, not a tuple`)
  return value.items.map((item) => count(callable, what, item))
}

/** A non-negative integer argument (sizes, strides, offsets, element counts). */
export function count(callable: PyGlobal | string, what: string, value: PyValue | undefined): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
  const name = typeof callable === 'string' ? callable : callable.qualifiedName
  throw new PickleProblem(`${name}: ${what} is ${typeof value === 'number' || typeof value === 'bigint' ? String(value) : describe(value ?? null)}, not a count`)
}

function itemsOf(callable: PyGlobal, value: PyValue | undefined): PyValue[] {
  if (value === undefined) return []
  if (value instanceof PyList || value instanceof PyTuple || value instanceof PySet) return [...value.items]
  if (value instanceof PyDict) return [...value.entries()].map(([key]) => key)
  if (value instanceof Uint8Array) return [...value]
  throw new PickleProblem(`${callable.qualifiedName} of ${describe(value)}`)
}

function toDict(callable: PyGlobal, args: readonly PyValue[]): PyDict {
  const dict = new PyDict()
  const [source] = args
  // defaultdict's one argument is its default factory, not content
  if (source === undefined || source === null || source instanceof PyGlobal) return dict
  if (source instanceof PyDict) {
    for (const [key, value] of source.entries()) dict.set(key, value)
    return dict
  }
  for (const pair of itemsOf(callable, source)) {
    if (!((pair instanceof PyTuple || pair instanceof PyList) && pair.items.length === 2)) {
      throw new PickleProblem(`${callable.qualifiedName} of ${describe(pair)}, not a key/value pair`)
    }
    dict.set(pair.items[0]!, pair.items[1]!)
  }
  return dict
}

function toBytes(callable: PyGlobal, args: readonly PyValue[]): Uint8Array {
  const [source] = args
  if (typeof source === 'string') return encodeText(callable, args)
  const items = itemsOf(callable, source)
  return Uint8Array.from(items, (item) => {
    if (typeof item === 'number' && Number.isInteger(item) && item >= 0 && item < 256) return item
    throw new PickleProblem(`${callable.qualifiedName} of ${describe(item)}, not a byte`)
  })
}

function toNumber(callable: PyGlobal, value: PyValue): number {
  if (typeof value === 'number') return value
  throw new PickleProblem(`${callable.qualifiedName} of ${describe(value)}`)
}

/** _codecs.encode(text, encoding): how protocol 2 stores Python 3 bytes. */
function encodeText(callable: PyGlobal, args: readonly PyValue[]): Uint8Array {
  const [text, encoding = 'utf-8'] = args
  if (typeof text !== 'string' || typeof encoding !== 'string') throw new PickleProblem(`${callable.qualifiedName} needs a string and an encoding`)
  const codec = encoding.toLowerCase().replace(/_/g, '-')
  if (codec === 'utf-8' || codec === 'utf8') return Buffer.from(text, 'utf8')
  if (codec === 'latin1' || codec === 'latin-1' || codec === 'iso-8859-1' || codec === 'ascii') {
    const limit = codec === 'ascii' ? 0x80 : 0x100
    return Uint8Array.from(text, (ch) => {
      const code = ch.codePointAt(0)!
      if (code >= limit) throw new PickleProblem(`${callable.qualifiedName}: ${JSON.stringify(ch)} is not ${encoding}`)
      return code
    })
  }
  throw new PickleProblem(`${callable.qualifiedName}: unsupported encoding ${JSON.stringify(encoding.slice(0, 40))}`)
}

/** A persistent id's parts: ('storage', type, key, location, numel[, view]) or ('module', …) in legacy files. */
export function persistentIdParts(pid: PyValue): { readonly typename: string; readonly fields: readonly PyValue[] } {
  if (!(pid instanceof PyTuple) || pid.items.length === 0) throw new PickleProblem(`persistent id is ${describe(pid)}, not a tuple`)
  const [typename, ...fields] = pid.items
  return { typename: asText('persistent id type', typename!), fields }
}

/** The element type a storage persistent id names: a storage class (torch.HalfStorage) or a dtype. */
export function storageDType(value: PyValue | undefined): TorchDType {
  if (value instanceof PyGlobal && (value.role.kind === 'storage-type' || value.role.kind === 'dtype')) return value.role.dtype
  throw new PickleProblem(`storage type is ${describe(value ?? null)}, not a torch storage class`)
}

/** Keys and locations are str, or bytes in Python 2 files loaded as bytes. */
export function asText(what: string, value: PyValue): string {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1')
  if (typeof value === 'number') return String(value)
  throw new PickleProblem(`${what} is ${describe(value)}, not a string`)
}
