/*
 * supermerger's smoothing of a difference (METHODS.md §7.6): a 3×…×3 median filter followed by a
 * separable Gaussian (σ = 1, radius 4), both with scipy's "reflect" boundary (half-sample
 * symmetric: … c b a | a b c … x y z | z y x …). Whole-tensor, allocation-free inner loops.
 */

const RADIUS = 4
const GAUSSIAN = gaussianWeights(1, RADIUS)
/** columns of the tensor convolved together along a strided axis: keeps the gathered rows in cache */
const TILE = 64

function gaussianWeights(sigma: number, radius: number): Float64Array {
  const w = Float64Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)))
  const total = w.reduce((s, v) => s + v, 0)
  return w.map((v) => v / total)
}

/** index i of an axis of `size` elements, reflected half-sample symmetrically into [0, size) */
export function reflectIndex(i: number, size: number): number {
  const period = 2 * size
  const j = ((i % period) + period) % period
  return j >= size ? period - 1 - j : j
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length)
  let s = 1
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = s
    s *= shape[k]!
  }
  return strides
}

/** smooth(x) = gaussian(median3(x)); returns a new array, x is left as it was */
export function smoothTensor(x: Float32Array, shape: readonly number[]): Float32Array {
  const filtered = medianFilter3(x, shape)
  gaussianFilterInPlace(filtered, shape)
  return filtered
}

/** the median of every 3^d neighbourhood (d = rank; 0-dim: unchanged) */
export function medianFilter3(x: Float32Array, shape: readonly number[]): Float32Array {
  const out = new Float32Array(x.length)
  const d = shape.length
  if (d === 0 || x.length === 0) {
    out.set(x)
    return out
  }
  const strides = stridesOf(shape)
  // per axis and coordinate: the flat offsets of its 3 reflected neighbours along that axis
  const neighbours = shape.map((size, k) => {
    const table = new Int32Array(size * 3)
    for (let c = 0; c < size; c++) for (let o = 0; o < 3; o++) table[c * 3 + o] = reflectIndex(c + o - 1, size) * strides[k]!
    return table
  })
  const outerCount = 3 ** (d - 1)
  const base = new Int32Array(outerCount)
  const windowSize = outerCount * 3
  const middle = (windowSize - 1) / 2
  const selector = new NearSelector(windowSize)
  let previous = 0
  const last = shape[d - 1]!
  const lastNeighbours = neighbours[d - 1]!
  const coords = new Int32Array(d - 1)
  const lines = x.length / last
  for (let line = 0; line < lines; line++) {
    // offsets of the 3^(d-1) neighbours over the outer axes, shared by the whole line
    let count = 1
    base[0] = 0
    for (let k = 0; k < d - 1; k++) {
      const table = neighbours[k]!
      const c3 = coords[k]! * 3
      for (let j = count - 1; j >= 0; j--) {
        const b = base[j]!
        base[j * 3] = b + table[c3]!
        base[j * 3 + 1] = b + table[c3 + 1]!
        base[j * 3 + 2] = b + table[c3 + 2]!
      }
      count *= 3
    }
    const lineStart = line * last
    // the previous line's first output is a closer guess than the last output of that line
    if (line > 0) previous = out[lineStart - last]!
    for (let j = 0; j < last; j++) {
      const n0 = lastNeighbours[j * 3]!
      const n1 = lastNeighbours[j * 3 + 1]!
      const n2 = lastNeighbours[j * 3 + 2]!
      selector.start(previous)
      for (let q = 0; q < outerCount; q++) {
        const b = base[q]!
        selector.add(x[b + n0]!)
        selector.add(x[b + n1]!)
        selector.add(x[b + n2]!)
      }
      previous = selector.select(middle)
      out[lineStart + j] = previous
    }
    for (let k = d - 2; k >= 0; k--) {
      if (++coords[k]! < shape[k]!) break
      coords[k] = 0
    }
  }
  return out
}

/**
 * The k-th smallest value (0-based), partially reordering `a` (Wirth's selection). Terminates on
 * NaN too: every element that stopped a scan keeps stopping it after the swap.
 */
function selectKth(a: Float32Array, length: number, k: number): number {
  let l = 0
  let r = length - 1
  while (l < r) {
    const pivot = a[k]!
    let i = l
    let j = r
    do {
      while (a[i]! < pivot) i++
      while (pivot < a[j]!) j--
      if (i <= j) {
        const t = a[i]!
        a[i] = a[j]!
        a[j] = t
        i++
        j--
      }
    } while (i <= j)
    if (j < k) l = i
    if (k < i) r = j
  }
  return a[k]!
}

