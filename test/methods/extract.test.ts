import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

interface ExtractParams {
  alpha: number
  beta: number
  gamma: number
  delta: number
  relative: boolean
}

/*
 * Naive float64 extract (METHODS.md §5.3): slices along the LAST axis; per slice c = clip(cos(p, q)),
 * d = ((c + 1)/2)^γ, out = A + δ·((1 − α)p + αq)·((1 − β)d + β(1 − d)).
 */
function naiveExtract(a: Float32Array, b: Float32Array, c: Float32Array, shape: readonly number[], o: ExtractParams, sliceLength = shape.length === 0 ? 1 : shape[shape.length - 1]!): Float64Array {
  const out = new Float64Array(a.length)
  for (let s = 0; s < a.length; s += sliceLength) {
    const p: number[] = []
    const q: number[] = []
    for (let i = s; i < s + sliceLength; i++) {
      p.push(o.relative ? b[i]! - a[i]! : b[i]!)
      q.push(o.relative ? c[i]! - a[i]! : c[i]!)
    }
    let pq = 0
    let pp = 0
    let qq = 0
    for (let e = 0; e < sliceLength; e++) {
      pq += p[e]! * q[e]!
      pp += p[e]! * p[e]!
      qq += q[e]! * q[e]!
    }
    const cos = Math.min(1, Math.max(-1, pq / Math.sqrt(Math.max(pp * qq, 1e-16))))
    const d = Math.pow((cos + 1) / 2, o.gamma)
    const m = (1 - o.beta) * d + o.beta * (1 - d)
    for (let e = 0; e < sliceLength; e++) out[s + e] = a[s + e]! + o.delta * ((1 - o.alpha) * p[e]! + o.alpha * q[e]!) * m
  }
  return out
}

function inputs(n: number, seed: number): [Float32Array, Float32Array, Float32Array] {
  const a = sampleTensor(n, seed)
  // B and C share part of their change from A, so the cosines spread over (−1, 1)
  const shared = sampleTensor(n, seed + 1)
  const b = Float32Array.from(a, (x, i) => x + shared[i]! + 0.7 * sampleTensor(n, seed + 2)[i]!)
  const c = Float32Array.from(a, (x, i) => x + shared[i]! - 0.9 * sampleTensor(n, seed + 3)[i]!)
  return [a, b, c]
}

describe('extract', () => {
  it('matches the float64 reference on every shape, for every variant', async () => {
    for (const shape of SHAPES) {
      const [a, b, c] = inputs(numel(shape), 1)
      for (const [alpha, beta, gamma, delta] of [[0.5, 0, 1, 1], [0.2, 0.7, 2.5, 1.5], [1, 1, 0, -0.5]] as const) {
        const params = { alpha, beta, gamma, delta }
        expectClose((await runMethod('extract', { inputs: [a, b, c], shape, params })).output, naiveExtract(a, b, c, shape, { ...params, relative: true }))
        const untitled = { ...params, gamma: gamma / 10 }
        expectClose(
          (await runMethod('extract', { inputs: [a, b, c], shape, params: { ...untitled, variant: 'untitled' } })).output,
          naiveExtract(a, b, c, shape, { ...untitled, gamma: 1.5 * gamma, relative: true }),
        )
        expectClose(
          (await runMethod('extract', { inputs: [a, b, c], shape, params: { ...untitled, variant: 'untitled_dissimilarities' } })).output,
          naiveExtract(a, b, c, shape, { ...untitled, gamma: 1.5 * gamma, relative: false }),
        )
      }
    }
  })

  it('compares conv weights per last-axis slice, not per output channel', async () => {
    const shape = [4, 3, 3, 3]
    const [a, b, c] = inputs(108, 4)
    const params = { alpha: 0.3, beta: 0.2, gamma: 3, delta: 1, relative: true }
    const { output } = await runMethod('extract', { inputs: [a, b, c], shape, params: { alpha: 0.3, beta: 0.2, gamma: 3 } })
    expectClose(output, naiveExtract(a, b, c, shape, params))
    const perChannel = naiveExtract(a, b, c, shape, params, 27)
    expect(output.some((x, i) => Math.abs(x - perChannel[i]!) > 1e-3)).toBe(true)
  })

  it('streams: slices split across chunks and many slices per chunk give the reference result', async () => {
    const cases: [readonly number[], number[]][] = [
      [[6, 50], [7, 16, 50, 1 << 20]],
      [[40, 3], [4, 16, 1 << 20]],
      [[2, 3, 4, 5], [3, 7, 64]],
      [[300], [16, 100]],
    ]
    const params = { alpha: 0.4, beta: 0.3, gamma: 2, delta: 1.2 }
    for (const [shape, chunks] of cases) {
      const [a, b, c] = inputs(numel(shape), 7)
      const expected = naiveExtract(a, b, c, shape, { ...params, relative: true })
      for (const chunkElements of chunks) {
        expectClose((await runMethod('extract', { inputs: [a, b, c], shape, params, chunkElements })).output, expected)
      }
    }
  })

  it('keeps A at delta 0 and when B and C equal A; adds B − A when B equals C and beta is 0', async () => {
    const [a, b, c] = inputs(40, 9)
    a[1] = -0
    expectSameValues((await runMethod('extract', { inputs: [a, b, c], shape: [4, 10], params: { delta: 0 } })).output, a)
    expectClose((await runMethod('extract', { inputs: [a, a, a], shape: [4, 10], params: { gamma: 0.5, beta: 0.4 } })).output, a)
    // cos = 1 → d = 1 → weight 1 − β
    expectClose(
      (await runMethod('extract', { inputs: [a, b, b], shape: [4, 10], params: { alpha: 0.3, beta: 0.25, gamma: 2, delta: 2 } })).output,
      Float64Array.from(a, (x, i) => x + 2 * 0.75 * (b[i]! - x)),
    )
  })

  it('handles zero changes without NaN (cos 0, d = ½^γ)', async () => {
    const [a, b] = inputs(12, 11)
    const { output } = await runMethod('extract', { inputs: [a, b, a], shape: [3, 4], params: { alpha: 0, beta: 0, gamma: 1 } })
    expectClose(output, naiveExtract(a, b, a, [3, 4], { alpha: 0, beta: 0, gamma: 1, delta: 1, relative: true }))
  })

  it('writes nothing for an empty tensor', async () => {
    expect((await runMethod('extract', { inputs: [[], [], []], shape: [3, 0] })).output).toHaveLength(0)
  })

  it("refuses alpha and beta outside 0..1 and a negative gamma, as SuperMerger's asserts do", async () => {
    const [a, b, c] = inputs(4, 1)
    for (const params of [{ alpha: 1.5 }, { beta: -0.1 }, { gamma: -1 }] as Record<string, number>[]) {
      await expect(runMethod('extract', { inputs: [a, b, c], params })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE'))
    }
  })

  it('add_dissimilarities fixes beta 1 on the untitled dissimilarities variant', async () => {
    expect(resolveMethod('add_dissimilarities').fixedParams).toEqual({ variant: 'untitled_dissimilarities', beta: 1 })
    expect(resolveMethod('extract_untitled').fixedParams).toEqual({ variant: 'untitled' })
    const [a, b, c] = inputs(30, 12)
    const { output } = await runMethod('add_dissimilarities', { inputs: [a, b, c], shape: [5, 6], params: { alpha: 0.6, gamma: 0.1, delta: 0.8 } })
    expectClose(output, naiveExtract(a, b, c, [5, 6], { alpha: 0.6, beta: 1, gamma: 1.5, delta: 0.8, relative: false }))
  })
})
