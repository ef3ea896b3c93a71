import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, numel, sampleTensor } from './sample-tensors'

/** METHODS.md §3.12 step by step in float64, ‖d‖ computed numerically over the tensor */
function naiveEuclidean(a: Float32Array, b: Float32Array, c: Float32Array, alpha: number): Float64Array {
  const da = Float64Array.from(a, (x, i) => x - c[i]!)
  const db = Float64Array.from(b, (y, i) => y - c[i]!)
  const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0))
  const na = norm(da)
  const nb = norm(db)
  const s = Float64Array.from(a, (x, i) => (1 - alpha) * x + alpha * b[i]! - c[i]!)
  const d = Float64Array.from(da, (x, i) => {
    const ua = na === 0 ? 0 : x / na
    const ub = nb === 0 ? 0 : db[i]! / nb
    const m = Math.sqrt((1 - alpha) * ua * ua + alpha * ub * ub)
    return s[i]! < 0 || Object.is(s[i], -0) ? -m : m
  })
  const nd = norm(d)
  const ns = norm(s)
  return Float64Array.from(c, (z, i) => z + (d[i]! / nd) * ns)
}

describe('euclidean_add_difference', () => {
  it('matches a float64 reference on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      for (const alpha of [0.5, 0.15, 0.9]) {
        const { output } = await runMethod('euclidean_add_difference', { inputs: [a, b], base: c, shape, params: { alpha } })
        expectClose(output, naiveEuclidean(a, b, c, alpha), 1e-5, 1e-5)
      }
    }
  })

  it('gives A at alpha 0 and B at alpha 1', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(60, s)) as [Float32Array, Float32Array, Float32Array]
    expectClose((await runMethod('euclidean_add_difference', { inputs: [a, b], base: c, params: { alpha: 0 } })).output, a, 1e-5, 1e-5)
    expectClose((await runMethod('euclidean_add_difference', { inputs: [a, b], base: c, params: { alpha: 1 } })).output, b, 1e-5, 1e-5)
  })

  it('returns C where there is nothing to add (meh writes NaN there)', async () => {
    const c = sampleTensor(20, 3)
    expectClose((await runMethod('euclidean_add_difference', { inputs: [c, c], base: c })).output, c, 0, 0)
    // A = C at alpha 0: the target difference and the magnitudes are all zero
    expectClose((await runMethod('euclidean_add_difference', { inputs: [c, sampleTensor(20, 4)], base: c, params: { alpha: 0 } })).output, c, 0, 0)
  })

  it('refuses alpha outside [0, 1] and needs a base', async () => {
    const x = sampleTensor(4, 1)
    await expect(runMethod('euclidean_add_difference', { inputs: [x, x], base: x, params: { alpha: 1.2 } })).rejects.toSatisfy(
      (e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('params.alpha'),
    )
    await expect(runMethod('euclidean_add_difference', { inputs: [x, x] })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('base'))
  })

  it('streams: tiny chunks agree with one chunk (the float32 norms are summed in another order)', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(4 * 27, s)) as [Float32Array, Float32Array, Float32Array]
    const opts = { inputs: [a, b], base: c, shape: [4, 3, 3, 3], params: { alpha: 0.35 } }
    expectClose((await runMethod('euclidean_add_difference', { ...opts, chunkElements: 27 })).output, (await runMethod('euclidean_add_difference', opts)).output, 1e-5, 1e-6)
  })
})
