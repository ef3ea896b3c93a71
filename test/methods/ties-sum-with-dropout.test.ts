import { describe, expect, it } from 'vitest'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { naiveGeometricMedian } from './naive-geometric-median'
import { expectClose } from './sample-tensors'

function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}

/** TIES-GMEDIAN in float64 (METHODS.md §6.1, §6.9): trim, elect, mask, geometric median of the masked deltas. */
function naiveTiesMedian(base: Float32Array, models: readonly Float32Array[], k: number, paper: boolean, alpha: number, maxiter: number): Float64Array {
  const n = base.length
  const trimmed = models.map((m) => {
    const d = Array.from(m, (v, i) => Math.fround(v - base[i]!))
    const tau = [...d].map(Math.abs).sort((p, q) => p - q)[Math.min(n, Math.max(Math.trunc((1 - k) * n), 1)) - 1]!
    return d.map((v) => (Math.abs(v) >= tau ? v : 0))
  })
  const masked = trimmed.map((t) =>
    t.map((v, e) => {
      const vote = trimmed.reduce((s, u) => s + (paper ? u[e]! : Math.sign(u[e]!)), 0)
      return v * vote > 0 ? v : 0
    }),
  )
  const median = naiveGeometricMedian(masked, 1e-6, maxiter)
  return Float64Array.from(base, (b, e) => b + alpha * median[e]!)
}

/**
 * One model, k = 1 (TIES of a single untrimmed delta is the delta itself), no rescale, zero base:
 * the output is δ where the dropout kept it and 0 where it dropped it.
 */
async function keptMask(delta: Float32Array, params: Record<string, number | boolean>, seed: number, opts: { key?: string; chunkElements?: number } = {}): Promise<Uint8Array> {
  const { output } = await runMethod('ties_sum_with_dropout', { inputs: [delta], base: new Float32Array(delta.length), seed, ...opts, params: { k: 1, rescale: false, ...params } })
  return Uint8Array.from(output, (v, i) => (v === 0 ? 0 : (expect(v).toBe(delta[i]), 1)))
}

