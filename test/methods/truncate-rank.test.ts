import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { Rng } from '../../src-main/engine/compute/rng'
import { runMethod } from '../support/run-method'
import { expectClose, expectSameValues, sampleTensor } from './sample-tensors'

/*
 * Reference: the exact best rank-r approximation in float64, by power iteration with deflation on
 * AᵀA (independent of the kernel's randomized range finder and Jacobi solver).
 */
function naiveTruncate(a: ArrayLike<number>, rows: number, cols: number, rank: number): Float64Array {
  const residual = Float64Array.from(a)
  const out = new Float64Array(rows * cols)
  for (let k = 0; k < rank; k++) {
    let v = Float64Array.from({ length: cols }, (_, j) => 1 + 0.37 * Math.sin(j + k))
    let sigma = 0
    for (let it = 0; it < 20000; it++) {
      const u = new Float64Array(rows)
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) u[i]! += residual[i * cols + j]! * v[j]!
      const w = new Float64Array(cols)
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) w[j]! += residual[i * cols + j]! * u[i]!
      const norm = Math.hypot(...w)
      if (norm === 0) break
      const next = w.map((x) => x / norm)
      const done = Math.abs(Math.sqrt(norm) - sigma) <= 1e-15 * Math.sqrt(norm)
      sigma = Math.sqrt(norm)
      v = next
      if (done) break
    }
    const u = new Float64Array(rows)
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) u[i]! += residual[i * cols + j]! * v[j]!
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        out[i * cols + j]! += u[i]! * v[j]!
        residual[i * cols + j]! -= u[i]! * v[j]!
      }
    }
  }
  return out
}

/** a rows x cols matrix of exact rank `rank` with well separated singular values */
function lowRank(rows: number, cols: number, rank: number, seed: number): Float32Array {
  const rng = new Rng([seed, 1, 2, 3])
  const u = Array.from({ length: rank }, () => Array.from({ length: rows }, () => rng.normal()))
  const v = Array.from({ length: rank }, () => Array.from({ length: cols }, () => rng.normal()))
  return Float32Array.from({ length: rows * cols }, (_, idx) => {
    let s = 0
    for (let k = 0; k < rank; k++) s += u[k]![Math.floor(idx / cols)]! * v[k]![idx % cols]! / (k + 1)
    return s
  })
}

describe('truncate_rank', () => {
  it('recovers a known low-rank matrix exactly, tall and wide', async () => {
    for (const [rows, cols] of [
      [40, 24],
      [12, 50],
    ] as const) {
      const a = lowRank(rows, cols, 3, rows)
      for (const rank of [3, 5]) {
        const { output } = await runMethod('truncate_rank', { inputs: [a], shape: [rows, cols], params: { rank } })
        expectClose(output, a, 1e-4, 1e-5)
      }
    }
  })

  it('matches the exact best rank-r approximation of a full-rank matrix', async () => {
    const [rows, cols] = [30, 20]
    const a = Float32Array.from(lowRank(rows, cols, 20, 7), (x, i) => x + 0.01 * Math.sin(i))
    const { output } = await runMethod('truncate_rank', { inputs: [a], shape: [rows, cols], params: { rank: 4, power_iterations: 4 } })
    expectClose(output, naiveTruncate(a, rows, cols, 4), 1e-3, 1e-4)
  })

  it('returns the input at full rank, zeros at rank 0, and passes < 2-D tensors through', async () => {
    const a = sampleTensor(42, 3)
    expectSameValues((await runMethod('truncate_rank', { inputs: [a], shape: [6, 7], params: { rank: 6 } })).output, a)
    expectSameValues((await runMethod('truncate_rank', { inputs: [a], shape: [6, 7], params: { rank: 100 } })).output, a)
    expectSameValues((await runMethod('truncate_rank', { inputs: [a], shape: [6, 7], params: { rank: 0 } })).output, new Float32Array(42))
    expectSameValues((await runMethod('truncate_rank', { inputs: [a], params: { rank: 2 } })).output, a)
  })

  it('sees a conv weight as (out, in·kh·kw) and is deterministic for a seed', async () => {
    const a = lowRank(4, 27, 2, 11)
    const first = await runMethod('truncate_rank', { inputs: [a], shape: [4, 3, 3, 3], params: { rank: 2 }, seed: 5 })
    expectClose(first.output, a, 1e-4, 1e-5)
    const noisy = Float32Array.from(a, (x, i) => x + 0.1 * Math.cos(i))
    const once = await runMethod('truncate_rank', { inputs: [noisy], shape: [4, 3, 3, 3], params: { rank: 1, oversampling: 0, power_iterations: 0 }, seed: 5 })
    const again = await runMethod('truncate_rank', { inputs: [noisy], shape: [4, 3, 3, 3], params: { rank: 1, oversampling: 0, power_iterations: 0 }, seed: 5 })
    expectSameValues(once.output, again.output)
  })

  it('rejects a negative rank', async () => {
    await expect(runMethod('truncate_rank', { inputs: [sampleTensor(12, 1)], shape: [3, 4], params: { rank: -1 } })).rejects.toSatisfy((e) => isAmalgamError(e, 'BAD_RECIPE'))
  })
})
