import type { Architecture, LlmDetails } from '../../common/model-entry'
import { blocksData, type DetectionRuleLabel } from './blocks-data'
import { MARKER_PATTERN, SCHEDULER_BUFFERS, summariseComponents, type StandaloneComponent } from './components'
import type { Detection, ModelDepth, ModelLayout, TensorHead } from './detection-types'
import { keyStyleOf } from './keys'
import { describeLlm } from './llm'
import { findPrediction, type PredictionHints } from './prediction'

export interface DetectionHints extends PredictionHints {
  /** the model folder's config.json (HF LLMs), parsed */
  readonly hfConfig?: unknown
}

interface Classification {
  readonly architecture: Architecture
  readonly variant: string | null
  readonly layout: ModelLayout
  readonly depth: ModelDepth
  readonly llm: LlmDetails | null
}

interface Context {
  readonly tensors: readonly TensorHead[]
  readonly keys: readonly string[]
  readonly hints: DetectionHints
  readonly notes: string[]
  /** dimension `axis` of `key`'s shape, undefined when the key or axis is absent */
  dim(key: string, axis: number): number | undefined
  has(re: RegExp): boolean
}

/**
 * Works out what a checkpoint is from its tensor names and shapes (headers only). blocks.json's
 * ordered detection rules are tried first (the first whose key test passes decides, shapes refine
 * and are cross-checked); files no rule claims are tried as diffusers files, then as lone components.
 */
export function detectModel(tensors: readonly TensorHead[], hints: DetectionHints = {}): Detection {
  const shapes = new Map(tensors.map((t) => [t.key, t.shape]))
  const keys = tensors.map((t) => t.key)
  const ctx: Context = {
    tensors,
    keys,
    hints,
    notes: [],
    dim: (key, axis) => shapes.get(key)?.[axis],
    has: (re) => keys.some((k) => re.test(k)),
  }
  const c = classify(ctx)
  const prediction = findPrediction(c.architecture, new Set(keys), hints, ctx.notes)
  return {
    ...c,
    ...prediction,
    keyStyle: keyStyleOf(c.architecture, keys),
    components: summariseComponents(c, tensors),
    notes: ctx.notes,
  }
}

function classify(ctx: Context): Classification {
  if (ctx.keys.length === 0) {
    ctx.notes.push('the file holds no tensors')
    return unknown()
  }
  for (const rule of blocksData().detectionRules) {
    if (rule.matches(ctx.keys)) return RULE_HANDLERS[rule.label](ctx)
  }
  const classification = diffusersModel(ctx) ?? standaloneComponent(ctx)
  if (classification !== null) return classification
  ctx.notes.push('no known key signature (not an SD1/SD2/SDXL/SD3/Flux checkpoint, LLM, LoRA or lone component)')
  return unknown()
}

const RULE_HANDLERS: Readonly<Record<DetectionRuleLabel, (ctx: Context) => Classification>> = {
  'lora/lycoris (reject or route elsewhere)': (ctx) => {
    ctx.notes.push('LoRA/LyCORIS file: it adapts a checkpoint and cannot be merged as one')
    return { ...unknown(), architecture: 'lora' }
  },
  flux: fluxModel,
  sd3: sd3Model,
  'sdxl-refiner': (ctx) => unetCheckpoint(ctx, 'sdxl-refiner'),
  sdxl: (ctx) => unetCheckpoint(ctx, 'sdxl'),
  sd2: (ctx) => unetCheckpoint(ctx, 'sd2'),
  sd1: (ctx) => unetCheckpoint(ctx, 'sd1'),
  'unet-only sd1/sd2/sdxl': unetWithoutTextEncoder,
  'llm (HF transformers)': llmModel,
}

function unknown(): Classification {
  return { architecture: 'unknown', variant: null, layout: 'unknown', depth: {}, llm: null }
}

type UnetArchitecture = 'sd1' | 'sd2' | 'sdxl' | 'sdxl-refiner'

/**
 * Shapes that tell the UNet families apart (blocks.json shape checks, ComfyUI unet configs):
 * cross-attention context width, SDXL's label_emb input width (adm_in_channels) and whether
 * proj_in is a 1×1 conv (SD1) or linear (SD2).
 */
