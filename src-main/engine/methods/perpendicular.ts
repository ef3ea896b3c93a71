import type * as tfc from '@tensorflow/tfjs-core'
import type { Tf } from '../compute/backend'
import { mapSegmentsWithTf, passThrough, tfRowSum, type PieceKernel } from './kernel-helpers'
import { requireBase } from './task-vectors'
import { defineMethod, type KernelContext } from './types'

/*
 * sd-mecha's projection pair (METHODS.md §3.13): perp(x, y) = y − x·⟨x, y⟩/‖x‖² over the whole tensor,
 * all zeros when that is NaN anywhere (x = 0, non-finite inputs).
 */

export const perpendicularComponent = defineMethod({
  id: 'perpendicular_component',
  aliases: [],
  label: 'Perpendicular component',
  description:
    'The part of B that is orthogonal to A, each tensor seen as one vector: B − A·⟨A, B⟩/‖A‖². A building block for recipes (add_perpendicular uses it on differences). A zero A gives zeros, as in sd-mecha.',
  inputs: { min: 2, max: 2, base: 'none', roles: ['model a (the direction removed)', 'model b (the tensor whose orthogonal part is kept)'] },
  params: {},
  cost: ['R'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 5,
  kernel(ctx) {
    mapSegmentsWithTf(
      ctx,
      ctx.numel,
      (tf, [a, b]) => projectionSums(tf, a!, b!),
      ([xx, xy]) => {
        const k = projection(ctx, xx![0]!, xy![0]!)
        if (k === null) return (out) => out.fill(0)
        return (out, [a, b]) => {
          for (let i = 0; i < out.length; i++) out[i] = b![i]! - a![i]! * k
        }
      },
    )
  },
})

export const addPerpendicular = defineMethod({
  id: 'add_perpendicular',
  aliases: [],
  label: 'Add perpendicular',
  description:
    "Adds to A only the part of B's change (B − C) that is orthogonal to A's own change (A − C): A + alpha·perp(A − C, B − C), each tensor seen as one vector. What B learned that A did not, without repeating or cancelling what A already learned. Where A equals C the change is empty and A is kept (sd-mecha).",
  inputs: {
    min: 2,
    max: 2,
    base: 'required',
    roles: ['model a (the result is built on it)', 'model b (its orthogonal change is added)'],
    baseRole: 'c, the model both were trained from',
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Strength of the added orthogonal difference: 0 = A.',
      default: 1,
      ui: { min: -1, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['R'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 7,
  kernel(ctx) {
    const { alpha } = ctx.params
    requireBase(ctx)
    if (alpha === 0) return passThrough(ctx, ctx.inputs[0]!)
    mapSegmentsWithTf(
      ctx,
      ctx.numel,
      (tf, [a, b], c) => projectionSums(tf, tf.sub(a!, c!), tf.sub(b!, c!)),
      ([xx, xy]): PieceKernel => {
        const k = projection(ctx, xx![0]!, xy![0]!)
        if (k === null) return (out, [a]) => out.set(a!)
        return (out, [a, b], c) => {
          for (let i = 0; i < out.length; i++) {
            const x = a![i]!
            const z = c![i]!
            out[i] = x + alpha * (b![i]! - z - (x - z) * k)
          }
        }
      },
    )
  },
})

/** ‖x‖² and ⟨x, y⟩ of a piece */
function projectionSums(tf: Tf, x: tfc.Tensor2D, y: tfc.Tensor2D): tfc.Tensor[] {
  return [tfRowSum(tf, tf.mul(x, x)), tfRowSum(tf, tf.mul(x, y))]
}

/** ⟨x, y⟩/‖x‖², or null where sd-mecha's result would hold a NaN (then it returns zeros) */
function projection(ctx: KernelContext<unknown>, xx: number, xy: number): number | null {
  if (!Number.isFinite(xx) || !Number.isFinite(xy)) {
    ctx.warn(`the inputs hold NaN or infinite values; the perpendicular component is set to zero, as in sd-mecha`)
    return null
  }
  return xx > 0 ? xy / xx : null
}
