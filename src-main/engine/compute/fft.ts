/*
 * Discrete Fourier transforms in float64 for the frequency-domain methods (crossover,
 * distribution_crossover). tfjs does not fit: its wasm backend has no FFT kernel and tf.spectral
 * transforms only the innermost axis.
 *
 * Lengths whose prime factors are small (the sizes of real weight tensors are 2^a·3^b·5^c) use an
 * iterative Stockham transform with radix-2/3/4/5 butterflies; other factors up to MAX_RADIX use a
 * generic butterfly; a larger prime factor goes through Bluestein's chirp-z algorithm, so every length
 * is O(n log n). A transform runs on a tile of `width` interleaved lines ([length][width], row-major):
 * the innermost loop of every butterfly then walks `width` contiguous values, which is how one axis
 * of a tensor is transformed without strided access. Lengths above MAX_DIRECT_LENGTH are split into
 * short column and row transforms (four-step), which keeps long 1-D transforms cache-friendly.
 *
 * Real tensors (filterRealTensor) only store half of their spectrum: two real lines are transformed
 * as one complex line and separated by the symmetry X[s − k] = conj X[k].
 */

/** prime factors up to this are transformed directly (O(p²) per butterfly); larger ones go through Bluestein */
const MAX_RADIX = 31
/**
 * Longer transforms are split into n₁ × n₂ (the "four-step" FFT): short column and row transforms
 * stay in the CPU cache, and no table or plan of the full length is built or kept.
 */
const MAX_DIRECT_LENGTH = 1 << 16
/** complex values per tile of an axis pass: two tiles (the Stockham ping-pong) stay within a typical L2 cache */
const TILE_ELEMENTS = 1 << 13
/** lines per tile at least, so the butterflies' inner loops stay long even for long axes */
const MIN_TILE_WIDTH = 8

/** One Stockham pass: radix-p butterflies over sub-transforms of length p·m, twiddles W_(p·m)^(j·k) for j < m, 1 ≤ k < p. */
interface Stage {
  radix: number
  m: number
  twRe: Float64Array
  twIm: Float64Array
}

/** A transform of one length; plans are cached, their tables and work buffers reused for every tile. */
export class FftPlan {
  private static readonly cache = new Map<number, FftPlan>()

  static of(length: number): FftPlan {
    let plan = FftPlan.cache.get(length)
    if (!plan) {
      plan = new FftPlan(length)
      // long plans hold buffers of their length: built per use rather than kept
      if (length <= MAX_DIRECT_LENGTH) FftPlan.cache.set(length, plan)
    }
    return plan
  }

  /** null when the length needs Bluestein or the four-step split */
  private readonly stages: readonly Stage[] | null
  private readonly bluestein: Bluestein | null
  /** [n₁, n₂] for the four-step transform of a long composite length */
  private readonly split: readonly [number, number] | null
  /** the Stockham ping-pong buffer, grown to the widest tile seen */
  private workRe = new Float64Array(0)
  private workIm = new Float64Array(0)

  private constructor(readonly length: number) {
    if (!Number.isInteger(length) || length < 1) throw new RangeError(`FFT length ${length} is not a positive integer`)
    const factors = primeFactors(length)
    this.split = length > MAX_DIRECT_LENGTH ? splitLength(length, factors) : null
    const direct = !this.split && factors.every((p) => p <= MAX_RADIX)
    this.stages = direct ? buildStages(length, factors) : null
    this.bluestein = direct || this.split ? null : new Bluestein(length)
  }

  /** In place on one contiguous line, unnormalised: X_k = Σ x_j·e^(∓2πijk/n), minus sign forward; the inverse needs a 1/n by the caller. */
  transform(re: Float64Array, im: Float64Array, inverse: boolean): void {
    const [outRe, outIm] = this.transformTile(re, im, 1, inverse)
    if (outRe !== re) {
      re.set(outRe.subarray(0, this.length))
      im.set(outIm.subarray(0, this.length))
    }
  }

  /**
   * Transforms the `width` lines of a [length][width] tile (line c = elements c, c + width, …),
   * unnormalised. The result is either in (re, im) or in the plan's work buffer: the returned pair
   * says which, and stays valid until the plan's next use.
   */
  transformTile(re: Float64Array, im: Float64Array, width: number, inverse: boolean): [Float64Array, Float64Array] {
    const n = this.length
    if (n === 1) return [re, im]
    const total = n * width
    if (!this.stages) {
      this.transformLinesOneByOne(re, im, width, inverse)
      return [re, im]
    }
    if (this.workRe.length < total) {
      this.workRe = new Float64Array(total)
      this.workIm = new Float64Array(total)
    }
    // the inverse as conj(forward(conj x)): one set of butterflies and twiddles
    if (inverse) negate(im, total)
    let xr = re
    let xi = im
    let yr: Float64Array = this.workRe
    let yi: Float64Array = this.workIm
    let stride = width
    for (const stage of this.stages) {
      runStage(stage, xr, xi, yr, yi, stride, 1)
      ;[xr, yr] = [yr, xr]
      ;[xi, yi] = [yi, xi]
      stride *= stage.radix
    }
    if (inverse) negate(xi, total)
    return [xr, xi]
  }

