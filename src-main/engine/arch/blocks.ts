import type { Architecture } from '../../common/model-entry'
import type { BlockConventionRef } from '../../common/recipe'
import { AmalgamError } from '../errors'
import { BLOCK_ARCHITECTURES, blocksData, type BlockArchitecture, type ConventionData } from './blocks-data'
import type { ModelDepth } from './detection-types'
import { LLM_EMBED_PATTERN, LLM_HEAD_PATTERN, layerIndexOf } from './llm'

/**
 * Block conventions: how a merging tool groups a model's keys into the blocks its per-block sliders
 * address. The data and the matching rules are blocks.json's (see its rule_semantics): a key is
 * skipped when any skip regex matches; otherwise the FIRST rule whose regex is found in the key
 * gives the block; otherwise the key is unmatched and the convention's fallback says what the tool
 * does with it. Keys are canonical keys (keys.ts canonicalKey).
 */
export type BlockAssignment =
  | { readonly block: string }
  | { readonly skipped: string }
  | { readonly unmatched: true; readonly fallback: string | null }

export interface BlockConvention extends BlockConventionRef {
  readonly architecture: Architecture
  /** the newest version of this convention */
  readonly current: boolean
  /** where the mapping comes from (tool, file, snapshot) */
  readonly source: string
  /** what the tool's numbers mean, as blocks.json states it (ComfyUI's ratio is the share of model 1) */
  readonly weights: string
  readonly notes: readonly string[]
  /** in the tool's order; BASE first where the convention has one */
  readonly blockIds: readonly string[]
  blockOf(key: string): BlockAssignment
}

export interface ConventionListing extends BlockConventionRef {
  readonly current: boolean
}

/**
 * The name and version a recipe stores for each blocks.json entry. supermerger_2023_07_to_2025_11
 * is supermerger itself as it was from 2023-07 (commit 0182d3b) until 2025-11 (2cbd062): only
 * time_embed differs (OUT11 then, IN00 now). sd-mecha's version is the snapshot date the data was
 * read from (HEAD b8d4d88, 2026-03-18). blocks.json gives no snapshot date for the other tools; their
 * version is the month the data entered Amalgam (2026-11). A tool that changes its mapping later
 * gets a new version here, so recipes keep meaning what they meant.
 */
const RELEASES: Readonly<Record<string, BlockConventionRef>> = {
  supermerger: { name: 'supermerger', version: '2025-11' },
  supermerger_2023_07_to_2025_11: { name: 'supermerger', version: '2023-07' },
  sd_mecha: { name: 'sd_mecha', version: '2026-03' },
  bbc_mc: { name: 'bbc_mc', version: '2026-11' },
  model_mixer: { name: 'model_mixer', version: '2026-11' },
  comfyui: { name: 'comfyui', version: '2026-11' },
  comfyui_merge_blocks: { name: 'comfyui_merge_blocks', version: '2026-11' },
}

/** The generated LLM convention: EMBED, one block per decoder layer, HEAD. */
export const LAYERS_CONVENTION: BlockConventionRef = { name: 'layers', version: '1' }

/** SD3 data lists 24 joint blocks; deeper models (SD3.5 large: 38) continue the numbered family. */
const SD3_DATA_JOINT_BLOCKS = 24

interface Release {
  readonly dataName: string
  readonly ref: BlockConventionRef
  readonly current: boolean
  readonly source: string
  readonly data: ConventionData
}

function releasesFor(architecture: BlockArchitecture): Release[] {
  const releases: Release[] = []
  const newest = new Map<string, string>()
  for (const [dataName, family] of blocksData().conventions) {
    const ref = RELEASES[dataName]
    if (ref === undefined) throw new AmalgamError('INTERNAL', `resources/blocks.json: convention ${dataName} has no name/version in blocks.ts`)
    if ((newest.get(ref.name) ?? '') < ref.version) newest.set(ref.name, ref.version)
    const data = family.perArchitecture.get(architecture)
    if (data !== undefined) releases.push({ dataName, ref, current: false, source: family.source, data })
  }
  return releases.map((r) => ({ ...r, current: newest.get(r.ref.name) === r.ref.version }))
}

function isBlockArchitecture(architecture: Architecture): architecture is BlockArchitecture {
  return (BLOCK_ARCHITECTURES as readonly string[]).includes(architecture)
}

/** Every convention for an architecture, with which version is current. */
export function listConventions(architecture: Architecture): ConventionListing[] {
  if (architecture === 'llm') return [{ ...LAYERS_CONVENTION, current: true }]
  if (!isBlockArchitecture(architecture)) return []
  return releasesFor(architecture).map((r) => ({ ...r.ref, current: r.current }))
}

