import type * as tfc from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { completeToOrthogonal, determinantSign, orthogonalFractionalPower } from '../../src-main/engine/compute/linalg/orthogonal'
import { orthonormalizeColumns } from '../../src-main/engine/compute/linalg/orthonormalize'
import { polarFactor } from '../../src-main/engine/compute/linalg/polar'
import { randomizedSvd } from '../../src-main/engine/compute/linalg/randomized-svd'
import { smallestEigenvector } from '../../src-main/engine/compute/linalg/smallest-eigenvector'
import { symmetricEigen } from '../../src-main/engine/compute/linalg/symmetric-eigen'
import { Rng } from '../../src-main/engine/compute/rng'
import { at, eye, frob, mat, maxAbs, mul, naivePolar, sub, tr, type Mat } from '../support/naive-matrix'
import { testBackend } from '../support/run-method'

const random = (rows: number, cols: number, seed: number): Mat => {
  const rng = new Rng([seed, 7, 11, 13])
  // float32-exact values, so kernels and references see the same inputs
  return mat(rows, cols, () => Math.fround(rng.normal()))
}



/** singular values, descending, by power iteration on AᵀA with deflation (float64) */
function naiveSingularValues(a: Mat, count: number): number[] {
  let g = mul(tr(a), a)
  const out: number[] = []
  for (let k = 0; k < count; k++) {
    let v = mat(g.rows, 1, (i) => 1 + i * 0.01)
    let lambda = 0
    for (let it = 0; it < 5000; it++) {
      const w = mul(g, v)
      const norm = frob(w)
      const next = mat(w.rows, 1, (i) => at(w, i, 0) / norm)
      const done = Math.abs(norm - lambda) <= 1e-15 * norm
      lambda = norm
      v = next
      if (done) break
    }
    out.push(Math.sqrt(lambda))
    g = sub(g, mat(g.rows, g.cols, (i, j) => lambda * at(v, i, 0) * at(v, j, 0)))
  }
  return out
}

type Tf = Awaited<ReturnType<typeof testBackend>>['tf']

/** runs fn and checks that it freed every tfjs tensor it made; `keep` collects the test's own tensors */
async function withTf<T>(fn: (tf: Tf, keep: <X extends tfc.Tensor>(t: X) => X) => T): Promise<T> {
  const { tf } = await testBackend()
  const before = tf.memory().numTensors
  const own: tfc.Tensor[] = []
  const result = fn(tf, (t) => {
    own.push(t)
    return t
  })
  tf.dispose(own)
  expect(tf.memory().numTensors - before).toBe(0)
  return result
}

function toMat(tf: Tf, t: tfc.Tensor2D, dispose = true): Mat {
  const [rows, cols] = t.shape
  const data = Float64Array.from(t.dataSync())
  if (dispose) tf.dispose(t)
  return { rows, cols, data }
}

function toTensor(tf: Tf, m: Mat): tfc.Tensor2D {
  return tf.tensor2d(Float32Array.from(m.data), [m.rows, m.cols])
}

describe('symmetricEigen', () => {
  it('reconstructs A = V diag(λ) Vᵀ with orthonormal V and descending λ', () => {
    for (const n of [1, 2, 7, 30]) {
      const r = random(n, n, n)
      const a = mat(n, n, (i, j) => at(r, i, j) + at(r, j, i))
      const { values, vectors } = symmetricEigen(a.data, n)
      const v: Mat = { rows: n, cols: n, data: vectors }
      const back = mul(mul(v, mat(n, n, (i, j) => (i === j ? values[i]! : 0))), tr(v))
      expect(maxAbs(sub(back, a))).toBeLessThan(1e-12 * (1 + maxAbs(a)))
      expect(maxAbs(sub(mul(tr(v), v), eye(n)))).toBeLessThan(1e-13)
      for (let i = 1; i < n; i++) expect(values[i]!).toBeLessThanOrEqual(values[i - 1]!)
    }
  })

  it('finds the closed-form eigenvalues of a 2 x 2 matrix and repeated eigenvalues', () => {
    const { values } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2)
    expect(values[0]).toBeCloseTo(3, 14)
    expect(values[1]).toBeCloseTo(1, 14)
    expect([...symmetricEigen(Float64Array.from([5, 0, 0, 0, 5, 0, 0, 0, 5]), 3).values]).toEqual([5, 5, 5])
  })
})

