import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { completeParams } from '../../src-main/engine/methods/params'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'

type Variant = 'task_arithmetic' | 'ties' | 'dare_ties' | 'dare_linear' | 'breadcrumbs' | 'breadcrumbs_ties' | 'della' | 'della_linear'

/** METHODS.md §6.3, deterministic variants, in float64 on float32 task vectors */
interface GtaReference {
  variant: 'task_arithmetic' | 'ties' | 'breadcrumbs' | 'breadcrumbs_ties'
  weights: readonly number[]
  densities: readonly number[]
  gammas?: readonly number[]
  lambda?: number
  normalize?: boolean
  rescale?: boolean
}

const DEFAULTS = {
  task_arithmetic: { normalize: false, rescale: false, consensus: false },
  ties: { normalize: true, rescale: false, consensus: true },
  breadcrumbs: { normalize: false, rescale: false, consensus: false },
  breadcrumbs_ties: { normalize: false, rescale: false, consensus: true },
}

function naiveGta(base: Float32Array, models: readonly Float32Array[], opts: GtaReference): Float64Array {
  const n = base.length
  const rules = DEFAULTS[opts.variant]
  const normalize = opts.normalize ?? rules.normalize
  const rescale = opts.rescale ?? rules.rescale
  const sparse = models.map((m, i) => {
    const delta = Array.from(m, (v, e) => Math.fround(v - base[e]!))
    const density = opts.densities[i]!
    if (opts.variant === 'task_arithmetic' || density >= 1) return delta
    // larger |δ| first, lower index first among equal magnitudes
    const order = delta.map((v, e) => ({ key: Math.abs(v), e })).sort((p, q) => q.key - p.key || p.e - q.e)
    const target = Math.trunc(density * n)
    let first = 0
    let end = target
    if (opts.variant !== 'ties') {
      let top = Math.trunc((opts.gammas?.[i] ?? 0.01) * n)
      const bottom = n - target - top
      if (bottom < 0) top += bottom
      first = top
      end = n - Math.max(bottom, 0)
    }
    const kept = new Array<number>(n).fill(0)
    for (const { e } of order.slice(first, end)) kept[e] = delta[e]!
    if (!rescale) return kept
    const before = delta.reduce((s, v) => s + Math.abs(v), 0)
    const after = kept.reduce((s, v) => s + Math.abs(v), 0)
    return before < 1e-7 || after < 1e-7 ? kept : kept.map((v) => (v * before) / after)
  })
  const weightSum = opts.weights.reduce((p, q) => p + q, 0)
  return Float64Array.from(base, (b, e) => {
    const w = sparse.map((s, i) => s[e]! * opts.weights[i]!)
    let mixed = w.reduce((p, q) => p + q, 0)
    let divisor = Math.abs(weightSum) < 1e-8 ? 1 : weightSum
    if (rules.consensus) {
      const sign = mixed >= 0 ? 1 : -1
      const agree = w.map((v) => Math.sign(v) === sign)
      mixed = w.reduce((p, v, i) => p + (agree[i] ? v : 0), 0)
      divisor = opts.weights.reduce((p, v, i) => p + (agree[i] ? v : 0), 0) || 1
    }
    return b + (opts.lambda ?? 1) * (normalize ? mixed / divisor : mixed)
  })
}

function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}

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
    if (!(Math.abs(actual[i]! - want) <= 2e-6 * Math.max(1, Math.abs(want)))) expect.fail(`${label}: element ${i} is ${actual[i]}, expected ${want}`)
  }
}

