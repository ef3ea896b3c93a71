import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { LayoutArchitecture } from '../../src-main/engine/arch/layouts'
import { syntheticLayout, type SyntheticOptions } from '../../src-main/engine/arch/synthetic'
import { writeSyntheticCheckpoint } from '../../src-main/engine/arch/synthetic-file'
import { dtypeSize, isFloatDType, type DType, type FloatDType } from '../../src-main/engine/formats/dtype'
import { writeSafetensorsFile, type PlannedTensor } from '../../src-main/engine/formats/safetensors/writer'

export { amalgamErrorOf, craftSafetensors, useTempDir, writeBytes } from '../formats/support'

export const TORCH_FIXTURES = join(import.meta.dirname, '../fixtures/torch')

/** A tiny synthetic checkpoint of a real layout (every key name real, shapes shrunk). */
export async function writeTiny(
  path: string,
  arch: LayoutArchitecture,
  opts: { seed?: number; dtype?: FloatDType; metadata?: Record<string, string>; synthetic?: Omit<SyntheticOptions, 'scale'> } = {},
): Promise<PlannedTensor[]> {
  const layout = syntheticLayout(arch, { scale: 'tiny', ...opts.synthetic })
  await writeSyntheticCheckpoint(path, layout, { seed: opts.seed ?? 1, ...(opts.dtype ? { dtype: opts.dtype } : {}), ...(opts.metadata ? { metadata: opts.metadata } : {}) })
  return layout
}

/** A safetensors file holding these tensors (zeros), for hand-made key sets. */
export async function writeTensors(path: string, tensors: readonly { key: string; shape: number[]; dtype?: DType }[], metadata: Record<string, string> = {}): Promise<void> {
  await writeSafetensorsFile(
    path,
    tensors.map((t) => {
      const dtype = t.dtype ?? 'F16'
      const count = t.shape.reduce((a, b) => a * b, 1)
      return { key: t.key, dtype, shape: t.shape, data: isFloatDType(dtype) ? new Float32Array(count) : new Uint8Array(count * dtypeSize(dtype)) }
    }),
    metadata,
  )
}

export function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value))
  return path
}

/** Parameters per dtype and in total, summed naively from a tensor table. */
export function expectedTotals(tensors: readonly { dtype: string; shape: readonly number[] }[]): { dtypes: Record<string, number>; params: number } {
  const dtypes: Record<string, number> = {}
  let params = 0
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1)
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + n
    params += n
  }
  return { dtypes, params }
}
