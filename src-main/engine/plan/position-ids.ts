import type { TensorInfo } from '../formats/checkpoint'
import { isFloatDType, numelOf } from '../formats/dtype'
import type { TensorReader } from '../formats/tensor-reader'

/** CLIP's position ids: the int64 row 0..76 the text encoder indexes its position embedding with. */
export const POSITION_IDS = /(^|\.)position_ids$/

export function isPositionIds(key: string): boolean {
  return POSITION_IDS.test(key)
}

/**
 * Why stored position ids look damaged, or null when they hold exactly 0..n-1 as integers. Merges
 * that interpolated them as floats leave a float dtype, and often values like 75.9999 that make the
 * text encoder read the wrong position embedding (the "CLIP ids" problem supermerger fixes).
 */
export function positionIdsDamage(tensor: TensorInfo, reader: TensorReader): string | null {
  const n = numelOf(tensor.shape)
  // integers this small convert to float exactly; a huge damaged int64 still compares unequal
  const values = reader.readFloat32(tensor.locator)
  const wrong = values.findIndex((v, i) => v !== i)
  const found = wrong === -1 ? null : `position ${wrong} holds ${values[wrong]}`
  if (isFloatDType(tensor.dtype)) return `stored as ${tensor.dtype} instead of int64${found === null ? '' : `, ${found}`}`
  return found === null ? null : `they are not 0..${n - 1}: ${found}`
}
