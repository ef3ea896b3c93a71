import { deriveRng } from '../compute/rng'
import { AmalgamError } from '../errors'
import { numelOf } from '../formats/dtype'
import type { PlannedTensor } from '../formats/safetensors/writer'
import { MARKER_PATTERN } from './components'
import { referenceLayout, type LayoutArchitecture } from './layouts'

/**
 * Synthetic checkpoints with the real key names of resources/layouts, for tests, the benchmark and
 * the app's demo models. 'real' keeps the real shapes; 'tiny' shrinks them (a whole SD1 checkpoint
 * is about 170 KB of fp16) while keeping every dimension detection reads:
 *  - all dimensions up to 16: input channels 4 / 8 / 9 / 16, latent channels, kernel sizes 1 and 3,
 *    and so the rank of every tensor (SD1's 4-D proj_in against SD2's 2-D one);
 *  - the cross-attention context width (768 SD1, 1024 SD2, 2048 SDXL, 1280 refiner) of
 *    middle_block.1.transformer_blocks.0.attn2.to_k / to_v;
 *  - label_emb.0.0.weight's input width (2816 SDXL, 2560 refiner);
 *  - the OpenCLIP width of resblocks.0.attn.in_proj_weight (1024 SD2, 1280 bigG);
 *  - text-encoder widths in position_embedding / positional_embedding (768 / 1024 / 1280).
 * Every other dimension d becomes max(2, ⌈d / 128⌉). Shapes then agree between synthetic files of one
 * architecture (merging is elementwise per key) but not within one file (nothing runs the network).
 */
export interface SyntheticOptions {
  /** inpainting (9 input channels) and instruct-pix2pix (8): SD1 / SD2 / SDXL; schnell (no guidance_in): Flux */
  readonly variant?: 'inpainting' | 'instruct-pix2pix' | 'schnell'
  readonly scale: 'tiny' | 'real'
  /** adds the v_pred marker key (SD1 / SD2 / SDXL) */
  readonly prediction?: 'v'
  /** the layout's optional keys (scheduler buffers, position_ids, dropped text-encoder tails); never the marker keys */
  readonly includeOptional?: boolean
  /** the EMA copy of a non-pruned LDM/SGM training checkpoint (SD1 / SD2 / SDXL) */
  readonly ema?: boolean
}

const UNET_ARCHITECTURES: readonly LayoutArchitecture[] = ['sd1', 'sd2', 'sdxl']
const UNET_PREFIX = 'model.diffusion_model.'
const FIRST_CONV_KEY = `${UNET_PREFIX}input_blocks.0.0.weight`
const IN_CHANNELS: Readonly<Record<'inpainting' | 'instruct-pix2pix', number>> = { inpainting: 9, 'instruct-pix2pix': 8 }

/** The tensor table of a synthetic checkpoint, in layout order (EMA keys last). */
export function syntheticLayout(architecture: LayoutArchitecture, opts: SyntheticOptions): PlannedTensor[] {
  const isUnet = UNET_ARCHITECTURES.includes(architecture)
  const requireUnet = (what: string): void => {
    if (!isUnet) throw new AmalgamError('BAD_ARGUMENT', `synthetic ${architecture} checkpoints have no ${what}`)
  }
  let tensors: PlannedTensor[] = referenceLayout(architecture)
    .keys.filter((k) => !k.optional || (opts.includeOptional === true && !MARKER_PATTERN.test(k.name)))
    .map((k) => ({ key: k.name, dtype: k.dtype, shape: k.shape }))

  if (opts.variant === 'schnell') {
    if (architecture !== 'flux') throw new AmalgamError('BAD_ARGUMENT', `synthetic ${architecture} checkpoints have no schnell variant`)
    tensors = tensors.filter((t) => !t.key.startsWith(`${UNET_PREFIX}guidance_in.`))
  } else if (opts.variant !== undefined) {
    requireUnet(`${opts.variant} variant`)
    const channels = IN_CHANNELS[opts.variant]
    tensors = tensors.map((t) => (t.key === FIRST_CONV_KEY ? { ...t, shape: t.shape.map((d, axis) => (axis === 1 ? channels : d)) } : t))
  }
  if (opts.prediction === 'v') {
    requireUnet('v-prediction marker')
    tensors.push({ key: 'v_pred', dtype: 'I64', shape: [0] })
  }
  if (opts.scale === 'tiny') tensors = tensors.map((t) => ({ ...t, shape: tinyShape(t.key, t.shape) }))
  if (opts.ema === true) {
    requireUnet('EMA weights')
    tensors.push(...emaTensors(tensors))
  }
  return tensors
}

/**
 * LitEma (LDM and SGM training code) keeps a shadow copy of every UNet parameter under
 * `model_ema.` + the name without `model.` and without dots, plus its decay and update count.
 */
function emaTensors(tensors: readonly PlannedTensor[]): PlannedTensor[] {
  const shadows = tensors
    .filter((t) => t.key.startsWith(UNET_PREFIX))
    .map((t) => ({ ...t, key: `model_ema.${t.key.slice('model.'.length).replaceAll('.', '')}` }))
  return [{ key: 'model_ema.decay', dtype: 'F32', shape: [] }, { key: 'model_ema.num_updates', dtype: 'I32', shape: [] }, ...shadows]
}

const TINY_KEEP = 16
const TINY_DIVISOR = 128

/** Axes detection reads, by key pattern; see the module comment. */
const PROTECTED_AXES: readonly (readonly [RegExp, number])[] = [
  [/\.middle_block\.1\.transformer_blocks\.0\.attn2\.to_[kv]\.weight$/, 1],
  [/\.label_emb\.0\.0\.weight$/, 1],
  [/\.resblocks\.0\.attn\.in_proj_weight$/, 1],
  [/(position_embedding\.weight|positional_embedding)$/, 1],
]

export function tinyShape(key: string, shape: readonly number[]): number[] {
  const kept = PROTECTED_AXES.filter(([re]) => re.test(key)).map(([, axis]) => axis)
  return shape.map((d, axis) => (d <= TINY_KEEP || kept.includes(axis) ? d : Math.max(2, Math.ceil(d / TINY_DIVISOR))))
}

/**
 * Deterministic values for a float tensor, by (seed, key) only, so the same key gets the same
 * numbers whatever the dtype, order or scale: norm scales (rank-1 `.weight` / `.scale`) ≈ N(1, 0.02),
 * biases N(0, 0.002), everything else N(0, 0.02), which is how trained weights are spread.
 */
export function syntheticValues(spec: Pick<PlannedTensor, 'key' | 'shape'>, seed: number): Float32Array {
  const out = new Float32Array(numelOf(spec.shape))
  const rng = deriveRng(seed, spec.key, 'synthetic-checkpoint', 0)
  const { mean, std } = distributionOf(spec)
  for (let i = 0; i < out.length; i += 2) {
    // Box-Muller: both outputs of a pair are used
    const radius = Math.sqrt(-2 * Math.log(1 - rng.uniform()))
    const angle = 2 * Math.PI * rng.uniform()
    out[i] = mean + std * radius * Math.cos(angle)
    if (i + 1 < out.length) out[i + 1] = mean + std * radius * Math.sin(angle)
  }
  return out
}

function distributionOf(spec: Pick<PlannedTensor, 'key' | 'shape'>): { mean: number; std: number } {
  if (spec.shape.length === 1 && /\.(weight|scale)$/.test(spec.key)) return { mean: 1, std: 0.02 }
  if (/(\.|_)bias$/.test(spec.key)) return { mean: 0, std: 0.002 }
  return { mean: 0, std: 0.02 }
}
