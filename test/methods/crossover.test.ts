import { describe, expect, it } from 'vitest'
import { runMethod } from '../support/run-method'
import { SHAPES, expectClose, numel, sampleTensor } from './sample-tensors'

/*
 * The reference follows METHODS.md §7.4 literally: rfftn (full DFT over every axis, last axis cut to
 * ⌊s/2⌋ + 1 entries), the filter built from linspace / FFT-order coordinates on that half spectrum,
 * then irfftn = inverse DFT over the other axes and a complex-to-real inverse over the last one.
 */
type Complex = [Float64Array, Float64Array]

function dftAxis([re, im]: Complex, shape: readonly number[], axis: number, inverse: boolean): Complex {
  const n = re.length
  const size = shape[axis]!
  const stride = shape.slice(axis + 1).reduce((p, s) => p * s, 1)
  const outRe = new Float64Array(n)
  const outIm = new Float64Array(n)
  const sign = inverse ? 1 : -1
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i / stride) % size
    const lineStart = i - k * stride
    for (let j = 0; j < size; j++) {
      const angle = (sign * 2 * Math.PI * ((j * k) % size)) / size
      const p = lineStart + j * stride
      outRe[i]! += (re[p]! * Math.cos(angle) - im[p]! * Math.sin(angle)) / (inverse ? size : 1)
      outIm[i]! += (re[p]! * Math.sin(angle) + im[p]! * Math.cos(angle)) / (inverse ? size : 1)
    }
  }
  return [outRe, outIm]
}

function naiveFilter(alpha: number, tilt: number, mesh: number): number {
  const t = tilt - Math.floor(tilt / 4) * 4
  let a = alpha
  const inverted = t > 2
  if (inverted) a = 1 - a
  let f: number
  if (t < 1e-10 || Math.abs(t - 4) < 1e-10) f = mesh > 1 - a ? 1 : 0
  else if (Math.abs(t - 2) < 1e-10) f = mesh < 1 - a ? 1 : 0
  else {
    const cot = 1 / Math.tan((Math.PI * t) / 2)
    f = t <= 1 || (2 < t && t <= 3) ? mesh * cot + a * cot + a - cot : mesh * cot - a * cot + a
    f = Math.min(1, Math.max(0, f))
  }
  return inverted ? 1 - f : f
}

function naiveCrossover(a: Float32Array, b: Float32Array, shape: readonly number[], alpha: number, tilt: number): Float64Array {
  const d = shape.length
  let A: Complex = [Float64Array.from(a), new Float64Array(a.length)]
  let B: Complex = [Float64Array.from(b), new Float64Array(b.length)]
  for (let axis = 0; axis < d; axis++) {
    A = dftAxis(A, shape, axis, false)
    B = dftAxis(B, shape, axis, false)
  }
  const last = shape[d - 1]!
  const half = Math.floor(last / 2) + 1
  const grad = (s: number, k: number, isLast: boolean): number => {
    if (isLast) return half === 1 ? 0 : k / (half - 1)
    if (s === 1) return 0
    return (k <= Math.floor((s - 1) / 2) ? k : s - k) / Math.floor(s / 2)
  }
  const n = a.length
  const mixed: Complex = [new Float64Array(n), new Float64Array(n)]
  const stride = (axis: number): number => shape.slice(axis + 1).reduce((p, s) => p * s, 1)
  for (let i = 0; i < n; i++) {
    const idx = shape.map((s, axis) => Math.floor(i / stride(axis)) % s)
    if (idx[d - 1]! >= half) continue
    const g = idx.map((k, axis) => grad(shape[axis]!, k, axis === d - 1))
    const mesh = d === 1 ? g[0]! : Math.sqrt(g.reduce((s, v) => s + v * v, 0) / d)
    const f = naiveFilter(alpha, tilt, mesh)
    mixed[0][i] = (1 - f) * A[0][i]! + f * B[0][i]!
    mixed[1][i] = (1 - f) * A[1][i]! + f * B[1][i]!
  }
  let X = mixed
  for (let axis = 0; axis < d - 1; axis++) X = dftAxis(X, shape, axis, true)
  // complex-to-real over the last axis: Hermitian extension of the half spectrum, real part
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const j = i % last
    const lineStart = i - j
    let sum = 0
    for (let k = 0; k < last; k++) {
      const [kr, ki] = k < half ? [X[0][lineStart + k]!, X[1][lineStart + k]!] : [X[0][lineStart + last - k]!, -X[1][lineStart + last - k]!]
      const angle = (2 * Math.PI * ((j * k) % last)) / last
      sum += kr * Math.cos(angle) - ki * Math.sin(angle)
    }
    out[i] = sum / last
  }
  return out
}

describe('crossover', () => {
  it('matches the literal rfftn / irfftn reference on every shape, alpha and tilt', async () => {
    for (const shape of [...SHAPES.filter((s) => s.length > 0), [8], [4, 6], [3, 1, 5], [2, 4, 3, 2]]) {
      const n = numel(shape)
      const a = sampleTensor(n, 1)
      const b = sampleTensor(n, 2)
      for (const alpha of [0.3, 0.5, 0.85]) {
        for (const tilt of [0, 0.4, 2, 2.5, 3.5, 4.2, -0.5]) {
          const { output } = await runMethod('crossover', { inputs: [a, b], shape, params: { alpha, tilt } })
          expectClose(output, naiveCrossover(a, b, shape, alpha, tilt), 1e-4, 1e-5)
        }
      }
    }
  })

  it('is A at alpha 0, B at alpha 1, the weighted sum at tilt 1, for 0-dim and for (almost) equal inputs', async () => {
    const shape = [6, 5]
    const a = sampleTensor(30, 3)
    const b = sampleTensor(30, 4)
    expect((await runMethod('crossover', { inputs: [a, b], shape, params: { alpha: 0 } })).output).toEqual(a)
    expect((await runMethod('crossover', { inputs: [a, b], shape, params: { alpha: 1 } })).output).toEqual(b)
    const weighted = Float64Array.from(a, (x, i) => x + 0.3 * (b[i]! - x))
    expectClose((await runMethod('crossover', { inputs: [a, b], shape, params: { alpha: 0.3, tilt: 1 } })).output, weighted)
    expectClose((await runMethod('crossover', { inputs: [[2], [4]], shape: [], params: { alpha: 0.25 } })).output, [2.5])
    const near = a.map((x) => x * (1 + 1e-7))
    expectClose((await runMethod('crossover', { inputs: [a, near], shape, params: { alpha: 0.25 } })).output, Float64Array.from(a, (x, i) => x + 0.25 * (near[i]! - x)))
  })

  it('splits by frequency: a constant comes from A and an alternating signal from B at alpha 0.5', async () => {
    const n = 16
    const a = Float32Array.from({ length: n }, (_, i) => 1 + (i % 2 ? -0.5 : 0.5))
    const b = Float32Array.from({ length: n }, (_, i) => 3 + (i % 2 ? -2 : 2))
    // DC (mesh 0) from A, Nyquist (mesh 1) from B
    expectClose((await runMethod('crossover', { inputs: [a, b], params: { alpha: 0.5 } })).output, Float64Array.from({ length: n }, (_, i) => 1 + (i % 2 ? -2 : 2)))
  })

  it('refuses alpha outside [0, 1]', async () => {
    await expect(runMethod('crossover', { inputs: [[1, 2], [3, 4]], params: { alpha: 1.5 } })).rejects.toThrow(/alpha/)
  })
})
