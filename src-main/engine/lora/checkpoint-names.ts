import type { Architecture } from '../../common/model-entry'

/**
 * The names LoRA files give a checkpoint's weights. Each checkpoint key is converted to every name a
 * LoRA format may use for it (kohya spells module paths with "_" for ".", diffusers names for the
 * UNet of SD1 / SDXL, diffusers Flux names that split fused projections), so matching a LoRA is one
 * table lookup per module: the table is built from the checkpoint's own key list.
 */

/** A LoRA module's target: a checkpoint key, or a run of its rows (one of q / k / v of a fused projection). */
export interface LoraTarget {
  /** canonical checkpoint key */
  readonly key: string
  /** rows [start, start + count) of dimension 0; null = the whole tensor */
  readonly rows: { readonly start: number; readonly count: number } | null
}

const UNET_PREFIX = 'model.diffusion_model.'

/** kohya spelling of a module path: every "." becomes "_". */
export function kohyaName(prefix: string, path: string): string {
  return prefix + path.replaceAll('.', '_')
}

/**
 * name → target for every weight of the checkpoint (canonical keys with their shapes). Names that
 * two keys would claim (none in the supported layouts) keep the first.
 */
export function loraNameTable(architecture: Architecture, tensors: ReadonlyMap<string, { readonly shape: readonly number[] }>): Map<string, LoraTarget> {
  const table = new Map<string, LoraTarget>()
  const add = (name: string, target: LoraTarget): void => {
    if (!table.has(name)) table.set(name, target)
  }
  for (const [key, { shape }] of tensors) {
    for (const { name, rows } of namesOf(architecture, key, shape)) add(name, { key, rows })
  }
  return table
}

interface NamedTarget {
  readonly name: string
  readonly rows: LoraTarget['rows']
}

const whole = (name: string): NamedTarget => ({ name, rows: null })

function namesOf(architecture: Architecture, key: string, shape: readonly number[]): NamedTarget[] {
  if (key.startsWith(UNET_PREFIX)) {
    const module = modulePath(key.slice(UNET_PREFIX.length))
    if (module === null) return []
    if (architecture === 'flux') return [whole(kohyaName('lora_unet_', module)), ...fluxDiffusersNames(module, shape)]
    const diffusers = unetDiffusersPath(module)
    return [whole(kohyaName('lora_unet_', module)), ...(diffusers === null ? [] : [whole(kohyaName('lora_unet_', diffusers))])]
  }
  const clip = /^(?:cond_stage_model\.transformer\.|conditioner\.embedders\.0\.transformer\.|text_encoders\.clip_l\.transformer\.)(text_model\..+)\.weight$/.exec(key)
  if (clip !== null) {
    const path = clip[1]!
    return ['lora_te_', 'lora_te1_'].map((prefix) => whole(kohyaName(prefix, path)))
  }
  const openClip = /^(cond_stage_model|conditioner\.embedders\.1)\.model\.transformer\.resblocks\.(\d+)\.(.+)$/.exec(key)
  if (openClip !== null) {
    const prefixes = openClip[1] === 'cond_stage_model' ? ['lora_te_', 'lora_te1_'] : ['lora_te2_']
    return prefixes.flatMap((prefix) => openClipNames(prefix, Number(openClip[2]), openClip[3]!, shape))
  }
  return []
}

/** The module path of a weight key ("a.b.weight" → "a.b"); null for biases, norms' buffers and others. */
function modulePath(rest: string): string | null {
  return rest.endsWith('.weight') ? rest.slice(0, -'.weight'.length) : null
}

/**
 * OpenCLIP (SD2's ViT-H, SDXL's bigG) as the Hugging Face CLIP names LoRAs use: q / k / v are
 * thirds of the fused in_proj_weight.
 */
function openClipNames(prefix: string, layer: number, rest: string, shape: readonly number[]): NamedTarget[] {
  const base = `${prefix}text_model_encoder_layers_${layer}_`
  if (rest === 'attn.in_proj_weight') {
    const third = (shape[0] ?? 0) / 3
    return ['q', 'k', 'v'].map((part, i) => ({ name: `${base}self_attn_${part}_proj`, rows: { start: i * third, count: third } }))
  }
  const plain: Readonly<Record<string, string>> = { 'attn.out_proj.weight': 'self_attn_out_proj', 'mlp.c_fc.weight': 'mlp_fc1', 'mlp.c_proj.weight': 'mlp_fc2' }
  const name = plain[rest]
  return name === undefined ? [] : [whole(base + name)]
}

const RESNET_PARTS: Readonly<Record<string, string>> = {
  'in_layers.0': 'norm1',
  'in_layers.2': 'conv1',
  'emb_layers.1': 'time_emb_proj',
  'out_layers.0': 'norm2',
  'out_layers.3': 'conv2',
  skip_connection: 'conv_shortcut',
}

const UNET_TOP: Readonly<Record<string, string>> = {
  'input_blocks.0.0': 'conv_in',
  'time_embed.0': 'time_embedding.linear_1',
  'time_embed.2': 'time_embedding.linear_2',
  'label_emb.0.0': 'add_embedding.linear_1',
  'label_emb.0.2': 'add_embedding.linear_2',
  'out.0': 'conv_norm_out',
  'out.2': 'conv_out',
}

