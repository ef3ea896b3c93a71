import { readFile, stat } from 'node:fs/promises'
import { detectModel } from '../arch/detect'
import type { Detection } from '../arch/detection-types'
import { canonicalKey } from '../arch/keys'
import { AmalgamError, fileError, isAmalgamError } from '../errors'
import type { Checkpoint, TensorInfo } from '../formats/checkpoint'
import { ioError } from '../formats/file-io'
import { openCheckpoint } from '../formats/open'
import { modelFolderKindAt, openModelFolder } from '../library/model-folders'
import { sidecarPath } from '../lineage/sidecar'

/** An input file as the planner sees it: its header, what it is, and its tensors by canonical key. */
export interface PlanInput {
  readonly path: string
  readonly checkpoint: Checkpoint
  readonly detection: Detection
  readonly size: number
  readonly mtimeMs: number
  /** A1111's `<name>.yaml` beside the file, when there is one */
  readonly sidecarYaml: string | null
  /** canonical key → tensor, in file order */
  readonly tensors: ReadonlyMap<string, TensorInfo>
  /** set when the input is a Hugging Face model folder (`path` is the folder) */
  readonly hfFolder?: HfFolderInput
}

/** A Hugging Face folder input: its config.json, and each weight file (hashed and checked one by one). */
export interface HfFolderInput {
  readonly config: unknown
  readonly shards: readonly HfShard[]
}

export interface HfShard {
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
  readonly metadata: Readonly<Record<string, string>>
  /** safetensors data start; null for pytorch_model*.bin shards */
  readonly dataStart: number | null
}

/**
 * Opens and identifies one input. `where` is the recipe path that names it, so a problem reads
 * "merge.inputs[1]: /models/b.safetensors: file not found".
 */
export async function openPlanInput(path: string, where: string): Promise<PlanInput> {
  try {
    let info
    try {
      info = await stat(path)
    } catch (err) {
      throw ioError(err, path)
    }
    if (info.isDirectory()) return await openFolderInput(path)
    const checkpoint = await openCheckpoint(path)
    const yamlPath = sidecarPath(path, '.yaml')
    const yaml = await readFile(yamlPath, 'utf8').catch(() => null)
    const detection = detectModel(checkpoint.tensors, { metadata: checkpoint.metadata, sidecarYaml: yaml })
    const tensors = new Map<string, TensorInfo>()
    for (const t of checkpoint.tensors) tensors.set(canonicalKey(detection, t.key), t)
    return { path, checkpoint, detection, size: info.size, mtimeMs: info.mtimeMs, sidecarYaml: yaml === null ? null : yamlPath, tensors }
  } catch (err) {
    if (isAmalgamError(err)) throw new AmalgamError(err.code, `${where}: ${err.message}`, err.file)
    throw err
  }
}

/** An HF model folder as one input: tensors from every shard, detected with its config.json. */
async function openFolderInput(path: string): Promise<PlanInput> {
  const kind = await modelFolderKindAt(path)
  if (kind === 'diffusers-folder') throw fileError('UNSUPPORTED_FORMAT', path, 'is a diffusers folder: merges take Hugging Face transformers folders and single files (diffusers names are not converted yet)')
  if (kind === null) throw fileError('UNSUPPORTED_FORMAT', path, 'is a folder but not a model folder (expected config.json with model.safetensors, shards and their index, or pytorch_model*.bin)')
  const folder = await openModelFolder(path, kind)
  if (folder.kind !== 'hf-folder') throw new AmalgamError('INTERNAL', `${path}: expected a Hugging Face folder`)
  const shards: HfShard[] = []
  for (const shard of folder.shards) {
    let info
    try {
      info = await stat(shard.path)
    } catch (err) {
      throw ioError(err, shard.path)
    }
    shards.push({ path: shard.path, size: info.size, mtimeMs: info.mtimeMs, metadata: shard.metadata, dataStart: shard.dataStart ?? null })
  }
  const { checkpoint } = folder
  const detection = detectModel(checkpoint.tensors, { metadata: checkpoint.metadata, hfConfig: folder.config })
  const tensors = new Map<string, TensorInfo>()
  for (const t of checkpoint.tensors) tensors.set(canonicalKey(detection, t.key), t)
  return {
    path,
    checkpoint,
    detection,
    size: shards.reduce((sum, s) => sum + s.size, 0),
    mtimeMs: Math.max(...shards.map((s) => s.mtimeMs)),
    sidecarYaml: null,
    tensors,
    hfFolder: { config: folder.config, shards },
  }
}

/** The UNet key's EMA twin in a non-pruned LDM file: "model_ema." + the key without "model." and without dots. */
export function emaKeyOf(unetKey: string): string {
  return `model_ema.${unetKey.slice('model.'.length).replaceAll('.', '')}`
}

/**
 * The input with its UNet tensors replaced by their EMA twins (options.useEma); null when the file
 * carries no EMA weights.
 */
export function withEmaWeights(input: PlanInput, isUnetKey: (canonical: string) => boolean): PlanInput | null {
  const tensors = new Map(input.tensors)
  let swapped = 0
  for (const [key, tensor] of input.tensors) {
    if (!isUnetKey(key)) continue
    const ema = input.tensors.get(emaKeyOf(key))
    if (ema === undefined || !sameShape(ema.shape, tensor.shape)) continue
    // the tensor keeps its name (the output key); only where its values come from changes
    tensors.set(key, { ...tensor, dtype: ema.dtype, locator: ema.locator })
    swapped++
  }
  return swapped === 0 ? null : { ...input, tensors }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}