describe('orthonormalizeColumns', () => {
  it('gives orthonormal columns spanning the input (several blocks)', async () => {
    const y = random(50, 20, 3)
    const q = await withTf((tf, keep) => toMat(tf, orthonormalizeColumns(tf, keep(toTensor(tf, y)), 1e-4, 8)))
    expect(maxAbs(sub(mul(tr(q), q), eye(20)))).toBeLessThan(2e-6)
    expect(maxAbs(sub(mul(q, mul(tr(q), y)), y))).toBeLessThan(1e-5 * maxAbs(y))
  })

  it('turns linearly dependent columns into zero columns', async () => {
    const base = random(30, 6, 4)
    const y = mat(30, 8, (i, j) => (j < 6 ? at(base, i, j) : j === 6 ? at(base, i, 1) - 2 * at(base, i, 4) : at(base, i, 0)))
    const q = await withTf((tf, keep) => toMat(tf, orthonormalizeColumns(tf, keep(toTensor(tf, y)), 1e-4, 4)))
    const g = mul(tr(q), q)
    for (let j = 0; j < 8; j++) expect(at(g, j, j)).toBeCloseTo(j < 6 ? 1 : 0, 5)
    expect(maxAbs(sub(mul(q, mul(tr(q), y)), y))).toBeLessThan(1e-5 * maxAbs(y))
  })
})

