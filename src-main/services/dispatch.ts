import type { z } from 'zod'
import { INVOKE_CHANNELS, type InvokeChannel } from '../common/ipc-channels'
import { invokeContract, type InvokeResponse, type Result } from '../common/ipc'
import { describeError, isAmalgamError } from '../engine/errors'
import type { ProblemReporter } from './store'
import { describeIssues } from './validated-store'

/** A request after validation: defaults filled in (a recipe's `components: {}`, `seed: 0`, ...). */
export type ParsedRequest<C extends InvokeChannel> = z.output<(typeof invokeContract)[C]['request']>

/** One handler per channel; the map must be complete, so a new channel cannot be forgotten. */
export type Handlers = { readonly [C in InvokeChannel]: (request: ParsedRequest<C>) => Promise<InvokeResponse<C>> }

export interface Dispatcher {
  /**
   * Validates `payload` against the channel's request schema and runs its handler. Never throws:
   * an unknown channel or invalid payload is BAD_REQUEST naming the field, an AmalgamError keeps its
   * code and message, anything else is INTERNAL (and reported with its stack).
   */
  dispatch(channel: string, payload: unknown): Promise<Result<unknown>>
}

export function isInvokeChannel(channel: string): channel is InvokeChannel {
  return (INVOKE_CHANNELS as readonly string[]).includes(channel)
}

export function createDispatcher(handlers: Handlers, report: ProblemReporter): Dispatcher {
  return {
    async dispatch(channel, payload) {
      if (!isInvokeChannel(channel)) return { ok: false, error: { code: 'BAD_REQUEST', message: `${channel}: no such channel` } }
      const schema: z.ZodType = invokeContract[channel].request
      const parsed = schema.safeParse(payload)
      if (!parsed.success) return { ok: false, error: { code: 'BAD_REQUEST', message: `${channel}: ${describeIssues(parsed.error)}` } }
      // The schema for `channel` produced `parsed.data`, which is what this channel's handler takes;
      // TypeScript cannot correlate the two through the union of channels.
      const handler = handlers[channel] as (request: unknown) => Promise<unknown>
      try {
        return { ok: true, value: await handler(parsed.data) }
      } catch (err) {
        if (isAmalgamError(err)) return { ok: false, error: { code: err.code, message: err.message } }
        report(`${channel} failed: ${err instanceof Error && err.stack ? err.stack : describeError(err)}`)
        return { ok: false, error: { code: 'INTERNAL', message: `${channel}: ${describeError(err)}` } }
      }
    },
  }
}