const UNET_SIGNATURES: Readonly<Record<UnetArchitecture, { context: number; labelIn: number | null; projInRank: number | null }>> = {
  sd1: { context: 768, labelIn: null, projInRank: 4 },
  sd2: { context: 1024, labelIn: null, projInRank: 2 },
  sdxl: { context: 2048, labelIn: 2816, projInRank: null },
  'sdxl-refiner': { context: 1280, labelIn: 2560, projInRank: null },
}

const UNET_PREFIX = 'model.diffusion_model.'
const CONTEXT_KEY = `${UNET_PREFIX}middle_block.1.transformer_blocks.0.attn2.to_k.weight`
const LABEL_EMB_KEY = `${UNET_PREFIX}label_emb.0.0.weight`
const PROJ_IN_KEY = `${UNET_PREFIX}middle_block.1.proj_in.weight`
const FIRST_CONV_KEY = `${UNET_PREFIX}input_blocks.0.0.weight`
const OPENCLIP_H_IN_PROJ_KEY = 'cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight'

function unetCheckpoint(ctx: Context, architecture: UnetArchitecture): Classification {
  checkUnetShapes(ctx, architecture)
  if (architecture === 'sd2') {
    const width = ctx.dim(OPENCLIP_H_IN_PROJ_KEY, 1)
    if (width !== undefined && width !== 1024) ctx.notes.push(`shape check: the OpenCLIP text encoder is ${width} wide, SD2's is 1024`)
  }
  return {
    architecture,
    variant: channelVariant(ctx, ctx.dim(FIRST_CONV_KEY, 1)),
    layout: architecture === 'sdxl' || architecture === 'sdxl-refiner' ? 'sgm' : 'ldm',
    depth: {},
    llm: null,
  }
}

function checkUnetShapes(ctx: Context, architecture: UnetArchitecture): void {
  const expected = UNET_SIGNATURES[architecture]
  const context = ctx.dim(CONTEXT_KEY, 1)
  if (context !== undefined && context !== expected.context) {
    ctx.notes.push(`shape check: the UNet cross-attention width is ${context}, ${architecture} has ${expected.context}`)
  }
  const labelIn = ctx.dim(LABEL_EMB_KEY, 1)
  if (expected.labelIn !== null && labelIn !== undefined && labelIn !== expected.labelIn) {
    ctx.notes.push(`shape check: label_emb takes ${labelIn} inputs, ${architecture} takes ${expected.labelIn}`)
  }
  const projIn = ctx.tensors.find((t) => t.key === PROJ_IN_KEY)
  if (expected.projInRank !== null && projIn !== undefined && projIn.shape.length !== expected.projInRank) {
    ctx.notes.push(`shape check: proj_in has ${projIn.shape.length} dimensions, ${architecture} has ${expected.projInRank}`)
  }
}

/** input_blocks.0.0 in-channels: 4 normal, 9 inpainting (latent + mask + masked latent), 8 instruct-pix2pix (latent + image latent). */
function channelVariant(ctx: Context, inChannels: number | undefined): string | null {
  if (inChannels === 9) return 'inpainting'
  if (inChannels === 8) return 'instruct-pix2pix'
  if (inChannels !== undefined && inChannels !== 4) ctx.notes.push(`the first convolution takes ${inChannels} channels (4 normal, 9 inpainting, 8 instruct-pix2pix)`)
  return null
}

/**
 * A UNet with neither SD1 nor SD2/SDXL text-encoder keys: the family comes from shapes. The variant
 * is 'unet-only' when nothing else is in the file; an inpainting / pix2pix UNet keeps that variant
 * (it decides how the first convolution merges) and says "UNet only" in a note.
 */
function unetWithoutTextEncoder(ctx: Context): Classification {
  const labelIn = ctx.dim(LABEL_EMB_KEY, 1)
  const context = ctx.dim(CONTEXT_KEY, 1)
  let architecture: UnetArchitecture
  if (labelIn !== undefined) architecture = labelIn === UNET_SIGNATURES['sdxl-refiner'].labelIn ? 'sdxl-refiner' : 'sdxl'
  else if (context === UNET_SIGNATURES.sd1.context) architecture = 'sd1'
  else if (context === UNET_SIGNATURES.sd2.context) architecture = 'sd2'
  else {
    ctx.notes.push(`a UNet without label_emb whose cross-attention width is ${context ?? 'unknown'} (768 = SD1, 1024 = SD2)`)
    return unknown()
  }
  const classification = unetCheckpoint(ctx, architecture)
  const others = ctx.keys.filter((k) => !k.startsWith(UNET_PREFIX) && !isBookkeeping(k))
  if (others.length === 0) {
    if (classification.variant === null) return { ...classification, variant: 'unet-only' }
    ctx.notes.push('UNet only: no text encoder or VAE')
  } else {
    ctx.notes.push('no text encoder in the file')
  }
  return classification
}