/** past this distance from the guess, a full selection is cheaper than keeping the nearest values */
const NEAR = 12

/**
 * The k-th smallest of a stream of values, computed around a guess (the neighbouring output, whose
 * window shares most values): values are split at the guess without branching as they arrive, then
 * only the few between the guess and the answer are ordered. Exact whatever the guess; fast when
 * the guess is close. Buffers are reused from window to window.
 */
class NearSelector {
  private readonly below: Float32Array
  private readonly above: Float32Array
  private readonly nearest = new Float32Array(NEAR)
  private nBelow = 0
  private nAbove = 0
  private guess = 0

  constructor(size: number) {
    this.below = new Float32Array(size)
    this.above = new Float32Array(size)
  }

  start(guess: number): void {
    this.guess = guess
    this.nBelow = 0
    this.nAbove = 0
  }

  add(v: number): void {
    this.below[this.nBelow] = v
    this.above[this.nAbove] = v
    const isBelow = v < this.guess ? 1 : 0
    this.nBelow += isBelow
    this.nAbove += 1 - isBelow
  }

  select(k: number): number {
    const { below, above, nBelow, nAbove } = this
    if (nBelow > k) {
      const fromTop = nBelow - 1 - k
      return fromTop < NEAR ? this.largest(below, nBelow, fromTop) : selectKth(below, nBelow, k)
    }
    const fromBottom = k - nBelow
    return fromBottom < NEAR ? this.smallest(above, nAbove, fromBottom) : selectKth(above, nAbove, fromBottom)
  }

  /** the j-th largest (0-based) of a[0, n), keeping the j + 1 largest seen in descending order */
  private largest(a: Float32Array, n: number, j: number): number {
    const top = this.nearest
    let filled = 0
    for (let i = 0; i < n; i++) {
      const v = a[i]!
      if (filled > j && !(v > top[j]!)) continue
      let p = filled > j ? j : filled++
      while (p > 0 && top[p - 1]! < v) {
        top[p] = top[p - 1]!
        p--
      }
      top[p] = v
    }
    return top[j]!
  }

  /** the j-th smallest (0-based) of a[0, n), keeping the j + 1 smallest seen in ascending order */
  private smallest(a: Float32Array, n: number, j: number): number {
    const low = this.nearest
    let filled = 0
    for (let i = 0; i < n; i++) {
      const v = a[i]!
      if (filled > j && !(v < low[j]!)) continue
      let p = filled > j ? j : filled++
      while (p > 0 && low[p - 1]! > v) {
        low[p] = low[p - 1]!
        p--
      }
      low[p] = v
    }
    return low[j]!
  }
}

/** separable Gaussian along axis 0, 1, …, rounding to float32 after each axis as scipy does for float32 input */
export function gaussianFilterInPlace(x: Float32Array, shape: readonly number[]): void {
  if (x.length === 0) return
  const strides = stridesOf(shape)
  const taps = GAUSSIAN.length
  shape.forEach((size, k) => {
    // a size-1 axis reflects onto itself: the weights sum to 1, so the pass is the identity
    if (size === 1) return
    const stride = strides[k]!
    const padded = size + 2 * RADIUS
    const source = Int32Array.from({ length: padded }, (_, t) => reflectIndex(t - RADIUS, size) * stride)
    const tileWidth = Math.min(TILE, stride)
    const tile = new Float64Array(padded * tileWidth)
    const blocks = x.length / (size * stride)
    for (let block = 0; block < blocks; block++) {
      const blockStart = block * size * stride
      for (let col = 0; col < stride; col += tileWidth) {
        const width = Math.min(tileWidth, stride - col)
        const origin = blockStart + col
        for (let t = 0; t < padded; t++) {
          const from = origin + source[t]!
          const row = t * tileWidth
          for (let c = 0; c < width; c++) tile[row + c] = x[from + c]!
        }
        for (let t = 0; t < size; t++) {
          const to = origin + t * stride
          for (let c = 0; c < width; c++) {
            let acc = 0
            for (let q = 0; q < taps; q++) acc += GAUSSIAN[q]! * tile[(t + q) * tileWidth + c]!
            x[to + c] = acc
          }
        }
      }
    }
  })
}
