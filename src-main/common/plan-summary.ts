import { z } from 'zod'

/** One finding of the planner, in plain words. `blocking` findings keep Merge disabled. */
export const PlanFinding = z.strictObject({
  severity: z.enum(['info', 'warning', 'blocking']),
  code: z.string(),
  message: z.string(),
  /** up to a few example keys the finding is about */
  keys: z.array(z.string()).optional(),
})
export type PlanFinding = z.infer<typeof PlanFinding>

export const PlannedInput = z.strictObject({
  role: z.string(),
  path: z.string(),
  architecture: z.string(),
  predictionType: z.string(),
  size: z.number(),
})
export type PlannedInput = z.infer<typeof PlannedInput>

/** What the planner found before any byte is written: what the pre-flight panel shows. */
export const PlanSummary = z.strictObject({
  architecture: z.string(),
  blockConvention: z.strictObject({ name: z.string(), version: z.string() }),
  inputs: z.array(PlannedInput),
  counts: z.strictObject({
    keys: z.number(),
    merged: z.number(),
    copied: z.number(),
    dropped: z.number(),
    /** keys some input lacks, handled by the missing-key policy */
    missing: z.number(),
    shapeMismatches: z.number(),
  }),
  outputPath: z.string(),
  outputDType: z.string(),
  outputBytes: z.number(),
  freeDiskBytes: z.number().nullable(),
  estimatedPeakBytes: z.number(),
  estimatedSeconds: z.number(),
  backend: z.string(),
  findings: z.array(PlanFinding),
  /** false when any finding is blocking */
  ok: z.boolean(),
})
export type PlanSummary = z.infer<typeof PlanSummary>
