import { describe, expect, it } from 'vitest'
import { stableArgsort } from '../../src-main/engine/compute/argsort'
import { runMethod } from '../support/run-method'
import { SHAPES, expectSameValues, numel, sampleTensor } from './sample-tensors'

/** METHODS.md §7.3 with Array.prototype.sort (stable) and a band without half-way rounding cases */
function naiveTopKTensorSum(a: Float32Array, b: Float32Array, width: number, offset: number, strictLow: boolean): Float32Array {
  const n = a.length
  const sorted = Array.from(a).sort((x, y) => x - y)
  const order = Array.from(b, (_, i) => i).sort((i, j) => b[i]! - b[j]!)
  const magnitudes = Array.from(a, Math.abs).sort((x, y) => x - y)
  const inverted = width + offset > 1
  const [lo, hi] = inverted ? [Math.round((width + offset - 1) * n), Math.round(offset * n)] : [Math.round(offset * n), Math.round((width + offset) * n)]
  const kth = (k: number): number => (k <= 0 ? -1 : magnitudes[k - 1]!)
  const [tLow, tHigh] = [kth(lo), kth(hi)]
  const out = a.slice()
  order.forEach((i, j) => {
    const m = Math.abs(sorted[j]!)
    const inBand = (strictLow ? tLow < m : tLow <= m) && m <= tHigh
    if (inBand !== inverted) out[i] = sorted[j]!
  })
  return out
}

describe('top_k_tensor_sum', () => {
  it('gives A\'s values in B\'s order by default, on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b] = [1, 2].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array]
      const { output } = await runMethod('top_k_tensor_sum', { inputs: [a, b], shape })
      expectSameValues(output, naiveTopKTensorSum(a, b, 1, 0, false))
      // same multiset of values as A
      expect(Array.from(output).sort()).toEqual(Array.from(a).sort())
    }
  })

  it('moves only the magnitude band, wrapping past the end, for both variants', async () => {
    // n = 100 keeps the band ends off half-way cases (Math.round here, half-to-even in the kernel)
    const n = 100
    const [a, b] = [1, 2].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array]
    for (const [width, offset] of [[0.3, 0.2], [0.5, 0.7], [0.12, 0]] as const) {
      for (const variant of ['sd_mecha', 'meh'] as const) {
        const { output } = await runMethod('top_k_tensor_sum', { inputs: [a, b], params: { width, offset, variant } })
        const expected = naiveTopKTensorSum(a, b, width, offset, variant === 'meh')
        expectSameValues(output, expected)
        expect(output).not.toEqual(a)
      }
    }
  })

  it('the meh variant excludes the lower threshold itself', async () => {
    // band [1, 3): thresholds = the 1st and 3rd smallest |A| = 1 and 3; B's ascending order is 3, 2, 1, 0,
    // so the j-th smallest value of A in the band goes to position 3 − j, the rest stay
    const a = Float32Array.from([1, 2, 3, 4])
    const b = Float32Array.from([4, 3, 2, 1])
    expectSameValues((await runMethod('top_k_tensor_sum', { inputs: [a, b], params: { width: 0.5, offset: 0.25 } })).output, Float32Array.from([1, 3, 2, 1]))
    expectSameValues((await runMethod('top_k_tensor_sum', { inputs: [a, b], params: { width: 0.5, offset: 0.25, variant: 'meh' } })).output, Float32Array.from([1, 3, 2, 4]))
  })

  it('width 0 keeps A; B = A keeps A', async () => {
    const [a, b] = [1, 2].map((s) => sampleTensor(40, s)) as [Float32Array, Float32Array]
    expectSameValues((await runMethod('top_k_tensor_sum', { inputs: [a, b], params: { width: 0 } })).output, a)
    const distinct = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3)
    expectSameValues((await runMethod('top_k_tensor_sum', { inputs: [distinct, distinct] })).output, distinct)
  })

  it('stableArgsort orders by value, ties by index, -0 equal to 0, NaN last', () => {
    const x = Float32Array.from([3, -1, 0, -0, NaN, -1, 2.5, -1e30, 1e-40, 0])
    expect(Array.from(stableArgsort(x))).toEqual([7, 1, 5, 2, 3, 9, 8, 6, 0, 4])
    const big = sampleTensor(5000, 3)
    const naive = Array.from(big, (_, i) => i).sort((i, j) => big[i]! - big[j]!)
    expect(Array.from(stableArgsort(big))).toEqual(naive)
  })
})
