import { describe, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

function naiveSumTwice(a: Float32Array, b: Float32Array, c: Float32Array, alpha: number, beta: number): Float64Array {
  return Float64Array.from(a, (x, i) => (1 - beta) * ((1 - alpha) * x + alpha * b[i]!) + beta * c[i]!)
}

describe('sum_twice', () => {
  it('matches (1 − β)((1 − α)A + αB) + βC on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      for (const [alpha, beta] of [[0.3, 0.6], [0.5, 0.5], [1.2, -0.2]] as const) {
        const { output } = await runMethod('sum_twice', { inputs: [a, b, c], shape, params: { alpha, beta } })
        expectClose(output, naiveSumTwice(a, b, c, alpha, beta))
      }
    }
  })

  it('copies A, B or C exactly at the corners', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(20, s)) as [Float32Array, Float32Array, Float32Array]
    const run = async (alpha: number, beta: number): Promise<Float32Array> => (await runMethod('sum_twice', { inputs: [a, b, c], params: { alpha, beta } })).output
    expectSameValues(await run(0, 0), a)
    expectSameValues(await run(1, 0), b)
    expectSameValues(await run(0.4, 1), c)
  })

  it('streams: tiny chunks give the same result', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(60, s))
    const opts = { inputs: [a!, b!, c!], shape: [6, 10], params: { alpha: 0.25, beta: 0.75 } }
    expectSameValues((await runMethod('sum_twice', { ...opts, chunkElements: 4 })).output, (await runMethod('sum_twice', opts)).output)
  })
})