  /**
   * Lengths 2–5 are one butterfly pass that reads each position before writing it: an axis of such a
   * length is transformed in place over all its `outer` blocks of [length][inner], with no tiles. False
   * for other lengths.
   */
  transformShortAxis(re: Float64Array, im: Float64Array, outer: number, inner: number, inverse: boolean): boolean {
    const stage = this.stages?.length === 1 ? this.stages[0] : undefined
    if (!stage || stage.radix > 5) return false
    const total = outer * this.length * inner
    if (inverse) negate(im, total)
    runStage(stage, re, im, re, im, inner, outer)
    if (inverse) negate(im, total)
    return true
  }

  /** Bluestein and four-step lengths: each line on its own */
  private transformLinesOneByOne(re: Float64Array, im: Float64Array, width: number, inverse: boolean): void {
    const n = this.length
    const single = width === 1
    const lineRe = single ? re : new Float64Array(n)
    const lineIm = single ? im : new Float64Array(n)
    for (let c = 0; c < width; c++) {
      if (!single) {
        for (let j = 0; j < n; j++) {
          lineRe[j] = re[j * width + c]!
          lineIm[j] = im[j * width + c]!
        }
      }
      if (inverse) negate(lineIm, n)
      if (this.split) fourStep(lineRe, lineIm, this.split[0], this.split[1])
      else this.bluestein?.forward(lineRe, lineIm)
      if (inverse) negate(lineIm, n)
      if (!single) {
        for (let j = 0; j < n; j++) {
          re[j * width + c] = lineRe[j]!
          im[j * width + c] = lineIm[j]!
        }
      }
    }
  }
}

/** `blocks` consecutive transforms of p·m·s values each; generic radices only occur within tiles (blocks = 1) */
function runStage({ radix, m, twRe, twIm }: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, stride: number, blocks: number): void {
  if (radix === 2) radix2(xr, xi, yr, yi, stride, m, twRe, twIm, blocks)
  else if (radix === 3) radix3(xr, xi, yr, yi, stride, m, twRe, twIm, blocks)
  else if (radix === 4) radix4(xr, xi, yr, yi, stride, m, twRe, twIm, blocks)
  else if (radix === 5) radix5(xr, xi, yr, yi, stride, m, twRe, twIm, blocks)
  else radixGeneric(radix, xr, xi, yr, yi, stride, m, twRe, twIm)
}

/** radix 4 while possible (fewer passes), then the other prime factors in ascending order */
function buildStages(length: number, factors: readonly number[]): Stage[] {
  const radices: number[] = []
  const twos = factors.filter((p) => p === 2).length
  for (let i = 0; i + 1 < twos; i += 2) radices.push(4)
  if (twos % 2 === 1) radices.push(2)
  radices.push(...factors.filter((p) => p !== 2))
  const stages: Stage[] = []
  let n = length
  for (const radix of radices) {
    const m = n / radix
    const twRe = new Float64Array(m * (radix - 1))
    const twIm = new Float64Array(m * (radix - 1))
    for (let j = 0; j < m; j++) {
      for (let k = 1; k < radix; k++) {
        const angle = (-2 * Math.PI * ((j * k) % n)) / n
        twRe[j * (radix - 1) + k - 1] = Math.cos(angle)
        twIm[j * (radix - 1) + k - 1] = Math.sin(angle)
      }
    }
    stages.push({ radix, m, twRe, twIm })
    n = m
  }
  return stages
}

/*
 * Stockham passes (decimation in frequency, self-sorting): with a = x[q + s·(j + r·m)] for r < p,
 * y[q + s·(p·j + k)] = W_(p·m)^(j·k) · Σ_r a_r·W_p^(r·k). q runs over the s contiguous values of one
 * position: the lines of the tile and the sub-transforms of the previous passes.
 */

function radix2(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, s: number, m: number, twRe: Float64Array, twIm: Float64Array, blocks: number): void {
  const sm = s * m
  for (let block = 0, base = 0; block < blocks; block++, base += sm * 2) {
    for (let j = 0; j < m; j++) {
      const wr = twRe[j]!
      const wi = twIm[j]!
      const x0 = base + s * j
      const y0 = base + 2 * s * j
      for (let q = 0; q < s; q++) {
        const a = x0 + q
        const b = a + sm
        const ar = xr[a]!
        const ai = xi[a]!
        const br = xr[b]!
        const bi = xi[b]!
        const o = y0 + q
        yr[o] = ar + br
        yi[o] = ai + bi
        const dr = ar - br
        const di = ai - bi
        yr[o + s] = dr * wr - di * wi
        yi[o + s] = dr * wi + di * wr
      }
    }
  }
}

/** sin(2π/3) */
const SIN_3 = Math.sqrt(3) / 2

