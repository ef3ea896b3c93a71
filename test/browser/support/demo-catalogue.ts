import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { BlockInfo } from '../../../src-main/common/ipc'
import type { z } from 'zod'

/*
 * The models the scripted engine knows by file name: what its library reports for them, and what
 * its planner and merge host assume. Block ids and presets come from resources/presets.json, the
 * same data the real engine ships.
 */

export interface CatalogueModel {
  readonly file: string
  readonly architecture: 'sd1' | 'sdxl' | 'flux'
  readonly variant: string | null
  readonly predictionType: 'eps' | 'v' | 'flow'
  readonly status: 'ok' | 'error'
  readonly problem: string | null
  /** declared size, so the size filter has something to sort */
  readonly size: number
  readonly dtype: 'F16' | 'BF16' | 'F8_E4M3'
}

const GB = 1024 ** 3

export const CATALOGUE: readonly CatalogueModel[] = [
  { file: 'anime-v3.safetensors', architecture: 'sd1', variant: null, predictionType: 'eps', status: 'ok', problem: null, size: 2.13 * GB, dtype: 'F16' },
  { file: 'photo-real.safetensors', architecture: 'sd1', variant: null, predictionType: 'eps', status: 'ok', problem: null, size: 2.13 * GB, dtype: 'F16' },
  { file: 'sd15-base.safetensors', architecture: 'sd1', variant: null, predictionType: 'eps', status: 'ok', problem: null, size: 4.27 * GB, dtype: 'F16' },
  { file: 'inpaint-sd15.safetensors', architecture: 'sd1', variant: 'inpainting', predictionType: 'eps', status: 'ok', problem: null, size: 2.13 * GB, dtype: 'F16' },
  { file: 'vpred-sd15.safetensors', architecture: 'sd1', variant: null, predictionType: 'v', status: 'ok', problem: null, size: 2.13 * GB, dtype: 'F16' },
  { file: 'flux-schnell.safetensors', architecture: 'flux', variant: 'schnell', predictionType: 'flow', status: 'ok', problem: null, size: 11.9 * GB, dtype: 'F8_E4M3' },
  { file: 'xl-turbo.safetensors', architecture: 'sdxl', variant: null, predictionType: 'eps', status: 'ok', problem: null, size: 6.94 * GB, dtype: 'BF16' },
  {
    file: 'truncated.safetensors',
    architecture: 'sd1',
    variant: null,
    predictionType: 'eps',
    status: 'error',
    problem: 'truncated.safetensors: the header says the tensor data ends at byte 2132625408, but the file has 1024 bytes (an interrupted download?)',
    size: 1024,
    dtype: 'F16',
  },
]

/** Small stand-in files under the catalogue's names (the scripted engine reads names, the hasher bytes). */
export function writeDemoModels(folder: string): void {
  for (const model of CATALOGUE) writeFileSync(join(folder, model.file), `demo checkpoint ${model.file}\n`)
}

export function catalogueModel(file: string): CatalogueModel | undefined {
  return CATALOGUE.find((m) => m.file === file)
}

interface PresetsJson {
  block_ids: { sd1_26: string[]; sdxl_20: string[] }
  sd1_26: Record<string, number[]>
  sdxl_20_supermerger_derived: Record<string, number[]>
  sdxl_20_model_mixer: Record<string, number[]>
}

export const PRESETS_JSON = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../resources/presets.json'), 'utf8')) as PresetsJson

type Block = z.infer<typeof BlockInfo>

/** BASE aside at t=0, then IN, M, OUT spread over [0, 1] in network order. */
export function unetBlocks(architecture: 'sd1' | 'sdxl'): Block[] {
  const ids = architecture === 'sd1' ? PRESETS_JSON.block_ids.sd1_26 : PRESETS_JSON.block_ids.sdxl_20
  const ordered = ids.filter((id) => id !== 'BASE')
  return ids.map((id) => ({
    id,
    group: id === 'BASE' ? 'BASE' : id.replace(/\d+$/, ''),
    t: id === 'BASE' ? 0 : ordered.indexOf(id) / (ordered.length - 1),
    keys: id === 'BASE' ? 196 : 12,
  }))
}

/** Flux's blocks as transformer strips: 19 double, 38 single, and the layers outside them. */
export function fluxBlocks(): Block[] {
  const ids = [
    ...Array.from({ length: 19 }, (_, i) => [`double${String(i).padStart(2, '0')}`, 'double'] as const),
    ...Array.from({ length: 38 }, (_, i) => [`single${String(i).padStart(2, '0')}`, 'single'] as const),
    ...(['img_in', 'txt_in', 'time_in', 'vector_in', 'guidance_in', 'final_layer'] as const).map((id) => [id, 'extra'] as const),
  ]
  return ids.map(([id, group], i) => ({ id, group, t: i / (ids.length - 1), keys: 8 }))
}
