import { z } from 'zod'

/**
 * The recipe: one versioned JSON object that is at once the merge request, the saved preset, the
 * lineage record embedded in outputs, the IPC payload and the CLI input. See docs/RECIPES.md.
 */
export const RECIPE_FORMAT = 'amalgam.recipe'
export const RECIPE_VERSION = 1

/** A numeric parameter that varies over the model. Precedence: keys > blocks > gradient > value > method default. */
export const StructuredNumber = z.strictObject({
  /** the global value */
  value: z.number().optional(),
  /** per-block values, by block id of the recipe's block convention (BASE, IN00, ... / L00, ...) */
  blocks: z.record(z.string(), z.number()).optional(),
  /** anchors spread evenly over the blocks (or layers) in order and linearly interpolated (mergekit's rule) */
  gradient: z.array(z.number()).min(1).optional(),
  /** per-key overrides: the first rule whose regex matches the key wins */
  keys: z.array(z.strictObject({ pattern: z.string().min(1), value: z.number() })).optional(),
})
export type StructuredNumber = z.infer<typeof StructuredNumber>

export const NumberValue = z.union([z.number(), StructuredNumber])
export type NumberValue = z.infer<typeof NumberValue>

/** per-model parameters (weights, densities) are arrays aligned with the node's inputs */
export const ParamValue = z.union([z.number(), z.boolean(), z.string(), StructuredNumber, z.array(NumberValue)])
export type ParamValue = z.infer<typeof ParamValue>

export const ModelInput = z.strictObject({
  /** path to a checkpoint file or model folder; relative paths are relative to the recipe file */
  model: z.string().min(1),
  /** filled in by lineage: full-file SHA-256 and size of the input that was used */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  size: z.number().int().nonnegative().optional(),
})
export type ModelInput = z.infer<typeof ModelInput>

export interface MergeNode {
  method: string
  inputs: Input[]
  base?: Input
  params: Record<string, ParamValue>
}
export type Input = ModelInput | MergeNode | LoraNode

/** LoRA block weights: a preset (INALL, MIDD, ...), sd-webui-lora-block-weight's "1,0,0,...", numbers in scheme order, or block id → weight */
export const LoraBlockWeights = z.union([z.string().min(1), z.array(z.number()).min(1), z.record(z.string(), z.number())])
export type LoraBlockWeights = z.infer<typeof LoraBlockWeights>

export const LoraApplication = z.strictObject({
  /** path to a LoRA / LyCORIS file; relative paths are relative to the recipe file */
  path: z.string().min(1),
  /** the delta's multiplier (1 = as trained; negative subtracts) */
  strength: z.number().default(1),
  /** per-block strengths (multiplied with strength); omitted = 1 everywhere */
  blocks: LoraBlockWeights.optional(),
})
export type LoraApplication = z.infer<typeof LoraApplication>

/** LoRAs baked into a model: its result feeds any merge input (see docs/RECIPES.md) */
export interface LoraNode {
  lora: Input
  loras: LoraApplication[]
}

export const MergeNode: z.ZodType<MergeNode> = z.strictObject({
  /** a method id or alias (`amalgam methods`) */
  method: z.string().min(1),
  /** roles by position: a (primary: the result is built on it), b, c, ... */
  get inputs() {
    return z.array(Input).min(1)
  },
  /** the common ancestor task vectors are taken against (add_difference's C, TIES's base) */
  get base() {
    return Input.optional()
  },
  params: z.record(z.string(), ParamValue).default({}),
})

export const LoraNode: z.ZodType<LoraNode> = z.strictObject({
  /** the model the LoRAs are applied to */
  get lora() {
    return Input
  },
  loras: z.array(LoraApplication).min(1),
})

export const Input: z.ZodType<Input> = z.union([ModelInput, z.lazy(() => MergeNode), z.lazy(() => LoraNode)])

export function isModelInput(input: Input): input is ModelInput {
  return 'model' in input
}

export function isLoraNode(input: Input): input is LoraNode {
  return 'loras' in input
}

/** merge it, take it from input N (0 = a), drop it, or (VAE) bake it in from a file */
export const ComponentChoice = z.union([
  z.literal('merge'),
  z.literal('drop'),
  z.strictObject({ take: z.number().int().nonnegative() }),
  z.strictObject({ file: z.string().min(1) }),
])
export type ComponentChoice = z.infer<typeof ComponentChoice>

