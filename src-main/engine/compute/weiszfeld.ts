/*
 * Weiszfeld's iteration for the geometric median of N tensors (sd-mecha's geometric_median, METHODS.md
 * §6.9), run on the mixing coefficients only: every iterate is m = Σ cᵢXᵢ with Σ cᵢ = 1, so a caller
 * streams the tensors once per iteration to measure ‖Xᵢ − m‖ and never holds m.
 */

export interface WeiszfeldSettings {
  /** floor on each distance before it is inverted into a weight */
  readonly eps: number
  readonly maxiter: number
  /** stop when the objective (mean distance) changes by at most ftol × objective */
  readonly ftol: number
}

/**
 * The coefficients c of the median m = Σ cᵢXᵢ: starts at the mean, then repeats
 * cᵢ ∝ 1/max(‖Xᵢ − m‖, eps). `distances(c)` returns ‖Xᵢ − Σ cⱼXⱼ‖ for every i.
 */
export function weiszfeldCoefficients(models: number, distances: (c: Float64Array) => Float64Array, settings: WeiszfeldSettings): Float64Array {
  let c = new Float64Array(models).fill(1 / models)
  if (models <= 1) return c
  let d = distances(c)
  let objective = mean(d)
  for (let iteration = 0; iteration < settings.maxiter; iteration++) {
    const w = Float64Array.from(d, (di) => 1 / Math.max(di, settings.eps))
    const total = w.reduce((s, x) => s + x, 0)
    c = Float64Array.from(w, (x) => x / total)
    d = distances(c)
    const previous = objective
    objective = mean(d)
    // NaN objectives (non-finite inputs) fail the test and stop too: more passes cannot repair them
    if (!(Math.abs(previous - objective) > settings.ftol * objective)) break
  }
  return c
}

function mean(x: Float64Array): number {
  return x.reduce((s, v) => s + v, 0) / x.length
}
