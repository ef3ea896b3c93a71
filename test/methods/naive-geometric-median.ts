/* Naive float64 Weiszfeld on whole arrays, written from METHODS.md §6.9 (m kept explicitly). */
export function naiveGeometricMedian(xs: readonly ArrayLike<number>[], eps = 1e-6, maxiter = 100, ftol = 1e-20): Float64Array {
  const n = xs[0]!.length
  const weighted = (w: number[]): Float64Array => {
    const total = w.reduce((s, v) => s + v, 0)
    return Float64Array.from({ length: n }, (_, e) => xs.reduce((s, x, i) => s + w[i]! * x[e]!, 0) / total)
  }
  const dist = (m: Float64Array): number[] => xs.map((x) => Math.sqrt(Array.from(m, (v, e) => (x[e]! - v) ** 2).reduce((s, v) => s + v, 0)))
  let median = weighted(xs.map(() => 1))
  let objective = dist(median).reduce((s, v) => s + v, 0) / xs.length
  for (let it = 0; it < maxiter; it++) {
    median = weighted(dist(median).map((d) => 1 / Math.max(d, eps)))
    const previous = objective
    objective = dist(median).reduce((s, v) => s + v, 0) / xs.length
    if (Math.abs(previous - objective) <= ftol * objective) break
  }
  return median
}
