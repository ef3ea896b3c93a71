import { basename } from 'node:path'
import type { Hashes } from '../../common/model-entry'
import type { PlannedInputFile } from '../plan/types'

/*
 * The merge record AUTOMATIC1111's checkpoint merger writes (modules/extras.py), which A1111, Forge,
 * civitai and metadata viewers read: `sd_merge_recipe` (how this file was made, inputs by full-file
 * SHA-256) and `sd_merge_models` (every model that went in, keyed by SHA-256, with its own recipe,
 * plus the entries of inputs that were merges themselves, so the whole ancestry is carried forward).
 * Both are JSON text, as in A1111's files.
 */

export const SD_MERGE_RECIPE = 'sd_merge_recipe'
export const SD_MERGE_MODELS = 'sd_merge_models'

interface MergedModel {
  readonly name: string
  /** AutoV1, which A1111 calls the legacy hash */
  readonly legacy_hash: string | null
  readonly sd_merge_recipe: unknown
}

/** A metadata entry holding JSON, parsed; undefined when absent or not JSON (files in the wild vary). */
export function jsonEntry(metadata: Readonly<Record<string, string>>, key: string): unknown {
  const text = metadata[key]
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** `sd_merge_recipe` and `sd_merge_models` for a merge of `inputs` (distinct files, in role order) by `method`. */
export function sdMergeEntries(inputs: readonly PlannedInputFile[], hashOf: (path: string) => Hashes, method: string): Record<string, string> {
  const files = distinctFiles(inputs)
  const sha = (i: number): string | null => {
    const file = files[i]
    return file === undefined ? null : hashOf(file.path).sha256
  }
  const recipe = {
    type: 'amalgam',
    primary_model_hash: sha(0),
    secondary_model_hash: sha(1),
    tertiary_model_hash: sha(2),
    interp_method: method,
  }
  // ancestors' entries are whatever their files hold, so the record is loosely typed
  const models: Record<string, unknown> = {}
  for (const file of files) {
    const hashes = hashOf(file.path)
    if (hashes.sha256 !== null) {
      const entry: MergedModel = { name: basename(file.path), legacy_hash: hashes.autov1, sd_merge_recipe: jsonEntry(file.metadata, SD_MERGE_RECIPE) ?? null }
      models[hashes.sha256] = entry
    }
    const ancestors = jsonEntry(file.metadata, SD_MERGE_MODELS)
    if (ancestors !== null && typeof ancestors === 'object' && !Array.isArray(ancestors)) Object.assign(models, ancestors)
  }
  return { [SD_MERGE_RECIPE]: JSON.stringify(recipe), [SD_MERGE_MODELS]: JSON.stringify(models) }
}

/** Each file once, at its first appearance (a model may fill several roles). */
export function distinctFiles(inputs: readonly PlannedInputFile[]): PlannedInputFile[] {
  const byPath = new Map<string, PlannedInputFile>()
  for (const input of inputs) if (!byPath.has(input.path)) byPath.set(input.path, input)
  return [...byPath.values()]
}