describe('gta (mergekit generalized task arithmetic)', () => {
  it('matches the float64 reference for the deterministic variants', async () => {
    for (const models of [1, 2, 3]) {
      const { base, inputs } = fixture(480, models, 30 + models)
      const weights = [1, 0.5, -0.7].slice(0, models)
      const densities = [0.3, 0.55, 1].slice(0, models)
      const gammas = [0.05, 0, 0.02].slice(0, models)
      for (const variant of ['task_arithmetic', 'ties', 'breadcrumbs', 'breadcrumbs_ties'] as const) {
        for (const [normalize, rescale] of [[undefined, undefined], [true, true], [false, false]] as const) {
          const params = {
            weight: weights,
            density: densities,
            gamma: gammas,
            lambda: 0.8,
            ...(normalize === undefined ? {} : { normalize: normalize ? 'on' : 'off' }),
            ...(rescale === undefined ? {} : { rescale: rescale ? 'on' : 'off' }),
          }
          const want = naiveGta(base, inputs, { variant, weights, densities, gammas, lambda: 0.8, ...(normalize === undefined ? {} : { normalize }), ...(rescale === undefined ? {} : { rescale }) })
          const label = `${variant}, ${models} models, normalize ${normalize}, rescale ${rescale}`
          expectClose((await runMethod(variant, { inputs, base, shape: [16, 30], params })).output, want, label)
          expectClose((await runMethod(variant, { inputs, base, shape: [16, 30], params, chunkElements: 7 })).output, want, `${label}, chunked`)
        }
      }
    }
  })

  it('keeps exact counts on large tensors (sampled window selection)', async () => {
    const { base, inputs } = fixture(120_000, 2, 40)
    const params = { density: [0.2, 0.35], weight: [1, 1] }
    const want = naiveGta(base, inputs, { variant: 'ties', weights: [1, 1], densities: [0.2, 0.35] })
    expectClose((await runMethod('ties', { inputs, base, shape: [300, 400], params })).output, want, 'ties')
    expectClose((await runMethod('ties', { inputs, base, shape: [300, 400], params: { ...params, rescale: 'on' }, chunkElements: 5000 })).output, naiveGta(base, inputs, { variant: 'ties', weights: [1, 1], densities: [0.2, 0.35], rescale: true }), 'ties rescaled')
  })

  it('defaults: variant ties, weight 1, density 1 (sign-consensus mean), lambda 1', async () => {
    const { base, inputs } = fixture(100, 3, 41)
    const want = naiveGta(base, inputs, { variant: 'ties', weights: [1, 1, 1], densities: [1, 1, 1] })
    expectClose((await runMethod('gta', { inputs, base })).output, want, 'defaults')
    const info = resolveMethod('gta').method.params
    expect(info.variant).toMatchObject({ default: 'ties' })
  })

  it('returns the base at lambda 0 and where every model equals it', async () => {
    const { base, inputs } = fixture(64, 2, 42)
    expect((await runMethod('dare_ties', { inputs, base, params: { lambda: 0, density: 0.5 } })).output).toEqual(base)
    for (const variant of ['task_arithmetic', 'ties', 'dare_ties', 'dare_linear', 'breadcrumbs', 'breadcrumbs_ties', 'della', 'della_linear']) {
      expect((await runMethod(variant, { inputs: [base, base], base, params: { density: 0.5 } })).output, variant).toEqual(base)
    }
  })

  it('keeps the top of small tensors in breadcrumbs (mergekit zeroes them: [n_bot:-0] is empty)', async () => {
    const base = new Float32Array(10)
    const a = Float32Array.from([5, -1, 3, 0.5, -4, 2, 0.25, 6, -0.125, 1.5])
    const { output } = await runMethod('breadcrumbs', { inputs: [a], base, params: { density: 0.5 } })
    // n_top = trunc(0.01 × 10) = 0: nothing is dropped as an outlier, the 5 largest stay
    expect([...output]).toEqual([5, 0, 3, 0, -4, 2, 0, 6, 0, 0])
    const outliers = await runMethod('breadcrumbs', { inputs: [a], base, params: { density: 0.5, gamma: 0.2 } })
    // n_top = 2 (6 and 5 go), n_bot = 10 − 5 − 2 = 3 (the three smallest go)
    expect([...outliers.output]).toEqual([0, -1, 3, 0, -4, 2, 0, 0, 0, 1.5])
  })

  it('drops a task vector whose density keeps no element, with a warning', async () => {
    const base = new Float32Array(4)
    const { output, warnings } = await runMethod('ties', { inputs: [[1, 2, 3, 4], [1, 1, 1, 1]], base, params: { density: [0.1, 1], normalize: 'off' } })
    expect([...output]).toEqual([1, 1, 1, 1])
    expect(warnings.join('\n')).toMatch(/model 0: density 0.1 keeps none of 4/)
  })

  it('elects the sign of the weighted sum, a tie at 0 going to +', async () => {
    const base = new Float32Array(3)
    // weighted deltas: (+1, −1) sums to 0 → +; (+1, −2·1) → −; a negative weight flips a vote
    const { output } = await runMethod('ties', { inputs: [[1, 1, 1], [-1, -1, 1]], base, params: { weight: [1, 1], normalize: 'off' }, shape: [3] })
    expect([...output]).toEqual([1, 1, 2])
    const flipped = await runMethod('ties', { inputs: [[1, 1, 1], [1, 2, -1]], base, params: { weight: [1, -1], normalize: 'off' } })
    expect([...flipped.output]).toEqual([1, -2, 2])
  })

  it('handles 0-dim, 4-D and empty tensors', async () => {
    const scalar = await runMethod('ties', { inputs: [[3], [-1]], base: [1], shape: [], params: { density: [1, 1] } })
    // δ = (2, −2): sum 0 → +, only +2 agrees, normalised by its weight
    expect([...scalar.output]).toEqual([3])
    const { base, inputs } = fixture(2 * 3 * 3 * 3, 2, 44)
    const want = naiveGta(base, inputs, { variant: 'breadcrumbs_ties', weights: [1, 1], densities: [0.5, 0.7], gammas: [0.05, 0.05] })
    const conv = await runMethod('breadcrumbs_ties', { inputs, base, shape: [2, 3, 3, 3], chunkElements: 9, params: { density: [0.5, 0.7], gamma: 0.05 } })
    expectClose(conv.output, want, '4-D')
    expect((await runMethod('della', { inputs: [[], []], base: [], shape: [0, 3], params: { density: 0.5 } })).output).toHaveLength(0)
  })

  it('refuses DELLA probabilities outside (0, 1)', async () => {
    const { base, inputs } = fixture(20, 1, 43)
    await expect(runMethod('della', { inputs, base, params: { density: 0.9, epsilon: 0.15 } })).rejects.toSatisfy((e) => isAmalgamError(e, 'BAD_RECIPE'))
  })

  it('answers to every mergekit name, each fixing its variant', () => {
    const variants: Variant[] = ['task_arithmetic', 'ties', 'dare_ties', 'dare_linear', 'breadcrumbs', 'breadcrumbs_ties', 'della', 'della_linear']
    for (const name of variants) {
      const resolved = resolveMethod(name)
      expect(resolved.method.id).toBe('gta')
      expect(completeParams(resolved, {}, 2).variant).toBe(name)
    }
    expect(() => completeParams(resolveMethod('ties'), { variant: 'della' }, 2)).toThrow(/fixes variant/)
  })
})

