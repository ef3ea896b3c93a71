import { invokeContract, type InvokeRequest, type InvokeResponse, type Result } from '../../../src-main/common/ipc'
import type { InvokeChannel } from '../../../src-main/common/ipc-channels'
import { getBridge } from '../bridge/bridge'

export interface CallError {
  readonly code: string
  readonly message: string
}

/** The bridge's invoke half, as a plain mapped type so that indexing it with a generic channel keeps the channel's types. */
type Invokers = { readonly [C in InvokeChannel]: (request: InvokeRequest<C>) => Promise<Result<InvokeResponse<C>>> }

/**
 * One invoke through the bridge. Always resolves to a Result: a rejected promise (a broken bridge)
 * becomes an error Result too, so every caller has one shape to show. In development the answer is
 * checked against the contract, which catches a drifting main process at the call that drifted.
 */
export async function call<C extends InvokeChannel>(channel: C, request: InvokeRequest<C>): Promise<Result<InvokeResponse<C>>> {
  const invokers: Invokers = getBridge()
  const invoke = invokers[channel]
  let result: Result<InvokeResponse<C>>
  try {
    result = await invoke(request)
  } catch (err) {
    return { ok: false, error: { code: 'INTERNAL', message: `${channel}: ${err instanceof Error ? err.message : String(err)}` } }
  }
  if (import.meta.env.DEV && result.ok) {
    const checked = invokeContract[channel].response.safeParse(result.value)
    if (!checked.success) return { ok: false, error: { code: 'BAD_RESPONSE', message: `${channel}: the answer does not match the contract (${checked.error.issues[0]?.message ?? 'invalid'})` } }
  }
  return result
}