export const KeyPolicy = z.enum(['error', 'skip', 'fallback'])
export type KeyPolicy = z.infer<typeof KeyPolicy>

export const OutputDType = z.enum(['auto', 'fp32', 'fp16', 'bf16', 'fp8_e4m3', 'fp8_e5m2'])
export type OutputDType = z.infer<typeof OutputDType>

export const PredictionType = z.enum(['eps', 'v', 'flow', 'unknown'])
export type PredictionType = z.infer<typeof PredictionType>

/** How LLM inputs with different vocabulary sizes are merged: fit to a's vocabulary, or take embeddings and head from input N. */
export const VocabularyPolicy = z.union([z.literal('fit-to-a'), z.strictObject({ take: z.number().int().nonnegative() })])
export type VocabularyPolicy = z.infer<typeof VocabularyPolicy>

/** Frankenmerges: output layers are these slices in order, layers [from, to) of a model, renumbered from 0. */
export const LayerSlice = z.strictObject({
  /** path to a Hugging Face LLM folder (or file); relative paths as for inputs */
  model: z.string().min(1),
  /** [from, to): from inclusive, to exclusive, as mergekit's layer_range */
  layers: z.tuple([z.number().int().nonnegative(), z.number().int().positive()]),
})
export type LayerSlice = z.infer<typeof LayerSlice>

export const BlockConventionRef = z.strictObject({
  /** e.g. supermerger, sd_mecha, model_mixer, comfyui, layers */
  name: z.string().min(1),
  /** conventions change over time (supermerger mapped time_embed to OUT11 from 2023-07 to 2025-11) */
  version: z.string().min(1),
})
export type BlockConventionRef = z.infer<typeof BlockConventionRef>

export const Recipe = z.strictObject({
  format: z.literal(RECIPE_FORMAT),
  version: z.literal(RECIPE_VERSION),
  name: z.string().optional(),
  merge: MergeNode,
  /** omitted: the architecture's default convention at its current version, written back on run */
  blocks: BlockConventionRef.optional(),
  /** per component id (unet, transformer, clip_l, clip_g, openclip_h, t5, vae, ema, scheduler, leftovers) */
  components: z.record(z.string(), ComponentChoice).default({}),
  keys: z
    .strictObject({
      include: z.array(z.string()).default([]),
      exclude: z.array(z.string()).default([]),
      /** what happens to keys the include/exclude rules leave out: copied from a, or dropped */
      excluded: z.enum(['copy', 'drop']).default('copy'),
      /** a key some merge input lacks */
      missing: KeyPolicy.default('skip'),
      /** a key whose shapes differ between inputs (inpainting's first conv is handled on its own) */
      shapeMismatch: KeyPolicy.default('error'),
      /** input index used by the 'fallback' policies */
      fallback: z.number().int().nonnegative().default(0),
    })
    .prefault({}),
  options: z
    .strictObject({
      /** merge inputs whose prediction types differ (v-pred with eps, ...) */
      allowPredictionMismatch: z.boolean().default(false),
      /** prediction type markers written to the output; default: those of a */
      predictionType: PredictionType.optional(),
      /** swap EMA weights into the UNet before merging, for inputs that carry them */
      useEma: z.boolean().default(false),
      /** rewrite CLIP position_ids to 0..76 (int64), for inputs whose ids were damaged by float merges */
      resetPositionIds: z.boolean().default(false),
      /** LLMs whose vocabularies differ (omitted: refused): a's vocabulary with the shared rows merged, or embeddings, head and tokenizer taken from input N */
      vocabulary: VocabularyPolicy.optional(),
    })
    .prefault({}),
  output: z.strictObject({
    path: z.string().min(1),
    dtype: OutputDType.default('auto'),
    /** embed this recipe and sd_merge_recipe in the file's metadata (off for private merges) */
    embedRecipe: z.boolean().default(true),
    /** Hugging Face folder outputs (a path without .safetensors): bytes per shard, default 5e9 (mergekit's) */
    shardSize: z.number().int().positive().optional(),
  }),
  /** LLM frankenmerge (merge.method passthrough on the model giving embeddings and head): the output's layers */
  slices: z.array(LayerSlice).min(1).optional(),
  /** per-key random streams are derived from (seed, key): results do not depend on order or threads */
  seed: z.number().int().nonnegative().default(0),
})
export type Recipe = z.infer<typeof Recipe>
export type RecipeInput = z.input<typeof Recipe>
