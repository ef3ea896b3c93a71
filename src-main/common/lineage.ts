import { z } from 'zod'
import { Recipe } from './recipe'

export const LINEAGE_SCHEMA = 'amalgam.lineage/1'

export const LineageInput = z.strictObject({
  role: z.string(),
  path: z.string(),
  size: z.number(),
  /** full-file SHA-256 (AutoV2 is its first 10 hex digits); null when it was not computed */
  sha256: z.string().nullable(),
  /** SHA-256 of the tensor data only (AutoV3 is its first 12 hex digits) */
  tensorSha256: z.string().nullable(),
  architecture: z.string(),
  /** the input's own embedded recipe, when it was itself a merge: the ancestry tree */
  parentRecipe: z.unknown().optional(),
})
export type LineageInput = z.infer<typeof LineageInput>

export const BlockStat = z.strictObject({
  block: z.string(),
  /** mean |output - a| over the block's merged elements */
  meanAbsChange: z.number(),
  elements: z.number(),
})
export type BlockStat = z.infer<typeof BlockStat>

/** The sidecar `<name>.lineage.json`: everything needed to trace and reproduce a merge. */
export const Lineage = z.strictObject({
  schema: z.literal(LINEAGE_SCHEMA),
  recipe: Recipe,
  inputs: z.array(LineageInput),
  output: z.strictObject({
    path: z.string(),
    size: z.number(),
    tensorSha256: z.string(),
    keys: z.number(),
    dtype: z.string(),
  }),
  engine: z.strictObject({
    version: z.string(),
    backend: z.string(),
    /** why the GPU was not used, when it was not */
    gpuUnavailableReason: z.string().nullable(),
    /** who computed matrix products (native addon or the backend); absent in lineage before 0.1.1 and in copy-only runs */
    matMul: z.string().optional(),
  }),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  blockStats: z.array(BlockStat),
  warnings: z.array(z.string()),
})
export type Lineage = z.infer<typeof Lineage>
