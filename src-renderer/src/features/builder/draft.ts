import {
  RECIPE_FORMAT,
  RECIPE_VERSION,
  Recipe,
  isLoraNode,
  isModelInput,
  type BlockConventionRef,
  type ComponentChoice,
  type Input,
  type LayerSlice,
  type LoraApplication,
  type OutputDType,
  type ParamValue,
} from '../../../../src-main/common/recipe'
import type { MethodInfo } from '../../../../src-main/common/method-info'
import { basename, dirname, joinPath, stem } from '../../app/paths'
import { resolveMethod } from './resolve-method'
import { regexProblem } from './number-value'
import { SLICE_METHOD, sliceProblem } from './slices'

/**
 * The builder's document: a Recipe with room for what is not chosen yet (empty input slots, no
 * output name). `recipeFromDraft` gives the Recipe that is previewed, merged and saved;
 * `draftFromRecipe` loads one back, so a recipe survives the round trip unchanged.
 */
export interface RecipeDraft {
  /** the recipe's own name, kept from loaded recipes */
  name: string | undefined
  method: string
  /** slots a, b, c, ...; null = not chosen yet */
  inputs: (Input | null)[]
  /** LoRAs baked into each slot's input (aligned with `inputs`); a non-empty list wraps the input in a LoRA node */
  loras: LoraApplication[][]
  base: Input | null
  baseLoras: LoraApplication[]
  /** frankenmerge layer slices; part of the recipe only while the method is passthrough */
  slices: LayerSlice[]
  params: Record<string, ParamValue>
  blocks: BlockConventionRef | undefined
  components: Record<string, ComponentChoice>
  keys: Recipe['keys']
  options: Recipe['options']
  output: { folder: string; name: string; dtype: OutputDType; embedRecipe: boolean }
  seed: number
}

export const DEFAULT_METHOD = 'weighted_sum'

export function emptyDraft(defaults: { dtype: OutputDType; embedRecipe: boolean; folder: string }): RecipeDraft {
  return {
    name: undefined,
    method: DEFAULT_METHOD,
    inputs: [null, null],
    loras: [[], []],
    base: null,
    baseLoras: [],
    slices: [],
    params: {},
    blocks: undefined,
    components: {},
    keys: { include: [], exclude: [], excluded: 'copy', missing: 'skip', shapeMismatch: 'error', fallback: 0 },
    options: { allowPredictionMismatch: false, useEma: false, resetPositionIds: false },
    output: { folder: defaults.folder, name: '', dtype: defaults.dtype, embedRecipe: defaults.embedRecipe },
    seed: 0,
  }
}

/** A slot's input and the LoRAs on it: a top-level LoRA node is shown as its model plus its LoRA list. */
function unwrapLoras(input: Input): { input: Input; loras: LoraApplication[] } {
  return isLoraNode(input) ? { input: input.lora, loras: [...input.loras] } : { input, loras: [] }
}

function wrapLoras(input: Input | null, loras: readonly LoraApplication[]): Input | null {
  return input === null || loras.length === 0 ? input : { lora: input, loras: [...loras] }
}

export function draftFromRecipe(recipe: Recipe): RecipeDraft {
  const slots = recipe.merge.inputs.map(unwrapLoras)
  const base = recipe.merge.base ? unwrapLoras(recipe.merge.base) : null
  return {
    name: recipe.name,
    method: recipe.merge.method,
    inputs: slots.map((s) => s.input),
    loras: slots.map((s) => s.loras),
    base: base?.input ?? null,
    baseLoras: base?.loras ?? [],
    slices: recipe.slices ? recipe.slices.map((s) => ({ model: s.model, layers: [s.layers[0], s.layers[1]] })) : [],
    params: { ...recipe.merge.params },
    blocks: recipe.blocks,
    components: { ...recipe.components },
    keys: recipe.keys,
    options: recipe.options,
    output: { folder: dirname(recipe.output.path), name: basename(recipe.output.path), dtype: recipe.output.dtype, embedRecipe: recipe.output.embedRecipe },
    seed: recipe.seed,
  }
}

/** Role letters: a, b, ... z, then input 27, ... */
export function roleName(index: number): string {
  return index < 26 ? String.fromCharCode(97 + index) : `input ${index + 1}`
}

export function outputFileName(name: string): string {
  const trimmed = name.trim()
  return /\.safetensors$/i.test(trimmed) ? trimmed : `${trimmed}.safetensors`
}

export function inputLabel(input: Input): string {
  if (isModelInput(input)) return basename(input.model)
  return isLoraNode(input) ? `${inputLabel(input.lora)} + ${input.loras.length === 1 ? 'a LoRA' : `${input.loras.length} LoRAs`}` : `merge (${input.method})`
}