/** Keys every kind of file may carry besides its model: markers, EMA, noise-schedule buffers. */
function isBookkeeping(key: string): boolean {
  return MARKER_PATTERN.test(key) || key.startsWith('model_ema.') || (SCHEDULER_BUFFERS as readonly string[]).includes(key) || key.startsWith('model.model_sampling.')
}

function indexCount(ctx: Context, re: RegExp): number {
  let count = 0
  for (const k of ctx.keys) {
    const match = re.exec(k)
    if (match !== null) count = Math.max(count, Number(match[1]) + 1)
  }
  return count
}

function fluxModel(ctx: Context): Classification {
  const double = indexCount(ctx, /(?:^|\.)double_blocks\.(\d+)\./)
  const single = indexCount(ctx, /(?:^|\.)single_blocks\.(\d+)\./)
  if (double !== 19 || single !== 38) ctx.notes.push(`${double} double and ${single} single blocks (FLUX.1 has 19 and 38)`)
  return {
    architecture: 'flux',
    // FLUX.1-schnell is guidance-distilled away: it has no guidance_in
    variant: ctx.has(/^(model\.diffusion_model\.)?guidance_in\.in_layer\.weight$/) ? 'dev' : 'schnell',
    layout: ctx.has(/^double_blocks\./) ? 'bfl' : 'comfy',
    depth: {},
    llm: null,
  }
}

function sd3Model(ctx: Context): Classification {
  const joint = indexCount(ctx, /(?:^|\.)joint_blocks\.(\d+)\./)
  return {
    architecture: 'sd3',
    variant: sd3Variant(ctx, joint, ctx.has(/joint_blocks\.\d+\.x_block\.attn2\./)),
    layout: ctx.has(/^joint_blocks\./) ? 'bare' : 'comfy',
    depth: { jointBlocks: joint },
    llm: null,
  }
}

/** 24 joint blocks: SD3 medium, or SD3.5 medium when the image stream has a second attention (MMDiT-X); 38: SD3.5 large. */
function sd3Variant(ctx: Context, jointBlocks: number, mmditX: boolean): string | null {
  if (jointBlocks === 24) return mmditX ? '3.5-medium' : 'medium'
  if (jointBlocks === 38) return 'large'
  ctx.notes.push(`${jointBlocks} joint blocks (SD3 medium has 24, SD3.5 large 38)`)
  return null
}

function llmModel(ctx: Context): Classification {
  const { details, notes } = describeLlm(ctx.tensors, ctx.hints.hfConfig)
  ctx.notes.push(...notes)
  return { architecture: 'llm', variant: null, layout: 'hf', depth: { layers: details.layers }, llm: details }
}

const DIFFUSERS_NOTE = 'diffusers tensor names: this file cannot be lined up with single-file checkpoints yet'

/** Files in diffusers naming (one diffusion_pytorch_model.safetensors of a diffusers folder). */
function diffusersModel(ctx: Context): Classification | null {
  const diffusers = (c: Omit<Classification, 'layout' | 'llm'>): Classification => {
    ctx.notes.push(DIFFUSERS_NOTE)
    return { ...c, layout: 'diffusers', llm: null }
  }
  if (ctx.has(/^single_transformer_blocks\.\d+\./)) {
    return diffusers({ architecture: 'flux', variant: ctx.has(/^time_text_embed\.guidance_embedder\./) ? 'dev' : 'schnell', depth: {} })
  }
  if (ctx.has(/^transformer_blocks\.\d+\./) && ctx.has(/^pos_embed\./)) {
    const joint = indexCount(ctx, /^transformer_blocks\.(\d+)\./)
    return diffusers({ architecture: 'sd3', variant: sd3Variant(ctx, joint, ctx.has(/^transformer_blocks\.\d+\.attn2\./)), depth: { jointBlocks: joint } })
  }
  if (ctx.has(/^(down_blocks|up_blocks)\.\d+\./) || ctx.has(/^mid_block\./)) {
    const architecture = diffusersUnetFamily(ctx)
    if (architecture === null) return diffusers({ architecture: 'unknown', variant: null, depth: {} })
    return diffusers({ architecture, variant: channelVariant(ctx, ctx.dim('conv_in.weight', 1)), depth: {} })
  }
  if (ctx.has(/^(encoder|decoder)\.(down_blocks|up_blocks|mid_block)\./)) {
    return diffusers({ architecture: 'component', variant: 'vae', depth: {} })
  }
  return null
}

