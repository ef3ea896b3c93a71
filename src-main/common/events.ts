import { z } from 'zod'
import { PlanSummary } from './plan-summary'
import { Lineage } from './lineage'

export const MergePhase = z.enum(['hashing', 'statistics', 'merging', 'finalising'])
export type MergePhase = z.infer<typeof MergePhase>

export const ErrorInfo = z.strictObject({ code: z.string(), message: z.string() })
export type ErrorInfo = z.infer<typeof ErrorInfo>

/** What a running merge reports, in order: started, phases with progress and warnings, then exactly one of done / failed / cancelled. */
export const MergeEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('started'), plan: PlanSummary }),
  z.strictObject({ type: z.literal('phase'), phase: MergePhase }),
  z.strictObject({
    type: z.literal('progress'),
    phase: MergePhase,
    index: z.number(),
    total: z.number(),
    key: z.string(),
    bytesDone: z.number(),
    bytesTotal: z.number(),
    elapsedMs: z.number(),
    etaMs: z.number().nullable(),
  }),
  z.strictObject({ type: z.literal('warning'), key: z.string().optional(), message: z.string() }),
  z.strictObject({ type: z.literal('done'), path: z.string(), lineagePath: z.string(), durationMs: z.number(), lineage: Lineage }),
  z.strictObject({ type: z.literal('failed'), error: ErrorInfo }),
  z.strictObject({ type: z.literal('cancelled') }),
])
export type MergeEvent = z.infer<typeof MergeEvent>

export function isTerminalEvent(event: MergeEvent): boolean {
  return event.type === 'done' || event.type === 'failed' || event.type === 'cancelled'
}
