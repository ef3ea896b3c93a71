import type { Architecture } from '../../common/model-entry'
import { AmalgamError } from '../errors'
import { numelOf } from '../formats/dtype'
import { kohyaName, loraNameTable, unetDiffusersPath, type LoraTarget } from './checkpoint-names'

/** A layer a LoRA is extracted for: its kohya name and the weight (or rows of a fused weight) it adapts. */
export interface ExtractionTarget {
  readonly name: string
  readonly target: LoraTarget
  /** the adapted weight's shape, rows restricted to the target's */
  readonly shape: readonly number[]
}

const UNET_PREFIX = 'model.diffusion_model.'

/** The text-encoder name prefixes kohya uses for each architecture (SD1 / SD2 one encoder, SDXL two, Flux CLIP-L only). */
const TEXT_PREFIXES: Partial<Record<Architecture, readonly string[]>> = {
  sd1: ['lora_te_'],
  sd2: ['lora_te_'],
  sdxl: ['lora_te1_', 'lora_te2_'],
  flux: ['lora_te1_'],
}

/**
 * The layers kohya's networks.lora adapts, named as kohya names them: the UNet's attention
 * (transformer) and resnet blocks with their down- / upsamplers (not conv_in, conv_out or the time
 * embedding) — in diffusers naming for SD1 / SD2, in LDM naming for SDXL (kohya's SDXL UNet keeps
 * the original names); Flux's double and single blocks; the text encoders' attention and MLP
 * layers (OpenCLIP's fused q / k / v split into three modules). Names come from the same table
 * baking uses, so an extracted LoRA always matches the model it came from.
 */
export function extractionTargets(architecture: Architecture, tensors: ReadonlyMap<string, { readonly shape: readonly number[] }>): ExtractionTarget[] {
  const textPrefixes = TEXT_PREFIXES[architecture]
  if (textPrefixes === undefined) {
    throw new AmalgamError('BAD_ARGUMENT', `LoRA extraction supports SD1, SD2, SDXL and Flux checkpoints, not ${architecture}`)
  }
  const targets: ExtractionTarget[] = []
  for (const [name, target] of loraNameTable(architecture, tensors)) {
    const shape = tensors.get(target.key)?.shape
    if (shape === undefined || (shape.length !== 2 && shape.length !== 4) || numelOf(shape) === 0) continue
    const chosen = target.key.startsWith(UNET_PREFIX) ? isKohyaUnetName(architecture, name, target.key) : textPrefixes.some((p) => name.startsWith(p)) && /_encoder_layers_\d+_(self_attn|mlp)_/.test(name)
    if (!chosen) continue
    targets.push({ name, target, shape: target.rows === null ? shape : [target.rows.count, ...shape.slice(1)] })
  }
  return targets
}

function isKohyaUnetName(architecture: Architecture, name: string, key: string): boolean {
  const module = key.slice(UNET_PREFIX.length, -'.weight'.length)
  if (architecture === 'flux') return /^(double|single)_blocks\./.test(module) && name === kohyaName('lora_unet_', module)
  if (!/^(input_blocks\.(?!0\.0$)|middle_block\.|output_blocks\.)/.test(module)) return false
  if (architecture === 'sdxl') return name === kohyaName('lora_unet_', module)
  const diffusers = unetDiffusersPath(module)
  return diffusers !== null && name === kohyaName('lora_unet_', diffusers)
}
