import type { PlanSummary } from '../../common/plan-summary'
import type { Recipe } from '../../common/recipe'
import type { DType } from '../formats/dtype'
import type { PlannedFolderOutput } from '../llm/folder-output-plan'
import type { TensorLocator } from '../formats/checkpoint'
import type { LoraFactors } from '../lora/lora-file'
import type { ResolvedParams } from '../methods/types'

/*
 * A plan is plain data (structured-cloneable): the main thread builds it before any byte is written;
 * worker threads execute its key tasks. Everything a kernel needs for a key is resolved here —
 * locators, method ids, per-key parameter values, seeds — so workers make no decisions.
 */

/** A leaf: one stored tensor of one input file (optionally a channel slice of it, for inpainting). */
export interface TensorExpr {
  readonly kind: 'tensor'
  readonly locator: TensorLocator
}

/** A method applied to sub-expressions for this key. `id` is structural: equal ids compute equal tensors (evaluated once per key). */
export interface MethodExpr {
  readonly kind: 'method'
  readonly id: string
  /** registry id (aliases already resolved) */
  readonly method: string
  /** every parameter resolved to a scalar (or per-input array) for this key and checked by completeParams */
  readonly params: ResolvedParams
  readonly inputs: readonly Expr[]
  readonly base: Expr | null
  /** stable name of the recipe node ("merge", "merge.inputs[1]") for seeding and messages */
  readonly node: string
}

/** A model's tensor with LoRA deltas added (engine/lora): model + Σ scale · delta, each over its rows. */
export interface LoraExpr {
  readonly kind: 'lora'
  /** structural, like a method's */
  readonly id: string
  readonly model: Expr
  readonly patches: readonly LoraPatch[]
  /** recipe path of the LoRA node, for messages */
  readonly node: string
}

export interface LoraPatch {
  readonly factors: LoraFactors
  /** strength × block weight × alpha / rank */
  readonly scale: number
  /** rows [start, start + count) of the tensor the delta covers (one of q / k / v of a fused weight); null = all */
  readonly rows: { readonly start: number; readonly count: number } | null
  /** the tensor's elements per (output, input) pair: 1 for linear layers, k·k for convolutions */
  readonly kernel: number
}

export type Expr = TensorExpr | MethodExpr | LoraExpr

/** Writes the value of `expr` over channels [0, count) of dimension `dim` of a's tensor; the rest stays a's. */
export interface ChannelSlice {
  readonly dim: number
  readonly count: number
  /** a's full tensor, which the slice is written into */
  readonly full: TensorLocator
}

export type KeyAction =
  /** bytes of a stored tensor, transcoded when the output dtype differs */
  | { readonly kind: 'copy'; readonly source: TensorLocator }
  | { readonly kind: 'merge'; readonly expr: MethodExpr; readonly slice: ChannelSlice | null }
  /** CLIP position_ids rebuilt as 0..n-1 (int64), for inputs whose ids were damaged by float merges */
  | { readonly kind: 'position_ids'; readonly length: number }

export interface KeyTask {
  readonly index: number
  /** output tensor name (a's naming) */
  readonly key: string
  readonly dtype: DType
  readonly shape: readonly number[]
  readonly action: KeyAction
  /** block in the recipe's convention, for per-block change statistics; null = none */
  readonly block: string | null
  /** bytes in the output file: position = output dataStart + begin */
  readonly begin: number
  readonly end: number
  /** bytes read from inputs to produce this key, for progress and estimates */
  readonly inputBytes: number
}

export interface PlannedOutput {
  readonly path: string
  /** `__metadata__` known before merging, and the header bytes reserved for what is patched in at the end: both from lineage/metadata.ts buildOutputMetadata */
  readonly metadata: Readonly<Record<string, string>>
  readonly reserveMetadataBytes: number
  /** replace an existing file at `path` (an input is never replaced) */
  readonly overwrite: boolean
  /** a sidecar .yaml of `a` (SD2-768-v) to copy beside the output */
  readonly sidecarYaml: string | null
  /** set when `path` is a Hugging Face folder to write (LLM merges): shards, config, tokenizer, model card */
  readonly folder?: PlannedFolderOutput
}

export interface Plan {
  /** the recipe with aliases resolved, defaults filled and the block convention pinned */
  readonly recipe: Recipe
  readonly summary: PlanSummary
  readonly output: PlannedOutput
  readonly tasks: readonly KeyTask[]
  /** recipe seed: per-key random streams derive from (seed, key, node, stream) */
  readonly seed: number
  /** every input file, for hashing and lineage */
  readonly inputs: readonly PlannedInputFile[]
}

export interface PlannedInputFile {
  readonly role: string
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
  readonly architecture: string
  /** the input's own embedded recipe / sd_merge_recipe, for the ancestry tree */
  readonly metadata: Readonly<Record<string, string>>
  /** safetensors data start, for AutoV3 hashing; null for other formats */
  readonly dataStart: number | null
}
