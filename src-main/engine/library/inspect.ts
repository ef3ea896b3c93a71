import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, extname, resolve } from 'node:path'
import type { Architecture, ComponentSummary, Hashes, ModelEntry } from '../../common/model-entry'
import type { PredictionType } from '../../common/recipe'
import { detectModel } from '../arch/detect'
import type { Detection } from '../arch/detection-types'
import { describeError, fileError, isAmalgamError } from '../errors'
import type { Checkpoint, TensorInfo } from '../formats/checkpoint'
import { numelOf } from '../formats/dtype'
import { ioError } from '../formats/file-io'
import { openCheckpoint } from '../formats/open'
import { TensorReader } from '../formats/tensor-reader'
import { AMALGAM_RECIPE } from '../lineage/metadata'
import { loraDetails } from '../lora/lora-details'
import { readLoraFile } from '../lora/lora-file'
import { sidecarPath } from '../lineage/sidecar'
import type { HashCache } from './hash-cache'
import { modelFolderKind, openModelFolder, type DiffusersFolder, type ModelFolderKind } from './model-folders'

export interface InspectOptions {
  /** hashes already computed for the file are taken from here; without a cache they are null */
  readonly hashCache?: HashCache | null
}

export interface Inspection {
  readonly entry: ModelEntry
  /** what detection found; null when the model could not be read */
  readonly detection: Detection | null
  /** the names of the tensors detection looked at (a diffusers folder: its UNet or transformer) */
  readonly keys: readonly string[]
}

export const NO_HASHES: Hashes = { sha256: null, autov2: null, autov1: null, tensorSha256: null, autov3: null }

const FOLDER_PROBLEM = 'a diffusers folder: the library lists it, but merges take single .safetensors or .ckpt files and Hugging Face LLM folders for now'
const HF_FOLDER_PROBLEM = 'a Hugging Face folder that is not a causal language model Amalgam knows: the library lists it, but cannot merge it'

/** What a checkpoint file or model folder is, from its headers only: see inspectModelFully. */
export async function inspectModel(path: string, opts: InspectOptions = {}): Promise<ModelEntry> {
  return (await inspectModelFully(path, opts)).entry
}

/**
 * Reads a checkpoint file or model folder by its headers and describes it. A file that cannot be read
 * (malformed, hostile, truncated, unreadable) is not an exception but an entry with status "error" and
 * the one-line problem, so a scan lists it and goes on; only a path that does not exist, or a folder
 * that is not a model folder, throws.
 */
export async function inspectModelFully(path: string, opts: InspectOptions = {}): Promise<Inspection> {
  const absolute = resolve(path)
  let info
  try {
    info = await stat(absolute)
  } catch (err) {
    throw ioError(err, absolute)
  }
  if (info.isDirectory()) {
    const kind = await folderKindOf(absolute)
    if (kind === null) throw fileError('UNSUPPORTED_FORMAT', absolute, 'is a folder, not a model folder (no model_index.json, nor config.json with model weights)')
    return guarded(baseEntry(absolute, kind, 0, info.mtimeMs), () => inspectFolder(absolute, kind, info.mtimeMs))
  }
  const format = extname(absolute).toLowerCase() === '.safetensors' ? 'safetensors' : 'ckpt'
  return guarded(baseEntry(absolute, format, info.size, info.mtimeMs), () => inspectFile(absolute, info.size, info.mtimeMs, opts))
}

async function folderKindOf(dir: string): Promise<ModelFolderKind | null> {
  try {
    return modelFolderKind(new Set(await readdir(dir)))
  } catch (err) {
    throw ioError(err, dir)
  }
}

async function guarded(base: ModelEntry, inspect: () => Promise<Inspection>): Promise<Inspection> {
  try {
    return await inspect()
  } catch (err) {
    // a scan must never stop on one bad file: every failure becomes that file's problem
    const problem = isAmalgamError(err) ? err.message : `${base.path}: internal error: ${describeError(err)}`
    return { entry: { ...base, status: 'error', problem }, detection: null, keys: [] }
  }
}

function baseEntry(path: string, format: ModelEntry['format'], size: number, mtimeMs: number): ModelEntry {
  return {
    path,
    name: basename(path),
    format,
    size,
    mtimeMs,
    status: 'ok',
    problem: null,
    architecture: 'unknown',
    variant: null,
    predictionType: 'unknown',
    predictionSource: null,
    layout: 'unknown',
    components: [],
    dtypes: {},
    params: 0,
    keys: 0,
    metadata: {},
    hashes: NO_HASHES,
    recipe: null,
    llm: null,
    notes: [],
  }
}

