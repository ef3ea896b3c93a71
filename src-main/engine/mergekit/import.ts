import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { RECIPE_FORMAT, RECIPE_VERSION, type LayerSlice, type MergeNode, type NumberValue, type ParamValue, type RecipeInput, type VocabularyPolicy } from '../../common/recipe'
import { AmalgamError } from '../errors'
import { parseRecipe } from '../recipe/parse'
import { resolveMethod } from '../methods/registry'
import { DTYPES, KNOWN_CONFIG_KEYS, METADATA_KEYS, MergekitConfig, type MergekitParameters } from './config'
import { mappingFor, METHOD_MAPPINGS, type MethodMapping } from './methods'
import { fallThrough, importNumber, simplify, Untranslated } from './settings'

export interface MergekitImportOptions {
  /** where relative model paths are looked up (to tell local folders from Hub ids) */
  readonly dir: string
  /** layer count for filtered gradients; default: a full-model slice's range, else a local model's config.json */
  readonly layers?: number
  /** the recipe's output.path (mergekit takes it on its command line); default "merged" */
  readonly outputPath?: string
}

export interface MergekitImport {
  /** as a person would write it (defaults left out); already checked against the recipe schema */
  readonly recipe: Omit<RecipeInput, 'merge'> & { merge: MergeNode }
  /** what the user should know: Hub ids to download, settings read differently, ignored metadata */
  readonly notes: readonly string[]
}

interface ModelEntry {
  readonly model: string
  readonly parameters: MergekitParameters
  readonly where: string
}

/**
 * A mergekit YAML config as an Amalgam recipe. Anything that would change the merged weights and
 * has no recipe form is refused in one error naming every such feature ("not translated: …");
 * things that do not change the weights are returned as notes.
 */
export function importMergekit(text: string, file: string, opts: MergekitImportOptions): MergekitImport {
  const config = parseConfig(text, file)
  const out = new Untranslated()
  const notes: string[] = []
  for (const key of Object.keys(config)) {
    if (METADATA_KEYS.has(key)) notes.push(`${key}: not translated (model card / chat metadata; the merged weights do not depend on it)`)
    else if (!KNOWN_CONFIG_KEYS.has(key)) out.add(key, 'no Amalgam counterpart')
  }
  const mapping = mappingFor(config.merge_method)
  if (mapping === undefined) {
    out.add('merge_method', `"${config.merge_method}" has no Amalgam counterpart (translated: ${METHOD_MAPPINGS.map((m) => m.mergekit).join(', ')})`)
    throw notTranslated(file, out)
  }
  const body = mapping.roles === 'single' && config.slices ? frankenmerge(config, out, notes) : merge(config, mapping, out, notes, opts)
  const vocabulary = tokenizerPolicy(config, body.merge.inputs[0]?.model, out)
  const dtype = outputDtype(config, out, notes)
  for (const model of modelNames(body)) {
    if (!existsSync(resolve(opts.dir, model))) {
      notes.push(`${model}: no such local path; kept as given. Amalgam never downloads: if it is a Hugging Face Hub id, download it and put the folder's path in the recipe`)
    }
  }
  if (out.problems.length > 0) throw notTranslated(file, out)
  notes.push(`output.path: ${opts.outputPath ?? 'merged'} (mergekit takes the output folder on its command line)`)
  const recipe: MergekitImport['recipe'] = {
    format: RECIPE_FORMAT,
    version: RECIPE_VERSION,
    merge: body.merge,
    ...(body.slices ? { slices: body.slices } : {}),
    ...(vocabulary ? { options: { vocabulary } } : {}),
    output: { path: opts.outputPath ?? 'merged', ...(dtype ? { dtype } : {}) },
  }
  parseRecipe(recipe, `${file} (imported)`)
  return { recipe, notes: [...new Set(notes)] }
}

function parseConfig(text: string, file: string): MergekitConfig {
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (err) {
    throw new AmalgamError('BAD_RECIPE', `${file}: not valid YAML (${(err as Error).message})`, file)
  }
  const parsed = MergekitConfig.safeParse(raw)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')
    throw new AmalgamError('BAD_RECIPE', `${file}: not a mergekit config (${issues})`, file)
  }
  return parsed.data
}

