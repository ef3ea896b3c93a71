import { z } from 'zod'
import blocksJson from '../../../resources/blocks.json' with { type: 'json' }
import { AmalgamError } from '../errors'

/** Architectures blocks.json has block conventions for. */
export const BLOCK_ARCHITECTURES = ['sd1', 'sd2', 'sdxl', 'flux', 'sd3'] as const
export type BlockArchitecture = (typeof BLOCK_ARCHITECTURES)[number]

const RuleData = z.object({ block: z.string().min(1), regex: z.string().min(1), note: z.string().optional() })
const SkipData = z.object({ regex: z.string().min(1), why: z.string() })

const ConventionData = z.object({
  block_ids: z.array(z.string().min(1)).min(1),
  /** prose: how many numbers the tool takes and what a value means */
  weights: z.string(),
  skip: z.array(SkipData),
  rules: z.array(RuleData),
  fallback: z.object({ block: z.string().nullable(), note: z.string() }),
  notes: z.array(z.string()),
})
export type ConventionData = z.infer<typeof ConventionData>

/** One tool's entry: its `source` line plus one convention per architecture. */
const ConventionFamily = z.record(z.string(), z.union([z.string(), ConventionData])).transform((entry, ctx) => {
  const perArchitecture = new Map<BlockArchitecture, ConventionData>()
  let source: string | null = null
  for (const [field, value] of Object.entries(entry)) {
    if (field === 'source' && typeof value === 'string') source = value
    else if (isBlockArchitecture(field) && typeof value !== 'string') perArchitecture.set(field, value)
    else ctx.addIssue({ code: 'custom', message: `unexpected field ${JSON.stringify(field)}` })
  }
  if (source === null) ctx.addIssue({ code: 'custom', message: 'missing source' })
  return { source: source ?? '', perArchitecture }
})

/**
 * The arch labels of blocks.json's ordered detection rules. detect.ts has one handler per label, so a
 * rule added to the data without a handler fails here instead of being ignored.
 */
export const DETECTION_RULE_LABELS = [
  'lora/lycoris (reject or route elsewhere)',
  'flux',
  'sd3',
  'sdxl-refiner',
  'sdxl',
  'sd2',
  'sd1',
  'unet-only sd1/sd2/sdxl',
  'llm (HF transformers)',
] as const
export type DetectionRuleLabel = (typeof DETECTION_RULE_LABELS)[number]

const DetectionRuleData = z
  .object({
    arch: z.enum(DETECTION_RULE_LABELS),
    any_key_matches: z.string().min(1).optional(),
    all_of: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine((r) => (r.any_key_matches === undefined) !== (r.all_of === undefined), { message: 'a rule needs exactly one of any_key_matches / all_of' })

const BlocksFile = z.object({
  rule_semantics: z.array(z.string()),
  architectures: z.record(
    z.enum(BLOCK_ARCHITECTURES),
    z.object({ layout: z.string(), default_convention: z.string().min(1), block_count: z.number().int().positive() }),
  ),
  conventions: z.record(z.string(), ConventionFamily),
  detection: z.object({ rules: z.array(DetectionRuleData).min(1) }),
})

export interface ConventionFamilyData {
  readonly source: string
  readonly perArchitecture: ReadonlyMap<BlockArchitecture, ConventionData>
}

/** A detection rule with its key test compiled. */
export interface DetectionRule {
  readonly label: DetectionRuleLabel
  readonly matches: (keys: readonly string[]) => boolean
}

export interface BlocksData {
  readonly defaultConvention: ReadonlyMap<BlockArchitecture, string>
  readonly blockCount: ReadonlyMap<BlockArchitecture, number>
  /** by blocks.json convention name, in file order */
  readonly conventions: ReadonlyMap<string, ConventionFamilyData>
  readonly detectionRules: readonly DetectionRule[]
}

let cached: BlocksData | null = null

/** resources/blocks.json, validated once. A malformed copy is a packaging bug, hence INTERNAL. */
export function blocksData(): BlocksData {
  if (cached !== null) return cached
  const parsed = BlocksFile.safeParse(blocksJson)
  if (!parsed.success) throw new AmalgamError('INTERNAL', `resources/blocks.json is malformed: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`)
  const data = parsed.data
  const defaultConvention = new Map<BlockArchitecture, string>()
  const blockCount = new Map<BlockArchitecture, number>()
  for (const arch of BLOCK_ARCHITECTURES) {
    const entry = data.architectures[arch]
    defaultConvention.set(arch, entry.default_convention)
    blockCount.set(arch, entry.block_count)
  }
  cached = {
    defaultConvention,
    blockCount,
    conventions: new Map(Object.entries(data.conventions)),
    detectionRules: data.detection.rules.map(compileDetectionRule),
  }
  return cached
}

function compileDetectionRule(rule: z.infer<typeof DetectionRuleData>): DetectionRule {
  if (rule.all_of !== undefined) {
    const all = rule.all_of.map((source) => new RegExp(source))
    return { label: rule.arch, matches: (keys) => all.every((re) => keys.some((k) => re.test(k))) }
  }
  const any = new RegExp(rule.any_key_matches ?? '')
  return { label: rule.arch, matches: (keys) => keys.some((k) => any.test(k)) }
}

function isBlockArchitecture(name: string): name is BlockArchitecture {
  return (BLOCK_ARCHITECTURES as readonly string[]).includes(name)
}
