import { fftn } from '../compute/fft'
import { lerp } from '../compute/lerp'
import type { TensorStream } from '../compute/tensor-stream'
import { passThrough } from './kernel-helpers'
import { defineMethod, type KernelContext } from './types'

export const crossover = defineMethod({
  id: 'crossover',
  aliases: [],
  label: 'Frequency crossover (sd-mecha)',
  description:
    "Mixes A and B by frequency, like an audio crossover: both tensors are Fourier-transformed over all their axes, the low-frequency part (the smooth, large-scale structure of the weights) is taken from A and the high-frequency part (fine detail) from B, and the result is transformed back. alpha is the share of the spectrum taken from B, counted from the highest frequencies: 0 = A, 1 = B. tilt turns the sharp cut into a ramp: 0 = hard cut, between 0 and 1 a soft blend, 1 = a plain weighted sum; 2 swaps the roles (low frequencies from B), and the pattern repeats every 4.",
  reference: 'https://github.com/ljleb/sd-mecha',
  inputs: {
    min: 2,
    max: 2,
    base: 'none',
    roles: ['model a (gives the low frequencies)', 'model b (gives the high frequencies)'],
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Share of the spectrum taken from B, from the highest frequencies down: 0 = A, 1 = B.',
      default: 0.5,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    tilt: {
      type: 'number',
      label: 'tilt',
      description: 'Shape of the cut: 0 = sharp, up to 1 = ever softer ramp (1 = weighted sum), 2 = sharp with A and B swapped; periodic with period 4.',
      default: 0,
      ui: { min: 0, max: 4, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['F'],
  randomness: 'deterministic',
  chunked: false,
  // A, B, the complex spectrum in float64 (4 float32 units), the frequency mesh and the output
  memoryFactor: 8,
  kernel(ctx) {
    const { alpha, tilt } = ctx.params
    const [a, b] = ctx.inputs as [TensorStream, TensorStream]
    if (alpha === 0) return passThrough(ctx, a)
    if (alpha === 1) return passThrough(ctx, b)
    if (ctx.numel === 0) return
    const x = a.read(0, ctx.numel)
    const y = b.read(0, ctx.numel)
    if (tilt === 1 || ctx.shape.length === 0 || allClose(x, y)) return writeLerp(ctx, x, y, alpha)
    const filter = crossoverFilter(alpha, tilt)
    ctx.out.write(0, mixSpectra(x, y, ctx.shape, frequencyMesh(ctx.shape), filter))
  },
})

/**
 * out = irfftn((1 − f)·rfftn(A) + f·rfftn(B)), computed as A + ifftn(f·fftn(B − A)) on the full
 * spectrum: f is symmetric under negating every frequency, so the result is real and equals the
 * half-spectrum form. `mesh[i]` is the frequency coordinate of spectrum entry i.
 */
export function mixSpectra(x: Float32Array, y: Float32Array, shape: readonly number[], mesh: Float32Array, filter: (mesh: number) => number): Float32Array {
  const n = x.length
  const re = Float64Array.from(y, (v, i) => v - x[i]!)
  const im = new Float64Array(n)
  fftn(re, im, shape, false)
  for (let i = 0; i < n; i++) {
    const f = filter(mesh[i]!)
    re[i] = re[i]! * f
    im[i] = im[i]! * f
  }
  fftn(re, im, shape, true)
  return Float32Array.from(x, (v, i) => v + re[i]!)
}

/**
 * sd-mecha's frequency coordinate of every spectrum entry, in float32 like its filter: per axis of
 * size s, |k|/⌊s/2⌋ with |k| = min(k, s − k) (0 for s = 1), combined as sqrt(mean over axes of
 * coordinate²); a 1-D tensor uses the coordinate itself.
 */
export function frequencyMesh(shape: readonly number[]): Float32Array {
  const dims = shape.length === 0 ? [1] : shape
  const coordinates = dims.map((s) => Float32Array.from({ length: s }, (_, k) => (s === 1 ? 0 : Math.min(k, s - k) / Math.floor(s / 2))))
  const squares = coordinates.map((c) => c.map((v) => v * v))
  const n = dims.reduce((p, s) => p * s, 1)
  const mesh = new Float32Array(n)
  const index = new Array<number>(dims.length).fill(0)
  for (let i = 0; i < n; i++) {
    let sum = 0
    for (let d = 0; d < dims.length; d++) sum = Math.fround(sum + squares[d]![index[d]!]!)
    mesh[i] = dims.length === 1 ? coordinates[0]![index[0]!]! : Math.sqrt(Math.fround(sum / dims.length))
    // odometer over the row-major multi-index
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++index[d]! < dims[d]!) break
      index[d] = 0
    }
  }
  return mesh
}

/**
 * sd-mecha's crossover filter as a function of the frequency coordinate: the share of B. The cut is
 * tilted around (0, 0) by tilt·90° and slid until it passes through (alpha, 1 − alpha); tilt is
 * taken modulo 4, and above 2 alpha and the filter are inverted.
 */
export function crossoverFilter(alpha: number, tilt: number): (mesh: number) => number {
  const t = tilt - Math.floor(tilt / 4) * 4
  const inverted = t > 2
  const a = inverted ? 1 - alpha : alpha
  const cut = Math.fround(1 - a)
  let f: (mesh: number) => number
  if (t < 1e-10 || Math.abs(t - 4) < 1e-10) f = (m) => +(m > cut)
  else if (Math.abs(t - 2) < 1e-10) f = (m) => +(m < cut)
  else {
    const cot = 1 / Math.tan((Math.PI * t) / 2)
    const offset = t <= 1 || (t > 2 && t <= 3) ? a * cot + a - cot : a - a * cot
    f = (m) => Math.min(Math.max(m * cot + offset, 0), 1)
  }
  return inverted ? (m) => 1 - f(m) : f
}

/** torch.allclose(a, b) with its default tolerances (rtol 1e-5, atol 1e-8); NaN is never close */
export function allClose(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i]! - b[i]!) <= 1e-8 + 1e-5 * Math.abs(b[i]!))) return false
  return true
}

function writeLerp(ctx: KernelContext<unknown>, x: Float32Array, y: Float32Array, alpha: number): void {
  ctx.out.write(
    0,
    Float32Array.from(x, (v, i) => lerp(v, y[i]!, alpha)),
  )
}