describe('ties_sum_with_dropout', () => {
  it('is ties_sum when nothing is dropped, and the base when everything is', async () => {
    const rnd = lcg(60)
    const base = Float32Array.from({ length: 400 }, () => rnd() - 0.5)
    const inputs = [0, 1, 2].map(() => Float32Array.from(base, (b) => b + Math.round((rnd() - 0.5) * 16) / 32))
    const cases: Record<string, number | string | boolean>[] = [{ k: 0.3 }, { k: 0.5, variant: 'soup', alpha: 0.6 }, { k: 0.4, apply_stock: true }]
    for (const params of cases) {
      const plain = await runMethod('ties_sum', { inputs, base, shape: [20, 20], params })
      const dropout = await runMethod('ties_sum_with_dropout', { inputs, base, shape: [20, 20], params: { ...params, probability: 0 } })
      expect(dropout.output).toEqual(plain.output)
    }
    expect((await runMethod('ties_sum_with_dropout', { inputs, base, params: { probability: 1 } })).output).toEqual(base)
    expect((await runMethod('ties_sum_with_dropout', { inputs, base, params: { alpha: 0 } })).output).toEqual(base)
  })

  it('keeps a 1 − p fraction (within 4 binomial σ) and draws per key and seed', async () => {
    const n = 20_000
    const delta = Float32Array.from({ length: n }, (_, i) => 1 + (i % 5))
    for (const p of [0.1, 0.5, 0.9]) {
      const kept = (await keptMask(delta, { probability: p }, 3)).reduce((s, m) => s + m, 0)
      expect(Math.abs(kept - (1 - p) * n)).toBeLessThanOrEqual(4 * Math.sqrt(n * p * (1 - p)))
    }
    const one = await keptMask(delta, { probability: 0.5 }, 3, { key: 'x.weight' })
    expect(await keptMask(delta, { probability: 0.5 }, 3, { key: 'x.weight', chunkElements: 777 })).toEqual(one)
    expect(await keptMask(delta, { probability: 0.5 }, 3, { key: 'y.weight' })).not.toEqual(one)
    expect(await keptMask(delta, { probability: 0.5 }, 4, { key: 'x.weight' })).not.toEqual(one)
  })

  it('is unbiased with the 1/(1 − p) rescale (|z| ≤ 4 per element over 400 seeds)', async () => {
    const n = 200
    const rnd = lcg(61)
    const base = Float32Array.from({ length: n }, () => rnd())
    const model = Float32Array.from(base, (b) => b + (rnd() - 0.5) * 2)
    const p = 0.7
    const alpha = 0.8
    const seeds = 400
    const sum = new Float64Array(n)
    for (let seed = 0; seed < seeds; seed++) {
      const { output } = await runMethod('ties_sum_with_dropout', { inputs: [model], base, seed, params: { probability: p, k: 1, alpha } })
      output.forEach((v, i) => (sum[i]! += v))
    }
    for (let i = 0; i < n; i++) {
      const delta = Math.fround(model[i]! - base[i]!)
      // out = base + alpha·δ·m/(1 − p) with m ~ Bernoulli(1 − p): mean base + alpha·δ, sd alpha·|δ|·sqrt(p/(1 − p))
      const sd = alpha * Math.abs(delta) * Math.sqrt(p / (1 - p))
      expect(Math.abs(sum[i]! / seeds - (base[i]! + alpha * delta)), `element ${i}`).toBeLessThanOrEqual((4 * sd) / Math.sqrt(seeds) + 1e-6)
    }
  })

  it('keeps each element with the DELLA probability of its whole-tensor rank (|z| ≤ 4 over 400 seeds)', async () => {
    const n = 60
    const rnd = lcg(62)
    // ties included: equal magnitudes are ranked by position
    const delta = Float32Array.from({ length: n }, () => (Math.round(rnd() * 12) + 1) * (rnd() < 0.5 ? -0.25 : 0.25))
    const order = Array.from(delta, (v, i) => ({ key: Math.abs(v), i })).sort((a, b) => a.key - b.key || a.i - b.i)
    for (const [p, eps] of [
      [0.5, 0.6],
      [0.9, 0.5],
    ] as const) {
      const expected = new Float64Array(n)
      order.forEach(({ i }, r) => (expected[i] = Math.min(1, Math.max(0, 1 - p + eps * ((r + 1) / n - (n + 1) / (2 * n))))))
      const seeds = 400
      const counts = new Float64Array(n)
      for (let seed = 0; seed < seeds; seed++) {
        // tiny chunks: the rank visit runs in many value batches
        ;(await keptMask(delta, { probability: p, della_eps: eps }, seed, { chunkElements: seed % 2 ? 4 : 1 << 20 })).forEach((m, i) => (counts[i]! += m))
      }
      for (let i = 0; i < n; i++) {
        const q = expected[i]!
        expect(Math.abs(counts[i]! - seeds * q), `p ${p}, element ${i}`).toBeLessThanOrEqual(4 * Math.sqrt(seeds * q * (1 - q)))
      }
    }
  })

  it('draws the same DELLA mask whatever the chunk size', async () => {
    const rnd = lcg(63)
    const delta = Float32Array.from({ length: 5000 }, () => Math.round((rnd() - 0.5) * 40) / 8)
    const big = await keptMask(delta, { probability: 0.5, della_eps: 0.3 }, 9)
    expect(await keptMask(delta, { probability: 0.5, della_eps: 0.3 }, 9, { chunkElements: 50 })).toEqual(big)
  })

  it('takes the geometric median of the masked deltas with apply_median (TIES-GMEDIAN)', async () => {
    const rnd = lcg(64)
    const base = Float32Array.from({ length: 120 }, () => rnd() - 0.5)
    const inputs = [0, 1, 2, 3].map(() => Float32Array.from(base, (b) => b + (rnd() - 0.5) * 2))
    for (const [k, variant, maxiter] of [[0.5, 'paper', 100], [1, 'soup', 3], [0.3, 'paper', 0]] as const) {
      const params = { probability: 0, k, variant, alpha: 0.7, apply_median: true, apply_stock: true, maxiter }
      const expected = naiveTiesMedian(base, inputs, k, variant === 'paper', 0.7, maxiter)
      expectClose((await runMethod('ties_sum_with_dropout', { inputs, base, shape: [12, 10], params })).output, expected, 1e-4, 1e-5)
      expectClose((await runMethod('ties_sum_with_dropout', { inputs, base, shape: [12, 10], params, chunkElements: 16 })).output, expected, 1e-4, 1e-5)
    }
    // with dropout: deterministic per seed and independent of the chunk size
    const params = { probability: 0.5, k: 0.5, apply_median: true }
    const one = await runMethod('ties_sum_with_dropout', { inputs, base, seed: 5, params })
    expectClose((await runMethod('ties_sum_with_dropout', { inputs, base, seed: 5, params, chunkElements: 10 })).output, one.output, 1e-5, 1e-6)
    // a single model is its own median
    const single = await runMethod('ties_sum_with_dropout', { inputs: [inputs[0]!], base, params: { probability: 0, k: 1, apply_median: true } })
    expectClose(single.output, inputs[0]!)
  })

  it('answers to add_ties_with_dare', () => {
    expect(resolveMethod('add_ties_with_dare').method.id).toBe('ties_sum_with_dropout')
  })
})
