import { readdir } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import type { OutputDType, Recipe } from '../../common/recipe'
import { AmalgamError } from '../errors'
import { ioError } from '../formats/file-io'
import type { PlanInput } from '../plan/plan-inputs'
import type { Findings } from '../plan/findings'
import type { KeyTask } from '../plan/types'
import { formatBytes } from '../plan/format'
import { modelCard } from './model-card'
import { groupIntoShards } from './shards'

/** mergekit's default out_shard_size (bytes). */
export const DEFAULT_SHARD_BYTES = 5_000_000_000

/** What the executor needs to turn the merged tensors into a Hugging Face folder (plain data). */
export interface PlannedFolderOutput {
  /** most bytes of tensor data per shard (a single larger tensor gets a shard of its own) */
  readonly shardSize: number
  /** config.json of the output */
  readonly config: Readonly<Record<string, unknown>>
  /** files copied into the folder unchanged (tokenizer, generation config), absolute paths */
  readonly copyFiles: readonly string[]
  /** README.md */
  readonly modelCard: string
}

/** A recipe output path without the .safetensors extension names a Hugging Face folder. */
export function isFolderOutput(outputPath: string): boolean {
  return extname(outputPath).toLowerCase() !== '.safetensors'
}

/** torch_dtype names transformers writes for each output dtype. */
const TORCH_DTYPE: Readonly<Record<OutputDType, string | null>> = {
  auto: null,
  fp32: 'float32',
  fp16: 'float16',
  bf16: 'bfloat16',
  fp8_e4m3: 'float8_e4m3fn',
  fp8_e5m2: 'float8_e5m2',
}

/** Tokenizer and generation files transformers loads from a model folder, copied from the vocabulary's source. */
const TOKENIZER_FILE = /^(tokenizer\.json|tokenizer_config\.json|tokenizer\.model|special_tokens_map\.json|added_tokens\.json|vocab\.json|vocab\.txt|merges\.txt|chat_template\.(json|jinja)|spiece\.model)$/
const GENERATION_CONFIG = 'generation_config.json'

export interface FolderOutputOptions {
  readonly recipe: Recipe
  readonly outputPath: string
  /** a: config.json and generation_config.json come from it */
  readonly a: PlanInput
  /** whose tokenizer (and vocab_size) the output has */
  readonly vocabularySource: PlanInput
  readonly dtype: OutputDType
  /** every input by role, for the model card */
  readonly inputs: readonly { readonly role: string; readonly path: string }[]
  /** a frankenmerge's layer count (num_hidden_layers); undefined: a's */
  readonly layers?: number | undefined
}

/**
 * Plans a Hugging Face folder output: config.json from a (torch_dtype set to the output dtype,
 * vocab_size that of the vocabulary's source), tokenizer files from the vocabulary's source,
 * generation_config.json from a, and the model card. a must be an HF folder: a single file has no
 * config.json to start from.
 */
export async function planFolderOutput(opts: FolderOutputOptions): Promise<PlannedFolderOutput> {
  const { a, vocabularySource } = opts
  if (a.hfFolder === undefined || typeof a.hfFolder.config !== 'object' || a.hfFolder.config === null) {
    throw new AmalgamError(
      'BAD_RECIPE',
      `output.path: ${opts.outputPath} names a folder (no .safetensors extension), but a (${a.path}) is not a Hugging Face model folder whose config.json the output could start from; name the output *.safetensors`,
    )
  }
  const config: Record<string, unknown> = { ...(a.hfFolder.config as Record<string, unknown>) }
  const torchDtype = TORCH_DTYPE[opts.dtype]
  if (torchDtype !== null) config.torch_dtype = torchDtype
  const vocabSize = vocabularySource.detection.llm?.vocabSize
  if (vocabularySource !== a && typeof vocabSize === 'number') config.vocab_size = vocabSize
  if (opts.layers !== undefined) config.num_hidden_layers = opts.layers
  const tokenizerFiles = vocabularySource.hfFolder === undefined ? [] : (await filesIn(vocabularySource.path)).filter((n) => TOKENIZER_FILE.test(n)).map((n) => join(vocabularySource.path, n))
  const generation = (await filesIn(a.path)).includes(GENERATION_CONFIG) ? [join(a.path, GENERATION_CONFIG)] : []
  return {
    shardSize: opts.recipe.output.shardSize ?? DEFAULT_SHARD_BYTES,
    config,
    copyFiles: [...tokenizerFiles, ...generation],
    modelCard: modelCard({ recipe: opts.recipe, inputs: opts.inputs, name: opts.recipe.name ?? basename(opts.outputPath) }),
  }
}

/**
 * Says what the folder will hold, and returns the disk space the run needs: the tensors are written
 * as one file and then cut into shards, so more than one shard needs the output twice for a moment.
 */
export function folderDiskBytes(folder: PlannedFolderOutput, tasks: readonly KeyTask[], totalBytes: number, findings: Findings): number {
  const shards = groupIntoShards(tasks, (t) => t.end - t.begin, folder.shardSize).length
  const copied = folder.copyFiles.map((f) => basename(f)).join(', ')
  findings.add(
    'info',
    'HF_FOLDER_OUTPUT',
    `the output is a Hugging Face folder: ${shards === 1 ? 'model.safetensors' : `${shards} shards of at most ${formatBytes(folder.shardSize)} with model.safetensors.index.json`}, config.json, README.md${copied === '' ? '' : `, ${copied}`}`,
  )
  return shards === 1 ? totalBytes : 2 * totalBytes
}

async function filesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name)
  } catch (err) {
    throw ioError(err, dir)
  }
}