describe('polarFactor', () => {
  it('matches a float64 Newton polar factor and is orthogonal (square)', async () => {
    for (const n of [5, 24]) {
      const a = random(n, n, 10 + n)
      const q = await withTf((tf) => {
        const t = toTensor(tf, a)
        const { q } = polarFactor(tf, t)
        t.dispose()
        return toMat(tf, q)
      })
      expect(maxAbs(sub(mul(tr(q), q), eye(n)))).toBeLessThan(1e-5)
      expect(maxAbs(sub(q, naivePolar(a)))).toBeLessThan(1e-4)
    }
  })

  it('gives orthonormal columns with a symmetric positive QᵀM for tall and wide inputs', async () => {
    for (const [rows, cols] of [
      [30, 12],
      [9, 21],
    ] as const) {
      const a = random(rows, cols, rows * cols)
      const q = await withTf((tf) => {
        const t = toTensor(tf, a)
        const { q } = polarFactor(tf, t)
        t.dispose()
        return toMat(tf, q)
      })
      const small = Math.min(rows, cols)
      const gram = rows >= cols ? mul(tr(q), q) : mul(q, tr(q))
      expect(maxAbs(sub(gram, eye(small)))).toBeLessThan(1e-5)
      const h = rows >= cols ? mul(tr(q), a) : mul(a, tr(q))
      expect(maxAbs(sub(h, tr(h)))).toBeLessThan(1e-4 * maxAbs(h))
      const eig = symmetricEigen(mat(small, small, (i, j) => (at(h, i, j) + at(h, j, i)) / 2).data, small)
      expect(eig.values[small - 1]!).toBeGreaterThan(0)
    }
  })

  it('leaves exact zero singular values at zero; completion makes it orthogonal, unchanged on its range', async () => {
    const n = 16
    const full = random(n, n, 21)
    // exact zeros in the last two rows and columns: rank 14 in float32 too
    const m = mat(n, n, (i, j) => (i < n - 2 && j < n - 2 ? at(full, i, j) : 0))
    const [q, r, nullity] = await withTf((tf) => {
      const t = toTensor(tf, m)
      const polar = polarFactor(tf, t)
      const completed = completeToOrthogonal(tf, polar.q)
      t.dispose()
      return [toMat(tf, polar.q), toMat(tf, completed.r), completed.nullity] as const
    })
    expect(nullity).toBe(2)
    expect(maxAbs(mat(2, n, (i, j) => at(q, n - 2 + i, j)))).toBe(0)
    expect(maxAbs(sub(mul(tr(r), r), eye(n)))).toBeLessThan(1e-5)
    expect(maxAbs(mul(sub(r, q), tr(m)))).toBeLessThan(1e-4 * maxAbs(m))
  })

  it('leaves float32-noise null directions unconverged; completion treats them as null and makes it orthogonal', async () => {
    const n = 16
    const m = mul(random(n, n - 2, 23), tr(random(n, n - 2, 24)))
    const [q, r, nullity] = await withTf((tf) => {
      const t = toTensor(tf, m)
      const polar = polarFactor(tf, t)
      const completed = completeToOrthogonal(tf, polar.q)
      t.dispose()
      return [toMat(tf, polar.q), toMat(tf, completed.r), completed.nullity] as const
    })
    expect(nullity).toBe(2)
    expect(maxAbs(sub(mul(tr(r), r), eye(n)))).toBeLessThan(1e-5)
    expect(maxAbs(mul(sub(r, q), tr(m)))).toBeLessThan(1e-4 * maxAbs(m))
  })

  it('converges on an ill-conditioned rank-deficient matrix in a fixed number of steps (singular values 1 … 1e-8, 0)', async () => {
    const n = 32
    // M = U diag(s) Vᵀ with known orthogonal factors (float64 polar factors of random matrices)
    const u = naivePolar(random(n, n, 31))
    const v = naivePolar(random(n, n, 32))
    const s = Array.from({ length: n }, (_, i) => (i === n - 1 ? 0 : 10 ** ((-8 * i) / (n - 2))))
    const m = mul(mat(n, n, (i, j) => at(u, i, j) * s[j]!), tr(v))
    const [r, flipped, iterations, nullity] = await withTf((tf) => {
      const t = toTensor(tf, m)
      const polar = polarFactor(tf, t)
      const completed = completeToOrthogonal(tf, polar.q)
      const other = completeToOrthogonal(tf, polar.q, true)
      tf.dispose([t, polar.q])
      return [toMat(tf, completed.r), toMat(tf, other.r), polar.iterations, completed.nullity] as const
    })
    expect(iterations).toBeLessThanOrEqual(20)
    // the zero and the values below float32 resolution (~1e-7·σ_max) are null; the others are not
    expect(nullity).toBeGreaterThanOrEqual(1)
    expect(nullity).toBeLessThanOrEqual(8)
    for (const x of [r, flipped]) expect(maxAbs(sub(mul(tr(x), x), eye(n)))).toBeLessThan(1e-5)
    // R v_i = u_i wherever float32 determines it: the polar factor's error there is ~‖ΔM‖/σ_i
    const rv = mul(r, v)
    for (let i = 0; i < n; i++) {
      if (s[i]! < 1e-3) continue
      const error = Math.sqrt(Array.from({ length: n }, (_, k) => (at(rv, k, i) - at(u, k, i)) ** 2).reduce((x, y) => x + y, 0))
      expect(error).toBeLessThan(2e-4)
    }
    // the Procrustes objective trace(RᵀM) = Σσ is reached to float32 accuracy
    const objective = Array.from({ length: n }, (_, i) => at(mul(tr(r), m), i, i)).reduce((x, y) => x + y, 0)
    const optimum = s.reduce((x, y) => x + y, 0)
    expect(Math.abs(objective - optimum)).toBeLessThan(1e-5 * optimum)
    // flip negates one filling pair: the determinant changes sign
    expect(determinantSign(flipped.data, n)).toBe(-determinantSign(r.data, n))
  })

  it('converges exactly with a known smallest singular value', async () => {
    const n = 12
    const u = naivePolar(random(n, n, 41))
    const v = naivePolar(random(n, n, 42))
    const s = Array.from({ length: n }, (_, i) => 2 - (1.9 * i) / (n - 1))
    const m = mul(mat(n, n, (i, j) => at(u, i, j) * s[j]!), tr(v))
    const [q, iterations] = await withTf((tf) => {
      const t = toTensor(tf, m)
      const polar = polarFactor(tf, t, { smallestSingularValue: 0.1 })
      t.dispose()
      return [toMat(tf, polar.q), polar.iterations] as const
    })
    expect(iterations).toBeLessThanOrEqual(8)
    expect(maxAbs(sub(q, mul(u, tr(v))))).toBeLessThan(1e-5)
  })
})

