import { z } from 'zod'
import { BENCH_CASES } from './options'

/** What the parent asks a measuring child process to do (one job per process, so its peak RSS is the job's). */
export const ChildJob = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('floor'),
    inputs: z.array(z.string()).min(1),
    output: z.string(),
    outputBytes: z.number().int().nonnegative(),
  }),
  z.strictObject({
    kind: z.literal('merge'),
    method: z.enum(['weighted_sum', 'add_difference', 'ties_sum']),
    a: z.string(),
    b: z.string(),
    base: z.string(),
    output: z.string(),
    hashCacheDir: z.string(),
  }),
  z.strictObject({
    kind: z.literal('case'),
    case: z.enum(BENCH_CASES),
    a: z.string(),
    b: z.string(),
    output: z.string(),
    hashCacheDir: z.string(),
  }),
])
export type ChildJob = z.infer<typeof ChildJob>

export const ChildResult = z.discriminatedUnion('ok', [
  z.strictObject({
    ok: z.literal(true),
    seconds: z.number().nonnegative(),
    /** user + system CPU time of the whole process over the job (all threads): what machine load cannot inflate */
    cpuSeconds: z.number().nonnegative(),
    /** VmHWM of the whole process, worker threads included */
    peakRssBytes: z.number().int().nonnegative(),
    /** bytes read + written: the inputs and the output */
    bytes: z.number().int().nonnegative(),
  }),
  z.strictObject({ ok: z.literal(false), message: z.string() }),
])
export type ChildResult = z.infer<typeof ChildResult>
