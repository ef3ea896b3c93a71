import { z } from 'zod'
import presetsJson from '../../../resources/presets.json' with { type: 'json' }
import type { Architecture } from '../../common/model-entry'
import type { BlockConventionRef } from '../../common/recipe'
import { AmalgamError } from '../errors'
import { blockPositions } from './blocks'

/**
 * Block-weight presets. Values are the ratio toward model B per block (0 keeps A), as supermerger,
 * bbc-mc and Model Mixer use them. The tools' own presets (resources/presets.json) apply to strips
 * with their block ids; every other strip (Flux, SD3, LLM layers, ComfyUI's ids) gets generated curves.
 */
export interface BlockPresetDefinition {
  /** stable: `<set>/<name>`, e.g. "supermerger/GRAD_V", "curve/V" */
  readonly id: string
  readonly name: string
  /** where the values come from, for the UI label */
  readonly source: string
  readonly architecture: Architecture
  readonly convention: BlockConventionRef
  readonly values: Readonly<Record<string, number>>
}

const PresetTable = z.record(z.string(), z.array(z.number()))
const PresetsFile = z.object({
  block_ids: z.object({ sd1_26: z.array(z.string()).length(26), sdxl_20: z.array(z.string()).length(20) }),
  sd1_26: PresetTable,
  sdxl_20_supermerger_derived: PresetTable,
  sdxl_20_model_mixer: PresetTable,
})

interface PresetSet {
  readonly set: string
  readonly source: string
  readonly architectures: readonly Architecture[]
  readonly blockIds: readonly string[]
  readonly presets: Readonly<Record<string, readonly number[]>>
}

let cached: readonly PresetSet[] | null = null

/**
 * The tool presets with numbers (the random templates ALL_R / ALL_U / ALL_X hold tokens drawn at
 * merge time, not values, and are left out).
 */
function presetSets(): readonly PresetSet[] {
  if (cached !== null) return cached
  const parsed = PresetsFile.safeParse(presetsJson)
  if (!parsed.success) throw new AmalgamError('INTERNAL', `resources/presets.json is malformed: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`)
  const { block_ids: ids, ...tables } = parsed.data
  const sets: PresetSet[] = [
    { set: 'supermerger', source: 'supermerger', architectures: ['sd1', 'sd2'], blockIds: ids.sd1_26, presets: tables.sd1_26 },
    { set: 'supermerger-xl', source: 'supermerger (SD1 preset converted to SDXL)', architectures: ['sdxl'], blockIds: ids.sdxl_20, presets: tables.sdxl_20_supermerger_derived },
    { set: 'model_mixer-xl', source: 'Model Mixer (native SDXL)', architectures: ['sdxl'], blockIds: ids.sdxl_20, presets: tables.sdxl_20_model_mixer },
  ]
  for (const s of sets) {
    for (const [name, values] of Object.entries(s.presets)) {
      if (values.length !== s.blockIds.length) throw new AmalgamError('INTERNAL', `resources/presets.json: ${s.set} preset ${name} has ${values.length} values for ${s.blockIds.length} blocks`)
    }
  }
  cached = sets
  return sets
}

/**
 * Whether a tool's preset strip fits a convention's blocks: the same ids, or those plus supermerger's
 * SDXL VAE slot, which supermerger fills with 0 (keep A's VAE) when it converts a preset (weighttoxl).
 */
function fits(presetIds: readonly string[], blockIds: readonly string[]): boolean {
  const extra = blockIds.filter((id) => !presetIds.includes(id))
  return presetIds.every((id) => blockIds.includes(id)) && extra.every((id) => id === 'VAE')
}

/**
 * Generated curves over t (the gradient position of each block, blocks.ts blockPositions):
 * flat c, ramp up t, ramp down 1 − t, V |1 − 2t| (ends 1, middle 0), A 1 − |1 − 2t|.
 */
const CURVES: readonly { readonly name: string; readonly at: (t: number) => number }[] = [
  { name: 'FLAT_25', at: () => 0.25 },
  { name: 'FLAT_50', at: () => 0.5 },
  { name: 'FLAT_75', at: () => 0.75 },
  { name: 'RAMP_UP', at: (t) => t },
  { name: 'RAMP_DOWN', at: (t) => 1 - t },
  { name: 'V', at: (t) => Math.abs(1 - 2 * t) },
  { name: 'A', at: (t) => 1 - Math.abs(1 - 2 * t) },
]

/** The presets offered for a convention's block strip, tool presets first. */
export function presetsFor(architecture: Architecture, convention: BlockConventionRef, blockIds: readonly string[]): BlockPresetDefinition[] {
  const fromTools: BlockPresetDefinition[] = []
  for (const s of presetSets()) {
    if (!s.architectures.includes(architecture) || !fits(s.blockIds, blockIds)) continue
    for (const [name, values] of Object.entries(s.presets)) {
      const byId = new Map(s.blockIds.map((id, i) => [id, values[i] ?? 0]))
      fromTools.push({
        id: `${s.set}/${name}`,
        name,
        source: s.source,
        architecture,
        convention,
        values: Object.fromEntries(blockIds.map((id) => [id, byId.get(id) ?? 0])),
      })
    }
  }
  if (fromTools.length > 0) return fromTools
  const positions = blockPositions(convention.name, blockIds)
  return CURVES.map((curve) => ({
    id: `curve/${curve.name}`,
    name: curve.name,
    source: 'generated curve',
    architecture,
    convention,
    values: Object.fromEntries(blockIds.map((id, i) => [id, curve.at(positions[i] ?? 0)])),
  }))
}
