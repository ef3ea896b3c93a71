import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

/** METHODS.md §3.11 step by step, with q^p as a complex principal power and A promoted to complex */
function naiveMultiplyQuotient(a: Float32Array, b: Float32Array, c: Float32Array, alpha: number): Float64Array {
  return Float64Array.from(a, (x, i) => {
    const y = b[i]!
    const z = c[i]!
    const ac = Math.log(Math.abs(x)) - Math.log(Math.abs(z))
    const bc = Math.log(Math.abs(y)) - Math.log(Math.abs(z))
    const tau = Math.max(Math.abs(ac), Math.abs(bc))
    let ratio = (ac * bc) / tau ** 2
    if (Number.isNaN(ratio)) ratio = 0
    const p = alpha * Math.max(-ratio, 0)
    const q = y / z
    const arg = q < 0 ? Math.PI : 0
    const magnitude = p === 0 ? 1 : Math.abs(q) ** p
    const [qr, qi] = [magnitude * Math.cos(p * arg), magnitude * Math.sin(p * arg)]
    const [re, im] = [x * qr - 0 * qi, x * qi + 0 * qr]
    return Number.isNaN(re) || Number.isNaN(im) ? x : re
  })
}

describe('multiply_quotient', () => {
  it('matches the complex reference on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      for (const alpha of [1, 0.6, 2.5]) {
        const { output } = await runMethod('multiply_quotient', { inputs: [a, b], base: c, shape, params: { alpha } })
        expectClose(output, naiveMultiplyQuotient(a, b, c, alpha), 1e-5, 1e-6)
      }
    }
  })

  it('changes only elements where A and B moved in opposite multiplicative directions from C', async () => {
    const c = Float32Array.from([2, 2, 2, 2, -2, 0, 2])
    const a = Float32Array.from([4, 4, 1, 2, -4, 3, 0])
    const b = Float32Array.from([1, 8, 4, 5, 1, 3, 1])
    const { output } = await runMethod('multiply_quotient', { inputs: [a, b], base: c })
    // 0: A = 2C, B = C/2: m = 1, A·(B/C) = 2; 1: A = 2C, B = 4C, same direction: m = 0; 2: A = C/2,
    // B = 2C: A·2 = 2; 3: A == C: m = 0; 4: |A/C| = 2, B/C = −½, p = 1: A·(−½) = 2; 5: C = 0; 6: A = 0
    expectClose(output, naiveMultiplyQuotient(a, b, c, 1))
    expect(output[0]).toBeCloseTo(2, 6)
    expect(output[1]).toBe(4)
    expect(output[2]).toBeCloseTo(2, 6)
    expect(output[3]).toBe(2)
    expect(output[4]).toBeCloseTo(2, 6)
    expect(output[5]).toBe(3)
    expect(output[6]).toBe(0)
  })

  it('damps by cos(πp) where B/C is negative and p is fractional', async () => {
    // log|A/C| = log 4, log|B/C| = −log 4: m = 1, p = alpha = 0.5, q = −¼: A·½·cos(π/2) = 0
    const { output } = await runMethod('multiply_quotient', { inputs: [[4], [-0.25]], base: [1], params: { alpha: 0.5 } })
    expect(Math.abs(output[0]!)).toBeLessThan(1e-12)
  })

  it('keeps A where the power overflows (the complex result is NaN)', async () => {
    const { output } = await runMethod('multiply_quotient', { inputs: [[1e-30], [1e30]], base: [1], params: { alpha: 50 } })
    expect(output[0]).toBe(Math.fround(1e-30))
  })

  it('keeps A exactly at alpha 0 and needs a base', async () => {
    const a = sampleTensor(10, 1)
    expectSameValues((await runMethod('multiply_quotient', { inputs: [a, sampleTensor(10, 2)], base: sampleTensor(10, 3), params: { alpha: 0 } })).output, a)
    await expect(runMethod('multiply_quotient', { inputs: [a, a] })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE'))
  })

  it('streams: tiny chunks give the same result', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(60, s))
    const opts = { inputs: [a!, b!], base: c!, shape: [6, 10] }
    expectSameValues((await runMethod('multiply_quotient', { ...opts, chunkElements: 7 })).output, (await runMethod('multiply_quotient', opts)).output)
  })
})