function radix3(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, s: number, m: number, twRe: Float64Array, twIm: Float64Array, blocks: number): void {
  const sm = s * m
  for (let block = 0, base = 0; block < blocks; block++, base += sm * 3) {
    for (let j = 0; j < m; j++) {
      const w1r = twRe[2 * j]!
      const w1i = twIm[2 * j]!
      const w2r = twRe[2 * j + 1]!
      const w2i = twIm[2 * j + 1]!
      const x0 = base + s * j
      const y0 = base + 3 * s * j
      for (let q = 0; q < s; q++) {
        const i0 = x0 + q
        const i1 = i0 + sm
        const i2 = i1 + sm
        const a0r = xr[i0]!
        const a0i = xi[i0]!
        const tr = xr[i1]! + xr[i2]!
        const ti = xi[i1]! + xi[i2]!
        // −i·sin(2π/3)·(a1 − a2)
        const ur = SIN_3 * (xi[i1]! - xi[i2]!)
        const ui = -SIN_3 * (xr[i1]! - xr[i2]!)
        const hr = a0r - 0.5 * tr
        const hi = a0i - 0.5 * ti
        const o = y0 + q
        yr[o] = a0r + tr
        yi[o] = a0i + ti
        const c1r = hr + ur
        const c1i = hi + ui
        const c2r = hr - ur
        const c2i = hi - ui
        yr[o + s] = c1r * w1r - c1i * w1i
        yi[o + s] = c1r * w1i + c1i * w1r
        yr[o + 2 * s] = c2r * w2r - c2i * w2i
        yi[o + 2 * s] = c2r * w2i + c2i * w2r
      }
    }
  }
}

function radix4(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, s: number, m: number, twRe: Float64Array, twIm: Float64Array, blocks: number): void {
  const sm = s * m
  for (let block = 0, base = 0; block < blocks; block++, base += sm * 4) {
    for (let j = 0; j < m; j++) {
      const w1r = twRe[3 * j]!
      const w1i = twIm[3 * j]!
      const w2r = twRe[3 * j + 1]!
      const w2i = twIm[3 * j + 1]!
      const w3r = twRe[3 * j + 2]!
      const w3i = twIm[3 * j + 2]!
      const x0 = base + s * j
      const y0 = base + 4 * s * j
      for (let q = 0; q < s; q++) {
        const i0 = x0 + q
        const i1 = i0 + sm
        const i2 = i1 + sm
        const i3 = i2 + sm
        const t0r = xr[i0]! + xr[i2]!
        const t0i = xi[i0]! + xi[i2]!
        const t1r = xr[i0]! - xr[i2]!
        const t1i = xi[i0]! - xi[i2]!
        const t2r = xr[i1]! + xr[i3]!
        const t2i = xi[i1]! + xi[i3]!
        const t3r = xr[i1]! - xr[i3]!
        const t3i = xi[i1]! - xi[i3]!
        const o = y0 + q
        yr[o] = t0r + t2r
        yi[o] = t0i + t2i
        // c1 = t1 − i·t3, c2 = t0 − t2, c3 = t1 + i·t3
        const c1r = t1r + t3i
        const c1i = t1i - t3r
        const c2r = t0r - t2r
        const c2i = t0i - t2i
        const c3r = t1r - t3i
        const c3i = t1i + t3r
        yr[o + s] = c1r * w1r - c1i * w1i
        yi[o + s] = c1r * w1i + c1i * w1r
        yr[o + 2 * s] = c2r * w2r - c2i * w2i
        yi[o + 2 * s] = c2r * w2i + c2i * w2r
        yr[o + 3 * s] = c3r * w3r - c3i * w3i
        yi[o + 3 * s] = c3r * w3i + c3i * w3r
      }
    }
  }
}

const COS_5_1 = Math.cos((2 * Math.PI) / 5)
const COS_5_2 = Math.cos((4 * Math.PI) / 5)
const SIN_5_1 = Math.sin((2 * Math.PI) / 5)
const SIN_5_2 = Math.sin((4 * Math.PI) / 5)

