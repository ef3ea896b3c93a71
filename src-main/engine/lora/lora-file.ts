import type { Checkpoint, TensorInfo, TensorLocator } from '../formats/checkpoint'
import { numelOf } from '../formats/dtype'
import type { TensorReader } from '../formats/tensor-reader'

/**
 * A LoRA / LyCORIS file read as modules: the factors of each adapted layer, grouped by the layer's
 * name in one spelling (kohya's, "lora_unet_…" / "lora_te1_…"; diffusers Flux names as
 * "lora_transformer_…"), whatever format the file uses.
 */

export type LoraFactors =
  /** LoRA / LoCon: delta = up @ down (conv: up [out, r, 1, 1], down [r, in, k, k]) */
  | { readonly type: 'lora'; readonly up: TensorLocator; readonly down: TensorLocator }
  /** LyCORIS LoHa: delta = (w1a @ w1b) ⊙ (w2a @ w2b) */
  | { readonly type: 'loha'; readonly w1a: TensorLocator; readonly w1b: TensorLocator; readonly w2a: TensorLocator; readonly w2b: TensorLocator }
  /** LyCORIS LoKr: delta = w1 ⊗ w2 (Kronecker), each given whole or as a product a @ b */
  | { readonly type: 'lokr'; readonly w1: KronFactor; readonly w2: KronFactor }

export type KronFactor = { readonly whole: TensorLocator } | { readonly a: TensorLocator; readonly b: TensorLocator }

export type NetworkType = LoraFactors['type']

export interface LoraModule {
  /** the module's name in kohya spelling (see module comment) */
  readonly name: string
  /** the module's name as the file spells it, for messages */
  readonly fileName: string
  readonly factors: LoraFactors
  readonly rank: number | null
  /** the file's alpha; null = none stored (scale 1) */
  readonly alpha: number | null
  /** alpha / rank, the factor every delta of the module is multiplied by */
  readonly scale: number
}

export interface LoraFile {
  readonly path: string
  readonly modules: readonly LoraModule[]
  /** module names (as the file spells them) whose tensors form no supported network: DoRA, Tucker (lora_mid, hada_t1, lokr_t2), unknown suffixes */
  readonly unsupported: readonly string[]
  readonly metadata: Readonly<Record<string, string>>
}

/** Tensor-name suffixes by the factor they hold; the longest match wins ("lora_down.weight" before "weight"). */
const SUFFIXES: readonly (readonly [string, string])[] = [
  ['.lora_up.weight', 'up'],
  ['.lora_down.weight', 'down'],
  ['.lora_B.weight', 'up'],
  ['.lora_A.weight', 'down'],
  ['.lora.up.weight', 'up'],
  ['.lora.down.weight', 'down'],
  ['.hada_w1_a', 'w1a'],
  ['.hada_w1_b', 'w1b'],
  ['.hada_w2_a', 'w2a'],
  ['.hada_w2_b', 'w2b'],
  ['.lokr_w1', 'k1'],
  ['.lokr_w1_a', 'k1a'],
  ['.lokr_w1_b', 'k1b'],
  ['.lokr_w2', 'k2'],
  ['.lokr_w2_a', 'k2a'],
  ['.lokr_w2_b', 'k2b'],
  ['.alpha', 'alpha'],
  // what no supported network uses: the module is reported, not applied
  ['.lora_mid.weight', 'unsupported'],
  ['.dora_scale', 'unsupported'],
  ['.hada_t1', 'unsupported'],
  ['.hada_t2', 'unsupported'],
  ['.lokr_t2', 'unsupported'],
]

