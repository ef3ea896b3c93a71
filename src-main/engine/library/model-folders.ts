import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { fileError } from '../errors'
import type { Checkpoint, TensorInfo } from '../formats/checkpoint'
import { ioError } from '../formats/file-io'
import { openCheckpoint } from '../formats/open'

/*
 * Model folders: a Hugging Face transformers folder (config.json + model.safetensors, or shards with
 * model.safetensors.index.json, or the pytorch_model*.bin equivalents) and a diffusers pipeline
 * folder (model_index.json + one subfolder per component). The library lists each as one model; its
 * tensors are read from the shard headers only, like single files.
 */

export type ModelFolderKind = 'hf-folder' | 'diffusers-folder'

const MODEL_INDEX = 'model_index.json'
const HF_CONFIG = 'config.json'
const SCHEDULER_CONFIG = join('scheduler', 'scheduler_config.json')
const WEIGHT_EXTENSIONS = ['safetensors', 'bin'] as const
const HF_STEMS = ['model', 'pytorch_model']
/** diffusers writes `.fp16` variants beside (or instead of) the full-precision files */
const DIFFUSERS_STEMS = ['diffusion_pytorch_model', 'model', 'pytorch_model', 'diffusion_pytorch_model.fp16', 'model.fp16']

/** What kind of model folder a folder holding these file names is; null for an ordinary folder. */
export function modelFolderKind(fileNames: ReadonlySet<string>): ModelFolderKind | null {
  if (fileNames.has(MODEL_INDEX)) return 'diffusers-folder'
  if (fileNames.has(HF_CONFIG) && weightNames(fileNames, HF_STEMS) !== null) return 'hf-folder'
  return null
}

/** What kind of model folder `dir` is, from the names of its files; null for an ordinary folder. */
export async function modelFolderKindAt(dir: string): Promise<ModelFolderKind | null> {
  return modelFolderKind(await fileNamesIn(dir))
}

type WeightNames = { readonly index: string; readonly shards: null } | { readonly index: null; readonly shards: readonly string[] }

/** The first naming scheme with files here: an index JSON, one file, or numbered shards (model-00001-of-00002.safetensors). */
function weightNames(fileNames: ReadonlySet<string>, stems: readonly string[]): WeightNames | null {
  for (const ext of WEIGHT_EXTENSIONS) {
    for (const stem of stems) {
      if (fileNames.has(`${stem}.${ext}.index.json`)) return { index: `${stem}.${ext}.index.json`, shards: null }
      if (fileNames.has(`${stem}.${ext}`)) return { index: null, shards: [`${stem}.${ext}`] }
      const numbered = new RegExp(`^${stem.replaceAll('.', '\\.')}-\\d+-of-\\d+\\.${ext}$`)
      const shards = [...fileNames].filter((name) => numbered.test(name)).sort()
      if (shards.length > 0) return { index: null, shards }
    }
  }
  return null
}

const ShardIndex = z.object({ weight_map: z.record(z.string(), z.string()) })

/** Shard file names in order of first appearance in the index's weight_map. */
async function shardsFromIndex(dir: string, indexName: string): Promise<string[]> {
  const path = join(dir, indexName)
  const parsed = ShardIndex.safeParse(await readJson(path))
  if (!parsed.success) throw fileError('BAD_HEADER', path, 'is not a shard index (expected an object with a "weight_map" of tensor names to file names)')
  const shards = [...new Set(Object.values(parsed.data.weight_map))]
  for (const shard of shards) {
    // the index comes from the download: it must not point outside its folder
    if (shard === '' || shard === '.' || shard === '..' || /[/\\]/.test(shard)) throw fileError('BAD_HEADER', path, `names the shard ${JSON.stringify(shard)}, which is not a file in the folder`)
  }
  if (shards.length === 0) throw fileError('BAD_HEADER', path, 'lists no shards')
  return shards
}

/** A JSON file, parsed; a missing or malformed file is an AmalgamError naming it. */
async function readJson(path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw ioError(err, path)
  }
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw fileError('BAD_HEADER', path, `is not valid JSON (${(err as Error).message})`)
  }
}

async function fileNamesIn(dir: string): Promise<Set<string>> {
  try {
    const entries = await readdir(dir, { withFileTypes: true })
    return new Set(entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name))
  } catch (err) {
    throw ioError(err, dir)
  }
}

/**
 * The tensors of the weight files in `dir` (every shard's header) as one checkpoint whose path is the
 * folder; null when the folder has no weights under these names.
 */
async function openWeights(dir: string, stems: readonly string[], format: Checkpoint['format']): Promise<Checkpoint | null> {
  return (await openShards(dir, stems, format))?.checkpoint ?? null
}

