import { mapElementwise, passThrough } from './kernel-helpers'
import { cosPi, sinPi } from './real-powers'
import { requireBase } from './task-vectors'
import { defineMethod } from './types'

export const multiplyQuotient = defineMethod({
  id: 'multiply_quotient',
  aliases: [],
  label: 'Multiply quotient',
  description:
    "The multiplicative counterpart of add difference, applied only where A and B moved in opposite multiplicative directions from C: A x (B / C)^p with p = alpha x m, where m = max(-(log|A/C| x log|B/C|) / max(|log|A/C||, |log|B/C||)^2, 0) (sd-mecha multiply_quotient). Weights where m is 0, where A, B or C is 0, or where the complex result is undefined keep A.",
  inputs: {
    min: 2,
    max: 2,
    base: 'required',
    roles: ['model a (the result is built on it)', 'model b (its ratio to c is applied)'],
    baseRole: 'c, the model both moved away from',
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Strength of the applied ratio: 0 = A.',
      default: 1,
      ui: { min: 0, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 4,
  kernel(ctx) {
    const { alpha } = ctx.params
    requireBase(ctx)
    if (alpha === 0) return passThrough(ctx, ctx.inputs[0]!)
    mapElementwise(ctx, (out, [a, b], c) => {
      for (let i = 0; i < out.length; i++) {
        out[i] = multiplyQuotientAt(a![i]!, b![i]!, c![i]!, alpha)
      }
    })
  },
})

function multiplyQuotientAt(x: number, y: number, z: number, alpha: number): number {
  const logZ = Math.log(Math.abs(z))
  const la = Math.log(Math.abs(x)) - logZ
  const lb = Math.log(Math.abs(y)) - logZ
  const tau = Math.max(Math.abs(la), Math.abs(lb))
  // r lies in [-1, 1] or is NaN (0/0, inf/inf: also whenever A, B or C is 0), which nan0 turns into 0
  const r = (la * lb) / (tau * tau)
  const p = Number.isNaN(r) ? 0 : alpha * Math.max(-r, 0)
  if (p === 0) return x
  const q = y / z
  // (x + 0i) * q^p written out as the complex product, so overflow gives NaN (and A) where torch does
  const magnitude = Math.pow(Math.abs(q), p)
  const theta = q < 0 ? p : 0
  const zr = magnitude * cosPi(theta)
  const zi = magnitude * sinPi(theta)
  const re = x * zr - 0 * zi
  const im = x * zi + 0 * zr
  return Number.isNaN(re) || Number.isNaN(im) ? x : re
}
