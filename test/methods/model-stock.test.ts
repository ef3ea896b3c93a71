import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

const FLOAT32_MAX = 3.4028234663852886e38

/*
 * Naive float64 Model Stock (METHODS.md §6.7): per slice, the mean cosine c of the deltas over the
 * chosen pairs, t = N·c / (1 + (N − 1)·c); mergekit: t·mean X + (1 − t)·base, sd-mecha:
 * base + nan_to_num(t·mean δ).
 */
function naiveModelStock(xs: Float32Array[], base: Float32Array, sliceLength: number, variant: 'mecha' | 'mergekit'): Float64Array {
  const n = xs.length
  const out = new Float64Array(base.length)
  for (let s = 0; s < base.length; s += sliceLength) {
    const deltas = xs.map((x) => Array.from({ length: sliceLength }, (_, e) => x[s + e]! - base[s + e]!))
    const cosines: number[] = []
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (variant === 'mecha' && j !== i + 1) continue
        let xy = 0
        let xx = 0
        let yy = 0
        for (let e = 0; e < sliceLength; e++) {
          xy += deltas[i]![e]! * deltas[j]![e]!
          xx += deltas[i]![e]! ** 2
          yy += deltas[j]![e]! ** 2
        }
        const cos = xy / Math.max(Math.sqrt(xx) * Math.sqrt(yy), 1e-6)
        cosines.push(variant === 'mergekit' ? Math.min(1, Math.max(-1, cos)) : cos)
      }
    }
    const c = cosines.reduce((x, y) => x + y, 0) / cosines.length
    const t = (n * c) / (1 + (n - 1) * c)
    for (let e = 0; e < sliceLength; e++) {
      const mean = xs.reduce((sum, x) => sum + x[s + e]!, 0) / n
      const b = base[s + e]!
      if (variant === 'mergekit') {
        out[s + e] = t * mean + (1 - t) * b
      } else {
        const r = t * (mean - b)
        out[s + e] = b + (Number.isNaN(r) ? 0 : Math.abs(r) > FLOAT32_MAX ? Math.sign(r) * FLOAT32_MAX : r)
      }
    }
  }
  return out
}

function lastAxis(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : shape[shape.length - 1]!
}

/** fine-tunes sharing part of their change from the base, so the cosines are clearly positive */
function fineTunes(n: number, models: number, seed: number): { base: Float32Array; xs: Float32Array[] } {
  const base = sampleTensor(n, seed)
  const shared = sampleTensor(n, seed + 1)
  const xs = Array.from({ length: models }, (_, m) => {
    const own = sampleTensor(n, seed + 2 + m)
    return Float32Array.from(base, (b, i) => b + 0.1 * (shared[i]! + 0.6 * own[i]!))
  })
  return { base, xs }
}