function diffusersUnetFamily(ctx: Context): UnetArchitecture | null {
  const labelIn = ctx.dim('add_embedding.linear_1.weight', 1)
  if (labelIn !== undefined) return labelIn === UNET_SIGNATURES['sdxl-refiner'].labelIn ? 'sdxl-refiner' : 'sdxl'
  const context = ctx.dim('mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight', 1)
  if (context === UNET_SIGNATURES.sd1.context) return 'sd1'
  if (context === UNET_SIGNATURES.sd2.context) return 'sd2'
  ctx.notes.push(`a diffusers UNet whose cross-attention width is ${context ?? 'unknown'} (768 = SD1, 1024 = SD2)`)
  return null
}

type ComponentGuess = StandaloneComponent | 'clip'

/** What one key of a lone-component file looks like; null when it fits none. */
function guessComponent(key: string): ComponentGuess | null {
  const comfy = /^text_encoders\.(clip_l|clip_g|t5xxl)\./.exec(key)
  if (comfy !== null) return comfy[1] === 't5xxl' ? 't5' : (comfy[1] as 'clip_l' | 'clip_g')
  if (/(^|\.)encoder\.(block\.\d+\.layer\.|final_layer_norm\.)|(^|\.)shared\.weight$/.test(key)) return 't5'
  if (/^(first_stage_model\.|vae\.)?(encoder|decoder|quant_conv|post_quant_conv)\./.test(key)) return 'vae'
  if (/(^|\.)(text_model\.|text_projection|logit_scale$|transformer\.resblocks\.\d+\.|positional_embedding$|token_embedding\.|ln_final\.)/.test(key)) return 'clip'
  return null
}

/** CLIP text tower width: 768 ViT-L, 1024 OpenCLIP ViT-H, 1280 OpenCLIP ViT-bigG (either naming). */
const CLIP_BY_WIDTH: Readonly<Record<number, StandaloneComponent>> = { 768: 'clip_l', 1024: 'openclip_h', 1280: 'clip_g' }

/** A file holding one component only: a VAE, a CLIP text encoder or a T5 encoder. */
function standaloneComponent(ctx: Context): Classification | null {
  const guesses = new Set(ctx.keys.filter((k) => !isBookkeeping(k)).map(guessComponent))
  const only = guesses.size === 1 ? [...guesses][0] : null
  if (only === null || only === undefined) {
    if (guesses.size > 1 && !guesses.has(null)) ctx.notes.push(`several components without a model: ${[...guesses].join(', ')}`)
    return null
  }
  const component = (variant: StandaloneComponent): Classification => ({ architecture: 'component', variant, layout: 'component', depth: {}, llm: null })
  if (only === 'vae') {
    const latent = ctx.tensors.find((t) => /(^|\.)decoder\.conv_in\.weight$/.test(t.key))?.shape[1]
    if (latent === 16) ctx.notes.push('16-channel latent VAE (SD3 / Flux)')
    else if (latent === 4) ctx.notes.push('4-channel latent VAE (SD1 / SD2 / SDXL)')
    return component('vae')
  }
  if (only !== 'clip') return component(only)
  const embedding = ctx.tensors.find((t) => /(position_embedding\.weight|positional_embedding)$/.test(t.key))
  const width = embedding?.shape[1]
  const clip = width === undefined ? undefined : CLIP_BY_WIDTH[width]
  if (clip === undefined) {
    ctx.notes.push(`a CLIP text encoder ${width ?? 'of unknown'} wide (768 = CLIP-L, 1024 = OpenCLIP-H, 1280 = OpenCLIP-bigG)`)
    return null
  }
  return component(clip)
}