function radix5(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, s: number, m: number, twRe: Float64Array, twIm: Float64Array, blocks: number): void {
  const sm = s * m
  for (let block = 0, base = 0; block < blocks; block++, base += sm * 5) {
    for (let j = 0; j < m; j++) {
      const t = 4 * j
      const x0 = base + s * j
      const y0 = base + 5 * s * j
      for (let q = 0; q < s; q++) {
        const i0 = x0 + q
        const i1 = i0 + sm
        const i2 = i1 + sm
        const i3 = i2 + sm
        const i4 = i3 + sm
        const a0r = xr[i0]!
        const a0i = xi[i0]!
        const s1r = xr[i1]! + xr[i4]!
        const s1i = xi[i1]! + xi[i4]!
        const s2r = xr[i2]! + xr[i3]!
        const s2i = xi[i2]! + xi[i3]!
        const d1r = xr[i1]! - xr[i4]!
        const d1i = xi[i1]! - xi[i4]!
        const d2r = xr[i2]! - xr[i3]!
        const d2i = xi[i2]! - xi[i3]!
        // c1,4 = a0 + cos₁·s1 + cos₂·s2 ∓ i(sin₁·d1 + sin₂·d2); c2,3 = a0 + cos₂·s1 + cos₁·s2 ∓ i(sin₂·d1 − sin₁·d2)
        const h1r = a0r + COS_5_1 * s1r + COS_5_2 * s2r
        const h1i = a0i + COS_5_1 * s1i + COS_5_2 * s2i
        const h2r = a0r + COS_5_2 * s1r + COS_5_1 * s2r
        const h2i = a0i + COS_5_2 * s1i + COS_5_1 * s2i
        const e1r = SIN_5_1 * d1r + SIN_5_2 * d2r
        const e1i = SIN_5_1 * d1i + SIN_5_2 * d2i
        const e2r = SIN_5_2 * d1r - SIN_5_1 * d2r
        const e2i = SIN_5_2 * d1i - SIN_5_1 * d2i
        const o = y0 + q
        yr[o] = a0r + s1r + s2r
        yi[o] = a0i + s1i + s2i
        twiddle(yr, yi, o + s, h1r + e1i, h1i - e1r, twRe[t]!, twIm[t]!)
        twiddle(yr, yi, o + 2 * s, h2r + e2i, h2i - e2r, twRe[t + 1]!, twIm[t + 1]!)
        twiddle(yr, yi, o + 3 * s, h2r - e2i, h2i + e2r, twRe[t + 2]!, twIm[t + 2]!)
        twiddle(yr, yi, o + 4 * s, h1r - e1i, h1i + e1r, twRe[t + 3]!, twIm[t + 3]!)
      }
    }
  }
}

function twiddle(yr: Float64Array, yi: Float64Array, o: number, cr: number, ci: number, wr: number, wi: number): void {
  yr[o] = cr * wr - ci * wi
  yi[o] = cr * wi + ci * wr
}

/** any radix up to MAX_RADIX, by the O(p²) definition */
function radixGeneric(p: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, s: number, m: number, twRe: Float64Array, twIm: Float64Array): void {
  const sm = s * m
  const rootRe = Float64Array.from({ length: p }, (_, e) => Math.cos((-2 * Math.PI * e) / p))
  const rootIm = Float64Array.from({ length: p }, (_, e) => Math.sin((-2 * Math.PI * e) / p))
  for (let j = 0; j < m; j++) {
    const x0 = s * j
    const y0 = p * s * j
    for (let q = 0; q < s; q++) {
      for (let k = 0; k < p; k++) {
        let cr = 0
        let ci = 0
        for (let r = 0, e = 0; r < p; r++, e = (e + k) % p) {
          const i = x0 + q + r * sm
          cr += xr[i]! * rootRe[e]! - xi[i]! * rootIm[e]!
          ci += xr[i]! * rootIm[e]! + xi[i]! * rootRe[e]!
        }
        const o = y0 + q + k * s
        if (k === 0) {
          yr[o] = cr
          yi[o] = ci
        } else twiddle(yr, yi, o, cr, ci, twRe[j * (p - 1) + k - 1]!, twIm[j * (p - 1) + k - 1]!)
      }
    }
  }
}

/** n₁ × n₂ = n with n₁ the largest product of the smallest factors not above √n; null for a prime */
function splitLength(n: number, factors: readonly number[]): [number, number] | null {
  let n1 = 1
  for (const p of factors) {
    if (n1 * p * n1 * p > n) break
    n1 *= p
  }
  return n1 === 1 ? null : [n1, n / n1]
}

/**
 * W_n^e = e^(−2πie/n) for 0 ≤ e < n from two tables of about √n entries (W^(hi·T) · W^lo), so long
 * four-step transforms need neither a table of their length nor a sin/cos per element.
 */
class LongTwiddles {
  private readonly t: number
  private readonly loRe: Float64Array
  private readonly loIm: Float64Array
  private readonly hiRe: Float64Array
  private readonly hiIm: Float64Array

  constructor(n: number) {
    const t = Math.ceil(Math.sqrt(n))
    this.t = t
    const angle = (e: number): number => (-2 * Math.PI * e) / n
    this.loRe = Float64Array.from({ length: t }, (_, e) => Math.cos(angle(e)))
    this.loIm = Float64Array.from({ length: t }, (_, e) => Math.sin(angle(e)))
    const hiLength = Math.ceil(n / t)
    this.hiRe = Float64Array.from({ length: hiLength }, (_, h) => Math.cos(angle(h * t)))
    this.hiIm = Float64Array.from({ length: hiLength }, (_, h) => Math.sin(angle(h * t)))
  }

