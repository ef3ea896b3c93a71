import { describe, expect, it } from 'vitest'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'
import { cos, normalize } from '../support/naive-vectors'

/*
 * Naive float64 add_cosine (METHODS.md §5.1): the tensor as (shape[0], rest); one similarity per
 * column over the rows, k = 1 − clip(s − α, 0, 1), out = A + k·(B − A) with k broadcast over the rows.
 */

function naiveAddCosine(a: Float32Array, b: Float32Array, shape: readonly number[], alpha: number, variant: 'a' | 'b'): Float64Array {
  const rows = shape.length === 0 ? 1 : shape[0]!
  const columns = a.length / rows
  const column = (x: Float32Array, j: number): number[] => Array.from({ length: rows }, (_, r) => x[r * columns + j]!)
  const whole = cos(a, b)
  const k = Array.from({ length: columns }, (_, j) => {
    const s = variant === 'a' ? cos(normalize(column(a, j)), normalize(column(b, j))) : (cos(column(a, j), column(b, j)) + whole) / 2
    return 1 - Math.min(Math.max(s - alpha, 0), 1)
  })
  return Float64Array.from(a, (x, i) => x + k[i % columns]! * (b[i]! - x))
}

describe('add_cosine', () => {
  it('matches the float64 reference on every shape, for both variants', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const a = sampleTensor(n, 1)
      const b = Float32Array.from(sampleTensor(n, 2), (y, i) => 0.6 * a[i]! + y)
      for (const variant of ['a', 'b'] as const) {
        for (const alpha of [0, 0.35, 0.8]) {
          const { output } = await runMethod('add_cosine', { inputs: [a, b], shape, params: { alpha, variant } })
          expectClose(output, naiveAddCosine(a, b, shape, alpha, variant))
        }
      }
    }
  })

  it('keeps agreeing columns from A and takes opposite ones from B', async () => {
    // column 0: B = A, column 1: B = −A, column 2: B ⟂ A
    const a = Float32Array.from([1, 2, 0, 3, -1, 1, -2, 4, 0])
    const b = Float32Array.from([1, -2, 0, 3, 1, 0, -2, -4, 5])
    const { output } = await runMethod('add_cosine', { inputs: [a, b], shape: [3, 3], params: { alpha: 0, variant: 'a' } })
    expectClose(output, Float64Array.from([1, -2, 0, 3, 1, 0, -2, -4, 5]))
  })

  it('streams: rows split across chunks and many rows per chunk give the reference result', async () => {
    const cases: [readonly number[], number[]][] = [
      [[6, 50], [7, 16, 50, 1 << 20]],
      [[40, 3], [4, 16, 1 << 20]],
      [[4, 3, 3, 3], [10, 27, 64]],
      [[300], [16]],
    ]
    for (const [shape, chunks] of cases) {
      const n = numel(shape)
      const a = sampleTensor(n, 3)
      const b = Float32Array.from(sampleTensor(n, 4), (y, i) => 0.8 * a[i]! + 0.5 * y)
      for (const variant of ['a', 'b'] as const) {
        const expected = naiveAddCosine(a, b, shape, 0.4, variant)
        for (const chunkElements of chunks) {
          expectClose((await runMethod('add_cosine', { inputs: [a, b], shape, params: { alpha: 0.4, variant }, chunkElements })).output, expected)
        }
      }
    }
  })

  it('keeps identical inputs and gives B exactly at alpha 1', async () => {
    const a = sampleTensor(60, 5)
    const b = sampleTensor(60, 6)
    for (const variant of ['a', 'b'] as const) {
      expectClose((await runMethod('add_cosine', { inputs: [a, a], shape: [6, 10], params: { alpha: 0.3, variant } })).output, a)
      expectSameValues((await runMethod('add_cosine', { inputs: [a, b], shape: [6, 10], params: { alpha: 1, variant } })).output, b)
    }
  })

  it('treats a zero tensor as dissimilar (variant b: no NaN, unlike sd-mecha)', async () => {
    const zero = new Float32Array(12)
    const b = sampleTensor(12, 7)
    for (const variant of ['a', 'b'] as const) {
      expectSameValues((await runMethod('add_cosine', { inputs: [zero, b], shape: [3, 4], params: { alpha: 0, variant } })).output, b)
      expectSameValues((await runMethod('add_cosine', { inputs: [zero, zero], shape: [3, 4], params: { alpha: 0, variant } })).output, zero)
    }
  })

  it('writes nothing for an empty tensor', async () => {
    expect((await runMethod('add_cosine', { inputs: [[], []], shape: [0, 5] })).output).toHaveLength(0)
  })

  it('resolves the sd-mecha names to their variants', async () => {
    expect(resolveMethod('add_cosine_a').fixedParams).toEqual({ variant: 'a' })
    expect(resolveMethod('add_cosine_b').fixedParams).toEqual({ variant: 'b' })
    const a = sampleTensor(30, 8)
    const b = sampleTensor(30, 9)
    expectClose((await runMethod('add_cosine_b', { inputs: [a, b], shape: [5, 6], params: { alpha: 0.1 } })).output, naiveAddCosine(a, b, [5, 6], 0.1, 'b'))
  })
})
