/* float64 vector references for the cosine-driven methods' tests, with METHODS.md §1.4's floors */

/** ⟨x, y⟩ / sqrt(max(‖x‖²‖y‖², 1e-16)) */
export function cos(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let xy = 0
  let xx = 0
  let yy = 0
  for (let i = 0; i < x.length; i++) {
    xy += x[i]! * y[i]!
    xx += x[i]! * x[i]!
    yy += y[i]! * y[i]!
  }
  return xy / Math.sqrt(Math.max(xx * yy, 1e-16))
}

/** x / max(‖x‖, 1e-12) */
export function normalize(x: number[]): number[] {
  const n = Math.max(Math.sqrt(x.reduce((s, v) => s + v * v, 0)), 1e-12)
  return x.map((v) => v / n)
}
