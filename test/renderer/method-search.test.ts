import { describe, expect, it } from 'vitest'
import { METHODS } from '../../src-main/engine/methods/registry'
import { methodInfo } from '../../src-main/engine/methods/types'
import { costWords, inputsSummary, methodChoices, searchMethods } from '../../src-renderer/src/features/builder/method-search'

const methods = METHODS.map(methodInfo)
const choices = methodChoices(methods)
const found = (query: string): string[] => searchMethods(choices, query).map((c) => c.name)

describe('method search', () => {
  it('finds methods by id, alias, label, description and cost words', () => {
    expect(found('weighted_sum')).toContain('weighted_sum')
    // an alias that fixes nothing finds its method under the method's own id
    expect(found('add_difference_ties')).toContain('ties_sum')
    expect(found('TIES (sd-mecha)')).toContain('ties_sum')
    expect(found('sign elected')).toContain('ties_sum')
    const sorting = searchMethods(choices, 'sorting')
    for (const m of methods.filter((m) => m.cost.includes('S'))) expect(sorting.map((c) => c.name)).toContain(m.id)
    for (const c of sorting) expect(c.info.cost.includes('S') || /sorting/i.test(c.info.description)).toBe(true)
    expect(found('zzz-no-such-method')).toEqual([])
  })

  it('lists every method once, and only aliases that fix parameters as extra entries', () => {
    const ids = choices.filter((c) => c.aliasOf === null).map((c) => c.name)
    expect(ids).toEqual(methods.map((m) => m.id))
    for (const c of choices.filter((c) => c.aliasOf !== null)) expect(Object.keys(c.fixed).length).toBeGreaterThan(0)
  })

  it('describes cost and inputs in words', () => {
    expect(costWords(['E'])).toBe('elementwise, fast')
    expect(costWords(['S', 'G'])).toBe('needs sorting or top-k selection: slower, more memory; reads the whole model first: two passes over the files')
    const ties = methods.find((m) => m.id === 'ties_sum')!
    expect(inputsSummary(ties)).toBe('1 or more models + a base')
    expect(inputsSummary(methods.find((m) => m.id === 'weighted_sum')!)).toBe('2 models')
  })
})
