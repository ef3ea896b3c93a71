import type { Architecture, ComponentSummary, LlmDetails } from '../../common/model-entry'
import type { PredictionType } from '../../common/recipe'
import type { TensorInfo } from '../formats/checkpoint'

/** What detection needs of a tensor: its name, dtype and shape (a header entry, a layout line). */
export type TensorHead = Pick<TensorInfo, 'key' | 'dtype' | 'shape'>

/**
 * How a file names its tensors.
 * ldm: SD1/SD2 single file (model.diffusion_model / cond_stage_model / first_stage_model);
 * sgm: SDXL single file (conditioner.embedders.N); comfy: DiT with `model.diffusion_model.` and
 * ComfyUI's text_encoders.* / vae.*; bfl: Flux with bare BFL names (the official release);
 * bare: SD3 transformer without the `model.diffusion_model.` prefix; diffusers: diffusers names
 * (down_blocks.N, transformer_blocks.N), which do not line up with any single-file layout;
 * hf: transformers LLM; component: a lone VAE / text encoder; unknown: LoRA and unrecognised files.
 */
export type ModelLayout = 'ldm' | 'sgm' | 'comfy' | 'bfl' | 'bare' | 'diffusers' | 'hf' | 'component' | 'unknown'

/** Naming details beyond the layout that key normalisation needs to write names back in a file's own style. */
export interface KeyStyle {
  /** DiT transformer keys without `model.diffusion_model.` (BFL Flux release, bare SD3) */
  readonly bareTransformer: boolean
  /** very old SD1 files: CLIP names without the `text_model.` level */
  readonly legacyClipNames: boolean
}

/** Depth that changes a block convention: SD3 joint blocks (24 medium, 38 large), LLM decoder layers. */
export interface ModelDepth {
  readonly jointBlocks?: number
  readonly layers?: number
}

export interface Detection {
  readonly architecture: Architecture
  /** inpainting, instruct-pix2pix, unet-only, dev, schnell, medium, 3.5-medium, large, vae, clip_l, clip_g, openclip_h, t5 */
  readonly variant: string | null
  readonly predictionType: PredictionType
  /** the evidence: "marker key v_pred", "sidecar .yaml (parameterization: v)", "metadata modelspec.prediction_type", "architecture" */
  readonly predictionSource: string | null
  readonly layout: ModelLayout
  readonly keyStyle: KeyStyle
  readonly depth: ModelDepth
  readonly components: readonly ComponentSummary[]
  readonly llm: LlmDetails | null
  /** findings a person should know: failed shape checks, ambiguities, ignored hints */
  readonly notes: readonly string[]
}