async function inspectFile(path: string, size: number, mtimeMs: number, opts: InspectOptions): Promise<Inspection> {
  const checkpoint = await openCheckpoint(path)
  const sidecarYaml = await readFile(sidecarPath(path, '.yaml'), 'utf8').catch(() => null)
  const detection = detectModel(checkpoint.tensors, { metadata: checkpoint.metadata, sidecarYaml })
  const hashes = (await opts.hashCache?.get({ path, size, mtimeMs })) ?? NO_HASHES
  const entry = fromDetection(baseEntry(path, checkpoint.format, size, mtimeMs), checkpoint, detection)
  return { entry: { ...entry, hashes }, detection, keys: checkpoint.tensors.map((t) => t.key) }
}

async function inspectFolder(path: string, kind: ModelFolderKind, folderMtimeMs: number): Promise<Inspection> {
  const folder = await openModelFolder(path, kind)
  // the folder's own time changes only when files are added or removed; a rewritten shard changes its own
  const newest = async (checkpoints: readonly Checkpoint[]): Promise<number> => {
    let mtimeMs = folderMtimeMs
    for (const shard of new Set(checkpoints.flatMap((c) => c.tensors.map((t) => t.locator.path)))) {
      mtimeMs = Math.max(mtimeMs, await stat(shard).then((s) => s.mtimeMs, () => 0))
    }
    return mtimeMs
  }
  if (folder.kind === 'hf-folder') {
    const { checkpoint } = folder
    const detection = detectModel(checkpoint.tensors, { metadata: checkpoint.metadata, hfConfig: folder.config })
    const base = baseEntry(path, 'hf-folder', checkpoint.fileSize, await newest([checkpoint]))
    return { entry: hfFolderStatus(fromDetection(base, checkpoint, detection)), detection, keys: checkpoint.tensors.map((t) => t.key) }
  }
  const checkpoints = folder.parts.map((p) => p.checkpoint)
  const base = baseEntry(path, 'diffusers-folder', checkpoints.reduce((sum, c) => sum + c.fileSize, 0), await newest(checkpoints))
  return diffusersInspection(base, folder)
}

function fromDetection(base: ModelEntry, checkpoint: Checkpoint, detection: Detection): ModelEntry {
  const { recipe, notes: recipeNotes } = embeddedRecipeOf(checkpoint.metadata)
  const entry: ModelEntry = {
    ...base,
    architecture: detection.architecture,
    variant: detection.variant,
    predictionType: detection.predictionType,
    predictionSource: detection.predictionSource,
    layout: detection.layout,
    components: [...detection.components],
    ...tensorTotals(checkpoint.tensors),
    metadata: { ...checkpoint.metadata },
    recipe,
    llm: detection.llm,
    notes: [...checkpoint.notes, ...detection.notes, ...recipeNotes],
  }
  if (checkpoint.unsupported !== undefined) return { ...entry, status: 'unsupported', problem: checkpoint.unsupported }
  if (detection.architecture === 'lora') return { ...entry, lora: loraDetailsOf(checkpoint) }
  return entry
}

/** A LoRA's modules, ranks and training metadata (its alphas are scalars: read here). */
function loraDetailsOf(checkpoint: Checkpoint): ModelEntry['lora'] {
  const reader = new TensorReader()
  try {
    return loraDetails(readLoraFile(checkpoint, reader))
  } finally {
    reader.close()
  }
}

/** Merges read Hugging Face folders of causal language models; other transformers folders are listed only. */
function hfFolderStatus(entry: ModelEntry): ModelEntry {
  return entry.status === 'ok' && entry.architecture !== 'llm' ? { ...entry, status: 'unsupported', problem: HF_FOLDER_PROBLEM } : entry
}

function folderStatus(entry: ModelEntry): ModelEntry {
  return entry.status === 'ok' ? { ...entry, status: 'unsupported', problem: FOLDER_PROBLEM } : entry
}

function embeddedRecipeOf(metadata: Readonly<Record<string, string>>): { recipe: unknown; notes: string[] } {
  const text = metadata[AMALGAM_RECIPE]
  if (text === undefined) return { recipe: null, notes: [] }
  try {
    return { recipe: JSON.parse(text) as unknown, notes: [] }
  } catch {
    return { recipe: null, notes: [`the ${AMALGAM_RECIPE} metadata is not valid JSON; ignored`] }
  }
}

