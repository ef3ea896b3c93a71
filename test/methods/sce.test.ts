import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { expectClose } from './sample-tensors'

/* Naive SCE (METHODS.md §6.8) in float64 on whole arrays; ties in the variance go to the lower index. */
function naiveSce(inputs: Float32Array[], base: Float32Array, topk: number): Float64Array {
  const n = base.length
  const N = inputs.length
  const deltas = inputs.map((x) => Array.from(x, (v, i) => Math.fround(v - base[i]!)))
  if (topk < 1) {
    const variance = Array.from({ length: n }, (_, e) => {
      const mean = deltas.reduce((s, d) => s + d[e]!, 0) / N
      return Math.fround(deltas.reduce((s, d) => s + (d[e]! - mean) ** 2, 0) / N)
    })
    const k = Math.trunc(topk * variance.filter((v) => v !== 0).length)
    const order = variance.map((v, i) => [v, i] as const).sort((p, q) => q[0] - p[0] || p[1] - q[1])
    const keep = new Set(order.slice(0, k).map(([, i]) => i))
    for (const d of deltas) for (let e = 0; e < n; e++) if (!keep.has(e)) d[e] = 0
  }
  const raw = deltas.map((d) => d.reduce((s, v) => s + v * v, 0) / n)
  const total = raw.reduce((s, v) => s + v, 0)
  const w = raw.map((v) => (total < 1e-6 ? 1 / N : v / total))
  return Float64Array.from(base, (b, e) => {
    const g = deltas.reduce((s, d) => s + d[e]!, 0) >= 0 ? 1 : -1
    let mixed = 0
    let div = 0
    deltas.forEach((d, i) => {
      if (Math.sign(d[e]!) === g) {
        mixed += w[i]! * d[e]!
        div += w[i]!
      }
    })
    return b + mixed / Math.max(div, 1e-6)
  })
}

function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}

/** task vectors on a coarse grid (ties in variance), one model with larger changes than the others */
function fixture(n: number, models: number, seed: number, scale = 1): { base: Float32Array; inputs: Float32Array[] } {
  const rnd = lcg(seed)
  const base = Float32Array.from({ length: n }, () => rnd() - 0.5)
  const inputs = Array.from({ length: models }, (_, m) => Float32Array.from(base, (b) => b + (scale * (m + 1) * Math.round((rnd() - 0.5) * 8)) / 8))
  return { base, inputs }
}

describe('sce', () => {
  it('matches the float64 reference for several select_topk and model counts', async () => {
    for (const models of [1, 2, 3, 4]) {
      const { base, inputs } = fixture(240, models, 20 + models)
      for (const select_topk of [1, 0.7, 0.3, 0.01]) {
        const expected = naiveSce(inputs, base, select_topk)
        for (const chunkElements of [undefined, 16]) {
          const { output } = await runMethod('sce', { inputs, base, shape: [12, 20], params: { select_topk }, ...(chunkElements ? { chunkElements } : {}) })
          expectClose(output, expected)
        }
      }
    }
  })

  it('selects exactly on tensors large enough for the streaming selection', async () => {
    const { base, inputs } = fixture(90_000, 3, 42)
    const expected = naiveSce(inputs, base, 0.25)
    for (const chunkElements of [4096, 1 << 20]) {
      expectClose((await runMethod('sce', { inputs, base, shape: [300, 300], params: { select_topk: 0.25 }, chunkElements })).output, expected)
    }
  })

  it('uses equal weights when the task vectors are tiny (mean squares sum below 1e-6)', async () => {
    const { base, inputs } = fixture(100, 3, 40, 1e-4)
    expectClose((await runMethod('sce', { inputs, base })).output, naiveSce(inputs, base, 1))
  })

  it('gives the base for select_topk 0 and for identical inputs, the model for one model', async () => {
    const { base, inputs } = fixture(60, 2, 41)
    expect((await runMethod('sce', { inputs, base, params: { select_topk: 0 } })).output).toEqual(base)
    expect((await runMethod('sce', { inputs: [base, base], base })).output).toEqual(base)
    expectClose((await runMethod('sce', { inputs: [inputs[0]!], base })).output, inputs[0]!)
  })

  it('needs a base', async () => {
    await expect(runMethod('sce', { inputs: [[1, 2]] })).rejects.toThrow(/base model/)
  })
})
