import { stringify } from 'yaml'
import { isLoraNode, isModelInput, type Input, type MergeNode, type ParamValue, type Recipe } from '../../common/recipe'
import { AmalgamError, isAmalgamError } from '../errors'
import { resolveMethod, type ResolvedMethod } from '../methods/registry'
import { DTYPES, type MergekitParameters, type MergekitSetting } from './config'
import { METHOD_MAPPINGS, type MethodMapping } from './methods'
import { exportNumber, Untranslated } from './settings'

export interface MergekitExport {
  readonly yaml: string
  /** what the user should know: settings mergekit takes on its command line, random masks */
  readonly notes: readonly string[]
}

interface MergekitModelOut {
  model: string
  parameters?: MergekitParameters
}

/**
 * A recipe as a mergekit YAML config. Refused, naming every feature that has no mergekit form:
 * nested merge or LoRA nodes, methods and variants mergekit lacks, per-block values outside the
 * layers, regex key rules, components, include/exclude, image-model options, fp8 output.
 */
export function exportMergekit(recipe: Recipe, file: string): MergekitExport {
  const out = new Untranslated()
  const notes: string[] = []
  checkRecipeLevel(recipe, out)
  const config: Record<string, unknown> = recipe.slices ? frankenmerge(recipe, out) : mergeSection(recipe.merge, out, notes)
  const a = recipe.merge.inputs[0]
  if (recipe.options.vocabulary === 'fit-to-a' && a !== undefined && isModelInput(a)) config.tokenizer_source = a.model
  else if (recipe.options.vocabulary !== undefined) out.add('options.vocabulary', 'taking embeddings and head from one input has no mergekit form (tokenizer_source merges them)')
  if (recipe.output.dtype !== 'auto') {
    const name = Object.entries(DTYPES).find(([, d]) => d === recipe.output.dtype)?.[0]
    if (name === undefined) out.add('output.dtype', `${recipe.output.dtype} has no mergekit dtype (float32, float16, bfloat16)`)
    else config.dtype = name
  }
  notes.push(`output.path ${recipe.output.path}: give it to mergekit-yaml on its command line`)
  if (recipe.output.shardSize !== undefined) notes.push(`output.shardSize ${recipe.output.shardSize}: give it to mergekit-yaml as --max-shard-size`)
  if (out.problems.length > 0) throw new AmalgamError('BAD_RECIPE', `${file}: not translated to mergekit: ${out.problems.join('; ')}`, file)
  return { yaml: stringify(config), notes }
}

function checkRecipeLevel(recipe: Recipe, out: Untranslated): void {
  if (recipe.blocks !== undefined && recipe.blocks.name !== 'layers') out.add('blocks', `the ${recipe.blocks.name} block convention is for image models; mergekit knows layers only`)
  for (const id of Object.keys(recipe.components)) out.add(`components.${id}`, 'per-component choices have no mergekit form')
  if (recipe.keys.include.length > 0) out.add('keys.include', 'include rules have no mergekit form')
  if (recipe.keys.exclude.length > 0) out.add('keys.exclude', 'exclude rules have no mergekit form')
  const { allowPredictionMismatch, predictionType, useEma, resetPositionIds } = recipe.options
  if (allowPredictionMismatch) out.add('options.allowPredictionMismatch', 'an image-model option')
  if (predictionType !== undefined) out.add('options.predictionType', 'an image-model option')
  if (useEma) out.add('options.useEma', 'an image-model option')
  if (resetPositionIds) out.add('options.resetPositionIds', 'an image-model option')
}

function modelOf(input: Input | undefined, where: string, out: Untranslated): string | null {
  if (input === undefined) return null
  if (isModelInput(input)) return input.model
  out.add(where, isLoraNode(input) ? 'a LoRA node (mergekit cannot bake LoRAs into an input of a merge config)' : 'a nested merge node (a mergekit config is one merge; export the inner merge on its own)')
  return null
}

function frankenmerge(recipe: Recipe, out: Untranslated): Record<string, unknown> {
  const slices = recipe.slices ?? []
  const node = recipe.merge
  const a = modelOf(node.inputs[0], 'merge.inputs[0]', out)
  if (Object.keys(node.params).length > 0) out.add('merge.params', 'a frankenmerge copies layers unchanged; parameters have no mergekit form')
  // mergekit takes the embeddings from the first slice's model and the head from the last's
  for (const [i, slice] of [slices[0], slices.at(-1)].entries()) {
    if (slice !== undefined && a !== null && slice.model !== a) {
      out.add(i === 0 ? 'slices[0].model' : `slices[${slices.length - 1}].model`, `mergekit takes the ${i === 0 ? 'embeddings' : 'final norm and head'} from it, the recipe from merge.inputs[0] (${a}): they must be the same model`)
    }
  }
  return {
    merge_method: 'passthrough',
    slices: slices.map((s) => ({ sources: [{ model: s.model, layer_range: [s.layers[0], s.layers[1]] }] })),
  }
}

