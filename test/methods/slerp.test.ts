import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

/*
 * Naive float64 slerps written from METHODS.md §4.1 / §4.2: normalise, dot, arccos, recombine.
 */

function norm(x: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!
  return Math.sqrt(s)
}

function naiveLerp(a: Float32Array, b: Float32Array, t: number): Float64Array {
  return Float64Array.from(a, (x, i) => x + t * (b[i]! - x))
}

function naiveMecha(a: Float32Array, b: Float32Array, alpha: number): Float64Array {
  const na = norm(a)
  const nb = norm(b)
  const ua = Float64Array.from(a, (x) => x / na)
  const ub = Float64Array.from(b, (x) => x / nb)
  let dot = 0
  for (let i = 0; i < a.length; i++) dot += ua[i]! * ub[i]!
  dot = Math.min(1, Math.max(-1, dot))
  const omega = Math.acos(dot)
  const scale = (1 - alpha) * na + alpha * nb
  const res = Float64Array.from(ua, (x, i) => ((x * Math.sin((1 - alpha) * omega) + ub[i]! * Math.sin(alpha * omega)) / Math.sin(omega)) * scale)
  // opposite directions: no arc, weighted sum (the app's documented choice)
  if (res.some(Number.isNaN) || dot === -1) return naiveLerp(a, b, alpha)
  return res
}

function naiveMergekit(a: Float32Array, b: Float32Array, t: number): Float64Array {
  const na = norm(a)
  const nb = norm(b)
  const ua = na > 1e-8 ? Float64Array.from(a, (x) => x / na) : Float64Array.from(a)
  const ub = nb > 1e-8 ? Float64Array.from(b, (x) => x / nb) : Float64Array.from(b)
  let dot = 0
  for (let i = 0; i < a.length; i++) dot += ua[i]! * ub[i]!
  if (Math.abs(dot) > 0.9995) return Float64Array.from(a, (x, i) => (1 - t) * x + t * b[i]!)
  const theta = Math.acos(dot)
  const s0 = Math.sin((1 - t) * theta) / Math.sin(theta)
  const s1 = Math.sin(t * theta) / Math.sin(theta)
  return Float64Array.from(a, (x, i) => s0 * x + s1 * b[i]!)
}

const VARIANTS = [
  ['mecha', naiveMecha],
  ['mergekit', naiveMergekit],
] as const

