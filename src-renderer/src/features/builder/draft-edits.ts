import type { MethodInfo } from '../../../../src-main/common/method-info'
import { isModelInput, type Input, type NumberValue, type ParamValue } from '../../../../src-main/common/recipe'
import { dirname } from '../../app/paths'
import { slotCount, suggestedOutputName, type RecipeDraft } from './draft'
import { resolveMethod } from './resolve-method'

/* Pure edits of the draft that touch more than one field; each returns a new draft. */

function resizePerModel(value: ParamValue, count: number, removed?: number): ParamValue {
  if (!Array.isArray(value)) return value
  const list: NumberValue[] = removed === undefined ? [...value] : value.filter((_, i) => i !== removed)
  const filler = list[list.length - 1]
  while (list.length < count && filler !== undefined) list.push(filler)
  return list.slice(0, count)
}

function withInputs(draft: RecipeDraft, inputs: (Input | null)[], info: MethodInfo | undefined, removed?: number): RecipeDraft {
  const params = { ...draft.params }
  for (const [id, spec] of Object.entries(info?.params ?? {})) {
    const current = params[id]
    if ((spec.type === 'number' || spec.type === 'integer') && spec.perModel && current !== undefined) params[id] = resizePerModel(current, inputs.length, removed)
  }
  return { ...draft, inputs, params }
}

/** Keeps the auto-suggested output name in step until the user types their own. */
function withSuggestedName(before: RecipeDraft, after: RecipeDraft): RecipeDraft {
  const name = before.output.name
  if (name !== '' && name !== suggestedOutputName(before)) return after
  return { ...after, output: { ...after.output, name: suggestedOutputName(after) } }
}

export function setMethod(draft: RecipeDraft, name: string, methods: readonly MethodInfo[]): RecipeDraft {
  const resolved = resolveMethod(methods, name)
  if (!resolved) return draft
  const { info, alias } = resolved
  const previous = resolveMethod(methods, draft.method)?.info
  const count = slotCount(draft.inputs.length, info)
  const inputs = Array.from({ length: count }, (_, i) => draft.inputs[i] ?? null)
  // values carry over where the new method has a parameter of the same name and kind
  const params: RecipeDraft['params'] = {}
  for (const [id, value] of Object.entries(draft.params)) {
    const spec = info.params[id]
    const before = previous?.params[id]
    if (spec && (!before || before.type === spec.type) && !(alias && id in alias.params)) params[id] = value
  }
  const next = withInputs({ ...draft, method: name, params, base: info.inputs.base === 'none' ? null : draft.base }, inputs, info)
  return withSuggestedName(draft, next)
}

export function setInput(draft: RecipeDraft, index: number, input: Input | null): RecipeDraft {
  const inputs = draft.inputs.map((current, i) => (i === index ? input : current))
  let next: RecipeDraft = { ...draft, inputs }
  if (next.output.folder === '' && input !== null && isModelInput(input)) next = { ...next, output: { ...next.output, folder: dirname(input.model) } }
  return withSuggestedName(draft, next)
}

export function addSlot(draft: RecipeDraft, info: MethodInfo): RecipeDraft {
  if (info.inputs.max !== null && draft.inputs.length >= info.inputs.max) return draft
  return withInputs(draft, [...draft.inputs, null], info)
}

export function removeSlot(draft: RecipeDraft, index: number, info: MethodInfo): RecipeDraft {
  if (draft.inputs.length <= info.inputs.min) return draft
  const next = withInputs(draft, draft.inputs.filter((_, i) => i !== index), info, index)
  return withSuggestedName(draft, next)
}

export function setParam(draft: RecipeDraft, id: string, value: ParamValue | undefined): RecipeDraft {
  const params = { ...draft.params }
  if (value === undefined) delete params[id]
  else params[id] = value
  return { ...draft, params }
}
