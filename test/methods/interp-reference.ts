/*
 * Naive float64 pieces of untitledmerger's interpolation operators (METHODS.md §8.1–8.3), shared by
 * the enhanced_interp and weight_sum_cutoff tests.
 */

/** w = nan0((D − d)/D) per element */
export function naiveCloseness(a: Float32Array, b: Float32Array): Float64Array {
  const d = Float64Array.from(a, (x, i) => Math.abs(x - b[i]!))
  const max = d.reduce((m, v) => Math.max(m, v), 0)
  return d.map((v) => {
    const w = (max - v) / max
    return Number.isNaN(w) ? 0 : w
  })
}

/** torch.mean(w, 0) broadcast back: each element gets the mean of its column over dim 0 */
export function naiveColumnMeanPerElement(w: Float64Array, shape: readonly number[]): Float64Array {
  const rows = shape.length === 0 ? 1 : shape[0]!
  const cols = w.length / rows
  const means = Array.from({ length: cols }, (_, j) => {
    let s = 0
    for (let r = 0; r < rows; r++) s += w[r * cols + j]!
    return s / rows
  })
  return w.map((_, i) => means[i % cols]!)
}

export function naiveMix(a: Float32Array, b: Float32Array, mask: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (x, i) => x * (1 - mask[i]!) + b[i]! * mask[i]!)
}
