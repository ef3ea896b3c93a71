import type { Architecture } from '../../common/model-entry'
import type { PredictionType } from '../../common/recipe'
import { AmalgamError } from '../errors'
import { OUTPUT_DTYPE_TO_DTYPE, type OutputDType } from '../formats/dtype'
import { writeSafetensorsFile, type TensorToWrite } from '../formats/safetensors/writer'
import type { LowRankFactors } from './extract-factors'

/** One module of a LoRA to write, in kohya naming. */
export interface FactoredModule {
  /** kohya module name, e.g. lora_unet_down_blocks_0_attentions_0_proj_in */
  readonly name: string
  /** the adapted weight's shape (or that of its rows for a fused q / k / v): [out, in] or [out, in, kh, kw] */
  readonly weightShape: readonly number[]
  readonly factors: LowRankFactors
  readonly alpha: number
}

/** The LoRA output dtypes (kohya's save_precision). */
export const LORA_DTYPES = ['fp16', 'bf16', 'fp32'] as const satisfies readonly OutputDType[]
export type LoraDType = (typeof LORA_DTYPES)[number]

/**
 * Writes a kohya LoRA / LoCon file (through `<path>.partial`): per module `lora_down.weight`
 * [r, in] or [r, in, kh, kw], `lora_up.weight` [out, r] or [out, r, 1, 1], and `alpha`. Alphas are
 * stored as F32 whatever the dtype, so a fractional alpha survives exactly.
 */
export async function writeKohyaLora(
  path: string,
  modules: readonly FactoredModule[],
  dtype: LoraDType,
  metadata: Readonly<Record<string, string>>,
  opts: { readonly overwrite: boolean; readonly inputs: readonly string[] },
): Promise<void> {
  const stored = OUTPUT_DTYPE_TO_DTYPE[dtype]
  const tensors: TensorToWrite[] = []
  for (const m of modules) {
    const [out, ...inner] = m.weightShape
    if (out === undefined) throw new AmalgamError('INTERNAL', `LoRA module ${m.name}: the adapted weight has no shape`)
    const conv = m.weightShape.length === 4
    const r = m.factors.rank
    tensors.push(
      { key: `${m.name}.lora_down.weight`, dtype: stored, shape: [r, ...inner], data: m.factors.down },
      { key: `${m.name}.lora_up.weight`, dtype: stored, shape: conv ? [out, r, 1, 1] : [out, r], data: m.factors.up },
      { key: `${m.name}.alpha`, dtype: 'F32', shape: [], data: Float32Array.of(m.alpha) },
    )
  }
  await writeSafetensorsFile(path, tensors, metadata, opts)
}

/** kohya's ss_base_model_version for an architecture (null: kohya has no name for it). */
export function kohyaBaseModelVersion(architecture: Architecture, prediction: PredictionType): string | null {
  switch (architecture) {
    case 'sd1':
      return 'sd_v1'
    case 'sd2':
      return prediction === 'v' ? 'sd_v2_768_v' : 'sd_v2_512'
    case 'sdxl':
      return 'sdxl_base_v1-0'
    case 'flux':
      return 'flux1'
    default:
      return null
  }
}

/** The ss_* entries kohya's extract_lora_from_models / networks.lora write, for a LoRA of these ranks and alphas. */
export function kohyaNetworkMetadata(opts: {
  readonly rank: number
  readonly alpha: number
  readonly convRank: number | null
  readonly convAlpha: number | null
  readonly baseModelVersion: string | null
}): Record<string, string> {
  const metadata: Record<string, string> = {
    ss_network_module: 'networks.lora',
    ss_network_dim: String(opts.rank),
    ss_network_alpha: String(opts.alpha),
  }
  if (opts.convRank !== null) metadata['ss_network_args'] = JSON.stringify({ conv_dim: String(opts.convRank), conv_alpha: String(opts.convAlpha ?? opts.convRank) })
  if (opts.baseModelVersion !== null) {
    metadata['ss_base_model_version'] = opts.baseModelVersion
    metadata['ss_v2'] = String(opts.baseModelVersion.startsWith('sd_v2'))
  }
  return metadata
}
