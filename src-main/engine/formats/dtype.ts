/**
 * The tensor element types Amalgam knows, named as safetensors names them.
 * Float types are decoded to Float32Array for math; integer and bool tensors keep their type and are
 * never interpolated (they are copied from the primary input).
 */
export const FLOAT_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2'] as const
export const INT_DTYPES = ['I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL'] as const
export const DTYPES = [...FLOAT_DTYPES, ...INT_DTYPES] as const

export type FloatDType = (typeof FLOAT_DTYPES)[number]
export type IntDType = (typeof INT_DTYPES)[number]
export type DType = (typeof DTYPES)[number]

/** dtypes that appear in real files but that we cannot compute on; a file holding one is listed as unsupported. */
export const KNOWN_UNSUPPORTED_DTYPES: Readonly<Record<string, number>> = {
  F8_E8M0: 1,
  F4: 0.5,
  F6_E2M3: 0.75,
  F6_E3M2: 0.75,
  C64: 8,
  F8_E4M3FNUZ: 1,
  F8_E5M2FNUZ: 1,
}

const SIZES: Readonly<Record<DType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
}

export function isDType(name: string): name is DType {
  return Object.hasOwn(SIZES, name)
}

export function isFloatDType(dtype: DType): dtype is FloatDType {
  return (FLOAT_DTYPES as readonly string[]).includes(dtype)
}

export function dtypeSize(dtype: DType): number {
  return SIZES[dtype]
}

/** Output dtypes a user can choose for a merged file (recipe `output.dtype`). */
export const OUTPUT_DTYPES = ['fp32', 'fp16', 'bf16', 'fp8_e4m3', 'fp8_e5m2'] as const
export type OutputDType = (typeof OUTPUT_DTYPES)[number]

export const OUTPUT_DTYPE_TO_DTYPE: Readonly<Record<OutputDType, FloatDType>> = {
  fp32: 'F32',
  fp16: 'F16',
  bf16: 'BF16',
  fp8_e4m3: 'F8_E4M3',
  fp8_e5m2: 'F8_E5M2',
}

export function numelOf(shape: readonly number[]): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}