/** Reads a LoRA file's modules from its header; alphas (scalars) are read through `reader`. */
export function readLoraFile(checkpoint: Checkpoint, reader: TensorReader): LoraFile {
  const groups = new Map<string, Map<string, TensorInfo>>()
  const unsupported = new Set<string>()
  for (const tensor of checkpoint.tensors) {
    const match = suffixOf(tensor.key)
    if (match === null) {
      unsupported.add(tensor.key)
      continue
    }
    const [module, role] = match
    if (role === 'unsupported') unsupported.add(module)
    let group = groups.get(module)
    if (group === undefined) groups.set(module, (group = new Map()))
    group.set(role, tensor)
  }
  const modules: LoraModule[] = []
  for (const [fileName, group] of groups) {
    if (unsupported.has(fileName)) continue
    const factors = factorsOf(group)
    if (factors === null) {
      unsupported.add(fileName)
      continue
    }
    const alphaTensor = group.get('alpha')
    const alpha = alphaTensor === undefined || numelOf(alphaTensor.shape) !== 1 ? null : (reader.readFloat32(alphaTensor.locator)[0] ?? null)
    const rank = rankOf(factors)
    modules.push({ name: normaliseModuleName(fileName), fileName, factors, rank, alpha, scale: scaleOf(factors, alpha, rank) })
  }
  return { path: checkpoint.path, modules, unsupported: [...unsupported], metadata: checkpoint.metadata }
}

function suffixOf(key: string): [string, string] | null {
  let best: [string, string] | null = null
  for (const [suffix, role] of SUFFIXES) {
    if (key.endsWith(suffix) && (best === null || suffix.length > key.length - best[0].length)) best = [key.slice(0, -suffix.length), role]
  }
  return best
}

function factorsOf(group: ReadonlyMap<string, TensorInfo>): LoraFactors | null {
  const get = (role: string): TensorLocator | undefined => group.get(role)?.locator
  const up = get('up')
  const down = get('down')
  if (up !== undefined && down !== undefined) return { type: 'lora', up, down }
  const [w1a, w1b, w2a, w2b] = [get('w1a'), get('w1b'), get('w2a'), get('w2b')]
  if (w1a !== undefined && w1b !== undefined && w2a !== undefined && w2b !== undefined) return { type: 'loha', w1a, w1b, w2a, w2b }
  const kron = (whole: TensorLocator | undefined, a: TensorLocator | undefined, b: TensorLocator | undefined): KronFactor | null =>
    whole !== undefined ? { whole } : a !== undefined && b !== undefined ? { a, b } : null
  const w1 = kron(get('k1'), get('k1a'), get('k1b'))
  const w2 = kron(get('k2'), get('k2a'), get('k2b'))
  if (w1 !== null && w2 !== null) return { type: 'lokr', w1, w2 }
  return null
}

function rankOf(factors: LoraFactors): number | null {
  switch (factors.type) {
    case 'lora':
      return factors.down.shape[0] ?? null
    case 'loha':
      return factors.w1b.shape[0] ?? null
    case 'lokr':
      if ('b' in factors.w1) return factors.w1.b.shape[0] ?? null
      if ('b' in factors.w2) return factors.w2.b.shape[0] ?? null
      return null
  }
}

/**
 * alpha / rank; 1 without an alpha. A LoKr whose factors are both stored whole has no rank, and
 * LyCORIS then ignores alpha (scale 1).
 */
function scaleOf(factors: LoraFactors, alpha: number | null, rank: number | null): number {
  if (alpha === null || rank === null || rank === 0) return 1
  if (factors.type === 'lokr' && !('b' in factors.w1) && !('b' in factors.w2)) return 1
  return alpha / rank
}

/**
 * One spelling for the module names of every format: kohya names stay; diffusers / PEFT prefixes
 * (unet., text_encoder., text_encoder_2., transformer., diffusion_model., base_model.model.) become
 * kohya prefixes, and the old diffusers attention-processor names (to_q_lora) the layer's own.
 */
export function normaliseModuleName(fileName: string): string {
  if (/^lora_(unet|te\d?|transformer)_/.test(fileName)) return fileName
  let path = fileName.replace(/^base_model\.model\./, '')
  path = path.replace(/\.processor\.(to_[qkv]|to_out)_lora$/, '.$1').replace(/\.to_out$/, '.to_out.0')
  const prefixes: readonly (readonly [string, string])[] = [
    ['unet.', 'lora_unet_'],
    ['text_encoder_2.', 'lora_te2_'],
    ['text_encoder.', 'lora_te1_'],
    ['transformer.', 'lora_transformer_'],
    ['diffusion_model.', 'lora_unet_'],
  ]
  for (const [prefix, kohya] of prefixes) {
    if (path.startsWith(prefix)) return kohya + path.slice(prefix.length).replaceAll('.', '_')
  }
  return path.replaceAll('.', '_')
}
