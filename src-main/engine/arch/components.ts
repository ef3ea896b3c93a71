import type { Architecture, ComponentSummary } from '../../common/model-entry'
import { numelOf } from '../formats/dtype'
import type { Detection, TensorHead } from './detection-types'

/**
 * The parts of a checkpoint a recipe can treat separately (merge, take from an input, drop).
 * markers: v_pred / ztsnr / edm_vpred.* flags; leftovers: training leftovers (logvar, ...) and
 * anything unclassified; lora: every key of a LoRA/LyCORIS file (never merged as a checkpoint).
 */
export const COMPONENT_IDS = [
  'unet',
  'transformer',
  'clip_l',
  'clip_g',
  'openclip_h',
  't5',
  'vae',
  'ema',
  'scheduler',
  'markers',
  'leftovers',
  'llm',
  'lora',
] as const
export type ComponentId = (typeof COMPONENT_IDS)[number]

/** Component-only files are architecture `component` with the component as variant. */
export const STANDALONE_COMPONENTS = ['vae', 'clip_l', 'clip_g', 'openclip_h', 't5'] as const
export type StandaloneComponent = (typeof STANDALONE_COMPONENTS)[number]

export const MARKER_PATTERN = /^(v_pred|ztsnr|edm_vpred\.sigma_min|edm_vpred\.sigma_max)$/

/** The LDM noise-schedule buffers (present in original and some community SD files), and ComfyUI's saved sigmas. */
export const SCHEDULER_BUFFERS = [
  'alphas_cumprod',
  'alphas_cumprod_prev',
  'betas',
  'log_one_minus_alphas_cumprod',
  'posterior_log_variance_clipped',
  'posterior_mean_coef1',
  'posterior_mean_coef2',
  'posterior_variance',
  'sqrt_alphas_cumprod',
  'sqrt_one_minus_alphas_cumprod',
  'sqrt_recip_alphas_cumprod',
  'sqrt_recipm1_alphas_cumprod',
] as const
const SCHEDULER_PATTERN = new RegExp(`^(${SCHEDULER_BUFFERS.join('|')}|model\\.model_sampling\\..+)$`)

/** Top-level names of the Flux transformer as the BFL release spells them (no prefix). */
const FLUX_TRANSFORMER_ROOTS = ['double_blocks', 'single_blocks', 'img_in', 'txt_in', 'time_in', 'vector_in', 'guidance_in', 'final_layer'] as const
/** Top-level names of the SD3 MMDiT without the `model.diffusion_model.` prefix. */
const SD3_TRANSFORMER_ROOTS = ['joint_blocks', 'x_embedder', 't_embedder', 'y_embedder', 'context_embedder', 'pos_embed', 'final_layer'] as const

/** DiT transformer top-level names an architecture's files may use without `model.diffusion_model.`. */
export function transformerRoots(architecture: Architecture): readonly string[] {
  if (architecture === 'flux') return FLUX_TRANSFORMER_ROOTS
  if (architecture === 'sd3') return SD3_TRANSFORMER_ROOTS
  return []
}

/** Whether `key` starts with one of `roots` as a whole name segment (SD3's `pos_embed` is a key on its own). */
export function hasRoot(key: string, roots: readonly string[]): boolean {
  const dot = key.indexOf('.')
  return roots.includes(dot < 0 ? key : key.slice(0, dot))
}

