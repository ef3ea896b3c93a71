import { AmalgamError, fileError } from '../../errors'
import type { TensorInfo, TensorLocator } from '../checkpoint'
import type { TorchTensor } from './pickle-values'
import { isContiguous } from '../strides'

/** Where a storage's bytes are in the file. */
export interface StorageExtent {
  readonly offset: number
  readonly byteLength: number
}

/**
 * Locators for the state dict's tensors, in file order. Views are kept exactly: a tensor's
 * locator starts at its own first element, and a non-contiguous one carries its strides. Each
 * view is checked to stay inside its storage, and each storage inside the bytes the file has for it.
 */
export function locateTensors(
  path: string,
  named: readonly (readonly [string, TorchTensor])[],
  extents: ReadonlyMap<string, StorageExtent>,
  byteOrder: 'little' | 'big',
): { tensors: TensorInfo[]; unsupported: string[] } {
  const tensors: TensorInfo[] = []
  const unsupported = new Set<string>()
  for (const [key, tensor] of named) {
    const { storage, dtype, shape, strides } = tensor
    const extent = extents.get(storage.key)
    if (extent === undefined) throw new AmalgamError('INTERNAL', `${path}: storage ${JSON.stringify(storage.key)} was not located`, path)
    const fail = (problem: string): never => {
      throw fileError('BAD_TENSOR', path, `tensor ${JSON.stringify(key)}: ${problem}`)
    }
    if (storage.byteOffset + storage.byteLength > extent.byteLength) {
      fail(`its storage ${JSON.stringify(storage.key)} should hold ${storage.byteOffset + storage.byteLength} bytes, the file has ${extent.byteLength}`)
    }
    const numel = product(shape) ?? fail(`shape [${shape.join(', ')}] has too many elements`)
    const contiguous = numel === 0 || isContiguous(shape, strides)
    // storage element index of the view's last element, relative to its first
    const lastIndex = numel === 0 ? -1 : contiguous ? numel - 1 : shape.reduce((sum, dim, d) => sum + (dim - 1) * strides[d]!, 0)
    const span = (lastIndex + 1) * dtype.size
    const start = tensor.storageOffset * dtype.size
    if (!Number.isSafeInteger(start + span)) fail('its view reaches past any possible file')
    if (numel > 0 && start + span > storage.byteLength) {
      fail(`it reaches byte ${start + span} of its storage ${JSON.stringify(storage.key)}, which holds ${storage.byteLength} bytes`)
    }
    if (dtype.dtype === null) unsupported.add(dtype.label)
    const stored = dtype.dtype ?? 'U8'
    const locator: TensorLocator = {
      path,
      key,
      dtype: stored,
      shape,
      offset: extent.offset + storage.byteOffset + start,
      byteLength: span,
      ...(contiguous ? {} : { strides }),
      ...(dtype.dtype === null ? { unsupportedDtype: dtype.label } : {}),
      ...(byteOrder === 'big' ? { byteOrder } : {}),
    }
    tensors.push({ key, dtype: stored, shape, locator })
  }
  const order = tensors.map((info, index) => ({ info, index }))
  order.sort((a, b) => a.info.locator.offset - b.info.locator.offset || a.index - b.index)
  return { tensors: order.map((o) => o.info), unsupported: [...unsupported] }
}

function product(shape: readonly number[]): number | null {
  let n = 1
  for (const dim of shape) n *= dim
  return Number.isSafeInteger(n) ? n : null
}

