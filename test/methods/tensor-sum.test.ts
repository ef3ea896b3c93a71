import { describe, expect, it } from 'vitest'
import { ratioToRegion, roundHalfEven } from '../../src-main/engine/methods/region'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { expectSameValues, numel, sampleTensor } from './sample-tensors'

/** output built index by index: element i comes from B when `fromB(row, column)` says so, else from A */
function naiveCopy(shape: readonly number[], a: Float32Array, b: Float32Array, fromB: (row: number, column: number) => boolean): Float32Array {
  const rowLength = shape.length === 0 ? 1 : numel(shape.slice(1))
  const inner = shape.length >= 2 ? numel(shape.slice(2)) : 1
  return Float32Array.from(a, (x, i) => (fromB(Math.floor(i / rowLength), Math.floor((i % rowLength) / inner)) ? b[i]! : x))
}

/** Python's a[s:e] membership for index i of an axis of n */
function inPySlice(i: number, s: number, e: number, n: number): boolean {
  const norm = (v: number): number => (v < 0 ? Math.max(0, v + n) : Math.min(v, n))
  return i >= norm(s) && i < norm(e)
}

/** supermerger's "tensor" (dim 0) and "tensor2" (dim 1, with its size rule), written from METHODS.md §7.2 */
function naiveSupermerger(shape: readonly number[], a: Float32Array, b: Float32Array, alpha: number, beta: number, dim1: boolean): Float32Array {
  const alongColumns = dim1 && shape.length >= 2
  const n0 = shape[0]!
  const size = alongColumns ? shape[1]! : n0
  const n = alongColumns && shape[1]! > 100 ? shape[1]! : n0
  const wraps = alpha + beta > 1
  const s = Math.trunc(wraps ? n * (alpha + beta - 1) : n * beta)
  const e = Math.trunc(wraps ? n * beta : n * (alpha + beta))
  return naiveCopy(shape, a, b, (row, column) => inPySlice(alongColumns ? column : row, s, e, size) !== wraps)
}

async function tensorSum(shape: readonly number[], a: Float32Array, b: Float32Array, params: Record<string, number | string>, chunkElements?: number): Promise<Float32Array> {
  return (await runMethod('tensor_sum', { inputs: [a, b], shape, params, ...(chunkElements ? { chunkElements } : {}) })).output
}

describe('region helper (sd-mecha ratio_to_region)', () => {
  it('rounds halves to even like Python', () => {
    expect([0.5, 1.5, 2.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -2, 2, 3])
  })

  it('matches values computed with Python', () => {
    const cases: [number, number, number, [number, number, boolean]][] = [
      [0.5, 0, 5, [0, 2, false]],
      [0.3, 0.9, 10, [2, 9, true]],
      [-0.25, 0.5, 8, [2, 4, false]],
      [0.5, -0.25, 4, [1, 3, true]],
      [1.5, 0.5, 6, [3, 3, true]],
      [0.5, 1.75, 4, [1, 3, true]],
      [0.25, 0.5, 6, [3, 4, false]],
      [1, 0, 7, [0, 7, false]],
    ]
    for (const [width, offset, n, [start, end, inverted]] of cases) expect(ratioToRegion(width, offset, n)).toEqual({ start, end, inverted })
  })
})

