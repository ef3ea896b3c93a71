import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'

/*
 * The reference follows METHODS.md §6.1 step by step in float64, on float32 task vectors (upstream
 * subtracts in float32; doing it in float64 would move elements across the threshold).
 */
interface TiesReference {
  k: number
  variant: 'paper' | 'soup'
  stock?: boolean
  alpha?: number
  cosEps?: number
  shape: readonly number[]
}

function naiveTies(base: Float32Array, models: readonly Float32Array[], opts: TiesReference): Float64Array {
  const n = base.length
  const N = models.length
  const deltas = models.map((m) => Array.from(m, (v, i) => Math.fround(v - base[i]!)))
  const trimmed = deltas.map((d) => {
    const keys = d.map((v) => (Number.isNaN(v) ? Infinity : Math.abs(v)))
    const sorted = [...keys].sort((p, q) => p - q)
    const j = Math.min(n, Math.max(Math.trunc((1 - opts.k) * n), 1))
    const tau = sorted[j - 1]!
    return d.map((v, i) => (keys[i]! >= tau ? v : 0))
  })
  const masked = trimmed.map(() => new Float64Array(n))
  const counts = new Float64Array(n)
  for (let e = 0; e < n; e++) {
    let vote = 0
    for (const t of trimmed) vote += opts.variant === 'paper' ? t[e]! : Math.sign(t[e]!)
    const gamma = Math.sign(vote)
    trimmed.forEach((t, i) => {
      if (Math.sign(t[e]!) === gamma) {
        masked[i]![e] = t[e]!
        counts[e]!++
      }
    })
  }
  const slice = opts.shape.length === 0 ? 1 : opts.shape[opts.shape.length - 1]!
  const factor = new Float64Array(n).fill(1)
  if (opts.stock) {
    const eps = opts.cosEps ?? 1e-6
    for (let s = 0; s < n; s += slice) {
      let cos = 0
      for (let i = 0; i + 1 < N; i++) {
        let dot = 0
        let xx = 0
        let yy = 0
        for (let e = s; e < s + slice; e++) {
          dot += masked[i]![e]! * masked[i + 1]![e]!
          xx += masked[i]![e]! ** 2
          yy += masked[i + 1]![e]! ** 2
        }
        cos += dot / Math.sqrt(Math.max(xx * yy, eps * eps))
      }
      const c = cos / (N - 1)
      factor.fill((N * c) / (1 + (N - 1) * c), s, s + slice)
    }
  }
  const alpha = opts.alpha ?? 1
  return Float64Array.from(base, (b, e) => {
    let sum = 0
    for (const m of masked) sum += m[e]!
    const merged = (sum * factor[e]!) / counts[e]!
    return b + alpha * (Number.isFinite(merged) && deltas.every((d) => Number.isFinite(d[e]!)) ? merged : 0)
  })
}

function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}

/** base + N fine-tunes whose deltas are quantised (ties at every threshold) and of mixed signs */
function fixture(n: number, models: number, seed: number): { base: Float32Array; inputs: Float32Array[] } {
  const rnd = lcg(seed)
  const base = Float32Array.from({ length: n }, () => (rnd() - 0.5) * 2)
  const inputs = Array.from({ length: models }, () => Float32Array.from(base, (b) => b + Math.round((rnd() - 0.5) * 16) / 32))
  return { base, inputs }
}

function expectClose(actual: Float32Array, expected: Float64Array, label: string): void {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < actual.length; i++) {
    const want = expected[i]!
    if (Math.abs(actual[i]! - want) > 1e-6 * Math.max(1, Math.abs(want))) {
      expect.fail(`${label}: element ${i} is ${actual[i]}, expected ${want}`)
    }
  }
}

