/**
 * mergekit `filter`s as recipe key rules. A filter is a plain substring test on the tensor name
 * (mergekit's `cond.filter in tensor_name`); a recipe key rule is a regex searched in the key, so an
 * escaped filter is the same test. A filter whose value is a gradient has no single-number rule: it
 * becomes one rule per layer (the gradient evaluated at that layer) followed by a rule for the keys
 * outside the layers (first anchor, as the recipe's gradient rule gives embeddings and head).
 */
const META = /[\\^$.*+?()[\]{}|/-]/g

export function filterPattern(filter: string): string {
  return filter.replace(META, (c) => `\\${c}`)
}

export function layerFilterPattern(filter: string, layer: number): string {
  return `^(?=.*${filterPattern(filter)}).*\\.layers\\.${layer}\\.`
}

/** The substring a rule tests, when the rule is an escaped literal; null for any other regex. */
export function literalOf(pattern: string): string | null {
  if (!/^(?:[^\\^$.*+?()[\]{}|]|\\[\\^$.*+?()[\]{}|/-])+$/.test(pattern)) return null
  return pattern.replace(/\\(.)/g, '$1')
}

/** The filter and layer of a rule written by layerFilterPattern; null for any other regex. */
export function layerFilterOf(pattern: string): { filter: string; layer: number } | null {
  const m = /^\^\(\?=\.\*(.+)\)\.\*\\\.layers\\\.(\d+)\\\.$/.exec(pattern)
  if (m === null) return null
  const filter = literalOf(m[1] ?? '')
  return filter === null ? null : { filter, layer: Number(m[2]) }
}
