import { describe, expect, it } from 'vitest'
import { Rng } from '../../src-main/engine/compute/rng'
import { at, inverse, mat, mul, naivePolar, tr, type Mat } from '../support/naive-matrix'
import { runMethod } from '../support/run-method'
import { expectClose, expectSameValues, sampleTensor } from './sample-tensors'

/*
 * Reference: sd-mecha's rotate in float64 for the tall case with an integer alignment: centre the
 * rows, R = polar(A'ᵀB') by Newton's iteration X ← (X + X⁻ᵀ)/2, out = (lerp(A', B'Rᵀ, α))·R^k + lerp(μA, μB, k).
 */
function determinant(a: Mat): number {
  const m = mat(a.rows, a.cols, (i, j) => at(a, i, j))
  const n = a.rows
  let det = 1
  for (let k = 0; k < n; k++) {
    let p = k
    for (let i = k + 1; i < n; i++) if (Math.abs(at(m, i, k)) > Math.abs(at(m, p, k))) p = i
    if (p !== k) {
      for (let j = 0; j < n; j++) [m.data[k * n + j], m.data[p * n + j]] = [at(m, p, j), at(m, k, j)]
      det = -det
    }
    det *= at(m, k, k)
    for (let i = k + 1; i < n; i++) {
      const f = at(m, i, k) / at(m, k, k)
      for (let j = k; j < n; j++) m.data[i * n + j]! -= f * at(m, k, j)
    }
  }
  return det
}

/** principal square root by the Denman–Beavers iteration (float64) */
function naiveSqrt(a: Mat): Mat {
  let y = a
  let z = mat(a.rows, a.cols, (i, j) => (i === j ? 1 : 0))
  for (let it = 0; it < 60; it++) {
    const yi = inverse(y)
    const zi = inverse(z)
    y = mat(a.rows, a.cols, (i, j) => (at(y, i, j) + at(zi, i, j)) / 2)
    z = mat(a.rows, a.cols, (i, j) => (at(z, i, j) + at(yi, i, j)) / 2)
  }
  return y
}


function centred(x: ArrayLike<number>, n: number, p: number, centralization: number): { m: Mat; mean: number[] } {
  const mean = Array.from({ length: p }, (_, j) => {
    let s = 0
    for (let i = 0; i < n; i++) s += x[i * p + j]!
    return (s / n) * centralization
  })
  return { m: mat(n, p, (i, j) => x[i * p + j]! - mean[j]!), mean }
}

function naiveRotate(a: Float32Array, b: Float32Array, n: number, p: number, alignment: number, alpha: number, centralization = 1): Float64Array {
  const ca = centred(a, n, p, centralization)
  const cb = centred(b, n, p, centralization)
  const r = naivePolar(mul(tr(ca.m), cb.m))
  let x = ca.m
  if (alpha !== 0) {
    const back = mul(cb.m, tr(r))
    x = mat(n, p, (i, j) => at(x, i, j) + alpha * (at(back, i, j) - at(x, i, j)))
  }
  const base = alignment >= 0 ? r : tr(r)
  for (let k = 0; k < Math.abs(alignment); k++) x = mul(x, base)
  return Float64Array.from({ length: n * p }, (_, idx) => {
    const j = idx % p
    return at(x, Math.floor(idx / p), j) + ca.mean[j]! + alignment * (cb.mean[j]! - ca.mean[j]!)
  })
}

/** A Q + noise: B is A's rows turned by a known orthogonal Q, plus a little noise */
function rotatedPair(n: number, p: number, seed: number, noise = 0): { a: Float32Array; b: Float32Array } {
  const rng = new Rng([seed, 3, 5, 7])
  const a = Float32Array.from({ length: n * p }, () => rng.normal())
  const q0 = naivePolar(mat(p, p, () => rng.normal()))
  // a proper rotation (det +1), so that fractional powers need no reflection handling
  const q = determinant(q0) > 0 ? q0 : mat(p, p, (i, j) => (j === 0 ? -at(q0, i, j) : at(q0, i, j)))
  const aq = mul(mat(n, p, (i, j) => a[i * p + j]!), q)
  return { a, b: Float32Array.from(aq.data, (x) => x + noise * rng.normal()) }
}