describe('slerp', () => {
  it('matches the float64 references on every shape, for both variants', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const a = sampleTensor(n, 1)
      const b = sampleTensor(n, 2)
      for (const [variant, naive] of VARIANTS) {
        for (const alpha of [0.3, 0.75, 1.4]) {
          const { output } = await runMethod('slerp', { inputs: [a, b], shape, params: { alpha, variant } })
          expectClose(output, naive(a, b, alpha))
        }
      }
    }
  })

  it('streams: whole-tensor statistics split over tiny chunks give the reference result', async () => {
    for (const shape of [[6, 50], [40, 25], [2, 3, 7, 5]]) {
      const n = numel(shape)
      const a = sampleTensor(n, 3)
      const b = sampleTensor(n, 4)
      for (const [variant, naive] of VARIANTS) {
        const expected = naive(a, b, 0.4)
        for (const chunkElements of [7, 16, 64, 1 << 20]) {
          expectClose((await runMethod('slerp', { inputs: [a, b], shape, params: { alpha: 0.4, variant }, chunkElements })).output, expected)
        }
      }
    }
  })

  it('returns A at alpha 0 and B at alpha 1 exactly', async () => {
    const a = sampleTensor(30, 5)
    const b = sampleTensor(30, 6)
    for (const variant of ['mecha', 'mergekit']) {
      expectSameValues((await runMethod('slerp', { inputs: [a, b], params: { alpha: 0, variant } })).output, a)
      expectSameValues((await runMethod('slerp', { inputs: [a, b], params: { alpha: 1, variant } })).output, b)
    }
  })

  it('keeps identical inputs', async () => {
    const a = sampleTensor(60, 7)
    for (const variant of ['mecha', 'mergekit']) {
      const { output, warnings } = await runMethod('slerp', { inputs: [a, a], shape: [6, 10], params: { alpha: 0.37, variant } })
      expectClose(output, a)
      expect(warnings).toEqual([])
    }
  })

  it('handles zero tensors as each upstream does', async () => {
    const zero = new Float32Array(12)
    const b = sampleTensor(12, 8)
    // mecha: the zero norm makes the arc NaN, so it falls back to the weighted sum
    expectClose((await runMethod('slerp', { inputs: [zero, b], params: { alpha: 0.25, variant: 'mecha' } })).output, naiveLerp(zero, b, 0.25))
    // mergekit: a zero tensor is left unnormalised, cos = 0, θ = π/2
    expectClose((await runMethod('slerp', { inputs: [zero, b], params: { alpha: 0.25, variant: 'mergekit' } })).output, Float64Array.from(b, (y) => Math.sin(0.25 * Math.PI / 2) * y))
    for (const variant of ['mecha', 'mergekit']) {
      expectSameValues((await runMethod('slerp', { inputs: [zero, zero], params: { alpha: 0.6, variant } })).output, zero)
    }
  })

  it('mixes opposite tensors linearly (mecha warns: no arc is defined)', async () => {
    const a = sampleTensor(24, 9)
    for (const factor of [-1, -2]) {
      const b = Float32Array.from(a, (x) => factor * x)
      const mecha = await runMethod('slerp', { inputs: [a, b], params: { alpha: 0.3, variant: 'mecha' } })
      expectClose(mecha.output, naiveLerp(a, b, 0.3))
      expect(mecha.warnings).toHaveLength(1)
      expect(mecha.warnings[0]).toMatch(/opposite directions/)
      const mergekit = await runMethod('slerp', { inputs: [a, b], params: { alpha: 0.3, variant: 'mergekit' } })
      expectClose(mergekit.output, naiveLerp(a, b, 0.3))
      expect(mergekit.warnings).toEqual([])
    }
  })

  it('mecha interpolates the norm linearly; the variants agree when the norms are equal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), async (seed, alpha) => {
        const a = sampleTensor(40, seed)
        const raw = sampleTensor(40, seed + 1)
        const b = Float32Array.from(raw, (y) => (y * norm(a)) / norm(raw))
        const mecha = (await runMethod('slerp', { inputs: [a, b], params: { alpha, variant: 'mecha' } })).output
        const mergekit = (await runMethod('slerp', { inputs: [a, b], params: { alpha, variant: 'mergekit' } })).output
        expectClose(mecha, mergekit, 1e-4, 1e-5)
        const wider = Float32Array.from(b, (y) => 3 * y)
        const out = (await runMethod('slerp', { inputs: [a, wider], params: { alpha, variant: 'mecha' } })).output
        expect(norm(out)).toBeCloseTo((1 - alpha) * norm(a) + alpha * norm(wider), 4)
      }),
      { numRuns: 25 },
    )
  })

  it('writes nothing for an empty tensor', async () => {
    expect((await runMethod('slerp', { inputs: [[], []], shape: [0, 4] })).output).toHaveLength(0)
  })

  it('defaults to mergekit; the aliases fix the variant', async () => {
    expect(resolveMethod('slerp').method.params.variant).toMatchObject({ default: 'mergekit' })
    expect(resolveMethod('slerp_mecha').fixedParams).toEqual({ variant: 'mecha' })
    expect(resolveMethod('slerp_mergekit').fixedParams).toEqual({ variant: 'mergekit' })
    const a = sampleTensor(20, 10)
    const b = Float32Array.from(sampleTensor(20, 11), (y) => 2 * y)
    expectClose((await runMethod('slerp_mecha', { inputs: [a, b], params: { alpha: 0.5 } })).output, naiveMecha(a, b, 0.5))
    expectClose((await runMethod('slerp_mergekit', { inputs: [a, b], params: { alpha: 0.5 } })).output, naiveMergekit(a, b, 0.5))
    await expect(runMethod('slerp_mecha', { inputs: [a, b], params: { variant: 'mergekit' } })).rejects.toThrow(/fixes variant/)
  })
})