describe('model_stock', () => {
  it('matches the float64 references on every shape, for 2 to 4 fine-tunes and both variants', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      for (const models of [2, 3, 4]) {
        const { base, xs } = fineTunes(n, models, models)
        for (const filter_wise of [false, true]) {
          const { output } = await runMethod('model_stock', { inputs: xs, base, shape, params: { filter_wise } })
          expectClose(output, naiveModelStock(xs, base, filter_wise ? lastAxis(shape) : n, 'mergekit'))
        }
        const { output } = await runMethod('model_stock', { inputs: xs, base, shape, params: { variant: 'mecha' } })
        expectClose(output, naiveModelStock(xs, base, lastAxis(shape), 'mecha'))
      }
    }
  })

  it('mecha averages consecutive pairs only; mergekit all pairs', async () => {
    // δ₀ ⟂ δ₂, both at 45° to δ₁: consecutive pairs give c = cos 45°, all pairs (2·cos 45° + 0)/3
    const base = new Float32Array(2)
    const xs = [Float32Array.from([1, 0]), Float32Array.from([1, 1]), Float32Array.from([0, 1])]
    const c = Math.SQRT1_2
    const tMecha = (3 * c) / (1 + 2 * c)
    const cAll = (2 * c) / 3
    const tAll = (3 * cAll) / (1 + 2 * cAll)
    expectClose((await runMethod('model_stock', { inputs: xs, base, params: { variant: 'mecha' } })).output, [(tMecha * 2) / 3, (tMecha * 2) / 3])
    expectClose((await runMethod('model_stock', { inputs: xs, base, params: { variant: 'mergekit' } })).output, [(tAll * 2) / 3, (tAll * 2) / 3])
  })

  it('streams: slices split across chunks and many slices per chunk give the reference result', async () => {
    const cases: [readonly number[], number[]][] = [
      [[6, 50], [7, 16, 50, 1 << 20]],
      [[40, 3], [4, 16, 1 << 20]],
      [[2, 3, 4, 5], [3, 7, 64]],
      [[300], [16, 100]],
    ]
    for (const [shape, chunks] of cases) {
      const n = numel(shape)
      const { base, xs } = fineTunes(n, 3, 9)
      const expected = {
        mecha: naiveModelStock(xs, base, lastAxis(shape), 'mecha'),
        flat: naiveModelStock(xs, base, n, 'mergekit'),
        rows: naiveModelStock(xs, base, lastAxis(shape), 'mergekit'),
      }
      for (const chunkElements of chunks) {
        expectClose((await runMethod('model_stock', { inputs: xs, base, shape, chunkElements, params: { variant: 'mecha' } })).output, expected.mecha)
        expectClose((await runMethod('model_stock', { inputs: xs, base, shape, chunkElements })).output, expected.flat)
        expectClose((await runMethod('model_stock', { inputs: xs, base, shape, chunkElements, params: { filter_wise: true } })).output, expected.rows)
      }
    }
  })

  it('keeps identical fine-tunes and falls back to the base when nothing changed', async () => {
    const { base, xs } = fineTunes(40, 1, 3)
    const x = xs[0]!
    for (const variant of ['mecha', 'mergekit']) {
      expectClose((await runMethod('model_stock', { inputs: [x, x, x], base, shape: [4, 10], params: { variant } })).output, x)
      expectSameValues((await runMethod('model_stock', { inputs: [base, base], base, shape: [4, 10], params: { variant } })).output, base)
    }
  })

  it('at the pole c = −1: sd-mecha clamps to ±max and zeroes NaN, mergekit is not finite and warns', async () => {
    // base 0 keeps the deltas exact, so the cosine is exactly −1 and t = −2/0
    const base = new Float32Array(8)
    const x = sampleTensor(8, 5)
    const opposite = Float32Array.from(x, (v) => -2 * v)
    const mecha = await runMethod('model_stock', { inputs: [x, opposite], base, params: { variant: 'mecha' } })
    // mean δ = −x/2, t = −inf: +max where x > 0, −max where x < 0, 0 (NaN) where x = 0
    expectSameValues(mecha.output, Float32Array.from(x, (v) => (v === 0 ? 0 : Math.sign(v) * FLOAT32_MAX)))
    expect(mecha.warnings).toEqual([])
    const mergekit = await runMethod('model_stock', { inputs: [x, opposite], base })
    expect(mergekit.output.every((v) => !Number.isFinite(v))).toBe(true)
    expect(mergekit.warnings).toHaveLength(1)
  })

  it('needs a base and at least two fine-tunes', async () => {
    const x = sampleTensor(4, 1)
    await expect(runMethod('model_stock', { inputs: [x, x] })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('base'))
    await expect(runMethod('model_stock', { inputs: [x], base: x })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('two'))
  })

  it('writes nothing for an empty tensor', async () => {
    expect((await runMethod('model_stock', { inputs: [[], []], base: [], shape: [0, 3] })).output).toHaveLength(0)
  })

  it('defaults to mergekit; the aliases fix the variant', () => {
    expect(resolveMethod('model_stock').method.params.variant).toMatchObject({ default: 'mergekit' })
    expect(resolveMethod('model_stock_mergekit').fixedParams).toEqual({ variant: 'mergekit' })
    expect(resolveMethod('model_stock_mecha').fixedParams).toEqual({ variant: 'mecha' })
    expect(resolveMethod('n_model_stock').fixedParams).toEqual({ variant: 'mecha' })
  })
})