/**
 * An LDM / SGM UNet module path (SD1, SD2, SDXL) in diffusers naming, which kohya's SD1 LoRAs use:
 * input block n = 3·i + j + 1 is down block i, resnet or attention j; output block n = 3·i + j is up
 * block i; the down- and upsamplers sit at the end of their block. null when it has no such name.
 */
export function unetDiffusersPath(module: string): string | null {
  const top = UNET_TOP[module]
  if (top !== undefined) return top
  const resnet = (rest: string): string | null => {
    const part = Object.keys(RESNET_PARTS).find((p) => rest === p)
    return part === undefined ? null : RESNET_PARTS[part]!
  }
  const m = /^(input_blocks|middle_block|output_blocks)\.(\d+)\.(\d+)\.(.+)$/.exec(module) ?? /^(middle_block)\.(\d+)\.(.+)$/.exec(module)
  if (m === null) return null
  if (m[1] === 'middle_block') {
    const index = Number(m[2])
    const rest = m[3]!
    if (index === 1) return `mid_block.attentions.0.${rest}`
    const part = resnet(rest)
    return part === null ? null : `mid_block.resnets.${index === 0 ? 0 : 1}.${part}`
  }
  const n = Number(m[2])
  const layer = Number(m[3])
  const rest = m[4]!
  if (m[1] === 'input_blocks') {
    if (rest === 'op') return n % 3 === 0 ? `down_blocks.${n / 3 - 1}.downsamplers.0.conv` : null
    const block = Math.floor((n - 1) / 3)
    const j = (n - 1) % 3
    if (layer === 0) {
      const part = resnet(rest)
      return part === null ? null : `down_blocks.${block}.resnets.${j}.${part}`
    }
    return `down_blocks.${block}.attentions.${j}.${rest}`
  }
  const block = Math.floor(n / 3)
  const j = n % 3
  if (rest === 'conv') return `up_blocks.${block}.upsamplers.0.conv`
  if (layer === 0) {
    const part = resnet(rest)
    return part === null ? null : `up_blocks.${block}.resnets.${j}.${part}`
  }
  return `up_blocks.${block}.attentions.${j}.${rest}`
}

/** diffusers Flux names (lora prefix "lora_transformer_") of one BFL module; q / k / v (and the MLP input) are row runs of fused weights. */
function fluxDiffusersNames(module: string, shape: readonly number[]): NamedTarget[] {
  const name = (path: string): string => kohyaName('lora_transformer_', path)
  const double = /^double_blocks\.(\d+)\.(.+)$/.exec(module)
  if (double !== null) {
    const b = `transformer_blocks.${double[1]}`
    const rest = double[2]!
    const rows = shape[0] ?? 0
    if (rest === 'img_attn.qkv') return ['to_q', 'to_k', 'to_v'].map((p, i) => ({ name: name(`${b}.attn.${p}`), rows: { start: (i * rows) / 3, count: rows / 3 } }))
    if (rest === 'txt_attn.qkv') return ['add_q_proj', 'add_k_proj', 'add_v_proj'].map((p, i) => ({ name: name(`${b}.attn.${p}`), rows: { start: (i * rows) / 3, count: rows / 3 } }))
    const parts: Readonly<Record<string, string>> = {
      'img_attn.proj': 'attn.to_out.0',
      'txt_attn.proj': 'attn.to_add_out',
      'img_mlp.0': 'ff.net.0.proj',
      'img_mlp.2': 'ff.net.2',
      'txt_mlp.0': 'ff_context.net.0.proj',
      'txt_mlp.2': 'ff_context.net.2',
      'img_mod.lin': 'norm1.linear',
      'txt_mod.lin': 'norm1_context.linear',
    }
    const part = parts[rest]
    return part === undefined ? [] : [whole(name(`${b}.${part}`))]
  }
  const single = /^single_blocks\.(\d+)\.(.+)$/.exec(module)
  if (single !== null) {
    const b = `single_transformer_blocks.${single[1]}`
    const rest = single[2]!
    if (rest === 'linear1') {
      // q, k, v of width `hidden` (the input width), then the MLP's input projection
      const hidden = shape[1] ?? 0
      const rows = shape[0] ?? 0
      return [
        ...['to_q', 'to_k', 'to_v'].map((p, i) => ({ name: name(`${b}.attn.${p}`), rows: { start: i * hidden, count: hidden } })),
        { name: name(`${b}.proj_mlp`), rows: { start: 3 * hidden, count: rows - 3 * hidden } },
      ]
    }
    if (rest === 'linear2') return [whole(name(`${b}.proj_out`))]
    if (rest === 'modulation.lin') return [whole(name(`${b}.norm.linear`))]
    return []
  }
  const top: Readonly<Record<string, string>> = {
    img_in: 'x_embedder',
    txt_in: 'context_embedder',
    'time_in.in_layer': 'time_text_embed.timestep_embedder.linear_1',
    'time_in.out_layer': 'time_text_embed.timestep_embedder.linear_2',
    'guidance_in.in_layer': 'time_text_embed.guidance_embedder.linear_1',
    'guidance_in.out_layer': 'time_text_embed.guidance_embedder.linear_2',
    'vector_in.in_layer': 'time_text_embed.text_embedder.linear_1',
    'vector_in.out_layer': 'time_text_embed.text_embedder.linear_2',
    'final_layer.linear': 'proj_out',
  }
  const path = top[module]
  return path === undefined ? [] : [whole(name(path))]
}