/** Key prefix → component, per architecture; the first match wins. */
const PREFIXES: Readonly<Partial<Record<Architecture, readonly (readonly [string, ComponentId])[]>>> = {
  sd1: [
    ['model.diffusion_model.', 'unet'],
    ['cond_stage_model.', 'clip_l'],
    ['first_stage_model.', 'vae'],
  ],
  sd2: [
    ['model.diffusion_model.', 'unet'],
    ['cond_stage_model.', 'openclip_h'],
    ['first_stage_model.', 'vae'],
  ],
  sdxl: [
    ['model.diffusion_model.', 'unet'],
    ['conditioner.embedders.0.', 'clip_l'],
    ['conditioner.embedders.1.', 'clip_g'],
    ['first_stage_model.', 'vae'],
  ],
  // the refiner conditions on OpenCLIP bigG only, as embedder 0
  'sdxl-refiner': [
    ['model.diffusion_model.', 'unet'],
    ['conditioner.embedders.0.', 'clip_g'],
    ['first_stage_model.', 'vae'],
  ],
  sd3: [
    ['model.diffusion_model.', 'transformer'],
    ['text_encoders.clip_l.', 'clip_l'],
    ['text_encoders.clip_g.', 'clip_g'],
    ['text_encoders.t5xxl.', 't5'],
    ['first_stage_model.', 'vae'],
    ['vae.', 'vae'],
  ],
  flux: [
    ['model.diffusion_model.', 'transformer'],
    ['text_encoders.clip_l.', 'clip_l'],
    ['text_encoders.t5xxl.', 't5'],
    ['vae.', 'vae'],
    ['first_stage_model.', 'vae'],
  ],
}

/** Components each architecture has, in the order the recipe builder lists them. */
const COMPONENTS_OF: Readonly<Record<Exclude<Architecture, 'component'>, readonly ComponentId[]>> = {
  sd1: ['unet', 'clip_l', 'vae', 'ema', 'scheduler', 'markers', 'leftovers'],
  sd2: ['unet', 'openclip_h', 'vae', 'ema', 'scheduler', 'markers', 'leftovers'],
  sdxl: ['unet', 'clip_l', 'clip_g', 'vae', 'ema', 'scheduler', 'markers', 'leftovers'],
  'sdxl-refiner': ['unet', 'clip_g', 'vae', 'ema', 'scheduler', 'markers', 'leftovers'],
  sd3: ['transformer', 'clip_l', 'clip_g', 't5', 'vae', 'scheduler', 'leftovers'],
  flux: ['transformer', 'clip_l', 't5', 'vae', 'leftovers'],
  llm: ['llm'],
  lora: ['lora'],
  unknown: ['leftovers'],
}

type ComponentContext = Pick<Detection, 'architecture' | 'variant'>

/** Which components an architecture has (for the builder's component choices); a component-only file has just its own. */
export function componentsOf(architecture: Architecture, variant: string | null = null): readonly ComponentId[] {
  if (architecture === 'component') return isStandaloneComponent(variant) ? [variant] : ['leftovers']
  return COMPONENTS_OF[architecture]
}

/** The component a tensor belongs to. Markers, EMA and scheduler buffers are recognised in any checkpoint. */
export function componentOf(detection: ComponentContext, key: string): ComponentId {
  const { architecture, variant } = detection
  if (architecture === 'llm') return 'llm'
  if (architecture === 'lora') return 'lora'
  if (MARKER_PATTERN.test(key)) return 'markers'
  if (key.startsWith('model_ema.')) return 'ema'
  if (SCHEDULER_PATTERN.test(key)) return 'scheduler'
  if (architecture === 'component') return isStandaloneComponent(variant) ? variant : 'leftovers'
  if (hasRoot(key, transformerRoots(architecture))) return 'transformer'
  for (const [prefix, component] of PREFIXES[architecture] ?? []) {
    if (key.startsWith(prefix)) return component
  }
  return 'leftovers'
}

/** Keys and parameters per component, in the architecture's component order (then any others found). */
export function summariseComponents(detection: ComponentContext, tensors: readonly TensorHead[]): ComponentSummary[] {
  const totals = new Map<ComponentId, { keys: number; params: number }>()
  for (const t of tensors) {
    const id = componentOf(detection, t.key)
    const entry = totals.get(id) ?? { keys: 0, params: 0 }
    entry.keys += 1
    entry.params += numelOf(t.shape)
    totals.set(id, entry)
  }
  const order = [...componentsOf(detection.architecture, detection.variant), ...COMPONENT_IDS]
  const summaries: ComponentSummary[] = []
  for (const id of new Set(order)) {
    const entry = totals.get(id)
    if (entry !== undefined) summaries.push({ id, ...entry })
  }
  return summaries
}

export function isStandaloneComponent(name: string | null): name is StandaloneComponent {
  return name !== null && (STANDALONE_COMPONENTS as readonly string[]).includes(name)
}
