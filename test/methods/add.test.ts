import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

describe('add', () => {
  it('sums any number of inputs on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const terms = [1, 2, 3, 4].map((s) => sampleTensor(n, s))
      for (const count of [1, 2, 4]) {
        const { output } = await runMethod('add', { inputs: terms.slice(0, count), shape })
        expectClose(output, Float64Array.from(terms[0]!, (_, i) => terms.slice(0, count).reduce((s, t) => s + t[i]!, 0)))
      }
    }
  })

  it('returns a single input unchanged', async () => {
    const a = Float32Array.from([-0, NaN, 2])
    expectSameValues((await runMethod('add', { inputs: [a] })).output, a)
  })

  it('composes task-vector arithmetic: base + ½((legal − base) + (recipe − base))', async () => {
    const shape = [4, 3, 3, 3]
    const [base, legal, recipe] = [1, 2, 3].map((s) => sampleTensor(108, s)) as [Float32Array, Float32Array, Float32Array]
    const subtract = async (x: Float32Array, y: Float32Array): Promise<Float32Array> => (await runMethod('subtract', { inputs: [x, y], shape })).output
    const deltas = (await runMethod('add', { inputs: [await subtract(legal, base), await subtract(recipe, base)], shape })).output
    const halved = (await runMethod('scale', { inputs: [deltas], shape, params: { scale: 0.5 } })).output
    const { output } = await runMethod('add', { inputs: [base, halved], shape })
    expectClose(output, Float64Array.from(base, (x, i) => x + 0.5 * (legal[i]! - x + (recipe[i]! - x))))
  })

  it('streams: tiny chunks give the same result', async () => {
    const terms = [1, 2, 3].map((s) => sampleTensor(60, s))
    const opts = { inputs: terms, shape: [6, 10] }
    expectSameValues((await runMethod('add', { ...opts, chunkElements: 4 })).output, (await runMethod('add', opts)).output)
  })

  it('handles empty tensors', async () => {
    expect((await runMethod('add', { inputs: [new Float32Array(0), new Float32Array(0)], shape: [0] })).output.length).toBe(0)
  })
})