describe('smallestEigenvector', () => {
  it('finds the eigenvector of a known smallest eigenvalue, and refuses a singular matrix', () => {
    const n = 20
    const q = naivePolar(random(n, n, 51))
    // eigenvalues 1 … 2 and a smallest one, 1e-3, on column 7 of q
    const d = Array.from({ length: n }, (_, i) => (i === 7 ? 1e-3 : 1 + i / n))
    const a = mul(mat(n, n, (i, j) => at(q, i, j) * d[j]!), tr(q))
    const v = smallestEigenvector(a.data, n)
    expect(v).not.toBeNull()
    const dot = Array.from({ length: n }, (_, i) => (v ? v[i]! : 0) * at(q, i, 7)).reduce((x, y) => x + y, 0)
    expect(Math.abs(Math.abs(dot) - 1)).toBeLessThan(1e-10)
    const singular = mul(mat(n, n, (i, j) => at(q, i, j) * (j === 3 ? 0 : d[j]!)), tr(q))
    expect(smallestEigenvector(singular.data, n)).toBeNull()
  })
})

describe('determinantSign', () => {
  it('agrees with the sign of a float64 cofactor determinant', () => {
    const det = (a: Mat): number =>
      a.rows === 1 ? at(a, 0, 0) : Array.from({ length: a.rows }, (_, j) => (j % 2 ? -1 : 1) * at(a, 0, j) * det(mat(a.rows - 1, a.rows - 1, (r, c) => at(a, r + 1, c < j ? c : c + 1)))).reduce((s, x) => s + x, 0)
    for (let seed = 0; seed < 10; seed++) {
      const a = random(5, 5, 100 + seed)
      expect(determinantSign(a.data, 5)).toBe(Math.sign(det(a)))
    }
    expect(determinantSign(Float64Array.from([0, 1, 1, 0]), 2)).toBe(-1)
    expect(determinantSign(Float64Array.from([1, 2, 2, 4]), 2)).toBe(0)
  })
})

describe('orthogonalFractionalPower', () => {
  /** Z·blockdiag(rotations by angles[i], then ±1 entries)·Zᵀ with Z orthogonal */
  function rotation(angles: number[], tail: number[], t: number, z: Mat): Mat {
    const n = 2 * angles.length + tail.length
    const d = mat(n, n, () => 0)
    angles.forEach((theta, k) => {
      // a rotation by π has the double eigenvalue −1: principal power e^{iπt}, real part kept
      const c = Math.cos(t * theta)
      const s = Math.abs(theta) === Math.PI ? 0 : Math.sin(t * theta)
      d.data[2 * k * n + 2 * k] = c
      d.data[2 * k * n + 2 * k + 1] = -s
      d.data[(2 * k + 1) * n + 2 * k] = s
      d.data[(2 * k + 1) * n + 2 * k + 1] = c
    })
    // eigenvalue −1 raised to t: principal branch e^{iπt}, real part kept
    tail.forEach((x, k) => (d.data[(2 * angles.length + k) * (n + 1)] = x === 1 ? 1 : Math.cos(Math.PI * t)))
    return mul(mul(z, d), tr(z))
  }

  it('matches the closed form on known rotation planes', async () => {
    const angles = [0.3, -1.2, 2.9, 1e-7, 2.2]
    const n = 2 * angles.length + 1
    const z = naivePolar(random(n, n, 31))
    for (const t of [0.5, 0.25, -0.7, 1.6, 1, 0]) {
      const out = await withTf((tf) => {
        const r = toTensor(tf, rotation(angles, [1], 1, z))
        const p = orthogonalFractionalPower(tf, r, t)
        r.dispose()
        return toMat(tf, p)
      })
      expect(maxAbs(sub(out, rotation(angles, [1], t, z)))).toBeLessThan(2e-5)
    }
  })

  it('stays orthogonal at angle π (no principal root there) and exact on the other planes', async () => {
    const angles = [Math.PI, 0.5]
    const z = eye(6)
    const r = mat(6, 6, (i, j) => Math.round(at(rotation(angles, [1, 1], 1, z), i, j) * 1e6) / 1e6)
    const half = await withTf((tf) => {
      const t = toTensor(tf, r)
      const p = orthogonalFractionalPower(tf, t, 0.5)
      t.dispose()
      return toMat(tf, p)
    })
    expect(maxAbs(sub(mul(tr(half), half), eye(6)))).toBeLessThan(1e-5)
    const expected = rotation(angles, [1, 1], 0.5, z)
    for (let i = 2; i < 6; i++) for (let j = 2; j < 6; j++) expect(Math.abs(at(half, i, j) - at(expected, i, j))).toBeLessThan(1e-5)
  })
})

