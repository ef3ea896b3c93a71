import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'

describe('weighted_sum', () => {
  it('returns A at alpha 0 and B at alpha 1 exactly', async () => {
    const a = [1.5, -2, 0, 3e-8]
    const b = [-4, 7, 1, 9]
    expect([...(await runMethod('weighted_sum', { inputs: [a, b], params: { alpha: 0 } })).output]).toEqual([...Float32Array.from(a)])
    expect([...(await runMethod('weighted_sum', { inputs: [a, b], params: { alpha: 1 } })).output]).toEqual([...Float32Array.from(b)])
  })

  it('matches a float64 lerp across chunks', async () => {
    const n = 1000
    const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i))
    const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.7))
    const { output } = await runMethod('weighted_sum', { inputs: [a, b], params: { alpha: 0.3 }, shape: [40, 25], chunkElements: 64 })
    for (let i = 0; i < n; i++) expect(output[i]).toBeCloseTo(a[i]! * 0.7 + b[i]! * 0.3, 6)
  })
})
