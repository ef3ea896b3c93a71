import { describe, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

describe('subtract', () => {
  it('computes A − B on every shape', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape)
      const [a, b] = [sampleTensor(n, 1), sampleTensor(n, 2)]
      expectClose((await runMethod('subtract', { inputs: [a, b], shape })).output, Float64Array.from(a, (x, i) => x - b[i]!))
    }
  })

  it('gives zeros for identical inputs and streams in chunks', async () => {
    const a = sampleTensor(60, 1)
    expectSameValues((await runMethod('subtract', { inputs: [a, a], shape: [6, 10], chunkElements: 7 })).output, new Float32Array(60))
  })
})
