import { filterRealTensor, halfSpectrumShape } from '../compute/fft'
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
  // A, B, B − A in float64 (2 float32 units), half its spectrum in complex float64 (2), the gain in float64 (1), the output
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
    ctx.out.write(0, mixSpectra(x, y, ctx.shape, crossoverGain(alpha, tilt, frequencyMesh(ctx.shape))))
  },
})

/**
 * out = irfftn((1 − f)·rfftn(A) + f·rfftn(B)) = A + irfftn(f·rfftn(B − A)), with `gain` = f on the
 * half spectrum that halfSpectrumShape(shape) describes.
 */
export function mixSpectra(x: Float32Array, y: Float32Array, shape: readonly number[], gain: Float64Array): Float32Array {
  const n = x.length
  const difference = new Float64Array(n)
  for (let i = 0; i < n; i++) difference[i] = y[i]! - x[i]!
  filterRealTensor(difference, shape, gain)
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = x[i]! + difference[i]!
  return out
}

/**
 * sd-mecha's frequency coordinate of every half-spectrum entry (halfSpectrumShape), in float32 like
 * its filter: per axis of size s, |k|/⌊s/2⌋ with |k| = min(k, s − k) (0 for s = 1; on the cut axis
 * k ≤ ⌊s/2⌋, which is upstream's linspace(0, 1) over its last axis), combined as sqrt(mean over axes
 * of coordinate²); a 1-D tensor uses the coordinate itself.
 */
export function frequencyMesh(shape: readonly number[]): Float32Array {
  const dims = shape.length === 0 ? [1] : shape
  const extents = halfSpectrumShape(dims).shape
  const coordinates = dims.map((s, d) => axisCoordinates(s, extents[d]!))
  if (dims.length === 1) return coordinates[0]!
  const squares = coordinates.map((c) => c.map((v) => v * v))
  // float32 running sums over axes 0, 1, … (upstream's order of additions), one axis at a time
  let sums = squares[0]!
  for (let d = 1; d < dims.length; d++) {
    const square = squares[d]!
    const extent = square.length
    const next = new Float32Array(sums.length * extent)
    for (let i = 0, o = 0; i < sums.length; i++) {
      const prefix = sums[i]!
      for (let k = 0; k < extent; k++, o++) next[o] = prefix + square[k]!
    }
    sums = next
  }
  for (let i = 0; i < sums.length; i++) sums[i] = Math.sqrt(Math.fround(sums[i]! / dims.length))
  return sums
}

/** |k|/⌊s/2⌋ for the first `extent` frequencies k of an axis of size s (all 0 when s = 1) */
function axisCoordinates(size: number, extent: number): Float32Array {
  const coordinates = new Float32Array(extent)
  const half = Math.floor(size / 2)
  if (size > 1) for (let k = 0; k < extent; k++) coordinates[k] = Math.min(k, size - k) / half
  return coordinates
}

/**
 * sd-mecha's crossover filter at every frequency coordinate of `mesh`: the share of B. The cut is
 * tilted around (0, 0) by tilt·90° and slid until it passes through (alpha, 1 − alpha); tilt is
 * taken modulo 4, and above 2 alpha and the filter are inverted.
 */
export function crossoverGain(alpha: number, tilt: number, mesh: Float32Array): Float64Array {
  const t = tilt - Math.floor(tilt / 4) * 4
  const inverted = t > 2
  const a = inverted ? 1 - alpha : alpha
  const cut = Math.fround(1 - a)
  const gain = new Float64Array(mesh.length)
  if (t < 1e-10 || Math.abs(t - 4) < 1e-10) for (let i = 0; i < mesh.length; i++) gain[i] = mesh[i]! > cut ? 1 : 0
  else if (Math.abs(t - 2) < 1e-10) for (let i = 0; i < mesh.length; i++) gain[i] = mesh[i]! < cut ? 1 : 0
  else {
    const cot = 1 / Math.tan((Math.PI * t) / 2)
    const offset = t <= 1 || (t > 2 && t <= 3) ? a * cot + a - cot : a - a * cot
    for (let i = 0; i < mesh.length; i++) gain[i] = Math.min(Math.max(mesh[i]! * cot + offset, 0), 1)
  }
  if (inverted) for (let i = 0; i < gain.length; i++) gain[i] = 1 - gain[i]!
  return gain
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
