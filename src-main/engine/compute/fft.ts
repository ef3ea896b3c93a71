/*
 * Complex discrete Fourier transforms of any length, in float64, for the frequency-domain methods
 * (crossover, distribution_crossover). tfjs does not fit: its wasm backend has no FFT kernel and
 * tf.spectral transforms only the innermost axis. Lengths whose prime factors are small (the sizes
 * of real weight tensors: 3, 320, 1280, 2^k·3^j·5…) use a recursive mixed-radix Cooley–Tukey
 * transform; lengths with a prime factor above MAX_RADIX use Bluestein's chirp-z algorithm on top
 * of a power-of-two transform, so every length is O(n log n). Lengths above MAX_DIRECT_LENGTH are
 * split into short column and row transforms (four-step), which keeps long 1-D transforms cache-friendly.
 */

/** prime factors up to this are transformed directly (O(p²) per butterfly); larger ones go through Bluestein */
const MAX_RADIX = 31
/**
 * Longer transforms are split into n₁ × n₂ (the "four-step" FFT): short column and row transforms
 * stay in the CPU cache, and no table or plan of the full length is built or kept.
 */
const MAX_DIRECT_LENGTH = 1 << 16

/** A transform of one length; plans are cached, their tables reused for every line of a tensor. */
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

  private readonly factors: readonly number[]
  private readonly bluestein: Bluestein | null
  /** [n₁, n₂] for the four-step transform of a long composite length */
  private readonly split: readonly [number, number] | null
  /** W_n^j = e^(−2πij/n) for j < n */
  private readonly cos: Float64Array
  private readonly sin: Float64Array
  private readonly outRe: Float64Array
  private readonly outIm: Float64Array
  private readonly termRe = new Float64Array(MAX_RADIX)
  private readonly termIm = new Float64Array(MAX_RADIX)

  private constructor(readonly length: number) {
    if (!Number.isInteger(length) || length < 1) throw new RangeError(`FFT length ${length} is not a positive integer`)
    this.factors = primeFactors(length)
    this.split = length > MAX_DIRECT_LENGTH ? splitLength(length, this.factors) : null
    const direct = !this.split && this.factors.every((p) => p <= MAX_RADIX)
    this.bluestein = direct || this.split ? null : new Bluestein(length)
    const tableLength = direct ? length : 0
    this.cos = Float64Array.from({ length: tableLength }, (_, j) => Math.cos((2 * Math.PI * j) / length))
    this.sin = Float64Array.from({ length: tableLength }, (_, j) => -Math.sin((2 * Math.PI * j) / length))
    this.outRe = new Float64Array(tableLength)
    this.outIm = new Float64Array(tableLength)
  }

  /** In place, unnormalised: X_k = Σ x_j·e^(∓2πijk/n), minus sign forward; the inverse needs a 1/n by the caller. */
  transform(re: Float64Array, im: Float64Array, inverse: boolean): void {
    if (this.length === 1) return
    if (inverse) negate(im)
    if (this.split) fourStep(re, im, this.split[0], this.split[1])
    else if (this.bluestein) this.bluestein.forward(re, im)
    else {
      this.recurse(this.length, 0, re, im, 0, 1, 0)
      re.set(this.outRe)
      im.set(this.outIm)
    }
    if (inverse) negate(im)
  }

  /**
   * Decimation in time: the DFT of the n inputs at in[offset + j·stride] goes to out[at, at + n):
   * p sub-transforms of the inputs q, q + p, … (q < p), then radix-p butterflies.
   */
  private recurse(n: number, level: number, inRe: Float64Array, inIm: Float64Array, offset: number, stride: number, at: number): void {
    const { cos, sin, outRe, outIm, termRe, termIm, length } = this
    const p = this.factors[level]!
    const m = n / p
    /** W_p^e as an index into the W_length table */
    const radixStep = length / p
    if (m === 1) {
      for (let r = 0; r < p; r++) {
        let sr = 0
        let si = 0
        for (let q = 0; q < p; q++) {
          const w = ((q * r) % p) * radixStep
          const xr = inRe[offset + q * stride]!
          const xi = inIm[offset + q * stride]!
          sr += xr * cos[w]! - xi * sin[w]!
          si += xr * sin[w]! + xi * cos[w]!
        }
        outRe[at + r] = sr
        outIm[at + r] = si
      }
      return
    }
    for (let q = 0; q < p; q++) this.recurse(m, level + 1, inRe, inIm, offset + q * stride, stride * p, at + q * m)
    /** W_n^e as an index into the W_length table */
    const step = length / n
    if (p === 2) {
      for (let k = 0; k < m; k++) {
        const w = k * step
        const a = at + k
        const b = a + m
        const tr = outRe[b]! * cos[w]! - outIm[b]! * sin[w]!
        const ti = outRe[b]! * sin[w]! + outIm[b]! * cos[w]!
        outRe[b] = outRe[a]! - tr
        outIm[b] = outIm[a]! - ti
        outRe[a] = outRe[a]! + tr
        outIm[a] = outIm[a]! + ti
      }
      return
    }
    for (let k = 0; k < m; k++) {
      for (let q = 0; q < p; q++) {
        const w = (q * k * step) % length
        const y = at + q * m + k
        termRe[q] = outRe[y]! * cos[w]! - outIm[y]! * sin[w]!
        termIm[q] = outRe[y]! * sin[w]! + outIm[y]! * cos[w]!
      }
      for (let r = 0; r < p; r++) {
        let sr = 0
        let si = 0
        for (let q = 0; q < p; q++) {
          const w = ((q * r) % p) * radixStep
          sr += termRe[q]! * cos[w]! - termIm[q]! * sin[w]!
          si += termRe[q]! * sin[w]! + termIm[q]! * cos[w]!
        }
        outRe[at + r * m + k] = sr
        outIm[at + r * m + k] = si
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
 * X[k₁ + n₁k₂] = Σ_j₂ W_n₂^(j₂k₂) · W_n^(j₂k₁) · Σ_j₁ W_n₁^(j₁k₁) · x[n₂j₁ + j₂]: transforms of length
 * n₁ down the columns of x seen as n₁ × n₂, twiddles, transforms along the rows, then a transpose.
 */
function fourStep(re: Float64Array, im: Float64Array, n1: number, n2: number): void {
  const n = n1 * n2
  transformLines(re, im, n1, n2, false)
  for (let k1 = 1; k1 < n1; k1++) {
    for (let j2 = 1, i = k1 * n2 + 1; j2 < n2; j2++, i++) {
      const angle = (-2 * Math.PI * ((j2 * k1) % n)) / n
      const c = Math.cos(angle)
      const s = Math.sin(angle)
      const r = re[i]!
      re[i] = r * c - im[i]! * s
      im[i] = r * s + im[i]! * c
    }
  }
  transformLines(re, im, n2, 1, false)
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

/** Transforms every line of `size` elements `stride` apart (one axis of a row-major tensor), in place, unnormalised. */
function transformLines(re: Float64Array, im: Float64Array, size: number, stride: number, inverse: boolean): void {
  const n = re.length
  const plan = FftPlan.of(size)
  if (size === n) return plan.transform(re, im, inverse)
  const lineRe = new Float64Array(size)
  const lineIm = new Float64Array(size)
  // lines along this axis: every (outer, inner) pair, elements `stride` apart
  const block = size * stride
  for (let outer = 0; outer < n; outer += block) {
    for (let inner = 0; inner < stride; inner++) {
      const first = outer + inner
      for (let j = 0, p = first; j < size; j++, p += stride) {
        lineRe[j] = re[p]!
        lineIm[j] = im[p]!
      }
      plan.transform(lineRe, lineIm, inverse)
      for (let j = 0, p = first; j < size; j++, p += stride) {
        re[p] = lineRe[j]!
        im[p] = lineIm[j]!
      }
    }
  }
}

/** prime factors in ascending order (2s first: the specialised butterfly runs at the deepest levels) */
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

function negate(x: Float64Array): void {
  for (let i = 0; i < x.length; i++) x[i] = -x[i]!
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
 * The N-dimensional transform over every axis of a row-major tensor of `shape`, in place on
 * (re, im); inverse includes the 1/n normalisation.
 */
export function fftn(re: Float64Array, im: Float64Array, shape: readonly number[], inverse: boolean): void {
  const n = re.length
  let stride = n
  for (const size of shape) {
    stride /= size
    if (size > 1) transformLines(re, im, size, stride, inverse)
  }
  if (inverse) {
    for (let i = 0; i < n; i++) {
      re[i] = re[i]! / n
      im[i] = im[i]! / n
    }
  }
}