function notTranslated(file: string, out: Untranslated): AmalgamError {
  return new AmalgamError('BAD_RECIPE', `${file}: not translated: ${out.problems.join('; ')}`, file)
}

interface Body {
  merge: { method: string; inputs: { model: string }[]; base?: { model: string }; params: Record<string, ParamValue> }
  slices?: LayerSlice[]
}

function modelNames(body: Body): string[] {
  const names = [...body.merge.inputs.map((i) => i.model), ...(body.merge.base ? [body.merge.base.model] : []), ...(body.slices ?? []).map((s) => s.model)]
  return [...new Set(names)]
}

/** passthrough with slices: one source per slice, copied; embeddings from the first slice's model. */
function frankenmerge(config: MergekitConfig, out: Untranslated, notes: string[]): Body {
  const slices: LayerSlice[] = []
  for (const [i, slice] of (config.slices ?? []).entries()) {
    if (slice.sources.length !== 1) {
      out.add(`slices[${i}].sources`, `${slice.sources.length} sources merged into one slice; Amalgam's slices copy layers from one model (merge those models first, then slice the result)`)
      continue
    }
    if (slice.parameters && Object.keys(slice.parameters).length > 0) out.add(`slices[${i}].parameters`, 'slice parameters of a passthrough (e.g. scale) have no recipe form')
    const source = slice.sources[0]
    if (source === undefined) continue
    if (source.parameters && Object.keys(source.parameters).length > 0) out.add(`slices[${i}].sources[0].parameters`, 'per-source parameters of a passthrough (e.g. scale) have no recipe form')
    slices.push({ model: source.model, layers: [source.layer_range[0], source.layer_range[1]] })
  }
  const first = config.slices?.[0]?.sources[0]?.model
  const last = config.slices?.at(-1)?.sources[0]?.model
  if (first === undefined || last === undefined) throw new AmalgamError('BAD_RECIPE', 'slices: empty')
  if (last !== first) {
    out.add('slices', `mergekit takes the final norm and lm_head from the last slice's model (${last}) and the embeddings from the first's (${first}); Amalgam takes all three from one model`)
  }
  if (config.base_model && config.base_model !== first) notes.push(`base_model: ${config.base_model} is not used by a passthrough frankenmerge (embeddings and head come from ${first})`)
  return { merge: { method: 'passthrough', inputs: [{ model: first }], params: {} }, slices }
}