describe('tensor_sum', () => {
  const shapes: readonly (readonly number[])[] = [[7], [10, 4], [6, 4, 3, 3], [8, 120]]

  it('supermerger variant (default): copies the band of rows from B, or A\'s rows into B when it wraps', async () => {
    for (const shape of shapes) {
      const n = numel(shape)
      const [a, b] = [sampleTensor(n, 1), sampleTensor(n, 2)]
      for (const [alpha, beta] of [[0.5, 0], [0.3, 0.25], [0.6, 0.7], [1, 0], [0.4, -0.3], [1.5, 0.2]] as const) {
        expectSameValues(await tensorSum(shape, a, b, { width: alpha, offset: beta }), naiveSupermerger(shape, a, b, alpha, beta, false))
      }
    }
  })

  it('supermerger_tensor2 cuts along dim 1, measuring the band on dim 1 only when it exceeds 100 (upstream quirk)', async () => {
    for (const shape of shapes) {
      const n = numel(shape)
      const [a, b] = [sampleTensor(n, 1), sampleTensor(n, 2)]
      for (const [alpha, beta] of [[0.5, 0], [0.3, 0.25], [0.6, 0.7]] as const) {
        expectSameValues(await tensorSum(shape, a, b, { width: alpha, offset: beta, variant: 'supermerger_tensor2' }), naiveSupermerger(shape, a, b, alpha, beta, true))
      }
    }
    // [10, 4] with width 0.5: the band is [0, 5) measured on the 10 rows, then cut to the 4 columns: all of B
    const [a, b] = [sampleTensor(40, 1), sampleTensor(40, 2)]
    expectSameValues(await tensorSum([10, 4], a, b, { width: 0.5, variant: 'supermerger_tensor2' }), b)
    expect(resolveMethod('tensor2').fixedParams).toEqual({ variant: 'supermerger_tensor2' })
  })

  it('sd_mecha variant follows ratio_to_region with half-to-even rounding', async () => {
    const shape = [6, 3]
    const [a, b] = [sampleTensor(18, 1), sampleTensor(18, 2)]
    // (0.25, 0.5) on 6 rows: [3, 4) from B; supermerger would take trunc(4.5) = 4 too, but (0.25, 0.25): [round(1.5), round(3)) = [2, 3) vs trunc [1, 3)
    expectSameValues(await tensorSum(shape, a, b, { width: 0.25, offset: 0.5, variant: 'sd_mecha' }), naiveCopy(shape, a, b, (row) => row === 3))
    expectSameValues(await tensorSum(shape, a, b, { width: 0.25, offset: 0.25, variant: 'sd_mecha' }), naiveCopy(shape, a, b, (row) => row === 2))
    expectSameValues(await tensorSum(shape, a, b, { width: 0.25, offset: 0.25 }), naiveCopy(shape, a, b, (row) => row === 1 || row === 2))
    // wraps: (0.5, −0.25) on 4-row tensors → inverted [1, 3): rows 1 and 2 from A, the rest from B
    const [c, d] = [sampleTensor(8, 3), sampleTensor(8, 4)]
    expectSameValues(await tensorSum([4, 2], c, d, { width: 0.5, offset: -0.25, variant: 'sd_mecha' }), naiveCopy([4, 2], c, d, (row) => row === 0 || row === 3))
    expect(resolveMethod('copy_region').fixedParams).toEqual({ variant: 'sd_mecha' })
  })

  it('0-dim: supermerger keeps A; sd_mecha takes B when width > 0.5', async () => {
    const [a, b] = [Float32Array.from([1.5]), Float32Array.from([-2])]
    expectSameValues(await tensorSum([], a, b, { width: 1 }), a)
    expectSameValues(await tensorSum([], a, b, { width: 0.5, variant: 'sd_mecha' }), a)
    expectSameValues(await tensorSum([], a, b, { width: 0.6, variant: 'sd_mecha' }), b)
  })

  it('streams by rows: tiny chunks, rows split across chunks, give the same result', async () => {
    for (const variant of ['supermerger', 'supermerger_tensor2', 'sd_mecha']) {
      for (const shape of [[6, 4, 3, 3], [8, 120]]) {
        const n = numel(shape)
        const [a, b] = [sampleTensor(n, 1), sampleTensor(n, 2)]
        const params = { width: 0.45, offset: 0.35, variant }
        expectSameValues(await tensorSum(shape, a, b, params, 7), await tensorSum(shape, a, b, params))
        expectSameValues(await tensorSum(shape, a, b, params, 50), await tensorSum(shape, a, b, params))
      }
    }
  })

  it('handles empty tensors', async () => {
    expect((await tensorSum([0, 3], new Float32Array(0), new Float32Array(0), { variant: 'supermerger_tensor2' })).length).toBe(0)
  })
})
