/** C-contiguous, as torch judges it: size-1 dimensions may have any stride. */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1
  for (let d = shape.length - 1; d >= 0; d--) {
    const dim = shape[d]!
    if (dim !== 1 && strides[d] !== expected) return false
    expected *= dim
  }
  return true
}
