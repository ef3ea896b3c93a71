import { extname, resolve } from 'node:path'
import { AmalgamError, fileError } from '../errors'
import type { TensorInfo } from '../formats/checkpoint'
import { isFloatDType, OUTPUT_DTYPE_TO_DTYPE, type DType, type OutputDType } from '../formats/dtype'
import { openCheckpoint } from '../formats/open'
import { SafetensorsFileWriter, type PlannedTensor } from '../formats/safetensors/writer'
import { TensorReader } from '../formats/tensor-reader'
import { MODELSPEC_HASH } from '../lineage/metadata'

/** `same` keeps every tensor's stored dtype; the others re-encode float tensors (integer tensors never change). */
export type ConvertDType = OutputDType | 'same'
export const CONVERT_DTYPES: readonly ConvertDType[] = ['same', 'fp32', 'fp16', 'bf16', 'fp8_e4m3', 'fp8_e5m2']

export interface ConvertOptions {
  readonly dtype: ConvertDType
  /** replace an existing output (the input is never replaced) */
  readonly overwrite?: boolean
  readonly signal?: AbortSignal
  /** after each tensor: how many of `total` are written */
  readonly onProgress?: (done: number, total: number, key: string) => void
}

export interface ConvertResult {
  readonly path: string
  readonly tensors: number
  readonly bytes: number
  /** tensors per output dtype */
  readonly dtypes: Readonly<Record<string, number>>
}

/**
 * Writes `input` (.ckpt/.pt/.pth/.bin or .safetensors) as a safetensors file, tensor by tensor (memory:
 * one tensor), through `<output>.partial` and a rename. The metadata is `format: pt` plus, from a
 * safetensors input, its own metadata, less modelspec.hash_sha256, which describes the old bytes.
 */
export async function convertCheckpoint(input: string, output: string, opts: ConvertOptions): Promise<ConvertResult> {
  const source = resolve(input)
  const target = resolve(output)
  if (extname(target).toLowerCase() !== '.safetensors') throw fileError('BAD_ARGUMENT', target, 'the output must be a .safetensors file')
  const checkpoint = await openCheckpoint(source)
  if (checkpoint.unsupported !== undefined) {
    throw fileError('UNSUPPORTED_DTYPE', source, `${checkpoint.unsupported}: Amalgam cannot decode these tensors, so it cannot convert the file`)
  }
  const planned = checkpoint.tensors.map((t) => ({ ...t, dtype: outputDType(t, opts.dtype) }))
  const metadata = Object.fromEntries(Object.entries(checkpoint.format === 'safetensors' ? checkpoint.metadata : {}).filter(([key]) => key !== MODELSPEC_HASH))
  const writer = await SafetensorsFileWriter.create(
    target,
    planned.map((t): PlannedTensor => ({ key: t.key, dtype: t.dtype, shape: t.shape })),
    metadata,
    { overwrite: opts.overwrite ?? false, inputs: [source] },
  )
  const reader = new TensorReader()
  const dtypes: Record<string, number> = {}
  try {
    for (const [index, t] of planned.entries()) {
      if (opts.signal?.aborted) throw new AmalgamError('CANCELLED', `${target}: the conversion was cancelled; nothing was written`, target)
      const stored = checkpoint.tensors[index]!
      if (t.dtype === stored.dtype && stored.locator.scale === undefined) await writer.writeTensorBytes(t.key, reader.readBytes(stored.locator))
      else await writer.writeTensor(t.key, reader.readFloat32(stored.locator))
      dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1
      opts.onProgress?.(index + 1, planned.length, t.key)
    }
    await writer.finish()
  } catch (err) {
    await writer.abort()
    throw err
  } finally {
    reader.close()
  }
  return { path: target, tensors: planned.length, bytes: writer.layout.totalBytes, dtypes }
}

function outputDType(tensor: TensorInfo, wanted: ConvertDType): DType {
  if (!isFloatDType(tensor.dtype)) return tensor.dtype
  if (wanted !== 'same') return OUTPUT_DTYPE_TO_DTYPE[wanted]
  // scaled fp8 stores value / scale: its real values only fit a wider type
  return tensor.locator.scale === undefined ? tensor.dtype : 'F32'
}
