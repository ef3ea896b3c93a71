/*
 * Dense float64 matrices for test references (row-major), written independently of the kernels:
 * products, transposes, a Gauss–Jordan inverse and the polar factor by Newton's iteration.
 */
export type Mat = { rows: number; cols: number; data: Float64Array }

export function mat(rows: number, cols: number, f: (i: number, j: number) => number): Mat {
  const data = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = f(i, j)
  return { rows, cols, data }
}
export const at = (m: Mat, i: number, j: number): number => m.data[i * m.cols + j]!
export const mul = (a: Mat, b: Mat): Mat =>
  mat(a.rows, b.cols, (i, j) => {
    let s = 0
    for (let l = 0; l < a.cols; l++) s += at(a, i, l) * at(b, l, j)
    return s
  })
export const tr = (a: Mat): Mat => mat(a.cols, a.rows, (i, j) => at(a, j, i))
export const sub = (a: Mat, b: Mat): Mat => mat(a.rows, a.cols, (i, j) => at(a, i, j) - at(b, i, j))
export const eye = (n: number): Mat => mat(n, n, (i, j) => (i === j ? 1 : 0))
export const maxAbs = (a: Mat): number => a.data.reduce((m, x) => Math.max(m, Math.abs(x)), 0)
export const frob = (a: Mat): number => Math.sqrt(a.data.reduce((s, x) => s + x * x, 0))

export function inverse(a: Mat): Mat {
  const n = a.rows
  const m = mat(n, 2 * n, (i, j) => (j < n ? at(a, i, j) : i === j - n ? 1 : 0))
  for (let k = 0; k < n; k++) {
    let p = k
    for (let i = k + 1; i < n; i++) if (Math.abs(at(m, i, k)) > Math.abs(at(m, p, k))) p = i
    for (let j = 0; j < 2 * n; j++) [m.data[k * 2 * n + j], m.data[p * 2 * n + j]] = [at(m, p, j), at(m, k, j)]
    const d = at(m, k, k)
    for (let j = 0; j < 2 * n; j++) m.data[k * 2 * n + j]! /= d
    for (let i = 0; i < n; i++) {
      if (i === k) continue
      const f = at(m, i, k)
      for (let j = 0; j < 2 * n; j++) m.data[i * 2 * n + j]! -= f * at(m, k, j)
    }
  }
  return mat(n, n, (i, j) => at(m, i, j + n))
}

/** polar factor of a square invertible matrix by Newton's iteration X ← (X + X⁻ᵀ)/2, run to convergence */
export function naivePolar(a: Mat): Mat {
  let x = a
  for (let i = 0; i < 200; i++) {
    const inv = tr(inverse(x))
    const next = mat(x.rows, x.cols, (r, c) => (at(x, r, c) + at(inv, r, c)) / 2)
    const done = maxAbs(sub(next, x)) < 1e-15
    x = next
    if (done) break
  }
  return x
}