/** Parameters per stored dtype (unsupported dtypes under their own name), and the totals. */
function tensorTotals(tensors: readonly TensorInfo[]): Pick<ModelEntry, 'dtypes' | 'params' | 'keys'> {
  const dtypes: Record<string, number> = {}
  let params = 0
  for (const t of tensors) {
    const count = numelOf(t.shape)
    const dtype = t.locator.unsupportedDtype ?? t.dtype
    dtypes[dtype] = (dtypes[dtype] ?? 0) + count
    params += count
  }
  return { dtypes, params, keys: tensors.length }
}

/** Pipelines whose class names the family (StableDiffusionPipeline covers SD1 and SD2: shapes decide). */
const PIPELINE_ARCHITECTURES: Readonly<Record<string, Architecture>> = {
  StableDiffusionXLPipeline: 'sdxl',
  StableDiffusionXLImg2ImgPipeline: 'sdxl-refiner',
  StableDiffusion3Pipeline: 'sd3',
  FluxPipeline: 'flux',
}

/** diffusers text_encoder, text_encoder_2, text_encoder_3 per architecture, as Amalgam's component ids. */
const TEXT_ENCODERS: Readonly<Partial<Record<Architecture, readonly string[]>>> = {
  sd1: ['clip_l'],
  sd2: ['openclip_h'],
  sdxl: ['clip_l', 'clip_g'],
  'sdxl-refiner': ['clip_g'],
  sd3: ['clip_l', 'clip_g', 't5'],
  flux: ['clip_l', 't5'],
}

function diffusersComponent(architecture: Architecture, part: string): string {
  const encoder = /^text_encoder(?:_(\d))?$/.exec(part)
  if (encoder !== null) return TEXT_ENCODERS[architecture]?.[encoder[1] === undefined ? 0 : Number(encoder[1]) - 1] ?? part
  return part
}

function diffusersInspection(base: ModelEntry, folder: DiffusersFolder): Inspection {
  const main = folder.parts.find((p) => p.name === 'unet' || p.name === 'transformer') ?? folder.parts[0]!
  const detection = detectModel(main.checkpoint.tensors, { metadata: main.checkpoint.metadata })
  const fromPipeline = folder.pipeline === null ? undefined : PIPELINE_ARCHITECTURES[folder.pipeline]
  const architecture = detection.architecture === 'unknown' || detection.architecture === 'component' ? (fromPipeline ?? detection.architecture) : detection.architecture
  const components: ComponentSummary[] = folder.parts.map((p) => ({
    id: diffusersComponent(architecture, p.name),
    keys: p.checkpoint.tensors.length,
    params: p.checkpoint.tensors.reduce((sum, t) => sum + numelOf(t.shape), 0),
  }))
  const allTensors = folder.parts.flatMap((p) => p.checkpoint.tensors)
  const unsupported = folder.parts.map((p) => p.checkpoint.unsupported).find((u) => u !== undefined)
  const entry: ModelEntry = {
    ...base,
    architecture,
    variant: detection.variant,
    ...diffusersPrediction(architecture, detection, folder.schedulerPrediction),
    layout: 'diffusers',
    components,
    ...tensorTotals(allTensors),
    notes: [...new Set([...folder.parts.flatMap((p) => p.checkpoint.notes), ...detection.notes])],
  }
  const withStatus = unsupported === undefined ? folderStatus(entry) : { ...entry, status: 'unsupported' as const, problem: unsupported }
  return { entry: withStatus, detection: { ...detection, architecture }, keys: main.checkpoint.tensors.map((t) => t.key) }
}

/** diffusers keeps the prediction type in the scheduler's config, which outranks what the UNet's shapes imply. */
function diffusersPrediction(
  architecture: Architecture,
  detection: Detection,
  scheduler: string | null,
): { predictionType: PredictionType; predictionSource: string | null } {
  const type: PredictionType | null = scheduler === 'epsilon' ? 'eps' : scheduler === 'v_prediction' ? 'v' : null
  if (type === null || architecture === 'sd3' || architecture === 'flux') return { predictionType: detection.predictionType, predictionSource: detection.predictionSource }
  return { predictionType: type, predictionSource: `scheduler/scheduler_config.json (prediction_type: ${scheduler})` }
}
