import type { CostClass, MethodInfo } from '../../../../src-main/common/method-info'

/** Cost classes (METHODS.md §1.10) in words a user can weigh. */
export const COST_WORDS: Readonly<Record<CostClass, string>> = {
  E: 'elementwise, fast',
  R: 'whole-tensor reductions (norms, means): two passes',
  S: 'needs sorting or top-k selection: slower, more memory',
  F: 'FFT: slower, extra complex buffers',
  L: 'dense linear algebra (SVD/QR): slow on big layers',
  I: 'iterative: cost grows with iterations',
  W: 'windowed filter: slower',
  G: 'reads the whole model first: two passes over the files',
}

export function costWords(cost: readonly CostClass[]): string {
  return cost.map((c) => COST_WORDS[c]).join('; ')
}

export function inputsSummary(info: MethodInfo): string {
  const { min, max, base } = info.inputs
  const count = max === null ? `${min} or more models` : min === max ? `${min} model${min === 1 ? '' : 's'}` : `${min}–${max} models`
  return base === 'required' ? `${count} + a base` : base === 'optional' ? `${count}, base optional` : count
}

/** One choice in the picker: a method under its id, or one of its aliases (which may fix parameters). */
export interface MethodChoice {
  readonly name: string
  readonly info: MethodInfo
  readonly aliasOf: string | null
  readonly fixed: Readonly<Record<string, string | number | boolean>>
}

export function methodChoices(methods: readonly MethodInfo[]): MethodChoice[] {
  return methods.flatMap((info) => [
    { name: info.id, info, aliasOf: null, fixed: {} },
    // aliases that fix nothing are other spellings: searchable, but not listed twice
    ...info.aliases.filter((a) => Object.keys(a.params).length > 0).map((a) => ({ name: a.name, info, aliasOf: info.id, fixed: a.params })),
  ])
}

/** Every word of the query must appear in the method's ids, aliases, label, description or cost words. */
export function searchMethods(choices: readonly MethodChoice[], query: string): MethodChoice[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean)
  if (words.length === 0) return [...choices]
  return choices.filter((c) => {
    const text = [c.name, c.info.id, c.info.label, c.info.description, ...c.info.aliases.map((a) => a.name), costWords(c.info.cost), c.info.randomness].join(' ').toLowerCase()
    return words.every((w) => text.includes(w))
  })
}