/** openWeights, keeping each shard's own header (merges hash and check every shard file). */
async function openShards(dir: string, stems: readonly string[], format: Checkpoint['format']): Promise<{ checkpoint: Checkpoint; shards: Checkpoint[] } | null> {
  const names = weightNames(await fileNamesIn(dir), stems)
  if (names === null) return null
  const shards = names.index === null ? names.shards : await shardsFromIndex(dir, names.index)
  const opened: Checkpoint[] = []
  for (const shard of shards) opened.push(await openCheckpoint(join(dir, shard)))
  const owner = new Map<string, string>()
  const tensors: TensorInfo[] = []
  for (const checkpoint of opened) {
    for (const t of checkpoint.tensors) {
      const first = owner.get(t.key)
      if (first !== undefined) throw fileError('BAD_HEADER', dir, `tensor ${JSON.stringify(t.key)} is in two shards (${first} and ${checkpoint.path})`)
      owner.set(t.key, checkpoint.path)
      tensors.push(t)
    }
  }
  const unsupported = opened.map((c) => c.unsupported).filter((u): u is string => u !== undefined)
  const checkpoint: Checkpoint = {
    path: dir,
    format,
    fileSize: opened.reduce((sum, c) => sum + c.fileSize, 0),
    tensors,
    metadata: opened[0]?.metadata ?? {},
    ...(unsupported.length > 0 ? { unsupported: [...new Set(unsupported)].join('; ') } : {}),
    notes: [...new Set(opened.flatMap((c) => c.notes))],
  }
  return { checkpoint, shards: opened }
}

export interface HfFolder {
  readonly kind: 'hf-folder'
  readonly checkpoint: Checkpoint
  /** every weight file on its own, in index order */
  readonly shards: readonly Checkpoint[]
  /** config.json, parsed (detection reads the family, widths and vocabulary from it) */
  readonly config: unknown
}

export interface DiffusersPart {
  /** the subfolder: unet, transformer, text_encoder, text_encoder_2, vae, ... */
  readonly name: string
  readonly checkpoint: Checkpoint
}

export interface DiffusersFolder {
  readonly kind: 'diffusers-folder'
  /** model_index.json `_class_name` (StableDiffusionXLPipeline, FluxPipeline, ...) */
  readonly pipeline: string | null
  /** subfolders with weights, in model_index.json order */
  readonly parts: readonly DiffusersPart[]
  /** scheduler/scheduler_config.json `prediction_type`, when given */
  readonly schedulerPrediction: string | null
}

export type ModelFolder = HfFolder | DiffusersFolder

export async function openModelFolder(dir: string, kind: ModelFolderKind): Promise<ModelFolder> {
  return kind === 'hf-folder' ? openHfFolder(dir) : openDiffusersFolder(dir)
}

async function openHfFolder(dir: string): Promise<HfFolder> {
  const config = await readJson(join(dir, HF_CONFIG))
  const weights = await openShards(dir, HF_STEMS, 'hf-folder')
  if (weights === null) throw fileError('FILE_NOT_FOUND', dir, 'has a config.json but no model.safetensors, pytorch_model.bin or shards of them')
  return { kind: 'hf-folder', checkpoint: weights.checkpoint, shards: weights.shards, config }
}

const ModelIndex = z.looseObject({ _class_name: z.string().optional() })
const SchedulerConfig = z.looseObject({ prediction_type: z.string().optional() })

async function openDiffusersFolder(dir: string): Promise<DiffusersFolder> {
  const indexPath = join(dir, MODEL_INDEX)
  const index = ModelIndex.safeParse(await readJson(indexPath))
  if (!index.success) throw fileError('BAD_HEADER', indexPath, 'is not a diffusers model index (expected a JSON object)')
  const parts: DiffusersPart[] = []
  for (const [name, value] of Object.entries(index.data)) {
    // components are ["library", "ClassName"] pairs; `_class_name` and friends are not
    if (name.startsWith('_') || !Array.isArray(value) || /[/\\]/.test(name)) continue
    const sub = join(dir, name)
    if (!(await isDirectory(sub))) continue
    const checkpoint = await openWeights(sub, DIFFUSERS_STEMS, 'diffusers-folder')
    if (checkpoint !== null) parts.push({ name, checkpoint })
  }
  if (parts.length === 0) throw fileError('FILE_NOT_FOUND', dir, 'is a diffusers folder without weight files (diffusion_pytorch_model.safetensors or model.safetensors in its subfolders)')
  const scheduler = await readJson(join(dir, SCHEDULER_CONFIG)).catch(() => null)
  const parsedScheduler = SchedulerConfig.safeParse(scheduler)
  return {
    kind: 'diffusers-folder',
    pipeline: index.data._class_name ?? null,
    parts,
    schedulerPrediction: parsedScheduler.success ? (parsedScheduler.data.prediction_type ?? null) : null,
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path)
    .then((s) => s.isDirectory())
    .catch(() => false)
}

export interface FolderFingerprint {
  /** bytes of every file in the folder (and, for diffusers, in its subfolders) */
  readonly size: number
  /** the newest modification among them */
  readonly mtimeMs: number
}

/**
 * Size and newest modification time of the files a model folder is made of, without opening any:
 * what the entry cache compares to know the folder is unchanged. Unreadable entries are left out.
 */
export async function folderFingerprint(dir: string, kind: ModelFolderKind): Promise<FolderFingerprint> {
  let size = 0
  let mtimeMs = 0
  const visit = async (folder: string, depth: number): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue
      const path = join(folder, entry.name)
      const info = await stat(path).catch(() => null)
      if (info === null) continue
      if (info.isFile()) {
        size += info.size
        mtimeMs = Math.max(mtimeMs, info.mtimeMs)
      } else if (info.isDirectory() && depth > 0) {
        await visit(path, depth - 1)
      }
    }
  }
  await visit(dir, kind === 'diffusers-folder' ? 1 : 0)
  return { size, mtimeMs }
}
