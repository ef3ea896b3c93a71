import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { expectClose, sampleTensor } from './sample-tensors'

/* Literal 1-D rfft → filter on the half spectrum → irfft, on sequences sorted by C (METHODS.md §7.5). */
function rfftCrossover(a: number[], b: number[], filter: (j: number, m: number) => number): number[] {
  const n = a.length
  const m = Math.floor(n / 2) + 1
  const spectrum = (x: number[], k: number): [number, number] => {
    let re = 0
    let im = 0
    x.forEach((v, j) => {
      const angle = (-2 * Math.PI * ((j * k) % n)) / n
      re += v * Math.cos(angle)
      im += v * Math.sin(angle)
    })
    return [re, im]
  }
  const mixed = Array.from({ length: m }, (_, k) => {
    const f = filter(k, m)
    const [ar, ai] = spectrum(a, k)
    const [br, bi] = spectrum(b, k)
    return [(1 - f) * ar + f * br, (1 - f) * ai + f * bi] as const
  })
  return Array.from({ length: n }, (_, j) => {
    let sum = 0
    for (let k = 0; k < n; k++) {
      const [re, im] = k < m ? mixed[k]! : [mixed[n - k]![0], -mixed[n - k]![1]]
      const angle = (2 * Math.PI * ((j * k) % n)) / n
      sum += re * Math.cos(angle) - im * Math.sin(angle)
    }
    return sum / n
  })
}

function naive(a: Float32Array, b: Float32Array, c: Float32Array, filter: (j: number, m: number) => number): Float64Array {
  const order = Array.from(c, (v, i) => [v, i] as const)
    .sort((p, q) => p[0] - q[0] || p[1] - q[1])
    .map(([, i]) => i)
  const mixed = rfftCrossover(
    order.map((i) => a[i]!),
    order.map((i) => b[i]!),
    filter,
  )
  const out = new Float64Array(a.length)
  order.forEach((i, r) => (out[i] = mixed[r]!))
  return out
}

function mechaFilter(alpha: number, tilt: number): (j: number, m: number) => number {
  return (j, m) => {
    const mesh = m === 1 ? 0 : j / (m - 1)
    if (tilt === 0) return mesh > 1 - alpha ? 1 : 0
    const cot = 1 / Math.tan((Math.PI * tilt) / 2)
    return Math.min(1, Math.max(0, tilt <= 1 ? mesh * cot + alpha * cot + alpha - cot : mesh * cot - alpha * cot + alpha))
  }
}

function mehFilter(alpha: number, beta: number): (j: number, m: number) => number {
  return (j, m) => (beta > 1e-10 ? Math.min(1, Math.max(0, (j / m - alpha) / beta + 0.5)) : j / m >= alpha ? 1 : 0)
}

describe('distribution_crossover', () => {
  it('matches the literal rfft reference for both variants, with ties in C', async () => {
    for (const [shape, n] of [[[9], 9], [[6, 5], 30], [[4, 2, 2, 2], 32]] as const) {
      const a = sampleTensor(n, 1)
      const b = sampleTensor(n, 2)
      // coarse values: many ties, resolved by position
      const c = sampleTensor(n, 3).map((v) => Math.round(v * 2) / 2)
      for (const [alpha, tilt] of [[0.3, 0], [0.5, 0.5], [0.8, 1.5], [0.4, 2.3]] as const) {
        const { output } = await runMethod('distribution_crossover', { inputs: [a, b, c], shape, params: { alpha, tilt } })
        expectClose(output, naive(a, b, c, mechaFilter(alpha, tilt % 2)), 1e-4, 1e-5)
      }
      for (const [alpha, beta] of [[0.3, 0], [0.5, 0.2], [0, 0]] as const) {
        const { output } = await runMethod('distribution_crossover', { inputs: [a, b, c], shape, params: { variant: 'meh', alpha, beta } })
        expectClose(output, naive(a, b, c, mehFilter(alpha, beta)), 1e-4, 1e-5)
      }
    }
  })

  it('takes A at alpha 0 and B at alpha 1 (mecha), B at alpha 0 (meh), and keeps the 0-dim formulas', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(20, s)) as [Float32Array, Float32Array, Float32Array]
    expect((await runMethod('distribution_crossover', { inputs: [a, b, c], params: { alpha: 0 } })).output).toEqual(a)
    expect((await runMethod('distribution_crossover', { inputs: [a, b, c], params: { alpha: 1 } })).output).toEqual(b)
    expectClose((await runMethod('distribution_crossover', { inputs: [a, b, c], params: { variant: 'meh', alpha: 0 } })).output, b)
    expectClose((await runMethod('distribution_crossover', { inputs: [[1], [3], [0]], shape: [], params: { alpha: 0.25 } })).output, [1.5])
    expectClose((await runMethod('distribution_crossover', { inputs: [[1], [3], [0]], shape: [], params: { variant: 'meh', alpha: 0.25 } })).output, [2.5])
  })

  it('gives A when A and B are the same, whatever C', async () => {
    const a = sampleTensor(25, 4)
    const c = sampleTensor(25, 5)
    const cases: Record<string, number | string>[] = [{ alpha: 0.5, tilt: 0.3 }, { variant: 'meh', alpha: 0.4, beta: 0.1 }]
    for (const params of cases) {
      expectClose((await runMethod('distribution_crossover', { inputs: [a, a, c], params })).output, a)
    }
  })
})
