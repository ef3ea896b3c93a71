import { fileError } from '../../errors'
import type { FloatDType } from '../dtype'
import type { HeaderEntry, SafetensorsHeader } from './header'

/*
 * Quantised checkpoints store weights that are meaningless without their side tensors (block scales,
 * code books, per-channel scales). Merging their raw bytes would silently produce garbage, so they are
 * refused — except ComfyUI's legacy "scaled fp8", whose single per-tensor scale we apply on read.
 */

const DEQUANTISE_FIRST = 'Amalgam merges unquantised weights only: convert it to fp16/bf16/fp32 safetensors first'

/** One test per key: headers have thousands of keys, and almost none of them match. */
const QUANTISATION_KEY = /\.(?:absmax|quant_map|nested_absmax|nested_quant_map|quant_state|SCB|qweight|qzeros|comfy_quant|weight_scale|weight_scale_inv|weight_scale_2)$|\.quant_state\.bitsandbytes__/

const WEIGHT_SCALE = /\.weight_scale(?:_inv|_2)?$/

/** The scheme a matching key proves, or null for a weight scale (which proves one only beside a quantised weight). */
function schemeOf(key: string): string | null {
  if (key.endsWith('.SCB')) return 'bitsandbytes int8-quantised'
  if (key.endsWith('.qweight') || key.endsWith('.qzeros')) return 'GPTQ/AWQ-quantised'
  if (key.endsWith('.comfy_quant')) return 'ComfyUI mixed-precision quantised'
  if (WEIGHT_SCALE.test(key)) return null
  return 'bitsandbytes NF4/FP4-quantised'
}

/** Throws QUANTIZED_UNSUPPORTED when the header describes a quantisation scheme we cannot dequantise. */
export function refuseQuantized(path: string, header: SafetensorsHeader): void {
  if (Object.hasOwn(header.metadata, '_quantization_metadata')) {
    throw refusal(path, 'ComfyUI mixed-precision quantised', '__metadata__ "_quantization_metadata"')
  }
  let byKey: Map<string, HeaderEntry> | null = null
  for (const entry of header.entries) {
    if (!QUANTISATION_KEY.test(entry.key)) continue
    const scheme = schemeOf(entry.key)
    if (scheme !== null) throw refusal(path, scheme, `tensor ${JSON.stringify(entry.key)}`)
    // a per-layer weight scale (compressed-tensors, DeepSeek block fp8, ComfyUI mixed precision) matters
    // only beside a quantised weight; the legacy scaled-fp8 layout uses `.scale_weight` instead
    byKey ??= new Map(header.entries.map((e) => [e.key, e]))
    const weight = byKey.get(entry.key.replace(WEIGHT_SCALE, '.weight'))
    if (weight && isQuantisedStorage(weight)) throw refusal(path, `${weight.storedDtype} weight-scale-quantised`, `tensor ${JSON.stringify(entry.key)}`)
  }
}

function isQuantisedStorage(entry: HeaderEntry): boolean {
  return entry.storedDtype.startsWith('F8_') || entry.storedDtype === 'I8' || entry.storedDtype === 'U8' || entry.storedDtype === 'F4'
}

function refusal(path: string, what: string, evidence: string): Error {
  return fileError('QUANTIZED_UNSUPPORTED', path, `this is a ${what} checkpoint (it has ${evidence}); ${DEQUANTISE_FIRST}`)
}

/** A GGUF file (llama.cpp) is recognised by its extension or its magic bytes. */
export function refuseGguf(path: string): Error {
  return fileError('QUANTIZED_UNSUPPORTED', path, `this is a GGUF file (llama.cpp format, usually quantised); ${DEQUANTISE_FIRST}`)
}

export function isGgufMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46
}

const MARKER = 'scaled_fp8'
const SCALE_WEIGHT = '.scale_weight'
const SCALE_INPUT = '.scale_input'

/** A one-element scale tensor (data offsets relative to the data section). */
export interface ScaleTensor {
  readonly key: string
  readonly dtype: FloatDType
  readonly begin: number
  readonly end: number
}

const SCALE_DTYPES: readonly string[] = ['F32', 'F16', 'BF16', 'F64']
const isScaleDtype = (dtype: string | null): dtype is FloatDType => dtype !== null && SCALE_DTYPES.includes(dtype)

export interface ScaledFp8Layout {
  /** weight key → the scalar it is multiplied by */
  readonly scaleOf: ReadonlyMap<string, ScaleTensor>
  /** marker, scale_weight and scale_input keys: not listed as tensors */
  readonly consumed: ReadonlySet<string>
}

/**
 * ComfyUI "scaled fp8" (comfy/utils.py convert_old_quants): a `<prefix>scaled_fp8` marker tensor,
 * and under that prefix a float32 scalar `<layer>.scale_weight` beside each fp8 `<layer>.weight`
 * (real value = stored × scale), plus optional `<layer>.scale_input` (activation scales, irrelevant to
 * weights). Null when the file has no marker. Scales must be one element; per-channel scales are not
 * this format and are refused.
 */
export function findScaledFp8(path: string, header: SafetensorsHeader): ScaledFp8Layout | null {
  const markers = header.entries.filter((e) => e.key === MARKER || e.key.endsWith(`.${MARKER}`))
  if (markers.length === 0) return null
  const prefixes = markers.map((m) => m.key.slice(0, -MARKER.length))
  const underMarker = (key: string): boolean => prefixes.some((p) => key.startsWith(p))
  const byKey = new Map(header.entries.map((e) => [e.key, e]))
  const scaleOf = new Map<string, ScaleTensor>()
  const consumed = new Set(markers.map((m) => m.key))
  for (const entry of header.entries) {
    if (!underMarker(entry.key)) continue
    if (entry.key.endsWith(SCALE_INPUT)) consumed.add(entry.key)
    if (!entry.key.endsWith(SCALE_WEIGHT)) continue
    const weightKey = `${entry.key.slice(0, -SCALE_WEIGHT.length)}.weight`
    if (!byKey.has(weightKey)) {
      throw fileError('BAD_TENSOR', path, `scaled fp8: ${JSON.stringify(entry.key)} has no ${JSON.stringify(weightKey)} to scale`)
    }
    if (entry.shape.reduce((n, d) => n * d, 1) !== 1) {
      throw refusal(path, 'per-channel scaled fp8', `tensor ${JSON.stringify(entry.key)} of shape ${JSON.stringify(entry.shape)}`)
    }
    if (!isScaleDtype(entry.dtype)) {
      throw fileError('BAD_TENSOR', path, `scaled fp8: ${JSON.stringify(entry.key)} is ${entry.storedDtype}, expected a float scale`)
    }
    scaleOf.set(weightKey, { key: entry.key, dtype: entry.dtype, begin: entry.begin, end: entry.end })
    consumed.add(entry.key)
  }
  return { scaleOf, consumed }
}