describe('ties_sum', () => {
  it('matches the float64 reference for 1–4 models, both elections and many k', async () => {
    for (const models of [1, 2, 3, 4]) {
      const { base, inputs } = fixture(600, models, 10 + models)
      for (const variant of ['paper', 'soup'] as const) {
        for (const k of [0.2, 0.5, 1, 0, -1, 1.5, 0.0001]) {
          const { output } = await runMethod('ties_sum', { inputs, base, shape: [24, 25], params: { k, variant } })
          expectClose(output, naiveTies(base, inputs, { k, variant, shape: [24, 25] }), `${models} models, ${variant}, k ${k}`)
        }
      }
    }
  })

  it('defaults to the TIES paper: k = 0.2, magnitude election, alpha 1', async () => {
    const { base, inputs } = fixture(300, 3, 2)
    const { output } = await runMethod('ties_sum', { inputs, base })
    expectClose(output, naiveTies(base, inputs, { k: 0.2, variant: 'paper', shape: [300] }), 'defaults')
  })

  it('scales the merged delta by alpha, and alpha 0 returns the base exactly', async () => {
    const { base, inputs } = fixture(200, 2, 3)
    const { output } = await runMethod('ties_sum', { inputs, base, params: { alpha: 0.35, k: 0.3 } })
    expectClose(output, naiveTies(base, inputs, { k: 0.3, variant: 'paper', alpha: 0.35, shape: [200] }), 'alpha 0.35')
    expect((await runMethod('ties_sum', { inputs, base, params: { alpha: 0 } })).output).toEqual(base)
  })

  it('returns the base for fine-tunes equal to it, and base + δ for identical fine-tunes without trimming', async () => {
    const { base, inputs } = fixture(100, 1, 4)
    expect((await runMethod('ties_sum', { inputs: [base, base, base], base })).output).toEqual(base)
    const { output } = await runMethod('ties_sum', { inputs: [inputs[0]!, inputs[0]!], base, params: { k: 1 } })
    expectClose(output, Float64Array.from(base, (b, i) => b + Math.fround(inputs[0]![i]! - b)), 'identical')
  })

  it('gives the same result for any chunk size and on every tensor rank', async () => {
    const { base, inputs } = fixture(360, 3, 5)
    for (const shape of [[360], [12, 30], [4, 3, 5, 6], [360, 1]]) {
      const whole = await runMethod('ties_sum', { inputs, base, shape, params: { k: 0.25, variant: 'soup' } })
      expectClose(whole.output, naiveTies(base, inputs, { k: 0.25, variant: 'soup', shape }), `shape ${shape.join('x')}`)
      for (const chunkElements of [1, 7, 64]) {
        const chunked = await runMethod('ties_sum', { inputs, base, shape, chunkElements, params: { k: 0.25, variant: 'soup' } })
        expect(chunked.output).toEqual(whole.output)
      }
    }
    const scalar = await runMethod('ties_sum', { inputs: [[1.5], [-2], [3]], base: [0.5], shape: [] })
    expectClose(scalar.output, naiveTies(new Float32Array([0.5]), [[1.5], [-2], [3]].map((v) => Float32Array.from(v)), { k: 0.2, variant: 'paper', shape: [] }), '0-dim')
    expect((await runMethod('ties_sum', { inputs: [[], []], base: [], shape: [0, 4] })).output).toHaveLength(0)
  })

  it('finds exact thresholds on large tensors (sampled window) and across chunks', async () => {
    const { base, inputs } = fixture(150_000, 2, 6)
    const want = naiveTies(base, inputs, { k: 0.2, variant: 'paper', shape: [300, 500] })
    expectClose((await runMethod('ties_sum', { inputs, base, shape: [300, 500] })).output, want, 'one chunk')
    expectClose((await runMethod('ties_sum', { inputs, base, shape: [300, 500], chunkElements: 4096 })).output, want, 'chunks')
  })

  it('keeps the base where a delta is not finite', async () => {
    const base = [0, 1, 2, 3]
    const a = [NaN, 2, Infinity, 4]
    const b = [1, -Infinity, 3, 5]
    const { output } = await runMethod('ties_sum', { inputs: [a, b], base, params: { k: 1 } })
    expect([...output]).toEqual([0, 1, 2, 3 + 1.5])
  })

  it('applies the model-stock factor per last-axis slice (TIES-STOCK)', async () => {
    for (const [models, shape] of [
      [2, [6, 8]],
      [3, [2, 3, 8]],
      [4, [48]],
    ] as const) {
      const { base, inputs } = fixture(48, models, 20 + models)
      for (const variant of ['paper', 'soup'] as const) {
        const params = { k: 0.5, variant, apply_stock: true }
        const want = naiveTies(base, inputs, { k: 0.5, variant, stock: true, shape })
        expectClose((await runMethod('ties_sum', { inputs, base, shape, params })).output, want, `stock ${models} ${variant}`)
        expectClose((await runMethod('ties_sum', { inputs, base, shape, params, chunkElements: 5 })).output, want, `stock chunked ${models}`)
      }
    }
  })

  it('refuses model stock with a single model', async () => {
    const { base, inputs } = fixture(10, 1, 7)
    await expect(runMethod('ties_sum', { inputs, base, params: { apply_stock: true } })).rejects.toSatisfy((e) => isAmalgamError(e, 'BAD_RECIPE'))
  })

  it('refuses the geometric-median option, which only ties_sum_with_dropout has so far', async () => {
    const { base, inputs } = fixture(10, 2, 8)
    await expect(runMethod('ties_sum', { inputs, base, params: { apply_median: true } })).rejects.toThrow(/apply_median/)
  })

  it('answers to the sd-mecha names', () => {
    for (const name of ['add_difference_ties', 'ties_sum_extended', 'add_difference_ties_extended']) {
      expect(resolveMethod(name).method.id).toBe('ties_sum')
    }
  })
})