/** What is still missing before the draft is a recipe the planner can check; empty when complete. */
export function missingParts(draft: RecipeDraft, methods: readonly MethodInfo[]): string[] {
  const missing: string[] = []
  const resolved = resolveMethod(methods, draft.method)
  if (!resolved) return methods.length === 0 ? ['the method list is not loaded'] : [`unknown method "${draft.method}"`]
  draft.inputs.forEach((input, i) => {
    if (input === null) missing.push(`choose model ${roleName(i)}`)
  })
  if (resolved.info.inputs.base === 'required' && draft.base === null) missing.push('choose the base model')
  for (const [id, spec] of Object.entries(resolved.info.params)) {
    if ((spec.type === 'number' || spec.type === 'integer') && spec.default === null && draft.params[id] === undefined && !(id in (resolved.alias?.params ?? {}))) {
      missing.push(`set ${spec.label}`)
    }
  }
  missing.push(...patternProblems(draft), ...loraProblems(draft))
  if (draft.method === SLICE_METHOD) {
    draft.slices.forEach((slice, i) => {
      const problem = sliceProblem(slice)
      if (problem) missing.push(`fix slice ${i + 1}: ${problem}`)
    })
  }
  if (draft.output.name.trim() === '') missing.push('name the output')
  if (draft.output.folder.trim() === '') missing.push('choose the output folder')
  return missing
}

/** Regular expressions the engine could not use: in the key filters and in per-key parameter rules. */
function patternProblems(draft: RecipeDraft): string[] {
  const problems: string[] = []
  for (const [list, name] of [[draft.keys.include, 'only-merge'], [draft.keys.exclude, 'never-merge']] as const) {
    list.forEach((pattern, i) => {
      const problem = pattern === '' ? null : regexProblem(pattern)
      if (problem) problems.push(`fix the ${name} key filter on line ${i + 1}: ${problem}`)
    })
  }
  for (const [id, value] of Object.entries(draft.params)) {
    const values = Array.isArray(value) ? value : [value]
    for (const v of values) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) continue
      v.keys?.forEach((rule, i) => {
        const problem = regexProblem(rule.pattern)
        if (problem) problems.push(`fix ${id} key rule ${i + 1}: ${problem}`)
      })
    }
  }
  return problems
}

function loraProblems(draft: RecipeDraft): string[] {
  const slots = [...draft.loras.map((list, i) => [roleName(i), list] as const), ['base', draft.baseLoras] as const]
  return slots.flatMap(([slot, list]) => list.flatMap((l) => (Number.isFinite(l.strength) ? [] : [`set the strength of ${basename(l.path)} on ${slot}`])))
}

export type DraftToRecipe = { ok: true; recipe: Recipe } | { ok: false; problems: string[] }

export function recipeFromDraft(draft: RecipeDraft, methods: readonly MethodInfo[]): DraftToRecipe {
  const missing = missingParts(draft, methods)
  if (missing.length > 0) return { ok: false, problems: missing }
  const parsed = Recipe.safeParse({
    format: RECIPE_FORMAT,
    version: RECIPE_VERSION,
    ...(draft.name === undefined ? {} : { name: draft.name }),
    merge: {
      method: draft.method,
      inputs: draft.inputs.map((input, i) => wrapLoras(input, draft.loras[i] ?? [])),
      ...(draft.base === null ? {} : { base: wrapLoras(draft.base, draft.baseLoras) }),
      params: draft.params,
    },
    ...(draft.blocks === undefined ? {} : { blocks: draft.blocks }),
    components: draft.components,
    keys: { ...draft.keys, include: draft.keys.include.filter(Boolean), exclude: draft.keys.exclude.filter(Boolean) },
    options: draft.options,
    output: { path: joinPath(draft.output.folder.trim(), outputFileName(draft.output.name)), dtype: draft.output.dtype, embedRecipe: draft.output.embedRecipe },
    ...(draft.method === SLICE_METHOD && draft.slices.length > 0 ? { slices: draft.slices } : {}),
    seed: draft.seed,
  })
  if (parsed.success) return { ok: true, recipe: parsed.data }
  return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'recipe'}: ${issue.message}`) }
}

/** A name for the output from its inputs and method, used until the user types one. */
export function suggestedOutputName(draft: RecipeDraft): string {
  const names = draft.inputs.flatMap((input) => (input !== null && isModelInput(input) ? [stem(input.model)] : []))
  if (names.length === 0) return ''
  return `${names.join('+')}-${draft.method}`.slice(0, 120)
}

/** How many slots a method shows: at least its minimum, at most its maximum, keeping what is filled. */
export function slotCount(current: number, info: MethodInfo): number {
  const max = info.inputs.max ?? Number.POSITIVE_INFINITY
  return Math.min(max, Math.max(info.inputs.min, current))
}
