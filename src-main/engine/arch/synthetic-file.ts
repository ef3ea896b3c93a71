import { dtypeSize, isFloatDType, numelOf, type FloatDType } from '../formats/dtype'
import { SafetensorsFileWriter, type PlannedTensor } from '../formats/safetensors/writer'
import { syntheticValues } from './synthetic'

export interface SyntheticFileOptions {
  readonly seed: number
  /** store every float tensor in this dtype (default: the layout's dtype); integer tensors keep theirs */
  readonly dtype?: FloatDType
  readonly metadata?: Readonly<Record<string, string>>
}

/**
 * Writes a synthetic checkpoint as safetensors (through `<path>.partial`), generating one tensor at
 * a time, so even a real-size SDXL or Flux file needs the memory of its largest tensor only.
 */
export async function writeSyntheticCheckpoint(path: string, layout: readonly PlannedTensor[], opts: SyntheticFileOptions): Promise<void> {
  const { dtype } = opts
  const planned = layout.map((t) => (dtype !== undefined && isFloatDType(t.dtype) ? { ...t, dtype } : t))
  const writer = await SafetensorsFileWriter.create(path, planned, opts.metadata ?? {})
  try {
    for (const t of planned) {
      if (isFloatDType(t.dtype)) await writer.writeTensor(t.key, syntheticValues(t, opts.seed))
      else await writer.writeTensorBytes(t.key, integerBytes(t))
    }
    await writer.finish()
  } catch (err) {
    await writer.abort()
    throw err
  }
}

/** Integer tensors count 0, 1, 2, … along their last axis: what position_ids holds (BOOL alternates 0 / 1). */
function integerBytes(t: PlannedTensor): Uint8Array {
  const count = numelOf(t.shape)
  const size = dtypeSize(t.dtype)
  const last = t.shape.at(-1) ?? 1
  const bytes = new Uint8Array(count * size)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < count; i++) {
    const value = t.dtype === 'BOOL' ? (i % last) % 2 : i % last
    const at = i * size
    if (size === 8) view.setBigInt64(at, BigInt(value), true)
    else if (size === 4) view.setInt32(at, value, true)
    else if (size === 2) view.setInt16(at, value, true)
    else view.setUint8(at, value)
  }
  return bytes
}