describe('randomizedSvd', () => {
  it('recovers a known low-rank matrix exactly', async () => {
    const a = mul(random(40, 3, 41), tr(random(25, 3, 42)))
    for (const shape of ['tall', 'wide'] as const) {
      const m = shape === 'tall' ? a : tr(a)
      const { back, s } = await withTf((tf, keep) => {
        const t = toTensor(tf, m)
        const { u, s, v } = randomizedSvd(tf, t, 3, new Rng([1, 2, 3, 4]), { oversampling: 0, powerIterations: 0 })
        const us = tf.mul(u, keep(tf.tensor1d(Float32Array.from(s))))
        const back = toMat(tf, tf.matMul(us, v, false, true) as tfc.Tensor2D)
        tf.dispose([t, u, v, us])
        return { back, s }
      })
      expect(maxAbs(sub(back, m))).toBeLessThan(1e-5 * maxAbs(m))
      const expected = naiveSingularValues(m, 3)
      s.forEach((x, i) => expect(Math.abs(x - expected[i]!)).toBeLessThan(1e-5 * expected[0]!))
    }
  })

  it('gives the best rank-r approximation (Eckart–Young) with orthonormal factors', async () => {
    const a = random(60, 30, 51)
    const r = 5
    const expected = naiveSingularValues(a, r)
    const { back, s, uu, vv } = await withTf((tf, keep) => {
      const t = toTensor(tf, a)
      const { u, s, v } = randomizedSvd(tf, t, r, new Rng([5, 6, 7, 8]), { powerIterations: 6, oversampling: 10 })
      const us = tf.mul(u, keep(tf.tensor1d(Float32Array.from(s))))
      const back = toMat(tf, tf.matMul(us, v, false, true) as tfc.Tensor2D)
      const uu = toMat(tf, tf.matMul(u, u, true, false) as tfc.Tensor2D)
      const vv = toMat(tf, tf.matMul(v, v, true, false) as tfc.Tensor2D)
      tf.dispose([t, u, v, us])
      return { back, s, uu, vv }
    })
    expect(maxAbs(sub(uu, eye(r)))).toBeLessThan(1e-5)
    expect(maxAbs(sub(vv, eye(r)))).toBeLessThan(1e-5)
    s.forEach((x, i) => expect(Math.abs(x - expected[i]!) / expected[i]!).toBeLessThan(1e-3))
    const residual = frob(sub(a, back)) ** 2
    const optimal = frob(a) ** 2 - expected.reduce((acc, x) => acc + x * x, 0)
    expect(residual).toBeLessThan(optimal * 1.01)
  })

  it('is exact at full rank', async () => {
    const a = random(12, 9, 61)
    const back = await withTf((tf, keep) => {
      const t = toTensor(tf, a)
      const { u, s, v } = randomizedSvd(tf, t, 9, new Rng([9, 9, 9, 9]), { powerIterations: 0 })
      const us = tf.mul(u, keep(tf.tensor1d(Float32Array.from(s))))
      const back = toMat(tf, tf.matMul(us, v, false, true) as tfc.Tensor2D)
      tf.dispose([t, u, v, us])
      return back
    })
    expect(maxAbs(sub(back, a))).toBeLessThan(2e-5 * maxAbs(a))
  })
})
