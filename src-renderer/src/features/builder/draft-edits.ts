import type { MethodInfo } from '../../../../src-main/common/method-info'
import { isModelInput, type Input, type LayerSlice, type LoraApplication, type NumberValue, type ParamValue } from '../../../../src-main/common/recipe'
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
  const kept = removed === undefined ? draft.loras : draft.loras.filter((_, i) => i !== removed)
  const loras = inputs.map((_, i) => kept[i] ?? [])
  return { ...draft, inputs, loras, params }
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
  const dropsBase = info.inputs.base === 'none'
  const next = withInputs({ ...draft, method: name, params, base: dropsBase ? null : draft.base, baseLoras: dropsBase ? [] : draft.baseLoras }, inputs, info)
  return withSuggestedName(draft, next)
}

export function setInput(draft: RecipeDraft, index: number, input: Input | null): RecipeDraft {
  const inputs = draft.inputs.map((current, i) => (i === index ? input : current))
  // clearing a slot clears its LoRAs too; choosing another model keeps them
  const loras = input === null ? draft.loras.map((list, i) => (i === index ? [] : list)) : draft.loras
  let next: RecipeDraft = { ...draft, inputs, loras }
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

/** Which input a LoRA list belongs to: a slot index (a = 0) or the base. */
export type LoraSlot = number | 'base'

export function lorasOf(draft: RecipeDraft, slot: LoraSlot): LoraApplication[] {
  return slot === 'base' ? draft.baseLoras : (draft.loras[slot] ?? [])
}

export function setLoras(draft: RecipeDraft, slot: LoraSlot, loras: LoraApplication[]): RecipeDraft {
  if (slot === 'base') return { ...draft, baseLoras: loras }
  if (slot < 0 || slot >= draft.inputs.length) return draft
  return { ...draft, loras: draft.inputs.map((_, i) => (i === slot ? loras : (draft.loras[i] ?? []))) }
}

/** Attaches LoRA files at strength 1; a file already on the slot is not added twice. */
export function addLoras(draft: RecipeDraft, slot: LoraSlot, paths: readonly string[]): RecipeDraft {
  const current = lorasOf(draft, slot)
  const fresh = [...new Set(paths)].filter((path) => !current.some((l) => l.path === path))
  if (fresh.length === 0) return draft
  return setLoras(draft, slot, [...current, ...fresh.map((path) => ({ path, strength: 1 }))])
}

export function updateLora(draft: RecipeDraft, slot: LoraSlot, index: number, patch: Partial<LoraApplication>): RecipeDraft {
  const current = lorasOf(draft, slot)
  const target = current[index]
  if (!target) return draft
  const next: LoraApplication = { ...target, ...patch }
  // blocks: undefined means "every block at 1": the key is left out of the recipe
  if (next.blocks === undefined) delete next.blocks
  return setLoras(draft, slot, current.map((l, i) => (i === index ? next : l)))
}

export function removeLora(draft: RecipeDraft, slot: LoraSlot, index: number): RecipeDraft {
  return setLoras(draft, slot, lorasOf(draft, slot).filter((_, i) => i !== index))
}

export function addSlice(draft: RecipeDraft, slice: LayerSlice): RecipeDraft {
  return { ...draft, slices: [...draft.slices, slice] }
}

export function updateSlice(draft: RecipeDraft, index: number, patch: Partial<LayerSlice>): RecipeDraft {
  if (index < 0 || index >= draft.slices.length) return draft
  return { ...draft, slices: draft.slices.map((s, i) => (i === index ? { ...s, ...patch } : s)) }
}

export function removeSlice(draft: RecipeDraft, index: number): RecipeDraft {
  return { ...draft, slices: draft.slices.filter((_, i) => i !== index) }
}

/** Moves slice `index` one place up (-1) or down (+1); out of range changes nothing. */
export function moveSlice(draft: RecipeDraft, index: number, by: -1 | 1): RecipeDraft {
  const target = index + by
  const moving = draft.slices[index]
  const other = draft.slices[target]
  if (!moving || !other) return draft
  const slices = [...draft.slices]
  slices[index] = other
  slices[target] = moving
  return { ...draft, slices }
}
