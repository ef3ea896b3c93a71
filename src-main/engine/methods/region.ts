/** Python's round(): halves go to the even neighbour (METHODS.md §1.5); JS Math.round rounds them up. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x)
  const diff = x - floor
  if (diff < 0.5) return floor
  if (diff > 0.5) return floor + 1
  return floor % 2 === 0 ? floor : floor + 1
}

export interface Region {
  readonly start: number
  readonly end: number
  /** the region wraps around the end: [start, end) is then the part outside it */
  readonly inverted: boolean
}

/**
 * sd-mecha's ratio_to_region (METHODS.md §7.1): a band of `width` (a fraction of n) starting at
 * `offset`, wrapping around the end, as index bounds rounded half-to-even.
 */
export function ratioToRegion(width: number, offset: number, n: number): Region {
  if (width < 0) {
    offset += width
    width = -width
  }
  width = Math.min(width, 1)
  if (offset < 0) offset = 1 + offset - Math.trunc(offset)
  // JS % on floats is C's fmod, like Python's math.fmod
  offset = offset % 1
  if (width + offset <= 1) return { start: roundHalfEven(offset * n), end: roundHalfEven((width + offset) * n), inverted: false }
  return { start: roundHalfEven((width + offset - 1) * n), end: roundHalfEven(offset * n), inverted: true }
}
