import type { Architecture } from '../../common/model-entry'
import { getConvention, type BlockConvention } from '../arch/blocks'
import { AmalgamError } from '../errors'

/**
 * LoRA block weights as sd-webui-lora-block-weight (LBW) writes them: one strength per block of
 * supermerger's convention (BASE = the text encoders). The short schemes list only the blocks a plain
 * LoRA has layers in (17 of SD1's 26, 12 of SDXL's 20); the blocks they leave out get 0, as LBW
 * expands them. A weight is a preset name, LBW's comma-separated numbers, an array in scheme order,
 * or block id → weight (unlisted blocks 1).
 */
export type BlockWeightSpec = string | readonly number[] | Readonly<Record<string, number>>

const range = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${String(from + i).padStart(2, '0')}`)

/** The short schemes, by architecture: the blocks a plain (non-conv) LoRA adapts. */
const SHORT_SCHEMES: Readonly<Partial<Record<Architecture, readonly string[]>>> = {
  sd1: ['BASE', 'IN01', 'IN02', 'IN04', 'IN05', 'IN07', 'IN08', 'M00', ...range('OUT', 3, 11)],
  sd2: ['BASE', 'IN01', 'IN02', 'IN04', 'IN05', 'IN07', 'IN08', 'M00', ...range('OUT', 3, 11)],
  sdxl: ['BASE', 'IN04', 'IN05', 'IN07', 'IN08', 'M00', ...range('OUT', 0, 5)],
}

/** LBW's default presets, in the SD1 17-value scheme (its lbwpresets.txt). */
export const LBW_PRESETS: Readonly<Record<string, readonly number[]>> = {
  NONE: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  ALL: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  INS: [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  IND: [1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  INALL: [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  MIDD: [1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
  OUTD: [1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0],
  OUTS: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
  OUTALL: [1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  'ALL0.5': [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
}

/** The LBW scheme (supermerger's convention) for an architecture; null when LoRA block weights do not apply. */
export function lbwConvention(architecture: Architecture): BlockConvention | null {
  if (architecture !== 'sd1' && architecture !== 'sd2' && architecture !== 'sdxl' && architecture !== 'flux') return null
  return getConvention(architecture, 'supermerger')
}

/**
 * The weight of each block of `convention` (which blocks get which strength). `where` names the
 * recipe field in errors.
 */
export function blockWeights(architecture: Architecture, convention: BlockConvention, spec: BlockWeightSpec, where: string): ReadonlyMap<string, number> {
  const full = convention.blockIds
  const short = SHORT_SCHEMES[architecture]
  const fromList = (values: readonly number[]): Map<string, number> => {
    if (values.length === full.length) return new Map(full.map((id, i) => [id, values[i]!]))
    if (short !== undefined && values.length === short.length) {
      const weights = new Map(full.map((id) => [id, 0]))
      short.forEach((id, i) => weights.set(id, values[i]!))
      return weights
    }
    const lengths = short === undefined ? `${full.length}` : `${short.length} or ${full.length}`
    throw new AmalgamError('BAD_RECIPE', `${where}: ${architecture} LoRA block weights take ${lengths} values (${full.join(',')}), got ${values.length}`)
  }
  if (typeof spec === 'string') {
    const preset = LBW_PRESETS[spec.trim().toUpperCase()]
    if (preset !== undefined) {
      if (short === undefined || short.length !== preset.length) {
        if (preset.every((v) => v === preset[0])) return new Map(full.map((id) => [id, preset[0]!]))
        throw new AmalgamError('BAD_RECIPE', `${where}: the preset ${spec} is written for SD1's 17 blocks; give ${architecture} weights as numbers`)
      }
      return fromList(preset)
    }
    const values = spec.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)))
    if (values.some((v) => !Number.isFinite(v))) {
      throw new AmalgamError('BAD_RECIPE', `${where}: ${JSON.stringify(spec)} is neither a preset (${Object.keys(LBW_PRESETS).join(', ')}) nor comma-separated numbers`)
    }
    return fromList(values)
  }
  if (Array.isArray(spec)) return fromList(spec as readonly number[])
  const weights = new Map(full.map((id) => [id, 1]))
  for (const [id, value] of Object.entries(spec)) {
    if (!full.includes(id)) throw new AmalgamError('BAD_RECIPE', `${where}.${id}: no such block for ${architecture} (blocks: ${full.join(',')})`)
    weights.set(id, value)
  }
  return weights
}


/** The block weight of one canonical key: its block's, 1 for keys outside every block. */
export function keyBlockWeight(convention: BlockConvention, weights: ReadonlyMap<string, number>, key: string): number {
  const assignment = convention.blockOf(key)
  const block = 'block' in assignment ? assignment.block : 'unmatched' in assignment ? assignment.fallback : null
  return block === null ? 1 : (weights.get(block) ?? 1)
}
