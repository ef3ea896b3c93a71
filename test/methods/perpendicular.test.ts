import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

/** y − x·⟨x, y⟩/‖x‖² in float64; zeros when x is zero (sd-mecha's NaN → zeros) */
function naivePerp(x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  let xx = 0
  let xy = 0
  for (let i = 0; i < x.length; i++) {
    xx += x[i]! * x[i]!
    xy += x[i]! * y[i]!
  }
  const out = new Float64Array(x.length)
  if (xx === 0) return out
  for (let i = 0; i < x.length; i++) out[i] = y[i]! - x[i]! * (xy / xx)
  return out
}

function naiveAddPerpendicular(a: Float32Array, b: Float32Array, c: Float32Array, alpha: number): Float64Array {
  const perp = naivePerp(
    Float64Array.from(a, (x, i) => x - c[i]!),
    Float64Array.from(b, (y, i) => y - c[i]!),
  )
  return Float64Array.from(a, (x, i) => x + alpha * perp[i]!)
}

function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!
  return s
}

describe('perpendicular_component', () => {
  it('matches B − A·⟨A, B⟩/‖A‖² on every shape and is orthogonal to A', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const a = sampleTensor(n, 1)
      const b = sampleTensor(n, 2)
      const { output } = await runMethod('perpendicular_component', { inputs: [a, b], shape })
      expectClose(output, naivePerp(a, b), 1e-5, 1e-6)
      expect(Math.abs(dot(output, a))).toBeLessThan(1e-5 * Math.sqrt(dot(a, a) * dot(b, b)) + 1e-6)
    }
  })

  it('gives zeros for a zero A, and about zero for B parallel to A', async () => {
    const b = sampleTensor(20, 3)
    expectSameValues((await runMethod('perpendicular_component', { inputs: [new Float32Array(20), b] })).output, new Float32Array(20))
    const a = sampleTensor(20, 4)
    expectClose((await runMethod('perpendicular_component', { inputs: [a, Float32Array.from(a, (x) => -3 * x)] })).output, new Float64Array(20), 0, 1e-5)
  })

  it('gives zeros and a warning when the inputs hold NaN or inf', async () => {
    for (const bad of [NaN, Infinity]) {
      const a = sampleTensor(10, 5)
      const b = sampleTensor(10, 6)
      b[4] = bad
      const { output, warnings } = await runMethod('perpendicular_component', { inputs: [a, b] })
      expectSameValues(output, new Float32Array(10))
      expect(warnings).toHaveLength(1)
    }
  })
})

describe('add_perpendicular', () => {
  it('matches A + α·perp(A − C, B − C) on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      for (const alpha of [1, 0.4, -0.7]) {
        const { output } = await runMethod('add_perpendicular', { inputs: [a, b], base: c, shape, params: { alpha } })
        expectClose(output, naiveAddPerpendicular(a, b, c, alpha), 1e-5, 1e-5)
      }
    }
  })

  it("adds only what is orthogonal to A's change", async () => {
    const [a, b, c] = [7, 8, 9].map((s) => sampleTensor(48, s)) as [Float32Array, Float32Array, Float32Array]
    const { output } = await runMethod('add_perpendicular', { inputs: [a, b], base: c, shape: [4, 12] })
    const added = Float64Array.from(output, (x, i) => x - a[i]!)
    const change = Float64Array.from(a, (x, i) => x - c[i]!)
    expect(Math.abs(dot(added, change))).toBeLessThan(1e-4)
  })

  it('keeps A exactly at alpha 0 and where A equals C (an empty change)', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(21, s)) as [Float32Array, Float32Array, Float32Array]
    a[0] = -0
    expectSameValues((await runMethod('add_perpendicular', { inputs: [a, b], base: c, params: { alpha: 0 } })).output, a)
    expectSameValues((await runMethod('add_perpendicular', { inputs: [a, b], base: a })).output, a)
  })

  it('streams: statistics split over tiny chunks give the reference result', async () => {
    const shape = [6, 50]
    const [a, b, c] = [4, 5, 6].map((s) => sampleTensor(300, s)) as [Float32Array, Float32Array, Float32Array]
    const expected = naiveAddPerpendicular(a, b, c, 0.8)
    for (const chunkElements of [7, 16, 120, 1 << 20]) {
      expectClose((await runMethod('add_perpendicular', { inputs: [a, b], base: c, shape, params: { alpha: 0.8 }, chunkElements })).output, expected, 1e-5, 1e-5)
    }
  })

  it('needs a base', async () => {
    const x = sampleTensor(4, 1)
    await expect(runMethod('add_perpendicular', { inputs: [x, x] })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('base'))
  })
})
