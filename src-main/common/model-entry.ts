import { z } from 'zod'

/** Architectures Amalgam recognises. Component-only files say what they are (vae, clip_l, ...). */
export const Architecture = z.enum([
  'sd1',
  'sd2',
  'sdxl',
  'sdxl-refiner',
  'sd3',
  'flux',
  'llm',
  'lora',
  'component',
  'unknown',
])
export type Architecture = z.infer<typeof Architecture>

export const ComponentSummary = z.strictObject({
  /** unet, transformer, clip_l, clip_g, openclip_h, t5, vae, ema, scheduler, markers, leftovers, llm, lora */
  id: z.string(),
  keys: z.number(),
  params: z.number(),
})
export type ComponentSummary = z.infer<typeof ComponentSummary>

export const Hashes = z.strictObject({
  /** full-file SHA-256 */
  sha256: z.string().nullable(),
  /** first 10 hex digits of sha256 (A1111 short hash, civitai AutoV2) */
  autov2: z.string().nullable(),
  /** legacy A1111 hash: SHA-256 of the 64 KiB at offset 1 MiB, 8 hex digits */
  autov1: z.string().nullable(),
  /** SHA-256 of the tensor bytes after the safetensors header (= modelspec.hash_sha256) */
  tensorSha256: z.string().nullable(),
  /** first 12 hex digits of tensorSha256 */
  autov3: z.string().nullable(),
})
export type Hashes = z.infer<typeof Hashes>

export const LlmDetails = z.strictObject({
  family: z.string(),
  layers: z.number(),
  hiddenSize: z.number().nullable(),
  vocabSize: z.number().nullable(),
  tiedEmbeddings: z.boolean(),
})
export type LlmDetails = z.infer<typeof LlmDetails>

export const LoraDetails = z.strictObject({
  /** the architecture the LoRA's modules were written for (from its module names and ss_base_model_version) */
  baseArchitecture: z.enum(['sd1', 'sd2', 'sdxl', 'flux', 'unknown']),
  /** lora (LoRA / LoCon), loha, lokr; several when the file mixes them */
  networkTypes: z.array(z.enum(['lora', 'loha', 'lokr'])),
  /** module name spelling: kohya (lora_unet_…) or diffusers / PEFT (unet.…, transformer.…) */
  naming: z.enum(['kohya', 'diffusers', 'mixed']),
  modules: z.number(),
  /** the most common rank; null when no module has one */
  rank: z.number().nullable(),
  /** the most common alpha; null when the file stores none (scale 1) */
  alpha: z.number().nullable(),
  /** whether some module adapts a convolution (LoCon / conv LoHa, LoKr) */
  conv: z.boolean(),
  textEncoder: z.boolean(),
  /** modules whose network Amalgam cannot apply (DoRA, Tucker decompositions, unknown tensors) */
  unsupportedModules: z.number(),
  /** kohya training metadata (ss_*), as stored */
  training: z.record(z.string(), z.string()),
})
export type LoraDetails = z.infer<typeof LoraDetails>

/** One model in the library, as `amalgam inspect --json` and `amalgam scan --json` print it (docs/LIBRARY.md). */
export const ModelEntry = z.strictObject({
  path: z.string(),
  name: z.string(),
  format: z.enum(['safetensors', 'ckpt', 'hf-folder', 'diffusers-folder']),
  size: z.number(),
  mtimeMs: z.number(),
  /** ok; unsupported (we can read it but not compute on it); error (malformed, hostile, unreadable) */
  status: z.enum(['ok', 'unsupported', 'error']),
  problem: z.string().nullable(),
  architecture: Architecture,
  /** inpainting, instruct-pix2pix, dev, schnell, medium, large, base, vae, clip_l, ... */
  variant: z.string().nullable(),
  predictionType: z.enum(['eps', 'v', 'flow', 'unknown']),
  /** where the prediction type came from: a marker key, the sidecar .yaml, metadata, the architecture */
  predictionSource: z.string().nullable(),
  /** ldm, sgm, comfy, bfl, bare, diffusers, hf, component, unknown (engine/arch/detection-types.ts ModelLayout) */
  layout: z.string(),
  components: z.array(ComponentSummary),
  /** parameter count per stored dtype */
  dtypes: z.record(z.string(), z.number()),
  params: z.number(),
  keys: z.number(),
  metadata: z.record(z.string(), z.string()),
  hashes: Hashes,
  /** the Amalgam recipe embedded in a merged file, when there is one */
  recipe: z.unknown().nullable(),
  llm: LlmDetails.nullable(),
  /** LoRA / LyCORIS files only */
  lora: LoraDetails.optional(),
  notes: z.array(z.string()),
})
export type ModelEntry = z.infer<typeof ModelEntry>