/** The convention a recipe without `blocks` uses: blocks.json's default for the architecture, current version. */
export function defaultConvention(architecture: Architecture): BlockConventionRef | null {
  if (architecture === 'llm') return LAYERS_CONVENTION
  if (!isBlockArchitecture(architecture)) return null
  const name = blocksData().defaultConvention.get(architecture)
  const release = releasesFor(architecture).find((r) => r.ref.name === name && r.current)
  return release?.ref ?? null
}

/**
 * A convention by name and version (defaults: the architecture's default convention, its current
 * version). `depth` gives the LLM layer count (required for `llm`) and SD3's joint block count.
 */
export function getConvention(architecture: Architecture, name?: string, version?: string, depth: ModelDepth = {}): BlockConvention {
  if (architecture === 'llm') return layersConvention(name, version, depth.layers)
  if (!isBlockArchitecture(architecture)) throw new AmalgamError('BAD_ARGUMENT', `there are no block conventions for ${architecture} models`)
  const wanted = name ?? defaultConvention(architecture)?.name
  const releases = releasesFor(architecture)
  const release = releases.find((r) => r.ref.name === wanted && (version === undefined ? r.current : r.ref.version === version))
  if (release === undefined) {
    const known = releases.map((r) => `${r.ref.name} ${r.ref.version}`).join(', ')
    throw new AmalgamError('BAD_ARGUMENT', `no block convention ${wanted ?? ''}${version === undefined ? '' : ` version ${version}`} for ${architecture} (known: ${known})`)
  }
  const data = architecture === 'sd3' && (depth.jointBlocks ?? 0) > SD3_DATA_JOINT_BLOCKS ? withJointBlocks(release.data, depth.jointBlocks ?? 0) : release.data
  return compileConvention(architecture, release, data)
}

function compileConvention(architecture: Architecture, release: Release, data: ConventionData): BlockConvention {
  const skips = data.skip.map((s) => ({ re: new RegExp(s.regex), why: s.why }))
  const rules = data.rules.map((r) => ({ re: new RegExp(r.regex), block: r.block }))
  const unmatched = { unmatched: true, fallback: data.fallback.block } as const
  return {
    ...release.ref,
    architecture,
    current: release.current,
    source: release.source,
    weights: data.weights,
    notes: data.notes,
    blockIds: data.block_ids,
    blockOf(key) {
      const skip = skips.find((s) => s.re.test(key))
      if (skip !== undefined) return { skipped: skip.why }
      const rule = rules.find((r) => r.re.test(key))
      return rule === undefined ? unmatched : { block: rule.block }
    },
  }
}

/**
 * Extends an SD3 convention past joint block 23 by repeating the pattern of block 23 (ComfyUI's
 * ModelMergeSD35_Large does exactly this with 38 blocks; model_mixer numbers them IN24...).
 */
function withJointBlocks(data: ConventionData, jointBlocks: number): ConventionData {
  const last = SD3_DATA_JOINT_BLOCKS - 1
  const templateIndex = data.rules.findIndex((r) => r.regex.includes(`joint_blocks\\.${last}\\.`))
  const template = data.rules[templateIndex]
  if (template === undefined) return data
  const extraIds: string[] = []
  const extraRules: ConventionData['rules'] = []
  for (let i = SD3_DATA_JOINT_BLOCKS; i < jointBlocks; i++) {
    const block = template.block.replace(String(last), String(i))
    extraIds.push(block)
    extraRules.push({ block, regex: template.regex.replace(`joint_blocks\\.${last}\\.`, `joint_blocks\\.${i}\\.`) })
  }
  const idAt = data.block_ids.indexOf(template.block) + 1
  return {
    ...data,
    block_ids: [...data.block_ids.slice(0, idAt), ...extraIds, ...data.block_ids.slice(idAt)],
    rules: [...data.rules.slice(0, templateIndex + 1), ...extraRules, ...data.rules.slice(templateIndex + 1)],
  }
}

/** L00…L{N−1}, zero-padded to the width of N−1 and at least 2 digits. */
function layerBlockId(index: number, layers: number): string {
  return `L${String(index).padStart(Math.max(2, String(layers - 1).length), '0')}`
}

