import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

/** METHODS.md §3.9 in float64, nan0 written as "NaN → 0" (the ratios are bounded, so no inf arises) */
function naiveAddOpposite(a: Float32Array, b: Float32Array, c: Float32Array, alpha: number, strict: boolean): Float64Array {
  return Float64Array.from(a, (x, i) => {
    const y = b[i]!
    const z = c[i]!
    let w: number
    if (strict) {
      const tau = Math.max(Math.abs(x - z), Math.abs(y - z))
      const r = ((z - x) * (y - z)) / tau ** 2
      w = 2 * Math.max(Number.isNaN(r) ? 0 : r, 0)
    } else {
      const r = (2 * Math.abs(x - y)) / (Math.abs(x - y) + Math.abs(x + y - 2 * z))
      w = Number.isNaN(r) ? 0 : r
    }
    return x + alpha * w * (y - z)
  })
}

describe('add_opposite', () => {
  it('matches a float64 reference for both variants on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      for (const alpha of [1, 0.4, -0.8]) {
        const opposite = await runMethod('add_opposite', { inputs: [a, b], base: c, shape, params: { alpha } })
        expectClose(opposite.output, naiveAddOpposite(a, b, c, alpha, false))
        const strict = await runMethod('add_strict_opposite', { inputs: [a, b], base: c, shape, params: { alpha } })
        expectClose(strict.output, naiveAddOpposite(a, b, c, alpha, true))
      }
    }
  })

  it('reads the factor off hand-computed cases', async () => {
    // C = 0: (A, B) = (1, -1) opposite, equal distance; (1, 1) same; (2, -1) opposite; (0, 3) A did not move
    const a = Float32Array.from([1, 1, 2, 0])
    const b = Float32Array.from([-1, 1, -1, 3])
    const c = new Float32Array(4)
    // opposite: w = 2·2/(2+0) = 2; 0; 2·3/(3+1) = 1.5; 2·3/(3+3) = 1
    expectClose((await runMethod('add_opposite', { inputs: [a, b], base: c })).output, [1 - 2, 1, 2 - 1.5, 3])
    // strict: w = 2·1/1 = 2; max(−1, 0) = 0; 2·2/4 = 1; 2·0/9 = 0
    expectClose((await runMethod('add_strict_opposite', { inputs: [a, b], base: c })).output, [1 - 2, 1, 2 - 1, 0])
  })

  it('keeps A at alpha 0, where B equals C, and where A equals B', async () => {
    const a = Float32Array.from([-0, 2, 3, 5])
    const b = Float32Array.from([1, 2, 4, 5])
    const c = Float32Array.from([1, 1, 4, 5])
    for (const name of ['add_opposite', 'add_strict_opposite']) {
      expectSameValues((await runMethod(name, { inputs: [a, b], base: c })).output, a)
      expectSameValues((await runMethod(name, { inputs: [a, b], base: sampleTensor(4, 9), params: { alpha: 0 } })).output, a)
    }
  })

  it('strict adds nothing where A and B moved the same way from C', async () => {
    const [c, d1, d2] = [1, 2, 3].map((s) => sampleTensor(60, s)) as [Float32Array, Float32Array, Float32Array]
    const a = Float32Array.from(c, (z, i) => z + Math.abs(d1[i]!))
    const b = Float32Array.from(c, (z, i) => z + Math.abs(d2[i]!))
    expectClose((await runMethod('add_strict_opposite', { inputs: [a, b], base: c })).output, a, 0, 0)
  })

  it('aliases fix the strict variant', () => {
    expect(resolveMethod('add_strict_opposite')).toMatchObject({ method: { id: 'add_opposite' }, fixedParams: { variant: 'strict' } })
    expect(resolveMethod('clamped_add_opposite').fixedParams).toEqual({ variant: 'strict' })
  })

  it('needs a base', async () => {
    const x = sampleTensor(4, 1)
    await expect(runMethod('add_opposite', { inputs: [x, x] })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('base'))
  })

  it('streams: tiny chunks give the same result', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(108, s)) as [Float32Array, Float32Array, Float32Array]
    for (const variant of ['opposite', 'strict']) {
      const opts = { inputs: [a, b], base: c, shape: [4, 3, 3, 3], params: { alpha: 0.7, variant } }
      expectSameValues((await runMethod('add_opposite', { ...opts, chunkElements: 7 })).output, (await runMethod('add_opposite', opts)).output)
    }
  })
})