function mergeSection(node: MergeNode, out: Untranslated, notes: string[]): Record<string, unknown> {
  const inputs = node.inputs.map((input, i) => modelOf(input, `merge.inputs[${i}]`, out))
  const base = node.base === undefined ? null : modelOf(node.base, 'merge.base', out)
  let resolved: ResolvedMethod
  try {
    resolved = resolveMethod(node.method)
  } catch (err) {
    if (!isAmalgamError(err)) throw err
    out.add('merge.method', err.message)
    return {}
  }
  const mapping = METHOD_MAPPINGS.find((m) => matches(m, node, resolved))
  if (mapping === undefined) {
    const variant = paramOf(node, resolved, 'variant')
    out.add('merge.method', `${resolved.method.id}${variant === undefined ? '' : ` (variant ${String(variant)})`} has no mergekit counterpart (translated: ${METHOD_MAPPINGS.map((m) => m.mergekit).join(', ')})`)
    return {}
  }
  if (/^(dare|della)/.test(mapping.mergekit)) notes.push(`${mapping.mergekit}: random masks are drawn differently by mergekit and Amalgam; the merges agree in distribution, not value by value`)
  const fixed = { ...resolveMethod(mapping.amalgam).fixedParams, ...mapping.fixed }
  const general: MergekitParameters = {}
  const perModel: MergekitParameters[] = inputs.map(() => ({}))
  for (const [name, value] of Object.entries(node.params)) {
    if (name in fixed) continue
    const entry = Object.entries(mapping.params).find(([, p]) => p.name === name && p.kind !== 'ignored')
    if (entry === undefined) {
      out.add(`merge.params.${name}`, `mergekit's ${mapping.mergekit} has no counterpart`)
      continue
    }
    const [mk, target] = entry
    const where = `merge.params.${name}`
    if (target.kind === 'flag') {
      if (typeof value === 'boolean') general[mk] = value
      else out.add(where, `expected true or false, got ${JSON.stringify(value)}`)
    } else if (target.kind === 'switch') {
      if (value === 'on' || value === 'off') general[mk] = value === 'on'
      else if (value !== 'auto') out.add(where, `expected auto, on or off, got ${JSON.stringify(value)}`)
    } else if (Array.isArray(value) && target.kind === 'per-model') {
      for (const [i, v] of value.entries()) {
        const setting = exportNumber(v, `${where}[${i}]`, out)
        const params = perModel[i]
        if (setting !== undefined && params !== undefined) params[mk] = setting
      }
    } else {
      const setting = numberSetting(value, where, out)
      if (setting !== undefined) general[mk] = setting
    }
  }
  const models: MergekitModelOut[] = []
  for (const [i, model] of inputs.entries()) {
    const parameters = perModel[i] ?? {}
    if (model !== null) models.push({ model, ...(Object.keys(parameters).length > 0 ? { parameters } : {}) })
  }
  if (mapping.roles === 'base' && node.base === undefined) out.add('merge.base', `mergekit's ${mapping.mergekit} needs base_model`)
  if (node.base !== undefined && mapping.roles !== 'base' && mapping.roles !== 'optional-base') out.add('merge.base', `mergekit's ${mapping.mergekit} has no base model besides its inputs`)
  const baseModel = mapping.roles === 'base-first' ? (inputs[0] ?? null) : base
  return {
    merge_method: mapping.mergekit,
    ...(baseModel !== null ? { base_model: baseModel } : {}),
    models,
    ...(Object.keys(general).length > 0 ? { parameters: general } : {}),
  }
}

function numberSetting(value: ParamValue, where: string, out: Untranslated): MergekitSetting | undefined {
  if (typeof value === 'boolean' || typeof value === 'string' || Array.isArray(value)) {
    out.add(where, `expected a number, got ${JSON.stringify(value)}`)
    return undefined
  }
  return exportNumber(value, where, out)
}

function paramOf(node: MergeNode, resolved: ResolvedMethod, name: string): ParamValue | undefined {
  const decl = resolved.method.params[name]
  return node.params[name] ?? resolved.fixedParams[name] ?? (decl?.type === 'enum' || decl?.type === 'boolean' ? decl.default : undefined)
}

/** The mapping's method and fixed parameters (e.g. slerp variant mergekit) are those of the node. */
function matches(mapping: MethodMapping, node: MergeNode, resolved: ResolvedMethod): boolean {
  const target = resolveMethod(mapping.amalgam)
  if (target.method.id !== resolved.method.id) return false
  const fixed = { ...target.fixedParams, ...mapping.fixed }
  return Object.entries(fixed).every(([name, value]) => paramOf(node, resolved, name) === value)
}
