import { z } from 'zod'
import { MergeEvent } from '../common/events'
import { Recipe } from '../common/recipe'

/*
 * Messages between the main process (merge-jobs supervisor) and the merge host process. Both sides
 * parse what they receive: the other end is another process that may be from a stale build or
 * half-dead, and a bad message must be reported, not acted on.
 */

const JobId = z.string().min(1)

/** main → host */
export const HostRequest = z.discriminatedUnion('type', [
  /** run one merge; the host runs one at a time */
  z.strictObject({ type: z.literal('run'), jobId: JobId, recipe: Recipe }),
  /** abort the job between keys; the host then reports `cancelled` */
  z.strictObject({ type: z.literal('cancel'), jobId: JobId }),
  /** abort anything running and exit */
  z.strictObject({ type: z.literal('shutdown') }),
])
export type HostRequest = z.infer<typeof HostRequest>

/** host → main */
export const HostMessage = z.discriminatedUnion('type', [
  /** the host is listening; main sends nothing before it */
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('event'), jobId: JobId, event: MergeEvent }),
  z.strictObject({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
])
export type HostMessage = z.infer<typeof HostMessage>
