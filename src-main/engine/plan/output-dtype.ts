import type { OutputDType as RecipeOutputDType } from '../../common/recipe'
import type { Checkpoint } from '../formats/checkpoint'
import { isFloatDType, numelOf, OUTPUT_DTYPE_TO_DTYPE, type FloatDType, type OutputDType } from '../formats/dtype'

export interface OutputDTypeChoice {
  readonly dtype: FloatDType
  /** the recipe value it came from, made explicit: "fp16", ... */
  readonly name: OutputDType
  readonly reason: string | null
}

const NAME_OF: Readonly<Record<FloatDType, OutputDType>> = {
  F64: 'fp32',
  F32: 'fp32',
  F16: 'fp16',
  BF16: 'bf16',
  F8_E4M3: 'fp8_e4m3',
  F8_E5M2: 'fp8_e5m2',
}

/**
 * The float dtype merged and copied float tensors are written in. "auto" is a's dominant float
 * dtype (by parameter count), with two exceptions: float64 becomes fp32 (no tool loads fp64
 * checkpoints) and a scaled-fp8 a becomes fp16, because its fp8 values mean nothing without the
 * per-tensor scales, which a merged file cannot carry.
 */
export function chooseOutputDType(requested: RecipeOutputDType, a: Checkpoint): OutputDTypeChoice {
  if (requested !== 'auto') return { dtype: OUTPUT_DTYPE_TO_DTYPE[requested], name: requested, reason: null }
  const params = new Map<FloatDType, number>()
  let scaled = false
  for (const t of a.tensors) {
    if (!isFloatDType(t.dtype)) continue
    params.set(t.dtype, (params.get(t.dtype) ?? 0) + numelOf(t.shape))
    if (t.locator.scale !== undefined) scaled = true
  }
  const dominant = [...params].sort((x, y) => y[1] - x[1])[0]?.[0] ?? 'F16'
  if (scaled) return { dtype: 'F16', name: 'fp16', reason: 'a is scaled fp8, whose values need per-tensor scales a merged file cannot keep: the output is fp16' }
  const name = NAME_OF[dominant]
  return { dtype: OUTPUT_DTYPE_TO_DTYPE[name], name, reason: dominant === 'F64' ? 'a is float64: the output is fp32' : null }
}
