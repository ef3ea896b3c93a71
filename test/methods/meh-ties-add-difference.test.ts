import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

/**
 * meh ties_add_difference (METHODS.md §6.2, §1.5) in float64 on float32 differences: threshold =
 * j-th smallest |δ| with j = max(trunc((1 − β)n), 1); sign by count; mean of the agreeing; C + α·mean.
 */
function naiveMehTies(a: Float32Array, b: Float32Array, c: Float32Array, alpha: number, beta: number): Float64Array {
  const n = c.length
  const deltas = [a, b].map((m) => Float32Array.from(m, (x, i) => x - c[i]!))
  const trimmed = deltas.map((d) => {
    const sorted = Array.from(d, Math.abs).sort((x, y) => x - y)
    const tau = sorted[Math.max(Math.trunc((1 - beta) * n), 1) - 1]!
    return Float64Array.from(d, (x) => (Math.abs(x) >= tau ? x : 0))
  })
  return Float64Array.from(c, (z, i) => {
    const values = trimmed.map((t) => t[i]!)
    const vote = Math.sign(values.reduce((s, v) => s + Math.sign(v), 0))
    const agreeing = values.filter((v) => Math.sign(v) === vote)
    const mean = agreeing.length === 0 ? 0 : agreeing.reduce((s, v) => s + v, 0) / agreeing.length
    return z + alpha * mean
  })
}

describe('meh_ties_add_difference', () => {
  it('matches a float64 reference on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      for (const [alpha, beta] of [[1, 0.2], [0.6, 0.5], [1.3, 1], [1, 0]] as const) {
        const { output } = await runMethod('meh_ties_add_difference', { inputs: [a, b], base: c, shape, params: { alpha, beta } })
        expectClose(output, naiveMehTies(a, b, c, alpha, beta))
      }
    }
  })

  it('elects by sign count and builds on C: opposite moves cancel to C, one-sided moves are kept whole', async () => {
    const c = Float32Array.from([1, 1, 1, 1])
    // deltas: (+3, −1) opposite → 0; (+2, +4) agree → 3; (0, −2) only B moved → −2; (+1, +1) → 1
    const a = Float32Array.from([4, 3, 1, 2])
    const b = Float32Array.from([0, 5, -1, 2])
    expectClose((await runMethod('meh_ties_add_difference', { inputs: [a, b], base: c, params: { beta: 1 } })).output, [1, 4, -1, 2])
  })

  it('gives C at alpha 0 and where A = B = C', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(30, s)) as [Float32Array, Float32Array, Float32Array]
    expectSameValues((await runMethod('meh_ties_add_difference', { inputs: [a, b], base: c, params: { alpha: 0 } })).output, c)
    expectClose((await runMethod('meh_ties_add_difference', { inputs: [c, c], base: c })).output, c, 0, 0)
  })

  it('needs a base', async () => {
    const x = sampleTensor(4, 1)
    await expect(runMethod('meh_ties_add_difference', { inputs: [x, x] })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE') && e.message.includes('base'))
  })

  it('streams: tiny chunks give the same result', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(108, s)) as [Float32Array, Float32Array, Float32Array]
    const opts = { inputs: [a, b], base: c, shape: [4, 3, 3, 3], params: { beta: 0.3 } }
    expectSameValues((await runMethod('meh_ties_add_difference', { ...opts, chunkElements: 7 })).output, (await runMethod('meh_ties_add_difference', opts)).output)
  })
})
