import { basename, extname } from 'node:path'
import type { Hashes } from '../../common/model-entry'
import type { PredictionType, Recipe } from '../../common/recipe'
import { AmalgamError } from '../errors'
import type { Plan, PlannedInputFile } from '../plan/types'
import { canonicalJson } from '../recipe/canonical-json'
import { distinctFiles, jsonEntry, SD_MERGE_RECIPE, sdMergeEntries } from './a1111'
import { ENGINE_VERSION } from './engine-version'
import { MODELSPEC_VERSION, modelSpecIdentity, modelSpecPredictionType } from './modelspec'

/*
 * The output's `__metadata__`. Everything known before merging is written with the header; what
 * depends on hashes (the output's own tensor hash, the inputs' SHA-256 in the A1111 record) is
 * patched into space reserved for it once the data is written. No wall-clock time goes in, so the
 * same recipe, inputs, version and backend give a byte-identical file (timestamps live in the
 * lineage sidecar).
 */

export const AMALGAM_RECIPE = 'amalgam.recipe'
export const AMALGAM_VERSION = 'amalgam.version'
export const MODELSPEC_HASH = 'modelspec.hash_sha256'
const MODELSPEC_SPEC = 'modelspec.sai_model_spec'
const MODELSPEC_TITLE = 'modelspec.title'
const MODELSPEC_ENCODER_LAYER = 'modelspec.encoder_layer'

/** Slack on top of the exact size of the end-of-run entries. */
const RESERVE_MARGIN_BYTES = 64

export interface OutputMetadataOptions {
  /** the recipe as planned (aliases resolved, defaults filled) */
  readonly recipe: Recipe
  /** every input file, in role order, with its own metadata */
  readonly inputs: readonly PlannedInputFile[]
  /** Amalgam's architecture id (sd1, sd2, sdxl, sdxl-refiner, sd3, flux, llm, ...) */
  readonly architecture: string
  /** the output's prediction type (from a, or recipe.options.predictionType) */
  readonly predictionType: PredictionType
  /** dev, schnell, medium, large, ...: picks among ModelSpec ids of one family */
  readonly variant?: string | null
  /** key layout of the output (ldm, sgm, diffusers, ...): diffusers-named files say so */
  readonly layout?: string | null
}

export interface OutputMetadata {
  readonly metadata: Record<string, string>
  /** header bytes to reserve for finalMetadataPatch */
  readonly reserveMetadataBytes: number
}

/**
 * The metadata a merged file starts with, and the header space its end-of-run patch needs. With
 * `recipe.output.embedRecipe = false`, nothing that reveals the recipe or the inputs is written
 * (amalgam.recipe, sd_merge_recipe, sd_merge_models, modelspec.merged_from).
 */
export function buildOutputMetadata(opts: OutputMetadataOptions): OutputMetadata {
  const { recipe, inputs } = opts
  const embed = recipe.output.embedRecipe
  const metadata: Record<string, string> = {}
  const identity = modelSpecIdentity(opts.architecture, opts.variant ?? null, opts.predictionType, opts.layout ?? null)
  if (identity !== null) {
    metadata[MODELSPEC_SPEC] = MODELSPEC_VERSION
    metadata['modelspec.architecture'] = identity.architecture
    metadata['modelspec.implementation'] = identity.implementation
    metadata[MODELSPEC_TITLE] = recipe.name ?? stem(recipe.output.path)
    metadata['modelspec.resolution'] = identity.resolution
    const prediction = modelSpecPredictionType(opts.predictionType)
    if (prediction !== null) metadata['modelspec.prediction_type'] = prediction
    const encoderLayer = inputs[0]?.metadata[MODELSPEC_ENCODER_LAYER]
    if (encoderLayer !== undefined) metadata[MODELSPEC_ENCODER_LAYER] = encoderLayer
    if (embed) metadata['modelspec.merged_from'] = distinctFiles(inputs).map((i) => i.metadata[MODELSPEC_TITLE] ?? stem(i.path)).join(', ')
  }
  metadata[AMALGAM_VERSION] = ENGINE_VERSION
  if (embed) metadata[AMALGAM_RECIPE] = canonicalJson(recipe)
  // hashes of the real lengths, distinct per file so that no entry collapses into another
  const paths = distinctFiles(inputs).map((i) => i.path)
  const placeholder = (path: string): Hashes => {
    const hex = paths.indexOf(path).toString(16).padStart(64, '0')
    return { sha256: hex, autov2: hex.slice(0, 10), autov1: hex.slice(0, 8), tensorSha256: hex, autov3: hex.slice(0, 12) }
  }
  const patch = patchEntries(recipe, inputs, identity !== null, placeholder, '0'.repeat(64))
  return { metadata, reserveMetadataBytes: headerEntryBytes(patch) + RESERVE_MARGIN_BYTES }
}

/**
 * The entries patched in at the end of a run: modelspec.hash_sha256 (0x-prefixed, as the spec
 * writes it) and, when the recipe is embedded, A1111's merge record with the inputs' hashes.
 */
export function finalMetadataPatch(
  plan: Pick<Plan, 'recipe' | 'inputs' | 'output'>,
  inputHashes: ReadonlyMap<string, Hashes>,
  tensorSha256: string,
): Record<string, string> {
  const hashOf = (path: string): Hashes => {
    const hashes = inputHashes.get(path)
    if (hashes === undefined) throw new AmalgamError('INTERNAL', `${path}: the input was not hashed`)
    return hashes
  }
  return patchEntries(plan.recipe, plan.inputs, MODELSPEC_SPEC in plan.output.metadata, hashOf, tensorSha256)
}

/** The recipe an input embeds (Amalgam's own, else A1111's), for the ancestry tree; undefined for a model that is not a merge. */
export function embeddedRecipe(metadata: Readonly<Record<string, string>>): unknown {
  return jsonEntry(metadata, AMALGAM_RECIPE) ?? jsonEntry(metadata, SD_MERGE_RECIPE)
}

function patchEntries(
  recipe: Recipe,
  inputs: readonly PlannedInputFile[],
  modelSpec: boolean,
  hashOf: (path: string) => Hashes,
  tensorSha256: string,
): Record<string, string> {
  return {
    ...(modelSpec ? { [MODELSPEC_HASH]: `0x${tensorSha256}` } : {}),
    ...(recipe.output.embedRecipe ? sdMergeEntries(inputs, hashOf, recipe.merge.method) : {}),
  }
}

/** Bytes the entries add to the header JSON: `,"key":"value"` each, as UTF-8. */
function headerEntryBytes(entries: Readonly<Record<string, string>>): number {
  const encoder = new TextEncoder()
  return Object.entries(entries).reduce((sum, [k, v]) => sum + encoder.encode(`,${JSON.stringify(k)}:${JSON.stringify(v)}`).length, 0)
}

function stem(path: string): string {
  const name = basename(path)
  return name.slice(0, name.length - extname(name).length)
}
