import { describe, expect, it } from 'vitest'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { expectClose } from './sample-tensors'

/* Naive float64 RAM / RAM+ from METHODS.md §6.10, on whole arrays. */
function naiveRam(inputs: Float32Array[], base: Float32Array, plus: boolean, eps = 1e-5, r = 0.1, alpha = 0.2): Float64Array {
  const n = base.length
  const deltas = inputs.map((x) => Float64Array.from(x, (v, i) => Math.fround(v - base[i]!)))
  const active = deltas.map((d) => Array.from(d, (v) => Math.abs(v) > eps))
  const count = Array.from({ length: n }, (_, e) => active.reduce((c, a) => c + (a[e] ? 1 : 0), 0))
  const lambda = deltas.map((_, i) => {
    if (!plus) return 1
    let shared = 0
    let unique = 0
    for (let e = 0; e < n; e++) {
      if (active[i]![e] && count[e]! > 1) shared++
      if (active[i]![e] && count[e] === 1) unique++
    }
    return 1 + r * Math.min(Math.max(shared / Math.max(unique, eps), 0), alpha)
  })
  return Float64Array.from(base, (b, e) => {
    let merged = 0
    deltas.forEach((d, i) => {
      if (!active[i]![e]) return
      merged += count[e] === 1 ? lambda[i]! * d[e]! : d[e]! / count[e]!
    })
    return b + merged
  })
}

/** sparse fine-tunes: each weight changed by a model with probability 0.4 */
function sparseModels(n: number, models: number, seed: number): { base: Float32Array; inputs: Float32Array[] } {
  let s = seed
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
  const base = Float32Array.from({ length: n }, () => rnd() * 2 - 1)
  const inputs = Array.from({ length: models }, () => Float32Array.from(base, (b) => (rnd() < 0.4 ? b + (rnd() - 0.5) : b)))
  return { base, inputs }
}

describe('ram', () => {
  it('matches the float64 reference for RAM and RAM+, with 1 to 4 models', async () => {
    for (const models of [1, 2, 3, 4]) {
      const { base, inputs } = sparseModels(300, models, 10 + models)
      for (const variant of ['ram', 'ramplus_tl'] as const) {
        const { output } = await runMethod('ram', { inputs, base, shape: [20, 15], params: { variant } })
        expectClose(output, naiveRam(inputs, base, variant === 'ramplus_tl'))
        const tiny = await runMethod('ram', { inputs, base, shape: [20, 15], params: { variant }, chunkElements: 13 })
        expect(tiny.output).toEqual(output)
      }
    }
  })

  it('keeps unique changes, averages shared ones, leaves unchanged weights at the base', async () => {
    const base = [0, 0, 0, 1]
    const a = [1, 0, 2, 1]
    const b = [0, 0, 4, 1 + 1e-6]
    expect(Array.from((await runMethod('ram', { inputs: [a, b], base })).output)).toEqual([1, 0, 3, 1])
  })

  it('boosts unique changes by 1 + r·min(shared/unique, alpha) in RAM+', async () => {
    // model a: 1 unique, 1 shared change → ρ = 1, capped at alpha = 0.5 → λ = 1 + 0.1·0.5
    const base = [0, 0, 0]
    const a = [2, 1, 0]
    const b = [0, 3, 0]
    const { output } = await runMethod('ramplus_tl', { inputs: [a, b], base, params: { alpha: 0.5 } })
    expectClose(output, [2 * 1.05, 2, 0])
    // model b has no unique change: its ratio is 1/epsilon, capped, but nothing of b is unique
  })

  it('gives the base for identical inputs, and needs a base', async () => {
    const base = Float32Array.from({ length: 10 }, (_, i) => i / 3)
    expect((await runMethod('ram', { inputs: [base, base], base })).output).toEqual(base)
    await expect(runMethod('ram', { inputs: [base] })).rejects.toThrow(/base model/)
  })

  it('answers to ramplus_tl with the RAM+ variant fixed', () => {
    expect(resolveMethod('ramplus_tl').fixedParams).toEqual({ variant: 'ramplus_tl' })
  })
})