describe('gta random variants (seeded)', () => {
  /** one model over a zero base, weight 1, no rescale: the output is δ where kept and 0 where dropped */
  async function keptMask(variant: Variant, delta: Float32Array, shape: readonly number[], params: Record<string, number | string>, seed: number, key?: string): Promise<Uint8Array> {
    const { output } = await runMethod(variant, { inputs: [delta], base: new Float32Array(delta.length), shape, seed, ...(key ? { key } : {}), params: { rescale: 'off', normalize: 'off', ...params } })
    return Uint8Array.from(output, (v, i) => (v === 0 ? 0 : (expect(v).toBe(delta[i]), 1)))
  }

  it('keeps a density fraction with DARE (within 4 binomial σ), the same for any chunking', async () => {
    const n = 20_000
    const delta = Float32Array.from({ length: n }, (_, i) => 1 + (i % 7))
    for (const density of [0.1, 0.5, 0.9]) {
      const mask = await keptMask('dare_linear', delta, [n], { density }, 7)
      const kept = mask.reduce((p, q) => p + q, 0)
      expect(Math.abs(kept - density * n)).toBeLessThanOrEqual(4 * Math.sqrt(n * density * (1 - density)))
      const chunked = await runMethod('dare_linear', { inputs: [delta], base: new Float32Array(n), seed: 7, chunkElements: 333, params: { density, rescale: 'off' } })
      expect(Uint8Array.from(chunked.output, (v) => (v === 0 ? 0 : 1))).toEqual(mask)
    }
    const della = await runMethod('della', { inputs: [delta], base: new Float32Array(n), seed: 7, shape: [200, 100], params: { density: 0.4, epsilon: 0.2 } })
    const dellaChunked = await runMethod('della', { inputs: [delta], base: new Float32Array(n), seed: 7, shape: [200, 100], chunkElements: 250, params: { density: 0.4, epsilon: 0.2 } })
    expect(dellaChunked.output).toEqual(della.output)
    expect(await keptMask('dare_linear', delta, [n], { density: 0 }, 7)).toEqual(new Uint8Array(n))
  })

  it('draws the same mask for the same seed and key, another for another key or seed', async () => {
    const delta = Float32Array.from({ length: 2000 }, (_, i) => 1 + (i % 3))
    const one = await keptMask('dare_ties', delta, [2000], { density: 0.5 }, 1, 'a.weight')
    expect(await keptMask('dare_ties', delta, [2000], { density: 0.5 }, 1, 'a.weight')).toEqual(one)
    expect(await keptMask('dare_ties', delta, [2000], { density: 0.5 }, 1, 'b.weight')).not.toEqual(one)
    expect(await keptMask('dare_ties', delta, [2000], { density: 0.5 }, 2, 'a.weight')).not.toEqual(one)
  })

  it('preserves each task vector\'s L1 norm when rescaling, and is unbiased in aggregate', async () => {
    const n = 300
    const rnd = lcg(50)
    const delta = Float32Array.from({ length: n }, () => (rnd() - 0.5) * 4)
    const l1 = delta.reduce((p, q) => p + Math.abs(q), 0)
    const seeds = 400
    const sum = new Float64Array(n)
    const sumSq = new Float64Array(n)
    for (let seed = 0; seed < seeds; seed++) {
      const { output } = await runMethod('dare_linear', { inputs: [delta], base: new Float32Array(n), seed, params: { density: 0.4 } })
      expect(Math.abs(output.reduce((p, q) => p + Math.abs(q), 0) - l1)).toBeLessThanOrEqual(1e-5 * l1)
      output.forEach((v, i) => {
        sum[i]! += v / delta[i]!
        sumSq[i]! += (v / delta[i]!) ** 2
      })
    }
    let total = 0
    for (let i = 0; i < n; i++) {
      const mean = sum[i]! / seeds
      const sd = Math.sqrt(sumSq[i]! / seeds - mean * mean)
      expect(Math.abs(mean - 1)).toBeLessThanOrEqual(4.5 * (sd / Math.sqrt(seeds)))
      total += mean
    }
    expect(Math.abs(total / n - 1)).toBeLessThan(0.02)
  })

  it('keeps each element with DELLA\'s rank probability along axis 1 (|z| ≤ 4 over 400 seeds)', async () => {
    const shape = [3, 6, 4] as const
    const n = 72
    const rnd = lcg(51)
    const delta = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0.5 : Math.round((rnd() - 0.5) * 8) / 4 || 0.25))
    const density = 0.5
    const eps = 0.3
    // expected: rank of |δ| among the 6 elements sharing (i0, ·, i2), ascending, ties by position
    const expected = new Float64Array(n)
    for (let i0 = 0; i0 < 3; i0++) {
      for (let i2 = 0; i2 < 4; i2++) {
        const fiber = Array.from({ length: 6 }, (_, j) => i0 * 24 + j * 4 + i2)
        const order = [...fiber].sort((p, q) => Math.abs(delta[p]!) - Math.abs(delta[q]!) || p - q)
        order.forEach((flat, r) => (expected[flat] = density - eps + (2 * eps * r) / 5))
      }
    }
    const seeds = 400
    const counts = new Float64Array(n)
    for (let seed = 0; seed < seeds; seed++) {
      const mask = await keptMask('della_linear', delta, shape, { density, epsilon: eps }, seed)
      mask.forEach((m, i) => (counts[i]! += m))
    }
    for (let i = 0; i < n; i++) {
      const p = expected[i]!
      expect(Math.abs(counts[i]! - seeds * p), `element ${i}`).toBeLessThanOrEqual(4 * Math.sqrt(seeds * p * (1 - p)))
    }
  })

  it('gives rows of length 1 the plain density, and 1-D tensors one row', async () => {
    const seeds = 400
    let kept = 0
    for (let seed = 0; seed < seeds; seed++) kept += (await keptMask('della', Float32Array.from([2, -3]), [2, 1], { density: 0.3, epsilon: 0.2 }, seed)).reduce((p, q) => p + q, 0)
    expect(Math.abs(kept - 0.3 * 2 * seeds)).toBeLessThanOrEqual(4 * Math.sqrt(2 * seeds * 0.21))
    const counts = [0, 0, 0]
    for (let seed = 0; seed < seeds; seed++) (await keptMask('della', Float32Array.from([1, 3, 2]), [3], { density: 0.5, epsilon: 0.4 }, seed)).forEach((m, i) => (counts[i]! += m))
    ;[0.1, 0.9, 0.5].forEach((p, i) => expect(Math.abs(counts[i]! - seeds * p)).toBeLessThanOrEqual(4 * Math.sqrt(seeds * p * (1 - p))))
  })
})
