import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

function naiveAddDifference(a: Float32Array, b: Float32Array, c: Float32Array | null, alpha: number, clamp: boolean): Float64Array {
  return Float64Array.from(a, (x, i) => {
    const y = b[i]!
    const r = x + alpha * (y - (c ? c[i]! : 0))
    return clamp ? Math.min(Math.max(r, Math.min(x, y)), Math.max(x, y)) : r
  })
}

describe('add_difference', () => {
  it('matches a float64 reference on every shape, with and without the base', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      const withBase = await runMethod('add_difference', { inputs: [a, b], base: c, shape, params: { alpha: 0.7 } })
      expectClose(withBase.output, naiveAddDifference(a, b, c, 0.7, false))
      const deltaOnly = await runMethod('add_difference', { inputs: [a, b], shape, params: { alpha: -1.5 } })
      expectClose(deltaOnly.output, naiveAddDifference(a, b, null, -1.5, false))
    }
  })

  it('defaults alpha to 1', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(30, s)) as [Float32Array, Float32Array, Float32Array]
    expectClose((await runMethod('add_difference', { inputs: [a, b], base: c })).output, naiveAddDifference(a, b, c, 1, false))
  })

  it('keeps A bit for bit at alpha 0 and where B equals C (-0 included)', async () => {
    const a = Float32Array.from([-0, 1.5, NaN, -3, 0])
    const b = Float32Array.from([2, 7, 1, 4, 5])
    expectSameValues((await runMethod('add_difference', { inputs: [a, b], base: a, params: { alpha: 0 } })).output, a)
    expectSameValues((await runMethod('add_difference', { inputs: [a, b], base: b, params: { alpha: 0.8 } })).output, a)
  })

  it('clamp_to_ab keeps every result between A and B', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(60, s)) as [Float32Array, Float32Array, Float32Array]
    const { output } = await runMethod('add_difference', { inputs: [a, b], base: c, params: { alpha: 2, clamp_to_ab: true } })
    expectClose(output, naiveAddDifference(a, b, c, 2, true))
    const clamped = output.filter((v, i) => v === Math.min(a[i]!, b[i]!) || v === Math.max(a[i]!, b[i]!)).length
    expect(clamped).toBeGreaterThan(0)
  })

  it('clamp_to_ab without a base is refused', async () => {
    const x = sampleTensor(4, 1)
    await expect(runMethod('add_difference', { inputs: [x, x], params: { clamp_to_ab: true } })).rejects.toSatisfy(
      (e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('clamp_to_ab needs the base'),
    )
  })

  it('streams: tiny chunks give the same result as one chunk', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(4 * 27, s)) as [Float32Array, Float32Array, Float32Array]
    const opts = { inputs: [a, b], base: c, shape: [4, 3, 3, 3], params: { alpha: 0.4 } }
    expectSameValues((await runMethod('add_difference', { ...opts, chunkElements: 5 })).output, (await runMethod('add_difference', opts)).output)
  })

  it('add_difference(a, b, b) = a for any finite values (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.float32Array({ minLength: 2, maxLength: 30, noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) }), fc.double({ min: -3, max: 3, noNaN: true }), async (x, alpha) => {
        const b = x.map((v) => v * 0.5 + 1)
        const { output } = await runMethod('add_difference', { inputs: [x, b], base: b, params: { alpha } })
        expectSameValues(output, x)
      }),
      { numRuns: 50 },
    )
  })
})
