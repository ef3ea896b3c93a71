import blocksJson from '../../resources/blocks.json' with { type: 'json' }
import flux from '../../resources/layouts/flux1-dev.json' with { type: 'json' }
import sd1 from '../../resources/layouts/sd1-ldm.json' with { type: 'json' }
import sd2 from '../../resources/layouts/sd2-ldm.json' with { type: 'json' }
import sd3 from '../../resources/layouts/sd3-medium.json' with { type: 'json' }
import sdxl from '../../resources/layouts/sdxl-sgm.json' with { type: 'json' }
import presetsJson from '../../resources/presets.json' with { type: 'json' }
import { isDType, type DType } from '../../src-main/engine/formats/dtype'

/** The layout files as tests read them: straight from resources/, not through the code under test. */
export interface LayoutJson {
  readonly counts: { readonly per_component: Readonly<Record<string, { readonly keys: number; readonly params: number; readonly optional_keys: number; readonly optional_params: number }>> }
  readonly notes: readonly string[]
  readonly keys: readonly { readonly name: string; readonly shape: readonly number[]; readonly dtype: string; readonly component: string; readonly optional?: boolean; readonly aliases?: readonly string[] }[]
}

export const LAYOUTS: Readonly<Record<'sd1' | 'sd2' | 'sdxl' | 'sd3' | 'flux', LayoutJson>> = { sd1, sd2, sdxl, sd3, flux }

export interface ConventionJson {
  readonly block_ids: readonly string[]
  readonly skip: readonly { readonly regex: string }[]
  readonly rules: readonly { readonly block: string; readonly regex: string }[]
  readonly fallback: { readonly block: string | null }
}
export const BLOCKS: { readonly conventions: Readonly<Record<string, Readonly<Record<string, ConventionJson | string>>>> } = blocksJson

export const PRESETS: {
  readonly block_ids: { readonly sd1_26: readonly string[]; readonly sdxl_20: readonly string[] }
  readonly sd1_26: Readonly<Record<string, readonly number[]>>
  readonly sdxl_20_supermerger_derived: Readonly<Record<string, readonly number[]>>
  readonly sdxl_20_model_mixer: Readonly<Record<string, readonly number[]>>
} = presetsJson

export function conventionJson(name: string, architecture: string): ConventionJson {
  const entry = BLOCKS.conventions[name]?.[architecture]
  if (entry === undefined || typeof entry === 'string') throw new Error(`no convention ${name}/${architecture} in blocks.json`)
  return entry
}

export interface Head {
  readonly key: string
  readonly dtype: DType
  readonly shape: readonly number[]
}

function dtypeOf(name: string): DType {
  if (!isDType(name)) throw new Error(`layout dtype ${name} is not a DType`)
  return name
}

/** A layout's tensor table: required keys, or also the optional ones (scheduler buffers, markers, ...). */
export function layoutHeads(arch: keyof typeof LAYOUTS, opts: { optional?: boolean } = {}): Head[] {
  return LAYOUTS[arch].keys.filter((k) => opts.optional === true || k.optional !== true).map((k) => ({ key: k.name, dtype: dtypeOf(k.dtype), shape: k.shape }))
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/** Keys starting with `prefix`, renamed without it (a lone component cut out of a checkpoint). */
export function cut(heads: readonly Head[], prefix: string, replacement = ''): Head[] {
  return heads.filter((h) => h.key.startsWith(prefix)).map((h) => ({ ...h, key: replacement + h.key.slice(prefix.length) }))
}