function merge(config: MergekitConfig, mapping: MethodMapping, out: Untranslated, notes: string[], opts: MergekitImportOptions): Body {
  const { entries, general, layersHint } = modelEntries(config, out, notes)
  const layers = opts.layers ?? layersHint ?? layersFromFolder([config.base_model, ...entries.map((e) => e.model)], opts.dir)
  const base = config.base_model ?? null
  const roles = assignRoles(mapping, entries, base, out, notes)
  const params: Record<string, ParamValue> = { ...mapping.fixed }
  const resolved = resolveMethod(mapping.amalgam).method
  const names = new Set([...Object.keys(general), ...roles.inputs.flatMap((e) => Object.keys(e.parameters))])
  for (const name of names) {
    const target = mapping.params[name]
    if (target === undefined) {
      out.add(`parameters.${name}`, `${mapping.mergekit} has no parameter "${name}" in Amalgam (it has ${Object.keys(mapping.params).join(', ')})`)
      continue
    }
    if (target.kind === 'ignored') {
      notes.push(`${name}: ignored (it changes only mergekit's storage precision; Amalgam computes in float32)`)
      continue
    }
    // passthrough's one model may carry its parameters itself: they are the node's
    if (target.kind !== 'per-model' && mapping.roles !== 'single') {
      for (const e of roles.inputs) if (e.parameters[name] !== undefined) out.add(`${e.where}.parameters.${name}`, `${name} is one value for the whole merge in Amalgam; give it under the global parameters`)
    }
    const setting = general[name]
    if (target.kind === 'flag' || target.kind === 'switch') {
      if (setting === undefined) continue
      if (typeof setting !== 'boolean') {
        out.add(`parameters.${name}`, `expected true or false, got ${JSON.stringify(setting)}`)
        continue
      }
      params[target.name] = target.kind === 'flag' ? setting : setting ? 'on' : 'off'
      continue
    }
    const generalValue = setting === undefined ? undefined : importNumber(setting, `parameters.${name}`, layers, out)
    if (target.kind === 'global') {
      const single = mapping.roles === 'single' ? roles.inputs[0] : undefined
      const ownSetting = single?.parameters[name]
      const own = single === undefined || ownSetting === undefined ? undefined : importNumber(ownSetting, `${single.where}.parameters.${name}`, layers, out)
      const value = fallThrough(own, generalValue)
      if (value !== undefined) params[target.name] = simplify(value)
      continue
    }
    const decl = resolved.params[target.name]
    const fallback = decl?.type === 'number' ? decl.default : null
    const own = roles.inputs.map((e) => {
      const s = e.parameters[name]
      return s === undefined ? undefined : importNumber(s, `${e.where}.parameters.${name}`, layers, out)
    })
    if (own.every((v) => v === undefined)) {
      if (generalValue !== undefined) params[target.name] = simplify(generalValue)
      continue
    }
    params[target.name] = own.map((o, i): NumberValue => {
      const v = fallThrough(o, generalValue)
      if (v !== undefined) return simplify(v)
      if (fallback === null) throw new AmalgamError('BAD_RECIPE', `${roles.inputs[i]?.where ?? 'models'}.parameters.${name}: no value`)
      return fallback
    })
  }
  return {
    merge: {
      method: mapping.amalgam,
      inputs: roles.inputs.map((e) => ({ model: e.model })),
      ...(roles.base !== null ? { base: { model: roles.base } } : {}),
      params,
    },
  }
}

/**
 * The models and the parameters that apply to all of them. A config written with one slice whose
 * sources all cover the same [0, N) range (the usual slerp config) is the same merge as `models:`
 * when the models have N layers.
 */
function modelEntries(config: MergekitConfig, out: Untranslated, notes: string[]): { entries: ModelEntry[]; general: MergekitParameters; layersHint: number | null } {
  const global = config.parameters ?? {}
  if (config.slices) {
    if (config.models) out.add('models', 'both models and slices given')
    const slice = config.slices[0]
    if (config.slices.length !== 1 || slice === undefined) {
      out.add('slices', `${config.slices.length} slices in a ${config.merge_method} merge: a merge of layer ranges has no recipe form (one slice over all layers, or passthrough with one source per slice, translates)`)
      return { entries: [], general: global, layersHint: null }
    }
    const [from, to] = slice.sources[0]?.layer_range ?? [0, 1]
    if (from !== 0 || slice.sources.some((s) => s.layer_range[0] !== from || s.layer_range[1] !== to)) {
      out.add('slices[0].sources', 'sources over different layer ranges (or not starting at 0) have no recipe form; a merge translates when every source covers [0, N)')
    }
    if (slice.base_model) out.add('slices[0].base_model', 'a per-slice base_model has no recipe form')
    notes.push(`slices[0]: one slice over layers [0, ${to}) of every model, imported as a merge of whole models: the same merge when the models have ${to} layers`)
    const general: MergekitParameters = { ...global }
    for (const [name, setting] of Object.entries(slice.parameters ?? {})) {
      if (global[name] !== undefined) out.add(`slices[0].parameters.${name}`, 'given both for the slice and globally; give it once')
      general[name] = setting
    }
    const entries = slice.sources.map((s, i) => ({ model: s.model, parameters: s.parameters ?? {}, where: `slices[0].sources[${i}]` }))
    return { entries, general, layersHint: to }
  }
  const entries = (config.models ?? []).map((m, i) => ({ model: m.model, parameters: m.parameters ?? {}, where: `models[${i}]` }))
  if (entries.length === 0) out.add('models', 'no models and no slices')
  return { entries, general: global, layersHint: null }
}

