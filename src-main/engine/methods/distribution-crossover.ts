import { stableArgsort } from '../compute/argsort'
import { lerp } from '../compute/lerp'
import type { TensorStream } from '../compute/tensor-stream'
import { crossoverGain, frequencyMesh, mixSpectra } from './crossover'
import { passThrough } from './kernel-helpers'
import { defineMethod } from './types'

/** meh's threshold below which beta counts as 0 (a hard cut) */
const MEH_EPSILON = 1e-10

export const distributionCrossover = defineMethod({
  id: 'distribution_crossover',
  aliases: [],
  label: 'Distribution crossover',
  description:
    "A frequency crossover of A and B along the value order of C (sd-mecha 0.0.x, meh): the weights of A and B are lined up in the order that sorts C's weights, the two sequences are mixed by frequency (smooth trends along that order from A, fast variation from B, as in crossover), and the result is put back in place. With C = A, B's fine structure is grafted onto A's distribution. Variant mecha: alpha is the share of the spectrum taken from B (0 = A, 1 = B) and tilt softens the cut, as in crossover. Variant meh: alpha is the cutoff frequency (below it from A, above from B, so 0 = B) and beta the width of a linear ramp around it (0 = hard cut).",
  reference: 'https://github.com/s1dlx/meh',
  inputs: {
    min: 3,
    max: 3,
    base: 'none',
    roles: ['model a (gives the smooth trend)', 'model b (gives the fine variation)', 'model c (its value order lines the weights up)'],
  },
  params: {
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'Whose filter: they read alpha in opposite directions.',
      options: [
        { value: 'mecha', label: 'sd-mecha 0.0.x', description: 'alpha = share of the spectrum from B, counted from the highest frequencies; tilt shapes the cut (period 2, as in that version).' },
        { value: 'meh', label: 'meh', description: 'alpha = cutoff frequency (0..1 of the spectrum), beta = width of the ramp; a 0-dim tensor gives alpha·A + (1 − alpha)·B, as in meh.' },
      ],
      default: 'mecha',
    },
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'mecha: share of the spectrum from B (0 = A, 1 = B). meh: cutoff frequency, below it from A.',
      default: 0.5,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    tilt: {
      type: 'number',
      label: 'tilt (mecha)',
      description: 'mecha only: 0 = sharp cut, towards 1 = softer ramp (1 = weighted sum); taken modulo 2.',
      default: 0,
      ui: { min: 0, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    beta: {
      type: 'number',
      label: 'beta (meh)',
      description: 'meh only: width of the linear ramp around the cutoff, as a fraction of the spectrum; 0 = hard cut.',
      default: 0,
      min: 0,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['S', 'F'],
  randomness: 'deterministic',
  chunked: false,
  // A, B, C, the sort keys and order (3), the sorted copies (2), B − A in float64 and half its spectrum (4), the gain, mixed, output
  memoryFactor: 16,
  kernel(ctx) {
    const { variant, alpha, tilt, beta } = ctx.params
    const [a, b, c] = ctx.inputs as [TensorStream, TensorStream, TensorStream]
    const n = ctx.numel
    const mecha = variant === 'mecha'
    if (mecha && alpha === 0) return passThrough(ctx, a)
    if (mecha && alpha === 1) return passThrough(ctx, b)
    if (n === 0) return
    const x = a.read(0, n)
    const y = b.read(0, n)
    if (ctx.shape.length === 0 || (mecha && tilt === 1)) {
      // meh's 0-dim formula weighs A by alpha, the reverse of every other path (kept: it is meh's result)
      ctx.out.write(0, Float32Array.from(x, (v, i) => (mecha ? lerp(v, y[i]!, alpha) : alpha * v + (1 - alpha) * y[i]!)))
      return
    }
    const order = stableArgsort(c.read(0, n))
    const xs = Float32Array.from(order, (i) => x[i]!)
    const ys = Float32Array.from(order, (i) => y[i]!)
    const mixed = mecha
      ? mixSpectra(xs, ys, [n], crossoverGain(alpha, tilt - Math.floor(tilt / 2) * 2, frequencyMesh([n])))
      : mixSpectra(xs, ys, [n], mehGain(alpha, beta, n))
    const out = new Float32Array(n)
    for (let r = 0; r < n; r++) out[order[r]!] = mixed[r]!
    ctx.out.write(0, out)
  },
})

/** meh's filter at rfft entry j of m = ⌊n/2⌋ + 1 (the half spectrum), on its float32 coordinate j/m */
function mehGain(alpha: number, beta: number, n: number): Float64Array {
  const m = Math.floor(n / 2) + 1
  const gain = new Float64Array(m)
  for (let j = 0; j < m; j++) {
    const f = Math.fround(j / m)
    gain[j] = beta > MEH_EPSILON ? Math.min(Math.max((f - alpha) / beta + 0.5, 0), 1) : +(f >= alpha)
  }
  return gain
}
