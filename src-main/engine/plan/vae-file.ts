import { componentOf } from '../arch/components'
import { AmalgamError } from '../errors'
import type { TensorInfo } from '../formats/checkpoint'
import type { PlanInput } from './plan-inputs'

/** The part of a VAE key every file spells alike: from `encoder.` / `decoder.` / `(post_)quant_conv.` on. */
const VAE_TAIL = /^(?:.*?\.)?((?:encoder|decoder|quant_conv|post_quant_conv)\..+)$/

/**
 * A VAE to bake in from a file (recipe components.vae = { file }): a lone VAE (`encoder.*`,
 * `vae.*`, `first_stage_model.*`) or a full checkpoint's VAE. Tensors are matched to a's VAE keys
 * by the name below the VAE prefix, which is the same in every single-file layout.
 */
export class VaeSource {
  private readonly byTail = new Map<string, TensorInfo>()

  constructor(readonly input: PlanInput) {
    const { detection } = input
    if (detection.layout === 'diffusers') {
      throw new AmalgamError('BAD_RECIPE', `components.vae.file: ${input.path} uses diffusers tensor names; use a single-file VAE (.safetensors as A1111 / ComfyUI load it)`)
    }
    for (const t of input.checkpoint.tensors) {
      if (componentOf(detection, t.key) !== 'vae') continue
      const tail = VAE_TAIL.exec(t.key)?.[1]
      if (tail !== undefined) this.byTail.set(tail, t)
    }
    if (this.byTail.size === 0) {
      const what = detection.architecture === 'component' ? (detection.variant ?? 'unknown component') : `${detection.architecture} model without a VAE`
      throw new AmalgamError('BAD_RECIPE', `components.vae.file: ${input.path} holds no VAE (it is a ${what})`)
    }
  }

  /** The file's tensor for a's VAE key `key`. */
  tensorFor(key: string): TensorInfo | undefined {
    const tail = VAE_TAIL.exec(key)?.[1]
    return tail === undefined ? undefined : this.byTail.get(tail)
  }
}
