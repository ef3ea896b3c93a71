import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

/** Re(A^(1−α) · B^α) with principal complex powers, multiplied out as complex numbers */
function naiveGeometricSum(a: Float32Array, b: Float32Array, alpha: number): Float64Array {
  const power = (x: number, p: number): [number, number] => {
    if (p === 0) return [1, 0]
    const arg = x < 0 || Object.is(x, -0) ? Math.PI : 0
    const magnitude = x === 0 && p < 0 ? NaN : Math.abs(x) ** p
    return [magnitude * Math.cos(p * arg), magnitude * Math.sin(p * arg)]
  }
  return Float64Array.from(a, (x, i) => {
    const [re1, im1] = power(x, 1 - alpha)
    const [re2, im2] = power(b[i]!, alpha)
    return re1 * re2 - im1 * im2
  })
}

describe('geometric_sum', () => {
  it('matches the complex principal-power reference on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const a = sampleTensor(n, 1)
      const b = sampleTensor(n, 2)
      for (const alpha of [0.5, 0.25, 0.9]) {
        const { output } = await runMethod('geometric_sum', { inputs: [a, b], shape, params: { alpha } })
        expectClose(output, naiveGeometricSum(a, b, alpha), 1e-5, 1e-6)
      }
    }
  })

  it('returns A at alpha 0 and B at alpha 1 exactly, even where the other is 0 (sd-mecha gives NaN)', async () => {
    const a = Float32Array.from([1.5, 0, -2, -0, 3])
    const b = Float32Array.from([0, 4, -0, 2, -1])
    expectSameValues((await runMethod('geometric_sum', { inputs: [a, b], params: { alpha: 0 } })).output, a)
    expectSameValues((await runMethod('geometric_sum', { inputs: [a, b], params: { alpha: 1 } })).output, b)
  })

  it('at alpha 0.5: √(AB) for equal signs, −√(AB) for two negatives, exactly 0 for mixed signs', async () => {
    const a = Float32Array.from([4, -4, -4, 4, 0])
    const b = Float32Array.from([9, -9, 9, -9, 5])
    const { output } = await runMethod('geometric_sum', { inputs: [a, b] })
    expect([...output]).toEqual([6, -6, 0, 0, 0])
  })

  it('gives NaN for 0 to a negative power (alpha outside 0..1), as the complex power does', async () => {
    const { output } = await runMethod('geometric_sum', { inputs: [[2, 2], [0, 0.5]], params: { alpha: -0.5 } })
    expect(output[0]).toBeNaN()
    expect(output[1]).toBeCloseTo(2 ** 1.5 * 0.5 ** -0.5, 5)
  })

  it('streams: tiny chunks give the same result', async () => {
    const opts = { inputs: [sampleTensor(60, 1), sampleTensor(60, 2)], shape: [12, 5], params: { alpha: 0.3 } }
    expectSameValues((await runMethod('geometric_sum', { ...opts, chunkElements: 3 })).output, (await runMethod('geometric_sum', opts)).output)
  })
})