function assignRoles(mapping: MethodMapping, entries: readonly ModelEntry[], base: string | null, out: Untranslated, notes: string[]): { inputs: ModelEntry[]; base: string | null } {
  const others = entries.filter((e) => e.model !== base)
  const baseEntry = entries.find((e) => e.model === base)
  const baseParams = baseEntry ? Object.keys(baseEntry.parameters) : []
  switch (mapping.roles) {
    case 'all':
      if (base !== null) notes.push(`base_model: ${base} is not used by ${mapping.mergekit}`)
      return { inputs: [...entries], base: null }
    case 'single':
      if (entries.length !== 1) out.add('models', `passthrough copies one model; ${entries.length} given (frankenmerges use slices)`)
      return { inputs: entries.slice(0, 1), base: null }
    case 'base-first':
      if (base === null) {
        out.add('base_model', `${mapping.mergekit} needs base_model (the model at t = 0)`)
        return { inputs: [...entries], base: null }
      }
      if (others.length !== 1) out.add('models', `${mapping.mergekit} interpolates base_model and one other model; ${others.length} others given`)
      if (baseParams.length > 0) out.add(`${baseEntry?.where ?? 'base_model'}.parameters`, `${mapping.mergekit} takes only global parameters`)
      return { inputs: [{ model: base, parameters: baseEntry?.parameters ?? {}, where: baseEntry?.where ?? 'base_model' }, ...others], base: null }
    case 'optional-base':
    case 'base':
      if (mapping.roles === 'base' && base === null) out.add('base_model', `${mapping.mergekit} needs base_model (the task vectors are taken against it)`)
      if (baseParams.length > 0) notes.push(`${baseEntry?.where ?? 'base_model'}.parameters: ignored, as mergekit ignores the base model's ${baseParams.join(', ')}`)
      return { inputs: others, base }
  }
}

/** num_hidden_layers of the first of these models that is a local folder with a config.json. */
function layersFromFolder(models: readonly (string | null | undefined)[], dir: string): number | null {
  for (const model of models) {
    if (!model) continue
    const path = resolve(dir, model, 'config.json')
    if (!existsSync(path)) continue
    try {
      const layers = (JSON.parse(readFileSync(path, 'utf8')) as { num_hidden_layers?: unknown }).num_hidden_layers
      if (typeof layers === 'number' && Number.isInteger(layers) && layers > 0) return layers
    } catch {
      // an unreadable config.json gives no layer count; the caller names what needed it
    }
  }
  return null
}

/**
 * mergekit's tokenizer_source builds the output vocabulary; the recipe's "fit-to-a" keeps a's
 * vocabulary with shared rows merged, which is the same when that source is input a. Rows are
 * matched by index here, by token in mergekit: the same for vocabularies that share their first rows.
 */
function tokenizerPolicy(config: MergekitConfig, first: string | undefined, out: Untranslated): VocabularyPolicy | undefined {
  const source = config.tokenizer_source
  if (source === undefined || source === null) return undefined
  const model = source === 'base' ? config.base_model : source === 'union' ? null : source.replace(/^model:/, '')
  if (model && model === first) return 'fit-to-a'
  out.add('tokenizer_source', `"${source}": only the vocabulary of the recipe's input a (${first ?? 'none'}) translates (options.vocabulary "fit-to-a"); a union or another model's vocabulary has no recipe form`)
  return undefined
}

function outputDtype(config: MergekitConfig, out: Untranslated, notes: string[]): 'fp32' | 'fp16' | 'bf16' | undefined {
  const name = config.out_dtype ?? config.dtype
  if (name === undefined || name === null) return undefined
  const dtype = DTYPES[name]
  if (dtype === undefined) out.add(config.out_dtype ? 'out_dtype' : 'dtype', `"${name}" (translated: ${Object.keys(DTYPES).join(', ')})`)
  if (config.dtype) notes.push(`dtype: mergekit computes in ${config.dtype}; Amalgam computes in float32 and writes ${name} (results differ by rounding)`)
  return dtype
}
