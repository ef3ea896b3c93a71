import { describe, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

function naiveTripleSum(a: Float32Array, b: Float32Array, c: Float32Array, alpha: number, beta: number): Float64Array {
  return Float64Array.from(a, (x, i) => (1 - alpha - beta) * x + alpha * b[i]! + beta * c[i]!)
}

describe('triple_sum', () => {
  it('matches (1 − α − β)A + αB + βC on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      for (const [alpha, beta] of [[0.2, 0.3], [0.33, 0.33], [0.8, 0.6]] as const) {
        const { output } = await runMethod('triple_sum', { inputs: [a, b, c], shape, params: { alpha, beta } })
        expectClose(output, naiveTripleSum(a, b, c, alpha, beta))
      }
    }
  })

  it('copies the model that takes the whole weight exactly', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(20, s)) as [Float32Array, Float32Array, Float32Array]
    const run = async (alpha: number, beta: number): Promise<Float32Array> => (await runMethod('triple_sum', { inputs: [a, b, c], params: { alpha, beta } })).output
    expectSameValues(await run(0, 0), a)
    expectSameValues(await run(1, 0), b)
    expectSameValues(await run(0, 1), c)
  })

  it('is the identity for three identical inputs', async () => {
    const x = sampleTensor(30, 4)
    expectClose((await runMethod('triple_sum', { inputs: [x, x, x], params: { alpha: 0.3, beta: 0.45 } })).output, x)
  })

  it('streams: tiny chunks give the same result', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(60, s))
    const opts = { inputs: [a!, b!, c!], shape: [6, 10], params: { alpha: 0.25, beta: 0.5 } }
    expectSameValues((await runMethod('triple_sum', { ...opts, chunkElements: 4 })).output, (await runMethod('triple_sum', opts)).output)
  })
})