describe('rotate', () => {
  it('matches the float64 reference for integer alignments, with and without alpha', async () => {
    const [n, p] = [12, 5]
    const { a, b } = rotatedPair(n, p, 1, 0.5)
    for (const [alignment, alpha, centralization] of [
      [1, 0, 1],
      [1, 0.3, 1],
      [2, 0, 0.5],
      [-1, 0.7, 1],
      [0, 0.5, 1],
    ] as const) {
      const { output } = await runMethod('rotate', { inputs: [a, b], shape: [n, p], params: { alignment, alpha, centralization } })
      expectClose(output, naiveRotate(a, b, n, p, alignment, alpha, centralization), 1e-4, 1e-4)
    }
  })

  it('returns A at alignment = alpha = 0 and B at alignment = alpha = 1, exactly', async () => {
    const { a, b } = rotatedPair(8, 4, 2, 0.3)
    expectSameValues((await runMethod('rotate', { inputs: [a, b], shape: [8, 4], params: { alignment: 0, alpha: 0 } })).output, a)
    expectSameValues((await runMethod('rotate', { inputs: [a, b], shape: [8, 4], params: { alignment: 1, alpha: 1 } })).output, b)
  })

  it('aligns A onto B when B is a rotation of A (alignment 1)', async () => {
    const [n, p] = [20, 6]
    const { a, b } = rotatedPair(n, p, 3)
    const { output } = await runMethod('rotate', { inputs: [a, b], shape: [n, p], params: { centralization: 0 } })
    expectClose(output, b, 1e-4, 1e-4)
  })

  it('applies the principal square root of R at alignment 0.5, and R^t → R as t → 1', async () => {
    const [n, p] = [16, 6]
    const { a, b } = rotatedPair(n, p, 4, 0.2)
    const ca = centred(a, n, p, 1)
    const cb = centred(b, n, p, 1)
    const r = naivePolar(mul(tr(ca.m), cb.m))
    expect(determinant(r)).toBeGreaterThan(0)
    const turned = mul(ca.m, naiveSqrt(r))
    const expected = Float64Array.from({ length: n * p }, (_, idx) => {
      const j = idx % p
      return at(turned, Math.floor(idx / p), j) + (ca.mean[j]! + cb.mean[j]!) / 2
    })
    const half = (await runMethod('rotate', { inputs: [a, b], shape: [n, p], params: { alignment: 0.5 } })).output
    expectClose(half, expected, 1e-4, 1e-4)
    const almost = (await runMethod('rotate', { inputs: [a, b], shape: [n, p], params: { alignment: 1 - 1e-6 } })).output
    expectClose(almost, naiveRotate(a, b, n, p, 1, 0), 1e-4, 1e-4)
  })

  it('passes identical inputs and 1-D tensors through lerp(A, B, alpha)', async () => {
    const a = sampleTensor(24, 1)
    const same = await runMethod('rotate', { inputs: [a, a.slice()], shape: [6, 4], params: { alpha: 0.5 } })
    expectSameValues(same.output, a)
    const b = sampleTensor(24, 2)
    const flat = await runMethod('rotate', { inputs: [a, b], params: { alpha: 0.25 } })
    expectClose(flat.output, Float64Array.from(a, (x, i) => x + 0.25 * (b[i]! - x)), 1e-6, 1e-7)
  })

  it('sees conv kernels larger than 1x1 as (out·in, kh·kw) and 1x1 kernels as (out, in)', async () => {
    const { a, b } = rotatedPair(12, 9, 5, 0.4)
    const conv = await runMethod('rotate', { inputs: [a, b], shape: [4, 3, 3, 3] })
    expectClose(conv.output, naiveRotate(a, b, 12, 9, 1, 0), 1e-4, 1e-4)
    const pair = rotatedPair(9, 4, 6, 0.4)
    const pointwise = await runMethod('rotate', { inputs: [pair.a, pair.b], shape: [9, 4, 1, 1] })
    expectClose(pointwise.output, naiveRotate(pair.a, pair.b, 9, 4, 1, 0), 1e-4, 1e-4)
  })

  it('gives the same rotation when a tall view is taken in several slices of rows', async () => {
    // 512·1024 rows of 9 taps: more rows than one slice (4 Mi elements), so A'ᵀB' is summed over slices
    const [n, p] = [512 * 1024, 9]
    const { a, b } = rotatedPair(n, p, 10, 0.4)
    const { output } = await runMethod('rotate', { inputs: [a, b], shape: [512, 1024, 3, 3], params: { alpha: 0.3 } })
    expectClose(output, naiveRotate(a, b, n, p, 1, 0.3), 1e-4, 1e-4)
  })

  it('works on differences from a base C and adds C back', async () => {
    const { a, b } = rotatedPair(10, 4, 7, 0.3)
    const c = Float32Array.from(sampleTensor(40, 9), (x) => x * 0.1)
    const { output } = await runMethod('rotate', { inputs: [Float32Array.from(a, (x, i) => x + c[i]!), Float32Array.from(b, (x, i) => x + c[i]!)], base: c, shape: [10, 4] })
    expectClose(output, Float64Array.from(naiveRotate(a, b, 10, 4, 1, 0), (x, i) => x + c[i]!), 1e-4, 1e-4)
  })

  it('gives an orthogonal, reflection-free rotation for fractional alignment on square centred matrices', async () => {
    const [n, p] = [8, 8]
    const { a, b } = rotatedPair(n, p, 8, 0.5)
    const { output } = await runMethod('rotate', { inputs: [a, b], shape: [n, p], params: { alignment: 0.3 } })
    // centred rows keep their Gram matrix under a rotation: ‖A'‖_F is preserved
    const ca = centred(a, n, p, 1)
    const co = centred(output, n, p, 1)
    expect(Math.abs(Math.hypot(...co.m.data) - Math.hypot(...ca.m.data))).toBeLessThan(1e-4 * Math.hypot(...ca.m.data))
    for (const x of output) expect(Number.isFinite(x)).toBe(true)
  })

  it('wide matrices: x ↦ x − x·P_B + x·polar(A\'ᵀB\') off and on B\'s row space, as upstream', async () => {
    const [n, p] = [4, 10]
    const { a, b } = rotatedPair(n, p, 9, 0.3)
    const am = mat(n, p, (i, j) => a[i * p + j]!)
    const bm = mat(n, p, (i, j) => b[i * p + j]!)
    // projector onto B's row space and the rank-n polar factor U Vᵀ of AᵀB = (AᵀB)·((AᵀB)ᵀ(AᵀB))^+½
    const projector = mul(tr(bm), mul(inverse(mul(bm, tr(bm))), bm))
    const m = mul(tr(am), bm)
    // polar factor of the rank-n M via the n x n core: M = Aᵀ(B) → U Vᵀ = Aᵀ·(A Aᵀ)^-½ · polar(core) · (B Bᵀ)^-½·B
    const invSqrt = (x: Mat): Mat => inverse(naiveSqrt(x))
    const qa = mul(tr(am), invSqrt(mul(am, tr(am))))
    const qb = mul(tr(bm), invSqrt(mul(bm, tr(bm))))
    const polar = mul(qa, mul(naivePolar(mul(tr(qa), mul(m, qb))), tr(qb)))
    const transformed = mul(am, mat(p, p, (i, j) => (i === j ? 1 : 0) - at(projector, i, j) + at(polar, i, j)))
    const { output } = await runMethod('rotate', { inputs: [a, b], shape: [n, p], params: { centralization: 0 } })
    expectClose(output, transformed.data, 1e-4, 1e-4)
    // the fractional path (retraction) meets the integer one at t → 1 and keeps A at t → 0
    const near1 = (await runMethod('rotate', { inputs: [a, b], shape: [n, p], params: { centralization: 0, alignment: 1 - 1e-6 } })).output
    expectClose(near1, transformed.data, 1e-4, 1e-4)
    const near0 = (await runMethod('rotate', { inputs: [a, b], shape: [n, p], params: { centralization: 0, alignment: 1e-6 } })).output
    expectClose(near0, a, 1e-4, 1e-4)
  })
})