  /** row k₁ of an [rows][n₂] array times W_n^(±j₂·k₁) for every column j₂ (plus sign when conjugate) */
  applyToRows(re: Float64Array, im: Float64Array, rows: number, n2: number, conjugate: boolean): void {
    const { t, loRe, loIm, hiRe, hiIm } = this
    const sign = conjugate ? -1 : 1
    for (let k1 = 1; k1 < rows; k1++) {
      // e = j₂·k₁ = hi·t + lo, advanced by k₁ per column without a division
      let hi = 0
      let lo = 0
      const stepHi = Math.floor(k1 / t)
      const stepLo = k1 - stepHi * t
      for (let j2 = 0, i = k1 * n2; j2 < n2; j2++, i++) {
        const hr = hiRe[hi]!
        const hiI = hiIm[hi]!
        const wr = hr * loRe[lo]! - hiI * loIm[lo]!
        const wi = sign * (hr * loIm[lo]! + hiI * loRe[lo]!)
        const r = re[i]!
        re[i] = r * wr - im[i]! * wi
        im[i] = r * wi + im[i]! * wr
        hi += stepHi
        lo += stepLo
        if (lo >= t) {
          lo -= t
          hi++
        }
      }
    }
  }
}

/**
 * X[k₁ + n₁k₂] = Σ_j₂ W_n₂^(j₂k₂) · W_n^(j₂k₁) · Σ_j₁ W_n₁^(j₁k₁) · x[n₂j₁ + j₂]: transforms of length
 * n₁ down the columns of x seen as n₁ × n₂, twiddles, transforms along the rows, then a transpose.
 */
function fourStep(re: Float64Array, im: Float64Array, n1: number, n2: number): void {
  const n = n1 * n2
  transformAxis(re, im, 1, n1, n2, false)
  new LongTwiddles(n).applyToRows(re, im, n1, n2, false)
  transformAxis(re, im, n1, n2, 1, false)
  const tRe = new Float64Array(n)
  const tIm = new Float64Array(n)
  for (let k1 = 0; k1 < n1; k1++) {
    for (let k2 = 0, i = k1 * n2; k2 < n2; k2++, i++) {
      tRe[k1 + n1 * k2] = re[i]!
      tIm[k1 + n1 * k2] = im[i]!
    }
  }
  re.set(tRe)
  im.set(tIm)
}

/**
 * The tiles of an axis pass over `outer` blocks of [size][inner] values: each tile is about `targetWidth` lines,
 * either a run of columns of one block (long inner) or whole blocks side by side (short inner).
 * `offsets[c]` is where line c starts relative to the tile's base, for a block of `size` rows.
 */
class AxisTiles {
  private readonly blocksPerTile: number
  private readonly columnsPerTile: number

  constructor(
    private readonly outer: number,
    private readonly inner: number,
    targetWidth: number,
  ) {
    this.columnsPerTile = Math.min(inner, targetWidth)
    // rounded: a tile of whole blocks may exceed the target by up to half a block (9 columns of a 3×3 conv: 18 lines, not 9)
    this.blocksPerTile = inner >= targetWidth ? 1 : Math.max(1, Math.round(targetWidth / inner))
  }

  /** lines in the widest tile */
  get maxWidth(): number {
    return this.columnsPerTile * Math.min(this.blocksPerTile, this.outer)
  }

  /** calls visit(block, column, blocks, columns) for every tile */
  forEach(visit: (block: number, column: number, blocks: number, columns: number) => void): void {
    for (let block = 0; block < this.outer; block += this.blocksPerTile) {
      const blocks = Math.min(this.blocksPerTile, this.outer - block)
      for (let column = 0; column < this.inner; column += this.columnsPerTile) visit(block, column, blocks, Math.min(this.columnsPerTile, this.inner - column))
    }
  }

  /** start of each line of a tile relative to the tile's first element, in an array whose axis has `size` entries */
  offsets(blocks: number, columns: number, size: number, out: Int32Array): void {
    for (let b = 0, c = 0; b < blocks; b++) for (let q = 0; q < columns; q++, c++) out[c] = b * size * this.inner + q
  }
}

function tileWidth(size: number): number {
  return Math.max(MIN_TILE_WIDTH, Math.floor(TILE_ELEMENTS / size))
}

/** Transforms one axis (outer blocks of [size][inner]) of a complex row-major array, in place, unnormalised. */
function transformAxis(re: Float64Array, im: Float64Array, outer: number, size: number, inner: number, inverse: boolean): void {
  const plan = FftPlan.of(size)
  if (outer * inner === 1) return plan.transform(re, im, inverse)
  if (plan.transformShortAxis(re, im, outer, inner, inverse)) return
  const tiles = new AxisTiles(outer, inner, tileWidth(size))
  const maxWidth = tiles.maxWidth
  const tileRe = new Float64Array(size * maxWidth)
  const tileIm = new Float64Array(size * maxWidth)
  const offsets = new Int32Array(maxWidth)
  tiles.forEach((block, column, blocks, columns) => {
    const width = blocks * columns
    tiles.offsets(blocks, columns, size, offsets)
    const base = block * size * inner + column
    for (let j = 0; j < size; j++) {
      const row = base + j * inner
      for (let c = 0, t = j * width; c < width; c++, t++) {
        tileRe[t] = re[row + offsets[c]!]!
        tileIm[t] = im[row + offsets[c]!]!
      }
    }
    const [outRe, outIm] = plan.transformTile(tileRe, tileIm, width, inverse)
    for (let j = 0; j < size; j++) {
      const row = base + j * inner
      for (let c = 0, t = j * width; c < width; c++, t++) {
        re[row + offsets[c]!] = outRe[t]!
        im[row + offsets[c]!] = outIm[t]!
      }
    }
  })
}