function layersConvention(name: string | undefined, version: string | undefined, layers: number | undefined): BlockConvention {
  if ((name !== undefined && name !== LAYERS_CONVENTION.name) || (version !== undefined && version !== LAYERS_CONVENTION.version)) {
    throw new AmalgamError('BAD_ARGUMENT', `no block convention ${name ?? ''} ${version ?? ''} for llm models (known: layers 1)`)
  }
  if (layers === undefined || !Number.isSafeInteger(layers) || layers < 1) {
    throw new AmalgamError('BAD_ARGUMENT', `the llm block convention needs the model's layer count (got ${String(layers)})`)
  }
  const layerIds = Array.from({ length: layers }, (_, i) => layerBlockId(i, layers))
  const beyond = { unmatched: true, fallback: null } as const
  // mergekit's fallback treats every weight outside the layer stack as a pre-weight
  const loose = { unmatched: true, fallback: 'EMBED' } as const
  return {
    ...LAYERS_CONVENTION,
    architecture: 'llm',
    current: true,
    source: 'generated: one block per decoder layer (mergekit pre / layer / post weights)',
    weights: `${layers + 2} numbers: EMBED, L00..${layerIds[layers - 1] ?? ''}, HEAD`,
    notes: [],
    blockIds: ['EMBED', ...layerIds, 'HEAD'],
    blockOf(key) {
      const index = layerIndexOf(key)
      if (index !== null) {
        const block = layerIds[index]
        return block === undefined ? beyond : { block }
      }
      if (LLM_HEAD_PATTERN.test(key)) return { block: 'HEAD' }
      if (LLM_EMBED_PATTERN.test(key)) return { block: 'EMBED' }
      return loose
    },
  }
}

/**
 * Gradient positions t ∈ [0, 1] of a convention's blocks: evenly spaced in convention order,
 * t = i/(n−1). For the LLM convention the layers alone are spread (t = i/(N−1)) and EMBED and HEAD
 * sit at t = 0, as current mergekit evaluates pre- and post-layer weights (mergekit before 2025-03
 * put the head at t = 1). A single block gets t = 1 (mergekit's n = 1 rule).
 */
export function blockPositions(conventionName: string, blockIds: readonly string[]): number[] {
  if (conventionName === LAYERS_CONVENTION.name) {
    const layers = blockIds.length - 2
    return blockIds.map((id, i) => (id === 'EMBED' || id === 'HEAD' ? 0 : spread(i - 1, layers)))
  }
  return blockIds.map((_, i) => spread(i, blockIds.length))
}

function spread(index: number, count: number): number {
  return count > 1 ? index / (count - 1) : 1
}

export function blockPosition(convention: Pick<BlockConvention, 'name' | 'blockIds'>, block: string): number {
  const index = convention.blockIds.indexOf(block)
  const t = blockPositions(convention.name, convention.blockIds)[index]
  if (t === undefined) throw new AmalgamError('BAD_ARGUMENT', `block ${block} is not in the ${convention.name} convention`)
  return t
}

/**
 * UI groups: BASE / IN / M / OUT for SD UNets (VAE sits with BASE), double / single / extra for Flux,
 * joint / extra for SD3, EMBED / layer / HEAD for LLMs.
 */
export function blockGroups(convention: Pick<BlockConvention, 'architecture' | 'blockIds'>): { readonly id: string; readonly group: string }[] {
  return convention.blockIds.map((id) => ({ id, group: groupOf(convention.architecture, id) }))
}

function groupOf(architecture: Architecture, id: string): string {
  if (architecture === 'llm') return id === 'EMBED' || id === 'HEAD' ? id : 'layer'
  if (architecture === 'flux') {
    if (/^(D\d+|DOUBLE\d+|double_blocks\.)/.test(id)) return 'double'
    if (/^(S\d+|SINGLE\d+|single_blocks\.)/.test(id)) return 'single'
    return 'extra'
  }
  if (architecture === 'sd3') return /^(IN\d+|joint_blocks\.)/.test(id) ? 'joint' : 'extra'
  if (/^(IN\d+|input|time_embed\.|label_emb\.)/.test(id)) return 'IN'
  if (/^(M\d+|middle)/.test(id)) return 'M'
  if (/^(OUT\d+|output_blocks\.|out)/.test(id)) return 'OUT'
  return 'BASE'
}

export interface BlockReport {
  /** keys a rule assigned, per block id (every block listed, 0 when empty) */
  readonly perBlock: Readonly<Record<string, number>>
  readonly skipped: readonly { readonly key: string; readonly reason: string }[]
  /** keys no rule matched, and the block the tool falls back to (null: not merged, kept from the primary) */
  readonly unmatched: readonly { readonly key: string; readonly fallback: string | null }[]
}

export function reportBlocks(convention: BlockConvention, keys: Iterable<string>): BlockReport {
  const perBlock: Record<string, number> = Object.fromEntries(convention.blockIds.map((id) => [id, 0]))
  const skipped: { key: string; reason: string }[] = []
  const unmatched: { key: string; fallback: string | null }[] = []
  for (const key of keys) {
    const assignment = convention.blockOf(key)
    if ('block' in assignment) perBlock[assignment.block] = (perBlock[assignment.block] ?? 0) + 1
    else if ('skipped' in assignment) skipped.push({ key, reason: assignment.skipped })
    else unmatched.push({ key, fallback: assignment.fallback })
  }
  return { perBlock, skipped, unmatched }
}
