import type { NumberValue, StructuredNumber } from '../../common/recipe'
import { interpolateGradient } from '../recipe/param-values'
import type { MergekitSetting } from './config'
import { filterPattern, layerFilterOf, layerFilterPattern, literalOf } from './filters'

/** Collects what does not translate, each with the config path it is at. */
export class Untranslated {
  readonly problems: string[] = []
  add(where: string, why: string): void {
    this.problems.push(`${where}: ${why}`)
  }
}

type KeyRule = NonNullable<StructuredNumber['keys']>[number]

/**
 * A numeric mergekit setting as a recipe number. Filtered gradients need the layer count
 * (`layers`) to be written out per layer; without it they are named as not translated.
 */
export function importNumber(setting: MergekitSetting, where: string, layers: number | null, out: Untranslated): NumberValue | undefined {
  if (typeof setting === 'number') return setting
  if (typeof setting === 'boolean' || typeof setting === 'string') {
    out.add(where, `expected a number or a list of numbers, got ${JSON.stringify(setting)}`)
    return undefined
  }
  if (isNumberList(setting)) return { gradient: [...setting] }
  const keys: KeyRule[] = []
  const result: StructuredNumber = {}
  for (const [i, cond] of setting.entries()) {
    const at = `${where}[${i}]`
    if (typeof cond.value === 'boolean' || typeof cond.value === 'string') {
      out.add(`${at}.value`, `expected a number or a list of numbers, got ${JSON.stringify(cond.value)}`)
      continue
    }
    const filter = cond.filter ?? null
    if (filter === null || filter === '*') {
      // the first catch-all wins for every key: later conditions are never reached in mergekit either
      if (typeof cond.value === 'number') result.value = cond.value
      else result.gradient = [...cond.value]
      break
    }
    if (typeof cond.value === 'number') {
      keys.push({ pattern: filterPattern(filter), value: cond.value })
    } else if (layers === null) {
      out.add(at, `filter "${filter}" with a gradient needs the layer count (give --layers N, or use local model folders)`)
    } else {
      keys.push(...perLayerRules(filter, cond.value, layers))
    }
  }
  if (keys.length > 0) result.keys = keys
  return result
}

function perLayerRules(filter: string, anchors: readonly number[], layers: number): KeyRule[] {
  const rules: KeyRule[] = []
  for (let i = 0; i < layers; i++) {
    rules.push({ pattern: layerFilterPattern(filter, i), value: interpolateGradient(anchors, layers === 1 ? 0 : i / (layers - 1)) })
  }
  rules.push({ pattern: filterPattern(filter), value: anchors[0] ?? 0 })
  return rules
}

function isNumberList(setting: readonly unknown[]): setting is readonly number[] {
  return setting.every((e) => typeof e === 'number')
}

/**
 * mergekit's precedence between levels: the more specific setting (a model's own) is used unless it
 * yields nothing for a tensor, then the less specific one (the global parameters) is.
 */
export function fallThrough(own: NumberValue | undefined, general: NumberValue | undefined): NumberValue | undefined {
  if (own === undefined) return general
  if (typeof own === 'number' || general === undefined) return own
  if (own.value !== undefined || own.gradient !== undefined) return own
  const outer = typeof general === 'number' ? { value: general } : general
  const keys = [...(own.keys ?? []), ...(outer.keys ?? [])]
  return {
    ...(outer.value !== undefined ? { value: outer.value } : {}),
    ...(outer.gradient !== undefined ? { gradient: outer.gradient } : {}),
    ...(keys.length > 0 ? { keys } : {}),
  }
}

/** A plain `{ value: x }` as x, so imported recipes read like hand-written ones. */
export function simplify(value: NumberValue): NumberValue {
  if (typeof value === 'number') return value
  const { value: v, ...rest } = value
  return v !== undefined && Object.keys(rest).length === 0 ? v : value
}

/**
 * A recipe number as a mergekit setting: per-layer `blocks` become a gradient with one anchor per
 * layer (exact: anchor i sits at t = i/(N−1), layer i's position), literal key rules become filters.
 */
export function exportNumber(value: NumberValue, where: string, out: Untranslated): MergekitSetting | undefined {
  if (typeof value === 'number') return value
  const fallback = defaultSetting(value, where, out)
  if (value.keys === undefined || value.keys.length === 0) return fallback
  const conditions = exportKeyRules(value.keys, `${where}.keys`, out)
  if (conditions === undefined) return undefined
  return fallback === undefined ? conditions : [...conditions, { value: fallback }]
}

function defaultSetting(value: StructuredNumber, where: string, out: Untranslated): number | number[] | undefined {
  if (value.blocks === undefined) return value.gradient !== undefined ? [...value.gradient] : value.value
  if (value.gradient !== undefined) {
    out.add(where, 'per-layer values (blocks) together with a gradient have no mergekit form')
    return undefined
  }
  const layers: number[] = []
  const outside: [string, number][] = []
  for (const [block, v] of Object.entries(value.blocks)) {
    const m = /^L(\d+)$/.exec(block)
    if (m === null) outside.push([block, v])
    else layers[Number(m[1])] = v
  }
  if (layers.length === 0) {
    out.add(`${where}.blocks`, `values for ${outside.map(([b]) => b).join(', ')} only: mergekit gives embeddings and head the first layer's value`)
    return undefined
  }
  const missing = [...layers.keys()].filter((i) => layers[i] === undefined)
  if (missing.length > 0) {
    out.add(`${where}.blocks`, `no value for layer ${missing.join(', ')}: mergekit needs a value for every layer from 0 on (give all, or a gradient)`)
    return undefined
  }
  const first = layers[0]
  for (const [block, v] of outside) {
    if (v !== first) out.add(`${where}.blocks.${block}`, `${v} differs from layer 0's ${String(first)}: mergekit gives embeddings and head the first anchor`)
  }
  return layers as number[]
}

function exportKeyRules(rules: readonly KeyRule[], where: string, out: Untranslated): { filter: string; value: number | number[] }[] | undefined {
  const conditions: { filter: string; value: number | number[] }[] = []
  let ok = true
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]
    if (rule === undefined) break
    const layered = layerFilterOf(rule.pattern)
    if (layered !== null) {
      const run = collectLayerRun(rules, i, layered.filter)
      if (run === null) {
        out.add(`${where}[${i}]`, `per-layer rules for filter "${layered.filter}" must cover layers 0, 1, … in order and end with a rule for the filter itself holding layer 0's value`)
        ok = false
        break
      }
      conditions.push({ filter: layered.filter, value: run.values })
      i = run.next - 1
      continue
    }
    const literal = literalOf(rule.pattern)
    if (literal === null) {
      out.add(`${where}[${i}].pattern`, `${JSON.stringify(rule.pattern)} is a regular expression; mergekit filters are plain substrings (e.g. "self_attn")`)
      ok = false
      continue
    }
    conditions.push({ filter: literal, value: rule.value })
  }
  return ok ? conditions : undefined
}

function collectLayerRun(rules: readonly KeyRule[], start: number, filter: string): { values: number[]; next: number } | null {
  const values: number[] = []
  let i = start
  for (; i < rules.length; i++) {
    const rule = rules[i]
    const layered = rule === undefined ? null : layerFilterOf(rule.pattern)
    if (rule === undefined || layered === null || layered.filter !== filter || layered.layer !== values.length) break
    values.push(rule.value)
  }
  const tail = rules[i]
  if (values.length === 0 || tail === undefined || literalOf(tail.pattern) !== filter || tail.value !== values[0]) return null
  return { values, next: i + 1 }
}