/** One tile of realForwardAxis / realInverseAxis: `width` real lines paired into `paired` complex ones. */
interface PairedTile {
  readonly width: number
  readonly paired: number
  /** where the tile starts in the input and output arrays, and where each of its lines starts relative to that */
  readonly inBase: number
  readonly outBase: number
  readonly inOffsets: Int32Array
  readonly outOffsets: Int32Array
}

/**
 * Visits the tiles of a real axis of `size` between a full-length array and a half-spectrum one
 * (⌊size/2⌋ + 1 entries): `inSize` / `outSize` say which is which. `zRe`, `zIm` are the paired lines'
 * scratch, `size` rows of `paired`, shared by every tile.
 */
function forEachPairedTile(
  outer: number,
  size: number,
  inner: number,
  direction: 'to-half' | 'from-half',
  visit: (tile: PairedTile, zRe: Float64Array, zIm: Float64Array) => void,
): void {
  const halfSize = Math.floor(size / 2) + 1
  const [inSize, outSize] = direction === 'to-half' ? [size, halfSize] : [halfSize, size]
  const tiles = new AxisTiles(outer, inner, 2 * tileWidth(size))
  const pairs = Math.ceil(tiles.maxWidth / 2)
  const zRe = new Float64Array(size * pairs)
  const zIm = new Float64Array(size * pairs)
  const inOffsets = new Int32Array(tiles.maxWidth)
  const outOffsets = new Int32Array(tiles.maxWidth)
  tiles.forEach((block, column, blocks, columns) => {
    const width = blocks * columns
    tiles.offsets(blocks, columns, inSize, inOffsets)
    tiles.offsets(blocks, columns, outSize, outOffsets)
    const inBase = block * inSize * inner + column
    const outBase = block * outSize * inner + column
    visit({ width, paired: Math.ceil(width / 2), inBase, outBase, inOffsets, outOffsets }, zRe, zIm)
  })
}

/**
 * The half spectrum of a real axis of `size` (outer blocks of [size][inner]) into `half`
 * (blocks of [⌊size/2⌋ + 1][inner]): lines c and c + ⌈width/2⌉ of a tile are the real and imaginary
 * parts of one complex line Z, and X₁[k] = (Z[k] + conj Z[−k])/2, X₂[k] = (Z[k] − conj Z[−k])/2i.
 */
function realForwardAxis(x: Float64Array, halfRe: Float64Array, halfIm: Float64Array, outer: number, size: number, inner: number): void {
  const plan = FftPlan.of(size)
  const halfSize = Math.floor(size / 2) + 1
  forEachPairedTile(outer, size, inner, 'to-half', ({ width, paired, inBase, outBase, inOffsets, outOffsets }, zRe, zIm) => {
    for (let j = 0; j < size; j++) {
      const row = inBase + j * inner
      const t = j * paired
      for (let c = 0; c < paired; c++) zRe[t + c] = x[row + inOffsets[c]!]!
      for (let c = paired; c < width; c++) zIm[t + c - paired] = x[row + inOffsets[c]!]!
      if (width % 2 === 1) zIm[t + paired - 1] = 0
    }
    const [outRe, outIm] = plan.transformTile(zRe, zIm, paired, false)
    for (let k = 0; k < halfSize; k++) {
      const row = outBase + k * inner
      const t = k * paired
      const u = ((size - k) % size) * paired
      for (let c = 0; c < paired; c++) {
        const ar = outRe[t + c]!
        const ai = outIm[t + c]!
        const br = outRe[u + c]!
        const bi = outIm[u + c]!
        halfRe[row + outOffsets[c]!] = 0.5 * (ar + br)
        halfIm[row + outOffsets[c]!] = 0.5 * (ai - bi)
        if (c + paired < width) {
          halfRe[row + outOffsets[c + paired]!] = 0.5 * (ai + bi)
          halfIm[row + outOffsets[c + paired]!] = 0.5 * (br - ar)
        }
      }
    }
  })
}

/**
 * The inverse of realForwardAxis, times `scale`: two Hermitian half spectra X₁, X₂ become one full
 * spectrum Z = X₁ + i·X₂ (Z[−k] = conj X₁[k] + i·conj X₂[k]), whose inverse transform is x₁ + i·x₂.
 */
