import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { naiveGeometricMedian } from './naive-geometric-median'
import { expectClose, sampleTensor } from './sample-tensors'

describe('geometric_median', () => {
  it('matches the float64 Weiszfeld reference on several shapes and model counts', async () => {
    for (const [shape, models] of [[[], 3], [[7], 3], [[6, 5], 4], [[4, 3, 3, 3], 5]] as const) {
      const n = shape.reduce((p, d) => p * d, 1)
      const inputs = Array.from({ length: models }, (_, i) => sampleTensor(n, i + 1))
      for (const maxiter of [0, 1, 5, 100]) {
        const { output } = await runMethod('geometric_median', { inputs, shape, params: { maxiter } })
        expectClose(output, naiveGeometricMedian(inputs, 1e-6, maxiter), 1e-4, 1e-5)
      }
    }
  })

  it('streams: tiny chunks give the single-chunk result', async () => {
    const inputs = [1, 2, 3, 4].map((s) => sampleTensor(300, s))
    const whole = await runMethod('geometric_median', { inputs, shape: [20, 15] })
    for (const chunkElements of [7, 15, 64]) {
      expectClose((await runMethod('geometric_median', { inputs, shape: [20, 15], chunkElements })).output, whole.output, 1e-5, 1e-6)
    }
  })

  it('resists an outlier, unlike the mean', async () => {
    const near = [0, 1, 2].map((s) => Float32Array.from({ length: 50 }, (_, i) => 1 + 0.01 * Math.sin(i + s)))
    const outlier = new Float32Array(50).fill(100)
    const { output } = await runMethod('geometric_median', { inputs: [...near, outlier] })
    for (const v of output) expect(Math.abs(v - 1)).toBeLessThan(0.05)
  })

  it('gives the input for identical inputs and the mean with maxiter 0', async () => {
    const x = sampleTensor(40, 9)
    expect((await runMethod('geometric_median', { inputs: [x, x, x] })).output).toEqual(x)
    expect((await runMethod('geometric_median', { inputs: [x] })).output).toEqual(x)
    const a = sampleTensor(40, 1)
    const b = sampleTensor(40, 2)
    expectClose((await runMethod('geometric_median', { inputs: [a, b], params: { maxiter: 0 } })).output, Float64Array.from(a, (v, i) => (v + b[i]!) / 2))
  })
})