function realInverseAxis(halfRe: Float64Array, halfIm: Float64Array, x: Float64Array, outer: number, size: number, inner: number, scale: number): void {
  const plan = FftPlan.of(size)
  const halfSize = Math.floor(size / 2) + 1
  forEachPairedTile(outer, size, inner, 'from-half', ({ width, paired, inBase, outBase, inOffsets, outOffsets }, zRe, zIm) => {
    for (let k = 0; k < halfSize; k++) {
      const row = inBase + k * inner
      const t = k * paired
      // the mirrored entry −k, where it is not itself in the half spectrum
      const u = k > 0 && size - k >= halfSize ? (size - k) * paired : -1
      for (let c = 0; c < paired; c++) {
        const ar = halfRe[row + inOffsets[c]!]!
        const ai = halfIm[row + inOffsets[c]!]!
        const second = c + paired < width
        const br = second ? halfRe[row + inOffsets[c + paired]!]! : 0
        const bi = second ? halfIm[row + inOffsets[c + paired]!]! : 0
        zRe[t + c] = ar - bi
        zIm[t + c] = ai + br
        if (u >= 0) {
          zRe[u + c] = ar + bi
          zIm[u + c] = br - ai
        }
      }
    }
    const [outRe, outIm] = plan.transformTile(zRe, zIm, paired, true)
    for (let j = 0; j < size; j++) {
      const row = outBase + j * inner
      const t = j * paired
      for (let c = 0; c < paired; c++) x[row + outOffsets[c]!] = outRe[t + c]! * scale
      for (let c = paired; c < width; c++) x[row + outOffsets[c]!] = outIm[t + c - paired]! * scale
    }
  })
}

/** prime factors in ascending order */
function primeFactors(n: number): number[] {
  const factors: number[] = []
  let rest = n
  for (let p = 2; p * p <= rest; p++) {
    while (rest % p === 0) {
      factors.push(p)
      rest /= p
    }
  }
  if (rest > 1) factors.push(rest)
  return factors
}

function negate(x: Float64Array, count: number): void {
  for (let i = 0; i < count; i++) x[i] = -x[i]!
}

/** X_k = c̄_k · Σ_j (x_j c̄_j)·c_(k−j) with the chirp c_j = e^(iπj²/n), the convolution done by power-of-two FFTs. */
class Bluestein {
  private readonly m: number
  private readonly inner: FftPlan
  private readonly chirpRe: Float64Array
  private readonly chirpIm: Float64Array
  /** FFT of the chirp laid out for a circular convolution of length m */
  private readonly kernelRe: Float64Array
  private readonly kernelIm: Float64Array
  private readonly workRe: Float64Array
  private readonly workIm: Float64Array

  constructor(private readonly n: number) {
    let m = 1
    while (m < 2 * n - 1) m <<= 1
    this.m = m
    this.inner = FftPlan.of(m)
    this.chirpRe = new Float64Array(n)
    this.chirpIm = new Float64Array(n)
    // j² mod 2n, updated as (j + 1)² = j² + 2j + 1: exact integers keep the phase of long chirps
    for (let j = 0, square = 0; j < n; square = (square + 2 * j + 1) % (2 * n), j++) {
      const angle = (Math.PI * square) / n
      this.chirpRe[j] = Math.cos(angle)
      this.chirpIm[j] = Math.sin(angle)
    }
    this.kernelRe = new Float64Array(m)
    this.kernelIm = new Float64Array(m)
    for (let j = 0; j < n; j++) {
      this.kernelRe[j] = this.chirpRe[j]!
      this.kernelIm[j] = this.chirpIm[j]!
      if (j > 0) {
        this.kernelRe[m - j] = this.chirpRe[j]!
        this.kernelIm[m - j] = this.chirpIm[j]!
      }
    }
    this.inner.transform(this.kernelRe, this.kernelIm, false)
    this.workRe = new Float64Array(m)
    this.workIm = new Float64Array(m)
  }

  forward(re: Float64Array, im: Float64Array): void {
    const { n, m, chirpRe, chirpIm, kernelRe, kernelIm, workRe, workIm } = this
    workRe.fill(0)
    workIm.fill(0)
    for (let j = 0; j < n; j++) {
      // x_j · conj(c_j)
      workRe[j] = re[j]! * chirpRe[j]! + im[j]! * chirpIm[j]!
      workIm[j] = im[j]! * chirpRe[j]! - re[j]! * chirpIm[j]!
    }
    this.inner.transform(workRe, workIm, false)
    for (let k = 0; k < m; k++) {
      const r = workRe[k]! * kernelRe[k]! - workIm[k]! * kernelIm[k]!
      const i = workRe[k]! * kernelIm[k]! + workIm[k]! * kernelRe[k]!
      workRe[k] = r
      workIm[k] = i
    }
    this.inner.transform(workRe, workIm, true)
    for (let k = 0; k < n; k++) {
      const r = workRe[k]! / m
      const i = workIm[k]! / m
      // conj(c_k) · convolution
      re[k] = r * chirpRe[k]! + i * chirpIm[k]!
      im[k] = i * chirpRe[k]! - r * chirpIm[k]!
    }
  }
}

/**
 * Where filterRealTensor expects its gain: a row-major array of `shape` (the tensor's shape with
 * axis `axis` cut to ⌊s/2⌋ + 1 entries), entry (k₀, …) for the frequency k_d of each axis in FFT order
 * (0, 1, …, s − 1 ≡ −1) and only the non-negative frequencies 0 … ⌊s/2⌋ along `axis`; the other half
 * is the mirror image. The cut axis is the longest one (the last of equally long ones): it saves most.
 */
export function halfSpectrumShape(shape: readonly number[]): { axis: number; shape: number[] } {
  const dims = shape.length === 0 ? [1] : shape
  let axis = 0
  dims.forEach((s, d) => {
    if (s >= dims[axis]!) axis = d
  })
  return { axis, shape: dims.map((s, d) => (d === axis ? Math.floor(s / 2) + 1 : s)) }
}

/**
 * x ← ifftn(g · fftn(x)) for a real tensor x (row-major, `shape`) and a real gain g that is the same at
 * every frequency and its negative (so the result is real), in place. `gain` covers half the spectrum
 * as halfSpectrumShape describes.
 */
export function filterRealTensor(x: Float64Array, shape: readonly number[], gain: Float64Array): void {
  const dims = shape.length === 0 ? [1] : shape
  const n = x.length
  const half = halfSpectrumShape(dims)
  const halfCount = half.shape.reduce((p, s) => p * s, 1)
  if (gain.length !== halfCount) throw new RangeError(`gain has ${gain.length} entries, the half spectrum of [${dims.join(', ')}] has ${halfCount}`)
  if (dims.length === 1 && n > MAX_DIRECT_LENGTH) return filterLongLine(x, gain)
  const re = new Float64Array(halfCount)
  const im = new Float64Array(halfCount)
  const strideOf = (sizes: readonly number[], d: number): number => sizes.slice(d + 1).reduce((p, s) => p * s, 1)
  const outerOf = (sizes: readonly number[], d: number): number => sizes.slice(0, d).reduce((p, s) => p * s, 1)
  const { axis } = half
  const size = dims[axis]!
  realForwardAxis(x, re, im, outerOf(dims, axis), size, strideOf(dims, axis))
  const others = dims.flatMap((s, d) => (d !== axis && s > 1 ? [d] : []))
  for (const d of others) transformAxis(re, im, outerOf(half.shape, d), dims[d]!, strideOf(half.shape, d), false)
  for (let i = 0; i < halfCount; i++) {
    re[i] = re[i]! * gain[i]!
    im[i] = im[i]! * gain[i]!
  }
  for (const d of others) transformAxis(re, im, outerOf(half.shape, d), dims[d]!, strideOf(half.shape, d), true)
  realInverseAxis(re, im, x, outerOf(dims, axis), size, strideOf(dims, axis), 1 / n)
}

/**
 * A long 1-D signal by the four-step split n₁ × n₂ on the half spectrum: the column transforms are
 * real (half of the n₁ rows kept, which is enough: each column of the inverse is Hermitian because its
 * inverse transform is real), then twiddles and the row transforms; entry (k₁, k₂) is frequency k₁ + n₁k₂.
 */
function filterLongLine(x: Float64Array, gain: Float64Array): void {
  const n = x.length
  const split = splitLength(n, primeFactors(n))
  if (!split) return filterByFullSpectrum(x, gain)
  const [n1, n2] = split
  const rows = Math.floor(n1 / 2) + 1
  const re = new Float64Array(rows * n2)
  const im = new Float64Array(rows * n2)
  realForwardAxis(x, re, im, 1, n1, n2)
  const twiddles = new LongTwiddles(n)
  twiddles.applyToRows(re, im, rows, n2, false)
  transformAxis(re, im, rows, n2, 1, false)
  for (let k1 = 0, i = 0; k1 < rows; k1++) {
    for (let k2 = 0, k = k1; k2 < n2; k2++, i++, k += n1) {
      const g = gain[Math.min(k, n - k)]!
      re[i] = re[i]! * g
      im[i] = im[i]! * g
    }
  }
  transformAxis(re, im, rows, n2, 1, true)
  twiddles.applyToRows(re, im, rows, n2, true)
  realInverseAxis(re, im, x, 1, n1, n2, 1 / n)
}

/** a long prime length: the plain complex transform (Bluestein) */
function filterByFullSpectrum(x: Float64Array, gain: Float64Array): void {
  const n = x.length
  const re = Float64Array.from(x)
  const im = new Float64Array(n)
  const plan = FftPlan.of(n)
  plan.transform(re, im, false)
  for (let k = 0; k < n; k++) {
    const g = gain[Math.min(k, n - k)]!
    re[k] = re[k]! * g
    im[k] = im[k]! * g
  }
  plan.transform(re, im, true)
  for (let j = 0; j < n; j++) x[j] = re[j]! / n
}
